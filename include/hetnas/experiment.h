/* Experiment files: one YAML document that fixes everything a training run
 * depends on (model, data, network configuration, quantization, optimizer,
 * schedule, training loop), validated key by key (unknown keys with a
 * suggestion, types, ranges, allowed names; errors name the file, the line
 * and the key), plus `--set a.b=value` overrides checked the same way.
 * docs/experiment.md lists every key with its type, default and range. */
#ifndef HETNAS_EXPERIMENT_H
#define HETNAS_EXPERIMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hetnas/arch.h"
#include "hetnas/config.h"
#include "hetnas/data.h"
#include "hetnas/nn.h"
#include "hetnas/optim.h"
#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HN_EXP_STR 256
#define HN_EXP_PATH 1024
#define HN_EXP_MAX_MILESTONES 16
#define HN_EXP_MAX_SLIM 8
#define HN_EXP_MAX_GRID 64       /* configurations per grid family */
#define HN_EXP_MAX_GRID_FILES 32 /* explicit configuration files */

typedef enum hn_exp_config_kind {
    HN_EXP_CONFIG_FP32 = 0,        /* config: fp32 (no quantization) */
    HN_EXP_CONFIG_HOMOGENEOUS = 1, /* config: [b_w, b_a] */
    HN_EXP_CONFIG_FILE = 2,        /* config: path/to/configuration.yaml */
    HN_EXP_CONFIG_INLINE = 3       /* config: {ops: ..., layers: ...} etc. */
} hn_exp_config_kind;

/* A validated experiment.  Open struct: fields hold defaults for keys the
 * file omits.  Owns config.inline_json: release with hn_experiment_clear. */
