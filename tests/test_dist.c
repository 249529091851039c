/* Search distributions: p sums to 1 over enumerated configurations, log p
 * against the textbook pmf, grad log p against finite differences (Lemmas
 * 3, 7), sampling frequencies (chi-square), expected configuration,
 * initialisation, per-stage groups, errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hetnas/arch.h"
#include "hetnas/config.h"
#include "hetnas/dist.h"
#include "search_enum.h"

static const hn_op OPS3[3] = {{2, 2}, {3, 3}, {8, 8}};
static const hn_op OPS4[4] = {{2, 2}, {2, 4}, {3, 3}, {8, 8}};

/* Tiny distributions: 2 multinomial layers C = 3, 2 (3 ops) per layer and
 * shared; 3 binomial layers C = 3, 2, 4 per layer and shared (C = 1 too). */
static hn_dist *tiny(hn_dist_kind kind, int shared) {
    hn_dist *d = NULL;
    if (kind == HN_DIST_MULTINOMIAL) {
        int w[2] = {3, 2}, g[2] = {0, 0};
        assert_int_equal(hn_dist_new_layers(kind, 2, w, shared ? g : NULL, 3,
                                            OPS3, &d), HN_OK);
        double a[6] = {0.3, -0.7, 1.1, -0.2, 0.5, 0.0};
        assert_int_equal(hn_dist_set_alpha(d, hn_dist_n_params(d), a), HN_OK);
    } else {
        int w[4] = {3, 2, 4, 1}, g[4] = {0, 1, 1, 0};
        assert_int_equal(hn_dist_new_layers(kind, 4, w, shared ? g : NULL, 0,
                                            NULL, &d), HN_OK);
        double a[4] = {0.4, -1.3, 0.8, 2.0};
        assert_int_equal(hn_dist_set_alpha(d, hn_dist_n_params(d), a), HN_OK);
    }
    return d;
}

/* Sum of p = 1, log p = log of the direct pmf, grad log p = central finite
 * differences of log p (h = 1e-5: truncation ~1e-10, rounding ~1e-11). */
static void check_enumerated(hn_dist *d) {
    int *all, N = enum_configs(d, &all);
    int P = hn_dist_n_params(d), row = hn_dist_n_layers(d) * hn_dist_n_ops(d);
    double alpha[16], grad[16], sum = 0.0;
    assert_int_equal(hn_dist_get_alpha(d, P, alpha), HN_OK);
    for (int i = 0; i < N; i++) {
        const int *c = all + i * row;
        double lp;
        assert_int_equal(hn_dist_log_prob(d, c, &lp), HN_OK);
        double direct = direct_prob(d, alpha, c);
        assert_true(fabs(lp - log(direct)) < 1e-12 * (1.0 + fabs(lp)));
        sum += exp(lp);
        assert_int_equal(hn_dist_grad_log_prob(d, c, P, grad), HN_OK);
        for (int j = 0; j < P; j++) {
            const double h = 1e-5, a0 = alpha[j];
            double lp_p, lp_m;
            alpha[j] = a0 + h;
            assert_int_equal(hn_dist_set_alpha(d, P, alpha), HN_OK);
            assert_int_equal(hn_dist_log_prob(d, c, &lp_p), HN_OK);
            alpha[j] = a0 - h;
            assert_int_equal(hn_dist_set_alpha(d, P, alpha), HN_OK);
            assert_int_equal(hn_dist_log_prob(d, c, &lp_m), HN_OK);
            alpha[j] = a0;
            assert_int_equal(hn_dist_set_alpha(d, P, alpha), HN_OK);
            double fd = (lp_p - lp_m) / (2 * h);
            if (fabs(fd - grad[j]) > 1e-7) {
                fprintf(stderr, "config %d alpha %d: fd %.10g vs grad %.10g\n",
                        i, j, fd, grad[j]);
                fail();
            }
        }
    }
    assert_true(fabs(sum - 1.0) < 1e-12);
    free(all);
}

static void test_enumerated_multinomial(void **st) {
    (void)st;
    for (int shared = 0; shared < 2; shared++) {
        hn_dist *d = tiny(HN_DIST_MULTINOMIAL, shared);
        int *all;
        assert_int_equal(enum_configs(d, &all), 10 * 6); /* C(5,2) C(4,2) */
        free(all);
        assert_int_equal(hn_dist_n_params(d), shared ? 3 : 6);
        check_enumerated(d);
        hn_dist_free(d);
    }
}

