/* Experiment files: defaults, every section, --set overrides, each kind of
 * bad input (errors naming file, line and key), and every shipped
 * configs/ YAML file loads and builds its model and configuration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hetnas/experiment.h"
#include "hetnas/fileio.h"

static char g_dir[256];

static void test_defaults(void **st) {
    (void)st;
    hn_experiment e;
    assert_int_equal(hn_experiment_load_string("{}", "x.yaml", NULL, 0, &e), HN_OK);
    assert_string_equal(e.name, "experiment");
    assert_int_equal(e.seed, 1);
    assert_string_equal(e.model.name, "resnet20");
    assert_int_equal(e.model.depth, 20);
    assert_int_equal(e.model.in_c, 0);
    assert_string_equal(e.data.name, "fashion-mnist");
    assert_float_equal(e.data.val_fraction, 0.1, 0);
    assert_int_equal(e.data.augment.crop_pad, 4);
    assert_true(e.data.augment.flip);
    assert_int_equal(e.config.kind, HN_EXP_CONFIG_FP32);
    assert_int_equal(e.optim.name, HN_OPTIM_SGD);
    assert_float_equal(e.optim.lr, 0.1, 0);
    assert_int_equal(e.schedule.name, HN_SCHED_COSINE);
    assert_int_equal(e.train.epochs, 30);
    hn_experiment_clear(&e);
    assert_int_equal(hn_experiment_load_string("model: {depth: 32}", "x.yaml", NULL, 0, &e), HN_OK);
    assert_string_equal(e.model.name, "resnet32");
    assert_int_equal(e.model.depth, 32);
    hn_experiment_clear(&e);
}

static const char *k_full =
    "name: full-test_1\n"
    "seed: 42\n"
    "model: {name: ResNet14, width: 0.5, input: 3x32x32, input_bits: 6}\n"
    "data:\n"
    "  name: cifar10\n"
    "  dir: /data/cifar\n"
    "  val_size: 5000\n"
    "  batch_size: 64\n"
    "  normalize: false\n"
    "  augment: {crop_pad: 0, flip: false}\n"
    "config: [2, 4]\n"
    "quant: {weight_sharing: per_op, noise: 0.05, gradual: true}\n"
    "optim: {name: adam, beta2: 0.99}\n"
    "schedule: {name: step, milestones: [10, 20], gamma: 0.2}\n"
    "train: {epochs: 25, patience: 4, threads: 2}\n"
    "slim: {widths: [0.25, 0.5, 1.0], recalib_batches: 7}\n";

static void test_full(void **st) {
    (void)st;
    hn_experiment e;
    assert_int_equal(hn_experiment_load_string(k_full, "f.yaml", NULL, 0, &e), HN_OK);
    assert_string_equal(e.name, "full-test_1");
    assert_int_equal(e.seed, 42);
    assert_string_equal(e.model.name, "resnet14");
    assert_int_equal(e.model.depth, 14);
    assert_float_equal(e.model.width, 0.5, 0);
    assert_int_equal(e.model.in_c, 3);
    assert_int_equal(e.model.in_h, 32);
    assert_int_equal(e.model.input_bits, 6);
    assert_string_equal(e.data.name, "cifar10");
    assert_string_equal(e.data.dir, "/data/cifar");
    assert_int_equal(e.data.val_size, 5000);
    assert_false(e.data.normalize);
    assert_int_equal(e.data.augment.crop_pad, 0);
    assert_int_equal(e.config.kind, HN_EXP_CONFIG_HOMOGENEOUS);
    assert_int_equal(e.config.op.wbits, 2);
    assert_int_equal(e.config.op.abits, 4);
    assert_int_equal(e.quant.weight_sharing, HN_WS_PER_OP);
    assert_true(e.quant.gradual);
    assert_int_equal(e.optim.name, HN_OPTIM_ADAM);
    assert_float_equal(e.optim.lr, 1e-3, 0);  /* Adam's default */
    assert_float_equal(e.optim.beta2, 0.99, 0);
    assert_int_equal(e.schedule.name, HN_SCHED_STEP);
    assert_int_equal(e.schedule.n_milestones, 2);
    assert_int_equal(e.schedule.milestones[1], 20);
    assert_int_equal(e.train.epochs, 25);
    assert_int_equal(e.slim.n_widths, 3);
    assert_float_equal(e.slim.widths[0], 0.25, 0);
    assert_int_equal(e.slim.recalib_batches, 7);
    char *js = NULL;
    assert_int_equal(hn_experiment_to_json(&e, 0, &js), HN_OK);
    assert_non_null(strstr(js, "\"config\":[2,4]"));
    assert_non_null(strstr(js, "\"milestones\":[10,20]"));
    assert_non_null(strstr(js, "\"weight_sharing\":\"per_op\""));
    assert_non_null(strstr(js, "\"input\":\"3x32x32\""));
    free(js);
    hn_experiment_clear(&e);
}