typedef struct hn_experiment {
    char source[HN_EXP_PATH]; /* the file it came from ("" for strings) */
    char name[HN_EXP_STR];    /* default: the file name without extension */
    char description[HN_EXP_STR];
    uint64_t seed;            /* default 1 */
    char out[HN_EXP_PATH];    /* runs root directory, default "runs" */
    char init[HN_EXP_PATH];   /* checkpoint to start from ("" = random
                                 init), relative to the working directory */

    struct {
        char name[32];   /* resnet8|14|20|32|44|56|110, default resnet20 */
        int depth;       /* from name: 6n+2 */
        double width;    /* filter multiplier, default 1.0 */
        int in_c, in_h, in_w; /* model.input "CxHxW"; 0 = "auto" (the data's) */
        int input_bits;  /* bits of the network input, default 8 */
    } model;

    struct {
        char name[32];         /* fashion-mnist (default) | mnist | cifar10 */
        char dir[HN_EXP_PATH]; /* "" = default location */
        double val_fraction;   /* held-out share of the training set, 0.1 */
        int val_size;          /* > 0: exact validation size (wins) */
        uint64_t split_seed;   /* seed of the train/val split; 0 = `seed`
                                  (a grid fixes it across its jobs) */
        int batch_size;        /* 128 */
        int eval_batch_size;   /* 512 */
        bool normalize;        /* dataset mean/std over the train split: true */
        hn_augment augment;    /* crop_pad 4, flip true */
    } data;

    struct {
        hn_exp_config_kind kind;  /* default FP32 */
        hn_op op;                 /* HOMOGENEOUS (FP32: 32/32) */
        char path[HN_EXP_PATH];   /* FILE, resolved against the experiment's
                                     directory when relative */
        char *inline_json;        /* INLINE: the mapping as JSON text */
        char where[HN_EXP_PATH];  /* "file:line" of the config key */
    } config;

    struct {
        hn_weight_sharing weight_sharing; /* shared (default) | per_op */
        double noise;             /* NICE noise: share of weights, 0 = off */
        bool gradual;             /* quantize stage by stage, one per epoch */
        double weight_clamp_std;  /* clamp init |mean +- k std|, k = 3.45 */
        double act_clamp_std;     /* clamp init running mean + k std, 3 */
        bool learn_clamps;        /* learned clamps (true) or fixed */
    } quant;

    struct {
        hn_optim_kind name;   /* sgd (default) | adam */
        double lr;            /* 0.1 */
        double momentum;      /* 0.9 (sgd) */
        bool nesterov;        /* false */
        double weight_decay;  /* 5e-4 */
        double grad_clip;     /* global L2 norm clip, 0 = off */
        double beta1, beta2, eps; /* adam: 0.9, 0.999, 1e-8 */
    } optim;

    struct {
        hn_sched_kind name;   /* cosine (default) */
        int warmup_epochs;    /* linear warm-up, 0 */
        int step_size;        /* step: every step_size epochs, 30 */
        double gamma;         /* step: factor, 0.1 */
        int milestones[HN_EXP_MAX_MILESTONES]; /* step: epochs (wins) */
        int n_milestones;
        double min_lr;        /* cosine floor, 0 */
        double factor;        /* plateau: factor 0.1 */
        int patience;         /* plateau: epochs without improvement, 5 */
        double threshold;     /* plateau: relative improvement, 1e-4 */
    } schedule;

    struct {
        int epochs;           /* 30 */
        int patience;         /* early stopping on val accuracy, 0 = off */
        int threads;          /* 0 = all cores */
        int eval_every;       /* epochs between validations, 1 */
        int checkpoint_every; /* epochs between checkpoints, 1 */
        int keep_checkpoints; /* epoch checkpoints kept (best kept apart), 2 */
        int log_every;        /* batches between log lines, 50 */
        int max_batches;      /* cap batches per epoch, 0 = all (quick runs) */
    } train;

    struct {
        double widths[HN_EXP_MAX_SLIM]; /* switchable-BN width multipliers */
        int n_widths;                   /* 0 = not slimmable */
        int recalib_batches;            /* BN recalibration batches, 20 */
    } slim;

    /* hetnas search (docs/search.md): names are checked by the search
     * layer's parsers (hn_dist_kind_parse, hn_closs_sigma_parse, ...)
     * before any training. */
    struct {
        char algorithm[16];      /* c1 (quantization, Alg. C.1) | c2..c5 (pruning) */
        char distribution[16];   /* multinomial (default) | binomial */
        char share[16];          /* layer (default) | stage */
        hn_op ops[HN_MAX_OPS];   /* the op set T, default the paper's */
        int n_ops;
        hn_op target;            /* target homogeneous op, default (3,3) */
        char metric[16];         /* bops (default) | macs | cycles */
        char cost_backend[16];   /* cycles from: model (default) | verilator */
        char eval_backend[16];   /* where the found configurations are
                                    evaluated: cpu (float fake-quant, default)
                                    or an integer backend (hetnas hw backends) */
        int eval_limit;          /* > 0: that many images per split there */
        char sigma[16];          /* square (default, the reference code) */
        double lambda;           /* 1 */
        int samples;             /* |S| per alpha step, 20 */
        int iterations;          /* outer iterations (weights, then alphas) */
        int t_omega;             /* weight epochs per iteration, 1 */
        double alpha_fraction;   /* share of the train split for T_alpha, 0.5 */
        int alpha_batches;       /* alpha steps per iteration, 0 = all of T_alpha */
        double alpha_lr;         /* 0.01 */
        double alpha_momentum;   /* 0.9 */
        double alpha_lr_decay;   /* per alpha step, 0.999 */
        double alpha_grad_clip;  /* global L2 norm, 10; 0 = off */
        char alpha_init[16];     /* uniform | reference (default) */
        char baseline[16];       /* none (eq. 3 as stated, default) | ema | loo */
        double baseline_decay;   /* ema, 0.9 */
        int final_samples;       /* K sampled configurations evaluated at the end, 5 */
        int final_epochs;        /* fine-tune epochs of each final configuration, 1 */
        bool final_homogeneous;  /* also each op as a homogeneous configuration, true */
        /* the pruning searches c2-c5 (docs/search.md) */
        double target_width;     /* homogeneous width multiplier of the MACs target, 0.5 */
        double init_prob;        /* binomial p^0 of every group, 0.5 */
        int sample_epochs;       /* epochs each sampled configuration trains, 5 */
        int reset_every;         /* c3: iterations between weight resets, 1 */
        char interp_points[HN_EXP_PATH]; /* c5: homogeneous (width, ce) CSV, "" = train them */
        char interp_sigma[16];   /* c5: reference (default) | identity | sigmoid | leaky_relu */
        int interp_runs;         /* c5: trainings averaged per homogeneous point, 5 */
    } search;

    /* `hetnas grid` (docs/study.md): configurations x repeats trained
     * independently.  Entries remember their line for messages ("where":
     * the file or --set they came from). */
    struct {
        int repeats;       /* trainings per configuration, 3 */
        double alpha;      /* Holm-corrected significance level, 0.05 */
        double level;      /* confidence level of the error bars, 0.6827 */
        /* quantization: layer configurations applied to every layer */
        hn_op ops[HN_MAX_OPS]; /* grid.quant.ops */
        int n_ops;
        int splits[HN_EXP_MAX_GRID][HN_MAX_OPS]; /* filters per op of the
                                                    stem, scaled per layer */
        int split_line[HN_EXP_MAX_GRID];
        int n_splits;
        char files[HN_EXP_MAX_GRID_FILES][HN_EXP_PATH]; /* resolved paths */
        int file_line[HN_EXP_MAX_GRID_FILES];
        int n_files;
        /* pruning: active filters per stage (stem with stage 1) */
        int widths[HN_EXP_MAX_GRID][3];
        int width_line[HN_EXP_MAX_GRID];
        int n_widths;
        /* the file (or --set) each list came from, for messages */
        char splits_from[HN_EXP_PATH], files_from[HN_EXP_PATH],
            widths_from[HN_EXP_PATH];
    } grid;
} hn_experiment;

