/* Grid analysis (grid.h, docs/study.md "Statistics").
 *
 * Per configuration: mean, sample std and the t confidence interval of the
 * mean of the test accuracies of its finished repeats.
 *
 * The homogeneous line: the homogeneous configurations of a family sorted
 * by cost (BOPs or MACs) and joined piecewise linearly.  A heterogeneous
 * configuration of cost c between neighbours lo, hi (c_lo <= c <= c_hi,
 * lambda = (c - c_lo) / (c_hi - c_lo)) is compared with
 *     m_L = (1 - lambda) m_lo + lambda m_hi.
 * The variance used for the line is the neighbours' SAMPLE variances
 * interpolated, i.e. the spread of one training at cost c,
 *     s_L^2 = (1 - lambda) s_lo^2 + lambda s_hi^2,  n_L = (1-lambda) n_lo + lambda n_hi,
 * and the line enters the test like a sample of n_L trainings:
 *     t = (m - m_L) / sqrt(s^2/n + s_L^2/n_L).
 * (Deliberately not the smaller variance of the interpolated estimator,
 * (1-lambda)^2 s_lo^2/n_lo + lambda^2 s_hi^2/n_hi: the line is a model, not
 * a measurement at c, and at a homogeneous point this test is exactly
 * Welch's test against that point.)  s_L^2/n_L is a linear combination of
 * two independent sample variances, so the degrees of freedom are
 * Welch-Satterthwaite over the three variance terms
 *     v = { s^2/n, (1-lambda) s_lo^2/n_L, lambda s_hi^2/n_L },
 *     df = (sum v)^2 / sum (v_k^2 / (n_k - 1)).
 * Two-sided p-values, Holm-corrected over the tested configurations of the
 * family; a point outside the homogeneous cost range is not extrapolated
 * (reported, not tested). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/grid.h"
#include "hetnas/inference.h"

/* Sorts configuration indices by cost (insertion sort: a few dozen). */
static void sort_by_cost(const hn_grid *g, int *c, int n) {
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && hn_grid_cfg_at(g, c[j - 1])->cost >
                                     hn_grid_cfg_at(g, c[j])->cost; j--) {
            int t = c[j];
            c[j] = c[j - 1];
            c[j - 1] = t;
        }
}

hn_status hn_grid_analyze(const hn_grid *g, const hn_grid_log *log,
                          hn_grid_family fam, hn_grid_row **rows, int *n_rows) {
    const hn_experiment *e = hn_grid_experiment(g);
    int R = e->grid.repeats, C = hn_grid_n_cfgs(g);
    *rows = NULL;
    *n_rows = 0;
    hn_grid_row *out = calloc((size_t)C + 1, sizeof *out);
    int *homo = malloc(((size_t)C + 1) * sizeof *homo);
    double *acc = malloc(((size_t)R + 1) * sizeof *acc);
    double *p = malloc(((size_t)C + 1) * sizeof *p);
    double *adj = malloc(((size_t)C + 1) * sizeof *adj);
    if (!out || !homo || !acc || !p || !adj) {
        free(out), free(homo), free(acc), free(p), free(adj);
        return hn_fail(HN_ERR_NOMEM, "out of memory");
    }
    int n = 0, nh = 0;
    for (int c = 0; c < C; c++) {
        const hn_grid_cfg *gc = hn_grid_cfg_at(g, c);
        if (gc->family != fam) continue;
        hn_grid_row *r = &out[n++];
        r->cfg = c;
        int k = 0;
        for (int rep = 0; rep < R; rep++) {
            const hn_grid_result *res = hn_grid_log_result(log, c * R + rep);
            if (res) acc[k++] = res->test_acc;
        }
        hn_sample_summary s = hn_summarize(acc, k, e->grid.level);
        r->n = k;
        r->mean = s.mean;
        r->sd = s.sd;
        r->ci_half = s.ci_half;
        r->lo = r->hi = -1;
        r->lambda = r->line_mean = r->diff = r->t = r->df = r->p = r->p_holm = NAN;
        if (gc->homogeneous && k >= 2) homo[nh++] = n - 1; /* row index */
    }
    /* homogeneous rows by cost (row indices -> compare their configs) */
    int *hc = malloc(((size_t)nh + 1) * sizeof *hc);
    if (!hc) {
        free(out), free(homo), free(acc), free(p), free(adj);
        return hn_fail(HN_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < nh; i++) hc[i] = out[homo[i]].cfg;
    sort_by_cost(g, hc, nh);
    for (int i = 0; i < n; i++) {
        hn_grid_row *r = &out[i];
        const hn_grid_cfg *gc = hn_grid_cfg_at(g, r->cfg);
        p[i] = NAN;
        if (gc->homogeneous) { r->note = "homogeneous"; continue; }
        if (r->n < 2) { r->note = "fewer than 2 finished repeats"; continue; }
        if (nh < 1) { r->note = "no homogeneous configuration with 2 repeats"; continue; }
        double c = gc->cost;
        double cmin = hn_grid_cfg_at(g, hc[0])->cost;
        double cmax = hn_grid_cfg_at(g, hc[nh - 1])->cost;
        if (c < cmin || c > cmax) {
            r->note = "outside the homogeneous cost range (not extrapolated)";
            continue;
        }
        int a = 0;
        while (a + 1 < nh && hn_grid_cfg_at(g, hc[a + 1])->cost <= c) a++;
        int b = hn_grid_cfg_at(g, hc[a])->cost == c || a + 1 >= nh ? a : a + 1;
        const hn_grid_row *lo = NULL, *hi = NULL;
        for (int j = 0; j < n; j++) {
            if (out[j].cfg == hc[a]) lo = &out[j];
            if (out[j].cfg == hc[b]) hi = &out[j];
        }
        double clo = hn_grid_cfg_at(g, lo->cfg)->cost;
        double chi = hn_grid_cfg_at(g, hi->cfg)->cost;
        double lam = chi > clo ? (c - clo) / (chi - clo) : 0.0;
        double nL = (1 - lam) * lo->n + lam * hi->n;
        double v[3] = {r->sd * r->sd / r->n,
                       (1 - lam) * lo->sd * lo->sd / nL,
                       lam * hi->sd * hi->sd / nL};
        double df[3] = {r->n - 1.0, lo->n - 1.0, hi->n - 1.0};
        r->lo = lo->cfg;
        r->hi = hi->cfg;
        r->lambda = lam;
        r->line_mean = (1 - lam) * lo->mean + lam * hi->mean;
        hn_welch w = hn_welch_terms(r->mean - r->line_mean, 3, v, df);
        r->diff = w.diff;
        r->t = w.t;
        r->df = w.df;
        r->p = w.p;
        r->tested = true;
        p[i] = w.p;
    }
    hn_holm(p, (size_t)n, adj);
    for (int i = 0; i < n; i++) {
        out[i].p_holm = adj[i];
        out[i].significant = out[i].tested && adj[i] <= e->grid.alpha;
    }
    free(hc), free(homo), free(acc), free(p), free(adj);
    *rows = out;
    *n_rows = n;
    return HN_OK;
}
