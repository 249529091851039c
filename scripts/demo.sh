#!/usr/bin/env bash
# `make demo`: the main job on the embedded default.  The cost of a
# per-filter heterogeneous ResNet-20, then a short search (Algorithm C.1,
# configs/demo.yaml): per-filter bit widths of a ResNet-8 on Fashion-MNIST
# under a BOPs target, with a summary of the configurations found against
# the homogeneous ones, ending with the configuration found run as an
# integer network on the RTL (Verilator).  usage: scripts/demo.sh PATH_TO_HETNAS
set -euo pipefail
hn="$1"
src="$(cd "$(dirname "$0")/.." && pwd)"
echo "== 1. the cost of a per-filter heterogeneous ResNet-20 (configs/resnet20_hetero.yaml)"
"$hn" bops --model resnet20 --input 3x32x32 --config "$src/configs/resnet20_hetero.yaml" --target 3,3 | tail -2
echo
run="runs/demo-$(date +%Y%m%d-%H%M%S)"
echo "== 2. searching configs/demo.yaml (ResNet-8, ops (2,2) (2,4) (3,3) (8,8), target (3,3)) into $run"
t0=$(date +%s)
"$hn" search "$src/configs/demo.yaml" --out "$run"
echo "(search and final evaluation: $(( $(date +%s) - t0 )) s)"
echo
echo "== 3. the configuration found (expected configuration), layer by layer"
"$hn" bops --model resnet8 --input 1x28x28 --config "$run/found/expected.yaml" --target 3,3 | tail -3
echo "configuration file: $run/found/expected.yaml; per-step logs: $run/steps.csv, $run/alpha.csv"
echo
echo "== 4. the configuration found on the RTL (Verilator): the searched weights under it as an"
echo "   integer network on 100 test images, logits checked bit for bit against the C oracle"
if "$hn" hw backends | grep -q '^verilator '; then
  ckpt=$(ls "$run"/checkpoints/epoch_*.safetensors | tail -1)
  "$hn" eval "$src/configs/demo.yaml" --checkpoint "$ckpt" --config "$run/found/expected.yaml" \
      --split test --backend verilator --crosscheck --limit 100
  echo "   per layer: BOPs, cycles measured on the RTL and the cycle model's, utilization"
  "$hn" hw report --model resnet8 --input 1x28x28 --config "$run/found/expected.yaml"
else
  echo "(this build has no Verilator model: install verilator and rebuild)"
fi
