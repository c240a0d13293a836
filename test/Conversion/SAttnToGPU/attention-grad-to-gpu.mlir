// RUN: sattn-opt %s -convert-sattn-to-gpu -split-input-file | FileCheck %s

// The backward: one launch of ceil(Lk / 32) + ceil(Lq / Br) x Hq x B blocks.
// Blocks x < ceil(Lk / 32) with y < Hkv compute dK, dV of a key tile over the
// transposed plan (the query tiles of each key tile); the others dQ of a
// query tile over the forward's plan. bf16, D = 64: Br = 32.
!q = tensor<1x4x100x64xbf16>
!k = tensor<1x2x100x64xbf16>
!l = tensor<1x4x100xf32>
func.func @longformer_gqa(%q: !q, %k: !k, %v: !k, %o: !q, %do: !q, %lse: !l) -> (!q, !k, !k) {
  %dq, %dk, %dv = sattn.attention_grad %q, %k, %v, %o, %do, %lse mask(#sattn.union<[#sattn.window<left = 8, right = 8>, #sattn.global<tokens = [0, 1]>]>) : (!q, !k, !k, !q, !q, !l) -> (!q, !k, !k)
  return %dq, %dk, %dv : !q, !k, !k
}
// CHECK-LABEL: func.func @longformer_gqa
// CHECK-SAME:    sattn.gpu_launches = [#sattn.gpu_launch<kernel = @sattn_kernels::@attention_grad_0, tile = <rows = 32, keys = 32>, grid = [key_and_query_tiles, q_heads, batch], threads = 128, shared_memory = 0, tensor_cores = false, writes_lse = false, params = [q, k, v, o, grad_output, lse, grad_query, grad_key, grad_value, q_heads, kv_heads, q_len, k_len]>]
// CHECK:         %[[KT:.*]] = arith.ceildivui %{{.*}}, %c32{{.*}} : index
// CHECK:         %[[QT:.*]] = arith.ceildivui %{{.*}}, %c32{{.*}} : index
// CHECK:         %[[X:.*]] = arith.addi %[[KT]], %[[QT]] : index
// CHECK:         gpu.launch_func @sattn_kernels::@attention_grad_0 blocks in (%[[X]], {{.*}}) threads in (%c128
// CHECK-SAME:      args({{.*}} : memref<?xbf16>, {{.*}} : memref<?xbf16>, {{.*}} : memref<?xbf16>, {{.*}} : memref<?xbf16>, {{.*}} : memref<?xbf16>, {{.*}} : memref<?xf32>, {{.*}} : memref<?xbf16>, {{.*}} : memref<?xbf16>, {{.*}} : memref<?xbf16>, {{.*}} : index, {{.*}} : index, {{.*}} : index, {{.*}} : index)
// CHECK:       gpu.module @sattn_kernels
// CHECK-DAG:     memref.global "private" constant @attention_grad_0_queries_plan_offsets
// CHECK-DAG:     memref.global "private" constant @attention_grad_0_keys_plan_offsets
// CHECK:         gpu.func @attention_grad_0({{.*}}) workgroup(%[[KS:.*]] : memref<32x65xbf16, #gpu.address_space<workgroup>>, %[[VS:.*]] : memref<32x65xbf16, #gpu.address_space<workgroup>>, %[[QS:.*]] : memref<32x64xbf16, #gpu.address_space<workgroup>>, %[[DOS:.*]] : memref<32x64xbf16, #gpu.address_space<workgroup>>, %[[PS:.*]] : memref<32x32xf32, #gpu.address_space<workgroup>>, %[[DSS:.*]] : memref<32x32xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<32xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<32xf32, #gpu.address_space<workgroup>>, %[[USED:.*]] : memref<4x32xi32, #gpu.address_space<workgroup>>) kernel
// CHECK:           %[[BX:.*]] = gpu.block_id x
// CHECK:           %[[BY:.*]] = gpu.block_id y
// CHECK:           %[[NKT:.*]] = arith.ceildivui %arg12, %c32
// CHECK:           %[[KEYS:.*]] = arith.cmpi slt, %[[BX]], %[[NKT]]
// CHECK:           scf.if %[[KEYS]] {
// CHECK:             %[[KVH:.*]] = arith.cmpi slt, %[[BY]], %arg10
// CHECK:             scf.if %[[KVH]] {
// dK, dV blocks: the key tile once, then per query head of the group the
// query tiles of the transposed plan, dK and dV in 32 registers (D = Dv = 64).
// CHECK:               memref.store {{.*}}, %[[KS]]
// CHECK:               memref.store {{.*}}, %[[VS]]
// CHECK:               scf.for {{.*}} -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// CHECK:                 memref.get_global @attention_grad_0_keys_plan_offsets
// CHECK:                 memref.store {{.*}}, %[[QS]]
// CHECK:                 memref.store {{.*}}, %[[DOS]]
// CHECK:                 gpu.shuffle xor
// CHECK:                 memref.store {{.*}}, %[[PS]]
// CHECK:                 memref.store {{.*}}, %[[DSS]]
// CHECK:                 memref.store {{.*}}, %[[USED]]
// CHECK:                 gpu.barrier
// CHECK-COUNT-32:        llvm.intr.fma
// dQ blocks: the key tiles of the forward's plan, dQ of 8 rows x 2 columns
// per thread; PARTIAL tiles zero the K rows of keys no row keeps.
// CHECK:           } else {
// CHECK:             memref.get_global @attention_grad_0_queries_plan_offsets
// CHECK:             scf.for {{.*}} -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// CHECK:               memref.store {{.*}}, %[[DSS]]
// CHECK:               scf.if
// CHECK-COUNT-4:         memref.load %[[USED]]
// CHECK:               gpu.barrier
// CHECK:               scf.for
// CHECK-COUNT-16:        llvm.intr.fma

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
