//===- MaskRewrites.h - exact rewrites of mask attributes -------*- C++ -*-===//
//
// The attribute-level rewrites behind -sattn-expand-presets and
// -sattn-simplify-masks, usable on their own (tests, tools, the C API).
// Each returns a mask with the same mask(p, k) as its input.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_DIALECT_SATTN_TRANSFORMS_MASKREWRITES_H
#define SATTN_DIALECT_SATTN_TRANSFORMS_MASKREWRITES_H

#include "sattn/Dialect/SAttn/IR/SAttnAttrs.h"
#include <optional>

namespace mlir {
namespace sattn {

/// Replaces every preset inside `mask` by its primitives where that is exact
/// for key length `lk` (std::nullopt: dynamic).
MaskAttrInterface expandPresets(MaskAttrInterface mask,
                                std::optional<int64_t> lk);

/// Applies the algebraic simplifications of -sattn-simplify-masks.
MaskAttrInterface simplifyMask(MaskAttrInterface mask);

/// One part of a mask cut into iteration spaces: the pairs (p, k) with
/// p = k (mod stride) whose residue positions p' = floor(p / stride) + shift
/// and k' = floor(k / stride) satisfy `mask`. Within one residue class the
/// part is then attention with `mask` on every stride-th query and key.
struct IterationSpace {
  int64_t stride, shift;
  MaskAttrInterface mask;
};

/// `mask` (simplified) as disjoint iteration spaces, at least one of them
/// with a stride > 1: strided<s> is s dense problems, dilated<L, R, d> d
/// windows, intersect<[causal, strided<s>]> s causal problems, and a union
/// of a window with strided<s> the window (stride 1) plus the strided
/// diagonals outside it. std::nullopt when `mask` is not a union of bands
/// with one step > 1 besides step 1 (or has no step > 1).
std::optional<SmallVector<IterationSpace>>
splitIterationSpaces(MaskAttrInterface mask);

} // namespace sattn
} // namespace mlir

#endif // SATTN_DIALECT_SATTN_TRANSFORMS_MASKREWRITES_H
