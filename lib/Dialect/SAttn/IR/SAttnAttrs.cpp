//===- SAttnAttrs.cpp - mask pattern attributes ---------------------------===//
//
// Parameters, syntax and the MaskAttrInterface answers of every pattern of
// docs/Semantics.md. Presets answer from the primitives they stand for.
//
//===----------------------------------------------------------------------===//

#include "sattn/Dialect/SAttn/IR/SAttnAttrs.h"
#include "MaskMath.h"
#include "sattn/Dialect/SAttn/IR/RandomBlocks.h"
#include "sattn/Dialect/SAttn/IR/SAttnDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"
#include <cstdlib>

using namespace mlir;
using namespace mlir::sattn;
using namespace mlir::sattn::mask_math;

using EmitErrorFn = llvm::function_ref<InFlightDiagnostic()>;

#include "sattn/Dialect/SAttn/IR/SAttnAttrInterfaces.cpp.inc"

#include "sattn/Dialect/SAttn/IR/SAttnEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "sattn/Dialect/SAttn/IR/SAttnAttrs.cpp.inc"

//===----------------------------------------------------------------------===//
// Shared parsing and verification helpers
//===----------------------------------------------------------------------===//

FailureOr<uint64_t> mlir::sattn::parseSeed(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  APInt value;
  OptionalParseResult result = parser.parseOptionalInteger(value);
  if (!result.has_value() || failed(*result)) {
    parser.emitError(loc, "expected an integer seed");
    return failure();
  }
  // The parser returns a signed APInt wide enough for the literal.
  if (value.isNegative() ? value.getSignificantBits() > 64
                         : value.getActiveBits() > 64) {
    parser.emitError(loc, "seed must lie in [-2^63, 2^64)");
    return failure();
  }
  return value.sextOrTrunc(64).getZExtValue();
}

static LogicalResult checkAtLeast(EmitErrorFn emitError, StringRef attr,
                                  StringRef param, int64_t value,
                                  int64_t bound) {
  if (value >= bound)
    return success();
  return emitError() << "'#sattn." << attr << "' parameter '" << param
                     << "' must be >= " << bound << ", got " << value;
}

/// Rules of a token set (global, longformer): at least one token, all >= 0,
/// no duplicates. `tokens` is sorted.
static LogicalResult verifyTokens(EmitErrorFn emitError, StringRef attr,
                                  ArrayRef<int64_t> tokens) {
  if (tokens.empty())
    return emitError() << "'#sattn." << attr
                       << "' needs at least one global token";
  if (tokens.front() < 0)
    return emitError() << "'#sattn." << attr
                       << "' global tokens must be >= 0, got "
                       << tokens.front();
  for (auto [a, b] : llvm::zip(tokens.drop_back(), tokens.drop_front()))
    if (a == b)
      return emitError() << "'#sattn." << attr << "' global token " << a
                         << " appears more than once";
  return success();
}

/// Parses `[t0, t1, ...]` into a sorted token list.
static ParseResult parseTokenList(AsmParser &parser,
                                  SmallVectorImpl<int64_t> &tokens) {
  if (parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, [&] {
        return parser.parseInteger(tokens.emplace_back());
      }))
    return failure();
  llvm::sort(tokens);
  return success();
}

static void printTokenList(AsmPrinter &printer, ArrayRef<int64_t> tokens) {
  printer << '[';
  llvm::interleaveComma(tokens, printer);
  printer << ']';
}

/// Parses one member of a combinator and checks that it is a mask.
static ParseResult parseMaskMember(AsmParser &parser, StringRef combinator,
                                   Attribute &member) {
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseAttribute(member))
    return failure();
  if (!isa<MaskAttrInterface>(member))
    return parser.emitError(loc)
           << "members of '#sattn." << combinator
           << "' must be mask attributes (#sattn.*), got " << member;
  return success();
}

static LogicalResult verifyMembers(EmitErrorFn emitError, StringRef combinator,
                                   ArrayRef<Attribute> members) {
  if (members.empty())
    return emitError() << "'#sattn." << combinator
                       << "' must have at least one member";
  for (Attribute member : members)
    if (!isa_and_nonnull<MaskAttrInterface>(member))
      return emitError() << "members of '#sattn." << combinator
                         << "' must be mask attributes, got " << member;
  return success();
}

