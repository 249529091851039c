/* BOPs/MACs (host/cost/bops.c) against hand computation, the closed form of
 * eq. 27, monotonicity and the ResNet-20 MAC count. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <string.h>

#include "hetnas/arch.h"
#include "hetnas/config.h"
#include "hetnas/cost.h"
#include "hetnas/rng.h"

/* c_in = 4: two channels of 2 bits, two of 4 bits; c_out = 3: two filters of
 * 2-bit weights, one of 8-bit; k = 3; output 5x5.
 *   bw=2: M = 2^2*9*(2*2^2 + 2*2^4) = 36*40 = 1440 -> AW = ceil(log2) = 11
 *         B = 9*(4*11 + (2*2 + 2*4)*2) = 9*68 = 612;  2 filters*25*612 = 30600
 *   bw=8: M = 2^8*9*40 = 92160 -> AW = 17
 *         B = 9*(4*17 + 12*8) = 9*164 = 1476;        1 filter *25*1476 = 36900
 *   memory = 2*4*9*2 + 1*4*9*8 = 144 + 288 = 432;  MACs = 25*9*4*3 = 2700 */
static void test_mixed_groups_by_hand(void **state) {
    (void)state;
    int in_bits[4] = {2, 2, 4, 4};
    int wbits[3] = {2, 2, 8};
    hn_layer_cost c;
    assert_int_equal(hn_cost_conv(4, in_bits, 3, wbits, 3, 5, 5, true, &c), HN_OK);
    assert_int_equal(c.macs, 2700);
    assert_int_equal(c.bops_compute, 30600 + 36900);
    assert_int_equal(c.bops_memory, 432);
    assert_int_equal(c.bops, 30600 + 36900 + 432);
    assert_int_equal(hn_cost_conv(4, in_bits, 3, wbits, 3, 5, 5, false, &c), HN_OK);
    assert_int_equal(c.bops, 30600 + 36900);
}

/* The channel order does not matter, and inactive channels/filters (0 bits)
 * are not counted: c_in active = 2 (bits 3, 1), one active 4-bit filter,
 * k = 1, output 2x3.
 *   M = 2^4*1*(2^3 + 2^1) = 160 -> AW = 8;  B = 1*(2*8 + (3+1)*4) = 32
 *   compute = 6*32 = 192; memory = 1*2*1*4 = 8; MACs = 6*1*2*1 = 12 */
static void test_pruned_channels_by_hand(void **state) {
    (void)state;
    int in_bits[4] = {0, 3, 0, 1};
    int wbits[2] = {0, 4};
    hn_layer_cost c;
    assert_int_equal(hn_cost_conv(4, in_bits, 2, wbits, 1, 2, 3, true, &c), HN_OK);
    assert_int_equal(c.macs, 12);
    assert_int_equal(c.bops_compute, 192);
    assert_int_equal(c.bops_memory, 8);
}

/* An exact power of two needs no extra accumulator bit: 1 channel of 1 bit,
 * 1-bit weights, k=1: M = 2*1*2 = 4 -> AW = 2; B = 1*2 + 1 = 3. */
static void test_power_of_two_accumulator(void **state) {
    (void)state;
    int in_bits[1] = {1}, wbits[1] = {1};
    hn_layer_cost c;
    assert_int_equal(hn_cost_conv(1, in_bits, 1, wbits, 1, 1, 1, true, &c), HN_OK);
    assert_int_equal(c.bops_compute, 3);
    assert_int_equal(hn_ceil_log2_u128(1), 0);
    assert_int_equal(hn_ceil_log2_u128(4), 2);
    assert_int_equal(hn_ceil_log2_u128(5), 3);
    assert_int_equal(hn_ceil_log2_u128((unsigned __int128)1 << 100), 100);
}

/* Homogeneous layers equal H*W*m*n*k^2*(ba*bw + ceil(ba+bw+log2(n*k^2)))
 * (eq. 27 per output pixel up to the ceiling), computed here in floating
 * point independently of the library, over many random layers. */
