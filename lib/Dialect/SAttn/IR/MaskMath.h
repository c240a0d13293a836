//===- MaskMath.h - exact arithmetic shared by the mask attributes -*- C++ -*-//
//
// Private to the IR library: the formulas of docs/Semantics.md on plain
// integers, so that primitives and presets (which are compositions of
// primitives) share one implementation of evaluate() and classify().
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_LIB_DIALECT_SATTN_IR_MASKMATH_H
#define SATTN_LIB_DIALECT_SATTN_IR_MASKMATH_H

#include "sattn/Dialect/SAttn/IR/SAttnInterfaces.h"
#include "llvm/ADT/ArrayRef.h"
#include <cstdint>

namespace mlir {
namespace sattn {
namespace mask_math {

/// A bound larger than any position; parameters are clamped to it so that
/// products and sums never overflow.
constexpr int64_t kInf = kNoBandEdge;

inline int64_t clampMul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r) || r > kInf)
    return kInf;
  return r;
}
inline int64_t floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
inline int64_t ceilDiv(int64_t a, int64_t b) { return -floorDiv(-a, b); }
inline int64_t floorMod(int64_t a, int64_t b) { return a - floorDiv(a, b) * b; }

/// The pairs with lo <= k - p <= hi and (k - p) mod step == 0: every band
/// pattern (causal, window, dilated, strided) is one such set.
bool evaluateDiagonalBand(int64_t p, int64_t k, int64_t lo, int64_t hi,
                          int64_t step);
TileClass classifyDiagonalBand(int64_t p0, int64_t p1, int64_t k0, int64_t k1,
                               int64_t lo, int64_t hi, int64_t step);

/// global<tokens>: p in T or k in T; `tokens` is sorted.
bool evaluateGlobal(int64_t p, int64_t k, llvm::ArrayRef<int64_t> tokens);
TileClass classifyGlobal(int64_t p0, int64_t p1, int64_t k0, int64_t k1,
                         llvm::ArrayRef<int64_t> tokens);

/// sink<n>: k < n.
inline bool evaluateSink(int64_t k, int64_t n) { return k < n; }
TileClass classifySink(int64_t k0, int64_t k1, int64_t n);

/// Exact classification of a pattern that is constant on the cells of a
/// (bq x bk) block grid: `cell(qb, kb)` gives the value of cell (qb, kb).
TileClass classifyBlockGrid(int64_t p0, int64_t p1, int64_t k0, int64_t k1,
                            int64_t bq, int64_t bk,
                            llvm::function_ref<bool(int64_t, int64_t)> cell);

} // namespace mask_math
} // namespace sattn
} // namespace mlir

#endif // SATTN_LIB_DIALECT_SATTN_IR_MASKMATH_H
