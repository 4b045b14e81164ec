/* test_h5_run.c -- the network Monte-Carlo's results file (h5_run.h), and
 * the life cycle it shares with `mvm --out` (cim_h5file.h):
 * written in uneven batches and read back with the plain HDF5 C API (and with
 * h5py where it is installed), value for value; the partial-file protocol
 * (nothing under the final name before finish, nothing left after a discard
 * or a failure, finished trials kept in the partial file when the process
 * dies); and every misuse the writer refuses.
 */
#include <hdf5.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cim_test_h5.h"
#include "cim_test_util.h"
#include "cim_h5file.h"
#include "h5_mvm.h"
#include "h5_run.h"

#define PYTHON CIM_PYTHON /* Debian's python3, found by CMake */
#define N_LAYERS 3
#define MAX_TRIALS 64
#define MAX_IMAGES 20000

static const char *const layer_names[N_LAYERS] = {"conv2", "dense1", "dense2 \xe2\x86\x92 out"};

/* One run's inputs: metadata, per-trial data for every trial, its summary. */
typedef struct run_data {
    char dir[CIM_TEST_PATH_MAX];
    char path[CIM_TEST_PATH_MAX];
    char partial[CIM_TEST_PATH_MAX + 16];
    cim_provenance prov;
    cim_h5_run_meta meta;
    int64_t correct[MAX_TRIALS];
    double error_rate[MAX_TRIALS * N_LAYERS];
    int16_t *predictions; /* trials x images */
    uint8_t *labels;
    cim_summary summary;
    int64_t digital_correct;
} run_data;

/* Per-trial data drawn from the suite's splitmix64 (seeded per test), error
 * rates as 53-bit fractions so that any change in the stored bits shows. */
static void run_data_init(run_data *d, const char *name, int64_t trials, int64_t images, int trace)
{
    static char *const argv[] = {"cimgpu", "--trials", "13", "--out", "it's here.h5", NULL};
    cim_test_rng rng = cim_test_rng_init((uint64_t)trials * 1000003u + (uint64_t)images);
    cim_error err = {0, ""};
    memset(d, 0, sizeof *d);
    assert_true(trials <= MAX_TRIALS && images <= MAX_IMAGES);
    assert_int_equal(cim_test_make_scratch_dir(d->dir, sizeof d->dir, "h5_run"), 0);
    assert_true(snprintf(d->path, sizeof d->path, "%s/%s", d->dir, name) < (int)sizeof d->path);
    assert_true(snprintf(d->partial, sizeof d->partial, "%s.partial", d->path) <
                (int)sizeof d->partial);
    assert_int_equal(cim_provenance_init(&d->prov, 5, argv, &err), 0);
    snprintf(d->prov.device, sizeof d->prov.device, "Portable Computing Language / cpu (driver 6)");
    d->predictions = malloc(sizeof *d->predictions * (size_t)(trials * images));
    d->labels = malloc((size_t)images);
    assert_non_null(d->predictions);
    assert_non_null(d->labels);
    for (int64_t t = 0; t < trials; ++t) {
        d->correct[t] = cim_test_rng_int(&rng, 0, (int32_t)images);
        for (int l = 0; l < N_LAYERS; ++l)
            d->error_rate[t * N_LAYERS + l] = (double)(cim_test_rng_next(&rng) >> 11) * 0x1p-53;
    }
    for (int64_t i = 0; i < trials * images; ++i)
        d->predictions[i] = (int16_t)cim_test_rng_int(&rng, 0, 9);
    for (int64_t i = 0; i < images; ++i)
        d->labels[i] = (uint8_t)cim_test_rng_int(&rng, 0, 9);
    d->digital_correct = images - 1;
    d->meta = (cim_h5_run_meta){
        .path = d->path,
        .prov = &d->prov,
        .seed = UINT64_C(0xfedcba9876543210),
        .config_json = "{\"m_mode\":\"TNN_I\",\n \"M\":256,\"N\":256}",
        .model_path = "data/models/tnn_cnn.h5",
        .model_sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        .dataset_images = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
        .dataset_labels = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz",
        .mapping = "TNN_I",
        .trials = trials,
        .images = images,
        .first_image = 250,
        .yield_target = 0.8,
        .n_layers = N_LAYERS,
        .layer_names = layer_names,
        .trace = trace,
        .labels = trace ? d->labels : NULL,
    };
    assert_int_equal(cim_summarize(d->correct, trials, images, 0.8, &d->summary, &err), 0);
}

