/* The training loop: data, model, optimizer and schedule built from an
 * experiment; per-epoch validation on the held-out split, checkpoints,
 * early stopping, exact resume; the test set once, at the end, on the best
 * checkpoint. */
#include "hetnas/threads.h"
#include "hetnas/trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HN_HAVE_OPENMP
#include <omp.h>
#endif

#include "hetnas/checkpoint.h"
#include "hetnas/data.h"
#include "hetnas/doc.h"
#include "hetnas/fileio.h"
#include "hetnas/json.h"
#include "hetnas/log.h"
#include "hetnas/optim.h"
#include "hetnas/progress.h"
#include "hetnas/session.h"
#include "hetnas/jv.h"

#define MAX_EPOCHS 100000

typedef struct epoch_rec {
    int epoch; /* 1-based */
    float lr;
    double train_loss, train_acc, val_loss, val_acc, seconds, img_s;
} epoch_rec;

typedef struct trainer {
    const hn_experiment *e;
    hn_exp_data data;    /* train file, split, norm; test loaded before
                            training starts (load_test) */
    hn_session *s;       /* model, optimizer, loaders: the trainer is a
                            client of the session */
    const hn_arch *arch; /* the session's */
    const hn_config *cfg;
    hn_model *model;
    hn_sched sched;
    /* progress of the run (restored on resume) */
    int done_epochs, best_epoch, bad_epochs;
    double best_val_acc;
    epoch_rec *hist;
    int n_hist;
    bool init_loaded;    /* --init / init: applied before the run dir opened */
    char resume_ckpt[1200]; /* newest loadable checkpoint of a resumed run */
    int resume_epoch;       /* its 0-based epoch, -1: none (start over) */
} trainer;

hn_train_opts hn_train_opts_default(void) {
    hn_train_opts o;
    memset(&o, 0, sizeof o);
    o.mode = HN_RUNDIR_NEW;
    o.progress = -1;
    return o;
}

static void trainer_free(trainer *t) {
    hn_session_free(t->s);
    hn_exp_data_free(&t->data);
    free(t->hist);
}

static void set_threads(const hn_experiment *e) {
    hn_threads_apply(e->train.threads);
}

/* Rejects experiment keys the engine does not implement yet instead of
 * silently ignoring them. */
static hn_status check_supported(const hn_experiment *e) {
    if (fabs(e->quant.weight_clamp_std - 3.45) > 1e-12 ||
        fabs(e->quant.act_clamp_std - 3.0) > 1e-12)
        return hn_fail(HN_ERR_UNSUPPORTED, "%s: quant.weight_clamp_std and "
                       "quant.act_clamp_std other than 3.45 and 3 are not "
                       "implemented yet", e->source);
    return HN_OK;
}

/* Dataset, split, normalization and the session (architecture,
 * configuration, model, optimizer, loaders): everything evaluation needs
 * too. */
static hn_status build_common(trainer *t, const hn_experiment *e) {
    memset(t, 0, sizeof *t);
    t->e = e;
    HN_TRY(check_supported(e));
    hn_exp_data *d = &t->data;
    HN_TRY(hn_dataset_load(e->data.name, e->data.dir, HN_DATA_TRAIN,
                           &d->train));
    int n = hn_dataset_n(d->train);
    HN_TRY(hn_split_make(n, e->data.val_fraction, e->data.val_size,
                         hn_experiment_split_seed(e), &d->split));
    if (d->split.n_val == 0)
        return hn_fail(HN_ERR_INVAL, "%s: data.val_fraction/val_size leave no "
                       "validation samples; the test set is never used for "
                       "selection, so a validation split is required",
                       e->source);
    if (e->data.normalize)
        HN_TRY(hn_norm_compute(d->train, d->split.train, d->split.n_train,
                               &d->norm));
    else
        d->norm = hn_norm_identity(hn_dataset_c(d->train));
    HN_TRY(hn_session_new(e, d, NULL, &t->s));
    t->arch = hn_session_arch(t->s);
    t->cfg = hn_session_config(t->s);
    t->model = hn_session_model(t->s);
    return HN_OK;
}

/* The test set, checked against the training images: the model, the
 * batch buffers and the normalization are sized by the training set, so
 * another geometry would be misread (or overflow the buffers). */
