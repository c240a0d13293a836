#!/usr/bin/env python3
"""Differential test of sattn.paged_attention against a float64 reference.

Draws random paged cases -- page sizes 1 to 16, random block tables whose
pages are shuffled and shared between sequences, sequence lengths 0, 1,
page - 1, page, page + 1 and random, Lq 1 to 8, GQA, every mask family of
differential.py, softcap and ALiBi, f32/f16/bf16, static and dynamic B, P
and M -- runs each through `sattn-run` and compares O (and LSE) with
docs/Semantics.md evaluated here in float64: each sequence's keys gathered
through its block table with numpy, then differential.py's reference.

Every case puts garbage where the op must not look: NaN in the cache slots
no kept key maps to (past seq_len, unused pages, pages of keys no row
keeps), and out-of-range entries (-1, P, 2^31 - 1) in the block-table
entries no kept key needs.

    paged.py --sattn-run build/bin/sattn-run [--cases N] [--seed S] [--case I]

Without --seed each run draws a new seed and prints it; a failure prints the
command that reruns just that case.
"""
import sys

import numpy as np

import differential as diff  # noqa: E402  (beside this file)


def make_case(rng, index, masks=diff.random_mask):
    dtype = rng.choice(sorted(diff.DTYPES))
    batch, hkv = rng.randint(1, 3), rng.randint(1, 2)
    hq = hkv * rng.choice([1, 2, 4])
    page = rng.choice([1, 3, 8, 16])
    lq = rng.randint(1, 8)
    special = [0, 1, page - 1, page, page + 1]
    # Lengths past 256 keys span several flash-decoding splits.
    lens = [rng.choice(special + [rng.randint(1, 150)] * 3 + [rng.randint(257, 700)])
            for _ in range(batch)]
    max_pages = max(-(-n // page) for n in lens) + rng.randint(0, 2)
    # Enough pages for the longest sequence, some shared, some unused.
    num_pages = max(1, max_pages + rng.randint(-1, 4))
    d = rng.choice([16, 32, 64, 128])
    dv = rng.choice([d, d, 32])
    return dict(index=index, dtype=dtype, batch=batch, hq=hq, hkv=hkv, lq=lq, lens=lens,
                page=page, max_pages=max_pages, num_pages=num_pages, d=d, dv=dv,
                mask=masks(rng, rng.randint(0, 2), max(lens + [lq, 1])),
                **diff.draw_options(rng, hq), seed=rng.getrandbits(32))


def describe(c):
    return (f"{c['dtype']}, B={c['batch']} Hq={c['hq']} Hkv={c['hkv']} Lq={c['lq']} "
            f"seq_lens={c['lens']} page={c['page']} M={c['max_pages']} P={c['num_pages']} "
            f"D={c['d']} Dv={c['dv']}{', softcap' if c['softcap'] else ''}"
            f"{', ALiBi' if c['alibi'] else ''}")


def spec_text(c):
    dyn = lambda x: "?" if c["dynamic"] else str(x)
    el = c["dtype"]
    cache = lambda last: f"tensor<{dyn(c['num_pages'])}x{c['page']}x{c['hkv']}x{last}x{el}>"
    operands = [("q", f"tensor<{dyn(c['batch'])}x{c['hq']}x{c['lq']}x{c['d']}x{el}>"),
                ("kc", cache(c["d"])), ("vc", cache(c["dv"])),
                ("t", f"tensor<{dyn(c['batch'])}x{dyn(c['max_pages'])}xi32>"),
                ("n", f"tensor<{dyn(c['batch'])}xi32>")]
    results = [f"tensor<{dyn(c['batch'])}x{c['hq']}x{c['lq']}x{c['dv']}x{el}>"]
    if c["lse"]:
        results.append(f"tensor<{dyn(c['batch'])}x{c['hq']}x{c['lq']}xf32>")
    return diff.case_spec("paged_attention", operands, results, c)


def kept_keys(c, n):
    """The keys of a sequence of n keys that some query row keeps."""
    return c["mask"].evaluate(c["lq"], n).any(axis=0) if n else np.zeros(0, bool)


def make_inputs(c):
    """Q, the caches, a block table and seq_lens; garbage wherever no kept key
    looks (see the module docstring)."""
    rng = np.random.default_rng(c["seed"])
    np_dtype = diff.DTYPES[c["dtype"]]
    b, page, m, p = c["batch"], c["page"], c["max_pages"], c["num_pages"]
    q = rng.uniform(-1, 1, (b, c["hq"], c["lq"], c["d"])).astype(np_dtype)
    kc = rng.uniform(-1, 1, (p, page, c["hkv"], c["d"])).astype(np_dtype)
    vc = rng.uniform(-1, 1, (p, page, c["hkv"], c["dv"])).astype(np_dtype)
    table = np.zeros((b, m), np.int32)
    used = np.zeros((p, page), bool)  # slots some kept key reads
    bad = [-1, p, 2**31 - 1]
    for s, n in enumerate(c["lens"]):
        kept = kept_keys(c, n)
        for j in range(m):
            keys = np.arange(j * page, min((j + 1) * page, n))
            if keys.size and kept[keys].any():
                table[s, j] = rng.integers(0, p)
                used[table[s, j], keys[kept[keys]] - j * page] = True
            else:  # never needed: any value, in range or not
                table[s, j] = bad[(s + j) % 3] if rng.random() < 0.5 else rng.integers(0, p)
    kc[~used] = np.nan
    vc[~used] = np.nan
    lens = np.asarray(c["lens"], np.int32)
    return dict(q=q, kc=kc, vc=vc, t=table, n=lens)


def check(c, a, got_o, got_lse):
    scale = c["scale"] if c["scale"] is not None else float(np.float32(1.0 / np.sqrt(c["d"])))
    want_o = np.zeros((c["batch"], c["hq"], c["lq"], c["dv"]))
    want_lse = np.zeros((c["batch"], c["hq"], c["lq"]))
    for s, n in enumerate(c["lens"]):
        keys = np.arange(n)
        kept = kept_keys(c, n)
        pages = a["t"][s, keys // c["page"]] if n else np.zeros(0, np.int64)
        pages = np.where(kept, pages, 0)  # entries of unkept keys may be anything
        k = a["kc"][pages, keys % c["page"]].astype(np.float64)  # [n, Hkv, D]
        v = a["vc"][pages, keys % c["page"]].astype(np.float64)
        k[~kept], v[~kept] = 0, 0
        keep = c["mask"].evaluate(c["lq"], n)
        o, lse = diff.reference(a["q"][s:s + 1].astype(np.float64), k.transpose(1, 0, 2)[None],
                                v.transpose(1, 0, 2)[None], keep, scale, c["softcap"], c["alibi"])
        want_o[s], want_lse[s] = o[0], lse[0]
    return diff.compare(c["dtype"], got_o, want_o, got_lse if c["lse"] else None, want_lse)


if __name__ == "__main__":
    sys.exit(diff.serving_main(__doc__, "paged", sys.modules[__name__], "lens"))
