# Thin driver over CMake. `make demo` and `make test` install what is missing
# (Debian packages), configure, build, and run.

BUILD      ?= build
PYTHON     ?= python3
LLVM_DIR   ?= /usr/lib/llvm-22
LIT        ?= $(LLVM_DIR)/bin/lit
JOBS       ?= $(shell nproc)
WERROR     ?= OFF   # CI: ON (warnings in sattn's own code fail the build)
APT_PKGS   := llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools \
              libomp-22-dev libdlpack-dev libopenblas-dev libgtest-dev \
              cmake ninja-build g++ python3 time
PIP_PKGS   := numpy ml_dtypes pytest
STAMP      := $(BUILD)/.deps-installed

.PHONY: all deps clang configure build demo test test-asan test-tsan soak fuzz bench bench-quick example docs format clean

all: build

# Install the Debian packages that are missing (needs root or sudo).
deps: $(STAMP)
$(STAMP):
	@missing=$$(for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing: $$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi
	@$(PYTHON) -c "import numpy, ml_dtypes, pytest" 2>/dev/null || \
	  $(PYTHON) -m pip install -q $(PIP_PKGS)
	@mkdir -p $(BUILD) && touch $@

configure: deps
	@test -f $(BUILD)/build.ninja || cmake -G Ninja -S . -B $(BUILD) \
	  -DCMAKE_BUILD_TYPE=Release \
	  -DMLIR_DIR=$(LLVM_DIR)/lib/cmake/mlir \
	  -DLLVM_EXTERNAL_LIT=$(LIT) -DSATTN_WERROR=$(strip $(WERROR)) \
	  -DPython3_EXECUTABLE=$$($(PYTHON) -c 'import sys; print(sys.executable)')

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# The main job: parse the example specs (Longformer, BigBird), expand and
# simplify their masks, and draw them.
demo: build
	@scripts/demo.sh $(BUILD)

# Every test (lit FileCheck tests, gtest unit tests); ends with one line
# `N passed, N failed`.
test: build
	cmake --build $(BUILD) -j $(JOBS) --target sattn-test-depends
	@PYTHON=$(PYTHON) scripts/run-tests.sh $(BUILD) $(LIT)

# clang-22 and its sanitizer runtimes (fuzzing and the sanitizer suites).
clang: deps
	@dpkg -s clang-22 libclang-rt-22-dev >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends \
	    clang-22 libclang-rt-22-dev; }

# A clang-22 build of sattn with a sanitizer: $(call sanitized-build,DIR,SANITIZER,TARGETS)
define sanitized-build
	@test -f $(1)/build.ninja || cmake -G Ninja -S . -B $(1) \
	  -DCMAKE_BUILD_TYPE=Release \
	  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
	  "-DLLVM_USE_SANITIZER=$(2)" -DSATTN_WERROR=$(strip $(WERROR)) \
	  -DMLIR_DIR=$(LLVM_DIR)/lib/cmake/mlir -DLLVM_EXTERNAL_LIT=$(LIT) \
	  -DPython3_EXECUTABLE=$$($(PYTHON) -c 'import sys; print(sys.executable)')
	cmake --build $(1) -j $(JOBS) --target $(3)
endef

# The whole suite (lit, unit, Python; JIT-compiled kernels run inside the
# sanitized processes) built with AddressSanitizer and UBSan. Python is not
# instrumented: it runs with the ASan runtime preloaded.
ASAN_BUILD ?= build-asan
test-asan: clang
	$(call sanitized-build,$(ASAN_BUILD),Address;Undefined,sattn-test-depends)
	@PYTHON=$(PYTHON) SATTN_SANITIZER=address scripts/run-tests.sh $(ASAN_BUILD) $(LIT)

# ThreadSanitizer over the C API's concurrent compile, run and disk cache
# (test/CAPI: eight threads share one context and one cache directory).
# libLLVM, libMLIR and libomp are not instrumented: their own synchronization
# is invisible to TSan, so accesses made inside them are not reported
# (ignore_noninstrumented_modules); every access of sattn's code is.
TSAN_BUILD ?= build-tsan
test-tsan: clang
	$(call sanitized-build,$(TSAN_BUILD),Thread,sattn-capi-test)
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1 \
	  SATTN_LIBCUDA=/nonexistent $(TSAN_BUILD)/bin/sattn-capi-test

# The long differential soak: SOAK_CASES random cases (every mask family and
# composition, shapes with tails, GQA, Lq != Lk, empty rows, dynamic shapes,
# f32/f16/bf16, garbage in unkept keys) against the float64 reference: 95% on
# the CPU JIT, 5% on the GPU kernels run by the emulator (tensor cores on and
# off). SOAK_SEED=S repeats a run; by default each run draws a new seed. A
# failure prints its seed and the command that reruns the case.
SOAK_CASES ?= 10000
ifeq ($(SOAK_SEED),)
SOAK_SEED  := $(shell od -An -N4 -tu4 /dev/urandom | tr -d ' ')
endif
soak: build
	$(PYTHON) test/Integration/differential.py --sattn-run $(BUILD)/bin/sattn-run \
	  --seed $(SOAK_SEED) --cases $$(( $(SOAK_CASES) * 95 / 100 ))
	$(PYTHON) test/Integration/GPU/emulator/emulate.py --sattn-opt $(BUILD)/bin/sattn-opt \
	  --llc $(LLVM_DIR)/bin/llc --seed $(SOAK_SEED) --cases $$(( $(SOAK_CASES) * 5 / 100 ))

# libFuzzer on each fuzz target (fuzz/) for FUZZ_SECONDS, built with
# clang-22, ASan and UBSan in $(FUZZ_BUILD); new inputs land in
# fuzz/corpus/<target>/ (commit the useful ones: `make test` replays them).
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := npy spec mask capi
fuzz: clang
	@test -f $(FUZZ_BUILD)/build.ninja || cmake -G Ninja -S . -B $(FUZZ_BUILD) \
	  -DCMAKE_BUILD_TYPE=Release \
	  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
	  "-DLLVM_USE_SANITIZER=Address;Undefined" -DLLVM_USE_SANITIZE_COVERAGE=ON \
	  -DSATTN_ENABLE_LIBFUZZER=ON \
	  -DMLIR_DIR=$(LLVM_DIR)/lib/cmake/mlir -DLLVM_EXTERNAL_LIT=$(LIT)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(addprefix sattn-fuzz-,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
	  echo "== sattn-fuzz-$$t, $(FUZZ_SECONDS) s"; \
	  $(FUZZ_BUILD)/bin/sattn-fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -timeout=20 \
	    -artifact_prefix=$(FUZZ_BUILD)/ \
	    -rss_limit_mb=4096 -print_final_stats=1 fuzz/corpus/$$t || exit 1; \
	done

# The CPU benchmark against its peers (installs PyTorch from PyPI; long).
bench: build
	@$(PYTHON) -c "import torch" 2>/dev/null || $(PYTHON) -m pip install -q torch
	$(PYTHON) benchmarks/bench.py --build $(BUILD)

bench-quick: build
	@$(PYTHON) -c "import torch" 2>/dev/null || $(PYTHON) -m pip install -q torch
	$(PYTHON) benchmarks/bench.py --build $(BUILD) --quick

# sattn as a PyTorch operator in a small Longformer model.
example: build
	@$(PYTHON) -c "import torch" 2>/dev/null || $(PYTHON) -m pip install -q torch
	$(PYTHON) examples/pytorch/longformer_model.py

docs: configure
	cmake --build $(BUILD) --target sattn-docs

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD)
