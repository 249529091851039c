/* YAML/JSON documents as node trees (libyaml event parser), typed accessors
 * and schema checks with file:line:key messages. */
#include "hetnas/doc.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "hetnas/fileio.h"
#include "hetnas/str.h"

struct hn_node {
    hn_node_kind kind;
    int line;
    bool quoted;
    char *text;       /* scalar */
    size_t n, cap;    /* items (seq) or pairs (map) */
    hn_node **items;  /* seq items or map values */
    char **keys;      /* map keys */
    hn_node *next_alloc;
};

struct hn_doc {
    char *name;
    hn_node *root;
    hn_node *allocs; /* every node, for freeing */
};

static hn_node *node_new(hn_doc *d, hn_node_kind kind, int line) {
    hn_node *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->kind = kind;
    n->line = line;
    n->next_alloc = d->allocs;
    d->allocs = n;
    return n;
}

static int node_push(hn_node *parent, char *key, hn_node *child) {
    if (parent->n == parent->cap) {
        size_t cap = parent->cap ? parent->cap * 2 : 8;
        hn_node **it = realloc(parent->items, cap * sizeof *it);
        if (!it) return -1;
        parent->items = it;
        if (parent->kind == HN_NODE_MAP) {
            char **k = realloc(parent->keys, cap * sizeof *k);
            if (!k) return -1;
            parent->keys = k;
        }
        parent->cap = cap;
    }
    if (parent->kind == HN_NODE_MAP) parent->keys[parent->n] = key;
    parent->items[parent->n++] = child;
    return 0;
}

void hn_doc_free(hn_doc *d) {
    if (!d) return;
    hn_node *n = d->allocs;
    while (n) {
        hn_node *next = n->next_alloc;
        if (n->kind == HN_NODE_MAP)
            for (size_t i = 0; i < n->n; i++) free(n->keys[i]);
        free(n->keys);
        free(n->items);
        free(n->text);
        free(n);
        n = next;
    }
    free(d->name);
    free(d);
}

#define DOC_MAX_DEPTH 64

/* Builds the tree from libyaml events with an explicit stack (no recursion
 * on untrusted depth). */
