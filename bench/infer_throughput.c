/* bench/infer_throughput: integer inference img/s of a whole ResNet-20
 * through hetnas' integer network (intnet.h) on a backend chosen by name
 * (backend.h; default cpuint), against PyTorch FP32 inference of the same
 * ResNet-20 (bench/infer_throughput_torch.py, Debian python3-torch) in the
 * same run, same batch and thread count.
 *
 * Configurations: q22, q44, q88 (homogeneous (b_w, b_a)) and hetero
 * (configs/resnet20_hetero.yaml); inputs 3x32x32 and 1x28x28.  Weights are
 * random (Kaiming init) with clamps calibrated on random data: the integer
 * network does the same work whatever the values, so throughput does not
 * depend on training.  Before timing, each network's logits on a few images
 * must equal those of the `ref` backend bit for bit (integer backends are
 * exact, tests/test_backend_ops.c); a mismatch fails the run, since the speed
 * of a wrong backend means nothing.
 *
 * Timing (both sides alike): warm up until two consecutive rates (each over
 * >= 0.25 s of forwards) agree within 5% (capped), then `rounds` rounds, each
 * the forwards of >= --round-s seconds (at least one) on one batch of B
 * images; the best round is kept (the machine may be shared: best-of filters
 * interference).  PyTorch runs in its own process, one per input, after ours
 * for that input; this process is blocked in fgets/pclose meanwhile, so the
 * two never compete for cores.
 *
 * A second peer, ONNX Runtime (npm's onnxruntime-node, CPU provider, the
 * strongest CPU inference engine here), runs the same ResNet-20 exported to
 * ONNX by PyTorch, timed the same way (bench/infer_throughput_ort.js).
 *
 * Prints ours_<cfg>_<input>_img_s=, torch_<input>_img_s=, ort_<input>_img_s=,
 * ratio_infer_<cfg>_<input>=ours/torch and ratio_infer_ort_<cfg>_<input>=
 * ours/ort, plus check_bitexact_vs_ref=1.
 *
 * Usage: infer_throughput [--backend cpuint] [--threads 2] [--batch 64]
 *        [--rounds 3] [--round-s 0.5] [--warmup-cap-s 20]
 *        [--configs q22,q44,q88,hetero]
 *        [--inputs 3x32x32,1x28x28] [--hetero configs/resnet20_hetero.yaml]
 *        [--check-images 4] [--python /usr/bin/python3] [--no-torch]
 *        [--node node] [--ort-modules bench/node_modules] [--no-ort] */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hetnas/arch.h"
#include "hetnas/backend.h"
#include "hetnas/config.h"
#include "hetnas/intnet.h"
#include "hetnas/nn.h"
#include "hetnas/rng.h"
#include "hetnas/threads.h"

#ifdef HN_HAVE_OPENMP
#include <omp.h>
#endif

#define PROG "infer_throughput"
#define MAX_LIST 8

/* Warm-up: rates over windows of WARM_WINDOW_S until two consecutive ones
 * agree within WARM_TOL, at most --warmup-cap-s seconds (default 20; slow
 * backends such as ref or csim may not settle, but have no warm-up effects
 * to wait for anyway). */
#define WARM_WINDOW_S 0.25
#define WARM_TOL 0.05

/* Data normalization the models get (hn_model_set_input_norm): the usual
 * CIFAR-10 and Fashion-MNIST statistics; any values would do. */
static const float k_mean3[3] = {0.4914f, 0.4822f, 0.4465f};
static const float k_std3[3] = {0.2470f, 0.2435f, 0.2616f};
static const float k_mean1[1] = {0.2860f};
static const float k_std1[1] = {0.3530f};

typedef struct bench_opts {
    const char *backend, *python, *hetero_path, *node, *ort_modules;
    int threads, batch, rounds, check_images, no_torch, no_ort;
    double round_s, warmup_cap_s;
    int n_cfgs, n_inputs;
    const char *cfgs[MAX_LIST];   /* q22 q44 q88 hetero */
    const char *inputs[MAX_LIST]; /* "CxHxW" */
} bench_opts;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Splits a comma list in place (s is modified and must outlive out). */
static int split_list(char *s, const char **out, int cap) {
    int n = 0;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        if (n == cap) return -1;
        out[n++] = tok;
    }
    return n;
}

