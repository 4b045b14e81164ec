/* test_dataset.c -- datasets beyond one-channel IDX: the restricted pickle
 * reader (cim_pickle.h), CIFAR-10 / CIFAR-100 batch files (cim_cifar.h) and
 * the folder recognition, digest, subsets and shape check of cim_dataset.h.
 *
 * Two kinds of pickle are read: the bytes Python 3's pickle writes for a
 * CIFAR-10 batch dict with protocols 2 and 4 (reference blobs, below), and
 * the layout of Python 2's cPickle, protocol 2, in which the CIFAR files were
 * written (tests/support/cim_cifar_writer.h), also with more than 1000
 * labels (several APPENDS, memo indices past 255). Every malformation --
 * truncation, unknown opcode, a global that is not allowed, wrong dtype,
 * shape or order, labels out of range, counts that disagree, stack and memo
 * misuse -- must be one line naming the file; a fuzz loop over truncated and
 * byte-flipped files must give such a line or valid data, never a crash.
 *
 * Files are written into a mkdtemp folder made by the group fixture.
 */
#include "cim_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "cim_cifar.h"
#include "cim_cifar_writer.h"
#include "cim_dataset.h"
#include "cim_idx.h"
#include "cim_model.h"
#include "cim_pickle.h"

#define FUZZ_SEED 20250301u
#define FUZZ_FLIPS 1500
#define IMAGE CIM_CIFAR_IMAGE_BYTES

typedef struct ds_fixture {
    char dir[CIM_TEST_SCRATCH_DIR_MAX]; /* first: cim_test_scratch */
} ds_fixture;

static int make_folder(void **state)
{
    return cim_test_scratch_setup(state, sizeof(ds_fixture), "dataset");
}

/* <scratch>/<name> into path (CIM_TEST_PATH_BUF bytes). */
static const char *path_in(void **state, const char *name, char *path)
{
    const ds_fixture *fx = *state;
    return cim_test_path(path, "%s/%s", fx->dir, name);
}

/* A fresh sub-folder <scratch>/<name>. */
static const char *folder_in(void **state, const char *name, char *path)
{
    path_in(state, name, path);
    cim_test_remove_tree(path);
    assert_int_equal(mkdir(path, 0755), 0);
    return path;
}

/* Every substring in the NULL-terminated list `want` must be in msg. */
static void expect_substrings(const char *msg, const char *const *want)
{
    for (; *want; ++want)
        if (!strstr(msg, *want))
            fail_msg("message \"%s\" lacks \"%s\"", msg, *want);
}

static int is_zeroed(const cim_dataset *d)
{
    return d->count == 0 && d->channels == 0 && d->height == 0 && d->width == 0 &&
           d->images == NULL && d->labels == NULL && d->num_classes_seen == 0 && d->files.n == 0;
}

/* ---------------------------------------------------------------------------
 * Reference blobs: Python 3's pickle of a CIFAR-10 batch
 *
 * Made once with Debian's /usr/bin/python3 (numpy 1.24):
 *   arr = np.array([(i * 7 + 3) & 0xFF for i in range(2 * 3072)],
 *                  dtype=np.uint8).reshape(2, 3072)
 *   d = {b'batch_label': b'testing batch 1 of 1', b'labels': [3, 9],
 *        b'data': arr, b'filenames': [b'a.png', b'b.png']}
 *   pickle.dumps(d, protocol=2), pickle.dumps(d, protocol=4)
 * Each blob is kept as the bytes before and after the array's data, which
 * ref_blob() puts back: protocol 4 holds arr.tobytes() (BINBYTES), protocol
 * 2 the UTF-8 of its latin-1 decoding (BINUNICODE, then _codecs.encode(...,
 * 'latin1')).
 */

