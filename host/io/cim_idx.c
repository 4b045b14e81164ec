/* cim_idx.c -- IDX dataset loader, written for hostile input.
 *
 * One reader, idx_read(), serves both files: it opens the path with zlib's
 * gzopen (which passes plain files through unchanged), reads and checks the
 * 4-byte magic (two zero bytes, element type 0x08, a rank the role takes:
 * 3 or 4 for images, 1 for labels), the dimensions (each at least 1 and
 * within CIM_IDX_MAX_COUNT / _CHANNELS / _SIDE, their product within
 * CIM_IDX_MAX_BYTES), then exactly the promised number of bytes, and finally
 * demands the end of the file.
 *
 * Nothing is allocated from the header alone: the data buffer starts at
 * IDX_FIRST_CHUNK bytes (or less) and doubles only as data actually arrives,
 * so a 20-byte file that promises two gigabytes costs a few kilobytes before
 * it is rejected as truncated.
 *
 * zlib reports three kinds of trouble and each gets its own message: a short
 * read (the file ends before the header's promise, or the gzip stream stops
 * mid-way, gzerror Z_BUF_ERROR), a corrupt stream (gzread returns -1 with a
 * zlib message, e.g. "invalid block type" or "incorrect data check"), and a
 * read error from the system (Z_ERRNO). Bytes after the end of a gzip stream
 * that do not start another gzip member are ignored by zlib, as gunzip does.
 *
 * A 3-D images file is one channel (C = 1); a 4-D one is count x C x H x W,
 * channels first, each image's C*H*W bytes in the order a model's
 * input_shape [C, H, W] takes them (cim_dataset_check_input_shape).
 *
 * Ownership: idx_read() owns its buffer until it succeeds; the dataset owns
 * both buffers until cim_dataset_free(). A failed load leaves *d zeroed.
 */
#include "cim_idx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#define IDX_MAGIC_BYTES 4
#define IDX_DIM_BYTES 4           /* each dimension: big-endian uint32 */
#define IDX_TYPE_UBYTE 0x08       /* the only element type accepted */
#define IDX_FIRST_CHUNK (1 << 20) /* first buffer size; doubles as data arrives */
#define IDX_MAX_READ (1 << 30)    /* bytes per gzread call (it takes an unsigned, returns int) */
#define IDX_GZ_BUFFER_BYTES (1 << 17) /* zlib's input buffer */
#define IDX_MAX_RANK 4

/* One layout a file may have: its rank and the names and limits of its
 * dimensions. */
typedef struct idx_layout {
    int rank;
    const char *dim_names[IDX_MAX_RANK];
    int64_t dim_limits[IDX_MAX_RANK];
} idx_layout;

/* What one file must hold: its role and the layouts it may have. */
typedef struct idx_kind {
    const char *role; /* "images", "labels" */
    int n_layouts;
    idx_layout layouts[2];
} idx_kind;

static const idx_kind idx_images = {
    "images",
    2,
    {{3,
      {"image count", "height", "width"},
      {CIM_IDX_MAX_COUNT, CIM_IDX_MAX_SIDE, CIM_IDX_MAX_SIDE}},
     {4,
      {"image count", "channels", "height", "width"},
      {CIM_IDX_MAX_COUNT, CIM_IDX_MAX_CHANNELS, CIM_IDX_MAX_SIDE, CIM_IDX_MAX_SIDE}}}};
static const idx_kind idx_labels = {"labels", 1, {{1, {"label count"}, {CIM_IDX_MAX_COUNT}}}};

typedef struct idx_reader {
    const char *path;
    const idx_kind *kind;
    const idx_layout *layout; /* the file's, once its magic is read */
    gzFile gz;
    cim_error *err;
} idx_reader;

static const char *idx_type_name(int code)
{
    switch (code) {
    case 0x08:
        return "unsigned byte";
    case 0x09:
        return "signed byte";
    case 0x0B:
        return "16-bit integer";
    case 0x0C:
        return "32-bit integer";
    case 0x0D:
        return "32-bit float";
    case 0x0E:
        return "64-bit float";
    default:
        return "unknown type";
    }
}

static uint32_t idx_magic(int rank)
{
    return (uint32_t)IDX_TYPE_UBYTE << 8 | (uint32_t)rank;
}

