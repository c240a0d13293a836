//===- Passes.td - sattn conversion passes -----------------*- tablegen -*-===//

#ifndef SATTN_CONVERSION_PASSES_TD
#define SATTN_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertSAttnToLoops : Pass<"convert-sattn-to-loops", "::mlir::ModuleOp"> {
  let summary = "Lower sattn.attention to fused, tiled, tile-skipping loops";
  let description = [{
    Replaces each `sattn.attention` by one fused kernel (FlashAttention-2
    style) on memrefs:

    ```
    scf.parallel (b, h, qt) over (B, Hq, ceil(Lq / Br)):
      call @__sattn_tile_N(q, k, v, o, lse, b, h, qt)
    @__sattn_tile_N:
      Qt = scale * log2(e) * Q[b, h, qt*Br : +Br, :]^T       (Br x D, packed once)
      m = -inf, l = 0, Oacc = 0
      for kt in keyRange(mask, query positions of the tile) / Bc:
        (empty, full) = classify(mask, rows x keys of the tile)
        if empty: skip
        S^T = K[kt*Bc : +Bc] . Qt                            (Bc x Br, f32)
        if !full: S^T = select(mask(p, k), S^T, -inf)
        m' = max(m, rowmax(S)); P = 2^(S - m'); alpha = 2^(m - m')
        l = l * alpha + rowsum(P); Oacc = Oacc * alpha + P . V
      O = Oacc / l (0 where l == 0); LSE = m ln2 + log(l) (-inf where l == 0)
    ```

    Scores are kept in base 2 so that 2^x is a short polynomial (round, a
    degree-5 polynomial, an exponent add), exactly 0 for masked scores.
    Key tiles are visited only inside the closed-form key range of the mask,
    EMPTY tiles are skipped and the predicate runs only on PARTIAL ones. The
    tile math is 8-lane (AVX2) or 16-lane (AVX-512) f32 vectors, blocked so
    the accumulators stay in registers; f16/bf16 inputs are widened to f32,
    except that on AVX512_BF16 hosts bf16 Q K^T and P V are pair dot
    products (`x86vector.avx512.dot`) on bf16 Q^T, K, V and P, accumulated
    in f32 (P rounded to bf16, as FlashAttention does on GPUs). Scratch
    memory is O(Br x (D + Bc + Dv)) per thread: there is no Lq x Lk buffer. Tile sizes come from the op's `sattn.tile` attribute
    (set by -sattn-plan-tiles), else Br = 32, Bc = 64.
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", /*default=*/"0",
           "Vector register width to block for: 256 (AVX2), 512 (AVX-512), "
           "0 (the host CPU's)">,
    Option<"bf16Dot", "bf16-dot", "std::string", /*default=*/"\"host\"",
           "bf16 Q K^T and P V as pair dot products accumulated in f32 "
           "(vdpbf16ps, AVX512_BF16): host (when the host CPU has them), "
           "on, off">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
    "::mlir::x86vector::X86VectorDialect",
  ];
}

def ConvertSAttnToGPU : Pass<"convert-sattn-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Lower sattn.attention to a tile-skipping GPU kernel";
  let description = [{
    Outlines each `sattn.attention` into a kernel `@attention_N` of
    `gpu.module @sattn_kernels` and replaces the op by a `gpu.launch_func`
    on flattened buffers (the host function expects device-accessible
    memory; sattn's runtime launches the kernel itself through the CUDA
    driver). SIMT: one thread block of 4 warps per (query tile, head,
    batch):

    ```
    grid (ceil(Lq / Br), Hq, B), block (128): warp w owns rows w*Br/4 ...
    Qs = scale * log2(e) * Q[b, h, q0 : q0+Br, :]        (shared, f32)
    for kt in keyRange(mask, tile) / plan (EMPTY tiles never visited):
      Ks, Vs = K, V[b, g(h), kt*32 : +32, :]             (shared, zero tail)
      lane j: s_i = Qs[i] . Ks[j]                        (one key per lane)
      PARTIAL tiles only: s_i = mask(p_i, k0 + j) ? s_i : -inf
      m' = max(m, warpmax(s)); p = 2^(s - m'); alpha = 2^(m - m')
      l = l * alpha + warpsum(p); O[:, lane + 32t] = O * alpha + sum_j p_j Vs[j]
    O = O / l (0 where l == 0); LSE = (m + log2(l)) ln2
    ```

    Bc is 32. With tensor cores (the default), f16/bf16 ops with D % 16 == 0
    and Dv % 16 == 0 get Br = 128, Bc = 64, 8 warps of 16 rows, and compute
    S = Q K^T and O += P V with `nvvm.mma.sync` m16n8k16 (f32 accumulators;
    sm_80+) on `ldmatrix` fragments, the K/V tiles double-buffered in
    dynamic shared memory by `cp.async`, the softmax statistics reduced over
    the 4 lanes that share a row. Otherwise (f32, other head dims, tiles
    above 96 KiB) the SIMT kernel above takes one key per lane, and
    Br is the largest of 32, 16, 8, 4 whose shared tiles fit 48 KiB of
    static shared memory. f16/bf16 inputs are staged in their own type;
    arithmetic is f32. Masks with static lengths that are not bands get the
    same compile-time CSR tile plan as on CPU. The host function gets
    `sattn.gpu_launches`, one `#sattn.gpu_launch` per kernel: what the
    runtime, the C API and `sattn-compile` launch from. Each
    `sattn.attention_grad` becomes one kernel `@attention_grad_N`: blocks
    computing dK and dV of a key tile (over the transposed tile plan) and
    blocks computing dQ of a query tile (over the forward's), no atomics;
    mma.sync for f16/bf16 under the same conditions as the forward
    (docs/GPUCodegen.md). Lower the result with
    `-sattn-lower-to-nvvm`.
  }];
  let options = [
    Option<"tensorCores", "tensor-cores", "bool", /*default=*/"true",
           "Use mma.sync (sm_80+) for f16/bf16 where the head dims allow">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def SAttnExternDynamicSharedMemory
    : Pass<"sattn-extern-dynamic-shared-memory", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Make the dynamic shared memory of GPU kernels extern";
  let description = [{
    `convert-gpu-to-nvvm` lowers `gpu.dynamic_shared_memory` to an internal
    zero-sized `addr_space = 3` global, which the NVPTX backend emits as a
    one-byte static shared variable. This pass gives those globals external
    linkage, so the PTX declares `.extern .shared .align 16 .b8 name[];`: the
    shared memory the launch gives (above 48 KiB after the driver allows it
    with `CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES`).
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // SATTN_CONVERSION_PASSES_TD