static const uint8_t ref_pre2[316] = {
    0x80, 0x02, 0x7d, 0x71, 0x00, 0x28, 0x63, 0x5f, 0x63, 0x6f, 0x64, 0x65, 0x63, 0x73, 0x0a, 0x65,
    0x6e, 0x63, 0x6f, 0x64, 0x65, 0x0a, 0x71, 0x01, 0x58, 0x0b, 0x00, 0x00, 0x00, 0x62, 0x61, 0x74,
    0x63, 0x68, 0x5f, 0x6c, 0x61, 0x62, 0x65, 0x6c, 0x71, 0x02, 0x58, 0x06, 0x00, 0x00, 0x00, 0x6c,
    0x61, 0x74, 0x69, 0x6e, 0x31, 0x71, 0x03, 0x86, 0x71, 0x04, 0x52, 0x71, 0x05, 0x68, 0x01, 0x58,
    0x14, 0x00, 0x00, 0x00, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67, 0x20, 0x62, 0x61, 0x74, 0x63,
    0x68, 0x20, 0x31, 0x20, 0x6f, 0x66, 0x20, 0x31, 0x71, 0x06, 0x68, 0x03, 0x86, 0x71, 0x07, 0x52,
    0x71, 0x08, 0x68, 0x01, 0x58, 0x06, 0x00, 0x00, 0x00, 0x6c, 0x61, 0x62, 0x65, 0x6c, 0x73, 0x71,
    0x09, 0x68, 0x03, 0x86, 0x71, 0x0a, 0x52, 0x71, 0x0b, 0x5d, 0x71, 0x0c, 0x28, 0x4b, 0x03, 0x4b,
    0x09, 0x65, 0x68, 0x01, 0x58, 0x04, 0x00, 0x00, 0x00, 0x64, 0x61, 0x74, 0x61, 0x71, 0x0d, 0x68,
    0x03, 0x86, 0x71, 0x0e, 0x52, 0x71, 0x0f, 0x63, 0x6e, 0x75, 0x6d, 0x70, 0x79, 0x2e, 0x63, 0x6f,
    0x72, 0x65, 0x2e, 0x6d, 0x75, 0x6c, 0x74, 0x69, 0x61, 0x72, 0x72, 0x61, 0x79, 0x0a, 0x5f, 0x72,
    0x65, 0x63, 0x6f, 0x6e, 0x73, 0x74, 0x72, 0x75, 0x63, 0x74, 0x0a, 0x71, 0x10, 0x63, 0x6e, 0x75,
    0x6d, 0x70, 0x79, 0x0a, 0x6e, 0x64, 0x61, 0x72, 0x72, 0x61, 0x79, 0x0a, 0x71, 0x11, 0x4b, 0x00,
    0x85, 0x71, 0x12, 0x68, 0x01, 0x58, 0x01, 0x00, 0x00, 0x00, 0x62, 0x71, 0x13, 0x68, 0x03, 0x86,
    0x71, 0x14, 0x52, 0x71, 0x15, 0x87, 0x71, 0x16, 0x52, 0x71, 0x17, 0x28, 0x4b, 0x01, 0x4b, 0x02,
    0x4d, 0x00, 0x0c, 0x86, 0x71, 0x18, 0x63, 0x6e, 0x75, 0x6d, 0x70, 0x79, 0x0a, 0x64, 0x74, 0x79,
    0x70, 0x65, 0x0a, 0x71, 0x19, 0x58, 0x02, 0x00, 0x00, 0x00, 0x75, 0x31, 0x71, 0x1a, 0x89, 0x88,
    0x87, 0x71, 0x1b, 0x52, 0x71, 0x1c, 0x28, 0x4b, 0x03, 0x58, 0x01, 0x00, 0x00, 0x00, 0x7c, 0x71,
    0x1d, 0x4e, 0x4e, 0x4e, 0x4a, 0xff, 0xff, 0xff, 0xff, 0x4a, 0xff, 0xff, 0xff, 0xff, 0x4b, 0x00,
    0x74, 0x71, 0x1e, 0x62, 0x89, 0x68, 0x01, 0x58, 0x00, 0x24, 0x00, 0x00,
};
static const uint8_t ref_post2[91] = {
    0x71, 0x1f, 0x68, 0x03, 0x86, 0x71, 0x20, 0x52, 0x71, 0x21, 0x74, 0x71, 0x22, 0x62, 0x68, 0x01,
    0x58, 0x09, 0x00, 0x00, 0x00, 0x66, 0x69, 0x6c, 0x65, 0x6e, 0x61, 0x6d, 0x65, 0x73, 0x71, 0x23,
    0x68, 0x03, 0x86, 0x71, 0x24, 0x52, 0x71, 0x25, 0x5d, 0x71, 0x26, 0x28, 0x68, 0x01, 0x58, 0x05,
    0x00, 0x00, 0x00, 0x61, 0x2e, 0x70, 0x6e, 0x67, 0x71, 0x27, 0x68, 0x03, 0x86, 0x71, 0x28, 0x52,
    0x71, 0x29, 0x68, 0x01, 0x58, 0x05, 0x00, 0x00, 0x00, 0x62, 0x2e, 0x70, 0x6e, 0x67, 0x71, 0x2a,
    0x68, 0x03, 0x86, 0x71, 0x2b, 0x52, 0x71, 0x2c, 0x65, 0x75, 0x2e,
};
static const uint8_t ref_pre4[212] = {
    0x80, 0x04, 0x95, 0xef, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7d, 0x94, 0x28, 0x43, 0x0b,
    0x62, 0x61, 0x74, 0x63, 0x68, 0x5f, 0x6c, 0x61, 0x62, 0x65, 0x6c, 0x94, 0x43, 0x14, 0x74, 0x65,
    0x73, 0x74, 0x69, 0x6e, 0x67, 0x20, 0x62, 0x61, 0x74, 0x63, 0x68, 0x20, 0x31, 0x20, 0x6f, 0x66,
    0x20, 0x31, 0x94, 0x43, 0x06, 0x6c, 0x61, 0x62, 0x65, 0x6c, 0x73, 0x94, 0x5d, 0x94, 0x28, 0x4b,
    0x03, 0x4b, 0x09, 0x65, 0x43, 0x04, 0x64, 0x61, 0x74, 0x61, 0x94, 0x8c, 0x15, 0x6e, 0x75, 0x6d,
    0x70, 0x79, 0x2e, 0x63, 0x6f, 0x72, 0x65, 0x2e, 0x6d, 0x75, 0x6c, 0x74, 0x69, 0x61, 0x72, 0x72,
    0x61, 0x79, 0x94, 0x8c, 0x0c, 0x5f, 0x72, 0x65, 0x63, 0x6f, 0x6e, 0x73, 0x74, 0x72, 0x75, 0x63,
    0x74, 0x94, 0x93, 0x94, 0x8c, 0x05, 0x6e, 0x75, 0x6d, 0x70, 0x79, 0x94, 0x8c, 0x07, 0x6e, 0x64,
    0x61, 0x72, 0x72, 0x61, 0x79, 0x94, 0x93, 0x94, 0x4b, 0x00, 0x85, 0x94, 0x43, 0x01, 0x62, 0x94,
    0x87, 0x94, 0x52, 0x94, 0x28, 0x4b, 0x01, 0x4b, 0x02, 0x4d, 0x00, 0x0c, 0x86, 0x94, 0x68, 0x09,
    0x8c, 0x05, 0x64, 0x74, 0x79, 0x70, 0x65, 0x94, 0x93, 0x94, 0x8c, 0x02, 0x75, 0x31, 0x94, 0x89,
    0x88, 0x87, 0x94, 0x52, 0x94, 0x28, 0x4b, 0x03, 0x8c, 0x01, 0x7c, 0x94, 0x4e, 0x4e, 0x4e, 0x4a,
    0xff, 0xff, 0xff, 0xff, 0x4a, 0xff, 0xff, 0xff, 0xff, 0x4b, 0x00, 0x74, 0x94, 0x62, 0x89, 0x42,
    0x00, 0x18, 0x00, 0x00,
};
static const uint8_t ref_post4[38] = {
    0x94, 0x74, 0x94, 0x62, 0x43, 0x09, 0x66, 0x69, 0x6c, 0x65, 0x6e, 0x61, 0x6d,
    0x65, 0x73, 0x94, 0x5d, 0x94, 0x28, 0x43, 0x05, 0x61, 0x2e, 0x70, 0x6e, 0x67,
    0x94, 0x43, 0x05, 0x62, 0x2e, 0x70, 0x6e, 0x67, 0x94, 0x65, 0x75, 0x2e,
};

static uint8_t ref_pixel(int32_t i)
{
    return (uint8_t)((i * 7 + 3) & 0xFF);
}