static hn_status load_test(const trainer *t, hn_dataset **out) {
    const hn_experiment *e = t->e;
    hn_dataset *d;
    HN_TRY(hn_dataset_load(e->data.name, e->data.dir, HN_DATA_TEST, &d));
    const hn_dataset *tr = t->data.train;
    if (hn_dataset_c(d) != hn_dataset_c(tr) ||
        hn_dataset_h(d) != hn_dataset_h(tr) ||
        hn_dataset_w(d) != hn_dataset_w(tr) ||
        hn_dataset_num_classes(d) != hn_dataset_num_classes(tr)) {
        hn_status s = hn_fail(HN_ERR_FORMAT, "data.dir %s: the test images are "
                              "%dx%dx%d (%d classes), the training images "
                              "%dx%dx%d (%d classes)", e->data.dir,
                              hn_dataset_c(d), hn_dataset_h(d), hn_dataset_w(d),
                              hn_dataset_num_classes(d), hn_dataset_c(tr),
                              hn_dataset_h(tr), hn_dataset_w(tr),
                              hn_dataset_num_classes(tr));
        hn_dataset_free(d);
        return s;
    }
    *out = d;
    return HN_OK;
}

/* The model as it is (configuration and BN statistics of the run) on the
 * validation or test split. */
static hn_status evaluate(trainer *t, hn_session_split split, double *loss,
                          double *acc, int *count) {
    hn_session_eval_opts o = hn_session_eval_opts_default(t->s);
    o.split = split;
    o.recalib_batches = 0; /* the trained configuration: never stale */
    hn_session_eval r;
    HN_TRY(hn_session_evaluate(t->s, &o, &r));
    *loss = r.loss;
    *acc = r.acc;
    if (count) *count = r.n;
    return HN_OK;
}

static bool is_quantized(const hn_config *c) {
    for (int t = 0; t < hn_config_n_ops(c); t++) {
        hn_op op = hn_config_op(c, t);
        if (op.wbits != HN_BITS_FP || op.abits != HN_BITS_FP) return true;
    }
    return false;
}

/* NICE-style gradual quantization: during epoch e only the layers of
 * stages <= e (stem = stage 0, then stages 1..3) are quantized, the others
 * run at full precision; from epoch 3 on every layer is.  The canonical
 * order is stage-major, so that is a prefix of the layers. */
#define HN_N_STAGES 4

/* Sets the quantized prefix of epoch `ep`; *final says all are quantized. */
static hn_status set_epoch_stage(trainer *t, int ep, bool *final) {
    *final = true;
    if (!t->e->quant.gradual || !is_quantized(t->cfg) ||
        ep >= HN_N_STAGES - 1)
        return hn_model_set_quant_layers(t->model, -1);
    *final = false;
    int k = 0;
    while (k < hn_arch_n_layers(t->arch) &&
           hn_arch_layer(t->arch, k)->stage <= ep)
        k++;
    return hn_model_set_quant_layers(t->model, k);
}

/* ---- checkpoints ------------------------------------------------------- */

static char *history_json(const trainer *t) {
    hn_jw *w = hn_jw_new(0);
    if (!w) return NULL;
    hn_jw_arr_begin(w);
    for (int i = 0; i < t->n_hist; i++) {
        const epoch_rec *h = &t->hist[i];
        hn_jw_obj_begin(w);
        hn_jw_key(w, "epoch");
        hn_jw_int(w, h->epoch);
        hn_jw_key(w, "lr");
        hn_jw_double(w, h->lr);
        hn_jw_key(w, "train_loss");
        hn_jw_double(w, h->train_loss);
        hn_jw_key(w, "train_acc");
        hn_jw_double(w, h->train_acc);
        hn_jw_key(w, "val_loss");
        hn_jw_double(w, h->val_loss);
        hn_jw_key(w, "val_acc");
        hn_jw_double(w, h->val_acc);
        hn_jw_key(w, "seconds");
        hn_jw_double(w, h->seconds);
        hn_jw_key(w, "img_s");
        hn_jw_double(w, h->img_s);
        hn_jw_obj_end(w);
    }
    hn_jw_arr_end(w);
    char *s = hn_jw_status(w) == HN_OK ? strdup(hn_jw_data(w, NULL)) : NULL;
    hn_jw_free(w);
    return s;
}

/* Parses the history written by history_json (a flat array of flat
 * objects) with the YAML reader, which reads JSON. */
