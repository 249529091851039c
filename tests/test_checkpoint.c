/* safetensors checkpoints: round trip of every dtype, the exact byte layout,
 * every corruption case, atomic saves, and interoperability with an
 * independent Python/PyTorch implementation of the format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hetnas/checkpoint.h"
#include "hetnas/fileio.h"
#include "hetnas/nn.h"
#include "hetnas/optim.h"
#include "hetnas/rng.h"

static char g_dir[256];

static const char *P(const char *name) {
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

static hn_ckpt_writer *sample_writer(void) {
    hn_ckpt_writer *w = hn_ckpt_writer_new();
    float f[2 * 3 * 2];
    for (int i = 0; i < 12; i++) f[i] = (float)i * 0.5f - 2.0f;
    int32_t i32[5] = {-7, 0, 1, 2147483647, -2147483647 - 1};
    int64_t i64[2] = {INT64_MIN, 1234567890123456789LL};
    uint8_t u8[3] = {0, 128, 255};
    float scalar = 3.25f;
    int64_t sh[3] = {2, 3, 2}, sh0[2] = {0, 4};
    assert_int_equal(hn_ckpt_writer_add(w, "layer.weight", HN_DT_F32, 3, sh, f), HN_OK);
    assert_int_equal(hn_ckpt_writer_add_1d(w, "counts", HN_DT_I32, 5, i32), HN_OK);
    assert_int_equal(hn_ckpt_writer_add_1d(w, "rng.state", HN_DT_I64, 2, i64), HN_OK);
    assert_int_equal(hn_ckpt_writer_add_1d(w, "bits", HN_DT_U8, 3, u8), HN_OK);
    assert_int_equal(hn_ckpt_writer_add(w, "lr", HN_DT_F32, 0, NULL, &scalar), HN_OK);
    assert_int_equal(hn_ckpt_writer_add(w, "empty", HN_DT_F32, 2, sh0, NULL), HN_OK);
    assert_int_equal(hn_ckpt_writer_meta(w, "epoch", "7"), HN_OK);
    assert_int_equal(hn_ckpt_writer_meta(w, "note", "quote \" and \\ and \xc3\xa9"), HN_OK);
    assert_int_equal(hn_ckpt_writer_meta_json(w, "config", "{\"ops\": [[2, 2], [8, 8]]}"), HN_OK);
    return w;
}

static void check_sample(const hn_ckpt *c) {
    assert_int_equal(hn_ckpt_n_tensors(c), 6);
    float f[12];
    int64_t sh[3] = {2, 3, 2};
    assert_int_equal(hn_ckpt_get(c, "layer.weight", HN_DT_F32, 3, sh, f), HN_OK);
    for (int i = 0; i < 12; i++) assert_true(f[i] == (float)i * 0.5f - 2.0f);
    int32_t i32[5];
    assert_int_equal(hn_ckpt_get_1d(c, "counts", HN_DT_I32, 5, i32), HN_OK);
    assert_int_equal(i32[0], -7);
    assert_int_equal(i32[3], 2147483647);
    assert_true(i32[4] == -2147483647 - 1);
    int64_t i64[2];
    assert_int_equal(hn_ckpt_get_1d(c, "rng.state", HN_DT_I64, 2, i64), HN_OK);
    assert_true(i64[0] == INT64_MIN && i64[1] == 1234567890123456789LL);
    uint8_t u8[3];
    assert_int_equal(hn_ckpt_get_1d(c, "bits", HN_DT_U8, 3, u8), HN_OK);
    assert_int_equal(u8[2], 255);
    float s;
    assert_int_equal(hn_ckpt_get(c, "lr", HN_DT_F32, 0, NULL, &s), HN_OK);
    assert_true(s == 3.25f);
    const hn_ckpt_tensor *e = hn_ckpt_find(c, "empty");
    assert_non_null(e);
    assert_int_equal(e->numel, 0);
    assert_int_equal(e->ndim, 2);
    assert_string_equal(hn_ckpt_meta(c, "epoch"), "7");
    assert_string_equal(hn_ckpt_meta(c, "note"), "quote \" and \\ and \xc3\xa9");
    assert_string_equal(hn_ckpt_meta(c, "config"), "{\"ops\": [[2, 2], [8, 8]]}");
    assert_null(hn_ckpt_meta(c, "nope"));
}

static void test_roundtrip(void **st) {
    (void)st;
    hn_ckpt_writer *w = sample_writer();
    assert_int_equal(hn_ckpt_writer_save(w, P("a.safetensors"), true), HN_OK);
    hn_ckpt *c = NULL;
    assert_int_equal(hn_ckpt_load(P("a.safetensors"), &c), HN_OK);
    check_sample(c);
    hn_ckpt_free(c);
    /* the layout: u64 LE header length, 8-aligned data start, offsets in
     * insertion order back to back */
    uint8_t *buf;
    size_t len;
    assert_int_equal(hn_ckpt_writer_serialize(w, &buf, &len), HN_OK);
    uint64_t hl = 0;
    for (int i = 0; i < 8; i++) hl |= (uint64_t)buf[i] << (8 * i);
    assert_int_equal((8 + hl) % 8, 0);
    assert_int_equal(len, 8 + hl + 48 + 20 + 16 + 3 + 4 + 0);
    assert_int_equal(buf[8], '{');
    char *hdr = strndup((char *)buf + 8, hl);
    assert_non_null(strstr(hdr, "\"layer.weight\":{\"dtype\":\"F32\",\"shape\":[2,3,2],"
                                "\"data_offsets\":[0,48]}"));
    assert_non_null(strstr(hdr, "\"counts\":{\"dtype\":\"I32\",\"shape\":[5],"
                                "\"data_offsets\":[48,68]}"));
    assert_non_null(strstr(hdr, "\"lr\":{\"dtype\":\"F32\",\"shape\":[],"
                                "\"data_offsets\":[87,91]}"));
    float first;
    memcpy(&first, buf + 8 + hl, 4);
    assert_true(first == -2.0f);
    free(hdr);
    free(buf);
    /* the JSON side file carries the metadata, the config as JSON */
    char *side;
    assert_int_equal(hn_file_read_all(P("a.json"), &side, &len), HN_OK);
    assert_non_null(strstr(side, "\"epoch\": \"7\""));
    assert_non_null(strstr(side, "\"config\": {\"ops\": [[2, 2], [8, 8]]}"));
    assert_non_null(strstr(side, "\"layer.weight\""));
    free(side);
    /* writer misuse */
    float x = 0;
    assert_int_equal(hn_ckpt_writer_add(w, "lr", HN_DT_F32, 0, NULL, &x), HN_ERR_INVAL);
    assert_int_equal(hn_ckpt_writer_add(w, "__metadata__", HN_DT_F32, 0, NULL, &x), HN_ERR_INVAL);
    assert_int_equal(hn_ckpt_writer_add(w, "", HN_DT_F32, 0, NULL, &x), HN_ERR_INVAL);
    assert_int_equal(hn_ckpt_writer_meta_json(w, "bad", "{\"a\": }"), HN_ERR_PARSE);
    hn_ckpt_writer_free(w);
}

