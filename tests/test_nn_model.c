/* hn_model: parameter names, model-level finite-difference gradients (full
 * and pruned/unequal widths), oneDNN == plain-C model, overfitting a tiny
 * batch (FP and per-filter quantized), determinism, switchable BN, BN
 * recalibration, per_op weight banks, clamp initialisation, bad input. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hetnas/nn.h"
#include "hetnas/optim.h"
#include "hetnas/rng.h"

#ifdef HN_HAVE_OPENMP
#include <omp.h>
#endif

/* a ResNet-8 on 3x8x8 with widths 4/8/16: 9 layers */
static hn_arch *small_arch(double width) {
    hn_resnet_spec sp = hn_resnet_spec_default();
    sp.depth = 8;
    sp.in_c = 3; sp.in_h = 8; sp.in_w = 8;
    sp.width = width;
    sp.num_classes = 10;
    hn_arch *a = NULL;
    assert_int_equal(hn_arch_resnet(&sp, &a), HN_OK);
    return a;
}

static void rand_batch(int n, int chw, uint64_t seed, float **x, int **y) {
    hn_rng r;
    hn_rng_seed(&r, seed, 7);
    *x = malloc(sizeof(float) * (size_t)n * chw);
    *y = malloc(sizeof(int) * (size_t)n);
    for (int i = 0; i < n * chw; i++) (*x)[i] = (float)hn_rng_normal(&r);
    for (int i = 0; i < n; i++) (*y)[i] = (int)hn_rng_below(&r, 10);
}

static double loss_of(hn_model *m, const float *x, const int *y, int n) {
    float z[64 * 10];
    assert_int_equal(hn_model_forward(m, x, n, 1, z), HN_OK);
    return hn_softmax_ce(z, y, n, 10, NULL, NULL);
}

static void test_param_names(void **st) {
    (void)st;
    hn_resnet_spec sp = hn_resnet_spec_default();
    hn_arch *a = NULL;
    assert_int_equal(hn_arch_resnet(&sp, &a), HN_OK);
    hn_model *m = NULL;
    assert_int_equal(hn_model_new(a, NULL, NULL, &m), HN_OK);
    assert_int_equal(hn_model_n_params(m), 21 * 7 + 2);
    struct { const char *name; int ndim, s0, s1; hn_param_kind kind; } want[] = {
        {"conv1.weight", 4, 16, 3, HN_PARAM_WEIGHT},
        {"bn1.weight", 1, 16, 0, HN_PARAM_BN_GAMMA},
        {"layer1.0.conv1.weight", 4, 16, 16, HN_PARAM_WEIGHT},
        {"layer2.0.downsample.0.weight", 4, 32, 16, HN_PARAM_WEIGHT},
        {"layer2.0.downsample.1.running_mean", 1, 32, 0, HN_PARAM_BUFFER},
        {"layer3.2.bn2.running_var", 1, 64, 0, HN_PARAM_BUFFER},
        {"layer3.2.conv2.weight_clamp", 1, 64, 0, HN_PARAM_CLAMP},
        {"layer3.2.conv2.act_clamp", 1, 1, 0, HN_PARAM_CLAMP}, /* per tensor */
        {"fc.weight", 2, 10, 64, HN_PARAM_WEIGHT},
        {"fc.bias", 1, 10, 0, HN_PARAM_BIAS}};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        int k = hn_model_find_param(m, want[i].name);
        if (k < 0) { print_error("missing %s\n", want[i].name); fail(); }
        hn_param p = hn_model_param(m, k);
        assert_int_equal(p.ndim, want[i].ndim);
        assert_int_equal(p.shape[0], want[i].s0);
        if (want[i].ndim > 1) assert_int_equal(p.shape[1], want[i].s1);
        assert_int_equal(p.kind, want[i].kind);
        assert_true((p.grad == NULL) == (p.kind == HN_PARAM_BUFFER));
    }
    assert_int_equal(hn_model_find_param(m, "nope.weight"), -1);
    hn_model_free(m);
    hn_arch_free(a);
}

/* Model-level central differences on sampled parameters (FP, train-mode BN).
 * ReLU kinks may spoil a few samples: at least 90% must agree. */
static void fd_check_model(hn_model *m, const float *x, const int *y, int n) {
    float z[64 * 10], dz[64 * 10];
    hn_model_zero_grad(m);
    assert_int_equal(hn_model_forward(m, x, n, 1, z), HN_OK);
    hn_softmax_ce(z, y, n, 10, dz, NULL);
    assert_int_equal(hn_model_backward(m, dz), HN_OK);
    int checked = 0, bad = 0;
    hn_rng r;
    hn_rng_seed(&r, 99, 1);
    for (int i = 0; i < hn_model_n_params(m); i++) {
        hn_param p = hn_model_param(m, i);
        if (p.kind == HN_PARAM_BUFFER || p.kind == HN_PARAM_CLAMP) continue;
        for (int s = 0; s < 4; s++) {
            size_t j = hn_rng_below(&r, (uint32_t)p.numel);
            float g = p.grad[j];
            float sv = p.data[j], eps = 5e-4f; /* curvature: small steps */
            p.data[j] = sv + eps; double lp = loss_of(m, x, y, n);
            p.data[j] = sv - eps; double lm = loss_of(m, x, y, n);
            p.data[j] = sv;
            double num = (lp - lm) / (2.0 * eps);
            checked++;
            if (fabs(g - num) > 2e-3 + 0.05 * fabs(num)) {
                bad++;
                print_message("fd mismatch %s[%zu]: analytic %.5g numeric %.5g\n",
                              p.name, j, g, num);
            }
        }
    }
    assert_true(checked > 50);
    assert_true(bad * 10 <= checked);
}

