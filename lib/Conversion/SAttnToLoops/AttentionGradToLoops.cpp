//===- AttentionGradToLoops.cpp - sattn.attention_grad to fused loops -----===//
//
// The FlashAttention-2 backward on the CPU, fused and tiled, in three
// parallel loops:
//  1. over (b, h): Delta_i = dot(dO_i, O_i), and the dQ partial sums zeroed;
//  2. over (b, kv head g, split s): each key tile of the split (kt = s,
//     s + S, ...; interleaved, so causal work spreads evenly) walks the query
//     heads of group g and, for each, the query tiles that keep it (the
//     transposed tile plan). P is recomputed from the forward's LSE; dK and dV
//     of the tile accumulate in scratch, dQ in split s's own f32 rows. No two
//     tasks write the same memory: no atomics;
//  3. over (b, h): dQ = sum_s dQ_s (skipped for f32 with one split: dQ then
//     accumulates in place).
// The split count S is 1 when B * Hkv tasks keep every thread busy, so dQ
// then costs one extra pass over [B, Hq, Lq, D] and no recomputation.
//
// Layouts inside one (query tile, key tile) pair (Br rows, Bc keys, f32
// vectors along the keys):
//   Kt [D][Bc]   scale * log2(e) * K^T, Vt [Dv][Bc] V^T: once per key tile
//   P, dS [Br][Bc]
//   dKacc [Bc][D], dVacc [Bc][Dv]
// and every product is a broadcast-FMA outer product (buildGemm).
//
//===----------------------------------------------------------------------===//

#include "TileMath.h"
#include "sattn/Conversion/SAttnToLoops/SAttnToLoops.h"
#include "sattn/Conversion/Utils/AttentionLowering.h"
#include "sattn/Dialect/SAttn/IR/SAttnOps.h"

#include "mlir/IR/BuiltinOps.h"
#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::sattn;

namespace {

/// The largest divisor of `n` that is at most `limit` (at least 1).
int64_t largestDivisor(int64_t n, int64_t limit) {
  for (int64_t d = std::max<int64_t>(limit, 1); d > 1; --d)
    if (n % d == 0)
      return d;
  return 1;
}

class GradBuilder : TileBuilderBase {
public:
  GradBuilder(AttentionGradOp op, TileSizes tiles, VectorShape vec)
      : TileBuilderBase(op.getContext(), op.getLoc(), vec.lanes), op(op),
        tiles(tiles), vec(vec), mask(op.getMask()),
        mods(op.getSoftcap(), op.getAlibiSlopes()) {
    elemType = op.getQuery().getType().getElementType();
    headDim = op.getQuery().getType().getShape().back();
    valueDim = op.getValue().getType().getShape().back();
    headVecs = (headDim + lanes - 1) / lanes;
    valueVecs = (valueDim + lanes - 1) / lanes;
    scale = op.getScaleValue();
  }

  /// [?, ?, ?, last] of the op's element type.
  MemRefType inputType(int64_t last) {
    int64_t dyn = ShapedType::kDynamic;
    return MemRefType::get({dyn, dyn, dyn, last}, elemType);
  }
  /// [?, ?, ?] f32: LSE, Delta.
  MemRefType rowType() {
    int64_t dyn = ShapedType::kDynamic;
    return MemRefType::get({dyn, dyn, dyn}, f32);
  }
  /// [B * S, Hq, Lq, D] f32: the splits' dQ sums.
  MemRefType partialType() {
    int64_t dyn = ShapedType::kDynamic;
    return MemRefType::get({dyn, dyn, dyn, headDim}, f32);
  }

  func::FuncOp buildPrep(ModuleOp module, StringRef name);
  func::FuncOp buildMain(ModuleOp module, StringRef name);
  func::FuncOp buildFinish(ModuleOp module, StringRef name);

  /// For static lengths: the transposed tile plan.
  std::optional<TilePlanTables> plan;
  /// Iteration spaces (MaskRewrites.h): the main function takes the views
  /// of one residue class (ResidueClass::view) and, last, the residue
  /// position of their row 0; `mask` is the space's.
  bool residue = false;
  /// Iteration spaces after the first: dK and dV add to what the earlier
  /// spaces wrote (dQ always accumulates).
  bool accumulate = false;

  AttentionGradOp op;
  TileSizes tiles;
  VectorShape vec;
  MaskAttrInterface mask;
  Type elemType;
  int64_t headDim = 0, valueDim = 0, headVecs = 0, valueVecs = 0;
  float scale = 1;
  ScoreModifiers mods;

private:
  Value bcast(Value x) {
    return vector::BroadcastOp::create(b, loc, vecF32, x);
  }
  void forLoop(Value lo, Value hi, Value step, function_ref<void(Value)> body) {
    scf::ForOp::create(b, loc, lo, hi, step, ValueRange{},
                       [&](OpBuilder &, Location, Value i, ValueRange) {
                         body(i);
                         scf::YieldOp::create(b, loc);
                       });
  }
  func::FuncOp declare(ModuleOp module, StringRef name, TypeRange args);

