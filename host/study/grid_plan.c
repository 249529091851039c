/* Grid plans (grid.h): the experiment's grid section expanded into
 * configurations (built against the model, costed, checked for fit and
 * duplicates) and (configuration, repeat) jobs with their seeds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/cost.h"
#include "hetnas/fileio.h"
#include "hetnas/grid.h"
#include "hetnas/json.h"

struct hn_grid {
    hn_experiment e;   /* copy; config.inline_json not owned (NULL) */
    hn_arch *arch;
    int n_cfgs;
    hn_grid_cfg *cfgs;  /* (n_cfgs) */
    hn_config **confs;  /* (n_cfgs) */
    char **json;        /* (n_cfgs) inline configuration text */
    int n_jobs;
    hn_grid_job *jobs;  /* (n_jobs) */
};

static uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

uint64_t hn_grid_job_seed(uint64_t seed, int cfg, int repeat) {
    uint64_t h = splitmix64(seed);
    h = splitmix64(h ^ (uint64_t)(uint32_t)cfg);
    h = splitmix64(h ^ ((uint64_t)(uint32_t)repeat << 32));
    return h % 1000000000000000000ull; /* the experiment's seed range */
}

void hn_grid_free(hn_grid *g) {
    if (!g) return;
    for (int i = 0; i < g->n_cfgs; i++) {
        hn_config_free(g->confs[i]);
        free(g->json[i]);
    }
    free(g->cfgs);
    free(g->confs);
    free(g->json);
    free(g->jobs);
    hn_arch_free(g->arch);
    free(g);
}

const hn_experiment *hn_grid_experiment(const hn_grid *g) { return &g->e; }
int hn_grid_n_cfgs(const hn_grid *g) { return g->n_cfgs; }
const hn_grid_cfg *hn_grid_cfg_at(const hn_grid *g, int i) { return &g->cfgs[i]; }
int hn_grid_n_jobs(const hn_grid *g) { return g->n_jobs; }
const hn_grid_job *hn_grid_job_at(const hn_grid *g, int i) { return &g->jobs[i]; }
const char *hn_grid_cfg_json(const hn_grid *g, int i) { return g->json[i]; }

/* The configuration as {"ops": [...], "layers": [[...], ...]} (quantized)
 * or {"homogeneous": [bw, ba], "widths": [...]} (one op, pruned). */
static hn_status cfg_json(const hn_config *c, bool widths_form, char **out) {
    hn_jw *w = hn_jw_new(0);
    if (!w) return hn_fail(HN_ERR_NOMEM, "out of memory");
    int L = hn_config_n_layers(c), T = hn_config_n_ops(c);
    hn_jw_obj_begin(w);
    if (widths_form) {
        hn_op op = hn_config_op(c, 0);
        if (op.wbits != HN_BITS_FP) {
            hn_jw_key(w, "homogeneous");
            hn_jw_arr_begin(w);
            hn_jw_int(w, op.wbits);
            hn_jw_int(w, op.abits);
            hn_jw_arr_end(w);
        }
        hn_jw_key(w, "widths");
        hn_jw_arr_begin(w);
        for (int l = 0; l < L; l++) hn_jw_int(w, hn_config_width(c, l));
        hn_jw_arr_end(w);
    } else {
        hn_jw_key(w, "ops");
        hn_jw_arr_begin(w);
        for (int t = 0; t < T; t++) {
            hn_jw_arr_begin(w);
            hn_jw_int(w, hn_config_op(c, t).wbits);
            hn_jw_int(w, hn_config_op(c, t).abits);
            hn_jw_arr_end(w);
        }
        hn_jw_arr_end(w);
        hn_jw_key(w, "layers");
        hn_jw_arr_begin(w);
        for (int l = 0; l < L; l++) {
            hn_jw_arr_begin(w);
            for (int t = 0; t < T; t++) hn_jw_int(w, hn_config_count(c, l, t));
            hn_jw_arr_end(w);
        }
        hn_jw_arr_end(w);
    }
    hn_jw_obj_end(w);
    hn_status s = hn_jw_status(w);
    if (s == HN_OK && !(*out = strdup(hn_jw_data(w, NULL))))
        s = hn_fail(HN_ERR_NOMEM, "out of memory");
    hn_jw_free(w);
    return s;
}

