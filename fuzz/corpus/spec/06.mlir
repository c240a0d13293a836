func.func @g(%q: tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32> {
  %o = "sattn.attention"(%q, %q, %q) {mask = #sattn.causal, scale = 1.250000000e-01 : f32} : (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32>
  %b = sattn.attention %o, %q, %o mask(#sattn.dense) {sattn.tile = array<i64: 32, 64>} : (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32>
  return %b : tensor<1x2x8x16xf32>
}
