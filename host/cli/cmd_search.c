/* hetnas search: the configuration search (search.h, docs/search.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "hetnas/experiment.h"
#include "hetnas/search.h"

static const char *k_search_usage =
    "usage: hetnas search EXP.yaml [--set key=value]... [--out DIR] [--resume]\n"
    "                     [--progress|--no-progress] [--quiet]\n"
    "Searches per-filter bit widths (search.algorithm c1) or per-layer filter\n"
    "counts (c2..c5) under a complexity target (the experiment's `search`\n"
    "section, docs/search.md), the distribution trained by the score-function\n"
    "estimator.  Ends with the expected configuration and search.final_samples\n"
    "sampled ones trained, validated and tested once.  --resume continues a\n"
    "killed search exactly.  Pruning searches run their samples over MPI\n"
    "ranks under `mpirun -np N hetnas search ...` with identical results.\n";

int hn_cmd_search(int argc, char **argv) {
    const char *cmd = "search", *exp_path = NULL;
    const char *sets[HN_ARG_MAX_SETS];
    int n_sets = 0;
    hn_search_opts o = hn_search_opts_default();
    o.argc = argc;
    o.argv = argv;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--out")) {
            if (!(o.run_dir = hn_arg_value(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--resume")) {
            o.mode = HN_RUNDIR_RESUME;
        } else if (!strcmp(a, "--progress")) {
            o.progress = 1;
        } else if (!strcmp(a, "--no-progress")) {
            o.progress = 0;
        } else if (!strcmp(a, "--quiet")) {
            o.quiet = true;
        } else {
            int rc = hn_arg_experiment(cmd, k_search_usage, argc, argv, &i,
                                       &exp_path, sets, &n_sets);
            if (rc) return rc == HN_ARG_HELP ? 0 : rc;
        }
    }
    if (!exp_path) {
        fprintf(stderr, "hetnas search: give an experiment file\n%s", k_search_usage);
        return 2;
    }
    hn_experiment e;
    hn_status st = hn_experiment_load(exp_path, sets, n_sets, &e);
    if (st == HN_OK) st = hn_search_validate(&e);
    if (st != HN_OK) {
        hn_experiment_clear(&e);
        return hn_arg_fail(cmd, st);
    }
    hn_search_result *r = calloc(1, sizeof *r);
    if (!r) {
        hn_experiment_clear(&e);
        fprintf(stderr, "hetnas search: out of memory\n");
        return 1;
    }
    st = hn_search_run(&e, &o, r);
    hn_experiment_clear(&e);
    if (st != HN_OK) {
        hn_arg_report(cmd);
        int rc = r->iterations > 0 ? 1 : hn_arg_exit_code(st);
        free(r);
        return rc;
    }
    if (!o.quiet && r->mpi_rank == 0) {
        printf("search %s: %d iterations, %.1f s\n", r->run_dir, r->iterations,
               r->seconds);
        printf("%-12s %12s %8s %7s %9s %7s  %s\n", "config", "cost", "x target",
               "val %", "vs line", "test %", "file");
        for (int i = 0; i < r->n_found; i++) {
            const hn_search_found *f = &r->found[i];
            char vs[16] = "-";
            if (!f->homogeneous && !isnan(f->line_val_acc))
                snprintf(vs, sizeof vs, "%+.2f", 100 * (f->val_acc - f->line_val_acc));
            printf("%-12s %12.6g %8.3f %7.2f %9s %7.2f  %s\n", f->name, f->cost,
                   f->cost_ratio, 100 * f->val_acc, vs, 100 * f->test_acc,
                   f->config_path);
        }
        printf("vs line: validation accuracy minus the homogeneous configurations'\n"
               "(same fine-tuning) interpolated at equal cost; one training each,\n"
               "so differences of a few tenths are within noise (docs/search.md).\n");
        printf("target cost %.6g; per-step logs: %s/steps.csv, alpha.csv, "
               "log.jsonl\n", r->target_cost, r->run_dir);
    }
    free(r);
    return 0;
}
