/* oneDNN convolutions for the training engine: NHWC activations (the
 * engine's layout, no reorders), weights handed over as OIHW and reordered
 * into the layout each primitive prefers (they are small).  One hn_dconv
 * caches the forward, backward-data and backward-weights primitives of one
 * geometry. */
#include "nn/nn_kernels.h"

#include <stdlib.h>
#include <string.h>

#ifdef HN_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>

static dnnl_engine_t g_engine;
static dnnl_stream_t g_stream;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_ok;

static void dnnl_global_init(void) {
    if (dnnl_engine_create(&g_engine, dnnl_cpu, 0) != dnnl_success) return;
    if (dnnl_stream_create(&g_stream, g_engine, dnnl_stream_default_flags) !=
        dnnl_success)
        return;
    g_ok = 1;
}

int hn_dconv_available(void) {
    pthread_once(&g_once, dnnl_global_init);
    return g_ok;
}

/* A primitive plus, per weights argument, a reorder from/to OIHW and the
 * buffer holding the primitive's layout (NULL when it is OIHW already). */
typedef struct dprim {
    dnnl_primitive_t prim;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t wreorder;  /* OIHW <-> primitive's weights layout */
    float *wbuf;
    dnnl_memory_t m_src, m_w, m_dst, m_wuser, m_wbuf;
} dprim;

/* Primitives are built for bucket geometries, channel counts above 8
 * rounded up to a multiple of 8, and shared by every hn_dconv (any layer,
 * any model) whose geometry falls in the bucket: configurations sampled
 * anew every batch then reuse a few primitives per layer instead of
 * JIT-compiling new ones (issue 8: 78 vs 21 ms per forward).  A geometry
 * that is its own bucket runs on the caller's buffers as before (same
 * primitive, same results); the others go through zero-padded copies
 * (zero input channels and filters add exact zeros). */
typedef struct dbucket {
    hn_conv_geom g;
    dprim fwd, bwd_d, bwd_w;
    int has_bwd_d;
    int refs;
    unsigned long last_use;       /* for dropping idle buckets, oldest first */
    struct dbucket *next;
} dbucket;

struct hn_dconv {
    hn_conv_geom g;               /* the caller's geometry */
    dbucket *b;
    int has_bwd_d;
};

#define HN_DCONV_IDLE_MAX 64      /* unreferenced buckets kept */

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static dbucket *g_buckets;
static unsigned long g_clock;
static int g_n_buckets;
/* scratch of the padded path (calls run one at a time on the one stream) */
static float *g_pad[3];
static size_t g_pad_cap[3];

#define DN(call)                                                              \
    do {                                                                      \
        dnnl_status_t s_ = (call);                                            \
        if (s_ != dnnl_success)                                               \
            return hn_fail(HN_ERR_INTERNAL, "oneDNN: %s failed (%d)", #call,  \
                           (int)s_);                                          \
    } while (0)

static void dprim_free(dprim *p) {
    if (p->prim) dnnl_primitive_destroy(p->prim);
    if (p->wreorder) dnnl_primitive_destroy(p->wreorder);
    if (p->pd) dnnl_primitive_desc_destroy(p->pd);
    dnnl_memory_t ms[] = {p->m_src, p->m_w, p->m_dst, p->m_wuser, p->m_wbuf};
    for (int i = 0; i < 5; i++)
        if (ms[i]) dnnl_memory_destroy(ms[i]);
    free(p->wbuf);
    memset(p, 0, sizeof(*p));
}

/* Weights memory of a primitive (query q) + reorder to (to_prim) or from
 * the user's OIHW. */
static hn_status dprim_weights(dprim *p, dnnl_query_t q,
                               const dnnl_memory_desc_t *user_md, int to_prim) {
    const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(p->pd, q, 0);
    DN(dnnl_memory_create(&p->m_wuser, user_md, g_engine, DNNL_MEMORY_NONE));
    if (dnnl_memory_desc_equal(wmd, user_md)) {
        DN(dnnl_memory_create(&p->m_w, user_md, g_engine, DNNL_MEMORY_NONE));
        return HN_OK;
    }
    size_t sz = dnnl_memory_desc_get_size(wmd);
    p->wbuf = aligned_alloc(64, (sz + 63) / 64 * 64);
    if (!p->wbuf) return hn_fail(HN_ERR_NOMEM, "oneDNN weights buffer");
    DN(dnnl_memory_create(&p->m_wbuf, wmd, g_engine, p->wbuf));
    dnnl_primitive_desc_t rpd;
    if (to_prim)
        DN(dnnl_reorder_primitive_desc_create(&rpd, user_md, g_engine, wmd,
                                              g_engine, NULL));
    else
        DN(dnnl_reorder_primitive_desc_create(&rpd, wmd, g_engine, user_md,
                                              g_engine, NULL));
    dnnl_status_t s = dnnl_primitive_create(&p->wreorder, rpd);
    dnnl_primitive_desc_destroy(rpd);
    DN(s);
    return HN_OK;
}

