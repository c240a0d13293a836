"""sattn: sparse attention compiled from declarative mask patterns.

    import numpy as np, sattn
    mask = sattn.window(128, 0) | sattn.global_tokens([0])
    o = sattn.attention(q, k, v, mask=mask)                    # numpy or torch tensors
    o, lse = sattn.attention(q, k, v, mask=mask, return_lse=True)
    kernel = sattn.compile(mask, q.shape, k.shape, v.shape, dtype="f32")
    o = kernel(q, k, v)
    o = sattn.paged_attention(q, k_cache, v_cache, block_table, seq_lens, mask=mask)
    o = sattn.varlen_attention(q, k, v, cu_seqlens_q, cu_seqlens_k, mask=mask)
    dq, dk, dv = sattn.attention_grad(q, k, v, o, do, lse, mask=mask)   # the backward

Masks print as their `#sattn.*` attribute text and compose with | & ~.
Compiler errors raise sattn.SAttnError carrying the diagnostic text.
"""

from .mask import (Mask, bigbird, block_sparse, causal, complement, dense, dilated,
                   global_tokens, intersect, longformer, random_blocks, sink,
                   sparse_transformer, streaming, strided, union, window)
from .runtime import (Kernel, SAttnError, attention, attention_grad, compile, compile_paged,
                      compile_spec, compile_varlen, paged_attention, varlen_attention)

__all__ = ["Mask", "Kernel", "SAttnError", "attention", "attention_grad", "compile",
           "compile_paged",
           "compile_spec", "compile_varlen", "paged_attention", "varlen_attention",
           "bigbird", "block_sparse", "causal", "complement", "dense", "dilated",
           "global_tokens", "intersect", "longformer", "random_blocks", "sink",
           "sparse_transformer", "streaming", "strided", "union", "window"]
