/* bench/train_throughput: training-step and inference img/s of hetnas'
 * ResNet-20 (3x32x32, batch 128) against the identical PyTorch model
 * (bench/train_throughput_torch.py, Debian python3-torch) on the same random
 * batch, same thread count, in the same run.  Modes: train_fp32, train_q22
 * (per-filter fake quantization, every filter (2,2)), infer_fp32.  Prints
 * absolute img/s of both and ratio_<mode>=ours/torch.  Each of `rounds`
 * rounds times, per mode, ours then torch (median step time over iters); the
 * best round of each is kept (the machine may be shared: best-of filters
 * interference).  Before timing, both models get the same weights and must
 * agree on logits and gradients (check_* lines).
 *
 * Usage: train_throughput [--threads 2|0=from the load] [--batch 128] [--iters 20]
 *        [--rounds 2] [--python /usr/bin/python3] [--no-torch] [--profile] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hetnas/arch.h"
#include "hetnas/config.h"
#include "hetnas/nn.h"
#include "hetnas/optim.h"
#include "hetnas/rng.h"
#include "hetnas/threads.h"

#ifdef HN_HAVE_OPENMP
#include <omp.h>
#endif

#define N_MODES 3
static const char *MODES[N_MODES] = {"train_fp32", "train_q22", "infer_fp32"};

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
    fprintf(stderr, "train_throughput: %s: %s\n", what, hn_error_msg());
    exit(1);
}

/* Median img/s of ours for one mode. */
static double run_ours(const hn_arch *arch, int mode, const float *x,
                       const int *y, int n, int warmup, int iters, int profile) {
    hn_config *cfg = NULL;
    hn_op op = mode == 1 ? (hn_op){2, 2} : (hn_op){HN_BITS_FP, HN_BITS_FP};
    if (hn_config_homogeneous(arch, op, &cfg) != HN_OK) die("config");
    hn_model_opts mo = hn_model_opts_default();
    hn_model *m = NULL;
    if (hn_model_new(arch, cfg, &mo, &m) != HN_OK) die("model");
    if (mode == 1 && hn_model_calibrate_clamps(m, x, n) != HN_OK) die("calibrate");
    hn_optim_opts oo = hn_optim_opts_sgd(0.01f, 0.9f, 5e-4f, 0);
    hn_optim *opt = NULL;
    if (hn_optim_new_model(&oo, m, &opt) != HN_OK) die("optim");
    int k = hn_arch_spec(arch)->num_classes;
    float *logits = malloc(sizeof(float) * (size_t)n * k);
    float *dl = malloc(sizeof(float) * (size_t)n * k);
    double *t = malloc(sizeof(double) * (size_t)iters);
    int train = mode != 2;
    for (int i = 0; i < warmup + iters; i++) {
        if (i == warmup) hn_model_profile_reset(m);
        double t0 = now_s();
        if (train) {
            hn_model_zero_grad(m);
            if (hn_model_forward(m, x, n, 1, logits) != HN_OK) die("forward");
            hn_softmax_ce(logits, y, n, k, dl, NULL);
            if (hn_model_backward(m, dl) != HN_OK) die("backward");
            hn_optim_step(opt);
        } else {
            if (hn_model_forward(m, x, n, 0, logits) != HN_OK) die("forward");
        }
        if (i >= warmup) t[i - warmup] = now_s() - t0;
    }
    qsort(t, (size_t)iters, sizeof(double), cmp_d);
    double med = t[iters / 2];
    if (profile) {
        hn_model_prof p = hn_model_profile(m);
        double tot = p.conv_fwd + p.conv_bwd + p.bn_act_fwd + p.bn_act_bwd +
                     p.wquant + p.other;
        printf("profile_%s: per step ms: conv_fwd %.1f conv_bwd %.1f "
               "bn_act_fwd %.1f bn_act_bwd %.1f wquant+scatter %.1f other %.1f "
               "(model total %.1f, step median %.1f)\n",
               MODES[mode], 1e3 * p.conv_fwd / iters, 1e3 * p.conv_bwd / iters,
               1e3 * p.bn_act_fwd / iters, 1e3 * p.bn_act_bwd / iters,
               1e3 * p.wquant / iters, 1e3 * p.other / iters, 1e3 * tot / iters,
               1e3 * med);
    }
    free(t); free(dl); free(logits);
    hn_optim_free(opt);
    hn_model_free(m);
    hn_config_free(cfg);
    return (double)n / med;
}

