//===- AttentionGradToGPU.cpp - sattn.attention_grad to a GPU kernel ------===//
//
// The FlashAttention-2 backward as one kernel launch (SIMT, 4 warps): grid
// (ceil(Lk / 32) + ceil(Lq / Br), Hq, B).
//  - Blocks x < ceil(Lk / 32) with y < Hkv compute dK and dV of key tile x
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
// Static shared memory, T the element type:
//   Ks [32][D + 1], Vs [32][Dv + 1]  T    the key tile (lane c reads row c)
//   Qs [Br][D], dOs [Br][Dv]         T    the query tile (broadcast reads)
//   Ps, dSs [Br][32]                 f32  P and dS of the pair
//   lse2, delta [Br]                 f32  LSE log2(e) (0: empty row), Delta
//   used [4][32]                     i32  keys some row of warp w keeps
// Per (query tile, key tile) pair:
//   1. warp w takes rows r = w, w + 4, ..., lane c key k0 + c: the scores
//      and P, dP, dS of row r (both kinds of blocks);
//   2. dK, dV blocks: thread (w, c) holds dK[c][w + 4j] and dV[c][w + 4j]
//      in registers across all pairs and adds row r's terms;
//   3. dQ blocks: thread (w, l) holds dQ[r][l + 32j] of its rows r = w +
//      4i in registers across the key tiles and adds dS K.
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
constexpr int64_t kGradKeys = 32;

/// Static shared memory of the backward kernel for Br query rows.
int64_t gradSharedBytes(int64_t rows, Type elem, int64_t d, int64_t dv) {
  int64_t es = elem.getIntOrFloatBitWidth() / 8;
  return es * (kGradKeys * (d + 1 + dv + 1) + rows * (d + dv)) +
         4 * (2 * rows * kGradKeys + 2 * rows + kGradWarps * kGradKeys);
}

/// Br: the largest of 32, 16, 8, 4 whose tiles fit kGpuSharedMemoryBytes.
std::optional<int64_t> getGradRows(Type elem, int64_t d, int64_t dv) {
  for (int64_t rows : {32, 16, 8, 4})
    if (gradSharedBytes(rows, elem, d, dv) <= kGpuSharedMemoryBytes)
      return rows;
  return std::nullopt;
}

class GradKernelBuilder : public KernelBuilderBase {
public:
  GradKernelBuilder(AttentionGradOp op, int64_t rows)
      : KernelBuilderBase(op.getContext(), op.getLoc()), op(op), rows(rows),
        mask(op.getMask()), mods(op.getSoftcap(), op.getAlibiSlopes()) {
    elemType = op.getQuery().getType().getElementType();
    headDim = op.getQuery().getType().getShape().back();
    valueDim = op.getValue().getType().getShape().back();
  }

  gpu::GPUFuncOp build(gpu::GPUModuleOp module, StringRef name);

  /// For static lengths: the transposed plan (the query tiles of each key
  /// tile) and the forward's (the key tiles of each query tile).
  std::optional<TilePlanTables> keyPlan, queryPlan;

private:
  /// dK and dV of key tile `keyTile` of KV head `kvHead`.
  void buildKeyBlock(Value keyTile, Value kvHead);
  /// dQ of query tile `queryTile` of query head `head`.
  void buildQueryBlock(Value queryTile, Value head);
  /// Ks, Vs = the keys [k0, k0 + 32) of KV head `kvHead`, zero past Lk.
  void stageKeys(Value kvHead, Value k0);
  /// Qs, dOs, lse2, delta of the query rows [q0, q0 + Br) of head `head`.
  void stageRows(Value head, Value q0);
  /// Phase 1: Ps, dSs (and used) of the staged pair; `p0` (i64) is the
  /// position of row 0, `slope` the head's ALiBi slope or null.
  void buildScores(Value p0, Value numRows, Value k0, Value full, Value slope);
  /// Stores `acc` (f32) as T at element `offset` of the flat `out`.
  void storeOut(Value acc, Value out, Value offset) {
    if (elemType != f32)
      acc = arith::TruncFOp::create(b, loc, elemType, acc);
    store(acc, out, offset);
  }
  /// Element `col` of row `r` of the shared `tile` ([rows][width]), f32;
  /// columns past the width read its last column.
  Value sharedAt(Value tile, Value r, Value col, int64_t width) {
    return widen(load(tile, {r, minIdx(col, idx(width - 1))}));
  }

  AttentionGradOp op;
  int64_t rows;
  MaskAttrInterface mask;
  ScoreModifiers mods;
  Type elemType;
  int64_t headDim, valueDim;

