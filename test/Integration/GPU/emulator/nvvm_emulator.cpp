//===- nvvm_emulator.cpp - run sattn's GPU kernels on the CPU -------------===//
//
// A test aid for machines without a GPU: the LLVM IR of a kernel, with its
// NVVM intrinsics renamed by emulate.py, links against these functions and
// runs one OS thread per GPU thread (the launch's block size, blocks in
// turn): barriers are pthread barriers; warp shuffles, ldmatrix and mma.sync
// exchange values through per-warp slots between two warp barriers.
// mma.sync m16n8k16 follows the fragment layouts of the PTX ISA (A row-major
// 16x16, B column-major 16x8, C/D 16x8 f32; g = lane / 4, t = lane % 4), and
// so does ldmatrix.x4 (.trans). cp.async copies happen only when a
// cp.async.wait_group completes their group, as late as the PTX ISA allows:
// a kernel that reads a tile before waiting for it reads stale data here.
// The dynamic shared memory is one array, reused by each block in turn. It
// checks what the compiler generates; it is no model of GPU timing.
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <pthread.h>
#include <utility>
#include <vector>

/// The kernels' dynamic shared memory (gpu.dynamic_shared_memory).
extern "C" {
alignas(16) char __dynamic_shmem__0[256 * 1024];
}

namespace {
constexpr int kMaxThreads = 1024, kWarp = 32, kMaxWarps = kMaxThreads / kWarp;

thread_local int tid;
thread_local int cta[3];
int gridDims[3];
pthread_barrier_t blockBarrier;
pthread_barrier_t warpBarrier[kMaxWarps];
float shuffleSlot[kMaxWarps][kWarp];
uint32_t mmaA[kMaxWarps][kWarp][4], mmaB[kMaxWarps][kWarp][2];
const uint16_t *matrixRow[kMaxWarps][kWarp];

/// cp.async: copies issued since the last commit, and committed groups.
struct AsyncCopy {
  void *dst;
  const void *src;
  int bytes; // of 16; the rest becomes zeros
};
thread_local std::vector<AsyncCopy> uncommitted;
thread_local std::deque<std::vector<AsyncCopy>> groups;

void warpSync() { pthread_barrier_wait(&warpBarrier[tid / kWarp]); }

float fromBits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float bf16ToFloat(uint16_t h) { return fromBits(uint32_t(h) << 16); }

float f16ToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h >> 15) << 31, exp = (h >> 10) & 0x1f,
           man = h & 0x3ff;
  if (exp == 0x1f)
    return fromBits(sign | 0x7f800000u | (man << 13));
  if (exp == 0) // zero or subnormal: man * 2^-24
    return (sign ? -1.0f : 1.0f) * std::ldexp(float(man), -24);
  return fromBits(sign | ((exp + 112) << 23) | (man << 13));
}

/// The kernels' parameters, flattened: 29 for sattn.attention (five flat
/// memrefs of 5 words, then Hq, Hkv, Lq, Lk), 41 for sattn.paged_attention
/// (two more memrefs, P and M), 39 for sattn.varlen_attention (two more
/// memrefs), 49 for sattn.attention_grad (nine memrefs, then the four
/// sizes). Every kernel is called with kMaxArgs words, the unused ones 0:
/// in the x86-64 C calling convention extra integer arguments are ignored.
constexpr int kMaxArgs = 49;
/// kernel(a[0], ..., a[kMaxArgs - 1]), each argument an int64_t.
template <size_t... I>
void call(void *kernel, const int64_t *a, std::index_sequence<I...>) {
  using Kernel = void (*)(decltype(I, int64_t())...);
  reinterpret_cast<Kernel>(kernel)(a[I]...);
}

struct Launch {
  void *kernel;
  const int64_t *args; // kMaxArgs words
  int grid[3], thread;
};

/// One GPU thread position, in every block in turn: all threads finish a
/// block before any starts the next (its shared memory is reused).
void *runThread(void *p) {
  auto *l = static_cast<Launch *>(p);
  tid = l->thread;
  const int64_t *a = l->args;
  for (cta[2] = 0; cta[2] < l->grid[2]; ++cta[2])
    for (cta[1] = 0; cta[1] < l->grid[1]; ++cta[1])
      for (cta[0] = 0; cta[0] < l->grid[0]; ++cta[0]) {
        call(l->kernel, a, std::make_index_sequence<kMaxArgs>());
        pthread_barrier_wait(&blockBarrier);
      }
  return nullptr;
}
} // namespace

