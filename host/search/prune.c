/* The pruning searches, Algorithms C.2-C.5 (prune.h, docs/search.md).
 *
 * Widths: layer l keeps w_l = 1 + Binomial(C_l - 1, sigmoid(alpha_g))
 * filters (section 4, Lemmas 5-8; g = the layer or its stage), every
 * filter at full precision; cost = MACs.  Per outer iteration k:
 *   c2  weights: t_omega epochs over T_omega of slimmable training on the
 *       homogeneous widths A (slim.widths) plus the expected configuration
 *       round(E[A]) (every configuration on each batch, one step); then per
 *       T_alpha batch: |S| samples, each fine-tuned sample_epochs epochs
 *       over T_omega from a copy of the weights, scored on that batch,
 *       one alpha step (eq. 3 or a baseline, as C.1).
 *   c3  every reset_every iterations the weights are re-initialised and
 *       trained as in c2 over the whole training split T; |S| samples per
 *       iteration, each fine-tuned from a copy, scored on every batch of T:
 *       one alpha step per batch (appendix C.3's three changes).
 *   c4  no shared weights: each sample trained from scratch sample_epochs
 *       epochs over T, scored on every batch of T, one step per batch.
 *   c5  as c4 with L = sigma(CE - expected CE), expected = the piecewise-
 *       linear fit of homogeneous (MACs, CE) points (eq. 7-8), trained
 *       first (interp_runs trainings per width, averaged) or read.
 * The sampled configurations of a step are independent jobs: under mpirun
 * each rank trains jobs i with i % size == rank and the losses are summed
 * over ranks; a job's randomness comes from a stream named by (seed, step,
 * sample index), so the search is identical for any number of ranks.
 * Rank 0 alone trains the shared weights (then broadcasts them), writes
 * the run directory and evaluates the found configurations. */
#include "search/prune.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/checkpoint.h"
#include "hetnas/closs.h"
#include "hetnas/cost.h"
#include "hetnas/dist.h"
#include "hetnas/estimator.h"
#include "hetnas/fileio.h"
#include "hetnas/json.h"
#include "hetnas/log.h"
#include "hetnas/progress.h"
#include "hetnas/rng.h"
#include "hetnas/session.h"
#include "hetnas/threads.h"
#include "search/par.h"
#include "search/search_common.h"

#define FP_OP ((hn_op){HN_BITS_FP, HN_BITS_FP})
#define MAX_PTS 64

static const double k_default_widths[] = {0.25, 0.5, 0.75, 1.0};

bool hn_prune_is(const hn_experiment *e) {
    const char *a = e->search.algorithm;
    return a[0] == 'c' && a[1] >= '2' && a[1] <= '5' && a[2] == 0;
}

static const char *src_of(const hn_experiment *e) {
    return e->source[0] ? e->source : "experiment";
}

/* ---- validation (no data read) ------------------------------------------ */

typedef struct names {
    int alg;
    hn_dist_share share;
    hn_closs_sigma sigma;
    hn_iloss_sigma isig;
    hn_baseline baseline;
} names;

static hn_status key_err(const hn_experiment *e, const char *key) {
    char msg[700];
    snprintf(msg, sizeof msg, "%s", hn_error_msg());
    return hn_fail(HN_ERR_SCHEMA, "%s: %s: %s", src_of(e), key, msg);
}

/* The homogeneous width set A: slim.widths, or the paper's. */
static int homo_widths(const hn_experiment *e, double *w) {
    if (e->slim.n_widths > 0) {
        memcpy(w, e->slim.widths, sizeof(double) * (size_t)e->slim.n_widths);
        return e->slim.n_widths;
    }
    memcpy(w, k_default_widths, sizeof k_default_widths);
    return 4;
}

/* search.interp_points, relative paths against the experiment's folder. */
static void points_path(const hn_experiment *e, char *buf, size_t cap) {
    const char *p = e->search.interp_points;
    const char *slash = strrchr(e->source, '/');
    if (p[0] == '/' || !slash)
        snprintf(buf, cap, "%s", p);
    else
        snprintf(buf, cap, "%.*s/%s", (int)(slash - e->source), e->source, p);
}

/* Reads (width, ce) rows: widths in (0, 1], CE finite >= 0, distinct. */
static hn_status read_points(const hn_experiment *e, double *w, double *ce, int *n) {
    char path[HN_EXP_PATH + 64];
    points_path(e, path, sizeof path);
    hn_csv_table t;
    hn_status st = hn_csv_read(path, &t);
    if (st != HN_OK) return key_err(e, "search.interp_points");
    int cw = hn_csv_table_col(&t, "width"), cc = hn_csv_table_col(&t, "ce");
    *n = 0;
    if (cw < 0 || cc < 0)
        st = hn_fail(HN_ERR_SCHEMA, "%s: search.interp_points: %s: needs the "
                     "columns width (multiplier) and ce", src_of(e), path);
    for (int i = 0; st == HN_OK && i < t.n_rows; i++) {
        char *end1, *end2;
        const char *sw = t.cells[i * t.n_cols + cw], *sc = t.cells[i * t.n_cols + cc];
        double x = strtod(sw, &end1), y = strtod(sc, &end2);
        if (end1 == sw || *end1 || end2 == sc || *end2 || !isfinite(y) || y < 0)
            st = hn_fail(HN_ERR_SCHEMA, "%s: search.interp_points: %s row %d: "
                         "'%s', '%s' is not a width and a finite CE >= 0",
                         src_of(e), path, i + 1, sw, sc);
        else if (!(x > 0 && x <= 1))
            st = hn_fail(HN_ERR_RANGE, "%s: search.interp_points: %s row %d: "
                         "width %g is beyond a layer's filters (a multiplier "
                         "in (0, 1])", src_of(e), path, i + 1, x);
        else if (*n >= MAX_PTS)
            st = hn_fail(HN_ERR_RANGE, "%s: search.interp_points: %s: at most "
                         "%d points", src_of(e), path, MAX_PTS);
        for (int j = 0; st == HN_OK && j < *n; j++)
            if (w[j] == x)
                st = hn_fail(HN_ERR_SCHEMA, "%s: search.interp_points: %s row "
                             "%d: width %g is listed twice", src_of(e), path,
                             i + 1, x);
        if (st == HN_OK) {
            w[*n] = x;
            ce[*n] = y;
            (*n)++;
        }
    }
    hn_csv_table_free(&t);
    if (st == HN_OK && *n < 2)
        st = hn_fail(HN_ERR_SCHEMA, "%s: search.interp_points: %s: C.5 needs at "
                     "least 2 homogeneous points, found %d", src_of(e), path, *n);
    return st;
}

