//===- CpuKernel.h - a spec function JIT-compiled for the host --*- C++ -*-===//

#ifndef SATTN_RUNTIME_CPUKERNEL_H
#define SATTN_RUNTIME_CPUKERNEL_H

#include "sattn/Runtime/SpecKernel.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include <memory>

namespace llvm {
class SourceMgr;
} // namespace llvm

namespace llvm::orc {
class LLJIT;
} // namespace llvm::orc

namespace mlir {
namespace sattn {

/// What emitHostCode() produces.
enum class HostCodeKind { Object, Assembly, LLVMIR, LoweredMLIR };

/// Lowers `function` of (a clone of) `module` with -sattn-lower-to-llvm for
/// the host CPU and returns it as an object file, assembly, LLVM IR or the
/// lowered MLIR. The function gets a C interface `_mlir_ciface_<function>`
/// taking pointers to memref descriptors (inputs, then outputs), and the
/// code carries its kernels' facts (the function's sattn.cpu_kernels) as the
/// C string `__sattn_kernels_<function>`. Diagnostics go into the returned
/// error.
llvm::Expected<std::string>
emitHostCode(ModuleOp module, llvm::StringRef function, HostCodeKind kind);

/// A host CPU name and feature string identifying the code emitHostCode()
/// produces here (part of cache keys).
std::string hostTargetId();

/// A spec function compiled for the host and loaded into this process.
class CpuKernel : public SpecKernel {
public:
  ~CpuKernel() override;

  /// Compiles `function` of `module` (emitHostCode) and loads it.
  static llvm::Expected<std::unique_ptr<CpuKernel>>
  compile(ModuleOp module, llvm::StringRef function);

  /// Loads an object emitted earlier by emitHostCode() for the same spec.
  static llvm::Expected<std::unique_ptr<CpuKernel>>
  load(ModuleOp module, llvm::StringRef function, llvm::StringRef object);

  /// The object file this kernel runs.
  llvm::StringRef binary() const override { return objectBytes; }
  /// What -convert-sattn-to-loops decided for each op of the function, in
  /// order (#sattn.cpu_kernel), as the object carries it.
  ArrayAttr facts() const { return kernelFacts; }

  /// Runs the kernel; `outputs` must have the shapes of outputShapes().
  llvm::Error run(llvm::ArrayRef<TensorView> inputs,
                  llvm::ArrayRef<TensorView> outputs) const override;

private:
  CpuKernel() = default;
  llvm::Error loadObject(llvm::StringRef function, llvm::StringRef object);
  std::unique_ptr<llvm::orc::LLJIT> jit;
  std::string objectBytes;
  ArrayAttr kernelFacts;
  void *entry = nullptr;
};

} // namespace sattn
} // namespace mlir

#endif // SATTN_RUNTIME_CPUKERNEL_H
