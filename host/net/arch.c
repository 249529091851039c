/* The ResNet family for CIFAR-style inputs (He et al. 2016, sec. 4.2):
 * a 3x3 stem, three stages of n BasicBlocks with 16/32/64 filters, stride 2
 * at the first block of stages 2 and 3 with a 1x1 stride-2 projection
 * ("down") as the shortcut there. */
#include "hetnas/arch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hn_arch {
    hn_resnet_spec spec;
    char model[32];
    int n_layers;
    hn_layer_desc *layers; /* canonical order */
    int n_blocks;
    int *block_conv1, *block_conv2, *block_down; /* (n_blocks) */
    int fc_in;
};

hn_resnet_spec hn_resnet_spec_default(void) {
    hn_resnet_spec s = {.depth = 20, .in_c = 3, .in_h = 32, .in_w = 32,
                        .width = 1.0, .num_classes = 10};
    return s;
}

hn_status hn_resnet_spec_set_model(hn_resnet_spec *spec, const char *model) {
    if (!strcmp(model, "resnet")) return HN_OK; /* depth from spec */
    if (!strncmp(model, "resnet", 6)) {
        char *end;
        long d = strtol(model + 6, &end, 10);
        if (*end == '\0' && end != model + 6 &&
            (d == 8 || d == 14 || d == 20 || d == 32 || d == 44 || d == 56)) {
            spec->depth = (int)d;
            return HN_OK;
        }
    }
    return hn_fail(HN_ERR_INVAL, "unknown model '%s' (resnet8|resnet14|"
                   "resnet20|resnet32|resnet44|resnet56, or resnet with "
                   "--depth 6n+2)", model);
}

hn_status hn_parse_input_shape(const char *s, int *c, int *h, int *w) {
    char tail;
    int a, b, d;
    if (sscanf(s, "%dx%dx%d%c", &a, &b, &d, &tail) != 3)
        return hn_fail(HN_ERR_INVAL, "input shape '%s': expected CxHxW, e.g. "
                       "3x32x32", s);
    if (a < 1 || a > 4096 || b < 1 || b > 8192 || d < 1 || d > 8192)
        return hn_fail(HN_ERR_RANGE, "input shape '%s': C must be 1..4096 and "
                       "H, W 1..8192", s);
    *c = a;
    *h = b;
    *w = d;
    return HN_OK;
}

static int conv_out(int in, int k, int stride, int pad) {
    return (in + 2 * pad - k) / stride + 1;
}

static void add_layer(hn_arch *a, const char *name, hn_layer_role role,
                      int stage, int block, int c_in, int c_out, int k,
                      int stride, int in_h, int in_w) {
    hn_layer_desc *l = &a->layers[a->n_layers++];
    memset(l, 0, sizeof *l);
    snprintf(l->name, sizeof l->name, "%s", name);
    l->role = role;
    l->stage = stage;
    l->block = block;
    l->c_in = c_in;
    l->c_out = c_out;
    l->k = k;
    l->stride = stride;
    l->pad = k / 2;
    l->in_h = in_h;
    l->in_w = in_w;
    l->out_h = conv_out(in_h, k, stride, l->pad);
    l->out_w = conv_out(in_w, k, stride, l->pad);
}

