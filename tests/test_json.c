/* JSON writer output, escaping, numbers, misuse detection; atomic files. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>
#include <cmocka.h>

#include "hetnas/doc.h"
#include "hetnas/fileio.h"
#include "hetnas/json.h"

static void test_compact_output(void **state) {
    (void)state;
    hn_jw *w = hn_jw_new(0);
    hn_jw_obj_begin(w);
    hn_jw_key(w, "a");
    hn_jw_int(w, -3);
    hn_jw_key(w, "big");
    hn_jw_uint(w, UINT64_MAX);
    hn_jw_key(w, "l");
    hn_jw_arr_begin(w);
    hn_jw_double(w, 0.1);
    hn_jw_double(w, 2.0);
    hn_jw_double(w, NAN);
    hn_jw_bool(w, true);
    hn_jw_null(w);
    hn_jw_arr_end(w);
    hn_jw_key(w, "s");
    hn_jw_str(w, "q\"\\\n\x01");
    hn_jw_key(w, "e");
    hn_jw_arr_begin(w);
    hn_jw_arr_end(w);
    hn_jw_obj_end(w);
    assert_int_equal(hn_jw_status(w), HN_OK);
    assert_string_equal(hn_jw_data(w, NULL),
                        "{\"a\":-3,\"big\":18446744073709551615,\"l\":[0.1,2,null,"
                        "true,null],\"s\":\"q\\\"\\\\\\n\\u0001\",\"e\":[]}");
    hn_jw_free(w);
}

static void test_pretty_parses_back(void **state) {
    (void)state;
    hn_jw *w = hn_jw_new(2);
    hn_jw_obj_begin(w);
    hn_jw_key(w, "x");
    hn_jw_double(w, 1.0 / 3.0);
    hn_jw_key(w, "o");
    hn_jw_obj_begin(w);
    hn_jw_key(w, "y");
    hn_jw_int(w, 5);
    hn_jw_obj_end(w);
    hn_jw_obj_end(w);
    const char *s = hn_jw_data(w, NULL);
    assert_non_null(strchr(s, '\n'));
    hn_doc *d;
    assert_int_equal(hn_doc_load_string(s, strlen(s), "j", &d), HN_OK);
    double x;
    assert_int_equal(hn_node_as_double(d, hn_node_get(hn_doc_root(d), "x"), "x", 0, 1, &x), HN_OK);
    assert_true(x == 1.0 / 3.0); /* round-trips exactly */
    hn_doc_free(d);
    hn_jw_free(w);
}

static void test_misuse_is_reported(void **state) {
    (void)state;
    hn_jw *w = hn_jw_new(0);
    hn_jw_obj_begin(w);
    assert_int_equal(hn_jw_status(w), HN_ERR_INTERNAL); /* unclosed */
    hn_jw_arr_end(w);                                     /* wrong closer */
    assert_int_equal(hn_jw_status(w), HN_ERR_INTERNAL);
    hn_jw_free(w);
    w = hn_jw_new(0);
    hn_jw_arr_begin(w);
    hn_jw_key(w, "k"); /* key inside an array */
    assert_int_equal(hn_jw_status(w), HN_ERR_INTERNAL);
    hn_jw_free(w);
}

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static void test_atomic_write_and_read(void **state) {
    (void)state;
    char dir[] = "/tmp/hn_io_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], sub[256];
    snprintf(path, sizeof path, "%s/f.txt", dir);
    assert_int_equal(hn_file_write_atomic(path, "hello", 5), HN_OK);
    assert_int_equal(hn_file_write_atomic(path, "bye", 3), HN_OK);
    char *buf;
    size_t len;
    assert_int_equal(hn_file_read_all(path, &buf, &len), HN_OK);
    assert_int_equal(len, 3);
    assert_string_equal(buf, "bye");
    free(buf);
    assert_int_equal(count_entries(dir), 1); /* no temp file left */
    /* Writing into a missing directory fails and creates nothing. */
    snprintf(sub, sizeof sub, "%s/missing/f.txt", dir);
    assert_int_equal(hn_file_write_atomic(sub, "x", 1), HN_ERR_IO);
    assert_non_null(strstr(hn_error_msg(), "missing/f.txt"));
    assert_int_equal(count_entries(dir), 1);
    /* mkdirs, then the write works; mkdirs over a file fails. */
    snprintf(sub, sizeof sub, "%s/a/b/c", dir);
    assert_int_equal(hn_mkdirs(sub), HN_OK);
    assert_int_equal(hn_mkdirs(sub), HN_OK);
    assert_int_equal(hn_mkdirs(path), HN_ERR_IO);
    assert_int_equal(hn_file_read_all("/nonexistent/zz", &buf, &len), HN_ERR_IO);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compact_output),
        cmocka_unit_test(test_pretty_parses_back),
        cmocka_unit_test(test_misuse_is_reported),
        cmocka_unit_test(test_atomic_write_and_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
