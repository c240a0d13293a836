// Hostile .npy files and flags: every size from a file or a flag is checked
// (for overflow, against the file's size, against the machine's memory)
// before anything is allocated; a clear error, never a crash or a hang.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/write_npy.py %t
// RUN: not sattn-run %s --function=f --input=@%t/overflow.npy --input=@%t/overflow.npy --input=@%t/overflow.npy 2>&1 | FileCheck %s --check-prefix=OVERFLOW
// RUN: not sattn-run %s --function=f --input=@%t/huge.npy --input=@%t/huge.npy --input=@%t/huge.npy 2>&1 | FileCheck %s --check-prefix=HUGE
// RUN: not sattn-run %s --function=f --input=@%t/truncated.npy --input=@%t/truncated.npy --input=@%t/truncated.npy 2>&1 | FileCheck %s --check-prefix=TRUNCATED
// RUN: not sattn-run %s --function=f --input=@%t/badshape.npy --input=@%t/badshape.npy --input=@%t/badshape.npy 2>&1 | FileCheck %s --check-prefix=BADSHAPE
// RUN: not sattn-run %s --function=big --random-inputs 2>&1 | FileCheck %s --check-prefix=MEMORY
// RUN: not sattn-run %s --function=f --random-inputs --benchmark=-5 2>&1 | FileCheck %s --check-prefix=BENCH
// RUN: not sattn-run %s --function=f --random-inputs --threads=100000 2>&1 | FileCheck %s --check-prefix=THREADS
// RUN: not sattn-run %s --function=arith --random-inputs 2>&1 | FileCheck %s --check-prefix=ARITH
// RUN: sattn-run %s --function=many_random_draws --check | FileCheck %s --check-prefix=RANDOM
// RUN: not sattn-run %s --function=costly_reference --check 2>&1 | FileCheck %s --check-prefix=COSTLYREF

// OVERFLOW: overflow.npy: shape [4611686018427387904, 4611686018427387904] of f32 is too large (its byte size overflows)
// HUGE: huge.npy: holds 64 data bytes, shape [1099511627776, 16] of f32 needs 70368744177664
// TRUNCATED: truncated.npy: truncated header
// BADSHAPE: badshape.npy: malformed shape in header
// MEMORY: sattn-run: input #0: a f32 tensor of shape [1048576, 1048576, 1, 16] needs 70368744177664 bytes, more than this machine's {{[0-9]+}} bytes of memory
// BENCH: sattn-run: --benchmark must be >= 0 (the number of timed runs), got -5
// THREADS: sattn-run: --threads must be an integer in [1, 1024]
// ARITH: sattn-run: 'arith.addf' at {{.*}}hostile-inputs.mlir{{.*}}: a spec function holds only attention ops (sattn.attention, sattn.paged_attention, sattn.varlen_attention, sattn.attention_grad) and a return
// RANDOM: check result #0 (O): {{.*}}: ok
// COSTLYREF: sattn-run: --check: the float64 reference of these shapes would take more than 2^36 operations

!t = tensor<1x1x8x16xf32>
func.func @f(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) : (!t, !t, !t) -> !t
  return %o : !t
}

!b = tensor<1048576x1048576x1x16xf32>
func.func @big(%q: !b, %k: !b, %v: !b) -> !b {
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) : (!b, !b, !b) -> !b
  return %o : !b
}

func.func @arith(%q: !t, %k: !t, %v: !t) -> !t {
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) : (!t, !t, !t) -> !t
  %s = arith.addf %o, %o : !t
  return %s : !t
}

// per_row far beyond the 8 key blocks: the draws stop once the block is found.
!r = tensor<1x1x64x16xf32>
func.func @many_random_draws(%q: !r, %k: !r, %v: !r) -> !r {
  %o = sattn.attention %q, %k, %v mask(#sattn.random<block = 8, per_row = 1000000000, seed = 0>) : (!r, !r, !r) -> !r
  return %o : !r
}

// Lq x Lk x (D + Dv) alone is beyond what the float64 reference may take.
!h = tensor<1x1x65536x64xf32>
func.func @costly_reference(%q: !h, %k: !h, %v: !h) -> !h {
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) : (!h, !h, !h) -> !h
  return %o : !h
}
