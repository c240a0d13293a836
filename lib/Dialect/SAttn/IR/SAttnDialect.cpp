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
