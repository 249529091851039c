/* The cpuint backend (backend.h): the integer conv jobs on the CPU through
 * oneDNN's int8 convolution, u8 activations x s8 weights -> s32, batched
 * over the images of one integer-network chunk.  Same arithmetic as the
 * oracle: codes MSB-aligned (code << (B - b_c) <= 255), weights in
 * +-127 (b_w <= 8; +-1 for binary filters), exact s32 sums (intnet checks
 * the accumulator bound before any work).
 *
 * oneDNN's int8 kernels are exact only with VNNI (vpdpbusd): without it
 * they add u8*s8 pairs in int16 with saturation (vpmaddubsw).  On such a
 * CPU the backend runs the oracle instead and says so once.
 *
 * Primitives and reordered weights are cached per (geometry, images,
 * weights content): an integer network's layers hit the cache on every
 * chunk; a job whose weights change gets a new entry. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/backend.h"
#include "hetnas/hwref.h"
#include "hetnas/intnet.h"
#include "hetnas/log.h"
#include "hetnas/simd.h"

#ifdef HN_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>

#define CACHE_MAX 128


typedef struct centry {
    int k, stride, pad, in_h, in_w, c_in, c_out, n, oh, ow;
    uint64_t whash;
    dnnl_primitive_t prim;
    dnnl_primitive_t r_in, r_out; /* u8 NCHW -> NHWC, s32 NHWC -> NCHW (JIT) */
    dnnl_memory_t m_src, m_w, m_dst, m_src8, m_acc;
    uint8_t *src;      /* (n, in_h, in_w, c_in) u8, NHWC */
    uint8_t *src8;     /* (n, c_in, in_h, in_w) u8, NCHW: the shifted codes */
    int32_t *dst;      /* (n, oh, ow, c_out) s32, NHWC */
    unsigned long last;
} centry;

typedef struct cpuint {
    dnnl_engine_t eng;
    dnnl_stream_t strm;
    int exact;         /* VNNI present: oneDNN's int8 sums are exact */
    centry cache[CACHE_MAX];
    int n_cache;
    unsigned long clock;
    int *bits;         /* (c_in) scratch: each input channel's bits */
    int bits_cap;
} cpuint;

#define DN(call, what)                                                        \
    do {                                                                      \
        dnnl_status_t s_ = (call);                                            \
        if (s_ != dnnl_success)                                               \
            return hn_fail(HN_ERR_INTERNAL, "cpuint: oneDNN %s failed (%d)",  \
                           what, (int)s_);                                    \
    } while (0)

static void entry_free(centry *e) {
    if (e->prim) dnnl_primitive_destroy(e->prim);
    if (e->r_in) dnnl_primitive_destroy(e->r_in);
    if (e->r_out) dnnl_primitive_destroy(e->r_out);
    if (e->m_src8) dnnl_memory_destroy(e->m_src8);
    if (e->m_acc) dnnl_memory_destroy(e->m_acc);
    free(e->src8);
    if (e->m_src) dnnl_memory_destroy(e->m_src);
    if (e->m_w) dnnl_memory_destroy(e->m_w);
    if (e->m_dst) dnnl_memory_destroy(e->m_dst);
    free(e->src);
    free(e->dst);
    memset(e, 0, sizeof *e);
}

static void ci_close(void *state) {
    cpuint *c = state;
    if (!c) return;
    for (int i = 0; i < c->n_cache; i++) entry_free(&c->cache[i]);
    if (c->strm) dnnl_stream_destroy(c->strm);
    if (c->eng) dnnl_engine_destroy(c->eng);
    free(c->bits);
    free(c);
}

static hn_status ci_open(const hn_backend_opts *o, void **state) {
    (void)o;
    *state = NULL;
    cpuint *c = calloc(1, sizeof *c);
    if (!c) return hn_fail(HN_ERR_NOMEM, "cpuint");
    if (dnnl_engine_create(&c->eng, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&c->strm, c->eng, dnnl_stream_default_flags) != dnnl_success) {
        ci_close(c);
        return hn_fail(HN_ERR_UNSUPPORTED, "cpuint: no oneDNN CPU engine");
    }
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    c->exact = (isa & dnnl_cpu_isa_avx512_core_vnni) == dnnl_cpu_isa_avx512_core_vnni ||
               (isa & dnnl_cpu_isa_avx2_vnni) == dnnl_cpu_isa_avx2_vnni;
    if (!c->exact)
        HN_WARN("cpuint: this CPU has no VNNI, whose absence makes oneDNN's int8 "
                "sums saturate; running the C oracle instead (exact, slow)");
    *state = c;
    return HN_OK;
}

