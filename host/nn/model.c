/* hn_model: a ResNet (arch.h) with per-filter fake quantization and
 * slimmable widths, explicit forward/backward over NHWC batches.
 *
 * Per step the active slice of every conv's weights (prefix filters, prefix
 * input channels) is gathered and quantized per filter into a packed
 * (c_out_a, c_in_a, k, k) buffer; the conv runs on it (oneDNN or the plain-C
 * kernels); BN, the residual add and the activation quantizer are fused into
 * one pass forward and one reduction + one pass backward (nn_kernels.c). */
#include "hetnas/nn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hetnas/rng.h"
#include "nn/nn_kernels.h"

#define CLAMP_MIN 1e-6f
/* oneDNN primitives kept per layer (batch sizes x width configurations) */
#define HN_DCONV_CACHE 6

typedef struct layer {
    const hn_layer_desc *d;
    int cin, cout, k, stride, pad; /* full sizes */
    size_t wsz;                    /* cout*cin*k*k */
    /* parameters, bank-major: nwb weight banks, nbn*nwb BN banks */
    float *w, *gw;                 /* (nwb, cout, cin, k, k) */
    float *wclamp, *gwclamp;       /* (nwb, cout) */
    float *aclamp, *gaclamp;       /* (1): the clamp of this layer's output
                                      tensor (conv2: the block output), one
                                      per tensor, not banked; unused by down */
    float *gamma, *beta, *ggamma, *gbeta; /* (nbn, nwb, cout) */
    float *rmean, *rvar;           /* (nbn, nwb, cout) */
    /* active configuration */
    int cin_a, cout_a;
    int *bank;                     /* (cout) weight bank of filter f */
    int *wbits;                    /* (cout) */
    float *alevels;                /* (cout) 2^b_a - 1 or 0 */
    float *wq, *gwq;               /* (cout_a, cin_a, k, k) packed */
    float *scale, *shift, *bmean, *brstd, *agamma, *dgamma, *dbeta; /* (cout) */
    /* geometry for the current batch */
    hn_conv_geom g;
    hn_dconv *dc;                  /* == one of cache[] */
    hn_dconv *cache[HN_DCONV_CACHE]; /* oneDNN primitives by geometry */
    hn_conv_geom cgeom[HN_DCONV_CACHE];
    int cache_next;
    float *cout_buf;               /* conv output (P, cout_a) */
} layer;

/* An activation site: a layer's output after (BN [+ residual] +) act. */
typedef struct site {
    int C;                         /* active channels */
    float *clamp, *levels, *dclamp; /* (cout_full) gathered per channel;
                                      levels = 2^b_a (0: plain ReLU); every
                                      pclamp points at the tensor's clamp */
    float **pclamp;                /* (cout_full) -> parameter entries */
    float **pgclamp;
    float *pre, *out;              /* (P, C) */
} site;

typedef struct block {
    int l1, l2, ld;                /* layer indices; ld = -1: identity */
    int win, wout;
    site s1, s2;                   /* after conv1; after add (block output) */
    float *dpre2;                  /* (P, wout) */
    float *gin_a, *gin_b;          /* grads of the block input (P_in, win) */
    float *dconv;                  /* scratch (P, max width) */
} block;

typedef struct pentry {
    char name[64];
    hn_param_kind kind;
    int ndim, shape[6];
    size_t numel;
    float *data, *grad;
} pentry;

struct hn_model {
    const hn_arch *arch;
    hn_resnet_spec spec;
    hn_model_opts opts;
    hn_config *cfg;
    int L, nb, nwb, nbn, cur_bn, recal, recal_count;
    float momentum;
    layer *ly;
    block *bl;
    site s0;                       /* stem activation */
    float *fc_w, *fc_gw, *fc_b, *fc_gb; /* (classes, fc_in) */
    int fc_in, classes, wlast;
    /* batch state */
    int n, cap_n, have_fwd;
    float *x0;                     /* (n, H, W, C) NHWC input */
    float *feat, *dfeat, *dlast;   /* (n, wlast), (n, wlast), (P_last, wlast) */
    float *stem_dconv;
    int use_dnnl;
    pentry *params;
    int n_params;
    float *arena;                  /* parameters + grads */
    hn_model_prof prof;
    int quant_layers;              /* layers [0, k) quantized; -1 = all */
    int *recal_widths;             /* widths the recalibration set holds */
    int *stat_widths;              /* (nbn, L) widths each BN set's running
                                      stats were estimated at; -1 unknown */
    int bn_frozen;                 /* train forwards leave running stats */
    float noise_prob;              /* NICE weight noise (train forward) */
    int has_norm;                  /* 8-bit input: norm_mean/std set */
    int calibrated;                /* act clamps from calibration */
    float norm_mean[4], norm_std[4];
    hn_rng noise_rng;
    hn_kws ws;                     /* scratch of the BN/activation kernels */
};

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

hn_model_opts hn_model_opts_default(void) {
    hn_model_opts o;
    memset(&o, 0, sizeof o);
    o.sharing = HN_WS_SHARED;
    o.bn_momentum = 0.1f;
    o.bn_eps = 1e-5f;
    o.conv = HN_CONV_AUTO;
    o.seed = 1;
    return o;
}

/* ---- parameter registry ---------------------------------------------------- */
static void add_param(hn_model *m, const char *prefix, const char *suffix,
                      hn_param_kind kind, int nlead, const int *lead, int ndim,
                      const int *shape, float *data, float *grad) {
    pentry *p = &m->params[m->n_params++];
    snprintf(p->name, sizeof p->name, "%s%s", prefix, suffix);
    p->kind = kind;
    p->ndim = 0;
    p->numel = 1;
    for (int i = 0; i < nlead; i++)
        if (lead[i] > 1) { p->shape[p->ndim++] = lead[i]; p->numel *= (size_t)lead[i]; }
    for (int i = 0; i < ndim; i++) { p->shape[p->ndim++] = shape[i]; p->numel *= (size_t)shape[i]; }
    p->data = data;
    p->grad = grad;
}

/* torchvision-style module prefix of a canonical layer. */
static void torch_prefix(const hn_layer_desc *d, char *conv, char *bn, size_t sz) {
    switch (d->role) {
    case HN_ROLE_STEM:
        snprintf(conv, sz, "conv1");
        snprintf(bn, sz, "bn1");
        break;
    case HN_ROLE_CONV1:
        snprintf(conv, sz, "layer%d.%d.conv1", d->stage, d->block);
        snprintf(bn, sz, "layer%d.%d.bn1", d->stage, d->block);
        break;
    case HN_ROLE_CONV2:
        snprintf(conv, sz, "layer%d.%d.conv2", d->stage, d->block);
        snprintf(bn, sz, "layer%d.%d.bn2", d->stage, d->block);
        break;
    default:
        snprintf(conv, sz, "layer%d.%d.downsample.0", d->stage, d->block);
        snprintf(bn, sz, "layer%d.%d.downsample.1", d->stage, d->block);
        break;
    }
}

