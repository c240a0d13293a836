// Force-included into every sattn source when sattn is built with
// AddressSanitizer against an LLVM that is not (Debian's libLLVM/libMLIR).
//
// llvm::BumpPtrAllocator is a header class: compiled with ASan it poisons the
// free part of each slab, and only the allocations of instrumented code
// unpoison their bytes. MLIR's StorageUniquer shares one allocator between
// sattn's code (the attribute storage constructors TableGen generates) and
// libMLIR.so, whose uninstrumented copy hands out poisoned bytes: every later
// write there is reported as a use-after-poison that is not a bug. Making the
// poisoning calls no-ops keeps sattn's allocator code the same as libMLIR's.
#include <sanitizer/asan_interface.h>
#define __asan_poison_memory_region(addr, size) ((void)(addr), (void)(size))
#define __asan_unpoison_memory_region(addr, size) ((void)(addr), (void)(size))
