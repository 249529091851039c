/* hetnas layers: the canonical searchable layers of a model. */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "hetnas/arch.h"
#include "hetnas/json.h"

static const char *k_usage =
    "usage: hetnas layers [--model resnet20] [--depth N] [--input CxHxW]\n"
    "                     [--width M] [--classes N] [--json]\n"
    "Lists the searchable conv layers in canonical order (the row order of\n"
    "configuration files).  Defaults: resnet20, 3x32x32, width 1.\n";

static const char *role_name(hn_layer_role r) {
    static const char *n[] = {"stem", "conv1", "conv2", "down"};
    return n[r];
}

int hn_cmd_layers(int argc, char **argv) {
    const char *cmd = "layers";
    hn_resnet_spec spec = hn_resnet_spec_default();
    bool json = false;
    for (int i = 1; i < argc; i++) {
        int r = hn_arg_model(cmd, argc, argv, &i, &spec, NULL);
        if (r < 0) return 2;
        if (r > 0) continue;
        if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(k_usage, stdout);
            return 0;
        } else {
            fprintf(stderr, "hetnas layers: unknown option '%s'\n%s", argv[i],
                    k_usage);
            return 2;
        }
    }
    hn_arch *a;
    if (hn_arch_resnet(&spec, &a) != HN_OK) {
        hn_arg_report(cmd);
        return 2;
    }
    int L = hn_arch_n_layers(a);
    if (json) {
        hn_jw *w = hn_jw_new(0);
        if (!w) {
            hn_arch_free(a);
            fprintf(stderr, "hetnas layers: out of memory\n");
            return 1;
        }
        hn_jw_obj_begin(w);
        hn_arg_json_model(w, a);
        hn_jw_key(w, "layers");
        hn_jw_arr_begin(w);
        for (int l = 0; l < L; l++) {
            const hn_layer_desc *d = hn_arch_layer(a, l);
            hn_jw_obj_begin(w);
            hn_jw_key(w, "name");
            hn_jw_str(w, d->name);
            hn_jw_key(w, "role");
            hn_jw_str(w, role_name(d->role));
            hn_jw_key(w, "c_in");
            hn_jw_int(w, d->c_in);
            hn_jw_key(w, "c_out");
            hn_jw_int(w, d->c_out);
            hn_jw_key(w, "k");
            hn_jw_int(w, d->k);
            hn_jw_key(w, "stride");
            hn_jw_int(w, d->stride);
            hn_jw_key(w, "padding");
            hn_jw_int(w, d->pad);
            hn_jw_key(w, "in_h");
            hn_jw_int(w, d->in_h);
            hn_jw_key(w, "in_w");
            hn_jw_int(w, d->in_w);
            hn_jw_key(w, "out_h");
            hn_jw_int(w, d->out_h);
            hn_jw_key(w, "out_w");
            hn_jw_int(w, d->out_w);
            hn_jw_obj_end(w);
        }
        hn_jw_arr_end(w);
        hn_jw_obj_end(w);
        int rc = hn_jw_status(w) == HN_OK ? 0 : 1;
        if (rc == 0) printf("%s\n", hn_jw_data(w, NULL));
        hn_jw_free(w);
        hn_arch_free(a);
        return rc;
    }
    printf("%s, input %dx%dx%d, %d searchable layers\n",
           hn_arch_model_name(a), spec.in_c, spec.in_h, spec.in_w, L);
    printf("%3s  %-14s %5s %5s %2s %6s %3s  %-9s\n", "#", "name", "c_in",
           "c_out", "k", "stride", "pad", "out HxW");
    for (int l = 0; l < L; l++) {
        const hn_layer_desc *d = hn_arch_layer(a, l);
        char hw[24];
        snprintf(hw, sizeof hw, "%dx%d", d->out_h, d->out_w);
        printf("%3d  %-14s %5d %5d %2d %6d %3d  %-9s\n", l, d->name, d->c_in,
               d->c_out, d->k, d->stride, d->pad, hw);
    }
    hn_arch_free(a);
    return 0;
}
