/* hn_stats_*: Pearson and Spearman correlation (stats.h). */
#include "hetnas/stats.h"

#include <math.h>
#include <stdlib.h>

double hn_stats_pearson(const double *x, const double *y, long n) {
    if (n < 2) return NAN;
    double mx = 0, my = 0;
    for (long i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    double sxy = 0, sxx = 0, syy = 0;
    for (long i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return (sxx > 0 && syy > 0) ? sxy / sqrt(sxx * syy) : NAN;
}

/* The value travels with its index, so qsort needs no global key. */
typedef struct rank_item {
    double v;
    long i;
} rank_item;

static int cmp_item(const void *a, const void *b) {
    const rank_item *x = a, *y = b;
    if (x->v != y->v) return (x->v > y->v) - (x->v < y->v);
    return (x->i > y->i) - (x->i < y->i); /* stable order of ties */
}

hn_status hn_stats_ranks(const double *v, long n, double *r) {
    if (n < 0 || (n > 0 && (!v || !r)))
        return hn_fail(HN_ERR_INVAL, "stats_ranks: NULL or negative argument");
    if (n == 0) return HN_OK;
    rank_item *it = malloc(sizeof *it * (size_t)n);
    if (!it) return hn_fail(HN_ERR_NOMEM, "stats_ranks: out of memory");
    for (long i = 0; i < n; i++) it[i] = (rank_item){v[i], i};
    qsort(it, (size_t)n, sizeof *it, cmp_item);
    for (long i = 0; i < n;) {
        long j = i;
        while (j + 1 < n && it[j + 1].v == it[i].v) j++;
        for (long t = i; t <= j; t++) r[it[t].i] = 0.5 * (double)(i + j) + 1.0;
        i = j + 1;
    }
    free(it);
    return HN_OK;
}

hn_status hn_stats_spearman(const double *x, const double *y, long n,
                            double *out) {
    *out = NAN;
    if (n < 2) return HN_OK;
    double *rx = malloc(sizeof *rx * (size_t)n), *ry = malloc(sizeof *ry * (size_t)n);
    hn_status st = (rx && ry) ? HN_OK
                              : hn_fail(HN_ERR_NOMEM, "stats_spearman: out of memory");
    if (st == HN_OK) st = hn_stats_ranks(x, n, rx);
    if (st == HN_OK) st = hn_stats_ranks(y, n, ry);
    if (st == HN_OK) *out = hn_stats_pearson(rx, ry, n);
    free(rx);
    free(ry);
    return st;
}
