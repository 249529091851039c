/* Gradient estimators: the closed form dJ/dalpha = sum_a L(a) p(a) grad log
 * p(a) (eq. 16, 25) against finite differences of J over enumerated
 * configurations; eq. 3 and the baseline variants converge to it (within
 * 5 standard errors over 20000 steps of |S| = 4); baselines reduce the
 * variance; the reported variance matches the measured one; hand values;
 * errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hetnas/dist.h"
#include "hetnas/estimator.h"
#include "search_enum.h"

static const hn_op OPS3[3] = {{2, 2}, {3, 3}, {8, 8}};

static hn_dist *tiny(hn_dist_kind kind, int shared) {
    hn_dist *d = NULL;
    if (kind == HN_DIST_MULTINOMIAL) {
        int w[2] = {3, 2}, g[2] = {0, 0};
        assert_int_equal(hn_dist_new_layers(kind, 2, w, shared ? g : NULL, 3,
                                            OPS3, &d), HN_OK);
        double a[6] = {0.3, -0.7, 1.1, -0.2, 0.5, 0.0};
        assert_int_equal(hn_dist_set_alpha(d, hn_dist_n_params(d), a), HN_OK);
    } else {
        int w[3] = {3, 2, 4}, g[3] = {0, 1, 1};
        assert_int_equal(hn_dist_new_layers(kind, 3, w, shared ? g : NULL, 0,
                                            NULL, &d), HN_OK);
        double a[3] = {0.4, -1.3, 0.8};
        assert_int_equal(hn_dist_set_alpha(d, hn_dist_n_params(d), a), HN_OK);
    }
    return d;
}

/* A fixed loss table with a large common offset (as CE + lambda * cost
 * has), so a baseline has something to remove. */
static double table_loss(int i) { return 5.0 + sin(1.7 * i) + 0.05 * i; }

static double expected_loss(hn_dist *d, const int *all, int N) {
    int row = hn_dist_n_layers(d) * hn_dist_n_ops(d);
    double J = 0.0;
    for (int i = 0; i < N; i++) {
        double lp;
        assert_int_equal(hn_dist_log_prob(d, all + i * row, &lp), HN_OK);
        J += table_loss(i) * exp(lp);
    }
    return J;
}

/* Closed form of eq. 16 / 25 by enumeration. */
static void closed_form(hn_dist *d, const int *all, int N, double *g) {
    int P = hn_dist_n_params(d), row = hn_dist_n_layers(d) * hn_dist_n_ops(d);
    double sc[16];
    for (int j = 0; j < P; j++) g[j] = 0.0;
    for (int i = 0; i < N; i++) {
        double lp;
        assert_int_equal(hn_dist_log_prob(d, all + i * row, &lp), HN_OK);
        assert_int_equal(hn_dist_grad_log_prob(d, all + i * row, P, sc), HN_OK);
        for (int j = 0; j < P; j++) g[j] += table_loss(i) * exp(lp) * sc[j];
    }
}

static void test_closed_form_matches_fd(void **st) {
    (void)st;
    for (int k = 0; k < 4; k++) {
        hn_dist *d = tiny(k < 2 ? HN_DIST_MULTINOMIAL : HN_DIST_BINOMIAL, k % 2);
        int *all, N = enum_configs(d, &all), P = hn_dist_n_params(d);
        double g[16], alpha[16];
        closed_form(d, all, N, g);
        hn_dist_get_alpha(d, P, alpha);
        for (int j = 0; j < P; j++) {
            const double h = 1e-5, a0 = alpha[j];
            alpha[j] = a0 + h;
            hn_dist_set_alpha(d, P, alpha);
            double jp = expected_loss(d, all, N);
            alpha[j] = a0 - h;
            hn_dist_set_alpha(d, P, alpha);
            double jm = expected_loss(d, all, N);
            alpha[j] = a0;
            hn_dist_set_alpha(d, P, alpha);
            double fd = (jp - jm) / (2 * h);
            if (fabs(fd - g[j]) > 1e-8) {
                fprintf(stderr, "dist %d alpha %d: fd %.12g closed %.12g\n", k,
                        j, fd, g[j]);
                fail();
            }
        }
        free(all);
        hn_dist_free(d);
    }
}

/* Runs `steps` estimator steps of |S| samples; returns the per-coordinate
 * mean and standard error of g_hat, the measured trace of Cov(g_hat) and
 * the mean reported variance. */
