//===- Reference.h - float64 attention of docs/Semantics.md -----*- C++ -*-===//
//
// The independent reference used by tests and `sattn-run --check`: dense
// loops over every (query, key) pair written straight from docs/Semantics.md's
// formulas, in double precision, sharing no code with the generated kernels
// (the mask is read through MaskAttrInterface::evaluate).
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_REFERENCE_REFERENCE_H
#define SATTN_REFERENCE_REFERENCE_H

#include "sattn/Dialect/SAttn/IR/SAttnOps.h"
#include "sattn/Runtime/HostTensor.h"

namespace mlir {
namespace sattn {

/// O [B, Hq, Lq, Dv] and LSE [B, Hq, Lq] (f64) of Q [B, Hq, Lq, D],
/// K [B, Hkv, Lk, D], V [B, Hkv, Lk, Dv] under the mask, scale and score
/// modifiers of `op` (only its attributes are read).
void referenceAttention(AttentionOpInterface op, const HostTensor &q,
                        const HostTensor &k, const HostTensor &v, HostTensor &o,
                        HostTensor &lse);
/// The same for the forward of a backward op (its O and LSE operands).
void referenceAttention(AttentionGradOp op, const HostTensor &q,
                        const HostTensor &k, const HostTensor &v, HostTensor &o,
                        HostTensor &lse);

/// The same for sattn.paged_attention: each sequence's keys gathered through
/// its block table (the index data must satisfy docs/Semantics.md's run-time
/// rules: SpecKernel::checkIndexData).
void referencePagedAttention(PagedAttentionOp op, const HostTensor &q,
                             const HostTensor &kCache, const HostTensor &vCache,
                             const HostTensor &blockTable,
                             const HostTensor &seqLens, HostTensor &o,
                             HostTensor &lse);

/// The same for sattn.varlen_attention: each sequence's rows and keys of the
/// token-major Q [Tq, Hq, D], K [Tk, Hkv, D], V [Tk, Hkv, Dv]; O [Tq, Hq, Dv]
/// and LSE [Hq, Tq] (the cu_seqlens must satisfy docs/Semantics.md's
/// run-time rules: SpecKernel::checkIndexData).
void referenceVarlenAttention(VarlenAttentionOp op, const HostTensor &q,
                              const HostTensor &k, const HostTensor &v,
                              const HostTensor &cuSeqlensQ,
                              const HostTensor &cuSeqlensK, HostTensor &o,
                              HostTensor &lse);

/// dQ, dK, dV (f64, the shapes of Q, K, V) of sattn.attention_grad: the
/// gradients of sum(O * dO) with O the float64 forward of Q, K, V under the
/// op's mask, scale and modifiers (recomputed here: the kernel's O and LSE
/// are not inputs of the reference).
void referenceAttentionGrad(AttentionGradOp op, const HostTensor &q,
                            const HostTensor &k, const HostTensor &v,
                            const HostTensor &dO, HostTensor &dQ,
                            HostTensor &dK, HostTensor &dV);

/// About how many operations referenceAttention takes for these shapes
/// (B x Hq x Lq x Lk x (D + Dv + the cost of one mask evaluation)),
/// saturating; callers refuse more than kMaxReferenceWork.
int64_t referenceCost(MaskAttrInterface mask, llvm::ArrayRef<int64_t> qShape,
                      llvm::ArrayRef<int64_t> kShape,
                      llvm::ArrayRef<int64_t> vShape);
/// About a minute of float64 arithmetic.
constexpr int64_t kMaxReferenceWork = int64_t(1) << 36;

} // namespace sattn
} // namespace mlir

#endif // SATTN_REFERENCE_REFERENCE_H
