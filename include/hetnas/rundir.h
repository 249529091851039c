/* Run directories (DESIGN.md): runs/<name>/ holds
 *   manifest.json  command line, experiment, seeds, git commit, tool
 *                  versions, host, start/end time, status (written
 *                  atomically on every change)
 *   log.jsonl      one JSON event per line, flushed per line
 *   *.csv          results, appended row by row (a row is never half there)
 *   checkpoints/   safetensors checkpoints (+ JSON side files)
 *   plots/         SVG/PNG figures
 * A killed run is continued with HN_RUNDIR_RESUME: the manifest keeps its
 * history, a partial last line of log.jsonl or a CSV is dropped, and the
 * newest checkpoint that loads is found for the trainer. */
#ifndef HETNAS_RUNDIR_H
#define HETNAS_RUNDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hetnas/json.h"
#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hn_rundir hn_rundir; /* opaque */

typedef enum hn_rundir_mode {
    HN_RUNDIR_NEW = 0,    /* fail if the directory already holds a run */
    HN_RUNDIR_RESUME = 1, /* continue the run in the directory (must exist) */
    HN_RUNDIR_AUTO = 2    /* resume if a run is there, else start one */
} hn_rundir_mode;

/* True when dir holds a run (a manifest.json). */
bool hn_rundir_exists(const char *dir);
/* root/name into buf ("runs/demo"). */
hn_status hn_rundir_join(const char *root, const char *name, char *buf,
                         size_t cap);

/* Opens (creating dir, checkpoints/, plots/ as needed).  NEW on an
 * existing run fails with a message suggesting --resume; RESUME without a
 * run fails naming the directory.  Nothing is written until _start. */
hn_status hn_rundir_open(const char *dir, hn_rundir_mode mode,
                         hn_rundir **out);
/* Closes the log; does not touch the manifest (see _finish). */
void hn_rundir_free(hn_rundir *rd);
const char *hn_rundir_path(const hn_rundir *rd);
/* Whether this open continues an earlier run. */
bool hn_rundir_resumed(const hn_rundir *rd);

typedef struct hn_run_info {
    int argc;
    char **argv;                 /* the command line, recorded verbatim */
    const char *experiment_json; /* resolved experiment (may be NULL) */
    uint64_t seed;
} hn_run_info;

/* New run: writes the manifest (status "running", start time, command,
 * experiment, seed, git commit, tool versions, host) and a "start" event.
 * Resumed run: keeps the original manifest, appends {time, command} to its
 * "resumes" list, sets status "running" and logs a "resume" event. */
hn_status hn_rundir_start(hn_rundir *rd, const hn_run_info *info);
/* Sets a top-level manifest member to a JSON value (e.g. "results",
 * "best"), written now.  Reserved keys (command, start, ...) are refused. */
hn_status hn_rundir_manifest_set(hn_rundir *rd, const char *key,
                                 const char *json);
/* Raw JSON text of a manifest member (of the earlier run when resuming),
 * NULL when absent.  Valid until the next call on rd. */
const char *hn_rundir_manifest_get(hn_rundir *rd, const char *key);
/* A resumed run continues the experiment it started with: the checkpoints
 * (and the manifest) belong to it, so any change would give a result that
 * no single experiment produces.  HN_ERR_INVAL listing the keys of `now`
 * (the experiment as JSON) that differ from the manifest's "experiment"
 * ("source" and "description" may differ); OK for a manifest without one. */
hn_status hn_rundir_check_experiment(hn_rundir *rd, const char *now);
/* End time and final status ("finished", "failed", "stopped", ...). */
hn_status hn_rundir_finish(hn_rundir *rd, const char *status);

/* ---- log.jsonl ---------------------------------------------------------- */

/* A writer with {"time": ISO-8601, "elapsed": seconds since open,
 * "event": event already written; add members, then _event_end. */
hn_jw *hn_rundir_event_begin(hn_rundir *rd, const char *event);
/* Closes the object, appends it as one line, flushes, frees w. */
hn_status hn_rundir_event_end(hn_rundir *rd, hn_jw *w);
/* Appends a complete JSON object as one line. */
hn_status hn_rundir_log_line(hn_rundir *rd, const char *json_object);
/* fsync the log (e.g. after a checkpoint). */
hn_status hn_rundir_sync(hn_rundir *rd);

/* ---- paths and checkpoints ---------------------------------------------- */

/* dir/rel into buf. */
hn_status hn_rundir_file(const hn_rundir *rd, const char *rel, char *buf,
                         size_t cap);
/* checkpoints/epoch_NNNN.safetensors of an epoch (0-based). */
hn_status hn_rundir_ckpt_path(const hn_rundir *rd, int epoch, char *buf,
                              size_t cap);
/* Validates a checkpoint file (the training layer supplies it: run
 * directories know file names, not checkpoint formats). */
typedef hn_status (*hn_rundir_ckpt_check)(const char *path, void *ud);
/* The newest checkpoints/epoch_*.safetensors that `check` accepts (a
 * damaged newer one is skipped with a warning); *epoch = -1 and buf ""
 * when there is none. */
hn_status hn_rundir_latest_ckpt(const hn_rundir *rd, hn_rundir_ckpt_check check,
                                void *ud, char *buf, size_t cap, int *epoch);
/* Deletes all but the `keep` newest epoch checkpoints (and side files);
 * other files (best.safetensors, ...) are left alone. */
hn_status hn_rundir_prune_ckpts(const hn_rundir *rd, int keep);

/* ---- results CSV -------------------------------------------------------- */

typedef struct hn_csv hn_csv; /* opaque */

/* Opens path for appending rows of ncols columns.  A new file gets the
 * header; an existing one must have the same header (else an error naming
 * the file and both headers), and a partial last line is dropped. */
hn_status hn_csv_open(const char *path, int ncols, const char *const *cols,
                      hn_csv **out);
/* hn_csv_open on dir/name. */
hn_status hn_rundir_csv(const hn_rundir *rd, const char *name, int ncols,
                        const char *const *cols, hn_csv **out);
/* Complete data rows already in the file when it was opened. */
int hn_csv_rows_before(const hn_csv *c);
/* Cells of the current row, left to right (strings are quoted as needed). */
void hn_csv_str(hn_csv *c, const char *s);
void hn_csv_int(hn_csv *c, int64_t v);
void hn_csv_double(hn_csv *c, double v); /* %.17g; NaN/Inf as nan/inf */
/* Writes the row as one line and flushes; HN_ERR_INTERNAL when the cell
 * count differs from the header's. */
hn_status hn_csv_end_row(hn_csv *c);
void hn_csv_close(hn_csv *c);

/* A whole CSV file read back (for resuming: which results exist). */
typedef struct hn_csv_table {
    int n_cols, n_rows;
    char **header; /* (n_cols) */
    char **cells;  /* (n_rows, n_cols) row-major */
} hn_csv_table;

hn_status hn_csv_read(const char *path, hn_csv_table *out);
/* Column index by header name, -1 if absent. */
int hn_csv_table_col(const hn_csv_table *t, const char *name);
void hn_csv_table_free(hn_csv_table *t);

#ifdef __cplusplus
}
#endif
#endif
