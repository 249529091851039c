/* safetensors writer and validating reader (see checkpoint.h). */
#include "hetnas/checkpoint.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hetnas/fileio.h"
#include "hetnas/json.h"
#include "hetnas/str.h"
#include "hetnas/jv.h"

#define MAX_HEADER (100u << 20) /* the reference implementation's limit */

static const char *const k_dt_names[] = {"F32", "I32", "I64", "U8", "F64"};
static const size_t k_dt_sizes[] = {4, 4, 8, 1, 8};
#define N_DT 5
/* dtypes of the format this reader does not convert */
static const char *const k_other_dts[] = {"F16", "BF16", "I8", "I16",
                                          "U16", "U32", "U64", "BOOL",
                                          "F8_E4M3", "F8_E5M2", "F8_E8M0",
                                          "F6_E2M3", "F6_E3M2", "F4"};

const char *hn_dtype_name(hn_dtype t) {
    return (unsigned)t < N_DT ? k_dt_names[t] : "?";
}
size_t hn_dtype_size(hn_dtype t) { return (unsigned)t < N_DT ? k_dt_sizes[t] : 0; }
int hn_dtype_parse(const char *name) {
    for (int i = 0; i < N_DT; i++)
        if (!strcmp(name, k_dt_names[i])) return i;
    return -1;
}

/* Element count with overflow check; -1 on overflow or a negative dim. */
static int64_t numel_of(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return -1;
        if (shape[i] != 0 && n > INT64_MAX / shape[i]) return -1;
        n *= shape[i];
    }
    return n;
}