static hn_status dconv_build(dbucket *c) {
    const hn_conv_geom *g = &c->g;
    dnnl_dims_t sd = {g->n, g->cin, g->h, g->w};
    dnnl_dims_t dd = {g->n, g->cout, g->oh, g->ow};
    dnnl_dims_t wd = {g->cout, g->cin, g->k, g->k};
    dnnl_dims_t st = {g->stride, g->stride}, pl = {g->pad, g->pad};
    /* right padding so that the output size matches exactly */
    dnnl_dims_t pr = {(g->oh - 1) * g->stride + g->k - g->h - g->pad,
                      (g->ow - 1) * g->stride + g->k - g->w - g->pad};
    dnnl_memory_desc_t src_md, dst_md, w_any, w_user;
    DN(dnnl_memory_desc_init_by_tag(&src_md, 4, sd, dnnl_f32, dnnl_nhwc));
    DN(dnnl_memory_desc_init_by_tag(&dst_md, 4, dd, dnnl_f32, dnnl_nhwc));
    DN(dnnl_memory_desc_init_by_tag(&w_any, 4, wd, dnnl_f32, dnnl_format_tag_any));
    DN(dnnl_memory_desc_init_by_tag(&w_user, 4, wd, dnnl_f32, dnnl_oihw));

    dnnl_convolution_desc_t fd, bdd, bwd;
    DN(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training,
                                          dnnl_convolution_direct, &src_md,
                                          &w_any, NULL, &dst_md, st, pl, pr));
    DN(dnnl_primitive_desc_create(&c->fwd.pd, &fd, NULL, g_engine, NULL));
    DN(dnnl_primitive_create(&c->fwd.prim, c->fwd.pd));
    HN_TRY(dprim_weights(&c->fwd, dnnl_query_weights_md, &w_user, 1));
    DN(dnnl_memory_create(&c->fwd.m_src, &src_md, g_engine, DNNL_MEMORY_NONE));
    DN(dnnl_memory_create(&c->fwd.m_dst, &dst_md, g_engine, DNNL_MEMORY_NONE));

    if (c->has_bwd_d) {
        DN(dnnl_convolution_backward_data_desc_init(
            &bdd, dnnl_convolution_direct, &src_md, &w_any, &dst_md, st, pl, pr));
        DN(dnnl_primitive_desc_create(&c->bwd_d.pd, &bdd, NULL, g_engine,
                                      c->fwd.pd));
        DN(dnnl_primitive_create(&c->bwd_d.prim, c->bwd_d.pd));
        HN_TRY(dprim_weights(&c->bwd_d, dnnl_query_weights_md, &w_user, 1));
        DN(dnnl_memory_create(&c->bwd_d.m_src, &src_md, g_engine, DNNL_MEMORY_NONE));
        DN(dnnl_memory_create(&c->bwd_d.m_dst, &dst_md, g_engine, DNNL_MEMORY_NONE));
    }
    DN(dnnl_convolution_backward_weights_desc_init(
        &bwd, dnnl_convolution_direct, &src_md, &w_any, NULL, &dst_md, st, pl,
        pr));
    DN(dnnl_primitive_desc_create(&c->bwd_w.pd, &bwd, NULL, g_engine, c->fwd.pd));
    DN(dnnl_primitive_create(&c->bwd_w.prim, c->bwd_w.pd));
    HN_TRY(dprim_weights(&c->bwd_w, dnnl_query_diff_weights_md, &w_user, 0));
    DN(dnnl_memory_create(&c->bwd_w.m_src, &src_md, g_engine, DNNL_MEMORY_NONE));
    DN(dnnl_memory_create(&c->bwd_w.m_dst, &dst_md, g_engine, DNNL_MEMORY_NONE));
    return HN_OK;
}

static int g_no_buckets; /* exact geometries (benchmarks compare both) */

void hn_dconv_set_buckets(int on) { g_no_buckets = !on; }

