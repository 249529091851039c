/* hn_session: a step and an evaluation equal the trainer's former inline
 * code (model + optimizer + loader by hand) bit for bit; save/restore with
 * a client's extra state round-trips exactly and a restored session
 * continues bit-identically mid-epoch; evaluating a pruned configuration
 * without switchable BN is refused, or recalibrated and undone. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hetnas/session.h"

#ifdef HN_HAVE_OPENMP
#include <omp.h>
#endif

/* a learnable toy: 1x8x8 images, class k brightens row k (k < 8) */
static hn_dataset *toy(int n, uint64_t seed) {
    hn_rng r;
    hn_rng_seed(&r, seed, 3);
    uint8_t *px = malloc((size_t)n * 64), *lb = malloc((size_t)n);
    for (int i = 0; i < n; i++) {
        lb[i] = (uint8_t)hn_rng_below(&r, 8);
        for (int p = 0; p < 64; p++)
            px[i * 64 + p] = (uint8_t)(hn_rng_below(&r, 100) +
                                       (p / 8 == lb[i] ? 120 : 0));
    }
    hn_dataset *d = NULL;
    assert_int_equal(hn_dataset_from_memory(n, 1, 8, 8, px, lb, 10, "toy", &d),
                     HN_OK);
    free(px);
    free(lb);
    return d;
}

static const char *k_exp =
    "name: s\nseed: 9\nmodel: {name: resnet8, width: 0.5}\n"
    "data: {val_fraction: 0.25, batch_size: 16, eval_batch_size: 40,"
    " augment: {crop_pad: 2, flip: true}}\n"
    "optim: {name: sgd, lr: 0.05, momentum: 0.9, weight_decay: 0.0005}\n"
    "slim: {recalib_batches: 3}\n";

typedef struct fixture {
    hn_experiment e;
    hn_exp_data d;
} fixture;

static void fixture_init(fixture *f, const char *extra_set) {
    const char *sets[1] = {extra_set};
    assert_int_equal(hn_experiment_load_string(k_exp, "s.yaml", sets,
                                               extra_set ? 1 : 0, &f->e),
                     HN_OK);
    memset(&f->d, 0, sizeof f->d);
    f->d.train = toy(160, 1);
    f->d.test = toy(48, 2);
    assert_int_equal(hn_split_make(160, 0.25, 0, f->e.seed, &f->d.split), HN_OK);
    assert_int_equal(hn_norm_compute(f->d.train, f->d.split.train,
                                     f->d.split.n_train, &f->d.norm), HN_OK);
}

static void fixture_free(fixture *f) {
    hn_exp_data_free(&f->d);
    hn_experiment_clear(&f->e);
}

static void params_equal(hn_model *a, hn_model *b) {
    assert_int_equal(hn_model_n_params(a), hn_model_n_params(b));
    for (int i = 0; i < hn_model_n_params(a); i++) {
        hn_param p = hn_model_param(a, i), q = hn_model_param(b, i);
        assert_string_equal(p.name, q.name);
        assert_memory_equal(p.data, q.data, p.numel * sizeof(float));
    }
}

