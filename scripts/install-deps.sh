#!/usr/bin/env bash
# Installs hetnas's build and test dependencies from Debian 12 packages.
# Idempotent and quick when everything is present: dpkg is asked first, apt only
# runs for what is missing.  --bench adds the benchmarks' peers: PyTorch
# (Debian) and ONNX Runtime (npm's onnxruntime-node into bench/node_modules).
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config
  libyaml-dev libcmocka-dev zlib1g-dev clang libclang-rt-14-dev
  verilator yosys
  opencl-headers ocl-icd-opencl-dev pocl-opencl-icd
  libxrt-dev
  libopenblas-dev libdnnl-dev
  openmpi-bin libopenmpi-dev
  dataset-fashion-mnist gnuplot-nox
  python3
)
bench=0
for a in "$@"; do
  case "$a" in
    --bench) pkgs+=(python3-torch python3-numpy); bench=1
             # Node.js may come from elsewhere (NodeSource's nodejs carries
             # npm and conflicts with Debian's npm): Debian's only if absent
             command -v npm >/dev/null || pkgs+=(nodejs npm) ;;
    -h|--help) echo "usage: $0 [--bench]"; exit 0 ;;
    *) echo "install-deps.sh: unknown option '$a' (try --help)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps.sh: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ $bench -eq 1 ] && [ ! -f "$(dirname "$0")/../bench/node_modules/onnxruntime-node/package.json" ]; then
  # --ignore-scripts: the package's postinstall downloads GPU binaries from a
  # host this machine cannot reach; the CPU binaries ship in the package
  echo "install-deps.sh: npm install --ignore-scripts in bench/ (onnxruntime-node)"
  (cd "$(dirname "$0")/../bench" && npm install --ignore-scripts --no-audit --no-fund)
fi
