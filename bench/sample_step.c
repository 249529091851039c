/* bench/sample_step: cost of a training step under a configuration sampled
 * anew every batch (a search's weight step) against steps under a fixed
 * configuration, through the training session (session.h).  Issue 8 item 3
 * asks for ratio_sampled_fixed <= 1.25.
 *
 * The same K random configurations (per-layer widths uniform in
 * [C_l/2, C_l], ops as --ops) are timed two ways, in the same run:
 *   fixed:   each configuration for `iters` steps after `warmup` steps
 *            (its primitives cached), the median step of each, averaged;
 *   sampled: one step per configuration, each new to the process (what a
 *            search does: primitives for every new geometry).
 * Prints fixed_ms, sampled_ms and ratio_sampled_fixed = sampled / fixed,
 * with oneDNN primitive buckets on (the engine's default) and, as the peer,
 * off (one primitive set per exact geometry: what issue 8 measured), each
 * in a fresh session with configurations never seen before; and
 * ratio_sampled_vs_fixed_exact (sampled with buckets / fixed without: the
 * issue's goal, <= 1.25).
 *
 * Usage: sample_step [--threads 2] [--batch 32] [--configs 20] [--iters 5]
 *        [--depth 20] [--quant] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hetnas/data.h"
#include "hetnas/experiment.h"
#include "hetnas/session.h"
#include "nn/nn_kernels.h"

#ifdef HN_HAVE_OPENMP
#include <omp.h>
#endif

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void die(const char *what) {
    fprintf(stderr, "sample_step: %s: %s\n", what, hn_error_msg());
    exit(1);
}

/* One step; restarts the epoch when it runs out (the data do not matter). */
static double step(hn_session *s, const hn_config *c) {
    double t0 = now_s();
    hn_step_result r;
    if (hn_session_step(s, c, &r) != HN_OK) die("step");
    if (r.n == 0) {
        hn_session_start_epoch(s, hn_session_epoch(s) + 1);
        t0 = now_s();
        if (hn_session_step(s, c, &r) != HN_OK) die("step");
    }
    return now_s() - t0;
}

/* Times K configurations sampled (seed) for this call, in a fresh session. */
static void measure(const hn_experiment *e, const hn_exp_data *d, int K,
                    int iters, int quant, uint64_t seed, const char *tag,
                    double *fixed_out, double *sampled_out) {
    hn_rng r;
    hn_rng_seed(&r, seed, 2);
    hn_session *s = NULL;
    if (hn_session_new(e, d, NULL, &s) != HN_OK) die("session");
    hn_model_set_bn_update(hn_session_model(s), 0); /* as a search would */
    const hn_arch *a = hn_session_arch(s);
    int L = hn_arch_n_layers(a);
    hn_op op = quant ? (hn_op){4, 4} : (hn_op){HN_BITS_FP, HN_BITS_FP};
    hn_config **cfg = calloc((size_t)K, sizeof *cfg);
    int *w = malloc(sizeof(int) * (size_t)L);
    for (int k = 0; k < K; k++) {
        for (int l = 0; l < L; l++) {
            int C = hn_arch_layer(a, l)->c_out, lo = C / 2 > 0 ? C / 2 : 1;
            w[l] = lo + (int)hn_rng_below(&r, (uint32_t)(C - lo + 1));
        }
        if (hn_config_widths(a, w, op, &cfg[k]) != HN_OK) die("config");
    }
    hn_session_start_epoch(s, 0);
    /* warm the engine (threads, buffers) at full width: not a sampled one */
    for (int i = 0; i < 3; i++) step(s, hn_session_config(s));

    double *ts = malloc(sizeof(double) * (size_t)(K > iters ? K : iters));
    for (int k = 0; k < K; k++) ts[k] = step(s, cfg[k]);
    qsort(ts, (size_t)K, sizeof *ts, cmp_d);
    double sampled = ts[K / 2];

    double fixed_sum = 0;
    for (int k = 0; k < K; k++) {
        step(s, cfg[k]); /* its primitives exist already: one more warm-up */
        for (int i = 0; i < iters; i++) ts[i] = step(s, cfg[k]);
        qsort(ts, (size_t)iters, sizeof *ts, cmp_d);
        fixed_sum += ts[iters / 2];
    }
    double fixed = fixed_sum / K;
    printf("fixed%s_ms=%.2f\nsampled%s_ms=%.2f\nratio_sampled_fixed%s=%.3f\n",
           tag, 1e3 * fixed, tag, 1e3 * sampled, tag, sampled / fixed);
    *fixed_out = fixed;
    *sampled_out = sampled;
    for (int k = 0; k < K; k++) hn_config_free(cfg[k]);
    free(cfg); free(w); free(ts);
    hn_session_free(s);
}

int main(int argc, char **argv) {
    int threads = 2, batch = 32, K = 20, iters = 5, depth = 20, quant = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--configs") && i + 1 < argc) K = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--iters") && i + 1 < argc) iters = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--depth") && i + 1 < argc) depth = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--quant")) quant = 1;
        else {
            fprintf(stderr, "usage: sample_step [--threads N] [--batch N] "
                    "[--configs K] [--iters N] [--depth 6n+2] [--quant]\n");
            return 2;
        }
    }
    if (batch < 1 || K < 1 || iters < 1) die("arguments");
#ifdef HN_HAVE_OPENMP
    omp_set_num_threads(threads);
#endif
    /* random 3x32x32 data, enough for a few epochs of batches */
    int n = batch * 8;
    uint8_t *px = malloc((size_t)n * 3 * 32 * 32), *lb = malloc((size_t)n);
    hn_rng r;
    hn_rng_seed(&r, 1, 1);
    for (size_t i = 0; i < (size_t)n * 3 * 32 * 32; i++) px[i] = (uint8_t)hn_rng_below(&r, 256);
    for (int i = 0; i < n; i++) lb[i] = (uint8_t)hn_rng_below(&r, 10);
    hn_exp_data d;
    memset(&d, 0, sizeof d);
    if (hn_dataset_from_memory(n, 3, 32, 32, px, lb, 10, "random", &d.train) != HN_OK)
        die("data");
    if (hn_split_make(n, 0.0, batch, 1, &d.split) != HN_OK) die("split");
    d.norm = hn_norm_identity(3);
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "name: bench\nmodel: {name: resnet%d}\n"
             "data: {batch_size: %d, eval_batch_size: %d, augment: {crop_pad: 0, flip: false}}\n"
             "config: %s\nslim: {recalib_batches: 0}\n",
             depth, batch, batch, quant ? "[4, 4]" : "fp32");
    hn_experiment e;
    if (hn_experiment_load_string(yaml, "bench", NULL, 0, &e) != HN_OK) die("experiment");
    printf("model=resnet%d batch=%d threads=%d configs=%d ops=%s\n", depth,
           batch, threads, K, quant ? "[4,4]" : "fp32");
    double fx[2], sm[2]; /* [0] exact geometries, [1] buckets */
    for (int pass = 0; pass < 2; pass++) {
        hn_dconv_set_buckets(pass);
        measure(&e, &d, K, iters, quant, 17 + (uint64_t)pass,
                pass ? "" : "_exact", &fx[pass], &sm[pass]);
    }
    /* the goal: sampled with buckets against a fixed step without them */
    printf("ratio_sampled_vs_fixed_exact=%.3f\n", sm[1] / fx[0]);
    free(px); free(lb);
    hn_exp_data_free(&d);
    hn_experiment_clear(&e);
    return 0;
}
