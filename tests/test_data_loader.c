/* Validation split, normalization statistics and the batch loader:
 * exact values, augmentation as a crop/flip of the source, per-epoch
 * determinism, seeking (resume), thread independence, and throughput. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef HN_HAVE_OPENMP
#include <omp.h>
#endif

#include "hetnas/data.h"

/* n samples of c x h x w with pseudo-random pixels and labels i % 10 */
static hn_dataset *make_ds(int n, int c, int h, int w) {
    size_t len = (size_t)n * c * h * w;
    uint8_t *px = malloc(len), *lb = malloc((size_t)n);
    uint32_t s = 12345;
    for (size_t i = 0; i < len; i++) {
        s = s * 1103515245u + 12345u;
        px[i] = (uint8_t)(s >> 16);
    }
    for (int i = 0; i < n; i++) lb[i] = (uint8_t)(i % 10);
    hn_dataset *d = NULL;
    assert_int_equal(hn_dataset_from_memory(n, c, h, w, px, lb, 10, "synthetic", &d), HN_OK);
    free(px);
    free(lb);
    return d;
}

static void test_split(void **st) {
    (void)st;
    hn_split a, b, c;
    assert_int_equal(hn_split_make(1000, 0.1, 0, 7, &a), HN_OK);
    assert_int_equal(a.n_val, 100);
    assert_int_equal(a.n_train, 900);
    char *seen = calloc(1000, 1);
    for (int i = 0; i < a.n_val; i++) seen[a.val[i]]++;
    for (int i = 0; i < a.n_train; i++) seen[a.train[i]]++;
    for (int i = 0; i < 1000; i++) assert_int_equal(seen[i], 1); /* partition */
    for (int i = 1; i < a.n_val; i++) assert_true(a.val[i - 1] < a.val[i]);
    /* shuffled: not the first or last 100 */
    assert_true(a.val[a.n_val - 1] - a.val[0] > 500);
    assert_int_equal(hn_split_make(1000, 0.1, 0, 7, &b), HN_OK);
    assert_memory_equal(a.val, b.val, 100 * sizeof(int));
    assert_int_equal(hn_split_make(1000, 0.5, 100, 8, &c), HN_OK); /* size wins */
    assert_int_equal(c.n_val, 100);
    assert_true(memcmp(a.val, c.val, 100 * sizeof(int)) != 0);
    hn_split_free(&a);
    hn_split_free(&b);
    hn_split_free(&c);
    assert_int_equal(hn_split_make(1000, 0.0, 0, 1, &a), HN_OK);
    assert_int_equal(a.n_val, 0);
    assert_int_equal(a.n_train, 1000);
    hn_split_free(&a);
    assert_int_equal(hn_split_make(1000, 1.0, 0, 1, &a), HN_ERR_RANGE);
    assert_int_equal(hn_split_make(1000, 0.1, 1000, 1, &a), HN_ERR_RANGE);
    free(seen);
}

static void test_norm(void **st) {
    (void)st;
    hn_dataset *d = make_ds(50, 3, 5, 4);
    int idx[3] = {4, 17, 33};
    hn_norm nm;
    assert_int_equal(hn_norm_compute(d, idx, 3, &nm), HN_OK);
    assert_int_equal(nm.c, 3);
    const uint8_t *px = hn_dataset_pixels(d);
    for (int ch = 0; ch < 3; ch++) {
        double s = 0, s2 = 0;
        for (int k = 0; k < 3; k++)
            for (int j = 0; j < 20; j++) {
                double v = px[(idx[k] * 3 + ch) * 20 + j] / 255.0;
                s += v;
            }
        double mean = s / 60;
        for (int k = 0; k < 3; k++)
            for (int j = 0; j < 20; j++) {
                double v = px[(idx[k] * 3 + ch) * 20 + j] / 255.0 - mean;
                s2 += v * v;
            }
        assert_float_equal(nm.mean[ch], mean, 1e-6);
        assert_float_equal(nm.std[ch], sqrt(s2 / 60), 1e-6);
    }
    char js[256], tiny[8];
    hn_norm one = {.c = 2, .mean = {0.25f, 0.5f}, .std = {1.0f, 0.125f}};
    assert_int_equal(hn_norm_to_json(&one, js, sizeof js), HN_OK);
    assert_string_equal(js, "{\"mean\":[0.25,0.5],\"std\":[1,0.125]}");
    assert_int_equal(hn_norm_to_json(&one, tiny, sizeof tiny), HN_ERR_RANGE);
    hn_dataset_free(d);
}

