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
  // Set by the conversions on a host function: one entry per kernel, in
  // order.
  auto checkArray =
      [&](StringRef name, StringRef entry,
          function_ref<bool(Attribute)> isEntry) -> LogicalResult {
    auto entries = dyn_cast<ArrayAttr>(attr.getValue());
    if (entries && llvm::all_of(entries, isEntry))
      return success();
    return op->emitError("'") << name << "' must be an array of " << entry
                              << ", got " << attr.getValue();
  };
  if (attr.getName() == "sattn.gpu_launches")
    return checkArray("sattn.gpu_launches", "#sattn.gpu_launch",
                      llvm::IsaPred<GpuLaunchAttr>);
  if (attr.getName() == "sattn.cpu_kernels")
    return checkArray("sattn.cpu_kernels", "#sattn.cpu_kernel",
                      llvm::IsaPred<CpuKernelAttr>);
  if (attr.getName() != "sattn.tile")
    return op->emitError("unknown attribute '")
           << attr.getName().getValue()
           << "' of the sattn dialect (known: sattn.cpu_kernels, "
              "sattn.gpu_launches, sattn.iteration_space, sattn.tile)";
  if (!isa<TileAttr>(attr.getValue()))
    return op->emitError("'sattn.tile' must be #sattn.tile<rows = Br, keys = "
                         "Bc>, got ")
           << attr.getValue();
  return success();
}
