/* cim_idx.h -- image/label datasets from IDX files (the MNIST format), plain
 * or gzip-compressed.
 *
 * An IDX file is a 4-byte big-endian magic number -- two zero bytes, the
 * element type (only 0x08, unsigned byte, is accepted) and the number of
 * dimensions -- then each dimension as a big-endian uint32, then the elements
 * in row-major order and nothing after them. Images are 3-D (count x height x
 * width, magic 0x00000803), labels 1-D (count, magic 0x00000801). zlib reads
 * gzip and plain files alike, so either may be compressed.
 *
 * Every loader returns 0 or a negative CIM_ERR_* code (CIM_ERR_INPUT for a bad
 * or missing file, CIM_ERR_NOMEM) with a one-line message naming the file and
 * what was expected. On failure the dataset is left zeroed (nothing to free).
 */
#ifndef CIM_IDX_H
#define CIM_IDX_H

#include <stdint.h>

#include "cim_error.h"

struct cim_model; /* cim_model.h */

/* Debian's dataset-fashion-mnist installs the four .gz files here. */
#define CIM_IDX_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"

#define CIM_IDX_PATH_MAX 4096                      /* bytes of a stored path, NUL included */
#define CIM_IDX_MAX_COUNT ((int64_t)1 << 26)       /* images (and labels) per file */
#define CIM_IDX_MAX_SIDE 4096                      /* pixels per image row or column */
#define CIM_IDX_MAX_BYTES (((int64_t)1 << 31) - 1) /* count x height x width */

typedef struct cim_dataset {
    int32_t count;            /* images, equal to labels */
    int32_t height, width;    /* pixels */
    uint8_t *images;          /* count x height x width, row-major; owned */
    uint8_t *labels;          /* count; owned */
    int32_t num_classes_seen; /* 1 + the largest label */
    char images_path[CIM_IDX_PATH_MAX];
    char labels_path[CIM_IDX_PATH_MAX];
} cim_dataset;

/* Loads an images file (3-D) and a labels file (1-D) whose counts must agree.
 * *d is overwritten (not freed first); free it with cim_dataset_free(). */
int cim_idx_load_dataset(const char *images_path, const char *labels_path, cim_dataset *d,
                         cim_error *err);

/* Loads <dir>/<split>-images-idx3-ubyte and <dir>/<split>-labels-idx1-ubyte,
 * each with ".gz" tried first and then without; `split` is a file-name prefix
 * such as "t10k" (the test set) or "train". A missing file's message lists the
 * paths tried. */
int cim_idx_load_split(const char *dir, const char *split, cim_dataset *d, cim_error *err);

/* The two files cim_idx_load_split(dir, split) reads, into images and labels
 * (CIM_IDX_PATH_MAX bytes each; "" for one that is missing): 0, or its
 * error for the first missing file. */
int cim_idx_split_paths(const char *dir, const char *split, char *images, char *labels,
                        cim_error *err);

/* Copies images [first, first + count) of `src` into a new dataset *out (with
 * the same paths, and num_classes_seen recomputed over the copied labels).
 * first < 0, count < 1 or first + count > src->count is CIM_ERR_INPUT,
 * "image count out of range", naming the images file and its size. */
int cim_dataset_subset(const cim_dataset *src, int64_t first, int64_t count, cim_dataset *out,
                       cim_error *err);

/* Whether the images of `d` are inputs of model `m`. An IDX image file holds
 * count x height x width bytes, one channel per image (data/model_format.md,
 * §3: C = 1, x[0, h, w] = byte h*W + w), and the loader accepts no other rank,
 * so the model's input_shape must be exactly [1, height, width]: the same
 * number of pixels in another geometry (1x784 for [1,28,28]) is no match.
 * 0, or CIM_ERR_INPUT, "dataset shape mismatch: ...", naming the images file
 * with its image shape and the model file with its input_shape. */
int cim_dataset_check_input_shape(const cim_dataset *d, const struct cim_model *m, cim_error *err);

/* Frees the buffers and zeroes *d; safe on a zeroed or already freed dataset. */
void cim_dataset_free(cim_dataset *d);

#endif /* CIM_IDX_H */
