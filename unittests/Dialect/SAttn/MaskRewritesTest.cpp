//===- MaskRewritesTest.cpp - expansion and simplification are exact ------===//

#include "sattn/Dialect/SAttn/Transforms/MaskRewrites.h"
#include "MaskTestUtils.h"
#include "gtest/gtest.h"

using namespace sattn_test;

namespace {

class MaskRewritesTest : public ::testing::Test {
protected:
  MaskRewritesTest() { ctx.loadDialect<SAttnDialect>(); }

  MaskAttrInterface parse(StringRef text) {
    auto attr = dyn_cast_or_null<MaskAttrInterface>(parseAttribute(text, &ctx));
    EXPECT_TRUE(attr) << text.str();
    return attr;
  }

  /// Asserts that `a` and `b` keep the same pairs on every test shape.
  static void expectSameMask(MaskAttrInterface a, MaskAttrInterface b,
                             ArrayRef<Shape> shapes) {
    for (Shape s : shapes)
      for (int64_t i = 0; i < s.lq; ++i)
        for (int64_t k = 0; k < s.lk; ++k) {
          int64_t p = i + (s.lk - s.lq);
          ASSERT_EQ(a.evaluate(p, k, s.lk), b.evaluate(p, k, s.lk))
              << a << "\n  vs " << b << "\n  at p = " << p << ", k = " << k
              << ", Lk = " << s.lk;
        }
  }

  MLIRContext ctx;
};

TEST_F(MaskRewritesTest, SimplifyPreservesEvaluate) {
  std::mt19937_64 rng(11);
  int64_t changed = 0;
  for (int iter = 0; iter < 4000; ++iter) {
    auto mask = cast<MaskAttrInterface>(randomMask(&ctx, rng, 1 + iter % 3));
    MaskAttrInterface simple = simplifyMask(mask);
    changed += simple != mask;
    expectSameMask(mask, simple, testShapes());
    // A second run finds nothing left to do.
    ASSERT_EQ(simplifyMask(simple), simple) << mask;
  }
  EXPECT_GT(changed, 500);
}

TEST_F(MaskRewritesTest, ExpandPresetsPreservesEvaluate) {
  std::mt19937_64 rng(12);
  for (int iter = 0; iter < 3000; ++iter) {
    auto mask = cast<MaskAttrInterface>(randomMask(&ctx, rng, iter % 3));
    for (Shape s : testShapes()) {
      MaskAttrInterface expanded = expandPresets(mask, s.lk);
      // Static Lk: no preset is left, and random blocks are a layout.
      std::string text;
      llvm::raw_string_ostream(text) << expanded;
      for (StringRef preset :
           {"longformer", "bigbird", "sparse_transformer", "streaming"})
        ASSERT_EQ(text.find(("#sattn." + preset).str()), std::string::npos)
            << text;
      if (s.lk > 0) {
        ASSERT_EQ(text.find("#sattn.random"), std::string::npos) << text;
      }
      expectSameMask(mask, expanded, {s});
      expectSameMask(mask, simplifyMask(expanded), {s});
    }
  }
}

TEST_F(MaskRewritesTest, BigBirdStaysWithDynamicLength) {
  auto bb = parse("#sattn.bigbird<block = 4, window = 3, global = 1, "
                  "random = 2, seed = 7>");
  EXPECT_EQ(expandPresets(bb, std::nullopt), bb);
  auto lf = parse("#sattn.longformer<window = 4, global = [0]>");
  EXPECT_EQ(expandPresets(lf, std::nullopt),
            parse("#sattn.union<[#sattn.window<left = 2, right = 2>, "
                  "#sattn.global<tokens = [0]>]>"));
}

TEST_F(MaskRewritesTest, KnownSimplifications) {
  std::pair<const char *, const char *> cases[] = {
      {"#sattn.intersect<[#sattn.causal, #sattn.window<left = 3, right = 2>]>",
       "#sattn.window<left = 3, right = 0>"},
      {"#sattn.intersect<[#sattn.window<left = 7, right = 5>, "
       "#sattn.strided<stride = 3>]>",
       "#sattn.dilated<left = 2, right = 1, dilation = 3>"},
      {"#sattn.union<[#sattn.window<left = 2, right = 0>, "
       "#sattn.window<left = 0, right = 3>]>",
       "#sattn.window<left = 2, right = 3>"},
      {"#sattn.union<[#sattn.causal, #sattn.window<left = 4, right = 0>]>",
       "#sattn.causal"},
      {"#sattn.union<[#sattn.sink<tokens = 2>, "
       "#sattn.union<[#sattn.sink<tokens "
       "= 5>, #sattn.dense]>]>",
       "#sattn.dense"},
      {"#sattn.complement<#sattn.complement<#sattn.causal>>", "#sattn.causal"},
      {"#sattn.union<[#sattn.causal, #sattn.complement<#sattn.causal>]>",
       "#sattn.dense"},
      {"#sattn.intersect<[#sattn.causal, #sattn.complement<#sattn.causal>]>",
       "#sattn.complement<#sattn.dense>"},
      {"#sattn.strided<stride = 1>", "#sattn.dense"},
      {"#sattn.dilated<left = 2, right = 3, dilation = 1>",
       "#sattn.window<left = 2, right = 3>"},
      {"#sattn.union<[#sattn.global<tokens = [4]>, #sattn.causal, "
       "#sattn.global<tokens = [1, 4]>]>",
       "#sattn.union<[#sattn.global<tokens = [1, 4]>, #sattn.causal]>"},
      {"#sattn.union<[#sattn.causal, #sattn.intersect<[#sattn.causal, "
       "#sattn.sink<tokens = 3>]>]>",
       "#sattn.causal"},
  };
  for (auto [input, expected] : cases)
    EXPECT_EQ(simplifyMask(parse(input)), parse(expected)) << input;
}

} // namespace

