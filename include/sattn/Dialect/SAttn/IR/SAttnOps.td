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

def SAttn_AttentionOp : SAttn_Op<"attention", [Pure]> {
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
  let arguments = (ins SAttn_AttentionTensor:$query,
                       SAttn_AttentionTensor:$key,
                       SAttn_AttentionTensor:$value,
                       MaskAttrInterface:$mask,
                       OptionalAttr<F32Attr>:$scale,
                       OptionalAttr<F32Attr>:$softcap,
                       OptionalAttr<DenseF32ArrayAttr>:$alibi_slopes);
  let results = (outs SAttn_AttentionTensor:$output,
                      Optional<SAttn_LseTensor>:$lse);
  let assemblyFormat = [{
    $query `,` $key `,` $value `mask` `(` custom<Mask>($mask) `)`
    (`scale` `(` $scale^ `)`)? (`softcap` `(` $softcap^ `)`)?
    (`alibi_slopes` `(` $alibi_slopes^ `)`)? attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The scale in effect: the attribute, or the f32 value of 1/sqrt(D).
    float getScaleValue();
  }];
}

#endif // SATTN_DIALECT_SATTN_IR_SATTNOPS_TD
