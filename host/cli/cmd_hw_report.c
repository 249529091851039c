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
#include "hetnas/inteval.h"
#include "hetnas/backend.h"
#include "hetnas/config.h"
#include "hetnas/cost.h"
#include "hetnas/cycles.h"
#include "hetnas/hwjob.h"
#include "hetnas/hwref.h"
#include "hetnas/hwreport.h"
#include "hetnas/intnet.h"
#include "hetnas/json.h"
#include "hetnas/trainer.h"


static const char *k_usage =
    "usage: hetnas hw report [--model resnet20] [--input 3x32x32] [--width M]\n"
    "                        (--config FILE | --homogeneous BW,BA)\n"
    "                        [--input-bits 8] [--samples N] [--seed S]\n"
    "                        [--array DMxDNxDK] [--acc-w B] [--dma RD,WR[,W[,O]]]\n"
    "                        [--no-sim] [--json]\n"
    "       hetnas hw report --checkpoint CK --experiment EXP.yaml [--config FILE]\n"
    "                        [--images N] [--split val|test] [--dma RD,WR[,W[,O]]]\n"
    "                        [--json]\n"
    "Per searchable layer: MACs, BOPs, cycles measured on the RTL (Verilator,\n"
    "random weights and activations, checked against the C reference), the\n"
    "cycle model's prediction, ideal cycles and utilization.  With\n"
    "--samples N: N random configurations over the same op set (seeded by\n"
    "--seed), and the Pearson and Spearman correlations of total BOPs with\n"
    "total model cycles (the model is exact: tests/test_sim.c).  --array and\n"
    "--acc-w evaluate the model at another array size, with a weight buffer\n"
    "of 2^20 words (the RTL is measured only at the size it was verilated\n"
    "with).  --dma RD,WR adds the kernel cycles of hn_krnl_top (weight load,\n"
    "then the run with the activation load and the result store overlapped)\n"
    "at read/write memory latencies RD, WR\n"
    "cycles (1,1 = the Verilator memory model), with an m_axi port of W bits\n"
    "(32..512, default the build's 512) and O read bursts outstanding\n"
    "(default 4); docs/hardware.md \"Kernel time\".\n"
    "--checkpoint: the trained network of a run (its experiment, optionally\n"
    "another --config) runs image by image as the integer network (docs/nn.md)\n"
    "on the RTL: the first N images (default 10) of the split (default val);\n"
    "per layer the measured cycles per image and every layer's accumulators\n"
    "checked against the C reference, plus the top-1 agreement of the\n"
    "integer logits with the fake-quant float model.\n";

typedef hn_hwreport_layer layer_row;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- --checkpoint: the trained network on the RTL, image by image ---------- */
typedef struct ck_run {
    hn_int_eval ie;         /* the integer network beside the float model */
    hn_backend *be;         /* verilator */
    hn_arch *arch;          /* clones of the model's, for the cost tables */
    hn_config *cfg;
    int64_t *cycles;        /* (L) summed over images */
    int *bad;               /* (L) jobs whose accumulators differ from hwref */
    int32_t *ref;
    size_t ref_cap;
} ck_run;

/* The network's conv: on the RTL, then the oracle on the same job. */
static hn_status ck_conv(const hn_hwjob *job, int32_t *acc, void *ud) {
    ck_run *k = ud;
    int l = 0, L = hn_arch_n_layers(k->arch);
    while (l < L && hn_intnet_layer_job(k->ie.net, l) != job) l++;
    if (l == L) return hn_fail(HN_ERR_INTERNAL, "hw report: a conv job of no layer");
    uint64_t cyc = 0;
    HN_TRY(hn_backend_run_job(k->be, job, acc, &cyc));
    k->cycles[l] += (int64_t)cyc;
    int oh, ow;
    hn_hwjob_out_dims(job, &oh, &ow);
    size_t n = (size_t)job->c_out * oh * ow;
    if (n > k->ref_cap) {
        free(k->ref);
        if (!(k->ref = malloc(sizeof(int32_t) * n))) return hn_fail(HN_ERR_NOMEM, "hw report");
        k->ref_cap = n;
    }
    HN_TRY(hn_hwref_conv(job, k->ref));
    k->bad[l] += memcmp(k->ref, acc, sizeof(int32_t) * n) != 0;
    return HN_OK;
}

/* Once the model is configured: its architecture and configuration for the
 * cost tables, and the per-layer counters. */
static hn_status ck_model(const hn_model *m, void *ud) {
    ck_run *k = ud;
    HN_TRY(hn_arch_resnet(hn_arch_spec(hn_model_arch(m)), &k->arch));
    if (!(k->cfg = hn_config_clone(hn_model_config(m))))
        return hn_fail(HN_ERR_NOMEM, "hw report");
    int L = hn_arch_n_layers(k->arch);
    k->cycles = calloc((size_t)L, sizeof *k->cycles);
    k->bad = calloc((size_t)L, sizeof *k->bad);
    if (!k->cycles || !k->bad) return hn_fail(HN_ERR_NOMEM, "hw report");
    return HN_OK;
}

