/* Per-channel normalization statistics of a dataset (over the training
 * split only, so validation and test data never leak into them). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hetnas/data.h"

hn_norm hn_norm_identity(int c) {
    hn_norm n;
    memset(&n, 0, sizeof n);
    n.c = c;
    for (int i = 0; i < HN_DATA_MAX_C; i++) n.std[i] = 1.0f;
    return n;
}

hn_status hn_norm_compute(const hn_dataset *d, const int *idx, int n_idx,
                          hn_norm *out) {
    int c = hn_dataset_c(d), hw = hn_dataset_h(d) * hn_dataset_w(d);
    int n = idx ? n_idx : hn_dataset_n(d);
    if (n < 1) return hn_fail(HN_ERR_INVAL, "normalization: no samples");
    const uint8_t *px = hn_dataset_pixels(d);
    *out = hn_norm_identity(c);
    for (int ch = 0; ch < c; ch++) {
        /* exact integer sums: 2^64 holds 255^2 * 2^47 values */
        uint64_t s = 0, s2 = 0;
        for (int i = 0; i < n; i++) {
            int k = idx ? idx[i] : i;
            const uint8_t *p = px + ((size_t)k * c + ch) * hw;
            uint64_t a = 0, a2 = 0;
            for (int j = 0; j < hw; j++) {
                a += p[j];
                a2 += (uint32_t)p[j] * p[j];
            }
            s += a;
            s2 += a2;
        }
        double cnt = (double)n * hw;
        double mean = (double)s / cnt / 255.0;
        double var = (double)s2 / cnt / (255.0 * 255.0) - mean * mean;
        double sd = var > 1e-12 ? sqrt(var) : 1.0;
        out->mean[ch] = (float)mean;
        out->std[ch] = (float)sd;
    }
    return HN_OK;
}

hn_status hn_norm_to_json(const hn_norm *n, char *buf, size_t cap) {
    size_t k = 0;
    for (int part = 0; part < 2; part++) {
        const float *v = part ? n->std : n->mean;
        k += (size_t)snprintf(buf + (k < cap ? k : cap), k < cap ? cap - k : 0,
                              "%s\"%s\":[", part ? "," : "{", part ? "std" : "mean");
        for (int c = 0; c < n->c; c++)
            k += (size_t)snprintf(buf + (k < cap ? k : cap), k < cap ? cap - k : 0,
                                  "%s%.9g", c ? "," : "", (double)v[c]);
        k += (size_t)snprintf(buf + (k < cap ? k : cap), k < cap ? cap - k : 0, "]");
    }
    k += (size_t)snprintf(buf + (k < cap ? k : cap), k < cap ? cap - k : 0, "}");
    if (k >= cap) return hn_fail(HN_ERR_RANGE, "normalization JSON: buffer too small");
    return HN_OK;
}
