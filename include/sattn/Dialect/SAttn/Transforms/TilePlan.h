//===- TilePlan.h - tile sizes and tile statistics --------------*- C++ -*-===//

#ifndef SATTN_DIALECT_SATTN_TRANSFORMS_TILEPLAN_H
#define SATTN_DIALECT_SATTN_TRANSFORMS_TILEPLAN_H

#include "sattn/Dialect/SAttn/IR/SAttnAttrs.h"

namespace mlir {
namespace sattn {

/// Default tile sizes (Br, Bc) for `mask`: 32 x 64, shrunk to divide the
/// blocks of block patterns so that no tile is PARTIAL.
std::pair<int64_t, int64_t> chooseTileSizes(MaskAttrInterface mask);

} // namespace sattn
} // namespace mlir

#endif // SATTN_DIALECT_SATTN_TRANSFORMS_TILEPLAN_H
