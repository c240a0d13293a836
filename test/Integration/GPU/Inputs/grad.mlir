// Backward specs for the GPU tests: bf16 D = 128 causal at N = 4096, and f16
// longformer with softcap and ALiBi under GQA at a dynamic length.
!b = tensor<1x8x4096x128xbf16>
!bl = tensor<1x8x4096xf32>
func.func @causal_bf16(%q: !b, %k: !b, %v: !b, %o: !b, %do: !b, %lse: !bl) -> (!b, !b, !b) {
  %dq, %dk, %dv = sattn.attention_grad %q, %k, %v, %o, %do, %lse mask(#sattn.causal) : (!b, !b, !b, !b, !b, !bl) -> (!b, !b, !b)
  return %dq, %dk, %dv : !b, !b, !b
}

!q = tensor<1x4x?x64xf16>
!k = tensor<1x2x?x64xf16>
!l = tensor<1x4x?xf32>
func.func @longformer_f16(%q: !q, %k: !k, %v: !k, %o: !q, %do: !q, %lse: !l) -> (!q, !k, !k) {
  %dq, %dk, %dv = sattn.attention_grad %q, %k, %v, %o, %do, %lse mask(#sattn.union<[#sattn.window<left = 64, right = 64>, #sattn.global<tokens = [0, 1, 2]>]>) softcap(30.0) alibi_slopes([0.5, 0.25, 0.125, 0.0625]) : (!q, !k, !k, !q, !q, !l) -> (!q, !k, !k)
  return %dq, %dk, %dv : !q, !k, !k
}
