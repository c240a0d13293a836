// sattn.attention_grad verifies and has a float64 reference, but no kernel
// yet: the runtime says so by name instead of failing later.
// RUN: not sattn-run %s --random-inputs 2>&1 | FileCheck %s
// CHECK: sattn-run: 'sattn.attention_grad' at {{.*}}grad.mlir{{.*}}: the backward op verifies and has a float64 reference, but no kernel yet

!t = tensor<1x2x16x8xf32>
func.func @grad(%q: !t, %k: !t, %v: !t, %o: !t, %do: !t, %lse: tensor<1x2x16xf32>) -> (!t, !t, !t) {
  %dq, %dk, %dv = sattn.attention_grad %q, %k, %v, %o, %do, %lse mask(#sattn.causal) : (!t, !t, !t, !t, !t, tensor<1x2x16xf32>) -> (!t, !t, !t)
  return %dq, %dk, %dv : !t, !t, !t
}