static void shape_str(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%lld", i ? "," : "",
                              (long long)shape[i]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

/* ---- writer ------------------------------------------------------------- */

typedef struct wt {
    char *name;
    hn_dtype dt;
    int ndim;
    int64_t shape[HN_CKPT_MAX_DIMS];
    size_t nbytes;
    void *data;
} wt;

typedef struct wm {
    char *key, *val;
    bool json;
} wm;

struct hn_ckpt_writer {
    wt *t;
    int nt, capt;
    wm *m;
    int nm, capm;
};

hn_ckpt_writer *hn_ckpt_writer_new(void) {
    return calloc(1, sizeof(hn_ckpt_writer));
}

void hn_ckpt_writer_free(hn_ckpt_writer *w) {
    if (!w) return;
    for (int i = 0; i < w->nt; i++) {
        free(w->t[i].name);
        free(w->t[i].data);
    }
    for (int i = 0; i < w->nm; i++) {
        free(w->m[i].key);
        free(w->m[i].val);
    }
    free(w->t);
    free(w->m);
    free(w);
}

hn_status hn_ckpt_writer_add(hn_ckpt_writer *w, const char *name, hn_dtype dt,
                             int ndim, const int64_t *shape, const void *data) {
    if (!name || !*name || strlen(name) > HN_CKPT_NAME_MAX ||
        !strcmp(name, "__metadata__"))
        return hn_fail(HN_ERR_INVAL, "checkpoint: invalid tensor name '%s'",
                       name ? name : "(null)");
    if ((unsigned)dt >= N_DT)
        return hn_fail(HN_ERR_INVAL, "checkpoint: tensor '%s': bad dtype %d",
                       name, (int)dt);
    if (ndim < 0 || ndim > HN_CKPT_MAX_DIMS)
        return hn_fail(HN_ERR_INVAL, "checkpoint: tensor '%s': %d dimensions "
                       "(max %d)", name, ndim, HN_CKPT_MAX_DIMS);
    int64_t ne = numel_of(ndim, shape);
    if (ne < 0 || (uint64_t)ne > SIZE_MAX / 8)
        return hn_fail(HN_ERR_INVAL, "checkpoint: tensor '%s': bad shape", name);
    if (ne > 0 && !data)
        return hn_fail(HN_ERR_INVAL, "checkpoint: tensor '%s': no data", name);
    for (int i = 0; i < w->nt; i++)
        if (!strcmp(w->t[i].name, name))
            return hn_fail(HN_ERR_INVAL,
                           "checkpoint: tensor '%s' added twice", name);
    if (w->nt == w->capt) {
        int nc = w->capt ? 2 * w->capt : 16;
        wt *nt = realloc(w->t, (size_t)nc * sizeof *nt);
        if (!nt) return hn_fail(HN_ERR_NOMEM, "checkpoint: out of memory");
        w->t = nt;
        w->capt = nc;
    }
    wt *t = &w->t[w->nt];
    memset(t, 0, sizeof *t);
    t->nbytes = (size_t)ne * hn_dtype_size(dt);
    t->name = strdup(name);
    t->data = malloc(t->nbytes ? t->nbytes : 1);
    if (!t->name || !t->data) {
        free(t->name);
        free(t->data);
        return hn_fail(HN_ERR_NOMEM, "checkpoint: out of memory");
    }
    if (t->nbytes) memcpy(t->data, data, t->nbytes);
    t->dt = dt;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    w->nt++;
    return HN_OK;
}

hn_status hn_ckpt_writer_add_1d(hn_ckpt_writer *w, const char *name,
                                hn_dtype dt, int64_t n, const void *data) {
    return hn_ckpt_writer_add(w, name, dt, 1, &n, data);
}

static hn_status add_meta(hn_ckpt_writer *w, const char *key,
                          const char *value, bool json) {
    if (!key || !*key || !value)
        return hn_fail(HN_ERR_INVAL, "checkpoint: metadata needs a key and a value");
    char *v = strdup(value);
    if (!v) return hn_fail(HN_ERR_NOMEM, "checkpoint: out of memory");
    for (int i = 0; i < w->nm; i++)
        if (!strcmp(w->m[i].key, key)) {
            free(w->m[i].val);
            w->m[i].val = v;
            w->m[i].json = json;
            return HN_OK;
        }
    if (w->nm == w->capm) {
        int nc = w->capm ? 2 * w->capm : 8;
        wm *nm = realloc(w->m, (size_t)nc * sizeof *nm);
        if (!nm) {
            free(v);
            return hn_fail(HN_ERR_NOMEM, "checkpoint: out of memory");
        }
        w->m = nm;
        w->capm = nc;
    }
    w->m[w->nm].key = strdup(key);
    if (!w->m[w->nm].key) {
        free(v);
        return hn_fail(HN_ERR_NOMEM, "checkpoint: out of memory");
    }
    w->m[w->nm].val = v;
    w->m[w->nm].json = json;
    w->nm++;
    return HN_OK;
}

hn_status hn_ckpt_writer_meta(hn_ckpt_writer *w, const char *key,
                              const char *value) {
    return add_meta(w, key, value, false);
}

hn_status hn_ckpt_writer_meta_json(hn_ckpt_writer *w, const char *key,
                                   const char *json) {
    hn_jv *v = NULL;
    char what[300];
    snprintf(what, sizeof what, "checkpoint metadata '%s'", key ? key : "");
    HN_TRY(hn_jv_parse(json ? json : "", json ? strlen(json) : 0, what, &v));
    hn_jv_free(v);
    return add_meta(w, key, json, true);
}

hn_status hn_ckpt_writer_serialize(const hn_ckpt_writer *w, uint8_t **out,
                                   size_t *len) {
    hn_jw *j = hn_jw_new(0);
    if (!j) return hn_fail(HN_ERR_NOMEM, "checkpoint: out of memory");
    hn_jw_obj_begin(j);
    if (w->nm) {
        hn_jw_key(j, "__metadata__");
        hn_jw_obj_begin(j);
        for (int i = 0; i < w->nm; i++) {
            hn_jw_key(j, w->m[i].key);
            hn_jw_str(j, w->m[i].val);
        }
        hn_jw_obj_end(j);
    }
    size_t off = 0;
    for (int i = 0; i < w->nt; i++) {
        const wt *t = &w->t[i];
        hn_jw_key(j, t->name);
        hn_jw_obj_begin(j);
        hn_jw_key(j, "dtype");
        hn_jw_str(j, hn_dtype_name(t->dt));
        hn_jw_key(j, "shape");
        hn_jw_arr_begin(j);
        for (int d = 0; d < t->ndim; d++) hn_jw_int(j, t->shape[d]);
        hn_jw_arr_end(j);
        hn_jw_key(j, "data_offsets");
        hn_jw_arr_begin(j);
        hn_jw_uint(j, off);
        hn_jw_uint(j, off + t->nbytes);
        hn_jw_arr_end(j);
        hn_jw_obj_end(j);
        off += t->nbytes;
    }
    hn_jw_obj_end(j);
    hn_status s = hn_jw_status(j);
    if (s != HN_OK) {
        hn_jw_free(j);
        return hn_fail(s, "checkpoint: building the header failed");
    }
    size_t hl;
    const char *h = hn_jw_data(j, &hl);
    size_t padded = (hl + 8 + 7) / 8 * 8 - 8; /* data starts 8-aligned */
    size_t total = 8 + padded + off;
    uint8_t *b = malloc(total);
    if (!b) {
        hn_jw_free(j);
        return hn_fail(HN_ERR_NOMEM, "checkpoint: cannot allocate %zu bytes",
                       total);
    }
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    memcpy(b + 8, h, hl);
    memset(b + 8 + hl, ' ', padded - hl);
    uint8_t *d = b + 8 + padded;
    for (int i = 0; i < w->nt; i++) {
        if (w->t[i].nbytes) memcpy(d, w->t[i].data, w->t[i].nbytes);
        d += w->t[i].nbytes;
    }
    hn_jw_free(j);
    *out = b;
    *len = total;
    return HN_OK;
}

static char *side_path(const char *path) {
    size_t n = strlen(path);
    const char *ext = ".safetensors";
    size_t e = strlen(ext);
    char *p = malloc(n + 6);
    if (!p) return NULL;
    if (n > e && !strcmp(path + n - e, ext)) {
        memcpy(p, path, n - e);
        strcpy(p + n - e, ".json");
    } else {
        snprintf(p, n + 6, "%s.json", path);
    }
    return p;
}

static hn_status write_side(const hn_ckpt_writer *w, const char *path) {
    char *sp = side_path(path);
    if (!sp) return hn_fail(HN_ERR_NOMEM, "checkpoint: out of memory");
    hn_jw *j = hn_jw_new(2);
    if (!j) {
        free(sp);
        return hn_fail(HN_ERR_NOMEM, "checkpoint: out of memory");
    }
    const char *base = strrchr(path, '/');
    hn_jw_obj_begin(j);
    hn_jw_key(j, "file");
    hn_jw_str(j, base ? base + 1 : path);
    hn_jw_key(j, "format");
    hn_jw_str(j, "safetensors");
    hn_jw_key(j, "metadata");
    hn_jw_obj_begin(j);
    for (int i = 0; i < w->nm; i++) {
        hn_jw_key(j, w->m[i].key);
        if (w->m[i].json)
            hn_jw_raw(j, w->m[i].val);
        else
            hn_jw_str(j, w->m[i].val);
    }
    hn_jw_obj_end(j);
    hn_jw_key(j, "tensors");
    hn_jw_obj_begin(j);
    for (int i = 0; i < w->nt; i++) {
        hn_jw_key(j, w->t[i].name);
        hn_jw_obj_begin(j);
        hn_jw_key(j, "dtype");
        hn_jw_str(j, hn_dtype_name(w->t[i].dt));
        hn_jw_key(j, "shape");
        hn_jw_arr_begin(j);
        for (int d = 0; d < w->t[i].ndim; d++) hn_jw_int(j, w->t[i].shape[d]);
        hn_jw_arr_end(j);
        hn_jw_obj_end(j);
    }
    hn_jw_obj_end(j);
    hn_jw_obj_end(j);
    hn_status s = hn_jw_status(j);
    if (s == HN_OK) {
        size_t len;
        const char *txt = hn_jw_data(j, &len);
        char *t2 = malloc(len + 2);
        if (!t2) {
            s = hn_fail(HN_ERR_NOMEM, "checkpoint: out of memory");
        } else {
            memcpy(t2, txt, len);
            t2[len] = '\n';
            s = hn_file_write_atomic(sp, t2, len + 1);
            free(t2);
        }
    }
    hn_jw_free(j);
    free(sp);
    return s;
}

hn_status hn_ckpt_writer_save(const hn_ckpt_writer *w, const char *path,
                              bool side_file) {
    uint8_t *buf;
    size_t len;
    HN_TRY(hn_ckpt_writer_serialize(w, &buf, &len));
    hn_status s = hn_file_write_atomic(path, buf, len);
    free(buf);
    if (s != HN_OK) return hn_fail_ctx(s, "saving checkpoint %s", path);
    if (side_file) HN_TRY(write_side(w, path));
    return HN_OK;
}

/* ---- reader ------------------------------------------------------------- */

struct hn_ckpt {
    char *path;
    uint8_t *buf; /* whole file */
    size_t len;
    hn_ckpt_tensor *t; /* (nt) in offset order */
    int nt;
    int *by_name; /* (nt) indices sorted by name */
    char **mk, **mv;
    int nm;
    hn_jv *header;
};

void hn_ckpt_free(hn_ckpt *c) {
    if (!c) return;
    free(c->path);
    free(c->buf);
    free(c->t);
    free(c->by_name);
    free(c->mk);
    free(c->mv);
    hn_jv_free(c->header);
    free(c);
}

const char *hn_ckpt_path(const hn_ckpt *c) { return c->path; }
int hn_ckpt_n_tensors(const hn_ckpt *c) { return c->nt; }
const hn_ckpt_tensor *hn_ckpt_tensor_at(const hn_ckpt *c, int i) {
    HN_ASSERT(i >= 0 && i < c->nt);
    return &c->t[i];
}
int hn_ckpt_n_meta(const hn_ckpt *c) { return c->nm; }
const char *hn_ckpt_meta_key(const hn_ckpt *c, int i) {
    HN_ASSERT(i >= 0 && i < c->nm);
    return c->mk[i];
}
const char *hn_ckpt_meta_val(const hn_ckpt *c, int i) {
    HN_ASSERT(i >= 0 && i < c->nm);
    return c->mv[i];
}
const char *hn_ckpt_meta(const hn_ckpt *c, const char *key) {
    for (int i = 0; i < c->nm; i++)
        if (!strcmp(c->mk[i], key)) return c->mv[i];
    return NULL;
}

/* qsort has no context argument: the tensor array being sorted, per thread */
static __thread const hn_ckpt_tensor *t_sort_t;

static int cmp_off(const void *a, const void *b) {
    const hn_ckpt_tensor *x = a, *y = b;
    const uint8_t *px = x->data, *py = y->data;
    if (px != py) return px < py ? -1 : 1;
    return (x->nbytes > y->nbytes) - (x->nbytes < y->nbytes);
}

static int cmp_name(const void *a, const void *b) {
    return strcmp(t_sort_t[*(const int *)a].name, t_sort_t[*(const int *)b].name);
}

/* Parses one tensor entry into *t (data pointer relative to data base). */
static hn_status parse_entry(const char *file, const char *name,
                             const hn_jv *e, const uint8_t *data,
                             size_t data_len, hn_ckpt_tensor *t) {
    if (e->kind != HN_JV_OBJ)
        return hn_fail(HN_ERR_FORMAT, "%s: tensor '%s': header entry is not an "
                       "object", file, name);
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->keys[i], "dtype") && strcmp(e->keys[i], "shape") &&
            strcmp(e->keys[i], "data_offsets"))
            return hn_fail(HN_ERR_FORMAT, "%s: tensor '%s': unknown header key "
                           "'%s'", file, name, e->keys[i]);
    const hn_jv *dt = hn_jv_get(e, "dtype"), *sh = hn_jv_get(e, "shape"),
                *of = hn_jv_get(e, "data_offsets");
    if (!dt || dt->kind != HN_JV_STR)
        return hn_fail(HN_ERR_FORMAT, "%s: tensor '%s': missing string 'dtype'",
                       file, name);
    int d = hn_dtype_parse(dt->str);
    if (d < 0) {
        for (size_t i = 0; i < sizeof k_other_dts / sizeof *k_other_dts; i++)
            if (!strcmp(dt->str, k_other_dts[i]))
                return hn_fail(HN_ERR_UNSUPPORTED,
                               "%s: tensor '%s': dtype %s is not supported "
                               "(F32, I32, I64, U8; convert it in PyTorch with "
                               ".float())", file, name, dt->str);
        return hn_fail(HN_ERR_FORMAT, "%s: tensor '%s': unknown dtype '%s'",
                       file, name, dt->str);
    }
    if (!sh || sh->kind != HN_JV_ARR)
        return hn_fail(HN_ERR_FORMAT, "%s: tensor '%s': missing array 'shape'",
                       file, name);
    if (sh->n > HN_CKPT_MAX_DIMS)
        return hn_fail(HN_ERR_FORMAT, "%s: tensor '%s': %zu dimensions (max %d)",
                       file, name, sh->n, HN_CKPT_MAX_DIMS);
    memset(t, 0, sizeof *t);
    t->ndim = (int)sh->n;
    for (size_t i = 0; i < sh->n; i++) {
        if (sh->items[i].kind != HN_JV_NUM || !sh->items[i].is_uint ||
            sh->items[i].u > (uint64_t)INT64_MAX)
            return hn_fail(HN_ERR_FORMAT, "%s: tensor '%s': shape[%zu] is not "
                           "a non-negative integer", file, name, i);
        t->shape[i] = (int64_t)sh->items[i].u;
    }
    if (!of || of->kind != HN_JV_ARR || of->n != 2 ||
        of->items[0].kind != HN_JV_NUM || !of->items[0].is_uint ||
        of->items[1].kind != HN_JV_NUM || !of->items[1].is_uint)
        return hn_fail(HN_ERR_FORMAT, "%s: tensor '%s': 'data_offsets' must be "
                       "[begin, end] of non-negative integers", file, name);
    uint64_t b = of->items[0].u, en = of->items[1].u;
    if (b > en || en > data_len)
        return hn_fail(HN_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] "
                       "outside the %zu data bytes (truncated file?)",
                       file, name, (unsigned long long)b, (unsigned long long)en,
                       data_len);
    int64_t ne = numel_of(t->ndim, t->shape);
    size_t es = hn_dtype_size((hn_dtype)d);
    char sb[200];
    shape_str(sb, sizeof sb, t->ndim, t->shape);
    if (ne < 0 || (uint64_t)ne > UINT64_MAX / es || (uint64_t)ne * es != en - b)
        return hn_fail(HN_ERR_FORMAT, "%s: tensor '%s': %s shape %s needs %llu "
                       "bytes but data_offsets span %llu",
                       file, name, dt->str, sb,
                       ne < 0 ? 0ull : (unsigned long long)ne * es,
                       (unsigned long long)(en - b));
    t->name = name;
    t->dtype = (hn_dtype)d;
    t->numel = ne;
    t->nbytes = (size_t)(en - b);
    t->data = data + b;
    return HN_OK;
}

