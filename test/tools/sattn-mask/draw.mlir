// RUN: sattn-mask --mask='#sattn.causal' --lq=5 --lk=5 | FileCheck %s --check-prefix=CAUSAL
// RUN: sattn-mask --mask='#sattn.window<left = 1, right = 0>' --lq=3 --lk=6 | FileCheck %s --check-prefix=BOTTOMRIGHT
// RUN: sattn-mask %s | FileCheck %s --check-prefix=SPEC
// RUN: sattn-mask %s --lq=4 --lk=4 --png=%t.png | FileCheck %s --check-prefix=PNG
// RUN: %python -c "import sys; d = open(sys.argv[1], 'rb').read(); assert d[:8] == b'\x89PNG\r\n\x1a\n' and d[12:16] == b'IHDR' and d.endswith(b'IEND\xaeB\x60\x82'), d[:32]" %t.png
// Strided masks are PARTIAL in every tile; their pairs are counted from
// the bands of their iteration spaces (the numbers from a row-by-row count
// in Python).
// RUN: sattn-mask --mask='#sattn.strided<stride = 64>' --lq=16384 --lk=16384 | FileCheck %s --check-prefix=STRIDED
// RUN: sattn-mask --mask='#sattn.sparse_transformer<stride = 128>' --lq=16000 --lk=16384 | FileCheck %s --check-prefix=SPARSE
// RUN: sattn-mask --mask='#sattn.union<[#sattn.window<left = 10, right = 3>, #sattn.strided<stride = 4>]>' --lq=20000 --lk=20000 | FileCheck %s --check-prefix=UNION
// STRIDED: kept 4194304 of 268435456 pairs, density 0.015625
// SPARSE: kept 3088000 of 262144000 pairs
// UNION: kept 100219951 of 400000000 pairs

// CAUSAL:      mask #sattn.causal
// CAUSAL-NEXT: Lq = 5, Lk = 5 (row i is query position p = i + 0)
// CAUSAL-NEXT:     0 -> x . . . .
// CAUSAL-NEXT:     1 -> x x . . .
// CAUSAL-NEXT:     2 -> x x x . .
// CAUSAL-NEXT:     3 -> x x x x .
// CAUSAL-NEXT:     4 -> x x x x x
// CAUSAL-NEXT: kept 15 of 25 pairs, density 0.600000

// Lq < Lk: the queries sit at the last positions (bottom-right alignment).
// BOTTOMRIGHT:      (row i is query position p = i + 3)
// BOTTOMRIGHT-NEXT:     0 -> . . x x . .
// BOTTOMRIGHT-NEXT:     1 -> . . . x x .
// BOTTOMRIGHT-NEXT:     2 -> . . . . x x
// BOTTOMRIGHT-NEXT: kept 6 of 18 pairs, density 0.333333

// SPEC:      mask #sattn.streaming<sink = 1, window = 2>
// SPEC-NEXT: Lq = 4, Lk = 4
// SPEC-NEXT:     0 -> x . . .
// SPEC-NEXT:     1 -> x x . .
// SPEC-NEXT:     2 -> x x x .
// SPEC-NEXT:     3 -> x . x x
// SPEC-NEXT: kept 9 of 16 pairs
// SPEC:      mask #sattn.global<tokens = [0]>
// SPEC-NEXT: Lq = 2, Lk = 3 (row i is query position p = i + 1)
// SPEC-NEXT:     0 -> x . .
// SPEC-NEXT:     1 -> x . .

// PNG: wrote {{.*}}.png
// PNG: wrote {{.*}}-1.png

!t = tensor<1x1x4x8xf32>
func.func @two(%q: !t, %k: !t, %v: !t, %q2: tensor<1x1x2x8xf32>, %k2: tensor<1x1x3x8xf32>) -> (!t, tensor<1x1x2x8xf32>) {
  %o = sattn.attention %q, %k, %v mask(#sattn.streaming<sink = 1, window = 2>) : (!t, !t, !t) -> !t
  %o2 = sattn.attention %q2, %k2, %k2 mask(#sattn.global<tokens = [0]>) : (tensor<1x1x2x8xf32>, tensor<1x1x3x8xf32>, tensor<1x1x3x8xf32>) -> tensor<1x1x2x8xf32>
  return %o, %o2 : !t, tensor<1x1x2x8xf32>
}
