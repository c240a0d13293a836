//===- SAttn.cpp - C API of the sattn compiler ----------------------------===//

#include "sattn-c/SAttn.h"

#include "sattn/Dialect/SAttn/Transforms/MaskRewrites.h"
#include "sattn/Dialect/SAttn/Transforms/TilePlan.h"
#include "sattn/Runtime/CpuKernel.h"
#include "sattn/Runtime/GpuKernel.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/SourceMgr.h"
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <set>

using namespace mlir;
using namespace mlir::sattn;

/// Bump when the generated code or the cache format changes.
static const char *const kCompilerVersion = "sattn-2";

namespace {
/// A compiled kernel and the MLIR context its spec lives in.
struct Compiled {
  std::unique_ptr<MLIRContext> context;
  std::unique_ptr<SpecKernel> kernel;
  bool fromCache = false;
};
} // namespace

struct sattn_context_s {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<Compiled>> cache;
  DialectRegistry registry;
};

struct sattn_kernel_s {
  std::shared_ptr<Compiled> compiled;
};

static thread_local std::string lastError;
static std::mutex liveMutex;
static std::set<const void *> liveHandles;

static sattn_status fail(sattn_status status, const llvm::Twine &msg) {
  lastError = msg.str();
  return status;
}

static bool isLive(const void *handle) {
  std::lock_guard<std::mutex> lock(liveMutex);
  return handle && liveHandles.count(handle);
}

extern "C" const char *sattn_last_error(void) { return lastError.c_str(); }

extern "C" sattn_status sattn_context_create(sattn_context *out) {
  if (!out)
    return fail(SATTN_ERROR_INVALID_ARGUMENT,
                "sattn_context_create: out is NULL");
  auto *ctx = new sattn_context_s();
  registerKernelDependencies(ctx->registry);
  std::lock_guard<std::mutex> lock(liveMutex);
  liveHandles.insert(ctx);
  *out = ctx;
  return SATTN_OK;
}

extern "C" void sattn_context_destroy(sattn_context ctx) {
  {
    std::lock_guard<std::mutex> lock(liveMutex);
    if (!ctx || !liveHandles.erase(ctx))
      return;
  }
  delete ctx;
}

//===----------------------------------------------------------------------===//
// Disk cache: one file per kernel, "<key>.sattn":
//   SATTN-CACHE 1\n<key>\n<sha256 of the object>\n<object size>\n<object>
// An entry whose header, key, size or checksum does not match is rebuilt.
//===----------------------------------------------------------------------===//

static std::string cacheDirectory() {
  if (const char *dir = std::getenv("SATTN_CACHE_DIR"))
    return dir;
  llvm::SmallString<256> home;
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"))
    home = xdg;
  else if (const char *h = std::getenv("HOME"))
    (home = h) += "/.cache";
  else
    return "";
  llvm::sys::path::append(home, "sattn");
  return std::string(home);
}

static std::string sha256Hex(llvm::StringRef data) {
  auto digest = llvm::SHA256::hash(llvm::arrayRefFromStringRef(data));
  return llvm::toHex(digest, /*LowerCase=*/true);
}

static std::optional<std::string> readCacheEntry(const std::string &path,
                                                 const std::string &key) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return std::nullopt;
  llvm::StringRef rest = (*buffer)->getBuffer();
  llvm::StringRef magic, entryKey, checksum, size;
  std::tie(magic, rest) = rest.split('\n');
  std::tie(entryKey, rest) = rest.split('\n');
  std::tie(checksum, rest) = rest.split('\n');
  std::tie(size, rest) = rest.split('\n');
  size_t bytes;
  if (magic != "SATTN-CACHE 1" || entryKey != key ||
      size.getAsInteger(10, bytes) || bytes != rest.size() ||
      sha256Hex(rest) != checksum)
    return std::nullopt; // stale or corrupt: rebuild
  return rest.str();
}

