/* Checkpoints in the safetensors format (https://github.com/huggingface/
 * safetensors), so PyTorch users read and write them with the `safetensors`
 * package:
 *
 *   u64 little-endian N | N bytes of JSON header | raw little-endian data
 *
 * The header maps each tensor name to {"dtype", "shape", "data_offsets":
 * [begin, end]} (offsets relative to the first data byte) plus an optional
 * "__metadata__" object of string -> string.  Tensors are stored C-contiguous
 * (row-major), in the order added, back to back; the header is padded with
 * spaces to a multiple of 8 bytes as the reference writer does.
 *
 * Files are written atomically (hn_file_write_atomic): a reader sees the old
 * checkpoint or the new one, never a partial file.  Next to X.safetensors the
 * writer also puts X.json, a readable copy of the metadata and the tensor
 * list (informational; the .safetensors file is authoritative). */
#ifndef HETNAS_CHECKPOINT_H
#define HETNAS_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hetnas/rng.h"
#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HN_CKPT_MAX_DIMS 8
#define HN_CKPT_NAME_MAX 256

typedef enum hn_dtype {
    HN_DT_F32 = 0, /* "F32" */
    HN_DT_I32 = 1, /* "I32" */
    HN_DT_I64 = 2, /* "I64" */
    HN_DT_U8 = 3,  /* "U8" */
    HN_DT_F64 = 4  /* "F64" (e.g. a search's double-precision state) */
} hn_dtype;

const char *hn_dtype_name(hn_dtype t);
size_t hn_dtype_size(hn_dtype t);
/* -1 when the name is not one of the supported dtypes. */
int hn_dtype_parse(const char *name);

/* ---- writer ------------------------------------------------------------- */

typedef struct hn_ckpt_writer hn_ckpt_writer; /* opaque */

hn_ckpt_writer *hn_ckpt_writer_new(void);
void hn_ckpt_writer_free(hn_ckpt_writer *w);
/* Copies data (product of shape elements of dtype; ndim 0 = scalar).
 * Names must be unique, non-empty, <= HN_CKPT_NAME_MAX bytes and not
 * "__metadata__". */
hn_status hn_ckpt_writer_add(hn_ckpt_writer *w, const char *name, hn_dtype dt,
                             int ndim, const int64_t *shape, const void *data);
/* Convenience for 1-D tensors. */
hn_status hn_ckpt_writer_add_1d(hn_ckpt_writer *w, const char *name,
                                hn_dtype dt, int64_t n, const void *data);
/* String metadata (a repeated key replaces the earlier value). */
hn_status hn_ckpt_writer_meta(hn_ckpt_writer *w, const char *key,
                              const char *value);
/* Metadata holding a JSON document (stored as a string in __metadata__,
 * spliced as JSON into the X.json side file).  Must be valid JSON. */
hn_status hn_ckpt_writer_meta_json(hn_ckpt_writer *w, const char *key,
                                   const char *json);
/* An hn_rng as an I64 tensor [2] = {state, inc} (bit patterns). */
hn_status hn_ckpt_writer_add_rng(hn_ckpt_writer *w, const char *name,
                                 const hn_rng *r);
/* Integer metadata, stored as decimal text. */
hn_status hn_ckpt_writer_meta_int(hn_ckpt_writer *w, const char *key,
                                  int64_t v);
/* Writes path atomically, then the side file (path with its .safetensors
 * extension replaced by .json, or path + ".json") unless side_file is false. */
hn_status hn_ckpt_writer_save(const hn_ckpt_writer *w, const char *path,
                              bool side_file);
/* The serialized file in memory (malloc'd; caller frees). */
hn_status hn_ckpt_writer_serialize(const hn_ckpt_writer *w, uint8_t **out,
                                   size_t *len);

/* ---- reader ------------------------------------------------------------- */

typedef struct hn_ckpt hn_ckpt; /* opaque; owns the file contents */

typedef struct hn_ckpt_tensor {
    const char *name;
    hn_dtype dtype;
    int ndim;
    int64_t shape[HN_CKPT_MAX_DIMS];
    int64_t numel;
    size_t nbytes;
    const void *data; /* into the loaded file; may be unaligned: memcpy it */
} hn_ckpt_tensor;

/* Reads and validates the whole file: header length vs file size, JSON
 * syntax, every entry's dtype / shape / offsets, offsets in range, not
 * overlapping and covering the data exactly.  Errors name the file and the
 * tensor.  Unsupported dtypes (e.g. F16 or BF16) are an error naming them. */
hn_status hn_ckpt_load(const char *path, hn_ckpt **out);
/* hn_ckpt_load and free: the hn_rundir_ckpt_check of rundir.h (ud unused). */
hn_status hn_ckpt_check(const char *path, void *ud);
/* Parses an in-memory image; `name` stands for the file in messages. */
hn_status hn_ckpt_load_buffer(const void *buf, size_t len, const char *name,
                              hn_ckpt **out);
void hn_ckpt_free(hn_ckpt *c);

