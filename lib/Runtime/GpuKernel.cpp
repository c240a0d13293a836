//===- GpuKernel.cpp - a spec function compiled for an NVIDIA GPU ---------===//

#include "sattn/Runtime/GpuKernel.h"
#include "sattn/Conversion/SAttnToGPU/SAttnToGPU.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::sattn;

static llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// The launch facts of the kernel of `op` (all but the binary).
static GpuCode describeKernel(AttentionOpInterface op, bool tensorCores) {
  std::optional<GpuTileShape> shape =
      getGpuTileShape(op.getQuery().getType().getElementType(), op.getHeadDim(),
                      op.getValueHeadDim(), tensorCores);
  // No shape: the conversion reports the op.
  return GpuCode{"", "attention_0", shape ? shape->rows : 0, bool(op.getLse()),
                 shape && shape->tensorCores};
}

llvm::Expected<GpuCode>
mlir::sattn::emitGpuCode(ModuleOp module, StringRef function, GpuChip chip,
                         GpuBinaryFormat format, bool tensorCores,
                         StringRef toolkit) {
  MLIRContext *ctx = module.getContext();
  OwningOpRef<ModuleOp> lowered = cloneForFunction(module, function);
  auto fn = lowered->lookupSymbol<func::FuncOp>(function);
  if (!fn)
    return makeError("no function '" + function + "' in the spec");
  SmallVector<AttentionOpInterface> ops;
  fn.walk([&](AttentionOpInterface op) { ops.push_back(op); });
  if (ops.size() != 1)
    return makeError("the nvvm target compiles functions with exactly one "
                     "sattn.attention; '" +
                     function + "' has " + llvm::Twine(ops.size()));
  std::string cuda = getCudaToolkitPath(toolkit);
  if (format == GpuBinaryFormat::Cubin || format == GpuBinaryFormat::Fatbin) {
    llvm::SmallString<256> ptxas(cuda);
    llvm::sys::path::append(ptxas, "bin", "ptxas");
    if (!llvm::sys::fs::can_execute(ptxas))
      return makeError("no CUDA toolkit: a cubin needs ptxas, not found at " +
                       ptxas + " (set CUDA_HOME, or emit PTX)");
  }
  GpuCode code = describeKernel(ops.front(), tensorCores);

  DiagnosticCollector diags(ctx);
  PassManager pm(ctx);
  LowerToNVVMOptions options;
  options.chip = chip;
  options.format = format;
  options.toolkit = cuda;
  options.tensorCores = tensorCores;
  buildLowerToNVVMPipeline(pm, options);
  if (failed(pm.run(*lowered)))
    return makeError("GPU compilation failed:\n" + diags.text);
  lowered->walk([&](gpu::BinaryOp binary) {
    for (Attribute object : binary.getObjects())
      code.binary = cast<gpu::ObjectAttr>(object).getObject().str();
  });
  if (code.binary.empty())
    return makeError("GPU compilation produced no binary");
  return code;
}

GpuKernel::~GpuKernel() {
  if (CudaDriver *driver = CudaDriver::getIfLoaded())
    driver->unloadModule(module);
}

llvm::Expected<std::unique_ptr<GpuKernel>>
GpuKernel::compile(ModuleOp module, StringRef function) {
  // The signature first: what the runtime cannot call is rejected before
  // anything is compiled.
  auto kernel = create(module, function);
  if (!kernel)
    return kernel.takeError();
  auto code =
      emitGpuCode(module, function, GpuChip::SM80, GpuBinaryFormat::PTX);
  if (!code)
    return code.takeError();
  (*kernel)->gpuCode.binary = std::move(code->binary);
  return kernel;
}

llvm::Expected<std::unique_ptr<GpuKernel>>
GpuKernel::load(ModuleOp module, StringRef function, StringRef ptx) {
  auto kernel = create(module, function);
  if (kernel)
    (*kernel)->gpuCode.binary = ptx.str();
  return kernel;
}

llvm::Expected<std::unique_ptr<GpuKernel>>
GpuKernel::create(ModuleOp module, StringRef function) {
  std::unique_ptr<GpuKernel> kernel(new GpuKernel());
  if (llvm::Error err = kernel->prepare(module, function))
    return std::move(err);
  if (kernel->sig.steps.size() != 1)
    return makeError("the nvvm target compiles functions with exactly one "
                     "sattn.attention");
  if (kernel->sig.steps.front().grad())
    return makeError("'sattn.attention_grad' has no GPU kernel yet; compile "
                     "it for the CPU");
  kernel->gpuCode =
      describeKernel(kernel->sig.steps.front().op, /*tensorCores=*/true);
  return kernel;
}

llvm::Expected<CudaFunction> GpuKernel::getFunction() const {
  auto driver = CudaDriver::get();
  if (!driver)
    return driver.takeError();
  std::lock_guard<std::mutex> lock(loadMutex);
  if (function)
    return function;
  if (driver->computeCapability() < 80)
    return makeError("the GPU (" + driver->deviceName() +
                     ", compute capability " +
                     llvm::Twine(driver->computeCapability()) +
                     ") is older than sm_80, which sattn's kernels need");
  auto loaded = driver->loadModule(gpuCode.binary);
  if (!loaded)
    return loaded.takeError();
  module = *loaded;
  auto fn = driver->getFunction(module, gpuCode.kernel);
  if (!fn)
    return fn.takeError();
  function = *fn;
  return function;
}