static hn_status history_parse(trainer *t, const char *json) {
    hn_doc *d;
    HN_TRY(hn_doc_load_string(json, strlen(json), "checkpoint history", &d));
    const hn_node *r = hn_doc_root(d);
    hn_status st = hn_node_expect(d, r, "history", HN_NODE_SEQ);
    size_t n = st == HN_OK ? hn_node_len(r) : 0;
    free(t->hist);
    t->hist = calloc(n + 1, sizeof *t->hist);
    t->n_hist = 0;
    if (!t->hist) st = hn_fail(HN_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n && st == HN_OK; i++) {
        const hn_node *o = hn_node_at(r, i);
        epoch_rec *h = &t->hist[i];
        int64_t ep;
        double v[8];
        const char *keys[8] = {"lr", "train_loss", "train_acc", "val_loss",
                               "val_acc", "seconds", "img_s", NULL};
        const hn_node *en = hn_node_get(o, "epoch");
        if (!en) {
            st = hn_fail(HN_ERR_FORMAT, "checkpoint history: entry %zu has no "
                         "'epoch'", i);
            break;
        }
        st = hn_node_as_int(d, en, "history.epoch", 1, MAX_EPOCHS, &ep);
        for (int k = 0; keys[k] && st == HN_OK; k++) {
            const hn_node *x = hn_node_get(o, keys[k]);
            if (!x) {
                st = hn_fail(HN_ERR_FORMAT, "checkpoint history: entry %zu has "
                             "no '%s'", i, keys[k]);
                break;
            }
            if (!strcmp(hn_node_str(x) ? hn_node_str(x) : "", "null")) {
                v[k] = NAN;
                continue;
            }
            st = hn_node_as_double(d, x, keys[k], -HUGE_VAL, HUGE_VAL, &v[k]);
        }
        if (st != HN_OK) break;
        h->epoch = (int)ep;
        h->lr = (float)v[0];
        h->train_loss = v[1];
        h->train_acc = v[2];
        h->val_loss = v[3];
        h->val_acc = v[4];
        h->seconds = v[5];
        h->img_s = v[6];
        t->n_hist++;
    }
    hn_doc_free(d);
    return st;
}

typedef struct ckpt_ctx {
    trainer *t;
    int epoch;
    const char *hist, *exp;
} ckpt_ctx;

/* The trainer's state in the session checkpoint: progress, scheduler,
 * history and the experiment. */
static hn_status add_trainer_state(hn_ckpt_writer *w, void *ud) {
    const ckpt_ctx *x = ud;
    const trainer *t = x->t;
    char num[64];
    HN_TRY(hn_ckpt_writer_meta(w, "format", "hetnas-train-1"));
    HN_TRY(hn_ckpt_writer_meta_int(w, "epoch", x->epoch));
    HN_TRY(hn_ckpt_writer_meta_int(w, "best_epoch", t->best_epoch));
    HN_TRY(hn_ckpt_writer_meta_int(w, "bad_epochs", t->bad_epochs));
    snprintf(num, sizeof num, "%.17g", t->best_val_acc);
    HN_TRY(hn_ckpt_writer_meta(w, "best_val_acc", num));
    /* plateau scheduler state */
    snprintf(num, sizeof num, "%.9g %.9g %d %d", t->sched.cur_lr, t->sched.best,
             t->sched.bad_epochs, t->sched.have_best);
    HN_TRY(hn_ckpt_writer_meta(w, "sched_state", num));
    HN_TRY(hn_ckpt_writer_meta_json(w, "history", x->hist));
    return hn_ckpt_writer_meta_json(w, "experiment", x->exp);
}

static hn_status save_checkpoint(trainer *t, const char *path, int epoch) {
    char *hist = history_json(t);
    char *exp = NULL;
    hn_status st = hist ? HN_OK : hn_fail(HN_ERR_NOMEM, "out of memory");
    if (st == HN_OK) st = hn_experiment_to_json(t->e, 0, &exp);
    ckpt_ctx x = {t, epoch, hist, exp};
    if (st == HN_OK) st = hn_session_save(t->s, path, add_trainer_state, &x);
    free(hist);
    free(exp);
    return st;
}

