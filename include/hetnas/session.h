/* A training session: the model, optimizer, data loaders and random streams
 * of one experiment, driven one batch at a time.  `hetnas train` (trainer.c),
 * the search and the grid study are its peer clients: each owns its loop,
 * the session owns what a step, an evaluation and an exact checkpoint need.
 *
 *   hn_session_new(e, d, init)           model + optimizer from the experiment
 *   hn_session_start_epoch / _step       one training batch under a config
 *   hn_session_evaluate                  a config on val / test / a loader,
 *                                        BN recalibrated or refused
 *   hn_session_save / _restore           model, optimizer, RNG streams, loader
 *                                        position and the client's own state
 */
#ifndef HETNAS_SESSION_H
#define HETNAS_SESSION_H

#include <stdbool.h>

#include "hetnas/checkpoint.h"
#include "hetnas/experiment.h"
#include "hetnas/nn.h"
#include "hetnas/optim.h"
#include "hetnas/rng.h"
#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hn_session hn_session; /* opaque */

/* Builds the experiment's architecture, configuration, model (init_ckpt, may
 * be NULL: weights to start from, matched by name, a full-precision tensor
 * filling every per_op bank / BN set), optimizer and loaders: training
 * batches (shuffled per epoch, augmented, last partial batch dropped) and
 * validation batches.  d is borrowed and must outlive the session; d->test
 * may be NULL (then test evaluation is refused). */
hn_status hn_session_new(const hn_experiment *e, const hn_exp_data *d,
                         const char *init_ckpt, hn_session **out);
void hn_session_free(hn_session *s);

hn_model *hn_session_model(hn_session *s);
hn_optim *hn_session_optim(hn_session *s);
const hn_arch *hn_session_arch(const hn_session *s);
/* The experiment's configuration (what `hetnas train` trains). */
const hn_config *hn_session_config(const hn_session *s);
/* A stream for the client (e.g. configuration sampling), seeded from the
 * experiment's seed and saved with the session. */
hn_rng *hn_session_rng(hn_session *s);

/* Weights from a checkpoint as hn_session_new's init_ckpt. */
hn_status hn_session_load_init(hn_session *s, const char *path);

/* Quantizer clamps (NICE): weight clamps from the weights, activation
 * clamps from the first training batch of epoch 0 (deterministic). */
hn_status hn_session_calibrate_clamps(hn_session *s);

void hn_session_set_lr(hn_session *s, float lr);
float hn_session_lr(const hn_session *s);

/* Starts training epoch `epoch` (0-based): its batch order is fixed by
 * (seed, epoch).  Batches in it: */
void hn_session_start_epoch(hn_session *s, int epoch);
int hn_session_n_batches(const hn_session *s);
int hn_session_epoch(const hn_session *s);
/* Next batch index of the epoch. */
int hn_session_batch(const hn_session *s);

typedef struct hn_step_result {
    int n;          /* samples in the batch; 0: the epoch is over (no step) */
    float loss;     /* mean cross entropy of the batch */
    int correct;    /* top-1 hits */
} hn_step_result;

/* One optimizer step on the next training batch under configuration c
 * (NULL: the model's current one; otherwise it stays set afterwards):
 * forward with batch statistics, softmax cross entropy, backward, fixed
 * clamps' gradients zeroed (quant.learn_clamps false), optim.grad_clip,
 * update.  A non-finite loss is HN_ERR_RANGE naming the epoch and batch. */
hn_status hn_session_step(hn_session *s, const hn_config *c, hn_step_result *r);

/* Slimmable training (Yu et al.): one optimizer step on the next training
 * batch with the gradients of n configurations summed (each forwarded with
 * batch statistics, its own switchable BN set's running statistics
 * updated), as the reference width search trains every configuration of
 * its set on each batch and steps once.  r->loss is the mean of the n
 * losses, r->correct the last configuration's; configs[n-1] stays set. */
hn_status hn_session_step_multi(hn_session *s, const hn_config *const *configs,
                                int n, hn_step_result *r);

typedef enum hn_session_split {
    HN_SPLIT_VAL = 0,
    HN_SPLIT_TEST = 1,
    HN_SPLIT_LOADER = 2 /* hn_session_eval_opts.loader */
} hn_session_split;

typedef struct hn_session_eval_opts {
    const hn_config *config; /* NULL: the model's current configuration */
    hn_session_split split;
    hn_loader *loader;       /* HN_SPLIT_LOADER: batches to evaluate on */
    /* BN statistics estimated at other widths (hn_model_bn_stats_valid 0):
     * > 0 re-estimates them on that many training batches (epoch-0 order
     * of a separate loader, so the training position is untouched);
     * 0 refuses with HN_ERR_INVAL.  The model's BN statistics and
     * configuration are restored afterwards either way. */
    int recalib_batches;
    /* Optional per-batch hook after the float forward (e.g. an integer
     * backend on the same batch: hetnas eval --backend): the model
     * (configured, BN as evaluated), the normalized batch x (n, C, H, W),
     * labels and the float logits (n, classes). */
    hn_status (*batch)(hn_model *m, const float *x, const int *labels, int n,
                       const float *logits, void *ud);
    void *batch_ud;
    long limit; /* > 0: at most that many samples, in the split's order */
} hn_session_eval_opts;

/* Defaults: current configuration, validation split, recalib_batches from
 * slim.recalib_batches. */
hn_session_eval_opts hn_session_eval_opts_default(const hn_session *s);

typedef struct hn_session_eval {
    double loss, acc; /* mean cross entropy, top-1 accuracy in [0, 1] */
    int n;            /* samples */
    bool recalibrated;
} hn_session_eval;

hn_status hn_session_evaluate(hn_session *s, const hn_session_eval_opts *o,
                              hn_session_eval *r);

/* ---- exact checkpoints ---------------------------------------------------- */

/* Adds the client's state to a checkpoint being written: tensors (F32, F64,
 * I32, I64, U8; names must not collide with the session's, a prefix such as
 * "search." is advised) and metadata (string, integer, JSON). */
typedef hn_status (*hn_session_extra_fn)(hn_ckpt_writer *w, void *ud);

/* Writes path atomically (+ its JSON side file): every model parameter and
 * buffer, the optimizer state and step count, the session's and the model's
 * noise RNG streams, the loader position (epoch, next batch) and the learning
 * rate, then what `extra` (may be NULL) adds. */
hn_status hn_session_save(hn_session *s, const char *path,
                          hn_session_extra_fn extra, void *ud);
/* Restores everything hn_session_save wrote (a checkpoint without the
 * session's streams and position, as written before sessions existed,
 * restores model and optimizer only).  *extra (may be NULL) receives the
 * loaded checkpoint for reading the client's state with hn_ckpt_get /
 * hn_ckpt_meta; the caller frees it with hn_ckpt_free. */
hn_status hn_session_restore(hn_session *s, const char *path, hn_ckpt **extra);

#ifdef __cplusplus
}
#endif
#endif
