//===- StandaloneMain.cpp - replays a fuzz corpus without libFuzzer -------===//
//
// The fuzz targets' entry point for builds without libFuzzer (any compiler):
// runs LLVMFuzzerTestOneInput once per file named on the command line, or
// per file of each directory named. `make test` replays the committed corpus
// this way; `make fuzz` links the same targets with -fsanitize=fuzzer.
//
//===----------------------------------------------------------------------===//

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"
#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool runFile(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    llvm::errs() << path << ": " << buffer.getError().message() << "\n";
    return false;
  }
  llvm::StringRef bytes = (*buffer)->getBuffer();
  // A copy of exactly the input's size, as libFuzzer passes it (so that a
  // read past the end is caught by sanitizers).
  std::vector<uint8_t> data(bytes.begin(), bytes.end());
  LLVMFuzzerTestOneInput(data.data(), data.size());
  return true;
}

int main(int argc, char **argv) {
  unsigned count = 0;
  bool ok = true;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (!llvm::sys::fs::is_directory(arg)) {
      ok &= runFile(arg);
      ++count;
      continue;
    }
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(arg, ec), end; it != end && !ec;
         it.increment(ec)) {
      ok &= runFile(it->path());
      ++count;
    }
  }
  llvm::outs() << "replayed " << count << " inputs\n";
  return ok ? 0 : 1;
}
