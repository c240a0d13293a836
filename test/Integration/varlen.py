#!/usr/bin/env python3
"""Differential test of sattn.varlen_attention against a float64 reference.

Draws random packed batches -- 1 to 6 sequences with query and key lengths
from 0 (empty sequences) to about 150, Lq != Lk, GQA, every mask family of
differential.py (random blocks drawn per sequence), softcap and ALiBi,
f32/f16/bf16, static and dynamic Tq, Tk and B -- runs each through
`sattn-run` and compares O (and LSE) with docs/Semantics.md evaluated here
in float64, one sequence at a time with differential.py's reference.

Every case puts NaN in the K and V rows of the keys that no query row of
their own sequence keeps: a kernel that let one sequence see another's keys,
or read a key no row keeps, fails.

    varlen.py --sattn-run build/bin/sattn-run [--cases N] [--seed S] [--case I]

Without --seed each run draws a new seed and prints it; a failure prints the
command that reruns just that case.
"""
import sys

import numpy as np

import differential as diff  # noqa: E402  (beside this file)


def make_case(rng, index, masks=diff.random_mask):
    dtype = rng.choice(sorted(diff.DTYPES))
    hkv = rng.randint(1, 2)
    hq = hkv * rng.choice([1, 2, 4])
    batch = rng.randint(1, 6)
    length = lambda: rng.choice([0, 1, 31, 32, 33, rng.randint(1, 150), rng.randint(1, 150)])
    lq = [length() for _ in range(batch)]
    # Lk = Lq (prefill) most of the time, else its own length.
    lk = [n if rng.random() < 0.6 else length() for n in lq]
    d = rng.choice([16, 32, 64, 128])
    return dict(index=index, dtype=dtype, hq=hq, hkv=hkv, lq=lq, lk=lk,
                d=d, dv=rng.choice([d, d, 32]),
                mask=masks(rng, rng.randint(0, 2), max(lq + lk + [1])),
                **diff.draw_options(rng, hq), seed=rng.getrandbits(32))


def describe(c):
    return (f"{c['dtype']}, Hq={c['hq']} Hkv={c['hkv']} Lq={c['lq']} Lk={c['lk']} "
            f"D={c['d']} Dv={c['dv']}{', softcap' if c['softcap'] else ''}"
            f"{', ALiBi' if c['alibi'] else ''}")


def spec_text(c):
    dyn = lambda x: "?" if c["dynamic"] else str(x)
    el = c["dtype"]
    tq, tk, b1 = sum(c["lq"]), sum(c["lk"]), len(c["lq"]) + 1
    ct = f"tensor<{dyn(b1)}xi32>"
    operands = [("q", f"tensor<{dyn(tq)}x{c['hq']}x{c['d']}x{el}>"),
                ("k", f"tensor<{dyn(tk)}x{c['hkv']}x{c['d']}x{el}>"),
                ("v", f"tensor<{dyn(tk)}x{c['hkv']}x{c['dv']}x{el}>"), ("cq", ct), ("ck", ct)]
    results = [f"tensor<{dyn(tq)}x{c['hq']}x{c['dv']}x{el}>"]
    if c["lse"]:
        results.append(f"tensor<{c['hq']}x{dyn(tq)}xf32>")
    return diff.case_spec("varlen_attention", operands, results, c)


def offsets(lengths):
    return np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)


def make_inputs(c):
    """Token-major Q, K, V and the cu_seqlens; NaN in the keys no row of their
    own sequence keeps."""
    rng = np.random.default_rng(c["seed"])
    np_dtype = diff.DTYPES[c["dtype"]]
    tq, tk = sum(c["lq"]), sum(c["lk"])
    q = rng.uniform(-1, 1, (tq, c["hq"], c["d"])).astype(np_dtype)
    k = rng.uniform(-1, 1, (tk, c["hkv"], c["d"])).astype(np_dtype)
    v = rng.uniform(-1, 1, (tk, c["hkv"], c["dv"])).astype(np_dtype)
    cuk = offsets(c["lk"])
    for s, (lq, lk) in enumerate(zip(c["lq"], c["lk"])):
        if lk:
            unkept = ~c["mask"].evaluate(lq, lk).any(axis=0) if lq else np.ones(lk, bool)
            k[cuk[s]:cuk[s + 1]][unkept] = np.nan
            v[cuk[s]:cuk[s + 1]][unkept] = np.nan
    return dict(q=q, k=k, v=v, cq=offsets(c["lq"]), ck=cuk)


def check(c, a, got_o, got_lse):
    scale = c["scale"] if c["scale"] is not None else float(np.float32(1.0 / np.sqrt(c["d"])))
    tq = sum(c["lq"])
    want_o = np.zeros((tq, c["hq"], c["dv"]))
    want_lse = np.zeros((c["hq"], tq))
    for s, (lq, lk) in enumerate(zip(c["lq"], c["lk"])):
        q0, k0 = a["cq"][s], a["ck"][s]
        keep = c["mask"].evaluate(lq, lk)
        # [L, H, D] rows of the sequence as [1, H, L, D]; unkept keys as 0.
        seq = lambda x, first, n: x[first:first + n].astype(np.float64).transpose(1, 0, 2)[None]
        k, v = seq(a["k"], k0, lk), seq(a["v"], k0, lk)
        unkept = ~keep.any(axis=0) if lq else np.ones(lk, bool)
        k[:, :, unkept], v[:, :, unkept] = 0, 0
        o, lse = diff.reference(seq(a["q"], q0, lq), k, v, keep, scale, c["softcap"], c["alibi"])
        want_o[q0:q0 + lq] = o[0].transpose(1, 0, 2)
        want_lse[:, q0:q0 + lq] = lse[0]
    return diff.compare(c["dtype"], got_o, want_o, got_lse if c["lse"] else None, want_lse)


if __name__ == "__main__":
    sys.exit(diff.serving_main(__doc__, "varlen", sys.modules[__name__], "lq"))
