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
  case KernelParam::GradKey:
  case KernelParam::GradValue:
    return true;
  default:
    return false;
  }
}
