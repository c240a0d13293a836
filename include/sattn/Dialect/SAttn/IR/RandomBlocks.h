//===- RandomBlocks.h - the random block generator --------------*- C++ -*-===//
//
// The generator of `#sattn.random` and `#sattn.bigbird` (docs/Semantics.md,
// "Random blocks"): a splitmix64 finalizer on wrapping unsigned 64-bit
// arithmetic. Every target must reproduce these exact values.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_DIALECT_SATTN_IR_RANDOMBLOCKS_H
#define SATTN_DIALECT_SATTN_IR_RANDOMBLOCKS_H

#include <cstdint>

namespace mlir {
namespace sattn {

inline uint64_t randomMix(uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// The t-th draw of R(qb): mix(mix(seed) ^ (qb * r + t)) mod nkb, for qb >= 0,
/// 0 <= t < r and nkb = ceil(Lk / b) >= 1.
inline int64_t randomBlock(uint64_t seed, int64_t qb, int64_t perRow, int64_t t,
                           int64_t numKeyBlocks) {
  uint64_t x = randomMix(seed) ^
               (static_cast<uint64_t>(qb) * static_cast<uint64_t>(perRow) +
                static_cast<uint64_t>(t));
  return static_cast<int64_t>(randomMix(x) %
                              static_cast<uint64_t>(numKeyBlocks));
}

/// True iff key block kb is in R(qb).
inline bool inRandomBlocks(uint64_t seed, int64_t qb, int64_t perRow,
                           int64_t kb, int64_t numKeyBlocks) {
  if (qb < 0 || numKeyBlocks <= 0)
    return false;
  for (int64_t t = 0; t < perRow; ++t)
    if (randomBlock(seed, qb, perRow, t, numKeyBlocks) == kb)
      return true;
  return false;
}

} // namespace sattn
} // namespace mlir

#endif // SATTN_DIALECT_SATTN_IR_RANDOMBLOCKS_H