static void test_homogeneous_equals_eq27(void **state) {
    (void)state;
    hn_rng r;
    hn_rng_seed(&r, 2024, 1);
    int in_bits[512], wbits[512];
    for (int it = 0; it < 2000; it++) {
        int n = 1 + (int)hn_rng_below(&r, 300);
        int m = 1 + (int)hn_rng_below(&r, 300);
        int ks[3] = {1, 3, 5};
        int k = ks[hn_rng_below(&r, 3)];
        int bw = 1 + (int)hn_rng_below(&r, 16), ba = 1 + (int)hn_rng_below(&r, 16);
        int h = 1 + (int)hn_rng_below(&r, 64), w = 1 + (int)hn_rng_below(&r, 64);
        for (int i = 0; i < n; i++) in_bits[i] = ba;
        for (int i = 0; i < m; i++) wbits[i] = bw;
        hn_layer_cost c;
        assert_int_equal(hn_cost_conv(n, in_bits, m, wbits, k, h, w, false, &c), HN_OK);
        double nk2 = (double)n * k * k;
        double expect = (double)h * w * m * nk2 *
                        (ba * bw + ceil(ba + bw + log2(nk2)));
        assert_true(expect < 9.0e15); /* exact in a double */
        assert_int_equal(c.bops_compute, (uint64_t)expect);
        assert_int_equal(c.bops_compute, hn_cost_eq27(h, w, m, n, k, bw, ba));
        assert_int_equal(c.bops_memory, (uint64_t)m * n * k * k * bw);
    }
}

static hn_config *random_config(const hn_arch *a, hn_rng *r, int T,
                                const hn_op *ops) {
    int L = hn_arch_n_layers(a);
    int *counts = calloc((size_t)L * T, sizeof(int));
    double p[8];
    for (int l = 0; l < L; l++) {
        for (int t = 0; t < T; t++) p[t] = 0.05 + hn_rng_uniform(r);
        hn_rng_multinomial(r, hn_arch_layer(a, l)->c_out, T, p, counts + l * T);
    }
    hn_config *c;
    assert_int_equal(hn_config_new(a, T, ops, counts, &c), HN_OK);
    free(counts);
    return c;
}

/* More bits never cost less: raising one op's weight or activation bits (or
 * moving a filter to a wider op) does not lower the total. */
static void test_more_bits_never_cost_less(void **state) {
    (void)state;
    hn_resnet_spec spec = hn_resnet_spec_default();
    hn_arch *a;
    assert_int_equal(hn_arch_resnet(&spec, &a), HN_OK);
    hn_cost_opts o = hn_cost_opts_default();
    o.include_fc = true;
    hn_rng r;
    hn_rng_seed(&r, 7, 3);
    for (int it = 0; it < 200; it++) {
        hn_op ops[4];
        for (int t = 0; t < 4; t++) {
            ops[t].wbits = 1 + (int)hn_rng_below(&r, 15);
            ops[t].abits = 1 + (int)hn_rng_below(&r, 15);
        }
        hn_config *c = random_config(a, &r, 4, ops);
        hn_layer_cost base, more;
        assert_int_equal(hn_cost_network(a, c, &o, NULL, &base), HN_OK);
        int t = (int)hn_rng_below(&r, 4);
        hn_op up[4];
        for (int i = 0; i < 4; i++) up[i] = ops[i];
        if (hn_rng_below(&r, 2)) up[t].wbits++;
        else up[t].abits++;
        int L = hn_arch_n_layers(a);
        int *counts = malloc((size_t)L * 4 * sizeof(int));
        for (int l = 0; l < L; l++)
            for (int i = 0; i < 4; i++) counts[l * 4 + i] = hn_config_count(c, l, i);
        hn_config *c2;
        assert_int_equal(hn_config_new(a, 4, up, counts, &c2), HN_OK);
        assert_int_equal(hn_cost_network(a, c2, &o, NULL, &more), HN_OK);
        assert_true(more.bops >= base.bops);
        assert_true(more.bops_compute >= base.bops_compute);
        assert_int_equal(more.macs, base.macs);
        free(counts);
        hn_config_free(c);
        hn_config_free(c2);
    }
    hn_arch_free(a);
}

/* ResNet-20 on 3x32x32, MACs by hand:
 *   stem          32*32*9*3*16
 *   stage 1       6 convs of 32*32*9*16*16
 *   stage 2       conv1 16*16*9*16*32, 5 convs 16*16*9*32*32, down 16*16*16*32
 *   stage 3       conv1 8*8*9*32*64,   5 convs 8*8*9*64*64,   down 8*8*32*64 */
