/* Experiment files (experiment.h).  Every key is declared once, in the
 * table k_keys below: its path, type, range, default and field drive the
 * schema check, the defaults, the extraction (file, then --set overrides),
 * the key listing and the JSON echo into run manifests.  Keys whose value
 * needs more than a scalar (config, model.name, milestones, ...) name a
 * handler in their table row. */
#include "hetnas/experiment.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "hetnas/doc.h"
#include "hetnas/fileio.h"
#include "hetnas/json.h"

#define MAX_SETS 64
#define MAX_CHILDREN 64

/* ---- enum spellings (the library's enums, spelled as in files) -------- */

static const char *const k_sched_names[] = {"constant", "step", "cosine", "plateau", NULL};
static const char *const k_optim_names[] = {"sgd", "adam", NULL};
static const char *const k_sharing_names[] = {"shared", "per_op", NULL};
static const char *const k_data_names[] = {"fashion-mnist", "mnist", "cifar10", NULL};

static const char *enum_name(const char *const *names, int v) {
    for (int i = 0; names[i]; i++)
        if (i == v) return names[i];
    return "?";
}
const char *hn_exp_sched_name(hn_sched_kind s) { return enum_name(k_sched_names, (int)s); }
const char *hn_exp_optim_name(hn_optim_kind o) { return enum_name(k_optim_names, (int)o); }
const char *hn_exp_sharing_name(hn_weight_sharing s) {
    return enum_name(k_sharing_names, (int)s);
}

/* ---- the key table ------------------------------------------------------ */

typedef enum ktype {
    K_STR,   /* char[] field */
    K_NAME,  /* char[] field restricted to `names` (stored as spelled there) */
    K_ENUM,  /* int-sized enum field, index into `names` */
    K_INT,   /* int field */
    K_U64,   /* uint64_t field */
    K_DBL,   /* double field */
    K_BOOL,  /* bool field */
    K_SPECIAL /* `get` extracts it and `json` echoes it */
} ktype;

typedef struct ctx ctx;
typedef struct key {
    const char *path;   /* dotted: "optim.lr" */
    ktype type;
    double lo, hi;      /* accepted range when lo < hi (numbers) */
    size_t off, size;   /* the field in hn_experiment */
    double def;         /* default of numbers, bools and enums */
    const char *sdef;   /* default of strings */
    const char *const *names;
    hn_field_type schema; /* K_SPECIAL: the node type the schema accepts */
    hn_status (*get)(const ctx *c, hn_experiment *e);
    void (*json)(hn_jw *w, const hn_experiment *e);
} key;

#define FLD(f) offsetof(hn_experiment, f), sizeof(((hn_experiment *)0)->f)
#define KSTR(p, f, d) {p, K_STR, 0, 0, FLD(f), 0, d, NULL, HN_FIELD_STRING, NULL, NULL}
#define KNAME(p, f, d, nm) {p, K_NAME, 0, 0, FLD(f), 0, d, nm, HN_FIELD_STRING, NULL, NULL}
#define KENUM(p, f, d, nm) {p, K_ENUM, 0, 0, FLD(f), d, NULL, nm, HN_FIELD_STRING, NULL, NULL}
#define KINT(p, f, d, lo, hi) {p, K_INT, lo, hi, FLD(f), d, NULL, NULL, HN_FIELD_INT, NULL, NULL}
#define KU64(p, f, d, lo, hi) {p, K_U64, lo, hi, FLD(f), d, NULL, NULL, HN_FIELD_INT, NULL, NULL}
#define KDBL(p, f, d, lo, hi) {p, K_DBL, lo, hi, FLD(f), d, NULL, NULL, HN_FIELD_FLOAT, NULL, NULL}
#define KBOOL(p, f, d) {p, K_BOOL, 0, 0, FLD(f), d, NULL, NULL, HN_FIELD_BOOL, NULL, NULL}
#define KSPEC(p, t, g, j) {p, K_SPECIAL, 0, 0, 0, 0, 0, NULL, NULL, t, g, j}

static hn_status get_name(const ctx *c, hn_experiment *e);
static hn_status get_init(const ctx *c, hn_experiment *e);
static hn_status get_model_name(const ctx *c, hn_experiment *e);
static hn_status get_none(const ctx *c, hn_experiment *e);
static hn_status get_config(const ctx *c, hn_experiment *e);
static hn_status get_milestones(const ctx *c, hn_experiment *e);
static hn_status get_slim_widths(const ctx *c, hn_experiment *e);
static void json_model_name(hn_jw *w, const hn_experiment *e);
static void json_model_input(hn_jw *w, const hn_experiment *e);
static void json_config(hn_jw *w, const hn_experiment *e);
static void json_milestones(hn_jw *w, const hn_experiment *e);
static void json_slim_widths(hn_jw *w, const hn_experiment *e);
static hn_status get_search_ops(const ctx *c, hn_experiment *e);
static hn_status get_search_target(const ctx *c, hn_experiment *e);
static void json_search_ops(hn_jw *w, const hn_experiment *e);
static void json_search_target(hn_jw *w, const hn_experiment *e);
static hn_status get_grid_ops(const ctx *c, hn_experiment *e);
static hn_status get_grid_splits(const ctx *c, hn_experiment *e);
static hn_status get_grid_files(const ctx *c, hn_experiment *e);
static hn_status get_grid_widths(const ctx *c, hn_experiment *e);
static void json_grid_ops(hn_jw *w, const hn_experiment *e);
static void json_grid_splits(hn_jw *w, const hn_experiment *e);
static void json_grid_files(hn_jw *w, const hn_experiment *e);
static void json_grid_widths(hn_jw *w, const hn_experiment *e);

/* Order: the order of extraction and of the JSON echo.  Defaults and
 * ranges here are the documented ones (docs/experiment.md). */
