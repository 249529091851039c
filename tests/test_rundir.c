/* Run directories: manifest contents and history across resumes, the
 * event log (with a partial line left by a kill), checkpoint discovery and
 * pruning, and results CSVs (append, header check, quoting, read back). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hetnas/checkpoint.h"
#include "hetnas/fileio.h"
#include "hetnas/rundir.h"
#include "hetnas/jv.h"

static char g_dir[256];

static hn_jv *read_json(const char *path) {
    char *t;
    size_t n;
    assert_int_equal(hn_file_read_all(path, &t, &n), HN_OK);
    hn_jv *v = NULL;
    if (hn_jv_parse(t, n, path, &v) != HN_OK) fail_msg("%s", hn_error_msg());
    free(t);
    return v;
}

static void test_manifest_and_resume(void **st) {
    (void)st;
    char dir[512], p[700];
    assert_int_equal(hn_rundir_join(g_dir, "run1", dir, sizeof dir), HN_OK);
    assert_false(hn_rundir_exists(dir));
    hn_rundir *rd = NULL;
    assert_int_equal(hn_rundir_open(dir, HN_RUNDIR_RESUME, &rd), HN_ERR_IO);
    assert_non_null(strstr(hn_error_msg(), "no run to resume"));
    assert_int_equal(hn_rundir_open(dir, HN_RUNDIR_NEW, &rd), HN_OK);
    assert_false(hn_rundir_resumed(rd));
    char *argv[] = {"hetnas", "train", "exp.yaml", "--set", "optim.lr=\"0.1\""};
    hn_run_info info = {5, argv, "{\"name\":\"run1\",\"seed\":7}", 7};
    assert_int_equal(hn_rundir_start(rd, &info), HN_OK);
    hn_jw *w = hn_rundir_event_begin(rd, "epoch");
    hn_jw_key(w, "epoch");
    hn_jw_int(w, 0);
    hn_jw_key(w, "val_acc");
    hn_jw_double(w, 0.5);
    assert_int_equal(hn_rundir_event_end(rd, w), HN_OK);
    assert_int_equal(hn_rundir_manifest_set(rd, "best", "{\"epoch\":0,\"val_acc\":0.5}"), HN_OK);
    assert_int_equal(hn_rundir_manifest_set(rd, "status", "\"x\""), HN_ERR_INVAL);
    assert_int_equal(hn_rundir_manifest_set(rd, "bad", "{"), HN_ERR_PARSE);
    hn_rundir_free(rd); /* killed: no finish */
    snprintf(p, sizeof p, "%s/checkpoints", dir);
    assert_int_equal(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/plots", dir);
    assert_int_equal(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/manifest.json", dir);
    hn_jv *m = read_json(p);
    assert_string_equal(hn_jv_get_str(m, "status"), "running");
    assert_string_equal(hn_jv_get_str(m, "name"), "run1");
    assert_non_null(hn_jv_get_str(m, "start"));
    assert_int_equal(hn_jv_get(m, "end")->kind, HN_JV_NULL);
    const hn_jv *cmd = hn_jv_get(m, "command");
    assert_int_equal(cmd->n, 5);
    assert_string_equal(cmd->items[4].str, "optim.lr=\"0.1\"");
    assert_int_equal(hn_jv_get(m, "seed")->u, 7);
    assert_int_equal(hn_jv_get(hn_jv_get(m, "experiment"), "seed")->u, 7);
    assert_non_null(hn_jv_get_str(hn_jv_get(m, "tools"), "zlib"));
    assert_non_null(hn_jv_get_str(hn_jv_get(m, "tools"), "libyaml"));
    const hn_jv *git = hn_jv_get(m, "git");
    assert_non_null(git);
    if (git->kind == HN_JV_OBJ) assert_int_equal(strlen(hn_jv_get_str(git, "commit")), 40);
    assert_int_equal(hn_jv_get(hn_jv_get(m, "best"), "epoch")->u, 0);
    char start[64];
    snprintf(start, sizeof start, "%s", hn_jv_get_str(m, "start"));
    hn_jv_free(m);

    /* a second NEW refuses; the log gets a partial line from the "kill" */
    assert_int_equal(hn_rundir_open(dir, HN_RUNDIR_NEW, &rd), HN_ERR_INVAL);
    assert_non_null(strstr(hn_error_msg(), "--resume"));
    snprintf(p, sizeof p, "%s/log.jsonl", dir);
    FILE *f = fopen(p, "a");
    fputs("{\"time\":\"2026-", f);
    fclose(f);

    /* resume: history kept, partial line dropped */
    char *argv2[] = {"hetnas", "train", "exp.yaml", "--resume"};
    hn_run_info info2 = {4, argv2, NULL, 7};
    assert_int_equal(hn_rundir_open(dir, HN_RUNDIR_AUTO, &rd), HN_OK);
    assert_true(hn_rundir_resumed(rd));
    assert_string_equal(hn_rundir_manifest_get(rd, "seed"), "7");
    assert_int_equal(hn_rundir_start(rd, &info2), HN_OK);
    assert_int_equal(hn_rundir_finish(rd, "finished"), HN_OK);
    hn_rundir_free(rd);
    snprintf(p, sizeof p, "%s/manifest.json", dir);
    m = read_json(p);
    assert_string_equal(hn_jv_get_str(m, "status"), "finished");
    assert_string_equal(hn_jv_get_str(m, "start"), start);
    assert_non_null(hn_jv_get_str(m, "end"));
    assert_int_equal(hn_jv_get(m, "command")->n, 5); /* the original command */
    const hn_jv *res = hn_jv_get(m, "resumes");
    assert_int_equal(res->n, 1);
    assert_string_equal(hn_jv_get(&res->items[0], "command")->items[3].str, "--resume");
    assert_non_null(hn_jv_get(m, "best"));
    hn_jv_free(m);
    /* every log line is one JSON object: start, epoch, resume, end */
    snprintf(p, sizeof p, "%s/log.jsonl", dir);
    char *txt;
    size_t len;
    assert_int_equal(hn_file_read_all(p, &txt, &len), HN_OK);
    const char *want[] = {"start", "epoch", "resume", "end"};
    int k = 0;
    for (char *save = NULL, *line = strtok_r(txt, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save), k++) {
        hn_jv *v = NULL;
        if (hn_jv_parse(line, strlen(line), "log line", &v) != HN_OK)
            fail_msg("log line %d: %s", k, hn_error_msg());
        assert_true(k < 4);
        assert_string_equal(hn_jv_get_str(v, "event"), want[k]);
        assert_non_null(hn_jv_get(v, "elapsed"));
        hn_jv_free(v);
    }
    assert_int_equal(k, 4);
    free(txt);
}

static void save_ckpt(const char *path, float v) {
    hn_ckpt_writer *w = hn_ckpt_writer_new();
    assert_int_equal(hn_ckpt_writer_add_1d(w, "x", HN_DT_F32, 1, &v), HN_OK);
    assert_int_equal(hn_ckpt_writer_save(w, path, true), HN_OK);
    hn_ckpt_writer_free(w);
}

static void test_checkpoints(void **st) {
    (void)st;
    char dir[512], p[700], latest[700];
    hn_rundir_join(g_dir, "run2", dir, sizeof dir);
    hn_rundir *rd = NULL;
    assert_int_equal(hn_rundir_open(dir, HN_RUNDIR_AUTO, &rd), HN_OK);
    assert_false(hn_rundir_resumed(rd));
    int ep;
    assert_int_equal(hn_rundir_latest_ckpt(rd, hn_ckpt_check, NULL, latest, sizeof latest, &ep), HN_OK);
    assert_int_equal(ep, -1);
    assert_string_equal(latest, "");
    int epochs[] = {0, 1, 2, 9, 10};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(hn_rundir_ckpt_path(rd, epochs[i], p, sizeof p), HN_OK);
        save_ckpt(p, (float)epochs[i]);
    }
    hn_rundir_file(rd, "checkpoints/best.safetensors", p, sizeof p);
    save_ckpt(p, -1);
    hn_rundir_file(rd, "checkpoints/epoch_12.safetensors", p, sizeof p); /* not canonical */
    save_ckpt(p, 12);
    assert_int_equal(hn_rundir_latest_ckpt(rd, hn_ckpt_check, NULL, latest, sizeof latest, &ep), HN_OK);
    assert_int_equal(ep, 10);
    assert_non_null(strstr(latest, "checkpoints/epoch_0010.safetensors"));
    /* a damaged newest checkpoint is skipped */
    assert_int_equal(truncate(latest, 20), 0);
    assert_int_equal(hn_rundir_latest_ckpt(rd, hn_ckpt_check, NULL, latest, sizeof latest, &ep), HN_OK);
    assert_int_equal(ep, 9);
    assert_int_equal(hn_rundir_prune_ckpts(rd, 2), HN_OK);
    for (int i = 0; i < 5; i++) {
        hn_rundir_ckpt_path(rd, epochs[i], p, sizeof p);
        assert_int_equal(access(p, F_OK) == 0, epochs[i] >= 9);
    }
    hn_rundir_file(rd, "checkpoints/epoch_0000.json", p, sizeof p);
    assert_int_not_equal(access(p, F_OK), 0);
    hn_rundir_file(rd, "checkpoints/epoch_0009.json", p, sizeof p);
    assert_int_equal(access(p, F_OK), 0);
    hn_rundir_file(rd, "checkpoints/best.safetensors", p, sizeof p);
    assert_int_equal(access(p, F_OK), 0);
    /* every checkpoint damaged: an error, not a silent restart at epoch 0 */
    hn_rundir_ckpt_path(rd, 9, p, sizeof p);
    assert_int_equal(truncate(p, 20), 0);
    assert_int_equal(hn_rundir_latest_ckpt(rd, hn_ckpt_check, NULL, latest, sizeof latest, &ep),
                     HN_ERR_FORMAT);
    assert_non_null(strstr(hn_error_msg(), "all 2 epoch checkpoints are damaged"));
    assert_non_null(strstr(hn_error_msg(), "epoch_0010.safetensors"));
    hn_rundir_free(rd);
}

