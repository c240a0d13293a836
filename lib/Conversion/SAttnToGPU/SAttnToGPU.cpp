//===- SAttnToGPU.cpp - sattn.attention to a tile-skipping GPU kernel -----===//
//
// One kernel per sattn.attention, FlashAttention-2 style: a thread block per
// (query tile, head, batch). Each warp owns rows of the query tile and keeps
// their running max m, sum l and output accumulators in registers. Two ways
// to compute a tile:
//
// Tensor cores (f16/bf16, D % 16 == 0, Dv % 16 == 0, tiles within the
// dynamic shared memory limit): Br = 128, Bc = 64, 8 warps of 16 rows,
// mma.sync m16n8k16 with f32 accumulators (the fragment layouts of the PTX
// ISA; g = lane / 4, t = lane % 4). Dynamic shared memory:
//   Ks [2][64][D + 8], Vs [2][64][Dv + 8]  T, two stages (padded rows: the
//                                          ldmatrix rows hit 32 banks)
//   used [8][64]                           i32, PARTIAL tiles' kept keys
//   Qs [128][D + 8] aliases Ks: staged once, then held as A fragments
// Key tile i + 1 is copied with cp.async into the other stage while tile i
// is computed; one barrier per tile.
//   S = Q K^T: A = Q fragments (registers), B = ldmatrix.x4 of Ks
//   the thread holds S[g or g + 8][8 j + 2 t + {0, 1}]; row max and row sum
//   reduce over its 16 values per row, then over the 4 lanes of its quad
//   O += P V: A = P (the S accumulators rounded to T), B = ldmatrix.x4.trans
//   of Vs
//
// SIMT (f32, or shapes the tensor-core path does not take): Br <= 32, Bc =
// 32, 4 warps, one key per lane, static shared memory:
//   Qs [Br][D]        f32  scale * log2(e) * Q of the tile (broadcast reads)
//   Ks [32][D + 1]    T    keys of the tile (padded: lanes read rows
//                          without bank conflicts)
//   Vs [32][Dv up 32] T    values of the tile (lane t owns columns t + 32 j)
// row max and row sum are warp shuffles; P reaches every lane through
// shuffles too.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilderBase.h"
#include "sattn/Conversion/Utils/AttentionLowering.h"
#include "sattn/Dialect/SAttn/IR/SAttnOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include <cmath>
#include <limits>

namespace mlir::sattn {
#define GEN_PASS_DEF_CONVERTSATTNTOGPU
#include "sattn/Conversion/Passes.h.inc"
} // namespace mlir::sattn

using namespace mlir;
using namespace mlir::sattn;

namespace {

// SIMT kernel: 4 warps, Bc = 32 (one key per lane), static shared memory.
constexpr int64_t kSimtWarps = 4;
constexpr int64_t kSimtKeys = 32;
// Tensor-core kernel: 8 warps of 16 rows, Bc = 64, dynamic shared memory.
constexpr int64_t kMmaWarps = 8;
constexpr int64_t kMmaRows = 16 * kMmaWarps;
constexpr int64_t kMmaKeys = 64;
constexpr int64_t kMmaPad = 8; // elements added to each shared row

/// Shared memory of the key-used flags of PARTIAL tiles: one i32 per warp
/// and key of the tile.
int64_t keyUsedBytes(int64_t warps, int64_t keys) { return warps * keys * 4; }

/// Shared memory of the SIMT tiles for Br query rows.
int64_t simtSharedBytes(int64_t rows, Type elem, int64_t d, int64_t dv) {
  int64_t es = elem.getIntOrFloatBitWidth() / 8;
  return rows * d * 4 + kSimtKeys * (d + 1) * es +
         kSimtKeys * roundUp(dv, kWarpSize) * es +
         keyUsedBytes(kSimtWarps, kSimtKeys);
}

/// Dynamic shared memory of the tensor-core kernel: two stages of Ks and Vs
/// (Qs, 128 rows, fits in the two Ks stages), then the key-used flags.
int64_t mmaSharedBytes(Type elem, int64_t d, int64_t dv) {
  int64_t es = elem.getIntOrFloatBitWidth() / 8;
  return 2 * kMmaKeys * (d + kMmaPad + dv + kMmaPad) * es +
         keyUsedBytes(kMmaWarps, kMmaKeys);
}

/// A heavy query tile (global rows) is cut into parts when it has more than
/// this many key tiles and twice the mean (planKeyTileParts): fewer than the
/// CPU's 32, as a GPU has many more SMs than a CPU has cores.
constexpr int64_t kGpuMinPartTiles = 16;

/// How the kernel of an op computes.
struct GpuTileShape {
  int64_t rows, keys, warps;
  bool tensorCores;
  int64_t dynamicSharedBytes; // 0: static shared memory only
};

/// Tensor cores when allowed, f16/bf16, D % 16 == 0, Dv % 16 == 0 and the
/// tiles fit kGpuMaxDynamicSharedBytes; else SIMT with Br the largest of 32,
/// 16, 8, 4 whose tiles fit kGpuSharedMemoryBytes; nullopt if none does.
std::optional<GpuTileShape> getGpuTileShape(Type elem, int64_t d, int64_t dv,
                                            bool tensorCores) {
  if (tensorCores && (elem.isF16() || elem.isBF16()) && d % 16 == 0 &&
      dv % 16 == 0 && mmaSharedBytes(elem, d, dv) <= kGpuMaxDynamicSharedBytes)
    return GpuTileShape{kMmaRows, kMmaKeys, kMmaWarps, true,
                        mmaSharedBytes(elem, d, dv)};
  for (int64_t rows : {32, 16, 8, 4})
    if (simtSharedBytes(rows, elem, d, dv) <= kGpuSharedMemoryBytes)
      return GpuTileShape{rows, kSimtKeys, kSimtWarps, false, 0};
  return std::nullopt;
}

/// Builds the kernel of one sattn.attention.
class KernelBuilder : public KernelBuilderBase {
public:
  KernelBuilder(AttentionOpInterface op, GpuTileShape shape)
      : KernelBuilderBase(op.getContext(), op.getLoc(),
                          op.getQuery().getType().getElementType(),
                          shape.warps * kWarpSize),
        op(op), rows(shape.rows), keysPerTile(shape.keys),
        numWarps(shape.warps), rowsPerWarp(shape.rows / numWarps),
        mma(shape.tensorCores), mods(op) {
    headDim = op.getHeadDim();
    valueDim = op.getValueHeadDim();
    if (auto paged = dyn_cast<PagedAttentionOp>(op.getOperation()))
      pageSize = paged.getPageSize();
    varlen = isa<VarlenAttentionOp>(op.getOperation());
    valueCols = roundUp(valueDim, kWarpSize) / kWarpSize;
    mask = op.getMask();
    band = mask.getBandForm();
    if (band && band->step != 1)
      band.reset();
    cellKeys = keyCellWidth(mask, keysPerTile);
    foldScale = mma && !mods.any() && op.getScaleValue() > 0;
  }

  gpu::GPUFuncOp build(gpu::GPUModuleOp module, StringRef name);

  std::optional<TilePlanTables> plan;
  /// Heavy query tiles cut into parts: the grid's x runs the calls, each a
  /// whole query tile or a part of a heavy one (docs/GPUCodegen.md).
  std::optional<KeyTileParts> parts;
  /// sattn.paged_attention: tokens per page (K and V are the flat caches
  /// [P, page, Hkv, D]; the kernel also takes the block table, seq_lens, P
  /// and M); 0 for contiguous K and V.
  int64_t pageSize = 0;
  /// sattn.varlen_attention: Q, K, V, O are the token-major [T, H, D]
  /// tensors, LSE [Hq, Tq]; the kernel also takes cu_seqlens_q and
  /// cu_seqlens_k, and Lq, Lk are Tq and Tk.
  bool varlen = false;

private:
  /// Tensor cores: copies the K and V rows of key tile `keyTile` into stage
  /// `stage` (index) of Ks and Vs; `full` (i1): the tile is FULL.
  void copyKeyTile(Value keyTile, Value stage, Value full);
  /// Whether a key tile's copy keeps the rows of key `key` (index) rather
  /// than zeros: key < Lk and, in a PARTIAL tile (`full` false) of a band,
  /// some row of the query tile keeps the key (the kept keys of the rows are
  /// then one range).
  Value isKeyStaged(Value key, Value full);
  /// The row of key `key` (0 <= key < Lk) in K viewed as [rows, D] (and V as
  /// [rows, Dv]): (b * Hkv + kvHead) * Lk + key, for varlen (keyStart + key)
  /// * Hkv + kvHead, or for a paged cache
  /// (block_table[b, key / page] * page + key mod page) * Hkv + kvHead, the
  /// page 0 when the entry is outside [0, P) (only keys no row keeps can
  /// meet one).
  Value keyRowIndex(Value key);
  void buildBody(gpu::GPUFuncOp fn);
  /// Tensor cores: the key tile loop, each tile's copy started during the
  /// previous one.
  scf::ForOp buildPipelinedLoop(const TileSequence &seq, ValueRange init);
  /// One non-EMPTY key tile; returns the new (m, l, acc) of the lane.
  SmallVector<Value> buildKeyTile(Value keyTile, ValueRange state, Value full);
  /// PARTIAL tiles: Vs rows of keys that no row of the tile keeps become 0.
  void zeroUnusedValues(Value k0);
  /// The base-2 score t of query position p (i64) and key `key` (index)
  /// after softcap and ALiBi.
  Value modifyScore(Value t, Value p, Value key);
  SmallVector<Value> buildSimtTile(Value k0, ValueRange state, Value full);
  SmallVector<Value> buildMmaTile(Value k0, ValueRange state, Value full);
  /// O = acc / l and LSE of the SIMT and tensor-core kernels.
  void buildOutput(ValueRange state, Value numRows);
  void buildSimtOutput(ValueRange state, Value numRows);
  void buildMmaOutput(ValueRange state, Value numRows);
  /// Query row `r` of the tile, if r < numRows: O through storeO(offset of
  /// the row in O, 1 / l or 0 for an empty row), and LSE where `writesLse`.
  void buildRowOutput(Value r, Value numRows, Value m, Value l, Value writesLse,
                      function_ref<void(Value, Value)> storeO);

