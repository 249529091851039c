/* The configuration search (paper section 2-3, Algorithm C.1): a
 * distribution over per-filter op assignments (dist.h), trained by the
 * score-function estimator (estimator.h) on the loss
 * L(a) = CE(a) + lambda * sigma(cost(a) / cost(target)) (closs.h), while the
 * shared weights are trained on configurations sampled per batch.  The
 * pruning searches of section 4 (Algorithms C.2-C.5: binomial widths, MACs)
 * run through the same two calls.  A client of the training session
 * (session.h), like `hetnas train`.  docs/search.md describes the
 * algorithms, the files of a search run and --resume. */
#ifndef HETNAS_SEARCH_H
#define HETNAS_SEARCH_H

#include <stdbool.h>

#include "hetnas/experiment.h"
#include "hetnas/rundir.h"
#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hn_search_opts {
    const char *run_dir;  /* NULL: <out>/<name> */
    hn_rundir_mode mode;  /* NEW, RESUME (--resume) or AUTO */
    int progress;         /* progress bar: 1 on, 0 off, -1 auto (TTY) */
    bool quiet;           /* no summary on stdout */
    int argc;             /* the command line, for the manifest */
    char **argv;
} hn_search_opts;

hn_search_opts hn_search_opts_default(void);

/* One configuration evaluated at the end of a search. */
typedef struct hn_search_found {
    char name[32];        /* "expected" or "sample_K" */
    char config_path[1100]; /* its configuration file in the run directory */
    double cost;          /* search.metric of the configuration */
    double cost_ratio;    /* cost / cost(target) */
    double val_acc, test_acc;
    bool homogeneous;     /* one op of the set on every filter */
    double line_val_acc;  /* the homogeneous points' val accuracy
                             interpolated at this cost (NAN: < 2 points) */
} hn_search_found;

#define HN_SEARCH_MAX_FOUND 64

typedef struct hn_search_result {
    char run_dir[1024];
    double target_cost;
    int iterations;       /* completed outer iterations */
    double seconds;       /* wall time of this invocation */
    int mpi_rank;         /* > 0: an MPI worker rank of a pruning search; it
                             wrote nothing and found holds nothing */
    int n_found;
    hn_search_found found[HN_SEARCH_MAX_FOUND];
} hn_search_result;

/* Fills found[].line_val_acc from the homogeneous entries. */
void hn_search_homogeneous_line(hn_search_result *r);

/* Checks the experiment's `search` section against the model and the
 * other keys (algorithm, names, op set and target, sizes), errors naming
 * the key; no data is read. */
hn_status hn_search_validate(const hn_experiment *e);

/* Runs (or resumes) the search into its run directory and evaluates the
 * expected configuration, search.final_samples sampled ones and (with
 * search.final_homogeneous) each op of the set as a homogeneous
 * configuration: each fine-tuned search.final_epochs epochs from the
 * searched weights, then validation and the test set once. */
hn_status hn_search_run(const hn_experiment *e, const hn_search_opts *o,
                        hn_search_result *r);

#ifdef __cplusplus
}
#endif
#endif
