//===- Pipelines.h - named sattn pass pipelines -----------------*- C++ -*-===//

#ifndef SATTN_PIPELINES_PIPELINES_H
#define SATTN_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"

namespace mlir {
namespace sattn {

/// sattn.attention (tensors) -> LLVM dialect, for the host CPU:
///   -sattn-expand-presets, -sattn-simplify-masks, -sattn-plan-tiles,
///   -convert-sattn-to-loops, bufferization with results as out-params,
///   scf.parallel -> OpenMP, polynomial exp/log, vector/memref/... -> LLVM.
LogicalResult buildLowerToLLVMPipeline(OpPassManager &pm);

/// Registers -sattn-lower-to-llvm.
void registerSAttnPipelines();

} // namespace sattn
} // namespace mlir

#endif // SATTN_PIPELINES_PIPELINES_H
