/* hetnas: command-line entry point; dispatches to one file per subcommand. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "hetnas/log.h"
#include "hetnas/threads.h"

static const hn_cmd k_cmds[] = {
    {"layers", hn_cmd_layers, "list the searchable layers of a model"},
    {"bops", hn_cmd_bops, "MACs and BOPs of a network configuration"},
    {"train", hn_cmd_train, "train an experiment (YAML) into a run directory"},
    {"eval", hn_cmd_eval, "accuracy of a checkpoint on the val or test split"},
    {"grid", hn_cmd_grid, "grid study: configurations x seeds, statistics (MPI)"},
    {"import", hn_cmd_import, "import a PyTorch ResNet state_dict (safetensors)"},
    {"search", hn_cmd_search, "search per-filter bit widths under a complexity target"},
    {"hw", hn_cmd_hw, "run a conv job on the hardware models; hardware cost report"},
};
static const int k_n_cmds = (int)(sizeof k_cmds / sizeof k_cmds[0]);

static void usage(FILE *f) {
    fprintf(f,
            "usage: hetnas [--log-level L] <command> [options]\n"
            "       hetnas <command> --help\n\ncommands:\n");
    for (int i = 0; i < k_n_cmds; i++)
        fprintf(f, "  %-10s %s\n", k_cmds[i].name, k_cmds[i].summary);
}

static int dispatch(int argc, char **argv) {
    int i = 1;
    while (i < argc && argv[i][0] == '-') {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("hetnas %s\n", HN_VERSION);
            return 0;
        }
        if (!strcmp(argv[i], "--log-level") && i + 1 < argc) {
            int lvl = hn_log_level_parse(argv[i + 1]);
            if (lvl < 0) {
                fprintf(stderr, "hetnas: --log-level: unknown level '%s' "
                        "(debug|info|warn|error|quiet)\n", argv[i + 1]);
                return 2;
            }
            hn_log_set_level((hn_log_level)lvl);
            i += 2;
            continue;
        }
        fprintf(stderr, "hetnas: unknown option '%s'\n", argv[i]);
        usage(stderr);
        return 2;
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    for (int c = 0; c < k_n_cmds; c++)
        if (!strcmp(argv[i], k_cmds[c].name))
            return k_cmds[c].fn(argc - i, argv + i);
    fprintf(stderr, "hetnas: unknown command '%s'\n", argv[i]);
    usage(stderr);
    return 2;
}

/* libgomp reads its wait policy when it is loaded, before main: to give it
 * the spin count that suits shared machines (threads.h), set the variable
 * and run this program again.  The user's own OMP_WAIT_POLICY or
 * GOMP_SPINCOUNT wins; if exec fails the run goes on untuned. */
static void reexec_tuned(char **argv) {
    if (!hn_threads_tune_env()) return;
    execv("/proc/self/exe", argv);
}

/* Output that never reached its destination (a full disk, a closed pipe,
 * /dev/full) is a failure: stdio only reports it at flush/close time. */
int main(int argc, char **argv) {
    reexec_tuned(argv);
    int rc = dispatch(argc, argv);
    errno = 0;
    bool bad = fflush(stdout) != 0 || ferror(stdout);
    int err = errno;
    if (fclose(stdout) != 0 && !bad) {
        bad = true;
        err = errno;
    }
    if (bad) {
        fprintf(stderr, "hetnas: cannot write to standard output: %s\n",
                err ? strerror(err) : "write error");
        if (rc == 0) rc = 1;
    }
    return rc;
}
