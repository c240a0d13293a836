//===- MaskCodegen.cpp - IR for predicates, tile classes, key ranges ------===//
//
// The code-generation half of MaskAttrInterface. Positions are i64, scalars or
// vectors (one lane per query row); constants are splatted to match.
//
//===----------------------------------------------------------------------===//

#include "MaskMath.h"
#include "sattn/Dialect/SAttn/IR/RandomBlocks.h"
#include "sattn/Dialect/SAttn/IR/SAttnAttrs.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/xxhash.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;
using namespace mlir::sattn;
using namespace mlir::sattn::mask_math;
using arith::CmpIPredicate;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

Value mlir::sattn::buildI64Constant(OpBuilder &b, Location loc, Type type,
                                    int64_t value) {
  if (auto vt = dyn_cast<VectorType>(type))
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vt, b.getI64IntegerAttr(value)));
  return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(value));
}

namespace {
/// Small arith builder over one value type (i64 or vector of i64).
struct Emit {
  OpBuilder &b;
  Location loc;
  Type type;

  Value c(int64_t v) { return buildI64Constant(b, loc, type, v); }
  Type boolType() {
    if (auto vt = dyn_cast<VectorType>(type))
      return VectorType::get(vt.getShape(), b.getI1Type());
    return b.getI1Type();
  }
  Value boolConst(bool v) {
    if (auto vt = dyn_cast<VectorType>(boolType()))
      return arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(vt, b.getBoolAttr(v)));
    return arith::ConstantOp::create(b, loc, b.getBoolAttr(v));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value min(Value x, Value y) { return arith::MinSIOp::create(b, loc, x, y); }
  Value max(Value x, Value y) { return arith::MaxSIOp::create(b, loc, x, y); }
  Value floorDiv(Value x, int64_t d) {
    return arith::FloorDivSIOp::create(b, loc, x, c(d));
  }
  Value cmp(CmpIPredicate pred, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, pred, x, y);
  }
  Value lt(Value x, Value y) { return cmp(CmpIPredicate::slt, x, y); }
  Value le(Value x, Value y) { return cmp(CmpIPredicate::sle, x, y); }
  Value eq(Value x, Value y) { return cmp(CmpIPredicate::eq, x, y); }
  Value andI(Value x, Value y) { return arith::AndIOp::create(b, loc, x, y); }
  Value orI(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }
  Value notI(Value x) {
    return arith::XOrIOp::create(b, loc, x, boolConst(true));
  }
  Value xorI(Value x, Value y) { return arith::XOrIOp::create(b, loc, x, y); }
  Value shr(Value x, int64_t s) {
    return arith::ShRUIOp::create(b, loc, x, c(s));
  }
  Value select(Value cond, Value x, Value y) {
    return arith::SelectOp::create(b, loc, cond, x, y);
  }
  /// x mod m == 0 (the sign of the remainder does not matter for zero).
  Value divisible(Value x, int64_t m) {
    return eq(arith::RemSIOp::create(b, loc, x, c(m)), c(0));
  }
};

Value bandPredicate(Emit &e, BandForm band, Value p, Value k) {
  Value d = e.sub(k, p);
  Value keep = e.boolConst(true);
  if (band.lo > -kInf)
    keep = e.andI(keep, e.le(e.c(band.lo), d));
  if (band.hi < kInf)
    keep = e.andI(keep, e.le(d, e.c(band.hi)));
  if (band.step > 1)
    keep = e.andI(keep, e.divisible(d, band.step));
  return keep;
}

std::pair<Value, Value> bandClassify(Emit &e, BandForm band, Value p0, Value p1,
                                     Value k0, Value k1) {
  // Over the rectangle, d = k - p takes every value in [dMin, dMax].
  Value one = e.c(1);
  Value dMin = e.sub(k0, e.sub(p1, one)), dMax = e.sub(e.sub(k1, one), p0);
  Value a = band.lo > -kInf ? e.max(dMin, e.c(band.lo)) : dMin;
  Value bnd = band.hi < kInf ? e.min(dMax, e.c(band.hi)) : dMax;
  Value empty = e.lt(bnd, a);
  if (band.step > 1) {
    // The first multiple of step at or above a lies past the range.
    Value first =
        e.mul(arith::CeilDivSIOp::create(e.b, e.loc, a, e.c(band.step)),
              e.c(band.step));
    empty = e.orI(empty, e.lt(bnd, first));
  }
  Value full = e.boolConst(true);
  if (band.lo > -kInf)
    full = e.andI(full, e.le(e.c(band.lo), dMin));
  if (band.hi < kInf)
    full = e.andI(full, e.le(dMax, e.c(band.hi)));
  if (band.step > 1)
    full = e.andI(full, e.andI(e.eq(dMin, dMax), e.divisible(dMin, band.step)));
  return {empty, full};
}

