//===- SAttnAttrs.td - mask pattern attributes -------------*- tablegen -*-===//
//
// One attribute per mask pattern of docs/Semantics.md. The textual syntax is
// normative: keywords and parameter order are exactly those of that page.
//
//===----------------------------------------------------------------------===//

#ifndef SATTN_DIALECT_SATTN_IR_SATTNATTRS_TD
#define SATTN_DIALECT_SATTN_IR_SATTNATTRS_TD

include "mlir/IR/AttrTypeBase.td"
include "sattn/Dialect/SAttn/IR/SAttnDialect.td"
include "sattn/Dialect/SAttn/IR/SAttnInterfaces.td"
include "sattn/Dialect/SAttn/IR/SAttnKernelAttrs.td"

// `overridden` names the interface methods beyond evaluate, classify,
// buildPredicate and buildClassify that the attribute implements.
class SAttn_MaskAttr<string name, string attrMnemonic,
                     list<string> overridden = []>
    : AttrDef<SAttn_Dialect, name, [
        DeclareAttrInterfaceMethods<MaskAttrInterface,
            !listconcat(["evaluate", "classify", "buildPredicate",
                         "buildClassify"], overridden)>]> {
  let mnemonic = attrMnemonic;
}

// A band of diagonals: it gives its BandForm (getBandForm) and the interface
// derives everything else from it.
class SAttn_BandMaskAttr<string name, string attrMnemonic>
    : AttrDef<SAttn_Dialect, name, [
        DeclareAttrInterfaceMethods<MaskAttrInterface, ["getBandForm"]>]> {
  let mnemonic = attrMnemonic;
}

// A preset: it gives the primitives it stands for (getPrimitiveForm) and the
// code generation methods default to theirs; evaluate and classify are
// written out on integers, as the host calls them once per pair or tile.
class SAttn_PresetMaskAttr<string name, string attrMnemonic>
    : AttrDef<SAttn_Dialect, name, [
        DeclareAttrInterfaceMethods<MaskAttrInterface,
            ["getPrimitiveForm", "evaluate", "classify"]>]> {
  let mnemonic = attrMnemonic;
}

// An integer parameter written `keyword = value`; `syntax` is what the
// generated docs show for it.
class SAttn_IntParameter<string keyword, string placeholder, string desc>
    : AttrParameter<"int64_t", desc> {
  let syntax = keyword # " = " # placeholder;
}

// A 64-bit seed written as any integer in [-2^63, 2^64), kept as its
// two's-complement bit pattern.
def SAttn_SeedParameter : AttrParameter<"uint64_t", "any integer in [-2^63, 2^64), kept as its 64-bit two's complement"> {
  let parser = "::mlir::sattn::parseSeed($_parser)";
  let syntax = "seed = s";
}

//===----------------------------------------------------------------------===//
// Primitive patterns
//===----------------------------------------------------------------------===//

def SAttn_DenseAttr : SAttn_MaskAttr<"Dense", "dense", ["getBlockGrid"]> {
  let summary = "Keeps every pair: mask(p, k) = true";
  let description = [{
    Example:

    ```mlir
    #sattn.dense
    ```
  }];
}

def SAttn_CausalAttr : SAttn_BandMaskAttr<"Causal", "causal"> {
  let summary = "Keeps k <= p";
  let description = [{
    Example:

    ```mlir
    #sattn.causal
    ```
  }];
}

def SAttn_WindowAttr : SAttn_BandMaskAttr<"Window", "window"> {
  let summary = "Keeps p - left <= k <= p + right";
  let description = [{
    Example:

    ```mlir
    #sattn.window<left = 256, right = 0>
    ```
  }];
  let parameters = (ins SAttn_IntParameter<"left", "L", "keys before p, >= 0">:$left,
                        SAttn_IntParameter<"right", "R", "keys after p, >= 0">:$right);
  let assemblyFormat = "`<` `left` `=` $left `,` `right` `=` $right `>`";
  let genVerifyDecl = 1;
}

def SAttn_DilatedAttr : SAttn_BandMaskAttr<"Dilated", "dilated"> {
  let summary = "Keeps p - left*d <= k <= p + right*d with (p - k) mod d == 0";
  let description = [{
    Example:

    ```mlir
    #sattn.dilated<left = 64, right = 64, dilation = 2>
    ```
  }];
  let parameters = (ins SAttn_IntParameter<"left", "L", "steps before p, >= 0">:$left,
                        SAttn_IntParameter<"right", "R", "steps after p, >= 0">:$right,
                        SAttn_IntParameter<"dilation", "d", "step, >= 1">:$dilation);
  let assemblyFormat = [{
    `<` `left` `=` $left `,` `right` `=` $right `,` `dilation` `=` $dilation `>`
  }];
  let genVerifyDecl = 1;
}

