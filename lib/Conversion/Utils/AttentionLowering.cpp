//===- AttentionLowering.cpp - shared by the sattn conversions ------------===//

#include "sattn/Conversion/Utils/AttentionLowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"
#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::sattn;

ScoreModifiers::ScoreModifiers(std::optional<APFloat> c,
                               std::optional<ArrayRef<float>> m) {
  if (c)
    softcap = static_cast<float>(c->convertToFloat() * M_LOG2E);
  if (m)
    for (float slope : *m)
      slopes.push_back(static_cast<float>(slope * M_LOG2E));
}

/// An f32 constant of `like`'s type (scalar or vector).
static Value f32Like(OpBuilder &b, Location loc, Value like, float value) {
  Type type = like.getType();
  auto attr = b.getF32FloatAttr(value);
  if (auto vec = dyn_cast<VectorType>(type))
    return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vec, attr));
  return arith::ConstantOp::create(b, loc, attr);
}

/// tanh(x) for f32 scalars or vectors, in arith ops only (the CPU and GPU
/// conversions both take it; the GPU one maps math ops to libdevice calls):
/// the odd rational minimax x P(x^2) / Q(x^2) of Eigen's float tanh, on x
/// clamped to +-7.9053, where tanh rounds to +-1 in f32 (a few ulp).
static Value buildTanh(OpBuilder &b, Location loc, Value x) {
  auto constant = [&](float v) { return f32Like(b, loc, x, v); };
  auto clamp = [&](Value v, float bound, arith::CmpFPredicate keep) -> Value {
    Value inRange = arith::CmpFOp::create(b, loc, keep, v, constant(bound));
    return arith::SelectOp::create(b, loc, inRange, v, constant(bound));
  };
  Value clamped =
      clamp(clamp(x, 7.90531110763549805f, arith::CmpFPredicate::ULE),
            -7.90531110763549805f, arith::CmpFPredicate::UGE);
  Value x2 = arith::MulFOp::create(b, loc, clamped, clamped);
  auto horner = [&](ArrayRef<float> coeffs) -> Value {
    Value acc = constant(coeffs.front());
    for (float c : coeffs.drop_front())
      acc = arith::AddFOp::create(
          b, loc, arith::MulFOp::create(b, loc, acc, x2), constant(c));
    return acc;
  };
  Value p = horner({-2.76076847742355e-16f, 2.00018790482477e-13f,
                    -8.60467152213735e-11f, 5.12229709037114e-08f,
                    1.48572235717979e-05f, 6.37261928875436e-04f,
                    4.89352455891786e-03f});
  Value q = horner({1.19825839466702e-06f, 1.18534705686654e-04f,
                    2.26843463243900e-03f, 4.89352518554385e-03f});
  return arith::DivFOp::create(b, loc,
                               arith::MulFOp::create(b, loc, clamped, p), q);
}

Value ScoreModifiers::applySoftcap(OpBuilder &b, Location loc, Value t) const {
  // C tanh(t / C)
  Value scaled =
      arith::MulFOp::create(b, loc, t, f32Like(b, loc, t, 1.0f / *softcap));
  return arith::MulFOp::create(b, loc, buildTanh(b, loc, scaled),
                               f32Like(b, loc, t, *softcap));
}

Value ScoreModifiers::applyAlibi(OpBuilder &b, Location loc, Value t,
                                 Value slope, Value p, Value k) const {
  // t - slope |p - k|
  Value diff = arith::SubFOp::create(b, loc, p, k);
  Value negative = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT,
                                         diff, f32Like(b, loc, diff, 0.0f));
  Value distance = arith::SelectOp::create(
      b, loc, negative, arith::NegFOp::create(b, loc, diff), diff);
  return arith::SubFOp::create(b, loc, t,
                               arith::MulFOp::create(b, loc, slope, distance));
}

Value ScoreModifiers::slopeOf(OpBuilder &b, Location loc, Value head) const {
  Value slope = arith::ConstantOp::create(
      b, loc, b.getF32FloatAttr(std::numeric_limits<float>::quiet_NaN()));
  for (auto [h, m] : llvm::enumerate(slopes)) {
    Value isHead =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, head,
                              arith::ConstantIndexOp::create(b, loc, h));
    slope = arith::SelectOp::create(
        b, loc, isHead, arith::ConstantOp::create(b, loc, b.getF32FloatAttr(m)),
        slope);
  }
  return slope;
}

