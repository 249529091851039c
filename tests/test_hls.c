/* Tests of the HLS kernel hls/hn_bsconv.c (csim backend): the packed layout
 * on hand-checked bits, then csim == C reference bit for bit on every
 * (b_w, b_a) pair, random mixed jobs, group sizes around the 64-bit word,
 * every ResNet-20 layer under random configurations; the number of
 * AND-popcount passes equals sum b_w*b_a*words over the valid taps; limits
 * give named errors.  The same source through OpenCL, and the RTL, against
 * the reference: tests/test_backend_ops.c. */
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
#include "hetnas/fileio.h"
#include "hetnas/hwjob.h"
#include "hetnas/hwref.h"
#include "hetnas/rng.h"
#include "hn_bsconv.h"


/* Passes the bit-serial kernel must run: for every filter, output pixel,
 * input group and tap inside the input, words * b_w * b_a. */
static int64_t expected_passes(const hn_hwjob *j) {
    int oh, ow;
    hn_hwjob_out_dims(j, &oh, &ow);
    int64_t taps_total = 0; /* valid (y, x, ky, kx) combinations */
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++)
            for (int ky = 0; ky < j->k; ky++)
                for (int kx = 0; kx < j->k; kx++) {
                    int iy = y * j->stride + ky - j->pad;
                    int ix = x * j->stride + kx - j->pad;
                    if (iy >= 0 && iy < j->in_h && ix >= 0 && ix < j->in_w)
                        taps_total++;
                }
    int64_t per_wbit = 0; /* sum over input groups of words * b_a */
    for (int g = 0; g < j->n_in_groups; g++)
        per_wbit += (int64_t)((j->in_groups[g].n + 63) / 64) * j->in_groups[g].bits;
    int64_t fbits = 0;
    for (int g = 0; g < j->n_out_groups; g++)
        fbits += (int64_t)j->out_groups[g].n * j->out_groups[g].bits;
    return taps_total * per_wbit * fbits;
}

/* Runs both backends and compares every accumulator. */
static void check_job(const hn_hwjob *j, const char *what) {
    int oh, ow;
    hn_hwjob_out_dims(j, &oh, &ow);
    size_t n = (size_t)j->c_out * oh * ow;
    int32_t *r = malloc(n * sizeof *r), *c = malloc(n * sizeof *c);
    assert_non_null(r);
    assert_non_null(c);
    memset(c, 0x5a, n * sizeof *c); /* catch unwritten outputs */
    assert_int_equal(hn_hwref_conv(j, r), HN_OK);
    int64_t passes = -1;
    hn_status s = hn_hwcsim_conv(j, c, &passes);
    if (s != HN_OK) fail_msg("%s: csim failed: %s", what, hn_error_msg());
    for (size_t i = 0; i < n; i++)
        if (r[i] != c[i])
            fail_msg("%s: acc[%zu]: ref %d csim %d (k %d stride %d pad %d "
                     "in %dx%d c_in %d c_out %d)", what, i, r[i], c[i], j->k,
                     j->stride, j->pad, j->in_h, j->in_w, j->c_in, j->c_out);
    assert_true(passes == expected_passes(j));
    free(r);
    free(c);
}

/* A hand-checked corner of the packed layout (docs/hls.md): channel 65 of
 * a 66-channel group sits in word 1, bit 1; weight -3 with 3 bits is 101. */