static const key k_keys[] = {
    KSPEC("name", HN_FIELD_STRING, get_name, NULL),
    KSTR("description", description, ""),
    KU64("seed", seed, 1, 0, 1e18),
    KSTR("out", out, "runs"),
    KSPEC("init", HN_FIELD_STRING, get_init, NULL),

    KSPEC("model.name", HN_FIELD_STRING, get_model_name, json_model_name),
    KSPEC("model.depth", HN_FIELD_INT, get_none, NULL), /* by model.name's handler */
    KDBL("model.width", model.width, 1.0, 0.0625, 8),
    KSPEC("model.input", HN_FIELD_STRING, get_none, json_model_input),
    KINT("model.input_bits", model.input_bits, 8, 1, 16),

    KNAME("data.name", data.name, "fashion-mnist", k_data_names),
    KSTR("data.dir", data.dir, ""),
    KDBL("data.val_fraction", data.val_fraction, 0.1, 0, 0.9),
    KINT("data.val_size", data.val_size, 0, 0, 1e8),
    KU64("data.split_seed", data.split_seed, 0, 0, 1e18),
    KINT("data.batch_size", data.batch_size, 128, 1, 65536),
    KINT("data.eval_batch_size", data.eval_batch_size, 512, 1, 65536),
    KBOOL("data.normalize", data.normalize, 1),
    KINT("data.augment.crop_pad", data.augment.crop_pad, 4, 0, 16),
    KBOOL("data.augment.flip", data.augment.flip, 1),

    KSPEC("config", HN_FIELD_ANY, get_config, json_config),

    KENUM("quant.weight_sharing", quant.weight_sharing, HN_WS_SHARED, k_sharing_names),
    KDBL("quant.noise", quant.noise, 0, 0, 1),
    KBOOL("quant.gradual", quant.gradual, 0),
    KDBL("quant.weight_clamp_std", quant.weight_clamp_std, 3.45, 0.1, 100),
    KDBL("quant.act_clamp_std", quant.act_clamp_std, 3.0, 0.1, 100),
    KBOOL("quant.learn_clamps", quant.learn_clamps, 1),

    KENUM("optim.name", optim.name, HN_OPTIM_SGD, k_optim_names),
    KDBL("optim.lr", optim.lr, 0.1, 1e-12, 100),       /* adam: 1e-3 */
    KDBL("optim.momentum", optim.momentum, 0.9, 0, 0.9999),
    KBOOL("optim.nesterov", optim.nesterov, 0),
    KDBL("optim.weight_decay", optim.weight_decay, 5e-4, 0, 1), /* adam: 0 */
    KDBL("optim.grad_clip", optim.grad_clip, 0, 0, 1e9),
    KDBL("optim.beta1", optim.beta1, 0.9, 0, 0.9999),
    KDBL("optim.beta2", optim.beta2, 0.999, 0, 0.999999),
    KDBL("optim.eps", optim.eps, 1e-8, 1e-20, 1),

    KENUM("schedule.name", schedule.name, HN_SCHED_COSINE, k_sched_names),
    KINT("schedule.warmup_epochs", schedule.warmup_epochs, 0, 0, 100000),
    KINT("schedule.step_size", schedule.step_size, 30, 1, 100000),
    KDBL("schedule.gamma", schedule.gamma, 0.1, 1e-6, 1),
    KSPEC("schedule.milestones", HN_FIELD_SEQ, get_milestones, json_milestones),
    KDBL("schedule.min_lr", schedule.min_lr, 0, 0, 100),
    KDBL("schedule.factor", schedule.factor, 0.1, 1e-6, 0.999999),
    KINT("schedule.patience", schedule.patience, 5, 0, 100000),
    KDBL("schedule.threshold", schedule.threshold, 1e-4, 0, 1),

    KINT("train.epochs", train.epochs, 30, 1, 100000),
    KINT("train.patience", train.patience, 0, 0, 100000),
    KINT("train.threads", train.threads, 0, 0, 1024),
    KINT("train.eval_every", train.eval_every, 1, 1, 100000),
    KINT("train.checkpoint_every", train.checkpoint_every, 1, 0, 100000),
    KINT("train.keep_checkpoints", train.keep_checkpoints, 2, 1, 100000),
    KINT("train.log_every", train.log_every, 50, 0, 100000000),
    KINT("train.max_batches", train.max_batches, 0, 0, 100000000),

    KSPEC("slim.widths", HN_FIELD_SEQ, get_slim_widths, json_slim_widths),
    KINT("slim.recalib_batches", slim.recalib_batches, 20, 0, 100000),

    KSTR("search.algorithm", search.algorithm, "c1"),
    KSTR("search.distribution", search.distribution, "multinomial"),
    KSTR("search.share", search.share, "layer"),
    KSPEC("search.ops", HN_FIELD_SEQ, get_search_ops, json_search_ops),
    KSPEC("search.target", HN_FIELD_SEQ, get_search_target, json_search_target),
    KSTR("search.metric", search.metric, "bops"),
    KSTR("search.cost_backend", search.cost_backend, "model"),
    KSTR("search.eval_backend", search.eval_backend, "cpu"),
    KINT("search.eval_limit", search.eval_limit, 0, 0, 1e9),
    KSTR("search.sigma", search.sigma, "square"),
    KDBL("search.lambda", search.lambda, 1.0, 0, 1e6),
    KINT("search.samples", search.samples, 20, 1, 100000),
    KINT("search.iterations", search.iterations, 10, 1, 100000),
    KINT("search.t_omega", search.t_omega, 1, 0, 100000),
    KDBL("search.alpha_fraction", search.alpha_fraction, 0.5, 0.01, 0.99),
    KINT("search.alpha_batches", search.alpha_batches, 0, 0, 100000000),
    KDBL("search.alpha_lr", search.alpha_lr, 0.01, 1e-12, 100),
    KDBL("search.alpha_momentum", search.alpha_momentum, 0.9, 0, 0.9999),
    KDBL("search.alpha_lr_decay", search.alpha_lr_decay, 0.999, 0.5, 1),
    KDBL("search.alpha_grad_clip", search.alpha_grad_clip, 10, 0, 1e9),
    KSTR("search.alpha_init", search.alpha_init, "reference"),
    KSTR("search.baseline", search.baseline, "none"),
    KDBL("search.baseline_decay", search.baseline_decay, 0.9, 0, 0.9999),
    KINT("search.final_samples", search.final_samples, 5, 0, 1000),
    KINT("search.final_epochs", search.final_epochs, 1, 0, 100000),
    KBOOL("search.final_homogeneous", search.final_homogeneous, 1),
    KDBL("search.target_width", search.target_width, 0.5, 1e-3, 1),
    KDBL("search.init_prob", search.init_prob, 0.5, 1e-3, 0.999),
    KINT("search.sample_epochs", search.sample_epochs, 5, 0, 100000),
    KINT("search.reset_every", search.reset_every, 1, 1, 100000),
    KSTR("search.interp_points", search.interp_points, ""),
    KSTR("search.interp_sigma", search.interp_sigma, "reference"),
    KINT("search.interp_runs", search.interp_runs, 5, 1, 1000),
    /* hetnas grid (docs/study.md); ignored by hetnas train */
    KINT("grid.repeats", grid.repeats, 3, 1, 10000),
    KDBL("grid.alpha", grid.alpha, 0.05, 1e-12, 0.5),
    KDBL("grid.level", grid.level, 0.6827, 0.01, 0.999999),
    KSPEC("grid.quant.ops", HN_FIELD_SEQ, get_grid_ops, json_grid_ops),
    KSPEC("grid.quant.splits", HN_FIELD_SEQ, get_grid_splits, json_grid_splits),
    KSPEC("grid.quant.files", HN_FIELD_SEQ, get_grid_files, json_grid_files),
    KSPEC("grid.prune.widths", HN_FIELD_SEQ, get_grid_widths, json_grid_widths),
};

#define N_KEYS (sizeof k_keys / sizeof k_keys[0])

/* K_ENUM fields are read and written as int. */
_Static_assert(sizeof(hn_sched_kind) == sizeof(int) &&
               sizeof(hn_optim_kind) == sizeof(int) &&
               sizeof(hn_weight_sharing) == sizeof(int), "enum fields are ints");

static void *field(hn_experiment *e, const key *k) { return (char *)e + k->off; }
static const void *cfield(const hn_experiment *e, const key *k) {
    return (const char *)e + k->off;
}

/* Length of the parent map path of a dotted key ("data.augment" of
 * "data.augment.flip"; 0 for top-level keys). */
static size_t parent_len(const char *path) {
    const char *dot = strrchr(path, '.');
    return dot ? (size_t)(dot - path) : 0;
}

/* The schema of the map at `map` ("" = top level): its leaf keys and the
 * names of its sub-maps, from the table; sub-map names are written into
 * names[] (the caller's storage). */
