/* The memory image of a conv job on the bit-serial array (the words the
 * RTL kernel DMAs from device memory), from the plan of cycles.h. */
#ifndef HETNAS_HWIMAGE_H
#define HETNAS_HWIMAGE_H

#include <stdint.h>

#include "hetnas/cycles.h"
#include "hetnas/hwjob.h"
#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The memory image of a job (docs/hardware.md, "Memory image"): every
 * buffer word is *_wpw little-endian 32-bit words (bit 0 of the buffer word
 * = bit 0 of the first 32-bit word), exactly what hn_krnl_top DMAs from
 * device memory and what the Verilator harness writes into the buffers.
 *   w: n_w = mt*kw weight words (address mt*kw + c)
 *   m: n_m = mt row descriptors {valid, first, last, filter}
 *   a: n_a = npt*a_words activation words of pixel tiles pt0..pt0+npt-1
 *      (hn_array_act_addr: classic (lp*ba + s)*kw + c, words with c >=
 *      nc[s] zero; packed steps lp*T + word, kw = a_words = T) */
typedef struct hn_array_image {
    int w_wpw, m_wpw, a_wpw;
    uint32_t *w;
    long n_w;
    uint32_t *m;
    long n_m;
    uint32_t *a;
    long n_a;
} hn_array_image;

/* Packs weights and descriptors (w, m) of a planned job; the job's values
 * must be valid (hn_hwjob_validate). */
hn_status hn_array_pack_weights(const hn_hwjob *job, const hn_array_params *p,
                                const hn_array_plan *plan,
                                hn_array_image *img);
/* Packs the activation words (a) of one run: pixel tiles pt0..pt0+npt-1;
 * replaces a previous run's words. */
hn_status hn_array_pack_acts(const hn_hwjob *job, const hn_array_params *p,
                             const hn_array_plan *plan, int pt0, int npt,
                             hn_array_image *img);
/* Frees w, m and a (the struct may be zero-initialised). */
void hn_array_image_free(hn_array_image *img);

#ifdef __cplusplus
}
#endif
#endif
