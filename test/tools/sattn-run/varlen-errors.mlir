// Bad cu_seqlens for sattn.varlen_attention: a clear error naming the
// operand, the position and the value, before any output is written; bad
// shapes of the packed tensors.
// REQUIRES: numpy
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -c "import numpy as np; r = np.random.rand; np.save('%t/q.npy', r(10,2,16).astype('f4')); np.save('%t/k.npy', r(12,1,16).astype('f4')); np.save('%t/v.npy', r(11,1,16).astype('f4')); [np.save('%t/' + n + '.npy', np.array(v, 'i4')) for n, v in [('cq', [0, 4, 4, 10]), ('ck', [0, 5, 9, 12]), ('start', [1, 4, 4, 10]), ('down', [0, 5, 3, 12]), ('short', [0, 4, 4, 9]), ('long', [0, 5, 9, 13]), ('two', [0, 12])]]"
// RUN: sattn-run %s --input=@%t/q.npy --input=@%t/k.npy --input=@%t/k.npy --input=@%t/cq.npy --input=@%t/ck.npy --output=@%t/o.npy
// RUN: not sattn-run %s --input=@%t/q.npy --input=@%t/k.npy --input=@%t/k.npy --input=@%t/start.npy --input=@%t/ck.npy --output=@%t/bad.npy 2>&1 | FileCheck %s --check-prefix=START
// RUN: not sattn-run %s --input=@%t/q.npy --input=@%t/k.npy --input=@%t/k.npy --input=@%t/cq.npy --input=@%t/down.npy --output=@%t/bad.npy 2>&1 | FileCheck %s --check-prefix=DOWN
// RUN: not sattn-run %s --input=@%t/q.npy --input=@%t/k.npy --input=@%t/k.npy --input=@%t/short.npy --input=@%t/ck.npy --output=@%t/bad.npy 2>&1 | FileCheck %s --check-prefix=SHORT
// RUN: not sattn-run %s --input=@%t/q.npy --input=@%t/k.npy --input=@%t/k.npy --input=@%t/cq.npy --input=@%t/long.npy --output=@%t/bad.npy 2>&1 | FileCheck %s --check-prefix=LONG
// RUN: not sattn-run %s --input=@%t/q.npy --input=@%t/k.npy --input=@%t/k.npy --input=@%t/cq.npy --input=@%t/two.npy --output=@%t/bad.npy 2>&1 | FileCheck %s --check-prefix=COUNT
// RUN: not sattn-run %s --input=@%t/q.npy --input=@%t/k.npy --input=@%t/v.npy --input=@%t/cq.npy --input=@%t/ck.npy --output=@%t/bad.npy 2>&1 | FileCheck %s --check-prefix=KV
// RUN: not ls %t/bad.npy

// START: sattn-run: cu_seqlens_q[0] = 1 must be 0 (the first sequence starts at row 0)
// DOWN: sattn-run: cu_seqlens_k[2] = 3 is below cu_seqlens_k[1] = 5 (cu_seqlens never decrease)
// SHORT: sattn-run: cu_seqlens_q[3] = 9 must be Tq = 10 (the last sequence ends at the last row)
// LONG: sattn-run: cu_seqlens_k[3] = 13 must be Tk = 12 (the last sequence ends at the last row)
// COUNT: sattn-run: cu_seqlens_q [4] and cu_seqlens_k [2] must both have B + 1 >= 1 entries
// KV: sattn-run: K [12, 1, 16] and V [11, 1, 16] must agree in Tk and Hkv

func.func @causal(%q: tensor<?x2x16xf32>, %k: tensor<?x1x16xf32>, %v: tensor<?x1x16xf32>, %cq: tensor<?xi32>, %ck: tensor<?xi32>) -> tensor<?x2x16xf32> {
  %o = sattn.varlen_attention %q, %k, %v, %cq, %ck mask(#sattn.causal) : (tensor<?x2x16xf32>, tensor<?x1x16xf32>, tensor<?x1x16xf32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x2x16xf32>
  return %o : tensor<?x2x16xf32>
}