  /// The running state of the kernel: the number of (m, l) pairs per lane
  /// (rows per warp for SIMT, 2 for tensor cores) and accumulators.
  int64_t numRowStates() const { return mma ? 2 : rowsPerWarp; }

  /// The constant table (name, size) of the query tiles in the order the
  /// blocks run them, heaviest first, when the plan's order is not simply
  /// the last tile first; with parts, of the calls (6 entries per call:
  /// query tile, plan entries [begin, end), slot, first slot and number of
  /// parts of its tile).
  std::optional<std::pair<std::string, int64_t>> orderTable;
  /// A part's slot (-1: a whole tile), its tile's first slot and parts.
  Value slot, firstSlot, numParts;
  /// Where the output builders write: O, or the partials (f32) of a part.
  bool toPartials = false;
  /// With parts: the block's rows of the partials and its counters.
  Value partials, counters, partBase, counterBase;
  /// A part's output: its O rows (normalized, f32) and base-2 LSE into its
  /// slot of the partials; the last part of its tile to finish merges them
  /// all into O and LSE.
  void buildPartOutput(ValueRange state, Value numRows);

  AttentionOpInterface op;
  int64_t rows, keysPerTile, numWarps, rowsPerWarp;
  bool mma;
  /// Tensor cores without score modifiers and with scale > 0: S, m stay
  /// unscaled and p = 2^(S c - m c) is one FMA (c = scale log2(e)).
  bool foldScale = false;
  int64_t headDim, valueDim, valueCols;
  MaskAttrInterface mask;
  ScoreModifiers mods;
  /// The mask as a band of consecutive diagonals (step 1), if it is one:
  /// PARTIAL tiles then zero the K and V rows of keys no row keeps as they
  /// copy them, rather than in a pass over Vs (zeroUnusedValues).
  std::optional<BandForm> band;
  /// The runs of keys the mask is constant on in a tile (keyCellWidth): the
  /// scores of PARTIAL tiles evaluate it once per run (bigbird, random
  /// blocks, block layouts).
  int64_t cellKeys;

  // Values of the kernel being built.
  Value q, k, v, o, lse, lq, lk, lk64, q0, p0, p1, warpRow0;
  Value keptFirst, keptEnd; // band: the keys rows p0 ... p1 - 1 keep (i64)
  Value qBase, oBase, lseBase, kSlice, batch, kvHead, numKvHeads;
  Value qRowStride, oRowStride; // elements between query rows of Q and O
  Value keyStart;               // varlen: the sequence's first key
  Value blockTable, numPages, maxPages; // paged only
  Value qs, ks, vs, keyUsed;
  // Tensor cores: ks, vs are [2][Bc][D + 8] (two stages); the tile being
  // computed is in stage `stage` (index).
  Value stage;
  Value headSlope;        // ALiBi: the base-2 slope of the block's query head
  Value quadRow, quadCol; // g = lane / 4 and t = lane % 4 (tensor cores)
  SmallVector<SmallVector<Value, 4>> qFrags; // A fragments of Q, per 16 of D
};

void KernelBuilder::copyKeyTile(Value keyTile, Value stageIdx, Value full) {
  // Ks, Vs[stage] = K, V[b, g, k0 : k0 + Bc, :]. In the tile that reaches
  // past Lk (the last), keys past Lk are zeros (their source row is the last
  // key's, never read), and so are the keys no row keeps in PARTIAL tiles
  // of a band; the others copy every row as it is.
  Value k0 = mul(keyTile, idx(keysPerTile));
  // Rows of consecutive keys are `keyRows` rows of [rows, D] apart (for
  // contiguous and varlen K and V).
  auto copy = [&](function_ref<Value(Value)> keyOf,
                  function_ref<Value(Value)> keepKey, Value keyRows) {
    for (auto [src, tile, dim] :
         {std::tuple(k, ks, headDim), std::tuple(v, vs, valueDim)}) {
      int64_t width = dim; // a lambda may not capture a structured binding
      copyRowsAsync(
          src, tile, mul(stageIdx, idx(keysPerTile * (width + kMmaPad))),
          width + kMmaPad, keysPerTile, width,
          [&](Value c) { return mul(keyRowIndex(keyOf(c)), idx(width)); },
          keepKey, keyRows ? mul(keyRows, idx(width)) : Value());
    }
  };
  auto copyLast = [&] {
    Value lastKey = sub(lk, idx(1));
    copy([&](Value c) { return minIdx(add(k0, c), lastKey); },
         [&](Value c) { return isKeyStaged(add(k0, c), full); }, Value());
  };
  if (pageSize) { // a table lookup per row either way
    copyLast();
    return;
  }
  Value last = lt(lk, add(k0, idx(keysPerTile)));
  if (band)
    last = arith::OrIOp::create(b, loc, last, negate(full));
  auto ifLast = scf::IfOp::create(b, loc, last, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifLast.thenBlock());
  copyLast();
  b.setInsertionPointToStart(ifLast.elseBlock());
  copy([&](Value c) { return add(k0, c); }, nullptr,
       varlen ? numKvHeads : idx(1));
}

Value KernelBuilder::isKeyStaged(Value key, Value full) {
  Value inKeys = lt(key, lk);
  if (!band)
    return inKeys;
  Value k = toI64(key);
  Value atOrAfterFirst =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, k, keptFirst);
  Value beforeEnd =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, k, keptEnd);
  Value kept = arith::AndIOp::create(b, loc, atOrAfterFirst, beforeEnd);
  return arith::AndIOp::create(b, loc, inKeys,
                               arith::OrIOp::create(b, loc, full, kept));
}

Value KernelBuilder::keyRowIndex(Value key) {
  if (varlen)
    return add(mul(add(keyStart, key), numKvHeads), kvHead);
  if (!pageSize)
    return add(kSlice, key);
  Value page = arith::IndexCastOp::create(
      b, loc, b.getIndexType(),
      load(blockTable,
           {add(mul(batch, maxPages),
                arith::DivUIOp::create(b, loc, key, idx(pageSize)))}));
  Value valid = arith::AndIOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, page, idx(0)),
      lt(page, numPages));
  page = arith::SelectOp::create(b, loc, valid, page, idx(0));
  return add(mul(add(mul(page, idx(pageSize)),
                     arith::RemUIOp::create(b, loc, key, idx(pageSize))),
                 numKvHeads),
             kvHead);
}

gpu::GPUFuncOp KernelBuilder::build(gpu::GPUModuleOp module, StringRef name) {
  if (parts) {
    // The calls by descending number of key tiles (ties: the last tile
    // first, then its parts in order), each with its tile's first slot and
    // number of parts.
    SmallVector<std::array<int32_t, 6>> calls;
    for (size_t i = 0; i < parts->calls.size(); i += 4) {
      auto [qt, begin, end, slot] =
          std::array<int32_t, 4>{parts->calls[i], parts->calls[i + 1],
                                 parts->calls[i + 2], parts->calls[i + 3]};
      int32_t first = -1, count = 0;
      for (size_t m = 0; m < parts->merges.size(); m += 3)
        if (parts->merges[m] == qt)
          std::tie(first, count) =
              std::pair(parts->merges[m + 1], parts->merges[m + 2]);
      calls.push_back({qt, begin, end, slot, first, count});
    }
    llvm::sort(calls, [](const auto &x, const auto &y) {
      return std::tuple(x[2] - x[1], x[0], -x[1]) >
             std::tuple(y[2] - y[1], y[0], -y[1]);
    });
    SmallVector<int32_t> table;
    for (const auto &call : calls)
      table.append(call.begin(), call.end());
    orderTable = {(name + "_calls").str(), int64_t(table.size())};
    declareConstantTable(module, loc, orderTable->first, table);
  } else if (plan) {
    // Query tiles by descending number of key tiles, ties the last first; a
    // table only where that is not simply the last tile first.
    ArrayRef<int32_t> offsets = plan->offsetValues;
    SmallVector<int32_t> lastFirst(
        llvm::reverse(llvm::seq<int32_t>(0, int32_t(offsets.size()) - 1)));
    SmallVector<int32_t> order = lastFirst;
    llvm::sort(order, [&](int32_t x, int32_t y) {
      return std::pair(offsets[x + 1] - offsets[x], x) >
             std::pair(offsets[y + 1] - offsets[y], y);
    });
    if (order != lastFirst) {
      orderTable = {(name + "_order").str(), int64_t(order.size())};
      declareConstantTable(module, loc, orderTable->first, order);
    }
  }
  Type index = b.getIndexType();
  // (Q, K, V, O, LSE, Hq, Hkv, Lq, Lk); paged: Lk is unused and the block
  // table, seq_lens, P and M follow; varlen: Lq, Lk are Tq, Tk and
  // cu_seqlens_q, cu_seqlens_k follow.
  SmallVector<Type> args = {flatType(elemType),
                            flatType(elemType),
                            flatType(elemType),
                            flatType(elemType),
                            flatType(f32),
                            index,
                            index,
                            index,
                            index};
  if (pageSize)
    args.append(
        {flatType(b.getI32Type()), flatType(b.getI32Type()), index, index});
  if (varlen)
    args.append({flatType(b.getI32Type()), flatType(b.getI32Type())});
  if (parts) // partials, part counters
    args.append({flatType(f32), flatType(b.getI32Type())});
  auto workgroup =
      gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  auto shared = [&](ArrayRef<int64_t> shape, Type elem) -> Type {
    return MemRefType::get(shape, elem, MemRefLayoutAttrInterface(), workgroup);
  };
  // SIMT: static shared tiles; tensor cores: views of the dynamic shared
  // memory (buildBody).
  SmallVector<Type> tiles;
  if (!mma)
    tiles = {shared({rows, headDim}, f32),
             shared({keysPerTile, headDim + 1}, elemType),
             shared({keysPerTile, valueCols * kWarpSize}, elemType),
             shared({numWarps, keysPerTile}, b.getI32Type())};
  gpu::GPUFuncOp fn =
      createKernel(b, loc, module, name, args, tiles, threads);
  buildBody(fn);
  return fn;
}

