//===- SAttnOps.td - sattn operations ----------------------*- tablegen -*-===//

#ifndef SATTN_DIALECT_SATTN_IR_SATTNOPS_TD
#define SATTN_DIALECT_SATTN_IR_SATTNOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "sattn/Dialect/SAttn/IR/SAttnDialect.td"
include "sattn/Dialect/SAttn/IR/SAttnAttrs.td"

class SAttn_Op<string mnemonic, list<Trait> traits = []>
    : Op<SAttn_Dialect, mnemonic, traits>;

def SAttn_AttentionTensor : RankedTensorOf<[F32, F16, BF16], [HasAnyRankOfPred<[4]>],
                                           "rank-4 tensor of f32, f16 or bf16">;
def SAttn_LseTensor : RankedTensorOf<[F32], [HasAnyRankOfPred<[3]>],
                                     "rank-3 tensor of f32">;
def SAttn_PackedTensor : RankedTensorOf<[F32, F16, BF16], [HasAnyRankOfPred<[3]>],
                                        "rank-3 tensor of f32, f16 or bf16">;
def SAttn_PackedLse : RankedTensorOf<[F32], [HasAnyRankOfPred<[2]>],
                                     "rank-2 tensor of f32">;
def SAttn_BlockTable : RankedTensorOf<[I32], [HasAnyRankOfPred<[2]>],
                                      "rank-2 tensor of i32">;
def SAttn_Lengths : RankedTensorOf<[I32], [HasAnyRankOfPred<[1]>],
                                   "rank-1 tensor of i32">;

// The attributes every attention op takes, and their syntax after the
// operands.
defvar SAttn_ScoreArgs = (ins MaskAttrInterface:$mask,
                              OptionalAttr<F32Attr>:$scale,
                              OptionalAttr<F32Attr>:$softcap,
                              OptionalAttr<DenseF32ArrayAttr>:$alibi_slopes);
defvar SAttn_ScoreSyntax = [{
    `mask` `(` custom<Mask>($mask) `)` (`scale` `(` $scale^ `)`)?
    (`softcap` `(` $softcap^ `)`)? (`alibi_slopes` `(` $alibi_slopes^ `)`)?
    attr-dict `:` functional-type(operands, results)
}];
defvar SAttn_ScoreDecls = [{
    /// The scale in effect: the attribute, or the f32 value of 1/sqrt(D).
    float getScaleValue();
}];

def SAttn_AttentionOp : SAttn_Op<"attention",
    [Pure, DeclareOpInterfaceMethods<AttentionOpInterface>]> {
  let summary = "Masked scaled-dot-product attention";
  let description = [{
    Computes, for batch `b`, query head `h` and query row `i`:

    ```
    p          = i + (Lk - Lq)                            // bottom-right aligned
    s_k        = scale * dot(Q[b,h,i,:], K[b,g(h),k,:])    // for k with mask(p, k)
    s_k        = c * tanh(s_k / c)                         // with softcap(c)
    s_k        = s_k - m_h * |p - k|                       // with alibi_slopes(m)
    O[b,h,i,:] = sum_k softmax(s)_k * V[b,g(h),k,:]
    LSE[b,h,i] = log(sum_k exp(s_k))
    ```

    with `g(h) = h / (Hq / Hkv)` (grouped-query attention). Rows with no kept
    key give `O = 0` and `LSE = -inf`. Q is `[B, Hq, Lq, D]`, K is
    `[B, Hkv, Lk, D]`, V is `[B, Hkv, Lk, Dv]`, O is `[B, Hq, Lq, Dv]` and the
    optional LSE is `[B, Hq, Lq]` f32. B, heads and lengths may be dynamic;
    D and Dv are static. `scale` defaults to `1/sqrt(D)`.

    Score modifiers, both optional: `softcap` (`c > 0`, finite; Gemma 2)
    and `alibi_slopes` (one finite slope per query head; BLOOM, MPT). The
    mask alone decides which pairs are kept; LSE is taken over the modified
    scores.

    The mask is written in parentheses (`mask(#sattn.causal)`) so that the
    op's trailing `: (types) -> types` is not read as the attribute's type.

    Example:

    ```mlir
    %o = sattn.attention %q, %k, %v mask(#sattn.causal) scale(0.125)
        : (tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>,
           tensor<1x8x128x64xf32>) -> tensor<1x8x128x64xf32>
    %a = sattn.attention %q, %k, %v mask(#sattn.causal) softcap(30.0)
        alibi_slopes([0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125,
                      0.00390625])
        : (tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>,
           tensor<1x8x128x64xf32>) -> tensor<1x8x128x64xf32>
    ```
  }];
  let arguments = !con((ins SAttn_AttentionTensor:$query,
                            SAttn_AttentionTensor:$key,
                            SAttn_AttentionTensor:$value),
                       SAttn_ScoreArgs);
  let results = (outs SAttn_AttentionTensor:$output,
                      Optional<SAttn_LseTensor>:$lse);
  let assemblyFormat =
      !strconcat("$query `,` $key `,` $value ", SAttn_ScoreSyntax);
  let hasVerifier = 1;
  let extraClassDeclaration = SAttn_ScoreDecls;
}

