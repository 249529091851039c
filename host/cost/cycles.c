/* The job -> array mapping (plan) and the exact cycle model of the RTL
 * (rtl/hn_core.sv, rtl/hn_ctrl.sv); tests/test_cycles.c checks it against
 * Verilator cycle for cycle. */
#include "hetnas/cycles.h"

#include <stdlib.h>
#include <string.h>

#include "hetnas/arch.h"
#include "hetnas/config.h"
#include "hetnas/hwparams.h"

hn_array_params hn_array_params_default(void) {
    hn_array_params p;
    p.dm = HN_HW_DM;
    p.dn = HN_HW_DN;
    p.dk = HN_HW_DK;
    p.acc_w = HN_HW_ACC_W;
    p.wbits_max = HN_HW_WBITS_MAX;
    p.abits_max = HN_HW_BA_MAX;
    p.filt_w = HN_HW_FILT_W;
    p.pt_w = HN_HW_PT_W;
    p.kw_w = HN_HW_KW_W;
    p.w_aw = HN_HW_W_AW;
    p.a_aw = HN_HW_A_AW;
    return p;
}

static int ceil_div(int a, int b) { return (a + b - 1) / b; }

hn_status hn_array_plan_job(const hn_hwjob *job, const hn_array_params *p,
                            hn_array_plan *plan) {
    memset(plan, 0, sizeof *plan);
    if (job->k < 1 || job->stride < 1 || job->pad < 0 || job->in_h < 1 ||
        job->in_w < 1)
        return hn_fail(HN_ERR_INVAL, "job: bad geometry k=%d stride=%d pad=%d"
                       " in=%dx%d", job->k, job->stride, job->pad, job->in_h,
                       job->in_w);
    if (job->n_in_groups < 1 || job->n_in_groups > HN_HW_MAX_GROUPS ||
        job->n_out_groups < 1 || job->n_out_groups > HN_HW_MAX_GROUPS)
        return hn_fail(HN_ERR_INVAL, "job: group counts %d/%d outside 1..%d",
                       job->n_in_groups, job->n_out_groups, HN_HW_MAX_GROUPS);
    int c_in = 0, c_out = 0, rows = 0, ba = 0;
    for (int g = 0; g < job->n_out_groups; g++) {
        const hn_hw_group *G = &job->out_groups[g];
        if (G->n < 1)
            return hn_fail(HN_ERR_INVAL, "out_groups[%d].filters = %d: must be"
                           " >= 1", g, G->n);
        if (G->bits < 1 || G->bits > p->wbits_max)
            return hn_fail(HN_ERR_UNSUPPORTED, "out_groups[%d].bits = %d: the "
                           "array supports weight bits 1..%d", g, G->bits,
                           p->wbits_max);
        c_out += G->n;
        /* binary +-1 weights run as 2-bit two's complement (+1 = 01,
         * -1 = 11): two planes for one bit of weight information */
        rows += G->n * (G->bits == 1 ? 2 : G->bits);
    }
    for (int g = 0; g < job->n_in_groups; g++) {
        const hn_hw_group *G = &job->in_groups[g];
        if (G->n < 1)
            return hn_fail(HN_ERR_INVAL, "in_groups[%d].channels = %d: must be"
                           " >= 1", g, G->n);
        if (G->bits < 1 || G->bits > p->abits_max)
            return hn_fail(HN_ERR_UNSUPPORTED, "in_groups[%d].bits = %d: the "
                           "array supports activation bits 1..%d", g, G->bits,
                           p->abits_max);
        c_in += G->n;
        if (G->bits > ba) ba = G->bits;
    }
    if (c_in > (int)(sizeof plan->order / sizeof plan->order[0]))
        return hn_fail(HN_ERR_UNSUPPORTED, "in_groups: %d input channels, the "
                       "planner handles at most %d", c_in,
                       (int)(sizeof plan->order / sizeof plan->order[0]));
    if (c_out > (1 << p->filt_w))
        return hn_fail(HN_ERR_UNSUPPORTED, "out_groups: %d filters, the array "
                       "addresses at most %d", c_out, 1 << p->filt_w);
    int out_h = (job->in_h + 2 * job->pad - job->k) / job->stride + 1;
    int out_w = (job->in_w + 2 * job->pad - job->k) / job->stride + 1;
    if (job->in_h + 2 * job->pad < job->k || job->in_w + 2 * job->pad < job->k)
        return hn_fail(HN_ERR_INVAL, "job: kernel %d larger than the padded "
                       "input %dx%d", job->k, job->in_h + 2 * job->pad,
                       job->in_w + 2 * job->pad);
    const int kk = job->k * job->k;
    plan->c_in = c_in;
    plan->c_out = c_out;
    plan->k = job->k;
    plan->out_h = out_h;
    plan->out_w = out_w;
    plan->pixels = out_h * out_w;
    plan->rows = rows;
    plan->mt = ceil_div(rows, p->dm);
    plan->pt = ceil_div(plan->pixels, p->dn);
    plan->ba = ba;
    plan->kw = ceil_div(kk * c_in, p->dk);
    if (plan->kw >= (1 << p->kw_w))
        return hn_fail(HN_ERR_UNSUPPORTED, "k*k*c_in = %d: %d words per plane, "
                       "the array counts below %d", kk * c_in, plan->kw,
                       1 << p->kw_w);
    if ((long)plan->mt * plan->kw > (1L << p->w_aw))
        return hn_fail(HN_ERR_UNSUPPORTED, "out_groups: %d weight planes x %d "
                       "words exceed the weight buffer (%ld words)", rows,
                       plan->kw, 1L << p->w_aw);
    /* Channels sorted by bits, descending (stable): plane j then spans the
     * first n_j channels of the reduction. */
    int n = 0;
    for (int b = ba; b >= 1; b--) {
        int c0 = 0;
        for (int g = 0; g < job->n_in_groups; g++) {
            if (job->in_groups[g].bits == b)
                for (int c = 0; c < job->in_groups[g].n; c++)
                    plan->order[n++] = c0 + c;
            c0 += job->in_groups[g].n;
        }
    }
    /* MSB-aligned codes (hwjob.h): step s (weight 2^(ba-1-s)) carries bit
     * b_c-1-s of every channel with b_c > s, i.e. the first n_s channels
     * of the sorted order. */
    uint64_t max_sum = 0;
    for (int j = 0; j < ba; j++) {
        int nj = 0;
        for (int g = 0; g < job->n_in_groups; g++)
            if (job->in_groups[g].bits > j) nj += job->in_groups[g].n;
        plan->n_ch[j] = nj;
        max_sum += ((uint64_t)1 << (ba - 1 - j)) * (uint64_t)kk * (uint64_t)nj;
    }
    if (max_sum >= ((uint64_t)1 << p->acc_w))
        return hn_fail(HN_ERR_UNSUPPORTED, "k*k*c_in = %d at %d activation bits:"
                       " partial sums up to %llu overflow the %d-bit DPU "
                       "accumulators", kk * c_in, ba,
                       (unsigned long long)max_sum, p->acc_w);
    plan->tile_words = 0;
    for (int s = 0; s < ba; s++) {
        plan->nc[s] = ceil_div(kk * plan->n_ch[s], p->dk);
        plan->tile_words += plan->nc[s];
    }
    plan->a_words = ba * plan->kw;
    /* Packed steps: step s+1 begins right after step s unless step s began
     * in the same word (a word holds at most one step beginning). */
    int start[HN_ARRAY_MAX_PLANES], seg[HN_ARRAY_MAX_PLANES], T2 = 0;
    for (int s = 0; s < ba; s++) {
        if (s == 0) {
            start[s] = 0;
        } else {
            int e = start[s - 1] + kk * plan->n_ch[s - 1];
            start[s] = (e / p->dk == start[s - 1] / p->dk)
                           ? (start[s - 1] / p->dk + 1) * p->dk : e;
        }
        seg[s] = start[s] / p->dk;
    }
    T2 = ceil_div(start[ba - 1] + kk * plan->n_ch[ba - 1], p->dk);
    if (T2 < plan->tile_words && T2 < (1 << p->kw_w) &&
        (long)plan->mt * T2 <= (1L << p->w_aw) && T2 <= (1L << p->a_aw)) {
        plan->packed = 1;
        plan->kw = T2;
        plan->a_words = T2;
        plan->tile_words = T2;
        for (int s = 0; s < ba; s++) {
            plan->start[s] = start[s];
            plan->seg[s] = seg[s];
            plan->split[s] = start[s] % p->dk;
            plan->nc[s] = (s + 1 < ba ? seg[s + 1] : T2) - seg[s];
        }
    }
    long per_run = (1L << p->a_aw) / (long)plan->a_words;
    if (per_run > (1L << p->pt_w)) per_run = 1L << p->pt_w;
    if (per_run < 1)
        return hn_fail(HN_ERR_UNSUPPORTED, "in_groups: %d planes x %d words of "
                       "one pixel tile exceed the activation buffer (%ld words)",
                       ba, plan->kw, 1L << p->a_aw);
    plan->pt_per_run = (int)per_run;
    plan->runs = ceil_div(plan->pt, plan->pt_per_run);
    return HN_OK;
}