/* ---- construction ------------------------------------------------------------ */
static hn_status alloc_model(hn_model *m) {
    size_t total = 0;
    for (int l = 0; l < m->L; l++) {
        layer *y = &m->ly[l];
        size_t nb = (size_t)m->nwb, nbb = (size_t)m->nbn * nb;
        total += 2 * (nb * y->wsz + nb * y->cout + 1 + 2 * nbb * y->cout) +
                 2 * nbb * y->cout;
    }
    total += 2 * ((size_t)m->classes * m->fc_in + m->classes);
    m->arena = calloc(total, sizeof(float));
    if (!m->arena) return hn_fail(HN_ERR_NOMEM, "model parameters (%zu floats)", total);
    float *p = m->arena;
#define TAKE(ptr, cnt) do { ptr = p; p += (cnt); } while (0)
    m->params = calloc((size_t)m->L * 7 + 2, sizeof(pentry));
    if (!m->params) return hn_fail(HN_ERR_NOMEM, "params");
    for (int l = 0; l < m->L; l++) {
        layer *y = &m->ly[l];
        size_t nb = (size_t)m->nwb, nbb = (size_t)m->nbn * nb;
        TAKE(y->w, nb * y->wsz); TAKE(y->gw, nb * y->wsz);
        TAKE(y->wclamp, nb * y->cout); TAKE(y->gwclamp, nb * y->cout);
        TAKE(y->aclamp, 1); TAKE(y->gaclamp, 1);
        TAKE(y->gamma, nbb * y->cout); TAKE(y->ggamma, nbb * y->cout);
        TAKE(y->beta, nbb * y->cout); TAKE(y->gbeta, nbb * y->cout);
        TAKE(y->rmean, nbb * y->cout); TAKE(y->rvar, nbb * y->cout);
        char cp[48], bp[48];
        torch_prefix(y->d, cp, bp, sizeof cp);
        int wl[1] = {m->nwb}, bl[2] = {m->nbn, m->nwb};
        int ws[4] = {y->cout, y->cin, y->k, y->k}, cs[1] = {y->cout}, one[1] = {1};
        add_param(m, cp, ".weight", HN_PARAM_WEIGHT, 1, wl, 4, ws, y->w, y->gw);
        add_param(m, cp, ".weight_clamp", HN_PARAM_CLAMP, 1, wl, 1, cs, y->wclamp, y->gwclamp);
        add_param(m, cp, ".act_clamp", HN_PARAM_CLAMP, 0, NULL, 1, one, y->aclamp, y->gaclamp);
        add_param(m, bp, ".weight", HN_PARAM_BN_GAMMA, 2, bl, 1, cs, y->gamma, y->ggamma);
        add_param(m, bp, ".bias", HN_PARAM_BIAS, 2, bl, 1, cs, y->beta, y->gbeta);
        add_param(m, bp, ".running_mean", HN_PARAM_BUFFER, 2, bl, 1, cs, y->rmean, NULL);
        add_param(m, bp, ".running_var", HN_PARAM_BUFFER, 2, bl, 1, cs, y->rvar, NULL);
        int c = y->cout;
        y->bank = calloc((size_t)c, sizeof(int));
        y->wbits = calloc((size_t)c, sizeof(int));
        y->alevels = calloc((size_t)c, sizeof(float));
        float *v = calloc((size_t)c * 7, sizeof(float));
        y->wq = malloc(sizeof(float) * y->wsz);
        y->gwq = malloc(sizeof(float) * y->wsz);
        if (!y->bank || !y->wbits || !y->alevels || !v || !y->wq || !y->gwq)
            return hn_fail(HN_ERR_NOMEM, "layer state");
        y->scale = v; y->shift = v + c; y->bmean = v + 2 * c; y->brstd = v + 3 * c;
        y->agamma = v + 4 * c; y->dgamma = v + 5 * c; y->dbeta = v + 6 * c;
    }
    TAKE(m->fc_w, (size_t)m->classes * m->fc_in); TAKE(m->fc_gw, (size_t)m->classes * m->fc_in);
    TAKE(m->fc_b, (size_t)m->classes); TAKE(m->fc_gb, (size_t)m->classes);
#undef TAKE
    int one = 1, fs[2] = {m->classes, m->fc_in}, bs[1] = {m->classes};
    add_param(m, "fc", ".weight", HN_PARAM_WEIGHT, 1, &one, 2, fs, m->fc_w, m->fc_gw);
    add_param(m, "fc", ".bias", HN_PARAM_BIAS, 1, &one, 1, bs, m->fc_b, m->fc_gb);
    return HN_OK;
}

static hn_status site_alloc(site *s, int cfull) {
    s->clamp = calloc((size_t)cfull * 3, sizeof(float));
    s->pclamp = calloc((size_t)cfull * 2, sizeof(float *));
    if (!s->clamp || !s->pclamp) return hn_fail(HN_ERR_NOMEM, "site");
    s->levels = s->clamp + cfull;
    s->dclamp = s->clamp + 2 * cfull;
    s->pgclamp = s->pclamp + cfull;
    return HN_OK;
}

static void init_weights(hn_model *m) {
    hn_rng r;
    hn_rng_seed(&r, m->opts.seed, 0x6e6e);
    for (int l = 0; l < m->L; l++) {
        layer *y = &m->ly[l];
        double sd = sqrt(2.0 / (double)(y->cout * y->k * y->k)); /* fan_out */
        for (size_t i = 0; i < y->wsz; i++) y->w[i] = (float)(sd * hn_rng_normal(&r));
        for (int b = 1; b < m->nwb; b++)
            memcpy(y->w + (size_t)b * y->wsz, y->w, sizeof(float) * y->wsz);
        size_t nbb = (size_t)m->nbn * m->nwb * y->cout;
        for (size_t i = 0; i < nbb; i++) {
            y->gamma[i] = 1.0f; y->beta[i] = 0.0f;
            y->rmean[i] = 0.0f; y->rvar[i] = 1.0f;
        }
        y->aclamp[0] = 3.0f;
    }
    float bound = 1.0f / sqrtf((float)m->fc_in);
    for (int i = 0; i < m->classes * m->fc_in; i++)
        m->fc_w[i] = (float)((2.0 * hn_rng_uniform(&r) - 1.0) * bound);
    for (int i = 0; i < m->classes; i++)
        m->fc_b[i] = (float)((2.0 * hn_rng_uniform(&r) - 1.0) * bound);
}

hn_status hn_model_init_weight_clamps(hn_model *m) {
    for (int l = 0; l < m->L; l++) {
        layer *y = &m->ly[l];
        for (int b = 0; b < m->nwb; b++) {
            const float *w = y->w + (size_t)b * y->wsz;
            double s = 0, q = 0;
            for (size_t i = 0; i < y->wsz; i++) { s += w[i]; q += (double)w[i] * w[i]; }
            double mean = s / (double)y->wsz;
            double var = q / (double)y->wsz - mean * mean;
            double sd = sqrt(var > 0 ? var : 0);
            double a = fmax(fabs(mean + 3.45 * sd), fabs(mean - 3.45 * sd));
            if (a < 1e-4) a = 1e-4;
            for (int f = 0; f < y->cout; f++) y->wclamp[(size_t)b * y->cout + f] = (float)a;
        }
    }
    return HN_OK;
}

