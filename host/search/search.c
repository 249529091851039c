/* The quantization search, Algorithm C.1 (search.h, docs/search.md).
 *
 * Per outer iteration k:
 *   1. t_omega epochs over T_omega: each batch trains the shared weights
 *      under a configuration sampled anew from p(a|alpha);
 *   2. one pass over T_alpha (or search.alpha_batches batches): per batch,
 *      |S| configurations are sampled, each scored on that batch
 *      (L = CE + lambda sigma(cost/target), BN on batch statistics without
 *      touching the running ones), and alpha takes one SGD-momentum step on
 *      the eq. (3) estimate (optionally with a baseline); the alpha rate
 *      decays per step (reference code: x0.999) and the gradient is clipped
 *      by its L2 norm.  One optimizer for the whole search, so its momentum
 *      acts (the reference code rebuilt it every step).
 * After each iteration the session (weights, optimizer, RNG streams, loader
 * position) and the search state (alpha, momentum, rate, baseline) are
 * checkpointed; --resume continues from the last one bit for bit.
 * T_alpha and T_omega are a seeded split of the experiment's training split;
 * the held-out validation split is never trained on; the test set is used
 * once per reported configuration, at the end. */
#include "hetnas/search.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/backend.h"
#include "hetnas/checkpoint.h"
#include "hetnas/closs.h"
#include "hetnas/cost.h"
#include "hetnas/dist.h"
#include "hetnas/estimator.h"
#include "hetnas/fileio.h"
#include "hetnas/inteval.h"
#include "hetnas/json.h"
#include "hetnas/log.h"
#include "hetnas/progress.h"
#include "hetnas/rng.h"
#include "hetnas/session.h"
#include "hetnas/threads.h"
#include "search/par.h"
#include "search/prune.h"
#include "search/search_common.h"

hn_search_opts hn_search_opts_default(void) {
    hn_search_opts o;
    memset(&o, 0, sizeof o);
    o.mode = HN_RUNDIR_NEW;
    o.progress = -1;
    return o;
}

/* ---- validation ------------------------------------------------------------ */

typedef struct parsed {
    hn_dist_kind kind;
    hn_dist_share share;
    hn_dist_init init;
    hn_closs_sigma sigma;
    hn_closs_metric metric;
    hn_baseline baseline;
} parsed;

static hn_status key_err(const hn_experiment *e, const char *key) {
    /* the parsers name the value and the choices; add where it came from */
    char msg[700];
    snprintf(msg, sizeof msg, "%s", hn_error_msg());
    return hn_fail(HN_ERR_SCHEMA, "%s: %s: %s", e->source[0] ? e->source : "experiment",
                   key, msg);
}

static hn_status parse_names(const hn_experiment *e, parsed *p) {
    const char *src = e->source[0] ? e->source : "experiment";
    if (strcmp(e->search.algorithm, "c1"))
        return hn_fail(HN_ERR_SCHEMA, "%s: search.algorithm: '%s' is not one of "
                       "c1 (quantization) | c2 | c3 | c4 | c5 (pruning)", src,
                       e->search.algorithm);
    if (hn_dist_kind_parse(e->search.distribution, &p->kind) != HN_OK)
        return key_err(e, "search.distribution");
    if (p->kind != HN_DIST_MULTINOMIAL)
        return hn_fail(HN_ERR_SCHEMA, "%s: search.distribution: c1 searches bit "
                       "widths with the multinomial distribution, not '%s'", src,
                       e->search.distribution);
    if (hn_dist_share_parse(e->search.share, &p->share) != HN_OK)
        return key_err(e, "search.share");
    if (!strcmp(e->search.alpha_init, "uniform"))
        p->init = HN_DIST_INIT_UNIFORM;
    else if (!strcmp(e->search.alpha_init, "reference"))
        p->init = HN_DIST_INIT_REFERENCE;
    else
        return hn_fail(HN_ERR_SCHEMA, "%s: search.alpha_init: '%s' is not one of "
                       "uniform|reference", src, e->search.alpha_init);
    if (hn_closs_sigma_parse(e->search.sigma, &p->sigma) != HN_OK)
        return key_err(e, "search.sigma");
    if (hn_closs_metric_parse(e->search.metric, &p->metric) != HN_OK)
        return key_err(e, "search.metric");
    if (p->metric != HN_CLOSS_CYCLES && strcmp(e->search.cost_backend, "model"))
        return hn_fail(HN_ERR_SCHEMA, "%s: search.cost_backend: '%s' measures "
                       "cycles; it needs search.metric: cycles (metric is %s)",
                       src, e->search.cost_backend, e->search.metric);
    if (strcmp(e->search.eval_backend, "cpu")) {
        const hn_backend_ops *bo = hn_backend_find(e->search.eval_backend);
        if (!bo || !bo->runs_jobs)
            return hn_fail(HN_ERR_SCHEMA, "%s: search.eval_backend: '%s' is not "
                           "cpu or an integer backend of this build (hetnas hw "
                           "backends lists them)", src, e->search.eval_backend);
    }
    if (hn_baseline_parse(e->search.baseline, &p->baseline) != HN_OK)
        return key_err(e, "search.baseline");
    if (p->baseline == HN_BASELINE_LOO && e->search.samples < 2)
        return hn_fail(HN_ERR_SCHEMA, "%s: search.samples: the leave-one-out "
                       "baseline needs at least 2 samples, got %d", src,
                       e->search.samples);
    for (int i = 0; i < e->search.n_ops; i++)
        if (e->search.ops[i].wbits == HN_BITS_FP || e->search.ops[i].abits == HN_BITS_FP)
            return hn_fail(HN_ERR_SCHEMA, "%s: search.ops[%d]: [%d, %d]: the "
                           "quantization search needs quantized ops", src, i,
                           e->search.ops[i].wbits, e->search.ops[i].abits);
    if (e->search.t_omega == 0 && e->init[0] == 0)
        return hn_fail(HN_ERR_SCHEMA, "%s: search.t_omega: 0 trains no weights, "
                       "which needs trained ones from `init`", src);
    /* checked here, not at the end of a long run */
    if (1 + e->search.final_samples +
        (e->search.final_homogeneous ? e->search.n_ops : 0) > HN_SEARCH_MAX_FOUND)
        return hn_fail(HN_ERR_RANGE, "%s: search.final_samples: at most %d "
                       "configurations are evaluated at the end", src,
                       HN_SEARCH_MAX_FOUND);
    return HN_OK;
}

