//===- SAttnOps.h - sattn operations ----------------------------*- C++ -*-===//

#ifndef SATTN_DIALECT_SATTN_IR_SATTNOPS_H
#define SATTN_DIALECT_SATTN_IR_SATTNOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "sattn/Dialect/SAttn/IR/SAttnAttrs.h"
#include "sattn/Dialect/SAttn/IR/SAttnDialect.h"

#include "sattn/Dialect/SAttn/IR/SAttnOpInterfaces.h.inc"

#define GET_OP_CLASSES
#include "sattn/Dialect/SAttn/IR/SAttnOps.h.inc"

#endif // SATTN_DIALECT_SATTN_IR_SATTNOPS_H
