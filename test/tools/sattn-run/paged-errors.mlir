// Bad index data for sattn.paged_attention: a clear error naming the
// operand, the position and the value, before any output is written.
// REQUIRES: numpy
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -c "import numpy as np; r = np.random.rand; np.save('%t/q.npy', r(2,2,1,16).astype('f4')); np.save('%t/kc.npy', r(4,8,1,16).astype('f4')); [np.save('%t/' + n + '.npy', np.array(v, 'i4')) for n, v in [('t', [[0, 1, 2], [3, 2, 1]]), ('bad_entry', [[0, 1, 2], [3, 4, 1]]), ('unneeded', [[-5, 99, 2], [-1, 2, 1]]), ('n', [20, 17]), ('long', [20, 25]), ('negative', [-1, 3])]]"
// RUN: sattn-run %s --input=@%t/q.npy --input=@%t/kc.npy --input=@%t/kc.npy --input=@%t/t.npy --input=@%t/n.npy --output=@%t/o.npy
// RUN: not sattn-run %s --input=@%t/q.npy --input=@%t/kc.npy --input=@%t/kc.npy --input=@%t/bad_entry.npy --input=@%t/n.npy --output=@%t/bad.npy 2>&1 | FileCheck %s --check-prefix=ENTRY
// RUN: not sattn-run %s --input=@%t/q.npy --input=@%t/kc.npy --input=@%t/kc.npy --input=@%t/t.npy --input=@%t/long.npy --output=@%t/bad.npy 2>&1 | FileCheck %s --check-prefix=LONG
// RUN: not sattn-run %s --input=@%t/q.npy --input=@%t/kc.npy --input=@%t/kc.npy --input=@%t/t.npy --input=@%t/negative.npy --output=@%t/bad.npy 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// RUN: not sattn-run %s --input=@%t/q.npy --input=@%t/kc.npy --input=@%t/kc.npy --input=@%t/n.npy --input=@%t/n.npy --output=@%t/bad.npy 2>&1 | FileCheck %s --check-prefix=RANK
// RUN: not ls %t/bad.npy
// Entries no kept key needs may hold anything: with a window of 4, sequence
// 0 (20 keys) needs only entry 2, sequence 1 (17 keys) entries 1 and 2.
// RUN: sattn-run %s --function=window --input=@%t/q.npy --input=@%t/kc.npy --input=@%t/kc.npy --input=@%t/unneeded.npy --input=@%t/n.npy --output=@%t/o2.npy
// RUN: not sattn-run %s --function=window --input=@%t/q.npy --input=@%t/kc.npy --input=@%t/kc.npy --input=@%t/unneeded.npy --input=@%t/long.npy --output=@%t/bad.npy 2>&1 | FileCheck %s --check-prefix=LONG
// RUN: not ls %t/bad.npy

// ENTRY: sattn-run: block_table[1, 1] = 4 is outside [0, P) = [0, 4) but sequence 1 keeps keys of that page
// LONG: sattn-run: seq_lens[1] = 25 is outside [0, M * page] = [0, 24]
// NEGATIVE: sattn-run: seq_lens[0] = -1 is outside [0, M * page] = [0, 24]
// RANK: sattn-run: input #3: shape [2] has rank 1, the function wants 2

func.func @causal(%q: tensor<2x2x1x16xf32>, %kc: tensor<?x8x1x16xf32>, %vc: tensor<?x8x1x16xf32>, %t: tensor<2x?xi32>, %n: tensor<2xi32>) -> tensor<2x2x1x16xf32> {
  %o = sattn.paged_attention %q, %kc, %vc, %t, %n mask(#sattn.causal) : (tensor<2x2x1x16xf32>, tensor<?x8x1x16xf32>, tensor<?x8x1x16xf32>, tensor<2x?xi32>, tensor<2xi32>) -> tensor<2x2x1x16xf32>
  return %o : tensor<2x2x1x16xf32>
}

func.func private @window(%q: tensor<2x2x1x16xf32>, %kc: tensor<?x8x1x16xf32>, %vc: tensor<?x8x1x16xf32>, %t: tensor<2x?xi32>, %n: tensor<2xi32>) -> tensor<2x2x1x16xf32> {
  %o = sattn.paged_attention %q, %kc, %vc, %t, %n mask(#sattn.window<left = 3, right = 0>) : (tensor<2x2x1x16xf32>, tensor<?x8x1x16xf32>, tensor<?x8x1x16xf32>, tensor<2x?xi32>, tensor<2xi32>) -> tensor<2x2x1x16xf32>
  return %o : tensor<2x2x1x16xf32>
}
