/* `hetnas hw report`: per-layer MACs, BOPs, measured and model cycles of a
 * configuration on the bit-serial array, and BOPs-vs-cycles correlations. */
#include <stdio.h>

#include "cli/commands.h"

int hn_cmd_hw_report(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "hetnas hw report: not implemented yet\n");
    return 1;
}