/* The load fails with `want`, and the message holds every needle. */
static void expect_err(const char *yaml, const char *const *sets, int n,
                       hn_status want, const char *n1, const char *n2) {
    hn_experiment e;
    hn_status s = hn_experiment_load_string(yaml, "exp.yaml", sets, n, &e);
    const char *m = hn_error_msg();
    if (s != want || (n1 && !strstr(m, n1)) || (n2 && !strstr(m, n2)))
        fail_msg("yaml '%s': got %d '%s'; expected %d with '%s' and '%s'", yaml,
                 s, m, want, n1 ? n1 : "", n2 ? n2 : "");
}

static void test_errors(void **st) {
    (void)st;
    /* unknown keys with suggestions, at their line */
    expect_err("seed: 1\noptim:\n  lr: 0.1\n  momentun: 0.9\n", NULL, 0, HN_ERR_SCHEMA,
               "exp.yaml:4", "unknown key 'optim.momentun' (did you mean 'optim.momentum'?)");
    expect_err("sead: 1\n", NULL, 0, HN_ERR_SCHEMA, "exp.yaml:1", "did you mean 'seed'");
    expect_err("data:\n  augment:\n    flipp: true\n", NULL, 0, HN_ERR_SCHEMA,
               "exp.yaml:3", "'data.augment.flipp'");
    /* wrong types */
    expect_err("train:\n  epochs: ten\n", NULL, 0, HN_ERR_SCHEMA, "exp.yaml:2",
               "train.epochs");
    expect_err("data: fashion\n", NULL, 0, HN_ERR_SCHEMA, "exp.yaml:1", "data");
    expect_err("optim:\n  nesterov: 3\n", NULL, 0, HN_ERR_SCHEMA, "exp.yaml:2",
               "optim.nesterov");
    /* out of range */
    expect_err("optim:\n  lr: -1\n", NULL, 0, HN_ERR_RANGE, "exp.yaml:2", "optim.lr");
    expect_err("data:\n  val_fraction: 0.95\n", NULL, 0, HN_ERR_RANGE, "exp.yaml:2",
               "data.val_fraction");
    expect_err("data:\n  augment: {crop_pad: 40}\n", NULL, 0, HN_ERR_RANGE,
               "exp.yaml:2", "data.augment.crop_pad");
    /* names */
    expect_err("optim:\n  name: adamw\n", NULL, 0, HN_ERR_SCHEMA, "exp.yaml:2",
               "'adamw' is not one of sgd|adam");
    expect_err("\n\nschedule: {name: linear}\n", NULL, 0, HN_ERR_SCHEMA, "exp.yaml:3",
               "constant|step|cosine|plateau");
    expect_err("model: {name: resnet21}\n", NULL, 0, HN_ERR_SCHEMA, "exp.yaml:1",
               "resnet<6n+2>");
    expect_err("model: {depth: 21}\n", NULL, 0, HN_ERR_SCHEMA, "exp.yaml:1", "6n+2");
    expect_err("model: {name: resnet20, depth: 32}\n", NULL, 0, HN_ERR_SCHEMA,
               "exp.yaml:1", "contradicts");
    expect_err("model: {input: 28x28}\n", NULL, 0, HN_ERR_SCHEMA, "exp.yaml:1",
               "model.input");
    expect_err("data: {name: imagenet}\n", NULL, 0, HN_ERR_SCHEMA, "exp.yaml:1",
               "fashion-mnist|mnist|cifar10");
    expect_err("data: {name: cifar10}\n", NULL, 0, HN_ERR_SCHEMA, "exp.yaml:1",
               "data.dir");
    expect_err("name: 'a b/c'\n", NULL, 0, HN_ERR_SCHEMA, "exp.yaml:1", "name");
    /* config forms */
    expect_err("config: [2]\n", NULL, 0, HN_ERR_SCHEMA, "exp.yaml:1", "[b_w, b_a]");
    expect_err("config: [2, 17]\n", NULL, 0, HN_ERR_SCHEMA, "exp.yaml:1", "config");
    expect_err("config: nosuch.yaml\n", NULL, 0, HN_ERR_IO, "exp.yaml:1", "nosuch.yaml");
    /* cross-field checks */
    expect_err("schedule: {milestones: [20, 10]}\n", NULL, 0, HN_ERR_SCHEMA,
               "exp.yaml:1", "must increase");
    expect_err("optim: {nesterov: true, momentum: 0}\n", NULL, 0, HN_ERR_SCHEMA,
               "exp.yaml:1", "optim.nesterov");
    expect_err("train: {epochs: 3}\nschedule: {warmup_epochs: 3}\n", NULL, 0,
               HN_ERR_RANGE, "exp.yaml:2", "warmup_epochs");
    /* YAML syntax */
    expect_err("optim: {lr: 0.1\n", NULL, 0, HN_ERR_PARSE, "exp.yaml", NULL);
}