static void writeCacheEntry(const std::string &dir, const std::string &path,
                            const std::string &key, llvm::StringRef object) {
  if (llvm::sys::fs::create_directories(dir))
    return; // no cache, no error: the kernel works all the same
  // Write to a unique temporary file, then rename: readers never see a
  // partial entry.
  llvm::SmallString<256> tmp;
  int fd;
  if (llvm::sys::fs::createUniqueFile(path + ".tmp-%%%%%%", fd, tmp))
    return;
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << "SATTN-CACHE 1\n"
       << key << "\n"
       << sha256Hex(object) << "\n"
       << object.size() << "\n"
       << object;
  }
  if (llvm::sys::fs::rename(tmp, path))
    llvm::sys::fs::remove(tmp);
}

//===----------------------------------------------------------------------===//
// Compilation
//===----------------------------------------------------------------------===//

static sattn_status compileSpec(sattn_context ctx, const char *spec,
                                const char *function, const char *target,
                                sattn_kernel *out) {
  if (!isLive(ctx))
    return fail(SATTN_ERROR_INVALID_ARGUMENT, "invalid or destroyed context");
  if (!spec || !out)
    return fail(SATTN_ERROR_INVALID_ARGUMENT, "spec and out must not be NULL");
  *out = nullptr;
  llvm::StringRef targetName = target ? target : "cpu";
  if (targetName != "cpu" && targetName != "nvvm")
    return fail(SATTN_ERROR_INVALID_ARGUMENT,
                "unknown target '" + targetName + "' (cpu or nvvm)");
  bool gpu = targetName == "nvvm";
  std::string fnName = function ? function : "";
  std::string key = sha256Hex((llvm::Twine(kCompilerVersion) + "\n" +
                               (gpu ? "nvvm/sm_80" : hostTargetId()) + "\n" +
                               fnName + "\n" + spec)
                                  .str());

  std::shared_ptr<Compiled> compiled;
  {
    std::lock_guard<std::mutex> lock(ctx->mutex);
    auto it = ctx->cache.find(key);
    if (it != ctx->cache.end())
      compiled = it->second;
  }
  if (!compiled) {
    compiled = std::make_shared<Compiled>();
    compiled->context = std::make_unique<MLIRContext>(
        ctx->registry, MLIRContext::Threading::DISABLED);
    MLIRContext *mlirCtx = compiled->context.get();
    std::string diagnostics;
    llvm::raw_string_ostream diagStream(diagnostics);
    llvm::SourceMgr sourceMgr;
    SourceMgrDiagnosticHandler handler(sourceMgr, mlirCtx, diagStream);
    OwningOpRef<ModuleOp> module =
        parseSourceString<ModuleOp>(spec, ParserConfig(mlirCtx), "spec");
    if (!module)
      return fail(SATTN_ERROR_COMPILE,
                  "the spec does not parse:\n" + diagnostics);
    auto resolved = resolveSpecFunction(*module, fnName);
    if (!resolved)
      return fail(SATTN_ERROR_INVALID_ARGUMENT,
                  llvm::toString(resolved.takeError()));
    fnName = *resolved;

    std::string dir = cacheDirectory();
    std::string path = dir.empty() ? "" : dir + "/" + key + ".sattn";
    KernelDevice device = gpu ? KernelDevice::Cuda : KernelDevice::Host;
    if (!path.empty())
      if (std::optional<std::string> binary = readCacheEntry(path, key)) {
        auto kernel = loadSpecKernel(*module, fnName, device, *binary);
        if (kernel) {
          compiled->kernel = std::move(*kernel);
          compiled->fromCache = true;
        } else {
          llvm::consumeError(kernel.takeError()); // rebuild below
        }
      }
    if (!compiled->kernel) {
      auto kernel = compileSpecKernel(*module, fnName, device);
      if (!kernel)
        return fail(SATTN_ERROR_COMPILE,
                    llvm::toString(kernel.takeError()) + diagnostics);
      compiled->kernel = std::move(*kernel);
      if (!path.empty())
        writeCacheEntry(dir, path, key, compiled->kernel->binary());
    }
    std::lock_guard<std::mutex> lock(ctx->mutex);
    ctx->cache.emplace(key, compiled);
  }
  auto *handle = new sattn_kernel_s{compiled};
  std::lock_guard<std::mutex> lock(liveMutex);
  liveHandles.insert(handle);
  *out = handle;
  return SATTN_OK;
}

