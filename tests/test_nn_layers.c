/* Layer kernels of the training engine (host/nn/nn_kernels.c, nn_dnnl.c):
 * finite-difference gradient checks of conv, BN, ReLU, residual add, global
 * average pooling, FC, softmax CE and of the quantizers' STE paths (incl. the
 * learned clamps, against a frozen-rounding surrogate), plus oneDNN == plain C
 * within a named tolerance. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hetnas/rng.h"
#include "nn/nn_kernels.h"

/* Tolerances: float kernels vs double central differences. */
#define FD_ATOL 2e-3
#define FD_RTOL 2e-2
/* oneDNN vs plain C (different summation order), relative to max |ref|. */
#define DNNL_RTOL 1e-5

static hn_rng rng;

static float *randv(size_t n, float sd) {
    float *v = malloc(sizeof(float) * n);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++) v[i] = (float)(sd * hn_rng_normal(&rng));
    return v;
}

static double dot(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

static void check_close(double got, double want, const char *what, size_t i) {
    double tol = FD_ATOL + FD_RTOL * fabs(want);
    if (fabs(got - want) > tol) {
        print_error("%s[%zu]: analytic %.6g vs numeric %.6g\n", what, i, got, want);
        fail();
    }
}

/* ---- conv ------------------------------------------------------------------ */
typedef struct convcase { int n, h, w, cin, cout, k, s, p; } convcase;
static const convcase CONV_CASES[] = {
    {2, 5, 5, 3, 4, 3, 1, 1}, {2, 6, 6, 3, 4, 3, 2, 1}, {2, 6, 6, 4, 3, 1, 2, 0}};

static hn_conv_geom geom_of(const convcase *c) {
    hn_conv_geom g = {c->n, c->h, c->w, c->cin, c->cout, c->k, c->s, c->p, 0, 0};
    hn_conv_geom_finish(&g);
    return g;
}

static double conv_loss(const hn_conv_geom *g, const float *x, const float *w,
                        const float *R) {
    size_t ys = (size_t)g->n * g->oh * g->ow * g->cout;
    float *y = malloc(sizeof(float) * ys);
    hn_k_conv_fwd(g, x, w, y);
    double l = dot(y, R, ys);
    free(y);
    return l;
}

static void test_conv_golden(void **st) {
    (void)st;
    /* direct double formula, NHWC x, OIHW w */
    convcase c = {1, 4, 4, 2, 3, 3, 2, 1};
    hn_conv_geom g = geom_of(&c);
    float *x = randv((size_t)4 * 4 * 2, 1), *w = randv(3 * 2 * 9, 1);
    float y[2 * 2 * 3];
    hn_k_conv_fwd(&g, x, w, y);
    for (int oy = 0; oy < 2; oy++)
        for (int ox = 0; ox < 2; ox++)
            for (int co = 0; co < 3; co++) {
                double s = 0;
                for (int ci = 0; ci < 2; ci++)
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            int iy = oy * 2 - 1 + ky, ix = ox * 2 - 1 + kx;
                            if (iy < 0 || ix < 0 || iy >= 4 || ix >= 4) continue;
                            s += (double)x[(iy * 4 + ix) * 2 + ci] *
                                 w[((co * 2 + ci) * 3 + ky) * 3 + kx];
                        }
                assert_true(fabs(y[(oy * 2 + ox) * 3 + co] - s) < 1e-5);
            }
    free(x); free(w);
}

