/* Integer network (intnet.h) against the fake-quant float model, its conv
 * against the oracle, requantization rounding, overflow and bad input. */
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
#include "hetnas/hwref.h"
#include "hetnas/intnet.h"
#include "hetnas/nn.h"
#include "hetnas/rng.h"

static const float k_mean[1] = {0.2860f}, k_std[1] = {0.3530f};

/* Normalized floats of codes, as the loader computes them. */
static void norm_of(const uint8_t *q, size_t n, float *x) {
    for (size_t i = 0; i < n; i++)
        x[i] = ((float)q[i] / 255.0f - k_mean[0]) / k_std[0];
}

static hn_arch *arch8(double width, int hw) {
    hn_resnet_spec sp = hn_resnet_spec_default();
    sp.depth = 8;
    sp.in_c = 1; sp.in_h = hw; sp.in_w = hw;
    sp.width = width;
    sp.num_classes = 10;
    hn_arch *a = NULL;
    assert_int_equal(hn_arch_resnet(&sp, &a), HN_OK);
    return a;
}

/* Images whose class is a brightness pattern: learnable in a few steps. */
static void gen_data(int n, int hw, uint64_t seed, uint8_t *q, int *y) {
    hn_rng r;
    hn_rng_seed(&r, seed, 7);
    for (int i = 0; i < n; i++) {
        int cls = (int)hn_rng_below(&r, 10);
        y[i] = cls;
        for (int p = 0; p < hw * hw; p++) {
            int row = p / hw, col = p % hw;
            double base = ((row * 10 / hw) == cls ? 200.0 : 40.0) +
                          ((col * 10 / hw) == cls ? 30.0 : 0.0);
            double v = base + 40.0 * hn_rng_normal(&r);
            q[(size_t)i * hw * hw + p] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : (int)v);
        }
    }
}

/* A tiny trained ResNet-8 of config c (8-bit input, calibrated clamps). */
static hn_model *train_tiny(hn_arch *a, hn_config *c, int hw, int steps) {
    hn_model_opts o = hn_model_opts_default();
    o.conv = HN_CONV_REF;
    hn_model *m = NULL;
    assert_int_equal(hn_model_new(a, c, &o, &m), HN_OK);
    hn_model_set_input_norm(m, k_mean, k_std);
    enum { N = 32 };
    uint8_t *q = malloc((size_t)N * hw * hw);
    float *x = malloc(sizeof(float) * N * hw * hw), z[N * 10], dz[N * 10];
    int y[N];
    gen_data(N, hw, 100, q, y);
    norm_of(q, (size_t)N * hw * hw, x);
    assert_int_equal(hn_model_calibrate_clamps(m, x, N), HN_OK);
    for (int s = 0; s < steps; s++) {
        gen_data(N, hw, 200 + (uint64_t)s, q, y);
        norm_of(q, (size_t)N * hw * hw, x);
        hn_model_zero_grad(m);
        assert_int_equal(hn_model_forward(m, x, N, 1, z), HN_OK);
        hn_softmax_ce(z, y, N, 10, dz, NULL);
        assert_int_equal(hn_model_backward(m, dz), HN_OK);
        for (int i = 0; i < hn_model_n_params(m); i++) {
            hn_param p = hn_model_param(m, i);
            if (!p.grad) continue;
            float lr = p.kind == HN_PARAM_CLAMP ? 0.01f : 0.05f;
            for (size_t j = 0; j < p.numel; j++) p.data[j] -= lr * p.grad[j];
        }
    }
    free(q); free(x);
    return m;
}

typedef struct agree { int n, same, correct_f, correct_i; double max_dz, zmax; } agree;

