//===- CAPIFuzzer.cpp - fuzz target: the C API's tensor checks ------------===//
//
// Fuzzed DLTensor descriptors (rank, sizes, strides, dtype, device, offset)
// and output-shape queries against one compiled kernel. The C API must
// reject every descriptor that does not fit the kernel with a status; the
// data pointer is a real buffer of the kernel's size, so a descriptor it
// accepts is safe to run.
//
//===----------------------------------------------------------------------===//

#include "sattn-c/SAttn.h"

#include <cstdlib>
#include <cstring>
#include <vector>

namespace {
/// Reads fuzz bytes in order; zeros once they run out.
struct Bytes {
  const uint8_t *data;
  size_t size, at = 0;
  uint8_t u8() { return at < size ? data[at++] : 0; }
  int64_t i64() {
    // Mostly small sizes, sometimes extreme ones.
    uint8_t tag = u8();
    if (tag < 200)
      return tag % 20;
    int64_t v = 0;
    for (int i = 0; i < 8; ++i)
      v = (v << 8) | u8();
    return v;
  }
};

constexpr int64_t kShape[4] = {1, 2, 8, 16};
constexpr size_t kElements = 1 * 2 * 8 * 16;
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // One context and kernel for the whole process (reachable to the end, so
  // not a leak).
  static sattn_context ctx = [] {
    sattn_context c = nullptr;
    if (sattn_context_create(&c))
      abort();
    return c;
  }();
  static sattn_kernel kernel = [] {
    sattn_kernel k = nullptr;
    sattn_attention_desc desc = {1,     2, 2,     8,    8,       16, 16, "f32",
                                 0.25f, 0, "cpu", 0.0f, nullptr, 0,  0};
    if (sattn_compile_mask(ctx, "#sattn.causal", &desc, &k))
      abort();
    return k;
  }();
  Bytes in{data, size};
  // Buffers of the kernel's size plus slack for byte_offset.
  std::vector<float> storage[4];
  DLTensor tensors[4];
  std::vector<int64_t> shapes[4], strides[4];
  for (int t = 0; t < 4; ++t) {
    storage[t].assign(kElements + 64, 0.0f);
    int32_t ndim = in.u8() % 6;
    bool asKernel = in.u8() % 2; // half the time start from the right shape
    for (int32_t d = 0; d < ndim; ++d)
      shapes[t].push_back(asKernel && ndim == 4 && in.u8() % 8 ? kShape[d]
                                                               : in.i64());
    bool withStrides = in.u8() % 2;
    for (int32_t d = 0; d < ndim; ++d)
      strides[t].push_back(in.i64());
    DLTensor &x = tensors[t];
    std::memset(&x, 0, sizeof(x));
    x.data = storage[t].data();
    x.device = {in.u8() % 4 == 0 ? kDLCUDA : kDLCPU, 0};
    x.ndim = ndim;
    x.dtype = {uint8_t(in.u8() % 4 == 0 ? kDLBfloat : kDLFloat),
               uint8_t(in.u8() % 3 == 0 ? 16 : 32),
               uint16_t(in.u8() % 8 == 0 ? 2 : 1)};
    x.shape = shapes[t].data();
    x.strides = withStrides ? strides[t].data() : nullptr;
    x.byte_offset = (in.u8() % 16) * 4;
  }
  const DLTensor *inputs[3] = {&tensors[0], &tensors[1], &tensors[2]};
  DLTensor *outputs[1] = {&tensors[3]};
  sattn_kernel_run(kernel, inputs, in.u8() % 4, outputs, in.u8() % 2);
  sattn_kernel_run(kernel, inputs, 3, outputs, 1);

  const int64_t *shapePtrs[3] = {shapes[0].data(), shapes[1].data(),
                                 shapes[2].data()};
  int32_t ranks[3] = {int32_t(shapes[0].size()), int32_t(shapes[1].size()),
                      int32_t(shapes[2].size())};
  int64_t out[4];
  int32_t ndim;
  DLDataType dtype;
  sattn_kernel_output_shape(kernel, in.u8() % 2, shapePtrs, ranks, 3, out,
                            in.u8() % 5, &ndim, &dtype);
  sattn_plan_stats stats;
  sattn_kernel_plan_stats(kernel, in.i64(), in.i64(), &stats);
  return 0;
}
