//===- SAttnToGPU.cpp - sattn.attention to a tile-skipping GPU kernel -----===//
//
// One kernel per sattn.attention, FlashAttention-2 style: a thread block of 4
// warps per (query tile, head, batch). The query tile is staged once in
// shared memory; each non-EMPTY key tile of 32 keys is staged in shared
// memory too. Warp w owns rows w * Br/4 ... of the query tile and keeps their
// running max m, sum l and output accumulators in registers. Two ways to
// compute a tile:
//
// Tensor cores (f16/bf16, D % 16 == 0, Dv % 8 == 0): Br = 64, 16 rows per
// warp, mma.sync m16n8k16 with f32 accumulators (the fragment layouts of the
// PTX ISA; g = lane / 4, t = lane % 4):
//   Qs [64][D + 8], Ks [32][D + 8], Vs [32][Dv + 8]  T (padded rows)
//   S = Q K^T: A = Q fragments (registers, loaded once), B = Ks
//   the thread holds S[g or g + 8][8 j + 2 t + {0, 1}]; row max and row sum
//   reduce over its 8 values per row, then over the 4 lanes of its quad
//   O += P V: A = P (the S accumulators rounded to T), B = Vs
//
// SIMT (f32, or shapes the tensor-core path does not take): one key per lane:
//   Qs [Br][D]        f32  scale * log2(e) * Q of the tile (broadcast reads)
//   Ks [32][D + 1]    T    keys of the tile (padded: lanes read rows
//                          without bank conflicts)
//   Vs [32][Dv up 32] T    values of the tile (lane t owns columns t + 32 j)
// row max and row sum are warp shuffles; P reaches every lane through
// shuffles too.
//
//===----------------------------------------------------------------------===//

#include "sattn/Conversion/SAttnToGPU/SAttnToGPU.h"
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

constexpr int64_t kWarpSize = 32;
constexpr int64_t kNumWarps = kGpuBlockThreads / kWarpSize;
constexpr int64_t kKeyTile = kGpuKeyTile;

