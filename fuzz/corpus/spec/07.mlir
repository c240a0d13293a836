func.func @d(%q: tensor<?x?x?x8xf16>, %k: tensor<?x?x?x8xf16>) -> (tensor<?x?x?x8xf16>, tensor<?x?x?xf32>) {
  %o, %l = sattn.attention %q, %k, %k mask(#sattn.causal) scale(0.5) : (tensor<?x?x?x8xf16>, tensor<?x?x?x8xf16>, tensor<?x?x?x8xf16>) -> (tensor<?x?x?x8xf16>, tensor<?x?x?xf32>)
  return %o, %l : tensor<?x?x?x8xf16>, tensor<?x?x?xf32>
}