extern "C" {
int emu_tid_x() { return tid; }
int emu_ctaid_x() { return cta[0]; }
int emu_ctaid_y() { return cta[1]; }
int emu_ctaid_z() { return cta[2]; }
// Blocks run one after another here: every write is visible already.
void emu_membar() {}
int emu_nctaid_x() { return gridDims[0]; }
int emu_nctaid_y() { return gridDims[1]; }
int emu_nctaid_z() { return gridDims[2]; }
void emu_barrier(int) { pthread_barrier_wait(&blockBarrier); }
float emu_ex2(float x) { return std::exp2(x); }
float emu_lg2(float x) { return std::log2(x); }

float emu_shfl_bfly(int, float value, int offset, int) {
  int warp = tid / kWarp, lane = tid % kWarp;
  shuffleSlot[warp][lane] = value;
  warpSync();
  float result = shuffleSlot[warp][(lane ^ offset) & (kWarp - 1)];
  warpSync();
  return result;
}

float emu_shfl_idx(int, float value, int source, int) {
  int warp = tid / kWarp, lane = tid % kWarp;
  shuffleSlot[warp][lane] = value;
  warpSync();
  float result = shuffleSlot[warp][source & (kWarp - 1)];
  warpSync();
  return result;
}

/// D = A B + C of one warp; `d` receives this lane's 4 values.
void emu_mma(float *d, int isBf16, uint32_t a0, uint32_t a1, uint32_t a2,
             uint32_t a3, uint32_t b0, uint32_t b1, float c0, float c1,
             float c2, float c3) {
  int warp = tid / kWarp, lane = tid % kWarp;
  uint32_t *a = mmaA[warp][lane], *b = mmaB[warp][lane];
  a[0] = a0, a[1] = a1, a[2] = a2, a[3] = a3, b[0] = b0, b[1] = b1;
  warpSync();
  auto half = [&](uint32_t word, int high) {
    uint16_t h = high ? uint16_t(word >> 16) : uint16_t(word & 0xffff);
    return isBf16 ? bf16ToFloat(h) : f16ToFloat(h);
  };
  // A[r][k]: lane (r % 8) * 4 + (k % 8) / 2, register (r >= 8) + 2 (k >= 8).
  auto A = [&](int r, int k) {
    return half(mmaA[warp][(r % 8) * 4 + (k % 8) / 2][(r >= 8) + 2 * (k >= 8)],
                k % 2);
  };
  // B[k][n]: lane n * 4 + (k % 8) / 2, register k >= 8.
  auto B = [&](int k, int n) {
    return half(mmaB[warp][n * 4 + (k % 8) / 2][k >= 8], k % 2);
  };
  // D[r][c] of this lane: r = g + 8 (e / 2), c = 2 t + e % 2.
  float c[4] = {c0, c1, c2, c3};
  int g = lane / 4, t = lane % 4;
  for (int e = 0; e < 4; ++e) {
    int r = g + 8 * (e / 2), col = 2 * t + e % 2;
    float acc = c[e];
    for (int k = 0; k < 16; ++k)
      acc += A(r, k) * B(k, col);
    d[e] = acc;
  }
  warpSync();
}

/// ldmatrix.x4 (.trans): matrix i has its 8 rows of 8 b16 at the addresses
/// of lanes 8 i ... 8 i + 7; the lane gets (row g, columns 2 t, 2 t + 1) of
/// each, of the transposed matrix with `trans`.
void emu_ldmatrix(uint32_t *out, const uint16_t *row, int trans) {
  int warp = tid / kWarp, lane = tid % kWarp, g = lane / 4, t = lane % 4;
  matrixRow[warp][lane] = row;
  warpSync();
  for (int i = 0; i < 4; ++i) {
    const uint16_t *const *rows = matrixRow[warp] + 8 * i;
    uint16_t lo = trans ? rows[2 * t][g] : rows[g][2 * t];
    uint16_t hi = trans ? rows[2 * t + 1][g] : rows[g][2 * t + 1];
    out[i] = uint32_t(lo) | uint32_t(hi) << 16;
  }
  warpSync();
}

void emu_cp_async(void *dst, const void *src, int bytes) {
  uncommitted.push_back({dst, src, bytes});
}

void emu_cp_async_commit() {
  groups.push_back(std::move(uncommitted));
  uncommitted.clear();
}

/// Completes all but the `pending` most recent groups.
void emu_cp_async_wait(int pending) {
  while (int(groups.size()) > pending) {
    for (const AsyncCopy &c : groups.front()) {
      std::memcpy(c.dst, c.src, c.bytes);
      std::memset(static_cast<char *>(c.dst) + c.bytes, 0, 16 - c.bytes);
    }
    groups.pop_front();
  }
}

/// Runs `kernel` on grid (gx, gy, gz) with `threads` threads per block.
void emu_launch(void *kernel, int numArgs, const int64_t *args, int gx, int gy,
                int gz, int numThreads) {
  pthread_barrier_init(&blockBarrier, nullptr, numThreads);
  for (auto &w : warpBarrier)
    pthread_barrier_init(&w, nullptr, kWarp);
  gridDims[0] = gx;
  gridDims[1] = gy;
  gridDims[2] = gz;
  std::vector<pthread_t> threads(numThreads);
  std::vector<int64_t> padded(kMaxArgs, 0);
  std::copy(args, args + std::min(numArgs, kMaxArgs), padded.begin());
  std::vector<Launch> launches(numThreads);
  for (int i = 0; i < numThreads; ++i) {
    launches[i] = {kernel, padded.data(), {gx, gy, gz}, i};
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 1 << 20);
    pthread_create(&threads[i], &attr, runThread, &launches[i]);
    pthread_attr_destroy(&attr);
  }
  for (pthread_t &t : threads)
    pthread_join(t, nullptr);
  pthread_barrier_destroy(&blockBarrier);
  for (auto &w : warpBarrier)
    pthread_barrier_destroy(&w);
}
}
