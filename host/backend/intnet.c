/* hn_intnet: integer inference of a whole quantized ResNet (intnet.h,
 * docs/nn.md "Integer network").
 *
 * Every tensor between layers is integer codes (C, H, W) with one clamp a
 * and per-channel bits b_c: value = code * a * 2^-b_c.  The network input
 * is the 8-bit image, a = 256/255, b = 8 (value = code / 255).
 *   conv:     acc = sum w * (code << (B - b_c))      (pluggable, per image)
 *             real value of acc = acc * wscale[f] * a_in * 2^-B
 *   requant:  conv1 / stem: code = clamp(rhu((bn_s*acc_real + bn_t) * 2^b / a_out),
 *             0, 2^b - 1) through hn_hwref_requant (fixed point, half up)
 *   residual: conv2 and the shortcut (down conv + BN, or the input codes)
 *             are each requantized without ReLU to Q.RES_F fixed point of
 *             the block output's code units (value * 2^b_c / a_out * 2^F),
 *             added in int64, then rounded half up, ReLU + clamp to b_c
 *   pooling:  integer sums per channel (the 1/HW goes into the FC scale)
 *   FC:       float (double) on the pooled sums: full precision in training
 *             (the contract keeps 32-bit ops float); ~0.01% of the MACs. */
#include "hetnas/intnet.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/arch.h"
#include "hetnas/config.h"
#include "hetnas/hwparams.h"
#include "hetnas/hwref.h"
#include "hetnas/simd.h"

#define RES_F 16 /* fractional bits of the residual add */

typedef struct iconv {
    int l;                  /* canonical layer */
    const hn_layer_desc *d;
    hn_hwjob job;           /* geometry, groups, weights; acts set per image */
    int oh, ow;
    int relu;               /* 1: requant to codes; 0: Q.RES_F residual term */
    int32_t *mult;          /* (c_out) */
    int64_t *bias;
    int *shift, *bits;      /* bits: output code bits per filter */
    int32_t *acc, *out;     /* (cap, c_out, oh, ow) */
} iconv;

typedef struct iblock {
    iconv c1, c2, cd;       /* cd.d == NULL: identity shortcut */
    int win, w2, ws, wout;
    int *bits;              /* (wout) block output bits per channel */
    /* identity shortcut: per channel c < ws, Q.RES_F term of its code */
    int32_t *id_mult;
    int64_t *id_bias;
    int *id_shift;
    int32_t *res;           /* (cap, ws, oh, ow) shortcut term */
    int32_t *codes;         /* (cap, wout, oh, ow) block output codes */
} iblock;

struct hn_intnet {
    hn_intnet_opts o;
    const hn_arch *arch;
    int nb, in_c, in_h, in_w, classes, wlast, hw_last;
    iconv stem;
    iblock *bl;
    int *in_bits;           /* (in_c) 8 */
    double *fc_w;           /* (classes, wlast): W * a_L * 2^-b_c / HW */
    double *fc_b;
    int32_t *x;             /* (cap, in_c, H, W) image codes */
    int cap;                /* images per layer pass (opts.batch) */
};

hn_intnet_opts hn_intnet_opts_default(void) {
    hn_intnet_opts o;
    memset(&o, 0, sizeof o);
    return o;
}

/* ---- conv backends ------------------------------------------------------------
 * The oracle implements the job semantics (MSB-aligned mixed-bit inputs,
 * hwjob.h); other backends plug in through hn_backend_conv. */
hn_status hn_intnet_conv_ref(const hn_hwjob *job, int32_t *acc, void *ud) {
    (void)ud;
    return hn_hwref_conv(job, acc);
}

/* ---- construction ------------------------------------------------------------- */
static void iconv_free(iconv *c) {
    free(c->job.weights);
    free(c->mult); free(c->bias); free(c->shift); free(c->bits);
    free(c->acc); free(c->out);
    memset(c, 0, sizeof *c);
}