static size_t children(const char *map, hn_field *out, char (*names)[32]) {
    size_t ml = strlen(map), n = 0;
    for (size_t i = 0; i < N_KEYS; i++) {
        const key *k = &k_keys[i];
        if (ml && (strncmp(k->path, map, ml) || k->path[ml] != '.')) continue;
        const char *rest = ml ? k->path + ml + 1 : k->path;
        const char *dot = strchr(rest, '.');
        size_t rl = dot ? (size_t)(dot - rest) : strlen(rest);
        bool seen = false;
        for (size_t j = 0; j < n; j++)
            if (strlen(out[j].key) == rl && !strncmp(out[j].key, rest, rl)) seen = true;
        if (seen) continue;
        HN_ASSERT(n < MAX_CHILDREN);
        hn_field f = {0};
        if (dot) {
            snprintf(names[n], 32, "%.*s", (int)rl, rest);
            f.key = names[n];
            f.type = HN_FIELD_MAP;
        } else {
            f.key = rest;
            f.type = k->type == K_SPECIAL ? k->schema
                     : k->type == K_INT || k->type == K_U64 ? HN_FIELD_INT
                     : k->type == K_DBL ? HN_FIELD_FLOAT
                     : k->type == K_BOOL ? HN_FIELD_BOOL
                     : HN_FIELD_STRING;
            f.lo = k->lo;
            f.hi = k->hi;
        }
        out[n++] = f;
    }
    return n;
}

/* Checks the map at `path` of a document and, recursively, its sub-maps. */
static hn_status validate_map(const hn_doc *d, const hn_node *node, const char *path) {
    hn_field f[MAX_CHILDREN];
    char names[MAX_CHILDREN][32];
    size_t n = children(path, f, names);
    char ctx[64];
    snprintf(ctx, sizeof ctx, "%s%s", path, *path ? "." : "");
    HN_TRY(hn_schema_check(d, node, ctx, f, n));
    for (size_t i = 0; i < n; i++) {
        if (f[i].type != HN_FIELD_MAP) continue;
        const hn_node *sub = hn_node_get(node, f[i].key);
        if (!sub) continue;
        char sp[64];
        snprintf(sp, sizeof sp, "%s%s", ctx, f[i].key);
        HN_TRY(validate_map(d, sub, sp));
    }
    return HN_OK;
}

static hn_status validate(const hn_doc *d) {
    const hn_node *root = hn_doc_root(d);
    if (!root) return hn_fail(HN_ERR_SCHEMA, "%s: empty experiment file", hn_doc_name(d));
    return validate_map(d, root, "");
}

/* ---- layered lookup: --set documents (last first), then the file -------- */

struct ctx {
    const hn_doc *file;
    hn_doc *sets[MAX_SETS];
    int n_sets;
};

static const hn_node *walk(const hn_doc *d, const char *path) {
    const hn_node *n = hn_doc_root(d);
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok;
         tok = strtok_r(NULL, ".", &save)) {
        if (!n || hn_node_kind_of(n) != HN_NODE_MAP) return NULL;
        n = hn_node_get(n, tok);
    }
    return n;
}

static const hn_node *lookup(const ctx *c, const char *path, const hn_doc **d) {
    for (int i = c->n_sets - 1; i >= 0; i--) {
        const hn_node *n = walk(c->sets[i], path);
        if (n) {
            *d = c->sets[i];
            return n;
        }
    }
    const hn_node *n = walk(c->file, path);
    *d = c->file;
    return n;
}

static hn_status get_int(const ctx *c, const char *path, int *out) {
    const hn_doc *d;
    const hn_node *n = lookup(c, path, &d);
    if (!n) return HN_OK;
    int64_t v;
    HN_TRY(hn_node_as_int(d, n, path, INT32_MIN, INT32_MAX, &v));
    *out = (int)v;
    return HN_OK;
}

static hn_status get_u64(const ctx *c, const char *path, uint64_t *out) {
    const hn_doc *d;
    const hn_node *n = lookup(c, path, &d);
    if (!n) return HN_OK;
    int64_t v;
    HN_TRY(hn_node_as_int(d, n, path, 0, INT64_MAX, &v));
    *out = (uint64_t)v;
    return HN_OK;
}

static hn_status get_dbl(const ctx *c, const char *path, double *out) {
    const hn_doc *d;
    const hn_node *n = lookup(c, path, &d);
    if (!n) return HN_OK;
    return hn_node_as_double(d, n, path, -1e300, 1e300, out);
}

static hn_status get_bool(const ctx *c, const char *path, bool *out) {
    const hn_doc *d;
    const hn_node *n = lookup(c, path, &d);
    if (!n) return HN_OK;
    return hn_node_as_bool(d, n, path, out);
}

static hn_status get_str(const ctx *c, const char *path, char *out, size_t cap) {
    const hn_doc *d;
    const hn_node *n = lookup(c, path, &d);
    if (!n) return HN_OK;
    const char *s;
    HN_TRY(hn_node_as_str(d, n, path, &s));
    if (strlen(s) >= cap)
        return hn_fail(HN_ERR_RANGE, "%s:%d: %s: longer than %zu characters",
                       hn_doc_name(d), hn_node_line(n), path, cap - 1);
    memcpy(out, s, strlen(s) + 1);
    return HN_OK;
}

/* One of names[0..n-1] (case-insensitive). */
static hn_status get_enum(const ctx *c, const char *path,
                          const char *const *names, int *out) {
    int n = 0;
    while (names[n]) n++;
    const hn_doc *d;
    const hn_node *nd = lookup(c, path, &d);
    if (!nd) return HN_OK;
    const char *s;
    HN_TRY(hn_node_as_str(d, nd, path, &s));
    for (int i = 0; i < n; i++)
        if (!strcasecmp(s, names[i])) {
            *out = i;
            return HN_OK;
        }
    char all[256] = "";
    for (int i = 0; i < n; i++) {
        if (i) strncat(all, "|", sizeof all - strlen(all) - 1);
        strncat(all, names[i], sizeof all - strlen(all) - 1);
    }
    return hn_fail(HN_ERR_SCHEMA, "%s:%d: %s: '%s' is not one of %s",
                   hn_doc_name(d), hn_node_line(nd), path, s, all);
}

static hn_status err_at(const ctx *c, const char *path, hn_status st,
                        const char *msg) {
    const hn_doc *d;
    const hn_node *n = lookup(c, path, &d);
    return hn_fail(st, "%s:%d: %s: %s", hn_doc_name(d), n ? hn_node_line(n) : 0,
                   path, msg);
}

/* ---- node -> JSON (inline configurations) --------------------------------- */

static void scalar_json(hn_jw *w, const hn_node *n) {
    const char *s = hn_node_str(n);
    if (hn_node_quoted(n)) {
        hn_jw_str(w, s);
        return;
    }
    char *end;
    if (*s) {
        long long v = strtoll(s, &end, 10);
        if (!*end) {
            hn_jw_int(w, v);
            return;
        }
        double x = strtod(s, &end);
        if (!*end) {
            hn_jw_double(w, x);
            return;
        }
    }
    if (!strcmp(s, "true") || !strcmp(s, "false")) {
        hn_jw_bool(w, s[0] == 't');
        return;
    }
    if (!*s || !strcmp(s, "null") || !strcmp(s, "~")) {
        hn_jw_null(w);
        return;
    }
    hn_jw_str(w, s);
}