/* "0x00000803" or "0x00000803 or 0x00000804": the magic numbers of `k`. */
static const char *idx_magics(const idx_kind *k, char *buf, size_t n)
{
    if (k->n_layouts == 1)
        snprintf(buf, n, "0x%08x", idx_magic(k->layouts[0].rank));
    else
        snprintf(buf, n, "0x%08x or 0x%08x", idx_magic(k->layouts[0].rank),
                 idx_magic(k->layouts[1].rank));
    return buf;
}

/* "1 dimension", "3 or 4 dimensions": the ranks of `k`. */
static const char *idx_ranks(const idx_kind *k, char *buf, size_t n)
{
    if (k->n_layouts == 1)
        snprintf(buf, n, "%d dimension%s", k->layouts[0].rank, k->layouts[0].rank == 1 ? "" : "s");
    else
        snprintf(buf, n, "%d or %d dimensions", k->layouts[0].rank, k->layouts[1].rank);
    return buf;
}

/* zlib's message for the last error, without the "path: " it puts in front. */
static const char *idx_gz_message(const idx_reader *r, int *errnum)
{
    const char *msg = gzerror(r->gz, errnum);
    size_t n = strlen(r->path);
    if (msg && strncmp(msg, r->path, n) == 0 && strncmp(msg + n, ": ", 2) == 0)
        msg += n + 2;
    return msg ? msg : "unknown zlib error";
}

/* The error for a gzread that returned -1. */
static int idx_read_failed(const idx_reader *r, const char *part)
{
    int errnum = Z_OK;
    const char *msg = idx_gz_message(r, &errnum);
    if (errnum == Z_ERRNO)
        return cim_error_set(r->err, CIM_ERR_INPUT, "%s: cannot read the %s %s: %s", r->path,
                             r->kind->role, part, msg);
    return cim_error_set(r->err, CIM_ERR_INPUT, "%s: corrupt gzip data in the %s %s: %s", r->path,
                         r->kind->role, part, msg);
}

/* Reads up to n bytes; *got says how many arrived. 0, or the error of a
 * failed gzread. A short read is not an error here. */
static int idx_read_bytes(const idx_reader *r, uint8_t *buf, int64_t n, int64_t *got,
                          const char *part)
{
    *got = 0;
    while (*got < n) {
        int64_t want = n - *got < IDX_MAX_READ ? n - *got : IDX_MAX_READ;
        int k = gzread(r->gz, buf + *got, (unsigned)want);
        if (k < 0)
            return idx_read_failed(r, part);
        if (k == 0)
            break;
        *got += k;
    }
    return 0;
}

/* The error for a file that ended after `found` of `expected` bytes. */
static int idx_truncated(const idx_reader *r, const char *part, int64_t expected, int64_t found)
{
    int errnum = Z_OK;
    const char *msg = idx_gz_message(r, &errnum);
    return cim_error_set(
        r->err, CIM_ERR_INPUT, "%s: truncated %s %s: expected %lld bytes, found %lld%s%s%s",
        r->path, r->kind->role, part, (long long)expected, (long long)found,
        errnum != Z_OK ? " (gzip: " : "", errnum != Z_OK ? msg : "", errnum != Z_OK ? ")" : "");
}

/* Reads exactly n header bytes. */
static int idx_read_header_bytes(const idx_reader *r, uint8_t *buf, int64_t n, const char *part)
{
    int64_t got = 0;
    int rc = idx_read_bytes(r, buf, n, &got, part);
    if (rc)
        return rc;
    char magics[32];
    if (got == 0 && n == IDX_MAGIC_BYTES)
        return cim_error_set(r->err, CIM_ERR_INPUT,
                             "%s: empty file, expected an IDX %s file (magic %s)", r->path,
                             r->kind->role, idx_magics(r->kind, magics, sizeof magics));
    if (got < n)
        return idx_truncated(r, part, n, got);
    return 0;
}