  // Values of the kernel being built.
  Value q, k, v, o, dO, lse, dq, dk, dv, hq, hkv, lq, lk, lk64, pMin;
  Value batch, lane, warp, tid;
  Value ks, vs, qs, dos, ps, dss, lse2s, deltas, used;
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
  SmallVector<Type> tiles = {shared({kGradKeys, headDim + 1}, elemType),
                             shared({kGradKeys, valueDim + 1}, elemType),
                             shared({rows, headDim}, elemType),
                             shared({rows, valueDim}, elemType),
                             shared({rows, kGradKeys}, f32),
                             shared({rows, kGradKeys}, f32),
                             shared({rows}, f32),
                             shared({rows}, f32),
                             shared({kGradWarps, kGradKeys}, b.getI32Type())};
  gpu::GPUFuncOp fn = createKernel(b, loc, module, name, args, tiles,
                                   kGradWarps * kWarpSize);
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

  tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  lane = remIdx(tid, kWarpSize);
  warp = divIdx(tid, kWarpSize);
  batch = gpu::BlockIdOp::create(b, loc, gpu::Dimension::z);
  lk64 = toI64(lk);
  // p = i + (Lk - Lq): bottom-right aligned query positions
  pMin = arith::SubIOp::create(b, loc, lk64, toI64(lq));
  Value x = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value head = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
  Value numKeyTiles = arith::CeilDivUIOp::create(b, loc, lk, idx(kGradKeys));
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

void GradKernelBuilder::stageKeys(Value kvHead, Value k0) {
  // After every warp is done with the previous tile.
  gpu::BarrierOp::create(b, loc);
  Value kSlice = mul(add(mul(batch, hkv), kvHead), lk);
  Value lastKey = sub(lk, idx(1));
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(elemType));
  forLoop(warp, idx(kGradKeys), kGradWarps, [&](Value c) {
    Value key = add(k0, c);
    Value inKeys = lt(key, lk);
    Value row = add(kSlice, minIdx(key, lastKey));
    for (auto [src, tile, width] :
         {std::tuple(k, ks, headDim), std::tuple(v, vs, valueDim)})
      forLoop(lane, idx(width), kWarpSize, [&](Value d) {
        Value x = load(src, add(mul(row, idx(width)), d));
        store(arith::SelectOp::create(b, loc, inKeys, x, zero), tile, {c, d});
      });
  });
  gpu::BarrierOp::create(b, loc);
}