static hn_status restore_checkpoint(trainer *t, const char *path) {
    hn_ckpt *c;
    hn_status st = hn_session_restore(t->s, path, &c);
    if (st != HN_OK) return hn_fail_ctx(st, "resuming from %s", path);
    int64_t epoch = 0, best_epoch = 0, bad = 0;
    st = hn_ckpt_meta_int(c, "epoch", &epoch);
    if (st == HN_OK) st = hn_ckpt_meta_int(c, "best_epoch", &best_epoch);
    if (st == HN_OK) st = hn_ckpt_meta_int(c, "bad_epochs", &bad);
    const char *acc = hn_ckpt_meta(c, "best_val_acc");
    const char *ss = hn_ckpt_meta(c, "sched_state");
    const char *hist = hn_ckpt_meta(c, "history");
    if (st == HN_OK && (!acc || !ss || !hist))
        st = hn_fail(HN_ERR_FORMAT, "%s: not a hetnas training checkpoint "
                     "(best_val_acc/sched_state/history metadata missing)",
                     path);
    if (st == HN_OK &&
        sscanf(ss, "%f %f %d %d", &t->sched.cur_lr, &t->sched.best,
               &t->sched.bad_epochs, &t->sched.have_best) != 4)
        st = hn_fail(HN_ERR_FORMAT, "%s: bad sched_state '%s'", path, ss);
    if (st == HN_OK) st = history_parse(t, hist);
    /* Metadata drives array sizes and loop bounds: a tampered or foreign
     * checkpoint must not reach them. */
    int ep_max = t->e->train.epochs;
    double bva = acc ? strtod(acc, NULL) : 0.0;
    if (st == HN_OK && (epoch < 1 || epoch > ep_max))
        st = hn_fail(HN_ERR_RANGE, "%s: metadata 'epoch' = %lld is outside "
                     "1..%d (train.epochs)", path, (long long)epoch, ep_max);
    else if (st == HN_OK && (best_epoch < 0 || best_epoch > epoch))
        st = hn_fail(HN_ERR_RANGE, "%s: metadata 'best_epoch' = %lld is "
                     "outside 0..%lld (epoch)", path, (long long)best_epoch,
                     (long long)epoch);
    else if (st == HN_OK && (bad < 0 || bad > epoch))
        st = hn_fail(HN_ERR_RANGE, "%s: metadata 'bad_epochs' = %lld is "
                     "outside 0..%lld (epoch)", path, (long long)bad,
                     (long long)epoch);
    else if (st == HN_OK && (!isfinite(bva) || bva < -1.0 || bva > 1.0))
        st = hn_fail(HN_ERR_RANGE, "%s: metadata 'best_val_acc' = '%s' is "
                     "not in [-1, 1]", path, acc);
    else if (st == HN_OK && t->n_hist != epoch)
        st = hn_fail(HN_ERR_FORMAT, "%s: metadata 'history' has %d entries "
                     "for %lld epochs", path, t->n_hist, (long long)epoch);
    for (int i = 0; st == HN_OK && i < t->n_hist; i++)
        if (t->hist[i].epoch != i + 1)
            st = hn_fail(HN_ERR_FORMAT, "%s: metadata 'history' entry %d is "
                         "epoch %d, expected %d", path, i, t->hist[i].epoch,
                         i + 1);
    if (st == HN_OK) {
        t->done_epochs = (int)epoch;
        t->best_epoch = (int)best_epoch;
        t->bad_epochs = (int)bad;
        t->best_val_acc = bva;
    }
    hn_ckpt_free(c);
    if (st != HN_OK) hn_fail_ctx(st, "resuming from %s", path);
    return st;
}

static hn_status write_epochs_csv(const trainer *t, hn_rundir *rd) {
    char path[1200];
    HN_TRY(hn_rundir_file(rd, "epochs.csv", path, sizeof path));
    size_t cap = 128 + (size_t)t->n_hist * 160;
    char *buf = malloc(cap);
    if (!buf) return hn_fail(HN_ERR_NOMEM, "out of memory");
    size_t n = (size_t)snprintf(buf, cap, "epoch,lr,train_loss,train_acc,"
                                "val_loss,val_acc,seconds,img_s\n");
    for (int i = 0; i < t->n_hist; i++) {
        const epoch_rec *h = &t->hist[i];
        n += (size_t)snprintf(buf + n, cap - n, "%d,%.6g,%.6f,%.6f,%.6f,%.6f,"
                              "%.3f,%.1f\n", h->epoch, h->lr, h->train_loss,
                              h->train_acc, h->val_loss, h->val_acc,
                              h->seconds, h->img_s);
    }
    hn_status st = hn_file_write_atomic(path, buf, n);
    free(buf);
    return st;
}

/* ---- checks before a run starts ----------------------------------------- */

/* Training drops the last partial batch: a batch larger than the training
 * split would run zero steps per epoch and "succeed". */