/* The configuration named cfg for arch a: q<w><a> homogeneous or "hetero"
 * (the YAML file). */
static hn_status make_config(const bench_opts *bo, const hn_arch *a,
                             const char *cfg, hn_config **out) {
    if (!strcmp(cfg, "hetero")) return hn_config_load(bo->hetero_path, a, out);
    if (cfg[0] == 'q' && strlen(cfg) == 3 && cfg[1] >= '1' && cfg[1] <= '8' &&
        cfg[2] >= '1' && cfg[2] <= '8') {
        hn_op op = {cfg[1] - '0', cfg[2] - '0'};
        return hn_config_homogeneous(a, op, out);
    }
    return hn_fail(HN_ERR_INVAL, "unknown configuration '%s' (q<wbits><abits> "
                   "with bits 1..8, or hetero)", cfg);
}

/* A ResNet-20 model under configuration cfg with the 8-bit input contract
 * and clamps calibrated on `ncal` random normalized images xcal
 * (ncal, C, H, W): what hn_intnet_new needs. */
static hn_status make_model(const hn_arch *a, const hn_config *c,
                            const float *mean, const float *std,
                            const float *xcal, int ncal, hn_model **out) {
    hn_model_opts mo = hn_model_opts_default();
    hn_status s = hn_model_new(a, c, &mo, out);
    if (s != HN_OK) return s;
    hn_model_set_input_norm(*out, mean, std);
    s = hn_model_calibrate_clamps(*out, xcal, ncal);
    if (s != HN_OK) {
        hn_model_free(*out);
        *out = NULL;
    }
    return s;
}

/* Forwards of batch n repeated for at least min_s seconds (at least one);
 * returns img/s, or a negative value when a forward fails. */
static double rate_over(hn_intnet *net, const uint8_t *codes, int n,
                        float *logits, double min_s) {
    double t0 = now_s(), t;
    long it = 0;
    do {
        if (hn_intnet_forward(net, codes, n, logits) != HN_OK) return -1;
        it++;
        t = now_s() - t0;
    } while (t < min_s);
    return (double)n * (double)it / t;
}

/* Warm-up then best of rounds; img/s or negative on failure. */
static double time_ours(const bench_opts *bo, hn_intnet *net,
                        const uint8_t *codes, float *logits, double *warm_s) {
    double t0 = now_s(), prev = rate_over(net, codes, bo->batch, logits,
                                          WARM_WINDOW_S);
    if (prev < 0) return -1;
    while (now_s() - t0 < bo->warmup_cap_s) {
        double cur = rate_over(net, codes, bo->batch, logits, WARM_WINDOW_S);
        if (cur < 0) return -1;
        if (fabs(cur - prev) <= WARM_TOL * fmin(cur, prev)) break;
        prev = cur;
    }
    *warm_s = now_s() - t0;
    double best = 0;
    for (int r = 0; r < bo->rounds; r++) {
        double v = rate_over(net, codes, bo->batch, logits, bo->round_s);
        if (v < 0) return -1;
        if (v > best) best = v;
    }
    return best;
}

/* Logits of the first k images on net and ref (k <= batch) must be equal
 * bit for bit.  Returns 0 when they are, 1 when not (message printed), -1
 * when a forward fails. */
static int check_bitexact(hn_intnet *net, hn_intnet *ref, const uint8_t *codes,
                          int k, int classes, const char *what,
                          const char *backend) {
    size_t nz = (size_t)k * classes;
    float *zb = malloc(sizeof(float) * nz), *zr = malloc(sizeof(float) * nz);
    int rc = -1;
    if (!zb || !zr) goto done;
    if (hn_intnet_forward(net, codes, k, zb) != HN_OK) {
        fprintf(stderr, PROG ": %s: forward on %s: %s\n", what, backend,
                hn_error_msg());
        goto done;
    }
    if (hn_intnet_forward(ref, codes, k, zr) != HN_OK) {
        fprintf(stderr, PROG ": %s: forward on ref: %s\n", what, hn_error_msg());
        goto done;
    }
    rc = 0;
    for (size_t i = 0; i < nz; i++)
        if (memcmp(&zb[i], &zr[i], sizeof(float)) != 0) {
            fprintf(stderr, PROG ": %s: logits on %s differ from ref's: image %zu "
                    "class %zu: %.9g vs %.9g\n", what, backend, i / classes,
                    i % classes, zb[i], zr[i]);
            rc = 1;
            break;
        }
done:
    free(zb);
    free(zr);
    return rc;
}