static hn_loader *mk(const hn_dataset *d, const int *idx, int n, int bs,
                     bool shuffle, int pad, bool flip, const hn_norm *nm) {
    hn_loader_opts o = {.batch_size = bs, .shuffle = shuffle, .drop_last = false,
                        .augment = {.crop_pad = pad, .flip = flip}, .seed = 99};
    hn_loader *l = NULL;
    assert_int_equal(hn_loader_new(d, idx, n, nm, &o, &l), HN_OK);
    return l;
}

static void test_plain_values(void **st) {
    (void)st;
    hn_dataset *d = make_ds(10, 3, 6, 5);
    hn_norm nm = {.c = 3, .mean = {0.1f, 0.5f, 0.9f}, .std = {0.2f, 0.25f, 2.0f}};
    int idx[7] = {9, 0, 3, 4, 5, 7, 8};
    hn_loader *l = mk(d, idx, 7, 3, false, 0, false, &nm);
    assert_int_equal(hn_loader_n_batches(l), 3);
    float x[3 * 90];
    int y[3], k = 0, b;
    while ((b = hn_loader_next(l, x, y)) > 0) {
        for (int i = 0; i < b; i++, k++) {
            int s = idx[k];
            assert_int_equal(y[i], s % 10);
            for (int ch = 0; ch < 3; ch++)
                for (int j = 0; j < 30; j++) {
                    float v = hn_dataset_pixels(d)[(s * 3 + ch) * 30 + j];
                    assert_float_equal(x[i * 90 + ch * 30 + j],
                                       (v / 255.0f - nm.mean[ch]) / nm.std[ch], 1e-5);
                }
        }
    }
    assert_int_equal(k, 7); /* last partial batch of 1 included */
    hn_loader_free(l);
    hn_dataset_free(d);
}

/* Which (dy, dx, flip) of the padded source produced out?  -1 if none. */
static int find_aug(const uint8_t *src, const float *out, int c, int h, int w,
                    int p) {
    for (int f = 0; f < 2; f++)
        for (int dy = 0; dy <= 2 * p; dy++)
            for (int dx = 0; dx <= 2 * p; dx++) {
                int ok = 1;
                for (int ch = 0; ch < c && ok; ch++)
                    for (int y = 0; y < h && ok; y++)
                        for (int x = 0; x < w && ok; x++) {
                            int xs = f ? w - 1 - x : x;
                            int sy = y + dy - p, sx = xs + dx - p;
                            float v = (sy < 0 || sy >= h || sx < 0 || sx >= w)
                                          ? 0.0f
                                          : src[(ch * h + sy) * w + sx] / 255.0f;
                            if (fabsf(out[(ch * h + y) * w + x] - v) > 1e-6f) ok = 0;
                        }
                if (ok) return (f * 9 + dy) * 9 + dx;
            }
    return -1;
}

static void test_augment(void **st) {
    (void)st;
    int n = 400, c = 2, h = 8, w = 8, p = 4;
    hn_dataset *d = make_ds(n, c, h, w);
    hn_loader *l = mk(d, NULL, 0, 64, true, p, true, NULL);
    float *x = malloc(sizeof(float) * 64 * c * h * w);
    int y[64], hits[2 * 9 * 9] = {0}, b, pos = 0;
    char *seen = calloc((size_t)n, 1);
    hn_loader_start_epoch(l, 3);
    while ((b = hn_loader_next(l, x, y)) > 0) {
        for (int i = 0; i < b; i++, pos++) {
            int s = hn_loader_order_at(l, pos);
            seen[s]++;
            assert_int_equal(y[i], s % 10);
            int a = find_aug(hn_dataset_pixels(d) + (size_t)s * c * h * w,
                             x + (size_t)i * c * h * w, c, h, w, p);
            assert_true(a >= 0);
            hits[a]++;
        }
    }
    for (int i = 0; i < n; i++) assert_int_equal(seen[i], 1);
    /* every offset and both flips occur (400 draws over 162 cases: the chance
     * that a fair draw misses one is tiny; a stuck RNG misses most) */
    int used = 0, flips = 0;
    for (int a = 0; a < 162; a++) {
        used += hits[a] > 0;
        if (a >= 81) flips += hits[a];
    }
    assert_true(used >= 120);
    assert_in_range(flips, 150, 250);
    free(seen);
    free(x);
    hn_loader_free(l);
    hn_dataset_free(d);
}

