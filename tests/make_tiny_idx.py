#!/usr/bin/env python3
"""Writes a tiny, learnable MNIST-format dataset (gzip IDX) for end-to-end
tests: class k has a bright 6x6 square at a class-dependent place plus
noise.  usage: make_tiny_idx.py DIR N_TRAIN N_TEST SEED"""
import gzip
import random
import struct
import sys


def images(rng, n, labels):
    out = bytearray()
    for i in range(n):
        k = labels[i]
        y0, x0 = 2 + (k // 5) * 12, 2 + (k % 5) * 5
        img = [rng.randrange(0, 60) for _ in range(28 * 28)]
        for y in range(y0, y0 + 6):
            for x in range(x0, min(x0 + 6, 28)):
                img[y * 28 + x] = rng.randrange(180, 256)
        out += bytes(img)
    return out


def write(path, magic, dims, payload):
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">I", magic))
        for d in dims:
            f.write(struct.pack(">I", d))
        f.write(payload)


def main():
    d, ntr, nte, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    rng = random.Random(seed)
    for prefix, n in (("train", ntr), ("t10k", nte)):
        labels = [rng.randrange(10) for _ in range(n)]
        write(f"{d}/{prefix}-images-idx3-ubyte.gz", 0x803, (n, 28, 28), images(rng, n, labels))
        write(f"{d}/{prefix}-labels-idx1-ubyte.gz", 0x801, (n,), bytes(labels))


if __name__ == "__main__":
    main()
