/* hn_backend_*: the backend registry and the built-in backends cpu, ref and
 * csim (backend.h).  opencl is hwopencl.c; verilator registers itself from
 * sim/hn_sim.cpp. */
#include "hetnas/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/hwref.h"
#include "hetnas/intnet.h"

#define MAX_BACKENDS 16

/* ---- built-in backends ------------------------------------------------------- */
static hn_status none_open(const hn_backend_opts *o, void **state) {
    (void)o;
    *state = NULL;
    return HN_OK;
}

static void none_close(void *state) { (void)state; }

static hn_status ref_run(void *state, const hn_hwjob *job, int32_t *acc,
                         uint64_t *cycles, uint64_t *work) {
    (void)state;
    (void)cycles;
    (void)work;
    return hn_hwref_conv(job, acc);
}

static hn_status csim_run(void *state, const hn_hwjob *job, int32_t *acc,
                          uint64_t *cycles, uint64_t *work) {
    (void)state;
    (void)cycles;
    int64_t passes = 0;
    HN_TRY(hn_hwcsim_conv(job, acc, &passes));
    *work = (uint64_t)passes;
    return HN_OK;
}

static const hn_backend_ops k_cpu = {
    .name = "cpu",
    .desc = "float training engine, fake quantization (whole networks only)",
    .open = none_open, .close = none_close};
static const hn_backend_ops k_ref = {
    .name = "ref", .desc = "integer C oracle (hn_hwref_conv)", .runs_jobs = 1,
    .open = none_open, .run_job = ref_run, .close = none_close};
static const hn_backend_ops k_csim = {
    .name = "csim", .desc = "HLS kernel hls/hn_bsconv.c compiled as C",
    .runs_jobs = 1, .open = none_open, .run_job = csim_run, .close = none_close};

#ifdef HN_HAVE_DNNL
extern const hn_backend_ops hn_backend_cpuint_ops; /* hwcpuint.c */
#endif
#ifdef HN_HAVE_OPENCL
extern const hn_backend_ops hn_backend_opencl_ops; /* hwopencl.c */
#endif
#ifdef HN_HAVE_XRT
extern const hn_backend_ops hn_backend_xrt_ops; /* hwxrt.c */
#endif

/* Backends a build may lack, and the option that brings them. */
static const struct {
    const char *name, *how;
} k_optional[] = {
    {"cpuint", "configure with oneDNN installed (HN_WITH_DNNL=ON; "
               "scripts/install-deps.sh installs libdnnl-dev)"},
    {"opencl", "configure with OpenCL headers and an ICD loader installed "
               "(HN_WITH_OPENCL=ON; scripts/install-deps.sh installs PoCL)"},
    {"verilator", "configure with Verilator installed (HN_WITH_VERILATOR=ON)"},
    {"xrt", "configure with XRT's headers and libraries installed "
            "(HN_WITH_XRT=ON; scripts/install-deps.sh installs libxrt-dev)"},
};

/* ---- registry ---------------------------------------------------------------- */
static const hn_backend_ops *g_ops[MAX_BACKENDS];
static int g_n;
static int g_builtin;

static void add(const hn_backend_ops *ops) {
    for (int i = 0; i < g_n; i++)
        if (!strcmp(g_ops[i]->name, ops->name)) return;
    if (g_n < MAX_BACKENDS) g_ops[g_n++] = ops;
}

static void builtins(void) {
    if (g_builtin) return;
    g_builtin = 1;
    /* keep a registration that came before (a constructor) after these */
    const hn_backend_ops *early[MAX_BACKENDS];
    int ne = g_n;
    memcpy(early, g_ops, sizeof(*early) * (size_t)ne);
    g_n = 0;
    add(&k_cpu);
    add(&k_ref);
    add(&k_csim);
#ifdef HN_HAVE_DNNL
    add(&hn_backend_cpuint_ops);
#endif
#ifdef HN_HAVE_OPENCL
    add(&hn_backend_opencl_ops);
#endif
#ifdef HN_HAVE_XRT
    add(&hn_backend_xrt_ops);
#endif
    for (int i = 0; i < ne; i++) add(early[i]);
}

void hn_backend_register(const hn_backend_ops *ops) {
    if (!ops || !ops->name) return;
    if (g_builtin) add(ops);
    else if (g_n < MAX_BACKENDS) g_ops[g_n++] = ops; /* before main() */
}

