//===- SAttnKernelAttrs.td - facts of compiled kernels -----*- tablegen -*-===//
//
// What a conversion decided about the kernel it built, written on the IR so
// that everyone downstream (runtime, C API, AOT headers, tests) reads it
// instead of recomputing it: the tile shape, and for GPU kernels the launch.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_DIALECT_SATTN_IR_SATTNKERNELATTRS_TD
#define SATTN_DIALECT_SATTN_IR_SATTNKERNELATTRS_TD

include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "sattn/Dialect/SAttn/IR/SAttnDialect.td"

def SAttn_TileAttr : AttrDef<SAttn_Dialect, "Tile"> {
  let mnemonic = "tile";
  let summary = "Br query rows x Bc keys per tile";
  let description = [{
    The tile shape of an attention op: `-sattn-plan-tiles` writes it on each
    op as `sattn.tile` (a spec may write it first), the CPU conversions read
    it, and the GPU conversion records its own in `#sattn.gpu_launch`.

    ```mlir
    #sattn.tile<rows = 64, keys = 32>
    ```
  }];
  let parameters = (ins "int64_t":$rows, "int64_t":$keys);
  let assemblyFormat = "`<` `rows` `=` $rows `,` `keys` `=` $keys `>`";
  let genVerifyDecl = 1;
}

def SAttn_KernelParam : I32EnumAttr<"KernelParam",
    "a parameter of a GPU kernel", [
      I32EnumAttrCase<"Q", 0, "q">,
      I32EnumAttrCase<"K", 1, "k">,
      I32EnumAttrCase<"V", 2, "v">,
      I32EnumAttrCase<"O", 3, "o">,
      I32EnumAttrCase<"Lse", 4, "lse">,
      I32EnumAttrCase<"QHeads", 5, "q_heads">,
      I32EnumAttrCase<"KvHeads", 6, "kv_heads">,
      I32EnumAttrCase<"QLen", 7, "q_len">,
      I32EnumAttrCase<"KLen", 8, "k_len">,
      I32EnumAttrCase<"BlockTable", 9, "block_table">,
      I32EnumAttrCase<"SeqLens", 10, "seq_lens">,
      I32EnumAttrCase<"NumPages", 11, "num_pages">,
      I32EnumAttrCase<"MaxPages", 12, "max_pages">,
      I32EnumAttrCase<"CuSeqlensQ", 13, "cu_seqlens_q">,
      I32EnumAttrCase<"CuSeqlensK", 14, "cu_seqlens_k">,
      I32EnumAttrCase<"GradOutput", 15, "grad_output">,
      I32EnumAttrCase<"GradQuery", 16, "grad_query">,
      I32EnumAttrCase<"GradKey", 17, "grad_key">,
      I32EnumAttrCase<"GradValue", 18, "grad_value">,
      I32EnumAttrCase<"Partials", 19, "partials">,
      I32EnumAttrCase<"PartCounters", 20, "part_counters">]> {
  let cppNamespace = "::mlir::sattn";
  let genSpecializedAttr = 0;
}

def SAttn_LaunchDim : I32EnumAttr<"LaunchDim", "a dimension of a GPU grid", [
      I32EnumAttrCase<"QueryTiles", 0, "query_tiles">,
      I32EnumAttrCase<"QHeads", 1, "q_heads">,
      I32EnumAttrCase<"Batch", 2, "batch">,
      I32EnumAttrCase<"Sequences", 3, "sequences">,
      I32EnumAttrCase<"KeyAndQueryTiles", 4, "key_and_query_tiles">,
      I32EnumAttrCase<"Calls", 5, "calls">]> {
  let cppNamespace = "::mlir::sattn";
  let genSpecializedAttr = 0;
}