static void test_rng_and_meta_int(void **st) {
    (void)st;
    hn_rng r, r2;
    hn_rng_seed(&r, 123, 45);
    for (int i = 0; i < 10; i++) hn_rng_u32(&r);
    hn_ckpt_writer *w = hn_ckpt_writer_new();
    assert_int_equal(hn_ckpt_writer_add_rng(w, "rng.data", &r), HN_OK);
    assert_int_equal(hn_ckpt_writer_meta_int(w, "epoch", -12), HN_OK);
    assert_int_equal(hn_ckpt_writer_meta(w, "word", "x1"), HN_OK);
    int64_t even[2] = {1, 2};
    assert_int_equal(hn_ckpt_writer_add_1d(w, "bad_rng", HN_DT_I64, 2, even), HN_OK);
    uint8_t *buf;
    size_t len;
    assert_int_equal(hn_ckpt_writer_serialize(w, &buf, &len), HN_OK);
    hn_ckpt *c = NULL;
    assert_int_equal(hn_ckpt_load_buffer(buf, len, "r.safetensors", &c), HN_OK);
    assert_int_equal(hn_ckpt_get_rng(c, "rng.data", &r2), HN_OK);
    for (int i = 0; i < 5; i++) assert_int_equal(hn_rng_u32(&r), hn_rng_u32(&r2));
    assert_int_equal(hn_ckpt_get_rng(c, "bad_rng", &r2), HN_ERR_FORMAT);
    int64_t e;
    assert_int_equal(hn_ckpt_meta_int(c, "epoch", &e), HN_OK);
    assert_int_equal(e, -12);
    assert_int_equal(hn_ckpt_meta_int(c, "word", &e), HN_ERR_FORMAT);
    assert_non_null(strstr(hn_error_msg(), "'word'"));
    assert_int_equal(hn_ckpt_meta_int(c, "nope", &e), HN_ERR_FORMAT);
    hn_ckpt_free(c);
    free(buf);
    hn_ckpt_writer_free(w);
}