static hn_status build(hn_doc *d, yaml_parser_t *p) {
    hn_node *stack[DOC_MAX_DEPTH];
    char *pending_key[DOC_MAX_DEPTH]; /* map awaiting a value for this key */
    int depth = 0, docs = 0;
    hn_status st = HN_OK;
    memset(pending_key, 0, sizeof pending_key);
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(p, &ev)) {
            st = hn_fail(HN_ERR_PARSE, "%s:%zu:%zu: %s%s%s", d->name,
                         p->problem_mark.line + 1, p->problem_mark.column + 1,
                         p->problem ? p->problem : "syntax error",
                         p->context ? " " : "", p->context ? p->context : "");
            break;
        }
        int line = (int)ev.start_mark.line + 1;
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (t == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
            st = hn_fail(HN_ERR_PARSE, "%s:%d: more than one document",
                         d->name, line);
            yaml_event_delete(&ev);
            break;
        }
        if (t == YAML_ALIAS_EVENT) {
            st = hn_fail(HN_ERR_PARSE, "%s:%d: aliases (*name) are not "
                         "supported", d->name, line);
            yaml_event_delete(&ev);
            break;
        }
        hn_node *made = NULL;
        if (t == YAML_SCALAR_EVENT || t == YAML_SEQUENCE_START_EVENT ||
            t == YAML_MAPPING_START_EVENT) {
            hn_node *parent = depth ? stack[depth - 1] : NULL;
            /* A scalar in key position of a mapping is a key. */
            if (parent && parent->kind == HN_NODE_MAP && !pending_key[depth - 1]) {
                if (t != YAML_SCALAR_EVENT) {
                    st = hn_fail(HN_ERR_PARSE, "%s:%d: mapping keys must be "
                                 "plain scalars", d->name, line);
                    yaml_event_delete(&ev);
                    break;
                }
                const char *k = (const char *)ev.data.scalar.value;
                for (size_t i = 0; i < parent->n; i++)
                    if (!strcmp(parent->keys[i], k)) {
                        st = hn_fail(HN_ERR_SCHEMA, "%s:%d: duplicate key '%s'",
                                     d->name, line, k);
                        break;
                    }
                if (st != HN_OK) {
                    yaml_event_delete(&ev);
                    break;
                }
                pending_key[depth - 1] = strdup(k);
                yaml_event_delete(&ev);
                if (!pending_key[depth - 1]) {
                    st = hn_fail(HN_ERR_NOMEM, "out of memory");
                    break;
                }
                continue;
            }
            hn_node_kind kind = t == YAML_SCALAR_EVENT ? HN_NODE_SCALAR
                                : t == YAML_SEQUENCE_START_EVENT ? HN_NODE_SEQ
                                                                 : HN_NODE_MAP;
            made = node_new(d, kind, line);
            if (!made) {
                st = hn_fail(HN_ERR_NOMEM, "out of memory");
                yaml_event_delete(&ev);
                break;
            }
            if (kind == HN_NODE_SCALAR) {
                made->text = strdup((const char *)ev.data.scalar.value);
                made->quoted = ev.data.scalar.style ==
                                   YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                               ev.data.scalar.style ==
                                   YAML_DOUBLE_QUOTED_SCALAR_STYLE;
                if (!made->text) {
                    st = hn_fail(HN_ERR_NOMEM, "out of memory");
                    yaml_event_delete(&ev);
                    break;
                }
            }
            if (!parent) {
                d->root = made;
            } else {
                char *key = NULL;
                if (parent->kind == HN_NODE_MAP) {
                    key = pending_key[depth - 1];
                    pending_key[depth - 1] = NULL;
                }
                if (node_push(parent, key, made) != 0) {
                    free(key);
                    st = hn_fail(HN_ERR_NOMEM, "out of memory");
                    yaml_event_delete(&ev);
                    break;
                }
            }
            if (kind != HN_NODE_SCALAR) {
                if (depth >= DOC_MAX_DEPTH) {
                    st = hn_fail(HN_ERR_PARSE, "%s:%d: nesting deeper than %d",
                                 d->name, line, DOC_MAX_DEPTH);
                    yaml_event_delete(&ev);
                    break;
                }
                stack[depth++] = made;
            }
        } else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
            if (depth > 0) depth--;
        }
        yaml_event_delete(&ev);
    }
    for (int i = 0; i < DOC_MAX_DEPTH; i++) free(pending_key[i]);
    if (st == HN_OK && !d->root)
        st = hn_fail(HN_ERR_PARSE, "%s: empty document", d->name);
    return st;
}

hn_status hn_doc_load_string(const char *text, size_t len, const char *name,
                             hn_doc **out) {
    *out = NULL;
    hn_doc *d = calloc(1, sizeof *d);
    if (!d) return hn_fail(HN_ERR_NOMEM, "out of memory");
    d->name = strdup(name ? name : "<string>");
    if (!d->name) {
        free(d);
        return hn_fail(HN_ERR_NOMEM, "out of memory");
    }
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        hn_doc_free(d);
        return hn_fail(HN_ERR_NOMEM, "yaml parser init failed");
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    hn_status st = build(d, &p);
    yaml_parser_delete(&p);
    if (st != HN_OK) {
        hn_doc_free(d);
        return st;
    }
    *out = d;
    return HN_OK;
}

hn_status hn_doc_load_file(const char *path, hn_doc **out) {
    return hn_doc_load_file_max(path, HN_FILE_MAX_JSON, out);
}

hn_status hn_doc_load_file_max(const char *path, size_t max_bytes,
                               hn_doc **out) {
    char *buf;
    size_t len;
    *out = NULL;
    HN_TRY(hn_file_read_max(path, max_bytes, &buf, &len));
    if (memchr(buf, '\0', len)) {
        free(buf);
        return hn_fail(HN_ERR_PARSE, "%s: binary data (NUL byte) in a text "
                       "file", path);
    }
    hn_status st = hn_doc_load_string(buf, len, path, out);
    free(buf);
    return st;
}