static void test_conv_grad(void **st) {
    (void)st;
    for (size_t t = 0; t < sizeof CONV_CASES / sizeof *CONV_CASES; t++) {
        hn_conv_geom g = geom_of(&CONV_CASES[t]);
        size_t xs = (size_t)g.n * g.h * g.w * g.cin, ws = (size_t)g.cout * g.cin * g.k * g.k;
        size_t ys = (size_t)g.n * g.oh * g.ow * g.cout;
        float *x = randv(xs, 1), *w = randv(ws, 1), *R = randv(ys, 1);
        float *dx = malloc(sizeof(float) * xs), *dw = malloc(sizeof(float) * ws);
        hn_k_conv_bwd_data(&g, R, w, dx);
        hn_k_conv_bwd_weights(&g, x, R, dw);
        const float eps = 1e-2f; /* the loss is linear in each argument */
        for (size_t i = 0; i < xs; i += 3) {
            float s = x[i];
            x[i] = s + eps; double lp = conv_loss(&g, x, w, R);
            x[i] = s - eps; double lm = conv_loss(&g, x, w, R);
            x[i] = s;
            check_close(dx[i], (lp - lm) / (2 * eps), "conv dx", i);
        }
        for (size_t i = 0; i < ws; i++) {
            float s = w[i];
            w[i] = s + eps; double lp = conv_loss(&g, x, w, R);
            w[i] = s - eps; double lm = conv_loss(&g, x, w, R);
            w[i] = s;
            check_close(dw[i], (lp - lm) / (2 * eps), "conv dw", i);
        }
        free(x); free(w); free(R); free(dx); free(dw);
    }
}

static double max_abs(const float *a, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
    return m;
}

static void assert_rel_close(const float *a, const float *b, size_t n,
                             const char *what) {
    double scale = max_abs(b, n) + 1e-30, worst = 0;
    for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs(a[i] - b[i]) / scale);
    if (worst > DNNL_RTOL) {
        print_error("%s: max relative difference %.3g > %.3g\n", what, worst, DNNL_RTOL);
        fail();
    }
}

static void test_conv_dnnl_matches_ref(void **st) {
    (void)st;
    if (!hn_dconv_available()) skip();
    const convcase cases[] = {{2, 5, 5, 3, 4, 3, 1, 1},  {4, 16, 16, 16, 32, 3, 2, 1},
                              {3, 8, 8, 16, 16, 3, 1, 1}, {2, 8, 8, 16, 32, 1, 2, 0},
                              {2, 7, 7, 5, 7, 3, 1, 1},  {2, 8, 8, 3, 16, 3, 1, 1},
                              /* Fashion-MNIST shapes: 1 channel, odd sizes */
                              {2, 28, 28, 1, 16, 3, 1, 1}, {2, 14, 14, 16, 32, 3, 2, 1},
                              {2, 7, 7, 32, 64, 1, 2, 0},
                              /* widths of sampled configurations: padded to
                               * a bucket (channels > 8 to a multiple of 8) */
                              {2, 8, 8, 13, 21, 3, 1, 1}, {2, 8, 8, 9, 30, 3, 2, 1},
                              {3, 6, 6, 37, 17, 1, 2, 0}, {2, 5, 5, 3, 11, 3, 1, 1}};
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        hn_conv_geom g = geom_of(&cases[t]);
        size_t xs = (size_t)g.n * g.h * g.w * g.cin, ws = (size_t)g.cout * g.cin * g.k * g.k;
        size_t ys = (size_t)g.n * g.oh * g.ow * g.cout;
        float *x = randv(xs, 1), *w = randv(ws, 1), *dy = randv(ys, 1);
        float *y1 = malloc(4 * ys), *y2 = malloc(4 * ys), *dx1 = malloc(4 * xs),
              *dx2 = malloc(4 * xs), *dw1 = malloc(4 * ws), *dw2 = malloc(4 * ws);
        hn_dconv *c = NULL;
        assert_int_equal(hn_dconv_new(&g, 1, &c), HN_OK);
        assert_int_equal(hn_dconv_fwd(c, x, w, y1), HN_OK);
        assert_int_equal(hn_dconv_bwd_data(c, dy, w, dx1), HN_OK);
        assert_int_equal(hn_dconv_bwd_weights(c, x, dy, dw1), HN_OK);
        hn_k_conv_fwd(&g, x, w, y2);
        hn_k_conv_bwd_data(&g, dy, w, dx2);
        hn_k_conv_bwd_weights(&g, x, dy, dw2);
        assert_rel_close(y1, y2, ys, "dnnl fwd");
        assert_rel_close(dx1, dx2, xs, "dnnl bwd_data");
        assert_rel_close(dw1, dw2, ws, "dnnl bwd_weights");
        hn_dconv_free(c);
        free(x); free(w); free(dy); free(y1); free(y2); free(dx1); free(dx2);
        free(dw1); free(dw2);
    }
}

