#!/usr/bin/python3
"""scripts/results/tstats.py against published values: Student t quantiles
(two-sided 95%: df 2 -> 4.303, df 4 -> 2.776, df 10 -> 2.228; one-sided
95% at df 5 -> 2.015; 0.6827 two-sided at df 2 -> 1.321), and Welch's test
on a worked example by hand: a = 1..4 (mean 2.5, var 5/3), b = 2,4,..,10
(mean 6, var 10): se^2 = 5/12 + 2, t = -3.5 / sqrt(29/12) = -2.25144,
dof = (29/12)^2 / ((5/12)^2 / 3 + 2^2 / 4) = 5.52088; its p is checked
through the CDF the quantiles were checked with."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "scripts", "results"))
from tstats import mean_sd_ci, t_cdf, t_quantile, welch  # noqa: E402

def near(a, b, tol):
    assert abs(a - b) <= tol, (a, b)

near(t_quantile(0.975, 2), 4.3027, 1e-3)
near(t_quantile(0.975, 4), 2.7764, 1e-3)
near(t_quantile(0.5 + 0.6827 / 2, 2), 1.3213, 2e-3)
near(t_quantile(0.975, 10), 2.2281, 1e-3)
near(t_quantile(0.95, 5), 2.0150, 1e-3)
t, dof, p = welch([1, 2, 3, 4], [2, 4, 6, 8, 10])
near(t, -3.5 / (29 / 12) ** 0.5, 1e-9)
near(dof, (29 / 12) ** 2 / ((5 / 12) ** 2 / 3 + 1), 1e-9)
near(t_quantile(1 - p / 2, dof), abs(t), 1e-6)
assert 0.05 < p < 0.1, p  # |t| = 2.25 lies between t_.95 and t_.975 at ~5.5 dof
m, sd, h = mean_sd_ci([1.0, 2.0, 3.0])
near(m, 2.0, 1e-12); near(sd, 1.0, 1e-12); near(h, 1.3213 / 3 ** 0.5, 2e-3)
print("results_tstats: all passed")
