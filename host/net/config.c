/* Network configurations: op set + per-layer filter counts, the YAML file
 * format (docs/formats.md) and the activation bits each layer sees. */
#include "hetnas/config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/doc.h"
#include "hetnas/fileio.h"

struct hn_config {
    int n_layers, n_ops;
    hn_op ops[HN_MAX_OPS];
    int *counts; /* (n_layers, n_ops) */
    int *c_out;  /* (n_layers) full filter count, for bounds */
};

static bool bits_ok(int b) { return (b >= 1 && b <= HN_BITS_MAX) || b == HN_BITS_FP; }

static hn_status check_op(hn_op op, int t) {
    if (!bits_ok(op.wbits))
        return hn_fail(HN_ERR_RANGE, "ops[%d]: weight bits %d out of range "
                       "1..%d", t, op.wbits, HN_BITS_MAX);
    if (!bits_ok(op.abits))
        return hn_fail(HN_ERR_RANGE, "ops[%d]: activation bits %d out of range "
                       "1..%d", t, op.abits, HN_BITS_MAX);
    return HN_OK;
}

hn_status hn_config_new(const hn_arch *a, int n_ops, const hn_op *ops,
                        const int *counts, hn_config **out) {
    *out = NULL;
    if (n_ops < 1 || n_ops > HN_MAX_OPS)
        return hn_fail(HN_ERR_RANGE, "ops: %d ops, expected 1..%d", n_ops,
                       HN_MAX_OPS);
    for (int t = 0; t < n_ops; t++) HN_TRY(check_op(ops[t], t));
    int L = hn_arch_n_layers(a);
    for (int l = 0; l < L; l++) {
        const hn_layer_desc *d = hn_arch_layer(a, l);
        long sum = 0;
        for (int t = 0; t < n_ops; t++) {
            int c = counts[l * n_ops + t];
            if (c < 0 || c > d->c_out)
                return hn_fail(HN_ERR_RANGE, "layer %s: count %d for op %d "
                               "out of range 0..%d", d->name, c, t, d->c_out);
            sum += c;
        }
        if (sum < 1 || sum > d->c_out)
            return hn_fail(HN_ERR_RANGE, "layer %s: counts sum to %ld, expected "
                           "1..%d (the layer's filter count; less prunes)",
                           d->name, sum, d->c_out);
    }
    hn_config *c = calloc(1, sizeof *c);
    if (!c) return hn_fail(HN_ERR_NOMEM, "out of memory");
    c->n_layers = L;
    c->n_ops = n_ops;
    memcpy(c->ops, ops, (size_t)n_ops * sizeof *ops);
    c->counts = malloc((size_t)L * (size_t)n_ops * sizeof(int));
    c->c_out = malloc((size_t)L * sizeof(int));
    if (!c->counts || !c->c_out) {
        hn_config_free(c);
        return hn_fail(HN_ERR_NOMEM, "out of memory");
    }
    memcpy(c->counts, counts, (size_t)L * (size_t)n_ops * sizeof(int));
    for (int l = 0; l < L; l++) c->c_out[l] = hn_arch_layer(a, l)->c_out;
    *out = c;
    return HN_OK;
}

hn_status hn_config_widths(const hn_arch *a, const int *widths, hn_op op,
                           hn_config **out) {
    int L = hn_arch_n_layers(a);
    for (int l = 0; l < L; l++) {
        const hn_layer_desc *d = hn_arch_layer(a, l);
        if (widths[l] < 1 || widths[l] > d->c_out)
            return hn_fail(HN_ERR_RANGE, "layer %s: width %d out of range "
                           "1..%d", d->name, widths[l], d->c_out);
    }
    return hn_config_new(a, 1, &op, widths, out);
}

hn_status hn_config_homogeneous(const hn_arch *a, hn_op op, hn_config **out) {
    int L = hn_arch_n_layers(a);
    int *w = malloc((size_t)L * sizeof(int));
    if (!w) return hn_fail(HN_ERR_NOMEM, "out of memory");
    for (int l = 0; l < L; l++) w[l] = hn_arch_layer(a, l)->c_out;
    hn_status s = hn_config_new(a, 1, &op, w, out);
    free(w);
    return s;
}

