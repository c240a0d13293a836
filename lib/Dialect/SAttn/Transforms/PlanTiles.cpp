//===- PlanTiles.cpp - -sattn-plan-tiles ----------------------------------===//

#include "sattn/Dialect/SAttn/IR/SAttnOps.h"
#include "sattn/Dialect/SAttn/Transforms/MaskRewrites.h"
#include "sattn/Dialect/SAttn/Transforms/Passes.h"
#include "sattn/Dialect/SAttn/Transforms/TilePlan.h"
#include "llvm/Support/Format.h"
#include <numeric>

namespace mlir::sattn {
#define GEN_PASS_DEF_SATTNPLANTILES
#include "sattn/Dialect/SAttn/Transforms/Passes.h.inc"
} // namespace mlir::sattn

using namespace mlir;
using namespace mlir::sattn;

/// The largest candidate dividing `block`, or the first candidate.
static int64_t fitTile(int64_t block, ArrayRef<int64_t> candidates) {
  if (block > 0)
    for (int64_t c : candidates)
      if (block % c == 0)
        return c;
  return candidates.front();
}

std::pair<int64_t, int64_t>
mlir::sattn::chooseTileSizes(MaskAttrInterface mask) {
  // Bands: narrower key tiles waste fewer masked-out pairs on the edges of
  // the band (measured: causal window 256 about 10% faster at Bc = 32).
  if (isBandMask(mask))
    return {32, 32};
  // Iteration spaces (strided, dilated): their bands in residue positions.
  if (std::optional<SmallVector<IterationSpace>> spaces =
          splitIterationSpaces(mask))
    return llvm::all_of(*spaces,
                        [](const IterationSpace &space) {
                          return isa<DenseAttr>(space.mask);
                        })
               ? std::pair<int64_t, int64_t>{32, 64}
               : std::pair<int64_t, int64_t>{32, 32};
  auto [gridQ, gridK] = mask.getBlockGrid();
  return {fitTile(gridQ, {32, 16}), fitTile(gridK, {64, 32, 16, 8})};
}

namespace {
struct PlanTilesPass : public sattn::impl::SAttnPlanTilesBase<PlanTilesPass> {
  using Base::Base;

  /// Bad options fail when the pipeline is parsed, before any IR is touched.
  LogicalResult initializeOptions(
      StringRef options,
      function_ref<LogicalResult(const Twine &)> errorHandler) override {
    if (failed(Base::initializeOptions(options, errorHandler)))
      return failure();
    for (auto [name, size] : {std::pair{"q-tile", int64_t(queryTile)},
                              std::pair{"k-tile", int64_t(keyTile)}})
      if (size < 0 || size > SAttnDialect::kMaxTileSide)
        return errorHandler("-sattn-plan-tiles: " + Twine(name) +
                            " must be 0 (the planner's choice) or in [1, " +
                            Twine(SAttnDialect::kMaxTileSide) + "], got " +
                            Twine(size));
    return success();
  }

  void runOnOperation() override {
    // Paged decode keeps the CPU conversion's own tile (one group of query
    // heads per tile).
    getOperation()->walk([&](AttentionOpInterface op) {
      if (isa<PagedAttentionOp>(op.getOperation()))
        return;
      auto [defaultRows, defaultKeys] = chooseTileSizes(op.getMask());
      int64_t br = queryTile > 0 ? queryTile : defaultRows;
      int64_t bc = keyTile > 0 ? keyTile : defaultKeys;
      // A plan written in the spec wins over the pass's defaults.
      if (auto given = op->getAttrOfType<TileAttr>("sattn.tile");
          given && queryTile == 0 && keyTile == 0) {
        br = given.getRows();
        bc = given.getKeys();
      }
      op->setAttr("sattn.tile", TileAttr::get(&getContext(), br, bc));
      if (auto contiguous = dyn_cast<AttentionOp>(op.getOperation());
          contiguous && printStats)
        reportStats(contiguous, br, bc);
    });
  }

  void reportStats(AttentionOp op, int64_t br, int64_t bc) {
    auto qType = op.getQuery().getType();
    auto kType = op.getKey().getType();
    if (!qType.hasStaticShape() || !kType.hasStaticShape()) {
      op.emitRemark("tile plan ")
          << br << "x" << bc << ": dynamic shape, classes chosen at run time";
      return;
    }
    // Strided masks: the CPU kernel tiles each iteration space, a band in
    // residue positions, not the mask below (see docs/CPUCodegen.md).
    if (std::optional<SmallVector<IterationSpace>> spaces =
            splitIterationSpaces(op.getMask());
        spaces && !op.getAlibiSlopes()) {
      InFlightDiagnostic remark = op.emitRemark("iteration spaces:");
      for (const IterationSpace &space : *spaces)
        remark << " {stride " << space.stride << ", shift " << space.shift
               << ", " << space.mask << "}";
    }
    int64_t lq = qType.getDimSize(2), lk = kType.getDimSize(2);
    std::optional<TilePlanStats> stats =
        computeTilePlanStats(op.getMask(), lq, lk, br, bc);
    if (!stats) {
      op.emitRemark("tile plan ")
          << br << "x" << bc << ": Lq = " << lq << ", Lk = " << lk
          << " is too large to count the tile classes at compile time";
      return;
    }
    int64_t kept = stats->keptPairs;
    int64_t batch = qType.getDimSize(0), heads = qType.getDimSize(1);
    int64_t d = qType.getDimSize(3), dv = op.getValue().getType().getDimSize(3);
    double density = lq * lk > 0 ? double(kept) / (double(lq) * lk) : 0.0;
    double gflop = 2.0 * (d + dv) * double(kept) * batch * heads * 1e-9;
    std::string numbers;
    llvm::raw_string_ostream(numbers)
        << llvm::format("density %.6f; useful GFLOP %.6f", density, gflop);
    op.emitRemark("tile plan ")
        << br << "x" << bc << ": " << stats->emptyTiles << " empty, "
        << stats->fullTiles << " full, " << stats->partialTiles
        << " partial tiles; " << numbers;
  }
};

} // namespace
