/* Model parameters and optimizer state <-> checkpoint tensors, by name. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/checkpoint.h"
#include "hetnas/nn.h"
#include "hetnas/optim.h"

static void param_shape(const hn_param *p, int64_t *shape) {
    for (int d = 0; d < p->ndim; d++) shape[d] = p->shape[d];
}

hn_status hn_ckpt_writer_add_model(hn_ckpt_writer *w, hn_model *m) {
    int n = hn_model_n_params(m);
    for (int i = 0; i < n; i++) {
        hn_param p = hn_model_param(m, i);
        int64_t shape[HN_CKPT_MAX_DIMS];
        if (p.ndim > HN_CKPT_MAX_DIMS)
            return hn_fail(HN_ERR_INTERNAL, "parameter %s: %d dimensions", p.name, p.ndim);
        param_shape(&p, shape);
        HN_TRY(hn_ckpt_writer_add(w, p.name, HN_DT_F32, p.ndim, shape, p.data));
    }
    HN_TRY(hn_ckpt_writer_meta(w, HN_CKPT_QUANT_KEY, HN_CKPT_QUANT_CONTRACT));
    if (hn_model_has_input_norm(m))
        HN_TRY(hn_ckpt_writer_meta(w, HN_CKPT_INPUT_KEY, HN_CKPT_INPUT_U8));
    HN_TRY(hn_ckpt_writer_meta(w, HN_CKPT_CLAMPS_KEY,
                               hn_model_clamps_calibrated(m) ? "calibrated"
                                                             : "default"));
    return HN_OK;
}

/* The optimizer's tensors are the model's parameters with a gradient, in
 * model order (hn_optim_new_model); per tensor, `per` state buffers. */
typedef hn_status (*state_fn)(void *ctx, const char *name, float *buf,
                              size_t numel);

static hn_status each_state(hn_model *m, hn_optim *o, state_fn fn, void *ctx) {
    int ns = hn_optim_n_state(o);
    if (ns == 0) return HN_OK;
    int np = hn_model_n_params(m), nt = 0;
    for (int i = 0; i < np; i++)
        if (hn_model_param(m, i).grad) nt++;
    if (nt == 0 || ns % nt != 0 || ns / nt > 2)
        return hn_fail(HN_ERR_INTERNAL, "optimizer state (%d buffers) does not "
                       "match the model's %d trainable tensors (optimizer not "
                       "built with hn_optim_new_model?)", ns, nt);
    int per = ns / nt, t = 0;
    static const char *const sgd[] = {"momentum_buffer"};
    static const char *const adam[] = {"exp_avg", "exp_avg_sq"};
    const char *const *suffix = per == 2 ? adam : sgd;
    for (int i = 0; i < np; i++) {
        hn_param p = hn_model_param(m, i);
        if (!p.grad) continue;
        for (int k = 0; k < per; k++) {
            size_t numel;
            float *b = hn_optim_state(o, t * per + k, &numel);
            if (numel != p.numel)
                return hn_fail(HN_ERR_INTERNAL, "optimizer tensor %d has %zu "
                               "elements, parameter %s has %zu", t, numel,
                               p.name, p.numel);
            char name[HN_CKPT_NAME_MAX + 1];
            snprintf(name, sizeof name, "optim.%s.%s", p.name, suffix[k]);
            HN_TRY(fn(ctx, name, b, numel));
        }
        t++;
    }
    return HN_OK;
}

static hn_status put_state(void *ctx, const char *name, float *buf, size_t numel) {
    return hn_ckpt_writer_add_1d(ctx, name, HN_DT_F32, (int64_t)numel, buf);
}

static hn_status get_state(void *ctx, const char *name, float *buf, size_t numel) {
    return hn_ckpt_get_1d(ctx, name, HN_DT_F32, (int64_t)numel, buf);
}

hn_status hn_ckpt_writer_add_optim(hn_ckpt_writer *w, hn_model *m,
                                   hn_optim *o) {
    HN_TRY(each_state(m, o, put_state, w));
    int64_t steps = hn_optim_steps(o);
    return hn_ckpt_writer_add(w, "optim.step", HN_DT_I64, 0, NULL, &steps);
}

hn_status hn_ckpt_load_optim(const hn_ckpt *c, hn_model *m, hn_optim *o) {
    HN_TRY(each_state(m, o, get_state, (void *)c));
    int64_t steps;
    HN_TRY(hn_ckpt_get(c, "optim.step", HN_DT_I64, 0, NULL, &steps));
    hn_optim_set_steps(o, (long)steps);
    return HN_OK;
}

hn_status hn_ckpt_load_model(const hn_ckpt *c, hn_model *m, bool strict,
                             int *n_loaded) {
    int n = hn_model_n_params(m), got = 0;
    for (int i = 0; i < n; i++) {
        hn_param p = hn_model_param(m, i);
        if (!hn_ckpt_find(c, p.name)) {
            if (strict)
                return hn_fail(HN_ERR_FORMAT, "%s: no tensor '%s' (the model's "
                               "parameter; checkpoint of a different model or "
                               "weight_sharing?)", hn_ckpt_path(c), p.name);
            continue;
        }
        if (hn_ckpt_convert_act_clamp(hn_ckpt_find(c, p.name), &p)) {
            got++;
            continue;
        }
        int64_t shape[HN_CKPT_MAX_DIMS];
        param_shape(&p, shape);
        HN_TRY(hn_ckpt_get(c, p.name, HN_DT_F32, p.ndim, shape, p.data));
        got++;
    }
    if (n_loaded) *n_loaded = got;
    const char *q = hn_ckpt_meta(c, HN_CKPT_QUANT_KEY);
    const char *cl = hn_ckpt_meta(c, HN_CKPT_CLAMPS_KEY);
    hn_model_set_clamps_calibrated(m, q && !strcmp(q, HN_CKPT_QUANT_CONTRACT) &&
                                          cl && !strcmp(cl, "calibrated"));
    return hn_ckpt_fold_input(c, m);
}

bool hn_ckpt_convert_act_clamp(const hn_ckpt_tensor *t, struct hn_param *p) {
    size_t nl = strlen(p->name);
    if (!t || p->kind != HN_PARAM_CLAMP || p->numel != 1 || t->numel <= 1 ||
        t->dtype != HN_DT_F32 || nl <= 10 ||
        strcmp(p->name + nl - 10, ".act_clamp") != 0)
        return false;
    /* A per-channel activation clamp of quantization contract 1: the
     * tensor's clamp becomes the largest channel clamp (no channel clips
     * earlier than it did; docs/nn.md). */
    float a = 0.0f;
    for (int64_t j = 0; j < t->numel; j++) {
        float v;
        memcpy(&v, (const char *)t->data + (size_t)j * sizeof v, sizeof v);
        if (fabsf(v) > a) a = fabsf(v);
    }
    p->data[0] = a;
    return true;
}

hn_status hn_ckpt_fold_input(const hn_ckpt *c, hn_model *m) {
    const char *in = hn_ckpt_meta(c, HN_CKPT_INPUT_KEY);
    if (!hn_model_has_input_norm(m) || (in && !strcmp(in, HN_CKPT_INPUT_U8)))
        return HN_OK;
    return hn_model_fold_input_norm(m);
}