hn_status hn_search_validate(const hn_experiment *e) {
    if (hn_prune_is(e)) return hn_prune_validate(e);
    parsed p;
    return parse_names(e, &p);
}

/* ---- state ------------------------------------------------------------------ */

typedef struct search {
    const hn_experiment *e;
    hn_experiment e2;       /* e with config = the op set (per_op banks) */
    parsed p;
    hn_exp_data data;
    hn_exp_data d_omega;    /* view of data: split.train = T_omega */
    int *omega, n_omega, *alpha_idx, n_alpha;
    hn_session *s;
    const hn_arch *arch;
    hn_dist *dist;
    hn_estimator *est;
    hn_closs closs;
    hn_cost_opts cost_opts;
    hn_cyc *cyc;            /* search.metric cycles: the cycles source */
    hn_loader *alpha_ld;
    int n_params, n_layers, n_ops, S;
    double *alpha, *vel, *grad, *score, *loss, *ce, *cost;
    int *counts;            /* (S, n_layers, n_ops) */
    float *x, *logits;
    int *y, n_classes, in_size;
    double alpha_lr;
    int iter;               /* completed outer iterations */
    long alpha_step;        /* alpha steps taken */
    hn_rundir *rd;
    hn_csv *steps_csv, *alpha_csv;
    int steps_before, alpha_before;
} search;

/* The complexity cost of configuration c: the metric's total, or the
 * cycles source's (search.metric cycles). */
static hn_status cfg_cost(const search *q, const hn_config *c, double *out) {
    if (q->cyc) return hn_cyc_total(q->cyc, q->arch, c, q->cost_opts.input_bits, out);
    return hn_closs_cost(q->arch, c, &q->cost_opts, q->p.metric, out);
}

static void search_free(search *q) {
    hn_csv_close(q->steps_csv);
    hn_csv_close(q->alpha_csv);
    hn_loader_free(q->alpha_ld);
    hn_estimator_free(q->est);
    hn_cyc_free(q->cyc);
    hn_dist_free(q->dist);
    hn_session_free(q->s);
    hn_exp_data_free(&q->data);
    hn_experiment_clear(&q->e2);
    free(q->omega);
    free(q->alpha_idx);
    free(q->alpha);
    free(q->vel);
    free(q->grad);
    free(q->score);
    free(q->loss);
    free(q->ce);
    free(q->cost);
    free(q->counts);
    free(q->x);
    free(q->logits);
    free(q->y);
}

/* The op set with counts as an inline configuration (JSON). */
static char *config_json(const search *q, const int *counts) {
    hn_jw *w = hn_jw_new(0);
    if (!w) return NULL;
    hn_jw_obj_begin(w);
    hn_jw_key(w, "ops");
    hn_jw_arr_begin(w);
    for (int t = 0; t < q->n_ops; t++) {
        hn_jw_arr_begin(w);
        hn_jw_int(w, q->e->search.ops[t].wbits);
        hn_jw_int(w, q->e->search.ops[t].abits);
        hn_jw_arr_end(w);
    }
    hn_jw_arr_end(w);
    hn_jw_key(w, "layers");
    hn_jw_arr_begin(w);
    for (int l = 0; l < q->n_layers; l++) {
        hn_jw_arr_begin(w);
        for (int t = 0; t < q->n_ops; t++) hn_jw_int(w, counts[l * q->n_ops + t]);
        hn_jw_arr_end(w);
    }
    hn_jw_arr_end(w);
    hn_jw_obj_end(w);
    char *out = hn_jw_status(w) == HN_OK ? strdup(hn_jw_data(w, NULL)) : NULL;
    hn_jw_free(w);
    return out;
}

