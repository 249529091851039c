/* `hetnas hw report`: per-layer MACs, BOPs, measured (Verilator) and model
 * cycles and utilization of a configuration on the bit-serial array, and
 * over N random configurations the correlation of BOPs with cycles.  The
 * CLI parses and prints; the work is in host/backend/hwreport.c. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "hetnas/config.h"
#include "hetnas/cost.h"
#include "hetnas/cycles.h"
#include "hetnas/hwjob.h"
#include "hetnas/hwreport.h"
#include "hetnas/json.h"

#if defined(HN_HAVE_VERILATOR)
#include "hetnas/sim.h"
#define HN_REPORT_HAVE_SIM 1
#endif

static const char *k_usage =
    "usage: hetnas hw report [--model resnet20] [--input 3x32x32] [--width M]\n"
    "                        (--config FILE | --homogeneous BW,BA)\n"
    "                        [--input-bits 8] [--samples N] [--seed S]\n"
    "                        [--array DMxDNxDK] [--acc-w B] [--dma RD,WR]\n"
    "                        [--no-sim] [--json]\n"
    "Per searchable layer: MACs, BOPs, cycles measured on the RTL (Verilator,\n"
    "random weights and activations, checked against the C reference), the\n"
    "cycle model's prediction, ideal cycles and utilization.  With\n"
    "--samples N: N random configurations over the same op set (seeded by\n"
    "--seed), and the Pearson and Spearman correlations of total BOPs with\n"
    "total model cycles (the model is exact: tests/test_sim.c).  --array and\n"
    "--acc-w evaluate the model at another array size, with a weight buffer\n"
    "of 2^20 words (the RTL is measured only at the size it was verilated\n"
    "with).  --dma RD,WR adds the kernel cycles of hn_krnl_top (DMA load +\n"
    "run + store) at read/write memory latencies RD, WR cycles (1,1 = the\n"
    "Verilator memory model; docs/hardware.md \"Kernel time\").\n";

typedef hn_hwreport_layer layer_row;

#ifdef HN_REPORT_HAVE_SIM
static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static hn_status sim_run(void *ctx, const hn_hwjob *job, int32_t *acc,
                         uint64_t *cycles) {
    return hn_sim_run((hn_sim *)ctx, job, acc, cycles);
}
#endif

int hn_cmd_hw_report(int argc, char **argv) {
    const char *cmd = "hw report";
    hn_resnet_spec spec = hn_resnet_spec_default();
    hn_arg_cfg cs = {0};
    bool json = false, no_sim = false;
    int samples = 0, seed = 1, input_bits = 8;
    int arr_dm = 0, arr_dn = 0, arr_dk = 0, acc_w = 0;
    hn_dma_params dma = {0, 0};
    const char *v;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        int r = hn_arg_model(cmd, argc, argv, &i, &spec, NULL);
        if (r == 0) r = hn_arg_config(cmd, argc, argv, &i, &cs);
        if (r < 0) return 2;
        if (r > 0) continue;
        if (!strcmp(o, "--samples")) {
            if (!(v = hn_arg_value(cmd, argc, argv, &i))) return 2;
            if (!hn_arg_int(cmd, o, v, 0, 1000000, &samples)) return 2;
        } else if (!strcmp(o, "--seed")) {
            if (!(v = hn_arg_value(cmd, argc, argv, &i))) return 2;
            if (!hn_arg_int(cmd, o, v, 0, 2147483647, &seed)) return 2;
        } else if (!strcmp(o, "--input-bits")) {
            if (!(v = hn_arg_value(cmd, argc, argv, &i))) return 2;
            if (!hn_arg_int(cmd, o, v, 1, 8, &input_bits)) return 2;
        } else if (!strcmp(o, "--array")) {
            if (!(v = hn_arg_value(cmd, argc, argv, &i))) return 2;
            char extra;
            if (sscanf(v, "%dx%dx%d%c", &arr_dm, &arr_dn, &arr_dk, &extra) != 3 ||
                arr_dm < 1 || arr_dn < 1 || arr_dk < 1 || arr_dm > 1024 ||
                arr_dn > 1024 || arr_dk > 4096) {
                fprintf(stderr, "hetnas hw report: --array: '%s' is not "
                        "DMxDNxDK with positive sizes (e.g. 4x16x16)\n", v);
                return 2;
            }
        } else if (!strcmp(o, "--acc-w")) {
            if (!(v = hn_arg_value(cmd, argc, argv, &i))) return 2;
            if (!hn_arg_int(cmd, o, v, 8, 31, &acc_w)) return 2;
        } else if (!strcmp(o, "--dma")) {
            if (!(v = hn_arg_value(cmd, argc, argv, &i))) return 2;
            char extra;
            if (sscanf(v, "%d,%d%c", &dma.rd_lat, &dma.wr_lat, &extra) != 2 ||
                dma.rd_lat < 1 || dma.wr_lat < 1 || dma.rd_lat > 100000 ||
                dma.wr_lat > 100000) {
                fprintf(stderr, "hetnas hw report: --dma: '%s' is not RD,WR "
                        "with latencies >= 1 (e.g. 1,1)\n", v);
                return 2;
            }
        } else if (!strcmp(o, "--no-sim")) {
            no_sim = true;
        } else if (!strcmp(o, "--json")) {
            json = true;
        } else if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            fputs(k_usage, stdout);
            return 0;
        } else {
            fprintf(stderr, "hetnas hw report: unknown option '%s'\n%s", o,
                    k_usage);
            return 2;
        }
    }
    hn_arch *a = NULL;
    hn_config *c = NULL;
    layer_row *rows = NULL;
    hn_layer_cost *per = NULL;
    hn_hwreport_samples smp;
    memset(&smp, 0, sizeof smp);
    int rc = 1;
    if (hn_arch_resnet(&spec, &a) != HN_OK) {
        hn_arg_report(cmd);
        return 2;
    }
    if (!hn_arg_config_build(cmd, &cs, a, false, &c)) {
        rc = 2;
        goto done;
    }
    const int L = hn_arch_n_layers(a);
    rows = calloc((size_t)L, sizeof *rows);
    per = calloc((size_t)L, sizeof *per);
    if (!rows || !per) {
        fprintf(stderr, "hetnas hw report: out of memory\n");
        goto done;
    }
    hn_cost_opts copts = hn_cost_opts_default();
    copts.input_bits = input_bits;
    hn_layer_cost total;
    if (hn_cost_network(a, c, &copts, per, &total) != HN_OK) {
        hn_arg_report(cmd);
        goto done;
    }
    hn_array_params p = hn_array_params_default();
    const bool custom = arr_dm || acc_w;
    if (arr_dm) {
        p.dm = arr_dm;
        p.dn = arr_dn;
        p.dk = arr_dk;
        p.w_aw = 20; /* a weight buffer that holds any ResNet layer */
    }
    if (acc_w) p.acc_w = acc_w;
    uint64_t model_total = 0;
    for (int l = 0; l < L; l++) {
        rows[l].cost = per[l];
        rows[l].measured = -1;
    }
    if (hn_hwreport_model(a, c, input_bits, &p, rows, &model_total) != HN_OK) {
        hn_arg_report(cmd);
        goto done;
    }

    /* ---- measured on the RTL ------------------------------------------ */
    bool measured = false;
    uint64_t meas_total = 0, ticks = 0;
    double wall = 0;
    int mismatches = 0;
    bool other_size = false;
