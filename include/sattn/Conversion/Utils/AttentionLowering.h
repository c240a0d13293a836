//===- AttentionLowering.h - shared by the sattn conversions ----*- C++ -*-===//
//
// What the CPU (SAttnToLoops) and GPU (SAttnToGPU) conversions build the same
// way: the loop over the non-EMPTY key tiles of a query tile, the static tile
// plan, the op's operand and result buffers, and the per-op driver.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_CONVERSION_UTILS_ATTENTIONLOWERING_H
#define SATTN_CONVERSION_UTILS_ATTENTIONLOWERING_H

#include "sattn/Dialect/SAttn/IR/SAttnOps.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"
#include <functional>

namespace mlir {
namespace sattn {

/// The score modifiers of an attention op (docs/Semantics.md) in the base-2
/// units the kernels keep scores in: t = s log2(e), so exp(s) = 2^t.
struct ScoreModifiers {
  explicit ScoreModifiers(AttentionOpInterface op)
      : ScoreModifiers(op.getSoftcap(), op.getAlibiSlopes()) {}
  ScoreModifiers(std::optional<APFloat> softcap,
                 std::optional<ArrayRef<float>> slopes);

  std::optional<float> softcap; // C = c log2(e)
  SmallVector<float> slopes;    // m_h log2(e) per query head; empty: no ALiBi

