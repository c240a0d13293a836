#!/usr/bin/env python3
"""Differential test of the CPU or GPU kernels against a float64 reference.

Draws random (pattern, shape, dtype) cases -- primitives, compositions,
presets, tails, GQA, Lq != Lk, empty rows, dynamic shapes, LSE -- writes each
as a spec plus .npy inputs, runs `sattn-run`, and compares the outputs with
docs/Semantics.md's formulas evaluated here in float64 with numpy (this file shares no
code with the compiler: the masks come from mask_oracle.py beside it).

    differential.py --sattn-run build/bin/sattn-run [--cases N] [--seed S]
                    [--case I] [--target cpu|nvvm] [--masks all|strided]

Without --seed each run draws a new seed and prints it; a failure prints the
command that reruns just that case (--seed S --case I). In a third of the
cases the K and V rows of keys that no row keeps hold NaN, Inf or -3e4: they
must not reach any output.

With --target nvvm, the cases whose head dims do not fit the GPU kernel's
48 KiB of shared memory (f32 with D or Dv above about 128) are left out.
"""
import argparse
import concurrent.futures
import os
import random
import subprocess
import sys
import tempfile

import numpy as np

try:
    import ml_dtypes
except ImportError:  # bf16 cases are skipped without ml_dtypes
    ml_dtypes = None

import mask_oracle as om  # noqa: E402  (beside this file: the numpy masks)


def random_mask(rng, depth, max_len):
    kinds = ["dense", "causal", "window", "dilated", "strided", "global", "sink",
             "block_sparse", "random", "longformer", "bigbird", "sparse_transformer",
             "streaming"]
    if depth > 0:
        kinds += ["union", "intersect", "complement"] * 2
    kind = rng.choice(kinds)
    if kind in ("union", "intersect", "complement"):
        return random_combination(rng, kind, lambda: random_mask(rng, depth - 1, max_len), 1)
    return random_mask_of_kind(rng, kind, max_len)


def random_combination(rng, kind, member, least):
    """The complement of one mask from member(), or the union or intersection
    of `least` to 3 of them."""
    if kind == "complement":
        return om.complement(member())
    members = [member() for _ in range(rng.randint(least, 3))]
    return om.union(*members) if kind == "union" else om.intersect(*members)