/* Seeded split of the training split into T_omega and T_alpha. */
static hn_status split_train(search *q) {
    HN_TRY(hn_search_split(q->e, &q->data.split, &q->omega, &q->n_omega,
                           &q->alpha_idx, &q->n_alpha));
    q->d_omega = q->data;
    q->d_omega.split.train = q->omega;
    q->d_omega.split.n_train = q->n_omega;
    return HN_OK;
}

static hn_status setup(search *q, const hn_experiment *e) {
    q->e = e;
    HN_TRY(parse_names(e, &q->p));
    q->n_ops = e->search.n_ops;
    q->S = e->search.samples;
    HN_TRY(hn_experiment_load_data(e, &q->data));
    HN_TRY(split_train(q));

    /* the session's model carries the op set (per_op banks are per op of
     * its configuration): start it at the initial expected configuration */
    hn_arch *a0 = NULL;
    HN_TRY(hn_experiment_make_arch(e, hn_dataset_c(q->data.train),
                                   hn_dataset_h(q->data.train),
                                   hn_dataset_w(q->data.train),
                                   hn_dataset_num_classes(q->data.train), &a0));
    hn_status st = hn_dist_new(a0, q->p.kind, q->p.share, q->n_ops,
                               e->search.ops, &q->dist);
    if (st == HN_OK) st = hn_dist_init_params(q->dist, q->p.init);
    q->n_layers = hn_arch_n_layers(a0);
    hn_arch_free(a0);
    HN_TRY(st);
    q->n_params = hn_dist_n_params(q->dist);
    int *c0 = malloc(sizeof(int) * (size_t)(q->n_layers * q->n_ops));
    if (!c0) return hn_fail(HN_ERR_NOMEM, "out of memory");
    hn_dist_expected_counts(q->dist, c0);
    q->e2 = *e;
    q->e2.config.inline_json = config_json(q, c0);
    free(c0);
    if (!q->e2.config.inline_json) return hn_fail(HN_ERR_NOMEM, "out of memory");
    q->e2.config.kind = HN_EXP_CONFIG_INLINE;
    snprintf(q->e2.config.where, sizeof q->e2.config.where, "search.ops");

    HN_TRY(hn_session_new(&q->e2, &q->d_omega, e->init[0] ? e->init : NULL, &q->s));
    q->arch = hn_session_arch(q->s);

    hn_estimator_opts eo = hn_estimator_opts_default();
    eo.baseline = q->p.baseline;
    eo.decay = e->search.baseline_decay;
    HN_TRY(hn_estimator_new(&eo, q->n_params, &q->est));

    q->cost_opts = hn_cost_opts_default();
    q->cost_opts.input_bits = e->model.input_bits;
    if (q->p.metric == HN_CLOSS_CYCLES &&
        hn_cyc_new(e->search.cost_backend, &q->cyc) != HN_OK)
        return key_err(e, "search.cost_backend");
    hn_config *tc = NULL;
    HN_TRY(hn_config_homogeneous(q->arch, e->search.target, &tc));
    double tcost = 0;
    st = cfg_cost(q, tc, &tcost);
    hn_config_free(tc);
    HN_TRY(st);
    q->closs = (hn_closs){.sigma = q->p.sigma, .lambda = e->search.lambda,
                          .target = tcost};
    HN_TRY(hn_closs_check(&q->closs));

    hn_loader_opts lo = {.batch_size = e->data.batch_size, .shuffle = true,
                         .drop_last = true, .augment = e->data.augment,
                         .seed = e->seed ^ 0xa1fa};
    HN_TRY(hn_loader_new(q->data.train, q->alpha_idx, q->n_alpha, &q->data.norm,
                         &lo, &q->alpha_ld));
    if (hn_loader_n_batches(q->alpha_ld) < 1)
        return hn_fail(HN_ERR_RANGE, "data.batch_size: %d is larger than T_alpha "
                       "(%d samples)", e->data.batch_size, q->n_alpha);

    size_t P = (size_t)q->n_params, S = (size_t)q->S;
    q->n_classes = hn_dataset_num_classes(q->data.train);
    q->in_size = hn_dataset_c(q->data.train) * hn_dataset_h(q->data.train) *
                 hn_dataset_w(q->data.train);
    size_t B = (size_t)e->data.batch_size;
    q->alpha = calloc(P, sizeof(double));
    q->vel = calloc(P, sizeof(double));
    q->grad = calloc(P, sizeof(double));
    q->score = calloc(S * P, sizeof(double));
    q->loss = calloc(S, sizeof(double));
    q->ce = calloc(S, sizeof(double));
    q->cost = calloc(S, sizeof(double));
    q->counts = calloc(S * (size_t)(q->n_layers * q->n_ops), sizeof(int));
    q->x = malloc(sizeof(float) * B * (size_t)q->in_size);
    q->logits = malloc(sizeof(float) * B * (size_t)q->n_classes);
    q->y = malloc(sizeof(int) * B);
    if (!q->alpha || !q->vel || !q->grad || !q->score || !q->loss || !q->ce ||
        !q->cost || !q->counts || !q->x || !q->logits || !q->y)
        return hn_fail(HN_ERR_NOMEM, "out of memory");
    HN_TRY(hn_dist_get_alpha(q->dist, q->n_params, q->alpha));
    q->alpha_lr = e->search.alpha_lr;
    return HN_OK;
}

