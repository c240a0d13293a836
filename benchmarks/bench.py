#!/usr/bin/env python3
"""sattn CPU benchmark: sattn vs. its peers, side by side, in one run.

For H = 8, D in {64, 128}, N = Lq = Lk in {1024, 4096, 16384}, B = 1, f32,
2 threads, and the patterns of the CPU code-generation issue, prints per case
the sattn time, useful GFLOP/s (2 (D + Dv) kept pairs / time), % of the
machine's f32 FMA peak measured in the same run, and the times of
  - the dense-with-mask fallback through OpenBLAS (numpy: QK^T, mask, softmax, PV),
  - PyTorch CPU scaled_dot_product_attention with a boolean mask,
  - PyTorch FlexAttention on CPU (torch.compile, BlockMask),
on the same inputs. A peer that cannot run a case gets the reason in the table.
Then every pattern family at N = 8192 and 16384 against the dense rate, and
strided 64 against the kernel without iteration spaces and the peers. Then decode (Hq = 32, Hkv = 8, D = 128, Lk = 32768, Lq = 1; f32, f16, bf16
K/V, dense and streaming<sink = 4, window = 1024>, and sattn.paged_attention
over pages of 16 tokens in shuffled order) against torch SDPA
(enable_gqa) and FlexAttention, as K/V bytes per second and % of the
machine's read bandwidth measured in the same run (bandwidth.c). Then
batched prefill of 8 causal prompts of 100-2000 tokens (sattn.varlen_attention)
against one causal prefill of the same useful work, SDPA per prompt and
FlexAttention with a document mask. Then the backward (sattn.attention_grad;
dense N=4096, causal window 256 at N=8192 and 16384, strided 64 at N=8192,
sparse_transformer 128 at N=16384) against our forward and
the backwards of SDPA and FlexAttention. Then the
memory check (peak RSS of sattn-run from N = 1024 to 32768, causal window
256) and the JIT compile time of the example specs.

    benchmarks/bench.py --build build [--quick] [--ns 1024,4096] [--patterns causal,dense]
                        [--decode-only] [--backward-only] [--families-only]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))

from sattn import mask as M  # noqa: E402

HEADS, THREADS, BLOCK = 8, 2, 64


def block_layout_10pct(n):
    import numpy as np
    nb = -(-n // BLOCK)
    rng = np.random.default_rng(42)
    layout = rng.random((nb, nb)) < 0.10
    np.fill_diagonal(layout, True)
    return layout


def pattern(name, n):
    """(sattn mask, FlexAttention mask_mod source) of a benchmark pattern."""
    if name == "dense":
        return M.dense(), "q >= 0"
    if name == "causal":
        return M.causal(), "kv <= q"
    if name == "causal_window_256":
        return M.window(255, 0), "(kv <= q) & (q - kv <= 255)"
    if name == "longformer_512":
        return M.longformer(512, [0]), "((q - kv).abs() <= 256) | (q == 0) | (kv == 0)"
    if name == "bigbird_64_3_2_3":
        return M.bigbird(64, 3, 2, 3, 0), "LAYOUT[q // 64, kv // 64]"
    if name == "dilated_128x2":
        return M.dilated(128, 0, 2), "(kv <= q) & (q - kv <= 256) & ((q - kv) % 2 == 0)"
    if name == "strided_64":
        return M.strided(64), "(q - kv) % 64 == 0"
    if name == "sparse_transformer_128":
        return M.sparse_transformer(128), "(kv <= q) & ((q - kv <= 127) | ((q - kv) % 128 == 0))"
    if name == "streaming_4_1024":
        return M.streaming(4, 1024), "(kv <= q) & ((kv < 4) | (q - kv <= 1023))"
    if name == "block_sparse_10pct":
        return M.block_sparse([BLOCK, BLOCK], block_layout_10pct(n)), "LAYOUT[q // 64, kv // 64]"
    raise KeyError(name)


PATTERNS = ["dense", "causal", "causal_window_256", "longformer_512", "bigbird_64_3_2_3",
            "dilated_128x2", "strided_64", "block_sparse_10pct"]


# The pattern families of the iteration-space table (families_table).
FAMILIES = ["causal_window_256", "strided_64", "dilated_128x2", "sparse_transformer_128",
            "longformer_512", "bigbird_64_3_2_3", "streaming_4_1024"]


def spec(mask, n, d, heads=HEADS):
    t = f"tensor<1x{heads}x{n}x{d}xf32>"
    return (f"func.func @bench(%q: {t}, %k: {t}, %v: {t}) -> {t} {{\n"
            f"  %o = sattn.attention %q, %k, %v mask({mask.text}) : ({t}, {t}, {t}) -> {t}\n"
            f"  return %o : {t}\n}}\n")


def run_sattn(build, mask, n, d, runs):
    return run_sattn_spec(build, spec(mask, n, d), runs)


def run_sattn_spec(build, text, runs, inputs=None, outputs=()):
    """sattn-run --benchmark on a spec (random inputs, or these .npy files;
    results written to `outputs`): median ms, useful GFLOP/s, JIT compile s."""
    with tempfile.NamedTemporaryFile("w", suffix=".mlir", delete=False) as f:
        f.write(text)
    args = [f"--input=@{path}" for path in inputs] if inputs else ["--random-inputs"]
    args += [f"--output=@{path}" for path in outputs]
    try:
        out = subprocess.run([os.path.join(build, "bin", "sattn-run"), f.name, *args,
                              f"--benchmark={runs}", f"--threads={THREADS}"],
                             capture_output=True, text=True, timeout=1800)
    finally:
        os.unlink(f.name)
    m = re.search(r"median ([\d.]+) ms, (?:([\d.]+) useful GFLOP/s|[^,]*), JIT compile ([\d.]+) s",
                  out.stdout)
    if not m:
        return {"error": (out.stderr or out.stdout).strip()[-200:]}
    result = {"ms": float(m.group(1)), "jit_s": float(m.group(3))}
    if m.group(2):  # not counted for masks too costly to count exactly
        result["gflops"] = float(m.group(2))
    return result


# --- peers, each run in its own process (python bench.py --peer ...) --------


def inputs(n, d):
    import numpy as np
    rng = np.random.default_rng(0)
    return [rng.uniform(-1, 1, (1, HEADS, n, d)).astype(np.float32) for _ in range(3)]


def timeit(fn, runs):
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def peer_openblas(name, n, d, runs):
    import numpy as np
    mask, _ = pattern(name, n)
    keep = mask.evaluate(n, n)
    q, k, v = inputs(n, d)
    scale = np.float32(1 / np.sqrt(d))

    def attend():
        out = np.empty_like(q)
        for h in range(HEADS):
            s = (q[0, h] * scale) @ k[0, h].T  # sgemm, N x N
            s = np.where(keep, s, np.float32(-np.inf))
            s -= s.max(axis=1, keepdims=True)
            np.exp(s, out=s)
            s /= s.sum(axis=1, keepdims=True)
            out[0, h] = s @ v[0, h]  # sgemm
        return out
    return {"ms": timeit(attend, runs)}


def peer_sdpa(name, n, d, runs):
    import torch
    torch.set_num_threads(THREADS)
    mask, _ = pattern(name, n)
    keep = torch.from_numpy(mask.evaluate(n, n).copy())
    q, k, v = (torch.from_numpy(a) for a in inputs(n, d))
    f = torch.nn.functional.scaled_dot_product_attention
    with torch.no_grad():
        return {"ms": timeit(lambda: f(q, k, v, attn_mask=keep), runs)}


def peer_flex(name, n, d, runs):
    import numpy as np
    import torch
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention
    torch.set_num_threads(THREADS)
    mask, expr = pattern(name, n)
    layout = None
    if "LAYOUT" in expr:
        full = mask.evaluate(n, n)
        layout = torch.from_numpy(np.ascontiguousarray(full[::BLOCK, ::BLOCK]))
    env = {"LAYOUT": layout}
    mask_mod = eval(f"lambda b, h, q, kv: {expr}", env)  # noqa: S307 (our own strings)
    q, k, v = (torch.from_numpy(a) for a in inputs(n, d))
    t0 = time.perf_counter()
    block_mask = create_block_mask(mask_mod, None, None, n, n, device="cpu")
    compiled = torch.compile(flex_attention)
    with torch.no_grad():
        compiled(q, k, v, block_mask=block_mask)
        compile_s = time.perf_counter() - t0
        ms = timeit(lambda: compiled(q, k, v, block_mask=block_mask), runs)
    return {"ms": ms, "compile_s": compile_s}


# --- decode ------------------------------------------------------------------

DEC_HQ, DEC_HKV, DEC_D, DEC_LK = 32, 8, 128, 32768
DEC_CASES = [("f32", "dense"), ("f16", "dense"), ("bf16", "dense"), ("f32", "streaming"),
             ("f32", "paged"), ("f16", "paged")]
DEC_PAGE = 16
DEC_MASKS = {"dense": (M.causal(), "kv >= 0"),
             "streaming": (M.streaming(4, 1024), "(kv < 4) | (q - kv < 1024)")}


def decode_spec(dtype, mask):
    q = f"tensor<1x{DEC_HQ}x1x{DEC_D}x{dtype}>"
    kv = f"tensor<1x{DEC_HKV}x{DEC_LK}x{DEC_D}x{dtype}>"
    return (f"func.func @bench(%q: {q}, %k: {kv}, %v: {kv}) -> {q} {{\n"
            f"  %o = sattn.attention %q, %k, %v mask({mask.text}) : ({q}, {kv}, {kv}) -> {q}\n"
            f"  return %o : {q}\n}}\n")


def decode_paged(dtype, workdir):
    """sattn.paged_attention decode over pages of 16 tokens in shuffled order:
    its spec and input files."""
    import numpy as np
    pages = DEC_LK // DEC_PAGE
    q = f"tensor<1x{DEC_HQ}x1x{DEC_D}x{dtype}>"
    kv = f"tensor<{pages}x{DEC_PAGE}x{DEC_HKV}x{DEC_D}x{dtype}>"
    t, n = f"tensor<1x{pages}xi32>", "tensor<1xi32>"
    text = (f"func.func @bench(%q: {q}, %kc: {kv}, %vc: {kv}, %t: {t}, %n: {n}) -> {q} {{\n"
            f"  %o = sattn.paged_attention %q, %kc, %vc, %t, %n mask(#sattn.causal)"
            f" : ({q}, {kv}, {kv}, {t}, {n}) -> {q}\n  return %o : {q}\n}}\n")
    rng = np.random.default_rng(0)
    np_type = {"f32": np.float32, "f16": np.float16}[dtype]
    arrays = {"q": rng.uniform(-1, 1, (1, DEC_HQ, 1, DEC_D)).astype(np_type),
              "kc": rng.uniform(-1, 1, (pages, DEC_PAGE, DEC_HKV, DEC_D)).astype(np_type),
              "vc": rng.uniform(-1, 1, (pages, DEC_PAGE, DEC_HKV, DEC_D)).astype(np_type),
              "t": rng.permutation(pages).astype(np.int32)[None],
              "n": np.array([DEC_LK], np.int32)}
    paths = []
    for name, a in arrays.items():
        paths.append(os.path.join(workdir, name + ".npy"))
        np.save(paths[-1], a)
    return text, paths


def decode_inputs(dtype):
    import torch
    torch.manual_seed(0)
    t = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[dtype]
    q = torch.rand(1, DEC_HQ, 1, DEC_D).to(t)
    k, v = (torch.rand(1, DEC_HKV, DEC_LK, DEC_D).to(t) for _ in range(2))
    return q, k, v


def peer_sdpa_decode(name, n, d, runs):
    import torch
    torch.set_num_threads(THREADS)
    dtype, mask_name = name.split(":")
    q, k, v = decode_inputs(dtype)
    f = torch.nn.functional.scaled_dot_product_attention
    keep = None
    if mask_name != "dense":
        keep = torch.from_numpy(DEC_MASKS[mask_name][0].evaluate(1, DEC_LK).copy())
    with torch.no_grad():
        return {"ms": timeit(lambda: f(q, k, v, attn_mask=keep, enable_gqa=True), runs)}


def peer_flex_decode(name, n, d, runs):
    import torch
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention
    torch.set_num_threads(THREADS)
    dtype, mask_name = name.split(":")
    q, k, v = decode_inputs(dtype)
    # q is the query's row (0); its position is Lk - 1.
    expr = DEC_MASKS[mask_name][1].replace("q - kv", f"({DEC_LK - 1} - kv)")
    mask_mod = eval(f"lambda b, h, q, kv: {expr}")  # noqa: S307 (our own strings)
    block_mask = create_block_mask(mask_mod, None, None, 1, DEC_LK, device="cpu")
    compiled = torch.compile(flex_attention)
    with torch.no_grad():
        compiled(q, k, v, block_mask=block_mask, enable_gqa=True)
        return {"ms": timeit(lambda: compiled(q, k, v, block_mask=block_mask, enable_gqa=True),
                             runs)}


def print_header(header):
    """The header of a Markdown table."""
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))


def decode_table(build, peers, timeout):
    """Decode side by side: time, K/V bytes per second, % of the bandwidth."""
    bandwidth = measure(build, "bandwidth")
    print(f"\ndecode: Hq={DEC_HQ}, Hkv={DEC_HKV}, D={DEC_D}, Lk={DEC_LK}, Lq=1, {THREADS} threads; "
          f"read bandwidth {bandwidth:.1f} GB/s (vectorized sum of 1 GiB)")
    header = ["K/V", "mask", "keys read", "sattn ms", "K/V GB/s", "% bandwidth"] + \
        [f"{p} ms" for p in peers]
    print_header(header)
    for dtype, mask_name in DEC_CASES:
        paged = mask_name == "paged"
        if paged:  # causal over a paged cache: the peers run it contiguous
            mask_name = f"paged {DEC_PAGE}, shuffled"
            with tempfile.TemporaryDirectory() as workdir:
                text, files = decode_paged(dtype, workdir)
                r = run_sattn_spec(build, text, 10, files)
            mask = DEC_MASKS["dense"][0]
        else:
            mask = DEC_MASKS[mask_name][0]
            r = run_sattn_spec(build, decode_spec(dtype, mask), 10)
        keys = int(mask.evaluate(1, DEC_LK).sum())
        size = 4 if dtype == "f32" else 2
        cells = [dtype, mask_name, str(keys)]
        if "ms" in r:
            gbs = 2 * DEC_HKV * keys * DEC_D * size / (r["ms"] * 1e-3) / 1e9
            cells += [f"{r['ms']:.2f}", f"{gbs:.1f}", f"{100 * gbs / bandwidth:.0f}%"]
        else:
            cells += ["n/a: " + r["error"], "-", "-"]
        if paged:
            cells += ["-"] * len(peers)  # the peers have no paged cache: see the rows above
        for p in peers if not paged else []:
            pr = run_peer(p + "_decode", f"{dtype}:{mask_name}", 1, DEC_D, 10, timeout)
            cells.append("n/a: " + pr["error"] if "error" in pr else f"{pr['ms']:.2f}")
        print("| " + " | ".join(cells) + " |", flush=True)
    alternating_rounds(build)


def median_range(values, fmt):
    """'median [min-max]' of a non-empty list, each value through `fmt`."""
    values = sorted(values)
    return f"{fmt(values[len(values) // 2])} [{fmt(values[0])}-{fmt(values[-1])}]"


def alternating_rounds(build, rounds=5):
    """Contiguous f32 decode's K/V bytes per second over the read bandwidth,
    each pair run alternately (a neighbour's memory traffic that comes and
    goes then weighs on both sides of each round's ratio), and paged over
    contiguous decode time (paired_decode_ratios)."""
    shares = []
    for _ in range(rounds):
        bandwidth = measure(build, "bandwidth")
        r = run_sattn_spec(build, decode_spec("f32", DEC_MASKS["dense"][0]), 10)
        if "ms" in r:
            shares.append(2 * DEC_HKV * DEC_LK * DEC_D * 4 / (r["ms"] * 1e-3) / 1e9 / bandwidth)
    if shares:
        print(f"f32 decode / read bandwidth ({rounds} alternating rounds, median [range]): "
              + median_range(shares, lambda x: f"{100 * x:.0f}%"))
    parts = []
    for dtype in sorted({d for d, m in DEC_CASES if m == "paged"}):
        pairs = paired_decode_times(build, dtype)
        if pairs:
            contig, paged = (statistics.median(t) for t in zip(*pairs))
            parts.append(f"{dtype} {paged / contig:.2f} ({1e3 * paged:.2f} / {1e3 * contig:.2f} ms)")
    print(f"paged / contiguous decode time (one process, the two kernels called in turn "
          f"{PAIRED_CALLS} times on 64-byte aligned inputs; ratio of the medians): "
          + ", ".join(parts))


PAIRED_CALLS = 41
PAIRED_SCRIPT = """
import sys, time
import numpy as np
sys.path.insert(0, {pkg!r})
import sattn
def aligned(a):  # a copy 64-byte aligned, as frameworks allocate (numpy's are 16)
    buf = np.empty(a.nbytes + 64, np.uint8)
    start = -buf.ctypes.data % 64
    out = buf[start:start + a.nbytes].view(a.dtype).reshape(a.shape)
    out[...] = a
    return out
contig = sattn.compile_spec(open({contig!r}).read())
paged = sattn.compile_spec(open({paged!r}).read())
rng = np.random.default_rng(1)
cq, ck, cv = (aligned(rng.uniform(-1, 1, s).astype(np.{dtype}))
              for s in [(1, {hq}, 1, {d})] + 2 * [(1, {hkv}, {lk}, {d})])
pins = [aligned(np.load(f)) for f in {files!r}]
for _ in range(3):
    contig(cq, ck, cv); paged(*pins)
for _ in range({calls}):
    t0 = time.perf_counter(); contig(cq, ck, cv)
    t1 = time.perf_counter(); paged(*pins)
    t2 = time.perf_counter()
    print(t1 - t0, t2 - t1)
"""


def paired_decode_times(build, dtype):
    """(contiguous, paged with shuffled pages) decode times in seconds, the
    two kernels called in turn in one process: a neighbour's memory traffic,
    which comes and goes over seconds, then weighs on both calls of a pair
    (five-run medians from separate sattn-run processes swung from 1.1 to
    1.4 for the same build)."""
    with tempfile.TemporaryDirectory() as workdir:
        text, files = decode_paged(dtype, workdir)
        specs = {}
        for name, body in (("contig", decode_spec(dtype, DEC_MASKS["dense"][0])), ("paged", text)):
            specs[name] = os.path.join(workdir, name + ".mlir")
            with open(specs[name], "w") as f:
                f.write(body)
        script = PAIRED_SCRIPT.format(
            pkg=os.path.join(HERE, "..", "python"), contig=specs["contig"], paged=specs["paged"],
            dtype={"f32": "float32", "f16": "float16"}[dtype], hq=DEC_HQ, hkv=DEC_HKV,
            lk=DEC_LK, d=DEC_D, files=files, calls=PAIRED_CALLS)
        env = dict(os.environ, OMP_NUM_THREADS=str(THREADS),
                   SATTN_LIBRARY=os.path.join(build, "lib", "libsattn-capi.so"))
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             env=env, timeout=900)
        if out.returncode != 0:
            print(f"paired {dtype} decode failed: {out.stderr.strip()[-200:]}")
            return []
        return [tuple(map(float, line.split())) for line in out.stdout.splitlines()]


# --- varlen prefill -----------------------------------------------------------

VAR_LENS = [100, 2000, 230, 1500, 640, 1024, 1800, 415]  # 8 prompts, causal
VAR_D = 64


def varlen_arrays():
    import numpy as np
    rng = np.random.default_rng(0)
    t = sum(VAR_LENS)
    cu = np.concatenate([[0], np.cumsum(VAR_LENS)]).astype(np.int32)
    q, k, v = (rng.uniform(-1, 1, (t, HEADS, VAR_D)).astype(np.float32) for _ in range(3))
    return q, k, v, cu


def varlen_spec():
    t, b1 = sum(VAR_LENS), len(VAR_LENS) + 1
    x, c = f"tensor<{t}x{HEADS}x{VAR_D}xf32>", f"tensor<{b1}xi32>"
    return (f"func.func @bench(%q: {x}, %k: {x}, %v: {x}, %cq: {c}, %ck: {c}) -> {x} {{\n"
            f"  %o = sattn.varlen_attention %q, %k, %v, %cq, %ck mask(#sattn.causal)"
            f" : ({x}, {x}, {x}, {c}, {c}) -> {x}\n  return %o : {x}\n}}\n")


def peer_sdpa_varlen(name, n, d, runs):
    """Each prompt on its own, is_causal (PyTorch's CPU SDPA has no varlen)."""
    import torch
    torch.set_num_threads(THREADS)
    q, k, v, cu = (torch.from_numpy(a) for a in varlen_arrays())
    seqs = [tuple(x[cu[b]:cu[b + 1]].transpose(0, 1)[None] for x in (q, k, v))
            for b in range(len(VAR_LENS))]
    f = torch.nn.functional.scaled_dot_product_attention
    with torch.no_grad():
        return {"ms": timeit(lambda: [f(*s, is_causal=True) for s in seqs], runs)}


def peer_flex_varlen(name, n, d, runs):
    """The packed prompts as one sequence with a causal document mask."""
    import torch
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention
    torch.set_num_threads(THREADS)
    q, k, v, cu = (torch.from_numpy(a) for a in varlen_arrays())
    t = q.shape[0]
    doc = torch.repeat_interleave(torch.arange(len(VAR_LENS)), torch.tensor(VAR_LENS))
    mask_mod = lambda b, h, qi, kv: (doc[qi] == doc[kv]) & (qi >= kv)  # noqa: E731
    block_mask = create_block_mask(mask_mod, None, None, t, t, device="cpu")
    q, k, v = (x.transpose(0, 1)[None].contiguous() for x in (q, k, v))
    compiled = torch.compile(flex_attention)
    with torch.no_grad():
        compiled(q, k, v, block_mask=block_mask)
        return {"ms": timeit(lambda: compiled(q, k, v, block_mask=block_mask), runs)}


def varlen_table(build, peers, timeout):
    """Batched prefill of prompts of different lengths (sattn.varlen_attention)
    against one causal prefill of the same useful work."""
    import numpy as np
    n = int(round(np.sqrt(sum(x * x for x in VAR_LENS))))
    print(f"\nvarlen prefill: {len(VAR_LENS)} causal prompts of {min(VAR_LENS)}-{max(VAR_LENS)} "
          f"tokens ({sum(VAR_LENS)} in all), H={HEADS}, D={VAR_D}, f32, {THREADS} threads; "
          f"reference: one causal prefill of N={n} (about the same useful work)")
    header = ["case", "sattn ms", "useful GFLOP/s", "rate / one prefill"] + \
        [f"{p} ms" for p in peers]
    print_header(header)
    with tempfile.TemporaryDirectory() as workdir:
        files = []
        for name, a in zip(("q", "k", "v", "cq", "ck"), (*varlen_arrays(), varlen_arrays()[3])):
            files.append(os.path.join(workdir, name + ".npy"))
            np.save(files[-1], a)
        packed = run_sattn_spec(build, varlen_spec(), 5, files)
    one = run_sattn(build, M.causal(), n, VAR_D, 5)
    for label, r, peer_name in ((f"varlen, {len(VAR_LENS)} prompts", packed, "varlen"),
                                (f"one causal prefill, N={n}", one, None)):
        cells = [label]
        if "ms" in r:
            ratio = r["gflops"] / one["gflops"] if "gflops" in one else float("nan")
            cells += [f"{r['ms']:.1f}", f"{r['gflops']:.1f}", f"{ratio:.2f}"]
        else:
            cells += ["n/a: " + r["error"], "-", "-"]
        for p in peers:
            if peer_name:
                pr = run_peer(p + "_varlen", peer_name, 0, VAR_D, 5, timeout)
                cells.append("n/a: " + pr["error"] if "error" in pr else f"{pr['ms']:.1f}")
            else:
                cells.append("-")
        print("| " + " | ".join(cells) + " |", flush=True)


# --- backward -------------------------------------------------------------------

BWD_CASES = [("dense", 4096), ("causal_window_256", 8192), ("causal_window_256", 16384),
             ("strided_64", 8192), ("sparse_transformer_128", 16384)]
BWD_D = 64


def grad_specs(mask, n):
    """The forward (O, LSE) and backward specs of one case."""
    t = f"tensor<1x{HEADS}x{n}x{BWD_D}xf32>"
    lse = f"tensor<1x{HEADS}x{n}xf32>"
    fwd = (f"func.func @fwd(%q: {t}, %k: {t}, %v: {t}) -> ({t}, {lse}) {{\n"
           f"  %o, %l = sattn.attention %q, %k, %v mask({mask.text}) : ({t}, {t}, {t}) -> ({t}, {lse})\n"
           f"  return %o, %l : {t}, {lse}\n}}\n")
    bwd = (f"func.func @bwd(%q: {t}, %k: {t}, %v: {t}, %o: {t}, %do: {t}, %l: {lse}) -> ({t}, {t}, {t}) {{\n"
           f"  %dq, %dk, %dv = sattn.attention_grad %q, %k, %v, %o, %do, %l mask({mask.text})"
           f" : ({t}, {t}, {t}, {t}, {t}, {lse}) -> ({t}, {t}, {t})\n"
           f"  return %dq, %dk, %dv : {t}, {t}, {t}\n}}\n")
    return fwd, bwd


def peer_sdpa_backward(name, n, d, runs):
    import torch
    torch.set_num_threads(THREADS)
    mask, _ = pattern(name, n)
    keep = torch.from_numpy(mask.evaluate(n, n).copy())
    q, k, v = (torch.from_numpy(a).requires_grad_() for a in inputs(n, d))
    do = torch.randn(1, HEADS, n, d)
    o = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=keep)
    return {"ms": timeit(lambda: torch.autograd.grad(o, (q, k, v), do, retain_graph=True), runs)}


def peer_flex_backward(name, n, d, runs):
    import torch
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention
    torch.set_num_threads(THREADS)
    _, expr = pattern(name, n)
    mask_mod = eval(f"lambda b, h, q, kv: {expr}")  # noqa: S307 (our own strings)
    q, k, v = (torch.from_numpy(a).requires_grad_() for a in inputs(n, d))
    do = torch.randn(1, HEADS, n, d)
    block_mask = create_block_mask(mask_mod, None, None, n, n, device="cpu")
    o = torch.compile(flex_attention)(q, k, v, block_mask=block_mask)
    return {"ms": timeit(lambda: torch.autograd.grad(o, (q, k, v), do, retain_graph=True), runs)}


def backward_table(build, peers, timeout):
    """The backward against our forward and the peers' backwards."""
    import numpy as np
    print(f"\nbackward (sattn.attention_grad): B=1, H={HEADS}, D={BWD_D}, f32, {THREADS} threads; "
          "useful GFLOP/s count the five products per kept pair (2.5x the forward's)")
    header = ["pattern", "N", "forward ms", "backward ms", "backward / forward",
              "backward GFLOP/s"] + [f"{p} backward ms" for p in peers]
    print_header(header)
    times = {}
    for name, n in BWD_CASES:
        mask, _ = pattern(name, n)
        fwd, bwd = grad_specs(mask, n)
        cells = [name, str(n)]
        with tempfile.TemporaryDirectory() as workdir:
            path = lambda x: os.path.join(workdir, x + ".npy")
            rng = np.random.default_rng(0)
            for x in ("q", "k", "v", "do"):
                np.save(path(x), rng.uniform(-1, 1, (1, HEADS, n, BWD_D)).astype(np.float32))
            f = run_sattn_spec(build, fwd, 3, [path(x) for x in "qkv"], [path("o"), path("l")])
            b = run_sattn_spec(build, bwd, 3, [path(x) for x in ("q", "k", "v", "o", "do", "l")])
        if "ms" in f and "ms" in b:
            times[(name, n)] = b["ms"]
            cells += [f"{f['ms']:.1f}", f"{b['ms']:.1f}", f"{b['ms'] / f['ms']:.2f}",
                      f"{b['gflops']:.1f}"]
        else:
            cells += ["n/a: " + (f.get("error") or b.get("error")), "-", "-", "-"]
        for p in peers:
            pr = run_peer(p + "_backward", name, n, BWD_D, 3, timeout) if n <= 8192 else \
                {"error": "not run above N = 8192 (memory)"}
            cells.append("n/a: " + pr["error"] if "error" in pr else f"{pr['ms']:.1f}")
        print("| " + " | ".join(cells) + " |", flush=True)
    small, large = times.get(("causal_window_256", 8192)), times.get(("causal_window_256", 16384))
    if small and large:
        print(f"causal window 256: T(16384) / T(8192) = {large / small:.2f} (linear: 2)")
    # Peak memory of a training step (forward, then backward) from N = 1024
    # to 32768: the growth beyond the tensors themselves is the backward's.
    mask, _ = pattern("causal_window_256", 0)
    rss = {}
    for n in (1024, 32768):
        fwd, bwd = grad_specs(mask, n)
        t = f"tensor<1x{HEADS}x{n}x{BWD_D}xf32>"
        lse = f"tensor<1x{HEADS}x{n}xf32>"
        step = (f"func.func @step(%q: {t}, %k: {t}, %v: {t}, %do: {t}) -> ({t}, {t}, {t}) {{\n"
                f"  %o, %l = sattn.attention %q, %k, %v mask({mask.text}) : ({t}, {t}, {t}) -> ({t}, {lse})\n"
                f"  %dq, %dk, %dv = sattn.attention_grad %q, %k, %v, %o, %do, %l mask({mask.text})"
                f" : ({t}, {t}, {t}, {t}, {t}, {lse}) -> ({t}, {t}, {t})\n"
                f"  return %dq, %dk, %dv : {t}, {t}, {t}\n}}\n")
        rss[n] = peak_rss_mb(build, step)
    # Q, K, V, dO, O, dQ, dK, dV; LSE and the backward's Delta
    tensors = (8 * BWD_D + 2) * HEADS * 4 * (32768 - 1024) / 2**20
    print(f"memory (training step, causal window 256): peak RSS {rss[1024]:.0f} MiB at N=1024, "
          f"{rss[32768]:.0f} MiB at N=32768; growth {rss[32768] - rss[1024]:.0f} MiB vs "
          f"{tensors:.0f} MiB of inputs, outputs, gradients, LSE and Delta (an N x N score matrix would "
          f"be {HEADS * 32768 * 32768 * 4 / 2**30:.0f} GiB)")


DTYPES = ["f32", "bf16", "f16"]
DTYPE_N, DTYPE_D = 4096, 64


def dtype_spec(dtype):
    t = f"tensor<1x{HEADS}x{DTYPE_N}x{DTYPE_D}x{dtype}>"
    return (f"func.func @bench(%q: {t}, %k: {t}, %v: {t}) -> {t} {{\n"
            f"  %o = sattn.attention %q, %k, %v mask(#sattn.dense) : ({t}, {t}, {t}) -> {t}\n"
            f"  return %o : {t}\n}}\n")


def peer_sdpa_dtype(name, n, d, runs):
    """Dense SDPA (no mask) with Q, K, V in dtype `name`."""
    import torch
    torch.set_num_threads(THREADS)
    t = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[name]
    torch.manual_seed(0)
    q, k, v = (torch.rand(1, HEADS, n, d).to(t) for _ in range(3))
    f = torch.nn.functional.scaled_dot_product_attention
    with torch.no_grad():
        return {"ms": timeit(lambda: f(q, k, v), runs)}


def dtype_table(build, peers, peak, peak_bf16, timeout):
    """Dense attention at N = 4096, D = 64 in f32, bf16 and f16: the 16-bit
    types against f32 (issue bar: bf16 >= 1.4x f32) and the peaks."""
    print()
    print(f"dense, B=1, H={HEADS}, N={DTYPE_N}, D={DTYPE_D}, {THREADS} threads; peaks: f32 FMA "
          f"{peak:.1f}, bf16 dot products {peak_bf16:.1f} GFLOP/s (0: none on this host)")
    header = ["dtype", "sattn ms", "GFLOP/s", "% f32 peak", "% bf16 peak", "vs f32"] + \
        [f"{p.split('_')[0]} ms" for p in peers]
    print_header(header)
    base = None
    for dtype in DTYPES:
        r = run_sattn_spec(build, dtype_spec(dtype), 5)
        if "gflops" not in r:
            print(f"| {dtype} | n/a: {r.get('error', '?')} |")
            continue
        base = base or r
        cells = [dtype, f"{r['ms']:.1f}", f"{r['gflops']:.1f}", f"{100 * r['gflops'] / peak:.0f}%",
                 f"{100 * r['gflops'] / peak_bf16:.0f}%" if peak_bf16 and dtype == "bf16" else "-",
                 f"{base['ms'] / r['ms']:.2f}x"]
        cells += [cell_ms(run_peer(p, dtype, DTYPE_N, DTYPE_D, 3, timeout)) for p in peers]
        print("| " + " | ".join(cells) + " |", flush=True)


PEERS = {"openblas": peer_openblas, "sdpa": peer_sdpa, "flex": peer_flex,
         "sdpa_dtype": peer_sdpa_dtype,
         "sdpa_decode": peer_sdpa_decode, "flex_decode": peer_flex_decode,
         "sdpa_varlen": peer_sdpa_varlen, "flex_varlen": peer_flex_varlen,
         "sdpa_backward": peer_sdpa_backward, "flex_backward": peer_flex_backward}


def families_table(build, peers, timeout):
    """Every pattern family at N = 8192 and 16384 (D = 64) as useful GFLOP/s
    and % of the dense f32 rate (N = 4096, this run), with T(16384) /
    T(8192); then strided 64 at N = 8192 against the kernel without
    iteration spaces (the same pairs as a union with a global token past
    every position, which the compiler does not split) and the peers; then
    longformer and bigbird on one head against their eight-head share. Kept
    pairs grow 4x from 8192 to 16384 for strided masks (N / s keys per row),
    so the table also divides T(16384) / T(8192) by the pair ratio (time
    per kept pair; 1.00 = linear in the work)."""
    dense = run_sattn(build, M.dense(), 4096, 64, 5)
    print(f"\npattern families: D=64, B=1, H={HEADS}, f32, {THREADS} threads; dense N=4096 "
          f"{cell_ms(dense)} ms, {dense.get('gflops', 0):.1f} GFLOP/s (the rate below)", flush=True)
    print("| pattern | N=8192 ms | N=16384 ms | GFLOP/s at 16384 | % of dense | T(16384)/T(8192) "
          "| pairs(16384)/pairs(8192) | per-pair time ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for name in FAMILIES:
        r8, r16 = (run_sattn(build, pattern(name, n)[0], n, 64, 3) for n in (8192, 16384))
        ratio = f"{r16['ms'] / r8['ms']:.2f}" if "ms" in r8 and "ms" in r16 else "-"
        rate = r16.get("gflops")
        share = f"{100 * rate / dense['gflops']:.0f}%" if rate and "gflops" in dense else "-"
        pairs = ["-", "-"]
        if all("gflops" in r for r in (r8, r16)):  # useful FLOP = 4 D per kept pair
            p8, p16 = (r["gflops"] * r["ms"] for r in (r8, r16))
            pairs = [f"{p16 / p8:.2f}", f"{(r16['ms'] / r8['ms']) / (p16 / p8):.2f}"]
        print(f"| {name} | {cell_ms(r8)} | {cell_ms(r16)} | "
              f"{f'{rate:.1f}' if rate else '-'} | {share} | {ratio} | {' | '.join(pairs)} |",
              flush=True)
    strided = run_sattn(build, M.strided(64), 8192, 64, 5)
    unsplit = run_sattn(build, M.union(M.strided(64), M.global_tokens([1 << 20])), 8192, 64, 1)
    line = (f"strided 64, N=8192: {cell_ms(strided)} ms; without iteration spaces "
            f"{cell_ms(unsplit)} ms")
    if "ms" in strided and "ms" in unsplit:
        line += f" ({unsplit['ms'] / strided['ms']:.0f}x)"
    for p in peers:
        r = run_peer(p, "strided_64", 8192, 64, 1, timeout)
        line += f"; {p} {cell_ms(r)} ms"
    print(line, flush=True)
    # Global rows on one head: the heavy query tiles are split into parts
    # across the threads (docs/CPUCodegen.md), so one head takes about an
    # eighth of the eight heads' time instead of waiting on one thread.
    for name in ("longformer_512", "bigbird_64_3_2_3"):
        mask = pattern(name, 16384)[0]
        one = run_sattn_spec(build, spec(mask, 16384, 64, heads=1), 5)
        eight = run_sattn(build, mask, 16384, 64, 3)
        share = eight["ms"] / HEADS if "ms" in eight else None
        line = (f"{name}, N=16384, one head: {cell_ms(one)} ms; {HEADS} heads / {HEADS}: "
                f"{f'{share:.1f}' if share else cell_ms(eight)} ms")
        if "ms" in one and share:
            line += f" (one head / per-head share: {one['ms'] / share:.2f})"
        print(line, flush=True)


def cell_ms(r):
    return f"{r['ms']:.1f}" if "ms" in r else "n/a: " + r.get("error", "?")


def run_peer(peer, name, n, d, runs, timeout):
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS), OPENBLAS_NUM_THREADS=str(THREADS))
    if peer == "openblas":  # PERF.md: let OpenBLAS pick its kernels for this CPU
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
    try:
        out = subprocess.run([sys.executable, __file__, "--peer", peer, "--pattern", name,
                              "--n", str(n), "--d", str(d), "--runs", str(runs)],
                             capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout} s"}
    if out.returncode != 0:
        lines = [l for l in out.stderr.strip().splitlines() if l.strip()]
        return {"error": (lines[-1] if lines else f"exit {out.returncode}")[:80]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(build, probe, *args):
    """Builds benchmarks/PROBE.c with the host's widest vectors and runs it on THREADS
    threads: peak.c prints the f32 FMA peak in GFLOP/s (`peak bf16`: the bf16 dot-product
    peak, 0 without AVX512_BF16), bandwidth.c the read bandwidth in GB/s."""
    exe = os.path.join(build, "benchmarks", probe)
    os.makedirs(os.path.dirname(exe), exist_ok=True)
    subprocess.run(["gcc", "-O3", "-march=native", "-fopenmp", os.path.join(HERE, f"{probe}.c"),
                    "-o", exe], check=True)
    out = subprocess.run([exe, *args], capture_output=True, text=True,
                         env=dict(os.environ, OMP_NUM_THREADS=str(THREADS)), check=True)
    return float(out.stdout.strip())


def peak_rss_mb(build, text):
    """Peak RSS (MiB) of sattn-run on a spec with random inputs."""
    with tempfile.NamedTemporaryFile("w", suffix=".mlir", delete=False) as f:
        f.write(text)
    try:
        out = subprocess.run(["/usr/bin/time", "-f", "%M", os.path.join(build, "bin", "sattn-run"),
                              f.name, "--random-inputs", "--benchmark=1", f"--threads={THREADS}"],
                             capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    return int(out.stderr.strip().splitlines()[-1]) / 1024


EMBED_SCRIPT = """
import sys, time, ctypes, numpy as np
sys.path.insert(0, {pkg!r})
import sattn
from sattn import _capi
t0 = time.perf_counter()
kernel = sattn.compile(sattn.longformer(64, [0]), (1, 8, 1024, 64), (1, 8, 1024, 64), (1, 8, 1024, 64))
compile_ms = (time.perf_counter() - t0) * 1e3
q = np.ones((1, 1, 16, 16), np.float32)
tiny = sattn.compile(sattn.causal(), q.shape, q.shape, q.shape)
tiny(q, q, q)
n = 5000
t0 = time.perf_counter()
for _ in range(n):
    tiny(q, q, q)
py_us = (time.perf_counter() - t0) / n * 1e6
# The same kernel through one prebuilt ctypes call: the kernel's own time.
o = np.empty_like(q)
args = [sattn.runtime._Arg(x) for x in (q, q, q, o)]
ins = (ctypes.POINTER(_capi.DLTensor) * 3)(*[ctypes.pointer(a.tensor) for a in args[:3]])
outs = (ctypes.POINTER(_capi.DLTensor) * 1)(ctypes.pointer(args[3].tensor))
run = _capi.lib.sattn_kernel_run
t0 = time.perf_counter()
for _ in range(n):
    run(tiny._handle, ins, 3, outs, 1)
raw_us = (time.perf_counter() - t0) / n * 1e6
print(int(kernel.from_cache), compile_ms, py_us, raw_us)
"""


def embedding(cache_dir):
    """Cache hit time in a new process and Python call overhead."""
    env = dict(os.environ, SATTN_CACHE_DIR=cache_dir, SATTN_LIBRARY=os.environ.get(
        "SATTN_LIBRARY", os.path.join(HERE, "..", "build", "lib", "libsattn-capi.so")))
    script = EMBED_SCRIPT.format(pkg=os.path.join(HERE, "..", "python"))
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           env=env, check=True).stdout.split() for _ in range(2)]
    cold, warm = runs
    print(f"C API compile, new process: {float(cold[1]):.1f} ms cold (from cache: {cold[0]}), "
          f"{float(warm[1]):.1f} ms from the disk cache (from cache: {warm[0]})")
    print(f"Python call, B=1 H=1 L=16 D=16: {float(warm[2]):.1f} us per call, kernel alone "
          f"{float(warm[3]):.1f} us: overhead {float(warm[2]) - float(warm[3]):.1f} us")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--quick", action="store_true", help="N in {1024, 4096} only")
    ap.add_argument("--ns", default=None)
    ap.add_argument("--ds", default="64,128")
    ap.add_argument("--patterns", default=",".join(PATTERNS))
    ap.add_argument("--peers", default="openblas,sdpa,flex")
    ap.add_argument("--peer-timeout", type=int, default=900)
    ap.add_argument("--embedding-only", action="store_true",
                    help="only the C API cache and Python overhead measurements")
    ap.add_argument("--decode-only", action="store_true",
                    help="only the serving tables (decode, varlen prefill)")
    # internal: run one peer case
    ap.add_argument("--families-only", action="store_true",
                    help="only the pattern families table (iteration spaces)")
    ap.add_argument("--backward-only", action="store_true",
                    help="only the backward table")
    ap.add_argument("--dtypes-only", action="store_true",
                    help="only the dense f32 / bf16 / f16 table")
    ap.add_argument("--peer")
    ap.add_argument("--pattern")
    ap.add_argument("--n", type=int)
    ap.add_argument("--d", type=int)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    unknown = set(args.peers.split(",")) - {"openblas", "sdpa", "flex", "none", ""}
    if unknown:
        ap.error(f"unknown peers {sorted(unknown)}: choose from openblas, sdpa, flex or none")
    if args.peer:
        print(json.dumps(PEERS[args.peer](args.pattern, args.n, args.d, args.runs)))
        return 0
    if args.embedding_only:
        with tempfile.TemporaryDirectory() as cache:
            embedding(cache)
        return 0
    decode_peers = [p for p in args.peers.split(",") if p in ("sdpa", "flex")]
    if args.decode_only:
        decode_table(args.build, decode_peers, args.peer_timeout)
        varlen_table(args.build, decode_peers, args.peer_timeout)
        return 0
    if args.backward_only:
        backward_table(args.build, decode_peers, args.peer_timeout)
        return 0
    if args.families_only:
        families_table(args.build, decode_peers, args.peer_timeout)
        return 0
    dtype_peers = ["sdpa_dtype"] if "sdpa" in args.peers.split(",") else []
    if args.dtypes_only:
        dtype_table(args.build, dtype_peers, measure(args.build, "peak"),
                    measure(args.build, "peak", "bf16"), args.peer_timeout)
        return 0

    ns = [int(x) for x in (args.ns or ("1024,4096" if args.quick else "1024,4096,16384")).split(",")]
    ds = [int(x) for x in args.ds.split(",")]
    peers = [p for p in args.peers.split(",") if p and p != "none"]
    peak, peak_bf16 = measure(args.build, "peak"), measure(args.build, "peak", "bf16")
    print(f"machine peak on {THREADS} threads (widest vectors, register-resident accumulators): "
          f"f32 FMA {peak:.1f} GFLOP/s, bf16 dot products "
          f"{f'{peak_bf16:.1f} GFLOP/s' if peak_bf16 else 'n/a (no AVX512_BF16)'}", flush=True)

    rows = []
    for d in ds:
        for n in ns:
            runs = 5 if n <= 4096 else 3
            for name in args.patterns.split(","):
                mask, _ = pattern(name, n)
                r = run_sattn(args.build, mask, n, d, runs)
                row = {"pattern": name, "D": d, "N": n, "sattn": r}
                if "gflops" in r:
                    kept = r["gflops"] * 1e9 * r["ms"] * 1e-3 / (2 * 2 * d * HEADS)
                    row["density"] = kept / (n * n)
                for p in peers:
                    row[p] = run_peer(p, name, n, d, max(1, runs - 2), args.peer_timeout)
                rows.append(row)
                print(json.dumps(row), flush=True)

    def cell(r, base=None):
        if "error" in r:
            return "n/a: " + r["error"]
        s = f"{r['ms']:.1f}"
        if base is not None and "ms" in base:
            s += f" ({r['ms'] / base['ms']:.1f}x)"
        return s

    print()
    print(f"B=1, H={HEADS}, f32, {THREADS} threads; peak {peak:.1f} GFLOP/s; times in ms "
          "(peer time / sattn time in parentheses)")
    header = ["pattern", "D", "N", "density", "sattn ms", "GFLOP/s", "% peak"] + [f"{p} ms" for p in peers]
    print_header(header)
    for row in rows:
        s = row["sattn"]
        ok = "gflops" in s
        cells = [row["pattern"], str(row["D"]), str(row["N"]),
                 f"{row.get('density', 0):.4f}" if ok else "-",
                 cell(s), f"{s['gflops']:.1f}" if ok else "-",
                 f"{100 * s['gflops'] / peak:.0f}%" if ok else "-"]
        cells += [cell(row[p], s) for p in peers]
        print("| " + " | ".join(cells) + " |")

    dtype_table(args.build, dtype_peers, peak, peak_bf16, args.peer_timeout)
    families_table(args.build, decode_peers, args.peer_timeout)
    decode_table(args.build, decode_peers, args.peer_timeout)
    varlen_table(args.build, decode_peers, args.peer_timeout)
    backward_table(args.build, decode_peers, args.peer_timeout)

    print()
    rss = {n: peak_rss_mb(args.build, spec(M.window(255, 0), n, 64)) for n in (1024, 32768)}
    io_growth = 4 * HEADS * 64 * 4 * (32768 - 1024) / 2**20  # Q, K, V, O in f32
    print(f"memory (causal window 256, D=64): peak RSS {rss[1024]:.0f} MiB at N=1024, "
          f"{rss[32768]:.0f} MiB at N=32768; growth {rss[32768] - rss[1024]:.0f} MiB "
          f"vs inputs+outputs growth {io_growth:.0f} MiB (+64 MiB allowed)")
    with tempfile.TemporaryDirectory() as cache:
        embedding(cache)
    for ex in ("longformer", "bigbird"):
        out = subprocess.run([os.path.join(args.build, "bin", "sattn-run"),
                              os.path.join(HERE, "..", "examples", f"{ex}.mlir"),
                              "--random-inputs", "--benchmark=1"], capture_output=True, text=True)
        m = re.search(r"JIT compile ([\d.]+) s", out.stdout)
        print(f"JIT compile of examples/{ex}.mlir: {m.group(1) if m else out.stderr.strip()} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
