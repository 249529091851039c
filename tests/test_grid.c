/* Grid plans, seeds, the results file and the analysis wiring (grid.h);
 * the statistics themselves are test_inference, the CLI is e2e_grid. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "hetnas/grid.h"
#include "hetnas/inference.h"

static char g_dir[256];

/* A tiny plain IDX dataset: n images 28x28 with labels 0..9. */
static void write_idx(const char *prefix, int n) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s-images-idx3-ubyte", g_dir, prefix);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    unsigned char hdr[16] = {0, 0, 8, 3, 0, 0, 0, (unsigned char)n, 0, 0, 0, 28, 0, 0, 0, 28};
    fwrite(hdr, 1, 16, f);
    for (int i = 0; i < n * 28 * 28; i++) fputc((i * 7 + i / 784) & 0xff, f);
    fclose(f);
    snprintf(p, sizeof p, "%s/%s-labels-idx1-ubyte", g_dir, prefix);
    f = fopen(p, "wb");
    assert_non_null(f);
    unsigned char lh[8] = {0, 0, 8, 1, 0, 0, 0, (unsigned char)n};
    fwrite(lh, 1, 8, f);
    for (int i = 0; i < n; i++) fputc(i % 10, f);
    fclose(f);
}

static hn_grid *plan(const char *grid_yaml, hn_status want) {
    char y[4096];
    snprintf(y, sizeof y,
             "name: t\nseed: 9\nmodel: {name: resnet8, width: 0.5}\n"
             "data: {name: mnist, dir: %s, val_fraction: 0.2}\n%s",
             g_dir, grid_yaml);
    hn_experiment e;
    hn_status s = hn_experiment_load_string(y, "t.yaml", NULL, 0, &e);
    hn_grid *g = NULL;
    if (s == HN_OK) {
        s = hn_grid_plan(&e, &g);
        hn_experiment_clear(&e);
    }
    if (s != want) fail_msg("status %d, want %d: %s", s, want, hn_error_msg());
    return g;
}

static void test_splits_scale_and_seeds(void **st) {
    (void)st;
    hn_grid *g = plan("grid:\n  repeats: 2\n  quant:\n    ops: [[2,2],[8,8]]\n"
                      "    splits: [[8,0],[5,3],[0,8]]\n"
                      "  prune:\n    widths: [[8,16,32],[4,8,16],[8,8,8]]\n",
                      HN_OK);
    assert_int_equal(hn_grid_n_cfgs(g), 6);
    assert_int_equal(hn_grid_n_jobs(g), 12);
    /* ids, families, homogeneity */
    const char *ids[6] = {"q00", "q01", "q02", "p00", "p01", "p02"};
    const bool homo[6] = {true, false, true, true, true, false};
    for (int i = 0; i < 6; i++) {
        assert_string_equal(hn_grid_cfg_at(g, i)->id, ids[i]);
        assert_int_equal(hn_grid_cfg_at(g, i)->homogeneous, homo[i]);
    }
    /* [5,3] of the 8-filter stem: 16 filters -> [10,6], 32 -> [20,12] */
    const char *j = hn_grid_cfg_json(g, 1);
    assert_non_null(strstr(j, "[5,3],[10,6],[10,6]"));
    assert_non_null(strstr(j, "[20,12]"));
    /* pruning: stem with stage 1, down convs with their stage */
    assert_non_null(strstr(hn_grid_cfg_json(g, 5), "\"widths\":[8,8,8,8,8,8,8,8,8]"));
    /* costs grow with bits / widths */
    assert_true(hn_grid_cfg_at(g, 0)->cost < hn_grid_cfg_at(g, 1)->cost);
    assert_true(hn_grid_cfg_at(g, 1)->cost < hn_grid_cfg_at(g, 2)->cost);
    assert_true(hn_grid_cfg_at(g, 4)->cost < hn_grid_cfg_at(g, 3)->cost);
    /* seeds: recorded per job, deterministic, distinct, < 1e18 */
    for (int a = 0; a < 12; a++) {
        const hn_grid_job *x = hn_grid_job_at(g, a);
        assert_int_equal(x->index, a);
        assert_int_equal(x->cfg * 2 + x->repeat, a);
        assert_true(x->seed == hn_grid_job_seed(9, x->cfg, x->repeat));
        assert_true(x->seed < 1000000000000000000ull);
        for (int b = 0; b < a; b++) assert_true(x->seed != hn_grid_job_at(g, b)->seed);
    }
    assert_string_equal(hn_grid_job_at(g, 3)->id, "q01_r1");
    assert_true(hn_grid_job_seed(9, 1, 0) != hn_grid_job_seed(10, 1, 0));
    hn_grid_free(g);
}

