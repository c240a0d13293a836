//===- TileMath.cpp - vector helpers of the CPU kernels -------------------===//

#include "TileMath.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;
using namespace mlir::sattn;

TileSizes mlir::sattn::getTileSizes(Operation *op, TileSizes fallback) {
  if (auto tile = op->getAttrOfType<TileAttr>("sattn.tile"))
    return {tile.getRows(), tile.getKeys()};
  return fallback;
}

Value mlir::sattn::buildExp2(OpBuilder &b, Location loc, Value x) {
  auto vecF32 = cast<VectorType>(x.getType());
  auto vecI32 = VectorType::get(vecF32.getShape(), b.getI32Type());
  auto splat = [&](float v) -> Value {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vecF32, b.getF32FloatAttr(v)));
  };
  // x = n + f with n = round(x), |f| <= 1/2.
  Value clamped = arith::MaximumFOp::create(b, loc, x, splat(-126.0f));
  Value n = math::RoundEvenOp::create(b, loc, clamped);
  Value f = arith::SubFOp::create(b, loc, clamped, n);
  // 2^f ~ 1 + sum_k c_k f^k, k <= 5: a minimax fit of relative error on
  // [-1/2, 1/2] (1.9e-7 evaluated in f32; the degree-6 Taylor series: 2.4e-7)
  // with c_0 = 1, so that 2^0 = 1 exactly (alpha = 1 while the max holds).
  const float coeffs[] = {1.0f,          0.693147004f,   0.240222424f,
                          0.0555073358f, 0.00967151299f, 0.00132647273f};
  Value poly = splat(coeffs[5]);
  for (int i = 4; i >= 0; --i)
    poly = math::FmaOp::create(b, loc, poly, f, splat(coeffs[i]));
  // 2^n: add n to the exponent bits.
  Value shift = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vecI32, b.getI32IntegerAttr(23)));
  Value exponent = arith::ShLIOp::create(
      b, loc, arith::FPToSIOp::create(b, loc, vecI32, n), shift);
  Value bits = arith::AddIOp::create(
      b, loc, arith::BitcastOp::create(b, loc, vecI32, poly), exponent);
  Value result = arith::BitcastOp::create(b, loc, vecF32, bits);
  Value tiny = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, x,
                                     splat(-126.0f));
  return arith::SelectOp::create(b, loc, tiny, splat(0.0f), result);
}

Value mlir::sattn::buildTransposedSums(OpBuilder &b, Location loc,
                                       ArrayRef<Value> vectors,
                                       SmallVectorImpl<int64_t> &sumOf) {
  const int64_t n = vectors.size();
  assert(llvm::isPowerOf2_64(n) &&
         cast<VectorType>(vectors[0].getType()).getNumElements() == n);
  // A vector of segments of `seg` lanes; segment k adds up to the sum of
  // vectors[owners[k]].
  struct Part {
    Value value;
    SmallVector<int64_t> owners;
  };
  SmallVector<Part> parts;
  for (auto [i, v] : llvm::enumerate(vectors))
    parts.push_back({v, {static_cast<int64_t>(i)}});
  for (int64_t seg = n; seg > 1; seg /= 2) {
    // The result's segments of seg / 2 lanes, as (x or y, segment): x's
    // then y's, within each 128-bit lane once segments fit in one.
    SmallVector<std::pair<int64_t, int64_t>> order;
    int64_t group = seg > 4 ? n / seg : 4 / seg; // segments per group
    for (int64_t g0 = 0; g0 < n / seg; g0 += group)
      for (int64_t src = 0; src < 2; ++src)
        for (int64_t k = g0; k < g0 + group; ++k)
          order.push_back({src, k});
    SmallVector<Part> next;
    for (size_t p = 0; p < parts.size(); p += 2) {
      const Part &x = parts[p], &y = parts[p + 1];
      SmallVector<int64_t> low, high, owners;
      for (auto [src, k] : order) {
        for (int64_t i = 0; i < seg / 2; ++i) {
          low.push_back(src * n + k * seg + i);
          high.push_back(src * n + k * seg + seg / 2 + i);
        }
        owners.push_back((src ? y : x).owners[k]);
      }
      Value lows = vector::ShuffleOp::create(b, loc, x.value, y.value, low);
      Value highs = vector::ShuffleOp::create(b, loc, x.value, y.value, high);
      next.push_back({arith::AddFOp::create(b, loc, lows, highs), owners});
    }
    parts = std::move(next);
  }
  sumOf.assign(parts[0].owners.begin(), parts[0].owners.end());
  return parts[0].value;
}

Value mlir::sattn::loadRowVector(OpBuilder &b, Location loc, Value memref,
                                 ValueRange indices, int64_t col, int64_t dim,
                                 int64_t lanes, bool toF32) {
  SmallVector<Value> ix(indices);
  ix.push_back(arith::ConstantIndexOp::create(b, loc, col));
  Type elem = cast<MemRefType>(memref.getType()).getElementType();
  auto vecType = VectorType::get({lanes}, elem);
  Value x;
  if (col + lanes <= dim) {
    x = vector::LoadOp::create(b, loc, vecType, memref, ix);
  } else {
    Value maskBits = vector::ConstantMaskOp::create(
        b, loc, VectorType::get({lanes}, b.getI1Type()),
        ArrayRef<int64_t>{dim - col});
    Value zero = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vecType, b.getZeroAttr(elem)));
    x = vector::MaskedLoadOp::create(b, loc, vecType, memref, ix, maskBits,
                                     zero);
  }
  if (elem.isF32() || !toF32)
    return x;
  return arith::ExtFOp::create(b, loc, VectorType::get({lanes}, b.getF32Type()),
                               x);
}