/* Runs the PyTorch peer for one mode; fills torch[mode]. */
static int run_torch(const char *python, const char *script, const char *input,
                     int threads, int n, int warmup, int iters, int mode,
                     double *torch) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "env -u GOMP_SPINCOUNT OMP_NUM_THREADS=%d %s %s --threads %d --batch %d --warmup %d "
             "--iters %d --input %s --modes %s",
             threads, python, script, threads, n, warmup, iters, input, MODES[mode]);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char line[512];
    int got = 0;
    static int printed_version;
    while (fgets(line, sizeof line, p)) {
        for (int m = 0; m < N_MODES; m++) {
            char key[64];
            snprintf(key, sizeof key, "torch_%s_img_s=", MODES[m]);
            if (strncmp(line, key, strlen(key)) == 0) {
                torch[m] = atof(line + strlen(key));
                got++;
            }
        }
        if (strncmp(line, "torch_version", 13) == 0 && !printed_version) {
            fputs(line, stdout);
            printed_version = 1;
        }
    }
    int rc = pclose(p);
    return (rc == 0 && got == 1) ? 0 : -1;
}

/* Same FP32 weights in both: compares one train-mode forward/backward
 * (logits and every weight/BN/FC gradient) with PyTorch's. */
static int run_check(const hn_arch *arch, int bits, const char *python,
                     const char *script, const char *input, int threads,
                     const float *x, const int *y, int n) {
    hn_model *m = NULL;
    hn_config *cfg = NULL;
    hn_op op = {bits, bits};
    if (hn_config_homogeneous(arch, op, &cfg) != HN_OK) die("config");
    if (hn_model_new(arch, cfg, NULL, &m) != HN_OK) die("model");
    if (bits < 32 && hn_model_calibrate_clamps(m, x, n) != HN_OK) die("calibrate");
    char pre[300], path[320], tag[16];
    snprintf(tag, sizeof tag, bits < 32 ? "q%d%d" : "fp32", bits, bits);
    snprintf(pre, sizeof pre, "%s.check", input);
    snprintf(path, sizeof path, "%s.txt", pre);
    FILE *ft = fopen(path, "w");
    snprintf(path, sizeof path, "%s.bin", pre);
    FILE *fb = fopen(path, "wb");
    if (!ft || !fb) die("check files");
    size_t total = 0;
    for (int i = 0; i < hn_model_n_params(m); i++) {
        hn_param p = hn_model_param(m, i);
        fprintf(ft, "%s %zu\n", p.name, p.numel);
        fwrite(p.data, sizeof(float), p.numel, fb);
        total += p.numel;
    }
    fclose(ft);
    fclose(fb);
    int k = hn_arch_spec(arch)->num_classes;
    float *z = malloc(sizeof(float) * (size_t)n * k), *dz = malloc(sizeof(float) * (size_t)n * k);
    hn_model_zero_grad(m);
    if (hn_model_forward(m, x, n, 1, z) != HN_OK) die("forward");
    hn_softmax_ce(z, y, n, k, dz, NULL);
    if (hn_model_backward(m, dz) != HN_OK) die("backward");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "env -u GOMP_SPINCOUNT OMP_NUM_THREADS=%d %s %s --threads %d --batch %d "
             "--input %s --check %s --check-bits %d", threads, python, script, threads,
             n, input, pre, bits);
    FILE *p = popen(cmd, "r");
    char line[8192];
    int rc = -1;
    while (p && fgets(line, sizeof line, p))
        if (strncmp(line, "torch_keys_missing", 18) == 0) {
            char *eq = strchr(line, '=');
            line[strcspn(line, "\n")] = 0;
            printf("check_%s_torch_keys_missing_in_ours=%s\n", tag,
                   eq && eq[1] ? eq + 1 : "none");
            rc = 0;
        }
    if (!p || pclose(p) != 0) rc = -1;
    snprintf(path, sizeof path, "%s.out.bin", pre);
    size_t nout = (size_t)n * k + total;
    float *o = malloc(sizeof(float) * nout);
    FILE *fo = rc == 0 ? fopen(path, "rb") : NULL;
    if (!fo || fread(o, sizeof(float), nout, fo) != nout) rc = -1;
    if (fo) fclose(fo);
    if (rc == 0) {
        double zmax = 0, zd = 0;
        for (int i = 0; i < n * k; i++) {
            zmax = fmax(zmax, fabs(o[i]));
            zd = fmax(zd, fabs(o[i] - z[i]));
        }
        double worst = 0;
        const char *wname = "";
        size_t off = (size_t)n * k;
        for (int i = 0; i < hn_model_n_params(m); i++) {
            hn_param q = hn_model_param(m, i);
            if (q.grad && !isnan(o[off])) {
                double nd = 0, nr = 0;
                for (size_t j = 0; j < q.numel; j++) {
                    nd += ((double)q.grad[j] - o[off + j]) * ((double)q.grad[j] - o[off + j]);
                    nr += (double)o[off + j] * o[off + j];
                }
                double rel = sqrt(nd) / (sqrt(nr) + 1e-12);
                if (getenv("HN_BENCH_CHECK_VERBOSE"))
                    printf("check_%s %s rel_diff=%.3g norm=%.3g\n", tag, q.name, rel, sqrt(nr));
                if (rel > worst) { worst = rel; wname = q.name; }
            }
            off += q.numel;
        }
        printf("check_%s_logits_max_rel_diff=%.3g\n", tag, zd / (zmax + 1e-12));
        printf("check_%s_grads_max_rel_diff=%.3g (%s)\n", tag, worst, wname);
    } else {
        printf("check_%s_failed=1\n", tag);
    }
    for (const char *ext = ".txt"; ext; ext = strcmp(ext, ".txt") == 0 ? ".bin"
                                       : strcmp(ext, ".bin") == 0 ? ".out.bin" : NULL) {
        snprintf(path, sizeof path, "%s%s", pre, ext);
        remove(path);
    }
    free(o); free(z); free(dz);
    hn_model_free(m);
    hn_config_free(cfg);
    return rc;
}

