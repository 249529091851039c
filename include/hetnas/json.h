/* A small streaming JSON writer into a growable buffer.  Commas and nesting
 * are tracked, strings are escaped, doubles are printed round-trippable
 * (%.17g; NaN/Inf become null). */
#ifndef HETNAS_JSON_H
#define HETNAS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hn_jw hn_jw; /* opaque */

/* pretty: 0 = compact one line, >0 = indent by that many spaces. */
hn_jw *hn_jw_new(int pretty);
void hn_jw_free(hn_jw *w);
void hn_jw_obj_begin(hn_jw *w);
void hn_jw_obj_end(hn_jw *w);
void hn_jw_arr_begin(hn_jw *w);
void hn_jw_arr_end(hn_jw *w);
void hn_jw_key(hn_jw *w, const char *key);
void hn_jw_int(hn_jw *w, int64_t v);
void hn_jw_uint(hn_jw *w, uint64_t v);
void hn_jw_double(hn_jw *w, double v);
void hn_jw_str(hn_jw *w, const char *s);
void hn_jw_bool(hn_jw *w, bool v);
void hn_jw_null(hn_jw *w);
/* Splices already-valid JSON text as one value. */
void hn_jw_raw(hn_jw *w, const char *json);
/* HN_ERR_NOMEM if any append failed, HN_ERR_INTERNAL if nesting is
 * unbalanced; HN_OK otherwise. */
hn_status hn_jw_status(const hn_jw *w);
/* NUL-terminated text written so far. */
const char *hn_jw_data(const hn_jw *w, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
