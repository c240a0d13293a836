//===- sattn-opt.cpp - mlir-opt with the sattn dialect and passes ---------===//

#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

#include "sattn/Conversion/Passes.h"
#include "sattn/Dialect/SAttn/IR/SAttnDialect.h"
#include "sattn/Dialect/SAttn/Transforms/Passes.h"
#include "sattn/Pipelines/Pipelines.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::sattn::registerSAttnPasses();
  mlir::sattn::registerSAttnConversionPasses();
  mlir::sattn::registerSAttnPipelines();

  mlir::DialectRegistry registry;
  registry.insert<mlir::sattn::SAttnDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // gpu-module-to-binary (-sattn-lower-to-nvvm) translates to LLVM IR.
  mlir::registerAllToLLVMIRTranslations(registry);

  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "sattn optimizer driver\n", registry));
}
