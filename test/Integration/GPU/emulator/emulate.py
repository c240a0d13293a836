#!/usr/bin/env python3
"""Runs sattn's GPU kernels on the CPU, against the float64 reference.

For random cases of the differential test (../../differential.py: patterns,
compositions, presets, tails, GQA, Lq != Lk, empty rows, dynamic shapes,
LSE, f32/f16/bf16, D and Dv from 16 to 256), compiles the spec with
`-sattn-lower-to-nvvm=format=llvm` (the kernels' LLVM IR), renames the NVVM intrinsics to
the functions of nvvm_emulator.cpp, compiles that IR for the host with llc,
runs the kernel with one thread per GPU thread, and compares O (and LSE) with
docs/Semantics.md in float64: both the tensor-core and the SIMT kernels.

    emulate.py --sattn-opt build/bin/sattn-opt --llc /usr/lib/llvm-22/bin/llc
               [--cases N] [--seed S] [--case I]

Without --seed each run draws a new seed and prints it; a failure prints the
command that reruns just that case.
"""
import argparse
import concurrent.futures
import ctypes
import os
import random
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
import differential as diff  # noqa: E402
import grad  # noqa: E402
import paged  # noqa: E402
import varlen  # noqa: E402


RENAMES = {
    "llvm.nvvm.read.ptx.sreg.tid.x": "emu_tid_x",
    "llvm.nvvm.read.ptx.sreg.ctaid.x": "emu_ctaid_x",
    "llvm.nvvm.read.ptx.sreg.ctaid.y": "emu_ctaid_y",
    "llvm.nvvm.read.ptx.sreg.ctaid.z": "emu_ctaid_z",
    "llvm.nvvm.read.ptx.sreg.nctaid.x": "emu_nctaid_x",
    "llvm.nvvm.read.ptx.sreg.nctaid.y": "emu_nctaid_y",
    "llvm.nvvm.read.ptx.sreg.nctaid.z": "emu_nctaid_z",
    "llvm.nvvm.barrier.cta.sync.aligned.all": "emu_barrier",
    "llvm.nvvm.shfl.sync.bfly.f32": "emu_shfl_bfly",
    "llvm.nvvm.shfl.sync.idx.f32": "emu_shfl_idx",
    "llvm.nvvm.ex2.approx.f32": "emu_ex2",
    "llvm.nvvm.ex2.approx.ftz.f32": "emu_ex2",
    "llvm.nvvm.ldmatrix.sync.aligned.m8n8.x4.b16.p3": "emu_ldmatrix_x4",
    "llvm.nvvm.ldmatrix.sync.aligned.m8n8.x4.trans.b16.p3": "emu_ldmatrix_x4_trans",
    "llvm.nvvm.cp.async.cg.shared.global.16.s": "emu_cp_async",
    "llvm.nvvm.cp.async.commit.group": "emu_cp_async_commit",
    "llvm.nvvm.cp.async.wait.group": "emu_cp_async_wait",
    "llvm.nvvm.lg2.approx.f": "emu_lg2",
    "llvm.nvvm.membar.gl": "emu_membar",
    "llvm.nvvm.mma.m16n8k16.row.col.bf16": "emu_mma_bf16",
    "llvm.nvvm.mma.m16n8k16.row.col.f32.f32": "emu_mma_f16",
}

# The emulator's functions as the renamed calls see them; mma returns its
# struct through a wrapper around the C function (which writes 4 floats).
DECLARATIONS = """
declare i32 @emu_tid_x()
declare i32 @emu_ctaid_x()
declare i32 @emu_ctaid_y()
declare i32 @emu_ctaid_z()
declare i32 @emu_nctaid_x()
declare i32 @emu_nctaid_y()
declare i32 @emu_nctaid_z()
declare void @emu_ldmatrix(ptr, ptr, i32)
declare void @emu_cp_async(ptr, ptr, i32)
declare void @emu_cp_async_commit()
declare void @emu_cp_async_wait(i32)
declare void @emu_barrier(i32)
declare float @emu_shfl_bfly(i32, float, i32, i32)
declare float @emu_shfl_idx(i32, float, i32, i32)
declare float @emu_ex2(float)
declare float @emu_lg2(float)
declare void @emu_membar()
declare void @emu_mma(ptr, i32, i32, i32, i32, i32, i32, i32, float, float, float, float)
"""