llvm::Error GpuKernel::checkAlignment(llvm::ArrayRef<TensorView> inputs) const {
  if (!gpuCode.tensorCores)
    return llvm::Error::success();
  const SpecStep &step = sig.steps.front();
  for (unsigned i : {step.q, step.k, step.v})
    if (reinterpret_cast<uintptr_t>(inputs[i].data) % 16 != 0)
      return makeError("input #" + llvm::Twine(i) +
                       " is not 16-byte aligned; the tensor-core GPU kernel "
                       "copies Q, K and V 16 bytes at a time");
  return llvm::Error::success();
}

llvm::Error GpuKernel::run(llvm::ArrayRef<TensorView> inputs,
                           llvm::ArrayRef<TensorView> outputs) const {
  if (llvm::Error err = checkOutputs(inputs, outputs))
    return err;
  if (llvm::Error err = checkAlignment(inputs))
    return err;
  auto fn = getFunction();
  if (!fn)
    return fn.takeError();
  CudaDriver &driver = *CudaDriver::getIfLoaded();
  auto checkDevice = [&](const TensorView &t,
                         const llvm::Twine &what) -> llvm::Error {
    if (t.numElements() == 0 || driver.isDevicePointer(t.data))
      return llvm::Error::success();
    return makeError(what + " is not CUDA device memory (a host pointer was "
                            "given to a GPU kernel)");
  };
  for (auto [i, t] : llvm::enumerate(inputs))
    if (llvm::Error err = checkDevice(t, "input #" + llvm::Twine(i)))
      return err;
  for (auto [i, t] : llvm::enumerate(outputs))
    if (llvm::Error err = checkDevice(t, "output #" + llvm::Twine(i)))
      return err;

  // Index data (paged: block table, seq_lens; varlen: cu_seqlens) is
  // checked on a host copy before anything runs.
  const SpecStep &step = sig.steps.front();
  std::vector<HostTensor> hostIndices;
  if (!step.indices.empty()) {
    std::vector<TensorView> views(inputs.begin(), inputs.end());
    for (unsigned i : step.indices) {
      auto host = HostTensor::allocate(inputs[i].kind, inputs[i].shape);
      if (!host)
        return host.takeError();
      if (llvm::Error err = driver.copyToHost(
              host->data(), reinterpret_cast<CudaDevicePtr>(inputs[i].data),
              host->numBytes()))
        return err;
      hostIndices.push_back(std::move(*host));
      views[i] = hostIndices.back().view();
    }
    if (llvm::Error err = checkIndexData(views))
      return err;
  }

  // Buffers of the op: Q, K, V from the inputs, O and LSE from the outputs
  // (LSE in scratch memory when the kernel writes it but the function does
  // not return it).
  const TensorView &q = inputs[step.q], &k = inputs[step.k],
                   &v = inputs[step.v];
  void *o = nullptr, *lse = nullptr;
  for (auto [i, id] : llvm::enumerate(sig.outputValues))
    (sig.producer(id).second == 0 ? o : lse) = outputs[i].data;
  int64_t batch = q.shape[0], hq = q.shape[1], lq = q.shape[2];
  // Paged: K and V are the caches [P, page, Hkv, D]; Lk is per sequence.
  PagedAttentionOp paged = step.paged();
  int64_t hkv = paged ? k.shape[2] : k.shape[1], lk = paged ? 0 : k.shape[2];
  int64_t rowsTotal = batch * hq * lq;
  // Varlen: Q [Tq, Hq, D], K [Tk, Hkv, D]; the kernel takes Tq and Tk as Lq
  // and Lk, and the grid covers the longest sequence's query tiles.
  bool varlen = step.varlen();
  int64_t numQueryTiles = 0;
  if (varlen) {
    const HostTensor &cuq = hostIndices.front();
    batch = cuq.numElements() - 1;
    hq = q.shape[1];
    lq = q.shape[0];
    hkv = k.shape[1];
    lk = k.shape[0];
    rowsTotal = hq * lq;
    for (int64_t b = 0; b < batch; ++b)
      numQueryTiles = std::max<int64_t>(
          numQueryTiles,
          (int64_t(cuq.get(b + 1)) - int64_t(cuq.get(b)) + gpuCode.rows - 1) /
              gpuCode.rows);
  } else {
    numQueryTiles = (lq + gpuCode.rows - 1) / gpuCode.rows;
  }
  CudaDevicePtr scratch = 0, dummy = 0;
  llvm::scope_exit release([&] {
    driver.free(scratch);
    driver.free(dummy);
  });
  if (gpuCode.hasLse && !lse) {
    auto buffer = driver.allocate(rowsTotal * sizeof(float));
    if (!buffer)
      return buffer.takeError();
    scratch = *buffer;
    lse = reinterpret_cast<void *>(scratch);
  }
  if (!o) {
    auto buffer =
        driver.allocate(rowsTotal * v.shape.back() * elemKindSize(q.kind));
    if (!buffer)
      return buffer.takeError();
    dummy = *buffer;
    o = reinterpret_cast<void *>(dummy);
  }
  if (rowsTotal == 0)
    return llvm::Error::success(); // nothing to compute
  if (numQueryTiles > 0x7fffffff || hq > 65535 || batch > 65535)
    return makeError("the launch grid (" + llvm::Twine(numQueryTiles) + ", " +
                     llvm::Twine(hq) + ", " + llvm::Twine(batch) +
                     ") exceeds CUDA's limits (2^31 - 1, 65535, 65535)");

  // Each memref<?xT> parameter is (allocated, aligned, offset, size, stride).
  struct FlatMemRef {
    void *allocated, *aligned;
    int64_t offset, size, stride;
  };
  auto flat = [](void *data, int64_t size) {
    return FlatMemRef{data, data, 0, size, 1};
  };
  // (Q, K, V, O, LSE, Hq, Hkv, Lq, Lk), then for paged kernels (block
  // table, seq_lens, P, M), for varlen kernels (cu_seqlens_q, cu_seqlens_k):
  // the kernel's parameters (SAttnToGPU).
  FlatMemRef memrefs[7] = {
      flat(q.data, q.numElements()), flat(k.data, k.numElements()),
      flat(v.data, v.numElements()), flat(o, rowsTotal * v.shape.back()),
      flat(lse, lse ? rowsTotal : 0)};
  int64_t sizes[6] = {hq, hkv, lq, lk};
  if (paged || varlen) {
    const TensorView &first = inputs[step.indices[0]],
                     &second = inputs[step.indices[1]];
    memrefs[5] = flat(first.data, first.numElements());
    memrefs[6] = flat(second.data, second.numElements());
  }
  if (paged) {
    sizes[4] = k.shape[0];                       // P
    sizes[5] = inputs[step.indices[0]].shape[1]; // M
  }
  std::vector<void *> params;
  auto pushMemRef = [&](FlatMemRef &m) {
    for (void *field : {(void *)&m.allocated, (void *)&m.aligned,
                        (void *)&m.offset, (void *)&m.size, (void *)&m.stride})
      params.push_back(field);
  };
  for (int i = 0; i < 5; ++i)
    pushMemRef(memrefs[i]);
  for (int i = 0; i < 4; ++i)
    params.push_back(&sizes[i]);
  if (paged || varlen) {
    pushMemRef(memrefs[5]);
    pushMemRef(memrefs[6]);
  }
  if (paged) {
    params.push_back(&sizes[4]);
    params.push_back(&sizes[5]);
  }
  unsigned grid[3] = {unsigned(numQueryTiles), unsigned(hq), unsigned(batch)};
  unsigned block[3] = {unsigned(kGpuBlockThreads), 1, 1};
  // The inputs may come from work on any stream of the context (PyTorch's
  // streams do not synchronize with the default one): wait for it first.
  if (llvm::Error err = driver.synchronize())
    return err;
  if (llvm::Error err = driver.launch(*fn, grid, block, params))
    return err;
  return driver.synchronize();
}