static hn_status load_impl(hn_ckpt *c) {
    const char *f = c->path;
    if (c->len < 8)
        return hn_fail(HN_ERR_FORMAT, "%s: %zu bytes is too short for a "
                       "safetensors file (8-byte header length)", f, c->len);
    uint64_t hl = 0;
    for (int i = 0; i < 8; i++) hl |= (uint64_t)c->buf[i] << (8 * i);
    if (hl > MAX_HEADER)
        return hn_fail(HN_ERR_FORMAT, "%s: header length %llu is implausible "
                       "(limit %u; not a safetensors file?)",
                       f, (unsigned long long)hl, MAX_HEADER);
    if (hl > c->len - 8)
        return hn_fail(HN_ERR_FORMAT, "%s: header length %llu exceeds the file "
                       "size %zu (truncated file?)",
                       f, (unsigned long long)hl, c->len);
    if (hl < 2 || c->buf[8] != '{')
        return hn_fail(HN_ERR_FORMAT, "%s: the header does not start with '{' "
                       "(not a safetensors file?)", f);
    char what[4200];
    snprintf(what, sizeof what, "%s: header", f);
    HN_TRY(hn_jv_parse((const char *)c->buf + 8, (size_t)hl, what, &c->header));
    const hn_jv *h = c->header;
    if (h->kind != HN_JV_OBJ)
        return hn_fail(HN_ERR_FORMAT, "%s: the header is not a JSON object", f);
    const uint8_t *data = c->buf + 8 + hl;
    size_t data_len = c->len - 8 - (size_t)hl;
    c->t = calloc(h->n ? h->n : 1, sizeof *c->t);
    c->mk = calloc(1, sizeof(char *));
    c->mv = calloc(1, sizeof(char *));
    if (!c->t || !c->mk || !c->mv) return hn_fail(HN_ERR_NOMEM, "%s: out of memory", f);
    for (size_t i = 0; i < h->n; i++) {
        const char *name = h->keys[i];
        const hn_jv *e = &h->items[i];
        if (!strcmp(name, "__metadata__")) {
            if (e->kind != HN_JV_OBJ)
                return hn_fail(HN_ERR_FORMAT, "%s: __metadata__ is not an object", f);
            free(c->mk);
            free(c->mv);
            c->mk = calloc(e->n + 1, sizeof(char *));
            c->mv = calloc(e->n + 1, sizeof(char *));
            if (!c->mk || !c->mv) return hn_fail(HN_ERR_NOMEM, "%s: out of memory", f);
            for (size_t k = 0; k < e->n; k++) {
                if (e->items[k].kind != HN_JV_STR)
                    return hn_fail(HN_ERR_FORMAT, "%s: __metadata__ value of '%s' is "
                                   "not a string (the format allows only "
                                   "string -> string)", f, e->keys[k]);
                c->mk[k] = e->keys[k];
                c->mv[k] = e->items[k].str;
            }
            c->nm = (int)e->n;
            continue;
        }
        HN_TRY(parse_entry(f, name, e, data, data_len, &c->t[c->nt]));
        c->nt++;
    }
    /* offsets: no overlaps, and the tensors tile the data exactly (the
     * reference implementation rejects gaps and trailing bytes too) */
    qsort(c->t, (size_t)c->nt, sizeof *c->t, cmp_off);
    size_t pos = 0;
    for (int i = 0; i < c->nt; i++) {
        size_t b = (size_t)((const uint8_t *)c->t[i].data - data);
        if (b < pos)
            return hn_fail(HN_ERR_FORMAT, "%s: tensor '%s' (data_offsets [%zu, %zu]) "
                           "overlaps tensor '%s'",
                           f, c->t[i].name, b, b + c->t[i].nbytes, c->t[i - 1].name);
        if (b > pos)
            return hn_fail(HN_ERR_FORMAT, "%s: %zu unused data bytes before tensor "
                           "'%s' (data_offsets start at %zu)",
                           f, b - pos, c->t[i].name, b);
        pos = b + c->t[i].nbytes;
    }
    if (pos != data_len)
        return hn_fail(HN_ERR_FORMAT, "%s: the tensors cover %zu data bytes but "
                       "the file has %zu after the header (truncated or "
                       "trailing garbage)", f, pos, data_len);
    size_t nb = c->nt > 0 ? (size_t)c->nt : 1;
    c->by_name = malloc(sizeof(int) * nb);
    if (!c->by_name) return hn_fail(HN_ERR_NOMEM, "%s: out of memory", f);
    for (int i = 0; i < c->nt; i++) c->by_name[i] = i;
    t_sort_t = c->t;
    qsort(c->by_name, (size_t)c->nt, sizeof(int), cmp_name);
    return HN_OK;
}

