//===- SAttnDialect.h - sattn dialect ---------------------------*- C++ -*-===//

#ifndef SATTN_DIALECT_SATTN_IR_SATTNDIALECT_H
#define SATTN_DIALECT_SATTN_IR_SATTNDIALECT_H

#include "mlir/IR/Dialect.h"

#include "sattn/Dialect/SAttn/IR/SAttnDialect.h.inc"

#endif // SATTN_DIALECT_SATTN_IR_SATTNDIALECT_H
