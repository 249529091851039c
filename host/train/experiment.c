/* Experiment files: schema, defaults, --set overrides (experiment.h). */
#include "hetnas/experiment.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "hetnas/doc.h"
#include "hetnas/fileio.h"
#include "hetnas/json.h"

#define MAX_SETS 64

/* ---- schema ------------------------------------------------------------- */

#define F_(k, t) {k, t, false, 0, 0}
#define FR(k, t, lo, hi) {k, t, false, lo, hi}

static const hn_field k_top[] = {
    F_("name", HN_FIELD_STRING),     F_("description", HN_FIELD_STRING),
    FR("seed", HN_FIELD_INT, 0, 1e18), F_("out", HN_FIELD_STRING),
    F_("init", HN_FIELD_STRING),
    F_("model", HN_FIELD_MAP),       F_("data", HN_FIELD_MAP),
    F_("config", HN_FIELD_ANY),      F_("quant", HN_FIELD_MAP),
    F_("optim", HN_FIELD_MAP),       F_("schedule", HN_FIELD_MAP),
    F_("train", HN_FIELD_MAP),       F_("slim", HN_FIELD_MAP),
};
static const hn_field k_model[] = {
    F_("name", HN_FIELD_STRING),
    FR("depth", HN_FIELD_INT, 8, 1202),
    FR("width", HN_FIELD_FLOAT, 0.0625, 8),
    F_("input", HN_FIELD_STRING),
    FR("input_bits", HN_FIELD_INT, 1, 16),
};
static const hn_field k_data[] = {
    F_("name", HN_FIELD_STRING),
    F_("dir", HN_FIELD_STRING),
    FR("val_fraction", HN_FIELD_FLOAT, 0, 0.9),
    FR("val_size", HN_FIELD_INT, 0, 1e8),
    FR("batch_size", HN_FIELD_INT, 1, 65536),
    FR("eval_batch_size", HN_FIELD_INT, 1, 65536),
    F_("normalize", HN_FIELD_BOOL),
    F_("augment", HN_FIELD_MAP),
};
static const hn_field k_augment[] = {
    FR("crop_pad", HN_FIELD_INT, 0, 16),
    F_("flip", HN_FIELD_BOOL),
};
static const hn_field k_quant[] = {
    F_("weight_sharing", HN_FIELD_STRING),
    FR("noise", HN_FIELD_FLOAT, 0, 1),
    F_("gradual", HN_FIELD_BOOL),
    FR("weight_clamp_std", HN_FIELD_FLOAT, 0.1, 100),
    FR("act_clamp_std", HN_FIELD_FLOAT, 0.1, 100),
    F_("learn_clamps", HN_FIELD_BOOL),
};
static const hn_field k_optim[] = {
    F_("name", HN_FIELD_STRING),
    FR("lr", HN_FIELD_FLOAT, 1e-12, 100),
    FR("momentum", HN_FIELD_FLOAT, 0, 0.9999),
    F_("nesterov", HN_FIELD_BOOL),
    FR("weight_decay", HN_FIELD_FLOAT, 0, 1),
    FR("grad_clip", HN_FIELD_FLOAT, 0, 1e9),
    FR("beta1", HN_FIELD_FLOAT, 0, 0.9999),
    FR("beta2", HN_FIELD_FLOAT, 0, 0.999999),
    FR("eps", HN_FIELD_FLOAT, 1e-20, 1),
};
static const hn_field k_sched[] = {
    F_("name", HN_FIELD_STRING),
    FR("warmup_epochs", HN_FIELD_INT, 0, 100000),
    FR("step_size", HN_FIELD_INT, 1, 100000),
    FR("gamma", HN_FIELD_FLOAT, 1e-6, 1),
    F_("milestones", HN_FIELD_SEQ),
    FR("min_lr", HN_FIELD_FLOAT, 0, 100),
    FR("factor", HN_FIELD_FLOAT, 1e-6, 0.999999),
    FR("patience", HN_FIELD_INT, 0, 100000),
    FR("threshold", HN_FIELD_FLOAT, 0, 1),
};
static const hn_field k_train[] = {
    FR("epochs", HN_FIELD_INT, 1, 100000),
    FR("patience", HN_FIELD_INT, 0, 100000),
    FR("threads", HN_FIELD_INT, 0, 1024),
    F_("deterministic", HN_FIELD_BOOL),
    FR("eval_every", HN_FIELD_INT, 1, 100000),
    FR("checkpoint_every", HN_FIELD_INT, 0, 100000),
    FR("keep_checkpoints", HN_FIELD_INT, 1, 100000),
    FR("log_every", HN_FIELD_INT, 0, 100000000),
    FR("max_batches", HN_FIELD_INT, 0, 100000000),
};
static const hn_field k_slim[] = {
    F_("widths", HN_FIELD_SEQ),
    FR("recalib_batches", HN_FIELD_INT, 0, 100000),
};