/* The trainer's loop as it was before the session: by hand. */
static void test_step_eval_match_manual(void **st) {
    (void)st;
    fixture f;
    fixture_init(&f, "config=[4,4]");
    hn_session *s = NULL;
    assert_int_equal(hn_session_new(&f.e, &f.d, NULL, &s), HN_OK);
    assert_int_equal(hn_session_calibrate_clamps(s), HN_OK);

    const hn_arch *a = hn_session_arch(s);
    hn_model_opts mo = hn_model_opts_default();
    mo.seed = f.e.seed;
    hn_model *m = NULL;
    assert_int_equal(hn_model_new(a, hn_session_config(s), &mo, &m), HN_OK);
    hn_model_set_input_norm(m, f.d.norm.mean, f.d.norm.std); /* as the session */
    hn_optim_opts oo = hn_optim_opts_sgd(0.05f, 0.9f, 0.0005f, 0);
    hn_optim *opt = NULL;
    assert_int_equal(hn_optim_new_model(&oo, m, &opt), HN_OK);
    hn_loader_opts lo = {.batch_size = 16, .shuffle = true, .drop_last = true,
                         .augment = {2, true}, .seed = f.e.seed};
    hn_loader *ld = NULL;
    assert_int_equal(hn_loader_new(f.d.train, f.d.split.train,
                                   f.d.split.n_train, &f.d.norm, &lo, &ld),
                     HN_OK);
    float x[40 * 64], z[40 * 10], dz[40 * 10];
    int y[40];
    assert_int_equal(hn_model_init_weight_clamps(m), HN_OK);
    hn_loader_start_epoch(ld, 0);
    int n = hn_loader_next(ld, x, y);
    assert_int_equal(hn_model_calibrate_clamps(m, x, n), HN_OK);
    params_equal(m, hn_session_model(s));

    for (int ep = 0; ep < 2; ep++) {
        hn_session_set_lr(s, 0.05f / (float)(ep + 1));
        hn_optim_set_lr(opt, 0.05f / (float)(ep + 1));
        hn_session_start_epoch(s, ep);
        hn_loader_start_epoch(ld, ep);
        for (int b = 0; b < 4; b++) {
            hn_step_result r;
            assert_int_equal(hn_session_step(s, NULL, &r), HN_OK);
            n = hn_loader_next(ld, x, y);
            assert_int_equal(r.n, n);
            hn_model_zero_grad(m);
            assert_int_equal(hn_model_forward(m, x, n, 1, z), HN_OK);
            int c = 0;
            float loss = hn_softmax_ce(z, y, n, 10, dz, &c);
            assert_int_equal(hn_model_backward(m, dz), HN_OK);
            hn_optim_step(opt);
            assert_memory_equal(&loss, &r.loss, sizeof loss);
            assert_int_equal(c, r.correct);
        }
    }
    params_equal(m, hn_session_model(s));

    /* validation by hand */
    hn_loader_opts vo = {.batch_size = 40, .seed = f.e.seed};
    hn_loader *vl = NULL;
    assert_int_equal(hn_loader_new(f.d.train, f.d.split.val, f.d.split.n_val,
                                   &f.d.norm, &vo, &vl), HN_OK);
    hn_loader_start_epoch(vl, 0);
    double sum = 0;
    long correct = 0, all = 0;
    while ((n = hn_loader_next(vl, x, y)) > 0) {
        assert_int_equal(hn_model_forward(m, x, n, 0, z), HN_OK);
        int c = 0;
        sum += (double)hn_softmax_ce(z, y, n, 10, NULL, &c) * n;
        correct += c;
        all += n;
    }
    hn_session_eval_opts eo = hn_session_eval_opts_default(s);
    hn_session_eval er;
    assert_int_equal(hn_session_evaluate(s, &eo, &er), HN_OK);
    assert_int_equal(er.n, all);
    assert_true(er.loss == sum / all);
    assert_true(er.acc == (double)correct / all);
    assert_false(er.recalibrated);
    /* a given loader (the same batches) gives the same result */
    eo.split = HN_SPLIT_LOADER;
    eo.loader = vl;
    hn_session_eval er2;
    assert_int_equal(hn_session_evaluate(s, &eo, &er2), HN_OK);
    assert_true(er2.loss == er.loss && er2.acc == er.acc);
    eo.split = HN_SPLIT_TEST;
    assert_int_equal(hn_session_evaluate(s, &eo, &er2), HN_OK);
    assert_int_equal(er2.n, 48);

    hn_loader_free(vl);
    hn_loader_free(ld);
    hn_optim_free(opt);
    hn_model_free(m);
    hn_session_free(s);
    fixture_free(&f);
}

/* A search's state: alpha (double), its momentum (float), counters. */
typedef struct client {
    double alpha[3];
    float mom[3];
    int32_t counts[2];
} client;

static hn_status add_client(hn_ckpt_writer *w, void *ud) {
    const client *c = ud;
    HN_TRY(hn_ckpt_writer_add_1d(w, "search.alpha", HN_DT_F64, 3, c->alpha));
    HN_TRY(hn_ckpt_writer_add_1d(w, "search.alpha_mom", HN_DT_F32, 3, c->mom));
    HN_TRY(hn_ckpt_writer_add_1d(w, "search.counts", HN_DT_I32, 2, c->counts));
    return hn_ckpt_writer_meta_json(w, "search", "{\"iteration\": 7}");
}

static hn_status add_colliding(hn_ckpt_writer *w, void *ud) {
    (void)ud;
    float v = 1.0f;
    return hn_ckpt_writer_add_1d(w, "fc.bias", HN_DT_F32, 1, &v);
}

static void steps(hn_session *s, int k, float *losses) {
    for (int i = 0; i < k; i++) {
        hn_step_result r;
        assert_int_equal(hn_session_step(s, NULL, &r), HN_OK);
        assert_true(r.n > 0);
        losses[i] = r.loss;
    }
}

