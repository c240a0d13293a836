//===- MaskAttrTest.cpp - MaskAttrInterface against brute force -----------===//
//
// evaluate() is checked against docs/Semantics.md's formulas written out again
// here, and classify() against brute force over many random rectangles.
//
//===----------------------------------------------------------------------===//

#include "MaskTestUtils.h"
#include "mlir/IR/DialectImplementation.h"
#include "sattn/Dialect/SAttn/IR/RandomBlocks.h"
#include "gtest/gtest.h"

using namespace sattn_test;

namespace {

int64_t fdiv(int64_t a, int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}
int64_t fmod(int64_t a, int64_t b) { return a - fdiv(a, b) * b; }

bool inSet(ArrayRef<int64_t> tokens, int64_t x) {
  return llvm::is_contained(tokens, x);
}

/// R(qb) of docs/Semantics.md, spelled out.
bool inR(uint64_t seed, int64_t b, int64_t r, int64_t lk, int64_t qb,
         int64_t kb) {
  if (qb < 0)
    return false;
  auto mix = [](uint64_t z) {
    z = z + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  };
  uint64_t nkb = (lk + b - 1) / b;
  for (int64_t t = 0; t < r; ++t)
    if ((int64_t)(mix(mix(seed) ^ (uint64_t(qb) * uint64_t(r) + uint64_t(t))) %
                  nkb) == kb)
      return true;
  return false;
}

/// docs/Semantics.md's table, one row per attribute.
bool refMask(Attribute a, int64_t p, int64_t k, int64_t lk) {
  if (isa<DenseAttr>(a))
    return true;
  if (isa<CausalAttr>(a))
    return k <= p;
  if (auto w = dyn_cast<WindowAttr>(a))
    return p - w.getLeft() <= k && k <= p + w.getRight();
  if (auto d = dyn_cast<DilatedAttr>(a)) {
    int64_t s = d.getDilation();
    return p - d.getLeft() * s <= k && k <= p + d.getRight() * s &&
           fmod(p - k, s) == 0;
  }
  if (auto s = dyn_cast<StridedAttr>(a))
    return fmod(p - k, s.getStride()) == 0;
  if (auto g = dyn_cast<GlobalAttr>(a))
    return inSet(g.getTokens(), p) || inSet(g.getTokens(), k);
  if (auto s = dyn_cast<SinkAttr>(a))
    return k < s.getTokens();
  if (auto bs = dyn_cast<BlockSparseAttr>(a)) {
    int64_t r = fdiv(p, bs.getBlockQ()), c = k / bs.getBlockK();
    auto shape = bs.getLayout().getType().getShape();
    if (r < 0 || r >= shape[0] || c >= shape[1])
      return false;
    return bs.getLayout().getValues<bool>()[r * shape[1] + c];
  }
  if (auto rnd = dyn_cast<RandomAttr>(a)) {
    int64_t b = rnd.getBlock();
    return inR(rnd.getSeed(), b, rnd.getPerRow(), lk, fdiv(p, b), k / b);
  }
  if (auto u = dyn_cast<UnionAttr>(a))
    return llvm::any_of(u.getMembers(),
                        [&](Attribute m) { return refMask(m, p, k, lk); });
  if (auto i = dyn_cast<IntersectAttr>(a))
    return llvm::all_of(i.getMembers(),
                        [&](Attribute m) { return refMask(m, p, k, lk); });
  if (auto c = dyn_cast<ComplementAttr>(a))
    return !refMask(c.getOperand(), p, k, lk);
  if (auto lf = dyn_cast<LongformerAttr>(a)) {
    int64_t h = lf.getWindow() / 2;
    return (p - h <= k && k <= p + h) || inSet(lf.getTokens(), p) ||
           inSet(lf.getTokens(), k);
  }
  if (auto bb = dyn_cast<BigBirdAttr>(a)) {
    int64_t b = bb.getBlock(), qb = fdiv(p, b), kb = k / b;
    return (qb >= 0 && std::abs(qb - kb) <= (bb.getWindow() - 1) / 2) ||
           (0 <= qb && qb < bb.getGlobal()) || kb < bb.getGlobal() ||
           (bb.getRandom() >= 1 &&
            inR(bb.getSeed(), b, bb.getRandom(), lk, qb, kb));
  }
  if (auto st = dyn_cast<SparseTransformerAttr>(a)) {
    int64_t s = st.getStride();
    return k <= p && ((p - (s - 1) <= k && k <= p) || fmod(p - k, s) == 0);
  }
  if (auto sm = dyn_cast<StreamingAttr>(a))
    return k <= p &&
           (k < sm.getSink() || (p - (sm.getWindow() - 1) <= k && k <= p));
  ADD_FAILURE() << "no reference for " << a;
  return false;
}

/// True for patterns whose classify() must be exact (not just never wrong).
bool classifyIsExact(Attribute a) {
  return isa<DenseAttr, CausalAttr, WindowAttr, DilatedAttr, StridedAttr,
             GlobalAttr, SinkAttr, BlockSparseAttr, RandomAttr, BigBirdAttr>(a);
}

class MaskAttrTest : public ::testing::Test {
protected:
  MaskAttrTest() { ctx.loadDialect<SAttnDialect>(); }
  MLIRContext ctx;
};

TEST_F(MaskAttrTest, RandomBlocksMatchSplitMix64) {
  // splitmix64's first output for state 0.
  EXPECT_EQ(randomMix(0), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(randomBlock(0, 0, 1, 0, 1), 0);
}

TEST_F(MaskAttrTest, EvaluateMatchesSpecFormulas) {
  std::mt19937_64 rng(1);
  for (int iter = 0; iter < 1500; ++iter) {
    auto mask = cast<MaskAttrInterface>(randomMask(&ctx, rng, iter % 3));
    for (Shape s : testShapes())
      for (int64_t i = 0; i < s.lq; ++i)
        for (int64_t k = 0; k < s.lk; ++k) {
          int64_t p = i + (s.lk - s.lq);
          ASSERT_EQ(mask.evaluate(p, k, s.lk), refMask(mask, p, k, s.lk))
              << mask << " at p = " << p << ", k = " << k << ", Lk = " << s.lk;
        }
  }
}

TEST_F(MaskAttrTest, ClassifyAgreesWithBruteForce) {
  std::mt19937_64 rng(2);
  int64_t exactChecked = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    auto mask = cast<MaskAttrInterface>(randomMask(&ctx, rng, iter % 3));
    int64_t lk = uniform(rng, 1, 40);
    for (int rect = 0; rect < 20; ++rect) {
      int64_t p0 = uniform(rng, -12, lk - 1), p1 = uniform(rng, p0 + 1, lk);
      int64_t k0 = uniform(rng, 0, lk - 1), k1 = uniform(rng, k0 + 1, lk);
      bool anyKept = false, anyDropped = false;
      for (int64_t p = p0; p < p1; ++p)
        for (int64_t k = k0; k < k1; ++k)
          (mask.evaluate(p, k, lk) ? anyKept : anyDropped) = true;
      TileClass c = mask.classify(p0, p1, k0, k1, lk);
      std::string where;
      llvm::raw_string_ostream(where)
          << mask << " on [" << p0 << ", " << p1 << ") x [" << k0 << ", " << k1
          << "), Lk = " << lk << ": " << stringifyTileClass(c);
      if (c == TileClass::Full) {
        ASSERT_FALSE(anyDropped) << where;
      }
      if (c == TileClass::Empty) {
        ASSERT_FALSE(anyKept) << where;
      }
      if (classifyIsExact(mask) && c == TileClass::Partial) {
        ASSERT_TRUE(anyKept && anyDropped) << where;
        ++exactChecked;
      }
    }
  }
  EXPECT_GT(exactChecked, 1000);
}

// getBlockGrid() is a promise code generation relies on (the GPU kernel
// evaluates the mask once per cell): every pair in one cell agrees with the
// cell's first position.
TEST_F(MaskAttrTest, BlockGridCellsAreConstant) {
  std::mt19937_64 rng(3);
  int64_t gridded = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    auto mask = cast<MaskAttrInterface>(randomMask(&ctx, rng, iter % 3));
    auto [gq, gk] = mask.getBlockGrid();
    ASSERT_TRUE(gq >= 0 && gk >= 0) << mask;
    gridded += gq != 1 || gk != 1;
    auto cellStart = [](int64_t x, int64_t g, int64_t lo) {
      return g == 0 ? lo : std::max(lo, fdiv(x, g) * g);
    };
    for (Shape s : testShapes())
      for (int64_t p = s.lk - s.lq; p < s.lk; ++p)
        for (int64_t k = 0; k < s.lk; ++k)
          ASSERT_EQ(mask.evaluate(p, k, s.lk),
                    mask.evaluate(cellStart(p, gq, s.lk - s.lq),
                                  cellStart(k, gk, 0), s.lk))
              << mask << " (grid " << gq << " x " << gk << ") at p = " << p
              << ", k = " << k << ", Lk = " << s.lk;
  }
  EXPECT_GT(gridded, 300);
}

