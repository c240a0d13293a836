// The PTX of a kernel: what the CUDA driver loads (no GPU needed here).
// RUN: sattn-compile %s --target=nvvm -o - | FileCheck %s --implicit-check-not=__nv_ --check-prefixes=CHECK,SM80,MMA
// RUN: sattn-compile %s --target=nvvm --chip=sm_90 -o - | FileCheck %s --implicit-check-not=__nv_ --check-prefixes=CHECK,SM90,MMA
// RUN: sattn-compile %s --target=nvvm --tensor-cores=false -o - | FileCheck %s --implicit-check-not=__nv_ --check-prefixes=CHECK,SM80,SIMT

// The launch facts travel as the first line.
// CHECK: // sattn.gpu_launch: #sattn.gpu_launch<kernel = @sattn_kernels::@attention_0
// MMA-SAME: tile = <rows = 128, keys = 64>, grid = [query_tiles, q_heads, batch], threads = 256, shared_memory = 38912, tensor_cores = true
// SIMT-SAME: tile = <rows = 32, keys = 32>, grid = [query_tiles, q_heads, batch], threads = 128, shared_memory = 0, tensor_cores = false
// SM80:  .target sm_80
// SM90:  .target sm_90
// Tensor cores: the tiles live in dynamic shared memory (given at launch).
// MMA:  .extern .shared .align 16 .b8 __dynamic_shmem__0[];
// CHECK: .visible .entry attention_0(
// MMA:  .maxntid 256, 1, 1
// SIMT: .maxntid 128, 1, 1
// SIMT: .shared .align {{[0-9]+}} .b8 __wg_attention_0_0[8192];
// SIMT: .shared .align {{[0-9]+}} .b8 __wg_attention_0_1[4160];
// SIMT: .shared .align {{[0-9]+}} .b8 __wg_attention_0_2[4096];
// In any order: barriers, cp.async copies of the tiles and ldmatrix
// fragments, mma.sync (tensor cores), the row reductions over a quad (MMA)
// or a warp (SIMT), 2^x (ftz), P rounded to bf16 pairs (MMA) or broadcast by
// shuffles (SIMT); no libdevice call anywhere (--implicit-check-not).
// CHECK-DAG: bar.sync
// MMA-DAG:   cp.async.cg.shared.global [{{.*}}], [{{.*}}], 16, {{.*}};
// MMA-DAG:   cp.async.commit_group;
// MMA-DAG:   cp.async.wait_group 0;
// MMA-DAG:   ldmatrix.sync.aligned.m8n8.x4.shared.b16
// MMA-DAG:   ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// MMA-DAG:   mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// MMA-DAG:   shfl.sync.bfly.b32 {{.*}}, 1, 31, -1;
// MMA-DAG:   shfl.sync.bfly.b32 {{.*}}, 2, 31, -1;
// MMA-DAG:   cvt.rn.bf16x2.f32
// MMA-DAG:   st.global.b32
// SIMT-DAG:  ld.shared
// SIMT-DAG:  shfl.sync.bfly.b32 {{.*}}, 16, 31, -1;
// SIMT-DAG:  shfl.sync.idx.b32
// CHECK-DAG: ex2.approx.ftz.f32
// SIMT-DAG:  cvt.rn.bf16.f32
// CHECK-DAG: ret;

func.func @longformer(%q: tensor<1x4x300x64xbf16>, %k: tensor<1x4x300x64xbf16>, %v: tensor<1x4x300x64xbf16>) -> tensor<1x4x300x64xbf16> {
  %o = sattn.attention %q, %k, %v mask(#sattn.longformer<window = 64, global = [0, 1]>)
      : (tensor<1x4x300x64xbf16>, tensor<1x4x300x64xbf16>, tensor<1x4x300x64xbf16>) -> tensor<1x4x300x64xbf16>
  return %o : tensor<1x4x300x64xbf16>
}