  /// acc[y][x] = init(y, x) + sum over z in [zLo, zHi) of a(y, z) * bv(z, x)
  /// for y in [0, yCount) and the `xVecs` vectors x, then store(y, x, acc):
  /// register blocks of yChunk rows (a divisor of `fullRows`, the count in a
  /// full tile) x xChunk vectors held across the z loop; leftover rows one
  /// at a time. `init` null: zeros.
  void buildGemm(Value yCount, int64_t fullRows, int64_t xVecs, Value zLo,
                 Value zHi, function_ref<Value(Value y, Value z)> a,
                 function_ref<Value(Value z, int64_t x)> bv,
                 function_ref<Value(Value y, int64_t x)> init,
                 function_ref<void(Value y, int64_t x, Value acc)> store);

  /// One (query tile, key tile) pair of query head `h`.
  void buildPair(Value qt, Value full, Value h);

  // Values of the main function.
  Value q, k, v, dO, lse, delta, dqPart, batch, kvHead, split, numSplits;
  Value lq, lk, lk64, pMin, k0, nc;
  Value ktBuf, vtBuf, pBuf, dsBuf, capBuf, dkAcc, dvAcc, usedBuf, rowLse,
      rowDelta;
  /// f16/bf16: the query tile's Q and dO rows and the key tile's K rows in
  /// f32, converted once per pair (per key tile) instead of once per product.
  Value qTile, doTile, kRows;
  /// Element (y, z) and vector x of the rows y of the tile's Q or dO, or of
  /// the key tile's K.
  Value rowElement(Value input, Value staged, ValueRange row, Value y, Value z);
  Value rowVector(Value input, Value staged, ValueRange row, Value y, int64_t x,
                  int64_t dim);
};

} // namespace

func::FuncOp GradBuilder::declare(ModuleOp module, StringRef name,
                                  TypeRange args) {
  b.setInsertionPointToEnd(module.getBody());
  auto fn =
      func::FuncOp::create(b, loc, name, FunctionType::get(ctx, args, {}));
  fn.setPrivate();
  b.setInsertionPointToStart(fn.addEntryBlock());
  return fn;
}

func::FuncOp GradBuilder::buildPrep(ModuleOp module, StringRef name) {
  Type index = b.getIndexType();
  func::FuncOp fn = declare(module, name,
                            {inputType(valueDim), inputType(valueDim),
                             rowType(), partialType(), index, index, index});
  Block *entry = &fn.front();
  Value o = entry->getArgument(0), gradOut = entry->getArgument(1);
  Value deltaOut = entry->getArgument(2), part = entry->getArgument(3);
  Value bIdx = entry->getArgument(4), h = entry->getArgument(5),
        splits = entry->getArgument(6);
  forLoop(idx(0), memref::DimOp::create(b, loc, o, 2), idx(1), [&](Value i) {
    // Delta_i = dot(dO_i, O_i)
    Value acc = splat(0.0f);
    for (int64_t j = 0; j < valueVecs; ++j)
      acc = vector::FMAOp::create(
          b, loc,
          loadRowVector(b, loc, gradOut, {bIdx, h, i}, j * lanes, valueDim,
                        lanes),
          loadRowVector(b, loc, o, {bIdx, h, i}, j * lanes, valueDim, lanes),
          acc);
    memref::StoreOp::create(
        b, loc,
        vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, acc),
        deltaOut, ValueRange{bIdx, h, i});
    // dQ_s = 0
    Value first = mulIdx(bIdx, splits);
    forLoop(first, addIdx(first, splits), idx(1), [&](Value s) {
      for (int64_t j = 0; j < headVecs; ++j)
        storeRowVector(b, loc, splat(0.0f), part, {s, h, i}, j * lanes,
                       headDim);
    });
  });
  func::ReturnOp::create(b, loc);
  return fn;
}

func::FuncOp GradBuilder::buildFinish(ModuleOp module, StringRef name) {
  Type index = b.getIndexType();
  func::FuncOp fn = declare(
      module, name, {partialType(), inputType(headDim), index, index, index});
  Block *entry = &fn.front();
  Value part = entry->getArgument(0), dq = entry->getArgument(1);
  Value bIdx = entry->getArgument(2), h = entry->getArgument(3),
        splits = entry->getArgument(4);
  forLoop(idx(0), memref::DimOp::create(b, loc, dq, 2), idx(1), [&](Value i) {
    // dQ_i = sum_s dQ_s,i
    Value first = mulIdx(bIdx, splits);
    SmallVector<Value> zeros(headVecs, splat(0.0f));
    auto sum =
        scf::ForOp::create(b, loc, first, addIdx(first, splits), idx(1), zeros,
                           [&](OpBuilder &, Location, Value s, ValueRange acc) {
                             SmallVector<Value> next;
                             for (int64_t j = 0; j < headVecs; ++j)
                               next.push_back(arith::AddFOp::create(
                                   b, loc, acc[j],
                                   loadRowVector(b, loc, part, {s, h, i},
                                                 j * lanes, headDim, lanes)));
                             scf::YieldOp::create(b, loc, next);
                           });
    for (int64_t j = 0; j < headVecs; ++j)
      storeRowVector(b, loc, sum.getResult(j), dq, {bIdx, h, i}, j * lanes,
                     headDim);
  });
  func::ReturnOp::create(b, loc);
  return fn;
}