static void test_lookup_errors(void **st) {
    (void)st;
    hn_ckpt_writer *w = sample_writer();
    uint8_t *buf;
    size_t len;
    assert_int_equal(hn_ckpt_writer_serialize(w, &buf, &len), HN_OK);
    hn_ckpt *c = NULL;
    assert_int_equal(hn_ckpt_load_buffer(buf, len, "m.safetensors", &c), HN_OK);
    float f[12];
    int64_t sh[3] = {2, 3, 2}, bad[3] = {3, 2, 2};
    assert_int_equal(hn_ckpt_get(c, "layer.weights", HN_DT_F32, 3, sh, f), HN_ERR_FORMAT);
    assert_non_null(strstr(hn_error_msg(), "m.safetensors"));
    assert_non_null(strstr(hn_error_msg(), "did you mean 'layer.weight'"));
    assert_int_equal(hn_ckpt_get(c, "layer.weight", HN_DT_F32, 3, bad, f), HN_ERR_FORMAT);
    assert_non_null(strstr(hn_error_msg(), "shape [2,3,2], expected [3,2,2]"));
    assert_int_equal(hn_ckpt_get(c, "layer.weight", HN_DT_I32, 3, sh, f), HN_ERR_FORMAT);
    assert_non_null(strstr(hn_error_msg(), "dtype F32, expected I32"));
    hn_ckpt_free(c);
    free(buf);
    hn_ckpt_writer_free(w);
}

/* A file from a header text and n data bytes. */
static hn_status load_raw(const char *hdr, uint64_t hl_override, size_t ndata,
                          hn_ckpt **c) {
    size_t hl = strlen(hdr);
    size_t len = 8 + hl + ndata;
    uint8_t *b = calloc(1, len);
    uint64_t h = hl_override ? hl_override : hl;
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(h >> (8 * i));
    memcpy(b + 8, hdr, hl);
    *c = NULL;
    hn_status s = hn_ckpt_load_buffer(b, len, "bad.safetensors", c);
    free(b);
    return s;
}

static void expect_bad(const char *hdr, uint64_t hl, size_t nd, hn_status want,
                       const char *needle) {
    hn_ckpt *c = NULL;
    hn_status s = load_raw(hdr, hl, nd, &c);
    if (s != want || !strstr(hn_error_msg(), needle) ||
        !strstr(hn_error_msg(), "bad.safetensors"))
        fail_msg("header %s: got %d '%s', expected %d with '%s'", hdr, s,
                 hn_error_msg(), want, needle);
    assert_null(c);
}