/* The whole blob of `protocol` (2 or 4), malloc'd; its length in *n. */
static uint8_t *ref_blob(int protocol, size_t *n)
{
    const uint8_t *pre = protocol == 2 ? ref_pre2 : ref_pre4;
    const uint8_t *post = protocol == 2 ? ref_post2 : ref_post4;
    const size_t n_pre = protocol == 2 ? sizeof ref_pre2 : sizeof ref_pre4;
    const size_t n_post = protocol == 2 ? sizeof ref_post2 : sizeof ref_post4;
    uint8_t *b = malloc(n_pre + 2 * 2 * IMAGE + n_post);
    assert_non_null(b);
    memcpy(b, pre, n_pre);
    size_t at = n_pre;
    for (int32_t i = 0; i < 2 * IMAGE; ++i) {
        const uint8_t v = ref_pixel(i);
        if (protocol == 4 || v < 0x80) {
            b[at++] = v;
        } else {
            b[at++] = (uint8_t)(0xC0 | v >> 6);
            b[at++] = (uint8_t)(0x80 | (v & 0x3F));
        }
    }
    /* the data's length as the blob's opcode states it */
    const uint8_t *len = pre + n_pre - 4;
    assert_int_equal(at - n_pre, (size_t)len[0] | (size_t)len[1] << 8 | (size_t)len[2] << 16);
    memcpy(b + at, post, n_post);
    *n = at + n_post;
    return b;
}

/* The pickle reader's view of both blobs: a dict of four keys, b'data' a
 * built u1 array (2, 3072) in C order with the bytes, the labels [3, 9]. */
static void test_reference_blobs_read(void **state)
{
    (void)state;
    for (int protocol = 2; protocol <= 4; protocol += 2) {
        size_t n = 0;
        uint8_t *b = ref_blob(protocol, &n);
        cim_pickle *p = NULL;
        cim_error err = {0};
        if (cim_pickle_read_memory("ref.pkl", b, n, &p, &err) != 0)
            fail_msg("protocol %d: %s", protocol, err.msg);
        const cim_pk_value *root = cim_pickle_root(p);
        assert_int_equal(root->type, CIM_PK_DICT);
        assert_int_equal(root->len, 8);
        const cim_pk_value *label = cim_pk_dict_get(root, "batch_label");
        assert_non_null(label);
        assert_int_equal(label->type, CIM_PK_BYTES);
        assert_string_equal((const char *)label->bytes, "testing batch 1 of 1");
        const cim_pk_value *labels = cim_pk_dict_get(root, "labels");
        assert_int_equal(labels->type, CIM_PK_LIST);
        assert_int_equal(labels->len, 2);
        assert_int_equal(labels->items[0]->i, 3);
        assert_int_equal(labels->items[1]->i, 9);
        const cim_pk_value *names = cim_pk_dict_get(root, "filenames");
        assert_int_equal(names->len, 2);
        assert_string_equal((const char *)names->items[1]->bytes, "b.png");
        const cim_pk_value *data = cim_pk_dict_get(root, "data");
        assert_int_equal(data->type, CIM_PK_NDARRAY);
        const cim_pk_array *a = data->array;
        assert_true(a->built);
        assert_int_equal(a->rank, 2);
        CIM_ASSERT_I64_EQ(a->shape[0], 2);
        CIM_ASSERT_I64_EQ(a->shape[1], IMAGE);
        assert_string_equal((const char *)a->dtype->bytes, "u1");
        assert_int_equal(a->dtype->i, '|');
        assert_false(a->fortran);
        CIM_ASSERT_I64_EQ(a->data->len, 2 * IMAGE);
        for (int32_t i = 0; i < 2 * IMAGE; ++i)
            if (a->data->bytes[i] != ref_pixel(i))
                fail_msg("protocol %d: byte %d is %d, expected %d", protocol, i, a->data->bytes[i],
                         ref_pixel(i));
        assert_null(cim_pk_dict_get(root, "fine_labels"));
        cim_pickle_free(p);
        free(b);
    }
}

/* Both blobs as test_batch of a CIFAR-10 folder: [3,32,32] images, the
 * first image's red, green and blue planes where they belong. */
static void test_reference_blobs_load_as_cifar10(void **state)
{
    char dir[CIM_TEST_PATH_BUF], path[CIM_TEST_PATH_BUF];
    for (int protocol = 2; protocol <= 4; protocol += 2) {
        folder_in(state, protocol == 2 ? "ref2" : "ref4", dir);
        size_t n = 0;
        uint8_t *b = ref_blob(protocol, &n);
        cim_test_write_file(cim_test_path(path, "%s/test_batch", dir), b, n);
        free(b);
        cim_test_write_text(cim_test_path(path, "%s/batches.meta", dir), "");
        cim_dataset d;
        cim_error err = {0};
        if (cim_dataset_load_split(dir, "test", &d, &err) != 0)
            fail_msg("protocol %d: %s", protocol, err.msg);
        assert_int_equal(d.format, CIM_DATASET_CIFAR10);
        assert_int_equal(d.count, 2);
        assert_int_equal(d.channels, 3);
        assert_int_equal(d.height, 32);
        assert_int_equal(d.width, 32);
        assert_int_equal(d.labels[0], 3);
        assert_int_equal(d.labels[1], 9);
        assert_int_equal(d.num_classes_seen, 10);
        /* x[c, h, w] = byte (c*32 + h)*32 + w: red 0..1023, green, blue */
        assert_int_equal(d.images[0], ref_pixel(0));
        assert_int_equal(d.images[1024 + 5 * 32 + 7], ref_pixel(1024 + 5 * 32 + 7));
        assert_int_equal(d.images[IMAGE + 2048 + 31 * 32 + 31], ref_pixel(2 * IMAGE - 1));
        for (int32_t i = 0; i < 2 * IMAGE; ++i)
            assert_int_equal(d.images[i], ref_pixel(i));
        cim_test_path(path, "%s/test_batch", dir);
        assert_string_equal(d.images_path, path);
        assert_string_equal(d.labels_path, path);
        assert_int_equal(d.files.n, 1);
        assert_string_equal(d.files.path[0], path);
        cim_dataset_free(&d);
        assert_true(is_zeroed(&d));
    }
}

/* ---------------------------------------------------------------------------
 * Python 2 cPickle's layout (the CIFAR files as distributed)
 */

/* A batch of n images: pixels cim_cw_pixel(batch, ...), labels
 * cim_cw_label(batch, ..., classes); buffers malloc'd into *images / *labels. */
