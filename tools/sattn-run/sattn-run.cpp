//===- sattn-run.cpp - JIT-compile and run a sattn spec -------------------===//
//
//   sattn-run spec.mlir --input=@q.npy --input=@k.npy --input=@v.npy \
//             --output=@o.npy [--function=NAME] [--threads=N] [--benchmark=N]
//   sattn-run spec.mlir --check [--seed=S]     (random inputs vs. reference)
//
// Modelled on IREE's iree-run-module: inputs in argument order, outputs in
// result order (O, then LSE when the function returns it).
//
//===----------------------------------------------------------------------===//

#include "sattn/Reference/Reference.h"
#include "sattn/Runtime/CpuKernel.h"
#include "sattn/Runtime/GpuKernel.h"
#include "sattn/Support/MaskRender.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"
#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

using namespace mlir;
using namespace mlir::sattn;
namespace cl = llvm::cl;

static cl::OptionCategory category("sattn-run options");
static cl::opt<std::string> specFile(cl::Positional, cl::desc("<spec.mlir>"),
                                     cl::Required, cl::cat(category));
static cl::opt<std::string> functionName("function",
                                         cl::desc("Function to run"),
                                         cl::cat(category), cl::init(""));
static cl::list<std::string>
    inputFiles("input", cl::desc("@file.npy, in argument order"),
               cl::cat(category));
static cl::list<std::string> outputFiles("output",
                                         cl::desc("@file.npy, in result order"),
                                         cl::cat(category));
static cl::opt<std::string> target("target",
                                   cl::desc("cpu (default) or nvvm (the "
                                            "CUDA GPU, through the driver)"),
                                   cl::cat(category), cl::init("cpu"));
static cl::opt<int> benchmark("benchmark",
                              cl::desc("Timed runs after one warm-up"),
                              cl::cat(category), cl::init(0));
static cl::opt<bool> check("check",
                           cl::desc("Compare against the float64 reference "
                                    "(random inputs unless --input is given)"),
                           cl::cat(category), cl::init(false));
static cl::opt<bool>
    randomInputs("random-inputs",
                 cl::desc("Run on random inputs in [-1, 1] "
                          "(static shapes) instead of --input"),
                 cl::cat(category), cl::init(false));
static cl::opt<unsigned> seed("seed", cl::desc("Seed of the random inputs"),
                              cl::cat(category), cl::init(0));

static int fail(const llvm::Twine &msg) {
  llvm::errs() << "sattn-run: " << msg << "\n";
  return 1;
}

static StringRef stripAt(StringRef path) {
  path.consume_front("@");
  return path;
}

/// --threads=N is taken out of argv by hand: libLLVM already registers a
/// `threads` option of its own.
static std::optional<int> takeThreadsFlag(int &argc, char **argv) {
  std::optional<int> threads;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    StringRef arg(argv[i]);
    if (arg.consume_front("--threads=") || arg.consume_front("-threads=")) {
      int n;
      threads = arg.getAsInteger(10, n) ? -1 : n;
      continue;
    }
    argv[out++] = argv[i];
  }
  argc = out;
  return threads;
}

/// The floor under the error norms of the backward's dQ and dK
/// (docs/Semantics.md, Backward): 1e-2 |scale| |dO| max_j |V_j| max_j |K_j|,
/// Frobenius and row norms.
static double gradFloor(const SpecStep &step,
                        llvm::ArrayRef<const HostTensor *> values) {
  auto maxRowNorm = [](const HostTensor &t) {
    int64_t width = t.shape().back(), n = t.numElements();
    double best = 0;
    for (int64_t row = 0; width && row < n / width; ++row) {
      double sum = 0;
      for (int64_t j = 0; j < width; ++j)
        sum += t.get(row * width + j) * t.get(row * width + j);
      best = std::max(best, sum);
    }
    return std::sqrt(best);
  };
  const HostTensor &dO = *values[step.indices[1]];
  double dONorm = 0;
  for (int64_t e = 0; e < dO.numElements(); ++e)
    dONorm += dO.get(e) * dO.get(e);
  return 1e-2 * std::abs(step.grad().getScaleValue()) * std::sqrt(dONorm) *
         maxRowNorm(*values[step.v]) * maxRowNorm(*values[step.k]);
}