hn_status hn_config_width_mult(const hn_arch *a, double r, hn_op op,
                               hn_config **out) {
    *out = NULL;
    if (!(r > 0.0 && r <= 1.0))
        return hn_fail(HN_ERR_RANGE, "width_mult %g: must be in (0, 1]", r);
    int L = hn_arch_n_layers(a);
    int *w = malloc((size_t)L * sizeof(int));
    if (!w) return hn_fail(HN_ERR_NOMEM, "out of memory");
    for (int l = 0; l < L; l++) {
        /* int(C * r) as the reference code; the epsilon keeps 0.75 * 16
         * from becoming 11.999... */
        int k = (int)floor(hn_arch_layer(a, l)->c_out * r + 1e-9);
        w[l] = k < 1 ? 1 : k;
    }
    hn_status s = hn_config_new(a, 1, &op, w, out);
    free(w);
    return s;
}

hn_config *hn_config_clone(const hn_config *c) {
    hn_config *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    *d = *c;
    size_t nc = (size_t)c->n_layers * (size_t)c->n_ops;
    d->counts = malloc(nc * sizeof(int));
    d->c_out = malloc((size_t)c->n_layers * sizeof(int));
    if (!d->counts || !d->c_out) {
        free(d->counts);
        free(d->c_out);
        free(d);
        return NULL;
    }
    memcpy(d->counts, c->counts, nc * sizeof(int));
    memcpy(d->c_out, c->c_out, (size_t)c->n_layers * sizeof(int));
    return d;
}

void hn_config_free(hn_config *c) {
    if (!c) return;
    free(c->counts);
    free(c->c_out);
    free(c);
}

int hn_config_n_layers(const hn_config *c) { return c->n_layers; }
int hn_config_n_ops(const hn_config *c) { return c->n_ops; }

hn_op hn_config_op(const hn_config *c, int t) {
    HN_ASSERT(t >= 0 && t < c->n_ops);
    return c->ops[t];
}

int hn_config_count(const hn_config *c, int layer, int t) {
    HN_ASSERT(layer >= 0 && layer < c->n_layers && t >= 0 && t < c->n_ops);
    return c->counts[layer * c->n_ops + t];
}

void hn_config_set_count(hn_config *c, int layer, int t, int count) {
    HN_ASSERT(layer >= 0 && layer < c->n_layers && t >= 0 && t < c->n_ops);
    HN_ASSERT(count >= 0 && count <= c->c_out[layer]);
    c->counts[layer * c->n_ops + t] = count;
}

int hn_config_width(const hn_config *c, int layer) {
    HN_ASSERT(layer >= 0 && layer < c->n_layers);
    int s = 0;
    for (int t = 0; t < c->n_ops; t++) s += c->counts[layer * c->n_ops + t];
    return s;
}

int hn_config_filter_op(const hn_config *c, int layer, int f) {
    HN_ASSERT(layer >= 0 && layer < c->n_layers);
    int end = 0;
    for (int t = 0; t < c->n_ops; t++) {
        end += c->counts[layer * c->n_ops + t];
        if (f < end) return t;
    }
    return -1;
}

/* Fills bits[0..c_out-1] of a layer's output channels with their filters'
 * b_a (0 past the active width). */
static void layer_out_bits(const hn_config *c, const hn_arch *a, int layer,
                           int *bits) {
    int C = hn_arch_layer(a, layer)->c_out;
    for (int f = 0; f < C; f++) {
        int t = hn_config_filter_op(c, layer, f);
        bits[f] = t < 0 ? 0 : c->ops[t].abits;
    }
}

/* Channel bits of block b's output (length = the block's full width). */
static hn_status block_out_bits(const hn_config *c, const hn_arch *a, int b,
                                int input_bits, int *bits);

/* Channel bits of the tensor entering block b. */
static hn_status block_in_bits(const hn_config *c, const hn_arch *a, int b,
                               int input_bits, int *bits) {
    if (b == 0) {
        layer_out_bits(c, a, 0, bits); /* the stem's output */
        return HN_OK;
    }
    return block_out_bits(c, a, b - 1, input_bits, bits);
}

