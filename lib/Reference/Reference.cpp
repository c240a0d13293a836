//===- Reference.cpp - float64 attention of docs/Semantics.md -------------===//

#include "sattn/Reference/Reference.h"

#include "llvm/Support/MathExtras.h"
#include <cmath>
#include <limits>
#include <vector>

using namespace mlir::sattn;

namespace {
/// What decides the scores of an op: mask, scale and modifiers.
struct ScoreRules {
  MaskAttrInterface mask;
  double scale;
  double softcap = 0; // 0: none (the verifier requires c > 0)
  std::optional<llvm::ArrayRef<float>> slopes;

  template <typename OpT>
  explicit ScoreRules(OpT op)
      : mask(op.getMask()), scale(op.getScaleValue()),
        slopes(op.getAlibiSlopes()) {
    if (std::optional<llvm::APFloat> c = op.getSoftcap())
      softcap = c->convertToDouble();
  }

  /// The score of query head h at position p for key k, from
  /// t = scale * dot(Q, K).
  double score(double t, int64_t h, int64_t p, int64_t k) const {
    double s = softcap ? softcap * std::tanh(t / softcap) : t; // c tanh(t/c)
    if (slopes) // s = s - m_h * |p - k|
      s -= double((*slopes)[h]) * std::abs(double(p - k));
    return s;
  }

  /// ds/dt: 1 - tanh^2(t / c) under softcap, else 1.
  double scoreGrad(double t) const {
    if (!softcap)
      return 1;
    double th = std::tanh(t / softcap);
    return 1 - th * th;
  }
};
} // namespace

/// O and LSE of docs/Semantics.md's attention under `rules`.
static void forward(const ScoreRules &rules, const HostTensor &q,
                    const HostTensor &k, const HostTensor &v, HostTensor &o,
                    HostTensor &lse) {
  int64_t batch = q.shape()[0], hq = q.shape()[1], lq = q.shape()[2],
          d = q.shape()[3];
  int64_t hkv = k.shape()[1], lk = k.shape()[2], dv = v.shape()[3];
  o = HostTensor(ElemKind::F64, {batch, hq, lq, dv});
  lse = HostTensor(ElemKind::F64, {batch, hq, lq});
  std::vector<double> s(lk);
  std::vector<char> kept(lk);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < hq; ++h) {
      int64_t g = h / (hq / hkv); // g(h) = h / (Hq / Hkv)
      for (int64_t i = 0; i < lq; ++i) {
        int64_t p = i + (lk - lq); // bottom-right aligned query position
        double maxS = -std::numeric_limits<double>::infinity();
        bool any = false;
        for (int64_t kk = 0; kk < lk; ++kk) {
          kept[kk] = rules.mask.evaluate(p, kk, lk);
          if (!kept[kk])
            continue;
          double dot = 0;
          for (int64_t x = 0; x < d; ++x)
            dot += q.get(((b * hq + h) * lq + i) * d + x) *
                   k.get(((b * hkv + g) * lk + kk) * d + x);
          // s_k = score(scale * dot(Q[b,h,i,:], K[b,g,k,:]))
          s[kk] = rules.score(rules.scale * dot, h, p, kk);
          maxS = std::max(maxS, s[kk]);
          any = true;
        }
        int64_t row = (b * hq + h) * lq + i;
        if (!any) { // empty row: O = 0, LSE = -inf
          for (int64_t x = 0; x < dv; ++x)
            o.set(row * dv + x, 0.0);
          lse.set(row, -std::numeric_limits<double>::infinity());
          continue;
        }
        double sum = 0;
        for (int64_t kk = 0; kk < lk; ++kk)
          if (kept[kk])
            sum += std::exp(s[kk] - maxS);
        for (int64_t x = 0; x < dv; ++x)
          o.set(row * dv + x, 0.0);
        for (int64_t kk = 0; kk < lk; ++kk) {
          if (!kept[kk])
            continue;
          double weight = std::exp(s[kk] - maxS) / sum; // softmax(s)_k
          for (int64_t x = 0; x < dv; ++x) // O += softmax(s)_k V[b,g,k,:]
            o.set(row * dv + x,
                  o.get(row * dv + x) +
                      weight * v.get(((b * hkv + g) * lk + kk) * dv + x));
        }
        lse.set(row, maxS + std::log(sum)); // LSE = log(sum_k exp(s_k))
      }
    }
}

void mlir::sattn::referenceAttention(AttentionOpInterface op,
                                     const HostTensor &q, const HostTensor &k,
                                     const HostTensor &v, HostTensor &o,
                                     HostTensor &lse) {
  forward(ScoreRules(op), q, k, v, o, lse);
}

