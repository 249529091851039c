/* Score-function (REINFORCE) estimators of g = grad_alpha J, J = E_a[L(a)]
 * (paper eq. 2-3).  Given |S| = n_samples configurations a_s drawn from
 * p(.|alpha), their losses L_s and scores d_s = grad_alpha log p(a_s|alpha)
 * (hn_dist_grad_log_prob), every variant forms per-sample terms
 *     g_s = (L_s - b_s) * d_s                                  (n_params)
 * and returns their mean  g_hat = (1/|S|) sum_s g_s:
 *  - none (eq. 3 exactly, the reference code):  b_s = 0;
 *  - ema:  b_s = the bias-corrected exponential moving average of the
 *          previous steps' mean losses (0 on the first step), so it does
 *          not depend on this step's samples and g_hat stays unbiased;
 *          updated after the step: m <- decay m + (1 - decay) mean_s L_s,
 *          b = m / (1 - decay^steps);
 *  - loo:  leave-one-out, b_s = mean of the other |S| - 1 losses (unbiased:
 *          b_s is independent of a_s); needs |S| >= 2.
 * Because E[d_s] = 0, any b_s independent of a_s keeps E[g_hat] = g.
 *
 * Reported variance (for logging): the estimated trace of Cov(g_hat),
 *     var = (1/|S|) sum_j [ 1/(|S|-1) sum_s (g_sj - g_hat_j)^2 ],
 * i.e. the unbiased per-coordinate sample variance of the terms, summed
 * over the alpha coordinates j, divided by |S|; NaN when |S| = 1.  It is
 * unbiased for none and ema (terms i.i.d. given b); for loo the terms share
 * samples, so it is an approximation there. */
#ifndef HETNAS_ESTIMATOR_H
#define HETNAS_ESTIMATOR_H

#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum hn_baseline {
    HN_BASELINE_NONE = 0,
    HN_BASELINE_EMA = 1,
    HN_BASELINE_LOO = 2
} hn_baseline;

typedef struct hn_estimator_opts {
    hn_baseline baseline;
    double decay; /* ema only, in [0, 1) (default 0.9) */
} hn_estimator_opts;

typedef struct hn_estimator_stats {
    double variance;  /* defined above */
    double mean_loss; /* (1/|S|) sum_s L_s */
    double baseline;  /* mean over s of b_s */
    int n_samples;
} hn_estimator_stats;

typedef struct hn_estimator hn_estimator; /* opaque: holds the ema state */

hn_estimator_opts hn_estimator_opts_default(void); /* none, decay 0.9 */
/* "none" | "ema" | "loo"; the error lists the names. */
hn_status hn_baseline_parse(const char *s, hn_baseline *out);
const char *hn_baseline_name(hn_baseline b);

hn_status hn_estimator_new(const hn_estimator_opts *o, int n_params,
                           hn_estimator **out);
void hn_estimator_free(hn_estimator *e);
/* Forget the moving average (steps = 0). */
void hn_estimator_reset(hn_estimator *e);
/* The ema state, to checkpoint and resume a search. */
void hn_estimator_get_state(const hn_estimator *e, double *ema, long *steps);
hn_status hn_estimator_set_state(hn_estimator *e, double ema, long steps);

/* loss[n_samples]; score (n_samples, n_params) row-major; grad[n_params]
 * receives g_hat; stats may be NULL.  n_params must match the estimator's.
 * Errors (|S| < 1, loo with |S| < 2, size mismatch, non-finite input)
 * leave grad and the ema state untouched. */
hn_status hn_estimator_grad(hn_estimator *e, int n_samples, int n_params,
                            const double *loss, const double *score,
                            double *grad, hn_estimator_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
