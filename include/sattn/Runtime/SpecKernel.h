//===- SpecKernel.h - a spec function and its signature ---------*- C++ -*-===//
//
// What every compiled spec function has, whatever runs it: the signature of
// the function (tensor arguments, results of sattn.attention ops) and the
// output shapes for given input shapes (docs/Semantics.md's shape rules).
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

/// One op of a spec function, in program order. Its operands are value ids
/// (SpecSignature).
struct SpecStep {
  /// The forward op (sattn.attention, paged, varlen), or null for
  /// sattn.attention_grad (grad()).
  mutable AttentionOpInterface op;
  mutable Operation *operation;
  unsigned q, k, v; // Q; K and V, or the K and V caches
  /// paged: block_table, seq_lens; varlen: cu_seqlens_q, cu_seqlens_k;
  /// grad: O, dO, LSE
  std::vector<unsigned> indices;
  /// The sattn.paged_attention of this step, or null.
  PagedAttentionOp paged() const {
    return dyn_cast<PagedAttentionOp>(operation);
  }
  /// The sattn.varlen_attention of this step, or null.
  VarlenAttentionOp varlen() const {
    return dyn_cast<VarlenAttentionOp>(operation);
  }
  /// The sattn.attention_grad of this step, or null.
  AttentionGradOp grad() const { return dyn_cast<AttentionGradOp>(operation); }
  MaskAttrInterface mask() const {
    return grad() ? grad().getMask() : op.getMask();
  }
  /// The element type of Q.
  Type elementType() const {
    return cast<RankedTensorType>(operation->getOperand(0).getType())
        .getElementType();
  }
};

/// What the runtime calls: tensor arguments in, results of the ops out, any
/// dataflow between the ops. Values are numbered: ids below inputs.size()
/// are the arguments; `numInputs + kValuesPerStep * s + r` is result r of
/// step s (forward: 0 O, 1 LSE; grad: 0 dQ, 1 dK, 2 dV).
struct SpecSignature {
  static constexpr unsigned kValuesPerStep = 3;
  std::vector<TensorSig> inputs, outputs;
  std::vector<SpecStep> steps;
  std::vector<unsigned> outputValues; // the value id of each result

  unsigned numValues() const {
    return inputs.size() + kValuesPerStep * steps.size();
  }
  /// The step and result number of a value that is not an input.
  std::pair<unsigned, unsigned> producer(unsigned value) const {
    unsigned r = value - inputs.size();
    return {r / kValuesPerStep, r % kValuesPerStep};
  }
};

/// Reads the signature of `function` and checks that it is a spec the
/// runtime can call: tensor arguments, a body of attention ops whose
/// operands are arguments or earlier results, results returned from them.
llvm::Error analyzeSpec(func::FuncOp function, SpecSignature &signature);

/// A copy of `module` without its other spec functions (public functions
/// with a body), so that compiling `function` does not lower them too.
OwningOpRef<ModuleOp> cloneForFunction(ModuleOp module,
                                       llvm::StringRef function);

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

/// Bad index data (a block-table entry, a sequence length): the caller's
/// argument is invalid, whatever device the kernel runs on.
class IndexDataError : public llvm::ErrorInfo<IndexDataError> {
public:
  static char ID;
  explicit IndexDataError(std::string message) : message(std::move(message)) {}
  void log(llvm::raw_ostream &os) const override { os << message; }
  std::error_code convertToErrorCode() const override {
    return llvm::inconvertibleErrorCode();
  }

private:
  std::string message;
};

/// A compiled spec function: its signature and a way to run it.
class SpecKernel {
public:
  virtual ~SpecKernel();

  const SpecSignature &signature() const { return sig; }
  llvm::ArrayRef<TensorSig> inputs() const { return sig.inputs; }
  llvm::ArrayRef<TensorSig> outputs() const { return sig.outputs; }
  llvm::ArrayRef<SpecStep> steps() const { return sig.steps; }
  /// Where run() expects the data of its tensors.
  virtual KernelDevice device() const { return KernelDevice::Host; }
  /// What a cache keeps to load the kernel again (loadSpecKernel): the host
  /// object file, or the PTX.
  virtual llvm::StringRef binary() const = 0;

  /// The output shapes for the given input shapes, after checking the inputs
  /// against the signature and docs/Semantics.md's shape rules.
  llvm::Expected<std::vector<std::vector<int64_t>>>
  outputShapes(llvm::ArrayRef<TensorView> inputs) const;
  /// The same for every value (SpecSignature's numbering).
  llvm::Expected<std::vector<std::vector<int64_t>>>
  valueShapes(llvm::ArrayRef<TensorView> inputs) const;

  /// Checks the index data of the inputs (block tables, sequence lengths,
  /// cu_seqlens),
  /// in host memory: each error names the operand, the position and the
  /// value (docs/Semantics.md's run-time rules).
  llvm::Error checkIndexData(llvm::ArrayRef<TensorView> inputs) const;

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

  SpecSignature sig;
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