/// The CSR entries of row `i` of `plan`: entry j is tile * 2 + isFull.
static TileSequence getPlanSequence(OpBuilder &b, Location loc,
                                    const TilePlanTables &plan, Value i) {
  Type index = b.getIndexType();
  auto table = [&](StringRef name, int64_t size) -> Value {
    return memref::GetGlobalOp::create(
        b, loc, MemRefType::get({size}, b.getI32Type()), name);
  };
  Value offsets = table(plan.offsets, plan.numOffsets);
  Value entries = table(plan.entries, plan.numEntries);
  auto offsetAt = [&](Value at) -> Value {
    return arith::IndexCastOp::create(
        b, loc, index, memref::LoadOp::create(b, loc, offsets, at));
  };
  TileSequence seq;
  seq.begin = offsetAt(i);
  seq.end = offsetAt(arith::AddIOp::create(
      b, loc, i, arith::ConstantIndexOp::create(b, loc, 1)));
  seq.at = [entries, index](OpBuilder &b, Location loc, Value j) {
    Value entry = memref::LoadOp::create(b, loc, entries, j);
    Value one32 = arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(1));
    Value tile = arith::IndexCastOp::create(
        b, loc, index, arith::ShRUIOp::create(b, loc, entry, one32));
    Value full = arith::TruncIOp::create(
        b, loc, b.getI1Type(), arith::AndIOp::create(b, loc, entry, one32));
    return TileSequence::Entry{tile, Value(), full};
  };
  return seq;
}

/// The tiles [lo, hi) (i64), each classified by `classify` (tile (index) ->
/// (isEmpty, isFull)).
static TileSequence getClassifiedSequence(
    OpBuilder &b, Location loc, Value lo, Value hi,
    std::function<std::pair<Value, Value>(OpBuilder &, Location, Value)>
        classify) {
  Type index = b.getIndexType();
  TileSequence seq;
  seq.begin = arith::IndexCastOp::create(b, loc, index, lo);
  seq.end = arith::IndexCastOp::create(b, loc, index, hi);
  seq.at = [classify](OpBuilder &b, Location loc, Value tile) {
    auto [empty, full] = classify(b, loc, tile);
    return TileSequence::Entry{tile, empty, full};
  };
  return seq;
}

scf::ForOp mlir::sattn::buildTileSequenceLoop(
    OpBuilder &b, Location loc, const TileSequence &seq, ValueRange init,
    function_ref<SmallVector<Value>(Value, ValueRange, Value)> body,
    function_ref<void(Value)> beforeEach) {
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  return scf::ForOp::create(
      b, loc, seq.begin, seq.end, one, init,
      [&](OpBuilder &, Location, Value i, ValueRange state) {
        if (beforeEach)
          beforeEach(i);
        TileSequence::Entry entry = seq.at(b, loc, i);
        if (!entry.empty) {
          scf::YieldOp::create(b, loc, body(entry.tile, state, entry.full));
          return;
        }
        auto ifOp = scf::IfOp::create(b, loc, TypeRange(state), entry.empty,
                                      /*withElseRegion=*/true);
        OpBuilder::InsertionGuard guard(b);
        if (state.empty()) { // no results: the blocks have their yields
          b.setInsertionPoint(ifOp.elseBlock()->getTerminator());
          body(entry.tile, state, entry.full);
        } else {
          b.setInsertionPointToStart(ifOp.thenBlock());
          scf::YieldOp::create(b, loc, state); // EMPTY: skip the tile
          b.setInsertionPointToStart(ifOp.elseBlock());
          scf::YieldOp::create(b, loc, body(entry.tile, state, entry.full));
        }
        b.setInsertionPointAfter(ifOp);
        scf::YieldOp::create(b, loc, ifOp.getResults());
      });
}

TileSequence mlir::sattn::getKeyTileSequence(
    OpBuilder &b, Location loc, MaskAttrInterface mask,
    const std::optional<TilePlanTables> &plan, Value queryTile, Value p0,
    Value p1, Value lk, int64_t keys, std::pair<Value, Value> keyBounds) {
  // Static lengths: the non-EMPTY key tiles of this query tile, listed at
  // compile time.
  if (plan)
    return getPlanSequence(b, loc, *plan, queryTile);
  // The key tiles inside the mask's key range for the tile's query positions,
  // classified at run time.
  Type i64 = b.getI64Type();
  Value lk64 = arith::IndexCastOp::create(b, loc, i64, lk);
  auto [kLo, kHi] = mask.buildKeyRange(b, loc, p0, p1, lk64);
  Value zero64 = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(0));
  Value keys64 = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(keys));
  kLo = arith::MaxSIOp::create(b, loc, kLo, zero64);
  kHi = arith::MinSIOp::create(b, loc, kHi, lk64);
  if (keyBounds.first) {
    kLo = arith::MaxSIOp::create(b, loc, kLo, keyBounds.first);
    kHi = arith::MinSIOp::create(b, loc, kHi, keyBounds.second);
  }
  Value ktLo = arith::FloorDivSIOp::create(b, loc, kLo, keys64);
  Value ktHi = arith::MaxSIOp::create(
      b, loc, arith::CeilDivSIOp::create(b, loc, kHi, keys64), ktLo);
  return getClassifiedSequence(
      b, loc, ktLo, ktHi,
      [mask, p0, p1, lk64, keys64](OpBuilder &b, Location loc, Value kt) {
        Value k0 = arith::MulIOp::create(
            b, loc, arith::IndexCastOp::create(b, loc, b.getI64Type(), kt),
            keys64);
        Value k1 = arith::MinSIOp::create(
            b, loc, arith::AddIOp::create(b, loc, k0, keys64), lk64);
        return mask.buildClassify(b, loc, p0, p1, k0, k1, lk64);
      });
}

