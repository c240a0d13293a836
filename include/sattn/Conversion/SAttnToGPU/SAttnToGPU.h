//===- SAttnToGPU.h - sattn.attention to a GPU kernel -----------*- C++ -*-===//

#ifndef SATTN_CONVERSION_SATTNTOGPU_SATTNTOGPU_H
#define SATTN_CONVERSION_SATTNTOGPU_SATTNTOGPU_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
namespace sattn {

#define GEN_PASS_DECL_CONVERTSATTNTOGPU
#define GEN_PASS_DECL_SATTNEXTERNDYNAMICSHAREDMEMORY
#include "sattn/Conversion/Passes.h.inc"

/// Name of the gpu.module that holds the kernels.
constexpr StringLiteral kGpuKernelModuleName = "sattn_kernels";
/// Static shared memory a kernel may use (the CUDA limit without opt-in).
constexpr int64_t kGpuSharedMemoryBytes = 48 * 1024;
/// Dynamic shared memory a kernel may ask for: within the opt-in limit of
/// every sm_80+ GPU (sm_86/89: 99 KiB; sm_80: 163 KiB; sm_90: 227 KiB).
constexpr int64_t kGpuMaxDynamicSharedBytes = 96 * 1024;

/// Patterns rewriting sattn.attention (on tensors) into a kernel in
/// `gpu.module @sattn_kernels` and a gpu.launch_func on flat buffers; the
/// host function's `sattn.gpu_launches` says how to launch each kernel
/// (#sattn.gpu_launch: symbol, tile, grid, block, shared memory, parameters).
/// With `tensorCores`, f16/bf16 ops whose head dims suit m16n8k16 use
/// mma.sync (sm_80+).
/// Also rewrites sattn.attention_grad (populateAttentionGradToGPUPatterns).
void populateSAttnToGPUPatterns(RewritePatternSet &patterns,
                                bool tensorCores = true);

/// Patterns rewriting sattn.attention_grad into one kernel launch: blocks
/// computing dK and dV of a key tile, and blocks computing dQ of a query
/// tile (no atomics); with `tensorCores`, mma.sync for f16/bf16 ops whose
/// head dims suit m16n8k16.
void populateAttentionGradToGPUPatterns(RewritePatternSet &patterns,
                                        bool tensorCores = true);

} // namespace sattn
} // namespace mlir

#endif // SATTN_CONVERSION_SATTNTOGPU_SATTNTOGPU_H