static hn_status block_out_bits(const hn_config *c, const hn_arch *a, int b,
                                int input_bits, int *bits) {
    int conv1, conv2, down;
    hn_arch_block_layers(a, b, &conv1, &conv2, &down);
    int C = hn_arch_layer(a, conv2)->c_out;
    int *sc = malloc((size_t)C * sizeof(int));
    if (!sc) return hn_fail(HN_ERR_NOMEM, "out of memory");
    if (down >= 0) {
        layer_out_bits(c, a, down, sc);
    } else {
        hn_status s = block_in_bits(c, a, b, input_bits, sc);
        if (s != HN_OK) {
            free(sc);
            return s;
        }
    }
    int w2 = hn_config_width(c, conv2);
    layer_out_bits(c, a, conv2, bits);
    /* Past conv2's width the add keeps the shortcut's channel (DESIGN.md
     * "Pruned widths"): it carries the shortcut's bits. */
    for (int ch = w2; ch < C; ch++) bits[ch] = sc[ch];
    free(sc);
    return HN_OK;
}

hn_status hn_config_input_bits(const hn_config *c, const hn_arch *a,
                               int layer, int input_bits, int *bits) {
    const hn_layer_desc *d = hn_arch_layer(a, layer);
    if (d->role == HN_ROLE_STEM) {
        for (int ch = 0; ch < d->c_in; ch++) bits[ch] = input_bits;
        return HN_OK;
    }
    if (d->role == HN_ROLE_CONV2) {
        layer_out_bits(c, a, layer - 1, bits); /* conv1 of the same block */
        return HN_OK;
    }
    /* conv1 and down read the block input. */
    int nb = hn_arch_n_blocks(a);
    for (int b = 0; b < nb; b++) {
        int c1, c2, dn;
        hn_arch_block_layers(a, b, &c1, &c2, &dn);
        if (c1 == layer || dn == layer)
            return block_in_bits(c, a, b, input_bits, bits);
    }
    return hn_fail(HN_ERR_INTERNAL, "layer %s has no block", d->name);
}

hn_status hn_config_fc_input_bits(const hn_config *c, const hn_arch *a,
                                  int input_bits, int *bits) {
    return block_out_bits(c, a, hn_arch_n_blocks(a) - 1, input_bits, bits);
}

/* ---- YAML ----------------------------------------------------------------*/

static hn_status read_op(const hn_doc *d, const hn_node *n, const char *what,
                         hn_op *op) {
    int64_t v[2];
    HN_TRY(hn_node_expect(d, n, what, HN_NODE_SEQ));
    if (hn_node_len(n) != 2)
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: %s: expected [b_w, b_a], got %zu "
                       "items", hn_doc_name(d), hn_node_line(n), what,
                       hn_node_len(n));
    char item[64];
    snprintf(item, sizeof item, "%s (weight bits)", what);
    HN_TRY(hn_node_as_int(d, hn_node_at(n, 0), item, 1, HN_BITS_MAX, &v[0]));
    snprintf(item, sizeof item, "%s (activation bits)", what);
    HN_TRY(hn_node_as_int(d, hn_node_at(n, 1), item, 1, HN_BITS_MAX, &v[1]));
    op->wbits = (int)v[0];
    op->abits = (int)v[1];
    return HN_OK;
}

static const hn_field k_config_fields[] = {
    {"model", HN_FIELD_STRING, false, 0, 0},
    {"ops", HN_FIELD_SEQ, false, 0, 0},
    {"layers", HN_FIELD_SEQ, false, 0, 0},
    {"homogeneous", HN_FIELD_SEQ, false, 0, 0},
    {"widths", HN_FIELD_SEQ, false, 0, 0},
    {"width_mult", HN_FIELD_FLOAT, false, 0, 0},
};

