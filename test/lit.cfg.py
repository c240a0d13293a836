# -*- Python -*-
# lit configuration of the sattn test suite: FileCheck tests under test/ and
# the gtest unit tests (unittests/), discovered as one suite.

import os

import lit.formats
import lit.util
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "SATTN"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["CMakeLists.txt", "downstream", "README.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs", "sattn-capi-test.c"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.sattn_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%sattn_src", config.sattn_src_root))
config.substitutions.append(("%sattn_obj", config.sattn_obj_root))
config.environment["FILECHECK_OPTS"] = "--enable-var-scope --dump-input=fail"

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

tool_dirs = [config.sattn_tools_dir, config.llvm_tools_dir]
tools = ["sattn-opt", "sattn-mask", "sattn-run", "sattn-compile", "sattn-capi-test",
         "sattn-fuzz-npy", "sattn-fuzz-spec", "sattn-fuzz-mask", "sattn-fuzz-capi"]
llvm_config.add_tool_substitutions(tools, tool_dirs)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.sattn_tools_dir, append_path=True)
# ASan builds (make test-asan; scripts/run-tests.sh sets ASAN_OPTIONS and
# friends, which lit passes through): Python is not instrumented, so it
# preloads the ASan runtime that libsattn-capi.so needs, without leak checks
# (the interpreter never frees much of what it allocates).
python = config.python_executable
if config.sanitizer:
    config.available_features.add("sanitizer")
if config.asan_runtime:
    asan_options = config.environment.get("ASAN_OPTIONS", "")
    python = (f"env LD_PRELOAD={config.asan_runtime} "
              f"ASAN_OPTIONS={asan_options}:detect_leaks=0 {python}")
# Before the default %python (the interpreter running lit).
config.substitutions.insert(0, ("%python", python))
config.substitutions.append(("%sattn_run", os.path.join(config.sattn_tools_dir, "sattn-run")))

# Python modules the integration tests need.
import subprocess
for module in ["numpy", "ml_dtypes"]:
    if subprocess.run([config.python_executable, "-c", "import " + module],
                      capture_output=True).returncode == 0:
        config.available_features.add(module)
# The CPU's AVX512_BF16 dot products (the bf16 pair path of the CPU kernel).
try:
    with open("/proc/cpuinfo") as cpuinfo:
        if " avx512_bf16" in cpuinfo.read():
            config.available_features.add("avx512bf16")
except OSError:
    pass
config.substitutions.append(("%llvm_lib", os.path.join(os.path.dirname(config.llvm_tools_dir), "lib")))

# GPU: `ptxas` when the CUDA toolkit is there (PTX is assembled in CI), and
# `cuda-device` only when the CUDA driver sees a GPU (execution tests).
cuda_home = os.environ.get("CUDA_HOME") or "/usr/local/cuda"
if os.access(os.path.join(cuda_home, "bin", "ptxas"), os.X_OK):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", os.path.join(cuda_home, "bin", "ptxas")))
config.substitutions.append(("%cuda_home", cuda_home))
probe = ("import ctypes\n"
         "try:\n"
         "    cu = ctypes.CDLL('libcuda.so.1')\n"
         "    n = ctypes.c_int(0)\n"
         "    ok = cu.cuInit(0) == 0 and cu.cuDeviceGetCount(ctypes.byref(n)) == 0 and n.value > 0\n"
         "except OSError:\n"
         "    ok = False\n"
         "raise SystemExit(0 if ok else 1)\n")
if subprocess.run([config.python_executable, "-c", probe], capture_output=True).returncode == 0:
    config.available_features.add("cuda-device")
config.substitutions.append(("%llc", os.path.join(config.llvm_tools_dir, "llc")))