int main(int argc, char **argv) {
    /* the same OpenMP wait policy as the hetnas CLI (threads.h); the PyTorch
     * peer runs with its own defaults (env -u GOMP_SPINCOUNT) */
    if (hn_threads_tune_env()) execv("/proc/self/exe", argv);
    int threads = 2, n = 128, iters = 20, warmup = 3, rounds = 2, no_torch = 0,
        profile = 0;
    const char *python = "/usr/bin/python3";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--iters") && i + 1 < argc) iters = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warmup = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--python") && i + 1 < argc) python = argv[++i];
        else if (!strcmp(argv[i], "--no-torch")) no_torch = 1;
        else if (!strcmp(argv[i], "--profile")) profile = 1;
        else {
            fprintf(stderr, "usage: %s [--threads T] [--batch N] [--iters I] "
                    "[--warmup W] [--rounds R] [--python PY] [--no-torch] "
                    "[--profile]\n", argv[0]);
            return 2;
        }
    }
    /* --threads 0: ours picks its count from the load as `train.threads: 0`
     * does (bench/under_load.sh runs it with --no-torch) */
    int auto_threads = threads == 0;
    if (auto_threads) threads = hn_threads_apply(0);
    if (threads < 1 || n < 1 || iters < 1 || rounds < 1) {
        fprintf(stderr, "train_throughput: bad arguments\n");
        return 2;
    }
