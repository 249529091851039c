/* The array mapping (plan) and the cycle model: hand-computed cases, error
 * cases, and (with Verilator) exact agreement with the RTL on random jobs
 * and on a job that needs two activation-buffer runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hetnas/arch.h"
#include "hetnas/config.h"
#include "hetnas/cycles.h"
#include "hetnas/hwimage.h"
#include "hetnas/hwjob.h"
#include "hetnas/hwref.h"
#include "hetnas/rng.h"
#ifdef HN_HAVE_VERILATOR
#include "hetnas/sim.h"
#endif

static hn_hwjob make_job(int k, int stride, int pad, int h, int w, int nin,
                         const hn_hw_group *in, int nout,
                         const hn_hw_group *out) {
    hn_hwjob job;
    memset(&job, 0, sizeof job);
    job.k = k;
    job.stride = stride;
    job.pad = pad;
    job.in_h = h;
    job.in_w = w;
    job.n_in_groups = nin;
    job.n_out_groups = nout;
    for (int g = 0; g < nin; g++) job.in_groups[g] = in[g];
    for (int g = 0; g < nout; g++) job.out_groups[g] = out[g];
    return job;
}

/* 3x3, 5x5 output; channels 3 @ 4 bits + 2 @ 1 bit; filters 5 @ 2 + 1 @ 8.
 * rows = 5*2 + 8 = 18 -> 5 row tiles; 25 pixels -> 2 pixel tiles;
 * MSB-aligned codes: step 0 carries the MSB of all 5 channels (45 lanes,
 * 3 words), steps 1..3 the 3 4-bit channels (27 lanes, 2 words): T = 9 per
 * step.  Packed steps: lanes 0..44, 45..71, 72..98, 99..125 (each step
 * begins in its own word) -> 8 words, segments of 2 words from words
 * 0, 2, 4, 6 with splits 0, 13, 8, 3; T = 8 < 9, so packed.  10 tiles of
 * max(8, Nd = 2) cycles: 8 + 9*8 + 2 + 6 = 88 cycles.  Binary MACs:
 * 18 * (5+3+3+3) * 9 * 25. */
static void test_hand_computed(void **state) {
    (void)state;
    hn_hw_group in[2] = {{3, 4}, {2, 1}}, out[2] = {{5, 2}, {1, 8}};
    hn_hwjob job = make_job(3, 1, 1, 5, 5, 2, in, 2, out);
    hn_array_params p = hn_array_params_default();
    static hn_array_plan pl;
    assert_int_equal(hn_array_plan_job(&job, &p, &pl), HN_OK);
    assert_int_equal(pl.rows, 18);
    assert_int_equal(pl.mt, 5);
    assert_int_equal(pl.pt, 2);
    assert_int_equal(pl.ba, 4);
    assert_int_equal(pl.packed, 1);
    assert_int_equal(pl.kw, 8);
    assert_int_equal(pl.a_words, 8);
    static const int start[4] = {0, 45, 72, 99}, split[4] = {0, 13, 8, 3};
    for (int s = 0; s < 4; s++) {
        assert_int_equal(pl.start[s], start[s]);
        assert_int_equal(pl.split[s], split[s]);
        assert_int_equal(pl.seg[s], 2 * s);
        assert_int_equal(pl.nc[s], 2);
    }
    assert_int_equal(pl.tile_words, 8);
    assert_int_equal(pl.runs, 1);
    /* channels sorted by bits, descending */
    assert_int_equal(pl.order[0], 0);
    assert_int_equal(pl.order[3], 3);
    hn_cycle_report cr;
    assert_int_equal(hn_cycles_job(&job, &p, &cr), HN_OK);
    assert_int_equal(cr.cycles, 88);
    assert_int_equal(cr.binary_macs, 18ull * 14 * 9 * 25);
    assert_true(cr.ideal_cycles > 55.37 && cr.ideal_cycles < 55.38);
    assert_true(cr.utilization > 0.6292 && cr.utilization < 0.6293);

    /* Drain-bound: 1x1, one 1-bit plane of one word per tile (T = 1 < Nd):
     * 4 row tiles of max(1, Nd = 2) cycles: 1 + 3*2 + 2 + 6 = 15. */
    hn_hw_group in2[1] = {{4, 1}}, out2[1] = {{8, 2}};
    hn_hwjob j2 = make_job(1, 1, 0, 4, 4, 1, in2, 1, out2);
    assert_int_equal(hn_cycles_job(&j2, &p, &cr), HN_OK);
    assert_int_equal(cr.cycles, 15);

    /* Input channel groups listed low-bits first are reordered. */
    hn_hw_group in3[3] = {{2, 1}, {3, 5}, {1, 5}};
    hn_hwjob j3 = make_job(1, 1, 0, 3, 3, 3, in3, 1, out2);
    assert_int_equal(hn_array_plan_job(&j3, &p, &pl), HN_OK);
    static const int order[6] = {2, 3, 4, 5, 0, 1};
    for (int i = 0; i < 6; i++) assert_int_equal(pl.order[i], order[i]);
    assert_int_equal(pl.n_ch[0], 6);
    assert_int_equal(pl.n_ch[1], 4);
    assert_int_equal(pl.n_ch[4], 4);
}

