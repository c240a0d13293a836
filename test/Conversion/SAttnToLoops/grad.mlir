// RUN: sattn-opt %s -split-input-file -convert-sattn-to-loops=vector-bits=256 -canonicalize -cse | FileCheck %s

!q = tensor<1x4x100x16xf32>
!k = tensor<1x2x100x16xf32>
!l = tensor<1x4x100xf32>

// The backward: Delta and zeroed dQ partial sums per (b, query head), then
// (b, KV head, split) tasks over the key tiles, then dQ = the sum of the
// splits' partial sums per (b, query head). The splits come from the thread
// count; with one split an f32 dQ accumulates in place (no partial rows, no
// finish pass).
// CHECK-LABEL: func.func @window
// CHECK:         %[[DQ:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x4x100x16xf32>
// CHECK:         %[[DK:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x100x16xf32>
// CHECK:         %[[DV:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x100x16xf32>
// CHECK:         %[[DQC:.*]] = memref.cast %[[DQ]]
// CHECK:         call @omp_get_max_threads()
// CHECK:         %[[S:.*]] = arith.maxsi
// CHECK:         %[[DELTA:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x4x100xf32>
// CHECK:         %[[ONE:.*]] = arith.cmpi eq, %[[S]], %c1
// CHECK:         %[[ROWS:.*]] = arith.select %[[ONE]], %c0, %[[S]]
// CHECK:         %[[PART:.*]] = memref.alloc(%[[ROWS]]) {alignment = 64 : i64} : memref<?x4x100x16xf32>
// CHECK:         %[[PARTC:.*]] = memref.cast %[[PART]]
// CHECK:         %[[ACC:.*]] = arith.select %[[ONE]], %[[DQC]], %[[PARTC]]
// CHECK:         scf.parallel (%{{.*}}) = (%c0) to (%c4)
// CHECK:           func.call @__sattn_grad_0_prep({{.*}}, %[[ACC]],
// CHECK:         scf.parallel (%{{.*}}, %{{.*}}) = (%c0, %c0) to (%c2, %[[S]])
// CHECK:           func.call @__sattn_grad_0({{.*}}, %[[ACC]],
// CHECK:         scf.if
// CHECK:           scf.parallel (%{{.*}}) = (%c0) to (%c4)
// CHECK:             func.call @__sattn_grad_0_dq(%[[ACC]], %[[DQC]],
// CHECK:         bufferization.to_tensor %[[DQ]] restrict writable
// CHECK:         bufferization.to_tensor %[[DK]] restrict writable
// CHECK:         bufferization.to_tensor %[[DV]] restrict writable
// The key tiles of split s: s, s + S, ...; a band's query tiles come from
// its closed-form query range (no table).
// CHECK-LABEL: func.func private @__sattn_grad_0(
// CHECK-NOT:     memref.get_global
// Scratch: Kt, Vt [D][Bc]; P, dS [Br][Bc]; dK, dV [Bc][D]; used keys, LSE and
// Delta of the rows.
// CHECK-DAG:     memref.alloca() {alignment = 64 : i64} : memref<16x32xf32>
// CHECK-DAG:     memref.alloca() {alignment = 64 : i64} : memref<32x32xf32>
// CHECK-DAG:     memref.alloca() {alignment = 64 : i64} : memref<32x16xf32>
// CHECK-DAG:     memref.alloca() {alignment = 64 : i64} : memref<32xf32>
// CHECK:         scf.for %[[KT:.*]] = %arg11 to %{{.*}} step %arg12
// The window's P predicate appears only in the PARTIAL branch.
// CHECK:         scf.if
// CHECK:         } else {
// CHECK:           arith.cmpi sle
func.func @window(%q: !q, %k: !k, %v: !k, %o: !q, %do: !q, %lse: !l) -> (!q, !k, !k) {
  %dq, %dk, %dv = sattn.attention_grad %q, %k, %v, %o, %do, %lse mask(#sattn.window<left = 20, right = 0>)
      : (!q, !k, !k, !q, !q, !l) -> (!q, !k, !k)
  return %dq, %dk, %dv : !q, !k, !k
}

// -----

!q = tensor<1x4x100x16xf32>
!k = tensor<1x2x100x16xf32>
!l = tensor<1x4x100xf32>

// Static lengths and a mask with no closed-form query range: the tile plan
// transposed at compile time, each key tile's query tiles (qt * 2 + full).
// Global token 3 lies in key tile 0, which every query tile keeps; the
// other key tiles meet only query tile 0, which holds row 3.
// CHECK: memref.global "private" constant @__sattn_grad_0_plan_offsets : memref<5xi32> = dense<[0, 4, 5, 6, 7]>
// CHECK: memref.global "private" constant @__sattn_grad_0_plan_tiles : memref<7xi32> = dense<[0, 2, 4, 6, 0, 0, 0]>
// CHECK-LABEL: func.func private @__sattn_grad_0(
// CHECK:         memref.get_global @__sattn_grad_0_plan_offsets
func.func @global(%q: !q, %k: !k, %v: !k, %o: !q, %do: !q, %lse: !l) -> (!q, !k, !k) {
  %dq, %dk, %dv = sattn.attention_grad %q, %k, %v, %o, %do, %lse mask(#sattn.global<tokens = [3]>)
      : (!q, !k, !k, !q, !q, !l) -> (!q, !k, !k)
  return %dq, %dk, %dv : !q, !k, !k
}

// -----

!q = tensor<1x2x100x16xf32>
!l = tensor<1x2x100xf32>

// The forward's iteration spaces (iteration-spaces.mlir), whose gradients
// add up: after Delta, the window on every row and key, then the strided
// keys outside it on the views of each residue class r; the second space's
// dK and dV add to the first's.
// CHECK-LABEL: func.func @sparse_transformer
// CHECK-SAME:    sattn.cpu_kernels = [#sattn.cpu_kernel<tile = <rows = 32, keys = 32>, spaces = 2, packed_heads = 1, split_keys = false>]
// CHECK:         func.call @[[PREP:__sattn_grad_[0-9]+_prep]](
// CHECK:         scf.parallel (%{{.*}}, %{{.*}}) = (%c0, %c0) to (%c2, %{{.*}})
// CHECK:           func.call @[[WINDOW:__sattn_grad_[0-9]+_space0]](
// CHECK:         scf.parallel (%{{.*}}, %[[R:.*]], %{{.*}}) = (%c0, %c0, %c0) to (%c2, %c16, %{{.*}})
// CHECK:           memref.reinterpret_cast %{{.*}} to offset: [%{{.*}}], sizes: [1, 2, %{{.*}}, 16], strides: [3200, 1600, 256, 1]
// CHECK:           func.call @[[STRIDED:__sattn_grad_[0-9]+_space1]](
// CHECK:       func.func private @[[WINDOW]]({{.*}}) attributes {sattn.iteration_space = {mask = #sattn.window<left = 15, right = 0>, shift = 0 : i64, stride = 1 : i64}}
// CHECK-NOT:     arith.addf %{{.*}}, %{{.*}} : vector<8xf32>
// CHECK:       func.func private @[[STRIDED]]({{.*}}) attributes {sattn.iteration_space = {mask = #sattn.causal, shift = -1 : i64, stride = 16 : i64}}
// CHECK:         %[[DK:.*]] = vector.load %arg7
// CHECK:         arith.addf %{{.*}}, %[[DK]] : vector<8xf32>
func.func @sparse_transformer(%q: !q, %k: !q, %v: !q, %o: !q, %do: !q, %lse: !l) -> (!q, !q, !q) {
  %dq, %dk, %dv = sattn.attention_grad %q, %k, %v, %o, %do, %lse mask(#sattn.intersect<[#sattn.causal, #sattn.union<[#sattn.window<left = 15, right = 0>, #sattn.strided<stride = 16>]>]>)
      : (!q, !q, !q, !q, !q, !l) -> (!q, !q, !q)
  return %dq, %dk, %dv : !q, !q, !q
}