int hn_backend_count(void) {
    builtins();
    return g_n;
}

const hn_backend_ops *hn_backend_at(int i) {
    builtins();
    return i >= 0 && i < g_n ? g_ops[i] : NULL;
}

const hn_backend_ops *hn_backend_find(const char *name) {
    builtins();
    for (int i = 0; name && i < g_n; i++)
        if (!strcmp(g_ops[i]->name, name)) return g_ops[i];
    return NULL;
}

/* ---- instances ----------------------------------------------------------------- */
struct hn_backend {
    const hn_backend_ops *ops;
    void *state;
    hn_backend_stats st;
};

hn_backend_opts hn_backend_opts_default(void) {
    hn_backend_opts o;
    memset(&o, 0, sizeof o);
    return o;
}

hn_status hn_backend_open(const char *name, const hn_backend_opts *o,
                          hn_backend **out) {
    *out = NULL;
    const hn_backend_ops *ops = hn_backend_find(name);
    if (!ops) {
        for (size_t i = 0; i < sizeof k_optional / sizeof *k_optional; i++)
            if (name && !strcmp(name, k_optional[i].name))
                return hn_fail(HN_ERR_UNSUPPORTED, "backend '%s' is not in this "
                               "build: %s", name, k_optional[i].how);
        char list[256] = "";
        for (int i = 0; i < g_n; i++) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", g_ops[i]->name);
        }
        return hn_fail(HN_ERR_INVAL, "unknown backend '%s' (this build has: %s)",
                       name ? name : "(null)", list);
    }
    hn_backend_opts def = hn_backend_opts_default();
    hn_backend *b = calloc(1, sizeof *b);
    if (!b) return hn_fail(HN_ERR_NOMEM, "backend %s", name);
    b->ops = ops;
    hn_status s = ops->open(o ? o : &def, &b->state);
    if (s != HN_OK) {
        free(b);
        return s;
    }
    *out = b;
    return HN_OK;
}

void hn_backend_close(hn_backend *b) {
    if (!b) return;
    b->ops->close(b->state);
    free(b);
}

const hn_backend_ops *hn_backend_ops_of(const hn_backend *b) { return b->ops; }

const char *hn_backend_name(const hn_backend *b) { return b->ops->name; }

hn_status hn_backend_run_job(hn_backend *b, const hn_hwjob *job, int32_t *acc,
                             uint64_t *cycles) {
    uint64_t c = 0, w = 0;
    if (cycles) *cycles = 0;
    if (!b->ops->run_job)
        return hn_fail(HN_ERR_UNSUPPORTED, "backend %s runs whole float "
                       "networks, not integer conv jobs", b->ops->name);
    if (!acc) return hn_fail(HN_ERR_INVAL, "backend %s: NULL accumulators", b->ops->name);
    HN_TRY(b->ops->run_job(b->state, job, acc, &c, &w));
    b->st.jobs++;
    b->st.cycles += c;
    b->st.work += w;
    if (cycles) *cycles = c;
    return HN_OK;
}

const hn_array_params *hn_backend_array(const hn_backend *b) {
    return b->ops->array ? b->ops->array(b->state) : NULL;
}

void hn_backend_get_stats(const hn_backend *b, hn_backend_stats *s) {
    *s = b->st;
    if (b->ops->stats) b->ops->stats(b->state, s);
}

hn_status hn_backend_conv(const hn_hwjob *job, int32_t *acc, void *ud) {
    if (!ud) return hn_fail(HN_ERR_INVAL, "hn_backend_conv: no backend (ud)");
    return hn_backend_run_job(ud, job, acc, NULL);
}

static hn_status conv_batch(const hn_hwjob *job, int n, const int32_t *acts,
                            int32_t *acc, void *ud) {
    hn_backend *b = ud;
    HN_TRY(b->ops->run_batch(b->state, job, n, acts, acc));
    b->st.jobs += (uint64_t)n;
    return HN_OK;
}

void hn_backend_intnet_opts(hn_backend *b, struct hn_intnet_opts *o) {
    o->conv = hn_backend_conv;
    o->conv_ud = b;
    if (b->ops->run_batch) {
        o->conv_batch = conv_batch;
        o->batch = b->ops->batch > 1 ? b->ops->batch : 1;
    }
}
