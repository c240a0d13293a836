// RUN: sattn-opt %s -split-input-file -sattn-expand-presets | FileCheck %s

!t = tensor<1x2x16x8xf32>

// CHECK-LABEL: func.func @longformer
// CHECK: mask(#sattn.union<[#sattn.window<left = 2, right = 2>, #sattn.global<tokens = [0, 9]>]>)
func.func @longformer(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.longformer<window = 4, global = [9, 0]>) : (!t, !t, !t) -> !t
  return %o : !t
}

// CHECK-LABEL: func.func @sparse_transformer
// CHECK: mask(#sattn.intersect<[#sattn.causal, #sattn.union<[#sattn.window<left = 3, right = 0>, #sattn.strided<stride = 4>]>]>)
func.func @sparse_transformer(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.sparse_transformer<stride = 4>) : (!t, !t, !t) -> !t
  return %o : !t
}

// CHECK-LABEL: func.func @streaming
// CHECK: mask(#sattn.intersect<[#sattn.causal, #sattn.union<[#sattn.sink<tokens = 2>, #sattn.window<left = 5, right = 0>]>]>)
func.func @streaming(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.streaming<sink = 2, window = 6>) : (!t, !t, !t) -> !t
  return %o : !t
}

// Static Lk = 16, block 4: a 4x4 layout with the band |qb - kb| <= 1 and the
// first query block row, the random blocks (expanded in turn: R(0) = R(1) =
// {3}, R(2) = {2}, R(3) = {1}), and the first key block as a sink.
// CHECK-LABEL: func.func @bigbird
// CHECK: mask(#sattn.union<[#sattn.block_sparse<block = [4, 4], layout = dense<{{\[}}[true, true, true, true], [true, true, true, false], [false, true, true, true], [false, false, true, true]]> : tensor<4x4xi1>>, #sattn.block_sparse<block = [4, 4], layout = dense<{{\[}}[false, false, false, true], [false, false, false, true], [false, false, true, false], [false, true, false, false]]> : tensor<4x4xi1>>, #sattn.sink<tokens = 4>]>)
func.func @bigbird(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.bigbird<block = 4, window = 3, global = 1, random = 1, seed = 3>) : (!t, !t, !t) -> !t
  return %o : !t
}

// Random blocks alone: the layout of R(qb) for the n = ceil(Lk / b) query
// blocks of the positions p < Lk (Lk = 16, b = 4, two draws: R(0) = R(1) =
// R(2) = {1, 2}, R(3) = {0, 1}).
// CHECK-LABEL: func.func @random
// CHECK: mask(#sattn.block_sparse<block = [4, 4], layout = dense<{{\[}}[false, true, true, false], [false, true, true, false], [false, true, true, false], [true, true, false, false]]> : tensor<4x4xi1>>)
func.func @random(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.random<block = 4, per_row = 2, seed = 5>) : (!t, !t, !t) -> !t
  return %o : !t
}

// No global and no random blocks: only the layout.
// CHECK-LABEL: func.func @bigbird_band_only
// CHECK: mask(#sattn.block_sparse<block = [8, 8], layout = dense<true> : tensor<2x2xi1>>)
func.func @bigbird_band_only(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.bigbird<block = 8, window = 3, global = 0, random = 0, seed = 0>) : (!t, !t, !t) -> !t
  return %o : !t
}

// Presets nested in combinators are expanded too.
// CHECK-LABEL: func.func @nested
// CHECK: mask(#sattn.complement<#sattn.intersect<[#sattn.causal, #sattn.union<[#sattn.window<left = 0, right = 0>, #sattn.strided<stride = 1>]>]>>)
func.func @nested(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.complement<#sattn.sparse_transformer<stride = 1>>) : (!t, !t, !t) -> !t
  return %o : !t
}

// -----

// With a dynamic key length bigbird has no exact expansion and stays.
// CHECK-LABEL: func.func @bigbird_dynamic
// CHECK: mask(#sattn.bigbird<block = 4, window = 3, global = 1, random = 1, seed = 3>)
func.func @bigbird_dynamic(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %o = sattn.attention %q, %k, %v mask(#sattn.bigbird<block = 4, window = 3, global = 1, random = 1, seed = 3>)
      : (tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32>
  return %o : tensor<1x2x?x8xf32>
}

// -----

// Random blocks with a dynamic key length, and with 1024^2 > 2^18 cells, stay.
// CHECK-LABEL: func.func @random_dynamic
// CHECK: mask(#sattn.random<block = 4, per_row = 2, seed = 1>)
// CHECK-LABEL: func.func @random_large
// CHECK: mask(#sattn.random<block = 1, per_row = 2, seed = 1>)
func.func @random_dynamic(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %o = sattn.attention %q, %k, %v mask(#sattn.random<block = 4, per_row = 2, seed = 1>)
      : (tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32>
  return %o : tensor<1x2x?x8xf32>
}
func.func @random_large(%q: tensor<1x1x1024x8xf32>, %k: tensor<1x1x1024x8xf32>, %v: tensor<1x1x1024x8xf32>) -> tensor<1x1x1024x8xf32> {
  %o = sattn.attention %q, %k, %v mask(#sattn.random<block = 1, per_row = 2, seed = 1>)
      : (tensor<1x1x1024x8xf32>, tensor<1x1x1024x8xf32>, tensor<1x1x1024x8xf32>) -> tensor<1x1x1024x8xf32>
  return %o : tensor<1x1x1024x8xf32>
}

// -----

// Lk = 2^24 with blocks of 1: a 2^48-cell layout is not built; bigbird stays.
// CHECK-LABEL: func.func @bigbird_huge
// CHECK: mask(#sattn.bigbird<block = 1, window = 3, global = 1, random = 1, seed = 3>)
func.func @bigbird_huge(%q: tensor<1x1x16777216x8xf32>, %k: tensor<1x1x16777216x8xf32>, %v: tensor<1x1x16777216x8xf32>) -> tensor<1x1x16777216x8xf32> {
  %o = sattn.attention %q, %k, %v mask(#sattn.bigbird<block = 1, window = 3, global = 1, random = 1, seed = 3>)
      : (tensor<1x1x16777216x8xf32>, tensor<1x1x16777216x8xf32>, tensor<1x1x16777216x8xf32>) -> tensor<1x1x16777216x8xf32>
  return %o : tensor<1x1x16777216x8xf32>
}