static int pad_c(int c) {
    return g_no_buckets || c <= 8 ? c : (c + 7) / 8 * 8;
}

static void bucket_free(dbucket *b) {
    dprim_free(&b->fwd);
    dprim_free(&b->bwd_d);
    dprim_free(&b->bwd_w);
    free(b);
}

/* Drops the oldest unreferenced buckets beyond HN_DCONV_IDLE_MAX (g_mu held). */
static void buckets_trim(void) {
    for (;;) {
        int idle = 0;
        dbucket **old = NULL;
        for (dbucket **pp = &g_buckets; *pp; pp = &(*pp)->next)
            if ((*pp)->refs == 0) {
                idle++;
                if (!old || (*pp)->last_use < (*old)->last_use) old = pp;
            }
        if (idle <= HN_DCONV_IDLE_MAX || !old) return;
        dbucket *b = *old;
        *old = b->next;
        bucket_free(b);
        g_n_buckets--;
    }
}

int hn_dconv_n_buckets(void) {
    pthread_mutex_lock(&g_mu);
    int n = g_n_buckets;
    pthread_mutex_unlock(&g_mu);
    return n;
}

hn_status hn_dconv_new(const hn_conv_geom *g, int bwd_data, hn_dconv **out) {
    *out = NULL;
    if (!hn_dconv_available())
        return hn_fail(HN_ERR_UNSUPPORTED, "oneDNN CPU engine unavailable");
    hn_dconv *c = calloc(1, sizeof(*c));
    if (!c) return hn_fail(HN_ERR_NOMEM, "hn_dconv");
    c->g = *g;
    c->has_bwd_d = bwd_data;
    hn_conv_geom gp = *g;
    gp.cin = pad_c(g->cin);
    gp.cout = pad_c(g->cout);
    pthread_mutex_lock(&g_mu);
    dbucket *b = g_buckets;
    for (; b; b = b->next)
        if (memcmp(&b->g, &gp, sizeof gp) == 0 && b->has_bwd_d >= bwd_data) break;
    hn_status s = HN_OK;
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b) {
            s = hn_fail(HN_ERR_NOMEM, "hn_dconv");
        } else {
            b->g = gp;
            b->has_bwd_d = bwd_data;
            s = dconv_build(b);
            if (s != HN_OK) {
                bucket_free(b);
            } else {
                b->next = g_buckets;
                g_buckets = b;
                g_n_buckets++;
            }
        }
    }
    if (s == HN_OK) {
        b->refs++;
        b->last_use = ++g_clock;
        c->b = b;
    }
    pthread_mutex_unlock(&g_mu);
    if (s != HN_OK) {
        free(c);
        return s;
    }
    *out = c;
    return HN_OK;
}

void hn_dconv_free(hn_dconv *c) {
    if (!c) return;
    pthread_mutex_lock(&g_mu);
    if (c->b) {
        c->b->refs--;
        c->b->last_use = ++g_clock;
        buckets_trim();
    }
    pthread_mutex_unlock(&g_mu);
    free(c);
}

static int is_padded(const hn_dconv *c) {
    return c->b->g.cin != c->g.cin || c->b->g.cout != c->g.cout;
}

static float *scratch(int i, size_t n) {
    if (n > g_pad_cap[i]) {
        free(g_pad[i]);
        g_pad[i] = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
        g_pad_cap[i] = g_pad[i] ? n : 0;
    }
    return g_pad[i];
}

#ifdef _OPENMP
#define OMP_FOR _Pragma("omp parallel for schedule(static)")
#else
#define OMP_FOR
#endif

/* (P, c) -> (P, cp), zero tail channels. */
static void pad_rows(const float *src, size_t P, int c, int cp, float *dst) {
    OMP_FOR
    for (size_t p = 0; p < P; p++) {
        memcpy(dst + p * cp, src + p * c, sizeof(float) * (size_t)c);
        memset(dst + p * cp + c, 0, sizeof(float) * (size_t)(cp - c));
    }
}

/* (P, cp) -> (P, c). */
static void unpad_rows(const float *src, size_t P, int c, int cp, float *dst) {
    OMP_FOR
    for (size_t p = 0; p < P; p++)
        memcpy(dst + p * c, src + p * cp, sizeof(float) * (size_t)c);
}

