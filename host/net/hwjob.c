/* hn_hwjob_*: the conv layer job of the bit-serial hardware: geometry and
 * value checks, allocation, the JSON job file (docs/formats.md) and seeded
 * random jobs for tests. */
#include "hetnas/hwjob.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/doc.h"
#include "hetnas/fileio.h"
#include "hetnas/json.h"
#include "hetnas/rng.h"

/* Format-level limits (any backend); backends pass tighter bit limits to
 * hn_hwjob_validate. */
#define HWJOB_MAX_K 15
#define HWJOB_MAX_STRIDE 16
#define HWJOB_MAX_DIM 4096
#define HWJOB_MAX_CH 65536
#define HWJOB_MAX_ELEMS (1LL << 28)

void hn_hwjob_out_dims(const hn_hwjob *job, int *out_h, int *out_w) {
    int s = job->stride > 0 ? job->stride : 1;
    int oh = (job->in_h + 2 * job->pad - job->k) / s + 1;
    int ow = (job->in_w + 2 * job->pad - job->k) / s + 1;
    if (job->in_h + 2 * job->pad < job->k) oh = 0;
    if (job->in_w + 2 * job->pad < job->k) ow = 0;
    if (out_h) *out_h = oh;
    if (out_w) *out_w = ow;
}

void hn_hwjob_wrange(int bits, int32_t *lo, int32_t *hi) {
    if (bits <= 1) {
        *lo = -1;
        *hi = 1;
        return;
    }
    if (bits > 31) bits = 31;
    int32_t m = (int32_t)((1u << (bits - 1)) - 1u);
    *lo = -m;
    *hi = m;
}

/* Geometry and group checks (no values); sets nothing. */
static hn_status check_geometry(const hn_hwjob *job, int max_wbits,
                                int max_abits, int *c_in, int *c_out) {
    if (job->k < 1 || job->k > HWJOB_MAX_K)
        return hn_fail(HN_ERR_RANGE, "k: %d is out of range [1, %d]", job->k,
                       HWJOB_MAX_K);
    if (job->stride < 1 || job->stride > HWJOB_MAX_STRIDE)
        return hn_fail(HN_ERR_RANGE, "stride: %d is out of range [1, %d]",
                       job->stride, HWJOB_MAX_STRIDE);
    if (job->pad < 0 || job->pad >= job->k)
        return hn_fail(HN_ERR_RANGE, "pad: %d is out of range [0, k-1 = %d]",
                       job->pad, job->k - 1);
    if (job->in_h < 1 || job->in_h > HWJOB_MAX_DIM)
        return hn_fail(HN_ERR_RANGE, "in_h: %d is out of range [1, %d]",
                       job->in_h, HWJOB_MAX_DIM);
    if (job->in_w < 1 || job->in_w > HWJOB_MAX_DIM)
        return hn_fail(HN_ERR_RANGE, "in_w: %d is out of range [1, %d]",
                       job->in_w, HWJOB_MAX_DIM);
    if (job->in_h + 2 * job->pad < job->k || job->in_w + 2 * job->pad < job->k)
        return hn_fail(HN_ERR_RANGE, "k: %d is larger than the padded input "
                       "%dx%d (in_h/in_w + 2*pad)", job->k,
                       job->in_h + 2 * job->pad, job->in_w + 2 * job->pad);
    if (job->n_in_groups < 1 || job->n_in_groups > HN_HW_MAX_GROUPS)
        return hn_fail(HN_ERR_RANGE, "in_groups: %d groups, expected 1..%d",
                       job->n_in_groups, HN_HW_MAX_GROUPS);
    if (job->n_out_groups < 1 || job->n_out_groups > HN_HW_MAX_GROUPS)
        return hn_fail(HN_ERR_RANGE, "out_groups: %d groups, expected 1..%d",
                       job->n_out_groups, HN_HW_MAX_GROUPS);
    long long ci = 0, co = 0;
    for (int g = 0; g < job->n_in_groups; g++) {
        const hn_hw_group *G = &job->in_groups[g];
        if (G->n < 1 || G->n > HWJOB_MAX_CH)
            return hn_fail(HN_ERR_RANGE, "in_groups[%d].channels: %d is out "
                           "of range [1, %d]", g, G->n, HWJOB_MAX_CH);
        if (G->bits < 1 || G->bits > max_abits)
            return hn_fail(HN_ERR_RANGE, "in_groups[%d].bits: %d is out of "
                           "range [1, %d] (activation bits this backend "
                           "supports)", g, G->bits, max_abits);
        ci += G->n;
    }
    for (int g = 0; g < job->n_out_groups; g++) {
        const hn_hw_group *G = &job->out_groups[g];
        if (G->n < 1 || G->n > HWJOB_MAX_CH)
            return hn_fail(HN_ERR_RANGE, "out_groups[%d].filters: %d is out "
                           "of range [1, %d]", g, G->n, HWJOB_MAX_CH);
        if (G->bits < 1 || G->bits > max_wbits)
            return hn_fail(HN_ERR_RANGE, "out_groups[%d].bits: %d is out of "
                           "range [1, %d] (weight bits this backend "
                           "supports; 1 = binary +-1)", g, G->bits, max_wbits);
        co += G->n;
    }
    if (ci > HWJOB_MAX_CH || co > HWJOB_MAX_CH)
        return hn_fail(HN_ERR_RANGE, "in_groups/out_groups: %lld input "
                       "channels and %lld filters, at most %d each", ci, co,
                       HWJOB_MAX_CH);
    long long nw = co * ci * job->k * job->k;
    long long na = ci * job->in_h * job->in_w;
    int oh, ow;
    hn_hwjob_out_dims(job, &oh, &ow);
    long long no = co * oh * ow;
    if (nw > HWJOB_MAX_ELEMS || na > HWJOB_MAX_ELEMS || no > HWJOB_MAX_ELEMS)
        return hn_fail(HN_ERR_RANGE, "job too large: %lld weights, %lld "
                       "activations, %lld outputs (at most %lld each)", nw, na,
                       no, HWJOB_MAX_ELEMS);
    *c_in = (int)ci;
    *c_out = (int)co;
    return HN_OK;
}

