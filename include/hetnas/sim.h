/* The Verilator model of the RTL (rtl/hn_core.sv) behind a C API.  Built
 * only when Verilator is found (target hn_sim, which defines
 * HN_HAVE_VERILATOR=1 for its users).
 *
 *   hn_sim *s;
 *   hn_sim_opts o = hn_sim_opts_default();
 *   HN_TRY(hn_sim_open(&o, &s));
 *   st = hn_sim_run(s, &job, acc, &cycles);   // acc: (c_out, out_h, out_w)
 *   hn_sim_close(s);
 */
#ifndef HETNAS_SIM_H
#define HETNAS_SIM_H

#include <stdint.h>

#include "hetnas/cycles.h"
#include "hetnas/hwjob.h"
#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hn_sim hn_sim; /* opaque */

typedef struct hn_sim_opts {
    const char *trace_path; /* FST waveform file, NULL = no trace */
    uint64_t cycle_cap;     /* per run; 0 = 4x the model's prediction + 10000 */
} hn_sim_opts;

hn_sim_opts hn_sim_opts_default(void);
hn_status hn_sim_open(const hn_sim_opts *o, hn_sim **out);
void hn_sim_close(hn_sim *s);
/* The parameters the RTL was verilated with. */
const hn_array_params *hn_sim_params(const hn_sim *s);

/* Runs one conv job: packs the bit-plane memory image, loads it through the
 * buffer write ports, runs the array (in several runs if the activation
 * buffer is too small) and reads back the int32 accumulators
 * acc (c_out, out_h, out_w).  *cycles = the array's cycles from start to
 * done summed over runs (buffer loading and read-back are not counted).
 * Errors: HN_ERR_UNSUPPORTED (bits or sizes beyond the build; the message
 * names the field), HN_ERR_RANGE/INVAL (invalid job), HN_ERR_TIMEOUT (the
 * cycle cap was reached; the model is reset). */
hn_status hn_sim_run(hn_sim *s, const hn_hwjob *job, int32_t *acc,
                     uint64_t *cycles);

/* The same job through the Vitis RTL-kernel wrapper rtl/hn_krnl_top.sv:
 * the memory image goes to a C++ model of device memory (sections at
 * HN_HW_AXI_ALIGN-aligned addresses), the registers are programmed over
 * AXI4-Lite, the kernel DMAs the image in over m_axi, runs and writes the
 * results back; one kernel call per buffer run.  *cycles = the core cycles
 * the kernel reports (register 0x70), summed over runs: hn_cycles_job's
 * plus the cycles the controller waited for streaming activations
 * (hn_kernel_report.wait).  The memory model
 * answers with the latencies of hn_sim_set_axi (default
 * hn_dma_params_bench()).  The kernel is built at the default array size
 * only: HN_ERR_UNSUPPORTED if hn_sim_params() differs. */
hn_status hn_sim_run_axi(hn_sim *s, const hn_hwjob *job, int32_t *acc,
                         uint64_t *cycles);

/* The kernel builds verilated into hn_sim: out[0] the default m_axi width
 * (HN_HW_AXI_W), out[1] 32 bits, each with its read-outstanding count
 * (latencies 1, 1); returns 2. */
int hn_sim_axi_builds(hn_dma_params out[2]);
/* Selects the build (data_w, rd_out: one of hn_sim_axi_builds) and the
 * memory model's latencies (rd_lat, wr_lat in 1..100000) of later
 * hn_sim_run_axi calls. */
hn_status hn_sim_set_axi(hn_sim *s, const hn_dma_params *d);
hn_dma_params hn_sim_axi(const hn_sim *s);
/* Back-pressure of the memory model (0 = none, the default): every
 * arready, awready, wready, and every rvalid/bvalid not yet shown, is
 * withheld in a cycle with probability percent % (0..90, a seeded
 * xorshift).  The results must not change; the cycles then exceed
 * hn_cycles_kernel's, which assumes no back-pressure. */
hn_status hn_sim_set_axi_stalls(hn_sim *s, unsigned percent, uint64_t seed);

/* Kernel cycles (HN_REG_KCYCLES: load + run + store) of the last
 * hn_sim_run_axi, summed over its kernel calls; 0 before the first. */
uint64_t hn_sim_axi_kernel_cycles(const hn_sim *s);

/* Cycles and host ticks of everything run so far (ticks include loading
 * and read-back), for simulation-speed figures. */
void hn_sim_stats(const hn_sim *s, uint64_t *array_cycles,
                  uint64_t *total_ticks);

#ifdef __cplusplus
}
#endif
#endif
