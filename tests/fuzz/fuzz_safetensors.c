/* libFuzzer target: arbitrary bytes as a safetensors checkpoint
 * (hn_ckpt_load_buffer), then every reader accessor on what loaded: each
 * tensor copied out with its own dtype/shape, integer metadata, RNG state,
 * the JSON metadata (history, experiment) through the strict JSON reader, and
 * a non-strict model import into a tiny ResNet-8.  Errors must come back as
 * hn_status with a message; anything else is a bug. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/arch.h"
#include "hetnas/checkpoint.h"
#include "hetnas/nn.h"
#include "hetnas/jv.h"

static hn_arch *g_arch; /* borrowed by g_model: both live for the process */
static hn_model *g_model;

static void init_model(void) {
    hn_resnet_spec spec = hn_resnet_spec_default();
    spec.depth = 8;
    spec.in_c = 1;
    spec.in_h = spec.in_w = 8;
    spec.width = 0.125; /* filters 2/4/8: small tensors a fuzzer can write */
    hn_model_opts o = hn_model_opts_default();
    if (hn_arch_resnet(&spec, &g_arch) != HN_OK) abort();
    if (hn_model_new(g_arch, NULL, &o, &g_model) != HN_OK) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_model) init_model();
    hn_ckpt *c = NULL;
    hn_status st = hn_ckpt_load_buffer(data, size, "fuzz.safetensors", &c);
    if (st != HN_OK) {
        if (c != NULL || hn_error_msg()[0] == '\0') abort();
        return 0;
    }
    int n = hn_ckpt_n_tensors(c);
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        const hn_ckpt_tensor *t = hn_ckpt_tensor_at(c, i);
        if (!t || hn_ckpt_find(c, t->name) != t) abort();
        if (t->nbytes != (size_t)t->numel * hn_dtype_size(t->dtype)) abort();
        total += t->nbytes;
        void *dst = malloc(t->nbytes ? t->nbytes : 1);
        if (!dst) continue;
        /* the tensor's own dtype and shape must be accepted, unless its
         * float data is not finite (refused by design: docs/errors.md) */
        if (hn_ckpt_get(c, t->name, t->dtype, t->ndim, t->shape, dst) != HN_OK) {
            if (hn_ckpt_check_finite(c, t) == HN_OK) abort();
            free(dst);
            continue;
        }
        if (t->nbytes && memcmp(dst, t->data, t->nbytes)) abort();
        free(dst);
        hn_rng r;
        (void)hn_ckpt_get_rng(c, t->name, &r);
    }
    if (total > size) abort();
    for (int i = 0; i < hn_ckpt_n_meta(c); i++) {
        const char *k = hn_ckpt_meta_key(c, i), *v = hn_ckpt_meta_val(c, i);
        if (!k || !v || hn_ckpt_meta(c, k) == NULL) abort();
        int64_t x;
        (void)hn_ckpt_meta_int(c, k, &x);
        hn_jv *j = NULL;
        if (hn_jv_parse(v, strlen(v), k, &j) == HN_OK) hn_jv_free(j);
    }
    int loaded = 0;
    (void)hn_ckpt_load_model(c, g_model, false, &loaded);
    (void)hn_ckpt_load_model(c, g_model, true, NULL);
    hn_ckpt_free(c);
    return 0;
}
