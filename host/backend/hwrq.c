/* hn_hwrq_run: the requantization of hwref.h, fast.  Same results as the
 * oracle hn_hwref_requant (tests/test_hwref.c compares them); the oracle's
 * 128-bit intermediate is needed only for |bias| near 2^62: with
 * |bias| + 2^(shift-1) < 2^61 every t = a*m + bias + half fits int64
 * (|a*m| <= 2^62), so the loop runs in int64 lanes, vectorized (AVX-512 /
 * AVX2 clones picked at load time).  Other filters go to the oracle. */
#include <stdint.h>

#include "hetnas/hwref.h"
#include "hetnas/simd.h"

/* One filter: out = clamp(floor((a*m + c) / 2^sh), lo, hi), c = bias + half.
 * >> of a negative int64 is an arithmetic shift (floor) with GCC and Clang,
 * the compilers this builds with. */
HN_CLONES static void rq_row(const int32_t *restrict acc, long hw, int32_t m,
                             int64_t c, int sh, int64_t lo, int64_t hi,
                             int32_t *restrict out) {
    for (long i = 0; i < hw; i++) {
        /* int32 x int32 -> int64: a widening multiply (vpmuldq) */
        int64_t q = ((int64_t)acc[i] * (int64_t)m + c) >> sh;
        q = q < lo ? lo : q;
        q = q > hi ? hi : q;
        out[i] = (int32_t)q;
    }
}

hn_status hn_hwrq_run(const hn_hwrq *rq, const int32_t *acc, long hw, int32_t *out) {
    if (!rq || !acc || !out || !rq->mult || !rq->bias || !rq->shift ||
        (rq->relu && !rq->bits) || rq->c_out < 0 || hw < 0)
        return hn_fail(HN_ERR_INVAL, "hwrq_run: NULL or negative argument");
    const int64_t lim = (int64_t)1 << 61;
    for (int f = 0; f < rq->c_out; f++) {
        const int sh = rq->shift[f];
        const int64_t b = rq->bias[f];
        const int64_t half = sh > 0 && sh <= 62 ? (int64_t)1 << (sh - 1) : 0;
        const int ok = sh >= 0 && sh <= 62 && b > -lim && b < lim &&
                       (b + half) < lim &&
                       (!rq->relu || (rq->bits[f] >= 1 && rq->bits[f] <= 16));
        if (!ok) {
            const int64_t blim = (int64_t)1 << 62;
            if (sh < 0 || sh > 62 || b >= blim || b <= -blim ||
                (rq->relu && (rq->bits[f] < 1 || rq->bits[f] > 16)))
                return hn_hwref_requant(rq, acc, hw, out); /* its error, its index */
            /* a bias beyond int64 headroom: the oracle's 128 bits, this filter */
            hn_hwrq one = {1, rq->mult + f, rq->bias + f, rq->shift + f,
                           rq->relu ? rq->bits + f : NULL, rq->relu};
            HN_TRY(hn_hwref_requant(&one, acc + (size_t)f * hw, hw, out + (size_t)f * hw));
            continue;
        }
        const int64_t hi = rq->relu ? ((int64_t)1 << rq->bits[f]) - 1 : INT32_MAX;
        const int64_t lo = rq->relu ? 0 : INT32_MIN;
        rq_row(acc + (size_t)f * hw, hw, rq->mult[f], b + half, sh, lo, hi,
               out + (size_t)f * hw);
    }
    return HN_OK;
}