/* More bits never cost fewer cycles (same geometry). */
static void test_monotone(void **state) {
    (void)state;
    hn_array_params p = hn_array_params_default();
    uint64_t prev = 0;
    for (int b = 2; b <= 8; b++) {
        hn_hw_group in[1] = {{16, b}}, out[1] = {{16, b}};
        hn_hwjob job = make_job(3, 1, 1, 16, 16, 1, in, 1, out);
        hn_cycle_report cr;
        assert_int_equal(hn_cycles_job(&job, &p, &cr), HN_OK);
        assert_true(cr.cycles > prev);
        assert_true(cr.utilization > 0.99); /* 16 ch * 9 = 144 = 9 words */
        prev = cr.cycles;
    }
}

static void test_unsupported(void **state) {
    (void)state;
    hn_array_params p = hn_array_params_default();
    hn_array_plan *pl = malloc(sizeof *pl);
    assert_non_null(pl);
    hn_hw_group in[1] = {{4, 9}}, out[1] = {{4, 4}};
    hn_hwjob job = make_job(3, 1, 1, 4, 4, 1, in, 1, out);
    assert_int_equal(hn_array_plan_job(&job, &p, pl), HN_ERR_UNSUPPORTED);
    assert_non_null(strstr(hn_error_msg(), "in_groups[0].bits"));
    job.in_groups[0].bits = 4;
    job.out_groups[0].bits = 9;
    assert_int_equal(hn_array_plan_job(&job, &p, pl), HN_ERR_UNSUPPORTED);
    assert_non_null(strstr(hn_error_msg(), "out_groups[0].bits"));
    /* binary +-1 weights: one sign row per filter plus the shared
     * all-ones row; the drain then takes Dm cycles per tile.  4x4 output
     * (one pixel tile), 36 lanes per step, 4 steps packed into 9 words:
     * rows 4 + 1 -> 2 row tiles of max(9, Nd = 4): 9 + 9 + 4 + 6 = 28. */
    job.out_groups[0].bits = 1;
    assert_int_equal(hn_array_plan_job(&job, &p, pl), HN_OK);
    assert_int_equal(pl->rows, 5);
    assert_int_equal(pl->pm1, 1);
    assert_int_equal(pl->mt, 2);
    assert_int_equal(pl->tile_words, 9);
    assert_int_equal(hn_array_nd(pl, &p), p.dm);
    assert_int_equal(hn_cycles_run(pl, &p, 1), 28);
    job.out_groups[0].bits = 2; /* 8 rows, two per drain cycle */
    assert_int_equal(hn_array_plan_job(&job, &p, pl), HN_OK);
    assert_int_equal(pl->pm1, 0);
    assert_int_equal(hn_array_nd(pl, &p), (p.dm + 1) / 2);
    assert_int_equal(hn_cycles_run(pl, &p, 1), 26);
    job.out_groups[0] = (hn_hw_group){200, 4};
    assert_int_equal(hn_array_plan_job(&job, &p, pl), HN_ERR_UNSUPPORTED);
    assert_non_null(strstr(hn_error_msg(), "filters"));
    /* partial sums beyond the DPU accumulator */
    job.out_groups[0] = (hn_hw_group){4, 4};
    job.in_groups[0] = (hn_hw_group){1000, 8};
    assert_int_equal(hn_array_plan_job(&job, &p, pl), HN_ERR_UNSUPPORTED);
    assert_non_null(strstr(hn_error_msg(), "accumulator"));
    free(pl);
}