# The host backend's f32 -> bf16 libcall, which no runtime library here has:
# round to nearest even (NaN stays NaN).
TRUNC_BF16 = """
define weak bfloat @__truncsfbf2(float %x) {
  %b = bitcast float %x to i32
  %lsb = lshr i32 %b, 16
  %odd = and i32 %lsb, 1
  %bias = add i32 %odd, 32767
  %r = add i32 %b, %bias
  %nan = fcmp uno float %x, %x
  %h = lshr i32 %r, 16
  %q = select i1 %nan, i32 32704, i32 %h
  %t = trunc i32 %q to i16
  %f = bitcast i16 %t to bfloat
  ret bfloat %f
}
"""


def return_four(elem):
    """IR returning the 4 `elem` values at %d as a struct."""
    struct = f"{{{elem}, {elem}, {elem}, {elem}}}"
    loads = "".join(f"  %p{i} = getelementptr {elem}, ptr %d, i64 {i}\n"
                    f"  %v{i} = load {elem}, ptr %p{i}\n" for i in range(4))
    build = f"  %s0 = insertvalue {struct} undef, {elem} %v0, 0\n" + "".join(
        f"  %s{i} = insertvalue {struct} %s{i - 1}, {elem} %v{i}, {i}\n" for i in range(1, 4))
    return f"{loads}{build}  ret {struct} %s3\n"


def mma_wrapper(name, operand, is_bf16):
    args = ", ".join(f"{operand} %a{i}" for i in range(6))
    cast = "".join(f"  %w{i} = bitcast {operand} %a{i} to i32\n" for i in range(6))
    words = ", ".join(f"i32 %w{i}" for i in range(6))
    return (f"define {{float, float, float, float}} @{name}({args}, float %c0, float %c1, "
            f"float %c2, float %c3) {{\n  %d = alloca [4 x float]\n{cast}"
            f"  call void @emu_mma(ptr %d, i32 {is_bf16}, {words}, float %c0, float %c1, "
            f"float %c2, float %c3)\n{return_four('float')}}}\n")


def ldmatrix_wrapper(name, trans):
    """ldmatrix.x4 returning its struct, around the C function (which writes
    4 words)."""
    return (f"define {{i32, i32, i32, i32}} @{name}(ptr %row) {{\n  %d = alloca [4 x i32]\n"
            f"  call void @emu_ldmatrix(ptr %d, ptr %row, i32 {trans})\n{return_four('i32')}}}\n")


def host_ir(ll):
    """The kernel's NVPTX LLVM IR made host IR calling the emulator."""
    out = []
    for line in ll.splitlines():
        if line.startswith(("target datalayout", "target triple", "declare")) and (
                "llvm.nvvm." in line or not line.startswith("declare")):
            continue
        out.append(line)
    ll = "\n".join(out)
    ll = ll.replace("define ptx_kernel ", "define ")
    ll = re.sub(r" addrspace\(\d+\)", "", ll)
    ll = re.sub(r"addrspacecast \(ptr (@[\w.$]+) to ptr\)", r"\1", ll)
    ll = re.sub(r"= addrspacecast ptr ", "= bitcast ptr ", ll)
    for old, new in RENAMES.items():
        ll = ll.replace(f"@{old}(", f"@{new}(")
    return (ll + "\n" + DECLARATIONS + TRUNC_BF16 + mma_wrapper("emu_mma_bf16", "i32", 1) +
            mma_wrapper("emu_mma_f16", "<2 x half>", 0) +
            ldmatrix_wrapper("emu_ldmatrix_x4", 0) + ldmatrix_wrapper("emu_ldmatrix_x4_trans", 1))


def extract_offload(text):
    """The bytes of the `offload = "..."` string of a gpu.binary."""
    i = text.index('offload = "') + len('offload = "')
    out, j = bytearray(), i
    while text[j] != '"':
        if text[j] == "\\":
            if text[j + 1] in '\\"':
                out += text[j + 1].encode("latin-1")
                j += 2
            else:
                out.append(int(text[j + 1:j + 3], 16))
                j += 3
        else:
            out += text[j].encode("latin-1")
            j += 1
    return bytes(out)


