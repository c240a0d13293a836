//===- SAttnAttrs.h - mask pattern attributes -------------------*- C++ -*-===//

#ifndef SATTN_DIALECT_SATTN_IR_SATTNATTRS_H
#define SATTN_DIALECT_SATTN_IR_SATTNATTRS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectImplementation.h"
#include "sattn/Dialect/SAttn/IR/SAttnInterfaces.h"

namespace mlir {
namespace sattn {
/// Parses a seed: any integer in [-2^63, 2^64), kept as its 64-bit
/// two's-complement pattern.
FailureOr<uint64_t> parseSeed(AsmParser &parser);
} // namespace sattn
} // namespace mlir

#include "sattn/Dialect/SAttn/IR/SAttnEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "sattn/Dialect/SAttn/IR/SAttnAttrs.h.inc"

namespace mlir {
namespace sattn {
/// True for masks whose kept keys lie in a closed-form range around each
/// query (causal, window, dilated, sink, their unions and intersections, and
/// presets made of them): buildKeyRange() bounds them tightly.
bool isBandMask(Attribute mask);

/// Upper bounds of the host work (block cells tested, random blocks drawn)
/// of one evaluate() of `mask`, and of one classify() of a rectangle of
/// rows x keys, for key length lk. Loops that call them many times (tile
/// plans, statistics, drawings) add these up to stay within a budget.
int64_t maskEvaluateCost(Attribute mask, int64_t lk);
int64_t maskClassifyCost(Attribute mask, int64_t rows, int64_t keys,
                         int64_t lk);

/// Tile classes and kept pairs of one (batch, head).
struct TilePlanStats {
  int64_t emptyTiles = 0, fullTiles = 0, partialTiles = 0, keptPairs = 0;
};
/// The stats for lengths lq x lk and tiles of rows x keys: classify() on
/// every tile, evaluate() inside PARTIAL ones. nullopt when that costs more
/// than `maxWork` (maskClassifyCost and maskEvaluateCost units; the default
/// is about a second): statistics of huge lengths or of masks that are
/// expensive to test are refused, not computed for hours.
constexpr int64_t kMaxMaskStatsWork = int64_t(1) << 27;
std::optional<TilePlanStats>
computeTilePlanStats(MaskAttrInterface mask, int64_t lq, int64_t lk,
                     int64_t rows, int64_t keys,
                     int64_t maxWork = kMaxMaskStatsWork);

/// The most work (maskClassifyCost units) a compile-time tile plan may take:
/// a few seconds.
constexpr int64_t kMaxTilePlanWork = int64_t(1) << 30;

/// Declares the private constant memref<N x i32> global `name` holding
/// `values` at the start of `symbolTable`.
void declareConstantTable(Operation *symbolTable, Location loc, StringRef name,
                          ArrayRef<int32_t> values);

/// The tile plan of static shapes as two constant i32 tables in `symbolTable`
/// (CSR): `offsets` has one entry per query tile plus one, `entries` lists the
/// non-EMPTY key tiles of each query tile as kt * 2 + isFull; transposed (for
/// the backward), one entry per key tile and its query tiles qt * 2 + isFull.
struct TilePlanTables {
  std::string offsets, entries;
  int64_t numOffsets, numEntries;
  bool anyPartial; // false: no predicate code is needed at all
  /// The values of `offsets`, for planning at compile time.
  SmallVector<int32_t> offsetValues = {};
};
/// Declares the tables named `prefix`_plan_offsets / _plan_tiles for lengths
/// lq x lk and tiles of rows x keys; nullopt (classify at run time instead)
/// for band masks, whose key range is closed-form, for plans with no EMPTY
/// tile to skip, and for plans too large or too costly (kMaxTilePlanWork).
std::optional<TilePlanTables>
declareTilePlanTables(Operation *symbolTable, Location loc,
                      MaskAttrInterface mask, int64_t lq, int64_t lk,
                      int64_t rows, int64_t keys, StringRef prefix,
                      bool transposed = false);
} // namespace sattn
} // namespace mlir

#endif // SATTN_DIALECT_SATTN_IR_SATTNATTRS_H
