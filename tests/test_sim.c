/* The RTL (Verilator model, sim/) against the C reference hn_hwref_conv,
 * bit for bit: random jobs over every op mix, b_w 1..8 (1 = +-1), b_a 1..8, k 1/3,
 * stride 1/2, padding, odd sizes, groups not aligned to the array, plus
 * every ResNet-20 layer under a random configuration; and bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hetnas/arch.h"
#include "hetnas/config.h"
#include "hetnas/cycles.h"
#include "hetnas/hwjob.h"
#include "hetnas/hwref.h"
#include "hetnas/rng.h"

#ifdef HN_HAVE_VERILATOR
#include "hetnas/sim.h"

static hn_sim *g_sim;

static int setup(void **state) {
    (void)state;
    hn_sim_opts o = hn_sim_opts_default();
    return hn_sim_open(&o, &g_sim) == HN_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    hn_sim_close(g_sim);
    return 0;
}

/* Runs job on the RTL, the HLS kernel compiled as C (csim) and the
 * reference; asserts RTL == csim == reference and that the cycle model
 * predicted the measured cycles. */
static void check_job(const hn_hwjob *job, const char *what) {
    int oh, ow;
    hn_hwjob_out_dims(job, &oh, &ow);
    size_t n = (size_t)job->c_out * oh * ow;
    int32_t *ref = malloc(n * sizeof *ref), *rtl = malloc(n * sizeof *rtl);
    assert_non_null(ref);
    assert_non_null(rtl);
    for (size_t i = 0; i < n; i++) rtl[i] = (int32_t)0x5a5a5a5a;
    assert_int_equal(hn_hwref_conv(job, ref), HN_OK);
    int32_t *csim = malloc(n * sizeof *csim);
    assert_non_null(csim);
    int64_t passes = 0;
    if (hn_hwcsim_conv(job, csim, &passes) != HN_OK)
        fail_msg("%s: csim: %s", what, hn_error_msg());
    if (memcmp(csim, ref, n * sizeof *ref))
        fail_msg("%s: HLS csim differs from the reference", what);
    free(csim);
    uint64_t cycles = 0;
    hn_status st = hn_sim_run(g_sim, job, rtl, &cycles);
    if (st != HN_OK) fail_msg("%s: hn_sim_run: %s", what, hn_error_msg());
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        if (ref[i] != rtl[i]) {
            if (bad < 5)
                print_error("%s: acc[%zu] rtl %d ref %d\n", what, i, rtl[i],
                            ref[i]);
            bad++;
        }
    if (bad) fail_msg("%s: %zu of %zu accumulators differ", what, bad, n);
    hn_cycle_report cr;
    assert_int_equal(hn_cycles_job(job, hn_sim_params(g_sim), &cr), HN_OK);
    if (cr.cycles != cycles)
        fail_msg("%s: model %llu cycles, RTL %llu", what,
                 (unsigned long long)cr.cycles, (unsigned long long)cycles);
    free(ref);
    free(rtl);
}

static void test_random_jobs(void **state) {
    (void)state;
    hn_rng r;
    hn_rng_seed(&r, 20261127, 4);
    for (int t = 0; t < 60; t++) {
        hn_hwjob job;
        /* any job may have binary +-1 filter groups */
        assert_int_equal(hn_hwjob_random(&r, 1, 8, 8, &job),
                         HN_OK);
        char what[64];
        snprintf(what, sizeof what, "random job %d", t);
        check_job(&job, what);
        hn_hwjob_free(&job);
    }
}

/* Edge cases the random generator rarely hits: all-extreme values, one
 * channel, one filter, 8-bit everything, 1-bit activations. */