/* Geometries in one bucket share its primitives: sampling widths 17..24
 * creates one primitive set, not eight. */
static void test_dconv_buckets_shared(void **st) {
    (void)st;
    if (!hn_dconv_available()) skip();
    int before = hn_dconv_n_buckets();
    hn_dconv *c[8];
    for (int i = 0; i < 8; i++) {
        hn_conv_geom g = {.n = 2, .h = 6, .w = 6, .cin = 17 + i, .cout = 24 - i,
                          .k = 3, .stride = 1, .pad = 1};
        hn_conv_geom_finish(&g);
        assert_int_equal(hn_dconv_new(&g, 1, &c[i]), HN_OK);
    }
    assert_int_equal(hn_dconv_n_buckets(), before + 1);
    for (int i = 0; i < 8; i++) hn_dconv_free(c[i]);
}

/* ---- batch norm (train), ReLU, residual add ------------------------------- */
enum { BP = 24, BC = 3 };

/* L = sum R * out, out = act(BN(x) + r); plain ReLU when relu, identity
 * (levels 0 and huge negative-free... ) handled by the caller. */
static double bn_loss(const float *x, const float *gamma, const float *beta,
                      const float *r, const float *R, int relu) {
    float mean[BC], var[BC], sc[BC], sh[BC];
    hn_k_bn_stats(NULL, x, BP, BC, mean, var);
    for (int c = 0; c < BC; c++) {
        float rstd = 1.0f / sqrtf(var[c] + 1e-5f);
        sc[c] = gamma[c] * rstd;
        sh[c] = beta[c] - mean[c] * sc[c];
    }
    float pre[BP * BC], out[BP * BC], clamp[BC] = {1, 1, 1}, lev[BC] = {0, 0, 0};
    hn_k_bn_add_act_fwd(NULL, BP, x, BC, sc, sh, r, r ? BC : 0, NULL, NULL, BC, clamp,
                        lev, pre, out);
    return dot(relu ? out : pre, R, BP * BC);
}

static void test_bn_grad(void **st) {
    (void)st;
    for (int relu = 0; relu <= 1; relu++) {
        float *x = randv(BP * BC, 1), *gamma = randv(BC, 1), *beta = randv(BC, 0.3f);
        float *R = randv(BP * BC, 1);
        float mean[BC], var[BC], rstd[BC], sc[BC], sh[BC];
        hn_k_bn_stats(NULL, x, BP, BC, mean, var);
        for (int c = 0; c < BC; c++) {
            rstd[c] = 1.0f / sqrtf(var[c] + 1e-5f);
            sc[c] = gamma[c] * rstd[c];
            sh[c] = beta[c] - mean[c] * sc[c];
        }
        float pre[BP * BC], out[BP * BC], clamp[BC] = {1, 1, 1}, lev[BC] = {0, 0, 0};
        hn_k_bn_add_act_fwd(NULL, BP, x, BC, sc, sh, NULL, 0, NULL, NULL, BC, clamp, lev,
                            pre, out);
        float dx[BP * BC], dg[BC] = {0}, db[BC] = {0};
        hn_act act = {pre, clamp, lev};
        hn_k_bn_bwd(NULL, BP, BC, x, mean, rstd, gamma, R, BC, NULL, 0, relu ? &act : NULL,
                    NULL, dg, db, dx);
        const float eps = 1e-3f;
        for (int i = 0; i < BP * BC; i++) {
            if (relu && fabsf(pre[i]) < 0.05f) continue; /* kink */
            float s = x[i];
            x[i] = s + eps; double lp = bn_loss(x, gamma, beta, NULL, R, relu);
            x[i] = s - eps; double lm = bn_loss(x, gamma, beta, NULL, R, relu);
            x[i] = s;
            check_close(dx[i], (lp - lm) / (2 * eps), relu ? "bn+relu dx" : "bn dx", i);
        }
        for (int c = 0; c < BC; c++) {
            float s = gamma[c];
            gamma[c] = s + eps; double lp = bn_loss(x, gamma, beta, NULL, R, relu);
            gamma[c] = s - eps; double lm = bn_loss(x, gamma, beta, NULL, R, relu);
            gamma[c] = s;
            check_close(dg[c], (lp - lm) / (2 * eps), "bn dgamma", c);
            s = beta[c];
            beta[c] = s + eps; lp = bn_loss(x, gamma, beta, NULL, R, relu);
            beta[c] = s - eps; lm = bn_loss(x, gamma, beta, NULL, R, relu);
            beta[c] = s;
            check_close(db[c], (lp - lm) / (2 * eps), "bn dbeta", c);
        }
        free(x); free(gamma); free(beta); free(R);
    }
}