void GradBuilder::buildGemm(Value yCount, int64_t fullRows, int64_t xVecs,
                            Value zLo, Value zHi,
                            function_ref<Value(Value, Value)> a,
                            function_ref<Value(Value, int64_t)> bv,
                            function_ref<Value(Value, int64_t)> init,
                            function_ref<void(Value, int64_t, Value)> store) {
  int64_t xChunk = largestDivisor(xVecs, vec.accBudget / kRowChunk);
  int64_t yChunk = largestDivisor(fullRows, vec.accBudget / xChunk);
  auto block = [&](Value y0, int64_t rows) {
    SmallVector<Value> ys;
    for (int64_t i = 0; i < rows; ++i)
      ys.push_back(addIdx(y0, idx(i)));
    for (int64_t x0 = 0; x0 < xVecs; x0 += xChunk) {
      SmallVector<Value> acc;
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < xChunk; ++j)
          acc.push_back(init ? init(ys[i], x0 + j) : splat(0.0f));
      auto loop = scf::ForOp::create(
          b, loc, zLo, zHi, idx(1), acc,
          [&](OpBuilder &, Location, Value z, ValueRange cur) {
            SmallVector<Value> bvecs, next;
            for (int64_t j = 0; j < xChunk; ++j)
              bvecs.push_back(bv(z, x0 + j));
            for (int64_t i = 0; i < rows; ++i) {
              Value av = bcast(a(ys[i], z));
              for (int64_t j = 0; j < xChunk; ++j)
                next.push_back(vector::FMAOp::create(b, loc, av, bvecs[j],
                                                     cur[i * xChunk + j]));
            }
            scf::YieldOp::create(b, loc, next);
          });
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < xChunk; ++j)
          store(ys[i], x0 + j, loop.getResult(i * xChunk + j));
    }
  };
  Value whole =
      mulIdx(arith::DivUIOp::create(b, loc, yCount, idx(yChunk)), idx(yChunk));
  forLoop(idx(0), whole, idx(yChunk), [&](Value y0) { block(y0, yChunk); });
  if (yChunk > 1)
    forLoop(whole, yCount, idx(1), [&](Value y) { block(y, 1); });
}

