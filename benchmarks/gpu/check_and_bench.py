#!/usr/bin/env python3
"""The GPU device check (runs on the lent GPU machine: CUDA, PyTorch 2.11,
no LLVM/MLIR, no network), on the artifacts of prepare.py through the
harness run.sh builds from the sattn-compile headers. sattn first, so that
its numbers arrive even if a peer is slow:

1. Correctness: every pattern, bf16, B=1, Hq=4, Hkv=2, N=1000, D=128, random
   inputs, on tensor cores and on the SIMT kernel: sattn against float64
   attention with the pattern's boolean mask (torch on the GPU); relative
   error <= 1e-2, no NaN.
2. sattn's speed: every pattern, bf16, B=1, H=16, N=16384, D=128; CUDA
   events, 3 warm-up runs, median of 10. Kernels whose heavy query tiles
   run as parts (longformer, bigbird) then have their first rows checked
   against float64: the parts' merge under real concurrency.
3. The peers on PEER_PATTERNS: FlexAttention (torch.compile, BlockMask from
   the same mask; dynamo's recompile limit raised, since each mask is a new
   function and past the default limit Flex silently falls back to an
   unfused path that builds the whole score matrix) and SDPA's flash
   backend where it applies (dense, causal).
4. A table: ms, useful TFLOP/s (4 D kept pairs per head), sattn / Flex and
   sattn / SDPA-flash (as speed ratios: > 1 is sattn faster).
5. The backward (sattn.attention_grad) on GRAD patterns: dQ, dK, dV at the
   check shape against float64 autograd of the reference (relative error
   <= 2e-2, no NaN), then its time at the timing shape (10 D kept pairs per
   head), with Flex's and SDPA flash's backward on causal. Last, so that a
   failure here leaves the forward's numbers standing.

    python3 check_and_bench.py --artifacts artifacts --harness harness.so
"""
import argparse
import ctypes
import json
import os
import statistics
import sys
import time

import numpy as np
import torch


# The patterns the peers run on (the GPU issue's bars); sattn runs all.
PEER_PATTERNS = ["causal", "causal_window_256", "bigbird_64_3_2_3", "longformer_512"]


def log(*a):
    print(*a, flush=True)


class Harness:
    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        self.lib.sattn_bench_load.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
        self.lib.sattn_bench_launch.argtypes = (
            [ctypes.c_int, ctypes.c_void_p] + [ctypes.c_uint64] * 4 + [ctypes.c_int64] * 4 +
            [ctypes.c_uint64] * 2 + [ctypes.c_void_p])
        self.lib.sattn_bench_workspace.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64,
                                                   ctypes.c_void_p]
        self.lib.sattn_bench_workspace.restype = ctypes.c_size_t
        self.workspaces = {}
        self.lib.sattn_bench_grad_launch.argtypes = (
            [ctypes.c_int, ctypes.c_void_p] + [ctypes.c_uint64] * 9 + [ctypes.c_int64] * 4 +
            [ctypes.c_void_p])
        self.kernels = {}

    def kernel(self, i):
        if i not in self.kernels:
            module, fn = ctypes.c_void_p(), ctypes.c_void_p()
            r = self.lib.sattn_bench_load(i, ctypes.byref(module), ctypes.byref(fn))
            if r != 0:
                raise RuntimeError(f"loading kernel {i}: CUDA error {r}")
            self.kernels[i] = fn
        return self.kernels[i]

    def workspace(self, i, b, hq):
        """Kernel i's partials and zeroed counters (heavy query tiles run as
        parts), allocated once: each launch leaves the counters zero."""
        if (i, b, hq) not in self.workspaces:
            counters = ctypes.c_size_t()
            partials = self.lib.sattn_bench_workspace(i, b, hq, ctypes.byref(counters))
            self.workspaces[(i, b, hq)] = [
                torch.zeros(max(n, 1), dtype=torch.uint8, device="cuda")
                for n in (partials, counters.value)]
        return self.workspaces[(i, b, hq)]

    def run(self, i, q, k, v, o):
        stream = torch.cuda.current_stream().cuda_stream
        partials, counters = self.workspace(i, q.shape[0], q.shape[1])
        r = self.lib.sattn_bench_launch(i, self.kernel(i), q.data_ptr(), k.data_ptr(), v.data_ptr(),
                                        o.data_ptr(), q.shape[0], q.shape[1], k.shape[1],
                                        q.shape[2], partials.data_ptr(), counters.data_ptr(),
                                        stream)
        if r != 0:
            raise RuntimeError(f"launching kernel {i}: CUDA error {r}")


    def run_grad(self, i, q, k, v, o, do, lse, dq, dk, dv):
        stream = torch.cuda.current_stream().cuda_stream
        r = self.lib.sattn_bench_grad_launch(
            i, self.kernel(i), *(x.data_ptr() for x in (q, k, v, o, do, lse, dq, dk, dv)),
            q.shape[0], q.shape[1], k.shape[1], q.shape[2], stream)
        if r != 0:
            raise RuntimeError(f"launching kernel {i}: CUDA error {r}")