static void test_corrupt(void **st) {
    (void)st;
    const char *ok = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    hn_ckpt *c = NULL;
    assert_int_equal(load_raw(ok, 0, 8, &c), HN_OK);
    hn_ckpt_free(c);
    /* header length larger than the file, implausible, too short a file */
    expect_bad(ok, 5000, 8, HN_ERR_FORMAT, "exceeds the file size");
    expect_bad(ok, 1ull << 40, 8, HN_ERR_FORMAT, "implausible");
    assert_int_equal(hn_ckpt_load_buffer("abc", 3, "bad.safetensors", &c), HN_ERR_FORMAT);
    assert_non_null(strstr(hn_error_msg(), "too short"));
    /* data truncated / trailing bytes */
    expect_bad(ok, 0, 5, HN_ERR_FORMAT, "outside the 5 data bytes");
    expect_bad(ok, 0, 12, HN_ERR_FORMAT, "cover 8 data bytes");
    /* malformed JSON */
    expect_bad("{\"a\":{\"dtype\":\"F32\",", 0, 8, HN_ERR_PARSE, "malformed JSON");
    expect_bad("{\"a\":1,\"a\":2}", 0, 0, HN_ERR_PARSE, "duplicate key");
    expect_bad("[1,2]", 0, 0, HN_ERR_FORMAT, "does not start with '{'");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}} x",
               0, 8, HN_ERR_PARSE, "trailing");
    /* entry problems, each naming the tensor */
    expect_bad("{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}",
               0, 4, HN_ERR_UNSUPPORTED, "'w': dtype F16");
    expect_bad("{\"w\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,4]}}",
               0, 4, HN_ERR_FORMAT, "unknown dtype 'Q4'");
    expect_bad("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
               0, 8, HN_ERR_FORMAT, "'w': F32 shape [3] needs 12 bytes");
    expect_bad("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}",
               0, 8, HN_ERR_FORMAT, "'w': shape[0]");
    expect_bad("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}",
               0, 8, HN_ERR_FORMAT, "'w': data_offsets [8, 0]");
    expect_bad("{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 0, 8, HN_ERR_FORMAT,
               "'w': 'data_offsets'");
    expect_bad("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 0, 8, HN_ERR_FORMAT,
               "'w': missing string 'dtype'");
    expect_bad("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}",
               0, 8, HN_ERR_FORMAT, "unknown header key 'x'");
    expect_bad("{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999,99999999999,"
               "99999999999],\"data_offsets\":[0,8]}}", 0, 8, HN_ERR_FORMAT, "'w'");
    /* overlapping and gapped tensors */
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
               0, 12, HN_ERR_FORMAT, "overlaps");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
               0, 12, HN_ERR_FORMAT, "unused data bytes before tensor 'b'");
    /* metadata must be string -> string */
    expect_bad("{\"__metadata__\":{\"epoch\":7}}", 0, 0, HN_ERR_FORMAT,
               "__metadata__ value of 'epoch'");
    /* a file on disk that is truncated: the error names the path */
    hn_ckpt_writer *w = sample_writer();
    assert_int_equal(hn_ckpt_writer_save(w, P("t.safetensors"), false), HN_OK);
    hn_ckpt_writer_free(w);
    assert_int_equal(truncate(P("t.safetensors"), 100), 0);
    assert_int_equal(hn_ckpt_load(P("t.safetensors"), &c), HN_ERR_FORMAT);
    assert_non_null(strstr(hn_error_msg(), P("t.safetensors")));
    assert_int_equal(hn_ckpt_load(P("missing.safetensors"), &c), HN_ERR_IO);
    assert_non_null(strstr(hn_error_msg(), "missing.safetensors"));
}

/* Random byte flips and truncations of a valid file: every result is a
 * clean load or an error with a message, never a crash (run under ASan in
 * a sanitizer build to catch out-of-bounds reads). */
static void test_mutations(void **st) {
    (void)st;
    hn_ckpt_writer *w = sample_writer();
    uint8_t *buf;
    size_t len;
    assert_int_equal(hn_ckpt_writer_serialize(w, &buf, &len), HN_OK);
    hn_ckpt_writer_free(w);
    uint8_t *m = malloc(len);
    hn_rng r;
    hn_rng_seed(&r, 2024, 1);
    int ok = 0, bad = 0;
    for (int it = 0; it < 3000; it++) {
        memcpy(m, buf, len);
        size_t l = len;
        int kind = (int)hn_rng_below(&r, 3);
        if (kind == 0) {
            l = hn_rng_below(&r, (uint32_t)len);
        } else {
            int flips = 1 + (int)hn_rng_below(&r, 4);
            /* mostly in the header, where parsing happens */
            for (int k = 0; k < flips; k++) {
                size_t pos = hn_rng_below(&r, 4) ? hn_rng_below(&r, (uint32_t)(len < 400 ? len : 400))
                                                 : hn_rng_below(&r, (uint32_t)len);
                m[pos] = kind == 1 ? (uint8_t)hn_rng_u32(&r) : (uint8_t)(m[pos] ^ (1u << hn_rng_below(&r, 8)));
            }
        }
        hn_ckpt *c = NULL;
        hn_status s = hn_ckpt_load_buffer(m, l, "fuzz.safetensors", &c);
        if (s == HN_OK) {
            ok++;
            for (int i = 0; i < hn_ckpt_n_tensors(c); i++) {
                const hn_ckpt_tensor *t = hn_ckpt_tensor_at(c, i);
                assert_true((const uint8_t *)t->data + t->nbytes <=
                            (const uint8_t *)hn_ckpt_tensor_at(c, hn_ckpt_n_tensors(c) - 1)->data +
                                hn_ckpt_tensor_at(c, hn_ckpt_n_tensors(c) - 1)->nbytes);
            }
            hn_ckpt_free(c);
        } else {
            bad++;
            assert_true(strlen(hn_error_msg()) > 0);
            assert_null(c);
        }
    }
    print_message("mutations: %d loaded, %d rejected\n", ok, bad);
    assert_true(bad > 2000);
    free(m);
    free(buf);
}

