/* Runs the kernel of causal.mlir on an NVIDIA GPU from plain C, through the
 * header sattn-compile writes (the PTX, a loader and a launcher): no LLVM or
 * MLIR at run time, only the CUDA driver.
 *
 *   sattn-compile causal.mlir --target=nvvm --emit=header -o causal_gpu.h
 *   cc gpu_main.c -I/usr/local/cuda/include -lcuda -lm -o causal_gpu
 *   ./causal_gpu */
#include "causal_gpu.h"
#include "reference.h"

#include <stdio.h>

#define CHECK(call)                                                            \
  do {                                                                         \
    CUresult r = (call);                                                       \
    if (r != CUDA_SUCCESS) {                                                   \
      const char *text = "unknown";                                            \
      cuGetErrorString(r, &text);                                              \
      fprintf(stderr, "%s: %s\n", #call, text);                                \
      return 1;                                                                \
    }                                                                          \
  } while (0)

int main(void) {
  static float q[H * L * D], k[H * L * D], v[H * L * D], o[H * L * D];
  random_inputs(q, k, v);
  CUdevice device;
  CUcontext context;
  CUmodule module;
  CUfunction kernel;
  CUdeviceptr dq, dk, dv, dout;
  size_t bytes = sizeof(q);
  CHECK(cuInit(0));
  CHECK(cuDeviceGet(&device, 0));
  CHECK(cuDevicePrimaryCtxRetain(&context, device));
  CHECK(cuCtxSetCurrent(context));
  CHECK(sattn_causal_attention_load(&module, &kernel));
  CHECK(cuMemAlloc(&dq, bytes));
  CHECK(cuMemAlloc(&dk, bytes));
  CHECK(cuMemAlloc(&dv, bytes));
  CHECK(cuMemAlloc(&dout, bytes));
  CHECK(cuMemcpyHtoD(dq, q, bytes));
  CHECK(cuMemcpyHtoD(dk, k, bytes));
  CHECK(cuMemcpyHtoD(dv, v, bytes));
  /* B = 1, Hq = Hkv = H, Lq = Lk = L; no LSE. */
  CHECK(sattn_causal_attention_launch(kernel, dq, dk, dv, dout, 0, 1, H, H, L,
                                      L, 0));
  CHECK(cuCtxSynchronize());
  CHECK(cuMemcpyDtoH(o, dout, bytes));
  double maxErr = causal_max_error(q, k, v, o);
  printf("GPU causal attention: max abs error %.2e: %s\n", maxErr,
         maxErr < 1e-5 ? "ok" : "FAILED");
  cuMemFree(dq);
  cuMemFree(dk);
  cuMemFree(dv);
  cuMemFree(dout);
  cuModuleUnload(module);
  return maxErr < 1e-5 ? 0 : 1;
}