extern "C" sattn_status
sattn_compile_module(sattn_context ctx, const char *spec, const char *function,
                     const char *target, sattn_kernel *out) {
  return compileSpec(ctx, spec, function, target, out);
}

/// Parses `text` as exactly one mask attribute in `context`: user text is
/// parsed as an attribute, never spliced into a module.
static sattn_status parseMask(MLIRContext &context, const char *text,
                              MaskAttrInterface &mask) {
  if (!text)
    return fail(SATTN_ERROR_INVALID_ARGUMENT, "mask must not be NULL");
  context.loadDialect<SAttnDialect>();
  DiagnosticCollector diags(&context);
  Attribute attr = parseAttribute(text, &context);
  if (!attr)
    return fail(SATTN_ERROR_COMPILE,
                "the mask '" + llvm::Twine(text) +
                    "' does not parse: " + llvm::StringRef(diags.text).trim());
  mask = dyn_cast<MaskAttrInterface>(attr);
  if (!mask)
    return fail(SATTN_ERROR_COMPILE,
                "'" + llvm::Twine(text) + "' is not a sattn mask attribute");
  return SATTN_OK;
}

extern "C" sattn_status sattn_mask_evaluate(const char *text, int64_t queryLen,
                                            int64_t keyLen, uint8_t *out,
                                            size_t outSize) {
  if (queryLen < 0 || keyLen < 0)
    return fail(SATTN_ERROR_INVALID_ARGUMENT,
                "sattn_mask_evaluate: negative length");
  int64_t cells;
  if (llvm::MulOverflow(queryLen, keyLen, cells) || size_t(cells) != outSize)
    return fail(SATTN_ERROR_INVALID_ARGUMENT,
                "sattn_mask_evaluate: out_size must be query_len * key_len");
  if (cells && !out)
    return fail(SATTN_ERROR_INVALID_ARGUMENT, "sattn_mask_evaluate: NULL out");
  MLIRContext context(MLIRContext::Threading::DISABLED);
  MaskAttrInterface mask;
  if (sattn_status s = parseMask(context, text, mask))
    return s;
  DiagnosticCollector diags(&context);
  if (failed(mask.verifyShape(
          [&] { return emitError(UnknownLoc::get(&context)); }, keyLen)))
    return fail(SATTN_ERROR_SHAPE, llvm::StringRef(diags.text).trim());
  for (int64_t i = 0; i < queryLen; ++i)
    for (int64_t k = 0; k < keyLen; ++k)
      out[i * keyLen + k] = mask.evaluate(i + keyLen - queryLen, k, keyLen);
  return SATTN_OK;
}