hn_status hn_model_new(const hn_arch *arch, const hn_config *config,
                       const hn_model_opts *opts, hn_model **out) {
    *out = NULL;
    hn_model *m = calloc(1, sizeof *m);
    if (!m) return hn_fail(HN_ERR_NOMEM, "model");
    m->arch = arch;
    m->spec = *hn_arch_spec(arch);
    m->opts = opts ? *opts : hn_model_opts_default();
    if (m->opts.bn_momentum <= 0.0f) m->opts.bn_momentum = 0.1f;
    if (m->opts.bn_eps <= 0.0f) m->opts.bn_eps = 1e-5f;
    hn_status s = HN_OK;
    m->L = hn_arch_n_layers(arch);
    m->nb = hn_arch_n_blocks(arch);
    m->classes = m->spec.num_classes;
    m->fc_in = hn_arch_fc_in(arch);
    if (m->opts.n_bn_widths < 0 || m->opts.n_bn_widths > HN_MAX_BN_SETS) {
        s = hn_fail(HN_ERR_RANGE, "bn_widths: %d entries, at most %d",
                    m->opts.n_bn_widths, HN_MAX_BN_SETS);
        goto fail;
    }
    for (int i = 0; i < m->opts.n_bn_widths; i++)
        if (!(m->opts.bn_widths[i] > 0.0 && m->opts.bn_widths[i] <= 1.0)) {
            s = hn_fail(HN_ERR_RANGE, "bn_widths[%d] = %g: must be in (0, 1]", i,
                        m->opts.bn_widths[i]);
            goto fail;
        }
    m->nbn = m->opts.n_bn_widths > 0 ? m->opts.n_bn_widths + 1 : 1;
    m->nwb = 1;
    if (m->opts.sharing == HN_WS_PER_OP) {
        if (!config) {
            s = hn_fail(HN_ERR_INVAL, "weight_sharing per_op needs a configuration "
                        "(its op set defines the banks)");
            goto fail;
        }
        m->nwb = hn_config_n_ops(config);
    }
    m->momentum = m->opts.bn_momentum;
    m->quant_layers = -1;
    m->use_dnnl = 0;
    if (m->opts.conv == HN_CONV_DNNL && !hn_dconv_available()) {
        s = hn_fail(HN_ERR_UNSUPPORTED, "conv impl dnnl: this build has no oneDNN");
        goto fail;
    }
    if (m->opts.conv != HN_CONV_REF) m->use_dnnl = hn_dconv_available();
    m->ly = calloc((size_t)m->L, sizeof(layer));
    m->bl = calloc((size_t)m->nb, sizeof(block));
    if (!m->ly || !m->bl) { s = hn_fail(HN_ERR_NOMEM, "model"); goto fail; }
    for (int l = 0; l < m->L; l++) {
        layer *y = &m->ly[l];
        y->d = hn_arch_layer(arch, l);
        y->cin = y->d->c_in; y->cout = y->d->c_out; y->k = y->d->k;
        y->stride = y->d->stride; y->pad = y->d->pad;
        y->wsz = (size_t)y->cout * y->cin * y->k * y->k;
    }
    if ((s = alloc_model(m)) != HN_OK) goto fail;
    m->stat_widths = malloc(sizeof(int) * (size_t)m->nbn * m->L);
    if (!m->stat_widths) { s = hn_fail(HN_ERR_NOMEM, "model"); goto fail; }
    /* set 0 of a plain model: the widths of the configuration it is built
     * for (and trained at); declared sets: their widths (as bn_set_of
     * matches them); the recalibration set: nothing yet */
    for (int i = 0; i < m->nbn; i++)
        for (int l = 0; l < m->L; l++) {
            int k = config ? hn_config_width(config, l) : m->ly[l].cout;
            if (i < m->opts.n_bn_widths) {
                k = m->ly[l].cout;
                k = (int)floor(k * m->opts.bn_widths[i] + 1e-9);
                if (k < 1) k = 1;
            } else if (m->opts.n_bn_widths > 0) {
                k = -1;
            }
            m->stat_widths[(size_t)i * m->L + l] = k;
        }
    if ((s = site_alloc(&m->s0, m->ly[0].cout)) != HN_OK) goto fail;
    for (int b = 0; b < m->nb; b++) {
        block *k = &m->bl[b];
        hn_arch_block_layers(arch, b, &k->l1, &k->l2, &k->ld);
        if ((s = site_alloc(&k->s1, m->ly[k->l1].cout)) != HN_OK) goto fail;
        if ((s = site_alloc(&k->s2, m->ly[k->l2].cout)) != HN_OK) goto fail;
    }
    init_weights(m);
    hn_model_init_weight_clamps(m);
    if (config) {
        s = hn_model_set_config(m, config);
    } else {
        hn_config *c = NULL;
        hn_op fp = {HN_BITS_FP, HN_BITS_FP};
        s = hn_config_homogeneous(arch, fp, &c);
        if (s == HN_OK) s = hn_model_set_config(m, c);
        hn_config_free(c);
    }
    if (s != HN_OK) goto fail;
    /* the set in use holds (will be trained to) this configuration's
     * statistics, also when it is the recalibration set */
    for (int l = 0; l < m->L; l++)
        m->stat_widths[(size_t)m->cur_bn * m->L + l] = m->ly[l].cout_a;
    *out = m;
    return HN_OK;
fail:
    hn_model_free(m);
    return s;
}

static void free_batch(hn_model *m) {
    for (int l = 0; l < m->L; l++) {
        free(m->ly[l].cout_buf); m->ly[l].cout_buf = NULL;
    }
    site *ss[1] = {&m->s0};
    free(ss[0]->pre); free(ss[0]->out); ss[0]->pre = ss[0]->out = NULL;
    for (int b = 0; b < m->nb; b++) {
        block *k = &m->bl[b];
        free(k->s1.pre); free(k->s1.out); free(k->s2.pre); free(k->s2.out);
        free(k->dpre2); free(k->gin_a); free(k->gin_b); free(k->dconv);
        k->s1.pre = k->s1.out = k->s2.pre = k->s2.out = NULL;
        k->dpre2 = k->gin_a = k->gin_b = k->dconv = NULL;
    }
    free(m->x0); free(m->feat); free(m->dfeat); free(m->dlast); free(m->stem_dconv);
    m->x0 = m->feat = m->dfeat = m->dlast = m->stem_dconv = NULL;
    m->cap_n = 0;
}

void hn_model_free(hn_model *m) {
    if (!m) return;
    if (m->ly) {
        free_batch(m);
        for (int l = 0; l < m->L; l++) {
            layer *y = &m->ly[l];
            for (int i = 0; i < HN_DCONV_CACHE; i++) hn_dconv_free(y->cache[i]);
            free(y->bank); free(y->wbits); free(y->alevels); free(y->scale);
            free(y->wq); free(y->gwq);
        }
    }
    if (m->bl)
        for (int b = 0; b < m->nb; b++) {
            free(m->bl[b].s1.clamp); free(m->bl[b].s1.pclamp);
            free(m->bl[b].s2.clamp); free(m->bl[b].s2.pclamp);
        }
    free(m->s0.clamp); free(m->s0.pclamp);
    free(m->ly); free(m->bl); free(m->params); free(m->arena);
    hn_config_free(m->cfg);
    free(m->recal_widths);
    free(m->stat_widths);
    hn_kws_free(&m->ws);
    free(m);
}

/* ---- configuration -------------------------------------------------------- */
static int layer_bn_offset(const hn_model *m, const layer *y) {
    return m->cur_bn * m->nwb * y->cout; /* + bank * cout + f */
}

/* Fills a site's channels [c0, c1): bits of layer bits_of's filters (or,
 * bits_of NULL, of the channels of site prev: an identity shortcut's extra
 * channels keep their bits), clamp of the tensor owner `own`. */
static void site_from_layer(site *s, int c0, int c1, layer *own,
                            const layer *bits_of, const site *prev) {
    for (int c = c0; c < c1; c++) {
        s->pclamp[c] = &own->aclamp[0];
        s->pgclamp[c] = &own->gaclamp[0];
        s->levels[c] = bits_of ? bits_of->alevels[c] : prev->levels[c];
    }
}

static int bn_set_of(hn_model *m, const hn_config *c) {
    for (int i = 0; i < m->opts.n_bn_widths; i++) {
        int match = 1;
        for (int l = 0; l < m->L && match; l++) {
            int k = (int)floor(m->ly[l].cout * m->opts.bn_widths[i] + 1e-9);
            if (k < 1) k = 1;
            if (hn_config_width(c, l) != k) match = 0;
        }
        if (match) return i;
    }
    return m->opts.n_bn_widths > 0 ? m->opts.n_bn_widths : 0;
}