static void test_enumerated_binomial(void **st) {
    (void)st;
    for (int shared = 0; shared < 2; shared++) {
        hn_dist *d = tiny(HN_DIST_BINOMIAL, shared);
        int *all;
        assert_int_equal(enum_configs(d, &all), 3 * 2 * 4 * 1);
        free(all);
        assert_int_equal(hn_dist_n_params(d), shared ? 2 : 4);
        check_enumerated(d);
        hn_dist_free(d);
    }
}

/* The score formulas by hand at one point (Lemmas 2 and 6). */
static void test_score_by_hand(void **st) {
    (void)st;
    hn_dist *d = NULL;
    int w[1] = {5};
    assert_int_equal(hn_dist_new_layers(HN_DIST_BINOMIAL, 1, w, NULL, 0, NULL,
                                        &d), HN_OK);
    double a = log(0.25 / 0.75), g; /* p = 1/4 */
    assert_int_equal(hn_dist_set_alpha(d, 1, &a), HN_OK);
    int width = 3; /* binomial variable 2 of 4: 2 - 4/4 = 1 */
    assert_int_equal(hn_dist_grad_log_prob(d, &width, 1, &g), HN_OK);
    assert_true(fabs(g - 1.0) < 1e-12);
    hn_dist_free(d);

    assert_int_equal(hn_dist_new_layers(HN_DIST_MULTINOMIAL, 1, w, NULL, 3,
                                        OPS3, &d), HN_OK);
    double p[3] = {0.2, 0.3, 0.5}, gr[3];
    assert_int_equal(hn_dist_set_probs(d, 3, p), HN_OK);
    int c[3] = {1, 0, 4}; /* a - 5 p = (0, -1.5, 1.5) */
    assert_int_equal(hn_dist_grad_log_prob(d, c, 3, gr), HN_OK);
    assert_true(fabs(gr[0]) < 1e-12 && fabs(gr[1] + 1.5) < 1e-12 &&
                fabs(gr[2] - 1.5) < 1e-12);
    hn_dist_free(d);
}

/* ---- sampling ------------------------------------------------------------ */

/* Pearson chi-square; adjacent bins are merged left to right until each
 * expects >= 5 (a short tail joins the last bin).  *df = bins - 1. */
static double chi_square(int n, const long *obs, const double *pmf, long N,
                         int *df) {
    double stat = 0.0, e = 0.0, o = 0.0, last_e = 0.0, last_o = 0.0;
    int bins = 0;
    for (int i = 0; i < n; i++) {
        e += pmf[i] * N;
        o += obs[i];
        if (e >= 5.0) {
            if (bins > 0) stat += (last_o - last_e) * (last_o - last_e) / last_e;
            last_e = e, last_o = o, bins++;
            e = o = 0.0;
        }
    }
    last_e += e, last_o += o;
    stat += (last_o - last_e) * (last_o - last_e) / last_e;
    *df = bins - 1;
    return stat;
}

/* 0.999 quantile of chi-square(df), Wilson-Hilferty (z_0.999 = 3.0902). */
static double chi2_crit(int df) {
    double v = 2.0 / (9.0 * df);
    double t = 1.0 - v + 3.0902 * sqrt(v);
    return df * t * t * t;
}

static double binom_pmf(int n, int k, double p) {
    int s;
    return exp(lgamma_r(n + 1.0, &s) - lgamma_r(k + 1.0, &s) -
               lgamma_r(n - k + 1.0, &s) + k * log(p) + (n - k) * log1p(-p));
}

static void check_binomial_sampler(int n, double p, long N, uint64_t seed) {
    hn_rng r;
    hn_rng_seed(&r, seed, 11);
    long *obs = calloc((size_t)n + 1, sizeof(long));
    double *pmf = malloc(sizeof(double) * ((size_t)n + 1));
    for (long i = 0; i < N; i++) {
        int k = hn_rng_binomial(&r, n, p);
        assert_true(k >= 0 && k <= n);
        obs[k]++;
    }
    for (int k = 0; k <= n; k++) pmf[k] = binom_pmf(n, k, p);
    int df;
    double x2 = chi_square(n + 1, obs, pmf, N, &df);
    printf("binomial(%d, %g): chi2 %.1f, df %d, threshold %.1f\n", n, p, x2,
           df, chi2_crit(df));
    assert_true(df >= 1);
    assert_true(x2 < chi2_crit(df));
    free(obs);
    free(pmf);
}

