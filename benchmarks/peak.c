// Measures the machine's f32 FMA peak: a register-resident loop of
// independent fused multiply-adds on every core (OpenMP), in GFLOP/s.
// Built with the widest vectors the host has (-march=native).
#include <omp.h>
#include <stdio.h>
#include <time.h>

typedef float v8 __attribute__((vector_size(32)));

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  const long iters = 200000000;
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    double t0 = now(), sink = 0;
#pragma omp parallel reduction(+ : sink)
    {
      v8 a[12], x = {1.0f, 1, 1, 1, 1, 1, 1, 1}, y = x * 0.999999f;
      for (int i = 0; i < 12; ++i)
        a[i] = x * (float)i;
      for (long n = 0; n < iters / 12 / 8; ++n)
        for (int i = 0; i < 12; ++i)
          a[i] = a[i] * y + x; // one 8-lane FMA: 16 FLOP
      for (int i = 0; i < 12; ++i)
        sink += a[i][0];
    }
    double dt = now() - t0;
    double flops = 2.0 * 8 * 12 * (iters / 12 / 8) * omp_get_max_threads();
    if (flops / dt > best)
      best = flops / dt;
    if (sink == 42)
      printf(" ");
  }
  printf("%.1f\n", best * 1e-9);
  return 0;
}
