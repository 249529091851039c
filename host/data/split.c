/* Held-out validation split: a seeded shuffle of the training indices, so
 * validation samples never feed the weights and the split is reproducible
 * from (n, size, seed) alone. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/data.h"
#include "hetnas/rng.h"

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

void hn_split_free(hn_split *s) {
    if (!s) return;
    free(s->train);
    free(s->val);
    memset(s, 0, sizeof *s);
}

hn_status hn_split_all(int n, hn_split *out) {
    memset(out, 0, sizeof *out);
    if (n < 1) return hn_fail(HN_ERR_INVAL, "split: %d samples", n);
    out->train = malloc((size_t)n * sizeof(int));
    if (!out->train) return hn_fail(HN_ERR_NOMEM, "split: out of memory");
    for (int i = 0; i < n; i++) out->train[i] = i;
    out->n_train = n;
    return HN_OK;
}

hn_status hn_split_make(int n, double val_fraction, int val_size,
                        uint64_t seed, hn_split *out) {
    memset(out, 0, sizeof *out);
    if (n < 2) return hn_fail(HN_ERR_INVAL, "split: %d samples is too few", n);
    if (!(val_fraction >= 0 && val_fraction < 1))
        return hn_fail(HN_ERR_RANGE,
                       "split: val_fraction %g is outside [0, 1)", val_fraction);
    int nv = val_size > 0 ? val_size : (int)lround(val_fraction * n);
    if (nv < 0 || nv >= n)
        return hn_fail(HN_ERR_RANGE,
                       "split: a validation set of %d samples leaves no "
                       "training data (%d samples)",
                       nv, n);
    int *perm = malloc((size_t)n * sizeof(int));
    if (!perm) return hn_fail(HN_ERR_NOMEM, "split: out of memory");
    for (int i = 0; i < n; i++) perm[i] = i;
    hn_rng r;
    /* stream 0x5711 is reserved for the split so it never correlates with
     * the loaders' streams of the same seed */
    hn_rng_seed(&r, seed, 0x5711);
    hn_rng_shuffle(&r, perm, (size_t)n);
    out->n_val = nv;
    out->n_train = n - nv;
    out->val = malloc((size_t)(nv > 0 ? nv : 1) * sizeof(int));
    out->train = malloc((size_t)(n - nv) * sizeof(int));
    if (!out->val || !out->train) {
        free(perm);
        hn_split_free(out);
        return hn_fail(HN_ERR_NOMEM, "split: out of memory");
    }
    memcpy(out->val, perm, (size_t)nv * sizeof(int));
    memcpy(out->train, perm + nv, (size_t)(n - nv) * sizeof(int));
    free(perm);
    qsort(out->val, (size_t)nv, sizeof(int), cmp_int);
    qsort(out->train, (size_t)(n - nv), sizeof(int), cmp_int);
    return HN_OK;
}