/* Runs a peer command that prints <tag>_version=, <tag>_warmup_s=,
 * <tag>_round=... and <tag>_img_s=<best>; *img_s = its best round.  The
 * version line is echoed, the others tagged with the input. */
static int run_peer(const char *cmd, const char *tag, const char *input,
                    double *img_s) {
    fflush(stdout);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char line[512], key[32];
    size_t tl = strlen(tag);
    int got = 0;
    snprintf(key, sizeof key, "%s_img_s=", tag);
    while (fgets(line, sizeof line, p)) {
        if (!strncmp(line, key, strlen(key))) {
            *img_s = atof(line + strlen(key));
            got = *img_s > 0;
        } else if (!strncmp(line, tag, tl) && !strncmp(line + tl, "_version=", 9)) {
            fputs(line, stdout);
        } else if (!strncmp(line, tag, tl) && line[tl] == '_') {
            printf("%s_%s_%s", tag, input, line + tl + 1);
        }
    }
    int rc = pclose(p);
    return rc == 0 && got ? 0 : -1;
}

/* The PyTorch peer for one input (its own process, OpenMP's defaults: no
 * GOMP_SPINCOUNT of ours). */
static int run_torch(const bench_opts *bo, const char *input, double *img_s) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "env -u GOMP_SPINCOUNT OMP_NUM_THREADS=%d %s %s/infer_throughput_torch.py "
             "--threads %d --batch %d --input %s --rounds %d --round-s %g "
             "--warmup-cap-s %g", bo->threads, bo->python, HN_BENCH_DIR,
             bo->threads, bo->batch, input, bo->rounds, bo->round_s,
             bo->warmup_cap_s);
    return run_peer(cmd, "torch", input, img_s);
}

/* The ONNX Runtime peer for one input: PyTorch exports the same ResNet-20 to
 * ONNX (a temporary file), npm's onnxruntime-node runs it. */
static int run_ort(const bench_opts *bo, const char *input, double *img_s) {
    char onnx[] = "/tmp/hn_infer_ort_XXXXXX";
    int fd = mkstemp(onnx);
    if (fd < 0) return -1;
    close(fd);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s/infer_throughput_torch.py --input %s "
             "--batch %d --export-onnx %s >/dev/null", bo->python, HN_BENCH_DIR,
             input, bo->batch, onnx);
    int rc = system(cmd) == 0 ? 0 : -1;
    if (rc == 0) {
        snprintf(cmd, sizeof cmd,
                 "env -u GOMP_SPINCOUNT %s %s/infer_throughput_ort.js --model %s "
                 "--node-modules %s --threads %d --batch %d --input %s --rounds %d "
                 "--round-s %g --warmup-cap-s %g", bo->node, HN_BENCH_DIR, onnx,
                 bo->ort_modules, bo->threads, bo->batch, input, bo->rounds,
                 bo->round_s, bo->warmup_cap_s);
        rc = run_peer(cmd, "ort", input, img_s);
    }
    unlink(onnx);
    return rc;
}

/* One input: every configuration's ours (with the bit-exact check), then the
 * peer, then the ratios.  Returns 0, or 1 on any failure (message printed). */