scf::ForOp mlir::sattn::buildKeyTileLoop(
    OpBuilder &b, Location loc, MaskAttrInterface mask,
    const std::optional<TilePlanTables> &plan, Value queryTile, Value p0,
    Value p1, Value lk, int64_t keys, ValueRange init, KeyTileBody body,
    std::pair<Value, Value> keyBounds) {
  return buildTileSequenceLoop(b, loc,
                               getKeyTileSequence(b, loc, mask, plan, queryTile,
                                                  p0, p1, lk, keys, keyBounds),
                               init, body);
}

TileSequence mlir::sattn::getQueryTileSequence(
    OpBuilder &b, Location loc, MaskAttrInterface mask,
    const std::optional<TilePlanTables> &plan, Value keyTile, Value k0,
    Value k1, Value pMin, Value lq, Value lk, int64_t rows) {
  if (plan)
    return getPlanSequence(b, loc, *plan, keyTile);
  // The query tiles inside the mask's query range for the key tile,
  // classified at run time.
  Type i64 = b.getI64Type();
  Value lk64 = arith::IndexCastOp::create(b, loc, i64, lk);
  Value pMax = arith::AddIOp::create(
      b, loc, pMin, arith::IndexCastOp::create(b, loc, i64, lq));
  auto [pLo, pHi] = mask.buildQueryRange(b, loc, k0, k1, pMin, pMax, lk64);
  Value rows64 = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(rows));
  Value qtLo = arith::FloorDivSIOp::create(
      b, loc, arith::SubIOp::create(b, loc, pLo, pMin), rows64);
  Value qtHi = arith::MaxSIOp::create(
      b, loc,
      arith::CeilDivSIOp::create(
          b, loc, arith::SubIOp::create(b, loc, pHi, pMin), rows64),
      qtLo);
  return getClassifiedSequence(
      b, loc, qtLo, qtHi,
      [mask, pMin, pMax, rows64, k0, k1, lk64](OpBuilder &b, Location loc,
                                               Value qt) {
        Value p0 = arith::AddIOp::create(
            b, loc, pMin,
            arith::MulIOp::create(
                b, loc, arith::IndexCastOp::create(b, loc, b.getI64Type(), qt),
                rows64));
        Value p1 = arith::MinSIOp::create(
            b, loc, arith::AddIOp::create(b, loc, p0, rows64), pMax);
        return mask.buildClassify(b, loc, p0, p1, k0, k1, lk64);
      });
}

void mlir::sattn::buildQueryTileLoop(
    OpBuilder &b, Location loc, MaskAttrInterface mask,
    const std::optional<TilePlanTables> &plan, Value keyTile, Value k0,
    Value k1, Value pMin, Value lq, Value lk, int64_t rows,
    function_ref<void(Value qt, Value full)> body) {
  buildTileSequenceLoop(
      b, loc,
      getQueryTileSequence(b, loc, mask, plan, keyTile, k0, k1, pMin, lq, lk,
                           rows),
      ValueRange{}, [&](Value qt, ValueRange, Value full) {
        body(qt, full);
        return SmallVector<Value>();
      });
}

void mlir::sattn::appendKernelFacts(Operation *op, StringRef name,
                                    Attribute facts) {
  auto host = op->getParentOfType<FunctionOpInterface>();
  if (!host)
    return;
  SmallVector<Attribute> all;
  if (auto known = host->getAttrOfType<ArrayAttr>(name))
    all.append(known.begin(), known.end());
  all.push_back(facts);
  host->setAttr(name, ArrayAttr::get(op->getContext(), all));
}