hn_status hn_model_set_config(hn_model *m, const hn_config *c) {
    if (hn_config_n_layers(c) != m->L)
        return hn_fail(HN_ERR_INVAL, "configuration has %d layers, model %s has %d",
                       hn_config_n_layers(c), hn_arch_model_name(m->arch), m->L);
    if (m->opts.sharing == HN_WS_PER_OP && hn_config_n_ops(c) > m->nwb)
        return hn_fail(HN_ERR_INVAL, "weight_sharing per_op: configuration has %d "
                       "ops, the model was built with %d", hn_config_n_ops(c), m->nwb);
    if (c != m->cfg) {
        hn_config *cc = hn_config_clone(c);
        if (!cc) return hn_fail(HN_ERR_NOMEM, "configuration copy");
        hn_config_free(m->cfg);
        m->cfg = cc;
    }
    for (int l = 0; l < m->L; l++) {
        layer *y = &m->ly[l];
        y->cout_a = hn_config_width(c, l);
        for (int f = 0; f < y->cout; f++) {
            int t = hn_config_filter_op(c, l, f);
            if (t < 0) { y->bank[f] = 0; y->wbits[f] = 32; y->alevels[f] = 0; continue; }
            hn_op op = hn_config_op(c, t);
            if (m->quant_layers >= 0 && l >= m->quant_layers)
                op.wbits = op.abits = HN_BITS_FP; /* not yet staged in */
            y->bank[f] = m->opts.sharing == HN_WS_PER_OP ? t : 0;
            y->wbits[f] = op.wbits >= HN_BITS_FP ? 32 : op.wbits;
            y->alevels[f] = op.abits >= HN_BITS_FP ? 0.0f
                                                   : (float)(1 << op.abits);
        }
    }
    /* input widths follow the outputs: stem -> blocks (DESIGN.md widths) */
    int w = m->ly[0].cout_a;
    m->ly[0].cin_a = m->ly[0].cin;
    m->s0.C = w;
    site_from_layer(&m->s0, 0, w, &m->ly[0], &m->ly[0], NULL);
    const site *prev = &m->s0;
    for (int b = 0; b < m->nb; b++) {
        block *k = &m->bl[b];
        layer *y1 = &m->ly[k->l1], *y2 = &m->ly[k->l2];
        k->win = w;
        y1->cin_a = w;
        y2->cin_a = y1->cout_a;
        int ws = w;
        if (k->ld >= 0) {
            m->ly[k->ld].cin_a = w;
            ws = m->ly[k->ld].cout_a;
        }
        k->wout = y2->cout_a > ws ? y2->cout_a : ws;
        k->s1.C = y1->cout_a;
        site_from_layer(&k->s1, 0, y1->cout_a, y1, y1, NULL);
        k->s2.C = k->wout;
        site_from_layer(&k->s2, 0, y2->cout_a, y2, y2, NULL);
        site_from_layer(&k->s2, y2->cout_a, k->wout, y2,
                        k->ld >= 0 ? &m->ly[k->ld] : NULL, prev);
        prev = &k->s2;
        w = k->wout;
    }
    m->wlast = w;
    int set = bn_set_of(m, c);
    int recal_set = m->opts.n_bn_widths;
    int same = 0;
    if (m->opts.n_bn_widths > 0 && set == recal_set) {
        if (!m->recal_widths) {
            m->recal_widths = calloc((size_t)m->L, sizeof(int));
            if (!m->recal_widths) return hn_fail(HN_ERR_NOMEM, "recalibration set");
        } else {
            same = 1;
            for (int l = 0; l < m->L; l++)
                if (m->recal_widths[l] != m->ly[l].cout_a) same = 0;
        }
        for (int l = 0; l < m->L; l++) m->recal_widths[l] = m->ly[l].cout_a;
    }
    if (m->opts.n_bn_widths > 0 && set == recal_set && !same) {
        /* copy the widest declared set into the recalibration set (kept
         * when the same widths come again, e.g. after a recalibration) */
        int wi = 0;
        for (int i = 1; i < m->opts.n_bn_widths; i++)
            if (m->opts.bn_widths[i] > m->opts.bn_widths[wi]) wi = i;
        for (int l = 0; l < m->L; l++) {
            layer *y = &m->ly[l];
            size_t n = (size_t)m->nwb * y->cout;
            memcpy(y->gamma + recal_set * n, y->gamma + wi * n, n * sizeof(float));
            memcpy(y->beta + recal_set * n, y->beta + wi * n, n * sizeof(float));
            memcpy(y->rmean + recal_set * n, y->rmean + wi * n, n * sizeof(float));
            memcpy(y->rvar + recal_set * n, y->rvar + wi * n, n * sizeof(float));
            m->stat_widths[(size_t)recal_set * m->L + l] = -1;
        }
    }
    m->cur_bn = set;
    m->have_fwd = 0;
    /* geometry changes are picked up by the next forward */
    for (int l = 0; l < m->L; l++) m->ly[l].g.n = -1;
    return HN_OK;
}

const hn_config *hn_model_config(const hn_model *m) { return m->cfg; }
const hn_arch *hn_model_arch(const hn_model *m) { return m->arch; }
int hn_model_bn_set(const hn_model *m) {
    return m->opts.n_bn_widths > 0 && m->cur_bn == m->opts.n_bn_widths ? -1 : m->cur_bn;
}

/* ---- batch buffers and conv geometry ----------------------------------------- */
static float *falloc(size_t n) {
    return aligned_alloc(64, ((n * sizeof(float)) + 63) / 64 * 64);
}

static hn_status ensure_batch(hn_model *m, int n) {
    if (n > m->cap_n) {
        free_batch(m);
        const hn_resnet_spec *sp = &m->spec;
        int ok = 1;
#define FA(ptr, cnt) do { ptr = falloc(cnt); ok &= ptr != NULL; } while (0)
        FA(m->x0, (size_t)n * sp->in_c * sp->in_h * sp->in_w);
        for (int l = 0; l < m->L; l++) {
            layer *y = &m->ly[l];
            FA(y->cout_buf, (size_t)n * y->d->out_h * y->d->out_w * y->cout);
        }
        layer *y0 = &m->ly[0];
        size_t P0 = (size_t)n * y0->d->out_h * y0->d->out_w;
        FA(m->s0.pre, P0 * y0->cout); FA(m->s0.out, P0 * y0->cout);
        FA(m->stem_dconv, P0 * y0->cout);
        for (int b = 0; b < m->nb; b++) {
            block *k = &m->bl[b];
            layer *y1 = &m->ly[k->l1], *y2 = &m->ly[k->l2];
            size_t Pin = (size_t)n * y1->d->in_h * y1->d->in_w;
            size_t P = (size_t)n * y2->d->out_h * y2->d->out_w;
            int cmax = y2->cout > y1->cin ? y2->cout : y1->cin;
            FA(k->s1.pre, P * y1->cout); FA(k->s1.out, P * y1->cout);
            FA(k->s2.pre, P * cmax); FA(k->s2.out, P * cmax);
            FA(k->dpre2, P * cmax);
            FA(k->gin_a, Pin * y1->cin); FA(k->gin_b, Pin * y1->cin);
            FA(k->dconv, P * cmax);
        }
        FA(m->feat, (size_t)n * m->fc_in); FA(m->dfeat, (size_t)n * m->fc_in);
        layer *yl = &m->ly[m->L - 1];
        FA(m->dlast, (size_t)n * yl->d->out_h * yl->d->out_w * m->fc_in);
#undef FA
        if (!ok) {
            free_batch(m);
            return hn_fail(HN_ERR_NOMEM, "batch buffers for n=%d", n);
        }
        m->cap_n = n;
    }
    m->n = n;
    for (int l = 0; l < m->L; l++) {
        layer *y = &m->ly[l];
        if (y->g.n == n && y->g.cin == y->cin_a && y->g.cout == y->cout_a) continue;
        hn_conv_geom g = {n, y->d->in_h, y->d->in_w, y->cin_a, y->cout_a, y->k,
                          y->stride, y->pad, 0, 0};
        hn_conv_geom_finish(&g);
        y->g = g;
        y->dc = NULL;
        if (m->use_dnnl) {
            for (int i = 0; i < HN_DCONV_CACHE && !y->dc; i++)
                if (y->cache[i] && memcmp(&y->cgeom[i], &g, sizeof g) == 0)
                    y->dc = y->cache[i];
            if (!y->dc) {
                int i = y->cache_next;
                y->cache_next = (i + 1) % HN_DCONV_CACHE;
                hn_dconv_free(y->cache[i]);
                y->cache[i] = NULL;
                hn_status s = hn_dconv_new(&g, l != 0, &y->cache[i]);
                if (s != HN_OK) { y->g.n = -1; return hn_fail_ctx(s, "layer %s", y->d->name); }
                y->cgeom[i] = g;
                y->dc = y->cache[i];
            }
        }
    }
    return HN_OK;
}

static hn_status conv_fwd(hn_model *m, layer *y, const float *x) {
    if (y->dc) return hn_dconv_fwd(y->dc, x, y->wq, y->cout_buf);
    (void)m;
    hn_k_conv_fwd(&y->g, x, y->wq, y->cout_buf);
    return HN_OK;
}

static hn_status conv_bwd(hn_model *m, layer *y, const float *x,
                          const float *dy, float *dx) {
    (void)m;
    if (y->dc) {
        HN_TRY(hn_dconv_bwd_weights(y->dc, x, dy, y->gwq));
        if (dx) HN_TRY(hn_dconv_bwd_data(y->dc, dy, y->wq, dx));
        return HN_OK;
    }
    hn_k_conv_bwd_weights(&y->g, x, dy, y->gwq);
    if (dx) hn_k_conv_bwd_data(&y->g, dy, y->wq, dx);
    return HN_OK;
}