static agree compare(hn_model *m, hn_intnet *net, int hw, int n, uint64_t seed) {
    agree r = {0};
    uint8_t *q = malloc((size_t)n * hw * hw), *q2 = malloc((size_t)n * hw * hw);
    float *x = malloc(sizeof(float) * n * hw * hw);
    float *zf = malloc(sizeof(float) * n * 10), *zi = malloc(sizeof(float) * n * 10);
    int *y = malloc(sizeof(int) * n);
    gen_data(n, hw, seed, q, y);
    norm_of(q, (size_t)n * hw * hw, x);
    /* 8-bit input round trip is exact */
    hn_intnet_codes_from_norm(x, n, 1, hw * hw, k_mean, k_std, q2);
    assert_memory_equal(q, q2, (size_t)n * hw * hw);
    assert_int_equal(hn_model_forward(m, x, n, 0, zf), HN_OK);
    assert_int_equal(hn_intnet_forward(net, q2, n, zi), HN_OK);
    for (int i = 0; i < n; i++) {
        int af = 0, ai = 0;
        for (int k = 1; k < 10; k++) {
            if (zf[i * 10 + k] > zf[i * 10 + af]) af = k;
            if (zi[i * 10 + k] > zi[i * 10 + ai]) ai = k;
        }
        for (int k = 0; k < 10; k++) {
            r.max_dz = fmax(r.max_dz, fabs(zf[i * 10 + k] - zi[i * 10 + k]));
            r.zmax = fmax(r.zmax, fabs(zf[i * 10 + k]));
        }
        r.same += af == ai;
        r.correct_f += af == y[i];
        r.correct_i += ai == y[i];
    }
    r.n = n;
    free(q); free(q2); free(x); free(zf); free(zi); free(y);
    return r;
}

/* Mixed ops (b_a 2/3/4, b_w 1..4), pruning, a down conv and an identity
 * shortcut: the integer network computes the fake-quant model. */
static void test_agreement(void **st) {
    (void)st;
    const int hw = 12;
    hn_arch *a = arch8(0.5, hw);
    int L = hn_arch_n_layers(a);
    hn_op ops[4] = {{2, 2}, {4, 4}, {3, 3}, {1, 2}};
    int *counts = calloc((size_t)4 * L, sizeof(int));
    for (int l = 0; l < L; l++) {
        int co = hn_arch_layer(a, l)->c_out;
        int keep = co - (l % 2); /* some pruning */
        counts[4 * l] = keep / 4;
        counts[4 * l + 1] = keep / 4;
        counts[4 * l + 2] = keep / 4;
        counts[4 * l + 3] = keep - 3 * (keep / 4);
    }
    hn_config *c = NULL;
    assert_int_equal(hn_config_new(a, 4, ops, counts, &c), HN_OK);
    hn_model *m = train_tiny(a, c, hw, 40);
    hn_intnet *net = NULL;
    assert_int_equal(hn_intnet_new(m, NULL, &net), HN_OK);
    agree r = compare(m, net, hw, 1000, 777);
    printf("agreement %d/%d (%.2f%%), max |dlogit| %.3g (max |logit| %.3g), "
           "acc float %.1f%% int %.1f%%\n", r.same, r.n, 100.0 * r.same / r.n,
           r.max_dz, r.zmax, 100.0 * r.correct_f / r.n, 100.0 * r.correct_i / r.n);
    assert_true(r.correct_f > r.n / 5); /* it learned something */
    assert_true(r.same * 1000 >= 995 * r.n);
    assert_true(r.max_dz <= 0.05 * r.zmax + 1e-3);
    /* every integer backend gives these logits: tests/test_backend_ops.c */
    hn_intnet_free(net);
    /* homogeneous (8,8): finer grids, tighter */
    hn_config *c8 = NULL;
    assert_int_equal(hn_config_homogeneous(a, (hn_op){8, 8}, &c8), HN_OK);
    hn_model *m8 = train_tiny(a, c8, hw, 20);
    assert_int_equal(hn_intnet_new(m8, NULL, &net), HN_OK);
    r = compare(m8, net, hw, 500, 778);
    printf("(8,8): agreement %d/%d, max |dlogit| %.3g (max |logit| %.3g)\n",
           r.same, r.n, r.max_dz, r.zmax);
    assert_true(r.same * 1000 >= 995 * r.n);
    assert_true(r.max_dz <= 0.01 * r.zmax + 1e-3);
    hn_intnet_free(net);
    hn_model_free(m8); hn_config_free(c8);
    hn_model_free(m); hn_config_free(c); free(counts); hn_arch_free(a);
}