static void printMemberList(AsmPrinter &printer, ArrayRef<Attribute> members) {
  printer << "<[";
  llvm::interleaveComma(members, printer,
                        [&](Attribute m) { printer.printAttribute(m); });
  printer << "]>";
}

static MaskAttrInterface asMask(Attribute attr) {
  return cast<MaskAttrInterface>(attr);
}

//===----------------------------------------------------------------------===//
// dense, causal
//===----------------------------------------------------------------------===//

bool DenseAttr::evaluate(int64_t, int64_t, int64_t) const { return true; }
// The same everywhere: constant along both sides.
std::pair<int64_t, int64_t> DenseAttr::getBlockGrid() const { return {0, 0}; }
TileClass DenseAttr::classify(int64_t, int64_t, int64_t, int64_t,
                              int64_t) const {
  return TileClass::Full;
}

// causal: k - p <= 0.
std::optional<BandForm> CausalAttr::getBandForm() const {
  return BandForm{-kInf, 0, 1};
}

//===----------------------------------------------------------------------===//
// window, dilated, strided
//===----------------------------------------------------------------------===//

LogicalResult WindowAttr::verify(EmitErrorFn emitError, int64_t left,
                                 int64_t right) {
  return success(
      succeeded(checkAtLeast(emitError, "window", "left", left, 0)) &&
      succeeded(checkAtLeast(emitError, "window", "right", right, 0)));
}
// window: -left <= k - p <= right.
std::optional<BandForm> WindowAttr::getBandForm() const {
  return BandForm{-std::min(getLeft(), kInf), std::min(getRight(), kInf), 1};
}

LogicalResult DilatedAttr::verify(EmitErrorFn emitError, int64_t left,
                                  int64_t right, int64_t dilation) {
  if (failed(checkAtLeast(emitError, "dilated", "left", left, 0)) ||
      failed(checkAtLeast(emitError, "dilated", "right", right, 0)) ||
      failed(checkAtLeast(emitError, "dilated", "dilation", dilation, 1)))
    return failure();
  return success();
}
// dilated: -left d <= k - p <= right d, (k - p) mod d == 0.
std::optional<BandForm> DilatedAttr::getBandForm() const {
  int64_t d = getDilation();
  return BandForm{-clampMul(getLeft(), d), clampMul(getRight(), d), d};
}

LogicalResult StridedAttr::verify(EmitErrorFn emitError, int64_t stride) {
  return checkAtLeast(emitError, "strided", "stride", stride, 1);
}
// strided: (k - p) mod s == 0.
std::optional<BandForm> StridedAttr::getBandForm() const {
  return BandForm{-kInf, kInf, getStride()};
}

void mlir::sattn::reportMissingMaskMethod(Attribute mask, const char *method) {
  std::string text;
  llvm::raw_string_ostream(text)
      << "mask pattern " << mask
      << " has no band or primitive form and does not implement "
         "MaskAttrInterface::"
      << method;
  llvm::report_fatal_error(llvm::StringRef(text));
}
bool band::evaluate(BandForm band, int64_t p, int64_t k) {
  return evaluateDiagonalBand(p, k, band.lo, band.hi, band.step);
}
TileClass band::classify(BandForm band, int64_t p0, int64_t p1, int64_t k0,
                         int64_t k1) {
  return classifyDiagonalBand(p0, p1, k0, k1, band.lo, band.hi, band.step);
}

//===----------------------------------------------------------------------===//
// global, sink
//===----------------------------------------------------------------------===//

Attribute GlobalAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<int64_t> tokens;
  if (parser.parseLess() || parser.parseKeyword("tokens") ||
      parser.parseEqual() || parseTokenList(parser, tokens) ||
      parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    tokens);
}
void GlobalAttr::print(AsmPrinter &printer) const {
  printer << "<tokens = ";
  printTokenList(printer, getTokens());
  printer << '>';
}
LogicalResult GlobalAttr::verify(EmitErrorFn emitError,
                                 ArrayRef<int64_t> tokens) {
  if (!llvm::is_sorted(tokens))
    return emitError() << "'#sattn.global' tokens must be stored sorted";
  return verifyTokens(emitError, "global", tokens);
}
bool GlobalAttr::evaluate(int64_t p, int64_t k, int64_t) const {
  return evaluateGlobal(p, k, getTokens());
}
TileClass GlobalAttr::classify(int64_t p0, int64_t p1, int64_t k0, int64_t k1,
                               int64_t) const {
  return classifyGlobal(p0, p1, k0, k1, getTokens());
}

