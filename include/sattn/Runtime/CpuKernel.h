//===- CpuKernel.h - a spec function JIT-compiled for the host --*- C++ -*-===//

#ifndef SATTN_RUNTIME_CPUKERNEL_H
#define SATTN_RUNTIME_CPUKERNEL_H

#include "sattn/Dialect/SAttn/IR/SAttnOps.h"
#include "sattn/Runtime/HostTensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include <memory>

namespace mlir {
class ExecutionEngine;
namespace sattn {

/// The declared type of one argument or result of a spec function.
struct TensorSig {
  std::vector<int64_t> shape; // ShapedType::kDynamic for `?`
  ElemKind kind;
};

/// One result of a spec function: result `resultNumber` of the
/// sattn.attention whose Q, K, V are the function arguments `q`, `k`, `v`.
struct ResultSource {
  unsigned q, k, v;
  unsigned resultNumber; // 0: O, 1: LSE
  mutable AttentionOp op;
};

/// Reads the signature of `function` in `module` and checks that it is a spec
/// the runtime can call: tensor arguments, results returned straight from
/// sattn.attention ops on those arguments.
llvm::Error analyzeSpec(func::FuncOp function, std::vector<TensorSig> &inputs,
                        std::vector<TensorSig> &outputs,
                        std::vector<ResultSource> &sources);

/// A spec function compiled by -sattn-lower-to-llvm and the LLVM JIT.
class CpuKernel {
public:
  ~CpuKernel();

  /// Compiles `function` of (a clone of) `module`. Diagnostics go into the
  /// returned error.
  static llvm::Expected<std::unique_ptr<CpuKernel>>
  compile(ModuleOp module, llvm::StringRef function);

  llvm::ArrayRef<TensorSig> inputs() const { return inputSigs; }
  llvm::ArrayRef<TensorSig> outputs() const { return outputSigs; }
  llvm::ArrayRef<ResultSource> sources() const { return resultSources; }
  double compileSeconds() const { return seconds; }

  /// The output shapes for the given input shapes, after checking the inputs
  /// against the signature and SPEC.md's shape rules.
  llvm::Expected<std::vector<std::vector<int64_t>>>
  outputShapes(llvm::ArrayRef<const HostTensor *> inputs) const;

  /// Runs the kernel; `outputs` must have the shapes of outputShapes().
  llvm::Error run(llvm::ArrayRef<const HostTensor *> inputs,
                  llvm::ArrayRef<HostTensor *> outputs) const;

private:
  CpuKernel() = default;
  std::unique_ptr<ExecutionEngine> engine;
  void *entry = nullptr;
  std::vector<TensorSig> inputSigs, outputSigs;
  std::vector<ResultSource> resultSources;
  OwningOpRef<ModuleOp> spec; // the spec as written, for shapes and masks
  double seconds = 0;
};

/// Registers what compiling a spec needs (dialects, LLVM translations) and
/// initializes the native target; idempotent.
void registerCpuKernelDependencies(DialectRegistry &registry);

} // namespace sattn
} // namespace mlir

#endif // SATTN_RUNTIME_CPUKERNEL_H