/* The memory image of a tiny job, by hand.  1x1, channels ch0 @ 1 bit
 * (value 1) and ch1 @ 2 bits (value 2), one 2-bit filter w = (1, -1).
 * Sorted reduction order: ch1, ch0.  Rows: plane 1 (MSB) then plane 0.
 *  weights: row 0 (plane 1): ch1 = -1 = 0b11 -> 1, ch0 = 0b01 -> 0: bit 0;
 *           row 1 (plane 0): both 1: bits 16, 17          -> 0x00030001
 *  descriptors (10 bits/row, {valid, first, last, filt}):
 *           row 0 valid+first = 0x300, row 1 valid+last = 0x280 << 10
 *  acts (MSB-aligned codes, B = 2): step 0 = the MSBs: ch1 = 2 -> bit 1 = 1
 *        (lane 0), ch0 = 1 -> bit 0 = 1 (lane 1) -> 0x3; step 1: ch1 bit 0
 *        = 0, ch0 has no second bit -> 0.  acc = -1*2 + 1*(1 << 1) = 0. */
static void test_pack(void **state) {
    (void)state;
    hn_hw_group in[2] = {{1, 1}, {1, 2}}, out[1] = {{1, 2}};
    hn_hwjob job = make_job(1, 1, 0, 1, 1, 2, in, 1, out);
    assert_int_equal(hn_hwjob_alloc(&job), HN_OK);
    job.weights[0] = 1;
    job.weights[1] = -1;
    job.acts[0] = 1;
    job.acts[1] = 2;
    hn_array_params p = hn_array_params_default();
    static hn_array_plan pl;
    assert_int_equal(hn_array_plan_job(&job, &p, &pl), HN_OK);
    assert_int_equal(pl.nc[0], 1);
    assert_int_equal(pl.nc[1], 1);
    hn_array_image img;
    memset(&img, 0, sizeof img);
    assert_int_equal(hn_array_pack_weights(&job, &p, &pl, &img), HN_OK);
    assert_int_equal(img.n_w, 1);
    assert_int_equal(img.w_wpw, 2);
    assert_int_equal(img.w[0], 0x00030001u);
    assert_int_equal(img.w[1], 0u);
    assert_int_equal(img.n_m, 1);
    assert_int_equal(img.m[0], 0x300u | (0x280u << 10));
    assert_int_equal(hn_array_pack_acts(&job, &p, &pl, 0, 1, &img), HN_OK);
    assert_int_equal(img.n_a, 2);
    assert_int_equal(img.a_wpw, 8);
    assert_int_equal(img.a[0], 3u);
    assert_int_equal(img.a[8], 0u);
    for (int i = 1; i < 8; i++) {
        assert_int_equal(img.a[i], 0u);
        assert_int_equal(img.a[8 + i], 0u);
    }
    hn_array_image_free(&img);
    hn_hwjob_free(&job);
}

/* The image of a job with +-1 filters, by hand: 1x1, ch0 @ 1 bit (value 1)
 * and ch1 @ 2 bits (value 3); filters: f0 +-1 with
 * w = (+1, -1), f1 2-bit w = (1, -1).  Sorted order ch1, ch0.  Rows:
 *  row 0 the all-ones row: both lanes -> bits 0, 1;   {0,1,0,0}   = 0x100
 *  row 1 f0's sign row (1 where w = -1): ch1 -> bit 0 (16); {1,1,1,0} = 0x380
 *  row 2 f1 plane 1: ch1 -> bit 0 (32);        {1,1,0,1} = 0x301
 *  row 3 f1 plane 0: both -> bits 0, 1 (48, 49); {1,0,1,1} = 0x281
 * On the array (MSB-aligned codes, B = 2: ch0 counts 1 << 1 = 2): ones =
 * 3 + 2 = 5, f0's sign row sums 3, so f0 = 5 - 2*3 = -1 = (+1)*2 + (-1)*3. */
