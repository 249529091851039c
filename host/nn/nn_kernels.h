/* Internal batch-level kernels of the training engine (host/nn).  Layout:
 * activations NHWC (pixel-major, channels contiguous, C = the active width),
 * conv weights OIHW (c_out, c_in, k, k) as in PyTorch.  Every kernel here is
 * the plain-C golden model; nn_dnnl.c holds the oneDNN convolution path that
 * tests compare against hn_k_conv_*. */
#ifndef HETNAS_NN_KERNELS_H
#define HETNAS_NN_KERNELS_H

#include <math.h>
#include <stddef.h>
#include "hetnas/status.h"

typedef struct hn_conv_geom {
    int n, h, w, cin;   /* input (N, H, W, C_in) */
    int cout, k, stride, pad;
    int oh, ow;         /* output (N, OH, OW, C_out) */
} hn_conv_geom;

/* Scratch memory of the batch kernels below, reused from call to call so
 * hot kernels do not allocate (one per model: kernels sharing one must not
 * run concurrently).  It grows to the largest request and never shrinks;
 * zero-initialize it ({0}) and release it with hn_kws_free.  A kernel given
 * ws = NULL allocates and frees its own scratch.  Kernels that need scratch
 * return HN_ERR_NOMEM (with a message) when it cannot be allocated, and
 * then have written nothing. */
typedef struct hn_kws {
    float *buf;
    size_t cap; /* floats */
} hn_kws;
/* *out = at least n floats (contents undefined). */
hn_status hn_kws_reserve(hn_kws *ws, size_t n, float **out);
void hn_kws_free(hn_kws *ws);

/* Fills oh/ow from the others. */
void hn_conv_geom_finish(hn_conv_geom *g);

/* ---- convolution, plain C (OpenMP over images / filters) ---------------- */
void hn_k_conv_fwd(const hn_conv_geom *g, const float *x, const float *wt,
                   float *y);                      /* y overwritten */
void hn_k_conv_bwd_data(const hn_conv_geom *g, const float *dy,
                        const float *wt, float *dx); /* dx overwritten */
void hn_k_conv_bwd_weights(const hn_conv_geom *g, const float *x,
                           const float *dy, float *dw); /* dw overwritten */

/* ---- oneDNN convolution (nn_dnnl.c); HN_ERR_UNSUPPORTED without it ------ */
typedef struct hn_dconv hn_dconv;
int hn_dconv_available(void);
hn_status hn_dconv_new(const hn_conv_geom *g, int bwd_data, hn_dconv **out);
void hn_dconv_free(hn_dconv *c);
/* Primitive sets alive (shared by geometries padded to the same bucket:
 * channels > 8 rounded up to a multiple of 8). */
int hn_dconv_n_buckets(void);
/* Buckets on (default) or off (exact geometries, for bench/sample_step);
 * applies to hn_dconv objects created afterwards. */
void hn_dconv_set_buckets(int on);
hn_status hn_dconv_fwd(hn_dconv *c, const float *x, const float *wt, float *y);
hn_status hn_dconv_bwd_data(hn_dconv *c, const float *dy, const float *wt,
                            float *dx);
hn_status hn_dconv_bwd_weights(hn_dconv *c, const float *x, const float *dy,
                               float *dw);

/* ---- batch norm over P = N*H*W pixels, C channels ---------------------- */
/* Per-channel mean and biased variance of x (P, C); double accumulation in a
 * fixed order (deterministic for a given thread count). */
hn_status hn_k_bn_stats(hn_kws *ws, const float *x, size_t P, int C,
                        float *mean, float *var);
/* Backward reductions: sum_g[c] = sum_p g, sum_gx[c] = sum_p g*xhat where
 * xhat = (x - mean) * rstd and g = dy (or g = dy masked by the activation
 * backward when act != NULL, see hn_act). */
typedef struct hn_act {
    const float *pre;    /* (P, C) pre-activation (input of the ReLU/quant) */
    const float *clamp;  /* (C) clamp a_c (used where levels > 0) */
    const float *levels; /* (C) 2^b, or 0 for a plain ReLU */
} hn_act;

/* ---- activation: ReLU / clipped ReLU + unsigned rounding (STE) ---------- */
/* y = q(max(x, 0)) per channel: levels 0 -> ReLU; else levels = 2^b and
 * y = rhu(min(x, a (1 - 2^-b)) 2^b / a) a 2^-b (nested power-of-two grids,
 * round half up). */