int64_t roundUp(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

constexpr int64_t kMmaRows = 64; // Br of the tensor-core kernel
constexpr int64_t kMmaPad = 8;   // elements added to each shared row
constexpr int64_t kVecElems = 8; // f16/bf16 per 16-byte copy

/// Shared memory of the key-used flags of PARTIAL tiles: one i32 per warp
/// and key of the tile.
constexpr int64_t kKeyUsedBytes = kNumWarps * kKeyTile * 4;

/// Shared memory of the SIMT tiles for Br query rows.
int64_t simtSharedBytes(int64_t rows, Type elem, int64_t d, int64_t dv) {
  int64_t es = elem.getIntOrFloatBitWidth() / 8;
  return rows * d * 4 + kKeyTile * (d + 1) * es +
         kKeyTile * roundUp(dv, kWarpSize) * es + kKeyUsedBytes;
}

/// Shared memory of the tensor-core tiles.
int64_t mmaSharedBytes(Type elem, int64_t d, int64_t dv) {
  int64_t es = elem.getIntOrFloatBitWidth() / 8;
  return (kMmaRows + kKeyTile) * (d + kMmaPad) * es +
         kKeyTile * (dv + kMmaPad) * es + kKeyUsedBytes;
}

/// Builds the kernel of one sattn.attention.
class KernelBuilder {
public:
  KernelBuilder(AttentionOpInterface op, GpuTileShape shape)
      : op(op), rows(shape.rows), rowsPerWarp(shape.rows / kNumWarps),
        mma(shape.tensorCores), ctx(op.getContext()), b(ctx), loc(op.getLoc()),
        mods(op) {
    elemType = op.getQuery().getType().getElementType();
    headDim = op.getHeadDim();
    valueDim = op.getValueHeadDim();
    if (auto paged = dyn_cast<PagedAttentionOp>(op.getOperation()))
      pageSize = paged.getPageSize();
    varlen = isa<VarlenAttentionOp>(op.getOperation());
    valueCols = roundUp(valueDim, kWarpSize) / kWarpSize;
    mask = op.getMask();
    f32 = b.getF32Type();
  }

  MemRefType flatType(Type elem) {
    return MemRefType::get({ShapedType::kDynamic}, elem);
  }
  gpu::GPUFuncOp build(gpu::GPUModuleOp module, StringRef name);

  std::optional<TilePlanTables> plan;
  /// sattn.paged_attention: tokens per page (K and V are the flat caches
  /// [P, page, Hkv, D]; the kernel also takes the block table, seq_lens, P
  /// and M); 0 for contiguous K and V.
  int64_t pageSize = 0;
  /// sattn.varlen_attention: Q, K, V, O are the token-major [T, H, D]
  /// tensors, LSE [Hq, Tq]; the kernel also takes cu_seqlens_q and
  /// cu_seqlens_k, and Lq, Lk are Tq and Tk.
  bool varlen = false;

private:
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value i32(int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v));
  }
  Value f32Const(float v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value toI64(Value index) {
    return arith::IndexCastOp::create(b, loc, b.getI64Type(), index);
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value minIdx(Value x, Value y) {
    return arith::MinSIOp::create(b, loc, x, y);
  }
  /// !full: the tile is PARTIAL (uniform over the block).
  Value isPartial(Value full) {
    return arith::XOrIOp::create(
        b, loc, full, arith::ConstantOp::create(b, loc, b.getBoolAttr(true)));
  }
  Value lt(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, x, y);
  }
  Value widen(Value x) {
    return x.getType() == f32 ? x : arith::ExtFOp::create(b, loc, f32, x);
  }
  Value load(Value memref, ValueRange indices) {
    return memref::LoadOp::create(b, loc, memref, indices);
  }
  void store(Value value, Value memref, ValueRange indices) {
    memref::StoreOp::create(b, loc, value, memref, indices);
  }
  /// for (i = first; i < end; i += step) body(i)
  void forLoop(Value first, Value end, int64_t step,
               function_ref<void(Value)> body) {
    scf::ForOp::create(b, loc, first, end, idx(step), ValueRange{},
                       [&](OpBuilder &, Location, Value i, ValueRange) {
                         body(i);
                         scf::YieldOp::create(b, loc);
                       });
  }
  // Math as single NVVM instructions rather than math ops, which
  // convert-gpu-to-nvvm maps to libdevice calls: the PTX then needs no CUDA
  // toolkit to be complete.
  Value intrinsic(StringRef name, Value x) {
    return LLVM::CallIntrinsicOp::create(b, loc, f32, b.getStringAttr(name),
                                         ValueRange{x})
        .getResult(0);
  }
  /// 2^x: ex2.approx.f32 (2^-inf = 0).
  Value exp2(Value x) { return intrinsic("llvm.nvvm.ex2.approx.f32", x); }
  /// log2(x): lg2.approx.f32.
  Value log2(Value x) { return intrinsic("llvm.nvvm.lg2.approx.f", x); }
  Value fma(Value x, Value y, Value z) {
    return LLVM::FMAOp::create(b, loc, x, y, z, LLVM::FastmathFlagsAttr());
  }
  Value maxf(Value x, Value y) {
    return LLVM::MaxNumOp::create(b, loc, x, y, LLVM::FastmathFlagsAttr());
  }
  /// Tensor cores: copies `numRows` rows of `width` elements (a multiple of
  /// 8) from the flat buffer `src` (row r at rowOffset(r)) into the shared
  /// tile `dst`, 16 bytes per thread and step; rows where keepRow(r) is
  /// false become 0.
  void copyRows16B(Value src, Value dst, int64_t numRows, int64_t width,
                   function_ref<Value(Value)> rowOffset,
                   function_ref<Value(Value)> keepRow);
  /// The row of key `key` (0 <= key < Lk) in K viewed as [rows, D] (and V as
  /// [rows, Dv]): (b * Hkv + kvHead) * Lk + key, for varlen (keyStart + key)
  /// * Hkv + kvHead, or for a paged cache
  /// (block_table[b, key / page] * page + key mod page) * Hkv + kvHead, the
  /// page 0 when the entry is outside [0, P) (only keys no row keeps can
  /// meet one).
  Value keyRowIndex(Value key);
  /// The max or the sum of `x` over the 32 lanes of the warp, in every lane.
  Value warpReduce(Value x, bool isMax);

  void buildBody(gpu::GPUFuncOp fn);
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
  void buildSimtOutput(ValueRange state, Value numRows);
  void buildMmaOutput(ValueRange state, Value numRows);
  /// Query row `r` of the tile, if r < numRows: O through storeO(offset of
  /// the row in O, 1 / l or 0 for an empty row), and LSE where `writesLse`.
  void buildRowOutput(Value r, Value numRows, Value m, Value l, Value writesLse,
                      function_ref<void(Value, Value)> storeO);

  // Tensor-core helpers.
  /// Two T values as the 32-bit register of an mma.sync operand (`lo` in
  /// the low half): i32 for bf16, vector<2xf16> for f16.
  Value pack(Value lo, Value hi);
  /// D = A B + C for one m16n8k16 fragment: 4 A, 2 B registers, 4 f32.
  SmallVector<Value> mmaSync(ArrayRef<Value> a, ArrayRef<Value> bFrag,
                             ArrayRef<Value> c);
  /// `x` reduced over the 4 lanes of the quad (lanes sharing g).
  Value quadReduce(Value x, bool isMax);
  /// The running state of the kernel: the number of (m, l) pairs per lane
  /// (rows per warp for SIMT, 2 for tensor cores) and accumulators.
  int64_t numRowStates() const { return mma ? 2 : rowsPerWarp; }

  AttentionOpInterface op;
  int64_t rows, rowsPerWarp;
  bool mma;
  MLIRContext *ctx;
  OpBuilder b;
  Location loc;
  Type elemType, f32;
  int64_t headDim, valueDim, valueCols;
  MaskAttrInterface mask;
  ScoreModifiers mods;

  // Values of the kernel being built.
  Value q, k, v, o, lse, lq, lk, lk64, q0, p0, p1, lane, warp, warpRow0;
  Value qBase, oBase, lseBase, kSlice, batch, kvHead, numKvHeads;
  Value qRowStride, oRowStride; // elements between query rows of Q and O
  Value keyStart;               // varlen: the sequence's first key
  Value blockTable, numPages, maxPages; // paged only
  Value qs, ks, vs, keyUsed;
  Value headSlope;        // ALiBi: the base-2 slope of the block's query head
  Value quadRow, quadCol; // g = lane / 4 and t = lane % 4 (tensor cores)
  SmallVector<SmallVector<Value, 4>> qFrags; // A fragments of Q, per 16 of D
};

