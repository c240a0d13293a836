//===- MaskMath.cpp - exact arithmetic shared by the mask attributes ------===//

#include "MaskMath.h"
#include <algorithm>

using namespace mlir::sattn;
using namespace mlir::sattn::mask_math;

llvm::StringRef mlir::sattn::stringifyTileClass(TileClass c) {
  switch (c) {
  case TileClass::Empty:
    return "empty";
  case TileClass::Full:
    return "full";
  case TileClass::Partial:
    return "partial";
  }
  return "unknown";
}

TileClass mlir::sattn::unionClass(TileClass a, TileClass b) {
  if (a == TileClass::Full || b == TileClass::Full)
    return TileClass::Full;
  if (a == TileClass::Empty && b == TileClass::Empty)
    return TileClass::Empty;
  return TileClass::Partial;
}

TileClass mlir::sattn::intersectClass(TileClass a, TileClass b) {
  if (a == TileClass::Empty || b == TileClass::Empty)
    return TileClass::Empty;
  if (a == TileClass::Full && b == TileClass::Full)
    return TileClass::Full;
  return TileClass::Partial;
}

TileClass mlir::sattn::complementClass(TileClass c) {
  if (c == TileClass::Full)
    return TileClass::Empty;
  if (c == TileClass::Empty)
    return TileClass::Full;
  return TileClass::Partial;
}

bool mask_math::evaluateDiagonalBand(int64_t p, int64_t k, int64_t lo,
                                     int64_t hi, int64_t step) {
  int64_t d = k - p;
  return lo <= d && d <= hi && floorMod(d, step) == 0;
}

TileClass mask_math::classifyDiagonalBand(int64_t p0, int64_t p1, int64_t k0,
                                          int64_t k1, int64_t lo, int64_t hi,
                                          int64_t step) {
  // Over the rectangle, d = k - p takes every value of [dMin, dMax].
  int64_t dMin = k0 - (p1 - 1), dMax = (k1 - 1) - p0;
  int64_t a = std::max(dMin, lo), b = std::min(dMax, hi);
  // First multiple of `step` at or above a.
  if (a > b || ceilDiv(a, step) * step > b)
    return TileClass::Empty;
  bool allInRange = lo <= dMin && dMax <= hi;
  bool allOnStride = step == 1 || (dMin == dMax && floorMod(dMin, step) == 0);
  return allInRange && allOnStride ? TileClass::Full : TileClass::Partial;
}

/// Number of tokens in [lo, hi).
static int64_t countTokens(llvm::ArrayRef<int64_t> tokens, int64_t lo,
                           int64_t hi) {
  return std::lower_bound(tokens.begin(), tokens.end(), hi) -
         std::lower_bound(tokens.begin(), tokens.end(), lo);
}

bool mask_math::evaluateGlobal(int64_t p, int64_t k,
                               llvm::ArrayRef<int64_t> tokens) {
  return std::binary_search(tokens.begin(), tokens.end(), p) ||
         std::binary_search(tokens.begin(), tokens.end(), k);
}

TileClass mask_math::classifyGlobal(int64_t p0, int64_t p1, int64_t k0,
                                    int64_t k1,
                                    llvm::ArrayRef<int64_t> tokens) {
  int64_t inP = countTokens(tokens, p0, p1), inK = countTokens(tokens, k0, k1);
  // A pair (p, k) is dropped iff p and k are both outside T: the rectangle is
  // full iff every row or every column is a token.
  if (inP == p1 - p0 || inK == k1 - k0)
    return TileClass::Full;
  if (inP == 0 && inK == 0)
    return TileClass::Empty;
  return TileClass::Partial;
}

TileClass mask_math::classifySink(int64_t k0, int64_t k1, int64_t n) {
  if (k1 <= n)
    return TileClass::Full;
  if (k0 >= n)
    return TileClass::Empty;
  return TileClass::Partial;
}

TileClass
mask_math::classifyBlockGrid(int64_t p0, int64_t p1, int64_t k0, int64_t k1,
                             int64_t bq, int64_t bk,
                             llvm::function_ref<bool(int64_t, int64_t)> cell) {
  bool anyTrue = false, anyFalse = false;
  int64_t qbEnd = floorDiv(p1 - 1, bq), kbEnd = floorDiv(k1 - 1, bk);
  for (int64_t qb = floorDiv(p0, bq); qb <= qbEnd; ++qb) {
    for (int64_t kb = floorDiv(k0, bk); kb <= kbEnd; ++kb) {
      // Every overlapped cell holds at least one pair of the rectangle.
      (cell(qb, kb) ? anyTrue : anyFalse) = true;
      if (anyTrue && anyFalse)
        return TileClass::Partial;
    }
  }
  return anyTrue ? TileClass::Full : TileClass::Empty;
}
