// sattn.attention_grad: round trip in the pretty and generic forms (SPEC's
// operand order and attribute names), and every diagnostic of its verifier.
// RUN: sattn-opt %s -split-input-file -verify-diagnostics | FileCheck %s
// RUN: sattn-opt %s -split-input-file -verify-diagnostics -mlir-print-op-generic | sattn-opt -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @grad
// CHECK: sattn.attention_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} mask(#sattn.longformer<window = 16, global = [0]>) softcap(3.000000e+01) alibi_slopes([{{.*}}]) : (tensor<2x4x?x64xbf16>, tensor<2x2x?x64xbf16>, tensor<2x2x?x32xbf16>, tensor<2x4x?x32xbf16>, tensor<2x4x?x32xbf16>, tensor<2x4x?xf32>) -> (tensor<2x4x?x64xbf16>, tensor<2x2x?x64xbf16>, tensor<2x2x?x32xbf16>)
// CHECK: sattn.attention_grad {{.*}} mask(#sattn.causal) scale(1.250000e-01) :
!q = tensor<2x4x?x64xbf16>
!k = tensor<2x2x?x64xbf16>
!v = tensor<2x2x?x32xbf16>
!o = tensor<2x4x?x32xbf16>
!l = tensor<2x4x?xf32>
func.func @grad(%q: !q, %k: !k, %v: !v, %o: !o, %do: !o, %lse: !l) -> (!q, !k, !v, !q) {
  %dq, %dk, %dv = sattn.attention_grad %q, %k, %v, %o, %do, %lse mask(#sattn.longformer<window = 16, global = [0]>) softcap(30.0) alibi_slopes([0.5, 0.25, 0.125, 0.0625])
      : (!q, !k, !v, !o, !o, !l) -> (!q, !k, !v)
  %g:3 = "sattn.attention_grad"(%q, %k, %v, %o, %do, %lse) {mask = #sattn.causal, scale = 0.125 : f32}
      : (!q, !k, !v, !o, !o, !l) -> (!q, !k, !v)
  return %dq, %dk, %dv, %g#0 : !q, !k, !v, !q
}

// -----

func.func @f(%q: tensor<1x4x8x64xf32>, %k: tensor<1x2x8x64xf32>, %o: tensor<1x4x8x64xf32>, %do: tensor<1x4x9x64xf32>, %lse: tensor<1x4x8xf32>) {
  // expected-error @+1 {{'grad_output' must have the forward's output shape [B, Hq, Lq, Dv] = [1, 4, 8, 64], got 'tensor<1x4x9x64xf32>'}}
  %a:3 = sattn.attention_grad %q, %k, %k, %o, %do, %lse mask(#sattn.causal) : (tensor<1x4x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x4x8x64xf32>, tensor<1x4x9x64xf32>, tensor<1x4x8xf32>) -> (tensor<1x4x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x2x8x64xf32>)
  return
}

// -----

func.func @f(%q: tensor<1x4x8x64xf32>, %k: tensor<1x2x8x64xf32>, %o: tensor<1x4x8x32xf32>, %lse: tensor<1x4x8xf32>) {
  // expected-error @+1 {{'output' must have the forward's output shape [B, Hq, Lq, Dv] = [1, 4, 8, 64], got 'tensor<1x4x8x32xf32>'}}
  %a:3 = sattn.attention_grad %q, %k, %k, %o, %o, %lse mask(#sattn.causal) : (tensor<1x4x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x4x8x32xf32>, tensor<1x4x8x32xf32>, tensor<1x4x8xf32>) -> (tensor<1x4x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x2x8x64xf32>)
  return
}

// -----

func.func @f(%q: tensor<1x4x8x64xf32>, %k: tensor<1x2x8x64xf32>, %lse: tensor<1x4x7xf32>) {
  // expected-error @+1 {{'lse' must have the forward's shape [B, Hq, Lq] = [1, 4, 8], got 'tensor<1x4x7xf32>'}}
  %a:3 = sattn.attention_grad %q, %k, %k, %q, %q, %lse mask(#sattn.causal) : (tensor<1x4x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x4x8x64xf32>, tensor<1x4x8x64xf32>, tensor<1x4x7xf32>) -> (tensor<1x4x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x2x8x64xf32>)
  return
}

// -----

func.func @f(%q: tensor<1x4x8x64xf32>, %k: tensor<1x2x8x64xf32>, %lse: tensor<1x4x8xf32>) {
  // expected-error @+1 {{result 'grad_key' must have the type 'tensor<1x2x8x64xf32>' of its operand, got 'tensor<1x4x8x64xf32>'}}
  %a:3 = sattn.attention_grad %q, %k, %k, %q, %q, %lse mask(#sattn.causal) : (tensor<1x4x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x4x8x64xf32>, tensor<1x4x8x64xf32>, tensor<1x4x8xf32>) -> (tensor<1x4x8x64xf32>, tensor<1x4x8x64xf32>, tensor<1x2x8x64xf32>)
  return
}

// -----

func.func @f(%q: tensor<1x4x8x64xf32>, %k: tensor<1x2x8x64xf16>, %lse: tensor<1x4x8xf32>) {
  // expected-error @+1 {{key element type 'f16' differs from the query element type 'f32' (Q, K, V and O share one element type)}}
  %a:3 = sattn.attention_grad %q, %k, %k, %q, %q, %lse mask(#sattn.causal) : (tensor<1x4x8x64xf32>, tensor<1x2x8x64xf16>, tensor<1x2x8x64xf16>, tensor<1x4x8x64xf32>, tensor<1x4x8x64xf32>, tensor<1x4x8xf32>) -> (tensor<1x4x8x64xf32>, tensor<1x2x8x64xf16>, tensor<1x2x8x64xf16>)
  return
}

// -----

func.func @f(%q: tensor<1x3x8x64xf32>, %k: tensor<1x2x8x64xf32>, %lse: tensor<1x3x8xf32>) {
  // expected-error @+1 {{query heads (Hq = 3) must be a multiple of key/value heads (Hkv = 2)}}
  %a:3 = sattn.attention_grad %q, %k, %k, %q, %q, %lse mask(#sattn.causal) : (tensor<1x3x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x3x8x64xf32>, tensor<1x3x8x64xf32>, tensor<1x3x8xf32>) -> (tensor<1x3x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x2x8x64xf32>)
  return
}

// -----

func.func @f(%q: tensor<2x4x8x64xf32>, %k: tensor<1x2x8x64xf32>, %lse: tensor<2x4x8xf32>) {
  // expected-error @+1 {{batch sizes differ: query 2, key 1, value 1}}
  %a:3 = sattn.attention_grad %q, %k, %k, %q, %q, %lse mask(#sattn.causal) : (tensor<2x4x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x2x8x64xf32>, tensor<2x4x8x64xf32>, tensor<2x4x8x64xf32>, tensor<2x4x8xf32>) -> (tensor<2x4x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x2x8x64xf32>)
  return
}

// -----

func.func @f(%q: tensor<1x4x8x64xf32>, %k: tensor<1x2x8x64xf32>, %lse: tensor<1x4x8xf32>) {
  // expected-error @+1 {{'alibi_slopes' must have one slope per query head (Hq = 4), got 1}}
  %a:3 = sattn.attention_grad %q, %k, %k, %q, %q, %lse mask(#sattn.causal) alibi_slopes([0.5]) : (tensor<1x4x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x4x8x64xf32>, tensor<1x4x8x64xf32>, tensor<1x4x8xf32>) -> (tensor<1x4x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x2x8x64xf32>)
  return
}

// -----

func.func @f(%q: tensor<1x4x8x64xf32>, %k: tensor<1x2x8x64xf32>, %lse: tensor<1x4x8xf32>) {
  // expected-error @+1 {{'softcap' must be a finite f32 > 0, got -2.000000e+00 (omit it for no softcap)}}
  %a:3 = sattn.attention_grad %q, %k, %k, %q, %q, %lse mask(#sattn.causal) softcap(-2.0) : (tensor<1x4x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x4x8x64xf32>, tensor<1x4x8x64xf32>, tensor<1x4x8xf32>) -> (tensor<1x4x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x2x8x64xf32>)
  return
}

// -----

func.func @f(%q: tensor<1x4x8x64xf32>, %k: tensor<1x2x8x64xf32>, %lse: tensor<1x4x8xf32>) {
  // expected-error @+1 {{mask: '#sattn.block_sparse' layout of 2x1 blocks does not cover Lk = 8: needs at least 2x2}}
  %a:3 = sattn.attention_grad %q, %k, %k, %q, %q, %lse mask(#sattn.block_sparse<block = [4, 4], layout = dense<true> : tensor<2x1xi1>>) : (tensor<1x4x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x4x8x64xf32>, tensor<1x4x8x64xf32>, tensor<1x4x8xf32>) -> (tensor<1x4x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x2x8x64xf32>)
  return
}

// -----

func.func @f(%q: tensor<1x4x8x64xf32>, %k: tensor<1x2x8x64xf32>, %lse: tensor<1x4x8xi32>) {
  // expected-error @+1 {{operand #5 must be rank-3 tensor of f32}}
  %a:3 = sattn.attention_grad %q, %k, %k, %q, %q, %lse mask(#sattn.causal) : (tensor<1x4x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x4x8x64xf32>, tensor<1x4x8x64xf32>, tensor<1x4x8xi32>) -> (tensor<1x4x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x2x8x64xf32>)
  return
}