static cim_cw_batch make_batch(int batch, int32_t n, int cifar100, uint8_t **images,
                               uint8_t **labels)
{
    *images = malloc((size_t)n * IMAGE + 1);
    *labels = malloc((size_t)n + 1);
    assert_true(*images && *labels);
    for (int32_t k = 0; k < n; ++k) {
        (*labels)[k] = cim_cw_label(batch, k, cifar100 ? 100 : 10);
        for (int32_t i = 0; i < IMAGE; ++i)
            (*images)[(size_t)k * IMAGE + (size_t)i] = cim_cw_pixel(batch, k, i);
    }
    return (cim_cw_batch){.cifar100 = cifar100, .count = n, .images = *images, .labels = *labels};
}

static void expect_batch(const cim_dataset *d, int32_t first, int batch, int32_t n, int classes)
{
    for (int32_t k = 0; k < n; ++k) {
        if (d->labels[first + k] != cim_cw_label(batch, k, classes))
            fail_msg("image %d: label %d, expected %d", first + k, d->labels[first + k],
                     cim_cw_label(batch, k, classes));
        const uint8_t *px = d->images + (size_t)(first + k) * IMAGE;
        for (int32_t i = 0; i < IMAGE; i += 97)
            if (px[i] != cim_cw_pixel(batch, k, i))
                fail_msg("image %d: byte %d is %d, expected %d", first + k, i, px[i],
                         cim_cw_pixel(batch, k, i));
    }
}

/* 1100 images: two APPENDS batches of labels and filenames, and memo
 * indices past 255 (LONG_BINPUT). */
static void test_cpickle_layout_with_many_images(void **state)
{
    char dir[CIM_TEST_PATH_BUF], path[CIM_TEST_PATH_BUF];
    uint8_t *images, *labels;
    folder_in(state, "many", dir);
    const cim_cw_batch b = make_batch(0, 1100, 0, &images, &labels);
    size_t n = 0;
    uint8_t *bytes = cim_cw_pickle(&b, &n);
    assert_non_null(memchr(bytes, 'r', n));
    cim_test_write_file(cim_test_path(path, "%s/test_batch", dir), bytes, n);
    free(bytes);
    cim_test_write_text(cim_test_path(path, "%s/batches.meta", dir), "not read");
    cim_dataset d;
    cim_error err = {0};
    if (cim_dataset_load_split(dir, "t10k", &d, &err) != 0)
        fail_msg("rejected: %s", err.msg);
    assert_int_equal(d.count, 1100);
    expect_batch(&d, 0, 0, 1100, 10);
    assert_memory_equal(d.images, images, (size_t)1100 * IMAGE);
    cim_dataset_free(&d);
    free(images);
    free(labels);
}

/* CIFAR-10's training split: data_batch_1..5 in that order, recorded as
 * the five files joined; its digest is the SHA-256 of the five files one
 * after the other. */
static void test_cifar10_train_reads_five_batches(void **state)
{
    char dir[CIM_TEST_PATH_BUF], path[CIM_TEST_PATH_BUF], joined[CIM_TEST_PATH_BUF * 6] = "";
    folder_in(state, "cifar-10-batches-py", dir);
    cim_cw_cifar10_folder(dir, 3, 4);
    cim_dataset d;
    cim_error err = {0};
    if (cim_dataset_load_split(dir, "train", &d, &err) != 0)
        fail_msg("rejected: %s", err.msg);
    assert_int_equal(d.format, CIM_DATASET_CIFAR10);
    assert_int_equal(d.count, 20);
    for (int k = 1; k <= 5; ++k)
        expect_batch(&d, 4 * (k - 1), k, 4, 10);
    assert_int_equal(d.files.n, 5);
    FILE *cat = fopen(path_in(state, "five-batches", path), "wb");
    assert_non_null(cat);
    for (int k = 1; k <= 5; ++k) {
        char batch[CIM_TEST_PATH_BUF];
        cim_test_path(batch, "%s/data_batch_%d", dir, k);
        assert_string_equal(d.files.path[k - 1], batch);
        if (k > 1)
            strcat(joined, CIM_DATASET_PATH_SEPARATOR);
        strcat(joined, batch);
        size_t n = 0;
        char *bytes = cim_test_read_file_n(batch, &n);
        assert_int_equal(fwrite(bytes, 1, n, cat), n);
        free(bytes);
    }
    assert_int_equal(fclose(cat), 0);
    assert_string_equal(d.images_path, joined);
    assert_string_equal(d.labels_path, joined);
    char want[65], got[65];
    assert_int_equal(cim_file_sha256_hex(path, want, &err), 0);
    assert_int_equal(cim_dataset_sha256_hex(&d, 0, got, &err), 0);
    assert_string_equal(got, want);
    assert_int_equal(cim_dataset_sha256_hex(&d, 1, got, &err), 0);
    assert_string_equal(got, want);

    /* the split's files, for the check that --out is none of them */
    cim_dataset_files files;
    assert_int_equal(cim_dataset_split_files(dir, "train", &files, &err), 0);
    assert_int_equal(files.n, 5);
    assert_string_equal(files.path[4], d.files.path[4]);
    assert_int_equal(cim_dataset_split_files(dir, "test", &files, &err), 0);
    assert_int_equal(files.n, 1);
    cim_test_path(path, "%s/test_batch", dir);
    assert_string_equal(files.path[0], path);
    cim_dataset_free(&d);

    /* the test split, by both names */
    for (int i = 0; i < 2; ++i) {
        if (cim_dataset_load_split(dir, i ? "t10k" : "test", &d, &err) != 0)
            fail_msg("rejected: %s", err.msg);
        assert_int_equal(d.count, 3);
        expect_batch(&d, 0, 0, 3, 10);
        char one[65];
        assert_int_equal(cim_dataset_sha256_hex(&d, 0, got, &err), 0);
        assert_int_equal(cim_file_sha256_hex(path, one, &err), 0);
        assert_string_equal(got, one);
        cim_dataset_free(&d);
    }
}

