/* Optimizers (SGD with momentum / Nesterov / weight decay, Adam) over a list
 * of float tensors, and learning-rate schedules (step, cosine, plateau).
 * Update rules follow PyTorch's torch.optim.SGD / Adam (L2 weight decay added
 * to the gradient). */
#ifndef HETNAS_OPTIM_H
#define HETNAS_OPTIM_H

#include <stddef.h>

#include "hetnas/nn.h"
#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum hn_optim_kind { HN_OPTIM_SGD = 0, HN_OPTIM_ADAM = 1 } hn_optim_kind;

typedef struct hn_optim_opts {
    hn_optim_kind kind;
    float lr;
    float momentum;      /* SGD */
    int nesterov;        /* SGD, needs momentum > 0 */
    float weight_decay;  /* L2, only on tensors with decay = 1 */
    float beta1, beta2, eps; /* Adam: 0.9, 0.999, 1e-8 */
} hn_optim_opts;

hn_optim_opts hn_optim_opts_sgd(float lr, float momentum, float wd, int nesterov);
hn_optim_opts hn_optim_opts_adam(float lr, float wd);

typedef struct hn_optim_tensor {
    float *data, *grad;
    size_t numel;
    int decay;           /* apply weight decay */
} hn_optim_tensor;

typedef struct hn_optim hn_optim;

hn_status hn_optim_new(const hn_optim_opts *o, int n, const hn_optim_tensor *t,
                       hn_optim **out);
/* Every parameter of the model with a gradient; weight decay on conv/FC
 * weights only (HN_PARAM_WEIGHT). */
hn_status hn_optim_new_model(const hn_optim_opts *o, hn_model *m, hn_optim **out);
void hn_optim_free(hn_optim *opt);
void hn_optim_set_lr(hn_optim *opt, float lr);
float hn_optim_lr(const hn_optim *opt);
/* One update with the current gradients. */
void hn_optim_step(hn_optim *opt);
/* Scales all gradients so their global L2 norm is at most max_norm (> 0);
 * returns the norm before clipping. */
double hn_optim_clip_grad_norm(hn_optim *opt, double max_norm);
/* Optimizer state for checkpoints: n_state() buffers, in tensor order
 * (SGD with momentum: the momentum buffer of each tensor; plain SGD: none;
 * Adam: m then v of each tensor).  The step count is separate
 * (hn_optim_steps / hn_optim_set_steps). */
int hn_optim_n_state(const hn_optim *opt);
float *hn_optim_state(hn_optim *opt, int i, size_t *numel);
long hn_optim_steps(const hn_optim *opt);
void hn_optim_set_steps(hn_optim *opt, long steps);

/* ---- schedules ----------------------------------------------------------- */
typedef enum hn_sched_kind {
    HN_SCHED_CONST = 0,
    HN_SCHED_STEP = 1,    /* lr * gamma^(number of milestones <= epoch) */
    HN_SCHED_COSINE = 2,  /* eta_min + (lr - eta_min)(1 + cos(pi e / T)) / 2 */
    HN_SCHED_PLATEAU = 3  /* lr * factor after `patience` epochs w/o improvement */
} hn_sched_kind;

#define HN_SCHED_MAX_MILESTONES 16

typedef struct hn_sched {
    hn_sched_kind kind;
    float base_lr;
    int warmup_epochs;    /* linear warmup from base_lr/warmup to base_lr */
    int n_milestones;
    int milestones[HN_SCHED_MAX_MILESTONES];
    float gamma;          /* step */
    int t_max;            /* cosine: epochs */
    float eta_min;        /* cosine */
    float factor;         /* plateau: 0.1 */
    int patience;         /* plateau: 10 */
    int mode_max;         /* plateau: 1 = metric should increase (accuracy) */
    float threshold;      /* plateau: an epoch improves only when the metric
                             beats best * (1 + threshold) (mode_max; 1 -
                             threshold when minimizing), 0 = any gain */
    /* plateau state */
    float cur_lr, best;
    int bad_epochs, have_best;
} hn_sched;

hn_sched hn_sched_const(float lr);
hn_sched hn_sched_step(float lr, int n, const int *milestones, float gamma);
hn_sched hn_sched_cosine(float lr, int t_max, float eta_min);
hn_sched hn_sched_plateau(float lr, float factor, int patience, int mode_max);
/* Learning rate for epoch e (0-based); for plateau the current rate. */
float hn_sched_lr(const hn_sched *s, int epoch);
/* Plateau: feed the epoch's validation metric; returns the new rate. */
float hn_sched_plateau_update(hn_sched *s, float metric);

#ifdef __cplusplus
}
#endif
#endif
