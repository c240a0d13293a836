//===- Passes.h - sattn conversion passes -----------------------*- C++ -*-===//

#ifndef SATTN_CONVERSION_PASSES_H
#define SATTN_CONVERSION_PASSES_H

#include "sattn/Conversion/SAttnToGPU/SAttnToGPU.h"
#include "sattn/Conversion/SAttnToLoops/SAttnToLoops.h"

namespace mlir {
namespace sattn {

#define GEN_PASS_REGISTRATION
#include "sattn/Conversion/Passes.h.inc"

} // namespace sattn
} // namespace mlir

#endif // SATTN_CONVERSION_PASSES_H
