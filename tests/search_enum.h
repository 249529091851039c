/* Test helpers shared by test_dist.c and test_estimator.c: enumerate every
 * configuration of a tiny distribution and compute p(a|alpha) directly from
 * the textbook pmfs (naive softmax/sigmoid, integer binomial coefficients),
 * independently of dist.c. */
#ifndef HN_TEST_SEARCH_ENUM_H
#define HN_TEST_SEARCH_ENUM_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/dist.h"

/* All compositions of `total` into k parts, written row after row into
 * rows (each k ints); returns their number. */
static inline int enum_compositions(int total, int k, int *rows) {
    if (k == 1) {
        if (rows) rows[0] = total;
        return 1;
    }
    int n = 0;
    for (int first = 0; first <= total; first++) {
        int m = enum_compositions(total - first, k - 1, NULL);
        if (rows) {
            int *sub = malloc(sizeof(int) * (size_t)(m * (k - 1)));
            enum_compositions(total - first, k - 1, sub);
            for (int i = 0; i < m; i++) {
                rows[(n + i) * k] = first;
                memcpy(rows + (n + i) * k + 1, sub + i * (k - 1),
                       sizeof(int) * (size_t)(k - 1));
            }
            free(sub);
        }
        n += m;
    }
    return n;
}

/* Every configuration of d as counts (n_layers, n_ops); *out is malloc'd
 * (N, n_layers * n_ops); returns N. */
static inline int enum_configs(const hn_dist *d, int **out) {
    int L = hn_dist_n_layers(d), K = hn_dist_n_ops(d), row = L * K;
    int n_l[16], *opts[16];
    int N = 1;
    for (int l = 0; l < L; l++) {
        int C = hn_dist_width(d, l);
        if (hn_dist_get_kind(d) == HN_DIST_BINOMIAL) {
            n_l[l] = C;
            opts[l] = malloc(sizeof(int) * (size_t)C);
            for (int w = 1; w <= C; w++) opts[l][w - 1] = w;
        } else {
            n_l[l] = enum_compositions(C, K, NULL);
            opts[l] = malloc(sizeof(int) * (size_t)(n_l[l] * K));
            enum_compositions(C, K, opts[l]);
        }
        N *= n_l[l];
    }
    int *all = malloc(sizeof(int) * (size_t)(N * row));
    for (int i = 0; i < N; i++) {
        int rest = i;
        for (int l = L - 1; l >= 0; l--) {
            int j = rest % n_l[l];
            rest /= n_l[l];
            memcpy(all + i * row + l * K, opts[l] + j * K,
                   sizeof(int) * (size_t)K);
        }
    }
    for (int l = 0; l < L; l++) free(opts[l]);
    *out = all;
    return N;
}

static inline double binom_coef(int n, int k) {
    double c = 1.0;
    for (int i = 1; i <= k; i++) c = c * (n - k + i) / i;
    return c;
}

/* p(a|alpha) from eq. 1 with the pmfs of Lemma 1 and Lemma 5. */
static inline double direct_prob(const hn_dist *d, const double *alpha,
                          const int *counts) {
    int L = hn_dist_n_layers(d), K = hn_dist_n_ops(d);
    double p = 1.0;
    for (int l = 0; l < L; l++) {
        int g = hn_dist_group(d, l), C = hn_dist_width(d, l);
        const int *a = counts + l * K;
        if (hn_dist_get_kind(d) == HN_DIST_BINOMIAL) {
            double q = exp(alpha[g]) / (exp(alpha[g]) + 1.0);
            p *= binom_coef(C - 1, a[0] - 1) * pow(q, a[0] - 1) *
                 pow(1.0 - q, C - a[0]);
        } else {
            double z = 0.0;
            for (int t = 0; t < K; t++) z += exp(alpha[g * K + t]);
            int left = C;
            for (int t = 0; t < K; t++) { /* C!/prod a_t! as binomials */
                p *= binom_coef(left, a[t]) * pow(exp(alpha[g * K + t]) / z, a[t]);
                left -= a[t];
            }
        }
    }
    return p;
}

/* Index of counts in the enumeration (linear search), -1 if absent. */
static inline int enum_index(const int *all, int N, int row, const int *counts) {
    for (int i = 0; i < N; i++)
        if (memcmp(all + i * row, counts, sizeof(int) * (size_t)row) == 0)
            return i;
    return -1;
}

#endif