static void node_json(hn_jw *w, const hn_node *n) {
    switch (hn_node_kind_of(n)) {
    case HN_NODE_SCALAR:
        scalar_json(w, n);
        break;
    case HN_NODE_SEQ:
        hn_jw_arr_begin(w);
        for (size_t i = 0; i < hn_node_len(n); i++) node_json(w, hn_node_at(n, i));
        hn_jw_arr_end(w);
        break;
    case HN_NODE_MAP:
        hn_jw_obj_begin(w);
        for (size_t i = 0; i < hn_node_len(n); i++) {
            hn_jw_key(w, hn_node_key_at(n, i));
            node_json(w, hn_node_val_at(n, i));
        }
        hn_jw_obj_end(w);
        break;
    }
}

/* ---- extraction --------------------------------------------------------- */

void hn_experiment_defaults(hn_experiment *e) {
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "experiment");
    for (size_t i = 0; i < N_KEYS; i++) {
        const key *k = &k_keys[i];
        void *f = field(e, k);
        switch (k->type) {
        case K_STR:
        case K_NAME: snprintf(f, k->size, "%s", k->sdef); break;
        case K_ENUM: *(int *)f = (int)k->def; break;
        case K_INT: *(int *)f = (int)k->def; break;
        case K_U64: *(uint64_t *)f = (uint64_t)k->def; break;
        case K_DBL: *(double *)f = k->def; break;
        case K_BOOL: *(bool *)f = k->def != 0; break;
        case K_SPECIAL: break;
        }
    }
    snprintf(e->model.name, sizeof e->model.name, "resnet20");
    e->model.depth = 20;
    e->config.kind = HN_EXP_CONFIG_FP32;
    e->config.op = (hn_op){HN_BITS_FP, HN_BITS_FP};
    /* the paper's quantization op set and target (section 3, Alg. C.1) */
    static const hn_op paper_ops[] = {{2, 2}, {2, 4}, {3, 3}, {8, 8}};
    e->search.n_ops = 4;
    memcpy(e->search.ops, paper_ops, sizeof paper_ops);
    e->search.target = (hn_op){3, 3};
}

void hn_experiment_clear(hn_experiment *e) {
    if (!e) return;
    free(e->config.inline_json);
    e->config.inline_json = NULL;
}

static bool given(const ctx *c, const char *path) {
    const hn_doc *d;
    return lookup(c, path, &d) != NULL;
}

static hn_status get_key(const ctx *c, const key *k, hn_experiment *e) {
    void *f = field(e, k);
    switch (k->type) {
    case K_STR: return get_str(c, k->path, f, k->size);
    case K_NAME: {
        int v = -1;
        HN_TRY(get_enum(c, k->path, k->names, &v));
        if (v >= 0) snprintf(f, k->size, "%s", k->names[v]);
        return HN_OK;
    }
    case K_ENUM: return get_enum(c, k->path, k->names, (int *)f);
    case K_INT: return get_int(c, k->path, f);
    case K_U64: return get_u64(c, k->path, f);
    case K_DBL: return get_dbl(c, k->path, f);
    case K_BOOL: return get_bool(c, k->path, f);
    case K_SPECIAL: return k->get(c, e);
    }
    return HN_OK;
}

static hn_status get_none(const ctx *c, hn_experiment *e) {
    (void)c;
    (void)e;
    return HN_OK;
}

static hn_status get_name(const ctx *c, hn_experiment *e) {
    HN_TRY(get_str(c, "name", e->name, sizeof e->name));
    for (const char *p = e->name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
            return err_at(c, "name", HN_ERR_SCHEMA,
                          "use letters, digits, '_', '-' and '.' (it names "
                          "the run directory)");
    if (!e->name[0] || e->name[0] == '.')
        return err_at(c, "name", HN_ERR_SCHEMA, "must be non-empty and not "
                      "start with '.'");
    return HN_OK;
}

static bool valid_bits(int64_t b) { return (b >= 1 && b <= HN_BITS_MAX) || b == HN_BITS_FP; }

/* A path relative to the experiment file's directory when it came from the
 * file (and the file has a directory), else as given. */
static void resolve_path(const ctx *c, const hn_doc *d, const hn_experiment *e,
                         const char *s, char *out, size_t cap) {
    const char *slash = d == c->file ? strrchr(e->source, '/') : NULL;
    if (s[0] != '/' && slash)
        snprintf(out, cap, "%.*s/%s", (int)(slash - e->source), e->source, s);
    else
        snprintf(out, cap, "%s", s);
}

static hn_status get_config(const ctx *c, hn_experiment *e) {
    const hn_doc *d;
    const hn_node *n = lookup(c, "config", &d);
    if (!n) return HN_OK;
    snprintf(e->config.where, sizeof e->config.where, "%s:%d", hn_doc_name(d),
             hn_node_line(n));
    switch (hn_node_kind_of(n)) {
    case HN_NODE_SCALAR: {
        const char *s = hn_node_str(n);
        if (!strcasecmp(s, "fp32")) {
            e->config.kind = HN_EXP_CONFIG_FP32;
            e->config.op = (hn_op){HN_BITS_FP, HN_BITS_FP};
            return HN_OK;
        }
        if (!*s)
            return hn_fail(HN_ERR_SCHEMA, "%s: config: empty (fp32, [b_w, b_a], "
                           "a configuration file or an inline mapping)",
                           e->config.where);
        /* relative paths in a file are relative to that file's directory */
        char p[HN_EXP_PATH];
        resolve_path(c, d, e, s, p, sizeof p);
        struct stat st;
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode))
            return hn_fail(HN_ERR_IO, "%s: config: configuration file '%s' not "
                           "found (looked for %s; or use fp32, [b_w, b_a] or an "
                           "inline mapping)", e->config.where, s, p);
        e->config.kind = HN_EXP_CONFIG_FILE;
        snprintf(e->config.path, sizeof e->config.path, "%s", p);
        return HN_OK;
    }
    case HN_NODE_SEQ: {
        int64_t b[2];
        size_t k;
        HN_TRY(hn_node_as_int_array(d, n, "config", 1, HN_BITS_FP, b, 2, &k));
        if (k != 2 || !valid_bits(b[0]) || !valid_bits(b[1]))
            return hn_fail(HN_ERR_SCHEMA, "%s: config: a homogeneous op is "
                           "[b_w, b_a] with bits in 1..%d or %d (float)",
                           e->config.where, HN_BITS_MAX, HN_BITS_FP);
        e->config.kind = HN_EXP_CONFIG_HOMOGENEOUS;
        e->config.op = (hn_op){(int)b[0], (int)b[1]};
        return HN_OK;
    }
    case HN_NODE_MAP: {
        hn_jw *w = hn_jw_new(0);
        if (!w) return hn_fail(HN_ERR_NOMEM, "experiment: out of memory");
        node_json(w, n);
        hn_status s = hn_jw_status(w);
        if (s == HN_OK) {
            e->config.inline_json = strdup(hn_jw_data(w, NULL));
            if (!e->config.inline_json) s = hn_fail(HN_ERR_NOMEM, "out of memory");
        }
        hn_jw_free(w);
        if (s == HN_OK) e->config.kind = HN_EXP_CONFIG_INLINE;
        return s;
    }
    }
    return HN_OK;
}

static hn_status get_init(const ctx *c, hn_experiment *e) {
    const hn_doc *d;
    const hn_node *n = lookup(c, "init", &d);
    if (!n) return HN_OK;
    const char *s;
    HN_TRY(hn_node_as_str(d, n, "init", &s));
    if (!*s || !strcmp(s, "null") || !strcmp(s, "~")) return HN_OK;
    /* relative to the working directory, like `out` (it usually points
     * into runs/); existence is checked when the run starts, since an
     * earlier run of the same pipeline may produce it */
    if (strlen(s) >= sizeof e->init)
        return hn_fail(HN_ERR_RANGE, "%s:%d: init: path too long",
                       hn_doc_name(d), hn_node_line(n));
    snprintf(e->init, sizeof e->init, "%s", s);
    return HN_OK;
}