static void test_pack_layout(void **st) {
    (void)st;
    hn_hwjob j;
    memset(&j, 0, sizeof j);
    j.k = 1;
    j.stride = 1;
    j.in_h = 1;
    j.in_w = 2;
    j.n_in_groups = 1;
    j.in_groups[0] = (hn_hw_group){66, 2};
    j.n_out_groups = 2;
    j.out_groups[0] = (hn_hw_group){1, 3};
    j.out_groups[1] = (hn_hw_group){1, 1};
    assert_int_equal(hn_hwjob_alloc(&j), HN_OK);
    j.acts[65 * 2 + 1] = 2;  /* channel 65, x = 1: plane 1 only */
    j.acts[0] = 3;           /* channel 0, x = 0: planes 0 and 1 */
    j.weights[65] = -3;      /* filter 0 (3 bits), channel 65 */
    j.weights[66 + 0] = -1;  /* filter 1 (binary), channel 0: bit 0 */
    hn_hwpack p;
    assert_int_equal(hn_hwpack_build(&j, &p), HN_OK);
    assert_int_equal(p.desc[HN_BS_D_FWORDS], 2);
    assert_int_equal(p.desc[HN_BS_D_HDR + HN_BS_G_AUX], 2); /* words/pixel */
    /* apk: (plane, y, x, word): 2 planes * 2 pixels * 2 words. */
    assert_int_equal((int)p.n_apk, 8);
    const uint64_t want_a[8] = {1, 0, 0, 0, 1, 0, 0, 2};
    for (int i = 0; i < 8; i++) assert_true(p.apk[i] == want_a[i]);
    /* wpk: filter 0: 3 planes * 2 words, then filter 1: 1 plane * 2 words;
     * filter 0's other channels are 0 (000), filter 1's are +1 (bit 1). */
    assert_int_equal((int)p.n_wpk, 8);
    assert_true(p.wpk[1] == 2 && p.wpk[0] == 0);      /* plane 0: bit 65 */
    assert_true(p.wpk[2] == 0 && p.wpk[3] == 0);      /* plane 1 */
    assert_true(p.wpk[5] == 2 && p.wpk[4] == 0);      /* plane 2 (MSB) */
    assert_true(p.wpk[6] == ~(uint64_t)1);            /* all but channel 0 */
    assert_true(p.wpk[7] == 3);                       /* channels 64, 65 */
    hn_hwpack_free(&p);
    check_job(&j, "pack_layout");
    hn_hwjob_free(&j);
}

/* The adder-tree popcount synthesis uses equals the builtin. */
static void test_popcount(void **st) {
    (void)st;
    hn_rng r;
    hn_rng_seed(&r, 64, 9);
    assert_int_equal(hn_popcount64(0), 0);
    assert_int_equal(hn_popcount64(~(hn_word)0), 64);
    for (int i = 0; i < 10000; i++) {
        hn_word x = hn_rng_u64(&r);
        if (i % 3 == 0) x &= hn_rng_u64(&r); /* sparser words too */
        assert_int_equal(hn_popcount64(x), __builtin_popcountll(x));
    }
}

/* Every (b_w, b_a) pair, b_w 1..8 (1 = binary), b_a 1..8. */
static void test_all_op_pairs(void **st) {
    (void)st;
    hn_rng r;
    hn_rng_seed(&r, 7, 2);
    char what[64];
    for (int bw = 1; bw <= 8; bw++)
        for (int ba = 1; ba <= 8; ba++) {
            hn_hwjob j;
            memset(&j, 0, sizeof j);
            j.k = 3;
            j.stride = 1 + (bw + ba) % 2;
            j.pad = 1;
            j.in_h = 5 + (int)hn_rng_below(&r, 5);
            j.in_w = 5 + (int)hn_rng_below(&r, 5);
            j.n_in_groups = 1;
            j.in_groups[0] = (hn_hw_group){1 + (int)hn_rng_below(&r, 70), ba};
            j.n_out_groups = 1;
            j.out_groups[0] = (hn_hw_group){1 + (int)hn_rng_below(&r, 6), bw};
            assert_int_equal(hn_hwjob_alloc(&j), HN_OK);
            hn_hwjob_fill_random(&r, &j);
            snprintf(what, sizeof what, "op (%d,%d)", bw, ba);
            check_job(&j, what);
            hn_hwjob_free(&j);
        }
}

/* Mixed groups on both sides, k 1/3, stride 1/2, padding, odd sizes. */
static void test_random_mixed(void **st) {
    (void)st;
    hn_rng r;
    hn_rng_seed(&r, 2026, 3);
    char what[64];
    for (int t = 0; t < 200; t++) {
        hn_hwjob j;
        assert_int_equal(hn_hwjob_random(&r, 1, 8, 8, &j), HN_OK);
        snprintf(what, sizeof what, "random job %d", t);
        check_job(&j, what);
        hn_hwjob_free(&j);
    }
}

