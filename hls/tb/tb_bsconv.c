/* Vitis HLS testbench of hn_bsconv (csim and cosim, hls/run_hls.tcl):
 * seeded random mixed-precision jobs are packed by the host code
 * (host/backend/hwpack.c), run through the kernel and compared bit for bit
 * with the C reference (host/backend/hwref.c).  Returns 0 when all match,
 * as Vitis expects.  argv[1] = number of jobs (default 50; cosim: a few).
 * Also builds with gcc against libhetnas (docs/hls.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/hwjob.h"
#include "hetnas/hwref.h"
#include "hetnas/rng.h"
#include "hn_bsconv.h"

/* Fixed-size buffers matching the m_axi depths in hn_bsconv.c, so cosim
 * never reads past an allocation. */
#define TB_DESC 528
#define TB_WORDS 65536
static hn_i32 tb_desc[TB_DESC];
static hn_word tb_wpk[TB_WORDS], tb_apk[TB_WORDS];
static hn_i32 tb_acc[TB_WORDS], tb_ref[TB_WORDS];

int main(int argc, char **argv) {
    int n_jobs = argc > 1 ? atoi(argv[1]) : 50;
    hn_rng r;
    hn_rng_seed(&r, 2026, 11);
    int bad = 0, run = 0;
    for (int t = 0; t < n_jobs; t++) {
        hn_hwjob job;
        if (hn_hwjob_random(&r, 1, HN_BS_MAX_WBITS, HN_BS_MAX_ABITS, &job) != HN_OK) {
            fprintf(stderr, "tb: %s\n", hn_error_msg());
            return 1;
        }
        hn_hwpack p;
        if (hn_hwpack_build(&job, &p) != HN_OK) {
            fprintf(stderr, "tb: job %d: %s\n", t, hn_error_msg());
            return 1;
        }
        size_t nacc = (size_t)job.c_out * p.out_h * p.out_w;
        if (p.n_desc > TB_DESC || p.n_wpk > TB_WORDS || p.n_apk > TB_WORDS ||
            nacc > TB_WORDS) { /* larger than the cosim depths: skip */
            hn_hwpack_free(&p);
            hn_hwjob_free(&job);
            continue;
        }
        memset(tb_desc, 0, sizeof tb_desc);
        memcpy(tb_desc, p.desc, p.n_desc * sizeof *p.desc);
        memcpy(tb_wpk, p.wpk, p.n_wpk * sizeof *p.wpk);
        memcpy(tb_apk, p.apk, p.n_apk * sizeof *p.apk);
        hn_bsconv(tb_desc, tb_wpk, tb_apk, tb_acc);
        if (hn_hwref_conv(&job, tb_ref) != HN_OK) {
            fprintf(stderr, "tb: ref: %s\n", hn_error_msg());
            return 1;
        }
        run++;
        if (tb_desc[HN_BS_D_STATUS] != HN_BS_E_OK) {
            fprintf(stderr, "tb: job %d: kernel status %d\n", t,
                    (int)tb_desc[HN_BS_D_STATUS]);
            bad++;
        } else {
            for (size_t i = 0; i < nacc; i++)
                if (tb_acc[i] != tb_ref[i]) {
                    fprintf(stderr, "tb: job %d: acc[%zu] kernel %d ref %d\n",
                            t, i, (int)tb_acc[i], (int)tb_ref[i]);
                    bad++;
                    break;
                }
        }
        hn_hwpack_free(&p);
        hn_hwjob_free(&job);
    }
    printf("tb_bsconv: %d jobs, %d mismatching\n", run, bad);
    return bad ? 1 : 0;
}
