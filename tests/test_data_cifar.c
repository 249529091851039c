/* CIFAR-10 binary reader on generated batch files, and its bad inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hetnas/data.h"

static char g_dir[256];

/* Record r of batch b: label (b*3 + r) % 10, pixel (ch, y, x) = (r + b*11 + ch*50 + y*32 + x) & 255. */
static void write_batch(const char *path, int b, int n, size_t cut) {
    size_t len = (size_t)n * 3073;
    uint8_t *buf = malloc(len);
    for (int r = 0; r < n; r++) {
        uint8_t *p = buf + (size_t)r * 3073;
        p[0] = (uint8_t)((b * 3 + r) % 10);
        for (int ch = 0; ch < 3; ch++)
            for (int i = 0; i < 1024; i++)
                p[1 + ch * 1024 + i] = (uint8_t)((r + b * 11 + ch * 50 + i) & 255);
    }
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(buf, 1, len - cut, f);
    fclose(f);
    free(buf);
}

static void test_load(void **st) {
    (void)st;
    char dir[300], p[800];
    snprintf(dir, sizeof dir, "%s/c1", g_dir);
    mkdir(dir, 0755);
    for (int b = 1; b <= 5; b++) {
        snprintf(p, sizeof p, "%s/data_batch_%d.bin", dir, b);
        write_batch(p, b, 4, 0);
    }
    snprintf(p, sizeof p, "%s/test_batch.bin", dir);
    write_batch(p, 0, 3, 0);
    hn_dataset *d = NULL;
    assert_int_equal(hn_dataset_load("cifar10", dir, HN_DATA_TRAIN, &d), HN_OK);
    assert_int_equal(hn_dataset_n(d), 20);
    assert_int_equal(hn_dataset_c(d), 3);
    assert_int_equal(hn_dataset_h(d), 32);
    assert_int_equal(hn_dataset_w(d), 32);
    const uint8_t *px = hn_dataset_pixels(d), *lb = hn_dataset_labels(d);
    for (int b = 1; b <= 5; b++)
        for (int r = 0; r < 4; r++) {
            int i = (b - 1) * 4 + r;
            assert_int_equal(lb[i], (b * 3 + r) % 10);
            for (int ch = 0; ch < 3; ch++)
                for (int k = 0; k < 1024; k += 37)
                    assert_int_equal(px[(size_t)i * 3072 + ch * 1024 + k],
                                     (r + b * 11 + ch * 50 + k) & 255);
        }
    hn_dataset_free(d);
    assert_int_equal(hn_dataset_load("cifar10", dir, HN_DATA_TEST, &d), HN_OK);
    assert_int_equal(hn_dataset_n(d), 3);
    assert_int_equal(hn_dataset_labels(d)[2], 2);
    hn_dataset_free(d);
    /* the standard archive layout: dir/cifar-10-batches-bin/ */
    assert_int_equal(hn_dataset_load("cifar10", g_dir, HN_DATA_TEST, &d), HN_ERR_IO);
    char sub[300];
    snprintf(sub, sizeof sub, "%s/cifar-10-batches-bin", g_dir);
    mkdir(sub, 0755);
    snprintf(p, sizeof p, "%s/test_batch.bin", sub);
    write_batch(p, 0, 2, 0);
    assert_int_equal(hn_dataset_load("cifar10", g_dir, HN_DATA_TEST, &d), HN_OK);
    assert_int_equal(hn_dataset_n(d), 2);
    hn_dataset_free(d);
}

static void test_bad(void **st) {
    (void)st;
    char dir[300], p[800];
    snprintf(dir, sizeof dir, "%s/c2", g_dir);
    mkdir(dir, 0755);
    hn_dataset *d = NULL;
    /* missing batch file: the message names it */
    for (int b = 1; b <= 3; b++) {
        snprintf(p, sizeof p, "%s/data_batch_%d.bin", dir, b);
        write_batch(p, b, 2, 0);
    }
    assert_int_equal(hn_dataset_load("cifar10", dir, HN_DATA_TRAIN, &d), HN_ERR_IO);
    assert_non_null(strstr(hn_error_msg(), "data_batch_4.bin"));
    /* truncated record */
    snprintf(p, sizeof p, "%s/test_batch.bin", dir);
    write_batch(p, 0, 3, 100);
    assert_int_equal(hn_dataset_load("cifar10", dir, HN_DATA_TEST, &d), HN_ERR_FORMAT);
    assert_non_null(strstr(hn_error_msg(), "test_batch.bin"));
    assert_non_null(strstr(hn_error_msg(), "3073"));
    /* empty file */
    write_batch(p, 0, 1, 3073);
    assert_int_equal(hn_dataset_load("cifar10", dir, HN_DATA_TEST, &d), HN_ERR_FORMAT);
    /* label out of range (corrupt / CIFAR-100 fine labels) */
    write_batch(p, 0, 3, 0);
    FILE *f = fopen(p, "r+b");
    fseek(f, 3073, SEEK_SET);
    fputc(57, f);
    fclose(f);
    assert_int_equal(hn_dataset_load("cifar10", dir, HN_DATA_TEST, &d), HN_ERR_FORMAT);
    assert_non_null(strstr(hn_error_msg(), "record 1 has label 57"));
    /* missing directory and no directory */
    assert_int_equal(hn_dataset_load("cifar10", "/nonexistent/cifar", HN_DATA_TEST, &d),
                     HN_ERR_IO);
    assert_non_null(strstr(hn_error_msg(), "/nonexistent/cifar"));
    assert_int_equal(hn_dataset_load("cifar10", NULL, HN_DATA_TEST, &d), HN_ERR_INVAL);
    assert_non_null(strstr(hn_error_msg(), "data.dir"));
    assert_null(d);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/hn_test_data_cifar_XXXXXX");
    if (!mkdtemp(g_dir)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_bad),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
    return r;
}
