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
    int c_in = 0, c_out = 0, rows = 0, ba = 0, pm1 = 0;
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
        /* a binary +-1 filter is one row, its sign plane: as 2-bit two's
         * complement (+1 = 01, -1 = 11) its plane 0 is all ones, the same
         * for every such filter, so one shared row computes it */
        rows += G->n * G->bits;
        if (G->bits == 1) pm1 = 1;
    }
    rows += pm1;
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
    plan->pm1 = pm1;
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

int hn_array_nd(const hn_array_plan *plan, const hn_array_params *p) {
    return plan->pm1 ? p->dm : (p->dm + 1) / 2;
}

/* One run: the first tile's words issue from the cycle after start; every
 * later tile ends max(T, Nd) cycles after the previous one (hn_drain
 * retires two rows per cycle, one in pm1 jobs: Nd = hn_array_nd cycles
 * per tile); then 3 pipeline stages, the capture, Nd drain cycles, and the
 * done pulse. */
uint64_t hn_cycles_run(const hn_array_plan *plan, const hn_array_params *p,
                       int npt) {
    uint64_t T = (uint64_t)plan->tile_words;
    uint64_t tiles = (uint64_t)plan->mt * (uint64_t)npt;
    uint64_t nd = (uint64_t)hn_array_nd(plan, p);
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
    hn_dma_params d = {1, 1, HN_HW_AXI_W, HN_HW_AXI_RD_OUT};
    return d;
}

