/* hn_bsconv: a conv layer with per-filter-group weight bits and per-
 * channel-group activation bits, computed bit-serially over packed bit
 * planes (DESIGN.md "Hardware arithmetic", docs/hls.md).
 *
 * For output pixel (f, y, x), input group t1 and kernel tap (ky, kx), the
 * channels of t1 are packed 64 to a word; with W_p the p-th weight plane
 * word of filter f and A_q the q-th activation plane word at the tap:
 *   b_w >= 2:  sum_p sum_q s_p 2^(p+q+h) popcount(W_p & A_q),  s_p = -1 for
 *              the MSB plane p = b_w-1 (two's complement), +1 otherwise;
 *   b_w == 1:  (w = 2*bit - 1)  sum_q 2^(q+h) (2 popcount(W_0 & A_q) - popcount(A_q)),
 * with h = B - b_a(t1), B = the largest b_a of the job: activation codes are
 * MSB-aligned (hwjob.h), a b_a-bit code counting code << (B - b_a).
 * That is b_w(t2) * b_a(t1) AND-popcount passes per word: a group pays only
 * for the bits it has.  Taps in the zero padding are skipped.
 *
 * One source for gcc (csim backend), Vitis HLS and OpenCL C (hn_hls.h). */
#include "hn_bsconv.h"

#if defined(__GNUC__) && !defined(__OPENCL_VERSION__)
/* Loop labels are for HLS reports/pragmas; nothing jumps to them. */
#pragma GCC diagnostic ignored "-Wunused-label"
#endif

