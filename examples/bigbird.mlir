// BigBird attention (Zaheer et al. 2020): blocks of 64 tokens, a band of 3
// blocks, the first 2 blocks global, 3 random blocks per query block row.
// B = 1, H = 8, L = 4096, D = 64, bf16.
!qkv = tensor<1x8x4096x64xbf16>
func.func @bigbird(%q: !qkv, %k: !qkv, %v: !qkv) -> !qkv {
  %o = sattn.attention %q, %k, %v
      mask(#sattn.bigbird<block = 64, window = 3, global = 2, random = 3, seed = 0>)
      : (!qkv, !qkv, !qkv) -> !qkv
  return %o : !qkv
}
