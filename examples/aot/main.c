/* Runs the ahead-of-time compiled kernel of causal.mlir from plain C, with no
 * LLVM or MLIR at run time, and checks it against a direct evaluation.
 *
 *   sattn-compile causal.mlir --emit=obj -o causal.o
 *   sattn-compile causal.mlir --emit=header -o causal.h
 *   cc main.c causal.o -lomp -lm -o causal && ./causal */
#include "causal.h"
#include "reference.h"

#include <stdio.h>

int main(void) {
  static float q[H * L * D], k[H * L * D], v[H * L * D], o[H * L * D];
  random_inputs(q, k, v);
  const int64_t shape[4] = {1, H, L, D};
  sattn_memref4_f32 mq = sattn_memref4_f32_make(q, shape);
  sattn_memref4_f32 mk = sattn_memref4_f32_make(k, shape);
  sattn_memref4_f32 mv = sattn_memref4_f32_make(v, shape);
  sattn_memref4_f32 mo = sattn_memref4_f32_make(o, shape);
  _mlir_ciface_causal_attention(&mq, &mk, &mv, &mo);

  double maxErr = causal_max_error(q, k, v, o);
  printf("ahead-of-time causal attention: max abs error %.2e: %s\n", maxErr,
         maxErr < 1e-5 ? "ok" : "FAILED");
  return maxErr < 1e-5 ? 0 : 1;
}
