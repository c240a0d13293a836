//===- KernelBuilderBase.h - what the GPU kernel builders share -*- C++ -*-===//
//
// The small IR helpers of the forward (SAttnToGPU.cpp) and backward
// (AttentionGradToGPU.cpp) kernel builders, the kernel module, and the
// flattening of operand buffers into the kernels' 1-D parameters.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_LIB_CONVERSION_SATTNTOGPU_KERNELBUILDERBASE_H
#define SATTN_LIB_CONVERSION_SATTNTOGPU_KERNELBUILDERBASE_H

#include "sattn/Conversion/SAttnToGPU/SAttnToGPU.h"
#include "sattn/Conversion/Utils/AttentionLowering.h"

#include "mlir/IR/BuiltinOps.h"

namespace mlir {
namespace sattn {

constexpr int64_t kWarpSize = 32;
constexpr int64_t kVecElems = 8; // f16/bf16 per 16-byte copy

inline int64_t roundUp(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

/// A kernel of `threads` threads on elements of type `elemType`.
class KernelBuilderBase {
protected:
  KernelBuilderBase(MLIRContext *ctx, Location loc, Type elemType,
                    int64_t threads)
      : ctx(ctx), b(ctx), loc(loc), f32(b.getF32Type()), elemType(elemType),
        threads(threads) {}

public:
  /// memref<?xT>: how the kernels take every buffer.
  MemRefType flatType(Type elem) {
    return MemRefType::get({ShapedType::kDynamic}, elem);
  }

protected:
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value i32(int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v));
  }
  Value i64(int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v));
  }
  Value f32Const(float v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value toI64(Value index) {
    return arith::IndexCastOp::create(b, loc, b.getI64Type(), index);
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value minIdx(Value x, Value y) {
    return arith::MinSIOp::create(b, loc, x, y);
  }
  Value divIdx(Value x, int64_t y) {
    return arith::DivUIOp::create(b, loc, x, idx(y));
  }
  Value remIdx(Value x, int64_t y) {
    return arith::RemUIOp::create(b, loc, x, idx(y));
  }
  /// !x (i1); !full: the tile is PARTIAL (uniform over the block).
  Value negate(Value x) {
    return arith::XOrIOp::create(
        b, loc, x, arith::ConstantOp::create(b, loc, b.getBoolAttr(true)));
  }
  Value lt(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, x, y);
  }
  Value widen(Value x) {
    return x.getType() == f32 ? x : arith::ExtFOp::create(b, loc, f32, x);
  }
  Value load(Value memref, ValueRange indices) {
    return memref::LoadOp::create(b, loc, memref, indices);
  }
  void store(Value value, Value memref, ValueRange indices) {
    memref::StoreOp::create(b, loc, value, memref, indices);
  }
  /// for (i = first; i < end; i += step) body(i)
  void forLoop(Value first, Value end, int64_t step,
               function_ref<void(Value)> body) {
    scf::ForOp::create(b, loc, first, end, idx(step), ValueRange{},
                       [&](OpBuilder &, Location, Value i, ValueRange) {
                         body(i);
                         scf::YieldOp::create(b, loc);
                       });
  }
  /// Builds then() inside `if (cond)`, then continues after it.
  void ifThen(Value cond, function_ref<void()> then) {
    auto ifOp = scf::IfOp::create(b, loc, cond);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    then();
  }
  // Math as single NVVM instructions rather than math ops, which
  // convert-gpu-to-nvvm maps to libdevice calls: the PTX then needs no CUDA
  // toolkit to be complete.
  Value intrinsic(StringRef name, Value x) {
    return LLVM::CallIntrinsicOp::create(b, loc, f32, b.getStringAttr(name),
                                         ValueRange{x})
        .getResult(0);
  }
  /// 2^x: ex2.approx.ftz.f32 (2^-inf = 0).
  Value exp2(Value x) { return intrinsic("llvm.nvvm.ex2.approx.ftz.f32", x); }
  /// log2(x): lg2.approx.f32.
  Value log2(Value x) { return intrinsic("llvm.nvvm.lg2.approx.f", x); }
  Value fma(Value x, Value y, Value z) {
    return LLVM::FMAOp::create(b, loc, x, y, z, LLVM::FastmathFlagsAttr());
  }
  Value maxf(Value x, Value y) {
    return LLVM::MaxNumOp::create(b, loc, x, y, LLVM::FastmathFlagsAttr());
  }
  /// The max or the sum of `x` over the 32 lanes of the warp, in every lane.
  Value warpReduce(Value x, bool isMax) {
    for (int32_t offset = kWarpSize / 2; offset > 0; offset /= 2) {
      Value other = gpu::ShuffleOp::create(b, loc, x, offset, kWarpSize,
                                           gpu::ShuffleMode::XOR)
                        .getShuffleResult();
      x = isMax ? maxf(x, other)
                : Value(arith::AddFOp::create(b, loc, x, other));
    }
    return x;
  }

  /// The address (i64) of element `offset` (index) of `buffer`; as a
  /// pointer into the shared `tile` and into the flat global buffer `flat`.
  Value address(Value buffer, Value offset);
  Value sharedPtr(Value tile, Value offset);
  Value globalPtr(Value flat, Value offset);

  /// The run of keys (1, or a divisor of `tileKeys`) on which `mask` is
  /// constant along keys inside a tile of `tileKeys` keys starting at a
  /// multiple of `tileKeys` (its block grid): PARTIAL tiles evaluate the
  /// mask once per run.
  static int64_t keyCellWidth(MaskAttrInterface mask, int64_t tileKeys);
  /// The key-used flags of a PARTIAL tile: used[warp][j] (i32) = 1 when some
  /// query position p0 <= p < p1 (i64) of the warp's row cells keeps key
  /// k0 + j (index), for the lane's keys j = lane + 32 i < tileKeys. The
  /// warps take the row cells of the mask's block grid in turn (without a
  /// grid a cell is one row) and evaluate the mask once per cell.
  void storeKeyUsedFlags(MaskAttrInterface mask, Value used, int64_t tileKeys,
                         Value p0, Value p1, Value k0, Value lk64);

  /// Calls zero(c, d) (index) for elements [d, d + vec) of each row
  /// c < tileKeys whose key-used flags in `used` (storeKeyUsedFlags) are all
  /// 0, d = 0, vec, ... < width; the block's threads take the (c, d) in turn.
  void forUnusedKeys(Value used, int64_t tileKeys, int64_t width, int64_t vec,
                     function_ref<void(Value, Value)> zero);

  // Tensor-core helpers (f16/bf16).
  /// cp.async of `numRows` rows of `width` elements (a multiple of 8) from
  /// the flat buffer `src` (row r at rowOffset(r)) into the shared `tile`
  /// from element `base` on, rows `pitch` apart, 16 bytes per thread and
  /// step; rows where keepRow(r) is false become 0. `rowStride`, when
  /// given, is rowOffset(r + 1) - rowOffset(r) for every r. The copies form
  /// one cp.async group.
  void copyRowsAsync(Value src, Value tile, Value base, int64_t pitch,
                     int64_t numRows, int64_t width,
                     function_ref<Value(Value)> rowOffset,
                     function_ref<Value(Value)> keepRow, Value rowStride = {});
  /// ldmatrix.x4 (.trans) of the 8x8 matrices whose rows start at element
  /// `offset` of `tile` in each lane; the four 32-bit registers as mma.sync
  /// operands.
  SmallVector<Value> loadMatrices(Value tile, Value offset, bool transpose);
  /// Two f32 values rounded to T as the 32-bit register of an mma.sync
  /// operand (`lo` in the low half): i32 for bf16, vector<2xf16> for f16.
  /// One cvt.rn.{bf16x2,f16x2}.f32 for both.
  Value packRounded(Value lo, Value hi);
  /// Stores 16 zero bytes at element `offset` (index, a multiple of 8) of
  /// the shared `tile`.
  void storeZero16(Value tile, Value offset);
  /// A 32-bit register (i32) as an mma.sync operand of T.
  Value asOperand(Value word);
  /// D = A B + C for one m16n8k16 fragment: 4 A, 2 B registers, 4 f32.
  SmallVector<Value> mmaSync(ArrayRef<Value> a, ArrayRef<Value> bFrag,
                             ArrayRef<Value> c);
  /// `x` reduced over the 4 lanes of the quad (lanes sharing g).
  Value quadReduce(Value x, bool isMax);

  MLIRContext *ctx;
  OpBuilder b;
  Location loc;
  Type f32;
  Type elemType;   // T: Q, K, V and the outputs
  int64_t threads; // per block
  Value lane, warp; // of this thread, set by the kernel's builder
};

