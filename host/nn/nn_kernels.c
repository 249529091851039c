/* Plain-C batch kernels of the training engine (the golden models).  NHWC
 * activations, OIHW weights; see nn_kernels.h for the contracts. */
#include "nn/nn_kernels.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "hetnas/simd.h"

/* OpenMP pragmas vanish (without warnings) when built without OpenMP. */
#ifdef _OPENMP
#define HN_PRAGMA(x) _Pragma(#x)
#else
#define HN_PRAGMA(x)
#endif
#define OMP_FOR HN_PRAGMA(omp parallel for schedule(static))
#define OMP_SIMD HN_PRAGMA(omp simd)

/* Pixel block of the deterministic reductions: partial sums per block in
 * float, combined in block order in double, so results do not depend on the
 * thread count or schedule. */
#define HN_RBLK 256

/* ---- scratch workspace ---------------------------------------------------- */

hn_status hn_kws_reserve(hn_kws *ws, size_t n, float **out) {
    if (n == 0) n = 1;
    if (n > SIZE_MAX / sizeof(float) / 2)
        return hn_fail(HN_ERR_NOMEM, "kernel scratch: %zu floats is too many", n);
    if (n > ws->cap) {
        free(ws->buf); /* contents need not survive: no realloc copy */
        ws->buf = malloc(n * sizeof(float));
        ws->cap = ws->buf ? n : 0;
        if (!ws->buf)
            return hn_fail(HN_ERR_NOMEM, "kernel scratch: cannot allocate %zu "
                           "floats", n);
    }
    *out = ws->buf;
    return HN_OK;
}

void hn_kws_free(hn_kws *ws) {
    if (!ws) return;
    free(ws->buf);
    ws->buf = NULL;
    ws->cap = 0;
}

/* n1 * n2 + n3 floats without size_t overflow (SIZE_MAX when it would). */
static size_t ws_size(size_t n1, size_t n2, size_t n3) {
    if (n2 && n1 > (SIZE_MAX - n3) / n2) return SIZE_MAX;
    return n1 * n2 + n3;
}

/* The kernels' scratch: ws, or a call-local workspace when ws is NULL
 * (released by ws_end). */
static hn_status ws_begin(hn_kws *ws, hn_kws *local, size_t n, float **out) {
    *local = (hn_kws){0};
    return hn_kws_reserve(ws ? ws : local, n, out);
}

static void ws_end(hn_kws *ws, hn_kws *local) {
    if (!ws) hn_kws_free(local);
}

void hn_conv_geom_finish(hn_conv_geom *g) {
    g->oh = (g->h + 2 * g->pad - g->k) / g->stride + 1;
    g->ow = (g->w + 2 * g->pad - g->k) / g->stride + 1;
}