/* Inversion (n q < 10), BTRS (n q >= 10, both sides of 1/2), very large n
 * (where walking the cdf from 0 would underflow). */
static void test_binomial_sampler_chi2(void **st) {
    (void)st;
    check_binomial_sampler(19, 0.5, 40000, 1);
    check_binomial_sampler(20, 0.5, 40000, 2);
    check_binomial_sampler(60, 0.1, 40000, 3);
    check_binomial_sampler(1000, 0.3, 40000, 4);
    check_binomial_sampler(1000, 0.8, 40000, 5);
    check_binomial_sampler(4095, 0.5, 40000, 6);
    check_binomial_sampler(200000, 0.01, 20000, 7);
    hn_rng r;
    hn_rng_seed(&r, 1, 1);
    assert_int_equal(hn_rng_binomial(&r, 0, 0.5), 0);
    assert_int_equal(hn_rng_binomial(&r, 7, 0.0), 0);
    assert_int_equal(hn_rng_binomial(&r, 7, 1.0), 7);
}

/* Whole-layer frequencies of the multinomial (21 outcomes of C = 5, 3 ops)
 * and of a per-stage binomial, through hn_dist_sample_counts. */
static void test_dist_sampling_chi2(void **st) {
    (void)st;
    hn_dist *ds[2] = {NULL, NULL};
    int w1[1] = {5};
    assert_int_equal(hn_dist_new_layers(HN_DIST_MULTINOMIAL, 1, w1, NULL, 3,
                                        OPS3, &ds[0]), HN_OK);
    double a[3] = {0.2, -0.5, 0.9};
    assert_int_equal(hn_dist_set_alpha(ds[0], 3, a), HN_OK);
    int w2[2] = {4, 3}, g2[2] = {0, 0};
    assert_int_equal(hn_dist_new_layers(HN_DIST_BINOMIAL, 2, w2, g2, 0, NULL,
                                        &ds[1]), HN_OK);
    double b = -0.4;
    assert_int_equal(hn_dist_set_alpha(ds[1], 1, &b), HN_OK);
    for (int k = 0; k < 2; k++) {
        hn_dist *d = ds[k];
        int *all, N = enum_configs(d, &all);
        int row = hn_dist_n_layers(d) * hn_dist_n_ops(d), c[8];
        long *obs = calloc((size_t)N, sizeof(long));
        double *pmf = malloc(sizeof(double) * (size_t)N), alpha[8];
        hn_dist_get_alpha(d, hn_dist_n_params(d), alpha);
        for (int i = 0; i < N; i++) pmf[i] = direct_prob(d, alpha, all + i * row);
        hn_rng r;
        hn_rng_seed(&r, 2024, (uint64_t)k);
        const long S = 50000;
        for (long s = 0; s < S; s++) {
            hn_dist_sample_counts(d, &r, c);
            int i = enum_index(all, N, row, c);
            assert_true(i >= 0);
            obs[i]++;
        }
        int df;
        double x2 = chi_square(N, obs, pmf, S, &df);
        printf("%s: chi2 %.1f, df %d, threshold %.1f\n",
               hn_dist_kind_name(hn_dist_get_kind(d)), x2, df, chi2_crit(df));
        assert_true(x2 < chi2_crit(df));
        free(all);
        free(obs);
        free(pmf);
        hn_dist_free(d);
    }
}

/* Large C: each op's count in Multinomial(C, p) is Binomial(C, p_t); checks
 * the sequential conditional binomials at C = 256. */
