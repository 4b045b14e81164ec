/* cim_cifar_writer.c -- CIFAR batch pickles in Python 2 cPickle's layout
 * (see the header). A growing buffer takes the opcodes; put() memoizes the
 * value just written, as cPickle does for the strings, lists, tuples and
 * reduced objects it may meet again.
 */
#include "cim_cifar_writer.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cim_test_util.h"

#define CW_BATCH 1000 /* cPickle's BATCHSIZE for APPENDS and SETITEMS */

typedef struct cw_buf {
    uint8_t *b;
    size_t n, cap;
    uint32_t memo; /* the next memo index; cPickle's first is 1 */
} cw_buf;

static void put_bytes(cw_buf *w, const void *bytes, size_t n)
{
    if (w->n + n > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap < w->n + n)
            cap *= 2;
        w->b = realloc(w->b, cap);
        assert_non_null(w->b);
        w->cap = cap;
    }
    if (n)
        memcpy(w->b + w->n, bytes, n);
    w->n += n;
}

static void put_op(cw_buf *w, uint8_t op)
{
    put_bytes(w, &op, 1);
}

static void put_le(cw_buf *w, uint32_t v, int n)
{
    for (int i = 0; i < n; ++i)
        put_op(w, (uint8_t)(v >> (8 * i)));
}

static void put(cw_buf *w)
{
    if (w->memo < 256) {
        put_op(w, 'q');
        put_le(w, w->memo, 1);
    } else {
        put_op(w, 'r');
        put_le(w, w->memo, 4);
    }
    ++w->memo;
}

static void put_int(cw_buf *w, int64_t v)
{
    if (v >= 0 && v < 256) {
        put_op(w, 'K');
        put_le(w, (uint32_t)v, 1);
    } else if (v >= 0 && v < 65536) {
        put_op(w, 'M');
        put_le(w, (uint32_t)v, 2);
    } else {
        put_op(w, 'J');
        put_le(w, (uint32_t)(int32_t)v, 4);
    }
}

/* A str: SHORT_BINSTRING below 256 bytes, else BINSTRING; memoized unless
 * of one byte (cPickle's shortcut for strings of 0 or 1 bytes). */
static void put_str_n(cw_buf *w, const void *s, size_t n)
{
    if (n < 256) {
        put_op(w, 'U');
        put_le(w, (uint32_t)n, 1);
    } else {
        put_op(w, 'T');
        put_le(w, (uint32_t)n, 4);
    }
    put_bytes(w, s, n);
    if (n > 1)
        put(w);
}

static void put_str(cw_buf *w, const char *s)
{
    put_str_n(w, s, strlen(s));
}

static void put_global(cw_buf *w, const char *module, const char *name)
{
    put_op(w, 'c');
    put_bytes(w, module, strlen(module));
    put_op(w, '\n');
    put_bytes(w, name, strlen(name));
    put_op(w, '\n');
    put(w);
}

/* A list of n integers: EMPTY_LIST, then MARK ... APPENDS per 1000 (one
 * item alone is APPEND). */
static void put_int_list(cw_buf *w, const uint8_t *v, int32_t n)
{
    put_op(w, ']');
    put(w);
    for (int32_t first = 0; first < n; first += CW_BATCH) {
        const int32_t k = n - first < CW_BATCH ? n - first : CW_BATCH;
        if (k > 1)
            put_op(w, '(');
        for (int32_t i = 0; i < k; ++i)
            put_int(w, v[first + i]);
        put_op(w, k > 1 ? 'e' : 'a');
    }
}

static void put_filenames(cw_buf *w, int32_t n)
{
    put_op(w, ']');
    put(w);
    for (int32_t first = 0; first < n; first += CW_BATCH) {
        const int32_t k = n - first < CW_BATCH ? n - first : CW_BATCH;
        if (k > 1)
            put_op(w, '(');
        for (int32_t i = 0; i < k; ++i) {
            char name[48];
            snprintf(name, sizeof name, "image_%05d.png", (int)(first + i));
            put_str(w, name);
        }
        put_op(w, k > 1 ? 'e' : 'a');
    }
}

/* numpy's pickle of the uint8 array. */
static void put_array(cw_buf *w, const cim_cw_batch *b)
{
    put_global(w, b->module ? b->module : "numpy.core.multiarray", "_reconstruct");
    put_global(w, "numpy", "ndarray");
    put_int(w, 0);
    put_op(w, 0x85); /* TUPLE1: (0,) */
    put(w);
    put_str(w, "b");
    put_op(w, 0x87); /* TUPLE3 */
    put(w);
    put_op(w, 'R');
    put(w);
    put_op(w, '('); /* the state */
    put_int(w, 1);
    const int rank = b->rank ? b->rank : 2;
    if (rank > 3)
        put_op(w, '(');
    for (int k = 0; k < rank; ++k)
        put_int(w, b->rank ? b->shape[k] : k == 0 ? b->count : CIM_CW_IMAGE_BYTES);
    put_op(w, rank > 3 ? 't' : (uint8_t)(0x84 + rank)); /* TUPLE, or TUPLE1..3 */
    put(w);
    put_global(w, "numpy", "dtype");
    put_str(w, b->descr ? b->descr : "u1");
    put_int(w, 0);
    put_int(w, 1);
    put_op(w, 0x87);
    put(w);
    put_op(w, 'R');
    put(w);
    put_op(w, '(');
    put_int(w, 3);
    put_str(w, "|");
    put_op(w, 'N');
    put_op(w, 'N');
    put_op(w, 'N');
    put_int(w, -1);
    put_int(w, -1);
    put_int(w, 0);
    put_op(w, 't');
    put(w);
    put_op(w, 'b');                      /* BUILD the dtype */
    put_op(w, b->fortran ? 0x88 : 0x89); /* NEWTRUE, NEWFALSE */
    put_str_n(w, b->images, (size_t)b->count * CIM_CW_IMAGE_BYTES);
    put_op(w, 't');
    put(w);
    put_op(w, 'b'); /* BUILD the array */
}