static void test_sets(void **st) {
    (void)st;
    const char *y = "optim:\n  lr: 0.1\n  momentum: 0.8\ndata:\n  augment: {crop_pad: 2, flip: true}\n";
    const char *sets[] = {"optim.lr=0.05", "data.augment.flip=false", "config=[3,3]",
                          "train.epochs=2", "optim.lr=0.025", "name=run-b"};
    hn_experiment e;
    assert_int_equal(hn_experiment_load_string(y, "exp.yaml", sets, 6, &e), HN_OK);
    assert_float_equal(e.optim.lr, 0.025, 0);      /* the last --set wins */
    assert_float_equal(e.optim.momentum, 0.8, 0);  /* the file's, untouched */
    assert_false(e.data.augment.flip);
    assert_int_equal(e.data.augment.crop_pad, 2);  /* deep merge */
    assert_int_equal(e.config.kind, HN_EXP_CONFIG_HOMOGENEOUS);
    assert_int_equal(e.config.op.wbits, 3);
    assert_int_equal(e.train.epochs, 2);
    assert_string_equal(e.name, "run-b");
    hn_experiment_clear(&e);
    /* a --set replacing a whole section merges with the file's keys */
    const char *s2[] = {"data.augment={crop_pad: 0}"};
    assert_int_equal(hn_experiment_load_string(y, "exp.yaml", s2, 1, &e), HN_OK);
    assert_int_equal(e.data.augment.crop_pad, 0);
    assert_true(e.data.augment.flip);
    hn_experiment_clear(&e);
    /* errors name the --set */
    const char *b1[] = {"optim.lrr=0.1"};
    expect_err(y, b1, 1, HN_ERR_SCHEMA, "--set optim.lrr=0.1",
               "did you mean 'optim.lr'");
    const char *b2[] = {"optim.lr=fast"};
    expect_err(y, b2, 1, HN_ERR_SCHEMA, "--set optim.lr=fast", "optim.lr");
    const char *b3[] = {"train.epochs=0"};
    expect_err(y, b3, 1, HN_ERR_RANGE, "--set train.epochs=0", "train.epochs");
    const char *b4[] = {"optim.lr"};
    expect_err(y, b4, 1, HN_ERR_INVAL, "--set optim.lr", "key=value");
    const char *b5[] = {"optim..lr=1"};
    expect_err(y, b5, 1, HN_ERR_INVAL, "--set optim..lr=1", "bad key");
    const char *b6[] = {"optim.name=rmsprop"};
    expect_err(y, b6, 1, HN_ERR_SCHEMA, "--set optim.name=rmsprop", "sgd|adam");
}