  bool any() const { return softcap || !slopes.empty(); }
  /// c tanh(s / c) in base 2: C tanh(t / C), for f32 scalars or vectors.
  Value applySoftcap(OpBuilder &b, Location loc, Value t) const;
  /// s - m_h |p - k| in base 2: t - slope |p - k|, `slope` from slopeOf()
  /// and p, k as f32 (exact below 2^24), all of t's type.
  Value applyAlibi(OpBuilder &b, Location loc, Value t, Value slope, Value p,
                   Value k) const;
  /// m_head log2(e) (f32) for query head `head` (index); NaN for a head
  /// past the slopes (a dynamic Hq the runtime did not check).
  Value slopeOf(OpBuilder &b, Location loc, Value head) const;
};

/// Heavy query tiles of a static tile plan (global tokens' rows see every
/// key while the others see a window) cut into parts that run as calls of
/// their own, so that no thread (CPU) or block (GPU) is left with a whole
/// heavy row while the others wait; the parts are merged by their LSE.
struct KeyTileParts {
  /// Per call: query tile, plan entries [begin, end), slot (-1: the whole
  /// tile, written to O; else the part's rows in the partial buffers).
  SmallVector<int32_t> calls;
  /// Per heavy query tile: the tile, its first slot, its number of parts.
  SmallVector<int32_t> merges;
  int64_t numSlots = 0;
};

/// A query tile is cut into at most this many parts, so that the partial
/// results take at most kMaxParts x Br rows per heavy tile.
constexpr int64_t kMaxParts = 8;

/// Parts for the CSR `offsets` of a tile plan: a query tile with n entries,
/// n > C = max(minTiles, 2 x the mean), becomes min(ceil(n / C), kMaxParts)
/// parts of equal size. The calls list the other tiles in the zigzag order
/// (0, T-1, 1, T-2, ...: causal work grows with the tile) with the parts
/// spread evenly among them, so that a static schedule gives each thread its
/// share. None without heavy tiles.
std::optional<KeyTileParts> planKeyTileParts(ArrayRef<int32_t> offsets,
                                             int64_t minTiles);

/// Builds the value of one non-EMPTY key tile `kt` (index) from the loop
/// state; `full` (i1) is true for FULL tiles, false for PARTIAL ones.
using KeyTileBody =
    function_ref<SmallVector<Value>(Value kt, ValueRange state, Value full)>;

/// A list of tiles as positions [begin, end) (index): position i is tile
/// at(i).tile (index), EMPTY where at(i).empty (i1; null: never) and FULL
/// where at(i).full (i1). `at` builds its IR where it is called, so a
/// pipelined loop can also ask for the tile after the current one.
struct TileSequence {
  struct Entry {
    Value tile, empty, full;
  };
  Value begin, end;
  std::function<Entry(OpBuilder &, Location, Value)> at;
};

/// scf.for over the positions of `seq` carrying `init`: beforeEach(i) (if
/// given) at every position i, then body(tile, state, full) on each tile
/// that is not EMPTY.
scf::ForOp buildTileSequenceLoop(OpBuilder &b, Location loc,
                                 const TileSequence &seq, ValueRange init,
                                 KeyTileBody body,
                                 function_ref<void(Value)> beforeEach = {});

/// The key tiles of buildKeyTileLoop as a sequence.
TileSequence getKeyTileSequence(OpBuilder &b, Location loc,
                                MaskAttrInterface mask,
                                const std::optional<TilePlanTables> &plan,
                                Value queryTile, Value p0, Value p1, Value lk,
                                int64_t keys,
                                std::pair<Value, Value> keyBounds = {});

/// scf.for over the non-EMPTY key tiles (of `keys` keys) of query tile
/// `queryTile` (index), whose query positions are [p0, p1) (i64) for key
/// length `lk` (index), carrying `init`:
///  - with `plan`: the tiles its CSR tables list for queryTile;
///  - else: the tiles inside the mask's closed-form key range, each
///    classified at run time (buildClassify) and skipped when EMPTY; with
///    `keyBounds` (i64, multiples of `keys`; no plan) only the tiles inside
///    [keyBounds.first, keyBounds.second) (a split of the key range).
scf::ForOp buildKeyTileLoop(OpBuilder &b, Location loc, MaskAttrInterface mask,
                            const std::optional<TilePlanTables> &plan,
                            Value queryTile, Value p0, Value p1, Value lk,
                            int64_t keys, ValueRange init, KeyTileBody body,
                            std::pair<Value, Value> keyBounds = {});

/// The query tiles of buildQueryTileLoop as a sequence.
TileSequence getQueryTileSequence(OpBuilder &b, Location loc,
                                  MaskAttrInterface mask,
                                  const std::optional<TilePlanTables> &plan,
                                  Value keyTile, Value k0, Value k1, Value pMin,
                                  Value lq, Value lk, int64_t rows);

/// The transpose of buildKeyTileLoop, for the backward: scf.for over the
/// non-EMPTY query tiles (of `rows` rows) of key tile `keyTile`, whose keys
/// are [k0, k1) (i64), for `lq` query rows (index) at positions pMin + i (i64)
/// and key length `lk` (index), calling body(qt, full):
///  - with `plan` (transposed tables): the query tiles it lists for keyTile;
///  - else: the query tiles inside the mask's closed-form query range, each
///    classified at run time and skipped when EMPTY.
void buildQueryTileLoop(OpBuilder &b, Location loc, MaskAttrInterface mask,
                        const std::optional<TilePlanTables> &plan,
                        Value keyTile, Value k0, Value k1, Value pMin, Value lq,
                        Value lk, int64_t rows,
                        function_ref<void(Value qt, Value full)> body);

/// Appends `facts` (#sattn.gpu_launch, #sattn.cpu_kernel) to the array
/// attribute `name` (sattn.gpu_launches, sattn.cpu_kernels) of the function
/// around `op`: one entry per kernel, in the order the ops are rewritten.
void appendKernelFacts(Operation *op, StringRef name, Attribute facts);

/// The compile-time tile plan of `op` (declareTilePlanTables) when its query
/// and key lengths are static; named after `prefix`.
std::optional<TilePlanTables> declareStaticTilePlan(Operation *symbolTable,
                                                    AttentionOp op,
                                                    int64_t rows, int64_t keys,
                                                    StringRef prefix);

/// `prefix` followed by the first number that names no symbol of
/// `symbolTable`.
std::string getFreshSymbolName(Operation *symbolTable, StringRef prefix);

/// A read-only identity-layout buffer of the tensor `tensor`.
Value getInputBuffer(OpBuilder &b, Location loc, Value tensor);

/// A buffer for a result of type `type` (O or LSE), its dynamic sizes taken
/// from the query buffer `query`: dim i from query dim i, or from query dim
/// queryDims[i] when given (varlen LSE [Hq, Tq] of Q [Tq, Hq, D]: {1, 0}).
Value allocResultBuffer(OpBuilder &b, Location loc, RankedTensorType type,
                        Value query, IntegerAttr alignment = {},
                        ArrayRef<int64_t> queryDims = {});

/// The LSE buffer of `op` ([B, Hq, Lq], or [Hq, Tq] for varlen), or null
/// when the op has no LSE result.
Value allocLseBuffer(OpBuilder &b, Location loc, AttentionOpInterface op,
                     Value query, IntegerAttr alignment = {});

/// Replaces `op` by to_tensor of `buffers`, one per result in order.
void replaceWithResultBuffers(PatternRewriter &rewriter, Operation *op,
                              ValueRange buffers);

/// Replaces `op` by to_tensor of its output buffer `o` (and of `lse`, when
/// the op returns LSE).
void replaceWithResultBuffers(PatternRewriter &rewriter,
                              AttentionOpInterface op, Value o, Value lse);

/// Rewrites each attention op of `module` once with `patterns`; fails
/// if a pattern fails or an op is left.
LogicalResult rewriteEachAttention(ModuleOp module,
                                   const FrozenRewritePatternSet &patterns);

} // namespace sattn
} // namespace mlir

#endif // SATTN_CONVERSION_UTILS_ATTENTIONLOWERING_H
