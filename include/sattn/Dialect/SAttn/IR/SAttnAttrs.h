//===- SAttnAttrs.h - mask pattern attributes -------------------*- C++ -*-===//

#ifndef SATTN_DIALECT_SATTN_IR_SATTNATTRS_H
#define SATTN_DIALECT_SATTN_IR_SATTNATTRS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectImplementation.h"
#include "sattn/Dialect/SAttn/IR/SAttnInterfaces.h"

namespace mlir {
namespace sattn {
/// Parses a seed: any integer in [-2^63, 2^64), kept as its 64-bit
/// two's-complement pattern.
FailureOr<uint64_t> parseSeed(AsmParser &parser);
} // namespace sattn
} // namespace mlir

#define GET_ATTRDEF_CLASSES
#include "sattn/Dialect/SAttn/IR/SAttnAttrs.h.inc"

namespace mlir {
namespace sattn {
/// The composition of primitives that a shape-independent preset
/// (longformer, sparse_transformer, streaming) stands for (SPEC.md); null for
/// any other attribute.
MaskAttrInterface getPrimitiveForm(Attribute preset);

/// True for masks whose kept keys lie in a closed-form range around each
/// query (causal, window, dilated, sink, their unions and intersections, and
/// presets made of them): buildKeyRange() bounds them tightly.
bool isBandMask(Attribute mask);

/// Tile classes and kept pairs of one (batch, head) for lengths lq x lk and
/// tiles of rows x keys: classify() on every tile, evaluate() inside PARTIAL
/// ones.
struct TilePlanStats {
  int64_t emptyTiles = 0, fullTiles = 0, partialTiles = 0, keptPairs = 0;
};
TilePlanStats computeTilePlanStats(MaskAttrInterface mask, int64_t lq,
                                   int64_t lk, int64_t rows, int64_t keys);

/// Declares in `module` the constant tables that buildPredicate() of `mask`
/// reads (block layouts); call it before building predicates.
void declareMaskTables(ModuleOp module, Attribute mask);
} // namespace sattn
} // namespace mlir

#endif // SATTN_DIALECT_SATTN_IR_SATTNATTRS_H
