//===- MaskRender.cpp - drawing and measuring a mask ----------------------===//

#include "sattn/Support/MaskRender.h"

#include "llvm/Support/CRC.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"
#include <algorithm>
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

std::optional<int64_t> mlir::sattn::countKeptPairs(MaskAttrInterface mask,
                                                   int64_t lq, int64_t lk) {
  if (auto stats = computeTilePlanStats(mask, lq, lk, 64, 64))
    return stats->keptPairs;
  return std::nullopt;
}

void mlir::sattn::renderMaskText(MaskAttrInterface mask, int64_t lq, int64_t lk,
                                 llvm::raw_ostream &os) {
  int64_t offset = lk - lq;
  for (int64_t i = 0; i < lq; ++i) {
    os << llvm::format_decimal(i, 5) << " ->";
    for (int64_t k = 0; k < lk; ++k)
      os << (mask.evaluate(i + offset, k, lk) ? " x" : " .");
    os << '\n';
  }
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

bool mlir::sattn::writeMaskPNG(MaskAttrInterface mask, int64_t lq, int64_t lk,
                               llvm::StringRef path, int64_t maxSide,
                               std::string &error) {
  int64_t height = std::max<int64_t>(1, std::min(lq, maxSide));
  int64_t width = std::max<int64_t>(1, std::min(lk, maxSide));
  int64_t offset = lk - lq;
  std::vector<uint8_t> raw;
  raw.reserve(height * (width + 1));
  for (int64_t y = 0; y < height; ++y) {
    raw.push_back(0); // filter: none
    int64_t r0 = y * lq / height, r1 = std::max(r0 + 1, (y + 1) * lq / height);
    for (int64_t x = 0; x < width; ++x) {
      int64_t k0 = x * lk / width, k1 = std::max(k0 + 1, (x + 1) * lk / width);
      double frac = 0;
      if (lq > 0 && lk > 0)
        frac = double(countRect(mask, offset, r0, std::min(r1, lq), k0,
                                std::min(k1, lk), lk)) /
               double((r1 - r0) * (k1 - k0));
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
