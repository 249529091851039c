/* Datasets: uint8 images (n, c, h, w) and labels held in memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hetnas/data.h"

struct hn_dataset {
    int n, c, h, w;
    int num_classes;
    char name[64];
    uint8_t *pixels; // (n, c, h, w)
    uint8_t *labels; // (n)
};

void hn_dataset_free(hn_dataset *d) {
    if (!d) return;
    free(d->pixels);
    free(d->labels);
    free(d);
}

int hn_dataset_n(const hn_dataset *d) { return d->n; }
int hn_dataset_c(const hn_dataset *d) { return d->c; }
int hn_dataset_h(const hn_dataset *d) { return d->h; }
int hn_dataset_w(const hn_dataset *d) { return d->w; }
int hn_dataset_num_classes(const hn_dataset *d) { return d->num_classes; }
const char *hn_dataset_name(const hn_dataset *d) { return d->name; }
const uint8_t *hn_dataset_pixels(const hn_dataset *d) { return d->pixels; }
const uint8_t *hn_dataset_labels(const hn_dataset *d) { return d->labels; }

/* Takes ownership of pixels and labels (also on failure). */
static hn_status wrap(int n, int c, int h, int w, uint8_t *pixels,
                      uint8_t *labels, int num_classes, const char *name,
                      const char *labels_path, hn_dataset **out) {
    for (int i = 0; i < n; i++) {
        if (labels[i] >= num_classes) {
            hn_status s = hn_fail(HN_ERR_FORMAT,
                                  "%s: label %d of sample %d is out of range "
                                  "(%d classes)",
                                  labels_path, labels[i], i, num_classes);
            free(pixels);
            free(labels);
            return s;
        }
    }
    hn_dataset *d = calloc(1, sizeof *d);
    if (!d) {
        free(pixels);
        free(labels);
        return hn_fail(HN_ERR_NOMEM, "dataset: out of memory");
    }
    d->n = n;
    d->c = c;
    d->h = h;
    d->w = w;
    d->num_classes = num_classes;
    snprintf(d->name, sizeof d->name, "%s", name ? name : "");
    d->pixels = pixels;
    d->labels = labels;
    *out = d;
    return HN_OK;
}

hn_status hn_dataset_from_memory(int n, int c, int h, int w,
                                 const uint8_t *pixels, const uint8_t *labels,
                                 int num_classes, const char *name,
                                 hn_dataset **out) {
    if (n < 1 || c < 1 || c > HN_DATA_MAX_C || h < 1 || w < 1 ||
        num_classes < 1 || num_classes > 256)
        return hn_fail(HN_ERR_INVAL,
                       "dataset %s: bad geometry n=%d c=%d h=%d w=%d "
                       "classes=%d",
                       name ? name : "", n, c, h, w, num_classes);
    size_t len = (size_t)n * c * h * w;
    uint8_t *p = malloc(len), *l = malloc((size_t)n);
    if (!p || !l) {
        free(p);
        free(l);
        return hn_fail(HN_ERR_NOMEM, "dataset: out of memory");
    }
    memcpy(p, pixels, len);
    memcpy(l, labels, (size_t)n);
    return wrap(n, c, h, w, p, l, num_classes, name, name ? name : "labels",
                out);
}

hn_status hn_dataset_load_idx(const char *images_path, const char *labels_path,
                              int num_classes, hn_dataset **out) {
    int n, h, w, nl;
    uint8_t *px = NULL, *lb = NULL;
    HN_TRY(hn_idx_load_images(images_path, &n, &h, &w, &px));
    hn_status s = hn_idx_load_labels(labels_path, &nl, &lb);
    if (s != HN_OK) {
        free(px);
        return s;
    }
    if (nl != n) {
        free(px);
        free(lb);
        return hn_fail(HN_ERR_FORMAT,
                       "count mismatch: %s has %d images but %s has %d labels",
                       images_path, n, labels_path, nl);
    }
    return wrap(n, 1, h, w, px, lb, num_classes, "idx", labels_path, out);
}

static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* dir/base.gz if present, else dir/base (reported as missing when neither). */
static hn_status find_idx(const char *dir, const char *base, char *buf,
                          size_t cap) {
    snprintf(buf, cap, "%s/%s.gz", dir, base);
    if (is_file(buf)) return HN_OK;
    snprintf(buf, cap, "%s/%s", dir, base);
    if (is_file(buf)) return HN_OK;
    return hn_fail(HN_ERR_IO, "%s: neither %s.gz nor %s found in the data "
                   "directory", dir, base, base);
}

static hn_status load_mnist_dir(const char *name, const char *dir,
                                hn_data_part part, hn_dataset **out) {
    const char *pre = part == HN_DATA_TRAIN ? "train" : "t10k";
    char ib[64], lb[64], ip[4096], lp[4096];
    snprintf(ib, sizeof ib, "%s-images-idx3-ubyte", pre);
    snprintf(lb, sizeof lb, "%s-labels-idx1-ubyte", pre);
    HN_TRY(find_idx(dir, ib, ip, sizeof ip));
    HN_TRY(find_idx(dir, lb, lp, sizeof lp));
    hn_dataset *d;
    HN_TRY(hn_dataset_load_idx(ip, lp, 10, &d));
    snprintf(d->name, sizeof d->name, "%s", name);
    *out = d;
    return HN_OK;
}

static hn_status load_cifar_dir(const char *dir, hn_data_part part,
                                hn_dataset **out) {
    char sub[4096], p[4200];
    snprintf(p, sizeof p, "%s/test_batch.bin", dir);
    snprintf(sub, sizeof sub, "%s/cifar-10-batches-bin", dir);
    const char *base = is_file(p) || !is_dir(sub) ? dir : sub;
    int n = 0;
    uint8_t *px = NULL, *lb = NULL;
    hn_status s = HN_OK;
    if (part == HN_DATA_TRAIN) {
        for (int i = 1; i <= 5 && s == HN_OK; i++) {
            snprintf(p, sizeof p, "%s/data_batch_%d.bin", base, i);
            s = hn_cifar10_load_batch(p, &n, &px, &lb);
        }
    } else {
        snprintf(p, sizeof p, "%s/test_batch.bin", base);
        s = hn_cifar10_load_batch(p, &n, &px, &lb);
    }
    if (s != HN_OK) {
        free(px);
        free(lb);
        return hn_fail_ctx(s, "loading CIFAR-10 from %s", base);
    }
    return wrap(n, 3, 32, 32, px, lb, 10, "cifar10", base, out);
}

hn_status hn_dataset_load(const char *name, const char *dir, hn_data_part part,
                          hn_dataset **out) {
    if (!name) name = "fashion-mnist";
    bool fm = !strcmp(name, "fashion-mnist"), mn = !strcmp(name, "mnist"),
         cf = !strcmp(name, "cifar10");
    if (!fm && !mn && !cf)
        return hn_fail(HN_ERR_INVAL,
                       "unknown dataset '%s' (fashion-mnist|mnist|cifar10)",
                       name);
    if (!dir || !*dir) {
        if (!fm)
            return hn_fail(HN_ERR_INVAL,
                           "dataset %s needs a data directory (data.dir)", name);
        dir = HN_FASHION_MNIST_DIR;
    }
    errno = 0;
    if (!is_dir(dir))
        return hn_fail(HN_ERR_IO, "data directory %s for dataset %s: %s", dir,
                       name, errno == ENOENT ? "does not exist" :
                       "is not a readable directory");
    if (cf) return load_cifar_dir(dir, part, out);
    return load_mnist_dir(name, dir, part, out);
}
