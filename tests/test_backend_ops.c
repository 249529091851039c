/* Every integer backend of this build (backend.h registry: csim, opencl,
 * verilator, ...) against the ref oracle, bit for bit, in the spirit of
 * ggml's test-backend-ops: random conv jobs over every op mix (b_w 1..8,
 * 1 = +-1; b_a 1..8; k 1/3, stride 1/2, padding, odd sizes, groups not
 * aligned to the array), all-extreme values, every ResNet-20 layer under a
 * random heterogeneous configuration, and whole integer networks (logits).
 * A backend with a clock must also measure what the cycle model predicts.
 * Networks also run in chunks of images (batched backends: one call per
 * layer and chunk).  A backend the build has and that cannot open FAILS
 * (never a skip). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hetnas/arch.h"
#include "hetnas/backend.h"
#include "hetnas/config.h"
#include "hetnas/cycles.h"
#include "hetnas/hwjob.h"
#include "hetnas/hwref.h"
#include "hetnas/intnet.h"
#include "hetnas/nn.h"
#include "hetnas/rng.h"

/* The job backends under test (every one but ref), opened once. */
static hn_backend *g_be[16];
static int g_nb;

static int setup(void **state) {
    (void)state;
    for (int i = 0; i < hn_backend_count(); i++) {
        const hn_backend_ops *o = hn_backend_at(i);
        if (!o->runs_jobs || !strcmp(o->name, "ref")) continue;
        if (o->needs_device) { /* its error paths: tests/e2e_xrt.sh */
            printf("backend %s: needs a card, not compared here\n", o->name);
            continue;
        }
        if (hn_backend_open(o->name, NULL, &g_be[g_nb]) != HN_OK) {
            fprintf(stderr, "backend %s is in the build but does not open: %s\n",
                    o->name, hn_error_msg());
            return -1;
        }
        printf("backend %s\n", o->name);
        g_nb++;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    for (int i = 0; i < g_nb; i++) hn_backend_close(g_be[i]);
    return 0;
}

/* The registry knows the built-in backends, refuses unknown names with the
 * list, and names the build option of a known backend the build lacks. */
static void test_registry(void **st) {
    (void)st;
    assert_non_null(hn_backend_find("cpu"));
    assert_non_null(hn_backend_find("ref"));
    assert_non_null(hn_backend_find("csim"));
#ifdef HN_HAVE_OPENCL
    assert_non_null(hn_backend_find("opencl"));
#endif
#ifdef HN_HAVE_VERILATOR
    assert_non_null(hn_backend_find("verilator"));
    assert_true(hn_backend_find("verilator")->has_cycles);
#endif
    hn_backend *b = NULL;
    assert_int_equal(hn_backend_open("nope", NULL, &b), HN_ERR_INVAL);
    assert_null(b);
    assert_non_null(strstr(hn_error_msg(), "csim"));
#ifndef HN_HAVE_XRT
    assert_int_equal(hn_backend_open("xrt", NULL, &b), HN_ERR_UNSUPPORTED);
    assert_non_null(strstr(hn_error_msg(), "not in this build"));
#endif
    /* cpu runs float networks, not jobs */
    assert_int_equal(hn_backend_open("cpu", NULL, &b), HN_OK);
    hn_hwjob j;
    hn_rng r;
    hn_rng_seed(&r, 1, 1);
    assert_int_equal(hn_hwjob_random(&r, 1, 8, 8, &j), HN_OK);
    int32_t acc[1];
    assert_int_equal(hn_backend_run_job(b, &j, acc, NULL), HN_ERR_UNSUPPORTED);
    hn_backend_close(b);
    hn_hwjob_free(&j);
}

/* job on every backend == ref; measured cycles == the model's. */
static void check_job(const hn_hwjob *job, const char *what) {
    int oh, ow;
    hn_hwjob_out_dims(job, &oh, &ow);
    size_t n = (size_t)job->c_out * oh * ow;
    int32_t *ref = malloc(n * sizeof *ref), *got = malloc(n * sizeof *got);
    assert_non_null(ref);
    assert_non_null(got);
    assert_int_equal(hn_hwref_conv(job, ref), HN_OK);
    for (int b = 0; b < g_nb; b++) {
        const char *name = hn_backend_name(g_be[b]);
        for (size_t i = 0; i < n; i++) got[i] = (int32_t)0x5a5a5a5a;
        uint64_t cycles = 0;
        if (hn_backend_run_job(g_be[b], job, got, &cycles) != HN_OK)
            fail_msg("%s on %s: %s", what, name, hn_error_msg());
        size_t bad = 0;
        for (size_t i = 0; i < n; i++)
            if (ref[i] != got[i]) {
                if (bad < 5)
                    print_error("%s on %s: acc[%zu] %d, ref %d\n", what, name, i,
                                got[i], ref[i]);
                bad++;
            }
        if (bad) fail_msg("%s on %s: %zu of %zu accumulators differ", what, name, bad, n);
        const hn_array_params *ap = hn_backend_array(g_be[b]);
        if (hn_backend_ops_of(g_be[b])->has_cycles && ap) {
            hn_cycle_report cr;
            assert_int_equal(hn_cycles_job(job, ap, &cr), HN_OK);
            if (cr.cycles != cycles)
                fail_msg("%s on %s: model %llu cycles, measured %llu", what, name,
                         (unsigned long long)cr.cycles, (unsigned long long)cycles);
        }
    }
    free(ref);
    free(got);
}

static void test_random_jobs(void **st) {
    (void)st;
    hn_rng r;
    hn_rng_seed(&r, 20261127, 4);
    int pm1 = 0, mixed = 0;
    for (int t = 0; t < 60; t++) {
        hn_hwjob job;
        /* any job may have binary +-1 filter groups (on the RTL: the
         * shared all-ones row and the one-row drain) */
        assert_int_equal(hn_hwjob_random(&r, 1, 8, 8, &job), HN_OK);
        int has1 = 0;
        for (int g = 0; g < job.n_out_groups; g++) has1 |= job.out_groups[g].bits == 1;
        pm1 += has1;
        mixed += has1 && job.n_out_groups > 1;
        char what[64];
        snprintf(what, sizeof what, "random job %d", t);
        check_job(&job, what);
        hn_hwjob_free(&job);
    }
    /* the stream covers +-1 filters alone and beside multi-bit ones */
    assert_true(pm1 > mixed);
    assert_true(mixed > 0);
}

/* Edge cases the random generator rarely hits: all-extreme values, one
 * channel, one filter, 8-bit everything, 1-bit activations, +-1 weights. */
static void test_extremes(void **st) {
    (void)st;
    static const int cases[][6] = {
        /* k, stride, pad, bits_a (first group), filters, bits_w */
        {3, 1, 1, 1, 1, 2}, {3, 2, 1, 8, 1, 8}, {1, 1, 0, 1, 1, 2},
        {3, 1, 0, 8, 8, 8}, {1, 2, 0, 1, 1, 3}, {3, 1, 1, 8, 4, 1},
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
            int32_t lo, hi;
            hn_hwjob_wrange(job.out_groups[g].bits, &lo, &hi);
            for (size_t i = 0; i < job.out_groups[g].n * per_f; i++, idx++)
                job.weights[idx] = (hn_rng_u32(&r) & 1) ? hi : lo;
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

/* Every ResNet-20 (3x32x32) layer under one random heterogeneous
 * configuration with +-1 filters. */
static void test_resnet20_layers(void **st) {
    (void)st;
    hn_resnet_spec spec = hn_resnet_spec_default();
    hn_arch *a = NULL;
    assert_int_equal(hn_arch_resnet(&spec, &a), HN_OK);
    const int nl = hn_arch_n_layers(a);
    static const hn_op ops[4] = {{1, 2}, {2, 4}, {3, 3}, {8, 8}};
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
            if (job.n_in_groups && job.in_groups[job.n_in_groups - 1].bits == bits[c])
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

/* Whole integer networks: a ResNet-8 (1x12x12, half width) with mixed ops
 * (+-1 weights included), pruning, a down conv and identity shortcuts,
 * clamps calibrated on data; every backend's logits == ref's. */
static void test_networks(void **st) {
    (void)st;
    const int hw = 12, N = 6;
    hn_resnet_spec sp = hn_resnet_spec_default();
    sp.depth = 8;
    sp.in_c = 1; sp.in_h = hw; sp.in_w = hw;
    sp.width = 0.5;
    sp.num_classes = 10;
    hn_arch *a = NULL;
    assert_int_equal(hn_arch_resnet(&sp, &a), HN_OK);
    const int L = hn_arch_n_layers(a);
    hn_op ops[4] = {{2, 2}, {4, 4}, {3, 3}, {1, 2}};
    int *counts = calloc((size_t)4 * L, sizeof(int));
    for (int l = 0; l < L; l++) {
        int co = hn_arch_layer(a, l)->c_out, keep = co - (l % 2);
        counts[4 * l] = keep / 4;
        counts[4 * l + 1] = keep / 4;
        counts[4 * l + 2] = keep / 4;
        counts[4 * l + 3] = keep - 3 * (keep / 4);
    }
    hn_config *c = NULL;
    assert_int_equal(hn_config_new(a, 4, ops, counts, &c), HN_OK);
    hn_model_opts mo = hn_model_opts_default();
    mo.conv = HN_CONV_REF;
    hn_model *m = NULL;
    assert_int_equal(hn_model_new(a, c, &mo, &m), HN_OK);
    const float mean[1] = {0.25f}, sd[1] = {0.35f};
    hn_model_set_input_norm(m, mean, sd);
    hn_rng r;
    hn_rng_seed(&r, 3, 3);
    uint8_t *q = malloc((size_t)32 * hw * hw);
    float *x = malloc(sizeof(float) * 32 * hw * hw);
    for (int i = 0; i < 32 * hw * hw; i++) {
        q[i] = (uint8_t)hn_rng_below(&r, 256);
        x[i] = ((float)q[i] / 255.0f - mean[0]) / sd[0];
    }
    assert_int_equal(hn_model_calibrate_clamps(m, x, 32), HN_OK);
    hn_intnet *ref = NULL;
    assert_int_equal(hn_intnet_new(m, NULL, &ref), HN_OK);
    float zr[6 * 10], zb[6 * 10];
    assert_int_equal(hn_intnet_forward(ref, q, N, zr), HN_OK);
    /* chunks of 4 images (4 + 2) through the image-by-image path */
    hn_intnet_opts o4 = hn_intnet_opts_default();
    o4.batch = 4;
    hn_intnet *r4 = NULL;
    assert_int_equal(hn_intnet_new(m, &o4, &r4), HN_OK);
    assert_int_equal(hn_intnet_forward(r4, q, N, zb), HN_OK);
    assert_memory_equal(zr, zb, sizeof zr);
    hn_intnet_free(r4);
    for (int b = 0; b < g_nb; b++)
        for (int chunk = 0; chunk < 2; chunk++) {
            /* the backend's own batching, then chunks of 4 */
            hn_intnet_opts o = hn_intnet_opts_default();
            hn_backend_intnet_opts(g_be[b], &o);
            if (chunk) o.batch = 4;
            hn_intnet *net = NULL;
            assert_int_equal(hn_intnet_new(m, &o, &net), HN_OK);
            if (hn_intnet_forward(net, q, N, zb) != HN_OK)
                fail_msg("network on %s: %s", hn_backend_name(g_be[b]), hn_error_msg());
            if (memcmp(zr, zb, sizeof zr))
                fail_msg("network on %s (batch %d): logits differ from ref's",
                         hn_backend_name(g_be[b]), o.batch);
            hn_intnet_free(net);
        }
    hn_intnet_free(ref);
    free(q); free(x); free(counts);
    hn_model_free(m);
    hn_config_free(c);
    hn_arch_free(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_extremes),
        cmocka_unit_test(test_random_jobs),
        cmocka_unit_test(test_resnet20_layers),
        cmocka_unit_test(test_networks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