hn_status hn_hwjob_validate(const hn_hwjob *job, int max_wbits,
                            int max_abits) {
    if (!job) return hn_fail(HN_ERR_INVAL, "hwjob: NULL job");
    int ci, co;
    HN_TRY(check_geometry(job, max_wbits, max_abits, &ci, &co));
    if (job->c_in != ci)
        return hn_fail(HN_ERR_INVAL, "c_in: %d but in_groups sum to %d",
                       job->c_in, ci);
    if (job->c_out != co)
        return hn_fail(HN_ERR_INVAL, "c_out: %d but out_groups sum to %d",
                       job->c_out, co);
    if (!job->weights || !job->acts)
        return hn_fail(HN_ERR_INVAL, "hwjob: weights/acts not allocated");
    const int kk = job->k * job->k;
    int f = 0;
    for (int g = 0; g < job->n_out_groups; g++) {
        int32_t lo, hi;
        hn_hwjob_wrange(job->out_groups[g].bits, &lo, &hi);
        for (int i = 0; i < job->out_groups[g].n; i++, f++) {
            const int32_t *w = job->weights + (size_t)f * ci * kk;
            for (long j = 0; j < (long)ci * kk; j++) {
                int32_t v = w[j];
                if (v < lo || v > hi || (job->out_groups[g].bits == 1 && v == 0))
                    return hn_fail(HN_ERR_RANGE, "weights[%ld]: %" PRId32
                                   " is out of range for filter %d (out_groups"
                                   "[%d], %d bits: %s [%" PRId32 ", %" PRId32
                                   "])", (long)f * ci * kk + j, v, f, g,
                                   job->out_groups[g].bits,
                                   job->out_groups[g].bits == 1 ? "-1 or +1, "
                                   "not 0, in" : "integers in", lo, hi);
            }
        }
    }
    const long hw = (long)job->in_h * job->in_w;
    int c = 0;
    for (int g = 0; g < job->n_in_groups; g++) {
        int32_t hi = (int32_t)((1u << job->in_groups[g].bits) - 1u);
        for (int i = 0; i < job->in_groups[g].n; i++, c++) {
            const int32_t *a = job->acts + (size_t)c * hw;
            for (long j = 0; j < hw; j++)
                if (a[j] < 0 || a[j] > hi)
                    return hn_fail(HN_ERR_RANGE, "acts[%ld]: %" PRId32 " is out "
                                   "of range for channel %d (in_groups[%d], %d "
                                   "bits: [0, %" PRId32 "])", (long)c * hw + j,
                                   a[j], c, g, job->in_groups[g].bits, hi);
        }
    }
    return HN_OK;
}

