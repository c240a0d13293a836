// sattn-run --target=nvvm on a machine without a CUDA device (forced here
// with SATTN_LIBCUDA) and with a spec the GPU kernel cannot take: clear
// messages, exit code != 0, no crash.
// RUN: env SATTN_LIBCUDA=%t.missing-libcuda.so not sattn-run %s --function=ok --target=nvvm --random-inputs 2>&1 | FileCheck %s --check-prefix=NODEV
// RUN: not sattn-run %s --function=too_wide --target=nvvm --random-inputs 2>&1 | FileCheck %s --check-prefix=WIDE
// The CPU target takes the same wide spec.
// RUN: sattn-run %s --function=too_wide --check | FileCheck %s --check-prefix=CPU
// The nvvm runtime does not launch paged kernels yet (their PTX compiles).
// RUN: not sattn-run %S/paged-errors.mlir --target=nvvm --random-inputs 2>&1 | FileCheck %s --check-prefix=PAGED

// NODEV: sattn-run: no CUDA device: cannot load the CUDA driver ({{.*}}missing-libcuda.so
// WIDE: error: 'sattn.attention' op head dims D = 512, Dv = 64 with 'f32' need {{[0-9]+}} bytes of shared memory for the smallest GPU tile; the limit is 49152
// CPU: check result #0 (O): {{.*}}: ok
// PAGED: sattn-run: the nvvm runtime does not launch 'sattn.paged_attention' yet (its PTX compiles with sattn-compile; the cpu target runs it)

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