static void test_model_grad_full(void **st) {
    (void)st;
    hn_arch *a = small_arch(0.25);
    hn_model_opts o = hn_model_opts_default();
    o.conv = HN_CONV_REF;
    hn_model *m = NULL;
    assert_int_equal(hn_model_new(a, NULL, &o, &m), HN_OK);
    float *x; int *y;
    rand_batch(6, 3 * 64, 5, &x, &y);
    fd_check_model(m, x, y, 6);
    hn_model_free(m); hn_arch_free(a); free(x); free(y);
}

/* widths with residual adds of unequal operands: stem 3, s1 conv2 2
 * (block out 3), s2 conv2 8 vs down 5, s3 conv2 6 vs down 16 */
static const int PRUNED[9] = {3, 4, 2, 8, 8, 5, 16, 6, 16};

static void test_model_grad_pruned(void **st) {
    (void)st;
    hn_arch *a = small_arch(0.25);
    assert_int_equal(hn_arch_n_layers(a), 9);
    hn_config *c = NULL;
    hn_op fp = {HN_BITS_FP, HN_BITS_FP};
    int w[9];
    for (int l = 0; l < 9; l++) {
        w[l] = PRUNED[l] <= hn_arch_layer(a, l)->c_out ? PRUNED[l]
                                                       : hn_arch_layer(a, l)->c_out;
    }
    assert_int_equal(hn_config_widths(a, w, fp, &c), HN_OK);
    hn_model_opts o = hn_model_opts_default();
    o.conv = HN_CONV_REF;
    hn_model *m = NULL;
    assert_int_equal(hn_model_new(a, c, &o, &m), HN_OK);
    float *x; int *y;
    rand_batch(6, 3 * 64, 6, &x, &y);
    fd_check_model(m, x, y, 6);
    /* pruned filters get no gradient */
    int k = hn_model_find_param(m, "conv1.weight");
    hn_param p = hn_model_param(m, k);
    for (size_t j = (size_t)w[0] * 27; j < p.numel; j++) assert_true(p.grad[j] == 0.0f);
    hn_model_free(m); hn_config_free(c); hn_arch_free(a); free(x); free(y);
}

static void test_dnnl_model_matches_ref(void **st) {
    (void)st;
    hn_arch *a = small_arch(1.0);
    hn_config *c = NULL;
    hn_op ops[2] = {{2, 2}, {4, 3}};
    int L = hn_arch_n_layers(a);
    int *counts = malloc(sizeof(int) * 2 * L);
    for (int l = 0; l < L; l++) {
        int co = hn_arch_layer(a, l)->c_out;
        counts[2 * l] = co / 2;
        counts[2 * l + 1] = co - co / 2 - (l % 3 == 1); /* some pruning */
    }
    assert_int_equal(hn_config_new(a, 2, ops, counts, &c), HN_OK);
    hn_model_opts o1 = hn_model_opts_default(), o2 = o1;
    o1.conv = HN_CONV_REF;
    o2.conv = HN_CONV_AUTO;
    hn_model *m1 = NULL, *m2 = NULL;
    assert_int_equal(hn_model_new(a, c, &o1, &m1), HN_OK);
    assert_int_equal(hn_model_new(a, c, &o2, &m2), HN_OK);
    float *x; int *y;
    rand_batch(8, 3 * 64, 8, &x, &y);
    assert_int_equal(hn_model_calibrate_clamps(m1, x, 8), HN_OK);
    assert_int_equal(hn_model_calibrate_clamps(m2, x, 8), HN_OK);
    float z1[80], z2[80], d1[80], d2[80];
    assert_int_equal(hn_model_forward(m1, x, 8, 1, z1), HN_OK);
    assert_int_equal(hn_model_forward(m2, x, 8, 1, z2), HN_OK);
    double zmax = 0;
    for (int i = 0; i < 80; i++) zmax = fmax(zmax, fabs(z1[i]));
    for (int i = 0; i < 80; i++) assert_true(fabs(z1[i] - z2[i]) <= 1e-3 * zmax);
    hn_softmax_ce(z1, y, 8, 10, d1, NULL);
    hn_softmax_ce(z2, y, 8, 10, d2, NULL);
    assert_int_equal(hn_model_backward(m1, d1), HN_OK);
    assert_int_equal(hn_model_backward(m2, d2), HN_OK);
    /* quantizer rounding may flip on float noise: compare gradient norms
     * per tensor (2%) */
    for (int i = 0; i < hn_model_n_params(m1); i++) {
        hn_param p1 = hn_model_param(m1, i), p2 = hn_model_param(m2, i);
        if (!p1.grad) continue;
        double n1 = 0, n2 = 0, nd = 0;
        for (size_t j = 0; j < p1.numel; j++) {
            n1 += (double)p1.grad[j] * p1.grad[j];
            n2 += (double)p2.grad[j] * p2.grad[j];
            nd += ((double)p1.grad[j] - p2.grad[j]) * ((double)p1.grad[j] - p2.grad[j]);
        }
        /* (2%: a flipped 2-bit code of the stem moves every gradient
         * downstream of it; the per-tensor clamps sum whole tensors) */
        double tol = 0.02, abs_tol = 1e-6;
        /* a per-tensor activation clamp's gradient is one scalar: a sum of
         * rounding residuals of opposite signs over the whole tensor, so a
         * few flipped codes move it by a larger fraction */
        if (p1.kind == HN_PARAM_CLAMP && p1.numel == 1) { tol = 0.15; abs_tol = 5e-5; }
        if (sqrt(nd) > tol * sqrt(n1) + abs_tol) {
            print_error("%s: |ref - dnnl| = %.3g, |ref| = %.3g, |dnnl| = %.3g\n",
                        p1.name, sqrt(nd), sqrt(n1), sqrt(n2));
            fail();
        }
    }
    free(counts); free(x); free(y);
    hn_model_free(m1); hn_model_free(m2); hn_config_free(c); hn_arch_free(a);
}