/* The golden conv (MSB-aligned) equals the oracle on pre-shifted codes. */
static void test_conv_msb_aligned(void **st) {
    (void)st;
    hn_rng r;
    hn_rng_seed(&r, 5, 1);
    for (int t = 0; t < 30; t++) {
        hn_hwjob j;
        memset(&j, 0, sizeof j);
        assert_int_equal(hn_hwjob_random(&r, 1, 8, 8, &j), HN_OK);
        int oh, ow;
        hn_hwjob_out_dims(&j, &oh, &ow);
        size_t osz = (size_t)j.c_out * oh * ow;
        int32_t *a1 = malloc(sizeof(int32_t) * osz), *a2 = malloc(sizeof(int32_t) * osz);
        assert_int_equal(hn_intnet_conv_ref(&j, a1, NULL), HN_OK);
        int B = 0;
        for (int g = 0; g < j.n_in_groups; g++) if (j.in_groups[g].bits > B) B = j.in_groups[g].bits;
        hn_hwjob s = j;
        s.acts = malloc(sizeof(int32_t) * (size_t)j.c_in * j.in_h * j.in_w);
        for (int g = 0, c = 0; g < j.n_in_groups; g++)
            for (int i = 0; i < j.in_groups[g].n; i++, c++)
                for (int p = 0; p < j.in_h * j.in_w; p++)
                    s.acts[(size_t)c * j.in_h * j.in_w + p] =
                        j.acts[(size_t)c * j.in_h * j.in_w + p] << (B - j.in_groups[g].bits);
        for (int g = 0; g < s.n_in_groups; g++) s.in_groups[g].bits = B;
        assert_int_equal(hn_hwref_conv(&s, a2), HN_OK);
        assert_memory_equal(a1, a2, sizeof(int32_t) * osz);
        free(s.acts); free(a1); free(a2);
        hn_hwjob_free(&j);
    }
}

/* Folding the normalization into the stem: with mean 0 the zero padding of
 * the normalized input is code 0 too, so the folded model is the original
 * one up to float rounding (with mean != 0 it differs at the border only,
 * docs/nn.md). */
static void test_fold_input(void **st) {
    (void)st;
    const int hw = 8, n = 8;
    hn_arch *a = arch8(0.5, hw);
    hn_model_opts o = hn_model_opts_default();
    o.conv = HN_CONV_REF;
    hn_model *m1 = NULL, *m2 = NULL;
    assert_int_equal(hn_model_new(a, NULL, &o, &m1), HN_OK);
    assert_int_equal(hn_model_new(a, NULL, &o, &m2), HN_OK);
    /* non-trivial BN statistics */
    for (int i = 0; i < hn_model_n_params(m1); i++) {
        hn_param p = hn_model_param(m1, i);
        if (p.kind != HN_PARAM_BUFFER) continue;
        int var = strstr(p.name, "running_var") != NULL;
        for (size_t j = 0; j < p.numel; j++)
            p.data[j] = var ? 0.5f + 0.1f * (float)(j % 7) : 0.05f * (float)(j % 5) - 0.1f;
    }
    uint8_t q[8 * 64];
    int y[8];
    gen_data(n, hw, 3, q, y);
    float mean0[1] = {0.0f}, sd[1] = {0.35f}, x[8 * 64], z1[80], z2[80];
    for (int i = 0; i < n * hw * hw; i++) x[i] = ((float)q[i] / 255.0f) / sd[0];
    assert_int_equal(hn_model_forward(m1, x, n, 0, z1), HN_OK);
    for (int i = 0; i < hn_model_n_params(m1); i++) {
        hn_param p1 = hn_model_param(m1, i), p2 = hn_model_param(m2, i);
        memcpy(p2.data, p1.data, sizeof(float) * p1.numel);
    }
    hn_model_set_input_norm(m2, mean0, sd);
    /* without the fold the model is another one */
    assert_int_equal(hn_model_forward(m2, x, n, 0, z2), HN_OK);
    double dnf = 0;
    for (int i = 0; i < n * 10; i++) dnf = fmax(dnf, fabs(z1[i] - z2[i]));
    assert_true(dnf > 1e-3);
    assert_int_equal(hn_model_fold_input_norm(m2), HN_OK);
    assert_int_equal(hn_model_forward(m2, x, n, 0, z2), HN_OK);
    double zmax = 0, dmax = 0;
    for (int i = 0; i < n * 10; i++) {
        zmax = fmax(zmax, fabs(z1[i]));
        dmax = fmax(dmax, fabs(z1[i] - z2[i]));
    }
    printf("fold (mean 0): max |dlogit| %.3g of %.3g\n", dmax, zmax);
    assert_true(dmax <= 1e-4 * zmax + 1e-6);
    hn_model_free(m1); hn_model_free(m2); hn_arch_free(a);
}

