// Every diagnostic of the mask attributes, with its location.
// RUN: sattn-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{'#sattn.window' parameter 'left' must be >= 0, got -1}}
func.func private @f0() attributes {m = #sattn.window<left = -1, right = 0>}

// -----

// expected-error @+1 {{'#sattn.window' parameter 'right' must be >= 0, got -2}}
func.func private @f1() attributes {m = #sattn.window<left = 0, right = -2>}

// -----

// expected-error @+1 {{expected ','}}
func.func private @f2() attributes {m = #sattn.window<left = 1>}

// -----

// expected-error @+1 {{expected 'left'}}
func.func private @f3() attributes {m = #sattn.window<right = 1, left = 2>}

// -----

// expected-error @+2 {{integer value too large}}
// expected-error @+1 {{failed to parse SAttn_WindowAttr parameter 'left'}}
func.func private @f4() attributes {m = #sattn.window<left = 99999999999999999999, right = 0>}

// -----

// expected-error @+1 {{'#sattn.dilated' parameter 'dilation' must be >= 1, got 0}}
func.func private @f5() attributes {m = #sattn.dilated<left = 2, right = 2, dilation = 0>}

// -----

// expected-error @+1 {{'#sattn.dilated' parameter 'left' must be >= 0, got -1}}
func.func private @f6() attributes {m = #sattn.dilated<left = -1, right = 2, dilation = 2>}

// -----

// expected-error @+1 {{'#sattn.strided' parameter 'stride' must be >= 1, got 0}}
func.func private @f7() attributes {m = #sattn.strided<stride = 0>}

// -----

// expected-error @+1 {{'#sattn.global' needs at least one global token}}
func.func private @f8() attributes {m = #sattn.global<tokens = []>}

// -----

// expected-error @+1 {{'#sattn.global' global tokens must be >= 0, got -1}}
func.func private @f9() attributes {m = #sattn.global<tokens = [3, -1]>}

// -----

// expected-error @+1 {{'#sattn.global' global token 0 appears more than once}}
func.func private @f10() attributes {m = #sattn.global<tokens = [0, 5, 0]>}

// -----

// expected-error @+1 {{'#sattn.sink' parameter 'tokens' must be >= 1, got 0}}
func.func private @f11() attributes {m = #sattn.sink<tokens = 0>}

// -----

// expected-error @+1 {{'#sattn.block_sparse' parameter 'block[0]' must be >= 1, got 0}}
func.func private @f12() attributes {m = #sattn.block_sparse<block = [0, 4], layout = dense<true> : tensor<2x2xi1>>}

// -----

// expected-error @+1 {{'#sattn.block_sparse' parameter 'block[1]' must be >= 1, got -4}}
func.func private @f13() attributes {m = #sattn.block_sparse<block = [4, -4], layout = dense<true> : tensor<2x2xi1>>}

// -----

// expected-error @+1 {{'#sattn.block_sparse' layout must be a dense i1 elements attribute, got 5 : i64}}
func.func private @f14() attributes {m = #sattn.block_sparse<block = [4, 4], layout = 5 : i64>}

// -----

// expected-error @+1 {{'#sattn.block_sparse' layout must be a rank-2 tensor of i1, got 'tensor<4xi1>'}}
func.func private @f15() attributes {m = #sattn.block_sparse<block = [4, 4], layout = dense<true> : tensor<4xi1>>}

// -----

// expected-error @+1 {{'#sattn.block_sparse' layout must be a rank-2 tensor of i1, got 'tensor<2x2xi32>'}}
func.func private @f16() attributes {m = #sattn.block_sparse<block = [4, 4], layout = dense<1> : tensor<2x2xi32>>}

// -----

// expected-error @+1 {{'#sattn.random' parameter 'block' must be >= 1, got 0}}
func.func private @f17() attributes {m = #sattn.random<block = 0, per_row = 1, seed = 0>}

// -----

// expected-error @+1 {{'#sattn.random' parameter 'per_row' must be >= 1, got 0}}
func.func private @f18() attributes {m = #sattn.random<block = 64, per_row = 0, seed = 0>}

// -----

// expected-error @+2 {{seed must lie in [-2^63, 2^64)}}
// expected-error @+1 {{failed to parse SAttn_RandomAttr parameter 'seed'}}
func.func private @f19() attributes {m = #sattn.random<block = 64, per_row = 1, seed = 18446744073709551616>}

// -----

// expected-error @+2 {{seed must lie in [-2^63, 2^64)}}
// expected-error @+1 {{failed to parse SAttn_RandomAttr parameter 'seed'}}
func.func private @f20() attributes {m = #sattn.random<block = 64, per_row = 1, seed = -9223372036854775809>}

// -----

// expected-error @+2 {{expected an integer seed}}
// expected-error @+1 {{failed to parse SAttn_RandomAttr parameter 'seed'}}
func.func private @f21() attributes {m = #sattn.random<block = 64, per_row = 1, seed = abc>}

// -----

// expected-error @+1 {{'#sattn.union' must have at least one member}}
func.func private @f22() attributes {m = #sattn.union<[]>}

// -----

// expected-error @+1 {{members of '#sattn.union' must be mask attributes (#sattn.*), got 5 : i64}}
func.func private @f23() attributes {m = #sattn.union<[#sattn.causal, 5 : i64]>}

// -----

// expected-error @+1 {{'#sattn.intersect' must have at least one member}}
func.func private @f24() attributes {m = #sattn.intersect<[]>}

// -----

// expected-error @+1 {{members of '#sattn.intersect' must be mask attributes (#sattn.*), got unit}}
func.func private @f25() attributes {m = #sattn.intersect<[unit]>}

// -----

// expected-error @+1 {{members of '#sattn.complement' must be mask attributes (#sattn.*), got "causal"}}
func.func private @f26() attributes {m = #sattn.complement<"causal">}

// -----

// expected-error @+1 {{'#sattn.longformer' parameter 'window' must be an even number >= 2, got 3}}
func.func private @f27() attributes {m = #sattn.longformer<window = 3, global = [0]>}

// -----

// expected-error @+1 {{'#sattn.longformer' parameter 'window' must be an even number >= 2, got 0}}
func.func private @f28() attributes {m = #sattn.longformer<window = 0, global = [0]>}

// -----

// expected-error @+1 {{'#sattn.longformer' global token 1 appears more than once}}
func.func private @f29() attributes {m = #sattn.longformer<window = 4, global = [1, 1]>}

// -----

// expected-error @+1 {{'#sattn.longformer' needs at least one global token}}
func.func private @f30() attributes {m = #sattn.longformer<window = 4, global = []>}

// -----

// expected-error @+1 {{'#sattn.bigbird' parameter 'block' must be >= 1, got 0}}
func.func private @f31() attributes {m = #sattn.bigbird<block = 0, window = 3, global = 2, random = 3, seed = 0>}

// -----

// expected-error @+1 {{'#sattn.bigbird' parameter 'window' must be an odd number of blocks >= 1, got 2}}
func.func private @f32() attributes {m = #sattn.bigbird<block = 64, window = 2, global = 2, random = 3, seed = 0>}

// -----

// expected-error @+1 {{'#sattn.bigbird' parameter 'global' must be >= 0, got -1}}
func.func private @f33() attributes {m = #sattn.bigbird<block = 64, window = 3, global = -1, random = 3, seed = 0>}

// -----

// expected-error @+1 {{'#sattn.bigbird' parameter 'random' must be >= 0, got -3}}
func.func private @f34() attributes {m = #sattn.bigbird<block = 64, window = 3, global = 1, random = -3, seed = 0>}

// -----

// expected-error @+1 {{'#sattn.sparse_transformer' parameter 'stride' must be >= 1, got 0}}
func.func private @f35() attributes {m = #sattn.sparse_transformer<stride = 0>}

// -----

// expected-error @+1 {{'#sattn.streaming' parameter 'sink' must be >= 1, got 0}}
func.func private @f36() attributes {m = #sattn.streaming<sink = 0, window = 4>}

// -----

// expected-error @+1 {{'#sattn.streaming' parameter 'window' must be >= 1, got 0}}
func.func private @f37() attributes {m = #sattn.streaming<sink = 4, window = 0>}

// -----

// expected-error @+1 {{unknown attribute `banded` in dialect `sattn`}}
func.func private @f38() attributes {m = #sattn.banded<width = 3>}

// -----

// expected-error @+1 {{tile rows and keys must be in [1, 1024], got 0 x 64}}
func.func private @f39() attributes {t = #sattn.tile<rows = 0, keys = 64>}

// -----

// expected-error @+2 {{expected one of [q, k, v, o, lse, q_heads, kv_heads, q_len, k_len, block_table, seq_lens, num_pages, max_pages, cu_seqlens_q, cu_seqlens_k, grad_output, grad_query, grad_key, grad_value, partials, part_counters] for a parameter of a GPU kernel, got: query}}
// expected-error @+1 {{failed to parse SAttn_GpuLaunchAttr parameter 'params'}}
func.func private @f40() attributes {l = #sattn.gpu_launch<kernel = @m::@k, tile = <rows = 128, keys = 64>, grid = [query_tiles, q_heads, batch], threads = 256, shared_memory = 0, tensor_cores = true, writes_lse = false, params = [query]>}

// -----

// expected-error @+1 {{'#sattn.gpu_launch' has `calls` in its grid but calls = 0}}
func.func private @f41() attributes {l = #sattn.gpu_launch<kernel = @m::@k, tile = <rows = 128, keys = 64>, grid = [calls, q_heads, batch], threads = 256, shared_memory = 0, tensor_cores = true, writes_lse = false, params = [q]>}

// -----

// expected-error @+1 {{'#sattn.gpu_launch' has calls = 12 but no `calls` in its grid}}
func.func private @f42() attributes {l = #sattn.gpu_launch<kernel = @m::@k, tile = <rows = 128, keys = 64>, grid = [query_tiles, q_heads, batch], threads = 256, shared_memory = 0, tensor_cores = true, writes_lse = false, params = [q], calls = 12>}

// -----

// expected-error @+1 {{'#sattn.gpu_launch' must list both `partials` and `part_counters` in its params when part_slots > 0, and neither otherwise (part_slots = 2)}}
func.func private @f43() attributes {l = #sattn.gpu_launch<kernel = @m::@k, tile = <rows = 128, keys = 64>, grid = [calls, q_heads, batch], threads = 256, shared_memory = 0, tensor_cores = true, writes_lse = false, params = [q, partials], calls = 3, part_slots = 2>}

// -----

// expected-error @+1 {{'#sattn.gpu_launch' must list both `partials` and `part_counters` in its params when part_slots > 0, and neither otherwise (part_slots = 0)}}
func.func private @f44() attributes {l = #sattn.gpu_launch<kernel = @m::@k, tile = <rows = 128, keys = 64>, grid = [query_tiles, q_heads, batch], threads = 256, shared_memory = 0, tensor_cores = true, writes_lse = false, params = [q, partials, part_counters]>}
