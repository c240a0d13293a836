// The whole named pipeline: only the LLVM and OpenMP dialects remain, the
// spec function takes its results as out-parameters, exp is a polynomial.
// RUN: sattn-opt %s -sattn-lower-to-llvm | FileCheck %s

// CHECK-LABEL: llvm.func @causal(
// CHECK:         omp.parallel
// CHECK:           omp.wsloop
// CHECK:             llvm.call @__sattn_tile_0
// CHECK-LABEL: llvm.func @_mlir_ciface_causal(
// CHECK-LABEL: llvm.func @__sattn_tile_0(
// CHECK-NOT:     math.exp
// CHECK-NOT:     llvm.call @expf
// CHECK:         llvm.intr.fma
func.func @causal(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32> attributes {llvm.emit_c_interface} {
  %o = sattn.attention %q, %k, %v mask(#sattn.causal) : (tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}
