// Two attentions in one function: the CPU target takes it, nvvm does not.
!t = tensor<1x1x16x16xf32>
func.func @two(%q: !t, %k: !t, %v: !t) -> (!t, !t) {
  %a = sattn.attention %q, %k, %v mask(#sattn.causal) : (!t, !t, !t) -> !t
  %b = sattn.attention %q, %k, %v mask(#sattn.dense) : (!t, !t, !t) -> !t
  return %a, %b : !t, !t
}
