// Round trip of sattn.attention in its pretty and generic forms.
// RUN: sattn-opt %s -split-input-file | FileCheck %s
// RUN: sattn-opt %s -split-input-file | sattn-opt -split-input-file | FileCheck %s
// RUN: sattn-opt %s -split-input-file -mlir-print-op-generic | sattn-opt -split-input-file | FileCheck %s

// The generic form of docs/Semantics.md parses.
// CHECK-LABEL: func.func @causal
// CHECK: %{{.*}} = sattn.attention %{{.*}}, %{{.*}}, %{{.*}} mask(#sattn.causal) scale(1.250000e-01) : (tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>) -> tensor<1x8x128x64xf32>
func.func @causal(%q: tensor<1x8x128x64xf32>, %k: tensor<1x8x128x64xf32>, %v: tensor<1x8x128x64xf32>) -> tensor<1x8x128x64xf32> {
  %o = "sattn.attention"(%q, %k, %v) {mask = #sattn.causal, scale = 1.250000000e-01 : f32}
       : (tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>) -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// -----

// GQA, Dv != D, LSE, default scale, bf16.
// CHECK-LABEL: func.func @gqa_lse
// CHECK: %{{.*}}, %{{.*}} = sattn.attention %{{.*}}, %{{.*}}, %{{.*}} mask(#sattn.longformer<window = 4, global = [0]>) : (tensor<2x8x16x32xbf16>, tensor<2x2x16x32xbf16>, tensor<2x2x16x48xbf16>) -> (tensor<2x8x16x48xbf16>, tensor<2x8x16xf32>)
func.func @gqa_lse(%q: tensor<2x8x16x32xbf16>, %k: tensor<2x2x16x32xbf16>, %v: tensor<2x2x16x48xbf16>) -> (tensor<2x8x16x48xbf16>, tensor<2x8x16xf32>) {
  %o, %lse = sattn.attention %q, %k, %v mask(#sattn.longformer<window = 4, global = [0]>)
      : (tensor<2x8x16x32xbf16>, tensor<2x2x16x32xbf16>, tensor<2x2x16x48xbf16>) -> (tensor<2x8x16x48xbf16>, tensor<2x8x16xf32>)
  return %o, %lse : tensor<2x8x16x48xbf16>, tensor<2x8x16xf32>
}

// -----

// Dynamic batch, heads and lengths; f16.
// CHECK-LABEL: func.func @dynamic
// CHECK: sattn.attention {{.*}} mask(#sattn.union<[#sattn.causal, #sattn.sink<tokens = 4>]>) : (tensor<?x?x?x64xf16>, tensor<?x?x?x64xf16>, tensor<?x?x?x64xf16>) -> tensor<?x?x?x64xf16>
func.func @dynamic(%q: tensor<?x?x?x64xf16>, %k: tensor<?x?x?x64xf16>, %v: tensor<?x?x?x64xf16>) -> tensor<?x?x?x64xf16> {
  %o = sattn.attention %q, %k, %v mask(#sattn.union<[#sattn.causal, #sattn.sink<tokens = 4>]>)
      : (tensor<?x?x?x64xf16>, tensor<?x?x?x64xf16>, tensor<?x?x?x64xf16>) -> tensor<?x?x?x64xf16>
  return %o : tensor<?x?x?x64xf16>
}

// -----

// A block layout larger than needed is fine; Lq > Lk.
// CHECK-LABEL: func.func @block_sparse
// CHECK: sattn.attention {{.*}} mask(#sattn.block_sparse<block = [2, 2], layout = dense<true> : tensor<8x8xi1>>) :
func.func @block_sparse(%q: tensor<1x1x12x16xf32>, %k: tensor<1x1x6x16xf32>, %v: tensor<1x1x6x16xf32>) -> tensor<1x1x12x16xf32> {
  %o = sattn.attention %q, %k, %v mask(#sattn.block_sparse<block = [2, 2], layout = dense<true> : tensor<8x8xi1>>)
      : (tensor<1x1x12x16xf32>, tensor<1x1x6x16xf32>, tensor<1x1x6x16xf32>) -> tensor<1x1x12x16xf32>
  return %o : tensor<1x1x12x16xf32>
}

// -----

// Lk = 0: every row is empty, still a valid op.
// CHECK-LABEL: func.func @no_keys
// CHECK: sattn.attention {{.*}} mask(#sattn.dense) scale(5.000000e-01)
func.func @no_keys(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x0x4xf32>, %v: tensor<1x2x0x4xf32>) -> tensor<1x2x3x4xf32> {
  %o = sattn.attention %q, %k, %v mask(#sattn.dense) scale(0.5)
      : (tensor<1x2x3x4xf32>, tensor<1x2x0x4xf32>, tensor<1x2x0x4xf32>) -> tensor<1x2x3x4xf32>
  return %o : tensor<1x2x3x4xf32>
}

// -----

// Score modifiers, in docs/Semantics.md's generic form (SPEC's attribute
// names) and the pretty form; ALiBi against a dynamic Hq.
// CHECK-LABEL: func.func @modifiers
// CHECK: sattn.attention {{.*}} mask(#sattn.causal) softcap(3.000000e+01) alibi_slopes([5.000000e-01, 2.500000e-01]) :
// CHECK: sattn.attention {{.*}} mask(#sattn.dense) scale(1.250000e-01) softcap(5.000000e+00) :
// CHECK: sattn.attention {{.*}} mask(#sattn.causal) alibi_slopes([0.000000e+00, 1.000000e+00, 2.000000e+00]) :
func.func @modifiers(%q: tensor<1x2x16x64xf32>, %k: tensor<1x1x16x64xf32>, %v: tensor<1x1x16x64xf32>, %qd: tensor<?x?x?x64xf32>, %kd: tensor<?x?x?x64xf32>) -> (tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>, tensor<?x?x?x64xf32>) {
  %a = "sattn.attention"(%q, %k, %v) {mask = #sattn.causal, softcap = 3.0e+01 : f32, alibi_slopes = array<f32: 0.5, 0.25>}
       : (tensor<1x2x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>) -> tensor<1x2x16x64xf32>
  %b = sattn.attention %q, %k, %v mask(#sattn.dense) scale(0.125) softcap(5.0)
       : (tensor<1x2x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>) -> tensor<1x2x16x64xf32>
  %c = sattn.attention %qd, %kd, %kd mask(#sattn.causal) alibi_slopes([0.0, 1.0, 2.0])
       : (tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>) -> tensor<?x?x?x64xf32>
  return %a, %b, %c : tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>, tensor<?x?x?x64xf32>
}