static void test_resnet20_macs(void **state) {
    (void)state;
    uint64_t expect = 32ull * 32 * 9 * 3 * 16 + 6ull * 32 * 32 * 9 * 16 * 16 +
                      16ull * 16 * 9 * 16 * 32 + 5ull * 16 * 16 * 9 * 32 * 32 +
                      16ull * 16 * 16 * 32 + 8ull * 8 * 9 * 32 * 64 +
                      5ull * 8 * 8 * 9 * 64 * 64 + 8ull * 8 * 32 * 64;
    hn_resnet_spec spec = hn_resnet_spec_default();
    hn_arch *a;
    hn_config *c;
    assert_int_equal(hn_arch_resnet(&spec, &a), HN_OK);
    assert_int_equal(hn_config_homogeneous(a, (hn_op){8, 8}, &c), HN_OK);
    hn_cost_opts o = hn_cost_opts_default();
    hn_layer_cost per[22], total;
    assert_int_equal(hn_cost_network(a, c, &o, per, &total), HN_OK);
    assert_int_equal(total.macs, expect);
    assert_int_equal(total.macs, 40812544);
    /* FC adds 64*10 MACs. */
    o.include_fc = true;
    assert_int_equal(hn_cost_network(a, c, &o, per, &total), HN_OK);
    assert_int_equal(per[21].macs, 640);
    assert_int_equal(total.macs, expect + 640);
    /* FC with 8-bit weights on 64 channels of 8 bits, k=1, 1x1:
     * M = 2^8*64*2^8 -> AW = 22; B = 64*22 + 64*64 = 5504; x10 filters. */
    assert_int_equal(per[21].bops_compute, 55040);
    assert_int_equal(per[21].bops_memory, 10 * 64 * 8);
    hn_config_free(c);
    hn_arch_free(a);
}

/* Counts past 2^64-1 are refused with HN_ERR_RANGE naming the layer, never
 * wrapped: ResNet-110, width 64, 8192x8192 input, 16-bit ops overflows in
 * stage 3 (the 4096x4096 input fits). */
static void test_overflow_is_refused(void **state) {
    (void)state;
    hn_resnet_spec spec = hn_resnet_spec_default();
    spec.depth = 110;
    spec.width = 64;
    spec.in_h = spec.in_w = 8192;
    hn_arch *a;
    hn_config *c;
    assert_int_equal(hn_arch_resnet(&spec, &a), HN_OK);
    assert_int_equal(hn_config_homogeneous(a, (hn_op){16, 16}, &c), HN_OK);
    hn_cost_opts o = hn_cost_opts_default();
    hn_layer_cost total;
    assert_int_equal(hn_cost_network(a, c, &o, NULL, &total), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "layer s3.b12.conv2"));
    assert_non_null(strstr(hn_error_msg(), "2^64-1"));
    hn_config_free(c);
    hn_arch_free(a);
    /* one layer alone past 2^64: the per-layer check names it */
    int in_bits[1] = {16}, wbits[1] = {16};
    hn_layer_cost lc;
    assert_int_equal(hn_cost_conv(1, in_bits, 1, wbits, 3, 1 << 30, 1 << 30,
                                  true, &lc), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "exceeds 2^64-1"));
    spec.in_h = spec.in_w = 4096;
    assert_int_equal(hn_arch_resnet(&spec, &a), HN_OK);
    assert_int_equal(hn_config_homogeneous(a, (hn_op){16, 16}, &c), HN_OK);
    assert_int_equal(hn_cost_network(a, c, &o, NULL, &total), HN_OK);
    assert_true(total.bops > 5000000000000000000ull);
    hn_config_free(c);
    hn_arch_free(a);
}

/* The stem sees input_bits; a residual block's output channels carry conv2's
 * b_a, so the next conv1 sees them. With ops (2,2),(8,8) and conv2 of s1.b0
 * giving 5 filters op 0 and 11 op 1, s1.b1.conv1's input has 5 channels of 2
 * bits and 11 of 8. Changing --input-bits changes only the stem. */
static void test_activation_bits_follow_the_graph(void **state) {
    (void)state;
    hn_resnet_spec spec = hn_resnet_spec_default();
    hn_arch *a;
    assert_int_equal(hn_arch_resnet(&spec, &a), HN_OK);
    int L = hn_arch_n_layers(a);
    int *counts = malloc((size_t)L * 2 * sizeof(int));
    for (int l = 0; l < L; l++) {
        counts[2 * l] = 0;
        counts[2 * l + 1] = hn_arch_layer(a, l)->c_out;
    }
    int c2 = hn_arch_find(a, "s1.b0.conv2");
    counts[2 * c2] = 5;
    counts[2 * c2 + 1] = 11;
    hn_op ops[2] = {{2, 2}, {8, 8}};
    hn_config *c;
    assert_int_equal(hn_config_new(a, 2, ops, counts, &c), HN_OK);
    int bits[64];
    assert_int_equal(hn_config_input_bits(c, a, hn_arch_find(a, "s1.b1.conv1"), 8, bits), HN_OK);
    for (int i = 0; i < 16; i++) assert_int_equal(bits[i], i < 5 ? 2 : 8);
    assert_int_equal(hn_config_input_bits(c, a, 0, 5, bits), HN_OK);
    for (int i = 0; i < 3; i++) assert_int_equal(bits[i], 5);
    free(counts);
    hn_config_free(c);
    hn_arch_free(a);
}

