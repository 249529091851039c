/* Tests of the conv job (hn_hwjob_*): the JSON job file (fixture values,
 * save/load round trip, every kind of bad file with the field and line in
 * the error), output sizes, and the seeded random generator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hetnas/fileio.h"
#include "hetnas/hwjob.h"
#include "hetnas/rng.h"

#define FIXTURE HN_SOURCE_DIR "/tests/data/hw/small.json"

static void test_load_fixture(void **st) {
    (void)st;
    hn_hwjob j;
    assert_int_equal(hn_hwjob_load(FIXTURE, &j), HN_OK);
    assert_int_equal(j.k, 3);
    assert_int_equal(j.stride, 1);
    assert_int_equal(j.pad, 1);
    assert_int_equal(j.in_h, 3);
    assert_int_equal(j.n_in_groups, 2);
    assert_int_equal(j.in_groups[0].n, 1);
    assert_int_equal(j.in_groups[0].bits, 4);
    assert_int_equal(j.in_groups[1].bits, 1);
    assert_int_equal(j.n_out_groups, 2);
    assert_int_equal(j.out_groups[1].bits, 1);
    assert_int_equal(j.c_in, 2);
    assert_int_equal(j.c_out, 2);
    assert_int_equal(j.weights[3], 2);  /* filter 0, channel 0, (1, 0) */
    assert_int_equal(j.weights[27], -1); /* filter 1, channel 1 */
    assert_int_equal(j.acts[8], 9);
    assert_int_equal(j.acts[10], 0);
    assert_int_equal(hn_hwjob_validate(&j, 8, 8), HN_OK);
    hn_hwjob_free(&j);
    assert_null(j.weights);
}

static void test_out_dims(void **st) {
    (void)st;
    hn_hwjob j;
    memset(&j, 0, sizeof j);
    j.k = 3;
    j.stride = 2;
    j.pad = 1;
    j.in_h = 32;
    j.in_w = 7;
    int oh, ow;
    hn_hwjob_out_dims(&j, &oh, &ow);
    assert_int_equal(oh, 16); /* (32 + 2 - 3) / 2 + 1 */
    assert_int_equal(ow, 4);  /* (7 + 2 - 3) / 2 + 1 */
    j.k = 1;
    j.pad = 0;
    hn_hwjob_out_dims(&j, &oh, &ow);
    assert_int_equal(oh, 16);
    assert_int_equal(ow, 4);
}

static void test_roundtrip(void **st) {
    (void)st;
    hn_rng r;
    hn_rng_seed(&r, 11, 1);
    char path[] = "/tmp/hn_test_hwjob_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    for (int t = 0; t < 10; t++) {
        hn_hwjob a, b;
        assert_int_equal(hn_hwjob_random(&r, 1, 16, 16, &a), HN_OK);
        assert_int_equal(hn_hwjob_save(&a, path), HN_OK);
        assert_int_equal(hn_hwjob_load(path, &b), HN_OK);
        assert_int_equal(a.k, b.k);
        assert_int_equal(a.stride, b.stride);
        assert_int_equal(a.pad, b.pad);
        assert_int_equal(a.in_h, b.in_h);
        assert_int_equal(a.in_w, b.in_w);
        assert_int_equal(a.n_in_groups, b.n_in_groups);
        assert_int_equal(a.n_out_groups, b.n_out_groups);
        assert_memory_equal(a.in_groups, b.in_groups, sizeof(hn_hw_group) * a.n_in_groups);
        assert_memory_equal(a.out_groups, b.out_groups, sizeof(hn_hw_group) * a.n_out_groups);
        assert_memory_equal(a.weights, b.weights,
                            sizeof(int32_t) * a.c_out * a.c_in * a.k * a.k);
        assert_memory_equal(a.acts, b.acts, sizeof(int32_t) * a.c_in * a.in_h * a.in_w);
        hn_hwjob_free(&a);
        hn_hwjob_free(&b);
    }
    unlink(path);
}

/* Same seed, same job; values cover the extremes of their ranges. */
static void test_random(void **st) {
    (void)st;
    hn_rng r1, r2;
    hn_rng_seed(&r1, 3, 9);
    hn_rng_seed(&r2, 3, 9);
    hn_hwjob a, b;
    assert_int_equal(hn_hwjob_random(&r1, 2, 8, 8, &a), HN_OK);
    assert_int_equal(hn_hwjob_random(&r2, 2, 8, 8, &b), HN_OK);
    assert_int_equal(a.c_in, b.c_in);
    assert_int_equal(a.c_out, b.c_out);
    assert_memory_equal(a.weights, b.weights, sizeof(int32_t) * a.c_out * a.c_in * a.k * a.k);
    assert_int_equal(hn_hwjob_validate(&a, 8, 8), HN_OK);
    hn_hwjob_free(&a);
    hn_hwjob_free(&b);
    int seen_k1 = 0, seen_k3 = 0, seen_s2 = 0, seen_lo = 0, seen_hi = 0;
    for (int t = 0; t < 60; t++) {
        assert_int_equal(hn_hwjob_random(&r1, 3, 3, 8, &a), HN_OK);
        seen_k1 |= a.k == 1;
        seen_k3 |= a.k == 3;
        seen_s2 |= a.stride == 2;
        for (int i = 0; i < a.c_out * a.c_in * a.k * a.k; i++) {
            assert_true(a.weights[i] >= -3 && a.weights[i] <= 3);
            seen_lo |= a.weights[i] == -3;
            seen_hi |= a.weights[i] == 3;
        }
        hn_hwjob_free(&a);
    }
    assert_true(seen_k1 && seen_k3 && seen_s2 && seen_lo && seen_hi);
    assert_int_equal(hn_hwjob_random(&r1, 0, 8, 8, &a), HN_ERR_INVAL);
}