/* Checks the magic number and sets r->layout to the layout of its rank. */
static int idx_check_magic(idx_reader *r, const uint8_t m[IDX_MAGIC_BYTES])
{
    const idx_kind *k = r->kind;
    char magics[32], ranks[32];
    if (m[0] != 0 || m[1] != 0)
        return cim_error_set(r->err, CIM_ERR_INPUT,
                             "%s: not an IDX file: magic number 0x%02x%02x%02x%02x, expected "
                             "%s (%s, unsigned bytes, %s)",
                             r->path, m[0], m[1], m[2], m[3], idx_magics(k, magics, sizeof magics),
                             k->role, idx_ranks(k, ranks, sizeof ranks));
    if (m[2] != IDX_TYPE_UBYTE)
        return cim_error_set(r->err, CIM_ERR_INPUT,
                             "%s: IDX element type 0x%02x (%s) is not supported, expected 0x%02x "
                             "(unsigned byte)",
                             r->path, m[2], idx_type_name(m[2]), IDX_TYPE_UBYTE);
    for (int i = 0; i < k->n_layouts; ++i)
        if (m[3] == k->layouts[i].rank) {
            r->layout = &k->layouts[i];
            return 0;
        }
    snprintf(ranks, sizeof ranks, "%d", k->layouts[0].rank);
    if (k->n_layouts > 1)
        snprintf(ranks, sizeof ranks, "%d or %d", k->layouts[0].rank, k->layouts[1].rank);
    return cim_error_set(
        r->err, CIM_ERR_INPUT, "%s: IDX file has %d dimension%s, expected %s for %s (magic %s)",
        r->path, m[3], m[3] == 1 ? "" : "s", ranks, k->role, idx_magics(k, magics, sizeof magics));
}

/* Reads and checks the header; r->layout, dims[0..rank) and *bytes (their
 * product). */
static int idx_read_header(idx_reader *r, int64_t *dims, int64_t *bytes)
{
    uint8_t magic[IDX_MAGIC_BYTES];
    int rc = idx_read_header_bytes(r, magic, IDX_MAGIC_BYTES, "header");
    if (rc)
        return rc;
    if ((rc = idx_check_magic(r, magic)))
        return rc;
    const idx_layout *l = r->layout;
    uint8_t raw[IDX_MAX_RANK * IDX_DIM_BYTES];
    rc = idx_read_header_bytes(r, raw, (int64_t)l->rank * IDX_DIM_BYTES, "header dimensions");
    if (rc)
        return rc;
    *bytes = 1;
    for (int i = 0; i < l->rank; ++i) {
        const uint8_t *b = raw + i * IDX_DIM_BYTES;
        dims[i] = (int64_t)b[0] << 24 | (int64_t)b[1] << 16 | (int64_t)b[2] << 8 | b[3];
        if (dims[i] < 1 || dims[i] > l->dim_limits[i])
            return cim_error_set(r->err, CIM_ERR_INPUT, "%s: %s %lld is outside 1..%lld", r->path,
                                 l->dim_names[i], (long long)dims[i], (long long)l->dim_limits[i]);
        *bytes *= dims[i]; /* at most 2^26 * 2^12 * 2^12 * 2^12 = 2^62: no overflow */
    }
    if (*bytes > CIM_IDX_MAX_BYTES)
        return cim_error_set(r->err, CIM_ERR_INPUT,
                             "%s: the header promises %lld bytes of %s, more than the limit %lld",
                             r->path, (long long)*bytes, r->kind->role,
                             (long long)CIM_IDX_MAX_BYTES);
    return 0;
}

/* Reads exactly `bytes` data bytes into a buffer grown as they arrive. */
static int idx_read_data(const idx_reader *r, int64_t bytes, uint8_t **out)
{
    int64_t cap = bytes < IDX_FIRST_CHUNK ? bytes : IDX_FIRST_CHUNK;
    int64_t done = 0;
    uint8_t *buf = malloc((size_t)cap);
    if (!buf)
        return cim_error_set(r->err, CIM_ERR_NOMEM, "%s: out of memory for %lld bytes of %s",
                             r->path, (long long)cap, r->kind->role);
    for (;;) {
        int64_t got = 0;
        int rc = idx_read_bytes(r, buf + done, cap - done, &got, "data");
        done += got;
        if (!rc && done < cap)
            rc = idx_truncated(r, "data", bytes, done);
        if (rc) {
            free(buf);
            return rc;
        }
        if (done == bytes)
            break;
        cap = 2 * cap < bytes ? 2 * cap : bytes;
        uint8_t *grown = realloc(buf, (size_t)cap);
        if (!grown) {
            free(buf);
            return cim_error_set(r->err, CIM_ERR_NOMEM, "%s: out of memory for %lld bytes of %s",
                                 r->path, (long long)cap, r->kind->role);
        }
        buf = grown;
    }
    *out = buf;
    return 0;
}

