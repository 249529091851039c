/* The bit-serial array's geometry, how a conv job maps onto it (the
 * "plan": tiles, bit planes, words per plane, buffer runs), and the exact
 * cycle model of the RTL (rtl/hn_core.sv), plus ideal cycles and
 * utilization.  docs/hardware.md explains the architecture. */
#ifndef HETNAS_CYCLES_H
#define HETNAS_CYCLES_H

#include <stdint.h>

#include "hetnas/hwjob.h"
#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HN_ARRAY_MAX_PLANES 16

/* Parameters of one build of the array (the RTL's module parameters). */
typedef struct hn_array_params {
    int dm;        /* rows: (filter, weight plane) pairs per tile */
    int dn;        /* columns: output pixels per tile */
    int dk;        /* binary lanes per dot-product unit (bits per word) */
    int acc_w;     /* unsigned partial-sum bits of a DPU */
    int wbits_max; /* weight bits supported: 1..wbits_max (<= 8); 1 = +-1
                      weights: one sign row each + a shared all-ones row */
    int abits_max; /* activation bits supported: 1..abits_max (<= 8) */
    int filt_w;    /* filter index bits: c_out <= 2^filt_w */
    int pt_w;      /* pixel tiles per run <= 2^pt_w */
    int kw_w;      /* words per plane < 2^kw_w */
    int w_aw;      /* weight/descriptor buffer address bits */
    int a_aw;      /* activation buffer address bits */
} hn_array_params;

/* The default build: the HN_HW_* values of hwparams.h. */
hn_array_params hn_array_params_default(void);

/* How a job maps onto the array. */
typedef struct hn_array_plan {
    int c_in, c_out, k;
    int out_h, out_w, pixels;
    int rows;        /* one row per weight plane: sum over filters of b_w,
                        plus the shared all-ones row when pm1 */
    int pm1;         /* the job has binary +-1 filters: each is one sign row
                        (1 where w = -1) and row 0 is an all-ones row whose
                        sum the drain keeps per pixel tile (result =
                        ones - 2*sign); the drain then retires one row per
                        cycle (hn_array_nd) */
    int mt;          /* row tiles = ceil(rows / dm) */
    int pt;          /* pixel tiles = ceil(pixels / dn) */
    int ba;          /* activation planes = max b_a */
    int kw;          /* words per plane = ceil(k*k*c_in / dk) */
    int n_ch[HN_ARRAY_MAX_PLANES]; /* n_j: channels with more than j bits */
    int nc[HN_ARRAY_MAX_PLANES];   /* words of step s = ceil(k*k*n_s / dk):
                                      step s weighs 2^(ba-1-s) and carries
                                      bit b_c-1-s of each channel with
                                      b_c > s (MSB-aligned codes) */
    int tile_words;  /* T = sum_s nc[s]: cycles of one tile's reduction */
    /* Packed-step schedule (docs/hardware.md "Packed steps"), chosen when it
     * needs fewer words per tile and fits the buffers: the steps' lanes
     * (k*k*n_s each) follow each other in one stream of T words, at most
     * one step beginning per word; step s begins at lane start[s] and is
     * the segment of nc[s] words from word seg[s]; split[s] = start[s] % dk
     * lanes of step s-1 share its first word.  kw is then T (weight words
     * per row tile, the cfg_kw register). */
    int packed;
    int start[HN_ARRAY_MAX_PLANES], seg[HN_ARRAY_MAX_PLANES];
    int split[HN_ARRAY_MAX_PLANES];
    int a_words;     /* activation words per pixel tile: ba*kw, or T packed */
    int pt_per_run;  /* pixel tiles per buffer run */
    int runs;        /* ceil(pt / pt_per_run) */
    int order[4096]; /* input channels sorted by bits, descending (stable) */
} hn_array_plan;

/* Drain cycles per tile: ceil(Dm/2) (two rows per cycle), Dm for pm1
 * jobs (one row per cycle, so that each +-1 filter's one row can write its
 * result). */
int hn_array_nd(const hn_array_plan *plan, const hn_array_params *p);
/* Checks the job against the array (bits, sizes, buffer capacity,
 * accumulator width) and fills the plan; HN_ERR_UNSUPPORTED names the
 * field that the hardware cannot do.  Uses only the job's geometry and
 * groups (weights/acts may be NULL). */
hn_status hn_array_plan_job(const hn_hwjob *job, const hn_array_params *p,
                            hn_array_plan *plan);

