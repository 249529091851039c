/* The search's checks of an experiment (hn_search_validate) on every shipped
 * experiment file that has a `search:` section, and the homogeneous line
 * used by the search summary (interpolation at equal cost). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hetnas/experiment.h"
#include "hetnas/search.h"

static void test_shipped_search_configs(void **st) {
    (void)st;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/configs", HN_SOURCE_DIR);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, "search_", 7) && strcmp(de->d_name, "demo.yaml"))
            continue;
        char p[1400];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        hn_experiment e;
        if (hn_experiment_load(p, NULL, 0, &e) != HN_OK)
            fail_msg("%s: %s", p, hn_error_msg());
        if (hn_search_validate(&e) != HN_OK) fail_msg("%s: %s", p, hn_error_msg());
        hn_experiment_clear(&e);
        n++;
    }
    closedir(d);
    print_message("%d shipped search files validated\n", n);
    assert_true(n >= 5);
}

static void test_validate_names_key(void **st) {
    (void)st;
    hn_experiment e;
    const char *sets[] = {"search.distribution=binomial"};
    assert_int_equal(hn_experiment_load_string("seed: 1\n", "s.yaml", sets, 1, &e), HN_OK);
    assert_int_not_equal(hn_search_validate(&e), HN_OK);
    assert_non_null(strstr(hn_error_msg(), "search.distribution"));
    hn_experiment_clear(&e);
}

static void test_homogeneous_line(void **st) {
    (void)st;
    hn_search_result r;
    memset(&r, 0, sizeof r);
    /* homogeneous points (cost, acc): (10, .80) (20, .90) (40, .94) */
    double hc[] = {20, 10, 40}, ha[] = {.90, .80, .94};
    for (int i = 0; i < 3; i++) {
        r.found[r.n_found].homogeneous = true;
        r.found[r.n_found].cost = hc[i];
        r.found[r.n_found].val_acc = ha[i];
        r.n_found++;
    }
    double fc[] = {15, 30, 5, 50}, want[] = {.85, .92, .80, .94};
    for (int i = 0; i < 4; i++) {
        r.found[r.n_found].cost = fc[i];
        r.n_found++;
    }
    hn_search_homogeneous_line(&r);
    for (int i = 0; i < 4; i++)
        assert_true(fabs(r.found[3 + i].line_val_acc - want[i]) < 1e-12);
    /* one homogeneous point: no line */
    r.n_found = 1;
    r.found[1].cost = 15;
    r.found[1].homogeneous = false;
    r.n_found = 2;
    hn_search_homogeneous_line(&r);
    assert_true(isnan(r.found[1].line_val_acc));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_search_configs),
        cmocka_unit_test(test_validate_names_key),
        cmocka_unit_test(test_homogeneous_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
