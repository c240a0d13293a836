//===- SpecKernel.cpp - a spec function and its signature -----------------===//

#include "sattn/Runtime/SpecKernel.h"
#include "sattn/Runtime/CpuKernel.h"
#include "sattn/Runtime/GpuKernel.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
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
  if (type.isSignlessInteger(32))
    return ElemKind::I32;
  return std::nullopt;
}

static llvm::Expected<TensorSig> sigOf(Type type, const llvm::Twine &what) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  std::optional<ElemKind> kind =
      tensor ? elemKindOf(tensor.getElementType()) : std::nullopt;
  if (!kind)
    return makeError(what +
                     " must be a ranked tensor of f32, f16, bf16 or i32");
  return TensorSig{std::vector<int64_t>(tensor.getShape()), *kind};
}

llvm::Error mlir::sattn::analyzeSpec(func::FuncOp function,
                                     SpecSignature &sig) {
  StringRef name = function.getSymName();
  if (function.isExternal())
    return makeError("function '" + name + "' has no body");
  if (!function.getBody().hasOneBlock())
    return makeError("function '" + name + "' must have a single block");
  for (auto [i, type] : llvm::enumerate(function.getArgumentTypes())) {
    auto input =
        sigOf(type, "argument #" + llvm::Twine(i) + " of '" + name + "'");
    if (!input)
      return input.takeError();
    sig.inputs.push_back(*input);
  }
  llvm::DenseMap<Value, unsigned> ids;
  for (BlockArgument arg : function.getArguments())
    ids[arg] = arg.getArgNumber();
  auto where = [&](Operation *op) {
    std::string text;
    llvm::raw_string_ostream os(text);
    os << op->getLoc();
    return text;
  };
  for (Operation &op : function.getBody().front()) {
    if (isa<func::ReturnOp>(op))
      break;
    auto attention = dyn_cast<AttentionOpInterface>(op);
    if (!attention && !isa<AttentionGradOp>(op))
      return makeError("'" + op.getName().getStringRef() + "' at " +
                       where(&op) +
                       ": a spec function holds only attention ops "
                       "(sattn.attention, sattn.paged_attention, "
                       "sattn.varlen_attention, sattn.attention_grad) and a "
                       "return");
    // Every operand is defined above: Q, K, V, then the others.
    SmallVector<unsigned> operands;
    for (Value operand : op.getOperands())
      operands.push_back(ids.lookup(operand));
    SpecStep step{attention,
                  &op,
                  operands[0],
                  operands[1],
                  operands[2],
                  std::vector<unsigned>(operands.begin() + 3, operands.end())};
    unsigned first = sig.numValues();
    for (OpResult result : op.getResults())
      ids[result] = first + result.getResultNumber();
    sig.steps.push_back(step);
  }
  auto ret = cast<func::ReturnOp>(function.getBody().front().getTerminator());
  for (auto [i, value] : llvm::enumerate(ret.getOperands())) {
    if (!isa_and_present<AttentionOpInterface, AttentionGradOp>(
            value.getDefiningOp()))
      return makeError("result #" + llvm::Twine(i) + " of '" + name +
                       "' must be a result of an attention op");
    auto output = sigOf(value.getType(), "result #" + llvm::Twine(i));
    if (!output)
      return output.takeError();
    sig.outputs.push_back(*output);
    sig.outputValues.push_back(ids.lookup(value));
  }
  if (sig.outputs.empty())
    return makeError("function '" + name + "' returns nothing");
  return llvm::Error::success();
}

