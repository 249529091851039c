/* Inferential statistics of the grid study (docs/study.md): Student's t
 * distribution through the regularized incomplete beta function, the mean
 * with its t confidence interval, Welch's t-test with Welch-Satterthwaite
 * degrees of freedom (also for a difference of linear combinations of
 * sample variances), and Holm's step-down correction.  Pure functions,
 * reentrant; NaN marks "not defined" (e.g. a std of one sample). */
#ifndef HETNAS_INFERENCE_H
#define HETNAS_INFERENCE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* I_x(a, b), a, b > 0, x in [0, 1] (continued fraction, Lentz; relative
 * error ~1e-14).  NaN outside the domain. */
double hn_betainc(double a, double b, double x);
/* P(T <= t) for Student's t with df > 0 (non-integer df allowed). */
double hn_t_cdf(double t, double df);
/* Two-sided tail P(|T| >= |t|), computed directly (no 1 - cdf
 * cancellation). */
double hn_t_sf2(double t, double df);
/* The p-quantile, p in (0, 1): the t with hn_t_cdf(t, df) = p (to ~1e-12
 * relative). */
double hn_t_quantile(double p, double df);

typedef struct hn_sample_summary {
    int n;
    double mean;
    double sd;      /* sample standard deviation (n - 1); NaN when n < 2 */
    double ci_half; /* t_{(1+level)/2, n-1} * sd / sqrt(n); NaN when n < 2 */
} hn_sample_summary;

/* Mean, std and the two-sided `level` confidence interval of the mean
 * (mean +- ci_half), e.g. level 0.6827 for the paper's one-sigma bars. */
hn_sample_summary hn_summarize(const double *x, int n, double level);

/* Welch-Satterthwaite degrees of freedom of sum_k v[k], where v[k] is an
 * estimated variance term with df[k] degrees of freedom:
 * (sum v)^2 / sum (v^2 / df).  NaN when every v is 0. */
double hn_ws_df(int k, const double *v, const double *df);

typedef struct hn_welch {
    double diff; /* mean1 - mean2 */
    double se;   /* sqrt(v1 + v2) */
    double t;    /* diff / se */
    double df;   /* Welch-Satterthwaite */
    double p;    /* two-sided */
} hn_welch;

/* Welch's two-sample t-test from summaries (n >= 2 each). */
hn_welch hn_welch_test(double m1, double s1, int n1, double m2, double s2,
                       int n2);
/* The general form: diff with variance terms v[0..k-1] of df[k]. se = 0
 * gives t = +-inf and p = 0 for diff != 0, t = 0 and p = 1 for diff = 0. */
hn_welch hn_welch_terms(double diff, int k, const double *v, const double *df);

/* Holm's step-down adjusted p-values: adj[i] for p[i]; NaN entries are
 * not tests (excluded from the count m) and stay NaN.  A hypothesis is
 * rejected at level alpha iff adj[i] <= alpha. */
void hn_holm(const double *p, size_t n, double *adj);

#ifdef __cplusplus
}
#endif
#endif
