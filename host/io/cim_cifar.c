/* cim_cifar.c -- CIFAR-10 / CIFAR-100 batch files (cim_cifar.h) into a
 * dataset, through the restricted pickle reader (cim_pickle.h).
 *
 * One batch: the pickle must hold a dict; its b'data' a built numpy array of
 * dtype u1, C order, shape (N, 3072) with N in 1..CIM_IDX_MAX_COUNT and
 * exactly N x 3072 bytes of data; its labels key a list of exactly N
 * integers, each a class of the format. Every failure is one line naming
 * the batch file.
 *
 * Several batches (CIFAR-10 "train") are read one after the other: the first
 * one's pixel buffer is taken from its pickle as it is, each later one is
 * appended, so at most one pickle is held at a time. Their counts add up
 * within CIM_IDX_MAX_COUNT and CIM_IDX_MAX_BYTES.
 *
 * Ownership: a batch's pickle is freed before the next is read; the dataset
 * owns the images and labels until cim_dataset_free(). A failed load leaves
 * *d zeroed.
 */
#include "cim_cifar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cim_idx.h"
#include "cim_pickle.h"

#define CIFAR10_TRAIN_BATCHES 5

static const char *format_name(cim_dataset_format format)
{
    return format == CIM_DATASET_CIFAR100 ? "CIFAR-100" : "CIFAR-10";
}

static const char *labels_key(cim_dataset_format format)
{
    return format == CIM_DATASET_CIFAR100 ? "fine_labels" : "labels";
}

static int num_classes(cim_dataset_format format)
{
    return format == CIM_DATASET_CIFAR100 ? CIM_CIFAR100_CLASSES : CIM_CIFAR10_CLASSES;
}

static int is_test_split(const char *split)
{
    return strcmp(split, "test") == 0 || strcmp(split, "t10k") == 0;
}

int cim_cifar_split_files(const char *dir, const char *split, cim_dataset_format format,
                          cim_dataset_files *files, cim_error *err)
{
    static const char *const cifar10_train[CIFAR10_TRAIN_BATCHES] = {
        "data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"};
    static const char *const cifar10_test[] = {"test_batch"};
    static const char *const cifar100_train[] = {"train"};
    static const char *const cifar100_test[] = {"test"};
    const int c100 = format == CIM_DATASET_CIFAR100;
    const char *const *names = NULL;
    int n = 0;
    memset(files, 0, sizeof *files);
    if (!dir || !*dir || !split || !*split)
        return cim_error_set(err, CIM_ERR_USAGE,
                             "dataset: a folder and a split name (\"test\" or \"train\") are "
                             "needed");
    if (is_test_split(split)) {
        names = c100 ? cifar100_test : cifar10_test;
        n = 1;
    } else if (strcmp(split, "train") == 0) {
        names = c100 ? cifar100_train : cifar10_train;
        n = c100 ? 1 : CIFAR10_TRAIN_BATCHES;
    } else {
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%s: a %s folder has no split \"%s\" (expected test -- also named "
                             "t10k -- or train)",
                             dir, format_name(format), split);
    }
    for (int i = 0; i < n; ++i) {
        int len = snprintf(files->path[i], CIM_DATASET_PATH_MAX, "%s/%s", dir, names[i]);
        if (len < 0 || len >= CIM_DATASET_PATH_MAX) {
            memset(files, 0, sizeof *files);
            return cim_error_set(err, CIM_ERR_INPUT, "%.64s...: dataset folder path too long", dir);
        }
    }
    files->n = n;
    return 0;
}

/* One batch as read: its pixels (taken from the pickle) and labels. */
typedef struct cifar_batch {
    int64_t count;
    uint8_t *images; /* count x 3072, malloc'd */
    uint8_t *labels; /* count, malloc'd */
} cifar_batch;

/* "(10000, 3072)": the shape of an array, for messages. */
static const char *shape_text(const cim_pk_array *a, char *buf, size_t n)
{
    size_t used = 0;
    buf[used++] = '(';
    for (int k = 0; k < a->rank && used + 24 < n; ++k)
        used +=
            (size_t)snprintf(buf + used, n - used, "%s%lld", k ? ", " : "", (long long)a->shape[k]);
    snprintf(buf + used, n - used, a->rank == 1 ? ",)" : ")");
    return buf;
}