static void test_bn_stats_values(void **st) {
    (void)st;
    /* mean/var against a two-pass double computation, with a large offset */
    enum { P = 1000, C = 5 };
    float *x = randv(P * C, 2);
    for (int i = 0; i < P * C; i++) x[i] += 100.0f;
    float mean[C], var[C];
    hn_k_bn_stats(NULL, x, P, C, mean, var);
    for (int c = 0; c < C; c++) {
        double m = 0, v = 0;
        for (int p = 0; p < P; p++) m += x[p * C + c];
        m /= P;
        for (int p = 0; p < P; p++) v += (x[p * C + c] - m) * (x[p * C + c] - m);
        v /= P;
        assert_true(fabs(mean[c] - m) < 1e-4 * fabs(m));
        assert_true(fabs(var[c] - v) < 1e-3 * v);
    }
    free(x);
}

/* Residual add over unequal widths (DESIGN.md "Pruned widths"): forward
 * values and the gradient routing through the act backward. */
static void test_residual_unequal_widths(void **st) {
    (void)st;
    enum { P = 7 };
    for (int variant = 0; variant < 2; variant++) {
        int C1 = variant ? 5 : 3, C2 = variant ? 3 : 5, Co = 5;
        float *x = randv(P * C1, 1), *r = randv(P * C2, 1);
        float sc[5], sh[5], rs[5], rh[5], clamp[5], lev[5] = {0};
        for (int c = 0; c < 5; c++) {
            sc[c] = 0.5f + c; sh[c] = 0.1f * c; rs[c] = 2.0f - 0.1f * c;
            rh[c] = -0.2f * c; clamp[c] = 1;
        }
        float pre[P * 5], out[P * 5];
        hn_k_bn_add_act_fwd(NULL, P, x, C1, sc, sh, r, C2, variant ? rs : NULL,
                            variant ? rh : NULL, Co, clamp, lev, pre, out);
        for (int p = 0; p < P; p++)
            for (int c = 0; c < Co; c++) {
                double v = 0;
                if (c < C1) v += (double)x[p * C1 + c] * sc[c] + sh[c];
                if (c < C2) v += variant ? (double)r[p * C2 + c] * rs[c] + rh[c]
                                         : r[p * C2 + c];
                assert_true(fabs(pre[p * Co + c] - v) < 1e-5);
                assert_true(fabs(out[p * Co + c] - (v > 0 ? v : 0)) < 1e-5);
            }
        free(x); free(r);
    }
}

/* ---- activation quantizer (clipped ReLU + rounding, STE, learned clamp) --- */
static float act_ref(float x, float a, int bits) {
    float v = x > 0 ? x : 0;
    if (bits == 0) return v;
    double L = (double)(1 << bits), q = floor((double)v * L / a + 0.5);
    if (q > L - 1) q = L - 1; /* top level a (1 - 2^-b) */
    return (float)(q * a / L);
}

