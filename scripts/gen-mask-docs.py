#!/usr/bin/env python3
"""Regenerates the drawings of docs/MaskAlgebra.md with sattn-mask.

    scripts/gen-mask-docs.py BUILD_DIR > docs/MaskAlgebra.md

The lit test test/docs/mask-algebra.test checks that the page is current.
"""
import subprocess
import sys

build = sys.argv[1] if len(sys.argv) > 1 else "build"

INTRO = """# The mask algebra

A sattn mask is an MLIR attribute: a predicate `mask(p, k)` over the query
position `p` and the key position `k` (`0 <= k < Lk`). Query row `i` sits at
position `p = i + (Lk - Lq)` (bottom-right alignment, as in FlashAttention
>= 2.1), so with `Lq < Lk` the queries are the *last* `Lq` positions and with
`Lq > Lk` the first `Lq - Lk` rows have `p < 0`. [Semantics.md](Semantics.md) is
the normative definition; this page shows each pattern drawn by `sattn-mask`
(`x` = kept).

Patterns compose: `#sattn.union` keeps what any member keeps,
`#sattn.intersect` what every member keeps, `#sattn.complement` what its
operand drops. Presets stand for compositions and are expanded by
`-sattn-expand-presets`; `-sattn-simplify-masks` rewrites compositions into
smaller equal ones (its rules are listed in [generated/SAttnPasses.md](generated/SAttnPasses.md)).

Every pattern implements `MaskAttrInterface`:

| method | answers |
|---|---|
| `evaluate(p, k, lk)` | the exact value of `mask(p, k)` |
| `classify(p0, p1, k0, k1, lk)` | `EMPTY`, `FULL` or `PARTIAL` for the rectangle `[p0, p1) x [k0, k1)`; exact for every primitive and for bigbird, conservative (never wrong) for compositions |
| `verifyShape(emitError, lk)` | rules that depend on the op's key length (a block layout must cover Lk) |
| `buildPredicate`, `buildClassify` | the same two answers as IR, for the kernels |
| `buildKeyRange(p0, p1, lk)` | IR for a key range holding every kept key of the query positions `[p0, p1)` |
| `buildQueryRange(k0, k1, p0, p1, lk)` | its transpose, for the backward: the query positions that keep a key of `[k0, k1)` |
| `getBandForm()` | for a band of diagonals (`lo <= k - p <= hi`, `(k - p) mod step == 0`): `{lo, hi, step}` |
| `getPrimitiveForm()` | for a preset: the primitives it stands for |
| `getExpansion(lk)` | what `-sattn-expand-presets` replaces a preset by at key length `lk` (default: the primitive form; bigbird and random blocks: a block layout for a static `lk`) |
| `getOperandMasks()` | for a combinator: the masks it combines |
| `getBlockGrid()` | block sides the pattern is constant on (0: along the whole side; 1: no grid), so that tiles divide them and the GPU kernel evaluates the mask once per cell (default: the gcd over the operands; dense (0, 0); sink<n> (0, n); bands and global tokens (1, 1)) |
| `declareTables(symbolTable)` | the constant tables `buildPredicate` reads (a block layout; default: the operands') |

A band (causal, window, dilated, strided) implements only `getBandForm()`:
every other answer, the simplifier's band algebra, the iteration spaces of
strided masks ([CPUCodegen.md](CPUCodegen.md)) and the tile planner's
choices follow from it. A preset (longformer, sparse_transformer,
streaming) implements `getPrimitiveForm()`, and `evaluate`/`classify` on
integers for speed; the code generation follows from its primitives.

A new pattern is one def in `include/sattn/Dialect/SAttn/IR/SAttnAttrs.td`
(`SAttn_BandMaskAttr`, `SAttn_PresetMaskAttr` or `SAttn_MaskAttr` with the
methods it answers itself) and its methods in
`lib/Dialect/SAttn/IR/SAttnAttrs.cpp` (the IR builders of a pattern that is
neither a band nor a preset go in `MaskCodegen.cpp`), plus its Python
constructor (`python/sattn/mask.py`), its numpy oracle for the tests
(`test/Integration/mask_oracle.py`), tests and this page.

Draw any pattern yourself:

```
build/bin/sattn-mask --mask='#sattn.window<left = 2, right = 1>' --lq=12 --lk=12
build/bin/sattn-mask spec.mlir --png=mask.png      # each op of a spec, its own lengths
```
"""