static hn_status parse_model_name(const ctx *c, hn_experiment *e) {
    const char *nm = e->model.name;
    int depth = 0;
    char tail = 0;
    if (sscanf(nm, "resnet%d%c", &depth, &tail) != 1 || depth < 8 ||
        depth > 1202 || (depth - 2) % 6 != 0)
        return err_at(c, "model.name", HN_ERR_SCHEMA,
                      "expected resnet<6n+2> (resnet8, resnet14, resnet20, "
                      "resnet32, resnet44, resnet56, resnet110)");
    e->model.depth = depth;
    const hn_doc *d;
    const hn_node *dn = lookup(c, "model.depth", &d);
    if (dn) {
        int64_t dv;
        HN_TRY(hn_node_as_int(d, dn, "model.depth", 8, 1202, &dv));
        if ((dv - 2) % 6 != 0)
            return err_at(c, "model.depth", HN_ERR_SCHEMA,
                          "must be 6n+2 (8, 14, 20, 32, 44, 56, 110, ...)");
        const hn_doc *dn2;
        if (lookup(c, "model.name", &dn2) && dv != depth)
            return err_at(c, "model.depth", HN_ERR_SCHEMA,
                          "contradicts model.name (give one of them)");
        e->model.depth = (int)dv;
        snprintf(e->model.name, sizeof e->model.name, "resnet%d", (int)dv);
    }
    const hn_node *in = lookup(c, "model.input", &d);
    if (in) {
        const char *s = hn_node_str(in);
        int cc, hh, ww;
        char t2 = 0;
        if (s && !strcasecmp(s, "auto")) return HN_OK;
        if (!s || sscanf(s, "%dx%dx%d%c", &cc, &hh, &ww, &t2) != 3 || cc < 1 ||
            cc > HN_DATA_MAX_C || hh < 4 || hh > 4096 || ww < 4 || ww > 4096)
            return err_at(c, "model.input", HN_ERR_SCHEMA,
                          "expected auto or CxHxW, e.g. 1x28x28 or 3x32x32");
        e->model.in_c = cc;
        e->model.in_h = hh;
        e->model.in_w = ww;
    }
    return HN_OK;
}

static hn_status get_model_name(const ctx *c, hn_experiment *e) {
    HN_TRY(get_str(c, "model.name", e->model.name, sizeof e->model.name));
    for (char *p = e->model.name; *p; p++) *p = (char)tolower((unsigned char)*p);
    return parse_model_name(c, e);
}

static hn_status get_milestones(const ctx *c, hn_experiment *e) {
    const hn_doc *d;
    const hn_node *n = lookup(c, "schedule.milestones", &d);
    if (!n) return HN_OK;
    int64_t m[HN_EXP_MAX_MILESTONES];
    size_t nm;
    HN_TRY(hn_node_as_int_array(d, n, "schedule.milestones", 1, 100000, m,
                                HN_EXP_MAX_MILESTONES, &nm));
    for (size_t i = 0; i < nm; i++) {
        if (i && m[i] <= m[i - 1])
            return hn_fail(HN_ERR_SCHEMA, "%s:%d: schedule.milestones: "
                           "epochs must increase (%lld after %lld)",
                           hn_doc_name(d), hn_node_line(n),
                           (long long)m[i], (long long)m[i - 1]);
        e->schedule.milestones[i] = (int)m[i];
    }
    e->schedule.n_milestones = (int)nm;
    return HN_OK;
}

static hn_status get_slim_widths(const ctx *c, hn_experiment *e) {
    const hn_doc *d;
    const hn_node *n = lookup(c, "slim.widths", &d);
    if (!n) return HN_OK;
    if (hn_node_len(n) > HN_EXP_MAX_SLIM)
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: slim.widths: at most %d "
                       "widths", hn_doc_name(d), hn_node_line(n), HN_EXP_MAX_SLIM);
    for (size_t i = 0; i < hn_node_len(n); i++) {
        char what[64];
        snprintf(what, sizeof what, "slim.widths[%zu]", i);
        HN_TRY(hn_node_as_double(d, hn_node_at(n, i), what, 1e-3, 1.0,
                                 &e->slim.widths[i]));
        if (i && e->slim.widths[i] <= e->slim.widths[i - 1])
            return hn_fail(HN_ERR_SCHEMA, "%s:%d: slim.widths: must "
                           "increase", hn_doc_name(d), hn_node_line(n));
    }
    e->slim.n_widths = (int)hn_node_len(n);
    return HN_OK;
}

/* One op [b_w, b_a]: bits 1..16 or 32 (float). */
static hn_status get_op(const hn_doc *d, const hn_node *n, const char *what,
                        hn_op *op) {
    int64_t b[2];
    size_t k;
    HN_TRY(hn_node_as_int_array(d, n, what, 1, HN_BITS_FP, b, 2, &k));
    if (k != 2 || !valid_bits(b[0]) || !valid_bits(b[1]))
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: %s: an op is [b_w, b_a] with bits "
                       "in 1..%d or %d (float)", hn_doc_name(d), hn_node_line(n),
                       what, HN_BITS_MAX, HN_BITS_FP);
    *op = (hn_op){(int)b[0], (int)b[1]};
    return HN_OK;
}

static hn_status get_search_ops(const ctx *c, hn_experiment *e) {
    const hn_doc *d;
    const hn_node *n = lookup(c, "search.ops", &d);
    if (!n) return HN_OK;
    if (hn_node_len(n) < 1 || hn_node_len(n) > HN_MAX_OPS)
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: search.ops: 1 to %d ops [b_w, b_a]",
                       hn_doc_name(d), hn_node_line(n), HN_MAX_OPS);
    for (size_t i = 0; i < hn_node_len(n); i++) {
        char what[48];
        snprintf(what, sizeof what, "search.ops[%zu]", i);
        HN_TRY(get_op(d, hn_node_at(n, i), what, &e->search.ops[i]));
        for (size_t j = 0; j < i; j++)
            if (e->search.ops[j].wbits == e->search.ops[i].wbits &&
                e->search.ops[j].abits == e->search.ops[i].abits)
                return hn_fail(HN_ERR_SCHEMA, "%s:%d: search.ops: [%d, %d] is "
                               "listed twice", hn_doc_name(d), hn_node_line(n),
                               e->search.ops[i].wbits, e->search.ops[i].abits);
    }
    e->search.n_ops = (int)hn_node_len(n);
    return HN_OK;
}

static hn_status get_search_target(const ctx *c, hn_experiment *e) {
    const hn_doc *d;
    const hn_node *n = lookup(c, "search.target", &d);
    return n ? get_op(d, n, "search.target", &e->search.target) : HN_OK;
}

static void json_search_ops(hn_jw *w, const hn_experiment *e) {
    hn_jw_arr_begin(w);
    for (int i = 0; i < e->search.n_ops; i++) {
        hn_jw_arr_begin(w);
        hn_jw_int(w, e->search.ops[i].wbits);
        hn_jw_int(w, e->search.ops[i].abits);
        hn_jw_arr_end(w);
    }
    hn_jw_arr_end(w);
}

