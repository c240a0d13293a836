func.func @f(%q: tensor<?x?x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<?x?x8x16xf32> {
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) softcap(30.0) alibi_slopes([0.5, 0.25, 0.125, 0.0625]) : (tensor<?x?x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<?x?x8x16xf32>
  %g = "sattn.attention"(%q, %k, %v) {mask = #sattn.dense, softcap = 5.0 : f32, alibi_slopes = array<f32: 1.0, 2.0>} : (tensor<?x?x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<?x?x8x16xf32>
  return %o : tensor<?x?x8x16xf32>
}