/* ---- checkpoints -------------------------------------------------------------- */

static hn_status add_search_state(hn_ckpt_writer *w, void *ud) {
    search *q = ud;
    HN_TRY(hn_ckpt_writer_add_1d(w, "search.alpha", HN_DT_F64, q->n_params, q->alpha));
    HN_TRY(hn_ckpt_writer_add_1d(w, "search.velocity", HN_DT_F64, q->n_params, q->vel));
    double ema;
    long steps;
    hn_estimator_get_state(q->est, &ema, &steps);
    double dstate[2] = {q->alpha_lr, ema};
    HN_TRY(hn_ckpt_writer_add_1d(w, "search.lr_ema", HN_DT_F64, 2, dstate));
    HN_TRY(hn_ckpt_writer_meta_int(w, "search_iteration", q->iter));
    HN_TRY(hn_ckpt_writer_meta_int(w, "search_alpha_step", q->alpha_step));
    HN_TRY(hn_ckpt_writer_meta_int(w, "search_baseline_steps", steps));
    return hn_ckpt_writer_meta(w, "format", "hetnas-search-1");
}

static hn_status save_state(search *q) {
    char path[1200];
    HN_TRY(hn_rundir_ckpt_path(q->rd, q->iter - 1, path, sizeof path));
    HN_TRY(hn_session_save(q->s, path, add_search_state, q));
    HN_TRY(hn_rundir_sync(q->rd));
    return hn_rundir_prune_ckpts(q->rd, 2);
}

static hn_status restore_state(search *q, const char *path) {
    hn_ckpt *c = NULL;
    HN_TRY(hn_session_restore(q->s, path, &c));
    int64_t it = 0, st = 0, bsteps = 0;
    double dstate[2];
    hn_status s = hn_ckpt_get_1d(c, "search.alpha", HN_DT_F64, q->n_params, q->alpha);
    if (s == HN_OK)
        s = hn_ckpt_get_1d(c, "search.velocity", HN_DT_F64, q->n_params, q->vel);
    if (s == HN_OK) s = hn_ckpt_get_1d(c, "search.lr_ema", HN_DT_F64, 2, dstate);
    if (s == HN_OK) s = hn_ckpt_meta_int(c, "search_iteration", &it);
    if (s == HN_OK) s = hn_ckpt_meta_int(c, "search_alpha_step", &st);
    if (s == HN_OK) s = hn_ckpt_meta_int(c, "search_baseline_steps", &bsteps);
    hn_ckpt_free(c);
    HN_TRY(s);
    if (it < 1 || it > q->e->search.iterations || st < 0 || bsteps < 0)
        return hn_fail(HN_ERR_FORMAT, "%s: search_iteration %lld outside 1..%d "
                       "(search.iterations) or negative step counts", path,
                       (long long)it, q->e->search.iterations);
    q->iter = (int)it;
    q->alpha_step = (long)st;
    q->alpha_lr = dstate[0];
    HN_TRY(hn_estimator_set_state(q->est, dstate[1], (long)bsteps));
    return hn_dist_set_alpha(q->dist, q->n_params, q->alpha);
}

/* ---- one iteration ----------------------------------------------------------- */

static hn_status omega_phase(search *q, int progress) {
    const hn_experiment *e = q->e;
    int total = e->search.iterations * e->search.t_omega;
    hn_sched sch = hn_experiment_make_sched(e, total > 0 ? total : 1);
    hn_rng *r = hn_session_rng(q->s);
    for (int j = 0; j < e->search.t_omega; j++) {
        int ep = q->iter * e->search.t_omega + j;
        hn_session_set_lr(q->s, hn_sched_lr(&sch, ep));
        hn_session_start_epoch(q->s, ep);
        int nb = hn_session_n_batches(q->s);
        hn_progress pg;
        char label[64];
        snprintf(label, sizeof label, "iter %d/%d weights", q->iter + 1,
                 e->search.iterations);
        hn_progress_begin(&pg, label, nb, progress);
        double loss = 0;
        long seen = 0;
        for (int b = 0; b < nb; b++) {
            hn_config *c = NULL;
            HN_TRY(hn_dist_sample(q->dist, q->arch, r, &c));
            hn_step_result sr;
            hn_status st = hn_session_step(q->s, c, &sr);
            hn_config_free(c);
            HN_TRY(st);
            if (sr.n == 0) break;
            loss += (double)sr.loss * sr.n;
            seen += sr.n;
            char extra[48];
            snprintf(extra, sizeof extra, "loss %.4f", loss / (double)seen);
            hn_progress_update(&pg, b + 1, seen, extra);
        }
        hn_progress_end(&pg);
        hn_jw *w = hn_rundir_event_begin(q->rd, "weights_epoch");
        if (w) {
            hn_jw_key(w, "iteration");
            hn_jw_int(w, q->iter);
            hn_jw_key(w, "epoch");
            hn_jw_int(w, ep);
            hn_jw_key(w, "train_loss");
            hn_jw_double(w, seen ? loss / (double)seen : 0.0);
            HN_TRY(hn_rundir_event_end(q->rd, w));
        }
    }
    return HN_OK;
}

