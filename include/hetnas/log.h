/* Levelled logging to stderr. */
#ifndef HETNAS_LOG_H
#define HETNAS_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum hn_log_level {
    HN_LOG_DEBUG = 0,
    HN_LOG_INFO = 1,
    HN_LOG_WARN = 2,
    HN_LOG_ERROR = 3,
    HN_LOG_QUIET = 4
} hn_log_level;

void hn_log_set_level(hn_log_level lvl);
hn_log_level hn_log_get_level(void);
/* Parses "debug|info|warn|error|quiet"; returns -1 when unknown. */
int hn_log_level_parse(const char *s);
void hn_log(hn_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define HN_DEBUG(...) hn_log(HN_LOG_DEBUG, __VA_ARGS__)
#define HN_INFO(...) hn_log(HN_LOG_INFO, __VA_ARGS__)
#define HN_WARN(...) hn_log(HN_LOG_WARN, __VA_ARGS__)
#define HN_ERROR(...) hn_log(HN_LOG_ERROR, __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif
