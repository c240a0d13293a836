//===- AttentionGradToGPU.cpp - sattn.attention_grad to a GPU kernel ------===//
//
// The FlashAttention-2 backward as one kernel launch of 4-warp blocks: grid
// (ceil(Lk / Bc) + ceil(Lq / Br), Hq, B).
//  - Blocks x < ceil(Lk / Bc) with y < Hkv compute dK and dV of key tile x
//    of KV head y: they walk the query heads of the group and, for each, the
//    query tiles that keep the key tile (the transposed tile plan).
//  - The blocks after them compute dQ of one query tile of query head y: they
//    walk the key tiles it keeps (the forward's tile plan).
// Both recompute P from the forward's LSE, and Delta_i = dot(dO_i, O_i) from
// O and dO as they stage the query rows. No block writes what another one
// writes: no atomics, no scratch memory, the same result on every run; the
// price is that dQ's blocks compute S and dP again (7 tile products per
// (query tile, key tile) pair instead of 5).
//
// Shared memory, T the element type:
//   Ks [Bc][D + pad], Vs [Bc][Dv + pad]  T    the key tile
//   Qs [Br][D + pad], dOs [Br][Dv + pad] T    the query tile
//   Ps, dSs [Br][32]                     f32  SIMT: P and dS of the pair
//   lse2, delta [Br]                     f32  LSE log2(e) (0: empty row), Delta
//   used [4][Bc]                         i32  keys some row keeps (PARTIAL)
//
// SIMT (f32, or shapes the tensor-core path does not take): Bc = 32, Br the
// largest of 32, 16, 8, 4 that fits 48 KiB, pad 1 on K and V, 0 on Q, dO:
//   1. warp w takes rows r = w, w + 4, ..., lane c key k0 + c: the score, P,
//      dP and dS of (r, c) into Ps, dSs (both kinds of blocks);
//   2. dK, dV blocks: thread (w, c) holds dK[c][w + 4j] and dV[c][w + 4j] in
//      registers across all pairs and adds sum_r dS[r][c] Q_r, P[r][c] dO_r;
//   3. dQ blocks: thread (w, l) holds dQ[r][l + 32j] of its rows r = w + 4i
//      across the key tiles and adds sum_c dS[r][c] K_c.
// Tensor cores (f16/bf16, D % 16 == 0, Dv % 16 == 0): Br = Bc = 64, pad 8,
// dynamic shared memory filled by cp.async, mma.sync m16n8k16 on ldmatrix
// fragments (f32 accumulators), 16 rows or keys of the tile per warp, the
// other side of each product taken 16 at a time:
//   dK, dV blocks, warp w keys 16w ...: per 16 query rows of the tile,
//     S^T = K Q^T, dP^T = V dO^T (A = K, V by ldmatrix, B = Q, dO by
//     ldmatrix), P^T and dS^T in the accumulators' layout, which is the A
//     layout of the next products: dV += P^T dO, dK += dS^T Q (B by
//     ldmatrix.trans);
//   dQ blocks, warp w rows 16w ...: Q and dO fragments held in registers;
//     per 16 keys S = Q K^T, dP = dO V^T, then dQ += dS K (B by
//     ldmatrix.trans of Ks).
//
//===----------------------------------------------------------------------===//

#include "KernelBuilderBase.h"
#include "sattn/Conversion/Utils/AttentionLowering.h"
#include "sattn/Dialect/SAttn/IR/SAttnOps.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::sattn;

namespace {

constexpr int64_t kGradWarps = 4;
constexpr int64_t kSimtKeys = 32;
constexpr int64_t kMmaTile = 64; // Br = Bc with tensor cores
constexpr int64_t kMmaPad = 8;   // elements added to each shared row

/// How the backward kernel of an op computes.
struct GradShape {
  int64_t rows, keys, pad;
  bool tensorCores;
  int64_t sharedBytes; // all of it, static (SIMT) or dynamic
};

/// The shared memory of the backward kernel.
int64_t gradSharedBytes(int64_t rows, int64_t keys, int64_t pad, Type elem,
                        int64_t d, int64_t dv, bool tensorCores) {
  int64_t es = elem.getIntOrFloatBitWidth() / 8;
  int64_t rowPad = tensorCores ? pad : 0;
  int64_t scores = tensorCores ? 0 : 2 * rows * kSimtKeys;
  return es * (keys * (d + pad + dv + pad) + rows * (d + rowPad + dv + rowPad)) +
         4 * (scores + 2 * rows + kGradWarps * keys);
}

/// Tensor cores when allowed, f16/bf16, D % 16 == 0, Dv % 16 == 0 and the
/// tiles fit kGpuMaxDynamicSharedBytes; else SIMT with Br the largest of 32,
/// 16, 8, 4 whose tiles fit kGpuSharedMemoryBytes; nullopt if none does.
std::optional<GradShape> getGradShape(Type elem, int64_t d, int64_t dv,
                                      bool tensorCores) {
  int64_t mmaBytes =
      gradSharedBytes(kMmaTile, kMmaTile, kMmaPad, elem, d, dv, true);
  if (tensorCores && (elem.isF16() || elem.isBF16()) && d % 16 == 0 &&
      dv % 16 == 0 && mmaBytes <= kGpuMaxDynamicSharedBytes)
    return GradShape{kMmaTile, kMmaTile, kMmaPad, true, mmaBytes};
  for (int64_t rows : {32, 16, 8, 4}) {
    int64_t bytes = gradSharedBytes(rows, kSimtKeys, 1, elem, d, dv, false);
    if (bytes <= kGpuSharedMemoryBytes)
      return GradShape{rows, kSimtKeys, 1, false, bytes};
  }
  return std::nullopt;
}

class GradKernelBuilder : public KernelBuilderBase {
public:
  GradKernelBuilder(AttentionGradOp op, GradShape shape)
      : KernelBuilderBase(op.getContext(), op.getLoc(),
                          op.getQuery().getType().getElementType(),
                          kGradWarps * kWarpSize),
        op(op), rows(shape.rows), keys(shape.keys), pad(shape.pad),
        mma(shape.tensorCores), mask(op.getMask()),
        mods(op.getSoftcap(), op.getAlibiSlopes()),
        cellKeys(keyCellWidth(mask, keys)),
        rowsShareMask(mask.getBlockGrid().first == 0) {
    headDim = op.getQuery().getType().getShape().back();
    valueDim = op.getValue().getType().getShape().back();
  }

  gpu::GPUFuncOp build(gpu::GPUModuleOp module, StringRef name);

