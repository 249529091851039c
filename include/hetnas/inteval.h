/* The integer network (intnet.h) run next to the fake-quant float model,
 * batch by batch, as an hn_eval_opts.batch callback: `hetnas eval
 * --backend`, `hetnas hw report --checkpoint` and the search's final
 * evaluation (search.eval_backend) share it. */
#ifndef HETNAS_INTEVAL_H
#define HETNAS_INTEVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "hetnas/intnet.h"
#include "hetnas/nn.h"
#include "hetnas/status.h"

typedef struct hn_int_eval {
    hn_intnet_opts opts; /* how the network's convolutions run (the caller's) */
    bool crosscheck;     /* also the ref network: count bit-exact images */
    /* optional: called once with the configured model, before the network
     * is built (the model is configured, its BN recalibrated, by then) */
    hn_status (*on_model)(const hn_model *m, void *ud);
    void *ud;
    hn_intnet *net, *ref;
    uint8_t *codes;               /* (cap, C, H, W) */
    float *logits, *ref_logits;   /* (cap, classes) */
    int cap, classes;
    long n, correct, agree, exact; /* images; integer top-1 right; == float
                                      top-1; logits == ref's bit for bit */
    double max_dz;                 /* max |float - integer logit| */
} hn_int_eval;

/* hn_eval_opts.batch: ud is the hn_int_eval. */
hn_status hn_int_eval_batch(hn_model *m, const float *x, const int *labels,
                            int n, const float *zf, void *ud);
/* Frees the networks and buffers; the counts stay readable. */
void hn_int_eval_clear(hn_int_eval *ie);

#endif