/* b'data' of the batch's dict: a u1 array of (N, 3072) in C order. */
static int check_data(const char *path, const cim_pk_value *data, cim_error *err)
{
    char shape[128];
    if (!data)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%s: the pickled dict has no key b'data' (a CIFAR batch holds "
                             "b'data' and its labels)",
                             path);
    if (data->type != CIM_PK_NDARRAY || !data->array->built)
        return cim_error_set(err, CIM_ERR_INPUT, "%s: b'data' is %s, expected a numpy array", path,
                             cim_pk_type_name(data->type));
    const cim_pk_array *a = data->array;
    const char *descr = (const char *)a->dtype->bytes;
    if (strcmp(descr, "u1") != 0)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%s: b'data' has dtype %.15s, expected u1 (numpy.uint8)", path, descr);
    if (a->rank != 2 || a->shape[1] != CIM_CIFAR_IMAGE_BYTES || a->shape[0] < 1 ||
        a->shape[0] > CIM_IDX_MAX_COUNT)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%s: b'data' has shape %s, expected (N, %d) with N in 1..%lld: one "
                             "row of 1024 red, 1024 green and 1024 blue bytes per image",
                             path, shape_text(a, shape, sizeof shape), CIM_CIFAR_IMAGE_BYTES,
                             (long long)CIM_IDX_MAX_COUNT);
    if (a->fortran)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%s: b'data' is stored in Fortran order, expected C order (one row "
                             "of %d bytes per image)",
                             path, CIM_CIFAR_IMAGE_BYTES);
    const int64_t want = a->shape[0] * CIM_CIFAR_IMAGE_BYTES;
    if (a->data->len != want)
        return cim_error_set(
            err, CIM_ERR_INPUT, "%s: b'data' holds %lld bytes, but its shape %s needs %lld", path,
            (long long)a->data->len, shape_text(a, shape, sizeof shape), (long long)want);
    return 0;
}

/* The labels list: `count` integers, each a class of `format`, into out. */
static int read_labels(const char *path, cim_dataset_format format, const cim_pk_value *list,
                       int64_t count, uint8_t *out, cim_error *err)
{
    const char *key = labels_key(format);
    const int classes = num_classes(format);
    if (!list)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%s: the pickled dict has no key b'%s' (the labels of a %s batch)",
                             path, key, format_name(format));
    if (list->type != CIM_PK_LIST)
        return cim_error_set(err, CIM_ERR_INPUT, "%s: b'%s' is %s, expected a list of integers",
                             path, key, cim_pk_type_name(list->type));
    if (list->len != count)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%s: b'%s' holds %lld labels but b'data' holds %lld images", path, key,
                             (long long)list->len, (long long)count);
    for (int64_t i = 0; i < count; ++i) {
        const cim_pk_value *v = list->items[i];
        if (v->type != CIM_PK_INT)
            return cim_error_set(err, CIM_ERR_INPUT,
                                 "%s: label %lld in b'%s' is %s, expected an integer", path,
                                 (long long)i, key, cim_pk_type_name(v->type));
        if (v->i < 0 || v->i >= classes)
            return cim_error_set(err, CIM_ERR_INPUT,
                                 "%s: label %lld of image %lld in b'%s' is outside 0..%d (%s has "
                                 "%d classes)",
                                 path, (long long)v->i, (long long)i, key, classes - 1,
                                 format_name(format), classes);
        out[i] = (uint8_t)v->i;
    }
    return 0;
}

/* Reads one batch file into *b (zeroed on failure). */
static int read_batch(const char *path, cim_dataset_format format, cifar_batch *b, cim_error *err)
{
    cim_pickle *p = NULL;
    memset(b, 0, sizeof *b);
    if (access(path, R_OK) != 0)
        return cim_error_set(err, CIM_ERR_INPUT, "%s: cannot open the %s batch file: %s", path,
                             format_name(format), strerror(errno));
    int rc = cim_pickle_read_file(path, &p, err);
    if (rc)
        return rc;
    const cim_pk_value *root = cim_pickle_root(p);
    cim_pk_value *data = NULL;
    if (root->type != CIM_PK_DICT)
        rc = cim_error_set(err, CIM_ERR_INPUT,
                           "%s: the pickle holds %s, expected a dict (a %s batch)", path,
                           cim_pk_type_name(root->type), format_name(format));
    if (!rc)
        rc = check_data(path, data = cim_pk_dict_get(root, "data"), err);
    if (!rc) {
        b->count = data->array->shape[0];
        if (!(b->labels = malloc((size_t)b->count)))
            rc = cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory for %lld labels", path,
                               (long long)b->count);
    }
    if (!rc)
        rc = read_labels(path, format, cim_pk_dict_get(root, labels_key(format)), b->count,
                         b->labels, err);
    if (!rc)
        b->images = cim_pk_take_bytes(data->array->data);
    cim_pickle_free(p);
    if (rc) {
        free(b->labels);
        memset(b, 0, sizeof *b);
    }
    return rc;
}

