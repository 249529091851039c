/* Training runs: an experiment (experiment.h) trained into a run directory
 * (rundir.h) with per-epoch checkpoints, validation on a held-out split,
 * early stopping, exact resume, and one final test-set report; plus the
 * evaluation of a checkpoint. */
#ifndef HETNAS_TRAINER_H
#define HETNAS_TRAINER_H

#include <stdbool.h>

#include "hetnas/experiment.h"
#include "hetnas/nn.h"
#include "hetnas/rundir.h"
#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hn_train_opts {
    const char *run_dir;  /* NULL: <experiment.out>/<experiment.name> */
    hn_rundir_mode mode;  /* NEW (default) or RESUME (--resume) */
    int progress;         /* -1 auto (TTY), 0 off, 1 on */
    int argc;             /* command line, recorded in the manifest */
    char **argv;
    bool quiet;           /* no per-epoch lines on stdout */
    const char *init_ckpt; /* start from these weights (e.g. an imported
                              full-precision model); ignored on resume */
} hn_train_opts;

typedef struct hn_train_result {
    int epochs;           /* epochs completed in total */
    int best_epoch;       /* 1-based epoch of the best validation accuracy */
    double best_val_acc;  /* in [0, 1] */
    double test_acc;      /* of the best checkpoint, in [0, 1] */
    double test_loss;
    double wall_s;        /* this process's training time */
    bool early_stopped;
    bool started;         /* the first epoch began: a failure from then on
                             is a failure while running, not bad input */
    char run_dir[1024];
} hn_train_result;

hn_train_opts hn_train_opts_default(void);
hn_status hn_train_run(const hn_experiment *e, const hn_train_opts *o,
                       hn_train_result *r);

typedef struct hn_eval_result {
    double acc, loss;
    int n;
} hn_eval_result;

/* Evaluates checkpoint `ckpt` of the experiment's model on split "val" or
 * "test"; config_path (may be NULL) switches the network configuration
 * first (BN is then recalibrated on slim.recalib_batches training batches
 * when the model is slimmable and the widths differ). */
hn_status hn_eval_checkpoint(const hn_experiment *e, const char *ckpt,
                             const char *config_path, const char *split,
                             hn_eval_result *r);

/* Evaluation with a per-batch hook (e.g. an integer backend run on the same
 * batch, hetnas eval --backend): batch() gets the model (configured, BN
 * recalibrated), the normalized batch x (n, C, H, W), labels and the float
 * model's logits (n, classes), after the float forward.  limit > 0: at most
 * that many samples (in the split's order). */
typedef struct hn_eval_opts {
    hn_status (*batch)(hn_model *m, const float *x, const int *labels, int n,
                       const float *logits, void *ud);
    void *ud;
    long limit;
} hn_eval_opts;

hn_status hn_eval_checkpoint_ex(const hn_experiment *e, const char *ckpt,
                                const char *config_path, const char *split,
                                const hn_eval_opts *eo, hn_eval_result *r);

#ifdef __cplusplus
}
#endif
#endif
