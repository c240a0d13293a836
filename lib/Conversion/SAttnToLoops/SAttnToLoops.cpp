//===- SAttnToLoops.cpp - sattn.attention to fused, tiled loops -----------===//
//
// One fused FlashAttention-2 style kernel per sattn.attention. The work is
// split over (batch, head, query tile) by an scf.parallel; each query tile is
// a call to an outlined function that walks only the key tiles the mask can
// keep, skips EMPTY tiles, masks PARTIAL ones, and keeps the online softmax
// in registers (m, l) and a small accumulator (Oacc).
//
// Layouts inside a tile (Br query rows, Bc keys, 8- or 16-lane f32 vectors):
//   Qt   [D][Br]   scale * log2(e) * Q^T, packed once per query tile
//   St   [Bc][Br]  scores, then probabilities, of one key tile (rows in lanes)
//   Oacc [Br][Dv]  the unnormalized output
// so that row max / row sum of S are lane-wise vector ops and both products
// are broadcast-FMA outer products.
//
//===----------------------------------------------------------------------===//

#include "sattn/Conversion/SAttnToLoops/SAttnToLoops.h"
#include "TileMath.h"
#include "sattn/Conversion/Utils/AttentionLowering.h"
#include "sattn/Dialect/SAttn/IR/SAttnOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/TargetParser/Host.h"
#include <cmath>
#include <limits>

namespace mlir::sattn {
#define GEN_PASS_DEF_CONVERTSATTNTOLOOPS
#include "sattn/Conversion/Passes.h.inc"
} // namespace mlir::sattn

using namespace mlir;
using namespace mlir::sattn;

namespace {

/// The `forEachHead` of a call that handles one head: body() once.
void thisHead(function_ref<void()> body) { body(); }

/// Paged P V: keys per block (one page of 16 tokens; see buildKeyTile).
constexpr int64_t kPagedKeyBlock = 16;
/// Paged decode (all heads): how many key tiles ahead touchPagesAhead()
/// reaches.
constexpr int64_t kTouchAheadTiles = 3;
/// Flash-decoding: keys per split are a multiple of this (a paged split then
/// spans 16 pages of 16 tokens, whose rows of all KV heads stay in the
/// caches while the heads are walked in turn).
constexpr int64_t kSplitGranule = 256;

/// Prefill: a query tile is split into parts when it has more than this many
/// key tiles and twice the mean (planKeyTileParts).
constexpr int64_t kMinPartTiles = 32;

/// Builds the per-query-tile function of one attention op.
class TileFunctionBuilder : TileBuilderBase {
public:
  TileFunctionBuilder(AttentionOpInterface op, TileSizes tiles, VectorShape vec)
      : TileBuilderBase(op.getContext(), op.getLoc(), vec.lanes), op(op),
        tiles(tiles), mods(op), bf16DotAllowed(vec.bf16Dot) {
    // S = K Q^T blocks: keyChunk keys x groupVecs vectors of rows (a group of
    // rows at a time, so that accumulators + row vectors + one broadcast fit
    // the register file); O += P V blocks: kRowChunk rows x colChunk vectors.
    groupVecs = std::min<int64_t>(tiles.rows / lanes, 2);
    keyChunk = std::max<int64_t>(1, vec.accBudget / groupVecs);
    colChunk = std::max<int64_t>(1, vec.accBudget / kRowChunk);
    elemType = op.getQuery().getType().getElementType();
    headDim = op.getHeadDim();
    valueDim = op.getValueHeadDim();
    strided = isa<VarlenAttentionOp>(op.getOperation());
    numValueVecs = (valueDim + lanes - 1) / lanes;
    mask = op.getMask();
    writeLse = static_cast<bool>(op.getLse());
    scale = op.getScaleValue();
  }

  /// [B, H, L, lastDim] of Q, K, V and O; strided views for varlen.
  MemRefType inputType(int64_t lastDim) {
    int64_t dyn = ShapedType::kDynamic;
    return strided ? getResidueViewType(elemType, lastDim)
                   : MemRefType::get({dyn, dyn, dyn, lastDim}, elemType);
  }
  /// [B, H, L] of LSE; strided views for varlen and iteration spaces.
  MemRefType lseType() {
    int64_t dyn = ShapedType::kDynamic;
    return strided ? getResidueViewType(f32, 0)
                   : MemRefType::get({dyn, dyn, dyn}, f32);
  }

  func::FuncOp build(ModuleOp module, StringRef name);

  /// For static shapes: the tile plan as constant CSR tables, named after
  /// the tile function.
  std::optional<TilePlanTables> plan;
  /// Decode packing: when > 0, one tile holds the Lq = `packedLength` rows
  /// of each of the `packedGroup` query heads that read one key/value head,
  /// so that every K/V tile is loaded once per group instead of once per
  /// head. The tile function's `head` argument is then the key/value head.
  int64_t packedGroup = 0, packedLength = 0;
  /// All heads: the number of KV heads (static).
  int64_t packedHeads = 0;
  /// Keys per block of the packed tiles' dot-product scores.
  int64_t dotKeys = 1;
  /// sattn.paged_attention: tokens per page (K and V are the caches
  /// [P, page, Hkv, D], the function takes the block table and seq_lens);
  /// 0 for contiguous K and V [B, Hkv, Lk, D].
  int64_t pageSize = 0;
  /// sattn.varlen_attention: the function takes one sequence's strided
  /// views of the token-major tensors, [1, H, L_b, D] with row stride H * D
  /// (and LSE [1, Hq, L_b] with row stride 1). Iteration spaces: views of
  /// every stride-th row of one residue class.
  bool strided = false;
  /// Iteration spaces: the function takes one more index argument, the
  /// position of the views' row 0 (p = q0 + that, instead of Lk - Lq).
  bool positionArg = false;
  /// Iteration spaces after the first: the running (m, l, Oacc) of each row
  /// start from the O and LSE it already has (the earlier spaces' result;
  /// m = LSE log2(e), l = 1, Oacc = O), so the spaces of one mask make one
  /// softmax.
  bool resume = false;
  /// Whether LSE is written: the op returns it, or splits or later
  /// iteration spaces need it.
  bool writeLse;
  /// The mask the tile function applies (the op's, or an iteration space's
  /// in its residue positions).
  MaskAttrInterface mask;
  /// Flash-decoding (packed decode tiles): each call takes four more
  /// arguments (s, numSplits, keyBegin, keyEnd), walks only the keys
  /// [keyBegin, keyEnd) (multiples of the key tile) and writes that part's
  /// normalized O and its LSE (f32) into row b * numSplits + s of partial
  /// buffers; buildMerge() combines them.
  bool split = false;
  /// Paged decode: one call walks every KV head of each key tile (the `head`
  /// argument is unused), so the token rows of the NHD caches, all heads of
  /// a token, are read whole; each head's queries, accumulators, slopes and
  /// running (m, l) live in slices of scratch buffers.
  bool allHeads = false;
  /// Heavy query tiles split into parts (KeyTileParts): each call takes five
  /// more arguments (partO, partLse, posBegin, posEnd, slot), walks only the
  /// plan entries [posBegin, posEnd) of its query tile and, for slot >= 0,
  /// writes that part's normalized O and its LSE (f32) into rows
  /// slot * Br ... of the partial buffers (else O and LSE as usual);
  /// buildPartsMerge() combines the parts.
  bool parts = false;

  /// The function that merges the splits of one (batch, query head):
  /// O = sum_s exp(LSE_s - LSE) O_s with LSE = log sum_s exp(LSE_s).
  func::FuncOp buildMerge(ModuleOp module, StringRef name);
  /// The function that merges the parts of one query tile of one (batch,
  /// query head): (partO, partLse, O, LSE, b, h, qt, firstSlot, numParts).
  func::FuncOp buildPartsMerge(ModuleOp module, StringRef name);
  /// [B, H, L, Dv] and [B, H, L] f32: the partial results of the splits.
  MemRefType partialType(bool lseOnly) {
    int64_t dyn = ShapedType::kDynamic;
    return lseOnly ? MemRefType::get({dyn, dyn, dyn}, f32)
                   : MemRefType::get({dyn, dyn, dyn, valueDim}, f32);
  }

private:
  Value narrow(Value x) {
    Type target = isa<VectorType>(x.getType())
                      ? Type(VectorType::get({lanes}, elemType))
                      : elemType;
    return x.getType() == target ? x
                                 : arith::TruncFOp::create(b, loc, target, x);
  }
  Value exp2(Value x) { return buildExp2(b, loc, x); }
  Value loadRowVector(Value memref, ValueRange indices, int64_t col,
                      int64_t dim) {
    return sattn::loadRowVector(b, loc, memref, indices, col, dim, lanes);
  }
  void storeRowVector(Value value, Value memref, ValueRange indices,
                      int64_t col, int64_t dim) {
    sattn::storeRowVector(b, loc, value, memref, indices, col, dim);
  }

  void buildBody(Block *entry);
  /// A private function (partO, partLse, O, LSE, `numIndices` indices)
  /// whose body() builds the merge.
  func::FuncOp buildMergeFunction(
      ModuleOp module, StringRef name, unsigned numIndices,
      function_ref<void(Value partO, Value partLse, ValueRange indices)> body);
  /// O and LSE at `out` (index lists into `o` and `lse`) from the normalized
  /// partial results s in [sBegin, sEnd) of one row, at(s) in partO and
  /// partLse: O = sum_s exp(LSE_s - LSE) O_s, LSE = log sum_s exp(LSE_s).
  void buildMergeRow(Value partO, Value partLse, Value sBegin, Value sEnd,
                     function_ref<SmallVector<Value>(Value s)> at,
                     ValueRange out);
  /// O = Oacc / l and LSE of the tile's rows, from the final (m, l) vectors,
  /// or with all heads from this head's slice of `stateAll`.
  void buildTileOutput(ValueRange finalState, Value stateAll);
  /// One non-empty key tile; returns the new (m, l) vectors.
  SmallVector<Value> buildKeyTile(Value keyTile, ValueRange state, Value full);
  /// body(rows r0 ... r0 + kRowChunk - 1) for each block of the valid rows.
  void forEachRowChunk(function_ref<void(ArrayRef<Value>)> body);
  /// alpha of row r (rowBuf) in every lane.
  Value rowAlpha(Value r);
  /// Oacc rows `rowIdx` = Oacc (times alpha when `scale`) + the sum over
  /// keys k0 + [c0, c1) of P V; `guarded`: V of keys no row keeps read as 0.
  void buildValueBlock(Value k0, ArrayRef<Value> rowIdx, Value c0, Value c1,
                       bool scale, bool guarded);
  /// scf.if full { body(false) } else { body(true) }: FULL and PARTIAL tiles.
  void ifFull(Value full, function_ref<void(bool guarded)> body);
  /// Paged: Oacc += P V over the nc keys at k0 in blocks of kPagedKeyBlock
  /// keys, each block for every head that `forEachHead` binds in turn.
  void
  buildPagedValueBlocks(Value k0, Value nc, bool guarded,
                        function_ref<void(function_ref<void()>)> forEachHead);
  /// S^T[c][r] of the key tile at k0 (nc keys) into `st`: outer products of
  /// broadcast K elements and vectors of rows of Qt; for packed tiles (few
  /// rows), dot products over D of whole vectors of K rows and rows of Q'.
  /// pairDots: two d per vdpbf16ps of Qp and broadcast pairs of K.
  void buildBroadcastScores(Value k0, Value nc);
  /// Packed tiles: the dot-product scores, dotKeys keys per step, each step
  /// for every head that `forEachHead` binds in turn (all heads: the token
  /// rows of the cache, all heads of a key, are then read in order).
  void buildDotScores(Value k0, Value nc,
                      function_ref<void(function_ref<void()>)> forEachHead);
  /// The scores of keys k0 + c0 ... k0 + c0 + dotKeys - 1 (clamped to the
  /// tile's nc keys) for this head.
  void buildDotStep(Value k0, Value nc, Value c0);
  /// pairDots: Vp[c / 2][2 j + c % 2] = V[k0 + c, j] for the nc keys of the
  /// tile, 0 for a missing last key and (`guarded`) for keys no row keeps.
  void buildValuePairs(Value k0, Value nc, bool guarded);
  /// The bf16 pair at `indices` of `memref` in every 32-bit lane of a
  /// vector of 2 * lanes bf16.
  Value broadcastPair(Value memref, ValueRange indices);
  /// The f32 vectors `even` and `odd` as bf16 pairs (even[i], odd[i]).
  Value interleavePairs(Value even, Value odd);
  /// Paged caches: at key step c, prefetches one row of the next tile (all
  /// heads: c numbers the tile's Hkv * Bc rows in memory order; per-head
  /// calls: key c of the next tile, this head), its K and/or V, which the
  /// hardware prefetchers do not see coming: pages are anywhere, and in the
  /// token-major cache consecutive keys of a head are Hkv * D elements apart.
  void prefetchNextRows(Value c, bool keys = true, bool values = true);
  /// Contiguous K/V (decode): prefetches the K and/or V rows of `key` + one
  /// tile, ahead of the hardware prefetchers.
  void prefetchRowsAhead(Value key, bool keys = true, bool values = true);
  /// Packed tiles: the V rows of the next tile for key c of the tile at k0
  /// (this head; all heads: step c of this head's block [c0, c1)), which P V
  /// prefetches as the scores prefetch K, so that both phases keep misses in
  /// flight.
  void prefetchValuesAhead(Value k0, Value c, Value c0, Value c1);
  /// Prefetches every 64-byte line of the K and/or V rows at index `row` (of
  /// kData() and vData(), before the column) into L2.
  void prefetchRows(ArrayRef<Value> row, bool keys = true, bool values = true);
  /// Paged: the row tables of the tile at k0 (nc keys) and of the next one;
  /// all heads: touchPagesAhead.
  void preparePagedTile(Value k0, Value nc);
  /// All heads: prefetches the first line of each 4 KiB of the K and V rows
  /// of the tile kTouchAheadTiles after the one at k0.
  void touchPagesAhead(Value k0);
  /// Softcap and ALiBi on the nc scores of the key tile at k0 in `st`.
  void buildScoreModifiers(Value k0, Value nc);
  /// The query positions (i64) of the rows in the lanes of score vector n
  /// (rows n * lanes + i; compactScores: row i mod G Lq): p0 + r, or p0 + r
  /// mod Lq when the rows of a head group are packed.
  Value rowPositions(int64_t n);
  /// The keys (i64) of the lanes of score vector i of the tile at k0: k0 + i
  /// in every lane, or compactScores k0 + dotKeys i + lane / (G Lq).
  Value scoreKeys(Value k0, Value i);
  /// The score vectors of nc keys: nc, or ceil(nc / dotKeys) compact ones.
  Value numScoreVecs(Value nc);
  /// The indices in `st` of the score of key c, row r.
  SmallVector<Value, 2> scoreAt(Value c, Value r);
  /// compactScores: `x` combined by `kind` over the lanes of each row, the
  /// result of row r in every lane of that row.
  Value combineKeyLanes(Value x, vector::CombiningKind kind);

  AttentionOpInterface op;
  TileSizes tiles;
  int64_t groupVecs, keyChunk, colChunk;
  Type elemType;
  int64_t headDim, valueDim, numValueVecs;
  float scale;
  ScoreModifiers mods;
  /// The host has bf16 pair dot products (VectorShape::bf16Dot); pairDots:
  /// this tile function uses them (bf16 inputs, not packed decode, even D
  /// and Bc).
  bool bf16DotAllowed, pairDots = false;

