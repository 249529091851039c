/* Complexity loss (paper eq. 4-5) and the interpolation loss (C.5). */
#include "hetnas/closs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/hwreport.h"

static const char *sigma_names[] = {"identity", "square", "hinge", "sigmoid"};
static const char *metric_names[] = {"bops", "macs", "cycles"};
static const char *isigma_names[] = {"identity", "sigmoid", "leaky_relu",
                                     "reference"};

static int lookup(const char *s, const char *const *names, int n) {
    for (int i = 0; i < n; i++)
        if (s && strcmp(s, names[i]) == 0) return i;
    return -1;
}

hn_status hn_closs_sigma_parse(const char *s, hn_closs_sigma *out) {
    int i = lookup(s, sigma_names, 4);
    if (i < 0)
        return hn_fail(HN_ERR_INVAL, "complexity loss: unknown sigma '%s' "
                       "(expected identity, square, hinge or sigmoid)",
                       s ? s : "(null)");
    *out = (hn_closs_sigma)i;
    return HN_OK;
}

const char *hn_closs_sigma_name(hn_closs_sigma s) {
    return (unsigned)s < 4 ? sigma_names[s] : "?";
}

hn_status hn_closs_metric_parse(const char *s, hn_closs_metric *out) {
    int i = lookup(s, metric_names, 3);
    if (i < 0)
        return hn_fail(HN_ERR_INVAL, "complexity loss: unknown metric '%s' "
                       "(expected bops, macs or cycles)", s ? s : "(null)");
    *out = (hn_closs_metric)i;
    return HN_OK;
}

const char *hn_closs_metric_name(hn_closs_metric m) {
    return (unsigned)m < 3 ? metric_names[m] : "?";
}

hn_status hn_iloss_sigma_parse(const char *s, hn_iloss_sigma *out) {
    int i = lookup(s, isigma_names, 4);
    if (i < 0)
        return hn_fail(HN_ERR_INVAL, "interpolation loss: unknown sigma '%s' "
                       "(expected identity, sigmoid, leaky_relu or reference)",
                       s ? s : "(null)");
    *out = (hn_iloss_sigma)i;
    return HN_OK;
}

const char *hn_iloss_sigma_name(hn_iloss_sigma s) {
    return (unsigned)s < 4 ? isigma_names[s] : "?";
}