static hn_status parse_names(const hn_experiment *e, names *p) {
    const char *src = src_of(e);
    memset(p, 0, sizeof *p);
    if (!hn_prune_is(e))
        return hn_fail(HN_ERR_SCHEMA, "%s: search.algorithm: '%s' is not a "
                       "pruning search (c2|c3|c4|c5)", src, e->search.algorithm);
    p->alg = e->search.algorithm[1] - '0';
    const char *alg = e->search.algorithm;
    if (strcmp(e->search.distribution, "binomial"))
        return hn_fail(HN_ERR_SCHEMA, "%s: search.distribution: %s searches "
                       "widths with the binomial distribution (section 4), not "
                       "'%s': set search.distribution: binomial", src, alg,
                       e->search.distribution);
    if (strcmp(e->search.metric, "macs"))
        return hn_fail(HN_ERR_SCHEMA, "%s: search.metric: %s counts MACs (section "
                       "2), not '%s': set search.metric: macs", src, alg,
                       e->search.metric);
    if (strcmp(e->search.cost_backend, "model"))
        return hn_fail(HN_ERR_SCHEMA, "%s: search.cost_backend: '%s' measures "
                       "cycles; %s counts MACs", src, e->search.cost_backend, alg);
    /* the integer backends run quantized networks; pruned ones are float */
    if (strcmp(e->search.eval_backend, "cpu"))
        return hn_fail(HN_ERR_SCHEMA, "%s: search.eval_backend: '%s' runs "
                       "quantized networks; %s searches float widths: cpu",
                       src, e->search.eval_backend, alg);
    if (hn_dist_share_parse(e->search.share, &p->share) != HN_OK)
        return key_err(e, "search.share");
    if (hn_closs_sigma_parse(e->search.sigma, &p->sigma) != HN_OK)
        return key_err(e, "search.sigma");
    if (hn_iloss_sigma_parse(e->search.interp_sigma, &p->isig) != HN_OK)
        return key_err(e, "search.interp_sigma");
    if (hn_baseline_parse(e->search.baseline, &p->baseline) != HN_OK)
        return key_err(e, "search.baseline");
    if (p->baseline == HN_BASELINE_LOO && e->search.samples < 2)
        return hn_fail(HN_ERR_SCHEMA, "%s: search.samples: the leave-one-out "
                       "baseline needs at least 2 samples, got %d", src,
                       e->search.samples);
    if (e->search.samples > 1024)
        return hn_fail(HN_ERR_RANGE, "%s: search.samples: at most 1024 for the "
                       "pruning searches, got %d", src, e->search.samples);
    if (p->alg == 2 && e->search.t_omega == 0 && e->init[0] == 0)
        return hn_fail(HN_ERR_SCHEMA, "%s: search.t_omega: 0 trains no weights, "
                       "which needs trained ones from `init`", src);
    if (p->alg == 3 && e->search.t_omega < 1)
        return hn_fail(HN_ERR_SCHEMA, "%s: search.t_omega: c3 re-initialises the "
                       "weights and must train them (>= 1 epoch)", src);
    if (p->alg >= 4 && e->search.sample_epochs < 1)
        return hn_fail(HN_ERR_SCHEMA, "%s: search.sample_epochs: %s trains each "
                       "sample from scratch: at least 1 epoch", src, alg);
    if (p->alg >= 4 && e->search.final_epochs < 1)
        return hn_fail(HN_ERR_SCHEMA, "%s: search.final_epochs: %s has no shared "
                       "weights: the found configurations train from scratch, "
                       "at least 1 epoch", src, alg);
    {   /* checked here, not at the end of a long run */
        double w[HN_EXP_MAX_SLIM];
        int H = e->search.final_homogeneous ? homo_widths(e, w) : 0;
        if (1 + e->search.final_samples + H > HN_SEARCH_MAX_FOUND)
            return hn_fail(HN_ERR_RANGE, "%s: search.final_samples: at most %d "
                           "configurations are evaluated at the end", src,
                           HN_SEARCH_MAX_FOUND);
    }
    if (p->alg == 5) {
        double w[MAX_PTS], ce[MAX_PTS];
        int n = 0;
        if (e->search.interp_points[0]) {
            HN_TRY(read_points(e, w, ce, &n));
        } else if (homo_widths(e, w) < 2) {
            return hn_fail(HN_ERR_SCHEMA, "%s: search.interp_points: C.5 needs "
                           "at least 2 homogeneous points: give a file of "
                           "(width, ce) rows or 2+ slim.widths to train", src);
        }
    }
    return HN_OK;
}

hn_status hn_prune_validate(const hn_experiment *e) {
    names p;
    return parse_names(e, &p);
}

/* ---- state ---------------------------------------------------------------- */

typedef struct prune {
    const hn_experiment *e;
    names p;
    hn_par par;
    hn_experiment em;       /* the shared weights' session: fp32, slim = A */
    hn_experiment ew;       /* the jobs' sessions (seed set per job) */
    hn_exp_data data;
    hn_exp_data dw;         /* what weights train on: T_omega (c2) or T */
    int *omega, *alpha_idx, n_omega, n_alpha;
    hn_session *s;
    const hn_arch *arch;
    hn_dist *dist;
    hn_estimator *est;
    hn_closs closs;
    hn_cost_opts cost_opts;
    hn_interp *interp;
    double pts[MAX_PTS * 3]; /* (n_pts, 3): width, MACs, CE */
    int n_pts;
    hn_loader *alpha_ld;    /* T_alpha (c2) or T batches that score samples */
    int n_homo;
    double homo[HN_EXP_MAX_SLIM]; /* A */
    int L, P, S, nb_alpha;
    int *omega_w;           /* (L) the expected widths of the last weight
                               phase (0s: none yet) */
    double *alpha, *vel, *grad, *score, *loss, *ce, *cost, *ece, *mat;
    int *wid;               /* (S, L) sampled widths */
    float *x, *logits;
    int *y, n_classes;
    double alpha_lr;
    int iter;
    long alpha_step;
    int progress;
    hn_rundir *rd;
    hn_csv *steps_csv, *alpha_csv;
    int steps_before, alpha_before;
} prune;

static void prune_free(prune *q) {
    hn_csv_close(q->steps_csv);
    hn_csv_close(q->alpha_csv);
    hn_loader_free(q->alpha_ld);
    hn_interp_free(q->interp);
    hn_estimator_free(q->est);
    hn_dist_free(q->dist);
    hn_session_free(q->s);
    hn_exp_data_free(&q->data);
    free(q->omega);
    free(q->alpha_idx);
    free(q->omega_w);
    free(q->alpha);
    free(q->vel);
    free(q->grad);
    free(q->score);
    free(q->loss);
    free(q->ce);
    free(q->cost);
    free(q->ece);
    free(q->mat);
    free(q->wid);
    free(q->x);
    free(q->logits);
    free(q->y);
}

/* splitmix64 over (seed, tag, a, b): the seed of one job's stream. */
static uint64_t mix(uint64_t seed, uint64_t tag, uint64_t a, uint64_t b) {
    uint64_t v[4] = {seed, tag, a, b}, h = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 4; i++) {
        uint64_t z = h ^ (v[i] + 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1));
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        h = z ^ (z >> 31);
    }
    return h;
}

static hn_status widths_cfg(const prune *q, const int *w, hn_config **c) {
    return hn_config_widths(q->arch, w, FP_OP, c);
}

static hn_status cfg_macs(const prune *q, const hn_config *c, double *out) {
    return hn_closs_cost(q->arch, c, &q->cost_opts, HN_CLOSS_MACS, out);
}

static hn_status widths_macs(const prune *q, const int *w, double *out) {
    hn_config *c = NULL;
    HN_TRY(widths_cfg(q, w, &c));
    hn_status st = cfg_macs(q, c, out);
    hn_config_free(c);
    return st;
}

static void copy_params(hn_model *dst, hn_model *src) {
    int n = hn_model_n_params(src);
    for (int i = 0; i < n; i++) {
        hn_param a = hn_model_param(dst, i), b = hn_model_param(src, i);
        memcpy(a.data, b.data, b.numel * sizeof(float));
    }
}