hn_status hn_ckpt_load_buffer(const void *buf, size_t len, const char *name,
                              hn_ckpt **out) {
    hn_ckpt *c = calloc(1, sizeof *c);
    if (!c) return hn_fail(HN_ERR_NOMEM, "checkpoint: out of memory");
    c->path = strdup(name ? name : "(buffer)");
    c->buf = malloc(len ? len : 1);
    if (!c->path || !c->buf) {
        hn_ckpt_free(c);
        return hn_fail(HN_ERR_NOMEM, "checkpoint: out of memory");
    }
    if (len) memcpy(c->buf, buf, len);
    c->len = len;
    hn_status s = load_impl(c);
    if (s != HN_OK) {
        hn_ckpt_free(c);
        return s;
    }
    *out = c;
    return HN_OK;
}

/* The file size a safetensors file must have according to its header:
 * 8 + header length + the largest data_offsets end.  Checked before the
 * data is read, so a huge or sparse file with a bogus header costs one
 * header read, not the whole file.  Malformed headers are left to
 * load_impl (which then only gets the header bytes). */
static hn_status expected_size(const char *path, uint64_t *want) {
    int fd;
    uint64_t size;
    HN_TRY(hn_file_open_regular(path, &fd, &size));
    uint8_t lb[8];
    size_t got;
    hn_status s = hn_file_read_fd(fd, path, lb, 8, &got);
    uint64_t hl = 0;
    for (size_t i = 0; i < got; i++) hl |= (uint64_t)lb[i] << (8 * i);
    if (s != HN_OK || got < 8 || hl > MAX_HEADER || hl > size - 8) {
        close(fd);
        *want = size < 8 + (uint64_t)MAX_HEADER ? size : 8; /* load_impl says why */
        return s;
    }
    char *h = malloc((size_t)hl + 1);
    if (!h) {
        close(fd);
        return hn_fail(HN_ERR_NOMEM, "%s: out of memory", path);
    }
    s = hn_file_read_fd(fd, path, h, (size_t)hl, &got);
    close(fd);
    hn_jv *v = NULL;
    *want = 8 + hl; /* unparsable header: load_impl reports it */
    if (s == HN_OK && got == hl &&
        hn_jv_parse(h, (size_t)hl, path, &v) == HN_OK && v->kind == HN_JV_OBJ) {
        uint64_t end = 0;
        for (size_t i = 0; i < v->n; i++) {
            const hn_jv *of = hn_jv_get(&v->items[i], "data_offsets");
            if (of && of->kind == HN_JV_ARR && of->n == 2 &&
                of->items[1].is_uint && of->items[1].u > end)
                end = of->items[1].u;
        }
        if (end > size - 8 - hl) {
            s = hn_fail(HN_ERR_FORMAT, "%s: the header describes %llu data "
                        "bytes but the file has %llu after the header "
                        "(truncated file?)", path, (unsigned long long)end,
                        (unsigned long long)(size - 8 - hl));
        } else if (end < size - 8 - hl) {
            s = hn_fail(HN_ERR_FORMAT, "%s: the tensors cover %llu data bytes "
                        "but the file has %llu after the header (trailing "
                        "garbage?)", path, (unsigned long long)end,
                        (unsigned long long)(size - 8 - hl));
        }
        *want = size;
    }
    hn_jv_free(v);
    free(h);
    return s;
}

