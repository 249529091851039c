/* hetnas hw: `run` executes a conv job file (docs/formats.md) on one of the
 * integer hardware models; `report` is cmd_hw_report.c. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "hetnas/backend.h"
#include "hetnas/cycles.h"
#include "hetnas/hwjob.h"
#include "hetnas/json.h"

static const char *k_usage =
    "usage: hetnas hw run --job FILE.json [--backend NAME] [--json]\n"
    "                     [--xclbin FILE] [--device N] [--timeout-ms MS]  (xrt)\n"
    "                     [--trace FILE.fst] [--cycle-cap N]  (verilator)\n"
    "       hetnas hw report ...   (hetnas hw report --help)\n"
    "       hetnas hw backends     (the backends of this build)\n"
    "run: executes one conv layer job (JSON, docs/formats.md) and prints the\n"
    "int32 accumulators (c_out, out_h, out_w) on a backend (hetnas hw\n"
    "backends): ref = the C reference (default), csim = the HLS kernel compiled\n"
    "as C, cpuint = oneDNN int8, opencl = the HLS kernel through OpenCL,\n"
    "verilator = the RTL (also prints measured cycles and the cycle model's),\n"
    "xrt = the HLS kernel in --xclbin on Alveo card --device N (each kernel run\n"
    "waits at most --timeout-ms, default 10000).  --json prints {\"out_h\",\n"
    "\"out_w\", \"acc\", ...}; otherwise a short summary.  --trace writes an FST\n"
    "waveform, --cycle-cap turns a run longer than N cycles into an error\n"
    "(default: 4x the model).\n";

typedef struct hw_result {
    int32_t *acc;
    int out_h, out_w;
    int has_cycles;
    int64_t cycles, model_cycles; /* model_cycles < 0: no model */
    int64_t passes;               /* csim: AND-popcount passes, else -1 */
} hw_result;

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
    const char *job_path = NULL, *backend = "ref", *trace = NULL, *xclbin = NULL;
    int device = 0;
    unsigned timeout_ms = 0;
    uint64_t cycle_cap = 0;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--job") || !strcmp(argv[i], "--backend") ||
            !strcmp(argv[i], "--trace") || !strcmp(argv[i], "--cycle-cap") ||
            !strcmp(argv[i], "--xclbin") || !strcmp(argv[i], "--device") ||
            !strcmp(argv[i], "--timeout-ms")) {
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
            } else if (!strcmp(opt, "--xclbin")) {
                xclbin = v;
            } else if (!strcmp(opt, "--device")) {
                if (!hn_arg_int("hw run", opt, v, 0, 1023, &device)) return 2;
            } else if (!strcmp(opt, "--timeout-ms")) {
                int t;
                if (!hn_arg_int("hw run", opt, v, 0, 1000000000L, &t)) return 2;
                timeout_ms = (unsigned)t;
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
    if ((trace || cycle_cap) && strcmp(backend, "verilator")) {
        fprintf(stderr, "hetnas hw run: --trace and --cycle-cap apply to "
                "--backend verilator only\n");
        return 2;
    }
    hn_backend_opts bo = hn_backend_opts_default();
    bo.trace_path = trace;
    bo.cycle_cap = cycle_cap;
    bo.xclbin = xclbin;
    bo.device = device;
    bo.timeout_ms = timeout_ms;
    hn_backend *be = NULL;
    hn_status st = hn_backend_open(backend, &bo, &be);
    if (st != HN_OK) {
        fprintf(stderr, "hetnas hw run: --backend %s: %s\n", backend, hn_error_msg());
        return st == HN_ERR_INVAL ? 2 : 1;
    }
    const hn_backend_ops *ops = hn_backend_ops_of(be);
    if (!ops->runs_jobs) {
        fprintf(stderr, "hetnas hw run: --backend %s runs float networks, not "
                "integer conv jobs (ref, csim, opencl, verilator do)\n", backend);
        hn_backend_close(be);
        return 2;
    }
    hn_hwjob job;
    if (hn_hwjob_load(job_path, &job) != HN_OK) {
        fprintf(stderr, "hetnas hw run: %s\n", hn_error_msg());
        hn_backend_close(be);
        return 1;
    }
    hw_result r;
    memset(&r, 0, sizeof r);
    r.passes = -1;
    r.model_cycles = -1;
    hn_hwjob_out_dims(&job, &r.out_h, &r.out_w);
    r.acc = malloc(sizeof(int32_t) * (size_t)job.c_out * r.out_h * r.out_w);
    int rc = 0;
    uint64_t cycles = 0;
    if (!r.acc) {
        fprintf(stderr, "hetnas hw run: out of memory\n");
        rc = 1;
    } else if (hn_backend_run_job(be, &job, r.acc, &cycles) != HN_OK) {
        rc = 1;
    } else {
        hn_backend_stats bs;
        hn_backend_get_stats(be, &bs);
        if (bs.work) r.passes = (int64_t)bs.work;
        if (ops->has_cycles) {
            r.has_cycles = 1;
            r.cycles = (int64_t)cycles;
            /* the cycle model's prediction for the same array build */
            const hn_array_params *ap = hn_backend_array(be);
            hn_cycle_report cr;
            if (ap && hn_cycles_job(&job, ap, &cr) == HN_OK)
                r.model_cycles = (int64_t)cr.cycles;
            else
                hn_error_clear();
        }
    }
    hn_backend_close(be);
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
    if (!strcmp(argv[1], "backends")) {
        for (int i = 0; i < hn_backend_count(); i++) {
            const hn_backend_ops *o = hn_backend_at(i);
            printf("%-10s %s\n", o->name, o->desc);
        }
        return 0;
    }
    fprintf(stderr, "hetnas hw: unknown subcommand '%s' (run|report|backends)\n%s",
            argv[1], k_usage);
    return 2;
}
