/* Plain-C batch kernels of the training engine (the golden models).  NHWC
 * activations, OIHW weights; see nn_kernels.h for the contracts. */
#include "nn/nn_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef HN_HAVE_OPENMP
#include <omp.h>
#endif

/* Pixel block of the deterministic reductions: partial sums per block in
 * float, combined in block order in double, so results do not depend on the
 * thread count or schedule. */
#define HN_RBLK 256

void hn_conv_geom_finish(hn_conv_geom *g) {
    g->oh = (g->h + 2 * g->pad - g->k) / g->stride + 1;
    g->ow = (g->w + 2 * g->pad - g->k) / g->stride + 1;
}

/* ---- convolution ---------------------------------------------------------- */
void hn_k_conv_fwd(const hn_conv_geom *g, const float *x, const float *wt,
                   float *y) {
    const int k = g->k, cin = g->cin, cout = g->cout;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < g->n; b++)
        for (int oy = 0; oy < g->oh; oy++)
            for (int ox = 0; ox < g->ow; ox++) {
                float *yp = y + (((size_t)b * g->oh + oy) * g->ow + ox) * cout;
                for (int co = 0; co < cout; co++) {
                    float acc = 0.0f;
                    for (int ky = 0; ky < k; ky++) {
                        int iy = oy * g->stride - g->pad + ky;
                        if (iy < 0 || iy >= g->h) continue;
                        for (int kx = 0; kx < k; kx++) {
                            int ix = ox * g->stride - g->pad + kx;
                            if (ix < 0 || ix >= g->w) continue;
                            const float *xp =
                                x + (((size_t)b * g->h + iy) * g->w + ix) * cin;
                            const float *wp = wt + (size_t)co * cin * k * k +
                                              ky * k + kx;
                            for (int ci = 0; ci < cin; ci++)
                                acc += xp[ci] * wp[(size_t)ci * k * k];
                        }
                    }
                    yp[co] = acc;
                }
            }
}

void hn_k_conv_bwd_data(const hn_conv_geom *g, const float *dy,
                        const float *wt, float *dx) {
    const int k = g->k, cin = g->cin, cout = g->cout;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < g->n; b++) {
        float *dxb = dx + (size_t)b * g->h * g->w * cin;
        memset(dxb, 0, sizeof(float) * (size_t)g->h * g->w * cin);
        for (int oy = 0; oy < g->oh; oy++)
            for (int ox = 0; ox < g->ow; ox++) {
                const float *dyp =
                    dy + (((size_t)b * g->oh + oy) * g->ow + ox) * cout;
                for (int ky = 0; ky < k; ky++) {
                    int iy = oy * g->stride - g->pad + ky;
                    if (iy < 0 || iy >= g->h) continue;
                    for (int kx = 0; kx < k; kx++) {
                        int ix = ox * g->stride - g->pad + kx;
                        if (ix < 0 || ix >= g->w) continue;
                        float *dxp = dxb + ((size_t)iy * g->w + ix) * cin;
                        for (int co = 0; co < cout; co++) {
                            const float *wp = wt + (size_t)co * cin * k * k +
                                              ky * k + kx;
                            float d = dyp[co];
                            for (int ci = 0; ci < cin; ci++)
                                dxp[ci] += d * wp[(size_t)ci * k * k];
                        }
                    }
                }
            }
    }
}