def SAttn_PagedAttentionOp : SAttn_Op<"paged_attention",
    [Pure, DeclareOpInterfaceMethods<AttentionOpInterface>]> {
  let summary = "Attention over a paged KV cache (vLLM's PagedAttention)";
  let description = [{
    `sattn.attention` for each sequence `b` of a batch whose keys and values
    live in pages of a shared cache: key position `k` of sequence `b` is slot
    `k mod page` of page `block_table[b, k / page]`, and sequence `b` has
    `Lk_b = seq_lens[b]` keys (its `Lq` new tokens included), so its query
    row `i` sits at position `p = i + Lk_b - Lq` and the mask sees
    `0 <= k < Lk_b`.

    | operand | shape |
    |---|---|
    | `query` | `[B, Hq, Lq, D]` (head-major, like `sattn.attention`) |
    | `key_cache` | `[P, page, Hkv, D]` (token-major "NHD"; `page` static) |
    | `value_cache` | `[P, page, Hkv, Dv]` |
    | `block_table` | `[B, M]`, i32 |
    | `seq_lens` | `[B]`, i32 |

    O is `[B, Hq, Lq, Dv]` and the optional LSE `[B, Hq, Lq]` f32. Pages may
    be shared between sequences and appear in any order; entries past
    `ceil(Lk_b / page)`, and pages no kept key needs, are never read for
    their value. At run time `0 <= Lk_b <= M * page` and every entry a kept
    key needs lies in `[0, P)`, or the call is rejected before any output is
    written.

    Example (decode: one new token per sequence, pages of 16 tokens):

    ```mlir
    %o = sattn.paged_attention %q, %kc, %vc, %table, %lens
        mask(#sattn.causal) softcap(30.0)
        : (tensor<4x8x1x64xf16>, tensor<?x16x2x64xf16>, tensor<?x16x2x64xf16>,
           tensor<4x?xi32>, tensor<4xi32>) -> tensor<4x8x1x64xf16>
    ```
  }];
  let arguments = !con((ins SAttn_AttentionTensor:$query,
                            SAttn_AttentionTensor:$key_cache,
                            SAttn_AttentionTensor:$value_cache,
                            SAttn_BlockTable:$block_table,
                            SAttn_Lengths:$seq_lens),
                       SAttn_ScoreArgs);
  let results = (outs SAttn_AttentionTensor:$output,
                      Optional<SAttn_LseTensor>:$lse);
  let assemblyFormat = !strconcat("$query `,` $key_cache `,` $value_cache `,` "
                                  "$block_table `,` $seq_lens ",
                                  SAttn_ScoreSyntax);
  let hasVerifier = 1;
  let extraClassDeclaration = !strconcat(SAttn_ScoreDecls, [{
    /// Tokens per page (static).
    int64_t getPageSize() { return getKeyCache().getType().getDimSize(1); }
  }]);
}