static void run_data_free(run_data *d)
{
    cim_provenance_free(&d->prov);
    free(d->predictions);
    free(d->labels);
    cim_test_remove_tree(d->dir);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Appends trials [first, first + n) of d. */
static int append(cim_h5_run *w, const run_data *d, int64_t first, int64_t n, cim_error *err)
{
    return cim_h5_run_append(w, first, n, d->correct + first, d->error_rate + first * N_LAYERS,
                             d->meta.trace ? d->predictions + first * d->meta.images : NULL, err);
}

/* Creates, appends in the given batch sizes (summing to the trial count),
 * finishes and discards, checking on the way that the final name appears
 * only at the end and that discarding a published file leaves it. */
static void write_run(const run_data *d, const int64_t *batches, int n_batches)
{
    cim_error err = {0, ""};
    cim_h5_run *w = NULL;
    int64_t first = 0;
    assert_int_equal(cim_h5_run_create(&d->meta, &w, &err), 0);
    assert_string_equal(cim_h5_run_partial_path(w), d->partial);
    for (int b = 0; b < n_batches; ++b) {
        if (append(w, d, first, batches[b], &err) != 0)
            fail_msg("append %d: %s", b, err.msg);
        first += batches[b];
        CIM_ASSERT_I64_EQ(cim_h5_run_trials_written(w), first);
        assert_true(exists(d->partial));
        assert_false(exists(d->path));
    }
    if (cim_h5_run_finish(w, &d->summary, d->digital_correct, &err) != 0)
        fail_msg("finish: %s", err.msg);
    assert_true(exists(d->path));
    assert_false(exists(d->partial));
    cim_h5_run_discard(w);
    assert_true(exists(d->path));
}

/* ---- HDF5 readback ---------------------------------------------------- */

/* Reads a scalar attribute as mem_type into out, checking its file type's
 * class and size (e.g. a uint64 seed must not come back as int64). */
static void read_attr(hid_t loc, const char *name, hid_t mem_type, void *out)
{
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT), ftype;
    if (attr < 0)
        fail_msg("attribute %s missing", name);
    ftype = H5Aget_type(attr);
    assert_int_equal(H5Tget_class(ftype), H5Tget_class(mem_type));
    CIM_ASSERT_I64_EQ(H5Tget_size(ftype), H5Tget_size(mem_type));
    if (H5Tget_class(ftype) == H5T_INTEGER)
        assert_int_equal(H5Tget_sign(ftype), H5Tget_sign(mem_type));
    assert_true(H5Aread(attr, mem_type, out) >= 0);
    H5Tclose(ftype);
    H5Aclose(attr);
}

static int64_t attr_i64(hid_t loc, const char *name)
{
    int64_t v = 0;
    read_attr(loc, name, H5T_NATIVE_INT64, &v);
    return v;
}

static int32_t attr_i32(hid_t loc, const char *name)
{
    int32_t v = 0;
    read_attr(loc, name, H5T_NATIVE_INT32, &v);
    return v;
}

/* A whole dataset as mem_type, malloc'd; its rank and dims checked (rank 0:
 * a scalar, d0 and d1 unused). */
static void *read_dataset(hid_t file, const char *name, hid_t mem_type, int rank, hsize_t d0,
                          hsize_t d1)
{
    hsize_t dims[8] = {0};
    int got_rank;
    void *data = cim_test_read_dataset(file, name, mem_type, &got_rank, dims);
    assert_int_equal(got_rank, rank);
    if (rank >= 1)
        CIM_ASSERT_I64_EQ(dims[0], d0);
    if (rank == 2)
        CIM_ASSERT_I64_EQ(dims[1], d1);
    return data;
}

/* Extendible along trials (unlimited), chunked along whole trials; returns
 * how many filters (shuffle, deflate) the dataset has. */
static int assert_per_trial_layout(hid_t file, const char *name)
{
    hid_t dset = H5Dopen2(file, name, H5P_DEFAULT);
    hid_t dcpl = H5Dget_create_plist(dset), space = H5Dget_space(dset);
    hsize_t chunk[2], dims[2], max[2];
    int rank = H5Sget_simple_extent_dims(space, dims, max), filters;
    assert_true(max[0] == H5S_UNLIMITED);
    assert_int_equal(H5Pget_layout(dcpl), H5D_CHUNKED);
    CIM_ASSERT_I64_EQ(H5Pget_chunk(dcpl, 2, chunk), rank);
    assert_true(chunk[0] >= 1);
    if (rank == 2)
        CIM_ASSERT_I64_EQ(chunk[1], dims[1]);
    filters = H5Pget_nfilters(dcpl);
    H5Sclose(space);
    H5Pclose(dcpl);
    H5Dclose(dset);
    return filters;
}

