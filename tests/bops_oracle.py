#!/usr/bin/env python3
"""Independent re-implementation of DESIGN.md's BOPs contract, used by
e2e_bops.sh to check `hetnas bops --json` on random heterogeneous
configurations.  Usage: bops_oracle.py HETNAS_BIN N_CONFIGS SEED"""
import json
import math
import os
import random
import subprocess
import sys
import tempfile


def resnet_layers(depth, c_in, h, w):
    n = (depth - 2) // 6
    out = lambda x, k, s, p: (x + 2 * p - k) // s + 1
    L = [dict(name="stem", role="stem", cin=c_in, cout=16, k=3, s=1, h=h, w=w)]
    blocks = []
    c = 16
    for s in (1, 2, 3):
        cs = 16 << (s - 1)
        for b in range(n):
            st = 2 if (b == 0 and s > 1) else 1
            i1 = len(L)
            L.append(dict(name=f"s{s}.b{b}.conv1", role="conv1", cin=c, cout=cs, k=3, s=st, h=h, w=w))
            h2, w2 = out(h, 3, st, 1), out(w, 3, st, 1)
            i2 = len(L)
            L.append(dict(name=f"s{s}.b{b}.conv2", role="conv2", cin=cs, cout=cs, k=3, s=1, h=h2, w=w2))
            dn = None
            if st == 2:
                dn = len(L)
                L.append(dict(name=f"s{s}.b{b}.down", role="down", cin=c, cout=cs, k=1, s=2, h=h, w=w))
            blocks.append((i1, i2, dn))
            c, h, w = cs, h2, w2
    for l in L:
        p = l["k"] // 2
        l["oh"], l["ow"] = out(l["h"], l["k"], l["s"], p), out(l["w"], l["k"], l["s"], p)
    return L, blocks


def bops(L, blocks, ops, counts, input_bits=8):
    def out_bits(l):  # per output channel b_a of layer l
        bits = []
        for t, cnt in enumerate(counts[l]):
            bits += [ops[t][1]] * cnt
        return bits

    def wbits(l):
        bits = []
        for t, cnt in enumerate(counts[l]):
            bits += [ops[t][0]] * cnt
        return bits

    # channel bits entering each block; all widths are full here
    block_in = []
    cur = out_bits(0)
    for (i1, i2, dn) in blocks:
        block_in.append(cur)
        cur = out_bits(i2)
    res = []
    for li, l in enumerate(L):
        if l["role"] == "stem":
            ib = [input_bits] * l["cin"]
        elif l["role"] == "conv2":
            ib = out_bits(li - 1)
        else:
            bi = [j for j, b in enumerate(blocks) if li in (b[0], b[2])][0]
            ib = block_in[bi]
        k2 = l["k"] ** 2
        hw = l["oh"] * l["ow"]
        cin = len(ib)
        comp = mem = 0
        for bw in wbits(li):
            M = 2 ** bw * k2 * sum(2 ** b for b in ib)
            aw = (M - 1).bit_length()  # ceil(log2(M)), exact on integers
            B = k2 * (cin * aw + sum(ib) * bw)
            comp += hw * B
            mem += cin * k2 * bw
        res.append(dict(name=l["name"], macs=hw * k2 * cin * l["cout"],
                        bops_compute=comp, bops_memory=mem, bops=comp + mem))
    return res


def main():
    exe, n_cfg, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    L, blocks = resnet_layers(20, 3, 32, 32)
    fails = 0
    with tempfile.TemporaryDirectory() as td:
        for it in range(n_cfg):
            T = rng.randint(1, 5)
            ops = [[rng.randint(1, 16), rng.randint(1, 16)] for _ in range(T)]
            counts = []
            for l in L:
                cuts = sorted(rng.randint(0, l["cout"]) for _ in range(T - 1))
                row = [b - a for a, b in zip([0] + cuts, cuts + [l["cout"]])]
                counts.append(row)
            path = os.path.join(td, f"c{it}.yaml")
            with open(path, "w") as f:
                f.write("ops: %s\nlayers:\n" % json.dumps(ops))
                for row in counts:
                    f.write("  - %s\n" % json.dumps(row))
            ib = rng.choice([8, 4, 16])
            got = json.loads(subprocess.run(
                [exe, "bops", "--model", "resnet20", "--input", "3x32x32", "--config", path,
                 "--input-bits", str(ib), "--json"],
                check=True, capture_output=True, text=True).stdout)
            want = bops(L, blocks, ops, counts, ib)
            assert set(got) == {"model", "input", "layers", "total"}, got.keys()
            assert got["model"] == "resnet20" and got["input"] == [3, 32, 32]
            for g, w in zip(got["layers"], want):
                assert set(g) == {"name", "macs", "bops_compute", "bops_memory", "bops"}
                if g != w:
                    print(f"config {it}: layer {w['name']}: got {g}, want {w}")
                    fails += 1
            tot = {k: sum(w[k] for w in want) for k in ("macs", "bops_compute", "bops_memory", "bops")}
            if got["total"] != tot:
                print(f"config {it}: total got {got['total']} want {tot}")
                fails += 1
    print(f"bops_oracle: {n_cfg} random configurations, {fails} mismatches")
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
