// RUN: sattn-opt %s -split-input-file -convert-sattn-to-loops=vector-bits=256 -canonicalize -cse | FileCheck %s
// RUN: sattn-opt %s -split-input-file -convert-sattn-to-loops=vector-bits=512 -canonicalize -cse | FileCheck %s --check-prefix=AVX512
// Two runs give the same IR.
// RUN: sattn-opt %s -split-input-file -convert-sattn-to-loops > %t.1 && sattn-opt %s -split-input-file -convert-sattn-to-loops > %t.2 && diff %t.1 %t.2

!t = tensor<1x2x100x32xf32>

// One parallel loop over (batch, head, query tile), one call per tile; a
// dense mask has no EMPTY test and no predicate at all.
// CHECK-LABEL: func.func @dense
// The host function says what its kernels are (#sattn.cpu_kernel).
// CHECK-SAME:    sattn.cpu_kernels = [#sattn.cpu_kernel<tile = <rows = 32, keys = 64>, spaces = 1, packed_heads = 1, split_keys = false>]
// CHECK:         %[[Q:.*]] = bufferization.to_buffer %{{.*}} read_only
// CHECK:         %[[O:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x100x32xf32>
// CHECK:         scf.parallel (%[[H:.*]], %[[QT:.*]]) = (%c0, %c0) to (%c2, %c4)
// CHECK:           func.call @[[TILE:__sattn_tile_[0-9]+]](
// CHECK:         bufferization.to_tensor %[[O]] restrict writable
// CHECK-LABEL: func.func private @__sattn_tile_0(
// CHECK-SAME:      %{{.*}}: memref<?x?x?x32xf32>, %{{.*}}: memref<?x?x?x32xf32>, %{{.*}}: memref<?x?x?x32xf32>, %{{.*}}: memref<?x?x?x32xf32>, %{{.*}}: memref<?x?x?xf32>, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index)
// Scratch: Qt [D][Br], S [Bc][Br], Oacc [Br][Dv], (alpha, m, l) [3][Br].
// CHECK-DAG:     memref.alloca() {alignment = 64 : i64} : memref<32x32xf32>
// CHECK-DAG:     memref.alloca() {alignment = 64 : i64} : memref<66x32xf32>
// CHECK-DAG:     memref.alloca() {alignment = 64 : i64} : memref<3x32xf32>
// The key-tile loop carries m and l (4 + 4 vectors of 8 lanes).
// CHECK:         scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK-NOT:       scf.if
// CHECK-NOT:       arith.cmpi {{.*}} : vector<8xi64>
// CHECK:           vector.fma
// CHECK:           math.roundeven
// CHECK:         return
// AVX512-LABEL: func.func private @__sattn_tile_0(
// AVX512:         scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
func.func @dense(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.dense) : (!t, !t, !t) -> !t
  return %o : !t
}

// -----

!t = tensor<1x2x100x32xf32>

// A band: the key tiles come from the closed-form key range; EMPTY tiles are
// skipped by an scf.if, and the predicate runs only when the tile is not FULL.
// CHECK-LABEL: func.func private @__sattn_tile_0(
// CHECK:         %[[LO:.*]] = arith.floordivsi %{{.*}}, %c64_i64 : i64
// CHECK:         %[[HI:.*]] = arith.ceildivsi %{{.*}}, %c64_i64 : i64
// CHECK:         scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c1 iter_args(
// CHECK:           %[[EMPTY:.*]] = arith.cmpi slt, %{{.*}}, %{{.*}} : i64
// CHECK:           scf.if %[[EMPTY]] -> (vector<8xf32>
// CHECK:           } else {
// CHECK:             vector.fma
// CHECK:             scf.if %{{.*}} {
// CHECK:               arith.cmpi sle, %{{.*}}, %{{.*}} : vector<8xi64>
// CHECK:               arith.select %{{.*}}, %{{.*}}, %{{.*}} : vector<8xi1>, vector<8xf32>
func.func @window(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.window<left = 16, right = 0>) : (!t, !t, !t) -> !t
  return %o : !t
}

