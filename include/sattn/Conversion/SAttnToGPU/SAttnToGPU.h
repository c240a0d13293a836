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
#include "sattn/Conversion/Passes.h.inc"

/// Name of the gpu.module that holds the kernels.
constexpr StringLiteral kGpuKernelModuleName = "sattn_kernels";
/// Keys per key tile (Bc): one per lane of a warp.
constexpr int64_t kGpuKeyTile = 32;
/// Threads per block of every kernel (4 warps).
constexpr int64_t kGpuBlockThreads = 128;
/// Static shared memory a kernel may use (the CUDA limit without opt-in).
constexpr int64_t kGpuSharedMemoryBytes = 48 * 1024;

/// Patterns rewriting sattn.attention (on tensors) into a kernel in
/// `gpu.module @sattn_kernels` and a gpu.launch_func on flat buffers. The
/// kernel's parameters are q, k, v, o (memref<?xT>), lse (memref<?xf32>),
/// then Hq, Hkv, Lq, Lk (index); its `sattn.tile` attribute holds [Br, Bc]
/// and the grid is (ceil(Lq / Br), Hq, B) x (128).
/// With `tensorCores`, f16/bf16 ops whose head dims suit m16n8k16 use
/// mma.sync (sm_80+).
void populateSAttnToGPUPatterns(RewritePatternSet &patterns,
                                bool tensorCores = true);

/// How the kernel of an op computes: Br query rows per block, and whether on
/// tensor cores.
struct GpuTileShape {
  int64_t rows;
  bool tensorCores;
};
/// The kernel shape for element type `elem` and head dims d, dv: tensor
/// cores (Br = 64) when allowed, f16/bf16, D % 16 == 0, Dv % 8 == 0 and the
/// tiles fit; else SIMT with Br the largest of 32, 16, 8, 4 whose tiles fit
/// kGpuSharedMemoryBytes; nullopt if none does (the conversion reports it).
std::optional<GpuTileShape> getGpuTileShape(Type elem, int64_t d, int64_t dv,
                                            bool tensorCores = true);

} // namespace sattn
} // namespace mlir

#endif // SATTN_CONVERSION_SATTNTOGPU_SATTNTOGPU_H
