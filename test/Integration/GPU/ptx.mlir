// The PTX of a kernel: what the CUDA driver loads (no GPU needed here).
// RUN: sattn-compile %s --target=nvvm -o - | FileCheck %s --check-prefixes=CHECK,SM80
// RUN: sattn-compile %s --target=nvvm --chip=sm_90 -o - | FileCheck %s --check-prefixes=CHECK,SM90

// SM80:  .target sm_80
// SM90:  .target sm_90
// CHECK: .visible .entry attention_0(
// CHECK: .maxntid 128, 1, 1
// Q, K and V tiles in shared memory.
// CHECK: .shared .align {{[0-9]+}} .b8 __wg_attention_0_0[8192];
// CHECK: .shared .align {{[0-9]+}} .b8 __wg_attention_0_1[4160];
// CHECK: .shared .align {{[0-9]+}} .b8 __wg_attention_0_2[4096];
// CHECK: bar.sync
// CHECK: ld.shared
// Warp reductions and 2^x.
// CHECK: shfl.sync.bfly.b32
// CHECK: ex2.approx
// CHECK: shfl.sync.idx.b32
// bf16 in, f32 math, bf16 out.
// CHECK: cvt.rn.bf16.f32
// CHECK: ret;

func.func @longformer(%q: tensor<1x4x300x64xbf16>, %k: tensor<1x4x300x64xbf16>, %v: tensor<1x4x300x64xbf16>) -> tensor<1x4x300x64xbf16> {
  %o = sattn.attention %q, %k, %v mask(#sattn.longformer<window = 64, global = [0, 1]>)
      : (tensor<1x4x300x64xbf16>, tensor<1x4x300x64xbf16>, tensor<1x4x300x64xbf16>) -> tensor<1x4x300x64xbf16>
  return %o : tensor<1x4x300x64xbf16>
}