/* 1x28x28 (Fashion-MNIST) geometry: odd spatial sizes after stride 2 */
static void test_mnist_shape(void **st) {
    (void)st;
    hn_resnet_spec sp = hn_resnet_spec_default();
    sp.depth = 8; sp.in_c = 1; sp.in_h = 28; sp.in_w = 28; sp.width = 0.5;
    hn_arch *a = NULL;
    assert_int_equal(hn_arch_resnet(&sp, &a), HN_OK);
    hn_model_opts o1 = hn_model_opts_default(), o2 = o1;
    o1.conv = HN_CONV_REF;
    hn_model *m1 = NULL, *m2 = NULL;
    assert_int_equal(hn_model_new(a, NULL, &o1, &m1), HN_OK);
    assert_int_equal(hn_model_new(a, NULL, &o2, &m2), HN_OK);
    float *x; int *y;
    rand_batch(4, 784, 15, &x, &y);
    float z1[40], z2[40], d[40];
    assert_int_equal(hn_model_forward(m1, x, 4, 1, z1), HN_OK);
    assert_int_equal(hn_model_forward(m2, x, 4, 1, z2), HN_OK);
    for (int i = 0; i < 40; i++) assert_true(fabs(z1[i] - z2[i]) < 1e-4 * (1 + fabs(z1[i])));
    hn_softmax_ce(z2, y, 4, 10, d, NULL);
    assert_int_equal(hn_model_backward(m2, d), HN_OK);
    free(x); free(y); hn_model_free(m1); hn_model_free(m2); hn_arch_free(a);
}

static float train_steps(hn_model *m, const float *x, const int *y, int n,
                         int steps, hn_optim *opt, float *losses) {
    float z[64 * 10], dz[64 * 10], l = 0;
    for (int s = 0; s < steps; s++) {
        hn_model_zero_grad(m);
        assert_int_equal(hn_model_forward(m, x, n, 1, z), HN_OK);
        l = hn_softmax_ce(z, y, n, 10, dz, NULL);
        if (losses) losses[s] = l;
        assert_int_equal(hn_model_backward(m, dz), HN_OK);
        hn_optim_step(opt);
    }
    return l;
}

static void test_overfit(void **st) {
    (void)st;
    hn_arch *a = small_arch(0.5);
    float *x; int *y;
    rand_batch(16, 3 * 64, 9, &x, &y);
    for (int q = 0; q < 2; q++) {
        hn_config *c = NULL;
        hn_op op = q ? (hn_op){4, 4} : (hn_op){HN_BITS_FP, HN_BITS_FP};
        assert_int_equal(hn_config_homogeneous(a, op, &c), HN_OK);
        hn_model *m = NULL;
        assert_int_equal(hn_model_new(a, c, NULL, &m), HN_OK);
        if (q) assert_int_equal(hn_model_calibrate_clamps(m, x, 16), HN_OK);
        hn_optim_opts oo = hn_optim_opts_adam(0.01f, 0.0f);
        hn_optim *opt = NULL;
        assert_int_equal(hn_optim_new_model(&oo, m, &opt), HN_OK);
        float first = loss_of(m, x, y, 16);
        float last = train_steps(m, x, y, 16, 80, opt, NULL);
        print_message("overfit %s: loss %.4f -> %.4f\n", q ? "(4,4)" : "fp32", first, last);
        assert_true(first > 1.5f);
        assert_true(last < 0.05f);
        float z[160];
        int correct = 0;
        assert_int_equal(hn_model_forward(m, x, 16, 1, z), HN_OK);
        hn_softmax_ce(z, y, 16, 10, NULL, &correct);
        assert_int_equal(correct, 16);
        hn_optim_free(opt); hn_model_free(m); hn_config_free(c);
    }
    free(x); free(y); hn_arch_free(a);
}