void GradKernelBuilder::stageRows(Value head, Value q0) {
  gpu::BarrierOp::create(b, loc);
  Value qSlice = mul(add(mul(batch, hq), head), lq);
  Value lastRow = sub(lq, idx(1));
  // Warp w stages rows w, w + 4, ...; rows past Lq repeat the last one (their
  // P is 0).
  forLoop(warp, idx(rows), kGradWarps, [&](Value r) {
    Value row = add(qSlice, minIdx(add(q0, r), lastRow));
    forLoop(lane, idx(headDim), kWarpSize, [&](Value d) {
      store(load(q, add(mul(row, idx(headDim)), d)), qs, {r, d});
    });
    // Delta = dot(dO_r, O_r), dOs[r] = dO_r
    auto dot = scf::ForOp::create(
        b, loc, lane, idx(valueDim), idx(kWarpSize), ValueRange{f32Const(0)},
        [&](OpBuilder &, Location, Value d, ValueRange acc) {
          Value at = add(mul(row, idx(valueDim)), d);
          Value g = load(dO, at);
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
  gpu::BarrierOp::create(b, loc);
}

void GradKernelBuilder::buildScores(Value p0, Value numRows, Value k0,
                                    Value full, Value slope) {
  Value key = add(k0, lane);
  Value key64 = toI64(key);
  Value inKeys = lt(key, lk);
  Value negInf = f32Const(-std::numeric_limits<float>::infinity());
  float scale = op.getScaleValue();
  Value none = arith::ConstantOp::create(b, loc, b.getBoolAttr(false));
  auto rowLoop = scf::ForOp::create(
      b, loc, warp, idx(rows), idx(kGradWarps), ValueRange{none},
      [&](OpBuilder &, Location, Value r, ValueRange any) {
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
        // t = scale log2(e) Q_r . K_c, then softcap and ALiBi (base 2)
        Value t = arith::MulFOp::create(
            b, loc, dot(qs, ks, headDim),
            f32Const(static_cast<float>(scale * M_LOG2E)));
        Value capSlope = f32Const(1);
        if (mods.softcap) {
          // t = C tanh(t / C); dt/dt0 = 1 - tanh^2 = 1 - (t / C)^2
          t = mods.applySoftcap(b, loc, t);
          Value ratio =
              arith::MulFOp::create(b, loc, t, f32Const(1 / *mods.softcap));
          capSlope = arith::SubFOp::create(
              b, loc, f32Const(1), arith::MulFOp::create(b, loc, ratio, ratio));
        }
        if (slope) // t = t - slope |p - k|
          t = mods.applyAlibi(b, loc, t, slope,
                              arith::SIToFPOp::create(b, loc, f32, p),
                              arith::SIToFPOp::create(b, loc, f32, key64));
        // keep = k < Lk and r a row of the tile and (FULL or mask(p, k))
        Value keep = arith::AndIOp::create(b, loc, inKeys, lt(r, numRows));
        // (Both plans tile the same mask alike: PARTIAL tiles in one are
        // PARTIAL in the other.)
        if (!queryPlan || queryPlan->anyPartial) {
          auto partial = scf::IfOp::create(b, loc, b.getI1Type(), negate(full),
                                           /*withElseRegion=*/true);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(partial.thenBlock());
          scf::YieldOp::create(
              b, loc,
              ValueRange{arith::AndIOp::create(
                  b, loc, keep, mask.buildPredicate(b, loc, p, key64, lk64))});
          b.setInsertionPointToStart(partial.elseBlock());
          scf::YieldOp::create(b, loc, keep);
          keep = partial.getResult(0);
        }
        t = arith::SelectOp::create(b, loc, keep, t, negInf);
        // P = 2^(t - LSE log2(e))
        Value prob =
            exp2(arith::SubFOp::create(b, loc, t, load(lse2s, r)));
        // dS = scale P (dP - Delta) (1 - tanh^2), dP = dO_r . V_c; 0 where P
        // is 0 (V of a key no row keeps may hold NaN)
        Value ds = arith::MulFOp::create(
            b, loc, arith::MulFOp::create(b, loc, prob, f32Const(scale)),
            arith::SubFOp::create(b, loc, dot(dos, vs, valueDim),
                                  load(deltas, r)));
        if (mods.softcap)
          ds = arith::MulFOp::create(b, loc, ds, capSlope);
        Value kept = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                           prob, f32Const(0));
        store(prob, ps, {r, lane});
        store(arith::SelectOp::create(b, loc, kept, ds, f32Const(0)), dss,
              {r, lane});
        scf::YieldOp::create(
            b, loc, ValueRange{arith::OrIOp::create(b, loc, any[0], keep)});
      });
  store(arith::ExtUIOp::create(b, loc, b.getI32Type(), rowLoop.getResult(0)),
        used, {warp, lane});
  gpu::BarrierOp::create(b, loc);
}

void GradKernelBuilder::buildKeyBlock(Value keyTile, Value kvHead) {
  Value k0 = mul(keyTile, idx(kGradKeys));
  stageKeys(kvHead, k0);
  // Thread (w, c): dK[c][w + 4j], dV[c][w + 4j]
  int64_t dkCols = llvm::divideCeil(headDim, kGradWarps);
  int64_t dvCols = llvm::divideCeil(valueDim, kGradWarps);
  SmallVector<Value> init(dkCols + dvCols, f32Const(0));
  Value k064 = toI64(k0);
  Value k164 = toI64(minIdx(add(k0, idx(kGradKeys)), lk));
  // G = Hq / Hkv query heads read KV head g: g G ... g G + G - 1
  Value group = arith::DivUIOp::create(
      b, loc, hq, arith::MaxUIOp::create(b, loc, hkv, idx(1)));
  auto heads = scf::ForOp::create(
      b, loc, idx(0), group, idx(1), init,
      [&](OpBuilder &, Location, Value i, ValueRange headState) {
        Value h = add(mul(kvHead, group), i);
        Value slope =
            mods.slopes.empty() ? Value() : mods.slopeOf(b, loc, h);
        TileSequence seq = getQueryTileSequence(
            b, loc, mask, keyPlan, keyTile, k064, k164, pMin, lq, lk, rows);
        auto tiles = buildTileSequenceLoop(
            b, loc, seq, headState,
            [&](Value qt, ValueRange state, Value full) {
              Value q0 = mul(qt, idx(rows));
              stageRows(h, q0);
              Value numRows = minIdx(idx(rows), sub(lq, q0));
              buildScores(arith::AddIOp::create(b, loc, pMin, toI64(q0)),
                          numRows, k0, full, slope);
              // dK[c] += sum_r dS[r][c] Q[r], dV[c] += sum_r P[r][c] dO[r]
              auto pairLoop = scf::ForOp::create(
                  b, loc, idx(0), numRows, idx(1), state,
                  [&](OpBuilder &, Location, Value r, ValueRange acc) {
                    Value dsc = load(dss, {r, lane});
                    Value pc = load(ps, {r, lane});
                    SmallVector<Value> next;
                    for (int64_t j = 0; j < dkCols; ++j)
                      next.push_back(fma(dsc,
                                         sharedAt(qs, r,
                                                  add(warp, idx(kGradWarps * j)),
                                                  headDim),
                                         acc[j]));
                    for (int64_t j = 0; j < dvCols; ++j)
                      next.push_back(fma(
                          pc,
                          sharedAt(dos, r, add(warp, idx(kGradWarps * j)),
                                   valueDim),
                          acc[dkCols + j]));
                    scf::YieldOp::create(b, loc, next);
                  });
              return SmallVector<Value>(pairLoop.getResults());
            });
        scf::YieldOp::create(b, loc, tiles.getResults());
      });

  // dK, dV rows of the tile's keys (below Lk)
  Value key = add(k0, lane);
  ifThen(lt(key, lk), [&] {
    Value row = add(mul(add(mul(batch, hkv), kvHead), lk), key);
    for (auto [out, width, first, count] :
         {std::tuple(dk, headDim, int64_t(0), dkCols),
          std::tuple(dv, valueDim, dkCols, dvCols)})
      for (int64_t j = 0; j < count; ++j) {
        int64_t col0 = kGradWarps * j;
        Value col = add(warp, idx(col0));
        auto write = [&, out = out, width = width, first = first] {
          storeOut(heads.getResult(first + j), out,
                   add(mul(row, idx(width)), col));
        };
        if (col0 + kGradWarps <= width)
          write();
        else
          ifThen(lt(col, idx(width)), write);
      }
  });
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
  // Thread (w, l): dQ[w + 4i][l + 32j]
  int64_t rowsPerWarp = rows / kGradWarps;
  int64_t cols = llvm::divideCeil(headDim, kWarpSize);
  SmallVector<Value> init(rowsPerWarp * cols, f32Const(0));
  TileSequence seq = getKeyTileSequence(b, loc, mask, queryPlan, queryTile, p0,
                                        p1, lk, kGradKeys);
  auto tiles = buildTileSequenceLoop(
      b, loc, seq, init, [&](Value kt, ValueRange state, Value full) {
        Value k0 = mul(kt, idx(kGradKeys));
        stageKeys(kvHead, k0);
        buildScores(p0, numRows, k0, full, slope);
        // PARTIAL tiles: K rows of keys no row keeps become 0 (they may hold
        // NaN, and 0 * NaN would reach dQ). `full` is uniform over the block.
        ifThen(negate(full), [&] {
          forLoop(tid, idx(kGradKeys * headDim), kGradWarps * kWarpSize,
                  [&](Value i) {
                    Value c = divIdx(i, headDim), d = remIdx(i, headDim);
                    Value any = load(used, {idx(0), c});
                    for (int64_t w = 1; w < kGradWarps; ++w)
                      any = arith::OrIOp::create(b, loc, any,
                                                 load(used, {idx(w), c}));
                    Value isUsed = arith::CmpIOp::create(
                        b, loc, arith::CmpIPredicate::ne, any, i32(0));
                    Value zero = arith::ConstantOp::create(
                        b, loc, b.getZeroAttr(elemType));
                    store(arith::SelectOp::create(b, loc, isUsed,
                                                  load(ks, {c, d}), zero),
                          ks, {c, d});
                  });
          gpu::BarrierOp::create(b, loc);
        });
        // dQ[r] += sum_c dS[r][c] K[c]
        auto keyLoop = scf::ForOp::create(
            b, loc, idx(0), idx(kGradKeys), idx(1), state,
            [&](OpBuilder &, Location, Value c, ValueRange acc) {
              SmallVector<Value> kv, next;
              for (int64_t j = 0; j < cols; ++j)
                kv.push_back(
                    sharedAt(ks, c, add(lane, idx(kWarpSize * j)), headDim));
              for (int64_t i = 0; i < rowsPerWarp; ++i) {
                Value dsv =
                    load(dss, {add(warp, idx(kGradWarps * i)), c});
                for (int64_t j = 0; j < cols; ++j)
                  next.push_back(fma(dsv, kv[j], acc[i * cols + j]));
              }
              scf::YieldOp::create(b, loc, next);
            });
        return SmallVector<Value>(keyLoop.getResults());
      });

  Value qSlice = mul(add(mul(batch, hq), head), lq);
  for (int64_t i = 0; i < rowsPerWarp; ++i) {
    Value r = add(warp, idx(kGradWarps * i));
    ifThen(lt(r, numRows), [&] {
      Value row = add(qSlice, add(q0, r));
      for (int64_t j = 0; j < cols; ++j) {
        Value col = add(lane, idx(kWarpSize * j));
        auto write = [&] {
          storeOut(tiles.getResult(i * cols + j), dq,
                   add(mul(row, idx(headDim)), col));
        };
        if ((j + 1) * kWarpSize <= headDim)
          write();
        else
          ifThen(lt(col, idx(headDim)), write);
      }
    });
  }
}

/// Rewrites one sattn.attention_grad into its kernel and launch.
struct AttentionGradToGPU : public OpRewritePattern<AttentionGradOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionGradOp op,
                                PatternRewriter &rewriter) const override {
    auto module = op->getParentOfType<ModuleOp>();
    if (!module)
      return rewriter.notifyMatchFailure(op, "not inside a module");
    auto qType = op.getQuery().getType(), kType = op.getKey().getType();
    Type elem = qType.getElementType();
    int64_t d = qType.getShape().back(),
            dv = op.getValue().getType().getShape().back();
    std::optional<int64_t> rows = getGradRows(elem, d, dv);
    if (!rows)
      return op->emitOpError("head dims D = ")
             << d << ", Dv = " << dv << " with " << elem << " need "
             << gradSharedBytes(4, elem, d, dv)
             << " bytes of shared memory for the smallest GPU backward "
                "tile; the limit is "
             << kGpuSharedMemoryBytes;

    gpu::GPUModuleOp kernels = getOrCreateKernelModule(module);
    std::string name = getFreshSymbolName(kernels, "attention_grad_");
    op.getMask().declareTables(kernels);
    GradKernelBuilder builder(op, *rows);
    if (!qType.isDynamicDim(2) && !kType.isDynamicDim(2)) {
      auto plan = [&](bool transposed, StringRef suffix) {
        return declareTilePlanTables(kernels, op.getLoc(), op.getMask(),
                                     qType.getDimSize(2), kType.getDimSize(2),
                                     *rows, kGradKeys, name + suffix.str(),
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
    // grid (ceil(Lk / 32) + ceil(Lq / Br), Hq, B), block (128, 1, 1)
    Value keyTiles =
        arith::CeilDivUIOp::create(rewriter, loc, dim(k, 2), c(kGradKeys));
    Value queryTiles =
        arith::CeilDivUIOp::create(rewriter, loc, dim(q, 2), c(*rows));
    Value tiles = arith::AddIOp::create(rewriter, loc, keyTiles, queryTiles);
    int64_t threads = kGradWarps * kWarpSize;
    gpu::LaunchFuncOp::create(
        rewriter, loc, kernel, gpu::KernelDim3{tiles, dim(q, 1), dim(q, 0)},
        gpu::KernelDim3{c(threads), c(1), c(1)}, Value(), args);

    using P = KernelParam;
    MLIRContext *ctx = rewriter.getContext();
    appendKernelFacts(
        op, "sattn.gpu_launches",
        GpuLaunchAttr::get(
            ctx,
            SymbolRefAttr::get(kernels.getNameAttr(),
                               {FlatSymbolRefAttr::get(kernel.getNameAttr())}),
            TileAttr::get(ctx, *rows, kGradKeys),
            {LaunchDim::KeyAndQueryTiles, LaunchDim::QHeads, LaunchDim::Batch},
            threads, /*sharedMemory=*/0, /*tensorCores=*/false,
            /*writesLse=*/false,
            {P::Q, P::K, P::V, P::O, P::GradOutput, P::Lse, P::GradQuery,
             P::GradKey, P::GradValue, P::QHeads, P::KvHeads, P::QLen,
             P::KLen}));

    SmallVector<Value> results;
    for (auto [buffer, r] :
         llvm::zip(ValueRange{dqBuf, dkBuf, dvBuf}, op->getResults()))
      results.push_back(bufferization::ToTensorOp::create(
          rewriter, loc, r.getType(), buffer, /*restrict=*/true,
          /*writable=*/true));
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

void mlir::sattn::populateAttentionGradToGPUPatterns(
    RewritePatternSet &patterns) {
  patterns.add<AttentionGradToGPU>(patterns.getContext());
}