std::pair<Value, Value> bandKeyRange(Emit &e, BandForm band, Value p0, Value p1,
                                     Value lk) {
  Value lo = band.lo > -kInf ? e.max(e.add(p0, e.c(band.lo)), e.c(0)) : e.c(0);
  Value hi = band.hi < kInf ? e.min(e.add(p1, e.c(band.hi)), lk) : lk;
  return {lo, hi};
}

/// k - hi <= p <= k - lo for some k in [k0, k1), within [p0, p1).
std::pair<Value, Value> bandQueryRange(Emit &e, BandForm band, Value k0,
                                       Value k1, Value p0, Value p1) {
  Value lo = band.hi < kInf ? e.max(e.sub(k0, e.c(band.hi)), p0) : p0;
  Value hi = band.lo > -kInf ? e.min(e.sub(k1, e.c(band.lo)), p1) : p1;
  return {lo, hi};
}

/// Exact classification of a pattern constant on (bq x bk) cells when the
/// rectangle lies in one cell; PARTIAL (false, false) otherwise.
std::pair<Value, Value> cellClassify(Emit &e, MaskAttrInterface mask,
                                     int64_t bq, int64_t bk, Value p0, Value p1,
                                     Value k0, Value k1, Value lk) {
  Value one = e.c(1);
  Value sameCell =
      e.andI(e.eq(e.floorDiv(p0, bq), e.floorDiv(e.sub(p1, one), bq)),
             e.eq(e.floorDiv(k0, bk), e.floorDiv(e.sub(k1, one), bk)));
  Value value = mask.buildPredicate(e.b, e.loc, p0, k0, lk);
  return {e.andI(sameCell, e.notI(value)), e.andI(sameCell, value)};
}

/// mix() of docs/Semantics.md on i64 lanes (wrapping unsigned arithmetic).
Value buildMix(Emit &e, Value z) {
  z = e.add(z, e.c(static_cast<int64_t>(0x9E3779B97F4A7C15ULL)));
  z = e.mul(e.xorI(z, e.shr(z, 30)),
            e.c(static_cast<int64_t>(0xBF58476D1CE4E5B9ULL)));
  z = e.mul(e.xorI(z, e.shr(z, 27)),
            e.c(static_cast<int64_t>(0x94D049BB133111EBULL)));
  return e.xorI(z, e.shr(z, 31));
}

