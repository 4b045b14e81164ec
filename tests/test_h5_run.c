/* test_h5_run.c -- the network Monte-Carlo's results file (h5_run.h), and
 * the life cycle it shares with `mvm --out` (cim_h5file.h) on a claimed
 * output (cim_outfile.h):
 * written in uneven batches and read back with the plain HDF5 C API (and with
 * h5py where it is installed), value for value; the file-name protocol (the
 * new file under a temporary name until start, R.h5.partial from start to
 * finish, nothing under R.h5 before finish; discard touches no name, and
 * nothing is left after discard + cim_outfile_release(out, 0); an existing
 * R.h5 refused by the claim without --force, replaced with it); the root
 * dataset trials_written, seen by an SWMR reader in another process after
 * every append; the /summary placeholders (NaN, -1) until finish; a process
 * that dies between appends leaves an R.h5.partial that opens as an SWMR
 * reader with its committed trials, and cim_h5_run_read_partial() gives them
 * back to resume only to the same run; and every misuse the writers refuse
 * (finish before start among them).
 */
#include <dirent.h>
#include <hdf5.h>
#include <math.h>
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
#include "cim_outfile.h"
#include "h5_mvm.h"
#include "h5_run.h"

#define PYTHON CIM_PYTHON /* Debian's python3, found by CMake */
#define N_LAYERS 3
#define MAX_TRIALS 64
#define MAX_IMAGES 20000

static const char *const layer_names[N_LAYERS] = {"conv2", "dense1", "dense2 \xe2\x86\x92 out"};
/* The C2C models and bounds per layer (a NaN where no bound was computed). */
static const char *const c2c_used[N_LAYERS] = {"column", "cell", "column"};
static const double c2c_p[N_LAYERS] = {0.104181, 3.5, 1e-300};
static const double c2c_e[N_LAYERS] = {36.612, 700.25, 0x1p-60};

/* One run's inputs: metadata, per-trial data for every trial, its summary;
 * out is the claim meta.out points to (claim() makes it). */
typedef struct run_data {
    char dir[CIM_TEST_PATH_MAX];
    char path[CIM_TEST_PATH_MAX];
    char partial[CIM_TEST_PATH_MAX + 16];
    cim_provenance prov;
    cim_outfile out;
    cim_h5_run_meta meta;
    int64_t correct[MAX_TRIALS];
    int64_t top5[MAX_TRIALS]; /* correct[t] .. images */
    double error_rate[MAX_TRIALS * N_LAYERS];
    int16_t *predictions; /* trials x images */
    uint8_t *labels;
    cim_summary summary, summary5;
    int64_t digital_correct, digital_top5;
} run_data;

/* Per-trial data drawn from the suite's splitmix64 (seeded per test), error
 * rates as 53-bit fractions so that any change in the stored bits shows. */
static void run_data_init(run_data *d, const char *name, int64_t trials, int64_t images, int trace)
{
    static char *const argv[] = {"cimgpu", "--trials", "13", "--out", "it's here.h5", NULL};
    cim_test_rng rng = cim_test_rng_init((uint64_t)trials * 1000003u + (uint64_t)images);
    cim_error err = {0, ""};
    memset(d, 0, sizeof *d);
    d->out.new_fd = d->out.old_fd = -1;
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
        d->top5[t] = cim_test_rng_int(&rng, (int32_t)d->correct[t], (int32_t)images);
        for (int l = 0; l < N_LAYERS; ++l)
            d->error_rate[t * N_LAYERS + l] = (double)(cim_test_rng_next(&rng) >> 11) * 0x1p-53;
    }
    for (int64_t i = 0; i < trials * images; ++i)
        d->predictions[i] = (int16_t)cim_test_rng_int(&rng, 0, 9);
    for (int64_t i = 0; i < images; ++i)
        d->labels[i] = (uint8_t)cim_test_rng_int(&rng, 0, 9);
    d->digital_correct = images - 1;
    d->digital_top5 = images;
    d->meta = (cim_h5_run_meta){
        .out = &d->out,
        .prov = &d->prov,
        .seed = UINT64_C(0xfedcba9876543210),
        .config_json = "{\"m_mode\":\"TNN_I\",\n \"M\":256,\"N\":256}",
        .model_path = "data/models/tnn_cnn.h5",
        .model_sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        .dataset_images = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
        .dataset_labels = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz",
        .dataset_images_sha256 = "8d4fb7e6c68d591d4c3dfef9ec88bf0d5d2a0ebc0e82bd46ba3bcb19ee7e5a3f",
        .dataset_labels_sha256 = "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        .mapping = "TNN_I",
        .first_layer = "host",
        .trials = trials,
        .trial_offset = 1000,
        .images = images,
        .first_image = 250,
        .yield_target = 0.8,
        .n_layers = N_LAYERS,
        .layer_names = layer_names,
        .trace = trace,
        .labels = trace ? d->labels : NULL,
        .c2c_model = "column",
        .c2c_model_used = c2c_used,
        .c2c_bound_p_differs = c2c_p,
        .c2c_bound_mean_abs_diff_na = c2c_e,
    };
    assert_int_equal(cim_summarize(d->correct, trials, images, 0.8, &d->summary, &err), 0);
    assert_int_equal(cim_summarize(d->top5, trials, images, 0.8, &d->summary5, &err), 0);
}

static void run_data_free(run_data *d)
{
    cim_outfile_release(&d->out, 0);
    cim_provenance_free(&d->prov);
    free(d->predictions);
    free(d->labels);
    cim_test_remove_tree(d->dir);
}

/* Claims d->path into d->out (which d->meta.out names). */
static void claim(run_data *d, int force, int resume)
{
    const cim_outfile_spec spec = {.path = d->path, .force = force, .resume = resume};
    cim_error err = {0, ""};
    if (cim_outfile_claim(&spec, &d->out, &err) != 0)
        fail_msg("claim %s: %s", d->path, err.msg);
}

/* Appends trials [first, first + n) of d. */
static int append(cim_h5_run *w, const run_data *d, int64_t first, int64_t n, cim_error *err)
{
    return cim_h5_run_append(w, first, n, d->correct + first, d->top5 + first,
                             d->error_rate + first * N_LAYERS,
                             d->meta.trace ? d->predictions + first * d->meta.images : NULL, err);
}

/* Finishes with top-1 summary s and digital count `digital` (d's own, or
 * wrong ones a test passes), the top-5 figures d's (or `digital` again,
 * when that is not d's). */
static int finish(cim_h5_run *w, const run_data *d, const cim_summary *s, int64_t digital,
                  cim_error *err)
{
    const cim_h5_run_totals t = {s, &d->summary5, digital,
                                 digital == d->digital_correct ? d->digital_top5 : digital};
    return cim_h5_run_finish(w, &t, err);
}

/* The claimed new file's temporary name while unpublished: R.h5.partial.XXXXXX. */
static void assert_temporary_name(const run_data *d, char *name, size_t size)
{
    const char *n = cim_outfile_new_name(&d->out);
    const size_t len = strlen(d->partial);
    assert_true(strlen(n) == len + 7 && strncmp(n, d->partial, len) == 0 && n[len] == '.');
    assert_true(strlen(n) < size);
    strcpy(name, n);
    assert_true(cim_test_exists(name));
}

