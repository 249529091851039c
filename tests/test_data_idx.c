/* IDX reader (plain and gzip), dataset loading by directory, every
 * corruption case, and the real Fashion-MNIST when installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "hetnas/data.h"

static char g_dir[256];

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void write_file(const char *path, const void *buf, size_t len, int gz) {
    if (gz) {
        gzFile f = gzopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(gzwrite(f, buf, (unsigned)len), (int)len);
        assert_int_equal(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(buf, 1, len, f), len);
        fclose(f);
    }
}

/* IDX image file bytes: n images of h x w, pixel (i, y, x) = (i*7 + y*3 + x) & 255 */
static uint8_t *make_images(int n, int h, int w, size_t *len) {
    *len = 16 + (size_t)n * h * w;
    uint8_t *b = malloc(*len);
    put_be32(b, 0x803);
    put_be32(b + 4, (uint32_t)n);
    put_be32(b + 8, (uint32_t)h);
    put_be32(b + 12, (uint32_t)w);
    for (int i = 0; i < n; i++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                b[16 + ((size_t)i * h + y) * w + x] = (uint8_t)((i * 7 + y * 3 + x) & 255);
    return b;
}

static uint8_t *make_labels(int n, size_t *len) {
    *len = 8 + (size_t)n;
    uint8_t *b = malloc(*len);
    put_be32(b, 0x801);
    put_be32(b + 4, (uint32_t)n);
    for (int i = 0; i < n; i++) b[8 + i] = (uint8_t)((i * 3) % 10);
    return b;
}

static char *path_of(const char *name) {
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

static void check_images(const char *path) {
    int n = 0, h = 0, w = 0;
    uint8_t *px = NULL;
    assert_int_equal(hn_idx_load_images(path, &n, &h, &w, &px), HN_OK);
    assert_int_equal(n, 5);
    assert_int_equal(h, 4);
    assert_int_equal(w, 3);
    for (int i = 0; i < 5; i++)
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 3; x++)
                assert_int_equal(px[(i * 4 + y) * 3 + x], (i * 7 + y * 3 + x) & 255);
    free(px);
}

static void test_plain_and_gz(void **st) {
    (void)st;
    size_t li, ll;
    uint8_t *im = make_images(5, 4, 3, &li), *lb = make_labels(5, &ll);
    write_file(path_of("a-images"), im, li, 0);
    write_file(path_of("a-images.gz"), im, li, 1);
    check_images(path_of("a-images"));
    check_images(path_of("a-images.gz"));
    write_file(path_of("a-labels.gz"), lb, ll, 1);
    int n;
    uint8_t *l = NULL;
    assert_int_equal(hn_idx_load_labels(path_of("a-labels.gz"), &n, &l), HN_OK);
    assert_int_equal(n, 5);
    for (int i = 0; i < 5; i++) assert_int_equal(l[i], (i * 3) % 10);
    free(l);
    hn_dataset *d = NULL;
    assert_int_equal(hn_dataset_load_idx(path_of("a-images.gz"),
                                         path_of("a-labels.gz"), 10, &d), HN_OK);
    assert_int_equal(hn_dataset_n(d), 5);
    assert_int_equal(hn_dataset_c(d), 1);
    assert_int_equal(hn_dataset_pixels(d)[4 * 3 * 2 + 3 + 1], (2 * 7 + 1 * 3 + 1) & 255);
    assert_int_equal(hn_dataset_labels(d)[4], 2);
    hn_dataset_free(d);
    free(im);
    free(lb);
}

/* Expects failure with a message containing the path and `what`. */
static void expect_err(hn_status s, hn_status want, const char *path,
                       const char *what) {
    assert_int_equal(s, want);
    const char *m = hn_error_msg();
    if (!strstr(m, path) || !strstr(m, what))
        fail_msg("message '%s' lacks '%s' or '%s'", m, path, what);
}

static void test_corrupt(void **st) {
    (void)st;
    size_t li, ll;
    uint8_t *im = make_images(5, 4, 3, &li), *lb = make_labels(5, &ll);
    int n, h, w;
    uint8_t *px = NULL;
    for (int gz = 0; gz < 2; gz++) {
        const char *p = path_of(gz ? "bad.gz" : "bad");
        /* truncated pixel data */
        write_file(p, im, li - 7, gz);
        expect_err(hn_idx_load_images(p, &n, &h, &w, &px), HN_ERR_FORMAT, p,
                   "truncated");
        /* truncated inside the header */
        write_file(p, im, 10, gz);
        expect_err(hn_idx_load_images(p, &n, &h, &w, &px), HN_ERR_FORMAT, p,
                   "truncated");
        /* extra bytes: header says fewer images than the file holds */
        uint8_t *c = malloc(li);
        memcpy(c, im, li);
        put_be32(c + 4, 4);
        write_file(p, c, li, gz);
        expect_err(hn_idx_load_images(p, &n, &h, &w, &px), HN_ERR_FORMAT, p,
                   "size mismatch");
        /* wrong magic: a label file given as images and vice versa */
        write_file(p, lb, ll, gz);
        expect_err(hn_idx_load_images(p, &n, &h, &w, &px), HN_ERR_FORMAT, p,
                   "dimensions");
        write_file(p, im, li, gz);
        expect_err(hn_idx_load_labels(p, &n, &px), HN_ERR_FORMAT, p,
                   "dimensions");
        memcpy(c, im, li);
        c[0] = 0x1f;
        write_file(p, c, li, gz);
        expect_err(hn_idx_load_images(p, &n, &h, &w, &px), HN_ERR_FORMAT, p,
                   "magic");
        memcpy(c, im, li);
        c[2] = 0x0d; /* float elements */
        write_file(p, c, li, gz);
        expect_err(hn_idx_load_images(p, &n, &h, &w, &px), HN_ERR_FORMAT, p,
                   "element type");
        /* zero images */
        memcpy(c, im, li);
        put_be32(c + 4, 0);
        write_file(p, c, 16, gz);
        expect_err(hn_idx_load_images(p, &n, &h, &w, &px), HN_ERR_FORMAT, p,
                   "implausible");
        /* empty file */
        write_file(p, c, 0, gz);
        expect_err(hn_idx_load_images(p, &n, &h, &w, &px), HN_ERR_FORMAT, p,
                   "truncated");
        free(c);
    }
    /* corrupt gzip stream: flip bytes in the deflate data of a big file */
    {
        size_t lbig;
        uint8_t *big = make_images(200, 28, 28, &lbig);
        const char *p = path_of("corrupt.gz");
        write_file(p, big, lbig, 1);
        FILE *f = fopen(p, "r+b");
        fseek(f, 0, SEEK_END);
        long sz = ftell(f);
        for (long o = 40; o < sz - 16; o += 97) {
            fseek(f, o, SEEK_SET);
            fputc(0xff, f);
        }
        fclose(f);
        assert_int_equal(hn_idx_load_images(p, &n, &h, &w, &px), HN_ERR_FORMAT);
        assert_non_null(strstr(hn_error_msg(), p));
        /* truncated gzip file */
        write_file(p, big, lbig, 1);
        assert_int_equal(truncate(p, 300), 0);
        assert_int_equal(hn_idx_load_images(p, &n, &h, &w, &px), HN_ERR_FORMAT);
        assert_non_null(strstr(hn_error_msg(), p));
        free(big);
    }
    /* missing file */
    expect_err(hn_idx_load_images(path_of("nope"), &n, &h, &w, &px), HN_ERR_IO,
               path_of("nope"), "cannot open");
    /* count mismatch between images and labels */
    size_t l4;
    uint8_t *lb4 = make_labels(4, &l4);
    write_file(path_of("m-images"), im, li, 0);
    write_file(path_of("m-labels"), lb4, l4, 0);
    hn_dataset *d = NULL;
    expect_err(hn_dataset_load_idx(path_of("m-images"), path_of("m-labels"), 10, &d),
               HN_ERR_FORMAT, path_of("m-labels"), "count mismatch");
    /* label out of range */
    uint8_t *lbx = make_labels(5, &ll);
    lbx[8 + 2] = 12;
    write_file(path_of("x-labels"), lbx, ll, 0);
    expect_err(hn_dataset_load_idx(path_of("m-images"), path_of("x-labels"), 10, &d),
               HN_ERR_FORMAT, path_of("x-labels"), "label 12");
    assert_null(d);
    free(lb4);
    free(lbx);
    free(im);
    free(lb);
}

static void test_dir_loading(void **st) {
    (void)st;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/fm", g_dir);
    mkdir(dir, 0755);
    size_t li, ll, ti, tl;
    uint8_t *im = make_images(6, 28, 28, &li), *lb = make_labels(6, &ll);
    uint8_t *tim = make_images(3, 28, 28, &ti), *tlb = make_labels(3, &tl);
    char p[600];
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz", dir);
    write_file(p, im, li, 1);
    snprintf(p, sizeof p, "%s/train-labels-idx1-ubyte", dir); /* plain */
    write_file(p, lb, ll, 0);
    hn_dataset *d = NULL;
    assert_int_equal(hn_dataset_load("fashion-mnist", dir, HN_DATA_TRAIN, &d), HN_OK);
    assert_int_equal(hn_dataset_n(d), 6);
    assert_int_equal(hn_dataset_h(d), 28);
    assert_string_equal(hn_dataset_name(d), "fashion-mnist");
    hn_dataset_free(d);
    /* test part missing: error names the directory and the file */
    expect_err(hn_dataset_load("mnist", dir, HN_DATA_TEST, &d), HN_ERR_IO, dir,
               "t10k-images-idx3-ubyte");
    snprintf(p, sizeof p, "%s/t10k-images-idx3-ubyte", dir);
    write_file(p, tim, ti, 0);
    snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte.gz", dir);
    write_file(p, tlb, tl, 1);
    assert_int_equal(hn_dataset_load("mnist", dir, HN_DATA_TEST, &d), HN_OK);
    assert_int_equal(hn_dataset_n(d), 3);
    hn_dataset_free(d);
    /* missing directory, unknown dataset */
    expect_err(hn_dataset_load("fashion-mnist", "/nonexistent/hn", HN_DATA_TRAIN, &d),
               HN_ERR_IO, "/nonexistent/hn", "does not exist");
    assert_int_equal(hn_dataset_load("imagenet", dir, HN_DATA_TRAIN, &d), HN_ERR_INVAL);
    assert_non_null(strstr(hn_error_msg(), "imagenet"));
    free(im);
    free(lb);
    free(tim);
    free(tlb);
}

static void test_real_fashion_mnist(void **st) {
    (void)st;
    if (access(HN_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", R_OK) != 0) {
        print_message("SKIP: %s not installed (Debian package "
                      "dataset-fashion-mnist)\n", HN_FASHION_MNIST_DIR);
        skip();
    }
    hn_dataset *tr = NULL, *te = NULL;
    assert_int_equal(hn_dataset_load("fashion-mnist", NULL, HN_DATA_TRAIN, &tr), HN_OK);
    assert_int_equal(hn_dataset_load("fashion-mnist", NULL, HN_DATA_TEST, &te), HN_OK);
    assert_int_equal(hn_dataset_n(tr), 60000);
    assert_int_equal(hn_dataset_n(te), 10000);
    assert_int_equal(hn_dataset_c(tr), 1);
    assert_int_equal(hn_dataset_h(tr), 28);
    assert_int_equal(hn_dataset_w(tr), 28);
    int count[10] = {0};
    for (int i = 0; i < 60000; i++) {
        int y = hn_dataset_labels(tr)[i];
        assert_in_range(y, 0, 9);
        count[y]++;
    }
    for (int k = 0; k < 10; k++) assert_int_equal(count[k], 6000); /* balanced */
    hn_norm nm;
    assert_int_equal(hn_norm_compute(tr, NULL, 0, &nm), HN_OK);
    print_message("fashion-mnist train mean %.4f std %.4f\n", nm.mean[0], nm.std[0]);
    /* widely quoted values: mean 0.2860, std 0.3530 */
    assert_true(nm.mean[0] > 0.27 && nm.mean[0] < 0.30);
    assert_true(nm.std[0] > 0.33 && nm.std[0] < 0.37);
    hn_dataset_free(tr);
    hn_dataset_free(te);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/hn_test_data_idx_XXXXXX");
    if (!mkdtemp(g_dir)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_gz),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_dir_loading),
        cmocka_unit_test(test_real_fashion_mnist),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) r = r ? r : 0;
    return r;
}