  /// For static lengths: the transposed plan (the query tiles of each key
  /// tile) and the forward's (the key tiles of each query tile).
  std::optional<TilePlanTables> keyPlan, queryPlan;

private:
  /// The shared tiles: static workgroup buffers (SIMT) or views of the
  /// dynamic shared memory (tensor cores).
  void declareSharedTiles(gpu::GPUFuncOp fn);
  /// dK and dV of key tile `keyTile` of KV head `kvHead`.
  void buildKeyBlock(Value keyTile, Value kvHead);
  /// dQ of query tile `queryTile` of query head `head`.
  void buildQueryBlock(Value queryTile, Value head);
  /// Ks, Vs = the keys [k0, k0 + Bc) of KV head `kvHead`, zero past Lk.
  void stageKeys(Value kvHead, Value k0);
  /// Qs, dOs, lse2, delta of the query rows [q0, q0 + Br) of head `head`
  /// (zero rows past Lq with tensor cores; the last row repeated in SIMT).
  void stageRows(Value head, Value q0);
  /// The base-2 score of the dot product `s` at query position `p` (i64)
  /// and key `key` (index): c s, then softcap (its slope 1 - tanh^2 into
  /// `capSlope`) and ALiBi (`slope`, null without).
  Value modifiedScore(Value s, Value p, Value key, Value slope,
                      Value &capSlope);
  /// Whether each score i is kept: inRange[i] and, in PARTIAL tiles
  /// (!full), mask(p[i], cellKey[i]) (i64), evaluated once per distinct pair
  /// of values; one branch for all of them. cellKey[i] is the score's key or
  /// the first key of a run the mask is constant on (keyCellWidth).
  SmallVector<Value> keepMask(ArrayRef<Value> p, ArrayRef<Value> cellKey,
                              ArrayRef<Value> inRange, Value full);
  /// dS = scale P (dP - Delta) (1 - tanh^2), 0 where P is 0 (V of a key no
  /// row keeps may hold NaN).
  Value gradOfScore(Value prob, Value dp, Value delta, Value capSlope);
  /// PARTIAL tiles of the dQ blocks: Ks rows of keys that no row of the
  /// query tile keeps become 0 (they may hold NaN, and 0 * NaN would reach
  /// dQ). `full` is uniform over the block.
  void zeroUnusedKeys(Value p0, Value numRows, Value k0, Value full);

  // SIMT.
  /// Ps, dSs of the staged pair; `p0` (i64) is the position of row 0,
  /// `slope` the head's ALiBi slope or null.
  void buildSimtScores(Value p0, Value numRows, Value k0, Value full,
                       Value slope);
  SmallVector<Value> buildSimtKeyPair(Value numRows, ValueRange acc);
  SmallVector<Value> buildSimtQueryPair(ValueRange acc);

  // Tensor cores.
  /// By ldmatrix.x4 from the row-major `tile` ([.][width + pad]): the A
  /// fragment of rows first ... first + 15, columns 16 kk ...; the B
  /// fragments of two n tiles: n = rows first ... first + 15, k = columns
  /// 16 kk ..., or with `transpose` (ldmatrix.x4.trans) k = rows first ...
  /// first + 15, n = columns 16 kk ....
  SmallVector<Value> aFragments(Value tile, Value first, int64_t kk,
                                int64_t width);
  SmallVector<Value> bFragments(Value tile, Value first, int64_t kk,
                                int64_t width, bool transpose);
  /// acc[n] += A B over the width / 8 n tiles of the row-major `tile`
  /// rows first .. first + 15 (k) by ldmatrix.x4.trans.
  void accumulate(SmallVector<Value> &acc, ArrayRef<Value> a, Value tile,
                  Value first, int64_t width);
  /// The accumulators of two 16 x 8 products as the A fragment of one
  /// m16 x k16 product (their n becomes k), rounded to T.
  SmallVector<Value> asAFragment(ArrayRef<Value> c);
  SmallVector<Value> buildMmaKeyPair(Value q0, Value numRows, Value k0,
                                     Value full, Value slope, ValueRange acc);
  SmallVector<Value> buildMmaQueryPair(Value p0, Value numRows, Value k0,
                                       Value full, Value slope,
                                       ValueRange acc);

  /// Stores `acc` (f32) as T at element `offset` of the flat `out`.
  void storeOut(Value acc, Value out, Value offset) {
    if (elemType != f32)
      acc = arith::TruncFOp::create(b, loc, elemType, acc);
    store(acc, out, offset);
  }
  /// Element `col` of row `r` of the shared `tile`, f32; columns past
  /// `width` read its last column.
  Value sharedAt(Value tile, Value r, Value col, int64_t width) {
    return widen(load(tile, {r, minIdx(col, idx(width - 1))}));
  }
  bool mayBePartial() const { return !queryPlan || queryPlan->anyPartial; }

  AttentionGradOp op;
  int64_t rows, keys, pad;
  bool mma;
  MaskAttrInterface mask;
  ScoreModifiers mods;
  /// PARTIAL tensor-core tiles evaluate the mask once per run of cellKeys
  /// keys (keyCellWidth), and once for all rows when it is constant along
  /// them.
  int64_t cellKeys;
  bool rowsShareMask;
  int64_t headDim, valueDim;

  // Values of the kernel being built.
  Value q, k, v, o, dO, lse, dq, dk, dv, hq, hkv, lq, lk, lk64, pMin;
  Value batch, tid, quadRow, quadCol;
  Value ks, vs, qs, dos, ps, dss, lse2s, deltas, used;
  /// dQ blocks with tensor cores: the warp's rows g and g + 8, their lse2
  /// and Delta, and the A fragments of Q and dO.
  Value rowG, lse2G[2], deltaG[2];
  SmallVector<SmallVector<Value>> qFrags, doFrags;
};

gpu::GPUFuncOp GradKernelBuilder::build(gpu::GPUModuleOp module,
                                        StringRef name) {
  Type index = b.getIndexType();
  // (Q, K, V, O, dO, LSE, dQ, dK, dV, Hq, Hkv, Lq, Lk)
  SmallVector<Type> args(9, flatType(elemType));
  args[5] = flatType(f32);
  args.append(4, index);
  auto workgroup =
      gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  auto shared = [&](ArrayRef<int64_t> shape, Type elem) -> Type {
    return MemRefType::get(shape, elem, MemRefLayoutAttrInterface(), workgroup);
  };
  SmallVector<Type> tiles;
  if (!mma)
    tiles = {shared({keys, headDim + pad}, elemType),
             shared({keys, valueDim + pad}, elemType),
             shared({rows, headDim}, elemType),
             shared({rows, valueDim}, elemType),
             shared({rows, kSimtKeys}, f32),
             shared({rows, kSimtKeys}, f32),
             shared({rows}, f32),
             shared({rows}, f32),
             shared({kGradWarps, keys}, b.getI32Type())};
  gpu::GPUFuncOp fn = createKernel(b, loc, module, name, args, tiles, threads);
  q = fn.getArgument(0);
  k = fn.getArgument(1);
  v = fn.getArgument(2);
  o = fn.getArgument(3);
  dO = fn.getArgument(4);
  lse = fn.getArgument(5);
  dq = fn.getArgument(6);
  dk = fn.getArgument(7);
  dv = fn.getArgument(8);
  hq = fn.getArgument(9);
  hkv = fn.getArgument(10);
  lq = fn.getArgument(11);
  lk = fn.getArgument(12);
  declareSharedTiles(fn);

  tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  lane = remIdx(tid, kWarpSize);
  warp = divIdx(tid, kWarpSize);
  quadRow = divIdx(lane, 4);
  quadCol = remIdx(lane, 4);
  batch = gpu::BlockIdOp::create(b, loc, gpu::Dimension::z);
  lk64 = toI64(lk);
  // p = i + (Lk - Lq): bottom-right aligned query positions
  pMin = arith::SubIOp::create(b, loc, lk64, toI64(lq));
  Value x = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value head = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
  Value numKeyTiles = arith::CeilDivUIOp::create(b, loc, lk, idx(keys));
  auto split = scf::IfOp::create(b, loc, lt(x, numKeyTiles),
                                 /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(split.thenBlock());
    ifThen(lt(head, hkv), [&] { buildKeyBlock(x, head); });
    // Query tiles in reverse: under causal-like masks the last ones keep the
    // most keys, and the GPU starts the lowest block ids first.
    b.setInsertionPointToStart(split.elseBlock());
    Value numQueryTiles = arith::CeilDivUIOp::create(b, loc, lq, idx(rows));
    buildQueryBlock(sub(sub(numQueryTiles, idx(1)), sub(x, numKeyTiles)),
                    head);
  }
  return fn;
}

void GradKernelBuilder::declareSharedTiles(gpu::GPUFuncOp fn) {
  if (!mma) {
    ArrayRef<BlockArgument> smem = fn.getWorkgroupAttributions();
    ks = smem[0];
    vs = smem[1];
    qs = smem[2];
    dos = smem[3];
    ps = smem[4];
    dss = smem[5];
    lse2s = smem[6];
    deltas = smem[7];
    used = smem[8];
    return;
  }
  auto workgroup =
      gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  Value smem = gpu::DynamicSharedMemoryOp::create(
      b, loc,
      MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                      MemRefLayoutAttrInterface(), workgroup));
  int64_t offset = 0;
  auto view = [&](ArrayRef<int64_t> shape, Type elem) {
    Value tile = memref::ViewOp::create(
        b, loc,
        MemRefType::get(shape, elem, MemRefLayoutAttrInterface(), workgroup),
        smem, idx(offset), ValueRange{});
    int64_t bytes = elem.getIntOrFloatBitWidth() / 8;
    for (int64_t n : shape)
      bytes *= n;
    offset += bytes;
    return tile;
  };
  ks = view({keys, headDim + pad}, elemType);
  vs = view({keys, valueDim + pad}, elemType);
  qs = view({rows, headDim + pad}, elemType);
  dos = view({rows, valueDim + pad}, elemType);
  lse2s = view({rows}, f32);
  deltas = view({rows}, f32);
  used = view({kGradWarps, keys}, b.getI32Type());
}

void GradKernelBuilder::stageKeys(Value kvHead, Value k0) {
  // After every warp is done with the previous tile.
  gpu::BarrierOp::create(b, loc);
  Value kSlice = mul(add(mul(batch, hkv), kvHead), lk);
  Value lastKey = sub(lk, idx(1));
  auto rowOf = [&](Value c) { return add(kSlice, minIdx(add(k0, c), lastKey)); };
  // Ks, Vs rows c = K, V rows k0 + c, zero past Lk.
  auto copy = [&](Value src, Value tile, int64_t width) {
    if (mma) {
      copyRowsAsync(
          src, tile, idx(0), width + pad, keys, width,
          [&](Value c) { return mul(rowOf(c), idx(width)); },
          [&](Value c) { return lt(add(k0, c), lk); });
      return;
    }
    Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(elemType));
    forLoop(warp, idx(keys), kGradWarps, [&](Value c) {
      Value row = rowOf(c);
      Value inKeys = lt(add(k0, c), lk);
      forLoop(lane, idx(width), kWarpSize, [&](Value d) {
        Value x = load(src, add(mul(row, idx(width)), d));
        store(arith::SelectOp::create(b, loc, inKeys, x, zero), tile, {c, d});
      });
    });
  };
  copy(k, ks, headDim);
  copy(v, vs, valueDim);
  if (mma)
    NVVM::CpAsyncWaitGroupOp::create(b, loc, 0);
  gpu::BarrierOp::create(b, loc);
}

void GradKernelBuilder::stageRows(Value head, Value q0) {
  gpu::BarrierOp::create(b, loc);
  Value qSlice = mul(add(mul(batch, hq), head), lq);
  Value lastRow = sub(lq, idx(1));
  auto rowOf = [&](Value r) { return add(qSlice, minIdx(add(q0, r), lastRow)); };
  if (mma) {
    auto copy = [&](Value src, Value tile, int64_t width) {
      copyRowsAsync(
          src, tile, idx(0), width + pad, rows, width,
          [&](Value r) { return mul(rowOf(r), idx(width)); },
          [&](Value r) { return lt(add(q0, r), lq); });
    };
    copy(q, qs, headDim);
    copy(dO, dos, valueDim);
  }
  // Warp w stages rows w, w + 4, ...: SIMT Q and dO rows (rows past Lq
  // repeat the last one; their P is 0), and Delta and lse2.
  forLoop(warp, idx(rows), kGradWarps, [&](Value r) {
    Value row = rowOf(r);
    if (!mma)
      forLoop(lane, idx(headDim), kWarpSize, [&](Value d) {
        store(load(q, add(mul(row, idx(headDim)), d)), qs, {r, d});
      });
    // Delta = dot(dO_r, O_r)
    auto dot = scf::ForOp::create(
        b, loc, lane, idx(valueDim), idx(kWarpSize), ValueRange{f32Const(0)},
        [&](OpBuilder &, Location, Value d, ValueRange acc) {
          Value at = add(mul(row, idx(valueDim)), d);
          Value g = load(dO, at);
          if (!mma)
            store(g, dos, {r, d});
          scf::YieldOp::create(b, loc,
                               fma(widen(g), widen(load(o, at)), acc[0]));
        });
    Value delta = warpReduce(dot.getResult(0), /*isMax=*/false);
    ifThen(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane,
                                 idx(0)),
           [&] {
             store(delta, deltas, r);
             // LSE in base 2; an empty row (-inf) keeps no key: 0 then
             // leaves its P at 2^(-inf) = 0.
             Value l = load(lse, row);
             Value empty = arith::CmpFOp::create(
                 b, loc, arith::CmpFPredicate::OEQ, l,
                 f32Const(-std::numeric_limits<float>::infinity()));
             store(arith::SelectOp::create(
                       b, loc, empty, f32Const(0),
                       arith::MulFOp::create(
                           b, loc, l, f32Const(static_cast<float>(M_LOG2E)))),
                   lse2s, r);
           });
  });
  if (mma)
    NVVM::CpAsyncWaitGroupOp::create(b, loc, 0);
  gpu::BarrierOp::create(b, loc);
}