void mlir::sattn::referenceAttention(AttentionGradOp op, const HostTensor &q,
                                     const HostTensor &k, const HostTensor &v,
                                     HostTensor &o, HostTensor &lse) {
  forward(ScoreRules(op), q, k, v, o, lse);
}

int64_t mlir::sattn::referenceCost(MaskAttrInterface mask,
                                   llvm::ArrayRef<int64_t> qShape,
                                   llvm::ArrayRef<int64_t> kShape,
                                   llvm::ArrayRef<int64_t> vShape) {
  const int64_t lk = kShape[2];
  int64_t perPair;
  if (llvm::AddOverflow(qShape[3] + vShape[3], maskEvaluateCost(mask, lk),
                        perPair))
    return std::numeric_limits<int64_t>::max();
  int64_t cost = 1;
  for (int64_t factor : {qShape[0], qShape[1], qShape[2], lk, perPair})
    if (llvm::MulOverflow(cost, factor, cost))
      return std::numeric_limits<int64_t>::max();
  return cost;
}

void mlir::sattn::referencePagedAttention(
    PagedAttentionOp op, const HostTensor &q, const HostTensor &kCache,
    const HostTensor &vCache, const HostTensor &blockTable,
    const HostTensor &seqLens, HostTensor &o, HostTensor &lse) {
  int64_t batch = q.shape()[0], hq = q.shape()[1], lq = q.shape()[2],
          d = q.shape()[3];
  int64_t numPages = kCache.shape()[0], page = kCache.shape()[1],
          hkv = kCache.shape()[2], dv = vCache.shape()[3];
  int64_t maxPages = blockTable.shape()[1];
  o = HostTensor(ElemKind::F64, {batch, hq, lq, dv});
  lse = HostTensor(ElemKind::F64, {batch, hq, lq});
  for (int64_t b = 0; b < batch; ++b) {
    // Sequence b as the op of docs/Semantics.md: Q[b], and K, V gathered
    // through its pages (key k: slot k mod page of page table[b, k / page];
    // a page outside [0, P) holds no kept key and reads as 0).
    int64_t lk = static_cast<int64_t>(seqLens.get(b));
    HostTensor qb(ElemKind::F64, {1, hq, lq, d}),
        kb(ElemKind::F64, {1, hkv, lk, d}), vb(ElemKind::F64, {1, hkv, lk, dv});
    for (int64_t i = 0; i < hq * lq * d; ++i)
      qb.set(i, q.get(b * hq * lq * d + i));
    for (int64_t key = 0; key < lk; ++key) {
      int64_t entry =
          static_cast<int64_t>(blockTable.get(b * maxPages + key / page));
      bool valid = entry >= 0 && entry < numPages;
      int64_t slot = (entry * page + key % page) * hkv;
      for (int64_t g = 0; g < hkv; ++g) {
        for (int64_t x = 0; x < d; ++x)
          kb.set((g * lk + key) * d + x,
                 valid ? kCache.get((slot + g) * d + x) : 0.0);
        for (int64_t x = 0; x < dv; ++x)
          vb.set((g * lk + key) * dv + x,
                 valid ? vCache.get((slot + g) * dv + x) : 0.0);
      }
    }
    HostTensor ob, lseb;
    referenceAttention(op, qb, kb, vb, ob, lseb);
    for (int64_t i = 0; i < hq * lq * dv; ++i)
      o.set(b * hq * lq * dv + i, ob.get(i));
    for (int64_t i = 0; i < hq * lq; ++i)
      lse.set(b * hq * lq + i, lseb.get(i));
  }
}

void mlir::sattn::referenceVarlenAttention(
    VarlenAttentionOp op, const HostTensor &q, const HostTensor &k,
    const HostTensor &v, const HostTensor &cuSeqlensQ,
    const HostTensor &cuSeqlensK, HostTensor &o, HostTensor &lse) {
  int64_t tq = q.shape()[0], hq = q.shape()[1], d = q.shape()[2];
  int64_t hkv = k.shape()[1], dv = v.shape()[2];
  int64_t batch = cuSeqlensQ.shape()[0] - 1;
  o = HostTensor(ElemKind::F64, {tq, hq, dv});
  lse = HostTensor(ElemKind::F64, {hq, tq});
  for (int64_t b = 0; b < batch; ++b) {
    // Sequence b as the op of docs/Semantics.md on its own rows and keys,
    // copied from the token-major [T, H, D] tensors into [1, H, L, D].
    auto at = [](const HostTensor &cu, int64_t i) {
      return static_cast<int64_t>(cu.get(i));
    };
    int64_t q0 = at(cuSeqlensQ, b), lq = at(cuSeqlensQ, b + 1) - q0;
    int64_t k0 = at(cuSeqlensK, b), lk = at(cuSeqlensK, b + 1) - k0;
    auto gather = [](const HostTensor &packed, int64_t first, int64_t len,
                     int64_t heads, int64_t width) {
      HostTensor out(ElemKind::F64, {1, heads, len, width});
      for (int64_t h = 0; h < heads; ++h)
        for (int64_t i = 0; i < len; ++i)
          for (int64_t x = 0; x < width; ++x)
            out.set((h * len + i) * width + x,
                    packed.get(((first + i) * heads + h) * width + x));
      return out;
    };
    HostTensor ob, lseb;
    referenceAttention(op, gather(q, q0, lq, hq, d), gather(k, k0, lk, hkv, d),
                       gather(v, k0, lk, hkv, dv), ob, lseb);
    for (int64_t h = 0; h < hq; ++h)
      for (int64_t i = 0; i < lq; ++i) {
        for (int64_t x = 0; x < dv; ++x)
          o.set(((q0 + i) * hq + h) * dv + x, ob.get((h * lq + i) * dv + x));
        lse.set(h * tq + q0 + i, lseb.get(h * lq + i));
      }
  }
}

