/* hetnas bops: MACs and BOPs of a network configuration. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "hetnas/config.h"
#include "hetnas/cost.h"
#include "hetnas/json.h"

static const char *k_usage =
    "usage: hetnas bops [--model resnet20] [--depth N] [--input CxHxW] [--width M]\n"
    "                   (--config FILE | --homogeneous BW,BA | --width-mult R)\n"
    "                   [--input-bits 8] [--no-memory] [--include-fc] [--fc-bits 8]\n"
    "                   [--target BW,BA] [--json]\n"
    "MACs and BOPs (paper appendix F, DESIGN.md) per searchable layer and in\n"
    "total.  --width-mult alone keeps layers at full precision (32-bit);\n"
    "combine it with --homogeneous to quantize the kept filters.  --target\n"
    "adds the ratio to that homogeneous configuration.\n";

static void json_cost(hn_jw *w, const hn_layer_cost *c) {
    hn_jw_key(w, "macs");
    hn_jw_uint(w, c->macs);
    hn_jw_key(w, "bops_compute");
    hn_jw_uint(w, c->bops_compute);
    hn_jw_key(w, "bops_memory");
    hn_jw_uint(w, c->bops_memory);
    hn_jw_key(w, "bops");
    hn_jw_uint(w, c->bops);
}

int hn_cmd_bops(int argc, char **argv) {
    const char *cmd = "bops";
    hn_resnet_spec spec = hn_resnet_spec_default();
    hn_cost_opts opts = hn_cost_opts_default();
    hn_arg_cfg cs = {0};
    bool json = false, have_target = false;
    hn_op target = {0, 0};
    const char *v;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        int r = hn_arg_model(cmd, argc, argv, &i, &spec, NULL);
        if (r == 0) r = hn_arg_config(cmd, argc, argv, &i, &cs);
        if (r < 0) return 2;
        if (r > 0) continue;
        if (!strcmp(o, "--target")) {
            if (!(v = hn_arg_value(cmd, argc, argv, &i))) return 2;
            if (!hn_arg_pair(cmd, o, v, 1, HN_BITS_MAX, &target.wbits,
                             &target.abits))
                return 2;
            have_target = true;
        } else if (!strcmp(o, "--input-bits")) {
            if (!(v = hn_arg_value(cmd, argc, argv, &i))) return 2;
            if (!hn_arg_int(cmd, o, v, 1, HN_BITS_MAX, &opts.input_bits))
                return 2;
        } else if (!strcmp(o, "--fc-bits")) {
            if (!(v = hn_arg_value(cmd, argc, argv, &i))) return 2;
            if (!hn_arg_int(cmd, o, v, 1, HN_BITS_FP, &opts.fc_wbits)) return 2;
        } else if (!strcmp(o, "--no-memory")) {
            opts.memory = false;
        } else if (!strcmp(o, "--include-fc")) {
            opts.include_fc = true;
        } else if (!strcmp(o, "--json")) {
            json = true;
        } else if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            fputs(k_usage, stdout);
            return 0;
        } else {
            fprintf(stderr, "hetnas bops: unknown option '%s'\n%s", o, k_usage);
            return 2;
        }
    }
    hn_arch *a = NULL;
    hn_config *c = NULL, *tc = NULL;
    hn_layer_cost *per = NULL;
    int rc = 1;
    if (hn_arch_resnet(&spec, &a) != HN_OK) {
        hn_arg_report(cmd);
        return 2;
    }
    if (!hn_arg_config_build(cmd, &cs, a, true, &c)) {
        if (!cs.path && !cs.have_homo && !cs.have_wm) fputs(k_usage, stderr);
        rc = 2;
        goto done;
    }
    int L = hn_arch_n_layers(a);
    int rows = L + (opts.include_fc ? 1 : 0);
    per = calloc((size_t)rows, sizeof *per);
    hn_layer_cost total, ttotal = {0};
    if (!per) {
        fprintf(stderr, "hetnas bops: out of memory\n");
        goto done;
    }
    hn_status st = hn_cost_network(a, c, &opts, per, &total);
    if (st != HN_OK) {
        rc = hn_arg_fail(cmd, st);
        goto done;
    }
    if (have_target) {
        st = hn_config_homogeneous(a, target, &tc);
        if (st == HN_OK) st = hn_cost_network(a, tc, &opts, NULL, &ttotal);
        if (st != HN_OK) {
            rc = hn_arg_fail(cmd, st);
            goto done;
        }
    }
    if (json) {
        hn_jw *w = hn_jw_new(0);
        if (!w) goto done;
        hn_jw_obj_begin(w);
        hn_arg_json_model(w, a);
        hn_jw_key(w, "layers");
        hn_jw_arr_begin(w);
        for (int l = 0; l < rows; l++) {
            hn_jw_obj_begin(w);
            hn_jw_key(w, "name");
            hn_jw_str(w, l < L ? hn_arch_layer(a, l)->name : "fc");
            json_cost(w, &per[l]);
            hn_jw_obj_end(w);
        }
        hn_jw_arr_end(w);
        hn_jw_key(w, "total");
        hn_jw_obj_begin(w);
        json_cost(w, &total);
        hn_jw_obj_end(w);
        if (have_target) {
            hn_jw_key(w, "target");
            hn_jw_obj_begin(w);
            hn_jw_key(w, "op");
            hn_jw_arr_begin(w);
            hn_jw_int(w, target.wbits);
            hn_jw_int(w, target.abits);
            hn_jw_arr_end(w);
            hn_jw_key(w, "bops");
            hn_jw_uint(w, ttotal.bops);
            hn_jw_key(w, "ratio");
            hn_jw_double(w, (double)total.bops / (double)ttotal.bops);
            hn_jw_obj_end(w);
        }
        hn_jw_obj_end(w);
        if (hn_jw_status(w) == HN_OK) {
            printf("%s\n", hn_jw_data(w, NULL));
            rc = 0;
        }
        hn_jw_free(w);
        goto done;
    }
    printf("%s, input %dx%dx%d, input bits %d, memory term %s%s\n",
           hn_arch_model_name(a), spec.in_c, spec.in_h, spec.in_w,
           opts.input_bits, opts.memory ? "on" : "off",
           opts.include_fc ? ", FC included" : "");
    printf("%-14s %12s %14s %12s %14s\n", "layer", "MACs", "BOPs compute",
           "BOPs memory", "BOPs");
    for (int l = 0; l < rows; l++)
        printf("%-14s %12" PRIu64 " %14" PRIu64 " %12" PRIu64 " %14" PRIu64
               "\n", l < L ? hn_arch_layer(a, l)->name : "fc", per[l].macs,
               per[l].bops_compute, per[l].bops_memory, per[l].bops);
    printf("%-14s %12" PRIu64 " %14" PRIu64 " %12" PRIu64 " %14" PRIu64 "\n",
           "total", total.macs, total.bops_compute, total.bops_memory,
           total.bops);
    printf("total: %.4f GMACs, %.4f GBOPs (compute %.4f + memory %.4f)\n",
           total.macs / 1e9, total.bops / 1e9, total.bops_compute / 1e9,
           total.bops_memory / 1e9);
    if (have_target)
        printf("target (%d,%d): %.4f GBOPs; ratio %.4f\n", target.wbits,
               target.abits, ttotal.bops / 1e9,
               (double)total.bops / (double)ttotal.bops);
    rc = 0;
done:
    free(per);
    hn_config_free(c);
    hn_config_free(tc);
    hn_arch_free(a);
    return rc;
}
