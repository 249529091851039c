/* The training session (session.h): one experiment's model, optimizer,
 * loaders and streams, stepped and evaluated by its clients. */
#include "hetnas/session.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/log.h"

#define SESSION_FORMAT "hetnas-session-1"

struct hn_session {
    const hn_experiment *e;
    const hn_exp_data *d;         /* borrowed */
    hn_arch *arch;
    hn_config *cfg;               /* the experiment's */
    hn_model *model;
    hn_optim *opt;
    hn_loader *train_ld, *val_ld;
    hn_rng rng;                   /* the client's stream */
    float *x, *logits, *dlogits;  /* (batch, C, H, W), (batch, K) x2 */
    int *y;                       /* (batch) */
    int batch, K;
};

hn_model *hn_session_model(hn_session *s) { return s->model; }
hn_optim *hn_session_optim(hn_session *s) { return s->opt; }
const hn_arch *hn_session_arch(const hn_session *s) { return s->arch; }
const hn_config *hn_session_config(const hn_session *s) { return s->cfg; }
hn_rng *hn_session_rng(hn_session *s) { return &s->rng; }
void hn_session_set_lr(hn_session *s, float lr) { hn_optim_set_lr(s->opt, lr); }
float hn_session_lr(const hn_session *s) { return hn_optim_lr(s->opt); }
void hn_session_start_epoch(hn_session *s, int epoch) {
    hn_loader_start_epoch(s->train_ld, epoch);
}
int hn_session_n_batches(const hn_session *s) {
    return hn_loader_n_batches(s->train_ld);
}
int hn_session_epoch(const hn_session *s) { return hn_loader_epoch(s->train_ld); }
int hn_session_batch(const hn_session *s) { return hn_loader_batch(s->train_ld); }

void hn_session_free(hn_session *s) {
    if (!s) return;
    hn_optim_free(s->opt);
    hn_model_free(s->model);
    hn_config_free(s->cfg);
    hn_arch_free(s->arch);
    hn_loader_free(s->train_ld);
    hn_loader_free(s->val_ld);
    free(s->x);
    free(s->y);
    free(s->logits);
    free(s->dlogits);
    free(s);
}

static hn_model_opts model_opts(const hn_experiment *e) {
    hn_model_opts mo = hn_model_opts_default();
    mo.sharing = e->quant.weight_sharing;
    mo.n_bn_widths = e->slim.n_widths;
    for (int i = 0; i < e->slim.n_widths; i++) mo.bn_widths[i] = e->slim.widths[i];
    mo.seed = e->seed;
    return mo;
}

static hn_optim_opts optim_opts(const hn_experiment *e) {
    hn_optim_opts oo = e->optim.name == HN_OPTIM_ADAM
                           ? hn_optim_opts_adam((float)e->optim.lr,
                                                (float)e->optim.weight_decay)
                           : hn_optim_opts_sgd((float)e->optim.lr,
                                               (float)e->optim.momentum,
                                               (float)e->optim.weight_decay,
                                               e->optim.nesterov);
    if (e->optim.name == HN_OPTIM_ADAM) {
        oo.beta1 = (float)e->optim.beta1;
        oo.beta2 = (float)e->optim.beta2;
        oo.eps = (float)e->optim.eps;
    }
    return oo;
}