def run(args, **kw):
    proc = subprocess.run(args, capture_output=True, **kw)
    if proc.returncode:
        raise RuntimeError(f"{os.path.basename(args[0])} failed: "
                           f"{proc.stderr.decode(errors='replace')[:2000]}")
    return proc.stdout


def compile_kernel(a, spec, tensor_cores, emulator, base):
    """The emulated kernel library of a spec, and its launch: (kernel symbol,
    rows per block, threads per block), read from the #sattn.gpu_launch the
    conversion writes."""
    with open(base + ".mlir", "w") as f:
        f.write(spec)
    converted = run([a.sattn_opt, base + ".mlir", "-sattn-expand-presets",
                     f"-convert-sattn-to-gpu=tensor-cores={int(tensor_cores)}"]).decode()
    facts = re.search(r"kernel = @\w+::@(\w+), tile = <rows = (\d+), keys = (\d+)>.*"
                      r"threads = (\d+)", converted)
    shape = (facts.group(1), int(facts.group(2)), int(facts.group(3)), int(facts.group(4)))
    if f"@{shape[0]}_order" in converted:
        HEAVY_FIRST.add(base)
    calls = re.search(r"calls = (\d+), part_slots = (\d+)>", converted)
    if calls:
        PARTS[base] = (int(calls.group(1)), int(calls.group(2)))
    binary = run([a.sattn_opt, base + ".mlir",
                  f"-sattn-lower-to-nvvm=format=llvm chip=sm_80 "
                  f"tensor-cores={int(tensor_cores)}"]).decode("latin-1")
    with open(base + ".bc", "wb") as f:
        f.write(extract_offload(binary))
    ll = run([os.path.join(os.path.dirname(a.llc), "llvm-dis"), base + ".bc", "-o", "-"]).decode()
    with open(base + ".ll", "w") as f:
        f.write(host_ir(ll))
    run([a.llc, "-O1", "-relocation-model=pic", "-filetype=obj", base + ".ll", "-o", base + ".o"])
    run(["c++", "-shared", base + ".o", emulator, "-lpthread", "-o", base + ".so"])
    return ctypes.CDLL(base + ".so"), shape


# The kernels whose blocks take their query tiles from a heaviest-first order
# table (static plans with uneven work per query tile), and those whose heavy
# query tiles are cut into parts: (calls, partial-result slots per head).
HEAVY_FIRST = set()
PARTS = {}


