/* Subcommands of the `hetnas` CLI: one file each (cmd_<name>.c).  Each
 * returns the process exit code: 0 ok, 1 failure, 2 bad usage; none calls
 * exit(). */
#ifndef HN_CLI_COMMANDS_H
#define HN_CLI_COMMANDS_H

typedef int (*hn_cmd_fn)(int argc, char **argv);

typedef struct hn_cmd {
    const char *name;
    hn_cmd_fn fn;
    const char *summary;
} hn_cmd;

int hn_cmd_layers(int argc, char **argv);
int hn_cmd_bops(int argc, char **argv);
int hn_cmd_train(int argc, char **argv);
int hn_cmd_eval(int argc, char **argv);
int hn_cmd_import(int argc, char **argv);
int hn_cmd_search(int argc, char **argv);
int hn_cmd_grid(int argc, char **argv);
/* `hetnas hw run|report`: cmd_hw.c dispatches; report is cmd_hw_report.c. */
int hn_cmd_hw(int argc, char **argv);
int hn_cmd_hw_report(int argc, char **argv);

#endif