void hn_k_conv_bwd_weights(const hn_conv_geom *g, const float *x,
                           const float *dy, float *dw) {
    const int k = g->k, cin = g->cin, cout = g->cout;
#pragma omp parallel for schedule(static)
    for (int co = 0; co < cout; co++) {
        float *dwp = dw + (size_t)co * cin * k * k;
        for (int i = 0; i < cin * k * k; i++) dwp[i] = 0.0f;
        for (int b = 0; b < g->n; b++)
            for (int oy = 0; oy < g->oh; oy++)
                for (int ox = 0; ox < g->ow; ox++) {
                    float d = dy[(((size_t)b * g->oh + oy) * g->ow + ox) * cout +
                                 co];
                    if (d == 0.0f) continue;
                    for (int ky = 0; ky < k; ky++) {
                        int iy = oy * g->stride - g->pad + ky;
                        if (iy < 0 || iy >= g->h) continue;
                        for (int kx = 0; kx < k; kx++) {
                            int ix = ox * g->stride - g->pad + kx;
                            if (ix < 0 || ix >= g->w) continue;
                            const float *xp =
                                x + (((size_t)b * g->h + iy) * g->w + ix) * cin;
                            for (int ci = 0; ci < cin; ci++)
                                dwp[((size_t)ci * k + ky) * k + kx] += d * xp[ci];
                        }
                    }
                }
    }
}

/* ---- batch norm ------------------------------------------------------------ */
void hn_k_bn_stats(const float *x, size_t P, int C, float *mean, float *var) {
    size_t nb = (P + HN_RBLK - 1) / HN_RBLK;
    float *part = malloc(sizeof(float) * nb * 2 * (size_t)C);
    HN_ASSERT(part);
    /* Shift by the first pixel to keep the one-pass variance accurate. */
    const float *x0 = x;
#pragma omp parallel for schedule(static)
    for (size_t blk = 0; blk < nb; blk++) {
        float *s = part + blk * 2 * C, *q = s + C;
        for (int c = 0; c < C; c++) s[c] = q[c] = 0.0f;
        size_t p1 = (blk + 1) * HN_RBLK < P ? (blk + 1) * HN_RBLK : P;
        for (size_t p = blk * HN_RBLK; p < p1; p++) {
            const float *xp = x + p * C;
            for (int c = 0; c < C; c++) {
                float d = xp[c] - x0[c];
                s[c] += d;
                q[c] += d * d;
            }
        }
    }
    for (int c = 0; c < C; c++) {
        double s = 0, q = 0;
        for (size_t blk = 0; blk < nb; blk++) {
            s += part[blk * 2 * C + c];
            q += part[blk * 2 * C + C + c];
        }
        double m = s / (double)P;
        double v = q / (double)P - m * m;
        mean[c] = (float)(m + x0[c]);
        var[c] = (float)(v > 0 ? v : 0);
    }
    free(part);
}

/* Per-channel constants of the activation: hi = clamp (or +inf), inv = L/a,
 * step = a/L, isq = 1 if quantized. */
typedef struct act_consts {
    float *hi, *inv, *step, *isq;
} act_consts;

static void act_consts_init(act_consts *k, int C, const float *clamp,
                            const float *levels) {
    float *m = malloc(sizeof(float) * 4 * (size_t)C);
    HN_ASSERT(m);
    k->hi = m; k->inv = m + C; k->step = m + 2 * C; k->isq = m + 3 * C;
    for (int c = 0; c < C; c++) {
        float L = levels ? levels[c] : 0.0f;
        if (L > 0) {
            float a = clamp[c];
            k->hi[c] = a; k->inv[c] = L / a; k->step[c] = a / L; k->isq[c] = 1;
        } else {
            k->hi[c] = INFINITY; k->inv[c] = 0; k->step[c] = 0; k->isq[c] = 0;
        }
    }
}

static inline float act_one(float x, const act_consts *k, int c) {
    float v = x > 0.0f ? x : 0.0f;
    v = v < k->hi[c] ? v : k->hi[c];
    float q = hn_roundf(v * k->inv[c]) * k->step[c];
    return k->isq[c] != 0.0f ? q : v;
}

/* STE mask and clamp-gradient factor of one element. */
static inline float act_mask(float x, const act_consts *k, int c) {
    return (x > 0.0f && x < k->hi[c]) ? 1.0f : 0.0f;
}
static inline float act_dclamp(float x, const act_consts *k, int c) {
    if (k->isq[c] == 0.0f || x <= 0.0f) return 0.0f;
    if (x >= k->hi[c]) return 1.0f;
    float v = x * k->inv[c];
    return (hn_roundf(v) - v) / (k->inv[c] * k->hi[c]); /* = round(xL/a)/L - x/a */
}

