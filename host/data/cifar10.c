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
#define MAX_RECORDS 100000000u

/* Size checks shared by the file and buffer readers. */
static hn_status check_size(const char *name, size_t size, int n) {
    if (n < 0)
        return hn_fail(HN_ERR_INVAL, "%s: negative record count %d", name, n);
    if (size == 0 || size % REC_LEN != 0)
        return hn_fail(HN_ERR_FORMAT,
                       "%s: size %zu bytes is not a whole number of %d-byte "
                       "CIFAR-10 records (truncated or not a CIFAR-10 batch; "
                       "%zu full records + %zu bytes)",
                       name, size, REC_LEN, size / REC_LEN, size % REC_LEN);
    if ((size_t)n + size / REC_LEN > MAX_RECORDS)
        return hn_fail(HN_ERR_FORMAT, "%s: too many records", name);
    return HN_OK;
}

/* Grows *pixels and *labels for m more records after the old ones. */
static hn_status grow(const char *name, size_t old, size_t m, uint8_t **pixels,
                      uint8_t **labels) {
    uint8_t *px = realloc(*pixels, (old + m) * REC_PIX);
    if (!px) return hn_fail(HN_ERR_NOMEM, "%s: out of memory", name);
    *pixels = px;
    uint8_t *lb = realloc(*labels, old + m);
    if (!lb) return hn_fail(HN_ERR_NOMEM, "%s: out of memory", name);
    *labels = lb;
    return HN_OK;
}

/* Checks and stores record i (REC_LEN bytes at rec). */
static hn_status put_record(const char *name, const uint8_t *rec, size_t i,
                            size_t at, uint8_t *px, uint8_t *lb) {
    if (rec[0] > 9)
        return hn_fail(HN_ERR_FORMAT,
                       "%s: record %zu has label %d (CIFAR-10 labels are "
                       "0..9; corrupt file or CIFAR-100?)",
                       name, i, rec[0]);
    lb[at] = rec[0];
    memcpy(px + at * REC_PIX, rec + 1, REC_PIX);
    return HN_OK;
}

hn_status hn_cifar10_load_batch_buffer(const uint8_t *buf, size_t len,
                                       const char *name, int *n,
                                       uint8_t **pixels, uint8_t **labels) {
    if (!name) name = "CIFAR-10 batch";
    if (!buf && len) return hn_fail(HN_ERR_INVAL, "%s: NULL buffer", name);
    HN_TRY(check_size(name, len, *n));
    size_t m = len / REC_LEN, old = (size_t)*n;
    HN_TRY(grow(name, old, m, pixels, labels));
    for (size_t i = 0; i < m; i++)
        HN_TRY(put_record(name, buf + i * REC_LEN, i, old + i, *pixels,
                          *labels));
    *n = (int)(old + m);
    return HN_OK;
}

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
    hn_status s = check_size(path, size, *n);
    size_t m = size / REC_LEN, old = (size_t)*n;
    if (s == HN_OK) s = grow(path, old, m, pixels, labels);
    /* Streams record by record: a 30 MB batch is not held twice. */
    uint8_t rec[REC_LEN];
    for (size_t i = 0; s == HN_OK && i < m; i++) {
        if (fread(rec, 1, REC_LEN, f) != REC_LEN)
            s = hn_fail(HN_ERR_IO, "%s: read error at record %zu", path, i);
        else
            s = put_record(path, rec, i, old + i, *pixels, *labels);
    }
    fclose(f);
    if (s != HN_OK) return s;
    *n = (int)(old + m);
    return HN_OK;
}
