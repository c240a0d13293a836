//===- CudaDriver.h - the CUDA driver API, loaded on demand -----*- C++ -*-===//
//
// sattn never links libcuda: the driver is dlopen'ed on first use, so the
// same library and tools run on machines without a GPU and say "no CUDA
// device" when asked for one. Only the calls sattn needs are resolved, by
// their current (_v2) names.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_RUNTIME_CUDADRIVER_H
#define SATTN_RUNTIME_CUDADRIVER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include <cstdint>
#include <string>

namespace mlir {
namespace sattn {

using CudaDevicePtr = uint64_t;
using CudaModule = struct CudaModuleOpaque *;
using CudaFunction = struct CudaFunctionOpaque *;
using CudaStream = struct CudaStreamOpaque *;

/// Device 0 of this process, through the driver's primary context (the one
/// the CUDA runtime and PyTorch use too).
class CudaDriver {
public:
  /// The driver, loaded and initialized on first use; an error starting with
  /// "no CUDA device" when libcuda cannot be loaded or sees no device.
  static llvm::Expected<CudaDriver &> get();
  /// The driver if get() already succeeded in this process, else null;
  /// never loads it.
  static CudaDriver *getIfLoaded();

  /// Compute capability major * 10 + minor, and the device's name.
  int computeCapability() const { return capability; }
  llvm::StringRef deviceName() const { return name; }

  /// Loads a module from PTX text or a cubin (JIT-compiling PTX for the
  /// device) and finds `kernel` in it.
  llvm::Expected<CudaModule> loadModule(llvm::StringRef image);
  llvm::Expected<CudaFunction> getFunction(CudaModule module,
                                           llvm::StringRef kernel);
  void unloadModule(CudaModule module);

  llvm::Expected<CudaDevicePtr> allocate(size_t bytes);
  void free(CudaDevicePtr ptr);
  llvm::Error copyToDevice(CudaDevicePtr dst, const void *src, size_t bytes);
  llvm::Error copyToHost(void *dst, CudaDevicePtr src, size_t bytes);

  /// Launches `function` with kernel parameters `params` (pointers to each
  /// argument) and `sharedBytes` of dynamic shared memory on `stream` (null:
  /// the default stream).
  llvm::Error launch(CudaFunction function, const unsigned grid[3],
                     const unsigned block[3], llvm::ArrayRef<void *> params,
                     unsigned sharedBytes = 0, CudaStream stream = nullptr);
  llvm::Error synchronize();

  /// True if `ptr` is device (or managed) memory of the driver; false for
  /// host memory it does not know.
  bool isDevicePointer(const void *ptr);

private:
  CudaDriver() = default;
  llvm::Error init();
  llvm::Error check(int result, llvm::StringRef what);

  struct Api;
  Api *api = nullptr;
  int capability = 0;
  std::string name;
};

} // namespace sattn
} // namespace mlir

#endif // SATTN_RUNTIME_CUDADRIVER_H
