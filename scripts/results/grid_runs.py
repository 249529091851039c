#!/usr/bin/env python3
"""Every run of a `hetnas grid` directory as a markdown table (docs/results.md):
per configuration, each repeat's seed, test accuracy at the best validation
epoch, that epoch, and whether it stopped early.
usage: grid_runs.py RUN_DIR"""
import csv
import json
import sys
from collections import defaultdict


def main(run_dir):
    runs = defaultdict(list)
    with open(f"{run_dir}/grid.jsonl") as f:
        for line in f:
            r = json.loads(line)
            runs[r["config"]].append(r)
    labels = {}
    for path in ("grid_quant.csv", "grid_prune.csv"):
        try:
            with open(f"{run_dir}/{path}") as f:
                for row in csv.DictReader(f):
                    labels[row["config"]] = row["label"]
        except FileNotFoundError:
            pass
    print("| config | label | repeat: seed -> test % (best val epoch) |")
    print("|---|---|---|")
    for cfg in sorted(runs):
        cells = []
        for r in sorted(runs[cfg], key=lambda r: r["repeat"]):
            stop = ", early stop" if r["early_stopped"] else ""
            cells.append(f"r{r['repeat']}: {r['seed']} -> {100 * r['test_acc']:.2f} "
                         f"({r['best_epoch']}/{r['epochs']}{stop})")
        print(f"| {cfg} | {labels.get(cfg, '')} | {'; '.join(cells)} |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