hn_status hn_session_new(const hn_experiment *e, const hn_exp_data *d,
                         const char *init_ckpt, hn_session **out) {
    *out = NULL;
    hn_session *s = calloc(1, sizeof *s);
    if (!s) return hn_fail(HN_ERR_NOMEM, "session");
    s->e = e;
    s->d = d;
    hn_rng_seed(&s->rng, e->seed, 0x5e55);
    const hn_dataset *tr = d->train;
    int C = hn_dataset_c(tr), H = hn_dataset_h(tr), W = hn_dataset_w(tr);
    s->K = hn_dataset_num_classes(tr);
    hn_status st = hn_experiment_make_arch(e, C, H, W, s->K, &s->arch);
    if (st == HN_OK) st = hn_experiment_make_config(e, s->arch, &s->cfg);
    hn_model_opts mo = model_opts(e);
    if (st == HN_OK) st = hn_model_new(s->arch, s->cfg, &mo, &s->model);
    hn_optim_opts oo = optim_opts(e);
    if (st == HN_OK) st = hn_optim_new_model(&oo, s->model, &s->opt);
    /* noise off, but a valid stream: checkpoints store it */
    if (st == HN_OK) hn_model_set_train_noise(s->model, 0.0f, e->seed);
    /* 8-bit input (docs/nn.md "Quantization contract"): the model maps the
     * normalized batch back to its codes and folds the normalization */
    if (st == HN_OK) hn_model_set_input_norm(s->model, d->norm.mean, d->norm.std);
    s->batch = e->data.batch_size > e->data.eval_batch_size
                   ? e->data.batch_size
                   : e->data.eval_batch_size;
    if (st == HN_OK) {
        s->x = malloc((size_t)s->batch * C * H * W * sizeof(float));
        s->y = malloc((size_t)s->batch * sizeof(int));
        s->logits = malloc((size_t)s->batch * s->K * sizeof(float));
        s->dlogits = malloc((size_t)s->batch * s->K * sizeof(float));
        if (!s->x || !s->y || !s->logits || !s->dlogits)
            st = hn_fail(HN_ERR_NOMEM, "out of memory for batch buffers");
    }
    /* training drops the last partial batch: every step sees a full one */
    hn_loader_opts lo = {.batch_size = e->data.batch_size, .shuffle = true,
                         .drop_last = true, .augment = e->data.augment,
                         .seed = e->seed};
    if (st == HN_OK)
        st = hn_loader_new(tr, d->split.train, d->split.n_train, &d->norm, &lo,
                           &s->train_ld);
    hn_loader_opts vo = {.batch_size = e->data.eval_batch_size,
                         .shuffle = false, .drop_last = false, .seed = e->seed};
    if (st == HN_OK && d->split.n_val > 0)
        st = hn_loader_new(tr, d->split.val, d->split.n_val, &d->norm, &vo,
                           &s->val_ld);
    if (st == HN_OK && init_ckpt) st = hn_session_load_init(s, init_ckpt);
    if (st != HN_OK) {
        hn_session_free(s);
        return st;
    }
    *out = s;
    return HN_OK;
}

/* Starting weights (e.g. `hetnas import`): tensors are matched by name; a
 * full-precision tensor whose shape is the trailing shape of a per_op bank /
 * switchable-BN parameter fills its first slice, which is then copied to
 * every bank (each (filter, op) pair starts from the same FP model, as in
 * the reference code). */
hn_status hn_session_load_init(hn_session *s, const char *path) {
    hn_ckpt *c;
    HN_TRY(hn_ckpt_load(path, &c));
    int np = hn_model_n_params(s->model), loaded = 0, sliced = 0;
    hn_status st = HN_OK;
    for (int i = 0; i < np && st == HN_OK; i++) {
        hn_param p = hn_model_param(s->model, i);
        const hn_ckpt_tensor *x = hn_ckpt_find(c, p.name);
        if (!x) continue;
        /* a per-channel activation clamp of contract 1 becomes the tensor's */
        if (hn_ckpt_convert_act_clamp(x, &p)) {
            loaded++;
            continue;
        }
        if (x->dtype != HN_DT_F32) {
            st = hn_fail(HN_ERR_FORMAT, "%s: tensor '%s' is %s, expected F32",
                         path, p.name, hn_dtype_name(x->dtype));
            break;
        }
        bool tail = x->ndim <= p.ndim && x->numel > 0 &&
                    p.numel % (size_t)x->numel == 0;
        for (int k = 0; tail && k < x->ndim; k++)
            tail = x->shape[x->ndim - 1 - k] == p.shape[p.ndim - 1 - k];
        if (!tail) {
            st = hn_fail(HN_ERR_FORMAT, "%s: tensor '%s' has %lld elements, "
                         "the model's has %zu (another model or width?)",
                         path, p.name, (long long)x->numel, p.numel);
            break;
        }
        st = hn_ckpt_check_finite(c, x);
        if (st != HN_OK) break;
        memcpy(p.data, x->data, (size_t)x->numel * sizeof(float));
        loaded++;
        sliced += (size_t)x->numel != p.numel;
    }
    /* weights trained on normalized inputs: fold the normalization */
    if (st == HN_OK && loaded > 0) st = hn_ckpt_fold_input(c, s->model);
    hn_ckpt_free(c);
    HN_TRY(st);
    if (loaded == 0)
        return hn_fail(HN_ERR_FORMAT, "%s: no tensor matches a model parameter "
                       "name (see docs/nn.md for the names)", path);
    if (sliced) hn_model_copy_bank0(s->model);
    HN_INFO("initialised %d tensors from %s%s", loaded, path,
            sliced ? " (copied to every op bank)" : "");
    return HN_OK;
}

