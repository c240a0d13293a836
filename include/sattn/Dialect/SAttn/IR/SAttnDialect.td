//===- SAttnDialect.td - sattn dialect definition ----------*- tablegen -*-===//

#ifndef SATTN_DIALECT_SATTN_IR_SATTNDIALECT_TD
#define SATTN_DIALECT_SATTN_IR_SATTNDIALECT_TD

include "mlir/IR/OpBase.td"

def SAttn_Dialect : Dialect {
  let name = "sattn";
  let cppNamespace = "::mlir::sattn";
  let summary = "Sparse attention with declarative, composable mask patterns";
  let description = [{
    The `sattn` dialect describes attention whose sparsity pattern is data the
    compiler can reason about. A pattern is a *mask attribute* (`#sattn.causal`,
    `#sattn.window<left = 128, right = 0>`, ...) implementing
    `MaskAttrInterface`; patterns compose with `#sattn.union`,
    `#sattn.intersect` and `#sattn.complement`, and the usual published
    layouts are presets (`#sattn.longformer`, `#sattn.bigbird`,
    `#sattn.sparse_transformer`, `#sattn.streaming`). The op
    `sattn.attention` computes masked scaled-dot-product attention under such
    a pattern. The exact semantics are fixed in docs/Semantics.md.
  }];
  let useDefaultAttributePrinterParser = 1;
  // Checks the discardable `sattn.*` attributes (`sattn.tile`).
  let hasOperationAttrVerify = 1;
  let extraClassDeclaration = [{
    void registerAttributes();

    /// The largest tile side `sattn.tile` accepts.
    static constexpr int64_t kMaxTileSide = 1024;
  }];
}

#endif // SATTN_DIALECT_SATTN_IR_SATTNDIALECT_TD