static double sigmoid(double x) {
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

static double leaky(double x) { return x >= 0 ? x : 0.1 * x; }

double hn_closs_sigma_apply(hn_closs_sigma s, double r) {
    switch (s) {
    case HN_CLOSS_IDENTITY: return r;
    case HN_CLOSS_SQUARE: return r * r;
    case HN_CLOSS_HINGE: return r > 1.0 ? r - 1.0 : 0.0;
    case HN_CLOSS_SIGMOID: return sigmoid(r - 1.0);
    }
    return NAN;
}

hn_status hn_closs_check(const hn_closs *c) {
    if ((unsigned)c->sigma > HN_CLOSS_SIGMOID)
        return hn_fail(HN_ERR_INVAL, "complexity loss: unknown sigma %d",
                       (int)c->sigma);
    if (!(c->lambda >= 0.0) || !isfinite(c->lambda))
        return hn_fail(HN_ERR_RANGE, "complexity loss: lambda %g must be a "
                       "finite value >= 0", c->lambda);
    if (!(c->target > 0.0) || !isfinite(c->target))
        return hn_fail(HN_ERR_RANGE, "complexity loss: target cost %g must be "
                       "> 0", c->target);
    return HN_OK;
}

hn_status hn_closs_eval(const hn_closs *c, double l_acc, double cost,
                        double *loss, double *l_com) {
    HN_TRY(hn_closs_check(c));
    if (!(cost >= 0.0) || !isfinite(cost))
        return hn_fail(HN_ERR_RANGE, "complexity loss: cost %g must be >= 0",
                       cost);
    if (!isfinite(l_acc))
        return hn_fail(HN_ERR_RANGE, "complexity loss: accuracy loss %g is "
                       "not finite", l_acc);
    double com = hn_closs_sigma_apply(c->sigma, cost / c->target);
    if (l_com) *l_com = com;
    *loss = l_acc + c->lambda * com;
    return HN_OK;
}

hn_status hn_closs_cost(const hn_arch *a, const hn_config *cfg,
                        const hn_cost_opts *o, hn_closs_metric m,
                        double *out) {
    if ((unsigned)m > HN_CLOSS_CYCLES)
        return hn_fail(HN_ERR_INVAL, "complexity loss: unknown metric %d",
                       (int)m);
    hn_cost_opts def = hn_cost_opts_default();
    if (!o) o = &def;
    if (m == HN_CLOSS_CYCLES) {
        hn_array_params p = hn_array_params_default();
        uint64_t total = 0;
        HN_TRY(hn_hwreport_model(a, cfg, o->input_bits, &p, NULL, &total));
        *out = (double)total;
        return HN_OK;
    }
    int n = hn_arch_n_layers(a) + (o->include_fc ? 1 : 0);
    hn_layer_cost *per = malloc(sizeof *per * (size_t)n), total;
    if (!per) return hn_fail(HN_ERR_NOMEM, "complexity loss: out of memory");
    hn_status s = hn_cost_network(a, cfg, o, per, &total);
    free(per);
    if (s != HN_OK) return s;
    *out = (double)(m == HN_CLOSS_BOPS ? total.bops : total.macs);
    return HN_OK;
}

/* ---- interpolation ------------------------------------------------------ */

struct hn_interp {
    int n;
    double *cost; /* (n) ascending */
    double *ce;   /* (n) */
};

void hn_interp_free(hn_interp *it) {
    if (!it) return;
    free(it->cost);
    free(it->ce);
    free(it);
}

hn_status hn_interp_new(int n, const double *cost, const double *ce,
                        hn_interp **out) {
    *out = NULL;
    if (n < 1)
        return hn_fail(HN_ERR_RANGE, "interpolation loss: %d points, need "
                       ">= 1", n);
    for (int i = 0; i < n; i++) {
        if (!(cost[i] >= 0.0) || !isfinite(cost[i]))
            return hn_fail(HN_ERR_RANGE, "interpolation loss: point %d: cost "
                           "%g must be finite and >= 0", i, cost[i]);
        if (!isfinite(ce[i]))
            return hn_fail(HN_ERR_RANGE, "interpolation loss: point %d: CE %g "
                           "is not finite", i, ce[i]);
    }
    hn_interp *it = calloc(1, sizeof *it);
    if (!it) return hn_fail(HN_ERR_NOMEM, "interpolation loss: out of memory");
    it->n = n;
    it->cost = malloc(sizeof(double) * (size_t)n);
    it->ce = malloc(sizeof(double) * (size_t)n);
    if (!it->cost || !it->ce) {
        hn_interp_free(it);
        return hn_fail(HN_ERR_NOMEM, "interpolation loss: out of memory");
    }
    /* Insertion sort by cost (a handful of points); equal costs are an
     * error since the fit would be ambiguous. */
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && it->cost[j - 1] > cost[i]) {
            it->cost[j] = it->cost[j - 1];
            it->ce[j] = it->ce[j - 1];
            j--;
        }
        it->cost[j] = cost[i];
        it->ce[j] = ce[i];
    }
    for (int i = 1; i < n; i++)
        if (it->cost[i] == it->cost[i - 1]) {
            double c = it->cost[i];
            hn_interp_free(it);
            return hn_fail(HN_ERR_INVAL, "interpolation loss: two points have "
                           "cost %g", c);
        }
    *out = it;
    return HN_OK;
}

double hn_interp_expected(const hn_interp *it, double cost) {
    if (cost <= it->cost[0]) return it->ce[0];
    if (cost >= it->cost[it->n - 1]) return it->ce[it->n - 1];
    int i = 1;
    while (it->cost[i] < cost) i++; /* cost[i-1] < cost <= cost[i] */
    double t = (cost - it->cost[i - 1]) / (it->cost[i] - it->cost[i - 1]);
    return it->ce[i - 1] + t * (it->ce[i] - it->ce[i - 1]);
}

hn_status hn_interp_loss(const hn_interp *it, hn_iloss_sigma s, double cost,
                         double ce, double *out) {
    if (!isfinite(cost) || !isfinite(ce))
        return hn_fail(HN_ERR_RANGE, "interpolation loss: cost %g / CE %g not "
                       "finite", cost, ce);
    double e = hn_interp_expected(it, cost), d = ce - e;
    switch (s) {
    case HN_ILOSS_IDENTITY: *out = d; return HN_OK;
    case HN_ILOSS_SIGMOID: *out = sigmoid(d); return HN_OK;
    case HN_ILOSS_LEAKY_RELU: *out = leaky(d); return HN_OK;
    case HN_ILOSS_REFERENCE:
        if (!(e > 0.0))
            return hn_fail(HN_ERR_RANGE, "interpolation loss: the reference "
                           "form divides by the expected CE, got %g", e);
        *out = 0.1 + leaky(d / e);
        return HN_OK;
    }
    return hn_fail(HN_ERR_INVAL, "interpolation loss: unknown sigma %d",
                   (int)s);
}
