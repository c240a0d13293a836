// The PTX of a kernel: what the CUDA driver loads (no GPU needed here).
// RUN: sattn-compile %s --target=nvvm -o - | FileCheck %s --check-prefixes=CHECK,SM80,MMA
// RUN: sattn-compile %s --target=nvvm --chip=sm_90 -o - | FileCheck %s --check-prefixes=CHECK,SM90,MMA
// RUN: sattn-compile %s --target=nvvm --tensor-cores=false -o - | FileCheck %s --check-prefixes=CHECK,SM80,SIMT

// SM80:  .target sm_80
// SM90:  .target sm_90
// CHECK: .visible .entry attention_0(
// CHECK: .maxntid 128, 1, 1
// Q, K and V tiles in shared memory: bf16 with padded rows for tensor cores,
// Q in f32 for SIMT.
// MMA:  .shared .align {{[0-9]+}} .b8 __wg_attention_0_0[9216];
// MMA:  .shared .align {{[0-9]+}} .b8 __wg_attention_0_1[4608];
// MMA:  .shared .align {{[0-9]+}} .b8 __wg_attention_0_2[4608];
// SIMT: .shared .align {{[0-9]+}} .b8 __wg_attention_0_0[8192];
// SIMT: .shared .align {{[0-9]+}} .b8 __wg_attention_0_1[4160];
// SIMT: .shared .align {{[0-9]+}} .b8 __wg_attention_0_2[4096];
// In any order: barriers, mma.sync (tensor cores), the row reductions over
// a quad (MMA) or a warp (SIMT), 2^x, P rounded to bf16 pairs (MMA) or
// broadcast by shuffles (SIMT); no libdevice call anywhere.
// CHECK-NOT: __nv_
// CHECK-DAG: bar.sync
// CHECK-DAG: ld.shared
// MMA-DAG:   mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// MMA-DAG:   shfl.sync.bfly.b32 {{.*}}, 1, 31, -1;
// MMA-DAG:   shfl.sync.bfly.b32 {{.*}}, 2, 31, -1;
// MMA-DAG:   cvt.rn.bf16x2.f32
// SIMT-DAG:  shfl.sync.bfly.b32 {{.*}}, 16, 31, -1;
// SIMT-DAG:  shfl.sync.idx.b32
// CHECK-DAG: ex2.approx.f32
// CHECK-DAG: cvt.rn.bf16.f32
// CHECK-NOT: __nv_
// CHECK: ret;

func.func @longformer(%q: tensor<1x4x300x64xbf16>, %k: tensor<1x4x300x64xbf16>, %v: tensor<1x4x300x64xbf16>) -> tensor<1x4x300x64xbf16> {
  %o = sattn.attention %q, %k, %v mask(#sattn.longformer<window = 64, global = [0, 1]>)
      : (tensor<1x4x300x64xbf16>, tensor<1x4x300x64xbf16>, tensor<1x4x300x64xbf16>) -> tensor<1x4x300x64xbf16>
  return %o : tensor<1x4x300x64xbf16>
}
