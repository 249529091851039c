#!/usr/bin/env bash
# `make demo`: the main job on the embedded default.  Until the search
# lands: the layers and cost of a per-filter heterogeneous ResNet, then a
# few minutes of training of a small heterogeneous ResNet-8 on
# Fashion-MNIST (configs/demo.yaml), with its validation accuracy next to
# its BOPs.  usage: scripts/demo.sh PATH_TO_HETNAS
set -euo pipefail
hn="$1"
src="$(cd "$(dirname "$0")/.." && pwd)"
echo "== 1. the cost of a per-filter heterogeneous ResNet-20 (configs/resnet20_hetero.yaml)"
"$hn" bops --model resnet20 --input 3x32x32 --config "$src/configs/resnet20_hetero.yaml" --target 3,3 | tail -2
echo
run="runs/demo-$(date +%Y%m%d-%H%M%S)"
echo "== 2. training configs/demo.yaml (ResNet-8, 4 ops per layer, Fashion-MNIST) into $run"
"$hn" train "$src/configs/demo.yaml" --out "$run"
echo
echo "== 3. accuracy vs cost"
"$hn" bops --model resnet8 --input 1x28x28 --config "$run/config.yaml" --target 3,3 --json >"$run/bops.json"
python3 - "$run" <<'PY'
import json, sys
run = sys.argv[1]
r = json.load(open(run + "/results.json"))
b = json.load(open(run + "/bops.json"))
print(f"heterogeneous ResNet-8: validation top-1 {100*r['best_val_acc']:.2f}% "
      f"(test {100*r['test_acc']:.2f}%), {b['total']['bops']/1e6:.1f} MBOPs = "
      f"{b['target']['ratio']:.3f} x homogeneous (3,3)")
PY