/* Unequal residual widths (DESIGN.md "Pruned widths"): conv2 of s1.b0 keeps
 * 8 of 16 filters, the identity shortcut keeps the stem's 16 (4-bit) channels:
 * the block output has 16 channels, the first 8 with conv2's bits and the
 * rest with the shortcut's. */
static void test_unequal_residual_widths(void **state) {
    (void)state;
    hn_resnet_spec spec = hn_resnet_spec_default();
    hn_arch *a;
    assert_int_equal(hn_arch_resnet(&spec, &a), HN_OK);
    int L = hn_arch_n_layers(a);
    int *counts = malloc((size_t)L * 2 * sizeof(int));
    for (int l = 0; l < L; l++) {
        counts[2 * l] = hn_arch_layer(a, l)->c_out; /* op 0 = (4,4) */
        counts[2 * l + 1] = 0;
    }
    int c2 = hn_arch_find(a, "s1.b0.conv2");
    counts[2 * c2] = 0;
    counts[2 * c2 + 1] = 8; /* op 1 = (3,6), pruned to 8 */
    hn_op ops[2] = {{4, 4}, {3, 6}};
    hn_config *c;
    assert_int_equal(hn_config_new(a, 2, ops, counts, &c), HN_OK);
    int bits[64];
    int next = hn_arch_find(a, "s1.b1.conv1");
    assert_int_equal(hn_config_input_bits(c, a, next, 8, bits), HN_OK);
    for (int i = 0; i < 16; i++) assert_int_equal(bits[i], i < 8 ? 6 : 4);
    /* A pruned conv1 leaves conv2 with fewer active input channels:
     * conv2's MACs use the active count. */
    counts[2 * c2] = 16;
    counts[2 * c2 + 1] = 0;
    int c1 = hn_arch_find(a, "s1.b0.conv1");
    counts[2 * c1] = 6;
    hn_config *p;
    assert_int_equal(hn_config_new(a, 2, ops, counts, &p), HN_OK);
    hn_cost_opts o = hn_cost_opts_default();
    hn_layer_cost per[21], total;
    assert_int_equal(hn_cost_network(a, p, &o, per, &total), HN_OK);
    assert_int_equal(per[c1].macs, 32ull * 32 * 9 * 16 * 6);
    assert_int_equal(per[c2].macs, 32ull * 32 * 9 * 6 * 16);
    free(counts);
    hn_config_free(c);
    hn_config_free(p);
    hn_arch_free(a);
}

/* Width-only configurations are full precision (32 bits) and their BOPs
 * still follow the formula; MACs scale with kept filters. */
static void test_width_mult_macs(void **state) {
    (void)state;
    hn_resnet_spec spec = hn_resnet_spec_default();
    hn_arch *a;
    hn_config *c;
    assert_int_equal(hn_arch_resnet(&spec, &a), HN_OK);
    assert_int_equal(hn_config_width_mult(a, 0.5, (hn_op){HN_BITS_FP, HN_BITS_FP}, &c), HN_OK);
    hn_cost_opts o = hn_cost_opts_default();
    hn_layer_cost total;
    assert_int_equal(hn_cost_network(a, c, &o, NULL, &total), HN_OK);
    /* Every layer keeps half its filters and sees half its input channels
     * (the stem sees all 3): (40812544 - 442368)/4 + 442368/2. */
    assert_int_equal(total.macs, (40812544ull - 442368) / 4 + 442368 / 2);
    hn_config_free(c);
    hn_arch_free(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mixed_groups_by_hand),
        cmocka_unit_test(test_pruned_channels_by_hand),
        cmocka_unit_test(test_power_of_two_accumulator),
        cmocka_unit_test(test_homogeneous_equals_eq27),
        cmocka_unit_test(test_more_bits_never_cost_less),
        cmocka_unit_test(test_resnet20_macs),
        cmocka_unit_test(test_activation_bits_follow_the_graph),
        cmocka_unit_test(test_unequal_residual_widths),
        cmocka_unit_test(test_width_mult_macs),
        cmocka_unit_test(test_overflow_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
