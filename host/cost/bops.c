/* MACs and BOPs (paper appendix F, eq. 28-31, with the integer accumulator
 * width of DESIGN.md and the parameter-fetch memory term). */
#include "hetnas/cost.h"

#include <stdlib.h>
#include <string.h>

hn_cost_opts hn_cost_opts_default(void) {
    hn_cost_opts o = {.input_bits = 8, .memory = true, .include_fc = false,
                      .fc_wbits = 8};
    return o;
}

int hn_ceil_log2_u128(unsigned __int128 x) {
    HN_ASSERT(x >= 1);
    int b = 0;
    while (((unsigned __int128)1 << b) < x) b++;
    return b;
}

/* Checked 64-bit arithmetic: counts past 2^64-1 are refused (HN_ERR_RANGE)
 * rather than widened, because the documented output (cost.h, the --json
 * of `hetnas bops`) is exact 64-bit integers, which JSON consumers and the
 * search's budget arithmetic hold; no real network comes near it. */
#define HN_MUL(a, b, r) __builtin_mul_overflow((uint64_t)(a), (uint64_t)(b), (r))
#define HN_ADD(a, b, r) __builtin_add_overflow((uint64_t)(a), (uint64_t)(b), (r))

static hn_status too_big(const char *what) {
    return hn_fail(HN_ERR_RANGE, "%s exceeds 2^64-1 and cannot be counted "
                   "exactly (input or width too large)", what);
}

static int bits_ok(int b) { return (b >= 1 && b <= 16) || b == 32; }

hn_status hn_cost_conv(int c_in, const int *in_bits, int c_out,
                       const int *filter_wbits, int k, int out_h, int out_w,
                       bool memory, hn_layer_cost *out) {
    memset(out, 0, sizeof *out);
    if (c_in < 1 || c_out < 1 || k < 1 || out_h < 1 || out_w < 1)
        return hn_fail(HN_ERR_INVAL, "conv cost: c_in %d, c_out %d, k %d, out "
                       "%dx%d must all be >= 1", c_in, c_out, k, out_h, out_w);
    /* Input side: c_{n-1}, sum_t1 a*2^ba and sum_t1 a*ba over active
     * channels (grouping by bits is the same sum taken channel by channel). */
    uint64_t c_act = 0, sum_ba = 0;
    unsigned __int128 sum_pow = 0;
    for (int c = 0; c < c_in; c++) {
        int b = in_bits[c];
        if (b == 0) continue;
        if (!bits_ok(b))
            return hn_fail(HN_ERR_RANGE, "conv cost: input channel %d has %d "
                           "bits", c, b);
        c_act++;
        sum_ba += (uint64_t)b;
        sum_pow += (unsigned __int128)1 << b;
    }
    uint64_t kk = (uint64_t)k * (uint64_t)k, hw = (uint64_t)out_h * out_w;
    uint64_t f_act = 0;
    /* Filter groups t2: count filters per weight bitwidth. */
    uint64_t per_bw[33] = {0};
    for (int f = 0; f < c_out; f++) {
        int b = filter_wbits[f];
        if (b == 0) continue;
        if (!bits_ok(b))
            return hn_fail(HN_ERR_RANGE, "conv cost: filter %d has %d weight "
                           "bits", f, b);
        per_bw[b]++;
        f_act++;
    }
    uint64_t x;
    if (HN_MUL(hw, kk, &x) || HN_MUL(x, c_act, &x) || HN_MUL(x, f_act, &out->macs))
        return too_big("MACs");
    if (c_act == 0) return HN_OK; /* nothing reaches this layer */
    for (int bw = 1; bw <= 32; bw++) {
        if (!per_bw[bw]) continue;
        unsigned __int128 M = ((unsigned __int128)1 << bw) * kk * sum_pow; /* eq. 28 */
        uint64_t aw = (uint64_t)hn_ceil_log2_u128(M);                     /* eq. 29 */
        uint64_t B, y;                                                     /* eq. 30 */
        if (HN_MUL(c_act, aw, &x) || HN_MUL(sum_ba, bw, &y) || HN_ADD(x, y, &x) ||
            HN_MUL(kk, x, &B))
            return too_big("BOPs per filter (eq. 30)");
        if (HN_MUL(hw, per_bw[bw], &x) || HN_MUL(x, B, &x) ||            /* eq. 31 */
            HN_ADD(out->bops_compute, x, &out->bops_compute))
            return too_big("compute BOPs");
        if (HN_MUL(per_bw[bw], c_act, &x) || HN_MUL(x, kk, &x) ||
            HN_MUL(x, bw, &x) || HN_ADD(out->bops_memory, x, &out->bops_memory))
            return too_big("memory BOPs");
    }
    if (HN_ADD(out->bops_compute, memory ? out->bops_memory : 0, &out->bops))
        return too_big("BOPs");
    return HN_OK;
}

