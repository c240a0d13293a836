//===- TileMath.cpp - vector helpers of the CPU kernels -------------------===//

#include "TileMath.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;
using namespace mlir::sattn;

TileSizes mlir::sattn::getTileSizes(Operation *op, TileSizes fallback) {
  if (auto tile = op->getAttrOfType<DenseI64ArrayAttr>("sattn.tile"))
    if (tile.size() == 2)
      return {tile[0], tile[1]};
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
  // 2^f = exp(f ln2) = sum_k (ln2)^k / k! f^k, k <= 6 (relative error 1.2e-7).
  const float coeffs[] = {1.0f,          0.6931471806f, 0.2402265070f,
                          0.0555041087f, 0.0096181291f, 0.0013333558f,
                          0.0001540353f};
  Value poly = splat(coeffs[6]);
  for (int i = 5; i >= 0; --i)
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

Value mlir::sattn::loadRowVector(OpBuilder &b, Location loc, Value memref,
                                 ValueRange indices, int64_t col, int64_t dim,
                                 int64_t lanes) {
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
  if (elem.isF32())
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
