/* test_idx.c -- the IDX dataset loader: exact contents of small plain and
 * gzip files (3-D, and 4-D with channels), split look-up, subsets, every way
 * a file can be wrong (checked
 * by substrings of the message: the path, what was expected and what was
 * found), a fuzz loop over truncated and bit-flipped files that must yield an
 * error or valid data and never a crash, and Fashion-MNIST's test set when
 * Debian's dataset-fashion-mnist is installed.
 *
 * Files are written into a mkdtemp folder created by the group fixture; gzip
 * files with zlib's own gzopen("wb"), so the test needs no gzip binary.
 */
#include "cim_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "cim_idx.h"
#include "cim_model.h"

#define FILE_MAX 4096 /* bytes of any IDX file the tests build */
#define FUZZ_SEED 20240611u
#define FUZZ_FLIP_CASES 300 /* header flips of plain files, and byte flips of gzip files */

typedef struct idx_fixture {
    char dir[CIM_TEST_SCRATCH_DIR_MAX]; /* first: cim_test_scratch */
} idx_fixture;

static int make_folder(void **state)
{
    return cim_test_scratch_setup(state, sizeof(idx_fixture), "idx");
}

/* ---------------------------------------------------------------------------
 * Building files
 */

typedef struct idx_bytes {
    uint8_t b[FILE_MAX];
    size_t n;
} idx_bytes;

static void put_u32(idx_bytes *f, uint32_t v)
{
    assert_true(f->n + 4 <= FILE_MAX);
    f->b[f->n++] = (uint8_t)(v >> 24);
    f->b[f->n++] = (uint8_t)(v >> 16);
    f->b[f->n++] = (uint8_t)(v >> 8);
    f->b[f->n++] = (uint8_t)v;
}

static void put_bytes(idx_bytes *f, const uint8_t *data, size_t n)
{
    if (n == 0)
        return;
    assert_true(f->n + n <= FILE_MAX);
    memcpy(f->b + f->n, data, n);
    f->n += n;
}

/* Header: type code, rank, dims; then `n` data bytes. */
static idx_bytes idx_file(uint8_t type, uint8_t rank, const uint32_t *dims, const uint8_t *data,
                          size_t n)
{
    idx_bytes f = {{0}, 0};
    put_u32(&f, (uint32_t)type << 8 | rank);
    for (int i = 0; i < rank; ++i)
        put_u32(&f, dims[i]);
    put_bytes(&f, data, n);
    return f;
}

static idx_bytes images_file(uint32_t count, uint32_t h, uint32_t w, const uint8_t *px)
{
    uint32_t dims[3] = {count, h, w};
    return idx_file(0x08, 3, dims, px, (size_t)count * h * w);
}

/* A 4-D images file: count x c x h x w, channels first. */
static idx_bytes images4_file(uint32_t count, uint32_t c, uint32_t h, uint32_t w, const uint8_t *px)
{
    uint32_t dims[4] = {count, c, h, w};
    return idx_file(0x08, 4, dims, px, (size_t)count * c * h * w);
}

static idx_bytes labels_file(uint32_t count, const uint8_t *labels)
{
    return idx_file(0x08, 1, &count, labels, count);
}

static void path_in(void **state, const char *name, char *path)
{
    idx_fixture *fx = *state;
    snprintf(path, CIM_TEST_PATH_MAX, "%s/%s", fx->dir, name);
}