/* The model's recalibration BN set (the one of widths outside A) is
 * re-copied from the widest set whenever other widths come (nn.h); which
 * widths it holds is not part of a checkpoint.  Setting the last weight
 * phase's expected widths before loading parameters makes the state the
 * same after a resume, in a job's copy and on every rank. */
static hn_status set_recal(const prune *q, hn_model *m) {
    if (q->omega_w[0] <= 0) return HN_OK;
    hn_config *c = NULL;
    HN_TRY(widths_cfg(q, q->omega_w, &c));
    hn_status st = hn_model_set_config(m, c);
    hn_config_free(c);
    return st;
}

/* Seeded split of the training split (c2), as C.1 does. */
static hn_status split_train(prune *q) {
    const hn_split *sp = &q->data.split;
    q->dw = q->data;
    if (q->p.alg != 2) return HN_OK; /* c3-c5: T for weights and alphas */
    HN_TRY(hn_search_split(q->e, sp, &q->omega, &q->n_omega, &q->alpha_idx,
                           &q->n_alpha));
    q->dw.split.train = q->omega;
    q->dw.split.n_train = q->n_omega;
    return HN_OK;
}

/* Every width of A (and the target) keeps >= 1 filter of every layer and
 * the widths of A are distinct configurations. */
static hn_status check_widths(const prune *q) {
    const hn_experiment *e = q->e;
    const char *key = "slim.widths";
    int prev_sum = -1;
    for (int i = 0; i <= q->n_homo; i++) {
        double r = i < q->n_homo ? q->homo[i] : e->search.target_width;
        int sum = 0;
        for (int l = 0; l < q->L; l++) {
            const hn_layer_desc *d = hn_arch_layer(q->arch, l);
            int k = (int)floor(d->c_out * r + 1e-9);
            if (k < 1)
                return hn_fail(HN_ERR_RANGE, "%s: %s: width %g keeps no filter of "
                               "layer %s (%d filters)", src_of(e),
                               i < q->n_homo ? key : "search.target_width", r,
                               d->name, d->c_out);
            sum += k;
        }
        if (i < q->n_homo && sum == prev_sum)
            return hn_fail(HN_ERR_RANGE, "%s: %s: widths %g and %g give the same "
                           "filter counts on this model", src_of(e), key,
                           q->homo[i - 1], r);
        prev_sum = sum;
    }
    return HN_OK;
}

static hn_status setup(prune *q, const hn_experiment *e) {
    q->e = e;
    HN_TRY(parse_names(e, &q->p));
    q->S = e->search.samples;
    q->n_homo = homo_widths(e, q->homo);
    q->em = *e;
    q->em.config.kind = HN_EXP_CONFIG_FP32;
    q->em.config.op = FP_OP;
    q->em.config.inline_json = NULL; /* e owns it */
    /* c2/c3: switchable BN over A; c4/c5: one model per configuration */
    q->em.slim.n_widths = q->p.alg <= 3 ? q->n_homo : 0;
    memcpy(q->em.slim.widths, q->homo, sizeof(double) * (size_t)q->n_homo);
    q->ew = q->em;
    q->ew.init[0] = 0;
    HN_TRY(hn_experiment_load_data(e, &q->data));
    HN_TRY(split_train(q));
    HN_TRY(hn_session_new(&q->em, &q->dw,
                          q->p.alg == 2 && e->init[0] ? e->init : NULL, &q->s));
    q->arch = hn_session_arch(q->s);
    q->L = hn_arch_n_layers(q->arch);
    HN_TRY(check_widths(q));
    HN_TRY(hn_dist_new(q->arch, HN_DIST_BINOMIAL, q->p.share, 0, NULL, &q->dist));
    q->P = hn_dist_n_params(q->dist);
    hn_estimator_opts eo = hn_estimator_opts_default();
    eo.baseline = q->p.baseline;
    eo.decay = e->search.baseline_decay;
    HN_TRY(hn_estimator_new(&eo, q->P, &q->est));
    q->cost_opts = hn_cost_opts_default();
    q->cost_opts.input_bits = e->model.input_bits;
    hn_config *tc = NULL;
    HN_TRY(hn_config_width_mult(q->arch, e->search.target_width, FP_OP, &tc));
    double tcost = 0;
    hn_status st = cfg_macs(q, tc, &tcost);
    hn_config_free(tc);
    HN_TRY(st);
    q->closs = (hn_closs){.sigma = q->p.sigma, .lambda = e->search.lambda,
                          .target = tcost};
    HN_TRY(hn_closs_check(&q->closs));

    hn_loader_opts lo = {.batch_size = e->data.batch_size, .shuffle = true,
                         .drop_last = true, .seed = e->seed ^ 0xa1fa};
    const int *aidx = q->p.alg == 2 ? q->alpha_idx : q->data.split.train;
    int na = q->p.alg == 2 ? q->n_alpha : q->data.split.n_train;
    HN_TRY(hn_loader_new(q->data.train, aidx, na, &q->data.norm, &lo, &q->alpha_ld));
    q->nb_alpha = hn_loader_n_batches(q->alpha_ld);
    if (q->nb_alpha < 1)
        return hn_fail(HN_ERR_RANGE, "data.batch_size: %d is larger than the "
                       "alpha batches' set (%d samples)", e->data.batch_size, na);
    if (e->search.alpha_batches > 0 && e->search.alpha_batches < q->nb_alpha)
        q->nb_alpha = e->search.alpha_batches;

    size_t P = (size_t)q->P, S = (size_t)q->S, L = (size_t)q->L;
    size_t B = (size_t)e->data.batch_size;
    q->n_classes = hn_dataset_num_classes(q->data.train);
    size_t in = (size_t)hn_dataset_c(q->data.train) * hn_dataset_h(q->data.train) *
                hn_dataset_w(q->data.train);
    q->omega_w = calloc(L, sizeof(int));
    q->alpha = calloc(P, sizeof(double));
    q->vel = calloc(P, sizeof(double));
    q->grad = calloc(P, sizeof(double));
    q->score = calloc(S * P, sizeof(double));
    q->loss = calloc(S, sizeof(double));
    q->ce = calloc(S, sizeof(double));
    q->cost = calloc(S, sizeof(double));
    q->ece = calloc(S, sizeof(double));
    q->mat = calloc(S * (size_t)q->nb_alpha, sizeof(double));
    q->wid = calloc(S * L, sizeof(int));
    q->x = malloc(sizeof(float) * B * in);
    q->logits = malloc(sizeof(float) * B * (size_t)q->n_classes);
    q->y = malloc(sizeof(int) * B);
    if (!q->omega_w || !q->alpha || !q->vel || !q->grad || !q->score || !q->loss ||
        !q->ce || !q->cost || !q->ece || !q->mat || !q->wid || !q->x ||
        !q->logits || !q->y)
        return hn_fail(HN_ERR_NOMEM, "out of memory");
    /* p^0 = search.init_prob in every group (the paper's 0.5 or 0.75) */
    for (int i = 0; i < q->P; i++) q->grad[i] = e->search.init_prob;
    HN_TRY(hn_dist_set_probs(q->dist, q->P, q->grad));
    HN_TRY(hn_dist_get_alpha(q->dist, q->P, q->alpha));
    q->alpha_lr = e->search.alpha_lr;
    return HN_OK;
}

/* ---- jobs: one configuration trained and scored --------------------------- */