hn_status hn_session_calibrate_clamps(hn_session *s) {
    HN_TRY(hn_model_init_weight_clamps(s->model));
    hn_loader_start_epoch(s->train_ld, 0);
    int n = hn_loader_next(s->train_ld, s->x, s->y);
    if (n <= 0) return hn_fail(HN_ERR_INVAL, "clamp calibration: no batch");
    return hn_model_calibrate_clamps(s->model, s->x, n);
}

/* Zeroes the clamp gradients when clamps are fixed (quant.learn_clamps). */
static void freeze_clamps(hn_model *m) {
    int np = hn_model_n_params(m);
    for (int i = 0; i < np; i++) {
        hn_param p = hn_model_param(m, i);
        if (p.kind == HN_PARAM_CLAMP && p.grad)
            memset(p.grad, 0, p.numel * sizeof(float));
    }
}

hn_status hn_session_step(hn_session *s, const hn_config *c, hn_step_result *r) {
    memset(r, 0, sizeof *r);
    if (c) HN_TRY(hn_model_set_config(s->model, c));
    int b = hn_loader_batch(s->train_ld);
    int n = hn_loader_next(s->train_ld, s->x, s->y);
    if (n <= 0) return HN_OK;
    hn_model_zero_grad(s->model);
    HN_TRY(hn_model_forward(s->model, s->x, n, 1, s->logits));
    int correct = 0;
    float loss = hn_softmax_ce(s->logits, s->y, n, s->K, s->dlogits, &correct);
    if (!isfinite(loss))
        return hn_fail(HN_ERR_RANGE, "epoch %d batch %d: the loss is %g "
                       "(diverged; lower optim.lr or enable optim.grad_clip)",
                       hn_loader_epoch(s->train_ld) + 1, b, (double)loss);
    HN_TRY(hn_model_backward(s->model, s->dlogits));
    if (!s->e->quant.learn_clamps) freeze_clamps(s->model);
    if (s->e->optim.grad_clip > 0)
        hn_optim_clip_grad_norm(s->opt, s->e->optim.grad_clip);
    hn_optim_step(s->opt);
    r->n = n;
    r->loss = loss;
    r->correct = correct;
    return HN_OK;
}