static void assert_scalar_double(hid_t file, const char *name, double expected)
{
    double *v = read_dataset(file, name, H5T_NATIVE_DOUBLE, 0, 1, 0);
    if (memcmp(v, &expected, sizeof expected) != 0)
        fail_msg("%s = %.17g, expected %.17g", name, *v, expected);
    free(v);
}

static void assert_scalar_i64(hid_t file, const char *name, int64_t expected)
{
    int64_t *v = read_dataset(file, name, H5T_NATIVE_INT64, 0, 1, 0);
    CIM_ASSERT_I64_EQ(*v, expected);
    free(v);
}

static void assert_root_attributes(hid_t file, const run_data *d, int complete)
{
    const cim_h5_run_meta *m = &d->meta;
    uint64_t seed = 0;
    double target = 0;
    cim_test_assert_string_attr(file, "format", "cimgpu-run");
    CIM_ASSERT_I64_EQ(attr_i32(file, "format_version"), 1);
    CIM_ASSERT_I64_EQ(attr_i32(file, "complete"), complete);
    cim_test_assert_string_attr(file, "tool_version", CIM_VERSION);
    cim_test_assert_string_attr(file, "git_revision", d->prov.git_revision);
    cim_test_assert_string_attr(file, "command_line",
                                "cimgpu --trials 13 --out 'it'\\''s here.h5'");
    cim_test_assert_string_attr(file, "device", d->prov.device);
    cim_test_assert_string_attr(file, "created", d->prov.created);
    read_attr(file, "seed", H5T_NATIVE_UINT64, &seed);
    assert_true(seed == m->seed);
    cim_test_assert_string_attr(file, "config_json", m->config_json);
    cim_test_assert_string_attr(file, "model_path", m->model_path);
    cim_test_assert_string_attr(file, "model_sha256", m->model_sha256 ? m->model_sha256 : "");
    cim_test_assert_string_attr(file, "dataset_images", m->dataset_images);
    cim_test_assert_string_attr(file, "dataset_labels", m->dataset_labels);
    cim_test_assert_string_attr(file, "mapping", m->mapping);
    CIM_ASSERT_I64_EQ(attr_i64(file, "trials"), m->trials);
    CIM_ASSERT_I64_EQ(attr_i64(file, "images"), m->images);
    CIM_ASSERT_I64_EQ(attr_i64(file, "first_image"), m->first_image);
    read_attr(file, "yield_target", H5T_NATIVE_DOUBLE, &target);
    assert_true(target == m->yield_target);
    CIM_ASSERT_I64_EQ(attr_i32(file, "trace"), m->trace);
}

/* The layer names, an attribute of N_LAYERS variable-length strings. */
static void assert_layer_names(hid_t file)
{
    hid_t dset = H5Dopen2(file, "trials/layer_error_rate", H5P_DEFAULT);
    hid_t attr = H5Aopen(dset, "layers", H5P_DEFAULT), type = H5Tcopy(H5T_C_S1), space;
    char *names[N_LAYERS] = {NULL};
    hsize_t n = 0;
    assert_true(attr >= 0);
    space = H5Aget_space(attr);
    H5Sget_simple_extent_dims(space, &n, NULL);
    CIM_ASSERT_I64_EQ(n, N_LAYERS);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    assert_true(H5Aread(attr, type, names) >= 0);
    for (int l = 0; l < N_LAYERS; ++l) {
        assert_string_equal(names[l], layer_names[l]);
        H5free_memory(names[l]);
    }
    cim_test_assert_string_attr(dset, "definition", CIM_H5_RUN_LAYER_ERROR_DEFINITION);
    cim_test_assert_string_attr(dset, "dims", "trial,layer");
    H5Sclose(space);
    H5Tclose(type);
    H5Aclose(attr);
    H5Dclose(dset);
}

/* The per-trial datasets hold trials 0 .. n-1 of d exactly. */
static void assert_trials(hid_t file, const run_data *d, int64_t n)
{
    int64_t *correct = read_dataset(file, "trials/correct", H5T_NATIVE_INT64, 1, (hsize_t)n, 0);
    double *acc = read_dataset(file, "trials/accuracy", H5T_NATIVE_DOUBLE, 1, (hsize_t)n, 0);
    double *err =
        read_dataset(file, "trials/layer_error_rate", H5T_NATIVE_DOUBLE, 2, (hsize_t)n, N_LAYERS);
    assert_memory_equal(correct, d->correct, sizeof *correct * (size_t)n);
    for (int64_t t = 0; t < n; ++t)
        if (acc[t] != (double)d->correct[t] / (double)d->meta.images)
            fail_msg("accuracy[%lld] = %.17g", (long long)t, acc[t]);
    assert_memory_equal(err, d->error_rate, sizeof *err * (size_t)(n * N_LAYERS));
    free(correct);
    free(acc);
    free(err);
}