#define N_(a) (sizeof(a) / sizeof((a)[0]))

typedef struct section {
    const char *key;
    const hn_field *fields;
    size_t n;
} section;

static const section k_sections[] = {
    {"model", k_model, N_(k_model)},    {"data", k_data, N_(k_data)},
    {"quant", k_quant, N_(k_quant)},    {"optim", k_optim, N_(k_optim)},
    {"schedule", k_sched, N_(k_sched)}, {"train", k_train, N_(k_train)},
    {"slim", k_slim, N_(k_slim)},
};

static hn_status validate(const hn_doc *d) {
    const hn_node *root = hn_doc_root(d);
    if (!root) return hn_fail(HN_ERR_SCHEMA, "%s: empty experiment file", hn_doc_name(d));
    HN_TRY(hn_schema_check(d, root, "", k_top, N_(k_top)));
    for (size_t i = 0; i < N_(k_sections); i++) {
        const hn_node *m = hn_node_get(root, k_sections[i].key);
        if (!m) continue;
        char ctx[40];
        snprintf(ctx, sizeof ctx, "%s.", k_sections[i].key);
        HN_TRY(hn_schema_check(d, m, ctx, k_sections[i].fields, k_sections[i].n));
    }
    const hn_node *dm = hn_node_get(root, "data");
    const hn_node *aug = dm ? hn_node_get(dm, "augment") : NULL;
    if (aug) HN_TRY(hn_schema_check(d, aug, "data.augment.", k_augment, N_(k_augment)));
    return HN_OK;
}

/* ---- layered lookup: --set documents (last first), then the file -------- */

typedef struct ctx {
    const hn_doc *file;
    hn_doc *sets[MAX_SETS];
    int n_sets;
} ctx;

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
                          const char *const *names, int n, int *out) {
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
    e->seed = 1;
    snprintf(e->out, sizeof e->out, "runs");
    snprintf(e->model.name, sizeof e->model.name, "resnet20");
    e->model.depth = 20;
    e->model.width = 1.0;
    e->model.input_bits = 8;
    snprintf(e->data.name, sizeof e->data.name, "fashion-mnist");
    e->data.val_fraction = 0.1;
    e->data.batch_size = 128;
    e->data.eval_batch_size = 512;
    e->data.normalize = true;
    e->data.augment.crop_pad = 4;
    e->data.augment.flip = true;
    e->config.kind = HN_EXP_CONFIG_FP32;
    e->config.op = (hn_op){HN_BITS_FP, HN_BITS_FP};
    e->quant.weight_sharing = HN_EXP_SHARED;
    e->quant.weight_clamp_std = 3.45;
    e->quant.act_clamp_std = 3.0;
    e->quant.learn_clamps = true;
    e->optim.name = HN_EXP_SGD;
    e->optim.lr = 0.1;
    e->optim.momentum = 0.9;
    e->optim.weight_decay = 5e-4;
    e->optim.beta1 = 0.9;
    e->optim.beta2 = 0.999;
    e->optim.eps = 1e-8;
    e->schedule.name = HN_EXP_SCHED_COSINE;
    e->schedule.step_size = 30;
    e->schedule.gamma = 0.1;
    e->schedule.factor = 0.1;
    e->schedule.patience = 5;
    e->schedule.threshold = 1e-4;
    e->train.epochs = 30;
    e->train.eval_every = 1;
    e->train.checkpoint_every = 1;
    e->train.keep_checkpoints = 2;
    e->train.log_every = 50;
    e->slim.recalib_batches = 20;
}

