// Longformer attention (Beltagy et al. 2020): a sliding window of 512 tokens
// around each position plus global attention on token 0 ([CLS]).
// B = 1, H = 8, L = 4096, D = 64, f32.
!qkv = tensor<1x8x4096x64xf32>
func.func @longformer(%q: !qkv, %k: !qkv, %v: !qkv) -> !qkv {
  %o = sattn.attention %q, %k, %v mask(#sattn.longformer<window = 512, global = [0]>)
      : (!qkv, !qkv, !qkv) -> !qkv
  return %o : !qkv
}