static void test_save_restore_exact(void **st) {
    (void)st;
    fixture f;
    fixture_init(&f, "config=[4,4]");
    char path[] = "/tmp/hn_test_session_XXXXXX";
    assert_non_null(mkdtemp(path));
    char ck[256];
    snprintf(ck, sizeof ck, "%s/s.safetensors", path);

    hn_session *a = NULL, *b = NULL;
    assert_int_equal(hn_session_new(&f.e, &f.d, NULL, &a), HN_OK);
    hn_model_set_train_noise(hn_session_model(a), 0.1f, 77);
    hn_session_set_lr(a, 0.03f);
    hn_session_start_epoch(a, 1);
    float la[8], lb[8];
    steps(a, 2, la);
    (void)hn_rng_u64(hn_session_rng(a)); /* the client used its stream */
    client c = {{0.25, -1.5, 1e-300}, {0.5f, -0.25f, 3.0f}, {3, -4}};
    assert_int_equal(hn_session_save(a, ck, add_client, &c), HN_OK);
    uint64_t ra = hn_rng_u64(hn_session_rng(a));
    steps(a, 3, la);

    fixture g; /* a fresh process: its own experiment and data */
    fixture_init(&g, "config=[4,4]");
    assert_int_equal(hn_session_new(&g.e, &g.d, NULL, &b), HN_OK);
    hn_ckpt *x = NULL;
    assert_int_equal(hn_session_restore(b, ck, &x), HN_OK);
    assert_int_equal(hn_session_epoch(b), 1);
    assert_int_equal(hn_session_batch(b), 2);
    assert_true(hn_session_lr(b) == 0.03f);
    client r;
    assert_int_equal(hn_ckpt_get_1d(x, "search.alpha", HN_DT_F64, 3, r.alpha), HN_OK);
    assert_int_equal(hn_ckpt_get_1d(x, "search.alpha_mom", HN_DT_F32, 3, r.mom), HN_OK);
    assert_int_equal(hn_ckpt_get_1d(x, "search.counts", HN_DT_I32, 2, r.counts), HN_OK);
    assert_memory_equal(&r, &c, sizeof c);
    assert_non_null(strstr(hn_ckpt_meta(x, "search"), "\"iteration\": 7"));
    /* a wrong shape is an error naming the tensor */
    assert_int_equal(hn_ckpt_get_1d(x, "search.alpha", HN_DT_F64, 4, r.alpha),
                     HN_ERR_FORMAT);
    assert_non_null(strstr(hn_error_msg(), "search.alpha"));
    hn_ckpt_free(x);
    assert_true(hn_rng_u64(hn_session_rng(b)) == ra);
    steps(b, 3, lb);
    assert_memory_equal(la, lb, 3 * sizeof(float));
    params_equal(hn_session_model(a), hn_session_model(b));
    /* optimizer state too: one more step each stays equal */
    steps(a, 1, la);
    steps(b, 1, lb);
    assert_memory_equal(la, lb, sizeof(float));
    params_equal(hn_session_model(a), hn_session_model(b));

    /* a client name colliding with the session's is refused */
    assert_int_equal(hn_session_save(a, ck, add_colliding, NULL), HN_ERR_INVAL);
    hn_session_free(a);
    hn_session_free(b);
    fixture_free(&f);
    fixture_free(&g);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", path);
    assert_int_equal(system(cmd), 0);
}

/* Without switchable BN the statistics are the full width's: evaluating
 * width 0.5 must not reuse them. */
static void test_pruned_eval_refused_or_recalibrated(void **st) {
    (void)st;
    fixture f;
    fixture_init(&f, NULL);
    hn_session *s = NULL;
    assert_int_equal(hn_session_new(&f.e, &f.d, NULL, &s), HN_OK);
    hn_session_start_epoch(s, 0);
    float l[4];
    steps(s, 4, l);
    hn_session_eval_opts eo = hn_session_eval_opts_default(s);
    assert_int_equal(eo.recalib_batches, 3);
    hn_session_eval full, half, again;
    assert_int_equal(hn_session_evaluate(s, &eo, &full), HN_OK);
    hn_config *c = NULL;
    assert_int_equal(hn_config_width_mult(hn_session_arch(s), 0.5,
                                          (hn_op){HN_BITS_FP, HN_BITS_FP}, &c),
                     HN_OK);
    eo.config = c;
    eo.recalib_batches = 0;
    assert_int_equal(hn_session_evaluate(s, &eo, &half), HN_ERR_INVAL);
    assert_non_null(strstr(hn_error_msg(), "recalibrate"));
    eo.recalib_batches = 3;
    assert_int_equal(hn_session_evaluate(s, &eo, &half), HN_OK);
    assert_true(half.recalibrated);
    assert_true(isfinite(half.loss) && half.loss < 10.0);
    /* configuration and statistics are back: the full-width result again */
    eo.config = NULL;
    assert_int_equal(hn_session_evaluate(s, &eo, &again), HN_OK);
    assert_false(again.recalibrated);
    assert_true(again.loss == full.loss && again.acc == full.acc);
    assert_int_equal(hn_config_width(hn_model_config(hn_session_model(s)), 0),
                     hn_config_width(hn_session_config(s), 0));
    /* a step under the pruned configuration keeps it set */
    hn_step_result r;
    assert_int_equal(hn_session_step(s, c, &r), HN_OK);
    assert_int_equal(hn_config_width(hn_model_config(hn_session_model(s)), 0),
                     hn_config_width(c, 0));
    hn_config_free(c);
    hn_session_free(s);
    fixture_free(&f);
}

