/* Search distributions p(a|alpha) over network configurations (paper
 * sections 2-4, appendices D and E).  docs/search.md states the formulas.
 *
 * Two families, each with one parameter group per layer or per stage:
 *  - multinomial: A_l ~ Multinomial(C_l, softmax(alpha_g)) over the op set
 *    T (paper section 3, Lemmas 1-4); counts a_l (|T| numbers summing to
 *    C_l) say how many filters get each op;
 *  - binomial width: active filters w_l = 1 + Binomial(C_l - 1,
 *    sigmoid(alpha_g)) (paper section 4 eq. 6, Lemmas 5-8), every active
 *    filter with the same op.
 * g = g(l) is the layer's parameter group: the layer itself (per layer), or
 * its stage (per stage: the stem shares stage 1's parameters, a `down`
 * layer those of the stage it opens, since with prefix slicing the stem
 * sets stage 1's residual width and `down` stage s's).  Shared parameters
 * get the sum of their layers' gradients (chain rule).
 *
 * A configuration is handled as counts (n_layers, n_ops) row-major, the
 * layout of hn_config: multinomial rows sum to C_l; the binomial has n_ops
 * = 1 and counts[l] = w_l.  Sampling is exact for every C_l (inversion for
 * small means, Hormann's BTRS rejection otherwise; the multinomial by
 * sequential conditional binomials) and a function of the rng state only. */
#ifndef HETNAS_DIST_H
#define HETNAS_DIST_H

#include "hetnas/arch.h"
#include "hetnas/config.h"
#include "hetnas/rng.h"
#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum hn_dist_kind {
    HN_DIST_MULTINOMIAL = 0, /* counts over the op set */
    HN_DIST_BINOMIAL = 1     /* active width, one op */
} hn_dist_kind;

typedef enum hn_dist_share {
    HN_DIST_PER_LAYER = 0, /* one parameter group per layer */
    HN_DIST_PER_STAGE = 1  /* one per stage (the reference code's "block") */
} hn_dist_share;

typedef enum hn_dist_init {
    /* alpha = 0: uniform over ops; binomial p = 1/2. */
    HN_DIST_INIT_UNIFORM = 0,
    /* The reference code's start (multinomial only): the most expensive op
     * (largest b_w * b_a, the first on ties; (8,8) in the reference op set)
     * has probability 1/(2n-1), every other op 2/(2n-1), n = |T|; stored as
     * logits alpha = log p. */
    HN_DIST_INIT_REFERENCE = 1
} hn_dist_init;

typedef struct hn_dist hn_dist; /* opaque */

/* From an architecture: C_l = c_out of each canonical layer.  Multinomial:
 * ops[n_ops] is the op set.  Binomial: n_ops is 1 and ops[0] the op of the
 * active filters, or n_ops = 0 / ops = NULL for full precision.  Starts
 * uniform. */
hn_status hn_dist_new(const hn_arch *a, hn_dist_kind kind,
                      hn_dist_share share, int n_ops, const hn_op *ops,
                      hn_dist **out);
/* From explicit layers (tests, non-ResNet uses): widths[n_layers] are the
 * C_l >= 1; group[n_layers] the parameter group of each layer (0-based,
 * groups = max + 1), or NULL for one group per layer. */
hn_status hn_dist_new_layers(hn_dist_kind kind, int n_layers,
                             const int *widths, const int *group, int n_ops,
                             const hn_op *ops, hn_dist **out);
void hn_dist_free(hn_dist *d);

hn_dist_kind hn_dist_get_kind(const hn_dist *d);
int hn_dist_n_layers(const hn_dist *d);
int hn_dist_n_ops(const hn_dist *d);    /* 1 for the binomial */
int hn_dist_n_groups(const hn_dist *d);
/* Length of alpha: n_groups * n_ops (multinomial, row-major (group, op))
 * or n_groups (binomial). */