typedef struct job {
    const int *w;     /* (L) widths */
    uint64_t seed;    /* the job's stream: weight init, batch order */
    int shared;       /* start from the shared weights (else from scratch) */
    int epochs;       /* training epochs */
    int ce_epoch;     /* score on alpha-loader batches [b0, b0 + nb) of it */
    int b0, nb;       /* nb = 0: validation and test accuracy instead */
} job;

static hn_status job_train(prune *q, hn_session *ws, const hn_experiment *ew,
                           const hn_config *c, int epochs) {
    hn_sched sch = hn_experiment_make_sched(ew, epochs > 0 ? epochs : 1);
    int cap = q->e->train.max_batches;
    for (int ep = 0; ep < epochs; ep++) {
        hn_session_set_lr(ws, hn_sched_lr(&sch, ep));
        hn_session_start_epoch(ws, ep);
        int nb = hn_session_n_batches(ws);
        if (cap > 0 && cap < nb) nb = cap;
        for (int b = 0; b < nb; b++) {
            hn_step_result sr;
            HN_TRY(hn_session_step(ws, c, &sr));
            if (sr.n == 0) break;
        }
    }
    return HN_OK;
}

/* CE of the model's configuration on the job's batches: running BN
 * statistics when they were estimated at these widths (trained), else
 * batch statistics with the running ones untouched (as C.1 scores). */
static hn_status job_score(prune *q, hn_model *m, const job *j, double *ce) {
    int valid = hn_model_bn_stats_valid(m);
    hn_loader_start_epoch(q->alpha_ld, j->ce_epoch);
    hn_loader_seek(q->alpha_ld, j->b0);
    for (int i = 0; i < j->nb; i++) {
        int n = hn_loader_next(q->alpha_ld, q->x, q->y);
        if (n <= 0)
            return hn_fail(HN_ERR_INTERNAL, "alpha batch %d: past the end", j->b0 + i);
        int upd = hn_model_bn_update(m);
        if (!valid) hn_model_set_bn_update(m, 0);
        hn_status st = hn_model_forward(m, q->x, n, valid ? 0 : 1, q->logits);
        hn_model_set_bn_update(m, upd);
        HN_TRY(st);
        ce[i] = hn_softmax_ce(q->logits, q->y, n, q->n_classes, NULL, NULL);
        if (!isfinite(ce[i]))
            return hn_fail(HN_ERR_RANGE, "search: non-finite cross entropy at "
                           "alpha step %ld", q->alpha_step);
    }
    return HN_OK;
}

/* A session (seed `seed`, its experiment in *ew, which must outlive it)
 * holding a copy of the shared weights in the state set_recal describes. */
static hn_status shared_copy(prune *q, uint64_t seed, hn_experiment *ew,
                             hn_session **out) {
    *ew = q->ew;
    ew->seed = seed;
    HN_TRY(hn_session_new(ew, &q->dw, NULL, out));
    hn_model *m = hn_session_model(*out);
    hn_status st = set_recal(q, m);
    if (st == HN_OK) copy_params(m, hn_session_model(q->s));
    if (st != HN_OK) {
        hn_session_free(*out);
        *out = NULL;
    }
    return st;
}

/* A session of its own (the job's seed), the configuration trained, then
 * scored: out[nb] CEs, or with nb = 0 out[2] = validation and test accuracy
 * (a found configuration; the test set once). */
static hn_status run_job(prune *q, const job *j, double *out) {
    hn_experiment ewj, *ew = &ewj; /* outlives the session */
    hn_session *ws = NULL;
    hn_config *c = NULL;
    if (j->shared) {
        HN_TRY(shared_copy(q, j->seed, ew, &ws));
    } else {
        *ew = q->ew;
        ew->seed = j->seed;
        HN_TRY(hn_session_new(ew, &q->dw, NULL, &ws));
    }
    hn_model *m = hn_session_model(ws);
    hn_status st = widths_cfg(q, j->w, &c);
    if (st == HN_OK) st = hn_model_set_config(m, c);
    if (st == HN_OK) st = job_train(q, ws, ew, c, j->epochs);
    if (st == HN_OK) st = hn_model_set_config(m, c);
    if (st == HN_OK && j->nb > 0) st = job_score(q, m, j, out);
    if (st == HN_OK && j->nb == 0) {
        hn_session_eval ev = {0}, et = {0};
        hn_session_eval_opts eo = hn_session_eval_opts_default(ws);
        eo.config = c;
        eo.split = HN_SPLIT_VAL;
        st = hn_session_evaluate(ws, &eo, &ev);
        eo.split = HN_SPLIT_TEST;
        if (st == HN_OK) st = hn_session_evaluate(ws, &eo, &et);
        out[0] = ev.acc;
        out[1] = et.acc;
    }
    hn_config_free(c);
    hn_session_free(ws);
    return st;
}

/* n jobs, each giving nb values (its CEs, or 2 accuracies): ce (n, nb) on
 * every rank. */
static hn_status run_jobs(prune *q, int n, const job *jobs, int nb, double *ce,
                          const char *label) {
    memset(ce, 0, sizeof(double) * (size_t)n * (size_t)nb);
    hn_progress pg;
    int mine = 0;
    for (int i = q->par.rank; i < n; i += q->par.size) mine++;
    hn_progress_begin(&pg, label, mine, q->par.rank == 0 ? q->progress : 0);
    hn_status st = HN_OK;
    int done = 0;
    for (int i = q->par.rank; i < n && st == HN_OK; i += q->par.size) {
        st = run_job(q, &jobs[i], ce + (size_t)i * (size_t)nb);
        hn_progress_update(&pg, ++done, 0, NULL);
    }
    hn_progress_end(&pg);
    hn_status st2 = hn_par_sum(&q->par, ce, n * nb, st != HN_OK);
    return st != HN_OK ? st : st2;
}

/* ---- the shared weights (c2, c3) ------------------------------------------ */

static hn_status bcast_weights(prune *q, hn_status st) {
    HN_TRY(hn_par_bcast_status(&q->par, st));
    hn_model *m = hn_session_model(q->s);
    int n = hn_model_n_params(m);
    for (int i = 0; i < n; i++) {
        hn_param p = hn_model_param(m, i);
        HN_TRY(hn_par_bcast_f32(&q->par, p.data, p.numel));
    }
    return HN_OK;
}

/* Fresh random weights (c3): a model seeded by (seed, iteration), its
 * optimizer state cleared. */
static hn_status reinit_weights(prune *q) {
    hn_experiment er = q->em;
    er.seed = mix(q->e->seed, 0x4e5e7, (uint64_t)q->iter, 0);
    er.init[0] = 0;
    hn_session *t = NULL;
    HN_TRY(hn_session_new(&er, &q->dw, NULL, &t));
    copy_params(hn_session_model(q->s), hn_session_model(t));
    hn_session_free(t);
    hn_optim *o = hn_session_optim(q->s);
    for (int i = 0; i < hn_optim_n_state(o); i++) {
        size_t k = 0;
        float *b = hn_optim_state(o, i, &k);
        memset(b, 0, k * sizeof(float));
    }
    hn_optim_set_steps(o, 0);
    return HN_OK;
}

