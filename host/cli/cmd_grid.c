/* hetnas grid: a grid study (docs/study.md) - serial, or distributed when
 * started by mpirun/srun. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "hetnas/experiment.h"
#include "hetnas/grid.h"
#include "hetnas/grid_report.h"
#include "hetnas/json.h"
#include "hetnas/jv.h"
#include "hetnas/rundir.h"

static const char *k_usage =
    "usage: hetnas grid EXP.yaml [--set key=value]... [--out DIR] [--resume]\n"
    "                   [--quiet] [--plan]\n"
    "       mpirun -np N hetnas grid EXP.yaml ...   (rank 0 coordinates,\n"
    "                                               N-1 ranks train)\n"
    "Trains every configuration of the experiment's grid: section\n"
    "grid.repeats times (seeds recorded), appends each result to\n"
    "<run>/grid.jsonl, then writes per-configuration statistics, Welch tests\n"
    "against the homogeneous line (Holm-corrected) and Fig. 1-style plots.\n"
    "--resume continues a killed grid: finished jobs are kept, the others\n"
    "run again.  --plan prints the configurations, costs and job seeds\n"
    "and exits (nothing is written).  See docs/study.md.\n";

#define MAX_SETS 64

/* A fingerprint of everything that decides the grid's results (the
 * experiment without its file name), kept in the manifest so that
 * --resume refuses a changed experiment. */
static hn_status fingerprint(const hn_experiment *e, char out[16]) {
    hn_experiment *c = malloc(sizeof *c);
    if (!c) return hn_fail(HN_ERR_NOMEM, "out of memory");
    *c = *e;
    c->source[0] = 0;
    char *j;
    hn_status s = hn_experiment_to_json(c, 0, &j);
    free(c);
    if (s != HN_OK) return s;
    snprintf(out, 16, "%08lx", crc32(0L, (const Bytef *)j, (uInt)strlen(j)));
    free(j);
    return HN_OK;
}

static hn_status manifest_grid(hn_rundir *rd, const hn_grid *g, const char *fp,
                               int ranks) {
    hn_jw *w = hn_jw_new(0);
    if (!w) return hn_fail(HN_ERR_NOMEM, "out of memory");
    hn_jw_obj_begin(w);
    hn_jw_key(w, "fingerprint");
    hn_jw_str(w, fp);
    hn_jw_key(w, "ranks");
    hn_jw_int(w, ranks);
    hn_jw_key(w, "results");
    hn_jw_str(w, "grid.jsonl");
    hn_jw_key(w, "configs");
    hn_jw_arr_begin(w);
    for (int i = 0; i < hn_grid_n_cfgs(g); i++) {
        const hn_grid_cfg *c = hn_grid_cfg_at(g, i);
        hn_jw_obj_begin(w);
        hn_jw_key(w, "id");
        hn_jw_str(w, c->id);
        hn_jw_key(w, "label");
        hn_jw_str(w, c->label);
        hn_jw_key(w, "source");
        hn_jw_str(w, c->source);
        hn_jw_key(w, "homogeneous");
        hn_jw_bool(w, c->homogeneous);
        hn_jw_key(w, c->family == HN_GRID_QUANT ? "bops" : "macs");
        hn_jw_double(w, c->cost);
        hn_jw_obj_end(w);
    }
    hn_jw_arr_end(w);
    hn_jw_key(w, "jobs");
    hn_jw_arr_begin(w);
    for (int i = 0; i < hn_grid_n_jobs(g); i++) {
        const hn_grid_job *j = hn_grid_job_at(g, i);
        hn_jw_obj_begin(w);
        hn_jw_key(w, "id");
        hn_jw_str(w, j->id);
        hn_jw_key(w, "seed");
        hn_jw_uint(w, j->seed);
        hn_jw_obj_end(w);
    }
    hn_jw_arr_end(w);
    hn_jw_obj_end(w);
    hn_status s = hn_jw_status(w);
    if (s == HN_OK) s = hn_rundir_manifest_set(rd, "grid", hn_jw_data(w, NULL));
    hn_jw_free(w);
    return s;
}

static hn_status check_fingerprint(hn_rundir *rd, const char *fp) {
    const char *was = hn_rundir_manifest_get(rd, "grid");
    if (!was)
        return hn_fail(HN_ERR_INVAL, "%s: not a grid run (its manifest.json "
                       "has no grid member)", hn_rundir_path(rd));
    hn_jv *v;
    HN_TRY(hn_jv_parse(was, strlen(was), "manifest.json: grid", &v));
    const char *old = hn_jv_get_str(v, "fingerprint");
    bool same = old && !strcmp(old, fp);
    hn_status st = HN_OK;
    if (!same) /* before hn_jv_free: old points into v */
        st = hn_fail(HN_ERR_INVAL, "%s: --resume with a changed experiment "
                     "(fingerprint %s, the run's manifest.json has %s): "
                     "resume with the original experiment, or start a new "
                     "run with another --out", hn_rundir_path(rd), fp,
                     old ? old : "none");
    hn_jv_free(v);
    if (!same) return st;
    return HN_OK;
}

