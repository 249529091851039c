#!/usr/bin/env python3
"""Regenerates the hardware job fixtures of this directory and their expected
accumulators with an independent direct convolution in Python (no hetnas
code).  Usage: python3 gen_fixtures.py [outdir]  (default: this directory).
small.json's result is also written out by hand in tests/e2e_hw_run.sh.
Activation codes are MSB-aligned (docs/formats.md): a b-bit channel counts
code << (B - b), B = the job's largest activation bits."""
import json
import os
import random
import sys


def conv(job):
    k, s, p = job["k"], job["stride"], job["pad"]
    H, W = job["in_h"], job["in_w"]
    ci = sum(g["channels"] for g in job["in_groups"])
    co = sum(g["filters"] for g in job["out_groups"])
    oh, ow = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
    w, a, out = job["weights"], job["acts"], []
    # MSB-aligned codes: a b-bit channel counts code << (B - b).
    B = max(g["bits"] for g in job["in_groups"])
    sh = [B - g["bits"] for g in job["in_groups"] for _ in range(g["channels"])]
    for f in range(co):
        for y in range(oh):
            for x in range(ow):
                t = 0
                for c in range(ci):
                    for ky in range(k):
                        for kx in range(k):
                            iy, ix = y * s + ky - p, x * s + kx - p
                            if 0 <= iy < H and 0 <= ix < W:
                                t += w[((f * ci + c) * k + ky) * k + kx] * (a[(c * H + iy) * W + ix] << sh[c])
                out.append(t)
    return oh, ow, out


def random_job(seed, k, stride, pad, H, W, ig, og):
    r = random.Random(seed)
    job = {"k": k, "stride": stride, "pad": pad, "in_h": H, "in_w": W,
           "in_groups": ig, "out_groups": og}
    ci = sum(g["channels"] for g in ig)
    ws = []
    for g in og:
        b = g["bits"]
        for _ in range(g["filters"] * ci * k * k):
            ws.append(r.choice([-1, 1]) if b == 1 else
                      r.randint(-(2 ** (b - 1) - 1), 2 ** (b - 1) - 1))
    acts = []
    for g in ig:
        for _ in range(g["channels"] * H * W):
            acts.append(r.randint(0, 2 ** g["bits"] - 1))
    job["weights"], job["acts"] = ws, acts
    return job


def write(outdir, name, job, expected):
    with open(os.path.join(outdir, name + ".json"), "w") as f:
        f.write("{\n" + ",\n".join('  "%s": %s' % (k, json.dumps(v)) for k, v in job.items()) + "\n}\n")
    if expected:
        oh, ow, out = conv(job)
        with open(os.path.join(outdir, name + ".expected.json"), "w") as f:
            f.write(json.dumps({"out_h": oh, "out_w": ow, "acc": out}, separators=(",", ":")) + "\n")


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    small = {"k": 3, "stride": 1, "pad": 1, "in_h": 3, "in_w": 3,
             "in_groups": [{"channels": 1, "bits": 4}, {"channels": 1, "bits": 1}],
             "out_groups": [{"filters": 1, "bits": 3}, {"filters": 1, "bits": 1}],
             "weights": [1, 0, -1, 2, 0, -2, 1, 0, -1] + [0] * 9 + [1] * 9 + [-1] * 9,
             "acts": list(range(1, 10)) + [1, 0, 1, 0, 1, 0, 1, 0, 1]}
    write(outdir, "small", small, False)
    # 3 input groups (70 channels cross a 64-bit word), 4 filter groups
    # including binary weights, stride 2.
    write(outdir, "mixed", random_job(
        4, 3, 2, 1, 7, 6,
        [{"channels": 70, "bits": 3}, {"channels": 5, "bits": 8}, {"channels": 1, "bits": 1}],
        [{"filters": 3, "bits": 2}, {"filters": 4, "bits": 8}, {"filters": 2, "bits": 1},
         {"filters": 1, "bits": 5}]), True)
    # Two input groups, no binary weights.
    write(outdir, "multibit", random_job(
        8, 3, 1, 1, 9, 8,
        [{"channels": 21, "bits": 2}, {"channels": 9, "bits": 7}],
        [{"filters": 5, "bits": 2}, {"filters": 2, "bits": 8}, {"filters": 3, "bits": 4}]), True)


if __name__ == "__main__":
    main()
