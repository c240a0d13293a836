#!/bin/bash
# The GPU device check, on the lent machine (from the repository root):
#   bash benchmarks/gpu/run.sh
# Needs benchmarks/gpu/artifacts from prepare.py (carried: it is ignored by
# git). Builds the harness from the sattn-compile headers with the system C
# compiler and the CUDA driver, then checks and times every pattern; the log
# goes to $OUT (or /tmp) as gpu-check.log. Exits non-zero when the build, a
# correctness check or the time limit (6 minutes in all) fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-/tmp}
# The CUDA toolkit: $CUDA_HOME, /usr/local/cuda, or where nvcc lives.
cuda=${CUDA_HOME:-/usr/local/cuda}
if [ ! -e "$cuda/include/cuda.h" ] && command -v nvcc > /dev/null; then
  cuda=$(dirname "$(dirname "$(readlink -f "$(command -v nvcc)")")")
fi
include=$cuda/include
[ -e "$include/cuda.h" ] ||
  include=$(dirname "$(find "$cuda" /usr /opt -maxdepth 6 -name cuda.h -path '*include*' 2>/dev/null | head -1)")
stubs=$cuda/lib64/stubs
[ -d "$stubs" ] ||
  stubs=$(dirname "$(find "$cuda" /usr /opt -maxdepth 7 -name libcuda.so -path '*stubs*' 2>/dev/null | head -1)")
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv | tee "$out/gpu-check.log"
echo "CUDA headers: $include; driver stubs: $stubs" | tee -a "$out/gpu-check.log"
cc -O2 -shared -fPIC -I"$include" -I"$here/artifacts" "$here/artifacts/harness.c" \
   -L"$stubs" -lcuda -o "$out/harness.so"
timeout 330 python3 "$here/check_and_bench.py" --artifacts "$here/artifacts" \
   --harness "$out/harness.so" 2>&1 | tee -a "$out/gpu-check.log"