hn_status hn_k_act_fwd(hn_kws *ws, const float *x, size_t P, int C,
                       const float *clamp, const float *levels, float *y);
/* STE backward: dx = dy * [x > 0 and (levels == 0 or x < hi)];
 * dclamp[c] += sum dy * (x >= hi ? 1-1/L : x > 0 ? rhu(xL/a)/L - x/a : 0).
 * dy has row stride ldy (>= C), dy2 (may be NULL) is added to dy first
 * (row stride ldy2, only its first C channels). dclamp may be NULL. */
hn_status hn_k_act_bwd(hn_kws *ws, const float *x, size_t P, int C,
                       const float *clamp, const float *levels, const float *dy,
                       int ldy, const float *dy2, int ldy2, float *dx,
                       float *dclamp);

/* ---- fused BN (+ residual) + activation for the forward pass ------------
 * pre[p, c] = x[p, c] * scale[c] + shift[c] (c < C1, else 0)
 *           + (r ? r[p, c] * rscale[c] + rshift[c] (c < C2) : 0)
 * where rscale == NULL means an identity residual (rscale 1, rshift 0);
 * Cout = max(C1, C2) channels; then out = act(pre). pre may equal NULL when
 * not needed (inference). */
hn_status hn_k_bn_add_act_fwd(hn_kws *ws, size_t P, const float *x, int C1,
                              const float *scale, const float *shift,
                              const float *r, int C2, const float *rscale,
                              const float *rshift, int Cout, const float *clamp,
                              const float *levels, float *pre, float *out);

/* BN backward for one BN over (P, C): g = dy (row stride ldg), x the BN
 * input, mean/rstd the batch statistics used in the forward.  Computes
 * dgamma[c] += sum g*xhat, dbeta[c] += sum g and (dx != NULL)
 * dx = gamma*rstd*(g - sum_g/P - xhat*sum_gx/P).  When act != NULL, g is the
 * activation backward of dy (fused; act->pre has row stride C), and the
 * activation clamp gradient is added into dclamp (may be NULL). */
hn_status hn_k_bn_bwd(hn_kws *ws, size_t P, int C, const float *x,
                      const float *mean, const float *rstd, const float *gamma,
                      const float *dy, int ldg, const float *dy2, int ldg2,
                      const hn_act *act, float *dclamp, float *dgamma,
                      float *dbeta, float *dx);

/* ---- pooling, FC, loss ---------------------------------------------------- */
void hn_k_gap_fwd(const float *x, int n, int hw, int C, float *y); /* (n, C) */
void hn_k_gap_bwd(const float *dy, int n, int hw, int C, float *dx);
/* y (n, out) = x (n, in_a) W[:, :in_a]^T + b; W (out, ldw) row-major. */
void hn_k_fc_fwd(const float *x, int n, int in_a, const float *W, int ldw,
                 const float *b, int out, float *y);
/* dW[:, :in_a] += dy^T x; db += sum dy; dx (n, in_a) = dy W[:, :in_a]. */
void hn_k_fc_bwd(const float *x, const float *dy, int n, int in_a,
                 const float *W, int ldw, int out, float *dW, float *db,
                 float *dx);
/* Mean softmax cross entropy over n rows of k logits; dlogits (may be NULL)
 * = (softmax - onehot) / n; *correct (may be NULL) = top-1 hits. */
float hn_k_softmax_ce(const float *logits, const int *labels, int n, int k,
                      float *dlogits, int *correct);

/* ---- weight quantizer (per filter, symmetric, learned clamp, STE) ------- */
/* levels L = 2^(b-1)-1 (b >= 2), b == 1 binary, b >= 32 identity.
 * wq = clamp(w, -a, a) rounded to a*i/L;  binary: a*sign(w). */
void hn_k_wquant_fwd(const float *w, size_t n, int bits, float a, float *wq);
/* dw += g * [|w| <= a] (identity: g); returns d a = sum g * dq/da with
 * dq/da = sign(w) outside, round(wL/a)/L - w/a inside (binary: sign(w)). */
float hn_k_wquant_bwd(const float *w, size_t n, int bits, float a,
                      const float *g, float *dw);

/* The one rounding rule of the model and the integer backends (docs/nn.md
 * "Quantization contract"): round half up, floor(v + 0.5), computed exactly
 * (v - floor(v) is exact in float, unlike v + 0.5 near 0.5 - ulp). */
static inline float hn_roundf(float v) {
    const float r = floorf(v);
    return r + (float)(v - r >= 0.5f); /* no branch: the loops vectorize */
}

#endif