/* CE of configuration c on the current batch: train-mode BN (batch
 * statistics) without touching the running statistics. */
static hn_status batch_ce(search *q, const hn_config *c, int n, double *ce) {
    hn_model *m = hn_session_model(q->s);
    HN_TRY(hn_model_set_config(m, c));
    int upd = hn_model_bn_update(m);
    hn_model_set_bn_update(m, 0);
    hn_status st = hn_model_forward(m, q->x, n, 1, q->logits);
    hn_model_set_bn_update(m, upd);
    HN_TRY(st);
    *ce = hn_softmax_ce(q->logits, q->y, n, q->n_classes, NULL, NULL);
    if (!isfinite(*ce))
        return hn_fail(HN_ERR_RANGE, "search: non-finite cross entropy at alpha "
                       "step %ld", q->alpha_step);
    return HN_OK;
}

static hn_status log_step(search *q, const hn_estimator_stats *stt, double exp_cost) {
    long step = q->alpha_step; /* 0-based index of the step just taken */
    double mce = 0, mcom = 0;
    for (int s = 0; s < q->S; s++) {
        mce += q->ce[s];
        mcom += q->loss[s] - q->ce[s];
    }
    mce /= q->S;
    mcom /= q->S;
    /* rows of steps already written before a resume are the same rows */
    if (step >= q->steps_before) {
        hn_csv_int(q->steps_csv, step);
        hn_csv_int(q->steps_csv, q->iter);
        hn_csv_double(q->steps_csv, q->alpha_lr);
        hn_csv_double(q->steps_csv, stt->mean_loss);
        hn_csv_double(q->steps_csv, mce);
        hn_csv_double(q->steps_csv, mcom);
        hn_csv_double(q->steps_csv, stt->variance);
        hn_csv_double(q->steps_csv, exp_cost / q->closs.target);
        HN_TRY(hn_csv_end_row(q->steps_csv));
    }
    if (step >= q->alpha_before) {
        hn_csv_int(q->alpha_csv, step);
        for (int i = 0; i < q->n_params; i++) hn_csv_double(q->alpha_csv, q->alpha[i]);
        HN_TRY(hn_csv_end_row(q->alpha_csv));
    }
    return HN_OK;
}

static hn_status alpha_phase(search *q, int progress) {
    const hn_experiment *e = q->e;
    int L = q->n_layers, T = q->n_ops, P = q->n_params;
    hn_rng *r = hn_session_rng(q->s);
    hn_loader_start_epoch(q->alpha_ld, q->iter);
    int nb = hn_loader_n_batches(q->alpha_ld);
    if (e->search.alpha_batches > 0 && e->search.alpha_batches < nb)
        nb = e->search.alpha_batches;
    hn_progress pg;
    char label[64];
    snprintf(label, sizeof label, "iter %d/%d alphas", q->iter + 1, e->search.iterations);
    hn_progress_begin(&pg, label, nb, progress);
    for (int b = 0; b < nb; b++) {
        int n = hn_loader_next(q->alpha_ld, q->x, q->y);
        if (n <= 0) break;
        for (int s = 0; s < q->S; s++) {
            int *cnt = q->counts + (size_t)s * (size_t)(L * T);
            hn_dist_sample_counts(q->dist, r, cnt);
            hn_config *c = NULL;
            HN_TRY(hn_config_new(q->arch, T, e->search.ops, cnt, &c));
            hn_status st = batch_ce(q, c, n, &q->ce[s]);
            if (st == HN_OK) st = cfg_cost(q, c, &q->cost[s]);
            hn_config_free(c);
            HN_TRY(st);
            HN_TRY(hn_closs_eval(&q->closs, q->ce[s], q->cost[s], &q->loss[s], NULL));
            HN_TRY(hn_dist_grad_log_prob(q->dist, cnt, P, q->score + (size_t)s * P));
        }
        hn_estimator_stats stt;
        HN_TRY(hn_estimator_grad(q->est, q->S, P, q->loss, q->score, q->grad, &stt));
        hn_search_alpha_sgd(P, q->alpha, q->vel, q->grad, q->alpha_lr,
                            e->search.alpha_momentum, e->search.alpha_grad_clip);
        HN_TRY(hn_dist_set_alpha(q->dist, P, q->alpha));
        hn_config *ec = NULL;
        double exp_cost = 0;
        HN_TRY(hn_dist_expected(q->dist, q->arch, &ec));
        hn_status st = cfg_cost(q, ec, &exp_cost);
        hn_config_free(ec);
        HN_TRY(st);
        HN_TRY(log_step(q, &stt, exp_cost));
        q->alpha_step++;
        q->alpha_lr *= e->search.alpha_lr_decay;
        char extra[80];
        snprintf(extra, sizeof extra, "L %.3f var %.3g cost x%.3f", stt.mean_loss,
                 stt.variance, exp_cost / q->closs.target);
        hn_progress_update(&pg, b + 1, 0, extra);
    }
    hn_progress_end(&pg);
    return HN_OK;
}