static void test_multinomial_marginals_large(void **st) {
    (void)st;
    hn_dist *d = NULL;
    int w[1] = {256};
    assert_int_equal(hn_dist_new_layers(HN_DIST_MULTINOMIAL, 1, w, NULL, 4,
                                        OPS4, &d), HN_OK);
    double p[4] = {0.05, 0.15, 0.3, 0.5};
    assert_int_equal(hn_dist_set_probs(d, 4, p), HN_OK);
    const long N = 30000;
    long *obs = calloc(4 * 257, sizeof(long));
    hn_rng r;
    hn_rng_seed(&r, 77, 0);
    for (long s = 0; s < N; s++) {
        int c[4];
        hn_dist_sample_counts(d, &r, c);
        assert_int_equal(c[0] + c[1] + c[2] + c[3], 256);
        for (int t = 0; t < 4; t++) obs[t * 257 + c[t]]++;
    }
    double pmf[257];
    for (int t = 0; t < 4; t++) {
        for (int k = 0; k <= 256; k++) pmf[k] = binom_pmf(256, k, p[t]);
        int df;
        double x2 = chi_square(257, obs + t * 257, pmf, N, &df);
        printf("multinomial C=256 op %d marginal: chi2 %.1f, df %d, "
               "threshold %.1f\n", t, x2, df, chi2_crit(df));
        assert_true(x2 < chi2_crit(df));
    }
    free(obs);
    hn_dist_free(d);
}

/* ---- expected configuration --------------------------------------------- */

static void test_expected_configuration(void **st) {
    (void)st;
    /* E = 16 * (0.3, 0.3, 0.4) = (4.8, 4.8, 6.4): largest remainder gives
     * (5, 5, 6), floor + remainder-to-last (the reference code) (4, 4, 8). */
    hn_dist *d = NULL;
    int w[2] = {16, 7};
    assert_int_equal(hn_dist_new_layers(HN_DIST_MULTINOMIAL, 2, w, NULL, 3,
                                        OPS3, &d), HN_OK);
    double p[6] = {0.3, 0.3, 0.4, 1.0 / 3, 1.0 / 3, 1.0 / 3};
    assert_int_equal(hn_dist_set_probs(d, 6, p), HN_OK);
    int c[6];
    hn_dist_expected_counts(d, c);
    assert_int_equal(c[0], 5);
    assert_int_equal(c[1], 5);
    assert_int_equal(c[2], 6);
    assert_int_equal(c[3] + c[4] + c[5], 7); /* 7/3 each: ties -> low index */
    assert_int_equal(c[3], 3);
    double lr_err = 0.0, fl_err = 0.0;
    int fl[3], left = 16;
    for (int t = 0; t < 3; t++) {
        fl[t] = (int)floor(16 * p[t]);
        left -= fl[t];
    }
    fl[2] += left;
    for (int t = 0; t < 3; t++) {
        lr_err += fabs(c[t] - 16 * p[t]);
        fl_err += fabs(fl[t] - 16 * p[t]);
    }
    printf("expected config L1 error: largest remainder %.2f, floor+last "
           "%.2f\n", lr_err, fl_err);
    assert_true(lr_err < fl_err);
    assert_int_equal(fl[2], 8);
    hn_dist_free(d);

    /* Rounding helper: sums exactly even when the inputs do not. */
    double x[4] = {0.1, 0.1, 0.1, 0.1};
    int out[4];
    hn_round_largest_remainder(4, x, 3, out);
    assert_int_equal(out[0] + out[1] + out[2] + out[3], 3);
    assert_int_equal(out[3], 0);

    /* Binomial: round(1 + (C-1) p) clamped to [1, C]. */
    int wb[3] = {16, 16, 1};
    assert_int_equal(hn_dist_new_layers(HN_DIST_BINOMIAL, 3, wb, NULL, 0, NULL,
                                        &d), HN_OK);
    double pb[3] = {0.5, 1e-9, 0.9};
    assert_int_equal(hn_dist_set_probs(d, 3, pb), HN_OK);
    hn_dist_expected_counts(d, c);
    assert_int_equal(c[0], 9); /* 1 + 7.5 = 8.5 -> 9 */
    assert_int_equal(c[1], 1);
    assert_int_equal(c[2], 1);
    hn_dist_free(d);
}

/* ---- initialisation, ResNet mapping, configs, errors --------------------- */

