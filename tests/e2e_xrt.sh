#!/usr/bin/env bash
# The xrt backend's error paths (no Alveo card can exist here): every
# condition that makes Debian's XRT abort or that has no device becomes a
# clear error and exit 1 (2 for a missing --xclbin), never an abort: XILINX_XRT unset, a tree without
# lib/libxrt_core.so.2, a missing xclbin, a file that is not an xclbin, no
# device (XRT answering "could not open device"), and an XRT that aborts
# while opening (caught in the forked probe).  A build without XRT must say
# "not in this build".  The kernel-run timeout needs a card: not covered.
# $1 = hetnas binary, $2 = source dir.
set -u
HN="$1"; SRC="$2"
J="$SRC/tests/data/hw/mixed.json"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
expect() { # name exit pattern [env...] -- args...
    local name=$1 want=$2 pat=$3; shift 3
    local envs=()
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    env "${envs[@]}" "$HN" hw run --job "$J" --backend xrt "$@" >"$tmp/out" 2>&1; local rc=$?
    if [ $rc -eq "$want" ] && grep -q -- "$pat" "$tmp/out"; then ok "$name"
    else bad "$name (exit $rc)"; cat "$tmp/out"; fi
}
if ! "$HN" hw backends | grep -q '^xrt '; then
  "$HN" hw run --job "$J" --backend xrt >"$tmp/out" 2>&1; rc=$?
  { [ $rc -eq 1 ] && grep -q "not in this build" "$tmp/out"; } \
    && ok "xrt not in this build: clear error" || { bad "xrt absent"; cat "$tmp/out"; }
  exit $fail
fi
mkdir -p "$tmp/nolib" "$tmp/xrt/lib" "$tmp/broken/lib"
LIBXRT=$(ls /usr/lib/*/libxrt_core.so.2 /opt/xilinx/xrt/lib/libxrt_core.so.2 2>/dev/null | head -1)
[ -n "$LIBXRT" ] || { bad "libxrt_core.so.2 not found (the build has XRT)"; exit 1; }
ln -s "$LIBXRT" "$tmp/xrt/lib/libxrt_core.so.2"
cp "$(ls /usr/lib/*/libz.so.1 /lib/*/libz.so.1 2>/dev/null | head -1)" "$tmp/broken/lib/libxrt_core.so.2"
echo "not a kernel" >"$tmp/bad.xclbin"
printf 'xclbin2\0%040d' 0 >"$tmp/fake.xclbin"
expect "XILINX_XRT unset" 1 "XILINX_XRT is not set" -u XILINX_XRT -- --xclbin "$tmp/fake.xclbin"
expect "XILINX_XRT without its library" 1 "has no lib/libxrt_core.so.2" XILINX_XRT="$tmp/nolib" -- --xclbin "$tmp/fake.xclbin"
expect "no --xclbin (a usage error)" 2 "no xclbin given" XILINX_XRT="$tmp/xrt" --
expect "missing xclbin" 1 "cannot open the xclbin $tmp/none.xclbin" XILINX_XRT="$tmp/xrt" -- --xclbin "$tmp/none.xclbin"
expect "not an xclbin" 1 "is not an xclbin" XILINX_XRT="$tmp/xrt" -- --xclbin "$tmp/bad.xclbin"
expect "no device" 1 "no device with index 3" XILINX_XRT="$tmp/xrt" -- --xclbin "$tmp/fake.xclbin" --device 3
expect "XRT aborting while opening" 1 "an abort inside XRT" XILINX_XRT="$tmp/broken" -- --xclbin "$tmp/fake.xclbin"
exit $fail
