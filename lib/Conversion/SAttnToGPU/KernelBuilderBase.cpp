//===- KernelBuilderBase.cpp - what the GPU kernel builders share ---------===//

#include "KernelBuilderBase.h"

#include <numeric>

using namespace mlir;
using namespace mlir::sattn;

Value KernelBuilderBase::address(Value buffer, Value offset) {
  auto type = cast<MemRefType>(buffer.getType());
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer);
  return toI64(add(base, mul(offset, idx(type.getElementTypeBitWidth() / 8))));
}

Value KernelBuilderBase::sharedPtr(Value tile, Value offset) {
  return LLVM::IntToPtrOp::create(b, loc, LLVM::LLVMPointerType::get(ctx, 3),
                                  address(tile, offset));
}

Value KernelBuilderBase::globalPtr(Value flat, Value offset) {
  // Kernel parameters are generic pointers: cvta.to.global.
  Value generic = LLVM::IntToPtrOp::create(
      b, loc, LLVM::LLVMPointerType::get(ctx), address(flat, offset));
  return LLVM::AddrSpaceCastOp::create(
      b, loc, LLVM::LLVMPointerType::get(ctx, 1), generic);
}

int64_t KernelBuilderBase::keyCellWidth(MaskAttrInterface mask,
                                        int64_t tileKeys) {
  int64_t cellKeys = mask.getBlockGrid().second;
  return cellKeys == 1 ? 1 : std::gcd(cellKeys, tileKeys);
}

void KernelBuilderBase::storeKeyUsedFlags(MaskAttrInterface mask, Value used,
                                          int64_t tileKeys, Value p0, Value p1,
                                          Value k0, Value lk64) {
  // Row cells c = c0 + warp, c0 + warp + numWarps, ... < c1 of the tile
  // [p0, p1) (padding rows past Lq do not count); one cell with cellRows = 0.
  int64_t cellRows = mask.getBlockGrid().first;
  int64_t numWarps = threads / kWarpSize;
  auto cellOf = [&](Value p) -> Value {
    if (cellRows == 0)
      return i64(0);
    return arith::FloorDivSIOp::create(b, loc, p, i64(cellRows));
  };
  auto toIndex = [&](Value x) -> Value {
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), x);
  };
  Value pLast = arith::SubIOp::create(b, loc, p1, i64(1));
  Value lastCell = cellOf(pLast);
  Value cellEnd = toIndex(arith::AddIOp::create(b, loc, lastCell, i64(1)));
  Value cellBegin = add(toIndex(cellOf(p0)), warp);
  Value none = arith::ConstantOp::create(b, loc, b.getBoolAttr(false));
  auto keptByWarp = [&](Value key64) -> Value {
    auto cellLoop = scf::ForOp::create(
        b, loc, cellBegin, cellEnd, idx(numWarps), ValueRange{none},
        [&](OpBuilder &, Location, Value c, ValueRange any) {
          // The cell's first position in the tile: max(p0, c * cellRows).
          Value p = p0;
          if (cellRows != 0) {
            Value cell = toI64(c);
            Value start = arith::MulIOp::create(b, loc, cell, i64(cellRows));
            p = arith::MaxSIOp::create(b, loc, p0, start);
          }
          Value keep = mask.buildPredicate(b, loc, p, key64, lk64);
          scf::YieldOp::create(
              b, loc, ValueRange{arith::OrIOp::create(b, loc, any[0], keep)});
        });
    return arith::ExtUIOp::create(b, loc, b.getI32Type(),
                                  cellLoop.getResult(0));
  };
  // On runs of 32 keys or more, the lane's keys of one run share the
  // evaluation at the run's first key.
  int64_t cellKeys = keyCellWidth(mask, tileKeys);
  Value shared;
  for (int64_t i = 0; i < tileKeys / kWarpSize; ++i) {
    Value j = add(lane, idx(i * kWarpSize));
    Value flag;
    if (cellKeys % kWarpSize != 0)
      flag = keptByWarp(toI64(add(k0, j)));
    else if (i * kWarpSize % cellKeys == 0)
      flag = shared = keptByWarp(toI64(add(k0, idx(i * kWarpSize))));
    else
      flag = shared;
    store(flag, used, {warp, j});
  }
}

void KernelBuilderBase::forUnusedKeys(Value used, int64_t tileKeys,
                                      int64_t width, int64_t vec,
                                      function_ref<void(Value, Value)> zero) {
  int64_t numWarps = threads / kWarpSize, perRow = width / vec;
  Value tid = add(mul(warp, idx(kWarpSize)), lane);
  forLoop(tid, idx(tileKeys * perRow), threads, [&](Value i) {
    Value c = divIdx(i, perRow);
    Value any = load(used, {idx(0), c});
    for (int64_t w = 1; w < numWarps; ++w)
      any = arith::OrIOp::create(b, loc, any, load(used, {idx(w), c}));
    Value unused =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, any, i32(0));
    ifThen(unused, [&] { zero(c, mul(remIdx(i, perRow), idx(vec))); });
  });
}

void KernelBuilderBase::storeZero16(Value tile, Value offset) {
  auto zeros = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(VectorType::get({4}, b.getI32Type()),
                             b.getI32IntegerAttr(0)));
  LLVM::StoreOp::create(b, loc, zeros, sharedPtr(tile, offset),
                        /*alignment=*/16);
}

