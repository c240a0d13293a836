//===- SAttnAttrs.td - mask pattern attributes -------------*- tablegen -*-===//
//
// One attribute per mask pattern of SPEC.md. The textual syntax is normative:
// keywords and parameter order are exactly those of SPEC.md.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_DIALECT_SATTN_IR_SATTNATTRS_TD
#define SATTN_DIALECT_SATTN_IR_SATTNATTRS_TD

include "mlir/IR/AttrTypeBase.td"
include "sattn/Dialect/SAttn/IR/SAttnDialect.td"
include "sattn/Dialect/SAttn/IR/SAttnInterfaces.td"

// `overridden` names the interface methods with a default implementation that
// the attribute overrides.
class SAttn_MaskAttr<string name, string attrMnemonic,
                     list<string> overridden = []>
    : AttrDef<SAttn_Dialect, name, [
        DeclareAttrInterfaceMethods<MaskAttrInterface, overridden>]> {
  let mnemonic = attrMnemonic;
}

// A 64-bit seed written as any integer in [-2^63, 2^64), kept as its
// two's-complement bit pattern.
def SAttn_SeedParameter : AttrParameter<"uint64_t", "64-bit seed"> {
  let parser = "::mlir::sattn::parseSeed($_parser)";
}

//===----------------------------------------------------------------------===//
// Primitive patterns
//===----------------------------------------------------------------------===//

def SAttn_DenseAttr : SAttn_MaskAttr<"Dense", "dense"> {
  let summary = "Keeps every pair: mask(p, k) = true";
}

def SAttn_CausalAttr : SAttn_MaskAttr<"Causal", "causal", ["buildKeyRange"]> {
  let summary = "Keeps k <= p";
}

def SAttn_WindowAttr : SAttn_MaskAttr<"Window", "window", ["buildKeyRange"]> {
  let summary = "Keeps p - left <= k <= p + right";
  let parameters = (ins "int64_t":$left, "int64_t":$right);
  let assemblyFormat = "`<` `left` `=` $left `,` `right` `=` $right `>`";
  let genVerifyDecl = 1;
}

def SAttn_DilatedAttr : SAttn_MaskAttr<"Dilated", "dilated", ["buildKeyRange"]> {
  let summary = "Keeps p - left*d <= k <= p + right*d with (p - k) mod d == 0";
  let parameters = (ins "int64_t":$left, "int64_t":$right, "int64_t":$dilation);
  let assemblyFormat = [{
    `<` `left` `=` $left `,` `right` `=` $right `,` `dilation` `=` $dilation `>`
  }];
  let genVerifyDecl = 1;
}

def SAttn_StridedAttr : SAttn_MaskAttr<"Strided", "strided"> {
  let summary = "Keeps (p - k) mod stride == 0";
  let parameters = (ins "int64_t":$stride);
  let assemblyFormat = "`<` `stride` `=` $stride `>`";
  let genVerifyDecl = 1;
}

def SAttn_GlobalAttr : SAttn_MaskAttr<"Global", "global"> {
  let summary = "Keeps p in T or k in T for the token set T";
  let description = [{
    Syntax: `#sattn.global<tokens = [t0, t1, ...]>`. The tokens are a set:
    the parser sorts them, so `[3, 0]` and `[0, 3]` are the same attribute.
  }];
  let parameters = (ins ArrayRefParameter<"int64_t", "sorted token set">:$tokens);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let builders = [
    AttrBuilder<(ins "::llvm::ArrayRef<int64_t>":$tokens), [{
      ::llvm::SmallVector<int64_t> sorted(tokens);
      ::llvm::sort(sorted);
      return $_get($_ctxt, sorted);
    }]>
  ];
  let skipDefaultBuilders = 1;
}

def SAttn_SinkAttr : SAttn_MaskAttr<"Sink", "sink", ["buildKeyRange"]> {
  let summary = "Keeps k < tokens (the first keys, seen by every query)";
  let parameters = (ins "int64_t":$tokens);
  let assemblyFormat = "`<` `tokens` `=` $tokens `>`";
  let genVerifyDecl = 1;
}