void KernelBuilder::copyRows16B(Value src, Value dst, int64_t numRows,
                                int64_t width,
                                function_ref<Value(Value)> rowOffset,
                                function_ref<Value(Value)> keepRow) {
  // Chunk c of the tile: row c / (width / 8), columns 8 (c % (width / 8)) ...
  auto vecType = VectorType::get({kVecElems}, elemType);
  Value zero = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vecType, b.getZeroAttr(elemType)));
  int64_t chunksPerRow = width / kVecElems;
  Value tid = add(mul(warp, idx(kWarpSize)), lane);
  forLoop(tid, idx(numRows * chunksPerRow), kGpuBlockThreads, [&](Value c) {
    Value row = arith::DivUIOp::create(b, loc, c, idx(chunksPerRow));
    Value col = mul(arith::RemUIOp::create(b, loc, c, idx(chunksPerRow)),
                    idx(kVecElems));
    auto x = vector::LoadOp::create(b, loc, vecType, src,
                                    ValueRange{add(rowOffset(row), col)});
    x.setAlignment(16);
    Value value = x;
    if (keepRow)
      value = arith::SelectOp::create(b, loc, keepRow(row), value, zero);
    auto st = vector::StoreOp::create(b, loc, value, dst, ValueRange{row, col});
    st.setAlignment(16);
  });
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

Value KernelBuilder::warpReduce(Value x, bool isMax) {
  for (int32_t offset = kWarpSize / 2; offset > 0; offset /= 2) {
    Value other = gpu::ShuffleOp::create(b, loc, x, offset, kWarpSize,
                                         gpu::ShuffleMode::XOR)
                      .getShuffleResult();
    x = isMax ? maxf(x, other) : Value(arith::AddFOp::create(b, loc, x, other));
  }
  return x;
}