/* Claims, creates, appends in the given batch sizes (summing to the trial
 * count), finishes, discards and releases, checking on the way the names:
 * only the temporary one before start, R.h5.partial from start on, R.h5
 * only at the end, which discard and release leave. */
static void write_run(run_data *d, const int64_t *batches, int n_batches)
{
    cim_error err = {0, ""};
    cim_h5_run *w = NULL;
    char temporary[CIM_TEST_PATH_MAX + 32];
    int64_t first = 0;
    claim(d, 0, 0);
    assert_int_equal(cim_test_count_entries(d->dir), 0);
    if (cim_h5_run_create(&d->meta, &w, &err) != 0)
        fail_msg("create: %s", err.msg);
    assert_string_equal(cim_h5_run_partial_path(w), d->partial);
    assert_temporary_name(d, temporary, sizeof temporary);
    assert_false(cim_test_exists(d->partial));
    assert_int_equal(cim_test_count_entries(d->dir), 1);
    assert_int_equal(cim_h5_run_start(w, &err), 0);
    assert_true(cim_test_exists(d->partial));
    assert_false(cim_test_exists(temporary));
    CIM_ASSERT_I64_EQ(cim_h5_run_trials_written(w), 0);
    for (int b = 0; b < n_batches; ++b) {
        if (append(w, d, first, batches[b], &err) != 0)
            fail_msg("append %d: %s", b, err.msg);
        first += batches[b];
        CIM_ASSERT_I64_EQ(cim_h5_run_trials_written(w), first);
        assert_true(cim_test_exists(d->partial));
        assert_false(cim_test_exists(d->path));
    }
    if (finish(w, d, &d->summary, d->digital_correct, &err) != 0)
        fail_msg("finish: %s", err.msg);
    assert_true(cim_test_exists(d->path));
    assert_false(cim_test_exists(d->partial));
    cim_h5_run_discard(w);
    assert_true(cim_test_exists(d->path));
    cim_outfile_release(&d->out, 0);
    assert_true(cim_test_exists(d->path));
    assert_int_equal(cim_test_count_entries(d->dir), 1);
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

/* The root dataset trials_written: an int64 scalar with its description. */
static void assert_trials_written(hid_t file, int64_t expected)
{
    hid_t dset = H5Dopen2(file, "trials_written", H5P_DEFAULT), type;
    assert_true(dset >= 0);
    type = H5Dget_type(dset);
    assert_int_equal(H5Tget_class(type), H5T_INTEGER);
    CIM_ASSERT_I64_EQ(H5Tget_size(type), 8);
    cim_test_assert_string_attr(dset, "description", CIM_H5FILE_COUNTER_DESCRIPTION);
    H5Tclose(type);
    H5Dclose(dset);
    assert_scalar_i64(file, "trials_written", expected);
}

/* A 1-D attribute of n variable-length strings equal to want. */
static void assert_strings_attr(hid_t loc, const char *name, const char *const *want, int32_t n)
{
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT), type = H5Tcopy(H5T_C_S1), space;
    char *got[N_LAYERS] = {NULL};
    hsize_t count = 0;
    assert_true(attr >= 0 && n <= N_LAYERS);
    space = H5Aget_space(attr);
    H5Sget_simple_extent_dims(space, &count, NULL);
    CIM_ASSERT_I64_EQ(count, n);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    assert_true(H5Aread(attr, type, got) >= 0);
    for (int32_t l = 0; l < n; ++l) {
        assert_string_equal(got[l], want[l]);
        H5free_memory(got[l]);
    }
    H5Sclose(space);
    H5Tclose(type);
    H5Aclose(attr);
}

/* A 1-D float64 attribute of n values, bit for bit. */
static void assert_doubles_attr(hid_t loc, const char *name, const double *want, int32_t n)
{
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT), type, space;
    double got[N_LAYERS];
    hsize_t count = 0;
    assert_true(attr >= 0 && n <= N_LAYERS);
    type = H5Aget_type(attr);
    assert_true(H5Tequal(type, H5T_IEEE_F64LE) > 0);
    space = H5Aget_space(attr);
    H5Sget_simple_extent_dims(space, &count, NULL);
    CIM_ASSERT_I64_EQ(count, n);
    assert_true(H5Aread(attr, H5T_NATIVE_DOUBLE, got) >= 0);
    assert_memory_equal(got, want, sizeof(double) * (size_t)n);
    H5Sclose(space);
    H5Tclose(type);
    H5Aclose(attr);
}

