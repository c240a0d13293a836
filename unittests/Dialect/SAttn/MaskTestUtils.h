//===- MaskTestUtils.h - random mask patterns for brute-force tests -------===//

#ifndef SATTN_UNITTESTS_MASKTESTUTILS_H
#define SATTN_UNITTESTS_MASKTESTUTILS_H

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"
#include "sattn/Dialect/SAttn/IR/SAttnAttrs.h"
#include "sattn/Dialect/SAttn/IR/SAttnDialect.h"
#include <ostream>
#include <random>

namespace mlir {
/// Lets gtest print attributes in failure messages.
inline std::ostream &operator<<(std::ostream &os, Attribute attr) {
  std::string text;
  llvm::raw_string_ostream(text) << attr;
  return os << text;
}
} // namespace mlir

namespace sattn_test {

using namespace mlir;
using namespace mlir::sattn;

inline int64_t uniform(std::mt19937_64 &rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

inline SmallVector<int64_t> randomTokens(std::mt19937_64 &rng) {
  SmallVector<int64_t> tokens;
  int64_t n = uniform(rng, 1, 3);
  while ((int64_t)tokens.size() < n) {
    int64_t t = uniform(rng, 0, 24);
    if (!llvm::is_contained(tokens, t))
      tokens.push_back(t);
  }
  return tokens;
}

/// A random primitive or preset (kinds 0..12), or with depth > 0 a random
/// combinator of such masks. Band patterns are drawn more often so that the
/// band algebra of the simplifier gets exercised.
inline Attribute randomMask(MLIRContext *ctx, std::mt19937_64 &rng, int depth) {
  int64_t kind = uniform(rng, 0, depth > 0 ? 18 : 12);
  switch (kind) {
  case 0:
    return DenseAttr::get(ctx);
  case 1:
    return CausalAttr::get(ctx);
  case 2:
    return WindowAttr::get(ctx, uniform(rng, 0, 6), uniform(rng, 0, 6));
  case 3:
    return DilatedAttr::get(ctx, uniform(rng, 0, 4), uniform(rng, 0, 4),
                            uniform(rng, 1, 4));
  case 4:
    return StridedAttr::get(ctx, uniform(rng, 1, 5));
  case 5:
    return GlobalAttr::get(ctx, randomTokens(rng));
  case 6:
    return SinkAttr::get(ctx, uniform(rng, 1, 6));
  case 7: {
    int64_t rows = uniform(rng, 1, 8), cols = uniform(rng, 1, 8);
    SmallVector<bool> cells;
    for (int64_t i = 0; i < rows * cols; ++i)
      cells.push_back(uniform(rng, 0, 2) == 0);
    auto type = RankedTensorType::get({rows, cols}, IntegerType::get(ctx, 1));
    return BlockSparseAttr::get(
        ctx, uniform(rng, 1, 5), uniform(rng, 1, 5),
        cast<DenseIntElementsAttr>(DenseElementsAttr::get(type, cells)));
  }
  case 8:
    return RandomAttr::get(ctx, uniform(rng, 1, 5), uniform(rng, 1, 3), rng());
  case 9:
    return LongformerAttr::get(ctx, 2 * uniform(rng, 1, 4), randomTokens(rng));
  case 10:
    return BigBirdAttr::get(ctx, uniform(rng, 1, 4), 2 * uniform(rng, 0, 2) + 1,
                            uniform(rng, 0, 2), uniform(rng, 0, 2), rng());
  case 11:
    return SparseTransformerAttr::get(ctx, uniform(rng, 1, 5));
  case 12:
    return StreamingAttr::get(ctx, uniform(rng, 1, 4), uniform(rng, 1, 6));
  default:
    break;
  }
  SmallVector<Attribute> members;
  int64_t n = uniform(rng, 1, 3);
  for (int64_t i = 0; i < n; ++i) {
    // Half of the members are bands, duplicates or complements of each other.
    int64_t pick = uniform(rng, 0, 5);
    if (pick == 0 && !members.empty())
      members.push_back(members[uniform(rng, 0, members.size() - 1)]);
    else if (pick == 1 && !members.empty())
      members.push_back(ComplementAttr::get(
          ctx, members[uniform(rng, 0, members.size() - 1)]));
    else if (pick == 2)
      members.push_back(randomMask(ctx, rng, 0));
    else
      members.push_back(randomMask(ctx, rng, depth - 1));
  }
  switch (kind) {
  case 13:
  case 14:
  case 15:
    return UnionAttr::get(ctx, members);
  case 16:
  case 17:
    return IntersectAttr::get(ctx, members);
  default:
    return ComplementAttr::get(ctx, members.front());
  }
}

/// Query positions p of rows 0 <= i < lq: p = i + (lk - lq).
struct Shape {
  int64_t lq, lk;
};
inline SmallVector<Shape> testShapes() {
  return {{0, 0},   {1, 1},  {7, 7},  {16, 16}, {23, 23},
          {30, 17}, {5, 19}, {1, 13}, {12, 0},  {40, 9}};
}

} // namespace sattn_test

#endif // SATTN_UNITTESTS_MASKTESTUTILS_H
