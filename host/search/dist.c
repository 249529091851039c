/* Multinomial and binomial search distributions: sampling, log p, the score
 * grad log p (paper Lemmas 3 and 7), expected configuration. */
#include "hetnas/dist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct hn_dist {
    hn_dist_kind kind;
    int n_layers;
    int n_ops;          /* multinomial: |T|; binomial: 1 */
    int n_groups;
    hn_op ops[HN_MAX_OPS];
    int *width;         /* (n_layers) C_l */
    int *group;         /* (n_layers) parameter group */
    char (*name)[HN_LAYER_NAME_MAX]; /* (n_layers) for messages */
    double *alpha;      /* (n_groups, dim), dim = n_ops or 1 */
};

static int dim_of(const hn_dist *d) {
    return d->kind == HN_DIST_MULTINOMIAL ? d->n_ops : 1;
}

/* ---- numerics ----------------------------------------------------------- */

double hn_logsumexp(int n, const double *x) {
    if (n <= 0) return -INFINITY;
    double m = x[0];
    for (int i = 1; i < n; i++)
        if (x[i] > m) m = x[i];
    if (!isfinite(m)) return m; /* all -inf, or an inf/nan present */
    double s = 0.0;
    for (int i = 0; i < n; i++) s += exp(x[i] - m);
    return m + log(s);
}

void hn_softmax(int n, const double *x, double *out) {
    double l = hn_logsumexp(n, x);
    for (int i = 0; i < n; i++) out[i] = exp(x[i] - l);
}