static void assert_root_attributes(hid_t file, const run_data *d, int complete)
{
    const cim_h5_run_meta *m = &d->meta;
    uint64_t seed = 0;
    double target = 0;
    cim_test_assert_string_attr(file, "format", "cimgpu-run");
    CIM_ASSERT_I64_EQ(attr_i32(file, "format_version"), CIM_H5_RUN_FORMAT_VERSION);
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
    cim_test_assert_string_attr(file, "dataset_images_sha256", m->dataset_images_sha256);
    cim_test_assert_string_attr(file, "dataset_labels_sha256", m->dataset_labels_sha256);
    cim_test_assert_string_attr(file, "mapping", m->mapping);
    cim_test_assert_string_attr(file, "first_layer", m->first_layer);
    CIM_ASSERT_I64_EQ(attr_i64(file, "trials"), m->trials);
    CIM_ASSERT_I64_EQ(attr_i64(file, "trial_offset"), m->trial_offset);
    CIM_ASSERT_I64_EQ(attr_i64(file, "images"), m->images);
    CIM_ASSERT_I64_EQ(attr_i64(file, "first_image"), m->first_image);
    read_attr(file, "yield_target", H5T_NATIVE_DOUBLE, &target);
    assert_true(target == m->yield_target);
    CIM_ASSERT_I64_EQ(attr_i32(file, "trace"), m->trace);
    cim_test_assert_string_attr(file, "c2c_model", m->c2c_model);
    assert_strings_attr(file, "c2c_model_used", m->c2c_model_used, m->n_layers);
    assert_doubles_attr(file, "c2c_bound_p_differs", m->c2c_bound_p_differs, m->n_layers);
    assert_doubles_attr(file, "c2c_bound_mean_abs_diff_na", m->c2c_bound_mean_abs_diff_na,
                        m->n_layers);
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

/* The per-trial datasets hold trials 0 .. n-1 of d exactly (and, with
 * trace, the predictions). */
static void assert_trials(hid_t file, const run_data *d, int64_t n)
{
    int64_t *correct = read_dataset(file, "trials/correct", H5T_NATIVE_INT64, 1, (hsize_t)n, 0);
    double *acc = read_dataset(file, "trials/accuracy", H5T_NATIVE_DOUBLE, 1, (hsize_t)n, 0);
    double *err =
        read_dataset(file, "trials/layer_error_rate", H5T_NATIVE_DOUBLE, 2, (hsize_t)n, N_LAYERS);
    int64_t *top5 = read_dataset(file, "trials/top5_correct", H5T_NATIVE_INT64, 1, (hsize_t)n, 0);
    double *acc5 = read_dataset(file, "trials/top5_accuracy", H5T_NATIVE_DOUBLE, 1, (hsize_t)n, 0);
    assert_memory_equal(correct, d->correct, sizeof *correct * (size_t)n);
    assert_memory_equal(top5, d->top5, sizeof *top5 * (size_t)n);
    for (int64_t t = 0; t < n; ++t)
        if (acc[t] != (double)d->correct[t] / (double)d->meta.images ||
            acc5[t] != (double)d->top5[t] / (double)d->meta.images)
            fail_msg("accuracy[%lld] = %.17g, top-5 %.17g", (long long)t, acc[t], acc5[t]);
    free(top5);
    free(acc5);
    assert_memory_equal(err, d->error_rate, sizeof *err * (size_t)(n * N_LAYERS));
    free(correct);
    free(acc);
    free(err);
    if (d->meta.trace) {
        const int64_t k = d->meta.images;
        int16_t *pred =
            read_dataset(file, "trace/predictions", H5T_NATIVE_INT16, 2, (hsize_t)n, (hsize_t)k);
        assert_memory_equal(pred, d->predictions, sizeof *pred * (size_t)(n * k));
        free(pred);
    }
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
    assert_scalar_double(file, "summary/top5_mean", d->summary5.mean);
    assert_scalar_double(file, "summary/top5_std", d->summary5.std);
    assert_scalar_double(file, "summary/top5_ci95_lo", d->summary5.ci95_lo);
    assert_scalar_double(file, "summary/top5_ci95_hi", d->summary5.ci95_hi);
    assert_scalar_double(file, "summary/digital_top5_accuracy",
                         (double)d->digital_top5 / (double)d->meta.images);
    assert_scalar_i64(file, "summary/digital_top5_correct", d->digital_top5);
    assert_scalar_i64(file, "summary/trials", s->trials);
    assert_scalar_i64(file, "summary/images", s->images);
}

/* Before finish every /summary dataset exists and holds its placeholder:
 * NaN for the float64 ones, -1 for the int64 ones. */
static void assert_summary_placeholders(hid_t file)
{
    static const char *const floats[] = {"mean",
                                         "std",
                                         "ci95_lo",
                                         "ci95_hi",
                                         "min",
                                         "max",
                                         "q01",
                                         "q05",
                                         "q50",
                                         "yield",
                                         "yield_target",
                                         "digital_accuracy",
                                         "top5_mean",
                                         "top5_std",
                                         "top5_ci95_lo",
                                         "top5_ci95_hi",
                                         "digital_top5_accuracy"};
    static const char *const ints[] = {"digital_correct", "digital_top5_correct", "trials",
                                       "images"};
    char name[64];
    for (size_t i = 0; i < sizeof floats / sizeof *floats; ++i) {
        double *v;
        snprintf(name, sizeof name, "summary/%s", floats[i]);
        v = read_dataset(file, name, H5T_NATIVE_DOUBLE, 0, 1, 0);
        if (!isnan(*v))
            fail_msg("%s = %.17g before finish, expected NaN", name, *v);
        free(v);
    }
    for (size_t i = 0; i < sizeof ints / sizeof *ints; ++i) {
        snprintf(name, sizeof name, "summary/%s", ints[i]);
        assert_scalar_i64(file, name, -1);
    }
}

/* Opens path as any SWMR reader does: H5F_ACC_RDONLY | H5F_ACC_SWMR_READ,
 * default access properties. */
static hid_t open_swmr(const char *path)
{
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT);
    if (file < 0)
        fail_msg("%s does not open as an SWMR reader", path);
    return file;
}

/* ---- an SWMR reader in another process --------------------------------- */

/* What a reader sees of a results file while (or after) it is written. */
typedef struct reader_view {
    long long trials_written, rows, summary_trials;
    int complete;
    double mean;
} reader_view;

static int read_scalar(hid_t file, const char *name, hid_t mem_type, void *out)
{
    hid_t dset = H5Dopen2(file, name, H5P_DEFAULT);
    herr_t st = dset < 0 ? -1 : H5Dread(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
    if (dset >= 0 && H5Dclose(dset) < 0)
        st = -1;
    return st < 0 ? -1 : 0;
}

/* `test_h5_run --swmr-read PATH` (a fresh process, so a fresh HDF5 that
 * shares nothing with the writer): prints trials_written, the rows of
 * trials/correct, complete, summary/mean and summary/trials; 0, or 3 when
 * the file cannot be read so. */
static int swmr_read_main(const char *path)
{
    int64_t written = -1, summary_trials = -1;
    int32_t complete = -1;
    double mean = 0;
    hsize_t rows = 0;
    hid_t file, attr, dset, space = -1;
    int ok;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    file = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT);
    if (file < 0)
        return 3;
    ok = read_scalar(file, "trials_written", H5T_NATIVE_INT64, &written) == 0 &&
         read_scalar(file, "summary/mean", H5T_NATIVE_DOUBLE, &mean) == 0 &&
         read_scalar(file, "summary/trials", H5T_NATIVE_INT64, &summary_trials) == 0;
    attr = H5Aopen(file, "complete", H5P_DEFAULT);
    ok = ok && attr >= 0 && H5Aread(attr, H5T_NATIVE_INT32, &complete) >= 0;
    if (attr >= 0)
        H5Aclose(attr);
    dset = H5Dopen2(file, "trials/correct", H5P_DEFAULT);
    if (dset >= 0)
        space = H5Dget_space(dset);
    ok = ok && space >= 0 && H5Sget_simple_extent_dims(space, &rows, NULL) == 1;
    if (space >= 0)
        H5Sclose(space);
    if (dset >= 0)
        H5Dclose(dset);
    if (H5Fclose(file) < 0 || !ok)
        return 3;
    printf("%lld %lld %d %a %lld\n", (long long)written, (long long)rows, (int)complete, mean,
           (long long)summary_trials);
    return 0;
}

