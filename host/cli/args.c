/* Option-parsing helpers shared by the subcommands. */
#include "cli/args.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/json.h"
#include "hetnas/status.h"

const char *hn_arg_value(const char *cmd, int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        fprintf(stderr, "hetnas %s: %s needs a value\n", cmd, argv[*i]);
        return NULL;
    }
    *i += 1;
    return argv[*i];
}

bool hn_arg_int(const char *cmd, const char *opt, const char *s, long lo,
                long hi, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno) {
        fprintf(stderr, "hetnas %s: %s: '%s' is not an integer\n", cmd, opt, s);
        return false;
    }
    if (v < lo || v > hi) {
        fprintf(stderr, "hetnas %s: %s: %ld is out of range %ld..%ld\n", cmd,
                opt, v, lo, hi);
        return false;
    }
    *out = (int)v;
    return true;
}

bool hn_arg_double(const char *cmd, const char *opt, const char *s, double lo,
                   double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v)) {
        fprintf(stderr, "hetnas %s: %s: '%s' is not a number\n", cmd, opt, s);
        return false;
    }
    if (v < lo || v > hi) {
        fprintf(stderr, "hetnas %s: %s: %g is out of range [%g, %g]\n", cmd,
                opt, v, lo, hi);
        return false;
    }
    *out = v;
    return true;
}

bool hn_arg_pair(const char *cmd, const char *opt, const char *s, int lo,
                 int hi, int *a, int *b) {
    const char *comma = strchr(s, ',');
    if (!comma) {
        fprintf(stderr, "hetnas %s: %s: expected two numbers 'A,B', got '%s'\n",
                cmd, opt, s);
        return false;
    }
    char first[32];
    size_t n = (size_t)(comma - s);
    if (n == 0 || n >= sizeof first) {
        fprintf(stderr, "hetnas %s: %s: expected 'A,B', got '%s'\n", cmd, opt,
                s);
        return false;
    }
    memcpy(first, s, n);
    first[n] = '\0';
    return hn_arg_int(cmd, opt, first, lo, hi, a) &&
           hn_arg_int(cmd, opt, comma + 1, lo, hi, b);
}

int hn_arg_exit_code(hn_status st) {
    switch (st) {
    case HN_OK: return 0;
    case HN_ERR_INVAL:
    case HN_ERR_PARSE:
    case HN_ERR_SCHEMA:
    case HN_ERR_RANGE:
    case HN_ERR_FORMAT:
    case HN_ERR_UNSUPPORTED:
    case HN_ERR_IO: return 2;
    case HN_ERR_NOMEM:
    case HN_ERR_TIMEOUT:
    case HN_ERR_INTERNAL: return 1;
    }
    return 1;
}

int hn_arg_fail(const char *cmd, hn_status st) {
    hn_arg_report(cmd);
    return hn_arg_exit_code(st);
}

void hn_arg_report(const char *cmd) {
    fprintf(stderr, "hetnas %s: %s\n", cmd, hn_error_msg());
}

int hn_arg_model(const char *cmd, int argc, char **argv, int *i,
                 hn_resnet_spec *spec, bool *model_given) {
    const char *o = argv[*i], *v;
    if (!strcmp(o, "--model")) {
        if (!(v = hn_arg_value(cmd, argc, argv, i))) return -1;
        if (hn_resnet_spec_set_model(spec, v) != HN_OK) {
            hn_arg_report(cmd);
            return -1;
        }
        if (model_given) *model_given = true;
        return 1;
    }
    if (!strcmp(o, "--depth")) {
        if (!(v = hn_arg_value(cmd, argc, argv, i))) return -1;
        if (!hn_arg_int(cmd, o, v, 8, 1202, &spec->depth)) return -1;
        if ((spec->depth - 2) % 6) {
            fprintf(stderr, "hetnas %s: --depth %d: must be 6n+2 (8, 14, 20, "
                    "...)\n", cmd, spec->depth);
            return -1;
        }
        return 1;
    }
    if (!strcmp(o, "--input")) {
        if (!(v = hn_arg_value(cmd, argc, argv, i))) return -1;
        if (hn_parse_input_shape(v, &spec->in_c, &spec->in_h, &spec->in_w) !=
            HN_OK) {
            hn_arg_report(cmd);
            return -1;
        }
        return 1;
    }
    if (!strcmp(o, "--width")) {
        if (!(v = hn_arg_value(cmd, argc, argv, i))) return -1;
        return hn_arg_double(cmd, o, v, 1e-3, 64.0, &spec->width) ? 1 : -1;
    }
    if (!strcmp(o, "--classes")) {
        if (!(v = hn_arg_value(cmd, argc, argv, i))) return -1;
        return hn_arg_int(cmd, o, v, 1, 1000000, &spec->num_classes) ? 1 : -1;
    }
    return 0;
}

