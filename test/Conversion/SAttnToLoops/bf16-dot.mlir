// bf16 Q K^T and P V as AVX512_BF16 pair dot products (vdpbf16ps), f32
// accumulators: Qp, Pp and Vp hold pairs of d or of keys side by side.
// RUN: sattn-opt %s -split-input-file -convert-sattn-to-loops="vector-bits=512 bf16-dot=on" -canonicalize -cse | FileCheck %s
// RUN: sattn-opt %s -split-input-file -convert-sattn-to-loops="vector-bits=256 bf16-dot=on" -canonicalize -cse | FileCheck %s --check-prefix=AVX2
// RUN: sattn-opt %s -split-input-file -convert-sattn-to-loops="vector-bits=512 bf16-dot=off" | FileCheck %s --check-prefix=OFF
// RUN: not sattn-opt %s -convert-sattn-to-loops=bf16-dot=maybe 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: -convert-sattn-to-loops: bf16-dot must be host, on or off, got 'maybe'
// OFF-NOT: x86vector

// CHECK-LABEL: func.func private @__sattn_tile_
// Qp [D / 2][2 Br], Pp [Bc / 2][2 Br], Vp [Bc / 2][2 Dv'] (bf16)
// CHECK: %[[QP:.*]] = memref.alloca() {alignment = 64 : i64} : memref<32x64xbf16>
// CHECK: %[[PP:.*]] = memref.alloca() {alignment = 64 : i64} : memref<16x64xbf16>
// CHECK: %[[VP:.*]] = memref.alloca() {alignment = 64 : i64} : memref<16x64xbf16>
// Scores: a vector of row pairs of Qp times a broadcast pair of K, then the scale.
// CHECK: %[[Q:.*]] = vector.load %[[QP]][{{.*}}] : memref<32x64xbf16>, vector<32xbf16>
// CHECK: %[[KP:.*]] = vector.load %arg1[{{.*}}] : memref<?x?x?x64xbf16>, vector<2xbf16>
// CHECK: %[[KW:.*]] = vector.bitcast %[[KP]] : vector<2xbf16> to vector<1xi32>
// CHECK: %[[KB:.*]] = vector.bitcast %{{.*}} : vector<16xi32> to vector<32xbf16>
// CHECK: x86vector.avx512.dot %{{.*}}, %[[Q]], %[[KB]] : vector<32xbf16> -> vector<16xf32>
// CHECK: arith.mulf %{{.*}}, %cst{{.*}} : vector<16xf32>
// P of keys c and c + 1 (0 past the tile's keys) as bf16 pairs.
// CHECK: %[[P0:.*]] = x86vector.avx512.cvt.packed.f32_to_bf16 %{{.*}} : vector<16xf32> -> vector<16xbf16>
// CHECK: %[[P1:.*]] = x86vector.avx512.cvt.packed.f32_to_bf16 %{{.*}} : vector<16xf32> -> vector<16xbf16>
// CHECK: %[[PI:.*]] = vector.interleave %[[P0]], %[[P1]] : vector<16xbf16> -> vector<32xbf16>
// CHECK: vector.store %[[PI]], %[[PP]]
// FULL tiles: V rows c and c + 1 (the missing last one 0) interleaved.
// CHECK: scf.if
// CHECK: %[[V0:.*]] = vector.load %arg2[{{.*}}] : memref<?x?x?x24xbf16>, vector<16xbf16>
// CHECK: %[[V1:.*]] = vector.load %arg2[{{.*}}] : memref<?x?x?x24xbf16>, vector<16xbf16>
// CHECK: %[[V1Z:.*]] = arith.select %{{.*}}, %[[V1]], %cst{{.*}} : vector<16xbf16>
// CHECK: vector.interleave %[[V0]], %[[V1Z]] : vector<16xbf16> -> vector<32xbf16>
// O += P V over pairs of keys: Vp vectors times broadcast pairs of Pp.
// CHECK: %[[VV:.*]] = vector.load %[[VP]][{{.*}}] : memref<16x64xbf16>, vector<32xbf16>
// CHECK: %[[PB:.*]] = vector.load %[[PP]][{{.*}}] : memref<16x64xbf16>, vector<2xbf16>
// CHECK: x86vector.avx512.dot %{{.*}}, %[[VV]], %{{.*}} : vector<32xbf16> -> vector<16xf32>
// PARTIAL tiles: keys no row keeps read 0 in Vp as well.
// CHECK: } else {
// CHECK: memref.load %{{.*}} : memref<32xf32>
// CHECK: arith.cmpf one
// CHECK: vector.interleave
// AVX2: x86vector.avx512.dot %{{.*}} : vector<16xbf16> -> vector<8xf32>
// AVX2: x86vector.avx512.cvt.packed.f32_to_bf16 %{{.*}} : vector<8xf32> -> vector<8xbf16>
func.func @bf16_causal(%q: tensor<1x2x40x64xbf16>, %k: tensor<1x1x50x64xbf16>, %v: tensor<1x1x50x24xbf16>) -> tensor<1x2x40x24xbf16> {
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) {sattn.tile = #sattn.tile<rows = 32, keys = 32>} : (tensor<1x2x40x64xbf16>, tensor<1x1x50x64xbf16>, tensor<1x1x50x24xbf16>) -> tensor<1x2x40x24xbf16>
  return %o : tensor<1x2x40x24xbf16>
}

// -----

// f16 and an odd head dim keep the f32 path.
// CHECK-LABEL: func.func @f16_dense
// CHECK-NOT: x86vector
// CHECK-LABEL: func.func @bf16_odd_head_dim
// CHECK-NOT: x86vector
// AVX2-LABEL: func.func @f16_dense
// AVX2-NOT: x86vector
func.func @f16_dense(%q: tensor<1x1x16x64xf16>) -> tensor<1x1x16x64xf16> {
  %o = sattn.attention %q, %q, %q mask(#sattn.dense) : (tensor<1x1x16x64xf16>, tensor<1x1x16x64xf16>, tensor<1x1x16x64xf16>) -> tensor<1x1x16x64xf16>
  return %o : tensor<1x1x16x64xf16>
}
func.func @bf16_odd_head_dim(%q: tensor<1x1x16x33xbf16>) -> tensor<1x1x16x33xbf16> {
  %o = sattn.attention %q, %q, %q mask(#sattn.dense) : (tensor<1x1x16x33xbf16>, tensor<1x1x16x33xbf16>, tensor<1x1x16x33xbf16>) -> tensor<1x1x16x33xbf16>
  return %o : tensor<1x1x16x33xbf16>
}