TEST_F(MaskAttrTest, PrintParseRoundTrip) {
  std::mt19937_64 rng(3);
  for (int iter = 0; iter < 500; ++iter) {
    Attribute mask = randomMask(&ctx, rng, iter % 4);
    std::string text;
    llvm::raw_string_ostream(text) << mask;
    Attribute parsed = parseAttribute(text, &ctx);
    ASSERT_TRUE(parsed) << text;
    EXPECT_EQ(parsed, mask) << text;
  }
}

TEST_F(MaskAttrTest, GlobalTokensAreASet) {
  auto a = GlobalAttr::get(&ctx, {5, 0, 3});
  auto b = GlobalAttr::get(&ctx, {0, 3, 5});
  EXPECT_EQ(a, b);
  EXPECT_EQ(parseAttribute("#sattn.global<tokens = [3, 5, 0]>", &ctx), a);
}

TEST_F(MaskAttrTest, SeedAcceptsSignedAndUnsigned64Bit) {
  auto neg =
      parseAttribute("#sattn.random<block = 4, per_row = 2, seed = -1>", &ctx);
  auto big = parseAttribute(
      "#sattn.random<block = 4, per_row = 2, seed = 18446744073709551615>",
      &ctx);
  ASSERT_TRUE(neg && big);
  EXPECT_EQ(neg, big);
  EXPECT_EQ(cast<RandomAttr>(neg).getSeed(), ~uint64_t(0));
}

} // namespace
