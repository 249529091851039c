/* The hardware report of a configuration (the library side of `hetnas hw
 * report`): per-layer model cycles on the bit-serial array, per-layer
 * measurement on any backend that runs a conv job (the Verilator model in
 * the CLI) checked against the C reference, and over N random
 * configurations the correlation of BOPs with model cycles. */
#ifndef HETNAS_HWREPORT_H
#define HETNAS_HWREPORT_H

#include <stdint.h>

#include "hetnas/backend.h"
#include "hetnas/cost.h"
#include "hetnas/cycles.h"
#include "hetnas/hwjob.h"
#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hn_hwreport_layer {
    hn_layer_cost cost; /* filled by the caller (hn_cost_network) */
    int64_t measured;   /* cycles of the backend; -1: not measured */
    int ok;             /* measured accumulators == C reference */
    uint64_t model;     /* model cycles (exact for the RTL) */
    double ideal, util; /* ideal cycles, utilization = ideal / model */
    uint64_t kernel;    /* kernel cycles incl. DMA (hn_hwreport_kernel), 0 if
                           not computed */
    uint64_t kernel_load, kernel_wait, kernel_store; /* its load before the
                           run, the run's waits for activations and the
                           store's tail after the run (hn_kernel_report) */
} hn_hwreport_layer;

/* Model cycles of every searchable layer of configuration c (rows may be
 * NULL); *total = their sum.  Errors name the layer. */
hn_status hn_hwreport_model(const hn_arch *a, const hn_config *c,
                            int input_bits, const hn_array_params *p,
                            hn_hwreport_layer *rows, uint64_t *total);

/* Kernel cycles (load + run + store of hn_krnl_top, hn_cycles_kernel) of
 * every layer at memory latencies d into rows[l].kernel; *total = sum. */
hn_status hn_hwreport_kernel(const hn_arch *a, const hn_config *c,
                             int input_bits, const hn_array_params *p,
                             const hn_dma_params *d, hn_hwreport_layer *rows,
                             uint64_t *total);

/* Every layer as a job with random values (seeded by `seed`), run on
 * backend b (backend.h; the Verilator model in the CLI) and by the C
 * reference: rows[l].measured/ok, *total = sum of measured cycles,
 * *mismatches = layers that differ from the reference. */
hn_status hn_hwreport_measure(const hn_arch *a, const hn_config *c,
                              int input_bits, uint64_t seed, hn_backend *b,
                              hn_hwreport_layer *rows, uint64_t *total,
                              int *mismatches);

/* Statistics over random configurations with c's op set: per layer, op
 * proportions uniform on the simplex, then multinomial filter counts. */
typedef struct hn_hwreport_samples {
    int n, n_layers;
    double pearson, spearman;             /* total BOPs vs total model cycles */
    double layer_pearson, layer_spearman; /* samples x layers pooled */
    double util_mean, util_min;           /* network utilization */
    double *layer_util_mean, *layer_util_min; /* (n_layers), owned */
} hn_hwreport_samples;

hn_status hn_hwreport_sample(const hn_arch *a, const hn_config *c,
                             const hn_cost_opts *copts, int input_bits,
                             const hn_array_params *p, int samples,
                             uint64_t seed, hn_hwreport_samples *out);
void hn_hwreport_samples_free(hn_hwreport_samples *s);

#ifdef __cplusplus
}
#endif
#endif
