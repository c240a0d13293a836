// Each pattern of docs/Semantics.md, JIT-compiled and checked against the float64
// reference on random inputs (f32: relative error <= 1e-5; f16/bf16: 1e-2).
// RUN: sattn-run %s --check --function=dense | FileCheck %s
// RUN: sattn-run %s --check --function=causal_lse | FileCheck %s --check-prefixes=CHECK,LSE
// RUN: sattn-run %s --check --function=window_tail | FileCheck %s
// RUN: sattn-run %s --check --function=dilated | FileCheck %s
// RUN: sattn-run %s --check --function=strided_gqa | FileCheck %s
// RUN: sattn-run %s --check --function=longformer | FileCheck %s
// RUN: sattn-run %s --check --function=longformer_heavy_rows | FileCheck %s --check-prefixes=CHECK,LSE
// RUN: sattn-opt %s -sattn-expand-presets -sattn-simplify-masks -sattn-plan-tiles -convert-sattn-to-loops | FileCheck %s --check-prefix=PARTS
// RUN: sattn-run %s --check --function=bigbird_f16 | FileCheck %s
// RUN: sattn-run %s --check --function=block_sparse_bf16 | FileCheck %s
// RUN: sattn-run %s --check --function=streaming_decode | FileCheck %s
// RUN: sattn-run %s --check --function=empty_rows --threads=1 | FileCheck %s --check-prefixes=CHECK,LSE
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -c "import numpy as np; r = np.random.default_rng(1).uniform; [np.save('%t/' + n + '.npy', r(-1, 1, s).astype('f4')) for n, s in [('q', (2, 4, 37, 64)), ('k', (2, 2, 53, 64)), ('q6', (2, 6, 37, 64))]]"
// RUN: sattn-run %s --check --function=softcap_alibi --input=@%t/q.npy --input=@%t/k.npy --input=@%t/k.npy | FileCheck %s --check-prefixes=CHECK,LSE
// RUN: not sattn-run %s --function=softcap_alibi --input=@%t/q6.npy --input=@%t/k.npy --input=@%t/k.npy --output=@%t/bad.npy --output=@%t/bad-lse.npy 2>&1 | FileCheck %s --check-prefix=SLOPES
// RUN: not ls %t/bad.npy
// RUN: sattn-run %s --check --function=softcap_bf16 | FileCheck %s
// RUN: sattn-run %s --check --function=alibi_decode_gqa --threads=1 | FileCheck %s --check-prefixes=CHECK,LSE
// CHECK: check result #0 (O): {{.*}} 0 NaN, 0 -inf mismatches: ok
// LSE: check result #1 (LSE): {{.*}} 0 NaN, 0 -inf mismatches: ok
// SLOPES: sattn-run: 'alibi_slopes' has 4 slopes, one per query head, but Q [2, 6, 37, 64] has Hq = 6