/* One SGD step of a tiny model on a fixed batch. */
static void train_step(hn_model *m, hn_optim *o, const float *x, const int *y) {
    float lg[4 * 10], dl[4 * 10];
    hn_model_zero_grad(m);
    assert_int_equal(hn_model_forward(m, x, 4, 1, lg), HN_OK);
    hn_softmax_ce(lg, y, 4, 10, dl, NULL);
    assert_int_equal(hn_model_backward(m, dl), HN_OK);
    hn_optim_step(o);
}

/* Model + optimizer state round trip: a model restored from a checkpoint
 * continues exactly like the original (the unit-level core of --resume). */
static void test_model_state(void **st) {
    (void)st;
    hn_resnet_spec spec = hn_resnet_spec_default();
    spec.depth = 8;
    spec.in_c = 1;
    spec.in_h = spec.in_w = 12;
    hn_arch *a = NULL;
    assert_int_equal(hn_arch_resnet(&spec, &a), HN_OK);
    hn_model_opts mo = hn_model_opts_default();
    mo.conv = HN_CONV_REF;
    mo.seed = 5;
    hn_model *m1 = NULL, *m2 = NULL;
    assert_int_equal(hn_model_new(a, NULL, &mo, &m1), HN_OK);
    mo.seed = 6; /* different init: everything must come from the file */
    assert_int_equal(hn_model_new(a, NULL, &mo, &m2), HN_OK);
    for (int kind = 0; kind < 2; kind++) {
        hn_optim_opts oo = kind ? hn_optim_opts_adam(1e-3f, 0) : hn_optim_opts_sgd(0.05f, 0.9f, 5e-4f, 1);
        hn_optim *o1 = NULL, *o2 = NULL;
        assert_int_equal(hn_optim_new_model(&oo, m1, &o1), HN_OK);
        assert_int_equal(hn_optim_new_model(&oo, m2, &o2), HN_OK);
        float x[4 * 144];
        int y[4] = {1, 3, 5, 7};
        for (int i = 0; i < 4 * 144; i++) x[i] = (float)((i * 37) % 17) / 17.0f - 0.5f;
        train_step(m1, o1, x, y);
        train_step(m1, o1, x, y);
        hn_ckpt_writer *w = hn_ckpt_writer_new();
        assert_int_equal(hn_ckpt_writer_add_model(w, m1), HN_OK);
        assert_int_equal(hn_ckpt_writer_add_optim(w, m1, o1), HN_OK);
        assert_int_equal(hn_ckpt_writer_save(w, P("model.safetensors"), false), HN_OK);
        hn_ckpt_writer_free(w);
        hn_ckpt *c = NULL;
        assert_int_equal(hn_ckpt_load(P("model.safetensors"), &c), HN_OK);
        assert_non_null(hn_ckpt_find(c, kind ? "optim.fc.weight.exp_avg_sq"
                                             : "optim.fc.weight.momentum_buffer"));
        assert_int_equal(hn_ckpt_load_model(c, m2, true, NULL), HN_OK);
        assert_int_equal(hn_ckpt_load_optim(c, m2, o2), HN_OK);
        hn_ckpt_free(c);
        assert_int_equal(hn_optim_steps(o2), 2);
        train_step(m1, o1, x, y);
        train_step(m2, o2, x, y);
        for (int i = 0; i < hn_model_n_params(m1); i++) {
            hn_param p1 = hn_model_param(m1, i), p2 = hn_model_param(m2, i);
            assert_string_equal(p1.name, p2.name);
            if (memcmp(p1.data, p2.data, p1.numel * sizeof(float)))
                fail_msg("parameter %s differs after resuming", p1.name);
        }
        hn_optim_free(o1);
        hn_optim_free(o2);
    }
    /* strict load names the missing tensor; lenient load counts */
    hn_ckpt_writer *w = hn_ckpt_writer_new();
    hn_param p = hn_model_param(m1, 0);
    int64_t sh[6];
    for (int d = 0; d < p.ndim; d++) sh[d] = p.shape[d];
    assert_int_equal(hn_ckpt_writer_add(w, p.name, HN_DT_F32, p.ndim, sh, p.data), HN_OK);
    assert_int_equal(hn_ckpt_writer_add_1d(w, "extra", HN_DT_U8, 1, "x"), HN_OK);
    uint8_t *buf;
    size_t len;
    assert_int_equal(hn_ckpt_writer_serialize(w, &buf, &len), HN_OK);
    hn_ckpt *c = NULL;
    assert_int_equal(hn_ckpt_load_buffer(buf, len, "part.safetensors", &c), HN_OK);
    int n = -1;
    assert_int_equal(hn_ckpt_load_model(c, m2, false, &n), HN_OK);
    assert_int_equal(n, 1);
    assert_int_equal(hn_ckpt_load_model(c, m2, true, NULL), HN_ERR_FORMAT);
    assert_non_null(strstr(hn_error_msg(), "part.safetensors: no tensor"));
    hn_ckpt_free(c);
    free(buf);
    hn_ckpt_writer_free(w);
    hn_model_free(m1);
    hn_model_free(m2);
    hn_arch_free(a);
}

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* A save that fails half way (file size limit hit while writing) leaves
 * the previous checkpoint intact and no partial or temporary file. */
