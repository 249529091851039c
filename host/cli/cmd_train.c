/* hetnas train / hetnas eval: training runs and checkpoint evaluation. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "hetnas/arch.h"
#include "hetnas/experiment.h"
#include "hetnas/json.h"
#include "hetnas/intnet.h"
#include "hetnas/trainer.h"

static const char *k_train_usage =
    "usage: hetnas train EXP.yaml [--set key=value]... [--out DIR] [--resume]\n"
    "                    [--init CK.safetensors] [--progress|--no-progress] [--quiet]\n"
    "Trains the experiment's model into a run directory (default\n"
    "<out>/<name>, see docs/experiment.md): per-epoch validation on the\n"
    "held-out split, checkpoints, early stopping, and the test set once at the\n"
    "end on the best checkpoint.  --resume continues a killed run exactly.\n";

int hn_cmd_train(int argc, char **argv) {
    const char *cmd = "train", *exp_path = NULL;
    const char *sets[HN_ARG_MAX_SETS];
    int n_sets = 0;
    hn_train_opts o = hn_train_opts_default();
    o.argc = argc;
    o.argv = argv;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--out")) {
            if (!(o.run_dir = hn_arg_value(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--init")) {
            if (!(o.init_ckpt = hn_arg_value(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--resume")) {
            o.mode = HN_RUNDIR_RESUME;
        } else if (!strcmp(a, "--progress")) {
            o.progress = 1;
        } else if (!strcmp(a, "--no-progress")) {
            o.progress = 0;
        } else if (!strcmp(a, "--quiet")) {
            o.quiet = true;
        } else {
            int rc = hn_arg_experiment(cmd, k_train_usage, argc, argv, &i, &exp_path,
                                sets, &n_sets);
            if (rc) return rc == HN_ARG_HELP ? 0 : rc;
        }
    }
    if (!exp_path) {
        fprintf(stderr, "hetnas train: give an experiment file\n%s",
                k_train_usage);
        return 2;
    }
    hn_experiment e;
    if (hn_experiment_load(exp_path, sets, n_sets, &e) != HN_OK) {
        hn_arg_report(cmd);
        return 2;
    }
    hn_train_result r;
    hn_status st = hn_train_run(&e, &o, &r);
    hn_experiment_clear(&e);
    if (st != HN_OK) {
        hn_arg_report(cmd);
        return r.started ? 1 : hn_arg_exit_code(st);
    }
    printf("run %s: %d epochs, best val acc %.2f%% (epoch %d), test acc "
           "%.2f%%%s, %.1f s\n", r.run_dir, r.epochs, 100 * r.best_val_acc,
           r.best_epoch, 100 * r.test_acc,
           r.early_stopped ? " (early stop)" : "", r.wall_s);
    return 0;
}

static const char *k_eval_usage =
    "usage: hetnas eval EXP.yaml --checkpoint CK [--config FILE]\n"
    "                   [--split val|test] [--set key=value]... [--json]\n"
    "                   [--backend cpu|ref|csim] [--limit N]\n"
    "Accuracy and loss of a checkpoint on the validation split (default) or\n"
    "the test set.  --config switches the network configuration first.\n"
    "--backend ref|csim also runs the integer network (docs/nn.md) on the same\n"
    "images and reports its accuracy and its agreement with the fake-quant\n"
    "float model (top-1 agreement, max |logit difference|).  --limit N: the\n"
    "first N samples only.\n";

/* The integer backend run next to the float model, batch by batch. */
typedef struct int_eval {
    hn_intnet_conv_fn conv;
    hn_intnet *net;
    uint8_t *codes;
    float *logits;
    int cap, classes;
    long n, correct, agree;
    double max_dz;
} int_eval;

static hn_status int_eval_batch(hn_model *m, const float *x, const int *labels,
                                int n, const float *zf, void *ud) {
    int_eval *ie = ud;
    const hn_resnet_spec *sp = hn_arch_spec(hn_model_arch(m));
    int C = sp->in_c, HW = sp->in_h * sp->in_w;
    if (!ie->net) { /* the model is configured (and BN recalibrated) now */
        hn_intnet_opts o = hn_intnet_opts_default();
        o.conv = ie->conv;
        HN_TRY(hn_intnet_new(m, &o, &ie->net));
        ie->classes = sp->num_classes;
    }
    if (n > ie->cap) {
        free(ie->codes); free(ie->logits);
        ie->codes = malloc((size_t)n * C * HW);
        ie->logits = malloc(sizeof(float) * (size_t)n * ie->classes);
        if (!ie->codes || !ie->logits) return hn_fail(HN_ERR_NOMEM, "eval");
        ie->cap = n;
    }
    float mean[4], std[4];
    if (!hn_model_input_norm(m, mean, std))
        return hn_fail(HN_ERR_INVAL, "eval: the model has no 8-bit input");
    hn_intnet_codes_from_norm(x, n, C, HW, mean, std, ie->codes);
    HN_TRY(hn_intnet_forward(ie->net, ie->codes, n, ie->logits));
    int K = ie->classes;
    for (int i = 0; i < n; i++) {
        const float *a = zf + (size_t)i * K, *b = ie->logits + (size_t)i * K;
        int af = 0, ai = 0;
        for (int k = 0; k < K; k++) {
            if (a[k] > a[af]) af = k;
            if (b[k] > b[ai]) ai = k;
            double d = fabs((double)a[k] - b[k]);
            if (d > ie->max_dz) ie->max_dz = d;
        }
        ie->agree += af == ai;
        ie->correct += ai == labels[i];
    }
    ie->n += n;
    return HN_OK;
}