/// kb in R(qb) for qb >= 0, with nkb = ceil(lk / block) key blocks.
Value buildInRandomBlocks(Emit &e, uint64_t seed, int64_t block, int64_t perRow,
                          Value qb, Value kb, Value lk) {
  Value nkb =
      e.max(arith::CeilDivSIOp::create(e.b, e.loc, lk, e.c(block)), e.c(1));
  Value mixedSeed = e.c(static_cast<int64_t>(randomMix(seed)));
  // h mod nkb without a 64-bit division per draw (a subroutine on NVPTX, one
  // divq per lane on x86): with m = floor((2^64 - 1) / nkb), computed once,
  // q = mulhi(h, m) is floor(h / nkb) or one less, so r = h - q nkb < 2 nkb
  // needs at most one subtraction.
  Value inverse = arith::DivUIOp::create(e.b, e.loc, e.c(-1), nkb);
  auto remainder = [&](Emit &ne, Value h) {
    Value q =
        arith::MulUIExtendedOp::create(ne.b, ne.loc, h, inverse).getHigh();
    Value r = ne.sub(h, ne.mul(q, nkb));
    Value over = ne.cmp(CmpIPredicate::uge, r, nkb);
    return ne.select(over, ne.sub(r, nkb), r);
  };
  // The draws t = 0 .. perRow - 1, stopping once every lane has found kb: a
  // huge perRow then costs what finding kb costs (about nkb draws), except
  // for blocks that are not in R(qb).
  Type index = e.b.getIndexType();
  Value zero = arith::ConstantIndexOp::create(e.b, e.loc, 0);
  Value ub = arith::ConstantIndexOp::create(e.b, e.loc, perRow);
  Value notFound = e.boolConst(false);
  auto loop = scf::WhileOp::create(
      e.b, e.loc, TypeRange{index, notFound.getType()},
      ValueRange{zero, notFound},
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        Value done = args[1];
        if (isa<VectorType>(done.getType()))
          done = vector::ReductionOp::create(nb, loc,
                                             vector::CombiningKind::AND, done);
        Value more = arith::AndIOp::create(
            nb, loc,
            arith::CmpIOp::create(nb, loc, CmpIPredicate::ult, args[0], ub),
            arith::XOrIOp::create(
                nb, loc, done,
                arith::ConstantOp::create(nb, loc, nb.getBoolAttr(true))));
        scf::ConditionOp::create(nb, loc, more, args);
      },
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        Emit ne{nb, loc, e.type};
        Value t64 =
            arith::IndexCastOp::create(nb, loc, nb.getI64Type(), args[0]);
        if (isa<VectorType>(e.type))
          t64 = vector::BroadcastOp::create(nb, loc, e.type, t64);
        // mix(mix(seed) ^ (qb * r + t)) mod nkb
        Value h = buildMix(
            ne, ne.xorI(mixedSeed, ne.add(ne.mul(qb, ne.c(perRow)), t64)));
        Value draw = remainder(ne, h);
        Value next = arith::AddIOp::create(
            nb, loc, args[0], arith::ConstantIndexOp::create(nb, loc, 1));
        scf::YieldOp::create(
            nb, loc, ValueRange{next, ne.orI(args[1], ne.eq(draw, kb))});
      });
  return e.andI(loop.getResult(1), e.le(e.c(0), qb));
}

std::string layoutTableName(BlockSparseAttr attr) {
  // A hash of the cells, the same in every run (hash_value of an attribute
  // hashes its address, which differs from run to run).
  SmallVector<uint8_t> bytes;
  for (int64_t dim : {attr.getNumRows(), attr.getNumCols()})
    for (int shift = 0; shift < 64; shift += 8)
      bytes.push_back(static_cast<uint8_t>(dim >> shift));
  for (int64_t r = 0; r < attr.getNumRows(); ++r)
    for (int64_t c = 0; c < attr.getNumCols(); ++c)
      bytes.push_back(attr.cell(r, c));
  return "__sattn_layout_" + llvm::utohexstr(llvm::xxh3_64bits(bytes));
}

MemRefType layoutTableType(BlockSparseAttr attr) {
  return MemRefType::get({attr.getNumRows() * attr.getNumCols()},
                         IntegerType::get(attr.getContext(), 32));
}
} // namespace

//===----------------------------------------------------------------------===//
// Bands: the interface's defaults (MaskAttrInterface::getBandForm)
//===----------------------------------------------------------------------===//

Value band::buildPredicate(OpBuilder &b, Location loc, BandForm band, Value p,
                           Value k) {
  Emit e{b, loc, p.getType()};
  return bandPredicate(e, band, p, k);
}
std::pair<Value, Value> band::buildClassify(OpBuilder &b, Location loc,
                                            BandForm band, Value p0, Value p1,
                                            Value k0, Value k1) {
  Emit e{b, loc, p0.getType()};
  return bandClassify(e, band, p0, p1, k0, k1);
}
std::pair<Value, Value> band::buildKeyRange(OpBuilder &b, Location loc,
                                            BandForm band, Value p0, Value p1,
                                            Value lk) {
  Emit e{b, loc, p0.getType()};
  return bandKeyRange(e, band, p0, p1, lk);
}
std::pair<Value, Value> band::buildQueryRange(OpBuilder &b, Location loc,
                                              BandForm band, Value k0, Value k1,
                                              Value p0, Value p1) {
  Emit e{b, loc, p0.getType()};
  return bandQueryRange(e, band, k0, k1, p0, p1);
}

//===----------------------------------------------------------------------===//
// Primitives
//===----------------------------------------------------------------------===//