/* Validation accuracy of the expected configuration, logged per iteration. */
static hn_status log_iteration(search *q, double seconds) {
    hn_config *ec = NULL;
    HN_TRY(hn_dist_expected(q->dist, q->arch, &ec));
    double cost = 0;
    hn_status st = cfg_cost(q, ec, &cost);
    hn_session_eval ev = {0};
    if (st == HN_OK) {
        hn_session_eval_opts eo = hn_session_eval_opts_default(q->s);
        eo.config = ec;
        eo.split = HN_SPLIT_VAL;
        st = hn_session_evaluate(q->s, &eo, &ev);
    }
    double *p = malloc(sizeof(double) * (size_t)q->n_params);
    if (st == HN_OK && !p) st = hn_fail(HN_ERR_NOMEM, "out of memory");
    if (st == HN_OK) st = hn_dist_get_probs(q->dist, q->n_params, p);
    if (st == HN_OK) {
        hn_jw *w = hn_rundir_event_begin(q->rd, "iteration");
        if (w) {
            hn_jw_key(w, "iteration"); /* completed iterations */
            hn_jw_int(w, q->iter);
            hn_jw_key(w, "alpha_steps");
            hn_jw_int(w, q->alpha_step);
            hn_jw_key(w, "expected_cost");
            hn_jw_double(w, cost);
            hn_jw_key(w, "cost_ratio");
            hn_jw_double(w, cost / q->closs.target);
            hn_jw_key(w, "expected_val_acc");
            hn_jw_double(w, ev.acc);
            hn_jw_key(w, "seconds");
            hn_jw_double(w, seconds);
            hn_jw_key(w, "p");
            hn_jw_arr_begin(w);
            for (int i = 0; i < q->n_params; i++) hn_jw_double(w, p[i]);
            hn_jw_arr_end(w);
            st = hn_rundir_event_end(q->rd, w);
        }
        HN_INFO("iteration %d/%d: expected configuration %.4g (x%.3f of the "
                "target), val acc %.2f%%", q->iter, q->e->search.iterations,
                cost, cost / q->closs.target, 100.0 * ev.acc);
    }
    free(p);
    hn_config_free(ec);
    return st;
}

/* ---- the end: the found configurations -------------------------------------- */

/* Accuracy of configuration c on a split: the float fake-quant model, and
 * with an integer backend `be` the integer network on it beside the float
 * model (acc is then the integer network's, agree the share of images whose
 * integer top-1 equals the float top-1). */
typedef struct found_eval {
    double acc, float_acc, agree;
} found_eval;

static hn_status eval_found(search *q, const hn_config *c, hn_backend *be,
                            hn_session_split split, found_eval *fe) {
    hn_session_eval_opts eo = hn_session_eval_opts_default(q->s);
    eo.config = c;
    eo.split = split;
    eo.limit = q->e->search.eval_limit;
    hn_int_eval ie;
    memset(&ie, 0, sizeof ie);
    if (be) {
        ie.opts = hn_intnet_opts_default();
        hn_backend_intnet_opts(be, &ie.opts);
        eo.batch = hn_int_eval_batch;
        eo.batch_ud = &ie;
    }
    hn_session_eval ev = {0};
    hn_status st = hn_session_evaluate(q->s, &eo, &ev);
    hn_int_eval_clear(&ie);
    HN_TRY(st);
    fe->float_acc = ev.acc;
    fe->acc = ev.acc;
    fe->agree = NAN;
    if (be) {
        if (ie.n != ev.n)
            return hn_fail(HN_ERR_INTERNAL, "search.eval_backend: the integer "
                           "network saw %ld of %d images", ie.n, ev.n);
        fe->acc = ie.n ? (double)ie.correct / ie.n : 0.0;
        fe->agree = ie.n ? (double)ie.agree / ie.n : 0.0;
    }
    return HN_OK;
}