/* Slimmable training on A plus the expected configuration. */
static hn_status weight_phase(prune *q, int reset) {
    const hn_experiment *e = q->e;
    hn_dist_expected_counts(q->dist, q->omega_w); /* every rank */
    if (q->par.rank != 0) return HN_OK;
    if (reset) HN_TRY(reinit_weights(q));
    int n = q->n_homo + 1;
    hn_config *cf[HN_EXP_MAX_SLIM + 1] = {0};
    hn_status st = HN_OK;
    for (int i = 0; i < q->n_homo && st == HN_OK; i++)
        st = hn_config_width_mult(q->arch, q->homo[i], FP_OP, &cf[i]);
    if (st == HN_OK) st = widths_cfg(q, q->omega_w, &cf[q->n_homo]);
    /* c2: one schedule over the search's weight epochs (as C.1); c3: each
     * reset trains anew, one schedule per weight phase */
    int T = e->search.t_omega;
    int total = q->p.alg == 2 ? e->search.iterations * T : T;
    hn_sched sch = hn_experiment_make_sched(&q->em, total > 0 ? total : 1);
    for (int j = 0; j < T && st == HN_OK; j++) {
        int ep = q->iter * T + j;
        hn_session_set_lr(q->s, hn_sched_lr(&sch, q->p.alg == 2 ? ep : j));
        hn_session_start_epoch(q->s, ep);
        int nb = hn_session_n_batches(q->s);
        hn_progress pg;
        char label[64];
        snprintf(label, sizeof label, "iter %d/%d weights", q->iter + 1,
                 e->search.iterations);
        hn_progress_begin(&pg, label, nb, q->progress);
        double loss = 0;
        long seen = 0;
        for (int b = 0; b < nb && st == HN_OK; b++) {
            hn_step_result sr;
            st = hn_session_step_multi(q->s, (const hn_config *const *)cf, n, &sr);
            if (st != HN_OK || sr.n == 0) break;
            loss += (double)sr.loss * sr.n;
            seen += sr.n;
            hn_progress_update(&pg, b + 1, seen, NULL);
        }
        hn_progress_end(&pg);
        hn_jw *w = st == HN_OK ? hn_rundir_event_begin(q->rd, "weights_epoch") : NULL;
        if (w) {
            hn_jw_key(w, "iteration");
            hn_jw_int(w, q->iter);
            hn_jw_key(w, "epoch");
            hn_jw_int(w, ep);
            hn_jw_key(w, "reset");
            hn_jw_bool(w, reset);
            hn_jw_key(w, "train_loss");
            hn_jw_double(w, seen ? loss / (double)seen : 0.0);
            st = hn_rundir_event_end(q->rd, w);
        }
    }
    for (int i = 0; i < n; i++) hn_config_free(cf[i]);
    return st;
}

/* ---- alpha steps ------------------------------------------------------------ */

static hn_status log_step(prune *q, const hn_estimator_stats *stt, double exp_cost) {
    if (q->par.rank != 0) return HN_OK;
    long step = q->alpha_step;
    double mce = 0, mcom = 0, mece = 0;
    for (int s = 0; s < q->S; s++) {
        mce += q->ce[s];
        mcom += q->p.alg == 5 ? NAN : q->loss[s] - q->ce[s];
        mece += q->p.alg == 5 ? q->ece[s] : NAN;
    }
    if (step >= q->steps_before) {
        hn_csv_int(q->steps_csv, step);
        hn_csv_int(q->steps_csv, q->iter);
        hn_csv_double(q->steps_csv, q->alpha_lr);
        hn_csv_double(q->steps_csv, stt->mean_loss);
        hn_csv_double(q->steps_csv, mce / q->S);
        hn_csv_double(q->steps_csv, mcom / q->S);
        hn_csv_double(q->steps_csv, mece / q->S);
        hn_csv_double(q->steps_csv, stt->variance);
        hn_csv_double(q->steps_csv, exp_cost / q->closs.target);
        HN_TRY(hn_csv_end_row(q->steps_csv));
    }
    if (step >= q->alpha_before) {
        hn_csv_int(q->alpha_csv, step);
        for (int i = 0; i < q->P; i++) hn_csv_double(q->alpha_csv, q->alpha[i]);
        HN_TRY(hn_csv_end_row(q->alpha_csv));
    }
    return HN_OK;
}

/* One alpha step from q->ce and q->wid (every rank alike). */
static hn_status alpha_step(prune *q) {
    const hn_experiment *e = q->e;
    int P = q->P;
    for (int s = 0; s < q->S; s++) {
        const int *w = q->wid + (size_t)s * q->L;
        HN_TRY(widths_macs(q, w, &q->cost[s]));
        if (q->p.alg == 5) {
            q->ece[s] = hn_interp_expected(q->interp, q->cost[s]);
            HN_TRY(hn_interp_loss(q->interp, q->p.isig, q->cost[s], q->ce[s],
                                  &q->loss[s]));
        } else {
            HN_TRY(hn_closs_eval(&q->closs, q->ce[s], q->cost[s], &q->loss[s], NULL));
        }
        HN_TRY(hn_dist_grad_log_prob(q->dist, w, P, q->score + (size_t)s * P));
    }
    hn_estimator_stats stt;
    HN_TRY(hn_estimator_grad(q->est, q->S, P, q->loss, q->score, q->grad, &stt));
    hn_search_alpha_sgd(P, q->alpha, q->vel, q->grad, q->alpha_lr,
                        e->search.alpha_momentum, e->search.alpha_grad_clip);
    HN_TRY(hn_dist_set_alpha(q->dist, P, q->alpha));
    int *ew = malloc(sizeof(int) * (size_t)q->L);
    if (!ew) return hn_fail(HN_ERR_NOMEM, "out of memory");
    hn_dist_expected_counts(q->dist, ew);
    double exp_cost = 0;
    hn_status st = widths_macs(q, ew, &exp_cost);
    free(ew);
    HN_TRY(st);
    HN_TRY(log_step(q, &stt, exp_cost));
    q->alpha_step++;
    q->alpha_lr *= e->search.alpha_lr_decay;
    return HN_OK;
}

static void sample_all(prune *q) {
    hn_rng *r = hn_session_rng(q->s);
    for (int s = 0; s < q->S; s++)
        hn_dist_sample_counts(q->dist, r, q->wid + (size_t)s * q->L);
}

static hn_status alpha_phase(prune *q) {
    const hn_experiment *e = q->e;
    job jobs[1024]; /* search.samples <= 1024 (parse_names) */
    char label[64];
    if (q->p.alg == 2) {
        /* per T_alpha batch: new samples, fine-tuned from the weights,
         * scored on that batch */
        for (int b = 0; b < q->nb_alpha; b++) {
            sample_all(q);
            for (int s = 0; s < q->S; s++)
                jobs[s] = (job){.w = q->wid + (size_t)s * q->L, .shared = 1,
                                .seed = mix(e->seed, 0xc2, (uint64_t)q->alpha_step,
                                            (uint64_t)s),
                                .epochs = e->search.sample_epochs,
                                .ce_epoch = q->iter, .b0 = b, .nb = 1};
            snprintf(label, sizeof label, "iter %d/%d step %d/%d samples",
                     q->iter + 1, e->search.iterations, b + 1, q->nb_alpha);
            HN_TRY(run_jobs(q, q->S, jobs, 1, q->ce, label));
            HN_TRY(alpha_step(q));
        }
        return HN_OK;
    }
    /* c3-c5: samples of the iteration, each trained once (c3: from the
     * weights, c4/c5: from scratch), scored on every batch; a step per
     * batch (C.3's third change) */
    sample_all(q);
    int nb = q->nb_alpha;
    for (int s = 0; s < q->S; s++)
        jobs[s] = (job){.w = q->wid + (size_t)s * q->L, .shared = q->p.alg == 3,
                        .seed = mix(e->seed, (uint64_t)q->p.alg, (uint64_t)q->iter,
                                    (uint64_t)s),
                        .epochs = e->search.sample_epochs, .ce_epoch = q->iter,
                        .b0 = 0, .nb = nb};
    snprintf(label, sizeof label, "iter %d/%d samples", q->iter + 1,
             e->search.iterations);
    HN_TRY(run_jobs(q, q->S, jobs, nb, q->mat, label));
    for (int b = 0; b < nb; b++) {
        for (int s = 0; s < q->S; s++) q->ce[s] = q->mat[(size_t)s * nb + b];
        HN_TRY(alpha_step(q));
    }
    return HN_OK;
}