OwningOpRef<ModuleOp> mlir::sattn::cloneForFunction(ModuleOp module,
                                                    StringRef function) {
  OwningOpRef<ModuleOp> copy = module.clone();
  for (auto fn : llvm::make_early_inc_range(copy->getOps<func::FuncOp>()))
    if (fn.isPublic() && !fn.isExternal() && fn.getSymName() != function)
      fn.erase();
  return copy;
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
  std::string error;
  auto file = openInputFile(path, &error);
  if (!file)
    return makeError("cannot read the spec: " + error);
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  spec.module = parseSourceFile<ModuleOp>(sourceMgr, ParserConfig(&context));
  if (!spec.module)
    return makeError("'" + path + "' is not a valid spec (errors above)");
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

char IndexDataError::ID = 0;

/// One ALiBi slope per query head of Q (a dynamic Hq is checked here).
static llvm::Error checkSlopes(const SpecStep &step, ArrayRef<int64_t> q) {
  if (std::optional<ArrayRef<float>> slopes =
          step.grad() ? step.grad().getAlibiSlopes() : step.op.getAlibiSlopes();
      slopes && static_cast<int64_t>(slopes->size()) != q[1])
    return makeError("'alibi_slopes' has " + llvm::Twine(slopes->size()) +
                     " slopes, one per query head, but Q " + shapeString(q) +
                     " has Hq = " + llvm::Twine(q[1]));
  return llvm::Error::success();
}

/// GQA (Hq a multiple of `hkv`), the head dim `kd` of K equal to Q's, and
/// one ALiBi slope per query head.
static llvm::Error checkHeads(const SpecStep &step, ArrayRef<int64_t> q,
                              int64_t hkv, int64_t kd, StringRef kName) {
  if (hkv == 0 ? q[1] != 0 : q[1] % hkv != 0)
    return makeError("query heads (" + llvm::Twine(q[1]) +
                     ") must be a multiple of key/value heads (" +
                     llvm::Twine(hkv) + ")");
  if (q.back() != kd)
    return makeError("head dims of Q and " + kName + " differ");
  return checkSlopes(step, q);
}

/// The shape rules of sattn.paged_attention: Q [B, Hq, Lq, D], the caches
/// [P, page, Hkv, D] and [P, page, Hkv, Dv], block_table [B, M], seq_lens
/// [B].
static llvm::Error checkPagedShapes(const SpecStep &step, ArrayRef<int64_t> q,
                                    ArrayRef<int64_t> k, ArrayRef<int64_t> v,
                                    ArrayRef<int64_t> table,
                                    ArrayRef<int64_t> lens) {
  if (k[0] != v[0] || k[1] != v[1] || k[2] != v[2])
    return makeError("key_cache " + shapeString(k) + " and value_cache " +
                     shapeString(v) + " must agree in P, page and Hkv");
  if (q[0] != table[0] || q[0] != lens[0])
    return makeError("batch sizes differ: Q " + shapeString(q) +
                     ", block_table " + shapeString(table) + ", seq_lens " +
                     shapeString(lens));
  return checkHeads(step, q, k[2], k[3], "key_cache");
}

/// The shape rules of sattn.varlen_attention: Q [Tq, Hq, D], K [Tk, Hkv, D],
/// V [Tk, Hkv, Dv], cu_seqlens_q and cu_seqlens_k [B + 1].
static llvm::Error checkVarlenShapes(const SpecStep &step, ArrayRef<int64_t> q,
                                     ArrayRef<int64_t> k, ArrayRef<int64_t> v,
                                     ArrayRef<int64_t> cuq,
                                     ArrayRef<int64_t> cuk) {
  if (k[0] != v[0] || k[1] != v[1])
    return makeError("K " + shapeString(k) + " and V " + shapeString(v) +
                     " must agree in Tk and Hkv");
  if (cuq[0] < 1 || cuq[0] != cuk[0])
    return makeError("cu_seqlens_q " + shapeString(cuq) + " and cu_seqlens_k " +
                     shapeString(cuk) + " must both have B + 1 >= 1 entries");
  return checkHeads(step, q, k[1], k[2], "K");
}

/// Whether `mask` keeps some pair of [p0, p1) x [k0, k1) (both non-empty):
/// classified, and PARTIAL rectangles split in halves down to single pairs.
static bool keepsAny(MaskAttrInterface mask, int64_t p0, int64_t p1, int64_t k0,
                     int64_t k1, int64_t lk) {
  TileClass c = mask.classify(p0, p1, k0, k1, lk);
  if (c != TileClass::Partial)
    return c == TileClass::Full;
  if (p1 - p0 == 1 && k1 - k0 == 1)
    return mask.evaluate(p0, k0, lk);
  if (p1 - p0 >= k1 - k0) {
    int64_t mid = p0 + (p1 - p0) / 2;
    return keepsAny(mask, p0, mid, k0, k1, lk) ||
           keepsAny(mask, mid, p1, k0, k1, lk);
  }
  int64_t mid = k0 + (k1 - k0) / 2;
  return keepsAny(mask, p0, p1, k0, mid, lk) ||
         keepsAny(mask, p0, p1, mid, k1, lk);
}

/// The i32 element `i` of a host tensor.
static int32_t loadI32(const TensorView &t, int64_t i) {
  int32_t x;
  std::memcpy(&x, static_cast<const char *>(t.data) + 4 * i, 4);
  return x;
}

/// cu_seqlens (`name`) of `total` rows: 0, never decreasing, ending at total.
static llvm::Error checkCuSeqlens(const TensorView &cu, StringRef name,
                                  int64_t total, StringRef totalName) {
  int64_t n = cu.shape[0];
  auto error = [&](int64_t i, const llvm::Twine &rule) {
    return llvm::make_error<IndexDataError>(
        (name + "[" + llvm::Twine(i) + "] = " + llvm::Twine(loadI32(cu, i)) +
         " " + rule)
            .str());
  };
  if (n > 0 && loadI32(cu, 0) != 0)
    return error(0, "must be 0 (the first sequence starts at row 0)");
  for (int64_t i = 1; i < n; ++i)
    if (loadI32(cu, i) < loadI32(cu, i - 1))
      return error(i, "is below " + name + "[" + llvm::Twine(i - 1) +
                          "] = " + llvm::Twine(loadI32(cu, i - 1)) +
                          " (cu_seqlens never decrease)");
  if (n > 0 && loadI32(cu, n - 1) != total)
    return error(n - 1, "must be " + totalName + " = " + llvm::Twine(total) +
                            " (the last sequence ends at the last row)");
  return llvm::Error::success();
}

llvm::Error SpecKernel::checkIndexData(ArrayRef<TensorView> inputs) const {
  for (const SpecStep &step : sig.steps) {
    if (step.varlen()) {
      if (llvm::Error err =
              checkCuSeqlens(inputs[step.indices[0]], "cu_seqlens_q",
                             inputs[step.q].shape[0], "Tq"))
        return err;
      if (llvm::Error err =
              checkCuSeqlens(inputs[step.indices[1]], "cu_seqlens_k",
                             inputs[step.k].shape[0], "Tk"))
        return err;
      continue;
    }
    PagedAttentionOp paged = step.paged();
    if (!paged)
      continue;
    const TensorView &table = inputs[step.indices[0]],
                     &lens = inputs[step.indices[1]];
    int64_t batch = table.shape[0], maxPages = table.shape[1];
    int64_t numPages = inputs[step.k].shape[0], page = paged.getPageSize();
    int64_t lq = inputs[step.q].shape[2];
    MaskAttrInterface mask = paged.getMask();
    for (int64_t b = 0; b < batch; ++b) {
      int64_t lk = loadI32(lens, b);
      if (lk < 0 || lk > maxPages * page)
        return llvm::make_error<IndexDataError>(
            ("seq_lens[" + llvm::Twine(b) + "] = " + llvm::Twine(lk) +
             " is outside [0, M * page] = [0, " + llvm::Twine(maxPages * page) +
             "]")
                .str());
      // The entries of the pages that hold a kept key must name a page;
      // others are never read for their value.
      for (int64_t j = 0; lq > 0 && j * page < lk; ++j) {
        int64_t entry = loadI32(table, b * maxPages + j);
        if (entry >= 0 && entry < numPages)
          continue;
        if (keepsAny(mask, lk - lq, lk, j * page, std::min(j * page + page, lk),
                     lk))
          return llvm::make_error<IndexDataError>(
              ("block_table[" + llvm::Twine(b) + ", " + llvm::Twine(j) +
               "] = " + llvm::Twine(entry) + " is outside [0, P) = [0, " +
               llvm::Twine(numPages) + ") but sequence " + llvm::Twine(b) +
               " keeps keys of that page")
                  .str());
      }
    }
  }
  return llvm::Error::success();
}

llvm::Error SpecKernel::prepare(ModuleOp module, StringRef function) {
  spec = module.clone();
  auto fn = spec->lookupSymbol<func::FuncOp>(function);
  if (!fn)
    return makeError("no function '" + function + "' in the spec");
  return analyzeSpec(fn, sig);
}

llvm::Expected<std::vector<std::vector<int64_t>>>
SpecKernel::outputShapes(llvm::ArrayRef<TensorView> inputs) const {
  auto values = valueShapes(inputs);
  if (!values)
    return values.takeError();
  std::vector<std::vector<int64_t>> shapes;
  for (unsigned id : sig.outputValues)
    shapes.push_back((*values)[id]);
  return shapes;
}

llvm::Expected<std::vector<std::vector<int64_t>>>
SpecKernel::valueShapes(llvm::ArrayRef<TensorView> inputs) const {
  if (inputs.size() != sig.inputs.size())
    return makeError("the function takes " + llvm::Twine(sig.inputs.size()) +
                     " inputs, got " + llvm::Twine(inputs.size()));
  std::vector<std::vector<int64_t>> shapes;
  for (auto [i, view] : llvm::enumerate(inputs)) {
    const TensorView *t = &view;
    const TensorSig &sig = this->sig.inputs[i];
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
    shapes.emplace_back(t->shape.begin(), t->shape.end());
  }
  for (const SpecStep &step : sig.steps) {
    // Copies: push_back below may move the vectors.
    std::vector<int64_t> q = shapes[step.q], k = shapes[step.k],
                         v = shapes[step.v];
    if (step.varlen()) {
      if (llvm::Error err = checkVarlenShapes(
              step, q, k, v, shapes[step.indices[0]], shapes[step.indices[1]]))
        return std::move(err);
      shapes.push_back({q[0], q[1], v[2]});
      shapes.push_back({q[1], q[0]});
      shapes.emplace_back(); // no third result
      continue;
    }
    if (step.paged()) {
      if (llvm::Error err = checkPagedShapes(
              step, q, k, v, shapes[step.indices[0]], shapes[step.indices[1]]))
        return std::move(err);
      shapes.push_back({q[0], q[1], q[2], v[3]});
      shapes.push_back({q[0], q[1], q[2]});
      shapes.emplace_back();
      continue;
    }
    // docs/Semantics.md's shape rules on the concrete shapes.
    if (q[0] != k[0] || q[0] != v[0])
      return makeError("batch sizes differ: Q " + shapeString(q) + ", K " +
                       shapeString(k) + ", V " + shapeString(v));
    if (k[1] != v[1] || k[2] != v[2])
      return makeError("K " + shapeString(k) + " and V " + shapeString(v) +
                       " must agree in heads and length");
    if (llvm::Error err = checkHeads(step, q, k[1], k[3], "K"))
      return err;
    if (std::optional<int64_t> lk = k[2]; failed(step.mask().verifyShape(
            [&] { return step.operation->emitError(); }, lk)))
      return makeError("the mask does not fit Lk = " + llvm::Twine(k[2]));
    if (step.grad()) {
      // O and dO [B, Hq, Lq, Dv], LSE [B, Hq, Lq]; results like Q, K, V.
      std::vector<int64_t> o = {q[0], q[1], q[2], v[3]};
      for (auto [name, id, want] :
           {std::tuple("O", step.indices[0], o),
            std::tuple("dO", step.indices[1], o),
            std::tuple("LSE", step.indices[2],
                       std::vector<int64_t>{q[0], q[1], q[2]})})
        if (shapes[id] != want)
          return makeError(llvm::Twine(name) + " " + shapeString(shapes[id]) +
                           " must be " + shapeString(want) + " for Q " +
                           shapeString(q) + " and V " + shapeString(v));
      shapes.push_back(q);
      shapes.push_back(k);
      shapes.push_back(v);
      continue;
    }
    shapes.push_back({q[0], q[1], q[2], v[3]});
    shapes.push_back({q[0], q[1], q[2]});
    shapes.emplace_back();
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
        t.kind != sig.outputs[i].kind)
      return makeError("output #" + llvm::Twine(i) + " must be " +
                       elemKindName(sig.outputs[i].kind) + " " +
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