static void run_estimator(hn_dist *d, const int *all, int N, hn_baseline b,
                          int steps, int S, uint64_t seed, double *mean,
                          double *se, double *trace, double *reported) {
    int P = hn_dist_n_params(d), row = hn_dist_n_layers(d) * hn_dist_n_ops(d);
    hn_estimator_opts o = hn_estimator_opts_default();
    o.baseline = b;
    o.decay = 0.9;
    hn_estimator *e = NULL;
    assert_int_equal(hn_estimator_new(&o, P, &e), HN_OK);
    hn_rng r;
    hn_rng_seed(&r, seed, 1);
    double *loss = malloc(sizeof(double) * (size_t)S);
    double *score = malloc(sizeof(double) * (size_t)(S * P));
    int *c = malloc(sizeof(int) * (size_t)row);
    double sum[16] = {0}, sum2[16] = {0}, g[16], rep = 0.0;
    for (int it = 0; it < steps; it++) {
        for (int s = 0; s < S; s++) {
            hn_dist_sample_counts(d, &r, c);
            int i = enum_index(all, N, row, c);
            assert_true(i >= 0);
            loss[s] = table_loss(i);
            assert_int_equal(hn_dist_grad_log_prob(d, c, P, score + s * P),
                             HN_OK);
        }
        hn_estimator_stats stats;
        assert_int_equal(hn_estimator_grad(e, S, P, loss, score, g, &stats),
                         HN_OK);
        rep += stats.variance;
        for (int j = 0; j < P; j++) {
            sum[j] += g[j];
            sum2[j] += g[j] * g[j];
        }
    }
    *trace = 0.0;
    for (int j = 0; j < P; j++) {
        mean[j] = sum[j] / steps;
        double var = (sum2[j] - steps * mean[j] * mean[j]) / (steps - 1);
        se[j] = sqrt(var / steps);
        *trace += var;
    }
    *reported = rep / steps;
    free(loss);
    free(score);
    free(c);
    hn_estimator_free(e);
}

static void test_estimators_converge(void **st) {
    (void)st;
    const int STEPS = 20000, S = 4;
    for (int k = 0; k < 2; k++) {
        hn_dist *d = tiny(k == 0 ? HN_DIST_MULTINOMIAL : HN_DIST_BINOMIAL, 0);
        int *all, N = enum_configs(d, &all), P = hn_dist_n_params(d);
        double truth[16];
        closed_form(d, all, N, truth);
        double tr[3];
        for (int b = 0; b < 3; b++) {
            double mean[16], se[16], rep;
            run_estimator(d, all, N, (hn_baseline)b, STEPS, S, 100 + k, mean,
                          se, &tr[b], &rep);
            double worst = 0.0;
            for (int j = 0; j < P; j++) {
                double z = fabs(mean[j] - truth[j]) / se[j];
                if (z > worst) worst = z;
                if (j < 2)
                    printf("%s/%s alpha %d: mean %.5f closed %.5f (se %.5f)\n",
                           hn_dist_kind_name(hn_dist_get_kind(d)),
                           hn_baseline_name((hn_baseline)b), j, mean[j],
                           truth[j], se[j]);
                assert_true(z < 5.0);
            }
            printf("%s/%s: max |mean - closed| / se = %.2f; trace Cov "
                   "measured %.4f, reported %.4f\n",
                   hn_dist_kind_name(hn_dist_get_kind(d)),
                   hn_baseline_name((hn_baseline)b), worst, tr[b], rep);
            /* The reported variance is unbiased for none and ema; loo's
             * is an approximation (checked loosely). */
            double tol = b == HN_BASELINE_LOO ? 0.25 : 0.05;
            assert_true(fabs(rep - tr[b]) < tol * tr[b]);
        }
        printf("%s: variance reduction none/ema %.1fx, none/loo %.1fx\n",
               hn_dist_kind_name(hn_dist_get_kind(d)), tr[0] / tr[1],
               tr[0] / tr[2]);
        assert_true(tr[1] < tr[0] / 2);
        assert_true(tr[2] < tr[0] / 2);
        free(all);
        hn_dist_free(d);
    }
}