  // Values of the function being built.
  Value q, k, v, o, lse, batch, head, kvHead, lq, lk, lk64, q0, p0, p1;
  Value outBatch;   // the batch index of O and LSE (b * numSplits + s)
  Value outRowBase; // parts: the first partial row of the slot, else null
  Value numRows;  // valid rows of the tile (the rest repeat the last one)
  /// The (query head, query row) of tile row `r` (clamped to a valid row).
  std::pair<Value, Value> rowSource(Value r);
  /// The indices of the K or V row of key `key` (0 <= key < Lk) in kData()
  /// and vData(), before the column: [b, kvHead, key]; for a paged cache the
  /// row [(page * page_size + slot) * Hkv + kvHead] of its [rows, D] view,
  /// from tileRows (keys of the current tile).
  SmallVector<Value, 4> keyRow(Value key);
  Value kData() { return kStage ? kStage : pageSize ? kRows : k; }
  Value vData() { return vStage ? vStage : pageSize ? vRows : v; }
  /// f16 (and bf16 without pair dot products) prefill: the K and V rows of
  /// the key tile at k0 (nc keys) widened once into kStage and vStage, so
  /// that the products run on f32 as for f32 inputs.
  void stageKeyTile(Value k0, Value nc);
  Value kStage, vStage; // [Bc, D'] and [Bc, Dv'] f32, or null
  /// Paged: body(c, row) for each key k0 + c, c < count, with `row` the
  /// row of its head 0 in the [rows, D] cache views; the block table is read
  /// once per page (an entry outside [0, P) reads page 0: only keys no row
  /// keeps can meet one) and the rows of a page follow each other Hkv apart.
  void forEachKeyRow(Value k0, Value count,
                     function_ref<void(Value c, Value row)> body);
  Value blockTable, seqLens, numPages, numKvHeads; // paged only
  Value kRows, vRows; // paged: the caches as [P * page * Hkv, D] and [.., Dv]
  Value tileRows, tileK0; // paged: the cache row of each key of the tile
  Value tileCount;            // paged: the keys of the tile
  Value nextRows, nextCount; // paged: those of the next tile, its key count
  Value qt, st, oacc, rowBuf;
  Value stAll; // all heads: [Hkv, ...st], `st` each head's slice
  /// Packed tiles whose dot steps sum dotKeys x G Lq = lanes scores at once
  /// keep that vector as it is: `st` is [Bc / dotKeys, lanes], vector i
  /// holds key dotKeys i + j, row r in lane j G Lq + r, and the running (m,
  /// l) hold row r in every lane of it. The softmax then exponentiates no
  /// padding row (4x fewer for G Lq = 4) and the scores take 4x less L1.
  bool compactScores = false;
  /// Packed tiles: the rows they use, G Lq.
  int64_t packedRows() const { return packedGroup * packedLength; }
  /// pairDots: Qp[d / 2][2 r + d % 2] = Q[r, d] (unscaled bf16), and the
  /// tile's P and V as bf16 pairs of keys: Pp[c / 2][2 r + c % 2] = P[r][c],
  /// Vp (buildValuePairs).
  Value qtPairs, pPairs, vPairs;
  Value qRows;     // packed tiles: scale * log2(e) * Q, one row per tile row
  Value keyUsed;   // per key of a PARTIAL tile: 1 if some row keeps it, else 0
  /// keyUsed[c] != 0 (i1): some valid row of the PARTIAL tile keeps key c.
  Value isKeyUsed(Value c) {
    Value flag = memref::LoadOp::create(b, loc, keyUsed, ValueRange{c});
    return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::ONE, flag,
                                 f32Const(0.0f));
  }
  Value rowSlopes; // ALiBi: the base-2 slope of each tile row's head
};

std::pair<Value, Value> TileFunctionBuilder::rowSource(Value r) {
  Value last = subIdx(numRows, idx(1));
  if (!packedGroup) // row q0 + r of the tile's head
    return {head, addIdx(q0, minIdx(r, last))};
  // row j = g * Lq + i: query head kvHead * G + g, query row i
  Value j = minIdx(r, last);
  Value lqConst = idx(packedLength);
  return {addIdx(mulIdx(kvHead, idx(packedGroup)),
                 arith::DivUIOp::create(b, loc, j, lqConst)),
          arith::RemUIOp::create(b, loc, j, lqConst)};
}

SmallVector<Value, 4> TileFunctionBuilder::keyRow(Value key) {
  if (kStage)
    return {subIdx(key, tileK0)};
  if (!pageSize)
    return {batch, kvHead, key};
  // The token's first row, plus the head.
  return {addIdx(
      memref::LoadOp::create(b, loc, tileRows, ValueRange{subIdx(key, tileK0)}),
      kvHead)};
}

void TileFunctionBuilder::forEachKeyRow(Value k0, Value count,
                                        function_ref<void(Value, Value)> body) {
  // Pages [k0 / page, ceil((k0 + count) / page)), none when count = 0 (the
  // entry of k0's page may lie past the table then).
  Value ps = idx(pageSize);
  Value endPage = arith::CeilDivUIOp::create(b, loc, addIdx(k0, count), ps);
  Value firstPage = arith::SelectOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, count, idx(0)),
      arith::DivUIOp::create(b, loc, k0, ps), endPage);
  scf::ForOp::create(
      b, loc, firstPage, endPage, idx(1), ValueRange{},
      [&](OpBuilder &, Location, Value p, ValueRange) {
        Value page = arith::IndexCastOp::create(
            b, loc, b.getIndexType(),
            memref::LoadOp::create(b, loc, blockTable, ValueRange{batch, p}));
        Value valid = arith::AndIOp::create(
            b, loc,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, page,
                                  idx(0)),
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, page,
                                  numPages));
        page = arith::SelectOp::create(b, loc, valid, page, idx(0));
        // Keys [max(k0, p * page), min(k0 + count, (p + 1) * page)); the
        // first one at row (page * page_size + slot) * Hkv.
        Value pageStart = mulIdx(p, ps);
        Value first = arith::MaxSIOp::create(b, loc, k0, pageStart);
        Value end = minIdx(addIdx(k0, count), addIdx(pageStart, ps));
        Value row0 = mulIdx(addIdx(mulIdx(page, ps), subIdx(first, pageStart)),
                            numKvHeads);
        scf::ForOp::create(
            b, loc, first, end, idx(1), ValueRange{row0},
            [&](OpBuilder &, Location, Value key, ValueRange row) {
              body(subIdx(key, k0), row[0]);
              scf::YieldOp::create(b, loc,
                                   ValueRange{addIdx(row[0], numKvHeads)});
            });
        scf::YieldOp::create(b, loc);
      });
}

func::FuncOp TileFunctionBuilder::build(ModuleOp module, StringRef name) {
  b.setInsertionPointToEnd(module.getBody());
  Type index = b.getIndexType();
  SmallVector<Type> args = {inputType(headDim),
                            inputType(headDim),
                            inputType(valueDim),
                            split ? partialType(false) : inputType(valueDim),
                            split ? partialType(true) : lseType(),
                            index,
                            index,
                            index};
  if (pageSize) {
    int64_t dyn = ShapedType::kDynamic;
    args.push_back(MemRefType::get({dyn, dyn}, b.getI32Type()));
    args.push_back(MemRefType::get({dyn}, b.getI32Type()));
  }
  if (split) // s, numSplits, keyBegin, keyEnd
    args.append({index, index, index, index});
  if (parts) // partO, partLse, posBegin, posEnd, slot
    args.append({partialType(false), partialType(true), index, index, index});
  if (positionArg)
    args.push_back(index);
  auto fnType = FunctionType::get(ctx, args, {});
  auto fn = func::FuncOp::create(b, loc, name, fnType);
  fn.setPrivate();
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToStart(entry);
  if (positionArg) {
    // Iteration spaces: the residue classes have ceil(Lq / stride) rows or
    // one fewer, so the last query tile of the loop may hold none.
    Value q0 = mulIdx(entry->getArgument(7), idx(tiles.rows));
    Value lq = memref::DimOp::create(b, loc, entry->getArgument(0), 2);
    auto ifRows = scf::IfOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, q0, lq));
    b.setInsertionPointToStart(ifRows.thenBlock());
  }
  buildBody(entry);
  b.setInsertionPointToEnd(entry);
  func::ReturnOp::create(b, loc);
  return fn;
}

void TileFunctionBuilder::buildBody(Block *entry) {
  q = entry->getArgument(0);
  k = entry->getArgument(1);
  v = entry->getArgument(2);
  o = entry->getArgument(3);
  lse = entry->getArgument(4);
  batch = entry->getArgument(5);
  head = entry->getArgument(6);
  Value queryTile = entry->getArgument(7);
  const int64_t br = tiles.rows, nv = br / lanes;

  Value one = idx(1);
  Value hq = memref::DimOp::create(b, loc, q, 1);
  lq = memref::DimOp::create(b, loc, q, 2);
  Value hkv = memref::DimOp::create(b, loc, k, pageSize ? 2 : 1);
  numKvHeads = hkv;
  if (pageSize) {
    // Lk_b = seq_lens[b], clamped to [0, M * page] (0 without pages) so
    // that bad index data can never make the kernel read out of bounds;
    // the runtime rejects such data before the kernel runs.
    blockTable = entry->getArgument(8);
    seqLens = entry->getArgument(9);
    numPages = memref::DimOp::create(b, loc, k, 0);
    Value capacity =
        mulIdx(memref::DimOp::create(b, loc, blockTable, 1), idx(pageSize));
    capacity = arith::SelectOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, numPages,
                              idx(0)),
        idx(0), capacity);
    Value len = arith::IndexCastOp::create(
        b, loc, b.getIndexType(),
        memref::LoadOp::create(b, loc, seqLens, ValueRange{batch}));
    lk = minIdx(arith::MaxSIOp::create(b, loc, len, idx(0)), capacity);
  } else {
    lk = memref::DimOp::create(b, loc, k, 2);
  }
  outBatch = batch;
  std::pair<Value, Value> keyBounds;
  if (split) {
    unsigned n = entry->getNumArguments();
    outBatch = addIdx(mulIdx(batch, entry->getArgument(n - 3)),
                      entry->getArgument(n - 4));
    keyBounds = {toI64(entry->getArgument(n - 2)),
                 toI64(entry->getArgument(n - 1))};
  }
  // g(h) = h / (Hq / Hkv)
  Value group = arith::DivUIOp::create(
      b, loc, hq, arith::MaxUIOp::create(b, loc, hkv, one));
  // Query positions of the tile: p = i + (Lk - Lq), bottom-right aligned.
  lk64 = toI64(lk);
  if (packedGroup) {
    // Rows g * Lq + i: head kvHead * G + g, row i; positions [Lk - Lq, Lk).
    kvHead = head;
    q0 = idx(0);
    numRows = idx(packedRows());
    p0 = arith::SubIOp::create(b, loc, lk64, toI64(lq));
    p1 = lk64;
  } else {
    kvHead = arith::DivUIOp::create(b, loc, head,
                                    arith::MaxUIOp::create(b, loc, group, one));
    q0 = mulIdx(queryTile, idx(br));
    numRows = minIdx(idx(br), subIdx(lq, q0));
    Value base = positionArg ? toI64(entry->getArguments().back())
                             : arith::SubIOp::create(b, loc, lk64, toI64(lq));
    p0 = arith::AddIOp::create(b, loc, toI64(q0), base);
    p1 = arith::AddIOp::create(b, loc, p0, toI64(numRows));
  }

  auto scratch = [&](ArrayRef<int64_t> shape) {
    return memref::AllocaOp::create(b, loc, MemRefType::get(shape, f32),
                                    b.getI64IntegerAttr(64));
  };
  // The scaled queries: Qt[d][r] (one vector of rows per d) for the
  // broadcast scores, or Q'[r][d] (whole vectors of D, the columns past D
  // 0) for the dot-product scores of packed tiles.
  // All heads: [Hkv, ...] buffers of which each head uses slice g.
  int64_t heads = allHeads ? packedHeads : 1;
  auto perHeadScratch = [&](SmallVector<int64_t> shape) -> Value {
    if (allHeads)
      shape.insert(shape.begin(), heads);
    return scratch(shape);
  };
  int64_t width = llvm::alignTo(headDim, lanes);
  // Packed tiles use only their G * Lq rows (blocks of kRowChunk for O +=
  // P V): Q' and Oacc hold just those (with all heads, 8 heads' 16-row
  // slices 8 KiB apart fell on the same half of the L1 sets).
  int64_t usedRows = packedGroup ? llvm::alignTo(packedRows(), kRowChunk) : br;
  compactScores = packedGroup && dotKeys * packedRows() == lanes &&
                  br == lanes && llvm::isPowerOf2_64(lanes);
  Value qAll, oaccAll, slopesAll, stateAll;
  pairDots = bf16DotAllowed && elemType.isBF16() && !packedGroup &&
             headDim % 2 == 0 && tiles.keys % 2 == 0;
  auto pairScratch = [&](int64_t pairs, int64_t width) {
    return memref::AllocaOp::create(
        b, loc, MemRefType::get({pairs, 2 * width}, elemType),
        b.getI64IntegerAttr(64));
  };
  if (packedGroup) {
    qAll = perHeadScratch({usedRows, width});
  } else if (pairDots) {
    qtPairs = pairScratch(headDim / 2, br);
    pPairs = pairScratch(tiles.keys / 2, br);
    vPairs = pairScratch(tiles.keys / 2, numValueVecs * lanes);
  } else {
    qt = scratch({headDim, br});
  }
  int64_t stageBytes = 4 * tiles.keys * (width + numValueVecs * lanes);
  if (!packedGroup && !pairDots && !pageSize && !elemType.isF32() &&
      stageBytes <= kMaxScratchBytes / 4) {
    // Widened once per key tile, then used by all Br rows (f16 dense
    // N = 4096, H = 8, D = 64, Zen 4: 151 -> 188 GFLOP/s; f32 203).
    kStage = scratch({tiles.keys, width});
    vStage = scratch({tiles.keys, numValueVecs * lanes});
  }
  // Rows up to a multiple of the key block (keyChunk, or dotKeys for packed
  // tiles): the last block may run past Bc.
  int64_t block = packedGroup ? dotKeys : keyChunk;
  int64_t scoreRows = llvm::alignTo(tiles.keys, block);
  stAll = perHeadScratch(compactScores
                             ? SmallVector<int64_t>{scoreRows / dotKeys, lanes}
                             : SmallVector<int64_t>{scoreRows, br});
  st = stAll;
  oaccAll = perHeadScratch({usedRows, numValueVecs * lanes});
  rowBuf = scratch({3, br}); // alpha, m, l per row
  keyUsed = scratch({scoreRows});
  if (pageSize) {
    tileRows = memref::AllocaOp::create(
        b, loc, MemRefType::get({tiles.keys}, b.getIndexType()));
    nextRows = memref::AllocaOp::create(
        b, loc, MemRefType::get({tiles.keys}, b.getIndexType()));
    SmallVector<ReassociationIndices> rowsAndColumns = {{0, 1, 2}, {3}};
    kRows = memref::CollapseShapeOp::create(b, loc, k, rowsAndColumns);
    vRows = memref::CollapseShapeOp::create(b, loc, v, rowsAndColumns);
  }
  if (!mods.slopes.empty())
    slopesAll = perHeadScratch({br});
  if (allHeads) // the running (m, l) of each head: 2 nv vectors
    stateAll = scratch({heads, 2 * nv, lanes});

  // A head's slice [1, ...] of an all-heads buffer, rank-reduced.
  auto headSlice = [&](Value all, Value g) -> Value {
    auto type = cast<MemRefType>(all.getType());
    SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1)};
    SmallVector<OpFoldResult> strides(type.getRank(), b.getIndexAttr(1));
    offsets[0] = g;
    for (int64_t size : type.getShape().drop_front())
      sizes.push_back(b.getIndexAttr(size));
    auto sliceType = memref::SubViewOp::inferRankReducedResultType(
        type.getShape().drop_front(), type, offsets, sizes, strides);
    return memref::SubViewOp::create(b, loc, sliceType, all, offsets, sizes,
                                     strides);
  };
  // body() for the tile's head, or for each KV head g in turn with kvHead =
  // g and the per-head buffers bound to slice g.
  auto perHead = [&](function_ref<void()> body) {
    auto bind = [&](Value g) {
      qRows = qAll && allHeads ? headSlice(qAll, g) : qAll;
      oacc = allHeads ? headSlice(oaccAll, g) : oaccAll;
      st = allHeads ? headSlice(stAll, g) : stAll;
      rowSlopes = slopesAll && allHeads ? headSlice(slopesAll, g) : slopesAll;
    };
    if (!allHeads) {
      bind(Value());
      body();
      return;
    }
    scf::ForOp::create(b, loc, idx(0), idx(heads), one, ValueRange{},
                       [&](OpBuilder &, Location, Value g, ValueRange) {
                         kvHead = g;
                         bind(g);
                         body();
                         scf::YieldOp::create(b, loc);
                       });
  };

  // scale * log2(e) * Q[b, h, min(q0 + r, Lq - 1), d]: scores are kept in
  // base 2 (exp(s) = 2^(s log2 e)). Rows past Lq repeat the last row and are
  // never written back.
  Value scaleVal = f32Const(static_cast<float>(scale * M_LOG2E));
  Value zeroVec = splat(0.0f);
  // Running row max m (-inf) and row sum l (0), nv vectors each.
  SmallVector<Value> init;
  for (int64_t n = 0; n < nv; ++n)
    init.push_back(splat(-std::numeric_limits<float>::infinity()));
  for (int64_t n = 0; n < nv; ++n)
    init.push_back(zeroVec);
  auto stateAt = [&](int64_t i) -> SmallVector<Value> {
    return {kvHead, idx(i), idx(0)};
  };
  perHead([&] {
    // The columns of Q' past D stay 0.
    if (packedGroup)
      for (int64_t r = 0; r < usedRows; ++r)
        for (int64_t col = headDim / lanes * lanes; col < width; col += lanes)
          vector::StoreOp::create(b, loc, splat(0.0f), qRows,
                                  ValueRange{idx(r), idx(col)});
    Value qScaled = packedGroup ? qRows : qt;
    scf::ForOp::create(
        b, loc, idx(0), idx(usedRows), one, ValueRange{},
        [&](OpBuilder &, Location, Value r, ValueRange) {
          Value rowHead, row;
          std::tie(rowHead, row) = rowSource(r);
          if (rowSlopes)
            memref::StoreOp::create(b, loc, mods.slopeOf(b, loc, rowHead),
                                    rowSlopes, ValueRange{r});
          if (pairDots) {
            // Qp[d / 2][2 r + d % 2] = Q[.., d]: bf16 as it is (the scale
            // multiplies the f32 scores)
            scf::ForOp::create(
                b, loc, idx(0), idx(headDim / 2), one, ValueRange{},
                [&](OpBuilder &, Location, Value d2, ValueRange) {
                  for (int64_t e = 0; e < 2; ++e)
                    memref::StoreOp::create(
                        b, loc,
                        memref::LoadOp::create(
                            b, loc, q,
                            ValueRange{batch, rowHead, row,
                                       addIdx(mulIdx(d2, idx(2)), idx(e))}),
                        qtPairs,
                        ValueRange{d2, addIdx(mulIdx(r, idx(2)), idx(e))});
                  scf::YieldOp::create(b, loc);
                });
            scf::YieldOp::create(b, loc);
            return;
          }
          scf::ForOp::create(
              b, loc, idx(0), idx(headDim), one, ValueRange{},
              [&](OpBuilder &, Location, Value d, ValueRange) {
                Value x = widen(memref::LoadOp::create(
                    b, loc, q, ValueRange{batch, rowHead, row, d}));
                Value scaled = arith::MulFOp::create(b, loc, x, scaleVal);
                memref::StoreOp::create(b, loc, scaled, qScaled,
                                        packedGroup ? ValueRange{r, d}
                                                    : ValueRange{d, r});
                scf::YieldOp::create(b, loc);
              });
          scf::YieldOp::create(b, loc);
        });

    // Oacc = 0, or the row's O so far
    scf::ForOp::create(
        b, loc, idx(0), idx(usedRows), one, ValueRange{},
        [&](OpBuilder &, Location, Value r, ValueRange) {
          Value rowHead, row;
          if (resume)
            std::tie(rowHead, row) = rowSource(r);
          for (int64_t j = 0; j < numValueVecs; ++j) {
            Value x = resume ? loadRowVector(o, ValueRange{batch, rowHead, row},
                                             j * lanes, valueDim)
                             : zeroVec;
            vector::StoreOp::create(b, loc, x, oacc,
                                    ValueRange{r, idx(j * lanes)});
          }
          scf::YieldOp::create(b, loc);
        });
    if (allHeads)
      for (auto [i, x] : llvm::enumerate(init))
        vector::StoreOp::create(b, loc, x, stateAll, stateAt(i));
  });

  if (resume) {
    // m = LSE log2(e), l = 1; m = -inf, l = 0 (the fresh state) for a row
    // with no key so far.
    scf::ForOp::create(
        b, loc, idx(0), idx(br), one, ValueRange{},
        [&](OpBuilder &, Location, Value r, ValueRange) {
          auto [rowHead, row] = rowSource(r);
          Value x = memref::LoadOp::create(b, loc, lse,
                                           ValueRange{batch, rowHead, row});
          Value some = arith::CmpFOp::create(
              b, loc, arith::CmpFPredicate::OGT, x,
              f32Const(-std::numeric_limits<float>::infinity()));
          memref::StoreOp::create(
              b, loc,
              arith::MulFOp::create(b, loc, x,
                                    f32Const(static_cast<float>(M_LOG2E))),
              rowBuf, ValueRange{idx(1), r});
          memref::StoreOp::create(b, loc,
                                  arith::SelectOp::create(b, loc, some,
                                                          f32Const(1.0f),
                                                          f32Const(0.0f)),
                                  rowBuf, ValueRange{idx(2), r});
          scf::YieldOp::create(b, loc);
        });
    for (int64_t n = 0; n < nv; ++n) {
      init[n] = vector::LoadOp::create(b, loc, vecF32, rowBuf,
                                       ValueRange{idx(1), idx(n * lanes)});
      init[nv + n] = vector::LoadOp::create(b, loc, vecF32, rowBuf,
                                            ValueRange{idx(2), idx(n * lanes)});
    }
  }

  // The key tiles; with all heads, each head's step in turn, its (m, l) in
  // scratch.
  SmallVector<Value> finalState;
  if (!allHeads) {
    TileSequence seq = getKeyTileSequence(b, loc, mask, plan, queryTile, p0, p1,
                                          lk, tiles.keys, keyBounds);
    if (parts) { // this part's entries of the plan
      unsigned n = entry->getNumArguments();
      seq.begin = entry->getArgument(n - 3);
      seq.end = entry->getArgument(n - 2);
    }
    scf::ForOp loop = buildTileSequenceLoop(
        b, loc, seq, init, [&](Value kt, ValueRange state, Value full) {
          return buildKeyTile(kt, state, full);
        });
    finalState = loop.getResults();
  } else {
    buildKeyTileLoop(
        b, loc, mask, plan, queryTile, p0, p1, lk, tiles.keys, ValueRange{},
        [&](Value kt, ValueRange, Value full) {
          Value k0 = mulIdx(kt, idx(tiles.keys));
          Value nc = minIdx(idx(tiles.keys), subIdx(lk, k0));
          preparePagedTile(k0, nc);
          buildDotScores(k0, nc, perHead);
          perHead([&] {
            SmallVector<Value> state;
            for (int64_t i = 0; i < 2 * nv; ++i)
              state.push_back(
                  vector::LoadOp::create(b, loc, vecF32, stateAll, stateAt(i)));
            for (auto [i, x] : llvm::enumerate(buildKeyTile(kt, state, full)))
              vector::StoreOp::create(b, loc, x, stateAll, stateAt(i));
          });
          // P V page by page, every head in turn (V's token rows in memory
          // order, as the scores read K's); a PARTIAL tile reads the V of a
          // key no row keeps as 0 (keyUsed does not depend on the head).
          ifFull(full, [&](bool guarded) {
            buildPagedValueBlocks(k0, nc, guarded, perHead);
          });
          return SmallVector<Value>();
        },
        keyBounds);
  }

  // O = Oacc / l (0 for an empty row); LSE = m ln2 + log(l) (-inf when
  // empty), m being in base 2.
  if (parts) {
    // A part (slot >= 0): its rows slot * Br ... of the partial buffers.
    unsigned n = entry->getNumArguments();
    Value slot = entry->getArgument(n - 1);
    auto ifPart = scf::IfOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, slot, idx(0)),
        /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifPart.elseBlock());
    buildTileOutput(finalState, stateAll);
    b.setInsertionPointToStart(ifPart.thenBlock());
    o = entry->getArgument(n - 5);
    lse = entry->getArgument(n - 4);
    writeLse = true;
    outRowBase = mulIdx(slot, idx(br));
    buildTileOutput(finalState, stateAll);
    return;
  }
  perHead([&] {
    buildTileOutput(allHeads ? ValueRange() : ValueRange(finalState), stateAll);
  });
}

void TileFunctionBuilder::buildTileOutput(ValueRange finalState,
                                          Value stateAll) {
  const int64_t nv = tiles.rows / lanes;
  Value one = idx(1);
  for (int64_t n = 0; n < nv; ++n) {
    Value m =
        finalState.empty()
            ? Value(vector::LoadOp::create(b, loc, vecF32, stateAll,
                                           ValueRange{kvHead, idx(n), idx(0)}))
            : finalState[n];
    Value l = finalState.empty() ? Value(vector::LoadOp::create(
                                       b, loc, vecF32, stateAll,
                                       ValueRange{kvHead, idx(nv + n), idx(0)}))
                                 : finalState[nv + n];
    vector::StoreOp::create(b, loc, m, rowBuf,
                            ValueRange{idx(1), idx(n * lanes)});
    vector::StoreOp::create(b, loc, l, rowBuf,
                            ValueRange{idx(2), idx(n * lanes)});
  }
  scf::ForOp::create(
      b, loc, idx(0), numRows, one, ValueRange{},
      [&](OpBuilder &, Location, Value r, ValueRange) {
        Value m = memref::LoadOp::create(b, loc, rowBuf, ValueRange{idx(1), r});
        Value l = memref::LoadOp::create(b, loc, rowBuf, ValueRange{idx(2), r});
        Value nonEmpty = arith::CmpFOp::create(
            b, loc, arith::CmpFPredicate::OGT, l, f32Const(0.0f));
        Value inv = arith::SelectOp::create(
            b, loc, nonEmpty, arith::DivFOp::create(b, loc, f32Const(1.0f), l),
            f32Const(0.0f));
        Value invVec = vector::BroadcastOp::create(b, loc, vecF32, inv);
        Value rowHead, row;
        std::tie(rowHead, row) = rowSource(r);
        if (outRowBase)
          row = addIdx(outRowBase, r);
        for (int64_t j = 0; j < numValueVecs; ++j) {
          Value acc = vector::LoadOp::create(b, loc, vecF32, oacc,
                                             ValueRange{r, idx(j * lanes)});
          storeRowVector(arith::MulFOp::create(b, loc, acc, invVec), o,
                         ValueRange{outBatch, rowHead, row}, j * lanes,
                         valueDim);
        }
        if (writeLse) {
          Value logSum = math::FmaOp::create(
              b, loc, m, f32Const(static_cast<float>(M_LN2)),
              math::LogOp::create(b, loc, l));
          Value value = arith::SelectOp::create(
              b, loc, nonEmpty, logSum,
              f32Const(-std::numeric_limits<float>::infinity()));
          memref::StoreOp::create(b, loc, value, lse,
                                  ValueRange{outBatch, rowHead, row});
        }
        scf::YieldOp::create(b, loc);
      });
}

func::FuncOp TileFunctionBuilder::buildMergeFunction(
    ModuleOp module, StringRef name, unsigned numIndices,
    function_ref<void(Value partO, Value partLse, ValueRange indices)> body) {
  b.setInsertionPointToEnd(module.getBody());
  SmallVector<Type> args = {partialType(false), partialType(true),
                            inputType(valueDim), lseType()};
  args.append(numIndices, b.getIndexType());
  auto fn =
      func::FuncOp::create(b, loc, name, FunctionType::get(ctx, args, {}));
  fn.setPrivate();
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToStart(entry);
  o = entry->getArgument(2);
  lse = entry->getArgument(3);
  body(entry->getArgument(0), entry->getArgument(1),
       entry->getArguments().drop_front(4));
  func::ReturnOp::create(b, loc);
  return fn;
}

func::FuncOp TileFunctionBuilder::buildMerge(ModuleOp module, StringRef name) {
  // (b, h, numSplits): row i of split s is row i of partial batch
  // b * numSplits + s.
  return buildMergeFunction(
      module, name, 3, [&](Value partO, Value partLse, ValueRange ix) {
        Value bIdx = ix[0], h = ix[1], numSplits = ix[2];
        Value first = mulIdx(bIdx, numSplits);
        scf::ForOp::create(
            b, loc, idx(0), memref::DimOp::create(b, loc, o, 2), idx(1),
            ValueRange{}, [&](OpBuilder &, Location, Value i, ValueRange) {
              buildMergeRow(
                  partO, partLse, first, addIdx(first, numSplits),
                  [&](Value s) -> SmallVector<Value> {
                    return {s, h, i};
                  },
                  ValueRange{bIdx, h, i});
              scf::YieldOp::create(b, loc);
            });
      });
}

func::FuncOp TileFunctionBuilder::buildPartsMerge(ModuleOp module,
                                                  StringRef name) {
  // (b, h, qt, firstSlot, numParts): row r of the tile, query row q0 + r, is
  // row slot * Br + r of each part's slot.
  return buildMergeFunction(
      module, name, 5, [&](Value partO, Value partLse, ValueRange ix) {
        Value bIdx = ix[0], h = ix[1], firstSlot = ix[3], numParts = ix[4];
        Value q0Row = mulIdx(ix[2], idx(tiles.rows));
        Value rows = minIdx(idx(tiles.rows),
                            subIdx(memref::DimOp::create(b, loc, o, 2), q0Row));
        scf::ForOp::create(
            b, loc, idx(0), rows, idx(1), ValueRange{},
            [&](OpBuilder &, Location, Value r, ValueRange) {
              buildMergeRow(
                  partO, partLse, firstSlot, addIdx(firstSlot, numParts),
                  [&](Value s) -> SmallVector<Value> {
                    return {bIdx, h, addIdx(mulIdx(s, idx(tiles.rows)), r)};
                  },
                  ValueRange{bIdx, h, addIdx(q0Row, r)});
              scf::YieldOp::create(b, loc);
            });
      });
}

void TileFunctionBuilder::buildMergeRow(
    Value partO, Value partLse, Value sBegin, Value sEnd,
    function_ref<SmallVector<Value>(Value)> at, ValueRange out) {
  float negInf = -std::numeric_limits<float>::infinity();
  auto lseOf = [&](Value s) -> Value {
    return memref::LoadOp::create(b, loc, partLse, at(s));
  };
  // m = max_s LSE_s
  Value m = scf::ForOp::create(
                b, loc, sBegin, sEnd, idx(1), ValueRange{f32Const(negInf)},
                [&](OpBuilder &, Location, Value s, ValueRange acc) {
                  scf::YieldOp::create(b, loc,
                                       ValueRange{arith::MaximumFOp::create(
                                           b, loc, acc[0], lseOf(s))});
                })
                .getResult(0);
  Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, m,
                                      f32Const(negInf));
  m = arith::SelectOp::create(b, loc, empty, f32Const(0.0f), m);
  // w_s = exp(LSE_s - m), l = sum_s w_s, acc = sum_s w_s O_s
  SmallVector<Value> init = {f32Const(0.0f)};
  init.append(numValueVecs, splat(0.0f));
  auto sum = scf::ForOp::create(
      b, loc, sBegin, sEnd, idx(1), init,
      [&](OpBuilder &, Location, Value s, ValueRange acc) {
        Value w = math::ExpOp::create(
            b, loc, arith::SubFOp::create(b, loc, lseOf(s), m));
        Value wVec = vector::BroadcastOp::create(b, loc, vecF32, w);
        SmallVector<Value> next = {arith::AddFOp::create(b, loc, acc[0], w)};
        for (int64_t j = 0; j < numValueVecs; ++j)
          next.push_back(vector::FMAOp::create(
              b, loc, wVec, loadRowVector(partO, at(s), j * lanes, valueDim),
              acc[1 + j]));
        scf::YieldOp::create(b, loc, next);
      });
  // O = acc / l (0 for an empty row); LSE = m + log(l) (-inf)
  Value l = sum.getResult(0);
  Value inv =
      arith::SelectOp::create(b, loc, empty, f32Const(0.0f),
                              arith::DivFOp::create(b, loc, f32Const(1.0f), l));
  Value invVec = vector::BroadcastOp::create(b, loc, vecF32, inv);
  for (int64_t j = 0; j < numValueVecs; ++j)
    storeRowVector(arith::MulFOp::create(b, loc, sum.getResult(1 + j), invVec),
                   o, out, j * lanes, valueDim);
  if (op.getLse())
    memref::StoreOp::create(
        b, loc,
        arith::SelectOp::create(
            b, loc, empty, f32Const(negInf),
            arith::AddFOp::create(b, loc, m, math::LogOp::create(b, loc, l))),
        lse, out);
}

void TileFunctionBuilder::buildBroadcastScores(Value k0, Value nc) {
  const int64_t nv = tiles.rows / lanes;
  Value one = idx(1);
  Value lastKey = subIdx(addIdx(k0, nc), one); // the tile's last key
  // S^T[c][r] = sum_d K[k0 + c, d] * Qt[d][r], in blocks of keyChunk keys x
  // groupVecs vectors of rows held in registers across the d loop. Key rows
  // past the tile repeat its last key; those columns are never read below.
  // pairDots: two d per step, Qp[d / 2] . (K[c, d], K[c, d + 1]), then the
  // scale (Q is not prescaled).
  int64_t steps = pairDots ? headDim / 2 : headDim;
  auto qType = VectorType::get({pairDots ? 2 * lanes : lanes},
                               pairDots ? elemType : f32);
  Value ncUp = mulIdx(arith::CeilDivUIOp::create(b, loc, nc, idx(keyChunk)),
                      idx(keyChunk));
  scf::ForOp::create(
      b, loc, idx(0), ncUp, idx(keyChunk), ValueRange{},
      [&](OpBuilder &, Location, Value c0, ValueRange) {
        SmallVector<SmallVector<Value, 4>> rows;
        for (int64_t j = 0; j < keyChunk; ++j) {
          rows.push_back(
              keyRow(minIdx(addIdx(addIdx(k0, c0), idx(j)), lastKey)));
          if (pageSize)
            prefetchNextRows(addIdx(c0, idx(j)));
        }
        for (int64_t g0 = 0; g0 < nv; g0 += groupVecs) {
          int64_t ng = std::min(groupVecs, nv - g0);
          SmallVector<Value> zeros(keyChunk * ng, splat(0.0f));
          auto dLoop = scf::ForOp::create(
              b, loc, idx(0), idx(steps), one, zeros,
              [&](OpBuilder &, Location, Value d, ValueRange acc) {
                SmallVector<Value> qv, next;
                for (int64_t n = 0; n < ng; ++n)
                  qv.push_back(vector::LoadOp::create(
                      b, loc, qType, pairDots ? qtPairs : qt,
                      ValueRange{d, idx((g0 + n) * qType.getNumElements())}));
                for (int64_t j = 0; j < keyChunk; ++j) {
                  SmallVector<Value, 4> at(rows[j]);
                  at.push_back(pairDots ? mulIdx(d, idx(2)) : d);
                  if (pairDots) {
                    Value kb = broadcastPair(kData(), at);
                    for (int64_t n = 0; n < ng; ++n)
                      next.push_back(x86vector::DotBF16Op::create(
                          b, loc, acc[j * ng + n], qv[n], kb));
                    continue;
                  }
                  Value kv = widen(memref::LoadOp::create(b, loc, kData(), at));
                  Value kb = vector::BroadcastOp::create(b, loc, vecF32, kv);
                  for (int64_t n = 0; n < ng; ++n)
                    next.push_back(vector::FMAOp::create(b, loc, kb, qv[n],
                                                         acc[j * ng + n]));
                }
                scf::YieldOp::create(b, loc, next);
              });
          Value scaleVec =
              pairDots ? splat(static_cast<float>(scale * M_LOG2E)) : Value();
          for (int64_t j = 0; j < keyChunk; ++j)
            for (int64_t n = 0; n < ng; ++n) {
              Value s = dLoop.getResult(j * ng + n);
              vector::StoreOp::create(
                  b, loc,
                  scaleVec ? arith::MulFOp::create(b, loc, s, scaleVec) : s, st,
                  ValueRange{addIdx(c0, idx(j)), idx((g0 + n) * lanes)});
            }
        }
        scf::YieldOp::create(b, loc);
      });
}

Value TileFunctionBuilder::broadcastPair(Value memref, ValueRange indices) {
  Value pair = vector::LoadOp::create(b, loc, VectorType::get({2}, elemType),
                                      memref, indices);
  Value word = vector::ExtractOp::create(
      b, loc,
      vector::BitCastOp::create(b, loc, VectorType::get({1}, b.getI32Type()),
                                pair),
      0);
  return vector::BitCastOp::create(
      b, loc, VectorType::get({2 * lanes}, elemType),
      vector::BroadcastOp::create(
          b, loc, VectorType::get({lanes}, b.getI32Type()), word));
}

Value TileFunctionBuilder::interleavePairs(Value even, Value odd) {
  auto half = VectorType::get({lanes}, elemType);
  SmallVector<int64_t> order;
  for (int64_t i = 0; i < lanes; ++i)
    order.append({i, lanes + i});
  auto narrowPairs = [&](Value x) -> Value {
    return x.getType() == half
               ? x
               : x86vector::CvtPackedF32ToBF16Op::create(b, loc, half, x);
  };
  Value first = narrowPairs(even);
  return vector::ShuffleOp::create(b, loc, first, narrowPairs(odd), order);
}

void TileFunctionBuilder::buildValuePairs(Value k0, Value nc, bool guarded) {
  Value zeros = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(VectorType::get({lanes}, elemType),
                             b.getZeroAttr(elemType)));
  Value numPairs = arith::CeilDivUIOp::create(b, loc, nc, idx(2));
  scf::ForOp::create(
      b, loc, idx(0), numPairs, idx(1), ValueRange{},
      [&](OpBuilder &, Location, Value i, ValueRange) {
        Value c = mulIdx(i, idx(2));
        Value second = addIdx(c, idx(1)); // clamped to the last key below
        Value hasSecond = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::slt, second, nc);
        second = minIdx(second, subIdx(nc, idx(1)));
        // Keys no row keeps (PARTIAL tiles) and the missing last key read 0:
        // their P is 0, but 0 * NaN is not.
        auto keep = [&](Value key, Value exists) -> Value {
          if (!guarded)
            return exists;
          Value used = isKeyUsed(key);
          return exists ? arith::AndIOp::create(b, loc, used, exists) : used;
        };
        Value keepFirst = keep(c, Value()),
              keepSecond = keep(second, hasSecond);
        SmallVector<Value, 4> rowFirst = keyRow(addIdx(k0, c));
        SmallVector<Value, 4> rowSecond = keyRow(addIdx(k0, second));
        for (int64_t j = 0; j < numValueVecs; ++j) {
          auto load = [&](ArrayRef<Value> row, Value kept) -> Value {
            Value x = sattn::loadRowVector(b, loc, vData(), row, j * lanes,
                                           valueDim, lanes, /*toF32=*/false);
            return kept ? arith::SelectOp::create(b, loc, kept, x, zeros) : x;
          };
          Value first = load(rowFirst, keepFirst);
          vector::StoreOp::create(
              b, loc, interleavePairs(first, load(rowSecond, keepSecond)),
              vPairs, ValueRange{i, idx(j * 2 * lanes)});
        }
        scf::YieldOp::create(b, loc);
      });
}

void TileFunctionBuilder::stageKeyTile(Value k0, Value nc) {
  tileK0 = k0;
  scf::ForOp::create(
      b, loc, idx(0), nc, idx(1), ValueRange{},
      [&](OpBuilder &, Location, Value c, ValueRange) {
        SmallVector<Value, 4> row = {batch, kvHead, addIdx(k0, c)};
        for (auto [from, to, dim] :
             {std::tuple(k, kStage, headDim), std::tuple(v, vStage, valueDim)})
          for (int64_t col = 0; col < dim; col += lanes)
            vector::StoreOp::create(b, loc, loadRowVector(from, row, col, dim),
                                    to, ValueRange{c, idx(col)});
        scf::YieldOp::create(b, loc);
      });
}

void TileFunctionBuilder::buildDotScores(
    Value k0, Value nc, function_ref<void(function_ref<void()>)> forEachHead) {
  Value keysUp = mulIdx(arith::CeilDivUIOp::create(b, loc, nc, idx(dotKeys)),
                        idx(dotKeys));
  scf::ForOp::create(b, loc, idx(0), keysUp, idx(dotKeys), ValueRange{},
                     [&](OpBuilder &, Location, Value c0, ValueRange) {
                       forEachHead([&] { buildDotStep(k0, nc, c0); });
                       scf::YieldOp::create(b, loc);
                     });
}

void TileFunctionBuilder::buildDotStep(Value k0, Value nc, Value c0) {
  const int64_t rowsUsed = packedRows(); // <= tiles.rows
  const int64_t dVecs = (headDim + lanes - 1) / lanes;
  Value lastKey = subIdx(addIdx(k0, nc), idx(1)); // the tile's last key
  SmallVector<SmallVector<Value, 4>> keys;
  for (int64_t j = 0; j < dotKeys; ++j) {
    keys.push_back(keyRow(minIdx(addIdx(addIdx(k0, c0), idx(j)), lastKey)));
    // K of the next tile (P V prefetches its V: prefetchValuesAhead).
    if (allHeads) // step s = Hkv c0 + dotKeys kvHead + j of the tile
      prefetchNextRows(addIdx(addIdx(mulIdx(c0, idx(packedHeads)),
                                     mulIdx(kvHead, idx(dotKeys))),
                              idx(j)),
                       /*keys=*/true, /*values=*/false);
    else if (pageSize)
      prefetchNextRows(addIdx(c0, idx(j)), /*keys=*/true, /*values=*/false);
    else
      prefetchRowsAhead(addIdx(addIdx(k0, c0), idx(j)), /*keys=*/true,
                        /*values=*/false);
  }
  // acc[j][r] += K[key_j, d : d + lanes] * Q'[r, d : d + lanes]
  SmallVector<Value> zeros(dotKeys * rowsUsed, splat(0.0f));
  auto dLoop = scf::ForOp::create(
      b, loc, idx(0), idx(dVecs * lanes), idx(lanes), zeros,
      [&](OpBuilder &, Location, Value d, ValueRange acc) {
        SmallVector<Value> qv, next;
        for (int64_t r = 0; r < rowsUsed; ++r)
          qv.push_back(vector::LoadOp::create(b, loc, vecF32, qRows,
                                              ValueRange{idx(r), d}));
        for (int64_t j = 0; j < dotKeys; ++j) {
          SmallVector<Value, 4> at(keys[j]);
          at.push_back(d);
          Value kv = headDim % lanes == 0
                         ? widen(vector::LoadOp::create(
                               b, loc, VectorType::get({lanes}, elemType),
                               kData(), at))
                         : Value();
          if (!kv) { // D not a multiple of the lanes: masked tail
            Value valid = vector::CreateMaskOp::create(
                b, loc, VectorType::get({lanes}, b.getI1Type()),
                ValueRange{subIdx(idx(headDim), d)});
            Value zero = arith::ConstantOp::create(
                b, loc,
                DenseElementsAttr::get(VectorType::get({lanes}, elemType),
                                       b.getZeroAttr(elemType)));
            kv = widen(vector::MaskedLoadOp::create(
                b, loc, VectorType::get({lanes}, elemType), kData(), at, valid,
                zero));
          }
          for (int64_t r = 0; r < rowsUsed; ++r)
            next.push_back(vector::FMAOp::create(b, loc, kv, qv[r],
                                                 acc[j * rowsUsed + r]));
        }
        scf::YieldOp::create(b, loc, next);
      });
  // S^T[c0 + j][r] = hsum(acc[j][r]). With one accumulator per lane
  // (compactScores), all sums at once into one vector, rows r-major so that
  // each key's rows share a 128-bit lane; else key by key, rows past
  // rowsUsed 0.
  if (compactScores) {
    SmallVector<Value> accs;
    for (int64_t r = 0; r < rowsUsed; ++r)
      for (int64_t j = 0; j < dotKeys; ++j)
        accs.push_back(dLoop.getResult(j * rowsUsed + r));
    SmallVector<int64_t> sumOf;
    Value sums = buildTransposedSums(b, loc, accs, sumOf);
    // lane j G Lq + r = the sum of accs[r dotKeys + j]
    SmallVector<int64_t> pick(lanes);
    for (auto [lane, acc] : llvm::enumerate(sumOf))
      pick[acc % dotKeys * rowsUsed + acc / dotKeys] = lane;
    if (!llvm::equal(pick, llvm::seq<int64_t>(0, lanes)))
      sums = vector::ShuffleOp::create(b, loc, sums, sums, pick);
    vector::StoreOp::create(
        b, loc, sums, st,
        ValueRange{arith::DivUIOp::create(b, loc, c0, idx(dotKeys)), idx(0)});
    return;
  }
  for (int64_t j = 0; j < dotKeys; ++j) {
    SmallVector<Value> row(tiles.rows, f32Const(0.0f));
    for (int64_t r = 0; r < rowsUsed; ++r)
      row[r] = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD,
                                           dLoop.getResult(j * rowsUsed + r),
                                           arith::FastMathFlags::reassoc);
    for (int64_t n = 0; n < tiles.rows / lanes; ++n)
      vector::StoreOp::create(
          b, loc,
          vector::FromElementsOp::create(
              b, loc, vecF32, ArrayRef<Value>(row).slice(n * lanes, lanes)),
          st, ValueRange{addIdx(c0, idx(j)), idx(n * lanes)});
  }
}

Value TileFunctionBuilder::rowPositions(int64_t n) {
  auto vecI64 = VectorType::get({lanes}, b.getI64Type());
  SmallVector<int64_t> offsets(lanes);
  for (int64_t i = 0; i < lanes; ++i) {
    int64_t r = compactScores ? i % packedRows() : n * lanes + i;
    offsets[i] = packedGroup ? r % packedLength : r;
  }
  return arith::AddIOp::create(
      b, loc, vector::BroadcastOp::create(b, loc, vecI64, p0),
      arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(vecI64, ArrayRef(offsets))));
}

Value TileFunctionBuilder::scoreKeys(Value k0, Value i) {
  auto vecI64 = VectorType::get({lanes}, b.getI64Type());
  if (!compactScores)
    return vector::BroadcastOp::create(b, loc, vecI64, toI64(addIdx(k0, i)));
  SmallVector<int64_t> keys(lanes);
  for (int64_t l = 0; l < lanes; ++l)
    keys[l] = l / packedRows();
  Value first = vector::BroadcastOp::create(
      b, loc, vecI64, toI64(addIdx(k0, mulIdx(i, idx(dotKeys)))));
  return arith::AddIOp::create(
      b, loc, first,
      arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(vecI64, ArrayRef(keys))));
}