/* CIFAR-100: meta, train and test; the fine labels (0..99) are read. */
static void test_cifar100_fine_labels(void **state)
{
    char dir[CIM_TEST_PATH_BUF], path[CIM_TEST_PATH_BUF];
    folder_in(state, "cifar-100-python", dir);
    cim_cw_cifar100_folder(dir, 5, 120);
    cim_dataset d;
    cim_error err = {0};
    if (cim_dataset_load_split(dir, "train", &d, &err) != 0)
        fail_msg("rejected: %s", err.msg);
    assert_int_equal(d.format, CIM_DATASET_CIFAR100);
    assert_int_equal(d.count, 120);
    assert_int_equal(d.channels, 3);
    expect_batch(&d, 0, 1, 120, 100);
    assert_int_equal(d.num_classes_seen, 100); /* labels 1..99, then 0 */
    assert_string_equal(d.images_path, cim_test_path(path, "%s/train", dir));
    cim_dataset_free(&d);
    if (cim_dataset_load_split(dir, "test", &d, &err) != 0)
        fail_msg("rejected: %s", err.msg);
    assert_int_equal(d.count, 5);
    expect_batch(&d, 0, 0, 5, 100);
    cim_dataset_free(&d);

    /* a label of 100 classes in a CIFAR-10 folder is out of range; in
     * CIFAR-100 label 100 is */
    uint8_t *images, *labels;
    cim_cw_batch b = make_batch(0, 3, 1, &images, &labels);
    labels[2] = 100;
    cim_cw_write(cim_test_path(path, "%s/test", dir), &b);
    assert_int_equal(cim_dataset_load_split(dir, "test", &d, &err), CIM_ERR_INPUT);
    const char *want[] = {path, "label 100 of image 2", "b'fine_labels'", "0..99", "CIFAR-100",
                          NULL};
    expect_substrings(err.msg, want);
    assert_true(is_zeroed(&d));
    free(images);
    free(labels);
}

/* numpy 2 names the module numpy._core.multiarray; both are read. */
static void test_numpy_core_module_names(void **state)
{
    char dir[CIM_TEST_PATH_BUF], path[CIM_TEST_PATH_BUF];
    uint8_t *images, *labels;
    folder_in(state, "numpy2", dir);
    cim_test_write_text(cim_test_path(path, "%s/batches.meta", dir), "");
    cim_cw_batch b = make_batch(0, 2, 0, &images, &labels);
    b.module = "numpy._core.multiarray";
    cim_cw_write(cim_test_path(path, "%s/test_batch", dir), &b);
    cim_dataset d;
    cim_error err = {0};
    if (cim_dataset_load_split(dir, "test", &d, &err) != 0)
        fail_msg("rejected: %s", err.msg);
    expect_batch(&d, 0, 0, 2, 10);
    cim_dataset_free(&d);
    free(images);
    free(labels);
}

/* A gzip'd batch file reads like the plain one (zlib passes both). */
static void test_gzip_batch(void **state)
{
    char dir[CIM_TEST_PATH_BUF], path[CIM_TEST_PATH_BUF];
    uint8_t *images, *labels;
    folder_in(state, "gz", dir);
    cim_test_write_text(cim_test_path(path, "%s/batches.meta", dir), "");
    const cim_cw_batch b = make_batch(0, 2, 0, &images, &labels);
    size_t n = 0;
    uint8_t *bytes = cim_cw_pickle(&b, &n);
    gzFile gz = gzopen(cim_test_path(path, "%s/test_batch", dir), "wb");
    assert_non_null(gz);
    assert_int_equal(gzwrite(gz, bytes, (unsigned)n), (int)n);
    assert_int_equal(gzclose(gz), Z_OK);
    cim_dataset d;
    cim_error err = {0};
    if (cim_dataset_load_split(dir, "test", &d, &err) != 0)
        fail_msg("rejected: %s", err.msg);
    expect_batch(&d, 0, 0, 2, 10);
    cim_dataset_free(&d);
    free(bytes);
    free(images);
    free(labels);
}

/* ---------------------------------------------------------------------------
 * The folder: recognition, splits, missing files
 */

static void expect_split_error(const char *dir, const char *split, int code,
                               const char *const *want)
{
    cim_dataset d;
    memset(&d, 0xA5, sizeof d);
    cim_error err = {0};
    int rc = cim_dataset_load_split(dir, split, &d, &err);
    if (rc != code)
        fail_msg("got %s \"%s\", expected %s", cim_error_name(rc), err.msg, cim_error_name(code));
    assert_null(strchr(err.msg, '\n'));
    expect_substrings(err.msg, want);
    assert_true(is_zeroed(&d));
}

