// Any number of attentions in one spec, in any dataflow: a result feeds the
// next op's Q, K and V; results and LSE of inner ops are returned too. Each
// result is checked against the float64 reference evaluated step by step.
// RUN: sattn-run %s --function=chain --check | FileCheck %s --check-prefix=CHAIN
// RUN: sattn-run %s --function=dataflow --check | FileCheck %s --check-prefix=FLOW
// RUN: sattn-opt %s -convert-sattn-to-loops | FileCheck %s --check-prefix=LOOPS
// RUN: sattn-opt %s -convert-sattn-to-gpu | FileCheck %s --check-prefix=GPU
// RUN: not sattn-run %s --function=chain --target=nvvm --check 2>&1 | FileCheck %s --check-prefix=NVVM

// CHAIN: check result #0 (O): {{.*}}: ok
// FLOW: check result #0 (O): {{.*}}: ok
// FLOW: check result #1 (LSE): {{.*}}: ok
// FLOW: check result #2 (O): {{.*}}: ok
// LOOPS-LABEL: func.func @chain
// LOOPS-COUNT-2: scf.parallel
// LOOPS-LABEL: func.func @dataflow
// LOOPS-COUNT-3: scf.parallel
// GPU-LABEL: func.func @chain
// GPU-COUNT-2: gpu.launch_func
// NVVM: the nvvm target compiles functions with exactly one sattn.attention

!t = tensor<1x1x16x16xf32>
func.func @chain(%q: !t, %k: !t, %v: !t) -> !t {
  %a = sattn.attention %q, %k, %v mask(#sattn.causal) : (!t, !t, !t) -> !t
  %b = sattn.attention %a, %k, %v mask(#sattn.causal) : (!t, !t, !t) -> !t
  return %b : !t
}

!q = tensor<2x4x37x16xf32>
!kv = tensor<2x2x37x16xf32>
!l = tensor<2x4x37xf32>
func.func @dataflow(%q: !q, %k: !kv, %v: !kv) -> (!q, !l, !q) {
  %a, %la = sattn.attention %q, %k, %v mask(#sattn.window<left = 3, right = 2>) : (!q, !kv, !kv) -> (!q, !l)
  %b = sattn.attention %a, %k, %v mask(#sattn.causal) scale(0.5) : (!q, !kv, !kv) -> !q
  %c = sattn.attention %b, %a, %a mask(#sattn.dense) : (!q, !q, !q) -> !q
  return %c, %la, %a : !q, !l, !q
}
