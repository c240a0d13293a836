// Every diagnostic of sattn.attention, with its location.
// RUN: sattn-opt %s -split-input-file -verify-diagnostics

func.func @f(%q: tensor<1x8x16x64xf32>, %k: tensor<1x8x16x64xf16>, %v: tensor<1x8x16x64xf32>) {
  // expected-error @+1 {{key element type 'f16' differs from the query element type 'f32' (Q, K, V and O share one element type)}}
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf16>, tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32>
  return
}

// -----

func.func @f(%q: tensor<1x8x16x64xf32>, %k: tensor<1x8x16x64xf32>, %v: tensor<1x8x16x64xf32>) {
  // expected-error @+1 {{result 'output' element type 'bf16' differs from the query element type 'f32'}}
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xbf16>
  return
}

// -----

func.func @f(%q: tensor<2x8x16x64xf32>, %k: tensor<1x8x16x64xf32>, %v: tensor<1x8x16x64xf32>) {
  // expected-error @+1 {{batch sizes differ: query 2, key 1, value 1}}
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) : (tensor<2x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>) -> tensor<2x8x16x64xf32>
  return
}

// -----

func.func @f(%q: tensor<1x8x16x64xf32>, %k: tensor<1x4x16x64xf32>, %v: tensor<1x2x16x64xf32>) {
  // expected-error @+1 {{key and value must have the same number of heads (Hkv), got 4 and 2}}
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) : (tensor<1x8x16x64xf32>, tensor<1x4x16x64xf32>, tensor<1x2x16x64xf32>) -> tensor<1x8x16x64xf32>
  return
}

// -----

func.func @f(%q: tensor<1x8x16x64xf32>, %k: tensor<1x8x16x64xf32>, %v: tensor<1x8x12x64xf32>) {
  // expected-error @+1 {{key and value must have the same length (Lk), got 16 and 12}}
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x12x64xf32>) -> tensor<1x8x16x64xf32>
  return
}

// -----

func.func @f(%q: tensor<1x8x16x64xf32>, %k: tensor<1x3x16x64xf32>, %v: tensor<1x3x16x64xf32>) {
  // expected-error @+1 {{query heads (Hq = 8) must be a multiple of key/value heads (Hkv = 3)}}
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) : (tensor<1x8x16x64xf32>, tensor<1x3x16x64xf32>, tensor<1x3x16x64xf32>) -> tensor<1x8x16x64xf32>
  return
}

// -----

func.func @f(%q: tensor<1x8x16x64xf32>, %k: tensor<1x8x16x32xf32>, %v: tensor<1x8x16x64xf32>) {
  // expected-error @+1 {{query and key head dims (D) differ: 64 vs 32}}
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) : (tensor<1x8x16x64xf32>, tensor<1x8x16x32xf32>, tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32>
  return
}

// -----

func.func @f(%q: tensor<1x8x16x?xf32>, %k: tensor<1x8x16x?xf32>, %v: tensor<1x8x16x64xf32>) {
  // expected-error @+1 {{head dims D (query, key) and Dv (value) must be static}}
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) : (tensor<1x8x16x?xf32>, tensor<1x8x16x?xf32>, tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32>
  return
}

// -----

func.func @f(%q: tensor<1x8x16x64xf32>, %k: tensor<1x8x16x64xf32>, %v: tensor<1x8x16x32xf32>) {
  // expected-error @+1 {{result 'output' must have shape [B, Hq, Lq, Dv] = [1, 8, 16, 32], got 'tensor<1x8x16x64xf32>'}}
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x32xf32>) -> tensor<1x8x16x64xf32>
  return
}

// -----

func.func @f(%q: tensor<?x8x16x64xf32>, %k: tensor<?x8x16x64xf32>, %v: tensor<?x8x16x64xf32>) {
  // expected-error @+1 {{result 'output' must have shape [B, Hq, Lq, Dv] = [?, 8, 16, 64], got 'tensor<1x8x16x64xf32>'}}
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) : (tensor<?x8x16x64xf32>, tensor<?x8x16x64xf32>, tensor<?x8x16x64xf32>) -> tensor<1x8x16x64xf32>
  return
}

// -----

