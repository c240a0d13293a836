// Keys that no query row keeps never influence an output, whatever their K
// and V hold (docs/Semantics.md: unused or evicted KV-cache slots). NaN and
// Inf fill K and V of every key that no row keeps, including keys inside
// PARTIAL tiles; the outputs must match the float64 reference, which never
// reads them.
// REQUIRES: numpy
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/garbage_keys.py %t
// RUN: sattn-run %s --function=decode_window --input=@%t/q8.npy --input=@%t/k64.npy --input=@%t/v64.npy --check | FileCheck %s
// RUN: sattn-run %s --function=streaming --input=@%t/q8.npy --input=@%t/k64s.npy --input=@%t/v64s.npy --check | FileCheck %s
// RUN: sattn-run %s --function=bigbird --input=@%t/q64.npy --input=@%t/k64b.npy --input=@%t/v64b.npy --check | FileCheck %s
// RUN: sattn-run %s --function=decode_strided --input=@%t/q1.npy --input=@%t/k64d.npy --input=@%t/v64d.npy --check | FileCheck %s
// RUN: sattn-run %s --function=decode_strided_gqa --input=@%t/q4x1.npy --input=@%t/k64d.npy --input=@%t/v64d.npy --check | FileCheck %s
// CHECK: check result #0 (O): {{.*}} 0 NaN, 0 -inf mismatches: ok
// CHECK-NOT: FAILED

!q = tensor<1x2x8x16xf32>
!kv = tensor<1x2x64x16xf32>
// Rows at positions 56..63 keep keys 53..63: keys 0..52 hold garbage.
func.func @decode_window(%q: !q, %k: !kv, %v: !kv) -> !q {
  %o = sattn.attention %q, %k, %v mask(#sattn.window<left = 3, right = 0>) : (!q, !kv, !kv) -> !q
  return %o : !q
}

// Sinks 0..1 and the window: keys 2..52 hold garbage.
func.func @streaming(%q: !q, %k: !kv, %v: !kv) -> !q {
  %o = sattn.attention %q, %k, %v mask(#sattn.streaming<sink = 2, window = 4>) : (!q, !kv, !kv) -> !q
  return %o : !q
}

// Irregular: the garbage keys are the ones the mask drops for every row.
!b = tensor<1x2x64x16xf32>
func.func @bigbird(%q: !b, %k: !b, %v: !b) -> !b {
  %o = sattn.attention %q, %k, %v mask(#sattn.intersect<[#sattn.causal, #sattn.complement<#sattn.block_sparse<block = [64, 8], layout = dense<[[true, false, true, false, false, true, false, false]]> : tensor<1x8xi1>>>]>) : (!b, !b, !b) -> !b
  return %o : !b
}

// One query row in a 16-row tile: the padding rows past Lq (p >= Lk) would
// keep the garbage keys 0, 8, ...; they must not count as keeping them.
!q1 = tensor<1x2x1x16xf32>
func.func @decode_strided(%q: !q1, %k: !kv, %v: !kv) -> !q1 {
  %o = sattn.attention %q, %k, %v mask(#sattn.strided<stride = 8>) {sattn.tile = #sattn.tile<rows = 16, keys = 8>} : (!q1, !kv, !kv) -> !q1
  return %o : !q1
}

// The same with two query heads per key/value head packed into one tile.
!q4 = tensor<1x4x1x16xf32>
func.func @decode_strided_gqa(%q: !q4, %k: !kv, %v: !kv) -> !q4 {
  %o = sattn.attention %q, %k, %v mask(#sattn.strided<stride = 8>) : (!q4, !kv, !kv) -> !q4
  return %o : !q4
}
