/* Portability layer of the hls/ kernels: the same source compiles as
 *   - plain C (gcc/clang; the csim backend of libhetnas),
 *   - Vitis HLS C (csim/csynth/cosim; pragmas active under __SYNTHESIS__),
 *   - OpenCL C 1.2 (PoCL here, XRT/Alveo via v++; __OPENCL_VERSION__).
 * Address spaces, fixed-width types, popcount and the HLS pragmas go
 * through the macros below; kernels use nothing else that differs. */
#ifndef HN_HLS_H
#define HN_HLS_H

#ifdef __OPENCL_VERSION__
/* ---- OpenCL C ---- */
typedef ulong hn_word; /* one 64-bit bit-plane word */
typedef int hn_i32;
typedef uint hn_u32;
typedef long hn_i64;
/* One work-item runs the whole job (a single-task kernel for Vitis too). */
#define HN_KERNEL __kernel __attribute__((reqd_work_group_size(1, 1, 1)))
#define HN_GLOBAL __global
/* Kernel-scope scratch (one work-item runs the whole job, like a Vitis
 * single-task kernel); __local keeps it off the private stack. */
#define HN_SCRATCH __local
#define HN_RESTRICT restrict
#define HN_POPCOUNT(x) ((int)popcount(x))
#else
/* ---- C (gcc, clang, Vitis HLS) ---- */
#include <stdint.h>
typedef uint64_t hn_word;
typedef int32_t hn_i32;
typedef uint32_t hn_u32;
typedef int64_t hn_i64;
#define HN_KERNEL
#define HN_GLOBAL
#define HN_SCRATCH
#define HN_RESTRICT __restrict
/* A plain adder-tree popcount, what synthesis gets (tested against the
 * builtin in tests/test_hls.c). */
static inline int hn_popcount64(hn_word x) {
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return (int)((x * 0x0101010101010101ULL) >> 56);
}
#if defined(__SYNTHESIS__) || !defined(__GNUC__)
#define HN_POPCOUNT(x) hn_popcount64(x)
#else
#define HN_POPCOUNT(x) __builtin_popcountll(x)
#endif
#endif

/* HLS pragmas: HN_HLS(PIPELINE II=1) becomes #pragma HLS PIPELINE II=1
 * when Vitis HLS synthesises (it defines __SYNTHESIS__) or when
 * HN_HLS_PRAGMAS is defined (e.g. v++ -c on the OpenCL form); gcc and PoCL
 * see nothing, so -Wall stays quiet about unknown pragmas. */
#define HN_PRAGMA_(x) _Pragma(#x)
#if defined(__SYNTHESIS__) || defined(HN_HLS_PRAGMAS)
#define HN_HLS(...) HN_PRAGMA_(HLS __VA_ARGS__)
#else
#define HN_HLS(...)
#endif


#endif