static void test_act_quant(void **st) {
    (void)st;
    enum { P = 50, C = 4 };
    float clamp[C] = {1.0f, 2.0f, 0.7f, 1.5f};
    int bits[C] = {2, 3, 0, 1};
    float lev[C];
    for (int c = 0; c < C; c++) lev[c] = bits[c] ? (float)(1 << bits[c]) : 0;
    float *x = randv(P * C, 1.2f), *R = randv(P * C, 1);
    float y[P * C], dx[P * C], dcl[C] = {0};
    hn_k_act_fwd(NULL, x, P, C, clamp, lev, y);
    for (int i = 0; i < P * C; i++) {
        int c = i % C;
        assert_true(fabsf(y[i] - act_ref(x[i], clamp[c], bits[c])) < 1e-6f);
    }
    hn_k_act_bwd(NULL, x, P, C, clamp, lev, R, C, NULL, 0, dx, dcl);
    /* dx: STE = derivative of the unrounded clipped ReLU */
    for (int i = 0; i < P * C; i++) {
        int c = i % C;
        float hi = bits[c] ? clamp[c] * (lev[c] - 1) / lev[c] : INFINITY;
        float want = (x[i] > 0 && x[i] < hi) ? R[i] : 0.0f;
        assert_true(fabsf(dx[i] - want) < 1e-7f);
    }
    /* dclamp: FD of the frozen-rounding surrogate
     * q(a) = a/L * (x L/a + (rhu(x L/a0) - x L/a0)) inside, a (1 - 1/L)
     * above (L = 2^b). */
    for (int c = 0; c < C; c++) {
        if (!bits[c]) { assert_true(dcl[c] == 0.0f); continue; }
        double L = 1 << bits[c], a0 = clamp[c], eps = 1e-4, num = 0;
        for (int p = 0; p < P; p++) {
            double xv = x[p * C + c], g = R[p * C + c];
            if (xv <= 0) continue;
            double qp, qm;
            if (xv >= a0 * (L - 1) / L) {
                qp = (a0 + eps) * (L - 1) / L; qm = (a0 - eps) * (L - 1) / L;
            } else {
                double res = floor(xv * L / a0 + 0.5) - xv * L / a0;
                qp = (a0 + eps) / L * (xv * L / (a0 + eps) + res);
                qm = (a0 - eps) / L * (xv * L / (a0 - eps) + res);
            }
            num += g * (qp - qm) / (2 * eps);
        }
        check_close(dcl[c], num, "act dclamp", (size_t)c);
    }
    /* two gradient sources are summed */
    float *R2 = randv(P * C, 1), dx2[P * C], dcl2[C] = {0};
    hn_k_act_bwd(NULL, x, P, C, clamp, lev, R, C, R2, C, dx2, dcl2);
    for (int i = 0; i < P * C; i++) {
        int c = i % C;
        float hi = bits[c] ? clamp[c] * (lev[c] - 1) / lev[c] : INFINITY;
        float want = (x[i] > 0 && x[i] < hi) ? R[i] + R2[i] : 0.0f;
        assert_true(fabsf(dx2[i] - want) < 1e-6f);
    }
    free(x); free(R); free(R2);
}

