#!/usr/bin/env python3
"""Prepares the GPU device check (run here, where LLVM/MLIR are).

For every pattern of the CPU benchmark (plus the GPU targets' causal window
1024), compiles with `sattn-compile --target=nvvm --emit=header`:
  - check kernels: B = 1, Hq = 4, Hkv = 2 (GQA), N = 1000 (a tail), D = 128,
    bf16, on tensor cores and (role check_simt) with --tensor-cores=false,
    with the boolean mask (one file per pattern) as .npy for the float64
    reference there;
  - a timing kernel: B = 1, H = 16, N = 16384, D = 128, bf16 (the issue's
    shape), with the 64 x 64 block layout FlexAttention needs;
  - for GRAD_PATTERNS, the backward (sattn.attention_grad) at the check and
    the timing shapes (roles grad_check, grad_time);
then writes harness.c (every header behind two exported functions) and
manifest.json into benchmarks/gpu/artifacts/. benchmarks/gpu/run.sh builds
and runs them on the GPU machine (CUDA, PyTorch; no LLVM/MLIR).

    benchmarks/gpu/prepare.py --build build
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))

import bench  # noqa: E402  (the CPU benchmark's patterns)
from sattn import mask as M  # noqa: E402

CHECK = dict(batch=1, hq=4, hkv=2, n=1000, d=128)
TIME = dict(batch=1, hq=16, hkv=16, n=16384, d=128)
BLOCK = 64


def pattern(name, n):
    """(sattn mask, FlexAttention mask_mod expression) of a pattern."""
    if name == "causal_window_1024":
        return M.window(1024, 0), "(kv <= q) & (q - kv <= 1024)"
    return bench.pattern(name, n)


PATTERNS = bench.PATTERNS[:3] + ["causal_window_1024"] + bench.PATTERNS[3:]
# The backward's patterns (after every forward kernel in the check).
# Kernels whose heavy query tiles run as parts: the timing run's first rows
# (the global rows' tile, merged from its parts, and a whole tile) are checked
# on the GPU, where the parts' fences and counters meet real concurrency.
PART_CHECK_ROWS = 256
GRAD_PATTERNS = ["causal", "causal_window_256", "longformer_512"]


def spec(mask, c):
    q = f"tensor<{c['batch']}x{c['hq']}x{c['n']}x{c['d']}xbf16>"
    kv = f"tensor<{c['batch']}x{c['hkv']}x{c['n']}x{c['d']}xbf16>"
    return (f"func.func @attention(%q: {q}, %k: {kv}, %v: {kv}) -> {q} {{\n"
            f"  %o = sattn.attention %q, %k, %v mask({mask.text}) : ({q}, {kv}, {kv}) -> {q}\n"
            f"  return %o : {q}\n}}\n")


def grad_spec(mask, c):
    q = f"tensor<{c['batch']}x{c['hq']}x{c['n']}x{c['d']}xbf16>"
    kv = f"tensor<{c['batch']}x{c['hkv']}x{c['n']}x{c['d']}xbf16>"
    lse = f"tensor<{c['batch']}x{c['hq']}x{c['n']}xf32>"
    operands = ", ".join([q, kv, kv, q, q, lse])
    return (f"func.func @grad(%q: {q}, %k: {kv}, %v: {kv}, %o: {q}, %do: {q}, %lse: {lse})"
            f" -> ({q}, {kv}, {kv}) {{\n"
            f"  %dq, %dk, %dv = sattn.attention_grad %q, %k, %v, %o, %do, %lse mask({mask.text})"
            f" : ({operands}) -> ({q}, {kv}, {kv})\n"
            f"  return %dq, %dk, %dv : {q}, {kv}, {kv}\n}}\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default=os.path.join(HERE, "artifacts"))
    args = ap.parse_args()
    compiler = os.path.join(args.build, "bin", "sattn-compile")
    os.makedirs(args.out, exist_ok=True)
    manifest = []
    kernels = [(name, role, c) for name in PATTERNS
               for role, c in (("check", CHECK), ("check_simt", CHECK), ("time", TIME))]
    kernels += [(name, role, c) for name in GRAD_PATTERNS
                for role, c in (("grad_check", CHECK), ("grad_time", TIME))]
    for name, role, c in kernels:
        mask, flex = pattern(name, c["n"])
        tag = f"{name}_{role}"
        grad = role.startswith("grad")
        with open(os.path.join(args.out, tag + ".mlir"), "w") as f:
            f.write(grad_spec(mask, c) if grad else spec(mask, c))
        subprocess.run([compiler, os.path.join(args.out, tag + ".mlir"), "--target=nvvm",
                        "--emit=header", "-o", os.path.join(args.out, tag + ".h"),
                        f"--tensor-cores={str(role != 'check_simt').lower()}"], check=True)
        # The header's names: sattn_attention_* (sattn_grad_*); one prefix
        # per kernel.
        fn = "grad" if grad else "attention"
        with open(os.path.join(args.out, tag + ".h")) as f:
            text = f.read().replace(f"sattn_{fn}_", f"sattn_{tag}_")
        with open(os.path.join(args.out, tag + ".h"), "w") as f:
            f.write(text.replace(f"SATTN_GPU_KERNEL_{fn.upper()}_H", f"SATTN_GPU_{tag.upper()}_H"))
        # Heavy query tiles run as parts: the launcher takes a workspace.
        entry = dict(name=name, role=role, tag=tag, flex=flex,
                     parts=f"sattn_{tag}_partials_bytes" in text, **c)
        if role == "check":  # one mask file for the check kernels
            np.save(os.path.join(args.out, name + ".mask.npy"),
                    np.ascontiguousarray(mask.evaluate(c["n"], c["n"])))
        elif role in ("time", "grad_time"):
            keep = mask.evaluate(c["n"], c["n"])
            entry["kept_pairs"] = int(keep.sum())
            if entry["parts"]:  # the rows of the heavy tile and the next, checked
                np.save(os.path.join(args.out, tag + ".rows.npy"),
                        np.ascontiguousarray(keep[:PART_CHECK_ROWS]))
            if "LAYOUT" in flex:
                np.save(os.path.join(args.out, tag + ".layout.npy"),
                        np.ascontiguousarray(keep[::BLOCK, ::BLOCK]))
        manifest.append(entry)
        print(f"prepared {tag}", flush=True)
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    with open(os.path.join(args.out, "harness.c"), "w") as f:
        f.write("/* Generated by benchmarks/gpu/prepare.py: every kernel behind three calls. */\n")
        for e in manifest:
            f.write(f'#include "{e["tag"]}.h"\n')
        f.write("\nint sattn_bench_load(int i, CUmodule *m, CUfunction *k) {\n  switch (i) {\n")
        for i, e in enumerate(manifest):
            f.write(f"  case {i}: return sattn_{e['tag']}_load(m, k);\n")
        f.write("  }\n  return CUDA_ERROR_INVALID_VALUE;\n}\n\n")
        # The workspace of kernel i (0 bytes without parts): partials, and
        # counters (zeroed once by the caller, left zero by every launch).
        f.write("size_t sattn_bench_workspace(int i, int64_t b, int64_t hq, size_t *counters) {\n"
                "  switch (i) {\n")
        for i, e in enumerate(manifest):
            if e["parts"]:
                f.write(f"  case {i}:\n    *counters = sattn_{e['tag']}_part_counters_bytes(b, hq);\n"
                        f"    return sattn_{e['tag']}_partials_bytes(b, hq);\n")
        f.write("  }\n  *counters = 0;\n  return 0;\n}\n\n")
        f.write("int sattn_bench_launch(int i, CUfunction k, CUdeviceptr q, CUdeviceptr kk,\n"
                "                       CUdeviceptr v, CUdeviceptr o, int64_t b, int64_t hq,\n"
                "                       int64_t hkv, int64_t n, CUdeviceptr partials,\n"
                "                       CUdeviceptr counters, CUstream s) {\n  switch (i) {\n")
        for i, e in enumerate(manifest):
            if not e["role"].startswith("grad"):
                work = "partials, counters, " if e["parts"] else ""
                f.write(f"  case {i}: return sattn_{e['tag']}_launch(k, q, kk, v, o, 0, b, hq, hkv, "
                        f"n, n, {work}s);\n")
        f.write("  }\n  return CUDA_ERROR_INVALID_VALUE;\n}\n\n")
        f.write("int sattn_bench_grad_launch(int i, CUfunction k, CUdeviceptr q, CUdeviceptr kk,\n"
                "                            CUdeviceptr v, CUdeviceptr o, CUdeviceptr d_o,\n"
                "                            CUdeviceptr lse, CUdeviceptr dq, CUdeviceptr dk,\n"
                "                            CUdeviceptr dv, int64_t b, int64_t hq, int64_t hkv,\n"
                "                            int64_t n, CUstream s) {\n  switch (i) {\n")
        for i, e in enumerate(manifest):
            if e["role"].startswith("grad"):
                f.write(f"  case {i}: return sattn_{e['tag']}_launch(k, q, kk, v, o, d_o, lse, dq, dk, "
                        "dv, b, hq, hkv, n, n, s);\n")
        f.write("  }\n  return CUDA_ERROR_INVALID_VALUE;\n}\n")
    size = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out))
    print(f"{len(manifest)} kernels in {args.out}, {size / 2**20:.1f} MiB (carried: keep it under 64)")


if __name__ == "__main__":
    main()