static void test_folder_recognition(void **state)
{
    char dir[CIM_TEST_PATH_BUF], path[CIM_TEST_PATH_BUF];
    cim_dataset_format f;
    cim_error err = {0};

    /* nothing: the message says what was looked for */
    folder_in(state, "empty", dir);
    const char *want[] = {dir,
                          "no dataset for split \"t10k\"",
                          "t10k-images-idx3-ubyte",
                          "-idx4-ubyte",
                          "t10k-labels-idx1-ubyte",
                          "batches.meta",
                          "CIFAR-100's meta",
                          NULL};
    expect_split_error(dir, "t10k", CIM_ERR_INPUT, want);
    assert_int_equal(cim_dataset_detect(dir, "t10k", &f, &err), CIM_ERR_INPUT);
    cim_dataset_files files;
    assert_int_equal(cim_dataset_split_files(dir, "t10k", &files, NULL), CIM_ERR_INPUT);
    assert_int_equal(files.n, 0);

    /* a folder that does not exist says so */
    cim_test_path(path, "%s/no-such-folder", dir);
    const char *want2[] = {path, "the folder does not exist", NULL};
    expect_split_error(path, "test", CIM_ERR_INPUT, want2);

    /* CIFAR-100's meta alone is not a folder of it */
    cim_test_write_text(cim_test_path(path, "%s/meta", dir), "");
    const char *want2b[] = {dir, "no dataset for split \"test\"", NULL};
    expect_split_error(dir, "test", CIM_ERR_INPUT, want2b);
    assert_int_equal(cim_dataset_detect(dir, "test", &f, NULL), CIM_ERR_INPUT);
    cim_test_write_text(cim_test_path(path, "%s/test", dir), "");
    assert_int_equal(cim_dataset_detect(dir, "test", &f, &err), 0);
    assert_int_equal(f, CIM_DATASET_CIFAR100);
    /* ... and its missing train file is named by the loader */
    cim_test_path(path, "%s/train", dir);
    const char *want3[] = {path, "cannot open", NULL};
    expect_split_error(dir, "train", CIM_ERR_INPUT, want3);

    /* batches.meta wins over meta */
    cim_test_write_text(cim_test_path(path, "%s/batches.meta", dir), "");
    assert_int_equal(cim_dataset_detect(dir, "test", &f, &err), 0);
    assert_int_equal(f, CIM_DATASET_CIFAR10);
    cim_test_path(path, "%s/test_batch", dir);
    const char *want4[] = {path, "cannot open", NULL};
    expect_split_error(dir, "test", CIM_ERR_INPUT, want4);
    /* CIFAR splits are test (t10k) and train */
    const char *want5[] = {dir, "CIFAR-10 folder has no split \"valid\"", "test", "train", NULL};
    expect_split_error(dir, "valid", CIM_ERR_INPUT, want5);

    /* the split's IDX files come first */
    static const uint8_t idx_images[] = {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 42};
    static const uint8_t idx_labels[] = {0, 0, 8, 1, 0, 0, 0, 1, 7};
    cim_test_write_file(cim_test_path(path, "%s/test-images-idx3-ubyte", dir), idx_images,
                        sizeof idx_images);
    assert_int_equal(cim_dataset_detect(dir, "test", &f, &err), 0);
    assert_int_equal(f, CIM_DATASET_IDX);
    cim_test_path(path, "%s/test-labels-idx1-ubyte", dir);
    const char *want6[] = {"no labels file", path, NULL};
    expect_split_error(dir, "test", CIM_ERR_INPUT, want6);
    assert_int_equal(cim_dataset_split_files(dir, "test", &files, NULL), CIM_ERR_INPUT);
    assert_int_equal(files.n, 1); /* the images file found */
    cim_test_write_file(path, idx_labels, sizeof idx_labels);
    cim_dataset d;
    if (cim_dataset_load_split(dir, "test", &d, &err) != 0)
        fail_msg("rejected: %s", err.msg);
    assert_int_equal(d.format, CIM_DATASET_IDX);
    assert_int_equal(d.channels, 1);
    assert_int_equal(d.images[0], 42);
    assert_int_equal(d.files.n, 2);
    assert_string_equal(d.files.path[1], path);
    char hex[65], want_hex[65];
    assert_int_equal(cim_dataset_sha256_hex(&d, 1, hex, &err), 0);
    assert_int_equal(cim_file_sha256_hex(path, want_hex, &err), 0);
    assert_string_equal(hex, want_hex);
    cim_dataset_free(&d);
    assert_int_equal(cim_dataset_split_files(dir, "test", &files, &err), 0);
    assert_int_equal(files.n, 2);
    /* and the other splits of the same folder stay CIFAR's */
    assert_int_equal(cim_dataset_detect(dir, "train", &f, &err), 0);
    assert_int_equal(f, CIM_DATASET_CIFAR10);
    const char *want7[] = {"a folder and a split name", NULL};
    expect_split_error(dir, "", CIM_ERR_USAGE, want7);
}

/* ---------------------------------------------------------------------------
 * Malformed batches: each one line naming the file
 */

/* The batch file <scratch>/bad/test_batch holding n bytes, loaded as the test
 * split of a CIFAR-10 (cifar100 = 0) or CIFAR-100 folder. */
static void expect_bytes_refused(void **state, int cifar100, const void *bytes, size_t n,
                                 const char *const *want)
{
    char dir[CIM_TEST_PATH_BUF], path[CIM_TEST_PATH_BUF];
    folder_in(state, "bad", dir);
    cim_test_write_text(cim_test_path(path, "%s/%s", dir, cifar100 ? "meta" : "batches.meta"), "");
    cim_test_write_file(cim_test_path(path, "%s/%s", dir, cifar100 ? "test" : "test_batch"), bytes,
                        n);
    const char *with_path[16] = {path};
    size_t k = 1;
    for (; want[k - 1] && k < 15; ++k)
        with_path[k] = want[k - 1];
    with_path[k] = NULL;
    expect_split_error(dir, "test", CIM_ERR_INPUT, with_path);
}

static void expect_batch_refused(void **state, const cim_cw_batch *b, const char *const *want)
{
    size_t n = 0;
    uint8_t *bytes = cim_cw_pickle(b, &n);
    expect_bytes_refused(state, b->cifar100, bytes, n, want);
    free(bytes);
}

static void test_batch_contents_refused(void **state)
{
    uint8_t *images, *labels;
    const cim_cw_batch good = make_batch(0, 3, 0, &images, &labels);
    cim_cw_batch b = good;

    b.descr = "i8";
    const char *want[] = {"b'data' has dtype i8", "expected u1", NULL};
    expect_batch_refused(state, &b, want);

    b = good;
    b.rank = 2;
    b.shape[0] = 3;
    b.shape[1] = 3071;
    const char *want2[] = {"b'data' has shape (3, 3071)", "expected (N, 3072)", "1024 red", NULL};
    expect_batch_refused(state, &b, want2);
    b.rank = 1;
    b.shape[0] = 3 * IMAGE;
    const char *want3[] = {"shape (9216,)", NULL};
    expect_batch_refused(state, &b, want3);
    b.rank = 4;
    b.shape[0] = 3;
    b.shape[1] = 3;
    b.shape[2] = b.shape[3] = 32;
    const char *want4[] = {"shape (3, 3, 32, 32)", NULL};
    expect_batch_refused(state, &b, want4);
    b.rank = 2;
    b.shape[0] = 4;
    b.shape[1] = IMAGE;
    const char *want5[] = {"b'data' holds 9216 bytes", "(4, 3072) needs 12288", NULL};
    expect_batch_refused(state, &b, want5);
    b.shape[0] = 0;
    const char *want5b[] = {"shape (0, 3072)", "N in 1..", NULL};
    expect_batch_refused(state, &b, want5b);

    b = good;
    b.fortran = 1;
    const char *want6[] = {"Fortran order", NULL};
    expect_batch_refused(state, &b, want6);

    b = good;
    b.n_labels = 2;
    const char *want7[] = {"b'labels' holds 2 labels but b'data' holds 3 images", NULL};
    expect_batch_refused(state, &b, want7);

    b = good;
    labels[1] = 10;
    const char *want8[] = {"label 10 of image 1 in b'labels' is outside 0..9", "10 classes", NULL};
    expect_batch_refused(state, &b, want8);
    labels[1] = 1;

    b = good;
    b.labels_key = "fine_labels";
    const char *want9[] = {"no key b'labels'", NULL};
    expect_batch_refused(state, &b, want9);
    b.cifar100 = 1; /* a CIFAR-100 file needs its fine labels */
    b.labels_key = "labels";
    const char *want10[] = {"no key b'fine_labels'", NULL};
    expect_batch_refused(state, &b, want10);

    b = good;
    b.module = "os";
    const char *want11[] = {"GLOBAL at byte", "global os._reconstruct is not allowed", NULL};
    expect_batch_refused(state, &b, want11);
    b.module = "numpy.core.multiarrays";
    const char *want12[] = {"numpy.core.multiarrays._reconstruct is not allowed", NULL};
    expect_batch_refused(state, &b, want12);
    free(images);
    free(labels);
}