static void test_config_forms(void **st) {
    (void)st;
    char sub[400], cfg[500], exp[500];
    snprintf(sub, sizeof sub, "%s/exp", g_dir);
    assert_int_equal(hn_mkdirs(sub), HN_OK);
    snprintf(cfg, sizeof cfg, "%s/net.yaml", sub);
    const char *net = "homogeneous: [3, 3]\n";
    assert_int_equal(hn_file_write_atomic(cfg, net, strlen(net)), HN_OK);
    snprintf(exp, sizeof exp, "%s/my_exp.yaml", sub);
    const char *y = "model: {name: resnet8}\nconfig: net.yaml\n"; /* relative to exp */
    assert_int_equal(hn_file_write_atomic(exp, y, strlen(y)), HN_OK);
    hn_experiment e;
    assert_int_equal(hn_experiment_load(exp, NULL, 0, &e), HN_OK);
    assert_string_equal(e.name, "my_exp");  /* from the file name */
    assert_int_equal(e.config.kind, HN_EXP_CONFIG_FILE);
    assert_string_equal(e.config.path, cfg);
    hn_arch *a = NULL;
    hn_config *c = NULL;
    assert_int_equal(hn_experiment_make_arch(&e, 1, 28, 28, 10, &a), HN_OK);
    assert_int_equal(hn_arch_n_layers(a), 9);
    assert_int_equal(hn_experiment_make_config(&e, a, &c), HN_OK);
    assert_int_equal(hn_config_op(c, hn_config_filter_op(c, 0, 0)).wbits, 3);
    hn_config_free(c);
    hn_experiment_clear(&e);
    /* inline mapping */
    const char *yi =
        "model: {name: resnet8}\n"
        "config:\n"
        "  ops: [[2, 2], [8, 8]]\n"
        "  layers: [[8, 8], [16, 0], [0, 16], [16, 16], [16, 16], [16, 16],\n"
        "           [32, 32], [32, 32], [32, 32]]\n";
    assert_int_equal(hn_experiment_load_string(yi, "inl.yaml", NULL, 0, &e), HN_OK);
    assert_int_equal(e.config.kind, HN_EXP_CONFIG_INLINE);
    assert_int_equal(hn_experiment_make_config(&e, a, &c), HN_OK);
    assert_int_equal(hn_config_n_ops(c), 2);
    assert_int_equal(hn_config_count(c, 0, 0), 8);
    assert_int_equal(hn_config_filter_op(c, 2, 0), 1);
    hn_config_free(c);
    hn_experiment_clear(&e);
    /* an inline configuration that does not fit the model: error names
     * the experiment file and the config key's line */
    const char *yb = "model: {name: resnet8}\n\nconfig:\n  ops: [[2, 2]]\n  layers: [[16]]\n";
    assert_int_equal(hn_experiment_load_string(yb, "inl.yaml", NULL, 0, &e), HN_OK);
    assert_int_not_equal(hn_experiment_make_config(&e, a, &c), HN_OK);
    assert_non_null(strstr(hn_error_msg(), "inl.yaml:4"));
    hn_experiment_clear(&e);
    /* model.input must match the data */
    assert_int_equal(hn_experiment_load_string("model: {input: 3x32x32}\n", "i.yaml",
                                               NULL, 0, &e), HN_OK);
    hn_arch *a2 = NULL;
    assert_int_equal(hn_experiment_make_arch(&e, 1, 28, 28, 10, &a2), HN_ERR_SCHEMA);
    assert_non_null(strstr(hn_error_msg(), "model.input 3x32x32"));
    hn_arch_free(a);
}

