/* Complexity loss (eq. 4-5) and interpolation loss (C.5) at hand-computed
 * points; name parsing; errors naming the field. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hetnas/arch.h"
#include "hetnas/closs.h"
#include "hetnas/config.h"
#include "hetnas/cost.h"
#include "hetnas/backend.h"
#include "hetnas/cycles.h"
#include "hetnas/hwjob.h"
#include "hetnas/hwreport.h"
#include "hetnas/rng.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-12)

static void test_complexity_values(void **st) {
    (void)st;
    /* l_acc 2, lambda 0.5, cost 150 / target 100: r = 1.5 */
    const double expect[4] = {2.0 + 0.5 * 1.5, 2.0 + 0.5 * 2.25,
                              2.0 + 0.5 * 0.5,
                              2.0 + 0.5 * 0.62245933120185459};
    for (int s = 0; s < 4; s++) {
        hn_closs c = {(hn_closs_sigma)s, 0.5, 100.0};
        double L, com;
        assert_int_equal(hn_closs_eval(&c, 2.0, 150.0, &L, &com), HN_OK);
        NEAR(L, expect[s]);
        NEAR(2.0 + 0.5 * com, L);
    }
    /* under the target the hinge is 0, the sigmoid below 1/2, r = 1 at 1/2 */
    NEAR(hn_closs_sigma_apply(HN_CLOSS_HINGE, 0.5), 0.0);
    NEAR(hn_closs_sigma_apply(HN_CLOSS_SIGMOID, 1.0), 0.5);
    NEAR(hn_closs_sigma_apply(HN_CLOSS_SQUARE, 0.5), 0.25);
    hn_closs c = {HN_CLOSS_SQUARE, 0.0, 100.0};
    double L;
    assert_int_equal(hn_closs_eval(&c, 1.25, 1e9, &L, NULL), HN_OK);
    NEAR(L, 1.25); /* lambda 0: accuracy only */
}

static void test_names(void **st) {
    (void)st;
    const char *n[4] = {"identity", "square", "hinge", "sigmoid"};
    for (int i = 0; i < 4; i++) {
        hn_closs_sigma s;
        assert_int_equal(hn_closs_sigma_parse(n[i], &s), HN_OK);
        assert_int_equal(s, i);
        assert_string_equal(hn_closs_sigma_name(s), n[i]);
    }
    const char *m[4] = {"identity", "sigmoid", "leaky_relu", "reference"};
    for (int i = 0; i < 4; i++) {
        hn_iloss_sigma s;
        assert_int_equal(hn_iloss_sigma_parse(m[i], &s), HN_OK);
        assert_int_equal(s, i);
        assert_string_equal(hn_iloss_sigma_name(s), m[i]);
    }
    hn_closs_metric met;
    assert_int_equal(hn_closs_metric_parse("macs", &met), HN_OK);
    assert_int_equal(met, HN_CLOSS_MACS);
}

static void test_complexity_cost(void **st) {
    (void)st;
    hn_resnet_spec spec = hn_resnet_spec_default();
    hn_arch *a = NULL;
    assert_int_equal(hn_arch_resnet(&spec, &a), HN_OK);
    hn_config *c = NULL;
    assert_int_equal(hn_config_homogeneous(a, (hn_op){3, 3}, &c), HN_OK);
    hn_cost_opts o = hn_cost_opts_default();
    hn_layer_cost per[22], tot;
    assert_int_equal(hn_cost_network(a, c, &o, per, &tot), HN_OK);
    double bops, macs;
    assert_int_equal(hn_closs_cost(a, c, NULL, HN_CLOSS_BOPS, &bops), HN_OK);
    assert_int_equal(hn_closs_cost(a, c, &o, HN_CLOSS_MACS, &macs), HN_OK);
    assert_true(bops == (double)tot.bops && macs == (double)tot.macs);
    /* the target itself: r = 1 */
    hn_closs cl = {HN_CLOSS_SQUARE, 1.0, bops};
    double L;
    assert_int_equal(hn_closs_eval(&cl, 0.0, bops, &L, NULL), HN_OK);
    NEAR(L, 1.0);
    hn_config_free(c);
    hn_arch_free(a);
}

