/* A small strict JSON reader (RFC 8259) for checkpoint headers, run
 * manifests and results files: a value tree with exact unsigned integers,
 * duplicate-key and depth checks, errors that give the byte offset.
 * (json.h is the writer; doc.h reads YAML/JSON documents with line numbers.) */
#ifndef HETNAS_JV_H
#define HETNAS_JV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hetnas/status.h"

typedef enum hn_jv_kind {
    HN_JV_NULL = 0,
    HN_JV_BOOL,
    HN_JV_NUM,
    HN_JV_STR,
    HN_JV_ARR,
    HN_JV_OBJ
} hn_jv_kind;

typedef struct hn_jv {
    hn_jv_kind kind;
    bool b;          /* BOOL */
    double num;      /* NUM */
    bool is_uint;    /* NUM written as a non-negative integer that fits u64 */
    uint64_t u;      /* its exact value */
    char *str;       /* STR (NUL-terminated; embedded NULs are rejected) */
    size_t n;        /* ARR / OBJ: number of items */
    struct hn_jv *items; /* (n) */
    char **keys;     /* OBJ: (n) */
    size_t src_begin, src_end; /* the value's text in the parsed input */
} hn_jv;

/* `name` names the document in messages ("<name>: JSON ... at byte B"). */
hn_status hn_jv_parse(const char *text, size_t len, const char *name,
                      hn_jv **out);
void hn_jv_free(hn_jv *v);
/* Member of an object, NULL if absent or v is not an object. */
const hn_jv *hn_jv_get(const hn_jv *v, const char *key);
/* String member or NULL. */
const char *hn_jv_get_str(const hn_jv *v, const char *key);

#endif