static void write_plain(void **state, const char *name, const void *bytes, size_t len, char *path)
{
    path_in(state, name, path);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void write_gz(void **state, const char *name, const void *bytes, size_t len, char *path)
{
    path_in(state, name, path);
    gzFile gz = gzopen(path, "wb");
    assert_non_null(gz);
    if (len)
        assert_int_equal(gzwrite(gz, bytes, (unsigned)len), (int)len);
    assert_int_equal(gzclose(gz), Z_OK);
}

/* A valid pair: 3 images of 2 x 4 pixels and labels {7, 0, 3}. */
static const uint8_t small_pixels[3 * 2 * 4] = {0,   1,   2,   3,  4, 5, 6, 7, 250, 251, 252, 253,
                                                254, 255, 128, 64, 9, 8, 7, 6, 5,   4,   3,   2};
static const uint8_t small_labels[3] = {7, 0, 3};

static void write_small_pair(void **state, int gzip, const char *images_name,
                             const char *labels_name, char *images, char *labels)
{
    idx_bytes im = images_file(3, 2, 4, small_pixels);
    idx_bytes lb = labels_file(3, small_labels);
    (gzip ? write_gz : write_plain)(state, images_name, im.b, im.n, images);
    (gzip ? write_gz : write_plain)(state, labels_name, lb.b, lb.n, labels);
}

static void expect_small(const cim_dataset *d)
{
    assert_int_equal(d->count, 3);
    assert_int_equal(d->height, 2);
    assert_int_equal(d->width, 4);
    assert_int_equal(d->num_classes_seen, 8);
    assert_memory_equal(d->images, small_pixels, sizeof small_pixels);
    assert_memory_equal(d->labels, small_labels, sizeof small_labels);
}

/* ---------------------------------------------------------------------------
 * Checking errors
 */

static int is_zeroed(const cim_dataset *d)
{
    return d->count == 0 && d->height == 0 && d->width == 0 && d->images == NULL &&
           d->labels == NULL && d->num_classes_seen == 0;
}

/* Every substring in the NULL-terminated list `want` must be in msg. */
static void expect_substrings(const char *msg, const char *const *want)
{
    for (; *want; ++want)
        if (!strstr(msg, *want))
            fail_msg("message \"%s\" lacks \"%s\"", msg, *want);
}

static void expect_load_error(const char *images, const char *labels, int code,
                              const char *const *want)
{
    cim_dataset d;
    memset(&d, 0xA5, sizeof d); /* must be zeroed on failure */
    cim_error err = {0};
    int rc = cim_idx_load_dataset(images, labels, &d, &err);
    if (rc != code)
        fail_msg("got %s \"%s\", expected %s", cim_error_name(rc), err.msg, cim_error_name(code));
    assert_int_equal(err.code, code);
    assert_null(strchr(err.msg, '\n'));
    expect_substrings(err.msg, want);
    assert_true(is_zeroed(&d));
}

/* Writes `f` (plain or gzip) as the images file of a pair with valid labels
 * and expects CIM_ERR_INPUT with the path and every substring of `want`. */
static void expect_images_error(void **state, const idx_bytes *f, int gzip, const char *const *want)
{
    char images[CIM_TEST_PATH_MAX], labels[CIM_TEST_PATH_MAX];
    (gzip ? write_gz : write_plain)(state, gzip ? "bad-images.gz" : "bad-images", f->b, f->n,
                                    images);
    idx_bytes lb = labels_file(3, small_labels);
    write_plain(state, "good-labels", lb.b, lb.n, labels);
    const char *with_path[16] = {images};
    size_t n = 1;
    for (; want[n - 1] && n < 15; ++n)
        with_path[n] = want[n - 1];
    with_path[n] = NULL;
    expect_load_error(images, labels, CIM_ERR_INPUT, with_path);
}

/* Same, for a labels file paired with valid images. */
static void expect_labels_error(void **state, const idx_bytes *f, const char *const *want)
{
    char images[CIM_TEST_PATH_MAX], labels[CIM_TEST_PATH_MAX];
    idx_bytes im = images_file(3, 2, 4, small_pixels);
    write_plain(state, "good-images", im.b, im.n, images);
    write_plain(state, "bad-labels", f->b, f->n, labels);
    const char *with_path[16] = {labels};
    size_t n = 1;
    for (; want[n - 1] && n < 15; ++n)
        with_path[n] = want[n - 1];
    with_path[n] = NULL;
    expect_load_error(images, labels, CIM_ERR_INPUT, with_path);
}

/* ---------------------------------------------------------------------------
 * Good files
 */

static void test_plain_pair_loads_exact_contents(void **state)
{
    char images[CIM_TEST_PATH_MAX], labels[CIM_TEST_PATH_MAX];
    write_small_pair(state, 0, "plain-images", "plain-labels", images, labels);
    cim_dataset d;
    cim_error err = {0};
    int rc = cim_idx_load_dataset(images, labels, &d, &err);
    if (rc)
        fail_msg("rejected: %s", err.msg);
    expect_small(&d);
    assert_string_equal(d.images_path, images);
    assert_string_equal(d.labels_path, labels);
    cim_dataset_free(&d);
    assert_true(is_zeroed(&d));
    cim_dataset_free(&d); /* twice is harmless */
}

static void test_gzip_pair_loads_exact_contents(void **state)
{
    char images[CIM_TEST_PATH_MAX], labels[CIM_TEST_PATH_MAX];
    write_small_pair(state, 1, "gz-images.gz", "gz-labels.gz", images, labels);
    cim_dataset d;
    cim_error err = {0};
    int rc = cim_idx_load_dataset(images, labels, &d, &err);
    if (rc)
        fail_msg("rejected: %s", err.msg);
    expect_small(&d);
    cim_dataset_free(&d);
}

static void test_plain_images_with_gzip_labels(void **state)
{
    char images[CIM_TEST_PATH_MAX], labels[CIM_TEST_PATH_MAX];
    idx_bytes im = images_file(3, 2, 4, small_pixels);
    idx_bytes lb = labels_file(3, small_labels);
    write_plain(state, "mixed-images", im.b, im.n, images);
    write_gz(state, "mixed-labels.gz", lb.b, lb.n, labels);
    cim_dataset d;
    cim_error err = {0};
    assert_int_equal(cim_idx_load_dataset(images, labels, &d, &err), 0);
    expect_small(&d);
    cim_dataset_free(&d);
}

/* One image of one pixel: the smallest valid dataset; num_classes_seen is
 * 1 + the largest label, here 256. */
static void test_smallest_dataset_and_label_255(void **state)
{
    char images[CIM_TEST_PATH_MAX], labels[CIM_TEST_PATH_MAX];
    static const uint8_t px[1] = {42}, lab[1] = {255};
    idx_bytes im = images_file(1, 1, 1, px);
    idx_bytes lb = labels_file(1, lab);
    write_plain(state, "one-images", im.b, im.n, images);
    write_plain(state, "one-labels", lb.b, lb.n, labels);
    cim_dataset d;
    cim_error err = {0};
    assert_int_equal(cim_idx_load_dataset(images, labels, &d, &err), 0);
    assert_int_equal(d.count, 1);
    assert_int_equal(d.images[0], 42);
    assert_int_equal(d.num_classes_seen, 256);
    cim_dataset_free(&d);
}

/* zlib reads every member of a multi-member gzip file and, like gunzip,
 * ignores bytes after the last member that do not start another one. */
static void test_gzip_members_and_bytes_after_the_stream(void **state)
{
    char images[CIM_TEST_PATH_MAX], labels[CIM_TEST_PATH_MAX];
    idx_bytes im = images_file(3, 2, 4, small_pixels);
    idx_bytes lb = labels_file(3, small_labels);
    char part[CIM_TEST_PATH_MAX];
    write_gz(state, "member.gz", im.b + 10, im.n - 10, part);
    char *tail = cim_test_read_file(part);
    struct stat st;
    assert_int_equal(stat(part, &st), 0);
    write_gz(state, "members.gz", im.b, 10, images);
    FILE *f = fopen(images, "ab");
    assert_non_null(f);
    assert_int_equal(fwrite(tail, 1, (size_t)st.st_size, f), (size_t)st.st_size);
    assert_int_equal(fclose(f), 0);
    free(tail);
    write_gz(state, "junk-labels.gz", lb.b, lb.n, labels);
    f = fopen(labels, "ab");
    assert_non_null(f);
    assert_int_equal(fputs("junk", f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    cim_dataset d;
    cim_error err = {0};
    int rc = cim_idx_load_dataset(images, labels, &d, &err);
    if (rc)
        fail_msg("rejected: %s", err.msg);
    expect_small(&d);
    cim_dataset_free(&d);
}

/* ---------------------------------------------------------------------------
 * Splits
 */

static void test_split_prefers_gz_then_plain(void **state)
{
    idx_fixture *fx = *state;
    char images[CIM_TEST_PATH_MAX], labels[CIM_TEST_PATH_MAX];
    /* t10k: both files gzip; a stale plain labels file next to the .gz must lose. */
    write_small_pair(state, 1, "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", images,
                     labels);
    write_plain(state, "t10k-labels-idx1-ubyte", "garbage", 7, labels);
    /* train: both plain. */
    write_small_pair(state, 0, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", images,
                     labels);
    cim_dataset d;
    cim_error err = {0};
    int rc = cim_idx_load_split(fx->dir, "t10k", &d, &err);
    if (rc)
        fail_msg("t10k rejected: %s", err.msg);
    expect_small(&d);
    char want[CIM_TEST_PATH_MAX];
    snprintf(want, sizeof want, "%s/t10k-images-idx3-ubyte.gz", fx->dir);
    assert_string_equal(d.images_path, want);
    snprintf(want, sizeof want, "%s/t10k-labels-idx1-ubyte.gz", fx->dir);
    assert_string_equal(d.labels_path, want);
    cim_dataset_free(&d);
    rc = cim_idx_load_split(fx->dir, "train", &d, &err);
    if (rc)
        fail_msg("train rejected: %s", err.msg);
    expect_small(&d);
    snprintf(want, sizeof want, "%s/train-images-idx3-ubyte", fx->dir);
    assert_string_equal(d.images_path, want);
    cim_dataset_free(&d);
}

static void test_split_missing_lists_paths_tried(void **state)
{
    idx_fixture *fx = *state;
    char gz[CIM_TEST_PATH_MAX], plain[CIM_TEST_PATH_MAX];
    snprintf(gz, sizeof gz, "%s/nosuch-images-idx3-ubyte.gz", fx->dir);
    snprintf(plain, sizeof plain, "%s/nosuch-images-idx3-ubyte", fx->dir);
    cim_dataset d;
    cim_error err = {0};
    assert_int_equal(cim_idx_load_split(fx->dir, "nosuch", &d, &err), CIM_ERR_INPUT);
    const char *want[] = {"no images file", "\"nosuch\"", gz, plain, NULL};
    expect_substrings(err.msg, want);
    assert_null(strstr(err.msg, "folder does not exist"));
    assert_true(is_zeroed(&d));

    /* Images present, labels missing: the labels paths are listed. */
    char images[CIM_TEST_PATH_MAX];
    idx_bytes im = images_file(3, 2, 4, small_pixels);
    write_plain(state, "half-images-idx3-ubyte", im.b, im.n, images);
    cim_error err2 = {0};
    assert_int_equal(cim_idx_load_split(fx->dir, "half", &d, &err2), CIM_ERR_INPUT);
    snprintf(gz, sizeof gz, "%s/half-labels-idx1-ubyte.gz", fx->dir);
    snprintf(plain, sizeof plain, "%s/half-labels-idx1-ubyte", fx->dir);
    const char *want2[] = {"no labels file", gz, plain, NULL};
    expect_substrings(err2.msg, want2);

    /* A folder that does not exist says so. */
    char none[CIM_TEST_PATH_MAX];
    snprintf(none, sizeof none, "%s/no-such-folder", fx->dir);
    cim_error err3 = {0};
    assert_int_equal(cim_idx_load_split(none, "t10k", &d, &err3), CIM_ERR_INPUT);
    const char *want3[] = {none, "t10k-images-idx3-ubyte.gz", "folder does not exist", NULL};
    expect_substrings(err3.msg, want3);

    cim_error err4 = {0};
    assert_int_equal(cim_idx_load_split(fx->dir, "", &d, &err4), CIM_ERR_USAGE);
}

/* ---------------------------------------------------------------------------
 * Subsets
 */

static void test_subset_copies_the_range(void **state)
{
    char images[CIM_TEST_PATH_MAX], labels[CIM_TEST_PATH_MAX];
    write_small_pair(state, 0, "sub-images", "sub-labels", images, labels);
    cim_dataset d, s;
    cim_error err = {0};
    assert_int_equal(cim_idx_load_dataset(images, labels, &d, &err), 0);
    assert_int_equal(cim_dataset_subset(&d, 1, 2, &s, &err), 0);
    assert_int_equal(s.count, 2);
    assert_int_equal(s.height, 2);
    assert_int_equal(s.width, 4);
    assert_memory_equal(s.images, small_pixels + 8, 16);
    assert_memory_equal(s.labels, small_labels + 1, 2);
    assert_int_equal(s.num_classes_seen, 4); /* labels {0, 3} */
    assert_string_equal(s.images_path, images);
    cim_dataset_free(&s);
    assert_int_equal(cim_dataset_subset(&d, 0, 3, &s, &err), 0);
    expect_small(&s);
    cim_dataset_free(&s);
    cim_dataset_free(&d);
}

static void test_subset_out_of_range(void **state)
{
    char images[CIM_TEST_PATH_MAX], labels[CIM_TEST_PATH_MAX];
    write_small_pair(state, 0, "range-images", "range-labels", images, labels);
    cim_dataset d;
    cim_error err = {0};
    assert_int_equal(cim_idx_load_dataset(images, labels, &d, &err), 0);
    static const int64_t bad[][3] = {
        /* first, count */
        {0, 4}, {2, 2}, {3, 1}, {-1, 2}, {0, 0}, {0, -5}, {0, INT64_MAX}, {INT64_MAX, 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        cim_dataset s;
        memset(&s, 0xA5, sizeof s);
        cim_error e = {0};
        assert_int_equal(cim_dataset_subset(&d, bad[i][0], bad[i][1], &s, &e), CIM_ERR_INPUT);
        char count[32];
        snprintf(count, sizeof count, "%lld images", (long long)bad[i][1]);
        const char *want[] = {"image count out of range", images, "holds 3", count, NULL};
        expect_substrings(e.msg, want);
        assert_true(is_zeroed(&s));
    }
    cim_dataset_free(&d);
}

/* ---------------------------------------------------------------------------
 * Bad files
 */

static void test_missing_file_names_the_path(void **state)
{
    char images[CIM_TEST_PATH_MAX], labels[CIM_TEST_PATH_MAX], none[CIM_TEST_PATH_MAX];
    write_small_pair(state, 0, "ok-images", "ok-labels", images, labels);
    path_in(state, "absent-file", none);
    const char *want[] = {none, "cannot open the images file", "No such file", NULL};
    expect_load_error(none, labels, CIM_ERR_INPUT, want);
    const char *want2[] = {none, "cannot open the labels file", NULL};
    expect_load_error(images, none, CIM_ERR_INPUT, want2);
}

static void test_folder_instead_of_file(void **state)
{
    idx_fixture *fx = *state;
    char images[CIM_TEST_PATH_MAX], labels[CIM_TEST_PATH_MAX];
    write_small_pair(state, 0, "dir-images", "dir-labels", images, labels);
    const char *want[] = {fx->dir, "images", NULL};
    expect_load_error(fx->dir, labels, CIM_ERR_INPUT, want);
}

static void test_empty_and_text_files(void **state)
{
    idx_bytes empty = {{0}, 0};
    const char *want[] = {"empty file", "0x00000803", NULL};
    expect_images_error(state, &empty, 0, want);
    expect_images_error(state, &empty, 1, want);
    idx_bytes text = {{0}, 0};
    put_bytes(&text, (const uint8_t *)"label,pixel1\n", 13);
    const char *want2[] = {"not an IDX file", "magic number 0x6c616265", "expected 0x00000803",
                           NULL};
    expect_images_error(state, &text, 0, want2);
    expect_images_error(state, &text, 1, want2);
}

static void test_unsupported_element_types(void **state)
{
    static const struct {
        uint8_t type;
        const char *name;
    } types[] = {{0x09, "0x09 (signed byte)"},    {0x0B, "0x0b (16-bit integer)"},
                 {0x0C, "0x0c (32-bit integer)"}, {0x0D, "0x0d (32-bit float)"},
                 {0x0E, "0x0e (64-bit float)"},   {0x42, "0x42 (unknown type)"}};
    uint32_t dims[3] = {3, 2, 4};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; ++i) {
        idx_bytes f = idx_file(types[i].type, 3, dims, small_pixels, sizeof small_pixels);
        const char *want[] = {types[i].name, "not supported", "expected 0x08 (unsigned byte)",
                              NULL};
        expect_images_error(state, &f, 0, want);
    }
}

static void test_wrong_rank(void **state)
{
    /* MNIST's labels magic 0x00000801 given as the images file. */
    idx_bytes lb = labels_file(3, small_labels);
    const char *want[] = {"1 dimension,", "expected 3 or 4 for images", "0x00000803 or 0x00000804",
                          NULL};
    expect_images_error(state, &lb, 0, want);
    /* And the images file given as labels (3-D and 4-D). */
    idx_bytes im = images_file(3, 2, 4, small_pixels);
    const char *want2[] = {"3 dimensions", "expected 1 for labels", "0x00000801", NULL};
    expect_labels_error(state, &im, want2);
    idx_bytes im4 = images4_file(3, 2, 2, 2, small_pixels);
    const char *want2b[] = {"4 dimensions", "expected 1 for labels", NULL};
    expect_labels_error(state, &im4, want2b);
    /* Images of 2 or 5 dimensions. */
    uint32_t dims[5] = {3, 2, 2, 2, 1};
    idx_bytes five = idx_file(0x08, 5, dims, small_pixels, sizeof small_pixels);
    const char *want3[] = {"5 dimensions", "expected 3 or 4 for images", NULL};
    expect_images_error(state, &five, 1, want3);
    idx_bytes two = idx_file(0x08, 2, dims, small_pixels, 6);
    const char *want4[] = {"2 dimensions", "expected 3 or 4", NULL};
    expect_images_error(state, &two, 0, want4);
}

static void test_dimensions_out_of_limits(void **state)
{
    static const struct {
        uint32_t count, h, w;
        const char *what;
    } cases[] = {
        {0, 28, 28, "image count 0 is outside 1..67108864"},
        {3, 0, 4, "height 0 is outside 1..4096"},
        {3, 2, 0, "width 0 is outside 1..4096"},
        {(1u << 26) + 1, 1, 1, "image count 67108865 is outside 1..67108864"},
        {3, 4097, 4, "height 4097 is outside 1..4096"},
        {3, 4, 0xFFFFFFFFu, "width 4294967295 is outside 1..4096"},
        {1u << 26, 4096, 4096,
         "promises 1125899906842624 bytes of images, more than the limit "
         "2147483647"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        /* Header only: a check that read data first would report truncation. */
        uint32_t dims[3] = {cases[i].count, cases[i].h, cases[i].w};
        idx_bytes f = idx_file(0x08, 3, dims, NULL, 0);
        const char *want[] = {cases[i].what, NULL};
        expect_images_error(state, &f, 0, want);
    }
    uint32_t zero = 0;
    idx_bytes lb = idx_file(0x08, 1, &zero, NULL, 0);
    const char *want[] = {"label count 0 is outside 1..67108864", NULL};
    expect_labels_error(state, &lb, want);
}

static void test_truncated_header(void **state)
{
    idx_bytes im = images_file(3, 2, 4, small_pixels);
    idx_bytes cut = im;
    cut.n = 2;
    const char *want[] = {"truncated images header", "expected 4 bytes, found 2", NULL};
    expect_images_error(state, &cut, 0, want);
    cut.n = 9; /* magic + 5 of 12 dimension bytes */
    const char *want2[] = {"truncated images header dimensions", "expected 12 bytes, found 5",
                           NULL};
    expect_images_error(state, &cut, 0, want2);
    expect_images_error(state, &cut, 1, want2);
}

static void test_truncated_data(void **state)
{
    idx_bytes im = images_file(3, 2, 4, small_pixels);
    im.n -= 5; /* 19 of 24 pixels */
    const char *want[] = {"truncated images data", "expected 24 bytes, found 19", NULL};
    expect_images_error(state, &im, 0, want);
    expect_images_error(state, &im, 1, want); /* a complete gzip stream of too few bytes */
    idx_bytes lb = labels_file(3, small_labels);
    lb.n -= 3;
    const char *want2[] = {"truncated labels data", "expected 3 bytes, found 0", NULL};
    expect_labels_error(state, &lb, want2);
}

/* A header that promises 1 GiB followed by 10 bytes: rejected as truncated
 * (the reader grows its buffer only as data arrives). */
static void test_huge_promise_small_file(void **state)
{
    static const uint8_t ten[10] = {0};
    uint32_t dims[3] = {1u << 24, 8, 8};
    idx_bytes f = idx_file(0x08, 3, dims, ten, sizeof ten);
    const char *want[] = {"truncated images data", "expected 1073741824 bytes, found 10", NULL};
    expect_images_error(state, &f, 0, want);
    expect_images_error(state, &f, 1, want);
}

static void test_trailing_garbage(void **state)
{
    idx_bytes im = images_file(3, 2, 4, small_pixels);
    put_bytes(&im, (const uint8_t *)"\n", 1);
    const char *want[] = {"unexpected bytes after the 24 bytes of images",
                          "expected the end of the file", NULL};
    expect_images_error(state, &im, 0, want);
    expect_images_error(state, &im, 1, want);
    idx_bytes lb = labels_file(3, small_labels);
    put_bytes(&lb, small_labels, 3);
    const char *want2[] = {"unexpected bytes after the 3 bytes of labels", NULL};
    expect_labels_error(state, &lb, want2);
}

/* Writes a valid gzip images file, changes byte `at` of it (from the end if
 * negative) to (byte & keep) ^ flip and expects a corrupt-stream message
 * containing `zlib_says`. */
static void expect_corrupt_gzip(void **state, long at, uint8_t keep, uint8_t flip,
                                const char *zlib_says)
{
    char images[CIM_TEST_PATH_MAX], labels[CIM_TEST_PATH_MAX];
    idx_bytes im = images_file(3, 2, 4, small_pixels);
    write_gz(state, "corrupt-images.gz", im.b, im.n, images);
    FILE *f = fopen(images, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, at, at < 0 ? SEEK_END : SEEK_SET), 0);
    int byte = fgetc(f);
    assert_true(byte != EOF);
    int value = (byte & keep) ^ flip;
    assert_int_equal(fseek(f, at, at < 0 ? SEEK_END : SEEK_SET), 0);
    assert_int_equal(fputc(value, f), value);
    assert_int_equal(fclose(f), 0);
    idx_bytes lb = labels_file(3, small_labels);
    write_plain(state, "good-labels", lb.b, lb.n, labels);
    const char *want[] = {images, "corrupt gzip data in the images", zlib_says, NULL};
    expect_load_error(images, labels, CIM_ERR_INPUT, want);
}

static void test_corrupt_gzip_stream(void **state)
{
    /* Byte 10 opens the deflate stream (after gzip's 10-byte header, no
     * name field from gzopen): 0xFF sets BTYPE = 11, a reserved block type. */
    expect_corrupt_gzip(state, 10, 0x00, 0xFF, "invalid block type");
    /* The trailer's last 8 bytes are CRC-32 and length; a wrong CRC. */
    expect_corrupt_gzip(state, -8, 0xFF, 0x01, "incorrect data check");
    /* A wrong uncompressed length (last 4 bytes, little-endian). */
    expect_corrupt_gzip(state, -4, 0xFF, 0x01, "incorrect length check");
}

static void test_count_mismatch_names_both_files(void **state)
{
    char images[CIM_TEST_PATH_MAX], labels[CIM_TEST_PATH_MAX];
    idx_bytes im = images_file(3, 2, 4, small_pixels);
    idx_bytes lb = labels_file(2, small_labels);
    write_plain(state, "three-images", im.b, im.n, images);
    write_gz(state, "two-labels.gz", lb.b, lb.n, labels);
    const char *want[] = {"dataset shape mismatch", images, "3 images", labels, "2 labels", NULL};
    expect_load_error(images, labels, CIM_ERR_INPUT, want);
}

/* cim_dataset_check_input_shape: IDX images are [1, H, W]; a model's
 * input_shape matches only with C = 1 and the same H and W -- the same pixel
 * count in another geometry, or more channels, is a mismatch naming both
 * shapes and both files. */
static void test_input_shape_must_match_the_model(void **state)
{
    static const struct {
        int32_t h, w;           /* of the images */
        int32_t c, mh, mw;      /* the model's input_shape */
        const char *got, *want; /* NULL: a match */
    } cases[] = {
        {28, 28, 1, 28, 28, NULL, NULL},
        {14, 56, 1, 14, 56, NULL, NULL},
        {1, 784, 1, 28, 28, "[1,1,784] (1x784 pixels", "input_shape [1,28,28]"},
        {14, 56, 1, 28, 28, "[1,14,56] (14x56 pixels", "input_shape [1,28,28]"},
        {784, 1, 1, 28, 28, "[1,784,1]", "[1,28,28]"},
        {28, 28, 1, 28, 27, "[1,28,28]", "[1,28,27]"},
        {28, 28, 1, 14, 56, "[1,28,28]", "[1,14,56]"},
        {28, 28, 3, 28, 28, "[1,28,28]", "[3,28,28] (3-D IDX images have one channel"},
    };
    cim_model m;
    memset(&m, 0, sizeof m);
    char model_path[] = "/models/m.h5";
    m.path = model_path;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        cim_dataset d;
        memset(&d, 0, sizeof d);
        snprintf(d.images_path, sizeof d.images_path, "/data/x-images-idx3-ubyte");
        d.count = 1;
        d.channels = 1;
        d.height = cases[i].h;
        d.width = cases[i].w;
        m.input_shape = (cim_shape){3, {cases[i].c, cases[i].mh, cases[i].mw}};
        cim_error err = {0};
        int rc = cim_dataset_check_input_shape(&d, &m, &err);
        if (!cases[i].got) {
            if (rc != 0)
                fail_msg("case %zu: %s", i, err.msg);
            continue;
        }
        if (rc != CIM_ERR_INPUT)
            fail_msg("case %zu: got %s \"%s\", expected CIM_ERR_INPUT", i, cim_error_name(rc),
                     err.msg);
        assert_null(strchr(err.msg, '\n'));
        const char *want[] = {
            "dataset shape mismatch", d.images_path, cases[i].got, model_path, cases[i].want, NULL};
        expect_substrings(err.msg, want);
    }

    /* a 1x784 file as loaded: 784 pixels per image, as many as [1,28,28] */
    uint8_t px[2 * 784];
    for (size_t i = 0; i < sizeof px; ++i)
        px[i] = (uint8_t)i;
    char images[CIM_TEST_PATH_MAX], labels[CIM_TEST_PATH_MAX];
    idx_bytes im = images_file(2, 1, 784, px);
    idx_bytes lb = labels_file(2, small_labels);
    write_plain(state, "flat-images", im.b, im.n, images);
    write_plain(state, "flat-labels", lb.b, lb.n, labels);
    cim_dataset d;
    cim_error err = {0};
    assert_int_equal(cim_idx_load_dataset(images, labels, &d, &err), 0);
    m.input_shape = (cim_shape){3, {1, 28, 28}};
    assert_int_equal(cim_dataset_check_input_shape(&d, &m, &err), CIM_ERR_INPUT);
    const char *want[] = {images, "[1,1,784]", "[1,28,28]", NULL};
    expect_substrings(err.msg, want);
    m.input_shape = (cim_shape){3, {1, 1, 784}};
    assert_int_equal(cim_dataset_check_input_shape(&d, &m, NULL), 0);
    cim_dataset_free(&d);
}

static void test_path_too_long(void **state)
{
    (void)state;
    char *longpath = malloc(CIM_IDX_PATH_MAX + 10);
    assert_non_null(longpath);
    memset(longpath, 'a', CIM_IDX_PATH_MAX + 9);
    longpath[CIM_IDX_PATH_MAX + 9] = '\0';
    const char *want[] = {"path too long", NULL};
    expect_load_error(longpath, "x", CIM_ERR_INPUT, want);
    cim_dataset d;
    cim_error err = {0};
    assert_int_equal(cim_idx_load_split(longpath, "t10k", &d, &err), CIM_ERR_INPUT);
    assert_non_null(strstr(err.msg, "too long"));
    free(longpath);
}

/* ---------------------------------------------------------------------------
 * 4-D images: count x channels x height x width
 */

/* 3 images of 2 channels of 2 x 2 pixels: the same 24 bytes as small_pixels,
 * read as [2,2,2] images. */
static void test_four_dims_load_channels_first(void **state)
{
    idx_fixture *fx = *state;
    char images[CIM_TEST_PATH_MAX], labels[CIM_TEST_PATH_MAX];
    idx_bytes im = images4_file(3, 2, 2, 2, small_pixels);
    idx_bytes lb = labels_file(3, small_labels);
    for (int gzip = 0; gzip <= 1; ++gzip) {
        (gzip ? write_gz : write_plain)(state, gzip ? "c2-images.gz" : "c2-images", im.b, im.n,
                                        images);
        write_plain(state, "c2-labels", lb.b, lb.n, labels);
        cim_dataset d;
        cim_error err = {0};
        if (cim_idx_load_dataset(images, labels, &d, &err) != 0)
            fail_msg("rejected: %s", err.msg);
        assert_int_equal(d.count, 3);
        assert_int_equal(d.channels, 2);
        assert_int_equal(d.height, 2);
        assert_int_equal(d.width, 2);
        assert_int_equal(d.format, CIM_DATASET_IDX);
        assert_memory_equal(d.images, small_pixels, sizeof small_pixels);
        assert_memory_equal(d.labels, small_labels, sizeof small_labels);
        CIM_ASSERT_I64_EQ(cim_dataset_image_bytes(&d), 8);
        /* a subset takes whole images of all their channels */
        cim_dataset s;
        assert_int_equal(cim_dataset_subset(&d, 1, 2, &s, &err), 0);
        assert_int_equal(s.channels, 2);
        assert_memory_equal(s.images, small_pixels + 8, 16);
        cim_dataset_free(&s);
        /* the model must take [2,2,2]; [1,2,4] (as many bytes) is no match */
        cim_model m;
        memset(&m, 0, sizeof m);
        char model_path[] = "/models/c2.h5";
        m.path = model_path;
        m.input_shape = (cim_shape){3, {2, 2, 2}};
        assert_int_equal(cim_dataset_check_input_shape(&d, &m, &err), 0);
        m.input_shape = (cim_shape){3, {1, 2, 4}};
        cim_error e = {0};
        assert_int_equal(cim_dataset_check_input_shape(&d, &m, &e), CIM_ERR_INPUT);
        const char *want[] = {images, "[2,2,2]", "2 channels", "input_shape [1,2,4]", NULL};
        expect_substrings(e.msg, want);
        assert_null(strstr(e.msg, "one channel"));
        cim_dataset_free(&d);
    }

    /* a split of idx4 files; next to an idx3 file of the same split it is
     * ambiguous */
    write_plain(state, "c4-images-idx4-ubyte", im.b, im.n, images);
    write_gz(state, "c4-labels-idx1-ubyte.gz", lb.b, lb.n, labels);
    cim_dataset d;
    cim_error err = {0};
    if (cim_idx_load_split(fx->dir, "c4", &d, &err) != 0)
        fail_msg("rejected: %s", err.msg);
    assert_int_equal(d.channels, 2);
    assert_string_equal(d.images_path, images);
    cim_dataset_free(&d);
    if (cim_dataset_load_split(fx->dir, "c4", &d, &err) != 0)
        fail_msg("rejected: %s", err.msg);
    assert_int_equal(d.channels, 2);
    cim_dataset_free(&d);
    char idx3[CIM_TEST_PATH_MAX];
    idx_bytes im3 = images_file(3, 2, 4, small_pixels);
    write_gz(state, "c4-images-idx3-ubyte.gz", im3.b, im3.n, idx3);
    cim_error e = {0};
    assert_int_equal(cim_idx_load_split(fx->dir, "c4", &d, &e), CIM_ERR_INPUT);
    const char *want[] = {"two images files for split \"c4\"", idx3, images, NULL};
    expect_substrings(e.msg, want);
    assert_true(is_zeroed(&d));
    remove(idx3);

    /* a missing split lists the idx3 and idx4 names */
    cim_error e2 = {0};
    assert_int_equal(cim_idx_load_split(fx->dir, "c5", &d, &e2), CIM_ERR_INPUT);
    const char *want2[] = {"c5-images-idx3-ubyte.gz", "c5-images-idx4-ubyte.gz",
                           "c5-images-idx4-ubyte.gz and", NULL};
    expect_substrings(e2.msg, want2);
}

static void test_four_dims_refused_as_strictly(void **state)
{
    static const struct {
        uint32_t count, c, h, w;
        const char *what;
    } cases[] = {
        {0, 3, 2, 2, "image count 0 is outside 1..67108864"},
        {3, 0, 2, 2, "channels 0 is outside 1..4096"},
        {3, 4097, 2, 2, "channels 4097 is outside 1..4096"},
        {3, 0xFFFFFFFFu, 2, 2, "channels 4294967295 is outside 1..4096"},
        {3, 3, 0, 2, "height 0 is outside 1..4096"},
        {3, 3, 2, 4097, "width 4097 is outside 1..4096"},
        {1u << 26, 4096, 4096, 4096,
         "promises 4611686018427387904 bytes of images, more than the limit 2147483647"},
        {1024, 1024, 1024, 4, "promises 4294967296 bytes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        uint32_t dims[4] = {cases[i].count, cases[i].c, cases[i].h, cases[i].w};
        idx_bytes f = idx_file(0x08, 4, dims, NULL, 0); /* header only */
        const char *want[] = {cases[i].what, NULL};
        expect_images_error(state, &f, 0, want);
    }
    idx_bytes im = images4_file(3, 2, 2, 2, small_pixels);
    idx_bytes cut = im;
    cut.n = 4 + 10; /* magic + 10 of 16 dimension bytes */
    const char *want[] = {"truncated images header dimensions", "expected 16 bytes, found 10",
                          NULL};
    expect_images_error(state, &cut, 0, want);
    expect_images_error(state, &cut, 1, want);
    cut.n = im.n - 1;
    const char *want2[] = {"truncated images data", "expected 24 bytes, found 23", NULL};
    expect_images_error(state, &cut, 0, want2);
    expect_images_error(state, &cut, 1, want2);
    idx_bytes extra = im;
    put_bytes(&extra, small_labels, 1);
    const char *want3[] = {"unexpected bytes after the 24 bytes of images", NULL};
    expect_images_error(state, &extra, 0, want3);
    expect_images_error(state, &extra, 1, want3);
    /* 4-D images with a count the labels do not have */
    char images[CIM_TEST_PATH_MAX], labels[CIM_TEST_PATH_MAX];
    idx_bytes two = images4_file(2, 3, 2, 2, small_pixels);
    idx_bytes lb = labels_file(3, small_labels);
    write_plain(state, "two4-images", two.b, two.n, images);
    write_plain(state, "three-labels", lb.b, lb.n, labels);
    const char *want4[] = {"dataset shape mismatch", "2 images", "3 labels", NULL};
    expect_load_error(images, labels, CIM_ERR_INPUT, want4);
    /* every cut of a 4-D file is refused */
    for (size_t len = 0; len < im.n; ++len) {
        char path[CIM_TEST_PATH_MAX];
        write_plain(state, "cut4-images", im.b, len, path);
        cim_dataset d;
        cim_error err = {0};
        if (cim_idx_load_dataset(path, labels, &d, &err) == 0)
            fail_msg("a 4-D file cut to %zu of %zu bytes was accepted", len, im.n);
    }
}

/* ---------------------------------------------------------------------------
 * Fuzz: truncations and byte flips must give an error or valid data
 */

/* Loads images/labels; on success checks that what came back is consistent
 * (an image count, sizes within limits, buffers present). Returns rc. */
static int load_and_check(const char *images, const char *labels)
{
    cim_dataset d;
    cim_error err = {0};
    int rc = cim_idx_load_dataset(images, labels, &d, &err);
    if (rc) {
        assert_int_equal(rc, CIM_ERR_INPUT);
        assert_true(strlen(err.msg) > 0);
        assert_true(is_zeroed(&d));
        return rc;
    }
    assert_true(d.count >= 1 && d.channels >= 1 && d.height >= 1 && d.width >= 1);
    assert_true(d.channels <= CIM_IDX_MAX_CHANNELS && d.height <= CIM_IDX_MAX_SIDE &&
                d.width <= CIM_IDX_MAX_SIDE);
    assert_non_null(d.images);
    assert_non_null(d.labels);
    /* touch every byte: a short buffer shows up under a sanitizer or valgrind */
    unsigned sum = 0;
    for (int64_t i = 0; i < (int64_t)d.count * d.channels * d.height * d.width; ++i)
        sum += d.images[i];
    for (int32_t i = 0; i < d.count; ++i)
        sum += d.labels[i];
    (void)sum;
    cim_dataset_free(&d);
    return 0;
}

/* 6 images of 5 x 7 pseudo-random pixels. */
static idx_bytes fuzz_images(void)
{
    uint8_t px[6 * 5 * 7];
    cim_test_rng r = cim_test_rng_init(FUZZ_SEED);
    for (size_t i = 0; i < sizeof px; ++i)
        px[i] = (uint8_t)cim_test_rng_int(&r, 0, 255);
    return images_file(6, 5, 7, px);
}

static void test_fuzz_truncated_gzip(void **state)
{
    char full[CIM_TEST_PATH_MAX], cut[CIM_TEST_PATH_MAX], labels[CIM_TEST_PATH_MAX];
    idx_bytes im = fuzz_images();
    static const uint8_t lab[6] = {0, 1, 2, 3, 4, 5};
    idx_bytes lb = labels_file(6, lab);
    write_plain(state, "fuzz-labels", lb.b, lb.n, labels);
    write_gz(state, "fuzz-full.gz", im.b, im.n, full);
    assert_int_equal(load_and_check(full, labels), 0);
    struct stat st;
    assert_int_equal(stat(full, &st), 0);
    uint8_t *bytes = (uint8_t *)cim_test_read_file(full);
    int cases = 0;
    for (off_t len = 0; len < st.st_size; ++len, ++cases) {
        write_plain(state, "fuzz-cut.gz", bytes, (size_t)len, cut);
        if (load_and_check(cut, labels) == 0)
            fail_msg("a gzip file cut to %lld of %lld bytes was accepted", (long long)len,
                     (long long)st.st_size);
    }
    /* and the plain file, cut everywhere */
    for (size_t len = 0; len < im.n; ++len, ++cases) {
        write_plain(state, "fuzz-cut", im.b, len, cut);
        if (load_and_check(cut, labels) == 0)
            fail_msg("a plain file cut to %zu of %zu bytes was accepted", len, im.n);
    }
    print_message("%d truncations rejected\n", cases);
    assert_true(cases > 200);
    free(bytes);
}

static void test_fuzz_byte_flips(void **state)
{
    char path[CIM_TEST_PATH_MAX], labels[CIM_TEST_PATH_MAX];
    idx_bytes im = fuzz_images();
    static const uint8_t lab[6] = {0, 1, 2, 3, 4, 5};
    idx_bytes lb = labels_file(6, lab);
    write_plain(state, "flip-labels", lb.b, lb.n, labels);
    cim_test_rng r = cim_test_rng_init(FUZZ_SEED + 1);
    int accepted = 0;
    /* 1..3 random bytes of the 16-byte header replaced, written plain and gzip. */
    for (int c = 0; c < FUZZ_FLIP_CASES; ++c) {
        idx_bytes f = im;
        int flips = cim_test_rng_int(&r, 1, 3);
        for (int k = 0; k < flips; ++k)
            f.b[cim_test_rng_int(&r, 0, 15)] = (uint8_t)cim_test_rng_int(&r, 0, 255);
        (c % 2 ? write_gz : write_plain)(state, "flip-images", f.b, f.n, path);
        accepted += load_and_check(path, labels) == 0;
    }
    /* random bytes anywhere in a gzip file */
    write_gz(state, "flip-src.gz", im.b, im.n, path);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    uint8_t *gz = (uint8_t *)cim_test_read_file(path);
    uint8_t *copy = malloc((size_t)st.st_size);
    assert_non_null(copy);
    for (int c = 0; c < FUZZ_FLIP_CASES; ++c) {
        memcpy(copy, gz, (size_t)st.st_size);
        copy[cim_test_rng_int(&r, 0, (int32_t)st.st_size - 1)] ^=
            (uint8_t)cim_test_rng_int(&r, 1, 255);
        write_plain(state, "flip-images.gz", copy, (size_t)st.st_size, path);
        accepted += load_and_check(path, labels) == 0;
    }
    print_message("%d of %d flipped files accepted as valid data\n", accepted, 2 * FUZZ_FLIP_CASES);
    free(copy);
    free(gz);
}

/* ---------------------------------------------------------------------------
 * Fashion-MNIST (Debian's dataset-fashion-mnist)
 */

/* A Fashion-MNIST split of `count` 28x28 images, ten classes of count / 10
 * each (both splits are balanced); skips when the dataset is absent. */
static void load_balanced_split(const char *split, int32_t count, cim_dataset *d)
{
    cim_error err = {0};
    if (access(CIM_IDX_DEFAULT_DIR, F_OK) != 0) {
        print_message("%s absent (install dataset-fashion-mnist): skipped\n", CIM_IDX_DEFAULT_DIR);
        skip();
    }
    if (cim_idx_load_split(CIM_IDX_DEFAULT_DIR, split, d, &err) != 0)
        fail_msg("%s rejected: %s", split, err.msg);
    assert_int_equal(d->count, count);
    assert_int_equal(d->height, 28);
    assert_int_equal(d->width, 28);
    assert_int_equal(d->num_classes_seen, 10);
    int per_class[10] = {0};
    for (int32_t i = 0; i < d->count; ++i) {
        assert_true(d->labels[i] < 10);
        per_class[d->labels[i]]++;
    }
    for (int k = 0; k < 10; ++k)
        CIM_ASSERT_I64_EQ(per_class[k], count / 10);
}

static void test_fashion_mnist_t10k(void **state)
{
    cim_dataset d;
    cim_error err = {0};
    (void)state;
    load_balanced_split("t10k", 10000, &d);
    /* Known values, read independently with Python's gzip module:
     *   d = gzip.open('.../t10k-labels-idx1-ubyte.gz').read(); list(d[8:12])
     *   -> [9, 2, 1, 1]  (ankle boot, pullover, trouser, trouser)
     *   i = gzip.open('.../t10k-images-idx3-ubyte.gz').read(); sum(i[16:16+784])
     *   -> 33456  (the first image's pixel sum) */
    assert_int_equal(d.labels[0], 9);
    assert_int_equal(d.labels[1], 2);
    assert_int_equal(d.labels[2], 1);
    assert_int_equal(d.labels[3], 1);
    int64_t sum = 0;
    for (int i = 0; i < 28 * 28; ++i)
        sum += d.images[i];
    CIM_ASSERT_I64_EQ(sum, 33456);
    cim_dataset s;
    assert_int_equal(cim_dataset_subset(&d, 9990, 10, &s, &err), 0);
    assert_int_equal(s.count, 10);
    assert_memory_equal(s.labels, d.labels + 9990, 10);
    cim_dataset_free(&s);
    cim_error e = {0};
    assert_int_equal(cim_dataset_subset(&d, 0, 10001, &s, &e), CIM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "image count out of range"));
    cim_dataset_free(&d);
}

static void test_fashion_mnist_train(void **state)
{
    cim_dataset d;
    (void)state;
    load_balanced_split("train", 60000, &d);
    /* Python's gzip module: list(d[8:12]) of train-labels -> [9, 0, 0, 3] */
    assert_int_equal(d.labels[0], 9);
    assert_int_equal(d.labels[3], 3);
    cim_dataset_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_pair_loads_exact_contents),
        cmocka_unit_test(test_gzip_pair_loads_exact_contents),
        cmocka_unit_test(test_plain_images_with_gzip_labels),
        cmocka_unit_test(test_smallest_dataset_and_label_255),
        cmocka_unit_test(test_gzip_members_and_bytes_after_the_stream),
        cmocka_unit_test(test_split_prefers_gz_then_plain),
        cmocka_unit_test(test_split_missing_lists_paths_tried),
        cmocka_unit_test(test_subset_copies_the_range),
        cmocka_unit_test(test_subset_out_of_range),
        cmocka_unit_test(test_missing_file_names_the_path),
        cmocka_unit_test(test_folder_instead_of_file),
        cmocka_unit_test(test_empty_and_text_files),
        cmocka_unit_test(test_unsupported_element_types),
        cmocka_unit_test(test_wrong_rank),
        cmocka_unit_test(test_dimensions_out_of_limits),
        cmocka_unit_test(test_truncated_header),
        cmocka_unit_test(test_truncated_data),
        cmocka_unit_test(test_huge_promise_small_file),
        cmocka_unit_test(test_trailing_garbage),
        cmocka_unit_test(test_corrupt_gzip_stream),
        cmocka_unit_test(test_count_mismatch_names_both_files),
        cmocka_unit_test(test_input_shape_must_match_the_model),
        cmocka_unit_test(test_path_too_long),
        cmocka_unit_test(test_four_dims_load_channels_first),
        cmocka_unit_test(test_four_dims_refused_as_strictly),
        cmocka_unit_test(test_fuzz_truncated_gzip),
        cmocka_unit_test(test_fuzz_byte_flips),
        cmocka_unit_test(test_fashion_mnist_t10k),
        cmocka_unit_test(test_fashion_mnist_train),
    };
    return cmocka_run_group_tests(tests, make_folder, cim_test_scratch_teardown);
}
