// Bad input to sattn-mask: a message and a non-zero exit, never a crash.
// RUN: not sattn-mask --mask='#sattn.window<left = -1, right = 0>' --lq=4 --lk=4 2>&1 | FileCheck %s --check-prefix=VERIFY
// RUN: not sattn-mask --mask='#sattn.window<left = 1' --lq=4 --lk=4 2>&1 | FileCheck %s --check-prefix=SYNTAX
// RUN: not sattn-mask --mask='42 : i32' --lq=4 --lk=4 2>&1 | FileCheck %s --check-prefix=NOTMASK
// RUN: not sattn-mask --mask='#sattn.causal' 2>&1 | FileCheck %s --check-prefix=NOLEN
// RUN: not sattn-mask --mask='#sattn.block_sparse<block = [2, 2], layout = dense<true> : tensor<1x1xi1>>' --lq=4 --lk=4 2>&1 | FileCheck %s --check-prefix=COVER
// RUN: not sattn-mask %s 2>&1 | FileCheck %s --check-prefix=DYNAMIC
// RUN: not sattn-mask %s.missing 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not sattn-mask 2>&1 | FileCheck %s --check-prefix=NOINPUT
// RUN: not sattn-mask --mask='#sattn.causal' --lq=2 --lk=2 --png=/nonexistent/dir/x.png 2>&1 | FileCheck %s --check-prefix=PNGDIR
// RUN: not sattn-mask --mask='#sattn.causal' --lq=2 --lk=2 --png-size=-1 --png=%t.png 2>&1 | FileCheck %s --check-prefix=PNGSIZE
// RUN: not sattn-mask --mask='#sattn.causal' --lq=2 --lk=2 --text-limit=-1 2>&1 | FileCheck %s --check-prefix=TEXTLIMIT
// RUN: sattn-mask --mask='#sattn.strided<stride = 3>' --lq=1000000000 --lk=1000000000 --text-limit=0 | FileCheck %s --check-prefix=HUGE
// Work bounded whatever the lengths and the mask: a PNG of lengths near
// 2^62 is sampled; masks that are costly to test (random blocks of one key
// drawn 1000 times per row) are neither counted nor drawn pair by pair.
// RUN: sattn-mask --mask='#sattn.strided<stride = 3>' --lq=4611686018427387904 --lk=4611686018427387904 --png=%t-huge.png --png-size=256 | FileCheck %s --check-prefix=HUGEPNG
// RUN: sattn-mask --mask='#sattn.random<block = 1, per_row = 1000, seed = 0>' --lq=65536 --lk=65536 --png=%t-random.png | FileCheck %s --check-prefix=COSTLY
// RUN: sattn-mask --mask='#sattn.random<block = 1, per_row = 100000000, seed = 0>' --lq=1024 --lk=1024 --text-limit=1024 | FileCheck %s --check-prefix=NOTDRAWN
// PNGSIZE: sattn-mask: --png-size must be in [1, 8192], got -1
// TEXTLIMIT: sattn-mask: --text-limit must be in [0, 1024], got -1
// HUGE: too many pairs to count exactly
// HUGEPNG: too many pairs to count exactly
// HUGEPNG-NEXT: wrote {{.*}}-huge.png
// COSTLY: too many pairs to count exactly
// COSTLY-NEXT: wrote {{.*}}-random.png
// NOTDRAWN: (not drawn: testing every pair costs too much)
// NOTDRAWN-NEXT: too many pairs to count exactly

// VERIFY: error: '#sattn.window' parameter 'left' must be >= 0, got -1
// SYNTAX: error: unbalanced '<' character in pretty dialect name
// NOTMASK: sattn-mask: '42 : i32' is not a mask attribute (#sattn.*)
// NOLEN: sattn-mask: --mask needs --lq=N and --lk=N (N >= 0)
// COVER: error: '#sattn.block_sparse' layout of 1x1 blocks does not cover Lk = 4: needs at least 2x2
// DYNAMIC: errors.mlir:[[@LINE+5]]:8: error: dynamic sequence lengths: give --lq and --lk to draw
// MISSING: error: {{.*}}missing
// NOINPUT: sattn-mask: give either --mask=ATTR or a spec file
// PNGDIR: sattn-mask: cannot write '/nonexistent/dir/x.png'
func.func @dyn(%q: tensor<1x1x?x8xf32>) -> tensor<1x1x?x8xf32> {
  %o = sattn.attention %q, %q, %q mask(#sattn.causal) : (tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>) -> tensor<1x1x?x8xf32>
  return %o : tensor<1x1x?x8xf32>
}
