//===- SpecKernel.cpp - a spec function and its signature -----------------===//

#include "sattn/Runtime/SpecKernel.h"
#include "sattn/Runtime/CpuKernel.h"
#include "sattn/Runtime/GpuKernel.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;
using namespace mlir::sattn;

static llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

static std::optional<ElemKind> elemKindOf(Type type) {
  if (type.isF32())
    return ElemKind::F32;
  if (type.isF16())
    return ElemKind::F16;
  if (type.isBF16())
    return ElemKind::BF16;
  return std::nullopt;
}

static llvm::Expected<TensorSig> sigOf(Type type, const llvm::Twine &what) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  std::optional<ElemKind> kind =
      tensor ? elemKindOf(tensor.getElementType()) : std::nullopt;
  if (!kind)
    return makeError(what + " must be a ranked tensor of f32, f16 or bf16");
  return TensorSig{std::vector<int64_t>(tensor.getShape()), *kind};
}

llvm::Error mlir::sattn::analyzeSpec(func::FuncOp function,
                                     std::vector<TensorSig> &inputs,
                                     std::vector<TensorSig> &outputs,
                                     std::vector<ResultSource> &sources) {
  StringRef name = function.getSymName();
  if (function.isExternal())
    return makeError("function '" + name + "' has no body");
  for (auto [i, type] : llvm::enumerate(function.getArgumentTypes())) {
    auto sig =
        sigOf(type, "argument #" + llvm::Twine(i) + " of '" + name + "'");
    if (!sig)
      return sig.takeError();
    inputs.push_back(*sig);
  }
  auto ret = cast<func::ReturnOp>(function.getBody().front().getTerminator());
  for (auto [i, value] : llvm::enumerate(ret.getOperands())) {
    auto result = dyn_cast<OpResult>(value);
    auto op = result ? dyn_cast<AttentionOp>(result.getOwner()) : AttentionOp();
    auto argNumber = [&](Value operand) -> std::optional<unsigned> {
      auto arg = dyn_cast<BlockArgument>(operand);
      if (!arg || arg.getOwner()->getParentOp() != function)
        return std::nullopt;
      return arg.getArgNumber();
    };
    std::optional<unsigned> q, k, v;
    if (op) {
      q = argNumber(op.getQuery());
      k = argNumber(op.getKey());
      v = argNumber(op.getValue());
    }
    if (!q || !k || !v)
      return makeError("result #" + llvm::Twine(i) + " of '" + name +
                       "' must be a result of a sattn.attention whose Q, K "
                       "and V are arguments of the function");
    auto sig = sigOf(value.getType(), "result #" + llvm::Twine(i));
    if (!sig)
      return sig.takeError();
    if (result.getResultNumber() == 1)
      sig->kind = ElemKind::F32;
    outputs.push_back(*sig);
    sources.push_back({*q, *k, *v, result.getResultNumber(), op});
  }
  if (outputs.empty())
    return makeError("function '" + name + "' returns nothing");
  return llvm::Error::success();
}

llvm::Expected<std::string>
mlir::sattn::resolveSpecFunction(ModuleOp module, StringRef requested) {
  if (!requested.empty()) {
    if (!module.lookupSymbol<func::FuncOp>(requested))
      return makeError("no function '" + requested + "' in the spec");
    return requested.str();
  }
  SmallVector<func::FuncOp> publics;
  module.walk([&](func::FuncOp f) {
    if (f.isPublic() && !f.isExternal())
      publics.push_back(f);
  });
  if (publics.size() != 1)
    return makeError("the spec has " + llvm::Twine(publics.size()) +
                     " public functions: choose one");
  return publics.front().getSymName().str();
}

llvm::Expected<LoadedSpec>
mlir::sattn::loadSpecFile(StringRef path, StringRef function,
                          MLIRContext &context, llvm::SourceMgr &sourceMgr) {
  LoadedSpec spec;
  spec.module =
      parseSourceFile<ModuleOp>(path, sourceMgr, ParserConfig(&context));
  if (!spec.module)
    return makeError("cannot read the spec '" + path + "'");
  auto resolved = resolveSpecFunction(*spec.module, function);
  if (!resolved) {
    std::string msg = llvm::toString(resolved.takeError());
    return makeError(StringRef(msg).ends_with("choose one")
                         ? msg + " with --function"
                         : msg);
  }
  spec.function = std::move(*resolved);
  return spec;
}

DiagnosticCollector::DiagnosticCollector(MLIRContext *ctx)
    : stream(text), handler(ctx, [this](Diagnostic &diag) {
        auto print = [&](Diagnostic &d, StringRef kind) {
          if (auto file = d.getLocation()->findInstanceOf<FileLineColLoc>())
            stream << file.getFilename().getValue() << ":" << file.getLine()
                   << ":" << file.getColumn() << ": ";
          stream << kind << ": " << d << "\n";
        };
        print(diag, diag.getSeverity() == DiagnosticSeverity::Error
                        ? "error"
                        : "warning");
        for (Diagnostic &note : diag.getNotes())
          if (!StringRef(note.str()).starts_with("see current operation"))
            print(note, "note");
        return success();
      }) {}