hn_status hn_ckpt_load(const char *path, hn_ckpt **out) {
    char *buf;
    size_t len;
    uint64_t want = 0;
    HN_TRY(expected_size(path, &want));
    if (want > SIZE_MAX - 2)
        return hn_fail(HN_ERR_RANGE, "%s: %llu bytes is too large", path,
                       (unsigned long long)want);
    /* A shorter read (want < size) hands load_impl a truncated image whose
     * error names the real problem (bad header length or JSON). */
    hn_status rs = hn_file_read_max(path, (size_t)want, &buf, &len);
    if (rs == HN_ERR_RANGE) {
        int fd;
        uint64_t size;
        HN_TRY(hn_file_open_regular(path, &fd, &size));
        buf = malloc((size_t)want + 1);
        if (!buf) {
            close(fd);
            return hn_fail(HN_ERR_NOMEM, "%s: out of memory", path);
        }
        rs = hn_file_read_fd(fd, path, buf, (size_t)want, &len);
        close(fd);
        if (rs != HN_OK) free(buf);
    }
    HN_TRY(rs);
    hn_ckpt *c = calloc(1, sizeof *c);
    if (!c) {
        free(buf);
        return hn_fail(HN_ERR_NOMEM, "checkpoint: out of memory");
    }
    c->path = strdup(path);
    c->buf = (uint8_t *)buf;
    c->len = len;
    hn_status s = c->path ? load_impl(c) : hn_fail(HN_ERR_NOMEM, "out of memory");
    if (s != HN_OK) {
        hn_ckpt_free(c);
        return s;
    }
    *out = c;
    return HN_OK;
}

