#!/usr/bin/env bash
# The main job of `make demo`: parse the example specs, expand and simplify
# their masks, draw them (text for small sizes, PNG for the real ones), then
# compile them for this CPU and run them; then compile them for NVIDIA GPUs
# (and run one there when the CUDA driver sees a GPU).
#   scripts/demo.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
bin=$build/bin
out=$build/demo
mkdir -p "$out"

for name in longformer bigbird; do
  spec=examples/$name.mlir
  echo "=== $spec"
  grep -o 'mask(.*)' "$spec" | sed 's/^/spec:       /'
  "$bin/sattn-opt" "$spec" -sattn-expand-presets -sattn-simplify-masks > "$out/$name.opt.mlir"
  grep -o 'mask(.*) :' "$out/$name.opt.mlir" | sed 's/ :$//' | cut -c1-300 | sed 's/^/simplified: /'
  "$bin/sattn-mask" "$out/$name.opt.mlir" --png="$out/$name.png" | grep -v '^mask '
  echo
done

echo "=== the same patterns, scaled down so they fit on a terminal"
"$bin/sattn-mask" --mask='#sattn.longformer<window = 6, global = [0, 17]>' --lq=24 --lk=24
echo
"$bin/sattn-mask" --mask='#sattn.bigbird<block = 4, window = 3, global = 1, random = 1, seed = 0>' --lq=32 --lk=32

echo
echo "=== compiled for this CPU and run (random inputs, all cores)"
for name in longformer bigbird; do
  printf '%-12s ' "$name:"
  "$bin/sattn-run" "examples/$name.mlir" --random-inputs --benchmark=3
done
echo
echo "=== checked against the float64 reference"
"$bin/sattn-run" examples/aot/causal.mlir --check

echo
echo "=== compiled for NVIDIA GPUs (PTX; no GPU needed)"
for name in longformer bigbird; do
  "$bin/sattn-compile" "examples/$name.mlir" --target=nvvm --chip=sm_90 -o "$out/$name.ptx"
  mma=$(grep -c 'mma.sync' "$out/$name.ptx" || true)
  kind=$([ "$mma" -gt 0 ] && echo "tensor cores, $mma mma.sync" || echo "SIMT (f32)")
  printf '%-12s %s: %s, %s lines\n' "$name:" "$out/$name.ptx" "$kind" "$(wc -l < "$out/$name.ptx")"
done
if "$bin/sattn-run" examples/aot/causal.mlir --target=nvvm --check 2>"$out/gpu.err"; then
  :
else
  echo "sattn-run --target=nvvm: $(cat "$out/gpu.err" | sed 's/^sattn-run: //')"
fi