func::FuncOp GradBuilder::buildMain(ModuleOp module, StringRef name) {
  Type index = b.getIndexType();
  auto input = [&](int64_t last) {
    return residue ? getResidueViewType(elemType, last) : inputType(last);
  };
  Type row = residue ? getResidueViewType(f32, 0) : rowType();
  SmallVector<Type> args = {input(headDim),
                            input(headDim),
                            input(valueDim),
                            input(valueDim),
                            row,
                            row,
                            residue ? getResidueViewType(f32, headDim)
                                    : partialType(),
                            input(headDim),
                            input(valueDim),
                            index,
                            index,
                            index,
                            index};
  if (residue)
    args.push_back(index);
  func::FuncOp fn = declare(module, name, args);
  Block *entry = &fn.front();
  q = entry->getArgument(0);
  k = entry->getArgument(1);
  v = entry->getArgument(2);
  dO = entry->getArgument(3);
  lse = entry->getArgument(4);
  delta = entry->getArgument(5);
  dqPart = entry->getArgument(6);
  Value dk = entry->getArgument(7), dv = entry->getArgument(8);
  batch = entry->getArgument(9);
  kvHead = entry->getArgument(10);
  split = entry->getArgument(11);
  numSplits = entry->getArgument(12);
  const int64_t br = tiles.rows, bc = tiles.keys;

  Value hq = memref::DimOp::create(b, loc, q, 1);
  lq = memref::DimOp::create(b, loc, q, 2);
  Value hkv = memref::DimOp::create(b, loc, k, 1);
  lk = memref::DimOp::create(b, loc, k, 2);
  lk64 = toI64(lk);
  // p = i + (Lk - Lq): bottom-right aligned query positions (a residue
  // class: the position of its row 0)
  pMin = residue ? toI64(entry->getArguments().back())
                 : arith::SubIOp::create(b, loc, lk64, toI64(lq));
  // G = Hq / Hkv query heads read KV head g: heads g * G ... g * G + G - 1
  Value group = arith::DivUIOp::create(
      b, loc, hq, arith::MaxUIOp::create(b, loc, hkv, idx(1)));

  auto scratch = [&](ArrayRef<int64_t> shape) -> Value {
    return memref::AllocaOp::create(b, loc, MemRefType::get(shape, f32),
                                    b.getI64IntegerAttr(64));
  };
  ktBuf = scratch({headDim, bc});
  vtBuf = scratch({valueDim, bc});
  pBuf = scratch({br, bc});
  dsBuf = scratch({br, bc});
  if (mods.softcap)
    capBuf = scratch({br, bc});
  dkAcc = scratch({bc, headVecs * lanes});
  dvAcc = scratch({bc, valueVecs * lanes});
  usedBuf = scratch({bc});
  if (!elemType.isF32()) {
    qTile = scratch({br, headVecs * lanes});
    doTile = scratch({br, valueVecs * lanes});
    kRows = scratch({bc, headVecs * lanes});
  }
  rowLse = scratch({br});
  rowDelta = scratch({br});

  Value numKeyTiles = arith::CeilDivUIOp::create(b, loc, lk, idx(bc));
  Value scaleLog2e = f32Const(static_cast<float>(scale * M_LOG2E));
  forLoop(split, numKeyTiles, numSplits, [&](Value kt) {
    k0 = mulIdx(kt, idx(bc));
    nc = minIdx(idx(bc), subIdx(lk, k0));
    Value lastKey = subIdx(addIdx(k0, nc), idx(1));
    // Kt[d][c] = scale log2(e) K[k0 + c, d], Vt[j][c] = V[k0 + c, j]; columns
    // past the tile repeat its last key (they are masked below).
    forLoop(idx(0), idx(bc), idx(1), [&](Value c) {
      Value key = minIdx(addIdx(k0, c), lastKey);
      forLoop(idx(0), idx(headDim), idx(1), [&](Value d) {
        Value x = widen(memref::LoadOp::create(
            b, loc, k, ValueRange{batch, kvHead, key, d}));
        memref::StoreOp::create(b, loc,
                                arith::MulFOp::create(b, loc, x, scaleLog2e),
                                ktBuf, ValueRange{d, c});
      });
      forLoop(idx(0), idx(valueDim), idx(1), [&](Value j) {
        Value x = widen(memref::LoadOp::create(
            b, loc, v, ValueRange{batch, kvHead, key, j}));
        memref::StoreOp::create(b, loc, x, vtBuf, ValueRange{j, c});
      });
      // dKacc = dVacc = 0; f16/bf16: K's rows in f32
      for (int64_t j = 0; j < headVecs; ++j) {
        vector::StoreOp::create(b, loc, splat(0.0f), dkAcc,
                                ValueRange{c, idx(j * lanes)});
        if (kRows)
          vector::StoreOp::create(b, loc,
                                  loadRowVector(b, loc, k, {batch, kvHead, key},
                                                j * lanes, headDim, lanes),
                                  kRows, ValueRange{c, idx(j * lanes)});
      }
      for (int64_t j = 0; j < valueVecs; ++j)
        vector::StoreOp::create(b, loc, splat(0.0f), dvAcc,
                                ValueRange{c, idx(j * lanes)});
    });

    // Each query head of the group, each query tile that keeps the key tile.
    Value k064 = toI64(k0), k164 = toI64(addIdx(k0, nc));
    forLoop(idx(0), group, idx(1), [&](Value g) {
      Value h = addIdx(mulIdx(kvHead, group), g);
      buildQueryTileLoop(b, loc, mask, plan, kt, k064, k164, pMin, lq, lk, br,
                         [&](Value qt, Value full) { buildPair(qt, full, h); });
    });

    // dK = dKacc, dV = dVacc (+= after the first iteration space)
    forLoop(idx(0), nc, idx(1), [&](Value c) {
      SmallVector<Value> keyRow = {batch, kvHead, addIdx(k0, c)};
      auto store = [&](Value acc, Value out, int64_t vecs, int64_t dim) {
        for (int64_t j = 0; j < vecs; ++j) {
          Value x = vector::LoadOp::create(b, loc, vecF32, acc,
                                           ValueRange{c, idx(j * lanes)});
          if (accumulate)
            x = arith::AddFOp::create(
                b, loc, x,
                loadRowVector(b, loc, out, keyRow, j * lanes, dim, lanes));
          storeRowVector(b, loc, x, out, keyRow, j * lanes, dim);
        }
      };
      store(dkAcc, dk, headVecs, headDim);
      store(dvAcc, dv, valueVecs, valueDim);
    });
  });
  func::ReturnOp::create(b, loc);
  return fn;
}

Value GradBuilder::rowElement(Value input, Value staged, ValueRange row,
                              Value y, Value z) {
  if (staged)
    return memref::LoadOp::create(b, loc, staged, ValueRange{y, z});
  return widen(memref::LoadOp::create(
      b, loc, input, ValueRange{row[0], row[1], addIdx(row[2], y), z}));
}

Value GradBuilder::rowVector(Value input, Value staged, ValueRange row, Value y,
                             int64_t x, int64_t dim) {
  if (staged)
    return vector::LoadOp::create(b, loc, vecF32, staged,
                                  ValueRange{y, idx(x * lanes)});
  return loadRowVector(b, loc, input, {row[0], row[1], addIdx(row[2], y)},
                       x * lanes, dim, lanes);
}

void GradBuilder::buildPair(Value qt, Value full, Value h) {
  const int64_t br = tiles.rows, bc = tiles.keys, keyVecs = bc / lanes;
  Value q0 = mulIdx(qt, idx(br));
  Value numRows = minIdx(idx(br), subIdx(lq, q0));
  Value p0 = arith::AddIOp::create(b, loc, pMin, toI64(q0));
  // A tile cut by Lk is masked: its columns past nc hold no key.
  full = arith::AndIOp::create(
      b, loc, full,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, nc, idx(bc)));
  Value outBatch = addIdx(mulIdx(batch, numSplits), split);
  float negInf = -std::numeric_limits<float>::infinity();

  // Per row: LSE in base 2 (0 for an empty row, whose P is then 0) and Delta.
  forLoop(idx(0), numRows, idx(1), [&](Value r) {
    Value row = addIdx(q0, r);
    Value l = memref::LoadOp::create(b, loc, lse, ValueRange{batch, h, row});
    Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, l,
                                        f32Const(negInf));
    Value l2 =
        arith::MulFOp::create(b, loc, l, f32Const(static_cast<float>(M_LOG2E)));
    memref::StoreOp::create(
        b, loc, arith::SelectOp::create(b, loc, empty, f32Const(0.0f), l2),
        rowLse, ValueRange{r});
    memref::StoreOp::create(
        b, loc,
        memref::LoadOp::create(b, loc, delta, ValueRange{batch, h, row}),
        rowDelta, ValueRange{r});
    // f16/bf16: the rows of Q and dO in f32
    for (auto [input, staged, dim] :
         {std::tuple(q, qTile, headDim), std::tuple(dO, doTile, valueDim)})
      for (int64_t j = 0; staged && j < (dim + lanes - 1) / lanes; ++j)
        vector::StoreOp::create(b, loc,
                                loadRowVector(b, loc, input, {batch, h, row},
                                              j * lanes, dim, lanes),
                                staged, ValueRange{r, idx(j * lanes)});
  });
  SmallVector<Value, 3> queryRow = {batch, h, q0};

  // S = scale log2(e) Q K^T
  buildGemm(
      numRows, br, keyVecs, idx(0), idx(headDim),
      [&](Value y, Value z) { return rowElement(q, qTile, queryRow, y, z); },
      [&](Value z, int64_t x) -> Value {
        return vector::LoadOp::create(b, loc, vecF32, ktBuf,
                                      ValueRange{z, idx(x * lanes)});
      },
      nullptr,
      [&](Value y, int64_t x, Value acc) {
        vector::StoreOp::create(b, loc, acc, pBuf,
                                ValueRange{y, idx(x * lanes)});
      });

  // P = 2^(S' - LSE log2 e), S' the score after softcap, ALiBi and (PARTIAL
  // tiles) the mask; usedBuf[c] = 1 if some row keeps key k0 + c.
  Value slope = mods.slopes.empty() ? Value() : bcast(mods.slopeOf(b, loc, h));
  auto vecI64 = VectorType::get({lanes}, b.getI64Type());
  auto keyPositions = [&](int64_t x) -> Value {
    SmallVector<int64_t> offsets;
    for (int64_t i = 0; i < lanes; ++i)
      offsets.push_back(x * lanes + i);
    return arith::AddIOp::create(
        b, loc, vector::BroadcastOp::create(b, loc, vecI64, toI64(k0)),
        arith::ConstantOp::create(
            b, loc, DenseElementsAttr::get(vecI64, ArrayRef(offsets))));
  };
  auto probabilities = [&](bool masked) {
    auto vecI1 = VectorType::get({lanes}, b.getI1Type());
    Value none = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vecI1, b.getBoolAttr(false)));
    SmallVector<Value> used(masked ? keyVecs : 0, none);
    Value lkVec = vector::BroadcastOp::create(b, loc, vecI64, lk64);
    Value endVec =
        vector::BroadcastOp::create(b, loc, vecI64, toI64(addIdx(k0, nc)));
    auto rows = scf::ForOp::create(
        b, loc, idx(0), numRows, idx(1), used,
        [&](OpBuilder &, Location, Value r, ValueRange cur) {
          Value pos = arith::AddIOp::create(b, loc, p0, toI64(r));
          Value posVec = vector::BroadcastOp::create(b, loc, vecI64, pos);
          Value lse2 = bcast(memref::LoadOp::create(b, loc, rowLse, r));
          SmallVector<Value> next;
          for (int64_t x = 0; x < keyVecs; ++x) {
            SmallVector<Value, 2> at = {r, idx(x * lanes)};
            Value s = vector::LoadOp::create(b, loc, vecF32, pBuf, at);
            Value keys = keyPositions(x);
            if (mods.softcap) {
              // s = C tanh(s / C); ds/dt = 1 - tanh^2 = 1 - (s / C)^2
              s = mods.applySoftcap(b, loc, s);
              Value ratio =
                  arith::MulFOp::create(b, loc, s, splat(1 / *mods.softcap));
              vector::StoreOp::create(
                  b, loc,
                  arith::SubFOp::create(
                      b, loc, splat(1.0f),
                      arith::MulFOp::create(b, loc, ratio, ratio)),
                  capBuf, at);
            }
            if (slope) // s = s - slope |p - k|
              s = mods.applyAlibi(
                  b, loc, s, slope,
                  arith::SIToFPOp::create(b, loc, vecF32, posVec),
                  arith::SIToFPOp::create(b, loc, vecF32, keys));
            if (masked) {
              Value keep = arith::AndIOp::create(
                  b, loc, mask.buildPredicate(b, loc, posVec, keys, lkVec),
                  arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, keys,
                                        endVec));
              s = arith::SelectOp::create(b, loc, keep, s, splat(negInf));
              next.push_back(arith::OrIOp::create(b, loc, cur[x], keep));
            }
            vector::StoreOp::create(
                b, loc,
                buildExp2(b, loc, arith::SubFOp::create(b, loc, s, lse2)), pBuf,
                at);
          }
          scf::YieldOp::create(b, loc, next);
        });
    for (int64_t x = 0; masked && x < keyVecs; ++x)
      vector::StoreOp::create(b, loc,
                              arith::SelectOp::create(b, loc, rows.getResult(x),
                                                      splat(1.0f), splat(0.0f)),
                              usedBuf, ValueRange{idx(x * lanes)});
  };
  auto ifFull = [&](function_ref<void(bool masked)> body) {
    auto ifOp = scf::IfOp::create(b, loc, full, /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    body(false);
    b.setInsertionPointToStart(ifOp.elseBlock());
    body(true);
  };
  ifFull(probabilities);

  // dS = scale P (dP - Delta) with dP = dO V^T, times (1 - tanh^2) under
  // softcap (the scale of dQ and dK folded in); 0 where P is 0 (a key no row
  // keeps may hold NaN in V).
  buildGemm(
      numRows, br, keyVecs, idx(0), idx(valueDim),
      [&](Value y, Value z) { return rowElement(dO, doTile, queryRow, y, z); },
      [&](Value z, int64_t x) -> Value {
        return vector::LoadOp::create(b, loc, vecF32, vtBuf,
                                      ValueRange{z, idx(x * lanes)});
      },
      nullptr,
      [&](Value y, int64_t x, Value dP) {
        SmallVector<Value, 2> at = {y, idx(x * lanes)};
        Value p = vector::LoadOp::create(b, loc, vecF32, pBuf, at);
        Value ds = arith::MulFOp::create(
            b, loc, arith::MulFOp::create(b, loc, p, splat(scale)),
            arith::SubFOp::create(
                b, loc, dP,
                bcast(memref::LoadOp::create(b, loc, rowDelta, y))));
        if (capBuf)
          ds = arith::MulFOp::create(
              b, loc, ds, vector::LoadOp::create(b, loc, vecF32, capBuf, at));
        Value kept = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, p,
                                           splat(0.0f));
        vector::StoreOp::create(
            b, loc, arith::SelectOp::create(b, loc, kept, ds, splat(0.0f)),
            dsBuf, at);
      });

  // dVacc += P^T dO; dKacc += dS^T Q
  auto accumulateKeys = [&](Value coeffs, Value rowsOf, Value staged, Value acc,
                            int64_t dim) {
    int64_t vecs = (dim + lanes - 1) / lanes;
    buildGemm(
        nc, bc, vecs, idx(0), numRows,
        [&](Value y, Value z) -> Value {
          return memref::LoadOp::create(b, loc, coeffs, ValueRange{z, y});
        },
        [&](Value z, int64_t x) {
          return rowVector(rowsOf, staged, queryRow, z, x, dim);
        },
        [&](Value y, int64_t x) -> Value {
          return vector::LoadOp::create(b, loc, vecF32, acc,
                                        ValueRange{y, idx(x * lanes)});
        },
        [&](Value y, int64_t x, Value sum) {
          vector::StoreOp::create(b, loc, sum, acc,
                                  ValueRange{y, idx(x * lanes)});
        });
  };
  accumulateKeys(pBuf, dO, doTile, dvAcc, valueDim);
  accumulateKeys(dsBuf, q, qTile, dkAcc, headDim);

  // dQ_s += dS K. In PARTIAL tiles the K rows of keys no row keeps count as
  // 0: they may hold NaN.
  ifFull([&](bool guarded) {
    buildGemm(
        numRows, br, headVecs, idx(0), nc,
        [&](Value y, Value z) -> Value {
          return memref::LoadOp::create(b, loc, dsBuf, ValueRange{y, z});
        },
        [&](Value z, int64_t x) {
          Value row = rowVector(k, kRows, {batch, kvHead, k0}, z, x, headDim);
          if (!guarded)
            return row;
          Value used = arith::CmpFOp::create(
              b, loc, arith::CmpFPredicate::ONE,
              memref::LoadOp::create(b, loc, usedBuf, ValueRange{z}),
              f32Const(0.0f));
          return Value(arith::SelectOp::create(b, loc, used, row, splat(0.0f)));
        },
        [&](Value y, int64_t x) -> Value {
          return loadRowVector(b, loc, dqPart, {outBatch, h, addIdx(q0, y)},
                               x * lanes, headDim, lanes);
        },
        [&](Value y, int64_t x, Value sum) {
          storeRowVector(b, loc, sum, dqPart, {outBatch, h, addIdx(q0, y)},
                         x * lanes, headDim);
        });
  });
}

namespace {
/// Rewrites sattn.attention_grad into buffers, the three parallel loops and
/// the calls of their functions.
struct AttentionGradToLoops : public OpRewritePattern<AttentionGradOp> {
  AttentionGradToLoops(MLIRContext *ctx, VectorShape vec)
      : OpRewritePattern(ctx), vec(vec) {}
  VectorShape vec;

  LogicalResult matchAndRewrite(AttentionGradOp op,
                                PatternRewriter &rewriter) const override {
    auto module = op->getParentOfType<ModuleOp>();
    if (!module)
      return rewriter.notifyMatchFailure(op, "not inside a module");
    TileSizes tiles = getTileSizes(op, {32, 32});
    if (tiles.keys % vec.lanes != 0)
      return op->emitOpError("'sattn.tile' keys must be a multiple of ")
             << vec.lanes << ", got " << tiles.keys;
    int64_t d = op.getQuery().getType().getShape().back();
    int64_t dv = op.getValue().getType().getShape().back();
    if (d > kMaxHeadDim || dv > kMaxHeadDim)
      return op->emitOpError("head dims D = ")
             << d << ", Dv = " << dv << " exceed the CPU kernel's limit of "
             << kMaxHeadDim;
    int64_t dPad = llvm::alignTo(d, vec.lanes),
            dvPad = llvm::alignTo(dv, vec.lanes);
    // Kt, Vt, dKacc, dVacc, used keys; P, dS, softcap's factor, LSE, Delta;
    // f16/bf16: Q, dO and K rows in f32.
    int64_t staged = op.getQuery().getType().getElementType().isF32()
                         ? 0
                         : tiles.keys * dPad + tiles.rows * (dPad + dvPad);
    int64_t scratchBytes = 4 * (tiles.keys * (d + dv + dPad + dvPad + 1) +
                                tiles.rows * (3 * tiles.keys + 2) + staged);
    if (scratchBytes > kMaxScratchBytes)
      return op->emitOpError("'sattn.tile' = <rows = ")
             << tiles.rows << ", keys = " << tiles.keys << "> with D = " << d
             << ", Dv = " << dv << " needs " << scratchBytes
             << " bytes of scratch per thread; at most " << kMaxScratchBytes;

    std::string name = getFreshSymbolName(module, "__sattn_grad_");
    op.getMask().declareTables(module);
    GradBuilder builder(op, tiles, vec);
    // Strided and dilated masks: the forward's iteration spaces, whose
    // gradients add up.
    std::optional<SmallVector<IterationSpace>> spaces;
    if (!op.getAlibiSlopes())
      spaces = splitIterationSpaces(op.getMask());
    auto qType = op.getQuery().getType(), kType = op.getKey().getType();
    if (!spaces && !qType.isDynamicDim(2) && !kType.isDynamicDim(2))
      builder.plan = declareTilePlanTables(
          module, op.getLoc(), op.getMask(), qType.getDimSize(2),
          kType.getDimSize(2), tiles.rows, tiles.keys, name,
          /*transposed=*/true);
    appendKernelFacts(op, "sattn.cpu_kernels",
                      CpuKernelAttr::get(op.getContext(),
                                         TileAttr::get(op.getContext(),
                                                       tiles.rows, tiles.keys),
                                         spaces ? spaces->size() : 1, 1,
                                         false));
    func::FuncOp prepFn = builder.buildPrep(module, name + "_prep");
    func::FuncOp mainFn =
        spaces ? func::FuncOp() : builder.buildMain(module, name);
    func::FuncOp finishFn = builder.buildFinish(module, name + "_dq");

    Location loc = op.getLoc();
    auto c = [&](int64_t x) -> Value {
      return arith::ConstantIndexOp::create(rewriter, loc, x);
    };
    auto toBuffer = [&](Value tensor, MemRefType type) -> Value {
      return memref::CastOp::create(rewriter, loc, type,
                                    getInputBuffer(rewriter, loc, tensor));
    };
    Value q = toBuffer(op.getQuery(), builder.inputType(d));
    Value k = toBuffer(op.getKey(), builder.inputType(d));
    Value v = toBuffer(op.getValue(), builder.inputType(dv));
    Value o = toBuffer(op.getOutput(), builder.inputType(dv));
    Value dO = toBuffer(op.getGradOutput(), builder.inputType(dv));
    Value lse = toBuffer(op.getLse(), builder.rowType());
    auto align = rewriter.getI64IntegerAttr(64);
    Value dqBuf = allocResultBuffer(
        rewriter, loc, cast<RankedTensorType>(op.getGradQuery().getType()), q,
        align);
    Value dkBuf = allocResultBuffer(
        rewriter, loc, cast<RankedTensorType>(op.getGradKey().getType()), k,
        align);
    Value dvBuf = allocResultBuffer(
        rewriter, loc, cast<RankedTensorType>(op.getGradValue().getType()), v,
        align);
    auto cast = [&](Value buffer, MemRefType type) -> Value {
      return memref::CastOp::create(rewriter, loc, type, buffer);
    };
    Value dq = cast(dqBuf, builder.inputType(d));
    Value dk = cast(dkBuf, builder.inputType(d));
    Value dvArg = cast(dvBuf, builder.inputType(dv));

    auto dim = [&](Value memref, int64_t i) -> Value {
      return memref::DimOp::create(rewriter, loc, memref, i);
    };
    Value batch = dim(q, 0), hq = dim(q, 1), lq = dim(q, 2), hkv = dim(k, 1);
    // Splits of the key tiles: enough (B, kv head, split) tasks for two per
    // thread, each with its own dQ rows.
    Value tasks = arith::MaxSIOp::create(
        rewriter, loc, arith::MulIOp::create(rewriter, loc, batch, hkv), c(1));
    Value wanted = arith::CeilDivUIOp::create(
        rewriter, loc,
        arith::MulIOp::create(rewriter, loc, c(2),
                              buildMaxThreads(rewriter, op)),
        tasks);
    Value keyTiles =
        arith::CeilDivUIOp::create(rewriter, loc, dim(k, 2), c(tiles.keys));
    Value splits = arith::MaxSIOp::create(
        rewriter, loc, arith::MinSIOp::create(rewriter, loc, wanted, keyTiles),
        c(1));
    Value delta = memref::AllocOp::create(rewriter, loc, builder.rowType(),
                                          ValueRange{batch, hq, lq}, align);
    // f32 with one split: dQ accumulates in place, with no partial rows and
    // no finish pass.
    Value direct =
        arith::ConstantOp::create(rewriter, loc, rewriter.getBoolAttr(false));
    if (builder.elemType.isF32())
      direct = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq,
                                     splits, c(1));
    Value partialRows = arith::SelectOp::create(
        rewriter, loc, direct, c(0),
        arith::MulIOp::create(rewriter, loc, batch, splits));
    Value partial =
        memref::AllocOp::create(rewriter, loc, builder.partialType(),
                                ValueRange{partialRows, hq, lq}, align);
    if (builder.elemType.isF32())
      partial = arith::SelectOp::create(
          rewriter, loc, direct, cast(dqBuf, builder.partialType()), partial);

