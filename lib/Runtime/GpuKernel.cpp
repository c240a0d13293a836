//===- GpuKernel.cpp - a spec function compiled for an NVIDIA GPU ---------===//

#include "sattn/Runtime/GpuKernel.h"

#include "mlir/AsmParser/AsmParser.h"
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

static constexpr llvm::StringLiteral kLaunchLinePrefix =
    "// sattn.gpu_launch: ";

std::string mlir::sattn::printLaunchLine(GpuLaunchAttr launch) {
  std::string line;
  llvm::raw_string_ostream os(line);
  os << kLaunchLinePrefix << launch << "\n";
  return line;
}

llvm::Expected<GpuLaunchAttr> mlir::sattn::parseLaunchLine(MLIRContext *ctx,
                                                           StringRef ptx) {
  StringRef line = ptx.take_until([](char c) { return c == '\n'; });
  if (!line.consume_front(kLaunchLinePrefix))
    return makeError("the PTX does not start with its launch ('" +
                     kLaunchLinePrefix.rtrim() + " ...'); emit it again");
  auto launch = dyn_cast_or_null<GpuLaunchAttr>(parseAttribute(line, ctx));
  if (!launch)
    return makeError("the PTX's launch line is not a #sattn.gpu_launch: " +
                     line);
  return launch;
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
  unsigned numOps = 0;
  fn.walk([&](Operation *op) {
    numOps += isa<AttentionOpInterface, AttentionGradOp>(op);
  });
  if (numOps != 1)
    return makeError("the nvvm target compiles functions with exactly one "
                     "sattn.attention; '" +
                     function + "' has " + llvm::Twine(numOps));
  std::string cuda = getCudaToolkitPath(toolkit);
  if (format == GpuBinaryFormat::Cubin || format == GpuBinaryFormat::Fatbin) {
    llvm::SmallString<256> ptxas(cuda);
    llvm::sys::path::append(ptxas, "bin", "ptxas");
    if (!llvm::sys::fs::can_execute(ptxas))
      return makeError("no CUDA toolkit: a cubin needs ptxas, not found at " +
                       ptxas + " (set CUDA_HOME, or emit PTX)");
  }

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
  GpuCode code;
  auto host = lowered->lookupSymbol<func::FuncOp>(function);
  auto launches =
      host ? host->getAttrOfType<ArrayAttr>("sattn.gpu_launches") : ArrayAttr();
  if (!launches || launches.size() != 1)
    return makeError("GPU compilation gave no launch for '" + function + "'");
  code.launch = cast<GpuLaunchAttr>(launches[0]);
  lowered->walk([&](gpu::BinaryOp binary) {
    for (Attribute object : binary.getObjects())
      code.binary = cast<gpu::ObjectAttr>(object).getObject().str();
  });
  if (code.binary.empty())
    return makeError("GPU compilation produced no binary");
  if (format == GpuBinaryFormat::PTX)
    code.binary = printLaunchLine(code.launch) + code.binary;
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
  (*kernel)->gpuCode = std::move(*code);
  return kernel;
}

llvm::Expected<std::unique_ptr<GpuKernel>>
GpuKernel::load(ModuleOp module, StringRef function, StringRef ptx) {
  auto kernel = create(module, function);
  if (!kernel)
    return kernel;
  auto launch = parseLaunchLine(module.getContext(), ptx);
  if (!launch)
    return launch.takeError();
  (*kernel)->gpuCode = {ptx.str(), *launch};
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
  auto fn = driver->getFunction(
      module, gpuCode.launch.getKernel().getLeafReference().getValue());
  if (!fn)
    return fn.takeError();
  function = *fn;
  return function;
}

llvm::Error
GpuKernel::checkAlignment(llvm::ArrayRef<TensorView> inputs,
                          llvm::ArrayRef<TensorView> outputs) const {
  if (!gpuCode.launch.getTensorCores())
    return llvm::Error::success();
  const SpecStep &step = sig.steps.front();
  SmallVector<unsigned> copied = {step.q, step.k, step.v};
  if (step.grad())
    copied.push_back(step.indices[1]); // dO
  for (unsigned i : copied)
    if (reinterpret_cast<uintptr_t>(inputs[i].data) % 16 != 0)
      return makeError("input #" + llvm::Twine(i) +
                       " is not 16-byte aligned; the tensor-core GPU kernel "
                       "copies Q, K, V (and dO) 16 bytes at a time");
  if (step.grad()) // dQ, dK, dV are stored one element at a time
    return llvm::Error::success();
  for (auto [i, id] : llvm::enumerate(sig.outputValues))
    if (sig.producer(id).second == 0 &&
        reinterpret_cast<uintptr_t>(outputs[i].data) % 4 != 0)
      return makeError("output #" + llvm::Twine(i) +
                       " is not 4-byte aligned; the tensor-core GPU kernel "
                       "stores O two elements at a time");
  return llvm::Error::success();
}