Value DenseAttr::buildPredicate(OpBuilder &b, Location loc, Value p, Value,
                                Value) const {
  return Emit{b, loc, p.getType()}.boolConst(true);
}
std::pair<Value, Value> DenseAttr::buildClassify(OpBuilder &b, Location loc,
                                                 Value p0, Value, Value, Value,
                                                 Value) const {
  Emit e{b, loc, p0.getType()};
  return {e.boolConst(false), e.boolConst(true)};
}

// p in T or k in T
Value GlobalAttr::buildPredicate(OpBuilder &b, Location loc, Value p, Value k,
                                 Value) const {
  Emit e{b, loc, p.getType()};
  Value keep = e.boolConst(false);
  for (int64_t t : getTokens())
    keep = e.orI(keep, e.orI(e.eq(p, e.c(t)), e.eq(k, e.c(t))));
  return keep;
}
std::pair<Value, Value> GlobalAttr::buildClassify(OpBuilder &b, Location loc,
                                                  Value p0, Value p1, Value k0,
                                                  Value k1, Value) const {
  Emit e{b, loc, p0.getType()};
  // Count the tokens inside the row range and inside the key range.
  Value inP = e.c(0), inK = e.c(0);
  for (int64_t t : getTokens()) {
    Value tv = e.c(t);
    auto count = [&](Value lo, Value hi) {
      Value inside = e.andI(e.le(lo, tv), e.lt(tv, hi));
      return e.select(inside, e.c(1), e.c(0));
    };
    inP = e.add(inP, count(p0, p1));
    inK = e.add(inK, count(k0, k1));
  }
  Value full = e.orI(e.eq(inP, e.sub(p1, p0)), e.eq(inK, e.sub(k1, k0)));
  Value empty = e.andI(e.eq(inP, e.c(0)), e.eq(inK, e.c(0)));
  return {empty, full};
}

// k < n
Value SinkAttr::buildPredicate(OpBuilder &b, Location loc, Value p, Value k,
                               Value) const {
  Emit e{b, loc, p.getType()};
  return e.lt(k, e.c(getTokens()));
}
std::pair<Value, Value> SinkAttr::buildClassify(OpBuilder &b, Location loc,
                                                Value p0, Value, Value k0,
                                                Value k1, Value) const {
  Emit e{b, loc, p0.getType()};
  Value n = e.c(getTokens());
  return {e.le(n, k0), e.le(k1, n)};
}
std::pair<Value, Value> SinkAttr::buildKeyRange(OpBuilder &b, Location loc,
                                                Value p0, Value,
                                                Value lk) const {
  Emit e{b, loc, p0.getType()};
  return {e.c(0), e.min(e.c(getTokens()), lk)};
}
std::pair<Value, Value> SinkAttr::buildQueryRange(OpBuilder &b, Location loc,
                                                  Value k0, Value, Value p0,
                                                  Value p1, Value) const {
  // Keys at or past n are kept by no row.
  Emit e{b, loc, p0.getType()};
  return {p0, e.select(e.le(e.c(getTokens()), k0), p0, p1)};
}

// 0 <= p / bq < R and layout[p / bq][k / bk]
Value BlockSparseAttr::buildPredicate(OpBuilder &b, Location loc, Value p,
                                      Value k, Value) const {
  Emit e{b, loc, p.getType()};
  Value qb = e.floorDiv(p, getBlockQ()), kb = e.floorDiv(k, getBlockK());
  Value inside = e.andI(e.andI(e.le(e.c(0), qb), e.lt(qb, e.c(getNumRows()))),
                        e.lt(kb, e.c(getNumCols())));
  DenseIntElementsAttr layout = getLayout();
  if (layout.isSplat())
    return layout.getSplatValue<bool>() ? inside : e.boolConst(false);
  Value index =
      e.select(inside, e.add(e.mul(qb, e.c(getNumCols())), kb), e.c(0));
  // The table is declared by declareTables().
  Value table = memref::GetGlobalOp::create(b, loc, layoutTableType(*this),
                                            layoutTableName(*this));
  Value cell;
  if (auto vt = dyn_cast<VectorType>(e.type)) {
    auto i32Vec = VectorType::get(vt.getShape(), b.getI32Type());
    Value zeroIdx = arith::ConstantIndexOp::create(b, loc, 0);
    Value idx32 = arith::TruncIOp::create(b, loc, i32Vec, index);
    Value passThru = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(i32Vec, b.getI32IntegerAttr(0)));
    Value gathered = vector::GatherOp::create(
        b, loc, i32Vec, table, ValueRange{zeroIdx}, idx32, inside, passThru);
    cell = arith::CmpIOp::create(
        b, loc, CmpIPredicate::ne, gathered,
        arith::ConstantOp::create(
            b, loc, DenseElementsAttr::get(i32Vec, b.getI32IntegerAttr(0))));
  } else {
    Value idx = arith::IndexCastOp::create(b, loc, b.getIndexType(), index);
    Value loaded = memref::LoadOp::create(b, loc, table, ValueRange{idx});
    cell = arith::CmpIOp::create(
        b, loc, CmpIPredicate::ne, loaded,
        arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0)));
  }
  return e.andI(inside, cell);
}
std::pair<Value, Value>
BlockSparseAttr::buildClassify(OpBuilder &b, Location loc, Value p0, Value p1,
                               Value k0, Value k1, Value lk) const {
  Emit e{b, loc, p0.getType()};
  return cellClassify(e, *this, getBlockQ(), getBlockK(), p0, p1, k0, k1, lk);
}