/* ---- weight quantizer ------------------------------------------------------- */
static void test_wquant(void **st) {
    (void)st;
    enum { N = 200 };
    float *w = randv(N, 0.5f), *g = randv(N, 1), wq[N];
    const int bitsv[] = {1, 2, 3, 4, 8, 32};
    for (size_t t = 0; t < sizeof bitsv / sizeof *bitsv; t++) {
        int b = bitsv[t];
        float a = 0.6f;
        hn_k_wquant_fwd(w, N, b, a, wq);
        double L = b >= 2 && b < 32 ? (1 << (b - 1)) - 1 : 1; /* 32: identity */
        for (int i = 0; i < N; i++) {
            if (b >= 32) { assert_true(wq[i] == w[i]); continue; }
            if (b == 1) { assert_true(wq[i] == (w[i] >= 0 ? a : -a)); continue; }
            double lv = wq[i] * L / a; /* integer level in [-L, L] */
            assert_true(fabs(lv - rint(lv)) < 1e-4 && fabs(lv) <= L + 1e-6);
            double wc = fmin(fmax(w[i], -a), a);
            assert_true(fabs(wq[i] - wc) <= a / (2 * L) + 1e-6);
        }
        float dw[N] = {0};
        float da = hn_k_wquant_bwd(w, N, b, a, g, dw);
        for (int i = 0; i < N; i++) {
            float want = (b >= 32 || fabsf(w[i]) <= a) ? g[i] : 0.0f;
            if (b >= 2 && b < 32 && fabsf(w[i]) >= a) want = 0.0f;
            assert_true(fabsf(dw[i] - want) < 1e-7f);
        }
        if (b >= 32) { assert_true(da == 0.0f); continue; }
        /* FD of the frozen-rounding surrogate in a */
        double eps = 1e-4, num = 0;
        for (int i = 0; i < N; i++) {
            double x = w[i], qp, qm;
            if (b == 1) { qp = (x >= 0 ? 1 : -1) * (a + eps); qm = (x >= 0 ? 1 : -1) * (a - eps); }
            else if (fabs(x) >= a) { double s = x > 0 ? 1 : -1; qp = s * (a + eps); qm = s * (a - eps); }
            else {
                double res = floor(x * L / a + 0.5) - x * L / a;
                qp = (a + eps) / L * (x * L / (a + eps) + res);
                qm = (a - eps) / L * (x * L / (a - eps) + res);
            }
            num += g[i] * (qp - qm) / (2 * eps);
        }
        check_close(da, num, "wquant dclamp", (size_t)b);
    }
    free(w); free(g);
}

/* ---- pooling, FC, CE ---------------------------------------------------------- */
static double head_loss(const float *x, int n, int hw, int C, const float *W,
                        const float *b, int out, const int *lab) {
    float *f = malloc(sizeof(float) * n * C), *z = malloc(sizeof(float) * n * out);
    hn_k_gap_fwd(x, n, hw, C, f);
    hn_k_fc_fwd(f, n, C, W, C + 2, b, out, z);
    double l = hn_k_softmax_ce(z, lab, n, out, NULL, NULL);
    free(f); free(z);
    return l;
}

static void test_head_grad(void **st) {
    (void)st;
    enum { N = 3, HW = 4, C = 5, K = 4, LDW = C + 2 };
    float *x = randv(N * HW * C, 1), *W = randv(K * LDW, 1), *b = randv(K, 1);
    int lab[N] = {0, 3, 1};
    float f[N * C], z[N * K], dz[N * K], df[N * C], dx[N * HW * C];
    float dW[K * LDW] = {0}, db[K] = {0};
    hn_k_gap_fwd(x, N, HW, C, f);
    hn_k_fc_fwd(f, N, C, W, LDW, b, K, z);
    int correct = -1;
    hn_k_softmax_ce(z, lab, N, K, dz, &correct);
    int hits = 0;
    for (int i = 0; i < N; i++) {
        int am = 0;
        for (int j = 1; j < K; j++) if (z[i * K + j] > z[i * K + am]) am = j;
        hits += am == lab[i];
    }
    assert_int_equal(correct, hits);
    hn_k_fc_bwd(f, dz, N, C, W, LDW, K, dW, db, df);
    hn_k_gap_bwd(df, N, HW, C, dx);
    const float eps = 1e-3f;
    for (int i = 0; i < N * HW * C; i++) {
        float s = x[i];
        x[i] = s + eps; double lp = head_loss(x, N, HW, C, W, b, K, lab);
        x[i] = s - eps; double lm = head_loss(x, N, HW, C, W, b, K, lab);
        x[i] = s;
        check_close(dx[i], (lp - lm) / (2 * eps), "gap/fc dx", i);
    }
    for (int o = 0; o < K; o++) {
        for (int j = 0; j < LDW; j++) {
            float s = W[o * LDW + j];
            W[o * LDW + j] = s + eps; double lp = head_loss(x, N, HW, C, W, b, K, lab);
            W[o * LDW + j] = s - eps; double lm = head_loss(x, N, HW, C, W, b, K, lab);
            W[o * LDW + j] = s;
            /* columns past the active width get no gradient */
            check_close(dW[o * LDW + j], (lp - lm) / (2 * eps), "fc dW", (size_t)(o * LDW + j));
        }
        float s = b[o];
        b[o] = s + eps; double lp = head_loss(x, N, HW, C, W, b, K, lab);
        b[o] = s - eps; double lm = head_loss(x, N, HW, C, W, b, K, lab);
        b[o] = s;
        check_close(db[o], (lp - lm) / (2 * eps), "fc db", (size_t)o);
    }
    /* CE value against a direct formula */
    double want = 0;
    for (int i = 0; i < N; i++) {
        double se = 0;
        for (int j = 0; j < K; j++) se += exp(z[i * K + j]);
        want += log(se) - z[i * K + lab[i]];
    }
    assert_true(fabs(hn_k_softmax_ce(z, lab, N, K, NULL, NULL) - want / N) < 1e-5);
    free(x); free(W); free(b);
}