static void json_search_target(hn_jw *w, const hn_experiment *e) {
    hn_jw_arr_begin(w);
    hn_jw_int(w, e->search.target.wbits);
    hn_jw_int(w, e->search.target.abits);
    hn_jw_arr_end(w);
}

/* ---- grid lists ---------------------------------------------------------- */

static void grid_where(const hn_doc *d, char *where) {
    snprintf(where, HN_EXP_PATH, "%s", hn_doc_name(d));
}

static hn_status get_grid_ops(const ctx *c, hn_experiment *e) {
    const hn_doc *d;
    const hn_node *n = lookup(c, "grid.quant.ops", &d);
    if (!n || hn_node_len(n) == 0) return HN_OK; /* [] = none (the echo) */
    if (hn_node_len(n) > HN_MAX_OPS)
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: grid.quant.ops: 1..%d ops "
                       "[b_w, b_a]", hn_doc_name(d), hn_node_line(n), HN_MAX_OPS);
    for (size_t i = 0; i < hn_node_len(n); i++) {
        char what[64];
        int64_t b[2];
        size_t k;
        snprintf(what, sizeof what, "grid.quant.ops[%zu]", i);
        const hn_node *it = hn_node_at(n, i);
        HN_TRY(hn_node_as_int_array(d, it, what, 1, HN_BITS_MAX, b, 2, &k));
        if (k != 2)
            return hn_fail(HN_ERR_SCHEMA, "%s:%d: %s: an op is [b_w, b_a]",
                           hn_doc_name(d), hn_node_line(it), what);
        e->grid.ops[i] = (hn_op){(int)b[0], (int)b[1]};
        for (size_t j = 0; j < i; j++)
            if (e->grid.ops[j].wbits == b[0] && e->grid.ops[j].abits == b[1])
                return hn_fail(HN_ERR_SCHEMA, "%s:%d: %s: [%d, %d] repeats "
                               "grid.quant.ops[%zu]", hn_doc_name(d),
                               hn_node_line(it), what, (int)b[0], (int)b[1], j);
    }
    e->grid.n_ops = (int)hn_node_len(n);
    return HN_OK;
}

/* Runs after grid.quant.ops (table order). */
static hn_status get_grid_splits(const ctx *c, hn_experiment *e) {
    const hn_doc *d;
    const hn_node *n = lookup(c, "grid.quant.splits", &d);
    if (!n || hn_node_len(n) == 0) return HN_OK;
    grid_where(d, e->grid.splits_from);
    if (!e->grid.n_ops)
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: grid.quant.splits: needs "
                       "grid.quant.ops (the op of each count)", hn_doc_name(d),
                       hn_node_line(n));
    if (hn_node_len(n) > HN_EXP_MAX_GRID)
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: grid.quant.splits: at most %d",
                       hn_doc_name(d), hn_node_line(n), HN_EXP_MAX_GRID);
    for (size_t i = 0; i < hn_node_len(n); i++) {
        char what[64];
        int64_t v[HN_MAX_OPS];
        size_t k;
        snprintf(what, sizeof what, "grid.quant.splits[%zu]", i);
        const hn_node *it = hn_node_at(n, i);
        HN_TRY(hn_node_as_int_array(d, it, what, 0, 1 << 20, v, HN_MAX_OPS, &k));
        int line = hn_node_line(it);
        if ((int)k != e->grid.n_ops)
            return hn_fail(HN_ERR_SCHEMA, "%s:%d: %s: %zu counts, but "
                           "grid.quant.ops has %d ops", hn_doc_name(d), line,
                           what, k, e->grid.n_ops);
        int64_t sum = 0;
        for (size_t t = 0; t < k; t++) sum += v[t];
        if (sum == 0)
            return hn_fail(HN_ERR_SCHEMA, "%s:%d: %s: every count is 0",
                           hn_doc_name(d), line, what);
        for (size_t t = 0; t < k; t++) e->grid.splits[i][t] = (int)v[t];
        for (size_t j = 0; j < i; j++)
            if (!memcmp(e->grid.splits[j], e->grid.splits[i],
                        k * sizeof(int)))
                return hn_fail(HN_ERR_SCHEMA, "%s:%d: %s: duplicate of "
                               "grid.quant.splits[%zu] (line %d)",
                               hn_doc_name(d), line, what, j,
                               e->grid.split_line[j]);
        e->grid.split_line[i] = line;
    }
    e->grid.n_splits = (int)hn_node_len(n);
    return HN_OK;
}

static hn_status get_grid_files(const ctx *c, hn_experiment *e) {
    const hn_doc *d;
    const hn_node *n = lookup(c, "grid.quant.files", &d);
    if (!n) return HN_OK;
    grid_where(d, e->grid.files_from);
    if (hn_node_len(n) > HN_EXP_MAX_GRID_FILES)
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: grid.quant.files: at most %d",
                       hn_doc_name(d), hn_node_line(n), HN_EXP_MAX_GRID_FILES);
    for (size_t i = 0; i < hn_node_len(n); i++) {
        char what[64];
        const char *s;
        snprintf(what, sizeof what, "grid.quant.files[%zu]", i);
        const hn_node *it = hn_node_at(n, i);
        HN_TRY(hn_node_as_str(d, it, what, &s));
        int line = hn_node_line(it);
        char p[HN_EXP_PATH];
        if (strlen(s) + strlen(e->source) + 2 > sizeof p)
            return hn_fail(HN_ERR_RANGE, "%s:%d: %s: path too long",
                           hn_doc_name(d), line, what);
        resolve_path(c, d, e, s, p, sizeof p);
        struct stat st;
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode))
            return hn_fail(HN_ERR_IO, "%s:%d: %s: configuration file '%s' not "
                           "found (looked for %s)", hn_doc_name(d), line, what,
                           s, p);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(e->grid.files[j], p))
                return hn_fail(HN_ERR_SCHEMA, "%s:%d: %s: duplicate of "
                               "grid.quant.files[%zu] (line %d)",
                               hn_doc_name(d), line, what, j,
                               e->grid.file_line[j]);
        snprintf(e->grid.files[i], sizeof e->grid.files[i], "%s", p);
        e->grid.file_line[i] = line;
    }
    e->grid.n_files = (int)hn_node_len(n);
    return HN_OK;
}

static hn_status get_grid_widths(const ctx *c, hn_experiment *e) {
    const hn_doc *d;
    const hn_node *n = lookup(c, "grid.prune.widths", &d);
    if (!n) return HN_OK;
    grid_where(d, e->grid.widths_from);
    if (hn_node_len(n) > HN_EXP_MAX_GRID)
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: grid.prune.widths: at most %d",
                       hn_doc_name(d), hn_node_line(n), HN_EXP_MAX_GRID);
    for (size_t i = 0; i < hn_node_len(n); i++) {
        char what[64];
        int64_t v[3];
        size_t k;
        snprintf(what, sizeof what, "grid.prune.widths[%zu]", i);
        const hn_node *it = hn_node_at(n, i);
        HN_TRY(hn_node_as_int_array(d, it, what, 1, 1 << 20, v, 3, &k));
        int line = hn_node_line(it);
        if (k != 3)
            return hn_fail(HN_ERR_SCHEMA, "%s:%d: %s: a triplet of active "
                           "filters per stage, e.g. [8, 16, 32]",
                           hn_doc_name(d), line, what);
        for (int t = 0; t < 3; t++) e->grid.widths[i][t] = (int)v[t];
        for (size_t j = 0; j < i; j++)
            if (!memcmp(e->grid.widths[j], e->grid.widths[i], sizeof e->grid.widths[i]))
                return hn_fail(HN_ERR_SCHEMA, "%s:%d: %s: duplicate of "
                               "grid.prune.widths[%zu] (line %d)",
                               hn_doc_name(d), line, what, j,
                               e->grid.width_line[j]);
        e->grid.width_line[i] = line;
    }
    e->grid.n_widths = (int)hn_node_len(n);
    return HN_OK;
}

