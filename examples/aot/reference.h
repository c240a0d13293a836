/* The causal attention of causal.mlir evaluated directly in double, for the
 * ahead-of-time examples (main.c: CPU, gpu_main.c: GPU). */
#ifndef SATTN_EXAMPLES_AOT_REFERENCE_H
#define SATTN_EXAMPLES_AOT_REFERENCE_H

#include <math.h>
#include <stdlib.h>

enum { H = 2, L = 100, D = 32 };

/* The same uniform inputs in [-0.5, 0.5] for every run. */
static void random_inputs(float *q, float *k, float *v) {
  srand(1);
  for (int i = 0; i < H * L * D; ++i) {
    q[i] = rand() / (float)RAND_MAX - 0.5f;
    k[i] = rand() / (float)RAND_MAX - 0.5f;
    v[i] = rand() / (float)RAND_MAX - 0.5f;
  }
}

/* The largest |O - softmax_{k <= i}(q_i . k_k / sqrt(D)) V| over all outputs. */
static double causal_max_error(const float *q, const float *k, const float *v,
                               const float *o) {
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
  return maxErr;
}

#endif /* SATTN_EXAMPLES_AOT_REFERENCE_H */