const hn_node *hn_doc_root(const hn_doc *d) { return d->root; }
const char *hn_doc_name(const hn_doc *d) { return d->name; }
hn_node_kind hn_node_kind_of(const hn_node *n) { return n->kind; }
int hn_node_line(const hn_node *n) { return n->line; }
size_t hn_node_len(const hn_node *n) {
    return n->kind == HN_NODE_SCALAR ? 0 : n->n;
}
const hn_node *hn_node_at(const hn_node *seq, size_t i) {
    return seq->kind == HN_NODE_SEQ && i < seq->n ? seq->items[i] : NULL;
}
const char *hn_node_key_at(const hn_node *map, size_t i) {
    return map->kind == HN_NODE_MAP && i < map->n ? map->keys[i] : NULL;
}
const hn_node *hn_node_val_at(const hn_node *map, size_t i) {
    return map->kind == HN_NODE_MAP && i < map->n ? map->items[i] : NULL;
}
const hn_node *hn_node_get(const hn_node *map, const char *key) {
    if (!map || map->kind != HN_NODE_MAP) return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (!strcmp(map->keys[i], key)) return map->items[i];
    return NULL;
}
const char *hn_node_str(const hn_node *n) {
    return n && n->kind == HN_NODE_SCALAR ? n->text : NULL;
}
bool hn_node_quoted(const hn_node *n) { return n && n->quoted; }

static const char *kind_name(hn_node_kind k) {
    return k == HN_NODE_SCALAR ? "a scalar"
           : k == HN_NODE_SEQ  ? "a list"
                               : "a mapping";
}

hn_status hn_node_expect(const hn_doc *d, const hn_node *n, const char *what,
                         hn_node_kind kind) {
    if (n->kind != kind)
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: %s: expected %s, got %s",
                       d->name, n->line, what, kind_name(kind),
                       kind_name(n->kind));
    return HN_OK;
}

hn_status hn_node_as_int(const hn_doc *d, const hn_node *n, const char *what,
                         int64_t lo, int64_t hi, int64_t *out) {
    if (n->kind != HN_NODE_SCALAR || n->quoted)
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: %s: expected an integer, got %s",
                       d->name, n->line, what,
                       n->kind != HN_NODE_SCALAR ? kind_name(n->kind)
                                                 : "a quoted string");
    const char *s = n->text;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno == ERANGE)
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: %s: expected an integer, got "
                       "'%s'", d->name, n->line, what, s);
    if (v < lo || v > hi)
        return hn_fail(HN_ERR_RANGE, "%s:%d: %s: %lld is out of range [%lld, "
                       "%lld]", d->name, n->line, what, v, (long long)lo,
                       (long long)hi);
    *out = v;
    return HN_OK;
}

hn_status hn_node_as_double(const hn_doc *d, const hn_node *n,
                            const char *what, double lo, double hi,
                            double *out) {
    if (n->kind != HN_NODE_SCALAR || n->quoted)
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: %s: expected a number, got %s",
                       d->name, n->line, what,
                       n->kind != HN_NODE_SCALAR ? kind_name(n->kind)
                                                 : "a quoted string");
    const char *s = n->text;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno == ERANGE || !isfinite(v))
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: %s: expected a finite number, "
                       "got '%s'", d->name, n->line, what, s);
    if (v < lo || v > hi)
        return hn_fail(HN_ERR_RANGE, "%s:%d: %s: %g is out of range [%g, %g]",
                       d->name, n->line, what, v, lo, hi);
    *out = v;
    return HN_OK;
}

hn_status hn_node_as_bool(const hn_doc *d, const hn_node *n, const char *what,
                          bool *out) {
    if (n->kind == HN_NODE_SCALAR && !n->quoted) {
        if (!strcasecmp(n->text, "true")) {
            *out = true;
            return HN_OK;
        }
        if (!strcasecmp(n->text, "false")) {
            *out = false;
            return HN_OK;
        }
    }
    return hn_fail(HN_ERR_SCHEMA, "%s:%d: %s: expected true or false, got "
                   "'%s'", d->name, n->line, what,
                   n->kind == HN_NODE_SCALAR ? n->text : kind_name(n->kind));
}

hn_status hn_node_as_str(const hn_doc *d, const hn_node *n, const char *what,
                         const char **out) {
    HN_TRY(hn_node_expect(d, n, what, HN_NODE_SCALAR));
    *out = n->text;
    return HN_OK;
}