/* After the data: the file (and its gzip stream, if any) must end. */
static int idx_check_end(const idx_reader *r, int64_t bytes)
{
    uint8_t extra;
    int k = gzread(r->gz, &extra, 1);
    if (k < 0)
        return idx_read_failed(r, "data");
    if (k > 0)
        return cim_error_set(r->err, CIM_ERR_INPUT,
                             "%s: unexpected bytes after the %lld bytes of %s the header promises "
                             "(expected the end of the file)",
                             r->path, (long long)bytes, r->kind->role);
    int errnum = Z_OK;
    const char *msg = idx_gz_message(r, &errnum);
    if (errnum != Z_OK)
        return cim_error_set(r->err, CIM_ERR_INPUT,
                             "%s: truncated gzip file: the %s data is complete but the gzip "
                             "stream does not end (%s)",
                             r->path, r->kind->role, msg);
    return 0;
}

/* Reads one whole IDX file of `kind`: *rank, dims[0..rank) and a malloc'd
 * buffer. */
static int idx_read(const char *path, const idx_kind *kind, int *rank, int64_t *dims,
                    uint8_t **data, cim_error *err)
{
    *data = NULL;
    idx_reader r = {path, kind, NULL, NULL, err};
    errno = 0;
    r.gz = gzopen(path, "rb");
    if (!r.gz)
        return cim_error_set(err, CIM_ERR_INPUT, "%s: cannot open the %s file: %s", path,
                             kind->role, errno ? strerror(errno) : "out of memory");
    gzbuffer(r.gz, IDX_GZ_BUFFER_BYTES);
    int64_t bytes = 0;
    int rc = idx_read_header(&r, dims, &bytes);
    if (!rc)
        rc = idx_read_data(&r, bytes, data);
    if (!rc && (rc = idx_check_end(&r, bytes))) {
        free(*data);
        *data = NULL;
    }
    if (!rc)
        *rank = r.layout->rank;
    gzclose_r(r.gz);
    return rc;
}

static int copy_path(char *dst, const char *src, const char *role, cim_error *err)
{
    size_t n = strlen(src);
    if (n >= CIM_IDX_PATH_MAX)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%.64s...: %s path too long (%zu bytes, at most %d)", src, role, n,
                             CIM_IDX_PATH_MAX - 1);
    memcpy(dst, src, n + 1);
    return 0;
}

int cim_idx_load_dataset(const char *images_path, const char *labels_path, cim_dataset *d,
                         cim_error *err)
{
    memset(d, 0, sizeof *d);
    if (!images_path || !labels_path)
        return cim_error_set(err, CIM_ERR_USAGE, "dataset: an images and a labels path are needed");
    int rc = copy_path(d->images_path, images_path, "images", err);
    if (!rc)
        rc = copy_path(d->labels_path, labels_path, "labels", err);
    int64_t image_dims[IDX_MAX_RANK] = {0}, label_dims[1] = {0};
    int image_rank = 0, label_rank = 0;
    if (!rc)
        rc = idx_read(images_path, &idx_images, &image_rank, image_dims, &d->images, err);
    if (!rc)
        rc = idx_read(labels_path, &idx_labels, &label_rank, label_dims, &d->labels, err);
    if (!rc && image_dims[0] != label_dims[0])
        rc = cim_error_set(err, CIM_ERR_INPUT,
                           "dataset shape mismatch: %s holds %lld images but %s holds %lld labels",
                           images_path, (long long)image_dims[0], labels_path,
                           (long long)label_dims[0]);
    if (rc) {
        cim_dataset_free(d);
        return rc;
    }
    const int c = image_rank == 4; /* the index of the height: 2 with a channel dimension */
    d->format = CIM_DATASET_IDX;
    d->count = (int32_t)image_dims[0];
    d->channels = c ? (int32_t)image_dims[1] : 1;
    d->height = (int32_t)image_dims[1 + c];
    d->width = (int32_t)image_dims[2 + c];
    d->num_classes_seen = cim_dataset_classes_seen(d->labels, d->count);
    d->files.n = 2;
    memcpy(d->files.path[0], d->images_path, sizeof d->images_path);
    memcpy(d->files.path[1], d->labels_path, sizeof d->labels_path);
    return 0;
}

/* <dir>/<split>-<role>-<suffix> into path (CIM_IDX_PATH_MAX bytes, with room
 * for ".gz"); -1 when it does not fit. */
static int split_name(const char *dir, const char *split, const char *role, const char *suffix,
                      char *path)
{
    int n = snprintf(path, CIM_IDX_PATH_MAX, "%s/%s-%s-%s", dir, split, role, suffix);
    return n < 0 || n + 3 >= CIM_IDX_PATH_MAX ? -1 : n;
}