static hn_status add_cost(hn_layer_cost *acc, const hn_layer_cost *x,
                          const char *layer) {
    if (HN_ADD(acc->macs, x->macs, &acc->macs) ||
        HN_ADD(acc->bops_compute, x->bops_compute, &acc->bops_compute) ||
        HN_ADD(acc->bops_memory, x->bops_memory, &acc->bops_memory) ||
        HN_ADD(acc->bops, x->bops, &acc->bops))
        return hn_fail(HN_ERR_RANGE, "layer %s: the network total exceeds "
                       "2^64-1 and cannot be counted exactly (input or width "
                       "too large)", layer);
    return HN_OK;
}

hn_status hn_cost_network(const hn_arch *a, const hn_config *c,
                          const hn_cost_opts *o, hn_layer_cost *per_layer,
                          hn_layer_cost *total) {
    memset(total, 0, sizeof *total);
    if (!bits_ok(o->input_bits) || o->input_bits > 16)
        return hn_fail(HN_ERR_RANGE, "input bits %d: expected 1..16",
                       o->input_bits);
    int L = hn_arch_n_layers(a);
    if (hn_config_n_layers(c) != L)
        return hn_fail(HN_ERR_INVAL, "configuration has %d layers, the model "
                       "%d", hn_config_n_layers(c), L);
    int cmax = hn_arch_fc_in(a);
    for (int l = 0; l < L; l++) {
        const hn_layer_desc *d = hn_arch_layer(a, l);
        if (d->c_in > cmax) cmax = d->c_in;
        if (d->c_out > cmax) cmax = d->c_out;
    }
    if (hn_arch_spec(a)->num_classes > cmax) cmax = hn_arch_spec(a)->num_classes;
    int *ib = malloc((size_t)cmax * sizeof(int));
    int *wb = malloc((size_t)cmax * sizeof(int));
    if (!ib || !wb) {
        free(ib);
        free(wb);
        return hn_fail(HN_ERR_NOMEM, "out of memory");
    }
    hn_status st = HN_OK;
    for (int l = 0; l < L && st == HN_OK; l++) {
        const hn_layer_desc *d = hn_arch_layer(a, l);
        st = hn_config_input_bits(c, a, l, o->input_bits, ib);
        if (st != HN_OK) break;
        for (int f = 0; f < d->c_out; f++) {
            int t = hn_config_filter_op(c, l, f);
            wb[f] = t < 0 ? 0 : hn_config_op(c, t).wbits;
        }
        hn_layer_cost lc;
        st = hn_cost_conv(d->c_in, ib, d->c_out, wb, d->k, d->out_h, d->out_w,
                          o->memory, &lc);
        if (st != HN_OK) {
            hn_fail_ctx(st, "layer %s", d->name);
            break;
        }
        if (per_layer) per_layer[l] = lc;
        st = add_cost(total, &lc, d->name);
    }
    if (st == HN_OK && o->include_fc) {
        int fin = hn_arch_fc_in(a), ncls = hn_arch_spec(a)->num_classes;
        st = hn_config_fc_input_bits(c, a, o->input_bits, ib);
        if (st == HN_OK) {
            if (!bits_ok(o->fc_wbits))
                st = hn_fail(HN_ERR_RANGE, "FC weight bits %d: expected 1..16 "
                             "or 32", o->fc_wbits);
        }
        if (st == HN_OK) {
            for (int f = 0; f < ncls; f++) wb[f] = o->fc_wbits;
            hn_layer_cost lc;
            st = hn_cost_conv(fin, ib, ncls, wb, 1, 1, 1, o->memory, &lc);
            if (st != HN_OK) hn_fail_ctx(st, "layer fc");
            if (st == HN_OK) {
                if (per_layer) per_layer[L] = lc;
                st = add_cost(total, &lc, "fc");
            }
        }
    }
    free(ib);
    free(wb);
    return st;
}

uint64_t hn_cost_eq27(int out_h, int out_w, int m, int n, int k, int wbits,
                      int abits) {
    uint64_t nk2 = (uint64_t)n * (uint64_t)k * (uint64_t)k;
    uint64_t acc_w = (uint64_t)(abits + wbits) +
                     (uint64_t)hn_ceil_log2_u128((unsigned __int128)nk2);
    return (uint64_t)out_h * out_w * (uint64_t)m * nk2 *
           ((uint64_t)abits * wbits + acc_w);
}