void mlir::sattn::referenceAttentionGrad(AttentionGradOp op,
                                         const HostTensor &q,
                                         const HostTensor &k,
                                         const HostTensor &v,
                                         const HostTensor &dO, HostTensor &dQ,
                                         HostTensor &dK, HostTensor &dV) {
  ScoreRules rules(op);
  int64_t batch = q.shape()[0], hq = q.shape()[1], lq = q.shape()[2],
          d = q.shape()[3];
  int64_t hkv = k.shape()[1], lk = k.shape()[2], dv = v.shape()[3];
  dQ = HostTensor(ElemKind::F64, q.shape());
  dK = HostTensor(ElemKind::F64, k.shape());
  dV = HostTensor(ElemKind::F64, v.shape());
  auto add = [](HostTensor &t, int64_t i, double x) { t.set(i, t.get(i) + x); };
  std::vector<double> s(lk), t(lk), p(lk), o(dv);
  std::vector<char> kept(lk);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < hq; ++h) {
      int64_t g = h / (hq / hkv); // g(h) = h / (Hq / Hkv)
      for (int64_t i = 0; i < lq; ++i) {
        int64_t p0 = i + (lk - lq), qRow = (b * hq + h) * lq + i;
        auto kRow = [&](int64_t key) { return (b * hkv + g) * lk + key; };
        // The forward's scores and softmax in float64.
        double maxS = -std::numeric_limits<double>::infinity();
        for (int64_t key = 0; key < lk; ++key) {
          kept[key] = rules.mask.evaluate(p0, key, lk);
          if (!kept[key])
            continue;
          double dot = 0;
          for (int64_t x = 0; x < d; ++x)
            dot += q.get(qRow * d + x) * k.get(kRow(key) * d + x);
          t[key] = rules.scale * dot; // t = scale * dot(Q_i, K_k)
          s[key] = rules.score(t[key], h, p0, key);
          maxS = std::max(maxS, s[key]);
        }
        if (maxS == -std::numeric_limits<double>::infinity())
          continue; // an empty row contributes nothing
        double sum = 0;
        for (int64_t key = 0; key < lk; ++key)
          if (kept[key])
            sum += std::exp(s[key] - maxS);
        std::fill(o.begin(), o.end(), 0.0);
        for (int64_t key = 0; key < lk; ++key) {
          if (!kept[key])
            continue;
          p[key] = std::exp(s[key] - maxS) / sum; // P = softmax(s)
          for (int64_t x = 0; x < dv; ++x)
            o[x] += p[key] * v.get(kRow(key) * dv + x);
        }
        // Delta = dot(dO_i, O_i)
        double delta = 0;
        for (int64_t x = 0; x < dv; ++x)
          delta += dO.get(qRow * dv + x) * o[x];
        for (int64_t key = 0; key < lk; ++key) {
          if (!kept[key])
            continue;
          // dV_k += P dO_i; dP = dot(dO_i, V_k)
          double dP = 0;
          for (int64_t x = 0; x < dv; ++x) {
            add(dV, kRow(key) * dv + x, p[key] * dO.get(qRow * dv + x));
            dP += dO.get(qRow * dv + x) * v.get(kRow(key) * dv + x);
          }
          // dS = P (dP - Delta); dT = dS (1 - tanh^2(t / c)) under softcap
          double dT = p[key] * (dP - delta) * rules.scoreGrad(t[key]);
          // dQ_i += scale dT K_k; dK_k += scale dT Q_i
          for (int64_t x = 0; x < d; ++x) {
            add(dQ, qRow * d + x, rules.scale * dT * k.get(kRow(key) * d + x));
            add(dK, kRow(key) * d + x, rules.scale * dT * q.get(qRow * d + x));
          }
        }
      }
    }
}
