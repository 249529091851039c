/* hn_stats_*: Pearson and Spearman correlation, ranks with ties (the code
 * of `hw report` moved to core/stats.c, now reentrant). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hetnas/stats.h"

static void test_pearson(void **state) {
    (void)state;
    const double x[5] = {1, 2, 3, 4, 5}, y[5] = {3, 5, 7, 9, 11};
    const double z[5] = {5, 4, 3, 2, 1}, c[5] = {2, 2, 2, 2, 2};
    assert_true(fabs(hn_stats_pearson(x, y, 5) - 1.0) < 1e-12);
    assert_true(fabs(hn_stats_pearson(x, z, 5) + 1.0) < 1e-12);
    assert_true(isnan(hn_stats_pearson(x, c, 5))); /* constant series */
    assert_true(isnan(hn_stats_pearson(x, y, 1)));
    /* x = 1..4, y = (1, 3, 2, 4): sxy = 4, sxx = syy = 5 -> 0.8 */
    const double y2[4] = {1, 3, 2, 4};
    assert_true(fabs(hn_stats_pearson(x, y2, 4) - 0.8) < 1e-12);
}

static void test_ranks_ties(void **state) {
    (void)state;
    const double v[6] = {10, 30, 20, 30, 10, 5};
    double r[6];
    assert_int_equal(hn_stats_ranks(v, 6, r), HN_OK);
    const double want[6] = {2.5, 5.5, 4, 5.5, 2.5, 1};
    for (int i = 0; i < 6; i++) assert_true(r[i] == want[i]);
}

static void test_spearman(void **state) {
    (void)state;
    /* monotone but not linear: Spearman 1, Pearson < 1 */
    const double x[6] = {1, 2, 3, 4, 5, 6}, y[6] = {1, 4, 9, 16, 25, 1000};
    double s;
    assert_int_equal(hn_stats_spearman(x, y, 6, &s), HN_OK);
    assert_true(fabs(s - 1.0) < 1e-12);
    assert_true(hn_stats_pearson(x, y, 6) < 0.9);
    /* nested use (the old code sorted through a global key) */
    double s2;
    assert_int_equal(hn_stats_spearman(y, x, 6, &s2), HN_OK);
    assert_true(s2 == s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pearson),
        cmocka_unit_test(test_ranks_ties),
        cmocka_unit_test(test_spearman),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
