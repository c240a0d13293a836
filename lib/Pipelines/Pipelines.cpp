//===- Pipelines.cpp - named sattn pass pipelines -------------------------===//

#include "sattn/Pipelines/Pipelines.h"

#include "sattn/Conversion/Passes.h"
#include "sattn/Dialect/SAttn/Transforms/Passes.h"

#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassRegistry.h"
#include <mutex>

using namespace mlir;

/// Each step, in order; the reasons are in ../shared/TOOLCHAIN.md.
static const char *const kLowerToLLVM =
    // The mask algebra, then the fused kernel.
    "sattn-expand-presets,sattn-simplify-masks,sattn-plan-tiles,"
    "convert-sattn-to-loops,canonicalize,cse,"
    // Tensors -> buffers; results become caller-allocated out-params.
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "buffer-results-to-out-params{hoist-static-allocs modify-public-functions},"
    "buffer-deallocation-pipeline,canonicalize,"
    // (batch, head, query tile) on all cores.
    "convert-scf-to-openmp,"
    // exp/log as vector polynomials, not one libm call per lane.
    "sattn-approximate-math,"
    "convert-vector-to-scf{full-unroll target-rank=1},"
    "arith-expand{include-bf16},convert-scf-to-cf,expand-strided-metadata,"
    "lower-affine,"
    "convert-vector-to-llvm{enable-x86vector},finalize-memref-to-llvm,"
    "convert-math-to-llvm,convert-arith-to-llvm,convert-func-to-llvm,"
    "convert-cf-to-llvm,convert-openmp-to-llvm,reconcile-unrealized-casts";

LogicalResult sattn::buildLowerToLLVMPipeline(OpPassManager &pm) {
  // The textual pipeline names registered passes.
  static std::once_flag registered;
  std::call_once(registered, [] {
    registerAllPasses();
    registerSAttnPasses();
    registerSAttnConversionPasses();
  });
  return parsePassPipeline(kLowerToLLVM, pm);
}

void sattn::registerSAttnPipelines() {
  PassPipelineRegistration<>(
      "sattn-lower-to-llvm",
      "Lower sattn.attention to the LLVM dialect for the host CPU",
      [](OpPassManager &pm) {
        if (failed(buildLowerToLLVMPipeline(pm)))
          llvm::report_fatal_error("invalid sattn-lower-to-llvm pipeline");
      });
}