gpu::GPUFuncOp KernelBuilder::build(gpu::GPUModuleOp module, StringRef name) {
  b.setInsertionPointToEnd(module.getBody());
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
  auto fnType = FunctionType::get(ctx, args, {});
  auto workgroup =
      gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  auto shared = [&](ArrayRef<int64_t> shape, Type elem) -> Type {
    return MemRefType::get(shape, elem, MemRefLayoutAttrInterface(), workgroup);
  };
  SmallVector<Type> tiles =
      mma ? SmallVector<Type>{shared({rows, headDim + kMmaPad}, elemType),
                              shared({kKeyTile, headDim + kMmaPad}, elemType),
                              shared({kKeyTile, valueDim + kMmaPad}, elemType)}
          : SmallVector<Type>{
                shared({rows, headDim}, f32),
                shared({kKeyTile, headDim + 1}, elemType),
                shared({kKeyTile, valueCols * kWarpSize}, elemType)};
  tiles.push_back(shared({kNumWarps, kKeyTile}, b.getI32Type()));
  auto fn = gpu::GPUFuncOp::create(b, loc, name, fnType, tiles);
  if (mma) // 16-byte vector copies into the tiles
    for (unsigned i = 0; i < tiles.size(); ++i)
      fn.setWorkgroupAttributionAttr(i, LLVM::LLVMDialect::getAlignAttrName(),
                                     b.getI64IntegerAttr(16));
  fn->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  fn.setKnownBlockSizeAttr(
      b.getDenseI32ArrayAttr({int32_t(kGpuBlockThreads), 1, 1}));
  fn->setAttr("sattn.tile", b.getDenseI64ArrayAttr({rows, kKeyTile}));
  b.setInsertionPointToStart(&fn.getBody().front());
  buildBody(fn);
  b.setInsertionPointToEnd(&fn.getBody().front());
  gpu::ReturnOp::create(b, loc);
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
  qs = fn.getWorkgroupAttributions()[0];
  ks = fn.getWorkgroupAttributions()[1];
  vs = fn.getWorkgroupAttributions()[2];
  keyUsed = fn.getWorkgroupAttributions()[3];

  Value one = idx(1);
  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  lane = arith::RemUIOp::create(b, loc, tid, idx(kWarpSize));
  warp = arith::DivUIOp::create(b, loc, tid, idx(kWarpSize));
  warpRow0 = mul(warp, idx(rowsPerWarp));
  Value queryTile = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value head = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
  batch = gpu::BlockIdOp::create(b, loc, gpu::Dimension::z);
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

  Value lastRow = sub(lq, one);
  if (mma) {
    // Qs[r][d] = Q[b, h, min(q0 + r, Lq - 1), d]; rows past Lq repeat the
    // last row and are never written. Then each warp keeps the A fragments of
    // its 16 rows in registers for the whole key loop.
    quadRow = arith::DivUIOp::create(b, loc, lane, idx(4));
    quadCol = arith::RemUIOp::create(b, loc, lane, idx(4));
    copyRows16B(
        q, qs, rows, headDim,
        [&](Value r) {
          return add(qBase, mul(minIdx(add(q0, r), lastRow), qRowStride));
        },
        nullptr);
    gpu::BarrierOp::create(b, loc);
    Value rowG = add(warpRow0, quadRow), rowG8 = add(rowG, idx(8));
    for (int64_t kk = 0; kk < headDim / 16; ++kk) {
      // A registers: (g, 2t..), (g + 8, 2t..), (g, 2t + 8..), (g + 8, 2t + 8..)
      Value col = add(idx(kk * 16), mul(quadCol, idx(2)));
      Value col8 = add(col, idx(8));
      auto pair = [&](Value r, Value c) {
        return pack(load(qs, {r, c}), load(qs, {r, add(c, one)}));
      };
      qFrags.push_back({pair(rowG, col), pair(rowG8, col), pair(rowG, col8),
                        pair(rowG8, col8)});
    }
  } else {
    // Qs[r][d] = scale * log2(e) * Q[b, h, min(q0 + r, Lq - 1), d]: scores
    // are kept in base 2. Rows past Lq repeat the last row and are never
    // written.
    Value scaleLog2e =
        f32Const(static_cast<float>(op.getScaleValue() * M_LOG2E));
    forLoop(warp, idx(rows), kNumWarps, [&](Value r) {
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

  scf::ForOp loop =
      buildKeyTileLoop(b, loc, mask, plan, queryTile, p0, p1, lk, kKeyTile,
                       init, [&](Value kt, ValueRange state, Value full) {
                         return buildKeyTile(kt, state, full);
                       });
  if (mma)
    buildMmaOutput(loop.getResults(), numRows);
  else
    buildSimtOutput(loop.getResults(), numRows);
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
  storeO(add(oBase, mul(row, oRowStride)), inv);
  if (!op.getLse())
    return;
  // LSE = (m + log2(l)) ln2 (-inf for an empty row), m being in base 2.
  auto writer = scf::IfOp::create(b, loc, writesLse);
  b.setInsertionPointToStart(writer.thenBlock());
  Value logSum =
      arith::MulFOp::create(b, loc, arith::AddFOp::create(b, loc, m, log2(l)),
                            f32Const(static_cast<float>(M_LN2)));
  store(arith::SelectOp::create(
            b, loc, nonEmpty, logSum,
            f32Const(-std::numeric_limits<float>::infinity())),
        lse, add(lseBase, row));
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
        if (elemType != f32)
          out = arith::TruncFOp::create(b, loc, elemType, out);
        if ((j + 1) * kWarpSize <= valueDim) {
          store(out, o, add(rowOffset, col));
          continue;
        }
        auto inRow = scf::IfOp::create(b, loc, lt(col, idx(valueDim)));
        OpBuilder::InsertionGuard colGuard(b);
        b.setInsertionPointToStart(inRow.thenBlock());
        store(out, o, add(rowOffset, col));
      }
    };
    buildRowOutput(add(warpRow0, idx(i)), numRows, state[i],
                   state[rowsPerWarp + i], lane0, storeO);
  }
}