void KernelBuilderBase::copyRowsAsync(Value src, Value tile, Value base,
                                      int64_t pitch, int64_t numRows,
                                      int64_t width,
                                      function_ref<Value(Value)> rowOffset,
                                      function_ref<Value(Value)> keepRow,
                                      Value rowStride) {
  // Chunk c of the tile: row c / (width / 8), columns 8 (c % (width / 8)) ...
  int64_t chunksPerRow = width / kVecElems;
  Value tid = add(mul(warp, idx(kWarpSize)), lane);
  // cp.async copies `bytes` of the 16 and fills the rest with zeros.
  auto copyChunk = [&](Value row, Value to, Value from) {
    Value bytes =
        keepRow ? arith::SelectOp::create(b, loc, keepRow(row), i32(16), i32(0))
                : i32(16);
    NVVM::CpAsyncOp::create(b, loc, to, from, b.getI32IntegerAttr(16),
                            NVVM::LoadCacheModifierKindAttr::get(
                                ctx, NVVM::LoadCacheModifierKind::CG),
                            bytes);
  };
  auto sharedAt = [&](Value row, Value col) {
    return sharedPtr(tile, add(base, add(mul(row, idx(pitch)), col)));
  };
  if (threads % chunksPerRow != 0 || (numRows * chunksPerRow) % threads != 0) {
    forLoop(tid, idx(numRows * chunksPerRow), threads, [&](Value c) {
      Value row = arith::DivUIOp::create(b, loc, c, idx(chunksPerRow));
      Value col = mul(arith::RemUIOp::create(b, loc, c, idx(chunksPerRow)),
                      idx(kVecElems));
      copyChunk(row, sharedAt(row, col),
                globalPtr(src, add(rowOffset(row), col)));
    });
    NVVM::CpAsyncCommitGroupOp::create(b, loc);
    return;
  }
  // Each thread copies the same columns of rows `step` apart: pointers to its
  // first chunk, the others at offsets from them (constant in shared memory,
  // and step rowStride rows apart in global memory when given).
  int64_t step = threads / chunksPerRow;
  Value row0 = arith::DivUIOp::create(b, loc, tid, idx(chunksPerRow));
  Value col = mul(arith::RemUIOp::create(b, loc, tid, idx(chunksPerRow)),
                  idx(kVecElems));
  Value offset0 = rowOffset(row0);
  Value to0 = sharedAt(row0, col), from0 = globalPtr(src, add(offset0, col));
  Type elem = cast<MemRefType>(src.getType()).getElementType();
  for (int64_t i = 0; i < numRows * chunksPerRow / threads; ++i) {
    Value row = add(row0, idx(i * step));
    Value to =
        LLVM::GEPOp::create(b, loc, to0.getType(), elem, to0,
                            ArrayRef<LLVM::GEPArg>{int32_t(i * step * pitch)});
    Value delta = rowStride ? mul(rowStride, idx(i * step))
                            : sub(rowOffset(row), offset0);
    Value from = LLVM::GEPOp::create(b, loc, from0.getType(), elem, from0,
                                     ValueRange{toI64(delta)});
    copyChunk(row, to, from);
  }
  NVVM::CpAsyncCommitGroupOp::create(b, loc);
}

SmallVector<Value> KernelBuilderBase::loadMatrices(Value tile, Value offset,
                                               bool transpose) {
  auto i32Type = b.getI32Type();
  auto type = LLVM::LLVMStructType::getLiteral(
      ctx, {i32Type, i32Type, i32Type, i32Type});
  auto matrices = NVVM::LdMatrixOp::create(
      b, loc, type, sharedPtr(tile, offset), /*num=*/4,
      transpose ? NVVM::MMALayout::col : NVVM::MMALayout::row,
      NVVM::LdStMatrixShapeAttr::get(ctx, 8, 8), NVVM::LdStMatrixEltType::B16);
  SmallVector<Value> regs;
  for (int64_t i = 0; i < 4; ++i)
    regs.push_back(asOperand(
        LLVM::ExtractValueOp::create(b, loc, matrices, ArrayRef<int64_t>{i})));
  return regs;
}

Value KernelBuilderBase::packRounded(Value lo, Value hi) {
  Value pair = vector::FromElementsOp::create(b, loc, VectorType::get({2}, f32),
                                              ValueRange{lo, hi});
  Value rounded =
      arith::TruncFOp::create(b, loc, VectorType::get({2}, elemType), pair);
  if (elemType.isF16())
    return rounded;
  return LLVM::BitcastOp::create(b, loc, b.getI32Type(), rounded);
}

Value KernelBuilderBase::asOperand(Value word) {
  if (elemType.isF16())
    return LLVM::BitcastOp::create(b, loc, VectorType::get({2}, elemType),
                                   word);
  return word;
}

SmallVector<Value> KernelBuilderBase::mmaSync(ArrayRef<Value> a,
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

Value KernelBuilderBase::quadReduce(Value x, bool isMax) {
  for (int32_t offset : {1, 2}) {
    Value other = gpu::ShuffleOp::create(b, loc, x, offset, kWarpSize,
                                         gpu::ShuffleMode::XOR)
                      .getShuffleResult();
    x = isMax ? maxf(x, other) : Value(arith::AddFOp::create(b, loc, x, other));
  }
  return x;
}