static void assert_summary(hid_t file, const run_data *d)
{
    const cim_summary *s = &d->summary;
    assert_scalar_double(file, "summary/mean", s->mean);
    assert_scalar_double(file, "summary/std", s->std);
    assert_scalar_double(file, "summary/ci95_lo", s->ci95_lo);
    assert_scalar_double(file, "summary/ci95_hi", s->ci95_hi);
    assert_scalar_double(file, "summary/min", s->min);
    assert_scalar_double(file, "summary/max", s->max);
    assert_scalar_double(file, "summary/q01", s->q01);
    assert_scalar_double(file, "summary/q05", s->q05);
    assert_scalar_double(file, "summary/q50", s->q50);
    assert_scalar_double(file, "summary/yield", s->yield);
    assert_scalar_double(file, "summary/yield_target", s->yield_target);
    assert_scalar_double(file, "summary/digital_accuracy",
                         (double)d->digital_correct / (double)d->meta.images);
    assert_scalar_i64(file, "summary/digital_correct", d->digital_correct);
    assert_scalar_i64(file, "summary/trials", s->trials);
    assert_scalar_i64(file, "summary/images", s->images);
}

/* ---- tests ------------------------------------------------------------ */

/* 13 trials of 7 images in batches of 5, 1 and 7: every attribute and value
 * comes back exactly; no /trace. */