static hn_status check_train_split(const trainer *t) {
    const hn_experiment *e = t->e;
    if (e->data.batch_size > t->data.split.n_train)
        return hn_fail(HN_ERR_RANGE, "%s: data.batch_size %d is larger than "
                       "the training split (%d samples after holding out %d "
                       "for validation): no training step would run",
                       e->source, e->data.batch_size, t->data.split.n_train,
                       t->data.split.n_val);
    return HN_OK;
}

/* Dotted paths of the members that differ between two experiment JSON
 * values, appended to buf. */
/* ---- the run ------------------------------------------------------------ */

static hn_status train_epoch(trainer *t, int epoch, float lr, int progress,
                             epoch_rec *rec, hn_rundir *rd) {
    const hn_experiment *e = t->e;
    hn_session_set_lr(t->s, lr);
    hn_session_start_epoch(t->s, epoch);
    int nb = hn_session_n_batches(t->s);
    if (e->train.max_batches > 0 && e->train.max_batches < nb)
        nb = e->train.max_batches;
    char label[48];
    snprintf(label, sizeof label, "epoch %d/%d", epoch + 1, e->train.epochs);
    hn_progress pg;
    hn_progress_begin(&pg, label, nb, progress);
    double t0 = hn_now(), loss_sum = 0;
    long correct = 0, seen = 0;
    for (int b = 0; b < nb; b++) {
        hn_step_result sr;
        HN_TRY(hn_session_step(t->s, NULL, &sr));
        if (sr.n <= 0) break;
        int n = sr.n, c = sr.correct;
        float loss = sr.loss;
        loss_sum += (double)loss * n;
        correct += c;
        seen += n;
        char extra[96];
        snprintf(extra, sizeof extra, "loss %.4f acc %.2f%%", loss_sum / seen,
                 100.0 * correct / seen);
        hn_progress_update(&pg, b + 1, seen, extra);
        if (e->train.log_every > 0 && (b + 1) % e->train.log_every == 0) {
            hn_jw *w = hn_rundir_event_begin(rd, "batch");
            if (w) {
                hn_jw_key(w, "epoch");
                hn_jw_int(w, epoch + 1);
                hn_jw_key(w, "batch");
                hn_jw_int(w, b + 1);
                hn_jw_key(w, "loss");
                hn_jw_double(w, loss);
                hn_jw_key(w, "lr");
                hn_jw_double(w, lr);
                HN_TRY(hn_rundir_event_end(rd, w));
            }
        }
    }
    hn_progress_end(&pg);
    double dt = hn_now() - t0;
    rec->epoch = epoch + 1;
    rec->lr = lr;
    rec->train_loss = seen ? loss_sum / seen : 0;
    rec->train_acc = seen ? (double)correct / seen : 0;
    rec->seconds = dt;
    rec->img_s = dt > 0 ? seen / dt : 0;
    return HN_OK;
}

/* Starting weights from a checkpoint (e.g. `hetnas import`). */
static hn_status load_init(trainer *t, const char *path) {
    return hn_session_load_init(t->s, path);
}

