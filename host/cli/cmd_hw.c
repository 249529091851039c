/* hetnas hw: `run` executes a conv job file (docs/formats.md) on one of the
 * integer hardware models; `report` is cmd_hw_report.c. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "hetnas/hwjob.h"
#include "hetnas/hwref.h"
#include "hetnas/json.h"

#if defined(HN_HAVE_VERILATOR) && defined(__has_include)
#if __has_include("hetnas/sim.h")
#include "hetnas/sim.h"
#define HN_HW_HAVE_SIM 1
#endif
#endif

static const char *k_usage =
    "usage: hetnas hw run --job FILE.json [--backend ref|csim|verilator] "
    "[--json]\n"
    "                     [--trace FILE.fst] [--cycle-cap N]  (verilator)\n"
    "       hetnas hw report ...   (hetnas hw report --help)\n"
    "run: executes one conv layer job (JSON, docs/formats.md) and prints the\n"
    "int32 accumulators (c_out, out_h, out_w).  Backends: ref = the C\n"
    "reference (default), csim = the HLS kernel compiled as C, verilator =\n"
    "the RTL (builds with Verilator only; also prints measured cycles and the\n"
    "cycle model's).  --json prints {\"out_h\", \"out_w\", \"acc\", ...};\n"
    "otherwise a short summary.  --trace writes an FST waveform, --cycle-cap\n"
    "turns a run longer than N cycles into an error (default: 4x the model).\n";

typedef struct hw_result {
    int32_t *acc;
    int out_h, out_w;
    int has_cycles;
    int64_t cycles, model_cycles; /* model_cycles < 0: no model */
    int64_t passes;               /* csim: AND-popcount passes, else -1 */
} hw_result;

/* The RTL through the Verilator harness (sim/, hn_sim_* C API): measured
 * cycles, and the cycle model's prediction for the same array build. */
static hn_status run_verilator(const hn_hwjob *job, const char *trace,
                               uint64_t cycle_cap, hw_result *res) {
#ifdef HN_HW_HAVE_SIM
    hn_sim_opts o = hn_sim_opts_default();
    if (trace) o.trace_path = trace;
    if (cycle_cap) o.cycle_cap = cycle_cap;
    hn_sim *sim;
    HN_TRY(hn_sim_open(&o, &sim));
    uint64_t cycles = 0;
    hn_status s = hn_sim_run(sim, job, res->acc, &cycles);
    if (s == HN_OK) {
        res->has_cycles = 1;
        res->cycles = (int64_t)cycles;
        hn_cycle_report cr;
        if (hn_cycles_job(job, hn_sim_params(sim), &cr) == HN_OK)
            res->model_cycles = (int64_t)cr.cycles;
        else
            hn_error_clear();
    }
    hn_sim_close(sim);
    return s;
#else
    (void)job;
    (void)trace;
    (void)cycle_cap;
    (void)res;
    return hn_fail(HN_ERR_UNSUPPORTED, "this build has no Verilator model of "
                   "the RTL (install verilator and configure with "
                   "-DHN_WITH_VERILATOR=ON)");
#endif
}

static int print_json(const char *backend, const hn_hwjob *job,
                      const hw_result *r) {
    hn_jw *w = hn_jw_new(0);
    if (!w) {
        fprintf(stderr, "hetnas hw run: out of memory\n");
        return 1;
    }
    size_t n = (size_t)job->c_out * r->out_h * r->out_w;
    hn_jw_obj_begin(w);
    hn_jw_key(w, "backend");
    hn_jw_str(w, backend);
    hn_jw_key(w, "out_h");
    hn_jw_int(w, r->out_h);
    hn_jw_key(w, "out_w");
    hn_jw_int(w, r->out_w);
    hn_jw_key(w, "acc");
    hn_jw_arr_begin(w);
    for (size_t i = 0; i < n; i++) hn_jw_int(w, r->acc[i]);
    hn_jw_arr_end(w);
    if (r->has_cycles) {
        hn_jw_key(w, "cycles");
        hn_jw_int(w, r->cycles);
        if (r->model_cycles >= 0) {
            hn_jw_key(w, "model_cycles");
            hn_jw_int(w, r->model_cycles);
        }
    }
    if (r->passes >= 0) {
        hn_jw_key(w, "passes");
        hn_jw_int(w, r->passes);
    }
    hn_jw_obj_end(w);
    if (hn_jw_status(w) != HN_OK) {
        fprintf(stderr, "hetnas hw run: out of memory writing JSON\n");
        hn_jw_free(w);
        return 1;
    }
    size_t len;
    const char *text = hn_jw_data(w, &len);
    fwrite(text, 1, len, stdout);
    fputc('\n', stdout);
    hn_jw_free(w);
    return 0;
}

