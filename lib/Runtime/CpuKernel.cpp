//===- CpuKernel.cpp - a spec function JIT-compiled for the host ----------===//

#include "sattn/Runtime/CpuKernel.h"
#include "sattn/Dialect/SAttn/IR/SAttnAttrs.h"
#include "sattn/Pipelines/Pipelines.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include <array>
#include <mutex>
#include <tuple>
#include <utility>

using namespace mlir;
using namespace mlir::sattn;

#ifndef SATTN_LIBOMP_PATH
#define SATTN_LIBOMP_PATH "libomp.so"
#endif

static llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

CpuKernel::~CpuKernel() = default;

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

/// x86 without AVX512-BF16 legalizes some bf16 operations (selects that the
/// optimizer forms out of arith-expand's rounding) through calls of
/// __truncsfbf2, which compiler-rt has and libgcc 12 lacks. Each object
/// defines it, weak and hidden: f32 to bf16 rounding to nearest even, NaN
/// kept quiet, on integers only and not optimized (so that it never turns
/// into a call of itself).
static void defineTruncSFBF2(llvm::Module &module) {
  if (module.getFunction("__truncsfbf2"))
    return;
  llvm::LLVMContext &ctx = module.getContext();
  auto *fn = llvm::Function::Create(
      llvm::FunctionType::get(llvm::Type::getBFloatTy(ctx),
                              {llvm::Type::getFloatTy(ctx)}, false),
      llvm::GlobalValue::WeakAnyLinkage, "__truncsfbf2", module);
  fn->setVisibility(llvm::GlobalValue::HiddenVisibility);
  fn->addFnAttr(llvm::Attribute::NoInline);
  fn->addFnAttr(llvm::Attribute::OptimizeNone);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", fn));
  llvm::Value *x = fn->getArg(0);
  llvm::Value *bits = b.CreateBitCast(x, b.getInt32Ty());
  llvm::Value *high = b.CreateLShr(bits, 16);
  // bf16 = (bits + 0x7fff + (bits >> 16 & 1)) >> 16, or a quiet NaN
  llvm::Value *rounded =
      b.CreateLShr(b.CreateAdd(b.CreateAdd(bits, b.getInt32(0x7fff)),
                               b.CreateAnd(high, b.getInt32(1))),
                   16);
  llvm::Value *result = b.CreateSelect(
      b.CreateFCmpUNO(x, x), b.CreateOr(high, b.getInt32(0x40)), rounded);
  b.CreateRet(
      b.CreateBitCast(b.CreateTrunc(result, b.getInt16Ty()), b.getBFloatTy()));
}