static hn_status run(trainer *t, const hn_train_opts *o, hn_rundir *rd,
                     hn_train_result *r) {
    const hn_experiment *e = t->e;
    double t_run = hn_now();
    t->sched = hn_experiment_make_sched(e, e->train.epochs);
    t->hist = calloc((size_t)e->train.epochs + 1, sizeof *t->hist);
    if (!t->hist) return hn_fail(HN_ERR_NOMEM, "out of memory");
    t->best_val_acc = -1.0;

    char path[1200], best_path[1200];
    HN_TRY(hn_rundir_file(rd, "checkpoints/best.safetensors", best_path,
                          sizeof best_path));
    int latest = t->resume_epoch; /* found before the run started */
    if (latest >= 0) {
        snprintf(path, sizeof path, "%s", t->resume_ckpt);
        HN_TRY(restore_checkpoint(t, path));
        HN_INFO("resumed from %s (%d epochs done)", path, t->done_epochs);
        /* hist was reallocated by the parse; keep room for all epochs */
        epoch_rec *h = realloc(t->hist, ((size_t)e->train.epochs + 1) *
                                            sizeof *h);
        if (!h) return hn_fail(HN_ERR_NOMEM, "out of memory");
        t->hist = h;
    } else if (!t->init_loaded) {
        const char *init = o->init_ckpt ? o->init_ckpt
                           : e->init[0] ? e->init : NULL;
        if (init) HN_TRY(load_init(t, init));
    }
    if (latest < 0 && is_quantized(t->cfg)) {
        /* Quantizer clamps from the initial weights and one batch (NICE):
         * deterministic, so a run restarted before its first checkpoint
         * repeats it exactly. */
        HN_TRY(hn_session_calibrate_clamps(t->s));
    }

    r->early_stopped = false;
    r->started = true;
    for (int ep = t->done_epochs; ep < e->train.epochs; ep++) {
        float lr = e->schedule.name == HN_SCHED_PLATEAU && ep > 0
                       ? t->sched.cur_lr
                       : hn_sched_lr(&t->sched, ep);
        epoch_rec rec;
        bool final_cfg;
        HN_TRY(set_epoch_stage(t, ep, &final_cfg));
        /* NICE noise, reseeded from (seed, epoch) so that a resumed epoch
         * draws the same noise as the uninterrupted run. */
        if (e->quant.noise > 0.0)
            hn_model_set_train_noise(t->model, (float)e->quant.noise,
                                     e->seed * 0x9E3779B97F4A7C15ull +
                                         (uint64_t)ep + 1);
        HN_TRY(train_epoch(t, ep, lr, o->progress, &rec, rd));
        bool evaluated = (ep + 1) % e->train.eval_every == 0 ||
                         ep + 1 == e->train.epochs;
        rec.val_loss = rec.val_acc = NAN;
        if (evaluated) {
            HN_TRY(evaluate(t, HN_SPLIT_VAL, &rec.val_loss, &rec.val_acc, NULL));
            if (e->schedule.name == HN_SCHED_PLATEAU)
                hn_sched_plateau_update(&t->sched, (float)rec.val_acc);
            /* Only the target configuration competes for "best" (a
             * partially quantized epoch of a gradual run does not), except
             * that the last epoch always has a best to fall back on. */
            bool eligible = final_cfg || (ep + 1 == e->train.epochs &&
                                          t->best_epoch == 0);
            if (eligible && rec.val_acc > t->best_val_acc) {
                t->best_val_acc = rec.val_acc;
                t->best_epoch = ep + 1;
                t->bad_epochs = 0;
            } else if (eligible) {
                t->bad_epochs++;
            }
        }
        t->hist[t->n_hist++] = rec;
        t->done_epochs = ep + 1;
        hn_jw *w = hn_rundir_event_begin(rd, "epoch");
        if (w) {
            hn_jw_key(w, "epoch");
            hn_jw_int(w, ep + 1);
            hn_jw_key(w, "lr");
            hn_jw_double(w, lr);
            hn_jw_key(w, "train_loss");
            hn_jw_double(w, rec.train_loss);
            hn_jw_key(w, "train_acc");
            hn_jw_double(w, rec.train_acc);
            hn_jw_key(w, "val_loss");
            hn_jw_double(w, rec.val_loss);
            hn_jw_key(w, "val_acc");
            hn_jw_double(w, rec.val_acc);
            hn_jw_key(w, "img_s");
            hn_jw_double(w, rec.img_s);
            hn_jw_key(w, "seconds");
            hn_jw_double(w, rec.seconds);
            HN_TRY(hn_rundir_event_end(rd, w));
        }
        if (!o->quiet) {
            printf("epoch %3d/%d  lr %.5f  train loss %.4f acc %6.2f%%",
                   ep + 1, e->train.epochs, lr, rec.train_loss,
                   100 * rec.train_acc);
            if (evaluated)
                printf("  | val loss %.4f acc %6.2f%%", rec.val_loss,
                       100 * rec.val_acc);
            printf("  | %.0f img/s, %.1f s\n", rec.img_s, rec.seconds);
            fflush(stdout);
        }
        /* The best checkpoint first: a kill between the two writes leaves
         * the previous epoch's checkpoint, which replays this epoch and
         * rewrites both identically. */
        if (evaluated && t->best_epoch == ep + 1)
            HN_TRY(save_checkpoint(t, best_path, ep + 1));
        bool stop = e->train.patience > 0 && t->bad_epochs >= e->train.patience;
        /* checkpoint_every 0: only the best and the last. */
        bool periodic = e->train.checkpoint_every > 0 &&
                        (ep + 1) % e->train.checkpoint_every == 0;
        if (periodic || ep + 1 == e->train.epochs || stop) {
            HN_TRY(hn_rundir_ckpt_path(rd, ep, path, sizeof path));
            HN_TRY(save_checkpoint(t, path, ep + 1));
            HN_TRY(hn_rundir_prune_ckpts(rd, e->train.keep_checkpoints));
        }
        HN_TRY(write_epochs_csv(t, rd));
        if (stop) {
            HN_INFO("early stop: no validation improvement in %d epochs",
                    e->train.patience);
            r->early_stopped = true;
            break;
        }
    }
    r->wall_s = hn_now() - t_run;
    r->epochs = t->done_epochs;
    r->best_epoch = t->best_epoch;
    r->best_val_acc = t->best_val_acc;
    return HN_OK;
}