static void test_reference_init(void **st) {
    (void)st;
    hn_dist *d = NULL;
    int w[2] = {16, 32};
    assert_int_equal(hn_dist_new_layers(HN_DIST_MULTINOMIAL, 2, w, NULL, 4,
                                        OPS4, &d), HN_OK);
    double p[8];
    assert_int_equal(hn_dist_get_probs(d, 8, p), HN_OK);
    for (int i = 0; i < 8; i++) assert_true(fabs(p[i] - 0.25) < 1e-15);
    assert_int_equal(hn_dist_init_params(d, HN_DIST_INIT_REFERENCE), HN_OK);
    assert_int_equal(hn_dist_get_probs(d, 8, p), HN_OK);
    for (int g = 0; g < 2; g++)
        for (int t = 0; t < 4; t++) /* (8,8) at 1/7, the others 2/7 */
            assert_true(fabs(p[g * 4 + t] - (t == 3 ? 1.0 : 2.0) / 7.0) < 1e-15);
    hn_dist_free(d);
    assert_int_equal(hn_dist_new_layers(HN_DIST_BINOMIAL, 2, w, NULL, 0, NULL,
                                        &d), HN_OK);
    assert_int_equal(hn_dist_init_params(d, HN_DIST_INIT_REFERENCE),
                     HN_ERR_INVAL);
    assert_non_null(strstr(hn_error_msg(), "multinomial only"));
    hn_dist_free(d);
}

static void test_resnet_stage_groups_and_configs(void **st) {
    (void)st;
    hn_resnet_spec spec = hn_resnet_spec_default();
    hn_arch *a = NULL;
    assert_int_equal(hn_arch_resnet(&spec, &a), HN_OK);
    hn_dist *d = NULL;
    hn_op fp = {HN_BITS_FP, HN_BITS_FP};
    assert_int_equal(hn_dist_new(a, HN_DIST_BINOMIAL, HN_DIST_PER_STAGE, 1,
                                 &fp, &d), HN_OK);
    assert_int_equal(hn_dist_n_groups(d), 3);
    assert_int_equal(hn_dist_group(d, hn_arch_find(a, "stem")), 0);
    assert_int_equal(hn_dist_group(d, hn_arch_find(a, "s1.b2.conv2")), 0);
    assert_int_equal(hn_dist_group(d, hn_arch_find(a, "s2.b0.down")), 1);
    assert_int_equal(hn_dist_group(d, hn_arch_find(a, "s3.b0.conv1")), 2);
    double al[3] = {1.0, -0.5, 0.2};
    assert_int_equal(hn_dist_set_alpha(d, 3, al), HN_OK);

    /* Same seed, same configuration; its counts give back the same log p. */
    hn_rng r1, r2;
    hn_rng_seed(&r1, 5, 3);
    hn_rng_seed(&r2, 5, 3);
    hn_config *c1 = NULL, *c2 = NULL;
    assert_int_equal(hn_dist_sample(d, a, &r1, &c1), HN_OK);
    assert_int_equal(hn_dist_sample(d, a, &r2, &c2), HN_OK);
    int n = hn_arch_n_layers(a), k1[32], k2[32];
    assert_int_equal(hn_dist_config_counts(d, c1, k1), HN_OK);
    assert_int_equal(hn_dist_config_counts(d, c2, k2), HN_OK);
    assert_memory_equal(k1, k2, sizeof(int) * (size_t)n);
    double lp;
    assert_int_equal(hn_dist_log_prob(d, k1, &lp), HN_OK);
    assert_true(isfinite(lp) && lp < 0.0);
    hn_config_free(c1);
    hn_config_free(c2);
    assert_int_equal(hn_dist_expected(d, a, &c1), HN_OK);
    /* stage 1 p = sigmoid(1) = 0.731: 1 + 15 * 0.731 = 11.97 -> 12 */
    assert_int_equal(hn_config_width(c1, 0), 12);
    hn_config_free(c1);
    hn_dist_free(d);

    /* Multinomial over the reference op set: sampled configs are valid
     * hn_configs whose rows sum to C_l; error messages name the layer. */
    assert_int_equal(hn_dist_new(a, HN_DIST_MULTINOMIAL, HN_DIST_PER_LAYER, 4,
                                 OPS4, &d), HN_OK);
    assert_int_equal(hn_dist_n_params(d), 21 * 4);
    assert_int_equal(hn_dist_init_params(d, HN_DIST_INIT_REFERENCE), HN_OK);
    assert_int_equal(hn_dist_sample(d, a, &r1, &c1), HN_OK);
    for (int l = 0; l < n; l++)
        assert_int_equal(hn_config_width(c1, l), hn_arch_layer(a, l)->c_out);
    int *cnt = malloc(sizeof(int) * (size_t)(n * 4));
    assert_int_equal(hn_dist_config_counts(d, c1, cnt), HN_OK);
    cnt[1 * 4 + 2] += 1; /* s1.b0.conv1 now sums to 17 */
    assert_int_equal(hn_dist_log_prob(d, cnt, &lp), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "s1.b0.conv1"));
    assert_non_null(strstr(hn_error_msg(), "sum to 17"));
    free(cnt);
    hn_config_free(c1);
    hn_dist_free(d);
    hn_arch_free(a);
}