def inputs(e, dtype=torch.bfloat16, seed=0):
    g = torch.Generator(device="cuda").manual_seed(seed)
    shape = lambda h: (e["batch"], h, e["n"], e["d"])  # noqa: E731
    return [torch.rand(shape(h), generator=g, device="cuda").mul(2).sub(1).to(dtype)
            for h in (e["hq"], e["hkv"], e["hkv"])]


def reference(q, k, v, keep):
    """docs/Semantics.md in float64: softmax over kept keys (empty rows give 0), GQA."""
    q, k, v = (x.double() for x in (q, k, v))
    g = q.shape[1] // k.shape[1]
    k, v = k.repeat_interleave(g, 1), v.repeat_interleave(g, 1)
    s = (q @ k.transpose(-1, -2)) / q.shape[-1] ** 0.5
    s = s.masked_fill(~keep, float("-inf"))
    m = s.amax(-1, keepdim=True)
    empty = torch.isinf(m)
    p = torch.exp(s - torch.where(empty, torch.zeros_like(m), m))
    return torch.where(empty, torch.zeros_like(m), (p @ v) / p.sum(-1, keepdim=True).clamp_min(1e-300))


def rel_err(got, want):
    """Relative error in float64 and the NaN count of `got`."""
    err = float((got.double() - want).norm() / want.norm().clamp_min(1e-30))
    return err, int(torch.isnan(got).sum())