static int bench_input(const bench_opts *bo, hn_backend *be, hn_backend *refb,
                       const char *input, int *torch_ok) {
    hn_resnet_spec spec = hn_resnet_spec_default(); /* resnet20, 10 classes */
    if (hn_parse_input_shape(input, &spec.in_c, &spec.in_h, &spec.in_w) != HN_OK) {
        fprintf(stderr, PROG ": %s\n", hn_error_msg());
        return 1;
    }
    if (spec.in_c != 1 && spec.in_c != 3) {
        fprintf(stderr, PROG ": input '%s': 1 or 3 channels (normalization "
                "statistics)\n", input);
        return 1;
    }
    const float *mean = spec.in_c == 3 ? k_mean3 : k_mean1;
    const float *std = spec.in_c == 3 ? k_std3 : k_std1;
    hn_arch *a = NULL;
    if (hn_arch_resnet(&spec, &a) != HN_OK) {
        fprintf(stderr, PROG ": arch %s: %s\n", input, hn_error_msg());
        return 1;
    }
    const int classes = spec.num_classes, chw = spec.in_c * spec.in_h * spec.in_w;
    enum { NCAL = 32 }; /* calibration images */
    uint8_t *codes = malloc((size_t)bo->batch * chw); /* (B, C, H, W) */
    float *xcal = malloc(sizeof(float) * NCAL * chw); /* (NCAL, C, H, W) */
    float *logits = malloc(sizeof(float) * (size_t)bo->batch * classes);
    double ours[MAX_LIST] = {0};
    int rc = 1;
    if (!codes || !xcal || !logits) {
        fprintf(stderr, PROG ": out of memory (batch %d of %s)\n", bo->batch, input);
        goto done;
    }
    /* uniform 8-bit pixels, fixed seed; calibration data normalized as the
     * loader would */
    hn_rng r;
    hn_rng_seed(&r, 1, (uint64_t)spec.in_c);
    for (size_t i = 0; i < (size_t)bo->batch * chw; i++)
        codes[i] = (uint8_t)hn_rng_below(&r, 256);
    for (int i = 0; i < NCAL * chw; i++) {
        int c = (i / (spec.in_h * spec.in_w)) % spec.in_c;
        xcal[i] = ((float)hn_rng_below(&r, 256) / 255.0f - mean[c]) / std[c];
    }
    for (int ci = 0; ci < bo->n_cfgs; ci++) {
        const char *cfg = bo->cfgs[ci];
        char what[96];
        snprintf(what, sizeof what, "%s %s", cfg, input);
        hn_config *c = NULL;
        hn_model *m = NULL;
        hn_intnet *net = NULL, *ref = NULL;
        int ok = 0;
        hn_intnet_opts o = hn_intnet_opts_default(), orf = hn_intnet_opts_default();
        hn_backend_intnet_opts(be, &o);
        hn_backend_intnet_opts(refb, &orf);
        if (make_config(bo, a, cfg, &c) != HN_OK)
            fprintf(stderr, PROG ": %s: configuration: %s\n", what, hn_error_msg());
        else if (make_model(a, c, mean, std, xcal, NCAL, &m) != HN_OK)
            fprintf(stderr, PROG ": %s: model: %s\n", what, hn_error_msg());
        else if (hn_intnet_new(m, &o, &net) != HN_OK)
            fprintf(stderr, PROG ": %s: integer network on %s: %s\n", what,
                    bo->backend, hn_error_msg());
        else if (hn_intnet_new(m, &orf, &ref) != HN_OK)
            fprintf(stderr, PROG ": %s: integer network on ref: %s\n", what,
                    hn_error_msg());
        else {
            int k = bo->check_images < bo->batch ? bo->check_images : bo->batch;
            int chk = check_bitexact(net, ref, codes, k, classes, what, bo->backend);
            if (chk == 0) {
                double warm = 0;
                ours[ci] = time_ours(bo, net, codes, logits, &warm);
                if (ours[ci] < 0)
                    fprintf(stderr, PROG ": %s: forward on %s: %s\n", what,
                            bo->backend, hn_error_msg());
                else {
                    printf("ours_%s_%s_warmup_s=%.1f\n", cfg, input, warm);
                    printf("ours_%s_%s_img_s=%.1f\n", cfg, input, ours[ci]);
                    ok = 1;
                }
            } else if (chk > 0) {
                printf("check_bitexact_vs_ref=0\n");
            }
        }
        fflush(stdout);
        hn_intnet_free(ref);
        hn_intnet_free(net);
        hn_model_free(m);
        hn_config_free(c);
        if (!ok) goto done;
    }
    if (*torch_ok) {
        double t = 0;
        if (run_torch(bo, input, &t) != 0) {
            fprintf(stderr, PROG ": PyTorch peer failed for %s (%s); no ratios\n",
                    input, bo->python);
            *torch_ok = 0;
            goto done;
        }
        printf("torch_%s_img_s=%.1f\n", input, t);
        for (int ci = 0; ci < bo->n_cfgs; ci++)
            printf("ratio_infer_%s_%s=%.3f\n", bo->cfgs[ci], input, ours[ci] / t);
    }
    if (!bo->no_ort) {
        double t = 0;
        if (run_ort(bo, input, &t) != 0) {
            fprintf(stderr, PROG ": ONNX Runtime peer failed for %s (node %s, "
                    "modules %s); no ratios\n", input, bo->node, bo->ort_modules);
            goto done;
        }
        printf("ort_%s_img_s=%.1f\n", input, t);
        for (int ci = 0; ci < bo->n_cfgs; ci++)
            printf("ratio_infer_ort_%s_%s=%.3f\n", bo->cfgs[ci], input, ours[ci] / t);
    }
    rc = 0;
done:
    fflush(stdout);
    free(codes);
    free(xcal);
    free(logits);
    hn_arch_free(a);
    return rc;
}