static void test_determinism(void **st) {
    (void)st;
#ifdef HN_HAVE_OPENMP
    omp_set_num_threads(2); /* the reductions' thread split is exercised */
#endif
    hn_arch *a = small_arch(1.0);
    float *x; int *y;
    rand_batch(16, 3 * 64, 10, &x, &y);
    hn_config *c = NULL;
    assert_int_equal(hn_config_homogeneous(a, (hn_op){3, 3}, &c), HN_OK);
    float losses[2][6];
    for (int rep = 0; rep < 2; rep++) {
        hn_model *m = NULL;
        assert_int_equal(hn_model_new(a, c, NULL, &m), HN_OK);
        assert_int_equal(hn_model_calibrate_clamps(m, x, 16), HN_OK);
        hn_optim_opts oo = hn_optim_opts_sgd(0.05f, 0.9f, 5e-4f, 1);
        hn_optim *opt = NULL;
        assert_int_equal(hn_optim_new_model(&oo, m, &opt), HN_OK);
        train_steps(m, x, y, 16, 6, opt, losses[rep]);
        hn_optim_free(opt); hn_model_free(m);
    }
    assert_memory_equal(losses[0], losses[1], sizeof losses[0]);
    assert_true(losses[0][5] != losses[0][0]);
#ifdef HN_HAVE_OPENMP
    omp_set_num_threads(1);
#endif
    hn_config_free(c); free(x); free(y); hn_arch_free(a);
}

static void test_switchable_bn_and_recal(void **st) {
    (void)st;
    hn_arch *a = small_arch(1.0);
    hn_model_opts o = hn_model_opts_default();
    o.n_bn_widths = 2;
    o.bn_widths[0] = 0.5;
    o.bn_widths[1] = 1.0;
    hn_model *m = NULL;
    assert_int_equal(hn_model_new(a, NULL, &o, &m), HN_OK);
    assert_int_equal(hn_model_bn_set(m), 1);
    hn_param p = hn_model_param(m, hn_model_find_param(m, "bn1.weight"));
    assert_int_equal(p.ndim, 2);
    assert_int_equal(p.shape[0], 3);
    hn_op fp = {HN_BITS_FP, HN_BITS_FP};
    hn_config *half = NULL, *odd = NULL;
    assert_int_equal(hn_config_width_mult(a, 0.5, fp, &half), HN_OK);
    assert_int_equal(hn_config_width_mult(a, 0.75, fp, &odd), HN_OK);
    assert_int_equal(hn_model_set_config(m, half), HN_OK);
    assert_int_equal(hn_model_bn_set(m), 0);
    assert_int_equal(hn_model_set_config(m, odd), HN_OK);
    assert_int_equal(hn_model_bn_set(m), -1);
    /* recalibration over one large batch: eval logits ~= train logits */
    enum { N = 64 };
    float *x; int *y;
    rand_batch(N, 3 * 64, 11, &x, &y);
    float zt[N * 10], ze[N * 10], ze0[N * 10];
    assert_int_equal(hn_model_forward(m, x, N, 0, ze0), HN_OK);
    hn_model_bn_recalibrate_begin(m);
    assert_int_equal(hn_model_forward(m, x, N, 1, zt), HN_OK);
    hn_model_bn_recalibrate_end(m);
    assert_int_equal(hn_model_forward(m, x, N, 0, ze), HN_OK);
    double err = 0, err0 = 0, mag = 0;
    for (int i = 0; i < N * 10; i++) {
        err = fmax(err, fabs(ze[i] - zt[i]));
        err0 = fmax(err0, fabs(ze0[i] - zt[i]));
        mag = fmax(mag, fabs(zt[i]));
    }
    print_message("recal: max |eval-train| %.3g (before %.3g), max |logit| %.3g\n",
                  err, err0, mag);
    assert_true(err < 0.05 * mag);
    assert_true(err < 0.5 * err0);
    /* setting the same widths again keeps the recalibrated statistics */
    assert_int_equal(hn_model_set_config(m, half), HN_OK);
    assert_int_equal(hn_model_set_config(m, odd), HN_OK);
    float ze2[N * 10];
    assert_int_equal(hn_model_forward(m, x, N, 0, ze2), HN_OK);
    assert_memory_equal(ze, ze2, sizeof ze);
    hn_config_free(half); hn_config_free(odd); free(x); free(y);
    hn_model_free(m); hn_arch_free(a);
}

