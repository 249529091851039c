/* Network configuration files: valid forms, every validation error (naming
 * the layer and line), save/load round trip, filter-to-op mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "hetnas/arch.h"
#include "hetnas/config.h"

static hn_arch *g_arch; /* resnet20 */

static int setup(void **state) {
    (void)state;
    hn_resnet_spec spec = hn_resnet_spec_default();
    return hn_arch_resnet(&spec, &g_arch) == HN_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    hn_arch_free(g_arch);
    return 0;
}

/* A 21-row `layers` config where row `bad_row` is replaced by `bad`. */
static char *layers_yaml(int bad_row, const char *bad) {
    static char buf[8192];
    size_t n = 0;
    n += (size_t)snprintf(buf + n, sizeof buf - n,
                          "ops: [[2,2],[2,4],[3,3],[8,8]]\nlayers:\n");
    for (int l = 0; l < hn_arch_n_layers(g_arch); l++) {
        int C = hn_arch_layer(g_arch, l)->c_out;
        if (l == bad_row)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "  - %s\n", bad);
        else
            n += (size_t)snprintf(buf + n, sizeof buf - n, "  - [%d, %d, %d, %d]\n",
                                  C / 4, C / 4, C / 4, C - 3 * (C / 4));
    }
    return buf;
}

static void expect_error(const char *yaml, hn_status st, const char *needle) {
    hn_config *c = (hn_config *)0x1;
    hn_status s = hn_config_load_string(yaml, "cfg.yaml", g_arch, &c);
    if (s != st || !strstr(hn_error_msg(), needle))
        fail_msg("expected status %d with '%s', got %d: %s", st, needle, s,
                 hn_error_msg());
    assert_null(c);
}

static void test_layers_form(void **state) {
    (void)state;
    hn_config *c;
    assert_int_equal(hn_config_load_string(layers_yaml(-1, ""), "cfg.yaml", g_arch, &c), HN_OK);
    assert_int_equal(hn_config_n_ops(c), 4);
    assert_int_equal(hn_config_op(c, 3).wbits, 8);
    assert_int_equal(hn_config_op(c, 1).abits, 4);
    /* stem: 16 filters as [4,4,4,4] -> filters 0-3 op 0, 4-7 op 1, ... */
    assert_int_equal(hn_config_filter_op(c, 0, 0), 0);
    assert_int_equal(hn_config_filter_op(c, 0, 3), 0);
    assert_int_equal(hn_config_filter_op(c, 0, 4), 1);
    assert_int_equal(hn_config_filter_op(c, 0, 15), 3);
    assert_int_equal(hn_config_filter_op(c, 0, 16), -1);
    assert_int_equal(hn_config_width(c, 20), 64);
    hn_config_free(c);
}

static void test_shorthands(void **state) {
    (void)state;
    hn_config *c;
    assert_int_equal(hn_config_load_string("homogeneous: [3, 3]\n", "h.yaml", g_arch, &c), HN_OK);
    assert_int_equal(hn_config_n_ops(c), 1);
    assert_int_equal(hn_config_width(c, 0), 16);
    assert_int_equal(hn_config_op(c, 0).abits, 3);
    hn_config_free(c);
    assert_int_equal(hn_config_load_string("width_mult: 0.75\n", "w.yaml", g_arch, &c), HN_OK);
    assert_int_equal(hn_config_width(c, 0), 12);
    assert_int_equal(hn_config_width(c, 20), 48);
    assert_int_equal(hn_config_op(c, 0).wbits, HN_BITS_FP);
    hn_config_free(c);
    assert_int_equal(hn_config_load_string("width_mult: 0.3\nhomogeneous: [4,4]\n", "w.yaml", g_arch, &c), HN_OK);
    assert_int_equal(hn_config_width(c, 0), 4);  /* int(16*0.3) */
    assert_int_equal(hn_config_width(c, 20), 19); /* int(64*0.3) */
    assert_int_equal(hn_config_op(c, 0).wbits, 4);
    hn_config_free(c);
    char w[1024] = "widths: [";
    for (int l = 0; l < 21; l++)
        snprintf(w + strlen(w), sizeof w - strlen(w), "%s%d", l ? "," : "", l + 1);
    strcat(w, "]\n");
    assert_int_equal(hn_config_load_string(w, "w.yaml", g_arch, &c), HN_OK);
    assert_int_equal(hn_config_width(c, 5), 6);
    hn_config_free(c);
}