/* NICE noise: each quantized weight is, with probability p, replaced by its
 * clamped value plus uniform noise of half a quantization bin. */
static void add_noise(hn_model *m, const float *w, size_t n, int bits, float a,
                      float *wq) {
    if (bits < 2 || bits >= 32) return;
    float L = (float)((1 << (bits - 1)) - 1), step = a / L;
    for (size_t i = 0; i < n; i++)
        if (hn_rng_uniformf(&m->noise_rng) < m->noise_prob) {
            float v = w[i] > a ? a : (w[i] < -a ? -a : w[i]);
            wq[i] = v + (hn_rng_uniformf(&m->noise_rng) - 0.5f) * step;
        }
}

/* Gathers + quantizes the active weights of every layer into wq. */
static void prepare_weights(hn_model *m, int train) {
    int noise = train && m->noise_prob > 0.0f;
    for (int l = 0; l < m->L; l++) {
        layer *y = &m->ly[l];
        size_t row = (size_t)y->cin * y->k * y->k, arow = (size_t)y->cin_a * y->k * y->k;
        for (int f = 0; f < y->cout_a; f++) {
            int b = y->bank[f];
            const float *w = y->w + (size_t)b * y->wsz + (size_t)f * row;
            float a = fabsf(y->wclamp[(size_t)b * y->cout + f]);
            if (a < CLAMP_MIN) a = CLAMP_MIN;
            hn_k_wquant_fwd(w, arow, y->wbits[f], a, y->wq + (size_t)f * arow);
            if (noise) add_noise(m, w, arow, y->wbits[f], a, y->wq + (size_t)f * arow);
        }
    }
}

static void site_gather(site *s) {
    for (int c = 0; c < s->C; c++) {
        float a = s->pclamp[c] ? fabsf(*s->pclamp[c]) : 1.0f;
        s->clamp[c] = a < CLAMP_MIN ? CLAMP_MIN : a;
        s->dclamp[c] = 0.0f;
    }
}

static void site_scatter(site *s) {
    for (int c = 0; c < s->C; c++)
        if (s->pgclamp[c])
            *s->pgclamp[c] += (*s->pclamp[c] < 0 ? -1.0f : 1.0f) * s->dclamp[c];
}

/* BN statistics of layer y's conv output; sets scale/shift (and, training,
 * updates the running stats of the BN set in use). */
static hn_status bn_prepare(hn_model *m, layer *y, int train) {
    size_t P = (size_t)y->g.n * y->g.oh * y->g.ow;
    int C = y->cout_a, off = layer_bn_offset(m, y);
    float eps = m->opts.bn_eps;
    if (train) HN_TRY(hn_k_bn_stats(&m->ws, y->cout_buf, P, C, y->bmean, y->brstd));
    for (int c = 0; c < C; c++) {
        size_t bi = (size_t)off + (size_t)y->bank[c] * y->cout + c;
        float mean, var;
        if (train) {
            mean = y->bmean[c];
            var = y->brstd[c];
            float uvar = P > 1 ? var * (float)P / (float)(P - 1) : var;
            if (m->recal && m->recal_count == 0) {
                /* first recalibration batch replaces: only the entries a
                 * forward reaches are refreshed, the rest stay as they were */
                y->rmean[bi] = mean;
                y->rvar[bi] = uvar;
            } else if (m->recal || !m->bn_frozen) {
                float mom = m->recal ? 1.0f / (float)(m->recal_count + 1)
                                     : m->momentum;
                y->rmean[bi] = (1.0f - mom) * y->rmean[bi] + mom * mean;
                y->rvar[bi] = (1.0f - mom) * y->rvar[bi] + mom * uvar;
            }
        } else {
            mean = y->rmean[bi];
            var = y->rvar[bi];
        }
        float rstd = 1.0f / sqrtf(var + eps);
        y->bmean[c] = mean;
        y->brstd[c] = rstd;
        y->agamma[c] = y->gamma[bi];
        y->scale[c] = y->gamma[bi] * rstd;
        y->shift[c] = y->beta[bi] - mean * y->scale[c];
        y->dgamma[c] = y->dbeta[c] = 0.0f;
    }
    return HN_OK;
}

static void bn_scatter(hn_model *m, layer *y) {
    int off = layer_bn_offset(m, y);
    for (int c = 0; c < y->cout_a; c++) {
        size_t bi = (size_t)off + (size_t)y->bank[c] * y->cout + c;
        y->ggamma[bi] += y->dgamma[c];
        y->gbeta[bi] += y->dbeta[c];
    }
}

hn_status hn_model_forward(hn_model *m, const float *x, int n, int train,
                           float *logits) {
    if (n < 1) return hn_fail(HN_ERR_INVAL, "forward: batch size %d", n);
    HN_TRY(ensure_batch(m, n));
    m->have_fwd = 0; /* until this forward completes */
    double t0 = now_s();
    const hn_resnet_spec *sp = &m->spec;
    int C = sp->in_c, HW = sp->in_h * sp->in_w;
    for (int b = 0; b < n; b++) /* NCHW -> NHWC */
        for (int c = 0; c < C; c++) {
            const float *src = x + ((size_t)b * C + c) * HW;
            float *dst = m->x0 + (size_t)b * HW * C + c;
            if (m->has_norm) { /* 8-bit input: code / 255 */
                float mu = m->norm_mean[c], sd = m->norm_std[c];
                for (int p = 0; p < HW; p++) {
                    float q = hn_roundf((src[p] * sd + mu) * 255.0f);
                    q = q < 0.0f ? 0.0f : (q > 255.0f ? 255.0f : q);
                    dst[(size_t)p * C] = q / 255.0f;
                }
            } else {
                for (int p = 0; p < HW; p++) dst[(size_t)p * C] = src[p];
            }
        }
    double t1 = now_s();
    prepare_weights(m, train);
    double t2 = now_s();
    m->prof.other += t1 - t0;
    m->prof.wquant += t2 - t1;
    double tc = 0, tb = 0, ta;
    /* stem */
    layer *y0 = &m->ly[0];
    ta = now_s();
    HN_TRY(conv_fwd(m, y0, m->x0));
    tc += now_s() - ta; ta = now_s();
    HN_TRY(bn_prepare(m, y0, train));
    site_gather(&m->s0);
    size_t P0 = (size_t)n * y0->g.oh * y0->g.ow;
    HN_TRY(hn_k_bn_add_act_fwd(&m->ws, P0, y0->cout_buf, y0->cout_a, y0->scale, y0->shift, NULL,
                        0, NULL, NULL, m->s0.C, m->s0.clamp, m->s0.levels,
                        train ? m->s0.pre : NULL, m->s0.out));
    tb += now_s() - ta;
    const float *in = m->s0.out;
    for (int b = 0; b < m->nb; b++) {
        block *k = &m->bl[b];
        layer *y1 = &m->ly[k->l1], *y2 = &m->ly[k->l2];
        layer *yd = k->ld >= 0 ? &m->ly[k->ld] : NULL;
        ta = now_s();
        HN_TRY(conv_fwd(m, y1, in));
        tc += now_s() - ta; ta = now_s();
        HN_TRY(bn_prepare(m, y1, train));
        site_gather(&k->s1);
        size_t P1 = (size_t)n * y1->g.oh * y1->g.ow;
        HN_TRY(hn_k_bn_add_act_fwd(&m->ws, P1, y1->cout_buf, y1->cout_a, y1->scale, y1->shift,
                            NULL, 0, NULL, NULL, k->s1.C, k->s1.clamp,
                            k->s1.levels, train ? k->s1.pre : NULL, k->s1.out));
        tb += now_s() - ta; ta = now_s();
        HN_TRY(conv_fwd(m, y2, k->s1.out));
        if (yd) HN_TRY(conv_fwd(m, yd, in));
        tc += now_s() - ta; ta = now_s();
        HN_TRY(bn_prepare(m, y2, train));
        if (yd) HN_TRY(bn_prepare(m, yd, train));
        site_gather(&k->s2);
        size_t P2 = (size_t)n * y2->g.oh * y2->g.ow;
        HN_TRY(hn_k_bn_add_act_fwd(&m->ws, P2, y2->cout_buf, y2->cout_a, y2->scale, y2->shift,
                            yd ? yd->cout_buf : in, yd ? yd->cout_a : k->win,
                            yd ? yd->scale : NULL, yd ? yd->shift : NULL, k->wout,
                            k->s2.clamp, k->s2.levels, train ? k->s2.pre : NULL,
                            k->s2.out));
        tb += now_s() - ta;
        in = k->s2.out;
    }
    ta = now_s();
    layer *yl = &m->ly[m->L - 1];
    int hw = yl->g.oh * yl->g.ow;
    hn_k_gap_fwd(in, n, hw, m->wlast, m->feat);
    hn_k_fc_fwd(m->feat, n, m->wlast, m->fc_w, m->fc_in, m->fc_b, m->classes, logits);
    m->prof.other += now_s() - ta;
    m->prof.conv_fwd += tc;
    m->prof.bn_act_fwd += tb;
    m->have_fwd = train;
    if (train && m->recal) m->recal_count++;
    if (train && !m->recal && !m->bn_frozen) /* the set now tracks these widths */
        for (int l = 0; l < m->L; l++)
            m->stat_widths[(size_t)m->cur_bn * m->L + l] = m->ly[l].cout_a;
    return HN_OK;
}

