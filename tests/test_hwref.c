/* Tests of the C reference of the bit-serial hardware (hn_hwref_conv,
 * hn_hwref_requant, hn_hwrq_from_real): hand-computed cases and
 * properties (linearity, identity kernel, overflow detection). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hetnas/hwjob.h"
#include "hetnas/hwref.h"
#include "hetnas/rng.h"

static void one_group_job(hn_hwjob *j, int k, int stride, int pad, int h,
                          int w, int ci, int abits, int co, int wbits) {
    memset(j, 0, sizeof *j);
    j->k = k;
    j->stride = stride;
    j->pad = pad;
    j->in_h = h;
    j->in_w = w;
    j->n_in_groups = 1;
    j->in_groups[0].n = ci;
    j->in_groups[0].bits = abits;
    j->n_out_groups = 1;
    j->out_groups[0].n = co;
    j->out_groups[0].bits = wbits;
    assert_int_equal(hn_hwjob_alloc(j), HN_OK);
}

/* 3x3 Sobel-like kernel over 1..9 with zero padding; expected values
 * computed by hand (row 0: -9 -6 9, row 1: -20 -8 20, row 2: -21 -6 21). */
static void test_hand_3x3(void **st) {
    (void)st;
    hn_hwjob j;
    one_group_job(&j, 3, 1, 1, 3, 3, 1, 4, 1, 3);
    const int32_t a[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const int32_t w[9] = {1, 0, -1, 2, 0, -2, 1, 0, -1};
    memcpy(j.acts, a, sizeof a);
    memcpy(j.weights, w, sizeof w);
    int oh, ow;
    hn_hwjob_out_dims(&j, &oh, &ow);
    assert_int_equal(oh, 3);
    assert_int_equal(ow, 3);
    int32_t acc[9];
    assert_int_equal(hn_hwref_conv(&j, acc), HN_OK);
    const int32_t want[9] = {-9, -6, 9, -20, -8, 20, -21, -6, 21};
    for (int i = 0; i < 9; i++) assert_int_equal(acc[i], want[i]);
    /* Stride 2, no padding on a 5x5 input: out 2x2. */
    hn_hwjob_free(&j);
    one_group_job(&j, 3, 2, 0, 5, 5, 1, 5, 1, 3);
    for (int i = 0; i < 25; i++) j.acts[i] = i; /* a[y][x] = 5y + x */
    memcpy(j.weights, w, sizeof w);
    hn_hwjob_out_dims(&j, &oh, &ow);
    assert_int_equal(oh, 2);
    assert_int_equal(ow, 2);
    assert_int_equal(hn_hwref_conv(&j, acc), HN_OK);
    /* Kernel = (col0 - col2) weighted 1,2,1 over rows: each window gives
     * (x - (x+2)) * (1+2+1) = -8 whatever the position. */
    for (int i = 0; i < 4; i++) assert_int_equal(acc[i], -8);
    hn_hwjob_free(&j);
}

/* Two channel groups and two filter groups, k=1:
 * acc = sum_c w[f][c] * (a[c] << (8 - b_c)). */
static void test_groups_1x1(void **st) {
    (void)st;
    hn_hwjob j;
    memset(&j, 0, sizeof j);
    j.k = 1;
    j.stride = 1;
    j.in_h = 1;
    j.in_w = 2;
    j.n_in_groups = 2;
    j.in_groups[0] = (hn_hw_group){1, 1}; /* channel 0: 1 bit */
    j.in_groups[1] = (hn_hw_group){2, 8}; /* channels 1, 2: 8 bits */
    j.n_out_groups = 2;
    j.out_groups[0] = (hn_hw_group){1, 1}; /* filter 0: binary */
    j.out_groups[1] = (hn_hw_group){1, 8}; /* filter 1: 8 bits */
    assert_int_equal(hn_hwjob_alloc(&j), HN_OK);
    assert_int_equal(j.c_in, 3);
    assert_int_equal(j.c_out, 2);
    const int32_t a[6] = {1, 0, 200, 255, 7, 3}; /* (c, x) */
    const int32_t w[6] = {-1, 1, -1, 127, -127, 5};
    memcpy(j.acts, a, sizeof a);
    memcpy(j.weights, w, sizeof w);
    int32_t acc[4];
    assert_int_equal(hn_hwref_conv(&j, acc), HN_OK);
    /* MSB-aligned codes: the 1-bit channel 0 counts a << 7 beside the
     * 8-bit channels. */
    assert_int_equal(acc[0], -1 * 128 + 1 * 200 - 1 * 7);    /* 65 */
    assert_int_equal(acc[1], -1 * 0 + 1 * 255 - 1 * 3);      /* 252 */
    assert_int_equal(acc[2], 127 * 128 - 127 * 200 + 5 * 7); /* -9109 */
    assert_int_equal(acc[3], 127 * 0 - 127 * 255 + 5 * 3);   /* -32370 */
    hn_hwjob_free(&j);
}

/* Identity kernel (centre 1) with pad 1 returns the input; linearity in the
 * activations on random jobs. */
static void test_properties(void **st) {
    (void)st;
    hn_rng r;
    hn_rng_seed(&r, 42, 1);
    hn_hwjob j;
    one_group_job(&j, 3, 1, 1, 7, 5, 3, 6, 3, 2);
    hn_hwjob_fill_random(&r, &j);
    memset(j.weights, 0, sizeof(int32_t) * 3 * 3 * 9);
    for (int f = 0; f < 3; f++) j.weights[(f * 3 + f) * 9 + 4] = 1;
    int32_t acc[3 * 35];
    assert_int_equal(hn_hwref_conv(&j, acc), HN_OK);
    for (int i = 0; i < 3 * 35; i++) assert_int_equal(acc[i], j.acts[i]);
    hn_hwjob_free(&j);

    for (int t = 0; t < 20; t++) {
        assert_int_equal(hn_hwjob_random(&r, 1, 8, 7, &j), HN_OK);
        int oh, ow;
        hn_hwjob_out_dims(&j, &oh, &ow);
        size_t no = (size_t)j.c_out * oh * ow, na = (size_t)j.c_in * j.in_h * j.in_w;
        int32_t *a1 = malloc(na * 4), *a2 = malloc(na * 4);
        int32_t *o1 = malloc(no * 4), *o2 = malloc(no * 4), *o3 = malloc(no * 4);
        memcpy(a1, j.acts, na * 4);
        /* 7-bit acts: a1 + a2 with both halved stays in range. */
        for (size_t i = 0; i < na; i++) {
            a1[i] = j.acts[i] / 2;
            a2[i] = j.acts[i] - a1[i];
        }
        memcpy(j.acts, a1, na * 4);
        assert_int_equal(hn_hwref_conv(&j, o1), HN_OK);
        memcpy(j.acts, a2, na * 4);
        assert_int_equal(hn_hwref_conv(&j, o2), HN_OK);
        for (size_t i = 0; i < na; i++) j.acts[i] = a1[i] + a2[i];
        assert_int_equal(hn_hwref_conv(&j, o3), HN_OK);
        for (size_t i = 0; i < no; i++) assert_int_equal(o3[i], o1[i] + o2[i]);
        free(a1);
        free(a2);
        free(o1);
        free(o2);
        free(o3);
        hn_hwjob_free(&j);
    }
}

/* 32767 * 65535 fits int32, two of them do not. */
static void test_overflow(void **st) {
    (void)st;
    hn_hwjob j;
    one_group_job(&j, 1, 1, 0, 1, 1, 2, 16, 1, 16);
    j.weights[0] = 32767;
    j.weights[1] = 0;
    j.acts[0] = 65535;
    j.acts[1] = 65535;
    int32_t acc[1];
    assert_int_equal(hn_hwref_conv(&j, acc), HN_OK);
    assert_int_equal(acc[0], 32767 * 65535);
    j.weights[1] = 1;
    assert_int_equal(hn_hwref_conv(&j, acc), HN_OK);
    assert_int_equal(acc[0], 2147450880); /* + 65535 */
    j.weights[1] = 32767;
    assert_int_equal(hn_hwref_conv(&j, acc), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "outside int32"));
    j.weights[0] = j.weights[1] = -32767;
    assert_int_equal(hn_hwref_conv(&j, acc), HN_ERR_RANGE);
    hn_hwjob_free(&j);
}

