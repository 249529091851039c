/* The ResNet family (6n+2 layers) as a list of searchable conv layers in the
 * canonical order of DESIGN.md: stem, then per stage s=1..3 and block b:
 * s{s}.b{b}.conv1, s{s}.b{b}.conv2, s{s}.b{b}.down (block 0 of stages 2, 3). */
#ifndef HETNAS_ARCH_H
#define HETNAS_ARCH_H

#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HN_LAYER_NAME_MAX 24

typedef enum hn_layer_role {
    HN_ROLE_STEM = 0,
    HN_ROLE_CONV1 = 1,
    HN_ROLE_CONV2 = 2,
    HN_ROLE_DOWN = 3
} hn_layer_role;

/* One searchable conv layer (conv + BN; ReLU except for conv2/down, whose
 * ReLU follows the residual add). */
typedef struct hn_layer_desc {
    char name[HN_LAYER_NAME_MAX];
    hn_layer_role role;
    int stage, block;         /* 0 for the stem; stages and blocks 1-/0-based */
    int c_in, c_out;          /* full (unpruned) channel counts */
    int k, stride, pad;
    int in_h, in_w, out_h, out_w;
} hn_layer_desc;

/* Model geometry; open struct. */
typedef struct hn_resnet_spec {
    int depth;          /* 6n+2, n >= 1 */
    int in_c, in_h, in_w;
    double width;       /* multiplier on 16/32/64; filters = max(1, floor(base*width)) */
    int num_classes;    /* FC outputs (not searchable) */
} hn_resnet_spec;

typedef struct hn_arch hn_arch; /* opaque */

/* Defaults: depth 20, 3x32x32, width 1.0, 10 classes. */
hn_resnet_spec hn_resnet_spec_default(void);
/* "resnet8|14|20|32|44|56" or "resnet" (depth taken from spec->depth). */
hn_status hn_resnet_spec_set_model(hn_resnet_spec *spec, const char *model);
/* "CxHxW", e.g. "3x32x32". */
hn_status hn_parse_input_shape(const char *s, int *c, int *h, int *w);

hn_status hn_arch_resnet(const hn_resnet_spec *spec, hn_arch **out);
void hn_arch_free(hn_arch *a);
const hn_resnet_spec *hn_arch_spec(const hn_arch *a);
/* "resnet20" etc. */
const char *hn_arch_model_name(const hn_arch *a);
int hn_arch_n_layers(const hn_arch *a);
const hn_layer_desc *hn_arch_layer(const hn_arch *a, int i);
/* Index of a layer by canonical name, -1 if none. */
int hn_arch_find(const hn_arch *a, const char *name);
int hn_arch_n_blocks(const hn_arch *a); /* 3n */
/* Layer indices of block b (0-based over all stages); down is -1 when the
 * block has an identity shortcut. */
void hn_arch_block_layers(const hn_arch *a, int b, int *conv1, int *conv2,
                          int *down);
/* Channels of the last block's output = FC input. */
int hn_arch_fc_in(const hn_arch *a);

#ifdef __cplusplus
}
#endif
#endif
