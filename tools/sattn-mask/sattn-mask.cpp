//===- sattn-mask.cpp - draw and measure sattn mask patterns --------------===//
//
//   sattn-mask --mask='#sattn.causal' --lq=8 --lk=8
//   sattn-mask spec.mlir [--lq=N] [--lk=N] [--png=out.png]
//
// Draws the mask of a pattern, or of each sattn.attention in a spec (with its
// own static lengths unless --lq/--lk override them), as text when small and
// as a PNG on request, and prints the number of kept pairs and the density.
//
//===----------------------------------------------------------------------===//

#include "sattn/Dialect/SAttn/IR/SAttnDialect.h"
#include "sattn/Dialect/SAttn/IR/SAttnOps.h"
#include "sattn/Support/MaskRender.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::sattn;
namespace cl = llvm::cl;

static cl::OptionCategory category("sattn-mask options");

static cl::opt<std::string> inputFile(cl::Positional,
                                      cl::desc("<spec.mlir, or - for stdin>"),
                                      cl::cat(category), cl::init(""));
static cl::opt<std::string>
    maskText("mask", cl::desc("A mask attribute, e.g. '#sattn.causal'"),
             cl::cat(category), cl::init(""));
static cl::opt<int64_t> lqOpt("lq",
                              cl::desc("Query length (overrides the spec)"),
                              cl::cat(category), cl::init(-1));
static cl::opt<int64_t> lkOpt("lk", cl::desc("Key length (overrides the spec)"),
                              cl::cat(category), cl::init(-1));
static cl::opt<int64_t>
    textLimit("text-limit",
              cl::desc("Draw as text when Lq and Lk are at most this"),
              cl::cat(category), cl::init(64));
static cl::opt<std::string>
    pngFile("png",
            cl::desc("Write a PNG image (one per op: NAME.png, "
                     "NAME-1.png, ...)"),
            cl::cat(category), cl::init(""));
static cl::opt<int64_t> pngSize("png-size",
                                cl::desc("Largest side of the PNG in pixels"),
                                cl::cat(category), cl::init(512));

static std::string pngPath(size_t index) {
  if (index == 0)
    return pngFile;
  llvm::StringRef path(pngFile);
  auto [stem, ext] = path.rsplit('.');
  return (stem + "-" + llvm::Twine(index) + "." + ext).str();
}

static bool draw(MaskAttrInterface mask, int64_t lq, int64_t lk, size_t index) {
  llvm::outs() << "mask " << mask << "\n";
  llvm::outs() << "Lq = " << lq << ", Lk = " << lk
               << " (row i is query position p = i + " << (lk - lq) << ")\n";
  if (lq <= textLimit && lk <= textLimit &&
      !renderMaskText(mask, lq, lk, llvm::outs()))
    llvm::outs() << "(not drawn: testing every pair costs too much)\n";
  std::optional<int64_t> kept = countKeptPairs(mask, lq, lk);
  double total = double(lq) * double(lk);
  if (kept)
    llvm::outs() << "kept " << *kept << " of " << static_cast<int64_t>(total)
                 << " pairs, density "
                 << llvm::format("%.6f", total > 0 ? *kept / total : 0.0)
                 << "\n";
  else
    llvm::outs() << "too many pairs to count exactly\n";
  if (!pngFile.empty()) {
    std::string error, path = pngPath(index);
    if (!writeMaskPNG(mask, lq, lk, path, pngSize, error)) {
      llvm::errs() << "sattn-mask: " << error << "\n";
      return false;
    }
    llvm::outs() << "wrote " << path << "\n";
  }
  return true;
}

int main(int argc, char **argv) {
  llvm::InitLLVM y(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv, "sattn mask drawing tool\n");

  MLIRContext context;
  context.loadDialect<SAttnDialect, func::FuncDialect, tensor::TensorDialect>();
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);

  if (textLimit < 0 || textLimit > 1024) {
    llvm::errs() << "sattn-mask: --text-limit must be in [0, 1024], got "
                 << textLimit << "\n";
    return 1;
  }
  if (pngSize < 1 || pngSize > 8192) {
    llvm::errs() << "sattn-mask: --png-size must be in [1, 8192], got "
                 << pngSize << "\n";
    return 1;
  }
  if (maskText.empty() == inputFile.empty()) {
    llvm::errs() << "sattn-mask: give either --mask=ATTR or a spec file\n";
    return 1;
  }

  if (!maskText.empty()) {
    if (lqOpt < 0 || lkOpt < 0) {
      llvm::errs() << "sattn-mask: --mask needs --lq=N and --lk=N (N >= 0)\n";
      return 1;
    }
    Attribute attr = parseAttribute(maskText, &context);
    if (!attr)
      return 1;
    auto mask = dyn_cast<MaskAttrInterface>(attr);
    if (!mask) {
      llvm::errs() << "sattn-mask: '" << maskText
                   << "' is not a mask attribute (#sattn.*)\n";
      return 1;
    }
    if (failed(mask.verifyShape(
            [&] { return emitError(UnknownLoc::get(&context)); }, lkOpt)))
      return 1;
    return draw(mask, lqOpt, lkOpt, 0) ? 0 : 1;
  }

  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(inputFile, sourceMgr, ParserConfig(&context));
  if (!module)
    return 1;
  size_t index = 0;
  bool ok = true;
  WalkResult walk = module->walk([&](AttentionOp op) {
    int64_t lq = op.getQuery().getType().getDimSize(2);
    int64_t lk = op.getKey().getType().getDimSize(2);
    if (lqOpt >= 0)
      lq = lqOpt;
    if (lkOpt >= 0)
      lk = lkOpt;
    if (ShapedType::isDynamic(lq) || ShapedType::isDynamic(lk)) {
      op.emitError("dynamic sequence lengths: give --lq and --lk to draw");
      return WalkResult::interrupt();
    }
    if (index > 0)
      llvm::outs() << "\n";
    ok &= draw(op.getMask(), lq, lk, index++);
    return WalkResult::advance();
  });
  if (walk.wasInterrupted() || !ok)
    return 1;
  if (index == 0) {
    llvm::errs() << "sattn-mask: no sattn.attention in " << inputFile << "\n";
    return 1;
  }
  return 0;
}