static void test_pack_pm1(void **state) {
    (void)state;
    hn_hw_group in[2] = {{1, 1}, {1, 2}}, out[2] = {{1, 1}, {1, 2}};
    hn_hwjob job = make_job(1, 1, 0, 1, 1, 2, in, 2, out);
    assert_int_equal(hn_hwjob_alloc(&job), HN_OK);
    job.weights[0] = 1;  /* f0: ch0 */
    job.weights[1] = -1; /* f0: ch1 */
    job.weights[2] = 1;
    job.weights[3] = -1;
    job.acts[0] = 1;
    job.acts[1] = 3;
    hn_array_params p = hn_array_params_default();
    static hn_array_plan pl;
    assert_int_equal(hn_array_plan_job(&job, &p, &pl), HN_OK);
    assert_int_equal(pl.pm1, 1);
    assert_int_equal(pl.rows, 4);
    assert_int_equal(pl.mt, 1);
    hn_array_image img;
    memset(&img, 0, sizeof img);
    assert_int_equal(hn_array_pack_weights(&job, &p, &pl, &img), HN_OK);
    assert_int_equal(img.w_wpw, 2);
    assert_int_equal(img.w[0], 0x00010003u);
    assert_int_equal(img.w[1], 0x00030001u);
    assert_int_equal(img.m_wpw, 2);
    /* row 3 straddles the two words: bit 30 and 0x281 >> 2 */
    assert_int_equal(img.m[0], 0x100u | (0x380u << 10) | (0x301u << 20) | (1u << 30));
    assert_int_equal(img.m[1], 0x281u >> 2);
    int32_t acc[2];
    assert_int_equal(hn_hwref_conv(&job, acc), HN_OK);
    assert_int_equal(acc[0], -1);
    assert_int_equal(acc[1], -1);
    hn_array_image_free(&img);
    hn_hwjob_free(&job);
}

/* ResNet-20 layers as jobs (hn_array_layer_job), homogeneous (3,3), cycles
 * by hand:
 *  stem: 3 ch @ 8 bits (input), K = 27 -> 2 words x 8 steps = 16, packed
 *        steps: 8 x 27 = 216 lanes in T = 14 words;
 *        rows 16*3 = 48 -> 12 row tiles; 1024 px -> 64 pixel tiles;
 *        14 + 767*14 + Nd + 6 = 10760  (Nd = ceil(Dm/2) = 2 drain cycles)
 *  s1.b0.conv1: 16 ch @ 3 bits, K = 144 = 9 words x 3 planes: T = 27;
 *        12 x 64 tiles: 27 + 767*27 + 8 = 20744
 *  s2.b0.down: 1x1 stride 2, 16 ch @ 3 bits: T = 3 >= Nd (was drain-bound
 *        with a one-row-per-cycle drain, T < Dm = 4);
 *        rows 32*3 = 96 -> 24 row tiles; 256 px -> 16: 3 + 383*3 + 8 = 1160 */
static void test_resnet_layers(void **state) {
    (void)state;
    hn_resnet_spec spec = hn_resnet_spec_default();
    hn_arch *a = NULL;
    hn_config *c = NULL;
    assert_int_equal(hn_arch_resnet(&spec, &a), HN_OK);
    assert_int_equal(hn_config_homogeneous(a, (hn_op){3, 3}, &c), HN_OK);
    hn_array_params p = hn_array_params_default();
    static const struct {
        const char *name;
        uint64_t cycles;
    } want[] = {{"stem", 10760}, {"s1.b0.conv1", 20744}, {"s2.b0.down", 1160}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int l = hn_arch_find(a, want[i].name);
        assert_true(l >= 0);
        hn_hwjob job;
        assert_int_equal(hn_array_layer_job(a, c, l, 8, &job), HN_OK);
        hn_cycle_report cr;
        assert_int_equal(hn_cycles_job(&job, &p, &cr), HN_OK);
        if (cr.cycles != want[i].cycles)
            fail_msg("%s: %llu cycles, want %llu", want[i].name,
                     (unsigned long long)cr.cycles,
                     (unsigned long long)want[i].cycles);
    }
    /* full-precision ops cannot run on the array */
    hn_config_free(c);
    assert_int_equal(hn_config_homogeneous(a, (hn_op){HN_BITS_FP, HN_BITS_FP}, &c),
                     HN_OK);
    hn_hwjob job;
    assert_int_equal(hn_array_layer_job(a, c, 1, 8, &job), HN_ERR_UNSUPPORTED);
    hn_config_free(c);
    hn_arch_free(a);
}

