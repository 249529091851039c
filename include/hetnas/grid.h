/* Grid studies (`hetnas grid`, docs/study.md): every configuration of an
 * experiment's `grid:` section trained `repeats` times with recorded seeds,
 * results appended to one crash-safe JSON-lines file, distributed over MPI
 * ranks by a coordinator that hands out jobs on request, resumable after a
 * kill, and summarised per configuration (mean, std, confidence interval)
 * with Welch tests of each heterogeneous point against the homogeneous line
 * interpolated in cost, Holm-corrected. */
#ifndef HETNAS_GRID_H
#define HETNAS_GRID_H

#include <stdbool.h>
#include <stdint.h>

#include "hetnas/experiment.h"
#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum hn_grid_family {
    HN_GRID_QUANT = 0, /* cost in BOPs */
    HN_GRID_PRUNE = 1  /* cost in MACs */
} hn_grid_family;

/* One configuration of the grid (plain data). */
typedef struct hn_grid_cfg {
    char id[16];          /* "q00", "p03": stable names in files */
    hn_grid_family family;
    char label[128];      /* "4/4/4/4 of (2,2)/(2,4)/(3,3)/(8,8)", "w 8/16/32" */
    char source[HN_EXP_PATH + 64]; /* "exp.yaml:14: grid.quant.splits[2]" */
    bool homogeneous;     /* one op everywhere / one width ratio */
    double cost;          /* BOPs or MACs of the whole network */
} hn_grid_cfg;

/* One (configuration, repeat) training. */
typedef struct hn_grid_job {
    int index;      /* cfg * repeats + repeat */
    int cfg;
    int repeat;
    uint64_t seed;  /* hn_grid_job_seed(experiment seed, cfg, repeat) */
    char id[32];    /* "q03_r1": the job's run directory under jobs/ */
} hn_grid_job;

/* What a job yields: test accuracy at the best validation epoch. */
typedef struct hn_grid_result {
    double test_acc;     /* in [0, 1] */
    double best_val_acc;
    double test_loss;
    int epochs;          /* trained (early stopping may end it sooner) */
    int best_epoch;
    bool early_stopped;
    double seconds;      /* wall time of the job in its last process */
    int rank;            /* MPI rank that ran it (0 without MPI) */
} hn_grid_result;

/* The one function that runs a job.  ud is the caller's. */
typedef hn_status (*hn_grid_job_fn)(const hn_grid_job *job,
                                    hn_grid_result *out, void *ud);

typedef struct hn_grid hn_grid; /* opaque: the validated plan */

/* Seed of a job: a SplitMix64 mix of the experiment seed, the
 * configuration index and the repeat, reduced below 10^18. */
uint64_t hn_grid_job_seed(uint64_t seed, int cfg, int repeat);

/* Validates the experiment's grid and expands it into configurations and
 * jobs.  Needs the data (for the model's input shape).  Every problem is
 * reported before any training, naming the entry: no grid, duplicate
 * configurations (also a file equal to a split), configurations that do
 * not fit the model, a pruning grid on a non-homogeneous `config`. */
hn_status hn_grid_plan(const hn_experiment *e, hn_grid **out);
void hn_grid_free(hn_grid *g);
const hn_experiment *hn_grid_experiment(const hn_grid *g);
int hn_grid_n_cfgs(const hn_grid *g);
const hn_grid_cfg *hn_grid_cfg_at(const hn_grid *g, int i);
int hn_grid_n_jobs(const hn_grid *g);
const hn_grid_job *hn_grid_job_at(const hn_grid *g, int i);
/* The configuration as JSON text for an experiment's inline `config`. */
const char *hn_grid_cfg_json(const hn_grid *g, int i);
/* Writes configs/<id>.yaml for every configuration under dir. */
hn_status hn_grid_save_configs(const hn_grid *g, const char *dir);

/* The real job runner: trains job->id in <run_dir>/jobs/<id> with
 * hn_train_run (early stopping on the validation split, test accuracy of
 * the best validation checkpoint); a job directory left by a killed
 * process is resumed from its last checkpoint, a finished one is read
 * back.  ud: a hn_grid_train_ctx. */
typedef struct hn_grid_train_ctx {
    const hn_grid *grid;
    const char *run_dir;
} hn_grid_train_ctx;
hn_status hn_grid_train_job(const hn_grid_job *job, hn_grid_result *out,
                            void *ud);