const hn_ckpt_tensor *hn_ckpt_find(const hn_ckpt *c, const char *name) {
    int lo = 0, hi = c->nt - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int r = strcmp(name, c->t[c->by_name[mid]].name);
        if (!r) return &c->t[c->by_name[mid]];
        if (r < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return NULL;
}

hn_status hn_ckpt_get(const hn_ckpt *c, const char *name, hn_dtype dt,
                      int ndim, const int64_t *shape, void *dst) {
    const hn_ckpt_tensor *t = hn_ckpt_find(c, name);
    if (!t) {
        const char *best = NULL;
        int bd = 1 << 30;
        for (int i = 0; i < c->nt; i++) {
            int d = hn_str_edit_distance(name, c->t[i].name);
            if (d < bd) {
                bd = d;
                best = c->t[i].name;
            }
        }
        if (best && bd <= 3)
            return hn_fail(HN_ERR_FORMAT, "%s: no tensor '%s' (did you mean '%s'?)",
                           c->path, name, best);
        return hn_fail(HN_ERR_FORMAT, "%s: no tensor '%s' (%d tensors in the file)",
                       c->path, name, c->nt);
    }
    if (t->dtype != dt)
        return hn_fail(HN_ERR_FORMAT, "%s: tensor '%s' has dtype %s, expected %s",
                       c->path, name, hn_dtype_name(t->dtype), hn_dtype_name(dt));
    bool same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++) same = t->shape[i] == shape[i];
    if (!same) {
        char a[200], b[200];
        shape_str(a, sizeof a, t->ndim, t->shape);
        shape_str(b, sizeof b, ndim, shape);
        return hn_fail(HN_ERR_FORMAT, "%s: tensor '%s' has shape %s, expected %s",
                       c->path, name, a, b);
    }
    if (dt == HN_DT_F32) HN_TRY(hn_ckpt_check_finite(c, t));
    if (t->nbytes) memcpy(dst, t->data, t->nbytes);
    return HN_OK;
}