static void test_errors(void **st) {
    (void)st;
    hn_dist *d = tiny(HN_DIST_MULTINOMIAL, 0);
    double a[7] = {0};
    assert_int_equal(hn_dist_set_alpha(d, 5, a), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "alpha has 5 values, expected 6"));
    assert_int_equal(hn_dist_grad_log_prob(d, (int[]){3, 0, 0, 0, 2, 0}, 7, a),
                     HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "gradient has 7 values"));
    a[2] = NAN;
    assert_int_equal(hn_dist_set_alpha(d, 6, a), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "alpha[2]"));
    double p[6] = {0.5, 0.5, 0.5, 0.2, 0.3, 0.5};
    assert_int_equal(hn_dist_set_probs(d, 6, p), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "p[0] sums to 1.5"));
    hn_dist_kind k;
    hn_dist_share s;
    assert_int_equal(hn_dist_kind_parse("categorical", &k), HN_ERR_INVAL);
    assert_non_null(strstr(hn_error_msg(), "'categorical'"));
    assert_int_equal(hn_dist_kind_parse("binomial", &k), HN_OK);
    assert_int_equal(k, HN_DIST_BINOMIAL);
    assert_int_equal(hn_dist_share_parse("block", &s), HN_ERR_INVAL);
    assert_non_null(strstr(hn_error_msg(), "'block'"));
    hn_dist_free(d);
    d = tiny(HN_DIST_BINOMIAL, 0);
    double lp;
    assert_int_equal(hn_dist_log_prob(d, (int[]){3, 3, 1, 1}, &lp),
                     HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "layer 1: width 3 outside 1..2"));
    hn_dist_free(d);
    int w[2] = {3, 0};
    assert_int_equal(hn_dist_new_layers(HN_DIST_BINOMIAL, 2, w, NULL, 0, NULL,
                                        &d), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "layer 1: width 0"));
}

static void test_numerics(void **st) {
    (void)st;
    double x[3] = {1000.0, 1000.0, -1e300};
    assert_true(fabs(hn_logsumexp(3, x) - (1000.0 + log(2.0))) < 1e-12);
    double s[3];
    hn_softmax(3, x, s);
    /* 1000 + log 2 carries an ulp of 1e-13 */
    assert_true(fabs(s[0] - 0.5) < 1e-12 && s[2] == 0.0);
    assert_true(hn_log_sigmoid(-1000.0) == -1000.0);
    assert_true(fabs(hn_log_sigmoid(1000.0)) < 1e-300);
    assert_true(hn_sigmoid(-1000.0) >= 0.0 && hn_sigmoid(1000.0) == 1.0);
    assert_true(fabs(hn_sigmoid(0.3) - 1.0 / (1.0 + exp(-0.3))) < 1e-16);
    /* log p of an extreme alpha stays finite */
    hn_dist *d = NULL;
    int w[1] = {64};
    assert_int_equal(hn_dist_new_layers(HN_DIST_MULTINOMIAL, 1, w, NULL, 3,
                                        OPS3, &d), HN_OK);
    double a[3] = {800.0, 0.0, -800.0}, lp;
    assert_int_equal(hn_dist_set_alpha(d, 3, a), HN_OK);
    assert_int_equal(hn_dist_log_prob(d, (int[]){64, 0, 0}, &lp), HN_OK);
    assert_true(fabs(lp) < 1e-12);
    assert_int_equal(hn_dist_log_prob(d, (int[]){63, 1, 0}, &lp), HN_OK);
    assert_true(fabs(lp - (log(64.0) - 800.0)) < 1e-9);
    hn_dist_free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enumerated_multinomial),
        cmocka_unit_test(test_enumerated_binomial),
        cmocka_unit_test(test_score_by_hand),
        cmocka_unit_test(test_binomial_sampler_chi2),
        cmocka_unit_test(test_dist_sampling_chi2),
        cmocka_unit_test(test_multinomial_marginals_large),
        cmocka_unit_test(test_expected_configuration),
        cmocka_unit_test(test_reference_init),
        cmocka_unit_test(test_resnet_stage_groups_and_configs),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_numerics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
