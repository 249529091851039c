/* Learning-rate schedules: constant, step, cosine, plateau (+ linear warmup). */
#include "hetnas/optim.h"

#include <math.h>
#include <string.h>

static hn_sched base(hn_sched_kind k, float lr) {
    hn_sched s;
    memset(&s, 0, sizeof s);
    s.kind = k;
    s.base_lr = lr;
    s.cur_lr = lr;
    s.gamma = 0.1f;
    s.factor = 0.1f;
    s.patience = 10;
    return s;
}

hn_sched hn_sched_const(float lr) { return base(HN_SCHED_CONST, lr); }

hn_sched hn_sched_step(float lr, int n, const int *milestones, float gamma) {
    hn_sched s = base(HN_SCHED_STEP, lr);
    if (n > HN_SCHED_MAX_MILESTONES) n = HN_SCHED_MAX_MILESTONES;
    s.n_milestones = n;
    for (int i = 0; i < n; i++) s.milestones[i] = milestones[i];
    s.gamma = gamma;
    return s;
}

hn_sched hn_sched_cosine(float lr, int t_max, float eta_min) {
    hn_sched s = base(HN_SCHED_COSINE, lr);
    s.t_max = t_max > 0 ? t_max : 1;
    s.eta_min = eta_min;
    return s;
}

hn_sched hn_sched_plateau(float lr, float factor, int patience, int mode_max) {
    hn_sched s = base(HN_SCHED_PLATEAU, lr);
    s.factor = factor;
    s.patience = patience;
    s.mode_max = mode_max;
    return s;
}

float hn_sched_lr(const hn_sched *s, int epoch) {
    float lr = s->base_lr;
    switch (s->kind) {
    case HN_SCHED_CONST: break;
    case HN_SCHED_STEP:
        for (int i = 0; i < s->n_milestones; i++)
            if (epoch >= s->milestones[i]) lr *= s->gamma;
        break;
    case HN_SCHED_COSINE: {
        int e = epoch < s->t_max ? epoch : s->t_max;
        lr = s->eta_min + (s->base_lr - s->eta_min) *
                              (float)(0.5 * (1.0 + cos(M_PI * e / s->t_max)));
        break;
    }
    case HN_SCHED_PLATEAU: lr = s->cur_lr; break;
    }
    if (s->warmup_epochs > 0 && epoch < s->warmup_epochs)
        lr *= (float)(epoch + 1) / (float)s->warmup_epochs;
    return lr;
}

float hn_sched_plateau_update(hn_sched *s, float metric) {
    /* relative threshold, as PyTorch's ReduceLROnPlateau(threshold_mode='rel') */
    int better = !s->have_best ||
                 (s->mode_max ? metric > s->best * (1.0f + s->threshold)
                              : metric < s->best * (1.0f - s->threshold));
    if (better) {
        s->best = metric;
        s->have_best = 1;
        s->bad_epochs = 0;
    } else if (++s->bad_epochs > s->patience) {
        s->cur_lr *= s->factor;
        s->bad_epochs = 0;
    }
    return s->cur_lr;
}
