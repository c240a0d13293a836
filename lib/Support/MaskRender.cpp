//===- MaskRender.cpp - drawing and measuring a mask ----------------------===//

#include "sattn/Support/MaskRender.h"
#include "sattn/Dialect/SAttn/Transforms/MaskRewrites.h"

#include "llvm/Support/CRC.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"
#include <algorithm>
#include <cmath>
#include <vector>

using namespace mlir;
using namespace mlir::sattn;

/// Kept pairs in rows [r0, r1) x keys [k0, k1); rows are query rows.
static int64_t countRect(MaskAttrInterface mask, int64_t offset, int64_t r0,
                         int64_t r1, int64_t k0, int64_t k1, int64_t lk) {
  switch (mask.classify(r0 + offset, r1 + offset, k0, k1, lk)) {
  case TileClass::Empty:
    return 0;
  case TileClass::Full:
    return (r1 - r0) * (k1 - k0);
  case TileClass::Partial:
    break;
  }
  int64_t kept = 0;
  for (int64_t r = r0; r < r1; ++r)
    for (int64_t k = k0; k < k1; ++k)
      kept += mask.evaluate(r + offset, k, lk);
  return kept;
}

/// The pairs of the band lo <= k - p <= hi, (k - p) mod step == 0, one
/// query row at a time.
static int64_t countBandPairs(BandForm band, int64_t lq, int64_t lk) {
  int64_t kept = 0;
  for (int64_t p = lk - lq; p < lk; ++p) {
    // The first and last kept keys of row p: p + j step for j in [jLo, jHi].
    int64_t jLo =
        llvm::divideCeilSigned(std::max<int64_t>(band.lo, -p), band.step);
    int64_t jHi = llvm::divideFloorSigned(
        std::min<int64_t>(band.hi, lk - 1 - p), band.step);
    kept += std::max<int64_t>(0, jHi - jLo + 1);
  }
  return kept;
}

std::optional<int64_t> mlir::sattn::countKeptPairs(MaskAttrInterface mask,
                                                   int64_t lq, int64_t lk) {
  if (auto stats = computeTilePlanStats(mask, lq, lk, 64, 64))
    return stats->keptPairs;
  // Strided and dilated masks are PARTIAL in every tile; their iteration
  // spaces are bands: k' - p' in [lo, hi] with p' = floor(p / s) + shift
  // and p = k (mod s) is s (lo + shift) <= k - p <= s (hi + shift).
  std::optional<SmallVector<IterationSpace>> spaces =
      splitIterationSpaces(mask);
  int64_t pairs;
  if (!spaces || llvm::MulOverflow(lq, lk, pairs) ||
      lq > kMaxMaskStatsWork / int64_t(spaces->size()))
    return std::nullopt;
  int64_t kept = 0;
  for (const IterationSpace &space : *spaces) {
    BandForm residue = space.mask.getBandForm().value_or(
        BandForm{-kNoBandEdge, kNoBandEdge, 1}); // dense
    auto scaled = [&](int64_t edge) {
      return std::abs(edge) >= kNoBandEdge
                 ? edge
                 : (edge + space.shift) * space.stride;
    };
    kept += countBandPairs(
        {scaled(residue.lo), scaled(residue.hi), space.stride}, lq, lk);
  }
  return kept;
}

bool mlir::sattn::renderMaskText(MaskAttrInterface mask, int64_t lq, int64_t lk,
                                 llvm::raw_ostream &os) {
  int64_t work;
  if (llvm::MulOverflow(lq, lk, work) ||
      llvm::MulOverflow(work, maskEvaluateCost(mask, lk), work) ||
      work > kMaxMaskStatsWork)
    return false;
  int64_t offset = lk - lq;
  for (int64_t i = 0; i < lq; ++i) {
    os << llvm::format_decimal(i, 5) << " ->";
    for (int64_t k = 0; k < lk; ++k)
      os << (mask.evaluate(i + offset, k, lk) ? " x" : " .");
    os << '\n';
  }
  return true;
}

//===----------------------------------------------------------------------===//
// A minimal PNG writer: grayscale, zlib stream of stored (uncompressed)
// deflate blocks, so no compression library is needed.
//===----------------------------------------------------------------------===//

static void putBE32(std::vector<uint8_t> &out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<uint8_t>(v >> shift));
}

static void putChunk(std::vector<uint8_t> &png, const char *type,
                     const std::vector<uint8_t> &data) {
  putBE32(png, data.size());
  std::vector<uint8_t> body(type, type + 4);
  body.insert(body.end(), data.begin(), data.end());
  png.insert(png.end(), body.begin(), body.end());
  putBE32(png, llvm::crc32(body));
}

