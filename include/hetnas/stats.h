/* Small descriptive statistics shared by the reports (hw report, study/):
 * Pearson and Spearman correlation.  Reentrant: no global state. */
#ifndef HETNAS_STATS_H
#define HETNAS_STATS_H

#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Pearson correlation of x and y (n values); NAN when n < 2 or either
 * series is constant. */
double hn_stats_pearson(const double *x, const double *y, long n);
/* 1-based ranks of v into r, ties get the mean of their ranks. */
hn_status hn_stats_ranks(const double *v, long n, double *r);
/* Spearman rank correlation (Pearson of the ranks) into *out; NAN as for
 * hn_stats_pearson. */
hn_status hn_stats_spearman(const double *x, const double *y, long n,
                            double *out);

#ifdef __cplusplus
}
#endif
#endif