int hn_dist_n_params(const hn_dist *d);
int hn_dist_width(const hn_dist *d, int layer); /* C_l */
int hn_dist_group(const hn_dist *d, int layer);
hn_op hn_dist_op(const hn_dist *d, int t);

/* "multinomial" | "binomial"; "layer" | "stage". Errors list the names. */
hn_status hn_dist_kind_parse(const char *s, hn_dist_kind *out);
const char *hn_dist_kind_name(hn_dist_kind k);
hn_status hn_dist_share_parse(const char *s, hn_dist_share *out);
const char *hn_dist_share_name(hn_dist_share s);

hn_status hn_dist_init_params(hn_dist *d, hn_dist_init init);
/* alpha[n], n must equal hn_dist_n_params; set rejects non-finite values. */
hn_status hn_dist_get_alpha(const hn_dist *d, int n, double *alpha);
hn_status hn_dist_set_alpha(hn_dist *d, int n, const double *alpha);
/* p[n], same layout: softmax rows (multinomial) or sigmoid (binomial).
 * set: multinomial rows must be > 0 and sum to 1 (within 1e-9; they are
 * renormalised), binomial p in (0, 1); alpha becomes log p / logit p. */
hn_status hn_dist_get_probs(const hn_dist *d, int n, double *p);
hn_status hn_dist_set_probs(hn_dist *d, int n, const double *p);

/* counts: (n_layers, n_ops). */
void hn_dist_sample_counts(const hn_dist *d, hn_rng *r, int *counts);
/* A sampled configuration; `a` must have the distribution's layers. */
hn_status hn_dist_sample(const hn_dist *d, const hn_arch *a, hn_rng *r,
                         hn_config **out);
/* log p(a|alpha) = sum_l log Pr(A_l = a_l) (eq. 1, 10, 19).  Counts outside
 * the support are an error naming the layer. */
hn_status hn_dist_log_prob(const hn_dist *d, const int *counts, double *out);
/* grad[n] = d log p(a|alpha) / d alpha, n = n_params:
 *   multinomial (Lemma 3):  sum_{l in g} a_lt - C_l * softmax(alpha_g)_t
 *   binomial (Lemma 7):     sum_{l in g} (w_l - 1) - (C_l - 1) sigmoid(alpha_g)
 * (Lemma 7's a_l is the binomial variable w_l - 1 here.) */
hn_status hn_dist_grad_log_prob(const hn_dist *d, const int *counts, int n,
                                double *grad);
/* counts (n_layers, n_ops) of a configuration: the multinomial needs the
 * same op set; the binomial takes each layer's active width. */
hn_status hn_dist_config_counts(const hn_dist *d, const hn_config *c,
                                int *counts);
/* The expected configuration round(E[A_l]) (paper section 4): multinomial
 * C_l * p_g by largest-remainder rounding (rows sum to C_l); binomial
 * floor(1 + (C_l - 1) p_g + 1/2) clamped to [1, C_l]. */
void hn_dist_expected_counts(const hn_dist *d, int *counts);
hn_status hn_dist_expected(const hn_dist *d, const hn_arch *a,
                           hn_config **out);

/* ---- numerics shared by the search -------------------------------------- */
/* log sum exp(x[i]) without overflow; -inf for n = 0. */
double hn_logsumexp(int n, const double *x);
/* out[i] = exp(x[i] - logsumexp(x)); out may alias x. */
void hn_softmax(int n, const double *x, double *out);
double hn_sigmoid(double x);
double hn_log_sigmoid(double x); /* log(sigmoid(x)), stable for |x| large */
/* Integers out[k] summing to `total` closest to x[k] (x >= 0, rescaled to
 * sum to total): floors, then +1 to the largest remainders, lower index
 * first on ties (Hamilton's method). */
void hn_round_largest_remainder(int k, const double *x, int total, int *out);

#ifdef __cplusplus
}
#endif
#endif
