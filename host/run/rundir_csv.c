/* Results CSV files of a run directory: appended row by row with a flush
 * per row, headers checked on resume, and a reader (rundir.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hetnas/fileio.h"
#include "hetnas/log.h"
#include "hetnas/rundir.h"

struct hn_csv {
    FILE *f;
    char *path;
    int ncols, cells, rows_before;
    char *row; /* current row text */
    size_t len, cap;
};

/* ---- reading -------------------------------------------------------------- */

typedef struct sbuf {
    char *s;
    size_t n, cap;
} sbuf;

static int sb_put(sbuf *b, char c) {
    if (b->n + 2 > b->cap) {
        size_t nc = b->cap ? 2 * b->cap : 32;
        char *ns = realloc(b->s, nc);
        if (!ns) return -1;
        b->s = ns;
        b->cap = nc;
    }
    b->s[b->n++] = c;
    b->s[b->n] = 0;
    return 0;
}

static char *sb_take(sbuf *b) {
    char *s = b->s ? b->s : strdup("");
    memset(b, 0, sizeof *b);
    return s;
}

/* RFC 4180 fields; rows are (n_cols) arrays appended to *cells. */
hn_status hn_csv_read(const char *path, hn_csv_table *out) {
    memset(out, 0, sizeof *out);
    char *txt;
    size_t len;
    HN_TRY(hn_file_read_max(path, HN_FILE_MAX_CSV, &txt, &len));
    char **cells = NULL;
    size_t nc = 0, cap = 0;
    int row_cells = 0, ncols = -1, nrows = 0, line = 1;
    sbuf f = {0};
    hn_status s = HN_OK;
    size_t i = 0;
    while (i < len && s == HN_OK) {
        bool quoted = false;
        if (txt[i] == '"') {
            quoted = true;
            i++;
            for (;;) {
                if (i >= len) {
                    s = hn_fail(HN_ERR_FORMAT, "%s:%d: unterminated quoted field", path, line);
                    break;
                }
                if (txt[i] == '"') {
                    if (i + 1 < len && txt[i + 1] == '"') {
                        sb_put(&f, '"');
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                if (txt[i] == '\n') line++;
                sb_put(&f, txt[i++]);
            }
            if (s != HN_OK) break;
        } else {
            while (i < len && txt[i] != ',' && txt[i] != '\n' && txt[i] != '\r')
                sb_put(&f, txt[i++]);
        }
        (void)quoted;
        if (nc == cap) {
            cap = cap ? 2 * cap : 64;
            char **ncl = realloc(cells, cap * sizeof *ncl);
            if (!ncl) {
                s = hn_fail(HN_ERR_NOMEM, "out of memory");
                break;
            }
            cells = ncl;
        }
        cells[nc++] = sb_take(&f);
        row_cells++;
        if (i < len && txt[i] == ',') {
            i++;
            continue;
        }
        if (i < len && txt[i] == '\r') i++;
        if (i < len && txt[i] != '\n') {
            s = hn_fail(HN_ERR_FORMAT, "%s:%d: unexpected character after a quoted field",
                        path, line);
            break;
        }
        i++; /* '\n' or end */
        if (ncols < 0)
            ncols = row_cells;
        else if (row_cells != ncols)
            s = hn_fail(HN_ERR_FORMAT, "%s:%d: %d fields, the header has %d", path,
                        line, row_cells, ncols);
        else
            nrows++;
        row_cells = 0;
        line++;
    }
    free(f.s);
    free(txt);
    if (s == HN_OK && ncols < 0) s = hn_fail(HN_ERR_FORMAT, "%s: empty CSV file", path);
    if (s != HN_OK) {
        for (size_t k = 0; k < nc; k++) free(cells[k]);
        free(cells);
        return s;
    }
    out->n_cols = ncols;
    out->n_rows = nrows;
    out->header = cells;
    out->cells = cells + ncols;
    return HN_OK;
}

int hn_csv_table_col(const hn_csv_table *t, const char *name) {
    for (int i = 0; i < t->n_cols; i++)
        if (!strcmp(t->header[i], name)) return i;
    return -1;
}

void hn_csv_table_free(hn_csv_table *t) {
    if (!t || !t->header) return;
    size_t n = (size_t)t->n_cols * (size_t)(t->n_rows + 1);
    for (size_t i = 0; i < n; i++) free(t->header[i]);
    free(t->header);
    memset(t, 0, sizeof *t);
}

/* ---- writing -------------------------------------------------------------- */

static void put_raw(hn_csv *c, const char *s, size_t n) {
    if (c->len + n + 2 > c->cap) {
        size_t nc = (c->len + n + 2) * 2;
        char *nr = realloc(c->row, nc);
        if (!nr) return; /* end_row reports the short row */
        c->row = nr;
        c->cap = nc;
    }
    memcpy(c->row + c->len, s, n);
    c->len += n;
    c->row[c->len] = 0;
}

static void put_cell(hn_csv *c, const char *s) {
    if (c->cells) put_raw(c, ",", 1);
    bool q = strpbrk(s, ",\"\n\r") != NULL || (s[0] == ' ');
    if (!q) {
        put_raw(c, s, strlen(s));
    } else {
        put_raw(c, "\"", 1);
        for (const char *p = s; *p; p++) {
            if (*p == '"') put_raw(c, "\"\"", 2);
            else if (*p == '\n' || *p == '\r') put_raw(c, " ", 1); /* one line per row */
            else put_raw(c, p, 1);
        }
        put_raw(c, "\"", 1);
    }
    c->cells++;
}

void hn_csv_str(hn_csv *c, const char *s) { put_cell(c, s ? s : ""); }

void hn_csv_int(hn_csv *c, int64_t v) {
    char b[32];
    snprintf(b, sizeof b, "%lld", (long long)v);
    put_cell(c, b);
}

void hn_csv_double(hn_csv *c, double v) {
    char b[40];
    if (isnan(v))
        snprintf(b, sizeof b, "nan");
    else if (isinf(v))
        snprintf(b, sizeof b, v > 0 ? "inf" : "-inf");
    else
        snprintf(b, sizeof b, "%.17g", v);
    put_cell(c, b);
}

hn_status hn_csv_end_row(hn_csv *c) {
    hn_status s = HN_OK;
    if (c->cells != c->ncols) {
        s = hn_fail(HN_ERR_INTERNAL, "%s: row with %d cells, header has %d", c->path,
                    c->cells, c->ncols);
    } else {
        put_raw(c, "\n", 1);
        if (fwrite(c->row, 1, c->len, c->f) != c->len || fflush(c->f) != 0)
            s = hn_fail(HN_ERR_IO, "%s: write failed: %s", c->path, strerror(errno));
    }
    c->len = 0;
    c->cells = 0;
    if (c->row) c->row[0] = 0;
    return s;
}

void hn_csv_close(hn_csv *c) {
    if (!c) return;
    if (c->f) fclose(c->f);
    free(c->row);
    free(c->path);
    free(c);
}

int hn_csv_rows_before(const hn_csv *c) { return c->rows_before; }

/* Cuts a partial last line (no trailing newline) left by a killed run. */
static hn_status trim_tail(const char *path) {
    char *txt;
    size_t len;
    HN_TRY(hn_file_read_max(path, HN_FILE_MAX_CSV, &txt, &len));
    size_t keep = len;
    while (keep > 0 && txt[keep - 1] != '\n') keep--;
    free(txt);
    if (keep < len) {
        HN_WARN("%s: dropping a partial last row (%zu bytes) left by an "
                "interrupted run", path, len - keep);
        if (truncate(path, (off_t)keep) != 0)
            return hn_fail(HN_ERR_IO, "%s: cannot truncate: %s", path, strerror(errno));
    }
    return HN_OK;
}

hn_status hn_csv_open(const char *path, int ncols, const char *const *cols,
                      hn_csv **out) {
    if (ncols < 1) return hn_fail(HN_ERR_INVAL, "%s: no columns", path);
    hn_csv *c = calloc(1, sizeof *c);
    if (!c) return hn_fail(HN_ERR_NOMEM, "out of memory");
    c->path = strdup(path);
    c->ncols = ncols;
    hn_status s = c->path ? HN_OK : hn_fail(HN_ERR_NOMEM, "out of memory");
    bool exists = access(path, F_OK) == 0;
    if (s == HN_OK && exists) s = trim_tail(path);
    if (s == HN_OK && exists) {
        FILE *t = fopen(path, "rb");
        bool empty = true;
        if (t) {
            empty = fgetc(t) == EOF;
            fclose(t);
        }
        if (!empty) {
            hn_csv_table tb;
            s = hn_csv_read(path, &tb);
            if (s == HN_OK) {
                bool same = tb.n_cols == ncols;
                for (int i = 0; same && i < ncols; i++) same = !strcmp(tb.header[i], cols[i]);
                if (!same) {
                    char have[512] = "", want[512] = "";
                    for (int i = 0; i < tb.n_cols; i++) {
                        if (i) strncat(have, ",", sizeof have - strlen(have) - 1);
                        strncat(have, tb.header[i], sizeof have - strlen(have) - 1);
                    }
                    for (int i = 0; i < ncols; i++) {
                        if (i) strncat(want, ",", sizeof want - strlen(want) - 1);
                        strncat(want, cols[i], sizeof want - strlen(want) - 1);
                    }
                    s = hn_fail(HN_ERR_FORMAT, "%s: existing header '%s' differs from "
                                "'%s' (a different experiment wrote it?)", path, have, want);
                }
                c->rows_before = tb.n_rows;
                hn_csv_table_free(&tb);
            }
        } else {
            exists = false;
        }
    }
    if (s == HN_OK) {
        c->f = fopen(path, "a");
        if (!c->f) s = hn_fail(HN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    if (s == HN_OK && !exists) {
        for (int i = 0; i < ncols; i++) put_cell(c, cols[i]);
        s = hn_csv_end_row(c);
    }
    if (s != HN_OK) {
        hn_csv_close(c);
        return s;
    }
    *out = c;
    return HN_OK;
}

hn_status hn_rundir_csv(const hn_rundir *rd, const char *name, int ncols,
                        const char *const *cols, hn_csv **out) {
    char p[4200];
    HN_TRY(hn_rundir_file(rd, name, p, sizeof p));
    return hn_csv_open(p, ncols, cols, out);
}
