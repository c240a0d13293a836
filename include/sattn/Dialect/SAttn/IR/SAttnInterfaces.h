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

/// An edge at -kNoBandEdge or +kNoBandEdge is no edge; positions are far
/// below it, and parameters are clamped to it.
constexpr int64_t kNoBandEdge = int64_t(1) << 60;

/// A band of diagonals: the pairs with lo <= k - p <= hi and
/// (k - p) mod step == 0 (lo <= 0 <= hi). causal, window, dilated and
/// strided are bands; MaskAttrInterface derives all of a band's answers
/// from it.
struct BandForm {
  int64_t lo, hi, step;
};

/// A fatal error: `mask` has no band or primitive form for the default of
/// MaskAttrInterface method `method`, and does not implement it.
[[noreturn]] void reportMissingMaskMethod(Attribute mask, const char *method);

/// The default of MaskAttrInterface::getBlockGrid(): the primitive form's
/// grid, or the gcd over the operand masks (0 is gcd's identity: constant
/// along that side); patterns without operands and without their own
/// (bands, global tokens) have no grid: (1, 1).
std::pair<int64_t, int64_t> getOperandsBlockGrid(Attribute mask);

/// The answers of MaskAttrInterface for a band (its default methods).
namespace band {
bool evaluate(BandForm band, int64_t p, int64_t k);
TileClass classify(BandForm band, int64_t p0, int64_t p1, int64_t k0,
                   int64_t k1);
Value buildPredicate(OpBuilder &b, Location loc, BandForm band, Value p,
                     Value k);
std::pair<Value, Value> buildClassify(OpBuilder &b, Location loc, BandForm band,
                                      Value p0, Value p1, Value k0, Value k1);
std::pair<Value, Value> buildKeyRange(OpBuilder &b, Location loc, BandForm band,
                                      Value p0, Value p1, Value lk);
std::pair<Value, Value> buildQueryRange(OpBuilder &b, Location loc,
                                        BandForm band, Value k0, Value k1,
                                        Value p0, Value p1);
} // namespace band

} // namespace sattn
} // namespace mlir

#include "sattn/Dialect/SAttn/IR/SAttnAttrInterfaces.h.inc"

#endif // SATTN_DIALECT_SATTN_IR_SATTNINTERFACES_H
