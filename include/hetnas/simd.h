/* Runtime-dispatched kernels: a function marked HN_CLONES is compiled for
 * AVX-512, AVX2 and baseline x86-64, and the loader picks the best the CPU
 * has (GCC's target_clones).  Elsewhere (Clang, other ISAs) it is a plain
 * function. */
#ifndef HETNAS_SIMD_H
#define HETNAS_SIMD_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define HN_CLONES
#endif

#endif
