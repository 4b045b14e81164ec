/* cim_cifar_writer.h -- CIFAR-10 / CIFAR-100 "python" batch files for the
 * tests, byte for byte as Python 2's cPickle writes them (protocol 2): the
 * dict's keys and every str as SHORT_BINSTRING / BINSTRING, memo indices
 * from 1 (BINPUT, LONG_BINPUT past 255), lists and the dict filled by MARK ...
 * APPENDS / SETITEMS in batches of 1000, integers as BININT1 / BININT2 /
 * BININT, and b'data' as numpy pickles an ndarray: _reconstruct(ndarray,
 * (0,), 'b') then BUILD with (1, shape, dtype('u1', 0, 1) built with
 * (3, '|', None, None, None, -1, -1, 0), False, the bytes).
 *
 * The keys come in the order the original files hold them: CIFAR-10
 * batch_label, labels, data, filenames; CIFAR-100 filenames, batch_label,
 * fine_labels, coarse_labels, data.
 *
 * A batch may be written wrong on purpose (another dtype, shape, labels
 * count, module name, Fortran order) for the tests of the loader's errors.
 * Every function fails the running cmocka test when it cannot write.
 */
#ifndef CIM_CIFAR_WRITER_H
#define CIM_CIFAR_WRITER_H

#include <stddef.h>
#include <stdint.h>

#define CIM_CW_IMAGE_BYTES 3072 /* 3 x 32 x 32 */

typedef struct cim_cw_batch {
    int cifar100;            /* CIFAR-100 keys: fine_labels and coarse_labels */
    int32_t count;           /* images: count x 3072 bytes of data */
    const uint8_t *images;   /* count x 3072 */
    const uint8_t *labels;   /* n_labels of them (the fine labels for CIFAR-100) */
    int32_t n_labels;        /* 0: count */
    const char *batch_label; /* NULL: "testing batch 1 of 1" */
    /* deliberate faults, 0 / NULL for none: */
    const char *descr;      /* the dtype's descr instead of "u1" */
    int64_t shape[4];       /* the shape written instead of (count, 3072) */
    int rank;               /* with shape: 1 to 4 */
    const char *module;     /* _reconstruct's module instead of numpy.core.multiarray */
    int fortran;            /* is_fortran True */
    const char *labels_key; /* instead of labels / fine_labels */
} cim_cw_batch;

/* The pickle of the batch, malloc'd (free it), its length in *n. */
uint8_t *cim_cw_pickle(const cim_cw_batch *b, size_t *n);

/* Writes the batch as file `path`. */
void cim_cw_write(const char *path, const cim_cw_batch *b);

/* Pixel i of image k of a test folder's batch `batch` (0: the test set,
 * 1..5 the training batches): a pattern every test can recompute. */
uint8_t cim_cw_pixel(int batch, int32_t k, int32_t i);
/* Its label: k + batch, modulo the classes. */
uint8_t cim_cw_label(int batch, int32_t k, int classes);

/* A CIFAR-10 folder in `dir` (which must exist): batches.meta, test_batch
 * of n_test images and data_batch_1..5 of n_train each, pixels and labels
 * of cim_cw_pixel and cim_cw_label. */
void cim_cw_cifar10_folder(const char *dir, int32_t n_test, int32_t n_train);

/* A CIFAR-100 folder: meta, test and train (fine labels of 100 classes). */
void cim_cw_cifar100_folder(const char *dir, int32_t n_test, int32_t n_train);

#endif /* CIM_CIFAR_WRITER_H */