void hn_k_act_fwd(const float *x, size_t P, int C, const float *clamp,
                  const float *levels, float *y) {
    act_consts k;
    act_consts_init(&k, C, clamp, levels);
#pragma omp parallel for schedule(static)
    for (size_t p = 0; p < P; p++)
        for (int c = 0; c < C; c++) y[p * C + c] = act_one(x[p * C + c], &k, c);
    free(k.hi);
}

void hn_k_act_bwd(const float *x, size_t P, int C, const float *clamp,
                  const float *levels, const float *dy, int ldy,
                  const float *dy2, int ldy2, float *dx, float *dclamp) {
    act_consts k;
    act_consts_init(&k, C, clamp, levels);
    size_t nb = (P + HN_RBLK - 1) / HN_RBLK;
    float *part = dclamp ? calloc(nb * (size_t)C, sizeof(float)) : NULL;
#pragma omp parallel for schedule(static)
    for (size_t blk = 0; blk < nb; blk++) {
        size_t p1 = (blk + 1) * HN_RBLK < P ? (blk + 1) * HN_RBLK : P;
        float *pc = part ? part + blk * C : NULL;
        for (size_t p = blk * HN_RBLK; p < p1; p++) {
            const float *xp = x + p * C, *gp = dy + p * ldy;
            const float *g2 = dy2 ? dy2 + p * ldy2 : NULL;
            float *dxp = dx + p * C;
            for (int c = 0; c < C; c++) {
                float g = gp[c] + (g2 ? g2[c] : 0.0f);
                dxp[c] = g * act_mask(xp[c], &k, c);
                if (pc) pc[c] += g * act_dclamp(xp[c], &k, c);
            }
        }
    }
    if (part) {
        for (int c = 0; c < C; c++) {
            double s = 0;
            for (size_t blk = 0; blk < nb; blk++) s += part[blk * C + c];
            dclamp[c] += (float)s;
        }
        free(part);
    }
    free(k.hi);
}

void hn_k_bn_add_act_fwd(size_t P, const float *x, int C1, const float *scale,
                         const float *shift, const float *r, int C2,
                         const float *rscale, const float *rshift, int Cout,
                         const float *clamp, const float *levels, float *pre,
                         float *out) {
    act_consts k;
    act_consts_init(&k, Cout, clamp, levels);
    const int cmin = C1 < C2 ? C1 : C2;
#pragma omp parallel
    {
        float *tmp = malloc(sizeof(float) * (size_t)Cout);
        HN_ASSERT(tmp);
#pragma omp for schedule(static)
        for (size_t p = 0; p < P; p++) {
            float *v = pre ? pre + p * Cout : tmp;
            const float *xp = x + p * C1;
            if (!r) {
                for (int c = 0; c < C1; c++) v[c] = xp[c] * scale[c] + shift[c];
            } else {
                const float *rp = r + p * C2;
                if (rscale) {
                    for (int c = 0; c < cmin; c++)
                        v[c] = xp[c] * scale[c] + shift[c] + rp[c] * rscale[c] +
                               rshift[c];
                    for (int c = cmin; c < C1; c++)
                        v[c] = xp[c] * scale[c] + shift[c];
                    for (int c = cmin; c < C2; c++)
                        v[c] = rp[c] * rscale[c] + rshift[c];
                } else {
                    for (int c = 0; c < cmin; c++)
                        v[c] = xp[c] * scale[c] + shift[c] + rp[c];
                    for (int c = cmin; c < C1; c++)
                        v[c] = xp[c] * scale[c] + shift[c];
                    for (int c = cmin; c < C2; c++) v[c] = rp[c];
                }
            }
            int cmax = r && C2 > C1 ? C2 : C1;
            for (int c = cmax; c < Cout; c++) v[c] = 0.0f;
            float *op = out + p * Cout;
            for (int c = 0; c < Cout; c++) op[c] = act_one(v[c], &k, c);
        }
        free(tmp);
    }
    free(k.hi);
}