static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* The kernel's timeline, in clock edges from the one that accepts ap_start
 * (edge 0), as rtl/hn_krnl_top.sv produces it against the memory of
 * hn_dma_params (the Verilator bench's slave: addresses accepted at once,
 * in-order data).
 *
 * Load: burst k (over the three sections back to back, up to maxb beats,
 * never across sections) is requested at edge q_k = max(q_{k-1} + 1,
 * c_{k-rd_out} + 1) (q_0 = 1; c_j = edge of burst j's last beat), its
 * address accepted at q_k + 1, its first beat ready at q_k + 1 + rd_lat.
 * Beat j is taken at max(ready, a_{j-1} + g_{j-1}), where g is the number
 * of buffer words the beat carries (the descriptor and activation buffers
 * take one per cycle, the beat's first word at its edge; g = 1 for
 * weights, whose W_BANKS banks take the whole beat, and for a buffer word
 * spanning several beats, written with its last beat).
 *
 * Run: the core starts (edge s) one edge after the last descriptor write;
 * the activations keep streaming.  Tile i (pixel tile lp, row tile m)
 * issues its first word at f_i = max(e_{i-1} + 1, R_lp + 1) when m = 0
 * (R_lp = edge of the write that completes pixel tile lp's activations;
 * f_0 = max(s + 2, R_0 + 1)), else e_{i-1} + 1, and its last at e_i =
 * max(f_i + T - 1, e_{i-1} + Nd) (the drain's gap); the pipeline captures
 * it at e_i + 4 and the drain writes row pair r (row r in pm1 jobs) at
 * capture + r + 1; the
 * core's done pulse is Nd + 1 after the last capture.  Without waits this
 * is hn_cycles_run.
 *
 * Store: filter f's word of pixel tile lp is written with the row pair of
 * its last row r_f (tile lp*mt + r_f/dm, pair (r_f % dm)/2; in pm1 jobs
 * the row itself, r_f % dm, counting the all-ones row 0).  The word's
 * first beat leaves 2 edges after its write (read the result RAM, present
 * it) or right after the previous word's last beat, its rb = Dn*32/data_w
 * beats back to back; write addresses are requested up front and never
 * hold the data back.  The last response comes wr_lat after the last
 * beat; the kernel finishes 2 edges after both it and the core's done
 * pulse.
 *
 * rdy: scratch of npt entries. */
static uint64_t kernel_run(const hn_hwjob *job, const hn_array_plan *plan,
                           const hn_array_params *p, const hn_dma_params *d,
                           int npt, uint64_t *rdy, hn_kernel_report *out) {
    const uint64_t meta_w = (uint64_t)p->filt_w + 3;
    const uint64_t wpw[3] = {((uint64_t)p->dm * p->dk + 31) / 32,
                             ((uint64_t)p->dm * meta_w + 31) / 32,
                             ((uint64_t)p->dn * p->dk + 31) / 32};
    const uint64_t a_words = (uint64_t)plan->a_words;
    const uint64_t nw[3] = {(uint64_t)plan->mt * plan->kw, (uint64_t)plan->mt,
                            (uint64_t)npt * a_words};
    const uint64_t bw = (uint64_t)d->data_w / 32, bytes = (uint64_t)d->data_w / 8;
    const uint64_t maxb = 4096 / bytes > 256 ? 256 : 4096 / bytes;
    /* ---- load ---- */
    uint64_t ring[16] = {0}; /* last-beat edges of the last rd_out bursts */
    uint64_t q = 0, next_acc = 1, last_wr = 0, k = 0, desc_done = 0;
    for (int s = 0; s < 3; s++) {
        const uint64_t gpb = wpw[s] <= bw ? bw / wpw[s] : 1;
        const uint64_t bpw = wpw[s] > bw ? wpw[s] / bw : 1;
        const uint64_t beats = (nw[s] * wpw[s] + bw - 1) / bw;
        for (uint64_t b0 = 0; b0 < beats; b0 += maxb, k++) {
            const uint64_t len = beats - b0 < maxb ? beats - b0 : maxb;
            q = max_u64(q + 1, k >= (uint64_t)d->rd_out
                                   ? ring[k % (uint64_t)d->rd_out] + 1 : 0);
            uint64_t acc = 0;
            for (uint64_t j = 0; j < len; j++) {
                const uint64_t b = b0 + j;
                acc = max_u64(j == 0 ? q + 1 + (uint64_t)d->rd_lat : 0, next_acc);
                /* weights: the beat's words go to gpb banks at once */
                uint64_t g = 1;
                if (gpb > 1 && s != 0) g = nw[s] - b * gpb < gpb ? nw[s] - b * gpb : gpb;
                next_acc = acc + g;
                last_wr = acc + g - 1;
                if (s != 2) continue;
                /* buffer words completed by this beat and their edges */
                for (uint64_t u = 0; u < (bpw > 1 ? 1 : g); u++) {
                    if (bpw > 1 && b % bpw != bpw - 1) break;
                    const uint64_t word = bpw > 1 ? b / bpw : b * gpb + u;
                    if ((word + 1) % a_words == 0) rdy[(word + 1) / a_words - 1] = acc + u;
                }
            }
            ring[k % (uint64_t)d->rd_out] = acc;
        }
        if (s == 1) desc_done = last_wr;
    }
    /* ---- run: tiles wait for their pixel tile's activations ---- */
    const uint64_t run_edge = desc_done + 1; /* S_RUN entered */
    const uint64_t nd = (uint64_t)hn_array_nd(plan, p);
    const uint64_t t = (uint64_t)plan->tile_words;
    const uint64_t mt = (uint64_t)plan->mt;
    const uint64_t tiles = mt * (uint64_t)npt;
    /* ---- store, overlapped with the run: the tiles' end edges are
     * produced in order as the filters' words need them ---- */
    const uint64_t rb = (uint64_t)p->dn * 32 / (uint64_t)d->data_w;
    uint64_t e = 0, done_tiles = 0; /* end edge of tile done_tiles-1 */
    uint64_t prev = 0;              /* edge of the previous word's last beat */
    for (int lp = 0; lp < npt; lp++) {
        uint64_t row = (uint64_t)plan->pm1; /* row 0: the all-ones row */
        for (int g = 0; g < job->n_out_groups; g++)
            for (int n = 0; n < job->out_groups[g].n; n++) {
                row += (uint64_t)job->out_groups[g].bits;
                const uint64_t last = row - 1;
                const uint64_t tile = (uint64_t)lp * mt + last / (uint64_t)p->dm;
                for (; done_tiles <= tile; done_tiles++) {
                    const uint64_t i = done_tiles, m = i % mt;
                    uint64_t f = i == 0 ? run_edge + 2 : e + 1;
                    if (m == 0) f = max_u64(f, rdy[i / mt] + 1);
                    e = i == 0 ? f + t - 1 : max_u64(f + t - 1, e + nd);
                }
                const uint64_t slot = last % (uint64_t)p->dm;
                const uint64_t wr = e + 4 + (plan->pm1 ? slot : slot / 2) + 1;
                const uint64_t first = max_u64(wr + 2, prev + 1);
                prev = first + rb - 1;
            }
    }
    for (; done_tiles < tiles; done_tiles++) { /* tiles without a last row */
        const uint64_t i = done_tiles, m = i % mt;
        uint64_t f = i == 0 ? run_edge + 2 : e + 1;
        if (m == 0) f = max_u64(f, rdy[i / mt] + 1);
        e = i == 0 ? f + t - 1 : max_u64(f + t - 1, e + nd);
    }
    const uint64_t done = e + 4 + nd + 1; /* the core's done pulse */
    const uint64_t core = done - run_edge;
    const uint64_t resp = prev + (uint64_t)d->wr_lat;
    const uint64_t total = max_u64(done + 1, resp + 1) + 2;
    if (out) {
        const uint64_t nominal = hn_cycles_run(plan, p, npt);
        out->load += run_edge;
        out->core += core;
        out->wait += core - nominal;
        out->store += total - run_edge - core;
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
    if (d->data_w != 32 && d->data_w != 64 && d->data_w != 128 &&
        d->data_w != 256 && d->data_w != 512)
        return hn_fail(HN_ERR_INVAL, "dma: data width %d: the m_axi port is "
                       "32, 64, 128, 256 or 512 bits", d->data_w);
    if (d->rd_out < 1 || d->rd_out > 16)
        return hn_fail(HN_ERR_INVAL, "dma: %d read bursts outstanding: 1..16",
                       d->rd_out);
    const int wpw[3] = {(p->dm * p->dk + 31) / 32, (p->dm * (p->filt_w + 3) + 31) / 32,
                        (p->dn * p->dk + 31) / 32};
    for (int s = 0; s < 3; s++)
        if (wpw[s] & (wpw[s] - 1))
            return hn_fail(HN_ERR_UNSUPPORTED, "dma: a buffer word of %d 32-bit "
                           "words (array %dx%dx%d): the kernel takes powers of two",
                           wpw[s], p->dm, p->dn, p->dk);
    if ((p->dn * 32) % d->data_w)
        return hn_fail(HN_ERR_UNSUPPORTED, "dma: a result word of Dn = %d int32 "
                       "is not whole %d-bit beats", p->dn, d->data_w);
    HN_TRY(hn_array_plan_job(job, p, &plan));
    uint64_t *rdy = malloc(sizeof *rdy * (size_t)plan.pt_per_run);
    if (!rdy) return hn_fail(HN_ERR_NOMEM, "dma: out of memory");
    for (int r = 0; r < plan.runs; r++) {
        int npt = plan.pt - r * plan.pt_per_run;
        if (npt > plan.pt_per_run) npt = plan.pt_per_run;
        kernel_run(job, &plan, p, d, npt, rdy, out);
    }
    free(rdy);
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
