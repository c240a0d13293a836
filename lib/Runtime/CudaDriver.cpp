//===- CudaDriver.cpp - the CUDA driver API, loaded on demand -------------===//

#include "sattn/Runtime/CudaDriver.h"

#include "llvm/ADT/Twine.h"
#include <atomic>
#include <cstdlib>
#include <dlfcn.h>
#include <mutex>

using namespace mlir;
using namespace mlir::sattn;

static llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

namespace {
// The few driver types and constants sattn uses (cuda.h, CUDA 12/13); the
// header itself is not needed to build sattn.
using CUresult = int;
using CUdevice = int;
using CUcontext = void *;
constexpr CUresult CUDA_SUCCESS = 0;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr int CU_POINTER_ATTRIBUTE_MEMORY_TYPE = 2;
constexpr unsigned CU_MEMORYTYPE_DEVICE = 2;
constexpr unsigned CU_MEMORYTYPE_UNIFIED = 4;
constexpr int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
} // namespace

struct CudaDriver::Api {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuCtxSynchronize)();
  CUresult (*cuModuleLoadData)(CudaModule *, const void *);
  CUresult (*cuModuleUnload)(CudaModule);
  CUresult (*cuModuleGetFunction)(CudaFunction *, CudaModule, const char *);
  CUresult (*cuMemAlloc)(CudaDevicePtr *, size_t);
  CUresult (*cuMemFree)(CudaDevicePtr);
  CUresult (*cuMemcpyHtoD)(CudaDevicePtr, const void *, size_t);
  CUresult (*cuMemcpyDtoH)(void *, CudaDevicePtr, size_t);
  CUresult (*cuLaunchKernel)(CudaFunction, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, unsigned, CudaStream,
                             void **, void **);
  CUresult (*cuPointerGetAttribute)(void *, int, CudaDevicePtr);
  CUresult (*cuFuncSetAttribute)(CudaFunction, int, int);
  CUresult (*cuGetErrorString)(CUresult, const char **);
  CUcontext context = nullptr;
};

llvm::Error CudaDriver::check(CUresult result, llvm::StringRef what) {
  if (result == CUDA_SUCCESS)
    return llvm::Error::success();
  const char *text = nullptr;
  if (api->cuGetErrorString)
    api->cuGetErrorString(result, &text);
  return makeError("CUDA error in " + what + ": " + (text ? text : "unknown") +
                   " (" + llvm::Twine(result) + ")");
}