hn_status hn_hwjob_alloc(hn_hwjob *job) {
    if (!job) return hn_fail(HN_ERR_INVAL, "hwjob: NULL job");
    int ci, co;
    HN_TRY(check_geometry(job, 16, 16, &ci, &co));
    job->c_in = ci;
    job->c_out = co;
    size_t nw = (size_t)co * ci * job->k * job->k;
    size_t na = (size_t)ci * job->in_h * job->in_w;
    job->weights = calloc(nw, sizeof *job->weights);
    job->acts = calloc(na, sizeof *job->acts);
    if (!job->weights || !job->acts) {
        hn_hwjob_free(job);
        return hn_fail(HN_ERR_NOMEM, "hwjob: cannot allocate %zu weights and "
                       "%zu activations", nw, na);
    }
    /* Binary filters have no 0: start them at +1 so a fresh job is valid. */
    int f = 0;
    for (int g = 0; g < job->n_out_groups; g++)
        for (int i = 0; i < job->out_groups[g].n; i++, f++)
            if (job->out_groups[g].bits == 1)
                for (size_t j = 0; j < (size_t)ci * job->k * job->k; j++)
                    job->weights[(size_t)f * ci * job->k * job->k + j] = 1;
    return HN_OK;
}

void hn_hwjob_free(hn_hwjob *job) {
    if (!job) return;
    free(job->weights);
    free(job->acts);
    job->weights = NULL;
    job->acts = NULL;
}

/* ---- JSON job file ------------------------------------------------------ */

static hn_status load_groups(const hn_doc *d, const hn_node *seq,
                             const char *key, const char *nkey, int *n_groups,
                             hn_hw_group *groups) {
    size_t n = hn_node_len(seq);
    if (n < 1 || n > HN_HW_MAX_GROUPS)
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: %s: %zu groups, expected 1..%d",
                       hn_doc_name(d), hn_node_line(seq), key, n,
                       HN_HW_MAX_GROUPS);
    for (size_t i = 0; i < n; i++) {
        const hn_node *g = hn_node_at(seq, i);
        char ctx[64];
        snprintf(ctx, sizeof ctx, "%s[%zu].", key, i);
        const hn_field fields[] = {
            {nkey, HN_FIELD_INT, true, 1, HWJOB_MAX_CH},
            {"bits", HN_FIELD_INT, true, 1, 16},
        };
        HN_TRY(hn_schema_check(d, g, ctx, fields, 2));
        int64_t v;
        char what[96];
        snprintf(what, sizeof what, "%s%s", ctx, nkey);
        HN_TRY(hn_node_as_int(d, hn_node_get(g, nkey), what, 1, HWJOB_MAX_CH,
                              &v));
        groups[i].n = (int)v;
        snprintf(what, sizeof what, "%sbits", ctx);
        HN_TRY(hn_node_as_int(d, hn_node_get(g, "bits"), what, 1, 16, &v));
        groups[i].bits = (int)v;
    }
    *n_groups = (int)n;
    return HN_OK;
}

static hn_status load_int(const hn_doc *d, const hn_node *root,
                          const char *key, int64_t lo, int64_t hi, int *out) {
    int64_t v;
    HN_TRY(hn_node_as_int(d, hn_node_get(root, key), key, lo, hi, &v));
    *out = (int)v;
    return HN_OK;
}

