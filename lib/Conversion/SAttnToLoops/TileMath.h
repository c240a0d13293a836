//===- TileMath.h - vector helpers of the CPU kernels -----------*- C++ -*-===//
//
// What the forward (SAttnToLoops.cpp) and backward (AttentionGradToLoops.cpp)
// CPU kernels build the same way: register blocking for the host's vectors,
// tile sizes, 2^x on f32 vectors, and row loads and stores with masked tails.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_LIB_CONVERSION_SATTNTOLOOPS_TILEMATH_H
#define SATTN_LIB_CONVERSION_SATTNTOLOOPS_TILEMATH_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::sattn {

constexpr int64_t kRowChunk = 4; // rows per register block of O += P V
constexpr int64_t kMaxHeadDim = 512;
constexpr int64_t kMaxScratchBytes = 1 << 20; // of a thread's stack

/// Register blocking for the host's vector registers: 256-bit (AVX2, 16
/// registers) or 512-bit (AVX-512, 32 registers).
struct VectorShape {
  int64_t lanes;     // f32 per vector
  int64_t accBudget; // accumulator registers per block
  static VectorShape forBits(int64_t bits) {
    return bits >= 512 ? VectorShape{16, 16} : VectorShape{8, 12};
  }
};

struct TileSizes {
  int64_t rows; // Br
  int64_t keys; // Bc
};

/// The op's `sattn.tile` = [Br, Bc], else `fallback`.
TileSizes getTileSizes(Operation *op, TileSizes fallback);

/// 2^x on f32 vectors, x <= 0; exactly 0 below -126 (and for -inf).
Value buildExp2(OpBuilder &b, Location loc, Value x);

/// `lanes` elements of row `indices` of `memref` from column `col`, as f32,
/// zero past the last dim `dim`.
Value loadRowVector(OpBuilder &b, Location loc, Value memref,
                    ValueRange indices, int64_t col, int64_t dim,
                    int64_t lanes);
/// Stores the f32 vector `value` there (narrowed to the element type), none
/// of it past `dim`.
void storeRowVector(OpBuilder &b, Location loc, Value value, Value memref,
                    ValueRange indices, int64_t col, int64_t dim);

/// omp_get_max_threads() (index), declared in `op`'s module if needed.
Value buildMaxThreads(OpBuilder &b, Operation *op);

/// Adds the rewrite of sattn.attention_grad (AttentionGradToLoops.cpp).
void populateAttentionGradToLoopsPatterns(RewritePatternSet &patterns,
                                          VectorShape vec);

} // namespace mlir::sattn

#endif // SATTN_LIB_CONVERSION_SATTNTOLOOPS_TILEMATH_H
