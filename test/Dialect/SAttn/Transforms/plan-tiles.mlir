// RUN: sattn-opt %s -split-input-file -sattn-plan-tiles=print-stats -verify-diagnostics | FileCheck %s
// RUN: sattn-opt %s -split-input-file -sattn-plan-tiles="q-tile=16 k-tile=32" | FileCheck %s --check-prefix=GIVEN
// RUN: not sattn-opt %s -sattn-plan-tiles=q-tile=-32 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// RUN: not sattn-opt %s -sattn-plan-tiles=k-tile=5000 2>&1 | FileCheck %s --check-prefix=HUGE
// NEGATIVE: error: -sattn-plan-tiles: q-tile must be 0 (the planner's choice) or in [1, 1024], got -32
// HUGE: error: -sattn-plan-tiles: k-tile must be 0 (the planner's choice) or in [1, 1024], got 5000

// Causal (a band: Bc = 32), 256 x 256, tiles 32 x 32: 8 x 8 tiles, of which
// 28 lie above the diagonal (EMPTY), 28 below (FULL) and 8 on it (PARTIAL).
// CHECK-LABEL: func.func @causal
// CHECK: sattn.attention {{.*}} {sattn.tile = #sattn.tile<rows = 32, keys = 32>}
// GIVEN: {sattn.tile = #sattn.tile<rows = 16, keys = 32>}
func.func @causal(%q: tensor<2x4x256x64xf32>, %k: tensor<2x4x256x64xf32>, %v: tensor<2x4x256x64xf32>) -> tensor<2x4x256x64xf32> {
  // expected-remark @+1 {{tile plan 32x32: 28 empty, 28 full, 8 partial tiles; density 0.501953; useful GFLOP 0.067371}}
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) : (tensor<2x4x256x64xf32>, tensor<2x4x256x64xf32>, tensor<2x4x256x64xf32>) -> tensor<2x4x256x64xf32>
  return %o : tensor<2x4x256x64xf32>
}

// -----

// Blocks of 16 keys: the key tile shrinks to 16 so that no tile is PARTIAL.
// CHECK-LABEL: func.func @blocks
// CHECK: {sattn.tile = #sattn.tile<rows = 16, keys = 16>}
func.func @blocks(%q: tensor<1x1x64x16xf32>, %k: tensor<1x1x64x16xf32>, %v: tensor<1x1x64x16xf32>) -> tensor<1x1x64x16xf32> {
  // expected-remark @+1 {{tile plan 16x16: 12 empty, 4 full, 0 partial tiles; density 0.250000}}
  %o = sattn.attention %q, %k, %v mask(#sattn.block_sparse<block = [16, 16], layout = dense<[[true, false, false, false], [false, true, false, false], [false, false, true, false], [false, false, false, true]]> : tensor<4x4xi1>>) : (tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32>) -> tensor<1x1x64x16xf32>
  return %o : tensor<1x1x64x16xf32>
}

// -----

// A plan written in the spec is kept.
// CHECK-LABEL: func.func @given
// CHECK: {sattn.tile = #sattn.tile<rows = 48, keys = 24>}
func.func @given(%q: tensor<1x1x?x16xf32>, %k: tensor<1x1x?x16xf32>, %v: tensor<1x1x?x16xf32>) -> tensor<1x1x?x16xf32> {
  // expected-remark @+1 {{tile plan 48x24: dynamic shape, classes chosen at run time}}
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) {sattn.tile = #sattn.tile<rows = 48, keys = 24>} : (tensor<1x1x?x16xf32>, tensor<1x1x?x16xf32>, tensor<1x1x?x16xf32>) -> tensor<1x1x?x16xf32>
  return %o : tensor<1x1x?x16xf32>
}

// -----

// sparse_transformer: the CPU kernel tiles its iteration spaces, the window
// and the strided keys outside it (bands in residue positions: Bc = 32).
// CHECK-LABEL: func.func @sparse_transformer
// CHECK: {sattn.tile = #sattn.tile<rows = 32, keys = 32>}
func.func @sparse_transformer(%q: tensor<1x1x256x16xf32>, %k: tensor<1x1x256x16xf32>, %v: tensor<1x1x256x16xf32>) -> tensor<1x1x256x16xf32> {
  // expected-remark @+2 {{iteration spaces: {stride 1, shift 0, #sattn.window<left = 15, right = 0>} {stride 16, shift -1, #sattn.causal}}
  // expected-remark @+1 {{tile plan 32x32: 28 empty, 0 full, 36 partial tiles}}
  %o = sattn.attention %q, %k, %v mask(#sattn.intersect<[#sattn.causal, #sattn.union<[#sattn.window<left = 15, right = 0>, #sattn.strided<stride = 16>]>]>) : (tensor<1x1x256x16xf32>, tensor<1x1x256x16xf32>, tensor<1x1x256x16xf32>) -> tensor<1x1x256x16xf32>
  return %o : tensor<1x1x256x16xf32>
}

// -----

// strided<s>: s dense problems (Bc = 64).
// CHECK-LABEL: func.func @strided
// CHECK: {sattn.tile = #sattn.tile<rows = 32, keys = 64>}
func.func @strided(%q: tensor<1x1x256x16xf32>, %k: tensor<1x1x256x16xf32>, %v: tensor<1x1x256x16xf32>) -> tensor<1x1x256x16xf32> {
  // expected-remark @+2 {{iteration spaces: {stride 8, shift 0, #sattn.dense}}
  // expected-remark @+1 {{tile plan 32x64}}
  %o = sattn.attention %q, %k, %v mask(#sattn.strided<stride = 8>) : (tensor<1x1x256x16xf32>, tensor<1x1x256x16xf32>, tensor<1x1x256x16xf32>) -> tensor<1x1x256x16xf32>
  return %o : tensor<1x1x256x16xf32>
}
