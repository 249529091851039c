/* Integer inference of a whole quantized network (docs/nn.md "Quantization
 * contract", "Integer network"): the trained model's weights, BN and clamps
 * become per-layer hardware jobs (hwjob.h) with integer weights, per-filter
 * fixed-point requantization (hwref.h, BN folded, round half up), an
 * integer residual add at a common fixed-point scale, integer average
 * pooling (sums) and a float FC on the pooled integer sums.
 *
 * The per-layer convolution is pluggable (hn_intnet_conv_fn): any backend
 * of backend.h (csim, opencl, verilator) runs the jobs through
 * hn_backend_conv; the default is the oracle hn_hwref_conv. */
#ifndef HETNAS_INTNET_H
#define HETNAS_INTNET_H

#include <stdint.h>

#include "hetnas/hwjob.h"
#include "hetnas/nn.h"
#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Runs one conv job: acc (c_out, out_h, out_w).  Semantics (hwjob):
 * input channel c of group bits b_c carries a b_c-bit code;
 * acc = sum w * (code_c << (B - b_c)), B = max bits over the job's input
 * groups.  HN_ERR_RANGE when an accumulator leaves int32. */
typedef hn_status (*hn_intnet_conv_fn)(const hn_hwjob *job, int32_t *acc,
                                       void *ud);

/* The plain-C oracle hn_hwref_conv (int64 sums, overflow check). */
hn_status hn_intnet_conv_ref(const hn_hwjob *job, int32_t *acc, void *ud);
/* Any backend of backend.h: opts.conv = hn_backend_conv, opts.conv_ud = it. */

/* Runs one conv job on n images at once: acts (n, c_in, in_h, in_w) and
 * acc (n, c_out, out_h, out_w); job->acts is not used.  Same semantics. */
typedef hn_status (*hn_intnet_conv_batch_fn)(const hn_hwjob *job, int n,
                                             const int32_t *acts, int32_t *acc,
                                             void *ud);

typedef struct hn_intnet_opts {
    hn_intnet_conv_fn conv; /* NULL: hn_intnet_conv_ref */
    void *conv_ud;
    hn_intnet_conv_batch_fn conv_batch; /* NULL: conv image by image */
    int batch;                /* images per layer pass (buffers), 0: 1 */
    int max_wbits, max_abits; /* array limits, 0: HN_HW_WBITS_MAX/HN_HW_BA_MAX */
    int max_cout;             /* 0: 2^HN_HW_FILT_W */
    int acc_bits;             /* accumulator bits incl. sign, 0: 32 */
} hn_intnet_opts;

hn_intnet_opts hn_intnet_opts_default(void);

typedef struct hn_intnet hn_intnet; /* opaque */

/* Builds the integer network from the model as configured now (eval BN of
 * the set in use).  Checks everything before any work, errors naming the
 * layer: full-precision weights or activations, bits or filters beyond the
 * array's limits, the accumulator bound 2^b_w * k^2 * c_in * 2^B beyond
 * acc_bits (docs/nn.md), a model without the 8-bit input
 * (hn_model_set_input_norm not called). */
hn_status hn_intnet_new(const hn_model *m, const hn_intnet_opts *opts,
                        hn_intnet **out);
void hn_intnet_free(hn_intnet *net);

/* Logits (n, classes) of n images of 8-bit codes (n, C, H, W) uint8. */
hn_status hn_intnet_forward(hn_intnet *net, const uint8_t *codes, int n,
                            float *logits);

/* The conv job the network runs for canonical layer l (arch.h numbering),
 * NULL when l is out of range.  The net owns it; the same pointer reaches
 * the conv function on every image, so a backend can tell layers apart
 * (e.g. per-layer cycles in `hetnas hw report --checkpoint`). */
const hn_hwjob *hn_intnet_layer_job(const hn_intnet *net, int l);

/* 8-bit codes of a normalized float batch (the inverse of the loader's
 * normalization, round half up, as hn_model_forward does). */
void hn_intnet_codes_from_norm(const float *x, int n, int C, int HW,
                               const float *mean, const float *std,
                               uint8_t *codes);

#ifdef __cplusplus
}
#endif
#endif
