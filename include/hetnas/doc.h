/* Reading YAML (and JSON, which libyaml parses as YAML) into a tree of
 * nodes that remember their line, plus schema checks whose errors name the
 * file, the line and the key. */
#ifndef HETNAS_DOC_H
#define HETNAS_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hn_doc hn_doc;   /* opaque; owns all its nodes */
typedef struct hn_node hn_node; /* opaque; lives as long as its doc */

typedef enum hn_node_kind {
    HN_NODE_SCALAR = 0,
    HN_NODE_SEQ = 1,
    HN_NODE_MAP = 2
} hn_node_kind;

/* Parses a whole file; the error names the file and line. Aliases, tags
 * and multi-document streams are rejected. */
hn_status hn_doc_load_file(const char *path, hn_doc **out);
/* The same with a size cap (HN_FILE_MAX_* of fileio.h): a file larger than
 * max_bytes is refused before it is read. */
hn_status hn_doc_load_file_max(const char *path, size_t max_bytes,
                               hn_doc **out);
/* `name` is used in messages in place of a file name. */
hn_status hn_doc_load_string(const char *text, size_t len, const char *name,
                             hn_doc **out);
void hn_doc_free(hn_doc *d);
const hn_node *hn_doc_root(const hn_doc *d);
const char *hn_doc_name(const hn_doc *d);

hn_node_kind hn_node_kind_of(const hn_node *n);
int hn_node_line(const hn_node *n); /* 1-based */
/* Items of a sequence or pairs of a mapping; 0 for a scalar. */
size_t hn_node_len(const hn_node *n);
const hn_node *hn_node_at(const hn_node *seq, size_t i);
const char *hn_node_key_at(const hn_node *map, size_t i);
const hn_node *hn_node_val_at(const hn_node *map, size_t i);
/* Value for key in a mapping, NULL if absent. */
const hn_node *hn_node_get(const hn_node *map, const char *key);
/* Scalar text (NULL for non-scalars); `quoted` says it was a quoted string. */
const char *hn_node_str(const hn_node *n);
bool hn_node_quoted(const hn_node *n);

/* Typed conversions.  `what` names the value in messages, e.g. "layers[3][1]".
 * Errors read "<file>:<line>: <what>: <problem>". */
hn_status hn_node_as_int(const hn_doc *d, const hn_node *n, const char *what,
                         int64_t lo, int64_t hi, int64_t *out);
hn_status hn_node_as_double(const hn_doc *d, const hn_node *n,
                            const char *what, double lo, double hi,
                            double *out);
hn_status hn_node_as_bool(const hn_doc *d, const hn_node *n, const char *what,
                          bool *out);
hn_status hn_node_as_str(const hn_doc *d, const hn_node *n, const char *what,
                         const char **out);
/* Requires kind, else HN_ERR_SCHEMA naming what was expected. */
hn_status hn_node_expect(const hn_doc *d, const hn_node *n, const char *what,
                         hn_node_kind kind);
/* Reads a sequence of integers in [lo, hi] into out[0..cap-1]; *n_out gets
 * the count; more than cap items is an error. */
hn_status hn_node_as_int_array(const hn_doc *d, const hn_node *n,
                               const char *what, int64_t lo, int64_t hi,
                               int64_t *out, size_t cap, size_t *n_out);

/* Schema of one mapping: every key it may hold. */
typedef enum hn_field_type {
    HN_FIELD_ANY = 0,
    HN_FIELD_INT,
    HN_FIELD_FLOAT, /* an int is accepted too */
    HN_FIELD_BOOL,
    HN_FIELD_STRING,
    HN_FIELD_SEQ,
    HN_FIELD_MAP
} hn_field_type;

typedef struct hn_field {
    const char *key;
    hn_field_type type;
    bool required;
    double lo, hi; /* range for INT/FLOAT when lo < hi; ignored otherwise */
} hn_field;

/* Checks `map` (which must be a mapping) against fields[0..n-1]: unknown keys
 * (with the closest known key suggested), missing required keys, wrong types,
 * out-of-range numbers, duplicate keys.  `ctx` prefixes key names in
 * messages ("" for the top level, "data." for a nested section). */
hn_status hn_schema_check(const hn_doc *d, const hn_node *map, const char *ctx,
                          const hn_field *fields, size_t n);

#ifdef __cplusplus
}
#endif
#endif