std::optional<KeyTileParts>
mlir::sattn::planKeyTileParts(ArrayRef<int32_t> offsets, int64_t minTiles) {
  int64_t numTiles = static_cast<int64_t>(offsets.size()) - 1;
  if (numTiles <= 0)
    return std::nullopt;
  int64_t chunk = std::max<int64_t>(
      minTiles, 2 * llvm::divideCeil(offsets.back(), numTiles));
  KeyTileParts plan;
  using Call = std::array<int32_t, 4>;
  SmallVector<Call> whole, split;
  for (int64_t i = 0; i < numTiles; ++i) {
    int32_t qt = i % 2 ? numTiles - 1 - i / 2 : i / 2;
    int32_t begin = offsets[qt], end = offsets[qt + 1];
    if (end - begin <= chunk) {
      whole.push_back({qt, begin, end, -1});
      continue;
    }
    int64_t numParts =
        std::min<int64_t>(llvm::divideCeil(end - begin, chunk), kMaxParts);
    int64_t size = llvm::divideCeil(end - begin, numParts);
    plan.merges.append({qt, int32_t(plan.numSlots), int32_t(numParts)});
    for (int64_t p = 0; p < numParts; ++p)
      split.push_back({qt, int32_t(begin + p * size),
                       int32_t(std::min<int64_t>(end, begin + (p + 1) * size)),
                       int32_t(plan.numSlots++)});
  }
  if (split.empty())
    return std::nullopt;
  // Part j at call floor((j + 1/2) total / parts).
  int64_t total = whole.size() + split.size(), numSplit = split.size();
  for (int64_t i = 0, j = 0, w = 0; i < total; ++i) {
    bool part = j < numSplit && (w == int64_t(whole.size()) ||
                                 2 * numSplit * i >= (2 * j + 1) * total);
    const Call &call = part ? split[j++] : whole[w++];
    plan.calls.append(call.begin(), call.end());
  }
  return plan;
}

std::optional<TilePlanTables>
mlir::sattn::declareStaticTilePlan(Operation *symbolTable, AttentionOp op,
                                   int64_t rows, int64_t keys,
                                   StringRef prefix) {
  auto qType = op.getQuery().getType(), kType = op.getKey().getType();
  if (qType.isDynamicDim(2) || kType.isDynamicDim(2))
    return std::nullopt;
  return declareTilePlanTables(symbolTable, op.getLoc(), op.getMask(),
                               qType.getDimSize(2), kType.getDimSize(2), rows,
                               keys, prefix);
}

std::string mlir::sattn::getFreshSymbolName(Operation *symbolTable,
                                            StringRef prefix) {
  for (unsigned i = 0;; ++i) {
    std::string name = (prefix + Twine(i)).str();
    if (!SymbolTable::lookupSymbolIn(symbolTable, name))
      return name;
  }
}

Value mlir::sattn::getInputBuffer(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  return bufferization::ToBufferOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType()), tensor,
      /*read_only=*/true);
}

Value mlir::sattn::allocResultBuffer(OpBuilder &b, Location loc,
                                     RankedTensorType type, Value query,
                                     IntegerAttr alignment,
                                     ArrayRef<int64_t> queryDims) {
  SmallVector<Value> dynSizes;
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (type.isDynamicDim(i))
      dynSizes.push_back(memref::DimOp::create(
          b, loc, query, queryDims.empty() ? i : queryDims[i]));
  return memref::AllocOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType()), dynSizes,
      alignment);
}

Value mlir::sattn::allocLseBuffer(OpBuilder &b, Location loc,
                                  AttentionOpInterface op, Value query,
                                  IntegerAttr alignment) {
  Value lse = op.getLse();
  if (!lse)
    return {};
  SmallVector<int64_t, 2> queryDims;
  if (isa<VarlenAttentionOp>(op.getOperation()))
    queryDims = {1, 0};
  return allocResultBuffer(b, loc, cast<RankedTensorType>(lse.getType()), query,
                           alignment, queryDims);
}

void mlir::sattn::replaceWithResultBuffers(PatternRewriter &rewriter,
                                           Operation *op, ValueRange buffers) {
  SmallVector<Value> results;
  for (auto [buffer, result] : llvm::zip(buffers, op->getResults()))
    results.push_back(bufferization::ToTensorOp::create(
        rewriter, op->getLoc(), result.getType(), buffer, /*restrict=*/true,
        /*writable=*/true));
  rewriter.replaceOp(op, results);
}

void mlir::sattn::replaceWithResultBuffers(PatternRewriter &rewriter,
                                           AttentionOpInterface op, Value o,
                                           Value lse) {
  SmallVector<Value> buffers = {o};
  if (op.getLse())
    buffers.push_back(lse);
  replaceWithResultBuffers(rewriter, op.getOperation(), buffers);
}

LogicalResult
mlir::sattn::rewriteEachAttention(ModuleOp module,
                                  const FrozenRewritePatternSet &patterns) {
  // One walk, each op rewritten once: the greedy driver would also fold the
  // ops a rewrite touches, and an attention that reads another's result is
  // such an op.
  walkAndApplyPatterns(module, patterns);
  bool left = false;
  module.walk([&](Operation *op) {
    left |= isa<AttentionOpInterface, AttentionGradOp>(op);
  });
  return failure(left);
}
