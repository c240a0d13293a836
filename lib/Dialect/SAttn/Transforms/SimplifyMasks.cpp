//===- SimplifyMasks.cpp - -sattn-simplify-masks --------------------------===//

#include "sattn/Dialect/SAttn/IR/SAttnOps.h"
#include "sattn/Dialect/SAttn/Transforms/MaskRewrites.h"
#include "sattn/Dialect/SAttn/Transforms/Passes.h"

namespace mlir::sattn {
#define GEN_PASS_DEF_SATTNSIMPLIFYMASKS
#include "sattn/Dialect/SAttn/Transforms/Passes.h.inc"
} // namespace mlir::sattn

using namespace mlir;
using namespace mlir::sattn;

namespace {
struct SimplifyMasksPass
    : public sattn::impl::SAttnSimplifyMasksBase<SimplifyMasksPass> {
  void runOnOperation() override {
    getOperation()->walk([](Operation *op) {
      if (auto forward = dyn_cast<AttentionOp>(op))
        forward.setMaskAttr(simplifyMask(forward.getMask()));
      else if (auto grad = dyn_cast<AttentionGradOp>(op))
        grad.setMaskAttr(simplifyMask(grad.getMask()));
    });
  }
};
} // namespace