void hn_k_bn_bwd(size_t P, int C, const float *x, const float *mean,
                 const float *rstd, const float *gamma, const float *dy,
                 int ldg, const float *dy2, int ldg2, const hn_act *act,
                 float *dclamp, float *dgamma, float *dbeta, float *dx) {
    act_consts k = {0};
    if (act) act_consts_init(&k, C, act->clamp, act->levels);
    size_t nb = (P + HN_RBLK - 1) / HN_RBLK;
    int np = act && dclamp ? 3 : 2;
    float *part = calloc(nb * (size_t)np * C, sizeof(float));
    HN_ASSERT(part);
#pragma omp parallel for schedule(static)
    for (size_t blk = 0; blk < nb; blk++) {
        float *sg = part + blk * np * C, *sgx = sg + C;
        float *sa = np == 3 ? sg + 2 * C : NULL;
        size_t p1 = (blk + 1) * HN_RBLK < P ? (blk + 1) * HN_RBLK : P;
        for (size_t p = blk * HN_RBLK; p < p1; p++) {
            const float *xp = x + p * C, *gp = dy + p * ldg;
            const float *g2 = dy2 ? dy2 + p * ldg2 : NULL;
            const float *pr = act ? act->pre + p * C : NULL;
            for (int c = 0; c < C; c++) {
                float g = gp[c] + (g2 ? g2[c] : 0.0f);
                if (act) {
                    if (sa) sa[c] += g * act_dclamp(pr[c], &k, c);
                    g *= act_mask(pr[c], &k, c);
                }
                sg[c] += g;
                sgx[c] += g * (xp[c] - mean[c]) * rstd[c];
            }
        }
    }
    float *red = malloc(sizeof(float) * 2 * (size_t)C);
    HN_ASSERT(red);
    for (int j = 0; j < np; j++)
        for (int c = 0; c < C; c++) {
            double s = 0;
            for (size_t blk = 0; blk < nb; blk++) s += part[(blk * np + j) * C + c];
            if (j == 0) { dbeta[c] += (float)s; red[c] = (float)(s / (double)P); }
            else if (j == 1) { dgamma[c] += (float)s; red[C + c] = (float)(s / (double)P); }
            else dclamp[c] += (float)s;
        }
    free(part);
    if (dx) {
        const float *mg = red, *mgx = red + C;
#pragma omp parallel for schedule(static)
        for (size_t p = 0; p < P; p++) {
            const float *xp = x + p * C, *gp = dy + p * ldg;
            const float *g2 = dy2 ? dy2 + p * ldg2 : NULL;
            const float *pr = act ? act->pre + p * C : NULL;
            float *dxp = dx + p * C;
            for (int c = 0; c < C; c++) {
                float g = gp[c] + (g2 ? g2[c] : 0.0f);
                if (act) g *= act_mask(pr[c], &k, c);
                float xh = (xp[c] - mean[c]) * rstd[c];
                dxp[c] = gamma[c] * rstd[c] * (g - mg[c] - xh * mgx[c]);
            }
        }
    }
    free(red);
    if (act) free(k.hi);
}

/* ---- pooling, FC, loss ------------------------------------------------------ */
void hn_k_gap_fwd(const float *x, int n, int hw, int C, float *y) {
    for (int b = 0; b < n; b++) {
        float *yp = y + (size_t)b * C;
        for (int c = 0; c < C; c++) yp[c] = 0.0f;
        for (int p = 0; p < hw; p++) {
            const float *xp = x + ((size_t)b * hw + p) * C;
            for (int c = 0; c < C; c++) yp[c] += xp[c];
        }
        for (int c = 0; c < C; c++) yp[c] /= (float)hw;
    }
}

void hn_k_gap_bwd(const float *dy, int n, int hw, int C, float *dx) {
    for (int b = 0; b < n; b++)
        for (int p = 0; p < hw; p++)
            for (int c = 0; c < C; c++)
                dx[((size_t)b * hw + p) * C + c] = dy[(size_t)b * C + c] / (float)hw;
}