// k / b in R(p / b)
Value RandomAttr::buildPredicate(OpBuilder &b, Location loc, Value p, Value k,
                                 Value lk) const {
  Emit e{b, loc, p.getType()};
  return buildInRandomBlocks(e, getSeed(), getBlock(), getPerRow(),
                             e.floorDiv(p, getBlock()),
                             e.floorDiv(k, getBlock()), lk);
}
std::pair<Value, Value> RandomAttr::buildClassify(OpBuilder &b, Location loc,
                                                  Value p0, Value p1, Value k0,
                                                  Value k1, Value lk) const {
  Emit e{b, loc, p0.getType()};
  return cellClassify(e, *this, getBlock(), getBlock(), p0, p1, k0, k1, lk);
}

//===----------------------------------------------------------------------===//
// Combinators
//===----------------------------------------------------------------------===//

template <bool isUnion, typename AttrT>
static Value combinePredicates(AttrT attr, OpBuilder &b, Location loc, Value p,
                               Value k, Value lk) {
  Emit e{b, loc, p.getType()};
  Value result = e.boolConst(!isUnion);
  for (Attribute m : attr.getMembers()) {
    Value v = cast<MaskAttrInterface>(m).buildPredicate(b, loc, p, k, lk);
    result = isUnion ? e.orI(result, v) : e.andI(result, v);
  }
  return result;
}

template <bool isUnion, typename AttrT>
static std::pair<Value, Value> combineClasses(AttrT attr, OpBuilder &b,
                                              Location loc, Value p0, Value p1,
                                              Value k0, Value k1, Value lk) {
  Emit e{b, loc, p0.getType()};
  // union: empty iff all empty, full if any full; intersect: the dual.
  Value empty = e.boolConst(isUnion), full = e.boolConst(!isUnion);
  for (Attribute m : attr.getMembers()) {
    auto [me, mf] =
        cast<MaskAttrInterface>(m).buildClassify(b, loc, p0, p1, k0, k1, lk);
    empty = isUnion ? e.andI(empty, me) : e.orI(empty, me);
    full = isUnion ? e.orI(full, mf) : e.andI(full, mf);
  }
  return {empty, full};
}

/// The hull (union) or the overlap (intersect) of the members' ranges, each
/// from `range`.
template <bool isUnion, typename AttrT>
static std::pair<Value, Value>
combineRanges(AttrT attr, OpBuilder &b, Location loc,
              function_ref<std::pair<Value, Value>(MaskAttrInterface)> range) {
  Value lo, hi;
  for (Attribute m : attr.getMembers()) {
    auto [mlo, mhi] = range(cast<MaskAttrInterface>(m));
    if (!lo) {
      lo = mlo;
      hi = mhi;
      continue;
    }
    Emit e{b, loc, lo.getType()};
    lo = isUnion ? e.min(lo, mlo) : e.max(lo, mlo);
    hi = isUnion ? e.max(hi, mhi) : e.min(hi, mhi);
  }
  return {lo, hi};
}

