/* Search losses L(a) fed to the gradient estimators:
 *  - the complexity loss (paper eq. 4-5):
 *        L = L_acc + lambda * sigma(r),  r = cost(a) / cost(target),
 *    cost = BOPs (quantization, appendix F) or MACs (pruning);
 *  - the interpolation loss (appendix C.5, eq. 7-8): the expected CE of a
 *    configuration is the piecewise-linear interpolation, in cost, of
 *    measured homogeneous (cost, CE) points, and L = sigma(CE - expected).
 * docs/search.md lists the sigma functions. */
#ifndef HETNAS_CLOSS_H
#define HETNAS_CLOSS_H

#include "hetnas/arch.h"
#include "hetnas/config.h"
#include "hetnas/cost.h"
#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* sigma of the complexity ratio r. */
typedef enum hn_closs_sigma {
    HN_CLOSS_IDENTITY = 0, /* r */
    HN_CLOSS_SQUARE = 1,   /* r^2 (the reference code) */
    HN_CLOSS_HINGE = 2,    /* max(0, r - 1): no penalty under the target */
    HN_CLOSS_SIGMOID = 3   /* 1 / (1 + exp(-(r - 1))): 1/2 at the target */
} hn_closs_sigma;

typedef enum hn_closs_metric {
    HN_CLOSS_BOPS = 0, /* hn_cost_network total.bops */
    HN_CLOSS_MACS = 1, /* hn_cost_network total.macs */
    HN_CLOSS_CYCLES = 2 /* array cycles of every searchable layer (hn_cyc) */
} hn_closs_metric;

/* Open configuration of the complexity loss. */
typedef struct hn_closs {
    hn_closs_sigma sigma;
    double lambda; /* >= 0 */
    double target; /* cost of the target configuration, > 0 */
} hn_closs;

/* "identity" | "square" | "hinge" | "sigmoid". */
hn_status hn_closs_sigma_parse(const char *s, hn_closs_sigma *out);
const char *hn_closs_sigma_name(hn_closs_sigma s);
/* "bops" | "macs" | "cycles". */
hn_status hn_closs_metric_parse(const char *s, hn_closs_metric *out);
const char *hn_closs_metric_name(hn_closs_metric m);

double hn_closs_sigma_apply(hn_closs_sigma s, double r);
/* Errors name the field: unknown sigma, lambda < 0, target <= 0. */
hn_status hn_closs_check(const hn_closs *c);
/* loss = l_acc + lambda * sigma(cost / target); l_com (may be NULL)
 * receives sigma(cost / target).  cost >= 0. */
hn_status hn_closs_eval(const hn_closs *c, double l_acc, double cost,
                        double *loss, double *l_com);
/* The metric's total for a configuration (o NULL = hn_cost_opts_default).
 * HN_CLOSS_CYCLES uses the cycle model on the default array; for measured
 * cycles use hn_cyc_total. */
hn_status hn_closs_cost(const hn_arch *a, const hn_config *cfg,
                        const hn_cost_opts *o, hn_closs_metric m,
                        double *out);

/* ---- cycles as the cost (hardware in the loop) --------------------------
 * The array cycles of a configuration, summed over its searchable layers,
 * from the exact cycle model ("model") or measured on a backend with a
 * clock ("verilator"), per layer job and cached by the job's shape (its
 * geometry and channel/filter groups): the array's schedule does not depend
 * on the data (tests/test_closs.c measures it), so a layer configuration is
 * measured once, on seeded random data. */
typedef struct hn_cyc hn_cyc; /* opaque */

/* source: "model" or the name of a backend with a clock (backend.h). */
hn_status hn_cyc_new(const char *source, hn_cyc **out);
void hn_cyc_free(hn_cyc *c);
hn_status hn_cyc_total(hn_cyc *c, const hn_arch *a, const hn_config *cfg,
                       int input_bits, double *out);
/* Layer jobs measured (cache misses) and answered from the cache. */
void hn_cyc_stats(const hn_cyc *c, long *measured, long *cached);

/* ---- interpolation loss (C.5) ------------------------------------------- */

typedef enum hn_iloss_sigma {
    HN_ILOSS_IDENTITY = 0,   /* d */
    HN_ILOSS_SIGMOID = 1,    /* 1 / (1 + exp(-d)) */
    HN_ILOSS_LEAKY_RELU = 2, /* LeakyReLU_0.1(d) */
    /* The reference code: 0.1 + LeakyReLU_0.1(d / expected). */
    HN_ILOSS_REFERENCE = 3
} hn_iloss_sigma;
/* d = CE - expected. */

/* "identity" | "sigmoid" | "leaky_relu" | "reference". */
hn_status hn_iloss_sigma_parse(const char *s, hn_iloss_sigma *out);
const char *hn_iloss_sigma_name(hn_iloss_sigma s);

typedef struct hn_interp hn_interp; /* opaque: sorted (cost, CE) points */

/* cost[n], ce[n]: n >= 1 homogeneous points in any order; costs finite,
 * >= 0 and distinct. */
hn_status hn_interp_new(int n, const double *cost, const double *ce,
                        hn_interp **out);
void hn_interp_free(hn_interp *it);
/* Expected CE at `cost`: linear between the two points around it (eq. 8),
 * clamped to the end points' CE outside their range. */
double hn_interp_expected(const hn_interp *it, double cost);
/* sigma(ce - expected(cost)).  The reference form needs expected > 0. */
hn_status hn_interp_loss(const hn_interp *it, hn_iloss_sigma s, double cost,
                         double ce, double *out);

#ifdef __cplusplus
}
#endif
#endif