/* Requantization rounds half up, like the model (hn_roundf). */
static void test_requant_half_up(void **st) {
    (void)st;
    /* scale 1/4 exactly: mult 2^30, shift 32 */
    int32_t mult; int shift; int64_t bias;
    assert_int_equal(hn_hwrq_from_real(0.25, 0.0, &mult, &shift, &bias), HN_OK);
    int32_t acc[8] = {2, 6, 10, -2, -6, 1, 3, 400}, out[8];
    int bits = 4;
    hn_hwrq rq = {1, &mult, &bias, &shift, &bits, 0};
    assert_int_equal(hn_hwref_requant(&rq, acc, 8, out), HN_OK);
    int32_t want[8] = {1, 2, 3, 0, -1, 0, 1, 100}; /* .5 -> up, -.5 -> 0, -1.5 -> -1 */
    assert_memory_equal(out, want, sizeof want);
    rq.relu = 1;
    assert_int_equal(hn_hwref_requant(&rq, acc, 8, out), HN_OK);
    int32_t want2[8] = {1, 2, 3, 0, 0, 0, 1, 15};
    assert_memory_equal(out, want2, sizeof want2);
}

static void test_bad_input(void **st) {
    (void)st;
    const int hw = 8;
    hn_arch *a = arch8(0.5, hw);
    hn_intnet *net = NULL;
    /* full-precision op: refused naming the layer */
    hn_config *fp = NULL;
    assert_int_equal(hn_config_homogeneous(a, (hn_op){HN_BITS_FP, HN_BITS_FP}, &fp), HN_OK);
    hn_model *m = NULL;
    assert_int_equal(hn_model_new(a, fp, NULL, &m), HN_OK);
    hn_model_set_input_norm(m, k_mean, k_std);
    /* uncalibrated clamps */
    assert_int_equal(hn_intnet_new(m, NULL, &net), HN_ERR_INVAL);
    assert_non_null(strstr(hn_error_msg(), "not calibrated"));
    hn_model_set_clamps_calibrated(m, 1);
    assert_int_equal(hn_intnet_new(m, NULL, &net), HN_ERR_UNSUPPORTED);
    assert_non_null(strstr(hn_error_msg(), "stem"));
    /* beyond the array's bits (the C reference would take 12) */
    hn_config *c12 = NULL;
    assert_int_equal(hn_config_homogeneous(a, (hn_op){12, 4}, &c12), HN_OK);
    assert_int_equal(hn_model_set_config(m, c12), HN_OK);
    assert_int_equal(hn_intnet_new(m, NULL, &net), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "12-bit weights"));
    /* accumulator bound beyond a narrow accumulator */
    hn_config *c8 = NULL;
    assert_int_equal(hn_config_homogeneous(a, (hn_op){8, 8}, &c8), HN_OK);
    assert_int_equal(hn_model_set_config(m, c8), HN_OK);
    hn_intnet_opts o = hn_intnet_opts_default();
    o.acc_bits = 20;
    assert_int_equal(hn_intnet_new(m, &o, &net), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "accumulator bound"));
    assert_int_equal(hn_intnet_new(m, NULL, &net), HN_OK);
    hn_intnet_free(net);
    /* no 8-bit input */
    hn_model_set_input_norm(m, NULL, NULL);
    assert_int_equal(hn_intnet_new(m, NULL, &net), HN_ERR_INVAL);
    assert_non_null(strstr(hn_error_msg(), "8-bit input"));
    hn_model_free(m);
    hn_config_free(fp); hn_config_free(c12); hn_config_free(c8); hn_arch_free(a);
}

/* The run-time check: an accumulator outside int32 is an error. */
static void test_conv_overflow(void **st) {
    (void)st;
    hn_hwjob j;
    memset(&j, 0, sizeof j);
    j.k = 3; j.stride = 1; j.pad = 1; j.in_h = 3; j.in_w = 3;
    j.n_in_groups = 2;
    j.in_groups[0] = (hn_hw_group){1, 16};
    j.in_groups[1] = (hn_hw_group){1, 4};
    j.n_out_groups = 1;
    j.out_groups[0] = (hn_hw_group){1, 16};
    assert_int_equal(hn_hwjob_alloc(&j), HN_OK);
    for (int i = 0; i < 18; i++) j.weights[i] = 32767;
    for (int i = 0; i < 9; i++) { j.acts[i] = 65535; j.acts[9 + i] = 15; }
    int32_t acc[9];
    assert_int_equal(hn_intnet_conv_ref(&j, acc, NULL), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "outside int32"));
    hn_hwjob_free(&j);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requant_half_up),
        cmocka_unit_test(test_conv_msb_aligned),
        cmocka_unit_test(test_conv_overflow),
        cmocka_unit_test(test_fold_input),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_agreement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
