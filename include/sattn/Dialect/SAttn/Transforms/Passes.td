//===- Passes.td - sattn dialect passes --------------------*- tablegen -*-===//

#ifndef SATTN_DIALECT_SATTN_TRANSFORMS_PASSES_TD
#define SATTN_DIALECT_SATTN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def SAttnExpandPresets : Pass<"sattn-expand-presets"> {
  let summary = "Expand mask presets into primitive patterns";
  let description = [{
    Rewrites every preset in the mask of each `sattn.attention` into the
    primitives docs/Semantics.md defines it as:

    ```
    longformer<w, T>             = union<[window<w/2, w/2>, global<T>]>
    sparse_transformer<s>        = intersect<[causal, union<[window<s-1, 0>, strided<s>]>]>
    streaming<n, w>              = intersect<[causal, union<[sink<n>, window<w-1, 0>]>]>
    bigbird<b, wb, gb, rb, seed> = union<[block_sparse<[b, b], band(wb) | rows(qb < gb)>,
                                          random<b, rb, seed>, sink<gb * b>]>   (static Lk only)
    random<b, r, seed>           = block_sparse<[b, b], kb in R(qb)>              (static Lk only)
    ```

    bigbird's block band needs the number of key blocks, so it is expanded
    only when the key length is static (and the layout has at most 2^22
    cells); otherwise it stays and answers the mask interface itself. Random
    blocks (alone or from bigbird) become the layout of their n = ceil(Lk / b)
    query blocks, those of the positions p < Lk, when n^2 <= 2^18: a kernel
    then reads a cell where it drew up to r blocks. Every rewrite preserves
    `mask(p, k)` exactly.
  }];
  let dependentDialects = ["::mlir::sattn::SAttnDialect"];
}

def SAttnSimplifyMasks : Pass<"sattn-simplify-masks"> {
  let summary = "Simplify the mask algebra of each sattn.attention";
  let description = [{
    Applies exact rewrites of the mask algebra, bottom-up:

    ```
    union<[a, union<[b, c]>]>        = union<[a, b, c]>        (same for intersect)
    union<[a, a]>                    = a;   union<[a]> = a      (same for intersect)
    union<[.., dense, ..]>           = dense
    intersect<[a, dense]>            = a
    union<[a, complement<a>]>        = dense
    intersect<[a, complement<a>]>    = complement<dense>       (the empty mask)
    complement<complement<a>>        = a
    union<[a, intersect<[a, b]>]>    = a;  intersect<[a, union<[a, b]>]> = a
    strided<1> = dense;  dilated<L, R, 1> = window<L, R>
    ```

    Band patterns (causal, window, dilated, strided) are sets of diagonals
    `lo <= k - p <= hi, (k - p) mod s == 0`; an intersection of bands is one
    band (max lo, min hi, lcm s), so for instance

    ```
    intersect<[causal, window<L, R>]>   = window<L, 0>
    intersect<[window<L, R>, strided<s>]> = dilated<L / s, R / s, s>
    ```

    and in a union, bands of equal step merge into their hull
    (`union<[window<2, 0>, window<0, 3>]> = window<2, 3>`) and a band
    contained in another disappears (`union<[causal, window<4, 0>]> = causal`).
    Sinks merge (`max` in a union, `min` in an intersection), and so do the
    token sets of globals in a union. Block layouts with the same block sides
    merge in a union into one layout (a cell either keeps), unless that
    layout would have more cells than the two together.
  }];
  let dependentDialects = ["::mlir::sattn::SAttnDialect"];
}

def SAttnPlanTiles : Pass<"sattn-plan-tiles"> {
  let summary = "Choose the tile sizes of each sattn.attention and report the plan";
  let description = [{
    Sets `sattn.tile = #sattn.tile<rows = Br, keys = Bc>` on each `sattn.attention` and
    `sattn.varlen_attention` (`sattn.paged_attention` keeps the conversion's
    decode tile; statistics are reported for `sattn.attention`): Br query
    rows (a multiple of the vector lanes) by Bc keys. By default Br = 32 and
    Bc = 64, Bc = 32 for band masks (causal, window, dilated, sink and their
    combinations: less waste on the edges of the band); when the mask is made
    of blocks (block_sparse, random,
    bigbird), the tiles are shrunk to divide the blocks, so that every tile
    lies inside one block and is EMPTY or FULL, never PARTIAL. A
    `sattn.tile` already on the op (written in the spec) is kept unless the
    pass options give sizes.

    With `print-stats`, for static shapes, each op gets a remark with the
    plan: the number of (query tile, key tile) pairs per class (EMPTY, FULL,
    PARTIAL, from the mask's exact `classify`), the density kept / (Lq * Lk)
    and the useful FLOPs `2 * (D + Dv) * kept * B * Hq`.
  }];
  let options = [
    Option<"queryTile", "q-tile", "int64_t", /*default=*/"0",
           "Query rows per tile (0: choose)">,
    Option<"keyTile", "k-tile", "int64_t", /*default=*/"0",
           "Keys per tile (0: choose)">,
    Option<"printStats", "print-stats", "bool", /*default=*/"false",
           "Report the tile classes, density and useful FLOPs as remarks">,
  ];
}

def SAttnApproximateMath : Pass<"sattn-approximate-math"> {
  let summary = "Replace math.exp/log by polynomial approximations";
  let description = [{
    Runs MLIR's polynomial approximation patterns on f32 math ops (and vectors
    of them), so that `exp` in the softmax becomes a few vector FMAs instead of
    one libm call per lane.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

#endif // SATTN_DIALECT_SATTN_TRANSFORMS_PASSES_TD
