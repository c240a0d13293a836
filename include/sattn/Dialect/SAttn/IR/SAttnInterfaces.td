//===- SAttnInterfaces.td - mask attribute interface -------*- tablegen -*-===//

#ifndef SATTN_DIALECT_SATTN_IR_SATTNINTERFACES_TD
#define SATTN_DIALECT_SATTN_IR_SATTNINTERFACES_TD

include "mlir/IR/OpBase.td"

def MaskAttrInterface : AttrInterface<"MaskAttrInterface"> {
  let cppNamespace = "::mlir::sattn";
  let description = [{
    A mask pattern: a predicate `mask(p, k)` over query positions `p` (which
    may be negative when Lq > Lk, see SPEC.md) and key positions
    `0 <= k < lk`. Every pattern answers:

    * `evaluate(p, k, lk)`: the exact truth of `mask(p, k)`;
    * `classify(p0, p1, k0, k1, lk)`: whether the rectangle
      `[p0, p1) x [k0, k1)` (non-empty, `0 <= k0 < k1 <= lk`) is EMPTY (no
      pair kept), FULL (every pair kept) or PARTIAL. The answer is exact for
      interval-shaped patterns and conservative (PARTIAL) otherwise, but
      never wrong;
    * `verifyShape(emitError, lk)`: extra rules that depend on the key length
      of the op using the mask (`std::nullopt` when it is dynamic).
  }];
  let methods = [
    InterfaceMethod<
      "Returns the exact value of mask(p, k) for key length `lk`.",
      "bool", "evaluate",
      (ins "int64_t":$p, "int64_t":$k, "int64_t":$lk)>,
    InterfaceMethod<
      "Classifies the rectangle [p0, p1) x [k0, k1) for key length `lk`.",
      "::mlir::sattn::TileClass", "classify",
      (ins "int64_t":$p0, "int64_t":$p1, "int64_t":$k0, "int64_t":$k1,
           "int64_t":$lk)>,
    InterfaceMethod<
      "Checks rules that depend on the key length of the using op.",
      "::llvm::LogicalResult", "verifyShape",
      (ins "::llvm::function_ref<::mlir::InFlightDiagnostic()>":$emitError,
           "std::optional<int64_t>":$lk),
      /*methodBody=*/"",
      /*defaultImplementation=*/[{ return ::mlir::success(); }]>,
  ];
}

#endif // SATTN_DIALECT_SATTN_IR_SATTNINTERFACES_TD
