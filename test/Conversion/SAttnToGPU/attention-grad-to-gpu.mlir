// RUN: sattn-opt %s -convert-sattn-to-gpu=tensor-cores=0 -split-input-file | FileCheck %s --check-prefixes=CHECK,SIMT
// RUN: sattn-opt %s -convert-sattn-to-gpu -split-input-file | FileCheck %s --check-prefixes=CHECK,MMA

// The backward: one launch of ceil(Lk / Bc) + ceil(Lq / Br) x Hq x B blocks.
// Blocks x < ceil(Lk / Bc) with y < Hkv compute dK, dV of a key tile over the
// transposed plan (the query tiles of each key tile); the others dQ of a
// query tile over the forward's plan. SIMT, bf16, D = 64: Br = Bc = 32.
!q = tensor<1x4x100x64xbf16>
!k = tensor<1x2x100x64xbf16>
!l = tensor<1x4x100xf32>
func.func @longformer_gqa(%q: !q, %k: !k, %v: !k, %o: !q, %do: !q, %lse: !l) -> (!q, !k, !k) {
  %dq, %dk, %dv = sattn.attention_grad %q, %k, %v, %o, %do, %lse mask(#sattn.union<[#sattn.window<left = 8, right = 8>, #sattn.global<tokens = [0, 1]>]>) : (!q, !k, !k, !q, !q, !l) -> (!q, !k, !k)
  return %dq, %dk, %dv : !q, !k, !k
}
// CHECK-LABEL: func.func @longformer_gqa
// SIMT-SAME:    sattn.gpu_launches = [#sattn.gpu_launch<kernel = @sattn_kernels::@attention_grad_0, tile = <rows = 32, keys = 32>, grid = [key_and_query_tiles, q_heads, batch], threads = 128, shared_memory = 0, tensor_cores = false, writes_lse = false, params = [q, k, v, o, grad_output, lse, grad_query, grad_key, grad_value, q_heads, kv_heads, q_len, k_len]>]
// SIMT:         %[[KT:.*]] = arith.ceildivui %{{.*}}, %c32{{.*}} : index
// SIMT:         %[[QT:.*]] = arith.ceildivui %{{.*}}, %c32{{.*}} : index
// SIMT:         %[[X:.*]] = arith.addi %[[KT]], %[[QT]] : index
// SIMT:         gpu.launch_func @sattn_kernels::@attention_grad_0 blocks in (%[[X]], {{.*}}) threads in (%c128
// SIMT-SAME:      args({{.*}} : memref<?xbf16>, {{.*}} : memref<?xbf16>, {{.*}} : memref<?xbf16>, {{.*}} : memref<?xbf16>, {{.*}} : memref<?xbf16>, {{.*}} : memref<?xf32>, {{.*}} : memref<?xbf16>, {{.*}} : memref<?xbf16>, {{.*}} : memref<?xbf16>, {{.*}} : index, {{.*}} : index, {{.*}} : index, {{.*}} : index)
// SIMT:       gpu.module @sattn_kernels
// SIMT-DAG:     memref.global "private" constant @attention_grad_0_queries_plan_offsets
// SIMT-DAG:     memref.global "private" constant @attention_grad_0_keys_plan_offsets
// SIMT:         gpu.func @attention_grad_0({{.*}}) workgroup(%[[KS:.*]] : memref<32x65xbf16, #gpu.address_space<workgroup>>, %[[VS:.*]] : memref<32x65xbf16, #gpu.address_space<workgroup>>, %[[QS:.*]] : memref<32x64xbf16, #gpu.address_space<workgroup>>, %[[DOS:.*]] : memref<32x64xbf16, #gpu.address_space<workgroup>>, %[[PS:.*]] : memref<32x32xf32, #gpu.address_space<workgroup>>, %[[DSS:.*]] : memref<32x32xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<32xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<32xf32, #gpu.address_space<workgroup>>, %[[USED:.*]] : memref<4x32xi32, #gpu.address_space<workgroup>>) kernel
// SIMT:           %[[BX:.*]] = gpu.block_id x
// SIMT:           %[[BY:.*]] = gpu.block_id y
// SIMT:           %[[NKT:.*]] = arith.ceildivui %arg12, %c32
// SIMT:           %[[KEYS:.*]] = arith.cmpi slt, %[[BX]], %[[NKT]]
// SIMT:           scf.if %[[KEYS]] {
// SIMT:             %[[KVH:.*]] = arith.cmpi slt, %[[BY]], %arg10
// SIMT:             scf.if %[[KVH]] {
// dK, dV blocks: the key tile once, then per query head of the group the
// query tiles of the transposed plan, dK and dV in 32 registers (D = Dv = 64).
// SIMT:               memref.store {{.*}}, %[[KS]]
// SIMT:               memref.store {{.*}}, %[[VS]]
// SIMT:               scf.for {{.*}} -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// SIMT:                 memref.get_global @attention_grad_0_keys_plan_offsets
// SIMT:                 memref.store {{.*}}, %[[QS]]
// SIMT:                 memref.store {{.*}}, %[[DOS]]
// SIMT:                 gpu.shuffle xor
// SIMT:                 memref.store {{.*}}, %[[PS]]
// SIMT:                 memref.store {{.*}}, %[[DSS]]
// SIMT:                 gpu.barrier
// SIMT-COUNT-32:        llvm.intr.fma
// dQ blocks: the key tiles of the forward's plan, dQ of 8 rows x 2 columns
// per thread; PARTIAL tiles zero the K rows of keys no row keeps.
// SIMT:           } else {
// SIMT:             memref.get_global @attention_grad_0_queries_plan_offsets
// SIMT:             scf.for {{.*}} -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// SIMT:               scf.if
// SIMT:                 memref.store {{.*}}, %[[USED]]
// SIMT:                 gpu.barrier
// SIMT-COUNT-4:         memref.load %[[USED]]
// SIMT:                 gpu.barrier
// SIMT:               memref.store {{.*}}, %[[DSS]]
// SIMT:               gpu.barrier
// SIMT:               scf.for
// SIMT-COUNT-16:        llvm.intr.fma

// Tensor cores: Br = Bc = 64, dynamic shared memory (Ks, Vs, Qs, dOs with
// rows padded by 8, then lse2, Delta, used), tiles copied by cp.async. dK, dV
// blocks: per 16 query rows S^T = K Q^T and dP^T = V dO^T (2 x 4 mma each
// at D = Dv = 64), then dK += dS^T Q and dV += P^T dO (8 mma each) on the
// 32 + 32 accumulators of the warp's 16 keys; dQ blocks: per 16 keys S and
// dP (8 mma each), then dQ += dS K (8 mma).
// MMA:         tile = <rows = 64, keys = 64>, grid = [key_and_query_tiles, q_heads, batch], threads = 128, shared_memory = 38400, tensor_cores = true
// MMA:         gpu.func @attention_grad_0
// MMA:           gpu.dynamic_shared_memory
// MMA-COUNT-4:   memref.view {{.*}} to memref<64x72xbf16, #gpu.address_space<workgroup>>
// MMA:           nvvm.cp.async.shared.global
// MMA:           nvvm.cp.async.wait.group 0
// MMA:           scf.for {{.*}} step %c16{{.*}} -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// MMA-COUNT-16:    nvvm.mma.sync
// MMA:             nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<col>
// MMA-COUNT-16:    nvvm.mma.sync
// MMA:         } else {
// MMA:           scf.for {{.*}} step %c16{{.*}} -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// MMA-COUNT-16:    nvvm.mma.sync
// MMA:             nvvm.ldmatrix {{.*}}layout = #nvvm.mma_layout<col>
// MMA-COUNT-8:     nvvm.mma.sync

// -----

// f32, D = Dv = 128: Br = 8 keeps the tiles within 48 KiB; dynamic lengths
// classify tiles at run time (no plan tables).
!q = tensor<?x8x?x128xf32>
!k = tensor<?x8x?x128xf32>
!l = tensor<?x8x?xf32>
func.func @causal_dynamic(%q: !q, %k: !k, %v: !k, %o: !q, %do: !q, %lse: !l) -> (!q, !k, !k) {
  %dq, %dk, %dv = sattn.attention_grad %q, %k, %v, %o, %do, %lse mask(#sattn.causal) : (!q, !k, !k, !q, !q, !l) -> (!q, !k, !k)
  return %dq, %dk, %dv : !q, !k, !k
}
// CHECK-LABEL: func.func @causal_dynamic
// CHECK-SAME:    tile = <rows = 8, keys = 32>
// CHECK:       gpu.module @sattn_kernels
// CHECK-NOT:     memref.global
// CHECK:         gpu.func @attention_grad_0({{.*}}) workgroup(%{{.*}} : memref<32x129xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<32x129xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<8x128xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<8x128xf32, #gpu.address_space<workgroup>>

// -----

// Tensor cores, random blocks of 64 (a 64 x 64 block grid), dynamic lengths:
// PARTIAL tiles evaluate the mask once per row and key cell of the lane. The
// 16 keys of a warp lie in one cell, so the dK, dV blocks draw for the
// lane's 4 rows of each 16-row chunk (not 8 scores), the dQ blocks for its
// 2 rows of each 16-key chunk (not 8).
!q = tensor<1x4x?x64xf16>
!k = tensor<1x4x?x64xf16>
!l = tensor<1x4x?xf32>
func.func @random_cells(%q: !q, %k: !k, %v: !k, %o: !q, %do: !q, %lse: !l) -> (!q, !k, !k) {
  %dq, %dk, %dv = sattn.attention_grad %q, %k, %v, %o, %do, %lse mask(#sattn.random<block = 64, per_row = 2, seed = 5>) : (!q, !k, !k, !q, !q, !l) -> (!q, !k, !k)
  return %dq, %dk, %dv : !q, !k, !k
}
// MMA-LABEL:   func.func @random_cells
// MMA:         gpu.func @attention_grad_0
// MMA:           scf.for {{.*}} step %c16
// MMA-COUNT-4:     scf.while
// MMA-NOT:         scf.while
// MMA:             nvvm.mma.sync
// MMA:         } else {
// MMA:           scf.for {{.*}} step %c16
// MMA-COUNT-2:     scf.while
// MMA-NOT:         scf.while
// MMA:             nvvm.mma.sync
