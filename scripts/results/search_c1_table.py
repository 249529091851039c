#!/usr/bin/python3
"""Issue 8 item 8: the C.1 search's expected configuration, retrained with
3 seeds (scripts/results/search_c1.sh), against the homogeneous line of
issue 7 (scripts/results/accuracy.sh: (2,2), (2,4), (3,3), (4,4), (8,8),
each fine-tuned from the FP32 run of the same seed by the same recipe)
interpolated at equal BOPs.  Per seed s the line's value is the piecewise
linear interpolation, in BOPs, of the seed-s homogeneous test accuracies;
Welch's t-test compares the found configuration's seeds with those values.
BOPs from `hetnas bops` (checked equal to the search's own cost column for
every configuration found.csv has).  Prints markdown.
  scripts/results/search_c1_table.py [runs] [build/hetnas]
"""
import csv
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tstats import mean_sd_ci, welch  # noqa: E402

HOMO = [("homo_w2a2", "q22", "2,2"), ("homo_w2a4", "q24", "2,4"),
        ("homo_w3a3", "q33", "3,3"), ("homo_w4a4", "q44", "4,4"),
        ("homo_w8a8", "q88", "8,8")]


def bops(hn, *args):
    out = subprocess.run([hn, "bops", "--model", "resnet20", "--input", "1x28x28",
                          "--json", *args], check=True, capture_output=True,
                         text=True).stdout
    return float(json.loads(out)["total"]["bops"])


def acc(path):
    try:
        return 100 * json.load(open(os.path.join(path, "results.json")))["test_acc"]
    except OSError:
        return None


def interp(pts, x):
    """Piecewise linear through (x, y) points sorted by x, clamped."""
    pts = sorted(pts)
    if x <= pts[0][0]:
        return pts[0][1]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return pts[-1][1]


def main():
    runs = sys.argv[1] if len(sys.argv) > 1 else "runs"
    sd = os.path.join(runs, "search_c1_ops4")
    found = {r["name"]: r for r in csv.DictReader(open(os.path.join(sd, "found.csv")))}
    m = json.load(open(os.path.join(sd, "manifest.json")))
    print(f"search: {m.get('start')} -> {m.get('end')} ({m.get('status')})")
    hn = sys.argv[2] if len(sys.argv) > 2 else "build/hetnas"
    cost = {hname: bops(hn, "--homogeneous", op) for hname, _, op in HOMO}
    cost["expected"] = bops(hn, "--config", os.path.join(sd, "found", "expected.yaml"))
    for n, r in found.items():
        if n in cost:
            assert abs(cost[n] - float(r["cost"])) <= 1e-9 * cost[n], (n, cost[n], r["cost"])
    seeds = (1, 2, 3)
    line = {hname: [acc(os.path.join(runs, f"fmnist_resnet20_{run}_s{s}")) for s in seeds]
            for hname, run, _ in HOMO}
    e = [acc(os.path.join(runs, f"search_c1_ops4_expected_s{s}")) for s in seeds]
    print()
    print("| configuration | BOPs / BOPs(3,3) | test top-1 per seed (1, 2, 3) | mean +- std | 0.6827 CI |")
    print("|---|---:|---|---|---|")
    t33 = cost["homo_w3a3"]
    rows = [(hname, cost[hname], v) for hname, v in line.items()] + [("expected (found)", cost["expected"], e)]
    for name, c, v in sorted(rows, key=lambda r: r[1]):
        vv = [x for x in v if x is not None]
        per = ", ".join("-" if x is None else f"{x:.2f}" for x in v)
        if len(vv) >= 2:
            mm, s, h = mean_sd_ci(vv)
            print(f"| {name} | {c / t33:.3f} | {per} | {mm:.2f} +- {s:.2f} | [{mm - h:.2f}, {mm + h:.2f}] |")
        else:
            print(f"| {name} | {c / t33:.3f} | {per} | - | - |")
    # the line at the found configuration's BOPs, per seed
    lv = []
    for i, s in enumerate(seeds):
        pts = [(cost[hn], v[i]) for hn, v in line.items() if v[i] is not None]
        lv.append(interp(pts, cost["expected"]) if len(pts) >= 2 else None)
    pairs = [(a, b) for a, b in zip(e, lv) if a is not None and b is not None]
    print()
    if len(pairs) >= 2:
        a, b = [p[0] for p in pairs], [p[1] for p in pairs]
        t, dof, p = welch(a, b)
        ma, mb = sum(a) / len(a), sum(b) / len(b)
        print(f"line at the found BOPs per seed: {', '.join(f'{x:.2f}' for x in b)}; "
              f"found - line = {ma - mb:+.2f} points; Welch t = {t:.3f}, "
              f"dof = {dof:.2f}, p = {p:.3f} ({'significant' if p < 0.05 else 'not significant'} at 0.05)")
    else:
        print("fewer than two seeds with both the found configuration and the line")


if __name__ == "__main__":
    main()
