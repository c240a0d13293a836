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

#define GET_OP_CLASSES
#include "sattn/Dialect/SAttn/IR/SAttnOps.cpp.inc"

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

static std::string dimStr(int64_t d) {
  return ShapedType::isDynamic(d) ? "?" : std::to_string(d);
}

float AttentionOp::getScaleValue() {
  if (std::optional<APFloat> scale = getScale())
    return scale->convertToFloat();
  int64_t d = getQuery().getType().getDimSize(3);
  return static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
}

LogicalResult AttentionOp::verify() {
  auto qType = getQuery().getType(), kType = getKey().getType(),
       vType = getValue().getType(), oType = getOutput().getType();
  ArrayRef<int64_t> q = qType.getShape(), k = kType.getShape(),
                    v = vType.getShape(), o = oType.getShape();

  // One element type for Q, K, V and O.
  Type elemType = qType.getElementType();
  for (auto [name, type] :
       {std::pair<StringRef, RankedTensorType>{"key", kType},
        {"value", vType},
        {"result 'output'", oType}})
    if (type.getElementType() != elemType)
      return emitOpError() << name << " element type " << type.getElementType()
                           << " differs from the query element type "
                           << elemType
                           << " (Q, K, V and O share one element type)";

  // Two sizes that must agree when both are static.
  auto agree = [&](int64_t a, int64_t b) {
    return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
  };
  if (!agree(q[0], k[0]) || !agree(q[0], v[0]) || !agree(k[0], v[0]))
    return emitOpError() << "batch sizes differ: query " << dimStr(q[0])
                         << ", key " << dimStr(k[0]) << ", value "
                         << dimStr(v[0]);
  if (!agree(k[1], v[1]))
    return emitOpError() << "key and value must have the same number of heads "
                            "(Hkv), got "
                         << dimStr(k[1]) << " and " << dimStr(v[1]);
  if (!agree(k[2], v[2]))
    return emitOpError() << "key and value must have the same length (Lk), got "
                         << dimStr(k[2]) << " and " << dimStr(v[2]);
  if (!ShapedType::isDynamic(q[1]) && !ShapedType::isDynamic(k[1]) &&
      (k[1] == 0 ? q[1] != 0 : q[1] % k[1] != 0))
    return emitOpError() << "query heads (Hq = " << q[1]
                         << ") must be a multiple of key/value heads (Hkv = "
                         << k[1] << ")";
  if (ShapedType::isDynamic(q[3]) || ShapedType::isDynamic(k[3]) ||
      ShapedType::isDynamic(v[3]))
    return emitOpError() << "head dims D (query, key) and Dv (value) must be "
                            "static";
  if (q[3] != k[3])
    return emitOpError() << "query and key head dims (D) differ: " << q[3]
                         << " vs " << k[3];

  // Result shapes equal the operands' dims, static where they are static.
  SmallVector<int64_t> expectedO = {q[0], q[1], q[2], v[3]};
  if (o != ArrayRef<int64_t>(expectedO)) {
    auto diag = emitOpError() << "result 'output' must have shape [B, Hq, Lq, "
                                 "Dv] = [";
    llvm::interleaveComma(expectedO, diag,
                          [&](int64_t d) { diag << dimStr(d); });
    return diag << "], got " << oType;
  }
  if (Value lse = getLse()) {
    auto lseType = cast<RankedTensorType>(lse.getType());
    SmallVector<int64_t> expected = {q[0], q[1], q[2]};
    if (lseType.getShape() != ArrayRef<int64_t>(expected)) {
      auto diag = emitOpError()
                  << "result 'lse' must have shape [B, Hq, Lq] = [";
      llvm::interleaveComma(expected, diag,
                            [&](int64_t d) { diag << dimStr(d); });
      return diag << "], got " << lseType;
    }
  }

  if (std::optional<APFloat> scale = getScale())
    if (!scale->isFinite())
      return emitOpError() << "'scale' must be a finite f32";
  // Score modifiers: softcap c > 0 and finite (0 is not "off": omit it);
  // one finite ALiBi slope per query head.
  if (std::optional<APFloat> softcap = getSoftcap())
    if (!softcap->isFinite() || softcap->convertToFloat() <= 0.0f)
      return emitOpError() << "'softcap' must be a finite f32 > 0, got "
                           << softcap->convertToFloat()
                           << " (omit it for no softcap)";
  if (std::optional<ArrayRef<float>> slopes = getAlibiSlopes()) {
    if (!ShapedType::isDynamic(q[1]) &&
        static_cast<int64_t>(slopes->size()) != q[1])
      return emitOpError() << "'alibi_slopes' must have one slope per query "
                              "head (Hq = "
                           << q[1] << "), got " << slopes->size();
    for (auto [h, slope] : llvm::enumerate(*slopes))
      if (!std::isfinite(slope))
        return emitOpError() << "'alibi_slopes' must be finite, got " << slope
                             << " for query head " << h;
  }

  // Rules of the mask that depend on the key length.
  std::optional<int64_t> lk;
  if (!ShapedType::isDynamic(k[2]))
    lk = k[2];
  return getMask().verifyShape([&] { return emitOpError() << "mask: "; }, lk);
}