void KernelBuilder::buildBody(gpu::GPUFuncOp fn) {
  q = fn.getArgument(0);
  k = fn.getArgument(1);
  v = fn.getArgument(2);
  o = fn.getArgument(3);
  lse = fn.getArgument(4);
  Value hq = fn.getArgument(5), hkv = fn.getArgument(6);
  lq = fn.getArgument(7);
  lk = fn.getArgument(8);
  numKvHeads = hkv;
  auto workgroup =
      gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  if (mma) {
    // [Ks stage 0, 1][Vs stage 0, 1][used], Qs over the Ks stages.
    Value smem = gpu::DynamicSharedMemoryOp::create(
        b, loc,
        MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                        MemRefLayoutAttrInterface(), workgroup));
    int64_t es = elemType.getIntOrFloatBitWidth() / 8, offset = 0;
    auto view = [&](ArrayRef<int64_t> shape, Type elem, int64_t bytes) {
      Value tile = memref::ViewOp::create(
          b, loc,
          MemRefType::get(shape, elem, MemRefLayoutAttrInterface(), workgroup),
          smem, idx(offset), ValueRange{});
      offset += bytes;
      return tile;
    };
    int64_t kBytes = 2 * keysPerTile * (headDim + kMmaPad) * es;
    qs = view({rows, headDim + kMmaPad}, elemType, 0);
    ks = view({2, keysPerTile, headDim + kMmaPad}, elemType, kBytes);
    vs = view({2, keysPerTile, valueDim + kMmaPad}, elemType,
              2 * keysPerTile * (valueDim + kMmaPad) * es);
    keyUsed = view({numWarps, keysPerTile}, b.getI32Type(), 0);
  } else {
    qs = fn.getWorkgroupAttributions()[0];
    ks = fn.getWorkgroupAttributions()[1];
    vs = fn.getWorkgroupAttributions()[2];
    keyUsed = fn.getWorkgroupAttributions()[3];
  }

  Value one = idx(1);
  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  lane = arith::RemUIOp::create(b, loc, tid, idx(kWarpSize));
  warp = arith::DivUIOp::create(b, loc, tid, idx(kWarpSize));
  warpRow0 = mul(warp, idx(rowsPerWarp));
  // The GPU starts blocks in the order of their linear id x + X (y + Y z),
  // so that id is read as (rank, batch, head), rank outermost: rank r of
  // every head and batch starts before rank r + 1 of any, and rank r is the
  // query tile with the r-th most key tiles (heaviest first, a longest-job-
  // first schedule): from the plan's counts, else the last tile first (under
  // causal-like masks the last tiles have the most keys).
  auto gridDim = [&](gpu::Dimension d) -> Value {
    return gpu::GridDimOp::create(b, loc, d);
  };
  auto blockId = [&](gpu::Dimension d) -> Value {
    return gpu::BlockIdOp::create(b, loc, d);
  };
  // (One op per statement: the IR's order must not depend on the order in
  // which a compiler evaluates arguments.)
  Value numHeads = gridDim(gpu::Dimension::y);
  Value perRank = mul(numHeads, gridDim(gpu::Dimension::z));
  Value blockZ = blockId(gpu::Dimension::z);
  Value blockY = blockId(gpu::Dimension::y);
  Value blockRow = add(blockY, mul(numHeads, blockZ));
  Value blocksBefore = mul(gridDim(gpu::Dimension::x), blockRow);
  Value id = add(blockId(gpu::Dimension::x), blocksBefore);
  Value rank = arith::DivUIOp::create(b, loc, id, perRank);
  Value headOfBatch = arith::RemUIOp::create(b, loc, id, perRank);
  Value head = arith::RemUIOp::create(b, loc, headOfBatch, numHeads);
  batch = arith::DivUIOp::create(b, loc, headOfBatch, numHeads);
  // Entry i of the rank's row of the order table (i32 -> index).
  auto orderEntry = [&](int64_t i) -> Value {
    Value table = memref::GetGlobalOp::create(
        b, loc, MemRefType::get({orderTable->second}, b.getI32Type()),
        orderTable->first);
    int64_t width = parts ? 6 : 1;
    return arith::IndexCastOp::create(
        b, loc, b.getIndexType(),
        load(table, {add(mul(rank, idx(width)), idx(i))}));
  };
  Value queryTile = orderTable
                        ? orderEntry(0)
                        : sub(sub(gridDim(gpu::Dimension::x), one), rank);
  Value partBegin, partEnd;
  if (parts) {
    partBegin = orderEntry(1);
    partEnd = orderEntry(2);
    slot = orderEntry(3);
    firstSlot = orderEntry(4);
    numParts = orderEntry(5);
    // Rows of (batch, head) in the partials [B, Hq, slots, Br, Dv + 1] and
    // its counters [B, Hq, slots].
    Value bh = add(mul(batch, hq), head);
    partials = fn.getArgument(fn.getNumArguments() - 2);
    counters = fn.getArgument(fn.getNumArguments() - 1);
    counterBase = mul(bh, idx(parts->numSlots));
    partBase = mul(add(counterBase, slot), idx(rows * (valueDim + 1)));
  }
  if (pageSize) {
    // Lk_b = seq_lens[b], clamped to [0, M * page] (0 without pages): bad
    // index data never makes the kernel read out of bounds.
    blockTable = fn.getArgument(9);
    numPages = fn.getArgument(11);
    maxPages = fn.getArgument(12);
    Value capacity = arith::SelectOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, numPages,
                              idx(0)),
        idx(0), mul(maxPages, idx(pageSize)));
    Value len = arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                           load(fn.getArgument(10), {batch}));
    lk = minIdx(arith::MaxSIOp::create(b, loc, len, idx(0)), capacity);
  }
  if (!mods.slopes.empty())
    headSlope = mods.slopeOf(b, loc, head);
  // g(h) = h / (Hq / Hkv)
  Value group = arith::DivUIOp::create(
      b, loc, hq, arith::MaxUIOp::create(b, loc, hkv, one));
  kvHead = arith::DivUIOp::create(b, loc, head,
                                  arith::MaxUIOp::create(b, loc, group, one));
  q0 = mul(queryTile, idx(rows));
  if (varlen) {
    // Sequence b: rows [cu_q[b], cu_q[b + 1]) and keys [cu_k[b], cu_k[b +
    // 1]), clamped to [0, T] and never decreasing (memory-safe for any
    // cu_seqlens; the runtime rejects bad ones). Q, O rows are Hq * D apart;
    // LSE [Hq, Tq]. Blocks past the sequence's last query tile return.
    auto span = [&](Value cu, Value total) -> std::pair<Value, Value> {
      auto at = [&](Value i) -> Value {
        return arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                          load(cu, {i}));
      };
      auto clamp = [&](Value x, Value lo) -> Value {
        return minIdx(arith::MaxSIOp::create(b, loc, x, lo), total);
      };
      Value start = clamp(at(batch), idx(0));
      return {start, clamp(at(add(batch, one)), start)};
    };
    Value tq = lq, tk = lk;
    auto [qStart, qEnd] = span(fn.getArgument(9), tq);
    auto [kStart, kEnd] = span(fn.getArgument(10), tk);
    lq = sub(qEnd, qStart);
    lk = sub(kEnd, kStart);
    keyStart = kStart;
    qBase = mul(add(mul(qStart, hq), head), idx(headDim));
    oBase = mul(add(mul(qStart, hq), head), idx(valueDim));
    lseBase = add(mul(head, tq), qStart);
    qRowStride = mul(hq, idx(headDim));
    oRowStride = mul(hq, idx(valueDim));
    auto inSequence = scf::IfOp::create(b, loc, lt(q0, lq));
    b.setInsertionPointToStart(inSequence.thenBlock());
  } else {
    // Flat offsets of the (batch, head) slices.
    Value qSlice = mul(add(mul(batch, hq), head), lq);
    kSlice = mul(add(mul(batch, hkv), kvHead), lk);
    qBase = mul(qSlice, idx(headDim));
    oBase = mul(qSlice, idx(valueDim));
    lseBase = qSlice;
    qRowStride = idx(headDim);
    oRowStride = idx(valueDim);
  }

  Value numRows = minIdx(idx(rows), sub(lq, q0));
  // Query positions of the tile: p = i + (Lk - Lq), bottom-right aligned.
  lk64 = toI64(lk);
  p0 = arith::AddIOp::create(b, loc, toI64(q0),
                             arith::SubIOp::create(b, loc, lk64, toI64(lq)));
  p1 = arith::AddIOp::create(b, loc, p0, toI64(numRows));
  if (band) // [p0 + lo, p1 - 1 + hi] within [0, Lk)
    std::tie(keptFirst, keptEnd) =
        band::buildKeyRange(b, loc, *band, p0, p1, lk64);

  Value lastRow = sub(lq, one);
  if (mma) {
    // Qs[r][d] = Q[b, h, min(q0 + r, Lq - 1), d]; rows past Lq repeat the
    // last row and are never written. Then each warp keeps the A fragments of
    // its 16 rows in registers for the whole key loop.
    quadRow = arith::DivUIOp::create(b, loc, lane, idx(4));
    quadCol = arith::RemUIOp::create(b, loc, lane, idx(4));
    copyRowsAsync(
        q, qs, idx(0), headDim + kMmaPad, rows, headDim,
        [&](Value r) {
          return add(qBase, mul(minIdx(add(q0, r), lastRow), qRowStride));
        },
        nullptr);
    NVVM::CpAsyncWaitGroupOp::create(b, loc, 0);
    gpu::BarrierOp::create(b, loc);
    // A registers of rows warpRow0 ... + 15, columns 16 kk ...: matrix i of
    // ldmatrix.x4 starts at row (lane mod 16), column 8 (lane / 16) of
    // lanes 8i ... 8i + 7: (g, 2t..), (g + 8, 2t..), (g, 2t + 8..),
    // (g + 8, 2t + 8..).
    Value laneRow =
        add(warpRow0, arith::RemUIOp::create(b, loc, lane, idx(16)));
    Value laneCol = mul(arith::DivUIOp::create(b, loc, lane, idx(16)), idx(8));
    for (int64_t kk = 0; kk < headDim / 16; ++kk)
      qFrags.push_back(loadMatrices(
          qs,
          add(mul(laneRow, idx(headDim + kMmaPad)), add(laneCol, idx(16 * kk))),
          /*transpose=*/false));
    // Every warp has its fragments before the key tiles overwrite Qs.
    gpu::BarrierOp::create(b, loc);
  } else {
    // Qs[r][d] = scale * log2(e) * Q[b, h, min(q0 + r, Lq - 1), d]: scores
    // are kept in base 2. Rows past Lq repeat the last row and are never
    // written.
    Value scaleLog2e =
        f32Const(static_cast<float>(op.getScaleValue() * M_LOG2E));
    forLoop(warp, idx(rows), numWarps, [&](Value r) {
      Value rowOffset =
          add(qBase, mul(minIdx(add(q0, r), lastRow), qRowStride));
      forLoop(lane, idx(headDim), kWarpSize, [&](Value d) {
        Value x = widen(load(q, add(rowOffset, d)));
        store(arith::MulFOp::create(b, loc, x, scaleLog2e), qs, {r, d});
      });
    });
  }

  // Per lane: m (-inf) and l (0) of each row it holds, then its output
  // accumulators: SIMT acc[i][j] of column lane + 32 j of row i; tensor
  // cores the C fragments of O, 4 values per 8 columns.
  int64_t numAcc = mma ? valueDim / 8 * 4 : rowsPerWarp * valueCols;
  SmallVector<Value> init(numRowStates(),
                          f32Const(-std::numeric_limits<float>::infinity()));
  init.append(numRowStates() + numAcc, f32Const(0.0f));

  TileSequence seq = getKeyTileSequence(b, loc, mask, plan, queryTile, p0, p1,
                                        lk, keysPerTile);
  if (parts) { // the call's entries of the plan
    seq.begin = partBegin;
    seq.end = partEnd;
  }
  scf::ForOp loop =
      mma ? buildPipelinedLoop(seq, init)
          : buildTileSequenceLoop(b, loc, seq, init,
                                  [&](Value kt, ValueRange state, Value full) {
                                    return buildKeyTile(kt, state, full);
                                  });
  if (!parts)
    return buildOutput(loop.getResults(), numRows);
  // slot is the same in every thread of the block: the barriers of a part's
  // output are reached by all or none.
  auto whole = scf::IfOp::create(b, loc, lt(slot, idx(0)), /*withElse=*/true);
  b.setInsertionPointToStart(whole.thenBlock());
  buildOutput(loop.getResults(), numRows);
  b.setInsertionPointToStart(whole.elseBlock());
  buildPartOutput(loop.getResults(), numRows);
}