static void test_interpolation(void **st) {
    (void)st;
    /* points given out of order; sorted: (100,1.0) (200,0.6) (400,0.5) */
    const double cost[3] = {400.0, 100.0, 200.0}, ce[3] = {0.5, 1.0, 0.6};
    hn_interp *it = NULL;
    assert_int_equal(hn_interp_new(3, cost, ce, &it), HN_OK);
    NEAR(hn_interp_expected(it, 150.0), 0.8);
    NEAR(hn_interp_expected(it, 300.0), 0.55);
    NEAR(hn_interp_expected(it, 200.0), 0.6);
    NEAR(hn_interp_expected(it, 50.0), 1.0);   /* clamped */
    NEAR(hn_interp_expected(it, 1000.0), 0.5); /* clamped */
    double l;
    /* CE 1.0 at cost 150: d = 0.2, d / expected = 0.25 */
    assert_int_equal(hn_interp_loss(it, HN_ILOSS_IDENTITY, 150, 1.0, &l), HN_OK);
    NEAR(l, 0.2);
    assert_int_equal(hn_interp_loss(it, HN_ILOSS_REFERENCE, 150, 1.0, &l), HN_OK);
    NEAR(l, 0.35);
    assert_int_equal(hn_interp_loss(it, HN_ILOSS_SIGMOID, 150, 1.0, &l), HN_OK);
    NEAR(l, 1.0 / (1.0 + exp(-0.2)));
    /* CE 0.6 at cost 150: d = -0.2 -> leaky -0.02, reference 0.1 - 0.025 */
    assert_int_equal(hn_interp_loss(it, HN_ILOSS_LEAKY_RELU, 150, 0.6, &l), HN_OK);
    NEAR(l, -0.02);
    assert_int_equal(hn_interp_loss(it, HN_ILOSS_REFERENCE, 150, 0.6, &l), HN_OK);
    NEAR(l, 0.075);
    hn_interp_free(it);
    /* one point: constant */
    assert_int_equal(hn_interp_new(1, cost, ce, &it), HN_OK);
    NEAR(hn_interp_expected(it, 3.0), 0.5);
    hn_interp_free(it);
}

static void test_errors(void **st) {
    (void)st;
    hn_closs_sigma s;
    assert_int_equal(hn_closs_sigma_parse("cubic", &s), HN_ERR_INVAL);
    assert_non_null(strstr(hn_error_msg(), "unknown sigma 'cubic'"));
    assert_non_null(strstr(hn_error_msg(), "identity, square, hinge or sigmoid"));
    hn_iloss_sigma is;
    assert_int_equal(hn_iloss_sigma_parse("relu", &is), HN_ERR_INVAL);
    assert_non_null(strstr(hn_error_msg(), "interpolation loss: unknown sigma 'relu'"));
    hn_closs_metric m;
    assert_int_equal(hn_closs_metric_parse("flops", &m), HN_ERR_INVAL);
    assert_non_null(strstr(hn_error_msg(), "'flops'"));
    double L;
    hn_closs c = {HN_CLOSS_SQUARE, -0.1, 100.0};
    assert_int_equal(hn_closs_eval(&c, 1.0, 50.0, &L, NULL), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "lambda -0.1"));
    c.lambda = 1.0;
    c.target = 0.0;
    assert_int_equal(hn_closs_eval(&c, 1.0, 50.0, &L, NULL), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "target cost 0"));
    c.target = 100.0;
    assert_int_equal(hn_closs_eval(&c, 1.0, -5.0, &L, NULL), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "cost -5"));
    c.sigma = (hn_closs_sigma)9;
    assert_int_equal(hn_closs_check(&c), HN_ERR_INVAL);
    assert_non_null(strstr(hn_error_msg(), "unknown sigma 9"));
    hn_interp *it = NULL;
    const double cost[2] = {100.0, 100.0}, ce[2] = {1.0, 0.9};
    assert_int_equal(hn_interp_new(2, cost, ce, &it), HN_ERR_INVAL);
    assert_non_null(strstr(hn_error_msg(), "two points have cost 100"));
    assert_int_equal(hn_interp_new(0, cost, ce, &it), HN_ERR_RANGE);
    const double ce0[2] = {0.0, -1.0}, cost2[2] = {1.0, 2.0};
    assert_int_equal(hn_interp_new(2, cost2, ce0, &it), HN_OK);
    assert_int_equal(hn_interp_loss(it, HN_ILOSS_REFERENCE, 1.5, 0.3, &L),
                     HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "divides by the expected CE"));
    hn_interp_free(it);
}

/* Cycles as the cost: the model's total equals the hardware report's, a
 * configuration seen again is answered from the cache; with Verilator the
 * measured totals equal the model's and a layer's cycles do not depend on
 * its data (the reason one measurement per shape may stand for all). */