hn_status hn_session_step_multi(hn_session *s, const hn_config *const *configs,
                                int n, hn_step_result *r) {
    memset(r, 0, sizeof *r);
    if (n < 1) return hn_fail(HN_ERR_INVAL, "session step: no configuration");
    int b = hn_loader_batch(s->train_ld);
    int nb = hn_loader_next(s->train_ld, s->x, s->y);
    if (nb <= 0) return HN_OK;
    hn_model_zero_grad(s->model);
    double sum = 0;
    int correct = 0;
    for (int i = 0; i < n; i++) {
        HN_TRY(hn_model_set_config(s->model, configs[i]));
        HN_TRY(hn_model_forward(s->model, s->x, nb, 1, s->logits));
        float loss = hn_softmax_ce(s->logits, s->y, nb, s->K, s->dlogits, &correct);
        if (!isfinite(loss))
            return hn_fail(HN_ERR_RANGE, "epoch %d batch %d configuration %d: the "
                           "loss is %g (diverged; lower optim.lr or enable "
                           "optim.grad_clip)", hn_loader_epoch(s->train_ld) + 1, b,
                           i, (double)loss);
        HN_TRY(hn_model_backward(s->model, s->dlogits)); /* accumulates */
        sum += loss;
    }
    if (!s->e->quant.learn_clamps) freeze_clamps(s->model);
    if (s->e->optim.grad_clip > 0)
        hn_optim_clip_grad_norm(s->opt, s->e->optim.grad_clip);
    hn_optim_step(s->opt);
    r->n = nb;
    r->loss = (float)(sum / n);
    r->correct = correct;
    return HN_OK;
}

hn_session_eval_opts hn_session_eval_opts_default(const hn_session *s) {
    hn_session_eval_opts o;
    memset(&o, 0, sizeof o);
    o.split = HN_SPLIT_VAL;
    o.recalib_batches = s->e->slim.recalib_batches;
    return o;
}

static hn_status eval_loop(hn_session *s, const hn_session_eval_opts *o,
                           hn_loader *ld, hn_session_eval *r) {
    hn_loader_start_epoch(ld, 0);
    double sum = 0;
    long correct = 0, n_all = 0;
    int n;
    while ((n = hn_loader_next(ld, s->x, s->y)) > 0) {
        if (o->limit > 0) {
            if (n_all >= o->limit) break;
            if (n > o->limit - n_all) n = (int)(o->limit - n_all);
        }
        HN_TRY(hn_model_forward(s->model, s->x, n, 0, s->logits));
        if (o->batch)
            HN_TRY(o->batch(s->model, s->x, s->y, n, s->logits, o->batch_ud));
        int c = 0;
        sum += (double)hn_softmax_ce(s->logits, s->y, n, s->K, NULL, &c) * n;
        correct += c;
        n_all += n;
    }
    r->loss = n_all ? sum / n_all : 0.0;
    r->acc = n_all ? (double)correct / n_all : 0.0;
    r->n = (int)n_all;
    return HN_OK;
}

/* Re-estimates the BN statistics in use on training batches (never the
 * evaluation data), from a loader of its own. */
static hn_status recalibrate(hn_session *s, int batches) {
    const hn_experiment *e = s->e;
    hn_loader_opts lo = {.batch_size = e->data.batch_size, .shuffle = true,
                         .seed = e->seed};
    hn_loader *ld;
    HN_TRY(hn_loader_new(s->d->train, s->d->split.train, s->d->split.n_train,
                         &s->d->norm, &lo, &ld));
    hn_loader_start_epoch(ld, 0);
    hn_model_bn_recalibrate_begin(s->model);
    hn_status st = HN_OK;
    for (int b = 0; b < batches && st == HN_OK; b++) {
        int n = hn_loader_next(ld, s->x, s->y);
        if (n <= 0) break;
        st = hn_model_forward(s->model, s->x, n, 1, s->logits);
    }
    hn_model_bn_recalibrate_end(s->model);
    hn_loader_free(ld);
    return st;
}

static hn_status eval_target(hn_session *s, const hn_session_eval_opts *o,
                             hn_loader **ld, hn_loader **owned) {
    *owned = NULL;
    switch (o->split) {
    case HN_SPLIT_VAL:
        if (!s->val_ld)
            return hn_fail(HN_ERR_INVAL, "%s: no validation split to evaluate "
                           "on", s->e->source[0] ? s->e->source : s->e->name);
        *ld = s->val_ld;
        return HN_OK;
    case HN_SPLIT_TEST: {
        if (!s->d->test)
            return hn_fail(HN_ERR_INVAL, "session: no test set loaded");
        hn_loader_opts to = {.batch_size = s->e->data.eval_batch_size,
                             .seed = s->e->seed};
        HN_TRY(hn_loader_new(s->d->test, NULL, 0, &s->d->norm, &to, owned));
        *ld = *owned;
        return HN_OK;
    }
    case HN_SPLIT_LOADER:
        if (!o->loader)
            return hn_fail(HN_ERR_INVAL, "session evaluate: split LOADER "
                           "without a loader");
        *ld = o->loader;
        return HN_OK;
    }
    return hn_fail(HN_ERR_INVAL, "session evaluate: bad split %d", (int)o->split);
}

