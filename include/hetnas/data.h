/* Image-classification data: IDX (MNIST / Fashion-MNIST, plain or gzip) and
 * CIFAR-10 binary readers, datasets held as uint8 (N, C, H, W) + labels, a
 * seeded held-out validation split, per-channel normalization and a batch
 * loader with pad-and-crop / flip augmentation.
 *
 * Reproducibility: a loader's batch order in epoch e depends only on
 * (seed, e), and each sample's augmentation only on (seed, e, position in
 * the epoch), so a run resumed at any epoch (or batch) sees exactly the
 * data an uninterrupted run would, whatever the thread count. */
#ifndef HETNAS_DATA_H
#define HETNAS_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HN_DATA_MAX_C 4 /* channels a dataset may have (1 or 3 in practice) */
#define HN_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/* ---- low-level readers (errors name the file and what is wrong) -------- */

/* IDX image file (magic 0x00000803: u8, 3 dims), plain or .gz.
 * *pixels: malloc'd (n, h, w); the caller frees it. */
hn_status hn_idx_load_images(const char *path, int *n, int *h, int *w,
                             uint8_t **pixels);
/* IDX label file (magic 0x00000801: u8, 1 dim), plain or .gz. */
hn_status hn_idx_load_labels(const char *path, int *n, uint8_t **labels);
/* One CIFAR-10 binary batch: records of 1 label byte + 3072 pixel bytes
 * (R, G, B planes of 32x32).  Appends to *pixels (n, 3, 32, 32) and
 * *labels, growing them with realloc; *n is updated. */
hn_status hn_cifar10_load_batch(const char *path, int *n, uint8_t **pixels,
                                uint8_t **labels);
/* The same for a batch image in memory (len bytes); `name` stands for the
 * file in messages. */
hn_status hn_cifar10_load_batch_buffer(const uint8_t *buf, size_t len,
                                       const char *name, int *n,
                                       uint8_t **pixels, uint8_t **labels);

/* ---- datasets ----------------------------------------------------------- */

typedef struct hn_dataset hn_dataset; /* opaque; immutable after loading */

typedef enum hn_data_part { HN_DATA_TRAIN = 0, HN_DATA_TEST = 1 } hn_data_part;

/* name: "fashion-mnist" | "mnist" (IDX files train-images-idx3-ubyte[.gz]
 * etc. in dir) or "cifar10" (data_batch_1..5.bin / test_batch.bin in dir, or
 * in dir/cifar-10-batches-bin).  dir NULL or "" means the default directory
 * (HN_FASHION_MNIST_DIR for fashion-mnist; cifar10 and mnist need one). */
hn_status hn_dataset_load(const char *name, const char *dir, hn_data_part part,
                          hn_dataset **out);
/* IDX pair given by file names. */
hn_status hn_dataset_load_idx(const char *images_path, const char *labels_path,
                              int num_classes, hn_dataset **out);
/* Copies pixels (n, c, h, w) and labels (each < num_classes). */
hn_status hn_dataset_from_memory(int n, int c, int h, int w,
                                 const uint8_t *pixels, const uint8_t *labels,
                                 int num_classes, const char *name,
                                 hn_dataset **out);
void hn_dataset_free(hn_dataset *d);

int hn_dataset_n(const hn_dataset *d);
int hn_dataset_c(const hn_dataset *d);
int hn_dataset_h(const hn_dataset *d);
int hn_dataset_w(const hn_dataset *d);
int hn_dataset_num_classes(const hn_dataset *d);
const char *hn_dataset_name(const hn_dataset *d);
const uint8_t *hn_dataset_pixels(const hn_dataset *d); /* (n, c, h, w) */
const uint8_t *hn_dataset_labels(const hn_dataset *d); /* (n) */

/* ---- held-out validation split ------------------------------------------ */

/* Index lists into one dataset, both sorted ascending. */
typedef struct hn_split {
    int *train; /* (n_train) */
    int n_train;
    int *val; /* (n_val) */
    int n_val;
} hn_split;

/* Carves a validation set from `n` training samples: val_size samples when
 * val_size > 0, else round(val_fraction * n) (fraction in [0, 1)).  The
 * choice is a seeded shuffle, so it depends only on (n, size, seed). */
hn_status hn_split_make(int n, double val_fraction, int val_size,
                        uint64_t seed, hn_split *out);
/* All n samples as train (val empty), e.g. for the test set. */
hn_status hn_split_all(int n, hn_split *out);
void hn_split_free(hn_split *s);

/* ---- normalization ------------------------------------------------------ */

/* x = (pixel / 255 - mean[c]) / std[c]. */
typedef struct hn_norm {
    int c;
    float mean[HN_DATA_MAX_C];
    float std[HN_DATA_MAX_C];
} hn_norm;

/* Per-channel mean/std of pixel/255 over the samples idx[0..n_idx-1]
 * (idx NULL = all), computed in double.  A constant channel gets std 1. */
hn_status hn_norm_compute(const hn_dataset *d, const int *idx, int n_idx,
                          hn_norm *out);
/* mean 0, std 1 on every channel: only the /255 scaling. */
hn_norm hn_norm_identity(int c);
/* {"mean":[...],"std":[...]} (round-trippable floats) into buf, for the
 * manifest and checkpoint metadata.  HN_ERR_RANGE if cap is too small. */
hn_status hn_norm_to_json(const hn_norm *n, char *buf, size_t cap);

/* ---- batch loader ------------------------------------------------------- */

typedef struct hn_augment {
    int crop_pad; /* pad by this many zero pixels, then crop back at a random
                     offset (0 = off; 4 is the CIFAR standard) */
    bool flip;    /* random horizontal flip with probability 1/2 */
} hn_augment;

typedef struct hn_loader_opts {
    int batch_size;    /* >= 1 */
    bool shuffle;      /* new seeded order every epoch (training) */
    bool drop_last;    /* skip the final partial batch */
    hn_augment augment;
    uint64_t seed;
} hn_loader_opts;

typedef struct hn_loader hn_loader; /* opaque */

/* Iterates over d restricted to idx[0..n_idx-1] (idx NULL = all samples;
 * the list is copied).  norm NULL = identity. */
hn_status hn_loader_new(const hn_dataset *d, const int *idx, int n_idx,
                        const hn_norm *norm, const hn_loader_opts *opts,
                        hn_loader **out);
void hn_loader_free(hn_loader *l);
/* Starts epoch e (0-based): fixes its order and rewinds to batch 0. */
void hn_loader_start_epoch(hn_loader *l, int epoch);
/* Jumps to batch b of the current epoch (for resuming mid-epoch). */
void hn_loader_seek(hn_loader *l, int batch);
int hn_loader_n_batches(const hn_loader *l);
/* Position: the current epoch and the next batch (for checkpoints). */
int hn_loader_epoch(const hn_loader *l);
int hn_loader_batch(const hn_loader *l);
int hn_loader_n_samples(const hn_loader *l);
/* Fills x (batch_size, c, h, w) normalized floats and y (batch_size) labels
 * with the next batch; returns its size, 0 at the end of the epoch. */
int hn_loader_next(hn_loader *l, float *x, int *y);
/* Dataset index of position i of the current epoch's order. */
int hn_loader_order_at(const hn_loader *l, int i);

#ifdef __cplusplus
}
#endif
#endif
