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

static double log_factorial(int k) {
    int sign;
    return lgamma_r((double)k + 1.0, &sign); /* reentrant, unlike lgamma */
}

/* Inversion from k = 0 (pmf(0) = (1-q)^n >= e^-14 when n q < 10, so no
 * underflow).  If rounding leaves u above the summed cdf, draw again: that
 * renormalises instead of returning n. */
static int binomial_inversion(hn_rng *r, int n, double q) {
    double ratio = q / (1.0 - q);
    double pmf0 = exp((double)n * log1p(-q));
    for (;;) {
        double u = hn_rng_uniform(r);
        double pmf = pmf0, cdf = pmf0;
        int k = 0;
        while (u >= cdf && k < n) {
            pmf *= (double)(n - k) / (double)(k + 1) * ratio;
            k++;
            cdf += pmf;
        }
        if (u < cdf) return k;
    }
}

/* BTRS (Hormann 1993, "The generation of binomial random variates"),
 * q <= 1/2 and n q >= 10; the final test uses the exact log pmf ratio
 * (lgamma) instead of Stirling tails. */
static int binomial_btrs(hn_rng *r, int n, double q) {
    double spq = sqrt((double)n * q * (1.0 - q));
    double b = 1.15 + 2.53 * spq;
    double a = -0.0873 + 0.0248 * b + 0.01 * q;
    double c = (double)n * q + 0.5;
    double vr = 0.92 - 4.2 / b;
    double alpha = (2.83 + 5.1 / b) * spq;
    double lpq = log(q / (1.0 - q));
    int m = (int)floor((double)(n + 1) * q);
    double h = log_factorial(m) + log_factorial(n - m);
    for (;;) {
        double u = hn_rng_uniform(r) - 0.5;
        double v = hn_rng_uniform(r);
        double us = 0.5 - fabs(u);
        if (us <= 0.0) continue; /* u = -1/2 exactly: measure zero */
        double kf = floor((2.0 * a / us + b) * u + c);
        if (kf < 0.0 || kf > (double)n) continue;
        int k = (int)kf;
        if (us >= 0.07 && v <= vr) return k;
        v = log(v * alpha / (a / (us * us) + b));
        if (v <= h - log_factorial(k) - log_factorial(n - k) +
                     (double)(k - m) * lpq)
            return k;
    }
}

int hn_rng_binomial(hn_rng *r, int n, double p) {
    if (n <= 0 || !(p > 0.0)) return 0;
    if (p >= 1.0) return n;
    int flip = p > 0.5; /* work with q <= 1/2 */
    double q = flip ? 1.0 - p : p;
    int k = (double)n * q < 10.0 ? binomial_inversion(r, n, q)
                                 : binomial_btrs(r, n, q);
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