static void test_extremes(void **state) {
    (void)state;
    static const int cases[][6] = {
        /* k, stride, pad, c_in(1 group) bits_a, filters, bits_w */
        {3, 1, 1, 1, 1, 2}, {3, 2, 1, 8, 1, 8}, {1, 1, 0, 1, 1, 2},
        {3, 1, 0, 8, 8, 8}, {1, 2, 0, 1, 1, 3},
    };
    hn_rng r;
    hn_rng_seed(&r, 7, 1);
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        hn_hwjob job;
        memset(&job, 0, sizeof job);
        job.k = cases[t][0];
        job.stride = cases[t][1];
        job.pad = cases[t][2];
        job.in_h = 7;
        job.in_w = 5;
        job.n_in_groups = 2;
        job.in_groups[0] = (hn_hw_group){3, cases[t][3]};
        job.in_groups[1] = (hn_hw_group){2, 1};
        job.n_out_groups = 2;
        job.out_groups[0] = (hn_hw_group){cases[t][4], cases[t][5]};
        job.out_groups[1] = (hn_hw_group){5, 2};
        assert_int_equal(hn_hwjob_alloc(&job), HN_OK);
        /* every value at an extreme of its range */
        size_t per_f = (size_t)job.c_in * job.k * job.k, idx = 0;
        for (int g = 0; g < job.n_out_groups; g++) {
            int32_t hi = (1 << (job.out_groups[g].bits - 1)) - 1;
            for (size_t i = 0; i < job.out_groups[g].n * per_f; i++, idx++)
                job.weights[idx] = (hn_rng_u32(&r) & 1) ? hi : -hi;
        }
        idx = 0;
        for (int g = 0; g < job.n_in_groups; g++)
            for (int i = 0; i < job.in_groups[g].n * job.in_h * job.in_w; i++)
                job.acts[idx++] = (1 << job.in_groups[g].bits) - 1;
        char what[64];
        snprintf(what, sizeof what, "extreme case %zu", t);
        check_job(&job, what);
        hn_hwjob_free(&job);
    }
}

/* Every ResNet-20 layer under one random heterogeneous configuration. */
static void test_resnet20_layers(void **state) {
    (void)state;
    hn_resnet_spec spec = hn_resnet_spec_default();
    hn_arch *a = NULL;
    assert_int_equal(hn_arch_resnet(&spec, &a), HN_OK);
    const int nl = hn_arch_n_layers(a);
    static const hn_op ops[4] = {{2, 2}, {2, 4}, {3, 3}, {8, 8}};
    hn_rng r;
    hn_rng_seed(&r, 42, 9);
    int *counts = calloc((size_t)nl * 4, sizeof *counts);
    for (int l = 0; l < nl; l++) {
        int C = hn_arch_layer(a, l)->c_out;
        double p[4] = {1, 1, 1, 1};
        hn_rng_multinomial(&r, C, 4, p, &counts[l * 4]);
    }
    hn_config *cfg = NULL;
    assert_int_equal(hn_config_new(a, 4, ops, counts, &cfg), HN_OK);
    for (int l = 0; l < nl; l++) {
        const hn_layer_desc *L = hn_arch_layer(a, l);
        int bits[4096];
        assert_int_equal(hn_config_input_bits(cfg, a, l, 8, bits), HN_OK);
        hn_hwjob job;
        memset(&job, 0, sizeof job);
        job.k = L->k;
        job.stride = L->stride;
        job.pad = L->pad;
        job.in_h = L->in_h;
        job.in_w = L->in_w;
        for (int c = 0; c < L->c_in; c++) {
            if (!bits[c]) continue;
            if (job.n_in_groups &&
                job.in_groups[job.n_in_groups - 1].bits == bits[c])
                job.in_groups[job.n_in_groups - 1].n++;
            else
                job.in_groups[job.n_in_groups++] = (hn_hw_group){1, bits[c]};
        }
        for (int t = 0; t < 4; t++)
            if (hn_config_count(cfg, l, t))
                job.out_groups[job.n_out_groups++] =
                    (hn_hw_group){hn_config_count(cfg, l, t), ops[t].wbits};
        assert_int_equal(hn_hwjob_alloc(&job), HN_OK);
        hn_hwjob_fill_random(&r, &job);
        check_job(&job, L->name);
        hn_hwjob_free(&job);
    }
    hn_config_free(cfg);
    free(counts);
    hn_arch_free(a);
}

static void test_bad_input(void **state) {
    (void)state;
    hn_hwjob job;
    memset(&job, 0, sizeof job);
    job.k = 3;
    job.stride = 1;
    job.pad = 1;
    job.in_h = 4;
    job.in_w = 4;
    job.n_in_groups = 1;
    job.in_groups[0] = (hn_hw_group){2, 9};
    job.n_out_groups = 1;
    job.out_groups[0] = (hn_hw_group){2, 4};
    assert_int_equal(hn_hwjob_alloc(&job), HN_OK);
    int32_t acc[2 * 16];
    uint64_t cyc;
    assert_int_equal(hn_sim_run(g_sim, &job, acc, &cyc), HN_ERR_UNSUPPORTED);
    assert_non_null(strstr(hn_error_msg(), "in_groups[0].bits"));
    job.in_groups[0].bits = 4;
    job.out_groups[0].bits = 12;
    assert_int_equal(hn_sim_run(g_sim, &job, acc, &cyc), HN_ERR_UNSUPPORTED);
    assert_non_null(strstr(hn_error_msg(), "out_groups[0].bits"));
    /* a value out of its range is caught before the RTL runs */
    job.out_groups[0].bits = 4;
    job.weights[5] = 8;
    assert_true(hn_sim_run(g_sim, &job, acc, &cyc) != HN_OK);
    assert_non_null(strstr(hn_error_msg(), "weights"));
    job.weights[5] = 0;
    /* a cycle cap that is too small turns into a timeout, and the model
     * still works afterwards */
    hn_sim *s2 = NULL;
    hn_sim_opts o = hn_sim_opts_default();
    o.cycle_cap = 5;
    assert_int_equal(hn_sim_open(&o, &s2), HN_OK);
    assert_int_equal(hn_sim_run(s2, &job, acc, &cyc), HN_ERR_TIMEOUT);
    hn_sim_close(s2);
    check_job(&job, "after errors");
    hn_hwjob_free(&job);
}

