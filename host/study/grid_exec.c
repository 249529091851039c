/* Running a grid (grid.h): the job runners (real training, and a cheap
 * deterministic one for tests) and the scheduler, serial or over MPI.
 *
 * MPI protocol (rank 0 = coordinator, ranks >= 1 = workers): a worker
 * sends a message to rank 0 (READY, or the RESULT / FAILURE of its last
 * job) and receives the index of its next job, or -1 = stop.  Rank 0 alone
 * appends results to the file (before it hands out the next job), so the
 * file has one writer and a result is durable before anything else
 * happens.  Rank 0 polls with MPI_Iprobe and sleeps between polls: a
 * blocking receive would busy-wait on a core the workers need. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef HN_HAVE_MPI
#include <mpi.h>
#endif

#include "hetnas/fileio.h"
#include "hetnas/grid.h"
#include "hetnas/jv.h"
#include "hetnas/log.h"
#include "hetnas/trainer.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- runners ---------------------------------------------------------- */

/* results.json of a job directory whose training finished (written
 * atomically by the trainer, so present means complete). */
static bool read_finished(const char *dir, hn_grid_result *out) {
    char p[HN_EXP_PATH + 128];
    snprintf(p, sizeof p, "%s/results.json", dir);
    struct stat sb;
    if (stat(p, &sb) != 0) return false;
    char *txt;
    size_t len;
    if (hn_file_read_max(p, HN_FILE_MAX_JSON, &txt, &len) != HN_OK) return false;
    hn_jv *v;
    bool ok = hn_jv_parse(txt, len, p, &v) == HN_OK;
    free(txt);
    if (!ok) return false;
    const char *k[5] = {"test_acc", "best_val_acc", "test_loss", "epochs", "best_epoch"};
    double x[5];
    for (int i = 0; i < 5 && ok; i++) {
        const hn_jv *m = hn_jv_get(v, k[i]);
        ok = m && m->kind == HN_JV_NUM;
        if (ok) x[i] = m->num;
    }
    const hn_jv *es = hn_jv_get(v, "early_stopped");
    ok = ok && es && es->kind == HN_JV_BOOL;
    if (ok) {
        *out = (hn_grid_result){x[0], x[1], x[2], (int)x[3], (int)x[4], es->b, 0, 0};
    }
    hn_jv_free(v);
    return ok;
}

hn_status hn_grid_train_job(const hn_grid_job *job, hn_grid_result *out,
                            void *ud) {
    const hn_grid_train_ctx *ctx = ud;
    memset(out, 0, sizeof *out);
    char dir[HN_EXP_PATH];
    int n = snprintf(dir, sizeof dir, "%s/jobs/%s", ctx->run_dir, job->id);
    if (n < 0 || (size_t)n >= sizeof dir)
        return hn_fail(HN_ERR_RANGE, "%s: run directory path too long", ctx->run_dir);
    /* finished in an earlier process that died before rank 0 recorded it */
    if (read_finished(dir, out)) return HN_OK;
    hn_experiment *e = malloc(sizeof *e);
    if (!e) return hn_fail(HN_ERR_NOMEM, "out of memory");
    *e = *hn_grid_experiment(ctx->grid);
    /* every job holds out the same validation samples (the experiment's
     * split); the job's seed drives initialisation, batch order,
     * augmentation and noise */
    e->data.split_seed = hn_experiment_split_seed(e);
    e->seed = job->seed;
    snprintf(e->name, sizeof e->name, "%s", job->id);
    e->config.kind = HN_EXP_CONFIG_INLINE;
    e->config.inline_json = (char *)hn_grid_cfg_json(ctx->grid, job->cfg); /* borrowed */
    snprintf(e->config.where, sizeof e->config.where, "grid %s",
             hn_grid_cfg_at(ctx->grid, job->cfg)->id);
    /* the launcher's per-job thread budget wins over the file's */
    if (getenv("OMP_NUM_THREADS")) e->train.threads = 0;
    hn_train_opts o = hn_train_opts_default();
    o.run_dir = dir;
    o.mode = HN_RUNDIR_AUTO; /* a killed job continues from its checkpoint */
    o.progress = 0;
    o.quiet = true;
    char *argv[3] = {(char *)"hetnas", (char *)"grid-job", (char *)job->id};
    o.argc = 3;
    o.argv = argv;
    hn_train_result r;
    hn_status st = hn_train_run(e, &o, &r);
    free(e);
    if (st != HN_OK) return st;
    *out = (hn_grid_result){r.test_acc, r.best_val_acc, r.test_loss, r.epochs,
                            r.best_epoch, r.early_stopped, r.wall_s, 0};
    return HN_OK;
}