int hn_arg_config(const char *cmd, int argc, char **argv, int *i,
                  hn_arg_cfg *c) {
    const char *o = argv[*i], *v;
    if (!strcmp(o, "--config")) {
        if (!(c->path = hn_arg_value(cmd, argc, argv, i))) return -1;
        return 1;
    }
    if (!strcmp(o, "--homogeneous")) {
        if (!(v = hn_arg_value(cmd, argc, argv, i))) return -1;
        if (!hn_arg_pair(cmd, o, v, 1, HN_BITS_MAX, &c->homo.wbits,
                         &c->homo.abits))
            return -1;
        c->have_homo = true;
        return 1;
    }
    if (!strcmp(o, "--width-mult")) {
        if (!(v = hn_arg_value(cmd, argc, argv, i))) return -1;
        if (!hn_arg_double(cmd, o, v, 1e-9, 1.0, &c->wm)) return -1;
        c->have_wm = true;
        return 1;
    }
    return 0;
}

bool hn_arg_config_build(const char *cmd, const hn_arg_cfg *c,
                         const hn_arch *a, bool allow_wm, hn_config **out) {
    *out = NULL;
    if (c->have_wm && !allow_wm) {
        fprintf(stderr, "hetnas %s: --width-mult is not supported here\n", cmd);
        return false;
    }
    if (!c->path && !c->have_homo && !c->have_wm) {
        fprintf(stderr, "hetnas %s: give --config FILE or --homogeneous "
                "BW,BA%s\n", cmd, allow_wm ? " or --width-mult R" : "");
        return false;
    }
    if (c->path && (c->have_homo || c->have_wm)) {
        fprintf(stderr, "hetnas %s: --config cannot be combined with "
                "--homogeneous or --width-mult\n", cmd);
        return false;
    }
    hn_status st;
    if (c->path) {
        st = hn_config_load(c->path, a, out);
    } else {
        hn_op op = c->have_homo ? c->homo : (hn_op){HN_BITS_FP, HN_BITS_FP};
        st = c->have_wm ? hn_config_width_mult(a, c->wm, op, out)
                        : hn_config_homogeneous(a, op, out);
    }
    if (st != HN_OK) {
        hn_arg_report(cmd);
        return false;
    }
    return true;
}

void hn_arg_json_model(hn_jw *w, const hn_arch *a) {
    const hn_resnet_spec *sp = hn_arch_spec(a);
    hn_jw_key(w, "model");
    hn_jw_str(w, hn_arch_model_name(a));
    hn_jw_key(w, "input");
    hn_jw_arr_begin(w);
    hn_jw_int(w, sp->in_c);
    hn_jw_int(w, sp->in_h);
    hn_jw_int(w, sp->in_w);
    hn_jw_arr_end(w);
}

int hn_arg_experiment(const char *cmd, const char *usage, int argc, char **argv,
                      int *i, const char **exp_path, const char **sets,
                      int *n_sets) {
    const char *a = argv[*i];
    if (!strcmp(a, "--set")) {
        const char *v = hn_arg_value(cmd, argc, argv, i);
        if (!v) return 2;
        if (*n_sets == HN_ARG_MAX_SETS) {
            fprintf(stderr, "hetnas %s: at most %d --set\n", cmd, HN_ARG_MAX_SETS);
            return 2;
        }
        sets[(*n_sets)++] = v;
        return 0;
    }
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
        fputs(usage, stdout);
        return HN_ARG_HELP;
    }
    if (a[0] == '-') {
        fprintf(stderr, "hetnas %s: unknown option '%s'\n%s", cmd, a, usage);
        return 2;
    }
    if (*exp_path) {
        fprintf(stderr, "hetnas %s: one experiment file, got '%s' and '%s'\n",
                cmd, *exp_path, a);
        return 2;
    }
    *exp_path = a;
    return 0;
}
