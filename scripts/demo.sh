#!/usr/bin/env bash
# `make demo`: the main job on the embedded default.  For now (until the
# search lands) it prints the layers of ResNet-20 and the cost of a
# per-filter heterogeneous configuration next to the homogeneous (3,3)
# target.  usage: scripts/demo.sh PATH_TO_HETNAS
set -euo pipefail
hn="$1"
src="$(cd "$(dirname "$0")/.." && pwd)"
echo "== hetnas demo: ResNet-20 on 3x32x32, searchable layers"
"$hn" layers --model resnet20 --input 3x32x32
echo
echo "== cost of configs/resnet20_hetero.yaml (ops (2,2),(2,4),(3,3),(8,8)) vs homogeneous (3,3)"
"$hn" bops --model resnet20 --input 3x32x32 --config "$src/configs/resnet20_hetero.yaml" --target 3,3