/* Rank 0's part before the jobs: run directory, results file, configs. */
static hn_status open_run(const hn_grid *g, const char *dir, bool resume,
                          int argc, char **argv, int ranks, hn_rundir **rd,
                          hn_grid_log **log) {
    const hn_experiment *e = hn_grid_experiment(g);
    char fp[16];
    HN_TRY(fingerprint(e, fp));
    HN_TRY(hn_rundir_open(dir, resume ? HN_RUNDIR_RESUME : HN_RUNDIR_NEW, rd));
    hn_status s = HN_OK;
    if (hn_rundir_resumed(*rd)) s = check_fingerprint(*rd, fp);
    char path[HN_EXP_PATH + 32];
    if (s == HN_OK) s = hn_rundir_file(*rd, "grid.jsonl", path, sizeof path);
    if (s == HN_OK) s = hn_grid_log_open(path, g, log);
    char *exp_json = NULL;
    if (s == HN_OK) s = hn_experiment_to_json(e, 0, &exp_json);
    if (s == HN_OK) {
        hn_run_info info = {.argc = argc, .argv = argv,
                            .experiment_json = exp_json, .seed = e->seed};
        s = hn_rundir_start(*rd, &info);
    }
    free(exp_json);
    if (s == HN_OK) s = manifest_grid(*rd, g, fp, ranks);
    if (s == HN_OK) s = hn_grid_save_configs(g, dir);
    if (s != HN_OK) {
        hn_grid_log_close(*log);
        *log = NULL;
        hn_rundir_free(*rd);
        *rd = NULL;
    }
    return s;
}

static void print_plan(const hn_grid *g) {
    const hn_experiment *e = hn_grid_experiment(g);
    printf("%-5s %-28s %1s %14s  %s\n", "cfg", "label", "H", "cost", "from");
    for (int i = 0; i < hn_grid_n_cfgs(g); i++) {
        const hn_grid_cfg *c = hn_grid_cfg_at(g, i);
        printf("%-5s %-28.28s %1s %11.4g %s  %s\n", c->id, c->label,
               c->homogeneous ? "H" : "", c->cost,
               c->family == HN_GRID_QUANT ? "BOPs" : "MACs", c->source);
    }
    printf("%d configurations x %d repeats = %d jobs; seeds:", hn_grid_n_cfgs(g),
           e->grid.repeats, hn_grid_n_jobs(g));
    for (int j = 0; j < hn_grid_n_jobs(g); j++)
        printf("%s %s=%llu", j % 3 ? "" : "\n ", hn_grid_job_at(g, j)->id,
               (unsigned long long)hn_grid_job_at(g, j)->seed);
    printf("\n");
}

