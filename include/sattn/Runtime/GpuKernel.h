//===- GpuKernel.h - a spec function compiled for an NVIDIA GPU -*- C++ -*-===//

#ifndef SATTN_RUNTIME_GPUKERNEL_H
#define SATTN_RUNTIME_GPUKERNEL_H

#include "sattn/Dialect/SAttn/IR/SAttnAttrs.h"
#include "sattn/Pipelines/Pipelines.h"
#include "sattn/Runtime/CudaDriver.h"
#include "sattn/Runtime/SpecKernel.h"

#include <memory>
#include <mutex>

namespace mlir {
namespace sattn {

/// The device code of a spec function: one kernel (the function's single
/// sattn.attention) and how to launch it, as -convert-sattn-to-gpu wrote it
/// (#sattn.gpu_launch: symbol, tile, grid, block, shared memory, parameter
/// order). PTX carries the launch as its first line,
/// `// sattn.gpu_launch: #sattn.gpu_launch<...>`, so PTX emitted earlier
/// (the kernel cache, sattn-compile) needs no recompilation to be launched.
struct GpuCode {
  std::string binary; // PTX text or a cubin, as asked
  GpuLaunchAttr launch;
};

/// The first line of PTX that carries `launch`.
std::string printLaunchLine(GpuLaunchAttr launch);
/// The launch carried by the first line of `ptx`; an error if there is none.
llvm::Expected<GpuLaunchAttr> parseLaunchLine(MLIRContext *ctx,
                                              llvm::StringRef ptx);

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

  /// The tensor-core kernel copies Q, K and V (the backward's: and dO) 16
  /// bytes at a time and stores O two elements at a time: their data must
  /// be 16-byte (Q, K, V, dO) and 4-byte (O) aligned (an error names the
  /// tensor otherwise).
  llvm::Error checkAlignment(llvm::ArrayRef<TensorView> inputs,
                             llvm::ArrayRef<TensorView> outputs) const;

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