static void ck_free(ck_run *k) {
    hn_int_eval_clear(&k->ie);
    free(k->cycles); free(k->bad); free(k->ref);
}

int hn_cmd_hw_report(int argc, char **argv) {
    const char *cmd = "hw report";
    hn_resnet_spec spec = hn_resnet_spec_default();
    hn_arg_cfg cs = {0};
    bool json = false, no_sim = false;
    int samples = 0, seed = 1, input_bits = 8;
    int arr_dm = 0, arr_dn = 0, arr_dk = 0, acc_w = 0;
    hn_dma_params dma = hn_dma_params_bench();
    dma.rd_lat = dma.wr_lat = 0; /* no --dma: no kernel cycles */
    const char *v, *ckpt = NULL, *exp_path = NULL, *split = "val";
    int images = 10;
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
            int n = sscanf(v, "%d,%d,%d,%d%c", &dma.rd_lat, &dma.wr_lat,
                           &dma.data_w, &dma.rd_out, &extra);
            const int w = dma.data_w;
            if (n < 2 || n > 4 || dma.rd_lat < 1 || dma.wr_lat < 1 ||
                dma.rd_lat > 100000 || dma.wr_lat > 100000 ||
                (w != 32 && w != 64 && w != 128 && w != 256 && w != 512) ||
                dma.rd_out < 1 || dma.rd_out > 16) {
                fprintf(stderr, "hetnas hw report: --dma: '%s' is not "
                        "RD,WR[,W[,O]] with latencies 1..100000, W in 32, 64, "
                        "128, 256, 512 and O in 1..16 (e.g. 40,40,512,4)\n", v);
                return 2;
            }
        } else if (!strcmp(o, "--checkpoint")) {
            if (!(ckpt = hn_arg_value(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(o, "--experiment")) {
            if (!(exp_path = hn_arg_value(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(o, "--images")) {
            if (!(v = hn_arg_value(cmd, argc, argv, &i))) return 2;
            if (!hn_arg_int(cmd, o, v, 1, 1000000, &images)) return 2;
        } else if (!strcmp(o, "--split")) {
            if (!(split = hn_arg_value(cmd, argc, argv, &i))) return 2;
            if (strcmp(split, "val") && strcmp(split, "test")) {
                fprintf(stderr, "hetnas hw report: --split: expected val or "
                        "test, got '%s'\n", split);
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
    /* ---- --checkpoint: measured on the trained network ------------------- */
    bool from_ckpt = ckpt || exp_path;
    uint64_t ck_images = 0, ck_agree = 0;
    double ck_wall = 0;
    int64_t *ck_cycles = NULL;
    hn_array_params ck_p = hn_array_params_default(); /* the RTL's */
    int *ck_bad = NULL; /* (L) images whose layer-l accumulators differ from hwref */
    if (from_ckpt) {
        if (!ckpt || !exp_path || samples || no_sim || arr_dm || acc_w ||
            cs.have_homo || cs.have_wm) {
            fprintf(stderr, "hetnas hw report: --checkpoint needs --experiment "
                    "(and takes --config FILE, --images, --split, --dma, "
                    "--json; not --samples, --no-sim, --array, --acc-w, "
                    "--homogeneous, --width-mult)\n");
            return 2;
        }
        hn_experiment e;
        if (hn_experiment_load(exp_path, NULL, 0, &e) != HN_OK) {
            hn_arg_report(cmd);
            return 2;
        }
        ck_run k;
        memset(&k, 0, sizeof k);
        k.ie.opts = hn_intnet_opts_default();
        k.ie.opts.conv = ck_conv;
        k.ie.opts.conv_ud = &k;
        k.ie.on_model = ck_model;
        k.ie.ud = &k;
        hn_status st = hn_backend_open("verilator", NULL, &k.be);
        hn_eval_result er;
        hn_eval_opts eo = {hn_int_eval_batch, &k.ie, images};
        double t0 = now_s();
        if (st == HN_OK) st = hn_eval_checkpoint_ex(&e, ckpt, cs.path, split, &eo, &er);
        ck_wall = now_s() - t0;
        hn_experiment_clear(&e);
        if (k.be) {
            if (st == HN_OK) ck_p = *hn_backend_array(k.be);
            hn_backend_close(k.be);
        }
        if (st != HN_OK) {
            ck_free(&k);
            hn_config_free(k.cfg);
            hn_arch_free(k.arch);
            return hn_arg_fail(cmd, st);
        }
        a = k.arch;
        c = k.cfg;
        ck_cycles = k.cycles;
        k.cycles = NULL;
        ck_bad = k.bad;
        k.bad = NULL;
        ck_images = (uint64_t)k.ie.n;
        ck_agree = (uint64_t)k.ie.agree;
        ck_free(&k);
        spec = *hn_arch_spec(a);
    } else {
        if (hn_arch_resnet(&spec, &a) != HN_OK) {
            hn_arg_report(cmd);
            return 2;
        }
        if (!hn_arg_config_build(cmd, &cs, a, false, &c)) {
            rc = 2;
            goto done;
        }
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
    if (from_ckpt) {
        p = ck_p; /* the array size the RTL was verilated with */
        if (hn_hwreport_model(a, c, input_bits, &p, rows, &model_total) != HN_OK) {
            hn_arg_report(cmd);
            goto done;
        }
        for (int l = 0; l < L; l++) {
            /* cycles per image; the schedule does not depend on the data */
            rows[l].measured = ck_images ? ck_cycles[l] / (int64_t)ck_images : 0;
            rows[l].ok = ck_bad[l] == 0;
            mismatches += ck_bad[l] != 0;
            meas_total += (uint64_t)rows[l].measured;
        }
        wall = ck_wall;
        measured = true;
    } else if (!no_sim && hn_backend_find("verilator")) {
        hn_backend *be = NULL;
        if (hn_backend_open("verilator", NULL, &be) != HN_OK) {
            hn_arg_report(cmd);
            goto done;
        }
        const hn_array_params *sp = hn_backend_array(be);
        if (custom && (sp->dm != p.dm || sp->dn != p.dn || sp->dk != p.dk ||
                       sp->acc_w != p.acc_w || sp->w_aw != p.w_aw)) {
            other_size = true;
            hn_backend_close(be);
        } else {
            p = *sp;
            hn_status st = hn_hwreport_model(a, c, input_bits, &p, rows, &model_total);
            double t0 = now_s();
            if (st == HN_OK)
                st = hn_hwreport_measure(a, c, input_bits, (uint64_t)seed, be, rows,
                                         &meas_total, &mismatches);
            wall = now_s() - t0;
            hn_backend_stats bs;
            hn_backend_get_stats(be, &bs);
            ticks = bs.ticks;
            hn_backend_close(be);
            if (st != HN_OK) {
                hn_arg_report(cmd);
                goto done;
            }
            measured = true;
        }
    }

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
    const double sim_rate = (double)meas_total * (from_ckpt ? (double)ck_images : 1.0) / wall;
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
        if (from_ckpt) {
            hn_jw_key(w, "checkpoint");
            hn_jw_obj_begin(w);
            hn_jw_key(w, "path");
            hn_jw_str(w, ckpt);
            hn_jw_key(w, "split");
            hn_jw_str(w, split);
            hn_jw_key(w, "images");
            hn_jw_uint(w, ck_images);
            hn_jw_key(w, "int_float_top1_agreement");
            hn_jw_double(w, ck_images ? (double)ck_agree / (double)ck_images : 0.0);
            hn_jw_obj_end(w);
        }
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
                hn_jw_key(w, "kernel_load");
                hn_jw_uint(w, rows[l].kernel_load);
                hn_jw_key(w, "kernel_wait");
                hn_jw_uint(w, rows[l].kernel_wait);
                hn_jw_key(w, "kernel_store");
                hn_jw_uint(w, rows[l].kernel_store);
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
            hn_jw_key(w, "dma_data_w");
            hn_jw_int(w, dma.data_w);
            hn_jw_key(w, "dma_rd_out");
            hn_jw_int(w, dma.rd_out);
        }
        if (measured) {
            hn_jw_key(w, "sim_wall_s");
            hn_jw_double(w, wall);
            hn_jw_key(w, "sim_cycles_per_s");
            hn_jw_double(w, sim_rate);
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
            printf("kernel: hn_krnl_top cycles incl. DMA (weights before the run, "
                   "activations and results overlapped with it), %d-bit m_axi, %d read bursts "
                   "outstanding, read latency %d, write latency %d cycles (model, "
                   "docs/hardware.md \"Kernel time\")\n",
                   dma.data_w, dma.rd_out, dma.rd_lat, dma.wr_lat);
        if (measured && from_ckpt)
            printf("measured on the RTL (Verilator): the trained network on %"
                   PRIu64 " %s images, cycles per image (the schedule does not "
                   "depend on the data); %.2f s wall (integer network: "
                   "packing, loading, running, read-back, C reference check "
                   "of every layer), %.3g array cycles/s; %s; integer top-1 "
                   "equals the fake-quant model's on %" PRIu64 "/%" PRIu64
                   " images\n", ck_images, split, wall,
                   sim_rate,
                   mismatches ? "MISMATCH with the C reference (marked !)"
                              : "every layer matches the C reference",
                   ck_agree, ck_images);
        else if (measured)
            printf("measured on the RTL (Verilator): %.2f s wall for the whole "
                   "network (packing, loading, running, read-back, C reference "
                   "check), %.3g array cycles/s, %.3g clock ticks/s (%" PRIu64
                   " ticks incl. buffer loads); %s\n", wall, sim_rate, (double)ticks / wall, ticks,
                   mismatches ? "MISMATCH with the C reference (marked !)"
                              : "every layer matches the C reference");
        else
            printf("cycles: not measured (%s); model cycles are exact for "
                   "the RTL\n",
                   other_size ? "the Verilator model has another array size"
                   : no_sim ? "--no-sim"
                            : "this build has no Verilator model"
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
    free(ck_cycles);
    free(ck_bad);
    hn_hwreport_samples_free(&smp);
    free(rows);
    free(per);
    hn_config_free(c);
    hn_arch_free(a);
    return rc;
}
