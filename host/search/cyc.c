/* hn_cyc_*: array cycles as the search's cost (closs.h), from the cycle
 * model or measured on a backend with a clock, cached per layer job shape.
 * The cache is an open-addressing table keyed by a 64-bit hash of the
 * job's shape, with the shape's layer and sizes stored to catch a
 * collision (it is then measured again, not trusted). */
#include <stdlib.h>
#include <string.h>

#include "hetnas/backend.h"
#include "hetnas/closs.h"
#include "hetnas/cycles.h"
#include "hetnas/rng.h"

typedef struct slot {
    uint64_t key;
    int used, layer, c_in, c_out;
    uint64_t cycles;
} slot;

struct hn_cyc {
    hn_backend *be;        /* NULL: the cycle model */
    hn_array_params p;     /* the array the cycles are of */
    slot *tab;
    size_t cap, n;
    long measured, cached;
};

static uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdull;
}

static uint64_t shape_key(int layer, const hn_hwjob *j) {
    uint64_t h = mix(1469598103934665603ull, (uint64_t)layer);
    const int g[5] = {j->k, j->stride, j->pad, j->in_h, j->in_w};
    for (int i = 0; i < 5; i++) h = mix(h, (uint64_t)g[i]);
    for (int i = 0; i < j->n_in_groups; i++)
        h = mix(mix(h, (uint64_t)j->in_groups[i].n), (uint64_t)j->in_groups[i].bits);
    h = mix(h, 0xabcdefull); /* separates the input and output group lists */
    for (int i = 0; i < j->n_out_groups; i++)
        h = mix(mix(h, (uint64_t)j->out_groups[i].n), (uint64_t)j->out_groups[i].bits);
    return h;
}

hn_status hn_cyc_new(const char *source, hn_cyc **out) {
    *out = NULL;
    hn_cyc *c = calloc(1, sizeof *c);
    if (!c) return hn_fail(HN_ERR_NOMEM, "cycles cost");
    c->p = hn_array_params_default();
    if (source && strcmp(source, "model")) {
        const hn_backend_ops *o = hn_backend_find(source);
        if (o && !o->has_cycles) {
            free(c);
            return hn_fail(HN_ERR_INVAL, "cycles cost: backend '%s' has no "
                           "clock (model, or a backend with cycles: verilator)",
                           source);
        }
        hn_status st = hn_backend_open(source, NULL, &c->be);
        if (st != HN_OK) {
            free(c);
            return hn_fail_ctx(st, "cycles cost");
        }
        const hn_array_params *ap = hn_backend_array(c->be);
        if (ap) c->p = *ap;
    }
    c->cap = 1024;
    c->tab = calloc(c->cap, sizeof *c->tab);
    if (!c->tab) {
        hn_cyc_free(c);
        return hn_fail(HN_ERR_NOMEM, "cycles cost");
    }
    *out = c;
    return HN_OK;
}

void hn_cyc_free(hn_cyc *c) {
    if (!c) return;
    hn_backend_close(c->be);
    free(c->tab);
    free(c);
}

void hn_cyc_stats(const hn_cyc *c, long *measured, long *cached) {
    if (measured) *measured = c->measured;
    if (cached) *cached = c->cached;
}

static hn_status grow(hn_cyc *c) {
    size_t cap = c->cap * 2;
    slot *t = calloc(cap, sizeof *t);
    if (!t) return hn_fail(HN_ERR_NOMEM, "cycles cost");
    for (size_t i = 0; i < c->cap; i++) {
        if (!c->tab[i].used) continue;
        size_t k = (size_t)(c->tab[i].key & (cap - 1));
        while (t[k].used) k = (k + 1) & (cap - 1);
        t[k] = c->tab[i];
    }
    free(c->tab);
    c->tab = t;
    c->cap = cap;
    return HN_OK;
}

/* Cycles of one layer job: the model, or the backend on seeded data. */
static hn_status measure(hn_cyc *c, hn_hwjob *job, uint64_t key, uint64_t *cyc) {
    if (!c->be) {
        hn_cycle_report cr;
        HN_TRY(hn_cycles_job(job, &c->p, &cr));
        *cyc = cr.cycles;
        return HN_OK;
    }
    HN_TRY(hn_hwjob_alloc(job));
    hn_rng r;
    hn_rng_seed(&r, key, 1);
    hn_hwjob_fill_random(&r, job);
    int oh, ow;
    hn_hwjob_out_dims(job, &oh, &ow);
    int32_t *acc = malloc(sizeof(int32_t) * (size_t)job->c_out * oh * ow + 1);
    hn_status st = acc ? hn_backend_run_job(c->be, job, acc, cyc)
                       : hn_fail(HN_ERR_NOMEM, "cycles cost");
    free(acc);
    hn_hwjob_free(job);
    return st;
}

hn_status hn_cyc_total(hn_cyc *c, const hn_arch *a, const hn_config *cfg,
                       int input_bits, double *out) {
    uint64_t total = 0;
    for (int l = 0; l < hn_arch_n_layers(a); l++) {
        hn_hwjob job;
        memset(&job, 0, sizeof job);
        HN_TRY(hn_array_layer_job(a, cfg, l, input_bits, &job));
        uint64_t key = shape_key(l, &job);
        size_t k = (size_t)(key & (c->cap - 1));
        while (c->tab[k].used && !(c->tab[k].key == key && c->tab[k].layer == l &&
                                   c->tab[k].c_in == job.c_in &&
                                   c->tab[k].c_out == job.c_out))
            k = (k + 1) & (c->cap - 1);
        if (c->tab[k].used) {
            c->cached++;
            total += c->tab[k].cycles;
            continue;
        }
        uint64_t cyc = 0;
        hn_status st = measure(c, &job, key, &cyc);
        if (st != HN_OK) return hn_fail_ctx(st, "layer %s", hn_arch_layer(a, l)->name);
        c->measured++;
        c->tab[k] = (slot){key, 1, l, job.c_in, job.c_out, cyc};
        total += cyc;
        if (++c->n * 2 > c->cap) HN_TRY(grow(c));
    }
    *out = (double)total;
    return HN_OK;
}