/* dW of the active packed weights -> STE -> full-size grads (and clamps). */
static void scatter_weight_grads(hn_model *m, layer *y) {
    (void)m;
    size_t row = (size_t)y->cin * y->k * y->k, arow = (size_t)y->cin_a * y->k * y->k;
    for (int f = 0; f < y->cout_a; f++) {
        int b = y->bank[f];
        size_t ci = (size_t)b * y->cout + f;
        const float *w = y->w + (size_t)b * y->wsz + (size_t)f * row;
        float *gw = y->gw + (size_t)b * y->wsz + (size_t)f * row;
        float p = y->wclamp[ci], a = fabsf(p);
        if (a < CLAMP_MIN) a = CLAMP_MIN;
        float da = hn_k_wquant_bwd(w, arow, y->wbits[f], a, y->gwq + (size_t)f * arow, gw);
        y->gwclamp[ci] += (p < 0 ? -1.0f : 1.0f) * da;
    }
}

hn_status hn_model_backward(hn_model *m, const float *dlogits) {
    if (!m->have_fwd)
        return hn_fail(HN_ERR_INVAL, "backward without a preceding train forward");
    int n = m->n;
    double ta = now_s(), tc = 0, tb = 0, tw = 0;
    layer *yl = &m->ly[m->L - 1];
    int hw = yl->g.oh * yl->g.ow;
    hn_k_fc_bwd(m->feat, dlogits, n, m->wlast, m->fc_w, m->fc_in, m->classes,
                m->fc_gw, m->fc_gb, m->dfeat);
    hn_k_gap_bwd(m->dfeat, n, hw, m->wlast, m->dlast);
    m->prof.other += now_s() - ta;
    /* gradient of the current block output: ga (row stride = its width)
     * plus gb (row stride ldb; the identity shortcut's or the down conv's
     * input gradient), summed inside the consumers */
    const float *ga = m->dlast, *gb = NULL;
    int ldb = 0;
    for (int b = m->nb - 1; b >= 0; b--) {
        block *k = &m->bl[b];
        layer *y1 = &m->ly[k->l1], *y2 = &m->ly[k->l2];
        layer *yd = k->ld >= 0 ? &m->ly[k->ld] : NULL;
        const float *in = b > 0 ? m->bl[b - 1].s2.out : m->s0.out;
        size_t P2 = (size_t)n * y2->g.oh * y2->g.ow, P1 = P2;
        ta = now_s();
        HN_TRY(hn_k_act_bwd(&m->ws, k->s2.pre, P2, k->wout, k->s2.clamp, k->s2.levels, ga,
                     k->wout, gb, ldb, k->dpre2, k->s2.dclamp));
        HN_TRY(hn_k_bn_bwd(&m->ws, P2, y2->cout_a, y2->cout_buf, y2->bmean, y2->brstd, y2->agamma,
                    k->dpre2, k->wout, NULL, 0, NULL, NULL, y2->dgamma, y2->dbeta,
                    k->dconv));
        tb += now_s() - ta; ta = now_s();
        HN_TRY(conv_bwd(m, y2, k->s1.out, k->dconv, k->gin_a /* scratch: dout1 */));
        tc += now_s() - ta; ta = now_s();
        /* conv1 site: act backward fused into BN backward */
        hn_act act1 = {k->s1.pre, k->s1.clamp, k->s1.levels};
        float *dc1 = k->dconv;
        HN_TRY(hn_k_bn_bwd(&m->ws, P1, y1->cout_a, y1->cout_buf, y1->bmean, y1->brstd, y1->agamma,
                    k->gin_a, y1->cout_a, NULL, 0, &act1, k->s1.dclamp, y1->dgamma,
                    y1->dbeta, dc1));
        tb += now_s() - ta; ta = now_s();
        HN_TRY(conv_bwd(m, y1, in, dc1, k->gin_a));
        tc += now_s() - ta;
        if (yd) {
            ta = now_s();
            HN_TRY(hn_k_bn_bwd(&m->ws, P2, yd->cout_a, yd->cout_buf, yd->bmean, yd->brstd,
                        yd->agamma, k->dpre2, k->wout, NULL, 0, NULL, NULL,
                        yd->dgamma, yd->dbeta, k->dconv));
            tb += now_s() - ta; ta = now_s();
            HN_TRY(conv_bwd(m, yd, in, k->dconv, k->gin_b));
            tc += now_s() - ta;
            gb = k->gin_b;
            ldb = k->win;
        } else {
            gb = k->dpre2;
            ldb = k->wout;
        }
        ga = k->gin_a;
        ta = now_s();
        scatter_weight_grads(m, y2);
        scatter_weight_grads(m, y1);
        if (yd) { scatter_weight_grads(m, yd); bn_scatter(m, yd); }
        bn_scatter(m, y1);
        bn_scatter(m, y2);
        site_scatter(&k->s1);
        site_scatter(&k->s2);
        tw += now_s() - ta;
    }
    /* stem */
    layer *y0 = &m->ly[0];
    size_t P0 = (size_t)n * y0->g.oh * y0->g.ow;
    ta = now_s();
    hn_act act0 = {m->s0.pre, m->s0.clamp, m->s0.levels};
    HN_TRY(hn_k_bn_bwd(&m->ws, P0, y0->cout_a, y0->cout_buf, y0->bmean, y0->brstd, y0->agamma,
                ga, y0->cout_a, gb, ldb, &act0, m->s0.dclamp, y0->dgamma,
                y0->dbeta, m->stem_dconv));
    tb += now_s() - ta; ta = now_s();
    HN_TRY(conv_bwd(m, y0, m->x0, m->stem_dconv, NULL));
    tc += now_s() - ta; ta = now_s();
    scatter_weight_grads(m, y0);
    bn_scatter(m, y0);
    site_scatter(&m->s0);
    tw += now_s() - ta;
    m->prof.conv_bwd += tc;
    m->prof.bn_act_bwd += tb;
    m->prof.wquant += tw;
    return HN_OK;
}

void hn_model_zero_grad(hn_model *m) {
    for (int i = 0; i < m->n_params; i++)
        if (m->params[i].grad)
            memset(m->params[i].grad, 0, sizeof(float) * m->params[i].numel);
}

float hn_softmax_ce(const float *logits, const int *labels, int n, int k,
                    float *dlogits, int *correct) {
    return hn_k_softmax_ce(logits, labels, n, k, dlogits, correct);
}

int hn_model_n_params(const hn_model *m) { return m->n_params; }

hn_param hn_model_param(hn_model *m, int i) {
    HN_ASSERT(i >= 0 && i < m->n_params);
    pentry *e = &m->params[i];
    hn_param p;
    p.name = e->name;
    p.kind = e->kind;
    p.ndim = e->ndim;
    memcpy(p.shape, e->shape, sizeof p.shape);
    p.numel = e->numel;
    p.data = e->data;
    p.grad = e->grad;
    return p;
}