/* Hand-made pickles, each wrong in one way. */
static void test_bad_pickles_refused(void **state)
{
    /* B("..."): the bytes of a literal without its NUL; a hex escape
     * ends where a literal is split ("\x02" "c": 0x02 then 'c'). */
#define B(s) s, sizeof(s) - 1
    static const struct {
        const char *bytes;
        size_t n;
        const char *want, *want2;
    } cases[] = {
        {B(""), "empty file, expected a pickle", NULL},
        {B("label,pixel\n"), "does not start with a pickle's PROTO opcode", NULL},
        {B("\x80\x06}."), "protocol 6", "2 to 5"},
        {B("\x80\x02}"), "truncated pickle", "before the STOP opcode"},
        {B("\x80\x02]q\x01."), "the pickle holds a list, expected a dict", NULL},
        {B("\x80\x02}.x"), "unexpected bytes after the STOP opcode", NULL},
        {B("\x80\x02]]."), "the pickle ends with 2 values on the stack", NULL},
        {B("\x80\x02}i__main__\nX\n."), "pickle INST at byte 3", "is not read"},
        {B("\x80\x02}\x01."), "pickle 0x01 at byte 3", "not an opcode"},
        {B("\x80\x02"
           "cos\nsystem\n."),
         "GLOBAL at byte 2", "global os.system is not allowed"},
        {B("\x80\x04\x8c\x02os\x8c\x06system\x93."), "STACK_GLOBAL", "os.system is not allowed"},
        {B("\x80\x02\x86."), "TUPLE2 at byte 2", "stack underflow"},
        {B("\x80\x02}(K\x01\x86."), "stack underflow", "after the last MARK"},
        {B("\x80\x02h\x05."), "BINGET at byte 2", "memo entry 5 was never set"},
        {B("\x80\x02}r\xff\xff\xff\x7f."), "memo index 2147483647 is outside", NULL},
        {B("\x80\x02]K\x01K\x02s."), "SETITEM", "applies to a list, expected a dict"},
        {B("\x80\x02}K\x01"
           "a."),
         "APPEND", "applies to a dict, expected a list"},
        {B("\x80\x02}(K\x01u."), "SETITEMS", "an odd number of values"},
        {B("\x80\x02}(]K\x01u."), "a dict key is a list", NULL},
        {B("\x80\x02(e."), "APPENDS", "nothing before the MARK (expected a list)"},
        {B("\x80\x02K\x01)R."), "REDUCE", "calls an int"},
        {B("\x80\x02])b."), "BUILD", "applies to a list"},
        {B("\x80\x02"
           "B\x00\x00\x00\x40"
           "abc"),
         "BINBYTES at byte 2", "expected 1073741824 more bytes, found 3"},
        {B("\x80\x02T\xff\xff\xff\xff."), "a string of -1 bytes", NULL},
        {B("\x80\x02\x8a\x09\x01\x02\x03\x04\x05\x06\x07\x08\x09."), "LONG1",
         "an integer of 9 bytes"},
        {B("\x80\x02"
           "cnumpy\nndarray\n)R."),
         "numpy.ndarray is called directly", NULL},
        {B("\x80\x02"
           "c_codecs\nencode\nX\x02\x00\x00\x00\xc4\x80X\x06\x00\x00\x00latin1\x86R."),
         "_codecs.encode", "U+0100"},
        {B("\x80\x02"
           "c_codecs\nencode\nX\x01\x00\x00\x00\xffX\x06\x00\x00\x00latin1\x86R."),
         "is not UTF-8", NULL},
        {B("\x80\x02"
           "c_codecs\nencode\nX\x01\x00\x00\x00"
           "aX\x05\x00\x00\x00utf-8\x86R."),
         "encoding other than latin1", NULL},
        {B("\x80\x02"
           "cnumpy\ndtype\nX\x02\x00\x00\x00u1K\x00K\x01\x87R)b."),
         "BUILD", "the state of a numpy dtype is a tuple of 0 items"},
        {B("\x80\x02"
           "cnumpy\ndtype\nX\x02\x00\x00\x00u1K\x00K\x01\x87R(K\x03X\x01\x00\x00\x00?NNNJ\xff"
           "\xff\xff\xffJ\xff\xff\xff\xffK\x00tb."),
         "BUILD", "not the state of a plain numpy dtype"},
    };
#undef B
    for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
        const char *want[] = {cases[i].want, cases[i].want2, NULL};
        expect_bytes_refused(state, 0, cases[i].bytes, cases[i].n, want);
    }
    /* a global line too long to be a module name; too many MARKs open */
    char line[400] = "\x80\x02"
                     "c";
    memset(line + 3, 'a', 300);
    memcpy(line + 303, "\nb\n.", 4);
    const char *want[] = {"a module or name longer than 128 bytes", NULL};
    expect_bytes_refused(state, 0, line, 307, want);
    memset(line + 2, '(', CIM_PICKLE_MAX_MARKS + 1);
    const char *want2[] = {"more than 64 MARKs open", NULL};
    expect_bytes_refused(state, 0, line, 2 + CIM_PICKLE_MAX_MARKS + 1, want2);
}

/* A whole-file view of the reference blob and of the cPickle layout, cut at
 * every length: each cut is refused with one line. */
static void test_every_truncation_refused(void **state)
{
    (void)state;
    uint8_t *images, *labels;
    const cim_cw_batch b = make_batch(0, 1, 0, &images, &labels);
    size_t n[3] = {0};
    uint8_t *blobs[3] = {ref_blob(2, &n[0]), ref_blob(4, &n[1]), cim_cw_pickle(&b, &n[2])};
    int cases = 0;
    for (int k = 0; k < 3; ++k) {
        for (size_t len = 0; len < n[k]; ++len, ++cases) {
            cim_pickle *p = NULL;
            cim_error err = {0};
            int rc = cim_pickle_read_memory("cut.pkl", blobs[k], len, &p, &err);
            if (rc != CIM_ERR_INPUT)
                fail_msg("blob %d cut to %zu of %zu bytes: %s", k, len, n[k], cim_error_name(rc));
            assert_null(p);
            assert_null(strchr(err.msg, '\n'));
            assert_non_null(strstr(err.msg, "cut.pkl"));
        }
        free(blobs[k]);
    }
    print_message("%d truncations refused\n", cases);
    free(images);
    free(labels);
}

