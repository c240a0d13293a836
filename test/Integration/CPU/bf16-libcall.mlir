// bf16 on x86 without AVX512-BF16: LLVM may legalize bf16 selects through
// calls of __truncsfbf2 (here: a mask that keeps nothing, dynamic shapes),
// which libgcc 12 does not have and the JIT could not resolve. Every object
// defines it (weak, hidden), so the JIT and AOT links find it.
// REQUIRES: numpy
// RUN: sattn-compile %s --emit=obj -o %t.o
// RUN: llvm-nm %t.o | FileCheck %s --check-prefix=SYM
// SYM: W __truncsfbf2
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -c "import numpy as np, ml_dtypes; r = np.random.default_rng(0); [np.save('%t/' + n + '.npy', r.uniform(-1, 1, s).astype(ml_dtypes.bfloat16)) for n, s in [('q', (1, 2, 8, 256)), ('k', (1, 1, 8, 256)), ('v', (1, 1, 8, 96))]]"
// RUN: sattn-run %s --input=@%t/q.npy --input=@%t/k.npy --input=@%t/v.npy --check | FileCheck %s
// CHECK: check result #0 (O): {{.*}}: ok

func.func @empty(%q: tensor<?x?x?x256xbf16>, %k: tensor<?x?x?x256xbf16>, %v: tensor<?x?x?x96xbf16>) -> tensor<?x?x?x96xbf16> {
  %o = sattn.attention %q, %k, %v mask(#sattn.complement<#sattn.dense>)
      : (tensor<?x?x?x256xbf16>, tensor<?x?x?x256xbf16>, tensor<?x?x?x96xbf16>) -> tensor<?x?x?x96xbf16>
  return %o : tensor<?x?x?x96xbf16>
}