/* The one rounding rule (docs/nn.md "Quantization contract"): half up. */
static void test_round_half_up(void **st) {
    (void)st;
    assert_true(hn_roundf(0.5f) == 1.0f);
    assert_true(hn_roundf(1.5f) == 2.0f);
    assert_true(hn_roundf(2.5f) == 3.0f);
    assert_true(hn_roundf(-1.5f) == -1.0f);
    assert_true(hn_roundf(-0.5f) == 0.0f);
    assert_true(hn_roundf(-2.5f) == -2.0f);
    assert_true(hn_roundf(2.4999f) == 2.0f);
    assert_true(hn_roundf(0.49999997f) == 0.0f); /* floorf(v + 0.5f) says 1 */
    assert_true(hn_roundf(65534.6f) == 65535.0f);
    /* nested grids: a 2-bit code shifted left by 2 is the 4-bit code of the
     * same value (q * a * 2^-b), and the top level is a (1 - 2^-b) */
    float a = 1.7f, lev2[1] = {4}, lev4[1] = {16}, cl[1] = {a};
    float x[6] = {-1.0f, 0.2f, 0.5f, 1.1f, 1.6f, 9.0f}, y2[6], y4[6];
    assert_true(hn_k_act_fwd(NULL, x, 6, 1, cl, lev2, y2) == HN_OK);
    assert_true(hn_k_act_fwd(NULL, y2, 6, 1, cl, lev4, y4) == HN_OK);
    for (int i = 0; i < 6; i++) {
        assert_true(y4[i] == y2[i]);
        float q = y2[i] / a * 4.0f;
        assert_true(fabsf(q - roundf(q)) < 1e-5f && q > -1e-5f && q < 3.0f + 1e-5f);
    }
    assert_true(fabsf(y2[5] - a * 0.75f) < 1e-6f);
}

/* ---- scratch workspace ------------------------------------------------------ */
/* Kernels give bit-identical results with a reused workspace (shrinking and
 * growing requests, stale contents) and with call-local scratch (ws NULL). */