/* Random bytes changed anywhere in the two kinds of file, loaded as CIFAR-10
 * batches: an error line or a valid dataset, never a crash (a sanitizer
 * build checks the memory). */
static void test_fuzz_byte_flips(void **state)
{
    char dir[CIM_TEST_PATH_BUF], path[CIM_TEST_PATH_BUF];
    uint8_t *images, *labels;
    folder_in(state, "fuzz", dir);
    cim_test_write_text(cim_test_path(path, "%s/batches.meta", dir), "");
    cim_test_path(path, "%s/test_batch", dir);
    const cim_cw_batch b = make_batch(0, 2, 0, &images, &labels);
    size_t n[2] = {0};
    uint8_t *blobs[2] = {ref_blob(4, &n[0]), cim_cw_pickle(&b, &n[1])};
    cim_test_rng r = cim_test_rng_init(FUZZ_SEED);
    int accepted = 0;
    for (int c = 0; c < FUZZ_FLIPS; ++c) {
        const int k = c % 2;
        uint8_t *copy = malloc(n[k]);
        assert_non_null(copy);
        memcpy(copy, blobs[k], n[k]);
        /* mostly the opcodes and lengths before the pixel data */
        const int32_t span = c % 3 ? 400 : (int32_t)n[k];
        const int flips = cim_test_rng_int(&r, 1, 3);
        for (int f = 0; f < flips; ++f)
            copy[cim_test_rng_int(&r, 0, span - 1)] ^= (uint8_t)cim_test_rng_int(&r, 1, 255);
        cim_test_write_file(path, copy, n[k]);
        free(copy);
        cim_dataset d;
        cim_error err = {0};
        int rc = cim_dataset_load_split(dir, "test", &d, &err);
        if (rc) {
            if (rc != CIM_ERR_INPUT)
                fail_msg("case %d: %s %s", c, cim_error_name(rc), err.msg);
            assert_null(strchr(err.msg, '\n'));
            assert_non_null(strstr(err.msg, path));
            assert_true(is_zeroed(&d));
            continue;
        }
        ++accepted;
        assert_true(d.count >= 1 && d.channels == 3 && d.height == 32 && d.width == 32);
        unsigned sum = 0;
        for (int64_t i = 0; i < (int64_t)d.count * IMAGE; ++i)
            sum += d.images[i];
        for (int32_t i = 0; i < d.count; ++i)
            assert_true(d.labels[i] < 10);
        (void)sum;
        cim_dataset_free(&d);
    }
    print_message("%d of %d flipped files accepted as valid data\n", accepted, FUZZ_FLIPS);
    free(blobs[0]);
    free(blobs[1]);
    free(images);
    free(labels);
}

/* ---------------------------------------------------------------------------
 * Shapes and subsets
 */

/* CIFAR images are [3,32,32]: a model must take exactly that. */
static void test_input_shape_with_channels(void **state)
{
    static const struct {
        int32_t c, h, w;
        const char *want; /* NULL: a match */
    } cases[] = {
        {3, 32, 32, NULL},
        {1, 32, 32, "input_shape [1,32,32]"},
        {3, 32, 96, "input_shape [3,32,96]"},
        {1, 32, 96, "input_shape [1,32,96]"},
        {3, 96, 32, "input_shape [3,96,32]"},
    };
    char dir[CIM_TEST_PATH_BUF];
    folder_in(state, "shape", dir);
    cim_cw_cifar10_folder(dir, 2, 1);
    cim_dataset d;
    cim_error err = {0};
    assert_int_equal(cim_dataset_load_split(dir, "test", &d, &err), 0);
    cim_model m;
    memset(&m, 0, sizeof m);
    char model_path[] = "/models/m.h5";
    m.path = model_path;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
        m.input_shape = (cim_shape){3, {cases[i].c, cases[i].h, cases[i].w}};
        cim_error e = {0};
        int rc = cim_dataset_check_input_shape(&d, &m, &e);
        if (!cases[i].want) {
            if (rc)
                fail_msg("case %zu: %s", i, e.msg);
            continue;
        }
        assert_int_equal(rc, CIM_ERR_INPUT);
        const char *want[] = {"dataset shape mismatch",
                              d.images_path,
                              "[3,32,32]",
                              "3 channels",
                              model_path,
                              cases[i].want,
                              NULL};
        expect_substrings(e.msg, want);
        assert_null(strstr(e.msg, "IDX"));
    }
    cim_dataset s;
    assert_int_equal(cim_dataset_subset(&d, 1, 1, &s, &err), 0);
    assert_int_equal(s.channels, 3);
    assert_int_equal(s.format, CIM_DATASET_CIFAR10);
    assert_int_equal(s.labels[0], d.labels[1]);
    assert_memory_equal(s.images, d.images + IMAGE, IMAGE);
    assert_int_equal(s.files.n, 1);
    CIM_ASSERT_I64_EQ(cim_dataset_image_bytes(&s), IMAGE);
    cim_dataset_free(&s);
    cim_dataset_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_blobs_read),
        cmocka_unit_test(test_reference_blobs_load_as_cifar10),
        cmocka_unit_test(test_cpickle_layout_with_many_images),
        cmocka_unit_test(test_cifar10_train_reads_five_batches),
        cmocka_unit_test(test_cifar100_fine_labels),
        cmocka_unit_test(test_numpy_core_module_names),
        cmocka_unit_test(test_gzip_batch),
        cmocka_unit_test(test_folder_recognition),
        cmocka_unit_test(test_batch_contents_refused),
        cmocka_unit_test(test_bad_pickles_refused),
        cmocka_unit_test(test_every_truncation_refused),
        cmocka_unit_test(test_fuzz_byte_flips),
        cmocka_unit_test(test_input_shape_with_channels),
    };
    return cmocka_run_group_tests_name("dataset", tests, make_folder, cim_test_scratch_teardown);
}