namespace {

/// Does iteration space `space` hold the pair (p, k)? p = k (mod s) and its
/// mask at residue positions floor(p / s) + shift, floor(k / s).
bool spaceHolds(const IterationSpace &space, int64_t p, int64_t k, int64_t lk) {
  int64_t s = space.stride;
  auto floorDiv = [](int64_t a, int64_t b) {
    return a / b - (a % b != 0 && a < 0);
  };
  if ((p - k) % s != 0)
    return false;
  int64_t nk = (lk + s - 1) / s;
  return space.mask.evaluate(floorDiv(p, s) + space.shift, floorDiv(k, s), nk);
}

TEST_F(MaskRewritesTest, IterationSpacesPartitionTheMask) {
  // Random unions and intersections of bands (and the presets made of
  // them), simplified: wherever they split, every kept pair lies in exactly
  // one space and no dropped pair in any.
  std::mt19937_64 rng(13);
  int64_t split = 0, multi = 0;
  for (int iter = 0; iter < 6000; ++iter) {
    MaskAttrInterface mask = simplifyMask(expandPresets(
        cast<MaskAttrInterface>(randomMask(&ctx, rng, 1 + iter % 3)),
        std::nullopt));
    std::optional<SmallVector<IterationSpace>> spaces =
        splitIterationSpaces(mask);
    if (!spaces)
      continue;
    ++split;
    multi += spaces->size() > 1;
    for (Shape s : testShapes())
      for (int64_t i = 0; i < s.lq; ++i)
        for (int64_t k = 0; k < s.lk; ++k) {
          int64_t p = i + (s.lk - s.lq), count = 0;
          for (const IterationSpace &space : *spaces)
            count += spaceHolds(space, p, k, s.lk);
          ASSERT_EQ(count, mask.evaluate(p, k, s.lk) ? 1 : 0)
              << mask << " at p = " << p << ", k = " << k << ", Lk = " << s.lk;
        }
  }
  EXPECT_GT(split, 200);
  EXPECT_GT(multi, 20);
}

TEST_F(MaskRewritesTest, IterationSpacesOfThePatterns) {
  auto spacesOf = [&](StringRef text) {
    std::string out;
    llvm::raw_string_ostream os(out);
    if (auto spaces = splitIterationSpaces(
            simplifyMask(expandPresets(parse(text), std::nullopt))))
      for (const IterationSpace &space : *spaces)
        os << "{" << space.stride << ", " << space.shift << ", " << space.mask
           << "}";
    return out;
  };
  EXPECT_EQ(spacesOf("#sattn.strided<stride = 64>"), "{64, 0, #sattn.dense}");
  EXPECT_EQ(spacesOf("#sattn.dilated<left = 3, right = 1, dilation = 4>"),
            "{4, 0, #sattn.window<left = 3, right = 1>}");
  EXPECT_EQ(spacesOf("#sattn.sparse_transformer<stride = 8>"),
            "{1, 0, #sattn.window<left = 7, right = 0>}{8, -1, #sattn.causal}");
  // Bands without a step > 1, and two different steps, are not split.
  EXPECT_EQ(spacesOf("#sattn.window<left = 3, right = 1>"), "");
  EXPECT_EQ(spacesOf("#sattn.union<[#sattn.strided<stride = 3>, "
                     "#sattn.strided<stride = 4>]>"),
            "");
}

} // namespace
