/* Processes of one search run under MPI (private to the search layer).
 * Under `mpirun -np N hetnas search ...` each rank trains some of the
 * independent jobs of a step (sampled configurations, homogeneous points)
 * and the results are combined so that every rank holds the same values;
 * rank 0 alone writes the run directory.  Without mpirun (no launcher in
 * the environment) or in a build without MPI there is one process and
 * every call is a no-op. */
#ifndef HN_SEARCH_PAR_H
#define HN_SEARCH_PAR_H

#include <stddef.h>

#include "hetnas/status.h"

typedef struct hn_par {
    int rank, size;
    int inited; /* MPI_Init was called here (finalize undoes it) */
} hn_par;

/* The number of processes an MPI launcher started (1 without one), from
 * the environment, without joining the job. */
int hn_par_launched_size(void);
/* Joins the MPI job when the process was started by an MPI launcher. */
hn_status hn_par_init(hn_par *p);
void hn_par_finalize(hn_par *p);

/* Combines per-rank results: every rank fills the entries it computed and
 * leaves the others 0; afterwards every rank holds the element-wise sum
 * (exactly the computed values: x + 0 is exact).  `failed` is this rank's
 * error flag; the call returns HN_ERR_IO on every rank when any rank
 * failed, so no rank waits for a dead one. */
hn_status hn_par_sum(const hn_par *p, double *buf, int n, int failed);
/* Broadcasts n floats / bytes from rank 0. */
hn_status hn_par_bcast_f32(const hn_par *p, float *buf, size_t n);
hn_status hn_par_bcast_bytes(const hn_par *p, void *buf, size_t n);
/* Rank 0's status to every rank (others return HN_ERR_IO when it failed). */
hn_status hn_par_bcast_status(const hn_par *p, hn_status st);

#endif