/// The kernel module of `module`, created (and the module marked as a GPU
/// container) on first use.
gpu::GPUModuleOp getOrCreateKernelModule(ModuleOp module);

/// `buffer` (an identity-layout memref) as memref<?xT>.
Value flattenBuffer(OpBuilder &b, Location loc, Value buffer);

/// How a kernel is launched: its #sattn.gpu_launch less the symbol.
struct KernelLaunch {
  int64_t rows, keys, threads, sharedBytes; // sharedBytes: dynamic only
  bool tensorCores, writesLse;
  SmallVector<LaunchDim, 3> grid;
  SmallVector<KernelParam> params;
  int64_t calls = 0, partSlots = 0; // heavy query tiles cut into parts
};

/// The gpu.launch_func of `kernel` (in `kernels`) on `grid` with `args` and
/// `launch`'s block size and dynamic shared memory, before `op`; its
/// #sattn.gpu_launch is appended to the host function's sattn.gpu_launches.
void buildKernelLaunch(OpBuilder &b, Operation *op, gpu::GPUModuleOp kernels,
                       gpu::GPUFuncOp kernel, const KernelLaunch &launch,
                       gpu::KernelDim3 grid, ValueRange args);

/// A gpu.func kernel named `name` in `module` taking `args`, with the static
/// shared memory `workgroup` (memref types in address space 3) and blocks of
/// `threads` threads; the builder at the start of its body.
gpu::GPUFuncOp createKernel(OpBuilder &b, Location loc,
                            gpu::GPUModuleOp module, StringRef name,
                            TypeRange args, TypeRange workgroup,
                            int64_t threads);

} // namespace sattn
} // namespace mlir

#endif // SATTN_LIB_CONVERSION_SATTNTOGPU_KERNELBUILDERBASE_H