/* codes -> u8 << sh; returns nonzero if a code is outside [0, 2^bits). */
HN_CLONES static int to_u8(const int32_t *restrict a, size_t n, int bits, int sh,
                           uint8_t *restrict o) {
    int32_t out = 0;
    for (size_t p = 0; p < n; p++) {
        out |= a[p] >> bits;
        o[p] = (uint8_t)(a[p] << sh);
    }
    return out != 0;
}

static uint64_t weights_hash(const hn_hwjob *j) {
    size_t n = (size_t)j->c_out * j->c_in * j->k * j->k;
    uint64_t h = 1469598103934665603ull; /* FNV-1a over the values */
    for (size_t i = 0; i < n; i++) {
        h ^= (uint32_t)j->weights[i];
        h *= 1099511628211ull;
    }
    return h;
}

static hn_status entry_build(cpuint *c, const hn_hwjob *j, int n, uint64_t wh,
                             centry *e) {
    int oh, ow;
    hn_hwjob_out_dims(j, &oh, &ow);
    e->k = j->k; e->stride = j->stride; e->pad = j->pad;
    e->in_h = j->in_h; e->in_w = j->in_w; e->c_in = j->c_in; e->c_out = j->c_out;
    e->n = n; e->oh = oh; e->ow = ow; e->whash = wh;
    dnnl_memory_desc_t src_md, w_md, dst_md, wany_md;
    dnnl_dims_t sd = {n, j->c_in, j->in_h, j->in_w};
    dnnl_dims_t wd = {j->c_out, j->c_in, j->k, j->k};
    dnnl_dims_t dd = {n, j->c_out, oh, ow};
    DN(dnnl_memory_desc_init_by_tag(&src_md, 4, sd, dnnl_u8, dnnl_nhwc), "src desc");
    DN(dnnl_memory_desc_init_by_tag(&w_md, 4, wd, dnnl_s8, dnnl_oihw), "weights desc");
    DN(dnnl_memory_desc_init_by_tag(&wany_md, 4, wd, dnnl_s8, dnnl_format_tag_any), "weights desc");
    DN(dnnl_memory_desc_init_by_tag(&dst_md, 4, dd, dnnl_s32, dnnl_nhwc), "dst desc");
    dnnl_dims_t strides = {j->stride, j->stride};
    /* right padding so that the output is exactly (oh, ow) */
    dnnl_dims_t pl = {j->pad, j->pad};
    dnnl_dims_t pr = {(oh - 1) * j->stride + j->k - j->in_h - j->pad,
                      (ow - 1) * j->stride + j->k - j->in_w - j->pad};
    dnnl_convolution_desc_t cd;
    DN(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference,
                                          dnnl_convolution_direct, &src_md, &wany_md,
                                          NULL, &dst_md, strides, pl, pr),
       "convolution desc");
    dnnl_primitive_desc_t pd;
    DN(dnnl_primitive_desc_create(&pd, &cd, NULL, c->eng, NULL), "convolution pd");
    hn_status st = HN_OK;
    const dnnl_memory_desc_t *wp = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    if (dnnl_primitive_create(&e->prim, pd) != dnnl_success)
        st = hn_fail(HN_ERR_INTERNAL, "cpuint: oneDNN convolution primitive");
    e->src = malloc((size_t)n * j->c_in * j->in_h * j->in_w);
    e->dst = malloc(sizeof(int32_t) * (size_t)n * j->c_out * oh * ow);
    size_t nw = (size_t)j->c_out * j->c_in * j->k * j->k;
    int8_t *w8 = malloc(nw ? nw : 1);
    if (st == HN_OK && (!e->src || !e->dst || !w8)) st = hn_fail(HN_ERR_NOMEM, "cpuint");
    if (st == HN_OK) {
        for (size_t i = 0; i < nw; i++) w8[i] = (int8_t)j->weights[i];
        dnnl_memory_t m_wuser = NULL;
        if (dnnl_memory_create(&e->m_src, &src_md, c->eng, e->src) != dnnl_success ||
            dnnl_memory_create(&e->m_dst, &dst_md, c->eng, e->dst) != dnnl_success ||
            dnnl_memory_create(&m_wuser, &w_md, c->eng, w8) != dnnl_success ||
            dnnl_memory_create(&e->m_w, wp, c->eng, DNNL_MEMORY_ALLOCATE) != dnnl_success) {
            st = hn_fail(HN_ERR_INTERNAL, "cpuint: oneDNN memory");
        } else {
            /* weights into the primitive's layout, once per entry */
            dnnl_primitive_desc_t rpd;
            dnnl_primitive_t r = NULL;
            if (dnnl_reorder_primitive_desc_create(&rpd, &w_md, c->eng, wp, c->eng, NULL) !=
                    dnnl_success ||
                dnnl_primitive_create(&r, rpd) != dnnl_success) {
                st = hn_fail(HN_ERR_INTERNAL, "cpuint: oneDNN weights reorder");
            } else {
                dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, m_wuser}, {DNNL_ARG_TO, e->m_w}};
                if (dnnl_primitive_execute(r, c->strm, 2, args) != dnnl_success ||
                    dnnl_stream_wait(c->strm) != dnnl_success)
                    st = hn_fail(HN_ERR_INTERNAL, "cpuint: oneDNN weights reorder");
            }
            if (r) dnnl_primitive_destroy(r);
            dnnl_primitive_desc_destroy(rpd);
        }
        if (m_wuser) dnnl_memory_destroy(m_wuser);
    }
    free(w8);
    dnnl_primitive_desc_destroy(pd);
    /* the layout changes around the convolution, as oneDNN reorders */
    dnnl_memory_desc_t src8_md, acc_md;
    if (st == HN_OK &&
        (dnnl_memory_desc_init_by_tag(&src8_md, 4, sd, dnnl_u8, dnnl_nchw) != dnnl_success ||
         dnnl_memory_desc_init_by_tag(&acc_md, 4, dd, dnnl_s32, dnnl_nchw) != dnnl_success))
        st = hn_fail(HN_ERR_INTERNAL, "cpuint: oneDNN layout desc");
    if (st == HN_OK && !(e->src8 = malloc((size_t)n * j->c_in * j->in_h * j->in_w)))
        st = hn_fail(HN_ERR_NOMEM, "cpuint");
    if (st == HN_OK &&
        (dnnl_memory_create(&e->m_src8, &src8_md, c->eng, e->src8) != dnnl_success ||
         dnnl_memory_create(&e->m_acc, &acc_md, c->eng, DNNL_MEMORY_NONE) != dnnl_success))
        st = hn_fail(HN_ERR_INTERNAL, "cpuint: oneDNN memory");
    for (int r = 0; r < 2 && st == HN_OK; r++) {
        dnnl_primitive_desc_t rpd;
        const dnnl_memory_desc_t *from = r ? &dst_md : &src8_md, *to = r ? &acc_md : &src_md;
        if (dnnl_reorder_primitive_desc_create(&rpd, from, c->eng, to, c->eng, NULL) !=
            dnnl_success) {
            st = hn_fail(HN_ERR_INTERNAL, "cpuint: oneDNN layout reorder");
            break;
        }
        if (dnnl_primitive_create(r ? &e->r_out : &e->r_in, rpd) != dnnl_success)
            st = hn_fail(HN_ERR_INTERNAL, "cpuint: oneDNN layout reorder");
        dnnl_primitive_desc_destroy(rpd);
    }
    if (st != HN_OK) entry_free(e);
    return st;
}

