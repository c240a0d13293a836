//===- TileMath.h - vector helpers of the CPU kernels -----------*- C++ -*-===//
//
// What the forward (SAttnToLoops.cpp) and backward (AttentionGradToLoops.cpp)
// CPU kernels build the same way: register blocking for the host's vectors,
// tile sizes, 2^x on f32 vectors, and row loads and stores with masked tails.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_LIB_CONVERSION_SATTNTOLOOPS_TILEMATH_H
#define SATTN_LIB_CONVERSION_SATTNTOLOOPS_TILEMATH_H

#include "sattn/Dialect/SAttn/Transforms/MaskRewrites.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::sattn {

constexpr int64_t kRowChunk = 4; // rows per register block of O += P V
constexpr int64_t kMaxHeadDim = 512;
constexpr int64_t kMaxScratchBytes = 1 << 20; // of a thread's stack

/// Register blocking for the host's vector registers: 256-bit (AVX2, 16
/// registers) or 512-bit (AVX-512, 32 registers), and whether bf16 products
/// may use vdpbf16ps.
struct VectorShape {
  int64_t lanes;        // f32 per vector
  int64_t accBudget;    // accumulator registers per block
  bool bf16Dot = false; // AVX512_BF16 pair dot products
  static VectorShape forBits(int64_t bits, bool bf16Dot = false) {
    VectorShape shape = bits >= 512 ? VectorShape{16, 16} : VectorShape{8, 12};
    shape.bf16Dot = bf16Dot;
    return shape;
  }
};

struct TileSizes {
  int64_t rows; // Br
  int64_t keys; // Bc
};

/// What the CPU kernels' function builders share: the builder, f32 vectors of
/// `lanes`, and small constant and index helpers.
class TileBuilderBase {
protected:
  TileBuilderBase(MLIRContext *ctx, Location loc, int64_t lanes)
      : ctx(ctx), b(ctx), loc(loc), lanes(lanes), f32(b.getF32Type()),
        vecF32(VectorType::get({lanes}, f32)) {}

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value f32Const(float v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value splat(float v) {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vecF32, b.getF32FloatAttr(v)));
  }
  Value toI64(Value index) {
    return arith::IndexCastOp::create(b, loc, b.getI64Type(), index);
  }
  Value minIdx(Value x, Value y) {
    return arith::MinSIOp::create(b, loc, x, y);
  }
  Value addIdx(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mulIdx(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value subIdx(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  /// An f16/bf16 scalar or vector of `lanes` as f32.
  Value widen(Value x) {
    Type target = isa<VectorType>(x.getType()) ? Type(vecF32) : f32;
    return x.getType() == target ? x : arith::ExtFOp::create(b, loc, target, x);
  }

  MLIRContext *ctx;
  OpBuilder b;
  Location loc;
  int64_t lanes;
  Type f32;
  VectorType vecF32;
};

/// The op's `sattn.tile` = [Br, Bc], else `fallback`.
TileSizes getTileSizes(Operation *op, TileSizes fallback);

/// 2^x on f32 vectors, x <= 0; exactly 0 below -126 (and for -inf).
Value buildExp2(OpBuilder &b, Location loc, Value x);

/// The sums of n f32 vectors of n lanes each (n a power of 2), in one
/// vector: log2(n) levels, each adding the low and high halves of every
/// vector's segments for pairs of vectors. Lane i holds the sum of
/// `vectors[sumOf[i]]`. The shuffles move whole 256- or 128-bit halves while
/// segments are wider than 4 lanes, then stay within 128-bit lanes (x86:
/// 3 n - 3 shuffles and adds, against about 8 n for n reductions).
Value buildTransposedSums(OpBuilder &b, Location loc, ArrayRef<Value> vectors,
                          SmallVectorImpl<int64_t> &sumOf);

/// `lanes` elements of row `indices` of `memref` from column `col`, as f32
/// (or as they are stored, when !toF32), zero past the last dim `dim`.
Value loadRowVector(OpBuilder &b, Location loc, Value memref,
                    ValueRange indices, int64_t col, int64_t dim, int64_t lanes,
                    bool toF32 = true);
/// Stores the f32 vector `value` there (narrowed to the element type), none
/// of it past `dim`.
void storeRowVector(OpBuilder &b, Location loc, Value value, Value memref,
                    ValueRange indices, int64_t col, int64_t dim);

/// omp_get_max_threads() (index), declared in `op`'s module if needed.
Value buildMaxThreads(OpBuilder &b, Operation *op);

/// One residue class r of an iteration space of stride s (MaskRewrites.h):
/// the query rows i0, i0 + s, ... (positions p = i + Lk - Lq = r mod s) and
/// the keys r, r + s, ...
struct ResidueClass {
  Value stride;   // s (index)
  Value firstRow; // i0 = (r - (Lk - Lq)) mod s
  Value numRows;  // ceil((Lq - i0) / s)
  Value numKeys;  // ceil((Lk - r) / s)
  Value position; // residue position of row i0: floor(p / s) + shift
  /// The class's view of a [B, H, L, width] or [B, H, L] identity-layout
  /// buffer: rows first, first + s, ... (`first` = firstRow or r), `count`
  /// of them, as `type` (getResidueViewType).
  Value view(OpBuilder &b, Location loc, MemRefType type, Value buffer,
             Value first, Value count) const;
};
ResidueClass buildResidueClass(OpBuilder &b, Location loc, Value r,
                               int64_t stride, int64_t shift, Value lq,
                               Value lk);
/// Marks the function that computes `space` with `sattn.iteration_space =
/// {mask, shift, stride}`.
void setIterationSpaceAttr(Operation *fn, const IterationSpace &space);
/// memref<?x?x?x{last}x{elem}> (or rank 3 with last = 0) with a dynamic
/// offset and strides: views of one residue class or of one varlen
/// sequence.
MemRefType getResidueViewType(Type elem, int64_t last);

/// Adds the rewrite of sattn.attention_grad (AttentionGradToLoops.cpp).
void populateAttentionGradToLoopsPatterns(RewritePatternSet &patterns,
                                          VectorShape vec);

} // namespace mlir::sattn

#endif // SATTN_LIB_CONVERSION_SATTNTOLOOPS_TILEMATH_H
