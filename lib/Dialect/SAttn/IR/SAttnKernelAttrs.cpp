//===- SAttnKernelAttrs.cpp - facts of compiled kernels -------------------===//

#include "sattn/Dialect/SAttn/IR/SAttnAttrs.h"
#include "sattn/Dialect/SAttn/IR/SAttnDialect.h"

using namespace mlir;
using namespace mlir::sattn;

LogicalResult TileAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               int64_t rows, int64_t keys) {
  if (rows < 1 || keys < 1 || rows > SAttnDialect::kMaxTileSide ||
      keys > SAttnDialect::kMaxTileSide)
    return emitError() << "tile rows and keys must be in [1, "
                       << SAttnDialect::kMaxTileSide << "], got " << rows
                       << " x " << keys;
  return success();
}

LogicalResult GpuLaunchAttr::verify(
    function_ref<InFlightDiagnostic()> emitError, SymbolRefAttr kernel,
    TileAttr tile, ArrayRef<LaunchDim> grid, int64_t threads,
    int64_t sharedMemory, bool tensorCores, bool writesLse,
    ArrayRef<KernelParam> params, int64_t calls, int64_t partSlots) {
  bool callsInGrid = llvm::is_contained(grid, LaunchDim::Calls);
  if (callsInGrid && calls <= 0)
    return emitError() << "'#sattn.gpu_launch' has `calls` in its grid but "
                          "calls = "
                       << calls;
  if (!callsInGrid && calls != 0)
    return emitError() << "'#sattn.gpu_launch' has calls = " << calls
                       << " but no `calls` in its grid";
  bool workspace = llvm::is_contained(params, KernelParam::Partials) &&
                   llvm::is_contained(params, KernelParam::PartCounters);
  bool anyWorkspace = llvm::is_contained(params, KernelParam::Partials) ||
                      llvm::is_contained(params, KernelParam::PartCounters);
  if (partSlots < 0 || (partSlots > 0) != workspace ||
      anyWorkspace != workspace)
    return emitError() << "'#sattn.gpu_launch' must list both `partials` and "
                          "`part_counters` in its params when part_slots > 0, "
                          "and neither otherwise (part_slots = "
                       << partSlots << ")";
  return success();
}

bool GpuLaunchAttr::isBuffer(KernelParam param) {
  switch (param) {
  case KernelParam::Q:
  case KernelParam::K:
  case KernelParam::V:
  case KernelParam::O:
  case KernelParam::Lse:
  case KernelParam::BlockTable:
  case KernelParam::SeqLens:
  case KernelParam::CuSeqlensQ:
  case KernelParam::CuSeqlensK:
  case KernelParam::GradOutput:
  case KernelParam::GradQuery:
  case KernelParam::Partials:
  case KernelParam::PartCounters:
  case KernelParam::GradKey:
  case KernelParam::GradValue:
    return true;
  default:
    return false;
  }
}