// -----

!t = tensor<1x1x128x16xf32>

// Static shapes and an irregular mask: the tile plan is a compile-time CSR
// list (4 query tiles, one PARTIAL key tile each, the other EMPTY one left
// out: entries kt * 2 + isFull); the block layout is a constant table read
// only by the predicate, named after a hash of its cells (the same in every
// run, so compiled objects are reproducible).
// CHECK-DAG: memref.global "private" constant @__sattn_tile_0_plan_offsets : memref<5xi32> = dense<[0, 1, 2, 3, 4]>
// CHECK-DAG: memref.global "private" constant @__sattn_tile_0_plan_tiles : memref<4xi32> = dense<[0, 0, 2, 2]>
// CHECK-DAG: memref.global "private" constant @__sattn_layout_4272024EC757B538 : memref<16xi32> = dense<[1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]> {alignment = 64 : i64}
// CHECK-LABEL: func.func private @__sattn_tile_0(
// CHECK:         %[[OFF:.*]] = memref.get_global @__sattn_tile_0_plan_offsets
// CHECK:         %[[TILES:.*]] = memref.get_global @__sattn_tile_0_plan_tiles
// CHECK:         scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %c1
// CHECK:           memref.load %[[TILES]][%[[I]]] : memref<4xi32>
// CHECK:           memref.get_global @__sattn_layout_
// CHECK:           vector.gather
func.func @block_sparse(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.block_sparse<block = [32, 32], layout = dense<[[true, false, false, false], [false, true, false, false], [false, false, true, false], [false, false, false, true]]> : tensor<4x4xi1>>) : (!t, !t, !t) -> !t
  return %o : !t
}

// -----

!t = tensor<1x1x128x16xf32>

// A plan with no EMPTY tile to skip gets no table: tiles are classified at
// run time.
// CHECK-LABEL: func.func @strided
// CHECK-NOT:   memref.global
// CHECK-LABEL: func.func private @__sattn_tile_0(
// CHECK-NOT:     memref.get_global @__sattn_tile_0_plan
// CHECK:         return
func.func @strided(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.strided<stride = 8>) : (!t, !t, !t) -> !t
  return %o : !t
}

// -----

