//===- MaskRewrites.cpp - exact rewrites of mask attributes ---------------===//

#include "sattn/Dialect/SAttn/Transforms/MaskRewrites.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include <numeric>

using namespace mlir;
using namespace mlir::sattn;

namespace {
/// Positions are far below this; a band edge at +-kUnbounded is no edge.
constexpr int64_t kUnbounded = kNoBandEdge;

int64_t clampMul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r) || r > kUnbounded)
    return kUnbounded;
  return r;
}

/// The diagonals lo <= k - p <= hi with (k - p) mod step == 0, with
/// lo <= 0 <= hi and finite edges multiples of step. causal, window, dilated,
/// strided and intersections of them are all bands.
struct Band {
  int64_t lo, hi, step;

  static Band make(int64_t lo, int64_t hi, int64_t step) {
    // Round finite edges inwards to multiples of step.
    if (lo > -kUnbounded)
      lo = -((-lo) / step) * step;
    if (hi < kUnbounded)
      hi = (hi / step) * step;
    return {lo, hi, step};
  }
  bool contains(const Band &o) const {
    return lo <= o.lo && o.hi <= hi && o.step % step == 0;
  }
};
} // namespace

static MaskAttrInterface emptyMask(MLIRContext *ctx) {
  return ComplementAttr::get(ctx, DenseAttr::get(ctx));
}
static bool isEmptyMask(Attribute a) {
  auto c = dyn_cast<ComplementAttr>(a);
  return c && isa<DenseAttr>(c.getOperand());
}

static std::optional<Band> intersectBands(Band a, Band b) {
  int64_t g = std::gcd(a.step, b.step);
  int64_t step = clampMul(a.step / g, b.step);
  if (step >= kUnbounded)
    return std::nullopt;
  return Band::make(std::max(a.lo, b.lo), std::min(a.hi, b.hi), step);
}

static std::optional<Band> asBand(Attribute a) {
  if (std::optional<BandForm> form = cast<MaskAttrInterface>(a).getBandForm())
    return Band::make(form->lo, form->hi, form->step);
  // intersect<[causal, strided<s>]>, the one band with no single attribute.
  if (auto i = dyn_cast<IntersectAttr>(a)) {
    std::optional<Band> result = Band{-kUnbounded, kUnbounded, 1};
    for (Attribute m : i.getMembers()) {
      std::optional<Band> b = asBand(m);
      if (!b || !(result = intersectBands(*result, *b)))
        return std::nullopt;
    }
    return result;
  }
  return std::nullopt;
}

/// The attributes whose intersection is `b`, or failure if a band with an
/// infinite edge on one side only has no such form.
static LogicalResult emitBand(MLIRContext *ctx, Band b,
                              SmallVectorImpl<Attribute> &out) {
  bool noLo = b.lo <= -kUnbounded, noHi = b.hi >= kUnbounded;
  if (noLo && noHi) {
    if (b.step == 1)
      out.push_back(DenseAttr::get(ctx));
    else
      out.push_back(StridedAttr::get(ctx, b.step));
    return success();
  }
  if (noLo && b.hi == 0) {
    out.push_back(CausalAttr::get(ctx));
    if (b.step != 1)
      out.push_back(StridedAttr::get(ctx, b.step));
    return success();
  }
  if (noLo || noHi)
    return failure();
  if (b.step == 1)
    out.push_back(WindowAttr::get(ctx, -b.lo, b.hi));
  else
    out.push_back(DilatedAttr::get(ctx, -b.lo / b.step, b.hi / b.step, b.step));
  return success();
}

/// `b` as one attribute (an intersect when it takes two), or null.
static Attribute bandAttr(MLIRContext *ctx, Band b) {
  SmallVector<Attribute> parts;
  if (failed(emitBand(ctx, b, parts)))
    return {};
  if (parts.size() == 1)
    return parts.front();
  return IntersectAttr::get(ctx, parts);
}

/// Appends `m` to `out`, splicing in the members of a nested `CombT`.
template <typename CombT>
static void appendFlattened(Attribute m, SmallVectorImpl<Attribute> &out) {
  if (auto nested = dyn_cast<CombT>(m))
    llvm::append_range(out, nested.getMembers());
  else
    out.push_back(m);
}

static void dedupe(SmallVectorImpl<Attribute> &members) {
  SmallVector<Attribute> unique;
  for (Attribute m : members)
    if (!llvm::is_contained(unique, m))
      unique.push_back(m);
  members.assign(unique);
}

static bool hasComplementPair(ArrayRef<Attribute> members) {
  return llvm::any_of(members, [&](Attribute m) {
    auto c = dyn_cast<ComplementAttr>(m);
    return c && llvm::is_contained(members, c.getOperand());
  });
}

