// RUN: sattn-opt %s -split-input-file -convert-sattn-to-loops=vector-bits=256 -verify-diagnostics
// RUN: not sattn-opt %s -convert-sattn-to-loops=vector-bits=128 2>&1 | FileCheck %s --check-prefix=BITS
// BITS: error: -convert-sattn-to-loops: vector-bits must be 0 (the host's widest), 256 or 512, got 128

func.func @bad_tile(%q: tensor<1x1x64x16xf32>) -> tensor<1x1x64x16xf32> {
  // expected-error @+1 {{'sattn.tile' rows must be a multiple of 8, got 12}}
  %o = sattn.attention %q, %q, %q mask(#sattn.causal) {sattn.tile = #sattn.tile<rows = 12, keys = 64>} : (tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32>) -> tensor<1x1x64x16xf32>
  return %o : tensor<1x1x64x16xf32>
}

// -----

func.func @head_dim_too_large(%q: tensor<1x1x8x600xf32>) -> tensor<1x1x8x600xf32> {
  // expected-error @+1 {{head dims D = 600, Dv = 600 exceed the CPU kernel's limit of 512}}
  %o = sattn.attention %q, %q, %q mask(#sattn.causal) : (tensor<1x1x8x600xf32>, tensor<1x1x8x600xf32>, tensor<1x1x8x600xf32>) -> tensor<1x1x8x600xf32>
  return %o : tensor<1x1x8x600xf32>
}

// -----

func.func @tile_scratch_too_large(%q: tensor<1x1x64x256xf32>) -> tensor<1x1x64x256xf32> {
  // expected-error @+1 {{'sattn.tile' = <rows = 1024, keys = 1024> with D = 256, Dv = 256 needs 6303744 bytes of scratch per thread; at most 1048576}}
  %o = sattn.attention %q, %q, %q mask(#sattn.causal) {sattn.tile = #sattn.tile<rows = 1024, keys = 1024>} : (tensor<1x1x64x256xf32>, tensor<1x1x64x256xf32>, tensor<1x1x64x256xf32>) -> tensor<1x1x64x256xf32>
  return %o : tensor<1x1x64x256xf32>
}

// -----

!g16 = tensor<1x1x64x16xf32>
func.func @grad_tile_keys_not_vectors(%q: !g16, %lse: tensor<1x1x64xf32>) -> (!g16, !g16, !g16) {
  // expected-error @+1 {{'sattn.tile' keys must be a multiple of 8, got 12}}
  %dq, %dk, %dv = sattn.attention_grad %q, %q, %q, %q, %q, %lse mask(#sattn.causal) {sattn.tile = #sattn.tile<rows = 16, keys = 12>} : (!g16, !g16, !g16, !g16, !g16, tensor<1x1x64xf32>) -> (!g16, !g16, !g16)
  return %dq, %dk, %dv : !g16, !g16, !g16
}

// -----

!g256 = tensor<1x1x64x256xf32>
func.func @grad_tile_scratch_too_large(%q: !g256, %lse: tensor<1x1x64xf32>) -> (!g256, !g256, !g256) {
  // expected-error @+1 {{'sattn.tile' = <rows = 512, keys = 256> with D = 256, Dv = 256 needs 2626560 bytes of scratch per thread; at most 1048576}}
  %dq, %dk, %dv = sattn.attention_grad %q, %q, %q, %q, %q, %lse mask(#sattn.causal) {sattn.tile = #sattn.tile<rows = 512, keys = 256>} : (!g256, !g256, !g256, !g256, !g256, tensor<1x1x64xf32>) -> (!g256, !g256, !g256)
  return %dq, %dk, %dv : !g256, !g256, !g256
}