/* The Vitis RTL-kernel wrapper: register programming over AXI4-Lite, DMA of
 * the memory image over m_axi, results written back; same answers and the
 * same core cycles as the direct harness. */
static void test_axi_kernel(void **state) {
    (void)state;
    const hn_array_params *sp = hn_sim_params(g_sim);
    hn_array_params d = hn_array_params_default();
    if (sp->dm != d.dm || sp->dn != d.dn || sp->dk != d.dk || sp->acc_w != d.acc_w)
        skip(); /* the kernel wrapper is built at the default size only */
    hn_rng r;
    hn_rng_seed(&r, 5, 17);
    for (int t = 0; t < 9; t++) {
        hn_hwjob job;
        if (t < 8) {
            assert_int_equal(hn_hwjob_random(&r, 1, 8, 8, &job), HN_OK);
        } else {
            /* 64 channels @ 8 bits at 32x32: two buffer runs, two kernel
             * calls */
            memset(&job, 0, sizeof job);
            job.k = 3;
            job.stride = 1;
            job.pad = 1;
            job.in_h = job.in_w = 32;
            job.n_in_groups = 1;
            job.in_groups[0] = (hn_hw_group){64, 8};
            job.n_out_groups = 2;
            job.out_groups[0] = (hn_hw_group){3, 2};
            job.out_groups[1] = (hn_hw_group){2, 7};
            assert_int_equal(hn_hwjob_alloc(&job), HN_OK);
            hn_hwjob_fill_random(&r, &job);
        }
        int oh, ow;
        hn_hwjob_out_dims(&job, &oh, &ow);
        size_t n = (size_t)job.c_out * oh * ow;
        int32_t *ref = malloc(n * sizeof *ref), *axi = malloc(n * sizeof *axi);
        assert_non_null(ref);
        assert_non_null(axi);
        assert_int_equal(hn_hwref_conv(&job, ref), HN_OK);
        uint64_t cyc = 0;
        hn_status st = hn_sim_run_axi(g_sim, &job, axi, &cyc);
        if (st != HN_OK) fail_msg("axi job %d: %s", t, hn_error_msg());
        assert_memory_equal(axi, ref, n * sizeof *ref);
        hn_cycle_report cr;
        assert_int_equal(hn_cycles_job(&job, hn_sim_params(g_sim), &cr), HN_OK);
        assert_int_equal(cyc, cr.cycles);
        /* kernel time (load + run + store) == the DMA model at the bench's
         * memory latencies */
        hn_dma_params dp = hn_dma_params_bench();
        hn_kernel_report kr;
        assert_int_equal(hn_cycles_kernel(&job, hn_sim_params(g_sim), &dp, &kr), HN_OK);
        assert_int_equal(kr.core, cr.cycles);
        if (hn_sim_axi_kernel_cycles(g_sim) != kr.cycles)
            fail_msg("axi job %d: kernel %llu cycles, model %llu (load %llu "
                     "core %llu store %llu)", t,
                     (unsigned long long)hn_sim_axi_kernel_cycles(g_sim),
                     (unsigned long long)kr.cycles, (unsigned long long)kr.load,
                     (unsigned long long)kr.core, (unsigned long long)kr.store);
        free(ref);
        free(axi);
        hn_hwjob_free(&job);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_axi_kernel),
        cmocka_unit_test(test_extremes),
        cmocka_unit_test(test_random_jobs),
        cmocka_unit_test(test_resnet20_layers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
#else
static void test_skipped(void **state) {
    (void)state;
    skip();
}
int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_skipped)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif
