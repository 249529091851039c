/* IDX files (the MNIST format): big-endian magic 0x000008TT (TT = number of
 * dimensions, 0x08 = unsigned byte), one big-endian u32 per dimension, then
 * the raw bytes.  zlib's gzread reads .gz and plain files alike. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "hetnas/data.h"

/* Reads exactly len bytes into buf.  `done` bytes of the same item were
 * read before and `total` is its full size: messages speak of the item. */
static hn_status read_part(gzFile f, const char *path, void *buf, size_t len,
                           size_t done, size_t total, const char *what) {
    size_t got = 0;
    while (got < len) {
        size_t chunk = len - got;
        if (chunk > (1u << 30)) chunk = 1u << 30;
        int r = gzread(f, (char *)buf + got, (unsigned)chunk);
        if (r < 0) {
            int zerr = 0;
            const char *m = gzerror(f, &zerr);
            return hn_fail(HN_ERR_FORMAT, "%s: corrupt data while reading %s: %s",
                           path, what, m ? m : "zlib error");
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    if (got < len) {
        int zerr = 0;
        const char *m = gzerror(f, &zerr);
        if (zerr != Z_OK && zerr != Z_BUF_ERROR && m && *m)
            return hn_fail(HN_ERR_FORMAT, "%s: corrupt data while reading %s: %s",
                           path, what, m);
        return hn_fail(HN_ERR_FORMAT,
                       "%s: truncated: %s needs %zu bytes, only %zu are there",
                       path, what, total, done + got);
    }
    return HN_OK;
}

static hn_status read_exact(gzFile f, const char *path, void *buf, size_t len,
                            const char *what) {
    return read_part(f, path, buf, len, 0, len, what);
}

static hn_status idx_open(const char *path, gzFile *out) {
    if (!path || !*path) return hn_fail(HN_ERR_INVAL, "IDX file: empty path");
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f)
        return hn_fail(HN_ERR_IO, "%s: cannot open: %s", path,
                       errno ? strerror(errno) : "zlib could not allocate");
    gzbuffer(f, 1u << 17);
    *out = f;
    return HN_OK;
}

/* Reads the len data bytes the header announces into a malloc'd *out.  The
 * buffer grows with the data actually read (doubling from 1 MiB), so a
 * corrupt header announcing gigabytes in a tiny file fails as truncated
 * instead of allocating what it claims. */
static hn_status read_data(gzFile f, const char *path, size_t len,
                           const char *what, uint8_t **out) {
    size_t cap = len < ((size_t)1 << 20) ? len : ((size_t)1 << 20), got = 0;
    uint8_t *buf = malloc(cap ? cap : 1);
    if (!buf) return hn_fail(HN_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, cap);
    for (;;) {
        hn_status s = read_part(f, path, buf + got, cap - got, got, len, what);
        if (s != HN_OK) {
            free(buf);
            return s;
        }
        got = cap;
        if (got == len) break;
        size_t ncap = cap > len / 2 ? len : cap * 2;
        uint8_t *nb = realloc(buf, ncap);
        if (!nb) {
            free(buf);
            return hn_fail(HN_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, ncap);
        }
        buf = nb;
        cap = ncap;
    }
    *out = buf;
    return HN_OK;
}

/* Reads magic + dims; checks the u8 type and the expected rank. */
static hn_status idx_header(gzFile f, const char *path, int rank,
                            uint32_t *dims) {
    uint8_t m[4];
    HN_TRY(read_exact(f, path, m, 4, "the 4-byte magic number"));
    uint32_t magic = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 |
                     (uint32_t)m[2] << 8 | m[3];
    uint32_t want = 0x00000800u | (uint32_t)rank;
    if (magic != want) {
        const char *kind = rank == 1 ? "label" : "image";
        if (m[0] != 0 || m[1] != 0)
            return hn_fail(HN_ERR_FORMAT,
                           "%s: bad magic number 0x%08x (expected 0x%08x for an "
                           "IDX %s file; not an IDX file?)",
                           path, magic, want, kind);
        if (m[2] != 0x08)
            return hn_fail(HN_ERR_FORMAT,
                           "%s: IDX element type 0x%02x unsupported (only 0x08 "
                           "unsigned byte; magic 0x%08x)",
                           path, m[2], magic);
        return hn_fail(HN_ERR_FORMAT,
                       "%s: IDX file has %d dimensions, an %s file needs %d "
                       "(magic 0x%08x, expected 0x%08x)",
                       path, m[3], kind, rank, magic, want);
    }
    uint8_t d[12];
    HN_TRY(read_exact(f, path, d, (size_t)rank * 4, "the dimension header"));
    for (int i = 0; i < rank; i++) {
        const uint8_t *p = d + 4 * i;
        dims[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                  (uint32_t)p[2] << 8 | p[3];
    }
    return HN_OK;
}

/* The data must end exactly where the header says. */
static hn_status expect_eof(gzFile f, const char *path, size_t len) {
    char c;
    int r = gzread(f, &c, 1);
    if (r > 0)
        return hn_fail(HN_ERR_FORMAT,
                       "%s: size mismatch: the header announces %zu data "
                       "bytes but the file has more",
                       path, len);
    if (r < 0) {
        int zerr = 0;
        const char *m = gzerror(f, &zerr);
        return hn_fail(HN_ERR_FORMAT, "%s: corrupt data at the end: %s", path,
                       m ? m : "zlib error");
    }
    return HN_OK;
}

hn_status hn_idx_load_images(const char *path, int *n, int *h, int *w,
                             uint8_t **pixels) {
    gzFile f;
    HN_TRY(idx_open(path, &f));
    uint32_t dims[3];
    hn_status s = idx_header(f, path, 3, dims);
    if (s == HN_OK &&
        (dims[0] == 0 || dims[1] == 0 || dims[2] == 0 || dims[0] > 100000000u ||
         dims[1] > 4096 || dims[2] > 4096))
        s = hn_fail(HN_ERR_FORMAT,
                    "%s: implausible image header: %u images of %u x %u", path,
                    dims[0], dims[1], dims[2]);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (s == HN_OK) {
        len = (size_t)dims[0] * dims[1] * dims[2];
        s = read_data(f, path, len, "the pixel data", &buf);
    }
    if (s == HN_OK) s = expect_eof(f, path, len);
    gzclose(f);
    if (s != HN_OK) {
        free(buf);
        return s;
    }
    *n = (int)dims[0];
    *h = (int)dims[1];
    *w = (int)dims[2];
    *pixels = buf;
    return HN_OK;
}

hn_status hn_idx_load_labels(const char *path, int *n, uint8_t **labels) {
    gzFile f;
    HN_TRY(idx_open(path, &f));
    uint32_t dims[1];
    hn_status s = idx_header(f, path, 1, dims);
    if (s == HN_OK && (dims[0] == 0 || dims[0] > 100000000u))
        s = hn_fail(HN_ERR_FORMAT, "%s: implausible label count %u", path,
                    dims[0]);
    uint8_t *buf = NULL;
    if (s == HN_OK) s = read_data(f, path, dims[0], "the labels", &buf);
    if (s == HN_OK) s = expect_eof(f, path, dims[0]);
    gzclose(f);
    if (s != HN_OK) {
        free(buf);
        return s;
    }
    *n = (int)dims[0];
    *labels = buf;
    return HN_OK;
}