/* Same op (bits) on every filter, pruned filters included. */
static bool same_config(const hn_config *a, const hn_config *b) {
    int L = hn_config_n_layers(a);
    if (L != hn_config_n_layers(b)) return false;
    for (int l = 0; l < L; l++) {
        if (hn_config_width(a, l) != hn_config_width(b, l)) return false;
        for (int f = 0; f < hn_config_width(a, l); f++) {
            hn_op x = hn_config_op(a, hn_config_filter_op(a, l, f));
            hn_op y = hn_config_op(b, hn_config_filter_op(b, l, f));
            if (x.wbits != y.wbits || x.abits != y.abits) return false;
        }
    }
    return true;
}

/* Every active filter of every layer uses one op. */
static bool one_op(const hn_config *c, const hn_arch *a) {
    int used = -1;
    for (int l = 0; l < hn_config_n_layers(c); l++) {
        if (hn_config_width(c, l) != hn_arch_layer(a, l)->c_out) return false;
        for (int t = 0; t < hn_config_n_ops(c); t++) {
            if (!hn_config_count(c, l, t)) continue;
            hn_op op = hn_config_op(c, t);
            int key = op.wbits * 64 + op.abits;
            if (used >= 0 && used != key) return false;
            used = key;
        }
    }
    return true;
}

/* Split (counts for the stem's C_0 filters) scaled to C_l filters: floors
 * of C_l * s_t / C_0 plus largest remainders (ties to the lower op). */
static void scale_split(const int *s, int T, int c0, int cl, int *out) {
    int64_t rem[HN_MAX_OPS];
    int given = 0;
    for (int t = 0; t < T; t++) {
        out[t] = (int)((int64_t)cl * s[t] / c0);
        rem[t] = (int64_t)cl * s[t] % c0;
        given += out[t];
    }
    while (given < cl) {
        int best = -1;
        for (int t = 0; t < T; t++)
            if (best < 0 || rem[t] > rem[best]) best = t;
        out[best]++;
        rem[best] = -1;
        given++;
    }
}

static hn_status add_cfg(hn_grid *g, hn_grid_family fam, const char *source,
                         const char *label, hn_config *c, bool widths_form) {
    int i = g->n_cfgs;
    hn_grid_cfg *gc = &g->cfgs[i];
    memset(gc, 0, sizeof *gc);
    gc->family = fam;
    int k = 0;
    for (int j = 0; j < i; j++) k += g->cfgs[j].family == fam;
    snprintf(gc->id, sizeof gc->id, "%c%02d", fam == HN_GRID_QUANT ? 'q' : 'p', k);
    snprintf(gc->label, sizeof gc->label, "%s", label);
    snprintf(gc->source, sizeof gc->source, "%s", source);
    for (int j = 0; j < i; j++)
        if (same_config(g->confs[j], c)) {
            hn_config_free(c);
            return hn_fail(HN_ERR_SCHEMA, "%s: the same configuration as %s "
                           "(%s)", source, g->cfgs[j].source, g->cfgs[j].id);
        }
    g->confs[i] = c;
    g->n_cfgs++;
    hn_cost_opts co = hn_cost_opts_default();
    co.input_bits = g->e.model.input_bits;
    hn_layer_cost tot;
    HN_TRY(hn_cost_network(g->arch, c, &co, NULL, &tot));
    gc->cost = fam == HN_GRID_QUANT ? (double)tot.bops : (double)tot.macs;
    return cfg_json(c, widths_form, &g->json[i]);
}

