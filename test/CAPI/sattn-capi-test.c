/* Tests of the C API: bad input of every kind gives a status and a message
 * (never a crash), kernels run from many threads, and the disk cache detects
 * corrupt entries. Prints one line per check; test/CAPI/capi.test checks
 * them. */
#define _GNU_SOURCE
#include "sattn-c/SAttn.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures = 0;

#define EXPECT(name, cond)                                                     \
  do {                                                                         \
    if (cond) {                                                                \
      printf("PASS: %s\n", name);                                              \
    } else {                                                                   \
      printf("FAIL: %s (%s)\n", name, sattn_last_error());                     \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

enum { L = 40, D = 16 };

static DLTensor tensor(void *data, int64_t *shape, int ndim, uint8_t code,
                       uint8_t bits) {
  DLTensor t;
  memset(&t, 0, sizeof t);
  t.data = data;
  t.device.device_type = kDLCPU;
  t.ndim = ndim;
  t.dtype.code = code;
  t.dtype.bits = bits;
  t.dtype.lanes = 1;
  t.shape = shape;
  return t;
}

static sattn_attention_desc causalDesc(void) {
  sattn_attention_desc d = {1,   2, 2,     L,    L,    D, D, "f32",
                            NAN, 0, "cpu", 0.0f, NULL, 0, 0};
  return d;
}

/* Runs `kernel` on random inputs and checks row 0 (it only sees key 0: its
 * output is V[.., 0, :]). */
static int runOnce(sattn_kernel kernel, unsigned seed) {
  static __thread float q[2 * L * D], k[2 * L * D], v[2 * L * D], o[2 * L * D];
  for (int i = 0; i < 2 * L * D; ++i) {
    seed = seed * 1103515245u + 12345u;
    q[i] = (seed >> 8) / 16777216.0f - 0.5f;
    k[i] = q[i] * 0.5f;
    v[i] = (float)(i % 7);
  }
  int64_t shape[4] = {1, 2, L, D};
  DLTensor tq = tensor(q, shape, 4, kDLFloat, 32),
           tk = tensor(k, shape, 4, kDLFloat, 32),
           tv = tensor(v, shape, 4, kDLFloat, 32),
           to = tensor(o, shape, 4, kDLFloat, 32);
  const DLTensor *in[3] = {&tq, &tk, &tv};
  DLTensor *out[1] = {&to};
  if (sattn_kernel_run(kernel, in, 3, out, 1) != SATTN_OK)
    return 0;
  for (int x = 0; x < D; ++x)
    if (fabsf(o[x] - v[x]) > 1e-6f)
      return 0;
  return 1;
}

static sattn_context sharedCtx;

static void *worker(void *arg) {
  long id = (long)arg;
  const char *masks[] = {"#sattn.causal", "#sattn.window<left = 3, right = 0>",
                         "#sattn.streaming<sink = 1, window = 5>"};
  for (int i = 0; i < 10; ++i) {
    sattn_kernel kernel;
    sattn_attention_desc d = causalDesc();
    if (sattn_compile_mask(sharedCtx, masks[(id + i) % 3], &d, &kernel) !=
            SATTN_OK ||
        !runOnce(kernel, (unsigned)(id * 100 + i)))
      return (void *)1;
    sattn_kernel_release(kernel);
  }
  return NULL;
}

int main(void) {
  char cacheDir[] = "/tmp/sattn-capi-test-XXXXXX";
  if (!mkdtemp(cacheDir))
    return 2;
  setenv("SATTN_CACHE_DIR", cacheDir, 1);

  sattn_context ctx;
  EXPECT("null out pointer",
         sattn_context_create(NULL) == SATTN_ERROR_INVALID_ARGUMENT);
  EXPECT("context", sattn_context_create(&ctx) == SATTN_OK);

  sattn_kernel kernel = NULL;
  EXPECT("spec that does not parse",
         sattn_compile_module(ctx, "func.func @f(", NULL, NULL, &kernel) ==
                 SATTN_ERROR_COMPILE &&
             strstr(sattn_last_error(), "does not parse"));
  sattn_attention_desc d = causalDesc();
  EXPECT("bad mask gives the diagnostic",
         sattn_compile_mask(ctx,
                            "#sattn.dilated<left = 1, right = 1, dilation = 0>",
                            &d, &kernel) == SATTN_ERROR_COMPILE &&
             strstr(sattn_last_error(), "'dilation' must be >= 1"));
  d.dtype = "f64";
  EXPECT("bad dtype", sattn_compile_mask(ctx, "#sattn.causal", &d, &kernel) ==
                          SATTN_ERROR_DTYPE);
  d = causalDesc();
  d.target = "tpu";
  EXPECT("unknown target",
         sattn_compile_mask(ctx, "#sattn.causal", &d, &kernel) ==
                 SATTN_ERROR_INVALID_ARGUMENT &&
             strstr(sattn_last_error(), "unknown target 'tpu'"));
  d = causalDesc();
  EXPECT("null mask", sattn_compile_mask(ctx, NULL, &d, &kernel) ==
                          SATTN_ERROR_INVALID_ARGUMENT);

  /* sattn.paged_attention with i32 DLPack tensors: pages 2 and 0 hold the
   * 5 keys of the one sequence; its decode row then equals the mean of the
   * V rows when every score is 0 (Q = 0). A block-table entry outside
   * [0, P) that a kept key needs is an error before anything runs. */
  {
    const char *paged =
        "func.func @p(%q: tensor<1x1x1x4xf32>, %kc: tensor<3x4x1x4xf32>, "
        "%vc: tensor<3x4x1x4xf32>, %t: tensor<1x2xi32>, %n: tensor<1xi32>) "
        "-> tensor<1x1x1x4xf32> {\n"
        "  %o = sattn.paged_attention %q, %kc, %vc, %t, %n mask(#sattn.causal) "
        ": (tensor<1x1x1x4xf32>, tensor<3x4x1x4xf32>, tensor<3x4x1x4xf32>, "
        "tensor<1x2xi32>, tensor<1xi32>) -> tensor<1x1x1x4xf32>\n"
        "  return %o : tensor<1x1x1x4xf32>\n}\n";
    float q[4] = {0}, kc[48], vc[48], o[4] = {0};
    for (int i = 0; i < 48; ++i) {
      kc[i] = 0.5f;
      vc[i] = (float)(i / 4); /* V row of slot s of page p: 4 p + s */
    }
    int32_t table[2] = {2, 0}, lens[1] = {5};
    int64_t qShape[4] = {1, 1, 1, 4}, cShape[4] = {3, 4, 1, 4},
            tShape[2] = {1, 2}, nShape[1] = {1};
    DLTensor tq = tensor(q, qShape, 4, kDLFloat, 32),
             tk = tensor(kc, cShape, 4, kDLFloat, 32),
             tv = tensor(vc, cShape, 4, kDLFloat, 32),
             tt = tensor(table, tShape, 2, kDLInt, 32),
             tn = tensor(lens, nShape, 1, kDLInt, 32),
             to = tensor(o, qShape, 4, kDLFloat, 32);
    const DLTensor *in[5] = {&tq, &tk, &tv, &tt, &tn};
    DLTensor *out[1] = {&to};
    sattn_kernel pk;
    /* keys 0-3: page 2 (rows 8..11), key 4: page 0 (row 0) */
    float want = (8 + 9 + 10 + 11 + 0) / 5.0f;
    EXPECT("paged attention with i32 tensors",
           sattn_compile_module(ctx, paged, NULL, NULL, &pk) == SATTN_OK &&
               sattn_kernel_run(pk, in, 5, out, 1) == SATTN_OK &&
               fabsf(o[0] - want) < 1e-5f && fabsf(o[3] - want) < 1e-5f);
    table[1] = 3;
    o[0] = -1.0f;
    EXPECT("paged block-table entry out of range",
           sattn_kernel_run(pk, in, 5, out, 1) ==
                   SATTN_ERROR_INVALID_ARGUMENT &&
               strstr(sattn_last_error(), "block_table[0, 1] = 3") &&
               o[0] == -1.0f);
    sattn_kernel_release(pk);
  }

  /* sattn.varlen_attention: sequences of 2 and 3 tokens packed in 5 rows,
   * Q = 0, V row r all r: causal row i of a sequence is the mean of its own
   * first i + 1 V rows (0 | 0.5 || 2 | 2.5 | 3), never another sequence's.
   * cu_seqlens that decrease are an error before anything runs. */
  {
    const char *varlen =
        "func.func @v(%q: tensor<5x1x4xf32>, %k: tensor<5x1x4xf32>, "
        "%v: tensor<5x1x4xf32>, %cq: tensor<3xi32>, %ck: tensor<3xi32>) "
        "-> tensor<5x1x4xf32> {\n"
        "  %o = sattn.varlen_attention %q, %k, %v, %cq, %ck "
        "mask(#sattn.causal) "
        ": (tensor<5x1x4xf32>, tensor<5x1x4xf32>, tensor<5x1x4xf32>, "
        "tensor<3xi32>, tensor<3xi32>) -> tensor<5x1x4xf32>\n"
        "  return %o : tensor<5x1x4xf32>\n}\n";
    float q[20] = {0}, v[20], o[20] = {0};
    for (int i = 0; i < 20; ++i)
      v[i] = (float)(i / 4);
    int32_t cu[3] = {0, 2, 5};
    int64_t shape[3] = {5, 1, 4}, cuShape[1] = {3};
    DLTensor tq = tensor(q, shape, 3, kDLFloat, 32),
             tv = tensor(v, shape, 3, kDLFloat, 32),
             tc = tensor(cu, cuShape, 1, kDLInt, 32),
             to = tensor(o, shape, 3, kDLFloat, 32);
    const DLTensor *in[5] = {&tq, &tq, &tv, &tc, &tc};
    DLTensor *out[1] = {&to};
    sattn_kernel vk;
    const float want[5] = {0.0f, 0.5f, 2.0f, 2.5f, 3.0f};
    int ok = sattn_compile_module(ctx, varlen, NULL, NULL, &vk) == SATTN_OK &&
             sattn_kernel_run(vk, in, 5, out, 1) == SATTN_OK;
    for (int r = 0; ok && r < 5; ++r)
      ok = fabsf(o[4 * r] - want[r]) < 1e-5f &&
           fabsf(o[4 * r + 3] - want[r]) < 1e-5f;
    EXPECT("varlen attention with i32 cu_seqlens", ok);
    cu[1] = 6;
    o[0] = -1.0f;
    EXPECT("varlen cu_seqlens that decrease",
           sattn_kernel_run(vk, in, 5, out, 1) ==
                   SATTN_ERROR_INVALID_ARGUMENT &&
               strstr(sattn_last_error(), "cu_seqlens_q[2] = 5 is below") &&
               o[0] == -1.0f);
    sattn_kernel_release(vk);
  }

  /* Score modifiers: bad values are errors, good ones compile and run. */
  d.softcap = -1.0f;
  EXPECT("negative softcap",
         sattn_compile_mask(ctx, "#sattn.causal", &d, &kernel) ==
                 SATTN_ERROR_INVALID_ARGUMENT &&
             strstr(sattn_last_error(), "softcap must be finite and > 0"));
  const float slopes[3] = {0.5f, 0.25f, 0.125f};
  d = causalDesc();
  d.num_alibi_slopes = 2;
  EXPECT("NULL alibi slopes",
         sattn_compile_mask(ctx, "#sattn.causal", &d, &kernel) ==
                 SATTN_ERROR_INVALID_ARGUMENT &&
             strstr(sattn_last_error(), "alibi_slopes is NULL"));
  d.alibi_slopes = slopes;
  d.num_alibi_slopes = 3;
  EXPECT("one alibi slope per query head",
         sattn_compile_mask(ctx, "#sattn.causal", &d, &kernel) ==
                 SATTN_ERROR_COMPILE &&
             strstr(sattn_last_error(),
                    "one slope per query head (Hq = 2), got 3"));
  d.num_alibi_slopes = 2;
  d.softcap = 5.0f;
  EXPECT("softcap and alibi",
         sattn_compile_mask(ctx, "#sattn.causal", &d, &kernel) == SATTN_OK &&
             runOnce(kernel, 3));
  sattn_kernel_release(kernel);
  d = causalDesc();

  EXPECT("compile",
         sattn_compile_mask(ctx, "#sattn.causal", &d, &kernel) == SATTN_OK);
  EXPECT("fresh kernel is not from the cache",
         sattn_kernel_from_cache(kernel) == 0);
  EXPECT("run", runOnce(kernel, 1));
  sattn_plan_stats stats;
  EXPECT("plan stats",
         sattn_kernel_plan_stats(kernel, 256, 256, &stats) == SATTN_OK &&
             stats.tile_rows == 32 && stats.tile_keys == 32 &&
             stats.empty_tiles == 28 && stats.full_tiles == 28 &&
             stats.partial_tiles == 8 && stats.kept_pairs == 256 * 257 / 2);

  /* The stats of the mask the pipeline compiles: union<[window<8, 0>,
   * complement<dense>]> is window<8, 0>, a band (32 x 32 tiles). */
  sattn_kernel simplified;
  EXPECT("plan stats of the simplified mask",
         sattn_compile_mask(ctx,
                            "#sattn.union<[#sattn.window<left = 8, right = 0>, "
                            "#sattn.complement<#sattn.dense>]>",
                            &d, &simplified) == SATTN_OK &&
             sattn_kernel_plan_stats(simplified, 256, 256, &stats) ==
                 SATTN_OK &&
             stats.tile_rows == 32 && stats.tile_keys == 32 &&
             stats.empty_tiles == 49 && stats.full_tiles == 0 &&
             stats.partial_tiles == 15);
  sattn_kernel_release(simplified);

  float buf[2 * L * D + 1];
  int64_t shape[4] = {1, 2, L, D}, badShape[4] = {1, 2, L + 1, D};
  int64_t strides[4] = {2 * L * D, L * D, 1, L};
  DLTensor good = tensor(buf, shape, 4, kDLFloat, 32), out = good;
  const DLTensor *in[3] = {&good, &good, &good};
  DLTensor *outs[1] = {&out};
  DLTensor bad = good;
  const DLTensor *badIn[3] = {&bad, &good, &good};

  bad.shape = badShape;
  EXPECT("wrong shape",
         sattn_kernel_run(kernel, badIn, 3, outs, 1) == SATTN_ERROR_SHAPE &&
             strstr(sattn_last_error(),
                    "does not match the function's dim 2 = 40"));
  bad = good;
  bad.dtype.bits = 16;
  EXPECT("wrong dtype",
         sattn_kernel_run(kernel, badIn, 3, outs, 1) == SATTN_ERROR_DTYPE);
  bad = good;
  bad.strides = strides;
  EXPECT("non-contiguous strides",
         sattn_kernel_run(kernel, badIn, 3, outs, 1) == SATTN_ERROR_LAYOUT &&
             strstr(sattn_last_error(), "not contiguous row-major"));
  bad = good;
  bad.device.device_type = kDLCUDA;
  EXPECT("device memory",
         sattn_kernel_run(kernel, badIn, 3, outs, 1) == SATTN_ERROR_DEVICE &&
             strstr(sattn_last_error(), "not host memory"));
  bad = good;
  bad.data = (char *)buf + 2;
  EXPECT("misaligned data",
         sattn_kernel_run(kernel, badIn, 3, outs, 1) == SATTN_ERROR_LAYOUT);
  bad = good;
  bad.data = NULL;
  EXPECT("null data", sattn_kernel_run(kernel, badIn, 3, outs, 1) ==
                          SATTN_ERROR_INVALID_ARGUMENT);
  badIn[0] = NULL;
  EXPECT("null tensor", sattn_kernel_run(kernel, badIn, 3, outs, 1) ==
                            SATTN_ERROR_INVALID_ARGUMENT);
  EXPECT("wrong count", sattn_kernel_run(kernel, in, 2, outs, 1) ==
                            SATTN_ERROR_INVALID_ARGUMENT);
  out.shape = badShape;
  EXPECT("wrong output shape",
         sattn_kernel_run(kernel, in, 3, outs, 1) == SATTN_ERROR_SHAPE);

  /* The nvvm target compiles without a GPU; its runs take CUDA device
   * memory only, and say so when there is no device. */
  d = causalDesc();
  d.target = "nvvm";
  sattn_kernel gpu;
  EXPECT("nvvm compiles without a GPU",
         sattn_compile_mask(ctx, "#sattn.causal", &d, &gpu) == SATTN_OK);
  EXPECT("nvvm plan stats",
         sattn_kernel_plan_stats(gpu, 256, 256, &stats) == SATTN_OK &&
             stats.tile_rows == 32 && stats.tile_keys == 32);
  EXPECT("host memory to a GPU kernel",
         sattn_kernel_run(gpu, in, 3, outs, 1) == SATTN_ERROR_DEVICE &&
             strstr(sattn_last_error(), "not CUDA device memory"));
  out.shape = shape;
  DLTensor devQ = good, devO = good;
  devQ.device.device_type = devO.device.device_type = kDLCUDA;
  const DLTensor *devIn[3] = {&devQ, &devQ, &devQ};
  DLTensor *devOut[1] = {&devO};
  /* A host buffer labelled kDLCUDA: without a device, "no CUDA device"; with
   * one, the driver does not know the pointer. */
  EXPECT("GPU run without device memory",
         sattn_kernel_run(gpu, devIn, 3, devOut, 1) == SATTN_ERROR_DEVICE);
  printf("gpu run: %s\n", sattn_last_error());
  /* bf16 runs on tensor cores, which copy 16 bytes at a time. */
  sattn_kernel tc;
  d.dtype = "bf16";
  EXPECT("nvvm bf16 compiles",
         sattn_compile_mask(ctx, "#sattn.causal", &d, &tc) == SATTN_OK &&
             sattn_kernel_plan_stats(tc, 256, 256, &stats) == SATTN_OK &&
             stats.tile_rows == 128 && stats.tile_keys == 64);
  DLTensor half = devQ, halfOut = devO;
  half.dtype.code = halfOut.dtype.code = kDLBfloat;
  half.dtype.bits = halfOut.dtype.bits = 16;
  half.data = (char *)buf + 2;
  const DLTensor *halfIn[3] = {&half, &half, &half};
  DLTensor *halfOuts[1] = {&halfOut};
  EXPECT("misaligned input to the tensor-core kernel",
         sattn_kernel_run(tc, halfIn, 3, halfOuts, 1) == SATTN_ERROR_LAYOUT &&
             strstr(sattn_last_error(), "is not 16-byte aligned"));
  sattn_kernel_release(tc);
  d.dtype = "f32";
  d.head_dim = d.value_dim = 512;
  sattn_kernel tooLarge;
  EXPECT("head dim too large for the GPU",
         sattn_compile_mask(ctx, "#sattn.causal", &d, &tooLarge) ==
                 SATTN_ERROR_COMPILE &&
             tooLarge == NULL &&
             strstr(sattn_last_error(), "bytes of shared memory"));
  sattn_kernel_release(gpu);
  d = causalDesc();

  /* The backward of the same attention: with Q = 0 and every V row equal,
   * causal row i keeps keys 0..i with P = 1 / (i + 1), O = V's row and LSE =
   * log(i + 1); then dS = 0 (dQ = dK = 0) and dV[k] = sum_{i >= k} dO[i] /
   * (i + 1). */
  {
    sattn_attention_desc g = causalDesc();
    g.backward = 1;
    sattn_kernel grad;
    static float gq[2 * L * D], gk[2 * L * D], gv[2 * L * D], go[2 * L * D],
        gdo[2 * L * D], glse[2 * L], dq[2 * L * D], dk[2 * L * D],
        dv[2 * L * D];
    for (int i = 0; i < 2 * L * D; ++i) {
      gq[i] = 0;
      gk[i] = (float)((i * 37) % 11) - 5;
      gv[i] = go[i] = (float)(i % D);
      gdo[i] = (float)((i * 13) % 7) - 3;
    }
    for (int i = 0; i < 2 * L; ++i)
      glse[i] = logf((float)(i % L + 1));
    int64_t shape[4] = {1, 2, L, D}, lseShape[3] = {1, 2, L};
    DLTensor ts[9] = {tensor(gq, shape, 4, kDLFloat, 32),
                      tensor(gk, shape, 4, kDLFloat, 32),
                      tensor(gv, shape, 4, kDLFloat, 32),
                      tensor(go, shape, 4, kDLFloat, 32),
                      tensor(gdo, shape, 4, kDLFloat, 32),
                      tensor(glse, lseShape, 3, kDLFloat, 32),
                      tensor(dq, shape, 4, kDLFloat, 32),
                      tensor(dk, shape, 4, kDLFloat, 32),
                      tensor(dv, shape, 4, kDLFloat, 32)};
    const DLTensor *gin[6] = {&ts[0], &ts[1], &ts[2], &ts[3], &ts[4], &ts[5]};
    DLTensor *gout[3] = {&ts[6], &ts[7], &ts[8]};
    int ok = sattn_compile_mask(ctx, "#sattn.causal", &g, &grad) == SATTN_OK &&
             sattn_kernel_run(grad, gin, 6, gout, 3) == SATTN_OK;
    double worst = 0;
    for (int h = 0; ok && h < 2; ++h)
      for (int key = 0; key < L; ++key)
        for (int j = 0; j < D; ++j) {
          int at = (h * L + key) * D + j;
          double want = 0;
          for (int i = key; i < L; ++i)
            want += gdo[(h * L + i) * D + j] / (i + 1.0);
          worst = fmax(worst, fabs(dv[at] - want));
          worst = fmax(worst, fmax(fabs(dq[at]), fabs(dk[at])));
        }
    EXPECT("backward kernel from a mask (dQ = dK = 0, dV exact)",
           ok && worst < 1e-4);
    sattn_kernel_release(grad);
    /* The GPU backward compiles without a GPU too (bf16: tensor cores, 64 x 64
     * tiles) and takes device memory only. */
    g.target = "nvvm";
    g.dtype = "bf16";
    EXPECT("nvvm backward compiles",
           sattn_compile_mask(ctx, "#sattn.causal", &g, &grad) == SATTN_OK &&
               sattn_kernel_plan_stats(grad, 256, 256, &stats) == SATTN_OK &&
               stats.tile_rows == 64 && stats.tile_keys == 64);
    for (int i = 0; i < 9; ++i) {
      ts[i].dtype.code = kDLBfloat;
      ts[i].dtype.bits = 16;
    }
    ts[5].dtype.code = kDLFloat;
    ts[5].dtype.bits = 32;
    EXPECT("host memory to the GPU backward",
           sattn_kernel_run(grad, gin, 6, gout, 3) == SATTN_ERROR_DEVICE &&
               strstr(sattn_last_error(), "not CUDA device memory"));
    sattn_kernel_release(grad);
  }

  sattn_kernel_release(kernel);
  EXPECT("kernel used after release",
         sattn_kernel_run(kernel, in, 3, outs, 1) ==
                 SATTN_ERROR_INVALID_ARGUMENT &&
             strstr(sattn_last_error(), "released kernel handle"));
  sattn_kernel_release(kernel); /* twice: ignored */
  EXPECT("stats after release", sattn_kernel_plan_stats(kernel, 8, 8, &stats) ==
                                    SATTN_ERROR_INVALID_ARGUMENT);
  sattn_context_destroy(ctx);
  EXPECT("context used after destroy",
         sattn_compile_mask(ctx, "#sattn.causal", &d, &kernel) ==
             SATTN_ERROR_INVALID_ARGUMENT);

  /* The disk cache: a second context finds the kernel; a truncated entry is
   * detected and rebuilt. */
  sattn_context a, b, c;
  sattn_context_create(&a);
  sattn_context_create(&b);
  sattn_context_create(&c);
  sattn_kernel ka, kb, kc;
  sattn_compile_mask(a, "#sattn.causal", &d, &ka);
  EXPECT("disk cache hit",
         sattn_compile_mask(b, "#sattn.causal", &d, &kb) == SATTN_OK &&
             sattn_kernel_from_cache(kb) == 1 && runOnce(kb, 3));
  char cmd[512];
  snprintf(cmd, sizeof cmd,
           "for f in %s/*.sattn; do truncate -s 100 \"$f\"; done", cacheDir);
  EXPECT("truncate the entry", system(cmd) == 0);
  EXPECT("truncated entry is rebuilt",
         sattn_compile_mask(c, "#sattn.causal", &d, &kc) == SATTN_OK &&
             sattn_kernel_from_cache(kc) == 0 && runOnce(kc, 4));
  sattn_kernel_release(ka);
  sattn_kernel_release(kb);
  sattn_kernel_release(kc);
  sattn_context_destroy(a);
  sattn_context_destroy(b);
  sattn_context_destroy(c);

  /* Many threads compiling and running at once. */
  sattn_context_create(&sharedCtx);
  pthread_t threads[8];
  for (long i = 0; i < 8; ++i)
    pthread_create(&threads[i], NULL, worker, (void *)i);
  int threadFailures = 0;
  for (int i = 0; i < 8; ++i) {
    void *result;
    pthread_join(threads[i], &result);
    threadFailures += result != NULL;
  }
  EXPECT("8 threads compile and run", threadFailures == 0);
  sattn_context_destroy(sharedCtx);

  snprintf(cmd, sizeof cmd, "rm -rf %s", cacheDir);
  if (system(cmd) != 0)
    return 2;
  printf("%d failures\n", failures);
  return failures != 0;
}
