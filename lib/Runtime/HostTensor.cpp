//===- HostTensor.cpp - row-major host tensors and .npy files -------------===//

#include "sattn/Runtime/HostTensor.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"
#include <algorithm>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

using namespace mlir::sattn;
using llvm::StringRef;

llvm::StringRef mlir::sattn::elemKindName(ElemKind kind) {
  switch (kind) {
  case ElemKind::F32:
    return "f32";
  case ElemKind::F16:
    return "f16";
  case ElemKind::BF16:
    return "bf16";
  case ElemKind::F64:
    return "f64";
  case ElemKind::I32:
    return "i32";
  }
  return "?";
}

size_t mlir::sattn::elemKindSize(ElemKind kind) {
  switch (kind) {
  case ElemKind::F16:
  case ElemKind::BF16:
    return 2;
  case ElemKind::F32:
  case ElemKind::I32:
    return 4;
  case ElemKind::F64:
    return 8;
  }
  return 0;
}

std::string mlir::sattn::shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << '[';
  llvm::interleaveComma(shape, os);
  os << ']';
  return s;
}

HostTensor::HostTensor(ElemKind kind, std::vector<int64_t> shape)
    : elemKind(kind), dims(std::move(shape)) {
  // Large tensors (KV caches) 2 MiB aligned and marked for huge pages, so
  // that kernels miss the TLB once per 2 MiB instead of once per 4 KiB
  // (paged f16 decode with shuffled pages, Hkv = 8, Lk = 32768, Zen 4, 1
  // thread: 9.7 -> 9.0 ms; contiguous 8.3 -> 7.6).
  constexpr size_t hugePage = size_t(2) << 20;
  size_t bytes = std::max<size_t>(numBytes(), 1);
  size_t align = bytes >= hugePage ? hugePage : 64;
  bytes = llvm::alignTo(bytes, align);
  void *p = std::aligned_alloc(align, bytes);
  if (!p)
    llvm::report_bad_alloc_error("HostTensor: out of memory");
#ifdef MADV_HUGEPAGE
  if (align == hugePage)
    madvise(p, bytes, MADV_HUGEPAGE); // advice only: no error if refused
#endif
  std::memset(p, 0, bytes);
  storage.reset(static_cast<uint8_t *>(p));
}

llvm::Expected<HostTensor> HostTensor::allocate(ElemKind kind,
                                                llvm::ArrayRef<int64_t> shape) {
  std::optional<uint64_t> bytes = checkedByteSize(kind, shape);
  uint64_t memory = uint64_t(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
  if (!bytes || *bytes > memory)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "a " + elemKindName(kind) + " tensor of shape " + shapeString(shape) +
            " needs " +
            (bytes ? llvm::Twine(*bytes) + " bytes"
                   : llvm::Twine("over 2^63 bytes")) +
            ", more than this machine's " + llvm::Twine(memory) +
            " bytes of memory");
  return HostTensor(kind, std::vector<int64_t>(shape));
}

int64_t HostTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

static float halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1f,
           mant = h & 0x3ff, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000 | (mant << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else { // subnormal: normalize
    int shift = 0;
    while (!(mant & 0x400)) {
      mant <<= 1;
      ++shift;
    }
    bits = sign | ((113 - shift) << 23) | ((mant & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

static uint16_t floatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  int32_t exp = int32_t((x >> 23) & 0xff) - 127 + 15;
  uint32_t mant = x & 0x7fffff;
  if (((x >> 23) & 0xff) == 0xff) // inf / nan
    return sign | 0x7c00 | (mant ? 0x200 : 0);
  if (exp >= 0x1f)
    return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10)
      return sign;
    mant |= 0x800000;
    uint32_t shift = 14 - exp;
    uint32_t half = mant >> shift, rest = mant & ((1u << shift) - 1),
             mid = 1u << (shift - 1);
    if (rest > mid || (rest == mid && (half & 1)))
      ++half;
    return sign | half;
  }
  uint32_t half = sign | (uint32_t(exp) << 10) | (mant >> 13);
  uint32_t rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1)))
    ++half; // may carry into the exponent: still correct rounding
  return half;
}

