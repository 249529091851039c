/* hetnas import: a full-precision CIFAR ResNet state_dict saved with the
 * safetensors package from PyTorch -> a hetnas checkpoint, so a search or a
 * quantized training can start from a pretrained model (--init / init:). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "hetnas/checkpoint.h"
#include "hetnas/nn.h"

static const char *k_usage =
    "usage: hetnas import IN.safetensors --out OUT.safetensors [--model resnet20]\n"
    "                     [--depth N] [--input 3x32x32] [--width 1] [--classes 10]\n"
    "Imports a PyTorch CIFAR ResNet state_dict (torchvision-style names:\n"
    "conv1, bn1, layerS.B.conv1/bn1/conv2/bn2, layerS.B.downsample.0/1, fc; the\n"
    "aliases linear.* and layerS.B.shortcut.0/1 are accepted).  A model with\n"
    "parameter-free 'option A' shortcuts (no downsample tensors) is imported\n"
    "with 1x1 stride-2 projections that compute exactly the same function.\n"
    "See docs/checkpoints.md.\n";

/* Our name -> the alias some CIFAR ResNet codebases use ("" if none). */
static void alias_of(const char *name, char *out, size_t cap) {
    const char *p;
    out[0] = '\0';
    if (!strncmp(name, "fc.", 3)) {
        snprintf(out, cap, "linear.%s", name + 3);
    } else if ((p = strstr(name, ".downsample."))) {
        snprintf(out, cap, "%.*s.shortcut.%s", (int)(p - name), name,
                 p + strlen(".downsample."));
    }
}

static const hn_ckpt_tensor *find(const hn_ckpt *c, const char *name,
                                  const char **used) {
    const hn_ckpt_tensor *t = hn_ckpt_find(c, name);
    *used = name;
    if (t) return t;
    static char alias[256];
    alias_of(name, alias, sizeof alias);
    if (alias[0] && (t = hn_ckpt_find(c, alias))) *used = alias;
    return t;
}

/* Option-A shortcut (x[:, :, ::2, ::2] zero-padded by c_out/4 channels on
 * each side, He et al. 2016) as a 1x1 stride-2 conv + identity BN. */
static void option_a(hn_model *m, const char *conv, const char *bn) {
    char name[256];
    snprintf(name, sizeof name, "%s.weight", conv);
    hn_param w = hn_model_param(m, hn_model_find_param(m, name));
    int co = w.shape[0], ci = w.shape[1], pad = co / 4;
    memset(w.data, 0, w.numel * sizeof(float));
    for (int c = 0; c < ci && c + pad < co; c++)
        w.data[(size_t)(c + pad) * ci + c] = 1.0f;
    const char *sfx[4] = {".weight", ".bias", ".running_mean", ".running_var"};
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "%s%s", bn, sfx[i]);
        hn_param p = hn_model_param(m, hn_model_find_param(m, name));
        /* gamma 1, beta 0, mean 0, var 1 - eps: (x - 0) / sqrt(var + eps) = x */
        float v = i == 0 ? 1.0f : i == 3 ? 1.0f - 1e-5f : 0.0f;
        for (size_t k = 0; k < p.numel; k++) p.data[k] = v;
    }
}