/* Runs of equal bits -> groups; error when more than HN_HW_MAX_GROUPS. */
static hn_status make_groups(const int *bits, int n, hn_hw_group *g, int *ng,
                             const char *layer, const char *what) {
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (k > 0 && g[k - 1].bits == bits[i]) { g[k - 1].n++; continue; }
        if (k == HN_HW_MAX_GROUPS)
            return hn_fail(HN_ERR_RANGE, "layer %s: more than %d %s groups",
                           layer, HN_HW_MAX_GROUPS, what);
        g[k].n = 1;
        g[k].bits = bits[i];
        k++;
    }
    *ng = k;
    return HN_OK;
}

static hn_status fixed(double s, double b, int32_t *mult, int *shift,
                       int64_t *bias, const char *layer, int f) {
    if (fabs(s) < ldexp(1.0, -31)) s = 0.0; /* below the multiplier's range */
    hn_status st = hn_hwrq_from_real(s, b, mult, shift, bias);
    if (st != HN_OK) return hn_fail_ctx(st, "layer %s, filter %d", layer, f);
    return HN_OK;
}

/* A conv layer l reading a tensor of clamp a_in and per-channel bits
 * in_bits (cin_a); its output tensor has clamp a_out and bits out_bits
 * (cout_a).  relu: requant to codes; else Q.RES_F terms. */
static hn_status iconv_init(hn_intnet *net, const hn_model *m, int l,
                            const int *in_bits, double a_in, double a_out,
                            const int *out_bits, int relu, iconv *c) {
    const hn_config *cfg = hn_model_config(m);
    const hn_layer_desc *d = hn_arch_layer(net->arch, l);
    c->l = l;
    c->d = d;
    int co = hn_config_width(cfg, l);
    hn_hwjob *j = &c->job;
    j->k = d->k; j->stride = d->stride; j->pad = d->pad;
    j->in_h = d->in_h; j->in_w = d->in_w;
    /* c_in: the input tensor's width, set by the caller through in_bits */
    j->c_out = co;
    if (co > net->o.max_cout)
        return hn_fail(HN_ERR_RANGE, "layer %s: %d filters, the array takes at "
                       "most %d", d->name, co, net->o.max_cout);
    int *wb = malloc(sizeof(int) * (size_t)co);
    if (!wb) return hn_fail(HN_ERR_NOMEM, "intnet");
    for (int f = 0; f < co; f++) {
        hn_op op = hn_config_op(cfg, hn_config_filter_op(cfg, l, f));
        wb[f] = op.wbits;
        if (op.wbits >= HN_BITS_FP || op.wbits < 1 || op.wbits > net->o.max_wbits) {
            free(wb);
            return hn_fail(op.wbits >= HN_BITS_FP ? HN_ERR_UNSUPPORTED : HN_ERR_RANGE,
                           "layer %s: filter %d has %d-bit weights; the integer "
                           "backends take 1..%d bits (full-precision ops stay "
                           "in the float model)", d->name, f, op.wbits,
                           net->o.max_wbits);
        }
    }
    hn_status st = make_groups(wb, co, j->out_groups, &j->n_out_groups, d->name,
                               "filter");
    free(wb);
    HN_TRY(st);
    int B = 0;
    for (int i = 0; i < j->c_in; i++) {
        if (in_bits[i] < 1 || in_bits[i] > net->o.max_abits)
            return hn_fail(in_bits[i] >= HN_BITS_FP ? HN_ERR_UNSUPPORTED : HN_ERR_RANGE,
                           "layer %s: input channel %d has %d-bit activations; "
                           "the integer backends take 1..%d bits", d->name, i,
                           in_bits[i], net->o.max_abits);
        if (in_bits[i] > B) B = in_bits[i];
    }
    HN_TRY(make_groups(in_bits, j->c_in, j->in_groups, &j->n_in_groups, d->name,
                       "input channel"));
    /* accumulator bound (docs/nn.md): 2^b_w * k^2 * c_in * 2^B */
    for (int g = 0; g < j->n_out_groups; g++) {
        double lb = j->out_groups[g].bits + 2.0 * log2((double)j->k) +
                    log2((double)j->c_in) + B;
        if (lb > net->o.acc_bits - 1)
            return hn_fail(HN_ERR_RANGE, "layer %s: accumulator bound 2^b_w * "
                           "k^2 * c_in * 2^B = 2^%.2f (b_w %d, k %d, c_in %d, "
                           "B %d) exceeds the %d-bit signed accumulator",
                           d->name, lb, j->out_groups[g].bits, j->k, j->c_in, B,
                           net->o.acc_bits);
    }
    hn_hwjob_out_dims(j, &c->oh, &c->ow);
    size_t wsz = (size_t)co * j->c_in * j->k * j->k;
    size_t osz = (size_t)co * c->oh * c->ow;
    j->weights = malloc(sizeof(int32_t) * (wsz ? wsz : 1));
    c->mult = malloc(sizeof(int32_t) * (size_t)co);
    c->bias = malloc(sizeof(int64_t) * (size_t)co);
    c->shift = malloc(sizeof(int) * (size_t)co);
    c->bits = malloc(sizeof(int) * (size_t)co);
    c->acc = malloc(sizeof(int32_t) * osz * (size_t)net->cap);
    c->out = malloc(sizeof(int32_t) * osz * (size_t)net->cap);
    float *ws = malloc(sizeof(float) * 3 * (size_t)co);
    if (!j->weights || !c->mult || !c->bias || !c->shift || !c->bits ||
        !c->acc || !c->out || !ws) {
        free(ws);
        return hn_fail(HN_ERR_NOMEM, "intnet layer %s", d->name);
    }
    float *bs = ws + co, *bt = ws + 2 * co;
    st = hn_model_qweights(m, l, j->weights, ws);
    if (st != HN_OK) { free(ws); return st; }
    hn_model_bn_affine(m, l, bs, bt);
    c->relu = relu;
    double unit = a_in * ldexp(1.0, -B); /* real value of one accumulator LSB / w */
    for (int f = 0; f < co && st == HN_OK; f++) {
        int b = out_bits[f];
        c->bits[f] = b;
        double to_code = ldexp(1.0, b) / a_out * (relu ? 1.0 : ldexp(1.0, RES_F));
        st = fixed((double)bs[f] * ws[f] * unit * to_code, (double)bt[f] * to_code,
                   &c->mult[f], &c->shift[f], &c->bias[f], d->name, f);
    }
    free(ws);
    return st;
}

