//===- CpuKernel.cpp - a spec function JIT-compiled for the host ----------===//

#include "sattn/Runtime/CpuKernel.h"
#include "sattn/Pipelines/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include <chrono>
#include <mutex>

using namespace mlir;
using namespace mlir::sattn;

#ifndef SATTN_LIBOMP_PATH
#define SATTN_LIBOMP_PATH "libomp.so"
#endif

static llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

void mlir::sattn::registerCpuKernelDependencies(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<SAttnDialect>();
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
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
  if (!resolved)
    return resolved.takeError();
  spec.function = std::move(*resolved);
  return spec;
}

CpuKernel::~CpuKernel() = default;

/// Collects the diagnostics of `ctx` into a string while alive.
namespace {
struct DiagnosticCollector {
  DiagnosticCollector(MLIRContext *ctx)
      : stream(text), handler(ctx, [this](Diagnostic &diag) {
          stream << diag.getLocation() << ": " << diag << "\n";
          for (Diagnostic &note : diag.getNotes())
            stream << note.getLocation() << ": note: " << note << "\n";
          return success();
        }) {}
  std::string text;
  llvm::raw_string_ostream stream;
  ScopedDiagnosticHandler handler;
};
} // namespace

static llvm::Expected<std::unique_ptr<llvm::TargetMachine>> hostMachine() {
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return builder.takeError();
  builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  builder->setRelocationModel(llvm::Reloc::PIC_);
  return builder->createTargetMachine();
}

