/* hn_status names and the per-thread error message. */
#include "hetnas/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define HN_ERRMSG_MAX 1024

static _Thread_local char t_msg[HN_ERRMSG_MAX];

const char *hn_status_str(hn_status s) {
    switch (s) {
    case HN_OK: return "ok";
    case HN_ERR_INVAL: return "invalid argument";
    case HN_ERR_IO: return "i/o error";
    case HN_ERR_NOMEM: return "out of memory";
    case HN_ERR_PARSE: return "parse error";
    case HN_ERR_SCHEMA: return "schema error";
    case HN_ERR_RANGE: return "value out of range";
    case HN_ERR_UNSUPPORTED: return "unsupported";
    case HN_ERR_FORMAT: return "bad file format";
    case HN_ERR_TIMEOUT: return "timeout";
    case HN_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

hn_status hn_fail(hn_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t_msg, sizeof t_msg, fmt, ap);
    va_end(ap);
    return s;
}

hn_status hn_fail_ctx(hn_status s, const char *fmt, ...) {
    char prefix[HN_ERRMSG_MAX], old[HN_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, t_msg, sizeof old);
    /* prefix + ": " + old, truncated to the buffer. */
    size_t n = strlen(prefix);
    if (n > HN_ERRMSG_MAX - 1) n = HN_ERRMSG_MAX - 1;
    memcpy(t_msg, prefix, n);
    if (old[0] && n + 2 < HN_ERRMSG_MAX) {
        memcpy(t_msg + n, ": ", 2);
        n += 2;
        size_t m = strlen(old);
        if (m > HN_ERRMSG_MAX - 1 - n) m = HN_ERRMSG_MAX - 1 - n;
        memcpy(t_msg + n, old, m);
        n += m;
    }
    t_msg[n] = '\0';
    return s;
}

const char *hn_error_msg(void) { return t_msg; }

void hn_error_clear(void) { t_msg[0] = '\0'; }
