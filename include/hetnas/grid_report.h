/* Reports of a grid study (docs/study.md): per family a CSV table
 * (grid_<family>.csv), a readable table (grid_<family>.txt, also printed),
 * and a plot like the paper's Fig. 1 (accuracy vs cost with confidence
 * bars, homogeneous points joined) as plots/grid_<family>.{svg,png}
 * through gnuplot; without gnuplot the data and the .gp script are still
 * written and a message says how to draw them. */
#ifndef HETNAS_GRID_REPORT_H
#define HETNAS_GRID_REPORT_H

#include <stdio.h>

#include "hetnas/grid.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes every family's reports into run_dir; prints the tables to `out`
 * (may be NULL). */
hn_status hn_grid_report(const hn_grid *g, const hn_grid_log *log,
                         const char *run_dir, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
