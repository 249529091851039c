/* Small helpers for the subcommands' option parsing.  They print a message
 * naming the command and the option and return false on bad input; the
 * command then returns exit code 2. */
#ifndef HN_CLI_ARGS_H
#define HN_CLI_ARGS_H

#include <stdbool.h>

#include "hetnas/arch.h"
#include "hetnas/config.h"

/* Value of option argv[*i] (advances *i), or NULL + message if missing. */
const char *hn_arg_value(const char *cmd, int argc, char **argv, int *i);
bool hn_arg_int(const char *cmd, const char *opt, const char *s, long lo,
                long hi, int *out);
bool hn_arg_double(const char *cmd, const char *opt, const char *s, double lo,
                   double hi, double *out);
/* "A,B" with both in [lo, hi]. */
bool hn_arg_pair(const char *cmd, const char *opt, const char *s, int lo,
                 int hi, int *a, int *b);
/* Prints "hetnas <cmd>: <hn_error_msg()>" for a failed library call. */
void hn_arg_report(const char *cmd);
/* The exit code of a library call that failed before the command started
 * its work (docs/cli.md, "Exit codes"): 2 = bad input, i.e. a named file,
 * directory, option or key that is missing, unreadable, malformed or out
 * of range (HN_ERR_INVAL, IO, PARSE, SCHEMA, RANGE, FORMAT, UNSUPPORTED);
 * 1 = the machine failed (HN_ERR_NOMEM, TIMEOUT, INTERNAL).  Failures
 * after the work started (a write, a diverging training) exit 1 whatever
 * their status: the command decides that. */
int hn_arg_exit_code(hn_status st);
/* hn_arg_report + hn_arg_exit_code. */
int hn_arg_fail(const char *cmd, hn_status st);

/* What the experiment commands (train, eval, search) share: --set, --help,
 * unknown options and the one experiment path.  Returns 0 when argv[*i] was
 * handled, otherwise the exit code to return (HN_ARG_HELP for --help).
 * sets has room for HN_ARG_MAX_SETS. */
#define HN_ARG_MAX_SETS 64
#define HN_ARG_HELP (-1)
int hn_arg_experiment(const char *cmd, const char *usage, int argc, char **argv,
                      int *i, const char **exp_path, const char **sets,
                      int *n_sets);

/* The model options shared by every command that builds a ResNet:
 * --model NAME, --depth N, --input CxHxW, --width M, --classes N.
 * Returns 1 if argv[*i] was one of them (consumed), 0 if not, -1 on error. */
int hn_arg_model(const char *cmd, int argc, char **argv, int *i,
                 hn_resnet_spec *spec, bool *model_given);

/* Writes the "model" and "input": [C,H,W] members every model-level JSON
 * output starts with (inside an open object). */
struct hn_jw;
void hn_arg_json_model(struct hn_jw *w, const hn_arch *a);

/* --config FILE | --homogeneous BW,BA | --width-mult R: the ways a
 * command is given a network configuration. */
typedef struct hn_arg_cfg {
    const char *path;
    bool have_homo, have_wm;
    hn_op homo;
    double wm;
} hn_arg_cfg;

/* 1 if argv[*i] was one of them (consumed), 0 if not, -1 on error. */
int hn_arg_config(const char *cmd, int argc, char **argv, int *i,
                  hn_arg_cfg *c);
/* Checks the combination (--width-mult only when allow_wm; alone it means
 * full precision, with --homogeneous the kept filters use that op) and
 * builds the configuration.  Prints the problem and returns false. */
bool hn_arg_config_build(const char *cmd, const hn_arg_cfg *c,
                         const hn_arch *a, bool allow_wm, hn_config **out);

#endif