hn_status hn_session_evaluate(hn_session *s, const hn_session_eval_opts *o,
                              hn_session_eval *r) {
    memset(r, 0, sizeof *r);
    hn_loader *ld = NULL, *owned = NULL;
    HN_TRY(eval_target(s, o, &ld, &owned));
    hn_model *m = s->model;
    hn_status st = HN_OK;
    if (!o->config && hn_model_bn_stats_valid(m)) {
        /* the plain case (the trainer's validation): nothing to undo */
        st = eval_loop(s, o, ld, r);
        hn_loader_free(owned);
        return st;
    }
    /* Another configuration, or stale statistics: evaluate, then put back
     * the configuration and every BN statistic (set_config may re-copy the
     * recalibration set, recalibration overwrites the set in use). */
    hn_bn_state *bn = NULL;
    hn_config *prev = hn_config_clone(hn_model_config(m));
    if (!prev) st = hn_fail(HN_ERR_NOMEM, "session evaluate");
    if (st == HN_OK) st = hn_model_bn_save(m, &bn);
    bool switched = false;
    if (st == HN_OK && o->config) {
        st = hn_model_set_config(m, o->config);
        switched = st == HN_OK;
    }
    if (st == HN_OK && !hn_model_bn_stats_valid(m)) {
        if (o->recalib_batches > 0) {
            st = recalibrate(s, o->recalib_batches);
            r->recalibrated = st == HN_OK;
        } else {
            st = hn_fail(HN_ERR_INVAL, "evaluating a configuration whose "
                         "widths differ from those the BN statistics were "
                         "estimated at (no switchable BN set for them): "
                         "recalibrate first (recalib_batches > 0, "
                         "slim.recalib_batches) instead of reusing "
                         "other widths' statistics");
        }
    }
    if (st == HN_OK) st = eval_loop(s, o, ld, r);
    hn_status st2 = HN_OK;
    if (switched) st2 = hn_model_set_config(m, prev);
    if (bn && st2 == HN_OK) st2 = hn_model_bn_restore(m, bn);
    if (st == HN_OK) st = st2;
    hn_bn_state_free(bn);
    hn_config_free(prev);
    hn_loader_free(owned);
    return st;
}

/* ---- checkpoints ------------------------------------------------------- */

hn_status hn_session_save(hn_session *s, const char *path,
                          hn_session_extra_fn extra, void *ud) {
    hn_ckpt_writer *w = hn_ckpt_writer_new();
    if (!w) return hn_fail(HN_ERR_NOMEM, "out of memory");
    hn_rng nr = hn_model_noise_rng(s->model);
    char num[64];
    hn_status st = hn_ckpt_writer_add_model(w, s->model);
    if (st == HN_OK) st = hn_ckpt_writer_add_optim(w, s->model, s->opt);
    if (st == HN_OK) st = hn_ckpt_writer_add_rng(w, "session.rng", &s->rng);
    if (st == HN_OK) st = hn_ckpt_writer_add_rng(w, "session.noise_rng", &nr);
    if (st == HN_OK) st = hn_ckpt_writer_meta(w, "session", SESSION_FORMAT);
    if (st == HN_OK)
        st = hn_ckpt_writer_meta_int(w, "session.epoch",
                                     hn_loader_epoch(s->train_ld));
    if (st == HN_OK)
        st = hn_ckpt_writer_meta_int(w, "session.batch",
                                     hn_loader_batch(s->train_ld));
    /* %.9g round-trips a float exactly */
    snprintf(num, sizeof num, "%.9g", (double)hn_optim_lr(s->opt));
    if (st == HN_OK) st = hn_ckpt_writer_meta(w, "session.lr", num);
    snprintf(num, sizeof num, "%.9g", (double)hn_model_noise_prob(s->model));
    if (st == HN_OK) st = hn_ckpt_writer_meta(w, "session.noise_prob", num);
    if (st == HN_OK && extra) st = extra(w, ud);
    if (st == HN_OK) st = hn_ckpt_writer_save(w, path, true);
    hn_ckpt_writer_free(w);
    return st;
}