// Classifying every tile at compile time would test 2^21 tiles x about 2000
// block cells x 2 draws: beyond kMaxTilePlanWork, so no table (and no
// minutes of compiling); tiles are classified at run time.
!big = tensor<1x1x65536x16xf32>
// CHECK-LABEL: func.func @costly_plan
// CHECK-NOT:   memref.global
// CHECK-LABEL: func.func private @__sattn_tile_0(
// CHECK-NOT:     memref.get_global @__sattn_tile_0_plan
// A draw's h mod nkb is h - mulhi(h, m) nkb, less nkb once if that is still
// >= nkb, with m = (2^64 - 1) / nkb divided once before the draws.
// CHECK:         %[[M:.*]] = arith.divui %c-1_i64, %[[NKB:.*]] : i64
// CHECK:         scf.while
// CHECK-NOT:     arith.remui
// CHECK:         %{{.*}}, %[[Q:.*]] = arith.mului_extended %{{.*}}, %[[M]] : i64
// CHECK:         arith.muli %[[Q]], %[[NKB]] : i64
// CHECK:         arith.cmpi uge, %{{.*}}, %[[NKB]] : i64
// CHECK:         return
func.func @costly_plan(%q: !big, %k: !big, %v: !big) -> !big {
  %o = sattn.attention %q, %k, %v mask(#sattn.random<block = 1, per_row = 2, seed = 0>) : (!big, !big, !big) -> !big
  return %o : !big
}

// -----

// Decode with GQA (Hq = 32, Hkv = 8, Lq = 1): the 4 query heads of a
// key/value head share one tile of 8 rows (one AVX2 vector), so each K/V
// tile is read once per group. Flash-decoding: the mask's key range for the
// decode rows is cut into splits (multiples of 256 keys, enough for 4 tasks
// per OpenMP thread), the parallel loop runs over (B, split, Hkv) into f32
// partial results, then one over (B, Hq) merges the splits by their LSE.
!dq = tensor<1x32x1x128xf32>
!dkv = tensor<1x8x?x128xf32>
// CHECK-LABEL: func.func @decode_gqa
// CHECK-SAME:    sattn.cpu_kernels = [#sattn.cpu_kernel<tile = <rows = 8, keys = 64>, spaces = 1, packed_heads = 4, split_keys = true>]
// CHECK-DAG:     %[[C8:.*]] = arith.constant 8 : index
// CHECK:         call @omp_get_max_threads()
// CHECK:         %[[PER:.*]] = arith.muli %{{.*}}, %c256 : index
// CHECK:         memref.alloc(%[[S:.*]]) {alignment = 64 : i64} : memref<?x32x1x128xf32>
// CHECK:         memref.alloc(%[[S]]) {alignment = 64 : i64} : memref<?x32x1xf32>
// CHECK:         scf.parallel (%[[SPLIT:.*]], %[[G:.*]]) = (%c0, %c0) to (%[[S]], %[[C8]]) step (%c1, %c1)
// CHECK:           arith.muli %[[SPLIT]], %[[PER]] : index
// CHECK:           func.call @__sattn_tile_0({{.*}}, %c0, %[[G]], %c0, %[[SPLIT]], %[[S]], %{{.*}}, %{{.*}})
// CHECK:         scf.parallel (%[[H:.*]]) = (%c0) to (%c32) step (%c1)
// CHECK:           func.call @__sattn_tile_0_merge({{.*}}, %c0, %[[H]], %[[S]])
// CHECK-LABEL: func.func private @__sattn_tile_0(
// CHECK-SAME:      %{{[a-z0-9]+}}: index, %[[KVHEAD:[a-z0-9]+]]: index, %{{[a-z0-9]+}}: index, %{{[a-z0-9]+}}: index, %{{[a-z0-9]+}}: index, %{{[a-z0-9]+}}: index, %{{[a-z0-9]+}}: index) {
// 8 rows: the 4 query heads of the group, padded to one vector; the scaled
// queries are kept as rows for the dot-product scores, only the 4 used ones
// (the padding rows are never read).
// CHECK:         %[[QROWS:.*]] = memref.alloca() {alignment = 64 : i64} : memref<4x128xf32>
// Query row j of the tile: head kvHead * 4 + j.
// CHECK:         scf.for %{{.*}} = %c0 to %c4 step %c1 {
// CHECK:         arith.muli %[[KVHEAD]], %c4 : index
// CHECK:         memref.store {{.*}}, %[[QROWS]]
// Scores: whole vectors of K rows times Q rows (2 keys x 4 rows: one
// accumulator per lane), then all 8 horizontal sums at once: shuffles and
// adds of 128-bit halves, then within 128-bit lanes, leaving key j's 4 rows
// in lanes 4 j ... 4 j + 3: stored as they are, one compact score vector per
// 2 keys (st is [Bc / 2, 8]). Each key prefetches the K row one tile (64 keys)
// ahead into L2, each of its eight 64-byte lines; P V prefetches the V rows.
// CHECK:         %[[AHEAD:.*]] = arith.addi %{{.*}}, %c64 : index
// CHECK:         %[[ROW:.*]] = arith.minsi %[[AHEAD]], %{{.*}} : index
// CHECK:         memref.prefetch %arg1[%{{.*}}, %[[KVHEAD]], %[[ROW]], %c0], read, locality<2>, data
// CHECK-COUNT-7: memref.prefetch %arg1
// CHECK-NOT:     memref.prefetch %arg2
// CHECK:         %[[ACC:.*]]:8 = scf.for
// CHECK:           vector.load %arg1{{.*}} : memref<?x?x?x128xf32>, vector<8xf32>
// CHECK:           vector.fma
// CHECK:         %[[LO:.*]] = vector.shuffle %[[ACC]]#0, %[[ACC]]#4 [0, 1, 2, 3, 8, 9, 10, 11]
// CHECK:         %[[HI:.*]] = vector.shuffle %[[ACC]]#0, %[[ACC]]#4 [4, 5, 6, 7, 12, 13, 14, 15]
// CHECK:         arith.addf %[[LO]], %[[HI]] : vector<8xf32>
// CHECK-COUNT-3: vector.shuffle {{.*}} [0, 1, 2, 3, 8, 9, 10, 11]
// CHECK:         vector.shuffle {{.*}} [0, 1, 8, 9, 4, 5, 12, 13]
// CHECK:         vector.shuffle {{.*}} [0, 1, 8, 9, 4, 5, 12, 13]
// CHECK:         vector.shuffle {{.*}} [0, 2, 8, 10, 4, 6, 12, 14]
// CHECK:         %[[SUMS:.*]] = arith.addf
// CHECK-NEXT:    %[[VEC:.*]] = arith.divui %{{.*}}, %c2 : index
// CHECK-NEXT:    vector.store %[[SUMS]], %{{.*}}[%[[VEC]], %c0] : memref<32x8xf32>, vector<8xf32>
// The softmax over the compact vectors: the lanes of keys past the tile's
// end are -inf; a row's max and sum over its lanes j * 4 + r by one rotation
// by 4 lanes (the row's result in both of its lanes).
// CHECK:         scf.if
// CHECK:           arith.cmpi slt
// CHECK:           arith.select
// CHECK:         %[[MX:.*]] = scf.for
// CHECK:         %[[MXROT:.*]] = vector.shuffle %[[MX]], %[[MX]] [4, 5, 6, 7, 0, 1, 2, 3]
// CHECK:         arith.maxnumf %[[MX]], %[[MXROT]]
// CHECK:         %[[RS:.*]] = scf.for
// CHECK:           vector.load %{{.*}}[%{{.*}}, %c0] : memref<32x8xf32>, vector<8xf32>
// CHECK:           math.roundeven
// CHECK:         %[[RSROT:.*]] = vector.shuffle %[[RS]], %[[RS]] [4, 5, 6, 7, 0, 1, 2, 3]
// CHECK:         arith.addf %[[RS]], %[[RSROT]]
// P V, key by key: the V row of the key one tile ahead.
// CHECK:         scf.for %[[C:.*]] = %c0 to %{{.*}} step %c1 iter_args(
// CHECK:           %[[VAHEAD:.*]] = arith.addi %{{.*}}, %c64 : index
// CHECK:           %[[VROW:.*]] = arith.minsi %[[VAHEAD]], %{{.*}} : index
// CHECK:           memref.prefetch %arg2[%{{.*}}, %[[KVHEAD]], %[[VROW]], %c0], read, locality<2>, data
// CHECK-COUNT-7:   memref.prefetch %arg2
// CHECK:           vector.fma
// The merge: m = max_s LSE_s, O = sum_s exp(LSE_s - m) O_s / sum_s exp(..).
// CHECK-LABEL: func.func private @__sattn_tile_0_merge(
// CHECK:         arith.maximumf
// CHECK:         math.exp
// CHECK:         vector.fma
func.func @decode_gqa(%q: !dq, %k: !dkv, %v: !dkv) -> !dq {
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) : (!dq, !dkv, !dkv) -> !dq
  return %o : !dq
}