extern "C" sattn_status sattn_compile_mask(sattn_context ctx, const char *text,
                                           const sattn_attention_desc *desc,
                                           sattn_kernel *out) {
  if (!desc)
    return fail(SATTN_ERROR_INVALID_ARGUMENT, "desc must not be NULL");
  MLIRContext maskContext(MLIRContext::Threading::DISABLED);
  MaskAttrInterface maskAttr;
  if (sattn_status s = parseMask(maskContext, text, maskAttr))
    return s;
  std::string mask;
  llvm::raw_string_ostream(mask) << maskAttr;
  llvm::StringRef dtype = desc->dtype ? desc->dtype : "";
  if (dtype != "f32" && dtype != "f16" && dtype != "bf16")
    return fail(SATTN_ERROR_DTYPE,
                "dtype must be \"f32\", \"f16\" or \"bf16\", got \"" + dtype +
                    "\"");
  if (desc->head_dim <= 0 || desc->value_dim <= 0)
    return fail(SATTN_ERROR_SHAPE,
                "head_dim and value_dim must be static and > 0");
  auto dim = [](int64_t d) {
    return d < 0 ? std::string("?") : std::to_string(d);
  };
  auto tensor = [&](int64_t h, int64_t l, int64_t last, llvm::StringRef type) {
    return "tensor<" + dim(desc->batch) + "x" + dim(h) + "x" + dim(l) + "x" +
           (last < 0 ? std::string("") : std::to_string(last) + "x") +
           type.str() + ">";
  };
  std::string q =
      tensor(desc->query_heads, desc->query_len, desc->head_dim, dtype);
  std::string k = tensor(desc->kv_heads, desc->key_len, desc->head_dim, dtype);
  std::string v = tensor(desc->kv_heads, desc->key_len, desc->value_dim, dtype);
  std::string o =
      tensor(desc->query_heads, desc->query_len, desc->value_dim, dtype);
  std::string lse = tensor(desc->query_heads, desc->query_len, -1, "f32");
  std::string results = desc->with_lse ? "(" + o + ", " + lse + ")" : o;
  std::string names = desc->with_lse ? "%o, %l" : "%o";
  std::string scale;
  if (!std::isnan(desc->scale)) {
    if (!std::isfinite(desc->scale))
      return fail(SATTN_ERROR_INVALID_ARGUMENT, "scale must be finite");
    scale = " scale(" + llvm::formatv("{0:e9}", desc->scale).str() + ")";
  }
  // Score modifiers: off when zero; the verifier checks the values.
  if (desc->softcap != 0.0f) {
    if (!(desc->softcap > 0.0f) || !std::isfinite(desc->softcap))
      return fail(SATTN_ERROR_INVALID_ARGUMENT,
                  "softcap must be finite and > 0 (0 for none), got " +
                      llvm::formatv("{0}", desc->softcap).str());
    scale += " softcap(" + llvm::formatv("{0:e9}", desc->softcap).str() + ")";
  }
  if (desc->num_alibi_slopes != 0) {
    if (!desc->alibi_slopes)
      return fail(SATTN_ERROR_INVALID_ARGUMENT,
                  "alibi_slopes is NULL but num_alibi_slopes is " +
                      std::to_string(desc->num_alibi_slopes));
    scale += " alibi_slopes([";
    for (size_t h = 0; h < desc->num_alibi_slopes; ++h) {
      if (!std::isfinite(desc->alibi_slopes[h]))
        return fail(SATTN_ERROR_INVALID_ARGUMENT,
                    "alibi_slopes[" + std::to_string(h) + "] is not finite");
      scale += (h ? ", " : "") +
               llvm::formatv("{0:e9}", desc->alibi_slopes[h]).str();
    }
    scale += "])";
  }
  std::string attrs = " mask(" + mask + ")" + scale;
  if (desc->backward) {
    std::string operands =
                    q + ", " + k + ", " + v + ", " + o + ", " + o + ", " + lse,
                grads = q + ", " + k + ", " + v;
    std::string spec =
        "func.func @attention_grad(%q: " + q + ", %k: " + k + ", %v: " + v +
        ", %o: " + o + ", %do: " + o + ", %lse: " + lse + ") -> (" + grads +
        ") {\n  %dq, %dk, %dv = sattn.attention_grad %q, %k, %v, %o, %do, "
        "%lse" +
        attrs + " : (" + operands + ") -> (" + grads +
        ")\n  return %dq, %dk, %dv : " + grads + "\n}\n";
    return compileSpec(ctx, spec.c_str(), "attention_grad", desc->target, out);
  }
  std::string spec =
      "func.func @attention(%q: " + q + ", %k: " + k + ", %v: " + v + ") -> " +
      results + " {\n  " + names + " = sattn.attention %q, %k, %v" + attrs +
      " : (" + q + ", " + k + ", " + v + ") -> " + results + "\n  return " +
      names + " : " + (desc->with_lse ? o + ", " + lse : o) + "\n}\n";
  return compileSpec(ctx, spec.c_str(), "attention", desc->target, out);
}

//===----------------------------------------------------------------------===//
// Running
//===----------------------------------------------------------------------===//

static sattn_status checkKernel(sattn_kernel kernel) {
  if (!isLive(kernel))
    return fail(SATTN_ERROR_INVALID_ARGUMENT,
                "invalid or released kernel handle");
  return SATTN_OK;
}