void mlir::sattn::registerKernelDependencies(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<SAttnDialect>();
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
  // GPU kernels: gpu-module-to-binary translates gpu.module and NVVM.
  registerGPUDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
}

SpecKernel::~SpecKernel() = default;

llvm::Error SpecKernel::prepare(ModuleOp module, StringRef function) {
  spec = module.clone();
  auto fn = spec->lookupSymbol<func::FuncOp>(function);
  if (!fn)
    return makeError("no function '" + function + "' in the spec");
  return analyzeSpec(fn, inputSigs, outputSigs, resultSources);
}

llvm::Expected<std::vector<std::vector<int64_t>>>
SpecKernel::outputShapes(llvm::ArrayRef<TensorView> inputs) const {
  if (inputs.size() != inputSigs.size())
    return makeError("the function takes " + llvm::Twine(inputSigs.size()) +
                     " inputs, got " + llvm::Twine(inputs.size()));
  for (auto [i, view] : llvm::enumerate(inputs)) {
    const TensorView *t = &view;
    const TensorSig &sig = inputSigs[i];
    std::string where = ("input #" + llvm::Twine(i) + ": ").str();
    if (t->kind != sig.kind)
      return makeError(where + "element type " + elemKindName(t->kind) +
                       ", the function wants " + elemKindName(sig.kind));
    if (t->shape.size() != sig.shape.size())
      return makeError(where + "shape " + shapeString(t->shape) + " has rank " +
                       llvm::Twine(t->shape.size()) + ", the function wants " +
                       llvm::Twine(sig.shape.size()));
    for (auto [d, want] : llvm::enumerate(sig.shape))
      if (!ShapedType::isDynamic(want) && t->shape[d] != want)
        return makeError(where + "shape " + shapeString(t->shape) +
                         " does not match the function's dim " +
                         llvm::Twine(d) + " = " + llvm::Twine(want));
  }
  std::vector<std::vector<int64_t>> shapes;
  for (const ResultSource &src : resultSources) {
    ArrayRef<int64_t> q = inputs[src.q].shape, k = inputs[src.k].shape,
                      v = inputs[src.v].shape;
    // SPEC.md's shape rules on the concrete shapes.
    if (q[0] != k[0] || q[0] != v[0])
      return makeError("batch sizes differ: Q " + shapeString(q) + ", K " +
                       shapeString(k) + ", V " + shapeString(v));
    if (k[1] != v[1] || k[2] != v[2])
      return makeError("K " + shapeString(k) + " and V " + shapeString(v) +
                       " must agree in heads and length");
    if (k[1] == 0 ? q[1] != 0 : q[1] % k[1] != 0)
      return makeError("query heads (" + llvm::Twine(q[1]) +
                       ") must be a multiple of key/value heads (" +
                       llvm::Twine(k[1]) + ")");
    if (q[3] != k[3])
      return makeError("head dims of Q and K differ");
    if (std::optional<int64_t> lk = k[2]; failed(src.op.getMask().verifyShape(
            [&] { return src.op.emitError(); }, lk)))
      return makeError("the mask does not fit Lk = " + llvm::Twine(k[2]));
    if (src.resultNumber == 0)
      shapes.push_back({q[0], q[1], q[2], v[3]});
    else
      shapes.push_back({q[0], q[1], q[2]});
  }
  return shapes;
}

llvm::Error SpecKernel::checkOutputs(llvm::ArrayRef<TensorView> inputs,
                                     llvm::ArrayRef<TensorView> outputs) const {
  auto shapes = outputShapes(inputs);
  if (!shapes)
    return shapes.takeError();
  if (outputs.size() != shapes->size())
    return makeError("the function has " + llvm::Twine(shapes->size()) +
                     " results, got " + llvm::Twine(outputs.size()) +
                     " output buffers");
  for (auto [i, t] : llvm::enumerate(outputs))
    if (t.shape != ArrayRef<int64_t>((*shapes)[i]) ||
        t.kind != outputSigs[i].kind)
      return makeError("output #" + llvm::Twine(i) + " must be " +
                       elemKindName(outputSigs[i].kind) + " " +
                       shapeString((*shapes)[i]));
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<SpecKernel>>
mlir::sattn::compileSpecKernel(ModuleOp module, StringRef function,
                               KernelDevice device) {
  if (device == KernelDevice::Cuda)
    return GpuKernel::compile(module, function);
  return CpuKernel::compile(module, function);
}

llvm::Expected<std::unique_ptr<SpecKernel>>
mlir::sattn::loadSpecKernel(ModuleOp module, StringRef function,
                            KernelDevice device, StringRef binary) {
  if (device == KernelDevice::Cuda)
    return GpuKernel::load(module, function, binary);
  return CpuKernel::load(module, function, binary);
}