static hn_status plan_quant(hn_grid *g) {
    const hn_experiment *e = &g->e;
    const hn_arch *a = g->arch;
    int L = hn_arch_n_layers(a), T = e->grid.n_ops;
    int c0 = hn_arch_layer(a, 0)->c_out;
    for (int i = 0; i < e->grid.n_splits; i++) {
        char src[HN_EXP_PATH + 64], label[128];
        snprintf(src, sizeof src, "%s:%d: grid.quant.splits[%d]",
                 e->grid.splits_from, e->grid.split_line[i], i);
        const int *s = e->grid.splits[i];
        int sum = 0, nz = 0;
        size_t ll = 0;
        for (int t = 0; t < T; t++) {
            sum += s[t];
            nz += s[t] > 0;
            ll += (size_t)snprintf(label + ll, sizeof label - ll, "%s%d",
                                   t ? "/" : "", s[t]);
            if (ll >= sizeof label) ll = sizeof label - 1;
        }
        if (sum != c0)
            return hn_fail(HN_ERR_SCHEMA, "%s: the counts sum to %d, but the "
                           "stem of %s (width %g) has %d filters (counts are "
                           "for the stem; other layers scale them)", src, sum,
                           e->model.name, e->model.width, c0);
        int *counts = malloc((size_t)L * (size_t)T * sizeof *counts);
        if (!counts) return hn_fail(HN_ERR_NOMEM, "out of memory");
        for (int l = 0; l < L; l++)
            scale_split(s, T, c0, hn_arch_layer(a, l)->c_out, counts + l * T);
        hn_config *c;
        hn_status st = hn_config_new(a, T, e->grid.ops, counts, &c);
        free(counts);
        if (st != HN_OK) return hn_fail_ctx(st, "%s", src);
        HN_TRY(add_cfg(g, HN_GRID_QUANT, src, label, c, false));
        g->cfgs[g->n_cfgs - 1].homogeneous = nz == 1;
    }
    for (int i = 0; i < e->grid.n_files; i++) {
        char src[HN_EXP_PATH + 64];
        snprintf(src, sizeof src, "%s:%d: grid.quant.files[%d]",
                 e->grid.files_from, e->grid.file_line[i], i);
        hn_config *c;
        hn_status st = hn_config_load(e->grid.files[i], a, &c);
        if (st != HN_OK)
            return hn_fail_ctx(st, "%s: does not fit %s", src, e->model.name);
        for (int l = 0; l < L; l++)
            if (hn_config_width(c, l) != hn_arch_layer(a, l)->c_out) {
                hn_config_free(c);
                return hn_fail(HN_ERR_SCHEMA, "%s: %s prunes layer %s (a "
                               "quantization grid keeps every filter; use "
                               "grid.prune)", src, e->grid.files[i],
                               hn_arch_layer(a, l)->name);
            }
        for (int t = 0; t < hn_config_n_ops(c); t++)
            if (hn_config_op(c, t).wbits == HN_BITS_FP) {
                hn_config_free(c);
                return hn_fail(HN_ERR_SCHEMA, "%s: %s has a full-precision op",
                               src, e->grid.files[i]);
            }
        const char *base = strrchr(e->grid.files[i], '/');
        bool homo = one_op(c, a);
        HN_TRY(add_cfg(g, HN_GRID_QUANT, src, base ? base + 1 : e->grid.files[i],
                       c, false));
        g->cfgs[g->n_cfgs - 1].homogeneous = homo;
    }
    return HN_OK;
}

static hn_status plan_prune(hn_grid *g) {
    const hn_experiment *e = &g->e;
    const hn_arch *a = g->arch;
    int L = hn_arch_n_layers(a);
    hn_op op;
    switch (e->config.kind) {
    case HN_EXP_CONFIG_FP32: op = (hn_op){HN_BITS_FP, HN_BITS_FP}; break;
    case HN_EXP_CONFIG_HOMOGENEOUS: op = e->config.op; break;
    default:
        return hn_fail(HN_ERR_SCHEMA, "%s: grid.prune: the pruned networks use "
                       "the experiment's config, which must be fp32 or "
                       "[b_w, b_a] (it is %s)", e->config.where,
                       e->config.kind == HN_EXP_CONFIG_FILE ? "a file" : "a mapping");
    }
    int full[4] = {0};
    for (int l = 0; l < L; l++) {
        const hn_layer_desc *d = hn_arch_layer(a, l);
        full[d->stage ? d->stage : 1] = d->c_out;
    }
    int *widths = malloc((size_t)L * sizeof *widths);
    if (!widths) return hn_fail(HN_ERR_NOMEM, "out of memory");
    hn_status st = HN_OK;
    for (int i = 0; st == HN_OK && i < e->grid.n_widths; i++) {
        char src[HN_EXP_PATH + 64], label[128];
        snprintf(src, sizeof src, "%s:%d: grid.prune.widths[%d]",
                 e->grid.widths_from, e->grid.width_line[i], i);
        const int *w = e->grid.widths[i];
        snprintf(label, sizeof label, "%d/%d/%d", w[0], w[1], w[2]);
        for (int s = 0; s < 3 && st == HN_OK; s++)
            if (w[s] > full[s + 1])
                st = hn_fail(HN_ERR_SCHEMA, "%s: stage %d keeps %d filters, "
                             "but %s (width %g) has %d there", src, s + 1,
                             w[s], e->model.name, e->model.width, full[s + 1]);
        if (st != HN_OK) break;
        for (int l = 0; l < L; l++) {
            const hn_layer_desc *d = hn_arch_layer(a, l);
            widths[l] = w[(d->stage ? d->stage : 1) - 1];
        }
        hn_config *c;
        st = hn_config_widths(a, widths, op, &c);
        if (st != HN_OK) {
            st = hn_fail_ctx(st, "%s", src);
            break;
        }
        st = add_cfg(g, HN_GRID_PRUNE, src, label, c, true);
        /* homogeneous: one keep ratio in every stage (w_s / C_s equal) */
        g->cfgs[g->n_cfgs - 1].homogeneous =
            (int64_t)w[0] * full[2] == (int64_t)w[1] * full[1] &&
            (int64_t)w[1] * full[3] == (int64_t)w[2] * full[2];
    }
    free(widths);
    return st;
}