static void test_workspace_reuse(void **st) {
    (void)st;
    hn_kws ws = {0};
    static const int sizes[][2] = {{1000, 7}, {37, 3}, {600, 16}, {5, 1}, {1500, 9}};
    for (size_t t = 0; t < sizeof sizes / sizeof *sizes; t++) {
        size_t P = (size_t)sizes[t][0];
        int C = sizes[t][1];
        float *x = randv(P * C, 1), *dy = randv(P * C, 1), *dy2 = randv(P * C, 1);
        float *cl = randv(C, 0.5f), *lev = malloc(sizeof(float) * C);
        float *gam = randv(C, 1);
        assert_non_null(lev);
        for (int c = 0; c < C; c++) {
            cl[c] = fabsf(cl[c]) + 0.3f;
            lev[c] = c % 3 ? (float)((1 << (c % 4 + 1)) - 1) : 0.0f;
        }
        float *o[2][9];
        for (int k = 0; k < 2; k++) {
            hn_kws *w = k ? &ws : NULL;
            for (int j = 0; j < 9; j++) {
                o[k][j] = calloc(P * C, sizeof(float));
                assert_non_null(o[k][j]);
            }
            /* o: 0 mean|var, 1 pre, 2 out, 3 out (no pre), 4 act y,
             * 5 act dx, 6 bn dx, 7 dclamp|dgamma|dbeta, 8 bn dx (act) */
            assert_int_equal(hn_k_bn_stats(w, x, P, C, o[k][0], o[k][0] + C), HN_OK);
            float *rstd = o[k][0] + C;
            for (int c = 0; c < C; c++) rstd[c] = 1.0f / sqrtf(rstd[c] + 1e-5f);
            assert_int_equal(hn_k_bn_add_act_fwd(w, P, x, C, gam, cl, dy, C, NULL,
                                                 NULL, C, cl, lev, o[k][1], o[k][2]),
                             HN_OK);
            assert_int_equal(hn_k_bn_add_act_fwd(w, P, x, C, gam, cl, dy, C, NULL,
                                                 NULL, C, cl, lev, NULL, o[k][3]),
                             HN_OK);
            assert_int_equal(hn_k_act_fwd(w, x, P, C, cl, lev, o[k][4]), HN_OK);
            float *g = o[k][7];
            assert_int_equal(hn_k_act_bwd(w, x, P, C, cl, lev, dy, C, dy2, C, o[k][5], g),
                             HN_OK);
            assert_int_equal(hn_k_bn_bwd(w, P, C, x, o[k][0], rstd, gam, dy, C, NULL, 0,
                                         NULL, NULL, g + C, g + 2 * C, o[k][6]),
                             HN_OK);
            hn_act act = {o[k][1], cl, lev};
            assert_int_equal(hn_k_bn_bwd(w, P, C, x, o[k][0], rstd, gam, dy, C, dy2, C,
                                         &act, g, g + C, g + 2 * C, o[k][8]),
                             HN_OK);
        }
        for (int j = 0; j < 9; j++) {
            assert_memory_equal(o[0][j], o[1][j], sizeof(float) * P * C);
            free(o[0][j]);
            free(o[1][j]);
        }
        assert_true(ws.cap > 0);
        free(x); free(dy); free(dy2); free(cl); free(lev); free(gam);
    }
    /* Scratch that cannot be had is an error, not an abort, and the
     * kernel writes nothing. */
    float mean[2] = {7, 7}, var[2] = {7, 7}, x[2] = {1, 2};
    assert_int_equal(hn_k_bn_stats(&ws, x, SIZE_MAX / 4, 2, mean, var), HN_ERR_NOMEM);
    assert_true(mean[0] == 7 && var[1] == 7);
    assert_non_null(strstr(hn_error_msg(), "kernel scratch"));
    float dx[2];
    assert_int_equal(hn_k_bn_bwd(NULL, SIZE_MAX / 2, 2, x, mean, var, x, x, 2, NULL, 0,
                                 NULL, NULL, mean, var, dx), HN_ERR_NOMEM);
    assert_int_equal(hn_k_act_bwd(&ws, x, SIZE_MAX / 2, 2, x, x, x, 2, NULL, 0, dx, NULL),
                     HN_ERR_NOMEM);
    hn_kws_free(&ws);
    assert_null(ws.buf);
}

int main(void) {
    hn_rng_seed(&rng, 12345, 3);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_half_up),
        cmocka_unit_test(test_conv_golden),
        cmocka_unit_test(test_conv_grad),
        cmocka_unit_test(test_conv_dnnl_matches_ref),
        cmocka_unit_test(test_dconv_buckets_shared),
        cmocka_unit_test(test_bn_stats_values),
        cmocka_unit_test(test_bn_grad),
        cmocka_unit_test(test_residual_unequal_widths),
        cmocka_unit_test(test_act_quant),
        cmocka_unit_test(test_wquant),
        cmocka_unit_test(test_head_grad),
        cmocka_unit_test(test_workspace_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