hn_status hn_ckpt_check_finite(const hn_ckpt *c, const hn_ckpt_tensor *t) {
    if (t->dtype != HN_DT_F32) return HN_OK;
    const uint8_t *p = t->data;
    for (int64_t i = 0; i < t->numel; i++) {
        float v;
        memcpy(&v, p + 4 * i, 4); /* the data may be unaligned */
        if (!isfinite(v))
            return hn_fail(HN_ERR_FORMAT, "%s: tensor '%s' holds a non-finite "
                           "value (%s at element %lld): a diverged or corrupt "
                           "model", c->path, t->name,
                           isnan(v) ? "nan" : v > 0 ? "inf" : "-inf",
                           (long long)i);
    }
    return HN_OK;
}

hn_status hn_ckpt_get_1d(const hn_ckpt *c, const char *name, hn_dtype dt,
                         int64_t n, void *dst) {
    return hn_ckpt_get(c, name, dt, 1, &n, dst);
}

/* ---- RNG and integer metadata helpers ------------------------------------- */

hn_status hn_ckpt_writer_add_rng(hn_ckpt_writer *w, const char *name,
                                 const hn_rng *r) {
    int64_t v[2];
    memcpy(&v[0], &r->state, 8);
    memcpy(&v[1], &r->inc, 8);
    return hn_ckpt_writer_add_1d(w, name, HN_DT_I64, 2, v);
}

