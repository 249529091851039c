#!/usr/bin/python3
"""Table of scripts/results/hil.sh: per search (cost metric, seed) and per
configuration found (expected, samples; the homogeneous ones as the line),
its BOPs and cycles per image measured on the Verilator array, utilization,
and the integer network's validation and test top-1 (cpuint, whole splits),
plus how far the expected configurations of the two metrics differ (share
of filters with another op).  Prints markdown.
  scripts/results/hil_table.py [runs/hil]
"""
import csv
import glob
import json
import os
import sys

import yaml  # python3-yaml (Debian), as the other result scripts


def counts(path):
    """Per layer, the filter count of each op of a configuration file."""
    return yaml.safe_load(open(path))["layers"]


def moved(a, b):
    """Share of filters whose op differs between two count configurations
    of the same layers (half the L1 distance of the counts)."""
    tot = sum(sum(l) for l in a)
    d = sum(abs(x - y) for la, lb in zip(a, b) for x, y in zip(la, lb))
    return d / 2 / tot, tot


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "runs/hil"
    rows = []
    for d in sorted(glob.glob(os.path.join(root, "*_s*"))):
        metric, seed = os.path.basename(d).rsplit("_s", 1)
        fc = os.path.join(d, "found.csv")
        if not os.path.exists(fc):
            continue
        for r in csv.DictReader(open(fc)):
            hw = os.path.join(d, "found", r["name"] + ".hw.json")
            if not os.path.exists(hw):
                continue
            t = json.load(open(hw))["total"]
            assert t["cycles"] == t["model_cycles"], (hw, t)
            rows.append(dict(metric=metric, seed=int(seed), name=r["name"],
                             bops=t["bops"], cycles=t["cycles"],
                             util=t["utilization"], val=float(r["val_acc"]),
                             test=float(r["test_acc"]),
                             agree=float(r["val_agree"]),
                             cfg=os.path.join(d, r["config"])))
    print("| cost | seed | configuration | MBOPs | cycles / image (RTL) | "
          "utilization | val top-1 (int) | test top-1 (int) | val agreement |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['metric']} | {r['seed']} | {r['name']} | {r['bops'] / 1e6:.1f} | "
              f"{r['cycles']:,} | {r['util']:.3f} | "
              f"{100 * r['val']:.2f}% | {100 * r['test']:.2f}% | {100 * r['agree']:.2f}% |")
    # expected configurations: the two metrics side by side per seed
    print()
    for seed in sorted({r["seed"] for r in rows}):
        e = {r["metric"]: r for r in rows if r["seed"] == seed and r["name"] == "expected"}
        if len(e) != 2:
            continue
        diff, tot = moved(counts(e["bops"]["cfg"]), counts(e["cycles"]["cfg"]))
        print(f"seed {seed}: the expected configurations differ in "
              f"{100 * diff:.1f}% of {tot} filters; BOPs {e['bops']['bops'] / 1e6:.1f} "
              f"vs {e['cycles']['bops'] / 1e6:.1f} M, cycles {e['bops']['cycles']:,} vs "
              f"{e['cycles']['cycles']:,}")

if __name__ == "__main__":
    main()
