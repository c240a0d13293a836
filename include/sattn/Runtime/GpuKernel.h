//===- GpuKernel.h - a spec function compiled for an NVIDIA GPU -*- C++ -*-===//

#ifndef SATTN_RUNTIME_GPUKERNEL_H
#define SATTN_RUNTIME_GPUKERNEL_H

#include "sattn/Pipelines/Pipelines.h"
#include "sattn/Runtime/CudaDriver.h"
#include "sattn/Runtime/SpecKernel.h"

#include <memory>
#include <mutex>

namespace mlir {
namespace sattn {

/// The device code of a spec function: one kernel (the function's single
/// sattn.attention) with parameters
///   q, k, v, o (memref<?xT>: ptr, ptr, i64 0, i64 numel, i64 1),
///   lse (memref<?xf32>, same five), Hq, Hkv, Lq, Lk (i64)
/// launched on grid (ceil(Lq / rows), Hq, B) with 128 threads per block.
struct GpuCode {
  std::string binary; // PTX text or a cubin, as asked
  std::string kernel; // the kernel's symbol
  int64_t rows;       // Br
  bool hasLse;        // the kernel writes LSE (the lse buffer must exist)
  bool tensorCores;   // mma.sync (sm_80+) rather than SIMT arithmetic
};

/// Lowers `function` of (a clone of) `module` with -sattn-lower-to-nvvm.
/// Needs no GPU; a cubin or fatbin needs ptxas from the CUDA toolkit
/// (`toolkit`, else $CUDA_HOME, else /usr/local/cuda).
llvm::Expected<GpuCode> emitGpuCode(ModuleOp module, llvm::StringRef function,
                                    GpuChip chip, GpuBinaryFormat format,
                                    bool tensorCores = true,
                                    llvm::StringRef toolkit = "");

/// A spec function compiled to PTX (sm_80, which the driver JIT-compiles
/// for any newer GPU). Compiling needs no GPU; the module is loaded into the
/// device on the first run, which fails with "no CUDA device" without one.
class GpuKernel : public SpecKernel {
public:
  ~GpuKernel() override;

  static llvm::Expected<std::unique_ptr<GpuKernel>>
  compile(ModuleOp module, llvm::StringRef function);
  /// Uses PTX emitted earlier by emitGpuCode() for the same spec.
  static llvm::Expected<std::unique_ptr<GpuKernel>>
  load(ModuleOp module, llvm::StringRef function, llvm::StringRef ptx);

  const GpuCode &code() const { return gpuCode; }
  /// The PTX this kernel runs.
  llvm::StringRef binary() const override { return gpuCode.binary; }
  KernelDevice device() const override { return KernelDevice::Cuda; }

  /// The tensor-core kernel copies Q, K and V 16 bytes at a time: their data
  /// must be 16-byte aligned (an error names the input otherwise).
  llvm::Error checkAlignment(llvm::ArrayRef<TensorView> inputs) const;

  /// Runs on tensors in CUDA device memory (checked) and waits for the end.
  llvm::Error run(llvm::ArrayRef<TensorView> inputs,
                  llvm::ArrayRef<TensorView> outputs) const override;
  /// Runs on host tensors: copies them to the device and the outputs back.
  llvm::Error runFromHost(llvm::ArrayRef<TensorView> inputs,
                          llvm::ArrayRef<TensorView> outputs) const;

private:
  GpuKernel() = default;
  /// A kernel with the signature of `function` and no code yet.
  static llvm::Expected<std::unique_ptr<GpuKernel>>
  create(ModuleOp module, llvm::StringRef function);
  llvm::Expected<CudaFunction> getFunction() const;
  GpuCode gpuCode;
  mutable std::mutex loadMutex;
  mutable CudaModule module = nullptr;
  mutable CudaFunction function = nullptr;
};

} // namespace sattn
} // namespace mlir

#endif // SATTN_RUNTIME_GPUKERNEL_H
