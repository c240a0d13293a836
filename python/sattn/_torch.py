"""sattn as differentiable torch.library operators (imported on first use by
sattn.attention with tensors that require grad):

    sattn::attention_lse(q, k, v, mask, scale, softcap, alibi_slopes) -> (O, LSE)
    sattn::attention_grad(q, k, v, o, do, lse, mask, ...)            -> (dQ, dK, dV)

the first differentiable through the second (FlashAttention-2's backward
from the saved O and LSE); both have fake kernels for tracing.
"""
from typing import List, Optional, Tuple

import torch

from . import runtime


def _slopes(alibi_slopes):
    return None if alibi_slopes is None else [float(m) for m in alibi_slopes]


@torch.library.custom_op("sattn::attention_lse", mutates_args=())
def _attention_lse(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: str,
                   scale: Optional[float], softcap: Optional[float],
                   alibi_slopes: Optional[List[float]]) -> Tuple[torch.Tensor, torch.Tensor]:
    return runtime.attention(q.detach().contiguous(), k.detach().contiguous(),
                             v.detach().contiguous(), mask, scale, True, softcap, alibi_slopes)


@_attention_lse.register_fake
def _(q, k, v, mask, scale, softcap, alibi_slopes):
    return (q.new_empty(q.shape[:-1] + v.shape[-1:]),
            q.new_empty(q.shape[:-1], dtype=torch.float32))


@torch.library.custom_op("sattn::attention_grad", mutates_args=())
def _attention_grad(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, o: torch.Tensor,
                    do: torch.Tensor, lse: torch.Tensor, mask: str, scale: Optional[float],
                    softcap: Optional[float], alibi_slopes: Optional[List[float]]
                    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return runtime.attention_grad(*(x.detach().contiguous() for x in (q, k, v, o, do, lse)),
                                  mask, scale, softcap, alibi_slopes)


@_attention_grad.register_fake
def _(q, k, v, o, do, lse, mask, scale, softcap, alibi_slopes):
    return torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)


def _setup_context(ctx, inputs, output):
    q, k, v, mask, scale, softcap, alibi_slopes = inputs
    ctx.save_for_backward(q, k, v, *output)
    ctx.attrs = (mask, scale, softcap, alibi_slopes)


def _backward(ctx, do, dlse):
    q, k, v, o, lse = ctx.saved_tensors
    if dlse is not None and bool(torch.any(dlse != 0)):
        raise NotImplementedError("sattn.attention: gradients through the LSE output "
                                  "are not supported")
    dq, dk, dv = torch.ops.sattn.attention_grad(q, k, v, o, do, lse, *ctx.attrs)
    return dq, dk, dv, None, None, None, None


_attention_lse.register_autograd(_backward, setup_context=_setup_context)


def attention_lse(q, k, v, mask, scale, softcap, alibi_slopes):
    """(O, LSE) through the differentiable operator."""
    return torch.ops.sattn.attention_lse(q, k, v, mask, None if scale is None else float(scale),
                                         None if softcap is None else float(softcap),
                                         _slopes(alibi_slopes))
