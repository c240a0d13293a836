//===- ExternDynamicSharedMemory.cpp - extern dynamic shared memory -------===//

#include "sattn/Conversion/SAttnToGPU/SAttnToGPU.h"

namespace mlir::sattn {
#define GEN_PASS_DEF_SATTNEXTERNDYNAMICSHAREDMEMORY
#include "sattn/Conversion/Passes.h.inc"
} // namespace mlir::sattn

using namespace mlir;

namespace {
struct ExternDynamicSharedMemoryPass
    : public sattn::impl::SAttnExternDynamicSharedMemoryBase<
          ExternDynamicSharedMemoryPass> {
  void runOnOperation() override {
    // Zero-sized shared arrays are what gpu.dynamic_shared_memory becomes.
    getOperation().walk([](LLVM::GlobalOp global) {
      auto array = dyn_cast<LLVM::LLVMArrayType>(global.getGlobalType());
      if (global.getAddrSpace() == 3 && array && array.getNumElements() == 0)
        global.setLinkage(LLVM::Linkage::External);
    });
  }
};
} // namespace