func.func @dense(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32> {
  %o = sattn.attention %q, %k, %v mask(#sattn.dense) : (tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

func.func @causal_lse(%q: tensor<2x2x100x64xf32>, %k: tensor<2x2x100x64xf32>, %v: tensor<2x2x100x64xf32>) -> (tensor<2x2x100x64xf32>, tensor<2x2x100xf32>) {
  %o, %l = sattn.attention %q, %k, %v mask(#sattn.causal) : (tensor<2x2x100x64xf32>, tensor<2x2x100x64xf32>, tensor<2x2x100x64xf32>) -> (tensor<2x2x100x64xf32>, tensor<2x2x100xf32>)
  return %o, %l : tensor<2x2x100x64xf32>, tensor<2x2x100xf32>
}

// Lengths that are not multiples of the tile, Lq != Lk, Dv != D.
func.func @window_tail(%q: tensor<1x1x77x48xf32>, %k: tensor<1x1x133x48xf32>, %v: tensor<1x1x133x20xf32>) -> tensor<1x1x77x20xf32> {
  %o = sattn.attention %q, %k, %v mask(#sattn.window<left = 9, right = 3>) scale(0.3) : (tensor<1x1x77x48xf32>, tensor<1x1x133x48xf32>, tensor<1x1x133x20xf32>) -> tensor<1x1x77x20xf32>
  return %o : tensor<1x1x77x20xf32>
}

func.func @dilated(%q: tensor<1x2x90x32xf32>, %k: tensor<1x2x90x32xf32>, %v: tensor<1x2x90x32xf32>) -> tensor<1x2x90x32xf32> {
  %o = sattn.attention %q, %k, %v mask(#sattn.dilated<left = 6, right = 2, dilation = 3>) : (tensor<1x2x90x32xf32>, tensor<1x2x90x32xf32>, tensor<1x2x90x32xf32>) -> tensor<1x2x90x32xf32>
  return %o : tensor<1x2x90x32xf32>
}

// GQA: 6 query heads on 2 key/value heads.
func.func @strided_gqa(%q: tensor<1x6x70x16xf32>, %k: tensor<1x2x70x16xf32>, %v: tensor<1x2x70x16xf32>) -> tensor<1x6x70x16xf32> {
  %o = sattn.attention %q, %k, %v mask(#sattn.strided<stride = 7>) : (tensor<1x6x70x16xf32>, tensor<1x2x70x16xf32>, tensor<1x2x70x16xf32>) -> tensor<1x6x70x16xf32>
  return %o : tensor<1x6x70x16xf32>
}

// Global rows on 2100 keys with the default tiles (33 key tiles of 64): the
// query tiles 0, 1 and 46 (32 rows) holding tokens 0, 40 and 1500 see all
// 33 key tiles, against about 4 for the others: two parts each, merged by
// LSE (docs/CPUCodegen.md).
// PARTS: memref.global "private" constant @__sattn_tile_{{[0-9]+}}_parts_merges : memref<9xi32> = dense<[0, 0, 2, 1, 2, 2, 46, 4, 2]>
func.func @longformer_heavy_rows(%q: tensor<1x3x2100x64xf32>, %k: tensor<1x3x2100x64xf32>, %v: tensor<1x3x2100x64xf32>) -> (tensor<1x3x2100x64xf32>, tensor<1x3x2100xf32>) {
  %o, %l = sattn.attention %q, %k, %v mask(#sattn.longformer<window = 64, global = [0, 40, 1500]>) : (tensor<1x3x2100x64xf32>, tensor<1x3x2100x64xf32>, tensor<1x3x2100x64xf32>) -> (tensor<1x3x2100x64xf32>, tensor<1x3x2100xf32>)
  return %o, %l : tensor<1x3x2100x64xf32>, tensor<1x3x2100xf32>
}

func.func @longformer(%q: tensor<1x2x150x64xf32>, %k: tensor<1x2x150x64xf32>, %v: tensor<1x2x150x64xf32>) -> tensor<1x2x150x64xf32> {
  %o = sattn.attention %q, %k, %v mask(#sattn.longformer<window = 16, global = [0, 99]>) : (tensor<1x2x150x64xf32>, tensor<1x2x150x64xf32>, tensor<1x2x150x64xf32>) -> tensor<1x2x150x64xf32>
  return %o : tensor<1x2x150x64xf32>
}

func.func @bigbird_f16(%q: tensor<1x2x200x64xf16>, %k: tensor<1x2x200x64xf16>, %v: tensor<1x2x200x64xf16>) -> tensor<1x2x200x64xf16> {
  %o = sattn.attention %q, %k, %v mask(#sattn.bigbird<block = 16, window = 3, global = 1, random = 2, seed = 5>) : (tensor<1x2x200x64xf16>, tensor<1x2x200x64xf16>, tensor<1x2x200x64xf16>) -> tensor<1x2x200x64xf16>
  return %o : tensor<1x2x200x64xf16>
}

func.func @block_sparse_bf16(%q: tensor<1x1x64x32xbf16>, %k: tensor<1x1x64x32xbf16>, %v: tensor<1x1x64x32xbf16>) -> tensor<1x1x64x32xbf16> {
  %o = sattn.attention %q, %k, %v mask(#sattn.block_sparse<block = [16, 32], layout = dense<[[true, false], [false, true], [true, true], [false, false]]> : tensor<4x2xi1>>) : (tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>) -> tensor<1x1x64x32xbf16>
  return %o : tensor<1x1x64x32xbf16>
}

// Decoding: one query at position Lk - 1.
func.func @streaming_decode(%q: tensor<1x4x1x64xf32>, %k: tensor<1x4x300x64xf32>, %v: tensor<1x4x300x64xf32>) -> tensor<1x4x1x64xf32> {
  %o = sattn.attention %q, %k, %v mask(#sattn.streaming<sink = 4, window = 64>) : (tensor<1x4x1x64xf32>, tensor<1x4x300x64xf32>, tensor<1x4x300x64xf32>) -> tensor<1x4x1x64xf32>
  return %o : tensor<1x4x1x64xf32>
}

// Lq > Lk: the first rows have p < 0 and keep nothing (O = 0, LSE = -inf).
func.func @empty_rows(%q: tensor<1x1x40x16xf32>, %k: tensor<1x1x20x16xf32>, %v: tensor<1x1x20x16xf32>) -> (tensor<1x1x40x16xf32>, tensor<1x1x40xf32>) {
  %o, %l = sattn.attention %q, %k, %v mask(#sattn.causal) : (tensor<1x1x40x16xf32>, tensor<1x1x20x16xf32>, tensor<1x1x20x16xf32>) -> (tensor<1x1x40x16xf32>, tensor<1x1x40xf32>)
  return %o, %l : tensor<1x1x40x16xf32>, tensor<1x1x40xf32>
}

// Score modifiers (Gemma 2's softcap, ALiBi) with GQA, Lq != Lk, LSE over the
// modified scores; dynamic heads and lengths.
func.func @softcap_alibi(%q: tensor<?x?x?x64xf32>, %k: tensor<?x?x?x64xf32>, %v: tensor<?x?x?x64xf32>) -> (tensor<?x?x?x64xf32>, tensor<?x?x?xf32>) {
  %o, %l = sattn.attention %q, %k, %v mask(#sattn.window<left = 40, right = 0>) softcap(2.5) alibi_slopes([0.5, 0.25, 0.125, 0.0625]) : (tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>) -> (tensor<?x?x?x64xf32>, tensor<?x?x?xf32>)
  return %o, %l : tensor<?x?x?x64xf32>, tensor<?x?x?xf32>
}

func.func @softcap_bf16(%q: tensor<1x2x70x32xbf16>, %k: tensor<1x2x70x32xbf16>, %v: tensor<1x2x70x32xbf16>) -> tensor<1x2x70x32xbf16> {
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) softcap(0.5) : (tensor<1x2x70x32xbf16>, tensor<1x2x70x32xbf16>, tensor<1x2x70x32xbf16>) -> tensor<1x2x70x32xbf16>
  return %o : tensor<1x2x70x32xbf16>
}

// Decode with the 4 query heads of a KV head packed into one tile: each
// packed row has its own head's slope.
func.func @alibi_decode_gqa(%q: tensor<1x8x2x64xf32>, %k: tensor<1x2x300x64xf32>, %v: tensor<1x2x300x64xf32>) -> (tensor<1x8x2x64xf32>, tensor<1x8x2xf32>) {
  %o, %l = sattn.attention %q, %k, %v mask(#sattn.causal) softcap(30.0) alibi_slopes([0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125, 0.00390625]) : (tensor<1x8x2x64xf32>, tensor<1x2x300x64xf32>, tensor<1x2x300x64xf32>) -> (tensor<1x8x2x64xf32>, tensor<1x8x2xf32>)
  return %o, %l : tensor<1x8x2x64xf32>, tensor<1x8x2xf32>
}