llvm::Error CudaDriver::init() {
  // SATTN_LIBCUDA overrides the library (tests point it at a missing file).
  const char *path = std::getenv("SATTN_LIBCUDA");
  if (!path || !*path)
    path = "libcuda.so.1";
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    return makeError(llvm::Twine("no CUDA device: cannot load the CUDA "
                                 "driver (") +
                     path + ": " + dlerror() + ")");
  api = new Api();
  bool missing = false;
  auto resolve = [&](auto &fn, const char *symbol) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
        dlsym(lib, symbol));
    missing |= !fn;
  };
  resolve(api->cuInit, "cuInit");
  resolve(api->cuDeviceGetCount, "cuDeviceGetCount");
  resolve(api->cuDeviceGet, "cuDeviceGet");
  resolve(api->cuDeviceGetAttribute, "cuDeviceGetAttribute");
  resolve(api->cuDeviceGetName, "cuDeviceGetName");
  resolve(api->cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
  resolve(api->cuCtxSetCurrent, "cuCtxSetCurrent");
  resolve(api->cuCtxSynchronize, "cuCtxSynchronize");
  resolve(api->cuModuleLoadData, "cuModuleLoadData");
  resolve(api->cuModuleUnload, "cuModuleUnload");
  resolve(api->cuModuleGetFunction, "cuModuleGetFunction");
  resolve(api->cuMemAlloc, "cuMemAlloc_v2");
  resolve(api->cuMemFree, "cuMemFree_v2");
  resolve(api->cuMemcpyHtoD, "cuMemcpyHtoD_v2");
  resolve(api->cuMemcpyDtoH, "cuMemcpyDtoH_v2");
  resolve(api->cuLaunchKernel, "cuLaunchKernel");
  resolve(api->cuPointerGetAttribute, "cuPointerGetAttribute");
  resolve(api->cuFuncSetAttribute, "cuFuncSetAttribute");
  resolve(api->cuGetErrorString, "cuGetErrorString");
  if (missing)
    return makeError(llvm::Twine("no CUDA device: ") + path +
                     " lacks driver API functions sattn needs");
  int count = 0;
  if (api->cuInit(0) != CUDA_SUCCESS ||
      api->cuDeviceGetCount(&count) != CUDA_SUCCESS || count == 0)
    return makeError("no CUDA device: the CUDA driver is installed but finds "
                     "no usable GPU");
  CUdevice device;
  int major = 0, minor = 0;
  char deviceName[256] = {0};
  if (llvm::Error err = check(api->cuDeviceGet(&device, 0), "cuDeviceGet"))
    return err;
  api->cuDeviceGetAttribute(
      &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
  api->cuDeviceGetAttribute(
      &minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
  api->cuDeviceGetName(deviceName, sizeof(deviceName) - 1, device);
  capability = major * 10 + minor;
  name = deviceName;
  if (llvm::Error err =
          check(api->cuDevicePrimaryCtxRetain(&api->context, device),
                "cuDevicePrimaryCtxRetain"))
    return err;
  return check(api->cuCtxSetCurrent(api->context), "cuCtxSetCurrent");
}

static std::once_flag initOnce;
static std::atomic<CudaDriver *> instance{nullptr};
static std::string initError;

llvm::Expected<CudaDriver &> CudaDriver::get() {
  std::call_once(initOnce, [] {
    auto *driver = new CudaDriver();
    if (llvm::Error err = driver->init())
      initError = llvm::toString(std::move(err));
    else
      instance = driver;
  });
  CudaDriver *driver = instance;
  if (!driver)
    return makeError(initError);
  // The primary context must be current on the calling thread.
  if (llvm::Error err =
          driver->check(driver->api->cuCtxSetCurrent(driver->api->context),
                        "cuCtxSetCurrent"))
    return std::move(err);
  return *driver;
}

CudaDriver *CudaDriver::getIfLoaded() { return instance; }

llvm::Expected<CudaModule> CudaDriver::loadModule(llvm::StringRef image) {
  // PTX must be NUL-terminated; a cubin is an ELF image.
  std::string copy = image.str();
  CudaModule module = nullptr;
  if (llvm::Error err = check(api->cuModuleLoadData(&module, copy.c_str()),
                              "cuModuleLoadData"))
    return std::move(err);
  return module;
}

llvm::Expected<CudaFunction> CudaDriver::getFunction(CudaModule module,
                                                     llvm::StringRef kernel) {
  CudaFunction function = nullptr;
  if (llvm::Error err = check(
          api->cuModuleGetFunction(&function, module, kernel.str().c_str()),
          "cuModuleGetFunction(" + kernel.str() + ")"))
    return std::move(err);
  return function;
}

void CudaDriver::unloadModule(CudaModule module) {
  if (module)
    api->cuModuleUnload(module);
}

llvm::Expected<CudaDevicePtr> CudaDriver::allocate(size_t bytes) {
  CudaDevicePtr ptr = 0;
  if (llvm::Error err =
          check(api->cuMemAlloc(&ptr, bytes ? bytes : 1), "cuMemAlloc"))
    return std::move(err);
  return ptr;
}

void CudaDriver::free(CudaDevicePtr ptr) {
  if (ptr)
    api->cuMemFree(ptr);
}

llvm::Error CudaDriver::copyToDevice(CudaDevicePtr dst, const void *src,
                                     size_t bytes) {
  if (!bytes)
    return llvm::Error::success();
  return check(api->cuMemcpyHtoD(dst, src, bytes), "cuMemcpyHtoD");
}

llvm::Error CudaDriver::copyToHost(void *dst, CudaDevicePtr src, size_t bytes) {
  if (!bytes)
    return llvm::Error::success();
  return check(api->cuMemcpyDtoH(dst, src, bytes), "cuMemcpyDtoH");
}

llvm::Error CudaDriver::launch(CudaFunction function, const unsigned grid[3],
                               const unsigned block[3],
                               llvm::ArrayRef<void *> params,
                               unsigned sharedBytes, CudaStream stream) {
  // Above 48 KiB the function must be allowed its dynamic shared memory.
  if (sharedBytes > 48 * 1024)
    if (llvm::Error err =
            check(api->cuFuncSetAttribute(
                      function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                      int(sharedBytes)),
                  "cuFuncSetAttribute"))
      return err;
  std::vector<void *> args(params.begin(), params.end());
  return check(api->cuLaunchKernel(function, grid[0], grid[1], grid[2],
                                   block[0], block[1], block[2], sharedBytes,
                                   stream, args.data(), nullptr),
               "cuLaunchKernel");
}

llvm::Error CudaDriver::synchronize() {
  return check(api->cuCtxSynchronize(), "cuCtxSynchronize");
}

bool CudaDriver::isDevicePointer(const void *ptr) {
  unsigned type = 0;
  if (api->cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE,
                                 reinterpret_cast<CudaDevicePtr>(ptr)) !=
      CUDA_SUCCESS)
    return false; // memory the driver does not know: plain host memory
  return type == CU_MEMORYTYPE_DEVICE || type == CU_MEMORYTYPE_UNIFIED;
}
