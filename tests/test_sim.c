/* The Verilator harness itself (sim/): bad input and cycle caps, and the
 * Vitis RTL-kernel wrapper over AXI.  The RTL against the oracle on random
 * jobs, extremes, ResNet-20 layers and whole networks is
 * tests/test_backend_ops.c (every backend). */
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
    /* only the verilated kernel builds can be selected */
    hn_dma_params dp = hn_dma_params_bench();
    dp.data_w = 128;
    assert_int_equal(hn_sim_set_axi(g_sim, &dp), HN_ERR_UNSUPPORTED);
    assert_non_null(strstr(hn_error_msg(), "128-bit"));
    dp = hn_dma_params_bench();
    dp.rd_lat = 0;
    assert_int_equal(hn_sim_set_axi(g_sim, &dp), HN_ERR_RANGE);
    assert_int_equal(hn_sim_set_axi_stalls(g_sim, 91, 1), HN_ERR_RANGE);
    hn_kernel_report kr;
    assert_int_equal(hn_cycles_kernel(&job, hn_sim_params(g_sim), &dp, &kr), HN_ERR_INVAL);
    dp = hn_dma_params_bench();
    dp.data_w = 48;
    assert_int_equal(hn_cycles_kernel(&job, hn_sim_params(g_sim), &dp, &kr), HN_ERR_INVAL);
    hn_hwjob_free(&job);
}

/* The Vitis RTL-kernel wrapper: register programming over AXI4-Lite, DMA of
 * the memory image over m_axi, results written back; same answers and the
 * same core cycles as the direct harness, and the kernel cycles (load +
 * run + overlapped store) of hn_cycles_kernel, on both kernel builds (the
 * default 512-bit port and the 32-bit one, with different read-outstanding
 * counts) and at memory latencies where the outstanding reads and the
 * store overlap matter. */
static void test_axi_kernel(void **state) {
    (void)state;
    const hn_array_params *sp = hn_sim_params(g_sim);
    hn_array_params d = hn_array_params_default();
    if (sp->dm != d.dm || sp->dn != d.dn || sp->dk != d.dk || sp->acc_w != d.acc_w)
        skip(); /* the kernel wrapper is built at the default size only */
    hn_dma_params builds[2];
    assert_int_equal(hn_sim_axi_builds(builds), 2);
    assert_int_equal(builds[1].data_w, 32);
    static const int lat[3][2] = {{1, 1}, {40, 40}, {7, 3}};
    hn_rng r;
    hn_rng_seed(&r, 5, 17);
    uint64_t waits = 0;
    int pm1 = 0;
    for (int t = 0; t < 9; t++) {
        hn_hwjob job;
        if (t < 8) {
            assert_int_equal(hn_hwjob_random(&r, 1, 8, 8, &job), HN_OK);
            for (int g = 0; g < job.n_out_groups; g++)
                if (job.out_groups[g].bits == 1) {
                    pm1++; /* +-1 filters: one-row drain, shared ones row */
                    break;
                }
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
        hn_cycle_report cr;
        assert_int_equal(hn_cycles_job(&job, hn_sim_params(g_sim), &cr), HN_OK);
        uint64_t kc[2] = {0, 0};
        for (int v = 0; v < 6; v++) {
            hn_dma_params dp = builds[v % 2];
            dp.rd_lat = lat[v / 2][0];
            dp.wr_lat = lat[v / 2][1];
            if (v / 2 == 2 && v % 2) { /* a slow write side on the narrow build */
                dp.rd_lat = 3;
                dp.wr_lat = 17;
            }
            assert_int_equal(hn_sim_set_axi(g_sim, &dp), HN_OK);
            memset(axi, 0x5a, n * sizeof *axi);
            uint64_t cyc = 0;
            hn_status st = hn_sim_run_axi(g_sim, &job, axi, &cyc);
            if (st != HN_OK) fail_msg("axi job %d (%d bits): %s", t, dp.data_w, hn_error_msg());
            if (memcmp(axi, ref, n * sizeof *ref))
                fail_msg("axi job %d (%d bits, latencies %d/%d): results differ "
                         "from the reference", t, dp.data_w, dp.rd_lat, dp.wr_lat);
            /* kernel time (load + run + store) == the DMA model; the core
             * cycles the kernel reports are the array's plus the cycles it
             * waited for streaming activations */
            hn_kernel_report kr;
            assert_int_equal(hn_cycles_kernel(&job, hn_sim_params(g_sim), &dp, &kr), HN_OK);
            if (cyc != kr.core)
                fail_msg("axi job %d (%d bits, latencies %d/%d): core %llu cycles, "
                         "model %llu (wait %llu)", t, dp.data_w, dp.rd_lat, dp.wr_lat,
                         (unsigned long long)cyc, (unsigned long long)kr.core,
                         (unsigned long long)kr.wait);
            assert_int_equal(kr.core - kr.wait, cr.cycles);
            assert_int_equal(kr.load + kr.core + kr.store, kr.cycles);
            waits += kr.wait;
            if (hn_sim_axi_kernel_cycles(g_sim) != kr.cycles)
                fail_msg("axi job %d (%d bits, %d outstanding, latencies %d/%d): "
                         "kernel %llu cycles, model %llu (load %llu core %llu "
                         "store %llu)", t, dp.data_w, dp.rd_out, dp.rd_lat, dp.wr_lat,
                         (unsigned long long)hn_sim_axi_kernel_cycles(g_sim),
                         (unsigned long long)kr.cycles, (unsigned long long)kr.load,
                         (unsigned long long)kr.core, (unsigned long long)kr.store);
            if (v / 2 == 1) kc[v % 2] = kr.cycles;
        }
        /* at realistic latencies the wide port is never slower */
        assert_true(kc[0] <= kc[1]);
        /* under random back-pressure (ready and valid withheld, AXI rules
         * kept) the results stay exact and the cycles only grow */
        for (int v = 0; v < 2; v++) {
            hn_dma_params dp = builds[v];
            dp.rd_lat = 7;
            dp.wr_lat = 3;
            assert_int_equal(hn_sim_set_axi(g_sim, &dp), HN_OK);
            assert_int_equal(hn_sim_set_axi_stalls(g_sim, 40, (uint64_t)t), HN_OK);
            memset(axi, 0x5a, n * sizeof *axi);
            uint64_t cyc = 0;
            if (hn_sim_run_axi(g_sim, &job, axi, &cyc) != HN_OK)
                fail_msg("axi job %d (%d bits, stalls): %s", t, dp.data_w, hn_error_msg());
            if (memcmp(axi, ref, n * sizeof *ref))
                fail_msg("axi job %d (%d bits, stalls): results differ from the "
                         "reference", t, dp.data_w);
            hn_kernel_report kr;
            assert_int_equal(hn_cycles_kernel(&job, hn_sim_params(g_sim), &dp, &kr), HN_OK);
            assert_true(cyc >= cr.cycles);
            assert_true(hn_sim_axi_kernel_cycles(g_sim) > kr.cycles);
            assert_int_equal(hn_sim_set_axi_stalls(g_sim, 0, 0), HN_OK);
        }
        hn_dma_params bench = hn_dma_params_bench();
        assert_int_equal(hn_sim_set_axi(g_sim, &bench), HN_OK);
        free(ref);
        free(axi);
        hn_hwjob_free(&job);
    }
    assert_true(waits > 0); /* some pixel tiles did wait for their activations */
    assert_true(pm1 > 0);   /* and some jobs had +-1 filters */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_axi_kernel),
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