Value TileFunctionBuilder::numScoreVecs(Value nc) {
  return compactScores ? arith::CeilDivUIOp::create(b, loc, nc, idx(dotKeys))
                       : nc;
}

SmallVector<Value, 2> TileFunctionBuilder::scoreAt(Value c, Value r) {
  if (!compactScores)
    return {c, r};
  Value vec = arith::DivUIOp::create(b, loc, c, idx(dotKeys));
  Value j = arith::RemUIOp::create(b, loc, c, idx(dotKeys));
  return {vec, addIdx(mulIdx(j, idx(packedRows())), r)};
}

Value TileFunctionBuilder::combineKeyLanes(Value x,
                                           vector::CombiningKind kind) {
  // log2(dotKeys) rotations by half, a quarter, ... of the lanes
  for (int64_t step = lanes / 2; step >= packedRows(); step /= 2) {
    SmallVector<int64_t> rotate(lanes);
    for (int64_t i = 0; i < lanes; ++i)
      rotate[i] = (i + step) % lanes;
    Value other = vector::ShuffleOp::create(b, loc, x, x, rotate);
    x = kind == vector::CombiningKind::MAXNUMF
            ? Value(arith::MaxNumFOp::create(b, loc, x, other))
            : Value(arith::AddFOp::create(b, loc, x, other));
  }
  return x;
}

void TileFunctionBuilder::buildScoreModifiers(Value k0, Value nc) {
  const int64_t nv = tiles.rows / lanes;
  // Per vector of rows: positions p as f32 and the rows' slopes.
  SmallVector<Value> pos, slopes;
  if (rowSlopes)
    for (int64_t n = 0; n < nv; ++n) {
      pos.push_back(arith::SIToFPOp::create(b, loc, vecF32, rowPositions(n)));
      slopes.push_back(vector::LoadOp::create(b, loc, vecF32, rowSlopes,
                                              ValueRange{idx(n * lanes)}));
      if (compactScores) { // lane i: row i mod G Lq
        SmallVector<int64_t> rowOf(lanes);
        for (int64_t i = 0; i < lanes; ++i)
          rowOf[i] = i % packedRows();
        slopes[n] =
            vector::ShuffleOp::create(b, loc, slopes[n], slopes[n], rowOf);
      }
    }
  scf::ForOp::create(
      b, loc, idx(0), numScoreVecs(nc), idx(1), ValueRange{},
      [&](OpBuilder &, Location, Value c, ValueRange) {
        Value key;
        if (rowSlopes) { // the key of each lane, as f32
          Value first = compactScores ? mulIdx(c, idx(dotKeys)) : c;
          key = vector::BroadcastOp::create(
              b, loc, vecF32,
              arith::SIToFPOp::create(b, loc, f32, toI64(addIdx(k0, first))));
          if (compactScores) {
            SmallVector<float> offsets(lanes);
            for (int64_t i = 0; i < lanes; ++i)
              offsets[i] = i / packedRows();
            key = arith::AddFOp::create(
                b, loc, key,
                arith::ConstantOp::create(
                    b, loc, DenseElementsAttr::get(vecF32, ArrayRef(offsets))));
          }
        }
        for (int64_t n = 0; n < nv; ++n) {
          SmallVector<Value, 2> at = {c, idx(n * lanes)};
          Value t = vector::LoadOp::create(b, loc, vecF32, st, at);
          if (mods.softcap) // t = C tanh(t / C)
            t = mods.applySoftcap(b, loc, t);
          if (rowSlopes) // t = t - slope |p - k|
            t = mods.applyAlibi(b, loc, t, slopes[n], pos[n], key);
          vector::StoreOp::create(b, loc, t, st, at);
        }
        scf::YieldOp::create(b, loc);
      });
}

void TileFunctionBuilder::prefetchNextRows(Value c, bool keys, bool values) {
  auto lt = [&](Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, x, y);
  };
  if (allHeads) {
    // Step s = c of the tile's Hkv * Bc key steps prefetches row s of the
    // next tile in memory order (page j = s / (page * Hkv), its row s mod
    // (page * Hkv)): the next tile whole, each page front to back (f16
    // decode, Hkv = 8, Lk = 32768, D = 128, Zen 4: shuffled pages 8.2-9.0 ->
    // 7.2-7.5 ms, sorted 6.8-7.7 -> 5.3-5.9, against prefetching the next
    // head's rows key by key). The scores prefetch K, P V prefetches V, so
    // that both phases keep misses in flight (2 threads, AOT: shuffled 7.35
    // -> 6.70 ms, sorted 7.06 -> 5.87, against K and V both in the scores).
    int64_t rowsPerPage = pageSize * packedHeads;
    Value s = c;
    Value firstKey = mulIdx(arith::DivUIOp::create(b, loc, s, idx(rowsPerPage)),
                            idx(pageSize));
    auto inRange = scf::IfOp::create(b, loc, lt(firstKey, nextCount));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(inRange.thenBlock());
    prefetchRows(
        {addIdx(memref::LoadOp::create(b, loc, nextRows, ValueRange{firstKey}),
                arith::RemUIOp::create(b, loc, s, idx(rowsPerPage)))},
        keys, values);
    return;
  }
  // Per-head calls: key c of the next tile, this head.
  auto inRange = scf::IfOp::create(b, loc, lt(c, nextCount));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(inRange.thenBlock());
  prefetchRows(
      {addIdx(memref::LoadOp::create(b, loc, nextRows, ValueRange{c}), kvHead)},
      keys, values);
}

void TileFunctionBuilder::prefetchRowsAhead(Value key, bool keys, bool values) {
  // The rows of key + Bc (clamped to the last key), as paged decode does: f16
  // decode, Hkv = 8, Lk = 32768, D = 128 on AVX2: 8.1 ms against 11.1 without
  // (the same from 32 to 1024 keys ahead); f32 16.3 against 16.6. On Zen 4
  // (2 threads, AOT), V prefetched by P V rather than with K by the scores:
  // 5.13 -> 4.20 ms.
  prefetchRows(keyRow(minIdx(addIdx(key, idx(tiles.keys)), subIdx(lk, idx(1)))),
               keys, values);
}

void TileFunctionBuilder::prefetchValuesAhead(Value k0, Value c, Value c0,
                                              Value c1) {
  // All heads: the blocks walk the tile's Hkv * Bc rows as step s = Hkv c0 +
  // (c1 - c0) kvHead + c - c0, which prefetches row s of the next tile in
  // memory order: consecutive rows, as the scores' steps (2 threads, AOT:
  // shuffled pages 7.44 -> 6.92 ms, median of 9 rounds, against row (c,
  // kvHead), 2 KiB apart).
  if (allHeads) {
    Value blockStart = mulIdx(c0, idx(packedHeads));
    Value headStart = addIdx(blockStart, mulIdx(subIdx(c1, c0), kvHead));
    prefetchNextRows(addIdx(headStart, subIdx(c, c0)), /*keys=*/false,
                     /*values=*/true);
  } else if (pageSize)
    prefetchNextRows(c, /*keys=*/false, /*values=*/true);
  else
    prefetchRowsAhead(addIdx(k0, c), /*keys=*/false, /*values=*/true);
}

void TileFunctionBuilder::prefetchRows(ArrayRef<Value> row, bool keys,
                                       bool values) {
  // Into L2 (prefetcht1): into L1 they evict rows still in use (f32 decode,
  // Hkv = 8: 17.5 ms with prefetcht0, 16.0 with prefetcht1).
  int64_t lineElems = 64 / (elemType.getIntOrFloatBitWidth() / 8);
  SmallVector<std::pair<Value, int64_t>, 2> rows;
  if (keys)
    rows.push_back({kData(), headDim});
  if (values)
    rows.push_back({vData(), valueDim});
  for (auto [memref, dim] : rows)
    for (int64_t col = 0; col < dim; col += lineElems) {
      SmallVector<Value, 4> at(row);
      at.push_back(idx(col));
      memref::PrefetchOp::create(b, loc, memref, at, /*isWrite=*/false,
                                 /*localityHint=*/2, /*isDataCache=*/true);
    }
}

void TileFunctionBuilder::preparePagedTile(Value k0, Value nc) {
  // The cache row of each key of the tile and of the next one, looked up
  // once; the score loops prefetch from them one head ahead, key by key
  // (one burst of the whole next tile stalled on the core's miss buffers).
  tileK0 = k0;
  tileCount = nc;
  forEachKeyRow(k0, nc, [&](Value c, Value row) {
    memref::StoreOp::create(b, loc, row, tileRows, ValueRange{c});
  });
  Value next = addIdx(k0, idx(tiles.keys));
  nextCount = arith::MaxSIOp::create(
      b, loc, minIdx(idx(tiles.keys), subIdx(lk, next)), idx(0));
  forEachKeyRow(next, nextCount, [&](Value c, Value row) {
    memref::StoreOp::create(b, loc, row, nextRows, ValueRange{c});
  });
  if (allHeads)
    touchPagesAhead(k0);
}

void TileFunctionBuilder::touchPagesAhead(Value k0) {
  // One line of each 4 KiB of K and V kTouchAheadTiles tiles ahead, so that
  // the page walks of shuffled pages are done before the next tile's
  // prefetches need them (a prefetch that misses the TLB holds its miss
  // buffer through the walk). f16 decode, Hkv = 8, Lk = 32768, D = 128,
  // Zen 4, AOT, medians of 5-7 alternating rounds: shuffled pages 5.88 ->
  // 4.85 ms on 2 threads (contiguous 4.63), 10.67 -> 8.71 on 1 (8.48-8.95);
  // 2 tiles ahead 8.95, 4 tiles 8.73.
  int64_t tokenBytes =
      packedHeads * headDim * elemType.getIntOrFloatBitWidth() / 8;
  int64_t every = std::max<int64_t>(1, 4096 / tokenBytes);
  Value far = addIdx(k0, idx(kTouchAheadTiles * tiles.keys));
  Value count = arith::MaxSIOp::create(
      b, loc, minIdx(idx(tiles.keys), subIdx(lk, far)), idx(0));
  forEachKeyRow(far, count, [&](Value c, Value row) {
    Value first = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::eq,
        arith::RemUIOp::create(b, loc, c, idx(every)), idx(0));
    auto ifFirst = scf::IfOp::create(b, loc, first);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifFirst.thenBlock());
    for (Value rows : {kRows, vRows})
      memref::PrefetchOp::create(b, loc, rows, ValueRange{row, idx(0)},
                                 /*isWrite=*/false, /*localityHint=*/2,
                                 /*isDataCache=*/true);
  });
}

void TileFunctionBuilder::forEachRowChunk(
    function_ref<void(ArrayRef<Value>)> body) {
  Value rows =
      mulIdx(arith::CeilDivUIOp::create(b, loc, numRows, idx(kRowChunk)),
             idx(kRowChunk));
  scf::ForOp::create(b, loc, idx(0), rows, idx(kRowChunk), ValueRange{},
                     [&](OpBuilder &, Location, Value r0, ValueRange) {
                       SmallVector<Value> rowIdx;
                       for (int64_t i = 0; i < kRowChunk; ++i)
                         rowIdx.push_back(addIdx(r0, idx(i)));
                       body(rowIdx);
                       scf::YieldOp::create(b, loc);
                     });
}

Value TileFunctionBuilder::rowAlpha(Value r) {
  return vector::BroadcastOp::create(
      b, loc, vecF32,
      memref::LoadOp::create(b, loc, rowBuf, ValueRange{idx(0), r}));
}

void TileFunctionBuilder::buildValueBlock(Value k0, ArrayRef<Value> rowIdx,
                                          Value c0, Value c1, bool scale,
                                          bool guarded) {
  Value one = idx(1), zeroVec = splat(0.0f);
  SmallVector<Value> alphaRow;
  if (scale)
    for (Value r : rowIdx)
      alphaRow.push_back(rowAlpha(r));
  for (int64_t j0 = 0; j0 < numValueVecs; j0 += colChunk) {
    int64_t nj = std::min(colChunk, numValueVecs - j0);
    SmallVector<Value> acc;
    for (int64_t i = 0; i < kRowChunk; ++i)
      for (int64_t j = 0; j < nj; ++j) {
        Value old = vector::LoadOp::create(
            b, loc, vecF32, oacc, ValueRange{rowIdx[i], idx((j0 + j) * lanes)});
        acc.push_back(scale ? arith::MulFOp::create(b, loc, old, alphaRow[i])
                            : old);
      }
    auto pvLoop = scf::ForOp::create(
        b, loc, c0, c1, one, acc,
        [&](OpBuilder &, Location, Value c, ValueRange cur) {
          SmallVector<Value> next;
          if (pairDots) { // c: a pair of keys of Pp and Vp
            SmallVector<Value> vv;
            for (int64_t j = 0; j < nj; ++j)
              vv.push_back(vector::LoadOp::create(
                  b, loc, VectorType::get({2 * lanes}, elemType), vPairs,
                  ValueRange{c, idx((j0 + j) * 2 * lanes)}));
            for (int64_t i = 0; i < kRowChunk; ++i) {
              Value pb = broadcastPair(
                  pPairs, ValueRange{c, mulIdx(rowIdx[i], idx(2))});
              for (int64_t j = 0; j < nj; ++j)
                next.push_back(x86vector::DotBF16Op::create(
                    b, loc, cur[i * nj + j], vv[j], pb));
            }
            scf::YieldOp::create(b, loc, next);
            return;
          }
          SmallVector<Value, 4> row = keyRow(addIdx(k0, c));
          if (packedGroup && j0 == 0) { // once per key: in row block 0
            auto once = scf::IfOp::create(
                b, loc,
                arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                      rowIdx[0], idx(0)));
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPointToStart(once.thenBlock());
            prefetchValuesAhead(k0, c, c0, c1);
          }
          SmallVector<Value> vv;
          for (int64_t j = 0; j < nj; ++j)
            vv.push_back(
                loadRowVector(vData(), row, (j0 + j) * lanes, valueDim));
          if (guarded) {
            Value used = isKeyUsed(c);
            for (Value &x : vv)
              x = arith::SelectOp::create(b, loc, used, x, zeroVec);
          }
          for (int64_t i = 0; i < kRowChunk; ++i) {
            Value pb = vector::BroadcastOp::create(
                b, loc, vecF32,
                memref::LoadOp::create(b, loc, st, scoreAt(c, rowIdx[i])));
            for (int64_t j = 0; j < nj; ++j)
              next.push_back(
                  vector::FMAOp::create(b, loc, pb, vv[j], cur[i * nj + j]));
          }
          scf::YieldOp::create(b, loc, next);
        });
    for (int64_t i = 0; i < kRowChunk; ++i)
      for (int64_t j = 0; j < nj; ++j)
        vector::StoreOp::create(b, loc, pvLoop.getResult(i * nj + j), oacc,
                                ValueRange{rowIdx[i], idx((j0 + j) * lanes)});
  }
}

void TileFunctionBuilder::ifFull(Value full,
                                 function_ref<void(bool guarded)> body) {
  auto ifOp = scf::IfOp::create(b, loc, full, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifOp.thenBlock());
  body(/*guarded=*/false);
  b.setInsertionPointToStart(ifOp.elseBlock());
  body(/*guarded=*/true);
}