Value GradKernelBuilder::modifiedScore(Value s, Value p, Value key, Value slope,
                                       Value &capSlope) {
  // t = scale log2(e) s, then softcap and ALiBi (base 2)
  Value t = arith::MulFOp::create(
      b, loc, s, f32Const(static_cast<float>(op.getScaleValue() * M_LOG2E)));
  capSlope = Value();
  if (mods.softcap) {
    // t = C tanh(t / C); its slope 1 - tanh^2 = 1 - (t / C)^2
    t = mods.applySoftcap(b, loc, t);
    Value ratio = arith::MulFOp::create(b, loc, t, f32Const(1 / *mods.softcap));
    capSlope = arith::SubFOp::create(
        b, loc, f32Const(1), arith::MulFOp::create(b, loc, ratio, ratio));
  }
  if (slope) // t = t - slope |p - k|
    t = mods.applyAlibi(b, loc, t, slope,
                        arith::SIToFPOp::create(b, loc, f32, p),
                        arith::SIToFPOp::create(b, loc, f32, toI64(key)));
  return t;
}

SmallVector<Value> GradKernelBuilder::keepMask(ArrayRef<Value> p,
                                               ArrayRef<Value> cellKey,
                                               ArrayRef<Value> inRange,
                                               Value full) {
  SmallVector<Value> keep(inRange);
  if (!mayBePartial())
    return keep;
  // keep = inRange and (FULL or mask(p, k))
  auto partial =
      scf::IfOp::create(b, loc, TypeRange(ValueRange(keep)), negate(full),
                        /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(partial.thenBlock());
  SmallVector<Value> masked;
  DenseMap<std::pair<Value, Value>, Value> evaluated;
  for (auto [pi, ki, kept] : llvm::zip(p, cellKey, keep)) {
    Value &value = evaluated[{pi, ki}];
    if (!value)
      value = mask.buildPredicate(b, loc, pi, ki, lk64);
    masked.push_back(arith::AndIOp::create(b, loc, kept, value));
  }
  scf::YieldOp::create(b, loc, masked);
  b.setInsertionPointToStart(partial.elseBlock());
  scf::YieldOp::create(b, loc, keep);
  return SmallVector<Value>(partial.getResults());
}

Value GradKernelBuilder::gradOfScore(Value prob, Value dp, Value delta,
                                     Value capSlope) {
  // dS = scale P (dP - Delta) (1 - tanh^2)
  Value ds = arith::MulFOp::create(
      b, loc,
      arith::MulFOp::create(b, loc, prob,
                            f32Const(static_cast<float>(op.getScaleValue()))),
      arith::SubFOp::create(b, loc, dp, delta));
  if (capSlope)
    ds = arith::MulFOp::create(b, loc, ds, capSlope);
  Value kept = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, prob,
                                     f32Const(0));
  return arith::SelectOp::create(b, loc, kept, ds, f32Const(0));
}

void GradKernelBuilder::zeroUnusedKeys(Value p0, Value numRows, Value k0,
                                       Value full) {
  if (!mayBePartial())
    return;
  ifThen(negate(full), [&] {
    Value p1 = arith::AddIOp::create(b, loc, p0, toI64(numRows));
    storeKeyUsedFlags(mask, used, keys, p0, p1, k0, lk64);
    gpu::BarrierOp::create(b, loc);
    // Ks[c][0 : D] = 0 where no warp saw key k0 + c kept: 16 bytes per
    // store with tensor cores.
    Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(elemType));
    forUnusedKeys(used, keys, headDim, mma ? 8 : 1, [&](Value c, Value d) {
      if (!mma)
        return store(zero, ks, {c, d});
      storeZero16(ks, add(mul(c, idx(headDim + pad)), d));
    });
    gpu::BarrierOp::create(b, loc);
  });
}

void GradKernelBuilder::buildSimtScores(Value p0, Value numRows, Value k0,
                                        Value full, Value slope) {
  Value key = add(k0, lane);
  Value inKeys = lt(key, lk);
  Value negInf = f32Const(-std::numeric_limits<float>::infinity());
  forLoop(warp, idx(rows), kGradWarps, [&](Value r) {
        Value p = arith::AddIOp::create(b, loc, p0, toI64(r));
        auto dot = [&](Value rowTile, Value keyTile, int64_t width) {
          auto loop = scf::ForOp::create(
              b, loc, idx(0), idx(width), idx(1), ValueRange{f32Const(0)},
              [&](OpBuilder &, Location, Value d, ValueRange acc) {
                scf::YieldOp::create(
                    b, loc,
                    fma(widen(load(rowTile, {r, d})),
                        widen(load(keyTile, {lane, d})), acc[0]));
              });
          return loop.getResult(0);
        };
        Value capSlope;
        Value t = modifiedScore(dot(qs, ks, headDim), p, key, slope, capSlope);
        Value keep = keepMask(
            {p}, {toI64(key)},
            {arith::AndIOp::create(b, loc, inKeys, lt(r, numRows))}, full)[0];
        t = arith::SelectOp::create(b, loc, keep, t, negInf);
        // P = 2^(t - LSE log2(e)); dP = dO_r . V_c
        Value prob = exp2(arith::SubFOp::create(b, loc, t, load(lse2s, r)));
        store(prob, ps, {r, lane});
        store(gradOfScore(prob, dot(dos, vs, valueDim), load(deltas, r),
                          capSlope),
              dss, {r, lane});
      });
  gpu::BarrierOp::create(b, loc);
}