uint8_t *cim_cw_pickle(const cim_cw_batch *b, size_t *n)
{
    cw_buf w = {NULL, 0, 0, 1};
    const int32_t n_labels = b->n_labels ? b->n_labels : b->count;
    const char *key = b->labels_key ? b->labels_key : b->cifar100 ? "fine_labels" : "labels";
    put_op(&w, 0x80);
    put_op(&w, 2);
    put_op(&w, '}');
    put(&w);
    put_op(&w, '(');
    if (b->cifar100) {
        put_str(&w, "filenames");
        put_filenames(&w, b->count);
    }
    put_str(&w, "batch_label");
    put_str(&w, b->batch_label ? b->batch_label : "testing batch 1 of 1");
    put_str(&w, key);
    put_int_list(&w, b->labels, n_labels);
    if (b->cifar100) {
        uint8_t *coarse = malloc((size_t)n_labels + 1);
        assert_non_null(coarse);
        for (int32_t i = 0; i < n_labels; ++i)
            coarse[i] = (uint8_t)(b->labels[i] / 5);
        put_str(&w, "coarse_labels");
        put_int_list(&w, coarse, n_labels);
        free(coarse);
    }
    put_str(&w, "data");
    put_array(&w, b);
    if (!b->cifar100) {
        put_str(&w, "filenames");
        put_filenames(&w, b->count);
    }
    put_op(&w, 'u'); /* SETITEMS */
    put_op(&w, '.'); /* STOP */
    *n = w.n;
    return w.b;
}

void cim_cw_write(const char *path, const cim_cw_batch *b)
{
    size_t n = 0;
    uint8_t *bytes = cim_cw_pickle(b, &n);
    cim_test_write_file(path, bytes, n);
    free(bytes);
}

uint8_t cim_cw_pixel(int batch, int32_t k, int32_t i)
{
    return (uint8_t)(i * 7 + k * 13 + batch * 101 + (i >> 10) * 29);
}

uint8_t cim_cw_label(int batch, int32_t k, int classes)
{
    return (uint8_t)((k + batch) % classes);
}

/* Batch `batch` of n images as file <dir>/<name>. */
static void write_batch(const char *dir, const char *name, int batch, int32_t n, int cifar100)
{
    const int classes = cifar100 ? 100 : 10;
    uint8_t *images = malloc((size_t)n * CIM_CW_IMAGE_BYTES), *labels = malloc((size_t)n);
    assert_true(images && labels);
    for (int32_t k = 0; k < n; ++k) {
        labels[k] = cim_cw_label(batch, k, classes);
        for (int32_t i = 0; i < CIM_CW_IMAGE_BYTES; ++i)
            images[(size_t)k * CIM_CW_IMAGE_BYTES + (size_t)i] = cim_cw_pixel(batch, k, i);
    }
    char label[64], path[CIM_TEST_PATH_BUF];
    snprintf(label, sizeof label, batch ? "training batch %d of 5" : "testing batch 1 of 1", batch);
    const cim_cw_batch b = {
        .cifar100 = cifar100, .count = n, .images = images, .labels = labels, .batch_label = label};
    cim_cw_write(cim_test_path(path, "%s/%s", dir, name), &b);
    free(images);
    free(labels);
}

/* A meta file: a dict of its label names (and CIFAR-10's counts). */
static void write_meta(const char *dir, const char *name, int cifar100)
{
    cw_buf w = {NULL, 0, 0, 1};
    const int classes = cifar100 ? 100 : 10;
    put_op(&w, 0x80);
    put_op(&w, 2);
    put_op(&w, '}');
    put(&w);
    put_op(&w, '(');
    if (!cifar100) {
        put_str(&w, "num_cases_per_batch");
        put_int(&w, 10000);
    }
    put_str(&w, cifar100 ? "fine_label_names" : "label_names");
    put_op(&w, ']');
    put(&w);
    put_op(&w, '(');
    for (int k = 0; k < classes; ++k) {
        char label[16];
        snprintf(label, sizeof label, "class_%02d", k);
        put_str(&w, label);
    }
    put_op(&w, 'e');
    if (!cifar100) {
        put_str(&w, "num_vis");
        put_int(&w, CIM_CW_IMAGE_BYTES);
    }
    put_op(&w, 'u');
    put_op(&w, '.');
    char path[CIM_TEST_PATH_BUF];
    cim_test_write_file(cim_test_path(path, "%s/%s", dir, name), w.b, w.n);
    free(w.b);
}

void cim_cw_cifar10_folder(const char *dir, int32_t n_test, int32_t n_train)
{
    write_meta(dir, "batches.meta", 0);
    write_batch(dir, "test_batch", 0, n_test, 0);
    for (int k = 1; k <= 5; ++k) {
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d", k);
        write_batch(dir, name, k, n_train, 0);
    }
}

void cim_cw_cifar100_folder(const char *dir, int32_t n_test, int32_t n_train)
{
    write_meta(dir, "meta", 1);
    write_batch(dir, "test", 0, n_test, 1);
    write_batch(dir, "train", 1, n_train, 1);
}