/* Group sizes around and across 64-bit word boundaries. */
static void test_word_boundaries(void **st) {
    (void)st;
    static const int sizes[] = {1, 63, 64, 65, 127, 129, 200};
    hn_rng r;
    hn_rng_seed(&r, 99, 4);
    char what[64];
    for (int t = 0; t < 24; t++) {
        hn_hwjob j;
        memset(&j, 0, sizeof j);
        j.k = t % 2 ? 3 : 1;
        j.stride = 1 + (t / 2) % 2;
        j.pad = j.k / 2;
        j.in_h = 3 + (int)hn_rng_below(&r, 6);
        j.in_w = 3 + (int)hn_rng_below(&r, 6);
        j.n_in_groups = 1 + (int)hn_rng_below(&r, 3);
        for (int g = 0; g < j.n_in_groups; g++)
            j.in_groups[g] = (hn_hw_group){sizes[hn_rng_below(&r, 7)],
                                           1 + (int)hn_rng_below(&r, 8)};
        j.n_out_groups = 1 + (int)hn_rng_below(&r, 3);
        for (int g = 0; g < j.n_out_groups; g++)
            j.out_groups[g] = (hn_hw_group){1 + (int)hn_rng_below(&r, 5),
                                            1 + (int)hn_rng_below(&r, 8)};
        assert_int_equal(hn_hwjob_alloc(&j), HN_OK);
        hn_hwjob_fill_random(&r, &j);
        snprintf(what, sizeof what, "word boundary job %d", t);
        check_job(&j, what);
        hn_hwjob_free(&j);
    }
}

/* Builds the job of layer l of a configuration: active input channels
 * (bits > 0) grouped into runs of equal bits, active filters grouped into
 * runs of equal weight bits, random values. */
static void layer_job(hn_rng *r, const hn_arch *a, const hn_config *c, int l,
                      hn_hwjob *j) {
    const hn_layer_desc *d = hn_arch_layer(a, l);
    int *bits = malloc(sizeof(int) * d->c_in);
    assert_int_equal(hn_config_input_bits(c, a, l, 8, bits), HN_OK);
    memset(j, 0, sizeof *j);
    j->k = d->k;
    j->stride = d->stride;
    j->pad = d->pad;
    j->in_h = d->in_h;
    j->in_w = d->in_w;
    for (int ch = 0; ch < d->c_in; ch++) {
        if (bits[ch] == 0) continue;
        int g = j->n_in_groups;
        if (g > 0 && j->in_groups[g - 1].bits == bits[ch]) {
            j->in_groups[g - 1].n++;
        } else {
            assert_true(g < HN_HW_MAX_GROUPS);
            j->in_groups[g] = (hn_hw_group){1, bits[ch]};
            j->n_in_groups++;
        }
    }
    for (int f = 0; f < d->c_out; f++) {
        int t = hn_config_filter_op(c, l, f);
        if (t < 0) continue;
        int wb = hn_config_op(c, t).wbits;
        int g = j->n_out_groups;
        if (g > 0 && j->out_groups[g - 1].bits == wb) {
            j->out_groups[g - 1].n++;
        } else {
            assert_true(g < HN_HW_MAX_GROUPS);
            j->out_groups[g] = (hn_hw_group){1, wb};
            j->n_out_groups++;
        }
    }
    free(bits);
    assert_int_equal(hn_hwjob_alloc(j), HN_OK);
    hn_hwjob_fill_random(r, j);
}

/* Every ResNet-20 layer under two random configurations: 4 random ops
 * (b_w 2..8, b_a 1..8), random counts; the second one also prunes. */
static void test_resnet20(void **st) {
    (void)st;
    hn_resnet_spec spec = hn_resnet_spec_default();
    hn_arch *a;
    assert_int_equal(hn_arch_resnet(&spec, &a), HN_OK);
    const int L = hn_arch_n_layers(a);
    assert_int_equal(L, 21);
    hn_rng r;
    hn_rng_seed(&r, 20, 5);
    char what[96];
    for (int cfg = 0; cfg < 2; cfg++) {
        hn_op ops[4];
        for (int t = 0; t < 4; t++)
            ops[t] = (hn_op){2 + (int)hn_rng_below(&r, 7),
                             1 + (int)hn_rng_below(&r, 8)};
        int *counts = calloc((size_t)L * 4, sizeof *counts);
        double p[4] = {1, 1, 1, 1};
        for (int l = 0; l < L; l++) {
            int C = hn_arch_layer(a, l)->c_out;
            int w = cfg == 0 ? C : C / 2 + (int)hn_rng_below(&r, (uint32_t)(C - C / 2 + 1));
            if (w < 1) w = 1;
            hn_rng_multinomial(&r, w, 4, p, counts + l * 4);
        }
        hn_config *c;
        if (hn_config_new(a, 4, ops, counts, &c) != HN_OK)
            fail_msg("config: %s", hn_error_msg());
        for (int l = 0; l < L; l++) {
            hn_hwjob j;
            layer_job(&r, a, c, l, &j);
            snprintf(what, sizeof what, "config %d layer %s", cfg,
                     hn_arch_layer(a, l)->name);
            check_job(&j, what);
            hn_hwjob_free(&j);
        }
        hn_config_free(c);
        free(counts);
    }
    hn_arch_free(a);
}