LogicalResult SinkAttr::verify(EmitErrorFn emitError, int64_t tokens) {
  return checkAtLeast(emitError, "sink", "tokens", tokens, 1);
}
bool SinkAttr::evaluate(int64_t, int64_t k, int64_t) const {
  return evaluateSink(k, getTokens());
}
TileClass SinkAttr::classify(int64_t, int64_t, int64_t k0, int64_t k1,
                             int64_t) const {
  return classifySink(k0, k1, getTokens());
}
// k < n is the same for every query, and on each run of n keys from 0.
std::pair<int64_t, int64_t> SinkAttr::getBlockGrid() const {
  return {0, getTokens()};
}

//===----------------------------------------------------------------------===//
// block_sparse
//===----------------------------------------------------------------------===//

Attribute BlockSparseAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  int64_t bq, bk;
  if (parser.parseLess() || parser.parseKeyword("block") ||
      parser.parseEqual() || parser.parseLSquare() || parser.parseInteger(bq) ||
      parser.parseComma() || parser.parseInteger(bk) || parser.parseRSquare() ||
      parser.parseComma() || parser.parseKeyword("layout") ||
      parser.parseEqual())
    return {};
  SMLoc layoutLoc = parser.getCurrentLocation();
  Attribute layout;
  if (parser.parseAttribute(layout))
    return {};
  auto dense = dyn_cast<DenseIntElementsAttr>(layout);
  if (!dense) {
    parser.emitError(layoutLoc, "'#sattn.block_sparse' layout must be a dense "
                                "i1 elements attribute, got ")
        << layout;
    return {};
  }
  if (parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    bq, bk, dense);
}
void BlockSparseAttr::print(AsmPrinter &printer) const {
  printer << "<block = [" << getBlockQ() << ", " << getBlockK()
          << "], layout = ";
  printer.printAttribute(getLayout());
  printer << '>';
}
LogicalResult BlockSparseAttr::verify(EmitErrorFn emitError, int64_t blockQ,
                                      int64_t blockK,
                                      DenseIntElementsAttr layout) {
  if (failed(checkAtLeast(emitError, "block_sparse", "block[0]", blockQ, 1)) ||
      failed(checkAtLeast(emitError, "block_sparse", "block[1]", blockK, 1)))
    return failure();
  auto type = layout.getType();
  if (type.getRank() != 2 || !type.getElementType().isInteger(1))
    return emitError() << "'#sattn.block_sparse' layout must be a rank-2 "
                          "tensor of i1, got "
                       << type;
  return success();
}
int64_t BlockSparseAttr::getNumRows() const {
  return getLayout().getType().getDimSize(0);
}
int64_t BlockSparseAttr::getNumCols() const {
  return getLayout().getType().getDimSize(1);
}
bool BlockSparseAttr::cell(int64_t r, int64_t c) const {
  int64_t rows = getNumRows(), cols = getNumCols();
  if (r < 0 || c < 0 || r >= rows || c >= cols)
    return false;
  DenseIntElementsAttr layout = getLayout();
  if (layout.isSplat())
    return layout.getSplatValue<bool>();
  return layout.getValues<bool>()[r * cols + c];
}
BlockSparseAttr BlockSparseAttr::getFromCells(MLIRContext *ctx, int64_t blockQ,
                                              int64_t blockK, int64_t rows,
                                              int64_t cols,
                                              ArrayRef<bool> cells) {
  auto type = RankedTensorType::get({rows, cols}, IntegerType::get(ctx, 1));
  return get(ctx, blockQ, blockK,
             cast<DenseIntElementsAttr>(DenseElementsAttr::get(type, cells)));
}
LogicalResult BlockSparseAttr::verifyShape(EmitErrorFn emitError,
                                           std::optional<int64_t> lk) const {
  if (!lk)
    return success();
  // Query positions never exceed Lk - 1, key positions neither.
  int64_t needRows = ceilDiv(*lk, getBlockQ()),
          needCols = ceilDiv(*lk, getBlockK());
  if (getNumRows() < needRows || getNumCols() < needCols)
    return emitError() << "'#sattn.block_sparse' layout of " << getNumRows()
                       << "x" << getNumCols()
                       << " blocks does not cover Lk = " << *lk
                       << ": needs at least " << needRows << "x" << needCols;
  return success();
}
bool BlockSparseAttr::evaluate(int64_t p, int64_t k, int64_t) const {
  return cell(floorDiv(p, getBlockQ()), k / getBlockK());
}
std::pair<int64_t, int64_t> BlockSparseAttr::getBlockGrid() const {
  return {getBlockQ(), getBlockK()};
}
TileClass BlockSparseAttr::classify(int64_t p0, int64_t p1, int64_t k0,
                                    int64_t k1, int64_t) const {
  return classifyBlockGrid(
      p0, p1, k0, k1, getBlockQ(), getBlockK(),
      [&](int64_t qb, int64_t kb) { return cell(qb, kb); });
}

