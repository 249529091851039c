/* Score-function gradient estimators (paper eq. 3) with optional baselines
 * and their empirical variance. */
#include "hetnas/estimator.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct hn_estimator {
    hn_estimator_opts o;
    int n_params;
    double ema;  /* raw moving average of mean losses (not bias-corrected) */
    long steps;  /* updates folded into ema */
    double *m2;   /* (n_params) scratch: sum_s (g_sj - g_hat_j)^2 */
};

static const char *names[] = {"none", "ema", "loo"};

const char *hn_baseline_name(hn_baseline b) {
    return (unsigned)b < 3 ? names[b] : "?";
}

hn_status hn_baseline_parse(const char *s, hn_baseline *out) {
    for (int i = 0; i < 3; i++)
        if (s && strcmp(s, names[i]) == 0) {
            *out = (hn_baseline)i;
            return HN_OK;
        }
    return hn_fail(HN_ERR_INVAL, "estimator: unknown baseline '%s' "
                   "(expected none, ema or loo)", s ? s : "(null)");
}

hn_estimator_opts hn_estimator_opts_default(void) {
    return (hn_estimator_opts){HN_BASELINE_NONE, 0.9};
}

hn_status hn_estimator_new(const hn_estimator_opts *o, int n_params,
                           hn_estimator **out) {
    *out = NULL;
    if ((unsigned)o->baseline > HN_BASELINE_LOO)
        return hn_fail(HN_ERR_INVAL, "estimator: unknown baseline %d",
                       (int)o->baseline);
    if (o->baseline == HN_BASELINE_EMA && !(o->decay >= 0.0 && o->decay < 1.0))
        return hn_fail(HN_ERR_RANGE, "estimator: ema decay %g outside [0, 1)",
                       o->decay);
    if (n_params < 1)
        return hn_fail(HN_ERR_RANGE, "estimator: %d alpha parameters, need "
                       ">= 1", n_params);
    hn_estimator *e = calloc(1, sizeof *e);
    if (!e) return hn_fail(HN_ERR_NOMEM, "estimator: out of memory");
    e->o = *o;
    e->n_params = n_params;
    e->m2 = malloc(sizeof(double) * (size_t)n_params);
    if (!e->m2) {
        hn_estimator_free(e);
        return hn_fail(HN_ERR_NOMEM, "estimator: out of memory");
    }
    *out = e;
    return HN_OK;
}

void hn_estimator_free(hn_estimator *e) {
    if (!e) return;
    free(e->m2);
    free(e);
}

void hn_estimator_reset(hn_estimator *e) {
    e->ema = 0.0;
    e->steps = 0;
}

void hn_estimator_get_state(const hn_estimator *e, double *ema, long *steps) {
    *ema = e->ema;
    *steps = e->steps;
}

hn_status hn_estimator_set_state(hn_estimator *e, double ema, long steps) {
    if (!isfinite(ema) || steps < 0)
        return hn_fail(HN_ERR_RANGE, "estimator: bad ema state (%g, %ld)",
                       ema, steps);
    e->ema = ema;
    e->steps = steps;
    return HN_OK;
}

hn_status hn_estimator_grad(hn_estimator *e, int n_samples, int n_params,
                            const double *loss, const double *score,
                            double *grad, hn_estimator_stats *stats) {
    const int S = n_samples, P = n_params;
    if (S < 1)
        return hn_fail(HN_ERR_RANGE, "estimator: |S| = %d samples, need >= 1",
                       S);
    if (e->o.baseline == HN_BASELINE_LOO && S < 2)
        return hn_fail(HN_ERR_RANGE, "estimator: the leave-one-out baseline "
                       "needs |S| >= 2 samples, got %d", S);
    if (P != e->n_params)
        return hn_fail(HN_ERR_RANGE, "estimator: alpha has %d parameters, "
                       "the estimator was made for %d", P, e->n_params);
    double sum_l = 0.0;
    for (int s = 0; s < S; s++) {
        if (!isfinite(loss[s]))
            return hn_fail(HN_ERR_RANGE, "estimator: loss of sample %d is %g",
                           s, loss[s]);
        for (int j = 0; j < P; j++)
            if (!isfinite(score[(size_t)s * P + j]))
                return hn_fail(HN_ERR_RANGE, "estimator: score of sample %d, "
                               "alpha %d is %g", s, j, score[(size_t)s * P + j]);
        sum_l += loss[s];
    }
    double mean_l = sum_l / S;
    double b_ema = 0.0;
    if (e->o.baseline == HN_BASELINE_EMA && e->steps > 0)
        b_ema = e->ema / (1.0 - pow(e->o.decay, (double)e->steps));

    /* Two passes (mean, then squared deviations): stable for the large
     * common offsets that plain eq. 3 produces. */
    for (int j = 0; j < P; j++) grad[j] = 0.0;
    double b_sum = 0.0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            for (int j = 0; j < P; j++) grad[j] /= S;
            memset(e->m2, 0, sizeof(double) * (size_t)P);
        }
        for (int s = 0; s < S; s++) {
            double b = 0.0;
            if (e->o.baseline == HN_BASELINE_EMA) b = b_ema;
            else if (e->o.baseline == HN_BASELINE_LOO)
                b = (sum_l - loss[s]) / (S - 1);
            if (pass == 0) b_sum += b;
            double w = loss[s] - b;
            const double *d = score + (size_t)s * P;
            for (int j = 0; j < P; j++) {
                double g = w * d[j];
                if (pass == 0) grad[j] += g;
                else e->m2[j] += (g - grad[j]) * (g - grad[j]);
            }
        }
    }
    double var = 0.0;
    for (int j = 0; j < P; j++) var += e->m2[j];
    var = S > 1 ? var / (S - 1) / S : NAN;

    if (e->o.baseline == HN_BASELINE_EMA) {
        e->ema = e->o.decay * e->ema + (1.0 - e->o.decay) * mean_l;
        e->steps++;
    }
    if (stats) {
        stats->variance = var;
        stats->mean_loss = mean_l;
        stats->baseline = b_sum / S;
        stats->n_samples = S;
    }
    return HN_OK;
}
