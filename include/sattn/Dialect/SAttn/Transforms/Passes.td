//===- Passes.td - sattn dialect passes --------------------*- tablegen -*-===//

#ifndef SATTN_DIALECT_SATTN_TRANSFORMS_PASSES_TD
#define SATTN_DIALECT_SATTN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def SAttnExpandPresets : Pass<"sattn-expand-presets"> {
  let summary = "Expand mask presets into primitive patterns";
  let description = [{
    Rewrites every preset in the mask of each `sattn.attention` into the
    primitives SPEC.md defines it as:

    ```
    longformer<w, T>             = union<[window<w/2, w/2>, global<T>]>
    sparse_transformer<s>        = intersect<[causal, union<[window<s-1, 0>, strided<s>]>]>
    streaming<n, w>              = intersect<[causal, union<[sink<n>, window<w-1, 0>]>]>
    bigbird<b, wb, gb, rb, seed> = union<[block_sparse<[b, b], band(wb) | rows(qb < gb)>,
                                          random<b, rb, seed>, sink<gb * b>]>   (static Lk only)
    ```

    bigbird's block band needs the number of key blocks, so it is expanded
    only when the key length is static (and the layout has at most 2^22
    cells); otherwise it stays and answers the mask interface itself. Every rewrite preserves `mask(p, k)` exactly.
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
    token sets of globals in a union.
  }];
  let dependentDialects = ["::mlir::sattn::SAttnDialect"];
}

#endif // SATTN_DIALECT_SATTN_TRANSFORMS_PASSES_TD
