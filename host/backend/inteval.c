/* hn_int_eval_*: the integer network beside the float model (inteval.h). */
#include "hetnas/inteval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/arch.h"

hn_status hn_int_eval_batch(hn_model *m, const float *x, const int *labels,
                            int n, const float *zf, void *ud) {
    hn_int_eval *ie = ud;
    const hn_resnet_spec *sp = hn_arch_spec(hn_model_arch(m));
    const int C = sp->in_c, HW = sp->in_h * sp->in_w;
    if (!ie->net) { /* the model is configured (and BN recalibrated) now */
        if (ie->on_model) HN_TRY(ie->on_model(m, ie->ud));
        HN_TRY(hn_intnet_new(m, &ie->opts, &ie->net));
        if (ie->crosscheck) HN_TRY(hn_intnet_new(m, NULL, &ie->ref));
        ie->classes = sp->num_classes;
    }
    const int K = ie->classes;
    if (n > ie->cap) {
        free(ie->codes); free(ie->logits); free(ie->ref_logits);
        ie->codes = malloc((size_t)n * C * HW);
        ie->logits = malloc(sizeof(float) * (size_t)n * K);
        ie->ref_logits = malloc(sizeof(float) * (size_t)n * K);
        if (!ie->codes || !ie->logits || !ie->ref_logits)
            return hn_fail(HN_ERR_NOMEM, "integer network evaluation");
        ie->cap = n;
    }
    float mean[4], std[4];
    if (!hn_model_input_norm(m, mean, std))
        return hn_fail(HN_ERR_INVAL, "integer network: the model has no 8-bit input");
    hn_intnet_codes_from_norm(x, n, C, HW, mean, std, ie->codes);
    HN_TRY(hn_intnet_forward(ie->net, ie->codes, n, ie->logits));
    if (ie->ref) {
        HN_TRY(hn_intnet_forward(ie->ref, ie->codes, n, ie->ref_logits));
        for (int i = 0; i < n; i++)
            ie->exact += !memcmp(ie->logits + (size_t)i * K,
                                 ie->ref_logits + (size_t)i * K, sizeof(float) * K);
    }
    for (int i = 0; i < n; i++) {
        const float *a = zf + (size_t)i * K, *b = ie->logits + (size_t)i * K;
        int af = 0, ai = 0;
        for (int k = 0; k < K; k++) {
            if (a[k] > a[af]) af = k;
            if (b[k] > b[ai]) ai = k;
            double d = fabs((double)a[k] - b[k]);
            if (d > ie->max_dz) ie->max_dz = d;
        }
        ie->agree += af == ai;
        ie->correct += ai == labels[i];
    }
    ie->n += n;
    return HN_OK;
}

void hn_int_eval_clear(hn_int_eval *ie) {
    hn_intnet_free(ie->net);
    hn_intnet_free(ie->ref);
    free(ie->codes);
    free(ie->logits);
    free(ie->ref_logits);
    ie->net = ie->ref = NULL;
    ie->codes = NULL;
    ie->logits = ie->ref_logits = NULL;
    ie->cap = 0;
}