/* The test set, once, on the best checkpoint. */
static hn_status final_test(trainer *t, hn_rundir *rd, hn_train_result *r) {
    char best[1200];
    HN_TRY(hn_model_set_quant_layers(t->model, -1));
    HN_TRY(hn_rundir_file(rd, "checkpoints/best.safetensors", best,
                          sizeof best));
    hn_ckpt *c;
    HN_TRY(hn_ckpt_load(best, &c));
    hn_status st = hn_ckpt_load_model(c, t->model, true, NULL);
    hn_ckpt_free(c);
    HN_TRY(st);
    int n = 0;
    HN_TRY(evaluate(t, HN_SPLIT_TEST, &r->test_loss, &r->test_acc, &n));
    hn_jw *w = hn_jw_new(2);
    if (!w) return hn_fail(HN_ERR_NOMEM, "out of memory");
    hn_jw_obj_begin(w);
    hn_jw_key(w, "experiment");
    hn_jw_str(w, t->e->name);
    hn_jw_key(w, "epochs");
    hn_jw_int(w, r->epochs);
    hn_jw_key(w, "best_epoch");
    hn_jw_int(w, r->best_epoch);
    hn_jw_key(w, "best_val_acc");
    hn_jw_double(w, r->best_val_acc);
    hn_jw_key(w, "test_acc");
    hn_jw_double(w, r->test_acc);
    hn_jw_key(w, "test_loss");
    hn_jw_double(w, r->test_loss);
    hn_jw_key(w, "test_samples");
    hn_jw_int(w, n);
    hn_jw_key(w, "early_stopped");
    hn_jw_bool(w, r->early_stopped);
    hn_jw_key(w, "train_seconds_this_process");
    hn_jw_double(w, r->wall_s);
    hn_jw_obj_end(w);
    char path[1200];
    st = hn_rundir_file(rd, "results.json", path, sizeof path);
    if (st == HN_OK) {
        size_t len;
        const char *txt = hn_jw_data(w, &len);
        st = hn_file_write_atomic(path, txt, len);
    }
    hn_jw_free(w);
    HN_TRY(st);
    w = hn_rundir_event_begin(rd, "test");
    if (w) {
        hn_jw_key(w, "test_acc");
        hn_jw_double(w, r->test_acc);
        hn_jw_key(w, "test_loss");
        hn_jw_double(w, r->test_loss);
        hn_jw_key(w, "best_epoch");
        hn_jw_int(w, r->best_epoch);
        HN_TRY(hn_rundir_event_end(rd, w));
    }
    return HN_OK;
}