def run_case(a, c, tensor_cores, emulator, workdir):
    base = os.path.join(workdir, f"case{c['index']}_{int(tensor_cores)}")
    lib, (kernel, rows, _, threads) = compile_kernel(a, diff.spec_text(c), tensor_cores,
                                                    emulator, base)
    arrays = diff.make_inputs(c)
    q, k, v = (np.ascontiguousarray(arrays[n]) for n in "qkv")
    b, hq, hkv, lq, lk, dv = (c[n] for n in ("batch", "hq", "hkv", "lq", "lk", "dv"))
    # NaN-filled: values the kernel does not write show up as NaN.
    o = np.full((b, hq, lq, dv), np.nan, dtype=q.dtype)
    lse = np.full((b, hq, lq), np.nan, dtype=np.float32)
    args = []
    for x in (q, k, v, o, lse):
        args += [x.ctypes.data, x.ctypes.data, 0, x.size, 1]
    args += [hq, hkv, lq, lk]
    grid_x = -(-lq // rows)
    if base in PARTS:  # the workspace of the parts, counters zero
        grid_x, slots = PARTS[base]
        partials = np.zeros(b * hq * slots * rows * (dv + 1), np.float32)
        counters = np.zeros(b * hq * slots, np.int32)
        for x in (partials, counters):
            args += [x.ctypes.data, x.ctypes.data, 0, x.size, 1]
    launch(lib, kernel, args, (grid_x, hq, b), threads)
    if base in PARTS and counters.any():
        return f"the part counters are not back to 0: {counters}"
    return diff.check_outputs(c, arrays, o, lse if c["lse"] else None)


def run_paged_case(a, c, tensor_cores, emulator, workdir):
    """A case of paged.py: the kernel reads K/V through the block table."""
    base = os.path.join(workdir, f"paged{c['index']}_{int(tensor_cores)}")
    lib, (kernel, rows, _, threads) = compile_kernel(a, paged.spec_text(c), tensor_cores,
                                                    emulator, base)
    arrays = paged.make_inputs(c)
    b, hq, lq, dv = c["batch"], c["hq"], c["lq"], c["dv"]
    o = np.full((b, hq, lq, dv), np.nan, dtype=arrays["q"].dtype)
    lse = np.full((b, hq, lq), np.nan, dtype=np.float32)
    flat = lambda x: [x.ctypes.data, x.ctypes.data, 0, x.size, 1]
    args = []
    for x in (arrays["q"], arrays["kc"], arrays["vc"], o, lse):
        args += flat(x)
    args += [hq, c["hkv"], lq, 0] + flat(arrays["t"]) + flat(arrays["n"])
    args += [c["num_pages"], c["max_pages"]]
    launch(lib, kernel, args, (-(-lq // rows), hq, b), threads)
    return paged.check(c, arrays, o, lse if c["lse"] else None)


def run_varlen_case(a, c, tensor_cores, emulator, workdir):
    """A case of varlen.py: the kernel reads each sequence's rows of the
    token-major tensors through cu_seqlens."""
    base = os.path.join(workdir, f"varlen{c['index']}_{int(tensor_cores)}")
    lib, (kernel, rows, _, threads) = compile_kernel(a, varlen.spec_text(c), tensor_cores,
                                                    emulator, base)
    arrays = varlen.make_inputs(c)
    tq, tk, hq = sum(c["lq"]), sum(c["lk"]), c["hq"]
    o = np.full((tq, hq, c["dv"]), np.nan, dtype=arrays["q"].dtype)
    lse = np.full((hq, tq), np.nan, dtype=np.float32)
    flat = lambda x: [x.ctypes.data, x.ctypes.data, 0, x.size, 1]
    args = []
    for x in (arrays["q"], arrays["k"], arrays["v"], o, lse):
        args += flat(x)
    args += [hq, c["hkv"], tq, tk] + flat(arrays["cq"]) + flat(arrays["ck"])
    # The runtime's grid: the most query tiles of any sequence.
    launch(lib, kernel, args, (max(-(-n // rows) for n in c["lq"]), hq, len(c["lq"])), threads)
    return varlen.check(c, arrays, o, lse if c["lse"] else None)


def run_grad_case(a, c, tensor_cores, emulator, workdir):
    """A case of grad.py: the backward kernel's dQ, dK, dV against the float64
    gradients."""
    base = os.path.join(workdir, f"grad{c['index']}_{int(tensor_cores)}")
    lib, (kernel, rows, keys, threads) = compile_kernel(a, grad.spec_text(c), tensor_cores,
                                                        emulator, base)
    arrays = grad.make_inputs(c)
    b, hq, hkv, lq, lk = (c[n] for n in ("batch", "hq", "hkv", "lq", "lk"))
    # NaN-filled: values the kernel does not write show up as NaN.
    got = [np.full(arrays[n].shape, np.nan, dtype=arrays[n].dtype) for n in "qkv"]
    args = []
    for x in [arrays[n] for n in ("q", "k", "v", "o", "do", "lse")] + got:
        args += [x.ctypes.data, x.ctypes.data, 0, x.size, 1]
    args += [hq, hkv, lq, lk]
    launch(lib, kernel, args, (-(-lk // keys) - (-lq // rows), hq, b), threads)
    return grad.check(c, arrays, got)


def launch(lib, kernel, args, grid, threads):
    """Runs `kernel` of the emulated kernel library with these flat
    parameters on a grid of blocks of `threads` threads."""
    lib.emu_launch.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p] + [ctypes.c_int] * 4
    lib.emu_launch(ctypes.cast(getattr(lib, kernel), ctypes.c_void_p), len(args),
                   (ctypes.c_int64 * len(args))(*args), *grid, threads)


def run_jobs(a, cases, run_one):
    """Builds the emulator, runs each case with tensor cores on and off through
    run_one(a, case, tensor_cores, emulator, workdir) and returns the failures
    as (case, tensor_cores, error)."""
    with tempfile.TemporaryDirectory() as workdir:
        emulator = os.path.join(workdir, "nvvm_emulator.o")
        run(["c++", "-std=c++17", "-O1", "-fPIC", "-c", os.path.join(HERE, "nvvm_emulator.cpp"),
             "-o", emulator])
        jobs = [(c, tc) for c in cases for tc in (True, False)]
        with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
            results = pool.map(lambda j: (j, run_one(a, j[0], j[1], emulator, workdir)), jobs)
            return [(c, tc, error) for (c, tc), error in results if error]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sattn-opt", required=True)
    ap.add_argument("--llc", required=True)
    ap.add_argument("--cases", type=int, default=int(os.environ.get("SATTN_EMU_CASES", 8)))
    ap.add_argument("--seed", type=int, help="default: a new one each run")
    ap.add_argument("--case", type=int, help="run only case I of the seed's sequence")
    ap.add_argument("--garbage", action="store_true", help="garbage in the unkept keys of every case")
    ap.add_argument("--masks", choices=sorted(diff.MASKS), default="all",
                    help="heavy: global rows (query tiles heaviest first, heavy ones as parts)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--paged", action="store_true",
                    help="sattn.paged_attention cases of paged.py instead")
    ap.add_argument("--varlen", action="store_true",
                    help="sattn.varlen_attention cases of varlen.py instead")
    ap.add_argument("--grad", action="store_true",
                    help="sattn.attention_grad cases of grad.py instead")
    a = ap.parse_args()
    seed = diff.new_seed() if a.seed is None else a.seed
    if a.paged or a.varlen or a.grad:
        return main_serving(a, seed, paged if a.paged else varlen if a.varlen else grad)
    # The differential test's sequence, less the cases too big for the GPU.
    cases = [c for c in diff.make_cases(seed, a.cases * 3, a.case, a.garbage,
                                        diff.MASKS[a.masks]) if diff.fits_gpu(c)]
    cases = cases[:a.cases]
    failures = run_jobs(a, cases, run_case)
    print(f"seed {seed}: {len(cases)} random cases, each with tensor-cores on and off "
          f"({sum(c['dtype'] != 'f32' for c in cases)} f16/bf16, "
          f"{sum(c['dynamic'] for c in cases)} dynamic, {sum(c['hq'] != c['hkv'] for c in cases)} GQA, "
          f"{sum(c['lse'] for c in cases)} with LSE, {sum(c['garbage'] for c in cases)} with garbage "
          f"in unkept keys, {sum(c['softcap'] is not None for c in cases)} softcap, "
          f"{sum(c['alibi'] is not None for c in cases)} ALiBi; "
          f"{len(HEAVY_FIRST)} kernels ran their query tiles heaviest first, "
          f"{len(PARTS)} cut heavy query tiles into parts)")
    for c, tc, error in failures[:10]:
        print(f"FAILED case {c['index']} of seed {seed} (tensor-cores={int(tc)}, "
              f"{diff.describe(c)}): {error}\n{diff.spec_text(c)}"
              f"rerun: {sys.argv[0]} --sattn-opt {a.sattn_opt} --llc {a.llc} --seed {seed} "
              f"--case {c['index']}{' --garbage' if a.garbage else ''}\n")
    print(f"{2 * len(cases) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


def main_serving(a, seed, op):
    """Random cases of paged.py, varlen.py or grad.py (`op`)."""
    name = op.__name__
    rng = random.Random(seed)
    cases = [op.make_case(rng, i, diff.MASKS[a.masks])
             for i in range(a.cases if a.case is None else a.case + 1)]
    cases = [c for c in cases[a.case or 0:] if diff.fits_gpu(c)]
    failures = run_jobs(a, cases, {paged: run_paged_case, varlen: run_varlen_case,
                                   grad: run_grad_case}[op])
    gaps = f" ({grad.known_gaps(cases)} within the known Delta gap)" if op is grad else ""
    print(f"seed {seed}: {len(cases)} random {name} cases, each with tensor-cores on and off{gaps}")
    for c, tc, error in failures[:10]:
        print(f"FAILED {name} case {c['index']} of seed {seed} (tensor-cores={int(tc)}, "
              f"{op.describe(c)}): {error}\n{op.spec_text(c)}"
              f"rerun: {sys.argv[0]} --sattn-opt {a.sattn_opt} --llc {a.llc} --{name} "
              f"--seed {seed} --case {c['index']}\n")
    print(f"{2 * len(cases) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
