/* The memory image of a planned job (hwimage.h): the bit-plane words that
 * hn_krnl_top DMAs and the Verilator harness writes into the buffers. */
#include "hetnas/hwimage.h"

#include <stdlib.h>
#include <string.h>

/* ---- memory image ---------------------------------------------------------- */

static void set_bit(uint32_t *w, int b) { w[b >> 5] |= 1u << (b & 31); }

/* The reduction position q (sorted channel q/kk, tap q%kk) and the step s
 * of lane l of tile word c: classic, words are per step (q = c*dk + l for
 * the step being walked, s = -1: any); packed, lane P = c*dk + l of the
 * tile's stream falls in step s's lanes [start[s], start[s] + kk*n_s).
 * Returns 0 for a padding lane. */
static int lane_pos(const hn_array_plan *pl, int dk, int kk, int c, int l,
                    int *s, int *q) {
    int P = c * dk + l;
    if (!pl->packed) {
        *s = -1;
        *q = P;
        return P < kk * pl->c_in;
    }
    for (int t = 0; t < pl->ba; t++)
        if (P >= pl->start[t] && P < pl->start[t] + kk * pl->n_ch[t]) {
            *s = t;
            *q = P - pl->start[t];
            return 1;
        }
    return 0;
}

hn_status hn_array_pack_weights(const hn_hwjob *job, const hn_array_params *p,
                                const hn_array_plan *pl, hn_array_image *img) {
    const int kk = job->k * job->k, K = kk * pl->c_in, meta_w = p->filt_w + 3;
    img->w_wpw = (p->dm * p->dk + 31) / 32;
    img->m_wpw = (p->dm * meta_w + 31) / 32;
    img->a_wpw = (p->dn * p->dk + 31) / 32;
    if (meta_w > 32)
        return hn_fail(HN_ERR_UNSUPPORTED, "pack: descriptors wider than 32 "
                       "bits (filt_w %d)", p->filt_w);
    free(img->w);
    free(img->m);
    img->n_w = (long)pl->mt * pl->kw;
    img->n_m = pl->mt;
    img->w = calloc((size_t)img->n_w * (size_t)img->w_wpw, sizeof *img->w);
    img->m = calloc((size_t)img->n_m * (size_t)img->m_wpw, sizeof *img->m);
    /* rows: filters in order, each filter's weight planes MSB first
     * (hn_drain applies them Horner-style); row r -> (filter, plane).  In
     * a pm1 job row 0 is the all-ones row (filter -1) and a +-1 filter is
     * its sign row alone (plane -1: bit set where w = -1). */
    int *row_f = malloc(sizeof(int) * (size_t)pl->rows);
    int *row_i = malloc(sizeof(int) * (size_t)pl->rows);
    int *fbits = malloc(sizeof(int) * (size_t)pl->c_out);
    if (!img->w || !img->m || !row_f || !row_i || !fbits) {
        free(row_f);
        free(row_i);
        free(fbits);
        return hn_fail(HN_ERR_NOMEM, "pack: out of memory");
    }
    for (int g = 0, f = 0; g < job->n_out_groups; g++)
        for (int i = 0; i < job->out_groups[g].n; i++)
            fbits[f++] = job->out_groups[g].bits;
    int r0 = 0;
    if (pl->pm1) {
        row_f[0] = -1;
        row_i[0] = 0;
        r0 = 1;
    }
    for (int f = 0, r = r0; f < pl->c_out; f++) {
        if (fbits[f] == 1) {
            row_f[r] = f;
            row_i[r++] = -1;
            continue;
        }
        for (int i = fbits[f] - 1; i >= 0; i--, r++) {
            row_f[r] = f;
            row_i[r] = i;
        }
    }
    for (int mt = 0; mt < pl->mt; mt++) {
        uint32_t *mw = img->m + (size_t)mt * img->m_wpw;
        for (int m = 0; m < p->dm; m++) {
            int r = mt * p->dm + m;
            if (r >= pl->rows) continue;
            int f = row_f[r], i = row_i[r];
            /* {valid, first, last, filter}; the all-ones row is
             * {0, 1, 0, 0}, a +-1 filter's row {1, 1, 1, f} */
            uint32_t meta;
            if (f < 0)
                meta = 1u << (p->filt_w + 1);
            else
                meta = (uint32_t)f | (uint32_t)(i <= 0) << p->filt_w |
                       (uint32_t)(i < 0 || i == fbits[f] - 1) << (p->filt_w + 1) |
                       1u << (p->filt_w + 2);
            for (int b = 0; b < meta_w; b++)
                if ((meta >> b) & 1u) set_bit(mw, m * meta_w + b);
        }
        for (int c = 0; c < pl->kw; c++) {
            uint32_t *ww = img->w + ((size_t)mt * pl->kw + c) * img->w_wpw;
            for (int m = 0; m < p->dm; m++) {
                int r = mt * p->dm + m;
                if (r >= pl->rows) continue;
                const int32_t *wf =
                    row_f[r] < 0 ? NULL : job->weights + (size_t)row_f[r] * K;
                for (int l = 0; l < p->dk; l++) {
                    int q, st;
                    if (!lane_pos(pl, p->dk, kk, c, l, &st, &q)) continue;
                    int ch = pl->order[q / kk], kpos = q % kk;
                    int bit;
                    if (!wf) {
                        bit = 1;
                    } else {
                        int32_t w = wf[(size_t)ch * kk + kpos];
                        bit = row_i[r] < 0 ? w < 0 : (int)(((uint32_t)w >> row_i[r]) & 1u);
                    }
                    if (bit) set_bit(ww, m * p->dk + l);
                }
            }
        }
    }
    free(row_f);
    free(row_i);
    free(fbits);
    return HN_OK;
}