static hn_status load_doc(const hn_doc *d, hn_hwjob *job) {
    const char *name = hn_doc_name(d);
    const hn_node *root = hn_doc_root(d);
    if (!root) return hn_fail(HN_ERR_SCHEMA, "%s: empty job file", name);
    const hn_field fields[] = {
        {"k", HN_FIELD_INT, true, 1, HWJOB_MAX_K},
        {"stride", HN_FIELD_INT, true, 1, HWJOB_MAX_STRIDE},
        {"pad", HN_FIELD_INT, true, 0, HWJOB_MAX_K - 1},
        {"in_h", HN_FIELD_INT, true, 1, HWJOB_MAX_DIM},
        {"in_w", HN_FIELD_INT, true, 1, HWJOB_MAX_DIM},
        {"in_groups", HN_FIELD_SEQ, true, 0, 0},
        {"out_groups", HN_FIELD_SEQ, true, 0, 0},
        {"weights", HN_FIELD_SEQ, true, 0, 0},
        {"acts", HN_FIELD_SEQ, true, 0, 0},
    };
    HN_TRY(hn_schema_check(d, root, "", fields, sizeof fields / sizeof *fields));
    HN_TRY(load_int(d, root, "k", 1, HWJOB_MAX_K, &job->k));
    HN_TRY(load_int(d, root, "stride", 1, HWJOB_MAX_STRIDE, &job->stride));
    HN_TRY(load_int(d, root, "pad", 0, HWJOB_MAX_K - 1, &job->pad));
    HN_TRY(load_int(d, root, "in_h", 1, HWJOB_MAX_DIM, &job->in_h));
    HN_TRY(load_int(d, root, "in_w", 1, HWJOB_MAX_DIM, &job->in_w));
    const hn_node *pn = hn_node_get(root, "pad");
    if (job->pad >= job->k)
        return hn_fail(HN_ERR_RANGE, "%s:%d: pad: %d must be below k = %d",
                       name, hn_node_line(pn), job->pad, job->k);
    HN_TRY(load_groups(d, hn_node_get(root, "in_groups"), "in_groups",
                       "channels", &job->n_in_groups, job->in_groups));
    HN_TRY(load_groups(d, hn_node_get(root, "out_groups"), "out_groups",
                       "filters", &job->n_out_groups, job->out_groups));
    hn_status s = hn_hwjob_alloc(job);
    if (s != HN_OK) return hn_fail_ctx(s, "%s", name);
    const int kk = job->k * job->k;
    const int ci = job->c_in;
    const long hw = (long)job->in_h * job->in_w;

    const hn_node *wn = hn_node_get(root, "weights");
    size_t nw = (size_t)job->c_out * ci * kk;
    if (hn_node_len(wn) != nw)
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: weights: %zu values, expected "
                       "c_out*c_in*k*k = %d*%d*%d*%d = %zu (sums of "
                       "out_groups[].filters and in_groups[].channels)", name,
                       hn_node_line(wn), hn_node_len(wn), job->c_out, ci,
                       job->k, job->k, nw);
    const hn_node *an = hn_node_get(root, "acts");
    size_t na = (size_t)ci * hw;
    if (hn_node_len(an) != na)
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: acts: %zu values, expected "
                       "c_in*in_h*in_w = %d*%d*%d = %zu (sum of in_groups[]."
                       "channels)", name, hn_node_line(an), hn_node_len(an), ci,
                       job->in_h, job->in_w, na);
    char what[64];
    size_t idx = 0;
    for (int g = 0; g < job->n_out_groups; g++) {
        int bits = job->out_groups[g].bits;
        int32_t lo, hi;
        hn_hwjob_wrange(bits, &lo, &hi);
        for (size_t j = 0; j < (size_t)job->out_groups[g].n * ci * kk;
             j++, idx++) {
            const hn_node *v = hn_node_at(wn, idx);
            int64_t x;
            snprintf(what, sizeof what, "weights[%zu]", idx);
            HN_TRY(hn_node_as_int(d, v, what, INT32_MIN, INT32_MAX, &x));
            if (x < lo || x > hi || (bits == 1 && x == 0))
                return hn_fail(HN_ERR_RANGE, "%s:%d: weights[%zu]: %" PRId64
                               " is out of range for filter %zu (out_groups"
                               "[%d], %d bits: %s [%" PRId32 ", %" PRId32 "])",
                               name, hn_node_line(v), idx, x,
                               idx / ((size_t)ci * kk), g, bits,
                               bits == 1 ? "-1 or +1 in" : "integers in", lo,
                               hi);
            job->weights[idx] = (int32_t)x;
        }
    }
    idx = 0;
    for (int g = 0; g < job->n_in_groups; g++) {
        int bits = job->in_groups[g].bits;
        int64_t hi = (1LL << bits) - 1;
        for (size_t j = 0; j < (size_t)job->in_groups[g].n * hw; j++, idx++) {
            const hn_node *v = hn_node_at(an, idx);
            int64_t x;
            snprintf(what, sizeof what, "acts[%zu]", idx);
            HN_TRY(hn_node_as_int(d, v, what, INT32_MIN, INT32_MAX, &x));
            if (x < 0 || x > hi)
                return hn_fail(HN_ERR_RANGE, "%s:%d: acts[%zu]: %" PRId64 " is "
                               "out of range for channel %zu (in_groups[%d], "
                               "%d bits: unsigned in [0, %" PRId64 "])", name,
                               hn_node_line(v), idx, x, idx / (size_t)hw, g,
                               bits, hi);
            job->acts[idx] = (int32_t)x;
        }
    }
    return HN_OK;
}