/* All batches of one epoch, concatenated. */
static float *epoch_data(hn_loader *l, int epoch, size_t per, int *nb) {
    size_t bs = 32;
    float *all = malloc(sizeof(float) * per * (size_t)hn_loader_n_samples(l));
    int y[32], b, k = 0;
    (void)bs;
    hn_loader_start_epoch(l, epoch);
    while ((b = hn_loader_next(l, all + (size_t)k * per, y)) > 0) k += b;
    *nb = k;
    return all;
}

static void test_determinism_and_seek(void **st) {
    (void)st;
    hn_dataset *d = make_ds(300, 3, 12, 12);
    size_t per = 3 * 12 * 12;
    hn_loader *l = mk(d, NULL, 0, 32, true, 4, true, NULL);
    int k1, k2, k3;
    float *e1 = epoch_data(l, 1, per, &k1);
    float *e2 = epoch_data(l, 2, per, &k2);
    float *e1b = epoch_data(l, 1, per, &k3);
    assert_int_equal(k1, 300);
    assert_memory_equal(e1, e1b, sizeof(float) * per * 300);
    assert_true(memcmp(e1, e2, sizeof(float) * per * 300) != 0);
    /* resume: a fresh loader seeking to batch 5 of epoch 1 continues exactly */
    hn_loader *l2 = mk(d, NULL, 0, 32, true, 4, true, NULL);
    hn_loader_start_epoch(l2, 1);
    hn_loader_seek(l2, 5);
    float *x = malloc(sizeof(float) * 32 * per);
    int y[32];
    assert_int_equal(hn_loader_next(l2, x, y), 32);
    assert_memory_equal(x, e1 + 5 * 32 * per, sizeof(float) * 32 * per);
#ifdef HN_HAVE_OPENMP
    /* the thread count does not change the data */
    int nt = omp_get_max_threads();
    omp_set_num_threads(1);
    float *s1 = epoch_data(l2, 1, per, &k3);
    omp_set_num_threads(nt > 1 ? nt : 2);
    assert_memory_equal(s1, e1, sizeof(float) * per * 300);
    free(s1);
#endif
    free(x);
    free(e1);
    free(e2);
    free(e1b);
    hn_loader_free(l);
    hn_loader_free(l2);
    hn_dataset_free(d);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* Not a benchmark gate: prints images/s of a CIFAR-shaped augmented epoch
 * so a regression is visible in the test log. */
static void test_throughput(void **st) {
    (void)st;
    hn_dataset *d = make_ds(10000, 3, 32, 32);
    hn_norm nm;
    assert_int_equal(hn_norm_compute(d, NULL, 0, &nm), HN_OK);
    hn_loader *l = mk(d, NULL, 0, 128, true, 4, true, &nm);
    float *x = malloc(sizeof(float) * 128 * 3072);
    int y[128], b, k = 0;
    double t0 = now_s();
    for (int e = 0; e < 3; e++) {
        hn_loader_start_epoch(l, e);
        while ((b = hn_loader_next(l, x, y)) > 0) k += b;
    }
    double dt = now_s() - t0;
    assert_int_equal(k, 30000);
    print_message("loader: 3x32x32 pad-4 crop + flip + normalize: %.0f images/s\n",
                  k / dt);
    free(x);
    hn_loader_free(l);
    hn_dataset_free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_norm),
        cmocka_unit_test(test_plain_values),
        cmocka_unit_test(test_augment),
        cmocka_unit_test(test_determinism_and_seek),
        cmocka_unit_test(test_throughput),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
