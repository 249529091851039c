/* hn_bsconv: bit-serial (bit-plane) mixed-precision conv layer kernel.
 * Interface shared by the kernel (hls/hn_bsconv.c, C / Vitis HLS / OpenCL
 * C) and the host packing code (host/backend/hwpack.c).  The memory layout
 * is documented in docs/hls.md; the descriptor words are below. */
#ifndef HN_BSCONV_H
#define HN_BSCONV_H

#include "hn_hls.h"

/* Kernel limits (the local weight buffer is sized by them). */
#define HN_BS_MAX_WBITS 8     /* weight bits 1..8 (1 = binary +-1) */
#define HN_BS_MAX_ABITS 8     /* activation bits 1..8 */
#define HN_BS_MAX_K 7
#define HN_BS_MAX_GROUPS 64   /* per side, = HN_HW_MAX_GROUPS */
#define HN_BS_MAX_FWORDS 512  /* words per filter and weight plane */
#define HN_BS_WORD_BITS 64

/* Descriptor: int32 words.  Header, then 4 words per input group, then 4
 * words per output (filter) group.  Words marked (out) the kernel writes. */
#define HN_BS_MAGIC 0x48424331 /* "HBC1" */
enum {
    HN_BS_D_MAGIC = 0,
    HN_BS_D_K = 1,
    HN_BS_D_STRIDE = 2,
    HN_BS_D_PAD = 3,
    HN_BS_D_IN_H = 4,
    HN_BS_D_IN_W = 5,
    HN_BS_D_OUT_H = 6,
    HN_BS_D_OUT_W = 7,
    HN_BS_D_N_IN = 8,     /* input (channel) groups */
    HN_BS_D_N_OUT = 9,    /* output (filter) groups */
    HN_BS_D_FWORDS = 10,  /* words per filter and weight plane */
    HN_BS_D_STATUS = 11,  /* (out) 0 ok, else HN_BS_E_* */
    HN_BS_D_PASSES_LO = 12, /* (out) word-level AND-popcount passes */
    HN_BS_D_PASSES_HI = 13,
    HN_BS_D_OVERFLOW = 14,  /* (out) accumulators outside int32 */
    HN_BS_D_HDR = 16
};
/* Input group g: at HN_BS_D_HDR + 4g. */
enum { HN_BS_G_N = 0, HN_BS_G_BITS = 1, HN_BS_G_OFF = 2, HN_BS_G_AUX = 3 };
/* in group:  n channels, b_a, word offset in apk, words per pixel (ceil(n/64))
 * out group: n filters,  b_w, word offset in wpk, first filter index */
#define HN_BS_DESC_LEN(n_in, n_out) (HN_BS_D_HDR + 4 * ((n_in) + (n_out)))

enum {
    HN_BS_E_OK = 0,
    HN_BS_E_MAGIC = 1, /* descriptor magic wrong */
    HN_BS_E_LIMIT = 2  /* geometry or bits beyond the kernel limits */
};

#ifndef __OPENCL_VERSION__
/* desc: in/out (see above); wpk, apk: packed planes; acc: (c_out, out_h,
 * out_w) int32. */
void hn_bsconv(HN_GLOBAL hn_i32 *desc, HN_GLOBAL const hn_word *wpk,
               HN_GLOBAL const hn_word *apk, HN_GLOBAL hn_i32 *acc);
#endif

#endif
