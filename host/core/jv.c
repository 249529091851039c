/* Strict recursive-descent JSON reader (jv.h). */
#include "hetnas/jv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

typedef struct jp {
    const char *s;
    size_t len, pos;
    const char *name;
} jp;

static hn_status jerr(const jp *p, const char *what) {
    return hn_fail(HN_ERR_PARSE, "%s: malformed JSON at byte %zu: %s", p->name,
                   p->pos, what);
}

static void skip_ws(jp *p) {
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            p->pos++;
        else
            break;
    }
}

static void jv_clear(hn_jv *v) {
    free(v->str);
    for (size_t i = 0; i < v->n; i++) {
        jv_clear(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    memset(v, 0, sizeof *v);
}

void hn_jv_free(hn_jv *v) {
    if (!v) return;
    jv_clear(v);
    free(v);
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static hn_status read_hex4(jp *p, unsigned *out) {
    if (p->pos + 4 > p->len) return jerr(p, "truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p->s[p->pos + i]);
        if (h < 0) return jerr(p, "bad hex digit in \\u escape");
        v = v * 16 + (unsigned)h;
    }
    p->pos += 4;
    *out = v;
    return HN_OK;
}

static hn_status parse_string(jp *p, char **out) {
    /* p->s[p->pos] == '"' */
    p->pos++;
    size_t cap = 32, n = 0;
    char *b = malloc(cap);
    if (!b) return hn_fail(HN_ERR_NOMEM, "%s: out of memory", p->name);
    hn_status s = HN_OK;
    for (;;) {
        if (p->pos >= p->len) {
            s = jerr(p, "unterminated string");
            break;
        }
        unsigned char c = (unsigned char)p->s[p->pos++];
        char tmp[4];
        int k = 0;
        if (c == '"') break;
        if (c < 0x20) {
            p->pos--;
            s = jerr(p, "control character in string");
            break;
        }
        if (c != '\\') {
            tmp[k++] = (char)c;
        } else {
            if (p->pos >= p->len) {
                s = jerr(p, "unterminated escape");
                break;
            }
            char e = p->s[p->pos++];
            switch (e) {
            case '"': tmp[k++] = '"'; break;
            case '\\': tmp[k++] = '\\'; break;
            case '/': tmp[k++] = '/'; break;
            case 'b': tmp[k++] = '\b'; break;
            case 'f': tmp[k++] = '\f'; break;
            case 'n': tmp[k++] = '\n'; break;
            case 'r': tmp[k++] = '\r'; break;
            case 't': tmp[k++] = '\t'; break;
            case 'u': {
                unsigned cp;
                if ((s = read_hex4(p, &cp)) != HN_OK) break;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned lo;
                    if (p->pos + 2 > p->len || p->s[p->pos] != '\\' ||
                        p->s[p->pos + 1] != 'u') {
                        s = jerr(p, "unpaired surrogate");
                        break;
                    }
                    p->pos += 2;
                    if ((s = read_hex4(p, &lo)) != HN_OK) break;
                    if (lo < 0xDC00 || lo > 0xDFFF) {
                        s = jerr(p, "unpaired surrogate");
                        break;
                    }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    s = jerr(p, "unpaired surrogate");
                    break;
                }
                if (cp == 0) {
                    s = jerr(p, "\\u0000 in string");
                    break;
                }
                if (cp < 0x80) {
                    tmp[k++] = (char)cp;
                } else if (cp < 0x800) {
                    tmp[k++] = (char)(0xC0 | (cp >> 6));
                    tmp[k++] = (char)(0x80 | (cp & 0x3F));
                } else if (cp < 0x10000) {
                    tmp[k++] = (char)(0xE0 | (cp >> 12));
                    tmp[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                    tmp[k++] = (char)(0x80 | (cp & 0x3F));
                } else {
                    tmp[k++] = (char)(0xF0 | (cp >> 18));
                    tmp[k++] = (char)(0x80 | ((cp >> 12) & 0x3F));
                    tmp[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                    tmp[k++] = (char)(0x80 | (cp & 0x3F));
                }
                break;
            }
            default:
                p->pos--;
                s = jerr(p, "bad escape in string");
            }
            if (s != HN_OK) break;
        }
        if (n + (size_t)k + 1 > cap) {
            cap *= 2;
            char *nb = realloc(b, cap);
            if (!nb) {
                s = hn_fail(HN_ERR_NOMEM, "%s: out of memory", p->name);
                break;
            }
            b = nb;
        }
        memcpy(b + n, tmp, (size_t)k);
        n += (size_t)k;
    }
    if (s != HN_OK) {
        free(b);
        return s;
    }
    b[n] = 0;
    *out = b;
    return HN_OK;
}

static hn_status parse_number(jp *p, hn_jv *v) {
    size_t st = p->pos;
    bool neg = false, frac = false;
    if (p->pos < p->len && p->s[p->pos] == '-') {
        neg = true;
        p->pos++;
    }
    if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
        return jerr(p, "bad number");
    if (p->s[p->pos] == '0' && p->pos + 1 < p->len && p->s[p->pos + 1] >= '0' &&
        p->s[p->pos + 1] <= '9')
        return jerr(p, "leading zero in number");
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
    if (p->pos < p->len && p->s[p->pos] == '.') {
        frac = true;
        p->pos++;
        size_t d = p->pos;
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
        if (p->pos == d) return jerr(p, "digits expected after '.'");
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        frac = true;
        p->pos++;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-')) p->pos++;
        size_t d = p->pos;
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
        if (p->pos == d) return jerr(p, "digits expected in exponent");
    }
    char buf[64];
    size_t n = p->pos - st;
    if (n >= sizeof buf) {
        /* very long literal: only its double value matters */
        char *t = strndup(p->s + st, n);
        if (!t) return hn_fail(HN_ERR_NOMEM, "%s: out of memory", p->name);
        v->num = strtod(t, NULL);
        free(t);
    } else {
        memcpy(buf, p->s + st, n);
        buf[n] = 0;
        v->num = strtod(buf, NULL);
        if (!neg && !frac && n <= 20) {
            /* exact u64 with overflow check */
            uint64_t u = 0;
            bool ok = true;
            for (size_t i = 0; i < n; i++) {
                unsigned dgt = (unsigned)(buf[i] - '0');
                if (u > (UINT64_MAX - dgt) / 10) {
                    ok = false;
                    break;
                }
                u = u * 10 + dgt;
            }
            v->is_uint = ok;
            v->u = u;
        }
    }
    v->kind = HN_JV_NUM;
    return HN_OK;
}

static hn_status parse_value(jp *p, hn_jv *v, int depth);

static hn_status parse_container(jp *p, hn_jv *v, int depth, bool obj) {
    if (depth > MAX_DEPTH) return jerr(p, "nesting too deep");
    p->pos++; /* '[' or '{' */
    v->kind = obj ? HN_JV_OBJ : HN_JV_ARR;
    size_t cap = 0;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == (obj ? '}' : ']')) {
        p->pos++;
        return HN_OK;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(p);
        if (obj) {
            if (p->pos >= p->len || p->s[p->pos] != '"')
                return jerr(p, "object key (a string) expected");
            size_t kpos = p->pos;
            HN_TRY(parse_string(p, &key));
            for (size_t i = 0; i < v->n; i++)
                if (!strcmp(v->keys[i], key)) {
                    size_t save = p->pos;
                    p->pos = kpos;
                    hn_status s = hn_fail(HN_ERR_PARSE,
                                          "%s: malformed JSON at byte %zu: "
                                          "duplicate key \"%s\"",
                                          p->name, kpos, key);
                    p->pos = save;
                    free(key);
                    return s;
                }
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') {
                free(key);
                return jerr(p, "':' expected after object key");
            }
            p->pos++;
        }
        if (v->n == cap) {
            size_t nc = cap ? cap * 2 : 4;
            hn_jv *ni = realloc(v->items, nc * sizeof *ni);
            if (ni) v->items = ni;
            char **nk = obj ? realloc(v->keys, nc * sizeof *nk) : NULL;
            if (obj && nk) v->keys = nk;
            if (!ni || (obj && !nk)) {
                free(key);
                return hn_fail(HN_ERR_NOMEM, "%s: out of memory", p->name);
            }
            cap = nc;
        }
        memset(&v->items[v->n], 0, sizeof v->items[0]);
        if (obj) v->keys[v->n] = key;
        v->n++; /* counted before parsing so a failure frees what was built */
        HN_TRY(parse_value(p, &v->items[v->n - 1], depth + 1));
        skip_ws(p);
        if (p->pos >= p->len) return jerr(p, obj ? "unterminated object" : "unterminated array");
        char c = p->s[p->pos];
        if (c == ',') {
            p->pos++;
            continue;
        }
        if (c == (obj ? '}' : ']')) {
            p->pos++;
            return HN_OK;
        }
        return jerr(p, obj ? "',' or '}' expected" : "',' or ']' expected");
    }
}

static bool lit(jp *p, const char *w) {
    size_t n = strlen(w);
    if (p->pos + n <= p->len && !memcmp(p->s + p->pos, w, n)) {
        p->pos += n;
        return true;
    }
    return false;
}

static hn_status parse_value_(jp *p, hn_jv *v, int depth);

static hn_status parse_value(jp *p, hn_jv *v, int depth) {
    skip_ws(p);
    v->src_begin = p->pos;
    hn_status s = parse_value_(p, v, depth);
    v->src_end = p->pos;
    return s;
}

static hn_status parse_value_(jp *p, hn_jv *v, int depth) {
    if (p->pos >= p->len) return jerr(p, "value expected, end of input");
    char c = p->s[p->pos];
    if (c == '{') return parse_container(p, v, depth, true);
    if (c == '[') return parse_container(p, v, depth, false);
    if (c == '"') {
        v->kind = HN_JV_STR;
        return parse_string(p, &v->str);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p, v);
    if (lit(p, "true")) {
        v->kind = HN_JV_BOOL;
        v->b = true;
        return HN_OK;
    }
    if (lit(p, "false")) {
        v->kind = HN_JV_BOOL;
        return HN_OK;
    }
    if (lit(p, "null")) {
        v->kind = HN_JV_NULL;
        return HN_OK;
    }
    return jerr(p, "unexpected character");
}

hn_status hn_jv_parse(const char *text, size_t len, const char *name,
                      hn_jv **out) {
    jp p = {text, len, 0, name ? name : "JSON"};
    hn_jv *v = calloc(1, sizeof *v);
    if (!v) return hn_fail(HN_ERR_NOMEM, "%s: out of memory", p.name);
    hn_status s = parse_value(&p, v, 0);
    if (s == HN_OK) {
        skip_ws(&p);
        if (p.pos != p.len) s = jerr(&p, "trailing characters after the JSON value");
    }
    if (s != HN_OK) {
        hn_jv_free(v);
        return s;
    }
    *out = v;
    return HN_OK;
}

const hn_jv *hn_jv_get(const hn_jv *v, const char *key) {
    if (!v || v->kind != HN_JV_OBJ) return NULL;
    for (size_t i = 0; i < v->n; i++)
        if (!strcmp(v->keys[i], key)) return &v->items[i];
    return NULL;
}

const char *hn_jv_get_str(const hn_jv *v, const char *key) {
    const hn_jv *m = hn_jv_get(v, key);
    return m && m->kind == HN_JV_STR ? m->str : NULL;
}