static void usage(const char *argv0) {
    fprintf(stderr,
            "usage: %s [--backend NAME (cpuint)] [--threads T (2)] [--batch B (64)]\n"
            "          [--rounds R (3)] [--round-s S (0.5)] [--warmup-cap-s S (20)]\n"
            "          [--configs q22,q44,q88,hetero]\n"
            "          [--inputs 3x32x32,1x28x28] [--hetero FILE.yaml] [--check-images K (4)]\n"
            "          [--python PY] [--no-torch] [--node NODE] [--ort-modules DIR]\n"
            "          [--no-ort]\n", argv0);
}

int main(int argc, char **argv) {
    /* the same OpenMP wait policy as the hetnas CLI (threads.h): libgomp
     * reads it at load time, hence the re-exec */
    if (hn_threads_tune_env()) execv("/proc/self/exe", argv);
    static char cfg_buf[256] = "q22,q44,q88,hetero", in_buf[256] = "3x32x32,1x28x28";
    bench_opts bo = {
        .backend = "cpuint", .python = "/usr/bin/python3", .node = "node",
        .ort_modules = HN_BENCH_DIR "/node_modules",
        .hetero_path = HN_SOURCE_DIR "/configs/resnet20_hetero.yaml",
        .threads = 2, .batch = 64, .rounds = 3, .check_images = 4,
        .round_s = 0.5, .warmup_cap_s = 20.0,
    };
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--no-torch")) { bo.no_torch = 1; continue; }
        if (!strcmp(argv[i], "--no-ort")) { bo.no_ort = 1; continue; }
        if (!v) { usage(argv[0]); return 2; }
        if (!strcmp(argv[i], "--backend")) bo.backend = v;
        else if (!strcmp(argv[i], "--threads")) bo.threads = atoi(v);
        else if (!strcmp(argv[i], "--batch")) bo.batch = atoi(v);
        else if (!strcmp(argv[i], "--rounds")) bo.rounds = atoi(v);
        else if (!strcmp(argv[i], "--round-s")) bo.round_s = atof(v);
        else if (!strcmp(argv[i], "--warmup-cap-s")) bo.warmup_cap_s = atof(v);
        else if (!strcmp(argv[i], "--check-images")) bo.check_images = atoi(v);
        else if (!strcmp(argv[i], "--hetero")) bo.hetero_path = v;
        else if (!strcmp(argv[i], "--python")) bo.python = v;
        else if (!strcmp(argv[i], "--node")) bo.node = v;
        else if (!strcmp(argv[i], "--ort-modules")) bo.ort_modules = v;
        else if (!strcmp(argv[i], "--configs")) snprintf(cfg_buf, sizeof cfg_buf, "%s", v);
        else if (!strcmp(argv[i], "--inputs")) snprintf(in_buf, sizeof in_buf, "%s", v);
        else { usage(argv[0]); return 2; }
        i++;
    }
    bo.n_cfgs = split_list(cfg_buf, bo.cfgs, MAX_LIST);
    bo.n_inputs = split_list(in_buf, bo.inputs, MAX_LIST);
    if (bo.threads < 1 || bo.batch < 1 || bo.rounds < 1 || bo.check_images < 1 ||
        !(bo.round_s >= 0) || !(bo.warmup_cap_s >= 0) || bo.n_cfgs < 1 ||
        bo.n_inputs < 1) {
        fprintf(stderr, PROG ": bad arguments (threads, batch, rounds, "
                "check-images >= 1, round-s, warmup-cap-s >= 0, 1..%d configs "
                "and inputs)\n",
                MAX_LIST);
        return 2;
    }
    /* names checked before any work: a typo must not cost a long run */
    for (int i = 0; i < bo.n_cfgs; i++) {
        hn_resnet_spec sp = hn_resnet_spec_default();
        hn_arch *a = NULL;
        hn_config *c = NULL;
        if (hn_arch_resnet(&sp, &a) != HN_OK || make_config(&bo, a, bo.cfgs[i], &c) != HN_OK) {
            fprintf(stderr, PROG ": configuration '%s': %s\n", bo.cfgs[i], hn_error_msg());
            hn_arch_free(a);
            return 2;
        }
        hn_config_free(c);
        hn_arch_free(a);
    }
    for (int i = 0; i < bo.n_inputs; i++) {
        int c, h, w;
        if (hn_parse_input_shape(bo.inputs[i], &c, &h, &w) != HN_OK) {
            fprintf(stderr, PROG ": %s\n", hn_error_msg());
            return 2;
        }
    }