static void test_validate(void **st) {
    (void)st;
    hn_hwjob j;
    one_group_job(&j, 3, 1, 1, 4, 4, 2, 3, 2, 4);
    assert_int_equal(hn_hwjob_validate(&j, 16, 16), HN_OK);
    j.weights[5] = 8; /* 4 bits: [-7, 7] */
    assert_int_equal(hn_hwjob_validate(&j, 16, 16), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "weights[5]"));
    j.weights[5] = -8; /* -8 is two's complement but not symmetric */
    assert_int_equal(hn_hwjob_validate(&j, 16, 16), HN_ERR_RANGE);
    j.weights[5] = -7;
    j.acts[31] = 8; /* 3 bits: [0, 7] */
    assert_int_equal(hn_hwjob_validate(&j, 16, 16), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "acts[31]"));
    j.acts[31] = 7;
    assert_int_equal(hn_hwjob_validate(&j, 16, 16), HN_OK);
    assert_int_equal(hn_hwjob_validate(&j, 3, 16), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "out_groups[0].bits"));
    assert_int_equal(hn_hwjob_validate(&j, 16, 2), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "in_groups[0].bits"));
    j.c_in = 3;
    assert_int_equal(hn_hwjob_validate(&j, 16, 16), HN_ERR_INVAL);
    j.c_in = 2;
    j.pad = 3;
    assert_int_equal(hn_hwjob_validate(&j, 16, 16), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "pad"));
    hn_hwjob_free(&j);
    /* Binary weights: only -1 and +1. */
    one_group_job(&j, 1, 1, 0, 1, 1, 1, 1, 1, 1);
    assert_int_equal(j.weights[0], 1);
    assert_int_equal(hn_hwjob_validate(&j, 16, 16), HN_OK);
    j.weights[0] = 0;
    assert_int_equal(hn_hwjob_validate(&j, 16, 16), HN_ERR_RANGE);
    j.weights[0] = -1;
    assert_int_equal(hn_hwjob_validate(&j, 16, 16), HN_OK);
    hn_hwjob_free(&j);
}

