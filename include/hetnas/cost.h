/* MACs and BOPs of a configuration, exactly as DESIGN.md (paper appendix F,
 * eq. 28-31 with an integer accumulator width, plus the parameter-fetch
 * memory term). */
#ifndef HETNAS_COST_H
#define HETNAS_COST_H

#include <stdbool.h>
#include <stdint.h>

#include "hetnas/arch.h"
#include "hetnas/config.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hn_cost_opts {
    int input_bits;  /* bits of every network-input channel (default 8) */
    bool memory;     /* add the parameter-fetch term (default true) */
    bool include_fc; /* append the FC layer (default false) */
    int fc_wbits;    /* FC weight bits when include_fc (default 8) */
} hn_cost_opts;

typedef struct hn_layer_cost {
    uint64_t macs;
    uint64_t bops_compute;
    uint64_t bops_memory;
    uint64_t bops; /* compute + memory (memory only if opts.memory) */
} hn_layer_cost;

hn_cost_opts hn_cost_opts_default(void);

/* Per-layer cost for one conv layer from its explicit groups.
 * in_bits[c_in]: bits of each input channel (0 = inactive);
 * filter_wbits[c_out]: weight bits of each filter (0 = pruned). */
hn_status hn_cost_conv(int c_in, const int *in_bits, int c_out,
                       const int *filter_wbits, int k, int out_h, int out_w,
                       bool memory, hn_layer_cost *out);

/* Whole network.  per_layer has n_layers entries (+1 for the FC, named "fc",
 * when include_fc); total is their sum. */
hn_status hn_cost_network(const hn_arch *a, const hn_config *c,
                          const hn_cost_opts *o, hn_layer_cost *per_layer,
                          hn_layer_cost *total);

/* ceil(log2(x)) for x >= 1, exact on integers. */
int hn_ceil_log2_u128(unsigned __int128 x);
/* Closed form of eq. 27 for a homogeneous layer with the integer
 * accumulator:  H*W*m*n*k^2*(ba*bw + ceil(ba + bw + log2(n*k^2))). */
uint64_t hn_cost_eq27(int out_h, int out_w, int m, int n, int k, int wbits,
                      int abits);

#ifdef __cplusplus
}
#endif
#endif