int hn_cmd_grid(int argc, char **argv) {
    const char *cmd = "grid", *exp_path = NULL, *out = NULL;
    const char *sets[MAX_SETS];
    int n_sets = 0;
    bool resume = false, quiet = false, plan_only = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--out")) {
            if (!(out = hn_arg_value(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--set")) {
            const char *v = hn_arg_value(cmd, argc, argv, &i);
            if (!v) return 2;
            if (n_sets == MAX_SETS) {
                fprintf(stderr, "hetnas grid: at most %d --set\n", MAX_SETS);
                return 2;
            }
            sets[n_sets++] = v;
        } else if (!strcmp(a, "--resume")) {
            resume = true;
        } else if (!strcmp(a, "--quiet")) {
            quiet = true;
        } else if (!strcmp(a, "--plan")) {
            plan_only = true;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(k_usage, stdout);
            return 0;
        } else if (a[0] == '-') {
            fprintf(stderr, "hetnas grid: unknown option '%s'\n%s", a, k_usage);
            return 2;
        } else if (exp_path) {
            fprintf(stderr, "hetnas grid: one experiment file, got '%s' and "
                    "'%s'\n", exp_path, a);
            return 2;
        } else {
            exp_path = a;
        }
    }
    if (!exp_path) {
        fprintf(stderr, "hetnas grid: give an experiment file\n%s", k_usage);
        return 2;
    }
    int rank = 0, size = 1;
    if (hn_grid_mpi_launched() && hn_grid_mpi_init(&argc, &argv, &rank, &size) != HN_OK)
        return hn_arg_fail(cmd, HN_ERR_UNSUPPORTED);
    /* Every rank loads and plans (deterministic); rank 0 reports problems. */
    hn_experiment e;
    hn_grid *g = NULL;
    hn_status st = hn_experiment_load(exp_path, sets, n_sets, &e);
    if (st == HN_OK) {
        st = hn_grid_plan(&e, &g);
        hn_experiment_clear(&e);
    }
    char dir[HN_EXP_PATH];
    if (st == HN_OK) {
        const hn_experiment *ge = hn_grid_experiment(g);
        if (out && strlen(out) >= sizeof dir)
            st = hn_fail(HN_ERR_RANGE, "--out: path too long");
        else if (out)
            snprintf(dir, sizeof dir, "%s", out);
        else
            st = hn_rundir_join(ge->out, ge->name, dir, sizeof dir);
    }
    if (plan_only) {
        int rc = 0;
        if (st != HN_OK) rc = rank == 0 ? hn_arg_fail(cmd, st) : 2;
        else if (rank == 0) print_plan(g);
        hn_grid_free(g);
        hn_grid_mpi_finalize();
        return rc;
    }
    /* Two agreements: every rank planned (a worker may miss the data),
     * then rank 0 opened the run.  A failing rank names itself. */
    hn_status root;
    hn_status all = hn_grid_mpi_agree(st, &root);
    if (all != HN_OK) {
        int rc = st != HN_OK ? hn_arg_exit_code(st) : hn_arg_exit_code(all);
        if (st != HN_OK && rank == 0) hn_arg_report(cmd);
        else if (st != HN_OK && root == HN_OK) /* else rank 0 said it */
            fprintf(stderr, "hetnas grid (rank %d): %s\n", rank, hn_error_msg());
        else if (rank == 0)
            fprintf(stderr, "hetnas grid: another rank could not plan the grid "
                    "(its message above); nothing was started\n");
        hn_grid_free(g);
        hn_grid_mpi_finalize();
        return rc;
    }
    hn_rundir *rd = NULL;
    hn_grid_log *log = NULL;
    if (rank == 0) st = open_run(g, dir, resume, argc, argv, size, &rd, &log);
    all = hn_grid_mpi_agree(st, NULL);
    if (all != HN_OK) {
        int rc = rank == 0 ? hn_arg_fail(cmd, st) : hn_arg_exit_code(all);
        hn_grid_free(g);
        hn_grid_mpi_finalize();
        return rc;
    }
    if (rank == 0 && !quiet) {
        printf("grid %s: %d configurations x %d repeats = %d jobs, %d already "
               "done; %s\n", dir, hn_grid_n_cfgs(g),
               hn_grid_experiment(g)->grid.repeats, hn_grid_n_jobs(g),
               hn_grid_log_n_done(log),
               size > 1 ? "distributed over MPI" : "one process");
        if (size > 1) printf("rank 0 coordinates, %d worker ranks\n", size - 1);
        if (size > 1 && !getenv("OMP_NUM_THREADS") &&
            hn_grid_experiment(g)->train.threads == 0)
            fprintf(stderr, "hetnas grid: OMP_NUM_THREADS is not set and "
                    "train.threads is 0: every worker uses all cores of its "
                    "node (mpirun -x OMP_NUM_THREADS=k)\n");
        fflush(stdout);
    }
    /* hidden test hook: a cheap deterministic runner instead of training */
    int fake_ms = 0;
    const char *fake = getenv("HN_GRID_FAKE_MS");
    hn_grid_train_ctx tc = {.grid = g, .run_dir = dir};
    hn_grid_exec_opts xo = {.fn = hn_grid_train_job, .ud = &tc, .quiet = quiet};
    if (fake) {
        fake_ms = atoi(fake);
        xo.fn = hn_grid_fake_job;
        xo.ud = &fake_ms;
    }
    hn_grid_exec_stats xs;
    st = hn_grid_execute(g, log, &xo, &xs);
    int rc = 0;
    if (rank == 0) {
        int left = hn_grid_n_jobs(g) - hn_grid_log_n_done(log);
        hn_status rs = hn_grid_report(g, log, dir, quiet ? NULL : stdout);
        if (st == HN_OK && rs != HN_OK) st = rs;
        if (st != HN_OK) hn_arg_report(cmd);
        char status[128];
        if (st == HN_OK && left == 0)
            snprintf(status, sizeof status, "finished");
        else
            snprintf(status, sizeof status, "incomplete: %d of %d jobs not "
                     "done (--resume runs them)", left, hn_grid_n_jobs(g));
        hn_rundir_finish(rd, status);
        printf("grid %s: %s; %d jobs run here in %.1f s on %d rank%s (%d "
               "failed)\n", dir, status, xs.run, xs.wall_s, xs.ranks,
               xs.ranks == 1 ? "" : "s", xs.failed);
        rc = st != HN_OK || left > 0 ? 1 : 0;
        hn_grid_log_close(log);
        hn_rundir_free(rd);
    }
    hn_grid_free(g);
    hn_grid_mpi_finalize();
    return rc;
}
