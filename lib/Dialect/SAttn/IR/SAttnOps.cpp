//===- SAttnOps.cpp - sattn operations ------------------------------------===//

#include "sattn/Dialect/SAttn/IR/SAttnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include <cmath>

using namespace mlir;
using namespace mlir::sattn;

//===----------------------------------------------------------------------===//
// custom<Mask>
//===----------------------------------------------------------------------===//

static ParseResult parseMask(OpAsmParser &parser, MaskAttrInterface &mask) {
  SMLoc loc = parser.getCurrentLocation();
  Attribute attr;
  if (parser.parseAttribute(attr))
    return failure();
  mask = dyn_cast<MaskAttrInterface>(attr);
  if (!mask)
    return parser.emitError(loc)
           << "'mask' must be a mask attribute (#sattn.*), got " << attr;
  return success();
}

static void printMask(OpAsmPrinter &printer, Operation *,
                      MaskAttrInterface mask) {
  printer.printAttribute(mask);
}

#include "sattn/Dialect/SAttn/IR/SAttnOpInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "sattn/Dialect/SAttn/IR/SAttnOps.cpp.inc"

//===----------------------------------------------------------------------===//
// What every attention op checks
//===----------------------------------------------------------------------===//

static std::string dimStr(int64_t d) {
  return ShapedType::isDynamic(d) ? "?" : std::to_string(d);
}

