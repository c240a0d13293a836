#!/usr/bin/env python3
"""Static SASS of the forward GPU kernel's key-tile loop: a count, not a
timing (it needs no GPU).

For bf16, D = 128, N = 16384 on sm_90 (the issue's shape) and the masks of
fa2-structure.mlir plus dense, compiles the PTX (`sattn-compile
--target=nvvm`), assembles it with `ptxas -v` (registers, spills) and
disassembles the cubin (`cuobjdump -sass`, which calls `nvdisasm`). The
key-tile loop is the innermost loop holding every HMMA; its instructions
are counted per basic block, so the blocks one FULL tile runs (the copy of
the next tile, QK^T, the softmax, PV) can be told from those only the last
or a PARTIAL tile runs (masking, key-used flags). Besides the static count
(every block once) it counts the shortest and the longest path through one
iteration (forward branches only: an inner loop's body counts once, a CALL
as one instruction; only paths that run every HMMA): the shortest is a FULL
tile (it may skip the copy of the next tile, as the last tile does), the
longest a PARTIAL one, less what its inner loops repeat.

    benchmarks/gpu/sass.py --build build [--blocks]

cuobjdump and nvdisasm come with the CUDA toolkit, or from PyPI:
`pip install nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm` (put their bin/ on
PATH).
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
MASKS = {
    "dense": "#sattn.dense",
    "causal": "#sattn.causal",
    "window": "#sattn.window<left = 255, right = 0>",
    "bigbird": "#sattn.bigbird<block = 64, window = 3, global = 2, random = 3, seed = 0>",
    "longformer": "#sattn.longformer<window = 512, global = [0]>",
}


def spec(mask):
    t = "tensor<1x16x16384x128xbf16>"
    return (f"func.func @f(%q: {t}, %k: {t}, %v: {t}) -> {t} {{\n"
            f"  %o = sattn.attention %q, %k, %v mask({mask}) : ({t}, {t}, {t}) -> {t}\n"
            f"  return %o : {t}\n}}\n")


def instructions(cubin):
    sass = subprocess.run(["cuobjdump", "-sass", cubin], capture_output=True, text=True,
                          check=True).stdout
    return [(int(m.group(1), 16), m.group(2).strip())
            for m in re.finditer(r"^\s+/\*([0-9a-f]{4,})\*/\s+(.*?)\s*;", sass, re.M)]


def key_tile_loop(ins):
    """The basic blocks of the innermost loop (backward branch) around every HMMA."""
    hmma = [a for a, t in ins if "HMMA" in t]
    targets, loop = set(), None
    for a, t in ins:
        m = re.search(r"BRA\b.*?0x([0-9a-f]+)", t)
        if m:
            target = int(m.group(1), 16)
            targets.add(target)
            if target <= min(hmma) and a >= max(hmma) and (loop is None or a - target < loop[1] - loop[0]):
                loop = (target, a)
    blocks, block = [], []
    for a, t in ins:
        if not loop[0] <= a <= loop[1]:
            continue
        if a in targets and block:
            blocks.append(block)
            block = []
        block.append((a, t))
        if re.search(r"\bBRA\b|\bEXIT\b", t):
            blocks.append(block)
            block = []
    return blocks + ([block] if block else [])


def paths(blocks):
    """(shortest, longest) instruction count of one iteration that runs every
    HMMA: from the loop's first block to its back edge (the last block),
    following fall-throughs and forward branches inside the loop; paths that
    leave the loop or skip the tile do not count."""
    start = {b[0][0]: i for i, b in enumerate(blocks)}
    # From block i on: {HMMA count: (shortest, longest)}.
    best = [dict() for _ in blocks]
    for i in reversed(range(len(blocks))):
        n = len(blocks[i])
        h = sum(1 for _, t in blocks[i] if "HMMA" in t)
        if i == len(blocks) - 1:
            best[i] = {h: (n, n)}
            continue
        last = blocks[i][-1][1]
        m = re.search(r"\bBRA\b.*?0x([0-9a-f]+)", last)
        succ = []
        if m and int(m.group(1), 16) > blocks[i][0][0] and int(m.group(1), 16) in start:
            succ.append(start[int(m.group(1), 16)])
        if (m is None or last.startswith("@") or "BRA.DIV" in last) and "EXIT" not in last:
            succ.append(i + 1)
        for j in succ:
            for hj, (lo, hi) in best[j].items():
                old = best[i].get(h + hj, (float("inf"), 0))
                best[i][h + hj] = (min(old[0], n + lo), max(old[1], n + hi))
    return best[0][max(best[0])]


def opcode(text):
    return re.sub(r"^@!?U?P\w+\s+", "", text).split()[0].split(".")[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--chip", default="sm_90")
    ap.add_argument("--blocks", action="store_true", help="print every basic block of the loop")
    a = ap.parse_args()
    print(f"bf16, B=1, H=16, N=16384, D=128, {a.chip}: the key-tile loop of the forward kernel (static)")
    print("| mask | registers | spill bytes | loop instructions | HMMA | per HMMA "
          "| shortest path (per HMMA) | longest path (per HMMA) |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, mask in MASKS.items():
            src, ptx, cubin = (os.path.join(tmp, name + ext) for ext in (".mlir", ".ptx", ".cubin"))
            with open(src, "w") as f:
                f.write(spec(mask))
            subprocess.run([os.path.join(a.build, "bin", "sattn-compile"), src, "--target=nvvm",
                            f"--chip={a.chip}", "-o", ptx], check=True)
            info = subprocess.run(["ptxas", f"-arch={a.chip}", "-v", ptx, "-o", cubin],
                                  capture_output=True, text=True, check=True).stderr
            regs = re.search(r"Used (\d+) registers", info).group(1)
            spills = re.search(r"(\d+) bytes spill stores", info).group(1)
            blocks = key_tile_loop(instructions(cubin))
            total = sum(len(b) for b in blocks)
            hmma = sum(1 for b in blocks for _, t in b if "HMMA" in t)
            short, long = paths(blocks)
            print(f"| {name} | {regs} | {spills} | {total} | {hmma} | {total / hmma:.2f} "
                  f"| {short} ({short / hmma:.2f}) | {long} ({long / hmma:.2f}) |")
            if a.blocks:
                for b in blocks:
                    ops = collections.Counter(opcode(t) for _, t in b)
                    print(f"    {b[0][0]:#07x} {len(b):4d}  " +
                          " ".join(f"{k}:{v}" for k, v in ops.most_common(10)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
