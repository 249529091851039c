/* The integer side of the hardware beyond the conv job itself (hwjob.h):
 * requantization of accumulators to the next layer's activations (C
 * reference), the bit-plane packing the HLS kernel reads, and the csim
 * backend (hls/hn_bsconv.c compiled by the C compiler).  docs/hls.md. */
#ifndef HETNAS_HWREF_H
#define HETNAS_HWREF_H

#include <stddef.h>
#include <stdint.h>

#include "hetnas/hwjob.h"
#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The oracle: direct integer convolution, zero padding.
 * acc: (c_out, out_h, out_w).  Accumulates in int64; HN_ERR_RANGE when a
 * result does not fit int32.  Validates the job first (16/16 bits). */
hn_status hn_hwref_conv(const hn_hwjob *job, int32_t *acc);

/* ---- requantization (folded BN + ReLU + clamp) ---------------------------
 * Per filter f, for every accumulator a of that filter:
 *   v = a * mult[f] + bias[f]             (exact: 128-bit intermediate)
 *   r = shift[f] > 0 ? (v + 2^(shift[f]-1)) >> shift[f] : v
 *       (arithmetic shift = floor, so ties round half up, toward +inf)
 *   relu: out = clamp(r, 0, 2^bits[f] - 1)  (unsigned b_a-bit activation)
 *   else: out = clamp(r, INT32_MIN, INT32_MAX)  (bits ignored; for conv2 and
 *         down, whose ReLU and clamp follow the residual add)
 * A real scale s and offset b (y = s*a + b) map to mult/shift with
 * hn_hwrq_from_real; bias[f] is b scaled by 2^shift[f]. */
typedef struct hn_hwrq {
    int c_out;
    const int32_t *mult; /* (c_out) */
    const int64_t *bias; /* (c_out), in units of 2^-shift */
    const int *shift;    /* (c_out), 0..62 */
    const int *bits;     /* (c_out), output activation bits 1..16 */
    int relu;            /* 1: ReLU + clamp to bits; 0: int32 saturation */
} hn_hwrq;

/* acc, out: (c_out, hw).  HN_ERR_RANGE names a bad shift/bits/bias
 * (|bias| < 2^62). */
hn_status hn_hwref_requant(const hn_hwrq *rq, const int32_t *acc, long hw,
                           int32_t *out);
/* The same requantization, vectorized (int64 lanes where the oracle's
 * 128-bit intermediate is not needed, the oracle per filter elsewhere):
 * equal to hn_hwref_requant on every input (tests/test_hwref.c). */
hn_status hn_hwrq_run(const hn_hwrq *rq, const int32_t *acc, long hw,
                      int32_t *out);
/* Fixed-point form of a real scale: mult in [2^30, 2^31) (or 0 for s == 0)
 * and shift with s ~= mult * 2^-shift, the largest shift <= 62 that keeps
 * mult below 2^31 (|relative error| <= 2^-31).  bias_out = round(b*2^shift)
 * (may be NULL).  Negative s is allowed (mult negative). HN_ERR_RANGE when s
 * is not finite, |s| >= 2^31 or |s| < 2^-31 but non-zero. */
hn_status hn_hwrq_from_real(double s, double b, int32_t *mult, int *shift,
                            int64_t *bias_out);

/* ---- bit-plane packing for the HLS kernel (docs/hls.md) -----------------
 * The kernel reads three arrays: a descriptor (int32), packed weights and
 * packed activations (64-bit words).  hn_hwpack_* builds them from a job. */
typedef struct hn_hwpack {
    int32_t *desc;   /* HN_BS_DESC_LEN(n_in_groups, n_out_groups) words */
    size_t n_desc;
    uint64_t *wpk;   /* packed weight planes */
    size_t n_wpk;
    uint64_t *apk;   /* packed activation planes */
    size_t n_apk;
    int out_h, out_w;
} hn_hwpack;

/* Limits of the kernel (hls/hn_bsconv.h): weight bits 1..8 (1 = +-1),
 * activation bits 1..8, k <= 7, at most HN_BS_MAX_FWORDS 64-bit words per
 * filter and weight plane (k*k * sum over input groups of ceil(n/64)).
 * Errors name the field that is beyond them. */
hn_status hn_hwpack_check(const hn_hwjob *job);
hn_status hn_hwpack_build(const hn_hwjob *job, hn_hwpack *p);
void hn_hwpack_free(hn_hwpack *p);
/* The kernel's verdict written into p->desc by a run (any backend that runs
 * hn_bsconv: csim, opencl, xrt): HN_OK, or an error naming `who` (a
 * rejected descriptor, accumulators outside int32); *passes (may be NULL)
 * gets the number of AND-popcount passes it ran. */
hn_status hn_hwpack_verdict(const hn_hwpack *p, const char *who, uint64_t *passes);

/* The csim backend: packs the job, runs the HLS kernel as C, and checks the
 * kernel's status word.  acc: (c_out, out_h, out_w).  `passes` (may be NULL)
 * gets the number of word-level AND-popcount passes the kernel ran. */
hn_status hn_hwcsim_conv(const hn_hwjob *job, int32_t *acc, int64_t *passes);

#ifdef __cplusplus
}
#endif
#endif