/* Rules that relate keys to each other (after every key is read). */
static hn_status check_relations(const ctx *c, hn_experiment *e) {
    if (!strcmp(e->data.dir, "null") || !strcmp(e->data.dir, "~")) e->data.dir[0] = 0;
    if (!strcmp(e->data.name, "cifar10") && !e->data.dir[0]) {
        const hn_doc *d;
        const hn_node *n = lookup(c, "data.name", &d);
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: data.dir: cifar10 needs data.dir "
                       "(the directory holding data_batch_1..5.bin and "
                       "test_batch.bin)", hn_doc_name(d), n ? hn_node_line(n) : 0);
    }
    if (e->optim.name == HN_OPTIM_ADAM) {
        /* Adam's customary defaults unless the file says otherwise */
        if (!given(c, "optim.lr")) e->optim.lr = 1e-3;
        if (!given(c, "optim.weight_decay")) e->optim.weight_decay = 0;
    }
    if (e->optim.nesterov && (e->optim.name != HN_OPTIM_SGD || e->optim.momentum <= 0))
        return err_at(c, "optim.nesterov", HN_ERR_SCHEMA,
                      "Nesterov needs sgd with momentum > 0");
    if (e->schedule.min_lr > e->optim.lr)
        return err_at(c, "schedule.min_lr", HN_ERR_RANGE, "larger than optim.lr");
    if (e->schedule.warmup_epochs >= e->train.epochs && e->schedule.warmup_epochs > 0)
        return err_at(c, "schedule.warmup_epochs", HN_ERR_RANGE,
                      "must be less than train.epochs");
    bool in_set = false;
    for (int i = 0; i < e->search.n_ops; i++)
        in_set |= e->search.ops[i].wbits == e->search.target.wbits &&
                  e->search.ops[i].abits == e->search.target.abits;
    if (!in_set) {
        char msg[96];
        snprintf(msg, sizeof msg, "[%d, %d] is not in search.ops",
                 e->search.target.wbits, e->search.target.abits);
        return err_at(c, given(c, "search.target") ? "search.target" : "search.ops",
                      HN_ERR_SCHEMA, msg);
    }
    return HN_OK;
}

static hn_status extract(const ctx *c, hn_experiment *e) {
    for (size_t i = 0; i < N_KEYS; i++) HN_TRY(get_key(c, &k_keys[i], e));
    return check_relations(c, e);
}

/* "a.b.c=value" -> a YAML document with that one nested key. */
static hn_status parse_set(const char *set, hn_doc **out) {
    const char *eq = strchr(set, '=');
    if (!eq || eq == set)
        return hn_fail(HN_ERR_INVAL, "--set %s: expected key=value, e.g. "
                       "--set optim.lr=0.05", set);
    size_t kl = (size_t)(eq - set);
    if (kl > 100) return hn_fail(HN_ERR_INVAL, "--set %s: key too long", set);
    const char *val = eq + 1;
    if (strchr(val, '\n'))
        return hn_fail(HN_ERR_INVAL, "--set %s: the value contains a newline", set);
    char key[128];
    memcpy(key, set, kl);
    key[kl] = 0;
    size_t cap = strlen(val) + 512;
    char *y = malloc(cap);
    if (!y) return hn_fail(HN_ERR_NOMEM, "out of memory");
    size_t len = 0;
    int depth = 0;
    const char *seg = key;
    for (;;) {
        const char *dot = strchr(seg, '.');
        size_t sl = dot ? (size_t)(dot - seg) : strlen(seg);
        bool ok = sl > 0;
        for (size_t i = 0; i < sl; i++)
            ok = ok && (isalnum((unsigned char)seg[i]) || seg[i] == '_');
        if (!ok) {
            free(y);
            return hn_fail(HN_ERR_INVAL, "--set %s: bad key '%s' (dotted names "
                           "like data.augment.flip)", set, key);
        }
        len += (size_t)snprintf(y + len, cap - len, "%*s%.*s:", 2 * depth, "",
                                (int)sl, seg);
        if (!dot) break;
        len += (size_t)snprintf(y + len, cap - len, "\n");
        depth++;
        seg = dot + 1;
    }
    snprintf(y + len, cap - len, " %s\n", *val ? val : "\"\"");
    char name[300];
    snprintf(name, sizeof name, "--set %.280s", set);
    hn_status s = hn_doc_load_string(y, strlen(y), name, out);
    free(y);
    if (s != HN_OK) return s;
    if (hn_node_kind_of(hn_doc_root(*out)) != HN_NODE_MAP) {
        hn_doc_free(*out);
        return hn_fail(HN_ERR_INVAL, "--set %s: not a key=value", set);
    }
    return HN_OK;
}

static hn_status load_impl(hn_doc *file, const char *source,
                           const char *const *sets, int n_sets,
                           hn_experiment *e) {
    ctx c = {.file = file};
    hn_status s = HN_OK;
    if (n_sets > MAX_SETS)
        s = hn_fail(HN_ERR_INVAL, "more than %d --set options", MAX_SETS);
    if (s == HN_OK) s = validate(file);
    for (int i = 0; s == HN_OK && i < n_sets; i++) {
        s = parse_set(sets[i], &c.sets[c.n_sets]);
        if (s == HN_OK) {
            c.n_sets++;
            s = validate(c.sets[c.n_sets - 1]);
        }
    }
    if (s == HN_OK) {
        hn_experiment_defaults(e);
        snprintf(e->source, sizeof e->source, "%s", source ? source : "");
        if (source) {
            const char *b = strrchr(source, '/');
            b = b ? b + 1 : source;
            const char *dot = strrchr(b, '.');
            size_t l = dot && dot != b ? (size_t)(dot - b) : strlen(b);
            snprintf(e->name, sizeof e->name, "%.*s", (int)l, b);
        }
        s = extract(&c, e);
        if (s != HN_OK) hn_experiment_clear(e);
    }
    for (int i = 0; i < c.n_sets; i++) hn_doc_free(c.sets[i]);
    return s;
}

hn_status hn_experiment_load(const char *path, const char *const *sets,
                             int n_sets, hn_experiment *e) {
    memset(e, 0, sizeof *e);
    hn_doc *d;
    HN_TRY(hn_doc_load_file_max(path, HN_FILE_MAX_YAML, &d));
    hn_status s = load_impl(d, path, sets, n_sets, e);
    hn_doc_free(d);
    return s;
}

hn_status hn_experiment_load_string(const char *text, const char *name,
                                    const char *const *sets, int n_sets,
                                    hn_experiment *e) {
    memset(e, 0, sizeof *e);
    hn_doc *d;
    HN_TRY(hn_doc_load_string(text, strlen(text), name ? name : "experiment", &d));
    hn_status s = load_impl(d, NULL, sets, n_sets, e);
    hn_doc_free(d);
    return s;
}

/* ---- key listing --------------------------------------------------------- */

