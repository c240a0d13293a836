#!/usr/bin/env python3
"""How evenly the forward GPU kernel's blocks fill the SMs: a model, not a
measurement (it needs no GPU).

Each block computes one query tile of one head; its cost is taken as its
number of non-EMPTY key tiles (plus one for loading Q and writing O), from
the mask at N = 16384 with 128 x 64 tiles. The GPU starts blocks in the order
of their linear id and gives each to the first SM slot that frees (greedy
list scheduling, `slots` blocks per SM). Balance = total work / (SM slots x
makespan): 1.0 when no SM idles before the last block ends.

Three schedules of the blocks:
  - per head: id = qt' + X h with qt' the reversed query tile (the kernel
    before the heaviest-first order: each head's last tile first);
  - heaviest first: id = h + H r, rank r the query tile with the r-th most
    key tiles, over all heads (the kernel with a dynamic length);
  - parts (the kernel with static lengths): a query tile with more than
    max(16, 2 x mean) key tiles is cut into up to 8 equal parts
    (planKeyTileParts), each a block of its own; the calls run heaviest
    first, the part that finishes last also merges (counted as one tile).

    python3 benchmarks/gpu/schedule.py [--sms 132] [--slots 1] [--heads 16]
"""
import argparse
import heapq
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import bench  # noqa: E402

N, ROWS, KEYS = 16384, 128, 64
PATTERNS = ["causal", "causal_window_256", "longformer_512", "bigbird_64_3_2_3"]


def tile_work(name):
    """Key tiles per query tile (+1 for Q and O) at N x N."""
    keep = bench.pattern(name, N)[0].evaluate(N, N)
    tiles = keep.reshape(N // ROWS, ROWS, N // KEYS, KEYS).any(axis=(1, 3))
    return tiles.sum(axis=1) + 1


def part_costs(work):
    """The calls of `work` (key tiles + 1 per query tile) with the heavy
    tiles cut into parts, as the GPU conversion cuts them."""
    tiles = work - 1
    chunk = max(16, 2 * -(-int(tiles.sum()) // len(tiles)))
    costs = []
    for n in tiles:
        if n <= chunk:
            costs.append(n + 1)
            continue
        parts = min(-(-n // chunk), 8)
        size = -(-n // parts)
        sizes = [min(size, n - p * size) for p in range(parts)]
        costs += [x + 1 for x in sizes[:-1]] + [sizes[-1] + 2]  # + the merge
    return sorted(costs, reverse=True)


def makespan(costs, slots):
    """Greedy list scheduling of `costs` in order on `slots` slots."""
    free = [0.0] * slots
    end = 0.0
    for c in costs:
        start = heapq.heappop(free)
        heapq.heappush(free, start + c)
        end = max(end, start + c)
    return end


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sms", type=int, default=132, help="H100/H200 SXM: 132")
    ap.add_argument("--slots", type=int, default=1,
                    help="blocks per SM (the 128 x 64 bf16 kernel: 224-252 "
                         "registers x 256 threads, so 1)")
    ap.add_argument("--heads", type=int, default=16)
    a = ap.parse_args()
    slots = a.sms * a.slots
    print(f"N={N}, {ROWS}x{KEYS} tiles, B=1, H={a.heads}, {a.sms} SMs x {a.slots} "
          f"block(s); block cost = its key tiles + 1; balance = work / (slots x makespan)")
    bench.print_header(["pattern", "key tiles per query tile (min / mean / max)",
                        "balance, per head", "heaviest first", "parts", "parts vs per head"])
    for name in PATTERNS:
        work = tile_work(name)
        total = work.sum() * a.heads
        per_head = [work[::-1][x] for _ in range(a.heads) for x in range(len(work))]
        ranked = sorted(range(len(work)), key=lambda qt: (-work[qt], -qt))
        heaviest = [work[qt] for qt in ranked for _ in range(a.heads)]
        parts = [c for c in part_costs(work) for _ in range(a.heads)]
        t_old, t_new = makespan(per_head, slots), makespan(heaviest, slots)
        t_parts = makespan(parts, slots)
        print(f"| {name} | {work.min() - 1} / {work.mean() - 1:.1f} / {work.max() - 1} | "
              f"{total / (slots * t_old):.2f} | {total / (slots * t_new):.2f} | "
              f"{total / (slots * t_parts):.2f} | {t_old / t_parts:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