// -----

// LSE, f16, dynamic lengths: result buffers take the query's sizes.
// CHECK-LABEL: func.func @dynamic_lse
// CHECK:         %[[L:.*]] = tensor.dim %{{.*}}, %c2 : tensor<?x?x?x16xf16>
// CHECK:         memref.alloc(%{{.*}}, %{{.*}}, %[[L]]) {alignment = 64 : i64} : memref<?x?x?x16xf16>
// CHECK:         memref.alloc(%{{.*}}, %{{.*}}, %[[L]]) {alignment = 64 : i64} : memref<?x?x?xf32>
// CHECK-LABEL: func.func private @__sattn_tile_0(
// CHECK:         arith.extf %{{.*}} : f16 to f32
// CHECK:         math.log
func.func @dynamic_lse(%q: tensor<?x?x?x16xf16>, %k: tensor<?x?x?x16xf16>, %v: tensor<?x?x?x16xf16>) -> (tensor<?x?x?x16xf16>, tensor<?x?x?xf32>) {
  %o, %l = sattn.attention %q, %k, %v mask(#sattn.causal) : (tensor<?x?x?x16xf16>, tensor<?x?x?x16xf16>, tensor<?x?x?x16xf16>) -> (tensor<?x?x?x16xf16>, tensor<?x?x?xf32>)
  return %o, %l : tensor<?x?x?x16xf16>, tensor<?x?x?xf32>
}

// -----

// Score modifiers on every non-EMPTY tile, before the PARTIAL-tile mask: the
// slope of each tile row's head (base 2: 0.5 * log2(e)), then per key
// t = C tanh(t / C) (C = 2 log2(e); a rational tanh on t clamped to +-7.9)
// and t -= slope |p - k|.
// CHECK-LABEL: func.func private @__sattn_tile_0(
// CHECK-DAG:     arith.constant 0.72134751 : f32
// CHECK-DAG:     arith.constant dense<2.885390e+00> : vector<8xf32>
// CHECK-DAG:     arith.constant dense<7.90531111> : vector<8xf32>
// CHECK:         scf.for
// CHECK:           arith.cmpi eq, %{{.*}}, %c1 : index
// CHECK:           arith.select
// CHECK:           memref.store
// CHECK:         scf.for
// CHECK:           scf.for
// CHECK:             arith.sitofp %{{.*}} : i64 to f32
// CHECK:             arith.cmpf ule
// CHECK:             arith.divf {{.*}} : vector<8xf32>
// CHECK:             arith.mulf {{.*}} : vector<8xf32>
// CHECK:             arith.subf {{.*}} : vector<8xf32>
// CHECK:             arith.cmpf olt
// CHECK:             arith.negf
// CHECK:           scf.if
// CHECK:             arith.cmpi sle
func.func @modifiers(%q: tensor<1x2x40x32xf32>, %k: tensor<1x1x40x32xf32>, %v: tensor<1x1x40x32xf32>) -> tensor<1x2x40x32xf32> {
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) softcap(2.0) alibi_slopes([0.5, 0.25])
      : (tensor<1x2x40x32xf32>, tensor<1x1x40x32xf32>, tensor<1x1x40x32xf32>) -> tensor<1x2x40x32xf32>
  return %o : tensor<1x2x40x32xf32>
}