static void test_atomic(void **st) {
    (void)st;
    char dir[600];
    snprintf(dir, sizeof dir, "%s/atomic", g_dir);
    assert_int_equal(hn_mkdirs(dir), HN_OK);
    char path[700];
    snprintf(path, sizeof path, "%s/ck.safetensors", dir);
    hn_ckpt_writer *w = sample_writer();
    assert_int_equal(hn_ckpt_writer_save(w, path, false), HN_OK);
    hn_ckpt_writer *big = hn_ckpt_writer_new();
    float *x = calloc(1 << 16, sizeof(float));
    assert_int_equal(hn_ckpt_writer_add_1d(big, "x", HN_DT_F32, 1 << 16, x), HN_OK);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = 4096;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    hn_status s = hn_ckpt_writer_save(big, path, false);
    setrlimit(RLIMIT_FSIZE, &old);
    assert_int_equal(s, HN_ERR_IO);
    assert_non_null(strstr(hn_error_msg(), path));
    hn_ckpt *c = NULL;
    assert_int_equal(hn_ckpt_load(path, &c), HN_OK);
    check_sample(c);
    hn_ckpt_free(c);
    assert_int_equal(count_entries(dir), 1);
    /* into a missing directory: nothing is created */
    char p2[700];
    snprintf(p2, sizeof p2, "%s/nodir/ck.safetensors", dir);
    assert_int_equal(hn_ckpt_writer_save(w, p2, true), HN_ERR_IO);
    assert_int_equal(count_entries(dir), 1);
    free(x);
    hn_ckpt_writer_free(big);
    hn_ckpt_writer_free(w);
}

/* PyTorch side: reads our file with an independent reader (struct + json +
 * torch.frombuffer) and writes one the way safetensors.torch.save_file
 * lays it out (metadata first, tensors sorted by alignment then name,
 * header padded with spaces), which we then read.  The `safetensors` Python
 * package itself is not packaged for Debian 12, so this checks the format,
 * not that package. */