/* The data pipeline of an experiment on the real Fashion-MNIST. */
static void test_data_pipeline(void **st) {
    (void)st;
    hn_experiment e;
    const char *sets[] = {"data.dir=/nonexistent/fm"};
    assert_int_equal(hn_experiment_load_string("seed: 3\n", "d.yaml", sets, 1, &e), HN_OK);
    hn_exp_data d;
    assert_int_equal(hn_experiment_load_data(&e, &d), HN_ERR_IO);
    assert_non_null(strstr(hn_error_msg(), "/nonexistent/fm"));
    assert_null(d.train);
    if (access(HN_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", R_OK) != 0) {
        print_message("SKIP: %s not installed\n", HN_FASHION_MNIST_DIR);
        skip();
    }
    const char *y = "seed: 3\ndata: {val_size: 5000, batch_size: 100, eval_batch_size: 1000}\n";
    assert_int_equal(hn_experiment_load_string(y, "d.yaml", NULL, 0, &e), HN_OK);
    assert_int_equal(hn_experiment_load_data(&e, &d), HN_OK);
    assert_int_equal(d.split.n_val, 5000);
    assert_int_equal(d.split.n_train, 55000);
    assert_int_equal(hn_dataset_n(d.test), 10000);
    assert_true(d.norm.mean[0] > 0.27f && d.norm.mean[0] < 0.30f);
    hn_loader *tr = NULL, *va = NULL, *te = NULL;
    assert_int_equal(hn_experiment_train_loader(&e, &d, &tr), HN_OK);
    assert_int_equal(hn_experiment_eval_loader(&e, &d, false, &va), HN_OK);
    assert_int_equal(hn_experiment_eval_loader(&e, &d, true, &te), HN_OK);
    assert_int_equal(hn_loader_n_batches(tr), 550);
    assert_int_equal(hn_loader_n_batches(va), 5);
    assert_int_equal(hn_loader_n_batches(te), 10);
    /* validation batches: normalized, in the split's order, no augmentation */
    float *x = malloc(sizeof(float) * 1000 * 784);
    int *lab = malloc(sizeof(int) * 1000);
    assert_int_equal(hn_loader_next(va, x, lab), 1000);
    int k = d.split.val[7];
    const uint8_t *px = hn_dataset_pixels(d.train) + (size_t)k * 784;
    for (int j = 0; j < 784; j += 13)
        assert_float_equal(x[7 * 784 + j], (px[j] / 255.0f - d.norm.mean[0]) / d.norm.std[0], 1e-5);
    assert_int_equal(lab[7], hn_dataset_labels(d.train)[k]);
    /* the validation samples never appear in a training epoch */
    char *is_val = calloc(60000, 1);
    for (int i = 0; i < d.split.n_val; i++) is_val[d.split.val[i]] = 1;
    for (int i = 0; i < hn_loader_n_samples(tr); i++)
        assert_false(is_val[hn_loader_order_at(tr, i)]);
    free(is_val);
    free(x);
    free(lab);
    hn_loader_free(tr);
    hn_loader_free(va);
    hn_loader_free(te);
    hn_exp_data_free(&d);
    /* no validation set */
    assert_int_equal(hn_experiment_load_string("data: {val_fraction: 0}\n", "d.yaml", NULL, 0, &e), HN_OK);
    assert_int_equal(hn_experiment_load_data(&e, &d), HN_OK);
    assert_int_equal(hn_experiment_eval_loader(&e, &d, false, &va), HN_ERR_INVAL);
    assert_non_null(strstr(hn_error_msg(), "no validation set"));
    hn_exp_data_free(&d);
}

/* Every shipped experiment validates and builds for Fashion-MNIST data. */
/* The table drives the echo and the parser alike: the JSON echo of an
 * experiment (every key, defaults included) read back as an experiment file
 * gives the same echo, and a key that is parsed but never echoed (or the
 * reverse) breaks this. */
static void test_json_round_trip(void **st) {
    (void)st;
    const char *y =
        "name: rt\nseed: 7\nmodel: {name: resnet14, width: 0.5, input: 1x28x28}\n"
        "data: {val_size: 500, batch_size: 64, augment: {crop_pad: 2, flip: false}}\n"
        "config: [3, 3]\nquant: {weight_sharing: per_op, noise: 0.05, gradual: true}\n"
        "optim: {name: adam, grad_clip: 5}\n"
        "schedule: {name: step, milestones: [3, 6], threshold: 0.01}\n"
        "train: {epochs: 9, patience: 3, threads: 1}\nslim: {widths: [0.5, 1.0]}\n";
    hn_experiment e, e2;
    assert_int_equal(hn_experiment_load_string(y, "rt.yaml", NULL, 0, &e), HN_OK);
    char *j1, *j2;
    assert_int_equal(hn_experiment_to_json(&e, 0, &j1), HN_OK);
    /* "source" is provenance, not a key of the file */
    char *src = strstr(j1, "\"source\":\"\",");
    assert_non_null(src);
    char *body = strdup(j1);
    memmove(body + (src - j1), src + strlen("\"source\":\"\","),
            strlen(src + strlen("\"source\":\"\",")) + 1);
    if (hn_experiment_load_string(body, "echo.json", NULL, 0, &e2) != HN_OK)
        fail_msg("echo does not load: %s\n%s", hn_error_msg(), body);
    assert_int_equal(hn_experiment_to_json(&e2, 0, &j2), HN_OK);
    assert_string_equal(j1, j2);
    assert_int_equal(e2.optim.name, HN_OPTIM_ADAM);
    assert_int_equal(e2.schedule.n_milestones, 2);
    assert_true(e2.schedule.threshold == 0.01);
    free(body);
    free(j1);
    free(j2);
    hn_experiment_clear(&e);
    hn_experiment_clear(&e2);
}

static void test_shipped_configs(void **st) {
    (void)st;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/configs", HN_SOURCE_DIR);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *ent;
    int n = 0;
    while ((ent = readdir(d))) {
        size_t l = strlen(ent->d_name);
        if (l < 6 || strcmp(ent->d_name + l - 5, ".yaml")) continue;
        char p[2100];
        snprintf(p, sizeof p, "%s/%s", dir, ent->d_name);
        /* network configurations live here too: experiments have a model,
         * data or train section */
        char *txt;
        size_t len;
        assert_int_equal(hn_file_read_all(p, &txt, &len), HN_OK);
        bool is_exp = strstr(txt, "\ntrain:") || strstr(txt, "\ndata:");
        free(txt);
        if (!is_exp) continue;
        hn_experiment e;
        if (hn_experiment_load(p, NULL, 0, &e) != HN_OK)
            fail_msg("%s: %s", p, hn_error_msg());
        hn_arch *a = NULL;
        hn_config *c = NULL;
        if (hn_experiment_make_arch(&e, 1, 28, 28, 10, &a) != HN_OK ||
            hn_experiment_make_config(&e, a, &c) != HN_OK)
            fail_msg("%s: %s", p, hn_error_msg());
        hn_config_free(c);
        hn_arch_free(a);
        hn_experiment_clear(&e);
        n++;
    }
    closedir(d);
    print_message("%d shipped experiment files validated\n", n);
    assert_true(n >= 7);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/hn_test_experiment_XXXXXX");
    if (!mkdtemp(g_dir)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_sets),
        cmocka_unit_test(test_config_forms),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_shipped_configs),
        cmocka_unit_test(test_data_pipeline),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
    return r;
}
