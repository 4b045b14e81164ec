/* cim_dataset.c -- a dataset folder of any format (cim_dataset.h): which
 * one it is, its files, their digest, and what every format shares (subsets,
 * the check against a model's input shape, freeing).
 *
 * The folder is recognised by names only (access(F_OK)), before any file is
 * opened: the split's IDX files (cim_idx_split_present), else CIFAR-10's
 * batches.meta, else CIFAR-100's meta with its train or test file. The
 * loaders then check the files' contents.
 *
 * Ownership: the dataset owns images and labels until cim_dataset_free();
 * a subset is a copy with its own buffers.
 */
#include "cim_dataset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cim_cifar.h"
#include "cim_idx.h"
#include "cim_model.h"

#define HASH_CHUNK_BYTES (1 << 20)

const char *cim_dataset_format_name(cim_dataset_format format)
{
    switch (format) {
    case CIM_DATASET_IDX:
        return "IDX";
    case CIM_DATASET_CIFAR10:
        return "CIFAR-10";
    case CIM_DATASET_CIFAR100:
        return "CIFAR-100";
    }
    return "unknown";
}

/* Whether <dir>/<name> exists. */
static int has_file(const char *dir, const char *name)
{
    char path[CIM_DATASET_PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    return n > 0 && n < (int)sizeof path && access(path, F_OK) == 0;
}

int cim_dataset_detect(const char *dir, const char *split, cim_dataset_format *format,
                       cim_error *err)
{
    *format = CIM_DATASET_IDX;
    if (!dir || !*dir || !split || !*split)
        return cim_error_set(
            err, CIM_ERR_USAGE,
            "dataset: a folder and a split name (\"t10k\", \"test\" or \"train\") are needed");
    if (cim_idx_split_present(dir, split))
        return 0;
    if (has_file(dir, CIM_CIFAR10_META)) {
        *format = CIM_DATASET_CIFAR10;
        return 0;
    }
    if (has_file(dir, CIM_CIFAR100_META) && (has_file(dir, "train") || has_file(dir, "test"))) {
        *format = CIM_DATASET_CIFAR100;
        return 0;
    }
    return cim_error_set(err, CIM_ERR_INPUT,
                         "%s: no dataset for split \"%s\": looked for the IDX files "
                         "%s-images-idx3-ubyte (or -idx4-ubyte) and %s-labels-idx1-ubyte (each "
                         "plain or .gz), CIFAR-10's " CIM_CIFAR10_META
                         " and CIFAR-100's " CIM_CIFAR100_META " with train or test%s",
                         dir, split, split, split,
                         access(dir, F_OK) != 0 ? " (the folder does not exist)" : "");
}

int cim_dataset_load_split(const char *dir, const char *split, cim_dataset *d, cim_error *err)
{
    cim_dataset_format format;
    memset(d, 0, sizeof *d);
    int rc = cim_dataset_detect(dir, split, &format, err);
    if (rc)
        return rc;
    if (format == CIM_DATASET_IDX)
        return cim_idx_load_split(dir, split, d, err);
    return cim_cifar_load_split(dir, split, format, d, err);
}

int cim_dataset_split_files(const char *dir, const char *split, cim_dataset_files *files,
                            cim_error *err)
{
    cim_dataset_format format;
    memset(files, 0, sizeof *files);
    int rc = cim_dataset_detect(dir, split, &format, err);
    if (rc)
        return rc;
    if (format != CIM_DATASET_IDX)
        return cim_cifar_split_files(dir, split, format, files, err);
    rc = cim_idx_split_paths(dir, split, files->path[0], files->path[1], err);
    for (int i = 0; i < 2; ++i) /* those found, in order */
        if (files->path[i][0]) {
            if (files->n != i)
                memcpy(files->path[files->n], files->path[i], sizeof files->path[i]);
            ++files->n;
        }
    for (int i = files->n; i < 2; ++i)
        files->path[i][0] = '\0';
    return rc;
}

/* SHA-256 of the files' bytes, one after the other. */
static int sha256_files(const char *const *paths, int n, char hex[65], cim_error *err)
{
    hex[0] = '\0';
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *chunk = malloc(HASH_CHUNK_BYTES);
    int rc = 0;
    if (!ctx || !chunk || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        rc = cim_error_set(err, CIM_ERR_NOMEM, "%s: cannot set up SHA-256 (out of memory?)",
                           paths[0]);
    for (int i = 0; !rc && i < n; ++i) {
        FILE *f = fopen(paths[i], "rb");
        if (!f) {
            rc =
                cim_error_set(err, CIM_ERR_INPUT, "%s: cannot open: %s", paths[i], strerror(errno));
            break;
        }
        size_t got;
        while ((got = fread(chunk, 1, HASH_CHUNK_BYTES, f)) > 0)
            if (EVP_DigestUpdate(ctx, chunk, got) != 1)
                break;
        if (ferror(f))
            rc = cim_error_set(err, CIM_ERR_INPUT, "%s: cannot be read: %s", paths[i],
                               strerror(errno));
        else if (!feof(f))
            rc = cim_error_set(err, CIM_ERR_INPUT, "%s: SHA-256 failed", paths[i]);
        fclose(f);
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!rc && (EVP_DigestFinal_ex(ctx, digest, &len) != 1 || len != 32))
        rc = cim_error_set(err, CIM_ERR_INPUT, "%s: SHA-256 failed", paths[0]);
    for (unsigned int i = 0; !rc && i < len; ++i)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    free(chunk);
    EVP_MD_CTX_free(ctx);
    return rc;
}

int cim_dataset_sha256_hex(const cim_dataset *d, int labels, char hex[65], cim_error *err)
{
    const char *paths[CIM_DATASET_MAX_FILES];
    int n = 0;
    if (d->format == CIM_DATASET_IDX) {
        paths[n++] = labels ? d->labels_path : d->images_path;
    } else {
        for (int32_t i = 0; i < d->files.n && i < CIM_DATASET_MAX_FILES; ++i)
            paths[n++] = d->files.path[i];
    }
    if (n == 0 || !paths[0][0]) {
        hex[0] = '\0';
        return cim_error_set(err, CIM_ERR_INPUT, "dataset: no file to digest");
    }
    return sha256_files(paths, n, hex, err);
}

int32_t cim_dataset_classes_seen(const uint8_t *labels, int64_t count)
{
    int32_t top = -1;
    for (int64_t i = 0; i < count; ++i)
        if (labels[i] > top)
            top = labels[i];
    return top + 1;
}

int64_t cim_dataset_image_bytes(const cim_dataset *d)
{
    return (int64_t)d->channels * d->height * d->width;
}

int cim_dataset_subset(const cim_dataset *src, int64_t first, int64_t count, cim_dataset *out,
                       cim_error *err)
{
    memset(out, 0, sizeof *out);
    if (first < 0 || count < 1 || first > src->count || count > src->count - first)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "image count out of range: %lld images from index %lld requested, "
                             "but %s holds %d (expected count >= 1 and first + count <= %d)",
                             (long long)count, (long long)first, src->images_path, src->count,
                             src->count);
    const size_t image = (size_t)cim_dataset_image_bytes(src);
    out->images = malloc((size_t)count * image);
    out->labels = malloc((size_t)count);
    if (!out->images || !out->labels) {
        cim_dataset_free(out);
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory for %lld images",
                             src->images_path, (long long)count);
    }
    memcpy(out->images, src->images + (size_t)first * image, (size_t)count * image);
    memcpy(out->labels, src->labels + first, (size_t)count);
    out->count = (int32_t)count;
    out->channels = src->channels;
    out->height = src->height;
    out->width = src->width;
    out->format = src->format;
    out->num_classes_seen = cim_dataset_classes_seen(out->labels, count);
    memcpy(out->images_path, src->images_path, sizeof out->images_path);
    memcpy(out->labels_path, src->labels_path, sizeof out->labels_path);
    out->files = src->files;
    return 0;
}

int cim_dataset_check_input_shape(const cim_dataset *d, const cim_model *m, cim_error *err)
{
    const cim_shape *in = &m->input_shape;
    if (in->rank == 3 && in->dim[0] == d->channels && in->dim[1] == d->height &&
        in->dim[2] == d->width)
        return 0;
    char want[64], channels[32];
    if (in->rank == 3)
        snprintf(want, sizeof want, "[%d,%d,%d]", in->dim[0], in->dim[1], in->dim[2]);
    else
        snprintf(want, sizeof want, "[%d]", in->dim[0]);
    if (d->channels == 1)
        snprintf(channels, sizeof channels, "one channel");
    else
        snprintf(channels, sizeof channels, "%d channels", d->channels);
    const int idx_one_channel =
        d->format == CIM_DATASET_IDX && d->channels == 1 && in->rank == 3 && in->dim[0] != 1;
    return cim_error_set(err, CIM_ERR_INPUT,
                         "dataset shape mismatch: %s holds images of shape [%d,%d,%d] (%dx%d "
                         "pixels, %s), but model %s expects input_shape %s%s",
                         d->images_path, d->channels, d->height, d->width, d->height, d->width,
                         channels, m->path ? m->path : "(unnamed)", want,
                         idx_one_channel ? " (3-D IDX images have one channel; a 4-D file, magic "
                                           "0x00000804, gives C)"
                                         : "");
}

void cim_dataset_free(cim_dataset *d)
{
    if (!d)
        return;
    free(d->images);
    free(d->labels);
    memset(d, 0, sizeof *d);
}
