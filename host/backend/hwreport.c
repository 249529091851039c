/* hn_hwreport_*: the library side of `hetnas hw report` (hwreport.h). */
#include "hetnas/hwreport.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/arch.h"
#include "hetnas/config.h"
#include "hetnas/hwref.h"
#include "hetnas/rng.h"
#include "hetnas/stats.h"

hn_status hn_hwreport_model(const hn_arch *a, const hn_config *c,
                            int input_bits, const hn_array_params *p,
                            hn_hwreport_layer *rows, uint64_t *total) {
    *total = 0;
    for (int l = 0; l < hn_arch_n_layers(a); l++) {
        hn_hwjob job;
        HN_TRY(hn_array_layer_job(a, c, l, input_bits, &job));
        hn_cycle_report cr;
        hn_status st = hn_cycles_job(&job, p, &cr);
        if (st != HN_OK)
            return hn_fail_ctx(st, "layer %s", hn_arch_layer(a, l)->name);
        if (rows) {
            rows[l].model = cr.cycles;
            rows[l].ideal = cr.ideal_cycles;
            rows[l].util = cr.utilization;
        }
        *total += cr.cycles;
    }
    return HN_OK;
}

hn_status hn_hwreport_kernel(const hn_arch *a, const hn_config *c,
                             int input_bits, const hn_array_params *p,
                             const hn_dma_params *d, hn_hwreport_layer *rows,
                             uint64_t *total) {
    *total = 0;
    for (int l = 0; l < hn_arch_n_layers(a); l++) {
        hn_hwjob job;
        HN_TRY(hn_array_layer_job(a, c, l, input_bits, &job));
        hn_kernel_report kr;
        hn_status st = hn_cycles_kernel(&job, p, d, &kr);
        if (st != HN_OK)
            return hn_fail_ctx(st, "layer %s", hn_arch_layer(a, l)->name);
        rows[l].kernel = kr.cycles;
        rows[l].kernel_load = kr.load;
        rows[l].kernel_wait = kr.wait;
        rows[l].kernel_store = kr.store;
        *total += kr.cycles;
    }
    return HN_OK;
}

hn_status hn_hwreport_measure(const hn_arch *a, const hn_config *c,
                              int input_bits, uint64_t seed, hn_backend *b,
                              hn_hwreport_layer *rows, uint64_t *total,
                              int *mismatches) {
    *total = 0;
    *mismatches = 0;
    hn_rng r;
    hn_rng_seed(&r, seed, 77);
    hn_status st = HN_OK;
    for (int l = 0; l < hn_arch_n_layers(a) && st == HN_OK; l++) {
        hn_hwjob job;
        st = hn_array_layer_job(a, c, l, input_bits, &job);
        if (st == HN_OK) st = hn_hwjob_alloc(&job);
        if (st != HN_OK) break;
        hn_hwjob_fill_random(&r, &job);
        int oh, ow;
        hn_hwjob_out_dims(&job, &oh, &ow);
        size_t n = (size_t)job.c_out * oh * ow;
        int32_t *acc = malloc(n * sizeof *acc), *ref = malloc(n * sizeof *ref);
        uint64_t cyc = 0;
        if (!acc || !ref) st = hn_fail(HN_ERR_NOMEM, "hw report: out of memory");
        if (st == HN_OK) st = hn_backend_run_job(b, &job, acc, &cyc);
        if (st == HN_OK) st = hn_hwref_conv(&job, ref);
        if (st == HN_OK) {
            rows[l].measured = (int64_t)cyc;
            rows[l].ok = !memcmp(acc, ref, n * sizeof *acc);
            *mismatches += !rows[l].ok;
            *total += cyc;
        } else {
            st = hn_fail_ctx(st, "layer %s", hn_arch_layer(a, l)->name);
        }
        free(acc);
        free(ref);
        hn_hwjob_free(&job);
    }
    return st;
}

void hn_hwreport_samples_free(hn_hwreport_samples *s) {
    free(s->layer_util_mean);
    free(s->layer_util_min);
    s->layer_util_mean = s->layer_util_min = NULL;
}