static hn_status entry_get(cpuint *c, const hn_hwjob *j, int n, centry **out) {
    uint64_t wh = weights_hash(j);
    c->clock++;
    for (int i = 0; i < c->n_cache; i++) {
        centry *e = &c->cache[i];
        if (e->k == j->k && e->stride == j->stride && e->pad == j->pad &&
            e->in_h == j->in_h && e->in_w == j->in_w && e->c_in == j->c_in &&
            e->c_out == j->c_out && e->n == n && e->whash == wh) {
            e->last = c->clock;
            *out = e;
            return HN_OK;
        }
    }
    int slot = c->n_cache;
    if (slot == CACHE_MAX) { /* drop the least recently used */
        slot = 0;
        for (int i = 1; i < CACHE_MAX; i++)
            if (c->cache[i].last < c->cache[slot].last) slot = i;
        entry_free(&c->cache[slot]);
    } else {
        c->n_cache++;
    }
    hn_status st = entry_build(c, j, n, wh, &c->cache[slot]);
    if (st != HN_OK) {
        /* keep the table dense */
        c->cache[slot] = c->cache[c->n_cache - 1];
        memset(&c->cache[c->n_cache - 1], 0, sizeof(centry));
        c->n_cache--;
        return st;
    }
    c->cache[slot].last = c->clock;
    *out = &c->cache[slot];
    return HN_OK;
}