static void test_bad_grids(void **st) {
    (void)st;
    assert_null(plan("grid:\n  repeats: 2\n", HN_ERR_SCHEMA));
    assert_non_null(strstr(hn_error_msg(), "no configurations"));
    /* a split that does not fit the 8-filter stem, named by its line */
    assert_null(plan("grid:\n  quant:\n    ops: [[2,2],[4,4]]\n    splits: [[8,0],[9,0]]\n",
                     HN_ERR_SCHEMA));
    assert_non_null(strstr(hn_error_msg(), "t.yaml:8: grid.quant.splits[1]: the counts sum to 9"));
    assert_null(plan("grid:\n  prune:\n    widths: [[8,16,32],[0,8,8]]\n", HN_ERR_RANGE));
    assert_non_null(strstr(hn_error_msg(), "grid.prune.widths[1][0]"));
}

/* The results file: append, read back, torn tail, damage named by line. */
static void test_log(void **st) {
    (void)st;
    hn_grid *g = plan("grid:\n  repeats: 3\n  quant:\n    ops: [[2,2],[8,8]]\n"
                      "    splits: [[8,0],[4,4],[0,8]]\n", HN_OK);
    char path[512];
    snprintf(path, sizeof path, "%s/grid.jsonl", g_dir);
    unlink(path);
    hn_grid_log *l;
    assert_int_equal(hn_grid_log_open(path, g, &l), HN_OK);
    /* A: .80 .82 .84, H: .86 .88 .90, B: .90 .91 .92 */
    const double acc[9] = {0.80, 0.82, 0.84, 0.86, 0.88, 0.90, 0.90, 0.91, 0.92};
    for (int j = 0; j < 9; j++) {
        if (j == 4) continue; /* one job left unfinished */
        hn_grid_result r = {acc[j], acc[j], 0.3, 5, 3, true, 1.5, 0};
        assert_int_equal(hn_grid_log_append(l, hn_grid_job_at(g, j), &r), HN_OK);
    }
    hn_grid_result r = {0};
    assert_int_equal(hn_grid_log_append(l, hn_grid_job_at(g, 0), &r), HN_ERR_INTERNAL);
    hn_grid_log_close(l);
    /* torn tail */
    FILE *f = fopen(path, "ab");
    fputs("{\"job\":4,\"id\":\"q01_r", f);
    fclose(f);
    assert_int_equal(hn_grid_log_open(path, g, &l), HN_OK);
    assert_int_equal(hn_grid_log_n_done(l), 8);
    assert_false(hn_grid_log_done(l, 4));
    assert_true(hn_grid_log_result(l, 8)->test_acc == 0.92); /* exact round trip */
    assert_true(hn_grid_log_result(l, 8)->early_stopped);

    /* analysis: H at cost C between A and B */
    hn_grid_row *rows;
    int n;
    assert_int_equal(hn_grid_analyze(g, l, HN_GRID_QUANT, &rows, &n), HN_OK);
    assert_int_equal(n, 3);
    const hn_grid_row *h = &rows[1];
    assert_int_equal(h->n, 2);
    assert_true(h->tested);
    double cA = hn_grid_cfg_at(g, 0)->cost, cB = hn_grid_cfg_at(g, 2)->cost;
    double lam = (hn_grid_cfg_at(g, 1)->cost - cA) / (cB - cA);
    assert_true(lam > 0 && lam < 1);
    assert_true(fabs(h->lambda - lam) < 1e-12);
    assert_true(fabs(h->line_mean - ((1 - lam) * 0.82 + lam * 0.91)) < 1e-12);
    /* H = {.86, .90}: sd = sqrt(.0008); line variance (1-l)*.02^2 + l*.01^2 */
    double vh = 0.0008 / 2, vl = ((1 - lam) * 0.0004 + lam * 0.0001) / 3;
    assert_true(fabs(h->t - (0.88 - h->line_mean) / sqrt(vh + vl)) < 1e-9);
    double v[3] = {vh, (1 - lam) * 0.0004 / 3, lam * 0.0001 / 3}, df[3] = {1, 2, 2};
    assert_true(fabs(h->df - hn_ws_df(3, v, df)) < 1e-9);
    assert_true(fabs(h->p_holm - h->p) < 1e-15); /* one test */
    assert_false(rows[0].tested);
    assert_string_equal(rows[0].note, "homogeneous");
    free(rows);
    hn_grid_log_close(l);

    /* a changed middle line is named */
    char *txt;
    size_t len;
    f = fopen(path, "rb");
    txt = calloc(1, 1 << 16);
    len = fread(txt, 1, (1 << 16) - 1, f);
    fclose(f);
    char *second = strchr(txt, '\n') + 1;
    char *acc_at = strstr(second, "\"test_acc\":0.8");
    acc_at[12] = '9';
    f = fopen(path, "wb");
    fwrite(txt, 1, len, f);
    fclose(f);
    free(txt);
    assert_int_equal(hn_grid_log_open(path, g, &l), HN_ERR_FORMAT);
    assert_non_null(strstr(hn_error_msg(), "grid.jsonl:2: crc32 mismatch"));
    hn_grid_free(g);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/hn_test_grid_XXXXXX");
    if (!mkdtemp(g_dir)) return 1;
    write_idx("train", 100);
    write_idx("t10k", 20);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_splits_scale_and_seeds),
        cmocka_unit_test(test_bad_grids),
        cmocka_unit_test(test_log),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
    return r;
}