/* All defaults (name "experiment"). */
void hn_experiment_defaults(hn_experiment *e);
/* Loads and validates path, applying sets[0..n_sets-1] ("a.b=value", later
 * ones win).  On error *e is cleared and the message names the file, line
 * and key, or the offending --set. */
hn_status hn_experiment_load(const char *path, const char *const *sets,
                             int n_sets, hn_experiment *e);
/* The same for YAML text; `name` stands for the file in messages. */
hn_status hn_experiment_load_string(const char *text, const char *name,
                                    const char *const *sets, int n_sets,
                                    hn_experiment *e);
void hn_experiment_clear(hn_experiment *e);

/* The resolved experiment (every key, defaults included) as JSON text;
 * malloc'd, the caller frees it.  pretty as hn_jw_new. */
hn_status hn_experiment_to_json(const hn_experiment *e, int pretty,
                                char **out);

/* Builders for the trainer (experiment_build.c):
 * the architecture for data of c x h x w with num_classes, honouring
 * model.input when it is not "auto" (a mismatch with the data is an error). */
hn_status hn_experiment_make_arch(const hn_experiment *e, int c, int h, int w,
                                  int num_classes, hn_arch **out);
/* The network configuration for that architecture. */
hn_status hn_experiment_make_config(const hn_experiment *e, const hn_arch *a,
                                    hn_config **out);

/* The data side of an experiment: the training file (split into train and
 * validation index lists), the test set, and the normalization computed on
 * the train split. */
typedef struct hn_exp_data {
    hn_dataset *train; /* the training file: train + val samples */
    hn_dataset *test;  /* final reports only */
    hn_split split;    /* indices into train */
    hn_norm norm;      /* of split.train (identity when normalize: false) */
} hn_exp_data;

hn_status hn_experiment_load_data(const hn_experiment *e, hn_exp_data *out);
/* The seed of the train/validation split: data.split_seed, else seed. */
uint64_t hn_experiment_split_seed(const hn_experiment *e);
void hn_exp_data_free(hn_exp_data *d);
/* Training batches: shuffled per epoch, augmented, data.batch_size, seeded
 * with the experiment's seed. */
hn_status hn_experiment_train_loader(const hn_experiment *e,
                                     const hn_exp_data *d, hn_loader **out);
/* Validation (test = false) or test batches: fixed order, no augmentation,
 * data.eval_batch_size.  No validation set is an error. */
hn_status hn_experiment_eval_loader(const hn_experiment *e,
                                    const hn_exp_data *d, bool test,
                                    hn_loader **out);

/* The learning-rate schedule of the experiment's `schedule` section over
 * `epochs` epochs (train.epochs for `hetnas train`; a search passes its own
 * count of weight epochs). */
hn_sched hn_experiment_make_sched(const hn_experiment *e, int epochs);

/* Every key with its type and range, one per line (for --help). */
void hn_experiment_print_keys(FILE *f);

/* The spellings of the library's enums in experiment files. */
const char *hn_exp_sched_name(hn_sched_kind s);
const char *hn_exp_optim_name(hn_optim_kind o);
const char *hn_exp_sharing_name(hn_weight_sharing s);

#ifdef __cplusplus
}
#endif
#endif
