/* hn_hwpack_*: host-side packing of a conv job into the bit-plane layout
 * the HLS kernel hls/hn_bsconv.c reads (docs/hls.md "Memory layout"):
 *   apk: per input group t1: (plane q < b_a, y, x, word) with channel c of
 *        the group at bit c%64 of word c/64;
 *   wpk: per filter group t2, per filter: (plane p < b_w, t1, tap, word),
 *        plane p = bit p of the b_w-bit two's complement weight (for b_w=1
 *        the bit is 1 for +1, 0 for -1). */
#include <stdlib.h>
#include <string.h>

#include "hetnas/hwjob.h"
#include "hetnas/hwref.h"
#include "hn_bsconv.h"

static int words_of(int n) { return (n + HN_BS_WORD_BITS - 1) / HN_BS_WORD_BITS; }

hn_status hn_hwpack_check(const hn_hwjob *job) {
    HN_TRY(hn_hwjob_validate(job, HN_BS_MAX_WBITS, HN_BS_MAX_ABITS));
    if (job->k > HN_BS_MAX_K)
        return hn_fail(HN_ERR_UNSUPPORTED, "k: %d is beyond the HLS kernel's "
                       "limit of %d", job->k, HN_BS_MAX_K);
    long fw = 0;
    for (int g = 0; g < job->n_in_groups; g++)
        fw += (long)job->k * job->k * words_of(job->in_groups[g].n);
    if (fw > HN_BS_MAX_FWORDS)
        return hn_fail(HN_ERR_UNSUPPORTED, "in_groups: k*k * sum of "
                       "ceil(channels/64) = %ld words per filter plane, the "
                       "HLS kernel buffers at most %d", fw, HN_BS_MAX_FWORDS);
    int oh, ow;
    hn_hwjob_out_dims(job, &oh, &ow);
    /* The kernel's passes counter and offsets are int64/int32. */
    long long nw = 0, na = 0;
    for (int g = 0; g < job->n_out_groups; g++)
        nw += (long long)job->out_groups[g].n * job->out_groups[g].bits * fw;
    for (int g = 0; g < job->n_in_groups; g++)
        na += (long long)job->in_groups[g].bits * job->in_h * job->in_w *
              words_of(job->in_groups[g].n);
    if (nw > INT32_MAX || na > INT32_MAX)
        return hn_fail(HN_ERR_UNSUPPORTED, "job too large for the kernel's "
                       "32-bit word offsets (%lld weight, %lld activation "
                       "words)", nw, na);
    return HN_OK;
}

void hn_hwpack_free(hn_hwpack *p) {
    if (!p) return;
    free(p->desc);
    free(p->wpk);
    free(p->apk);
    memset(p, 0, sizeof *p);
}

