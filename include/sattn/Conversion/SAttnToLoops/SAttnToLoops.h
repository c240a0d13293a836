//===- SAttnToLoops.h - sattn.attention to fused loops ----------*- C++ -*-===//

#ifndef SATTN_CONVERSION_SATTNTOLOOPS_SATTNTOLOOPS_H
#define SATTN_CONVERSION_SATTNTOLOOPS_SATTNTOLOOPS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
namespace sattn {

#define GEN_PASS_DECL_CONVERTSATTNTOLOOPS
#include "sattn/Conversion/Passes.h.inc"

/// Patterns rewriting sattn.attention (on tensors) into a fused kernel: an
/// scf.parallel over (batch, head, query tile) calling a per-tile function
/// built in the enclosing module. `vectorBits` is the vector register width
/// the tile math is blocked for: 256 (AVX2), 512 (AVX-512), 0 (the host's).
/// `bf16Dot`: whether bf16 products use vdpbf16ps (AVX512_BF16); none: the
/// host's answer.
void populateSAttnToLoopsPatterns(RewritePatternSet &patterns,
                                  int64_t vectorBits = 0,
                                  std::optional<bool> bf16Dot = std::nullopt);

/// 512 if the host CPU has AVX-512F, else 256.
int64_t getHostVectorBits();
/// Whether the host CPU has AVX512_BF16 (with AVX512VL) dot products.
bool hostHasBF16Dot();

} // namespace sattn
} // namespace mlir

#endif // SATTN_CONVERSION_SATTNTOLOOPS_SATTNTOLOOPS_H