#ifdef HN_HAVE_OPENMP
    omp_set_num_threads(bo.threads);
#endif
    char nthr[16];
    snprintf(nthr, sizeof nthr, "%d", bo.threads);
    setenv("OMP_NUM_THREADS", nthr, 1);

    /* fail before any work when a side cannot run */
    hn_backend *be = NULL, *refb = NULL;
    if (hn_backend_open(bo.backend, NULL, &be) != HN_OK) {
        fprintf(stderr, PROG ": backend '%s': %s\n", bo.backend, hn_error_msg());
        return 1;
    }
    if (!hn_backend_ops_of(be)->runs_jobs) {
        fprintf(stderr, PROG ": backend '%s' runs no integer jobs (float networks "
                "only); choose an integer backend (`hetnas hw backends`)\n", bo.backend);
        hn_backend_close(be);
        return 1;
    }
    if (hn_backend_open("ref", NULL, &refb) != HN_OK) {
        fprintf(stderr, PROG ": backend 'ref': %s\n", hn_error_msg());
        hn_backend_close(be);
        return 1;
    }
    int torch_ok = !bo.no_torch;
    if (torch_ok) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "%s -c 'import torch' >/dev/null 2>&1", bo.python);
        if (system(cmd) != 0) {
            fprintf(stderr, PROG ": PyTorch is not importable by %s (Debian "
                    "python3-torch; `make deps-bench` installs it), or run with "
                    "--no-torch\n", bo.python);
            hn_backend_close(refb);
            hn_backend_close(be);
            return 1;
        }
    }
    if (!bo.no_ort) {
        /* the ONNX model comes from PyTorch's exporter */
        char cmd[2048];
        snprintf(cmd, sizeof cmd, "%s -c 'import torch' >/dev/null 2>&1 && "
                 "%s -e \"require('%s/onnxruntime-node')\" >/dev/null 2>&1",
                 bo.python, bo.node, bo.ort_modules);
        if (system(cmd) != 0) {
            fprintf(stderr, PROG ": the ONNX Runtime peer needs PyTorch (%s) to "
                    "export the model and npm's onnxruntime-node in %s "
                    "(`scripts/install-deps.sh --bench` installs both), or run "
                    "with --no-ort\n", bo.python, bo.ort_modules);
            hn_backend_close(refb);
            hn_backend_close(be);
            return 1;
        }
    }
    printf("bench=infer_throughput model=resnet20 backend=%s batch=%d threads=%d "
           "rounds=%d round_s=%g warmup_cap_s=%g check_images=%d\n", bo.backend,
           bo.batch, bo.threads, bo.rounds, bo.round_s, bo.warmup_cap_s,
           bo.check_images);
    int rc = 0;
    for (int ii = 0; ii < bo.n_inputs && rc == 0; ii++)
        rc = bench_input(&bo, be, refb, bo.inputs[ii], &torch_ok);
    if (rc == 0) printf("check_bitexact_vs_ref=1\n");
    hn_backend_close(refb);
    hn_backend_close(be);
    return rc != 0 || (!bo.no_torch && !torch_ok) ? 1 : 0;
}
