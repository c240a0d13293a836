//===- SAttnInterfaces.h - mask attribute interface -------------*- C++ -*-===//

#ifndef SATTN_DIALECT_SATTN_IR_SATTNINTERFACES_H
#define SATTN_DIALECT_SATTN_IR_SATTNINTERFACES_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringRef.h"
#include <cstdint>
#include <optional>

namespace mlir {
namespace sattn {

/// What a mask keeps inside a (query range x key range) rectangle.
enum class TileClass { Empty, Full, Partial };

llvm::StringRef stringifyTileClass(TileClass c);

/// Combines the classes of the members of a union / an intersection.
TileClass unionClass(TileClass a, TileClass b);
TileClass intersectClass(TileClass a, TileClass b);
TileClass complementClass(TileClass c);

/// An i64 constant of `type` (i64, or a splat vector of i64).
Value buildI64Constant(OpBuilder &b, Location loc, Type type, int64_t value);

} // namespace sattn
} // namespace mlir

#include "sattn/Dialect/SAttn/IR/SAttnAttrInterfaces.h.inc"

#endif // SATTN_DIALECT_SATTN_IR_SATTNINTERFACES_H
