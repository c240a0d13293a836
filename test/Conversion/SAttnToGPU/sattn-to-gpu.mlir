// RUN: sattn-opt %s -convert-sattn-to-gpu -canonicalize -cse -split-input-file | FileCheck %s

// f32: the SIMT kernel. Launch mapping: one block of 128 threads per (query
// tile, head, batch), on flattened buffers; the kernel stages Q, K, V tiles
// in workgroup memory.
// CHECK-LABEL: func.func @causal_gqa
// CHECK-SAME:    tile = <rows = 32, keys = 32>, grid = [query_tiles, q_heads, batch], threads = 128, shared_memory = 0, tensor_cores = false
// CHECK-DAG:     %[[C128:.*]] = arith.constant 128 : index
// CHECK-DAG:     %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG:     %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG:     %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG:     %[[C2:.*]] = arith.constant 2 : index
// CHECK:         memref.collapse_shape {{.*}} {{\[\[}}0, 1, 2, 3]] : memref<2x8x70x64xf32> into memref<71680xf32>
// CHECK:         gpu.launch_func @sattn_kernels::@attention_0 blocks in (%[[C3]], %[[C8]], %[[C2]]) threads in (%[[C128]], %[[C1]], %[[C1]])
// CHECK-SAME:      args({{.*}} : memref<?xf32>, {{.*}} : memref<?xf32>, {{.*}} : memref<?xf32>, {{.*}} : memref<?xf32>, {{.*}} : memref<?xf32>, {{.*}} : index, {{.*}} : index, {{.*}} : index, {{.*}} : index)
// CHECK:       gpu.module @sattn_kernels
// CHECK:         gpu.func @attention_0({{.*}}) workgroup(%[[QS:.*]] : memref<32x64xf32, #gpu.address_space<workgroup>>, %[[KS:.*]] : memref<32x65xf32, #gpu.address_space<workgroup>>, %[[VS:.*]] : memref<32x64xf32, #gpu.address_space<workgroup>>, %[[USED:.*]] : memref<4x32xi32, #gpu.address_space<workgroup>>) kernel
// CHECK-SAME:      known_block_size = array<i32: 128, 1, 1>
// CHECK:           gpu.thread_id x
// Blocks start in the order of their linear id x + X (y + Y z), read as
// (rank, batch, head) with the rank outermost; with no plan, rank r is query
// tile X - 1 - r (the last, under causal the heaviest, first).
// CHECK:           %[[Y:.*]] = gpu.grid_dim y
// CHECK:           %[[Z:.*]] = gpu.grid_dim z
// CHECK:           %[[PER_RANK:.*]] = arith.muli %[[Y]], %[[Z]] : index
// CHECK:           %[[BZ:.*]] = gpu.block_id z
// CHECK:           %[[BY:.*]] = gpu.block_id y
// CHECK:           %[[YZ:.*]] = arith.muli %[[Y]], %[[BZ]] : index
// CHECK:           %[[ROW:.*]] = arith.addi %[[BY]], %[[YZ]] : index
// CHECK:           %[[X:.*]] = gpu.grid_dim x
// CHECK:           %[[XROW:.*]] = arith.muli %[[X]], %[[ROW]] : index
// CHECK:           %[[BX:.*]] = gpu.block_id x
// CHECK:           %[[ID:.*]] = arith.addi %[[BX]], %[[XROW]] : index
// CHECK:           %[[RANK:.*]] = arith.divui %[[ID]], %[[PER_RANK]] : index
// CHECK:           %[[HB:.*]] = arith.remui %[[ID]], %[[PER_RANK]] : index
// CHECK:           %[[HEAD:.*]] = arith.remui %[[HB]], %[[Y]] : index
// CHECK:           arith.divui %[[HB]], %[[Y]] : index
// CHECK:           %[[LAST:.*]] = arith.subi %[[X]], %c1 : index
// CHECK:           arith.subi %[[LAST]], %[[RANK]] : index
// Q is scaled into base 2 once: scale * log2(e) = 0.125 * 1.4427.
// CHECK:           arith.mulf {{.*}} : f32
// CHECK:           memref.store {{.*}}, %[[QS]]
// Band mask: the key tiles of the closed-form key range, no table.
// CHECK-NOT:       memref.get_global
// CHECK:           scf.for
// CHECK:             %[[FULL:.*]] = arith.cmpi sle
// CHECK:             gpu.barrier
// PARTIAL tiles: the K and V rows of keys no row of the block keeps become 0
// as they are staged (0 * NaN would reach O): for a band those keys are the
// ones outside one range.
// CHECK:             scf.for
// CHECK:               arith.cmpi slt, {{.*}} : index
// CHECK:               arith.cmpi sge, {{.*}} : i64
// CHECK:               arith.cmpi slt, {{.*}} : i64
// CHECK:               arith.andi
// CHECK:               arith.ori %[[FULL]]
// CHECK:               memref.store {{.*}}, %[[KS]]
// CHECK:               memref.store {{.*}}, %[[VS]]
// CHECK:             gpu.barrier
// CHECK-NOT:         %[[USED]]
// One key per lane: s = Qs[row] . Ks[lane], 8 rows per warp.
// CHECK-COUNT-8:     llvm.intr.fma
// The predicate runs on PARTIAL tiles only.
// CHECK:             scf.if
// CHECK:               arith.cmpi sle
// Row max and row sum: butterfly shuffles over the warp.
// CHECK:             gpu.shuffle  xor {{.*}}, %c16_i32, %c32_i32 : f32
// CHECK:             llvm.intr.maxnum
// CHECK:             llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f32"
// CHECK:             gpu.shuffle  xor
// CHECK:             arith.addf
// O += P V: P of key c from lane c.
// CHECK:             gpu.shuffle  idx
// CHECK:           gpu.return
func.func @causal_gqa(%q: tensor<2x8x70x64xf32>, %k: tensor<2x2x70x64xf32>, %v: tensor<2x2x70x64xf32>) -> tensor<2x8x70x64xf32> {
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) scale(0.125)
      : (tensor<2x8x70x64xf32>, tensor<2x2x70x64xf32>, tensor<2x2x70x64xf32>) -> tensor<2x8x70x64xf32>
  return %o : tensor<2x8x70x64xf32>
}

