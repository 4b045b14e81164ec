/* cim_idx.h -- image/label datasets from IDX files (the MNIST format), plain
 * or gzip-compressed.
 *
 * An IDX file is a 4-byte big-endian magic number -- two zero bytes, the
 * element type (only 0x08, unsigned byte, is accepted) and the number of
 * dimensions -- then each dimension as a big-endian uint32, then the elements
 * in row-major order and nothing after them. Images are 3-D (count x height x
 * width, magic 0x00000803: one channel) or 4-D (count x channels x height x
 * width, magic 0x00000804: channels first, as a model's input_shape), labels
 * 1-D (count, magic 0x00000801). zlib reads gzip and plain files alike, so
 * either may be compressed.
 *
 * Every loader returns 0 or a negative CIM_ERR_* code (CIM_ERR_INPUT for a bad
 * or missing file, CIM_ERR_NOMEM) with a one-line message naming the file and
 * what was expected. On failure the dataset is left zeroed (nothing to free).
 * The dataset itself, and the loader that recognises a folder's format, are
 * cim_dataset.h's.
 */
#ifndef CIM_IDX_H
#define CIM_IDX_H

#include <stdint.h>

#include "cim_dataset.h"
#include "cim_error.h"

/* Debian's dataset-fashion-mnist installs the four .gz files here. */
#define CIM_IDX_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"

#define CIM_IDX_PATH_MAX CIM_DATASET_PATH_MAX      /* bytes of a stored path, NUL included */
#define CIM_IDX_MAX_COUNT ((int64_t)1 << 26)       /* images (and labels) per file */
#define CIM_IDX_MAX_CHANNELS 4096                  /* channels per image (4-D files) */
#define CIM_IDX_MAX_SIDE 4096                      /* pixels per image row or column */
#define CIM_IDX_MAX_BYTES (((int64_t)1 << 31) - 1) /* count x channels x height x width */

/* Loads an images file (3-D or 4-D) and a labels file (1-D) whose counts must
 * agree. *d is overwritten (not freed first); free it with cim_dataset_free(). */
int cim_idx_load_dataset(const char *images_path, const char *labels_path, cim_dataset *d,
                         cim_error *err);

/* Loads <dir>/<split>-images-idx3-ubyte (or -idx4-ubyte) and
 * <dir>/<split>-labels-idx1-ubyte, each with ".gz" tried first and then
 * without; `split` is a file-name prefix such as "t10k" (the test set) or
 * "train". A missing file's message lists the paths tried; an idx3 and an
 * idx4 images file of the same split are refused as ambiguous. */
int cim_idx_load_split(const char *dir, const char *split, cim_dataset *d, cim_error *err);

/* The two files cim_idx_load_split(dir, split) reads, into images and labels
 * (CIM_IDX_PATH_MAX bytes each; "" for one that is missing): 0, or its
 * error for the first missing file. */
int cim_idx_split_paths(const char *dir, const char *split, char *images, char *labels,
                        cim_error *err);

/* Whether <dir> holds an images or a labels file of `split` (any of the names
 * cim_idx_split_paths tries). */
int cim_idx_split_present(const char *dir, const char *split);

#endif /* CIM_IDX_H */