static hn_status act_bits_of(const hn_intnet *net, const hn_model *m, int l,
                             int n, int *bits) {
    const hn_config *cfg = hn_model_config(m);
    const hn_layer_desc *d = hn_arch_layer(net->arch, l);
    for (int f = 0; f < n; f++) {
        hn_op op = hn_config_op(cfg, hn_config_filter_op(cfg, l, f));
        bits[f] = op.abits;
        if (op.abits >= HN_BITS_FP)
            return hn_fail(HN_ERR_UNSUPPORTED, "layer %s: filter %d has "
                           "full-precision activations; integer backends need "
                           "quantized ones (full-precision ops stay in the "
                           "float model)", d->name, f);
        if (op.abits < 1 || op.abits > net->o.max_abits)
            return hn_fail(HN_ERR_RANGE, "layer %s: filter %d has %d-bit "
                           "activations; the array takes 1..%d", d->name, f,
                           op.abits, net->o.max_abits);
    }
    return HN_OK;
}

void hn_intnet_free(hn_intnet *net) {
    if (!net) return;
    iconv_free(&net->stem);
    if (net->bl)
        for (int b = 0; b < net->nb; b++) {
            iblock *k = &net->bl[b];
            iconv_free(&k->c1); iconv_free(&k->c2); iconv_free(&k->cd);
            free(k->bits); free(k->id_mult); free(k->id_bias); free(k->id_shift);
            free(k->res); free(k->codes);
        }
    free(net->bl); free(net->in_bits); free(net->fc_w); free(net->fc_b);
    free(net->x);
    free(net);
}