/* Jobs beyond the kernel: named errors, no run. */
static void test_limits(void **st) {
    (void)st;
    hn_rng r;
    hn_rng_seed(&r, 1, 6);
    hn_hwjob j;
    assert_int_equal(hn_hwjob_random(&r, 1, 8, 8, &j), HN_OK);
    int32_t *acc = malloc(sizeof(int32_t) * 100000);
    j.out_groups[0].bits = 9; /* values stay valid for 9 bits */
    assert_int_equal(hn_hwcsim_conv(&j, acc, NULL), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "out_groups[0].bits"));
    j.out_groups[0].bits = 8;
    j.in_groups[0].bits = 9;
    assert_int_equal(hn_hwcsim_conv(&j, acc, NULL), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "in_groups[0].bits"));
    hn_hwjob_free(&j);
    /* 3x3 over 4000 channels: 9 * 63 words per plane > 512. */
    memset(&j, 0, sizeof j);
    j.k = 3;
    j.stride = 1;
    j.in_h = j.in_w = 3;
    j.n_in_groups = 1;
    j.in_groups[0] = (hn_hw_group){4000, 1};
    j.n_out_groups = 1;
    j.out_groups[0] = (hn_hw_group){1, 2};
    assert_int_equal(hn_hwjob_alloc(&j), HN_OK);
    assert_int_equal(hn_hwcsim_conv(&j, acc, NULL), HN_ERR_UNSUPPORTED);
    assert_non_null(strstr(hn_error_msg(), "in_groups"));
    hn_hwjob_free(&j);
    /* k = 9 is a valid job but beyond the kernel. */
    memset(&j, 0, sizeof j);
    j.k = 9;
    j.stride = 1;
    j.in_h = j.in_w = 9;
    j.n_in_groups = 1;
    j.in_groups[0] = (hn_hw_group){2, 2};
    j.n_out_groups = 1;
    j.out_groups[0] = (hn_hw_group){1, 2};
    assert_int_equal(hn_hwjob_alloc(&j), HN_OK);
    assert_int_equal(hn_hwref_conv(&j, acc), HN_OK);
    assert_int_equal(hn_hwcsim_conv(&j, acc, NULL), HN_ERR_UNSUPPORTED);
    assert_non_null(strstr(hn_error_msg(), "k: 9"));
    hn_hwjob_free(&j);
    /* A corrupted descriptor is rejected by the kernel itself. */
    assert_int_equal(hn_hwjob_random(&r, 1, 8, 8, &j), HN_OK);
    hn_hwpack p;
    assert_int_equal(hn_hwpack_build(&j, &p), HN_OK);
    p.desc[HN_BS_D_FWORDS] += 1;
    hn_bsconv(p.desc, p.wpk, p.apk, acc);
    assert_int_equal(p.desc[HN_BS_D_STATUS], HN_BS_E_LIMIT);
    p.desc[HN_BS_D_MAGIC] = 0;
    hn_bsconv(p.desc, p.wpk, p.apk, acc);
    assert_int_equal(p.desc[HN_BS_D_STATUS], HN_BS_E_MAGIC);
    hn_hwpack_free(&p);
    hn_hwjob_free(&j);
    free(acc);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_popcount),
        cmocka_unit_test(test_pack_layout),
        cmocka_unit_test(test_all_op_pairs),
        cmocka_unit_test(test_random_mixed),
        cmocka_unit_test(test_word_boundaries),
        cmocka_unit_test(test_resnet20),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