void KernelBuilder::buildOutput(ValueRange state, Value numRows) {
  if (mma)
    buildMmaOutput(state, numRows);
  else
    buildSimtOutput(state, numRows);
}

void KernelBuilder::buildPartOutput(ValueRange state, Value numRows) {
  toPartials = true;
  buildOutput(state, numRows);
  toPartials = false;
  // Every thread's rows are written; thread 0 makes them visible to the GPU
  // (membar.gl) and counts this part done. The part that counts last merges
  // (a fixup in the manner of stream-K) and leaves the counter at 0.
  Value tid = add(mul(warp, idx(kWarpSize)), lane);
  Value counterAt = add(counterBase, firstSlot);
  gpu::BarrierOp::create(b, loc);
  ifThen(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, idx(0)),
         [&] {
           NVVM::MembarOp::create(b, loc, NVVM::MemScopeKind::GPU);
           Value done = memref::AtomicRMWOp::create(
               b, loc, arith::AtomicRMWKind::addi, i32(1), counters,
               ValueRange{counterAt});
           Value doneBefore =
               arith::IndexCastOp::create(b, loc, b.getIndexType(), done);
           Value last =
               arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                     doneBefore, sub(numParts, idx(1)));
           store(arith::ExtUIOp::create(b, loc, b.getI32Type(), last), keyUsed,
                 {idx(0), idx(0)});
         });
  gpu::BarrierOp::create(b, loc);
  Value isLast = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                                       load(keyUsed, {idx(0), idx(0)}), i32(0));
  ifThen(isLast, [&] {
    NVVM::MembarOp::create(b, loc, NVVM::MemScopeKind::GPU);
    Value negInf = f32Const(-std::numeric_limits<float>::infinity());
    Value firstRow = mul(add(counterBase, firstSlot), idx(rows));
    forLoop(tid, mul(numRows, idx(valueDim)), threads, [&](Value i) {
      Value r = divIdx(i, valueDim), col = remIdx(i, valueDim);
      // Row r of part p: ((b Hq + h) slots + firstSlot + p) Br + r.
      auto partRow = [&](Value p) {
        return mul(add(add(firstRow, mul(p, idx(rows))), r), idx(valueDim + 1));
      };
      auto overParts =
          [&](ValueRange init,
              function_ref<SmallVector<Value>(Value, ValueRange)> body) {
            return scf::ForOp::create(
                       b, loc, idx(0), numParts, idx(1), init,
                       [&](OpBuilder &, Location, Value p, ValueRange acc) {
                         scf::YieldOp::create(b, loc, body(partRow(p), acc));
                       })
                .getResults();
          };
      // m = max_p LSE_p (base 2; -inf when every part is empty)
      Value m = overParts({negInf}, [&](Value at, ValueRange acc) {
        Value x = load(partials, {add(at, idx(valueDim))});
        return SmallVector<Value>{maxf(acc[0], x)};
      })[0];
      Value empty =
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, m, negInf);
      Value mSafe = arith::SelectOp::create(b, loc, empty, f32Const(0), m);
      // w_p = 2^(LSE_p - m), l = sum_p w_p, O = sum_p w_p O_p / l
      SmallVector<Value> sums =
          overParts({f32Const(0), f32Const(0)}, [&](Value at, ValueRange acc) {
            Value w = exp2(arith::SubFOp::create(
                b, loc, load(partials, {add(at, idx(valueDim))}), mSafe));
            return SmallVector<Value>{
                arith::AddFOp::create(b, loc, acc[0], w),
                fma(w, load(partials, {add(at, col)}), acc[1])};
          });
      Value out = arith::SelectOp::create(
          b, loc, empty, f32Const(0),
          arith::DivFOp::create(b, loc, sums[1], sums[0]));
      if (elemType != f32)
        out = arith::TruncFOp::create(b, loc, elemType, out);
      Value row = add(q0, r);
      store(out, o, add(add(oBase, mul(row, oRowStride)), col));
      if (!op.getLse())
        return;
      // LSE = (m + log2(l)) ln2 (-inf for an empty row)
      ifThen(
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, col, idx(0)),
          [&] {
            Value logSum = arith::MulFOp::create(
                b, loc, arith::AddFOp::create(b, loc, m, log2(sums[0])),
                f32Const(static_cast<float>(M_LN2)));
            Value rowLse =
                arith::SelectOp::create(b, loc, empty, negInf, logSum);
            store(rowLse, lse, add(lseBase, row));
          });
    });
    ifThen(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, idx(0)),
           [&] { store(i32(0), counters, {counterAt}); });
  });
}