long hn_array_act_addr(const hn_array_plan *plan, int lp, int s, int c) {
    if (plan->packed) return (long)lp * plan->a_words + plan->seg[s] + c;
    return ((long)lp * plan->ba + s) * plan->kw + c;
}

/* One run: the first tile's words issue from the cycle after start; every
 * later tile ends max(T, Nd) cycles after the previous one (hn_drain
 * retires two rows per cycle: Nd = ceil(Dm/2) cycles per tile); then 3
 * pipeline stages, the capture, Nd drain cycles, and the done pulse. */
uint64_t hn_cycles_run(const hn_array_plan *plan, const hn_array_params *p,
                       int npt) {
    uint64_t T = (uint64_t)plan->tile_words;
    uint64_t tiles = (uint64_t)plan->mt * (uint64_t)npt;
    uint64_t nd = (uint64_t)(p->dm + 1) / 2;
    uint64_t per = T > nd ? T : nd;
    return T + (tiles - 1) * per + nd + 6;
}

hn_status hn_cycles_job(const hn_hwjob *job, const hn_array_params *p,
                        hn_cycle_report *out) {
    static _Thread_local hn_array_plan plan;
    memset(out, 0, sizeof *out);
    HN_TRY(hn_array_plan_job(job, p, &plan));
    uint64_t cycles = 0;
    for (int r = 0; r < plan.runs; r++) {
        int npt = plan.pt - r * plan.pt_per_run;
        if (npt > plan.pt_per_run) npt = plan.pt_per_run;
        cycles += hn_cycles_run(&plan, p, npt);
    }
    uint64_t sum_ba = 0, sum_bw = 0;
    for (int j = 0; j < plan.ba; j++) sum_ba += (uint64_t)plan.n_ch[j];
    for (int g = 0; g < job->n_out_groups; g++)
        sum_bw += (uint64_t)job->out_groups[g].n * (uint64_t)job->out_groups[g].bits;
    out->cycles = cycles;
    out->binary_macs = sum_bw * sum_ba * (uint64_t)(plan.k * plan.k) *
                       (uint64_t)plan.pixels;
    out->ideal_cycles = (double)out->binary_macs /
                        ((double)p->dm * p->dn * p->dk);
    out->utilization = out->ideal_cycles / (double)cycles;
    return HN_OK;
}

