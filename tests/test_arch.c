/* The ResNet family's canonical layer list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hetnas/arch.h"

static void test_resnet20_layers(void **state) {
    (void)state;
    hn_resnet_spec spec = hn_resnet_spec_default();
    hn_arch *a;
    assert_int_equal(hn_arch_resnet(&spec, &a), HN_OK);
    assert_string_equal(hn_arch_model_name(a), "resnet20");
    assert_int_equal(hn_arch_n_layers(a), 21);
    const char *names[21] = {
        "stem", "s1.b0.conv1", "s1.b0.conv2", "s1.b1.conv1", "s1.b1.conv2",
        "s1.b2.conv1", "s1.b2.conv2", "s2.b0.conv1", "s2.b0.conv2", "s2.b0.down",
        "s2.b1.conv1", "s2.b1.conv2", "s2.b2.conv1", "s2.b2.conv2", "s3.b0.conv1",
        "s3.b0.conv2", "s3.b0.down", "s3.b1.conv1", "s3.b1.conv2", "s3.b2.conv1",
        "s3.b2.conv2"};
    for (int l = 0; l < 21; l++) {
        assert_string_equal(hn_arch_layer(a, l)->name, names[l]);
        assert_int_equal(hn_arch_find(a, names[l]), l);
    }
    const hn_layer_desc *d = hn_arch_layer(a, 9); /* s2.b0.down */
    assert_int_equal(d->c_in, 16);
    assert_int_equal(d->c_out, 32);
    assert_int_equal(d->k, 1);
    assert_int_equal(d->stride, 2);
    assert_int_equal(d->pad, 0);
    assert_int_equal(d->out_h, 16);
    d = hn_arch_layer(a, 14); /* s3.b0.conv1 */
    assert_int_equal(d->c_in, 32);
    assert_int_equal(d->c_out, 64);
    assert_int_equal(d->stride, 2);
    assert_int_equal(d->pad, 1);
    assert_int_equal(d->in_h, 16);
    assert_int_equal(d->out_h, 8);
    assert_int_equal(hn_arch_fc_in(a), 64);
    assert_int_equal(hn_arch_n_blocks(a), 9);
    int c1, c2, dn;
    hn_arch_block_layers(a, 3, &c1, &c2, &dn);
    assert_int_equal(c1, 7);
    assert_int_equal(c2, 8);
    assert_int_equal(dn, 9);
    hn_arch_block_layers(a, 4, &c1, &c2, &dn);
    assert_int_equal(dn, -1);
    assert_int_equal(hn_arch_find(a, "s1.b0.down"), -1);
    hn_arch_free(a);
}

static void test_family_sizes_and_inputs(void **state) {
    (void)state;
    const char *models[6] = {"resnet8", "resnet14", "resnet20", "resnet32", "resnet44", "resnet56"};
    for (int i = 0; i < 6; i++) {
        hn_resnet_spec spec = hn_resnet_spec_default();
        assert_int_equal(hn_resnet_spec_set_model(&spec, models[i]), HN_OK);
        int n = (spec.depth - 2) / 6;
        hn_arch *a;
        assert_int_equal(hn_arch_resnet(&spec, &a), HN_OK);
        assert_int_equal(hn_arch_n_layers(a), 1 + 6 * n + 2);
        hn_arch_free(a);
    }
    /* Fashion-MNIST: 1x28x28 -> 28, 14, 7; odd sizes round like PyTorch. */
    hn_resnet_spec spec = hn_resnet_spec_default();
    assert_int_equal(hn_parse_input_shape("1x28x28", &spec.in_c, &spec.in_h, &spec.in_w), HN_OK);
    spec.depth = 8;
    spec.width = 0.5;
    hn_arch *a;
    assert_int_equal(hn_arch_resnet(&spec, &a), HN_OK);
    assert_int_equal(hn_arch_layer(a, 0)->c_in, 1);
    assert_int_equal(hn_arch_layer(a, 0)->c_out, 8);
    int last = hn_arch_n_layers(a) - 1;
    assert_int_equal(hn_arch_layer(a, last)->out_h, 7);
    assert_int_equal(hn_arch_layer(a, last)->c_out, 32);
    hn_arch_free(a);
    spec.in_h = 15;
    spec.in_w = 9;
    assert_int_equal(hn_arch_resnet(&spec, &a), HN_OK);
    /* 15 -> 15 -> 8 -> 4 ; 9 -> 9 -> 5 -> 3 */
    assert_int_equal(hn_arch_layer(a, last)->out_h, 4);
    assert_int_equal(hn_arch_layer(a, last)->out_w, 3);
    hn_arch_free(a);
}

static void test_bad_specs(void **state) {
    (void)state;
    hn_resnet_spec spec = hn_resnet_spec_default();
    hn_arch *a;
    spec.depth = 21;
    assert_int_equal(hn_arch_resnet(&spec, &a), HN_ERR_INVAL);
    assert_non_null(strstr(hn_error_msg(), "6n+2"));
    spec.depth = 2;
    assert_int_equal(hn_arch_resnet(&spec, &a), HN_ERR_INVAL);
    spec = hn_resnet_spec_default();
    spec.width = 0;
    assert_int_equal(hn_arch_resnet(&spec, &a), HN_ERR_RANGE);
    assert_int_equal(hn_resnet_spec_set_model(&spec, "resnet18"), HN_ERR_INVAL);
    assert_int_equal(hn_resnet_spec_set_model(&spec, "vgg"), HN_ERR_INVAL);
    int c, h, w;
    assert_int_equal(hn_parse_input_shape("3x32", &c, &h, &w), HN_ERR_INVAL);
    assert_int_equal(hn_parse_input_shape("3x32x32x", &c, &h, &w), HN_ERR_INVAL);
    assert_int_equal(hn_parse_input_shape("0x32x32", &c, &h, &w), HN_ERR_RANGE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resnet20_layers),
        cmocka_unit_test(test_family_sizes_and_inputs),
        cmocka_unit_test(test_bad_specs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