template <bool isUnion, typename AttrT>
static std::pair<Value, Value> combineKeyRanges(AttrT attr, OpBuilder &b,
                                                Location loc, Value p0,
                                                Value p1, Value lk) {
  return combineRanges<isUnion>(attr, b, loc, [&](MaskAttrInterface m) {
    return m.buildKeyRange(b, loc, p0, p1, lk);
  });
}

template <bool isUnion, typename AttrT>
static std::pair<Value, Value>
combineQueryRanges(AttrT attr, OpBuilder &b, Location loc, Value k0, Value k1,
                   Value p0, Value p1, Value lk) {
  return combineRanges<isUnion>(attr, b, loc, [&](MaskAttrInterface m) {
    return m.buildQueryRange(b, loc, k0, k1, p0, p1, lk);
  });
}

Value UnionAttr::buildPredicate(OpBuilder &b, Location loc, Value p, Value k,
                                Value lk) const {
  return combinePredicates<true>(*this, b, loc, p, k, lk);
}
std::pair<Value, Value> UnionAttr::buildClassify(OpBuilder &b, Location loc,
                                                 Value p0, Value p1, Value k0,
                                                 Value k1, Value lk) const {
  return combineClasses<true>(*this, b, loc, p0, p1, k0, k1, lk);
}
std::pair<Value, Value> UnionAttr::buildKeyRange(OpBuilder &b, Location loc,
                                                 Value p0, Value p1,
                                                 Value lk) const {
  return combineKeyRanges<true>(*this, b, loc, p0, p1, lk);
}
std::pair<Value, Value> UnionAttr::buildQueryRange(OpBuilder &b, Location loc,
                                                   Value k0, Value k1, Value p0,
                                                   Value p1, Value lk) const {
  return combineQueryRanges<true>(*this, b, loc, k0, k1, p0, p1, lk);
}

Value IntersectAttr::buildPredicate(OpBuilder &b, Location loc, Value p,
                                    Value k, Value lk) const {
  return combinePredicates<false>(*this, b, loc, p, k, lk);
}
std::pair<Value, Value> IntersectAttr::buildClassify(OpBuilder &b, Location loc,
                                                     Value p0, Value p1,
                                                     Value k0, Value k1,
                                                     Value lk) const {
  return combineClasses<false>(*this, b, loc, p0, p1, k0, k1, lk);
}
std::pair<Value, Value> IntersectAttr::buildKeyRange(OpBuilder &b, Location loc,
                                                     Value p0, Value p1,
                                                     Value lk) const {
  return combineKeyRanges<false>(*this, b, loc, p0, p1, lk);
}
std::pair<Value, Value>
IntersectAttr::buildQueryRange(OpBuilder &b, Location loc, Value k0, Value k1,
                               Value p0, Value p1, Value lk) const {
  return combineQueryRanges<false>(*this, b, loc, k0, k1, p0, p1, lk);
}

Value ComplementAttr::buildPredicate(OpBuilder &b, Location loc, Value p,
                                     Value k, Value lk) const {
  Emit e{b, loc, p.getType()};
  return e.notI(
      cast<MaskAttrInterface>(getOperand()).buildPredicate(b, loc, p, k, lk));
}
std::pair<Value, Value>
ComplementAttr::buildClassify(OpBuilder &b, Location loc, Value p0, Value p1,
                              Value k0, Value k1, Value lk) const {
  auto [empty, full] = cast<MaskAttrInterface>(getOperand())
                           .buildClassify(b, loc, p0, p1, k0, k1, lk);
  return {full, empty};
}

//===----------------------------------------------------------------------===//
// Presets
//===----------------------------------------------------------------------===//

// (qb >= 0 and |qb - kb| <= (wb - 1) / 2) or 0 <= qb < gb or kb < gb or
// (rb >= 1 and kb in R(qb))
Value BigBirdAttr::buildPredicate(OpBuilder &b, Location loc, Value p, Value k,
                                  Value lk) const {
  Emit e{b, loc, p.getType()};
  int64_t blk = getBlock(), half = (getWindow() - 1) / 2;
  Value qb = e.floorDiv(p, blk), kb = e.floorDiv(k, blk);
  Value qbValid = e.le(e.c(0), qb);
  Value band = e.andI(qbValid, e.andI(e.le(e.sub(qb, kb), e.c(half)),
                                      e.le(e.sub(kb, qb), e.c(half))));
  Value global = e.orI(e.andI(qbValid, e.lt(qb, e.c(getGlobal()))),
                       e.lt(kb, e.c(getGlobal())));
  Value keep = e.orI(band, global);
  if (getRandom() >= 1)
    keep = e.orI(
        keep, buildInRandomBlocks(e, getSeed(), blk, getRandom(), qb, kb, lk));
  return keep;
}
std::pair<Value, Value> BigBirdAttr::buildClassify(OpBuilder &b, Location loc,
                                                   Value p0, Value p1, Value k0,
                                                   Value k1, Value lk) const {
  Emit e{b, loc, p0.getType()};
  return cellClassify(e, *this, getBlock(), getBlock(), p0, p1, k0, k1, lk);
}