static hn_status finish(search *q, int progress, hn_search_result *r) {
    const hn_experiment *e = q->e;
    char last[1200];
    HN_TRY(hn_rundir_ckpt_path(q->rd, q->iter - 1, last, sizeof last));
    /* val_acc/test_acc: on search.eval_backend; float_*: the fake-quant
     * model on the same images; agree: integer top-1 == float top-1 */
    static const char *const cols[] = {"name", "config", "cost", "cost_ratio",
                                       "val_acc", "test_acc", "eval_backend",
                                       "float_val_acc", "float_test_acc",
                                       "val_agree", "test_agree"};
    enum { NCOLS = sizeof cols / sizeof cols[0] };
    hn_csv *csv = NULL;
    char fdir[1200];
    HN_TRY(hn_rundir_file(q->rd, "found", fdir, sizeof fdir));
    HN_TRY(hn_mkdirs(fdir));
    hn_backend *be = NULL;
    if (strcmp(e->search.eval_backend, "cpu")) {
        hn_backend_opts bo = hn_backend_opts_default();
        if (hn_backend_open(e->search.eval_backend, &bo, &be) != HN_OK)
            return key_err(e, "search.eval_backend");
    }
    hn_status st = hn_rundir_csv(q->rd, "found.csv", NCOLS, cols, &csv);
    if (st != HN_OK) {
        hn_backend_close(be);
        return st;
    }
    int done = hn_csv_rows_before(csv);
    /* the configurations: deterministic given the searched alpha, so a
     * resumed run draws the same ones */
    hn_rng cr;
    hn_rng_seed(&cr, e->seed, 0xf0d);
    /* the expected configuration, K samples, then (search.final_homogeneous)
     * every op of the set as a homogeneous configuration, all given the same
     * fine-tuning from the searched weights: a line to compare against at
     * equal training */
    int K = e->search.final_samples;
    int H = e->search.final_homogeneous ? q->n_ops : 0;
    HN_ASSERT(1 + K + H <= HN_SEARCH_MAX_FOUND); /* parse_names checked it */
    for (int i = 0; i < 1 + K + H && st == HN_OK; i++) {
        hn_config *c = NULL;
        hn_search_found *f = &r->found[r->n_found];
        memset(f, 0, sizeof *f);
        if (i == 0) {
            st = hn_dist_expected(q->dist, q->arch, &c);
            snprintf(f->name, sizeof f->name, "expected");
        } else if (i <= K) {
            st = hn_dist_sample(q->dist, q->arch, &cr, &c);
            snprintf(f->name, sizeof f->name, "sample_%d", i);
        } else {
            hn_op op = e->search.ops[i - 1 - K];
            st = hn_config_homogeneous(q->arch, op, &c);
            snprintf(f->name, sizeof f->name, "homo_w%da%d", op.wbits, op.abits);
            f->homogeneous = true;
        }
        if (st != HN_OK) break;
        char rel[80];
        snprintf(rel, sizeof rel, "found/%s.yaml", f->name);
        st = hn_rundir_file(q->rd, rel, f->config_path, sizeof f->config_path);
        if (st == HN_OK) st = hn_config_save(c, q->arch, f->config_path);
        if (st == HN_OK) st = cfg_cost(q, c, &f->cost);
        f->cost_ratio = f->cost / q->closs.target;
        if (st == HN_OK && i < done) {
            /* evaluated before a resume: read nothing back, mark it */
            f->val_acc = f->test_acc = NAN;
            r->n_found++;
            hn_config_free(c);
            continue;
        }
        /* fine-tune from the searched weights under this configuration */
        if (st == HN_OK) st = hn_session_restore(q->s, last, NULL);
        if (st == HN_OK && e->search.final_epochs > 0) {
            hn_sched sch = hn_experiment_make_sched(e, e->search.final_epochs);
            for (int ep = 0; ep < e->search.final_epochs && st == HN_OK; ep++) {
                hn_session_set_lr(q->s, hn_sched_lr(&sch, ep));
                hn_session_start_epoch(q->s, 100000 + ep);
                int nb = hn_session_n_batches(q->s);
                hn_progress pg;
                char label[64];
                snprintf(label, sizeof label, "%s fine-tune %d/%d", f->name, ep + 1,
                         e->search.final_epochs);
                hn_progress_begin(&pg, label, nb, progress);
                for (int b = 0; b < nb && st == HN_OK; b++) {
                    hn_step_result sr;
                    st = hn_session_step(q->s, c, &sr);
                    if (st == HN_OK && sr.n == 0) break;
                    hn_progress_update(&pg, b + 1, 0, NULL);
                }
                hn_progress_end(&pg);
            }
        }
        found_eval ev = {0}, et = {0};
        if (st == HN_OK) st = eval_found(q, c, be, HN_SPLIT_VAL, &ev);
        if (st == HN_OK) st = eval_found(q, c, be, HN_SPLIT_TEST, &et);
        hn_config_free(c);
        if (st != HN_OK) break;
        f->val_acc = ev.acc;
        f->test_acc = et.acc;
        hn_csv_str(csv, f->name);
        hn_csv_str(csv, rel);
        hn_csv_double(csv, f->cost);
        hn_csv_double(csv, f->cost_ratio);
        hn_csv_double(csv, f->val_acc);
        hn_csv_double(csv, f->test_acc);
        hn_csv_str(csv, e->search.eval_backend);
        hn_csv_double(csv, ev.float_acc);
        hn_csv_double(csv, et.float_acc);
        hn_csv_double(csv, ev.agree);
        hn_csv_double(csv, et.agree);
        st = hn_csv_end_row(csv);
        r->n_found++;
    }
    hn_csv_close(csv);
    hn_backend_close(be);
    if (st != HN_OK) return st;
    /* the values of rows written before a resume, from the file */
    return hn_search_found_readback(q->rd, r);
}

/* Piecewise-linear interpolation of the homogeneous points' validation
 * accuracy in cost (clamped at the ends); NAN without two distinct costs. */