void TileFunctionBuilder::buildPagedValueBlocks(
    Value k0, Value nc, bool guarded,
    function_ref<void(function_ref<void()>)> forEachHead) {
  scf::ForOp::create(b, loc, idx(0), nc, idx(kPagedKeyBlock), ValueRange{},
                     [&](OpBuilder &, Location, Value c0, ValueRange) {
                       Value c1 = minIdx(addIdx(c0, idx(kPagedKeyBlock)), nc);
                       forEachHead([&] {
                         forEachRowChunk([&](ArrayRef<Value> rowIdx) {
                           buildValueBlock(k0, rowIdx, c0, c1, /*scale=*/false,
                                           guarded);
                         });
                       });
                       scf::YieldOp::create(b, loc);
                     });
}

SmallVector<Value>
TileFunctionBuilder::buildKeyTile(Value keyTile, ValueRange state, Value full) {
  const int64_t br = tiles.rows, nv = br / lanes;
  Value one = idx(1);
  Value k0 = mulIdx(keyTile, idx(tiles.keys));
  Value nc = minIdx(idx(tiles.keys), subIdx(lk, k0));
  Value negInf = splat(-std::numeric_limits<float>::infinity());
  if (pageSize && !allHeads) // all heads: once per tile, before the heads
    preparePagedTile(k0, nc);

  if (packedGroup) {
    if (!allHeads) // all heads: the scores of every head come first
      buildDotScores(k0, nc, thisHead);
  } else {
    if (kStage)
      stageKeyTile(k0, nc);
    buildBroadcastScores(k0, nc);
  }
  if (mods.any())
    buildScoreModifiers(k0, nc);

  // PARTIAL tiles only: S = select(mask(p, k), S, -inf). (Folded away
  // when the static plan has no PARTIAL tile.)
  const bool mayBePartial = !plan || plan->anyPartial;
  if (!mayBePartial)
    full = arith::ConstantOp::create(b, loc, b.getBoolAttr(true));
  auto maskIf = scf::IfOp::create(
      b, loc,
      arith::XOrIOp::create(
          b, loc, full,
          arith::ConstantOp::create(b, loc, b.getBoolAttr(true))));
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(maskIf.thenBlock());
    auto vecI64 = VectorType::get({lanes}, b.getI64Type());
    Value lkVec = vector::BroadcastOp::create(b, loc, vecI64, lk64);
    Value numRowsVec =
        vector::BroadcastOp::create(b, loc, vecI64, toI64(numRows));
    scf::ForOp::create(
        b, loc, idx(0), numScoreVecs(nc), one, ValueRange{},
        [&](OpBuilder &, Location, Value c, ValueRange) {
          Value kVec = scoreKeys(k0, c);
          Value anyRow;
          for (int64_t n = 0; n < nv; ++n) {
            Value keep =
                mask.buildPredicate(b, loc, rowPositions(n), kVec, lkVec);
            SmallVector<Value, 2> at = {c, idx(n * lanes)};
            Value s = vector::LoadOp::create(b, loc, vecF32, st, at);
            vector::StoreOp::create(
                b, loc, arith::SelectOp::create(b, loc, keep, s, negInf), st,
                at);
            if (compactScores) {
              // keyUsed[dotKeys c + j] = some row keeps key j of the vector
              // (every lane is a valid row)
              int64_t rows = packedRows();
              for (int64_t j = 0; j < dotKeys; ++j) {
                Value kept = vector::ReductionOp::create(
                    b, loc, vector::CombiningKind::OR,
                    vector::ExtractStridedSliceOp::create(
                        b, loc, keep, ArrayRef<int64_t>{j * rows},
                        ArrayRef<int64_t>{rows}, ArrayRef<int64_t>{1}));
                memref::StoreOp::create(
                    b, loc,
                    arith::SelectOp::create(b, loc, kept, f32Const(1.0f),
                                            f32Const(0.0f)),
                    keyUsed,
                    ValueRange{addIdx(mulIdx(c, idx(dotKeys)), idx(j))});
              }
              continue;
            }
            // Padding rows (r >= numRows) do not make a key used.
            SmallVector<int64_t> rows(lanes);
            for (int64_t i = 0; i < lanes; ++i)
              rows[i] = n * lanes + i;
            Value rowValid = arith::CmpIOp::create(
                b, loc, arith::CmpIPredicate::slt,
                arith::ConstantOp::create(
                    b, loc, DenseElementsAttr::get(vecI64, ArrayRef(rows))),
                numRowsVec);
            Value kept = vector::ReductionOp::create(
                b, loc, vector::CombiningKind::OR,
                arith::AndIOp::create(b, loc, keep, rowValid));
            anyRow = anyRow ? arith::OrIOp::create(b, loc, anyRow, kept) : kept;
          }
          // keyUsed[c] = some row of the tile keeps key k0 + c
          if (anyRow)
            memref::StoreOp::create(b, loc,
                                    arith::SelectOp::create(b, loc, anyRow,
                                                            f32Const(1.0f),
                                                            f32Const(0.0f)),
                                    keyUsed, ValueRange{c});
          scf::YieldOp::create(b, loc);
        });
  }

  // Compact scores: S = -inf in the lanes of keys past nc (the dot steps
  // computed them as copies of the last key).
  if (compactScores) {
    Value tail = arith::RemUIOp::create(b, loc, nc, idx(dotKeys));
    auto ifTail = scf::IfOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, tail, idx(0)));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifTail.thenBlock());
    Value last = arith::DivUIOp::create(b, loc, nc, idx(dotKeys));
    Value valid = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::slt, scoreKeys(k0, last),
        vector::BroadcastOp::create(b, loc,
                                    VectorType::get({lanes}, b.getI64Type()),
                                    toI64(addIdx(k0, nc))));
    SmallVector<Value, 2> at = {last, idx(0)};
    Value s = vector::LoadOp::create(b, loc, vecF32, st, at);
    vector::StoreOp::create(
        b, loc, arith::SelectOp::create(b, loc, valid, s, negInf), st, at);
  }

  // mx = rowmax(S) over the nc valid keys
  SmallVector<Value> negInfs(nv, negInf);
  auto maxLoop = scf::ForOp::create(
      b, loc, idx(0), numScoreVecs(nc), one, negInfs,
      [&](OpBuilder &, Location, Value c, ValueRange acc) {
        SmallVector<Value> next;
        for (int64_t n = 0; n < nv; ++n)
          next.push_back(arith::MaxNumFOp::create(
              b, loc, acc[n],
              vector::LoadOp::create(b, loc, vecF32, st,
                                     ValueRange{c, idx(n * lanes)})));
        scf::YieldOp::create(b, loc, next);
      });
  SmallVector<Value> mNew, mUse, alpha;
  Value zeroVec = splat(0.0f);
  for (int64_t n = 0; n < nv; ++n) {
    Value mx = maxLoop.getResult(n);
    if (compactScores)
      mx = combineKeyLanes(mx, vector::CombiningKind::MAXNUMF);
    // m' = max(m, mx)
    mNew.push_back(arith::MaxNumFOp::create(b, loc, state[n], mx));
    // A row with no kept key so far keeps m' = -inf; subtract 0 instead so
    // that exp(-inf - m') is 0, not NaN.
    Value isEmpty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                          mNew[n], negInf);
    mUse.push_back(arith::SelectOp::create(b, loc, isEmpty, zeroVec, mNew[n]));
    // alpha = 2^(m - m')
    alpha.push_back(exp2(arith::SubFOp::create(b, loc, state[n], mUse[n])));
    vector::StoreOp::create(b, loc, alpha[n], rowBuf,
                            ValueRange{idx(0), idx(n * lanes)});
  }

  // P = 2^(S - m'), stored over S (pairDots: as bf16 pairs of keys in Pp,
  // 0 for a missing last key); rs = rowsum(P)
  SmallVector<Value> zeros(nv, zeroVec);
  Value numPairs = arith::CeilDivUIOp::create(b, loc, nc, idx(2));
  auto sumLoop = scf::ForOp::create(
      b, loc, idx(0), pairDots ? numPairs : numScoreVecs(nc), one, zeros,
      [&](OpBuilder &, Location, Value i, ValueRange acc) {
        SmallVector<Value> next;
        for (int64_t n = 0; n < nv; ++n) {
          auto probability = [&](Value c) {
            Value s = vector::LoadOp::create(b, loc, vecF32, st,
                                             ValueRange{c, idx(n * lanes)});
            return exp2(arith::SubFOp::create(b, loc, s, mUse[n]));
          };
          if (!pairDots) {
            Value p = probability(i);
            vector::StoreOp::create(b, loc, p, st,
                                    ValueRange{i, idx(n * lanes)});
            next.push_back(arith::AddFOp::create(b, loc, acc[n], p));
            continue;
          }
          Value c = mulIdx(i, idx(2)), c1 = addIdx(c, one);
          Value p0 = probability(c), p1 = probability(c1);
          Value hasSecond =
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, c1, nc);
          p1 = arith::SelectOp::create(b, loc, hasSecond, p1, zeroVec);
          vector::StoreOp::create(b, loc, interleavePairs(p0, p1), pPairs,
                                  ValueRange{i, idx(n * 2 * lanes)});
          next.push_back(arith::AddFOp::create(
              b, loc, acc[n], arith::AddFOp::create(b, loc, p0, p1)));
        }
        scf::YieldOp::create(b, loc, next);
      });
  SmallVector<Value> result(mNew);
  for (int64_t n = 0; n < nv; ++n) {
    Value rs = sumLoop.getResult(n);
    if (compactScores)
      rs = combineKeyLanes(rs, vector::CombiningKind::ADD);
    // l' = l * alpha + rs
    result.push_back(
        vector::FMAOp::create(b, loc, state[nv + n], alpha[n], rs));
  }

  // Oacc = Oacc * alpha + P V, in blocks of kRowChunk rows x colChunk
  // vectors of Dv held in registers across the key loop, over the chunks
  // that hold valid rows (padding rows are never written). In PARTIAL tiles
  // (`guarded`) the V rows of keys no row keeps are replaced by 0: their P
  // is 0, but 0 * NaN would still reach O (unused KV-cache slots may hold
  // anything). FULL tiles read V as it is.
  //
  // Paged caches: the V rows of one head are Hkv * Dv elements apart, a
  // power-of-two stride that maps a whole tile onto a few L1 sets, so each
  // column chunk would miss L1 again on every row. There Oacc is scaled by
  // alpha first and P V runs over blocks of kPagedKeyBlock keys, whose V rows
  // stay in L1 while the column chunks walk them (one page of 16 tokens:
  // measured f16 decode, Lk = 32768, Hkv = 8, D = 128: 15.4 ms at 16 keys,
  // 16.5 at 8, 17.5 at 4, 15.9 at 32, 19.0 at 64; f32 about equal at 8 and
  // 16; copying the tile's rows into a contiguous buffer instead: f16 15.5,
  // f32 20.8).
  auto buildPV = [&](bool guarded) {
    if (pairDots) { // over the pairs of keys; Vp holds no unkept key
      buildValuePairs(k0, nc, guarded);
      forEachRowChunk([&](ArrayRef<Value> rowIdx) {
        buildValueBlock(k0, rowIdx, idx(0), numPairs, /*scale=*/true,
                        /*guarded=*/false);
      });
      return;
    }
    if (!pageSize) {
      forEachRowChunk([&](ArrayRef<Value> rowIdx) {
        buildValueBlock(k0, rowIdx, idx(0), nc, /*scale=*/true, guarded);
      });
      return;
    }
    forEachRowChunk([&](ArrayRef<Value> rowIdx) {
      for (Value r : rowIdx)
        for (int64_t j = 0; j < numValueVecs; ++j) {
          SmallVector<Value, 2> at = {r, idx(j * lanes)};
          vector::StoreOp::create(
              b, loc,
              arith::MulFOp::create(
                  b, loc, vector::LoadOp::create(b, loc, vecF32, oacc, at),
                  rowAlpha(r)),
              oacc, at);
        }
    });
    if (!allHeads) // all heads: the blocks of every head, page by page
      buildPagedValueBlocks(k0, nc, guarded, thisHead);
  };
  if (!mayBePartial || allHeads) // all heads: here only Oacc *= alpha
    buildPV(/*guarded=*/false);
  else
    ifFull(full, buildPV);
  return result;
}

/// The op's LSE buffer, or without an LSE result a 1 x 1 (x 1) f32 dummy
/// that the tile function never writes.
static Value allocLseOrDummy(OpBuilder &b, Location loc,
                             AttentionOpInterface op, Value query,
                             IntegerAttr align) {
  if (Value lse = allocLseBuffer(b, loc, op, query, align))
    return lse;
  SmallVector<int64_t> ones(isa<VarlenAttentionOp>(op.getOperation()) ? 2 : 3,
                            1);
  return memref::AllocaOp::create(b, loc,
                                  MemRefType::get(ones, b.getF32Type()));
}