/* Slimmable steps: one configuration equals hn_session_step bit for bit;
 * two configurations take one step on the summed gradients (a manual
 * forward/backward of both on the same batch, then one update). */
static void test_step_multi(void **st) {
    (void)st;
    fixture f;
    fixture_init(&f, "slim.widths=[0.5, 1.0]");
    hn_session *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(hn_session_new(&f.e, &f.d, NULL, &a), HN_OK);
    assert_int_equal(hn_session_new(&f.e, &f.d, NULL, &b), HN_OK);
    assert_int_equal(hn_session_new(&f.e, &f.d, NULL, &c), HN_OK);
    const hn_arch *ar = hn_session_arch(a);
    hn_op fp = {HN_BITS_FP, HN_BITS_FP};
    hn_config *half = NULL, *full = NULL;
    assert_int_equal(hn_config_width_mult(ar, 0.5, fp, &half), HN_OK);
    assert_int_equal(hn_config_width_mult(ar, 1.0, fp, &full), HN_OK);
    hn_session_start_epoch(a, 0);
    hn_session_start_epoch(b, 0);
    hn_step_result ra, rb;
    const hn_config *one[1] = {half};
    for (int k = 0; k < 3; k++) {
        assert_int_equal(hn_session_step(a, half, &ra), HN_OK);
        assert_int_equal(hn_session_step_multi(b, one, 1, &rb), HN_OK);
        assert_true(ra.n > 0 && ra.n == rb.n && ra.loss == rb.loss);
    }
    params_equal(hn_session_model(a), hn_session_model(b));
    /* two widths: the manual sum on the same batch (session c's loader
     * gives the batch, its model the reference) */
    const hn_config *two[2] = {half, full};
    hn_session_start_epoch(b, 1);
    assert_int_equal(hn_session_step_multi(b, two, 2, &rb), HN_OK);
    hn_model *m = hn_session_model(c);
    hn_loader *ld = NULL;
    hn_loader_opts lo = {.batch_size = f.e.data.batch_size, .shuffle = true,
                         .drop_last = true, .augment = f.e.data.augment,
                         .seed = f.e.seed};
    assert_int_equal(hn_loader_new(f.d.train, f.d.split.train, f.d.split.n_train,
                                   &f.d.norm, &lo, &ld), HN_OK);
    hn_loader_start_epoch(ld, 1);
    int B = f.e.data.batch_size;
    float *x = malloc(sizeof(float) * (size_t)B * 64), *lg = malloc(sizeof(float) * B * 10),
          *dl = malloc(sizeof(float) * B * 10);
    int *y = malloc(sizeof(int) * (size_t)B);
    int n = hn_loader_next(ld, x, y);
    assert_int_equal(n, B);
    /* the optimizer state of c must equal a's: restore both from a file */
    char path[] = "/tmp/hn_test_step_multi_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(hn_session_save(a, path, NULL, NULL), HN_OK);
    assert_int_equal(hn_session_restore(c, path, NULL), HN_OK);
    unlink(path);
    hn_model_zero_grad(m);
    double sum = 0;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(hn_model_set_config(m, two[i]), HN_OK);
        assert_int_equal(hn_model_forward(m, x, n, 1, lg), HN_OK);
        sum += hn_softmax_ce(lg, y, n, 10, dl, NULL);
        assert_int_equal(hn_model_backward(m, dl), HN_OK);
    }
    hn_optim_step(hn_session_optim(c));
    assert_true(fabsf(rb.loss - (float)(sum / 2)) == 0.0f);
    params_equal(hn_session_model(b), m);
    free(x); free(lg); free(dl); free(y);
    hn_loader_free(ld);
    hn_config_free(half);
    hn_config_free(full);
    hn_session_free(a);
    hn_session_free(b);
    hn_session_free(c);
    fixture_free(&f);
}

int main(void) {
#ifdef HN_HAVE_OPENMP
    omp_set_num_threads(1);
#endif
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step_eval_match_manual),
        cmocka_unit_test(test_save_restore_exact),
        cmocka_unit_test(test_pruned_eval_refused_or_recalibrated),
        cmocka_unit_test(test_step_multi),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