hn_status hn_array_pack_acts(const hn_hwjob *job, const hn_array_params *p,
                             const hn_array_plan *pl, int pt0, int npt,
                             hn_array_image *img) {
    const int k = job->k, kk = k * k, K = kk * pl->c_in;
    img->a_wpw = (p->dn * p->dk + 31) / 32;
    free(img->a);
    img->n_a = (long)npt * pl->a_words;
    img->a = calloc((size_t)img->n_a * (size_t)img->a_wpw, sizeof *img->a);
    int32_t *col = malloc(sizeof(int32_t) * (size_t)p->dn * (size_t)K);
    /* bits of the channel at each sorted position */
    int *obits = malloc(sizeof(int) * (size_t)pl->c_in);
    int *cbits = malloc(sizeof(int) * (size_t)pl->c_in);
    if (!img->a || !col || !obits || !cbits) {
        free(col);
        free(obits);
        free(cbits);
        return hn_fail(HN_ERR_NOMEM, "pack: out of memory");
    }
    for (int g = 0, c = 0; g < job->n_in_groups; g++)
        for (int i = 0; i < job->in_groups[g].n; i++)
            cbits[c++] = job->in_groups[g].bits;
    for (int i = 0; i < pl->c_in; i++) obits[i] = cbits[pl->order[i]];
    for (int lp = 0; lp < npt; lp++) {
        /* im2col of the tile's pixels in image order (sorted channels) */
        for (int n = 0; n < p->dn; n++) {
            int px = (pt0 + lp) * p->dn + n;
            int32_t *cv = col + (size_t)n * K;
            if (px >= pl->pixels) {
                memset(cv, 0, sizeof(int32_t) * (size_t)K);
                continue;
            }
            int oy = px / pl->out_w, ox = px % pl->out_w;
            for (int q = 0; q < K; q++) {
                int ch = pl->order[q / kk], kpos = q % kk;
                int iy = oy * job->stride - job->pad + kpos / k;
                int ix = ox * job->stride - job->pad + kpos % k;
                cv[q] = (iy < 0 || ix < 0 || iy >= job->in_h || ix >= job->in_w)
                            ? 0
                            : job->acts[((size_t)ch * job->in_h + iy) *
                                        job->in_w + ix];
            }
        }
        /* MSB-aligned codes: step st carries bit b_c-1-st of each channel
         * with b_c > st (the first n_st sorted channels). */
        for (int st = 0; st < pl->ba; st++) {
            for (int c = 0; c < pl->nc[st]; c++) {
                /* packed: word seg[st] + c of the tile's stream */
                const int wc = pl->packed ? pl->seg[st] + c : c;
                uint32_t *aw = img->a +
                    (size_t)hn_array_act_addr(pl, lp, st, c) * img->a_wpw;
                for (int n = 0; n < p->dn; n++) {
                    const int32_t *cv = col + (size_t)n * K;
                    for (int l = 0; l < p->dk; l++) {
                        int q, s2;
                        if (!lane_pos(pl, p->dk, kk, wc, l, &s2, &q)) continue;
                        if (s2 < 0) s2 = st;
                        int b = obits[q / kk];
                        if (b > s2 && (((uint32_t)cv[q] >> (b - 1 - s2)) & 1u))
                            set_bit(aw, n * p->dk + l);
                    }
                }
            }
        }
    }
    free(col);
    free(obits);
    free(cbits);
    return HN_OK;
}

void hn_array_image_free(hn_array_image *img) {
    free(img->w);
    free(img->m);
    free(img->a);
    img->w = img->m = img->a = NULL;
    img->n_w = img->n_m = img->n_a = 0;
}
