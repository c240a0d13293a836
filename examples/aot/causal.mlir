// The spec compiled ahead of time by examples/aot (sattn-compile).
!t = tensor<1x2x100x32xf32>
func.func @causal_attention(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) : (!t, !t, !t) -> !t
  return %o : !t
}