static void print_summary(const char *backend, const hn_hwjob *job,
                          const hw_result *r) {
    size_t n = (size_t)job->c_out * r->out_h * r->out_w;
    int64_t sum = 0;
    int32_t lo = INT32_MAX, hi = INT32_MIN;
    for (size_t i = 0; i < n; i++) {
        sum += r->acc[i];
        if (r->acc[i] < lo) lo = r->acc[i];
        if (r->acc[i] > hi) hi = r->acc[i];
    }
    printf("job: k=%d stride=%d pad=%d, input %dx%dx%d in %d group(s) (b_a",
           job->k, job->stride, job->pad, job->c_in, job->in_h, job->in_w,
           job->n_in_groups);
    for (int g = 0; g < job->n_in_groups; g++)
        printf("%s%d", g ? "," : " ", job->in_groups[g].bits);
    printf("), %d filters in %d group(s) (b_w", job->c_out, job->n_out_groups);
    for (int g = 0; g < job->n_out_groups; g++)
        printf("%s%d", g ? "," : " ", job->out_groups[g].bits);
    printf(")\n");
    printf("backend %s: %zu accumulators (%d x %d x %d), min %" PRId32
           ", max %" PRId32 ", sum %" PRId64 "\n", backend, n, job->c_out,
           r->out_h, r->out_w, lo, hi, sum);
    if (r->passes >= 0)
        printf("AND-popcount passes (64-bit words): %" PRId64 "\n", r->passes);
    if (r->has_cycles) {
        printf("cycles: %" PRId64, r->cycles);
        if (r->model_cycles >= 0) printf(" (model %" PRId64 ")", r->model_cycles);
        printf("\n");
    }
    printf("(--json prints every accumulator)\n");
}

static int cmd_run(int argc, char **argv) {
    const char *job_path = NULL, *backend = "ref", *trace = NULL;
    uint64_t cycle_cap = 0;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--job") || !strcmp(argv[i], "--backend") ||
            !strcmp(argv[i], "--trace") || !strcmp(argv[i], "--cycle-cap")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "hetnas hw run: %s needs a value\n%s", argv[i],
                        k_usage);
                return 2;
            }
            const char *opt = argv[i], *v = argv[++i];
            if (!strcmp(opt, "--job")) {
                job_path = v;
            } else if (!strcmp(opt, "--backend")) {
                backend = v;
            } else if (!strcmp(opt, "--trace")) {
                trace = v;
            } else {
                char *end;
                unsigned long long c = strtoull(v, &end, 10);
                if (!*v || *end || v[0] == '-' || c == 0) {
                    fprintf(stderr, "hetnas hw run: --cycle-cap: expected a "
                            "positive integer, got '%s'\n", v);
                    return 2;
                }
                cycle_cap = c;
            }
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(k_usage, stdout);
            return 0;
        } else {
            fprintf(stderr, "hetnas hw run: unknown option '%s'\n%s", argv[i],
                    k_usage);
            return 2;
        }
    }
    if (!job_path) {
        fprintf(stderr, "hetnas hw run: --job FILE.json is required\n%s",
                k_usage);
        return 2;
    }
    if (strcmp(backend, "ref") && strcmp(backend, "csim") &&
        strcmp(backend, "verilator")) {
        fprintf(stderr, "hetnas hw run: --backend: unknown backend '%s' "
                "(ref|csim|verilator)\n", backend);
        return 2;
    }
    if ((trace || cycle_cap) && strcmp(backend, "verilator")) {
        fprintf(stderr, "hetnas hw run: --trace and --cycle-cap apply to "
                "--backend verilator only\n");
        return 2;
    }
    hn_hwjob job;
    if (hn_hwjob_load(job_path, &job) != HN_OK) {
        fprintf(stderr, "hetnas hw run: %s\n", hn_error_msg());
        return 1;
    }
    hw_result r;
    memset(&r, 0, sizeof r);
    r.passes = -1;
    r.model_cycles = -1;
    hn_hwjob_out_dims(&job, &r.out_h, &r.out_w);
    r.acc = malloc(sizeof(int32_t) * (size_t)job.c_out * r.out_h * r.out_w);
    int rc = 0;
    if (!r.acc) {
        fprintf(stderr, "hetnas hw run: out of memory\n");
        rc = 1;
    } else if (!strcmp(backend, "ref")) {
        if (hn_hwref_conv(&job, r.acc) != HN_OK) rc = 1;
    } else if (!strcmp(backend, "csim")) {
        if (hn_hwcsim_conv(&job, r.acc, &r.passes) != HN_OK) rc = 1;
    } else {
        if (run_verilator(&job, trace, cycle_cap, &r) != HN_OK) rc = 1;
    }
    if (rc == 1 && r.acc)
        fprintf(stderr, "hetnas hw run: %s: --backend %s: %s\n", job_path,
                backend, hn_error_msg());
    if (rc == 0) {
        if (json) rc = print_json(backend, &job, &r);
        else print_summary(backend, &job, &r);
    }
    free(r.acc);
    hn_hwjob_free(&job);
    return rc;
}

int hn_cmd_hw(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(k_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "run")) return cmd_run(argc - 1, argv + 1);
    if (!strcmp(argv[1], "report")) return hn_cmd_hw_report(argc - 1, argv + 1);
    fprintf(stderr, "hetnas hw: unknown subcommand '%s' (run|report)\n%s",
            argv[1], k_usage);
    return 2;
}
