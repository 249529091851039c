/* `verilator --lint-only -Wall` stays clean on the RTL (waivers only in
 * rtl/lint_waivers.vlt), for the core and the Vitis kernel wrapper, and
 * illegal parameters are rejected at elaboration.  Fails when the build
 * enabled Verilator and it cannot run; skipped only in builds without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

static int have_verilator(void) {
    return system("verilator --version > /dev/null 2>&1") == 0;
}

static void need_verilator(void) {
    if (have_verilator()) return;
#ifdef HN_HAVE_VERILATOR
    fail_msg("the build enabled Verilator, but `verilator --version` fails");
#else
    skip();
#endif
}

static int lint(const char *top, const char *extra) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && verilator --lint-only -Wall rtl/lint_waivers.vlt "
             "rtl/pkg/hn_params_pkg.sv rtl/hn_*.sv --top-module %s %s > /dev/null 2>&1",
             HN_SOURCE_DIR, top, extra);
    return system(cmd);
}

static void test_lint_clean(void **state) {
    (void)state;
    need_verilator();
    assert_int_equal(lint("hn_core", ""), 0);
    assert_int_equal(lint("hn_krnl_top", ""), 0);
    /* every m_axi width the wrapper supports (the default is 512) */
    assert_int_equal(lint("hn_krnl_top", "-GC_M_AXI_GMEM_DATA_WIDTH=32 -GRD_OUTSTANDING=1"), 0);
    assert_int_equal(lint("hn_krnl_top", "-GC_M_AXI_GMEM_DATA_WIDTH=64 -GRD_OUTSTANDING=2"), 0);
    assert_int_equal(lint("hn_krnl_top", "-GC_M_AXI_GMEM_DATA_WIDTH=128"), 0);
    assert_int_equal(lint("hn_krnl_top", "-GC_M_AXI_GMEM_DATA_WIDTH=256 -GRD_OUTSTANDING=16"), 0);
    assert_int_equal(lint("hn_core", "-GW_BANKS=8"), 0); /* the 512-bit kernel's */
    assert_int_equal(lint("hn_core", "-GDM=8 -GDN=8 -GDK=32 -GACC_W=22"), 0);
}

static void test_illegal_parameters(void **state) {
    (void)state;
    need_verilator();
    assert_true(lint("hn_core", "-GACC_W=40") != 0); /* int32 overflow */
    assert_true(lint("hn_core", "-GBA_MAX=16") != 0);
    assert_true(lint("hn_dpu", "-GDK=0") != 0);
    assert_true(lint("hn_krnl_top", "-GC_M_AXI_GMEM_DATA_WIDTH=48") != 0);
    assert_true(lint("hn_krnl_top", "-GC_M_AXI_GMEM_DATA_WIDTH=1024") != 0);
    assert_true(lint("hn_krnl_top", "-GRD_OUTSTANDING=0") != 0);
    assert_true(lint("hn_core", "-GW_BANKS=3") != 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lint_clean),
        cmocka_unit_test(test_illegal_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