//===----------------------------------------------------------------------===//
// random
//===----------------------------------------------------------------------===//

LogicalResult RandomAttr::verify(EmitErrorFn emitError, int64_t block,
                                 int64_t perRow, uint64_t) {
  if (failed(checkAtLeast(emitError, "random", "block", block, 1)) ||
      failed(checkAtLeast(emitError, "random", "per_row", perRow, 1)))
    return failure();
  return success();
}
bool RandomAttr::evaluate(int64_t p, int64_t k, int64_t lk) const {
  int64_t b = getBlock();
  return inRandomBlocks(getSeed(), floorDiv(p, b), getPerRow(), k / b,
                        ceilDiv(lk, b));
}
std::pair<int64_t, int64_t> RandomAttr::getBlockGrid() const {
  return {getBlock(), getBlock()};
}
MaskAttrInterface RandomAttr::getExpansion(std::optional<int64_t> lk) const {
  // Every position p < Lk lies in a query block qb < n = ceil(Lk / b), and
  // R(qb) is then a fixed set: the layout of n x n cells is exact. A row
  // stops drawing once it holds all n blocks; one that needs more draws than
  // kMaxDrawsPerBlock * n for that keeps the draws (no expansion).
  constexpr int64_t kMaxLayoutCells = int64_t(1) << 18;
  constexpr int64_t kMaxDrawsPerBlock = 64;
  if (!lk || *lk <= 0)
    return {};
  int64_t b = getBlock(), r = getPerRow(), n = ceilDiv(*lk, b);
  if (n > kMaxLayoutCells / n)
    return {};
  SmallVector<bool> cells(n * n);
  for (int64_t qb = 0; qb < n; ++qb) {
    int64_t found = 0, t = 0;
    for (; t < r && found < n; ++t) {
      if (t == kMaxDrawsPerBlock * n)
        return {};
      bool &cell = cells[qb * n + randomBlock(getSeed(), qb, r, t, n)];
      found += !cell;
      cell = true;
    }
  }
  return BlockSparseAttr::getFromCells(getContext(), b, b, n, n, cells);
}
TileClass RandomAttr::classify(int64_t p0, int64_t p1, int64_t k0, int64_t k1,
                               int64_t lk) const {
  int64_t b = getBlock(), nkb = ceilDiv(lk, b);
  return classifyBlockGrid(p0, p1, k0, k1, b, b, [&](int64_t qb, int64_t kb) {
    return inRandomBlocks(getSeed(), qb, getPerRow(), kb, nkb);
  });
}

//===----------------------------------------------------------------------===//
// union, intersect, complement
//===----------------------------------------------------------------------===//

Attribute UnionAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<Attribute> members;
  if (parser.parseLess() ||
      parser.parseCommaSeparatedList(
          AsmParser::Delimiter::Square,
          [&] {
            return parseMaskMember(parser, "union", members.emplace_back());
          }) ||
      parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    members);
}
void UnionAttr::print(AsmPrinter &printer) const {
  printMemberList(printer, getMembers());
}
LogicalResult UnionAttr::verify(EmitErrorFn emitError,
                                ArrayRef<Attribute> members) {
  return verifyMembers(emitError, "union", members);
}
bool UnionAttr::evaluate(int64_t p, int64_t k, int64_t lk) const {
  return llvm::any_of(
      getMembers(), [&](Attribute m) { return asMask(m).evaluate(p, k, lk); });
}
TileClass UnionAttr::classify(int64_t p0, int64_t p1, int64_t k0, int64_t k1,
                              int64_t lk) const {
  TileClass result = TileClass::Empty;
  for (Attribute m : getMembers()) {
    result = unionClass(result, asMask(m).classify(p0, p1, k0, k1, lk));
    if (result == TileClass::Full)
      break;
  }
  return result;
}