HN_KERNEL void hn_bsconv(HN_GLOBAL hn_i32 *desc,
                         HN_GLOBAL const hn_word *HN_RESTRICT wpk,
                         HN_GLOBAL const hn_word *HN_RESTRICT apk,
                         HN_GLOBAL hn_i32 *HN_RESTRICT acc) {
    /* The data ports as wide as the Alveo memory port (512 bits: 8 plane
     * words or 16 int32 a beat; XRT buffers are 4 KiB aligned, which the
     * widening needs) with bursts of up to 4 KiB (64 beats) and several in
     * flight, like rtl/hn_krnl_top.sv.  HLS widens only the accesses it
     * infers as bursts: surely the weight-plane loads (LOAD_WWORDS, one
     * sequential run per filter); the per-tap activation reads and the
     * per-pixel accumulator stores only if its burst report says so
     * (docs/hls.md).  gcc ignores the pragmas. */
    HN_HLS(INTERFACE m_axi port=desc offset=slave bundle=gmem0 depth=528)
    HN_HLS(INTERFACE m_axi port=wpk offset=slave bundle=gmem1 depth=65536 max_widen_bitwidth=512 max_read_burst_length=64 num_read_outstanding=4 latency=64)
    HN_HLS(INTERFACE m_axi port=apk offset=slave bundle=gmem2 depth=65536 max_widen_bitwidth=512 max_read_burst_length=64 num_read_outstanding=4 latency=64)
    HN_HLS(INTERFACE m_axi port=acc offset=slave bundle=gmem3 depth=65536 max_widen_bitwidth=512 max_write_burst_length=64 num_write_outstanding=4 latency=64)
    HN_HLS(INTERFACE s_axilite port=desc)
    HN_HLS(INTERFACE s_axilite port=wpk)
    HN_HLS(INTERFACE s_axilite port=apk)
    HN_HLS(INTERFACE s_axilite port=acc)
    HN_HLS(INTERFACE s_axilite port=return)

    /* Weight planes of the current filter: (plane, word). */
    HN_SCRATCH hn_word wbuf[HN_BS_MAX_WBITS][HN_BS_MAX_FWORDS];
    HN_HLS(ARRAY_PARTITION variable=wbuf dim=1 complete)
    /* Activation planes of the current word: (plane). */
    hn_word abuf[HN_BS_MAX_ABITS];
    HN_HLS(ARRAY_PARTITION variable=abuf dim=1 complete)
    /* Input group table: channels' words per pixel, bits, apk offset, and
     * the offset of the group's taps inside a weight plane. */
    hn_i32 g_words[HN_BS_MAX_GROUPS], g_abits[HN_BS_MAX_GROUPS];
    hn_i32 g_aoff[HN_BS_MAX_GROUPS], g_tapoff[HN_BS_MAX_GROUPS];
    /* MSB alignment: shift of the group's planes, B - b_a. */
    hn_i32 g_ash[HN_BS_MAX_GROUPS];

    desc[HN_BS_D_STATUS] = HN_BS_E_LIMIT;
    if (desc[HN_BS_D_MAGIC] != HN_BS_MAGIC) {
        desc[HN_BS_D_STATUS] = HN_BS_E_MAGIC;
        return;
    }
    const int k = desc[HN_BS_D_K], stride = desc[HN_BS_D_STRIDE];
    const int pad = desc[HN_BS_D_PAD];
    const int in_h = desc[HN_BS_D_IN_H], in_w = desc[HN_BS_D_IN_W];
    const int out_h = desc[HN_BS_D_OUT_H], out_w = desc[HN_BS_D_OUT_W];
    const int n_in = desc[HN_BS_D_N_IN], n_out = desc[HN_BS_D_N_OUT];
    const int fwords = desc[HN_BS_D_FWORDS];
    if (k < 1 || k > HN_BS_MAX_K || stride < 1 || pad < 0 || pad >= k ||
        in_h < 1 || in_w < 1 || out_h < 1 || out_w < 1 || n_in < 1 ||
        n_in > HN_BS_MAX_GROUPS || n_out < 1 || n_out > HN_BS_MAX_GROUPS ||
        fwords < 1 || fwords > HN_BS_MAX_FWORDS)
        return;
    const int kk = k * k;

    int tapoff = 0;
READ_IN_GROUPS:
    for (int t1 = 0; t1 < n_in; t1++) {
        HN_HLS(LOOP_TRIPCOUNT min=1 max=64 avg=4)
        const int base = HN_BS_D_HDR + 4 * t1;
        const int n = desc[base + HN_BS_G_N];
        const int words = desc[base + HN_BS_G_AUX];
        g_abits[t1] = desc[base + HN_BS_G_BITS];
        g_aoff[t1] = desc[base + HN_BS_G_OFF];
        g_words[t1] = words;
        g_tapoff[t1] = tapoff;
        if (n < 1 || words != (n + HN_BS_WORD_BITS - 1) / HN_BS_WORD_BITS ||
            g_abits[t1] < 1 || g_abits[t1] > HN_BS_MAX_ABITS)
            return;
        tapoff += kk * words;
    }
    if (tapoff != fwords) return;
    int bmax = 0;
MSB_ALIGN:
    for (int t1 = 0; t1 < n_in; t1++) {
        HN_HLS(LOOP_TRIPCOUNT min=1 max=64 avg=4)
        if (g_abits[t1] > bmax) bmax = g_abits[t1];
    }
SET_SHIFT:
    for (int t1 = 0; t1 < n_in; t1++) {
        HN_HLS(LOOP_TRIPCOUNT min=1 max=64 avg=4)
        g_ash[t1] = bmax - g_abits[t1];
    }

    hn_i64 passes = 0;
    hn_i32 overflow = 0;
FILTER_GROUPS:
    for (int t2 = 0; t2 < n_out; t2++) {
        HN_HLS(LOOP_TRIPCOUNT min=1 max=64 avg=4)
        const int base = HN_BS_D_HDR + 4 * (n_in + t2);
        const int nf = desc[base + HN_BS_G_N];
        const int bw = desc[base + HN_BS_G_BITS];
        const hn_i64 woff = desc[base + HN_BS_G_OFF];
        const int f0 = desc[base + HN_BS_G_AUX];
        if (nf < 1 || bw < 1 || bw > HN_BS_MAX_WBITS) return;
    FILTERS:
        for (int i = 0; i < nf; i++) {
            HN_HLS(LOOP_TRIPCOUNT min=1 max=64 avg=16)
            const hn_i64 fbase = woff + (hn_i64)i * bw * fwords;
        LOAD_WPLANES:
            for (int p = 0; p < bw; p++) {
                HN_HLS(LOOP_TRIPCOUNT min=1 max=8 avg=4)
            LOAD_WWORDS:
                for (int q = 0; q < fwords; q++) {
                    HN_HLS(LOOP_TRIPCOUNT min=1 max=512 avg=36)
                    HN_HLS(PIPELINE II=1)
                    wbuf[p][q] = wpk[fbase + (hn_i64)p * fwords + q];
                }
            }
            const hn_i64 f = f0 + i;
        OUT_Y:
            for (int y = 0; y < out_h; y++) {
                HN_HLS(LOOP_TRIPCOUNT min=1 max=32 avg=16)
            OUT_X:
                for (int x = 0; x < out_w; x++) {
                    HN_HLS(LOOP_TRIPCOUNT min=1 max=32 avg=16)
                    hn_i64 sum = 0;
                IN_GROUPS:
                    for (int t1 = 0; t1 < n_in; t1++) {
                        HN_HLS(LOOP_TRIPCOUNT min=1 max=64 avg=4)
                        const int ba = g_abits[t1];
                        const int words = g_words[t1];
                        const int ash = g_ash[t1];
                    TAP_Y:
                        for (int ky = 0; ky < k; ky++) {
                            HN_HLS(LOOP_TRIPCOUNT min=1 max=7 avg=3)
                            const int iy = y * stride + ky - pad;
                            if (iy < 0 || iy >= in_h) continue; /* zero pad */
                        TAP_X:
                            for (int kx = 0; kx < k; kx++) {
                                HN_HLS(LOOP_TRIPCOUNT min=1 max=7 avg=3)
                                const int ix = x * stride + kx - pad;
                                if (ix < 0 || ix >= in_w) continue;
                                const int wq0 = g_tapoff[t1] +
                                                (ky * k + kx) * words;
                                const hn_i64 abase =
                                    g_aoff[t1] +
                                    ((hn_i64)iy * in_w + ix) * words;
                                const hn_i64 aplane = (hn_i64)in_h * in_w * words;
                            WORDS:
                                for (int w = 0; w < words; w++) {
                                    HN_HLS(LOOP_TRIPCOUNT min=1 max=8 avg=1)
                                LOAD_APLANES:
                                    for (int q = 0; q < ba; q++) {
                                        HN_HLS(LOOP_TRIPCOUNT min=1 max=8 avg=4)
                                        HN_HLS(PIPELINE II=1)
                                        abuf[q] = apk[abase + q * aplane + w];
                                    }
                                    /* The bit-serial core: one binary
                                     * AND-popcount pass per (p, q). */
                                WPLANES:
                                    for (int p = 0; p < bw; p++) {
                                        HN_HLS(LOOP_TRIPCOUNT min=1 max=8 avg=4)
                                    APLANES:
                                        for (int q = 0; q < ba; q++) {
                                            HN_HLS(LOOP_TRIPCOUNT min=1 max=8 avg=4)
                                            HN_HLS(PIPELINE II=1)
                                            const hn_word wv = wbuf[p][wq0 + w];
                                            const hn_i64 pc =
                                                HN_POPCOUNT(wv & abuf[q]);
                                            hn_i64 term;
                                            if (bw == 1)
                                                /* may be negative: scale
                                                 * by 2^q, do not shift */
                                                term = (2 * pc - (hn_i64)HN_POPCOUNT(abuf[q])) *
                                                       ((hn_i64)1 << (q + ash));
                                            else if (p == bw - 1)
                                                term = -(pc << (p + q + ash));
                                            else
                                                term = pc << (p + q + ash);
                                            sum += term;
                                            passes++;
                                        }
                                    }
                                }
                            }
                        }
                    }
                    if (sum > 2147483647L || sum < -2147483647L - 1L) overflow++;
                    acc[(f * out_h + y) * out_w + x] = (hn_i32)sum;
                }
            }
        }
    }
    desc[HN_BS_D_PASSES_LO] = (hn_i32)(passes & 0xFFFFFFFFL);
    desc[HN_BS_D_PASSES_HI] = (hn_i32)(passes >> 32);
    desc[HN_BS_D_OVERFLOW] = overflow;
    desc[HN_BS_D_STATUS] = HN_BS_E_OK;
}
