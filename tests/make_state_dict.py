#!/usr/bin/env python3
"""Writes a random CIFAR ResNet state_dict as safetensors without torch or
numpy (struct only), in one of the naming styles hetnas import accepts.
usage: make_state_dict.py OUT DEPTH STYLE SEED [IN_C]
  STYLE = torchvision (downsample.0/1, fc) | optiona (no shortcut tensors, linear)"""
import json
import random
import struct
import sys


def main():
    out, depth, style, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    in_c = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    rng = random.Random(seed)
    n = (depth - 2) // 6
    T = []  # (name, shape, dtype)

    def conv(name, co, ci, k):
        T.append((name + ".weight", [co, ci, k, k], "F32"))

    def bn(name, c):
        for s in ("weight", "bias", "running_mean", "running_var"):
            T.append((f"{name}.{s}", [c], "F32"))
        T.append((f"{name}.num_batches_tracked", [], "I64"))

    conv("conv1", 16, in_c, 3)
    bn("bn1", 16)
    c = 16
    for s in (1, 2, 3):
        cs = 16 << (s - 1)
        for b in range(n):
            p = f"layer{s}.{b}"
            conv(p + ".conv1", cs, c, 3); bn(p + ".bn1", cs)
            conv(p + ".conv2", cs, cs, 3); bn(p + ".bn2", cs)
            if b == 0 and s > 1 and style == "torchvision":
                conv(p + ".downsample.0", cs, c, 1); bn(p + ".downsample.1", cs)
            c = cs
    fc = "fc" if style == "torchvision" else "linear"
    T.append((fc + ".weight", [10, 64], "F32"))
    T.append((fc + ".bias", [10], "F32"))
    header, blobs, off = {}, [], 0
    for name, shape, dt in T:
        numel = 1
        for d in shape:
            numel *= d
        if dt == "F32":
            if name.endswith("running_var"):
                vals = [rng.uniform(0.5, 2.0) for _ in range(numel)]
            else:
                vals = [rng.gauss(0, 0.2) for _ in range(numel)]
            blob = struct.pack(f"<{numel}f", *vals)
        else:
            blob = struct.pack("<q", 100)
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(blob)]}
        blobs.append(blob)
        off += len(blob)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


if __name__ == "__main__":
    main()