/// Checks one DLTensor against a signature and makes a view of it.
static sattn_status viewOf(const DLTensor *t, const TensorSig &sig,
                           KernelDevice device, const std::string &what,
                           TensorView &view) {
  if (!t)
    return fail(SATTN_ERROR_INVALID_ARGUMENT, what + " is NULL");
  bool gpu = device == KernelDevice::Cuda;
  if (t->device.device_type != (gpu ? kDLCUDA : kDLCPU))
    return fail(SATTN_ERROR_DEVICE,
                what + " is " +
                    (gpu ? "not CUDA device memory" : "not host memory") +
                    " (DLPack device type " +
                    llvm::Twine(int(t->device.device_type)) + "); the " +
                    (gpu ? "nvvm target needs kDLCUDA"
                         : "cpu target needs "
                           "kDLCPU") +
                    " tensors");
  if (gpu && t->device.device_id != 0)
    return fail(SATTN_ERROR_DEVICE, what + " is on CUDA device " +
                                        llvm::Twine(t->device.device_id) +
                                        "; sattn runs on device 0");
  std::optional<ElemKind> kind;
  if (t->dtype.lanes == 1) {
    if (t->dtype.code == kDLFloat && t->dtype.bits == 32)
      kind = ElemKind::F32;
    else if (t->dtype.code == kDLFloat && t->dtype.bits == 16)
      kind = ElemKind::F16;
    else if (t->dtype.code == kDLBfloat && t->dtype.bits == 16)
      kind = ElemKind::BF16;
    else if (t->dtype.code == kDLInt && t->dtype.bits == 32)
      kind = ElemKind::I32;
  }
  if (!kind || *kind != sig.kind)
    return fail(SATTN_ERROR_DTYPE,
                what + " has DLPack dtype (code " +
                    llvm::Twine(int(t->dtype.code)) + ", bits " +
                    llvm::Twine(int(t->dtype.bits)) + ", lanes " +
                    llvm::Twine(int(t->dtype.lanes)) + "), the kernel wants " +
                    elemKindName(sig.kind));
  if (t->ndim != int32_t(sig.shape.size()) || !t->shape)
    return fail(SATTN_ERROR_SHAPE, what + " has rank " + llvm::Twine(t->ndim) +
                                       ", the kernel wants " +
                                       llvm::Twine(sig.shape.size()));
  int64_t numElements = 1;
  for (int32_t i = 0; i < t->ndim; ++i)
    if (t->shape[i] < 0)
      return fail(SATTN_ERROR_SHAPE, what + " has a negative size");
  if (!checkedByteSize(*kind, llvm::ArrayRef<int64_t>(t->shape, t->ndim)))
    return fail(SATTN_ERROR_SHAPE,
                what + " is too large (its byte size overflows)");
  for (int32_t i = 0; i < t->ndim; ++i)
    numElements *= t->shape[i];
  if (t->strides && numElements > 0) { // an empty tensor has no layout
    int64_t expected = 1;
    for (int32_t i = t->ndim - 1; i >= 0; --i) {
      if (t->shape[i] != 1 && t->strides[i] != expected)
        return fail(SATTN_ERROR_LAYOUT,
                    what + " is not contiguous row-major (dim " +
                        llvm::Twine(i) + " has stride " +
                        llvm::Twine(t->strides[i]) + ", want " +
                        llvm::Twine(expected) + "); pass a contiguous copy");
      expected *= t->shape[i];
    }
  }
  auto *base = static_cast<char *>(t->data);
  if (!base && numElements > 0)
    return fail(SATTN_ERROR_INVALID_ARGUMENT,
                what + " has a NULL data pointer");
  char *data = base ? base + t->byte_offset : nullptr;
  // A device pointer labelled as host memory would crash the CPU kernel:
  // ask the driver, if this process uses one (GPU kernels check theirs).
  if (!gpu && data && numElements > 0)
    if (CudaDriver *driver = CudaDriver::getIfLoaded();
        driver && driver->isDevicePointer(data))
      return fail(SATTN_ERROR_DEVICE,
                  what + " points to CUDA device memory but is labelled "
                         "kDLCPU; the cpu target needs host memory");
  if (reinterpret_cast<uintptr_t>(data) % elemKindSize(*kind) != 0)
    return fail(SATTN_ERROR_LAYOUT,
                what + " is not aligned to its element size");
  view = TensorView{data, llvm::ArrayRef<int64_t>(t->shape, t->ndim), *kind};
  return SATTN_OK;
}