/* A cheap deterministic runner for tests of the scheduler, the results
 * file and the statistics: accuracy from a hash of (cfg, seed) around a
 * per-configuration mean, after sleeping ud's milliseconds (int *). */
hn_status hn_grid_fake_job(const hn_grid_job *job, hn_grid_result *out,
                           void *ud);

/* ---- results file (JSON lines, one per finished job) -------------------- */

/* One line per finished job, written with one write() and fsync'd; each
 * line ends with a CRC-32 of its text, so a line changed by hand is
 * caught.  Reading (resume): a torn last line (no newline: a crash in the
 * middle of a write) is dropped with a warning and cut off the file; any
 * other bad line is an error naming the file and line number, as is a
 * line that contradicts the plan (job, configuration, seed). */
typedef struct hn_grid_log hn_grid_log; /* opaque */

hn_status hn_grid_log_open(const char *path, const hn_grid *g,
                           hn_grid_log **out);
void hn_grid_log_close(hn_grid_log *l);
/* Whether job i has a result, and that result. */
bool hn_grid_log_done(const hn_grid_log *l, int job);
const hn_grid_result *hn_grid_log_result(const hn_grid_log *l, int job);
int hn_grid_log_n_done(const hn_grid_log *l);
/* Appends (and fsyncs) job's result; a job is recorded once. */
hn_status hn_grid_log_append(hn_grid_log *l, const hn_grid_job *job,
                             const hn_grid_result *r);

/* ---- execution ----------------------------------------------------------- */

typedef struct hn_grid_exec_opts {
    hn_grid_job_fn fn;   /* the job runner */
    void *ud;
    bool quiet;          /* no per-job lines on stdout */
} hn_grid_exec_opts;

typedef struct hn_grid_exec_stats {
    int ranks;           /* MPI processes (1 without mpirun) */
    int done_before;     /* jobs found in the results file */
    int run;             /* jobs finished by this execution */
    int failed;          /* jobs whose runner failed (left for --resume) */
    double wall_s;
} hn_grid_exec_stats;

/* MPI: true when this process was started by mpirun/srun (the launcher's
 * environment), in which case hn_grid_mpi_init initialises MPI.  Without
 * a launcher nothing is initialised and the grid runs in one process. */
bool hn_grid_mpi_launched(void);
hn_status hn_grid_mpi_init(int *argc, char ***argv, int *rank, int *size);
void hn_grid_mpi_finalize(void);
/* Collective over all ranks: every rank passes its status and gets the
 * worst one; *root (may be NULL) gets rank 0's, so that a worker only
 * speaks up when rank 0 had nothing to say.  Without MPI: mine. */
hn_status hn_grid_mpi_agree(hn_status mine, hn_status *root);

/* Runs every job the log does not hold.  Serial without MPI; under MPI
 * rank 0 (log != NULL) hands jobs out on request and is the only writer,
 * ranks >= 1 (log == NULL) run them.  A failing job is reported and left
 * unfinished; the others go on. */
hn_status hn_grid_execute(const hn_grid *g, hn_grid_log *log,
                          const hn_grid_exec_opts *o, hn_grid_exec_stats *st);

/* ---- analysis ------------------------------------------------------------ */

typedef struct hn_grid_row {
    int cfg;
    int n;               /* finished repeats */
    double mean, sd, ci_half; /* test accuracy, in [0, 1] */
    /* heterogeneous rows inside the homogeneous cost range: */
    bool tested;
    int lo, hi;          /* homogeneous neighbours (cfg indices) */
    double lambda;       /* interpolation weight of hi */
    double line_mean;    /* interpolated homogeneous accuracy */
    double diff, t, df, p, p_holm;
    bool significant;    /* p_holm <= alpha */
    const char *note;    /* why untested ("homogeneous", "outside ...") */
} hn_grid_row;

/* Per family: rows of the configurations of that family (n_rows), in plan
 * order; the Holm correction runs over the tested rows of the family. */
hn_status hn_grid_analyze(const hn_grid *g, const hn_grid_log *log,
                          hn_grid_family fam, hn_grid_row **rows, int *n_rows);

#ifdef __cplusplus
}
#endif
#endif