SmallVector<Value> GradKernelBuilder::buildSimtKeyPair(Value numRows,
                                                       ValueRange acc) {
  // Thread (w, c): dK[c][w + 4j] += sum_r dS[r][c] Q[r][w + 4j],
  // dV[c][w + 4j] += sum_r P[r][c] dO[r][w + 4j]
  int64_t dkCols = llvm::divideCeil(headDim, kGradWarps);
  int64_t dvCols = llvm::divideCeil(valueDim, kGradWarps);
  auto loop = scf::ForOp::create(
      b, loc, idx(0), numRows, idx(1), acc,
      [&](OpBuilder &, Location, Value r, ValueRange cur) {
        Value dsc = load(dss, {r, lane});
        Value pc = load(ps, {r, lane});
        SmallVector<Value> next;
        for (int64_t j = 0; j < dkCols; ++j)
          next.push_back(fma(
              dsc, sharedAt(qs, r, add(warp, idx(kGradWarps * j)), headDim),
              cur[j]));
        for (int64_t j = 0; j < dvCols; ++j)
          next.push_back(fma(
              pc, sharedAt(dos, r, add(warp, idx(kGradWarps * j)), valueDim),
              cur[dkCols + j]));
        scf::YieldOp::create(b, loc, next);
      });
  return SmallVector<Value>(loop.getResults());
}

SmallVector<Value> GradKernelBuilder::buildSimtQueryPair(ValueRange acc) {
  // Thread (w, l): dQ[w + 4i][l + 32j] += sum_c dS[w + 4i][c] K[c][l + 32j]
  int64_t rowsPerWarp = rows / kGradWarps;
  int64_t cols = llvm::divideCeil(headDim, kWarpSize);
  auto loop = scf::ForOp::create(
      b, loc, idx(0), idx(keys), idx(1), acc,
      [&](OpBuilder &, Location, Value c, ValueRange cur) {
        SmallVector<Value> kv, next;
        for (int64_t j = 0; j < cols; ++j)
          kv.push_back(sharedAt(ks, c, add(lane, idx(kWarpSize * j)), headDim));
        for (int64_t i = 0; i < rowsPerWarp; ++i) {
          Value dsv = load(dss, {add(warp, idx(kGradWarps * i)), c});
          for (int64_t j = 0; j < cols; ++j)
            next.push_back(fma(dsv, kv[j], cur[i * cols + j]));
        }
        scf::YieldOp::create(b, loc, next);
      });
  return SmallVector<Value>(loop.getResults());
}

SmallVector<Value> GradKernelBuilder::aFragments(Value tile, Value first,
                                                 int64_t kk, int64_t width) {
  // Matrix i of ldmatrix.x4 starts at row (lane mod 16), column 8 (lane /
  // 16) of lanes 8i ... 8i + 7: (g, 2t..), (g + 8, 2t..), (g, 2t + 8..),
  // (g + 8, 2t + 8..).
  Value row = add(first, remIdx(lane, 16));
  Value col = add(mul(divIdx(lane, 16), idx(8)), idx(16 * kk));
  return loadMatrices(tile, add(mul(row, idx(width + pad)), col),
                      /*transpose=*/false);
}

SmallVector<Value> GradKernelBuilder::bFragments(Value tile, Value first,
                                                 int64_t kk, int64_t width,
                                                 bool transpose) {
  Value bit0 = mul(remIdx(divIdx(lane, 8), 2), idx(8)); // ((lane / 8) & 1) 8
  Value bit1 = mul(divIdx(lane, 16), idx(8));           // (lane / 16) 8
  // n along the rows: rows (lane mod 8) + 8 (lane / 16), columns 16 kk +
  // 8 ((lane / 8) & 1); k along the rows (.trans): rows (lane mod 8) +
  // 8 ((lane / 8) & 1), columns 16 kk + 8 (lane / 16). Registers 0, 1 are
  // n tile 0, registers 2, 3 n tile 1.
  Value row = add(first, add(remIdx(lane, 8), transpose ? bit0 : bit1));
  Value col = add(idx(16 * kk), transpose ? bit1 : bit0);
  return loadMatrices(tile, add(mul(row, idx(width + pad)), col), transpose);
}

void GradKernelBuilder::accumulate(SmallVector<Value> &acc, ArrayRef<Value> a,
                                   Value tile, Value first, int64_t width) {
  for (int64_t nn = 0; nn < width / 16; ++nn) {
    SmallVector<Value> bRegs =
        bFragments(tile, first, nn, width, /*transpose=*/true);
    for (int64_t h = 0; h < 2; ++h) {
      int64_t n = 2 * nn + h;
      SmallVector<Value> d = mmaSync(a, {bRegs[2 * h], bRegs[2 * h + 1]},
                                     ArrayRef<Value>(acc).slice(n * 4, 4));
      std::copy(d.begin(), d.end(), acc.begin() + n * 4);
    }
  }
}

SmallVector<Value> GradKernelBuilder::asAFragment(ArrayRef<Value> c) {
  // c[4 j + e] is row g + 8 (e / 2), column 8 j + 2 t + e % 2 of two 16 x 8
  // tiles: the A registers (g, 2t..), (g + 8, 2t..), (g, 2t + 8..),
  // (g + 8, 2t + 8..) of one 16 x 16 operand.
  auto pair = [&](int64_t i) { return packRounded(c[i], c[i + 1]); };
  return {pair(0), pair(2), pair(4), pair(6)};
}

