"""Inputs of garbage-keys.mlir: random Q, K, V with NaN / Inf in K and V of
the keys that no query row keeps."""
import os
import sys

import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(0)


def save(name, x):
    np.save(os.path.join(out, name), x.astype(np.float32))


def kv(unkept, suffix):
    k, v = rng.uniform(-1, 1, (2, 1, 2, 64, 16))
    k[:, :, unkept] = np.nan
    v[:, :, unkept] = np.nan
    v[:, :, unkept[::2]] = np.inf
    save(f"k64{suffix}.npy", k)
    save(f"v64{suffix}.npy", v)


save("q8.npy", rng.uniform(-1, 1, (1, 2, 8, 16)))
save("q64.npy", rng.uniform(-1, 1, (1, 2, 64, 16)))
save("q1.npy", rng.uniform(-1, 1, (1, 2, 1, 16)))
save("q4x1.npy", rng.uniform(-1, 1, (1, 4, 1, 16)))
kv(np.arange(0, 53), "")
kv(np.arange(2, 53), "s")
# Blocks 0, 2 and 5 of 8 keys are dropped for every row.
kv(np.concatenate([np.arange(0, 8), np.arange(16, 24), np.arange(40, 48)]), "b")
# One decode query at p = 63 keeps keys 7, 15, ..., 63 (the padding rows of
# its tile would keep the others).
kv(np.array([k for k in range(64) if (63 - k) % 8]), "d")