hn_status hn_hwjob_load(const char *path, hn_hwjob *job) {
    if (!path || !job) return hn_fail(HN_ERR_INVAL, "hwjob: NULL argument");
    memset(job, 0, sizeof *job);
    hn_doc *d = NULL;
    HN_TRY(hn_doc_load_file(path, &d));
    hn_status s = load_doc(d, job);
    hn_doc_free(d);
    if (s != HN_OK) hn_hwjob_free(job);
    return s;
}

hn_status hn_hwjob_load_string(const char *text, size_t len, const char *name,
                               hn_hwjob *job) {
    if (!text || !job) return hn_fail(HN_ERR_INVAL, "hwjob: NULL argument");
    memset(job, 0, sizeof *job);
    if (!name) name = "hwjob";
    if (memchr(text, '\0', len))
        return hn_fail(HN_ERR_PARSE, "%s: binary data (NUL byte) in a text "
                       "file", name);
    hn_doc *d = NULL;
    HN_TRY(hn_doc_load_string(text, len, name, &d));
    hn_status s = load_doc(d, job);
    hn_doc_free(d);
    if (s != HN_OK) hn_hwjob_free(job);
    return s;
}

hn_status hn_hwjob_save(const hn_hwjob *job, const char *path) {
    HN_TRY(hn_hwjob_validate(job, 16, 16));
    hn_jw *w = hn_jw_new(0);
    if (!w) return hn_fail(HN_ERR_NOMEM, "hwjob: cannot allocate writer");
    hn_jw_obj_begin(w);
    hn_jw_key(w, "k");
    hn_jw_int(w, job->k);
    hn_jw_key(w, "stride");
    hn_jw_int(w, job->stride);
    hn_jw_key(w, "pad");
    hn_jw_int(w, job->pad);
    hn_jw_key(w, "in_h");
    hn_jw_int(w, job->in_h);
    hn_jw_key(w, "in_w");
    hn_jw_int(w, job->in_w);
    hn_jw_key(w, "in_groups");
    hn_jw_arr_begin(w);
    for (int g = 0; g < job->n_in_groups; g++) {
        hn_jw_obj_begin(w);
        hn_jw_key(w, "channels");
        hn_jw_int(w, job->in_groups[g].n);
        hn_jw_key(w, "bits");
        hn_jw_int(w, job->in_groups[g].bits);
        hn_jw_obj_end(w);
    }
    hn_jw_arr_end(w);
    hn_jw_key(w, "out_groups");
    hn_jw_arr_begin(w);
    for (int g = 0; g < job->n_out_groups; g++) {
        hn_jw_obj_begin(w);
        hn_jw_key(w, "filters");
        hn_jw_int(w, job->out_groups[g].n);
        hn_jw_key(w, "bits");
        hn_jw_int(w, job->out_groups[g].bits);
        hn_jw_obj_end(w);
    }
    hn_jw_arr_end(w);
    size_t nw = (size_t)job->c_out * job->c_in * job->k * job->k;
    size_t na = (size_t)job->c_in * job->in_h * job->in_w;
    hn_jw_key(w, "weights");
    hn_jw_arr_begin(w);
    for (size_t i = 0; i < nw; i++) hn_jw_int(w, job->weights[i]);
    hn_jw_arr_end(w);
    hn_jw_key(w, "acts");
    hn_jw_arr_begin(w);
    for (size_t i = 0; i < na; i++) hn_jw_int(w, job->acts[i]);
    hn_jw_arr_end(w);
    hn_jw_obj_end(w);
    hn_status s = hn_jw_status(w);
    if (s == HN_OK) {
        size_t len;
        const char *text = hn_jw_data(w, &len);
        char *buf = malloc(len + 1);
        if (!buf) {
            s = hn_fail(HN_ERR_NOMEM, "hwjob: out of memory");
        } else {
            memcpy(buf, text, len);
            buf[len] = '\n';
            s = hn_file_write_atomic(path, buf, len + 1);
            free(buf);
        }
    } else {
        s = hn_fail(s, "hwjob: writing %s failed", path);
    }
    hn_jw_free(w);
    return s;
}

