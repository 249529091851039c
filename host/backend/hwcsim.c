/* hn_hwcsim_*: the csim backend: the HLS kernel hls/hn_bsconv.c compiled
 * as C, fed with the bit-plane packing of host/backend/hwpack.c. */
#include <stdint.h>

#include "hetnas/hwjob.h"
#include "hetnas/hwref.h"
#include "hn_bsconv.h"

hn_status hn_hwcsim_conv(const hn_hwjob *job, int32_t *acc, int64_t *passes) {
    if (!acc) return hn_fail(HN_ERR_INVAL, "csim: NULL accumulator buffer");
    hn_hwpack p;
    HN_TRY(hn_hwpack_build(job, &p));
    hn_bsconv(p.desc, p.wpk, p.apk, acc);
    hn_status s = HN_OK;
    int32_t st = p.desc[HN_BS_D_STATUS];
    if (st != HN_BS_E_OK)
        s = hn_fail(HN_ERR_INTERNAL, "csim: kernel rejected the descriptor "
                    "(status %d)", (int)st);
    else if (p.desc[HN_BS_D_OVERFLOW] != 0)
        s = hn_fail(HN_ERR_RANGE, "csim: %d accumulators outside int32",
                    (int)p.desc[HN_BS_D_OVERFLOW]);
    if (passes)
        *passes = (int64_t)(((uint64_t)(uint32_t)p.desc[HN_BS_D_PASSES_HI] << 32) |
                            (uint32_t)p.desc[HN_BS_D_PASSES_LO]);
    hn_hwpack_free(&p);
    return s;
}