void KernelBuilder::buildMmaOutput(ValueRange state, Value numRows) {
  // Row g + 8 h holds columns 8 n + 2 t (+1); lane t = 0 of a quad writes
  // LSE.
  Value quadLead =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, quadCol, idx(0));
  for (int64_t h = 0; h < 2; ++h) {
    auto storeO = [&](Value rowOffset, Value inv) {
      for (int64_t n = 0; n < valueDim / 8; ++n)
        for (int64_t e = 0; e < 2; ++e) {
          Value out =
              arith::MulFOp::create(b, loc, state[4 + n * 4 + 2 * h + e], inv);
          Value col = add(idx(8 * n + e), mul(quadCol, idx(2)));
          store(arith::TruncFOp::create(b, loc, elemType, out), o,
                add(rowOffset, col));
        }
    };
    buildRowOutput(add(add(warpRow0, quadRow), idx(8 * h)), numRows, state[h],
                   state[2 + h], quadLead, storeO);
  }
}

SmallVector<Value> KernelBuilder::buildKeyTile(Value keyTile, ValueRange state,
                                               Value full) {
  Value one = idx(1);
  Value k0 = mul(keyTile, idx(kKeyTile));
  Value lastKey = sub(lk, one);
  Value zeroElem = arith::ConstantOp::create(b, loc, b.getZeroAttr(elemType));

  // Ks, Vs = K, V[b, g, k0 : k0 + 32, :], zero past Lk (and past Dv for
  // SIMT); after every warp is done with the previous tile.
  gpu::BarrierOp::create(b, loc);
  if (mma) {
    auto keyRow = [&](Value c) { return minIdx(add(k0, c), lastKey); };
    auto inKeys = [&](Value c) { return lt(add(k0, c), lk); };
    copyRows16B(
        k, ks, kKeyTile, headDim,
        [&](Value c) { return mul(keyRowIndex(keyRow(c)), idx(headDim)); },
        inKeys);
    copyRows16B(
        v, vs, kKeyTile, valueDim,
        [&](Value c) { return mul(keyRowIndex(keyRow(c)), idx(valueDim)); },
        inKeys);
  } else {
    forLoop(warp, idx(kKeyTile), kNumWarps, [&](Value c) {
      Value key = add(k0, c);
      Value inKeys = lt(key, lk);
      Value keyRow = minIdx(key, lastKey);
      Value row = keyRowIndex(keyRow);
      Value kRow = mul(row, idx(headDim));
      forLoop(lane, idx(headDim), kWarpSize, [&](Value d) {
        Value x = load(k, add(kRow, d));
        store(arith::SelectOp::create(b, loc, inKeys, x, zeroElem), ks, {c, d});
      });
      Value vRow = mul(row, idx(valueDim));
      forLoop(lane, idx(valueCols * kWarpSize), kWarpSize, [&](Value d) {
        Value x = load(v, add(vRow, minIdx(d, idx(valueDim - 1))));
        Value keep =
            arith::AndIOp::create(b, loc, inKeys, lt(d, idx(valueDim)));
        store(arith::SelectOp::create(b, loc, keep, x, zeroElem), vs, {c, d});
      });
    });
  }
  gpu::BarrierOp::create(b, loc);
  if (!plan || plan->anyPartial) {
    auto partial = scf::IfOp::create(b, loc, isPartial(full));
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
  // keyUsed[warp][lane] = some row r = warp, warp + 4, ... < numRows keeps
  // key k0 + lane (padding rows past Lq do not count).
  Value key64 = toI64(add(k0, lane));
  Value none = arith::ConstantOp::create(b, loc, b.getBoolAttr(false));
  auto rowLoop = scf::ForOp::create(
      b, loc, warp, idx(rows), idx(kNumWarps), ValueRange{none},
      [&](OpBuilder &, Location, Value r, ValueRange any) {
        Value p = arith::AddIOp::create(b, loc, p0, toI64(r));
        Value keep = arith::AndIOp::create(
            b, loc, lt(p, p1), mask.buildPredicate(b, loc, p, key64, lk64));
        scf::YieldOp::create(
            b, loc, ValueRange{arith::OrIOp::create(b, loc, any[0], keep)});
      });
  store(arith::ExtUIOp::create(b, loc, b.getI32Type(), rowLoop.getResult(0)),
        keyUsed, {warp, lane});
  gpu::BarrierOp::create(b, loc);
  // Vs[c][d] = 0 where no warp saw key k0 + c kept.
  auto vsType = cast<MemRefType>(vs.getType());
  int64_t width = vsType.getDimSize(1);
  Value zero =
      arith::ConstantOp::create(b, loc, b.getZeroAttr(vsType.getElementType()));
  Value tid = add(mul(warp, idx(kWarpSize)), lane);
  forLoop(tid, idx(kKeyTile * width), kGpuBlockThreads, [&](Value i) {
    Value c = arith::DivUIOp::create(b, loc, i, idx(width));
    Value d = arith::RemUIOp::create(b, loc, i, idx(width));
    Value used = load(keyUsed, {idx(0), c});
    for (int64_t w = 1; w < kNumWarps; ++w)
      used = arith::OrIOp::create(b, loc, used, load(keyUsed, {idx(w), c}));
    Value isUsed =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, used, i32(0));
    store(arith::SelectOp::create(b, loc, isUsed, load(vs, {c, d}), zero), vs,
          {c, d});
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
        scf::IfOp::create(b, loc, TypeRange(ValueRange(s)), isPartial(full),
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
      b, loc, idx(0), idx(kKeyTile), one, acc,
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

Value KernelBuilder::pack(Value lo, Value hi) {
  Type i16 = b.getI16Type(), i32 = b.getI32Type();
  auto bits = [&](Value x) -> Value {
    return arith::ExtUIOp::create(b, loc, i32,
                                  arith::BitcastOp::create(b, loc, i16, x));
  };
  Value word = arith::OrIOp::create(
      b, loc, bits(lo),
      arith::ShLIOp::create(
          b, loc, bits(hi),
          arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(16))));
  if (elemType.isF16())
    return LLVM::BitcastOp::create(b, loc, VectorType::get({2}, elemType),
                                   word);
  return word;
}

SmallVector<Value> KernelBuilder::mmaSync(ArrayRef<Value> a,
                                          ArrayRef<Value> bFrag,
                                          ArrayRef<Value> c) {
  auto resultType = LLVM::LLVMStructType::getLiteral(ctx, {f32, f32, f32, f32});
  std::optional<std::array<NVVM::MMATypes, 2>> types;
  if (elemType.isBF16())
    types = {NVVM::MMATypes::bf16, NVVM::MMATypes::bf16};
  auto op = NVVM::MmaOp::create(
      b, loc, resultType, a, bFrag, c, ArrayRef<int64_t>{16, 8, 16},
      std::nullopt, std::nullopt, types,
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  SmallVector<Value> d;
  for (int64_t i = 0; i < 4; ++i)
    d.push_back(LLVM::ExtractValueOp::create(b, loc, op.getRes(),
                                             ArrayRef<int64_t>{i}));
  return d;
}

Value KernelBuilder::quadReduce(Value x, bool isMax) {
  for (int32_t offset : {1, 2}) {
    Value other = gpu::ShuffleOp::create(b, loc, x, offset, kWarpSize,
                                         gpu::ShuffleMode::XOR)
                      .getShuffleResult();
    x = isMax ? maxf(x, other) : Value(arith::AddFOp::create(b, loc, x, other));
  }
  return x;
}

SmallVector<Value> KernelBuilder::buildMmaTile(Value k0, ValueRange state,
                                               Value full) {
  constexpr int64_t keyTiles = kKeyTile / 8; // n tiles of 8 keys in S
  const int64_t valueTiles = valueDim / 8;   // n tiles of 8 columns in O
  Value one = idx(1), two = idx(2);
  Value col2t = mul(quadCol, two);

  // S = Q K^T: s[j][e] is row g + 8 (e / 2), key k0 + 8 j + 2 t + e % 2.
  SmallVector<SmallVector<Value>> s(keyTiles);
  for (int64_t j = 0; j < keyTiles; ++j) {
    // B registers: K rows of key 8 j + g, columns 2t.. and 2t + 8..
    Value keyRow = add(idx(8 * j), quadRow);
    SmallVector<Value> acc(4, f32Const(0.0f));
    for (int64_t kk = 0; kk < headDim / 16; ++kk) {
      Value col = add(idx(16 * kk), col2t), col8 = add(col, idx(8));
      SmallVector<Value> bFrag = {
          pack(load(ks, {keyRow, col}), load(ks, {keyRow, add(col, one)})),
          pack(load(ks, {keyRow, col8}), load(ks, {keyRow, add(col8, one)}))};
      acc = mmaSync(qFrags[kk], bFrag, acc);
    }
    s[j] = acc;
  }

  // s = scale * log2(e) * s (base 2), modified, -inf past Lk; PARTIAL tiles
  // only (not even built when the static plan has none): s = mask(p, k) ? s :
  // -inf.
  Value scaleLog2e = f32Const(static_cast<float>(op.getScaleValue() * M_LOG2E));
  Value negInf = f32Const(-std::numeric_limits<float>::infinity());
  auto keyOf = [&](int64_t j, int64_t e) {
    return add(add(k0, idx(8 * j + e % 2)), col2t);
  };
  Value pG = arith::AddIOp::create(b, loc, p0, toI64(add(warpRow0, quadRow)));
  Value pG8 = arith::AddIOp::create(
      b, loc, pG, arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(8)));
  SmallVector<Value> flat;
  for (int64_t j = 0; j < keyTiles; ++j)
    for (int64_t e = 0; e < 4; ++e) {
      Value t = arith::MulFOp::create(b, loc, s[j][e], scaleLog2e);
      if (mods.any())
        t = modifyScore(t, e < 2 ? pG : pG8, keyOf(j, e));
      flat.push_back(
          arith::SelectOp::create(b, loc, lt(keyOf(j, e), lk), t, negInf));
    }
  if (!plan || plan->anyPartial) {
    auto partial =
        scf::IfOp::create(b, loc, TypeRange(ValueRange(flat)), isPartial(full),
                          /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(partial.thenBlock());
    SmallVector<Value> masked;
    for (int64_t j = 0; j < keyTiles; ++j)
      for (int64_t e = 0; e < 4; ++e) {
        Value keep = mask.buildPredicate(b, loc, e < 2 ? pG : pG8,
                                         toI64(keyOf(j, e)), lk64);
        masked.push_back(
            arith::SelectOp::create(b, loc, keep, flat[j * 4 + e], negInf));
      }
    scf::YieldOp::create(b, loc, masked);
    b.setInsertionPointToStart(partial.elseBlock());
    scf::YieldOp::create(b, loc, flat);
    flat.assign(partial.getResults().begin(), partial.getResults().end());
  }

  // Rows g (h = 0) and g + 8 (h = 1) of the warp.
  SmallVector<Value> mNew(2), lNew(2), alpha(2), mUse(2);
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
    mUse[h] = arith::SelectOp::create(b, loc, isEmpty, f32Const(0.0f), mNew[h]);
    // alpha = 2^(m - m')
    alpha[h] = exp2(arith::SubFOp::create(b, loc, state[h], mUse[h]));
    // p = 2^(s - m')
    Value rowSum = f32Const(0.0f);
    for (int64_t j = 0; j < keyTiles; ++j)
      for (int64_t e = 2 * h; e < 2 * h + 2; ++e) {
        p[j * 4 + e] =
            exp2(arith::SubFOp::create(b, loc, flat[j * 4 + e], mUse[h]));
        rowSum = arith::AddFOp::create(b, loc, rowSum, p[j * 4 + e]);
      }
    // l' = l * alpha + rowsum(p)
    lNew[h] = fma(state[2 + h], alpha[h], quadReduce(rowSum, /*isMax=*/false));
  }

  // O = O * alpha + P V, 16 keys at a time: the A registers of P are the S
  // accumulators of key tiles 2c and 2c + 1, rounded to T.
  SmallVector<Value> acc;
  for (int64_t n = 0; n < valueTiles; ++n)
    for (int64_t e = 0; e < 4; ++e)
      acc.push_back(
          arith::MulFOp::create(b, loc, state[4 + n * 4 + e], alpha[e / 2]));
  auto narrow = [&](Value x) -> Value {
    return arith::TruncFOp::create(b, loc, elemType, x);
  };
  for (int64_t c = 0; c < kKeyTile / 16; ++c) {
    auto pPair = [&](int64_t j, int64_t e) {
      return pack(narrow(p[j * 4 + e]), narrow(p[j * 4 + e + 1]));
    };
    SmallVector<Value> aFrag = {pPair(2 * c, 0), pPair(2 * c, 2),
                                pPair(2 * c + 1, 0), pPair(2 * c + 1, 2)};
    // B registers: V rows 16 c + 2 t (+1) and 16 c + 8 + 2 t (+1), column
    // 8 n + g.
    Value key = add(idx(16 * c), col2t), key8 = add(key, idx(8));
    for (int64_t n = 0; n < valueTiles; ++n) {
      Value col = add(idx(8 * n), quadRow);
      SmallVector<Value> bFrag = {
          pack(load(vs, {key, col}), load(vs, {add(key, one), col})),
          pack(load(vs, {key8, col}), load(vs, {add(key8, one), col}))};
      SmallVector<Value> d =
          mmaSync(aFrag, bFrag, ArrayRef<Value>(acc).slice(n * 4, 4));
      std::copy(d.begin(), d.end(), acc.begin() + n * 4);
    }
  }

  SmallVector<Value> result(mNew);
  result.append(lNew);
  result.append(acc);
  return result;
}

/// The kernel module of `module`, created (and the module marked as a GPU
/// container) on first use.
gpu::GPUModuleOp getOrCreateKernelModule(ModuleOp module) {
  if (auto existing =
          module.lookupSymbol<gpu::GPUModuleOp>(kGpuKernelModuleName))
    return existing;
  module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                  UnitAttr::get(module.getContext()));
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  return gpu::GPUModuleOp::create(b, module.getLoc(), kGpuKernelModuleName);
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
                                           kKeyTile, name);
    gpu::GPUFuncOp kernel = builder.build(kernels, name);

    // Flat buffers of the operands and results.
    Location loc = op.getLoc();
    auto flatten = [&](Value buffer) -> Value {
      auto type = cast<MemRefType>(buffer.getType());
      SmallVector<ReassociationIndices> all(1);
      for (int64_t i = 0; i < type.getRank(); ++i)
        all[0].push_back(i);
      Value flat = memref::CollapseShapeOp::create(rewriter, loc, buffer, all);
      return memref::CastOp::create(
          rewriter, loc, builder.flatType(type.getElementType()), flat);
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

    // grid (ceil(Lq / Br), Hq, B), block (128, 1, 1); varlen: (ceil(Tq /
    // Br), Hq, B), the blocks past a sequence's query tiles return at once
    // (the runtime launches max_b ceil(Lq_b / Br) tiles instead).
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
    if (paged) { // Hkv, Lk (unused), block table, seq_lens, P, M
      Value table = getInputBuffer(rewriter, loc, paged.getBlockTable());
      args.append({dim(k, 2), lq, c(0), flatten(table),
                   flatten(getInputBuffer(rewriter, loc, paged.getSeqLens())),
                   dim(k, 0), dim(table, 1)});
    } else if (varlen) { // Hkv, Tq, Tk, cu_seqlens_q, cu_seqlens_k
      Value cuq = getInputBuffer(rewriter, loc, varlen.getCuSeqlensQ());
      args.append(
          {dim(k, 1), lq, dim(k, 0), flatten(cuq),
           flatten(getInputBuffer(rewriter, loc, varlen.getCuSeqlensK()))});
      batch = arith::MaxSIOp::create(
          rewriter, loc,
          arith::SubIOp::create(rewriter, loc, dim(cuq, 0), c(1)), c(0));
    } else {
      args.append({dim(k, 1), lq, dim(k, 2)});
    }
    gpu::LaunchFuncOp::create(rewriter, loc, kernel,
                              gpu::KernelDim3{numQueryTiles, dim(q, 1), batch},
                              gpu::KernelDim3{c(kGpuBlockThreads), c(1), c(1)},
                              /*dynamicSharedMemorySize=*/Value(), args);

    replaceWithResultBuffers(rewriter, op, oBuf, lseBuf);
    return success();
  }
};

struct ConvertSAttnToGPUPass
    : public sattn::impl::ConvertSAttnToGPUBase<ConvertSAttnToGPUPass> {
  using Base::Base;
  void runOnOperation() override {
    WalkResult grad = getOperation()->walk([](AttentionGradOp op) {
      op.emitOpError("has no GPU kernel yet (the CPU target compiles it)");
      return WalkResult::interrupt();
    });
    if (grad.wasInterrupted())
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    populateSAttnToGPUPatterns(patterns, tensorCores);
    if (failed(rewriteEachAttention(
            getOperation(), FrozenRewritePatternSet(std::move(patterns)))))
      signalPassFailure();
  }
};

} // namespace

void mlir::sattn::populateSAttnToGPUPatterns(RewritePatternSet &patterns,
                                             bool tensorCores) {
  patterns.add<AttentionToGPU>(patterns.getContext(), tensorCores);
}

std::optional<GpuTileShape> mlir::sattn::getGpuTileShape(Type elem, int64_t d,
                                                         int64_t dv,
                                                         bool tensorCores) {
  if (tensorCores && (elem.isF16() || elem.isBF16()) && d % 16 == 0 &&
      dv % 8 == 0 && mmaSharedBytes(elem, d, dv) <= kGpuSharedMemoryBytes)
    return GpuTileShape{kMmaRows, true};
  for (int64_t rows : {32, 16, 8, 4})
    if (simtSharedBytes(rows, elem, d, dv) <= kGpuSharedMemoryBytes)
      return GpuTileShape{rows, false};
  return std::nullopt;
}
