//===- NpyFuzzer.cpp - fuzz target: the .npy reader -----------------------===//
//
// Any bytes: parseNpy either fails with a message or returns a tensor whose
// byte size is exactly the file's data size.
//
//===----------------------------------------------------------------------===//

#include "sattn/Runtime/HostTensor.h"

#include <cstdlib>

using namespace mlir::sattn;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  auto tensor = parseNpy(bytes, "fuzz.npy");
  if (!tensor) {
    llvm::consumeError(tensor.takeError());
    return 0;
  }
  if (tensor->numBytes() > size)
    abort(); // the header promised more data than the file holds
  return 0;
}