Attribute IntersectAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<Attribute> members;
  if (parser.parseLess() ||
      parser.parseCommaSeparatedList(
          AsmParser::Delimiter::Square,
          [&] {
            return parseMaskMember(parser, "intersect", members.emplace_back());
          }) ||
      parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    members);
}
void IntersectAttr::print(AsmPrinter &printer) const {
  printMemberList(printer, getMembers());
}
LogicalResult IntersectAttr::verify(EmitErrorFn emitError,
                                    ArrayRef<Attribute> members) {
  return verifyMembers(emitError, "intersect", members);
}
bool IntersectAttr::evaluate(int64_t p, int64_t k, int64_t lk) const {
  return llvm::all_of(
      getMembers(), [&](Attribute m) { return asMask(m).evaluate(p, k, lk); });
}
TileClass IntersectAttr::classify(int64_t p0, int64_t p1, int64_t k0,
                                  int64_t k1, int64_t lk) const {
  TileClass result = TileClass::Full;
  for (Attribute m : getMembers()) {
    result = intersectClass(result, asMask(m).classify(p0, p1, k0, k1, lk));
    if (result == TileClass::Empty)
      break;
  }
  return result;
}

Attribute ComplementAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  Attribute operand;
  if (parser.parseLess() || parseMaskMember(parser, "complement", operand) ||
      parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    operand);
}
void ComplementAttr::print(AsmPrinter &printer) const {
  printer << '<';
  printer.printAttribute(getOperand());
  printer << '>';
}
LogicalResult ComplementAttr::verify(EmitErrorFn emitError, Attribute operand) {
  return verifyMembers(emitError, "complement", operand);
}
SmallVector<Attribute> UnionAttr::getOperandMasks() const {
  return SmallVector<Attribute>(getMembers());
}
SmallVector<Attribute> IntersectAttr::getOperandMasks() const {
  return SmallVector<Attribute>(getMembers());
}
SmallVector<Attribute> ComplementAttr::getOperandMasks() const {
  return {getOperand()};
}
bool ComplementAttr::evaluate(int64_t p, int64_t k, int64_t lk) const {
  return !asMask(getOperand()).evaluate(p, k, lk);
}
TileClass ComplementAttr::classify(int64_t p0, int64_t p1, int64_t k0,
                                   int64_t k1, int64_t lk) const {
  return complementClass(asMask(getOperand()).classify(p0, p1, k0, k1, lk));
}

//===----------------------------------------------------------------------===//
// Presets
//===----------------------------------------------------------------------===//

Attribute LongformerAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  int64_t window;
  SmallVector<int64_t> tokens;
  if (parser.parseLess() || parser.parseKeyword("window") ||
      parser.parseEqual() || parser.parseInteger(window) ||
      parser.parseComma() || parser.parseKeyword("global") ||
      parser.parseEqual() || parseTokenList(parser, tokens) ||
      parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    window, tokens);
}
void LongformerAttr::print(AsmPrinter &printer) const {
  printer << "<window = " << getWindow() << ", global = ";
  printTokenList(printer, getTokens());
  printer << '>';
}
LogicalResult LongformerAttr::verify(EmitErrorFn emitError, int64_t window,
                                     ArrayRef<int64_t> tokens) {
  if (window < 2 || window % 2 != 0)
    return emitError() << "'#sattn.longformer' parameter 'window' must be an "
                          "even number >= 2, got "
                       << window;
  if (!llvm::is_sorted(tokens))
    return emitError() << "'#sattn.longformer' tokens must be stored sorted";
  return verifyTokens(emitError, "longformer", tokens);
}
// union<[window<w/2, w/2>, global<tokens>]>
MaskAttrInterface LongformerAttr::getPrimitiveForm() const {
  MLIRContext *ctx = getContext();
  return UnionAttr::get(ctx,
                        {WindowAttr::get(ctx, getWindow() / 2, getWindow() / 2),
                         GlobalAttr::get(ctx, getTokens())});
}
bool LongformerAttr::evaluate(int64_t p, int64_t k, int64_t) const {
  int64_t h = std::min(getWindow() / 2, kInf);
  return evaluateDiagonalBand(p, k, -h, h, 1) ||
         evaluateGlobal(p, k, getTokens());
}
TileClass LongformerAttr::classify(int64_t p0, int64_t p1, int64_t k0,
                                   int64_t k1, int64_t) const {
  int64_t h = std::min(getWindow() / 2, kInf);
  return unionClass(classifyDiagonalBand(p0, p1, k0, k1, -h, h, 1),
                    classifyGlobal(p0, p1, k0, k1, getTokens()));
}

