/* A one-line progress bar on a terminal (stderr); silent when stderr is not
 * a TTY, so logs and CI output stay clean. */
#ifndef HETNAS_PROGRESS_H
#define HETNAS_PROGRESS_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hn_progress {
    bool enabled;
    int total;         /* steps in this phase */
    double t_start;    /* seconds (monotonic) */
    double t_last;     /* last redraw */
    char label[64];
} hn_progress;

/* Monotonic seconds. */
double hn_now(void);
/* enabled = force on (1), off (0), or auto from isatty(stderr) (-1). */
void hn_progress_begin(hn_progress *p, const char *label, int total,
                       int enabled);
/* Redraws at most 10 times a second (always on the last step). `extra`
 * is appended, e.g. "loss 0.53 acc 81.2%". `items` is the number of
 * samples processed so far, for a rate (0 = no rate). */
void hn_progress_update(hn_progress *p, int done, long items,
                        const char *extra);
/* Clears the line. */
void hn_progress_end(hn_progress *p);

#ifdef __cplusplus
}
#endif
#endif