#ifdef HN_HAVE_VERILATOR
static void run_and_compare(hn_sim *s, const hn_hwjob *job) {
    int oh, ow;
    hn_hwjob_out_dims(job, &oh, &ow);
    size_t n = (size_t)job->c_out * oh * ow;
    int32_t *acc = malloc(n * sizeof *acc), *ref = malloc(n * sizeof *ref);
    assert_non_null(acc);
    assert_non_null(ref);
    uint64_t cyc = 0;
    assert_int_equal(hn_sim_run(s, job, acc, &cyc), HN_OK);
    assert_int_equal(hn_hwref_conv(job, ref), HN_OK);
    assert_memory_equal(acc, ref, n * sizeof *acc);
    hn_cycle_report cr;
    assert_int_equal(hn_cycles_job(job, hn_sim_params(s), &cr), HN_OK);
    assert_int_equal(cr.cycles, cyc);
    free(acc);
    free(ref);
}

static void test_model_vs_rtl(void **state) {
    (void)state;
    hn_sim *s = NULL;
    hn_sim_opts o = hn_sim_opts_default();
    assert_int_equal(hn_sim_open(&o, &s), HN_OK);
    hn_rng r;
    hn_rng_seed(&r, 99, 3);
    int packed = 0;
    for (int t = 0; t < 100; t++) {
        hn_hwjob job;
        assert_int_equal(hn_hwjob_random(&r, 1, 8, 8, &job), HN_OK);
        static hn_array_plan jp;
        assert_int_equal(hn_array_plan_job(&job, hn_sim_params(s), &jp), HN_OK);
        packed += jp.packed;
        run_and_compare(s, &job);
        hn_hwjob_free(&job);
    }
    /* both schedules are exercised */
    assert_true(packed >= 20 && packed <= 90);
    /* 64 channels @ 8 bits at 32x32: 288 words per pixel tile, so the 16K
     * activation buffer holds 56 of the 64 tiles: two runs. */
    hn_hw_group in[1] = {{64, 8}}, out[1] = {{4, 2}};
    hn_hwjob job = make_job(3, 1, 1, 32, 32, 1, in, 1, out);
    static hn_array_plan pl;
    const hn_array_params *sp = hn_sim_params(s);
    hn_array_params d = hn_array_params_default();
    assert_int_equal(hn_array_plan_job(&job, sp, &pl), HN_OK);
    if (sp->dm == d.dm && sp->dn == d.dn && sp->dk == d.dk) {
        assert_int_equal(pl.runs, 2);
        assert_int_equal(pl.pt_per_run, 56);
        hn_cycle_report cr;
        assert_int_equal(hn_cycles_job(&job, sp, &cr), HN_OK);
        assert_int_equal(cr.cycles, 288ull * 112 + 8 + 288ull * 16 + 8);
    }
    assert_int_equal(hn_hwjob_alloc(&job), HN_OK);
    hn_hwjob_fill_random(&r, &job);
    run_and_compare(s, &job);
    hn_hwjob_free(&job);
    hn_sim_close(s);
}
#endif

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computed),
        cmocka_unit_test(test_monotone),
        cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_resnet_layers),
        cmocka_unit_test(test_pack),
        cmocka_unit_test(test_pack_pm1),
#ifdef HN_HAVE_VERILATOR
        cmocka_unit_test(test_model_vs_rtl),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
