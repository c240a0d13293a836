//===- Pipelines.h - named sattn pass pipelines -----------------*- C++ -*-===//

#ifndef SATTN_PIPELINES_PIPELINES_H
#define SATTN_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir {
namespace sattn {

/// sattn.attention (tensors) -> LLVM dialect, for the host CPU:
///   -sattn-expand-presets, -sattn-simplify-masks, -sattn-plan-tiles,
///   -convert-sattn-to-loops, bufferization with results as out-params,
///   scf.parallel -> OpenMP, polynomial exp/log, vector/memref/... -> LLVM.
LogicalResult buildLowerToLLVMPipeline(OpPassManager &pm);

/// Options of -sattn-lower-to-nvvm.
enum class GpuChip { SM80, SM90 };
enum class GpuBinaryFormat { PTX, Cubin, Fatbin, LLVM };
struct LowerToNVVMOptions : public PassPipelineOptions<LowerToNVVMOptions> {
  Option<GpuChip> chip{
      *this, "chip", llvm::cl::desc("GPU architecture"),
      llvm::cl::init(GpuChip::SM90),
      llvm::cl::values(clEnumValN(GpuChip::SM80, "sm_80", "Ampere"),
                       clEnumValN(GpuChip::SM90, "sm_90", "Hopper"))};
  Option<GpuBinaryFormat> format{
      *this, "format", llvm::cl::desc("What the gpu.binary holds"),
      llvm::cl::init(GpuBinaryFormat::PTX),
      llvm::cl::values(
          clEnumValN(GpuBinaryFormat::PTX, "isa", "PTX text"),
          clEnumValN(GpuBinaryFormat::Cubin, "bin", "cubin (runs ptxas)"),
          clEnumValN(GpuBinaryFormat::Fatbin, "fatbin", "fatbin"),
          clEnumValN(GpuBinaryFormat::LLVM, "llvm",
                     "the kernels' LLVM bitcode (for tools, e.g. the test "
                     "emulator)"))};
  Option<bool> tensorCores{
      *this, "tensor-cores",
      llvm::cl::desc("mma.sync for f16/bf16 where the head dims allow"),
      llvm::cl::init(true)};
  Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("CUDA toolkit for ptxas and libdevice (default: "
                     "$CUDA_HOME, else /usr/local/cuda)"),
      llvm::cl::init("")};
};

/// sattn.attention (tensors) -> a gpu.binary with one kernel per op, for an
/// NVIDIA GPU: -sattn-expand-presets, -sattn-simplify-masks,
/// -convert-sattn-to-gpu, then NVVM and serialization (PTX/cubin). The host
/// function keeps its gpu.launch_func ops: sattn's runtime launches the
/// kernels itself through the CUDA driver.
void buildLowerToNVVMPipeline(OpPassManager &pm,
                              const LowerToNVVMOptions &options);

/// The CUDA toolkit to use: `requested` if not empty, else $CUDA_HOME, else
/// /usr/local/cuda.
std::string getCudaToolkitPath(StringRef requested = "");

/// Registers -sattn-lower-to-llvm and -sattn-lower-to-nvvm.
void registerSAttnPipelines();

} // namespace sattn
} // namespace mlir

#endif // SATTN_PIPELINES_PIPELINES_H