static void test_per_op_banks(void **st) {
    (void)st;
    hn_arch *a = small_arch(0.5);
    int L = hn_arch_n_layers(a);
    hn_op ops[2] = {{2, 2}, {8, 8}};
    int *counts = malloc(sizeof(int) * 2 * L);
    for (int l = 0; l < L; l++) {
        int co = hn_arch_layer(a, l)->c_out;
        counts[2 * l] = co / 2;
        counts[2 * l + 1] = co - co / 2;
    }
    hn_config *c = NULL;
    assert_int_equal(hn_config_new(a, 2, ops, counts, &c), HN_OK);
    hn_model_opts o = hn_model_opts_default();
    o.sharing = HN_WS_PER_OP;
    hn_model *m = NULL;
    assert_int_equal(hn_model_new(a, c, &o, &m), HN_OK);
    hn_param p = hn_model_param(m, hn_model_find_param(m, "conv1.weight"));
    assert_int_equal(p.ndim, 5);
    assert_int_equal(p.shape[0], 2);
    /* banks start equal (one init, as the reference copies one checkpoint) */
    assert_memory_equal(p.data, p.data + p.numel / 2, sizeof(float) * p.numel / 2);
    float *x; int *y;
    rand_batch(8, 3 * 64, 12, &x, &y);
    float z[80], dz[80];
    hn_model_zero_grad(m);
    assert_int_equal(hn_model_forward(m, x, 8, 1, z), HN_OK);
    hn_softmax_ce(z, y, 8, 10, dz, NULL);
    assert_int_equal(hn_model_backward(m, dz), HN_OK);
    /* filter f < c0 uses bank 0 only, the rest bank 1 only */
    int c0 = counts[0], co = p.shape[1];
    size_t row = p.numel / 2 / co;
    double g00 = 0, g01 = 0, g10 = 0, g11 = 0;
    for (int f = 0; f < co; f++)
        for (size_t j = 0; j < row; j++) {
            double b0 = fabs(p.grad[f * row + j]), b1 = fabs(p.grad[p.numel / 2 + f * row + j]);
            if (f < c0) { g00 += b0; g01 += b1; } else { g10 += b0; g11 += b1; }
        }
    assert_true(g00 > 0 && g11 > 0);
    assert_true(g01 == 0 && g10 == 0);
    /* bank 0 broadcast: after changing bank 0, copy_bank0 makes them equal */
    p.data[0] += 1.0f;
    assert_memory_not_equal(p.data, p.data + p.numel / 2, sizeof(float) * p.numel / 2);
    hn_model_copy_bank0(m);
    assert_memory_equal(p.data, p.data + p.numel / 2, sizeof(float) * p.numel / 2);
    /* a config with more ops than banks is rejected */
    hn_op ops3[3] = {{2, 2}, {8, 8}, {4, 4}};
    int *c3 = calloc((size_t)3 * L, sizeof(int));
    for (int l = 0; l < L; l++) c3[3 * l + 2] = hn_arch_layer(a, l)->c_out;
    hn_config *cc = NULL;
    assert_int_equal(hn_config_new(a, 3, ops3, c3, &cc), HN_OK);
    assert_int_equal(hn_model_set_config(m, cc), HN_ERR_INVAL);
    free(c3); hn_config_free(cc);
    free(counts); free(x); free(y); hn_config_free(c); hn_model_free(m); hn_arch_free(a);
}

static void test_clamp_init(void **st) {
    (void)st;
    hn_arch *a = small_arch(1.0);
    hn_config *c = NULL;
    assert_int_equal(hn_config_homogeneous(a, (hn_op){2, 2}, &c), HN_OK);
    hn_model *m = NULL;
    assert_int_equal(hn_model_new(a, c, NULL, &m), HN_OK);
    float *x; int *y;
    rand_batch(16, 3 * 64, 13, &x, &y);
    assert_int_equal(hn_model_calibrate_clamps(m, x, 16), HN_OK);
    hn_param w = hn_model_param(m, hn_model_find_param(m, "layer1.0.conv1.weight"));
    hn_param wc = hn_model_param(m, hn_model_find_param(m, "layer1.0.conv1.weight_clamp"));
    double s = 0, q = 0;
    for (size_t i = 0; i < w.numel; i++) { s += w.data[i]; q += (double)w.data[i] * w.data[i]; }
    double mean = s / w.numel, sd = sqrt(q / w.numel - mean * mean);
    double want = fmax(fabs(mean + 3.45 * sd), fabs(mean - 3.45 * sd));
    for (size_t f = 0; f < wc.numel; f++) assert_true(fabs(wc.data[f] - want) < 1e-4 * want);
    hn_param ac = hn_model_param(m, hn_model_find_param(m, "layer1.0.conv1.act_clamp"));
    int differ = 0;
    for (size_t f = 0; f < ac.numel; f++) {
        assert_true(ac.data[f] > 0.0f);
        differ += ac.data[f] != 3.0f;
    }
    assert_true(differ > 0);
    /* wrong-arch configuration is rejected with a message */
    hn_arch *b = small_arch(0.5);
    hn_resnet_spec sp = hn_resnet_spec_default();
    hn_arch *r20 = NULL;
    assert_int_equal(hn_arch_resnet(&sp, &r20), HN_OK);
    hn_config *c20 = NULL;
    assert_int_equal(hn_config_homogeneous(r20, (hn_op){2, 2}, &c20), HN_OK);
    assert_int_equal(hn_model_set_config(m, c20), HN_ERR_INVAL);
    assert_true(strlen(hn_error_msg()) > 0);
    assert_int_equal(hn_model_backward(m, NULL), HN_ERR_INVAL); /* no forward */
    hn_config_free(c20); hn_arch_free(r20); hn_arch_free(b);
    free(x); free(y); hn_config_free(c); hn_model_free(m); hn_arch_free(a);
}

/* Calibration covers every block of a deep model (it used to stop after
 * 64 blocks / 4096 channels): with activation quantization off during the
 * calibration pass, the clamps it computes cannot depend on the clamps it
 * starts from, in the last blocks as in the first.  ResNet-134: 66 blocks. */
