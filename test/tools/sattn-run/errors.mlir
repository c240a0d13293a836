// Bad input to sattn-run: a clear message, exit code != 0, no crash and
// nothing written to the outputs.
// REQUIRES: numpy
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -c "import numpy as np; r = np.random.rand; np.save('%t/q.npy', r(1,2,8,16).astype('f4')); np.save('%t/v.npy', r(1,2,8,16).astype('f4')); np.save('%t/q16.npy', r(1,2,8,16).astype('f2')); np.save('%t/short.npy', r(1,2,7,16).astype('f4')); np.save('%t/fortran.npy', np.asfortranarray(r(1,2,8,16).astype('f4'))); np.save('%t/i32.npy', np.zeros((1,2,8,16), 'i4'))"
// RUN: sattn-run %s --function=ok --input=@%t/q.npy --input=@%t/q.npy --input=@%t/v.npy --output=@%t/o.npy | FileCheck %s --allow-empty --check-prefix=OK
// RUN: not sattn-run %s --function=ok --input=@%t/short.npy --input=@%t/q.npy --input=@%t/v.npy --output=@%t/bad.npy 2>&1 | FileCheck %s --check-prefix=SHAPE
// RUN: not sattn-run %s --function=ok --input=@%t/q16.npy --input=@%t/q.npy --input=@%t/v.npy --output=@%t/bad.npy 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: not sattn-run %s --function=ok --input=@%t/i32.npy --input=@%t/q.npy --input=@%t/v.npy --output=@%t/bad.npy 2>&1 | FileCheck %s --check-prefix=INT
// RUN: not sattn-run %s --function=ok --input=@%t/fortran.npy --input=@%t/q.npy --input=@%t/v.npy --output=@%t/bad.npy 2>&1 | FileCheck %s --check-prefix=FORTRAN
// RUN: not sattn-run %s --function=ok --input=@%t/q.npy --input=@%t/q.npy --output=@%t/bad.npy 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not sattn-run %s --function=ok --input=@%t/q.npy --input=@%t/q.npy --input=@%t/nope.npy 2>&1 | FileCheck %s --check-prefix=NOFILE
// RUN: not sattn-run %s --function=dyn --input=@%t/q.npy --input=@%t/short.npy --input=@%t/q.npy --output=@%t/bad.npy 2>&1 | FileCheck %s --check-prefix=LK
// RUN: not sattn-run %s --function=nosuch 2>&1 | FileCheck %s --check-prefix=NOFUNC
// RUN: not sattn-run %s --input=@%t/q.npy 2>&1 | FileCheck %s --check-prefix=AMBIGUOUS
// RUN: not sattn-run %s --function=not_a_spec --input=@%t/q.npy 2>&1 | FileCheck %s --check-prefix=NOTSPEC
// RUN: not sattn-run %s --function=ok --target=tpu 2>&1 | FileCheck %s --check-prefix=TARGET
// RUN: not sattn-run %s --function=ok --random-inputs --threads=0 2>&1 | FileCheck %s --check-prefix=THREADS
// RUN: not sattn-run %s --function=ok --input=@%t/q.npy --input=@%t/q.npy --input=@%t/v.npy --output=@%t/a.npy --output=@%t/b.npy 2>&1 | FileCheck %s --check-prefix=OUTPUTS
// RUN: echo 'func.func @f(' > %t/broken.mlir
// RUN: not sattn-run %t/broken.mlir --random-inputs 2>&1 | FileCheck %s --check-prefix=PARSE
// RUN: not sattn-run %t/missing.mlir 2>&1 | FileCheck %s --check-prefix=NOSPEC
// RUN: not ls %t/bad.npy
// RUN: %python -c "import numpy as np; o = np.load('%t/o.npy'); assert o.shape == (1, 2, 8, 16) and o.dtype == np.float32"

// OK-NOT: error
// SHAPE: sattn-run: input #0: shape [1, 2, 7, 16] does not match the function's dim 2 = 8
// DTYPE: sattn-run: input #0: element type f16, the function wants f32
// INT: sattn-run: input #0: element type i32, the function wants f32
// FORTRAN: fortran.npy: Fortran-order arrays are not supported
// MISSING: sattn-run: 'ok' takes 3 inputs, got 2 --input
// NOFILE: sattn-run: {{.*}}nope.npy: cannot read: No such file or directory
// LK: sattn-run: K [1, 2, 7, 16] and V [1, 2, 8, 16] must agree
// LK-SAME: heads and length
// NOFUNC: sattn-run: no function 'nosuch' in
// AMBIGUOUS: sattn-run: the spec has 3 public functions: choose one with --function
// NOTSPEC: sattn-run: result #0 of 'not_a_spec' must be a result of an attention op
// TARGET: sattn-run: unknown target 'tpu' (cpu or nvvm)
// THREADS: sattn-run: --threads must be an integer in [1, 1024]
// OUTPUTS: sattn-run: 'ok' returns 1 results, got 2 --output
// PARSE: broken.mlir:1:14: error: expected non-function type
// PARSE: sattn-run: '{{.*}}broken.mlir' is not a valid spec (errors above)
// NOSPEC: sattn-run: cannot read the spec: cannot open input file

!t = tensor<1x2x8x16xf32>
func.func @ok(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) : (!t, !t, !t) -> !t
  return %o : !t
}

func.func @dyn(%q: tensor<?x?x?x16xf32>, %k: tensor<?x?x?x16xf32>, %v: tensor<?x?x?x16xf32>) -> tensor<?x?x?x16xf32> {
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) : (tensor<?x?x?x16xf32>, tensor<?x?x?x16xf32>, tensor<?x?x?x16xf32>) -> tensor<?x?x?x16xf32>
  return %o : tensor<?x?x?x16xf32>
}

func.func @not_a_spec(%q: !t) -> !t {
  return %q : !t
}