int hn_model_find_param(const hn_model *m, const char *name) {
    for (int i = 0; i < m->n_params; i++)
        if (strcmp(m->params[i].name, name) == 0) return i;
    return -1;
}

/* mean + 3 std of a site's whole pre-activation tensor (all active
 * channels pooled) -> the tensor's one clamp. */
static hn_status calib_site(hn_model *m, site *s, size_t P) {
    if (s->C < 1 || !s->pclamp[0]) return HN_OK;
    float *mean = malloc(sizeof(float) * 2 * (size_t)s->C);
    if (!mean) return hn_fail(HN_ERR_NOMEM, "calibration: out of memory");
    float *var = mean + s->C;
    hn_status st = hn_k_bn_stats(&m->ws, s->pre, P, s->C, mean, var);
    if (st != HN_OK) {
        free(mean);
        return st;
    }
    double mu = 0, sq = 0;
    for (int c = 0; c < s->C; c++) {
        mu += mean[c];
        sq += (double)var[c] + (double)mean[c] * mean[c];
    }
    mu /= s->C;
    sq = sq / s->C - mu * mu;
    float a = (float)(mu + 3.0 * sqrt(sq > 0 ? sq : 0));
    *s->pclamp[0] = a > 1e-3f ? a : 1e-3f;
    free(mean);
    return HN_OK;
}

hn_status hn_model_calibrate_clamps(hn_model *m, const float *x, int n) {
    HN_TRY(hn_model_init_weight_clamps(m));
    /* Forward with batch statistics (weights quantized as configured) and
     * activation quantization off (levels -> 0); running stats restored. */
    int L = m->L;
    size_t tot = 0;
    for (int l = 0; l < L; l++) tot += (size_t)m->nbn * m->nwb * m->ly[l].cout;
    float *rs = malloc(sizeof(float) * 2 * (tot ? tot : 1));
    float *logits = malloc(sizeof(float) * (size_t)n * m->classes);
    if (!rs || !logits) {
        free(rs); free(logits);
        return hn_fail(HN_ERR_NOMEM, "calibration");
    }
    size_t o = 0;
    for (int l = 0; l < L; l++) {
        size_t k = (size_t)m->nbn * m->nwb * m->ly[l].cout;
        memcpy(rs + o, m->ly[l].rmean, k * sizeof(float));
        memcpy(rs + tot + o, m->ly[l].rvar, k * sizeof(float));
        o += k;
    }
    /* Every activation site (stem + 2 per block) and all its channels:
     * sized from the model, so deep (ResNet-1202: 600 blocks) and wide
     * models are calibrated whole. */
    int ns = 1 + 2 * m->nb;
    site **all = malloc(sizeof *all * (size_t)ns);
    size_t *loff = malloc(sizeof *loff * ((size_t)ns + 1));
    hn_status s = HN_OK;
    float *lev = NULL;
    if (all && loff) {
        int k = 0;
        all[k++] = &m->s0;
        for (int b = 0; b < m->nb; b++) {
            all[k++] = &m->bl[b].s1;
            all[k++] = &m->bl[b].s2;
        }
        loff[0] = 0;
        for (int i = 0; i < ns; i++) loff[i + 1] = loff[i] + (size_t)all[i]->C;
        lev = malloc(sizeof(float) * (loff[ns] ? loff[ns] : 1));
    }
    if (!all || !loff || !lev) s = hn_fail(HN_ERR_NOMEM, "calibration");
    for (int i = 0; s == HN_OK && i < ns; i++)
        for (int c = 0; c < all[i]->C; c++) {
            lev[loff[i] + c] = all[i]->levels[c];
            all[i]->levels[c] = 0.0f;
        }
    if (s == HN_OK) s = hn_model_forward(m, x, n, 1, logits);
    if (s == HN_OK) {
        s = calib_site(m, &m->s0, (size_t)n * m->ly[0].g.oh * m->ly[0].g.ow);
        for (int b = 0; s == HN_OK && b < m->nb; b++) {
            layer *y2 = &m->ly[m->bl[b].l2];
            size_t P = (size_t)n * y2->g.oh * y2->g.ow;
            s = calib_site(m, &m->bl[b].s1, P);
            if (s == HN_OK) s = calib_site(m, &m->bl[b].s2, P);
        }
    }
    if (all && loff && lev)
        for (int i = 0; i < ns; i++)
            for (int c = 0; c < all[i]->C; c++)
                all[i]->levels[c] = lev[loff[i] + c];
    o = 0;
    for (int l = 0; l < L; l++) {
        size_t k = (size_t)m->nbn * m->nwb * m->ly[l].cout;
        memcpy(m->ly[l].rmean, rs + o, k * sizeof(float));
        memcpy(m->ly[l].rvar, rs + tot + o, k * sizeof(float));
        o += k;
    }
    m->have_fwd = 0;
    if (s == HN_OK) m->calibrated = 1;
    free(lev); free(rs); free(logits); free(all); free(loff);
    return s;
}

void hn_model_bn_recalibrate_begin(hn_model *m) {
    /* Nothing is zeroed: the first batch overwrites each entry it reaches
     * (bn_prepare), so channels and banks outside the configuration keep
     * their statistics (zeroing them gave var 0 -> logits ~1e15 when a
     * wider configuration was evaluated next). */
    m->recal = 1;
    m->recal_count = 0;
}

void hn_model_bn_recalibrate_end(hn_model *m) {
    if (m->recal && m->recal_count > 0)
        for (int l = 0; l < m->L; l++)
            m->stat_widths[(size_t)m->cur_bn * m->L + l] = m->ly[l].cout_a;
    m->recal = 0;
    m->recal_count = 0;
}

int hn_model_bn_stats_valid(const hn_model *m) {
    for (int l = 0; l < m->L; l++)
        if (m->stat_widths[(size_t)m->cur_bn * m->L + l] != m->ly[l].cout_a)
            return 0;
    return 1;
}

void hn_model_set_bn_update(hn_model *m, int on) { m->bn_frozen = !on; }
int hn_model_bn_update(const hn_model *m) { return !m->bn_frozen; }

struct hn_bn_state {
    size_t n;        /* floats per stats array */
    float *mean, *var; /* (n): every layer's (nbn, nwb, cout), layer-major */
    int *widths;     /* (nbn, L) stat_widths */
    int *recal;      /* (L) recal_widths or NULL */
};

static size_t bn_numel(const hn_model *m) {
    size_t tot = 0;
    for (int l = 0; l < m->L; l++) tot += (size_t)m->nbn * m->nwb * m->ly[l].cout;
    return tot;
}

void hn_bn_state_free(hn_bn_state *s) {
    if (!s) return;
    free(s->mean); free(s->var); free(s->widths); free(s->recal);
    free(s);
}

hn_status hn_model_bn_save(const hn_model *m, hn_bn_state **out) {
    *out = NULL;
    hn_bn_state *s = calloc(1, sizeof *s);
    if (!s) return hn_fail(HN_ERR_NOMEM, "BN snapshot");
    s->n = bn_numel(m);
    s->mean = malloc(sizeof(float) * (s->n ? s->n : 1));
    s->var = malloc(sizeof(float) * (s->n ? s->n : 1));
    s->widths = malloc(sizeof(int) * (size_t)m->nbn * m->L);
    if (m->recal_widths) s->recal = malloc(sizeof(int) * (size_t)m->L);
    if (!s->mean || !s->var || !s->widths || (m->recal_widths && !s->recal)) {
        hn_bn_state_free(s);
        return hn_fail(HN_ERR_NOMEM, "BN snapshot");
    }
    size_t o = 0;
    for (int l = 0; l < m->L; l++) {
        size_t k = (size_t)m->nbn * m->nwb * m->ly[l].cout;
        memcpy(s->mean + o, m->ly[l].rmean, k * sizeof(float));
        memcpy(s->var + o, m->ly[l].rvar, k * sizeof(float));
        o += k;
    }
    memcpy(s->widths, m->stat_widths, sizeof(int) * (size_t)m->nbn * m->L);
    if (s->recal) memcpy(s->recal, m->recal_widths, sizeof(int) * (size_t)m->L);
    *out = s;
    return HN_OK;
}