static float bf16ToFloat(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

static uint16_t floatToBf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffff) > 0x7f800000) // nan
    return (x >> 16) | 0x40;
  x += 0x7fff + ((x >> 16) & 1); // round to nearest even
  return x >> 16;
}

double HostTensor::get(int64_t i) const {
  const uint8_t *p =
      static_cast<const uint8_t *>(data()) + i * elemKindSize(elemKind);
  switch (elemKind) {
  case ElemKind::F32: {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  case ElemKind::F64: {
    double d;
    std::memcpy(&d, p, 8);
    return d;
  }
  case ElemKind::I32: {
    int32_t x;
    std::memcpy(&x, p, 4);
    return x;
  }
  case ElemKind::F16:
  case ElemKind::BF16: {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return elemKind == ElemKind::F16 ? halfToFloat(h) : bf16ToFloat(h);
  }
  }
  return 0;
}

void HostTensor::set(int64_t i, double value) {
  uint8_t *p = static_cast<uint8_t *>(data()) + i * elemKindSize(elemKind);
  switch (elemKind) {
  case ElemKind::F32: {
    float f = static_cast<float>(value);
    std::memcpy(p, &f, 4);
    return;
  }
  case ElemKind::F64:
    std::memcpy(p, &value, 8);
    return;
  case ElemKind::I32: {
    int32_t x = static_cast<int32_t>(value);
    std::memcpy(p, &x, 4);
    return;
  }
  case ElemKind::F16:
  case ElemKind::BF16: {
    float f = static_cast<float>(value);
    uint16_t h = elemKind == ElemKind::F16 ? floatToHalf(f) : floatToBf16(f);
    std::memcpy(p, &h, 2);
    return;
  }
  }
}

static llvm::Error npyError(StringRef path, const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 path + ": " + msg);
}

/// The value of `'key': value` in a .npy header dictionary.
static StringRef headerField(StringRef header, StringRef key) {
  size_t at = header.find(("'" + key + "'").str());
  if (at == StringRef::npos)
    return {};
  StringRef rest = header.drop_front(at + key.size() + 2).ltrim(" :");
  if (rest.starts_with("(")) {
    size_t close = rest.find(')');
    return close == StringRef::npos ? StringRef() : rest.take_front(close + 1);
  }
  if (rest.starts_with("'")) {
    size_t close = rest.find('\'', 1);
    return close == StringRef::npos ? StringRef() : rest.take_front(close + 1);
  }
  return rest.take_until([](char c) { return c == ',' || c == '}'; }).trim();
}

std::optional<uint64_t>
mlir::sattn::checkedByteSize(ElemKind kind, llvm::ArrayRef<int64_t> shape) {
  int64_t bytes = elemKindSize(kind);
  for (int64_t d : shape)
    if (d < 0 || llvm::MulOverflow(bytes, d, bytes))
      return std::nullopt;
  return bytes;
}

llvm::Expected<HostTensor> mlir::sattn::readNpy(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return npyError(path, "cannot read: " + buffer.getError().message());
  return parseNpy((*buffer)->getBuffer(), path);
}

