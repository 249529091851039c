/* From a validated experiment to the objects the trainer needs: the
 * architecture (checked against the data's shape) and the network
 * configuration. */
#include <stdio.h>
#include <string.h>

#include "hetnas/experiment.h"

hn_status hn_experiment_make_arch(const hn_experiment *e, int c, int h, int w,
                                  int num_classes, hn_arch **out) {
    const char *where = e->source[0] ? e->source : e->name;
    if (e->model.in_c &&
        (e->model.in_c != c || e->model.in_h != h || e->model.in_w != w))
        return hn_fail(HN_ERR_SCHEMA,
                       "%s: model.input %dx%dx%d does not match the %s data "
                       "(%dx%dx%d); use model.input: auto",
                       where, e->model.in_c, e->model.in_h, e->model.in_w,
                       e->data.name, c, h, w);
    hn_resnet_spec spec = hn_resnet_spec_default();
    spec.depth = e->model.depth;
    spec.in_c = c;
    spec.in_h = h;
    spec.in_w = w;
    spec.width = e->model.width;
    spec.num_classes = num_classes;
    hn_status s = hn_arch_resnet(&spec, out);
    if (s != HN_OK) return hn_fail_ctx(s, "%s: model", where);
    return HN_OK;
}

hn_status hn_experiment_make_config(const hn_experiment *e, const hn_arch *a,
                                    hn_config **out) {
    hn_status s = HN_OK;
    switch (e->config.kind) {
    case HN_EXP_CONFIG_FP32:
        s = hn_config_homogeneous(a, (hn_op){HN_BITS_FP, HN_BITS_FP}, out);
        break;
    case HN_EXP_CONFIG_HOMOGENEOUS:
        s = hn_config_homogeneous(a, e->config.op, out);
        break;
    case HN_EXP_CONFIG_FILE:
        s = hn_config_load(e->config.path, a, out);
        break;
    case HN_EXP_CONFIG_INLINE: {
        char name[HN_EXP_PATH + 16];
        snprintf(name, sizeof name, "%s: config", e->config.where);
        s = hn_config_load_string(e->config.inline_json, name, a, out);
        break;
    }
    }
    if (s != HN_OK && e->config.where[0] && e->config.kind != HN_EXP_CONFIG_INLINE)
        return hn_fail_ctx(s, "%s: config", e->config.where);
    return s;
}

uint64_t hn_experiment_split_seed(const hn_experiment *e) {
    return e->data.split_seed ? e->data.split_seed : e->seed;
}

void hn_exp_data_free(hn_exp_data *d) {
    if (!d) return;
    hn_dataset_free(d->train);
    hn_dataset_free(d->test);
    hn_split_free(&d->split);
    memset(d, 0, sizeof *d);
}

hn_status hn_experiment_load_data(const hn_experiment *e, hn_exp_data *out) {
    memset(out, 0, sizeof *out);
    const char *dir = e->data.dir[0] ? e->data.dir : NULL;
    hn_status s = hn_dataset_load(e->data.name, dir, HN_DATA_TRAIN, &out->train);
    if (s == HN_OK) s = hn_dataset_load(e->data.name, dir, HN_DATA_TEST, &out->test);
    if (s == HN_OK &&
        (hn_dataset_c(out->test) != hn_dataset_c(out->train) ||
         hn_dataset_h(out->test) != hn_dataset_h(out->train) ||
         hn_dataset_w(out->test) != hn_dataset_w(out->train)))
        s = hn_fail(HN_ERR_FORMAT, "%s: test images are %dx%dx%d, training "
                    "images %dx%dx%d", e->data.name, hn_dataset_c(out->test),
                    hn_dataset_h(out->test), hn_dataset_w(out->test),
                    hn_dataset_c(out->train), hn_dataset_h(out->train),
                    hn_dataset_w(out->train));
    if (s == HN_OK)
        s = hn_split_make(hn_dataset_n(out->train), e->data.val_fraction,
                          e->data.val_size, hn_experiment_split_seed(e),
                          &out->split);
    if (s == HN_OK) {
        if (e->data.normalize)
            s = hn_norm_compute(out->train, out->split.train, out->split.n_train,
                                &out->norm);
        else
            out->norm = hn_norm_identity(hn_dataset_c(out->train));
    }
    if (s != HN_OK) {
        hn_exp_data_free(out);
        const char *where = e->source[0] ? e->source : e->name;
        return hn_fail_ctx(s, "%s: data", where);
    }
    return HN_OK;
}

hn_status hn_experiment_train_loader(const hn_experiment *e,
                                     const hn_exp_data *d, hn_loader **out) {
    hn_loader_opts o = {.batch_size = e->data.batch_size,
                        .shuffle = true,
                        .drop_last = false,
                        .augment = e->data.augment,
                        .seed = e->seed};
    return hn_loader_new(d->train, d->split.train, d->split.n_train, &d->norm,
                         &o, out);
}

hn_status hn_experiment_eval_loader(const hn_experiment *e,
                                    const hn_exp_data *d, bool test,
                                    hn_loader **out) {
    hn_loader_opts o = {.batch_size = e->data.eval_batch_size, .seed = e->seed};
    if (test) return hn_loader_new(d->test, NULL, 0, &d->norm, &o, out);
    if (d->split.n_val == 0)
        return hn_fail(HN_ERR_INVAL, "%s: no validation set (data.val_fraction "
                       "and data.val_size are 0)",
                       e->source[0] ? e->source : e->name);
    return hn_loader_new(d->train, d->split.val, d->split.n_val, &d->norm, &o,
                         out);
}

hn_sched hn_experiment_make_sched(const hn_experiment *e, int epochs) {
    float lr = (float)e->optim.lr;
    hn_sched s;
    switch (e->schedule.name) {
    case HN_SCHED_STEP:
        if (e->schedule.n_milestones > 0) {
            s = hn_sched_step(lr, e->schedule.n_milestones,
                              e->schedule.milestones, (float)e->schedule.gamma);
        } else {
            int ms[HN_SCHED_MAX_MILESTONES], n = 0;
            for (int ep = e->schedule.step_size;
                 ep < epochs && n < HN_SCHED_MAX_MILESTONES;
                 ep += e->schedule.step_size)
                ms[n++] = ep;
            s = hn_sched_step(lr, n, ms, (float)e->schedule.gamma);
        }
        break;
    case HN_SCHED_COSINE:
        s = hn_sched_cosine(lr, epochs, (float)e->schedule.min_lr);
        break;
    case HN_SCHED_PLATEAU:
        s = hn_sched_plateau(lr, (float)e->schedule.factor,
                             e->schedule.patience, 1);
        s.threshold = (float)e->schedule.threshold;
        break;
    default:
        s = hn_sched_const(lr);
    }
    s.warmup_epochs = e->schedule.warmup_epochs;
    return s;
}