void hn_k_fc_fwd(const float *x, int n, int in_a, const float *W, int ldw,
                 const float *b, int out, float *y) {
    for (int i = 0; i < n; i++)
        for (int o = 0; o < out; o++) {
            float acc = b ? b[o] : 0.0f;
            for (int j = 0; j < in_a; j++)
                acc += x[(size_t)i * in_a + j] * W[(size_t)o * ldw + j];
            y[(size_t)i * out + o] = acc;
        }
}

void hn_k_fc_bwd(const float *x, const float *dy, int n, int in_a,
                 const float *W, int ldw, int out, float *dW, float *db,
                 float *dx) {
    for (int o = 0; o < out; o++) {
        double sb = 0;
        for (int i = 0; i < n; i++) sb += dy[(size_t)i * out + o];
        if (db) db[o] += (float)sb;
        for (int j = 0; j < in_a; j++) {
            double s = 0;
            for (int i = 0; i < n; i++)
                s += (double)dy[(size_t)i * out + o] * x[(size_t)i * in_a + j];
            dW[(size_t)o * ldw + j] += (float)s;
        }
    }
    if (dx)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < in_a; j++) {
                float s = 0.0f;
                for (int o = 0; o < out; o++)
                    s += dy[(size_t)i * out + o] * W[(size_t)o * ldw + j];
                dx[(size_t)i * in_a + j] = s;
            }
}

float hn_k_softmax_ce(const float *logits, const int *labels, int n, int k,
                      float *dlogits, int *correct) {
    double loss = 0;
    int hits = 0;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * k;
        int am = 0;
        for (int j = 1; j < k; j++)
            if (z[j] > z[am]) am = j;
        if (am == labels[i]) hits++;
        double s = 0;
        for (int j = 0; j < k; j++) s += exp((double)z[j] - z[am]);
        double lse = log(s) + z[am];
        loss += lse - z[labels[i]];
        if (dlogits)
            for (int j = 0; j < k; j++)
                dlogits[(size_t)i * k + j] =
                    (float)((exp((double)z[j] - lse) - (j == labels[i])) / n);
    }
    if (correct) *correct = hits;
    return (float)(loss / n);
}

/* ---- weight quantizer --------------------------------------------------------- */
void hn_k_wquant_fwd(const float *w, size_t n, int bits, float a, float *wq) {
    if (bits >= 32) {
        if (wq != w) memcpy(wq, w, sizeof(float) * n);
        return;
    }
    if (bits == 1) {
        for (size_t i = 0; i < n; i++) wq[i] = w[i] >= 0.0f ? a : -a;
        return;
    }
    float L = (float)((1 << (bits - 1)) - 1), inv = L / a, step = a / L;
    for (size_t i = 0; i < n; i++) {
        float v = w[i] > a ? a : (w[i] < -a ? -a : w[i]);
        wq[i] = hn_roundf(v * inv) * step;
    }
}

float hn_k_wquant_bwd(const float *w, size_t n, int bits, float a,
                      const float *g, float *dw) {
    if (bits >= 32) {
        for (size_t i = 0; i < n; i++) dw[i] += g[i];
        return 0.0f;
    }
    double da = 0;
    if (bits == 1) {
        for (size_t i = 0; i < n; i++) {
            if (fabsf(w[i]) <= a) dw[i] += g[i];
            da += g[i] * (w[i] >= 0.0f ? 1.0 : -1.0);
        }
        return (float)da;
    }
    float L = (float)((1 << (bits - 1)) - 1), inv = L / a;
    for (size_t i = 0; i < n; i++) {
        if (w[i] >= a) da += g[i];
        else if (w[i] <= -a) da -= g[i];
        else {
            dw[i] += g[i];
            float v = w[i] * inv;
            da += g[i] * (hn_roundf(v) - v) / L;
        }
    }
    return (float)da;
}
