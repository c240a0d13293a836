// Measures the machine's peak on every core (OpenMP), in GFLOP/s:
//   peak        f32 FMA: register-resident independent fused multiply-adds
//               on the widest vectors the host has (-march=native: 16 lanes
//               and 24 accumulators with AVX-512, else 8 lanes and 12);
//   peak bf16   bf16 dot products accumulated in f32 (vdpbf16ps, 4 FLOP per
//               f32 lane), or 0 when the host has no AVX512_BF16.
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#if defined(__AVX512F__)
#define LANES 16
#define ACCS 24
#else
#define LANES 8
#define ACCS 12
#endif
typedef float vf __attribute__((vector_size(4 * LANES)));

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

// One thread's share: `rounds` rounds of ACCS independent vector FMAs.
static double fmaWork(long rounds) {
  vf a[ACCS], x, y;
  for (int l = 0; l < LANES; ++l) {
    x[l] = 1.0f;
    y[l] = 0.999999f;
  }
  for (int i = 0; i < ACCS; ++i)
    a[i] = x * (float)i;
  for (long n = 0; n < rounds; ++n)
#pragma GCC unroll 32 // the accumulators stay in registers
    for (int i = 0; i < ACCS; ++i)
      a[i] = a[i] * y + x;
  double sink = 0;
  for (int i = 0; i < ACCS; ++i)
    sink += a[i][0];
  return sink;
}

#if defined(__AVX512BF16__)
static double bf16Work(long rounds) {
  __m512 a[ACCS];
  __m512bh x = (__m512bh)_mm512_set1_epi16(0x3f80), // bf16 1.0
      y = (__m512bh)_mm512_set1_epi16(0x3c00);      // bf16 2^-7
  for (int i = 0; i < ACCS; ++i)
    a[i] = _mm512_set1_ps((float)i);
  for (long n = 0; n < rounds; ++n)
#pragma GCC unroll 32 // the accumulators stay in registers
    for (int i = 0; i < ACCS; ++i)
      a[i] = _mm512_dpbf16_ps(a[i], x, y);
  double sink = 0;
  for (int i = 0; i < ACCS; ++i)
    sink += _mm512_reduce_add_ps(a[i]);
  return sink;
}
#endif

int main(int argc, char **argv) {
  int bf16 = argc > 1 && strcmp(argv[1], "bf16") == 0;
#if !defined(__AVX512BF16__)
  if (bf16) {
    printf("0\n");
    return 0;
  }
#endif
  // About 20 ms per round and 20 rounds: a neighbour that takes a core for a
  // moment does not decide the best round.
  const long rounds = 2000000000 / ACCS / LANES;
  // FLOP per vector instruction: 2 per lane (FMA), 4 per lane (vdpbf16ps).
  double perInstr = bf16 ? 4.0 * 16 : 2.0 * LANES;
  double best = 0;
  for (int rep = 0; rep < 20; ++rep) {
    double t0 = now(), sink = 0;
#pragma omp parallel reduction(+ : sink)
    {
#if defined(__AVX512BF16__)
      sink += bf16 ? bf16Work(rounds) : fmaWork(rounds);
#else
      sink += fmaWork(rounds);
#endif
    }
    double dt = now() - t0;
    double flops = perInstr * ACCS * rounds * omp_get_max_threads();
    if (flops / dt > best)
      best = flops / dt;
    if (sink == 42)
      printf(" ");
  }
  printf("%.1f\n", best * 1e-9);
  return 0;
}