static void test_requant(void **st) {
    (void)st;
    const int32_t acc[6] = {10, -10, 5, 100, -3, 0};
    int32_t mult[1] = {3};
    int64_t bias[1] = {0};
    int shift[1] = {2};
    int bits[1] = {2};
    hn_hwrq rq = {1, mult, bias, shift, bits, 0};
    int32_t out[6];
    assert_int_equal(hn_hwref_requant(&rq, acc, 6, out), HN_OK);
    /* 30/4 = 7.5 -> 8; -30/4 = -7.5 -> -7 (half up); 15/4 = 3.75 -> 4;
     * 300/4 = 75; -9/4 = -2.25 -> -2; 0. */
    const int32_t want[6] = {8, -7, 4, 75, -2, 0};
    for (int i = 0; i < 6; i++) assert_int_equal(out[i], want[i]);
    rq.relu = 1; /* ReLU, clamp to 2 bits: [0, 3] */
    assert_int_equal(hn_hwref_requant(&rq, acc, 6, out), HN_OK);
    const int32_t want2[6] = {3, 0, 3, 3, 0, 0};
    for (int i = 0; i < 6; i++) assert_int_equal(out[i], want2[i]);
    /* bias 2 in units of 1/4: (3a + 2 + 2) >> 2. */
    bias[0] = 2;
    bits[0] = 8;
    assert_int_equal(hn_hwref_requant(&rq, acc, 6, out), HN_OK);
    const int32_t want3[6] = {8, 0, 4, 76, 0, 1};
    for (int i = 0; i < 6; i++) assert_int_equal(out[i], want3[i]);
    shift[0] = 63;
    assert_int_equal(hn_hwref_requant(&rq, acc, 6, out), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "shift[0]"));

    /* Extremes stay exact: (-2^31)(-2^31) + 2^62-1 = 2^63-1, plus 2^61,
     * floor-divided by 2^62 = 2 (2.5 - 2^-62). */
    {
        const int32_t ea[1] = {INT32_MIN};
        int32_t em[1] = {INT32_MIN};
        int64_t eb[1] = {((int64_t)1 << 62) - 1};
        int es[1] = {62};
        hn_hwrq erq = {1, em, eb, es, NULL, 0};
        int32_t eo[1];
        assert_int_equal(hn_hwref_requant(&erq, ea, 1, eo), HN_OK);
        assert_int_equal(eo[0], 2);
        eb[0] = -eb[0]; /* 2^62 - 2^62 + 1 + 2^61 -> 0 */
        assert_int_equal(hn_hwref_requant(&erq, ea, 1, eo), HN_OK);
        assert_int_equal(eo[0], 0);
        es[0] = 0; /* no shift: 1 saturates nowhere */
        assert_int_equal(hn_hwref_requant(&erq, ea, 1, eo), HN_OK);
        assert_int_equal(eo[0], 1);
        eb[0] = 0; /* 2^62 saturates to INT32_MAX */
        assert_int_equal(hn_hwref_requant(&erq, ea, 1, eo), HN_OK);
        assert_int_equal(eo[0], INT32_MAX);
    }

    /* Real scale 0.75, offset 1.5: mult * 2^-shift == 0.75 exactly. */
    int32_t m;
    int sh;
    int64_t b;
    assert_int_equal(hn_hwrq_from_real(0.75, 1.5, &m, &sh, &b), HN_OK);
    assert_int_equal(m, 1610612736); /* 0.75 * 2^31 */
    assert_int_equal(sh, 31);
    assert_true(b == (int64_t)3 << 30);
    mult[0] = m;
    shift[0] = sh;
    bias[0] = b;
    rq.relu = 0;
    assert_int_equal(hn_hwref_requant(&rq, acc, 6, out), HN_OK);
    /* 0.75a + 1.5: 9, -6, 5.25 -> 5, 76.5 -> 77, -0.75 -> -1, 1.5 -> 2 */
    const int32_t want4[6] = {9, -6, 5, 77, -1, 2};
    for (int i = 0; i < 6; i++) assert_int_equal(out[i], want4[i]);
    /* A non-dyadic scale is approximated within 2^-31 relative. */
    assert_int_equal(hn_hwrq_from_real(0.1, 0, &m, &sh, &b), HN_OK);
    double approx = (double)m / (double)((int64_t)1 << sh);
    assert_true(approx > 0.1 * (1 - 1e-9) && approx < 0.1 * (1 + 1e-9));
    assert_int_equal(hn_hwrq_from_real(-2.0, 0, &m, &sh, &b), HN_OK);
    assert_true(m < 0);
    assert_int_equal(hn_hwrq_from_real(1e12, 0, &m, &sh, &b), HN_ERR_RANGE);
}