hn_dma_params hn_dma_params_bench(void) {
    hn_dma_params d = {1, 1};
    return d;
}

/* One load section of `beats` 32-bit beats in bursts of <= 16, one burst
 * outstanding: each burst costs its beats + the address handshake + rd_lat;
 * one cycle switches to the next section. */
static uint64_t load_section(uint64_t beats, const hn_dma_params *d) {
    uint64_t bursts = (beats + 15) / 16;
    return beats + bursts * (uint64_t)(d->rd_lat + 1) + 1;
}

uint64_t hn_cycles_kernel_run(const hn_array_plan *plan,
                              const hn_array_params *p,
                              const hn_dma_params *d, int npt,
                              hn_kernel_report *out) {
    const uint64_t meta_w = (uint64_t)p->filt_w + 3;
    const uint64_t w_wpw = ((uint64_t)p->dm * p->dk + 31) / 32;
    const uint64_t m_wpw = ((uint64_t)p->dm * meta_w + 31) / 32;
    const uint64_t a_wpw = ((uint64_t)p->dn * p->dk + 31) / 32;
    const uint64_t n_w = (uint64_t)plan->mt * plan->kw, n_m = (uint64_t)plan->mt;
    const uint64_t n_a = (uint64_t)npt * plan->a_words;
    uint64_t load = load_section(n_w * w_wpw, d) + load_section(n_m * m_wpw, d) +
                    load_section(n_a * a_wpw, d);
    uint64_t core = hn_cycles_run(plan, p, npt);
    /* per result word: read the result RAM (2), address handshake (1), Dn
     * beats, the response after wr_lat */
    uint64_t store = (uint64_t)npt * plan->c_out *
                     ((uint64_t)p->dn + 3 + (uint64_t)d->wr_lat);
    /* accept, the start cycle of the core, the done-to-store cycle, done */
    uint64_t total = load + core + store + 3;
    if (out) {
        out->load += load;
        out->core += core;
        out->store += store;
        out->cycles += total;
    }
    return total;
}

hn_status hn_cycles_kernel(const hn_hwjob *job, const hn_array_params *p,
                           const hn_dma_params *d, hn_kernel_report *out) {
    static _Thread_local hn_array_plan plan;
    memset(out, 0, sizeof *out);
    if (d->rd_lat < 1 || d->wr_lat < 1)
        return hn_fail(HN_ERR_INVAL, "dma: rd_lat %d / wr_lat %d must be >= 1",
                       d->rd_lat, d->wr_lat);
    HN_TRY(hn_array_plan_job(job, p, &plan));
    for (int r = 0; r < plan.runs; r++) {
        int npt = plan.pt - r * plan.pt_per_run;
        if (npt > plan.pt_per_run) npt = plan.pt_per_run;
        hn_cycles_kernel_run(&plan, p, d, npt, out);
    }
    return HN_OK;
}

hn_status hn_array_layer_job(const hn_arch *a, const hn_config *c, int layer,
                             int input_bits, hn_hwjob *job) {
    memset(job, 0, sizeof *job);
    if (layer < 0 || layer >= hn_arch_n_layers(a))
        return hn_fail(HN_ERR_INVAL, "layer %d out of range", layer);
    const hn_layer_desc *L = hn_arch_layer(a, layer);
    job->k = L->k;
    job->stride = L->stride;
    job->pad = L->pad;
    job->in_h = L->in_h;
    job->in_w = L->in_w;
    int *bits = malloc(sizeof(int) * (size_t)L->c_in);
    if (!bits) return hn_fail(HN_ERR_NOMEM, "layer %s: out of memory", L->name);
    hn_status st = hn_config_input_bits(c, a, layer, input_bits, bits);
    for (int ch = 0; st == HN_OK && ch < L->c_in; ch++) {
        int b = bits[ch];
        if (!b) continue;
        if (b > HN_BITS_MAX) {
            st = hn_fail(HN_ERR_UNSUPPORTED, "layer %s: input channel %d is "
                         "full precision; the array needs integer activations",
                         L->name, ch);
        } else if (job->n_in_groups &&
                   job->in_groups[job->n_in_groups - 1].bits == b) {
            job->in_groups[job->n_in_groups - 1].n++;
        } else if (job->n_in_groups == HN_HW_MAX_GROUPS) {
            st = hn_fail(HN_ERR_UNSUPPORTED, "layer %s: more than %d input "
                         "channel groups", L->name, HN_HW_MAX_GROUPS);
        } else {
            job->in_groups[job->n_in_groups++] = (hn_hw_group){1, b};
        }
    }
    free(bits);
    HN_TRY(st);
    for (int t = 0; t < hn_config_n_ops(c); t++) {
        int n = hn_config_count(c, layer, t);
        if (!n) continue;
        int wb = hn_config_op(c, t).wbits;
        if (wb > HN_BITS_MAX)
            return hn_fail(HN_ERR_UNSUPPORTED, "layer %s: op %d has full "
                           "precision weights; the array needs integer "
                           "weights", L->name, t);
        if (job->n_out_groups &&
            job->out_groups[job->n_out_groups - 1].bits == wb) {
            job->out_groups[job->n_out_groups - 1].n += n;
        } else if (job->n_out_groups == HN_HW_MAX_GROUPS) {
            return hn_fail(HN_ERR_UNSUPPORTED, "layer %s: more than %d filter "
                           "groups", L->name, HN_HW_MAX_GROUPS);
        } else {
            job->out_groups[job->n_out_groups++] = (hn_hw_group){n, wb};
        }
    }
    if (!job->n_in_groups || !job->n_out_groups)
        return hn_fail(HN_ERR_INVAL, "layer %s: no active channels/filters",
                       L->name);
    for (int g = 0; g < job->n_in_groups; g++) job->c_in += job->in_groups[g].n;
    for (int g = 0; g < job->n_out_groups; g++)
        job->c_out += job->out_groups[g].n;
    return HN_OK;
}