static std::vector<uint8_t> zlibStored(const std::vector<uint8_t> &raw) {
  std::vector<uint8_t> z = {0x78, 0x01};
  size_t pos = 0;
  do {
    size_t len = std::min<size_t>(65535, raw.size() - pos);
    bool last = pos + len == raw.size();
    z.push_back(last ? 1 : 0);
    z.push_back(len & 0xff);
    z.push_back(len >> 8);
    z.push_back(~len & 0xff);
    z.push_back((~len >> 8) & 0xff);
    z.insert(z.end(), raw.begin() + pos, raw.begin() + pos + len);
    pos += len;
  } while (pos < raw.size());
  uint32_t a = 1, b = 0;
  for (uint8_t byte : raw) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  putBE32(z, (b << 16) | a);
  return z;
}

/// Evaluations a PNG may spend on PARTIAL cells in all.
static constexpr int64_t kMaxPngEvaluations = int64_t(1) << 26;

/// Fraction of kept pairs in rows [r0, r1) x keys [k0, k1): exact for EMPTY
/// and FULL cells and for PARTIAL cells of at most side^2 pairs, else
/// estimated on an evenly spaced grid of side x side pairs (always, without
/// classify(), when !classifyCells).
static double keptFraction(MaskAttrInterface mask, int64_t offset, int64_t r0,
                           int64_t r1, int64_t k0, int64_t k1, int64_t lk,
                           int64_t side, bool classifyCells) {
  int64_t rows = r1 - r0, keys = k1 - k0;
  if (classifyCells) {
    if (rows <= side && keys <= side)
      return double(countRect(mask, offset, r0, r1, k0, k1, lk)) /
             (double(rows) * double(keys));
    switch (mask.classify(r0 + offset, r1 + offset, k0, k1, lk)) {
    case TileClass::Empty:
      return 0;
    case TileClass::Full:
      return 1;
    case TileClass::Partial:
      break;
    }
  }
  int64_t ns = std::min(rows, side), nk = std::min(keys, side), kept = 0;
  for (int64_t i = 0; i < ns; ++i)
    for (int64_t j = 0; j < nk; ++j)
      kept += mask.evaluate(r0 + (__int128)i * rows / ns + offset,
                            k0 + (__int128)j * keys / nk, lk);
  return double(kept) / (double(ns) * double(nk));
}

bool mlir::sattn::writeMaskPNG(MaskAttrInterface mask, int64_t lq, int64_t lk,
                               llvm::StringRef path, int64_t maxSide,
                               std::string &error) {
  int64_t height = std::max<int64_t>(1, std::min(lq, maxSide));
  int64_t width = std::max<int64_t>(1, std::min(lk, maxSide));
  int64_t offset = lk - lq;
  // Pairs each PARTIAL cell may evaluate: side^2, so that the whole image
  // stays within kMaxPngEvaluations whatever the lengths and the mask. Masks
  // that are costly to classify skip classify() (classifyCells false).
  double cells = double(height) * double(width);
  int64_t evaluateCost = maskEvaluateCost(mask, lk);
  int64_t side = std::max<int64_t>(
      1, static_cast<int64_t>(std::sqrt(double(kMaxPngEvaluations) /
                                        (cells * double(evaluateCost)))));
  bool classifyCells =
      cells * double(maskClassifyCost(mask, std::max<int64_t>(1, lq / height),
                                      std::max<int64_t>(1, lk / width), lk)) <=
      double(kMaxPngEvaluations);
  // Cell boundaries: row y covers [y * lq / height, (y + 1) * lq / height),
  // in 128-bit arithmetic (lengths may be close to 2^63).
  auto bound = [](int64_t i, int64_t len, int64_t n) {
    return static_cast<int64_t>((__int128)i * len / n);
  };
  std::vector<uint8_t> raw;
  raw.reserve(height * (width + 1));
  for (int64_t y = 0; y < height; ++y) {
    raw.push_back(0); // filter: none
    int64_t r0 = bound(y, lq, height), r1 = bound(y + 1, lq, height);
    for (int64_t x = 0; x < width; ++x) {
      int64_t k0 = bound(x, lk, width), k1 = bound(x + 1, lk, width);
      double frac = 0;
      if (r0 < r1 && k0 < k1)
        frac =
            keptFraction(mask, offset, r0, r1, k0, k1, lk, side, classifyCells);
      raw.push_back(static_cast<uint8_t>(255 - frac * 255 + 0.5));
    }
  }
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> ihdr;
  putBE32(ihdr, width);
  putBE32(ihdr, height);
  ihdr.insert(ihdr.end(), {8, 0, 0, 0, 0}); // 8-bit gray, no interlace
  putChunk(png, "IHDR", ihdr);
  putChunk(png, "IDAT", zlibStored(raw));
  putChunk(png, "IEND", {});

  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec) {
    error = "cannot write '" + path.str() + "': " + ec.message();
    return false;
  }
  os.write(reinterpret_cast<const char *>(png.data()), png.size());
  return true;
}
