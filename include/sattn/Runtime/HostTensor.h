//===- HostTensor.h - row-major host tensors and .npy files -----*- C++ -*-===//

#ifndef SATTN_RUNTIME_HOSTTENSOR_H
#define SATTN_RUNTIME_HOSTTENSOR_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mlir {
namespace sattn {

enum class ElemKind { F32, F16, BF16, F64, I32 };

llvm::StringRef elemKindName(ElemKind kind);
size_t elemKindSize(ElemKind kind);

/// A non-owning view of a dense, row-major tensor (host memory, or device
/// memory for GPU kernels).
struct TensorView {
  void *data;
  llvm::ArrayRef<int64_t> shape;
  ElemKind kind;
  int64_t numElements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
};

/// A dense, row-major host tensor, 64-byte aligned; from 2 MiB on, 2 MiB
/// aligned and backed by transparent huge pages where the system has them.
class HostTensor {
public:
  HostTensor() = default;
  HostTensor(ElemKind kind, std::vector<int64_t> shape);
  /// A zeroed tensor, or an error when its size overflows or exceeds the
  /// machine's physical memory (sizes from users or files go through here).
  static llvm::Expected<HostTensor> allocate(ElemKind kind,
                                             llvm::ArrayRef<int64_t> shape);

  ElemKind kind() const { return elemKind; }
  llvm::ArrayRef<int64_t> shape() const { return dims; }
  int64_t numElements() const;
  size_t numBytes() const { return numElements() * elemKindSize(elemKind); }
  void *data() { return storage.get(); }
  const void *data() const { return storage.get(); }

  TensorView view() const {
    return {const_cast<void *>(data()), dims, elemKind};
  }

  /// Element i converted to/from double.
  double get(int64_t i) const;
  void set(int64_t i, double value);

private:
  ElemKind elemKind = ElemKind::F32;
  std::vector<int64_t> dims;
  struct Free {
    void operator()(void *p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> storage;
};

/// Reads a .npy file: little-endian f4, f2, f8, i4, or 2-byte void ('V2',
/// how ml_dtypes saves bfloat16) as bf16; C order only.
llvm::Expected<HostTensor> readNpy(llvm::StringRef path);
llvm::Error writeNpy(llvm::StringRef path, const HostTensor &tensor);

std::string shapeString(llvm::ArrayRef<int64_t> shape);

/// The byte size of a tensor of `shape` (non-negative sizes) and `kind`, or
/// nullopt when it does not fit in 63 bits: use it for every size that comes
/// from untrusted data before allocating.
std::optional<uint64_t> checkedByteSize(ElemKind kind,
                                        llvm::ArrayRef<int64_t> shape);

/// Parses the bytes of a .npy file (named `name` in errors). The header's
/// shape is checked against the data size before anything is allocated.
llvm::Expected<HostTensor> parseNpy(llvm::StringRef bytes,
                                    llvm::StringRef name);

} // namespace sattn
} // namespace mlir

#endif // SATTN_RUNTIME_HOSTTENSOR_H
