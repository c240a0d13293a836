/*===- sattn-c/SAttn.h - C API of the sattn compiler --------------*- C -*-===*\
|*                                                                            *|
|* A stable C ABI for embedding sattn: compile a spec (an MLIR module, or a   *|
|* mask attribute plus shapes) into a kernel, run it on DLPack tensors, query *|
|* its tile plan. Every call returns a status; on failure the message of the  *|
|* last error of the calling thread is sattn_last_error(). Kernels are cached *|
|* in memory (per context) and on disk ($SATTN_CACHE_DIR, default             *|
|* ~/.cache/sattn). All functions may be called from many threads at once.    *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef SATTN_C_SATTN_H
#define SATTN_C_SATTN_H

#include <dlpack/dlpack.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SATTN_C_API_VERSION 2

#if defined(__GNUC__)
#define SATTN_C_EXPORT __attribute__((visibility("default")))
#else
#define SATTN_C_EXPORT
#endif

typedef enum sattn_status {
  SATTN_OK = 0,
  SATTN_ERROR_INVALID_ARGUMENT = 1, /* null pointer, bad handle, bad option */
  SATTN_ERROR_COMPILE = 2,          /* the spec does not parse or verify */
  SATTN_ERROR_SHAPE = 3,            /* a tensor's shape does not fit */
  SATTN_ERROR_DTYPE = 4,            /* a tensor's element type does not fit */
  SATTN_ERROR_LAYOUT = 5,           /* strides, alignment or offset */
  SATTN_ERROR_DEVICE = 6,           /* wrong memory, or no CUDA device */
  SATTN_ERROR_IO = 7,               /* cache directory problems (reported, */
                                    /* never fatal: the kernel is rebuilt)  */
} sattn_status;

typedef struct sattn_context_s *sattn_context;
typedef struct sattn_kernel_s *sattn_kernel;

/* The message of the last failed call on this thread ("" if none). */
SATTN_C_EXPORT const char *sattn_last_error(void);

/* Creates a compiler context (kernel cache, options). */
SATTN_C_EXPORT sattn_status sattn_context_create(sattn_context *out);
/* Destroys a context; its kernels stay valid until released. */
SATTN_C_EXPORT void sattn_context_destroy(sattn_context ctx);

/* Compiles `function` (NULL: the only public function) of the MLIR module
 * text `spec`, a function whose results come from sattn.attention, for
 * `target`: NULL or "cpu" (the host CPU), or "nvvm" (an NVIDIA GPU of sm_80
 * or newer, through the CUDA driver). Compiling for "nvvm" needs no GPU: the
 * kernel is PTX, loaded into device 0 on its first run, which fails with
 * SATTN_ERROR_DEVICE ("no CUDA device ...") on a machine without one. An
 * "nvvm" function has exactly one sattn.attention. */
SATTN_C_EXPORT sattn_status sattn_compile_module(sattn_context ctx,
                                                 const char *spec,
                                                 const char *function,
                                                 const char *target,
                                                 sattn_kernel *out);

/* Evaluates a mask attribute (its text, e.g. "#sattn.causal") on a
 * query_len x key_len grid: out[i * key_len + k] = 1 if query row i (at
 * position i + key_len - query_len) keeps key k, else 0. out_size must be
 * query_len * key_len. */
SATTN_C_EXPORT sattn_status sattn_mask_evaluate(const char *mask,
                                                int64_t query_len,
                                                int64_t key_len, uint8_t *out,
                                                size_t out_size);

/* One attention with a mask attribute, e.g. "#sattn.causal"; the text is
 * parsed as one attribute (anything after it is an error). A negative size
 * is dynamic (`?`); `dtype` is "f32", "f16" or "bf16"; a NaN scale means
 * 1/sqrt(D); `target` as for sattn_compile_module. The kernel takes (Q, K, V)
 * and returns O, then LSE if with_lse. Score modifiers (docs/Semantics.md),
 * off when zero (so that an initializer that stops before them means none):
 * `softcap` > 0 and finite; `alibi_slopes`, `num_alibi_slopes` finite
 * slopes, one per query head (checked against a dynamic Hq at run time).
 * With `backward` nonzero the kernel is the backward (sattn.attention_grad,
 * "cpu" only): it takes (Q, K, V, O, dO, LSE) and returns (dQ, dK, dV), and
 * with_lse is ignored. */
typedef struct sattn_attention_desc {
  int64_t batch, query_heads, kv_heads, query_len, key_len, head_dim, value_dim;
  const char *dtype;
  float scale;
  int with_lse;
  const char *target;
  float softcap;
  const float *alibi_slopes;
  size_t num_alibi_slopes;
  int backward;
} sattn_attention_desc;
SATTN_C_EXPORT sattn_status sattn_compile_mask(sattn_context ctx,
                                               const char *mask,
                                               const sattn_attention_desc *desc,
                                               sattn_kernel *out);

/* Runs a kernel: inputs in argument order, outputs in result order, all
 * row-major (strides NULL or compact), element-aligned, in host memory
 * (kDLCPU) for "cpu" kernels or in device 0's memory (kDLCUDA, checked with
 * the driver) for "nvvm" kernels. Shapes, types, strides and device are
 * checked before any memory is touched. "nvvm" kernels run on the default
 * stream and return when done. */
SATTN_C_EXPORT sattn_status sattn_kernel_run(sattn_kernel kernel,
                                             const DLTensor *const *inputs,
                                             size_t num_inputs,
                                             DLTensor *const *outputs,
                                             size_t num_outputs);

/* Counts and shapes of the kernel's arguments and results. */
SATTN_C_EXPORT size_t sattn_kernel_num_inputs(sattn_kernel kernel);
SATTN_C_EXPORT size_t sattn_kernel_num_outputs(sattn_kernel kernel);
/* The output shape for given input shapes: input i has input_ranks[i]
 * sizes at input_shapes[i]; the result's rank (4 for O, 3 for LSE) goes to
 * *ndim and its sizes to shape, which holds shape_capacity entries. */
SATTN_C_EXPORT sattn_status sattn_kernel_output_shape(
    sattn_kernel kernel, size_t output, const int64_t *const *input_shapes,
    const int32_t *input_ranks, size_t num_inputs, int64_t *shape,
    int32_t shape_capacity, int32_t *ndim, DLDataType *dtype);

/* The tile plan of the kernel's first attention for concrete lengths. */
typedef struct sattn_plan_stats {
  int64_t tile_rows, tile_keys;
  int64_t empty_tiles, full_tiles, partial_tiles;
  int64_t kept_pairs; /* per (batch, head) */
  double density;     /* kept_pairs / (Lq * Lk) */
} sattn_plan_stats;
SATTN_C_EXPORT sattn_status sattn_kernel_plan_stats(sattn_kernel kernel,
                                                    int64_t query_len,
                                                    int64_t key_len,
                                                    sattn_plan_stats *out);

/* 1 if the kernel came from the disk cache, 0 if it was compiled. */
SATTN_C_EXPORT int sattn_kernel_from_cache(sattn_kernel kernel);

/* Releases a kernel; a released handle is rejected by every call. */
SATTN_C_EXPORT void sattn_kernel_release(sattn_kernel kernel);

#ifdef __cplusplus
}
#endif

#endif /* SATTN_C_SATTN_H */
