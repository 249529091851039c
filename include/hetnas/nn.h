/* The CPU training engine's model: a ResNet (arch.h) with per-filter fake
 * quantization and slimmable widths from a network configuration (config.h),
 * explicit forward/backward, batch level.  See docs/nn.md.
 *
 * Layouts: the input batch is NCHW float (as data loaders produce it);
 * internally activations are NHWC with C = the active width; conv weights are
 * OIHW (PyTorch's).  Parameters keep their full (unpruned) shapes; a
 * configuration selects a prefix of filters/channels per layer. */
#ifndef HETNAS_NN_H
#define HETNAS_NN_H

#include <stddef.h>
#include <stdint.h>

#include "hetnas/arch.h"
#include "hetnas/config.h"
#include "hetnas/rng.h"
#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum hn_weight_sharing {
    HN_WS_SHARED = 0, /* one weight/BN/clamp set per filter, quantized at its op */
    HN_WS_PER_OP = 1  /* each (filter, op) pair owns weights, BN and clamps */
} hn_weight_sharing;

typedef enum hn_conv_impl {
    HN_CONV_AUTO = 0, /* oneDNN when built with it, else the plain-C kernels */
    HN_CONV_REF = 1,  /* plain-C golden kernels */
    HN_CONV_DNNL = 2  /* oneDNN (HN_ERR_UNSUPPORTED without it) */
} hn_conv_impl;

#define HN_MAX_BN_SETS 8

typedef struct hn_model_opts {
    hn_weight_sharing sharing;
    /* per_op: one bank per op of the configuration given to hn_model_new;
     * op t of any later configuration uses bank t (at most that many ops). */
    int n_bn_widths;                    /* switchable BN: 0 = one BN */
    double bn_widths[HN_MAX_BN_SETS];   /* homogeneous width multipliers */
    float bn_momentum;                  /* running stats, PyTorch style: 0.1 */
    float bn_eps;                       /* 1e-5 */
    hn_conv_impl conv;
    uint64_t seed;                      /* weight init (Kaiming normal) */
} hn_model_opts;

hn_model_opts hn_model_opts_default(void);

typedef struct hn_model hn_model; /* opaque */

/* The model of `arch` configured with `config` (NULL = full precision, full
 * width).  Weights: Kaiming-normal (fan_out, as torchvision), BN gamma 1 beta
 * 0, FC PyTorch-default uniform; clamps initialised from the weights
 * (|mean +- 3.45 std| per layer) and 3.0 for activations until
 * hn_model_calibrate_clamps() is called. */
hn_status hn_model_new(const hn_arch *arch, const hn_config *config,
                       const hn_model_opts *opts, hn_model **out);
void hn_model_free(hn_model *m);

/* Switches per-filter ops and active widths (a copy of c is kept).  With
 * switchable BN, a configuration equal to a declared homogeneous width uses
 * that width's BN; any other uses a separate BN set copied from the widest
 * declared one, to be re-estimated by hn_model_bn_recalibrate(). */
hn_status hn_model_set_config(hn_model *m, const hn_config *c);
const hn_config *hn_model_config(const hn_model *m);
const hn_arch *hn_model_arch(const hn_model *m);
/* Index of the BN set in use (-1 = the recalibration set). */
int hn_model_bn_set(const hn_model *m);

/* Forward a batch x (n, C, H, W) NCHW to logits (n, num_classes).  train:
 * batch-statistics BN (running stats updated) and state kept for backward;
 * otherwise running statistics.  n may change between calls. */
hn_status hn_model_forward(hn_model *m, const float *x, int n, int train,
                           float *logits);
/* Backward of the last train forward: accumulates (+=) into the gradients. */
hn_status hn_model_backward(hn_model *m, const float *dlogits);
void hn_model_zero_grad(hn_model *m);

/* Mean softmax cross entropy of logits (n, k); dlogits (may be NULL) gets
 * the gradient of the mean loss; correct (may be NULL) the top-1 hits. */
float hn_softmax_ce(const float *logits, const int *labels, int n, int k,
                    float *dlogits, int *correct);

/* ---- parameters ---------------------------------------------------------- */
typedef enum hn_param_kind {
    HN_PARAM_WEIGHT = 0,    /* conv / FC weights: weight decay applies */
    HN_PARAM_BIAS = 1,      /* FC bias, BN beta */
    HN_PARAM_BN_GAMMA = 2,
    HN_PARAM_CLAMP = 3,     /* learned quantizer clamps */
    HN_PARAM_BUFFER = 4     /* running mean/var: no gradient */
} hn_param_kind;

typedef struct hn_param {
    const char *name;  /* PyTorch-style: conv1.weight, layer1.0.bn1.weight, ... */
    hn_param_kind kind;
    int ndim;
    int shape[6];
    size_t numel;
    float *data;
    float *grad;       /* NULL for buffers */
} hn_param;

int hn_model_n_params(const hn_model *m);
/* i in [0, n_params); order is fixed for an arch + opts. */
hn_param hn_model_param(hn_model *m, int i);
/* -1 if none. */
int hn_model_find_param(const hn_model *m, const char *name);

/* Copies bank 0 (op 0's weights/clamps, BN set 0) into every other per_op
 * bank and switchable-BN set, e.g. after loading a full-precision checkpoint
 * into the plain PyTorch-shaped slices, as the reference code initialises
 * every (filter, op) pair from one FP model.  No-op for the default model. */
void hn_model_copy_bank0(hn_model *m);