double hn_sigmoid(double x) {
    /* exp of a non-positive number only: no overflow. */
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

double hn_log_sigmoid(double x) {
    if (x >= 0) return -log1p(exp(-x));
    return x - log1p(exp(x));
}

static double log_factorial(int k) {
    int sign;
    return lgamma_r((double)k + 1.0, &sign); /* reentrant, unlike lgamma */
}

void hn_round_largest_remainder(int k, const double *x, int total, int *out) {
    double sum = 0.0;
    for (int i = 0; i < k; i++) sum += x[i] > 0.0 ? x[i] : 0.0;
    double rem[64]; /* remainders; heap only for unusually many parts */
    double *rm = k <= 64 ? rem : malloc(sizeof(double) * (size_t)k);
    HN_ASSERT(rm);
    int left = total;
    for (int i = 0; i < k; i++) {
        double xi = x[i] > 0.0 ? x[i] : 0.0;
        double t = sum > 0.0 ? xi * (double)total / sum : (double)total / k;
        double f = floor(t);
        out[i] = (int)f;
        rm[i] = t - f;
        left -= out[i];
    }
    /* 0 <= left <= k up to rounding of the rescale; clamp both ways. */
    for (; left > 0; left--) {
        int best = 0;
        for (int i = 1; i < k; i++)
            if (rm[i] > rm[best]) best = i;
        out[best]++;
        rm[best] = -1.0; /* each index at most once */
    }
    for (; left < 0; left++) { /* only if rounding overshot */
        int best = -1;
        for (int i = 0; i < k; i++)
            if (out[i] > 0 && (best < 0 || rm[i] < rm[best])) best = i;
        out[best]--;
        rm[best] = 2.0;
    }
    if (rm != rem) free(rm);
}

/* ---- construction ------------------------------------------------------- */

static const char *kind_names[] = {"multinomial", "binomial"};
static const char *share_names[] = {"layer", "stage"};

const char *hn_dist_kind_name(hn_dist_kind k) {
    return (unsigned)k < 2 ? kind_names[k] : "?";
}
const char *hn_dist_share_name(hn_dist_share s) {
    return (unsigned)s < 2 ? share_names[s] : "?";
}

hn_status hn_dist_kind_parse(const char *s, hn_dist_kind *out) {
    for (int i = 0; i < 2; i++)
        if (s && strcmp(s, kind_names[i]) == 0) {
            *out = (hn_dist_kind)i;
            return HN_OK;
        }
    return hn_fail(HN_ERR_INVAL, "distribution: unknown kind '%s' (expected "
                   "multinomial or binomial)", s ? s : "(null)");
}

hn_status hn_dist_share_parse(const char *s, hn_dist_share *out) {
    for (int i = 0; i < 2; i++)
        if (s && strcmp(s, share_names[i]) == 0) {
            *out = (hn_dist_share)i;
            return HN_OK;
        }
    return hn_fail(HN_ERR_INVAL, "distribution: unknown sharing '%s' "
                   "(expected layer or stage)", s ? s : "(null)");
}

void hn_dist_free(hn_dist *d) {
    if (!d) return;
    free(d->width);
    free(d->group);
    free(d->name);
    free(d->alpha);
    free(d);
}

hn_status hn_dist_new_layers(hn_dist_kind kind, int n_layers,
                             const int *widths, const int *group, int n_ops,
                             const hn_op *ops, hn_dist **out) {
    *out = NULL;
    if (kind != HN_DIST_MULTINOMIAL && kind != HN_DIST_BINOMIAL)
        return hn_fail(HN_ERR_INVAL, "distribution: unknown kind %d", (int)kind);
    if (n_layers < 1)
        return hn_fail(HN_ERR_RANGE, "distribution: %d layers, need >= 1",
                       n_layers);
    if (kind == HN_DIST_MULTINOMIAL) {
        if (n_ops < 1 || n_ops > HN_MAX_OPS || !ops)
            return hn_fail(HN_ERR_RANGE, "distribution: multinomial op set "
                           "has %d ops, expected 1..%d", n_ops, HN_MAX_OPS);
    } else if (n_ops > 1) {
        return hn_fail(HN_ERR_RANGE, "distribution: the binomial width has "
                       "one op for all filters, got %d ops", n_ops);
    }
    int n_groups = 0;
    for (int l = 0; l < n_layers; l++) {
        if (widths[l] < 1)
            return hn_fail(HN_ERR_RANGE, "distribution: layer %d: width %d, "
                           "need >= 1", l, widths[l]);
        int g = group ? group[l] : l;
        if (g < 0 || g >= n_layers)
            return hn_fail(HN_ERR_RANGE, "distribution: layer %d: group %d "
                           "outside 0..%d", l, g, n_layers - 1);
        if (g + 1 > n_groups) n_groups = g + 1;
    }
    hn_dist *d = calloc(1, sizeof *d);
    if (!d) return hn_fail(HN_ERR_NOMEM, "distribution: out of memory");
    d->kind = kind;
    d->n_layers = n_layers;
    d->n_groups = n_groups;
    if (kind == HN_DIST_MULTINOMIAL) {
        d->n_ops = n_ops;
        memcpy(d->ops, ops, sizeof(hn_op) * (size_t)n_ops);
    } else {
        d->n_ops = 1;
        d->ops[0] = (n_ops == 1 && ops) ? ops[0]
                                        : (hn_op){HN_BITS_FP, HN_BITS_FP};
    }
    d->width = malloc(sizeof(int) * (size_t)n_layers);
    d->group = malloc(sizeof(int) * (size_t)n_layers);
    d->name = calloc((size_t)n_layers, sizeof *d->name);
    d->alpha = calloc((size_t)(n_groups * dim_of(d)), sizeof(double));
    if (!d->width || !d->group || !d->name || !d->alpha) {
        hn_dist_free(d);
        return hn_fail(HN_ERR_NOMEM, "distribution: out of memory");
    }
    for (int l = 0; l < n_layers; l++) {
        d->width[l] = widths[l];
        d->group[l] = group ? group[l] : l;
        snprintf(d->name[l], sizeof d->name[l], "%d", l);
    }
    *out = d;
    return HN_OK;
}

hn_status hn_dist_new(const hn_arch *a, hn_dist_kind kind,
                      hn_dist_share share, int n_ops, const hn_op *ops,
                      hn_dist **out) {
    *out = NULL;
    if (share != HN_DIST_PER_LAYER && share != HN_DIST_PER_STAGE)
        return hn_fail(HN_ERR_INVAL, "distribution: unknown sharing %d",
                       (int)share);
    int n = hn_arch_n_layers(a);
    int *w = calloc((size_t)n + 1, sizeof(int)); /* (n) C_l */
    int *g = calloc((size_t)n + 1, sizeof(int)); /* (n) group */
    if (!w || !g) {
        free(w);
        free(g);
        return hn_fail(HN_ERR_NOMEM, "distribution: out of memory");
    }
    for (int l = 0; l < n; l++) {
        const hn_layer_desc *ld = hn_arch_layer(a, l);
        w[l] = ld->c_out;
        /* stem (stage 0) -> stage 1; down keeps its stage: stages 1..3 ->
         * groups 0..2. */
        g[l] = share == HN_DIST_PER_LAYER ? l
                                          : (ld->stage < 1 ? 0 : ld->stage - 1);
    }
    hn_status s = hn_dist_new_layers(kind, n, w, g, n_ops, ops, out);
    free(w);
    free(g);
    if (s != HN_OK) return s;
    for (int l = 0; l < n; l++)
        snprintf((*out)->name[l], sizeof (*out)->name[l], "%s",
                 hn_arch_layer(a, l)->name);
    return HN_OK;
}

hn_dist_kind hn_dist_get_kind(const hn_dist *d) { return d->kind; }
int hn_dist_n_layers(const hn_dist *d) { return d->n_layers; }
int hn_dist_n_ops(const hn_dist *d) { return d->n_ops; }
int hn_dist_n_groups(const hn_dist *d) { return d->n_groups; }
int hn_dist_n_params(const hn_dist *d) { return d->n_groups * dim_of(d); }
int hn_dist_width(const hn_dist *d, int l) {
    HN_ASSERT(l >= 0 && l < d->n_layers);
    return d->width[l];
}
int hn_dist_group(const hn_dist *d, int l) {
    HN_ASSERT(l >= 0 && l < d->n_layers);
    return d->group[l];
}
hn_op hn_dist_op(const hn_dist *d, int t) {
    HN_ASSERT(t >= 0 && t < d->n_ops);
    return d->ops[t];
}

/* ---- parameters --------------------------------------------------------- */

static hn_status check_n(const hn_dist *d, int n, const char *what) {
    if (n != hn_dist_n_params(d))
        return hn_fail(HN_ERR_RANGE, "distribution: %s has %d values, "
                       "expected %d (%d groups x %d)", what, n,
                       hn_dist_n_params(d), d->n_groups, dim_of(d));
    return HN_OK;
}

hn_status hn_dist_init_params(hn_dist *d, hn_dist_init init) {
    int np = hn_dist_n_params(d);
    if (init == HN_DIST_INIT_UNIFORM) {
        for (int i = 0; i < np; i++) d->alpha[i] = 0.0;
        return HN_OK;
    }
    if (init != HN_DIST_INIT_REFERENCE)
        return hn_fail(HN_ERR_INVAL, "distribution: unknown init %d", (int)init);
    if (d->kind != HN_DIST_MULTINOMIAL)
        return hn_fail(HN_ERR_INVAL, "distribution: the reference init is "
                       "defined for the multinomial only; use uniform or "
                       "set the probabilities");
    int n = d->n_ops, top = 0;
    for (int t = 1; t < n; t++)
        if (d->ops[t].wbits * d->ops[t].abits >
            d->ops[top].wbits * d->ops[top].abits)
            top = t;
    double lo = log(1.0 / (2.0 * n - 1.0)), hi = log(2.0 / (2.0 * n - 1.0));
    for (int g = 0; g < d->n_groups; g++)
        for (int t = 0; t < n; t++) d->alpha[g * n + t] = t == top ? lo : hi;
    return HN_OK;
}

hn_status hn_dist_get_alpha(const hn_dist *d, int n, double *alpha) {
    HN_TRY(check_n(d, n, "alpha"));
    memcpy(alpha, d->alpha, sizeof(double) * (size_t)n);
    return HN_OK;
}

hn_status hn_dist_set_alpha(hn_dist *d, int n, const double *alpha) {
    HN_TRY(check_n(d, n, "alpha"));
    for (int i = 0; i < n; i++)
        if (!isfinite(alpha[i]))
            return hn_fail(HN_ERR_RANGE, "distribution: alpha[%d] = %g is "
                           "not finite", i, alpha[i]);
    memcpy(d->alpha, alpha, sizeof(double) * (size_t)n);
    return HN_OK;
}

hn_status hn_dist_get_probs(const hn_dist *d, int n, double *p) {
    HN_TRY(check_n(d, n, "p"));
    if (d->kind == HN_DIST_MULTINOMIAL) {
        for (int g = 0; g < d->n_groups; g++)
            hn_softmax(d->n_ops, d->alpha + g * d->n_ops, p + g * d->n_ops);
    } else {
        for (int g = 0; g < d->n_groups; g++) p[g] = hn_sigmoid(d->alpha[g]);
    }
    return HN_OK;
}

hn_status hn_dist_set_probs(hn_dist *d, int n, const double *p) {
    HN_TRY(check_n(d, n, "p"));
    if (d->kind == HN_DIST_BINOMIAL) {
        for (int g = 0; g < n; g++)
            if (!(p[g] > 0.0 && p[g] < 1.0))
                return hn_fail(HN_ERR_RANGE, "distribution: p[%d] = %g, "
                               "must be in (0, 1)", g, p[g]);
        for (int g = 0; g < n; g++) d->alpha[g] = log(p[g]) - log1p(-p[g]);
        return HN_OK;
    }
    int k = d->n_ops;
    for (int g = 0; g < d->n_groups; g++) {
        double s = 0.0;
        for (int t = 0; t < k; t++) {
            if (!(p[g * k + t] > 0.0 && isfinite(p[g * k + t])))
                return hn_fail(HN_ERR_RANGE, "distribution: p[%d][%d] = %g, "
                               "must be > 0", g, t, p[g * k + t]);
            s += p[g * k + t];
        }
        if (fabs(s - 1.0) > 1e-9)
            return hn_fail(HN_ERR_RANGE, "distribution: p[%d] sums to %.17g, "
                           "expected 1", g, s);
    }
    for (int g = 0; g < d->n_groups; g++) {
        double s = 0.0;
        for (int t = 0; t < k; t++) s += p[g * k + t];
        for (int t = 0; t < k; t++) d->alpha[g * k + t] = log(p[g * k + t] / s);
    }
    return HN_OK;
}

/* ---- sampling, log p, score --------------------------------------------- */

void hn_dist_sample_counts(const hn_dist *d, hn_rng *r, int *counts) {
    int k = d->n_ops;
    for (int l = 0; l < d->n_layers; l++) {
        const double *al = d->alpha + d->group[l] * dim_of(d);
        int *cl = counts + l * k;
        if (d->kind == HN_DIST_BINOMIAL) {
            cl[0] = 1 + hn_rng_binomial(r, d->width[l] - 1, hn_sigmoid(al[0]));
            continue;
        }
        /* Sequential conditionals: A_t | A_<t ~ Binomial(left, p_t / sum_{j>=t}
         * p_j); the ratio is exp(alpha_t - lse(alpha_t..)), from suffix
         * log-sum-exps so no subtraction of probabilities. */
        double suf[HN_MAX_OPS];
        suf[k - 1] = al[k - 1];
        for (int t = k - 2; t >= 0; t--) {
            double m = al[t] > suf[t + 1] ? al[t] : suf[t + 1];
            suf[t] = m + log(exp(al[t] - m) + exp(suf[t + 1] - m));
        }
        int left = d->width[l];
        for (int t = 0; t < k - 1; t++) {
            cl[t] = hn_rng_binomial(r, left, exp(al[t] - suf[t]));
            left -= cl[t];
        }
        cl[k - 1] = left;
    }
}

static hn_status check_counts(const hn_dist *d, const int *counts) {
    int k = d->n_ops;
    for (int l = 0; l < d->n_layers; l++) {
        const int *cl = counts + l * k;
        if (d->kind == HN_DIST_BINOMIAL) {
            if (cl[0] < 1 || cl[0] > d->width[l])
                return hn_fail(HN_ERR_RANGE, "distribution: layer %s: width "
                               "%d outside 1..%d", d->name[l], cl[0],
                               d->width[l]);
            continue;
        }
        long s = 0;
        for (int t = 0; t < k; t++) {
            if (cl[t] < 0)
                return hn_fail(HN_ERR_RANGE, "distribution: layer %s: count "
                               "%d for op %d is negative", d->name[l], cl[t], t);
            s += cl[t];
        }
        if (s != d->width[l])
            return hn_fail(HN_ERR_RANGE, "distribution: layer %s: counts sum "
                           "to %ld, the multinomial needs C_l = %d",
                           d->name[l], s, d->width[l]);
    }
    return HN_OK;
}

hn_status hn_dist_log_prob(const hn_dist *d, const int *counts, double *out) {
    HN_TRY(check_counts(d, counts));
    int k = d->n_ops;
    double lp = 0.0;
    for (int l = 0; l < d->n_layers; l++) {
        const double *al = d->alpha + d->group[l] * dim_of(d);
        const int *cl = counts + l * k;
        if (d->kind == HN_DIST_BINOMIAL) {
            /* eq. 19 with n = C_l - 1, x = w_l - 1, in log space */
            int n = d->width[l] - 1, x = cl[0] - 1;
            lp += log_factorial(n) - log_factorial(x) - log_factorial(n - x);
            if (x > 0) lp += x * hn_log_sigmoid(al[0]);
            if (n - x > 0) lp += (n - x) * hn_log_sigmoid(-al[0]);
            continue;
        }
        /* eq. 10: log C! - sum log a_t! + sum a_t (alpha_t - lse(alpha)) */
        double lse = hn_logsumexp(k, al);
        lp += log_factorial(d->width[l]);
        for (int t = 0; t < k; t++) {
            lp -= log_factorial(cl[t]);
            if (cl[t] > 0) lp += cl[t] * (al[t] - lse);
        }
    }
    *out = lp;
    return HN_OK;
}

hn_status hn_dist_grad_log_prob(const hn_dist *d, const int *counts, int n,
                                double *grad) {
    HN_TRY(check_n(d, n, "gradient"));
    HN_TRY(check_counts(d, counts));
    int k = d->n_ops, dim = dim_of(d);
    for (int i = 0; i < n; i++) grad[i] = 0.0;
    double p[HN_MAX_OPS];
    for (int l = 0; l < d->n_layers; l++) {
        const double *al = d->alpha + d->group[l] * dim;
        double *gl = grad + d->group[l] * dim;
        const int *cl = counts + l * k;
        if (d->kind == HN_DIST_BINOMIAL) {
            /* Lemma 6/7 with a_l = w_l - 1 ~ Binomial(C_l - 1, sigmoid) */
            gl[0] += (double)(cl[0] - 1) -
                     (double)(d->width[l] - 1) * hn_sigmoid(al[0]);
            continue;
        }
        /* Lemma 2/3: a_lt - C_l * softmax(alpha)_t */
        hn_softmax(k, al, p);
        for (int t = 0; t < k; t++)
            gl[t] += (double)cl[t] - (double)d->width[l] * p[t];
    }
    return HN_OK;
}

static hn_status check_arch(const hn_dist *d, const hn_arch *a) {
    if (hn_arch_n_layers(a) != d->n_layers)
        return hn_fail(HN_ERR_INVAL, "distribution: architecture %s has %d "
                       "layers, the distribution %d", hn_arch_model_name(a),
                       hn_arch_n_layers(a), d->n_layers);
    for (int l = 0; l < d->n_layers; l++)
        if (hn_arch_layer(a, l)->c_out != d->width[l])
            return hn_fail(HN_ERR_INVAL, "distribution: layer %s has %d "
                           "filters in the architecture, %d in the "
                           "distribution", hn_arch_layer(a, l)->name,
                           hn_arch_layer(a, l)->c_out, d->width[l]);
    return HN_OK;
}

static hn_status counts_to_config(const hn_dist *d, const hn_arch *a,
                                  const int *counts, hn_config **out) {
    if (d->kind == HN_DIST_BINOMIAL)
        return hn_config_widths(a, counts, d->ops[0], out);
    return hn_config_new(a, d->n_ops, d->ops, counts, out);
}

hn_status hn_dist_sample(const hn_dist *d, const hn_arch *a, hn_rng *r,
                         hn_config **out) {
    *out = NULL;
    HN_TRY(check_arch(d, a));
    int *c = malloc(sizeof(int) * (size_t)(d->n_layers * d->n_ops));
    if (!c) return hn_fail(HN_ERR_NOMEM, "distribution: out of memory");
    hn_dist_sample_counts(d, r, c);
    hn_status s = counts_to_config(d, a, c, out);
    free(c);
    return s;
}

hn_status hn_dist_config_counts(const hn_dist *d, const hn_config *c,
                                int *counts) {
    if (hn_config_n_layers(c) != d->n_layers)
        return hn_fail(HN_ERR_INVAL, "distribution: configuration has %d "
                       "layers, the distribution %d", hn_config_n_layers(c),
                       d->n_layers);
    if (d->kind == HN_DIST_BINOMIAL) {
        for (int l = 0; l < d->n_layers; l++) counts[l] = hn_config_width(c, l);
    } else {
        if (hn_config_n_ops(c) != d->n_ops)
            return hn_fail(HN_ERR_INVAL, "distribution: configuration has %d "
                           "ops, the distribution's op set %d",
                           hn_config_n_ops(c), d->n_ops);
        for (int t = 0; t < d->n_ops; t++) {
            hn_op o = hn_config_op(c, t);
            if (o.wbits != d->ops[t].wbits || o.abits != d->ops[t].abits)
                return hn_fail(HN_ERR_INVAL, "distribution: configuration op "
                               "%d is (%d,%d), the distribution's (%d,%d)", t,
                               o.wbits, o.abits, d->ops[t].wbits,
                               d->ops[t].abits);
        }
        for (int l = 0; l < d->n_layers; l++)
            for (int t = 0; t < d->n_ops; t++)
                counts[l * d->n_ops + t] = hn_config_count(c, l, t);
    }
    return check_counts(d, counts);
}

void hn_dist_expected_counts(const hn_dist *d, int *counts) {
    int k = d->n_ops;
    double p[HN_MAX_OPS];
    for (int l = 0; l < d->n_layers; l++) {
        const double *al = d->alpha + d->group[l] * dim_of(d);
        if (d->kind == HN_DIST_BINOMIAL) {
            double e = 1.0 + (d->width[l] - 1) * hn_sigmoid(al[0]);
            int w = (int)floor(e + 0.5);
            counts[l] = w < 1 ? 1 : w > d->width[l] ? d->width[l] : w;
            continue;
        }
        hn_softmax(k, al, p);
        for (int t = 0; t < k; t++) p[t] *= d->width[l]; /* E[A_lt] */
        hn_round_largest_remainder(k, p, d->width[l], counts + l * k);
    }
}

hn_status hn_dist_expected(const hn_dist *d, const hn_arch *a,
                           hn_config **out) {
    *out = NULL;
    HN_TRY(check_arch(d, a));
    int *c = malloc(sizeof(int) * (size_t)(d->n_layers * d->n_ops));
    if (!c) return hn_fail(HN_ERR_NOMEM, "distribution: out of memory");
    hn_dist_expected_counts(d, c);
    hn_status s = counts_to_config(d, a, c, out);
    free(c);
    return s;
}