extern "C" sattn_status sattn_kernel_run(sattn_kernel kernel,
                                         const DLTensor *const *inputs,
                                         size_t numInputs,
                                         DLTensor *const *outputs,
                                         size_t numOutputs) {
  if (sattn_status s = checkKernel(kernel))
    return s;
  const SpecKernel &k = *kernel->compiled->kernel;
  if (numInputs != k.inputs().size() || numOutputs != k.outputs().size())
    return fail(SATTN_ERROR_INVALID_ARGUMENT,
                "the kernel takes " + llvm::Twine(k.inputs().size()) +
                    " inputs and " + llvm::Twine(k.outputs().size()) +
                    " outputs, got " + llvm::Twine(numInputs) + " and " +
                    llvm::Twine(numOutputs));
  if ((numInputs && !inputs) || (numOutputs && !outputs))
    return fail(SATTN_ERROR_INVALID_ARGUMENT, "tensor arrays must not be NULL");
  std::vector<TensorView> in(numInputs), out(numOutputs);
  for (size_t i = 0; i < numInputs; ++i)
    if (sattn_status s = viewOf(inputs[i], k.inputs()[i], k.device(),
                                "input #" + std::to_string(i), in[i]))
      return s;
  for (size_t i = 0; i < numOutputs; ++i)
    if (sattn_status s = viewOf(outputs[i], k.outputs()[i], k.device(),
                                "output #" + std::to_string(i), out[i]))
      return s;
  auto shapes = k.outputShapes(in);
  if (!shapes)
    return fail(SATTN_ERROR_SHAPE, llvm::toString(shapes.takeError()));
  for (size_t i = 0; i < numOutputs; ++i)
    if (out[i].shape != llvm::ArrayRef<int64_t>((*shapes)[i]))
      return fail(SATTN_ERROR_SHAPE, "output #" + llvm::Twine(i) +
                                         " has shape " +
                                         shapeString(out[i].shape) + ", want " +
                                         shapeString((*shapes)[i]));
  if (k.device() == KernelDevice::Cuda)
    if (llvm::Error err =
            static_cast<const GpuKernel &>(k).checkAlignment(in, out))
      return fail(SATTN_ERROR_LAYOUT, llvm::toString(std::move(err)));
  if (llvm::Error err = k.run(in, out)) {
    // Bad index data is the caller's argument on every device (the kernel
    // checks it before anything runs); other run errors are the device's.
    sattn_status status = k.device() == KernelDevice::Cuda ? SATTN_ERROR_DEVICE
                                                           : SATTN_ERROR_SHAPE;
    if (err.isA<IndexDataError>())
      status = SATTN_ERROR_INVALID_ARGUMENT;
    return fail(status, llvm::toString(std::move(err)));
  }
  return SATTN_OK;
}

extern "C" size_t sattn_kernel_num_inputs(sattn_kernel kernel) {
  return checkKernel(kernel) ? 0 : kernel->compiled->kernel->inputs().size();
}

extern "C" size_t sattn_kernel_num_outputs(sattn_kernel kernel) {
  return checkKernel(kernel) ? 0 : kernel->compiled->kernel->outputs().size();
}

