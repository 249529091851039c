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

struct hn_dconv {
    hn_conv_geom g;
    dprim fwd, bwd_d, bwd_w;
    int has_bwd_d;
};

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

static hn_status dconv_build(hn_dconv *c) {
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

hn_status hn_dconv_new(const hn_conv_geom *g, int bwd_data, hn_dconv **out) {
    *out = NULL;
    if (!hn_dconv_available())
        return hn_fail(HN_ERR_UNSUPPORTED, "oneDNN CPU engine unavailable");
    hn_dconv *c = calloc(1, sizeof(*c));
    if (!c) return hn_fail(HN_ERR_NOMEM, "hn_dconv");
    c->g = *g;
    c->has_bwd_d = bwd_data;
    hn_status s = dconv_build(c);
    if (s != HN_OK) {
        hn_dconv_free(c);
        return s;
    }
    *out = c;
    return HN_OK;
}

void hn_dconv_free(hn_dconv *c) {
    if (!c) return;
    dprim_free(&c->fwd);
    dprim_free(&c->bwd_d);
    dprim_free(&c->bwd_w);
    free(c);
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

hn_status hn_dconv_fwd(hn_dconv *c, const float *x, const float *wt, float *y) {
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

hn_status hn_dconv_bwd_data(hn_dconv *c, const float *dy, const float *wt,
                            float *dx) {
    if (!c->has_bwd_d)
        return hn_fail(HN_ERR_INTERNAL, "hn_dconv built without backward data");
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

hn_status hn_dconv_bwd_weights(hn_dconv *c, const float *x, const float *dy,
                               float *dw) {
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

#else /* !HN_HAVE_DNNL */

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