void hn_experiment_print_keys(FILE *f) {
    static const char *const tn[] = {"string", "name", "name", "int", "int",
                                     "float", "bool", "special"};
    for (size_t i = 0; i < N_KEYS; i++) {
        const key *k = &k_keys[i];
        if (k->type == K_NAME || k->type == K_ENUM) {
            char all[200] = "";
            for (int j = 0; k->names[j]; j++) {
                if (j) strncat(all, "|", sizeof all - strlen(all) - 1);
                strncat(all, k->names[j], sizeof all - strlen(all) - 1);
            }
            fprintf(f, "  %-26s %s\n", k->path, all);
        } else if (k->type == K_SPECIAL) {
            static const char *const sn[] = {"any", "int", "float", "bool",
                                             "string", "list", "mapping"};
            fprintf(f, "  %-26s %s\n", k->path, sn[k->schema]);
        } else if (k->lo < k->hi) {
            fprintf(f, "  %-26s %-7s [%g, %g]\n", k->path, tn[k->type], k->lo, k->hi);
        } else {
            fprintf(f, "  %-26s %s\n", k->path, tn[k->type]);
        }
    }
}

/* ---- JSON dump ------------------------------------------------------------ */

static void json_model_name(hn_jw *w, const hn_experiment *e) { hn_jw_str(w, e->model.name); }

static void json_model_input(hn_jw *w, const hn_experiment *e) {
    if (e->model.in_c) {
        char buf[64];
        snprintf(buf, sizeof buf, "%dx%dx%d", e->model.in_c, e->model.in_h, e->model.in_w);
        hn_jw_str(w, buf);
    } else {
        hn_jw_str(w, "auto");
    }
}

static void json_config(hn_jw *w, const hn_experiment *e) {
    switch (e->config.kind) {
    case HN_EXP_CONFIG_FP32: hn_jw_str(w, "fp32"); break;
    case HN_EXP_CONFIG_HOMOGENEOUS:
        hn_jw_arr_begin(w);
        hn_jw_int(w, e->config.op.wbits);
        hn_jw_int(w, e->config.op.abits);
        hn_jw_arr_end(w);
        break;
    case HN_EXP_CONFIG_FILE: hn_jw_str(w, e->config.path); break;
    case HN_EXP_CONFIG_INLINE: hn_jw_raw(w, e->config.inline_json); break;
    }
}

static void json_milestones(hn_jw *w, const hn_experiment *e) {
    hn_jw_arr_begin(w);
    for (int i = 0; i < e->schedule.n_milestones; i++) hn_jw_int(w, e->schedule.milestones[i]);
    hn_jw_arr_end(w);
}

static void json_slim_widths(hn_jw *w, const hn_experiment *e) {
    hn_jw_arr_begin(w);
    for (int i = 0; i < e->slim.n_widths; i++) hn_jw_double(w, e->slim.widths[i]);
    hn_jw_arr_end(w);
}

static void json_grid_ops(hn_jw *w, const hn_experiment *e) {
    hn_jw_arr_begin(w);
    for (int i = 0; i < e->grid.n_ops; i++) {
        hn_jw_arr_begin(w);
        hn_jw_int(w, e->grid.ops[i].wbits);
        hn_jw_int(w, e->grid.ops[i].abits);
        hn_jw_arr_end(w);
    }
    hn_jw_arr_end(w);
}

static void json_grid_splits(hn_jw *w, const hn_experiment *e) {
    hn_jw_arr_begin(w);
    for (int i = 0; i < e->grid.n_splits; i++) {
        hn_jw_arr_begin(w);
        for (int t = 0; t < e->grid.n_ops; t++) hn_jw_int(w, e->grid.splits[i][t]);
        hn_jw_arr_end(w);
    }
    hn_jw_arr_end(w);
}

static void json_grid_files(hn_jw *w, const hn_experiment *e) {
    hn_jw_arr_begin(w);
    for (int i = 0; i < e->grid.n_files; i++) hn_jw_str(w, e->grid.files[i]);
    hn_jw_arr_end(w);
}

static void json_grid_widths(hn_jw *w, const hn_experiment *e) {
    hn_jw_arr_begin(w);
    for (int i = 0; i < e->grid.n_widths; i++) {
        hn_jw_arr_begin(w);
        for (int t = 0; t < 3; t++) hn_jw_int(w, e->grid.widths[i][t]);
        hn_jw_arr_end(w);
    }
    hn_jw_arr_end(w);
}

static void json_key(hn_jw *w, const key *k, const hn_experiment *e) {
    const void *f = cfield(e, k);
    switch (k->type) {
    case K_STR:
    case K_NAME: hn_jw_str(w, f); break;
    case K_ENUM: hn_jw_str(w, enum_name(k->names, *(const int *)f)); break;
    case K_INT: hn_jw_int(w, *(const int *)f); break;
    case K_U64: hn_jw_uint(w, *(const uint64_t *)f); break;
    case K_DBL: hn_jw_double(w, *(const double *)f); break;
    case K_BOOL: hn_jw_bool(w, *(const bool *)f); break;
    case K_SPECIAL:
        if (k->json) {
            k->json(w, e);
        } else { /* string-valued specials echo their field by name */
            if (!strcmp(k->path, "name")) hn_jw_str(w, e->name);
            else if (!strcmp(k->path, "init")) hn_jw_str(w, e->init);
            else if (!strcmp(k->path, "model.depth")) hn_jw_int(w, e->model.depth);
            else hn_jw_null(w);
        }
        break;
    }
}

hn_status hn_experiment_to_json(const hn_experiment *e, int pretty, char **out) {
    hn_jw *w = hn_jw_new(pretty);
    if (!w) return hn_fail(HN_ERR_NOMEM, "out of memory");
    hn_jw_obj_begin(w);
    hn_jw_key(w, "source");
    hn_jw_str(w, e->source);
    /* open and close nested objects as the table's map paths change */
    char open[64] = ""; /* the map path currently open ("" = top) */
    for (size_t i = 0; i < N_KEYS; i++) {
        const key *k = &k_keys[i];
        size_t pl = parent_len(k->path);
        /* close maps that are not a prefix of this key's parent */
        while (*open && !(strlen(open) <= pl && !strncmp(open, k->path, strlen(open)) &&
                          (strlen(open) == pl || k->path[strlen(open)] == '.'))) {
            hn_jw_obj_end(w);
            char *dot = strrchr(open, '.');
            if (dot) *dot = 0;
            else open[0] = 0;
        }
        /* open the missing levels */
        while (strlen(open) < pl) {
            size_t ol = strlen(open);
            const char *start = k->path + (ol ? ol + 1 : 0);
            const char *dot = strchr(start, '.');
            size_t seg = (size_t)(dot - start);
            char name[32];
            snprintf(name, sizeof name, "%.*s", (int)seg, start);
            hn_jw_key(w, name);
            hn_jw_obj_begin(w);
            snprintf(open + ol, sizeof open - ol, "%s%s", ol ? "." : "", name);
        }
        hn_jw_key(w, k->path + (pl ? pl + 1 : 0));
        json_key(w, k, e);
    }
    while (*open) {
        hn_jw_obj_end(w);
        char *dot = strrchr(open, '.');
        if (dot) *dot = 0;
        else open[0] = 0;
    }
    hn_jw_obj_end(w);

    hn_status s = hn_jw_status(w);
    if (s == HN_OK) {
        *out = strdup(hn_jw_data(w, NULL));
        if (!*out) s = hn_fail(HN_ERR_NOMEM, "out of memory");
    }
    hn_jw_free(w);
    return s;
}
