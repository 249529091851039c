/* Small helpers for the subcommands' option parsing.  They print a message
 * naming the command and the option and return false on bad input; the
 * command then returns exit code 2. */
#ifndef HN_CLI_ARGS_H
#define HN_CLI_ARGS_H

#include <stdbool.h>

#include "hetnas/arch.h"

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

/* The model options shared by every command that builds a ResNet:
 * --model NAME, --depth N, --input CxHxW, --width M, --classes N.
 * Returns 1 if argv[*i] was one of them (consumed), 0 if not, -1 on error. */
int hn_arg_model(const char *cmd, int argc, char **argv, int *i,
                 hn_resnet_spec *spec, bool *model_given);

#endif
