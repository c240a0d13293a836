// sattn.attention_grad through the JIT: --random-inputs fills O and LSE with
// the float64 forward of Q, K, V (a random LSE would mean nothing), --check
// compares dQ, dK, dV with the float64 gradients under the backward contract,
// and --benchmark counts the backward's five products per kept pair.
// RUN: sattn-run %s --function=grad --random-inputs --check --benchmark 1 | FileCheck %s
// CHECK: check result #0 (dQ): {{.*}} (tolerance 1.000000e-04), 0 NaN, 0 -inf mismatches: ok
// CHECK: check result #1 (dK): {{.*}}: ok
// CHECK: check result #2 (dV): {{.*}}: ok
// CHECK: benchmark: 1 runs, median {{.*}} useful GFLOP/s

// The forward and its backward in one spec: the backward reads the forward's
// O and LSE; every result is checked.
// RUN: sattn-run %s --function=train_step --random-inputs --check | FileCheck %s --check-prefix=STEP
// STEP: check result #0 (O): {{.*}}: ok
// STEP: check result #1 (dQ): {{.*}}: ok
// STEP: check result #2 (dK): {{.*}}: ok
// STEP: check result #3 (dV): {{.*}}: ok

// The GPU target compiles the backward too, then (forced here with
// SATTN_LIBCUDA) finds no device; its two-op training step is refused by
// name.
// RUN: env SATTN_LIBCUDA=%t.missing-libcuda.so not sattn-run %s --function=grad --random-inputs --target=nvvm 2>&1 | FileCheck %s --check-prefix=GPU
// GPU: sattn-run: no CUDA device: cannot load the CUDA driver ({{.*}}missing-libcuda.so
// RUN: not sattn-run %s --function=train_step --random-inputs --target=nvvm 2>&1 | FileCheck %s --check-prefix=STEP-GPU
// STEP-GPU: sattn-run: the nvvm target compiles functions with exactly one sattn.attention

!t = tensor<1x2x40x8xf32>
!k = tensor<1x1x40x8xf32>
!l = tensor<1x2x40xf32>
func.func @grad(%q: !t, %k: !k, %v: !k, %o: !t, %do: !t, %lse: !l) -> (!t, !k, !k) {
  %dq, %dk, %dv = sattn.attention_grad %q, %k, %v, %o, %do, %lse mask(#sattn.causal) softcap(4.0) : (!t, !k, !k, !t, !t, !l) -> (!t, !k, !k)
  return %dq, %dk, %dv : !t, !k, !k
}

func.func @train_step(%q: !t, %k: !k, %v: !k, %do: !t) -> (!t, !t, !k, !k) {
  %o, %lse = sattn.attention %q, %k, %v mask(#sattn.window<left = 8, right = 2>) : (!t, !k, !k) -> (!t, !l)
  %dq, %dk, %dv = sattn.attention_grad %q, %k, %v, %o, %do, %lse mask(#sattn.window<left = 8, right = 2>) : (!t, !k, !k, !t, !t, !l) -> (!t, !k, !k)
  return %o, %dq, %dk, %dv : !t, !t, !k, !k
}