static void test_errors_name_layer_and_line(void **state) {
    (void)state;
    /* Row 3 is s1.b1.conv1 on line 6 (ops line 1, layers line 2, row 0 line 3). */
    expect_error(layers_yaml(3, "[4, 4, 4, 3]"), HN_ERR_SCHEMA,
                 "cfg.yaml:6: layers[3] (s1.b1.conv1): counts sum to 15, expected 16");
    expect_error(layers_yaml(3, "[4, 4, 8]"), HN_ERR_SCHEMA, "3 counts, expected 4");
    expect_error(layers_yaml(7, "[4, 4, 4, -1]"), HN_ERR_RANGE, "s2.b0.conv1");
    expect_error(layers_yaml(7, "[4, 4, x, 4]"), HN_ERR_SCHEMA, "expected an integer");
    expect_error(layers_yaml(0, "{a: 1}"), HN_ERR_SCHEMA, "expected a list");
    expect_error("ops: [[2,2]]\nlayers: [[16]]\n", HN_ERR_SCHEMA, "1 rows, but resnet20 has 21");
    expect_error("ops: [[0,2]]\nlayers: []\n", HN_ERR_RANGE, "ops[0] (weight bits): 0 is out of range [1, 16]");
    expect_error("ops: [[2,17]]\nlayers: []\n", HN_ERR_RANGE, "ops[0] (activation bits): 17");
    expect_error("ops: [[2]]\nlayers: []\n", HN_ERR_SCHEMA, "expected [b_w, b_a]");
    expect_error("homogenous: [3,3]\n", HN_ERR_SCHEMA, "unknown key 'homogenous' (did you mean 'homogeneous'?)");
    expect_error("homogeneous: 3\n", HN_ERR_SCHEMA, "homogeneous: expected a list");
    expect_error("width_mult: 0\n", HN_ERR_RANGE, "width_mult");
    expect_error("width_mult: 1.5\n", HN_ERR_RANGE, "width_mult");
    expect_error("widths: [1, 2]\n", HN_ERR_SCHEMA, "2 values, but resnet20 has 21");
    expect_error("widths: [17,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]\n", HN_ERR_RANGE,
                 "widths[0] (stem): 17 is out of range [1, 16]");
    expect_error("model: resnet56\nhomogeneous: [3,3]\n", HN_ERR_SCHEMA, "the file is for 'resnet56'");
    expect_error("ops: [[2,2]]\n", HN_ERR_SCHEMA, "'ops' given without 'layers'");
    expect_error("{}\n", HN_ERR_SCHEMA, "empty configuration");
    expect_error("homogeneous: [3,3]\nwidths: [1]\nlayers: []\n", HN_ERR_SCHEMA, "cannot be combined");
    expect_error("homogeneous: [3,3\n", HN_ERR_PARSE, "cfg.yaml:");
    expect_error("- 1\n- 2\n", HN_ERR_SCHEMA, "expected a mapping");
}

static void test_new_validates(void **state) {
    (void)state;
    hn_op ops[1] = {{2, 2}};
    int counts[21];
    for (int l = 0; l < 21; l++) counts[l] = hn_arch_layer(g_arch, l)->c_out;
    counts[9] = 33;
    hn_config *c;
    assert_int_equal(hn_config_new(g_arch, 1, ops, counts, &c), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "s2.b0.down"));
    counts[9] = 0;
    assert_int_equal(hn_config_new(g_arch, 1, ops, counts, &c), HN_ERR_RANGE);
    counts[9] = 32;
    ops[0].wbits = 17;
    assert_int_equal(hn_config_new(g_arch, 1, ops, counts, &c), HN_ERR_RANGE);
}

static void test_save_load_round_trip(void **state) {
    (void)state;
    char path[] = "/tmp/hn_cfg_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    hn_config *c, *d;
    assert_int_equal(hn_config_load_string(layers_yaml(-1, ""), "cfg.yaml", g_arch, &c), HN_OK);
    assert_int_equal(hn_config_save(c, g_arch, path), HN_OK);
    assert_int_equal(hn_config_load(path, g_arch, &d), HN_OK);
    assert_int_equal(hn_config_n_ops(d), 4);
    for (int l = 0; l < 21; l++)
        for (int t = 0; t < 4; t++)
            assert_int_equal(hn_config_count(c, l, t), hn_config_count(d, l, t));
    hn_config_free(c);
    hn_config_free(d);
    /* Pruned single-op configs use the widths form. */
    assert_int_equal(hn_config_load_string("width_mult: 0.5\nhomogeneous: [2,4]\n", "w", g_arch, &c), HN_OK);
    assert_int_equal(hn_config_save(c, g_arch, path), HN_OK);
    assert_int_equal(hn_config_load(path, g_arch, &d), HN_OK);
    assert_int_equal(hn_config_width(d, 20), 32);
    assert_int_equal(hn_config_op(d, 0).abits, 4);
    hn_config_free(c);
    hn_config_free(d);
    unlink(path);
    assert_int_equal(hn_config_load("/nonexistent/cfg.yaml", g_arch, &d), HN_ERR_IO);
    assert_non_null(strstr(hn_error_msg(), "/nonexistent/cfg.yaml"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layers_form),
        cmocka_unit_test(test_shorthands),
        cmocka_unit_test(test_errors_name_layer_and_line),
        cmocka_unit_test(test_new_validates),
        cmocka_unit_test(test_save_load_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