int hn_cmd_eval(int argc, char **argv) {
    const char *cmd = "eval", *exp_path = NULL, *ckpt = NULL, *cfg = NULL;
    const char *split = "val", *backend = "cpu";
    long limit = 0;
    const char *sets[HN_ARG_MAX_SETS];
    int n_sets = 0;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--checkpoint")) {
            if (!(ckpt = hn_arg_value(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--config")) {
            if (!(cfg = hn_arg_value(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--split")) {
            if (!(split = hn_arg_value(cmd, argc, argv, &i))) return 2;
            if (strcmp(split, "val") && strcmp(split, "test")) {
                fprintf(stderr, "hetnas eval: --split: expected val or test, "
                        "got '%s'\n", split);
                return 2;
            }
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--backend")) {
            if (!(backend = hn_arg_value(cmd, argc, argv, &i))) return 2;
            if (strcmp(backend, "cpu") && strcmp(backend, "ref") &&
                strcmp(backend, "csim")) {
                fprintf(stderr, "hetnas eval: --backend: expected cpu, ref or "
                        "csim, got '%s'\n", backend);
                return 2;
            }
        } else if (!strcmp(a, "--limit")) {
            const char *v;
            if (!(v = hn_arg_value(cmd, argc, argv, &i))) return 2;
            char *end;
            limit = strtol(v, &end, 10);
            if (*end || limit < 1) {
                fprintf(stderr, "hetnas eval: --limit: expected a positive "
                        "integer, got '%s'\n", v);
                return 2;
            }
        } else {
            int rc = hn_arg_experiment(cmd, k_eval_usage, argc, argv, &i, &exp_path,
                                sets, &n_sets);
            if (rc) return rc == HN_ARG_HELP ? 0 : rc;
        }
    }
    if (!exp_path || !ckpt) {
        fprintf(stderr, "hetnas eval: give an experiment file and "
                "--checkpoint\n%s", k_eval_usage);
        return 2;
    }
    hn_experiment e;
    if (hn_experiment_load(exp_path, sets, n_sets, &e) != HN_OK) {
        hn_arg_report(cmd);
        return 2;
    }
    hn_eval_result r;
    int_eval ie;
    memset(&ie, 0, sizeof ie);
    bool integer = strcmp(backend, "cpu") != 0;
    ie.conv = !strcmp(backend, "csim") ? hn_intnet_conv_csim : hn_intnet_conv_ref;
    hn_eval_opts eo = {integer ? int_eval_batch : NULL, &ie, limit};
    hn_status st = hn_eval_checkpoint_ex(&e, ckpt, cfg, split, &eo, &r);
    hn_experiment_clear(&e);
    hn_intnet_free(ie.net);
    free(ie.codes);
    free(ie.logits);
    if (st != HN_OK) return hn_arg_fail(cmd, st);
    double iacc = ie.n ? (double)ie.correct / ie.n : 0.0;
    double agree = ie.n ? (double)ie.agree / ie.n : 0.0;
    if (json) {
        /* the JSON writer turns a non-finite value into null */
        hn_jw *w = hn_jw_new(0);
        if (!w) {
            fprintf(stderr, "hetnas eval: out of memory\n");
            return 1;
        }
        hn_jw_obj_begin(w);
        hn_jw_key(w, "split");
        hn_jw_str(w, split);
        hn_jw_key(w, "samples");
        hn_jw_int(w, r.n);
        hn_jw_key(w, "acc");
        hn_jw_double(w, r.acc);
        hn_jw_key(w, "loss");
        hn_jw_double(w, r.loss);
        if (integer) {
            hn_jw_key(w, "backend");
            hn_jw_str(w, backend);
            hn_jw_key(w, "int_acc");
            hn_jw_double(w, iacc);
            hn_jw_key(w, "agreement");
            hn_jw_double(w, agree);
            hn_jw_key(w, "max_logit_diff");
            hn_jw_double(w, ie.max_dz);
        }
        hn_jw_obj_end(w);
        printf("%s\n", hn_jw_data(w, NULL));
        hn_jw_free(w);
    } else {
        printf("%s: %d samples, top-1 %.2f%%, loss %.4f\n", split, r.n,
               100 * r.acc, r.loss);
        if (integer)
            printf("%s (integer): top-1 %.2f%%, agreement with the float model "
                   "%.2f%% (%ld/%ld), max |logit difference| %.4g\n", backend,
                   100 * iacc, 100 * agree, ie.agree, ie.n, ie.max_dz);
    }
    return 0;
}