static hn_status meta_float(const hn_ckpt *c, const char *key, float *v) {
    const char *t = hn_ckpt_meta(c, key);
    char *end = NULL;
    double d = t ? strtod(t, &end) : NAN;
    if (!t || end == t || *end || !isfinite(d))
        return hn_fail(HN_ERR_FORMAT, "%s: metadata '%s' = '%s' is not a "
                       "finite number", hn_ckpt_path(c), key, t ? t : "(absent)");
    *v = (float)d;
    return HN_OK;
}

hn_status hn_session_restore(hn_session *s, const char *path, hn_ckpt **extra) {
    if (extra) *extra = NULL;
    hn_ckpt *c;
    HN_TRY(hn_ckpt_load(path, &c));
    hn_status st = hn_ckpt_load_model(c, s->model, true, NULL);
    if (st == HN_OK) st = hn_ckpt_load_optim(c, s->model, s->opt);
    const char *fmt = hn_ckpt_meta(c, "session");
    if (st == HN_OK && fmt && strcmp(fmt, SESSION_FORMAT))
        st = hn_fail(HN_ERR_FORMAT, "%s: session format '%s', this build "
                     "reads '%s'", path, fmt, SESSION_FORMAT);
    if (st == HN_OK && fmt) {
        hn_rng r, nr;
        int64_t ep = 0, b = 0;
        float lr = 0, prob = 0;
        st = hn_ckpt_get_rng(c, "session.rng", &r);
        if (st == HN_OK) st = hn_ckpt_get_rng(c, "session.noise_rng", &nr);
        if (st == HN_OK) st = hn_ckpt_meta_int(c, "session.epoch", &ep);
        if (st == HN_OK) st = hn_ckpt_meta_int(c, "session.batch", &b);
        if (st == HN_OK) st = meta_float(c, "session.lr", &lr);
        if (st == HN_OK) st = meta_float(c, "session.noise_prob", &prob);
        /* position metadata indexes the loader: range-check it first */
        if (st == HN_OK && (ep < 0 || ep > 1000000))
            st = hn_fail(HN_ERR_RANGE, "%s: metadata 'session.epoch' = %lld "
                         "is out of range", path, (long long)ep);
        if (st == HN_OK && (b < 0 || b > hn_loader_n_batches(s->train_ld)))
            st = hn_fail(HN_ERR_RANGE, "%s: metadata 'session.batch' = %lld "
                         "is outside 0..%d (batches per epoch)", path,
                         (long long)b, hn_loader_n_batches(s->train_ld));
        if (st == HN_OK && !(prob >= 0.0f && prob <= 1.0f))
            st = hn_fail(HN_ERR_RANGE, "%s: metadata 'session.noise_prob' = "
                         "%g is outside [0, 1]", path, (double)prob);
        if (st == HN_OK) {
            s->rng = r;
            hn_model_set_train_noise(s->model, prob, 0);
            hn_model_set_noise_rng(s->model, nr);
            hn_optim_set_lr(s->opt, lr);
            hn_loader_start_epoch(s->train_ld, (int)ep);
            hn_loader_seek(s->train_ld, (int)b);
        }
    }
    if (st != HN_OK || !extra) {
        hn_ckpt_free(c);
        return st;
    }
    *extra = c;
    return HN_OK;
}