static uint64_t mix(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

hn_status hn_grid_fake_job(const hn_grid_job *job, hn_grid_result *out,
                           void *ud) {
    int ms = ud ? *(const int *)ud : 0;
    if (ms > 0) sleep_ms(ms);
    double u = (double)(mix(job->seed) >> 11) * 0x1.0p-53;
    double base = 0.80 + 0.02 * (double)(job->cfg % 7);
    *out = (hn_grid_result){base + 0.01 * (u - 0.5), base, 0.5, 10,
                            1 + (int)(mix(job->seed + 1) % 10), false,
                            ms / 1000.0, 0};
    return HN_OK;
}

/* ---- MPI ---------------------------------------------------------------- */

bool hn_grid_mpi_launched(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") ||
           getenv("PMI_RANK") || getenv("PMI_SIZE");
}

hn_status hn_grid_mpi_init(int *argc, char ***argv, int *rank, int *size) {
    *rank = 0;
    *size = 1;
#ifdef HN_HAVE_MPI
    int prov;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &prov) != MPI_SUCCESS)
        return hn_fail(HN_ERR_IO, "MPI_Init failed");
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    return HN_OK;
#else
    (void)argc;
    (void)argv;
    const char *ws = getenv("OMPI_COMM_WORLD_SIZE");
    if (!ws) ws = getenv("PMI_SIZE");
    if (ws && atoi(ws) > 1)
        return hn_fail(HN_ERR_UNSUPPORTED, "started by an MPI launcher with "
                       "%s processes, but this hetnas was built without MPI "
                       "(HN_WITH_MPI=OFF): every process would run the whole "
                       "grid", ws);
    return HN_OK;
#endif
}

void hn_grid_mpi_finalize(void) {
#ifdef HN_HAVE_MPI
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (init && !fin) MPI_Finalize();
#endif
}

static bool mpi_active(int *rank, int *size) {
    *rank = 0;
    *size = 1;
#ifdef HN_HAVE_MPI
    int init = 0;
    MPI_Initialized(&init);
    if (!init) return false;
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    return *size > 1;
#else
    return false;
#endif
}

