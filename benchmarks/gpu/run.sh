#!/bin/bash
# The GPU device check, on the lent machine (from the repository root):
#   bash benchmarks/gpu/run.sh
# Needs benchmarks/gpu/artifacts from prepare.py (carried: it is ignored by
# git). Builds the harness from the sattn-compile headers with the system C
# compiler and the CUDA driver, then checks and times every pattern; the log
# goes to $OUT (or /tmp) as gpu-check.log.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-/tmp}
cuda=${CUDA_HOME:-/usr/local/cuda}
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv | tee "$out/gpu-check.log"
cc -O2 -shared -fPIC -I"$cuda/include" -I"$here/artifacts" "$here/artifacts/harness.c" \
   -L"$cuda/lib64/stubs" -lcuda -o "$out/harness.so"
timeout 480 python3 "$here/check_and_bench.py" --artifacts "$here/artifacts" \
   --harness "$out/harness.so" 2>&1 | tee -a "$out/gpu-check.log"