#ifdef HN_REPORT_HAVE_SIM
    if (!no_sim) {
        hn_sim *sim = NULL;
        hn_sim_opts so = hn_sim_opts_default();
        if (hn_sim_open(&so, &sim) != HN_OK) {
            hn_arg_report(cmd);
            goto done;
        }
        const hn_array_params *sp = hn_sim_params(sim);
        if (custom && (sp->dm != p.dm || sp->dn != p.dn || sp->dk != p.dk ||
                       sp->acc_w != p.acc_w || sp->w_aw != p.w_aw)) {
            other_size = true;
            hn_sim_close(sim);
            goto simulated;
        }
        p = *sp;
        if (hn_hwreport_model(a, c, input_bits, &p, rows, &model_total) != HN_OK) {
            hn_arg_report(cmd);
            hn_sim_close(sim);
            goto done;
        }
        double t0 = now_s();
        hn_status st = hn_hwreport_measure(a, c, input_bits, (uint64_t)seed,
                                           sim_run, sim, rows, &meas_total,
                                           &mismatches);
        wall = now_s() - t0;
        hn_sim_stats(sim, NULL, &ticks);
        hn_sim_close(sim);
        if (st != HN_OK) {
            hn_arg_report(cmd);
            goto done;
        }
        measured = true;
    }
simulated:
#else
    (void)no_sim;
    (void)custom;