LogicalResult BigBirdAttr::verify(EmitErrorFn emitError, int64_t block,
                                  int64_t window, int64_t global,
                                  int64_t random, uint64_t) {
  if (failed(checkAtLeast(emitError, "bigbird", "block", block, 1)))
    return failure();
  if (window < 1 || window % 2 == 0)
    return emitError() << "'#sattn.bigbird' parameter 'window' must be an odd "
                          "number of blocks >= 1, got "
                       << window;
  if (failed(checkAtLeast(emitError, "bigbird", "global", global, 0)) ||
      failed(checkAtLeast(emitError, "bigbird", "random", random, 0)))
    return failure();
  return success();
}
/// The value of bigbird on block cell (qb, kb) for nkb key blocks.
static bool bigBirdCell(BigBirdAttr attr, int64_t qb, int64_t kb, int64_t nkb) {
  int64_t halfBand = (attr.getWindow() - 1) / 2;
  if (kb < attr.getGlobal())
    return true;
  if (qb < 0)
    return false;
  return std::abs(qb - kb) <= halfBand || qb < attr.getGlobal() ||
         (attr.getRandom() >= 1 &&
          inRandomBlocks(attr.getSeed(), qb, attr.getRandom(), kb, nkb));
}
bool BigBirdAttr::evaluate(int64_t p, int64_t k, int64_t lk) const {
  int64_t b = getBlock();
  return bigBirdCell(*this, floorDiv(p, b), k / b, ceilDiv(lk, b));
}
// For static Lk: the block band and the global query blocks as one layout,
// the random blocks, and sink<gb * b> for the global key blocks (which every
// query sees, even those at p < 0). The layout has ceil(Lk / b)^2 cells;
// past 2^22 there is none.
MaskAttrInterface BigBirdAttr::getExpansion(std::optional<int64_t> lk) const {
  constexpr int64_t kMaxLayoutCells = int64_t(1) << 22;
  int64_t b = getBlock(), n = lk ? ceilDiv(*lk, b) : 0;
  if (!lk || n > kMaxLayoutCells / std::max<int64_t>(n, 1))
    return {};
  MLIRContext *ctx = getContext();
  int64_t halfBand = (getWindow() - 1) / 2;
  SmallVector<bool> cells(n * n);
  for (int64_t qb = 0; qb < n; ++qb)
    for (int64_t kb = 0; kb < n; ++kb)
      cells[qb * n + kb] = std::abs(qb - kb) <= halfBand || qb < getGlobal();
  SmallVector<Attribute> parts = {
      BlockSparseAttr::getFromCells(ctx, b, b, n, n, cells)};
  if (getRandom() >= 1)
    parts.push_back(RandomAttr::get(ctx, b, getRandom(), getSeed()));
  if (getGlobal() >= 1)
    parts.push_back(SinkAttr::get(ctx, clampMul(getGlobal(), b)));
  return cast<MaskAttrInterface>(
      parts.size() == 1 ? parts.front() : UnionAttr::get(ctx, parts));
}
std::pair<int64_t, int64_t> BigBirdAttr::getBlockGrid() const {
  return {getBlock(), getBlock()};
}
TileClass BigBirdAttr::classify(int64_t p0, int64_t p1, int64_t k0, int64_t k1,
                                int64_t lk) const {
  int64_t b = getBlock(), nkb = ceilDiv(lk, b);
  return classifyBlockGrid(p0, p1, k0, k1, b, b, [&](int64_t qb, int64_t kb) {
    return bigBirdCell(*this, qb, kb, nkb);
  });
}

