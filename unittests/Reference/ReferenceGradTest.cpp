//===- ReferenceGradTest.cpp - the float64 backward against finite differences
//
// referenceAttentionGrad must be the gradient of sum(O * dO) with O from
// referenceAttention: central differences of that loss, in float64, over
// every element of small Q, K and V, for masks with empty rows, GQA, Lq !=
// Lk, softcap and ALiBi.
//
//===----------------------------------------------------------------------===//

#include "sattn/Reference/Reference.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Parser/Parser.h"
#include "gtest/gtest.h"
#include <cmath>
#include <random>

using namespace mlir;
using namespace mlir::sattn;

namespace {

struct Case {
  const char *attrs; // mask(...) and modifiers, as written in the op
  int64_t batch, hq, hkv, lq, lk, d, dv;
};

/// A spec with the forward and backward ops of `c`, both on f32 types.
std::string specOf(const Case &c) {
  auto t = [](int64_t b, int64_t h, int64_t l, int64_t d) {
    return "tensor<" + std::to_string(b) + "x" + std::to_string(h) + "x" +
           std::to_string(l) + "x" + std::to_string(d) + "xf32>";
  };
  std::string q = t(c.batch, c.hq, c.lq, c.d), k = t(c.batch, c.hkv, c.lk, c.d),
              v = t(c.batch, c.hkv, c.lk, c.dv), o = t(c.batch, c.hq, c.lq, c.dv);
  std::string lse = "tensor<" + std::to_string(c.batch) + "x" +
                    std::to_string(c.hq) + "x" + std::to_string(c.lq) + "xf32>";
  return "func.func @f(%q: " + q + ", %k: " + k + ", %v: " + v + ", %o: " + o +
         ", %l: " + lse + ") {\n  %a = sattn.attention %q, %k, %v " + c.attrs +
         " : (" + q + ", " + k + ", " + v + ") -> " + o +
         "\n  %g:3 = sattn.attention_grad %q, %k, %v, %o, %o, %l " + c.attrs +
         " : (" + q + ", " + k + ", " + v + ", " + o + ", " + o + ", " + lse +
         ") -> (" + q + ", " + k + ", " + v + ")\n  return\n}\n";
}

class ReferenceGradTest : public ::testing::TestWithParam<Case> {};

TEST_P(ReferenceGradTest, MatchesFiniteDifferences) {
  const Case &c = GetParam();
  MLIRContext ctx;
  ctx.loadDialect<SAttnDialect, func::FuncDialect>();
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(specOf(c), ParserConfig(&ctx));
  ASSERT_TRUE(module) << specOf(c);
  AttentionOp fwd;
  AttentionGradOp grad;
  module->walk([&](AttentionOp op) { fwd = op; });
  module->walk([&](AttentionGradOp op) { grad = op; });

  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  auto random = [&](std::vector<int64_t> shape) {
    HostTensor t(ElemKind::F64, shape);
    for (int64_t i = 0; i < t.numElements(); ++i)
      t.set(i, dist(rng));
    return t;
  };
  HostTensor q = random({c.batch, c.hq, c.lq, c.d}),
             k = random({c.batch, c.hkv, c.lk, c.d}),
             v = random({c.batch, c.hkv, c.lk, c.dv}),
             dO = random({c.batch, c.hq, c.lq, c.dv});
  // loss = sum(O * dO)
  auto loss = [&]() {
    HostTensor o, lse;
    referenceAttention(fwd, q, k, v, o, lse);
    double sum = 0;
    for (int64_t i = 0; i < o.numElements(); ++i)
      sum += o.get(i) * dO.get(i);
    return sum;
  };
  HostTensor dQ, dK, dV;
  referenceAttentionGrad(grad, q, k, v, dO, dQ, dK, dV);
  const double h = 1e-6;
  int64_t checked = 0, nonzero = 0;
  for (auto [x, dx, name] : {std::tuple(&q, &dQ, "dQ"), {&k, &dK, "dK"},
                             {&v, &dV, "dV"}})
    for (int64_t i = 0; i < x->numElements(); ++i) {
      double old = x->get(i);
      x->set(i, old + h);
      double up = loss();
      x->set(i, old - h);
      double down = loss();
      x->set(i, old);
      double numeric = (up - down) / (2 * h);
      EXPECT_NEAR(dx->get(i), numeric, 1e-6 * std::max(1.0, std::abs(numeric)))
          << name << "[" << i << "]";
      ++checked;
      nonzero += std::abs(numeric) > 1e-9;
    }
  EXPECT_GT(nonzero, checked / 4); // the case does exercise the gradients
}

INSTANTIATE_TEST_SUITE_P(
    Masks, ReferenceGradTest,
    ::testing::Values(
        // Causal with Lq > Lk: the first rows are empty (no gradient).
        Case{"mask(#sattn.causal)", 1, 2, 2, 6, 4, 3, 2},
        // GQA and a window: dK, dV sum over the query heads of a group.
        Case{"mask(#sattn.window<left = 2, right = 1>)", 2, 4, 2, 5, 7, 4, 3},
        // Softcap (the tanh derivative) and ALiBi (no gradient of its own).
        Case{"mask(#sattn.dense) scale(0.7) softcap(1.5) alibi_slopes([0.3, "
             "0.1])",
             1, 2, 1, 4, 5, 3, 3},
        // A composition with a complement.
        Case{"mask(#sattn.union<[#sattn.sink<tokens = 1>, "
             "#sattn.complement<#sattn.causal>]>)",
             1, 1, 1, 5, 5, 2, 2}));

} // namespace