void mlir::sattn::storeRowVector(OpBuilder &b, Location loc, Value value,
                                 Value memref, ValueRange indices, int64_t col,
                                 int64_t dim) {
  SmallVector<Value> ix(indices);
  ix.push_back(arith::ConstantIndexOp::create(b, loc, col));
  Type elem = cast<MemRefType>(memref.getType()).getElementType();
  auto vecType = cast<VectorType>(value.getType());
  int64_t lanes = vecType.getDimSize(0);
  if (!elem.isF32())
    value =
        arith::TruncFOp::create(b, loc, VectorType::get({lanes}, elem), value);
  if (col + lanes <= dim) {
    vector::StoreOp::create(b, loc, value, memref, ix);
    return;
  }
  Value maskBits = vector::ConstantMaskOp::create(
      b, loc, VectorType::get({lanes}, b.getI1Type()),
      ArrayRef<int64_t>{dim - col});
  vector::MaskedStoreOp::create(b, loc, memref, ix, maskBits, value);
}

Value mlir::sattn::buildMaxThreads(OpBuilder &b, Operation *op) {
  Location loc = op->getLoc();
  auto module = op->getParentOfType<ModuleOp>();
  auto threadsFn = module.lookupSymbol<func::FuncOp>("omp_get_max_threads");
  if (!threadsFn) {
    OpBuilder mb(module.getBodyRegion());
    threadsFn = func::FuncOp::create(
        mb, loc, "omp_get_max_threads",
        FunctionType::get(b.getContext(), {}, {b.getI32Type()}));
    threadsFn.setPrivate();
  }
  return arith::IndexCastOp::create(
      b, loc, b.getIndexType(),
      func::CallOp::create(b, loc, threadsFn, ValueRange{}).getResult(0));
}

ResidueClass mlir::sattn::buildResidueClass(OpBuilder &b, Location loc, Value r,
                                            int64_t stride, int64_t shift,
                                            Value lq, Value lk) {
  auto c = [&](int64_t x) -> Value {
    return arith::ConstantIndexOp::create(b, loc, x);
  };
  auto add = [&](Value x, Value y) -> Value {
    return arith::AddIOp::create(b, loc, x, y);
  };
  auto sub = [&](Value x, Value y) -> Value {
    return arith::SubIOp::create(b, loc, x, y);
  };
  ResidueClass cls;
  cls.stride = c(stride);
  Value offset = sub(lk, lq); // p = i + (Lk - Lq)
  Value rem = arith::RemSIOp::create(b, loc, sub(r, offset), cls.stride);
  cls.firstRow = arith::SelectOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, rem, c(0)),
      add(rem, cls.stride), rem);
  // Both numerators are > -s.
  cls.numRows = arith::DivSIOp::create(
      b, loc, add(sub(lq, cls.firstRow), c(stride - 1)), cls.stride);
  cls.numKeys = arith::DivSIOp::create(b, loc, add(sub(lk, r), c(stride - 1)),
                                       cls.stride);
  // p = i0 + Lk - Lq = r (mod s): floor(p / s) = (p - r) / s exactly.
  cls.position = add(arith::DivSIOp::create(
                         b, loc, sub(add(cls.firstRow, offset), r), cls.stride),
                     c(shift));
  return cls;
}

Value ResidueClass::view(OpBuilder &b, Location loc, MemRefType type,
                         Value buffer, Value first, Value count) const {
  auto mul = [&](Value x, Value y) -> Value {
    return arith::MulIOp::create(b, loc, x, y);
  };
  auto dim = [&](int64_t i) -> Value {
    return memref::DimOp::create(b, loc, buffer, i);
  };
  bool rows = type.getRank() == 4;
  int64_t width = rows ? type.getShape().back() : 1;
  Value w = arith::ConstantIndexOp::create(b, loc, width);
  Value headStride = mul(dim(2), w);
  SmallVector<OpFoldResult> sizes = {dim(0), dim(1), count};
  SmallVector<OpFoldResult> strides = {mul(dim(1), headStride), headStride,
                                       mul(stride, w)};
  if (rows) {
    sizes.push_back(b.getIndexAttr(width));
    strides.push_back(b.getIndexAttr(1));
  }
  return memref::ReinterpretCastOp::create(
      b, loc, type, buffer, OpFoldResult(mul(first, w)), sizes, strides);
}

MemRefType mlir::sattn::getResidueViewType(Type elem, int64_t last) {
  int64_t dyn = ShapedType::kDynamic;
  MLIRContext *ctx = elem.getContext();
  if (last == 0)
    return MemRefType::get({dyn, dyn, dyn}, elem,
                           StridedLayoutAttr::get(ctx, dyn, {dyn, dyn, dyn}));
  return MemRefType::get({dyn, dyn, dyn, last}, elem,
                         StridedLayoutAttr::get(ctx, dyn, {dyn, dyn, dyn, 1}));
}

void mlir::sattn::setIterationSpaceAttr(Operation *fn,
                                        const IterationSpace &space) {
  Builder b(fn->getContext());
  fn->setAttr("sattn.iteration_space",
              b.getDictionaryAttr(
                  {b.getNamedAttr("stride", b.getI64IntegerAttr(space.stride)),
                   b.getNamedAttr("shift", b.getI64IntegerAttr(space.shift)),
                   b.getNamedAttr("mask", space.mask)}));
}
