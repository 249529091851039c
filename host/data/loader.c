/* Batch loader: seeded per-epoch order, per-sample augmentation seeded by
 * (seed, epoch, position) so batches do not depend on the thread count or
 * on where a run was resumed, and a per-channel lookup table that turns a
 * uint8 pixel into its normalized float in one load. */
#include <stdlib.h>
#include <string.h>

#include "hetnas/data.h"
#include "hetnas/rng.h"

#define AUG_SALT 0xa5c3e1f0d2b49687ULL /* separates augmentation from order */

struct hn_loader {
    const hn_dataset *d;
    int *idx;   // (n) dataset indices of the samples this loader covers
    int *order; // (n) this epoch's permutation of idx
    int n;
    hn_loader_opts o;
    float lut[HN_DATA_MAX_C][256]; // normalized value of each pixel level
    int epoch, batch;
};

hn_status hn_loader_new(const hn_dataset *d, const int *idx, int n_idx,
                        const hn_norm *norm, const hn_loader_opts *opts,
                        hn_loader **out) {
    int n = idx ? n_idx : hn_dataset_n(d);
    if (n < 1) return hn_fail(HN_ERR_INVAL, "loader: no samples");
    if (opts->batch_size < 1)
        return hn_fail(HN_ERR_INVAL, "loader: batch_size %d < 1",
                       opts->batch_size);
    int h = hn_dataset_h(d), w = hn_dataset_w(d), c = hn_dataset_c(d);
    if (opts->augment.crop_pad < 0 || opts->augment.crop_pad > h ||
        opts->augment.crop_pad > w)
        return hn_fail(HN_ERR_RANGE, "loader: crop_pad %d outside [0, %d]",
                       opts->augment.crop_pad, h < w ? h : w);
    if (norm && norm->c != c)
        return hn_fail(HN_ERR_INVAL,
                       "loader: normalization has %d channels, data has %d",
                       norm->c, c);
    hn_loader *l = calloc(1, sizeof *l);
    if (!l) return hn_fail(HN_ERR_NOMEM, "loader: out of memory");
    l->idx = malloc((size_t)n * sizeof(int));
    l->order = malloc((size_t)n * sizeof(int));
    if (!l->idx || !l->order) {
        hn_loader_free(l);
        return hn_fail(HN_ERR_NOMEM, "loader: out of memory");
    }
    for (int i = 0; i < n; i++) {
        int k = idx ? idx[i] : i;
        if (k < 0 || k >= hn_dataset_n(d)) {
            hn_loader_free(l);
            return hn_fail(HN_ERR_RANGE, "loader: index %d outside dataset of %d",
                           k, hn_dataset_n(d));
        }
        l->idx[i] = k;
    }
    l->d = d;
    l->n = n;
    l->o = *opts;
    hn_norm nm = norm ? *norm : hn_norm_identity(c);
    for (int ch = 0; ch < c; ch++)
        for (int v = 0; v < 256; v++)
            l->lut[ch][v] = ((float)v / 255.0f - nm.mean[ch]) / nm.std[ch];
    hn_loader_start_epoch(l, 0);
    *out = l;
    return HN_OK;
}

void hn_loader_free(hn_loader *l) {
    if (!l) return;
    free(l->idx);
    free(l->order);
    free(l);
}

void hn_loader_start_epoch(hn_loader *l, int epoch) {
    l->epoch = epoch;
    l->batch = 0;
    memcpy(l->order, l->idx, (size_t)l->n * sizeof(int));
    if (l->o.shuffle) {
        hn_rng r;
        hn_rng_seed(&r, l->o.seed, 0x0de0000000000000ULL | (uint32_t)epoch);
        hn_rng_shuffle(&r, l->order, (size_t)l->n);
    }
}

int hn_loader_n_batches(const hn_loader *l) {
    int bs = l->o.batch_size;
    return l->o.drop_last ? l->n / bs : (l->n + bs - 1) / bs;
}

int hn_loader_n_samples(const hn_loader *l) { return l->n; }

void hn_loader_seek(hn_loader *l, int batch) {
    HN_ASSERT(batch >= 0 && batch <= hn_loader_n_batches(l));
    l->batch = batch;
}

int hn_loader_epoch(const hn_loader *l) { return l->epoch; }
int hn_loader_batch(const hn_loader *l) { return l->batch; }

int hn_loader_order_at(const hn_loader *l, int i) {
    HN_ASSERT(i >= 0 && i < l->n);
    return l->order[i];
}

/* One sample: crop window offset (dy, dx) in the padded image, optional flip,
 * then normalization through the table. */
static void fill_sample(const hn_loader *l, int pos, float *x) {
    const hn_dataset *d = l->d;
    int c = hn_dataset_c(d), h = hn_dataset_h(d), w = hn_dataset_w(d);
    const uint8_t *src = hn_dataset_pixels(d) + (size_t)l->order[pos] * c * h * w;
    int p = l->o.augment.crop_pad, dy = p, dx = p, flip = 0;
    if (p > 0 || l->o.augment.flip) {
        hn_rng r;
        hn_rng_seed(&r, l->o.seed ^ AUG_SALT,
                    ((uint64_t)(uint32_t)l->epoch << 32) | (uint32_t)pos);
        if (p > 0) {
            dy = (int)hn_rng_below(&r, (uint32_t)(2 * p + 1));
            dx = (int)hn_rng_below(&r, (uint32_t)(2 * p + 1));
        }
        if (l->o.augment.flip) flip = (int)(hn_rng_u32(&r) >> 31);
    }
    int oy = dy - p, ox = dx - p; /* source = output + offset */
    int x0 = ox < 0 ? -ox : 0;           /* first output column with a source */
    int x1 = w - (ox > 0 ? ox : 0);      /* one past the last */
    for (int ch = 0; ch < c; ch++) {
        const float *lut = l->lut[ch];
        float pad = lut[0];
        for (int y = 0; y < h; y++) {
            float *row = x + ((size_t)ch * h + y) * w;
            int sy = y + oy;
            if (sy < 0 || sy >= h) {
                for (int i = 0; i < w; i++) row[i] = pad;
                continue;
            }
            const uint8_t *s = src + ((size_t)ch * h + sy) * w + ox;
            if (!flip) {
                for (int i = 0; i < x0; i++) row[i] = pad;
                for (int i = x0; i < x1; i++) row[i] = lut[s[i]];
                for (int i = x1; i < w; i++) row[i] = pad;
            } else {
                for (int i = 0; i < x0; i++) row[w - 1 - i] = pad;
                for (int i = x0; i < x1; i++) row[w - 1 - i] = lut[s[i]];
                for (int i = x1; i < w; i++) row[w - 1 - i] = pad;
            }
        }
    }
}

int hn_loader_next(hn_loader *l, float *x, int *y) {
    if (l->batch >= hn_loader_n_batches(l)) return 0;
    int bs = l->o.batch_size, start = l->batch * bs;
    int b = l->n - start < bs ? l->n - start : bs;
    const hn_dataset *d = l->d;
    size_t chw = (size_t)hn_dataset_c(d) * hn_dataset_h(d) * hn_dataset_w(d);
    const uint8_t *labels = hn_dataset_labels(d);
    /* serial on purpose: a batch takes tens of microseconds, less than an
     * OpenMP fork/join costs when the trainer's threads are busy */
    for (int i = 0; i < b; i++) {
        fill_sample(l, start + i, x + (size_t)i * chw);
        y[i] = labels[l->order[start + i]];
    }
    l->batch++;
    return b;
}