/* ---- C.5: the homogeneous points --------------------------------------------- */

static hn_status make_interp(prune *q) {
    double c[MAX_PTS], y[MAX_PTS];
    for (int i = 0; i < q->n_pts; i++) {
        c[i] = q->pts[3 * i + 1];
        y[i] = q->pts[3 * i + 2];
    }
    hn_interp_free(q->interp);
    q->interp = NULL;
    return hn_interp_new(q->n_pts, c, y, &q->interp);
}

static hn_status points_macs(prune *q) {
    for (int i = 0; i < q->n_pts; i++) {
        hn_config *c = NULL;
        HN_TRY(hn_config_width_mult(q->arch, q->pts[3 * i], FP_OP, &c));
        hn_status st = cfg_macs(q, c, &q->pts[3 * i + 1]);
        hn_config_free(c);
        HN_TRY(st);
    }
    return HN_OK;
}

/* From the file, or each width of A trained interp_runs times from scratch
 * exactly as a sample is (same epochs, same scoring batches), the CE
 * averaged: the expected CE is then the same measurement as a sample's. */
static hn_status homo_points(prune *q) {
    const hn_experiment *e = q->e;
    if (e->search.interp_points[0]) {
        double w[MAX_PTS], ce[MAX_PTS];
        HN_TRY(read_points(e, w, ce, &q->n_pts));
        for (int i = 0; i < q->n_pts; i++) {
            q->pts[3 * i] = w[i];
            q->pts[3 * i + 2] = ce[i];
        }
        HN_TRY(points_macs(q));
        return make_interp(q);
    }
    int R = e->search.interp_runs, H = q->n_homo, nb = q->nb_alpha;
    int n = H * R;
    job *jobs = calloc((size_t)n, sizeof(job));
    int *w = calloc((size_t)H * q->L, sizeof(int));
    double *ce = calloc((size_t)n * nb, sizeof(double));
    hn_status st = jobs && w && ce ? HN_OK : hn_fail(HN_ERR_NOMEM, "out of memory");
    for (int h = 0; h < H && st == HN_OK; h++) {
        hn_config *c = NULL;
        st = hn_config_width_mult(q->arch, q->homo[h], FP_OP, &c);
        for (int l = 0; st == HN_OK && l < q->L; l++)
            w[h * q->L + l] = hn_config_width(c, l);
        hn_config_free(c);
        for (int r = 0; r < R; r++)
            jobs[h * R + r] = (job){.w = w + h * q->L, .shared = 0,
                                    .seed = mix(e->seed, 0x1e7, (uint64_t)h,
                                                (uint64_t)r),
                                    .epochs = e->search.sample_epochs,
                                    .ce_epoch = 0x3fffff, .b0 = 0, .nb = nb};
    }
    if (st == HN_OK) st = run_jobs(q, n, jobs, nb, ce, "homogeneous points");
    for (int h = 0; h < H && st == HN_OK; h++) {
        double sum = 0;
        for (int i = 0; i < R * nb; i++) sum += ce[(size_t)h * R * nb + i];
        q->pts[3 * h] = q->homo[h];
        q->pts[3 * h + 2] = sum / (R * nb);
    }
    q->n_pts = H;
    free(jobs);
    free(w);
    free(ce);
    HN_TRY(st);
    HN_TRY(points_macs(q));
    HN_TRY(make_interp(q));
    if (q->par.rank != 0) return HN_OK;
    static const char *const cols[] = {"width", "macs", "ce"};
    hn_csv *csv = NULL;
    HN_TRY(hn_rundir_csv(q->rd, "interp_points.csv", 3, cols, &csv));
    if (hn_csv_rows_before(csv) == 0)
        for (int i = 0; i < q->n_pts && st == HN_OK; i++) {
            for (int k = 0; k < 3; k++) hn_csv_double(csv, q->pts[3 * i + k]);
            st = hn_csv_end_row(csv);
        }
    hn_csv_close(csv);
    return st;
}

/* ---- checkpoints ---------------------------------------------------------------- */

static hn_status add_state(hn_ckpt_writer *w, void *ud) {
    prune *q = ud;
    HN_TRY(hn_ckpt_writer_add_1d(w, "search.alpha", HN_DT_F64, q->P, q->alpha));
    HN_TRY(hn_ckpt_writer_add_1d(w, "search.velocity", HN_DT_F64, q->P, q->vel));
    double ema;
    long steps;
    hn_estimator_get_state(q->est, &ema, &steps);
    double d[2] = {q->alpha_lr, ema};
    HN_TRY(hn_ckpt_writer_add_1d(w, "search.lr_ema", HN_DT_F64, 2, d));
    HN_TRY(hn_ckpt_writer_add_1d(w, "search.omega_widths", HN_DT_I32, q->L, q->omega_w));
    if (q->n_pts > 0)
        HN_TRY(hn_ckpt_writer_add_1d(w, "search.interp_points", HN_DT_F64,
                                     3 * q->n_pts, q->pts));
    HN_TRY(hn_ckpt_writer_meta_int(w, "search_iteration", q->iter));
    HN_TRY(hn_ckpt_writer_meta_int(w, "search_alpha_step", q->alpha_step));
    HN_TRY(hn_ckpt_writer_meta_int(w, "search_baseline_steps", steps));
    HN_TRY(hn_ckpt_writer_meta_int(w, "search_interp_points", q->n_pts));
    HN_TRY(hn_ckpt_writer_meta(w, "search_algorithm", q->e->search.algorithm));
    return hn_ckpt_writer_meta(w, "format", "hetnas-prune-1");
}

static hn_status save_state(prune *q) {
    if (q->par.rank != 0) return HN_OK;
    char path[1200];
    HN_TRY(hn_rundir_ckpt_path(q->rd, q->iter - 1, path, sizeof path));
    HN_TRY(hn_session_save(q->s, path, add_state, q));
    HN_TRY(hn_rundir_sync(q->rd));
    return hn_rundir_prune_ckpts(q->rd, 2);
}

/* The session (weights, optimizer, streams) and the search state; the
 * weights loaded again after the recalibration set is pinned (set_recal). */