//===----------------------------------------------------------------------===//
// Constant tables
//===----------------------------------------------------------------------===//

void BlockSparseAttr::declareTables(Operation *symbolTable) const {
  std::string name = layoutTableName(*this);
  if (SymbolTable::lookupSymbolIn(symbolTable, name) || getLayout().isSplat())
    return;
  SmallVector<int32_t> values;
  for (int64_t r = 0; r < getNumRows(); ++r)
    for (int64_t c = 0; c < getNumCols(); ++c)
      values.push_back(cell(r, c));
  declareConstantTable(symbolTable, symbolTable->getLoc(), name, values);
}

void mlir::sattn::declareConstantTable(Operation *symbolTable, Location loc,
                                       StringRef name,
                                       ArrayRef<int32_t> values) {
  OpBuilder b = OpBuilder::atBlockBegin(&symbolTable->getRegion(0).front());
  auto type = MemRefType::get({int64_t(values.size())}, b.getI32Type());
  memref::GlobalOp::create(
      b, loc, name, b.getStringAttr("private"), type,
      DenseElementsAttr::get(
          RankedTensorType::get(type.getShape(), b.getI32Type()), values),
      /*constant=*/true, /*alignment=*/b.getI64IntegerAttr(64));
}

std::optional<TilePlanTables> mlir::sattn::declareTilePlanTables(
    Operation *symbolTable, Location loc, MaskAttrInterface mask, int64_t lq,
    int64_t lk, int64_t rows, int64_t keys, StringRef prefix, bool transposed) {
  if (isBandMask(mask))
    return std::nullopt;
  int64_t numRows = (lq + rows - 1) / rows;
  int64_t numKeys = (lk + keys - 1) / keys;
  // Too large a table, or too much work to fill it (masks that are costly
  // to classify, such as small random blocks drawn many times per row):
  // classify at run time instead.
  int64_t numTiles, work;
  if (llvm::MulOverflow(numRows, numKeys, numTiles) ||
      numTiles > (int64_t(1) << 24) ||
      llvm::MulOverflow(numTiles, maskClassifyCost(mask, rows, keys, lk),
                        work) ||
      work > kMaxTilePlanWork)
    return std::nullopt;
  SmallVector<int32_t> offsets = {0}, entries;
  bool anyPartial = false;
  int64_t outer = transposed ? numKeys : numRows;
  int64_t inner = transposed ? numRows : numKeys;
  for (int64_t i = 0; i < outer; ++i) {
    for (int64_t j = 0; j < inner; ++j) {
      int64_t qt = transposed ? j : i, kt = transposed ? i : j;
      int64_t p0 = qt * rows + lk - lq;
      int64_t p1 = std::min((qt + 1) * rows, lq) + lk - lq;
      TileClass c =
          mask.classify(p0, p1, kt * keys, std::min((kt + 1) * keys, lk), lk);
      if (c != TileClass::Empty)
        entries.push_back(int32_t(j * 2 + (c == TileClass::Full)));
      anyPartial |= c == TileClass::Partial;
    }
    offsets.push_back(entries.size());
  }
  // A table that skips nothing only costs loads: classify at run time.
  if (int64_t(entries.size()) == numRows * numKeys)
    return std::nullopt;
  TilePlanTables tables{(prefix + "_plan_offsets").str(),
                        (prefix + "_plan_tiles").str(),
                        int64_t(offsets.size()),
                        int64_t(entries.size()),
                        anyPartial,
                        offsets};
  // (Each goes first: offsets, then entries.)
  declareConstantTable(symbolTable, loc, tables.entries, entries);
  declareConstantTable(symbolTable, loc, tables.offsets, offsets);
  return tables;
}