int main(int argc, char **argv) {
  llvm::InitLLVM y(argc, argv);
  std::optional<int> threads = takeThreadsFlag(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "sattn JIT runner\n\n  --threads=N  threads to run on (default: all "
      "cores)\n");

  if (target != "cpu" && target != "nvvm")
    return fail("unknown target '" + target + "' (cpu or nvvm)");
  if (threads && (*threads < 1 || *threads > 1024))
    return fail("--threads must be an integer in [1, 1024]");
  if (benchmark < 0)
    return fail("--benchmark must be >= 0 (the number of timed runs), got " +
                llvm::Twine(benchmark));
  if (threads)
    setenv("OMP_NUM_THREADS", std::to_string(*threads).c_str(), 1);

  DialectRegistry registry;
  registerKernelDependencies(registry);
  MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagHandler(sourceMgr, &context);
  // The function: --function, else the only public one.
  auto spec = loadSpecFile(specFile, functionName, context, sourceMgr);
  if (!spec)
    return fail(llvm::toString(spec.takeError()));
  OwningOpRef<ModuleOp> module = std::move(spec->module);
  std::string name = spec->function;

  auto compileStart = std::chrono::steady_clock::now();
  auto kernel = compileSpecKernel(
      *module, name, target == "cpu" ? KernelDevice::Host : KernelDevice::Cuda);
  if (!kernel)
    return fail(llvm::toString(kernel.takeError()));
  double compileSeconds = std::chrono::duration<double>(
                              std::chrono::steady_clock::now() - compileStart)
                              .count();
  const SpecKernel &k = **kernel;
  // The GPU kernel runs on copies of the host tensors in device memory.
  auto runKernel = [&](ArrayRef<TensorView> in, ArrayRef<TensorView> out) {
    if (k.device() == KernelDevice::Cuda)
      return static_cast<const GpuKernel &>(k).runFromHost(in, out);
    return k.run(in, out);
  };

  // Inputs: files, or random for --check.
  std::vector<HostTensor> inputs;
  if (randomInputs && !inputFiles.empty())
    return fail("give either --input files or --random-inputs");
  if (!randomInputs && (!inputFiles.empty() || !check)) {
    if (inputFiles.size() != k.inputs().size())
      return fail("'" + name + "' takes " + llvm::Twine(k.inputs().size()) +
                  " inputs, got " + llvm::Twine(inputFiles.size()) +
                  " --input");
    for (const std::string &file : inputFiles) {
      auto t = readNpy(stripAt(file));
      if (!t)
        return fail(llvm::toString(t.takeError()));
      inputs.push_back(std::move(*t));
    }
  } else {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> dist(-1.0, 1.0);
    for (auto [i, sig] : llvm::enumerate(k.inputs())) {
      if (llvm::any_of(sig.shape, ShapedType::isDynamic))
        return fail("input #" + llvm::Twine(i) +
                    " has a dynamic shape: give --input files for --check");
      auto allocated = HostTensor::allocate(sig.kind, sig.shape);
      if (!allocated)
        return fail("input #" + llvm::Twine(i) + ": " +
                    llvm::toString(allocated.takeError()));
      HostTensor &t = *allocated;
      for (int64_t e = 0; e < t.numElements(); ++e)
        t.set(e, dist(rng));
      inputs.push_back(std::move(t));
    }
    // Valid index data: random sequence lengths in [0, M * page] and block
    // tables of random pages (shuffled, shared).
    for (const SpecStep &step : k.steps())
      if (PagedAttentionOp paged = step.paged()) {
        HostTensor &table = inputs[step.indices[0]],
                   &lens = inputs[step.indices[1]];
        int64_t numPages = inputs[step.k].shape()[0];
        int64_t capacity =
            numPages ? table.shape()[1] * paged.getPageSize() : 0;
        for (int64_t e = 0; e < table.numElements(); ++e)
          table.set(e, numPages ? int64_t(rng() % numPages) : 0);
        for (int64_t b = 0; b < lens.numElements(); ++b)
          lens.set(b, int64_t(rng() % (capacity + 1)));
      }
    // The backward's O and LSE, when they are inputs: the float64 forward of
    // its Q, K and V (a random LSE would make P meaningless).
    for (const SpecStep &step : k.steps())
      if (AttentionGradOp grad = step.grad()) {
        unsigned o = step.indices[0], lse = step.indices[2];
        if (o >= inputs.size() || lse >= inputs.size() ||
            std::max({step.q, step.k, step.v}) >= inputs.size())
          continue;
        HostTensor refO, refLse;
        referenceAttention(grad, inputs[step.q], inputs[step.k], inputs[step.v],
                           refO, refLse);
        for (int64_t e = 0; e < refO.numElements(); ++e)
          inputs[o].set(e, refO.get(e));
        for (int64_t e = 0; e < refLse.numElements(); ++e)
          inputs[lse].set(e, refLse.get(e));
      }
    // Valid cu_seqlens: B random cut points of the rows, sorted (repeated
    // points make empty sequences).
    for (const SpecStep &step : k.steps())
      if (step.varlen())
        for (auto [cu, total] :
             {std::pair(&inputs[step.indices[0]], inputs[step.q].shape()[0]),
              std::pair(&inputs[step.indices[1]], inputs[step.k].shape()[0])}) {
          std::vector<int64_t> cuts = {0};
          for (int64_t b = 1; b + 1 < cu->numElements(); ++b)
            cuts.push_back(int64_t(rng() % (total + 1)));
          cuts.push_back(total);
          llvm::sort(cuts);
          for (auto [b, cut] : llvm::enumerate(cuts))
            if (int64_t(b) < cu->numElements())
              cu->set(b, cut);
        }
  }
  std::vector<const HostTensor *> inputPtrs;
  std::vector<TensorView> inputViews;
  for (HostTensor &t : inputs) {
    inputPtrs.push_back(&t);
    inputViews.push_back(t.view());
  }

  if (!outputFiles.empty() && outputFiles.size() != k.outputs().size())
    return fail("'" + name + "' returns " + llvm::Twine(k.outputs().size()) +
                " results, got " + llvm::Twine(outputFiles.size()) +
                " --output");
  auto shapes = k.outputShapes(inputViews);
  if (!shapes)
    return fail(llvm::toString(shapes.takeError()));
  std::vector<HostTensor> outputs;
  for (auto [i, shape] : llvm::enumerate(*shapes)) {
    auto allocated = HostTensor::allocate(k.outputs()[i].kind, shape);
    if (!allocated)
      return fail("result #" + llvm::Twine(i) + ": " +
                  llvm::toString(allocated.takeError()));
    outputs.push_back(std::move(*allocated));
  }
  std::vector<TensorView> outputViews;
  for (HostTensor &t : outputs)
    outputViews.push_back(t.view());
  if (check) {
    // The reference loops over every pair: refuse what would take hours.
    auto valueShapes = k.valueShapes(inputViews);
    if (!valueShapes)
      return fail(llvm::toString(valueShapes.takeError()));
    int64_t cost = 0;
    for (const SpecStep &step : k.signature().steps) {
      // Paged: as if every sequence had M * page keys in [B, Hkv, Lk, D].
      std::vector<int64_t> kShape = (*valueShapes)[step.k],
                           vShape = (*valueShapes)[step.v];
      // Varlen: at most one sequence of Tq rows and Tk keys.
      std::vector<int64_t> qShape = (*valueShapes)[step.q];
      if (PagedAttentionOp paged = step.paged()) {
        int64_t lk = (*valueShapes)[step.indices[0]][1] * paged.getPageSize();
        kShape = {kShape[0], kShape[2], lk, kShape[3]};
        vShape = {vShape[0], vShape[2], lk, vShape[3]};
      } else if (step.varlen()) {
        qShape = {1, qShape[1], qShape[0], qShape[2]};
        kShape = {1, kShape[1], kShape[0], kShape[2]};
        vShape = {1, vShape[1], vShape[0], vShape[2]};
      }
      // The backward's reference: the forward and about twice more.
      int64_t c = referenceCost(step.mask(), qShape, kShape, vShape);
      if (step.grad())
        c = c > kMaxReferenceWork / 3 ? kMaxReferenceWork + 1 : 3 * c;
      cost = c > kMaxReferenceWork - cost ? kMaxReferenceWork + 1 : cost + c;
    }
    if (cost > kMaxReferenceWork)
      return fail("--check: the float64 reference of these shapes would take "
                  "more than 2^36 operations (B x Hq x Lq x Lk x (D + Dv + "
                  "one mask test)); check smaller shapes");
  }

  if (llvm::Error err = runKernel(inputViews, outputViews))
    return fail(llvm::toString(std::move(err)));

  int status = 0;
  const SpecSignature &sig = k.signature();
  if (check) {
    // The float64 reference of every step in program order, on the inputs
    // and the reference results of earlier steps.
    std::vector<const HostTensor *> values = inputPtrs;
    constexpr unsigned n = SpecSignature::kValuesPerStep;
    std::vector<HostTensor> refs(n * sig.steps.size());
    for (auto [s, step] : llvm::enumerate(sig.steps)) {
      HostTensor *r = &refs[n * s];
      if (PagedAttentionOp paged = step.paged())
        referencePagedAttention(paged, *values[step.q], *values[step.k],
                                *values[step.v], *values[step.indices[0]],
                                *values[step.indices[1]], r[0], r[1]);
      else if (VarlenAttentionOp varlen = step.varlen())
        referenceVarlenAttention(varlen, *values[step.q], *values[step.k],
                                 *values[step.v], *values[step.indices[0]],
                                 *values[step.indices[1]], r[0], r[1]);
      else if (AttentionGradOp grad = step.grad())
        referenceAttentionGrad(grad, *values[step.q], *values[step.k],
                               *values[step.v], *values[step.indices[1]], r[0],
                               r[1], r[2]);
      else
        referenceAttention(step.op, *values[step.q], *values[step.k],
                           *values[step.v], r[0], r[1]);
      for (unsigned i = 0; i < n; ++i)
        values.push_back(&r[i]);
    }
    for (auto [i, id] : llvm::enumerate(sig.outputValues)) {
      auto [s, resultNumber] = sig.producer(id);
      const HostTensor &got = outputs[i];
      const HostTensor &want = *values[id];
      double diff2 = 0, norm2 = 0, maxAbs = 0;
      int64_t nan = 0, infMismatch = 0;
      for (int64_t e = 0; e < got.numElements(); ++e) {
        double g = got.get(e), w = want.get(e);
        if (std::isnan(g)) {
          ++nan;
          continue;
        }
        if (std::isinf(w) || std::isinf(g)) { // empty rows: LSE = -inf
          infMismatch += g != w;
          continue;
        }
        diff2 += (g - w) * (g - w);
        norm2 += w * w;
        maxAbs = std::max(maxAbs, std::abs(g - w));
      }
      const SpecStep &step = sig.steps[s];
      bool f32 = step.elementType().isF32();
      double tol = f32 ? 1e-5 : 1e-2;
      // Relative to the exact norm; the backward's dQ and dK to at least its
      // floor (docs/Semantics.md, Backward).
      double norm = std::sqrt(norm2);
      if (step.grad()) {
        tol = f32 ? 1e-4 : 2e-2;
        if (resultNumber < 2)
          norm = std::max(norm, gradFloor(step, values));
      }
      double rel = norm > 0 ? std::sqrt(diff2) / norm : std::sqrt(diff2);
      bool ok = nan == 0 && infMismatch == 0 && rel <= tol;
      const char *names[2][3] = {{"O", "LSE", ""}, {"dQ", "dK", "dV"}};
      llvm::outs() << "check result #" << i << " ("
                   << names[bool(step.grad())][resultNumber] << "): "
                   << llvm::format("max abs err %.3e, rel err %.3e", maxAbs,
                                   rel)
                   << " (tolerance " << tol << "), " << nan << " NaN, "
                   << infMismatch
                   << " -inf mismatches: " << (ok ? "ok" : "FAILED") << "\n";
      status |= !ok;
    }
  }

  if (benchmark > 0) {
    std::vector<double> times;
    for (int i = 0; i < benchmark; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      if (llvm::Error err = runKernel(inputViews, outputViews))
        return fail(llvm::toString(std::move(err)));
      times.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
              .count());
    }
    std::sort(times.begin(), times.end());
    double median = times[times.size() / 2];
    // Useful FLOPs: 2 * (D + Dv) * kept pairs, over batch and heads.
    double flops = 0;
    bool counted = true;
    auto shapes = k.valueShapes(inputViews);
    if (!shapes)
      return fail(llvm::toString(shapes.takeError()));
    for (const SpecStep &step : sig.steps) {
      ArrayRef<int64_t> q = (*shapes)[step.q];
      // (Lq, Lk) of the sequences: the same for all B of them, each one's
      // seq_lens entry (paged), or each one's cu_seqlens spans (varlen).
      std::vector<std::pair<int64_t, int64_t>> lengths;
      double sequences = 1;
      const HostTensor *index0 =
          step.indices.empty() ? nullptr : &inputs[step.indices[0]];
      if (step.paged()) {
        for (int64_t b = 0; b < q[0]; ++b)
          lengths.push_back({q[2], int64_t(inputs[step.indices[1]].get(b))});
      } else if (step.varlen()) {
        const HostTensor &cuk = inputs[step.indices[1]];
        for (int64_t b = 0; b + 1 < index0->numElements(); ++b)
          lengths.push_back({int64_t(index0->get(b + 1) - index0->get(b)),
                             int64_t(cuk.get(b + 1) - cuk.get(b))});
      } else {
        lengths.push_back({q[2], (*shapes)[step.k][2]});
        sequences = q[0];
      }
      // Per kept pair: Q K^T and P V, or in the backward Q K^T, dO V^T,
      // P^T dO, dS^T Q and dS K.
      int64_t d = q.back(), dv = (*shapes)[step.v].back();
      double perPair = step.grad() ? 2.0 * (3 * d + 2 * dv) : 2.0 * (d + dv);
      for (auto [lq, lk] : lengths) {
        std::optional<int64_t> kept = countKeptPairs(step.mask(), lq, lk);
        counted &= kept.has_value();
        if (kept)
          flops += perPair * sequences * q[1] * double(*kept);
      }
    }
    std::string rate =
        counted ? llvm::formatv("{0:f1} useful GFLOP/s", flops / median * 1e-9)
                      .str()
                : "useful FLOP/s not counted (too many pairs)";
    llvm::outs() << llvm::format(
        "benchmark: %d runs, median %.3f ms, %s, JIT compile %.3f s%s\n",
        benchmark.getValue(), median * 1e3, rate.c_str(), compileSeconds,
        k.device() == KernelDevice::Cuda
            ? " (GPU times include the host <-> device copies)"
            : "");
  }

  for (auto [i, file] : llvm::enumerate(outputFiles))
    if (llvm::Error err = writeNpy(stripAt(file), outputs[i]))
      return fail(llvm::toString(std::move(err)));
  if (outputFiles.empty() && !check && benchmark == 0)
    for (auto [i, t] : llvm::enumerate(outputs))
      llvm::outs() << "result #" << i << ": " << elemKindName(t.kind()) << " "
                   << shapeString(t.shape()) << "\n";
  return status;
}