hn_status hn_intnet_new(const hn_model *m, const hn_intnet_opts *opts,
                        hn_intnet **out) {
    *out = NULL;
    if (!hn_model_has_input_norm(m))
        return hn_fail(HN_ERR_INVAL, "integer network: the model has no 8-bit "
                       "input (hn_model_set_input_norm not called)");
    if (!hn_model_clamps_calibrated(m))
        return hn_fail(HN_ERR_INVAL, "integer network: the activation clamps "
                       "are not calibrated (a checkpoint of quantization "
                       "contract 1, imported or trained in full precision): "
                       "fine-tune it with `hetnas train --init` first");
    hn_intnet *net = calloc(1, sizeof *net);
    if (!net) return hn_fail(HN_ERR_NOMEM, "intnet");
    net->o = opts ? *opts : hn_intnet_opts_default();
    if (!net->o.conv) net->o.conv = hn_intnet_conv_ref;
    if (net->o.max_wbits <= 0) net->o.max_wbits = HN_HW_WBITS_MAX;
    if (net->o.max_abits <= 0) net->o.max_abits = HN_HW_BA_MAX;
    if (net->o.max_cout <= 0) net->o.max_cout = 1 << HN_HW_FILT_W;
    if (net->o.acc_bits <= 0) net->o.acc_bits = 32;
    net->cap = net->o.batch > 1 ? net->o.batch : 1;
    net->arch = hn_model_arch(m);
    const hn_resnet_spec *sp = hn_arch_spec(net->arch);
    net->nb = hn_arch_n_blocks(net->arch);
    net->in_c = sp->in_c; net->in_h = sp->in_h; net->in_w = sp->in_w;
    net->classes = sp->num_classes;
    hn_status st = HN_OK;
    int cmax = 0;
    for (int l = 0; l < hn_arch_n_layers(net->arch); l++)
        if (hn_arch_layer(net->arch, l)->c_out > cmax) cmax = hn_arch_layer(net->arch, l)->c_out;
    if (cmax < net->in_c) cmax = net->in_c;
    int *tb = malloc(sizeof(int) * 4 * (size_t)cmax); /* scratch bits */
    net->in_bits = malloc(sizeof(int) * (size_t)net->in_c);
    net->x = malloc(sizeof(int32_t) * (size_t)net->in_c * net->in_h * net->in_w *
                    (size_t)net->cap);
    net->bl = calloc((size_t)net->nb, sizeof(iblock));
    if (!tb || !net->in_bits || !net->x || !net->bl) {
        st = hn_fail(HN_ERR_NOMEM, "intnet");
        goto done;
    }
    int *b_in = tb, *b_1 = tb + cmax, *b_2 = tb + 2 * cmax, *b_d = tb + 3 * cmax;
    for (int c = 0; c < net->in_c; c++) net->in_bits[c] = 8;
    /* stem */
    const hn_config *cfg = hn_model_config(m);
    int w = hn_config_width(cfg, 0);
    double a_prev = 256.0 / 255.0, a_cur = hn_model_act_clamp(m, 0);
    st = act_bits_of(net, m, 0, w, b_1);
    net->stem.job.c_in = net->in_c;
    if (st == HN_OK)
        st = iconv_init(net, m, 0, net->in_bits, a_prev, a_cur, b_1, 1, &net->stem);
    memcpy(b_in, b_1, sizeof(int) * (size_t)w);
    a_prev = a_cur;
    for (int b = 0; b < net->nb && st == HN_OK; b++) {
        iblock *k = &net->bl[b];
        int l1, l2, ld;
        hn_arch_block_layers(net->arch, b, &l1, &l2, &ld);
        k->win = w;
        int w1 = hn_config_width(cfg, l1);
        k->w2 = hn_config_width(cfg, l2);
        k->ws = ld >= 0 ? hn_config_width(cfg, ld) : w;
        k->wout = k->w2 > k->ws ? k->w2 : k->ws;
        double a1 = hn_model_act_clamp(m, l1), ao = hn_model_act_clamp(m, l2);
        if ((st = act_bits_of(net, m, l1, w1, b_1)) != HN_OK) break;
        k->c1.job.c_in = w;
        if ((st = iconv_init(net, m, l1, b_in, a_prev, a1, b_1, 1, &k->c1)) != HN_OK) break;
        /* block output bits: conv2's filters, then the shortcut's channels */
        if ((st = act_bits_of(net, m, l2, k->w2, b_2)) != HN_OK) break;
        if (ld >= 0 && (st = act_bits_of(net, m, ld, k->ws, b_d)) != HN_OK) break;
        k->bits = malloc(sizeof(int) * (size_t)k->wout);
        if (!k->bits) { st = hn_fail(HN_ERR_NOMEM, "intnet"); break; }
        for (int c = 0; c < k->wout; c++)
            k->bits[c] = c < k->w2 ? b_2[c] : (ld >= 0 ? b_d[c] : b_in[c]);
        k->c2.job.c_in = w1;
        if ((st = iconv_init(net, m, l2, b_1, a1, ao, k->bits, 0, &k->c2)) != HN_OK) break;
        int oh = k->c2.oh, ow = k->c2.ow;
        if (ld >= 0) {
            k->cd.job.c_in = w;
            if ((st = iconv_init(net, m, ld, b_in, a_prev, ao, k->bits, 0, &k->cd)) != HN_OK) break;
        } else {
            k->id_mult = malloc(sizeof(int32_t) * (size_t)k->ws);
            k->id_bias = malloc(sizeof(int64_t) * (size_t)k->ws);
            k->id_shift = malloc(sizeof(int) * (size_t)k->ws);
            k->res = malloc(sizeof(int32_t) * (size_t)k->ws * oh * ow * (size_t)net->cap);
            if (!k->id_mult || !k->id_bias || !k->id_shift || !k->res) {
                st = hn_fail(HN_ERR_NOMEM, "intnet");
                break;
            }
            const hn_layer_desc *d2 = hn_arch_layer(net->arch, l2);
            for (int c = 0; c < k->ws && st == HN_OK; c++)
                st = fixed(a_prev * ldexp(1.0, -b_in[c]) * ldexp(1.0, k->bits[c]) /
                           ao * ldexp(1.0, RES_F), 0.0, &k->id_mult[c],
                           &k->id_shift[c], &k->id_bias[c], d2->name, c);
            if (st != HN_OK) break;
        }
        k->codes = malloc(sizeof(int32_t) * (size_t)k->wout * oh * ow * (size_t)net->cap);
        if (!k->codes) { st = hn_fail(HN_ERR_NOMEM, "intnet"); break; }
        memcpy(b_in, k->bits, sizeof(int) * (size_t)k->wout);
        w = k->wout;
        a_prev = ao;
        net->hw_last = oh * ow;
    }
    if (st != HN_OK) goto done;
    /* FC on the pooled sums: W[k, c] * a_L * 2^-b_c / HW */
    net->wlast = w;
    int fi = hn_model_find_param(m, "fc.weight"), fb = hn_model_find_param(m, "fc.bias");
    HN_ASSERT(fi >= 0 && fb >= 0);
    hn_param pw = hn_model_param((hn_model *)m, fi), pb = hn_model_param((hn_model *)m, fb);
    int fc_in = hn_arch_fc_in(net->arch);
    net->fc_w = malloc(sizeof(double) * (size_t)net->classes * w);
    net->fc_b = malloc(sizeof(double) * (size_t)net->classes);
    if (!net->fc_w || !net->fc_b) { st = hn_fail(HN_ERR_NOMEM, "intnet"); goto done; }
    for (int o = 0; o < net->classes; o++) {
        net->fc_b[o] = pb.data[o];
        for (int c = 0; c < w; c++)
            net->fc_w[(size_t)o * w + c] = (double)pw.data[(size_t)o * fc_in + c] *
                                           a_prev * ldexp(1.0, -b_in[c]) /
                                           net->hw_last;
    }
done:
    free(tb);
    if (st != HN_OK) {
        hn_intnet_free(net);
        return st;
    }
    *out = net;
    return HN_OK;
}