/// Drops members of type `CombT` that contain another member: in a union,
/// `a | (a & b) = a`; in an intersection, `a & (a | b) = a`.
template <typename CombT>
static void absorb(SmallVectorImpl<Attribute> &members) {
  SmallVector<Attribute> kept;
  for (Attribute m : members) {
    auto comb = dyn_cast<CombT>(m);
    bool absorbed =
        comb && llvm::any_of(members, [&](Attribute other) {
          return other != m && llvm::is_contained(comb.getMembers(), other);
        });
    if (!absorbed)
      kept.push_back(m);
  }
  members.assign(kept);
}

/// Replaces all members of type AttrT by `merge` of them, at the first one's
/// place.
template <typename AttrT>
static void mergeAll(SmallVectorImpl<Attribute> &members,
                     llvm::function_ref<AttrT(AttrT, AttrT)> merge) {
  AttrT acc;
  size_t at = 0;
  SmallVector<Attribute> kept;
  for (Attribute m : members) {
    auto a = dyn_cast<AttrT>(m);
    if (!a) {
      kept.push_back(m);
      continue;
    }
    if (!acc)
      at = kept.size();
    acc = acc ? merge(acc, a) : a;
  }
  if (acc)
    kept.insert(kept.begin() + at, acc);
  members.assign(kept);
}

/// Block layouts with the same block sides, one layout: a cell either keeps,
/// over the larger of the two row and column counts (cells past a layout
/// keep nothing). Not when that table would hold more cells than both.
static void mergeLayouts(SmallVectorImpl<Attribute> &members) {
  for (size_t i = 0; i < members.size(); ++i) {
    auto a = dyn_cast<BlockSparseAttr>(members[i]);
    for (size_t j = i + 1; a && j < members.size(); ++j) {
      auto b = dyn_cast<BlockSparseAttr>(members[j]);
      if (!b || a.getBlockQ() != b.getBlockQ() ||
          a.getBlockK() != b.getBlockK())
        continue;
      int64_t rows = std::max(a.getNumRows(), b.getNumRows());
      int64_t cols = std::max(a.getNumCols(), b.getNumCols());
      if (rows * cols >
          a.getNumRows() * a.getNumCols() + b.getNumRows() * b.getNumCols())
        continue;
      SmallVector<bool> cells(rows * cols);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
          cells[r * cols + c] = a.cell(r, c) || b.cell(r, c);
      a = BlockSparseAttr::getFromCells(a.getContext(), a.getBlockQ(),
                                        a.getBlockK(), rows, cols, cells);
      members[i] = a;
      members.erase(members.begin() + j--);
    }
  }
}

static Attribute simplifyUnion(MLIRContext *ctx, ArrayRef<Attribute> in) {
  SmallVector<Attribute> members;
  for (Attribute m : in)
    appendFlattened<UnionAttr>(m, members);
  if (llvm::any_of(members, [](Attribute m) { return isa<DenseAttr>(m); }))
    return DenseAttr::get(ctx);
  llvm::erase_if(members, isEmptyMask);
  dedupe(members);
  if (hasComplementPair(members))
    return DenseAttr::get(ctx);
  absorb<IntersectAttr>(members);

  // Bands: drop one contained in another; merge equal steps into the hull
  // (both contain the diagonal k == p, so the union is the hull).
  bool changed = true;
  while (changed) {
    changed = false;
    for (size_t i = 0; i < members.size() && !changed; ++i) {
      std::optional<Band> a = asBand(members[i]);
      for (size_t j = 0; a && j < members.size() && !changed; ++j) {
        std::optional<Band> b = j == i ? std::nullopt : asBand(members[j]);
        if (!b)
          continue;
        if (a->contains(*b)) {
          members.erase(members.begin() + j);
          changed = true;
        } else if (a->step == b->step && j > i) {
          Band hull = Band::make(std::min(a->lo, b->lo), std::max(a->hi, b->hi),
                                 a->step);
          if (Attribute merged = bandAttr(ctx, hull)) {
            members[i] = merged;
            members.erase(members.begin() + j);
            changed = true;
          }
        }
      }
    }
  }

  // sink<a> | sink<b> = sink<max(a, b)>; global<S> | global<T> = global<S u T>.
  mergeAll<SinkAttr>(members, [&](SinkAttr a, SinkAttr b) {
    return SinkAttr::get(ctx, std::max(a.getTokens(), b.getTokens()));
  });
  mergeAll<GlobalAttr>(members, [&](GlobalAttr a, GlobalAttr b) {
    SmallVector<int64_t> tokens(a.getTokens());
    for (int64_t t : b.getTokens())
      if (!llvm::is_contained(tokens, t))
        tokens.push_back(t);
    return GlobalAttr::get(ctx, tokens);
  });

  mergeLayouts(members);

  if (members.empty())
    return emptyMask(ctx);
  if (members.size() == 1)
    return members.front();
  return UnionAttr::get(ctx, members);
}

