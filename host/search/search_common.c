/* Pieces shared by the search algorithms (search_common.h). */
#include "search/search_common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/checkpoint.h"
#include "hetnas/json.h"
#include "hetnas/rng.h"

hn_status hn_search_split(const hn_experiment *e, const hn_split *sp,
                          int **omega, int *n_omega, int **alpha, int *n_alpha) {
    int n = sp->n_train;
    int na = (int)lround(e->search.alpha_fraction * n);
    if (na < 1 || n - na < 1)
        return hn_fail(HN_ERR_RANGE, "search.alpha_fraction: %g of %d training "
                       "samples leaves an empty T_alpha or T_omega",
                       e->search.alpha_fraction, n);
    int *perm = malloc(sizeof(int) * (size_t)n);
    *omega = malloc(sizeof(int) * (size_t)(n - na));
    *alpha = malloc(sizeof(int) * (size_t)na);
    if (!perm || !*omega || !*alpha) {
        free(perm);
        return hn_fail(HN_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++) perm[i] = sp->train[i];
    hn_rng r;
    hn_rng_seed(&r, e->seed, 0x5ea4c4); /* its own stream: the split only */
    hn_rng_shuffle(&r, perm, (size_t)n);
    memcpy(*alpha, perm, sizeof(int) * (size_t)na);
    memcpy(*omega, perm + na, sizeof(int) * (size_t)(n - na));
    free(perm);
    *n_alpha = na;
    *n_omega = n - na;
    return HN_OK;
}

void hn_search_alpha_sgd(int n, double *alpha, double *vel, const double *grad,
                         double lr, double momentum, double clip) {
    double nrm = 0;
    for (int i = 0; i < n; i++) nrm += grad[i] * grad[i];
    nrm = sqrt(nrm);
    double sc = clip > 0 && nrm > clip ? clip / nrm : 1.0;
    for (int i = 0; i < n; i++) {
        vel[i] = momentum * vel[i] + sc * grad[i];
        alpha[i] -= lr * vel[i];
    }
}

hn_status hn_search_rundir_begin(const hn_experiment *e, const hn_search_opts *o,
                                 const char *dir, hn_rundir **rd, char *latest,
                                 size_t cap, int *latest_it) {
    *rd = NULL;
    latest[0] = 0;
    *latest_it = -1;
    hn_status st = hn_rundir_open(dir, o->mode, rd);
    char *exp_json = NULL;
    if (st == HN_OK) st = hn_experiment_to_json(e, 0, &exp_json);
    if (st == HN_OK && hn_rundir_resumed(*rd))
        st = hn_rundir_check_experiment(*rd, exp_json);
    if (st == HN_OK && hn_rundir_resumed(*rd))
        st = hn_rundir_latest_ckpt(*rd, hn_ckpt_check, NULL, latest, cap, latest_it);
    if (st == HN_OK) {
        hn_run_info info = {.argc = o->argc, .argv = o->argv,
                            .experiment_json = exp_json, .seed = e->seed};
        st = hn_rundir_start(*rd, &info);
    }
    free(exp_json);
    if (st != HN_OK) {
        hn_rundir_free(*rd);
        *rd = NULL;
    }
    if (*latest_it < 0) latest[0] = 0;
    return st;
}

hn_status hn_search_manifest_results(hn_rundir *rd, const hn_search_result *r) {
    hn_jw *w = hn_jw_new(0);
    if (!w) return HN_OK; /* as before: the manifest entry is optional */
    hn_jw_arr_begin(w);
    for (int i = 0; i < r->n_found; i++) {
        const hn_search_found *f = &r->found[i];
        hn_jw_obj_begin(w);
        hn_jw_key(w, "name");
        hn_jw_str(w, f->name);
        hn_jw_key(w, "cost");
        hn_jw_double(w, f->cost);
        hn_jw_key(w, "cost_ratio");
        hn_jw_double(w, f->cost_ratio);
        hn_jw_key(w, "val_acc");
        hn_jw_double(w, f->val_acc);
        hn_jw_key(w, "test_acc");
        hn_jw_double(w, f->test_acc);
        hn_jw_obj_end(w);
    }
    hn_jw_arr_end(w);
    hn_status st = HN_OK;
    if (hn_jw_status(w) == HN_OK)
        st = hn_rundir_manifest_set(rd, "results", hn_jw_data(w, NULL));
    hn_jw_free(w);
    return st;
}

hn_status hn_search_found_readback(hn_rundir *rd, hn_search_result *r) {
    char path[1200];
    HN_TRY(hn_rundir_file(rd, "found.csv", path, sizeof path));
    hn_csv_table t;
    HN_TRY(hn_csv_read(path, &t));
    int cv = hn_csv_table_col(&t, "val_acc"), ct = hn_csv_table_col(&t, "test_acc");
    for (int i = 0; i < r->n_found && i < t.n_rows; i++) {
        r->found[i].val_acc = atof(t.cells[i * t.n_cols + cv]);
        r->found[i].test_acc = atof(t.cells[i * t.n_cols + ct]);
    }
    hn_csv_table_free(&t);
    hn_search_homogeneous_line(r);
    return HN_OK;
}

void hn_search_rundir_end(hn_rundir *rd, hn_status st) {
    if (!rd) return;
    if (st == HN_OK) {
        hn_rundir_finish(rd, "finished");
        return;
    }
    char saved[1024], msg[1100];
    snprintf(saved, sizeof saved, "%s", hn_error_msg());
    snprintf(msg, sizeof msg, "failed: %s", saved);
    hn_rundir_finish(rd, msg);
    hn_fail(st, "%s", saved); /* the caller's error stays the last one */
}
