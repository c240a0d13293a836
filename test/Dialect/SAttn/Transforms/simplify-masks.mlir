// RUN: sattn-opt %s -sattn-simplify-masks | FileCheck %s
// RUN: sattn-opt %s -sattn-expand-presets -sattn-simplify-masks | FileCheck %s --check-prefix=PRESET

!t = tensor<1x2x16x8xf32>

// causal & window<L, R> = window<L, 0>
// CHECK-LABEL: func.func @causal_window
// CHECK: mask(#sattn.window<left = 3, right = 0>)
func.func @causal_window(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.intersect<[#sattn.causal, #sattn.window<left = 3, right = 2>]>) : (!t, !t, !t) -> !t
  return %o : !t
}

// Flattening, duplicates, overlapping windows merged into their hull.
// CHECK-LABEL: func.func @flatten_merge
// CHECK: mask(#sattn.union<[#sattn.window<left = 4, right = 3>, #sattn.sink<tokens = 6>]>)
func.func @flatten_merge(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.union<[#sattn.window<left = 4, right = 1>, #sattn.union<[#sattn.sink<tokens = 2>, #sattn.window<left = 0, right = 3>, #sattn.sink<tokens = 6>]>, #sattn.window<left = 4, right = 1>]>) : (!t, !t, !t) -> !t
  return %o : !t
}

// Identities with dense and complement.
// CHECK-LABEL: func.func @identities
// CHECK: mask(#sattn.global<tokens = [1]>)
func.func @identities(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.intersect<[#sattn.dense, #sattn.complement<#sattn.complement<#sattn.global<tokens = [1]>>>, #sattn.strided<stride = 1>]>) : (!t, !t, !t) -> !t
  return %o : !t
}

// a | ~a = dense
// CHECK-LABEL: func.func @excluded_middle
// CHECK: mask(#sattn.dense)
func.func @excluded_middle(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.union<[#sattn.sink<tokens = 3>, #sattn.complement<#sattn.sink<tokens = 3>>]>) : (!t, !t, !t) -> !t
  return %o : !t
}

// window & strided = dilated
// CHECK-LABEL: func.func @window_strided
// CHECK: mask(#sattn.dilated<left = 2, right = 0, dilation = 4>)
func.func @window_strided(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.intersect<[#sattn.causal, #sattn.window<left = 11, right = 9>, #sattn.strided<stride = 4>]>) : (!t, !t, !t) -> !t
  return %o : !t
}

// A band inside another disappears from a union; absorption.
// CHECK-LABEL: func.func @absorb
// CHECK: mask(#sattn.causal)
func.func @absorb(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.union<[#sattn.window<left = 5, right = 0>, #sattn.causal, #sattn.intersect<[#sattn.causal, #sattn.sink<tokens = 2>]>]>) : (!t, !t, !t) -> !t
  return %o : !t
}

// The expanded presets, simplified.
// PRESET-LABEL: func.func @streaming
// PRESET: mask(#sattn.intersect<[#sattn.causal, #sattn.union<[#sattn.sink<tokens = 4>, #sattn.window<left = 7, right = 0>]>]>)
func.func @streaming(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.streaming<sink = 4, window = 8>) : (!t, !t, !t) -> !t
  return %o : !t
}

// sparse_transformer<1> is causal.
// PRESET-LABEL: func.func @sparse_transformer_1
// PRESET: mask(#sattn.causal)
func.func @sparse_transformer_1(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.sparse_transformer<stride = 1>) : (!t, !t, !t) -> !t
  return %o : !t
}

// Block layouts with the same block sides merge into one (cells past a
// layout keep nothing); a layout of other sides stays.
// CHECK-LABEL: func.func @layouts
// CHECK: mask(#sattn.union<[#sattn.block_sparse<block = [8, 8], layout = dense<{{\[}}[true, false, true], [false, true, false]]> : tensor<2x3xi1>>, #sattn.block_sparse<block = [16, 8], layout = dense<true> : tensor<1x2xi1>>]>)
func.func @layouts(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.union<[#sattn.block_sparse<block = [8, 8], layout = dense<[[true, false], [false, true]]> : tensor<2x2xi1>>, #sattn.block_sparse<block = [16, 8], layout = dense<true> : tensor<1x2xi1>>, #sattn.block_sparse<block = [8, 8], layout = dense<[[false, false, true], [false, false, false]]> : tensor<2x3xi1>>]>) : (!t, !t, !t) -> !t
  return %o : !t
}

// Bigbird at a static Lk: its band layout and the layout of its random blocks
// (expand-presets.mlir) become one layout, beside the sink of its global key
// blocks.
// PRESET-LABEL: func.func @bigbird
// PRESET: mask(#sattn.union<[#sattn.block_sparse<block = [4, 4], layout = dense<{{\[}}[true, true, true, true], [true, true, true, true], [false, true, true, true], [false, true, true, true]]> : tensor<4x4xi1>>, #sattn.sink<tokens = 4>]>)
func.func @bigbird(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.bigbird<block = 4, window = 3, global = 1, random = 1, seed = 3>) : (!t, !t, !t) -> !t
  return %o : !t
}