static hn_status config_from_doc(const hn_doc *d, const hn_arch *a,
                                 hn_config **out) {
    const hn_node *root = hn_doc_root(d);
    const char *name = hn_doc_name(d);
    HN_TRY(hn_schema_check(d, root, "", k_config_fields,
                           sizeof k_config_fields / sizeof k_config_fields[0]));
    const hn_node *model = hn_node_get(root, "model");
    const hn_node *ops_n = hn_node_get(root, "ops");
    const hn_node *layers_n = hn_node_get(root, "layers");
    const hn_node *homo_n = hn_node_get(root, "homogeneous");
    const hn_node *widths_n = hn_node_get(root, "widths");
    const hn_node *wm_n = hn_node_get(root, "width_mult");
    int L = hn_arch_n_layers(a);

    if (model && strcmp(hn_node_str(model), hn_arch_model_name(a)) != 0)
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: model: the file is for '%s' but "
                       "the model is '%s'", name, hn_node_line(model),
                       hn_node_str(model), hn_arch_model_name(a));
    if (layers_n && (homo_n || widths_n || wm_n))
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: 'layers' cannot be combined with "
                       "'homogeneous', 'widths' or 'width_mult'", name,
                       hn_node_line(layers_n));
    if (widths_n && wm_n)
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: give either 'widths' or "
                       "'width_mult', not both", name, hn_node_line(wm_n));
    if (layers_n && !ops_n)
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: 'layers' needs 'ops' (the op "
                       "list its counts refer to)", name,
                       hn_node_line(layers_n));
    if (ops_n && !layers_n)
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: 'ops' given without 'layers' "
                       "(use 'homogeneous: [b_w, b_a]' for one op)", name,
                       hn_node_line(ops_n));
    if (!layers_n && !homo_n && !widths_n && !wm_n)
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: empty configuration: give "
                       "'ops' + 'layers', 'homogeneous', 'widths' or "
                       "'width_mult'", name, hn_node_line(root));

    if (layers_n) {
        hn_op ops[HN_MAX_OPS];
        size_t T = hn_node_len(ops_n);
        if (T < 1 || T > HN_MAX_OPS)
            return hn_fail(HN_ERR_SCHEMA, "%s:%d: ops: %zu ops, expected "
                           "1..%d", name, hn_node_line(ops_n), T, HN_MAX_OPS);
        char what[64];
        for (size_t t = 0; t < T; t++) {
            snprintf(what, sizeof what, "ops[%zu]", t);
            HN_TRY(read_op(d, hn_node_at(ops_n, t), what, &ops[t]));
        }
        if (hn_node_len(layers_n) != (size_t)L)
            return hn_fail(HN_ERR_SCHEMA, "%s:%d: layers: %zu rows, but %s has "
                           "%d searchable layers (one row each, canonical "
                           "order: see `hetnas layers`)", name,
                           hn_node_line(layers_n), hn_node_len(layers_n),
                           hn_arch_model_name(a), L);
        int *counts = malloc((size_t)L * T * sizeof(int));
        if (!counts) return hn_fail(HN_ERR_NOMEM, "out of memory");
        hn_status st = HN_OK;
        for (int l = 0; l < L && st == HN_OK; l++) {
            const hn_layer_desc *ld = hn_arch_layer(a, l);
            const hn_node *row = hn_node_at(layers_n, (size_t)l);
            int64_t v[HN_MAX_OPS];
            size_t got;
            snprintf(what, sizeof what, "layers[%d] (%s)", l, ld->name);
            st = hn_node_as_int_array(d, row, what, 0, ld->c_out, v,
                                      HN_MAX_OPS, &got);
            if (st != HN_OK) break;
            if (got != T) {
                st = hn_fail(HN_ERR_SCHEMA, "%s:%d: %s: %zu counts, expected "
                             "%zu (one per op)", name, hn_node_line(row), what,
                             got, T);
                break;
            }
            int64_t sum = 0;
            for (size_t t = 0; t < T; t++) {
                counts[(size_t)l * T + t] = (int)v[t];
                sum += v[t];
            }
            if (sum != ld->c_out)
                st = hn_fail(HN_ERR_SCHEMA, "%s:%d: %s: counts sum to %lld, "
                             "expected %d (the layer's filter count)", name,
                             hn_node_line(row), what, (long long)sum,
                             ld->c_out);
        }
        if (st == HN_OK) st = hn_config_new(a, (int)T, ops, counts, out);
        free(counts);
        return st;
    }

    hn_op op = {HN_BITS_FP, HN_BITS_FP};
    if (homo_n) HN_TRY(read_op(d, homo_n, "homogeneous", &op));
    if (widths_n) {
        if (hn_node_len(widths_n) != (size_t)L)
            return hn_fail(HN_ERR_SCHEMA, "%s:%d: widths: %zu values, but %s "
                           "has %d searchable layers", name,
                           hn_node_line(widths_n), hn_node_len(widths_n),
                           hn_arch_model_name(a), L);
        int *w = malloc((size_t)L * sizeof(int));
        if (!w) return hn_fail(HN_ERR_NOMEM, "out of memory");
        hn_status st = HN_OK;
        for (int l = 0; l < L && st == HN_OK; l++) {
            const hn_layer_desc *ld = hn_arch_layer(a, l);
            char what[64];
            int64_t v;
            snprintf(what, sizeof what, "widths[%d] (%s)", l, ld->name);
            st = hn_node_as_int(d, hn_node_at(widths_n, (size_t)l), what, 1,
                                ld->c_out, &v);
            w[l] = (int)v;
        }
        if (st == HN_OK) st = hn_config_widths(a, w, op, out);
        free(w);
        return st;
    }
    if (wm_n) {
        double r;
        HN_TRY(hn_node_as_double(d, wm_n, "width_mult", 1e-9, 1.0, &r));
        return hn_config_width_mult(a, r, op, out);
    }
    return hn_config_homogeneous(a, op, out);
}