SmallVector<Value> GradKernelBuilder::buildMmaKeyPair(Value q0, Value numRows,
                                                      Value k0, Value full,
                                                      Value slope,
                                                      ValueRange acc) {
  // Warp w holds keys 16 w + g (+ 8) of the tile: dK, dV accumulators
  // [D / 8][4], [Dv / 8][4]. Per 16 query rows r0 ... of the tile:
  Value warpKey = mul(warp, idx(16));
  Value warpKeys = add(k0, warpKey);
  Value twoT = mul(quadCol, idx(2));
  Value p0 = arith::AddIOp::create(b, loc, pMin, toI64(q0));
  Value negInf = f32Const(-std::numeric_limits<float>::infinity());
  auto chunks = scf::ForOp::create(
      b, loc, idx(0), idx(rows), idx(16), acc,
      [&](OpBuilder &, Location, Value r0, ValueRange cur) {
        // S^T = K Q^T, dP^T = V dO^T: c[4 j + e] is key g + 8 (e / 2), row
        // r0 + 8 j + 2 t + e % 2.
        SmallVector<Value> s(8, f32Const(0)), dp(8, f32Const(0));
        auto product = [&](SmallVector<Value> &c, Value aTile, Value bTile,
                           int64_t width) {
          for (int64_t kk = 0; kk < width / 16; ++kk) {
            SmallVector<Value> a = aFragments(aTile, warpKey, kk, width);
            SmallVector<Value> bRegs =
                bFragments(bTile, r0, kk, width, /*transpose=*/false);
            for (int64_t j = 0; j < 2; ++j) {
              SmallVector<Value> d =
                  mmaSync(a, {bRegs[2 * j], bRegs[2 * j + 1]},
                          ArrayRef<Value>(c).slice(4 * j, 4));
              std::copy(d.begin(), d.end(), c.begin() + 4 * j);
            }
          }
        };
        product(s, ks, qs, headDim);
        product(dp, vs, dos, valueDim);
        // The lane's 4 rows and 2 keys; the mask once per row and key cell.
        Value rows[4], rowPos[4], inRows[4], keyOf[2], cellKeyOf[2], inKeys[2];
        Value chunk = add(r0, twoT);
        for (int64_t n = 0; n < 4; ++n) {
          rows[n] = add(chunk, idx(8 * (n / 2) + n % 2));
          rowPos[n] = arith::AddIOp::create(b, loc, p0, toI64(rows[n]));
          inRows[n] = lt(rows[n], numRows);
        }
        for (int64_t m = 0; m < 2; ++m) {
          Value run = add(warpKeys, idx(8 * m));
          keyOf[m] = add(run, quadRow);
          inKeys[m] = lt(keyOf[m], lk);
          if (cellKeys % 16 == 0 && m == 1)
            cellKeyOf[m] = cellKeyOf[0];
          else
            cellKeyOf[m] = toI64(cellKeys % 8 == 0 ? run : keyOf[m]);
        }
        SmallVector<Value> pos, maskPos, key, cellKey, inRange, rowOf;
        for (int64_t i = 0; i < 8; ++i) {
          int64_t n = 2 * (i / 4) + i % 2, m = i % 4 / 2;
          rowOf.push_back(rows[n]);
          pos.push_back(rowPos[n]);
          maskPos.push_back(rowsShareMask ? rowPos[0] : rowPos[n]);
          key.push_back(keyOf[m]);
          cellKey.push_back(cellKeyOf[m]);
          inRange.push_back(
              arith::AndIOp::create(b, loc, inKeys[m], inRows[n]));
        }
        SmallVector<Value> keep = keepMask(maskPos, cellKey, inRange, full);
        SmallVector<Value> prob, ds;
        for (int64_t i = 0; i < 8; ++i) {
          Value capSlope;
          Value t = modifiedScore(s[i], pos[i], key[i], slope, capSlope);
          t = arith::SelectOp::create(b, loc, keep[i], t, negInf);
          // P = 2^(t - LSE log2(e))
          prob.push_back(
              exp2(arith::SubFOp::create(b, loc, t, load(lse2s, rowOf[i]))));
          ds.push_back(
              gradOfScore(prob[i], dp[i], load(deltas, rowOf[i]), capSlope));
        }
        // dK += dS^T Q, dV += P^T dO (the 16 rows as k)
        SmallVector<Value> next(cur);
        SmallVector<Value> dkAcc(next.begin(), next.begin() + headDim / 2);
        SmallVector<Value> dvAcc(next.begin() + headDim / 2, next.end());
        accumulate(dkAcc, asAFragment(ds), qs, r0, headDim);
        accumulate(dvAcc, asAFragment(prob), dos, r0, valueDim);
        dkAcc.append(dvAcc);
        scf::YieldOp::create(b, loc, dkAcc);
      });
  return SmallVector<Value>(chunks.getResults());
}

SmallVector<Value> GradKernelBuilder::buildMmaQueryPair(Value p0,
                                                        Value numRows,
                                                        Value k0, Value full,
                                                        Value slope,
                                                        ValueRange acc) {
  // Warp w holds rows 16 w + g (+ 8): dQ accumulators [D / 8][4]. Per 16
  // keys c0 ... of the tile:
  Value negInf = f32Const(-std::numeric_limits<float>::infinity());
  Value twoT = mul(quadCol, idx(2));
  auto chunks = scf::ForOp::create(
      b, loc, idx(0), idx(keys), idx(16), acc,
      [&](OpBuilder &, Location, Value c0, ValueRange cur) {
        // S = Q K^T, dP = dO V^T: c[4 j + e] is row g + 8 (e / 2), key
        // c0 + 8 j + 2 t + e % 2.
        SmallVector<Value> s(8, f32Const(0)), dp(8, f32Const(0));
        auto product = [&](SmallVector<Value> &c,
                           ArrayRef<SmallVector<Value>> a, Value bTile,
                           int64_t width) {
          for (int64_t kk = 0; kk < width / 16; ++kk) {
            SmallVector<Value> bRegs =
                bFragments(bTile, c0, kk, width, /*transpose=*/false);
            for (int64_t j = 0; j < 2; ++j) {
              SmallVector<Value> d =
                  mmaSync(a[kk], {bRegs[2 * j], bRegs[2 * j + 1]},
                          ArrayRef<Value>(c).slice(4 * j, 4));
              std::copy(d.begin(), d.end(), c.begin() + 4 * j);
            }
          }
        };
        product(s, qFrags, ks, headDim);
        product(dp, doFrags, vs, valueDim);
        // The lane's 2 rows and 4 keys; the mask once per row and key cell
        // (the lane's first key in it).
        Value rowPos[2], inRows[2], keyOf[4], cellKeyOf[4];
        for (int64_t h = 0; h < 2; ++h) {
          Value r = add(rowG, idx(8 * h));
          rowPos[h] = arith::AddIOp::create(b, loc, p0, toI64(r));
          inRows[h] = lt(r, numRows);
        }
        Value chunk = add(k0, c0);
        for (int64_t n = 0; n < 4; ++n) {
          Value run = add(chunk, idx(8 * (n / 2)));
          keyOf[n] = add(run, add(twoT, idx(n % 2)));
          int64_t first = cellKeys % 16 == 0  ? 0
                          : cellKeys % 8 == 0 ? n - n % 2
                                              : n;
          if (first != n)
            cellKeyOf[n] = cellKeyOf[first];
          else
            cellKeyOf[n] = toI64(cellKeys % 8 == 0 ? run : keyOf[n]);
        }
        SmallVector<Value> pos, maskPos, key, cellKey, inRange;
        for (int64_t i = 0; i < 8; ++i) {
          int64_t h = i % 4 / 2, n = 2 * (i / 4) + i % 2;
          pos.push_back(rowPos[h]);
          maskPos.push_back(rowsShareMask ? rowPos[0] : rowPos[h]);
          key.push_back(keyOf[n]);
          cellKey.push_back(cellKeyOf[n]);
          inRange.push_back(
              arith::AndIOp::create(b, loc, lt(keyOf[n], lk), inRows[h]));
        }
        SmallVector<Value> keep = keepMask(maskPos, cellKey, inRange, full);
        SmallVector<Value> ds;
        for (int64_t i = 0; i < 8; ++i) {
          int64_t h = i % 4 / 2;
          Value capSlope;
          Value t = modifiedScore(s[i], pos[i], key[i], slope, capSlope);
          t = arith::SelectOp::create(b, loc, keep[i], t, negInf);
          // P = 2^(t - LSE log2(e))
          Value prob = exp2(arith::SubFOp::create(b, loc, t, lse2G[h]));
          ds.push_back(gradOfScore(prob, dp[i], deltaG[h], capSlope));
        }
        // dQ += dS K (the 16 keys as k)
        SmallVector<Value> next(cur);
        accumulate(next, asAFragment(ds), ks, c0, headDim);
        scf::YieldOp::create(b, loc, next);
      });
  return SmallVector<Value>(chunks.getResults());
}

void GradKernelBuilder::buildKeyBlock(Value keyTile, Value kvHead) {
  Value k0 = mul(keyTile, idx(keys));
  stageKeys(kvHead, k0);
  // SIMT: thread (w, c) holds dK[c][w + 4j], dV[c][w + 4j]; tensor cores:
  // the accumulators of keys 16 w + g (+ 8), columns 8 n + 2 t (+ 1).
  int64_t dkAcc = mma ? headDim / 2 : llvm::divideCeil(headDim, kGradWarps);
  int64_t dvAcc = mma ? valueDim / 2 : llvm::divideCeil(valueDim, kGradWarps);
  SmallVector<Value> init(dkAcc + dvAcc, f32Const(0));
  Value k064 = toI64(k0);
  Value k164 = toI64(minIdx(add(k0, idx(keys)), lk));
  // G = Hq / Hkv query heads read KV head g: g G ... g G + G - 1
  Value group = arith::DivUIOp::create(
      b, loc, hq, arith::MaxUIOp::create(b, loc, hkv, idx(1)));
  auto heads = scf::ForOp::create(
      b, loc, idx(0), group, idx(1), init,
      [&](OpBuilder &, Location, Value i, ValueRange headState) {
        Value h = add(mul(kvHead, group), i);
        Value slope = mods.slopes.empty() ? Value() : mods.slopeOf(b, loc, h);
        TileSequence seq = getQueryTileSequence(
            b, loc, mask, keyPlan, keyTile, k064, k164, pMin, lq, lk, rows);
        auto tiles = buildTileSequenceLoop(
            b, loc, seq, headState,
            [&](Value qt, ValueRange state, Value full) {
              Value q0 = mul(qt, idx(rows));
              stageRows(h, q0);
              Value numRows = minIdx(idx(rows), sub(lq, q0));
              if (mma)
                return buildMmaKeyPair(q0, numRows, k0, full, slope, state);
              buildSimtScores(arith::AddIOp::create(b, loc, pMin, toI64(q0)),
                              numRows, k0, full, slope);
              return buildSimtKeyPair(numRows, state);
            });
        scf::YieldOp::create(b, loc, tiles.getResults());
      });

  // dK, dV rows of the tile's keys below Lk.
  Value kvSlice = mul(add(mul(batch, hkv), kvHead), lk);
  auto storeRows = [&](Value out, int64_t width, int64_t first, int64_t count) {
    for (int64_t i = 0; i < count; ++i) {
      // key, column of accumulator i
      Value key, col;
      if (mma) {
        key = add(add(k0, mul(warp, idx(16))), add(quadRow, idx(8 * (i % 4 / 2))));
        col = add(idx(8 * (i / 4) + i % 2), mul(quadCol, idx(2)));
      } else {
        key = add(k0, lane);
        col = add(warp, idx(kGradWarps * i));
      }
      Value inside = lt(key, lk);
      if (!mma && kGradWarps * (i + 1) > width)
        inside = arith::AndIOp::create(b, loc, inside, lt(col, idx(width)));
      ifThen(inside, [&] {
        storeOut(heads.getResult(first + i), out,
                 add(mul(add(kvSlice, key), idx(width)), col));
      });
    }
  };
  storeRows(dk, headDim, 0, dkAcc);
  storeRows(dv, valueDim, dkAcc, dvAcc);
}

void GradKernelBuilder::buildQueryBlock(Value queryTile, Value head) {
  Value q0 = mul(queryTile, idx(rows));
  Value numRows = minIdx(idx(rows), sub(lq, q0));
  Value p0 = arith::AddIOp::create(b, loc, pMin, toI64(q0));
  Value p1 = arith::AddIOp::create(b, loc, p0, toI64(numRows));
  Value slope = mods.slopes.empty() ? Value() : mods.slopeOf(b, loc, head);
  // G = Hq / Hkv: query head h reads KV head h / G
  Value group = arith::DivUIOp::create(
      b, loc, hq, arith::MaxUIOp::create(b, loc, hkv, idx(1)));
  Value kvHead = arith::DivUIOp::create(
      b, loc, head, arith::MaxUIOp::create(b, loc, group, idx(1)));
  stageRows(head, q0);
  // SIMT: thread (w, l) holds dQ[w + 4i][l + 32j]; tensor cores: the
  // accumulators of rows 16 w + g (+ 8), columns 8 n + 2 t (+ 1), with the
  // warp's Q and dO fragments, lse2 and Delta in registers.
  int64_t rowsPerWarp = rows / kGradWarps;
  int64_t cols = llvm::divideCeil(headDim, kWarpSize);
  int64_t numAcc = mma ? headDim / 2 : rowsPerWarp * cols;
  if (mma) {
    Value warpRow = mul(warp, idx(16));
    for (int64_t kk = 0; kk < headDim / 16; ++kk)
      qFrags.push_back(aFragments(qs, warpRow, kk, headDim));
    for (int64_t kk = 0; kk < valueDim / 16; ++kk)
      doFrags.push_back(aFragments(dos, warpRow, kk, valueDim));
    rowG = add(warpRow, quadRow);
    for (int64_t h = 0; h < 2; ++h) {
      lse2G[h] = load(lse2s, add(rowG, idx(8 * h)));
      deltaG[h] = load(deltas, add(rowG, idx(8 * h)));
    }
  }
  SmallVector<Value> init(numAcc, f32Const(0));
  TileSequence seq =
      getKeyTileSequence(b, loc, mask, queryPlan, queryTile, p0, p1, lk, keys);
  auto tiles = buildTileSequenceLoop(
      b, loc, seq, init, [&](Value kt, ValueRange state, Value full) {
        Value k0 = mul(kt, idx(keys));
        stageKeys(kvHead, k0);
        zeroUnusedKeys(p0, numRows, k0, full);
        if (mma)
          return buildMmaQueryPair(p0, numRows, k0, full, slope, state);
        buildSimtScores(p0, numRows, k0, full, slope);
        return buildSimtQueryPair(state);
      });

  Value qSlice = mul(add(mul(batch, hq), head), lq);
  for (int64_t i = 0; i < numAcc; ++i) {
    // row, column of accumulator i
    Value r, col;
    if (mma) {
      r = add(rowG, idx(8 * (i % 4 / 2)));
      col = add(idx(8 * (i / 4) + i % 2), mul(quadCol, idx(2)));
    } else {
      r = add(warp, idx(kGradWarps * (i / cols)));
      col = add(lane, idx(kWarpSize * (i % cols)));
    }
    Value inside = lt(r, numRows);
    if (!mma && kWarpSize * (i % cols + 1) > headDim)
      inside = arith::AndIOp::create(b, loc, inside, lt(col, idx(headDim)));
    ifThen(inside, [&] {
      storeOut(tiles.getResult(i), dq,
               add(mul(add(qSlice, add(q0, r)), idx(headDim)), col));
    });
  }
}