llvm::Expected<std::string> mlir::sattn::emitHostCode(ModuleOp module,
                                                      StringRef function,
                                                      HostCodeKind kind) {
  (void)hostTargetId(); // initializes the native target
  MLIRContext *ctx = module.getContext();
  DiagnosticCollector diags(ctx);
  OwningOpRef<ModuleOp> lowered = cloneForFunction(module, function);
  auto fn = lowered->lookupSymbol<func::FuncOp>(function);
  if (!fn)
    return makeError("no function '" + function + "' in the spec");
  fn->setAttr("llvm.emit_c_interface", UnitAttr::get(ctx));
  PassManager pm(ctx);
  if (failed(buildLowerToLLVMPipeline(pm)) || failed(pm.run(*lowered)))
    return makeError("compilation failed:\n" + diags.text);
  // The kernels' facts, as a C string the object carries.
  std::string facts;
  if (auto host = lowered->lookupSymbol<LLVM::LLVMFuncOp>(function))
    if (Attribute known = host->getAttr("sattn.cpu_kernels"))
      llvm::raw_string_ostream(facts) << known;
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
  defineTruncSFBF2(*llvmModule);
  new llvm::GlobalVariable(
      *llvmModule,
      llvm::ArrayType::get(llvm::Type::getInt8Ty(llvmContext),
                           facts.size() + 1),
      /*isConstant=*/true, llvm::GlobalValue::ExternalLinkage,
      llvm::ConstantDataArray::getString(llvmContext, facts),
      ("__sattn_kernels_" + function).str());
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

llvm::Error CpuKernel::loadObject(StringRef function, StringRef object) {
  objectBytes = object.str();
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
  auto facts = jit->lookup(("__sattn_kernels_" + function).str());
  if (!facts)
    return facts.takeError();
  MLIRContext *ctx = sig.steps.front().operation->getContext();
  kernelFacts = dyn_cast_or_null<ArrayAttr>(
      parseAttribute(facts->toPtr<const char *>(), ctx));
  if (!kernelFacts || kernelFacts.size() != sig.steps.size() ||
      !llvm::all_of(kernelFacts, llvm::IsaPred<CpuKernelAttr>))
    return makeError("the object's kernel facts (__sattn_kernels_" + function +
                     ") do not describe its " + llvm::Twine(sig.steps.size()) +
                     " ops");
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<CpuKernel>>
CpuKernel::compile(ModuleOp module, StringRef function) {
  // The signature first: what the runtime cannot call is rejected before
  // anything is compiled.
  std::unique_ptr<CpuKernel> kernel(new CpuKernel());
  if (llvm::Error err = kernel->prepare(module, function))
    return std::move(err);
  auto object = emitHostCode(module, function, HostCodeKind::Object);
  if (!object)
    return object.takeError();
  if (const char *dumpPath = std::getenv("SATTN_DUMP_OBJECT")) {
    std::error_code ec;
    llvm::raw_fd_ostream(dumpPath, ec) << *object;
  }
  if (llvm::Error err = kernel->loadObject(function, *object))
    return std::move(err);
  return kernel;
}

llvm::Expected<std::unique_ptr<CpuKernel>>
CpuKernel::load(ModuleOp module, StringRef function, StringRef object) {
  std::unique_ptr<CpuKernel> kernel(new CpuKernel());
  if (llvm::Error err = kernel->prepare(module, function))
    return std::move(err);
  if (llvm::Error err = kernel->loadObject(function, object))
    return std::move(err);
  return kernel;
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

/// The most tensor arguments and results of a spec function.
constexpr size_t kMaxCallArgs = 16;

/// Calls `fn`, a function of N pointers, with the first N of `args`.
template <size_t N> static void callWith(void *fn, ArrayRef<void *> args) {
  std::array<void *, N> p{};
  std::copy_n(args.begin(), N, p.begin());
  std::apply(
      [&](auto... x) { reinterpret_cast<void (*)(decltype(x)...)>(fn)(x...); },
      p);
}

/// Calls `entry` with the args.size() pointers of `args`.
template <size_t... N>
static void callEntry(void *entry, ArrayRef<void *> args,
                      std::index_sequence<N...>) {
  static void (*const callers[])(void *, ArrayRef<void *>) = {&callWith<N>...};
  callers[args.size()](entry, args);
}

llvm::Error CpuKernel::run(llvm::ArrayRef<TensorView> inputs,
                           llvm::ArrayRef<TensorView> outputs) const {
  if (llvm::Error err = checkOutputs(inputs, outputs))
    return err;
  if (llvm::Error err = checkIndexData(inputs))
    return err;
  std::vector<std::vector<int64_t>> descs;
  for (const TensorView &t : inputs)
    descs.push_back(descriptor(t.data, t.shape));
  for (const TensorView &t : outputs)
    descs.push_back(descriptor(t.data, t.shape));
  std::vector<void *> args;
  for (auto &d : descs)
    args.push_back(d.data());
  if (args.size() < 2 || args.size() > kMaxCallArgs)
    return makeError("functions with " + llvm::Twine(args.size()) +
                     " tensor arguments and results are not supported (2 to " +
                     llvm::Twine(kMaxCallArgs) + ")");
  callEntry(entry, args, std::make_index_sequence<kMaxCallArgs + 1>());
  return llvm::Error::success();
}
