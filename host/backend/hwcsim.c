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
    uint64_t n = 0;
    hn_status s = hn_hwpack_verdict(&p, "csim", &n);
    if (passes) *passes = (int64_t)n;
    hn_hwpack_free(&p);
    return s;
}
