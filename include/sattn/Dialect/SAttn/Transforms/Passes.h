//===- Passes.h - sattn dialect passes --------------------------*- C++ -*-===//

#ifndef SATTN_DIALECT_SATTN_TRANSFORMS_PASSES_H
#define SATTN_DIALECT_SATTN_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"
#include "sattn/Dialect/SAttn/IR/SAttnDialect.h"

namespace mlir {
namespace sattn {

#define GEN_PASS_DECL
#include "sattn/Dialect/SAttn/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "sattn/Dialect/SAttn/Transforms/Passes.h.inc"

} // namespace sattn
} // namespace mlir

#endif // SATTN_DIALECT_SATTN_TRANSFORMS_PASSES_H
