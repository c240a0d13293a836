//===- SAttnDialect.cpp - sattn dialect -----------------------------------===//

#include "sattn/Dialect/SAttn/IR/SAttnDialect.h"
#include "sattn/Dialect/SAttn/IR/SAttnAttrs.h"
#include "sattn/Dialect/SAttn/IR/SAttnOps.h"

using namespace mlir;
using namespace mlir::sattn;

#include "sattn/Dialect/SAttn/IR/SAttnDialect.cpp.inc"

void SAttnDialect::initialize() {
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "sattn/Dialect/SAttn/IR/SAttnOps.cpp.inc"
      >();
}

LogicalResult SAttnDialect::verifyOperationAttribute(Operation *op,
                                                     NamedAttribute attr) {
  if (attr.getName() == "sattn.iteration_space") {
    // Set by -convert-sattn-to-loops on a tile function: {stride, shift,
    // mask} of the iteration space it computes (docs/CPUCodegen.md).
    auto space = dyn_cast<DictionaryAttr>(attr.getValue());
    auto stride = space ? space.getAs<IntegerAttr>("stride") : IntegerAttr();
    if (!stride || stride.getInt() < 1 || !space.getAs<IntegerAttr>("shift") ||
        !space.getAs<MaskAttrInterface>("mask"))
      return op->emitError("'sattn.iteration_space' must be {mask = <mask>, "
                           "shift = <i64>, stride = <i64 >= 1>}, got ")
             << attr.getValue();
    return success();
  }
  if (attr.getName() != "sattn.tile")
    return op->emitError("unknown attribute '")
           << attr.getName().getValue()
           << "' of the sattn dialect (known: sattn.iteration_space, "
              "sattn.tile)";
  auto tile = dyn_cast<DenseI64ArrayAttr>(attr.getValue());
  if (!tile || tile.size() != 2 ||
      llvm::any_of(tile.asArrayRef(),
                   [](int64_t n) { return n < 1 || n > kMaxTileSide; }))
    return op->emitError("'sattn.tile' must be array<i64: Br, Bc> with 1 <= "
                         "Br, Bc <= ")
           << kMaxTileSide << ", got " << attr.getValue();
  return success();
}