typedef struct hn_cycle_report {
    uint64_t cycles;      /* predicted RTL cycles (start to done, all runs) */
    uint64_t binary_macs; /* sum over filter/channel pairs of b_w*b_a * k*k*pixels
                             (b_w = 1 counts 1: a +-1 filter is one row) */
    double ideal_cycles;  /* binary_macs / (dm*dn*dk) */
    double utilization;   /* ideal_cycles / cycles */
} hn_cycle_report;

/* Activation buffer address of word c of step s of pixel tile lp (within
 * the run), for either schedule. */
long hn_array_act_addr(const hn_array_plan *plan, int lp, int s, int c);

/* Cycles of one run of `npt` pixel tiles (what hn_core counts). */
uint64_t hn_cycles_run(const hn_array_plan *plan, const hn_array_params *p,
                       int npt);
/* The exact cycle model of a whole job. */
hn_status hn_cycles_job(const hn_hwjob *job, const hn_array_params *p,
                        hn_cycle_report *out);

/* ---- kernel time: hn_krnl_top's DMA around the core (docs/hardware.md,
 * "Kernel time") ----
 * The wrapper loads the weight, descriptor and activation sections over a
 * data_w-bit m_axi port in bursts of up to min(256, 4096/(data_w/8)) beats,
 * rd_out bursts outstanding, the weight buffer taking a beat's words per
 * cycle (banked), the other buffers one word per cycle.  The
 * core starts once the weights and descriptors are in; the activations
 * stream in during the run, a pixel tile waiting for its own.  Each result
 * word {pt, filter} (Dn int32) streams out as soon as the core has written
 * it; the kernel is done when the core is and the last write is answered.  The memory is
 * described by two latencies; with them the count is exact for the RTL
 * (tests/test_sim.c checks it against the Verilator memory model at
 * several latencies and both built widths). */
typedef struct hn_dma_params {
    int rd_lat; /* cycles from the read-address handshake to the first beat (>= 1) */
    int wr_lat; /* cycles from the last write beat to the write response (>= 1) */
    int data_w; /* m_axi data bits: 32, 64, 128, 256 or 512 */
    int rd_out; /* read bursts outstanding (1..16) */
} hn_dma_params;

/* The default kernel build (HN_HW_AXI_W, HN_HW_AXI_RD_OUT) at the
 * Verilator memory model's default latencies, 1 and 1. */
hn_dma_params hn_dma_params_bench(void);

typedef struct hn_kernel_report {
    uint64_t load;   /* cycles from ap_start accepted to the core's start
                        (weights and descriptors loaded), all calls */
    uint64_t core;   /* core cycles (what register 0x70 reports), all calls:
                        hn_cycles_run + wait */
    uint64_t wait;   /* of core: cycles the controller waited for a pixel
                        tile's activations */
    uint64_t store;  /* cycles after the core is done until the kernel is:
                        the store's tail that the run did not hide, all calls */
    uint64_t cycles; /* kernel cycles (ap_start accepted to done) =
                        load + core + store, summed over the calls (one call
                        per buffer run) */
} hn_kernel_report;

/* Kernel cycles of all calls of a job (one call per buffer run), what
 * hn_krnl_top reports in HN_REG_KCYCLES, with its parts.  HN_ERR_INVAL for latencies < 1, a width other than
 * 32..512 (powers of two) or rd_out outside 1..16; HN_ERR_UNSUPPORTED for
 * an array whose buffer words are not a power of two of 32-bit words or
 * whose result word (Dn int32) is narrower than a beat. */
hn_status hn_cycles_kernel(const hn_hwjob *job, const hn_array_params *p,
                           const hn_dma_params *d, hn_kernel_report *out);

/* The geometry and groups of searchable layer `layer` of a configuration
 * as a job (weights/acts left NULL; hn_hwjob_alloc them to run it): active
 * input channels grouped by their bits (config.h hn_config_input_bits,
 * `input_bits` for the stem), active filters grouped by op.  Full-precision
 * ops are HN_ERR_UNSUPPORTED, naming the layer. */
typedef struct hn_arch hn_arch;
typedef struct hn_config hn_config;
hn_status hn_array_layer_job(const hn_arch *a, const hn_config *c, int layer,
                             int input_bits, hn_hwjob *job);

#ifdef __cplusplus
}
#endif
#endif