hn_status hn_arch_resnet(const hn_resnet_spec *spec, hn_arch **out) {
    *out = NULL;
    if (spec->depth < 8 || (spec->depth - 2) % 6 != 0)
        return hn_fail(HN_ERR_INVAL, "depth %d: a ResNet of this family has "
                       "6n+2 layers with n >= 1 (8, 14, 20, 32, ...)",
                       spec->depth);
    if (spec->depth > 6 * 200 + 2)
        return hn_fail(HN_ERR_RANGE, "depth %d: at most %d", spec->depth,
                       6 * 200 + 2);
    if (!(spec->width > 0.0) || spec->width > 64.0)
        return hn_fail(HN_ERR_RANGE, "width multiplier %g: must be in (0, 64]",
                       spec->width);
    if (spec->in_c < 1 || spec->in_h < 1 || spec->in_w < 1)
        return hn_fail(HN_ERR_RANGE, "input %dx%dx%d: every dimension must be "
                       ">= 1", spec->in_c, spec->in_h, spec->in_w);
    if (spec->num_classes < 1)
        return hn_fail(HN_ERR_RANGE, "num_classes %d: must be >= 1",
                       spec->num_classes);
    int n = (spec->depth - 2) / 6;
    hn_arch *a = calloc(1, sizeof *a);
    if (!a) return hn_fail(HN_ERR_NOMEM, "out of memory");
    a->spec = *spec;
    snprintf(a->model, sizeof a->model, "resnet%d", spec->depth);
    a->n_blocks = 3 * n;
    a->layers = calloc((size_t)(1 + 6 * n + 2), sizeof *a->layers);
    a->block_conv1 = calloc((size_t)a->n_blocks, sizeof(int));
    a->block_conv2 = calloc((size_t)a->n_blocks, sizeof(int));
    a->block_down = calloc((size_t)a->n_blocks, sizeof(int));
    if (!a->layers || !a->block_conv1 || !a->block_conv2 || !a->block_down) {
        hn_arch_free(a);
        return hn_fail(HN_ERR_NOMEM, "out of memory");
    }
    int widths[3];
    for (int s = 0; s < 3; s++) {
        int w = (int)floor((16 << s) * spec->width);
        widths[s] = w < 1 ? 1 : w;
    }
    int h = spec->in_h, w = spec->in_w;
    add_layer(a, "stem", HN_ROLE_STEM, 0, 0, spec->in_c, widths[0], 3, 1, h,
              w);
    int c = widths[0];
    h = a->layers[0].out_h;
    w = a->layers[0].out_w;
    int blk = 0;
    for (int s = 1; s <= 3; s++) {
        int cs = widths[s - 1];
        for (int b = 0; b < n; b++, blk++) {
            int stride = (b == 0 && s > 1) ? 2 : 1;
            char name[HN_LAYER_NAME_MAX];
            snprintf(name, sizeof name, "s%d.b%d.conv1", s, b);
            a->block_conv1[blk] = a->n_layers;
            add_layer(a, name, HN_ROLE_CONV1, s, b, c, cs, 3, stride, h, w);
            int oh = a->layers[a->n_layers - 1].out_h;
            int ow = a->layers[a->n_layers - 1].out_w;
            snprintf(name, sizeof name, "s%d.b%d.conv2", s, b);
            a->block_conv2[blk] = a->n_layers;
            add_layer(a, name, HN_ROLE_CONV2, s, b, cs, cs, 3, 1, oh, ow);
            a->block_down[blk] = -1;
            if (b == 0 && s > 1) {
                snprintf(name, sizeof name, "s%d.b%d.down", s, b);
                a->block_down[blk] = a->n_layers;
                add_layer(a, name, HN_ROLE_DOWN, s, b, c, cs, 1, 2, h, w);
            }
            c = cs;
            h = oh;
            w = ow;
        }
    }
    a->fc_in = c;
    *out = a;
    return HN_OK;
}

void hn_arch_free(hn_arch *a) {
    if (!a) return;
    free(a->layers);
    free(a->block_conv1);
    free(a->block_conv2);
    free(a->block_down);
    free(a);
}

const hn_resnet_spec *hn_arch_spec(const hn_arch *a) { return &a->spec; }
const char *hn_arch_model_name(const hn_arch *a) { return a->model; }
int hn_arch_n_layers(const hn_arch *a) { return a->n_layers; }

const hn_layer_desc *hn_arch_layer(const hn_arch *a, int i) {
    HN_ASSERT(i >= 0 && i < a->n_layers);
    return &a->layers[i];
}

int hn_arch_find(const hn_arch *a, const char *name) {
    for (int i = 0; i < a->n_layers; i++)
        if (!strcmp(a->layers[i].name, name)) return i;
    return -1;
}

int hn_arch_n_blocks(const hn_arch *a) { return a->n_blocks; }

void hn_arch_block_layers(const hn_arch *a, int b, int *conv1, int *conv2,
                          int *down) {
    HN_ASSERT(b >= 0 && b < a->n_blocks);
    if (conv1) *conv1 = a->block_conv1[b];
    if (conv2) *conv2 = a->block_conv2[b];
    if (down) *down = a->block_down[b];
}

int hn_arch_fc_in(const hn_arch *a) { return a->fc_in; }