def time_ms(fn, warmup=3, runs=10):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(runs):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--harness", required=True)
    ap.add_argument("--deadline", type=float, default=240,
                    help="seconds; the peers of later patterns are skipped")
    args = ap.parse_args()
    t0 = time.time()
    torch.empty(1, device="cuda")  # makes the primary context current
    log(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}")
    manifest = json.load(open(os.path.join(args.artifacts, "manifest.json")))
    h = Harness(args.harness)
    failures = 0

    log("\n== correctness (bf16, B=1, Hq=4, Hkv=2, N=1000, D=128) ==")
    for i, e in enumerate(manifest):
        if not e["role"].startswith("check"):
            continue
        q, k, v = inputs(e)
        o = torch.empty_like(q)
        try:
            h.run(i, q, k, v, o)
            torch.cuda.synchronize()
        except RuntimeError as err:
            log(f"{e['name']:22s} {e['role']:10s} FAILED: {err}")
            failures += 1
            continue
        keep = torch.from_numpy(np.load(os.path.join(args.artifacts, e["name"] + ".mask.npy"))).cuda()
        want = reference(q, k, v, keep)
        err, nan = rel_err(o, want)
        ok = err <= 1e-2 and nan == 0
        failures += not ok
        log(f"{e['name']:22s} {e['role']:10s} rel err {err:.2e}, {nan} NaN: "
            f"{'ok' if ok else 'FAILED'}")

    log("\n== sattn speed (bf16, B=1, H=16, N=16384, D=128; ms, median of 10 after 3 warm-up) ==")
    rows = {}
    for i, e in enumerate(manifest):
        if e["role"] != "time":
            continue
        q, k, v = inputs(e)
        o = torch.empty_like(q)
        row = rows[e["name"]] = {"entry": e, "flops": 4.0 * e["d"] * e["kept_pairs"] * e["batch"] * e["hq"]}
        try:
            row["sattn"] = time_ms(lambda: h.run(i, q, k, v, o))
        except RuntimeError as err:
            row["sattn_error"] = str(err)
            failures += 1
        log(f"{e['name']:22s} {row.get('sattn', row.get('sattn_error'))}")
        if e.get("parts") and "sattn" in row:
            # After 13 launches on one workspace: the rows merged from the
            # heavy tile's parts (and a whole tile) against float64.
            keep = torch.from_numpy(np.load(os.path.join(args.artifacts, e["tag"] + ".rows.npy")))
            n = keep.shape[0]
            err, nan = rel_err(o[:, :, :n], reference(q[:, :, :n], k, v, keep.cuda()))
            ok = err <= 1e-2 and nan == 0
            failures += not ok
            log(f"{'':22s} rows 0-{n - 1} (heavy tile as parts) rel err {err:.2e}, {nan} NaN: "
                f"{'ok' if ok else 'FAILED'}")
        del q, k, v, o

    log(f"\n== peers on {', '.join(PEER_PATTERNS)} ==")
    import torch._dynamo
    for limit in ("recompile_limit", "cache_size_limit", "accumulated_recompile_limit"):
        if hasattr(torch._dynamo.config, limit):
            setattr(torch._dynamo.config, limit, 1024)
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention
    flex = torch.compile(flex_attention)
    for name in PEER_PATTERNS:
        if name not in rows:
            continue
        if time.time() - t0 > args.deadline:
            log(f"{name}: peers skipped (deadline)")
            continue
        row, e = rows[name], rows[name]["entry"]
        q, k, v = inputs(e)
        layout = None
        if os.path.exists(os.path.join(args.artifacts, e["tag"] + ".layout.npy")):
            layout = torch.from_numpy(np.load(os.path.join(args.artifacts, e["tag"] + ".layout.npy"))).cuda()
        mask_mod = eval(f"lambda b, h, q, kv: {e['flex']}", {"LAYOUT": layout})  # noqa: S307
        try:
            bm = create_block_mask(mask_mod, None, None, e["n"], e["n"], device="cuda")
            row["flex"] = time_ms(lambda: flex(q, k, v, block_mask=bm))
        except Exception as err:  # noqa: BLE001 (report any peer failure)
            row["flex_error"] = f"{type(err).__name__}: {err}"[:120]
        if name in ("dense", "causal"):
            try:
                f = torch.nn.functional.scaled_dot_product_attention
                with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                    row["sdpa"] = time_ms(lambda: f(q, k, v, is_causal=name == "causal"))
            except Exception as err:  # noqa: BLE001
                row["sdpa_error"] = f"{type(err).__name__}: {err}"[:120]
        log(f"{name:22s} flex {row.get('flex', row.get('flex_error'))}, "
            f"sdpa flash {row.get('sdpa', row.get('sdpa_error', '-'))}")
        del q, k, v
        torch.cuda.empty_cache()

    tflops = lambda r, key: r["flops"] / (r[key] * 1e-3) * 1e-12 if key in r else None  # noqa: E731
    fmt = lambda x: "-" if x is None else f"{x:.2f}"  # noqa: E731
    log("\n| pattern | sattn ms | sattn TFLOP/s | Flex ms | Flex TFLOP/s | sattn / Flex "
        "| SDPA flash ms | sattn / SDPA flash |")
    log("|---|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        ratio = lambda key: r[key] / r["sattn"] if key in r and "sattn" in r else None  # noqa: E731
        log(f"| {name} | {fmt(r.get('sattn'))} | {fmt(tflops(r, 'sattn'))} | {fmt(r.get('flex'))} | "
            f"{fmt(tflops(r, 'flex'))} | {fmt(ratio('flex'))} | {fmt(r.get('sdpa'))} | "
            f"{fmt(ratio('sdpa'))} |")
    try:
        failures += check_backward(args, manifest, h, t0)
    except Exception as err:  # noqa: BLE001 (the forward's results stand)
        log(f"backward section FAILED: {type(err).__name__}: {err}")
        failures += 1
    log(f"\ncorrectness failures: {failures}; {time.time() - t0:.0f} s")
    return 1 if failures else 0


def reference_lse(q, k, keep):
    """LSE of docs/Semantics.md in float64 (-inf for empty rows), GQA."""
    g = q.shape[1] // k.shape[1]
    s = (q.double() @ k.double().repeat_interleave(g, 1).transpose(-1, -2)) / q.shape[-1] ** 0.5
    return s.masked_fill(~keep, float("-inf")).logsumexp(-1)


def check_backward(args, manifest, h, t0):
    """Section 5; returns the number of failures."""
    failures = 0
    log("\n== backward correctness (bf16, B=1, Hq=4, Hkv=2, N=1000, D=128) ==")
    for i, e in enumerate(manifest):
        if e["role"] != "grad_check":
            continue
        q, k, v = inputs(e)
        keep = torch.from_numpy(np.load(os.path.join(args.artifacts, e["name"] + ".mask.npy"))).cuda()
        leaves = [x.double().requires_grad_() for x in (q, k, v)]
        o64 = reference(*leaves, keep)
        do = torch.rand_like(q).mul(2).sub(1)
        want = torch.autograd.grad(o64, leaves, do.double())
        o, lse = o64.detach().to(q.dtype), reference_lse(q, k, keep).float()
        got = [torch.empty_like(x) for x in (q, k, v)]
        try:
            h.run_grad(i, q, k, v, o, do, lse, *got)
            torch.cuda.synchronize()
        except RuntimeError as err:
            log(f"{e['name']:22s} grad FAILED: {err}")
            failures += 1
            continue
        errs, nans = zip(*(rel_err(g, w) for g, w in zip(got, want)))
        nan = sum(nans)
        ok = max(errs) <= 2e-2 and nan == 0
        failures += not ok
        log(f"{e['name']:22s} dQ {errs[0]:.2e} dK {errs[1]:.2e} dV {errs[2]:.2e}, {nan} NaN: "
            f"{'ok' if ok else 'FAILED'}")

    log("\n== backward speed (bf16, B=1, H=16, N=16384, D=128; ms, median of 10) ==")
    rows = {}
    for i, e in enumerate(manifest):
        if e["role"] != "grad_time":
            continue
        q, k, v = inputs(e)
        do = torch.rand_like(q)
        o = torch.rand_like(q)
        # The timing needs a plausible LSE, not the true one: log(N) keeps P
        # below 1 for these inputs.
        lse = torch.full(q.shape[:-1], float(np.log(e["n"])), device="cuda")
        got = [torch.empty_like(x) for x in (q, k, v)]
        row = rows[e["name"]] = {"flops": 10.0 * e["d"] * e["kept_pairs"] * e["batch"] * e["hq"]}
        row["sattn"] = time_ms(lambda: h.run_grad(i, q, k, v, o, do, lse, *got))
        if e["name"] == "causal" and time.time() - t0 < args.deadline:
            from torch.nn.attention import SDPBackend, sdpa_kernel
            from torch.nn.attention.flex_attention import create_block_mask, flex_attention
            leaves = [x.detach().requires_grad_() for x in (q, k, v)]
            with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                out = torch.nn.functional.scaled_dot_product_attention(*leaves, is_causal=True)
            row["sdpa"] = time_ms(lambda: torch.autograd.grad(out, leaves, do, retain_graph=True))
            bm = create_block_mask(lambda b, hh, qi, kv: kv <= qi, None, None, e["n"], e["n"],
                                   device="cuda")
            out = torch.compile(flex_attention)(*leaves, block_mask=bm)
            row["flex"] = time_ms(lambda: torch.autograd.grad(out, leaves, do, retain_graph=True))
        tf = lambda key: row["flops"] / (row[key] * 1e-3) * 1e-12  # noqa: E731
        peers = "".join(f", {p} {row[p]:.2f} ms ({tf(p):.1f} TFLOP/s, sattn / {p} "
                        f"{row[p] / row['sattn']:.2f})" for p in ("flex", "sdpa") if p in row)
        log(f"{e['name']:22s} sattn {row['sattn']:.2f} ms ({tf('sattn'):.1f} TFLOP/s){peers}")
        del q, k, v, do, o, got
        torch.cuda.empty_cache()
    return failures


if __name__ == "__main__":
    sys.exit(main())