/* Hand-computed values: losses (1, 3), scores (1, -1) and (2, 0). */
static void test_hand_values(void **st) {
    (void)st;
    const double loss[2] = {1.0, 3.0}, score[4] = {1.0, -1.0, 2.0, 0.0};
    double g[2];
    hn_estimator_stats s;
    hn_estimator *e = NULL;
    hn_estimator_opts o = hn_estimator_opts_default();
    /* none: terms (1,-1), (6,0) -> (3.5, -0.5); var (12.5 + 0.5) / 2 */
    assert_int_equal(hn_estimator_new(&o, 2, &e), HN_OK);
    assert_int_equal(hn_estimator_grad(e, 2, 2, loss, score, g, &s), HN_OK);
    assert_true(g[0] == 3.5 && g[1] == -0.5);
    assert_true(fabs(s.variance - 6.5) < 1e-12);
    assert_true(s.mean_loss == 2.0 && s.baseline == 0.0 && s.n_samples == 2);
    /* |S| = 1: eq. 3 is L * score; the variance is undefined */
    assert_int_equal(hn_estimator_grad(e, 1, 2, loss + 1, score, g, &s), HN_OK);
    assert_true(g[0] == 3.0 && g[1] == -3.0 && isnan(s.variance));
    hn_estimator_free(e);
    /* loo: b = (3, 1): terms (-2, 2), (4, 0) -> (1, 1) */
    o.baseline = HN_BASELINE_LOO;
    assert_int_equal(hn_estimator_new(&o, 2, &e), HN_OK);
    assert_int_equal(hn_estimator_grad(e, 2, 2, loss, score, g, &s), HN_OK);
    assert_true(g[0] == 1.0 && g[1] == 1.0 && s.baseline == 2.0);
    hn_estimator_free(e);
    /* ema, decay 0.5: step 1 has no baseline; then m = 1, b = 1/(1-0.5) = 2:
     * terms (-1, 1), (2, 0) -> (0.5, 0.5) */
    o.baseline = HN_BASELINE_EMA;
    o.decay = 0.5;
    assert_int_equal(hn_estimator_new(&o, 2, &e), HN_OK);
    assert_int_equal(hn_estimator_grad(e, 2, 2, loss, score, g, &s), HN_OK);
    assert_true(g[0] == 3.5 && s.baseline == 0.0);
    assert_int_equal(hn_estimator_grad(e, 2, 2, loss, score, g, &s), HN_OK);
    assert_true(g[0] == 0.5 && g[1] == 0.5 && s.baseline == 2.0);
    double m;
    long steps;
    hn_estimator_get_state(e, &m, &steps);
    assert_true(m == 1.5 && steps == 2); /* 0.5 * 1 + 0.5 * 2 */
    hn_estimator_reset(e);
    assert_int_equal(hn_estimator_grad(e, 2, 2, loss, score, g, &s), HN_OK);
    assert_true(s.baseline == 0.0);
    hn_estimator_free(e);
}

static void test_errors(void **st) {
    (void)st;
    hn_estimator_opts o = hn_estimator_opts_default();
    hn_estimator *e = NULL;
    double loss[2] = {1.0, 2.0}, score[12] = {0}, g[6] = {0};
    assert_int_equal(hn_estimator_new(&o, 6, &e), HN_OK);
    assert_int_equal(hn_estimator_grad(e, 0, 6, loss, score, g, NULL),
                     HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "|S| = 0 samples"));
    assert_int_equal(hn_estimator_grad(e, 2, 5, loss, score, g, NULL),
                     HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(),
                           "alpha has 5 parameters, the estimator was made "
                           "for 6"));
    loss[1] = NAN;
    assert_int_equal(hn_estimator_grad(e, 2, 6, loss, score, g, NULL),
                     HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "loss of sample 1"));
    hn_estimator_free(e);
    o.baseline = HN_BASELINE_LOO;
    assert_int_equal(hn_estimator_new(&o, 6, &e), HN_OK);
    assert_int_equal(hn_estimator_grad(e, 1, 6, loss, score, g, NULL),
                     HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "leave-one-out"));
    hn_estimator_free(e);
    o.baseline = HN_BASELINE_EMA;
    o.decay = 1.0;
    assert_int_equal(hn_estimator_new(&o, 6, &e), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "decay 1"));
    o.decay = 0.9;
    assert_int_equal(hn_estimator_new(&o, 0, &e), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "0 alpha parameters"));
    hn_baseline b;
    assert_int_equal(hn_baseline_parse("mean", &b), HN_ERR_INVAL);
    assert_non_null(strstr(hn_error_msg(), "unknown baseline 'mean'"));
    assert_int_equal(hn_baseline_parse("loo", &b), HN_OK);
    assert_int_equal(b, HN_BASELINE_LOO);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed_form_matches_fd),
        cmocka_unit_test(test_estimators_converge),
        cmocka_unit_test(test_hand_values),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
