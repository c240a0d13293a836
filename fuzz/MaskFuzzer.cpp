//===- MaskFuzzer.cpp - fuzz target: mask algebra against evaluate --------===//
//
// Any text that parses as a mask attribute: the simplifier and the preset
// expansion must not change which pairs it keeps, and classify() must agree
// with evaluate() (an EMPTY tile keeps nothing, a FULL tile everything), on
// every tile of small grids with Lq != Lk, tails and p < 0. A mismatch
// aborts, so the fuzzer reports the input.
//
//===----------------------------------------------------------------------===//

#include "sattn/Dialect/SAttn/IR/SAttnAttrs.h"
#include "sattn/Dialect/SAttn/IR/SAttnDialect.h"
#include "sattn/Dialect/SAttn/Transforms/MaskRewrites.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

using namespace mlir;
using namespace mlir::sattn;

[[noreturn]] static void mismatch(MaskAttrInterface mask,
                                  MaskAttrInterface other, const char *what,
                                  int64_t lq, int64_t lk) {
  llvm::errs() << "mask " << mask << "\n"
               << what << " " << other << " differs at Lq = " << lq
               << ", Lk = " << lk << "\n";
  abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096)
    return 0; // long layouts only slow the search down
  static MLIRContext *context = [] {
    auto *c = new MLIRContext(MLIRContext::Threading::DISABLED);
    c->loadDialect<SAttnDialect>();
    return c;
  }();
  ScopedDiagnosticHandler quiet(context,
                                [](Diagnostic &) { return success(); });
  std::string text(reinterpret_cast<const char *>(data), size);
  auto mask =
      dyn_cast_or_null<MaskAttrInterface>(parseAttribute(text, context));
  if (!mask)
    return 0;
  MaskAttrInterface simplified = simplifyMask(mask);
  const std::pair<int64_t, int64_t> shapes[] = {{13, 13}, {5, 19}, {19, 7},
                                                {1, 24},  {0, 3},  {4, 0}};
  for (const auto &shape : shapes) {
    const int64_t lq = shape.first, lk = shape.second;
    auto fits = [&](MaskAttrInterface m) {
      return succeeded(m.verifyShape(
          [&] { return emitError(UnknownLoc::get(context)); }, lk));
    };
    if (!fits(mask))
      continue;
    MaskAttrInterface expanded = expandPresets(mask, lk);
    for (int64_t i = 0; i < lq; ++i)
      for (int64_t k = 0; k < lk; ++k) {
        int64_t p = i + lk - lq;
        bool keep = mask.evaluate(p, k, lk);
        if (simplified.evaluate(p, k, lk) != keep)
          mismatch(mask, simplified, "simplified", lq, lk);
        if (expanded && expanded.evaluate(p, k, lk) != keep)
          mismatch(mask, expanded, "expanded", lq, lk);
      }
    // classify() on tiles of 4 x 3 (and the tails) against evaluate().
    for (int64_t r0 = 0; r0 < lq; r0 += 4)
      for (int64_t k0 = 0; k0 < lk; k0 += 3) {
        int64_t r1 = std::min(r0 + 4, lq), k1 = std::min(k0 + 3, lk);
        int64_t p0 = r0 + lk - lq, p1 = r1 + lk - lq, kept = 0;
        for (int64_t p = p0; p < p1; ++p)
          for (int64_t k = k0; k < k1; ++k)
            kept += mask.evaluate(p, k, lk);
        TileClass c = mask.classify(p0, p1, k0, k1, lk);
        if ((c == TileClass::Empty && kept != 0) ||
            (c == TileClass::Full && kept != (p1 - p0) * (k1 - k0)))
          mismatch(mask, mask, "classify() of", lq, lk);
      }
  }
  return 0;
}
