/* Streaming JSON writer: a growable buffer plus a nesting stack that knows
 * when a comma or an indent is due. */
#include "hetnas/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HN_JW_DEPTH 64

struct hn_jw {
    char *buf;
    size_t len, cap;
    int pretty;
    int depth;
    int count[HN_JW_DEPTH]; /* values written at each level */
    char kind[HN_JW_DEPTH]; /* '{' or '[' */
    int after_key;
    hn_status st;
};

hn_jw *hn_jw_new(int pretty) {
    hn_jw *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->cap = 256;
    w->buf = malloc(w->cap);
    if (!w->buf) {
        free(w);
        return NULL;
    }
    w->buf[0] = '\0';
    w->pretty = pretty;
    return w;
}

void hn_jw_free(hn_jw *w) {
    if (!w) return;
    free(w->buf);
    free(w);
}

static void put(hn_jw *w, const char *s, size_t n) {
    if (w->st != HN_OK) return;
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap;
        while (w->len + n + 1 > cap) cap *= 2;
        char *b = realloc(w->buf, cap);
        if (!b) {
            w->st = HN_ERR_NOMEM;
            return;
        }
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

static void puts_(hn_jw *w, const char *s) { put(w, s, strlen(s)); }

static void newline(hn_jw *w) {
    if (!w->pretty) return;
    put(w, "\n", 1);
    for (int i = 0; i < w->depth * w->pretty; i++) put(w, " ", 1);
}

/* Separator before a value (or a key inside an object). */
static void pre_value(hn_jw *w) {
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth > 0) {
        if (w->count[w->depth - 1]++ > 0) put(w, ",", 1);
        newline(w);
    }
}

static void open_(hn_jw *w, char c) {
    pre_value(w);
    put(w, &c, 1);
    if (w->depth >= HN_JW_DEPTH) {
        w->st = HN_ERR_INTERNAL;
        return;
    }
    w->kind[w->depth] = c;
    w->count[w->depth] = 0;
    w->depth++;
}

static void close_(hn_jw *w, char open, char c) {
    if (w->depth == 0 || w->kind[w->depth - 1] != open || w->after_key) {
        w->st = HN_ERR_INTERNAL;
        return;
    }
    int had = w->count[w->depth - 1];
    w->depth--;
    if (had) newline(w);
    put(w, &c, 1);
}

void hn_jw_obj_begin(hn_jw *w) { open_(w, '{'); }
void hn_jw_obj_end(hn_jw *w) { close_(w, '{', '}'); }
void hn_jw_arr_begin(hn_jw *w) { open_(w, '['); }
void hn_jw_arr_end(hn_jw *w) { close_(w, '[', ']'); }

static void put_escaped(hn_jw *w, const char *s) {
    put(w, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"': puts_(w, "\\\""); break;
        case '\\': puts_(w, "\\\\"); break;
        case '\n': puts_(w, "\\n"); break;
        case '\r': puts_(w, "\\r"); break;
        case '\t': puts_(w, "\\t"); break;
        default:
            if (*p < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                puts_(w, esc);
            } else {
                put(w, (const char *)p, 1);
            }
        }
    }
    put(w, "\"", 1);
}

void hn_jw_key(hn_jw *w, const char *key) {
    if (w->depth == 0 || w->kind[w->depth - 1] != '{' || w->after_key) {
        w->st = HN_ERR_INTERNAL;
        return;
    }
    pre_value(w);
    put_escaped(w, key);
    put(w, w->pretty ? ": " : ":", w->pretty ? 2 : 1);
    w->after_key = 1;
}

void hn_jw_int(hn_jw *w, int64_t v) {
    char b[32];
    pre_value(w);
    snprintf(b, sizeof b, "%" PRId64, v);
    puts_(w, b);
}

void hn_jw_uint(hn_jw *w, uint64_t v) {
    char b[32];
    pre_value(w);
    snprintf(b, sizeof b, "%" PRIu64, v);
    puts_(w, b);
}

void hn_jw_double(hn_jw *w, double v) {
    pre_value(w);
    if (!isfinite(v)) {
        puts_(w, "null");
        return;
    }
    /* Shortest text that reads back as the same double. */
    char s[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(s, sizeof s, "%.*g", prec, v);
        if (strtod(s, NULL) == v) break;
    }
    puts_(w, s);
}

void hn_jw_str(hn_jw *w, const char *s) {
    pre_value(w);
    put_escaped(w, s ? s : "");
}

void hn_jw_bool(hn_jw *w, bool v) {
    pre_value(w);
    puts_(w, v ? "true" : "false");
}

void hn_jw_null(hn_jw *w) {
    pre_value(w);
    puts_(w, "null");
}

void hn_jw_raw(hn_jw *w, const char *json) {
    pre_value(w);
    puts_(w, json);
}

hn_status hn_jw_status(const hn_jw *w) {
    if (w->st != HN_OK) return w->st;
    if (w->depth != 0 || w->after_key) return HN_ERR_INTERNAL;
    return HN_OK;
}

const char *hn_jw_data(const hn_jw *w, size_t *len) {
    if (len) *len = w->len;
    return w->buf;
}