def random_mask_of_kind(rng, kind, max_len):
    """A random pattern of one primitive or preset `kind`."""
    if kind in ("dense", "causal"):
        return getattr(om, kind)()
    if kind == "window":
        return om.window(rng.randint(0, 40), rng.randint(0, 40))
    if kind == "dilated":
        return om.dilated(rng.randint(0, 10), rng.randint(0, 10), rng.randint(1, 5))
    if kind == "strided":
        return om.strided(rng.randint(1, 9))
    if kind in ("global", "longformer"):
        tokens = rng.sample(range(0, max_len + 8), rng.randint(1, 3))
        if kind == "global":
            return om.global_tokens(tokens)
        return om.longformer(2 * rng.randint(1, 20), tokens)
    if kind == "sink":
        return om.sink(rng.randint(1, 10))
    if kind == "block_sparse":
        bq, bk = rng.choice([4, 8, 16, 32, 64]), rng.choice([4, 8, 16, 32, 64])
        rows, cols = -(-max_len // bq) + rng.randint(0, 1), -(-max_len // bk) + rng.randint(0, 1)
        return om.block_sparse([bq, bk], [[rng.random() < 0.3 for _ in range(cols)]
                                          for _ in range(rows)])
    if kind == "random":
        return om.random_blocks(rng.choice([4, 8, 16, 32, 64]), rng.randint(1, 3),
                                rng.getrandbits(64))
    if kind == "bigbird":
        return om.bigbird(rng.choice([4, 8, 16, 32, 64]), rng.choice([1, 3, 5]),
                          rng.randint(0, 2), rng.randint(0, 2), rng.getrandbits(64))
    if kind == "sparse_transformer":
        return om.sparse_transformer(rng.randint(1, 12))
    assert kind == "streaming", kind
    return om.streaming(rng.randint(1, 6), rng.randint(1, 40))


def reference(q, k, v, keep, scale, softcap=None, alibi=None):
    """docs/Semantics.md's attention in float64: O and LSE."""
    b, hq, lq, d = q.shape
    hkv, lk = k.shape[1], k.shape[2]
    kk = np.repeat(k, hq // hkv, axis=1) if hkv else k
    vv = np.repeat(v, hq // hkv, axis=1) if hkv else v
    s = scale * np.einsum("bhid,bhkd->bhik", q, kk)
    if softcap is not None:  # s = c tanh(s / c)
        s = softcap * np.tanh(s / softcap)
    if alibi is not None:  # s = s - m_h |p - k|, p = i + Lk - Lq
        dist = np.abs((np.arange(lq) + lk - lq)[:, None] - np.arange(lk)[None, :])
        s = s - np.asarray(alibi, np.float64)[None, :, None, None] * dist[None, None]
    s = np.where(keep[None, None], s, -np.inf)
    m = s.max(axis=-1, keepdims=True) if s.shape[-1] else np.full(s.shape[:-1] + (1,), -np.inf)
    empty = ~np.isfinite(m)
    p = np.exp(s - np.where(empty, 0, m))
    l = p.sum(axis=-1, keepdims=True)
    o = np.where(empty, 0, np.einsum("bhik,bhkd->bhid", p, vv) / np.where(empty, 1, l))
    lse = np.where(empty, -np.inf, m + np.log(np.where(empty, 1, l)))[..., 0]
    return o, lse


def random_strided_mask(rng, depth, max_len):
    """The masks -convert-sattn-to-loops cuts into residue-class iteration
    spaces: strided, dilated and sparse_transformer with strides 1 to 200,
    alone, under causal, and in unions whose members overlap."""
    s = rng.choice([rng.randint(1, 12), rng.randint(1, 200)])
    left, right = rng.randint(0, 3 * s), rng.randint(0, 3 * s)
    kind = rng.choice(["strided", "dilated", "sparse_transformer", "causal_strided",
                       "window_strided", "window_dilated", "causal_window_dilated",
                       "strided_dilated", "causal_strided_union"])
    if kind == "strided":
        return om.strided(s)
    if kind == "dilated":
        return om.dilated(rng.randint(0, 20), rng.randint(0, 20), s)
    if kind == "sparse_transformer":
        return om.sparse_transformer(s)
    if kind == "causal_strided":
        return om.intersect(om.causal(), om.strided(s))
    if kind == "window_strided":
        return om.union(om.window(left, right), om.strided(s))
    if kind == "window_dilated":
        return om.union(om.window(left, right), om.dilated(rng.randint(0, 20), rng.randint(0, 20), s))
    if kind == "causal_window_dilated":
        return om.intersect(om.causal(), om.union(om.window(left, 0), om.dilated(rng.randint(0, 20), 0, s)))
    if kind == "strided_dilated":
        return om.union(om.strided(s), om.dilated(rng.randint(0, 20), rng.randint(0, 20), s))
    return om.union(om.causal(), om.intersect(om.window(left, right), om.strided(s)))


def random_heavy_mask(rng, depth, max_len):
    """Masks whose global-token rows see every key while the other rows see a
    window: on long keys and small key tiles (make_case) their heavy query
    tiles are split into parts merged by LSE (docs/CPUCodegen.md)."""
    tokens = rng.sample(range(0, max(max_len, 4)), rng.randint(1, 4))
    kind = rng.choice(["longformer", "bigbird", "window_global", "causal_global"])
    if kind == "longformer":
        return om.longformer(2 * rng.randint(1, 20), tokens)
    if kind == "bigbird":
        return om.bigbird(rng.choice([4, 8, 16]), rng.choice([1, 3]), rng.randint(1, 2),
                          rng.randint(0, 2), rng.getrandbits(64))
    if kind == "window_global":
        return om.union(om.window(rng.randint(0, 40), rng.randint(0, 40)), om.global_tokens(tokens))
    return om.union(om.intersect(om.causal(), om.window(rng.randint(0, 40), 0)),
                    om.global_tokens(tokens))


def random_block_mask(rng, depth, max_len):
    """Masks constant on block cells (getBlockGrid), alone and combined: the
    GPU kernel evaluates them once per cell in PARTIAL tiles."""
    kind = rng.choice(["block_sparse", "random", "bigbird", "sink", "union", "intersect",
                       "complement"] if depth > 0 else ["block_sparse", "random", "bigbird", "sink"])
    if kind == "sink":
        return om.sink(rng.choice([4, 8, 16, 32, 64, 128]))
    if kind in ("union", "intersect", "complement"):
        return random_combination(rng, kind, lambda: random_block_mask(rng, depth - 1, max_len), 2)
    return random_mask_of_kind(rng, kind, max_len)


MASKS = {"all": random_mask, "strided": random_strided_mask, "heavy": random_heavy_mask,
         "blocks": random_block_mask}

DTYPES = {"f32": np.float32, "f16": np.float16}
if ml_dtypes is not None:
    DTYPES["bf16"] = ml_dtypes.bfloat16


def make_case(rng, index, masks=random_mask):
    dtype = rng.choice(sorted(DTYPES))
    batch, hkv = rng.randint(1, 2), rng.randint(1, 2)
    hq = hkv * rng.choice([1, 1, 2, 3])
    lk = rng.choice([rng.randint(0, 8), rng.randint(1, 150), rng.randint(60, 300)])
    lq = rng.choice([lk, lk, rng.randint(1, 150), 1])
    d = rng.choice([16, 24, 32, 64, 80, 128, 256])
    dv = rng.choice([d, d, 16, 40, 64, 96, 256])
    mask = masks(rng, rng.randint(0, 3), max(lk, lq, 1))
    scale = rng.choice([None, None, 0.5, 0.05])
    lse = rng.random() < 0.4
    dynamic = rng.random() < 0.3
    tile = rng.choice([None, None, None, (16, 32), (32, 16), (48, 40), (16, 8)])
    garbage = rng.random() < 0.3
    if masks is random_heavy_mask:
        # More than 32 key tiles (planKeyTileParts) on static shapes.
        lk = rng.randint(260, 700)
        lq = rng.choice([lk, rng.randint(1, lk)])
        tile, dynamic = rng.choice([(16, 8), (32, 8)]), False
        mask = masks(rng, 0, lk)
    seed = rng.getrandbits(32)
    # Score modifiers: softcap from tight (most scores saturate) to loose;
    # ALiBi slopes from 0 to BLOOM's 2^-1 (f32 values, as the IR holds them).
    softcap = rng.choice([0.5, 5.0, 30.0]) if rng.random() < 0.2 else None
    alibi = ([float(np.float32(rng.uniform(0, 0.5))) for _ in range(hq)]
             if rng.random() < 0.2 else None)
    return dict(index=index, dtype=dtype, batch=batch, hq=hq, hkv=hkv, lq=lq, lk=lk, d=d,
                dv=dv, mask=mask, scale=scale, lse=lse, dynamic=dynamic, tile=tile,
                garbage=garbage, seed=seed, softcap=softcap, alibi=alibi)


def new_seed():
    return int.from_bytes(os.urandom(4), "little")


def make_cases(seed, count, only=None, garbage=False, masks=random_mask):
    """Cases 0..count-1 of `seed`'s sequence, or just case `only`; with
    `garbage`, every case has garbage in its unkept keys."""
    rng = random.Random(seed)
    cases = [make_case(rng, i, masks) for i in range(count if only is None else only + 1)]
    for c in cases:
        c["garbage"] |= garbage
    return cases if only is None else cases[only:]


def describe(c):
    return (f"{c['dtype']}, B={c['batch']} Hq={c['hq']} Hkv={c['hkv']} Lq={c['lq']} Lk={c['lk']} "
            f"D={c['d']} Dv={c['dv']}{', softcap' if c['softcap'] else ''}"
            f"{', ALiBi' if c['alibi'] else ''}{', garbage in unkept keys' if c['garbage'] else ''}")


def draw_options(rng, hq):
    """The scale, LSE, dynamic shapes, softcap and ALiBi of a serving case
    (paged.py, varlen.py), drawn in this order."""
    return dict(scale=rng.choice([None, 0.3]), lse=rng.random() < 0.4,
                dynamic=rng.random() < 0.4,
                softcap=rng.choice([0.5, 30.0]) if rng.random() < 0.25 else None,
                alibi=([float(np.float32(rng.uniform(0, 0.5))) for _ in range(hq)]
                       if rng.random() < 0.25 else None))


def case_spec(op, operands, results, c, extra=""):
    """The spec of one sattn op of case `c`: operands [(name, type)], result
    types (O, then LSE when the case has one), the case's mask, scale and
    modifiers, then `extra` attributes."""
    attrs = f" scale({c['scale']})" if c["scale"] is not None else ""
    if c["softcap"] is not None:
        attrs += f" softcap({c['softcap']})"
    if c["alibi"] is not None:
        attrs += f" alibi_slopes([{', '.join(repr(m) for m in c['alibi'])}])"
    names = "%o, %l" if len(results) == 2 else "%o"
    types = ", ".join(results)
    result_text = f"({types})" if len(results) == 2 else types
    return (f"func.func @case({', '.join(f'%{n}: {t}' for n, t in operands)}) -> {result_text} {{\n"
            f"  {names} = sattn.{op} {', '.join('%' + n for n, _ in operands)} "
            f"mask({c['mask'].text}){attrs}{extra}\n"
            f"      : ({', '.join(t for _, t in operands)}) -> {result_text}\n"
            f"  return {names} : {types}\n}}\n")


def spec_text(c):
    dim = lambda x: "?" if c["dynamic"] else str(x)
    t = lambda h, l, last: f"tensor<{dim(c['batch'])}x{dim(h)}x{dim(l)}x{last}x{c['dtype']}>"
    operands = [("q", t(c["hq"], c["lq"], c["d"])), ("k", t(c["hkv"], c["lk"], c["d"])),
                ("v", t(c["hkv"], c["lk"], c["dv"]))]
    results = [t(c["hq"], c["lq"], c["dv"])]
    if c["lse"]:
        results.append(f"tensor<{dim(c['batch'])}x{dim(c['hq'])}x{dim(c['lq'])}xf32>")
    tile = f" {{sattn.tile = #sattn.tile<rows = {c['tile'][0]}, keys = {c['tile'][1]}>}}" if c["tile"] else ""
    return case_spec("attention", operands, results, c, tile)


def fits_gpu(c):
    """The GPU kernel's smallest tiles (Br = 4, Bc = 32) fit 48 KiB."""
    es = 4 if c["dtype"] == "f32" else 2
    return 4 * c["d"] * 4 + 32 * (c["d"] + 1) * es + 32 * (-(-c["dv"] // 32) * 32) * es + 512 <= 48 * 1024


def unkept_keys(c):
    """The keys that no query row of case `c` keeps."""
    return ~c["mask"].evaluate(c["lq"], c["lk"]).any(axis=0)


def make_inputs(c):
    """Q, K, V of case `c`: uniform in [-1, 1], in its dtype; with garbage,
    the K and V rows of unkept keys hold NaN, Inf and -3e4 in turn."""
    rng = np.random.default_rng(c["seed"])
    np_dtype = DTYPES[c["dtype"]]
    shapes = {"q": (c["batch"], c["hq"], c["lq"], c["d"]), "k": (c["batch"], c["hkv"], c["lk"], c["d"]),
              "v": (c["batch"], c["hkv"], c["lk"], c["dv"])}
    arrays = {n: rng.uniform(-1, 1, s).astype(np_dtype) for n, s in shapes.items()}
    if c["garbage"]:
        for i, key in enumerate(np.flatnonzero(unkept_keys(c))):
            for n in "kv":
                arrays[n][:, :, key, :] = [np.nan, np.inf, -3e4][i % 3]
    return arrays


def check_outputs(c, arrays, got_o, got_lse):
    """None if O (and LSE, when the case has it) match docs/Semantics.md in float64,
    else what differs."""
    keep = c["mask"].evaluate(c["lq"], c["lk"])
    scale = c["scale"] if c["scale"] is not None else float(np.float32(1.0 / np.sqrt(c["d"])))
    q64, k64, v64 = (arrays[n].astype(np.float64) for n in "qkv")
    unkept = ~keep.any(axis=0)  # their K, V may hold garbage; the reference never reads them
    k64[:, :, unkept, :] = 0
    v64[:, :, unkept, :] = 0
    want_o, want_lse = reference(q64, k64, v64, keep, scale, c["softcap"], c["alibi"])
    error = compare(c["dtype"], got_o, want_o, got_lse if c["lse"] else None, want_lse)
    if error:
        return error
    empty_rows = ~keep.any(axis=1)
    if empty_rows.any() and np.abs(got_o[:, :, empty_rows, :]).max() != 0:
        return "an empty row is not 0"
    return None


def compare(dtype, got_o, want_o, got_lse=None, want_lse=None):
    """None if O (and LSE, when given) are within docs/Semantics.md's tolerance
    of the float64 values, with the same empty rows, else what differs."""
    got_o = got_o.astype(np.float64)
    tol = 1e-5 if dtype == "f32" else 1e-2
    if got_o.shape != want_o.shape:
        return f"O has shape {got_o.shape}, want {want_o.shape}"
    if np.isnan(got_o).any():
        return "NaN in O"
    norm = np.linalg.norm(want_o)
    err = np.linalg.norm(got_o - want_o) / (norm if norm > 0 else 1)
    if err > tol:
        return f"O relative error {err:.3e} > {tol}"
    if got_lse is not None:
        got_lse = got_lse.astype(np.float64)
        if not np.array_equal(np.isinf(got_lse), np.isinf(want_lse)):
            return "the empty rows (LSE = -inf) differ"
        fin = np.isfinite(want_lse)
        lerr = np.linalg.norm(got_lse[fin] - want_lse[fin]) / max(np.linalg.norm(want_lse[fin]), 1)
        if lerr > tol:
            return f"LSE relative error {lerr:.3e} > {tol}"
    return None


def run_outputs(sattn_run, base, spec, arrays, dtype, outputs, extra=()):
    """Writes `spec` and the named input arrays beside `base`, runs sattn-run on
    them and returns (error, results): the error of sattn-run, or None and its
    results named `outputs` (16-bit floats of `dtype` bf16 viewed as bf16).
    The files are removed."""
    with open(base + ".mlir", "w") as f:
        f.write(spec)
    args = [sattn_run, base + ".mlir", *extra]
    for n, x in arrays.items():
        np.save(f"{base}.{n}.npy", x)
        args.append(f"--input=@{base}.{n}.npy")
    args += [f"--output=@{base}.{n}.npy" for n in outputs]
    try:
        proc = subprocess.run(args, capture_output=True, text=True)
        if proc.returncode != 0:
            return f"sattn-run failed ({proc.returncode}): {proc.stderr.strip()}", None
        results = [np.load(f"{base}.{n}.npy") for n in outputs]
        if dtype == "bf16" and ml_dtypes is not None:
            results = [x.view(ml_dtypes.bfloat16) if x.dtype.itemsize == 2 else x
                       for x in results]
        return None, results
    finally:
        for n in [*arrays, *outputs]:
            if os.path.exists(f"{base}.{n}.npy"):
                os.remove(f"{base}.{n}.npy")
        os.remove(base + ".mlir")


def run_spec(sattn_run, base, spec, arrays, dtype, lse, extra=()):
    """run_outputs() of an attention spec: (error, O, LSE), LSE when `lse`."""
    error, results = run_outputs(sattn_run, base, spec, arrays, dtype,
                                 ["o", "lse"] if lse else ["o"], extra)
    if error:
        return error, None, None
    return None, results[0], results[1] if lse else None


def case_main(doc, name, op, summary, default_cases=100):
    """The command line of the random-case tests (paged.py, varlen.py,
    grad.py): cases of `op` (the module: make_case, spec_text, describe, and
    run_case(sattn_run, c, workdir) -> error or None) from a seed, run in
    parallel, a summary line (`summary(cases)` in parentheses), and each
    failure with the command that reruns it."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--sattn-run", required=True)
    ap.add_argument("--cases", type=int, default=default_cases)
    ap.add_argument("--seed", type=int, help="default: a new one each run")
    ap.add_argument("--case", type=int, help="run only case I of the seed's sequence")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--masks", choices=sorted(MASKS), default="all",
                    help="strided: only the masks cut into residue iteration spaces; "
                    "heavy: global rows split into parts")
    args = ap.parse_args()

    seed = new_seed() if args.seed is None else args.seed
    rng = random.Random(seed)
    cases = [op.make_case(rng, i, MASKS[args.masks])
             for i in range(args.cases if args.case is None else args.case + 1)]
    if args.case is not None:
        cases = cases[args.case:]
    failures = []
    with tempfile.TemporaryDirectory() as workdir, \
            concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for c, error in pool.map(lambda c: (c, op.run_case(args.sattn_run, c, workdir)), cases):
            if error:
                failures.append((c, error))
    print(f"seed {seed}: {len(cases)} random {name} cases ({summary(cases)})")
    for c, error in failures[:10]:
        print(f"FAILED case {c['index']} of seed {seed} ({op.describe(c)}): {error}\n"
              f"{op.spec_text(c)}rerun: {sys.argv[0]} --sattn-run {args.sattn_run} "
              f"--masks {args.masks} --seed {seed} --case {c['index']}\n")
    print(f"{len(cases) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


def run_serving_case(op, sattn_run, c, workdir):
    """One case of a serving op (paged.py, varlen.py): its spec on its inputs,
    O (and LSE) checked by op.check."""
    a = op.make_inputs(c)
    error, got_o, got_lse = run_spec(sattn_run, os.path.join(workdir, f"case{c['index']}"),
                                     op.spec_text(c), a, c["dtype"], c["lse"])
    return error or op.check(c, a, got_o, got_lse)


def serving_main(doc, name, op, lengths):
    """case_main() of paged.py and varlen.py; `lengths` names the case's list
    of sequence lengths."""
    def summary(cases):
        lens = [n for c in cases for n in c[lengths]]
        return (f"{len(lens)} sequences, {sum(n == 0 for n in lens)} empty; "
                f"{sum(c['dynamic'] for c in cases)} dynamic, "
                f"{sum(c['hq'] != c['hkv'] for c in cases)} GQA, "
                f"{sum(c['lse'] for c in cases)} with LSE, "
                f"{sum(c['softcap'] is not None for c in cases)} softcap, "
                f"{sum(c['alibi'] is not None for c in cases)} ALiBi")
    op.run_case = lambda sattn_run, c, workdir: run_serving_case(op, sattn_run, c, workdir)
    return case_main(doc, name, op, summary)


def run_case(sattn_run, target, c, workdir):
    arrays = make_inputs(c)
    error, got_o, got_lse = run_spec(sattn_run, os.path.join(workdir, f"case{c['index']}"),
                                     spec_text(c), arrays, c["dtype"], c["lse"],
                                     [f"--target={target}"])
    return error or check_outputs(c, arrays, got_o, got_lse)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sattn-run", required=True)
    ap.add_argument("--cases", type=int, default=int(os.environ.get("SATTN_DIFF_CASES", 200)))
    ap.add_argument("--seed", type=int, help="default: a new one each run")
    ap.add_argument("--case", type=int, help="run only case I of the seed's sequence")
    ap.add_argument("--garbage", action="store_true", help="garbage in the unkept keys of every case")
    ap.add_argument("--dtype", choices=sorted(DTYPES), help="every case in this element type")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--target", choices=["cpu", "nvvm"], default="cpu")
    ap.add_argument("--masks", choices=sorted(MASKS), default="all",
                    help="strided: only the masks cut into residue iteration spaces; "
                    "heavy: global rows split into parts")
    args = ap.parse_args()

    seed = new_seed() if args.seed is None else args.seed
    cases = make_cases(seed, args.cases, args.case, args.garbage, MASKS[args.masks])
    for c in cases if args.dtype else []:
        c["dtype"] = args.dtype
    if args.target == "nvvm":
        cases = [c for c in cases if fits_gpu(c)]
    failures = []
    with tempfile.TemporaryDirectory() as workdir, \
            concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        results = pool.map(lambda c: (c, run_case(args.sattn_run, args.target, c, workdir)), cases)
        for done, (c, error) in enumerate(results, 1):
            if error:
                failures.append((c, error))
            if done % 500 == 0:  # progress of long runs (make soak)
                print(f"{done} of {len(cases)} cases, {len(failures)} failed", file=sys.stderr)
    kinds = {}
    for c in cases:
        kinds[c["dtype"]] = kinds.get(c["dtype"], 0) + 1
    print(f"seed {seed}: {len(cases)} random cases ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}; "
          f"{sum(c['dynamic'] for c in cases)} dynamic, {sum(c['lq'] != c['lk'] for c in cases)} Lq != Lk, "
          f"{sum(c['hq'] != c['hkv'] for c in cases)} GQA, {sum(c['lse'] for c in cases)} with LSE, "
          f"{sum(c['garbage'] for c in cases)} with garbage in unkept keys, "
          f"{sum(c['softcap'] is not None for c in cases)} softcap, {sum(c['alibi'] is not None for c in cases)} ALiBi)")
    for c, error in failures[:10]:
        print(f"FAILED case {c['index']} of seed {seed} ({describe(c)}): {error}\n{spec_text(c)}"
              f"rerun: {sys.argv[0]} --sattn-run {args.sattn_run} --target {args.target} "
              f"--masks {args.masks} --seed {seed} --case {c['index']}"
              f"{' --garbage' if args.garbage else ''}"
              f"{f' --dtype {args.dtype}' if args.dtype else ''}\n")
    print(f"{len(cases) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