llvm::Error GpuKernel::runFromHost(llvm::ArrayRef<TensorView> inputs,
                                   llvm::ArrayRef<TensorView> outputs) const {
  if (llvm::Error err = checkOutputs(inputs, outputs))
    return err;
  auto driver = CudaDriver::get();
  if (!driver)
    return driver.takeError();
  std::vector<CudaDevicePtr> buffers;
  llvm::scope_exit release([&] {
    for (CudaDevicePtr p : buffers)
      driver->free(p);
  });
  auto toDevice = [&](ArrayRef<TensorView> host, bool copy,
                      std::vector<TensorView> &device) -> llvm::Error {
    for (const TensorView &t : host) {
      size_t bytes = t.numElements() * elemKindSize(t.kind);
      auto buffer = driver->allocate(bytes);
      if (!buffer)
        return buffer.takeError();
      buffers.push_back(*buffer);
      if (copy)
        if (llvm::Error err = driver->copyToDevice(*buffer, t.data, bytes))
          return err;
      device.push_back({reinterpret_cast<void *>(*buffer), t.shape, t.kind});
    }
    return llvm::Error::success();
  };
  std::vector<TensorView> in, out;
  if (llvm::Error err = toDevice(inputs, /*copy=*/true, in))
    return err;
  if (llvm::Error err = toDevice(outputs, /*copy=*/false, out))
    return err;
  if (llvm::Error err = run(in, out))
    return err;
  for (auto [host, device] : llvm::zip(outputs, out))
    if (llvm::Error err = driver->copyToHost(
            host.data, reinterpret_cast<CudaDevicePtr>(device.data),
            host.numElements() * elemKindSize(host.kind)))
      return err;
  return llvm::Error::success();
}