/* ---- quantizer state ------------------------------------------------------ */
/* Weight clamps <- |mean +- 3.45 std| of each layer's weights (NICE);
 * activation clamps <- mean + 3 std of each channel's pre-activation over the
 * batch x (FP forward, batch statistics, running stats untouched). */
hn_status hn_model_init_weight_clamps(hn_model *m);
hn_status hn_model_calibrate_clamps(hn_model *m, const float *x, int n);

/* ---- the quantized network as integers (docs/nn.md "Quantization
 * contract"; used by the integer backends, intnet.h) ----------------------- */
/* Layer l's active weights as integer codes and per-filter scales, from the
 * same quantizer as the forward: codes (c_out_a, c_in_a, k, k) in
 * [-(2^(b_w-1)-1), 2^(b_w-1)-1] (1 bit: +-1) and scale (c_out_a) the real
 * value of one code (a/L; binary a).  HN_ERR_UNSUPPORTED naming the layer
 * and filter when a filter is full precision. */
hn_status hn_model_qweights(const hn_model *m, int l, int32_t *codes,
                            float *scale);
/* Eval-mode BN of layer l's active filters: y = scale*x + shift (running
 * statistics of the BN set in use). */
void hn_model_bn_affine(const hn_model *m, int l, float *scale, float *shift);
/* The activation clamp of layer l's output tensor (conv2: the block output;
 * the value the forward uses, |p| floored at 1e-6). */
float hn_model_act_clamp(const hn_model *m, int l);

/* 8-bit input (docs/nn.md): with the data normalization set, the forward
 * maps each normalized input x back to its 8-bit code
 * q = rhu((x*std_c + mean_c) * 255) and feeds the stem q/255 (zero padding
 * = code 0), exactly what the array reads; the normalization is thereby
 * folded into the stem's weights and BN.  mean/std: (in_c); NULL unsets. */
void hn_model_set_input_norm(hn_model *m, const float *mean, const float *std);
int hn_model_has_input_norm(const hn_model *m);
/* The normalization set by hn_model_set_input_norm (in_c values each);
 * returns 0 (nothing written) when none is set. */
int hn_model_input_norm(const hn_model *m, float *mean, float *std);
/* Whether the activation clamps come from hn_model_calibrate_clamps (or a
 * checkpoint saying so); integer backends refuse uncalibrated clamps. */
int hn_model_clamps_calibrated(const hn_model *m);
void hn_model_set_clamps_calibrated(hn_model *m, int yes);
/* Converts a model trained on normalized inputs (a checkpoint without the
 * 8-bit input contract) to the 8-bit input: stem weights /= std_c and
 * running_mean += the folded mean (exact away from the zero-padded border),
 * stem weight clamps /= min std.  Needs hn_model_set_input_norm first. */
hn_status hn_model_fold_input_norm(hn_model *m);

/* BN recalibration: begin() switches the BN set in use to cumulative
 * averaging; each train-mode forward (no backward needed) adds a batch, the
 * first one replacing what it reaches; end() restores the momentum.  Only
 * the channels and banks of the configuration are refreshed: the others
 * keep their statistics.  Also while the running stats are frozen. */
void hn_model_bn_recalibrate_begin(hn_model *m);
void hn_model_bn_recalibrate_end(hn_model *m);
/* 1 when the running statistics in use were estimated at the current
 * widths: a declared switchable-BN width, the configuration given to
 * hn_model_new (the set it uses), or the widths of the set's last
 * recalibration or train forward with updates on; 0 when an
 * eval forward would use another width's statistics (recalibrate first). */
int hn_model_bn_stats_valid(const hn_model *m);

/* Running-statistics updates of train forwards: on (default) or off, e.g.
 * for weight steps on sampled configurations whose statistics are
 * recalibrated before evaluation.  Batch statistics are used either way. */
void hn_model_set_bn_update(hn_model *m, int on);
int hn_model_bn_update(const hn_model *m);

/* Snapshot of the BN running statistics of every layer, bank and set
 * (plus which widths each set holds); gamma/beta are parameters and are
 * not part of it.  Restore into the same model (or one of the same arch
 * and opts). */
typedef struct hn_bn_state hn_bn_state; /* opaque */
hn_status hn_model_bn_save(const hn_model *m, hn_bn_state **out);
hn_status hn_model_bn_restore(hn_model *m, const hn_bn_state *s);
void hn_bn_state_free(hn_bn_state *s);

/* Gradual quantization (NICE staging): only layers [0, k) of the canonical
 * order use their configured ops, later ones run full precision; -1 (the
 * default) quantizes all. */
hn_status hn_model_set_quant_layers(hn_model *m, int k);
/* NICE training noise: in train forwards, each quantized weight (b_w >= 2)
 * is with probability prob replaced by its clamped value plus uniform noise
 * of half a quantization bin (+-step/2); 0 (default) disables.  Seeded,
 * drawn in a fixed order: deterministic. */
void hn_model_set_train_noise(hn_model *m, float prob, uint64_t seed);
/* The noise stream's state, for exact checkpoints. */
hn_rng hn_model_noise_rng(const hn_model *m);
float hn_model_noise_prob(const hn_model *m);
void hn_model_set_noise_rng(hn_model *m, hn_rng r);

/* Time spent per phase of the last forward/backward, for profiles. */
typedef struct hn_model_prof {
    double conv_fwd, conv_bwd, bn_act_fwd, bn_act_bwd, wquant, other;
} hn_model_prof;
hn_model_prof hn_model_profile(const hn_model *m);
void hn_model_profile_reset(hn_model *m);

#ifdef __cplusplus
}
#endif
#endif
