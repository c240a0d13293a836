//===- SpecKernel.h - a spec function and its signature ---------*- C++ -*-===//
//
// What every compiled spec function has, whatever runs it: the signature of
// the function (tensor arguments, results of sattn.attention ops) and the
// output shapes for given input shapes (SPEC.md's shape rules).
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_RUNTIME_SPECKERNEL_H
#define SATTN_RUNTIME_SPECKERNEL_H

#include "sattn/Dialect/SAttn/IR/SAttnOps.h"
#include "sattn/Runtime/HostTensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/Error.h"
#include <memory>

namespace llvm {
class SourceMgr;
} // namespace llvm

namespace mlir {
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

/// The function of `module` to compile: `requested` if given (it must
/// exist), else the module's only public function with a body.
llvm::Expected<std::string> resolveSpecFunction(ModuleOp module,
                                                llvm::StringRef requested);

/// A spec file parsed into a module, and the function to compile.
struct LoadedSpec {
  OwningOpRef<ModuleOp> module;
  std::string function;
};

/// Parses the spec file `path` (diagnostics go through `sourceMgr`'s
/// handler, if one is installed) and resolves `function` with
/// resolveSpecFunction(); for the tools, whose `--function` an ambiguous
/// spec's error then names.
llvm::Expected<LoadedSpec> loadSpecFile(llvm::StringRef path,
                                        llvm::StringRef function,
                                        MLIRContext &context,
                                        llvm::SourceMgr &sourceMgr);

/// Collects the diagnostics of a context into `text` while alive, as
/// "file:line:col: error: message" lines.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(MLIRContext *ctx);
  std::string text;

private:
  llvm::raw_string_ostream stream;
  ScopedDiagnosticHandler handler;
};

/// Where a kernel's tensors live.
enum class KernelDevice { Host, Cuda };

/// A compiled spec function: its signature and a way to run it.
class SpecKernel {
public:
  virtual ~SpecKernel();

  llvm::ArrayRef<TensorSig> inputs() const { return inputSigs; }
  llvm::ArrayRef<TensorSig> outputs() const { return outputSigs; }
  llvm::ArrayRef<ResultSource> sources() const { return resultSources; }
  /// Where run() expects the data of its tensors.
  virtual KernelDevice device() const { return KernelDevice::Host; }
  /// What a cache keeps to load the kernel again (loadSpecKernel): the host
  /// object file, or the PTX.
  virtual llvm::StringRef binary() const = 0;

  /// The output shapes for the given input shapes, after checking the inputs
  /// against the signature and SPEC.md's shape rules.
  llvm::Expected<std::vector<std::vector<int64_t>>>
  outputShapes(llvm::ArrayRef<TensorView> inputs) const;

  /// Runs the kernel on tensors in device() memory; `outputs` must have the
  /// shapes of outputShapes().
  virtual llvm::Error run(llvm::ArrayRef<TensorView> inputs,
                          llvm::ArrayRef<TensorView> outputs) const = 0;

protected:
  /// Clones the spec and reads the signature of `function`.
  llvm::Error prepare(ModuleOp module, llvm::StringRef function);
  /// Checks `outputs` against outputShapes(inputs).
  llvm::Error checkOutputs(llvm::ArrayRef<TensorView> inputs,
                           llvm::ArrayRef<TensorView> outputs) const;

  std::vector<TensorSig> inputSigs, outputSigs;
  std::vector<ResultSource> resultSources;
  OwningOpRef<ModuleOp> spec; // the spec as written, for shapes and masks
};

/// Registers what compiling a spec for the CPU or the GPU needs (dialects,
/// LLVM translations); idempotent.
void registerKernelDependencies(DialectRegistry &registry);

/// Compiles `function` of `module` for the host CPU (KernelDevice::Host) or
/// an NVIDIA GPU (KernelDevice::Cuda).
llvm::Expected<std::unique_ptr<SpecKernel>>
compileSpecKernel(ModuleOp module, llvm::StringRef function,
                  KernelDevice device);
/// The kernel of binary() of an earlier compileSpecKernel() of the same spec.
llvm::Expected<std::unique_ptr<SpecKernel>>
loadSpecKernel(ModuleOp module, llvm::StringRef function, KernelDevice device,
               llvm::StringRef binary);

} // namespace sattn
} // namespace mlir

#endif // SATTN_RUNTIME_SPECKERNEL_H