static void test_cycles_cost(void **st) {
    (void)st;
    hn_resnet_spec sp = hn_resnet_spec_default();
    sp.depth = 8;
    hn_arch *a = NULL;
    assert_int_equal(hn_arch_resnet(&sp, &a), HN_OK);
    hn_closs_metric m;
    assert_int_equal(hn_closs_metric_parse("cycles", &m), HN_OK);
    assert_int_equal(m, HN_CLOSS_CYCLES);
    hn_config *c = NULL;
    assert_int_equal(hn_config_homogeneous(a, (hn_op){3, 3}, &c), HN_OK);
    hn_array_params p = hn_array_params_default();
    uint64_t want = 0;
    assert_int_equal(hn_hwreport_model(a, c, 8, &p, NULL, &want), HN_OK);
    double v = 0;
    assert_int_equal(hn_closs_cost(a, c, NULL, HN_CLOSS_CYCLES, &v), HN_OK);
    assert_true(v == (double)want && want > 0);
    hn_cyc *cy = NULL;
    assert_int_equal(hn_cyc_new("model", &cy), HN_OK);
    assert_int_equal(hn_cyc_total(cy, a, c, 8, &v), HN_OK);
    assert_true(v == (double)want);
    assert_int_equal(hn_cyc_total(cy, a, c, 8, &v), HN_OK);
    long meas, cached;
    hn_cyc_stats(cy, &meas, &cached);
    assert_int_equal(meas, hn_arch_n_layers(a));
    assert_int_equal(cached, hn_arch_n_layers(a));
    hn_cyc_free(cy);
    /* a backend without a clock is refused, naming it */
    assert_int_equal(hn_cyc_new("csim", &cy), HN_ERR_INVAL);
    assert_non_null(strstr(hn_error_msg(), "csim"));
#ifdef HN_HAVE_VERILATOR
    assert_int_equal(hn_cyc_new("verilator", &cy), HN_OK);
    /* a mixed configuration: measured == model, layer by layer summed */
    static const hn_op ops[3] = {{1, 2}, {2, 4}, {4, 4}};
    int L = hn_arch_n_layers(a), *counts = calloc((size_t)3 * L, sizeof(int));
    for (int l = 0; l < L; l++) {
        int co = hn_arch_layer(a, l)->c_out;
        counts[3 * l] = co / 4;
        counts[3 * l + 1] = co / 4;
        counts[3 * l + 2] = co - 2 * (co / 4);
    }
    hn_config *mc = NULL;
    assert_int_equal(hn_config_new(a, 3, ops, counts, &mc), HN_OK);
    assert_int_equal(hn_hwreport_model(a, mc, 8, &p, NULL, &want), HN_OK);
    assert_int_equal(hn_cyc_total(cy, a, mc, 8, &v), HN_OK);
    assert_true(v == (double)want);
    hn_cyc_free(cy);
    /* data independence: one layer shape, three different data */
    hn_backend *be = NULL;
    assert_int_equal(hn_backend_open("verilator", NULL, &be), HN_OK);
    hn_hwjob j;
    memset(&j, 0, sizeof j);
    assert_int_equal(hn_array_layer_job(a, mc, 2, 8, &j), HN_OK);
    assert_int_equal(hn_hwjob_alloc(&j), HN_OK);
    int oh, ow;
    hn_hwjob_out_dims(&j, &oh, &ow);
    int32_t *acc = malloc(sizeof(int32_t) * (size_t)j.c_out * oh * ow);
    uint64_t c0 = 0;
    for (int t = 0; t < 3; t++) {
        hn_rng r;
        hn_rng_seed(&r, 100 + (uint64_t)t, 1);
        hn_hwjob_fill_random(&r, &j);
        if (t == 2) memset(j.acts, 0, sizeof(int32_t) * (size_t)j.c_in * j.in_h * j.in_w);
        uint64_t cyc = 0;
        assert_int_equal(hn_backend_run_job(be, &j, acc, &cyc), HN_OK);
        if (t == 0) c0 = cyc;
        assert_true(cyc == c0 && cyc > 0);
    }
    free(acc);
    hn_hwjob_free(&j);
    hn_backend_close(be);
    hn_config_free(mc);
    free(counts);
#endif
    hn_config_free(c);
    hn_arch_free(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complexity_values),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_complexity_cost),
        cmocka_unit_test(test_interpolation),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_cycles_cost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
