# Thin driver over CMake. `make demo` and `make test` install what is missing
# (Debian packages), configure, build, and run.

BUILD      ?= build
PYTHON     ?= python3
LLVM_DIR   ?= /usr/lib/llvm-22
LIT        ?= $(LLVM_DIR)/bin/lit
JOBS       ?= $(shell nproc)
APT_PKGS   := llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools \
              libomp-22-dev libdlpack-dev libopenblas-dev libgtest-dev \
              cmake ninja-build g++ python3 time
PIP_PKGS   := numpy ml_dtypes pytest
STAMP      := $(BUILD)/.deps-installed

.PHONY: all deps configure build demo test bench bench-quick example docs format clean

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
	  -DLLVM_EXTERNAL_LIT=$(LIT) \
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
