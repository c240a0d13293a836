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

} // namespace sattn
} // namespace mlir

#endif // SATTN_DIALECT_SATTN_TRANSFORMS_MASKREWRITES_H