static void test_round_trip_without_trace(void **state)
{
    static const int64_t batches[] = {5, 1, 7};
    run_data d;
    hid_t file, dset;
    (void)state;
    run_data_init(&d, "run.h5", 13, 7, 0);
    d.meta.model_sha256 = NULL;
    write_run(&d, batches, 3);

    file = H5Fopen(d.path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    assert_root_attributes(file, &d, 1);
    assert_trials(file, &d, 13);
    assert_layer_names(file);
    assert_summary(file, &d);
    assert_int_equal(assert_per_trial_layout(file, "trials/accuracy"), 0);
    assert_int_equal(assert_per_trial_layout(file, "trials/correct"), 0);
    assert_int_equal(assert_per_trial_layout(file, "trials/layer_error_rate"), 0);
    dset = H5Dopen2(file, "trials/accuracy", H5P_DEFAULT);
    cim_test_assert_string_attr(dset, "dims", "trial");
    cim_test_assert_string_attr(dset, "definition", "correct / images");
    H5Dclose(dset);
    dset = H5Dopen2(file, "summary/q05", H5P_DEFAULT);
    cim_test_assert_string_attr(
        dset, "description",
        "5 % quantile of /trials/accuracy (linear interpolation, numpy's default)");
    H5Dclose(dset);
    assert_int_equal(H5Lexists(file, "trace", H5P_DEFAULT), 0);
    H5Fclose(file);
    run_data_free(&d);
}

/* With trace: predictions trial by trial, the labels and first_image; 4
 * trials of 20000 images (160 KB) are large enough to be deflated. */
static void test_round_trip_with_trace(void **state)
{
    static const int64_t batches[] = {1, 2, 1};
    const int64_t T = 4, K = MAX_IMAGES;
    run_data d;
    hid_t file, group;
    int16_t *pred, *labels;
    (void)state;
    run_data_init(&d, "trace.h5", T, K, 1);
    write_run(&d, batches, 3);

    file = H5Fopen(d.path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    assert_root_attributes(file, &d, 1);
    assert_trials(file, &d, T);
    assert_summary(file, &d);
    pred = read_dataset(file, "trace/predictions", H5T_NATIVE_INT16, 2, (hsize_t)T, (hsize_t)K);
    assert_memory_equal(pred, d.predictions, sizeof *pred * (size_t)(T * K));
    assert_true(assert_per_trial_layout(file, "trace/predictions") >= 1);
    labels = read_dataset(file, "trace/labels", H5T_NATIVE_INT16, 1, (hsize_t)K, 0);
    for (int64_t i = 0; i < K; ++i)
        CIM_ASSERT_I64_EQ(labels[i], d.labels[i]);
    group = H5Gopen2(file, "trace", H5P_DEFAULT);
    CIM_ASSERT_I64_EQ(attr_i64(group, "first_image"), 250);
    H5Gclose(group);
    H5Fclose(file);
    free(pred);
    free(labels);
    run_data_free(&d);
}

/* Batches must continue exactly where the file ends; a refused batch leaves
 * the file as it was, so the right one can follow. */
static void test_out_of_order_append_rejected(void **state)
{
    run_data d;
    cim_error err = {0, ""};
    cim_h5_run *w = NULL;
    (void)state;
    run_data_init(&d, "order.h5", 10, 9, 0);
    assert_int_equal(cim_h5_run_create(&d.meta, &w, &err), 0);
    assert_int_equal(append(w, &d, 1, 2, &err), CIM_ERR_USAGE); /* gap */
    assert_non_null(strstr(err.msg, d.path));
    assert_non_null(strstr(err.msg, "out of order"));
    assert_int_equal(append(w, &d, 0, 4, &err), 0);
    cim_error_clear(&err);
    assert_int_equal(append(w, &d, 2, 2, &err), CIM_ERR_USAGE); /* overlap */
    cim_error_clear(&err);
    assert_int_equal(append(w, &d, 5, 1, &err), CIM_ERR_USAGE); /* gap */
    cim_error_clear(&err);
    assert_int_equal(append(w, &d, 4, 7, &err), CIM_ERR_USAGE); /* past the 10 trials */
    cim_error_clear(&err);
    assert_int_equal(append(w, &d, 4, 0, &err), CIM_ERR_USAGE); /* empty */
    cim_error_clear(&err);
    d.correct[5] = 10; /* of 9 images */
    assert_int_equal(append(w, &d, 4, 3, &err), CIM_ERR_USAGE);
    assert_non_null(strstr(err.msg, "trial 5 has 10 correct of 9 images"));
    cim_error_clear(&err);
    d.correct[5] = 9;
    assert_int_equal(append(w, &d, 4, 6, &err), 0);
    CIM_ASSERT_I64_EQ(cim_h5_run_trials_written(w), 10);
    assert_int_equal(H5Fis_hdf5(d.partial), 1);
    cim_h5_run_discard(w);
    assert_false(exists(d.partial));
    run_data_free(&d);
}

/* finish refuses a file short of trials or a summary of other data, writing
 * nothing; the discard that follows removes the partial file. */
static void test_finish_checks_trials_and_summary(void **state)
{
    run_data d;
    cim_error err = {0, ""};
    cim_h5_run *w = NULL;
    cim_summary wrong;
    (void)state;
    run_data_init(&d, "finish.h5", 6, 5, 0);
    assert_int_equal(cim_h5_run_create(&d.meta, &w, &err), 0);
    assert_int_equal(append(w, &d, 0, 5, &err), 0);
    assert_int_equal(cim_h5_run_finish(w, &d.summary, 1, &err), CIM_ERR_USAGE);
    assert_non_null(strstr(err.msg, "5 of 6 trials written"));
    assert_true(exists(d.partial));
    assert_false(exists(d.path));
    cim_h5_run_discard(w);
    assert_false(exists(d.partial));

    const struct {
        int64_t trials, images;
        double target;
        int64_t digital;
    } cases[] = {{5, 5, 0.8, 1}, {6, 4, 0.8, 1}, {6, 5, 0.9, 1}, {6, 5, 0.8, 6}, {6, 5, 0.8, -1}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; ++c) {
        cim_error_clear(&err);
        assert_int_equal(cim_h5_run_create(&d.meta, &w, &err), 0);
        assert_int_equal(append(w, &d, 0, 6, &err), 0);
        wrong = d.summary;
        wrong.trials = cases[c].trials;
        wrong.images = cases[c].images;
        wrong.yield_target = cases[c].target;
        assert_int_equal(cim_h5_run_finish(w, &wrong, cases[c].digital, &err), CIM_ERR_USAGE);
        assert_non_null(strstr(err.msg, d.path));
        assert_false(exists(d.path));
        cim_h5_run_discard(w);
        assert_false(exists(d.partial));
        assert_false(exists(d.path));
    }
    run_data_free(&d);
}

/* Appending or finishing after finish is a programming error, the same code
 * from both writers (one life cycle), and leaves the published file alone. */
static void test_use_after_finish_is_usage_error(void **state)
{
    static const int8_t weights[2 * 3] = {1, -1, 0, 1, 1, -1}, inputs[3] = {1, 0, -1};
    static const int32_t results[2] = {3, -2};
    run_data d;
    cim_error err = {0, ""};
    cim_h5_run *w = NULL;
    cim_h5_mvm *h = NULL;
    char mvm_path[CIM_TEST_PATH_MAX + 16];
    (void)state;
    run_data_init(&d, "twice.h5", 2, 3, 0);
    assert_int_equal(cim_h5_run_create(&d.meta, &w, &err), 0);
    assert_int_equal(append(w, &d, 0, 2, &err), 0);
    assert_int_equal(cim_h5_run_finish(w, &d.summary, 1, &err), 0);
    assert_int_equal(append(w, &d, 2, 1, &err), CIM_ERR_USAGE);
    assert_non_null(strstr(err.msg, "after the file was finished"));
    cim_error_clear(&err);
    assert_int_equal(cim_h5_run_finish(w, &d.summary, 1, &err), CIM_ERR_USAGE);
    cim_h5_run_discard(w);
    assert_int_equal(H5Fis_hdf5(d.path), 1);

    snprintf(mvm_path, sizeof mvm_path, "%s/twice_mvm.h5", d.dir);
    {
        const cim_h5_mvm_spec spec = {.path = mvm_path,
                                      .prov = &d.prov,
                                      .seed = 7,
                                      .config_json = "{}",
                                      .mapping = "TNN_I",
                                      .weights = weights,
                                      .rows = 2,
                                      .cols = 3,
                                      .inputs = inputs,
                                      .n_inputs = 1,
                                      .n_trials = 1};
        cim_error_clear(&err);
        assert_int_equal(cim_h5_mvm_create(&spec, &h, &err), 0);
    }
    assert_int_equal(cim_h5_mvm_finish(h, &err), CIM_ERR_USAGE); /* no trial yet */
    cim_error_clear(&err);
    assert_int_equal(cim_h5_mvm_write(h, 1, 1, results, NULL, &err), CIM_ERR_USAGE);
    assert_non_null(strstr(err.msg, "out of order"));
    cim_error_clear(&err);
    assert_int_equal(cim_h5_mvm_write(h, 0, 1, results, NULL, &err), 0);
    assert_int_equal(cim_h5_mvm_finish(h, &err), 0);
    assert_int_equal(cim_h5_mvm_write(h, 1, 1, results, NULL, &err), CIM_ERR_USAGE);
    assert_non_null(strstr(err.msg, "after the file was finished"));
    cim_error_clear(&err);
    assert_int_equal(cim_h5_mvm_finish(h, &err), CIM_ERR_USAGE);
    cim_h5_mvm_discard(h);
    assert_int_equal(H5Fis_hdf5(mvm_path), 1);
    run_data_free(&d);
}

/* An HDF5 failure is CIM_ERR_IO naming R.h5 and the object; the handle is
 * broken from then on (append and finish refuse with CIM_ERR_IO), and
 * discard removes the partial file. */
static void test_hdf5_failure_breaks_the_handle(void **state)
{
    static const int64_t values[2] = {4, 5};
    const int32_t again = 2;
    const cim_h5_value duplicate = {"format", CIM_H5_INT32, &again, 0, NULL};
    run_data d;
    cim_error err = {0, ""};
    cim_h5file *f = NULL;
    int slot = -1;
    hsize_t dims[1] = {2};
    (void)state;
    run_data_init(&d, "broken.h5", 2, 3, 0);
    {
        const cim_h5file_spec spec = {.path = d.path,
                                      .format = "cimgpu-test",
                                      .format_version = 1,
                                      .flags = CIM_H5FILE_MARKS_COMPLETE,
                                      .prov = &d.prov,
                                      .trials = 2};
        assert_int_equal(cim_h5file_create(&spec, &f, &err), 0);
    }
    assert_int_equal(cim_h5file_trial_dataset(f, cim_h5file_root(f), "values", H5T_STD_I64LE, 1,
                                              dims, CIM_H5_EXTENDIBLE, NULL, 0, &slot, &err),
                     0);
    assert_int_equal(cim_h5file_attrs(f, cim_h5file_root(f), &duplicate, 1, &err), CIM_ERR_IO);
    assert_non_null(strstr(err.msg, d.path));
    assert_non_null(strstr(err.msg, "write the root attribute \"format\""));
    cim_error_clear(&err);
    assert_int_equal(cim_h5file_check_append(f, 0, 2, &err), CIM_ERR_IO);
    cim_error_clear(&err);
    assert_int_equal(cim_h5file_append(f, slot, 2, H5T_NATIVE_INT64, values, &err), CIM_ERR_IO);
    cim_error_clear(&err);
    assert_int_equal(cim_h5file_finish(f, &err), CIM_ERR_IO);
    assert_non_null(strstr(err.msg, "an earlier write failed"));
    assert_true(exists(d.partial));
    cim_h5file_discard(f);
    assert_false(exists(d.partial));
    assert_false(exists(d.path));
    run_data_free(&d);
}

/* discard removes the partial file and never the file at path. */
static void test_discard_leaves_no_file(void **state)
{
    static const char old[] = "an older results file\n";
    run_data d;
    cim_error err = {0, ""};
    cim_h5_run *w = NULL;
    FILE *f;
    char *kept;
    (void)state;
    run_data_init(&d, "discard.h5", 4, 3, 1);
    assert_int_equal(cim_h5_run_create(&d.meta, &w, &err), 0);
    assert_int_equal(append(w, &d, 0, 2, &err), 0);
    cim_h5_run_discard(w);
    assert_false(exists(d.path));
    assert_false(exists(d.partial));
    cim_h5_run_discard(NULL);

    f = fopen(d.path, "w");
    assert_non_null(f);
    fputs(old, f);
    fclose(f);
    assert_int_equal(cim_h5_run_create(&d.meta, &w, &err), 0);
    assert_int_equal(append(w, &d, 0, 4, &err), 0);
    cim_h5_run_discard(w);
    assert_false(exists(d.partial));
    kept = cim_test_read_file(d.path);
    assert_string_equal(kept, old);
    free(kept);
    run_data_free(&d);
}

/* A process that dies between appends leaves the partial file with every
 * trial it appended, marked incomplete, and nothing under the final name. */
static void test_crash_keeps_finished_trials_in_partial(void **state)
{
    run_data d;
    pid_t child;
    int status = 0;
    hid_t file;
    (void)state;
    run_data_init(&d, "crash.h5", 20, 11, 1);
    fflush(NULL);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        cim_error err = {0, ""};
        cim_h5_run *w = NULL;
        if (cim_h5_run_create(&d.meta, &w, &err) != 0 || append(w, &d, 0, 3, &err) != 0 ||
            append(w, &d, 3, 5, &err) != 0)
            _exit(1);
        _exit(0); /* no finish, no discard, no HDF5 close */
    }
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_false(exists(d.path));
    file = H5Fopen(d.partial, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    assert_root_attributes(file, &d, 0);
    assert_trials(file, &d, 8);
    assert_int_equal(H5Lexists(file, "summary", H5P_DEFAULT), 0);
    {
        int16_t *pred = read_dataset(file, "trace/predictions", H5T_NATIVE_INT16, 2, 8, 11);
        assert_memory_equal(pred, d.predictions, sizeof *pred * 8 * 11);
        free(pred);
    }
    H5Fclose(file);
    run_data_free(&d);
}

static void test_missing_directory_is_io_error(void **state)
{
    run_data d;
    cim_error err = {0, ""};
    cim_h5_run *w = (cim_h5_run *)&d; /* must come back NULL */
    (void)state;
    run_data_init(&d, "no_such_dir/R.h5", 2, 2, 0);
    assert_int_equal(cim_h5_run_create(&d.meta, &w, &err), CIM_ERR_IO);
    assert_null(w);
    assert_non_null(strstr(err.msg, d.path));
    assert_non_null(strstr(err.msg, "No such file or directory"));
    run_data_free(&d);
}

/* Metadata the file could not describe is refused before anything is made. */
static void test_bad_meta_rejected(void **state)
{
    run_data d;
    cim_error err = {0, ""};
    cim_h5_run *w = NULL;
    const char *const missing_name[N_LAYERS] = {"a", NULL, "c"};
    cim_h5_run_meta m;
    (void)state;
    run_data_init(&d, "meta.h5", 3, 3, 1);
    for (int c = 0; c < 6; ++c) {
        m = d.meta;
        switch (c) {
        case 0:
            m.trials = 0;
            break;
        case 1:
            m.images = 0;
            break;
        case 2:
            m.first_image = -1;
            break;
        case 3:
            m.n_layers = 0;
            break;
        case 4:
            m.layer_names = missing_name;
            break;
        case 5:
            m.labels = NULL;
            break;
        }
        cim_error_clear(&err);
        assert_int_equal(cim_h5_run_create(&m, &w, &err), CIM_ERR_USAGE);
        assert_null(w);
        assert_non_null(strstr(err.msg, d.path));
        assert_false(exists(d.partial));
    }
    run_data_free(&d);
}

/* h5py, where installed, reads the file without our code: the README's
 * example (its h5py part; the plot too when matplotlib is there) and the
 * summary values against ours. */
static const char h5py_script[] =
    "import sys\n"
    "path = sys.argv[1]\n"
    "# --- the README example (README: \"results.h5\" for path) ---\n"
    "import h5py\n"
    "import numpy as np\n"
    "\n"
    "with h5py.File(path, \"r\") as f:\n"
    "    if f.attrs[\"complete\"] != 1:\n"
    "        raise SystemExit(path + \" is an unfinished run\")\n"
    "    images = f.attrs[\"images\"]\n"
    "    acc = f[\"trials/accuracy\"][:]                            # one value per simulated "
    "chip\n"
    "    correct = f[\"trials/correct\"][:]                         # acc * images, as integers\n"
    "    summary = {k: v[()] for k, v in f[\"summary\"].items()}    # mean, std, ci95_lo, q05, "
    "yield, ...\n"
    "    layers = list(f[\"trials/layer_error_rate\"].attrs[\"layers\"])\n"
    "    layer_err = f[\"trials/layer_error_rate\"][:]              # trials x layers\n"
    "\n"
    "print(f\"{len(acc)} chips: mean accuracy {summary['mean']:.4f} \"\n"
    "      f\"(95% CI {summary['ci95_lo']:.4f}..{summary['ci95_hi']:.4f}), \"\n"
    "      f\"yield {summary['yield']:.3f} at >= {summary['yield_target']:.2f}, \"\n"
    "      f\"digital {summary['digital_accuracy']:.4f}\")\n"
    "for name, rate in zip(layers, layer_err.mean(axis=0)):\n"
    "    print(f\"  {name}: {rate:.2e} of outputs off the exact W x\")\n"
    "\n"
    "# Accuracies are multiples of 1/images: bins of a whole number of images avoid empty/double "
    "bins.\n"
    "step = max(1, (correct.max() - correct.min()) // 50)\n"
    "edges = (np.arange(correct.min(), correct.max() + step + 1, step) - 0.5) / images\n"
    "try:\n"
    "    import matplotlib\n"
    "    matplotlib.use('Agg')\n"
    "    import matplotlib.pyplot as plt\n"
    "    plt.hist(acc, bins=edges)\n"
    "    plt.axvline(summary[\"digital_accuracy\"], color=\"k\", ls=\"--\", label=\"digital "
    "(noise-free)\")\n"
    "    plt.axvline(summary[\"yield_target\"], color=\"r\", ls=\":\", label=\"yield target\")\n"
    "    plt.xlabel(\"accuracy per chip\"); plt.ylabel(\"chips\"); plt.legend()\n"
    "    plt.savefig(path + \".png\", dpi=150)\n"
    "except ImportError:\n"
    "    print('matplotlib not installed: no plot')\n"
    "# --- checks against the C side ---\n"
    "with h5py.File(path, 'r') as f:\n"
    "    assert f.attrs['format'] == 'cimgpu-run'\n"
    "    assert int(f.attrs['seed']) == 0xfedcba9876543210\n"
    "    assert f['trace/predictions'].shape == (len(acc), images)\n"
    "assert np.array_equal(acc, correct / images)\n"
    "assert layers[2] == 'dense2 \\u2192 out', layers\n"
    "expected = [float(x) for x in sys.argv[2:]]\n"
    "got = [summary[k] for k in ('mean', 'std', 'q05', 'yield', 'digital_accuracy')]\n"
    "assert got == expected, (got, expected)\n"
    "assert summary['trials'] == len(acc) and isinstance(summary['mean'], np.floating)\n"
    "print('h5py: ok')\n";

static void test_h5py_reads_file(void **state)
{
    static const int64_t batches[] = {17, 23};
    run_data d;
    char script[CIM_TEST_PATH_MAX + 16], cmd[4 * CIM_TEST_PATH_MAX];
    FILE *f;
    int rc;
    (void)state;
    if (access(PYTHON, X_OK) != 0 || system(PYTHON " -c 'import h5py, numpy' 2>/dev/null") != 0)
        skip();
    run_data_init(&d, "results.h5", 40, 100, 1);
    write_run(&d, batches, 2);
    snprintf(script, sizeof script, "%s/read.py", d.dir);
    f = fopen(script, "w");
    assert_non_null(f);
    fputs(h5py_script, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, PYTHON " '%s' '%s' %.17g %.17g %.17g %.17g %.17g", script, d.path,
             d.summary.mean, d.summary.std, d.summary.q05, d.summary.yield,
             (double)d.digital_correct / (double)d.meta.images);
    rc = system(cmd);
    assert_true(WIFEXITED(rc));
    assert_int_equal(WEXITSTATUS(rc), 0);
    run_data_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_without_trace),
        cmocka_unit_test(test_round_trip_with_trace),
        cmocka_unit_test(test_out_of_order_append_rejected),
        cmocka_unit_test(test_finish_checks_trials_and_summary),
        cmocka_unit_test(test_use_after_finish_is_usage_error),
        cmocka_unit_test(test_hdf5_failure_breaks_the_handle),
        cmocka_unit_test(test_discard_leaves_no_file),
        cmocka_unit_test(test_crash_keeps_finished_trials_in_partial),
        cmocka_unit_test(test_missing_directory_is_io_error),
        cmocka_unit_test(test_bad_meta_rejected),
        cmocka_unit_test(test_h5py_reads_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