std::string mlir::sattn::hostTargetId() {
  static std::once_flag init;
  std::call_once(init, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  auto tm = hostMachine();
  if (!tm) {
    llvm::consumeError(tm.takeError());
    return "unknown";
  }
  return ((*tm)->getTargetTriple().str() + "/" + (*tm)->getTargetCPU() + "/" +
          (*tm)->getTargetFeatureString())
      .str();
}

llvm::Expected<std::string> mlir::sattn::emitHostCode(ModuleOp module,
                                                      StringRef function,
                                                      HostCodeKind kind) {
  (void)hostTargetId(); // initializes the native target
  MLIRContext *ctx = module.getContext();
  DiagnosticCollector diags(ctx);
  OwningOpRef<ModuleOp> lowered = module.clone();
  auto fn = lowered->lookupSymbol<func::FuncOp>(function);
  if (!fn)
    return makeError("no function '" + function + "' in the spec");
  fn->setAttr("llvm.emit_c_interface", UnitAttr::get(ctx));
  PassManager pm(ctx);
  if (failed(buildLowerToLLVMPipeline(pm)) || failed(pm.run(*lowered)))
    return makeError("compilation failed:\n" + diags.text);
  std::string out;
  llvm::raw_string_ostream os(out);
  if (kind == HostCodeKind::LoweredMLIR) {
    lowered->print(os);
    return out;
  }

  auto tm = hostMachine();
  if (!tm)
    return tm.takeError();
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(*lowered, llvmContext);
  if (!llvmModule)
    return makeError("translation to LLVM IR failed:\n" + diags.text);
  llvmModule->setDataLayout((*tm)->createDataLayout());
  llvmModule->setTargetTriple((*tm)->getTargetTriple());
  if (llvm::Error err = makeOptimizingTransformer(/*optLevel=*/3,
                                                  /*sizeLevel=*/0,
                                                  tm->get())(llvmModule.get()))
    return std::move(err);
  if (kind == HostCodeKind::LLVMIR) {
    llvmModule->print(os, nullptr);
    return out;
  }
  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream bufferStream(buffer);
  llvm::legacy::PassManager codegen;
  if ((*tm)->addPassesToEmitFile(codegen, bufferStream, nullptr,
                                 kind == HostCodeKind::Object
                                     ? llvm::CodeGenFileType::ObjectFile
                                     : llvm::CodeGenFileType::AssemblyFile))
    return makeError("the host target cannot emit this file type");
  codegen.run(*llvmModule);
  return std::string(buffer.begin(), buffer.end());
}

llvm::Error CpuKernel::prepare(ModuleOp module, StringRef function) {
  spec = module.clone();
  auto fn = spec->lookupSymbol<func::FuncOp>(function);
  if (!fn)
    return makeError("no function '" + function + "' in the spec");
  return analyzeSpec(fn, inputSigs, outputSigs, resultSources);
}

llvm::Error CpuKernel::loadObject(StringRef function) {
  static std::once_flag libs;
  std::call_once(libs, [] {
    // The kernels call the OpenMP runtime; resolve it from this process.
    llvm::sys::DynamicLibrary::LoadLibraryPermanently(SATTN_LIBOMP_PATH);
  });
  auto created = llvm::orc::LLJITBuilder().create();
  if (!created)
    return created.takeError();
  jit = std::move(*created);
  auto generator =
      llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
          jit->getDataLayout().getGlobalPrefix());
  if (!generator)
    return generator.takeError();
  jit->getMainJITDylib().addGenerator(std::move(*generator));
  if (llvm::Error err = jit->addObjectFile(
          llvm::MemoryBuffer::getMemBufferCopy(objectBytes, "sattn-kernel")))
    return err;
  auto symbol = jit->lookup(("_mlir_ciface_" + function).str());
  if (!symbol)
    return symbol.takeError();
  entry = symbol->toPtr<void *>();
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<CpuKernel>>
CpuKernel::compile(ModuleOp module, StringRef function) {
  auto start = std::chrono::steady_clock::now();
  auto object = emitHostCode(module, function, HostCodeKind::Object);
  if (!object)
    return object.takeError();
  if (const char *dumpPath = std::getenv("SATTN_DUMP_OBJECT")) {
    std::error_code ec;
    llvm::raw_fd_ostream(dumpPath, ec) << *object;
  }
  auto kernel = load(module, function, *object);
  if (kernel)
    (*kernel)->seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
  return kernel;
}

llvm::Expected<std::unique_ptr<CpuKernel>>
CpuKernel::load(ModuleOp module, StringRef function, StringRef object) {
  auto start = std::chrono::steady_clock::now();
  std::unique_ptr<CpuKernel> kernel(new CpuKernel());
  if (llvm::Error err = kernel->prepare(module, function))
    return std::move(err);
  kernel->objectBytes = object.str();
  if (llvm::Error err = kernel->loadObject(function))
    return std::move(err);
  kernel->seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return kernel;
}

llvm::Expected<std::vector<std::vector<int64_t>>>
CpuKernel::outputShapes(llvm::ArrayRef<TensorView> inputs) const {
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

/// A memref descriptor {allocated, aligned, offset, sizes[R], strides[R]}
/// for a row-major tensor.
static std::vector<int64_t> descriptor(void *data, ArrayRef<int64_t> shape) {
  std::vector<int64_t> desc = {reinterpret_cast<int64_t>(data),
                               reinterpret_cast<int64_t>(data), 0};
  desc.insert(desc.end(), shape.begin(), shape.end());
  std::vector<int64_t> strides(shape.size(), 1);
  for (int64_t i = int64_t(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  desc.insert(desc.end(), strides.begin(), strides.end());
  return desc;
}

llvm::Error CpuKernel::run(llvm::ArrayRef<TensorView> inputs,
                           llvm::ArrayRef<TensorView> outputs) const {
  auto shapes = outputShapes(inputs);
  if (!shapes)
    return shapes.takeError();
  if (outputs.size() != shapes->size())
    return makeError("the function has " + llvm::Twine(shapes->size()) +
                     " results, got " + llvm::Twine(outputs.size()) +
                     " output buffers");
  std::vector<std::vector<int64_t>> descs;
  for (const TensorView &t : inputs)
    descs.push_back(descriptor(t.data, t.shape));
  for (auto [i, t] : llvm::enumerate(outputs)) {
    if (t.shape != ArrayRef<int64_t>((*shapes)[i]) ||
        t.kind != outputSigs[i].kind)
      return makeError("output #" + llvm::Twine(i) + " must be " +
                       elemKindName(outputSigs[i].kind) + " " +
                       shapeString((*shapes)[i]));
    descs.push_back(descriptor(t.data, t.shape));
  }
  std::vector<void *> args;
  for (auto &d : descs)
    args.push_back(d.data());
  using P = void *;
  switch (args.size()) {
  case 2:
    reinterpret_cast<void (*)(P, P)>(entry)(args[0], args[1]);
    break;
  case 3:
    reinterpret_cast<void (*)(P, P, P)>(entry)(args[0], args[1], args[2]);
    break;
  case 4:
    reinterpret_cast<void (*)(P, P, P, P)>(entry)(args[0], args[1], args[2],
                                                  args[3]);
    break;
  case 5:
    reinterpret_cast<void (*)(P, P, P, P, P)>(entry)(args[0], args[1], args[2],
                                                     args[3], args[4]);
    break;
  case 6:
    reinterpret_cast<void (*)(P, P, P, P, P, P)>(entry)(
        args[0], args[1], args[2], args[3], args[4], args[5]);
    break;
  case 7:
    reinterpret_cast<void (*)(P, P, P, P, P, P, P)>(entry)(
        args[0], args[1], args[2], args[3], args[4], args[5], args[6]);
    break;
  case 8:
    reinterpret_cast<void (*)(P, P, P, P, P, P, P, P)>(entry)(
        args[0], args[1], args[2], args[3], args[4], args[5], args[6], args[7]);
    break;
  default:
    return makeError(
        "functions with " + llvm::Twine(args.size()) +
        " tensor arguments and results are not supported (2 to 8)");
  }
  return llvm::Error::success();
}
