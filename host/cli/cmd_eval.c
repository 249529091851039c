/* hetnas eval: accuracy of a checkpoint, and the integer network (intnet.h)
 * on one of the integer backends next to the fake-quant float model. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "hetnas/inteval.h"
#include "hetnas/arch.h"
#include "hetnas/backend.h"
#include "hetnas/experiment.h"
#include "hetnas/intnet.h"
#include "hetnas/json.h"
#include "hetnas/trainer.h"

static const char *k_eval_usage =
    "usage: hetnas eval EXP.yaml --checkpoint CK [--config FILE]\n"
    "                   [--split val|test] [--set key=value]... [--json]\n"
    "                   [--backend NAME] [--crosscheck] [--xclbin F --device N]\n"
    "                   [--limit N]\n"
    "Accuracy and loss of a checkpoint on the validation split (default) or\n"
    "the test set.  --config switches the network configuration first.\n"
    "--backend ref|csim|opencl|verilator (hetnas hw backends) also runs the\n"
    "integer network (docs/nn.md) on the same images, its convolutions on the\n"
    "C oracle (ref), the HLS kernel compiled as C (csim) or through OpenCL, or\n"
    "the RTL array under Verilator (also reports array cycles per image), and\n"
    "reports its\n"
    "accuracy and its agreement with the fake-quant float model (top-1\n"
    "agreement, max |logit difference|).  --crosscheck (not ref) runs\n"
    "the ref integer network too and counts the images whose logits equal\n"
    "ref's bit for bit.  --limit N: the first N samples only.\n";

int hn_cmd_eval(int argc, char **argv) {
    const char *cmd = "eval", *exp_path = NULL, *ckpt = NULL, *cfg = NULL;
    const char *split = "val", *backend = "cpu";
    long limit = 0;
    const char *sets[HN_ARG_MAX_SETS];
    int n_sets = 0;
    bool json = false, crosscheck = false;
    hn_backend_opts bo = hn_backend_opts_default();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--checkpoint")) {
            if (!(ckpt = hn_arg_value(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--config")) {
            if (!(cfg = hn_arg_value(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--split")) {
            if (!(split = hn_arg_value(cmd, argc, argv, &i))) return 2;
            if (strcmp(split, "val") && strcmp(split, "test")) {
                fprintf(stderr, "hetnas eval: --split: expected val or test, "
                        "got '%s'\n", split);
                return 2;
            }
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--backend")) {
            if (!(backend = hn_arg_value(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--xclbin")) {
            if (!(bo.xclbin = hn_arg_value(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--device")) {
            const char *v;
            if (!(v = hn_arg_value(cmd, argc, argv, &i))) return 2;
            if (!hn_arg_int(cmd, a, v, 0, 1023, &bo.device)) return 2;
        } else if (!strcmp(a, "--crosscheck")) {
            crosscheck = true;
        } else if (!strcmp(a, "--limit")) {
            const char *v;
            if (!(v = hn_arg_value(cmd, argc, argv, &i))) return 2;
            char *end;
            limit = strtol(v, &end, 10);
            if (*end || limit < 1) {
                fprintf(stderr, "hetnas eval: --limit: expected a positive "
                        "integer, got '%s'\n", v);
                return 2;
            }
        } else {
            int rc = hn_arg_experiment(cmd, k_eval_usage, argc, argv, &i, &exp_path,
                                sets, &n_sets);
            if (rc) return rc == HN_ARG_HELP ? 0 : rc;
        }
    }
    if (crosscheck && (!strcmp(backend, "cpu") || !strcmp(backend, "ref"))) {
        fprintf(stderr, "hetnas eval: --crosscheck compares an integer backend "
                "other than ref with ref; got --backend %s\n", backend);
        return 2;
    }
    if (!exp_path || !ckpt) {
        fprintf(stderr, "hetnas eval: give an experiment file and "
                "--checkpoint\n%s", k_eval_usage);
        return 2;
    }
    hn_experiment e;
    if (hn_experiment_load(exp_path, sets, n_sets, &e) != HN_OK) {
        hn_arg_report(cmd);
        return 2;
    }
    hn_eval_result r;
    hn_int_eval ie;
    memset(&ie, 0, sizeof ie);
    hn_backend *be = NULL;
    hn_status st = hn_backend_open(backend, &bo, &be);
    if (st != HN_OK) {
        hn_experiment_clear(&e);
        fprintf(stderr, "hetnas eval: --backend %s: %s\n", backend, hn_error_msg());
        return st == HN_ERR_INVAL ? 2 : 1;
    }
    bool integer = hn_backend_ops_of(be)->runs_jobs;
    ie.opts = hn_intnet_opts_default();
    hn_backend_intnet_opts(be, &ie.opts); /* batched where the backend is */
    ie.crosscheck = crosscheck;
    uint64_t cycles = 0;
    hn_eval_opts eo = {integer ? hn_int_eval_batch : NULL, &ie, limit};
    st = hn_eval_checkpoint_ex(&e, ckpt, cfg, split, &eo, &r);
    hn_backend_stats bs;
    hn_backend_get_stats(be, &bs);
    cycles = bs.cycles;
    hn_backend_close(be);
    hn_experiment_clear(&e);
    hn_int_eval_clear(&ie);
    if (st != HN_OK) return hn_arg_fail(cmd, st);
    double iacc = ie.n ? (double)ie.correct / ie.n : 0.0;
    double agree = ie.n ? (double)ie.agree / ie.n : 0.0;
    if (json) {
        /* the JSON writer turns a non-finite value into null */
        hn_jw *w = hn_jw_new(0);
        if (!w) {
            fprintf(stderr, "hetnas eval: out of memory\n");
            return 1;
        }
        hn_jw_obj_begin(w);
        hn_jw_key(w, "split");
        hn_jw_str(w, split);
        hn_jw_key(w, "samples");
        hn_jw_int(w, r.n);
        hn_jw_key(w, "acc");
        hn_jw_double(w, r.acc);
        hn_jw_key(w, "loss");
        hn_jw_double(w, r.loss);
        if (integer) {
            hn_jw_key(w, "backend");
            hn_jw_str(w, backend);
            hn_jw_key(w, "int_acc");
            hn_jw_double(w, iacc);
            hn_jw_key(w, "agreement");
            hn_jw_double(w, agree);
            hn_jw_key(w, "max_logit_diff");
            hn_jw_double(w, ie.max_dz);
            if (crosscheck) {
                hn_jw_key(w, "bitexact_vs_ref");
                hn_jw_int(w, ie.exact);
            }
            if (cycles) {
                hn_jw_key(w, "array_cycles_per_image");
                hn_jw_double(w, ie.n ? (double)cycles / ie.n : 0.0);
            }
        }
        hn_jw_obj_end(w);
        printf("%s\n", hn_jw_data(w, NULL));
        hn_jw_free(w);
    } else {
        printf("%s: %d samples, top-1 %.2f%%, loss %.4f\n", split, r.n,
               100 * r.acc, r.loss);
        if (integer)
            printf("%s (integer): top-1 %.2f%%, agreement with the float model "
                   "%.2f%% (%ld/%ld), max |logit difference| %.4g\n", backend,
                   100 * iacc, 100 * agree, ie.agree, ie.n, ie.max_dz);
        if (crosscheck)
            printf("%s logits equal ref's bit for bit on %ld/%ld images\n",
                   backend, ie.exact, ie.n);
        if (cycles)
            printf("%s: %.0f array cycles per image (loading and "
                   "read-back not counted)\n", backend, ie.n ? (double)cycles / ie.n : 0.0);
    }
    if (crosscheck && ie.exact != ie.n) {
        fprintf(stderr, "hetnas eval: %s logits differ from ref's on %ld of "
                "%ld images\n", backend, ie.n - ie.exact, ie.n);
        return 1;
    }
    return 0;
}