/* Which of <dir>/<split>-<role>-<suffix>.gz and the plain name exists: the
 * .gz one into path if it does, else the plain one; 1 if either exists, 0 if
 * neither, -1 when the path does not fit. tried (when not NULL) receives the
 * two names, the .gz one first. */
static int look_for(const char *dir, const char *split, const char *role, const char *suffix,
                    char *path, char (*tried)[CIM_IDX_PATH_MAX])
{
    int n = split_name(dir, split, role, suffix, path);
    if (n < 0)
        return -1;
    char gz_path[CIM_IDX_PATH_MAX];
    memcpy(gz_path, path, (size_t)n);
    memcpy(gz_path + n, ".gz", 4);
    if (tried) {
        memcpy(tried[0], gz_path, (size_t)n + 4);
        memcpy(tried[1], path, (size_t)n + 1);
    }
    if (access(gz_path, F_OK) == 0) {
        memcpy(path, gz_path, (size_t)n + 4);
        return 1;
    }
    return access(path, F_OK) == 0;
}

static int path_too_long(const char *dir, cim_error *err)
{
    return cim_error_set(err, CIM_ERR_INPUT, "%.64s...: dataset folder path too long", dir);
}

static int missing_split_file(const char *dir, const char *split, const char *role,
                              char (*tried)[CIM_IDX_PATH_MAX], int n_tried, cim_error *err)
{
    const char *why = access(dir, F_OK) != 0 ? " (the folder does not exist)" : "";
    if (n_tried == 2)
        return cim_error_set(err, CIM_ERR_INPUT, "no %s file for split \"%s\": tried %s and %s%s",
                             role, split, tried[0], tried[1], why);
    return cim_error_set(err, CIM_ERR_INPUT,
                         "no %s file for split \"%s\": tried %s, %s, %s and %s%s", role, split,
                         tried[0], tried[1], tried[2], tried[3], why);
}

/* The split's images file: idx3 (.gz, plain) or idx4 (.gz, plain), not both. */
static int find_images(const char *dir, const char *split, char *path, cim_error *err)
{
    char tried[4][CIM_IDX_PATH_MAX], idx4[CIM_IDX_PATH_MAX];
    int has3 = look_for(dir, split, "images", "idx3-ubyte", path, tried);
    int has4 = look_for(dir, split, "images", "idx4-ubyte", idx4, tried + 2);
    if (has3 < 0 || has4 < 0)
        return path_too_long(dir, err);
    if (has3 && has4)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "two images files for split \"%s\": %s and %s (expected one: "
                             "remove or rename the other)",
                             split, path, idx4);
    if (has4)
        memcpy(path, idx4, strlen(idx4) + 1);
    return has3 || has4 ? 0 : missing_split_file(dir, split, "images", tried, 4, err);
}

static int find_labels(const char *dir, const char *split, char *path, cim_error *err)
{
    char tried[2][CIM_IDX_PATH_MAX];
    int has = look_for(dir, split, "labels", "idx1-ubyte", path, tried);
    if (has < 0)
        return path_too_long(dir, err);
    return has ? 0 : missing_split_file(dir, split, "labels", tried, 2, err);
}

int cim_idx_split_paths(const char *dir, const char *split, char *images, char *labels,
                        cim_error *err)
{
    if (!dir || !*dir || !split || !*split)
        return cim_error_set(
            err, CIM_ERR_USAGE,
            "dataset: a folder and a split name (\"t10k\" or \"train\") are needed");
    int rc = find_images(dir, split, images, err);
    if (rc)
        images[0] = '\0';
    int rc_labels = find_labels(dir, split, labels, err);
    if (rc_labels)
        labels[0] = '\0';
    return rc ? rc : rc_labels;
}

int cim_idx_split_present(const char *dir, const char *split)
{
    char path[CIM_IDX_PATH_MAX];
    if (!dir || !*dir || !split || !*split)
        return 0;
    return look_for(dir, split, "images", "idx3-ubyte", path, NULL) > 0 ||
           look_for(dir, split, "images", "idx4-ubyte", path, NULL) > 0 ||
           look_for(dir, split, "labels", "idx1-ubyte", path, NULL) > 0;
}

int cim_idx_load_split(const char *dir, const char *split, cim_dataset *d, cim_error *err)
{
    char images[CIM_IDX_PATH_MAX], labels[CIM_IDX_PATH_MAX];
    memset(d, 0, sizeof *d);
    int rc = cim_idx_split_paths(dir, split, images, labels, err);
    return rc ? rc : cim_idx_load_dataset(images, labels, d, err);
}
