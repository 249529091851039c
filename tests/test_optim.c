/* Optimizers and schedules against values computed by hand from the
 * torch.optim update rules. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "hetnas/optim.h"

#define CLOSE(a, b) assert_true(fabs((double)(a) - (double)(b)) < 1e-6 * (1 + fabs((double)(b))))

static void run_sgd(float mu, float wd, int nesterov, float *w_out) {
    float w[2] = {1.0f, -2.0f}, g[2];
    hn_optim_tensor t = {w, g, 2, 1};
    hn_optim_opts o = hn_optim_opts_sgd(0.1f, mu, wd, nesterov);
    hn_optim *opt = NULL;
    assert_int_equal(hn_optim_new(&o, 1, &t, &opt), HN_OK);
    for (int s = 0; s < 3; s++) {
        g[0] = 0.5f * (float)(s + 1);
        g[1] = -1.0f;
        hn_optim_step(opt);
    }
    w_out[0] = w[0];
    w_out[1] = w[1];
    assert_int_equal(hn_optim_steps(opt), 3);
    hn_optim_free(opt);
}

/* Reference in double, written from the PyTorch documentation. */
static void ref_sgd(double mu, double wd, int nesterov, double *w) {
    double buf[2] = {0, 0};
    w[0] = 1.0; w[1] = -2.0;
    for (int s = 0; s < 3; s++) {
        double g[2] = {0.5 * (s + 1), -1.0};
        for (int i = 0; i < 2; i++) {
            double d = g[i] + wd * w[i];
            if (mu > 0) {
                buf[i] = s == 0 ? d : mu * buf[i] + d;
                d = nesterov ? d + mu * buf[i] : buf[i];
            }
            w[i] -= 0.1 * d;
        }
    }
}

static void test_sgd(void **st) {
    (void)st;
    const struct { float mu, wd; int nest; } cases[] = {
        {0, 0, 0}, {0.9f, 0, 0}, {0.9f, 1e-2f, 0}, {0.9f, 1e-2f, 1}};
    for (size_t c = 0; c < 4; c++) {
        float w[2];
        double r[2];
        run_sgd(cases[c].mu, cases[c].wd, cases[c].nest, w);
        ref_sgd(cases[c].mu, cases[c].wd, cases[c].nest, r);
        CLOSE(w[0], r[0]);
        CLOSE(w[1], r[1]);
    }
    /* hand value: plain SGD, lr .1, grads .5,1,1.5 -> 1 - .1*3 = 0.7 */
    float w[2];
    run_sgd(0, 0, 0, w);
    CLOSE(w[0], 0.7);
    /* momentum .9: bufs .5, 1.45, 2.805 -> 1 - .1*(4.755) = 0.5245 */
    run_sgd(0.9f, 0, 0, w);
    CLOSE(w[0], 0.5245);
}

static void test_adam(void **st) {
    (void)st;
    float w[1] = {1.0f}, g[1];
    hn_optim_tensor t = {w, g, 1, 1};
    hn_optim_opts o = hn_optim_opts_adam(0.01f, 0.1f);
    hn_optim *opt = NULL;
    assert_int_equal(hn_optim_new(&o, 1, &t, &opt), HN_OK);
    double rw = 1, m = 0, v = 0;
    for (int s = 1; s <= 4; s++) {
        g[0] = (float)(0.3 * s - 0.5);
        hn_optim_step(opt);
        double d = (0.3 * s - 0.5) + 0.1 * rw;
        m = 0.9 * m + 0.1 * d;
        v = 0.999 * v + 0.001 * d * d;
        double mh = m / (1 - pow(0.9, s)), vh = v / (1 - pow(0.999, s));
        rw -= 0.01 * mh / (sqrt(vh) + 1e-8);
        assert_true(fabs(w[0] - rw) < 1e-5);
    }
    /* first Adam step moves by ~lr regardless of the gradient scale */
    assert_int_equal(hn_optim_n_state(opt), 2);
    hn_optim_free(opt);
}

static void test_no_decay_and_clip(void **st) {
    (void)st;
    float a[2] = {1, 1}, ga[2] = {3, 4}, b[1] = {1}, gb[1] = {0};
    hn_optim_tensor t[2] = {{a, ga, 2, 1}, {b, gb, 1, 0}};
    hn_optim_opts o = hn_optim_opts_sgd(1.0f, 0, 0.5f, 0);
    hn_optim *opt = NULL;
    assert_int_equal(hn_optim_new(&o, 2, t, &opt), HN_OK);
    double n = hn_optim_clip_grad_norm(opt, 1.0);
    CLOSE(n, 5.0);
    assert_true(fabs(ga[0] - 0.6f) < 1e-5 && fabs(ga[1] - 0.8f) < 1e-5);
    hn_optim_step(opt);
    assert_true(fabs(a[0] - (1 - 0.6 - 0.5)) < 1e-5);
    assert_true(b[0] == 1.0f); /* decay off, zero grad: unchanged */
    hn_optim_free(opt);
    /* bad options */
    hn_optim_opts bad = hn_optim_opts_sgd(0.1f, 0, 0, 1);
    assert_int_equal(hn_optim_new(&bad, 2, t, &opt), HN_ERR_INVAL);
    bad = hn_optim_opts_sgd(-1.0f, 0.9f, 0, 0);
    assert_int_equal(hn_optim_new(&bad, 2, t, &opt), HN_ERR_RANGE);
}

static void test_schedules(void **st) {
    (void)st;
    int ms[2] = {10, 20};
    hn_sched s = hn_sched_step(0.1f, 2, ms, 0.1f);
    CLOSE(hn_sched_lr(&s, 0), 0.1);
    CLOSE(hn_sched_lr(&s, 9), 0.1);
    CLOSE(hn_sched_lr(&s, 10), 0.01);
    CLOSE(hn_sched_lr(&s, 25), 0.001);
    hn_sched c = hn_sched_cosine(0.1f, 10, 0.0f);
    CLOSE(hn_sched_lr(&c, 0), 0.1);
    CLOSE(hn_sched_lr(&c, 5), 0.05);
    CLOSE(hn_sched_lr(&c, 10), 0.0);
    CLOSE(hn_sched_lr(&c, 12), 0.0);
    c.warmup_epochs = 2;
    CLOSE(hn_sched_lr(&c, 0), 0.05);
    hn_sched p = hn_sched_plateau(1.0f, 0.5f, 1, 1);
    CLOSE(hn_sched_plateau_update(&p, 0.5f), 1.0);  /* best */
    CLOSE(hn_sched_plateau_update(&p, 0.4f), 1.0);  /* 1 bad: patience */
    CLOSE(hn_sched_plateau_update(&p, 0.4f), 0.5);  /* 2 bad: cut */
    CLOSE(hn_sched_plateau_update(&p, 0.6f), 0.5);  /* improvement */
    CLOSE(hn_sched_lr(&p, 7), 0.5);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgd),
        cmocka_unit_test(test_adam),
        cmocka_unit_test(test_no_decay_and_clip),
        cmocka_unit_test(test_schedules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