/* Writes text to a temp file, loads it, expects status and message. */
static void expect_bad(const char *text, hn_status want, const char *msg) {
    char path[] = "/tmp/hn_test_hwjob_bad_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(hn_file_write_atomic(path, text, strlen(text)), HN_OK);
    hn_hwjob j;
    hn_status s = hn_hwjob_load(path, &j);
    unlink(path);
    if (s != want || !strstr(hn_error_msg(), msg))
        fail_msg("job '%.60s...': got %d '%s', want %d '%s'", text, s,
                 hn_error_msg(), want, msg);
    assert_null(j.weights);
    assert_null(j.acts);
}

#define HEAD "{\"k\":1,\"stride\":1,\"pad\":0,\"in_h\":1,\"in_w\":2,\n"
#define GROUPS "\"in_groups\":[{\"channels\":2,\"bits\":2}],\n\"out_groups\":[{\"filters\":1,\"bits\":3}],\n"

static void test_bad_files(void **st) {
    (void)st;
    /* A good one first, so the helpers are right. */
    char path[] = "/tmp/hn_test_hwjob_ok_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    const char *ok = HEAD GROUPS "\"weights\":[3,-3],\n\"acts\":[0,1,2,3]}";
    assert_int_equal(hn_file_write_atomic(path, ok, strlen(ok)), HN_OK);
    hn_hwjob j;
    assert_int_equal(hn_hwjob_load(path, &j), HN_OK);
    hn_hwjob_free(&j);
    unlink(path);

    expect_bad(HEAD GROUPS "\"weights\":[3,-3],\n\"acts\":[0,1,2,4]}", HN_ERR_RANGE,
               ":5: acts[3]: 4 is out of range for channel 1");
    expect_bad(HEAD GROUPS "\"weights\":[3,\n-4],\n\"acts\":[0,1,2,3]}", HN_ERR_RANGE,
               ":5: weights[1]: -4 is out of range");
    expect_bad(HEAD GROUPS "\"weights\":[3],\n\"acts\":[0,1,2,3]}", HN_ERR_SCHEMA,
               "weights: 1 values, expected");
    expect_bad(HEAD GROUPS "\"weights\":[3,-3],\n\"acts\":[0,1,2]}", HN_ERR_SCHEMA,
               "acts: 3 values, expected");
    expect_bad(HEAD GROUPS "\"weights\":[3,-3]}", HN_ERR_SCHEMA,
               "missing required key 'acts'");
    expect_bad(HEAD GROUPS "\"weights\":[3,-3],\"acts\":[0,1,2,3],\"bias\":1}",
               HN_ERR_SCHEMA, "unknown key 'bias'");
    expect_bad(HEAD GROUPS "\"weights\":[3,\"x\"],\n\"acts\":[0,1,2,3]}", HN_ERR_SCHEMA,
               "weights[1]: expected an integer");
    expect_bad(HEAD GROUPS "\"weights\":[3,1.5],\n\"acts\":[0,1,2,3]}", HN_ERR_SCHEMA,
               "weights[1]");
    expect_bad(HEAD "\"in_groups\":[{\"channels\":2,\"bit\":2}],\n\"out_groups\":"
               "[{\"filters\":1,\"bits\":3}],\"weights\":[3,-3],\"acts\":[0,1,2,3]}",
               HN_ERR_SCHEMA, "in_groups[0].bit");
    expect_bad(HEAD "\"in_groups\":[],\n\"out_groups\":"
               "[{\"filters\":1,\"bits\":3}],\"weights\":[],\"acts\":[]}",
               HN_ERR_SCHEMA, "in_groups: 0 groups");
    expect_bad(HEAD "\"in_groups\":[{\"channels\":2,\"bits\":0}],\n\"out_groups\":"
               "[{\"filters\":1,\"bits\":3}],\"weights\":[3,-3],\"acts\":[0,1,2,3]}",
               HN_ERR_RANGE, "in_groups[0].bits");
    expect_bad(HEAD "\"in_groups\":[{\"channels\":2,\"bits\":2}],\n\"out_groups\":"
               "[{\"filters\":1,\"bits\":1}],\"weights\":[1,0],\"acts\":[0,1,2,3]}",
               HN_ERR_RANGE, "weights[1]: 0 is out of range");
    expect_bad("{\"k\":3,\"stride\":1,\"pad\":1,\"in_h\":1,\"in_w\":1,\n" GROUPS
               "\"weights\":[],\"acts\":[0,1]}", HN_ERR_SCHEMA, "weights: 0 values");
    expect_bad("{\"k\":3,\"stride\":1,\"pad\":3,\"in_h\":1,\"in_w\":1,\n" GROUPS
               "\"weights\":[],\"acts\":[0,1]}", HN_ERR_RANGE, "pad: 3");
    expect_bad("{\"k\":0,\"stride\":1}", HN_ERR_RANGE, "k");
    expect_bad("{\"k\":1,\"stride\":1,,}", HN_ERR_PARSE, ":1");
    expect_bad("[1, 2]", HN_ERR_SCHEMA, "expected a mapping");
    expect_bad("", HN_ERR_PARSE, "empty");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_fixture), cmocka_unit_test(test_out_dims),
        cmocka_unit_test(test_roundtrip),    cmocka_unit_test(test_random),
        cmocka_unit_test(test_bad_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