hn_status hn_node_as_int_array(const hn_doc *d, const hn_node *n,
                               const char *what, int64_t lo, int64_t hi,
                               int64_t *out, size_t cap, size_t *n_out) {
    HN_TRY(hn_node_expect(d, n, what, HN_NODE_SEQ));
    if (n->n > cap)
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: %s: %zu items, at most %zu "
                       "allowed", d->name, n->line, what, n->n, cap);
    char item[128];
    for (size_t i = 0; i < n->n; i++) {
        snprintf(item, sizeof item, "%s[%zu]", what, i);
        HN_TRY(hn_node_as_int(d, n->items[i], item, lo, hi, &out[i]));
    }
    *n_out = n->n;
    return HN_OK;
}

static const char *type_name(hn_field_type t) {
    switch (t) {
    case HN_FIELD_INT: return "an integer";
    case HN_FIELD_FLOAT: return "a number";
    case HN_FIELD_BOOL: return "true or false";
    case HN_FIELD_STRING: return "a string";
    case HN_FIELD_SEQ: return "a list";
    case HN_FIELD_MAP: return "a mapping";
    default: return "a value";
    }
}

hn_status hn_schema_check(const hn_doc *d, const hn_node *map, const char *ctx,
                          const hn_field *fields, size_t n) {
    if (map->kind != HN_NODE_MAP)
        return hn_fail(HN_ERR_SCHEMA, "%s:%d: %s: expected a mapping, got %s",
                       d->name, map->line, ctx && *ctx ? ctx : "document",
                       kind_name(map->kind));
    for (size_t i = 0; i < map->n; i++) {
        const char *key = map->keys[i];
        const hn_node *v = map->items[i];
        const hn_field *f = NULL;
        for (size_t j = 0; j < n; j++)
            if (!strcmp(fields[j].key, key)) f = &fields[j];
        if (!f) {
            const char *best = NULL;
            int bd = 3;
            for (size_t j = 0; j < n; j++) {
                int e = hn_str_edit_distance(key, fields[j].key);
                if (e < bd) {
                    bd = e;
                    best = fields[j].key;
                }
            }
            if (best)
                return hn_fail(HN_ERR_SCHEMA, "%s:%d: unknown key '%s%s' (did "
                               "you mean '%s%s'?)", d->name, v->line, ctx, key,
                               ctx, best);
            char known[512] = "";
            for (size_t j = 0; j < n; j++) {
                if (j) strncat(known, ", ", sizeof known - strlen(known) - 1);
                strncat(known, fields[j].key, sizeof known - strlen(known) - 1);
            }
            return hn_fail(HN_ERR_SCHEMA, "%s:%d: unknown key '%s%s' (known "
                           "keys: %s)", d->name, v->line, ctx, key, known);
        }
        char what[160];
        snprintf(what, sizeof what, "%s%s", ctx, key);
        bool ranged = f->lo < f->hi;
        switch (f->type) {
        case HN_FIELD_INT: {
            int64_t x;
            HN_TRY(hn_node_as_int(d, v, what, ranged ? (int64_t)f->lo : INT64_MIN,
                                  ranged ? (int64_t)f->hi : INT64_MAX, &x));
            break;
        }
        case HN_FIELD_FLOAT: {
            double x;
            HN_TRY(hn_node_as_double(d, v, what, ranged ? f->lo : -HUGE_VAL,
                                     ranged ? f->hi : HUGE_VAL, &x));
            break;
        }
        case HN_FIELD_BOOL: {
            bool x;
            HN_TRY(hn_node_as_bool(d, v, what, &x));
            break;
        }
        case HN_FIELD_STRING:
            if (v->kind != HN_NODE_SCALAR)
                return hn_fail(HN_ERR_SCHEMA, "%s:%d: %s: expected %s, got %s",
                               d->name, v->line, what, type_name(f->type),
                               kind_name(v->kind));
            break;
        case HN_FIELD_SEQ:
            HN_TRY(hn_node_expect(d, v, what, HN_NODE_SEQ));
            break;
        case HN_FIELD_MAP:
            HN_TRY(hn_node_expect(d, v, what, HN_NODE_MAP));
            break;
        default:
            break;
        }
    }
    for (size_t j = 0; j < n; j++)
        if (fields[j].required && !hn_node_get(map, fields[j].key))
            return hn_fail(HN_ERR_SCHEMA, "%s:%d: missing required key '%s%s' "
                           "(%s)", d->name, map->line, ctx, fields[j].key,
                           type_name(fields[j].type));
    return HN_OK;
}