/* Appends batch b (its buffers freed) to d. */
static int append_batch(cim_dataset *d, cifar_batch *b, const char *path, cim_error *err)
{
    int rc = 0;
    const int64_t count = (int64_t)d->count + b->count;
    if (count > CIM_IDX_MAX_COUNT || count * CIM_CIFAR_IMAGE_BYTES > CIM_IDX_MAX_BYTES)
        rc = cim_error_set(err, CIM_ERR_INPUT,
                           "%s: the batches hold %lld images together, more than the limit %lld",
                           path, (long long)count,
                           (long long)(CIM_IDX_MAX_BYTES / CIM_CIFAR_IMAGE_BYTES));
    else if (!d->images) {
        d->images = b->images;
        d->labels = b->labels;
        b->images = b->labels = NULL;
    } else {
        uint8_t *images = realloc(d->images, (size_t)count * CIM_CIFAR_IMAGE_BYTES);
        if (images)
            d->images = images;
        uint8_t *labels = images ? realloc(d->labels, (size_t)count) : NULL;
        if (labels)
            d->labels = labels;
        if (!images || !labels)
            rc = cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory for %lld images", path,
                               (long long)count);
        else {
            memcpy(d->images + (size_t)d->count * CIM_CIFAR_IMAGE_BYTES, b->images,
                   (size_t)b->count * CIM_CIFAR_IMAGE_BYTES);
            memcpy(d->labels + d->count, b->labels, (size_t)b->count);
        }
    }
    if (!rc)
        d->count = (int32_t)count;
    free(b->images);
    free(b->labels);
    memset(b, 0, sizeof *b);
    return rc;
}

/* The batch files' paths joined by CIM_DATASET_PATH_SEPARATOR into buf. */
static int join_paths(const cim_dataset_files *files, char *buf, cim_error *err)
{
    size_t used = 0;
    for (int32_t i = 0; i < files->n; ++i) {
        const char *sep = i ? CIM_DATASET_PATH_SEPARATOR : "";
        int n = snprintf(buf + used, CIM_DATASET_PATH_MAX - used, "%s%s", sep, files->path[i]);
        if (n < 0 || (size_t)n >= CIM_DATASET_PATH_MAX - used)
            return cim_error_set(err, CIM_ERR_INPUT,
                                 "%.64s...: dataset folder path too long for the names of its "
                                 "%d batch files (at most %d bytes together)",
                                 files->path[0], files->n, CIM_DATASET_PATH_MAX - 1);
        used += (size_t)n;
    }
    return 0;
}

int cim_cifar_load_batches(const cim_dataset_files *files, cim_dataset_format format,
                           cim_dataset *d, cim_error *err)
{
    memset(d, 0, sizeof *d);
    if (files->n < 1 || files->n > CIM_DATASET_MAX_FILES ||
        (format != CIM_DATASET_CIFAR10 && format != CIM_DATASET_CIFAR100))
        return cim_error_set(err, CIM_ERR_USAGE, "dataset: 1..%d CIFAR batch files are needed",
                             CIM_DATASET_MAX_FILES);
    int rc = join_paths(files, d->images_path, err);
    for (int32_t i = 0; !rc && i < files->n; ++i) {
        cifar_batch b;
        if ((rc = read_batch(files->path[i], format, &b, err)) == 0)
            rc = append_batch(d, &b, files->path[i], err);
    }
    if (rc) {
        cim_dataset_free(d);
        return rc;
    }
    memcpy(d->labels_path, d->images_path, sizeof d->labels_path);
    d->files = *files;
    d->format = format;
    d->channels = CIM_CIFAR_CHANNELS;
    d->height = d->width = CIM_CIFAR_SIDE;
    d->num_classes_seen = cim_dataset_classes_seen(d->labels, d->count);
    return 0;
}

int cim_cifar_load_split(const char *dir, const char *split, cim_dataset_format format,
                         cim_dataset *d, cim_error *err)
{
    cim_dataset_files files;
    memset(d, 0, sizeof *d);
    int rc = cim_cifar_split_files(dir, split, format, &files, err);
    return rc ? rc : cim_cifar_load_batches(&files, format, d, err);
}
