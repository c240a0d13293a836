// sattn.paged_attention: round trip in the pretty and generic forms (SPEC's
// operand order and attribute names), and every diagnostic of its verifier.
// RUN: sattn-opt %s -split-input-file -verify-diagnostics | FileCheck %s
// RUN: sattn-opt %s -split-input-file -verify-diagnostics -mlir-print-op-generic | sattn-opt -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @decode
// CHECK: sattn.paged_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} mask(#sattn.streaming<sink = 4, window = 1024>) softcap(3.000000e+01) alibi_slopes([{{.*}}]) : (tensor<?x8x1x64xf16>, tensor<?x16x2x64xf16>, tensor<?x16x2x64xf16>, tensor<?x?xi32>, tensor<?xi32>) -> (tensor<?x8x1x64xf16>, tensor<?x8x1xf32>)
// CHECK: sattn.paged_attention {{.*}} mask(#sattn.causal) scale(1.250000e-01) :
func.func @decode(%q: tensor<?x8x1x64xf16>, %kc: tensor<?x16x2x64xf16>, %vc: tensor<?x16x2x64xf16>, %t: tensor<?x?xi32>, %l: tensor<?xi32>) -> (tensor<?x8x1x64xf16>, tensor<?x8x1xf32>, tensor<?x8x1x64xf16>) {
  %o, %lse = sattn.paged_attention %q, %kc, %vc, %t, %l mask(#sattn.streaming<sink = 4, window = 1024>) softcap(30.0) alibi_slopes([1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125])
      : (tensor<?x8x1x64xf16>, tensor<?x16x2x64xf16>, tensor<?x16x2x64xf16>, tensor<?x?xi32>, tensor<?xi32>) -> (tensor<?x8x1x64xf16>, tensor<?x8x1xf32>)
  %g = "sattn.paged_attention"(%q, %kc, %vc, %t, %l) {mask = #sattn.causal, scale = 0.125 : f32}
      : (tensor<?x8x1x64xf16>, tensor<?x16x2x64xf16>, tensor<?x16x2x64xf16>, tensor<?x?xi32>, tensor<?xi32>) -> tensor<?x8x1x64xf16>
  return %o, %lse, %g : tensor<?x8x1x64xf16>, tensor<?x8x1xf32>, tensor<?x8x1x64xf16>
}

// -----

// A block_sparse layout is not checked against a length: each sequence has
// its own.
// CHECK-LABEL: func.func @block_sparse
func.func @block_sparse(%q: tensor<1x1x4x16xf32>, %kc: tensor<4x8x1x16xf32>, %t: tensor<1x4xi32>, %l: tensor<1xi32>) -> tensor<1x1x4x16xf32> {
  %o = sattn.paged_attention %q, %kc, %kc, %t, %l mask(#sattn.block_sparse<block = [4, 4], layout = dense<true> : tensor<1x1xi1>>)
      : (tensor<1x1x4x16xf32>, tensor<4x8x1x16xf32>, tensor<4x8x1x16xf32>, tensor<1x4xi32>, tensor<1xi32>) -> tensor<1x1x4x16xf32>
  return %o : tensor<1x1x4x16xf32>
}

// -----

func.func @f(%q: tensor<2x4x1x64xf32>, %kc: tensor<8x?x2x64xf32>, %t: tensor<2x4xi32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{the page size (dim 1 of key_cache and value_cache) must be static}}
  %o = sattn.paged_attention %q, %kc, %kc, %t, %l mask(#sattn.causal) : (tensor<2x4x1x64xf32>, tensor<8x?x2x64xf32>, tensor<8x?x2x64xf32>, tensor<2x4xi32>, tensor<2xi32>) -> tensor<2x4x1x64xf32>
  return
}

// -----

func.func @f(%q: tensor<2x4x1x64xf32>, %kc: tensor<8x0x2x64xf32>, %t: tensor<2x4xi32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{the page size must be >= 1, got 0}}
  %o = sattn.paged_attention %q, %kc, %kc, %t, %l mask(#sattn.causal) : (tensor<2x4x1x64xf32>, tensor<8x0x2x64xf32>, tensor<8x0x2x64xf32>, tensor<2x4xi32>, tensor<2xi32>) -> tensor<2x4x1x64xf32>
  return
}

// -----

func.func @f(%q: tensor<2x4x1x64xf32>, %kc: tensor<8x16x2x64xf32>, %vc: tensor<8x8x2x64xf32>, %t: tensor<2x4xi32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{key_cache [P, page, Hkv, D] = [8, 16, 2, 64] and value_cache [P, page, Hkv, Dv] = [8, 8, 2, 64] must agree in P, page and Hkv}}
  %o = sattn.paged_attention %q, %kc, %vc, %t, %l mask(#sattn.causal) : (tensor<2x4x1x64xf32>, tensor<8x16x2x64xf32>, tensor<8x8x2x64xf32>, tensor<2x4xi32>, tensor<2xi32>) -> tensor<2x4x1x64xf32>
  return
}

// -----

func.func @f(%q: tensor<2x4x1x64xf32>, %kc: tensor<8x16x2x64xf32>, %t: tensor<3x4xi32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{batch sizes differ: query 2, block_table 3, seq_lens 2}}
  %o = sattn.paged_attention %q, %kc, %kc, %t, %l mask(#sattn.causal) : (tensor<2x4x1x64xf32>, tensor<8x16x2x64xf32>, tensor<8x16x2x64xf32>, tensor<3x4xi32>, tensor<2xi32>) -> tensor<2x4x1x64xf32>
  return
}

// -----

func.func @f(%q: tensor<2x3x1x64xf32>, %kc: tensor<8x16x2x64xf32>, %t: tensor<2x4xi32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{query heads (Hq = 3) must be a multiple of key/value heads (Hkv = 2)}}
  %o = sattn.paged_attention %q, %kc, %kc, %t, %l mask(#sattn.causal) : (tensor<2x3x1x64xf32>, tensor<8x16x2x64xf32>, tensor<8x16x2x64xf32>, tensor<2x4xi32>, tensor<2xi32>) -> tensor<2x3x1x64xf32>
  return
}

// -----

func.func @f(%q: tensor<2x4x1x64xf32>, %kc: tensor<8x16x2x64xf32>, %t: tensor<2x4xf32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{operand #3 must be rank-2 tensor of i32}}
  %o = sattn.paged_attention %q, %kc, %kc, %t, %l mask(#sattn.causal) : (tensor<2x4x1x64xf32>, tensor<8x16x2x64xf32>, tensor<8x16x2x64xf32>, tensor<2x4xf32>, tensor<2xi32>) -> tensor<2x4x1x64xf32>
  return
}

// -----

func.func @f(%q: tensor<2x4x1x64xf32>, %kc: tensor<8x16x2x64xf32>, %t: tensor<2x4xi32>, %l: tensor<2x1xi32>) {
  // expected-error @+1 {{operand #4 must be rank-1 tensor of i32}}
  %o = sattn.paged_attention %q, %kc, %kc, %t, %l mask(#sattn.causal) : (tensor<2x4x1x64xf32>, tensor<8x16x2x64xf32>, tensor<8x16x2x64xf32>, tensor<2x4xi32>, tensor<2x1xi32>) -> tensor<2x4x1x64xf32>
  return
}

// -----

func.func @f(%q: tensor<2x4x1x64xf32>, %kc: tensor<8x16x2x64xf16>, %t: tensor<2x4xi32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{key_cache element type 'f16' differs from the query element type 'f32' (Q, K, V and O share one element type)}}
  %o = sattn.paged_attention %q, %kc, %kc, %t, %l mask(#sattn.causal) : (tensor<2x4x1x64xf32>, tensor<8x16x2x64xf16>, tensor<8x16x2x64xf16>, tensor<2x4xi32>, tensor<2xi32>) -> tensor<2x4x1x64xf32>
  return
}

// -----

func.func @f(%q: tensor<2x4x1x64xf32>, %kc: tensor<8x16x2x32xf32>, %t: tensor<2x4xi32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{query and key head dims (D) differ: 64 vs 32}}
  %o = sattn.paged_attention %q, %kc, %kc, %t, %l mask(#sattn.causal) : (tensor<2x4x1x64xf32>, tensor<8x16x2x32xf32>, tensor<8x16x2x32xf32>, tensor<2x4xi32>, tensor<2xi32>) -> tensor<2x4x1x32xf32>
  return
}

// -----

func.func @f(%q: tensor<2x4x1x64xf32>, %kc: tensor<8x16x2x64xf32>, %t: tensor<2x4xi32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{result 'output' must have shape [B, Hq, Lq, Dv] = [2, 4, 1, 64], got 'tensor<2x4x2x64xf32>'}}
  %o = sattn.paged_attention %q, %kc, %kc, %t, %l mask(#sattn.causal) : (tensor<2x4x1x64xf32>, tensor<8x16x2x64xf32>, tensor<8x16x2x64xf32>, tensor<2x4xi32>, tensor<2xi32>) -> tensor<2x4x2x64xf32>
  return
}

// -----

func.func @f(%q: tensor<2x4x1x64xf32>, %kc: tensor<8x16x2x64xf32>, %t: tensor<2x4xi32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{'alibi_slopes' must have one slope per query head (Hq = 4), got 1}}
  %o = sattn.paged_attention %q, %kc, %kc, %t, %l mask(#sattn.causal) alibi_slopes([0.5]) : (tensor<2x4x1x64xf32>, tensor<8x16x2x64xf32>, tensor<8x16x2x64xf32>, tensor<2x4xi32>, tensor<2xi32>) -> tensor<2x4x1x64xf32>
  return
}

// -----

func.func @f(%q: tensor<2x4x1x64xf32>, %kc: tensor<8x16x2x64xf32>, %t: tensor<2x4xi32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{'softcap' must be a finite f32 > 0, got -1.000000e+00 (omit it for no softcap)}}
  %o = sattn.paged_attention %q, %kc, %kc, %t, %l mask(#sattn.causal) softcap(-1.0) : (tensor<2x4x1x64xf32>, tensor<8x16x2x64xf32>, tensor<8x16x2x64xf32>, tensor<2x4xi32>, tensor<2xi32>) -> tensor<2x4x1x64xf32>
  return
}