/* acts (n, c_in, H, W) int32 codes; acc (n, c_out, oh, ow). */
static hn_status ci_batch(cpuint *c, const hn_hwjob *j, int n, const int32_t *acts,
                          int32_t *acc) {
    /* geometry, groups, weights and the first image's codes; the others
     * are range-checked while they are converted below */
    hn_hwjob v = *j;
    v.acts = (int32_t *)acts;
    HN_TRY(hn_hwjob_validate(&v, 8, 8));
    int oh, ow;
    hn_hwjob_out_dims(j, &oh, &ow);
    if (!c->exact) {
        hn_hwjob t = *j;
        for (int i = 0; i < n; i++) {
            t.acts = (int32_t *)acts + (size_t)i * j->c_in * j->in_h * j->in_w;
            HN_TRY(hn_hwref_conv(&t, acc + (size_t)i * j->c_out * oh * ow));
        }
        return HN_OK;
    }
    if (j->c_in > c->bits_cap) {
        free(c->bits);
        if (!(c->bits = malloc(sizeof(int) * (size_t)j->c_in)))
            return hn_fail(HN_ERR_NOMEM, "cpuint");
        c->bits_cap = j->c_in;
    }
    int B = 0;
    for (int g = 0; g < j->n_in_groups; g++)
        if (j->in_groups[g].bits > B) B = j->in_groups[g].bits;
    for (int g = 0, ch = 0; g < j->n_in_groups; g++)
        for (int i = 0; i < j->in_groups[g].n; i++) c->bits[ch++] = j->in_groups[g].bits;
    centry *e;
    HN_TRY(entry_get(c, j, n, &e));
    /* int32 codes -> u8, MSB-aligned (NCHW, contiguous: vectorizes), then
     * oneDNN's reorders to NHWC and back */
    const int C = j->c_in;
    const size_t hw = (size_t)j->in_h * j->in_w;
    long bad = -1; /* the first (image, channel) with a code out of range */
#pragma omp parallel for schedule(static) if (n > 1)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < C; ch++) {
            const size_t off = ((size_t)i * C + ch) * hw;
            const int bits = c->bits[ch];
            if (to_u8(acts + off, hw, bits, B - bits, e->src8 + off)) {
#pragma omp critical(hn_cpuint_err)
                if (bad < 0 || (long)i * C + ch < bad) bad = (long)i * C + ch;
            }
        }
    if (bad >= 0)
        return hn_fail(HN_ERR_RANGE, "cpuint: image %ld, channel %ld: a code "
                       "outside [0, 2^%d)", bad / C, bad % C, c->bits[bad % C]);
    DN(dnnl_memory_set_data_handle(e->m_acc, acc), "set handle");
    dnnl_exec_arg_t a_in[2] = {{DNNL_ARG_FROM, e->m_src8}, {DNNL_ARG_TO, e->m_src}};
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, e->m_src},
                               {DNNL_ARG_WEIGHTS, e->m_w},
                               {DNNL_ARG_DST, e->m_dst}};
    dnnl_exec_arg_t a_out[2] = {{DNNL_ARG_FROM, e->m_dst}, {DNNL_ARG_TO, e->m_acc}};
    DN(dnnl_primitive_execute(e->r_in, c->strm, 2, a_in), "reorder");
    DN(dnnl_primitive_execute(e->prim, c->strm, 3, args), "convolution");
    DN(dnnl_primitive_execute(e->r_out, c->strm, 2, a_out), "reorder");
    DN(dnnl_stream_wait(c->strm), "stream wait");
    return HN_OK;
}

static hn_status ci_run(void *state, const hn_hwjob *job, int32_t *acc,
                        uint64_t *cycles, uint64_t *work) {
    (void)cycles;
    (void)work;
    if (!job->acts) return hn_fail(HN_ERR_INVAL, "cpuint: job without activations");
    return ci_batch(state, job, 1, job->acts, acc);
}

static hn_status ci_run_batch(void *state, const hn_hwjob *job, int n,
                              const int32_t *acts, int32_t *acc) {
    return ci_batch(state, job, n, acts, acc);
}

const hn_backend_ops hn_backend_cpuint_ops = {
    .name = "cpuint",
    .desc = "integer conv on the CPU: oneDNN int8 (u8 x s8 -> s32, VNNI), batched",
    .runs_jobs = 1, .open = ci_open, .run_job = ci_run, .close = ci_close,
    .run_batch = ci_run_batch, .batch = 32};
#else
typedef int hn_hwcpuint_unused;
#endif