llvm::Expected<HostTensor> mlir::sattn::parseNpy(StringRef bytes,
                                                 StringRef path) {
  if (bytes.size() < 10 || !bytes.starts_with("\x93NUMPY"))
    return npyError(path, "not a .npy file");
  uint8_t major = bytes[6];
  size_t headerLen, headerStart;
  if (major == 1) {
    headerLen = uint8_t(bytes[8]) | (uint8_t(bytes[9]) << 8);
    headerStart = 10;
  } else {
    if (bytes.size() < 12)
      return npyError(path, "truncated header");
    headerLen = uint8_t(bytes[8]) | (uint8_t(bytes[9]) << 8) |
                (uint8_t(bytes[10]) << 16) | (size_t(uint8_t(bytes[11])) << 24);
    headerStart = 12;
  }
  if (bytes.size() < headerStart + headerLen)
    return npyError(path, "truncated header");
  StringRef header = bytes.substr(headerStart, headerLen);

  StringRef descr = headerField(header, "descr").trim("'");
  ElemKind kind;
  if (descr == "<f4")
    kind = ElemKind::F32;
  else if (descr == "<f2")
    kind = ElemKind::F16;
  else if (descr == "<f8")
    kind = ElemKind::F64;
  else if (descr == "<V2" || descr == "|V2" || descr == "bfloat16")
    kind = ElemKind::BF16;
  else if (descr == "<i4")
    kind = ElemKind::I32;
  else
    return npyError(path,
                    "unsupported dtype '" + descr +
                        "' (want little-endian f32, f16, f64, bf16 or i32)");
  if (headerField(header, "fortran_order") != "False")
    return npyError(path, "Fortran-order arrays are not supported (save a "
                          "C-contiguous array)");
  StringRef shapeText = headerField(header, "shape");
  if (!shapeText.consume_front("(") || !shapeText.consume_back(")"))
    return npyError(path, "malformed shape in header");
  std::vector<int64_t> shape;
  llvm::SmallVector<StringRef> parts;
  shapeText.split(parts, ',', -1, /*KeepEmpty=*/false);
  for (StringRef part : parts) {
    int64_t d;
    if (part.trim().getAsInteger(10, d) || d < 0)
      return npyError(path, "malformed shape in header");
    shape.push_back(d);
  }
  // Compare the header's size with the file's before allocating anything.
  size_t dataBytes = bytes.size() - (headerStart + headerLen);
  std::optional<uint64_t> want = checkedByteSize(kind, shape);
  if (!want)
    return npyError(path, "shape " + shapeString(shape) + " of " +
                              elemKindName(kind) +
                              " is too large (its byte size overflows)");
  if (*want != dataBytes)
    return npyError(path, "holds " + llvm::Twine(dataBytes) +
                              " data bytes, shape " + shapeString(shape) +
                              " of " + elemKindName(kind) + " needs " +
                              llvm::Twine(*want));
  HostTensor tensor(kind, shape);
  size_t dataStart = headerStart + headerLen;
  std::memcpy(tensor.data(), bytes.data() + dataStart, tensor.numBytes());
  return tensor;
}

llvm::Error mlir::sattn::writeNpy(StringRef path, const HostTensor &tensor) {
  const char *descr = "<f4";
  switch (tensor.kind()) {
  case ElemKind::F32:
    break;
  case ElemKind::F16:
    descr = "<f2";
    break;
  case ElemKind::F64:
    descr = "<f8";
    break;
  case ElemKind::BF16:
    descr = "<V2";
    break;
  case ElemKind::I32:
    descr = "<i4";
    break;
  }
  std::string header = "{'descr': '" + std::string(descr) +
                       "', 'fortran_order': False, 'shape': (";
  for (int64_t d : tensor.shape())
    header += std::to_string(d) + ", ";
  if (tensor.shape().size() > 1)
    header.resize(header.size() - 2); // "(a, b)", but "(a,)"
  else if (tensor.shape().size() == 1)
    header.pop_back();
  header += "), }";
  while ((10 + header.size() + 1) % 64 != 0)
    header += ' ';
  header += '\n';
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return npyError(path, "cannot write: " + ec.message());
  os << "\x93NUMPY" << char(1) << char(0) << char(header.size() & 0xff)
     << char(header.size() >> 8) << header;
  os.write(static_cast<const char *>(tensor.data()), tensor.numBytes());
  return llvm::Error::success();
}