scf::ForOp KernelBuilder::buildPipelinedLoop(const TileSequence &seq,
                                             ValueRange init) {
  Value one = idx(1), two = idx(2);
  // Starts the copy of the tile at position i into stage i mod 2 unless it
  // is EMPTY.
  auto prefetch = [&](Value i) {
    TileSequence::Entry entry = seq.at(b, loc, i);
    auto copy = [&] {
      copyKeyTile(entry.tile, arith::RemUIOp::create(b, loc, i, two),
                  entry.full);
    };
    if (!entry.empty)
      return copy();
    auto nonEmpty = scf::IfOp::create(b, loc, negate(entry.empty));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(nonEmpty.thenBlock());
    copy();
  };
  auto ifBefore = [&](Value i, Value end, function_ref<void()> body) {
    auto inRange = scf::IfOp::create(b, loc, lt(i, end));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(inRange.thenBlock());
    body();
  };
  ifBefore(seq.begin, seq.end, [&] { prefetch(seq.begin); });
  return buildTileSequenceLoop(
      b, loc, seq, init,
      [&](Value kt, ValueRange state, Value full) {
        return buildKeyTile(kt, state, full);
      },
      [&](Value i) {
        // Tile i has landed (this thread's copies, then every thread's), and
        // every warp is done with tile i - 1, whose stage the copy of tile
        // i + 1 reuses: one barrier per tile.
        NVVM::CpAsyncWaitGroupOp::create(b, loc, 0);
        gpu::BarrierOp::create(b, loc);
        Value next = add(i, one);
        ifBefore(next, seq.end, [&] { prefetch(next); });
        stage = arith::RemUIOp::create(b, loc, i, two);
      });
}

void KernelBuilder::buildRowOutput(Value r, Value numRows, Value m, Value l,
                                   Value writesLse,
                                   function_ref<void(Value, Value)> storeO) {
  auto inTile = scf::IfOp::create(b, loc, lt(r, numRows));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(inTile.thenBlock());
  // O = acc / l (0 for an empty row)
  Value nonEmpty =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, l, f32Const(0));
  Value inv = arith::SelectOp::create(
      b, loc, nonEmpty, arith::DivFOp::create(b, loc, f32Const(1.0f), l),
      f32Const(0.0f));
  Value row = add(q0, r);
  Value negInf = f32Const(-std::numeric_limits<float>::infinity());
  if (toPartials) {
    // The part's row r: O, then its LSE in base 2 (m + log2(l), -inf for an
    // empty row).
    Value rowOffset = add(partBase, mul(r, idx(valueDim + 1)));
    storeO(rowOffset, inv);
    auto writer = scf::IfOp::create(b, loc, writesLse);
    b.setInsertionPointToStart(writer.thenBlock());
    Value partLse = arith::SelectOp::create(
        b, loc, nonEmpty, arith::AddFOp::create(b, loc, m, log2(l)), negInf);
    store(partLse, partials, add(rowOffset, idx(valueDim)));
    return;
  }
  storeO(add(oBase, mul(row, oRowStride)), inv);
  if (!op.getLse())
    return;
  // LSE = (m + log2(l)) ln2 (-inf for an empty row), m being in base 2.
  auto writer = scf::IfOp::create(b, loc, writesLse);
  b.setInsertionPointToStart(writer.thenBlock());
  Value logSum =
      arith::MulFOp::create(b, loc, arith::AddFOp::create(b, loc, m, log2(l)),
                            f32Const(static_cast<float>(M_LN2)));
  store(arith::SelectOp::create(b, loc, nonEmpty, logSum, negInf), lse,
        add(lseBase, row));
}

void KernelBuilder::buildSimtOutput(ValueRange state, Value numRows) {
  // Lane t holds columns t + 32 j of its warp's rows; lane 0 writes LSE.
  Value lane0 =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, idx(0));
  for (int64_t i = 0; i < rowsPerWarp; ++i) {
    auto storeO = [&](Value rowOffset, Value inv) {
      for (int64_t j = 0; j < valueCols; ++j) {
        Value col = add(lane, idx(j * kWarpSize));
        Value out = arith::MulFOp::create(
            b, loc, state[2 * rowsPerWarp + i * valueCols + j], inv);
        if (elemType != f32 && !toPartials)
          out = arith::TruncFOp::create(b, loc, elemType, out);
        Value dest = toPartials ? partials : o;
        if ((j + 1) * kWarpSize <= valueDim) {
          store(out, dest, add(rowOffset, col));
          continue;
        }
        auto inRow = scf::IfOp::create(b, loc, lt(col, idx(valueDim)));
        OpBuilder::InsertionGuard colGuard(b);
        b.setInsertionPointToStart(inRow.thenBlock());
        store(out, dest, add(rowOffset, col));
      }
    };
    buildRowOutput(add(warpRow0, idx(i)), numRows, state[i],
                   state[rowsPerWarp + i], lane0, storeO);
  }
}

void KernelBuilder::buildMmaOutput(ValueRange state, Value numRows) {
  // Row g + 8 h holds columns 8 n + 2 t (+1), stored as one pair; lane t = 0
  // of a quad writes LSE.
  Value quadLead =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, quadCol, idx(0));
  Type outType = toPartials ? f32 : elemType;
  auto pairType = VectorType::get({2}, outType);
  for (int64_t h = 0; h < 2; ++h) {
    auto storeO = [&](Value rowOffset, Value inv) {
      for (int64_t n = 0; n < valueDim / 8; ++n) {
        SmallVector<Value> pair;
        for (int64_t e = 0; e < 2; ++e) {
          Value x =
              arith::MulFOp::create(b, loc, state[4 + n * 4 + 2 * h + e], inv);
          pair.push_back(
              toPartials ? x : arith::TruncFOp::create(b, loc, elemType, x));
        }
        Value col = add(idx(8 * n), mul(quadCol, idx(2)));
        auto st = vector::StoreOp::create(
            b, loc, vector::FromElementsOp::create(b, loc, pairType, pair),
            toPartials ? partials : o, ValueRange{add(rowOffset, col)});
        st.setAlignment(4); // O is 4-byte aligned (the runtime checks)
      }
    };
    // m in base 2 (unscaled when foldScale).
    Value m = state[h];
    if (foldScale)
      m = arith::MulFOp::create(
          b, loc, m,
          f32Const(static_cast<float>(op.getScaleValue() * M_LOG2E)));
    buildRowOutput(add(add(warpRow0, quadRow), idx(8 * h)), numRows, m,
                   state[2 + h], quadLead, storeO);
  }
}

SmallVector<Value> KernelBuilder::buildKeyTile(Value keyTile, ValueRange state,
                                               Value full) {
  Value one = idx(1);
  Value k0 = mul(keyTile, idx(keysPerTile));
  if (!mma) {
    // Ks, Vs = K, V[b, g, k0 : k0 + 32, :], zero past Lk and past Dv; after
    // every warp is done with the previous tile.
    Value lastKey = sub(lk, one);
    Value zeroElem = arith::ConstantOp::create(b, loc, b.getZeroAttr(elemType));
    gpu::BarrierOp::create(b, loc);
    forLoop(warp, idx(keysPerTile), numWarps, [&](Value c) {
      Value key = add(k0, c);
      Value staged = isKeyStaged(key, full);
      Value keyRow = minIdx(key, lastKey);
      Value row = keyRowIndex(keyRow);
      Value kRow = mul(row, idx(headDim));
      forLoop(lane, idx(headDim), kWarpSize, [&](Value d) {
        Value x = load(k, add(kRow, d));
        store(arith::SelectOp::create(b, loc, staged, x, zeroElem), ks, {c, d});
      });
      Value vRow = mul(row, idx(valueDim));
      forLoop(lane, idx(valueCols * kWarpSize), kWarpSize, [&](Value d) {
        Value x = load(v, add(vRow, minIdx(d, idx(valueDim - 1))));
        Value keep =
            arith::AndIOp::create(b, loc, staged, lt(d, idx(valueDim)));
        store(arith::SelectOp::create(b, loc, keep, x, zeroElem), vs, {c, d});
      });
    });
    gpu::BarrierOp::create(b, loc);
  }
  if (!band && (!plan || plan->anyPartial)) {
    auto partial = scf::IfOp::create(b, loc, negate(full));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(partial.thenBlock());
    zeroUnusedValues(k0);
  }
  return mma ? buildMmaTile(k0, state, full) : buildSimtTile(k0, state, full);
}

void KernelBuilder::zeroUnusedValues(Value k0) {
  // The P of a key that no row keeps is 0, but 0 * NaN would still reach O:
  // unused KV-cache slots may hold anything. `full` is the same in every
  // thread of the block, so the barriers below are reached by all or none.
  storeKeyUsedFlags(mask, keyUsed, keysPerTile, p0, p1, k0, lk64);
  gpu::BarrierOp::create(b, loc);
  // Vs[c][0 : Dv] = 0 where no warp saw key k0 + c kept (in the current
  // stage): 16 bytes per store with tensor cores.
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(elemType));
  forUnusedKeys(keyUsed, keysPerTile, valueDim, mma ? 8 : 1,
                [&](Value c, Value d) {
                  if (!mma)
                    return store(zero, vs, {c, d});
                  Value row = add(mul(stage, idx(keysPerTile)), c);
                  storeZero16(vs, add(mul(row, idx(valueDim + kMmaPad)), d));
                });
  gpu::BarrierOp::create(b, loc);
}

