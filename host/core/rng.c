/* PCG32 (XSH-RR 64/32) with streams, and the distributions the search and
 * the trainer need, all derived from the integer stream in a fixed way. */
#include "hetnas/rng.h"

#include <math.h>

#define PCG_MULT 6364136223846793005ULL

void hn_rng_seed(hn_rng *r, uint64_t seed, uint64_t stream) {
    r->state = 0;
    r->inc = (stream << 1u) | 1u;
    (void)hn_rng_u32(r);
    r->state += seed;
    (void)hn_rng_u32(r);
}

uint32_t hn_rng_u32(hn_rng *r) {
    uint64_t old = r->state;
    r->state = old * PCG_MULT + r->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

uint64_t hn_rng_u64(hn_rng *r) {
    uint64_t hi = hn_rng_u32(r);
    return (hi << 32) | hn_rng_u32(r);
}

uint32_t hn_rng_below(hn_rng *r, uint32_t n) {
    /* Lemire's nearly-divisionless method: unbiased. */
    uint64_t m = (uint64_t)hn_rng_u32(r) * n;
    uint32_t l = (uint32_t)m;
    if (l < n) {
        uint32_t t = (uint32_t)(-n) % n;
        while (l < t) {
            m = (uint64_t)hn_rng_u32(r) * n;
            l = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

double hn_rng_uniform(hn_rng *r) {
    return (double)(hn_rng_u64(r) >> 11) * 0x1.0p-53;
}

float hn_rng_uniformf(hn_rng *r) {
    return (float)(hn_rng_u32(r) >> 8) * 0x1.0p-24f;
}

double hn_rng_normal(hn_rng *r) {
    double u1 = 1.0 - hn_rng_uniform(r); /* (0, 1]: log is finite */
    double u2 = hn_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int hn_rng_binomial(hn_rng *r, int n, double p) {
    if (n <= 0 || p <= 0.0) return 0;
    if (p >= 1.0) return n;
    if (n <= 64) {
        int k = 0;
        for (int i = 0; i < n; i++) k += hn_rng_uniform(r) < p;
        return k;
    }
    /* Inversion: walk the CDF with the pmf recurrence from k = 0. For the
     * n here (filter counts, a few hundred) this is exact and fast enough;
     * work in the smaller tail to keep pmf(0) from underflowing. */
    int flip = p > 0.5;
    double q = flip ? 1.0 - p : p;
    double u = hn_rng_uniform(r);
    double pmf = pow(1.0 - q, n), cdf = pmf;
    int k = 0;
    if (pmf > 0.0) {
        while (u >= cdf && k < n) {
            pmf *= (double)(n - k) / (double)(k + 1) * q / (1.0 - q);
            k++;
            cdf += pmf;
        }
    } else {
        /* Extremely large n: fall back to Bernoulli draws (still exact). */
        k = 0;
        for (int i = 0; i < n; i++) k += hn_rng_uniform(r) < q;
    }
    return flip ? n - k : k;
}

void hn_rng_multinomial(hn_rng *r, int n, int k, const double *p, int *out) {
    double rest = 0.0;
    for (int i = 0; i < k; i++) rest += p[i] > 0.0 ? p[i] : 0.0;
    int left = n;
    for (int i = 0; i < k; i++) {
        double pi = p[i] > 0.0 ? p[i] : 0.0;
        if (i == k - 1 || rest <= 0.0) {
            out[i] = i == k - 1 ? left : 0;
        } else {
            double c = pi / rest;
            out[i] = hn_rng_binomial(r, left, c > 1.0 ? 1.0 : c);
        }
        left -= out[i];
        rest -= pi;
    }
}

void hn_rng_shuffle(hn_rng *r, int *a, size_t n) {
    for (size_t i = n; i > 1; i--) {
        size_t j = hn_rng_below(r, (uint32_t)i);
        int t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}
