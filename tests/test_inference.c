/* Inferential statistics against published values: Student t quantiles
 * (standard tables and the 68.27 % "one sigma" factors), the incomplete
 * beta function at closed forms, Welch's test on R's sleep data, Holm on
 * the Wikipedia example. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "hetnas/inference.h"

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

static void test_betainc_closed_forms(void **state) {
    (void)state;
    for (double x = 0.05; x < 1; x += 0.1) {
        NEAR(hn_betainc(1, 1, x), x, 1e-14);
        NEAR(hn_betainc(3, 1, x), x * x * x, 1e-13);
        NEAR(hn_betainc(1, 4, x), 1 - pow(1 - x, 4), 1e-13);
    }
    NEAR(hn_betainc(7.5, 7.5, 0.5), 0.5, 1e-13);
    NEAR(hn_betainc(0.5, 0.5, 0.25), 2 / M_PI * asin(0.5), 1e-13); /* arcsine law */
    assert_true(isnan(hn_betainc(-1, 1, 0.5)));
    assert_true(isnan(hn_betainc(1, 1, 1.5)));
}

/* Two-sided tables (e.g. NIST/SEMATECH e-Handbook 1.3.6.7.2). */
static void test_t_quantile_tables(void **state) {
    (void)state;
    NEAR(hn_t_quantile(0.975, 1), 12.706, 5e-4);
    NEAR(hn_t_quantile(0.975, 2), 4.303, 5e-4);
    NEAR(hn_t_quantile(0.975, 10), 2.228, 5e-4);
    NEAR(hn_t_quantile(0.95, 5), 2.015, 5e-4);
    NEAR(hn_t_quantile(0.995, 30), 2.750, 5e-4);
    NEAR(hn_t_quantile(0.999, 100), 3.174, 5e-4);
    NEAR(hn_t_quantile(0.975, 1e7), 1.959964, 1e-5);
    NEAR(hn_t_quantile(0.025, 10), -2.228, 5e-4);
    assert_true(hn_t_quantile(0.5, 3) == 0);
    /* one-sigma (68.27 %) coverage factors, e.g. the GUM's Table G.2:
     * nu = 1: 1.84, 2: 1.32, 3: 1.20, 10: 1.05 */
    double p = 0.5 + 0.6827 / 2;
    NEAR(hn_t_quantile(p, 1), 1.84, 5e-3);
    NEAR(hn_t_quantile(p, 2), 1.32, 5e-3);
    NEAR(hn_t_quantile(p, 3), 1.20, 5e-3);
    NEAR(hn_t_quantile(p, 10), 1.05, 5e-3);
    /* closed forms: nu = 1 Cauchy, nu = 2 t = (2p-1)/sqrt(2p(1-p)) */
    NEAR(hn_t_quantile(p, 1), tan(M_PI * (p - 0.5)), 1e-9);
    NEAR(hn_t_quantile(p, 2), (2 * p - 1) / sqrt(2 * p * (1 - p)), 1e-9);
    /* the quantile inverts the cdf, non-integer df included */
    for (double df = 0.7; df < 60; df *= 1.9)
        for (double q = 0.001; q < 1; q += 0.0997)
            NEAR(hn_t_cdf(hn_t_quantile(q, df), df), q, 1e-10);
    assert_true(isnan(hn_t_quantile(0, 3)) && isnan(hn_t_quantile(0.5, 0)));
}

static void test_summary(void **state) {
    (void)state;
    const double x[4] = {1, 2, 3, 4};
    hn_sample_summary s = hn_summarize(x, 4, 0.95);
    NEAR(s.mean, 2.5, 1e-15);
    NEAR(s.sd, sqrt(5.0 / 3.0), 1e-14);
    NEAR(s.ci_half, 3.182446 * sqrt(5.0 / 3.0) / 2, 1e-5);
    s = hn_summarize(x, 1, 0.95);
    assert_true(s.mean == 1 && isnan(s.sd) && isnan(s.ci_half));
}

/* R: t.test(extra ~ group, data = sleep) -> t = -1.8608, df = 17.776,
 * p-value = 0.07939 (Welch Two Sample t-test). */
static void test_welch_sleep(void **state) {
    (void)state;
    const double g1[10] = {0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0};
    const double g2[10] = {1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4};
    hn_sample_summary a = hn_summarize(g1, 10, 0.95), b = hn_summarize(g2, 10, 0.95);
    hn_welch w = hn_welch_test(a.mean, a.sd, 10, b.mean, b.sd, 10);
    NEAR(w.t, -1.8608, 1e-4);
    NEAR(w.df, 17.776, 1e-3);
    NEAR(w.p, 0.07939, 1e-5);
    /* unequal sizes and variances: hand-computed Satterthwaite df */
    w = hn_welch_test(10, 2, 5, 12, 4, 9);
    double v1 = 4.0 / 5, v2 = 16.0 / 9;
    NEAR(w.df, (v1 + v2) * (v1 + v2) / (v1 * v1 / 4 + v2 * v2 / 8), 1e-12);
    NEAR(w.t, -2 / sqrt(v1 + v2), 1e-12);
    /* no spread */
    w = hn_welch_test(1, 0, 3, 1, 0, 3);
    assert_true(w.p == 1 && w.t == 0);
    w = hn_welch_test(2, 0, 3, 1, 0, 3);
    assert_true(w.p == 0 && isinf(w.t));
}

/* Wikipedia, "Holm-Bonferroni method", example: p = 0.01, 0.04, 0.03,
 * 0.005 at alpha 0.05 rejects H1 and H4 only. */
static void test_holm(void **state) {
    (void)state;
    const double p[5] = {0.01, 0.04, 0.03, 0.005, NAN};
    double adj[5];
    hn_holm(p, 5, adj);
    NEAR(adj[3], 0.02, 1e-15);
    NEAR(adj[0], 0.03, 1e-15);
    NEAR(adj[2], 0.06, 1e-15);
    NEAR(adj[1], 0.06, 1e-15); /* monotone: max(0.04, 0.06) */
    assert_true(isnan(adj[4]));
    int rejected = 0;
    for (int i = 0; i < 4; i++) rejected += adj[i] <= 0.05;
    assert_int_equal(rejected, 2);
    assert_true(adj[0] <= 0.05 && adj[3] <= 0.05);
    const double big[2] = {0.6, 0.9};
    hn_holm(big, 2, adj);
    assert_true(adj[0] == 1 && adj[1] == 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_betainc_closed_forms),
        cmocka_unit_test(test_t_quantile_tables),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_welch_sleep),
        cmocka_unit_test(test_holm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
