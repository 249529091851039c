/* hetnas train: training runs (hetnas eval is cmd_eval.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "hetnas/arch.h"
#include "hetnas/experiment.h"
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