hn_status hn_grid_mpi_agree(hn_status mine, hn_status *root) {
    if (root) *root = mine;
#ifdef HN_HAVE_MPI
    int rank, size;
    if (!mpi_active(&rank, &size)) return mine;
    int in = (int)mine, worst, r0 = (int)mine;
    MPI_Allreduce(&in, &worst, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Bcast(&r0, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (root) *root = (hn_status)r0;
    if (worst != HN_OK && mine == HN_OK)
        return hn_fail((hn_status)worst, "another rank failed (see rank 0)");
    return (hn_status)worst;
#else
    return mine;
#endif
}

/* ---- scheduling --------------------------------------------------------- */

static void report_job(const hn_grid *g, const hn_grid_job *j, int rank,
                       const hn_grid_result *r, int done, int total, bool quiet) {
    if (quiet) return;
    (void)g;
    printf("[%d/%d] %s", done, total, j->id);
    if (rank > 0) printf(" (rank %d)", rank);
    printf(": test %.2f%% at best val epoch %d/%d%s, %.1f s\n",
           100 * r->test_acc, r->best_epoch, r->epochs,
           r->early_stopped ? " (early stop)" : "", r->seconds);
    fflush(stdout);
}

static hn_status run_serial(const hn_grid *g, hn_grid_log *log,
                            const hn_grid_exec_opts *o, hn_grid_exec_stats *st) {
    int total = hn_grid_n_jobs(g);
    hn_status fatal = HN_OK;
    for (int i = 0; i < total && fatal == HN_OK; i++) {
        if (hn_grid_log_done(log, i)) continue;
        const hn_grid_job *j = hn_grid_job_at(g, i);
        hn_grid_result r;
        double t0 = now_s();
        hn_status s = o->fn(j, &r, o->ud);
        if (s != HN_OK) {
            HN_ERROR("job %s failed: %s (left for --resume)", j->id, hn_error_msg());
            st->failed++;
            continue;
        }
        if (r.seconds == 0) r.seconds = now_s() - t0;
        fatal = hn_grid_log_append(log, j, &r);
        if (fatal == HN_OK) {
            st->run++;
            report_job(g, j, 0, &r, hn_grid_log_n_done(log), total, o->quiet);
        }
    }
    return fatal;
}

#ifdef HN_HAVE_MPI
enum { TAG_MSG = 11, TAG_JOB = 12 };
enum { MSG_READY = 0, MSG_RESULT = 1, MSG_FAIL = 2 };
typedef struct wire {
    int kind, job;
    hn_grid_result r;
    char err[768];
} wire;

static hn_status run_coordinator(const hn_grid *g, hn_grid_log *log, int size,
                                 const hn_grid_exec_opts *o,
                                 hn_grid_exec_stats *st) {
    int total = hn_grid_n_jobs(g), next = 0, active = size - 1;
    hn_status fatal = HN_OK;
    while (active > 0) {
        int flag = 0;
        MPI_Status ms;
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_MSG, MPI_COMM_WORLD, &flag, &ms);
        if (!flag) {
            sleep_ms(5);
            continue;
        }
        wire m;
        MPI_Recv(&m, (int)sizeof m, MPI_BYTE, ms.MPI_SOURCE, TAG_MSG,
                 MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (m.kind == MSG_RESULT && m.job >= 0 && m.job < total) {
            const hn_grid_job *j = hn_grid_job_at(g, m.job);
            m.r.rank = ms.MPI_SOURCE;
            hn_status s = fatal == HN_OK ? hn_grid_log_append(log, j, &m.r) : fatal;
            if (s == HN_OK) {
                st->run++;
                report_job(g, j, ms.MPI_SOURCE, &m.r, hn_grid_log_n_done(log),
                           total, o->quiet);
            } else if (fatal == HN_OK) {
                fatal = s;
                HN_ERROR("%s (stopping: no job is handed out any more)",
                         hn_error_msg());
            }
        } else if (m.kind == MSG_FAIL) {
            m.err[sizeof m.err - 1] = 0;
            HN_ERROR("job %s failed on rank %d: %s (left for --resume)",
                     hn_grid_job_at(g, m.job)->id, ms.MPI_SOURCE, m.err);
            st->failed++;
        }
        while (next < total && hn_grid_log_done(log, next)) next++;
        int j = fatal == HN_OK && next < total ? next++ : -1;
        MPI_Send(&j, 1, MPI_INT, ms.MPI_SOURCE, TAG_JOB, MPI_COMM_WORLD);
        if (j < 0) active--;
    }
    return fatal;
}

static void run_worker(const hn_grid *g, const hn_grid_exec_opts *o) {
    wire m;
    memset(&m, 0, sizeof m);
    m.kind = MSG_READY;
    m.job = -1;
    for (;;) {
        MPI_Send(&m, (int)sizeof m, MPI_BYTE, 0, TAG_MSG, MPI_COMM_WORLD);
        int j;
        MPI_Recv(&j, 1, MPI_INT, 0, TAG_JOB, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (j < 0) return;
        memset(&m, 0, sizeof m);
        m.job = j;
        double t0 = now_s();
        hn_status s = o->fn(hn_grid_job_at(g, j), &m.r, o->ud);
        if (s == HN_OK) {
            m.kind = MSG_RESULT;
            if (m.r.seconds == 0) m.r.seconds = now_s() - t0;
        } else {
            m.kind = MSG_FAIL;
            snprintf(m.err, sizeof m.err, "%s", hn_error_msg());
        }
    }
}
#endif

hn_status hn_grid_execute(const hn_grid *g, hn_grid_log *log,
                          const hn_grid_exec_opts *o, hn_grid_exec_stats *st) {
    memset(st, 0, sizeof *st);
    double t0 = now_s();
    int rank, size;
    bool mpi = mpi_active(&rank, &size);
    st->ranks = size;
    if (log) st->done_before = hn_grid_log_n_done(log);
    hn_status s = HN_OK;
#ifdef HN_HAVE_MPI
    if (mpi && rank == 0) s = run_coordinator(g, log, size, o, st);
    else if (mpi) run_worker(g, o);
    else s = run_serial(g, log, o, st);
#else
    (void)mpi;
    s = run_serial(g, log, o, st);
#endif
    st->wall_s = now_s() - t0;
    return s;
}
