// RUN: sattn-opt %s -split-input-file -convert-sattn-to-loops=vector-bits=256 -canonicalize -cse | FileCheck %s

!t = tensor<1x2x560x32xf32>

// Global token 0's row sees all 35 key tiles, the other query tiles 5 or
// fewer: query tile 0 (plan entries [0, 35)) runs as two parts, calls 5
// ([0, 18), slot 0) and 15 ([18, 35), slot 1) of 19, spread among the whole
// tiles (slot -1, zigzag order 17, 1, 16, ...); their normalized O and LSE go
// to rows slot * 32 of [1, 2, 64, 32] partial buffers, merged afterwards by
// LSE per (head, heavy tile).
// CHECK-DAG:   memref.global "private" constant @__sattn_tile_0_parts_calls : memref<76xi32> = dense<[17, 115, 118, -1, 1, 35, 40, -1, 16, 110, 115, -1, 2, 40, 45, -1, 15, 105, 110, -1, 0, 0, 18, 0, 3, 45, 50, -1, 14, 100, 105, -1, 4, 50, 55, -1, 13, 95, 100, -1, 5, 55, 60, -1, 12, 90, 95, -1, 6, 60, 65, -1, 11, 85, 90, -1, 7, 65, 70, -1, 0, 18, 35, 1, 10, 80, 85, -1, 8, 70, 75, -1, 9, 75, 80, -1]>
// CHECK-DAG:   memref.global "private" constant @__sattn_tile_0_parts_merges : memref<3xi32> = dense<[0, 0, 2]>
// CHECK-DAG:   memref.global "private" constant @__sattn_tile_0_plan_offsets : memref<19xi32> = dense<[0, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95, 100, 105, 110, 115, 118]>
// CHECK-LABEL: func.func @longformer
// CHECK-SAME:    sattn.cpu_kernels = [#sattn.cpu_kernel<tile = <rows = 32, keys = 16>, spaces = 1, packed_heads = 1, split_keys = true>]
// CHECK:         %[[O:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x560x32xf32>
// CHECK:         %[[PO:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x64x32xf32>
// CHECK:         %[[PL:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x64xf32>
// CHECK:         scf.parallel (%[[H:.*]], %[[CALL:.*]]) = (%c0, %c0) to (%c2, %c19)
// CHECK:           memref.get_global @__sattn_tile_0_parts_calls
// CHECK:           func.call @[[TILE:__sattn_tile_0]](
// CHECK:         scf.parallel (%[[H2:.*]]) = (%c0) to (%c2)
// CHECK:           memref.get_global @__sattn_tile_0_parts_merges
// CHECK:           func.call @[[TILE]]_merge(
// The tile walks the plan entries [begin, end) it is given, and writes a
// part's rows slot * 32 + r of the partial buffers, else O.
// CHECK:       func.func private @[[TILE]](%{{.*}}, %[[BEGIN:arg10]]: index, %[[END:arg11]]: index, %[[SLOT:arg12]]: index)
// CHECK:         scf.for %{{.*}} = %[[BEGIN]] to %[[END]] step %c1
// CHECK:         %[[PART:.*]] = arith.cmpi sge, %[[SLOT]], %c0 : index
// CHECK:         scf.if %[[PART]] {
// CHECK:           arith.muli %[[SLOT]], %c32 : index
// CHECK:           memref.store %{{.*}}, %arg9
// CHECK:         } else {
// CHECK:       func.func private @[[TILE]]_merge(
func.func @longformer(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.longformer<window = 8, global = [0]>) {sattn.tile = #sattn.tile<rows = 32, keys = 16>} : (!t, !t, !t) -> !t
  return %o : !t
}

// -----

!t = tensor<1x2x560x32xf32>

// Attention sinks (global columns, not rows) beside a window: every query
// tile sees 3 to 5 key tiles, none many more than the mean: no parts.
// CHECK-LABEL: func.func @no_heavy_tiles
// CHECK-SAME:    split_keys = false>]
// CHECK-NOT:     parts_calls
func.func @no_heavy_tiles(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.union<[#sattn.window<left = 8, right = 8>, #sattn.sink<tokens = 4>]>) {sattn.tile = #sattn.tile<rows = 32, keys = 16>} : (!t, !t, !t) -> !t
  return %o : !t
}

// -----

!t = tensor<1x1x4224x32xf32>

// 264 key tiles for the global row: ceil(264 / 32) = 9 parts, capped at 8
// (33 entries each), so the partial buffers stay 8 x 32 rows per heavy tile
// at any length.
// CHECK-DAG:   memref.global "private" constant @__sattn_tile_0_parts_merges : memref<3xi32> = dense<[0, 0, 8]>
// CHECK-LABEL: func.func @capped
// CHECK:         memref.alloc() {alignment = 64 : i64} : memref<1x1x256x32xf32>
func.func @capped(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.longformer<window = 8, global = [0]>) {sattn.tile = #sattn.tile<rows = 32, keys = 16>} : (!t, !t, !t) -> !t
  return %o : !t
}
