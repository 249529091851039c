/* PCG32 against the reference sequence, and the distributions' moments. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hetnas/rng.h"

/* pcg32_srandom_r(&rng, 42, 54) from the PCG reference (pcg32-demo). */
static void test_reference_sequence(void **state) {
    (void)state;
    const uint32_t expect[6] = {0xa15c02b7, 0x7b47f409, 0xba1d3330,
                                0x83d2f293, 0xbfa4784b, 0xcbed606e};
    hn_rng r;
    hn_rng_seed(&r, 42, 54);
    for (int i = 0; i < 6; i++) assert_int_equal(hn_rng_u32(&r), expect[i]);
}

static void test_streams_differ_and_repeat(void **state) {
    (void)state;
    hn_rng a, b, c;
    hn_rng_seed(&a, 1, 0);
    hn_rng_seed(&b, 1, 1);
    hn_rng_seed(&c, 1, 0);
    int same = 0;
    for (int i = 0; i < 100; i++) {
        uint32_t x = hn_rng_u32(&a), y = hn_rng_u32(&b);
        same += x == y;
        assert_int_equal(x, hn_rng_u32(&c));
    }
    assert_true(same < 3);
}

static void test_uniform_and_below(void **state) {
    (void)state;
    hn_rng r;
    hn_rng_seed(&r, 9, 9);
    int hist[7] = {0};
    double s = 0;
    const int N = 70000;
    for (int i = 0; i < N; i++) {
        double u = hn_rng_uniform(&r);
        float f = hn_rng_uniformf(&r);
        assert_true(u >= 0.0 && u < 1.0);
        assert_true(f >= 0.0f && f < 1.0f);
        s += u;
        hist[hn_rng_below(&r, 7)]++;
    }
    assert_true(fabs(s / N - 0.5) < 0.01);
    for (int k = 0; k < 7; k++) assert_true(abs(hist[k] - N / 7) < 400);
}

static void test_normal_moments(void **state) {
    (void)state;
    hn_rng r;
    hn_rng_seed(&r, 3, 0);
    double s = 0, s2 = 0;
    const int N = 100000;
    for (int i = 0; i < N; i++) {
        double x = hn_rng_normal(&r);
        s += x;
        s2 += x * x;
    }
    assert_true(fabs(s / N) < 0.02);
    assert_true(fabs(s2 / N - 1.0) < 0.02);
}

static void test_binomial_moments(void **state) {
    (void)state;
    hn_rng r;
    hn_rng_seed(&r, 5, 1);
    const int ns[3] = {15, 63, 255};
    const double ps[3] = {0.1, 0.5, 0.83};
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            int n = ns[a];
            double p = ps[b], s = 0, s2 = 0;
            const int N = 20000;
            for (int i = 0; i < N; i++) {
                int k = hn_rng_binomial(&r, n, p);
                assert_true(k >= 0 && k <= n);
                s += k;
                s2 += (double)k * k;
            }
            double mean = s / N, var = s2 / N - mean * mean;
            double sd = sqrt(n * p * (1 - p));
            /* 5 standard errors of the mean; variance within 10%. */
            assert_true(fabs(mean - n * p) < 5 * sd / sqrt(N));
            assert_true(fabs(var / (n * p * (1 - p)) - 1.0) < 0.1);
        }
    assert_int_equal(hn_rng_binomial(&r, 10, 0.0), 0);
    assert_int_equal(hn_rng_binomial(&r, 10, 1.0), 10);
}

static void test_multinomial(void **state) {
    (void)state;
    hn_rng r;
    hn_rng_seed(&r, 11, 2);
    const double p[4] = {0.1, 0.2, 0.3, 0.4};
    double mean[4] = {0};
    const int N = 20000, n = 64;
    for (int i = 0; i < N; i++) {
        int out[4];
        hn_rng_multinomial(&r, n, 4, p, out);
        int sum = 0;
        for (int k = 0; k < 4; k++) {
            assert_true(out[k] >= 0);
            sum += out[k];
            mean[k] += out[k];
        }
        assert_int_equal(sum, n);
    }
    for (int k = 0; k < 4; k++) {
        double sd = sqrt(n * p[k] * (1 - p[k]));
        assert_true(fabs(mean[k] / N - n * p[k]) < 5 * sd / sqrt(N));
    }
    /* Unnormalised weights and zeros. */
    const double q[3] = {0.0, 3.0, 0.0};
    int out[3];
    hn_rng_multinomial(&r, 16, 3, q, out);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 16);
    assert_int_equal(out[2], 0);
}

static void test_shuffle_is_permutation(void **state) {
    (void)state;
    hn_rng r;
    hn_rng_seed(&r, 1, 1);
    int a[100], seen[100] = {0};
    for (int i = 0; i < 100; i++) a[i] = i;
    hn_rng_shuffle(&r, a, 100);
    int moved = 0;
    for (int i = 0; i < 100; i++) {
        seen[a[i]]++;
        moved += a[i] != i;
    }
    for (int i = 0; i < 100; i++) assert_int_equal(seen[i], 1);
    assert_true(moved > 80);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_sequence),
        cmocka_unit_test(test_streams_differ_and_repeat),
        cmocka_unit_test(test_uniform_and_below),
        cmocka_unit_test(test_normal_moments),
        cmocka_unit_test(test_binomial_moments),
        cmocka_unit_test(test_multinomial),
        cmocka_unit_test(test_shuffle_is_permutation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