hn_status hn_grid_plan(const hn_experiment *e, hn_grid **out) {
    *out = NULL;
    const char *where = e->source[0] ? e->source : e->name;
    int total = e->grid.n_splits + e->grid.n_files + e->grid.n_widths;
    if (total == 0)
        return hn_fail(HN_ERR_SCHEMA, "%s: grid: no configurations (give "
                       "grid.quant.splits, grid.quant.files or "
                       "grid.prune.widths)", where);
    if (hn_experiment_split_seed(e) == 0)
        return hn_fail(HN_ERR_SCHEMA, "%s: seed 0 with a grid: set "
                       "data.split_seed (> 0) to fix the validation split "
                       "of all jobs", where);
    hn_grid *g = calloc(1, sizeof *g);
    if (!g) return hn_fail(HN_ERR_NOMEM, "out of memory");
    g->e = *e;
    g->e.config.inline_json = NULL; /* not owned; the grid's jobs replace it */
    g->cfgs = calloc((size_t)total, sizeof *g->cfgs);
    g->confs = calloc((size_t)total, sizeof *g->confs);
    g->json = calloc((size_t)total, sizeof *g->json);
    hn_status st = g->cfgs && g->confs && g->json
                       ? HN_OK : hn_fail(HN_ERR_NOMEM, "out of memory");
    /* the model's input shape comes from the data (or model.input) */
    hn_exp_data d = {0};
    if (st == HN_OK) st = hn_experiment_load_data(e, &d);
    if (st == HN_OK)
        st = hn_experiment_make_arch(e, hn_dataset_c(d.train),
                                     hn_dataset_h(d.train),
                                     hn_dataset_w(d.train),
                                     hn_dataset_num_classes(d.train), &g->arch);
    hn_exp_data_free(&d);
    if (st == HN_OK) st = plan_quant(g);
    if (st == HN_OK) st = plan_prune(g);
    if (st == HN_OK) {
        g->n_jobs = g->n_cfgs * e->grid.repeats;
        g->jobs = calloc((size_t)g->n_jobs, sizeof *g->jobs);
        if (!g->jobs) st = hn_fail(HN_ERR_NOMEM, "out of memory");
    }
    if (st != HN_OK) {
        hn_grid_free(g);
        return st;
    }
    for (int c = 0; c < g->n_cfgs; c++)
        for (int r = 0; r < e->grid.repeats; r++) {
            hn_grid_job *j = &g->jobs[c * e->grid.repeats + r];
            j->index = c * e->grid.repeats + r;
            j->cfg = c;
            j->repeat = r;
            j->seed = hn_grid_job_seed(e->seed, c, r);
            snprintf(j->id, sizeof j->id, "%s_r%d", g->cfgs[c].id, r);
        }
    *out = g;
    return HN_OK;
}

hn_status hn_grid_save_configs(const hn_grid *g, const char *dir) {
    char p[HN_EXP_PATH + 64];
    snprintf(p, sizeof p, "%s/configs", dir);
    HN_TRY(hn_mkdirs(p));
    for (int i = 0; i < g->n_cfgs; i++) {
        snprintf(p, sizeof p, "%s/configs/%s.yaml", dir, g->cfgs[i].id);
        HN_TRY(hn_config_save(g->confs[i], g->arch, p));
    }
    return HN_OK;
}