/* ---- convolution ---------------------------------------------------------- */
void hn_k_conv_fwd(const hn_conv_geom *g, const float *x, const float *wt,
                   float *y) {
    const int k = g->k, cin = g->cin, cout = g->cout;
OMP_FOR
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
OMP_FOR
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
OMP_FOR
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

/* ---- batch norm + activation (hot: vectorized, runtime-dispatched) -------- */
/* Row kernels work on pixels [p0, p1) and are compiled for AVX-512, AVX2 and
 * baseline x86-64 (HN_CLONES, picked at load time); the OpenMP loops call
 * them per block of HN_RBLK pixels. */

HN_CLONES static void rows_stats(const float *restrict x, size_t p0, size_t p1,
                                 int C, const float *restrict x0,
                                 float *restrict s, float *restrict q) {
    for (int c = 0; c < C; c++) s[c] = q[c] = 0.0f;
    for (size_t p = p0; p < p1; p++) {
        const float *restrict xp = x + p * C;
OMP_SIMD
        for (int c = 0; c < C; c++) {
            float d = xp[c] - x0[c];
            s[c] += d;
            q[c] += d * d;
        }
    }
}

hn_status hn_k_bn_stats(hn_kws *ws, const float *x, size_t P, int C,
                        float *mean, float *var) {
    size_t nb = (P + HN_RBLK - 1) / HN_RBLK;
    hn_kws local;
    float *part;
    HN_TRY(ws_begin(ws, &local, ws_size(nb, 2 * (size_t)C, 0), &part));
    /* Shift by the first pixel to keep the one-pass variance accurate. */
    const float *x0 = x;
OMP_FOR
    for (size_t blk = 0; blk < nb; blk++) {
        size_t p1 = (blk + 1) * HN_RBLK < P ? (blk + 1) * HN_RBLK : P;
        rows_stats(x, blk * HN_RBLK, p1, C, x0, part + blk * 2 * C,
                   part + blk * 2 * C + C);
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
    ws_end(ws, &local);
    return HN_OK;
}

/* Per-channel constants of the activation (docs/nn.md "Quantization
 * contract"), branch-free:
 *   v = min(max(x, 0), hi);  out = rhu(v * inv) * step + v * nq
 * quantized channel (levels L = 2^b): hi = a (1 - 2^-b), inv = L/a,
 * step = a/L, nq = 0; plain ReLU: hi = +inf, inv = 0, step = 0, nq = 1.
 * rhu = round half up.  Backward: mask = (x > 0) & (x < hi); dclamp factor
 * = x >= hi ? isq : mask ? (rhu(x inv) - x inv) * invl : 0 with invl = 1/L,
 * isq = 1 - 2^-b (0 for ReLU). */
typedef struct act_consts {
    float *hi, *inv, *step, *nq, *invl, *isq;
} act_consts;

#define ACT_CONSTS 6 /* floats per channel in an act_consts */

/* m: ACT_CONSTS * C floats of scratch. */
static void act_consts_init(act_consts *k, float *m, int C, const float *clamp,
                            const float *levels) {
    k->hi = m; k->inv = m + C; k->step = m + 2 * C; k->nq = m + 3 * C;
    k->invl = m + 4 * C; k->isq = m + 5 * C;
    for (int c = 0; c < C; c++) {
        float L = levels ? levels[c] : 0.0f;
        if (L > 0) {
            float a = clamp[c];
            k->hi[c] = a * ((L - 1.0f) / L); k->inv[c] = L / a;
            k->step[c] = a / L; k->nq[c] = 0;
            k->invl[c] = 1.0f / L; k->isq[c] = (L - 1.0f) / L;
        } else {
            k->hi[c] = INFINITY; k->inv[c] = 0; k->step[c] = 0; k->nq[c] = 1;
            k->invl[c] = 0; k->isq[c] = 0;
        }
    }
}


HN_CLONES static void rows_act_fwd(const float *restrict x, size_t p0,
                                   size_t p1, int C, const act_consts *k,
                                   float *restrict y) {
    const float *restrict hi = k->hi, *restrict inv = k->inv,
                          *restrict step = k->step, *restrict nq = k->nq;
    for (size_t p = p0; p < p1; p++) {
        const float *restrict xp = x + p * C;
        float *restrict yp = y + p * C;
OMP_SIMD
        for (int c = 0; c < C; c++) {
            float v = xp[c] > 0.0f ? xp[c] : 0.0f;
            v = v < hi[c] ? v : hi[c];
            yp[c] = hn_roundf(v * inv[c]) * step[c] + v * nq[c];
        }
    }
}

hn_status hn_k_act_fwd(hn_kws *ws, const float *x, size_t P, int C,
                       const float *clamp, const float *levels, float *y) {
    hn_kws local;
    float *scr;
    HN_TRY(ws_begin(ws, &local, ws_size(ACT_CONSTS, (size_t)C, 0), &scr));
    act_consts k;
    act_consts_init(&k, scr, C, clamp, levels);
    size_t nb = (P + HN_RBLK - 1) / HN_RBLK;
OMP_FOR
    for (size_t blk = 0; blk < nb; blk++) {
        size_t p1 = (blk + 1) * HN_RBLK < P ? (blk + 1) * HN_RBLK : P;
        rows_act_fwd(x, blk * HN_RBLK, p1, C, &k, y);
    }
    ws_end(ws, &local);
    return HN_OK;
}

HN_CLONES static void rows_act_bwd(const float *restrict x, size_t p0,
                                   size_t p1, int C, const act_consts *k,
                                   const float *restrict dy, int ldy,
                                   const float *restrict dy2, int ldy2,
                                   float *restrict dx, float *restrict pc) {
    const float *restrict hi = k->hi, *restrict inv = k->inv,
                          *restrict invl = k->invl, *restrict isq = k->isq;
    for (size_t p = p0; p < p1; p++) {
        const float *restrict xp = x + p * C, *restrict gp = dy + p * ldy;
        const float *restrict g2 = dy2 ? dy2 + p * ldy2 : NULL;
        float *restrict dxp = dx + p * C;
        if (g2) {
OMP_SIMD
            for (int c = 0; c < C; c++) {
                float g = gp[c] + g2[c], xv = xp[c];
                int in = xv > 0.0f && xv < hi[c];
                float v = xv * inv[c];
                float dcl = xv >= hi[c] ? isq[c]
                            : (in ? (hn_roundf(v) - v) * invl[c] : 0.0f);
                dxp[c] = in ? g : 0.0f;
                pc[c] += g * dcl;
            }
        } else {
OMP_SIMD
            for (int c = 0; c < C; c++) {
                float g = gp[c], xv = xp[c];
                int in = xv > 0.0f && xv < hi[c];
                float v = xv * inv[c];
                float dcl = xv >= hi[c] ? isq[c]
                            : (in ? (hn_roundf(v) - v) * invl[c] : 0.0f);
                dxp[c] = in ? g : 0.0f;
                pc[c] += g * dcl;
            }
        }
    }
}

hn_status hn_k_act_bwd(hn_kws *ws, const float *x, size_t P, int C,
                       const float *clamp, const float *levels, const float *dy,
                       int ldy, const float *dy2, int ldy2, float *dx,
                       float *dclamp) {
    size_t nb = (P + HN_RBLK - 1) / HN_RBLK;
    hn_kws local;
    float *scr;
    HN_TRY(ws_begin(ws, &local, ws_size(nb + ACT_CONSTS, (size_t)C, 0), &scr));
    act_consts k;
    act_consts_init(&k, scr, C, clamp, levels);
    float *part = scr + ACT_CONSTS * (size_t)C; /* (nb, C) partial sums */
    memset(part, 0, sizeof(float) * nb * (size_t)C);
OMP_FOR
    for (size_t blk = 0; blk < nb; blk++) {
        size_t p1 = (blk + 1) * HN_RBLK < P ? (blk + 1) * HN_RBLK : P;
        rows_act_bwd(x, blk * HN_RBLK, p1, C, &k, dy, ldy, dy2, ldy2, dx,
                     part + blk * C);
    }
    if (dclamp)
        for (int c = 0; c < C; c++) {
            double s = 0;
            for (size_t blk = 0; blk < nb; blk++) s += part[blk * C + c];
            dclamp[c] += (float)s;
        }
    ws_end(ws, &local);
    return HN_OK;
}

HN_CLONES static void rows_bn_add_act(size_t p0, size_t p1,
                                      const float *restrict x, int C1,
                                      const float *restrict scale,
                                      const float *restrict shift,
                                      const float *restrict r, int C2,
                                      const float *restrict rscale,
                                      const float *restrict rshift, int Cout,
                                      const act_consts *k, float *restrict pre,
                                      float *restrict out, float *restrict tmp) {
    const float *restrict hi = k->hi, *restrict inv = k->inv,
                          *restrict step = k->step, *restrict nq = k->nq;
    const int cmin = r ? (C1 < C2 ? C1 : C2) : C1;
    const int cmax = r && C2 > C1 ? C2 : C1;
    for (size_t p = p0; p < p1; p++) {
        float *restrict v = pre ? pre + p * Cout : tmp;
        const float *restrict xp = x + p * C1;
        const float *restrict rp = r ? r + p * C2 : NULL;
        if (!r) {
OMP_SIMD
            for (int c = 0; c < C1; c++) v[c] = xp[c] * scale[c] + shift[c];
        } else if (rscale) {
OMP_SIMD
            for (int c = 0; c < cmin; c++)
                v[c] = xp[c] * scale[c] + shift[c] + rp[c] * rscale[c] + rshift[c];
            for (int c = cmin; c < C1; c++) v[c] = xp[c] * scale[c] + shift[c];
            for (int c = cmin; c < C2; c++) v[c] = rp[c] * rscale[c] + rshift[c];
        } else {
OMP_SIMD
            for (int c = 0; c < cmin; c++)
                v[c] = xp[c] * scale[c] + shift[c] + rp[c];
            for (int c = cmin; c < C1; c++) v[c] = xp[c] * scale[c] + shift[c];
            for (int c = cmin; c < C2; c++) v[c] = rp[c];
        }
        for (int c = cmax; c < Cout; c++) v[c] = 0.0f;
        float *restrict op = out + p * Cout;
OMP_SIMD
        for (int c = 0; c < Cout; c++) {
            float u = v[c] > 0.0f ? v[c] : 0.0f;
            u = u < hi[c] ? u : hi[c];
            op[c] = hn_roundf(u * inv[c]) * step[c] + u * nq[c];
        }
    }
}

hn_status hn_k_bn_add_act_fwd(hn_kws *ws, size_t P, const float *x, int C1,
                              const float *scale, const float *shift,
                              const float *r, int C2, const float *rscale,
                              const float *rshift, int Cout, const float *clamp,
                              const float *levels, float *pre, float *out) {
#ifdef _OPENMP
    int nt = omp_get_max_threads();
#else
    int nt = 1;
#endif
    size_t nb = (P + HN_RBLK - 1) / HN_RBLK;
    /* act constants, then one row of pre-activations per thread (only
     * needed when pre is not kept) */
    size_t ntmp = pre ? 0 : (size_t)nt;
    hn_kws local;
    float *scr;
    HN_TRY(ws_begin(ws, &local, ws_size(ACT_CONSTS + ntmp, (size_t)Cout, 0), &scr));
    act_consts k;
    act_consts_init(&k, scr, Cout, clamp, levels);
    float *tmps = scr + ACT_CONSTS * (size_t)Cout;
HN_PRAGMA(omp parallel num_threads(nt))
    {
#ifdef _OPENMP
        size_t tid = (size_t)omp_get_thread_num();
#else
        size_t tid = 0;
#endif
        float *tmp = pre ? NULL : tmps + tid * (size_t)Cout;
HN_PRAGMA(omp for schedule(static))
        for (size_t blk = 0; blk < nb; blk++) {
            size_t p1 = (blk + 1) * HN_RBLK < P ? (blk + 1) * HN_RBLK : P;
            rows_bn_add_act(blk * HN_RBLK, p1, x, C1, scale, shift, r, C2,
                            rscale, rshift, Cout, &k, pre, out, tmp);
        }
    }
    ws_end(ws, &local);
    return HN_OK;
}

/* Pass 1 of the BN backward: sums of g, g*xhat (and the clamp gradient).
 * The optional second gradient source is handled outside the vector loops:
 * a masked load from NULL costs a fault-suppression assist per vector. */
#define BWD1_ACT_BODY(GEXPR)                                                  \
    for (int c = 0; c < C; c++) {                                             \
        float g = (GEXPR), xv = pr[c];                                        \
        int in = xv > 0.0f && xv < hi[c];                                     \
        float v = xv * inv[c];                                                \
        float dcl = xv >= hi[c] ? isq[c]                                      \
                    : (in ? (hn_roundf(v) - v) * invl[c] : 0.0f);  \
        sa[c] += g * dcl;                                                     \
        g = in ? g : 0.0f;                                                    \
        sg[c] += g;                                                           \
        sgx[c] += g * (xp[c] - mean[c]) * rstd[c];                            \
    }
#define BWD1_BODY(GEXPR)                                                      \
    for (int c = 0; c < C; c++) {                                             \
        float g = (GEXPR);                                                    \
        sg[c] += g;                                                           \
        sgx[c] += g * (xp[c] - mean[c]) * rstd[c];                            \
    }

HN_CLONES static void rows_bn_bwd1(size_t p0, size_t p1, int C,
                                   const float *restrict x,
                                   const float *restrict mean,
                                   const float *restrict rstd,
                                   const float *restrict dy, int ldg,
                                   const float *restrict dy2, int ldg2,
                                   const float *restrict pre,
                                   const act_consts *k, float *restrict sg,
                                   float *restrict sgx, float *restrict sa) {
    const float *restrict hi = k->hi, *restrict inv = k->inv,
                          *restrict invl = k->invl, *restrict isq = k->isq;
    for (size_t p = p0; p < p1; p++) {
        const float *restrict xp = x + p * C, *restrict gp = dy + p * ldg;
        if (pre) {
            const float *restrict pr = pre + p * C;
            if (dy2) {
                const float *restrict g2 = dy2 + p * ldg2;
OMP_SIMD
                BWD1_ACT_BODY(gp[c] + g2[c])
            } else {
OMP_SIMD
                BWD1_ACT_BODY(gp[c])
            }
        } else if (dy2) {
            const float *restrict g2 = dy2 + p * ldg2;
OMP_SIMD
            BWD1_BODY(gp[c] + g2[c])
        } else {
OMP_SIMD
            BWD1_BODY(gp[c])
        }
    }
}

#define BWD2_BODY(GEXPR, MASK)                                                \
    for (int c = 0; c < C; c++) {                                             \
        float g = (GEXPR);                                                    \
        g = (MASK) ? g : 0.0f;                                                \
        float xh = (xp[c] - mean[c]) * rstd[c];                               \
        dxp[c] = gr[c] * (g - mg[c] - xh * mgx[c]);                           \
    }

HN_CLONES static void rows_bn_bwd2(size_t p0, size_t p1, int C,
                                   const float *restrict x,
                                   const float *restrict mean,
                                   const float *restrict rstd,
                                   const float *restrict gr,
                                   const float *restrict mg,
                                   const float *restrict mgx,
                                   const float *restrict dy, int ldg,
                                   const float *restrict dy2, int ldg2,
                                   const float *restrict pre,
                                   const act_consts *k, float *restrict dx) {
    const float *restrict hi = k->hi;
    for (size_t p = p0; p < p1; p++) {
        const float *restrict xp = x + p * C, *restrict gp = dy + p * ldg;
        float *restrict dxp = dx + p * C;
        if (pre) {
            const float *restrict pr = pre + p * C;
            if (dy2) {
                const float *restrict g2 = dy2 + p * ldg2;
OMP_SIMD
                BWD2_BODY(gp[c] + g2[c], pr[c] > 0.0f && pr[c] < hi[c])
            } else {
OMP_SIMD
                BWD2_BODY(gp[c], pr[c] > 0.0f && pr[c] < hi[c])
            }
        } else if (dy2) {
            const float *restrict g2 = dy2 + p * ldg2;
OMP_SIMD
            BWD2_BODY(gp[c] + g2[c], 1)
        } else {
OMP_SIMD
            BWD2_BODY(gp[c], 1)
        }
    }
}

hn_status hn_k_bn_bwd(hn_kws *ws, size_t P, int C, const float *x,
                      const float *mean, const float *rstd, const float *gamma,
                      const float *dy, int ldg, const float *dy2, int ldg2,
                      const hn_act *act, float *dclamp, float *dgamma,
                      float *dbeta, float *dx) {
    size_t nb = (P + HN_RBLK - 1) / HN_RBLK;
    const int np = 3;
    /* (nb, np, C) partial sums, mg/mgx/gr (C each), act constants */
    size_t npart = ws_size(nb, (size_t)np * C, 0);
    hn_kws local;
    float *part;
    HN_TRY(ws_begin(ws, &local, ws_size(ACT_CONSTS + 3, (size_t)C, npart), &part));
    memset(part, 0, sizeof(float) * npart);
    float *mg = part + npart, *mgx = mg + C, *gr = mg + 2 * C;
    act_consts k = {0};
    if (act) act_consts_init(&k, mg + 3 * C, C, act->clamp, act->levels);
    const float *pre = act ? act->pre : NULL;
OMP_FOR
    for (size_t blk = 0; blk < nb; blk++) {
        size_t p1 = (blk + 1) * HN_RBLK < P ? (blk + 1) * HN_RBLK : P;
        float *sg = part + blk * np * C;
        rows_bn_bwd1(blk * HN_RBLK, p1, C, x, mean, rstd, dy, ldg, dy2, ldg2,
                     pre, &k, sg, sg + C, sg + 2 * C);
    }
    for (int j = 0; j < np; j++)
        for (int c = 0; c < C; c++) {
            double s = 0;
            for (size_t blk = 0; blk < nb; blk++) s += part[(blk * np + j) * C + c];
            if (j == 0) { dbeta[c] += (float)s; mg[c] = (float)(s / (double)P); }
            else if (j == 1) { dgamma[c] += (float)s; mgx[c] = (float)(s / (double)P); }
            else if (act && dclamp) dclamp[c] += (float)s;
        }
    for (int c = 0; c < C; c++) gr[c] = gamma[c] * rstd[c];
    if (dx) {
OMP_FOR
        for (size_t blk = 0; blk < nb; blk++) {
            size_t p1 = (blk + 1) * HN_RBLK < P ? (blk + 1) * HN_RBLK : P;
            rows_bn_bwd2(blk * HN_RBLK, p1, C, x, mean, rstd, gr, mg, mgx, dy,
                         ldg, dy2, ldg2, pre, &k, dx);
        }
    }
    ws_end(ws, &local);
    return HN_OK;
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