/* ---- forward ----------------------------------------------------------------
 * Layer by layer over a chunk of up to `cap` images, so that a batched
 * backend sees n images per conv; every tensor is (n, C, H, W). */
static hn_status run_conv(hn_intnet *net, iconv *c, const int32_t *acts, int n) {
    const hn_hwjob *j = &c->job;
    const size_t isz = (size_t)j->c_in * j->in_h * j->in_w;
    const long hw = (long)c->oh * c->ow;
    const size_t osz = (size_t)j->c_out * hw;
    hn_status st = HN_OK;
    if (net->o.conv_batch) {
        st = net->o.conv_batch(j, n, acts, c->acc, net->o.conv_ud);
    } else {
        for (int i = 0; i < n && st == HN_OK; i++) {
            c->job.acts = (int32_t *)(acts + (size_t)i * isz);
            st = net->o.conv(&c->job, c->acc + (size_t)i * osz, net->o.conv_ud);
        }
        c->job.acts = NULL;
    }
    if (st != HN_OK) return hn_fail_ctx(st, "layer %s", c->d->name);
    hn_hwrq rq = {j->c_out, c->mult, c->bias, c->shift, c->bits, c->relu};
    /* the parameters were checked at construction: errors cannot come from
     * here but are kept (the first one wins) */
    hn_status first = HN_OK;
#pragma omp parallel for schedule(static) if (n > 1)
    for (int i = 0; i < n; i++) {
        hn_status s = hn_hwrq_run(&rq, c->acc + (size_t)i * osz, hw, c->out + (size_t)i * osz);
        if (s != HN_OK) {
#pragma omp critical(hn_intnet_err)
            if (first == HN_OK) first = s;
        }
    }
    if (first != HN_OK) return hn_fail_ctx(first, "layer %s", c->d->name);
    return HN_OK;
}