/// sattn.varlen_attention: the query tiles of all sequences form one list,
/// so the parallel loop over (head, tile) shares the work evenly whatever the
/// lengths; each call of the tile function gets strided [1, H, L_b, D] views
/// of its sequence's rows of the token-major Q, K, V, O and LSE.
static void buildVarlenLoop(PatternRewriter &rewriter, VarlenAttentionOp op,
                            TileFunctionBuilder &builder, func::FuncOp tileFn,
                            int64_t rows) {
  Location loc = op.getLoc();
  Type index = rewriter.getIndexType();
  auto c = [&](int64_t x) -> Value {
    return arith::ConstantIndexOp::create(rewriter, loc, x);
  };
  auto dim = [&](Value memref, int64_t i) -> Value {
    return memref::DimOp::create(rewriter, loc, memref, i);
  };
  Value q = getInputBuffer(rewriter, loc, op.getQuery());
  Value k = getInputBuffer(rewriter, loc, op.getKey());
  Value v = getInputBuffer(rewriter, loc, op.getValue());
  Value cuq = getInputBuffer(rewriter, loc, op.getCuSeqlensQ());
  Value cuk = getInputBuffer(rewriter, loc, op.getCuSeqlensK());
  Value tq = dim(q, 0), hq = dim(q, 1), tk = dim(k, 0), hkv = dim(k, 1);
  auto align = rewriter.getI64IntegerAttr(64);
  // O [Tq, Hq, Dv] and LSE [Hq, Tq].
  Value oBuf =
      allocResultBuffer(rewriter, loc, op.getOutput().getType(), q, align);
  Value lseBuf = allocLseOrDummy(
      rewriter, loc, cast<AttentionOpInterface>(op.getOperation()), q, align);

  // The rows [start, end) of sequence b in a cu_seqlens, clamped to
  // [0, total] and non-decreasing: bad index data (which the runtime
  // rejects) can never make the kernel touch memory outside the tensors.
  auto span = [&](OpBuilder &nb, Value cu, Value b,
                  Value total) -> std::pair<Value, Value> {
    auto at = [&](Value i) -> Value {
      return arith::IndexCastOp::create(
          nb, loc, index, memref::LoadOp::create(nb, loc, cu, ValueRange{i}));
    };
    auto clamp = [&](Value x, Value lo) -> Value {
      return arith::MinSIOp::create(
          nb, loc, arith::MaxSIOp::create(nb, loc, x, lo), total);
    };
    Value start = clamp(at(b), c(0));
    Value next = arith::AddIOp::create(nb, loc, b, c(1));
    return {start, clamp(at(next), start)};
  };
  // The query tiles of all sequences: work[t] = (b, qt), filled serially
  // (a few entries per sequence) so that the parallel loop reads its
  // sequence and tile without a search.
  Value numSeqs = arith::MaxSIOp::create(
      rewriter, loc, arith::SubIOp::create(rewriter, loc, dim(cuq, 0), c(1)),
      c(0));
  auto forEachSeq =
      [&](Value init,
          function_ref<void(OpBuilder &, Value, Value, Value)> fill) -> Value {
    return scf::ForOp::create(
               rewriter, loc, c(0), numSeqs, c(1), ValueRange{init},
               [&](OpBuilder &nb, Location, Value b, ValueRange first) {
                 auto [start, end] = span(nb, cuq, b, tq);
                 Value count = arith::CeilDivUIOp::create(
                     nb, loc, arith::SubIOp::create(nb, loc, end, start),
                     c(rows));
                 if (fill)
                   fill(nb, b, first[0], count);
                 scf::YieldOp::create(nb, loc,
                                      ValueRange{arith::AddIOp::create(
                                          nb, loc, first[0], count)});
               })
        .getResult(0);
  };
  Value numTiles = forEachSeq(c(0), nullptr);
  Value work = memref::AllocOp::create(
      rewriter, loc, MemRefType::get({ShapedType::kDynamic, 2}, index),
      ValueRange{numTiles});
  forEachSeq(c(0), [&](OpBuilder &nb, Value b, Value first, Value count) {
    scf::ForOp::create(
        nb, loc, c(0), count, c(1), ValueRange{},
        [&](OpBuilder &, Location, Value qt, ValueRange) {
          Value t = arith::AddIOp::create(nb, loc, first, qt);
          memref::StoreOp::create(nb, loc, b, work, ValueRange{t, c(0)});
          memref::StoreOp::create(nb, loc, qt, work, ValueRange{t, c(1)});
          scf::YieldOp::create(nb, loc);
        });
  });

  scf::ParallelOp::create(
      rewriter, loc, ValueRange{c(0), c(0)}, ValueRange{hq, numTiles},
      ValueRange{c(1), c(1)}, [&](OpBuilder &nb, Location, ValueRange ivs) {
        Value head = ivs[0], t = ivs[1];
        Value b = memref::LoadOp::create(nb, loc, work, ValueRange{t, c(0)});
        Value qt = memref::LoadOp::create(nb, loc, work, ValueRange{t, c(1)});
        auto [qStart, qEnd] = span(nb, cuq, b, tq);
        auto [kStart, kEnd] = span(nb, cuk, b, tk);
        Value lq = arith::SubIOp::create(nb, loc, qEnd, qStart);
        Value lk = arith::SubIOp::create(nb, loc, kEnd, kStart);
        // [1, heads, len, width] at row `start` of a token-major [T, heads,
        // width] buffer: strides [heads * width, width, heads * width, 1].
        auto view = [&](Value buffer, Value start, Value heads, Value len,
                        int64_t width) -> Value {
          Value rowStride = arith::MulIOp::create(nb, loc, heads, c(width));
          return memref::ReinterpretCastOp::create(
              nb, loc, builder.inputType(width), buffer,
              OpFoldResult(arith::MulIOp::create(nb, loc, start, rowStride)),
              ArrayRef<OpFoldResult>{c(1), heads, len, nb.getIndexAttr(width)},
              ArrayRef<OpFoldResult>{rowStride, c(width), rowStride,
                                     nb.getIndexAttr(1)});
        };
        auto attention = cast<AttentionOpInterface>(op.getOperation());
        int64_t d = attention.getHeadDim(), dv = attention.getValueHeadDim();
        SmallVector<Value> args = {
            view(q, qStart, hq, lq, d), view(k, kStart, hkv, lk, d),
            view(v, kStart, hkv, lk, dv), view(oBuf, qStart, hq, lq, dv)};
        // LSE [Hq, Tq] as [1, Hq, L_b]: strides [Tq, Tq, 1] from column
        // qStart (a 1 x 1 dummy without LSE: never written).
        Value lseStride = op.getLse() ? tq : c(0);
        args.push_back(memref::ReinterpretCastOp::create(
            nb, loc, builder.lseType(), lseBuf,
            OpFoldResult(op.getLse() ? qStart : c(0)),
            ArrayRef<OpFoldResult>{c(1), op.getLse() ? hq : c(1),
                                   op.getLse() ? lq : c(1)},
            ArrayRef<OpFoldResult>{lseStride, lseStride, c(1)}));
        args.append({c(0), head, qt});
        func::CallOp::create(nb, loc, tileFn, args);
      });
  replaceWithResultBuffers(rewriter, op, oBuf, lseBuf);
}

/// A mask cut into iteration spaces (splitIterationSpaces): per space a tile
/// function on strided views of one residue class r, the query rows at
/// positions p = r (mod stride) and the keys k = r (mod stride), and an
/// scf.parallel over (b, h, r, query tile). The spaces run in turn; each
/// after the first resumes the rows' softmax from the O and LSE the earlier
/// ones wrote (a scratch LSE when the op returns none).
static void buildIterationSpaceLoops(PatternRewriter &rewriter, AttentionOp op,
                                     ModuleOp module,
                                     ArrayRef<IterationSpace> spaces,
                                     TileSizes tiles, VectorShape vec) {
  Location loc = op.getLoc();
  auto attention = cast<AttentionOpInterface>(op.getOperation());
  int64_t d = attention.getHeadDim(), dv = attention.getValueHeadDim();
  auto c = [&](int64_t x) -> Value {
    return arith::ConstantIndexOp::create(rewriter, loc, x);
  };
  auto dim = [&](Value memref, int64_t i) -> Value {
    return memref::DimOp::create(rewriter, loc, memref, i);
  };
  Value q = getInputBuffer(rewriter, loc, op.getQuery());
  Value k = getInputBuffer(rewriter, loc, op.getKey());
  Value v = getInputBuffer(rewriter, loc, op.getValue());
  Value batches = dim(q, 0), hq = dim(q, 1), lq = dim(q, 2), lk = dim(k, 2);
  auto align = rewriter.getI64IntegerAttr(64);
  Value oBuf =
      allocResultBuffer(rewriter, loc, op.getOutput().getType(), q, align);
  // Later spaces resume from LSE: a scratch one when the op returns none.
  bool writeLse = op.getLse() || spaces.size() > 1;
  int64_t dyn = ShapedType::kDynamic;
  Value lseBuf =
      writeLse && !op.getLse()
          ? Value(memref::AllocOp::create(
                rewriter, loc,
                MemRefType::get({dyn, dyn, dyn}, rewriter.getF32Type()),
                ValueRange{batches, hq, lq}, align))
          : allocLseOrDummy(rewriter, loc, attention, q, align);
  for (const IterationSpace &space : spaces) {
    TileFunctionBuilder builder(attention, tiles, vec);
    builder.strided = true;
    builder.positionArg = true;
    builder.resume = &space != &spaces.front();
    builder.writeLse = writeLse;
    builder.mask = space.mask;
    func::FuncOp fn =
        builder.build(module, getFreshSymbolName(module, "__sattn_tile_"));
    setIterationSpaceAttr(fn, space);

    Value maxTiles = arith::CeilDivUIOp::create(
        rewriter, loc,
        arith::CeilDivUIOp::create(rewriter, loc, lq, c(space.stride)),
        c(tiles.rows));
    scf::ParallelOp::create(
        rewriter, loc, ValueRange{c(0), c(0), c(0), c(0)},
        ValueRange{batches, hq, c(space.stride), maxTiles},
        ValueRange{c(1), c(1), c(1), c(1)},
        [&](OpBuilder &nb, Location, ValueRange ivs) {
          Value r = ivs[2];
          ResidueClass cls =
              buildResidueClass(nb, loc, r, space.stride, space.shift, lq, lk);
          Value rows = cls.numRows, keys = cls.numKeys, i0 = cls.firstRow;
          SmallVector<Value> args = {
              cls.view(nb, loc, builder.inputType(d), q, i0, rows),
              cls.view(nb, loc, builder.inputType(d), k, r, keys),
              cls.view(nb, loc, builder.inputType(dv), v, r, keys),
              cls.view(nb, loc, builder.inputType(dv), oBuf, i0, rows)};
          if (writeLse)
            args.push_back(
                cls.view(nb, loc, builder.lseType(), lseBuf, i0, rows));
          else // a 1 x 1 x 1 dummy, never written
            args.push_back(memref::ReinterpretCastOp::create(
                nb, loc, builder.lseType(), lseBuf, OpFoldResult(c(0)),
                ArrayRef<OpFoldResult>{c(1), c(1), c(1)},
                ArrayRef<OpFoldResult>{c(0), c(0), c(0)}));
          args.append({ivs[0], ivs[1], ivs[3], cls.position});
          func::CallOp::create(nb, loc, fn, args);
        });
  }
  replaceWithResultBuffers(rewriter, attention, oBuf, lseBuf);
}

/// Packed decode, flash-decoding style: the key range is cut into splits,
/// an scf.parallel over (b, split, kv head) runs the tile function on each
/// (the KV heads innermost, so a thread walks the heads of one split in turn
/// while its K/V rows are in the caches: a paged cache keeps all heads of a
/// token in one row), then one over (b, query head) merges the splits by
/// their LSE. The splits cut the key range, in multiples of kSplitGranule
/// keys, into enough tasks for 4 per thread by the keys all tasks walk
/// together. The range is, paged, [0, the longest seq_len), and the work the
/// sum of the seq_lens; contiguous, the mask's key range for the decode rows
/// only (a window's splits all hold kept keys, so every thread gets some),
/// B times over.
static void buildSplitDecode(PatternRewriter &rewriter, AttentionOpInterface op,
                             func::FuncOp tileFn, func::FuncOp mergeFn,
                             ArrayRef<Value> qkv, ArrayRef<Value> indexArgs,
                             std::pair<Value, Value> results, int64_t hkv,
                             int64_t tileKeys, bool allHeads) {
  Location loc = op.getLoc();
  auto paged = dyn_cast<PagedAttentionOp>(op.getOperation());
  auto c = [&](int64_t x) -> Value {
    return arith::ConstantIndexOp::create(rewriter, loc, x);
  };
  auto ceilDiv = [&](Value x, Value y) -> Value {
    return arith::CeilDivUIOp::create(rewriter, loc, x, y);
  };
  auto maxIdx = [&](Value x, Value y) -> Value {
    return arith::MaxSIOp::create(rewriter, loc, x, y);
  };
  auto mul = [&](Value x, Value y) -> Value {
    return arith::MulIOp::create(rewriter, loc, x, y);
  };
  Value q = qkv[0], k = qkv[1];
  Value batch = memref::DimOp::create(rewriter, loc, q, 0);
  int64_t granule = llvm::alignTo(kSplitGranule, tileKeys);
  // The keys to split, [first, first + span): [0, the longest seq_len), or
  // the granule-aligned hull of the mask's key range for the rows at
  // positions [Lk - Lq, Lk) within [0, Lk); `work`: the keys of all
  // sequences.
  Value first = c(0), span, work;
  if (paged) {
    // The longest and the sum of the seq_lens (each within [0, M * page]).
    Value capacity = mul(memref::DimOp::create(rewriter, loc, indexArgs[0], 1),
                         c(paged.getPageSize()));
    auto lengths = scf::ForOp::create(
        rewriter, loc, c(0), batch, c(1), ValueRange{c(0), c(0)},
        [&](OpBuilder &, Location, Value seq, ValueRange acc) {
          Value n = arith::IndexCastOp::create(
              rewriter, loc, rewriter.getIndexType(),
              memref::LoadOp::create(rewriter, loc, indexArgs[1], seq));
          Value kept =
              arith::MinSIOp::create(rewriter, loc, maxIdx(n, c(0)), capacity);
          Value sum = arith::AddIOp::create(rewriter, loc, acc[1], kept);
          scf::YieldOp::create(rewriter, loc,
                               ValueRange{maxIdx(acc[0], kept), sum});
        });
    span = lengths.getResult(0);
    work = lengths.getResult(1);
  } else {
    Type i64 = rewriter.getI64Type();
    Value lk = memref::DimOp::create(rewriter, loc, k, 2);
    Value lk64 = arith::IndexCastOp::create(rewriter, loc, i64, lk);
    Value p0 = arith::SubIOp::create(
        rewriter, loc, lk64,
        arith::ConstantOp::create(
            rewriter, loc,
            rewriter.getI64IntegerAttr(op.getQuery().getType().getDimSize(2))));
    auto [lo, hi] = op.getMask().buildKeyRange(rewriter, loc, p0, lk64, lk64);
    auto toIndex = [&](Value x) -> Value {
      return arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(),
                                        x);
    };
    Value kHi =
        arith::MinSIOp::create(rewriter, loc, maxIdx(toIndex(hi), c(0)), lk);
    Value kLo =
        arith::MinSIOp::create(rewriter, loc, maxIdx(toIndex(lo), c(0)), kHi);
    first =
        mul(arith::DivUIOp::create(rewriter, loc, kLo, c(granule)), c(granule));
    span = arith::SubIOp::create(rewriter, loc, kHi, first);
    work = mul(batch, span);
  }
  // Keys per split: the work of all tasks (work * heads, one task per head
  // unless all heads share one) over 4 tasks per thread, at least a granule.
  Value chunks = maxIdx(ceilDiv(span, c(granule)), c(1));
  Value threads = buildMaxThreads(rewriter, op);
  Value tasks = mul(mul(c(4), threads), span);
  Value allWork = maxIdx(mul(work, c(allHeads ? 1 : hkv)), c(1));
  Value wanted = ceilDiv(tasks, allWork);
  Value splits =
      arith::MinSIOp::create(rewriter, loc, maxIdx(wanted, c(1)), chunks);
  Value perSplit = mul(ceilDiv(chunks, splits), c(granule));
  splits = maxIdx(ceilDiv(span, perSplit), c(1));

  // The splits' normalized O [B * splits, Hq, Lq, Dv] and LSE, f32.
  auto qType = op.getQuery().getType();
  SmallVector<Value> sizes = {mul(batch, splits), c(qType.getDimSize(1)),
                              c(qType.getDimSize(2))};
  auto fnType = tileFn.getFunctionType();
  auto align = rewriter.getI64IntegerAttr(64);
  Value partO = memref::AllocOp::create(
      rewriter, loc, cast<MemRefType>(fnType.getInput(3)), sizes, align);
  Value partLse = memref::AllocOp::create(
      rewriter, loc, cast<MemRefType>(fnType.getInput(4)), sizes, align);

  Value zero = c(0), one = c(1);
  scf::ParallelOp::create(
      rewriter, loc, ValueRange{zero, zero, zero},
      ValueRange{batch, splits, c(allHeads ? 1 : hkv)},
      ValueRange{one, one, one},
      [&](OpBuilder &nb, Location nloc, ValueRange ivs) {
        SmallVector<Value> args(qkv);
        args.append({partO, partLse, ivs[0], ivs[2], zero});
        args.append(indexArgs.begin(), indexArgs.end());
        Value begin =
            arith::AddIOp::create(nb, nloc, first, mul(ivs[1], perSplit));
        args.append({ivs[1], splits, begin,
                     arith::AddIOp::create(nb, nloc, begin, perSplit)});
        func::CallOp::create(nb, nloc, tileFn, args);
      });
  scf::ParallelOp::create(
      rewriter, loc, ValueRange{zero, zero},
      ValueRange{batch, c(qType.getDimSize(1))}, ValueRange{one, one},
      [&](OpBuilder &nb, Location nloc, ValueRange ivs) {
        func::CallOp::create(nb, nloc, mergeFn,
                             ValueRange{partO, partLse, results.first,
                                        results.second, ivs[0], ivs[1],
                                        splits});
      });
}

