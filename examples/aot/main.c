/* Runs the ahead-of-time compiled kernel of causal.mlir from plain C, with no
 * LLVM or MLIR at run time, and checks it against a direct evaluation.
 *
 *   sattn-compile causal.mlir --emit=obj -o causal.o
 *   sattn-compile causal.mlir --emit=header -o causal.h
 *   cc main.c causal.o -lomp -lm -o causal && ./causal */
#include "causal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { H = 2, L = 100, D = 32 };

int main(void) {
  static float q[H * L * D], k[H * L * D], v[H * L * D], o[H * L * D];
  srand(1);
  for (int i = 0; i < H * L * D; ++i) {
    q[i] = rand() / (float)RAND_MAX - 0.5f;
    k[i] = rand() / (float)RAND_MAX - 0.5f;
    v[i] = rand() / (float)RAND_MAX - 0.5f;
  }
  const int64_t shape[4] = {1, H, L, D};
  sattn_memref4_f32 mq = sattn_memref4_f32_make(q, shape);
  sattn_memref4_f32 mk = sattn_memref4_f32_make(k, shape);
  sattn_memref4_f32 mv = sattn_memref4_f32_make(v, shape);
  sattn_memref4_f32 mo = sattn_memref4_f32_make(o, shape);
  _mlir_ciface_causal_attention(&mq, &mk, &mv, &mo);

  /* softmax over k <= i of q_i . k_k / sqrt(D), times V */
  double maxErr = 0;
  for (int h = 0; h < H; ++h)
    for (int i = 0; i < L; ++i) {
      double s[L], m = -INFINITY, sum = 0;
      for (int j = 0; j <= i; ++j) {
        s[j] = 0;
        for (int x = 0; x < D; ++x)
          s[j] += (double)q[(h * L + i) * D + x] * k[(h * L + j) * D + x];
        s[j] /= sqrt((double)D);
        m = s[j] > m ? s[j] : m;
      }
      for (int j = 0; j <= i; ++j)
        sum += exp(s[j] - m);
      for (int x = 0; x < D; ++x) {
        double want = 0;
        for (int j = 0; j <= i; ++j)
          want += exp(s[j] - m) / sum * v[(h * L + j) * D + x];
        double err = fabs(want - o[(h * L + i) * D + x]);
        maxErr = err > maxErr ? err : maxErr;
      }
    }
  printf("ahead-of-time causal attention: max abs error %.2e: %s\n", maxErr,
         maxErr < 1e-5 ? "ok" : "FAILED");
  return maxErr < 1e-5 ? 0 : 1;
}
