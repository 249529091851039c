/* Pieces shared by the search algorithms (private to the search layer):
 * search.c (C.1) and prune.c (C.2-C.5). */
#ifndef HN_SEARCH_COMMON_H
#define HN_SEARCH_COMMON_H

#include "hetnas/experiment.h"
#include "hetnas/rundir.h"
#include "hetnas/search.h"
#include "hetnas/status.h"

/* Seeded split of the training split into T_omega and T_alpha
 * (search.alpha_fraction of it); the index lists are malloc'd. */
hn_status hn_search_split(const hn_experiment *e, const hn_split *sp,
                          int **omega, int *n_omega, int **alpha, int *n_alpha);

/* One alpha step: grad clipped to L2 norm `clip` (0 = off), then SGD with
 * momentum in PyTorch's form (v = mu v + g; alpha -= lr v). */
void hn_search_alpha_sgd(int n, double *alpha, double *vel, const double *grad,
                         double lr, double momentum, double clip);

/* The run directory of a search: opened (new or resumed, the experiment
 * compared with the resumed one's), the manifest started; *latest gets the
 * newest valid checkpoint ("" and *latest_it -1 when none).  On error *rd
 * is NULL. */
hn_status hn_search_rundir_begin(const hn_experiment *e, const hn_search_opts *o,
                                 const char *dir, hn_rundir **rd, char *latest,
                                 size_t cap, int *latest_it);
/* The found configurations into the manifest's "results". */
hn_status hn_search_manifest_results(hn_rundir *rd, const hn_search_result *r);
/* val/test accuracies of found.csv rows (also those written before a
 * resume) into r->found, then the homogeneous line. */
hn_status hn_search_found_readback(hn_rundir *rd, hn_search_result *r);
/* Closes the run: "finished", or "failed: <message>" keeping the error. */
void hn_search_rundir_end(hn_rundir *rd, hn_status st);

#endif