hn_status hn_hwreport_sample(const hn_arch *a, const hn_config *c,
                             const hn_cost_opts *copts, int input_bits,
                             const hn_array_params *p, int samples,
                             uint64_t seed, hn_hwreport_samples *out) {
    memset(out, 0, sizeof *out);
    const int L = hn_arch_n_layers(a), T = hn_config_n_ops(c);
    out->n = samples;
    out->n_layers = L;
    out->pearson = out->spearman = NAN;
    out->layer_pearson = out->layer_spearman = NAN;
    out->util_min = 1e9;
    out->layer_util_mean = calloc((size_t)L, sizeof *out->layer_util_mean);
    out->layer_util_min = calloc((size_t)L, sizeof *out->layer_util_min);
    if (!out->layer_util_mean || !out->layer_util_min) {
        hn_hwreport_samples_free(out);
        return hn_fail(HN_ERR_NOMEM, "hw report: out of memory");
    }
    for (int l = 0; l < L; l++) out->layer_util_min[l] = 1e9;
    if (samples <= 0) return HN_OK;
    const size_t nl = (size_t)samples * (size_t)L;
    hn_op *ops = calloc((size_t)T, sizeof *ops);
    int *counts = calloc((size_t)L * T, sizeof *counts);
    double *xb = calloc((size_t)samples, sizeof *xb);
    double *yc = calloc((size_t)samples, sizeof *yc);
    double *lxb = calloc(nl, sizeof *lxb), *lyc = calloc(nl, sizeof *lyc);
    hn_layer_cost *sper = calloc((size_t)L, sizeof *sper);
    hn_hwreport_layer *srows = calloc((size_t)L, sizeof *srows);
    hn_config *rc = NULL;
    hn_status st = HN_OK;
    if (!ops || !counts || !xb || !yc || !lxb || !lyc || !sper || !srows)
        st = hn_fail(HN_ERR_NOMEM, "hw report: out of memory");
    for (int t = 0; st == HN_OK && t < T; t++) ops[t] = hn_config_op(c, t);
    hn_rng r;
    hn_rng_seed(&r, seed, 78);
    double u_sum = 0;
    for (int s = 0; s < samples && st == HN_OK; s++) {
        for (int l = 0; l < L; l++) {
            double pr[HN_MAX_OPS];
            for (int t = 0; t < T; t++)
                pr[t] = -log(1.0 - hn_rng_uniform(&r)) + 1e-12;
            hn_rng_multinomial(&r, hn_arch_layer(a, l)->c_out, T, pr,
                               &counts[l * T]);
        }
        hn_config_free(rc);
        rc = NULL;
        hn_layer_cost tot = {0};
        uint64_t cyc = 0;
        st = hn_config_new(a, T, ops, counts, &rc);
        if (st == HN_OK) st = hn_cost_network(a, rc, copts, sper, &tot);
        if (st == HN_OK) st = hn_hwreport_model(a, rc, input_bits, p, srows, &cyc);
        if (st != HN_OK) break;
        xb[s] = (double)tot.bops;
        yc[s] = (double)cyc;
        double ideal = 0;
        for (int l = 0; l < L; l++) {
            lxb[(size_t)s * L + l] = (double)sper[l].bops;
            lyc[(size_t)s * L + l] = (double)srows[l].model;
            out->layer_util_mean[l] += srows[l].util / samples;
            if (srows[l].util < out->layer_util_min[l])
                out->layer_util_min[l] = srows[l].util;
            ideal += srows[l].ideal;
        }
        double u = ideal / (double)cyc;
        u_sum += u;
        if (u < out->util_min) out->util_min = u;
    }
    if (st == HN_OK) {
        out->util_mean = u_sum / samples;
        out->pearson = hn_stats_pearson(xb, yc, samples);
        out->layer_pearson = hn_stats_pearson(lxb, lyc, (long)nl);
        st = hn_stats_spearman(xb, yc, samples, &out->spearman);
        if (st == HN_OK)
            st = hn_stats_spearman(lxb, lyc, (long)nl, &out->layer_spearman);
    }
    hn_config_free(rc);
    free(ops);
    free(counts);
    free(xb);
    free(yc);
    free(lxb);
    free(lyc);
    free(sper);
    free(srows);
    if (st != HN_OK) hn_hwreport_samples_free(out);
    return st;
}
