#!/usr/bin/env python3
"""Issue 7's accuracy table from the runs of scripts/results/accuracy.sh:
per configuration the test accuracy of every seed, mean +- std (n-1) and
the 0.6827 confidence interval of the mean (Student t, n-1 dof), plus the
best validation accuracy the checkpoint was chosen by.  Prints Markdown.
Only finished runs (results.json) count; the number of seeds is shown.
  scripts/results/accuracy_table.py [runs]"""
import json, math, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tstats import t_quantile  # noqa: E402

def load(path):
    try: return json.load(open(path))
    except OSError: return None

runs = sys.argv[1] if len(sys.argv) > 1 else "runs"
rows = [("FP32", ["fmnist_resnet20_fp32", "fmnist_resnet20_fp32_s2", "fmnist_resnet20_fp32_s3"])]
for c, name in [("q88", "(8,8)"), ("q44", "(4,4)"), ("q33", "(3,3)"), ("q24", "(2,4)"),
                ("q22", "(2,2)"), ("hetero", "hetero (resnet20_hetero.yaml)"),
                ("hetero_w1", "hetero, 1-bit weights (resnet20_hetero_w1.yaml)")]:
    rows.append((name, ["fmnist_resnet20_%s_s%d" % (c, s) for s in (1, 2, 3)]))
p = 0.5 + 0.6827 / 2
print("| configuration | seeds | test acc per seed (1, 2, 3) | mean +- std | 0.6827 CI of the mean | best val acc per seed |")
print("|---|---:|---|---|---|---|")
for name, dirs in rows:
    res = [load(os.path.join(runs, d, "results.json")) for d in dirs]
    acc = [100 * r["test_acc"] for r in res if r]
    val = [100 * r["best_val_acc"] for r in res if r]
    per = ", ".join("%.2f" % (100 * r["test_acc"]) if r else "-" for r in res)
    pv = ", ".join("%.2f" % (100 * r["best_val_acc"]) if r else "-" for r in res)
    n = len(acc)
    if n == 0:
        print("| %s | 0 | - | - | - | - |" % name); continue
    m = sum(acc) / n
    if n > 1:
        sd = math.sqrt(sum((a - m) ** 2 for a in acc) / (n - 1))
        h = t_quantile(p, n - 1) * sd / math.sqrt(n)
        print("| %s | %d | %s | %.2f +- %.2f | [%.2f, %.2f] | %s |" % (name, n, per, m, sd, m - h, m + h, pv))
    else:
        print("| %s | 1 | %s | %.2f (one seed) | - | %s |" % (name, per, m, pv))