#endif

    /* ---- random configurations ------------------------------------------ */
    if (hn_hwreport_sample(a, c, &copts, input_bits, &p, samples,
                           (uint64_t)seed, &smp) != HN_OK) {
        hn_arg_report(cmd);
        goto done;
    }
    const double r_pearson = smp.pearson, r_spearman = smp.spearman;
    const double l_pearson = smp.layer_pearson, l_spearman = smp.layer_spearman;
    const double *u_mean = smp.layer_util_mean, *u_min = smp.layer_util_min;

    /* ---- kernel time (DMA) ------------------------------------------------ */
    uint64_t kernel_total = 0;
    const bool kernel = dma.rd_lat > 0;
    if (kernel && hn_hwreport_kernel(a, c, input_bits, &p, &dma, rows,
                                     &kernel_total) != HN_OK) {
        hn_arg_report(cmd);
        goto done;
    }

    /* ---- output ------------------------------------------------------------ */
    double ideal_total = 0;
    for (int l = 0; l < L; l++) ideal_total += rows[l].ideal;
    if (json) {
        hn_jw *w = hn_jw_new(0);
        if (!w) goto done;
        hn_jw_obj_begin(w);
        hn_jw_key(w, "model");
        hn_jw_str(w, hn_arch_model_name(a));
        hn_jw_key(w, "array");
        hn_jw_obj_begin(w);
        hn_jw_key(w, "dm");
        hn_jw_int(w, p.dm);
        hn_jw_key(w, "dn");
        hn_jw_int(w, p.dn);
        hn_jw_key(w, "dk");
        hn_jw_int(w, p.dk);
        hn_jw_obj_end(w);
        hn_jw_key(w, "measured");
        hn_jw_bool(w, measured);
        hn_jw_key(w, "layers");
        hn_jw_arr_begin(w);
        for (int l = 0; l < L; l++) {
            hn_jw_obj_begin(w);
            hn_jw_key(w, "name");
            hn_jw_str(w, hn_arch_layer(a, l)->name);
            hn_jw_key(w, "macs");
            hn_jw_uint(w, rows[l].cost.macs);
            hn_jw_key(w, "bops");
            hn_jw_uint(w, rows[l].cost.bops);
            hn_jw_key(w, "cycles");
            if (rows[l].measured >= 0) hn_jw_int(w, rows[l].measured);
            else hn_jw_null(w);
            if (rows[l].measured >= 0) {
                hn_jw_key(w, "matches_reference");
                hn_jw_bool(w, rows[l].ok);
            }
            hn_jw_key(w, "model_cycles");
            hn_jw_uint(w, rows[l].model);
            hn_jw_key(w, "ideal_cycles");
            hn_jw_double(w, rows[l].ideal);
            hn_jw_key(w, "utilization");
            hn_jw_double(w, rows[l].util);
            if (kernel) {
                hn_jw_key(w, "kernel_cycles");
                hn_jw_uint(w, rows[l].kernel);
            }
            hn_jw_obj_end(w);
        }
        hn_jw_arr_end(w);
        hn_jw_key(w, "total");
        hn_jw_obj_begin(w);
        hn_jw_key(w, "macs");
        hn_jw_uint(w, total.macs);
        hn_jw_key(w, "bops");
        hn_jw_uint(w, total.bops);
        hn_jw_key(w, "cycles");
        if (measured) hn_jw_uint(w, meas_total);
        else hn_jw_null(w);
        hn_jw_key(w, "model_cycles");
        hn_jw_uint(w, model_total);
        hn_jw_key(w, "utilization");
        hn_jw_double(w, ideal_total / (double)model_total);
        if (kernel) {
            hn_jw_key(w, "kernel_cycles");
            hn_jw_uint(w, kernel_total);
            hn_jw_key(w, "dma_rd_lat");
            hn_jw_int(w, dma.rd_lat);
            hn_jw_key(w, "dma_wr_lat");
            hn_jw_int(w, dma.wr_lat);
        }
        if (measured) {
            hn_jw_key(w, "sim_wall_s");
            hn_jw_double(w, wall);
            hn_jw_key(w, "sim_cycles_per_s");
            hn_jw_double(w, (double)meas_total / wall);
            hn_jw_key(w, "sim_ticks");
            hn_jw_uint(w, ticks);
        }
        hn_jw_obj_end(w);
        if (samples > 0) {
            hn_jw_key(w, "samples");
            hn_jw_obj_begin(w);
            hn_jw_key(w, "n");
            hn_jw_int(w, samples);
            hn_jw_key(w, "seed");
            hn_jw_int(w, seed);
            hn_jw_key(w, "cycles_source");
            hn_jw_str(w, "model");
            hn_jw_key(w, "pearson");
            hn_jw_double(w, r_pearson);
            hn_jw_key(w, "spearman");
            hn_jw_double(w, r_spearman);
            hn_jw_key(w, "layer_pearson");
            hn_jw_double(w, l_pearson);
            hn_jw_key(w, "layer_spearman");
            hn_jw_double(w, l_spearman);
            hn_jw_key(w, "utilization_mean");
            hn_jw_double(w, smp.util_mean);
            hn_jw_key(w, "utilization_min");
            hn_jw_double(w, smp.util_min);
            hn_jw_key(w, "layers");
            hn_jw_arr_begin(w);
            for (int l = 0; l < L; l++) {
                hn_jw_obj_begin(w);
                hn_jw_key(w, "name");
                hn_jw_str(w, hn_arch_layer(a, l)->name);
                hn_jw_key(w, "utilization_mean");
                hn_jw_double(w, u_mean[l]);
                hn_jw_key(w, "utilization_min");
                hn_jw_double(w, u_min[l]);
                hn_jw_obj_end(w);
            }
            hn_jw_arr_end(w);
            hn_jw_obj_end(w);
        }
        hn_jw_obj_end(w);
        if (hn_jw_status(w) == HN_OK) printf("%s\n", hn_jw_data(w, NULL));
        hn_jw_free(w);
    } else {
        printf("%s on a Dm=%d x Dn=%d x Dk=%d bit-serial array (%d binary lanes)\n",
               hn_arch_model_name(a), p.dm, p.dn, p.dk, p.dm * p.dn * p.dk);
        printf("%-14s %12s %14s %12s %12s %12s %6s%s\n", "layer", "MACs", "BOPs",
               "cycles", "model", "ideal", "util", kernel ? "       kernel" : "");
        for (int l = 0; l < L; l++) {
            char meas[32];
            if (rows[l].measured >= 0)
                snprintf(meas, sizeof meas, "%" PRId64 "%s", rows[l].measured,
                         rows[l].ok ? "" : "!");
            else
                snprintf(meas, sizeof meas, "-");
            printf("%-14s %12" PRIu64 " %14" PRIu64 " %12s %12" PRIu64
                   " %12.0f %6.3f", hn_arch_layer(a, l)->name,
                   rows[l].cost.macs, rows[l].cost.bops, meas, rows[l].model,
                   rows[l].ideal, rows[l].util);
            if (kernel) printf(" %12" PRIu64, rows[l].kernel);
            printf("\n");
        }
        char meas[32];
        if (measured) snprintf(meas, sizeof meas, "%" PRIu64, meas_total);
        else snprintf(meas, sizeof meas, "-");
        printf("%-14s %12" PRIu64 " %14" PRIu64 " %12s %12" PRIu64
               " %12.0f %6.3f", "total", total.macs, total.bops, meas,
               model_total, ideal_total, ideal_total / (double)model_total);
        if (kernel) printf(" %12" PRIu64, kernel_total);
        printf("\n");
        if (kernel)
            printf("kernel: hn_krnl_top cycles incl. DMA load and store (not "
                   "overlapped with the run), read latency %d, write latency %d "
                   "cycles (model, docs/hardware.md \"Kernel time\")\n",
                   dma.rd_lat, dma.wr_lat);
        if (measured)
            printf("measured on the RTL (Verilator): %.2f s wall for the whole "
                   "network (packing, loading, running, read-back, C reference "
                   "check), %.3g array cycles/s, %.3g clock ticks/s (%" PRIu64
                   " ticks incl. buffer loads); %s\n", wall,
                   (double)meas_total / wall, (double)ticks / wall, ticks,
                   mismatches ? "MISMATCH with the C reference (marked !)"
                              : "every layer matches the C reference");
        else
            printf("cycles: not measured (%s); model cycles are exact for "
                   "the RTL\n",
                   other_size ? "the Verilator model has another array size"
#ifdef HN_REPORT_HAVE_SIM
                   : "--no-sim"
#else
                   : "this build has no Verilator model"
#endif
            );
        if (samples > 0 && hn_config_n_ops(c) == 1)
            printf("note: the configuration has one op, so every random "
                   "configuration is the same (correlations undefined)\n");
        if (samples > 0) {
            printf("%d random configurations (seed %d, op set of the "
                   "configuration): BOPs vs model cycles: Pearson %.4f, "
                   "Spearman %.4f\n", samples, seed, r_pearson, r_spearman);
            printf("per layer (%d samples x %d layers pooled): BOPs vs model "
                   "cycles: Pearson %.4f, Spearman %.4f\n", samples, L,
                   l_pearson, l_spearman);
            printf("utilization over the samples (model): network mean %.3f, "
                   "min %.3f; per layer mean/min:\n", smp.util_mean,
                   smp.util_min);
            for (int l = 0; l < L; l++)
                printf("  %-14s %.3f / %.3f\n", hn_arch_layer(a, l)->name,
                       u_mean[l], u_min[l]);
        }
    }
    rc = mismatches ? 1 : 0;
done:
    hn_hwreport_samples_free(&smp);
    free(rows);
    free(per);
    hn_config_free(c);
    hn_arch_free(a);
    return rc;
}