static void test_calibrate_deep(void **st) {
    (void)st;
    hn_resnet_spec sp = hn_resnet_spec_default();
    sp.depth = 134;
    sp.in_c = 3; sp.in_h = 8; sp.in_w = 8;
    sp.width = 0.25;
    hn_arch *a = NULL;
    assert_int_equal(hn_arch_resnet(&sp, &a), HN_OK);
    hn_config *c = NULL;
    assert_int_equal(hn_config_homogeneous(a, (hn_op){2, 2}, &c), HN_OK);
    float *x; int *y;
    rand_batch(8, 3 * 64, 21, &x, &y);
    float *got[2] = {NULL, NULL};
    size_t n_got = 0;
    for (int run = 0; run < 2; run++) {
        hn_model *m = NULL;
        assert_int_equal(hn_model_new(a, c, NULL, &m), HN_OK);
        size_t k = 0;
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < hn_model_n_params(m); i++) {
                hn_param p = hn_model_param(m, i);
                /* the down conv's b_a is unused (DESIGN.md): no site */
                if (!strstr(p.name, ".act_clamp") || strstr(p.name, "downsample"))
                    continue;
                for (size_t f = 0; f < p.numel; f++) {
                    if (pass == 0) p.data[f] = run ? 100.0f : 0.01f;
                    else got[run][k++] = p.data[f];
                }
                if (pass == 0) k += p.numel;
            }
            if (pass == 0) {
                got[run] = malloc(sizeof(float) * k);
                n_got = k;
                k = 0;
                assert_int_equal(hn_model_calibrate_clamps(m, x, 8), HN_OK);
            }
        }
        assert_true(n_got > 0);
        hn_model_free(m);
    }
    for (size_t i = 0; i < n_got; i++)
        if (got[0][i] != got[1][i])
            fail_msg("act clamp %zu of %zu depends on the initial clamps: "
                     "%g vs %g", i, n_got, got[0][i], got[1][i]);
    free(got[0]); free(got[1]);
    free(x); free(y); hn_config_free(c); hn_arch_free(a);
}

/* Staging (k = 0: all FP) equals the FP model; noise only in train mode and
 * seeded; alternating batch sizes reuse cached primitives consistently. */
static void test_staging_noise_cache(void **st) {
    (void)st;
    hn_arch *a = small_arch(0.5);
    hn_config *q = NULL, *fp = NULL;
    assert_int_equal(hn_config_homogeneous(a, (hn_op){2, 2}, &q), HN_OK);
    assert_int_equal(hn_config_homogeneous(a, (hn_op){HN_BITS_FP, HN_BITS_FP}, &fp), HN_OK);
    hn_model *mq = NULL, *mf = NULL;
    assert_int_equal(hn_model_new(a, q, NULL, &mq), HN_OK);
    assert_int_equal(hn_model_new(a, fp, NULL, &mf), HN_OK);
    float *x; int *y;
    rand_batch(8, 3 * 64, 14, &x, &y);
    float zq[80], zf[80], z2[80];
    assert_int_equal(hn_model_set_quant_layers(mq, 0), HN_OK);
    assert_int_equal(hn_model_forward(mq, x, 8, 0, zq), HN_OK);
    assert_int_equal(hn_model_forward(mf, x, 8, 0, zf), HN_OK);
    assert_memory_equal(zq, zf, sizeof zq);
    assert_int_equal(hn_model_set_quant_layers(mq, -1), HN_OK);
    assert_int_equal(hn_model_forward(mq, x, 8, 0, zq), HN_OK);
    assert_memory_not_equal(zq, zf, sizeof zq);
    assert_int_equal(hn_model_set_quant_layers(mq, -2), HN_ERR_RANGE);
    /* noise: train forwards change, are reproducible; eval is unaffected */
    float t0[80], t1[80], t2[80], e1[80];
    assert_int_equal(hn_model_forward(mq, x, 8, 1, t0), HN_OK);
    hn_model_set_train_noise(mq, 0.5f, 3);
    assert_int_equal(hn_model_forward(mq, x, 8, 1, t1), HN_OK);
    assert_memory_not_equal(t0, t1, sizeof t0);
    hn_model_set_train_noise(mq, 0.5f, 3);
    assert_int_equal(hn_model_forward(mq, x, 8, 1, t2), HN_OK);
    assert_memory_equal(t1, t2, sizeof t1);
    assert_int_equal(hn_model_forward(mq, x, 8, 0, e1), HN_OK);
    hn_model_set_train_noise(mq, 0.0f, 0);
    assert_int_equal(hn_model_forward(mq, x, 8, 0, zf), HN_OK);
    assert_memory_equal(e1, zf, sizeof zf);
    /* batch size 4 -> 8 -> 4: same logits for the first 4 in eval mode */
    assert_int_equal(hn_model_forward(mq, x, 4, 0, z2), HN_OK);
    assert_int_equal(hn_model_forward(mq, x, 8, 0, zq), HN_OK);
    assert_int_equal(hn_model_forward(mq, x, 4, 0, zf), HN_OK);
    assert_memory_equal(z2, zf, sizeof(float) * 40);
    free(x); free(y);
    hn_model_free(mq); hn_model_free(mf); hn_config_free(q); hn_config_free(fp);
    hn_arch_free(a);
}


/* Copies of every BN running statistic (param kind BUFFER). */
static float *buffers_copy(hn_model *m, size_t *n_out) {
    size_t n = 0;
    for (int i = 0; i < hn_model_n_params(m); i++) {
        hn_param p = hn_model_param(m, i);
        if (p.kind == HN_PARAM_BUFFER) n += p.numel;
    }
    float *v = malloc(sizeof(float) * (n ? n : 1)), *q = v;
    for (int i = 0; i < hn_model_n_params(m); i++) {
        hn_param p = hn_model_param(m, i);
        if (p.kind != HN_PARAM_BUFFER) continue;
        memcpy(q, p.data, sizeof(float) * p.numel);
        q += p.numel;
    }
    *n_out = n;
    return v;
}