/// Two sizes that must agree when both are static.
static bool agree(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// The scale attribute, or the f32 value of 1/sqrt(D).
static float scaleValue(std::optional<APFloat> scale, int64_t d) {
  if (scale)
    return scale->convertToFloat();
  return static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
}

/// One element type for Q, K, V and O (`named`: operand name and type).
static LogicalResult
verifyElementTypes(Operation *op, RankedTensorType query,
                   ArrayRef<std::pair<StringRef, RankedTensorType>> named) {
  Type elemType = query.getElementType();
  for (auto [name, type] : named)
    if (type.getElementType() != elemType)
      return op->emitOpError()
             << name << " element type " << type.getElementType()
             << " differs from the query element type " << elemType
             << " (Q, K, V and O share one element type)";
  return success();
}

/// `scale`, `softcap` and `alibi_slopes` of an op with `hq` query heads.
template <typename OpT>
static LogicalResult verifyScoreAttrs(OpT op, int64_t hq) {
  if (std::optional<APFloat> scale = op.getScale(); scale && !scale->isFinite())
    return op->emitOpError() << "'scale' must be a finite f32";
  // Score modifiers: softcap c > 0 and finite (0 is not "off": omit it);
  // one finite ALiBi slope per query head.
  if (std::optional<APFloat> softcap = op.getSoftcap())
    if (!softcap->isFinite() || softcap->convertToFloat() <= 0.0f)
      return op->emitOpError()
             << "'softcap' must be a finite f32 > 0, got "
             << softcap->convertToFloat() << " (omit it for no softcap)";
  if (std::optional<ArrayRef<float>> slopes = op.getAlibiSlopes()) {
    if (!ShapedType::isDynamic(hq) &&
        static_cast<int64_t>(slopes->size()) != hq)
      return op->emitOpError() << "'alibi_slopes' must have one slope per "
                                  "query head (Hq = "
                               << hq << "), got " << slopes->size();
    for (auto [h, slope] : llvm::enumerate(*slopes))
      if (!std::isfinite(slope))
        return op->emitOpError() << "'alibi_slopes' must be finite, got "
                                 << slope << " for query head " << h;
  }
  return success();
}

/// The result shapes: O (`expectedO`, named `oDims`) and LSE (`expectedLse`,
/// named `lseDims`).
static LogicalResult verifyResults(AttentionOpInterface op,
                                   ArrayRef<int64_t> expectedO, StringRef oDims,
                                   ArrayRef<int64_t> expectedLse,
                                   StringRef lseDims) {
  auto check = [&](Type type, StringRef name, ArrayRef<int64_t> expected,
                   StringRef dims) -> LogicalResult {
    if (cast<RankedTensorType>(type).getShape() == expected)
      return success();
    auto diag = op->emitOpError()
                << "result '" << name << "' must have shape " << dims << " = [";
    llvm::interleaveComma(expected, diag,
                          [&](int64_t d) { diag << dimStr(d); });
    return diag << "], got " << type;
  };
  if (failed(check(op.getOutput().getType(), "output", expectedO, oDims)))
    return failure();
  if (Value lse = op.getLse())
    return check(lse.getType(), "lse", expectedLse, lseDims);
  return success();
}

/// O [B, Hq, Lq, Dv] and LSE [B, Hq, Lq] of the head-major ops.
static LogicalResult verifyHeadMajorResults(AttentionOpInterface op,
                                            ArrayRef<int64_t> q, int64_t dv) {
  return verifyResults(op, {q[0], q[1], q[2], dv}, "[B, Hq, Lq, Dv]",
                       {q[0], q[1], q[2]}, "[B, Hq, Lq]");
}

/// GQA: Hq a multiple of Hkv; D of Q and K equal; D, Dv static.
static LogicalResult verifyHeads(Operation *op, int64_t hq, int64_t hkv,
                                 int64_t qd, int64_t kd, int64_t vd) {
  if (!ShapedType::isDynamic(hq) && !ShapedType::isDynamic(hkv) &&
      (hkv == 0 ? hq != 0 : hq % hkv != 0))
    return op->emitOpError()
           << "query heads (Hq = " << hq
           << ") must be a multiple of key/value heads (Hkv = " << hkv << ")";
  if (ShapedType::isDynamic(qd) || ShapedType::isDynamic(kd) ||
      ShapedType::isDynamic(vd))
    return op->emitOpError() << "head dims D (query, key) and Dv (value) must "
                                "be static";
  if (qd != kd)
    return op->emitOpError()
           << "query and key head dims (D) differ: " << qd << " vs " << kd;
  return success();
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

float AttentionOp::getScaleValue() {
  return scaleValue(getScale(), getQuery().getType().getDimSize(3));
}

/// Head-major Q [B, Hq, Lq, D], K [B, Hkv, Lk, D], V [B, Hkv, Lk, Dv]:
/// batch, heads and lengths agree; GQA; D.
static LogicalResult verifyHeadMajorInputs(Operation *op, ArrayRef<int64_t> q,
                                           ArrayRef<int64_t> k,
                                           ArrayRef<int64_t> v) {
  if (!agree(q[0], k[0]) || !agree(q[0], v[0]) || !agree(k[0], v[0]))
    return op->emitOpError()
           << "batch sizes differ: query " << dimStr(q[0]) << ", key "
           << dimStr(k[0]) << ", value " << dimStr(v[0]);
  if (!agree(k[1], v[1]))
    return op->emitOpError()
           << "key and value must have the same number of heads (Hkv), got "
           << dimStr(k[1]) << " and " << dimStr(v[1]);
  if (!agree(k[2], v[2]))
    return op->emitOpError()
           << "key and value must have the same length (Lk), got "
           << dimStr(k[2]) << " and " << dimStr(v[2]);
  return verifyHeads(op, q[1], k[1], q[3], k[3], v[3]);
}

/// The rules of `mask` that depend on a static key length.
static LogicalResult verifyMaskForLength(Operation *op, MaskAttrInterface mask,
                                         int64_t lk) {
  std::optional<int64_t> length;
  if (!ShapedType::isDynamic(lk))
    length = lk;
  return mask.verifyShape([&] { return op->emitOpError() << "mask: "; },
                          length);
}

LogicalResult AttentionOp::verify() {
  auto qType = getQuery().getType(), kType = getKey().getType(),
       vType = getValue().getType();
  ArrayRef<int64_t> q = qType.getShape(), k = kType.getShape(),
                    v = vType.getShape();
  if (failed(
          verifyElementTypes(*this, qType,
                             {{"key", kType},
                              {"value", vType},
                              {"result 'output'", getOutput().getType()}})) ||
      failed(verifyHeadMajorInputs(*this, q, k, v)) ||
      failed(verifyHeadMajorResults(*this, q, v[3])) ||
      failed(verifyScoreAttrs(*this, q[1])))
    return failure();
  return verifyMaskForLength(*this, getMask(), k[2]);
}

//===----------------------------------------------------------------------===//
// PagedAttentionOp
//===----------------------------------------------------------------------===//

float PagedAttentionOp::getScaleValue() {
  return scaleValue(getScale(), getQuery().getType().getDimSize(3));
}

LogicalResult PagedAttentionOp::verify() {
  auto qType = getQuery().getType(), kType = getKeyCache().getType(),
       vType = getValueCache().getType();
  ArrayRef<int64_t> q = qType.getShape(), k = kType.getShape(),
                    v = vType.getShape(),
                    table = getBlockTable().getType().getShape(),
                    lens = getSeqLens().getType().getShape();
  if (failed(verifyElementTypes(*this, qType,
                                {{"key_cache", kType},
                                 {"value_cache", vType},
                                 {"result 'output'", getOutput().getType()}})))
    return failure();
  // The caches: [P, page, Hkv, D] and [P, page, Hkv, Dv], page static.
  if (ShapedType::isDynamic(k[1]) || ShapedType::isDynamic(v[1]))
    return emitOpError() << "the page size (dim 1 of key_cache and "
                            "value_cache) must be static";
  if (k[1] <= 0)
    return emitOpError() << "the page size must be >= 1, got " << k[1];
  if (!agree(k[0], v[0]) || k[1] != v[1] || !agree(k[2], v[2]))
    return emitOpError() << "key_cache [P, page, Hkv, D] = [" << dimStr(k[0])
                         << ", " << k[1] << ", " << dimStr(k[2]) << ", "
                         << dimStr(k[3])
                         << "] and value_cache [P, page, Hkv, Dv] = ["
                         << dimStr(v[0]) << ", " << v[1] << ", " << dimStr(v[2])
                         << ", " << dimStr(v[3])
                         << "] must agree in P, page and Hkv";
  if (!agree(q[0], table[0]) || !agree(q[0], lens[0]))
    return emitOpError() << "batch sizes differ: query " << dimStr(q[0])
                         << ", block_table " << dimStr(table[0])
                         << ", seq_lens " << dimStr(lens[0]);
  if (failed(verifyHeads(*this, q[1], k[2], q[3], k[3], v[3])) ||
      failed(verifyHeadMajorResults(*this, q, v[3])) ||
      failed(verifyScoreAttrs(*this, q[1])))
    return failure();
  // Per-sequence lengths are dynamic Lk.
  return getMask().verifyShape([&] { return emitOpError() << "mask: "; },
                               std::nullopt);
}

//===----------------------------------------------------------------------===//
// VarlenAttentionOp
//===----------------------------------------------------------------------===//

float VarlenAttentionOp::getScaleValue() {
  return scaleValue(getScale(), getQuery().getType().getDimSize(2));
}

LogicalResult VarlenAttentionOp::verify() {
  auto qType = getQuery().getType(), kType = getKey().getType(),
       vType = getValue().getType();
  ArrayRef<int64_t> q = qType.getShape(), k = kType.getShape(),
                    v = vType.getShape(),
                    cuq = getCuSeqlensQ().getType().getShape(),
                    cuk = getCuSeqlensK().getType().getShape();
  if (failed(verifyElementTypes(*this, qType,
                                {{"key", kType},
                                 {"value", vType},
                                 {"result 'output'", getOutput().getType()}})))
    return failure();
  if (!agree(k[0], v[0]) || !agree(k[1], v[1]))
    return emitOpError() << "key [Tk, Hkv, D] = [" << dimStr(k[0]) << ", "
                         << dimStr(k[1]) << ", " << dimStr(k[2])
                         << "] and value [Tk, Hkv, Dv] = [" << dimStr(v[0])
                         << ", " << dimStr(v[1]) << ", " << dimStr(v[2])
                         << "] must agree in Tk and Hkv";
  // cu_seqlens_q and cu_seqlens_k: [B + 1] each.
  for (auto [name, n] : {std::pair<StringRef, int64_t>{"cu_seqlens_q", cuq[0]},
                         {"cu_seqlens_k", cuk[0]}})
    if (!ShapedType::isDynamic(n) && n < 1)
      return emitOpError() << "'" << name
                           << "' must have B + 1 >= 1 entries, got " << n;
  if (!agree(cuq[0], cuk[0]))
    return emitOpError() << "cu_seqlens_q and cu_seqlens_k must both have B + "
                            "1 entries, got "
                         << dimStr(cuq[0]) << " and " << dimStr(cuk[0]);
  if (failed(verifyHeads(*this, q[1], k[1], q[2], k[2], v[2])) ||
      failed(verifyResults(*this, {q[0], q[1], v[2]}, "[Tq, Hq, Dv]",
                           {q[1], q[0]}, "[Hq, Tq]")) ||
      failed(verifyScoreAttrs(*this, q[1])))
    return failure();
  // Per-sequence lengths are dynamic Lk.
  return getMask().verifyShape([&] { return emitOpError() << "mask: "; },
                               std::nullopt);
}

//===----------------------------------------------------------------------===//
// AttentionGradOp
//===----------------------------------------------------------------------===//

float AttentionGradOp::getScaleValue() {
  return scaleValue(getScale(), getQuery().getType().getDimSize(3));
}

LogicalResult AttentionGradOp::verify() {
  auto qType = getQuery().getType(), kType = getKey().getType(),
       vType = getValue().getType();
  ArrayRef<int64_t> q = qType.getShape(), k = kType.getShape(),
                    v = vType.getShape();
  if (failed(
          verifyElementTypes(*this, qType,
                             {{"key", kType},
                              {"value", vType},
                              {"output", getOutput().getType()},
                              {"grad_output", getGradOutput().getType()}})) ||
      failed(verifyHeadMajorInputs(*this, q, k, v)))
    return failure();
  // O and dO [B, Hq, Lq, Dv], LSE [B, Hq, Lq]: the forward's.
  SmallVector<int64_t> oShape = {q[0], q[1], q[2], v[3]};
  for (auto [name, type] :
       {std::pair<StringRef, RankedTensorType>{"output", getOutput().getType()},
        {"grad_output", getGradOutput().getType()}})
    if (type.getShape() != ArrayRef<int64_t>(oShape))
      return emitOpError() << "'" << name
                           << "' must have the forward's output shape [B, "
                              "Hq, Lq, Dv] = ["
                           << dimStr(q[0]) << ", " << dimStr(q[1]) << ", "
                           << dimStr(q[2]) << ", " << v[3] << "], got " << type;
  if (getLse().getType().getShape() != ArrayRef<int64_t>(oShape).drop_back())
    return emitOpError() << "'lse' must have the forward's shape [B, Hq, Lq] "
                            "= ["
                         << dimStr(q[0]) << ", " << dimStr(q[1]) << ", "
                         << dimStr(q[2]) << "], got " << getLse().getType();
  // dQ, dK, dV: the types of Q, K, V.
  for (auto [name, result, operand] :
       {std::tuple<StringRef, Type, Type>{"grad_query",
                                          getGradQuery().getType(), qType},
        {"grad_key", getGradKey().getType(), kType},
        {"grad_value", getGradValue().getType(), vType}})
    if (result != operand)
      return emitOpError() << "result '" << name << "' must have the type "
                           << operand << " of its operand, got " << result;
  if (failed(verifyScoreAttrs(*this, q[1])))
    return failure();
  return verifyMaskForLength(*this, getMask(), k[2]);
}
