//===- CpuKernel.h - a spec function JIT-compiled for the host --*- C++ -*-===//

#ifndef SATTN_RUNTIME_CPUKERNEL_H
#define SATTN_RUNTIME_CPUKERNEL_H

#include "sattn/Dialect/SAttn/IR/SAttnOps.h"
#include "sattn/Runtime/HostTensor.h"

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
/// resolveSpecFunction().
llvm::Expected<LoadedSpec> loadSpecFile(llvm::StringRef path,
                                        llvm::StringRef function,
                                        MLIRContext &context,
                                        llvm::SourceMgr &sourceMgr);

/// What emitHostCode() produces.
enum class HostCodeKind { Object, Assembly, LLVMIR, LoweredMLIR };

/// Lowers `function` of (a clone of) `module` with -sattn-lower-to-llvm for
/// the host CPU and returns it as an object file, assembly, LLVM IR or the
/// lowered MLIR. The function gets a C interface `_mlir_ciface_<function>`
/// taking pointers to memref descriptors (inputs, then outputs). Diagnostics
/// go into the returned error.
llvm::Expected<std::string>
emitHostCode(ModuleOp module, llvm::StringRef function, HostCodeKind kind);

/// A host CPU name and feature string identifying the code emitHostCode()
/// produces here (part of cache keys).
std::string hostTargetId();

/// A spec function compiled for the host and loaded into this process.
class CpuKernel {
public:
  ~CpuKernel();

  /// Compiles `function` of `module` (emitHostCode) and loads it.
  static llvm::Expected<std::unique_ptr<CpuKernel>>
  compile(ModuleOp module, llvm::StringRef function);

  /// Loads an object emitted earlier by emitHostCode() for the same spec.
  static llvm::Expected<std::unique_ptr<CpuKernel>>
  load(ModuleOp module, llvm::StringRef function, llvm::StringRef object);

  /// The object file this kernel runs (for caches and AOT).
  llvm::StringRef object() const { return objectBytes; }

  llvm::ArrayRef<TensorSig> inputs() const { return inputSigs; }
  llvm::ArrayRef<TensorSig> outputs() const { return outputSigs; }
  llvm::ArrayRef<ResultSource> sources() const { return resultSources; }
  double compileSeconds() const { return seconds; }

  /// The output shapes for the given input shapes, after checking the inputs
  /// against the signature and SPEC.md's shape rules.
  llvm::Expected<std::vector<std::vector<int64_t>>>
  outputShapes(llvm::ArrayRef<TensorView> inputs) const;

  /// Runs the kernel; `outputs` must have the shapes of outputShapes().
  llvm::Error run(llvm::ArrayRef<TensorView> inputs,
                  llvm::ArrayRef<TensorView> outputs) const;

private:
  CpuKernel() = default;
  llvm::Error prepare(ModuleOp module, llvm::StringRef function);
  llvm::Error loadObject(llvm::StringRef function);
  std::unique_ptr<llvm::orc::LLJIT> jit;
  std::string objectBytes;
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