LogicalResult SparseTransformerAttr::verify(EmitErrorFn emitError,
                                            int64_t stride) {
  return checkAtLeast(emitError, "sparse_transformer", "stride", stride, 1);
}
// intersect<[causal, union<[window<s - 1, 0>, strided<s>]>]>
MaskAttrInterface SparseTransformerAttr::getPrimitiveForm() const {
  MLIRContext *ctx = getContext();
  int64_t s = getStride();
  return IntersectAttr::get(
      ctx, {CausalAttr::get(ctx),
            UnionAttr::get(ctx, {WindowAttr::get(ctx, s - 1, 0),
                                 StridedAttr::get(ctx, s)})});
}
bool SparseTransformerAttr::evaluate(int64_t p, int64_t k, int64_t) const {
  int64_t s = getStride();
  return evaluateDiagonalBand(p, k, -kInf, 0, 1) &&
         (evaluateDiagonalBand(p, k, -(s - 1), 0, 1) ||
          evaluateDiagonalBand(p, k, -kInf, kInf, s));
}
TileClass SparseTransformerAttr::classify(int64_t p0, int64_t p1, int64_t k0,
                                          int64_t k1, int64_t) const {
  int64_t s = getStride();
  return intersectClass(
      classifyDiagonalBand(p0, p1, k0, k1, -kInf, 0, 1),
      unionClass(classifyDiagonalBand(p0, p1, k0, k1, -(s - 1), 0, 1),
                 classifyDiagonalBand(p0, p1, k0, k1, -kInf, kInf, s)));
}

LogicalResult StreamingAttr::verify(EmitErrorFn emitError, int64_t sink,
                                    int64_t window) {
  if (failed(checkAtLeast(emitError, "streaming", "sink", sink, 1)) ||
      failed(checkAtLeast(emitError, "streaming", "window", window, 1)))
    return failure();
  return success();
}
// intersect<[causal, union<[sink<n>, window<w - 1, 0>]>]>
MaskAttrInterface StreamingAttr::getPrimitiveForm() const {
  MLIRContext *ctx = getContext();
  return IntersectAttr::get(
      ctx, {CausalAttr::get(ctx),
            UnionAttr::get(ctx, {SinkAttr::get(ctx, getSink()),
                                 WindowAttr::get(ctx, getWindow() - 1, 0)})});
}
bool StreamingAttr::evaluate(int64_t p, int64_t k, int64_t) const {
  int64_t w = std::min(getWindow(), kInf);
  return evaluateDiagonalBand(p, k, -kInf, 0, 1) &&
         (evaluateSink(k, getSink()) ||
          evaluateDiagonalBand(p, k, -(w - 1), 0, 1));
}
TileClass StreamingAttr::classify(int64_t p0, int64_t p1, int64_t k0,
                                  int64_t k1, int64_t) const {
  int64_t w = std::min(getWindow(), kInf);
  return intersectClass(
      classifyDiagonalBand(p0, p1, k0, k1, -kInf, 0, 1),
      unionClass(classifySink(k0, k1, getSink()),
                 classifyDiagonalBand(p0, p1, k0, k1, -(w - 1), 0, 1)));
}

//===----------------------------------------------------------------------===//
// Tile statistics
//===----------------------------------------------------------------------===//

bool mlir::sattn::isBandMask(Attribute mask) {
  // A band with an edge (strided has none), or a sink; the key range of a
  // complement is every key.
  MaskAttrInterface m = asMask(mask);
  if (std::optional<BandForm> band = m.getBandForm())
    return band->lo > -kInf || band->hi < kInf;
  if (isa<SinkAttr>(mask))
    return true;
  if (MaskAttrInterface primitive = m.getPrimitiveForm())
    return isBandMask(primitive);
  SmallVector<Attribute> operands = m.getOperandMasks();
  return !isa<ComplementAttr>(mask) && !operands.empty() &&
         llvm::all_of(operands, isBandMask);
}

std::pair<int64_t, int64_t> mlir::sattn::getOperandsBlockGrid(Attribute mask) {
  MaskAttrInterface m = asMask(mask);
  if (MaskAttrInterface primitive = m.getPrimitiveForm())
    return primitive.getBlockGrid();
  SmallVector<Attribute> operands = m.getOperandMasks();
  if (operands.empty())
    return {1, 1};
  std::pair<int64_t, int64_t> grid = {0, 0};
  for (Attribute operand : operands) {
    auto [gq, gk] = asMask(operand).getBlockGrid();
    grid = {std::gcd(grid.first, gq), std::gcd(grid.second, gk)};
  }
  return grid;
}

/// a + b and a * b, saturating at kMaxCost (costs are upper bounds).
static constexpr int64_t kMaxCost = int64_t(1) << 62;
static int64_t addCost(int64_t a, int64_t b) {
  return std::min(kMaxCost, a + b);
}
static int64_t mulCost(int64_t a, int64_t b) {
  int64_t r;
  return llvm::MulOverflow(a, b, r) ? kMaxCost : std::min(kMaxCost, r);
}