def SAttn_BlockSparseAttr : SAttn_MaskAttr<"BlockSparse", "block_sparse", ["verifyShape"]> {
  let summary = "Keeps layout[p / bq][k / bk] for 0 <= p / bq < R";
  let description = [{
    Syntax: `#sattn.block_sparse<block = [bq, bk], layout = L : tensor<RxCxi1>>`
    where `L` is any i1 dense elements attribute of rank 2.
  }];
  let parameters = (ins "int64_t":$blockQ, "int64_t":$blockK,
                        "::mlir::DenseIntElementsAttr":$layout);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    int64_t getNumRows() const;
    int64_t getNumCols() const;
    /// Layout cell (r, c); false outside the layout.
    bool cell(int64_t r, int64_t c) const;
  }];
}

def SAttn_RandomAttr : SAttn_MaskAttr<"Random", "random"> {
  let summary = "Keeps k / block in R(p / block), regenerated from the seed";
  let parameters = (ins "int64_t":$block, "int64_t":$perRow,
                        SAttn_SeedParameter:$seed);
  let assemblyFormat = [{
    `<` `block` `=` $block `,` `per_row` `=` $perRow `,` `seed` `=` $seed `>`
  }];
  let genVerifyDecl = 1;
}

//===----------------------------------------------------------------------===//
// Combinators
//===----------------------------------------------------------------------===//

def SAttn_UnionAttr : SAttn_MaskAttr<"Union", "union", ["verifyShape", "buildKeyRange"]> {
  let summary = "Keeps a pair that any member keeps";
  let parameters = (ins ArrayRefParameter<"::mlir::Attribute", "members">:$members);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

def SAttn_IntersectAttr : SAttn_MaskAttr<"Intersect", "intersect", ["verifyShape", "buildKeyRange"]> {
  let summary = "Keeps a pair that every member keeps";
  let parameters = (ins ArrayRefParameter<"::mlir::Attribute", "members">:$members);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

def SAttn_ComplementAttr : SAttn_MaskAttr<"Complement", "complement", ["verifyShape"]> {
  let summary = "Keeps exactly the pairs its operand drops";
  let parameters = (ins "::mlir::Attribute":$operand);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

//===----------------------------------------------------------------------===//
// Presets
//===----------------------------------------------------------------------===//

def SAttn_LongformerAttr : SAttn_MaskAttr<"Longformer", "longformer", ["buildKeyRange"]> {
  let summary = "union<[window<w/2, w/2>, global<tokens>]>";
  let parameters = (ins "int64_t":$window,
                        ArrayRefParameter<"int64_t", "sorted token set">:$tokens);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let builders = [
    AttrBuilder<(ins "int64_t":$window, "::llvm::ArrayRef<int64_t>":$tokens), [{
      ::llvm::SmallVector<int64_t> sorted(tokens);
      ::llvm::sort(sorted);
      return $_get($_ctxt, window, sorted);
    }]>
  ];
  let skipDefaultBuilders = 1;
}

def SAttn_BigBirdAttr : SAttn_MaskAttr<"BigBird", "bigbird"> {
  let summary = "Block band, global blocks and random blocks (BigBird)";
  let parameters = (ins "int64_t":$block, "int64_t":$window, "int64_t":$global,
                        "int64_t":$random, SAttn_SeedParameter:$seed);
  let assemblyFormat = [{
    `<` `block` `=` $block `,` `window` `=` $window `,` `global` `=` $global `,`
        `random` `=` $random `,` `seed` `=` $seed `>`
  }];
  let genVerifyDecl = 1;
}

def SAttn_SparseTransformerAttr
    : SAttn_MaskAttr<"SparseTransformer", "sparse_transformer",
                     ["buildKeyRange"]> {
  let summary = "intersect<[causal, union<[window<s - 1, 0>, strided<s>]>]>";
  let parameters = (ins "int64_t":$stride);
  let assemblyFormat = "`<` `stride` `=` $stride `>`";
  let genVerifyDecl = 1;
}

def SAttn_StreamingAttr : SAttn_MaskAttr<"Streaming", "streaming", ["buildKeyRange"]> {
  let summary = "intersect<[causal, union<[sink<n>, window<w - 1, 0>]>]>";
  let parameters = (ins "int64_t":$sink, "int64_t":$window);
  let assemblyFormat = "`<` `sink` `=` $sink `,` `window` `=` $window `>`";
  let genVerifyDecl = 1;
}

#endif // SATTN_DIALECT_SATTN_IR_SATTNATTRS_TD
