//===- SAttnInterfaces.td - mask and attention interfaces --*- tablegen -*-===//

#ifndef SATTN_DIALECT_SATTN_IR_SATTNINTERFACES_TD
#define SATTN_DIALECT_SATTN_IR_SATTNINTERFACES_TD

include "mlir/IR/OpBase.td"

def MaskAttrInterface : AttrInterface<"MaskAttrInterface"> {
  let cppNamespace = "::mlir::sattn";
  let description = [{
    A mask pattern: a predicate `mask(p, k)` over query positions `p` (which
    may be negative when Lq > Lk, see docs/Semantics.md) and key positions
    `0 <= k < lk`. Every pattern answers:

    * `evaluate(p, k, lk)`: the exact truth of `mask(p, k)`;
    * `classify(p0, p1, k0, k1, lk)`: whether the rectangle
      `[p0, p1) x [k0, k1)` (non-empty, `0 <= k0 < k1 <= lk`) is EMPTY (no
      pair kept), FULL (every pair kept) or PARTIAL. The answer is exact for
      interval-shaped patterns and conservative (PARTIAL) otherwise, but
      never wrong;
    * `verifyShape(emitError, lk)`: extra rules that depend on the key length
      of the op using the mask (`std::nullopt` when it is dynamic).

    and, for code generation (all values i64, `p`/`k`/`lk` either scalars or
    vectors of one shape):

    * `buildPredicate(b, loc, p, k, lk)`: IR computing `mask(p, k)` (i1 or a
      vector of i1);
    * `buildClassify(b, loc, p0, p1, k0, k1, lk)`: IR computing
      `(isEmpty, isFull)` of a rectangle at run time; never wrong, exact for
      bands, sinks and global tokens, and for block patterns whenever the
      rectangle lies in one block;
    * `buildKeyRange(b, loc, p0, p1, lk)`: IR computing `[kLo, kHi)` with no
      kept key outside it for the query positions `[p0, p1)`;
    * `buildQueryRange(b, loc, k0, k1, p0, p1, lk)`: its transpose (for the
      backward): IR computing `[pLo, pHi)` inside `[p0, p1)` with no query
      position outside it that keeps a key of `[k0, k1)`.

    The structure the compiler plans with:

    * `getBandForm()`: a band of diagonals (`lo <= k - p <= hi`,
      `(k - p) mod step == 0`) answers only this: every method above
      defaults to the band's answer, and the mask rewrites, the iteration
      spaces and the tile planner read the band from it;
    * `getPrimitiveForm()`: a preset answers the primitives it stands for,
      and the code-generation methods default to theirs; `getExpansion(lk)`
      is what `-sattn-expand-presets` replaces it by (bigbird: a layout for
      a static key length);
    * `getOperandMasks()`: the masks a combinator combines, which the
      defaults below walk;
    * `getBlockGrid()`: block sides `(bq, bk)` the pattern is constant on
      (`mask(p, k) = mask(p', k')` whenever `floor(p / bq) = floor(p' / bq)`
      and `floor(k / bk) = floor(k' / bk)`; 0: constant along that side,
      1: no grid), so that tiles can divide them and code generation can
      evaluate the mask once per cell;
    * `declareTables(symbolTable)`: the constant tables `buildPredicate`
      reads (block layouts).
  }];
  let methods = [
    InterfaceMethod<
      "The band of diagonals the pattern is, if it is one.",
      "std::optional<::mlir::sattn::BandForm>", "getBandForm", (ins),
      /*methodBody=*/"",
      /*defaultImplementation=*/[{ return std::nullopt; }]>,
    InterfaceMethod<
      "Returns the exact value of mask(p, k) for key length `lk`.",
      "bool", "evaluate",
      (ins "int64_t":$p, "int64_t":$k, "int64_t":$lk),
      /*methodBody=*/"",
      /*defaultImplementation=*/[{
        if (std::optional<::mlir::sattn::BandForm> band = $_attr.getBandForm())
          return ::mlir::sattn::band::evaluate(*band, p, k);
        if (::mlir::sattn::MaskAttrInterface primitive =
                $_attr.getPrimitiveForm())
          return primitive.evaluate(p, k, lk);
        ::mlir::sattn::reportMissingMaskMethod($_attr, "evaluate");
      }]>,
    InterfaceMethod<
      "Classifies the rectangle [p0, p1) x [k0, k1) for key length `lk`.",
      "::mlir::sattn::TileClass", "classify",
      (ins "int64_t":$p0, "int64_t":$p1, "int64_t":$k0, "int64_t":$k1,
           "int64_t":$lk),
      /*methodBody=*/"",
      /*defaultImplementation=*/[{
        if (std::optional<::mlir::sattn::BandForm> band = $_attr.getBandForm())
          return ::mlir::sattn::band::classify(*band, p0, p1, k0, k1);
        if (::mlir::sattn::MaskAttrInterface primitive =
                $_attr.getPrimitiveForm())
          return primitive.classify(p0, p1, k0, k1, lk);
        ::mlir::sattn::reportMissingMaskMethod($_attr, "classify");
      }]>,
    InterfaceMethod<
      "Checks rules that depend on the key length of the using op.",
      "::llvm::LogicalResult", "verifyShape",
      (ins "::llvm::function_ref<::mlir::InFlightDiagnostic()>":$emitError,
           "std::optional<int64_t>":$lk),
      /*methodBody=*/"",
      /*defaultImplementation=*/[{
        for (::mlir::Attribute m : $_attr.getOperandMasks())
          if (::mlir::failed(::llvm::cast<::mlir::sattn::MaskAttrInterface>(m)
                                 .verifyShape(emitError, lk)))
            return ::mlir::failure();
        return ::mlir::success();
      }]>,
    InterfaceMethod<
      "Builds IR computing mask(p, k) (i1, or a vector of i1).",
      "::mlir::Value", "buildPredicate",
      (ins "::mlir::OpBuilder &":$b, "::mlir::Location":$loc,
           "::mlir::Value":$p, "::mlir::Value":$k, "::mlir::Value":$lk),
      /*methodBody=*/"",
      /*defaultImplementation=*/[{
        if (std::optional<::mlir::sattn::BandForm> band = $_attr.getBandForm())
          return ::mlir::sattn::band::buildPredicate(b, loc, *band, p, k);
        if (::mlir::sattn::MaskAttrInterface primitive =
                $_attr.getPrimitiveForm())
          return primitive.buildPredicate(b, loc, p, k, lk);
        ::mlir::sattn::reportMissingMaskMethod($_attr, "buildPredicate");
      }]>,
    InterfaceMethod<
      "Builds IR computing (isEmpty, isFull) of [p0, p1) x [k0, k1).",
      "std::pair<::mlir::Value, ::mlir::Value>", "buildClassify",
      (ins "::mlir::OpBuilder &":$b, "::mlir::Location":$loc,
           "::mlir::Value":$p0, "::mlir::Value":$p1, "::mlir::Value":$k0,
           "::mlir::Value":$k1, "::mlir::Value":$lk),
      /*methodBody=*/"",
      /*defaultImplementation=*/[{
        if (std::optional<::mlir::sattn::BandForm> band = $_attr.getBandForm())
          return ::mlir::sattn::band::buildClassify(b, loc, *band, p0, p1,
                                                   k0, k1);
        if (::mlir::sattn::MaskAttrInterface primitive =
                $_attr.getPrimitiveForm())
          return primitive.buildClassify(b, loc, p0, p1, k0, k1, lk);
        ::mlir::sattn::reportMissingMaskMethod($_attr, "buildClassify");
      }]>,
    InterfaceMethod<
      "Builds IR computing a key range [kLo, kHi) holding every kept key of "
      "the query positions [p0, p1), clamped to [0, lk).",
      "std::pair<::mlir::Value, ::mlir::Value>", "buildKeyRange",
      (ins "::mlir::OpBuilder &":$b, "::mlir::Location":$loc,
           "::mlir::Value":$p0, "::mlir::Value":$p1, "::mlir::Value":$lk),
      /*methodBody=*/"",
      /*defaultImplementation=*/[{
        if (std::optional<::mlir::sattn::BandForm> band = $_attr.getBandForm())
          return ::mlir::sattn::band::buildKeyRange(b, loc, *band, p0, p1, lk);
        if (::mlir::sattn::MaskAttrInterface primitive =
                $_attr.getPrimitiveForm())
          return primitive.buildKeyRange(b, loc, p0, p1, lk);
        return {::mlir::sattn::buildI64Constant(b, loc, lk.getType(), 0),
                lk};
      }]>,
    InterfaceMethod<
      "Builds IR computing a range [pLo, pHi) within [p0, p1) holding every "
      "query position that keeps a key of [k0, k1).",
      "std::pair<::mlir::Value, ::mlir::Value>", "buildQueryRange",
      (ins "::mlir::OpBuilder &":$b, "::mlir::Location":$loc,
           "::mlir::Value":$k0, "::mlir::Value":$k1, "::mlir::Value":$p0,
           "::mlir::Value":$p1, "::mlir::Value":$lk),
      /*methodBody=*/"",
      /*defaultImplementation=*/[{
        if (std::optional<::mlir::sattn::BandForm> band = $_attr.getBandForm())
          return ::mlir::sattn::band::buildQueryRange(b, loc, *band, k0, k1,
                                                      p0, p1);
        if (::mlir::sattn::MaskAttrInterface primitive =
                $_attr.getPrimitiveForm())
          return primitive.buildQueryRange(b, loc, k0, k1, p0, p1, lk);
        return {p0, p1};
      }]>,
    InterfaceMethod<
      "A preset: the primitives it stands for (null for other patterns).",
      "::mlir::sattn::MaskAttrInterface", "getPrimitiveForm", (ins),
      /*methodBody=*/"",
      /*defaultImplementation=*/[{ return {}; }]>,
    InterfaceMethod<
      "A preset: the primitives it stands for at key length `lk` "
      "(std::nullopt: dynamic), or null where none is exact and practical "
      "(-sattn-expand-presets). By default the primitive form.",
      "::mlir::sattn::MaskAttrInterface", "getExpansion",
      (ins "std::optional<int64_t>":$lk),
      /*methodBody=*/"",
      /*defaultImplementation=*/[{ return $_attr.getPrimitiveForm(); }]>,
    InterfaceMethod<
      "A combinator: the masks it combines (none for other patterns).",
      "::llvm::SmallVector<::mlir::Attribute>", "getOperandMasks", (ins),
      /*methodBody=*/"",
      /*defaultImplementation=*/[{ return {}; }]>,
    InterfaceMethod<
      "Block sides (bq, bk) the pattern is constant on (0: along the whole "
      "side, 1: no grid): the gcd over the operand masks, or the primitive "
      "form's.",
      "std::pair<int64_t, int64_t>", "getBlockGrid", (ins),
      /*methodBody=*/"",
      /*defaultImplementation=*/[{
        return ::mlir::sattn::getOperandsBlockGrid($_attr);
      }]>,
    InterfaceMethod<
      "Declares in `symbolTable` (a builtin.module or gpu.module) the "
      "constant tables buildPredicate() reads; call it before building "
      "predicates. By default: those of the operand masks.",
      "void", "declareTables", (ins "::mlir::Operation *":$symbolTable),
      /*methodBody=*/"",
      /*defaultImplementation=*/[{
        for (::mlir::Attribute m : $_attr.getOperandMasks())
          ::llvm::cast<::mlir::sattn::MaskAttrInterface>(m).declareTables(
              symbolTable);
      }]>,
  ];
}

