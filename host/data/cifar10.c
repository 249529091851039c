/* CIFAR-10 binary version: each record is 1 label byte (0..9) followed by
 * 3072 pixel bytes, the 1024 red, then green, then blue values of a 32x32
 * image in row-major order; a batch file holds 10000 records. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hetnas/data.h"

#define REC_PIX 3072
#define REC_LEN (1 + REC_PIX)

hn_status hn_cifar10_load_batch(const char *path, int *n, uint8_t **pixels,
                                uint8_t **labels) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return hn_fail(HN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return hn_fail(HN_ERR_IO, "%s: not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    if (size == 0 || size % REC_LEN != 0) {
        fclose(f);
        return hn_fail(HN_ERR_FORMAT,
                       "%s: size %zu bytes is not a whole number of %d-byte "
                       "CIFAR-10 records (truncated or not a CIFAR-10 batch; "
                       "%zu full records + %zu bytes)",
                       path, size, REC_LEN, size / REC_LEN, size % REC_LEN);
    }
    size_t m = size / REC_LEN;
    size_t old = (size_t)*n;
    if (old + m > 100000000u) {
        fclose(f);
        return hn_fail(HN_ERR_FORMAT, "%s: too many records", path);
    }
    uint8_t *px = realloc(*pixels, (old + m) * REC_PIX);
    if (!px) {
        fclose(f);
        return hn_fail(HN_ERR_NOMEM, "%s: out of memory", path);
    }
    *pixels = px;
    uint8_t *lb = realloc(*labels, old + m);
    if (!lb) {
        fclose(f);
        return hn_fail(HN_ERR_NOMEM, "%s: out of memory", path);
    }
    *labels = lb;
    uint8_t rec[REC_LEN];
    for (size_t i = 0; i < m; i++) {
        if (fread(rec, 1, REC_LEN, f) != REC_LEN) {
            fclose(f);
            return hn_fail(HN_ERR_IO, "%s: read error at record %zu", path, i);
        }
        if (rec[0] > 9) {
            fclose(f);
            return hn_fail(HN_ERR_FORMAT,
                           "%s: record %zu has label %d (CIFAR-10 labels are "
                           "0..9; corrupt file or CIFAR-100?)",
                           path, i, rec[0]);
        }
        lb[old + i] = rec[0];
        memcpy(px + (old + i) * REC_PIX, rec + 1, REC_PIX);
    }
    fclose(f);
    *n = (int)(old + m);
    return HN_OK;
}