    Value zero = c(0), one = c(1);
    auto perQueryHead = [&](func::FuncOp fn, ValueRange args) {
      scf::ParallelOp::create(
          rewriter, loc, ValueRange{zero, zero}, ValueRange{batch, hq},
          ValueRange{one, one},
          [&](OpBuilder &nb, Location nloc, ValueRange ivs) {
            SmallVector<Value> callArgs(args);
            callArgs.append({ivs[0], ivs[1], splits});
            func::CallOp::create(nb, nloc, fn, callArgs);
          });
    };
    perQueryHead(prepFn, {o, dO, delta, partial});
    if (!spaces)
      scf::ParallelOp::create(
          rewriter, loc, ValueRange{zero, zero, zero},
          ValueRange{batch, hkv, splits}, ValueRange{one, one, one},
          [&](OpBuilder &nb, Location nloc, ValueRange ivs) {
            func::CallOp::create(nb, nloc, mainFn,
                                 ValueRange{q, k, v, dO, lse, delta, partial,
                                            dk, dvArg, ivs[0], ivs[1], ivs[2],
                                            splits});
          });
    // Per iteration space: (b, kv head, residue class, split) tasks on the
    // class's views.
    ArrayRef<IterationSpace> spaceList;
    if (spaces)
      spaceList = *spaces;
    for (const IterationSpace &space : spaceList) {
      GradBuilder spaceBuilder(op, tiles, vec);
      spaceBuilder.mask = space.mask;
      spaceBuilder.residue = true;
      spaceBuilder.accumulate = &space != &spaceList.front();
      func::FuncOp fn = spaceBuilder.buildMain(
          module, getFreshSymbolName(module, name + "_space"));
      setIterationSpaceAttr(fn, space);
      scf::ParallelOp::create(
          rewriter, loc, ValueRange{zero, zero, zero, zero},
          ValueRange{batch, hkv, c(space.stride), splits},
          ValueRange{one, one, one, one},
          [&](OpBuilder &nb, Location nloc, ValueRange ivs) {
            Value r = ivs[2];
            ResidueClass cls = buildResidueClass(nb, nloc, r, space.stride,
                                                 space.shift, lq, dim(k, 2));
            Value rows = cls.numRows, keys = cls.numKeys, i0 = cls.firstRow;
            auto view = [&](Value buffer, Type elem, int64_t last, Value first,
                            Value count) {
              return cls.view(nb, nloc, getResidueViewType(elem, last), buffer,
                              first, count);
            };
            Type elem = builder.elemType, f32 = rewriter.getF32Type();
            func::CallOp::create(
                nb, nloc, fn,
                ValueRange{
                    view(q, elem, d, i0, rows), view(k, elem, d, r, keys),
                    view(v, elem, dv, r, keys), view(dO, elem, dv, i0, rows),
                    view(lse, f32, 0, i0, rows), view(delta, f32, 0, i0, rows),
                    view(partial, f32, d, i0, rows), view(dk, elem, d, r, keys),
                    view(dvArg, elem, dv, r, keys), ivs[0], ivs[1], ivs[3],
                    splits, cls.position});
          });
    }
    auto finish = scf::IfOp::create(
        rewriter, loc,
        arith::XOrIOp::create(rewriter, loc, direct,
                              arith::ConstantOp::create(
                                  rewriter, loc, rewriter.getBoolAttr(true))));
    {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(finish.thenBlock());
      perQueryHead(finishFn, {partial, dq});
    }

    replaceWithResultBuffers(rewriter, op, {dqBuf, dkBuf, dvBuf});
    return success();
  }
};
} // namespace

void mlir::sattn::populateAttentionGradToLoopsPatterns(
    RewritePatternSet &patterns, VectorShape vec) {
  patterns.add<AttentionGradToLoops>(patterns.getContext(), vec);
}