def AttentionOpInterface : OpInterface<"AttentionOpInterface"> {
  let cppNamespace = "::mlir::sattn";
  let description = [{
    What every attention op (`sattn.attention`, `sattn.paged_attention`,
    `sattn.varlen_attention`) shares: the mask, the scale and the score
    modifiers, the query, the head counts and dims, and the results O and
    LSE. Tools, the runtime and the reference read them through this
    interface whatever the layout of Q, K and V.
  }];
  let methods = [
    InterfaceMethod<"The mask.", "::mlir::sattn::MaskAttrInterface",
      "getMask", (ins), [{ return $_op.getMask(); }]>,
    InterfaceMethod<"The scale in effect (the attribute or 1/sqrt(D)).",
      "float", "getScaleValue", (ins), [{ return $_op.getScaleValue(); }]>,
    InterfaceMethod<"The softcap c, if any.", "std::optional<::llvm::APFloat>",
      "getSoftcap", (ins), [{ return $_op.getSoftcap(); }]>,
    InterfaceMethod<"The ALiBi slopes, one per query head, if any.",
      "std::optional<::llvm::ArrayRef<float>>", "getAlibiSlopes", (ins),
      [{ return $_op.getAlibiSlopes(); }]>,
    InterfaceMethod<"Q.", "::mlir::TypedValue<::mlir::RankedTensorType>",
      "getQuery", (ins), [{ return $_op.getQuery(); }]>,
    InterfaceMethod<"Hq: dim 1 of Q in every layout.", "int64_t",
      "getNumQueryHeads", (ins),
      [{ return $_op.getQuery().getType().getDimSize(1); }]>,
    InterfaceMethod<"D: the last dim of Q (static).", "int64_t", "getHeadDim",
      (ins), [{ return $_op.getQuery().getType().getShape().back(); }]>,
    InterfaceMethod<"Dv: the last dim of V, operand 2 (static).", "int64_t",
      "getValueHeadDim", (ins), [{
        return ::llvm::cast<::mlir::RankedTensorType>(
            $_op->getOperand(2).getType()).getShape().back();
      }]>,
    InterfaceMethod<"O.", "::mlir::TypedValue<::mlir::RankedTensorType>",
      "getOutput", (ins), [{ return $_op.getOutput(); }]>,
    InterfaceMethod<"LSE, or null.", "::mlir::Value", "getLse", (ins),
      [{ return $_op.getLse(); }]>,
  ];
}

#endif // SATTN_DIALECT_SATTN_IR_SATTNINTERFACES_TD
