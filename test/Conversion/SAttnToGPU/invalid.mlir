// RUN: sattn-opt %s -convert-sattn-to-gpu -split-input-file -verify-diagnostics

// f32 with D = Dv = 256: even 4 query rows and 32 keys need more than the
// 48 KiB of static shared memory a CUDA kernel may use.
func.func @head_dim_too_large(%q: tensor<1x1x64x256xf32>, %k: tensor<1x1x64x256xf32>, %v: tensor<1x1x64x256xf32>) -> tensor<1x1x64x256xf32> {
  // expected-error @+1 {{'sattn.attention' op head dims D = 256, Dv = 256 with 'f32' need 70272 bytes of shared memory for the smallest GPU tile; the limit is 49152}}
  %o = sattn.attention %q, %k, %v mask(#sattn.causal)
      : (tensor<1x1x64x256xf32>, tensor<1x1x64x256xf32>, tensor<1x1x64x256xf32>) -> tensor<1x1x64x256xf32>
  return %o : tensor<1x1x64x256xf32>
}

// -----

// bf16 halves the key/value tiles: D = 256 fits (Br = 8).
func.func @bf16_fits(%q: tensor<1x1x64x256xbf16>, %k: tensor<1x1x64x256xbf16>, %v: tensor<1x1x64x256xbf16>) -> tensor<1x1x64x256xbf16> {
  %o = sattn.attention %q, %k, %v mask(#sattn.causal)
      : (tensor<1x1x64x256xbf16>, tensor<1x1x64x256xbf16>, tensor<1x1x64x256xbf16>) -> tensor<1x1x64x256xbf16>
  return %o : tensor<1x1x64x256xbf16>
}

// -----

// The backward's tiles: K, V tiles of 32 keys and Q, dO tiles of Br rows in
// static shared memory; f32 D = Dv = 256 does not fit even with Br = 4.
!t = tensor<1x1x64x256xf32>
func.func @grad_head_dim_too_large(%q: !t, %lse: tensor<1x1x64xf32>) -> (!t, !t, !t) {
  // expected-error @+1 {{'sattn.attention_grad' op head dims D = 256, Dv = 256 with 'f32' need 75552 bytes of shared memory for the smallest GPU backward tile; the limit is 49152}}
  %dq, %dk, %dv = sattn.attention_grad %q, %q, %q, %q, %q, %lse mask(#sattn.causal) : (!t, !t, !t, !t, !t, tensor<1x1x64xf32>) -> (!t, !t, !t)
  return %dq, %dk, %dv : !t, !t, !t
}