int hn_cmd_import(int argc, char **argv) {
    const char *cmd = "import", *in = NULL, *out = NULL;
    hn_resnet_spec spec = hn_resnet_spec_default();
    for (int i = 1; i < argc; i++) {
        int r = hn_arg_model(cmd, argc, argv, &i, &spec, NULL);
        if (r < 0) return 2;
        if (r > 0) continue;
        if (!strcmp(argv[i], "--out")) {
            if (!(out = hn_arg_value(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(k_usage, stdout);
            return 0;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "hetnas import: unknown option '%s'\n%s", argv[i],
                    k_usage);
            return 2;
        } else if (!in) {
            in = argv[i];
        } else {
            fprintf(stderr, "hetnas import: one input file, got '%s' and '%s'\n",
                    in, argv[i]);
            return 2;
        }
    }
    if (!in || !out) {
        fprintf(stderr, "hetnas import: give IN.safetensors and --out\n%s",
                k_usage);
        return 2;
    }
    /* The output is written over an existing file: never over the input
     * (a failed or partial import would then have destroyed it). */
    struct stat si, so;
    if (stat(in, &si) == 0 && stat(out, &so) == 0 && si.st_dev == so.st_dev &&
        si.st_ino == so.st_ino) {
        fprintf(stderr, "hetnas import: --out %s is the input file %s; write "
                "the import to another file\n", out, in);
        return 2;
    }
    hn_arch *a = NULL;
    hn_model *m = NULL;
    hn_ckpt *c = NULL;
    hn_ckpt_writer *w = NULL;
    bool *used = NULL;
    int rc = 2;
    if (hn_arch_resnet(&spec, &a) != HN_OK) {
        hn_arg_report(cmd);
        goto done;
    }
    hn_model_opts mo = hn_model_opts_default();
    hn_status st = hn_model_new(a, NULL, &mo, &m);
    if (st == HN_OK) st = hn_ckpt_load(in, &c);
    if (st != HN_OK) {
        rc = hn_arg_fail(cmd, st);
        goto done;
    }
    used = calloc((size_t)hn_ckpt_n_tensors(c), sizeof *used);
    if (!used) goto done;
    int np = hn_model_n_params(m), loaded = 0, synthesized = 0;
    for (int i = 0; i < np; i++) {
        hn_param p = hn_model_param(m, i);
        if (p.kind == HN_PARAM_CLAMP) continue; /* quantizer state: ours */
        const char *src;
        const hn_ckpt_tensor *t = find(c, p.name, &src);
        if (!t) {
            const char *ds = strstr(p.name, ".downsample.");
            char conv[128], bn[128], probe[256];
            if (ds) {
                int stem = (int)(ds - p.name);
                snprintf(conv, sizeof conv, "%.*s.downsample.0", stem, p.name);
                snprintf(bn, sizeof bn, "%.*s.downsample.1", stem, p.name);
                snprintf(probe, sizeof probe, "%s.weight", conv);
                const char *u;
                if (!find(c, probe, &u)) {
                    /* Whole projection absent: an option-A model. Synthesize
                     * once, at its conv weight. */
                    if (strstr(p.name, ".downsample.0.weight")) {
                        option_a(m, conv, bn);
                        synthesized++;
                    }
                    continue;
                }
            }
            fprintf(stderr, "hetnas import: %s: tensor '%s' is missing (is the "
                    "file for another model? this is %s, input %dx%dx%d, %d "
                    "classes)\n", in, p.name, hn_arch_model_name(a), spec.in_c,
                    spec.in_h, spec.in_w, spec.num_classes);
            goto done;
        }
        int64_t shape[6];
        for (int d = 0; d < p.ndim; d++) shape[d] = p.shape[d];
        if (hn_ckpt_get(c, src, HN_DT_F32, p.ndim, shape, p.data) != HN_OK) {
            hn_arg_report(cmd);
            goto done;
        }
        used[t - hn_ckpt_tensor_at(c, 0)] = true;
        loaded++;
    }
    for (int i = 0; i < hn_ckpt_n_tensors(c); i++) {
        const hn_ckpt_tensor *t = hn_ckpt_tensor_at(c, i);
        if (used[i] || strstr(t->name, "num_batches_tracked")) continue;
        fprintf(stderr, "hetnas import: %s: unexpected tensor '%s' (is the file "
                "for another depth or width? this is %s)\n", in, t->name,
                hn_arch_model_name(a));
        goto done;
    }
    rc = 1;
    w = hn_ckpt_writer_new();
    if (!w || hn_ckpt_writer_add_model(w, m) != HN_OK ||
        hn_ckpt_writer_meta(w, "format", "hetnas-import-1") != HN_OK ||
        hn_ckpt_writer_meta(w, "source", in) != HN_OK ||
        hn_ckpt_writer_meta(w, "model", hn_arch_model_name(a)) != HN_OK ||
        hn_ckpt_writer_save(w, out, true) != HN_OK) {
        hn_arg_report(cmd);
        goto done;
    }
    printf("imported %d tensors from %s into %s (%s)%s\n", loaded, in, out,
           hn_arch_model_name(a),
           synthesized ? "; option-A shortcuts as exact 1x1 projections" : "");
    rc = 0;
done:
    free(used);
    hn_ckpt_writer_free(w);
    hn_ckpt_free(c);
    hn_model_free(m);
    hn_arch_free(a);
    return rc;
}