Value KernelBuilder::modifyScore(Value t, Value p, Value key) {
  if (mods.softcap) // t = C tanh(t / C)
    t = mods.applySoftcap(b, loc, t);
  if (headSlope) { // t = t - slope |p - k|
    auto toF32 = [&](Value i64) -> Value {
      return arith::SIToFPOp::create(b, loc, f32, i64);
    };
    t = mods.applyAlibi(b, loc, t, headSlope, toF32(p), toF32(toI64(key)));
  }
  return t;
}

SmallVector<Value> KernelBuilder::buildSimtTile(Value k0, ValueRange state,
                                                Value full) {
  const int64_t rw = rowsPerWarp;
  Value one = idx(1);
  // s_i = Qs[row_i] . Ks[lane]: lane j holds the score of key k0 + j.
  SmallVector<Value> zeros(rw, f32Const(0.0f));
  auto dotLoop =
      scf::ForOp::create(b, loc, idx(0), idx(headDim), one, zeros,
                         [&](OpBuilder &, Location, Value d, ValueRange acc) {
                           Value kv = widen(load(ks, {lane, d}));
                           SmallVector<Value> next;
                           for (int64_t i = 0; i < rw; ++i) {
                             Value qv = load(qs, {add(warpRow0, idx(i)), d});
                             next.push_back(fma(qv, kv, acc[i]));
                           }
                           scf::YieldOp::create(b, loc, next);
                         });
  SmallVector<Value> s(dotLoop.getResults());
  Value key = add(k0, lane);
  if (mods.any())
    for (int64_t i = 0; i < rw; ++i)
      s[i] = modifyScore(
          s[i], arith::AddIOp::create(b, loc, p0, toI64(add(warpRow0, idx(i)))),
          key);

  // s = -inf for keys past Lk; PARTIAL tiles only (not even built when the
  // static plan has none): s = mask(p, k) ? s : -inf.
  Value negInf = f32Const(-std::numeric_limits<float>::infinity());
  Value key64 = toI64(key);
  Value inKeys = lt(key, lk);
  for (Value &si : s)
    si = arith::SelectOp::create(b, loc, inKeys, si, negInf);
  if (!plan || plan->anyPartial) {
    auto partial =
        scf::IfOp::create(b, loc, TypeRange(ValueRange(s)), negate(full),
                          /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(partial.thenBlock());
    SmallVector<Value> masked;
    for (int64_t i = 0; i < rw; ++i) {
      Value p = arith::AddIOp::create(b, loc, p0, toI64(add(warpRow0, idx(i))));
      Value keep = mask.buildPredicate(b, loc, p, key64, lk64);
      masked.push_back(arith::SelectOp::create(b, loc, keep, s[i], negInf));
    }
    scf::YieldOp::create(b, loc, masked);
    b.setInsertionPointToStart(partial.elseBlock());
    scf::YieldOp::create(b, loc, s);
    s.assign(partial.getResults().begin(), partial.getResults().end());
  }

  SmallVector<Value> mNew(rw), lNew(rw), p(rw), alpha(rw);
  for (int64_t i = 0; i < rw; ++i) {
    // m' = max(m, rowmax(s))
    mNew[i] = maxf(state[i], warpReduce(s[i], /*isMax=*/true));
    // A row with no kept key so far keeps m' = -inf; subtract 0 instead so
    // that 2^(-inf - m') is 0, not NaN.
    Value isEmpty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                          mNew[i], negInf);
    Value mUse =
        arith::SelectOp::create(b, loc, isEmpty, f32Const(0.0f), mNew[i]);
    // p = 2^(s - m')
    p[i] = exp2(arith::SubFOp::create(b, loc, s[i], mUse));
    // alpha = 2^(m - m')
    alpha[i] = exp2(arith::SubFOp::create(b, loc, state[i], mUse));
    // l' = l * alpha + rowsum(p)
    lNew[i] = fma(state[rw + i], alpha[i], warpReduce(p[i], /*isMax=*/false));
  }

  // acc = acc * alpha + sum_c p_c Vs[c][lane + 32 j], p_c from lane c.
  SmallVector<Value> acc;
  for (int64_t i = 0; i < rw; ++i)
    for (int64_t j = 0; j < valueCols; ++j)
      acc.push_back(arith::MulFOp::create(
          b, loc, state[rw * 2 + i * valueCols + j], alpha[i]));
  auto pvLoop = scf::ForOp::create(
      b, loc, idx(0), idx(keysPerTile), one, acc,
      [&](OpBuilder &, Location, Value c, ValueRange cur) {
        Value srcLane = arith::IndexCastOp::create(b, loc, b.getI32Type(), c);
        SmallVector<Value> vv, next;
        for (int64_t j = 0; j < valueCols; ++j)
          vv.push_back(widen(load(vs, {c, add(lane, idx(j * kWarpSize))})));
        for (int64_t i = 0; i < rw; ++i) {
          Value pc =
              gpu::ShuffleOp::create(b, loc, p[i], srcLane, i32(kWarpSize),
                                     gpu::ShuffleMode::IDX)
                  .getShuffleResult();
          for (int64_t j = 0; j < valueCols; ++j)
            next.push_back(fma(pc, vv[j], cur[i * valueCols + j]));
        }
        scf::YieldOp::create(b, loc, next);
      });

  SmallVector<Value> result(mNew);
  result.append(lNew);
  result.append(pvLoop.getResults().begin(), pvLoop.getResults().end());
  return result;
}