static const char *k_py =
    "import json, struct, sys\n"
    "try:\n"
    "    import torch\n"
    "except ImportError:\n"
    "    sys.exit(77)\n"
    "src, dst = sys.argv[1], sys.argv[2]\n"
    "b = open(src, 'rb').read()\n"
    "n = struct.unpack('<Q', b[:8])[0]\n"
    "h = json.loads(b[8:8+n])\n"
    "meta = h.pop('__metadata__')\n"
    "assert meta['epoch'] == '7' and json.loads(meta['config'])['ops'][1] == [8, 8]\n"
    "dt = {'F32': torch.float32, 'I32': torch.int32, 'I64': torch.int64, 'U8': torch.uint8}\n"
    "sz = {'F32': 4, 'I32': 4, 'I64': 8, 'U8': 1}\n"
    "t = {}\n"
    "for k, v in h.items():\n"
    "    s, e = v['data_offsets']\n"
    "    assert (e - s) == sz[v['dtype']] * eval('*'.join(map(str, v['shape'])) or '1')\n"
    "    t[k] = torch.frombuffer(bytearray(b[8+n+s:8+n+e]), dtype=dt[v['dtype']]).reshape(v['shape']) if e > s else torch.empty(v['shape'], dtype=dt[v['dtype']])\n"
    "assert torch.equal(t['layer.weight'], torch.arange(12, dtype=torch.float32).reshape(2,3,2)*0.5-2)\n"
    "assert t['counts'].tolist() == [-7, 0, 1, 2147483647, -2147483648]\n"
    "assert t['rng.state'].tolist() == [-2**63, 1234567890123456789]\n"
    "assert t['bits'].tolist() == [0, 128, 255] and t['lr'].item() == 3.25 and t['empty'].shape == (0, 4)\n"
    "out = {'conv.weight': torch.linspace(-1, 1, 24).reshape(2, 3, 2, 2), 'steps': torch.tensor([5, -6], dtype=torch.int64),\n"
    "       'bn.num_batches_tracked': torch.tensor(9, dtype=torch.int64), 'mask': torch.tensor([1, 0, 3], dtype=torch.uint8)}\n"
    "names = sorted(out, key=lambda k: (-out[k].element_size(), k))\n"
    "hdr, off, data = {'__metadata__': {'format': 'pt'}}, 0, b''\n"
    "rn = {torch.float32: 'F32', torch.int64: 'I64', torch.uint8: 'U8'}\n"
    "for k in names:\n"
    "    raw = out[k].contiguous().numpy().tobytes()\n"
    "    hdr[k] = {'dtype': rn[out[k].dtype], 'shape': list(out[k].shape), 'data_offsets': [off, off + len(raw)]}\n"
    "    off += len(raw); data += raw\n"
    "hj = json.dumps(hdr, separators=(',', ':')).encode()\n"
    "hj += b' ' * ((8 - len(hj) % 8) % 8)\n"
    "open(dst, 'wb').write(struct.pack('<Q', len(hj)) + hj + data)\n";

static void test_pytorch_interop(void **st) {
    (void)st;
    if (access("/usr/bin/python3", X_OK) != 0) {
        print_message("SKIP: /usr/bin/python3 not available\n");
        skip();
    }
    hn_ckpt_writer *w = sample_writer();
    assert_int_equal(hn_ckpt_writer_save(w, P("ours.safetensors"), false), HN_OK);
    hn_ckpt_writer_free(w);
    assert_int_equal(hn_file_write_atomic(P("interop.py"), k_py, strlen(k_py)), HN_OK);
    char cmd[2000];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s %s", P("interop.py"),
             P("ours.safetensors"), P("theirs.safetensors"));
    int rc = system(cmd);
    if (WIFEXITED(rc) && WEXITSTATUS(rc) == 77) {
        print_message("SKIP: torch is not installed for /usr/bin/python3\n");
        skip();
    }
    assert_int_equal(rc, 0);
    hn_ckpt *c = NULL;
    assert_int_equal(hn_ckpt_load(P("theirs.safetensors"), &c), HN_OK);
    assert_string_equal(hn_ckpt_meta(c, "format"), "pt");
    float wgt[24];
    int64_t sh[4] = {2, 3, 2, 2};
    assert_int_equal(hn_ckpt_get(c, "conv.weight", HN_DT_F32, 4, sh, wgt), HN_OK);
    assert_float_equal(wgt[0], -1.0f, 1e-7);
    assert_float_equal(wgt[23], 1.0f, 1e-7);
    assert_float_equal(wgt[1], -1.0f + 2.0f / 23.0f, 1e-6);
    int64_t steps[2], nbt;
    assert_int_equal(hn_ckpt_get_1d(c, "steps", HN_DT_I64, 2, steps), HN_OK);
    assert_true(steps[0] == 5 && steps[1] == -6);
    assert_int_equal(hn_ckpt_get(c, "bn.num_batches_tracked", HN_DT_I64, 0, NULL, &nbt), HN_OK);
    assert_int_equal(nbt, 9);
    uint8_t m[3];
    assert_int_equal(hn_ckpt_get_1d(c, "mask", HN_DT_U8, 3, m), HN_OK);
    assert_int_equal(m[2], 3);
    hn_ckpt_free(c);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/hn_test_checkpoint_XXXXXX");
    if (!mkdtemp(g_dir)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_rng_and_meta_int),
        cmocka_unit_test(test_lookup_errors),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_atomic),
        cmocka_unit_test(test_model_state),
        cmocka_unit_test(test_pytorch_interop),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
    return r;
}