static hn_status restore_state(prune *q, const char *path) {
    hn_ckpt *c = NULL;
    HN_TRY(hn_session_restore(q->s, path, &c));
    int64_t it = 0, st = 0, bsteps = 0, npts = 0;
    double d[2];
    const char *alg = hn_ckpt_meta(c, "search_algorithm");
    hn_status s = alg && !strcmp(alg, q->e->search.algorithm)
                      ? HN_OK
                      : hn_fail(HN_ERR_FORMAT, "%s: written by search algorithm "
                                "'%s', not %s", path, alg ? alg : "?",
                                q->e->search.algorithm);
    if (s == HN_OK) s = hn_ckpt_get_1d(c, "search.alpha", HN_DT_F64, q->P, q->alpha);
    if (s == HN_OK) s = hn_ckpt_get_1d(c, "search.velocity", HN_DT_F64, q->P, q->vel);
    if (s == HN_OK) s = hn_ckpt_get_1d(c, "search.lr_ema", HN_DT_F64, 2, d);
    if (s == HN_OK)
        s = hn_ckpt_get_1d(c, "search.omega_widths", HN_DT_I32, q->L, q->omega_w);
    if (s == HN_OK) s = hn_ckpt_meta_int(c, "search_iteration", &it);
    if (s == HN_OK) s = hn_ckpt_meta_int(c, "search_alpha_step", &st);
    if (s == HN_OK) s = hn_ckpt_meta_int(c, "search_baseline_steps", &bsteps);
    if (s == HN_OK) s = hn_ckpt_meta_int(c, "search_interp_points", &npts);
    if (s == HN_OK && (npts < 0 || npts > MAX_PTS))
        s = hn_fail(HN_ERR_FORMAT, "%s: search_interp_points %lld", path,
                    (long long)npts);
    if (s == HN_OK && npts > 0)
        s = hn_ckpt_get_1d(c, "search.interp_points", HN_DT_F64, 3 * (int)npts, q->pts);
    hn_ckpt_free(c);
    HN_TRY(s);
    if (it < 1 || it > q->e->search.iterations || st < 0 || bsteps < 0)
        return hn_fail(HN_ERR_FORMAT, "%s: search_iteration %lld outside 1..%d "
                       "(search.iterations) or negative step counts", path,
                       (long long)it, q->e->search.iterations);
    q->iter = (int)it;
    q->alpha_step = (long)st;
    q->alpha_lr = d[0];
    q->n_pts = (int)npts;
    if (q->n_pts > 0) HN_TRY(make_interp(q));
    HN_TRY(hn_estimator_set_state(q->est, d[1], (long)bsteps));
    HN_TRY(hn_dist_set_alpha(q->dist, q->P, q->alpha));
    HN_TRY(set_recal(q, hn_session_model(q->s)));
    return hn_session_restore(q->s, path, NULL);
}

/* ---- per-iteration log ---------------------------------------------------------- */

static hn_status log_iteration(prune *q, double seconds) {
    if (q->par.rank != 0) return HN_OK;
    hn_config *ec = NULL;
    HN_TRY(hn_dist_expected(q->dist, q->arch, &ec));
    double cost = 0;
    hn_status st = cfg_macs(q, ec, &cost);
    hn_session_eval ev = {.acc = NAN};
    if (st == HN_OK && q->p.alg <= 3) {
        /* on a copy of the shared weights: evaluating other widths re-copies
         * the model's recalibration BN set (gamma, beta too), which the
         * next iteration's fine-tunes copy (c3 between resets) */
        hn_experiment ew;
        hn_session *es = NULL;
        st = shared_copy(q, mix(q->e->seed, 0xe7a1, (uint64_t)q->iter, 0), &ew, &es);
        if (st == HN_OK) {
            hn_session_eval_opts eo = hn_session_eval_opts_default(es);
            eo.config = ec;
            st = hn_session_evaluate(es, &eo, &ev);
        }
        hn_session_free(es);
    }
    double p[256];
    if (st == HN_OK && q->P > 256) st = hn_fail(HN_ERR_RANGE, "too many groups");
    if (st == HN_OK) st = hn_dist_get_probs(q->dist, q->P, p);
    if (st == HN_OK) {
        hn_jw *w = hn_rundir_event_begin(q->rd, "iteration");
        if (w) {
            hn_jw_key(w, "iteration");
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
            hn_jw_key(w, "expected_widths");
            hn_jw_arr_begin(w);
            for (int l = 0; l < q->L; l++) hn_jw_int(w, hn_config_width(ec, l));
            hn_jw_arr_end(w);
            hn_jw_key(w, "p");
            hn_jw_arr_begin(w);
            for (int i = 0; i < q->P; i++) hn_jw_double(w, p[i]);
            hn_jw_arr_end(w);
            st = hn_rundir_event_end(q->rd, w);
        }
        HN_INFO("iteration %d/%d: expected configuration %.4g MACs (x%.3f of the "
                "target), val acc %.2f%%", q->iter, q->e->search.iterations, cost,
                cost / q->closs.target, 100.0 * ev.acc);
    }
    hn_config_free(ec);
    return st;
}

/* ---- the end: the found configurations ------------------------------------------ */

/* The expected configuration, final_samples samples and (final_homogeneous)
 * every width of A, each trained final_epochs epochs as a job (c2/c3:
 * fine-tuned from the searched weights with a fresh optimizer, like a
 * sample; c4/c5: from scratch), validated and tested once.  Jobs run over
 * the ranks in rounds of one per rank; rank 0 writes a found.csv row per
 * configuration, so a resumed run redoes only the missing rows. */
