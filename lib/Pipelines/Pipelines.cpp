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

/// The textual pipelines name registered passes.
static void registerPassesOnce() {
  static std::once_flag registered;
  std::call_once(registered, [] {
    registerAllPasses();
    sattn::registerSAttnPasses();
    sattn::registerSAttnConversionPasses();
  });
}

LogicalResult sattn::buildLowerToLLVMPipeline(OpPassManager &pm) {
  registerPassesOnce();
  return parsePassPipeline(kLowerToLLVM, pm);
}

std::string sattn::getCudaToolkitPath(StringRef requested) {
  if (!requested.empty())
    return requested.str();
  if (const char *home = std::getenv("CUDA_HOME"); home && *home)
    return home;
  return "/usr/local/cuda";
}

void sattn::buildLowerToNVVMPipeline(OpPassManager &pm,
                                     const LowerToNVVMOptions &options) {
  registerPassesOnce();
  StringRef chip = options.chip == GpuChip::SM80 ? "sm_80" : "sm_90";
  StringRef format;
  switch (options.format) {
  case GpuBinaryFormat::PTX:
    format = "isa";
    break;
  case GpuBinaryFormat::Cubin:
    format = "bin";
    break;
  case GpuBinaryFormat::Fatbin:
    format = "fatbin";
    break;
  case GpuBinaryFormat::LLVM:
    format = "llvm";
    break;
  }
  std::string pipeline =
      // The mask algebra, then the kernel and its launch.
      ("sattn-expand-presets,sattn-simplify-masks,convert-sattn-to-gpu{"
       "tensor-cores=" +
       Twine(options.tensorCores ? "1" : "0") +
       "},canonicalize,cse,"
       // PTX 8.0 (CUDA 12+ ptxas rejects the default PTX 6.0).
       "nvvm-attach-target{module=sattn_kernels O=3 features=+ptx80 chip=" +
       chip + "}," +
       "gpu.module(convert-scf-to-cf,convert-gpu-to-nvvm,canonicalize,cse,"
       "sattn-extern-dynamic-shared-memory),"
       "reconcile-unrealized-casts,gpu-module-to-binary{format=" +
       format +
       // Only ptxas needs the toolkit (the kernels call no libdevice
       // function).
       (options.format == GpuBinaryFormat::Cubin ||
                options.format == GpuBinaryFormat::Fatbin
            ? " toolkit=" + getCudaToolkitPath(options.toolkit)
            : "") +
       "}")
          .str();
  // Only registered passes with valid options: cannot fail.
  if (failed(parsePassPipeline(pipeline, pm)))
    llvm::report_fatal_error("invalid sattn-lower-to-nvvm pipeline");
}

void sattn::registerSAttnPipelines() {
  PassPipelineRegistration<>(
      "sattn-lower-to-llvm",
      "Lower sattn.attention to the LLVM dialect for the host CPU",
      [](OpPassManager &pm) {
        if (failed(buildLowerToLLVMPipeline(pm)))
          llvm::report_fatal_error("invalid sattn-lower-to-llvm pipeline");
      });
  PassPipelineRegistration<LowerToNVVMOptions>(
      "sattn-lower-to-nvvm",
      "Lower sattn.attention to GPU kernels serialized for NVIDIA GPUs",
      buildLowerToNVVMPipeline);
}