// -----

// sattn.paged_attention: the tile function also takes the block table and
// seq_lens; Lk of batch b is seq_lens[b] clamped to [0, M * page] (0 without
// pages). Each key tile first finds the cache row of each of its keys,
// (block_table[b, key / 16] (0 when out of range) * 16 + key mod 16) * Hkv +
// kvHead, one table entry per page, then reads K and V in place through
// [rows, D] views of the caches: no gather copy.
// CHECK-LABEL: func.func @paged
// CHECK:         %[[T:.*]] = bufferization.to_buffer %{{.*}} read_only : tensor<?x?xi32> to memref<?x?xi32>
// CHECK:         %[[N:.*]] = bufferization.to_buffer %{{.*}} read_only : tensor<?xi32> to memref<?xi32>
// CHECK:         scf.parallel
// CHECK:           func.call @__sattn_tile_0({{.*}}, %[[T]], %[[N]])
// CHECK-LABEL: func.func private @__sattn_tile_0(
// CHECK-SAME:      %[[BATCH:[a-z0-9]+]]: index, %{{.*}}: index, %{{.*}}: index, %[[TABLE:.*]]: memref<?x?xi32>, %[[LENS:.*]]: memref<?xi32>)
// CHECK:         %[[P:.*]] = memref.dim %arg1, %c0
// CHECK:         %[[M:.*]] = memref.dim %[[TABLE]], %c1
// CHECK:         arith.muli %[[M]], %c16
// CHECK:         memref.load %[[LENS]][%[[BATCH]]]
// CHECK:         arith.maxsi
// CHECK:         arith.minsi
// CHECK:         %[[ROWS:.*]] = memref.alloca() : memref<64xindex>
// CHECK:         %[[KROWS:.*]] = memref.collapse_shape %arg1 {{\[\[}}0, 1, 2], [3]] : memref<?x?x?x32xf32> into memref<?x32xf32>
// Per page of the tile: one block-table entry, then its keys' rows Hkv apart.
// CHECK:         scf.for
// CHECK:           arith.ceildivui %{{.*}}, %c16 : index
// CHECK:           scf.for %[[PAGE:.*]] = 
// CHECK:             memref.load %[[TABLE]][%[[BATCH]], %[[PAGE]]] : memref<?x?xi32>
// CHECK:             arith.cmpi slt, %{{.*}}, %[[P]]
// CHECK:             arith.select
// CHECK:             scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c1 iter_args(%[[ROW:.*]] = %{{.*}}) -> (index)
// CHECK:               memref.store %[[ROW]], %[[ROWS]]
// CHECK:               arith.addi %[[ROW]], %{{.*}} : index
// CHECK:           memref.prefetch %[[KROWS]]
// CHECK:           memref.load %[[ROWS]]
// CHECK:           memref.load %[[KROWS]]
func.func @paged(%q: tensor<?x2x40x32xf32>, %kc: tensor<?x16x2x32xf32>, %vc: tensor<?x16x2x32xf32>, %t: tensor<?x?xi32>, %l: tensor<?xi32>) -> tensor<?x2x40x32xf32> {
  %o = sattn.paged_attention %q, %kc, %vc, %t, %l mask(#sattn.causal)
      : (tensor<?x2x40x32xf32>, tensor<?x16x2x32xf32>, tensor<?x16x2x32xf32>, tensor<?x?xi32>, tensor<?xi32>) -> tensor<?x2x40x32xf32>
  return %o : tensor<?x2x40x32xf32>
}

// -----

// sattn.varlen_attention: the query tiles of all sequences are listed once
// (work[t] = (sequence, tile), sequence spans clamped to [0, T] and never
// decreasing), the parallel loop runs over (Hq, all tiles), and each call
// gets strided [1, H, L_b, D] views of its sequence in the token-major
// tensors (row stride H * D) and LSE [Hq, Tq] as [1, Hq, L_b] (stride Tq).
// CHECK-LABEL: func.func @varlen
// CHECK:         %[[Q:.*]] = bufferization.to_buffer %arg0 read_only : tensor<?x4x32xf32> to memref<?x4x32xf32>
// CHECK:         %[[TQ:.*]] = tensor.dim %arg0, %c0
// CHECK:         %[[O:.*]] = memref.alloc(%[[TQ]]) {alignment = 64 : i64} : memref<?x4x32xf32>
// CHECK:         %[[LSE:.*]] = memref.alloc(%[[TQ]]) {alignment = 64 : i64} : memref<4x?xf32>
// CHECK:         %[[NT:.*]] = scf.for
// CHECK:           arith.maxsi
// CHECK:           arith.minsi %{{.*}}, %[[TQ]]
// CHECK:           arith.ceildivui %{{.*}}, %c32
// CHECK:         %[[WORK:.*]] = memref.alloc(%[[NT]]) : memref<?x2xindex>
// CHECK:         scf.for
// CHECK:           scf.for
// CHECK:             memref.store %{{.*}}, %[[WORK]][%{{.*}}, %c0]
// CHECK:             memref.store %{{.*}}, %[[WORK]][%{{.*}}, %c1]
// CHECK:         scf.parallel (%[[H:.*]], %[[T:.*]]) = (%c0, %c0) to (%c4, %[[NT]])
// CHECK:           memref.load %[[WORK]][%[[T]], %c0]
// CHECK:           %[[QT:.*]] = memref.load %[[WORK]][%[[T]], %c1]
// CHECK:           memref.reinterpret_cast %[[Q]] to offset: [%{{.*}}], sizes: [1, 4, %{{.*}}, 32], strides: [128, 32, 128, 1]
// CHECK:           memref.reinterpret_cast %[[O]] to offset: [%{{.*}}], sizes: [1, 4, %{{.*}}, 32], strides: [128, 32, 128, 1]
// CHECK:           memref.reinterpret_cast %[[LSE]] to offset: [%{{.*}}], sizes: [1, 4, %{{.*}}], strides: [%[[TQ]], %[[TQ]], 1]
// CHECK:           func.call @__sattn_tile_0({{.*}}, %c0, %[[H]], %[[QT]])
// CHECK-LABEL: func.func private @__sattn_tile_0(
// CHECK-SAME:      memref<?x?x?x32xf32, strided<[?, ?, ?, 1], offset: ?>>
func.func @varlen(%q: tensor<?x4x32xf32>, %k: tensor<?x2x32xf32>, %v: tensor<?x2x32xf32>, %cq: tensor<?xi32>, %ck: tensor<?xi32>) -> (tensor<?x4x32xf32>, tensor<4x?xf32>) {
  %o, %l = sattn.varlen_attention %q, %k, %v, %cq, %ck mask(#sattn.causal)
      : (tensor<?x4x32xf32>, tensor<?x2x32xf32>, tensor<?x2x32xf32>, tensor<?xi32>, tensor<?xi32>) -> (tensor<?x4x32xf32>, tensor<4x?xf32>)
  return %o, %l : tensor<?x4x32xf32>, tensor<4x?xf32>
}

// -----

// Paged decode: one call walks every KV head of each key tile (the parallel
// loop runs over (B, split) only), so the NHD cache's token rows, all heads
// of a token, are read together; the queries, scores, accumulators and
// running (m, l) of each head are slices of [Hkv, ...] scratch buffers.
// The splits cut [0, the longest seq_len) into enough tasks for 4 per thread
// by the sum of the seq_lens (the keys all tasks walk together).
// CHECK-LABEL: func.func @paged_decode
// CHECK:         %[[LENS:.*]]:2 = scf.for %{{.*}} = %c0 to %{{.*}} step %c1 iter_args(%[[LONGEST:.*]] = %c0, %[[SUM:.*]] = %c0) -> (index, index) {
// CHECK:           tensor.extract %arg4
// CHECK:           arith.addi %[[SUM]]
// CHECK:           arith.maxsi %[[LONGEST]]
// CHECK:         call @omp_get_max_threads()
// CHECK:         %[[T4:.*]] = arith.muli %{{.*}}, %c4 : index
// CHECK:         %[[TASKS:.*]] = arith.muli %[[T4]], %[[LENS]]#0 : index
// CHECK:         %[[WORK:.*]] = arith.maxsi %[[LENS]]#1, %c1 : index
// CHECK:         arith.ceildivui %[[TASKS]], %[[WORK]] : index
// CHECK:         scf.parallel (%[[B:.*]], %[[S:.*]]) = (%c0, %c0) to
// CHECK:           func.call @__sattn_tile_0({{.*}}, %[[B]], %c0, %c0, %{{.*}}, %{{.*}}, %[[S]],
// CHECK:         scf.parallel
// CHECK:           func.call @__sattn_tile_0_merge
// CHECK-LABEL: func.func private @__sattn_tile_0(
// CHECK:         %[[QALL:.*]] = memref.alloca() {alignment = 64 : i64} : memref<2x4x64xf32>
// CHECK:         %[[SALL:.*]] = memref.alloca() {alignment = 64 : i64} : memref<2x32x8xf32>
// CHECK:         %[[KROWS:.*]] = memref.collapse_shape %arg1
// CHECK:         %[[VROWS:.*]] = memref.collapse_shape %arg2
// CHECK:         %[[STATE:.*]] = memref.alloca() {alignment = 64 : i64} : memref<2x2x8xf32>
// CHECK:         scf.for %[[G:.*]] = %c0 to %c2 step %c1 {
// CHECK:           memref.subview %[[QALL]][%[[G]], 0, 0] [1, 4, 64] [1, 1, 1]
// The key tiles: the row tables of this tile and the next, then one line of
// each 4 KiB of K and V three tiles (192 keys) ahead: every 8th token (2
// heads x 64 f32 = 512 bytes each), for its page walk. Then the scores key by
// key with every head in turn (the cache's rows in order), then each head's
// softmax and P V. The scores prefetch the next tile's K rows, P V its V
// rows.
// CHECK:         scf.for
// CHECK:           memref.load %{{.*}}[%{{.*}}, %{{.*}}] : memref<?x?xi32>
// CHECK:           %[[FAR:.*]] = arith.addi %{{.*}}, %c192 : index
// CHECK:           scf.for
// CHECK:             memref.load %{{.*}}[%{{.*}}, %{{.*}}] : memref<?x?xi32>
// CHECK:             scf.for %[[KEY:.*]] = %{{.*}} to %{{.*}} step %c1 iter_args(%[[TROW:.*]] = %{{.*}}) -> (index) {
// CHECK:               %[[C:.*]] = arith.subi %[[KEY]], %[[FAR]] : index
// CHECK:               %[[NTH:.*]] = arith.remui %[[C]], %c8 : index
// CHECK:               %[[FIRST:.*]] = arith.cmpi eq, %[[NTH]], %c0 : index
// CHECK:               scf.if %[[FIRST]] {
// CHECK-NEXT:            memref.prefetch %[[KROWS]][%[[TROW]], %c0], read, locality<2>, data
// CHECK-NEXT:            memref.prefetch %[[VROWS]][%[[TROW]], %c0], read, locality<2>, data
// CHECK-NEXT:          }
// CHECK:           scf.for %{{.*}} = %c0 to %{{.*}} step %c2 {
// CHECK-NEXT:        scf.for %[[SH:.*]] = %c0 to %c2 step %c1 {
// CHECK:               memref.subview %[[SALL]][%[[SH]], 0, 0] [1, 32, 8] [1, 1, 1]
// CHECK-NOT:           memref.prefetch %[[VROWS]]
// CHECK:               memref.prefetch %[[KROWS]][%{{.*}}, %c0], read, locality<2>, data
// CHECK-NOT:           memref.prefetch %[[VROWS]]
// CHECK:           scf.for %[[H:.*]] = %c0 to %c2 step %c1 {
// CHECK:             vector.load %[[STATE]][%[[H]], %c0, %c0]
// Then P V page by page (16 keys), every head in turn; a PARTIAL tile (else)
// reads the V of keys no row keeps as 0.
// CHECK:             scf.for %{{.*}} = %c0 to %{{.*}} step %c16 {
// CHECK:               scf.for %[[VH:.*]] = %c0 to %c2 step %c1 {
// CHECK-NEXT:            memref.subview %{{.*}}[%[[VH]], 0, 0] [1, 4, 64] [1, 1, 1]
// CHECK-NOT:               memref.prefetch %[[KROWS]]
// CHECK:                   memref.prefetch %[[VROWS]][%{{.*}}, %c0], read, locality<2>, data
// CHECK:           } else {
// CHECK-NEXT:        scf.for %{{.*}} = %c0 to %{{.*}} step %c16 {
// CHECK:                 arith.select
func.func @paged_decode(%q: tensor<?x8x1x64xf32>, %kc: tensor<?x16x2x64xf32>, %vc: tensor<?x16x2x64xf32>, %t: tensor<?x?xi32>, %l: tensor<?xi32>) -> tensor<?x8x1x64xf32> {
  %o = sattn.paged_attention %q, %kc, %vc, %t, %l mask(#sattn.causal)
      : (tensor<?x8x1x64xf32>, tensor<?x16x2x64xf32>, tensor<?x16x2x64xf32>, tensor<?x?xi32>, tensor<?xi32>) -> tensor<?x8x1x64xf32>
  return %o : tensor<?x8x1x64xf32>
}
