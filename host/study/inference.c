/* Inferential statistics (inference.h).  The t distribution goes through
 * the regularized incomplete beta function:
 *   P(|T| >= |t|) = I_{df/(df+t^2)}(df/2, 1/2),
 * evaluated by the continued fraction of Numerical Recipes (6.4) with the
 * modified Lentz method; the quantile inverts the cdf by safeguarded
 * bisection/secant on a bracket (monotone, so it always converges). */
#include "hetnas/inference.h"

#include "hetnas/status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Continued fraction of I_x(a, b); converges fast for x < (a+1)/(a+b+2). */
static double betacf(double a, double b, double x) {
    const double tiny = 1e-300, eps = 1e-16;
    double qab = a + b, qap = a + 1.0, qam = a - 1.0;
    double c = 1.0, d = 1.0 - qab * x / qap;
    if (fabs(d) < tiny) d = tiny;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= 10000; m++) {
        int m2 = 2 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < eps) break;
    }
    return h;
}

double hn_betainc(double a, double b, double x) {
    if (!(a > 0) || !(b > 0) || !(x >= 0) || !(x <= 1)) return NAN;
    if (x == 0 || x == 1) return x;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) +
                 b * log1p(-x);
    double bt = exp(lbt);
    if (x < (a + 1.0) / (a + b + 2.0)) return bt * betacf(a, b, x) / a;
    return 1.0 - bt * betacf(b, a, 1.0 - x) / b;
}

double hn_t_sf2(double t, double df) {
    if (isnan(t) || !(df > 0)) return NAN;
    if (isinf(t)) return 0.0;
    /* x = df / (df + t^2), written to keep precision for large |t| */
    double x = df / (df + t * t);
    return hn_betainc(df / 2.0, 0.5, x);
}

double hn_t_cdf(double t, double df) {
    double tail = 0.5 * hn_t_sf2(t, df);
    if (isnan(tail)) return NAN;
    return t >= 0 ? 1.0 - tail : tail;
}

double hn_t_quantile(double p, double df) {
    if (!(p > 0) || !(p < 1) || !(df > 0)) return NAN;
    if (p == 0.5) return 0.0;
    /* symmetric: solve for the upper tail q = min(p, 1-p) on t >= 0 */
    double q = p < 0.5 ? p : 1.0 - p;
    double lo = 0.0, hi = 1.0;
    while (0.5 * hn_t_sf2(hi, df) > q && hi < 1e300) hi *= 2.0;
    /* bisection on the tail; 200 halvings reach the double resolution of
     * any bracket, and the tail is evaluated directly (no cancellation) */
    for (int i = 0; i < 400 && hi - lo > 1e-15 * hi; i++) {
        double mid = 0.5 * (lo + hi);
        if (0.5 * hn_t_sf2(mid, df) > q) lo = mid;
        else hi = mid;
    }
    double t = 0.5 * (lo + hi);
    return p < 0.5 ? -t : t;
}

hn_sample_summary hn_summarize(const double *x, int n, double level) {
    hn_sample_summary s = {n, NAN, NAN, NAN};
    if (n < 1) return s;
    double m = 0;
    for (int i = 0; i < n; i++) m += x[i];
    m /= n;
    s.mean = m;
    if (n < 2) return s;
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (x[i] - m) * (x[i] - m);
    s.sd = sqrt(ss / (n - 1));
    s.ci_half = hn_t_quantile(0.5 + level / 2.0, n - 1) * s.sd / sqrt((double)n);
    return s;
}

double hn_ws_df(int k, const double *v, const double *df) {
    double num = 0, den = 0;
    for (int i = 0; i < k; i++) {
        num += v[i];
        den += v[i] * v[i] / df[i];
    }
    if (!(den > 0)) return NAN;
    return num * num / den;
}

hn_welch hn_welch_terms(double diff, int k, const double *v, const double *df) {
    hn_welch w = {diff, 0, NAN, NAN, NAN};
    double var = 0;
    for (int i = 0; i < k; i++) var += v[i];
    w.se = sqrt(var);
    w.df = hn_ws_df(k, v, df);
    if (isnan(diff) || isnan(var)) return w;
    if (w.se == 0) {
        /* no spread at all: a difference is certain, none is none */
        w.t = diff == 0 ? 0.0 : diff > 0 ? INFINITY : -INFINITY;
        w.p = diff == 0 ? 1.0 : 0.0;
        return w;
    }
    w.t = diff / w.se;
    w.p = hn_t_sf2(w.t, w.df);
    return w;
}

hn_welch hn_welch_test(double m1, double s1, int n1, double m2, double s2,
                       int n2) {
    double v[2] = {s1 * s1 / n1, s2 * s2 / n2};
    double df[2] = {n1 - 1.0, n2 - 1.0};
    return hn_welch_terms(m1 - m2, 2, v, df);
}

typedef struct pidx {
    double p;
    size_t i;
} pidx;

static int cmp_pidx(const void *a, const void *b) {
    const pidx *x = a, *y = b;
    if (x->p < y->p) return -1;
    if (x->p > y->p) return 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

void hn_holm(const double *p, size_t n, double *adj) {
    for (size_t i = 0; i < n; i++) adj[i] = NAN;
    pidx *s = malloc((n ? n : 1) * sizeof *s);
    HN_ASSERT(s); /* n doubles: an allocation that cannot fail in practice */
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(p[i])) s[m++] = (pidx){p[i], i};
    qsort(s, m, sizeof *s, cmp_pidx);
    /* adj_(j) = max_{i <= j} min(1, (m - i) p_(i)), 0-based i */
    double run = 0;
    for (size_t j = 0; j < m; j++) {
        double v = (double)(m - j) * s[j].p;
        if (v > 1) v = 1;
        if (v > run) run = v;
        adj[s[j].i] = run;
    }
    free(s);
}
