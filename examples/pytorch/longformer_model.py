#!/usr/bin/env python3
"""sattn as a PyTorch operator: a small Longformer-style model that trains,
and a decode step over a paged KV cache.

sattn.attention on torch tensors that require grad runs as the torch.library
operator `sattn::attention_lse`, whose autograd is `sattn::attention_grad`
(sattn's backward kernel; fake kernels for tracing). A tiny transformer with
a Longformer mask is checked against the same model running PyTorch's
scaled_dot_product_attention with the equivalent dense boolean mask: its
output, then the gradients of every parameter and of the input; then it
trains for a few steps and its loss must go down. Finally
`sattn::paged_attention` serves one decode step of three sequences whose K/V
live in shuffled pages of a shared cache (vLLM's layout), checked against
SDPA on each sequence's own K/V.

    python examples/pytorch/longformer_model.py [--seq 512] [--check-only]
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import sattn  # noqa: E402


@torch.library.custom_op("sattn::paged_attention", mutates_args=())
def sattn_paged_attention(q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                          block_table: torch.Tensor, seq_lens: torch.Tensor,
                          mask: str) -> torch.Tensor:
    """docs/Semantics.md's sattn.paged_attention: int32 block_table and seq_lens."""
    return sattn.paged_attention(q.contiguous(), k_cache.contiguous(), v_cache.contiguous(),
                                 block_table.contiguous(), seq_lens.contiguous(), mask=mask)


@sattn_paged_attention.register_fake
def _(q, k_cache, v_cache, block_table, seq_lens, mask):
    return q.new_empty(q.shape[:-1] + v_cache.shape[-1:])


def paged_decode_step():
    """One new token per sequence attends over its cached keys through the
    block table; returns the relative difference to SDPA (GQA 8/2)."""
    torch.manual_seed(1)
    page, heads, kv_heads, dim, lens = 16, 8, 2, 64, [37, 130, 16]
    pages = [-(-n // page) for n in lens]
    num_pages = sum(pages) + 3  # a few unused pages
    order = torch.randperm(num_pages).tolist()  # pages handed out in shuffled order
    k_cache = torch.randn(num_pages, page, kv_heads, dim)
    v_cache = torch.randn(num_pages, page, kv_heads, dim)
    table = torch.zeros(len(lens), max(pages), dtype=torch.int32)
    for b, n in enumerate(pages):
        table[b, :n] = torch.tensor([order.pop() for _ in range(n)])
    seq_lens = torch.tensor(lens, dtype=torch.int32)
    q = torch.randn(len(lens), heads, 1, dim)
    got = torch.ops.sattn.paged_attention(q, k_cache, v_cache, table, seq_lens, "#sattn.causal")
    err = 0.0
    for b, n in enumerate(lens):
        keys = torch.arange(n)
        rows = table[b, keys // page].long(), keys % page
        k, v = (c[rows].permute(1, 0, 2)[None] for c in (k_cache, v_cache))
        want = torch.nn.functional.scaled_dot_product_attention(q[b:b + 1], k, v,
                                                                 enable_gqa=True)
        err = max(err, float((got[b:b + 1] - want).norm() / want.norm()))
    return err


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
    ours = lambda q, k, v: sattn.attention(q.contiguous(), k.contiguous(), v.contiguous(),
                                           mask=mask)
    theirs = lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=dense_mask)

    model = torch.nn.Sequential(*[Block(128, 4, ours) for _ in range(2)])
    reference = torch.nn.Sequential(*[Block(128, 4, theirs) for _ in range(2)])
    reference.load_state_dict(model.state_dict())
    x = torch.randn(2, args.seq, 128)
    with torch.no_grad():
        got, want = model(x), reference(x)
    err = float((got - want).norm() / want.norm())
    print(f"sattn.attention in a 2-block model, Longformer({args.window}, [0]), "
          f"seq {args.seq}: relative difference to SDPA with a dense mask {err:.2e}")
    if err > 1e-5:
        print("FAILED")
        return 1

    # Gradients of a loss through both models: every parameter and the input.
    target = torch.randn_like(x)
    grads = []
    for m in (model, reference):
        xg = x.clone().requires_grad_()
        torch.nn.functional.mse_loss(m(xg), target).backward()
        grads.append([xg.grad] + [p.grad for p in m.parameters()])
    err = max(float((g - w).norm() / w.norm()) for g, w in zip(*grads))
    print(f"gradients (input and {len(grads[0]) - 1} parameters): largest relative "
          f"difference to SDPA's {err:.2e}")
    if err > 1e-4:
        print("FAILED")
        return 1

    # A few training steps: the loss goes down.
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    print("training, 5 Adam steps: loss " + " -> ".join(f"{l:.4f}" for l in losses))
    if not losses[-1] < losses[0]:
        print("FAILED")
        return 1
    err = paged_decode_step()
    print(f"sattn::paged_attention decode step, 3 sequences in shuffled pages of 16: "
          f"relative difference to SDPA {err:.2e}")
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
            forward = (time.perf_counter() - t0) / 5
            t0 = time.perf_counter()
            for _ in range(3):
                torch.nn.functional.mse_loss(m(x), target).backward()
            step = (time.perf_counter() - t0) / 3
            print(f"{name}: {forward * 1e3:.1f} ms per forward, {step * 1e3:.1f} ms per "
                  f"forward + backward")
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
