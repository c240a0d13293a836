"""Writes hostile .npy files (raw headers, no numpy) into the folder argv[1]."""
import os
import sys


def npy(path, header, data):
    text = header.encode()
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + data)


out = sys.argv[1]
# 2^62 * 2^62 * 4 bytes wraps to 0 in 64 bits: the file holds no data.
npy(os.path.join(out, "overflow.npy"),
    "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4611686018427387904), }\n", b"")
# Far larger than the file: rejected before any allocation.
npy(os.path.join(out, "huge.npy"),
    "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 16), }\n", bytes(64))
npy(os.path.join(out, "badshape.npy"),
    "{'descr': '<f4', 'fortran_order': False, 'shape': (-3, 4), }\n", bytes(64))
with open(os.path.join(out, "truncated.npy"), "wb") as f:
    f.write(b"\x93NUMPY\x01\x00\xff\x00{'descr'")