/* The vectorized requantization equals the oracle: random filters with
 * shifts 0..62, multipliers of both signs, biases up to the oracle's
 * limit (the 128-bit ones go the oracle's way), ReLU and not, accumulators
 * including the int32 extremes. */
static void test_requant_fast(void **st) {
    (void)st;
    hn_rng r;
    hn_rng_seed(&r, 11, 3);
    enum { F = 9, HW = 37 };
    int32_t acc[F * HW], o1[F * HW], o2[F * HW], mult[F];
    int64_t bias[F];
    int shift[F], bits[F];
    for (int t = 0; t < 400; t++) {
        for (int f = 0; f < F; f++) {
            mult[f] = (int32_t)hn_rng_u32(&r);
            if (f == 0) mult[f] = INT32_MIN;
            shift[f] = (int)hn_rng_below(&r, 63);
            int64_t mag = (int64_t)1 << hn_rng_below(&r, 63);
            bias[f] = (int64_t)(((uint64_t)hn_rng_u32(&r) << 32 | hn_rng_u32(&r)) %
                                (uint64_t)mag);
            if (hn_rng_u32(&r) & 1) bias[f] = -bias[f];
            if (t % 7 == 0) bias[f] = (hn_rng_u32(&r) & 1 ? 1 : -1) *
                                      (((int64_t)1 << 62) - 1 - (int64_t)hn_rng_below(&r, 1000));
            bits[f] = 1 + (int)hn_rng_below(&r, 16);
        }
        for (int i = 0; i < F * HW; i++) {
            acc[i] = (int32_t)hn_rng_u32(&r);
            if (i % 5 == 0) acc[i] >>= hn_rng_below(&r, 31);
        }
        acc[0] = INT32_MIN;
        acc[1] = INT32_MAX;
        for (int relu = 0; relu < 2; relu++) {
            hn_hwrq rq = {F, mult, bias, shift, bits, relu};
            assert_int_equal(hn_hwref_requant(&rq, acc, HW, o1), HN_OK);
            assert_int_equal(hn_hwrq_run(&rq, acc, HW, o2), HN_OK);
            assert_memory_equal(o1, o2, sizeof o1);
        }
    }
    /* bad input is refused as the oracle refuses it */
    hn_hwrq bad = {F, mult, bias, shift, bits, 1};
    shift[3] = 63;
    assert_int_equal(hn_hwrq_run(&bad, acc, HW, o2), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "shift[3]"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_3x3),   cmocka_unit_test(test_groups_1x1),
        cmocka_unit_test(test_properties), cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_validate),   cmocka_unit_test(test_requant),
        cmocka_unit_test(test_requant_fast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
