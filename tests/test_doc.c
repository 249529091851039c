/* YAML/JSON documents: trees, lines, rejected constructs, schema checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hetnas/doc.h"

static hn_doc *load(const char *s) {
    hn_doc *d = NULL;
    hn_status st = hn_doc_load_string(s, strlen(s), "t.yaml", &d);
    if (st != HN_OK) fail_msg("load failed: %s", hn_error_msg());
    return d;
}

static void expect_load_error(const char *s, hn_status st, const char *needle) {
    hn_doc *d = NULL;
    hn_status got = hn_doc_load_string(s, strlen(s), "t.yaml", &d);
    if (got != st || !strstr(hn_error_msg(), needle))
        fail_msg("expected %d '%s', got %d: %s", st, needle, got, hn_error_msg());
    assert_null(d);
}

static void test_tree_and_lines(void **state) {
    (void)state;
    hn_doc *d = load("a: 1\nb:\n  - x\n  - 'y'\nc: {d: 2.5, e: true}\n");
    const hn_node *r = hn_doc_root(d);
    assert_int_equal(hn_node_kind_of(r), HN_NODE_MAP);
    assert_int_equal(hn_node_len(r), 3);
    assert_string_equal(hn_node_key_at(r, 1), "b");
    const hn_node *b = hn_node_get(r, "b");
    assert_int_equal(hn_node_kind_of(b), HN_NODE_SEQ);
    assert_int_equal(hn_node_line(hn_node_at(b, 1)), 4);
    assert_string_equal(hn_node_str(hn_node_at(b, 1)), "y");
    assert_true(hn_node_quoted(hn_node_at(b, 1)));
    assert_false(hn_node_quoted(hn_node_at(b, 0)));
    int64_t i;
    double x;
    bool t;
    assert_int_equal(hn_node_as_int(d, hn_node_get(r, "a"), "a", 0, 5, &i), HN_OK);
    assert_int_equal(i, 1);
    const hn_node *c = hn_node_get(r, "c");
    assert_int_equal(hn_node_as_double(d, hn_node_get(c, "d"), "c.d", 0, 5, &x), HN_OK);
    assert_true(x == 2.5);
    assert_int_equal(hn_node_as_bool(d, hn_node_get(c, "e"), "c.e", &t), HN_OK);
    assert_true(t);
    assert_null(hn_node_get(r, "zz"));
    /* A quoted number is a string, not a number. */
    assert_int_equal(hn_node_as_int(d, hn_node_at(b, 1), "b[1]", 0, 5, &i), HN_ERR_SCHEMA);
    assert_int_equal(hn_node_as_int(d, hn_node_get(r, "a"), "a", 2, 5, &i), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "t.yaml:1: a: 1 is out of range [2, 5]"));
    hn_doc_free(d);
}

static void test_json_is_read(void **state) {
    (void)state;
    hn_doc *d = load("{\"k\": 3, \"w\": [1, -2, 3],\n \"g\": [{\"n\": 4}]}");
    const hn_node *r = hn_doc_root(d);
    int64_t v[8];
    size_t n;
    assert_int_equal(hn_node_as_int_array(d, hn_node_get(r, "w"), "w", -5, 5, v, 8, &n), HN_OK);
    assert_int_equal(n, 3);
    assert_int_equal(v[1], -2);
    assert_int_equal(hn_node_as_int_array(d, hn_node_get(r, "w"), "w", -5, 5, v, 2, &n), HN_ERR_SCHEMA);
    assert_int_equal(hn_node_as_int_array(d, hn_node_get(r, "w"), "w", 0, 5, v, 8, &n), HN_ERR_RANGE);
    assert_non_null(strstr(hn_error_msg(), "w[1]"));
    assert_int_equal(hn_node_line(hn_node_get(r, "g")), 2);
    hn_doc_free(d);
}

static void test_rejected_documents(void **state) {
    (void)state;
    expect_load_error("a: [1, 2\n", HN_ERR_PARSE, "t.yaml:");
    expect_load_error("a: 1\na: 2\n", HN_ERR_SCHEMA, "t.yaml:2: duplicate key 'a'");
    expect_load_error("a: &x 1\nb: *x\n", HN_ERR_PARSE, "aliases");
    expect_load_error("a: 1\n---\nb: 2\n", HN_ERR_PARSE, "more than one document");
    expect_load_error("", HN_ERR_PARSE, "empty document");
    expect_load_error("? [1, 2]\n: 3\n", HN_ERR_PARSE, "plain scalars");
    char deep[400] = "";
    for (int i = 0; i < 100; i++) strcat(deep, "[");
    expect_load_error(deep, HN_ERR_PARSE, "t.yaml:");
}

static void test_schema(void **state) {
    (void)state;
    const hn_field f[] = {
        {"lr", HN_FIELD_FLOAT, true, 0.0, 10.0},
        {"epochs", HN_FIELD_INT, false, 1, 1000},
        {"name", HN_FIELD_STRING, false, 0, 0},
        {"nesterov", HN_FIELD_BOOL, false, 0, 0},
        {"data", HN_FIELD_MAP, false, 0, 0},
    };
    const size_t n = sizeof f / sizeof f[0];
    struct { const char *yaml; hn_status st; const char *msg; } cases[] = {
        {"lr: 0.1\nepochs: 3\nname: x\nnesterov: false\ndata: {}\n", HN_OK, ""},
        {"lr: 1\n", HN_OK, ""},
        {"epochs: 3\n", HN_ERR_SCHEMA, "t.yaml:1: missing required key 'opt.lr'"},
        {"lr: 0.1\nepoch: 3\n", HN_ERR_SCHEMA, "t.yaml:2: unknown key 'opt.epoch' (did you mean 'opt.epochs'?)"},
        {"lr: 0.1\nzzzzzz: 3\n", HN_ERR_SCHEMA, "known keys: lr, epochs"},
        {"lr: fast\n", HN_ERR_SCHEMA, "t.yaml:1: opt.lr: expected a finite number"},
        {"lr: 20\n", HN_ERR_RANGE, "opt.lr: 20 is out of range"},
        {"lr: 0.1\nepochs: 2.5\n", HN_ERR_SCHEMA, "opt.epochs: expected an integer"},
        {"lr: 0.1\nepochs: 0\n", HN_ERR_RANGE, "opt.epochs: 0 is out of range [1, 1000]"},
        {"lr: 0.1\nnesterov: maybe\n", HN_ERR_SCHEMA, "expected true or false"},
        {"lr: 0.1\nname: [1]\n", HN_ERR_SCHEMA, "opt.name: expected a string"},
        {"lr: 0.1\ndata: 3\n", HN_ERR_SCHEMA, "opt.data: expected a mapping"},
        {"lr: .nan\n", HN_ERR_SCHEMA, "finite"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hn_doc *d = load(cases[i].yaml);
        hn_status st = hn_schema_check(d, hn_doc_root(d), "opt.", f, n);
        if (st != cases[i].st || !strstr(hn_error_msg(), cases[i].msg))
            fail_msg("case %zu: expected %d '%s', got %d: %s", i, cases[i].st,
                     cases[i].msg, st, hn_error_msg());
        hn_doc_free(d);
    }
}

static void test_missing_file(void **state) {
    (void)state;
    hn_doc *d;
    assert_int_equal(hn_doc_load_file("/nonexistent/x.yaml", &d), HN_ERR_IO);
    assert_non_null(strstr(hn_error_msg(), "/nonexistent/x.yaml: cannot open"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_and_lines),
        cmocka_unit_test(test_json_is_read),
        cmocka_unit_test(test_rejected_documents),
        cmocka_unit_test(test_schema),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
