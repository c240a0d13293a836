// Print, re-parse, print again: the same text, for every mask attribute.
// RUN: sattn-opt %s | FileCheck %s
// RUN: sattn-opt %s | sattn-opt | FileCheck %s
// RUN: sattn-opt %s -mlir-print-op-generic | sattn-opt | FileCheck %s

// CHECK-LABEL: func.func @primitives
func.func @primitives() attributes {
  // CHECK-SAME: a00 = #sattn.dense
  a00 = #sattn.dense,
  // CHECK-SAME: a01 = #sattn.causal
  a01 = #sattn.causal,
  // CHECK-SAME: a02 = #sattn.window<left = 128, right = 0>
  a02 = #sattn.window<left = 128, right = 0>,
  // CHECK-SAME: a03 = #sattn.dilated<left = 4, right = 2, dilation = 3>
  a03 = #sattn.dilated<left = 4, right = 2, dilation = 3>,
  // CHECK-SAME: a04 = #sattn.strided<stride = 64>
  a04 = #sattn.strided<stride = 64>,
  // CHECK-SAME: a05 = #sattn.global<tokens = [0, 7, 100]>
  a05 = #sattn.global<tokens = [100, 0, 7]>,
  // CHECK-SAME: a06 = #sattn.sink<tokens = 4>
  a06 = #sattn.sink<tokens = 4>,
  // CHECK-SAME: a07 = #sattn.block_sparse<block = [64, 32], layout = dense<{{\[}}[true, false], [false, true]]> : tensor<2x2xi1>>
  a07 = #sattn.block_sparse<block = [64, 32], layout = dense<[[true, false], [false, true]]> : tensor<2x2xi1>>,
  // CHECK-SAME: a08 = #sattn.block_sparse<block = [16, 16], layout = dense<true> : tensor<4x4xi1>>
  a08 = #sattn.block_sparse<block = [16, 16], layout = dense<true> : tensor<4x4xi1>>,
  // CHECK-SAME: a09 = #sattn.random<block = 64, per_row = 3, seed = 42>
  a09 = #sattn.random<block = 64, per_row = 3, seed = 42>,
  // CHECK-SAME: a10 = #sattn.random<block = 8, per_row = 1, seed = 18446744073709551615>
  a10 = #sattn.random<block = 8, per_row = 1, seed = -1>
} {
  return
}

// CHECK-LABEL: func.func @combinators
func.func @combinators() attributes {
  // CHECK-SAME: c0 = #sattn.union<[#sattn.causal, #sattn.sink<tokens = 4>]>
  c0 = #sattn.union<[#sattn.causal, #sattn.sink<tokens = 4>]>,
  // CHECK-SAME: c1 = #sattn.intersect<[#sattn.causal, #sattn.union<[#sattn.window<left = 3, right = 0>, #sattn.strided<stride = 4>]>]>
  c1 = #sattn.intersect<[#sattn.causal, #sattn.union<[#sattn.window<left = 3, right = 0>, #sattn.strided<stride = 4>]>]>,
  // CHECK-SAME: c2 = #sattn.complement<#sattn.window<left = 1, right = 1>>
  c2 = #sattn.complement<#sattn.window<left = 1, right = 1>>,
  // CHECK-SAME: c3 = #sattn.union<[#sattn.causal]>
  c3 = #sattn.union<[#sattn.causal]>
} {
  return
}

// CHECK-LABEL: func.func @presets
func.func @presets() attributes {
  // CHECK-SAME: p0 = #sattn.longformer<window = 512, global = [0, 1]>
  p0 = #sattn.longformer<window = 512, global = [1, 0]>,
  // CHECK-SAME: p1 = #sattn.bigbird<block = 64, window = 3, global = 2, random = 3, seed = 0>
  p1 = #sattn.bigbird<block = 64, window = 3, global = 2, random = 3, seed = 0>,
  // CHECK-SAME: p2 = #sattn.sparse_transformer<stride = 128>
  p2 = #sattn.sparse_transformer<stride = 128>,
  // CHECK-SAME: p3 = #sattn.streaming<sink = 4, window = 1024>
  p3 = #sattn.streaming<sink = 4, window = 1024>
} {
  return
}

// The facts a conversion writes about its kernels (SAttnKernelAttrs.td).
// CHECK-LABEL: func.func @kernel_facts
func.func @kernel_facts() attributes {
  // CHECK-SAME: sattn.gpu_launches = [#sattn.gpu_launch<kernel = @sattn_kernels::@attention_0, tile = <rows = 128, keys = 64>, grid = [query_tiles, q_heads, sequences], threads = 256, shared_memory = 71680, tensor_cores = true, writes_lse = true, params = [q, k, v, o, lse, q_heads, kv_heads, q_len, k_len, cu_seqlens_q, cu_seqlens_k]>]
  sattn.gpu_launches = [#sattn.gpu_launch<kernel = @sattn_kernels::@attention_0, tile = <rows = 128, keys = 64>, grid = [query_tiles, q_heads, sequences], threads = 256, shared_memory = 71680, tensor_cores = true, writes_lse = true, params = [q, k, v, o, lse, q_heads, kv_heads, q_len, k_len, cu_seqlens_q, cu_seqlens_k]>],
  // CHECK-SAME: t = #sattn.tile<rows = 32, keys = 64>
  t = #sattn.tile<rows = 32, keys = 64>
} {
  return
}

// Heavy query tiles cut into parts: the calls and the slots (printed only
// when not 0).
// CHECK-LABEL: func.func @kernel_parts
func.func @kernel_parts() attributes {
  // CHECK-SAME: l = #sattn.gpu_launch<kernel = @sattn_kernels::@attention_0, tile = <rows = 128, keys = 64>, grid = [calls, q_heads, batch], threads = 256, shared_memory = 71680, tensor_cores = true, writes_lse = false, params = [q, k, v, o, lse, q_heads, kv_heads, q_len, k_len, partials, part_counters], calls = 135, part_slots = 8>
  l = #sattn.gpu_launch<kernel = @sattn_kernels::@attention_0, tile = <rows = 128, keys = 64>, grid = [calls, q_heads, batch], threads = 256, shared_memory = 71680, tensor_cores = true, writes_lse = false, params = [q, k, v, o, lse, q_heads, kv_heads, q_len, k_len, partials, part_counters], calls = 135, part_slots = 8>
} {
  return
}

// CHECK-LABEL: func.func @cpu_kernel_facts
func.func @cpu_kernel_facts() attributes {
  // CHECK-SAME: sattn.cpu_kernels = [#sattn.cpu_kernel<tile = <rows = 8, keys = 64>, spaces = 1, packed_heads = 4, split_keys = true>]
  sattn.cpu_kernels = [#sattn.cpu_kernel<tile = <rows = 8, keys = 64>, spaces = 1, packed_heads = 4, split_keys = true>]
} {
  return
}