static Attribute simplifyIntersect(MLIRContext *ctx, ArrayRef<Attribute> in) {
  SmallVector<Attribute> members;
  for (Attribute m : in)
    appendFlattened<IntersectAttr>(m, members);
  if (llvm::any_of(members, isEmptyMask))
    return emptyMask(ctx);
  llvm::erase_if(members, [](Attribute m) { return isa<DenseAttr>(m); });
  dedupe(members);
  if (hasComplementPair(members))
    return emptyMask(ctx);
  absorb<UnionAttr>(members);

  // All bands intersect into one: max lo, min hi, lcm step.
  std::optional<Band> band;
  size_t at = 0, numBands = 0;
  SmallVector<Attribute> others;
  for (Attribute m : members) {
    std::optional<Band> b = asBand(m);
    if (!b) {
      others.push_back(m);
      continue;
    }
    if (numBands++ == 0)
      at = others.size();
    band = band ? intersectBands(*band, *b) : b;
    if (!band)
      break;
  }
  SmallVector<Attribute> bandParts;
  if (numBands > 1 && band && succeeded(emitBand(ctx, *band, bandParts))) {
    llvm::erase_if(bandParts, [](Attribute m) { return isa<DenseAttr>(m); });
    others.insert(others.begin() + at, bandParts.begin(), bandParts.end());
    members.assign(others);
  }

  // sink<a> & sink<b> = sink<min(a, b)>.
  mergeAll<SinkAttr>(members, [&](SinkAttr a, SinkAttr b) {
    return SinkAttr::get(ctx, std::min(a.getTokens(), b.getTokens()));
  });

  if (members.empty())
    return DenseAttr::get(ctx);
  if (members.size() == 1)
    return members.front();
  return IntersectAttr::get(ctx, members);
}

static Attribute simplifyOnce(Attribute mask) {
  MLIRContext *ctx = mask.getContext();
  auto simplifyAll = [](ArrayRef<Attribute> ms) {
    return llvm::map_to_vector(ms, simplifyOnce);
  };
  if (auto u = dyn_cast<UnionAttr>(mask))
    return simplifyUnion(ctx, simplifyAll(u.getMembers()));
  if (auto i = dyn_cast<IntersectAttr>(mask))
    return simplifyIntersect(ctx, simplifyAll(i.getMembers()));
  if (auto c = dyn_cast<ComplementAttr>(mask)) {
    Attribute operand = simplifyOnce(c.getOperand());
    // complement<complement<a>> = a
    if (auto inner = dyn_cast<ComplementAttr>(operand))
      return inner.getOperand();
    return ComplementAttr::get(ctx, operand);
  }
  // A single band in normal form: strided<1> = dense, dilated<L, R, 1> =
  // window<L, R>.
  if (std::optional<Band> b = asBand(mask))
    if (Attribute normal = bandAttr(ctx, *b))
      return normal;
  return mask;
}

MaskAttrInterface mlir::sattn::simplifyMask(MaskAttrInterface mask) {
  Attribute current = mask;
  // Each round only shrinks the mask; a few rounds reach the fixpoint.
  for (int round = 0; round < 8; ++round) {
    Attribute next = simplifyOnce(current);
    if (next == current)
      break;
    current = next;
  }
  return cast<MaskAttrInterface>(current);
}

//===----------------------------------------------------------------------===//
// Iteration spaces
//===----------------------------------------------------------------------===//

/// `mask` as a union of (possibly overlapping) bands, or std::nullopt.
static std::optional<SmallVector<Band>> unionOfBands(Attribute mask) {
  if (std::optional<Band> b = asBand(mask))
    return SmallVector<Band>{*b};
  SmallVector<Band> result;
  if (auto u = dyn_cast<UnionAttr>(mask)) {
    for (Attribute m : u.getMembers()) {
      std::optional<SmallVector<Band>> bands = unionOfBands(m);
      if (!bands)
        return std::nullopt;
      llvm::append_range(result, *bands);
    }
    return result;
  }
  auto i = dyn_cast<IntersectAttr>(mask);
  if (!i)
    return std::nullopt;
  // (a1 | a2) & (b1 | b2) = (a1 & b1) | (a1 & b2) | (a2 & b1) | (a2 & b2)
  result.push_back(Band{-kUnbounded, kUnbounded, 1});
  for (Attribute m : i.getMembers()) {
    std::optional<SmallVector<Band>> bands = unionOfBands(m);
    if (!bands)
      return std::nullopt;
    SmallVector<Band> product;
    for (Band a : result)
      for (Band b : *bands) {
        std::optional<Band> ab = intersectBands(a, b);
        if (!ab)
          return std::nullopt;
        product.push_back(*ab);
      }
    result = std::move(product);
    if (result.size() > 16)
      return std::nullopt;
  }
  return result;
}

