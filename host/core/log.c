/* Levelled logging to stderr with a level prefix. */
#include "hetnas/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static hn_log_level g_level = HN_LOG_INFO;

void hn_log_set_level(hn_log_level lvl) { g_level = lvl; }

hn_log_level hn_log_get_level(void) { return g_level; }

int hn_log_level_parse(const char *s) {
    static const char *names[] = {"debug", "info", "warn", "error", "quiet"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(s, names[i])) return i;
    return -1;
}

void hn_log(hn_log_level lvl, const char *fmt, ...) {
    static const char *tags[] = {"debug", "info", "warning", "error"};
    if (lvl < g_level || lvl >= HN_LOG_QUIET) return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    /* One fprintf per message so lines from threads do not interleave. */
    fprintf(stderr, "hetnas: %s: %s\n", tags[lvl], buf);
}