func.func @f(%q: tensor<1x8x16x64xf32>, %k: tensor<1x8x16x64xf32>, %v: tensor<1x8x16x64xf32>) {
  // expected-error @+1 {{result 'lse' must have shape [B, Hq, Lq] = [1, 8, 16], got 'tensor<1x8x8xf32>'}}
  %o, %l = sattn.attention %q, %k, %v mask(#sattn.causal) : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>) -> (tensor<1x8x16x64xf32>, tensor<1x8x8xf32>)
  return
}

// -----

func.func @f(%q: tensor<1x8x16x64xf32>, %k: tensor<1x8x16x64xf32>, %v: tensor<1x8x16x64xf32>) {
  // expected-error @+1 {{result #1 must be rank-3 tensor of f32 of 32-bit float values, but got}}
  %o, %l = sattn.attention %q, %k, %v mask(#sattn.causal) : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>) -> (tensor<1x8x16x64xf32>, tensor<1x8x16xf16>)
  return
}

// -----

func.func @f(%q: tensor<1x8x16x64xi32>, %k: tensor<1x8x16x64xi32>, %v: tensor<1x8x16x64xi32>) {
  // expected-error @+1 {{operand #0 must be rank-4 tensor of f32, f16 or bf16}}
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) : (tensor<1x8x16x64xi32>, tensor<1x8x16x64xi32>, tensor<1x8x16x64xi32>) -> tensor<1x8x16x64xi32>
  return
}

// -----

func.func @f(%q: tensor<8x16x64xf32>, %k: tensor<1x8x16x64xf32>, %v: tensor<1x8x16x64xf32>) {
  // expected-error @+1 {{operand #0 must be rank-4 tensor of f32, f16 or bf16}}
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) : (tensor<8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32>
  return
}

// -----

func.func @f(%q: tensor<1x8x16x64xf32>, %k: tensor<1x8x16x64xf32>, %v: tensor<1x8x16x64xf32>) {
  // expected-error @+1 {{'scale' must be a finite f32}}
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) scale(0x7F800000) : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32>
  return
}

// -----

