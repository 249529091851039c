/* hn_hwref_*: the C reference (oracle) of the bit-serial hardware: a direct
 * integer convolution and the requantization to the next layer's unsigned
 * activations.  Deliberately simple: no packing, no bit planes, int64 sums. */
#include "hetnas/hwref.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "hetnas/hwjob.h"

hn_status hn_hwref_conv(const hn_hwjob *job, int32_t *acc) {
    HN_TRY(hn_hwjob_validate(job, 16, 16));
    if (!acc) return hn_fail(HN_ERR_INVAL, "hwref: NULL accumulator buffer");
    int oh, ow;
    hn_hwjob_out_dims(job, &oh, &ow);
    const int k = job->k, s = job->stride, p = job->pad;
    const int ci = job->c_in, H = job->in_h, W = job->in_w;
    /* MSB alignment: channel c's b_c-bit code counts code << (B - b_c),
     * B = the job's largest activation bits (hwjob.h). */
    int B = 0;
    for (int g = 0; g < job->n_in_groups; g++)
        if (job->in_groups[g].bits > B) B = job->in_groups[g].bits;
    int *ash = malloc(sizeof(int) * (size_t)ci);
    if (!ash) return hn_fail(HN_ERR_NOMEM, "hwref: out of memory");
    for (int g = 0, c = 0; g < job->n_in_groups; g++)
        for (int i = 0; i < job->in_groups[g].n; i++)
            ash[c++] = B - job->in_groups[g].bits;
    for (int f = 0; f < job->c_out; f++) {
        const int32_t *wf = job->weights + (size_t)f * ci * k * k;
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                int64_t sum = 0;
                for (int c = 0; c < ci; c++) {
                    const int32_t *a = job->acts + (size_t)c * H * W;
                    const int32_t *w = wf + (size_t)c * k * k;
                    for (int ky = 0; ky < k; ky++) {
                        int iy = y * s + ky - p;
                        if (iy < 0 || iy >= H) continue; /* zero padding */
                        for (int kx = 0; kx < k; kx++) {
                            int ix = x * s + kx - p;
                            if (ix < 0 || ix >= W) continue;
                            sum += (int64_t)w[ky * k + kx] *
                                   ((int64_t)a[iy * W + ix] << ash[c]);
                        }
                    }
                }
                if (sum > INT32_MAX || sum < INT32_MIN) {
                    free(ash);
                    return hn_fail(HN_ERR_RANGE, "hwref: accumulator of filter"
                                   " %d at (%d, %d) is %" PRId64 ", outside "
                                   "int32", f, y, x, sum);
                }
                acc[((size_t)f * oh + y) * ow + x] = (int32_t)sum;
            }
    }
    free(ash);
    return HN_OK;
}

hn_status hn_hwref_requant(const hn_hwrq *rq, const int32_t *acc, long hw,
                           int32_t *out) {
    if (!rq || !acc || !out || !rq->mult || !rq->bias || !rq->shift ||
        (rq->relu && !rq->bits) || rq->c_out < 0 || hw < 0)
        return hn_fail(HN_ERR_INVAL, "hwref_requant: NULL or negative argument");
    const int64_t bias_lim = (int64_t)1 << 62;
    for (int f = 0; f < rq->c_out; f++) {
        int sh = rq->shift[f];
        if (sh < 0 || sh > 62)
            return hn_fail(HN_ERR_RANGE, "requant: shift[%d]: %d is out of "
                           "range [0, 62]", f, sh);
        if (rq->relu && (rq->bits[f] < 1 || rq->bits[f] > 16))
            return hn_fail(HN_ERR_RANGE, "requant: bits[%d]: %d is out of "
                           "range [1, 16]", f, rq->bits[f]);
        int64_t b = rq->bias[f];
        if (b >= bias_lim || b <= -bias_lim)
            return hn_fail(HN_ERR_RANGE, "requant: bias[%d]: %" PRId64 " is "
                           "outside (-2^62, 2^62)", f, b);
        const int64_t m = rq->mult[f];
        const int64_t half = sh > 0 ? (int64_t)1 << (sh - 1) : 0;
        const int64_t hi = rq->relu ? ((int64_t)1 << rq->bits[f]) - 1 : INT32_MAX;
        const int64_t lo = rq->relu ? 0 : INT32_MIN;
        for (long i = 0; i < hw; i++) {
            /* |a*m| <= 2^62 and |b| < 2^62: exact in 128 bits. */
            __int128 t = (__int128)acc[(size_t)f * hw + i] * m + b + half;
            /* Floor division by 2^sh written out (>> of a negative value
             * is implementation-defined in C11). */
            __int128 q = t >= 0 ? t >> sh : -((-(t + 1)) >> sh) - 1;
            int64_t r = q < lo ? lo : q > hi ? hi : (int64_t)q;
            out[(size_t)f * hw + i] = (int32_t)r;
        }
    }
    return HN_OK;
}

hn_status hn_hwrq_from_real(double s, double b, int32_t *mult, int *shift,
                            int64_t *bias_out) {
    if (!mult || !shift) return hn_fail(HN_ERR_INVAL, "hwrq_from_real: NULL");
    if (!isfinite(s) || !isfinite(b))
        return hn_fail(HN_ERR_RANGE, "requant: scale %g / offset %g is not "
                       "finite", s, b);
    double as = fabs(s);
    if (as >= 2147483648.0 || (as > 0 && as < ldexp(1.0, -31)))
        return hn_fail(HN_ERR_RANGE, "requant: |scale| %g is outside [2^-31, "
                       "2^31)", s);
    int sh;
    int64_t m;
    if (as == 0) {
        m = 0;
        sh = 0;
        /* Keep a usable precision for the offset. */
        while (sh < 31 && fabs(b) * ldexp(1.0, sh + 1) < ldexp(1.0, 61)) sh++;
    } else {
        int e;
        frexp(as, &e); /* as = f * 2^e, f in [0.5, 1) */
        sh = 31 - e;   /* as * 2^sh in [2^30, 2^31) */
        if (sh > 62) sh = 62;
        if (sh < 0) sh = 0;
        m = llround(as * ldexp(1.0, sh));
        if (m >= ((int64_t)1 << 31)) { /* rounding reached 2^31 */
            m >>= 1;
            sh--;
        }
        if (s < 0) m = -m;
    }
    double bb = b * ldexp(1.0, sh);
    if (fabs(bb) >= ldexp(1.0, 62))
        return hn_fail(HN_ERR_RANGE, "requant: offset %g too large for shift "
                       "%d", b, sh);
    *mult = (int32_t)m;
    *shift = sh;
    if (bias_out) *bias_out = llround(bb);
    return HN_OK;
}
