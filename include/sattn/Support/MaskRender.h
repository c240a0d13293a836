//===- MaskRender.h - drawing and measuring a mask --------------*- C++ -*-===//

#ifndef SATTN_SUPPORT_MASKRENDER_H
#define SATTN_SUPPORT_MASKRENDER_H

#include "sattn/Dialect/SAttn/IR/SAttnAttrs.h"
#include "llvm/Support/raw_ostream.h"
#include <cstdint>
#include <string>

namespace mlir {
namespace sattn {

/// Number of (query row, key) pairs `mask` keeps for lengths lq x lk, with
/// query row i at position p = i + (lk - lq) (docs/Semantics.md). Uses
/// classify() on tiles and evaluate() only inside PARTIAL ones, or counts
/// the bands of the mask's iteration spaces (splitIterationSpaces) row by
/// row; nullopt when neither works (computeTilePlanStats's work limit).
std::optional<int64_t> countKeptPairs(MaskAttrInterface mask, int64_t lq,
                                      int64_t lk);

/// Draws one line per query row: `   i -> x x . .` (x = kept); false, with
/// nothing drawn, when testing every pair would cost more than
/// kMaxMaskStatsWork.
bool renderMaskText(MaskAttrInterface mask, int64_t lq, int64_t lk,
                    llvm::raw_ostream &os);

/// Writes an 8-bit grayscale PNG of at most maxSide x maxSide pixels; each
/// pixel's darkness is the fraction of kept pairs it covers (exact where the
/// pixel is EMPTY, FULL or small, else sampled on a grid, so that any lengths
/// and masks cost about 2^26 mask evaluations at most). Returns false and sets `error` if
/// the file cannot be written.
bool writeMaskPNG(MaskAttrInterface mask, int64_t lq, int64_t lk,
                  llvm::StringRef path, int64_t maxSide, std::string &error);

} // namespace sattn
} // namespace mlir

#endif // SATTN_SUPPORT_MASKRENDER_H