hn_status hn_hwpack_build(const hn_hwjob *job, hn_hwpack *p) {
    memset(p, 0, sizeof *p);
    HN_TRY(hn_hwpack_check(job));
    const int k = job->k, kk = k * k, H = job->in_h, W = job->in_w;
    const int ni = job->n_in_groups, no = job->n_out_groups;
    int oh, ow;
    hn_hwjob_out_dims(job, &oh, &ow);
    p->out_h = oh;
    p->out_w = ow;

    int tapoff[HN_HW_MAX_GROUPS], c0[HN_HW_MAX_GROUPS];
    size_t aoff[HN_HW_MAX_GROUPS], woff[HN_HW_MAX_GROUPS];
    int fw = 0, c = 0;
    size_t na = 0;
    for (int g = 0; g < ni; g++) {
        tapoff[g] = fw;
        c0[g] = c;
        aoff[g] = na;
        fw += kk * words_of(job->in_groups[g].n);
        c += job->in_groups[g].n;
        na += (size_t)job->in_groups[g].bits * H * W * words_of(job->in_groups[g].n);
    }
    size_t nw = 0;
    for (int g = 0; g < no; g++) {
        woff[g] = nw;
        nw += (size_t)job->out_groups[g].n * job->out_groups[g].bits * fw;
    }
    p->n_desc = HN_BS_DESC_LEN(ni, no);
    p->n_apk = na;
    p->n_wpk = nw;
    p->desc = calloc(p->n_desc, sizeof *p->desc);
    p->apk = calloc(na ? na : 1, sizeof *p->apk);
    p->wpk = calloc(nw ? nw : 1, sizeof *p->wpk);
    if (!p->desc || !p->apk || !p->wpk) {
        hn_hwpack_free(p);
        return hn_fail(HN_ERR_NOMEM, "hwpack: cannot allocate %zu + %zu words",
                       na, nw);
    }
    int32_t *d = p->desc;
    d[HN_BS_D_MAGIC] = HN_BS_MAGIC;
    d[HN_BS_D_K] = k;
    d[HN_BS_D_STRIDE] = job->stride;
    d[HN_BS_D_PAD] = job->pad;
    d[HN_BS_D_IN_H] = H;
    d[HN_BS_D_IN_W] = W;
    d[HN_BS_D_OUT_H] = oh;
    d[HN_BS_D_OUT_W] = ow;
    d[HN_BS_D_N_IN] = ni;
    d[HN_BS_D_N_OUT] = no;
    d[HN_BS_D_FWORDS] = fw;
    d[HN_BS_D_STATUS] = -1; /* the kernel overwrites it */

    /* Activations. */
    for (int g = 0; g < ni; g++) {
        int32_t *gd = d + HN_BS_D_HDR + 4 * g;
        const int n = job->in_groups[g].n, ba = job->in_groups[g].bits;
        const int wpp = words_of(n);
        gd[HN_BS_G_N] = n;
        gd[HN_BS_G_BITS] = ba;
        gd[HN_BS_G_OFF] = (int32_t)aoff[g];
        gd[HN_BS_G_AUX] = wpp;
        uint64_t *base = p->apk + aoff[g];
        for (int ch = 0; ch < n; ch++) {
            const int32_t *a = job->acts + (size_t)(c0[g] + ch) * H * W;
            const uint64_t bit = 1ull << (ch % HN_BS_WORD_BITS);
            const int wd = ch / HN_BS_WORD_BITS;
            for (int q = 0; q < ba; q++)
                for (int i = 0; i < H * W; i++)
                    if ((a[i] >> q) & 1)
                        base[((size_t)q * H * W + i) * wpp + wd] |= bit;
        }
    }
    /* Weights. */
    const int ci = job->c_in;
    int f = 0;
    for (int g = 0; g < no; g++) {
        int32_t *gd = d + HN_BS_D_HDR + 4 * (ni + g);
        const int nf = job->out_groups[g].n, bw = job->out_groups[g].bits;
        gd[HN_BS_G_N] = nf;
        gd[HN_BS_G_BITS] = bw;
        gd[HN_BS_G_OFF] = (int32_t)woff[g];
        gd[HN_BS_G_AUX] = f;
        const uint32_t mask = (1u << bw) - 1u;
        for (int i = 0; i < nf; i++, f++) {
            uint64_t *fb = p->wpk + woff[g] + (size_t)i * bw * fw;
            for (int t1 = 0; t1 < ni; t1++) {
                const int wpp = words_of(job->in_groups[t1].n);
                for (int ch = 0; ch < job->in_groups[t1].n; ch++) {
                    const int32_t *w =
                        job->weights + ((size_t)f * ci + c0[t1] + ch) * kk;
                    const uint64_t bit = 1ull << (ch % HN_BS_WORD_BITS);
                    const int wd = ch / HN_BS_WORD_BITS;
                    for (int t = 0; t < kk; t++) {
                        uint32_t u = bw == 1 ? (w[t] == 1) : ((uint32_t)w[t] & mask);
                        for (int pl = 0; pl < bw; pl++)
                            if ((u >> pl) & 1)
                                fb[(size_t)pl * fw + tapoff[t1] + t * wpp + wd] |= bit;
                    }
                }
            }
        }
    }
    return HN_OK;
}

hn_status hn_hwpack_verdict(const hn_hwpack *p, const char *who, uint64_t *passes) {
    if (passes)
        *passes = ((uint64_t)(uint32_t)p->desc[HN_BS_D_PASSES_HI] << 32) |
                  (uint32_t)p->desc[HN_BS_D_PASSES_LO];
    if (p->desc[HN_BS_D_STATUS] != HN_BS_E_OK)
        return hn_fail(HN_ERR_INTERNAL, "%s: kernel rejected the descriptor "
                       "(status %d)", who, (int)p->desc[HN_BS_D_STATUS]);
    if (p->desc[HN_BS_D_OVERFLOW] != 0)
        return hn_fail(HN_ERR_RANGE, "%s: %d accumulators outside int32", who,
                       (int)p->desc[HN_BS_D_OVERFLOW]);
    return HN_OK;
}
