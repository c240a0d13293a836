// The shapes of issue 12's structure bar: bf16, D = 128, N = 16384.
!t = tensor<1x16x16384x128xbf16>

func.func @causal(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) : (!t, !t, !t) -> !t
  return %o : !t
}

func.func @window(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.window<left = 255, right = 0>) : (!t, !t, !t) -> !t
  return %o : !t
}

func.func @bigbird(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.bigbird<block = 64, window = 3, global = 2, random = 3, seed = 0>) : (!t, !t, !t) -> !t
  return %o : !t
}

func.func @longformer(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.longformer<window = 512, global = [0]>) : (!t, !t, !t) -> !t
  return %o : !t
}
