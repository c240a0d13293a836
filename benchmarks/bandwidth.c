// Measures the machine's read bandwidth: a vectorized sum over a 1 GiB f32
// array on every core (OpenMP), in GB/s. Built with the widest vectors the
// host has (-march=native); a scalar loop would measure add latency instead.
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
  const long n = 1L << 28; // 1 GiB of floats
  float *a = malloc(n * sizeof(float));
  if (!a)
    return 1;
#pragma omp parallel for
  for (long i = 0; i < n; ++i)
    a[i] = 1.0f;
  double best = 0, sink = 0;
  for (int rep = 0; rep < 5; ++rep) {
    double t0 = now();
    float sum = 0;
#pragma omp parallel for simd reduction(+ : sum)
    for (long i = 0; i < n; ++i)
      sum += a[i];
    double dt = now() - t0;
    sink += sum;
    if (n * sizeof(float) / dt > best)
      best = n * sizeof(float) / dt;
  }
  printf("%.1f\n", best * 1e-9);
  free(a);
  return sink == 42;
}