/* One channel of the residual add: codes = clamp(floor((a + b + 2^(F-1))
 * / 2^F), 0, hi), round half up (>> of a negative int64 is floor with GCC
 * and Clang); b may be NULL (a channel only conv2 or only the shortcut
 * has: pass that one as a). */
HN_CLONES static void res_row(const int32_t *restrict a, const int32_t *restrict b,
                              long hw, int64_t hi, int32_t *restrict o) {
    const int64_t half = (int64_t)1 << (RES_F - 1);
    if (b)
        for (long p = 0; p < hw; p++) {
            int64_t q = ((int64_t)a[p] + (int64_t)b[p] + half) >> RES_F;
            q = q < 0 ? 0 : q;
            o[p] = (int32_t)(q > hi ? hi : q);
        }
    else
        for (long p = 0; p < hw; p++) {
            int64_t q = ((int64_t)a[p] + half) >> RES_F;
            q = q < 0 ? 0 : q;
            o[p] = (int32_t)(q > hi ? hi : q);
        }
}

/* Block output codes of one image: conv2's term plus the shortcut's, at
 * Q.RES_F, rounded half up, ReLU and clamp to each channel's bits. */
static void residual(const iblock *k, const int32_t *c2, const int32_t *r, long hw,
                     int32_t *codes) {
    for (int c = 0; c < k->wout; c++) {
        const int64_t hi = ((int64_t)1 << k->bits[c]) - 1;
        const int32_t *a = c < k->w2 ? c2 + (size_t)c * hw : NULL;
        const int32_t *b = c < k->ws ? r + (size_t)c * hw : NULL;
        res_row(a ? a : b, a ? b : NULL, hw, hi, codes + (size_t)c * hw);
    }
}

