/* MPI helpers of the search (par.h). */
#include "search/par.h"

#include <stdlib.h>
#include <string.h>

#ifdef HN_HAVE_MPI
#include <mpi.h>
#endif

/* Set by Open MPI, MPICH/Hydra and PMIx launchers. */
static int launched(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE",
                                       "PMIX_RANK", NULL};
    for (int i = 0; vars[i]; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

int hn_par_launched_size(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", NULL};
    for (int i = 0; vars[i]; i++) {
        const char *v = getenv(vars[i]);
        if (v && atoi(v) > 1) return atoi(v);
    }
    return 1;
}

hn_status hn_par_init(hn_par *p) {
    memset(p, 0, sizeof *p);
    p->size = 1;
    if (!launched()) return HN_OK;
#ifdef HN_HAVE_MPI
    int on = 0;
    MPI_Initialized(&on);
    if (!on) {
        if (MPI_Init(NULL, NULL) != MPI_SUCCESS)
            return hn_fail(HN_ERR_IO, "MPI_Init failed");
        p->inited = 1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &p->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &p->size);
    return HN_OK;
#else
    if (hn_par_launched_size() > 1)
        return hn_fail(HN_ERR_UNSUPPORTED, "started by mpirun, but this build "
                       "has no MPI (configure with HN_WITH_MPI=ON)");
    return HN_OK;
#endif
}

void hn_par_finalize(hn_par *p) {
#ifdef HN_HAVE_MPI
    if (p->inited) MPI_Finalize();
#endif
    p->inited = 0;
}

hn_status hn_par_sum(const hn_par *p, double *buf, int n, int failed) {
    if (p->size <= 1) return HN_OK;
#ifdef HN_HAVE_MPI
    double *tmp = malloc(sizeof(double) * ((size_t)n + 1));
    if (!tmp) return hn_fail(HN_ERR_NOMEM, "out of memory");
    memcpy(tmp, buf, sizeof(double) * (size_t)n);
    tmp[n] = failed ? 1.0 : 0.0;
    int rc = MPI_Allreduce(MPI_IN_PLACE, tmp, n + 1, MPI_DOUBLE, MPI_SUM,
                           MPI_COMM_WORLD);
    int bad = rc != MPI_SUCCESS || tmp[n] != 0.0;
    if (!bad) memcpy(buf, tmp, sizeof(double) * (size_t)n);
    free(tmp);
    if (bad && !failed)
        return hn_fail(HN_ERR_IO, "another MPI rank failed (see its messages)");
    return bad ? HN_ERR_IO : HN_OK;
#else
    (void)buf; (void)n; (void)failed;
    return HN_OK;
#endif
}

hn_status hn_par_bcast_bytes(const hn_par *p, void *buf, size_t n) {
    if (p->size <= 1) return HN_OK;
#ifdef HN_HAVE_MPI
    char *c = buf;
    while (n > 0) { /* MPI counts are int */
        int k = n > (1u << 30) ? (1 << 30) : (int)n;
        if (MPI_Bcast(c, k, MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
            return hn_fail(HN_ERR_IO, "MPI_Bcast failed");
        c += k;
        n -= (size_t)k;
    }
#else
    (void)buf; (void)n;
#endif
    return HN_OK;
}

hn_status hn_par_bcast_f32(const hn_par *p, float *buf, size_t n) {
    return hn_par_bcast_bytes(p, buf, n * sizeof(float));
}

hn_status hn_par_bcast_status(const hn_par *p, hn_status st) {
    if (p->size <= 1) return st;
    int v = (int)st;
    hn_status b = hn_par_bcast_bytes(p, &v, sizeof v);
    if (b != HN_OK) return b;
    if (p->rank == 0) return st;
    return v == HN_OK ? HN_OK
                      : hn_fail(HN_ERR_IO, "MPI rank 0 failed (see its messages)");
}
