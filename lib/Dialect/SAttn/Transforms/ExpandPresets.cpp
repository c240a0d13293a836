//===- ExpandPresets.cpp - -sattn-expand-presets --------------------------===//

#include "sattn/Dialect/SAttn/IR/SAttnOps.h"
#include "sattn/Dialect/SAttn/Transforms/MaskRewrites.h"
#include "sattn/Dialect/SAttn/Transforms/Passes.h"

namespace mlir::sattn {
#define GEN_PASS_DEF_SATTNEXPANDPRESETS
#include "sattn/Dialect/SAttn/Transforms/Passes.h.inc"
} // namespace mlir::sattn

using namespace mlir;
using namespace mlir::sattn;

namespace {
struct ExpandPresetsPass
    : public sattn::impl::SAttnExpandPresetsBase<ExpandPresetsPass> {
  void runOnOperation() override {
    auto expand = [](auto op) {
      int64_t lk = op.getKey().getType().getDimSize(2);
      op.setMaskAttr(
          expandPresets(op.getMask(), ShapedType::isDynamic(lk)
                                          ? std::nullopt
                                          : std::optional<int64_t>(lk)));
    };
    getOperation()->walk([&](Operation *op) {
      if (auto forward = dyn_cast<AttentionOp>(op))
        expand(forward);
      else if (auto grad = dyn_cast<AttentionGradOp>(op))
        expand(grad);
    });
  }
};
} // namespace