const char *hn_ckpt_path(const hn_ckpt *c);
int hn_ckpt_n_tensors(const hn_ckpt *c);
/* Tensors in file (data offset) order. */
const hn_ckpt_tensor *hn_ckpt_tensor_at(const hn_ckpt *c, int i);
/* NULL when absent. */
const hn_ckpt_tensor *hn_ckpt_find(const hn_ckpt *c, const char *name);
/* Copies tensor `name` into dst after checking that it exists and has this
 * dtype and shape (errors name the file, the tensor, expected and found). */
hn_status hn_ckpt_get(const hn_ckpt *c, const char *name, hn_dtype dt,
                      int ndim, const int64_t *shape, void *dst);
/* HN_ERR_FORMAT naming the file, tensor and element when an F32 tensor
 * holds a NaN or an infinity (hn_ckpt_get checks every F32 tensor it
 * copies; weights are never legitimately non-finite). */
hn_status hn_ckpt_check_finite(const hn_ckpt *c, const hn_ckpt_tensor *t);
/* 1-D convenience: the tensor must be shape [n]. */
hn_status hn_ckpt_get_1d(const hn_ckpt *c, const char *name, hn_dtype dt,
                         int64_t n, void *dst);

/* Restores an hn_rng written by hn_ckpt_writer_add_rng (an odd inc is
 * checked: PCG streams need it). */
hn_status hn_ckpt_get_rng(const hn_ckpt *c, const char *name, hn_rng *r);
/* Integer metadata; errors name the file and key when it is absent or not
 * an integer. */
hn_status hn_ckpt_meta_int(const hn_ckpt *c, const char *key, int64_t *v);

int hn_ckpt_n_meta(const hn_ckpt *c);
const char *hn_ckpt_meta_key(const hn_ckpt *c, int i);
const char *hn_ckpt_meta_val(const hn_ckpt *c, int i);
/* NULL when absent. */
const char *hn_ckpt_meta(const hn_ckpt *c, const char *key);

/* ---- model and optimizer state (checkpoint_model.c) ---------------------- */

typedef struct hn_model hn_model; /* nn.h */
typedef struct hn_optim hn_optim; /* optim.h */
struct hn_param;                   /* nn.h */

/* Quantization contract of the model tensors (docs/nn.md "Quantization
 * contract"): metadata key and value every model checkpoint carries from
 * contract 2 on (per-tensor activation clamps on nested power-of-two grids,
 * round half up).  A checkpoint without it is of contract 1 (per-channel
 * act_clamp) or imported; integer backends refuse it. */
#define HN_CKPT_QUANT_KEY "quant_contract"
#define HN_CKPT_QUANT_CONTRACT "2"
/* "input": "u8" when the stem was trained on 8-bit codes (value code/255,
 * hn_model_set_input_norm); without it the model saw normalized floats and
 * loading folds the normalization into the stem (hn_ckpt_fold_input). */
#define HN_CKPT_INPUT_KEY "input"
#define HN_CKPT_INPUT_U8 "u8"
/* "act_clamps": "calibrated" (hn_model_calibrate_clamps ran, e.g. every
 * quantized training) or "default"; loading sets
 * hn_model_set_clamps_calibrated from it (contract 2 only). */
#define HN_CKPT_CLAMPS_KEY "act_clamps"

/* Every model parameter and buffer (hn_model_param) as an F32 tensor under
 * its PyTorch-style name with its full shape, plus HN_CKPT_QUANT_KEY. */
hn_status hn_ckpt_writer_add_model(hn_ckpt_writer *w, hn_model *m);
/* Optimizer state of an optimizer built with hn_optim_new_model(m):
 * optim.<param>.momentum_buffer (SGD with momentum) or optim.<param>.exp_avg
 * and .exp_avg_sq (Adam), plus optim.step (I64 scalar). */
hn_status hn_ckpt_writer_add_optim(hn_ckpt_writer *w, hn_model *m,
                                   hn_optim *o);
/* Copies the checkpoint's tensors into the model's parameters of the same
 * name, checking dtype and shape.  strict: every model parameter must be in
 * the file (resume); otherwise missing ones keep their values and *n_loaded
 * (may be NULL) says how many were found (import of a pretrained model).
 * Tensors the model does not have are ignored either way.  A per-channel
 * `*.act_clamp` of contract 1 is converted to the per-tensor clamp (the
 * largest |channel clamp|); then hn_ckpt_fold_input. */
hn_status hn_ckpt_load_model(const hn_ckpt *c, hn_model *m, bool strict,
                             int *n_loaded);
/* Contract-1 per-channel act_clamp tensor t -> the per-tensor parameter p
 * (max |clamp|); false (nothing done) when t/p are not that case. */
bool hn_ckpt_convert_act_clamp(const hn_ckpt_tensor *t, struct hn_param *p);
/* Folds the data normalization into the stem (hn_model_fold_input_norm)
 * when the model takes 8-bit input and the checkpoint was trained without. */
hn_status hn_ckpt_fold_input(const hn_ckpt *c, hn_model *m);
/* Restores what hn_ckpt_writer_add_optim wrote (all of it must be there). */
hn_status hn_ckpt_load_optim(const hn_ckpt *c, hn_model *m, hn_optim *o);

#ifdef __cplusplus
}
#endif
#endif
