// RUN: sattn-opt %s -split-input-file -convert-sattn-to-loops=vector-bits=256 -canonicalize -cse | FileCheck %s

!t = tensor<1x2x100x32xf32>

// strided<8> is 8 dense problems: a parallel loop over (head, residue class
// r) (one query tile per class here), strided views of every 8th row (row
// stride 8 * 32) and a tile function whose iteration space is dense.
// CHECK-LABEL: func.func @strided
// CHECK:         scf.parallel (%[[H:.*]], %[[R:.*]]) = (%c0, %c0) to (%c2, %c8)
// CHECK:           memref.reinterpret_cast %{{.*}} to offset: [%{{.*}}], sizes: [1, 2, %{{.*}}, 32], strides: [6400, 3200, 256, 1]
// CHECK:           func.call @[[TILE:__sattn_tile_[0-9]+]](
// CHECK-NOT:     scf.parallel
// CHECK:       func.func private @[[TILE]]({{.*}}) attributes {sattn.iteration_space = {mask = #sattn.dense, shift = 0 : i64, stride = 8 : i64}}
// The last tile of a class may hold no row.
// CHECK:         scf.if
func.func @strided(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.strided<stride = 8>) : (!t, !t, !t) -> !t
  return %o : !t
}

// -----

!t = tensor<1x2x100x32xf32>

// dilated<L, R, d>: a window<L, R> on every d-th row and key.
// CHECK-LABEL: func.func @dilated
// CHECK:       func.func private @{{.*}}attributes {sattn.iteration_space = {mask = #sattn.window<left = 3, right = 1>, shift = 0 : i64, stride = 5 : i64}}
func.func @dilated(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.dilated<left = 3, right = 1, dilation = 5>) : (!t, !t, !t) -> !t
  return %o : !t
}

// -----

!t = tensor<1x2x100x32xf32>
!l = tensor<1x2x100xf32>

// causal & strided<4>: causal on every 4th row and key; its LSE is the op's.
// CHECK-LABEL: func.func @causal_strided
// CHECK:         %[[LSE:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x100xf32>
// CHECK:         memref.reinterpret_cast %[[LSE]] to offset: [%{{.*}}], sizes: [1, 2, %{{.*}}], strides: [200, 100, 4]
// CHECK:       func.func private @{{.*}}attributes {sattn.iteration_space = {mask = #sattn.causal, shift = 0 : i64, stride = 4 : i64}}
func.func @causal_strided(%q: !t, %k: !t, %v: !t) -> (!t, !l) {
  %o, %lse = sattn.attention %q, %k, %v mask(#sattn.intersect<[#sattn.causal, #sattn.strided<stride = 4>]>) : (!t, !t, !t) -> (!t, !l)
  return %o, %lse : !t, !l
}

// -----

!t = tensor<1x2x100x32xf32>

// sparse_transformer<16> = causal & (window<15, 0> | strided<16>): the
// window in place (stride 1), then the strided keys outside it, k' <= p' - 1
// in residue positions (causal, shift -1). The second space resumes each
// row's softmax from the O and LSE the first wrote (a scratch LSE: the op
// returns none): m = LSE log2(e), l = 1, Oacc = O.
// CHECK-LABEL: func.func @sparse_transformer
// CHECK-SAME:    sattn.cpu_kernels = [#sattn.cpu_kernel<tile = <rows = 32, keys = 64>, spaces = 2, packed_heads = 1, split_keys = false>]
// CHECK:         %[[O:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x100x32xf32>
// CHECK:         %[[LSE:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x100xf32>
// CHECK:         scf.parallel
// CHECK:           func.call @[[WINDOW:__sattn_tile_[0-9]+]](
// CHECK:         scf.parallel
// CHECK:           func.call @[[STRIDED:__sattn_tile_[0-9]+]](
// CHECK:       func.func private @[[WINDOW]]({{.*}}) attributes {sattn.iteration_space = {mask = #sattn.window<left = 15, right = 0>, shift = 0 : i64, stride = 1 : i64}}
// CHECK:       func.func private @[[STRIDED]]({{.*}}) attributes {sattn.iteration_space = {mask = #sattn.causal, shift = -1 : i64, stride = 16 : i64}}
// CHECK:         vector.load %arg3
// CHECK:         memref.load %arg4
// CHECK:         arith.mulf %{{.*}}, %cst{{.*}} : f32
func.func @sparse_transformer(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.intersect<[#sattn.causal, #sattn.union<[#sattn.window<left = 15, right = 0>, #sattn.strided<stride = 16>]>]>) : (!t, !t, !t) -> !t
  return %o : !t
}

// -----

!t = tensor<1x2x100x32xf32>

// ALiBi's |p - k| is not a function of residue positions: one space, the
// mask as it is.
// CHECK-LABEL: func.func @alibi
// CHECK-NOT:     sattn.iteration_space
func.func @alibi(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.strided<stride = 8>) alibi_slopes([0.5, 0.25]) : (!t, !t, !t) -> !t
  return %o : !t
}

// -----

!t = tensor<1x2x100x32xf32>

// Bands of two different steps are not split.
// CHECK-LABEL: func.func @two_strides
// CHECK-NOT:     sattn.iteration_space
func.func @two_strides(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.union<[#sattn.strided<stride = 3>, #sattn.strided<stride = 4>]>) : (!t, !t, !t) -> !t
  return %o : !t
}
