/* hn_status: the one error type of hetnas, plus a per-thread error message
 * that says what failed and where (file, line, key). */
#ifndef HETNAS_STATUS_H
#define HETNAS_STATUS_H

#include <stdio.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum hn_status {
    HN_OK = 0,
    HN_ERR_INVAL = -1,       /* bad argument or value */
    HN_ERR_IO = -2,          /* file system / read / write failure */
    HN_ERR_NOMEM = -3,       /* allocation failed */
    HN_ERR_PARSE = -4,       /* malformed file (syntax) */
    HN_ERR_SCHEMA = -5,      /* well-formed file with wrong keys/types/values */
    HN_ERR_RANGE = -6,       /* value outside its allowed range */
    HN_ERR_UNSUPPORTED = -7, /* valid request this build/hardware cannot do */
    HN_ERR_FORMAT = -8,      /* wrong magic / shape / name in a binary file */
    HN_ERR_TIMEOUT = -9,     /* cycle cap or time limit reached */
    HN_ERR_INTERNAL = -10    /* invariant broken: a bug */
} hn_status;

const char *hn_status_str(hn_status s);

/* Records a printf-style message for the calling thread and returns s, so
 * errors read: return hn_fail(HN_ERR_SCHEMA, "%s:%d: key '%s': ...", ...). */
hn_status hn_fail(hn_status s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prefixes the current message with context ("while loading X: ..."). */
hn_status hn_fail_ctx(hn_status s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Last message of this thread ("" when none). */
const char *hn_error_msg(void);
void hn_error_clear(void);

/* Contract violations (bugs, not bad input) abort with file:line. */
#define HN_ASSERT(cond)                                                       \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "hetnas: assertion failed: %s (%s:%d)\n", #cond,  \
                    __FILE__, __LINE__);                                      \
            abort();                                                          \
        }                                                                     \
    } while (0)

/* Propagate a failing status. */
#define HN_TRY(expr)                                                          \
    do {                                                                      \
        hn_status hn_try_s_ = (expr);                                         \
        if (hn_try_s_ != HN_OK) return hn_try_s_;                             \
    } while (0)

#ifdef __cplusplus
}
#endif
#endif