/// A plan with heavy query tiles (KeyTileParts): the tables `prefix`_calls
/// and `prefix`_merges, an scf.parallel over (b, h, call) running the tile
/// function on each call (a whole query tile or a part of a heavy one), then
/// one over (b, h, heavy tile) merging each heavy tile's parts by their LSE.
static void buildPartLoops(PatternRewriter &rewriter, AttentionOpInterface op,
                           func::FuncOp tileFn, func::FuncOp mergeFn,
                           ArrayRef<Value> callArgs, const KeyTileParts &parts,
                           StringRef prefix, MemRefType partOType,
                           MemRefType partLseType, int64_t rows) {
  Location loc = op.getLoc();
  auto module = op->getParentOfType<ModuleOp>();
  auto c = [&](int64_t x) -> Value {
    return arith::ConstantIndexOp::create(rewriter, loc, x);
  };
  // The parts' normalized O [B, Hq, slots * Br, Dv] and LSE, f32.
  Value q = callArgs[0];
  Value batch = memref::DimOp::create(rewriter, loc, q, 0);
  Value heads = memref::DimOp::create(rewriter, loc, q, 1);
  SmallVector<Value> sizes = {batch, heads, c(parts.numSlots * rows)};
  auto align = rewriter.getI64IntegerAttr(64);
  Value partO = memref::AllocOp::create(rewriter, loc, partOType, sizes, align);
  Value partLse =
      memref::AllocOp::create(rewriter, loc, partLseType, sizes, align);

  // scf.parallel over (b, h, entry) of the constant table `suffix` (`width`
  // i32 fields per entry), calling `fn` with `args(b, h, fields)`.
  auto overTable =
      [&](StringRef suffix, ArrayRef<int32_t> values, int64_t width,
          func::FuncOp fn,
          function_ref<SmallVector<Value>(ValueRange, ValueRange)> args) {
        std::string name = (prefix + suffix).str();
        declareConstantTable(module, loc, name, values);
        Value zero = c(0), one = c(1);
        scf::ParallelOp::create(
            rewriter, loc, ValueRange{zero, zero, zero},
            ValueRange{batch, heads, c(values.size() / width)},
            ValueRange{one, one, one},
            [&](OpBuilder &nb, Location nloc, ValueRange ivs) {
              Value table = memref::GetGlobalOp::create(
                  nb, nloc,
                  MemRefType::get({int64_t(values.size())}, nb.getI32Type()),
                  name);
              Value first = arith::MulIOp::create(nb, nloc, ivs[2], c(width));
              SmallVector<Value> fields;
              for (int64_t f = 0; f < width; ++f)
                fields.push_back(arith::IndexCastOp::create(
                    nb, nloc, nb.getIndexType(),
                    memref::LoadOp::create(nb, nloc, table,
                                           ValueRange{arith::AddIOp::create(
                                               nb, nloc, first, c(f))})));
              func::CallOp::create(nb, nloc, fn,
                                   args(ivs.take_front(2), fields));
            });
      };
  // (qt, begin, end, slot): the tile function on (b, h, qt) with the partial
  // buffers, begin, end and slot.
  overTable("_calls", parts.calls, 4, tileFn, [&](ValueRange bh, ValueRange f) {
    SmallVector<Value> args(callArgs);
    args.append({bh[0], bh[1], f[0], partO, partLse, f[1], f[2], f[3]});
    return args;
  });
  // (qt, firstSlot, numParts): the merge into O and LSE.
  overTable("_merges", parts.merges, 3, mergeFn,
            [&](ValueRange bh, ValueRange f) {
              return SmallVector<Value>{partO,       partLse, callArgs[3],
                                        callArgs[4], bh[0],   bh[1],
                                        f[0],        f[1],    f[2]};
            });
}

/// Rewrites one attention op (sattn.attention, sattn.paged_attention) into
/// buffers, an scf.parallel over (batch, head, query tile) and calls of its
/// tile function.
struct AttentionToLoops
    : public OpInterfaceRewritePattern<AttentionOpInterface> {
  AttentionToLoops(MLIRContext *ctx, VectorShape vec)
      : OpInterfaceRewritePattern(ctx), vec(vec) {}
  VectorShape vec;

  /// What the host function's sattn.cpu_kernels says about this op.
  static void appendFacts(Operation *op, TileSizes tiles, int64_t spaces,
                          int64_t packedHeads, bool splitKeys) {
    MLIRContext *ctx = op->getContext();
    appendKernelFacts(
        op, "sattn.cpu_kernels",
        CpuKernelAttr::get(ctx, TileAttr::get(ctx, tiles.rows, tiles.keys),
                           spaces, packedHeads, splitKeys));
  }

  LogicalResult matchAndRewrite(AttentionOpInterface op,
                                PatternRewriter &rewriter) const override {
    auto paged = dyn_cast<PagedAttentionOp>(op.getOperation());
    auto module = op->getParentOfType<ModuleOp>();
    if (!module)
      return rewriter.notifyMatchFailure(op, "not inside a module");
    TileSizes tiles = getTileSizes(op, {32, 64});
    if (tiles.rows % vec.lanes != 0 || tiles.rows % kRowChunk != 0)
      return op->emitOpError("'sattn.tile' rows must be a multiple of ")
             << std::max<int64_t>(vec.lanes, kRowChunk) << ", got "
             << tiles.rows;
    // The tile's scratch (Q^T, S, the O accumulator, row statistics) lives
    // on the stack of each thread; the head dims unroll into the code.
    int64_t d = op.getHeadDim(), dv = op.getValueHeadDim();
    auto kType = cast<RankedTensorType>(op->getOperand(1).getType());
    auto varlen = dyn_cast<VarlenAttentionOp>(op.getOperation());
    if (d > kMaxHeadDim || dv > kMaxHeadDim)
      return op->emitOpError("head dims D = ")
             << d << ", Dv = " << dv << " exceed the CPU kernel's limit of "
             << kMaxHeadDim;
    int64_t scratchBytes =
        4 * tiles.rows * (d + llvm::alignTo(tiles.keys, 8) + dv + 3);
    if (scratchBytes > kMaxScratchBytes)
      return op->emitOpError("'sattn.tile' = <rows = ")
             << tiles.rows << ", keys = " << tiles.keys << "> with D = " << d
             << ", Dv = " << dv << " needs " << scratchBytes
             << " bytes of scratch per thread; at most " << kMaxScratchBytes;

    // Decode (static Lq, heads): the G = Hq / Hkv query heads of a key/value
    // head share one tile when their G * Lq rows fit, so each K/V tile is
    // read once per group; the tile shrinks to those rows (whole vectors).
    auto qType = op.getQuery().getType();
    int64_t hq = qType.getDimSize(1), lq = qType.getDimSize(2);
    int64_t hkv = kType.getDimSize(paged ? 2 : 1);
    bool packed = !varlen && !ShapedType::isDynamic(hq) &&
                  !ShapedType::isDynamic(lq) && !ShapedType::isDynamic(hkv) &&
                  hkv > 0 && lq > 0 && hq / hkv > 1 &&
                  (hq / hkv) * lq <= tiles.rows;
    if (packed)
      tiles.rows = llvm::alignTo((hq / hkv) * lq, vec.lanes);

    // Strided and dilated masks: dense problems on every stride-th row.
    // (ALiBi's |p - k| is not a function of the residue positions' shift.)
    if (auto contiguous = dyn_cast<AttentionOp>(op.getOperation());
        contiguous && !packed && !op.getAlibiSlopes())
      if (std::optional<SmallVector<IterationSpace>> spaces =
              splitIterationSpaces(op.getMask())) {
        appendFacts(op, tiles, spaces->size(), 1, false);
        buildIterationSpaceLoops(rewriter, contiguous, module, *spaces, tiles,
                                 vec);
        return success();
      }

    std::string name = getFreshSymbolName(module, "__sattn_tile_");
    op.getMask().declareTables(module);
    TileFunctionBuilder builder(op, tiles, vec);
    if (paged)
      builder.pageSize = paged.getPageSize();
    if (packed) {
      builder.split = true;
      builder.writeLse = true;
      // Paged: every KV head in one call, when their scratch (queries,
      // accumulators, running m and l, scores of up to Bc + 3 keys) fits.
      int64_t perHeadBytes =
          4 * tiles.rows *
          (llvm::alignTo(d, vec.lanes) + llvm::alignTo(dv, vec.lanes) + 3 +
           tiles.keys + 3);
      if (paged && hkv * perHeadBytes <= kMaxScratchBytes / 2) {
        builder.allHeads = true;
        builder.packedHeads = hkv;
      }
      builder.packedGroup = hq / hkv;
      // Keys per dot-product step: keys x rows accumulators plus the rows'
      // Q vectors within the register budget, or one key more ("wide": more
      // of each row in flight). Measured (decode Hkv = 8, D = 128, 2
      // threads): on AVX2 (16 registers, wide spills) contiguous f16/bf16
      // K/V gain (10.4 vs 11.6 ms), f32 (16.0 vs 19.4) and paged f16 (11.2
      // vs 12.2) lose; on AVX-512 (32 registers, no spill) paged f16 gains
      // (6.6-6.9 vs 7.8-8.8 ms) and contiguous f32 a little (9.6-11.4 vs
      // 9.8-12.3), paged f32 does not (13.2-14.5 vs 11.1-13.8).
      int64_t rowsUsed = (hq / hkv) * lq;
      bool halfKV = !qType.getElementType().isF32();
      bool wide = vec.lanes >= 16 ? halfKV || !paged : halfKV && !paged;
      builder.dotKeys = std::clamp<int64_t>(
          (vec.accBudget - (wide ? 0 : rowsUsed)) / rowsUsed, 1, 4);
      builder.packedLength = lq;
    }
    std::optional<KeyTileParts> parts;
    if (auto contiguous = dyn_cast<AttentionOp>(op.getOperation());
        contiguous && !packed) {
      builder.plan = declareStaticTilePlan(module, contiguous, tiles.rows,
                                           tiles.keys, name);
      if (builder.plan)
        parts = planKeyTileParts(builder.plan->offsetValues, kMinPartTiles);
      builder.parts = parts.has_value();
    }
    appendFacts(op, tiles, 1, std::max<int64_t>(builder.packedGroup, 1),
                builder.split || builder.parts);
    func::FuncOp tileFn = builder.build(module, name);
    func::FuncOp mergeFn;
    if (builder.split)
      mergeFn = builder.buildMerge(module, name + "_merge");
    if (builder.parts)
      mergeFn = builder.buildPartsMerge(module, name + "_merge");
    if (varlen) {
      buildVarlenLoop(rewriter, varlen, builder, tileFn, tiles.rows);
      return success();
    }

    Location loc = op.getLoc();
    auto toBuffer = [&](Value tensor, MemRefType kernelType) -> Value {
      return memref::CastOp::create(rewriter, loc, kernelType,
                                    getInputBuffer(rewriter, loc, tensor));
    };
    Value q = toBuffer(op.getQuery(), builder.inputType(d));
    Value k = toBuffer(op->getOperand(1), builder.inputType(d));
    Value v = toBuffer(op->getOperand(2), builder.inputType(dv));
    SmallVector<Value> callArgs = {q, k, v};

    // Result buffers, with the query's dynamic sizes.
    auto qDim = [&](int64_t i) -> Value {
      return memref::DimOp::create(rewriter, loc, q, i);
    };
    auto align = rewriter.getI64IntegerAttr(64);
    Value oBuf =
        allocResultBuffer(rewriter, loc, op.getOutput().getType(), q, align);
    Value lseBuf = allocLseOrDummy(rewriter, loc, op, q, align);
    Value oArg =
        memref::CastOp::create(rewriter, loc, builder.inputType(dv), oBuf);
    Value lseArg =
        memref::CastOp::create(rewriter, loc, builder.lseType(), lseBuf);
    callArgs.append({oArg, lseArg});
    SmallVector<Value> indexArgs; // paged: block table, seq_lens
    if (paged) {
      int64_t dyn = ShapedType::kDynamic;
      auto i32 = rewriter.getI32Type();
      indexArgs = {
          toBuffer(paged.getBlockTable(), MemRefType::get({dyn, dyn}, i32)),
          toBuffer(paged.getSeqLens(), MemRefType::get({dyn}, i32))};
    }

    if (builder.split) {
      buildSplitDecode(rewriter, op, tileFn, mergeFn,
                       ArrayRef<Value>(callArgs).take_front(3), indexArgs,
                       {oArg, lseArg}, hkv, tiles.keys, builder.allHeads);
      replaceWithResultBuffers(rewriter, op, oBuf, lseBuf);
      return success();
    }

    if (parts) {
      buildPartLoops(rewriter, op, tileFn, mergeFn, callArgs, *parts,
                     name + "_parts", builder.partialType(false),
                     builder.partialType(true), tiles.rows);
      replaceWithResultBuffers(rewriter, op, oBuf, lseBuf);
      return success();
    }

    // scf.parallel (b, h, qt) in (B, Hq, ceil(Lq / Br)).
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    Value numQueryTiles = arith::CeilDivUIOp::create(
        rewriter, loc, qDim(2),
        arith::ConstantIndexOp::create(rewriter, loc, tiles.rows));
    scf::ParallelOp::create(
        rewriter, loc, ValueRange{zero, zero, zero},
        ValueRange{qDim(0), qDim(1), numQueryTiles}, ValueRange{one, one, one},
        [&](OpBuilder &nb, Location nloc, ValueRange ivs) {
          // Query tiles in zigzag order (0, n-1, 1, n-2, ...): with causal
          // masks the work per tile grows with qt, and each thread's
          // contiguous share of the iterations then gets as much as another's.
          Value two = arith::ConstantIndexOp::create(nb, nloc, 2);
          Value half = arith::DivUIOp::create(nb, nloc, ivs[2], two);
          Value odd = arith::CmpIOp::create(
              nb, nloc, arith::CmpIPredicate::ne,
              arith::RemUIOp::create(nb, nloc, ivs[2], two), zero);
          Value fromEnd = arith::SubIOp::create(
              nb, nloc, arith::SubIOp::create(nb, nloc, numQueryTiles, one),
              half);
          Value qt = arith::SelectOp::create(nb, nloc, odd, fromEnd, half);
          SmallVector<Value> args(callArgs);
          args.append({ivs[0], ivs[1], qt});
          args.append(indexArgs);
          func::CallOp::create(nb, nloc, tileFn, args);
        });

    replaceWithResultBuffers(rewriter, op, oBuf, lseBuf);
    return success();
  }
};

struct ConvertSAttnToLoopsPass
    : public sattn::impl::ConvertSAttnToLoopsBase<ConvertSAttnToLoopsPass> {
  using Base::Base;

  /// Bad options fail when the pipeline is parsed, before any IR is touched.
  LogicalResult initializeOptions(
      StringRef options,
      function_ref<LogicalResult(const Twine &)> errorHandler) override {
    if (failed(Base::initializeOptions(options, errorHandler)))
      return failure();
    if (vectorBits != 0 && vectorBits != 256 && vectorBits != 512)
      return errorHandler("-convert-sattn-to-loops: vector-bits must be 0 "
                          "(the host's widest), 256 or 512, got " +
                          Twine(vectorBits));
    if (bf16Dot != "host" && bf16Dot != "on" && bf16Dot != "off")
      return errorHandler("-convert-sattn-to-loops: bf16-dot must be host, "
                          "on or off, got '" +
                          Twine(bf16Dot) + "'");
    return success();
  }

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    std::optional<bool> dot;
    if (bf16Dot != "host")
      dot = bf16Dot == "on";
    populateSAttnToLoopsPatterns(patterns, vectorBits, dot);
    if (failed(rewriteEachAttention(
            getOperation(), FrozenRewritePatternSet(std::move(patterns)))))
      signalPassFailure();
  }
};

} // namespace

int64_t mlir::sattn::getHostVectorBits() {
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  return features.lookup("avx512f") ? 512 : 256;
}

bool mlir::sattn::hostHasBF16Dot() {
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  return features.lookup("avx512bf16") && features.lookup("avx512vl");
}

void mlir::sattn::populateSAttnToLoopsPatterns(RewritePatternSet &patterns,
                                               int64_t vectorBits,
                                               std::optional<bool> bf16Dot) {
  if (vectorBits == 0)
    vectorBits = getHostVectorBits();
  VectorShape vec = VectorShape::forBits(
      vectorBits, bf16Dot.has_value() ? *bf16Dot : hostHasBF16Dot());
  patterns.add<AttentionToLoops>(patterns.getContext(), vec);
  populateAttentionGradToLoopsPatterns(patterns, vec);
}