hn_status hn_train_run(const hn_experiment *e, const hn_train_opts *o,
                       hn_train_result *r) {
    memset(r, 0, sizeof *r);
    set_threads(e);
    char dir[1024];
    if (o->run_dir && o->run_dir[0]) {
        if (strlen(o->run_dir) >= sizeof dir)
            return hn_fail(HN_ERR_RANGE, "--out: the path has %zu characters, "
                           "at most %zu are supported", strlen(o->run_dir),
                           sizeof dir - 1);
        snprintf(dir, sizeof dir, "%s", o->run_dir);
    } else {
        HN_TRY(hn_rundir_join(e->out, e->name, dir, sizeof dir));
    }
    snprintf(r->run_dir, sizeof r->run_dir, "%s", dir);
    trainer t;
    /* Everything the run reads is checked before its directory is created
     * or touched: bad input leaves nothing behind and nothing to clean. */
    hn_status st = build_common(&t, e);
    if (st == HN_OK) st = check_train_split(&t);
    if (st == HN_OK) st = load_test(&t, &t.data.test);
    bool resume = o->mode == HN_RUNDIR_RESUME ||
                  (o->mode == HN_RUNDIR_AUTO && hn_rundir_exists(dir));
    const char *init = o->init_ckpt ? o->init_ckpt : e->init[0] ? e->init : NULL;
    if (st == HN_OK && init && !resume) {
        st = load_init(&t, init);
        t.init_loaded = st == HN_OK;
    }
    hn_rundir *rd = NULL;
    if (st == HN_OK) st = hn_rundir_open(dir, o->mode, &rd);
    char *exp_json = NULL;
    if (st == HN_OK) st = hn_experiment_to_json(e, 0, &exp_json);
    if (st == HN_OK && hn_rundir_resumed(rd))
        st = hn_rundir_check_experiment(rd, exp_json);
    /* fails when checkpoints exist but none loads */
    t.resume_epoch = -1;
    if (st == HN_OK && hn_rundir_resumed(rd))
        st = hn_rundir_latest_ckpt(rd, hn_ckpt_check, NULL, t.resume_ckpt, sizeof t.resume_ckpt,
                                   &t.resume_epoch);
    if (st == HN_OK) {
        hn_run_info info = {.argc = o->argc, .argv = o->argv,
                            .experiment_json = exp_json, .seed = e->seed};
        st = hn_rundir_start(rd, &info);
    }
    if (st != HN_OK && rd) {
        /* Refused before the run started: the directory is left as it was
         * (no manifest that would block a retry, no "failed" status on the
         * run being resumed). */
        hn_rundir_free(rd);
        rd = NULL;
    }
    free(exp_json);
    if (st == HN_OK) {
        char cpath[1200];
        st = hn_rundir_file(rd, "config.yaml", cpath, sizeof cpath);
        if (st == HN_OK && is_quantized(t.cfg))
            st = hn_config_save(t.cfg, t.arch, cpath);
    }
    if (st == HN_OK) st = run(&t, o, rd, r);
    if (st == HN_OK) st = final_test(&t, rd, r);
    if (rd) {
        if (st == HN_OK) {
            hn_rundir_finish(rd, "finished");
        } else {
            /* Keep the failure in the log; the checkpoints stay for
             * --resume. */
            char msg[1100];
            snprintf(msg, sizeof msg, "failed: %s", hn_error_msg());
            hn_status keep = st;
            char saved[1024];
            snprintf(saved, sizeof saved, "%s", hn_error_msg());
            hn_rundir_finish(rd, msg);
            hn_fail(keep, "%s", saved);
        }
        hn_rundir_free(rd);
    }
    trainer_free(&t);
    return st;
}

hn_status hn_eval_checkpoint(const hn_experiment *e, const char *ckpt,
                             const char *config_path, const char *split,
                             hn_eval_result *r) {
    return hn_eval_checkpoint_ex(e, ckpt, config_path, split, NULL, r);
}

hn_status hn_eval_checkpoint_ex(const hn_experiment *e, const char *ckpt,
                                const char *config_path, const char *split,
                                const hn_eval_opts *eo, hn_eval_result *r) {
    memset(r, 0, sizeof *r);
    bool test = !strcmp(split, "test");
    if (!test && strcmp(split, "val"))
        return hn_fail(HN_ERR_INVAL, "--split %s: expected val or test", split);
    set_threads(e);
    trainer t;
    hn_status st = build_common(&t, e);
    hn_ckpt *c = NULL;
    if (st == HN_OK) st = hn_ckpt_load(ckpt, &c);
    if (st == HN_OK) st = hn_ckpt_load_model(c, t.model, true, NULL);
    hn_ckpt_free(c);
    hn_config *nc = NULL;
    if (st == HN_OK && config_path) st = hn_config_load(config_path, t.arch, &nc);
    if (st == HN_OK && test) st = load_test(&t, &t.data.test);
    if (st == HN_OK) {
        /* A configuration whose widths the BN statistics were not estimated
         * at (no switchable set for it) is recalibrated on training batches
         * (never the test set), or refused when slim.recalib_batches is 0. */
        hn_session_eval_opts so = hn_session_eval_opts_default(t.s);
        so.config = nc;
        so.split = test ? HN_SPLIT_TEST : HN_SPLIT_VAL;
        if (eo) {
            so.batch = eo->batch;
            so.batch_ud = eo->ud;
            so.limit = eo->limit;
        }
        hn_session_eval er;
        st = hn_session_evaluate(t.s, &so, &er);
        r->loss = er.loss;
        r->acc = er.acc;
        r->n = er.n;
    }
    hn_config_free(nc);
    trainer_free(&t);
    return st;
}