hn_status hn_intnet_forward(hn_intnet *net, const uint8_t *codes, int n,
                            float *logits) {
    const size_t isz = (size_t)net->in_c * net->in_h * net->in_w;
    int64_t *pool = malloc(sizeof(int64_t) * (size_t)(net->wlast ? net->wlast : 1));
    if (!pool) return hn_fail(HN_ERR_NOMEM, "intnet");
    hn_status st = HN_OK;
    for (int i0 = 0; i0 < n && st == HN_OK; i0 += net->cap) {
        const int nb = n - i0 < net->cap ? n - i0 : net->cap;
        for (size_t p = 0; p < (size_t)nb * isz; p++) net->x[p] = codes[(size_t)i0 * isz + p];
        if ((st = run_conv(net, &net->stem, net->x, nb)) != HN_OK) break;
        const int32_t *in = net->stem.out;
        for (int b = 0; b < net->nb && st == HN_OK; b++) {
            iblock *k = &net->bl[b];
            if ((st = run_conv(net, &k->c1, in, nb)) != HN_OK) break;
            if ((st = run_conv(net, &k->c2, k->c1.out, nb)) != HN_OK) break;
            const long hw = (long)k->c2.oh * k->c2.ow;
            const size_t in_sz = (size_t)k->win * k->c1.job.in_h * k->c1.job.in_w;
            const size_t rs_sz = (size_t)k->ws * hw, o2_sz = (size_t)k->w2 * hw;
            const int32_t *r;
            if (k->cd.d) {
                if ((st = run_conv(net, &k->cd, in, nb)) != HN_OK) break;
                r = k->cd.out;
            } else {
                /* identity: the input codes as Q.RES_F terms (pointwise) */
                hn_hwrq rq = {k->ws, k->id_mult, k->id_bias, k->id_shift, NULL, 0};
                for (int i = 0; i < nb && st == HN_OK; i++)
                    st = hn_hwrq_run(&rq, in + (size_t)i * in_sz, hw,
                                          k->res + (size_t)i * rs_sz);
                if (st != HN_OK) break;
                r = k->res;
            }
#pragma omp parallel for schedule(static) if (nb > 1)
            for (int i = 0; i < nb; i++)
                residual(k, k->c2.out + (size_t)i * o2_sz, r + (size_t)i * rs_sz, hw,
                         k->codes + (size_t)i * k->wout * hw);
            in = k->codes;
        }
        if (st != HN_OK) break;
        for (int i = 0; i < nb; i++) {
            const int32_t *t = in + (size_t)i * net->wlast * net->hw_last;
            /* integer average pooling: per-channel sums */
            for (int c = 0; c < net->wlast; c++) {
                int64_t s = 0;
                for (int p = 0; p < net->hw_last; p++) s += t[(size_t)c * net->hw_last + p];
                pool[c] = s;
            }
            for (int o = 0; o < net->classes; o++) {
                double z = net->fc_b[o];
                for (int c = 0; c < net->wlast; c++)
                    z += net->fc_w[(size_t)o * net->wlast + c] * (double)pool[c];
                logits[(size_t)(i0 + i) * net->classes + o] = (float)z;
            }
        }
    }
    free(pool);
    return st;
}

const hn_hwjob *hn_intnet_layer_job(const hn_intnet *net, int l) {
    if (!net) return NULL;
    if (net->stem.l == l) return &net->stem.job;
    for (int b = 0; b < net->nb; b++) {
        const iblock *k = &net->bl[b];
        if (k->c1.l == l) return &k->c1.job;
        if (k->c2.l == l) return &k->c2.job;
        if (k->cd.d && k->cd.l == l) return &k->cd.job;
    }
    return NULL;
}

void hn_intnet_codes_from_norm(const float *x, int n, int C, int HW,
                               const float *mean, const float *std,
                               uint8_t *codes) {
    for (int i = 0; i < n; i++)
        for (int c = 0; c < C; c++)
            for (int p = 0; p < HW; p++) {
                size_t j = ((size_t)i * C + c) * HW + p;
                /* the forward's float arithmetic (hn_model_forward) */
                float v = (x[j] * std[c] + mean[c]) * 255.0f;
                float r = floorf(v);
                r += v - r >= 0.5f ? 1.0f : 0.0f;
                codes[j] = (uint8_t)(r < 0.0f ? 0 : r > 255.0f ? 255 : (int)r);
            }
}