hn_status hn_config_load_string(const char *text, const char *name,
                                const hn_arch *a, hn_config **out) {
    hn_doc *d;
    *out = NULL;
    HN_TRY(hn_doc_load_string(text, strlen(text), name, &d));
    hn_status s = config_from_doc(d, a, out);
    hn_doc_free(d);
    return s;
}

hn_status hn_config_load(const char *path, const hn_arch *a, hn_config **out) {
    hn_doc *d;
    *out = NULL;
    HN_TRY(hn_doc_load_file_max(path, HN_FILE_MAX_YAML, &d));
    hn_status s = config_from_doc(d, a, out);
    hn_doc_free(d);
    return s;
}

static bool is_pruned(const hn_config *c);

hn_status hn_config_save(const hn_config *c, const hn_arch *a,
                         const char *path) {
    bool fp = c->ops[0].wbits == HN_BITS_FP || c->ops[0].abits == HN_BITS_FP;
    for (int t = 1; t < c->n_ops; t++)
        if (c->ops[t].wbits == HN_BITS_FP || c->ops[t].abits == HN_BITS_FP)
            return hn_fail(HN_ERR_UNSUPPORTED, "%s: a full-precision op mixed "
                           "with quantized ops cannot be written", path);
    bool widths_form = c->n_ops == 1 && (fp || is_pruned(c));
    if (!widths_form && is_pruned(c))
        return hn_fail(HN_ERR_UNSUPPORTED, "%s: a pruned configuration with "
                       "several ops cannot be written ('layers' rows sum to "
                       "the full filter count)", path);
    size_t cap = 256 + (size_t)c->n_layers * (size_t)(c->n_ops * 8 + 48);
    char *buf = malloc(cap);
    if (!buf) return hn_fail(HN_ERR_NOMEM, "out of memory");
    size_t n = 0;
    n += (size_t)snprintf(buf + n, cap - n, "model: %s\n",
                          hn_arch_model_name(a));
    if (widths_form) {
        if (!fp)
            n += (size_t)snprintf(buf + n, cap - n, "homogeneous: [%d, %d]\n",
                                  c->ops[0].wbits, c->ops[0].abits);
        n += (size_t)snprintf(buf + n, cap - n, "widths:\n");
        for (int l = 0; l < c->n_layers; l++)
            n += (size_t)snprintf(buf + n, cap - n, "  - %d  # %s\n",
                                  c->counts[l], hn_arch_layer(a, l)->name);
        hn_status s = hn_file_write_atomic(path, buf, n);
        free(buf);
        return s;
    }
    n += (size_t)snprintf(buf + n, cap - n, "ops: [");
    for (int t = 0; t < c->n_ops; t++)
        n += (size_t)snprintf(buf + n, cap - n, "%s[%d, %d]", t ? ", " : "",
                              c->ops[t].wbits, c->ops[t].abits);
    n += (size_t)snprintf(buf + n, cap - n, "]\nlayers:\n");
    for (int l = 0; l < c->n_layers; l++) {
        n += (size_t)snprintf(buf + n, cap - n, "  - [");
        for (int t = 0; t < c->n_ops; t++)
            n += (size_t)snprintf(buf + n, cap - n, "%s%d", t ? ", " : "",
                                  c->counts[l * c->n_ops + t]);
        n += (size_t)snprintf(buf + n, cap - n, "]  # %s\n",
                              hn_arch_layer(a, l)->name);
    }
    hn_status s = hn_file_write_atomic(path, buf, n);
    free(buf);
    return s;
}

/* True when some layer keeps fewer filters than it has. */
static bool is_pruned(const hn_config *c) {
    for (int l = 0; l < c->n_layers; l++)
        if (hn_config_width(c, l) != c->c_out[l]) return true;
    return false;
}