// -----

// bf16: tensor cores. 128 query rows per block (16 per each of 8 warps),
// 64 keys per tile, tiles in dynamic shared memory: Qs over the two Ks
// stages, then the two Vs stages and the key-used flags. Q arrives by
// cp.async and stays in registers as ldmatrix fragments; each key tile's
// copy starts during the previous tile (cp.async into the other stage, one
// barrier per tile); per tile (D / 16) x 4 ldmatrix.x4 + 8 x (D / 16)
// mma.sync for S = Q K^T, 4 x (Dv / 16) ldmatrix.x4.trans + 4 x (Dv / 8)
// mma.sync for O += P V; softmax statistics over the 4 lanes of a quad.
// CHECK-LABEL: func.func @window_tensor_cores
// CHECK-SAME:    sattn.gpu_launches = [#sattn.gpu_launch<kernel = @sattn_kernels::@attention_0, tile = <rows = 128, keys = 64>, grid = [query_tiles, q_heads, batch], threads = 256, shared_memory = 34816, tensor_cores = true, writes_lse = false, params = [q, k, v, o, lse, q_heads, kv_heads, q_len, k_len]>]
// CHECK-DAG:     %[[C256:.*]] = arith.constant 256 : index
// CHECK-DAG:     %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG:     %[[SHARED:.*]] = arith.constant 34816 : i32
// CHECK:         gpu.launch_func @sattn_kernels::@attention_0 blocks in (%{{.*}}, %[[C4]], %{{.*}}) threads in (%[[C256]], %{{.*}}, %{{.*}}) dynamic_shared_memory_size %[[SHARED]]
// CHECK:       gpu.func @attention_0({{.*}}) kernel attributes {known_block_size = array<i32: 256, 1, 1>}
// CHECK:         %[[SMEM:.*]] = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// CHECK:         memref.view %[[SMEM]][%{{.*}}][] : {{.*}} to memref<128x72xbf16, #gpu.address_space<workgroup>>
// CHECK:         memref.view %[[SMEM]][%{{.*}}][] : {{.*}} to memref<2x64x72xbf16, #gpu.address_space<workgroup>>
// CHECK:         memref.view %[[SMEM]][%{{.*}}][] : {{.*}} to memref<2x64x56xbf16, #gpu.address_space<workgroup>>
// Q: 128 rows of 8 chunks of 16 bytes, 4 cp.async per thread in straight
// line (rows 32 apart), then 4 ldmatrix.x4 (D = 64).
// CHECK-NOT:     scf.for
// CHECK-COUNT-4: nvvm.cp.async.shared.global {{.*}}, 16, cache =  cg, {{.*}} : !llvm.ptr<3>, !llvm.ptr<1>, i32
// CHECK-NEXT:    nvvm.cp.async.commit.group
// CHECK-NEXT:    nvvm.cp.async.wait.group 0
// CHECK:         gpu.barrier
// CHECK-COUNT-4: nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<row>, num = 4 : i32
// CHECK:         gpu.barrier
// The first tile's copy, then the loop: wait, barrier, the next tile's copy.
// A key tile past Lk (the last) zero-fills its keys past Lk: K (2 chunks per
// thread, from clamped rows) and V (Dv = 48: 6 chunks per row, a loop); any
// other copies whole rows from pointers a constant apart (rows 32 apart:
// 32 x 72 elements in Ks, 32 x 64 in K).
// CHECK:         scf.if
// CHECK:           arith.minsi
// CHECK:           nvvm.cp.async.shared.global {{.*}}, 16, cache =  cg, %{{[0-9]+}} :
// CHECK:           nvvm.cp.async.shared.global {{.*}}, 16, cache =  cg, %{{[0-9]+}} :
// CHECK-NEXT:      nvvm.cp.async.commit.group
// CHECK:           scf.for
// CHECK:           nvvm.cp.async.commit.group
// CHECK-NEXT:    } else {
// CHECK-NOT:       arith.minsi
// CHECK:           nvvm.cp.async.shared.global %[[S0:.*]], %[[K0:.*]], 16, cache =  cg, %c16_i32 :
// CHECK-NEXT:      %[[S1:.*]] = llvm.getelementptr %[[S0]][2304] : (!llvm.ptr<3>) -> !llvm.ptr<3>, bf16
// CHECK-NEXT:      %[[K1:.*]] = llvm.getelementptr %[[K0]][2048] : (!llvm.ptr<1>) -> !llvm.ptr<1>, bf16
// CHECK-NEXT:      nvvm.cp.async.shared.global %[[S1]], %[[K1]], 16, cache =  cg, %c16_i32 :
// CHECK-NEXT:      nvvm.cp.async.commit.group
// CHECK:           scf.for
// CHECK:           nvvm.cp.async.commit.group
// CHECK:         scf.for
// CHECK-NEXT:      nvvm.cp.async.wait.group 0
// CHECK-NEXT:      gpu.barrier
// CHECK:           nvvm.cp.async.commit.group
// CHECK:           nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<row>
// CHECK-COUNT-2:   nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// PARTIAL tiles: -40 <= k - p <= 0 as d = k0 + 2t - p(g) against constants
// (8 j + e % 2 - 8 (e / 2) moved over); the last FULL tile tests k < Lk.
// CHECK:           scf.if
// CHECK:             %[[D:.*]] = arith.subi %{{.*}}, %{{.*}} : i64
// CHECK:             arith.cmpi sge, %[[D]], %c-40_i64 : i64
// CHECK:             arith.cmpi sle, %[[D]], %c0_i64 : i64
// CHECK:             arith.cmpi sge, %[[D]], %c-41_i64 : i64
// CHECK:             arith.cmpi sle, %[[D]], %c-1_i64 : i64
// CHECK:           scf.if
// CHECK:           gpu.shuffle  xor {{.*}}, %c1_i32, %c32_i32 : f32
// CHECK:           gpu.shuffle  xor {{.*}}, %c2_i32, %c32_i32 : f32
// No score modifier: p = 2^(s c - m c), one FMA into ex2.approx.ftz.
// CHECK:           llvm.intr.fma
// CHECK:           llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f32"
// P as the A operand: pairs rounded by one conversion (cvt.rn.bf16x2.f32).
// CHECK:           arith.truncf {{.*}} : vector<2xf32> to vector<2xbf16>
// CHECK-NEXT:      llvm.bitcast {{.*}} : vector<2xbf16> to i32
// CHECK:           nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<col>
// CHECK:           nvvm.mma.sync
// O: pairs of bf16 per store.
// CHECK:         vector.store {{.*}} {alignment = 4 : i64} : memref<?xbf16>, vector<2xbf16>
// CHECK:         gpu.return
func.func @window_tensor_cores(%q: tensor<1x4x100x64xbf16>, %k: tensor<1x4x100x64xbf16>, %v: tensor<1x4x100x48xbf16>) -> tensor<1x4x100x48xbf16> {
  %o = sattn.attention %q, %k, %v mask(#sattn.window<left = 40, right = 0>)
      : (tensor<1x4x100x64xbf16>, tensor<1x4x100x64xbf16>, tensor<1x4x100x48xbf16>) -> tensor<1x4x100x48xbf16>
  return %o : tensor<1x4x100x48xbf16>
}

// -----

// A static irregular mask: the CSR tile plan is a table in the kernel module;
// every non-EMPTY tile is FULL here, so no predicate code exists at all.
// f32 with D = 128: Br = 16 fits the 48 KiB of shared memory.
// CHECK-LABEL: func.func @block_sparse
// CHECK-SAME:    tile = <rows = 16, keys = 32>
// CHECK:       gpu.module @sattn_kernels
// CHECK:         memref.global "private" constant @attention_0_plan_offsets : memref<5xi32> = dense<[0, 1, 2, 3, 4]>
// CHECK:         memref.global "private" constant @attention_0_plan_tiles : memref<4xi32> = dense<[1, 1, 3, 3]>
// CHECK:         gpu.func @attention_0
// CHECK-SAME:      workgroup({{.*}} : memref<16x128xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<32x129xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<32x128xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<4x32xi32, #gpu.address_space<workgroup>>)
// CHECK:           memref.get_global @attention_0_plan_offsets
// CHECK-NOT:       memref.get_global @__sattn_layout
// CHECK:           gpu.return
func.func @block_sparse(%q: tensor<1x1x64x128xf32>, %k: tensor<1x1x64x128xf32>, %v: tensor<1x1x64x128xf32>) -> tensor<1x1x64x128xf32> {
  %o = sattn.attention %q, %k, %v mask(#sattn.block_sparse<block = [32, 32], layout = dense<[[1, 0], [0, 1]]> : tensor<2x2xi1>>)
      : (tensor<1x1x64x128xf32>, tensor<1x1x64x128xf32>, tensor<1x1x64x128xf32>) -> tensor<1x1x64x128xf32>
  return %o : tensor<1x1x64x128xf32>
}

// -----

// A mask constant on 32 x 32 cells, tensor cores (64-key tiles), dynamic
// shapes: a PARTIAL tile evaluates it once per cell. The key-used flags: one
// row cell per warp (the loop steps over the 8 warps) for each 32 keys; the
// scores: rows g and g + 8 of the lane for each 32 keys (4 layout loads,
// not 32). V rows of unflagged keys become 0 16 bytes at a time.
// CHECK-LABEL: func.func @cells
// CHECK:         gpu.func @attention_0
// CHECK:           scf.for {{.*}} step %c8 iter_args({{.*}} = %false) -> (i1)
// CHECK:             memref.load {{.*}} : memref<15xi32>
// CHECK-NOT:       memref<15xi32>
// CHECK:           scf.for {{.*}} step %c8 iter_args({{.*}} = %false) -> (i1)
// CHECK:             memref.load {{.*}} : memref<15xi32>
// CHECK-NOT:       memref<15xi32>
// CHECK:           gpu.barrier
// CHECK:           llvm.store {{.*}} {alignment = 16 : i64} : vector<4xi32>, !llvm.ptr<3>
// CHECK:           gpu.barrier
// CHECK:           nvvm.mma.sync
// CHECK-COUNT-4:   memref.load {{.*}} : memref<15xi32>
// CHECK-NOT:       memref<15xi32>
// CHECK:           gpu.return
func.func @cells(%q: tensor<1x1x?x64xbf16>, %k: tensor<1x1x?x64xbf16>, %v: tensor<1x1x?x64xbf16>) -> tensor<1x1x?x64xbf16> {
  %o = sattn.attention %q, %k, %v mask(#sattn.block_sparse<block = [32, 32], layout = dense<[[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 0]]> : tensor<5x3xi1>>)
      : (tensor<1x1x?x64xbf16>, tensor<1x1x?x64xbf16>, tensor<1x1x?x64xbf16>) -> tensor<1x1x?x64xbf16>
  return %o : tensor<1x1x?x64xbf16>
}

// -----

// Dynamic shapes and an irregular mask: tiles are classified at run time;
// LSE is written by lane 0 of each row's warp. Not a band: in PARTIAL tiles
// each warp flags the keys its rows keep, and V rows no warp flagged become
// 0 in a pass over Vs between two barriers (16-byte stores, no V read).
// CHECK-LABEL: func.func @dynamic_lse
// CHECK:         gpu.launch_func @sattn_kernels::@attention_0
// CHECK:       gpu.func @attention_0
// CHECK:         %[[USED:.*]] = memref.view {{.*}} to memref<8x64xi32, #gpu.address_space<workgroup>>
// CHECK-NOT:     memref.get_global @attention_0_plan
// CHECK:         scf.for
// CHECK:           scf.if
// CHECK:             scf.for {{.*}} iter_args({{.*}}) -> (i1)
// CHECK:             memref.store {{.*}}, %[[USED]]
// CHECK:             gpu.barrier
// CHECK:             scf.for
// CHECK-COUNT-8:       memref.load %[[USED]]
// CHECK:               scf.if
// CHECK:                 llvm.store {{.*}} {alignment = 16 : i64} : vector<4xi32>, !llvm.ptr<3>
// CHECK:             gpu.barrier
// CHECK:         llvm.call_intrinsic "llvm.nvvm.lg2.approx.f"
// CHECK:         memref.store {{.*}} : memref<?xf32>
func.func @dynamic_lse(%q: tensor<?x?x?x32xbf16>, %k: tensor<?x?x?x32xbf16>, %v: tensor<?x?x?x32xbf16>) -> (tensor<?x?x?x32xbf16>, tensor<?x?x?xf32>) {
  %o, %l = sattn.attention %q, %k, %v mask(#sattn.strided<stride = 4>)
      : (tensor<?x?x?x32xbf16>, tensor<?x?x?x32xbf16>, tensor<?x?x?x32xbf16>) -> (tensor<?x?x?x32xbf16>, tensor<?x?x?xf32>)
  return %o, %l : tensor<?x?x?x32xbf16>, tensor<?x?x?xf32>
}

// -----

// tensor-cores=0 keeps bf16 on the SIMT kernel.
// RUN: sattn-opt %s -split-input-file -convert-sattn-to-gpu=tensor-cores=0 | FileCheck %s --check-prefix=SIMT
// SIMT-LABEL: func.func @simt_bf16
// SIMT:         gpu.func @attention_0({{.*}}) workgroup({{.*}} : memref<32x64xf32, #gpu.address_space<workgroup>>
// SIMT-NOT:     nvvm.mma.sync
// SIMT:         gpu.return
func.func @simt_bf16(%q: tensor<1x1x64x64xbf16>, %k: tensor<1x1x64x64xbf16>, %v: tensor<1x1x64x64xbf16>) -> tensor<1x1x64x64xbf16> {
  %o = sattn.attention %q, %k, %v mask(#sattn.causal)
      : (tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>) -> tensor<1x1x64x64xbf16>
  return %o : tensor<1x1x64x64xbf16>
}

// -----

// Score modifiers: the block's head picks its slope once (0.5 * log2(e) for
// head 0); each lane's scores take t = C tanh(t / C) (arith only: no
// libdevice call) and t -= slope |p - k| before keys past Lk become -inf.
// CHECK-LABEL: func.func @modifiers
// CHECK:       gpu.func @attention_0
// CHECK-DAG:     arith.constant 0.72134751 : f32
// CHECK-DAG:     arith.constant 2.885390e+00 : f32
// CHECK:         arith.cmpi eq, %{{.*}}, %c0 : index
// CHECK:         scf.for
// CHECK:           arith.cmpf ule
// CHECK:           arith.divf {{.*}} : f32
// CHECK:           arith.sitofp
// CHECK:           arith.negf
// CHECK:           arith.cmpi slt
// CHECK:           arith.select
// CHECK-NOT:     math.tanh
// CHECK:         gpu.return
func.func @modifiers(%q: tensor<1x2x40x32xf32>, %k: tensor<1x1x40x32xf32>, %v: tensor<1x1x40x32xf32>) -> tensor<1x2x40x32xf32> {
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) softcap(2.0) alibi_slopes([0.5, 0.25])
      : (tensor<1x2x40x32xf32>, tensor<1x1x40x32xf32>, tensor<1x1x40x32xf32>) -> tensor<1x2x40x32xf32>
  return %o : tensor<1x2x40x32xf32>
}

// -----

// sattn.paged_attention: the kernel also takes the flat block table and
// seq_lens, P and M (Lk is unused); Lk of the block's sequence is seq_lens[b]
// clamped, and each key's K/V row is read in place at row
// (block_table[b * M + key / 16] * 16 + key mod 16) * Hkv + kvHead.
// CHECK-LABEL: func.func @paged
// CHECK:         gpu.launch_func @sattn_kernels::@attention_0
// CHECK-SAME:      %c0 : index, %{{.*}} : memref<?xi32>, %{{.*}} : memref<?xi32>, %{{.*}} : index, %{{.*}} : index)
// CHECK:       gpu.func @attention_0({{.*}}, %[[TABLE:.*]]: memref<?xi32>, %[[LENS:.*]]: memref<?xi32>, %[[P:.*]]: index, %[[M:.*]]: index)
// CHECK:         memref.load %[[LENS]][%[[B:.*]]]
// CHECK:         scf.for
// CHECK:           arith.muli %[[B]], %[[M]]
// CHECK:           memref.load %[[TABLE]]
// CHECK:           arith.cmpi slt, %{{.*}}, %[[P]]
// CHECK:           arith.select
// CHECK:           arith.remui %{{.*}}, %c16 : index
func.func @paged(%q: tensor<?x2x40x32xf32>, %kc: tensor<?x16x2x32xf32>, %vc: tensor<?x16x2x32xf32>, %t: tensor<?x?xi32>, %l: tensor<?xi32>) -> tensor<?x2x40x32xf32> {
  %o = sattn.paged_attention %q, %kc, %vc, %t, %l mask(#sattn.causal)
      : (tensor<?x2x40x32xf32>, tensor<?x16x2x32xf32>, tensor<?x16x2x32xf32>, tensor<?x?xi32>, tensor<?xi32>) -> tensor<?x2x40x32xf32>
  return %o : tensor<?x2x40x32xf32>
}

// -----

// sattn.varlen_attention: the kernel also takes cu_seqlens_q and
// cu_seqlens_k, with Tq and Tk as Lq and Lk; the grid is (ceil(Tq / Br), Hq,
// B). Block z reads its sequence's spans (clamped to [0, T]) and returns at
// once past its last query tile; Q rows are Hq * D apart, keys are row
// (cu_k[b] + key) * Hkv + kvHead.
// CHECK-LABEL: func.func @varlen
// CHECK:         gpu.launch_func @sattn_kernels::@attention_0 blocks in (%{{.*}}, %c4, %{{.*}}) threads in (%c128, %c1, %c1)
// CHECK-SAME:      %c4 : index, %c2 : index, %{{.*}} : index, %{{.*}} : index, %{{.*}} : memref<?xi32>, %{{.*}} : memref<?xi32>)
// CHECK:       gpu.func @attention_0({{.*}}, %[[TQ:.*]]: index, %[[TK:.*]]: index, %[[CUQ:.*]]: memref<?xi32>, %[[CUK:.*]]: memref<?xi32>)
// CHECK:         memref.load %[[CUQ]][%[[B:.*]]]
// CHECK:         arith.minsi %{{.*}}, %[[TQ]]
// CHECK:         memref.load %[[CUK]][%[[B]]]
// CHECK:         arith.minsi %{{.*}}, %[[TK]]
// CHECK:         scf.if
func.func @varlen(%q: tensor<?x4x32xf32>, %k: tensor<?x2x32xf32>, %v: tensor<?x2x32xf32>, %cq: tensor<?xi32>, %ck: tensor<?xi32>) -> (tensor<?x4x32xf32>, tensor<4x?xf32>) {
  %o, %l = sattn.varlen_attention %q, %k, %v, %cq, %ck mask(#sattn.causal)
      : (tensor<?x4x32xf32>, tensor<?x2x32xf32>, tensor<?x2x32xf32>, tensor<?xi32>, tensor<?xi32>) -> (tensor<?x4x32xf32>, tensor<4x?xf32>)
  return %o, %l : tensor<?x4x32xf32>, tensor<4x?xf32>
}

// -----

// Heaviest first: with a plan, rank r of the block's linear id runs the query
// tile with the r-th most key tiles, from a constant table (here the global
// token's tile 0 has 5, tiles 2 and 3 have 4, tiles 1 and 4 have 3; ties run
// the last tile first).
// CHECK-LABEL: func.func @heavy_first
// CHECK:       gpu.module @sattn_kernels
// CHECK:         memref.global "private" constant @attention_0_order : memref<5xi32> = dense<[0, 3, 2, 4, 1]>
// CHECK:         memref.global "private" constant @attention_0_plan_offsets : memref<6xi32> = dense<[0, 5, 8, 12, 16, 19]>
// CHECK:         gpu.func @attention_0
// CHECK:           gpu.block_id x
// CHECK:           %[[RANK:.*]] = arith.divui
// CHECK:           %[[ORDER:.*]] = memref.get_global @attention_0_order : memref<5xi32>
// CHECK:           %[[QT:.*]] = memref.load %[[ORDER]][%[[RANK]]] : memref<5xi32>
// CHECK:           arith.index_cast %[[QT]] : i32 to index
func.func @heavy_first(%q: tensor<1x2x160x64xf32>, %k: tensor<1x2x160x64xf32>, %v: tensor<1x2x160x64xf32>) -> tensor<1x2x160x64xf32> {
  %o = sattn.attention %q, %k, %v mask(#sattn.longformer<window = 16, global = [0]>)
      : (tensor<1x2x160x64xf32>, tensor<1x2x160x64xf32>, tensor<1x2x160x64xf32>) -> tensor<1x2x160x64xf32>
  return %o : tensor<1x2x160x64xf32>
}

// -----

// Heavy query tiles cut into parts: query tile 1 holds global position 1050
// (35 key tiles, the others 3 or 4), so it runs as two parts (plan entries
// 4..22 and 22..39, slots 0 and 1) among the calls, heaviest first, 6
// entries each: (query tile, begin, end, slot, first slot, parts). The host
// allocates the partials [B, Hq, 2, 32, Dv + 1] and zeroes the counters
// [B, Hq, 2]. A part writes its normalized O rows and base-2 LSE to its slot;
// thread 0 fences and counts it done; the part that counts last merges both
// into O and LSE and leaves the counter at 0.
// CHECK-LABEL: func.func @heavy_parts
// CHECK-SAME:    grid = [calls, q_heads, batch]
// CHECK-SAME:    params = [q, k, v, o, lse, q_heads, kv_heads, q_len, k_len, partials, part_counters], calls = 5, part_slots = 2>
// CHECK:         memref.alloc() : memref<4224xf32>
// CHECK:         %[[COUNTERS:.*]] = memref.alloc() : memref<4xi32>
// CHECK:         scf.for
// CHECK-NEXT:      memref.store %c0_i32, %[[COUNTERS]]
// CHECK:         gpu.launch_func @sattn_kernels::@attention_0 blocks in (%c5, %c2, %c1)
// CHECK:       gpu.module @sattn_kernels
// CHECK:         memref.global "private" constant @attention_0_calls : memref<30xi32> = dense<[1, 4, 22, 0, 0, 2, 1, 22, 39, 1, 0, 2, 0, 0, 4, -1, -1, 0, 3, 42, 45, -1, -1, 0, 2, 39, 42, -1, -1, 0]>
// CHECK:         gpu.func @attention_0({{.*}}, %[[PARTIALS:.*]]: memref<?xf32>, %[[COUNT:.*]]: memref<?xi32>)
// CHECK:           memref.get_global @attention_0_calls
// CHECK:           scf.if
// CHECK:           } else {
// CHECK:             memref.store {{.*}}, %[[PARTIALS]]
// CHECK:             gpu.barrier
// CHECK:             scf.if
// CHECK-NEXT:          nvvm.memory.barrier <gpu>
// CHECK-NEXT:          memref.atomic_rmw addi %c1_i32, %[[COUNT]]
// CHECK:             gpu.barrier
// CHECK:             scf.if
// CHECK-NEXT:          nvvm.memory.barrier <gpu>
// CHECK:               scf.for
// CHECK:                 llvm.intr.maxnum
// CHECK:                 llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f32"
// CHECK:                 llvm.intr.fma
// CHECK:               arith.divf
// CHECK:               memref.store {{.*}} : memref<?xf32>
// CHECK:               llvm.call_intrinsic "llvm.nvvm.lg2.approx.f"
// CHECK:             memref.store %c0_i32, %[[COUNT]]
func.func @heavy_parts(%q: tensor<1x2x100x32xf32>, %k: tensor<1x2x1100x32xf32>, %v: tensor<1x2x1100x32xf32>) -> (tensor<1x2x100x32xf32>, tensor<1x2x100xf32>) {
  %o, %l = sattn.attention %q, %k, %v mask(#sattn.union<[#sattn.window<left = 40, right = 40>, #sattn.global<tokens = [1050]>]>)
      : (tensor<1x2x100x32xf32>, tensor<1x2x1100x32xf32>, tensor<1x2x1100x32xf32>) -> (tensor<1x2x100x32xf32>, tensor<1x2x100xf32>)
  return %o, %l : tensor<1x2x100x32xf32>, tensor<1x2x100xf32>
}