hn_status hn_model_bn_restore(hn_model *m, const hn_bn_state *s) {
    if (s->n != bn_numel(m))
        return hn_fail(HN_ERR_INVAL, "BN snapshot of %zu statistics, the model "
                       "has %zu (another model)", s->n, bn_numel(m));
    size_t o = 0;
    for (int l = 0; l < m->L; l++) {
        size_t k = (size_t)m->nbn * m->nwb * m->ly[l].cout;
        memcpy(m->ly[l].rmean, s->mean + o, k * sizeof(float));
        memcpy(m->ly[l].rvar, s->var + o, k * sizeof(float));
        o += k;
    }
    memcpy(m->stat_widths, s->widths, sizeof(int) * (size_t)m->nbn * m->L);
    if (s->recal) {
        if (!m->recal_widths) {
            m->recal_widths = malloc(sizeof(int) * (size_t)m->L);
            if (!m->recal_widths) return hn_fail(HN_ERR_NOMEM, "BN snapshot");
        }
        memcpy(m->recal_widths, s->recal, sizeof(int) * (size_t)m->L);
    } else {
        free(m->recal_widths);
        m->recal_widths = NULL;
    }
    return HN_OK;
}

hn_model_prof hn_model_profile(const hn_model *m) { return m->prof; }
void hn_model_profile_reset(hn_model *m) { memset(&m->prof, 0, sizeof m->prof); }

hn_status hn_model_set_quant_layers(hn_model *m, int k) {
    if (k < -1) return hn_fail(HN_ERR_RANGE, "quantized layers %d: expected -1 or >= 0", k);
    m->quant_layers = k >= m->L ? -1 : k;
    return hn_model_set_config(m, m->cfg);
}

hn_rng hn_model_noise_rng(const hn_model *m) { return m->noise_rng; }
float hn_model_noise_prob(const hn_model *m) { return m->noise_prob; }
void hn_model_set_noise_rng(hn_model *m, hn_rng r) { m->noise_rng = r; }

void hn_model_set_train_noise(hn_model *m, float prob, uint64_t seed) {
    m->noise_prob = prob < 0.0f ? 0.0f : (prob > 1.0f ? 1.0f : prob);
    hn_rng_seed(&m->noise_rng, seed, 0x6e6f);
}

void hn_model_copy_bank0(hn_model *m) {
    for (int l = 0; l < m->L; l++) {
        layer *y = &m->ly[l];
        for (int b = 1; b < m->nwb; b++) {
            memcpy(y->w + (size_t)b * y->wsz, y->w, sizeof(float) * y->wsz);
            memcpy(y->wclamp + (size_t)b * y->cout, y->wclamp, sizeof(float) * y->cout);
        }
        for (int set = 0; set < m->nbn; set++)
            for (int b = 0; b < m->nwb; b++) {
                if (set == 0 && b == 0) continue;
                size_t dst = ((size_t)set * m->nwb + b) * y->cout;
                memcpy(y->gamma + dst, y->gamma, sizeof(float) * y->cout);
                memcpy(y->beta + dst, y->beta, sizeof(float) * y->cout);
                memcpy(y->rmean + dst, y->rmean, sizeof(float) * y->cout);
                memcpy(y->rvar + dst, y->rvar, sizeof(float) * y->cout);
            }
    }
}

/* ---- the quantized network as integers ------------------------------------- */
hn_status hn_model_qweights(const hn_model *m, int l, int32_t *codes,
                            float *scale) {
    HN_ASSERT(l >= 0 && l < m->L);
    const layer *y = &m->ly[l];
    size_t row = (size_t)y->cin * y->k * y->k, arow = (size_t)y->cin_a * y->k * y->k;
    for (int f = 0; f < y->cout_a; f++) {
        int bits = y->wbits[f], b = y->bank[f];
        if (bits >= 32)
            return hn_fail(HN_ERR_UNSUPPORTED, "layer %s: filter %d has "
                           "full-precision weights (integer backends need "
                           "b_w <= 16)", y->d->name, f);
        const float *w = y->w + (size_t)b * y->wsz + (size_t)f * row;
        float a = fabsf(y->wclamp[(size_t)b * y->cout + f]);
        if (a < CLAMP_MIN) a = CLAMP_MIN;
        int32_t *q = codes + (size_t)f * arow;
        if (bits == 1) {
            for (size_t i = 0; i < arow; i++) q[i] = w[i] >= 0.0f ? 1 : -1;
            scale[f] = a;
            continue;
        }
        /* the forward's arithmetic (hn_k_wquant_fwd): code = rhu(v * L/a) */
        float L = (float)((1 << (bits - 1)) - 1), inv = L / a;
        for (size_t i = 0; i < arow; i++) {
            float v = w[i] > a ? a : (w[i] < -a ? -a : w[i]);
            q[i] = (int32_t)hn_roundf(v * inv);
        }
        scale[f] = a / L;
    }
    return HN_OK;
}

void hn_model_bn_affine(const hn_model *m, int l, float *scale, float *shift) {
    HN_ASSERT(l >= 0 && l < m->L);
    const layer *y = &m->ly[l];
    int off = layer_bn_offset(m, y);
    for (int c = 0; c < y->cout_a; c++) {
        size_t bi = (size_t)off + (size_t)y->bank[c] * y->cout + c;
        /* the same float operations as bn_prepare (eval) */
        float rstd = 1.0f / sqrtf(y->rvar[bi] + m->opts.bn_eps);
        scale[c] = y->gamma[bi] * rstd;
        shift[c] = y->beta[bi] - y->rmean[bi] * scale[c];
    }
}

float hn_model_act_clamp(const hn_model *m, int l) {
    HN_ASSERT(l >= 0 && l < m->L);
    float a = fabsf(m->ly[l].aclamp[0]);
    return a < CLAMP_MIN ? CLAMP_MIN : a;
}

void hn_model_set_input_norm(hn_model *m, const float *mean, const float *std) {
    m->has_norm = 0;
    if (!mean || !std) return;
    int C = m->spec.in_c < 4 ? m->spec.in_c : 4;
    for (int c = 0; c < C; c++) {
        m->norm_mean[c] = mean[c];
        m->norm_std[c] = std[c];
    }
    m->has_norm = 1;
}

int hn_model_has_input_norm(const hn_model *m) { return m->has_norm; }

int hn_model_input_norm(const hn_model *m, float *mean, float *std) {
    if (!m->has_norm) return 0;
    int C = m->spec.in_c < 4 ? m->spec.in_c : 4;
    for (int c = 0; c < C; c++) {
        mean[c] = m->norm_mean[c];
        std[c] = m->norm_std[c];
    }
    return 1;
}

int hn_model_clamps_calibrated(const hn_model *m) { return m->calibrated; }
void hn_model_set_clamps_calibrated(hn_model *m, int yes) { m->calibrated = yes != 0; }

hn_status hn_model_fold_input_norm(hn_model *m) {
    if (!m->has_norm)
        return hn_fail(HN_ERR_INVAL, "fold_input_norm: no input normalization set");
    layer *y = &m->ly[0];
    size_t kk = (size_t)y->k * y->k;
    for (int b = 0; b < m->nwb; b++)
        for (int f = 0; f < y->cout; f++) {
            /* conv(w, (x - mu)/sd) = conv(w/sd, x) - sum_c mu_c/sd_c sum w */
            double d = 0;
            for (int c = 0; c < y->cin; c++) {
                float *w = y->w + (size_t)b * y->wsz + ((size_t)f * y->cin + c) * kk;
                double sw = 0;
                for (size_t i = 0; i < kk; i++) {
                    sw += w[i];
                    w[i] /= m->norm_std[c];
                }
                d += m->norm_mean[c] / m->norm_std[c] * sw;
            }
            for (int set = 0; set < m->nbn; set++)
                y->rmean[((size_t)set * m->nwb + b) * y->cout + f] += (float)d;
        }
    /* the stem's weight clamps follow the weights (the largest factor
     * 1/min std keeps every formerly unclipped weight unclipped) */
    float smin = m->norm_std[0];
    for (int c = 1; c < y->cin && c < 4; c++)
        if (m->norm_std[c] < smin) smin = m->norm_std[c];
    for (size_t i = 0; i < (size_t)m->nwb * y->cout; i++) y->wclamp[i] /= smin;
    return HN_OK;
}