/* ---- random jobs for tests ---------------------------------------------- */

static int rand_in(hn_rng *r, int lo, int hi) {
    return lo + (int)hn_rng_below(r, (uint32_t)(hi - lo + 1));
}

void hn_hwjob_fill_random(hn_rng *r, hn_hwjob *job) {
    const size_t per_f = (size_t)job->c_in * job->k * job->k;
    size_t idx = 0;
    for (int g = 0; g < job->n_out_groups; g++) {
        int bits = job->out_groups[g].bits;
        int32_t lo, hi;
        hn_hwjob_wrange(bits, &lo, &hi);
        for (size_t j = 0; j < (size_t)job->out_groups[g].n * per_f;
             j++, idx++) {
            int32_t v;
            uint32_t u = hn_rng_below(r, 8);
            if (bits == 1) v = (hn_rng_u32(r) & 1) ? 1 : -1;
            else if (u == 0) v = lo;
            else if (u == 1) v = hi;
            else v = lo + (int32_t)hn_rng_below(r, (uint32_t)(hi - lo + 1));
            job->weights[idx] = v;
        }
    }
    const size_t hw = (size_t)job->in_h * job->in_w;
    idx = 0;
    for (int g = 0; g < job->n_in_groups; g++) {
        int32_t hi = (int32_t)((1u << job->in_groups[g].bits) - 1u);
        for (size_t j = 0; j < (size_t)job->in_groups[g].n * hw; j++, idx++) {
            uint32_t u = hn_rng_below(r, 8);
            int32_t v;
            if (u == 0) v = 0;
            else if (u == 1) v = hi;
            else v = (int32_t)hn_rng_below(r, (uint32_t)hi + 1u);
            job->acts[idx] = v;
        }
    }
}

hn_status hn_hwjob_random(hn_rng *r, int min_wbits, int max_wbits,
                          int max_abits, hn_hwjob *job) {
    if (min_wbits < 1 || max_wbits < min_wbits || max_wbits > 16 ||
        max_abits < 1 || max_abits > 16)
        return hn_fail(HN_ERR_INVAL, "hwjob_random: bad bit limits w [%d, %d]"
                       " a [1, %d]", min_wbits, max_wbits, max_abits);
    memset(job, 0, sizeof *job);
    job->k = hn_rng_below(r, 2) ? 3 : 1;
    job->stride = rand_in(r, 1, 2);
    job->pad = rand_in(r, 0, job->k / 2);
    job->in_h = rand_in(r, job->k, 13);
    job->in_w = rand_in(r, job->k, 13);
    job->n_in_groups = rand_in(r, 1, 4);
    for (int g = 0; g < job->n_in_groups; g++) {
        job->in_groups[g].n = rand_in(r, 1, 40);
        job->in_groups[g].bits = rand_in(r, 1, max_abits);
    }
    job->n_out_groups = rand_in(r, 1, 4);
    for (int g = 0; g < job->n_out_groups; g++) {
        job->out_groups[g].n = rand_in(r, 1, 24);
        job->out_groups[g].bits = rand_in(r, min_wbits, max_wbits);
    }
    HN_TRY(hn_hwjob_alloc(job));
    hn_hwjob_fill_random(r, job);
    return HN_OK;
}