/// Draws of one random-block membership test: it stops at the first draw of
/// the block, and only a block missing from R(qb) costs all r draws. With
/// r > 32 nkb a block is missing with probability below e^-32, so the
/// draws beyond 32 nkb are counted as never made.
static int64_t randomDrawCost(int64_t block, int64_t perRow, int64_t lk) {
  int64_t nkb = std::max<int64_t>(1, ceilDiv(lk, block));
  return std::max<int64_t>(1, std::min(perRow, mulCost(32, nkb)));
}

/// The cost of a combinator: the sum of `cost` over its operands (members of
/// union and intersect, the operand of complement); 1 for any other mask.
static int64_t sumOverOperands(Attribute mask,
                               llvm::function_ref<int64_t(Attribute)> cost) {
  SmallVector<Attribute> operands = asMask(mask).getOperandMasks();
  if (operands.empty())
    return 1;
  int64_t total = 0;
  for (Attribute m : operands)
    total = addCost(total, cost(m));
  return total;
}

int64_t mlir::sattn::maskEvaluateCost(Attribute mask, int64_t lk) {
  if (auto r = dyn_cast<RandomAttr>(mask))
    return randomDrawCost(r.getBlock(), r.getPerRow(), lk);
  if (auto bb = dyn_cast<BigBirdAttr>(mask))
    return randomDrawCost(bb.getBlock(), bb.getRandom(), lk);
  return sumOverOperands(mask,
                         [&](Attribute m) { return maskEvaluateCost(m, lk); });
}

int64_t mlir::sattn::maskClassifyCost(Attribute mask, int64_t rows,
                                      int64_t keys, int64_t lk) {
  // Block patterns test every block cell the rectangle overlaps.
  auto cells = [&](int64_t bq, int64_t bk) {
    return mulCost(rows / bq + 2, keys / bk + 2);
  };
  if (auto bs = dyn_cast<BlockSparseAttr>(mask))
    return cells(bs.getBlockQ(), bs.getBlockK());
  if (auto r = dyn_cast<RandomAttr>(mask))
    return mulCost(cells(r.getBlock(), r.getBlock()), maskEvaluateCost(r, lk));
  if (auto bb = dyn_cast<BigBirdAttr>(mask))
    return mulCost(cells(bb.getBlock(), bb.getBlock()),
                   maskEvaluateCost(bb, lk));
  return sumOverOperands(
      mask, [&](Attribute m) { return maskClassifyCost(m, rows, keys, lk); });
}

std::optional<TilePlanStats>
mlir::sattn::computeTilePlanStats(MaskAttrInterface mask, int64_t lq,
                                  int64_t lk, int64_t rows, int64_t keys,
                                  int64_t maxWork) {
  TilePlanStats stats;
  int64_t work = 0;
  const int64_t classifyCost = maskClassifyCost(mask, rows, keys, lk);
  const int64_t evaluateCost = maskEvaluateCost(mask, lk);
  for (int64_t r0 = 0; r0 < lq; r0 += rows) {
    int64_t r1 = std::min(r0 + rows, lq), p0 = r0 + lk - lq, p1 = r1 + lk - lq;
    for (int64_t k0 = 0; k0 < lk; k0 += keys) {
      int64_t k1 = std::min(k0 + keys, lk);
      if ((work = addCost(work, classifyCost)) > maxWork)
        return std::nullopt;
      switch (mask.classify(p0, p1, k0, k1, lk)) {
      case TileClass::Empty:
        ++stats.emptyTiles;
        break;
      case TileClass::Full:
        ++stats.fullTiles;
        stats.keptPairs += (p1 - p0) * (k1 - k0);
        break;
      case TileClass::Partial:
        ++stats.partialTiles;
        if ((work = addCost(
                 work, mulCost((p1 - p0) * (k1 - k0), evaluateCost))) > maxWork)
          return std::nullopt;
        for (int64_t p = p0; p < p1; ++p)
          for (int64_t k = k0; k < k1; ++k)
            stats.keptPairs += mask.evaluate(p, k, lk);
        break;
      }
    }
  }
  return stats;
}

//===----------------------------------------------------------------------===//
// Registration
//===----------------------------------------------------------------------===//

void SAttnDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "sattn/Dialect/SAttn/IR/SAttnAttrs.cpp.inc"
      >();
}
