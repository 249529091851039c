/* Grid reports (grid_report.h): tables and Fig. 1-style plots. */
#include "hetnas/grid_report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hetnas/fileio.h"
#include "hetnas/log.h"

static const char *fam_name(hn_grid_family f) { return f == HN_GRID_QUANT ? "quant" : "prune"; }

/* A CSV cell: quoted when it holds a comma, quote or newline. */
static void csv_str(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_num(FILE *f, double v) {
    if (isnan(v)) fputs("", f);
    else fprintf(f, "%.10g", v);
}

static hn_status write_mem(const char *path, char *buf, size_t len) {
    hn_status s = hn_file_write_atomic(path, buf, len);
    free(buf);
    return s;
}

static hn_status write_csv(const hn_grid *g, const hn_grid_row *rows, int n,
                           const char *path) {
    const hn_experiment *e = hn_grid_experiment(g);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return hn_fail(HN_ERR_NOMEM, "out of memory");
    fprintf(f, "config,family,label,homogeneous,cost,cost_unit,n,mean_acc,sd,"
               "ci_half,ci_level,line_lo,line_hi,lambda,line_mean,diff,t,df,p,"
               "p_holm,alpha,significant,note,source\n");
    for (int i = 0; i < n; i++) {
        const hn_grid_row *r = &rows[i];
        const hn_grid_cfg *c = hn_grid_cfg_at(g, r->cfg);
        fprintf(f, "%s,%s,", c->id, fam_name(c->family));
        csv_str(f, c->label);
        fprintf(f, ",%d,%.0f,%s,%d,", c->homogeneous, c->cost,
                c->family == HN_GRID_QUANT ? "BOPs" : "MACs", r->n);
        double nums[] = {r->mean, r->sd, r->ci_half, e->grid.level};
        for (int k = 0; k < 4; k++) { csv_num(f, nums[k]); fputc(',', f); }
        fprintf(f, "%s,%s,", r->lo >= 0 ? hn_grid_cfg_at(g, r->lo)->id : "",
                r->hi >= 0 ? hn_grid_cfg_at(g, r->hi)->id : "");
        double t2[] = {r->lambda, r->line_mean, r->diff, r->t, r->df, r->p,
                       r->p_holm, e->grid.alpha};
        for (int k = 0; k < 8; k++) { csv_num(f, t2[k]); fputc(',', f); }
        fprintf(f, "%d,", r->significant);
        csv_str(f, r->note ? r->note : "");
        fputc(',', f);
        csv_str(f, c->source);
        fputc('\n', f);
    }
    if (fclose(f) != 0) {
        free(buf);
        return hn_fail(HN_ERR_NOMEM, "out of memory");
    }
    return write_mem(path, buf, len);
}

static void pct(FILE *f, double v, int w, int prec) {
    if (isnan(v)) fprintf(f, " %*s", w, "-");
    else fprintf(f, " %*.*f", w, prec, 100 * v);
}

static void num(FILE *f, double v, int w, int prec) {
    if (isnan(v)) fprintf(f, " %*s", w, "-");
    else fprintf(f, " %*.*f", w, prec, v);
}

static void write_table(FILE *f, const hn_grid *g, const hn_grid_row *rows,
                        int n, hn_grid_family fam) {
    const hn_experiment *e = hn_grid_experiment(g);
    bool q = fam == HN_GRID_QUANT;
    int tested = 0, sig = 0;
    for (int i = 0; i < n; i++) {
        tested += rows[i].tested;
        sig += rows[i].significant;
    }
    fprintf(f, "%s grid of %s: test accuracy (%%) at the best validation "
               "epoch, %d repeats per configuration\n",
            q ? "Quantization" : "Pruning", e->name, e->grid.repeats);
    fprintf(f, "+-CI: %.4g%% confidence interval of the mean (Student t); "
               "line: homogeneous accuracy interpolated at the same %s;\n"
               "Welch t-test (Welch-Satterthwaite df) against the line, Holm "
               "over %d tests, * = significant at alpha %g\n\n",
            100 * e->grid.level, q ? "BOPs" : "MACs", tested, e->grid.alpha);
    fprintf(f, "%-5s %-24s %1s %10s %2s %7s %6s %6s %7s %7s %7s %6s %8s %8s %s\n",
            "cfg", "label", "H", q ? "GBOPs" : "MMACs", "n", "mean", "sd",
            "+-CI", "line", "diff", "t", "df", "p", "p_holm", "sig");
    for (int i = 0; i < n; i++) {
        const hn_grid_row *r = &rows[i];
        const hn_grid_cfg *c = hn_grid_cfg_at(g, r->cfg);
        fprintf(f, "%-5s %-24.24s %1s %10.4f %2d", c->id, c->label,
                c->homogeneous ? "H" : "", c->cost / (q ? 1e9 : 1e6), r->n);
        pct(f, r->mean, 7, 2);
        pct(f, r->sd, 6, 2);
        pct(f, r->ci_half, 6, 2);
        pct(f, r->line_mean, 7, 2);
        pct(f, r->diff, 7, 2);
        num(f, r->t, 7, 2);
        num(f, r->df, 6, 1);
        if (r->tested) fprintf(f, " %8.2g %8.2g %s", r->p, r->p_holm,
                               r->significant ? "*" : "");
        else fprintf(f, " %8s %8s %s", "-", "-", r->note ? r->note : "");
        fputc('\n', f);
    }
    fprintf(f, "\n%d of %d tested heterogeneous configurations differ "
               "significantly from the homogeneous line.\n\n", sig, tested);
}

/* Searches PATH for gnuplot (HN_GNUPLOT overrides, e.g. to test the
 * fallback).  Returns false when there is none. */
static bool find_gnuplot(char *out, size_t cap) {
    const char *over = getenv("HN_GNUPLOT");
    if (over) {
        snprintf(out, cap, "%s", over);
        return access(out, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    if (!path) path = "/usr/bin:/bin";
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *d = strtok_r(buf, ":", &save); d;
         d = strtok_r(NULL, ":", &save)) {
        snprintf(out, cap, "%s/gnuplot", d);
        if (access(out, X_OK) == 0) return true;
    }
    return false;
}

/* gnuplot script.gp in dir (its own working directory). */
static hn_status run_gnuplot(const char *exe, const char *dir, const char *script) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return hn_fail(HN_ERR_IO, "fork: %s", strerror(errno));
    if (pid == 0) {
        if (chdir(dir) == 0) execl(exe, "gnuplot", script, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return hn_fail(HN_ERR_IO, "waitpid: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return hn_fail(HN_ERR_IO, "%s/%s: gnuplot failed (status %d)", dir,
                       script, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return HN_OK;
}

static hn_status write_plot(const hn_grid *g, const hn_grid_row *rows, int n,
                            hn_grid_family fam, const char *run_dir) {
    const hn_experiment *e = hn_grid_experiment(g);
    bool q = fam == HN_GRID_QUANT;
    const char *fn = fam_name(fam);
    char dir[HN_EXP_PATH + 16], path[HN_EXP_PATH + 64];
    snprintf(dir, sizeof dir, "%s/plots", run_dir);
    HN_TRY(hn_mkdirs(dir));
    /* data: index 0 homogeneous (by cost), 1 heterogeneous, 2 significant */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return hn_fail(HN_ERR_NOMEM, "out of memory");
    double scale = q ? 1e9 : 1e6;
    for (int block = 0; block < 3; block++) {
        fprintf(f, "# %s\n# config cost mean_acc%% ci_half%%\n",
                block == 0 ? "homogeneous (sorted by cost)"
                : block == 1 ? "heterogeneous" : "heterogeneous, significant (Holm)");
        int idx[HN_EXP_MAX_GRID * 2 + HN_EXP_MAX_GRID_FILES];
        int k = 0;
        for (int i = 0; i < n; i++) {
            const hn_grid_cfg *c = hn_grid_cfg_at(g, rows[i].cfg);
            bool take = block == 0 ? c->homogeneous
                        : block == 1 ? !c->homogeneous : rows[i].significant;
            if (take && rows[i].n > 0) idx[k++] = i;
        }
        for (int a = 1; a < k; a++) /* by cost */
            for (int b = a; b > 0 && hn_grid_cfg_at(g, rows[idx[b - 1]].cfg)->cost >
                                         hn_grid_cfg_at(g, rows[idx[b]].cfg)->cost; b--) {
                int t = idx[b]; idx[b] = idx[b - 1]; idx[b - 1] = t;
            }
        for (int a = 0; a < k; a++) {
            const hn_grid_row *r = &rows[idx[a]];
            const hn_grid_cfg *c = hn_grid_cfg_at(g, r->cfg);
            fprintf(f, "%s %.8g %.6f %.6f\n", c->id, c->cost / scale,
                    100 * r->mean, isnan(r->ci_half) ? 0.0 : 100 * r->ci_half);
        }
        if (k == 0) fprintf(f, "none nan nan nan\n"); /* keep the index */
        fprintf(f, "\n\n");
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/grid_%s.dat", dir, fn);
    HN_TRY(write_mem(path, buf, len));

    buf = NULL;
    len = 0;
    f = open_memstream(&buf, &len);
    if (!f) return hn_fail(HN_ERR_NOMEM, "out of memory");
    fprintf(f,
            "# %s grid of %s (hetnas grid): test accuracy vs %s, error bars =\n"
            "# %.4g%% CI of the mean; homogeneous points joined (the line the\n"
            "# Welch tests use; linear axes, as the interpolation is linear in\n"
            "# cost).  Run from this directory: gnuplot grid_%s.gp\n"
            "set xlabel '%s'\nset ylabel 'test accuracy (%%)'\nset grid\n"
            "set key bottom right\nset offsets graph 0.04, graph 0.04, graph 0.06, graph 0.06\n"
            "set title '%s: %s grid, %d repeats' noenhanced\n"
            "plot 'grid_%s.dat' index 0 using 2:3:4 with yerrorlines lw 2 pt 7 "
            "lc rgb '#1f77b4' title 'homogeneous', \\\n"
            "     '' index 1 using 2:3:4 with yerrorbars pt 5 lc rgb '#d62728' "
            "title 'heterogeneous', \\\n"
            "     '' index 2 using 2:3 with points pt 6 ps 2.5 lc rgb 'black' "
            "title 'differs from the line (Holm, alpha %g)'\n",
            q ? "Quantization" : "Pruning", e->name, q ? "BOPs" : "MACs",
            100 * e->grid.level, fn, q ? "GBOPs" : "MMACs (millions)", e->name,
            q ? "quantization" : "pruning", e->grid.repeats, fn, e->grid.alpha);
    fclose(f);
    /* one script draws both formats */
    char *body = buf;
    buf = NULL;
    size_t blen = len;
    len = 0;
    f = open_memstream(&buf, &len);
    if (!f) {
        free(body);
        return hn_fail(HN_ERR_NOMEM, "out of memory");
    }
    fprintf(f, "set terminal svg size 900,600 dynamic enhanced\n"
               "set output 'grid_%s.svg'\n%.*s"
               "set terminal pngcairo size 900,600\nset output 'grid_%s.png'\n"
               "replot\nset output\n", fn, (int)blen, body, fn);
    fclose(f);
    free(body);
    snprintf(path, sizeof path, "%s/grid_%s.gp", dir, fn);
    HN_TRY(write_mem(path, buf, len));
    char exe[1024];
    if (!find_gnuplot(exe, sizeof exe)) {
        HN_WARN("gnuplot not found: wrote %s/grid_%s.dat and grid_%s.gp; draw "
                "the plot with `cd %s && gnuplot grid_%s.gp` (Debian: apt-get "
                "install gnuplot-nox)", dir, fn, fn, dir, fn);
        return HN_OK;
    }
    snprintf(path, sizeof path, "grid_%s.gp", fn);
    return run_gnuplot(exe, dir, path);
}

hn_status hn_grid_report(const hn_grid *g, const hn_grid_log *log,
                         const char *run_dir, FILE *out) {
    for (int fam = 0; fam < 2; fam++) {
        hn_grid_row *rows;
        int n;
        HN_TRY(hn_grid_analyze(g, log, (hn_grid_family)fam, &rows, &n));
        if (n == 0) {
            free(rows);
            continue;
        }
        char path[HN_EXP_PATH + 64];
        snprintf(path, sizeof path, "%s/grid_%s.csv", run_dir, fam_name(fam));
        hn_status s = write_csv(g, rows, n, path);
        char *buf = NULL;
        size_t len = 0;
        FILE *f = s == HN_OK ? open_memstream(&buf, &len) : NULL;
        if (s == HN_OK && !f) s = hn_fail(HN_ERR_NOMEM, "out of memory");
        if (s == HN_OK) {
            write_table(f, g, rows, n, (hn_grid_family)fam);
            fclose(f);
            if (out) fwrite(buf, 1, len, out);
            snprintf(path, sizeof path, "%s/grid_%s.txt", run_dir, fam_name(fam));
            s = write_mem(path, buf, len);
        }
        if (s == HN_OK) s = write_plot(g, rows, n, (hn_grid_family)fam, run_dir);
        free(rows);
        HN_TRY(s);
    }
    return HN_OK;
}