llvm::Error GpuKernel::run(llvm::ArrayRef<TensorView> inputs,
                           llvm::ArrayRef<TensorView> outputs) const {
  if (llvm::Error err = checkOutputs(inputs, outputs))
    return err;
  if (llvm::Error err = checkAlignment(inputs, outputs))
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
  AttentionGradOp grad = step.grad();
  if (!step.indices.empty() && !grad) {
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
  // not return it). The backward: O, dO and LSE from the inputs, dQ, dK, dV
  // from the outputs (in scratch memory when not returned).
  const TensorView &q = inputs[step.q], &k = inputs[step.k],
                   &v = inputs[step.v];
  void *o = nullptr, *lse = nullptr, *gradOut = nullptr;
  void *results[SpecSignature::kValuesPerStep] = {};
  for (auto [i, id] : llvm::enumerate(sig.outputValues))
    results[sig.producer(id).second] = outputs[i].data;
  if (grad) {
    o = inputs[step.indices[0]].data;
    gradOut = inputs[step.indices[1]].data;
    lse = inputs[step.indices[2]].data;
  } else {
    o = results[0];
    lse = results[1];
  }
  int64_t batch = q.shape[0], hq = q.shape[1], lq = q.shape[2];
  // Paged: K and V are the caches [P, page, Hkv, D]; Lk is per sequence.
  PagedAttentionOp paged = step.paged();
  int64_t hkv = paged ? k.shape[2] : k.shape[1], lk = paged ? 0 : k.shape[2];
  int64_t rowsTotal = batch * hq * lq;
  GpuLaunchAttr launch = gpuCode.launch;
  int64_t tileRows = launch.getTile().getRows();
  // Varlen: Q [Tq, Hq, D], K [Tk, Hkv, D]; the kernel takes Tq and Tk as Lq
  // and Lk, and the grid covers the longest sequence's query tiles.
  int64_t longest = lq;
  if (step.varlen()) {
    const HostTensor &cuq = hostIndices.front();
    batch = cuq.numElements() - 1;
    lq = q.shape[0];
    hkv = k.shape[1];
    lk = k.shape[0];
    rowsTotal = hq * lq;
    longest = 0;
    for (int64_t b = 0; b < batch; ++b)
      longest = std::max<int64_t>(longest, int64_t(cuq.get(b + 1)) -
                                               int64_t(cuq.get(b)));
  }
  int64_t numQueryTiles = (longest + tileRows - 1) / tileRows;
  // What the kernel writes but the function does not return goes to
  // scratch memory: LSE, O, or the backward's dQ, dK, dV.
  std::vector<CudaDevicePtr> scratch;
  llvm::scope_exit release([&] {
    for (CudaDevicePtr p : scratch)
      driver.free(p);
  });
  SmallVector<std::pair<void **, int64_t>> needed; // buffer, bytes
  int64_t es = elemKindSize(q.kind);
  if (grad)
    needed = {{&results[0], q.numElements() * es},
              {&results[1], k.numElements() * es},
              {&results[2], v.numElements() * es}};
  else
    needed = {{&o, rowsTotal * v.shape.back() * es}};
  if (launch.getWritesLse())
    needed.push_back({&lse, rowsTotal * int64_t(sizeof(float))});
  // Heavy query tiles cut into parts: their partial rows and counters.
  int64_t slots = batch * hq * launch.getPartSlots();
  int64_t partialElems = slots * tileRows * (v.shape.back() + 1);
  void *partials = nullptr, *counters = nullptr;
  if (slots) {
    needed.push_back({&partials, partialElems * 4});
    needed.push_back({&counters, slots * 4});
  }
  for (auto [buffer, bytes] : needed) {
    if (*buffer)
      continue;
    auto memory = driver.allocate(bytes);
    if (!memory)
      return memory.takeError();
    scratch.push_back(*memory);
    *buffer = reinterpret_cast<void *>(*memory);
  }
  if (counters) { // zero before the launch (the kernel leaves them zero)
    std::vector<int32_t> zeros(slots, 0);
    if (llvm::Error err =
            driver.copyToDevice(reinterpret_cast<CudaDevicePtr>(counters),
                                zeros.data(), slots * sizeof(int32_t)))
      return err;
  }
  // The kernel's parameters in the launch's order: each buffer a flat memref
  // (allocated, aligned, offset, size, stride), each size one i64.
  struct FlatMemRef {
    void *allocated, *aligned;
    int64_t offset, size, stride;
  };
  auto flat = [](void *data, int64_t size) {
    return FlatMemRef{data, data, 0, size, 1};
  };
  auto index = [&](unsigned i) -> const TensorView & {
    return inputs[step.indices[i]];
  };
  // Buffers: q, k, v, o, lse, then the index data (block table, seq_lens or
  // cu_seqlens_q, cu_seqlens_k).
  auto bufferOf = [&](KernelParam param) -> FlatMemRef {
    switch (param) {
    case KernelParam::Q:
      return flat(q.data, q.numElements());
    case KernelParam::K:
      return flat(k.data, k.numElements());
    case KernelParam::V:
      return flat(v.data, v.numElements());
    case KernelParam::O:
      return flat(o, rowsTotal * v.shape.back());
    case KernelParam::Lse:
      return flat(lse, lse ? rowsTotal : 0);
    case KernelParam::GradOutput:
      return flat(gradOut, rowsTotal * v.shape.back());
    case KernelParam::GradQuery:
      return flat(results[0], q.numElements());
    case KernelParam::GradKey:
      return flat(results[1], k.numElements());
    case KernelParam::GradValue:
      return flat(results[2], v.numElements());
    case KernelParam::Partials:
      return flat(partials, partialElems);
    case KernelParam::PartCounters:
      return flat(counters, slots);
    default: {
      bool second =
          param == KernelParam::SeqLens || param == KernelParam::CuSeqlensK;
      return flat(index(second).data, index(second).numElements());
    }
    }
  };
  auto sizeOf = [&](KernelParam param) -> int64_t {
    switch (param) {
    case KernelParam::QHeads:
      return hq;
    case KernelParam::KvHeads:
      return hkv;
    case KernelParam::QLen:
      return lq;
    case KernelParam::KLen:
      return lk;
    case KernelParam::NumPages:
      return k.shape[0];
    default: // max_pages
      return index(0).shape[1];
    }
  };
  ArrayRef<KernelParam> order = launch.getParams();
  std::vector<FlatMemRef> memrefs;
  std::vector<int64_t> sizes;
  memrefs.reserve(order.size()); // no reallocation: params point into them
  sizes.reserve(order.size());
  std::vector<void *> params;
  for (KernelParam param : order) {
    if (!GpuLaunchAttr::isBuffer(param)) {
      sizes.push_back(sizeOf(param));
      params.push_back(&sizes.back());
      continue;
    }
    FlatMemRef &m = memrefs.emplace_back(bufferOf(param));
    for (void *field : {(void *)&m.allocated, (void *)&m.aligned,
                        (void *)&m.offset, (void *)&m.size, (void *)&m.stride})
      params.push_back(field);
  }
  int64_t keyTiles =
      (lk + launch.getTile().getKeys() - 1) / launch.getTile().getKeys();
  int64_t dims[3];
  for (auto [i, d] : llvm::enumerate(launch.getGrid()))
    dims[i] = d == LaunchDim::QueryTiles         ? numQueryTiles
              : d == LaunchDim::KeyAndQueryTiles ? keyTiles + numQueryTiles
              : d == LaunchDim::Calls            ? launch.getCalls()
              : d == LaunchDim::QHeads           ? hq
                                                 : batch;
  if (dims[0] > 0x7fffffff || dims[1] > 65535 || dims[2] > 65535)
    return makeError("the launch grid (" + llvm::Twine(dims[0]) + ", " +
                     llvm::Twine(dims[1]) + ", " + llvm::Twine(dims[2]) +
                     ") exceeds CUDA's limits (2^31 - 1, 65535, 65535)");
  if (dims[0] * dims[1] * dims[2] == 0)
    return llvm::Error::success(); // nothing to compute
  unsigned grid[3] = {unsigned(dims[0]), unsigned(dims[1]), unsigned(dims[2])};
  unsigned block[3] = {unsigned(launch.getThreads()), 1, 1};
  // The inputs may come from work on any stream of the context (PyTorch's
  // streams do not synchronize with the default one): wait for it first.
  if (llvm::Error err = driver.synchronize())
    return err;
  if (llvm::Error err = driver.launch(*fn, grid, block, params,
                                      unsigned(launch.getSharedMemory())))
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