#ifdef HN_HAVE_OPENMP
    omp_set_num_threads(threads);
#endif
    char nthr[16];
    snprintf(nthr, sizeof nthr, "%d", threads);
    setenv("OMP_NUM_THREADS", nthr, 1);

    hn_resnet_spec spec = hn_resnet_spec_default(); /* resnet20, 3x32x32 */
    hn_arch *arch = NULL;
    if (hn_arch_resnet(&spec, &arch) != HN_OK) die("arch");
    /* the batch: N(0,1) pixels, uniform labels, seed 1 */
    size_t nx = (size_t)n * 3 * 32 * 32;
    float *x = malloc(sizeof(float) * nx);
    int *y = malloc(sizeof(int) * (size_t)n);
    hn_rng r;
    hn_rng_seed(&r, 1, 0);
    for (size_t i = 0; i < nx; i++) x[i] = (float)hn_rng_normal(&r);
    for (int i = 0; i < n; i++) y[i] = (int)hn_rng_below(&r, 10);
    char input[256];
    snprintf(input, sizeof input, "%s/hn_bench_batch_%d.bin",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    FILE *f = fopen(input, "wb");
    if (!f || fwrite(x, sizeof(float), nx, f) != nx ||
        fwrite(y, sizeof(int), (size_t)n, f) != (size_t)n || fclose(f) != 0) {
        fprintf(stderr, "train_throughput: cannot write %s\n", input);
        return 1;
    }
    char script[1024];
    snprintf(script, sizeof script, "%s/train_throughput_torch.py", HN_BENCH_DIR);
    printf("bench=train_throughput model=resnet20 input=3x32x32 batch=%d "
           "threads=%d iters=%d rounds=%d\n", n, threads, iters, rounds);
    if (getenv("HN_BENCH_CHECK_ONLY")) rounds = 0;
    double best_ours[N_MODES] = {0}, best_torch[N_MODES] = {0};
    int torch_ok = !no_torch;
    if (torch_ok) {
        if (!getenv("HN_BENCH_CHECK_Q_ONLY"))
            run_check(arch, HN_BITS_FP, python, script, input, threads, x, y, n);
        run_check(arch, 2, python, script, input, threads, x, y, n);
    }
    /* ours and torch alternate per mode so that interference from other
     * processes hits both alike */
    for (int rd = 0; rd < rounds; rd++) {
        for (int m = 0; m < N_MODES; m++) {
            double v = run_ours(arch, m, x, y, n, warmup, iters,
                                profile && rd == rounds - 1);
            printf("round=%d ours_%s_img_s=%.1f\n", rd, MODES[m], v);
            if (v > best_ours[m]) best_ours[m] = v;
            if (torch_ok) {
                double t[N_MODES] = {0};
                if (run_torch(python, script, input, threads, n, warmup, iters, m,
                              t) != 0) {
                    fprintf(stderr, "train_throughput: PyTorch peer failed (%s); "
                            "ratios not printed\n", python);
                    torch_ok = 0;
                } else {
                    printf("round=%d torch_%s_img_s=%.1f\n", rd, MODES[m], t[m]);
                    if (t[m] > best_torch[m]) best_torch[m] = t[m];
                }
            }
            fflush(stdout);
        }
    }
    remove(input);
    for (int m = 0; m < N_MODES; m++) {
        printf("ours_%s_img_s=%.1f\n", MODES[m], best_ours[m]);
        if (torch_ok) printf("torch_%s_img_s=%.1f\n", MODES[m], best_torch[m]);
    }
    if (torch_ok)
        for (int m = 0; m < N_MODES; m++)
            printf("ratio_%s=%.2f\n", MODES[m], best_ours[m] / best_torch[m]);
    free(x); free(y);
    hn_arch_free(arch);
    return torch_ok || no_torch ? 0 : 1;
}
