#!/usr/bin/env python3
"""sattn as a PyTorch operator: a small Longformer-style model.

Registers `sattn::attention` with torch.library (sattn's kernel through its
C API: the CPU one for CPU tensors, the GPU one for CUDA tensors; a fake/meta
kernel for tracing), uses it as the attention of a tiny
transformer block with a Longformer mask, and checks the model's output
against the same model running PyTorch's scaled_dot_product_attention with
the equivalent dense boolean mask.

    python examples/pytorch/longformer_model.py [--seq 512] [--check-only]
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import sattn  # noqa: E402


@torch.library.custom_op("sattn::attention", mutates_args=())
def sattn_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: str) -> torch.Tensor:
    """Masked attention of sattn's docs/Semantics.md; `mask` is a #sattn.* attribute."""
    return sattn.attention(q.contiguous(), k.contiguous(), v.contiguous(), mask=mask)


@sattn_attention.register_fake
def _(q, k, v, mask):
    return q.new_empty(q.shape[:-1] + v.shape[-1:])


class Block(torch.nn.Module):
    def __init__(self, dim, heads, attend):
        super().__init__()
        self.heads, self.attend = heads, attend
        self.qkv = torch.nn.Linear(dim, 3 * dim)
        self.out = torch.nn.Linear(dim, dim)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(dim, 4 * dim), torch.nn.GELU(),
                                       torch.nn.Linear(4 * dim, dim))
        self.norm1, self.norm2 = torch.nn.LayerNorm(dim), torch.nn.LayerNorm(dim)

    def forward(self, x):
        b, n, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, n, 3, self.heads, d // self.heads) \
                                         .permute(2, 0, 3, 1, 4)
        a = self.attend(q, k, v).transpose(1, 2).reshape(b, n, d)
        x = x + self.out(a)
        return x + self.mlp(self.norm2(x))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--window", type=int, default=64)
    ap.add_argument("--check-only", action="store_true")
    args = ap.parse_args()

    torch.manual_seed(0)
    mask = sattn.longformer(args.window, [0])
    dense_mask = torch.from_numpy(mask.evaluate(args.seq, args.seq).copy())
    ours = lambda q, k, v: torch.ops.sattn.attention(q, k, v, str(mask))
    theirs = lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=dense_mask)

    model = torch.nn.Sequential(*[Block(128, 4, ours) for _ in range(2)])
    reference = torch.nn.Sequential(*[Block(128, 4, theirs) for _ in range(2)])
    reference.load_state_dict(model.state_dict())
    x = torch.randn(2, args.seq, 128)
    with torch.no_grad():
        got, want = model(x), reference(x)
    err = float((got - want).norm() / want.norm())
    print(f"sattn::attention in a 2-block model, Longformer({args.window}, [0]), "
          f"seq {args.seq}: relative difference to SDPA with a dense mask {err:.2e}")
    if err > 1e-5:
        print("FAILED")
        return 1
    if not args.check_only:
        for name, m in (("sattn", model), ("sdpa + dense mask", reference)):
            with torch.no_grad():
                m(x)
                t0 = time.perf_counter()
                for _ in range(5):
                    m(x)
            print(f"{name}: {(time.perf_counter() - t0) / 5 * 1e3:.1f} ms per forward")
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