def SAttn_GpuLaunchAttr : AttrDef<SAttn_Dialect, "GpuLaunch"> {
  let mnemonic = "gpu_launch";
  let summary = "how to launch the GPU kernel of one attention op";
  let description = [{
    Written by `-convert-sattn-to-gpu` on the host function (the array
    `sattn.gpu_launches`, one entry per `gpu.launch_func` in order) and
    carried by the PTX as its first line; the runtime, the C API and
    `sattn-compile --emit=header` launch from it alone.

    - `kernel`: the kernel's symbol (`@sattn_kernels::@attention_0`).
    - `tile`: Br x Bc of the kernel.
    - `grid`: what x, y, z count: `query_tiles` = ceil(L / Br) with L the
      query length (the longest sequence's for varlen), `q_heads`, `batch`
      (B) or `sequences` (varlen); the backward's
      `key_and_query_tiles` = ceil(Lk / Bc) + ceil(Lq / Br); `calls` = the
      `calls` below (a plan whose heavy query tiles are cut into parts).
    - `threads`: threads per block (x).
    - `shared_memory`: bytes of dynamic shared memory the launch must give
      (above 48 KiB the kernel must first be allowed them:
      `cuFuncSetAttribute(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)`).
    - `tensor_cores`: mma.sync (sm_80+); Q, K and V must be 16-byte aligned.
    - `writes_lse`: the `lse` parameter must be a buffer.
    - `params`: the parameters in order; `q`, `k`, `v`, `o`, `lse`,
      `block_table`, `seq_lens`, `cu_seqlens_q`, `cu_seqlens_k` and the
      backward's `grad_output` (dO, an operand like `o` and `lse` there),
      `grad_query`, `grad_key` and `grad_value` (its results) are flat
      memrefs (allocated, aligned, offset 0, element count, stride 1), the
      others one i64. With parts, `partials` (f32, B x Hq x `part_slots` x
      Br x (Dv + 1): each part's normalized O rows and base-2 LSE) and
      `part_counters` (i32, B x Hq x `part_slots`; zero before the first
      launch, and each launch leaves it zero) are buffers too.
    - `calls`, `part_slots` (omitted when 0): heavy query tiles (global
      rows) cut into parts, docs/GPUCodegen.md: the blocks along x, and the
      partial-result slots per (batch, query head).

    ```mlir
    #sattn.gpu_launch<kernel = @sattn_kernels::@attention_0,
                      tile = <rows = 128, keys = 64>,
                      grid = [query_tiles, q_heads, batch], threads = 256,
                      shared_memory = 73728, tensor_cores = true,
                      writes_lse = false,
                      params = [q, k, v, o, lse, q_heads, kv_heads, q_len, k_len]>
    ```
  }];
  let parameters = (ins "SymbolRefAttr":$kernel, "TileAttr":$tile,
                        ArrayRefParameter<"LaunchDim">:$grid,
                        "int64_t":$threads, "int64_t":$sharedMemory,
                        "bool":$tensorCores, "bool":$writesLse,
                        ArrayRefParameter<"KernelParam">:$params,
                        DefaultValuedParameter<"int64_t", "0">:$calls,
                        DefaultValuedParameter<"int64_t", "0">:$partSlots);
  let assemblyFormat = [{
    `<` `kernel` `=` $kernel `,` `tile` `=` $tile `,` `grid` `=` `[` $grid `]`
    `,` `threads` `=` $threads `,` `shared_memory` `=` $sharedMemory `,`
    `tensor_cores` `=` $tensorCores `,` `writes_lse` `=` $writesLse `,`
    `params` `=` `[` $params `]` (`,` `calls` `=` $calls^)?
    (`,` `part_slots` `=` $partSlots^)? `>`
  }];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// True for the parameters passed as flat memrefs (5 words).
    static bool isBuffer(KernelParam param);
  }];
}

def SAttn_CpuKernelAttr : AttrDef<SAttn_Dialect, "CpuKernel"> {
  let mnemonic = "cpu_kernel";
  let summary = "how the CPU kernel of one attention op computes";
  let description = [{
    Written by `-convert-sattn-to-loops` on the host function (the array
    `sattn.cpu_kernels`, one entry per op in order) and carried by the
    compiled object as the C string `__sattn_kernels_<function>`; the C
    API's plan statistics read it.

    - `tile`: Br x Bc of the tile functions (decode: the rows of the packed
      query heads).
    - `spaces`: iteration spaces (1: the mask's own; more for strided and
      dilated masks, docs/CPUCodegen.md).
    - `packed_heads`: query heads sharing one tile (decode), else 1.
    - `split_keys`: the key range is split across threads and merged with
      LSE (flash-decoding; prefill: the heavy query tiles' parts).

    ```mlir
    #sattn.cpu_kernel<tile = <rows = 32, keys = 64>, spaces = 1,
                      packed_heads = 1, split_keys = false>
    ```
  }];
  let parameters = (ins "TileAttr":$tile, "int64_t":$spaces,
                        "int64_t":$packedHeads, "bool":$splitKeys);
  let assemblyFormat = [{
    `<` `tile` `=` $tile `,` `spaces` `=` $spaces `,` `packed_heads` `=`
    $packedHeads `,` `split_keys` `=` $splitKeys `>`
  }];
}

#endif // SATTN_DIALECT_SATTN_IR_SATTNKERNELATTRS_TD
