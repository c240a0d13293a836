// Decode and small-Lq attention with grouped-query heads: the G = Hq / Hkv
// query heads that read one key/value head share a tile (G * Lq rows), so
// each K/V tile is read once per group, and the scores are dot products over
// whole vectors of K rows. Every mask family, tails, head dims that are not a
// multiple of the vector, LSE, f16/bf16, against the float64 reference.
// RUN: sattn-run %s --function=decode_causal --check | FileCheck %s --check-prefixes=CHECK,LSE
// RUN: sattn-run %s --function=decode_streaming --check | FileCheck %s
// RUN: sattn-run %s --function=small_lq_strided --check | FileCheck %s
// RUN: sattn-run %s --function=small_lq_bigbird --check | FileCheck %s
// RUN: sattn-run %s --function=decode_random_bf16 --check | FileCheck %s
// RUN: sattn-run %s --function=mqa_window --check | FileCheck %s
// RUN: sattn-run %s --function=odd_head_dims --check | FileCheck %s --check-prefixes=CHECK,LSE
// Flash-decoding splits: one KV head and a window of 700 over 3000 keys, so
// the splits cover only the window's keys [2048, 3000) (3 of them, merged by
// their LSE); a dynamic Lk from files.
// RUN: sattn-run %s --function=split_window --check | FileCheck %s --check-prefixes=CHECK,LSE
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -c "import numpy as np; r = np.random.default_rng(0); [np.save('%t/' + n + '.npy', r.uniform(-1, 1, s).astype('f4')) for n, s in [('q', (1, 4, 2, 64)), ('k', (1, 1, 5000, 64))]]"
// RUN: sattn-run %s --function=split_dynamic --input=@%t/q.npy --input=@%t/k.npy --input=@%t/k.npy --output=@%t/o.npy
// RUN: %python -c "import numpy as np; q, k, o = (np.load('%t/' + n + '.npy').astype('f8') for n in 'qko'); s = np.einsum('hid,kd->hik', q[0], k[0, 0]) / 8; p = np.arange(2) + 4998; s[:, np.arange(5000)[None] > p[:, None]] = -np.inf; w = np.exp(s - s.max(-1, keepdims=True)); want = (w / w.sum(-1, keepdims=True)) @ k[0, 0]; print('split dynamic rel err', np.linalg.norm(o[0] - want) / np.linalg.norm(want) < 1e-5)" | FileCheck %s --check-prefix=DYN
// DYN: split dynamic rel err True
// CHECK: check result #0 (O): {{.*}}: ok
// LSE: check result #1 (LSE): {{.*}}: ok

!q1 = tensor<2x8x1x64xf32>
!kv1 = tensor<2x2x1000x64xf32>
func.func @decode_causal(%q: !q1, %k: !kv1, %v: !kv1) -> (!q1, tensor<2x8x1xf32>) {
  %o, %l = sattn.attention %q, %k, %v mask(#sattn.causal) : (!q1, !kv1, !kv1) -> (!q1, tensor<2x8x1xf32>)
  return %o, %l : !q1, tensor<2x8x1xf32>
}

!q2 = tensor<1x12x1x32xf16>
!kv2 = tensor<1x3x777x32xf16>
func.func @decode_streaming(%q: !q2, %k: !kv2, %v: !kv2) -> !q2 {
  %o = sattn.attention %q, %k, %v mask(#sattn.streaming<sink = 4, window = 100>) : (!q2, !kv2, !kv2) -> !q2
  return %o : !q2
}

// G = 3, Lq = 5: 15 rows of one tile, positions Lk - 5 ... Lk - 1 per head.
!q3 = tensor<1x6x5x16xf32>
!kv3 = tensor<1x2x130x24xf32>
!k3 = tensor<1x2x130x16xf32>
!o3 = tensor<1x6x5x24xf32>
func.func @small_lq_strided(%q: !q3, %k: !k3, %v: !kv3) -> !o3 {
  %o = sattn.attention %q, %k, %v mask(#sattn.strided<stride = 7>) : (!q3, !k3, !kv3) -> !o3
  return %o : !o3
}
func.func @small_lq_bigbird(%q: !q3, %k: !k3, %v: !kv3) -> !o3 {
  %o = sattn.attention %q, %k, %v mask(#sattn.bigbird<block = 16, window = 3, global = 1, random = 2, seed = 5>) : (!q3, !k3, !kv3) -> !o3
  return %o : !o3
}

!q4 = tensor<1x4x2x64xbf16>
!kv4 = tensor<1x1x300x64xbf16>
func.func @decode_random_bf16(%q: !q4, %k: !kv4, %v: !kv4) -> !q4 {
  %o = sattn.attention %q, %k, %v mask(#sattn.union<[#sattn.random<block = 32, per_row = 2, seed = 9>, #sattn.sink<tokens = 1>]>) : (!q4, !kv4, !kv4) -> !q4
  return %o : !q4
}

// Multi-query: all 16 heads read one key/value head.
!q5 = tensor<3x16x1x32xf32>
!kv5 = tensor<3x1x50x32xf32>
func.func @mqa_window(%q: !q5, %k: !kv5, %v: !kv5) -> !q5 {
  %o = sattn.attention %q, %k, %v mask(#sattn.window<left = 10, right = 0>) : (!q5, !kv5, !kv5) -> !q5
  return %o : !q5
}

// D = 20 and Dv = 12: the last vector of each K row and of each V row is
// partial.
!q6 = tensor<1x4x2x20xf32>
!k6 = tensor<1x2x50x20xf32>
!v6 = tensor<1x2x50x12xf32>
!o6 = tensor<1x4x2x12xf32>
func.func @odd_head_dims(%q: !q6, %k: !k6, %v: !v6) -> (!o6, tensor<1x4x2xf32>) {
  %o, %l = sattn.attention %q, %k, %v mask(#sattn.causal) : (!q6, !k6, !v6) -> (!o6, tensor<1x4x2xf32>)
  return %o, %l : !o6, tensor<1x4x2xf32>
}

func.func @split_window(%q: tensor<1x4x1x64xf32>, %k: tensor<1x1x3000x64xf32>, %v: tensor<1x1x3000x64xf32>) -> (tensor<1x4x1x64xf32>, tensor<1x4x1xf32>) {
  %o, %l = sattn.attention %q, %k, %v mask(#sattn.window<left = 700, right = 0>) : (tensor<1x4x1x64xf32>, tensor<1x1x3000x64xf32>, tensor<1x1x3000x64xf32>) -> (tensor<1x4x1x64xf32>, tensor<1x4x1xf32>)
  return %o, %l : tensor<1x4x1x64xf32>, tensor<1x4x1xf32>
}

func.func private @split_dynamic(%q: tensor<1x4x2x64xf32>, %k: tensor<1x1x?x64xf32>, %v: tensor<1x1x?x64xf32>) -> tensor<1x4x2x64xf32> {
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) : (tensor<1x4x2x64xf32>, tensor<1x1x?x64xf32>, tensor<1x1x?x64xf32>) -> tensor<1x4x2x64xf32>
  return %o : tensor<1x4x2x64xf32>
}
