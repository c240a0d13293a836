// sattn.varlen_attention: round trip in the pretty and generic forms (SPEC's
// operand order and attribute names), and every diagnostic of its verifier.
// RUN: sattn-opt %s -split-input-file -verify-diagnostics | FileCheck %s
// RUN: sattn-opt %s -split-input-file -verify-diagnostics -mlir-print-op-generic | sattn-opt -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @prefill
// CHECK: sattn.varlen_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} mask(#sattn.causal) softcap(3.000000e+01) alibi_slopes([{{.*}}]) : (tensor<?x4x64xbf16>, tensor<?x2x64xbf16>, tensor<?x2x32xbf16>, tensor<?xi32>, tensor<?xi32>) -> (tensor<?x4x32xbf16>, tensor<4x?xf32>)
// CHECK: sattn.varlen_attention {{.*}} mask(#sattn.bigbird<block = 16, window = 1, global = 1, random = 2, seed = 7>) scale(1.250000e-01) :
func.func @prefill(%q: tensor<?x4x64xbf16>, %k: tensor<?x2x64xbf16>, %v: tensor<?x2x32xbf16>, %cq: tensor<?xi32>, %ck: tensor<?xi32>) -> (tensor<?x4x32xbf16>, tensor<4x?xf32>, tensor<?x4x32xbf16>) {
  %o, %lse = sattn.varlen_attention %q, %k, %v, %cq, %ck mask(#sattn.causal) softcap(30.0) alibi_slopes([0.5, 0.25, 0.125, 0.0625])
      : (tensor<?x4x64xbf16>, tensor<?x2x64xbf16>, tensor<?x2x32xbf16>, tensor<?xi32>, tensor<?xi32>) -> (tensor<?x4x32xbf16>, tensor<4x?xf32>)
  %g = "sattn.varlen_attention"(%q, %k, %v, %cq, %ck) {mask = #sattn.bigbird<block = 16, window = 1, global = 1, random = 2, seed = 7>, scale = 0.125 : f32}
      : (tensor<?x4x64xbf16>, tensor<?x2x64xbf16>, tensor<?x2x32xbf16>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x4x32xbf16>
  return %o, %lse, %g : tensor<?x4x32xbf16>, tensor<4x?xf32>, tensor<?x4x32xbf16>
}

// -----

// A block_sparse layout is not checked against a length: each sequence has
// its own.
// CHECK-LABEL: func.func @block_sparse
func.func @block_sparse(%q: tensor<10x1x16xf32>, %cu: tensor<3xi32>) -> tensor<10x1x16xf32> {
  %o = sattn.varlen_attention %q, %q, %q, %cu, %cu mask(#sattn.block_sparse<block = [4, 4], layout = dense<true> : tensor<1x1xi1>>)
      : (tensor<10x1x16xf32>, tensor<10x1x16xf32>, tensor<10x1x16xf32>, tensor<3xi32>, tensor<3xi32>) -> tensor<10x1x16xf32>
  return %o : tensor<10x1x16xf32>
}

// -----

func.func @f(%q: tensor<10x4x64xf32>, %k: tensor<12x2x64xf32>, %v: tensor<11x2x64xf32>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{key [Tk, Hkv, D] = [12, 2, 64] and value [Tk, Hkv, Dv] = [11, 2, 64] must agree in Tk and Hkv}}
  %o = sattn.varlen_attention %q, %k, %v, %cu, %cu mask(#sattn.causal) : (tensor<10x4x64xf32>, tensor<12x2x64xf32>, tensor<11x2x64xf32>, tensor<3xi32>, tensor<3xi32>) -> tensor<10x4x64xf32>
  return
}

// -----

func.func @f(%q: tensor<10x4x64xf32>, %k: tensor<12x2x64xf32>, %cu: tensor<0xi32>) {
  // expected-error @+1 {{'cu_seqlens_q' must have B + 1 >= 1 entries, got 0}}
  %o = sattn.varlen_attention %q, %k, %k, %cu, %cu mask(#sattn.causal) : (tensor<10x4x64xf32>, tensor<12x2x64xf32>, tensor<12x2x64xf32>, tensor<0xi32>, tensor<0xi32>) -> tensor<10x4x64xf32>
  return
}

// -----

func.func @f(%q: tensor<10x4x64xf32>, %k: tensor<12x2x64xf32>, %cq: tensor<3xi32>, %ck: tensor<4xi32>) {
  // expected-error @+1 {{cu_seqlens_q and cu_seqlens_k must both have B + 1 entries, got 3 and 4}}
  %o = sattn.varlen_attention %q, %k, %k, %cq, %ck mask(#sattn.causal) : (tensor<10x4x64xf32>, tensor<12x2x64xf32>, tensor<12x2x64xf32>, tensor<3xi32>, tensor<4xi32>) -> tensor<10x4x64xf32>
  return
}

// -----

func.func @f(%q: tensor<10x3x64xf32>, %k: tensor<12x2x64xf32>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{query heads (Hq = 3) must be a multiple of key/value heads (Hkv = 2)}}
  %o = sattn.varlen_attention %q, %k, %k, %cu, %cu mask(#sattn.causal) : (tensor<10x3x64xf32>, tensor<12x2x64xf32>, tensor<12x2x64xf32>, tensor<3xi32>, tensor<3xi32>) -> tensor<10x3x64xf32>
  return
}

// -----

func.func @f(%q: tensor<10x4x64xf32>, %k: tensor<12x2x32xf32>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{query and key head dims (D) differ: 64 vs 32}}
  %o = sattn.varlen_attention %q, %k, %k, %cu, %cu mask(#sattn.causal) : (tensor<10x4x64xf32>, tensor<12x2x32xf32>, tensor<12x2x32xf32>, tensor<3xi32>, tensor<3xi32>) -> tensor<10x4x32xf32>
  return
}

// -----

func.func @f(%q: tensor<10x4x64xf32>, %k: tensor<12x2x64xf16>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{key element type 'f16' differs from the query element type 'f32' (Q, K, V and O share one element type)}}
  %o = sattn.varlen_attention %q, %k, %k, %cu, %cu mask(#sattn.causal) : (tensor<10x4x64xf32>, tensor<12x2x64xf16>, tensor<12x2x64xf16>, tensor<3xi32>, tensor<3xi32>) -> tensor<10x4x64xf32>
  return
}

// -----

func.func @f(%q: tensor<10x4x64xf32>, %k: tensor<12x2x64xf32>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{result 'output' must have shape [Tq, Hq, Dv] = [10, 4, 64], got 'tensor<12x4x64xf32>'}}
  %o = sattn.varlen_attention %q, %k, %k, %cu, %cu mask(#sattn.causal) : (tensor<10x4x64xf32>, tensor<12x2x64xf32>, tensor<12x2x64xf32>, tensor<3xi32>, tensor<3xi32>) -> tensor<12x4x64xf32>
  return
}

// -----

func.func @f(%q: tensor<10x4x64xf32>, %k: tensor<12x2x64xf32>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{result 'lse' must have shape [Hq, Tq] = [4, 10], got 'tensor<10x4xf32>'}}
  %o, %l = sattn.varlen_attention %q, %k, %k, %cu, %cu mask(#sattn.causal) : (tensor<10x4x64xf32>, tensor<12x2x64xf32>, tensor<12x2x64xf32>, tensor<3xi32>, tensor<3xi32>) -> (tensor<10x4x64xf32>, tensor<10x4xf32>)
  return
}

// -----

func.func @f(%q: tensor<10x4x64xf32>, %k: tensor<12x2x64xf32>, %cu: tensor<3xi64>) {
  // expected-error @+1 {{operand #3 must be rank-1 tensor of i32}}
  %o = sattn.varlen_attention %q, %k, %k, %cu, %cu mask(#sattn.causal) : (tensor<10x4x64xf32>, tensor<12x2x64xf32>, tensor<12x2x64xf32>, tensor<3xi64>, tensor<3xi64>) -> tensor<10x4x64xf32>
  return
}

// -----

func.func @f(%q: tensor<2x10x4x64xf32>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{operand #0 must be rank-3 tensor of f32, f16 or bf16}}
  %o = sattn.varlen_attention %q, %q, %q, %cu, %cu mask(#sattn.causal) : (tensor<2x10x4x64xf32>, tensor<2x10x4x64xf32>, tensor<2x10x4x64xf32>, tensor<3xi32>, tensor<3xi32>) -> tensor<2x10x4x64xf32>
  return
}

// -----

func.func @f(%q: tensor<10x4x64xf32>, %k: tensor<12x2x64xf32>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{'alibi_slopes' must have one slope per query head (Hq = 4), got 2}}
  %o = sattn.varlen_attention %q, %k, %k, %cu, %cu mask(#sattn.causal) alibi_slopes([0.5, 0.25]) : (tensor<10x4x64xf32>, tensor<12x2x64xf32>, tensor<12x2x64xf32>, tensor<3xi32>, tensor<3xi32>) -> tensor<10x4x64xf32>
  return
}

// -----

func.func @f(%q: tensor<10x4x64xf32>, %k: tensor<12x2x64xf32>, %cu: tensor<3xi32>) {
  // expected-error @+1 {{'softcap' must be a finite f32 > 0, got 0.000000e+00 (omit it for no softcap)}}
  %o = sattn.varlen_attention %q, %k, %k, %cu, %cu mask(#sattn.causal) softcap(0.0) : (tensor<10x4x64xf32>, tensor<12x2x64xf32>, tensor<12x2x64xf32>, tensor<3xi32>, tensor<3xi32>) -> tensor<10x4x64xf32>
  return
}