void hn_experiment_clear(hn_experiment *e) {
    if (!e) return;
    free(e->config.inline_json);
    e->config.inline_json = NULL;
}

static const char *const k_sched_names[] = {"constant", "step", "cosine", "plateau"};
static const char *const k_optim_names[] = {"sgd", "adam"};
static const char *const k_sharing_names[] = {"shared", "per_op"};
static const char *const k_data_names[] = {"fashion-mnist", "mnist", "cifar10"};

const char *hn_exp_sched_name(hn_exp_sched s) {
    return (unsigned)s < 4 ? k_sched_names[s] : "?";
}
const char *hn_exp_optim_name(hn_exp_optim o) {
    return (unsigned)o < 2 ? k_optim_names[o] : "?";
}
const char *hn_exp_sharing_name(hn_exp_sharing s) {
    return (unsigned)s < 2 ? k_sharing_names[s] : "?";
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

static hn_status extract(const ctx *c, hn_experiment *e) {
    HN_TRY(get_str(c, "name", e->name, sizeof e->name));
    for (const char *p = e->name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
            return err_at(c, "name", HN_ERR_SCHEMA,
                          "use letters, digits, '_', '-' and '.' (it names "
                          "the run directory)");
    if (!e->name[0] || e->name[0] == '.')
        return err_at(c, "name", HN_ERR_SCHEMA, "must be non-empty and not "
                      "start with '.'");
    HN_TRY(get_str(c, "description", e->description, sizeof e->description));
    HN_TRY(get_u64(c, "seed", &e->seed));
    HN_TRY(get_str(c, "out", e->out, sizeof e->out));
    HN_TRY(get_init(c, e));

    HN_TRY(get_str(c, "model.name", e->model.name, sizeof e->model.name));
    for (char *p = e->model.name; *p; p++) *p = (char)tolower((unsigned char)*p);
    HN_TRY(parse_model_name(c, e));
    HN_TRY(get_dbl(c, "model.width", &e->model.width));
    HN_TRY(get_int(c, "model.input_bits", &e->model.input_bits));

    int dn = 0;
    HN_TRY(get_enum(c, "data.name", k_data_names, 3, &dn));
    {
        const hn_doc *d;
        if (lookup(c, "data.name", &d))
            snprintf(e->data.name, sizeof e->data.name, "%s", k_data_names[dn]);
    }
    HN_TRY(get_str(c, "data.dir", e->data.dir, sizeof e->data.dir));
    if (!strcmp(e->data.dir, "null") || !strcmp(e->data.dir, "~")) e->data.dir[0] = 0;
    HN_TRY(get_dbl(c, "data.val_fraction", &e->data.val_fraction));
    HN_TRY(get_int(c, "data.val_size", &e->data.val_size));
    HN_TRY(get_int(c, "data.batch_size", &e->data.batch_size));
    HN_TRY(get_int(c, "data.eval_batch_size", &e->data.eval_batch_size));
    HN_TRY(get_bool(c, "data.normalize", &e->data.normalize));
    HN_TRY(get_int(c, "data.augment.crop_pad", &e->data.augment.crop_pad));
    HN_TRY(get_bool(c, "data.augment.flip", &e->data.augment.flip));
    if (!strcmp(e->data.name, "cifar10") && !e->data.dir[0]) {
        const hn_doc *d;
        const hn_node *n = lookup(c, "data.name", &d);
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: data.dir: cifar10 needs data.dir "
                       "(the directory holding data_batch_1..5.bin and "
                       "test_batch.bin)", hn_doc_name(d), n ? hn_node_line(n) : 0);
    }

    HN_TRY(get_config(c, e));

    int k = (int)e->quant.weight_sharing;
    HN_TRY(get_enum(c, "quant.weight_sharing", k_sharing_names, 2, &k));
    e->quant.weight_sharing = (hn_exp_sharing)k;
    HN_TRY(get_dbl(c, "quant.noise", &e->quant.noise));
    HN_TRY(get_bool(c, "quant.gradual", &e->quant.gradual));
    HN_TRY(get_dbl(c, "quant.weight_clamp_std", &e->quant.weight_clamp_std));
    HN_TRY(get_dbl(c, "quant.act_clamp_std", &e->quant.act_clamp_std));
    HN_TRY(get_bool(c, "quant.learn_clamps", &e->quant.learn_clamps));

    k = (int)e->optim.name;
    HN_TRY(get_enum(c, "optim.name", k_optim_names, 2, &k));
    e->optim.name = (hn_exp_optim)k;
    if (e->optim.name == HN_EXP_ADAM) {
        /* Adam's customary defaults unless the file says otherwise */
        e->optim.lr = 1e-3;
        e->optim.weight_decay = 0;
    }
    HN_TRY(get_dbl(c, "optim.lr", &e->optim.lr));
    HN_TRY(get_dbl(c, "optim.momentum", &e->optim.momentum));
    HN_TRY(get_bool(c, "optim.nesterov", &e->optim.nesterov));
    HN_TRY(get_dbl(c, "optim.weight_decay", &e->optim.weight_decay));
    HN_TRY(get_dbl(c, "optim.grad_clip", &e->optim.grad_clip));
    HN_TRY(get_dbl(c, "optim.beta1", &e->optim.beta1));
    HN_TRY(get_dbl(c, "optim.beta2", &e->optim.beta2));
    HN_TRY(get_dbl(c, "optim.eps", &e->optim.eps));
    if (e->optim.nesterov && (e->optim.name != HN_EXP_SGD || e->optim.momentum <= 0))
        return err_at(c, "optim.nesterov", HN_ERR_SCHEMA,
                      "Nesterov needs sgd with momentum > 0");

    k = (int)e->schedule.name;
    HN_TRY(get_enum(c, "schedule.name", k_sched_names, 4, &k));
    e->schedule.name = (hn_exp_sched)k;
    HN_TRY(get_int(c, "schedule.warmup_epochs", &e->schedule.warmup_epochs));
    HN_TRY(get_int(c, "schedule.step_size", &e->schedule.step_size));
    HN_TRY(get_dbl(c, "schedule.gamma", &e->schedule.gamma));
    HN_TRY(get_dbl(c, "schedule.min_lr", &e->schedule.min_lr));
    HN_TRY(get_dbl(c, "schedule.factor", &e->schedule.factor));
    HN_TRY(get_int(c, "schedule.patience", &e->schedule.patience));
    HN_TRY(get_dbl(c, "schedule.threshold", &e->schedule.threshold));
    {
        const hn_doc *d;
        const hn_node *n = lookup(c, "schedule.milestones", &d);
        if (n) {
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
        }
    }
    if (e->schedule.min_lr > e->optim.lr)
        return err_at(c, "schedule.min_lr", HN_ERR_RANGE,
                      "larger than optim.lr");

    HN_TRY(get_int(c, "train.epochs", &e->train.epochs));
    HN_TRY(get_int(c, "train.patience", &e->train.patience));
    HN_TRY(get_int(c, "train.threads", &e->train.threads));
    HN_TRY(get_bool(c, "train.deterministic", &e->train.deterministic));
    HN_TRY(get_int(c, "train.eval_every", &e->train.eval_every));
    HN_TRY(get_int(c, "train.checkpoint_every", &e->train.checkpoint_every));
    HN_TRY(get_int(c, "train.keep_checkpoints", &e->train.keep_checkpoints));
    HN_TRY(get_int(c, "train.log_every", &e->train.log_every));
    HN_TRY(get_int(c, "train.max_batches", &e->train.max_batches));
    if (e->schedule.warmup_epochs >= e->train.epochs && e->schedule.warmup_epochs > 0)
        return err_at(c, "schedule.warmup_epochs", HN_ERR_RANGE,
                      "must be less than train.epochs");

    {
        const hn_doc *d;
        const hn_node *n = lookup(c, "slim.widths", &d);
        if (n) {
            if (hn_node_len(n) > HN_EXP_MAX_SLIM)
                return hn_fail(HN_ERR_SCHEMA, "%s:%d: slim.widths: at most %d "
                               "widths", hn_doc_name(d), hn_node_line(n),
                               HN_EXP_MAX_SLIM);
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
        }
    }
    HN_TRY(get_int(c, "slim.recalib_batches", &e->slim.recalib_batches));
    return HN_OK;
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

static void print_fields(FILE *f, const char *ctx, const hn_field *fl, size_t n) {
    static const char *const tn[] = {"any", "int", "float", "bool", "string", "list", "mapping"};
    for (size_t i = 0; i < n; i++) {
        if (fl[i].type == HN_FIELD_MAP) continue;
        char key[80];
        snprintf(key, sizeof key, "%s%s", ctx, fl[i].key);
        if (fl[i].lo < fl[i].hi)
            fprintf(f, "  %-26s %-7s [%g, %g]\n", key, tn[fl[i].type], fl[i].lo, fl[i].hi);
        else
            fprintf(f, "  %-26s %s\n", key, tn[fl[i].type]);
    }
}

void hn_experiment_print_keys(FILE *f) {
    print_fields(f, "", k_top, N_(k_top));
    for (size_t i = 0; i < N_(k_sections); i++) {
        char ctx[40];
        snprintf(ctx, sizeof ctx, "%s.", k_sections[i].key);
        print_fields(f, ctx, k_sections[i].fields, k_sections[i].n);
        if (!strcmp(k_sections[i].key, "data"))
            print_fields(f, "data.augment.", k_augment, N_(k_augment));
    }
}

/* ---- JSON dump ---------------------------------------------------------- */

hn_status hn_experiment_to_json(const hn_experiment *e, int pretty, char **out) {
    hn_jw *w = hn_jw_new(pretty);
    if (!w) return hn_fail(HN_ERR_NOMEM, "out of memory");
    hn_jw_obj_begin(w);
    hn_jw_key(w, "name"); hn_jw_str(w, e->name);
    hn_jw_key(w, "description"); hn_jw_str(w, e->description);
    hn_jw_key(w, "source"); hn_jw_str(w, e->source);
    hn_jw_key(w, "seed"); hn_jw_uint(w, e->seed);
    hn_jw_key(w, "out"); hn_jw_str(w, e->out);
    hn_jw_key(w, "init"); hn_jw_str(w, e->init);

    hn_jw_key(w, "model");
    hn_jw_obj_begin(w);
    hn_jw_key(w, "name"); hn_jw_str(w, e->model.name);
    hn_jw_key(w, "width"); hn_jw_double(w, e->model.width);
    hn_jw_key(w, "input");
    if (e->model.in_c) {
        char buf[64];
        snprintf(buf, sizeof buf, "%dx%dx%d", e->model.in_c, e->model.in_h, e->model.in_w);
        hn_jw_str(w, buf);
    } else {
        hn_jw_str(w, "auto");
    }
    hn_jw_key(w, "input_bits"); hn_jw_int(w, e->model.input_bits);
    hn_jw_obj_end(w);

    hn_jw_key(w, "data");
    hn_jw_obj_begin(w);
    hn_jw_key(w, "name"); hn_jw_str(w, e->data.name);
    hn_jw_key(w, "dir"); hn_jw_str(w, e->data.dir);
    hn_jw_key(w, "val_fraction"); hn_jw_double(w, e->data.val_fraction);
    hn_jw_key(w, "val_size"); hn_jw_int(w, e->data.val_size);
    hn_jw_key(w, "batch_size"); hn_jw_int(w, e->data.batch_size);
    hn_jw_key(w, "eval_batch_size"); hn_jw_int(w, e->data.eval_batch_size);
    hn_jw_key(w, "normalize"); hn_jw_bool(w, e->data.normalize);
    hn_jw_key(w, "augment");
    hn_jw_obj_begin(w);
    hn_jw_key(w, "crop_pad"); hn_jw_int(w, e->data.augment.crop_pad);
    hn_jw_key(w, "flip"); hn_jw_bool(w, e->data.augment.flip);
    hn_jw_obj_end(w);
    hn_jw_obj_end(w);

    hn_jw_key(w, "config");
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

    hn_jw_key(w, "quant");
    hn_jw_obj_begin(w);
    hn_jw_key(w, "weight_sharing"); hn_jw_str(w, hn_exp_sharing_name(e->quant.weight_sharing));
    hn_jw_key(w, "noise"); hn_jw_double(w, e->quant.noise);
    hn_jw_key(w, "gradual"); hn_jw_bool(w, e->quant.gradual);
    hn_jw_key(w, "weight_clamp_std"); hn_jw_double(w, e->quant.weight_clamp_std);
    hn_jw_key(w, "act_clamp_std"); hn_jw_double(w, e->quant.act_clamp_std);
    hn_jw_key(w, "learn_clamps"); hn_jw_bool(w, e->quant.learn_clamps);
    hn_jw_obj_end(w);

    hn_jw_key(w, "optim");
    hn_jw_obj_begin(w);
    hn_jw_key(w, "name"); hn_jw_str(w, hn_exp_optim_name(e->optim.name));
    hn_jw_key(w, "lr"); hn_jw_double(w, e->optim.lr);
    hn_jw_key(w, "momentum"); hn_jw_double(w, e->optim.momentum);
    hn_jw_key(w, "nesterov"); hn_jw_bool(w, e->optim.nesterov);
    hn_jw_key(w, "weight_decay"); hn_jw_double(w, e->optim.weight_decay);
    hn_jw_key(w, "grad_clip"); hn_jw_double(w, e->optim.grad_clip);
    hn_jw_key(w, "beta1"); hn_jw_double(w, e->optim.beta1);
    hn_jw_key(w, "beta2"); hn_jw_double(w, e->optim.beta2);
    hn_jw_key(w, "eps"); hn_jw_double(w, e->optim.eps);
    hn_jw_obj_end(w);

    hn_jw_key(w, "schedule");
    hn_jw_obj_begin(w);
    hn_jw_key(w, "name"); hn_jw_str(w, hn_exp_sched_name(e->schedule.name));
    hn_jw_key(w, "warmup_epochs"); hn_jw_int(w, e->schedule.warmup_epochs);
    hn_jw_key(w, "step_size"); hn_jw_int(w, e->schedule.step_size);
    hn_jw_key(w, "gamma"); hn_jw_double(w, e->schedule.gamma);
    hn_jw_key(w, "milestones");
    hn_jw_arr_begin(w);
    for (int i = 0; i < e->schedule.n_milestones; i++) hn_jw_int(w, e->schedule.milestones[i]);
    hn_jw_arr_end(w);
    hn_jw_key(w, "min_lr"); hn_jw_double(w, e->schedule.min_lr);
    hn_jw_key(w, "factor"); hn_jw_double(w, e->schedule.factor);
    hn_jw_key(w, "patience"); hn_jw_int(w, e->schedule.patience);
    hn_jw_key(w, "threshold"); hn_jw_double(w, e->schedule.threshold);
    hn_jw_obj_end(w);

    hn_jw_key(w, "train");
    hn_jw_obj_begin(w);
    hn_jw_key(w, "epochs"); hn_jw_int(w, e->train.epochs);
    hn_jw_key(w, "patience"); hn_jw_int(w, e->train.patience);
    hn_jw_key(w, "threads"); hn_jw_int(w, e->train.threads);
    hn_jw_key(w, "deterministic"); hn_jw_bool(w, e->train.deterministic);
    hn_jw_key(w, "eval_every"); hn_jw_int(w, e->train.eval_every);
    hn_jw_key(w, "checkpoint_every"); hn_jw_int(w, e->train.checkpoint_every);
    hn_jw_key(w, "keep_checkpoints"); hn_jw_int(w, e->train.keep_checkpoints);
    hn_jw_key(w, "log_every"); hn_jw_int(w, e->train.log_every);
    hn_jw_key(w, "max_batches"); hn_jw_int(w, e->train.max_batches);
    hn_jw_obj_end(w);

    hn_jw_key(w, "slim");
    hn_jw_obj_begin(w);
    hn_jw_key(w, "widths");
    hn_jw_arr_begin(w);
    for (int i = 0; i < e->slim.n_widths; i++) hn_jw_double(w, e->slim.widths[i]);
    hn_jw_arr_end(w);
    hn_jw_key(w, "recalib_batches"); hn_jw_int(w, e->slim.recalib_batches);
    hn_jw_obj_end(w);
    hn_jw_obj_end(w);

    hn_status s = hn_jw_status(w);
    if (s == HN_OK) {
        *out = strdup(hn_jw_data(w, NULL));
        if (!*out) s = hn_fail(HN_ERR_NOMEM, "out of memory");
    }
    hn_jw_free(w);
    return s;
}