/* Temp files of killed writers (X.tmp.PID) are removed on open when PID is
 * dead, kept when it is alive. */
static void test_stale_tmp(void **st) {
    (void)st;
    char dir[512], dead[800], live[800];
    hn_rundir_join(g_dir, "run_tmp", dir, sizeof dir);
    assert_int_equal(hn_mkdirs(dir), HN_OK);
    pid_t child = fork();
    if (child == 0) _exit(0);
    assert_true(child > 0);
    assert_int_equal(waitpid(child, NULL, 0), child);
    snprintf(dead, sizeof dead, "%s/checkpoints/epoch_0001.safetensors.tmp.%ld",
             dir, (long)child);
    snprintf(live, sizeof live, "%s/manifest.json.tmp.%ld", dir, (long)getppid());
    char cdir[700];
    snprintf(cdir, sizeof cdir, "%s/checkpoints", dir);
    assert_int_equal(hn_mkdirs(cdir), HN_OK);
    assert_int_equal(hn_file_write_atomic(dead, "x", 1), HN_OK);
    assert_int_equal(hn_file_write_atomic(live, "x", 1), HN_OK);
    hn_rundir *rd = NULL;
    assert_int_equal(hn_rundir_open(dir, HN_RUNDIR_NEW, &rd), HN_OK);
    assert_int_not_equal(access(dead, F_OK), 0);
    assert_int_equal(access(live, F_OK), 0);
    hn_rundir_free(rd);
}

