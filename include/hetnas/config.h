/* Network configuration (the paper's `a`): an op set T of (b_w, b_a) and per
 * layer the count of filters given each op.  Filters 0..a_l1-1 get op 0, the
 * next a_l2 op 1, ... (paper Fig. A.1); filters past the layer's width are
 * pruned (prefix slicing).  Bits are 1..16; HN_BITS_FP (32) marks a full
 * precision (unquantized) op, used by width-only configurations. */
#ifndef HETNAS_CONFIG_H
#define HETNAS_CONFIG_H

#include "hetnas/arch.h"
#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HN_BITS_MAX 16
#define HN_BITS_FP 32
#define HN_MAX_OPS 32

typedef struct hn_op {
    int wbits; /* 1 = binary (+-1) weights, 2 = ternary, ...; 32 = float */
    int abits; /* unsigned activation bits after ReLU; 32 = float */
} hn_op;

typedef struct hn_config hn_config; /* opaque */

/* counts: (n_layers, n_ops) row-major; every row must sum to 1..C_l (a sum
 * below C_l prunes the layer).  Errors name the layer. */
hn_status hn_config_new(const hn_arch *a, int n_ops, const hn_op *ops,
                        const int *counts, hn_config **out);
hn_status hn_config_homogeneous(const hn_arch *a, hn_op op, hn_config **out);
/* widths: one per layer, 1..C_l, all filters with op `op`. */
hn_status hn_config_widths(const hn_arch *a, const int *widths, hn_op op,
                           hn_config **out);
/* Each layer keeps max(1, floor(C_l * r)) filters; r in (0, 1]. */
hn_status hn_config_width_mult(const hn_arch *a, double r, hn_op op,
                               hn_config **out);
/* Reads a YAML configuration file (docs/formats.md). */
hn_status hn_config_load(const char *path, const hn_arch *a, hn_config **out);
hn_status hn_config_load_string(const char *text, const char *name,
                                const hn_arch *a, hn_config **out);
/* Writes the explicit `ops` + `layers` form, atomically. */
hn_status hn_config_save(const hn_config *c, const hn_arch *a,
                         const char *path);
hn_config *hn_config_clone(const hn_config *c);
void hn_config_free(hn_config *c);

int hn_config_n_layers(const hn_config *c);
int hn_config_n_ops(const hn_config *c);
hn_op hn_config_op(const hn_config *c, int t);
int hn_config_count(const hn_config *c, int layer, int t);
void hn_config_set_count(hn_config *c, int layer, int t, int count);
/* Active filters of a layer (sum of its counts). */
int hn_config_width(const hn_config *c, int layer);
/* Op index of filter f of a layer, -1 when f is pruned. */
int hn_config_filter_op(const hn_config *c, int layer, int f);

/* Activation bits of every channel of each layer's input tensor, following
 * DESIGN.md: the stem sees input_bits on every channel; a block's output
 * channel c carries conv2 filter c's b_a, or, past conv2's width, the
 * shortcut's channel bits (identity: the block input's; down: the down
 * conv's filter b_a).  bits[0..c_in-1], 0 = inactive (pruned) channel. */
hn_status hn_config_input_bits(const hn_config *c, const hn_arch *a,
                               int layer, int input_bits, int *bits);
/* The same for the FC input (the last block's output). */
hn_status hn_config_fc_input_bits(const hn_config *c, const hn_arch *a,
                                  int input_bits, int *bits);

#ifdef __cplusplus
}
#endif
#endif