static double line_at(const hn_search_result *r, double cost) {
    double bx[HN_SEARCH_MAX_FOUND], by[HN_SEARCH_MAX_FOUND];
    int n = 0;
    for (int i = 0; i < r->n_found; i++)
        if (r->found[i].homogeneous) {
            int j = n++;
            while (j > 0 && bx[j - 1] > r->found[i].cost) {
                bx[j] = bx[j - 1];
                by[j] = by[j - 1];
                j--;
            }
            bx[j] = r->found[i].cost;
            by[j] = r->found[i].val_acc;
        }
    if (n < 2 || bx[n - 1] <= bx[0]) return NAN;
    if (cost <= bx[0]) return by[0];
    if (cost >= bx[n - 1]) return by[n - 1];
    for (int i = 1; i < n; i++)
        if (cost <= bx[i]) {
            if (bx[i] <= bx[i - 1]) return by[i];
            double t = (cost - bx[i - 1]) / (bx[i] - bx[i - 1]);
            return by[i - 1] + t * (by[i] - by[i - 1]);
        }
    return by[n - 1];
}

void hn_search_homogeneous_line(hn_search_result *r) {
    for (int i = 0; i < r->n_found; i++)
        r->found[i].line_val_acc = r->found[i].homogeneous
                                       ? r->found[i].val_acc
                                       : line_at(r, r->found[i].cost);
}

/* ---- the run ------------------------------------------------------------------ */

static hn_status open_csvs(search *q) {
    static const char *const cols[] = {"step", "iteration", "alpha_lr", "loss",
                                       "ce", "complexity", "estimator_variance",
                                       "expected_cost_ratio"};
    HN_TRY(hn_rundir_csv(q->rd, "steps.csv", 8, cols, &q->steps_csv));
    q->steps_before = hn_csv_rows_before(q->steps_csv);
    int P = q->n_params;
    char **names = calloc((size_t)P + 1, sizeof(char *));
    if (!names) return hn_fail(HN_ERR_NOMEM, "out of memory");
    names[0] = strdup("step");
    hn_status st = names[0] ? HN_OK : hn_fail(HN_ERR_NOMEM, "out of memory");
    int G = hn_dist_n_groups(q->dist), T = q->n_ops;
    for (int g = 0; g < G && st == HN_OK; g++)
        for (int t = 0; t < T && st == HN_OK; t++) {
            char nm[96];
            hn_op op = hn_dist_op(q->dist, t);
            snprintf(nm, sizeof nm, "g%d_w%da%d", g, op.wbits, op.abits);
            names[1 + g * T + t] = strdup(nm);
            if (!names[1 + g * T + t]) st = hn_fail(HN_ERR_NOMEM, "out of memory");
        }
    if (st == HN_OK)
        st = hn_rundir_csv(q->rd, "alpha.csv", P + 1, (const char *const *)names,
                           &q->alpha_csv);
    for (int i = 0; i <= P; i++) free(names[i]);
    free(names);
    if (st == HN_OK) q->alpha_before = hn_csv_rows_before(q->alpha_csv);
    return st;
}

hn_status hn_search_run(const hn_experiment *e, const hn_search_opts *o,
                        hn_search_result *r) {
    if (hn_prune_is(e)) return hn_prune_run(e, o, r);
    memset(r, 0, sizeof *r);
    if (hn_par_launched_size() > 1) /* N copies would share one run directory */
        return hn_fail(HN_ERR_UNSUPPORTED, "search.algorithm c1 runs in one "
                       "process: start it without mpirun (%d processes)",
                       hn_par_launched_size());
    double t0 = hn_now();
    hn_threads_apply(e->train.threads);
    char dir[1024];
    if (o->run_dir && o->run_dir[0]) {
        if (strlen(o->run_dir) >= sizeof dir)
            return hn_fail(HN_ERR_RANGE, "--out: longer than %zu characters",
                           sizeof dir - 1);
        snprintf(dir, sizeof dir, "%s", o->run_dir);
    } else {
        HN_TRY(hn_rundir_join(e->out, e->name, dir, sizeof dir));
    }
    snprintf(r->run_dir, sizeof r->run_dir, "%s", dir);
    search q;
    memset(&q, 0, sizeof q);
    /* everything is checked before the run directory is touched */
    hn_status st = setup(&q, e);
    char latest[1200] = "";
    int latest_it = -1;
    if (st == HN_OK)
        st = hn_search_rundir_begin(e, o, dir, &q.rd, latest, sizeof latest,
                                    &latest_it);
    if (st == HN_OK) st = open_csvs(&q);
    if (st == HN_OK) {
        if (latest_it >= 0) {
            st = restore_state(&q, latest);
            if (st == HN_OK)
                HN_INFO("resumed from %s (%d iterations done)", latest, q.iter);
        } else {
            st = hn_session_calibrate_clamps(q.s);
        }
    }
    while (st == HN_OK && q.iter < e->search.iterations) {
        double ti = hn_now();
        st = omega_phase(&q, o->progress);
        if (st == HN_OK) st = alpha_phase(&q, o->progress);
        if (st == HN_OK) {
            q.iter++;
            st = save_state(&q);
        }
        if (st == HN_OK) st = log_iteration(&q, hn_now() - ti);
    }
    r->iterations = q.iter;
    r->target_cost = q.closs.target;
    if (st == HN_OK) st = finish(&q, o->progress, r);
    if (st == HN_OK) st = hn_search_manifest_results(q.rd, r);
    if (q.rd) {
        hn_search_rundir_end(q.rd, st);
        hn_rundir_free(q.rd);
    }
    search_free(&q);
    r->seconds = hn_now() - t0;
    return st;
}
