/* Fuzz regressions: every input a fuzzer ever crashed on
 * (tests/fuzz/regress/<parser>/) must now fail cleanly (an error status and
 * a message), and every seed (tests/fuzz/corpus/<parser>/) must load or fail
 * cleanly, through the same parser entry points as tests/fuzz/fuzz_<parser>.c
 * but by path where the library reads files.  Under the ASan build (make
 * test) this also checks them for memory errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/arch.h"
#include "hetnas/checkpoint.h"
#include "hetnas/config.h"
#include "hetnas/data.h"
#include "hetnas/experiment.h"
#include "hetnas/fileio.h"
#include "hetnas/hwjob.h"
#include "hetnas/jv.h"

/* One parser run on one file: its status (the message is checked by the
 * caller). */
typedef hn_status (*parse_fn)(const char *path, const char *buf, size_t len);

static hn_status p_config(const char *path, const char *buf, size_t len) {
    (void)len;
    (void)path;
    hn_resnet_spec spec = hn_resnet_spec_default();
    spec.depth = 8;
    hn_arch *a = NULL;
    assert_int_equal(hn_arch_resnet(&spec, &a), HN_OK);
    hn_config *c = NULL;
    hn_status s = hn_config_load_string(buf, "regress", a, &c);
    hn_config_free(c);
    hn_arch_free(a);
    return s;
}

static hn_status p_experiment(const char *path, const char *buf, size_t len) {
    (void)path;
    (void)len;
    hn_experiment e;
    hn_status s = hn_experiment_load_string(buf, "regress.yaml", NULL, 0, &e);
    if (s == HN_OK) hn_experiment_clear(&e);
    return s;
}

static hn_status p_idx(const char *path, const char *buf, size_t len) {
    (void)buf;
    (void)len;
    int n, h, w;
    uint8_t *px = NULL, *lb = NULL;
    hn_status si = hn_idx_load_images(path, &n, &h, &w, &px);
    free(px);
    hn_status sl = hn_idx_load_labels(path, &n, &lb);
    free(lb);
    return si == HN_OK ? si : sl; /* a seed is one or the other */
}

static hn_status p_cifar10(const char *path, const char *buf, size_t len) {
    int n = 0;
    uint8_t *px = NULL, *lb = NULL;
    hn_status s = hn_cifar10_load_batch(path, &n, &px, &lb);
    int n2 = 0;
    uint8_t *px2 = NULL, *lb2 = NULL;
    hn_status s2 = hn_cifar10_load_batch_buffer((const uint8_t *)buf, len, path,
                                                &n2, &px2, &lb2);
    assert_int_equal(s, s2); /* file and buffer readers agree */
    assert_int_equal(n, n2);
    free(px);
    free(lb);
    free(px2);
    free(lb2);
    return s;
}

static hn_status p_safetensors(const char *path, const char *buf, size_t len) {
    (void)buf;
    (void)len;
    hn_ckpt *c = NULL;
    hn_status s = hn_ckpt_load(path, &c);
    if (s == HN_OK) hn_ckpt_free(c);
    return s;
}

static hn_status p_json(const char *path, const char *buf, size_t len) {
    hn_jv *v = NULL;
    hn_status s = hn_jv_parse(buf, len, path, &v);
    hn_jv_free(v);
    return s;
}

static hn_status p_hwjob(const char *path, const char *buf, size_t len) {
    hn_hwjob job;
    hn_status s = hn_hwjob_load(path, &job);
    if (s == HN_OK) hn_hwjob_free(&job);
    hn_hwjob job2;
    hn_status s2 = hn_hwjob_load_string(buf, len, path, &job2);
    if (s2 == HN_OK) hn_hwjob_free(&job2);
    assert_int_equal(s, s2); /* file and string readers agree */
    return s;
}

static const struct {
    const char *name;
    parse_fn fn;
} k_parsers[] = {
    {"config", p_config},   {"experiment", p_experiment},
    {"idx", p_idx},         {"cifar10", p_cifar10},
    {"safetensors", p_safetensors}, {"json", p_json},
    {"hwjob", p_hwjob},
};

/* Runs every file of tests/fuzz/<kind>/<parser>/; regress files must fail. */
static int run_dir(const char *kind, const char *parser, parse_fn fn,
                   int must_fail) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/tests/fuzz/%s/%s", HN_SOURCE_DIR, kind, parser);
    DIR *d = opendir(dir);
    if (!d) return 0; /* no regressions (yet) for this parser */
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        char *buf = NULL;
        size_t len = 0;
        assert_int_equal(hn_file_read_all(path, &buf, &len), HN_OK);
        /* buf has a trailing NUL: the text parsers read it as C text */
        hn_error_clear();
        hn_status s = fn(path, buf, len);
        if (s != HN_OK && hn_error_msg()[0] == '\0') {
            fprintf(stderr, "%s: failed (%s) without a message\n", path,
                    hn_status_str(s));
            fail();
        }
        if (must_fail && s == HN_OK) {
            fprintf(stderr, "%s: a past crash input now loads\n", path);
            fail();
        }
        free(buf);
        n++;
    }
    closedir(d);
    return n;
}

static void test_corpus_and_regressions(void **state) {
    (void)state;
    int total = 0;
    for (size_t i = 0; i < sizeof k_parsers / sizeof *k_parsers; i++) {
        int nc = run_dir("corpus", k_parsers[i].name, k_parsers[i].fn, 0);
        int nr = run_dir("regress", k_parsers[i].name, k_parsers[i].fn, 1);
        assert_true(nc > 0); /* every parser has seeds */
        printf("%-12s %3d seeds, %2d regressions\n", k_parsers[i].name, nc, nr);
        total += nc + nr;
    }
    assert_true(total > 0);
}

/* fuzz_idx: a 30-byte file whose header announces 131840 images of
 * 1024 x 1280 made the reader malloc 172 GB up front.  Now the buffer grows
 * with the data read and the file fails as truncated. */
static void test_idx_huge_header(void **state) {
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/tests/fuzz/regress/idx/huge-header-172GB.idx",
             HN_SOURCE_DIR);
    int n, h, w;
    uint8_t *px = NULL;
    assert_int_equal(hn_idx_load_images(path, &n, &h, &w, &px), HN_ERR_FORMAT);
    assert_null(px);
    assert_non_null(strstr(hn_error_msg(), "truncated: the pixel data needs "
                                           "172805324800 bytes, only 16 are there"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus_and_regressions),
        cmocka_unit_test(test_idx_huge_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