func.func @f(%q: tensor<1x1x10x16xf32>, %k: tensor<1x1x10x16xf32>, %v: tensor<1x1x10x16xf32>) {
  // expected-error @+1 {{mask: '#sattn.block_sparse' layout of 2x3 blocks does not cover Lk = 10: needs at least 3x3}}
  %o = sattn.attention %q, %k, %v mask(#sattn.block_sparse<block = [4, 4], layout = dense<true> : tensor<2x3xi1>>) : (tensor<1x1x10x16xf32>, tensor<1x1x10x16xf32>, tensor<1x1x10x16xf32>) -> tensor<1x1x10x16xf32>
  return
}

// -----

func.func @f(%q: tensor<1x1x10x16xf32>, %k: tensor<1x1x10x16xf32>, %v: tensor<1x1x10x16xf32>) {
  // expected-error @+1 {{mask: '#sattn.block_sparse' layout of 3x2 blocks does not cover Lk = 10: needs at least 3x3}}
  %o = sattn.attention %q, %k, %v mask(#sattn.union<[#sattn.causal, #sattn.block_sparse<block = [4, 4], layout = dense<true> : tensor<3x2xi1>>]>) : (tensor<1x1x10x16xf32>, tensor<1x1x10x16xf32>, tensor<1x1x10x16xf32>) -> tensor<1x1x10x16xf32>
  return
}

// -----

func.func @f(%q: tensor<1x1x10x16xf32>, %k: tensor<1x1x10x16xf32>, %v: tensor<1x1x10x16xf32>) {
  // expected-error @+1 {{'mask' must be a mask attribute (#sattn.*), got 5 : i64}}
  %o = sattn.attention %q, %k, %v mask(5 : i64) : (tensor<1x1x10x16xf32>, tensor<1x1x10x16xf32>, tensor<1x1x10x16xf32>) -> tensor<1x1x10x16xf32>
  return
}

// -----

func.func @f(%q: tensor<1x1x4x8xf32>, %k: tensor<1x1x4x8xf32>, %v: tensor<1x1x4x8xf32>) {
  // expected-error @+1 {{requires attribute 'mask'}}
  %o = "sattn.attention"(%q, %k, %v) {scale = 1.0 : f32} : (tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32>
  return
}

// -----

func.func @f(%q: tensor<1x1x4x8xf32>, %k: tensor<1x1x4x8xf32>, %v: tensor<1x1x4x8xf32>) {
  // expected-error @+1 {{attribute 'mask' failed to satisfy constraint: MaskAttrInterface instance}}
  %o = "sattn.attention"(%q, %k, %v) {mask = 5 : i64} : (tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32>
  return
}

// -----

func.func @f(%q: tensor<1x1x4x8xf32>, %k: tensor<1x1x4x8xf32>, %v: tensor<1x1x4x8xf32>) {
  // expected-error @+1 {{attribute 'scale' failed to satisfy constraint: 32-bit float attribute}}
  %o = "sattn.attention"(%q, %k, %v) {mask = #sattn.causal, scale = 1.0 : f64} : (tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32>
  return
}

// -----

func.func @f(%q: tensor<1x1x4x8xf32>, %k: tensor<1x1x4x8xf32>, %v: tensor<1x1x4x8xf32>) {
  // expected-error @+1 {{expected 3 operands, but found 2}}
  %o = "sattn.attention"(%q, %k) {mask = #sattn.causal} : (tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32>
  return
}

// -----

func.func @tile_not_an_array(%q: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{'sattn.tile' must be #sattn.tile<rows = Br, keys = Bc>, got "big"}}
  %o = sattn.attention %q, %q, %q mask(#sattn.causal) {sattn.tile = "big"} : (tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @tile_too_large(%q: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{tile rows and keys must be in [1, 1024], got 32 x 4096}}
  %o = sattn.attention %q, %q, %q mask(#sattn.causal) {sattn.tile = #sattn.tile<rows = 32, keys = 4096>} : (tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @unknown_discardable_attr(%q: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{unknown attribute 'sattn.tiles' of the sattn dialect (known: sattn.cpu_kernels, sattn.gpu_launches, sattn.iteration_space, sattn.tile)}}
  %o = sattn.attention %q, %q, %q mask(#sattn.causal) {sattn.tiles = array<i64: 32, 64>} : (tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

// expected-error @+1 {{'sattn.iteration_space' must be {mask = <mask>, shift = <i64>, stride = <i64 >= 1>}, got {mask = #sattn.causal, shift = 0 : i64, stride = 0 : i64}}}
func.func private @bad_iteration_space() attributes {sattn.iteration_space = {mask = #sattn.causal, shift = 0 : i64, stride = 0 : i64}}

// -----

// expected-error @+1 {{'sattn.iteration_space' must be {mask = <mask>, shift = <i64>, stride = <i64 >= 1>}, got {shift = 0 : i64, stride = 4 : i64}}}
func.func private @iteration_space_without_mask() attributes {sattn.iteration_space = {shift = 0 : i64, stride = 4 : i64}}

// -----

func.func @f(%q: tensor<1x2x16x64xf32>, %k: tensor<1x1x16x64xf32>, %v: tensor<1x1x16x64xf32>) {
  // expected-error @+1 {{'softcap' must be a finite f32 > 0, got 0.000000e+00 (omit it for no softcap)}}
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) softcap(0.0) : (tensor<1x2x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>) -> tensor<1x2x16x64xf32>
  return
}

// -----

func.func @f(%q: tensor<1x2x16x64xf32>, %k: tensor<1x1x16x64xf32>, %v: tensor<1x1x16x64xf32>) {
  // expected-error @+1 {{'softcap' must be a finite f32 > 0, got -3.000000e+01}}
  %o = "sattn.attention"(%q, %k, %v) {mask = #sattn.causal, softcap = -30.0 : f32} : (tensor<1x2x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>) -> tensor<1x2x16x64xf32>
  return
}

// -----

func.func @f(%q: tensor<1x2x16x64xf32>, %k: tensor<1x1x16x64xf32>, %v: tensor<1x1x16x64xf32>) {
  // expected-error @+1 {{'softcap' must be a finite f32 > 0, got INF}}
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) softcap(0x7F800000) : (tensor<1x2x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>) -> tensor<1x2x16x64xf32>
  return
}

// -----

func.func @f(%q: tensor<1x2x16x64xf32>, %k: tensor<1x1x16x64xf32>, %v: tensor<1x1x16x64xf32>) {
  // expected-error @+1 {{'alibi_slopes' must have one slope per query head (Hq = 2), got 3}}
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) alibi_slopes([0.5, 0.25, 0.125]) : (tensor<1x2x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>) -> tensor<1x2x16x64xf32>
  return
}

// -----

func.func @f(%q: tensor<1x2x16x64xf32>, %k: tensor<1x1x16x64xf32>, %v: tensor<1x1x16x64xf32>) {
  // expected-error @+1 {{'alibi_slopes' must be finite, got nan for query head 1}}
  %o = "sattn.attention"(%q, %k, %v) {mask = #sattn.causal, alibi_slopes = array<f32: 0.5, 0x7FC00000>} : (tensor<1x2x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>) -> tensor<1x2x16x64xf32>
  return
}

// -----

func.func @f(%q: tensor<1x2x16x64xf32>, %k: tensor<1x1x16x64xf32>, %v: tensor<1x1x16x64xf32>) {
  // expected-error @+1 {{attribute 'alibi_slopes' failed to satisfy constraint: f32 dense array attribute}}
  %o = "sattn.attention"(%q, %k, %v) {mask = #sattn.causal, alibi_slopes = array<f64: 0.5, 0.25>} : (tensor<1x2x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>) -> tensor<1x2x16x64xf32>
  return
}

// -----

// expected-error @+1 {{'sattn.gpu_launches' must be an array of #sattn.gpu_launch, got [#sattn.tile<rows = 32, keys = 32>]}}
func.func @launches_not_launches() attributes {sattn.gpu_launches = [#sattn.tile<rows = 32, keys = 32>]} {
  return
}