/// Rewrites one sattn.attention_grad into its kernel and launch.
struct AttentionGradToGPU : public OpRewritePattern<AttentionGradOp> {
  AttentionGradToGPU(MLIRContext *ctx, bool tensorCores)
      : OpRewritePattern(ctx), tensorCores(tensorCores) {}
  bool tensorCores;

  LogicalResult matchAndRewrite(AttentionGradOp op,
                                PatternRewriter &rewriter) const override {
    auto module = op->getParentOfType<ModuleOp>();
    if (!module)
      return rewriter.notifyMatchFailure(op, "not inside a module");
    auto qType = op.getQuery().getType(), kType = op.getKey().getType();
    Type elem = qType.getElementType();
    int64_t d = qType.getShape().back(),
            dv = op.getValue().getType().getShape().back();
    std::optional<GradShape> shape = getGradShape(elem, d, dv, tensorCores);
    if (!shape)
      return op->emitOpError("head dims D = ")
             << d << ", Dv = " << dv << " with " << elem << " need "
             << gradSharedBytes(4, kSimtKeys, 1, elem, d, dv, false)
             << " bytes of shared memory for the smallest GPU backward "
                "tile; the limit is "
             << kGpuSharedMemoryBytes;

    gpu::GPUModuleOp kernels = getOrCreateKernelModule(module);
    std::string name = getFreshSymbolName(kernels, "attention_grad_");
    op.getMask().declareTables(kernels);
    GradKernelBuilder builder(op, *shape);
    if (!qType.isDynamicDim(2) && !kType.isDynamicDim(2)) {
      auto plan = [&](bool transposed, StringRef suffix) {
        return declareTilePlanTables(kernels, op.getLoc(), op.getMask(),
                                     qType.getDimSize(2), kType.getDimSize(2),
                                     shape->rows, shape->keys,
                                     name + suffix.str(),
                                     transposed);
      };
      builder.keyPlan = plan(/*transposed=*/true, "_keys");
      builder.queryPlan = plan(/*transposed=*/false, "_queries");
    }
    gpu::GPUFuncOp kernel = builder.build(kernels, name);

    Location loc = op.getLoc();
    auto input = [&](Value tensor) {
      return getInputBuffer(rewriter, loc, tensor);
    };
    Value q = input(op.getQuery()), k = input(op.getKey()),
          v = input(op.getValue());
    auto result = [&](Value r, Value like) {
      return allocResultBuffer(rewriter, loc,
                               cast<RankedTensorType>(r.getType()), like);
    };
    Value dqBuf = result(op.getGradQuery(), q);
    Value dkBuf = result(op.getGradKey(), k);
    Value dvBuf = result(op.getGradValue(), v);
    SmallVector<Value> args;
    for (Value buffer : {q, k, v, input(op.getOutput()),
                         input(op.getGradOutput()), input(op.getLse()), dqBuf,
                         dkBuf, dvBuf})
      args.push_back(flattenBuffer(rewriter, loc, buffer));
    auto dim = [&](Value buffer, int64_t i) -> Value {
      return memref::DimOp::create(rewriter, loc, buffer, i);
    };
    auto c = [&](int64_t value) -> Value {
      return arith::ConstantIndexOp::create(rewriter, loc, value);
    };
    args.append({dim(q, 1), dim(k, 1), dim(q, 2), dim(k, 2)});
    // grid (ceil(Lk / Bc) + ceil(Lq / Br), Hq, B)
    Value keyTiles =
        arith::CeilDivUIOp::create(rewriter, loc, dim(k, 2), c(shape->keys));
    Value queryTiles =
        arith::CeilDivUIOp::create(rewriter, loc, dim(q, 2), c(shape->rows));
    Value tiles = arith::AddIOp::create(rewriter, loc, keyTiles, queryTiles);
    using P = KernelParam;
    KernelLaunch launch{shape->rows,
                        shape->keys,
                        kGradWarps * kWarpSize,
                        shape->tensorCores ? shape->sharedBytes : 0,
                        shape->tensorCores,
                        /*writesLse=*/false,
                        {LaunchDim::KeyAndQueryTiles, LaunchDim::QHeads,
                         LaunchDim::Batch},
                        {P::Q, P::K, P::V, P::O, P::GradOutput, P::Lse,
                         P::GradQuery, P::GradKey, P::GradValue, P::QHeads,
                         P::KvHeads, P::QLen, P::KLen}};
    buildKernelLaunch(rewriter, op, kernels, kernel, launch,
                      {tiles, dim(q, 1), dim(q, 0)}, args);

    replaceWithResultBuffers(rewriter, op, {dqBuf, dkBuf, dvBuf});
    return success();
  }
};

} // namespace

void mlir::sattn::populateAttentionGradToGPUPatterns(
    RewritePatternSet &patterns, bool tensorCores) {
  patterns.add<AttentionGradToGPU>(patterns.getContext(), tensorCores);
}
