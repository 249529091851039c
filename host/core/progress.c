/* Terminal progress bar: \r-redrawn line with bar, counts, rate and ETA. */
#include "hetnas/progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double hn_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void hn_progress_begin(hn_progress *p, const char *label, int total,
                       int enabled) {
    memset(p, 0, sizeof *p);
    p->enabled = enabled < 0 ? isatty(STDERR_FILENO) : enabled != 0;
    p->total = total > 0 ? total : 1;
    p->t_start = p->t_last = hn_now();
    snprintf(p->label, sizeof p->label, "%s", label);
}

void hn_progress_update(hn_progress *p, int done, long items,
                        const char *extra) {
    if (!p->enabled) return;
    double now = hn_now();
    if (done < p->total && now - p->t_last < 0.1) return;
    p->t_last = now;
    double el = now - p->t_start;
    char bar[21];
    int fill = (int)(20.0 * done / p->total);
    for (int i = 0; i < 20; i++) bar[i] = i < fill ? '#' : '.';
    bar[20] = '\0';
    double eta = done > 0 ? el * (p->total - done) / done : 0.0;
    char rate[32] = "";
    if (items > 0 && el > 0) snprintf(rate, sizeof rate, " %.0f img/s", items / el);
    fprintf(stderr, "\r\033[K%s [%s] %d/%d%s ETA %d:%02d %s", p->label, bar,
            done, p->total, rate, (int)eta / 60, (int)eta % 60,
            extra ? extra : "");
    fflush(stderr);
}

void hn_progress_end(hn_progress *p) {
    if (!p->enabled) return;
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
}
