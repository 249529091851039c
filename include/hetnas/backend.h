/* Backends: where the integer conv jobs of a network run (DESIGN.md
 * "Backends").  One vtable, chosen by name:
 *   cpu        the float training engine (fake quantization); runs whole
 *              networks only (hetnas eval), no integer jobs
 *   ref        the integer C oracle hn_hwref_conv
 *   cpuint     the fast CPU integer backend: oneDNN int8 convolutions
 *              (VNNI), batched over images; builds with oneDNN
 *   csim       the HLS kernel hls/hn_bsconv.c compiled by the C compiler
 *   opencl     the same kernel source through OpenCL (PoCL here, an xclbin
 *              through XRT's ICD on Alveo); builds with HN_WITH_OPENCL
 *   verilator  the RTL array (sim/); registers itself when the build has
 *              Verilator (HN_WITH_VERILATOR)
 *   xrt        the HLS kernel in an xclbin on an Alveo card, XRT's native
 *              C API (HN_WITH_XRT; opts.xclbin, opts.device)
 * A whole integer network runs on any integer backend through intnet.h
 * (hn_backend_conv is its conv function); integer backends give logits
 * identical to ref's (tests/test_backend_ops.c).
 *
 *   hn_backend *b;
 *   HN_TRY(hn_backend_open("csim", NULL, &b));
 *   st = hn_backend_run_job(b, &job, acc, &cycles);  // acc: (c_out, oh, ow)
 *   hn_backend_close(b);
 */
#ifndef HETNAS_BACKEND_H
#define HETNAS_BACKEND_H

#include <stdint.h>

#include "hetnas/cycles.h"
#include "hetnas/hwjob.h"
#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hn_backend_opts {
    const char *trace_path; /* verilator: FST waveform file, NULL = none */
    uint64_t cycle_cap;     /* verilator: per run, 0 = the default */
    int platform, device;   /* opencl: indices; xrt: device index (default 0) */
    const char *xclbin;     /* xrt: the kernel binary for the card */
    unsigned timeout_ms;    /* xrt: per kernel run, 0 = 10 s */
} hn_backend_opts;

hn_backend_opts hn_backend_opts_default(void);

/* Counters of everything an open backend ran. */
typedef struct hn_backend_stats {
    uint64_t jobs;
    uint64_t cycles; /* measured array cycles (backends with a clock) */
    uint64_t work;   /* csim: 64-bit AND-popcount passes of the kernel */
    uint64_t ticks;  /* verilator: clock ticks incl. buffer loads, read-back */
    uint64_t kernel_ns; /* xrt: host-measured kernel time (start .. done) */
} hn_backend_stats;

/* The implementation side.  A backend that has no clock leaves *cycles 0;
 * one without a fixed array returns NULL from `array`. */
typedef struct hn_backend_ops {
    const char *name;
    const char *desc;     /* one line for listings */
    int runs_jobs;        /* 0: cpu (float networks only) */
    int has_cycles;       /* 1: run_job measures array cycles */
    hn_status (*open)(const hn_backend_opts *o, void **state);
    hn_status (*run_job)(void *state, const hn_hwjob *job, int32_t *acc,
                         uint64_t *cycles, uint64_t *work);
    const hn_array_params *(*array)(void *state); /* may be NULL */
    /* may be NULL: fills the backend's own counters (ticks, kernel_ns) */
    void (*stats)(void *state, hn_backend_stats *s);
    void (*close)(void *state);
    /* optional: one job on n images, acts (n, c_in, H, W), acc (n, c_out,
     * oh, ow); `batch` = the images per call it wants from a network */
    hn_status (*run_batch)(void *state, const hn_hwjob *job, int n,
                           const int32_t *acts, int32_t *acc);
    int batch;
    int needs_device;     /* 1: runs only with hardware attached (xrt) */
} hn_backend_ops;

/* Adds a backend (by pointer; ops must outlive the process).  A second
 * registration of the same name is ignored.  Built-in backends are
 * registered on first use; the Verilator part registers itself. */
void hn_backend_register(const hn_backend_ops *ops);

/* Names of the backends this build has, in a fixed order (NULL-free). */
int hn_backend_count(void);
const hn_backend_ops *hn_backend_at(int i);
const hn_backend_ops *hn_backend_find(const char *name);

typedef struct hn_backend hn_backend; /* opaque */

/* Opens a backend by name (o may be NULL: defaults).  HN_ERR_INVAL for an
 * unknown name (the message lists the names), HN_ERR_UNSUPPORTED for a
 * known one this build lacks (the message names the build option), or the
 * backend's own error (no OpenCL platform, ...). */
hn_status hn_backend_open(const char *name, const hn_backend_opts *o,
                          hn_backend **out);
void hn_backend_close(hn_backend *b);
const hn_backend_ops *hn_backend_ops_of(const hn_backend *b);
const char *hn_backend_name(const hn_backend *b);

/* One conv job: acc (c_out, out_h, out_w); *cycles (may be NULL) = the
 * array cycles measured, 0 when the backend has no clock. */
hn_status hn_backend_run_job(hn_backend *b, const hn_hwjob *job, int32_t *acc,
                             uint64_t *cycles);
/* The array geometry the backend runs (verilator: as verilated), NULL if
 * none (ref, csim, opencl have no cycle-accurate array). */
const hn_array_params *hn_backend_array(const hn_backend *b);
void hn_backend_get_stats(const hn_backend *b, hn_backend_stats *s);

/* intnet.h's conv function form of hn_backend_run_job: ud = hn_backend. */
hn_status hn_backend_conv(const hn_hwjob *job, int32_t *acc, void *ud);

/* Sets the conv of integer-network options o (intnet.h) to backend b, so
 * that hn_intnet_new(model, o, ..) runs every layer on b (batched over the
 * images of one hn_intnet_forward where b supports it). */
struct hn_intnet_opts;
void hn_backend_intnet_opts(hn_backend *b, struct hn_intnet_opts *o);

#ifdef __cplusplus
}
#endif
#endif