SmallVector<Value> KernelBuilder::buildMmaTile(Value k0, ValueRange state,
                                               Value full) {
  const int64_t keyTiles = keysPerTile / 8; // n tiles of 8 keys in S
  const int64_t valueTiles = valueDim / 8;  // n tiles of 8 columns in O
  Value col2t = mul(quadCol, idx(2));
  Value lane8 = arith::RemUIOp::create(b, loc, lane, idx(8));
  Value laneGroup = arith::DivUIOp::create(b, loc, lane, idx(8)); // 0 .. 3
  auto laneBit = [&](int64_t bit) { // (lane / 8) >> bit & 1, times 8
    return mul(arith::RemUIOp::create(
                   b, loc,
                   arith::DivUIOp::create(b, loc, laneGroup, idx(1 << bit)),
                   idx(2)),
               idx(8));
  };
  Value stageRow = mul(stage, idx(keysPerTile));

  // S = Q K^T: s[j][e] is row g + 8 (e / 2), key k0 + 8 j + 2 t + e % 2.
  // ldmatrix.x4 of Ks rows 16 jj + (lane mod 8) + 8 (lane / 16), columns
  // 16 kk + 8 ((lane / 8) mod 2): the B registers of key tiles 2 jj and
  // 2 jj + 1 (K rows 8 j + g, columns 2t.. and 2t + 8..).
  Value kPitch = idx(headDim + kMmaPad);
  Value kLane =
      add(mul(add(stageRow, add(lane8, laneBit(1))), kPitch), laneBit(0));
  SmallVector<SmallVector<Value>> s(keyTiles,
                                    SmallVector<Value>(4, f32Const(0.0f)));
  for (int64_t kk = 0; kk < headDim / 16; ++kk)
    for (int64_t jj = 0; jj < keyTiles / 2; ++jj) {
      SmallVector<Value> bRegs = loadMatrices(
          ks, add(kLane, idx(16 * jj * (headDim + kMmaPad) + 16 * kk)),
          /*transpose=*/false);
      for (int64_t h = 0; h < 2; ++h)
        s[2 * jj + h] = mmaSync(qFrags[kk], {bRegs[2 * h], bRegs[2 * h + 1]},
                                s[2 * jj + h]);
    }

  // Base-2 scores: t = c s with c = scale log2(e), modified; foldScale keeps
  // s and folds c into the exponent below. Keys past Lk (the last tile) and,
  // in PARTIAL tiles, keys the mask drops get -inf: the branch is built only
  // where the tile may have either.
  float c = static_cast<float>(op.getScaleValue() * M_LOG2E);
  Value scaleLog2e = f32Const(c);
  Value negInf = f32Const(-std::numeric_limits<float>::infinity());
  auto keyOf = [&](int64_t j, int64_t e) {
    return add(add(k0, idx(8 * j + e % 2)), col2t);
  };
  Value pG = arith::AddIOp::create(b, loc, p0, toI64(add(warpRow0, quadRow)));
  Value pG8 = arith::AddIOp::create(b, loc, pG, i64(8));
  SmallVector<Value> flat;
  for (int64_t j = 0; j < keyTiles; ++j)
    for (int64_t e = 0; e < 4; ++e) {
      Value t = s[j][e];
      if (!foldScale)
        t = arith::MulFOp::create(b, loc, t, scaleLog2e);
      if (mods.any())
        t = modifyScore(t, e < 2 ? pG : pG8, keyOf(j, e));
      flat.push_back(t);
    }
  // s = keep(j, e) ? s : -inf for the lane's scores, in a branch on `cond`.
  auto maskScores = [&](Value cond,
                        function_ref<Value(int64_t, int64_t)> keepAt) {
    auto masking = scf::IfOp::create(b, loc, TypeRange(ValueRange(flat)), cond,
                                     /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(masking.thenBlock());
    SmallVector<Value> masked;
    for (int64_t j = 0; j < keyTiles; ++j)
      for (int64_t e = 0; e < 4; ++e) {
        Value keep = keepAt(j, e);
        masked.push_back(
            arith::SelectOp::create(b, loc, keep, flat[j * 4 + e], negInf));
      }
    scf::YieldOp::create(b, loc, masked);
    b.setInsertionPointToStart(masking.elseBlock());
    scf::YieldOp::create(b, loc, flat);
    flat.assign(masking.getResults().begin(), masking.getResults().end());
  };
  auto inKeys = [&](int64_t j, int64_t e) { return lt(keyOf(j, e), lk); };
  bool maskKeys = !plan || plan->anyPartial;
  Value tail = lt(lk, add(k0, idx(keysPerTile)));
  if (maskKeys && band) {
    // PARTIAL tiles of a band lo <= k - p <= hi: k - p = d + 8 j + e % 2 -
    // 8 (e / 2) with d = k0 + 2t - p(g), and k < Lk as 8 j + e % 2 < Lk - k0
    // - 2t: compares of two values per tile against constants.
    Value d, keysLeft;
    maskScores(negate(full), [&](int64_t j, int64_t e) -> Value {
      if (!d) {
        Value kLane = toI64(add(k0, col2t));
        d = arith::SubIOp::create(b, loc, kLane, pG);
        keysLeft = toI64(sub(sub(lk, k0), col2t));
      }
      int64_t keyOff = 8 * j + e % 2, rowOff = 8 * (e / 2);
      Value offset = i64(keyOff);
      Value keep = lt(offset, keysLeft);
      auto bound = [&](arith::CmpIPredicate pred, int64_t edge) {
        Value c = i64(edge - keyOff + rowOff);
        Value ok = arith::CmpIOp::create(b, loc, pred, d, c);
        keep = arith::AndIOp::create(b, loc, keep, ok);
      };
      if (band->lo > -kNoBandEdge)
        bound(arith::CmpIPredicate::sge, band->lo);
      if (band->hi < kNoBandEdge)
        bound(arith::CmpIPredicate::sle, band->hi);
      return keep;
    });
    // FULL: only the last tile has keys past Lk.
    maskScores(arith::AndIOp::create(b, loc, full, tail), inKeys);
  } else if (maskKeys) {
    // keep = k < Lk and (FULL or mask(p, k)); on key cells of 8 keys or more
    // the 8 keys of n tile j share the evaluation at their cell's first key.
    DenseMap<std::pair<int64_t, int64_t>, Value> cellKeep;
    auto maskAt = [&](int64_t j, int64_t e) -> Value {
      Value p = e < 2 ? pG : pG8;
      if (cellKeys % 8 != 0)
        return mask.buildPredicate(b, loc, p, toI64(keyOf(j, e)), lk64);
      int64_t cell = 8 * j / cellKeys;
      Value &keep = cellKeep[{e / 2, cell}];
      if (!keep)
        keep = mask.buildPredicate(b, loc, p,
                                   toI64(add(k0, idx(cell * cellKeys))), lk64);
      return keep;
    };
    Value needsMask = arith::OrIOp::create(b, loc, tail, negate(full));
    maskScores(needsMask, [&](int64_t j, int64_t e) -> Value {
      Value keep = inKeys(j, e);
      Value kept = arith::OrIOp::create(b, loc, full, maskAt(j, e));
      return arith::AndIOp::create(b, loc, keep, kept);
    });
  } else {
    maskScores(tail, inKeys);
  }

  // Rows g (h = 0) and g + 8 (h = 1) of the warp.
  SmallVector<Value> mNew(2), lNew(2), alpha(2);
  SmallVector<Value> p(flat.size());
  for (int64_t h = 0; h < 2; ++h) {
    Value mx = negInf;
    for (int64_t j = 0; j < keyTiles; ++j)
      for (int64_t e = 2 * h; e < 2 * h + 2; ++e)
        mx = maxf(mx, flat[j * 4 + e]);
    // m' = max(m, rowmax(s))
    mNew[h] = maxf(state[h], quadReduce(mx, /*isMax=*/true));
    // A row with no kept key so far keeps m' = -inf; subtract 0 instead so
    // that 2^(-inf - m') is 0, not NaN.
    Value isEmpty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                          mNew[h], negInf);
    Value mUse =
        arith::SelectOp::create(b, loc, isEmpty, f32Const(0.0f), mNew[h]);
    // alpha = 2^(m - m') (times c when folded)
    Value diff = arith::SubFOp::create(b, loc, state[h], mUse);
    alpha[h] = exp2(foldScale ? arith::MulFOp::create(b, loc, diff, scaleLog2e)
                              : diff);
    // p = 2^(s - m'), folded: 2^(s c - m' c), one FMA
    Value mScaled =
        foldScale
            ? Value(arith::NegFOp::create(
                  b, loc, arith::MulFOp::create(b, loc, mUse, scaleLog2e)))
            : Value();
    Value rowSum = f32Const(0.0f);
    for (int64_t j = 0; j < keyTiles; ++j)
      for (int64_t e = 2 * h; e < 2 * h + 2; ++e) {
        Value x = flat[j * 4 + e];
        p[j * 4 + e] =
            exp2(foldScale ? fma(x, scaleLog2e, mScaled)
                           : Value(arith::SubFOp::create(b, loc, x, mUse)));
        rowSum = arith::AddFOp::create(b, loc, rowSum, p[j * 4 + e]);
      }
    // l' = l * alpha + rowsum(p)
    lNew[h] = fma(state[2 + h], alpha[h], quadReduce(rowSum, /*isMax=*/false));
  }

  // O = O * alpha + P V, 16 keys at a time: the A registers of P are the S
  // accumulators of key tiles 2c and 2c + 1, rounded to T. ldmatrix.x4.trans
  // of Vs rows 16 c + (lane mod 8) + 8 ((lane / 8) mod 2), columns 16 nn +
  // 8 (lane / 16): the B registers of column tiles 2 nn and 2 nn + 1 (V rows
  // 16 c + 2 t (+1) and 16 c + 8 + 2 t (+1), column 8 n + g).
  SmallVector<Value> acc;
  for (int64_t n = 0; n < valueTiles; ++n)
    for (int64_t e = 0; e < 4; ++e)
      acc.push_back(
          arith::MulFOp::create(b, loc, state[4 + n * 4 + e], alpha[e / 2]));
  Value vPitch = idx(valueDim + kMmaPad);
  Value vLane =
      add(mul(add(stageRow, add(lane8, laneBit(0))), vPitch), laneBit(1));
  for (int64_t kc = 0; kc < keysPerTile / 16; ++kc) {
    auto pPair = [&](int64_t j, int64_t e) {
      return packRounded(p[j * 4 + e], p[j * 4 + e + 1]);
    };
    SmallVector<Value> aFrag = {pPair(2 * kc, 0), pPair(2 * kc, 2),
                                pPair(2 * kc + 1, 0), pPair(2 * kc + 1, 2)};
    for (int64_t nn = 0; nn < valueTiles / 2; ++nn) {
      SmallVector<Value> bRegs = loadMatrices(
          vs, add(vLane, idx(16 * kc * (valueDim + kMmaPad) + 16 * nn)),
          /*transpose=*/true);
      for (int64_t h = 0; h < 2; ++h) {
        int64_t n = 2 * nn + h;
        SmallVector<Value> d = mmaSync(aFrag, {bRegs[2 * h], bRegs[2 * h + 1]},
                                       ArrayRef<Value>(acc).slice(n * 4, 4));
        std::copy(d.begin(), d.end(), acc.begin() + n * 4);
      }
    }
  }

  SmallVector<Value> result(mNew);
  result.append(lNew);
  result.append(acc);
  return result;
}

/// Rewrites one sattn.attention into a kernel and its launch.
struct AttentionToGPU : public OpInterfaceRewritePattern<AttentionOpInterface> {
  AttentionToGPU(MLIRContext *ctx, bool tensorCores)
      : OpInterfaceRewritePattern(ctx), tensorCores(tensorCores) {}
  bool tensorCores;

