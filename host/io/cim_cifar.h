/* cim_cifar.h -- CIFAR-10 and CIFAR-100 in their "python" version, the
 * folders cifar-10-batches-py/ and cifar-100-python/ as the archives unpack.
 *
 * Each batch file is a pickle (cim_pickle.h; Python 2's cPickle wrote them,
 * protocol 2) of a dict whose b'data' is a numpy uint8 array of N x 3072: each
 * row one 32x32 image, its 1024 red, then 1024 green, then 1024 blue bytes,
 * row-major -- [3,32,32] channels first, as a model's input_shape takes it.
 * The labels are a list of N integers: b'labels' (CIFAR-10, 0..9) or
 * b'fine_labels' (CIFAR-100, 0..99; the 20 b'coarse_labels' are not read).
 * Other keys (b'batch_label', b'filenames', b'coarse_labels') are read as
 * values but not checked.
 *
 * Splits:
 *   CIFAR-10   "test" (also "t10k", the name `cimgpu run` defaults to): test_batch
 *              "train": data_batch_1 .. data_batch_5, in that order
 *   CIFAR-100  "test" (also "t10k"): test;  "train": train
 *
 * Every function returns 0 or a negative CIM_ERR_* code with a one-line
 * message naming the batch file and what was expected; a failed load leaves
 * the dataset zeroed.
 */
#ifndef CIM_CIFAR_H
#define CIM_CIFAR_H

#include "cim_dataset.h"
#include "cim_error.h"

#define CIM_CIFAR_CHANNELS 3
#define CIM_CIFAR_SIDE 32
#define CIM_CIFAR_IMAGE_BYTES (CIM_CIFAR_CHANNELS * CIM_CIFAR_SIDE * CIM_CIFAR_SIDE) /* 3072 */
#define CIM_CIFAR10_CLASSES 10
#define CIM_CIFAR100_CLASSES 100
#define CIM_CIFAR10_META "batches.meta" /* the file that marks a CIFAR-10 folder */
#define CIM_CIFAR100_META "meta"        /* with "train" or "test": a CIFAR-100 folder */

/* The batch files of split `split` in folder `dir` of `format`
 * (CIM_DATASET_CIFAR10 or _CIFAR100), whether they exist or not. 0, or
 * CIM_ERR_INPUT for a split the format does not have (naming those it has)
 * or a folder path too long. */
int cim_cifar_split_files(const char *dir, const char *split, cim_dataset_format format,
                          cim_dataset_files *files, cim_error *err);

/* Loads the batch files in order into one dataset: images [3,32,32], the
 * labels of `format`. *d is overwritten (not freed first). */
int cim_cifar_load_batches(const cim_dataset_files *files, cim_dataset_format format,
                           cim_dataset *d, cim_error *err);

/* cim_cifar_split_files, then cim_cifar_load_batches. */
int cim_cifar_load_split(const char *dir, const char *split, cim_dataset_format format,
                         cim_dataset *d, cim_error *err);

#endif /* CIM_CIFAR_H */