hn_status hn_ckpt_writer_meta_int(hn_ckpt_writer *w, const char *key,
                                  int64_t v) {
    char b[32];
    snprintf(b, sizeof b, "%lld", (long long)v);
    return hn_ckpt_writer_meta(w, key, b);
}

hn_status hn_ckpt_get_rng(const hn_ckpt *c, const char *name, hn_rng *r) {
    int64_t v[2];
    HN_TRY(hn_ckpt_get_1d(c, name, HN_DT_I64, 2, v));
    hn_rng t;
    memcpy(&t.state, &v[0], 8);
    memcpy(&t.inc, &v[1], 8);
    if (!(t.inc & 1))
        return hn_fail(HN_ERR_FORMAT, "%s: tensor '%s' is not an RNG state (even "
                       "stream increment)", c->path, name);
    *r = t;
    return HN_OK;
}

hn_status hn_ckpt_meta_int(const hn_ckpt *c, const char *key, int64_t *v) {
    const char *s = hn_ckpt_meta(c, key);
    if (!s)
        return hn_fail(HN_ERR_FORMAT, "%s: metadata '%s' is missing", c->path, key);
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (!*s || *end || errno)
        return hn_fail(HN_ERR_FORMAT, "%s: metadata '%s' = '%s' is not an integer",
                       c->path, key, s);
    *v = x;
    return HN_OK;
}

hn_status hn_ckpt_check(const char *path, void *ud) {
    (void)ud;
    hn_ckpt *c = NULL;
    HN_TRY(hn_ckpt_load(path, &c));
    hn_ckpt_free(c);
    return HN_OK;
}
