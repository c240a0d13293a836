//===- ApproximateMath.cpp - -sattn-approximate-math ----------------------===//

#include "sattn/Dialect/SAttn/Transforms/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::sattn {
#define GEN_PASS_DEF_SATTNAPPROXIMATEMATH
#include "sattn/Dialect/SAttn/Transforms/Passes.h.inc"
} // namespace mlir::sattn

using namespace mlir;

namespace {
struct ApproximateMathPass
    : public sattn::impl::SAttnApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
