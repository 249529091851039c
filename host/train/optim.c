/* SGD (momentum, Nesterov, L2 weight decay) and Adam, as torch.optim. */
#include "hetnas/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct hn_optim {
    hn_optim_opts o;
    int n;
    hn_optim_tensor *t;
    float **m, **v;   /* SGD: m = momentum buffer; Adam: m, v */
    long steps;
};

hn_optim_opts hn_optim_opts_sgd(float lr, float momentum, float wd, int nesterov) {
    hn_optim_opts o;
    memset(&o, 0, sizeof o);
    o.kind = HN_OPTIM_SGD;
    o.lr = lr; o.momentum = momentum; o.weight_decay = wd; o.nesterov = nesterov;
    o.beta1 = 0.9f; o.beta2 = 0.999f; o.eps = 1e-8f;
    return o;
}

hn_optim_opts hn_optim_opts_adam(float lr, float wd) {
    hn_optim_opts o = hn_optim_opts_sgd(lr, 0.0f, wd, 0);
    o.kind = HN_OPTIM_ADAM;
    return o;
}

hn_status hn_optim_new(const hn_optim_opts *o, int n, const hn_optim_tensor *t,
                       hn_optim **out) {
    *out = NULL;
    if (!(o->lr >= 0.0f)) return hn_fail(HN_ERR_RANGE, "optimizer: lr %g < 0", o->lr);
    if (o->kind == HN_OPTIM_SGD && o->nesterov && o->momentum <= 0.0f)
        return hn_fail(HN_ERR_INVAL, "optimizer: nesterov needs momentum > 0");
    if (o->momentum < 0.0f || o->momentum >= 1.0f)
        return hn_fail(HN_ERR_RANGE, "optimizer: momentum %g outside [0, 1)", o->momentum);
    if (o->kind == HN_OPTIM_ADAM &&
        (o->beta1 < 0 || o->beta1 >= 1 || o->beta2 < 0 || o->beta2 >= 1 || o->eps <= 0))
        return hn_fail(HN_ERR_RANGE, "optimizer: Adam betas must be in [0, 1), eps > 0");
    hn_optim *p = calloc(1, sizeof *p);
    if (!p) return hn_fail(HN_ERR_NOMEM, "optimizer");
    p->o = *o;
    p->n = n;
    p->t = calloc((size_t)(n ? n : 1), sizeof *p->t);
    p->m = calloc((size_t)(n ? n : 1), sizeof(float *));
    p->v = calloc((size_t)(n ? n : 1), sizeof(float *));
    int ok = p->t && p->m && p->v;
    for (int i = 0; ok && i < n; i++) {
        p->t[i] = t[i];
        if (o->kind == HN_OPTIM_ADAM || o->momentum > 0.0f) {
            p->m[i] = calloc(t[i].numel ? t[i].numel : 1, sizeof(float));
            ok &= p->m[i] != NULL;
        }
        if (o->kind == HN_OPTIM_ADAM) {
            p->v[i] = calloc(t[i].numel ? t[i].numel : 1, sizeof(float));
            ok &= p->v[i] != NULL;
        }
    }
    if (!ok) {
        hn_optim_free(p);
        return hn_fail(HN_ERR_NOMEM, "optimizer state");
    }
    *out = p;
    return HN_OK;
}

hn_status hn_optim_new_model(const hn_optim_opts *o, hn_model *m, hn_optim **out) {
    int np = hn_model_n_params(m), n = 0;
    hn_optim_tensor *t = calloc((size_t)np, sizeof *t);
    if (!t) return hn_fail(HN_ERR_NOMEM, "optimizer");
    for (int i = 0; i < np; i++) {
        hn_param p = hn_model_param(m, i);
        if (!p.grad) continue;
        t[n].data = p.data;
        t[n].grad = p.grad;
        t[n].numel = p.numel;
        t[n].decay = p.kind == HN_PARAM_WEIGHT;
        n++;
    }
    hn_status s = hn_optim_new(o, n, t, out);
    free(t);
    return s;
}

void hn_optim_free(hn_optim *p) {
    if (!p) return;
    for (int i = 0; i < p->n; i++) {
        if (p->m) free(p->m[i]);
        if (p->v) free(p->v[i]);
    }
    free(p->m); free(p->v); free(p->t);
    free(p);
}

void hn_optim_set_lr(hn_optim *p, float lr) { p->o.lr = lr; }
float hn_optim_lr(const hn_optim *p) { return p->o.lr; }

void hn_optim_step(hn_optim *p) {
    const hn_optim_opts *o = &p->o;
    p->steps++;
    float bc1 = 1.0f, bc2 = 1.0f;
    if (o->kind == HN_OPTIM_ADAM) {
        bc1 = 1.0f - powf(o->beta1, (float)p->steps);
        bc2 = 1.0f - powf(o->beta2, (float)p->steps);
    }
    for (int i = 0; i < p->n; i++) {
        float *w = p->t[i].data, *g = p->t[i].grad, *m = p->m[i], *v = p->v[i];
        size_t n = p->t[i].numel;
        float wd = p->t[i].decay ? o->weight_decay : 0.0f;
        if (o->kind == HN_OPTIM_SGD) {
            float mu = o->momentum, lr = o->lr;
            /* PyTorch: buf = g on the first step, then mu*buf + g */
            int first = p->steps == 1;
            for (size_t j = 0; j < n; j++) {
                float d = g[j] + wd * w[j];
                if (m) {
                    m[j] = first ? d : mu * m[j] + d;
                    d = o->nesterov ? d + mu * m[j] : m[j];
                }
                w[j] -= lr * d;
            }
        } else {
            float b1 = o->beta1, b2 = o->beta2, lr = o->lr;
            float sbc2 = sqrtf(bc2);
            for (size_t j = 0; j < n; j++) {
                float d = g[j] + wd * w[j];
                m[j] = b1 * m[j] + (1.0f - b1) * d;
                v[j] = b2 * v[j] + (1.0f - b2) * d * d;
                w[j] -= lr * (m[j] / bc1) / (sqrtf(v[j]) / sbc2 + o->eps);
            }
        }
    }
}

double hn_optim_clip_grad_norm(hn_optim *p, double max_norm) {
    double s = 0;
    for (int i = 0; i < p->n; i++)
        for (size_t j = 0; j < p->t[i].numel; j++)
            s += (double)p->t[i].grad[j] * p->t[i].grad[j];
    double norm = sqrt(s);
    if (max_norm > 0 && norm > max_norm) {
        float f = (float)(max_norm / (norm + 1e-6));
        for (int i = 0; i < p->n; i++)
            for (size_t j = 0; j < p->t[i].numel; j++) p->t[i].grad[j] *= f;
    }
    return norm;
}

int hn_optim_n_state(const hn_optim *p) {
    int per = p->o.kind == HN_OPTIM_ADAM ? 2 : (p->o.momentum > 0.0f ? 1 : 0);
    return per * p->n;
}

float *hn_optim_state(hn_optim *p, int i, size_t *numel) {
    int per = p->o.kind == HN_OPTIM_ADAM ? 2 : 1;
    HN_ASSERT(i >= 0 && i < hn_optim_n_state(p));
    int t = i / per, which = i % per;
    *numel = p->t[t].numel;
    return which == 0 ? p->m[t] : p->v[t];
}

long hn_optim_steps(const hn_optim *p) { return p->steps; }
void hn_optim_set_steps(hn_optim *p, long steps) { p->steps = steps; }