SECTIONS = [
    ("Primitives", [
        ("dense", "#sattn.dense", "always", 8, 8),
        ("causal", "#sattn.causal", "`k <= p`", 8, 8),
        ("window", "#sattn.window<left = 2, right = 1>", "`p - L <= k <= p + R`", 10, 10),
        ("dilated", "#sattn.dilated<left = 2, right = 1, dilation = 2>",
         "`p - L*d <= k <= p + R*d` and `(p - k) mod d == 0`", 12, 12),
        ("strided", "#sattn.strided<stride = 3>", "`(p - k) mod s == 0`", 10, 10),
        ("global", "#sattn.global<tokens = [0, 5]>", "`p` in T or `k` in T", 10, 10),
        ("sink", "#sattn.sink<tokens = 2>", "`k < n`", 8, 8),
        ("block_sparse",
         "#sattn.block_sparse<block = [4, 4], layout = dense<[[true, false, false], [true, true, false], [false, true, true]]> : tensor<3x3xi1>>",
         "`0 <= p / bq < R` and `L[p / bq][k / bk]`", 12, 12),
        ("random", "#sattn.random<block = 3, per_row = 1, seed = 7>",
         "`k / b` in `R(p / b)`: `per_row` draws of a splitmix64 hash of (seed, query block, draw), modulo the number of key blocks (with a static Lk, `-sattn-expand-presets` turns it into the block layout of those draws)", 12, 12),
    ]),
    ("Combinators", [
        ("union", "#sattn.union<[#sattn.causal, #sattn.global<tokens = [0]>]>", "any member", 8, 8),
        ("intersect", "#sattn.intersect<[#sattn.causal, #sattn.window<left = 2, right = 2>]>",
         "every member (this one simplifies to `window<left = 2, right = 0>`)", 8, 8),
        ("complement", "#sattn.complement<#sattn.window<left = 1, right = 1>>", "not the operand", 8, 8),
    ]),
    ("Presets", [
        ("longformer", "#sattn.longformer<window = 4, global = [0]>",
         "`union<[window<w/2, w/2>, global<T>]>`", 12, 12),
        ("bigbird", "#sattn.bigbird<block = 2, window = 3, global = 1, random = 1, seed = 1>",
         "block band `abs(qb - kb) <= (wb - 1) / 2`, global query blocks `qb < gb`, global key blocks `kb < gb`, random blocks `R(qb)`", 12, 12),
        ("sparse_transformer", "#sattn.sparse_transformer<stride = 3>",
         "`intersect<[causal, union<[window<s - 1, 0>, strided<s>]>]>`", 12, 12),
        ("streaming", "#sattn.streaming<sink = 2, window = 3>",
         "`intersect<[causal, union<[sink<n>, window<w - 1, 0>]>]>`", 10, 10),
    ]),
    ("Unequal lengths", [
        ("causal, Lq < Lk (decoding)", "#sattn.causal", "the queries are the last positions", 3, 8),
        ("causal, Lq > Lk", "#sattn.causal", "rows with `p < 0` keep nothing (empty rows: O = 0, LSE = -inf)", 8, 5),
    ]),
]


def draw(mask, lq, lk):
    out = subprocess.run([f"{build}/bin/sattn-mask", f"--mask={mask}", f"--lq={lq}", f"--lk={lk}"],
                         check=True, capture_output=True, text=True).stdout
    return "\n".join(l for l in out.splitlines() if not l.startswith("mask "))


print(INTRO)
for title, items in SECTIONS:
    print(f"## {title}\n")
    for name, mask, meaning, lq, lk in items:
        print(f"### {name}\n\n`{mask}` keeps {meaning}.\n\n```\n{draw(mask, lq, lk)}\n```\n")