/* OIHW (co, ci, k, k) <-> (cop, cip, k, k), zero outside. */
static void pad_w(const float *w, int co, int ci, int cop, int cip, int kk,
                  float *wp) {
    memset(wp, 0, sizeof(float) * (size_t)cop * cip * kk);
    for (int o = 0; o < co; o++)
        memcpy(wp + ((size_t)o * cip) * kk, w + ((size_t)o * ci) * kk,
               sizeof(float) * (size_t)ci * kk);
}

static void unpad_w(const float *wp, int co, int ci, int cip, int kk, float *w) {
    for (int o = 0; o < co; o++)
        memcpy(w + ((size_t)o * ci) * kk, wp + ((size_t)o * cip) * kk,
               sizeof(float) * (size_t)ci * kk);
}

/* Sets the primitive's weights from OIHW wt (reorder when needed). */
static hn_status dprim_weights_in(dprim *p, const float *wt) {
    if (!p->wreorder) return dnnl_memory_set_data_handle(p->m_w, (void *)wt)
                                 == dnnl_success ? HN_OK
                                 : hn_fail(HN_ERR_INTERNAL, "oneDNN handle");
    DN(dnnl_memory_set_data_handle(p->m_wuser, (void *)wt));
    dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, p->m_wuser}, {DNNL_ARG_TO, p->m_wbuf}};
    DN(dnnl_primitive_execute(p->wreorder, g_stream, 2, a));
    return HN_OK;
}

static hn_status bucket_fwd(dbucket *c, const float *x, const float *wt,
                           float *y) {
    dprim *p = &c->fwd;
    HN_TRY(dprim_weights_in(p, wt));
    DN(dnnl_memory_set_data_handle(p->m_src, (void *)x));
    DN(dnnl_memory_set_data_handle(p->m_dst, y));
    dnnl_exec_arg_t a[3] = {{DNNL_ARG_SRC, p->m_src},
                            {DNNL_ARG_WEIGHTS, p->wreorder ? p->m_wbuf : p->m_w},
                            {DNNL_ARG_DST, p->m_dst}};
    DN(dnnl_primitive_execute(p->prim, g_stream, 3, a));
    DN(dnnl_stream_wait(g_stream));
    return HN_OK;
}

static hn_status bucket_bwd_data(dbucket *c, const float *dy, const float *wt,
                                float *dx) {
    dprim *p = &c->bwd_d;
    HN_TRY(dprim_weights_in(p, wt));
    DN(dnnl_memory_set_data_handle(p->m_src, dx));
    DN(dnnl_memory_set_data_handle(p->m_dst, (void *)dy));
    dnnl_exec_arg_t a[3] = {{DNNL_ARG_DIFF_SRC, p->m_src},
                            {DNNL_ARG_WEIGHTS, p->wreorder ? p->m_wbuf : p->m_w},
                            {DNNL_ARG_DIFF_DST, p->m_dst}};
    DN(dnnl_primitive_execute(p->prim, g_stream, 3, a));
    DN(dnnl_stream_wait(g_stream));
    return HN_OK;
}

static hn_status bucket_bwd_weights(dbucket *c, const float *x,
                                   const float *dy, float *dw) {
    dprim *p = &c->bwd_w;
    DN(dnnl_memory_set_data_handle(p->m_src, (void *)x));
    DN(dnnl_memory_set_data_handle(p->m_dst, (void *)dy));
    dnnl_memory_t mw = p->wreorder ? p->m_wbuf : p->m_w;
    if (!p->wreorder) DN(dnnl_memory_set_data_handle(p->m_w, dw));
    dnnl_exec_arg_t a[3] = {{DNNL_ARG_SRC, p->m_src},
                            {DNNL_ARG_DIFF_WEIGHTS, mw},
                            {DNNL_ARG_DIFF_DST, p->m_dst}};
    DN(dnnl_primitive_execute(p->prim, g_stream, 3, a));
    if (p->wreorder) {
        DN(dnnl_memory_set_data_handle(p->m_wuser, dw));
        dnnl_exec_arg_t r[2] = {{DNNL_ARG_FROM, p->m_wbuf},
                                {DNNL_ARG_TO, p->m_wuser}};
        DN(dnnl_primitive_execute(p->wreorder, g_stream, 2, r));
    }
    DN(dnnl_stream_wait(g_stream));
    return HN_OK;
}