/// The residue space of the diagonals lo <= k - p <= hi (multiples of
/// `step`): lo / step <= k' - p' <= hi / step, shifted so that it holds the
/// diagonal k' == p' + shift: dense, causal, window<L, R> or k' >= p'
/// (window<0, unbounded>).
static IterationSpace residueSpace(MLIRContext *ctx, Band band) {
  auto scaled = [&](int64_t edge) {
    return std::abs(edge) >= kUnbounded ? edge : edge / band.step;
  };
  int64_t lo = scaled(band.lo), hi = scaled(band.hi);
  bool noLo = lo <= -kUnbounded, noHi = hi >= kUnbounded;
  // An edge moves to the diagonal: k' - (p' + shift) in [lo - shift, hi -
  // shift], with lo - shift <= 0 <= hi - shift.
  int64_t shift =
      noLo ? (noHi ? 0 : hi) : (noHi ? lo : std::clamp<int64_t>(0, lo, hi));
  Attribute mask;
  if (noLo && noHi)
    mask = DenseAttr::get(ctx);
  else if (noLo)
    mask = CausalAttr::get(ctx);
  else
    mask = WindowAttr::get(ctx, shift - lo, noHi ? kUnbounded : hi - shift);
  return {band.step, shift, cast<MaskAttrInterface>(mask)};
}

std::optional<SmallVector<IterationSpace>>
mlir::sattn::splitIterationSpaces(MaskAttrInterface mask) {
  std::optional<SmallVector<Band>> bands = unionOfBands(mask);
  if (!bands)
    return std::nullopt;
  // Every band holds the diagonal k == p, so bands of one step unite into
  // their hull: `unit` (step 1) and `spaced` (one step > 1).
  std::optional<Band> unit, spaced;
  auto hull = [](std::optional<Band> a, Band b) {
    return a ? Band{std::min(a->lo, b.lo), std::max(a->hi, b.hi), b.step} : b;
  };
  for (Band b : *bands) {
    if (b.step == 1)
      unit = hull(unit, b);
    else if (!spaced || spaced->step == b.step)
      spaced = hull(spaced, b);
    else
      return std::nullopt;
  }
  if (!spaced)
    return std::nullopt;

  MLIRContext *ctx = mask.getContext();
  SmallVector<IterationSpace> spaces;
  SmallVector<Band> pieces = {*spaced};
  if (unit) {
    // The unit band as it is, then the spaced diagonals outside it.
    auto unitMask = dyn_cast_or_null<MaskAttrInterface>(bandAttr(ctx, *unit));
    if (!unitMask)
      return std::nullopt;
    spaces.push_back({1, 0, unitMask});
    int64_t s = spaced->step;
    pieces.clear();
    // The multiples of s below lo <= 0 and above hi >= 0.
    if (unit->lo > -kUnbounded) {
      int64_t below = -((s - unit->lo) / s) * s;
      if (spaced->lo <= below)
        pieces.push_back({spaced->lo, below, s});
    }
    if (unit->hi < kUnbounded) {
      int64_t above = (unit->hi + s) / s * s;
      if (above <= spaced->hi)
        pieces.push_back({above, spaced->hi, s});
    }
    if (pieces.empty())
      return std::nullopt;
  }
  for (Band piece : pieces)
    spaces.push_back(residueSpace(ctx, piece));
  return spaces;
}

//===----------------------------------------------------------------------===//
// Preset expansion
//===----------------------------------------------------------------------===//

static Attribute expand(Attribute mask, std::optional<int64_t> lk) {
  MLIRContext *ctx = mask.getContext();
  auto expandAll = [&](ArrayRef<Attribute> ms) {
    return llvm::map_to_vector(ms, [&](Attribute m) { return expand(m, lk); });
  };
  if (auto u = dyn_cast<UnionAttr>(mask))
    return UnionAttr::get(ctx, expandAll(u.getMembers()));
  if (auto i = dyn_cast<IntersectAttr>(mask))
    return IntersectAttr::get(ctx, expandAll(i.getMembers()));
  if (auto c = dyn_cast<ComplementAttr>(mask))
    return ComplementAttr::get(ctx, expand(c.getOperand(), lk));
  // A preset without an expansion stays: it answers the mask interface
  // itself, exactly. An expansion may hold masks that expand in turn
  // (bigbird's random blocks).
  if (MaskAttrInterface expansion =
          cast<MaskAttrInterface>(mask).getExpansion(lk))
    return expand(expansion, lk);
  return mask;
}

MaskAttrInterface mlir::sattn::expandPresets(MaskAttrInterface mask,
                                             std::optional<int64_t> lk) {
  return cast<MaskAttrInterface>(expand(mask, lk));
}
