/* Seeded, platform-independent random numbers: PCG32 (O'Neill 2014,
 * XSH-RR output) with independent streams.  Every draw is computed with
 * integer arithmetic or from those integers in a fixed way, so a seed gives
 * the same sequence on every platform and compiler. */
#ifndef HETNAS_RNG_H
#define HETNAS_RNG_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A value type (copy it to fork a stream's state; save both words to
 * checkpoint it). */
typedef struct hn_rng {
    uint64_t state;
    uint64_t inc; /* odd; selects the stream */
} hn_rng;

/* Streams with different `stream` ids never overlap for the same seed. */
void hn_rng_seed(hn_rng *r, uint64_t seed, uint64_t stream);
uint32_t hn_rng_u32(hn_rng *r);
uint64_t hn_rng_u64(hn_rng *r);
/* Uniform integer in [0, n), unbiased (Lemire's rejection); n >= 1. */
uint32_t hn_rng_below(hn_rng *r, uint32_t n);
/* Uniform double in [0, 1) with 53 random bits. */
double hn_rng_uniform(hn_rng *r);
/* Uniform float in [0, 1) with 24 random bits. */
float hn_rng_uniformf(hn_rng *r);
/* Standard normal (Box-Muller on two uniforms, no cached spare so the state
 * alone determines the future). */
double hn_rng_normal(hn_rng *r);
/* Binomial(n, p), exact for every n >= 0: inversion when n*min(p, 1-p) < 10,
 * else BTRS (Hormann 1993) with an exact log-pmf acceptance test; O(1)
 * expected time for large n. */
int hn_rng_binomial(hn_rng *r, int n, double p);
/* Multinomial(n, p[0..k-1]) via conditional binomials; p need not be
 * normalised (it is divided by its sum).  out[k] sums to n. */
void hn_rng_multinomial(hn_rng *r, int n, int k, const double *p, int *out);
/* Fisher-Yates shuffle of an int array. */
void hn_rng_shuffle(hn_rng *r, int *a, size_t n);

#ifdef __cplusplus
}
#endif
#endif
