/* cim_dataset.h -- the images and labels a network run classifies, from a
 * dataset folder in one of three formats (docs/datasets.md):
 *
 *   IDX        <split>-images-idx3-ubyte (count x H x W, one channel) or
 *              <split>-images-idx4-ubyte (count x C x H x W) and
 *              <split>-labels-idx1-ubyte, each plain or ".gz" (cim_idx.h)
 *   CIFAR-10   the "python" batches: batches.meta, data_batch_1..5 (split
 *              "train"), test_batch (split "test") (cim_cifar.h)
 *   CIFAR-100  the "python" files: meta, train, test; the fine labels
 *
 * cim_dataset_load_split() recognises the folder by its files: the split's
 * IDX images file first, then CIFAR-10's batches.meta, then CIFAR-100's meta
 * next to its train or test file. Images are channels first, C order
 * (x[c,h,w] = byte (c*H + h)*W + w of the image), as a model's input_shape
 * [C,H,W] takes them (data/model_format.md, §3).
 *
 * Every function returns 0 or a negative CIM_ERR_* code with a one-line
 * message naming the file(s) and what was expected; a failed load leaves the
 * dataset zeroed (nothing to free). The dataset owns its buffers until
 * cim_dataset_free().
 */
#ifndef CIM_DATASET_H
#define CIM_DATASET_H

#include <stdint.h>

#include "cim_error.h"

struct cim_model; /* cim_model.h */

#define CIM_DATASET_PATH_MAX 4096 /* bytes of a stored path, NUL included */
#define CIM_DATASET_MAX_FILES 5   /* files one split reads: CIFAR-10's training batches */
/* Between the paths of a split read from several files (CIFAR-10 "train") in
 * images_path and labels_path. */
#define CIM_DATASET_PATH_SEPARATOR "; "

typedef enum cim_dataset_format {
    CIM_DATASET_IDX,
    CIM_DATASET_CIFAR10,
    CIM_DATASET_CIFAR100,
} cim_dataset_format;

/* The files a split reads, in the order they are read. */
typedef struct cim_dataset_files {
    int32_t n;
    char path[CIM_DATASET_MAX_FILES][CIM_DATASET_PATH_MAX];
} cim_dataset_files;

typedef struct cim_dataset {
    int32_t count;             /* images, equal to labels */
    int32_t channels;          /* C: 1 for a 3-D IDX file, 3 for CIFAR */
    int32_t height, width;     /* pixels */
    uint8_t *images;           /* count x channels x height x width, C order; owned */
    uint8_t *labels;           /* count; owned */
    int32_t num_classes_seen;  /* 1 + the largest label */
    cim_dataset_format format; /* where the images came from */
    /* The images and the labels file (IDX); for CIFAR both name the batch
     * file, or the batch files joined by CIM_DATASET_PATH_SEPARATOR. */
    char images_path[CIM_DATASET_PATH_MAX];
    char labels_path[CIM_DATASET_PATH_MAX];
    cim_dataset_files files; /* every file read: IDX images, labels; CIFAR the batches */
} cim_dataset;

/* "IDX", "CIFAR-10", "CIFAR-100". */
const char *cim_dataset_format_name(cim_dataset_format format);

/* Which format the folder holds for `split` (the rules above). 0, or
 * CIM_ERR_INPUT naming the folder and everything looked for. */
int cim_dataset_detect(const char *dir, const char *split, cim_dataset_format *format,
                       cim_error *err);

/* Loads split `split` of the dataset folder `dir`: IDX as cim_idx_load_split,
 * CIFAR as cim_cifar_load_split. *d is overwritten (not freed first). */
int cim_dataset_load_split(const char *dir, const char *split, cim_dataset *d, cim_error *err);

/* The files cim_dataset_load_split(dir, split) reads, into *files: for IDX
 * the images and labels files that exist, for CIFAR every batch file of the
 * split whether it exists or not (the loader names a missing one). 0, or the
 * error of the detection or of the first missing IDX file (the files found
 * are still listed). */
int cim_dataset_split_files(const char *dir, const char *split, cim_dataset_files *files,
                            cim_error *err);

/* The SHA-256 (64 hex digits) of the files the images (labels = 0) or the
 * labels (labels = 1) came from: of an IDX file's bytes as stored; of a CIFAR
 * split, of its batch files' bytes one after the other, in the order read
 * (for one file: that file's SHA-256). 0, or CIM_ERR_INPUT naming the file. */
int cim_dataset_sha256_hex(const cim_dataset *d, int labels, char hex[65], cim_error *err);

/* Copies images [first, first + count) of `src` into a new dataset *out (with
 * the same paths, and num_classes_seen recomputed over the copied labels).
 * first < 0, count < 1 or first + count > src->count is CIM_ERR_INPUT,
 * "image count out of range", naming the images file and its size. */
int cim_dataset_subset(const cim_dataset *src, int64_t first, int64_t count, cim_dataset *out,
                       cim_error *err);

/* Whether the images of `d` are inputs of model `m`: the model's input_shape
 * must be exactly [channels, height, width] -- the same number of bytes in
 * another geometry (1x784 for [1,28,28], [1,32,96] for [3,32,32]) is no
 * match. 0, or CIM_ERR_INPUT, "dataset shape mismatch: ...", naming the
 * images file(s) with their image shape and the model file with its
 * input_shape. */
int cim_dataset_check_input_shape(const cim_dataset *d, const struct cim_model *m, cim_error *err);

/* Bytes of one image: channels x height x width. */
int64_t cim_dataset_image_bytes(const cim_dataset *d);

/* Frees the buffers and zeroes *d; safe on a zeroed or already freed dataset. */
void cim_dataset_free(cim_dataset *d);

/* For the loaders: the images' largest label + 1 over labels[0..count). */
int32_t cim_dataset_classes_seen(const uint8_t *labels, int64_t count);

#endif /* CIM_DATASET_H */