static hn_status finish(prune *q, hn_search_result *r) {
    const hn_experiment *e = q->e;
    int K = e->search.final_samples;
    int H = e->search.final_homogeneous ? q->n_homo : 0, n = 1 + K + H;
    HN_ASSERT(n <= HN_SEARCH_MAX_FOUND); /* parse_names checked it */
    hn_csv *csv = NULL;
    int done = 0;
    hn_status st = HN_OK;
    if (q->par.rank == 0) {
        static const char *const cols[] = {"name", "config", "cost", "cost_ratio",
                                           "val_acc", "test_acc"};
        char fdir[1200];
        st = hn_rundir_file(q->rd, "found", fdir, sizeof fdir);
        if (st == HN_OK) st = hn_mkdirs(fdir);
        if (st == HN_OK) st = hn_rundir_csv(q->rd, "found.csv", 6, cols, &csv);
        if (st == HN_OK) done = hn_csv_rows_before(csv);
    }
    HN_TRY(hn_par_bcast_status(&q->par, st));
    HN_TRY(hn_par_bcast_bytes(&q->par, &done, sizeof done));
    /* the configurations: deterministic given the searched alpha */
    int *w = calloc((size_t)n * q->L, sizeof(int));
    job *jobs = calloc((size_t)n, sizeof(job));
    double acc[2 * HN_SEARCH_MAX_FOUND];
    if (!w || !jobs) st = hn_fail(HN_ERR_NOMEM, "out of memory");
    hn_rng cr;
    hn_rng_seed(&cr, e->seed, 0xf0d);
    for (int i = 0; i < n && st == HN_OK; i++) {
        hn_config *c = NULL;
        hn_search_found *f = &r->found[i];
        memset(f, 0, sizeof *f);
        if (i == 0) {
            st = hn_dist_expected(q->dist, q->arch, &c);
            snprintf(f->name, sizeof f->name, "expected");
        } else if (i <= K) {
            st = hn_dist_sample(q->dist, q->arch, &cr, &c);
            snprintf(f->name, sizeof f->name, "sample_%d", i);
        } else {
            double wm = q->homo[i - 1 - K];
            st = hn_config_width_mult(q->arch, wm, FP_OP, &c);
            snprintf(f->name, sizeof f->name, "width_%g", wm);
            f->homogeneous = true;
        }
        if (st != HN_OK) break;
        for (int l = 0; l < q->L; l++) w[i * q->L + l] = hn_config_width(c, l);
        st = cfg_macs(q, c, &f->cost);
        f->cost_ratio = f->cost / q->closs.target;
        f->val_acc = f->test_acc = NAN;
        if (st == HN_OK && q->par.rank == 0) {
            char rel[80];
            snprintf(rel, sizeof rel, "found/%s.yaml", f->name);
            st = hn_rundir_file(q->rd, rel, f->config_path, sizeof f->config_path);
            if (st == HN_OK) st = hn_config_save(c, q->arch, f->config_path);
        }
        hn_config_free(c);
        jobs[i] = (job){.w = w + i * q->L, .shared = q->p.alg <= 3,
                        .seed = mix(e->seed, 0xf1, (uint64_t)i, 0),
                        .epochs = e->search.final_epochs};
    }
    if (st == HN_OK) r->n_found = n;
    for (int i0 = done; i0 < n && st == HN_OK; i0 += q->par.size) {
        int m = n - i0 < q->par.size ? n - i0 : q->par.size;
        char label[64];
        snprintf(label, sizeof label, "found configurations %d-%d/%d", i0 + 1,
                 i0 + m, n);
        st = run_jobs(q, m, jobs + i0, 2, acc, label);
        for (int k = 0; k < m && st == HN_OK; k++) {
            hn_search_found *f = &r->found[i0 + k];
            f->val_acc = acc[2 * k];
            f->test_acc = acc[2 * k + 1];
            if (q->par.rank != 0) continue;
            char rel[80];
            snprintf(rel, sizeof rel, "found/%s.yaml", f->name);
            hn_csv_str(csv, f->name);
            hn_csv_str(csv, rel);
            hn_csv_double(csv, f->cost);
            hn_csv_double(csv, f->cost_ratio);
            hn_csv_double(csv, f->val_acc);
            hn_csv_double(csv, f->test_acc);
            st = hn_csv_end_row(csv);
            HN_INFO("%s: %.4g MACs (x%.3f), val %.2f%%, test %.2f%%", f->name,
                    f->cost, f->cost_ratio, 100 * f->val_acc, 100 * f->test_acc);
        }
        hn_status s0 = hn_par_bcast_status(&q->par, st); /* rank 0's rows */
        if (st == HN_OK) st = s0;
    }
    free(w);
    free(jobs);
    hn_csv_close(csv);
    if (st != HN_OK || q->par.rank != 0) return st;
    return hn_search_found_readback(q->rd, r);
}

/* ---- the run ---------------------------------------------------------------------- */

static hn_status open_csvs(prune *q) {
    static const char *const cols[] = {"step", "iteration", "alpha_lr", "loss",
                                       "ce", "complexity", "expected_ce",
                                       "estimator_variance", "expected_cost_ratio"};
    HN_TRY(hn_rundir_csv(q->rd, "steps.csv", 9, cols, &q->steps_csv));
    q->steps_before = hn_csv_rows_before(q->steps_csv);
    char names[257][16];
    const char *ptr[257];
    if (q->P > 256) return hn_fail(HN_ERR_RANGE, "too many alpha groups");
    snprintf(names[0], sizeof names[0], "step");
    ptr[0] = names[0];
    for (int g = 0; g < q->P; g++) {
        snprintf(names[g + 1], sizeof names[g + 1], "g%d", g);
        ptr[g + 1] = names[g + 1];
    }
    HN_TRY(hn_rundir_csv(q->rd, "alpha.csv", q->P + 1, ptr, &q->alpha_csv));
    q->alpha_before = hn_csv_rows_before(q->alpha_csv);
    return HN_OK;
}

/* Rank 0 opens (or resumes) the run directory and tells the others which
 * checkpoint to start from. */
static hn_status open_run(prune *q, const hn_search_opts *o, const char *dir,
                          char *latest, size_t cap) {
    int latest_it = -1;
    latest[0] = 0;
    hn_status st = HN_OK;
    if (q->par.rank == 0) {
        st = hn_search_rundir_begin(q->e, o, dir, &q->rd, latest, cap, &latest_it);
        if (st == HN_OK) st = open_csvs(q);
    }
    HN_TRY(hn_par_bcast_status(&q->par, st));
    return hn_par_bcast_bytes(&q->par, latest, cap);
}

hn_status hn_prune_run(const hn_experiment *e, const hn_search_opts *o,
                       hn_search_result *r) {
    memset(r, 0, sizeof *r);
    double t0 = hn_now();
    prune q;
    memset(&q, 0, sizeof q);
    HN_TRY(hn_par_init(&q.par));
    r->mpi_rank = q.par.rank;
    if (q.par.size > 1 && q.par.rank == 0)
        HN_INFO("MPI: %d ranks share the sampled configurations", q.par.size);
    q.progress = q.par.rank == 0 ? o->progress : 0;
    hn_threads_apply(e->train.threads);
    char dir[1024];
    hn_status st = HN_OK;
    if (o->run_dir && o->run_dir[0]) {
        if (strlen(o->run_dir) >= sizeof dir)
            st = hn_fail(HN_ERR_RANGE, "--out: longer than %zu characters",
                         sizeof dir - 1);
        else
            snprintf(dir, sizeof dir, "%s", o->run_dir);
    } else {
        st = hn_rundir_join(e->out, e->name, dir, sizeof dir);
    }
    if (st == HN_OK) snprintf(r->run_dir, sizeof r->run_dir, "%s", dir);
    /* everything is checked before the run directory is touched */
    if (st == HN_OK) st = setup(&q, e);
    char latest[1200] = "";
    if (st == HN_OK) st = open_run(&q, o, dir, latest, sizeof latest);
    if (st == HN_OK && latest[0]) {
        st = restore_state(&q, latest);
        if (st == HN_OK && q.par.rank == 0)
            HN_INFO("resumed from %s (%d iterations done)", latest, q.iter);
    }
    if (st == HN_OK && q.p.alg == 5 && q.n_pts == 0) {
        st = homo_points(&q);
        hn_status s0 = hn_par_bcast_status(&q.par, st); /* rank 0 wrote them */
        if (st == HN_OK) st = s0;
    }
    while (st == HN_OK && q.iter < e->search.iterations) {
        double ti = hn_now();
        if (q.p.alg == 2 || (q.p.alg == 3 && q.iter % e->search.reset_every == 0)) {
            hn_status ws = weight_phase(&q, q.p.alg == 3);
            st = bcast_weights(&q, ws);
            if (ws != HN_OK) st = ws;
        }
        if (st == HN_OK) st = alpha_phase(&q);
        if (st == HN_OK) {
            q.iter++;
            st = save_state(&q);
        }
        if (st == HN_OK) st = log_iteration(&q, hn_now() - ti);
        /* rank 0's checkpoint and log: no rank waits in a step it left */
        hn_status s0 = hn_par_bcast_status(&q.par, st);
        if (st == HN_OK) st = s0;
    }
    r->iterations = q.iter;
    r->target_cost = q.closs.target;
    if (st == HN_OK) st = finish(&q, r);
    if (q.par.rank == 0) {
        if (st == HN_OK) st = hn_search_manifest_results(q.rd, r);
        if (q.rd) {
            hn_search_rundir_end(q.rd, st);
            hn_rundir_free(q.rd);
        }
    }
    prune_free(&q);
    hn_par_finalize(&q.par);
    r->seconds = hn_now() - t0;
    return st;
}