def SAttn_VarlenAttentionOp : SAttn_Op<"varlen_attention",
    [Pure, DeclareOpInterfaceMethods<AttentionOpInterface>]> {
  let summary = "Attention over packed variable-length sequences";
  let description = [{
    `sattn.attention` for each sequence `b` of a batch packed one after
    another along the token axis: sequence `b` is query rows
    `cu_seqlens_q[b] .. cu_seqlens_q[b+1]` and keys `cu_seqlens_k[b] ..
    cu_seqlens_k[b+1]`. Positions count from each sequence's own start, so
    the mask (random blocks included) and ALiBi are per sequence, and no
    query ever sees another sequence's key: the document mask of packed
    training batches, and batched prefill of prompts of different lengths.

    | operand | shape |
    |---|---|
    | `query` | `[Tq, Hq, D]` (token-major) |
    | `key` | `[Tk, Hkv, D]` |
    | `value` | `[Tk, Hkv, Dv]` |
    | `cu_seqlens_q` | `[B + 1]`, i32 |
    | `cu_seqlens_k` | `[B + 1]`, i32 |

    O is `[Tq, Hq, Dv]` and the optional LSE `[Hq, Tq]` f32. At run time
    each cu_seqlens starts at 0, never decreases and ends at Tq (Tk), or the
    call is rejected before any output is written.

    Example (three prompts of 5, 0 and 12 tokens, causal):

    ```mlir
    %o = sattn.varlen_attention %q, %k, %v, %cuq, %cuk mask(#sattn.causal)
        : (tensor<17x8x64xbf16>, tensor<17x2x64xbf16>, tensor<17x2x64xbf16>,
           tensor<4xi32>, tensor<4xi32>) -> tensor<17x8x64xbf16>
    ```
  }];
  let arguments = !con((ins SAttn_PackedTensor:$query,
                            SAttn_PackedTensor:$key,
                            SAttn_PackedTensor:$value,
                            SAttn_Lengths:$cu_seqlens_q,
                            SAttn_Lengths:$cu_seqlens_k),
                       SAttn_ScoreArgs);
  let results = (outs SAttn_PackedTensor:$output,
                      Optional<SAttn_PackedLse>:$lse);
  let assemblyFormat = !strconcat("$query `,` $key `,` $value `,` "
                                  "$cu_seqlens_q `,` $cu_seqlens_k ",
                                  SAttn_ScoreSyntax);
  let hasVerifier = 1;
  let extraClassDeclaration = SAttn_ScoreDecls;
}

def SAttn_AttentionGradOp : SAttn_Op<"attention_grad", [Pure]> {
  let summary = "Gradients of sattn.attention with respect to Q, K and V";
  let description = [{
    The backward of `sattn.attention` with the same `mask`, `scale` and
    score modifiers: given the forward's Q, K, V, its output O, the gradient
    dO of a loss with respect to O and the forward's LSE, returns dQ, dK, dV,
    the gradients of `sum(O * dO)` with respect to Q, K and V:

    ```
    P[i,k]  = exp(s[i,k] - LSE[i])               // for kept (p, k)
    dV[k]   = sum_i P[i,k] dO[i]
    dP[i,k] = dot(dO[i], V[k])
    dS[i,k] = P[i,k] (dP[i,k] - dot(dO[i], O[i]))
    dT[i,k] = dS[i,k] (1 - tanh(t[i,k] / c)^2)    // t = scale * dot; softcap c
    dQ[i]   = scale sum_k dT[i,k] K[k]
    dK[k]   = scale sum_i dT[i,k] Q[i]
    ```

    With GQA, dK and dV of key/value head g sum over the query heads that
    read it. ALiBi shifts the scores but has no gradient of its own. Rows
    with no kept key contribute nothing. Operands: Q `[B, Hq, Lq, D]`, K
    `[B, Hkv, Lk, D]`, V `[B, Hkv, Lk, Dv]`, O and dO `[B, Hq, Lq, Dv]`, LSE
    `[B, Hq, Lq]` f32; results of the types of Q, K and V.

    Example:

    ```mlir
    %dq, %dk, %dv = sattn.attention_grad %q, %k, %v, %o, %do, %lse
        mask(#sattn.causal)
        : (tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>,
           tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>,
           tensor<1x8x128x64xf32>, tensor<1x8x128xf32>)
        -> (tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>,
            tensor<1x8x128x64xf32>)
    ```
  }];
  let arguments = !con((ins SAttn_AttentionTensor:$query,
                            SAttn_AttentionTensor:$key,
                            SAttn_AttentionTensor:$value,
                            SAttn_AttentionTensor:$output,
                            SAttn_AttentionTensor:$grad_output,
                            SAttn_LseTensor:$lse),
                       SAttn_ScoreArgs);
  let results = (outs SAttn_AttentionTensor:$grad_query,
                      SAttn_AttentionTensor:$grad_key,
                      SAttn_AttentionTensor:$grad_value);
  let assemblyFormat = !strconcat("$query `,` $key `,` $value `,` $output `,` "
                                  "$grad_output `,` $lse ",
                                  SAttn_ScoreSyntax);
  let hasVerifier = 1;
  let extraClassDeclaration = SAttn_ScoreDecls;
}

#endif // SATTN_DIALECT_SATTN_IR_SATTNOPS_TD