/* Regression (issue 8): recalibrating at width 0.5 zeroed the whole BN set,
 * so a full-width eval next divided by sqrt(eps): logits ~1.7e15. */
static void test_recal_touches_only_active(void **st) {
    (void)st;
    hn_arch *a = small_arch(1.0);
    hn_model *m = NULL;
    assert_int_equal(hn_model_new(a, NULL, NULL, &m), HN_OK);
    enum { N = 32 };
    float *x; int *y;
    rand_batch(N, 3 * 64, 21, &x, &y);
    float z[N * 10];
    /* a few train forwards give non-trivial running statistics */
    for (int i = 0; i < 3; i++)
        assert_int_equal(hn_model_forward(m, x, N, 1, z), HN_OK);
    float z_full[N * 10];
    assert_int_equal(hn_model_forward(m, x, N, 0, z_full), HN_OK);
    assert_true(hn_model_bn_stats_valid(m));
    hn_op fp = {HN_BITS_FP, HN_BITS_FP};
    hn_config *half = NULL, *full = NULL;
    assert_int_equal(hn_config_width_mult(a, 0.5, fp, &half), HN_OK);
    assert_int_equal(hn_config_width_mult(a, 1.0, fp, &full), HN_OK);
    assert_int_equal(hn_model_set_config(m, half), HN_OK);
    assert_false(hn_model_bn_stats_valid(m)); /* full-width statistics */
    hn_param rv = hn_model_param(m, hn_model_find_param(m, "bn1.running_var"));
    float *before = malloc(sizeof(float) * rv.numel);
    memcpy(before, rv.data, sizeof(float) * rv.numel);
    hn_model_bn_recalibrate_begin(m);
    assert_int_equal(hn_model_forward(m, x, N, 1, z), HN_OK);
    hn_model_bn_recalibrate_end(m);
    assert_true(hn_model_bn_stats_valid(m));
    assert_int_equal(hn_model_set_config(m, full), HN_OK);
    assert_false(hn_model_bn_stats_valid(m));
    assert_int_equal(hn_model_forward(m, x, N, 0, z), HN_OK);
    double mag = 0, mag0 = 0;
    for (int i = 0; i < N * 10; i++) {
        mag = fmax(mag, fabs(z[i]));
        mag0 = fmax(mag0, fabs(z_full[i]));
    }
    print_message("full-width eval after a 0.5 recalibration: max |logit| "
                  "%.3g (before %.3g)\n", mag, mag0);
    assert_true(isfinite(mag) && mag < 100.0 * (mag0 + 1.0));
    /* stem: 16 filters, 8 refreshed, the other 8 untouched */
    for (size_t c = 0; c < rv.numel; c++) {
        if (c < rv.numel / 2) assert_true(rv.data[c] > 0.0f);
        else assert_memory_equal(&rv.data[c], &before[c], sizeof(float));
    }
    free(before);
    hn_config_free(half); hn_config_free(full); free(x); free(y);
    hn_model_free(m); hn_arch_free(a);
}

/* per_op: recalibrating a configuration that uses op 0 only leaves bank 1's
 * statistics as they were (they were zeroed, variance 0). */
static void test_recal_per_op_other_bank(void **st) {
    (void)st;
    hn_arch *a = small_arch(0.5);
    int L = hn_arch_n_layers(a);
    hn_op ops[2] = {{2, 2}, {8, 8}};
    int *counts = malloc(sizeof(int) * 2 * L);
    for (int l = 0; l < L; l++) {
        counts[2 * l] = hn_arch_layer(a, l)->c_out;
        counts[2 * l + 1] = 0;
    }
    hn_config *c = NULL;
    assert_int_equal(hn_config_new(a, 2, ops, counts, &c), HN_OK);
    hn_model_opts o = hn_model_opts_default();
    o.sharing = HN_WS_PER_OP;
    hn_model *m = NULL;
    assert_int_equal(hn_model_new(a, c, &o, &m), HN_OK);
    size_t nb;
    float *b0 = buffers_copy(m, &nb);
    float *x; int *y;
    rand_batch(16, 3 * 64, 22, &x, &y);
    float z[160];
    hn_model_bn_recalibrate_begin(m);
    assert_int_equal(hn_model_forward(m, x, 16, 1, z), HN_OK);
    hn_model_bn_recalibrate_end(m);
    size_t nb2;
    float *b1 = buffers_copy(m, &nb2);
    assert_int_equal(nb, nb2);
    /* every buffer of bank 1 (second half of each (1, 2, cout) tensor) is
     * unchanged; bank 0 was refreshed */
    size_t off = 0, changed1 = 0, changed0 = 0;
    for (int i = 0; i < hn_model_n_params(m); i++) {
        hn_param p = hn_model_param(m, i);
        if (p.kind != HN_PARAM_BUFFER) continue;
        size_t h = p.numel / 2;
        for (size_t j = h; j < p.numel; j++) changed1 += b0[off + j] != b1[off + j];
        for (size_t j = 0; j < h; j++) changed0 += b0[off + j] != b1[off + j];
        off += p.numel;
    }
    assert_int_equal(changed1, 0);
    assert_true(changed0 > 0);
    free(b0); free(b1); free(counts); free(x); free(y);
    hn_config_free(c); hn_model_free(m); hn_arch_free(a);
}

