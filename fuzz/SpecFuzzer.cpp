//===- SpecFuzzer.cpp - fuzz target: the spec parser and verifiers --------===//
//
// Any text: parsing and verifying a module with the sattn dialect either
// fails with diagnostics or succeeds; the spec analysis of the runtime then
// accepts or rejects each function with a message. Never a crash or a hang.
//
//===----------------------------------------------------------------------===//

#include "sattn/Dialect/SAttn/IR/SAttnDialect.h"
#include "sattn/Runtime/SpecKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

using namespace mlir;
using namespace mlir::sattn;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static DialectRegistry *registry = [] {
    auto *r = new DialectRegistry();
    r->insert<SAttnDialect, func::FuncDialect, arith::ArithDialect,
              tensor::TensorDialect>();
    return r;
  }();
  MLIRContext context(*registry, MLIRContext::Threading::DISABLED);
  context.allowUnregisteredDialects(false);
  ScopedDiagnosticHandler quiet(&context,
                                [](Diagnostic &) { return success(); });
  // A NUL-terminated copy, as every caller passes it (the C API takes a C
  // string): MLIR's lexer reads past the end of an unterminated buffer.
  std::string text(reinterpret_cast<const char *>(data), size);
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(text, ParserConfig(&context));
  if (!module)
    return 0;
  for (auto fn : module->getOps<func::FuncOp>()) {
    SpecSignature signature;
    llvm::consumeError(analyzeSpec(fn, signature));
  }
  return 0;
}
