/* A conv layer job for the bit-serial mixed-precision hardware (DESIGN.md
 * "Hardware arithmetic"): integer weights in filter groups of b_w bits,
 * unsigned input activation codes in channel groups of b_a bits, and the
 * int32 accumulators per (filter, y, x) it yields.  Plain data: every
 * backend (C reference, HLS csim, Verilator, XRT) takes this struct.
 *
 * Activation codes are MSB-aligned (docs/formats.md "Hardware job"): the
 * channels of a tensor share one scale on nested power-of-two grids, a
 * b-bit code q meaning q * 2^-b of the range.  With B = the largest b_a over
 * the job's input groups, channel c counts as q_c << (B - b_c):
 *   acc[f][y][x] = sum_{c, ky, kx} w[f][c][ky][kx] * (q_c[..] << (B - b_c)). */
#ifndef HETNAS_HWJOB_H
#define HETNAS_HWJOB_H

#include <stddef.h>
#include <stdint.h>

#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HN_HW_MAX_GROUPS 64

typedef struct hn_hw_group {
    int n;    /* channels (input group) or filters (output group) */
    int bits; /* b_a (input group, 1..16) or b_w (output group, 1..16) */
} hn_hw_group;

typedef struct hn_hwjob {
    int k, stride, pad;
    int in_h, in_w;
    int n_in_groups;
    hn_hw_group in_groups[HN_HW_MAX_GROUPS];
    int n_out_groups;
    hn_hw_group out_groups[HN_HW_MAX_GROUPS];
    int c_in, c_out;  /* sums of the groups' n */
    int32_t *weights; /* (c_out, c_in, k, k), in +-(2^(b_w-1)-1) of the filter's group */
    int32_t *acts;    /* (c_in, in_h, in_w), codes in [0, 2^b_a) of the channel's
                         group, MSB-aligned to the job's largest b_a (above) */
} hn_hwjob;

/* Output size of the job: (in + 2*pad - k) / stride + 1. */
void hn_hwjob_out_dims(const hn_hwjob *job, int *out_h, int *out_w);
/* Checks geometry, group sums, bit ranges against max_wbits/max_abits
 * (pass 16/16 for the C reference), and every weight/act value against its
 * group's range; the error names the field (e.g. "weights[1234]"). */
hn_status hn_hwjob_validate(const hn_hwjob *job, int max_wbits, int max_abits);
/* Allocates weights/acts for the geometry already set in *job (groups,
 * k, in_h, in_w; c_in/c_out are computed). */
hn_status hn_hwjob_alloc(hn_hwjob *job);
void hn_hwjob_free(hn_hwjob *job);
/* JSON job file (docs/formats.md); errors name the file, line and field. */
hn_status hn_hwjob_load(const char *path, hn_hwjob *job);
/* The same for text in memory (len bytes, no NUL needed); `name` stands for
 * the file in messages. */
hn_status hn_hwjob_load_string(const char *text, size_t len, const char *name,
                               hn_hwjob *job);
hn_status hn_hwjob_save(const hn_hwjob *job, const char *path);
/* Weight value range of a filter group of `bits` bits: bits >= 2 gives
 * [-(2^(bits-1)-1), 2^(bits-1)-1]; bits == 1 is binary and allows only -1
 * and +1 (0 is rejected). */
void hn_hwjob_wrange(int bits, int32_t *lo, int32_t *hi);

/* Seeded random jobs for tests (same seed -> same job on every platform).
 * hn_hwjob_random picks k in {1,3}, stride in {1,2}, pad in [0, k/2],
 * in_h/in_w in [k, 13] (odd sizes included), 1..4 input groups of 1..40
 * channels with b_a in [1, max_abits], 1..4 filter groups of 1..24 filters
 * with b_w in [min_wbits, max_wbits], then allocates and fills it; *job
 * is overwritten (hn_hwjob_free a previous job first).
 * hn_hwjob_fill_random fills weights/acts of an allocated job uniformly in
 * their ranges, with about 1/4 of the values at the range extremes. */
typedef struct hn_rng hn_rng;
hn_status hn_hwjob_random(hn_rng *r, int min_wbits, int max_wbits,
                          int max_abits, hn_hwjob *job);
void hn_hwjob_fill_random(hn_rng *r, hn_hwjob *job);

#ifdef __cplusplus
}
#endif
#endif
