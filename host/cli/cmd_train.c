/* hetnas train / hetnas eval: training runs and checkpoint evaluation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "hetnas/experiment.h"
#include "hetnas/json.h"
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
    "Accuracy and loss of a checkpoint on the validation split (default) or\n"
    "the test set.  --config switches the network configuration first.\n";

int hn_cmd_eval(int argc, char **argv) {
    const char *cmd = "eval", *exp_path = NULL, *ckpt = NULL, *cfg = NULL;
    const char *split = "val";
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
    hn_status st = hn_eval_checkpoint(&e, ckpt, cfg, split, &r);
    hn_experiment_clear(&e);
    if (st != HN_OK) return hn_arg_fail(cmd, st);
    if (json) {
        /* the JSON writer turns a non-finite loss into null */
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
        hn_jw_obj_end(w);
        printf("%s\n", hn_jw_data(w, NULL));
        hn_jw_free(w);
    } else
        printf("%s: %d samples, top-1 %.2f%%, loss %.4f\n", split, r.n,
               100 * r.acc, r.loss);
    return 0;
}
