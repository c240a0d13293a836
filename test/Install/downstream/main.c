/* Compiles and runs a causal attention through the installed C API. */
#include <sattn-c/SAttn.h>

#include <math.h>
#include <stdio.h>

int main(void) {
  sattn_context ctx;
  sattn_kernel kernel;
  sattn_attention_desc desc = {1, 1, 1, 4, 4, 8, 8, "f32", NAN, 0, NULL, 0.0f, NULL, 0, 0};
  if (sattn_context_create(&ctx) ||
      sattn_compile_mask(ctx, "#sattn.causal", &desc, &kernel)) {
    printf("error: %s\n", sattn_last_error());
    return 1;
  }
  float q[32] = {0}, k[32] = {0}, v[32], o[32];
  for (int i = 0; i < 32; ++i)
    v[i] = (float)(i / 8); /* row j of V is all j */
  int64_t shape[4] = {1, 1, 4, 8};
  DLTensor t[4];
  float *data[4] = {q, k, v, o};
  for (int i = 0; i < 4; ++i) {
    DLTensor x = {data[i], {kDLCPU, 0}, 4, {kDLFloat, 32, 1}, shape, NULL, 0};
    t[i] = x;
  }
  const DLTensor *in[3] = {&t[0], &t[1], &t[2]};
  DLTensor *out[1] = {&t[3]};
  if (sattn_kernel_run(kernel, in, 3, out, 1)) {
    printf("error: %s\n", sattn_last_error());
    return 1;
  }
  /* Equal scores: row i averages rows 0..i of V, i.e. i / 2. */
  printf("downstream: O[3][0] = %.3f (want 1.500)\n", o[3 * 8]);
  sattn_kernel_release(kernel);
  sattn_context_destroy(ctx);
  return fabsf(o[3 * 8] - 1.5f) > 1e-6f;
}