/* Runs the reader above on path in a new process (this executable again). */
static reader_view swmr_read(const char *path)
{
    char self[CIM_TEST_PATH_MAX], text[512];
    reader_view v = {0, 0, 0, 0, 0};
    ssize_t n;
    size_t len = 0;
    int fds[2], status = 0;
    pid_t child;
    n = readlink("/proc/self/exe", self, sizeof self - 1);
    assert_true(n > 0);
    self[n] = '\0';
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(self, self, "--swmr-read", path, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    while (len + 1 < sizeof text && (n = read(fds[0], text + len, sizeof text - 1 - len)) > 0)
        len += (size_t)n;
    text[len] = '\0';
    close(fds[0]);
    assert_int_equal(waitpid(child, &status, 0), child);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("the SWMR reader of %s failed (status %d)", path, status);
    if (sscanf(text, "%lld %lld %d %la %lld", &v.trials_written, &v.rows, &v.complete, &v.mean,
               &v.summary_trials) != 5)
        fail_msg("the SWMR reader printed \"%s\"", text);
    return v;
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
    assert_trials_written(file, 13);
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
    int16_t *labels;
    (void)state;
    run_data_init(&d, "trace.h5", T, K, 1);
    write_run(&d, batches, 3);

    file = H5Fopen(d.path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    assert_root_attributes(file, &d, 1);
    assert_trials_written(file, T);
    assert_trials(file, &d, T);
    assert_summary(file, &d);
    assert_true(assert_per_trial_layout(file, "trace/predictions") >= 1);
    labels = read_dataset(file, "trace/labels", H5T_NATIVE_INT16, 1, (hsize_t)K, 0);
    for (int64_t i = 0; i < K; ++i)
        CIM_ASSERT_I64_EQ(labels[i], d.labels[i]);
    group = H5Gopen2(file, "trace", H5P_DEFAULT);
    CIM_ASSERT_I64_EQ(attr_i64(group, "first_image"), 250);
    H5Gclose(group);
    H5Fclose(file);
    free(labels);
    run_data_free(&d);
}

/* A reader in another process opening R.h5.partial as an SWMR reader while
 * the writer holds it sees trials_written equal to the trials committed so
 * far (appends before start included) and as many rows, complete = 0 and
 * the summary placeholders; after finish, R.h5 with everything. */
static void test_trials_written_seen_by_reader(void **state)
{
    static const int64_t batches[] = {2, 3, 1, 4};
    run_data d;
    cim_error err = {0, ""};
    cim_h5_run *w = NULL;
    reader_view v;
    int64_t first = 0;
    (void)state;
    run_data_init(&d, "reader.h5", 10, 5, 1);
    claim(&d, 0, 0);
    assert_int_equal(cim_h5_run_create(&d.meta, &w, &err), 0);
    assert_int_equal(append(w, &d, 0, batches[0], &err), 0);
    first = batches[0];
    CIM_ASSERT_I64_EQ(cim_h5_run_trials_written(w), first);
    assert_int_equal(cim_h5_run_start(w, &err), 0);
    for (int b = 0;; ++b) {
        v = swmr_read(d.partial);
        CIM_ASSERT_I64_EQ(v.trials_written, first);
        CIM_ASSERT_I64_EQ(v.rows, first);
        CIM_ASSERT_I64_EQ(v.complete, 0);
        assert_true(isnan(v.mean));
        CIM_ASSERT_I64_EQ(v.summary_trials, -1);
        if (b + 1 == (int)(sizeof batches / sizeof *batches))
            break;
        assert_int_equal(append(w, &d, first, batches[b + 1], &err), 0);
        first += batches[b + 1];
        CIM_ASSERT_I64_EQ(cim_h5_run_trials_written(w), first);
    }
    CIM_ASSERT_I64_EQ(first, 10);
    assert_int_equal(finish(w, &d, &d.summary, d.digital_correct, &err), 0);
    v = swmr_read(d.path);
    CIM_ASSERT_I64_EQ(v.trials_written, 10);
    CIM_ASSERT_I64_EQ(v.rows, 10);
    CIM_ASSERT_I64_EQ(v.complete, 1);
    assert_true(v.mean == d.summary.mean);
    CIM_ASSERT_I64_EQ(v.summary_trials, 10);
    cim_h5_run_discard(w);
    cim_outfile_release(&d.out, 0);
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
    claim(&d, 0, 0);
    assert_int_equal(cim_h5_run_create(&d.meta, &w, &err), 0);
    assert_int_equal(append(w, &d, 1, 2, &err), CIM_ERR_USAGE); /* gap */
    assert_non_null(strstr(err.msg, d.path));
    assert_non_null(strstr(err.msg, "out of order"));
    assert_int_equal(append(w, &d, 0, 4, &err), 0);
    assert_int_equal(cim_h5_run_start(w, &err), 0);
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
    CIM_ASSERT_I64_EQ(cim_h5_run_trials_written(w), 4);
    cim_error_clear(&err);
    d.correct[5] = 9;
    d.top5[5] = 8; /* fewer top-5 than top-1 */
    assert_int_equal(append(w, &d, 4, 3, &err), CIM_ERR_USAGE);
    assert_non_null(strstr(err.msg, "trial 5 has 8 top-5 correct of 9 images, 9 correct"));
    cim_error_clear(&err);
    d.top5[5] = 9;
    assert_int_equal(append(w, &d, 4, 6, &err), 0);
    CIM_ASSERT_I64_EQ(cim_h5_run_trials_written(w), 10);
    assert_int_equal(H5Fis_hdf5(d.partial), 1);
    cim_h5_run_discard(w);
    assert_true(cim_test_exists(d.partial));
    cim_outfile_release(&d.out, 0);
    assert_int_equal(cim_test_count_entries(d.dir), 0);
    run_data_free(&d);
}

/* finish refuses a file short of trials or a summary of other data, writing
 * nothing; discard + release(out, 0) then leave no file. */
static void test_finish_checks_trials_and_summary(void **state)
{
    run_data d;
    cim_error err = {0, ""};
    cim_h5_run *w = NULL;
    cim_summary wrong;
    (void)state;
    run_data_init(&d, "finish.h5", 6, 5, 0);
    claim(&d, 0, 0);
    assert_int_equal(cim_h5_run_create(&d.meta, &w, &err), 0);
    assert_int_equal(cim_h5_run_start(w, &err), 0);
    assert_int_equal(append(w, &d, 0, 5, &err), 0);
    assert_int_equal(finish(w, &d, &d.summary, 1, &err), CIM_ERR_USAGE);
    assert_non_null(strstr(err.msg, "5 of 6 trials written"));
    assert_true(cim_test_exists(d.partial));
    assert_false(cim_test_exists(d.path));
    cim_error_clear(&err);
    assert_int_equal(append(w, &d, 5, 1, &err), 0); /* the handle is not broken */
    cim_h5_run_discard(w);
    cim_outfile_release(&d.out, 0);
    assert_int_equal(cim_test_count_entries(d.dir), 0);

    const struct {
        int64_t trials, images;
        double target;
        int64_t digital;
    } cases[] = {{5, 5, 0.8, 1}, {6, 4, 0.8, 1}, {6, 5, 0.9, 1}, {6, 5, 0.8, 6}, {6, 5, 0.8, -1}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; ++c) {
        cim_error_clear(&err);
        claim(&d, 0, 0);
        assert_int_equal(cim_h5_run_create(&d.meta, &w, &err), 0);
        assert_int_equal(append(w, &d, 0, 6, &err), 0);
        assert_int_equal(cim_h5_run_start(w, &err), 0);
        wrong = d.summary;
        wrong.trials = cases[c].trials;
        wrong.images = cases[c].images;
        wrong.yield_target = cases[c].target;
        assert_int_equal(finish(w, &d, &wrong, cases[c].digital, &err), CIM_ERR_USAGE);
        assert_non_null(strstr(err.msg, d.path));
        assert_false(cim_test_exists(d.path));
        assert_true(cim_test_exists(d.partial));
        {
            const reader_view v = swmr_read(d.partial);
            CIM_ASSERT_I64_EQ(v.complete, 0);
            CIM_ASSERT_I64_EQ(v.trials_written, 6);
            assert_true(isnan(v.mean));
            CIM_ASSERT_I64_EQ(v.summary_trials, -1);
        }
        cim_h5_run_discard(w);
        cim_outfile_release(&d.out, 0);
        assert_int_equal(cim_test_count_entries(d.dir), 0);
    }
    run_data_free(&d);
}

/* finish before start is a programming error that writes nothing: the file
 * keeps its temporary name, and start then finish still publish it. */
static void test_finish_before_start_is_usage_error(void **state)
{
    run_data d;
    cim_error err = {0, ""};
    cim_h5_run *w = NULL;
    char temporary[CIM_TEST_PATH_MAX + 32];
    hid_t file;
    (void)state;
    run_data_init(&d, "early.h5", 3, 4, 0);
    claim(&d, 0, 0);
    assert_int_equal(cim_h5_run_create(&d.meta, &w, &err), 0);
    assert_int_equal(append(w, &d, 0, 3, &err), 0);
    assert_int_equal(finish(w, &d, &d.summary, d.digital_correct, &err), CIM_ERR_USAGE);
    assert_non_null(strstr(err.msg, d.path));
    assert_non_null(strstr(err.msg, "finish before start"));
    assert_temporary_name(&d, temporary, sizeof temporary);
    assert_false(cim_test_exists(d.partial));
    assert_false(cim_test_exists(d.path));
    assert_int_equal(cim_test_count_entries(d.dir), 1);
    cim_error_clear(&err);
    assert_int_equal(cim_h5_run_start(w, &err), 0);
    assert_int_equal(cim_h5_run_start(w, &err), CIM_ERR_USAGE);
    assert_non_null(strstr(err.msg, "started twice"));
    cim_error_clear(&err);
    assert_int_equal(finish(w, &d, &d.summary, d.digital_correct, &err), 0);
    cim_h5_run_discard(w);
    cim_outfile_release(&d.out, 0);
    assert_false(cim_test_exists(temporary));
    assert_int_equal(cim_test_count_entries(d.dir), 1);
    file = H5Fopen(d.path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    assert_root_attributes(file, &d, 1);
    assert_trials_written(file, 3);
    assert_trials(file, &d, 3);
    assert_summary(file, &d);
    H5Fclose(file);
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
    cim_outfile mvm_out;
    char mvm_path[CIM_TEST_PATH_MAX + 16];
    (void)state;
    run_data_init(&d, "twice.h5", 2, 3, 0);
    claim(&d, 0, 0);
    assert_int_equal(cim_h5_run_create(&d.meta, &w, &err), 0);
    assert_int_equal(append(w, &d, 0, 2, &err), 0);
    assert_int_equal(cim_h5_run_start(w, &err), 0);
    assert_int_equal(finish(w, &d, &d.summary, 1, &err), 0);
    assert_int_equal(append(w, &d, 2, 1, &err), CIM_ERR_USAGE);
    assert_non_null(strstr(err.msg, "after the file was finished"));
    cim_error_clear(&err);
    assert_int_equal(finish(w, &d, &d.summary, 1, &err), CIM_ERR_USAGE);
    cim_error_clear(&err);
    assert_int_equal(cim_h5_run_start(w, &err), CIM_ERR_USAGE);
    cim_h5_run_discard(w);
    cim_outfile_release(&d.out, 0);
    assert_int_equal(H5Fis_hdf5(d.path), 1);

    snprintf(mvm_path, sizeof mvm_path, "%s/twice_mvm.h5", d.dir);
    {
        const cim_outfile_spec claim_spec = {.path = mvm_path};
        const cim_h5_mvm_spec spec = {.out = &mvm_out,
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
        assert_int_equal(cim_outfile_claim(&claim_spec, &mvm_out, &err), 0);
        assert_int_equal(cim_h5_mvm_create(&spec, &h, &err), 0);
    }
    assert_int_equal(H5Fis_hdf5(mvm_out.partial), 1);            /* create also starts */
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
    cim_outfile_release(&mvm_out, 0);
    assert_int_equal(H5Fis_hdf5(mvm_path), 1);
    assert_int_equal(cim_test_count_entries(d.dir), 2);
    run_data_free(&d);
}

/* An HDF5 failure is CIM_ERR_IO naming R.h5 and the object; the handle is
 * broken from then on (append and finish refuse with CIM_ERR_IO); discard
 * leaves R.h5.partial, release(out, 0) removes it. */
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
    claim(&d, 0, 0);
    {
        const cim_h5file_spec spec = {.out = &d.out,
                                      .format = "cimgpu-test",
                                      .format_version = 1,
                                      .flags = CIM_H5FILE_MARKS_COMPLETE,
                                      .prov = &d.prov,
                                      .trials = 2};
        assert_int_equal(cim_h5file_create(&spec, &f, &err), 0);
    }
    assert_string_equal(cim_h5file_path(f), d.path);
    assert_string_equal(cim_h5file_partial_path(f), d.partial);
    assert_int_equal(cim_h5file_trial_dataset(f, cim_h5file_root(f), "values", H5T_STD_I64LE, 1,
                                              dims, CIM_H5_EXTENDIBLE, NULL, 0, &slot, &err),
                     0);
    assert_int_equal(cim_h5file_start(f, &err), 0);
    assert_int_equal(cim_h5file_attrs(f, cim_h5file_root(f), &duplicate, 1, &err), CIM_ERR_IO);
    assert_non_null(strstr(err.msg, d.path));
    assert_non_null(strstr(err.msg, "write the root attribute \"format\""));
    cim_error_clear(&err);
    assert_int_equal(cim_h5file_check_append(f, 0, 2, &err), CIM_ERR_IO);
    cim_error_clear(&err);
    assert_int_equal(cim_h5file_append(f, slot, 2, H5T_NATIVE_INT64, values, &err), CIM_ERR_IO);
    cim_error_clear(&err);
    assert_int_equal(cim_h5file_commit(f, 2, 1, &err), CIM_ERR_IO);
    cim_error_clear(&err);
    assert_int_equal(cim_h5file_finish(f, &err), CIM_ERR_IO);
    assert_non_null(strstr(err.msg, "an earlier write failed"));
    CIM_ASSERT_I64_EQ(cim_h5file_trials_written(f), 0);
    assert_true(cim_test_exists(d.partial));
    cim_h5file_discard(f);
    assert_true(cim_test_exists(d.partial));
    cim_outfile_release(&d.out, 0);
    assert_int_equal(cim_test_count_entries(d.dir), 0);
    run_data_free(&d);
}

/* discard closes and touches no name: before start the temporary name, after
 * it R.h5.partial stay until release, which removes them with keep 0 and
 * keeps R.h5.partial (with its trials) with keep 1. */
static void test_discard_then_release(void **state)
{
    run_data d;
    cim_error err = {0, ""};
    cim_h5_run *w = NULL;
    char temporary[CIM_TEST_PATH_MAX + 32];
    hid_t file;
    (void)state;
    run_data_init(&d, "discard.h5", 4, 3, 1);
    claim(&d, 0, 0);
    assert_int_equal(cim_h5_run_create(&d.meta, &w, &err), 0);
    assert_int_equal(append(w, &d, 0, 2, &err), 0);
    assert_temporary_name(&d, temporary, sizeof temporary);
    cim_h5_run_discard(w);
    assert_true(cim_test_exists(temporary));
    assert_int_equal(cim_test_count_entries(d.dir), 1);
    cim_outfile_release(&d.out, 0);
    assert_int_equal(cim_test_count_entries(d.dir), 0);
    cim_h5_run_discard(NULL);

    claim(&d, 0, 0);
    assert_int_equal(cim_h5_run_create(&d.meta, &w, &err), 0);
    assert_int_equal(append(w, &d, 0, 2, &err), 0);
    assert_int_equal(cim_h5_run_start(w, &err), 0);
    cim_h5_run_discard(w);
    assert_true(cim_test_exists(d.partial));
    assert_int_equal(cim_test_count_entries(d.dir), 1);
    cim_outfile_release(&d.out, 0);
    assert_int_equal(cim_test_count_entries(d.dir), 0);

    claim(&d, 0, 0);
    assert_int_equal(cim_h5_run_create(&d.meta, &w, &err), 0);
    assert_int_equal(cim_h5_run_start(w, &err), 0);
    assert_int_equal(append(w, &d, 0, 3, &err), 0);
    cim_h5_run_discard(w);
    cim_outfile_release(&d.out, 1);
    assert_int_equal(cim_test_count_entries(d.dir), 1);
    assert_false(cim_test_exists(d.path));
    file = open_swmr(d.partial);
    assert_root_attributes(file, &d, 0);
    assert_trials_written(file, 3);
    assert_trials(file, &d, 3);
    H5Fclose(file);
    run_data_free(&d);
}

/* An existing R.h5 is the claim's to refuse without --force (untouched);
 * with --force a discarded run still leaves it as it was, and a finished one
 * replaces it. */
static void test_existing_results_file_needs_force(void **state)
{
    static const char old[] = "an older results file\n";
    run_data d;
    cim_error err = {0, ""};
    cim_h5_run *w = NULL;
    hid_t file;
    (void)state;
    run_data_init(&d, "exists.h5", 4, 3, 0);
    cim_test_write_text(d.path, old);
    {
        const cim_outfile_spec spec = {.path = d.path};
        assert_int_equal(cim_outfile_claim(&spec, &d.out, &err), CIM_ERR_USAGE);
        assert_non_null(strstr(err.msg, d.path));
        assert_non_null(strstr(err.msg, "--force"));
        assert_null(d.out.path);
    }
    cim_test_assert_file_text(d.path, old);
    assert_int_equal(cim_test_count_entries(d.dir), 1);
    cim_error_clear(&err);
    assert_int_equal(cim_h5_run_create(&d.meta, &w, &err), CIM_ERR_USAGE); /* not claimed */
    assert_null(w);

    claim(&d, 1, 0);
    cim_error_clear(&err);
    assert_int_equal(cim_h5_run_create(&d.meta, &w, &err), 0);
    assert_int_equal(append(w, &d, 0, 4, &err), 0);
    assert_int_equal(cim_h5_run_start(w, &err), 0);
    cim_h5_run_discard(w);
    cim_outfile_release(&d.out, 0);
    cim_test_assert_file_text(d.path, old);
    assert_int_equal(cim_test_count_entries(d.dir), 1);

    claim(&d, 1, 0);
    assert_int_equal(cim_h5_run_create(&d.meta, &w, &err), 0);
    assert_int_equal(append(w, &d, 0, 4, &err), 0);
    assert_int_equal(cim_h5_run_start(w, &err), 0);
    assert_int_equal(finish(w, &d, &d.summary, d.digital_correct, &err), 0);
    cim_h5_run_discard(w);
    cim_outfile_release(&d.out, 0);
    assert_int_equal(cim_test_count_entries(d.dir), 1);
    file = H5Fopen(d.path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    assert_root_attributes(file, &d, 1);
    assert_trials(file, &d, 4);
    H5Fclose(file);
    run_data_free(&d);
}

/* A process that dies between appends (no finish, no close) leaves
 * R.h5.partial and nothing else: it opens as an SWMR reader, marked
 * incomplete, trials_written = the trials committed, exactly those trials,
 * and the /summary placeholders. */
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
        const cim_outfile_spec spec = {.path = d.path};
        cim_error err = {0, ""};
        cim_h5_run *w = NULL;
        if (cim_outfile_claim(&spec, &d.out, &err) != 0 ||
            cim_h5_run_create(&d.meta, &w, &err) != 0 || append(w, &d, 0, 3, &err) != 0 ||
            cim_h5_run_start(w, &err) != 0 || append(w, &d, 3, 5, &err) != 0)
            _exit(1);
        _exit(0); /* no finish, no discard, no release, no HDF5 close */
    }
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_false(cim_test_exists(d.path));
    assert_true(cim_test_exists(d.partial));
    assert_int_equal(cim_test_count_entries(d.dir), 1);
    file = open_swmr(d.partial);
    assert_root_attributes(file, &d, 0);
    assert_trials_written(file, 8);
    assert_trials(file, &d, 8);
    assert_summary_placeholders(file);
    H5Fclose(file);
    run_data_free(&d);
}

/* A forked child writes 5 trials in 2 appends and dies (_exit). */
static void leave_partial(run_data *d)
{
    pid_t child;
    int status = 0;
    fflush(NULL);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        const cim_outfile_spec spec = {.path = d->path};
        cim_error err = {0, ""};
        cim_h5_run *w = NULL;
        if (cim_outfile_claim(&spec, &d->out, &err) != 0 ||
            cim_h5_run_create(&d->meta, &w, &err) != 0 || cim_h5_run_start(w, &err) != 0 ||
            append(w, d, 0, 3, &err) != 0 || append(w, d, 3, 2, &err) != 0)
            _exit(1);
        _exit(0);
    }
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(cim_test_exists(d->partial));
}

static void assert_prior_empty(const cim_h5_run_prior *p)
{
    CIM_ASSERT_I64_EQ(p->trials, 0);
    assert_null(p->correct);
    assert_null(p->layer_error_rate);
    assert_null(p->predictions);
}

/* cim_h5_run_read_partial gives back exactly the trials the dead run
 * appended (correct, layer error rates, predictions with trace), also
 * without a model digest; the same command with --resume then completes the
 * file. */
static void test_read_partial_returns_appended_trials(void **state)
{
    run_data d;
    cim_error err = {0, ""};
    cim_h5_run_prior prior;
    cim_h5_run *w = NULL;
    hid_t file;
    (void)state;
    run_data_init(&d, "resume.h5", 9, 6, 1);
    d.meta.model_sha256 = NULL; /* stored as "", compared as "" */
    leave_partial(&d);
    assert_int_equal(cim_h5_run_read_partial(d.partial, &d.meta, &prior, &err), 0);
    CIM_ASSERT_I64_EQ(prior.trials, 5);
    assert_memory_equal(prior.correct, d.correct, sizeof *d.correct * 5);
    assert_memory_equal(prior.layer_error_rate, d.error_rate, sizeof *d.error_rate * 5 * N_LAYERS);
    assert_non_null(prior.predictions);
    assert_memory_equal(prior.predictions, d.predictions, sizeof *d.predictions * 5 * 6);
    cim_h5_run_prior_free(&prior);
    assert_prior_empty(&prior);

    claim(&d, 0, 1);
    assert_non_null(cim_outfile_old_partial(&d.out));
    assert_string_equal(cim_outfile_old_partial(&d.out), d.partial);
    assert_int_equal(
        cim_h5_run_read_partial(cim_outfile_old_partial(&d.out), &d.meta, &prior, &err), 0);
    CIM_ASSERT_I64_EQ(prior.trials, 5);
    assert_int_equal(cim_h5_run_create(&d.meta, &w, &err), 0);
    assert_int_equal(cim_h5_run_append(w, 0, prior.trials, prior.correct, prior.top5_correct,
                                       prior.layer_error_rate, prior.predictions, &err),
                     0);
    cim_h5_run_prior_free(&prior);
    assert_int_equal(cim_h5_run_start(w, &err), 0);
    assert_null(cim_outfile_old_partial(&d.out));
    assert_int_equal(cim_test_count_entries(d.dir), 1);
    assert_int_equal(append(w, &d, 5, 4, &err), 0);
    assert_int_equal(finish(w, &d, &d.summary, d.digital_correct, &err), 0);
    cim_h5_run_discard(w);
    cim_outfile_release(&d.out, 0);
    assert_int_equal(cim_test_count_entries(d.dir), 1);
    file = H5Fopen(d.path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    assert_root_attributes(file, &d, 1);
    assert_trials_written(file, 9);
    assert_trials(file, &d, 9);
    assert_summary(file, &d);
    H5Fclose(file);
    run_data_free(&d);
}

/* /profile (meta->profiles): each batch's per-trial rows must come before its
 * append (a batch without them is refused, nothing written); the rows land
 * in trial_counts, counts is their sum and the statistics are those of the
 * sum; an SWMR reader of the partial file gets the rows of the committed
 * trials back for --resume. */
static void test_profile_rows_and_totals(void **state)
{
    enum { TRIALS = 6, IMAGES = 4 };
    static const int64_t bins[N_LAYERS] = {4, 3, 2};
    run_data d;
    cim_error err = {0, ""};
    cim_h5_run *w = NULL;
    cim_h5_run_prior prior;
    cim_adc_profile shape[N_LAYERS] = {
        {4, 0, 40, 10, NULL}, {3, -15, 15, 10, NULL}, {2, 0, 20, 10, NULL}};
    uint64_t *rows[N_LAYERS], total[N_LAYERS][8];
    (void)state;
    run_data_init(&d, "profile.h5", TRIALS, IMAGES, 0);
    d.meta.profiles = shape;
    cim_test_rng rng = cim_test_rng_init(42);
    memset(total, 0, sizeof total);
    for (int c = 0; c < N_LAYERS; ++c) {
        const int64_t slots = bins[c] + 2;
        rows[c] = malloc(sizeof(uint64_t) * (size_t)(TRIALS * slots));
        for (int64_t k = 0; k < TRIALS * slots; ++k) {
            rows[c][k] = (uint64_t)cim_test_rng_int(&rng, 0, 1000) << (k % 3 ? 0 : 33);
            total[c][k % slots] += rows[c][k];
        }
    }
    const uint64_t *first[N_LAYERS] = {rows[0], rows[1], rows[2]};
    const uint64_t *second[N_LAYERS] = {rows[0] + 4 * 6, rows[1] + 4 * 5, rows[2] + 4 * 4};
    claim(&d, 0, 0);
    assert_int_equal(cim_h5_run_create(&d.meta, &w, &err), 0);
    assert_int_equal(append(w, &d, 0, 4, &err), CIM_ERR_USAGE); /* no profile rows yet */
    assert_int_equal(cim_h5_run_append_profile(w, 1, 4, first, &err), CIM_ERR_USAGE);
    assert_int_equal(cim_h5_run_append_profile(w, 0, 4, first, &err), 0);
    assert_int_equal(append(w, &d, 0, 4, &err), 0);
    assert_int_equal(cim_h5_run_start(w, &err), 0);
    d.meta.trials = TRIALS;
    assert_int_equal(cim_h5_run_read_partial(d.partial, &d.meta, &prior, &err), 0);
    CIM_ASSERT_I64_EQ(prior.trials, 4);
    for (int c = 0; c < N_LAYERS; ++c)
        assert_memory_equal(prior.profiles[c], rows[c], sizeof(uint64_t) * 4 * (bins[c] + 2));
    cim_h5_run_prior_free(&prior);
    assert_int_equal(cim_h5_run_append_profile(w, 4, 2, second, &err), 0);
    assert_int_equal(append(w, &d, 4, 2, &err), 0);
    assert_int_equal(finish(w, &d, &d.summary, d.digital_correct, &err), 0);
    cim_h5_run_discard(w);
    cim_outfile_release(&d.out, 0);
    hid_t file = H5Fopen(d.path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    for (int c = 0; c < N_LAYERS; ++c) {
        char name[128];
        int rank;
        hsize_t dims[2];
        cim_adc_profile_stats s;
        cim_adc_profile sum = shape[c];
        sum.counts = total[c];
        cim_adc_profile_summarize(&sum, &s);
        snprintf(name, sizeof name, "profile/%s/trial_counts", layer_names[c]);
        uint64_t *got = cim_test_read_dataset(file, name, H5T_NATIVE_UINT64, &rank, dims);
        assert_int_equal(rank, 2);
        assert_true(dims[0] == TRIALS && dims[1] == (hsize_t)(bins[c] + 2));
        assert_memory_equal(got, rows[c], sizeof(uint64_t) * TRIALS * (bins[c] + 2));
        free(got);
        snprintf(name, sizeof name, "profile/%s/counts", layer_names[c]);
        got = cim_test_read_dataset(file, name, H5T_NATIVE_UINT64, &rank, dims);
        assert_true(rank == 1 && dims[0] == (hsize_t)bins[c]);
        assert_memory_equal(got, total[c] + 1, sizeof(uint64_t) * bins[c]);
        free(got);
        snprintf(name, sizeof name, "profile/%s/labels", layer_names[c]);
        double *labels = cim_test_read_dataset(file, name, H5T_NATIVE_DOUBLE, &rank, dims);
        assert_true(labels[0] == shape[c].lo_ua + 5 && labels[1] == shape[c].lo_ua + 15);
        free(labels);
        snprintf(name, sizeof name, "profile/%s/samples", layer_names[c]);
        got = cim_test_read_dataset(file, name, H5T_NATIVE_UINT64, &rank, dims);
        assert_int_equal(got[0], s.samples);
        free(got);
        snprintf(name, sizeof name, "profile/%s/underflow", layer_names[c]);
        got = cim_test_read_dataset(file, name, H5T_NATIVE_UINT64, &rank, dims);
        assert_int_equal(got[0], total[c][0]);
        free(got);
        snprintf(name, sizeof name, "profile/%s/overflow", layer_names[c]);
        got = cim_test_read_dataset(file, name, H5T_NATIVE_UINT64, &rank, dims);
        assert_int_equal(got[0], total[c][bins[c] + 1]);
        free(got);
        snprintf(name, sizeof name, "profile/%s/var", layer_names[c]);
        double *var = cim_test_read_dataset(file, name, H5T_NATIVE_DOUBLE, &rank, dims);
        assert_true(var[0] == s.var);
        free(var);
        snprintf(name, sizeof name, "profile/%s", layer_names[c]);
        hid_t g = H5Gopen2(file, name, H5P_DEFAULT);
        double bin_size = 0;
        read_attr(g, "bin_size", H5T_NATIVE_DOUBLE, &bin_size);
        assert_true(bin_size == 10);
        CIM_ASSERT_I64_EQ(attr_i64(g, "bins"), bins[c]);
        H5Gclose(g);
        free(rows[c]);
    }
    H5Fclose(file);
    run_data_free(&d);
}

/* The partial of another run is refused (CIM_ERR_INPUT, naming the attribute
 * that differs, nothing handed back): seed, trials, config, model digest,
 * trial offset, first image, tool version. */
static void test_read_partial_refuses_another_run(void **state)
{
    static const char other_sha[] =
        "0000000000000000000000000000000000000000000000000000000000000000";
    run_data d;
    cim_error err = {0, ""};
    cim_h5_run_prior prior;
    cim_provenance other_tool;
    (void)state;
    run_data_init(&d, "other.h5", 8, 4, 1);
    leave_partial(&d);
    other_tool = d.prov;
    other_tool.tool_version = "0.0.0-other";
    for (int c = 0; c < 7; ++c) {
        cim_h5_run_meta m = d.meta;
        const char *name = NULL;
        char needle[64];
        switch (c) {
        case 0:
            m.seed ^= 1;
            name = "seed";
            break;
        case 1:
            m.trials = 10;
            name = "trials";
            break;
        case 2:
            m.config_json = "{\"m_mode\":\"TNN_I\",\n \"M\":128,\"N\":256}";
            name = "config_json";
            break;
        case 3:
            m.model_sha256 = other_sha;
            name = "model_sha256";
            break;
        case 4:
            m.trial_offset = 1005;
            name = "trial_offset";
            break;
        case 5:
            m.first_image = 251;
            name = "first_image";
            break;
        case 6:
            m.prov = &other_tool;
            name = "tool_version";
            break;
        }
        cim_error_clear(&err);
        memset(&prior, 0x5a, sizeof prior);
        assert_int_equal(cim_h5_run_read_partial(d.partial, &m, &prior, &err), CIM_ERR_INPUT);
        snprintf(needle, sizeof needle, "its %s ", name);
        if (!strstr(err.msg, needle) || !strstr(err.msg, d.partial))
            fail_msg("case %s: \"%s\"", name, err.msg);
        assert_prior_empty(&prior);
    }
    assert_non_null(
        strstr(err.msg, "its tool_version is \"" CIM_VERSION "\", this run's \"0.0.0-other\""));
    run_data_free(&d);
}

/* Not every file is a partial run: a missing file, one that is not HDF5,
 * and an `mvm --out` results file are CIM_ERR_INPUT. */
static void test_read_partial_refuses_other_files(void **state)
{
    static const int8_t weights[2 * 3] = {1, -1, 0, 1, 1, -1}, inputs[3] = {1, 0, -1};
    static const int32_t results[2] = {3, -2};
    run_data d;
    cim_error err = {0, ""};
    cim_h5_run_prior prior;
    cim_h5_mvm *h = NULL;
    cim_outfile mvm_out;
    char path[CIM_TEST_PATH_MAX + 16];
    (void)state;
    run_data_init(&d, "files.h5", 3, 2, 0);

    assert_int_equal(cim_h5_run_read_partial(d.partial, &d.meta, &prior, &err), CIM_ERR_INPUT);
    assert_non_null(strstr(err.msg, d.partial));
    assert_prior_empty(&prior);

    cim_test_write_text(d.partial, "not an HDF5 file\n");
    cim_error_clear(&err);
    assert_int_equal(cim_h5_run_read_partial(d.partial, &d.meta, &prior, &err), CIM_ERR_INPUT);
    assert_non_null(strstr(err.msg, d.partial));
    assert_non_null(strstr(err.msg, "no cimgpu run results file"));
    assert_prior_empty(&prior);

    snprintf(path, sizeof path, "%s/mvm.h5", d.dir);
    {
        const cim_outfile_spec claim_spec = {.path = path};
        const cim_h5_mvm_spec spec = {.out = &mvm_out,
                                      .prov = &d.prov,
                                      .seed = d.meta.seed,
                                      .config_json = d.meta.config_json,
                                      .mapping = "TNN_I",
                                      .weights = weights,
                                      .rows = 2,
                                      .cols = 3,
                                      .inputs = inputs,
                                      .n_inputs = 1,
                                      .n_trials = 1};
        cim_error_clear(&err);
        assert_int_equal(cim_outfile_claim(&claim_spec, &mvm_out, &err), 0);
        assert_int_equal(cim_h5_mvm_create(&spec, &h, &err), 0);
        assert_int_equal(cim_h5_mvm_write(h, 0, 1, results, NULL, &err), 0);
        assert_int_equal(cim_h5_mvm_finish(h, &err), 0);
        cim_h5_mvm_discard(h);
        cim_outfile_release(&mvm_out, 0);
    }
    assert_int_equal(cim_h5_run_read_partial(path, &d.meta, &prior, &err), CIM_ERR_INPUT);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "its format is \"cimgpu-mvm\", this run's \"cimgpu-run\""));
    assert_prior_empty(&prior);
    run_data_free(&d);
}

/* A folder that does not exist is the claim's CIM_ERR_IO, naming R.h5; a
 * writer refuses an output that was never claimed. */
static void test_missing_directory_is_io_error(void **state)
{
    run_data d;
    cim_error err = {0, ""};
    cim_h5_run *w = (cim_h5_run *)&d; /* must come back NULL */
    (void)state;
    run_data_init(&d, "no_such_dir/R.h5", 2, 2, 0);
    {
        const cim_outfile_spec spec = {.path = d.path};
        assert_int_equal(cim_outfile_claim(&spec, &d.out, &err), CIM_ERR_IO);
    }
    assert_non_null(strstr(err.msg, d.path));
    assert_non_null(strstr(err.msg, "No such file or directory"));
    assert_null(d.out.path);
    cim_error_clear(&err);
    assert_int_equal(cim_h5_run_create(&d.meta, &w, &err), CIM_ERR_USAGE);
    assert_null(w);
    assert_non_null(strstr(err.msg, "no claimed output file"));
    d.meta.out = NULL;
    w = (cim_h5_run *)&d;
    cim_error_clear(&err);
    assert_int_equal(cim_h5_run_create(&d.meta, &w, &err), CIM_ERR_USAGE);
    assert_null(w);
    assert_int_equal(cim_test_count_entries(d.dir), 0);
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
    claim(&d, 0, 0);
    const char *const missing_model[N_LAYERS] = {"cell", "cell", NULL};
    for (int c = 0; c < 10; ++c) {
        m = d.meta;
        switch (c) {
        case 7:
            m.c2c_model = NULL;
            break;
        case 8:
            m.c2c_model_used = missing_model;
            break;
        case 9:
            m.c2c_bound_mean_abs_diff_na = NULL;
            break;
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
        case 6:
            m.prov = NULL;
            break;
        }
        cim_error_clear(&err);
        assert_int_equal(cim_h5_run_create(&m, &w, &err), CIM_ERR_USAGE);
        assert_null(w);
        assert_non_null(strstr(err.msg, d.path));
        assert_int_equal(cim_test_count_entries(d.dir), 0);
    }
    cim_outfile_release(&d.out, 0);
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

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_without_trace),
        cmocka_unit_test(test_round_trip_with_trace),
        cmocka_unit_test(test_trials_written_seen_by_reader),
        cmocka_unit_test(test_out_of_order_append_rejected),
        cmocka_unit_test(test_finish_checks_trials_and_summary),
        cmocka_unit_test(test_finish_before_start_is_usage_error),
        cmocka_unit_test(test_use_after_finish_is_usage_error),
        cmocka_unit_test(test_hdf5_failure_breaks_the_handle),
        cmocka_unit_test(test_discard_then_release),
        cmocka_unit_test(test_existing_results_file_needs_force),
        cmocka_unit_test(test_crash_keeps_finished_trials_in_partial),
        cmocka_unit_test(test_read_partial_returns_appended_trials),
        cmocka_unit_test(test_profile_rows_and_totals),
        cmocka_unit_test(test_read_partial_refuses_another_run),
        cmocka_unit_test(test_read_partial_refuses_other_files),
        cmocka_unit_test(test_missing_directory_is_io_error),
        cmocka_unit_test(test_bad_meta_rejected),
        cmocka_unit_test(test_h5py_reads_file),
    };
    if (argc == 3 && strcmp(argv[1], "--swmr-read") == 0)
        return swmr_read_main(argv[2]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