/* A slimmable model built for an undeclared width trains that width's
 * statistics in the recalibration set: valid from the start (a run resumed
 * after its last epoch evaluates without training first). */
static void test_bn_valid_built_width(void **st) {
    (void)st;
    hn_arch *a = small_arch(1.0);
    hn_op fp = {HN_BITS_FP, HN_BITS_FP};
    hn_config *odd = NULL, *half = NULL, *other = NULL;
    assert_int_equal(hn_config_width_mult(a, 0.75, fp, &odd), HN_OK);
    assert_int_equal(hn_config_width_mult(a, 0.5, fp, &half), HN_OK);
    assert_int_equal(hn_config_width_mult(a, 0.6, fp, &other), HN_OK);
    hn_model_opts o = hn_model_opts_default();
    o.n_bn_widths = 2;
    o.bn_widths[0] = 0.5;
    o.bn_widths[1] = 1.0;
    hn_model *m = NULL;
    assert_int_equal(hn_model_new(a, odd, &o, &m), HN_OK);
    assert_int_equal(hn_model_bn_set(m), -1);
    assert_true(hn_model_bn_stats_valid(m));
    assert_int_equal(hn_model_set_config(m, half), HN_OK);
    assert_true(hn_model_bn_stats_valid(m));
    assert_int_equal(hn_model_set_config(m, odd), HN_OK); /* kept */
    assert_true(hn_model_bn_stats_valid(m));
    assert_int_equal(hn_model_set_config(m, other), HN_OK); /* re-copied */
    assert_false(hn_model_bn_stats_valid(m));
    hn_config_free(odd); hn_config_free(half); hn_config_free(other);
    hn_model_free(m); hn_arch_free(a);
}

/* Train forwards with frozen statistics leave them bit for bit; the BN
 * snapshot restores every set after a recalibration. */
static void test_bn_freeze_snapshot(void **st) {
    (void)st;
    hn_arch *a = small_arch(1.0);
    hn_model_opts o = hn_model_opts_default();
    o.n_bn_widths = 2;
    o.bn_widths[0] = 0.5;
    o.bn_widths[1] = 1.0;
    hn_model *m = NULL;
    assert_int_equal(hn_model_new(a, NULL, &o, &m), HN_OK);
    float *x; int *y;
    rand_batch(16, 3 * 64, 23, &x, &y);
    float z[160], z2[160];
    assert_int_equal(hn_model_forward(m, x, 16, 1, z), HN_OK);
    size_t n0;
    float *s0 = buffers_copy(m, &n0);
    assert_true(hn_model_bn_update(m));
    hn_model_set_bn_update(m, 0);
    assert_false(hn_model_bn_update(m));
    assert_int_equal(hn_model_forward(m, x, 16, 1, z2), HN_OK);
    assert_memory_equal(z, z2, sizeof z); /* same batch statistics */
    size_t n1;
    float *s1 = buffers_copy(m, &n1);
    assert_memory_equal(s0, s1, sizeof(float) * n0);
    free(s1);
    hn_bn_state *snap = NULL;
    assert_int_equal(hn_model_bn_save(m, &snap), HN_OK);
    hn_op fp = {HN_BITS_FP, HN_BITS_FP};
    hn_config *odd = NULL;
    assert_int_equal(hn_config_width_mult(a, 0.75, fp, &odd), HN_OK);
    assert_int_equal(hn_model_set_config(m, odd), HN_OK);
    assert_false(hn_model_bn_stats_valid(m));
    hn_model_bn_recalibrate_begin(m); /* works while frozen */
    assert_int_equal(hn_model_forward(m, x, 16, 1, z), HN_OK);
    hn_model_bn_recalibrate_end(m);
    assert_true(hn_model_bn_stats_valid(m));
    s1 = buffers_copy(m, &n1);
    assert_memory_not_equal(s0, s1, sizeof(float) * n0);
    free(s1);
    assert_int_equal(hn_model_bn_restore(m, snap), HN_OK);
    assert_false(hn_model_bn_stats_valid(m));
    s1 = buffers_copy(m, &n1);
    assert_memory_equal(s0, s1, sizeof(float) * n0);
    free(s1);
    hn_bn_state_free(snap);
    hn_config_free(odd); free(s0); free(x); free(y);
    hn_model_free(m); hn_arch_free(a);
}

int main(void) {
#ifdef HN_HAVE_OPENMP
    /* one thread: the tiny problems gain nothing from two, and two spinning
     * threads crawl when the suite runs in parallel on 2 cores */
    omp_set_num_threads(1);
#endif
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_param_names),
        cmocka_unit_test(test_model_grad_full),
        cmocka_unit_test(test_model_grad_pruned),
        cmocka_unit_test(test_dnnl_model_matches_ref),
        cmocka_unit_test(test_mnist_shape),
        cmocka_unit_test(test_overfit),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_switchable_bn_and_recal),
        cmocka_unit_test(test_per_op_banks),
        cmocka_unit_test(test_clamp_init),
        cmocka_unit_test(test_calibrate_deep),
        cmocka_unit_test(test_staging_noise_cache),
        cmocka_unit_test(test_recal_touches_only_active),
        cmocka_unit_test(test_recal_per_op_other_bank),
        cmocka_unit_test(test_bn_freeze_snapshot),
        cmocka_unit_test(test_bn_valid_built_width),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