hn_status hn_dconv_fwd(hn_dconv *c, const float *x, const float *wt, float *y) {
    if (!is_padded(c)) return bucket_fwd(c->b, x, wt, y);
    const hn_conv_geom *g = &c->g, *gp = &c->b->g;
    size_t Pi = (size_t)g->n * g->h * g->w, Po = (size_t)g->n * g->oh * g->ow;
    int kk = g->k * g->k;
    float *xp = scratch(0, Pi * gp->cin), *wp = scratch(1, (size_t)gp->cout * gp->cin * kk),
          *yp = scratch(2, Po * gp->cout);
    if (!xp || !wp || !yp) return hn_fail(HN_ERR_NOMEM, "oneDNN padding");
    pad_rows(x, Pi, g->cin, gp->cin, xp);
    pad_w(wt, g->cout, g->cin, gp->cout, gp->cin, kk, wp);
    HN_TRY(bucket_fwd(c->b, xp, wp, yp));
    unpad_rows(yp, Po, g->cout, gp->cout, y);
    return HN_OK;
}

hn_status hn_dconv_bwd_data(hn_dconv *c, const float *dy, const float *wt,
                            float *dx) {
    if (!c->has_bwd_d)
        return hn_fail(HN_ERR_INTERNAL, "hn_dconv built without backward data");
    if (!is_padded(c)) return bucket_bwd_data(c->b, dy, wt, dx);
    const hn_conv_geom *g = &c->g, *gp = &c->b->g;
    size_t Pi = (size_t)g->n * g->h * g->w, Po = (size_t)g->n * g->oh * g->ow;
    int kk = g->k * g->k;
    float *dxp = scratch(0, Pi * gp->cin), *wp = scratch(1, (size_t)gp->cout * gp->cin * kk),
          *dyp = scratch(2, Po * gp->cout);
    if (!dxp || !wp || !dyp) return hn_fail(HN_ERR_NOMEM, "oneDNN padding");
    pad_rows(dy, Po, g->cout, gp->cout, dyp);
    pad_w(wt, g->cout, g->cin, gp->cout, gp->cin, kk, wp);
    HN_TRY(bucket_bwd_data(c->b, dyp, wp, dxp));
    unpad_rows(dxp, Pi, g->cin, gp->cin, dx);
    return HN_OK;
}

hn_status hn_dconv_bwd_weights(hn_dconv *c, const float *x, const float *dy,
                               float *dw) {
    if (!is_padded(c)) return bucket_bwd_weights(c->b, x, dy, dw);
    const hn_conv_geom *g = &c->g, *gp = &c->b->g;
    size_t Pi = (size_t)g->n * g->h * g->w, Po = (size_t)g->n * g->oh * g->ow;
    int kk = g->k * g->k;
    float *xp = scratch(0, Pi * gp->cin), *dwp = scratch(1, (size_t)gp->cout * gp->cin * kk),
          *dyp = scratch(2, Po * gp->cout);
    if (!xp || !dwp || !dyp) return hn_fail(HN_ERR_NOMEM, "oneDNN padding");
    pad_rows(x, Pi, g->cin, gp->cin, xp);
    pad_rows(dy, Po, g->cout, gp->cout, dyp);
    HN_TRY(bucket_bwd_weights(c->b, xp, dyp, dwp));
    unpad_w(dwp, g->cout, g->cin, gp->cin, kk, dw);
    return HN_OK;
}

#else /* !HN_HAVE_DNNL */

int hn_dconv_n_buckets(void) { return 0; }
void hn_dconv_set_buckets(int on) { (void)on; }

int hn_dconv_available(void) { return 0; }
hn_status hn_dconv_new(const hn_conv_geom *g, int bwd_data, hn_dconv **out) {
    (void)g; (void)bwd_data;
    *out = NULL;
    return hn_fail(HN_ERR_UNSUPPORTED, "built without oneDNN (HN_WITH_DNNL=OFF)");
}
void hn_dconv_free(hn_dconv *c) { (void)c; }
hn_status hn_dconv_fwd(hn_dconv *c, const float *x, const float *wt, float *y) {
    (void)c; (void)x; (void)wt; (void)y;
    return hn_fail(HN_ERR_UNSUPPORTED, "built without oneDNN");
}
hn_status hn_dconv_bwd_data(hn_dconv *c, const float *dy, const float *wt,
                            float *dx) {
    (void)c; (void)dy; (void)wt; (void)dx;
    return hn_fail(HN_ERR_UNSUPPORTED, "built without oneDNN");
}
hn_status hn_dconv_bwd_weights(hn_dconv *c, const float *x, const float *dy,
                               float *dw) {
    (void)c; (void)x; (void)dy; (void)dw;
    return hn_fail(HN_ERR_UNSUPPORTED, "built without oneDNN");
}
#endif