  LogicalResult matchAndRewrite(AttentionOpInterface op,
                                PatternRewriter &rewriter) const override {
    auto module = op->getParentOfType<ModuleOp>();
    if (!module)
      return rewriter.notifyMatchFailure(op, "not inside a module");
    auto paged = dyn_cast<PagedAttentionOp>(op.getOperation());
    auto qType = op.getQuery().getType();
    Type elem = qType.getElementType();
    int64_t d = op.getHeadDim(), dv = op.getValueHeadDim();
    std::optional<GpuTileShape> shape =
        getGpuTileShape(elem, d, dv, tensorCores);
    if (!shape)
      return op->emitOpError("head dims D = ")
             << d << ", Dv = " << dv << " with " << elem << " need "
             << simtSharedBytes(4, elem, d, dv)
             << " bytes of shared memory for the smallest GPU tile; the "
                "limit is "
             << kGpuSharedMemoryBytes;

    gpu::GPUModuleOp kernels = getOrCreateKernelModule(module);
    std::string name = getFreshSymbolName(kernels, "attention_");
    op.getMask().declareTables(kernels);
    KernelBuilder builder(op, *shape);
    if (auto contiguous = dyn_cast<AttentionOp>(op.getOperation()))
      builder.plan = declareStaticTilePlan(kernels, contiguous, shape->rows,
                                           shape->keys, name);
    if (builder.plan)
      builder.parts =
          planKeyTileParts(builder.plan->offsetValues, kGpuMinPartTiles);
    gpu::GPUFuncOp kernel = builder.build(kernels, name);

    // Flat buffers of the operands and results.
    Location loc = op.getLoc();
    auto flatten = [&](Value buffer) {
      return flattenBuffer(rewriter, loc, buffer);
    };
    Value q = getInputBuffer(rewriter, loc, op.getQuery());
    Value k = getInputBuffer(rewriter, loc, op->getOperand(1));
    Value v = getInputBuffer(rewriter, loc, op->getOperand(2));
    auto dim = [&](Value buffer, int64_t i) -> Value {
      return memref::DimOp::create(rewriter, loc, buffer, i);
    };
    Value oBuf = allocResultBuffer(rewriter, loc, op.getOutput().getType(), q);
    Value lseBuf = allocLseBuffer(rewriter, loc, op, q);
    if (!lseBuf)
      lseBuf = memref::AllocOp::create(
          rewriter, loc, MemRefType::get({1}, rewriter.getF32Type()));

    // grid (ceil(Lq / Br), Hq, B); varlen: (ceil(Tq / Br), Hq, B), the
    // blocks past a sequence's query tiles return at once (the runtime
    // launches max_b ceil(Lq_b / Br) tiles instead).
    auto c = [&](int64_t value) -> Value {
      return arith::ConstantIndexOp::create(rewriter, loc, value);
    };
    auto varlen = dyn_cast<VarlenAttentionOp>(op.getOperation());
    Value lq = dim(q, varlen ? 0 : 2);
    Value batch = dim(q, 0);
    Value numQueryTiles =
        arith::CeilDivUIOp::create(rewriter, loc, lq, c(shape->rows));
    SmallVector<Value> args = {flatten(q),    flatten(k),      flatten(v),
                               flatten(oBuf), flatten(lseBuf), dim(q, 1)};
    using P = KernelParam;
    SmallVector<KernelParam> params = {P::Q,       P::K,    P::V,
                                       P::O,       P::Lse,  P::QHeads,
                                       P::KvHeads, P::QLen, P::KLen};
    if (paged) { // Hkv, Lk (unused), block table, seq_lens, P, M
      Value table = getInputBuffer(rewriter, loc, paged.getBlockTable());
      args.append({dim(k, 2), lq, c(0), flatten(table),
                   flatten(getInputBuffer(rewriter, loc, paged.getSeqLens())),
                   dim(k, 0), dim(table, 1)});
      params.append({P::BlockTable, P::SeqLens, P::NumPages, P::MaxPages});
    } else if (varlen) { // Hkv, Tq, Tk, cu_seqlens_q, cu_seqlens_k
      Value cuq = getInputBuffer(rewriter, loc, varlen.getCuSeqlensQ());
      args.append(
          {dim(k, 1), lq, dim(k, 0), flatten(cuq),
           flatten(getInputBuffer(rewriter, loc, varlen.getCuSeqlensK()))});
      batch = arith::MaxSIOp::create(
          rewriter, loc,
          arith::SubIOp::create(rewriter, loc, dim(cuq, 0), c(1)), c(0));
      params.append({P::CuSeqlensQ, P::CuSeqlensK});
    } else {
      args.append({dim(k, 1), lq, dim(k, 2)});
    }
    std::optional<KeyTileParts> &parts = builder.parts;
    if (parts) {
      // The partials [B, Hq, slots, Br, Dv + 1] (f32) and their counters
      // [B, Hq, slots] (i32, zero).
      Value bh = arith::MulIOp::create(rewriter, loc, batch, dim(q, 1));
      auto alloc = [&](Type elem, int64_t perHead) -> Value {
        return memref::AllocOp::create(
            rewriter, loc, MemRefType::get({ShapedType::kDynamic}, elem),
            ValueRange{arith::MulIOp::create(rewriter, loc, bh, c(perHead))});
      };
      Value partials = alloc(rewriter.getF32Type(),
                             parts->numSlots * shape->rows * (dv + 1));
      Value counters = alloc(rewriter.getI32Type(), parts->numSlots);
      Value zero = arith::ConstantOp::create(rewriter, loc,
                                             rewriter.getI32IntegerAttr(0));
      scf::ForOp::create(
          rewriter, loc, c(0),
          memref::DimOp::create(rewriter, loc, counters, 0), c(1), ValueRange{},
          [&](OpBuilder &nb, Location nloc, Value i, ValueRange) {
            memref::StoreOp::create(nb, nloc, zero, counters, i);
            scf::YieldOp::create(nb, nloc);
          });
      args.append({partials, counters});
      params.append({P::Partials, P::PartCounters});
    }
    using D = LaunchDim;
    KernelLaunch launch{shape->rows,
                        shape->keys,
                        shape->warps * kWarpSize,
                        shape->dynamicSharedBytes,
                        shape->tensorCores,
                        bool(op.getLse()),
                        {parts ? D::Calls : D::QueryTiles, D::QHeads,
                         varlen ? D::Sequences : D::Batch},
                        params};
    if (parts) {
      launch.calls = int64_t(parts->calls.size()) / 4;
      launch.partSlots = parts->numSlots;
    }
    buildKernelLaunch(
        rewriter, op, kernels, kernel, launch,
        {parts ? c(launch.calls) : numQueryTiles, dim(q, 1), batch}, args);

    replaceWithResultBuffers(rewriter, op, oBuf, lseBuf);
    return success();
  }
};

struct ConvertSAttnToGPUPass
    : public sattn::impl::ConvertSAttnToGPUBase<ConvertSAttnToGPUPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateSAttnToGPUPatterns(patterns, tensorCores);
    if (failed(rewriteEachAttention(
            getOperation(), FrozenRewritePatternSet(std::move(patterns)))))
      signalPassFailure();
  }
};

} // namespace

gpu::GPUModuleOp mlir::sattn::getOrCreateKernelModule(ModuleOp module) {
  if (auto existing =
          module.lookupSymbol<gpu::GPUModuleOp>(kGpuKernelModuleName))
    return existing;
  module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                  UnitAttr::get(module.getContext()));
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  return gpu::GPUModuleOp::create(b, module.getLoc(), kGpuKernelModuleName);
}

Value mlir::sattn::flattenBuffer(OpBuilder &b, Location loc, Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  SmallVector<ReassociationIndices> all(1);
  for (int64_t i = 0; i < type.getRank(); ++i)
    all[0].push_back(i);
  Value flat = memref::CollapseShapeOp::create(b, loc, buffer, all);
  return memref::CastOp::create(
      b, loc, MemRefType::get({ShapedType::kDynamic}, type.getElementType()),
      flat);
}

void mlir::sattn::buildKernelLaunch(OpBuilder &b, Operation *op,
                                    gpu::GPUModuleOp kernels,
                                    gpu::GPUFuncOp kernel,
                                    const KernelLaunch &launch,
                                    gpu::KernelDim3 grid, ValueRange args) {
  Location loc = op->getLoc();
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value shared;
  if (launch.sharedBytes)
    shared = arith::ConstantOp::create(
        b, loc, b.getI32IntegerAttr(launch.sharedBytes));
  gpu::LaunchFuncOp::create(
      b, loc, kernel, grid,
      gpu::KernelDim3{arith::ConstantIndexOp::create(b, loc, launch.threads),
                      one, one},
      shared, args);
  MLIRContext *ctx = b.getContext();
  appendKernelFacts(
      op, "sattn.gpu_launches",
      GpuLaunchAttr::get(
          ctx,
          SymbolRefAttr::get(kernels.getNameAttr(),
                             {FlatSymbolRefAttr::get(kernel.getNameAttr())}),
          TileAttr::get(ctx, launch.rows, launch.keys), launch.grid,
          launch.threads, launch.sharedBytes, launch.tensorCores,
          launch.writesLse, launch.params, launch.calls, launch.partSlots));
}

gpu::GPUFuncOp mlir::sattn::createKernel(OpBuilder &b, Location loc,
                                         gpu::GPUModuleOp module,
                                         StringRef name, TypeRange args,
                                         TypeRange workgroup,
                                         int64_t threads) {
  b.setInsertionPointToEnd(module.getBody());
  auto fn = gpu::GPUFuncOp::create(
      b, loc, name, FunctionType::get(b.getContext(), args, {}), workgroup);
  fn->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  fn.setKnownBlockSizeAttr(b.getDenseI32ArrayAttr({int32_t(threads), 1, 1}));
  b.setInsertionPointToEnd(&fn.getBody().front());
  gpu::ReturnOp::create(b, loc);
  b.setInsertionPointToStart(&fn.getBody().front());
  return fn;
}

void mlir::sattn::populateSAttnToGPUPatterns(RewritePatternSet &patterns,
                                             bool tensorCores) {
  patterns.add<AttentionToGPU>(patterns.getContext(), tensorCores);
  populateAttentionGradToGPUPatterns(patterns, tensorCores);
}