extern "C" sattn_status sattn_kernel_output_shape(
    sattn_kernel kernel, size_t output, const int64_t *const *inputShapes,
    const int32_t *inputRanks, size_t numInputs, int64_t *shape,
    int32_t shapeCapacity, int32_t *ndim, DLDataType *dtype) {
  if (sattn_status s = checkKernel(kernel))
    return s;
  const SpecKernel &k = *kernel->compiled->kernel;
  if (output >= k.outputs().size() || numInputs != k.inputs().size() ||
      !inputShapes || !inputRanks || !shape || !ndim || !dtype)
    return fail(SATTN_ERROR_INVALID_ARGUMENT,
                "sattn_kernel_output_shape: bad output index, input count or "
                "NULL argument");
  std::vector<TensorView> in;
  for (size_t i = 0; i < numInputs; ++i) {
    if (!inputShapes[i] && inputRanks[i] != 0)
      return fail(SATTN_ERROR_INVALID_ARGUMENT, "NULL input shape");
    if (inputRanks[i] != int32_t(k.inputs()[i].shape.size()))
      return fail(SATTN_ERROR_SHAPE,
                  "input #" + llvm::Twine(i) + " has rank " +
                      llvm::Twine(inputRanks[i]) + ", the kernel wants " +
                      llvm::Twine(k.inputs()[i].shape.size()));
    in.push_back({nullptr,
                  llvm::ArrayRef<int64_t>(inputShapes[i], inputRanks[i]),
                  k.inputs()[i].kind});
  }
  auto shapes = k.outputShapes(in);
  if (!shapes)
    return fail(SATTN_ERROR_SHAPE, llvm::toString(shapes.takeError()));
  const std::vector<int64_t> &s = (*shapes)[output];
  if (int64_t(s.size()) > shapeCapacity)
    return fail(SATTN_ERROR_INVALID_ARGUMENT,
                "sattn_kernel_output_shape: shape_capacity " +
                    llvm::Twine(shapeCapacity) + " < rank " +
                    llvm::Twine(s.size()));
  std::copy(s.begin(), s.end(), shape);
  *ndim = s.size();
  switch (k.outputs()[output].kind) {
  case ElemKind::F32:
    *dtype = {kDLFloat, 32, 1};
    break;
  case ElemKind::F16:
    *dtype = {kDLFloat, 16, 1};
    break;
  case ElemKind::BF16:
    *dtype = {kDLBfloat, 16, 1};
    break;
  case ElemKind::F64:
    *dtype = {kDLFloat, 64, 1};
    break;
  case ElemKind::I32:
    *dtype = {kDLInt, 32, 1};
    break;
  }
  return SATTN_OK;
}

extern "C" sattn_status sattn_kernel_plan_stats(sattn_kernel kernel,
                                                int64_t queryLen,
                                                int64_t keyLen,
                                                sattn_plan_stats *out) {
  if (sattn_status s = checkKernel(kernel))
    return s;
  if (!out || queryLen < 0 || keyLen < 0)
    return fail(SATTN_ERROR_INVALID_ARGUMENT,
                "sattn_kernel_plan_stats: NULL out or negative length");
  const SpecStep &step = kernel->compiled->kernel->steps().front();
  Operation *op = step.operation;
  MaskAttrInterface mask = step.mask();
  if (failed(mask.verifyShape([&] { return op->emitError(); }, keyLen)))
    return fail(SATTN_ERROR_SHAPE,
                "the mask does not fit Lk = " + llvm::Twine(keyLen));
  const SpecKernel &k = *kernel->compiled->kernel;
  // The mask as the pipeline plans it: presets expanded, simplified.
  mask = simplifyMask(expandPresets(mask, keyLen));
  // The tiles the kernel was compiled with, as it carries them.
  TileAttr tile =
      k.device() == KernelDevice::Cuda
          ? static_cast<const GpuKernel &>(k).code().launch.getTile()
          : cast<CpuKernelAttr>(static_cast<const CpuKernel &>(k).facts()[0])
                .getTile();
  int64_t rows = tile.getRows(), keys = tile.getKeys();
  std::optional<TilePlanStats> stats =
      computeTilePlanStats(mask, queryLen, keyLen, rows, keys);
  if (!stats)
    return fail(SATTN_ERROR_SHAPE,
                "Lq = " + llvm::Twine(queryLen) +
                    ", Lk = " + llvm::Twine(keyLen) +
                    " is too large to count the tile plan's classes");
  *out = {rows,
          keys,
          stats->emptyTiles,
          stats->fullTiles,
          stats->partialTiles,
          stats->keptPairs,
          queryLen && keyLen
              ? double(stats->keptPairs) / (double(queryLen) * keyLen)
              : 0.0};
  return SATTN_OK;
}

extern "C" int sattn_kernel_from_cache(sattn_kernel kernel) {
  return checkKernel(kernel) ? 0 : kernel->compiled->fromCache;
}

extern "C" void sattn_kernel_release(sattn_kernel kernel) {
  {
    std::lock_guard<std::mutex> lock(liveMutex);
    if (!kernel || !liveHandles.erase(kernel))
      return;
  }
  delete kernel;
}