static void test_csv(void **st) {
    (void)st;
    char dir[512], p[700];
    hn_rundir_join(g_dir, "run3", dir, sizeof dir);
    hn_rundir *rd = NULL;
    assert_int_equal(hn_rundir_open(dir, HN_RUNDIR_NEW, &rd), HN_OK);
    const char *cols[] = {"config", "bops", "val_acc"};
    hn_csv *c = NULL;
    assert_int_equal(hn_rundir_csv(rd, "results.csv", 3, cols, &c), HN_OK);
    assert_int_equal(hn_csv_rows_before(c), 0);
    hn_csv_str(c, "a,b \"q\"");
    hn_csv_int(c, 123456789012345LL);
    hn_csv_double(c, 0.1);
    assert_int_equal(hn_csv_end_row(c), HN_OK);
    hn_csv_str(c, "line\nbreak");
    hn_csv_int(c, -1);
    assert_int_equal(hn_csv_end_row(c), HN_ERR_INTERNAL); /* 2 of 3 cells */
    hn_csv_str(c, "plain");
    hn_csv_int(c, 2);
    hn_csv_double(c, 1.0 / 0.0);
    assert_int_equal(hn_csv_end_row(c), HN_OK);
    hn_csv_close(c);
    hn_rundir_file(rd, "results.csv", p, sizeof p);
    /* a kill in the middle of a row */
    FILE *f = fopen(p, "a");
    fputs("partial,12", f);
    fclose(f);
    assert_int_equal(hn_rundir_csv(rd, "results.csv", 3, cols, &c), HN_OK);
    assert_int_equal(hn_csv_rows_before(c), 2);
    hn_csv_str(c, "third");
    hn_csv_int(c, 3);
    hn_csv_double(c, 0.75);
    assert_int_equal(hn_csv_end_row(c), HN_OK);
    hn_csv_close(c);
    hn_csv_table t;
    assert_int_equal(hn_csv_read(p, &t), HN_OK);
    assert_int_equal(t.n_cols, 3);
    assert_int_equal(t.n_rows, 3);
    assert_int_equal(hn_csv_table_col(&t, "val_acc"), 2);
    assert_int_equal(hn_csv_table_col(&t, "nope"), -1);
    assert_string_equal(t.cells[0], "a,b \"q\"");
    assert_string_equal(t.cells[1], "123456789012345");
    assert_true(strtod(t.cells[2], NULL) == 0.1);
    assert_string_equal(t.cells[5], "inf");
    assert_string_equal(t.cells[6], "third");
    hn_csv_table_free(&t);
    /* a different header is refused, naming the file */
    const char *other[] = {"config", "macs", "val_acc"};
    assert_int_equal(hn_rundir_csv(rd, "results.csv", 3, other, &c), HN_ERR_FORMAT);
    assert_non_null(strstr(hn_error_msg(), "results.csv"));
    assert_non_null(strstr(hn_error_msg(), "config,bops,val_acc"));
    hn_rundir_free(rd);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/hn_test_rundir_XXXXXX");
    if (!mkdtemp(g_dir)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifest_and_resume),
        cmocka_unit_test(test_checkpoints),
        cmocka_unit_test(test_stale_tmp),
        cmocka_unit_test(test_csv),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
    return r;
}