def SAttn_StridedAttr : SAttn_BandMaskAttr<"Strided", "strided"> {
  let summary = "Keeps (p - k) mod stride == 0";
  let description = [{
    Example:

    ```mlir
    #sattn.strided<stride = 128>
    ```
  }];
  let parameters = (ins SAttn_IntParameter<"stride", "s", ">= 1">:$stride);
  let assemblyFormat = "`<` `stride` `=` $stride `>`";
  let genVerifyDecl = 1;
}

def SAttn_GlobalAttr : SAttn_MaskAttr<"Global", "global"> {
  let summary = "Keeps p in T or k in T for the token set T";
  let description = [{
    Syntax: `#sattn.global<tokens = [t0, t1, ...]>`. The tokens are a set:
    the parser sorts them, so `[3, 0]` and `[0, 3]` are the same attribute.

    Example:

    ```mlir
    #sattn.global<tokens = [0, 511]>
    ```
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

def SAttn_SinkAttr : SAttn_MaskAttr<"Sink", "sink", ["getBlockGrid", "buildKeyRange", "buildQueryRange"]> {
  let summary = "Keeps k < tokens (the first keys, seen by every query)";
  let description = [{
    Example:

    ```mlir
    #sattn.sink<tokens = 4>
    ```
  }];
  let parameters = (ins SAttn_IntParameter<"tokens", "n", "number of sink keys, >= 1">:$tokens);
  let assemblyFormat = "`<` `tokens` `=` $tokens `>`";
  let genVerifyDecl = 1;
}

def SAttn_BlockSparseAttr : SAttn_MaskAttr<"BlockSparse", "block_sparse", ["verifyShape", "getBlockGrid", "declareTables"]> {
  let summary = "Keeps layout[p / bq][k / bk] for 0 <= p / bq < R";
  let description = [{
    Syntax: `#sattn.block_sparse<block = [bq, bk], layout = L : tensor<RxCxi1>>`
    where `L` is any i1 dense elements attribute of rank 2.

    Example:

    ```mlir
    #sattn.block_sparse<block = [64, 64], layout = dense<[[true, false], [true, true]]> : tensor<2x2xi1>>
    ```
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
    /// The layout of `rows` x `cols` cells (row-major) of blockQ x blockK.
    static BlockSparseAttr getFromCells(::mlir::MLIRContext *ctx,
                                        int64_t blockQ, int64_t blockK,
                                        int64_t rows, int64_t cols,
                                        ::llvm::ArrayRef<bool> cells);
  }];
}

def SAttn_RandomAttr : SAttn_MaskAttr<"Random", "random", ["getBlockGrid", "getExpansion"]> {
  let summary = "Keeps k / block in R(p / block), regenerated from the seed";
  let description = [{
    For a static key length `-sattn-expand-presets` replaces it by the block
    layout of its cells (R(qb) for the n = ceil(Lk / b) query blocks every
    position p < Lk lies in), where n^2 <= 2^18: kernels then look a cell up
    instead of drawing up to r blocks per test.

    Example:

    ```mlir
    #sattn.random<block = 64, per_row = 3, seed = 42>
    ```
  }];
  let parameters = (ins SAttn_IntParameter<"block", "b", "block side, >= 1">:$block,
                        SAttn_IntParameter<"per_row", "r", "draws per query block, >= 1">:$perRow,
                        SAttn_SeedParameter:$seed);
  let assemblyFormat = [{
    `<` `block` `=` $block `,` `per_row` `=` $perRow `,` `seed` `=` $seed `>`
  }];
  let genVerifyDecl = 1;
}

//===----------------------------------------------------------------------===//
// Combinators
//===----------------------------------------------------------------------===//

def SAttn_UnionAttr : SAttn_MaskAttr<"Union", "union", ["buildKeyRange", "buildQueryRange", "getOperandMasks"]> {
  let summary = "Keeps a pair that any member keeps";
  let description = [{
    Syntax: `#sattn.union<[m1, m2, ...]>`, one member or more, each a
    complete mask attribute.

    Example:

    ```mlir
    #sattn.union<[#sattn.causal, #sattn.sink<tokens = 4>]>
    ```
  }];
  let parameters = (ins ArrayRefParameter<"::mlir::Attribute", "members">:$members);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

def SAttn_IntersectAttr : SAttn_MaskAttr<"Intersect", "intersect", ["buildKeyRange", "buildQueryRange", "getOperandMasks"]> {
  let summary = "Keeps a pair that every member keeps";
  let description = [{
    Syntax: `#sattn.intersect<[m1, m2, ...]>`, one member or more, each
    a complete mask attribute.

    Example:

    ```mlir
    #sattn.intersect<[#sattn.causal, #sattn.window<left = 127, right = 0>]>
    ```
  }];
  let parameters = (ins ArrayRefParameter<"::mlir::Attribute", "members">:$members);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

def SAttn_ComplementAttr : SAttn_MaskAttr<"Complement", "complement", ["getOperandMasks"]> {
  let summary = "Keeps exactly the pairs its operand drops";
  let description = [{
    Syntax: `#sattn.complement<m>` with `m` a complete mask attribute.

    Example:

    ```mlir
    #sattn.complement<#sattn.window<left = 0, right = 0>>
    ```
  }];
  let parameters = (ins "::mlir::Attribute":$operand);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

//===----------------------------------------------------------------------===//
// Presets
//===----------------------------------------------------------------------===//

def SAttn_LongformerAttr : SAttn_PresetMaskAttr<"Longformer", "longformer"> {
  let summary = "union<[window<left = w/2, right = w/2>, global<tokens = [..]>]>";
  let description = [{
    Syntax: `#sattn.longformer<window = w, global = [t0, t1, ...]>` with `w`
    even and at least 2; the tokens are a set, as for `#sattn.global`.

    Example:

    ```mlir
    #sattn.longformer<window = 512, global = [0]>
    ```
  }];
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

def SAttn_BigBirdAttr : SAttn_MaskAttr<"BigBird", "bigbird", ["getBlockGrid", "getExpansion"]> {
  let summary = "Block band, global blocks and random blocks (BigBird)";
  let description = [{
    Example:

    ```mlir
    #sattn.bigbird<block = 64, window = 3, global = 2, random = 3, seed = 0>
    ```
  }];
  let parameters = (ins SAttn_IntParameter<"block", "b", "block side, >= 1">:$block,
                        SAttn_IntParameter<"window", "wb", "band width in blocks, odd, >= 1">:$window,
                        SAttn_IntParameter<"global", "gb", "leading global blocks, >= 0">:$global,
                        SAttn_IntParameter<"random", "rb", "random blocks per query block, >= 0">:$random,
                        SAttn_SeedParameter:$seed);
  let assemblyFormat = [{
    `<` `block` `=` $block `,` `window` `=` $window `,` `global` `=` $global `,`
        `random` `=` $random `,` `seed` `=` $seed `>`
  }];
  let genVerifyDecl = 1;
}

def SAttn_SparseTransformerAttr
    : SAttn_PresetMaskAttr<"SparseTransformer", "sparse_transformer"> {
  let summary = "intersect<[causal, union<[window<left = s - 1, right = 0>, strided<stride = s>]>]>";
  let description = [{
    Example:

    ```mlir
    #sattn.sparse_transformer<stride = 128>
    ```
  }];
  let parameters = (ins SAttn_IntParameter<"stride", "s", ">= 1">:$stride);
  let assemblyFormat = "`<` `stride` `=` $stride `>`";
  let genVerifyDecl = 1;
}

def SAttn_StreamingAttr : SAttn_PresetMaskAttr<"Streaming", "streaming"> {
  let summary = "intersect<[causal, union<[sink<tokens = n>, window<left = w - 1, right = 0>]>]>";
  let description = [{
    Example:

    ```mlir
    #sattn.streaming<sink = 4, window = 1024>
    ```
  }];
  let parameters = (ins SAttn_IntParameter<"sink", "n", "sink keys, >= 1">:$sink,
                        SAttn_IntParameter<"window", "w", "recent keys, self included, >= 1">:$window);
  let assemblyFormat = "`<` `sink` `=` $sink `,` `window` `=` $window `>`";
  let genVerifyDecl = 1;
}

#endif // SATTN_DIALECT_SATTN_IR_SATTNATTRS_TD
