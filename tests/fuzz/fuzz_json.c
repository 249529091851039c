/* libFuzzer target: arbitrary bytes through the strict JSON reader
 * (hn_jv_parse) that reads safetensors headers, their JSON side files,
 * checkpoint JSON metadata and run manifests.  A value tree that loads must
 * be self-consistent: source spans inside the input, keys unique and found
 * by hn_jv_get, and each member's source text re-parses to the same kind.
 * Errors must come back as hn_status with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/jv.h"

static void check(const hn_jv *v, const char *text, size_t len, int depth) {
    if (v->src_begin > v->src_end || v->src_end > len) abort();
    if (v->kind == HN_JV_STR && !v->str) abort();
    if (v->kind == HN_JV_NUM && v->is_uint && (double)v->u != v->num) abort();
    if (v->kind != HN_JV_ARR && v->kind != HN_JV_OBJ) return;
    if (v->n && !v->items) abort();
    for (size_t i = 0; i < v->n; i++) {
        const hn_jv *m = &v->items[i];
        if (v->kind == HN_JV_OBJ && (!v->keys[i] || hn_jv_get(v, v->keys[i]) != m))
            abort();
        check(m, text, len, depth + 1);
        if (depth < 2) { /* re-parse a member's own text (bounded work) */
            hn_jv *r = NULL;
            if (hn_jv_parse(text + m->src_begin, m->src_end - m->src_begin,
                            "member", &r) != HN_OK)
                abort();
            if (r->kind != m->kind || r->n != m->n) abort();
            hn_jv_free(r);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* A copy of exactly size bytes: the reader must not look past len. */
    char *text = malloc(size ? size : 1);
    if (!text) return 0;
    memcpy(text, data, size);
    hn_jv *v = NULL;
    if (hn_jv_parse(text, size, "fuzz.json", &v) == HN_OK) {
        check(v, text, size, 0);
        (void)hn_jv_get_str(v, "dtype");
        hn_jv_free(v);
    } else if (v != NULL || hn_error_msg()[0] == '\0') {
        abort();
    }
    free(text);
    return 0;
}
