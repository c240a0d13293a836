// sattn-run --target=nvvm on a machine without a CUDA device (forced here
// with SATTN_LIBCUDA) and with a spec the GPU kernel cannot take: clear
// messages, exit code != 0, no crash.
// RUN: env SATTN_LIBCUDA=%t.missing-libcuda.so not sattn-run %s --function=ok --target=nvvm --random-inputs 2>&1 | FileCheck %s --check-prefix=NODEV
// RUN: not sattn-run %s --function=too_wide --target=nvvm --random-inputs 2>&1 | FileCheck %s --check-prefix=WIDE
// The CPU target takes the same wide spec.
// RUN: sattn-run %s --function=too_wide --check | FileCheck %s --check-prefix=CPU
// A paged spec compiles for the GPU, then finds no device either.
// RUN: env SATTN_LIBCUDA=%t.missing-libcuda.so not sattn-run %s --function=paged --target=nvvm --random-inputs 2>&1 | FileCheck %s --check-prefix=NODEV
// So does a varlen spec.
// RUN: env SATTN_LIBCUDA=%t.missing-libcuda.so not sattn-run %s --function=varlen --target=nvvm --random-inputs 2>&1 | FileCheck %s --check-prefix=NODEV

// NODEV: sattn-run: no CUDA device: cannot load the CUDA driver ({{.*}}missing-libcuda.so
// WIDE: error: 'sattn.attention' op head dims D = 512, Dv = 64 with 'f32' need {{[0-9]+}} bytes of shared memory for the smallest GPU tile; the limit is 49152
// CPU: check result #0 (O): {{.*}}: ok

!t = tensor<1x2x40x16xf32>
func.func @ok(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) : (!t, !t, !t) -> !t
  return %o : !t
}

!w = tensor<1x1x8x512xf32>
!wv = tensor<1x1x8x64xf32>
func.func @too_wide(%q: !w, %k: !w, %v: !wv) -> !wv {
  %o = sattn.attention %q, %k, %v mask(#sattn.dense) : (!w, !w, !wv) -> !wv
  return %o : !wv
}

func.func private @paged(%q: tensor<2x4x1x64xf16>, %kc: tensor<8x16x2x64xf16>, %vc: tensor<8x16x2x64xf16>, %t: tensor<2x4xi32>, %n: tensor<2xi32>) -> tensor<2x4x1x64xf16> {
  %o = sattn.paged_attention %q, %kc, %vc, %t, %n mask(#sattn.causal) : (tensor<2x4x1x64xf16>, tensor<8x16x2x64xf16>, tensor<8x16x2x64xf16>, tensor<2x4xi32>, tensor<2xi32>) -> tensor<2x4x1x64xf16>
  return %o : tensor<2x4x1x64xf16>
}

func.func private @varlen(%q: tensor<50x4x64xbf16>, %k: tensor<60x2x64xbf16>, %v: tensor<60x2x64xbf16>, %cq: tensor<4xi32>, %ck: tensor<4xi32>) -> tensor<50x4x64xbf16> {
  %o = sattn.varlen_attention %q, %k, %v, %cq, %ck mask(#sattn.causal) : (tensor<50x4x64xbf16>, tensor<60x2x64xbf16>, tensor<60x2x64xbf16>, tensor<4xi32>, tensor<4xi32>) -> tensor<50x4x64xbf16>
  return %o : tensor<50x4x64xbf16>
}
