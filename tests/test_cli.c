/* test_cli.c -- `cimgpu` run as a user runs it: the binary (CIMGPU_BIN) is
 * spawned with stdout and stderr captured in files, under a timeout so that a
 * hang fails the test instead of stalling ctest.
 *
 * Bad input is the normal case here: for every way a command line, a config
 * or a CSV file can be wrong, the run must exit with status 2, print nothing
 * on stdout and exactly one line on stderr that names the culprit (the file,
 * line, column, key or option at fault). The positive tests run the worked
 * examples of tests/data/mvm (stdout must equal their `expected` lines), check
 * reproducibility (same seed, same bytes; another seed, other numbers), the
 * HDF5 file of --out (results equal to stdout, root attributes, crash-safe
 * naming) and the shapes and recombination of --trace.
 *
 * The group fixture makes a scratch folder and opens the default OpenCL device
 * once to see whether there is one (PoCL in CI); tests that run the engine
 * skip() without a device. CIMGPU_DEVICE and CIMGPU_MODEL_DIR are unset so
 * that the children see the defaults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cim_cifar_writer.h"
#include "cim_idx.h"
#include "cim_mappings.h"
#include "cim_model.h"
#include "cim_model_writer.h"
#include "cim_ocl.h"
#include "cim_test_cli.h"
#include "cim_test_h5.h"
#include "cim_test_util.h"

#define MAX_ARGS CIM_TEST_CLI_MAX_ARGS
#define CLI_DATA CIM_TEST_DATA_DIR "/cli/"
/* `cimgpu mvm` on a small valid problem of tests/data/cli: BNN_III, a 3 x 5
 * weight matrix and 2 inputs */
#define MVM_BNN3                                                                                   \
    "mvm", "--config", CLI_DATA "bnn3.json", "--weights", CLI_DATA "w_bnn.csv", "--inputs",        \
        CLI_DATA "x_bnn.csv"
#define MVM_EXAMPLES CIM_TEST_DATA_DIR "/mvm"
#define N_MVM_EXAMPLES 44 /* tests/data/mvm/README.md */

typedef struct fixture {
    char dir[CIM_TEST_PATH_MAX]; /* scratch folder for generated files and output */
    int have_device;
} fixture;

typedef cim_cli_result run_result;

/* ---- scratch files ---------------------------------------------------- */

static const char *scratch(const fixture *f, const char *name, char *buf)
{
    int n = snprintf(buf, CIM_TEST_PATH_MAX, "%s/%s", f->dir, name);
    assert_true(n > 0 && n < CIM_TEST_PATH_MAX);
    return buf;
}

/* ---- running the binary ---------------------------------------------- */

static void run_argv(const fixture *f, run_result *r, const char *const *args)
{
    cim_test_cli_run(f->dir, r, args);
}

/* run(f, &r, "mvm", "--config", path, ..., NULL) */
static void run(const fixture *f, run_result *r, ...)
{
    const char *args[MAX_ARGS + 1];
    int n = 0;
    va_list ap;
    va_start(ap, r);
    while (n < MAX_ARGS && (args[n] = va_arg(ap, const char *)) != NULL)
        ++n;
    va_end(ap);
    args[n] = NULL;
    run_argv(f, r, args);
}

static void result_free(run_result *r)
{
    cim_test_cli_free(r);
}

#define assert_error_line cim_test_cli_assert_error_line
#define assert_success cim_test_cli_assert_success

/* Runs cimgpu with the NULL-terminated `args` and expects exit status 2 and
 * one error line naming `culprit` (and `culprit2` when not NULL). */
static void expect_usage_error(const fixture *f, const char *const *args, const char *culprit,
                               const char *culprit2)
{
    run_result r;
    run_argv(f, &r, args);
    assert_error_line(&r, 2, culprit, culprit2, NULL);
    result_free(&r);
}

/* A command line (NULL-padded) that must fail with status 2, and what its
 * error line must name. */
#define MAX_CASE_ARGS 12 /* a usage_case's arguments, NULL padding included */

typedef struct usage_case {
    const char *args[MAX_CASE_ARGS];
    const char *culprit, *culprit2;
} usage_case;

static void expect_usage_errors(const fixture *f, const usage_case *cases, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        expect_usage_error(f, cases[i].args, cases[i].culprit, cases[i].culprit2);
}

/* Runs `cimgpu mvm` on files of tests/data/cli and expects a usage/input
 * error naming `culprit` (and `culprit2` when not NULL). */
static void expect_mvm_error(const fixture *f, const char *config, const char *weights,
                             const char *inputs, const char *culprit, const char *culprit2)
{
    char cfg[CIM_TEST_PATH_MAX], w[CIM_TEST_PATH_MAX], x[CIM_TEST_PATH_MAX];
    snprintf(cfg, sizeof cfg, "%s%s", CLI_DATA, config);
    snprintf(w, sizeof w, "%s%s", CLI_DATA, weights);
    snprintf(x, sizeof x, "%s%s", CLI_DATA, inputs);
    const char *const args[] = {"mvm", "--config", cfg, "--weights", w, "--inputs", x, NULL};
    expect_usage_error(f, args, culprit, culprit2);
}

/* `cimgpu mvm` on the valid BNN3 problem with `option value` added, for every
 * value in `bad`: each must be a usage error naming the option. */
static void expect_bad_option_values(const fixture *f, const char *option, const char *const *bad,
                                     size_t n)
{
    for (size_t i = 0; i < n; ++i) {
        const char *const args[] = {MVM_BNN3, option, bad[i], NULL};
        expect_usage_error(f, args, option, NULL);
    }
}

/* ---- worked examples -------------------------------------------------- */

static void write_csv(const char *path, const cJSON *matrix)
{
    FILE *fp = fopen(path, "wb");
    const cJSON *row, *v;
    assert_non_null(fp);
    cJSON_ArrayForEach(row, matrix)
    {
        int first = 1;
        cJSON_ArrayForEach(v, row)
        {
            fprintf(fp, first ? "%d" : ",%d", v->valueint);
            first = 0;
        }
        fputc('\n', fp);
    }
    assert_int_equal(fclose(fp), 0);
}

/* The stdout text for a matrix of results, one line per row. */
static char *lines_of(const cJSON *matrix)
{
    size_t cap = 4096, used = 0;
    char *text = malloc(cap);
    const cJSON *row, *v;
    assert_non_null(text);
    text[0] = '\0';
    cJSON_ArrayForEach(row, matrix)
    {
        int first = 1;
        cJSON_ArrayForEach(v, row)
        {
            if (cap - used < 32) {
                cap *= 2;
                text = realloc(text, cap);
                assert_non_null(text);
            }
            used += (size_t)snprintf(text + used, cap - used, first ? "%d" : ",%d", v->valueint);
            first = 0;
        }
        text[used++] = '\n';
        text[used] = '\0';
    }
    return text;
}

static cJSON *load_example(const char *name)
{
    char path[CIM_TEST_PATH_MAX];
    char *text;
    cJSON *doc;
    snprintf(path, sizeof path, "%s/%s", MVM_EXAMPLES, name);
    text = cim_test_read_file(path);
    doc = cJSON_Parse(text);
    free(text);
    if (!doc)
        fail_msg("%s: not valid JSON", path);
    return doc;
}

/* Writes cfg.json, W.csv and X.csv of an example into the scratch folder. */
static void stage_example(const fixture *f, const cJSON *doc)
{
    char path[CIM_TEST_PATH_MAX];
    char *cfg = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(doc, "config"));
    assert_non_null(cfg);
    cim_test_write_text(scratch(f, "cfg.json", path), cfg);
    free(cfg);
    write_csv(scratch(f, "W.csv", path), cJSON_GetObjectItemCaseSensitive(doc, "weights"));
    write_csv(scratch(f, "X.csv", path), cJSON_GetObjectItemCaseSensitive(doc, "inputs"));
}

static void set_config_number(cJSON *doc, const char *key, double value)
{
    cJSON *cfg = cJSON_GetObjectItemCaseSensitive(doc, "config");
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, key);
    assert_non_null(cJSON_AddNumberToObject(cfg, key, value));
}

static void set_config_bool(cJSON *doc, const char *key, int value)
{
    cJSON *cfg = cJSON_GetObjectItemCaseSensitive(doc, "config");
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, key);
    assert_non_null(cJSON_AddBoolToObject(cfg, key, value));
}

/* Runs `cimgpu mvm` on the staged example with extra arguments. */
static void run_staged(const fixture *f, run_result *r, const char *const *extra)
{
    char cfg[CIM_TEST_PATH_MAX], w[CIM_TEST_PATH_MAX], x[CIM_TEST_PATH_MAX];
    const char *args[MAX_ARGS + 1] = {"mvm",
                                      "--config",
                                      scratch(f, "cfg.json", cfg),
                                      "--weights",
                                      scratch(f, "W.csv", w),
                                      "--inputs",
                                      scratch(f, "X.csv", x)};
    int n = 7;
    for (; extra && *extra && n < MAX_ARGS; ++extra)
        args[n++] = *extra;
    args[n] = NULL;
    run_argv(f, r, args);
}

/* Parses stdout into a malloc'd array of n_lines x per_line integers. */
static int32_t *parse_results(const char *text, int n_lines, int per_line)
{
    int32_t *v = malloc(sizeof *v * (size_t)n_lines * per_line);
    const char *at = text;
    assert_non_null(v);
    for (int l = 0; l < n_lines; ++l) {
        for (int m = 0; m < per_line; ++m) {
            char *end;
            long x = strtol(at, &end, 10);
            assert_true(end != at);
            assert_int_equal(*end, m + 1 < per_line ? ',' : '\n');
            v[(size_t)l * per_line + m] = (int32_t)x;
            at = end + 1;
        }
    }
    assert_int_equal(*at, '\0');
    return v;
}

static int count_lines(const char *text)
{
    int n = 0;
    for (; *text; ++text)
        n += *text == '\n';
    return n;
}

/* ---- HDF5 readback ---------------------------------------------------- */

/* Chunked along whole trials (a reader loads one trial without the rest):
 * every axis but the trial axis is whole in a chunk. */
static void assert_chunked_by_trial(hid_t file, const char *name)
{
    hid_t dset = H5Dopen2(file, name, H5P_DEFAULT);
    hid_t dcpl = H5Dget_create_plist(dset), space = H5Dget_space(dset);
    hsize_t chunk[8], dims[8];
    int rank = H5Sget_simple_extent_dims(space, dims, NULL);
    assert_int_equal(H5Pget_layout(dcpl), H5D_CHUNKED);
    CIM_ASSERT_I64_EQ(H5Pget_chunk(dcpl, 8, chunk), rank);
    assert_true(chunk[0] >= 1 && chunk[0] <= dims[0]);
    for (int a = 1; a < rank; ++a)
        CIM_ASSERT_I64_EQ(chunk[a], dims[a]);
    H5Sclose(space);
    H5Pclose(dcpl);
    H5Dclose(dset);
}

/* ---- fixture ---------------------------------------------------------- */

static int group_setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    cim_ocl ocl;
    cim_error err;
    if (!f)
        return -1;
    unsetenv("CIMGPU_DEVICE");
    unsetenv("CIMGPU_MODEL_DIR");
    if (cim_test_make_scratch_dir(f->dir, sizeof f->dir, "cli") != 0) {
        perror("mkdtemp");
        free(f);
        return -1;
    }
    cim_error_clear(&err);
    f->have_device = cim_ocl_open(&ocl, NULL, &err) == 0;
    if (f->have_device)
        cim_ocl_close(&ocl);
    else
        fprintf(stderr, "test_cli: no OpenCL device, engine tests skip: %s\n", err.msg);
    *state = f;
    /* No device at all: skip those tests. A device whose build fails: fail. */
    return f->have_device || err.code == CIM_ERR_NODEVICE ? 0 : -1;
}

static int group_teardown(void **state)
{
    fixture *f = *state;
    cim_test_remove_tree(f->dir);
    free(f);
    return 0;
}

#define NEED_DEVICE(f) CIM_TEST_CLI_NEED_DEVICE((f)->have_device)

/* ---- top level -------------------------------------------------------- */

/* `cimgpu run --help` (and plain `cimgpu --help`) describe the default job. */
static void test_run_help(void **state)
{
    run_result r;
    run(*state, &r, "run", "--help", NULL);
    assert_success(&r);
    assert_non_null(strstr(r.out, "Usage: cimgpu [run]"));
    assert_non_null(strstr(r.out, "--trials"));
    result_free(&r);
}

static void test_help_and_version(void **state)
{
    run_result r;
    run(*state, &r, "--help", NULL);
    assert_success(&r);
    assert_non_null(strstr(r.out, "mvm"));
    assert_string_equal(r.err, "");
    result_free(&r);

    run(*state, &r, "--version", NULL);
    assert_success(&r);
    assert_true(strncmp(r.out, "cimgpu " CIM_VERSION, strlen("cimgpu " CIM_VERSION)) == 0);
    result_free(&r);

    run(*state, &r, "mvm", "--help", NULL);
    assert_success(&r);
    assert_non_null(strstr(r.out, "--config CFG.json"));
    assert_non_null(strstr(r.out, "adc_calib_dict"));
    assert_non_null(strstr(r.out, "\"mvm\""));
    assert_non_null(strstr(r.out, "default 1"));
    assert_non_null(strstr(r.out, "default 0"));
    result_free(&r);

    run(*state, &r, "info", "--help", NULL);
    assert_success(&r);
    assert_non_null(strstr(r.out, "Usage: cimgpu info"));
    result_free(&r);
}

/* The network Monte-Carlo on bad input: exit 2, one line naming the culprit. */
static void test_run_bad_input(void **state)
{
    static const usage_case cases[] = {
        {{"run", "--trials", "0"}, "--trials", NULL},
        {{"--trials", "abc"}, "--trials", NULL},
        {{"run", "--images", "0"}, "--images", NULL},
        {{"run", "--images", "10001"}, "image count out of range", NULL},
        {{"run", "--first-image", "9999", "--images", "2"}, "image count out of range", NULL},
        {{"run", "--model", "/nonexistent/m.h5"}, "/nonexistent/m.h5", NULL},
        {{"run", "--data", "/nonexistent"}, "/nonexistent", NULL},
        {{"run", "--mapping", "BNN_I"}, "BNN_I", "ternary"},
        {{"run", "--mapping", "XNN"}, "XNN", NULL},
        {{"run", "--trace"}, "--trace", NULL},
        {{"run", "--yield-target", "2"}, "--yield-target", NULL},
        {{"run", "--adc-bits", "17"}, "--adc-bits", NULL},
        {{"run", "--first-layer", "cpu"}, "--first-layer", "host or crossbar"},
        {{"run", "--pipeline", "gpu"}, "--pipeline", "auto, host or device"},
        {{"run", "--bogus"}, "--bogus", NULL},
        {{"run", "--config", "/nonexistent.json"}, "/nonexistent.json", NULL},
        {{"run", "--saf-lrs", "1.5"}, "--saf-lrs", "probability"},
        {{"run", "--saf-hrs", "-0.1"}, "--saf-hrs", "probability"},
        {{"run", "--saf-hrs", "0.6", "--saf-lrs", "0.6"}, "SAF_HRS + SAF_LRS <= 1", NULL},
    };
    expect_usage_errors(*state, cases, sizeof cases / sizeof *cases);
}

/* --saf-hrs / --saf-lrs override the config, show in the banner and are
 * recorded in the results file's resolved config; a device table from a
 * CSV is recorded as its points. */
static void test_run_faults_and_tables_recorded(void **state)
{
    const fixture *f = *state;
    char out[CIM_TEST_PATH_MAX], cfg[CIM_TEST_PATH_MAX], json[CIM_TEST_PATH_MAX + 64];
    run_result r;
    if (!f->have_device)
        skip();
    scratch(f, "faults.h5", out);
    scratch(f, "tables.json", cfg);
    snprintf(json, sizeof json,
             "{\"SAF_LRS\": 0.2, \"device_cdf_csv\": \"%s/data/devices/example_rram.csv\"}",
             CIM_SOURCE_DIR);
    cim_test_write_text(cfg, json);
    run(f, &r, "--trials", "2", "--images", "4", "--config", cfg, "--saf-lrs", "0.05", "--saf-hrs",
        "0.01", "--out", out, NULL);
    assert_success(&r);
    assert_non_null(strstr(r.out, "stuck-at faults: 0.01 of the cells at HRS, 0.05 at LRS"));
    assert_non_null(strstr(r.out, "device tables: D2D HRS 257 / LRS 257 points"));
    result_free(&r);
    hid_t file = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    char *text = cim_test_read_string_attr(file, "config_json");
    assert_non_null(strstr(text, "\"SAF_HRS\":0.01,\"SAF_LRS\":0.05"));
    assert_non_null(strstr(text, "\"device_cdf\":{\"HRS\":[["));
    assert_null(strstr(text, "device_cdf_csv"));
    free(text);
    H5Fclose(file);
}

/* Writes <dir>/<split>-images-idx3-ubyte (`count` images of h x w bytes) and
 * <dir>/<split>-labels-idx1-ubyte (labels 0, 1, ...) for `run --data --split`. */
static void write_idx_pair(const fixture *f, const char *split, uint32_t count, uint32_t h,
                           uint32_t w)
{
    char name[64], path[CIM_TEST_PATH_MAX];
    const uint32_t image_dims[3] = {count, h, w};
    for (int labels = 0; labels <= 1; ++labels) {
        snprintf(name, sizeof name, "%s-%s", split,
                 labels ? "labels-idx1-ubyte" : "images-idx3-ubyte");
        FILE *fp = fopen(scratch(f, name, path), "wb");
        assert_non_null(fp);
        const int rank = labels ? 1 : 3;
        const uint8_t magic[4] = {0, 0, 0x08, (uint8_t)rank};
        assert_int_equal(fwrite(magic, 1, 4, fp), 4);
        for (int i = 0; i < rank; ++i) {
            const uint32_t v = image_dims[i];
            const uint8_t be[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                                   (uint8_t)v};
            assert_int_equal(fwrite(be, 1, 4, fp), 4);
        }
        const uint64_t n = labels ? count : (uint64_t)count * h * w;
        for (uint64_t i = 0; i < n; ++i)
            assert_int_equal(fputc(labels ? (int)(i % 10) : (int)(i % 251), fp) != EOF, 1);
        assert_int_equal(fclose(fp), 0);
    }
}

/* IDX images whose pixel count equals the model's input (784 for the default
 * [1,28,28]) but whose geometry does not -- 1x784, 14x56 -- are bad input:
 * exit 2, one line naming the images file, its shape and the model's. */
static void test_run_dataset_shape_mismatch(void **state)
{
    const fixture *f = *state;
    static const struct {
        const char *split;
        uint32_t h, w;
        const char *shape;
    } cases[] = {{"flat", 1, 784, "[1,1,784]"}, {"wide", 14, 56, "[1,14,56]"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
        char images[CIM_TEST_PATH_MAX], name[64];
        write_idx_pair(f, cases[i].split, 3, cases[i].h, cases[i].w);
        snprintf(name, sizeof name, "%s-images-idx3-ubyte", cases[i].split);
        scratch(f, name, images);
        const char *const args[] = {"run",      "--data", f->dir,     "--split", cases[i].split,
                                    "--images", "2",      "--trials", "2",       NULL};
        run_result r;
        run_argv(f, &r, args);
        assert_error_line(&r, 2, images, cases[i].shape, "tnn_cnn.h5", "input_shape [1,28,28]",
                          NULL);
        result_free(&r);
    }
}

/* A CIFAR-10 folder (python batches, written as Python 2's cPickle wrote
 * them) with a 3-channel model: the default split t10k is its test_batch;
 * the results file records the batch file and its SHA-256, and the training
 * split's five files joined. A model of [1,28,28] is a shape mismatch
 * naming the batch file, and --out may not be one of the batches. */
static void test_run_cifar10_folder(void **state)
{
    const fixture *f = *state;
    char dir[CIM_TEST_PATH_MAX], model[CIM_TEST_PATH_MAX], out[CIM_TEST_PATH_MAX];
    char batch[CIM_TEST_PATH_BUF], joined[CIM_TEST_PATH_BUF * 6] = "";
    run_result r;
    scratch(f, "cifar-10-batches-py", dir);
    cim_test_remove_tree(dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    cim_cw_cifar10_folder(dir, 8, 3);
    cim_test_path(batch, "%s/test_batch", dir);
    cim_mw_model *w = cim_mw_new("bnn", 3, 32, 32, 10, 5);
    cim_mw_conv2d(w, 3, 4, 3, 3, 2, 2, 1, 1, 0, NULL); /* -> [4,16,16] on the host */
    cim_mw_batchnorm(w, 4, NULL, NULL, NULL);
    cim_mw_activation(w);
    cim_mw_flatten(w);
    cim_mw_dense(w, 1024, 10, NULL); /* on the crossbar */
    assert_int_equal(cim_mw_write(w, scratch(f, "cifar_bnn.h5", model)), 0);
    cim_mw_free(w);

    run(f, &r, "run", "--data", dir, "--images", "2", "--trials", "1", NULL);
    assert_error_line(&r, 2, "dataset shape mismatch", batch, "[3,32,32]", "3 channels",
                      "input_shape [1,28,28]", NULL);
    result_free(&r);
    run(f, &r, "run", "--model", model, "--data", dir, "--split", "valid", NULL);
    assert_error_line(&r, 2, dir, "no split \"valid\"", NULL);
    result_free(&r);
    if (!f->have_device)
        return;

    run(f, &r, "run", "--model", model, "--data", dir, "--out", batch, "--trials", "1", NULL);
    assert_error_line(&r, 2, batch, "--data", NULL);
    result_free(&r);
    char sha[65];
    cim_error err = {0};
    assert_int_equal(cim_file_sha256_hex(batch, sha, &err), 0);
    scratch(f, "cifar10.h5", out);
    remove(out);
    run(f, &r, "run", "--model", model, "--data", dir, "--images", "8", "--trials", "2", "--out",
        out, NULL);
    assert_success(&r);
    assert_non_null(strstr(r.out, batch));
    assert_non_null(strstr(r.out, "mean accuracy"));
    result_free(&r);
    hid_t file = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    cim_test_assert_string_attr(file, "dataset_images", batch);
    cim_test_assert_string_attr(file, "dataset_labels", batch);
    cim_test_assert_string_attr(file, "dataset_images_sha256", sha);
    cim_test_assert_string_attr(file, "dataset_labels_sha256", sha);
    H5Fclose(file);

    for (int k = 1; k <= 5; ++k) {
        char name[CIM_TEST_PATH_BUF];
        if (k > 1)
            strcat(joined, CIM_DATASET_PATH_SEPARATOR);
        strcat(joined, cim_test_path(name, "%s/data_batch_%d", dir, k));
    }
    run(f, &r, "run", "--model", model, "--data", dir, "--split", "train", "--first-image", "2",
        "--images", "12", "--trials", "1", "--out", out, "--force", NULL);
    assert_success(&r);
    result_free(&r);
    file = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    cim_test_assert_string_attr(file, "dataset_images", joined);
    cim_test_assert_string_attr(file, "dataset_labels", joined);
    H5Fclose(file);
}

/* A small run end to end: summary on stdout, a complete results file whose
 * per-trial counts give the printed mean; a replayed trial (--trial-offset)
 * equals the same trial inside the run. */
static void test_run_small_and_replay(void **state)
{
    const fixture *f = *state;
    char out[CIM_TEST_PATH_MAX], one[CIM_TEST_PATH_MAX];
    run_result r;
    int rank;
    hsize_t dims[2];
    if (!f->have_device)
        skip();
    scratch(f, "run.h5", out);
    scratch(f, "one.h5", one);
    run(f, &r, "--trials", "4", "--images", "6", "--first-image", "3", "--seed", "9", "--lrs-noise",
        "8", "--out", out, NULL);
    assert_success(&r);
    assert_non_null(strstr(r.out, "mean accuracy"));
    assert_non_null(strstr(r.out, "digital (ideal) accuracy"));
    result_free(&r);
    run(f, &r, "run", "--trials", "1", "--trial-offset", "2", "--images", "6", "--first-image", "3",
        "--seed", "9", "--lrs-noise", "8", "--out", one, NULL);
    assert_success(&r);
    result_free(&r);
    hid_t a = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT),
          b = H5Fopen(one, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(a >= 0 && b >= 0);
    int64_t *all = cim_test_read_dataset(a, "trials/correct", H5T_NATIVE_INT64, &rank, dims);
    assert_int_equal(dims[0], 4);
    int64_t *alone = cim_test_read_dataset(b, "trials/correct", H5T_NATIVE_INT64, &rank, dims);
    assert_int_equal(dims[0], 1);
    CIM_ASSERT_I64_EQ(alone[0], all[2]);
    free(all);
    free(alone);
    H5Fclose(a);
    H5Fclose(b);
}

/* --pipeline host and --pipeline device write the same per-trial counts and
 * layer error rates (the bits do not depend on where the work runs). */
static void test_run_pipelines_agree(void **state)
{
    const fixture *f = *state;
    char paths[2][CIM_TEST_PATH_MAX];
    static const char *const pipelines[2] = {"host", "device"};
    int64_t *correct[2];
    double *errors[2];
    int rank;
    hsize_t dims[2][2];
    if (!f->have_device)
        skip();
    for (int p = 0; p < 2; ++p) {
        run_result r;
        char name[32];
        snprintf(name, sizeof name, "%s.h5", pipelines[p]);
        scratch(f, name, paths[p]);
        remove(paths[p]); /* an earlier test's; a result is replaced only with --force */
        run(f, &r, "--trials", "5", "--images", "12", "--lrs-noise", "9", "--hrs-noise", "3",
            "--adc-bits", "4", "--pipeline", pipelines[p], "--out", paths[p], NULL);
        assert_success(&r);
        result_free(&r);
        hid_t file = H5Fopen(paths[p], H5F_ACC_RDONLY, H5P_DEFAULT);
        assert_true(file >= 0);
        correct[p] =
            cim_test_read_dataset(file, "trials/correct", H5T_NATIVE_INT64, &rank, dims[p]);
        errors[p] = cim_test_read_dataset(file, "trials/layer_error_rate", H5T_NATIVE_DOUBLE, &rank,
                                          dims[p]);
        H5Fclose(file);
    }
    assert_memory_equal(dims[0], dims[1], sizeof dims[0]);
    assert_memory_equal(correct[0], correct[1], sizeof(int64_t) * 5);
    assert_memory_equal(errors[0], errors[1], sizeof(double) * (size_t)(dims[0][0] * dims[0][1]));
    for (int p = 0; p < 2; ++p) {
        free(correct[p]);
        free(errors[p]);
    }
}

/* --first-layer crossbar: the layer on raw pixels joins the crossbar layers
 * (its error rate is stored with theirs) and the file says where it ran;
 * without the option it runs on the host. */
static void test_run_first_layer_on_crossbar(void **state)
{
    const fixture *f = *state;
    char host[CIM_TEST_PATH_MAX], xbar[CIM_TEST_PATH_MAX];
    run_result r;
    int rank;
    hsize_t dims[2];
    if (!f->have_device)
        skip();
    scratch(f, "host.h5", host);
    scratch(f, "xbar.h5", xbar);
    run(f, &r, "--trials", "3", "--images", "8", "--lrs-noise", "9", "--hrs-noise", "3", "--out",
        host, NULL);
    assert_success(&r);
    assert_non_null(
        strstr(r.out, "layers on crossbars: 2 of 3 weight layers (on raw pixels: host"));
    result_free(&r);
    run(f, &r, "--trials", "3", "--images", "8", "--lrs-noise", "9", "--hrs-noise", "3", "--out",
        xbar, "--first-layer", "crossbar", NULL);
    assert_success(&r);
    assert_non_null(
        strstr(r.out, "layers on crossbars: 3 of 3 weight layers (on raw pixels: crossbar"));
    result_free(&r);
    hid_t a = H5Fopen(host, H5F_ACC_RDONLY, H5P_DEFAULT),
          b = H5Fopen(xbar, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(a >= 0 && b >= 0);
    cim_test_assert_string_attr(a, "first_layer", "host");
    cim_test_assert_string_attr(b, "first_layer", "crossbar");
    double *ea =
        cim_test_read_dataset(a, "trials/layer_error_rate", H5T_NATIVE_DOUBLE, &rank, dims);
    assert_int_equal(dims[1], 2);
    double *eb =
        cim_test_read_dataset(b, "trials/layer_error_rate", H5T_NATIVE_DOUBLE, &rank, dims);
    assert_int_equal(dims[0], 3);
    assert_int_equal(dims[1], 3);
    for (int t = 0; t < 3; ++t) {
        /* the first layer's bit planes see the noise; the later layers of
         * the same chip get different inputs, so they are compared too */
        assert_true(eb[t * 3] > 0.0);
        assert_true(eb[t * 3 + 1] >= 0.0 && eb[t * 3 + 2] >= 0.0);
    }
    free(ea);
    free(eb);
    H5Fclose(a);
    H5Fclose(b);
}

/* Runs cimgpu with args (argv[1] on, NULL-terminated), stderr on a
 * terminal and stdout to /dev/null; returns what the terminal showed
 * (NUL-terminated in text, its length) and the seconds it took. */
static size_t on_a_terminal(const char *const *args, char *text, size_t size, double *seconds)
{
    const char *argv[CIM_TEST_CLI_MAX_ARGS + 2] = {CIMGPU_BIN};
    size_t len = 0;
    struct timespec t0, t1;
    int master, status;
    for (int i = 0; args[i]; ++i)
        argv[i + 1] = args[i];
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const pid_t pid = forkpty(&master, NULL, NULL, NULL);
    assert_true(pid >= 0);
    if (pid == 0) {
        const int null = open("/dev/null", O_WRONLY);
        if (null < 0 || dup2(null, STDOUT_FILENO) < 0)
            _exit(126);
        execv(CIMGPU_BIN, (char *const *)argv);
        _exit(127);
    }
    for (;;) { /* until the child closes the terminal (EIO) or the timeout */
        struct pollfd p = {master, POLLIN, 0};
        const int ready = poll(&p, 1, CIM_TEST_CLI_TIMEOUT_S * 1000);
        if (ready <= 0) {
            kill(pid, SIGKILL);
            fail_msg("cimgpu under a terminal did not finish within %d s", CIM_TEST_CLI_TIMEOUT_S);
        }
        const ssize_t n = read(master, text + len, size - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == size - 1)
            fail_msg("more than %zu bytes of progress", size);
    }
    text[len] = '\0';
    assert_int_equal(waitpid(pid, &status, 0), pid);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    close(master);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    *seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    /* the last thing written clears the progress line */
    static const char clear[] = "\r\033[K";
    if (*seconds >= 2.0) {
        assert_true(len >= sizeof clear - 1);
        assert_memory_equal(text + len - (sizeof clear - 1), clear, sizeof clear - 1);
    }
    return len;
}

/* cimgpu args on a terminal shows a progress line with `what` and `of`,
 * the time elapsed and the time left (skipped on a device that finishes
 * before progress is due). */
static void assert_progress_on_a_terminal(const char *const *args, const char *what, const char *of)
{
    char text[1 << 16];
    double seconds;
    on_a_terminal(args, text, sizeof text, &seconds);
    if (seconds < 2.0)
        skip(); /* a device this fast finishes before progress is due */
    if (!strstr(text, what) || !strstr(text, of) || !strstr(text, " elapsed, about ") ||
        !strstr(text, " left"))
        fail_msg("no progress line (%s) on the terminal: \"%s\"", what, text);
}

/* On a terminal, a run longer than a second shows progress on stderr (done,
 * elapsed, time left) and clears the line at the end; run as above (not a
 * terminal) it prints none -- every other test checks that stderr is empty
 * or one line. */
static void test_progress_on_a_terminal(void **state)
{
    const fixture *f = *state;
    static const char *const args[] = {"--trials", "600", "--images", "100", NULL};
    if (!f->have_device)
        skip();
    assert_progress_on_a_terminal(args, "cimgpu: run: ", " of 600 trials (");
}

/* A sweep's progress covers the whole sweep: configurations done of the
 * total, the current one, the time left. */
static void test_sweep_progress_on_a_terminal(void **state)
{
    const fixture *f = *state;
    char exp[CIM_TEST_PATH_BUF];
    if (!f->have_device)
        skip();
    cim_test_path(exp, "%s/progress.json", f->dir);
    cim_test_write_text(exp,
                        "{\"nn_names\": [\"tnn_cnn\"], \"ifm\": [[28, 28, 1]], \"batch\": 100,"
                        " \"num_runs\": 1, \"xbar_size\": [[256, 256]], \"hrs_lrs\": [[5, 30]],"
                        " \"m_mode\": [\"TNN_I\", \"TNN_II\", \"TNN_III\"], \"hrs_noise\": 1,"
                        " \"lrs_noise\": 4, \"trials\": 200}");
    const char *const args[] = {"sweep", exp, NULL};
    assert_progress_on_a_terminal(args, "cimgpu: sweep: configuration ", " of 3 configurations (");
}

static void test_unknown_subcommand_and_options(void **state)
{
    static const usage_case cases[] = {
        {{"frobnicate"}, "frobnicate", NULL},
        {{"mvm", "--bogus"}, "--bogus", NULL},
        {{"mvm", "-q"}, "-q", NULL},
        {{"mvm", "--trace=yes"}, "--trace=yes", NULL},
        {{"mvm", "--config"}, "--config", "needs a value"},
        {{"mvm", "stray"}, "stray", NULL},
        {{"info", "--verbose"}, "--verbose", NULL},
    };
    expect_usage_errors(*state, cases, sizeof cases / sizeof *cases);
}

static void test_required_options(void **state)
{
    static const usage_case cases[] = {
        {{"mvm"}, "--config", NULL},
        {{"mvm", "--config", CLI_DATA "bnn3.json", "--inputs", CLI_DATA "x_bnn.csv"},
         "--weights",
         NULL},
        {{"mvm", "--config", CLI_DATA "bnn3.json", "--weights", CLI_DATA "w_bnn.csv"},
         "--inputs",
         NULL},
        {{MVM_BNN3, "--trace"}, "--trace", "--out"},
    };
    expect_usage_errors(*state, cases, sizeof cases / sizeof *cases);
}

static void test_bad_trials(void **state)
{
    static const char *const bad[] = {
        "0", "-1", "abc", "", "1000000001", " 5", "5x", "+3", "99999999999999999999999"};
    expect_bad_option_values(*state, "--trials", bad, sizeof bad / sizeof *bad);
}

static void test_bad_seed(void **state)
{
    static const char *const bad[] = {"-1", "abc", "", "18446744073709551616", "0x10", "1.5", "-0"};
    expect_bad_option_values(*state, "--seed", bad, sizeof bad / sizeof *bad);
}

/* ---- bad files -------------------------------------------------------- */

static void test_missing_files(void **state)
{
    expect_mvm_error(*state, "no_such.json", "w_bnn.csv", "x_bnn.csv", "no_such.json", NULL);
    expect_mvm_error(*state, "bnn3.json", "no_such_w.csv", "x_bnn.csv", "no_such_w.csv", NULL);
    expect_mvm_error(*state, "bnn3.json", "w_bnn.csv", "no_such_x.csv", "no_such_x.csv", NULL);
}

static void test_bad_csv(void **state)
{
    expect_mvm_error(*state, "bnn3.json", "w_ragged.csv", "x_bnn.csv", "w_ragged.csv", "2");
    expect_mvm_error(*state, "bnn3.json", "w_nonint.csv", "x_bnn.csv", "w_nonint.csv", "\"x\"");
}

static void test_values_outside_the_alphabet(void **state)
{
    expect_mvm_error(*state, "bnn3.json", "w_bnn_zero.csv", "x_bnn.csv",
                     "w_bnn_zero.csv: line 2, column 3: weight 0", "BNN_III");
    /* blank lines before the first row count in the line number */
    expect_mvm_error(*state, "bnn3.json", "w_bnn_zero_blank_lines.csv", "x_bnn.csv",
                     "w_bnn_zero_blank_lines.csv: line 5, column 5: weight 0", "{-1,+1}");
    expect_mvm_error(*state, "bnn3.json", "w_bnn.csv", "x_bnn_two.csv",
                     "x_bnn_two.csv: line 2, column 4: input 2", "BNN_III");
}

static void test_shape_mismatch(void **state)
{
    expect_mvm_error(*state, "bnn3.json", "w_bnn.csv", "x_bnn_4cols.csv", "3x5", "2x4");
}

static void test_bad_configs(void **state)
{
    expect_mvm_error(*state, "invalid.json", "w_bnn.csv", "x_bnn.csv", "invalid.json", "JSON");
    expect_mvm_error(*state, "unknown_key.json", "w_bnn.csv", "x_bnn.csv", "unknown_key.json",
                     "bogus_key");
    expect_mvm_error(*state, "bnn1_pos_adc.json", "w_bnn.csv", "x_bnn.csv", "BNN_I",
                     "POS_RANGE_ONLY_ADC");
    expect_mvm_error(*state, "calib_no_mvm.json", "w_bnn.csv", "x_bnn.csv", "calib_no_mvm.json",
                     "\"mvm\"");
}

/* A 1-bit SYM_RANGE_ADC (2^1 - 1 = 1 level) is bad input wherever it comes
 * from: `run --adc-bits 1` on the default TNN_I crossbar, a `run --config`
 * and an `mvm --config` with resolution 1. A 1-bit POS_RANGE_ONLY_ADC (2
 * levels) still runs. */
static void test_one_bit_adcs(void **state)
{
    const fixture *f = *state;
    static const char *const levels = "2^b - 1 levels";
    char cfg[CIM_TEST_PATH_MAX], pos1[CIM_TEST_PATH_MAX];
    run_result r;
    run(f, &r, "run", "--adc-bits", "1", "--trials", "2", NULL);
    assert_error_line(&r, 2, "\"resolution\"", "SYM_RANGE_ADC", levels, "got 1", NULL);
    result_free(&r);

    cim_test_write_text(
        scratch(f, "sym1.json", cfg),
        "{\"m_mode\": \"BNN_I\", \"M\": 4, \"N\": 5, \"adc_type\": \"SYM_RANGE_ADC\", "
        "\"resolution\": 1}\n");
    run(f, &r, "mvm", "--config", cfg, "--weights", CLI_DATA "w_bnn.csv", "--inputs",
        CLI_DATA "x_bnn.csv", NULL);
    assert_error_line(&r, 2, "sym1.json", "\"resolution\"", levels, NULL);
    result_free(&r);
    run(f, &r, "run", "--config", cfg, "--trials", "2", NULL);
    assert_error_line(&r, 2, "sym1.json", "\"resolution\"", levels, NULL);
    result_free(&r);

    cim_test_write_text(scratch(f, "pos1.json", pos1),
                        "{\"m_mode\": \"BNN_III\", \"M\": 4, \"N\": 5, \"adc_type\": "
                        "\"POS_RANGE_ONLY_ADC\", \"resolution\": 1}\n");
    if (!f->have_device)
        return;
    run(f, &r, "mvm", "--config", pos1, "--weights", CLI_DATA "w_bnn.csv", "--inputs",
        CLI_DATA "x_bnn.csv", NULL);
    assert_success(&r);
    assert_int_equal(count_lines(r.out), 2);
    result_free(&r);
}

static void test_bad_device(void **state)
{
    fixture *f = *state;
    run_result r;
    NEED_DEVICE(f);
    run(f, &r, MVM_BNN3, "--device", "no-such-device-anywhere", NULL);
    assert_error_line(&r, 2, "no-such-device-anywhere", NULL);
    result_free(&r);
}

/* ---- results ---------------------------------------------------------- */

static void test_worked_examples(void **state)
{
    fixture *f = *state;
    DIR *d;
    struct dirent *e;
    int count = 0;
    NEED_DEVICE(f);
    d = opendir(MVM_EXAMPLES);
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        cJSON *doc;
        char *expected;
        run_result r;
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        doc = load_example(e->d_name);
        stage_example(f, doc);
        expected = lines_of(cJSON_GetObjectItemCaseSensitive(doc, "expected"));
        run_staged(f, &r, NULL);
        assert_success(&r);
        if (strcmp(r.out, expected) != 0)
            fail_msg("%s: stdout\n%s differs from expected\n%s", e->d_name, r.out, expected);
        assert_string_equal(r.err, "");
        free(expected);
        result_free(&r);
        cJSON_Delete(doc);
        ++count;
    }
    closedir(d);
    CIM_ASSERT_I64_EQ(count, N_MVM_EXAMPLES);
}

static void test_noise_free_trials_repeat(void **state)
{
    fixture *f = *state;
    const char *const extra[] = {"--trials", "3", "--seed", "17", NULL};
    cJSON *doc;
    char *expected, *thrice;
    size_t len;
    run_result r;
    NEED_DEVICE(f);
    doc = load_example("TNN_V_adc5.json");
    stage_example(f, doc);
    expected = lines_of(cJSON_GetObjectItemCaseSensitive(doc, "expected"));
    len = strlen(expected);
    thrice = malloc(3 * len + 1);
    assert_non_null(thrice);
    for (int t = 0; t < 3; ++t)
        memcpy(thrice + t * len, expected, len);
    thrice[3 * len] = '\0';
    run_staged(f, &r, extra);
    assert_success(&r);
    CIM_ASSERT_I64_EQ(count_lines(r.out), 3 * 6);
    assert_string_equal(r.out, thrice);
    result_free(&r);
    free(thrice);
    free(expected);
    cJSON_Delete(doc);
}

static void stage_noisy_example(const fixture *f)
{
    cJSON *doc = load_example("TNN_I_inf.json");
    set_config_number(doc, "LRS_NOISE", 3.0);
    set_config_number(doc, "HRS_NOISE", 1.0);
    set_config_bool(doc, "d2d_var", 1);
    stage_example(f, doc);
    cJSON_Delete(doc);
}

static void test_seed_makes_noise_reproducible(void **state)
{
    fixture *f = *state;
    const char *const seed5[] = {"--trials", "4", "--seed", "5", NULL};
    const char *const seed6[] = {"--trials", "4", "--seed", "6", NULL};
    run_result a, b, c;
    int32_t *v;
    int differs = 0;
    NEED_DEVICE(f);
    stage_noisy_example(f);
    run_staged(f, &a, seed5);
    run_staged(f, &b, seed5);
    run_staged(f, &c, seed6);
    assert_success(&a);
    assert_success(&b);
    assert_success(&c);
    CIM_ASSERT_I64_EQ(count_lines(a.out), 4 * 6);
    assert_string_equal(a.out, b.out);
    assert_string_not_equal(a.out, c.out);
    /* trials are different chips: not every trial prints trial 0's numbers */
    v = parse_results(a.out, 4 * 6, 12);
    for (int t = 1; t < 4; ++t)
        differs |= memcmp(v, v + t * 6 * 12, sizeof(int32_t) * 6 * 12) != 0;
    assert_true(differs);
    free(v);
    result_free(&a);
    result_free(&b);
    result_free(&c);
}

/* The trial chunks of `cimgpu mvm` (bounded memory) must not change a number:
 * CIMGPU_MVM_CHUNK_TRIALS forces tiny chunks. */
static void test_chunked_trials_match(void **state)
{
    fixture *f = *state;
    char h5_path[CIM_TEST_PATH_MAX];
    const char *const extra[] = {
        "--trials", "5", "--seed", "11", "--out", scratch(f, "chunked.h5", h5_path), NULL};
    run_result whole, chunked;
    hid_t file;
    int rank;
    hsize_t dims[3];
    int32_t *from_file, *printed;
    NEED_DEVICE(f);
    stage_noisy_example(f);
    run_staged(f, &whole, extra);
    /* the chunked run writes the file compared below (a result is replaced only with --force) */
    remove(h5_path);
    setenv("CIMGPU_MVM_CHUNK_TRIALS", "2", 1);
    run_staged(f, &chunked, extra);
    unsetenv("CIMGPU_MVM_CHUNK_TRIALS");
    assert_success(&whole);
    assert_success(&chunked);
    assert_string_equal(whole.out, chunked.out);
    file = H5Fopen(h5_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    from_file = cim_test_read_dataset(file, "results", H5T_NATIVE_INT32, &rank, dims);
    printed = parse_results(chunked.out, 5 * 6, 12);
    assert_memory_equal(from_file, printed, sizeof(int32_t) * 5 * 6 * 12);
    H5Fclose(file);
    free(from_file);
    free(printed);
    result_free(&whole);
    result_free(&chunked);
}

static void test_out_writes_results_and_provenance(void **state)
{
    fixture *f = *state;
    char h5_path[CIM_TEST_PATH_MAX], partial[CIM_TEST_PATH_MAX + 16];
    const char *const extra[] = {
        "--trials", "2", "--seed", "9", "--out", scratch(f, "R.h5", h5_path), "--force", NULL};
    static const char *const attrs[] = {
        "format", "format_version", "tool_version", "git_revision", "command_line", "seed",
        "device", "config_json",    "created",      "mapping",      "current_unit"};
    cJSON *doc;
    run_result r;
    hid_t file, attr;
    int rank;
    hsize_t dims[3];
    int32_t *from_file, *printed, version = 0;
    int8_t *weights;
    uint64_t seed = 0;
    char *text;
    NEED_DEVICE(f);
    doc = load_example("BNN_II_adc5.json");
    stage_example(f, doc);
    cim_test_write_text(h5_path, "an older file that a successful run with --force replaces\n");
    run_staged(f, &r, extra);
    assert_success(&r);
    snprintf(partial, sizeof partial, "%s.partial", h5_path);
    assert_false(cim_test_exists(partial));
    assert_true(H5Fis_hdf5(h5_path) > 0);

    file = H5Fopen(h5_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    for (size_t i = 0; i < sizeof attrs / sizeof *attrs; ++i)
        if (H5Aexists(file, attrs[i]) <= 0)
            fail_msg("root attribute %s missing", attrs[i]);
    cim_test_assert_string_attr(file, "format", "cimgpu-mvm");
    cim_test_assert_string_attr(file, "mapping", "BNN_II");
    cim_test_assert_string_attr(file, "current_unit", "nA");
    cim_test_assert_string_attr(file, "tool_version", CIM_VERSION);
    attr = H5Aopen(file, "format_version", H5P_DEFAULT);
    assert_true(H5Aread(attr, H5T_NATIVE_INT32, &version) >= 0);
    H5Aclose(attr);
    CIM_ASSERT_I64_EQ(version, 1);
    attr = H5Aopen(file, "seed", H5P_DEFAULT);
    assert_true(H5Aread(attr, H5T_NATIVE_UINT64, &seed) >= 0);
    H5Aclose(attr);
    CIM_ASSERT_I64_EQ(seed, 9);
    text = cim_test_read_string_attr(file, "command_line");
    assert_non_null(strstr(text, "mvm --config"));
    assert_non_null(strstr(text, "--seed 9"));
    free(text);
    text = cim_test_read_string_attr(file, "config_json");
    assert_non_null(strstr(text, "\"m_mode\":\"BNN_II\""));
    free(text);
    text = cim_test_read_string_attr(file, "created");
    assert_int_equal(strlen(text), strlen("2025-01-31T12:00:00Z"));
    assert_int_equal(text[strlen(text) - 1], 'Z');
    free(text);

    from_file = cim_test_read_dataset(file, "results", H5T_NATIVE_INT32, &rank, dims);
    CIM_ASSERT_I64_EQ(rank, 3);
    CIM_ASSERT_I64_EQ(dims[0], 2);
    CIM_ASSERT_I64_EQ(dims[1], 6);
    CIM_ASSERT_I64_EQ(dims[2], 12);
    printed = parse_results(r.out, 2 * 6, 12);
    assert_memory_equal(from_file, printed, sizeof(int32_t) * 2 * 6 * 12);
    assert_chunked_by_trial(file, "results");
    weights = cim_test_read_dataset(file, "weights", H5T_NATIVE_INT8, &rank, dims);
    CIM_ASSERT_I64_EQ(dims[0], 12);
    CIM_ASSERT_I64_EQ(dims[1], 20);
    CIM_ASSERT_I64_EQ(
        weights[1 * 20 + 3],
        cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "weights"), 1),
                           3)
            ->valueint);
    free(weights);
    weights = cim_test_read_dataset(file, "inputs", H5T_NATIVE_INT8, &rank, dims);
    CIM_ASSERT_I64_EQ(dims[0], 6);
    CIM_ASSERT_I64_EQ(dims[1], 20);
    free(weights);
    assert_int_equal(H5Lexists(file, "column_current", H5P_DEFAULT), 0);
    H5Fclose(file);
    free(from_file);
    free(printed);
    result_free(&r);
    cJSON_Delete(doc);
}

static void test_failed_run_leaves_no_file(void **state)
{
    fixture *f = *state;
    char h5_path[CIM_TEST_PATH_MAX], partial[CIM_TEST_PATH_MAX + 16], bad_dir[CIM_TEST_PATH_MAX];
    run_result r;
    char *kept;
    scratch(f, "failed.h5", h5_path);
    snprintf(partial, sizeof partial, "%s.partial", h5_path);

    run(f, &r, "mvm", "--config", CLI_DATA "bnn3.json", "--weights", CLI_DATA "w_bnn_zero.csv",
        "--inputs", CLI_DATA "x_bnn.csv", "--out", h5_path, NULL);
    assert_error_line(&r, 2, "w_bnn_zero.csv", NULL);
    result_free(&r);
    assert_false(cim_test_exists(h5_path));
    assert_false(cim_test_exists(partial));

    /* a file already there survives a failed run untouched, even with --force */
    cim_test_write_text(h5_path, "keep me\n");
    run(f, &r, "mvm", "--config", CLI_DATA "bnn3.json", "--weights", CLI_DATA "w_bnn.csv",
        "--inputs", CLI_DATA "x_bnn_two.csv", "--out", h5_path, "--force", NULL);
    assert_error_line(&r, 2, "x_bnn_two.csv", NULL);
    result_free(&r);
    kept = cim_test_read_file(h5_path);
    assert_string_equal(kept, "keep me\n");
    free(kept);
    assert_false(cim_test_exists(partial));
    remove(h5_path);

    if (!f->have_device)
        return;
    /* a folder that does not exist: a runtime failure naming the file */
    scratch(f, "no_such_dir/R.h5", bad_dir);
    run(f, &r, MVM_BNN3, "--out", bad_dir, NULL);
    assert_error_line(&r, 1, "no_such_dir/R.h5", NULL);
    result_free(&r);
}

/* `cimgpu run --out R.h5` that fails leaves neither R.h5 nor R.h5.partial
 * (and a file already at R.h5 untouched), whether it fails on the command
 * line, the model, the dataset range or the mapping (exit 2), or on the output
 * path, which is claimed before any work (a folder at R.h5: exit 2; a
 * missing folder: exit 1; nothing on stdout). A partial file left by an
 * earlier crash stops the next run unless --force is given, which replaces it and
 * publishes a complete R.h5. */
static void test_run_failure_leaves_no_file(void **state)
{
    const fixture *f = *state;
    char out[CIM_TEST_PATH_MAX], partial[CIM_TEST_PATH_MAX + 16], bad_model[CIM_TEST_PATH_MAX];
    char missing[CIM_TEST_PATH_MAX];
    char *kept;
    run_result r;
    struct stat st;
    const int have_data = stat(CIM_IDX_DEFAULT_DIR "/t10k-labels-idx1-ubyte.gz", &st) == 0 ||
                          stat(CIM_IDX_DEFAULT_DIR "/t10k-labels-idx1-ubyte", &st) == 0;
    scratch(f, "run_failed.h5", out);
    snprintf(partial, sizeof partial, "%s.partial", out);
    assert_false(cim_test_exists(out));
    cim_test_write_text(scratch(f, "bad_model.h5", bad_model), "\x89HDF\r\n\x1a\n truncated");
    const struct {
        const char *args[12];
        const char *culprit; /* checked when the dataset is installed */
    } cases[] = {
        {{"run", "--images", "10001", "--out", out}, "image count out of range"},
        {{"run", "--first-image", "9998", "--images", "3", "--out", out},
         "image count out of range"},
        {{"run", "--mapping", "BNN_I", "--images", "2", "--out", out}, "BNN_I"},
        {{"run", "--model", bad_model, "--images", "2", "--out", out}, "bad_model.h5"},
        {{"run", "--trials", "0", "--out", out}, "--trials"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
        for (int existing = 0; existing <= 1; ++existing) {
            const char *args[14];
            int n = 0;
            for (; cases[i].args[n]; ++n)
                args[n] = cases[i].args[n];
            if (existing) {
                /* with --force, so that the culprit is the input, not the existing file */
                cim_test_write_text(out, "keep me\n");
                args[n++] = "--force";
            }
            args[n] = NULL;
            run_argv(f, &r, args);
            assert_error_line(&r, 2, have_data ? cases[i].culprit : "", NULL);
            result_free(&r);
            if (existing) {
                kept = cim_test_read_file(out);
                assert_string_equal(kept, "keep me\n");
                free(kept);
                assert_int_equal(remove(out), 0);
            }
            if (cim_test_exists(out) || cim_test_exists(partial))
                fail_msg("case %zu: a failed run left %s", i, cim_test_exists(out) ? out : partial);
        }
    }

    if (!f->have_device || !have_data)
        return;
    /* a folder where R.h5 should go: refused, the folder is left alone */
    assert_int_equal(mkdir(out, 0755), 0);
    run(f, &r, "run", "--images", "2", "--out", out, NULL);
    assert_error_line(&r, 2, out, "directory", NULL);
    result_free(&r);
    assert_true(stat(out, &st) == 0 && S_ISDIR(st.st_mode));
    assert_false(cim_test_exists(partial));
    assert_int_equal(rmdir(out), 0);

    /* a folder that does not exist: an I/O failure naming the file */
    scratch(f, "no_such_dir/run.h5", missing);
    run(f, &r, "run", "--images", "2", "--out", missing, NULL);
    assert_error_line(&r, 1, "no_such_dir/run.h5", NULL);
    result_free(&r);
    assert_false(cim_test_exists(missing));

    /* the leftover of a crash is kept unless --force discards it; then the run
     * publishes a complete file */
    cim_test_write_text(partial, "left by a crash\n");
    run(f, &r, "run", "--trials", "2", "--images", "3", "--out", out, NULL);
    assert_error_line(&r, 2, partial, "--resume", "--force", NULL);
    result_free(&r);
    kept = cim_test_read_file(partial);
    assert_string_equal(kept, "left by a crash\n");
    free(kept);
    run(f, &r, "run", "--trials", "2", "--images", "3", "--out", out, "--force", NULL);
    assert_success(&r);
    result_free(&r);
    assert_false(cim_test_exists(partial));
    hid_t file = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    hid_t attr = H5Aopen(file, "complete", H5P_DEFAULT);
    int32_t complete = 0;
    assert_true(attr >= 0);
    assert_true(H5Aread(attr, H5T_NATIVE_INT32, &complete) >= 0);
    H5Aclose(attr);
    H5Fclose(file);
    CIM_ASSERT_I64_EQ(complete, 1);
    assert_int_equal(remove(out), 0);
}

/* With --trace, per trial, input, input tile, conversion and output: the
 * column currents and ADC outputs; recombining the ADC outputs with the
 * mapping's signs and digital corrections (kernels/cim_mappings.h) must give
 * the printed results. TNN_V on a 5 x 8 crossbar: 3 x 3 tiles for 12 x 20. */
static void test_trace_shapes_and_recombination(void **state)
{
    fixture *f = *state;
    char h5_path[CIM_TEST_PATH_MAX];
    const char *const extra[] = {"--trials", "2", "--out", scratch(f, "trace.h5", h5_path),
                                 "--trace",  NULL};
    const cim_mapping_desc *d = &CIM_MAPPINGS[CIM_TNN_V];
    const int T = 2, I = 6, M = 12, N = 20, XN = 8, TILES_N = 3;
    cJSON *doc, *wj, *xj;
    run_result r;
    hid_t file, dset;
    int rank;
    hsize_t dims[5];
    int32_t *current, *printed;
    int64_t *adc;
    char *unit;
    NEED_DEVICE(f);
    doc = load_example("TNN_V_adc3.json");
    set_config_number(doc, "M", 5);
    set_config_number(doc, "N", XN);
    stage_example(f, doc);
    run_staged(f, &r, extra);
    assert_success(&r);
    printed = parse_results(r.out, T * I, M);

    file = H5Fopen(h5_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    current = cim_test_read_dataset(file, "column_current", H5T_NATIVE_INT32, &rank, dims);
    CIM_ASSERT_I64_EQ(rank, 5);
    CIM_ASSERT_I64_EQ(dims[0], T);
    CIM_ASSERT_I64_EQ(dims[1], I);
    CIM_ASSERT_I64_EQ(dims[2], TILES_N);
    CIM_ASSERT_I64_EQ(dims[3], d->n_convs);
    CIM_ASSERT_I64_EQ(dims[4], M);
    adc = cim_test_read_dataset(file, "adc_output", H5T_NATIVE_INT64, &rank, dims);
    CIM_ASSERT_I64_EQ(rank, 5);
    CIM_ASSERT_I64_EQ(dims[2], TILES_N);
    CIM_ASSERT_I64_EQ(dims[3], d->n_convs);
    assert_chunked_by_trial(file, "column_current");
    assert_chunked_by_trial(file, "adc_output");
    dset = H5Dopen2(file, "column_current", H5P_DEFAULT);
    unit = cim_test_read_string_attr(dset, "unit");
    assert_string_equal(unit, "nA");
    free(unit);
    H5Dclose(dset);

    wj = cJSON_GetObjectItemCaseSensitive(doc, "weights");
    xj = cJSON_GetObjectItemCaseSensitive(doc, "inputs");
    for (int t = 0; t < T; ++t) {
        for (int i = 0; i < I; ++i) {
            for (int m = 0; m < M; ++m) {
                int64_t r_m = 0;
                for (int tn = 0; tn < TILES_N; ++tn) {
                    int n0 = tn * XN, n1 = n0 + XN < N ? n0 + XN : N, s = 0, sumw = 0;
                    for (int n = n0; n < n1; ++n) {
                        s += cJSON_GetArrayItem(cJSON_GetArrayItem(xj, i), n)->valueint;
                        sumw += cJSON_GetArrayItem(cJSON_GetArrayItem(wj, m), n)->valueint;
                    }
                    r_m += (int64_t)d->corr_sumw * sumw + (int64_t)d->corr_s * s +
                           (int64_t)d->corr_n * (n1 - n0);
                    for (int j = 0; j < d->n_convs; ++j) {
                        size_t at = ((((size_t)t * I + i) * TILES_N + tn) * d->n_convs + j) * M + m;
                        r_m += d->conv[j].sign * adc[at];
                        /* noise free: every trial reads the same currents */
                        CIM_ASSERT_I64_EQ(current[at],
                                          current[at % ((size_t)I * TILES_N * d->n_convs * M)]);
                    }
                }
                CIM_ASSERT_I64_EQ(r_m, printed[((size_t)t * I + i) * M + m]);
            }
        }
    }
    H5Fclose(file);
    free(current);
    free(adc);
    free(printed);
    result_free(&r);
    cJSON_Delete(doc);
}

static void test_calib_mode_uses_the_mvm_entry(void **state)
{
    fixture *f = *state;
    run_result r;
    NEED_DEVICE(f);
    run(f, &r, "mvm", "--config", CLI_DATA "calib_mvm.json", "--weights", CLI_DATA "w_bnn.csv",
        "--inputs", CLI_DATA "x_bnn.csv", "--seed", "18446744073709551615", NULL);
    assert_success(&r);
    CIM_ASSERT_I64_EQ(count_lines(r.out), 2);
    result_free(&r);
}

/* ---- help and the option lists --------------------------------------- */

/* `cimgpu help SUBCOMMAND` prints exactly what `cimgpu SUBCOMMAND --help`
 * prints (stdout, exit 0); `cimgpu help` is `cimgpu --help`; an unknown
 * subcommand or a further argument is a usage error. */
static void test_help_subcommand(void **state)
{
    static const char *const topics[] = {"run", "mvm", "info", "calibrate"};
    run_result help, direct;
    for (size_t i = 0; i < sizeof topics / sizeof *topics; ++i) {
        run(*state, &help, "help", topics[i], NULL);
        run(*state, &direct, topics[i], "--help", NULL);
        assert_success(&help);
        assert_success(&direct);
        assert_string_equal(help.err, "");
        assert_true(strlen(help.out) > 0);
        assert_string_equal(help.out, direct.out);
        result_free(&help);
        result_free(&direct);
    }
    run(*state, &help, "help", NULL);
    run(*state, &direct, "--help", NULL);
    assert_success(&help);
    assert_string_equal(help.out, direct.out);
    assert_non_null(strstr(help.out, "help"));
    result_free(&help);
    result_free(&direct);
    static const usage_case cases[] = {
        {{"help", "nosuch"}, "nosuch", "unknown subcommand"},
        {{"help", "run", "extra"}, "extra", NULL},
    };
    expect_usage_errors(*state, cases, sizeof cases / sizeof *cases);
}

/* 1 if `text` holds "--name" not followed by more of an option name. */
static int names_option(const char *text, const char *name, size_t len)
{
    for (const char *at = strstr(text, "--"); at; at = strstr(at + 2, "--")) {
        const char c = at[2 + len];
        if (strncmp(at + 2, name, len) == 0 && !(c == '-' || (c >= 'a' && c <= 'z')))
            return 1;
    }
    return 0;
}

/* 1 if the option list (the lines of `list`) has an entry for --name: a line
 * starting "  --name" or "  -x, --name". */
static int lists_option(const char *list, const char *name, size_t len)
{
    for (const char *line = list; line && *line; line = strchr(line, '\n'), line += line != NULL) {
        const char *at = line + strspn(line, " ");
        if (at == line)
            continue;
        if (at[0] == '-' && at[1] != '-' && at[2] == ',')
            at += 3 + strspn(at + 3, " ");
        const char c = at[2 + len];
        if (strncmp(at, "--", 2) == 0 && strncmp(at + 2, name, len) == 0 &&
            !(c == '-' || (c >= 'a' && c <= 'z')))
            return 1;
    }
    return 0;
}

/* The lines from the one that starts with `first` (after its leading
 * newline) to the next line that is empty or starts with ``` (malloc'd). */
static char *lines_from(const char *text, const char *first)
{
    const char *at = strstr(text, first);
    if (!at)
        fail_msg("no \"%s\" in the text", first + 1);
    ++at;
    const char *end = at;
    while (*end && *end != '\n' && strncmp(end, "```", 3) != 0)
        end = strchr(end, '\n') ? strchr(end, '\n') + 1 : end + strlen(end);
    char *out = strndup(at, (size_t)(end - at));
    assert_non_null(out);
    return out;
}

/* The option texts that a subcommand's --help and the README must name. */
typedef struct option_docs {
    const char *subcommand, *list, *synopsis, *readme_synopsis;
} option_docs;

/* Every {"name", ...} entry of table[0 .. end) is in the option list, the
 * synopsis (but --help) and the README's synopsis. The entries checked. */
static int check_table_documented(const option_docs *d, const char *table, const char *end)
{
    int n = 0;
    for (const char *at = strstr(table, "{\""); at && at < end; at = strstr(at + 2, "{\"")) {
        const char *name = at + 2;
        const size_t len = strcspn(name, "\"");
        if (!lists_option(d->list, name, len))
            fail_msg("%s --help: no entry for --%.*s in the option list", d->subcommand, (int)len,
                     name);
        if (len == 4 && strncmp(name, "help", 4) == 0)
            continue;
        if (!names_option(d->synopsis, name, len))
            fail_msg("%s --help: the synopsis lacks --%.*s:\n%s", d->subcommand, (int)len, name,
                     d->synopsis);
        if (!names_option(d->readme_synopsis, name, len))
            fail_msg("README: the %s synopsis lacks --%.*s:\n%s", d->subcommand, (int)len, name,
                     d->readme_synopsis);
        ++n;
    }
    return n;
}

/* Every long option that a subcommand's getopt table (`source`, read from
 * the tree) accepts appears in the synopsis of its --help (the text before
 * the first empty line), in its option list (after "Options:" or
 * "Required:") and in the README's synopsis block, the lines from the one
 * that starts `readme_heading` (with its newline) to the end of the code
 * block (--help only in the option list). A table that holds
 * CIM_CLI_NETWORK_OPTIONS holds the entries of that macro in
 * host/cli/cli.h too, the options the network commands share. Returns how
 * many options of the shared macro the table holds (0 without it). */
static int check_options_documented(const fixture *f, const char *subcommand, const char *source,
                                    const char *readme_heading)
{
    char path[CIM_TEST_PATH_MAX];
    run_result r;
    int shared = 0;
    snprintf(path, sizeof path, "%s/%s", CIM_SOURCE_DIR, source);
    char *code = cim_test_read_file(path);
    char *readme = cim_test_read_file(CIM_SOURCE_DIR "/README.md");
    char *readme_synopsis = lines_from(readme, readme_heading);
    run(f, &r, subcommand, "--help", NULL);
    assert_success(&r);
    const char *blank = strstr(r.out, "\n\n");
    assert_non_null(blank);
    char *synopsis = strndup(r.out, (size_t)(blank - r.out));
    assert_non_null(synopsis);
    const char *list = strstr(r.out, "\nRequired:\n");
    if (!list)
        list = strstr(r.out, "\nOptions:\n");
    assert_non_null(list);
    const char *table = strstr(code, "struct option");
    if (!table)
        fail_msg("%s: no getopt table", path);
    const char *table_end = strstr(table, "{0, 0, 0, 0}");
    const char *null_end = strstr(table, "{NULL, 0, NULL, 0}");
    if (!table_end || (null_end && null_end < table_end))
        table_end = null_end;
    assert_non_null(table_end);
    const option_docs docs = {subcommand, list, synopsis, readme_synopsis};
    int n = check_table_documented(&docs, table, table_end);
    const char *macro = strstr(table, "CIM_CLI_NETWORK_OPTIONS");
    if (macro && macro < table_end) {
        char *header = cim_test_read_file(CIM_SOURCE_DIR "/host/cli/cli.h");
        const char *def = strstr(header, "#define CIM_CLI_NETWORK_OPTIONS");
        assert_non_null(def);
        const char *def_end = strstr(def, "clang-format on");
        assert_non_null(def_end);
        shared = check_table_documented(&docs, def, def_end);
        n += shared;
        free(header);
    }
    assert_true(n >= 7); /* the table was found and read */
    free(synopsis);
    free(readme_synopsis);
    free(readme);
    free(code);
    result_free(&r);
    return shared;
}

static void test_synopsis_lists_every_option(void **state)
{
    /* run and calibrate share the network options, crossbar flags included */
    assert_true(check_options_documented(*state, "run", "host/cli/cli_run.c",
                                         "\ncimgpu [run] [--model") >= 21);
    assert_int_equal(check_options_documented(*state, "mvm", "host/cli/cli_mvm.c",
                                              "\ncimgpu mvm --config CFG.json --weights"),
                     0);
    assert_true(check_options_documented(*state, "calibrate", "host/cli/cli_calibrate.c",
                                         "\ncimgpu calibrate [--model") >= 21);
}

/* ---- what `cimgpu run` prints and its config ------------------------- */

/* The stdout of `cimgpu run --trials 4 --images 100` with `--config config`
 * when config is not NULL (malloc'd); the run must succeed, stderr empty. */
static char *run_small(const fixture *f, const char *config)
{
    const char *args[] = {"run", "--trials", "4", "--images", "100", "--config", config, NULL};
    run_result r;
    if (!config)
        args[5] = NULL;
    run_argv(f, &r, args);
    assert_success(&r);
    assert_string_equal(r.err, "");
    free(r.err);
    return r.out;
}

/* The standard deviation of the chips' accuracy in a run's results. */
static double printed_std(const char *out)
{
    const char *at = strstr(out, "\n  standard deviation ");
    assert_non_null(at);
    return strtod(at + strlen("\n  standard deviation "), NULL);
}

/* A run's --config is read over the run's default crossbar: a file without
 * noise keys runs with the default D2D sigmas 1/4 uA -- exactly the run
 * without --config -- whether it names m_mode, M and N or not; a noise-free
 * file says so and differs. `cimgpu mvm` still requires m_mode, M and N. */
static void test_run_config_reads_over_the_defaults(void **state)
{
    fixture *f = *state;
    char full[CIM_TEST_PATH_MAX], partial[CIM_TEST_PATH_MAX], quiet[CIM_TEST_PATH_MAX];
    run_result r;
    NEED_DEVICE(f);
    cim_test_write_text(scratch(f, "run_full.json", full),
                        "{\"m_mode\":\"TNN_I\",\"M\":256,\"N\":256}");
    cim_test_write_text(scratch(f, "run_partial.json", partial), "{\"LRS\":30}");
    cim_test_write_text(scratch(f, "run_quiet.json", quiet), "{\"d2d_var\":false}");
    char *defaults = run_small(f, NULL);
    char *with_full = run_small(f, full);
    assert_string_equal(with_full, defaults);
    assert_non_null(strstr(defaults, "\nvariability: D2D on, sigma HRS/LRS 1/4 uA; "
                                     "C2C off, sigma HRS/LRS 1/4 uA\n"));
    char *with_partial = run_small(f, partial);
    assert_string_equal(with_partial, defaults);
    char *noise_free = run_small(f, quiet);
    assert_non_null(strstr(noise_free, "\nvariability: D2D off, "));
    /* noise free, every chip is the digital network; with D2D they differ */
    assert_true(printed_std(noise_free) == 0.0);
    assert_true(printed_std(defaults) > 0.0);
    free(defaults);
    free(with_full);
    free(with_partial);
    free(noise_free);

    run(f, &r, "mvm", "--config", partial, "--weights", CLI_DATA "w_bnn.csv", "--inputs",
        CLI_DATA "x_bnn.csv", NULL);
    assert_error_line(&r, 2, "run_partial.json", "\"m_mode\": is missing", NULL);
    result_free(&r);
}

/* The banner, on stdout before the results: the ADC's bits and range mode
 * (CALIB keeps its per-layer adc_calib_dict ranges under --adc-bits), the
 * seed, the trials and their offset, the images, the pipeline; a 3-bit
 * CALIB run and a 3-bit MAX run print different ADC lines. */
static void test_run_banner_says_what_runs(void **state)
{
    fixture *f = *state;
    char calib[CIM_TEST_PATH_MAX];
    run_result r;
    NEED_DEVICE(f);
    cim_test_write_text(scratch(f, "run_calib.json", calib),
                        "{\"m_mode\":\"TNN_I\",\"M\":256,\"N\":256,\"adc_calib_mode\":\"CALIB\","
                        "\"adc_calib_dict\":{\"004_conv2d\":[-300,300],\"009_dense\":[-500,500]}}");
    run(f, &r, "run", "--config", calib, "--adc-bits", "3", "--trials", "2", "--trial-offset", "3",
        "--images", "5", "--first-image", "7", "--seed", "11", "--pipeline", "host", NULL);
    assert_success(&r);
    const char *results = strstr(r.out, "\n\n  digital (ideal) accuracy");
    assert_non_null(results);
    static const char *const banner[] = {
        "cimgpu " CIM_VERSION ": ",
        " on 5 images (7..11 of ",
        "), 2 chips (trials 3..4), seed 11\n",
        "\ncrossbar: TNN_I 256x256, HRS/LRS 5/30 uA (signed column currents)\n",
        "\nvariability: D2D on, sigma HRS/LRS 1/4 uA; C2C off, sigma HRS/LRS 1/4 uA\n",
        "\nADC: SYM_RANGE_ADC, 3 bits, range CALIB per layer from adc_calib_dict: "
        "004_conv2d -300..300 uA, 009_dense -500..500 uA\n",
        "\nlayers on crossbars: 2 of 3 weight layers (on raw pixels: host, exact)\n",
        "\npipeline: host\n",
        "\ndevice: ",
    };
    for (size_t i = 0; i < sizeof banner / sizeof *banner; ++i) {
        const char *at = strstr(r.out, banner[i]);
        if (!at || at > results)
            fail_msg("no \"%s\" before the results in:\n%s", banner[i], r.out);
    }
    result_free(&r);

    run(f, &r, "run", "--adc-bits", "3", "--trials", "2", "--images", "5", "--seed", "11", NULL);
    assert_success(&r);
    assert_non_null(strstr(r.out, "\nADC: SYM_RANGE_ADC, 3 bits, range MAX -6400..6400 uA"));
    result_free(&r);

    run(f, &r, "run", "--config", calib, "--adc-bits", "0", "--trials", "1", "--images", "2",
        "--mapping", "TNN_I", "--c2c", NULL);
    assert_success(&r);
    assert_non_null(strstr(r.out, "\nADC: INF_ADC, ideal"));
    assert_non_null(strstr(r.out, "; C2C on, sigma HRS/LRS 1/4 uA\n"));
    assert_non_null(strstr(r.out, "\npipeline: auto -> host (C2C)\n"));
    result_free(&r);
}

/* ---- the C2C column law (--c2c-model, c2c_model) ----------------------- */

/* A 1-D attribute of n strings, each checked against want[i]. */
static void assert_strings_attr(hid_t loc, const char *name, const char *const *want, int n)
{
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT), type = H5Tcopy(H5T_C_S1), space;
    char *got[8] = {NULL};
    hsize_t count = 0;
    assert_true(attr >= 0 && n <= 8);
    space = H5Aget_space(attr);
    H5Sget_simple_extent_dims(space, &count, NULL);
    CIM_ASSERT_I64_EQ(count, n);
    H5Tset_size(type, H5T_VARIABLE);
    assert_true(H5Aread(attr, type, got) >= 0);
    for (int i = 0; i < n; ++i) {
        assert_string_equal(got[i], want[i]);
        H5free_memory(got[i]);
    }
    H5Sclose(space);
    H5Tclose(type);
    H5Aclose(attr);
}

/* A 1-D float64 attribute of n values into v. */
static void read_doubles_attr(hid_t loc, const char *name, double *v, int n)
{
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT), space;
    hsize_t count = 0;
    assert_true(attr >= 0);
    space = H5Aget_space(attr);
    H5Sget_simple_extent_dims(space, &count, NULL);
    CIM_ASSERT_I64_EQ(count, n);
    assert_true(H5Aread(attr, H5T_NATIVE_DOUBLE, v) >= 0);
    H5Sclose(space);
    H5Aclose(attr);
}

/* `--c2c-model column` on the default model: every bad combination is one
 * config line (exit 2); the banner prints each layer's bounds (the default
 * crossbar's: P <= 0.10418, E <= 36.7422 nA per read of 512 cells); the
 * results file records the model asked for, the one used per layer and the
 * bounds; a chip replays alone; a layer whose bound fails reads per cell
 * with a stderr line; without C2C the file says "off" with NaN bounds. */
static void test_run_c2c_column_law(void **state)
{
    fixture *f = *state;
    char out[CIM_TEST_PATH_MAX], one[CIM_TEST_PATH_MAX], wide[CIM_TEST_PATH_MAX];
    run_result r;
    run(f, &r, "run", "--c2c-model", "column", "--trials", "1", NULL);
    assert_error_line(&r, 2, "key \"c2c_model\"", "C2C is off (c2c_var false)", NULL);
    result_free(&r);
    run(f, &r, "run", "--c2c", "--c2c-model", "column", "--w-res", "1", "--trials", "1", NULL);
    assert_error_line(&r, 2, "key \"c2c_model\"", "parasitics (bit-line IR drop)", NULL);
    result_free(&r);
    run(f, &r, "run", "--c2c", "--c2c-model", "column", "--read-disturb", "OFF", "--t-read", "1e-6",
        "--trials", "1", NULL);
    assert_error_line(&r, 2, "key \"c2c_model\"", "read_disturb changes the cells", NULL);
    result_free(&r);
    run(f, &r, "run", "--c2c", "--set", "c2c_model=columns", "--trials", "1", NULL);
    assert_error_line(&r, 2, "--set: key \"c2c_model\"", "\"cell\", \"column\"", NULL);
    result_free(&r);
    NEED_DEVICE(f);

    run(f, &r, "run", "--c2c", "--c2c-model", "column", "--trials", "3", "--images", "3", "--out",
        scratch(f, "c2c_column.h5", out), NULL);
    assert_success(&r);
    static const char *const banner[] = {
        "\nC2C model: column asked: one Gaussian per cell group and column read where the "
        "clipping bound E|I_cell - I_column| <= 1% of LRS - HRS (250 nA), else per cell\n",
        "\nC2C bound 004_conv2d: column; P(a column read differs) <= 0.10418, E|I_cell - "
        "I_column| <= 36.7422 nA (512 cells per read)\n",
        "\nC2C bound 009_dense: column; P(a column read differs) <= 0.10418, E|I_cell - "
        "I_column| <= 36.7422 nA (512 cells per read)\n",
        "\npipeline: auto -> host (C2C)\n"};
    for (size_t i = 0; i < sizeof banner / sizeof *banner; ++i)
        if (!strstr(r.out, banner[i]))
            fail_msg("no \"%s\" in:\n%s", banner[i], r.out);
    assert_null(strstr(r.err, "reads C2C per cell"));
    result_free(&r);
    static const char *const both_column[] = {"column", "column"};
    hid_t file = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
    double p[2], e[2];
    assert_true(file >= 0);
    cim_test_assert_string_attr(file, "c2c_model", "column");
    assert_strings_attr(file, "c2c_model_used", both_column, 2);
    read_doubles_attr(file, "c2c_bound_p_differs", p, 2);
    read_doubles_attr(file, "c2c_bound_mean_abs_diff_na", e, 2);
    CIM_ASSERT_NEAR(p[0], 0.104180, 1e-6);
    CIM_ASSERT_NEAR(e[1], 36.7422, 1e-4);
    char *json = cim_test_read_string_attr(file, "config_json");
    assert_non_null(strstr(json, "\"c2c_var\":true,\"c2c_model\":\"column\""));
    free(json);
    int rank;
    hsize_t dims[2];
    int64_t *all = cim_test_read_dataset(file, "trials/correct", H5T_NATIVE_INT64, &rank, dims);
    H5Fclose(file);
    /* chip 2 alone equals chip 2 of the run */
    run(f, &r, "run", "--c2c", "--c2c-model", "column", "--trials", "1", "--trial-offset", "2",
        "--images", "3", "--out", scratch(f, "c2c_column_one.h5", one), NULL);
    assert_success(&r);
    result_free(&r);
    file = H5Fopen(one, H5F_ACC_RDONLY, H5P_DEFAULT);
    int64_t *single = cim_test_read_dataset(file, "trials/correct", H5T_NATIVE_INT64, &rank, dims);
    H5Fclose(file);
    CIM_ASSERT_I64_EQ(single[0], all[2]);
    free(all);
    free(single);

    /* sigma 16 uA at HRS 5 uA: the bound fails, both layers read per cell */
    run(f, &r, "run", "--c2c", "--c2c-model", "column", "--hrs-noise", "16", "--trials", "1",
        "--images", "2", "--out", scratch(f, "c2c_wide.h5", wide), NULL);
    assert_success(&r);
    assert_non_null(strstr(r.out, "\nC2C bound 004_conv2d: cell; "));
    assert_non_null(strstr(r.err, "cimgpu: run: layer 004_conv2d reads C2C per cell: the column "
                                  "law's clipping bound E|I_cell - I_column| <= "));
    assert_non_null(strstr(r.err, " nA exceeds 1% of LRS - HRS (250 nA)\n"));
    result_free(&r);
    static const char *const both_cell[] = {"cell", "cell"};
    file = H5Fopen(wide, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_strings_attr(file, "c2c_model_used", both_cell, 2);
    read_doubles_attr(file, "c2c_bound_mean_abs_diff_na", e, 2);
    assert_true(e[0] > 250);
    H5Fclose(file);

    /* the default run: the model asked for is cell, C2C off, no bounds */
    run(f, &r, "run", "--trials", "1", "--images", "2", "--out", out, "--force", NULL);
    assert_success(&r);
    assert_null(strstr(r.out, "C2C model"));
    result_free(&r);
    static const char *const both_off[] = {"off", "off"};
    file = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
    cim_test_assert_string_attr(file, "c2c_model", "cell");
    assert_strings_attr(file, "c2c_model_used", both_off, 2);
    read_doubles_attr(file, "c2c_bound_p_differs", p, 2);
    assert_true(isnan(p[0]) && isnan(p[1]));
    H5Fclose(file);
}

/* `cimgpu mvm --c2c-model`: over the config's c2c_model; the results file
 * records it with the bounds for the matrix; refused without C2C, and a bad
 * value is the usage line. */
static void test_mvm_c2c_column_law(void **state)
{
    fixture *f = *state;
    char cfg[CIM_TEST_PATH_MAX], off[CIM_TEST_PATH_MAX], out[CIM_TEST_PATH_MAX];
    run_result r;
    cim_test_write_text(scratch(f, "mvm_c2c.json", cfg),
                        "{\"m_mode\": \"BNN_I\", \"M\": 4, \"N\": 5, \"HRS\": 5, \"LRS\": 30, "
                        "\"HRS_NOISE\": 1, \"LRS_NOISE\": 4, \"c2c_var\": true}\n");
    cim_test_write_text(scratch(f, "mvm_off.json", off),
                        "{\"m_mode\": \"BNN_I\", \"M\": 4, \"N\": 5}\n");
    run(f, &r, "mvm", "--config", cfg, "--weights", CLI_DATA "w_bnn.csv", "--inputs",
        CLI_DATA "x_bnn.csv", "--c2c-model", "rows", NULL);
    assert_error_line(&r, 2, "mvm: --c2c-model 'rows': expected cell or column", NULL);
    result_free(&r);
    run(f, &r, "mvm", "--config", off, "--weights", CLI_DATA "w_bnn.csv", "--inputs",
        CLI_DATA "x_bnn.csv", "--c2c-model", "column", NULL);
    assert_error_line(&r, 2, "mvm_off.json: key \"c2c_model\"", "C2C is off", NULL);
    result_free(&r);
    NEED_DEVICE(f);
    run(f, &r, "mvm", "--config", cfg, "--weights", CLI_DATA "w_bnn.csv", "--inputs",
        CLI_DATA "x_bnn.csv", "--c2c-model", "column", "--trials", "3", "--out",
        scratch(f, "mvm_c2c.h5", out), NULL);
    assert_success(&r);
    assert_string_equal(r.err, "");
    result_free(&r);
    hid_t file = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
    double p = 0, e = 0;
    assert_true(file >= 0);
    cim_test_assert_string_attr(file, "c2c_model", "column");
    cim_test_assert_string_attr(file, "c2c_model_used", "column");
    hid_t attr = H5Aopen(file, "c2c_bound_p_differs", H5P_DEFAULT);
    assert_true(attr >= 0 && H5Aread(attr, H5T_NATIVE_DOUBLE, &p) >= 0);
    H5Aclose(attr);
    attr = H5Aopen(file, "c2c_bound_mean_abs_diff_na", H5P_DEFAULT);
    assert_true(attr >= 0 && H5Aread(attr, H5T_NATIVE_DOUBLE, &e) >= 0);
    H5Aclose(attr);
    /* BNN_I: 2 cells per input, 5 inputs; HRS's P = erfc(2.5) / 2 */
    CIM_ASSERT_NEAR(p, 10 * 2.0347601e-4, 1e-9);
    CIM_ASSERT_NEAR(e, 10 * 0.0717621, 1e-6);
    H5Fclose(file);
}

/* ---- the options `run` and `calibrate` share --------------------------- */

/* A bad value of a shared option is the same error line from both commands,
 * but for the subcommand's name; the bounds are the config keys'. So are an
 * unknown option and a left-over argument. */
static void test_network_options_one_wording(void **state)
{
    const fixture *f = *state;
    static const struct {
        const char *option, *value, *names;
    } cases[] = {
        {"--images", "0", "a count of at least 1"},
        {"--first-image", "x", "an image index"},
        {"--seed", "-1", "from 0 to 18446744073709551615"},
        {"--adc-bits", "17", "0 (ideal) or 1..16"},
        {"--first-layer", "cpu", "host or crossbar"},
        {"--lrs-noise", "10001", "from 0 to 10000"},
        {"--hrs-noise", "-1", "from 0 to 10000"},
        {"--w-res", "2e9", "wire resistance in ohm from 0 to 1e+09"},
        {"--v-read", "0", "from -10 to below 0 V"},
        {"--v-read", "-11", "from -10 to below 0 V"},
        {"--read-disturb", "ON", "OFF, SOFTWARE or CELL_BASED"},
        {"--t-read", "0", "> 0"},
        {"--saf-hrs", "1.5", "a probability from 0 to 1"},
        {"--saf-lrs", "-0.1", "a probability from 0 to 1"},
        {"--c2c-model", "row", "cell or column"},
        {"--bogus", NULL, "is unknown"},
        {"stray", NULL, "unexpected argument 'stray'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
        run_result r[2];
        static const char *const commands[] = {"run", "calibrate"};
        for (int k = 0; k < 2; ++k) {
            run(f, &r[k], commands[k], cases[i].option, cases[i].value, NULL);
            assert_error_line(&r[k], 2, commands[k], cases[i].option, cases[i].names, NULL);
        }
        /* "cimgpu: run: ..." against "cimgpu: calibrate: ..." */
        const char *run_rest = strstr(r[0].err, "run");
        const char *cal_rest = strstr(r[1].err, "calibrate");
        assert_non_null(run_rest);
        assert_non_null(cal_rest);
        char expected[1024];
        snprintf(expected, sizeof expected, "%.*scalibrate%s", (int)(run_rest - r[0].err), r[0].err,
                 run_rest + 3);
        /* `cimgpu run --help` and `cimgpu calibrate --help` in the hint */
        char *hint = strstr(expected, "cimgpu run --help");
        if (hint) {
            memmove(hint + strlen("cimgpu calibrate"), hint + strlen("cimgpu run"),
                    strlen(hint + strlen("cimgpu run")) + 1);
            memcpy(hint, "cimgpu calibrate", strlen("cimgpu calibrate"));
        }
        assert_string_equal(r[1].err, expected);
        result_free(&r[0]);
        result_free(&r[1]);
    }
}

/* The calibration config's adc_calib_info profile of 004_conv2d: its mean
 * (uA). text: the file calibrate wrote. */
static double profile_mean(const char *text)
{
    cJSON *doc = cJSON_Parse(text);
    assert_non_null(doc);
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(doc, "adc_calib_info");
    const cJSON *layer = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(info, "profiles"), "004_conv2d");
    const cJSON *mean = cJSON_GetObjectItemCaseSensitive(layer, "mean");
    assert_true(cJSON_IsNumber(mean));
    const double v = mean->valuedouble;
    cJSON_Delete(doc);
    return v;
}

static double number_key(const cJSON *doc, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);
    if (!cJSON_IsNumber(v))
        fail_msg("no number \"%s\" in the calibration config", key);
    return v->valuedouble;
}

static int true_key(const cJSON *doc, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, key));
}

/* `cimgpu calibrate` takes run's crossbar flags: the config it writes
 * records them (its keys are the profiled crossbar's), and they change the
 * chips profiled. */
static void test_calibrate_takes_the_crossbar_flags(void **state)
{
    const fixture *f = *state;
    char plain[CIM_TEST_PATH_MAX], flags[CIM_TEST_PATH_MAX], disturb[CIM_TEST_PATH_MAX],
        soft[CIM_TEST_PATH_MAX];
    run_result r;
    NEED_DEVICE(f);
    scratch(f, "cal_plain.json", plain);
    scratch(f, "cal_flags.json", flags);
    scratch(f, "cal_disturb.json", disturb);
    scratch(f, "cal_soft.json", soft);
    run(f, &r, "calibrate", "--adc-bits", "4", "--images", "3", "--out", plain, NULL);
    assert_success(&r);
    result_free(&r);
    {
        const char *const args[] = {"calibrate", "--adc-bits",  "4",    "--images",
                                    "3",         "--w-res",     "1",    "--saf-lrs",
                                    "0.3",       "--saf-hrs",   "0.02", "--lrs-noise",
                                    "2",         "--hrs-noise", "0.5",  "--c2c",
                                    "--out",     flags,         NULL};
        run_argv(f, &r, args);
        assert_success(&r);
        result_free(&r);
    }
    char *text = cim_test_read_file(flags);
    cJSON *doc = cJSON_Parse(text);
    assert_non_null(doc);
    assert_true(true_key(doc, "parasitics"));
    assert_true(number_key(doc, "w_res") == 1);
    assert_true(number_key(doc, "SAF_LRS") == 0.3);
    assert_true(number_key(doc, "SAF_HRS") == 0.02);
    assert_true(number_key(doc, "LRS_NOISE") == 2 && number_key(doc, "LRS_NOISE_C2C") == 2);
    assert_true(number_key(doc, "HRS_NOISE") == 0.5 && number_key(doc, "HRS_NOISE_C2C") == 0.5);
    assert_true(true_key(doc, "c2c_var"));
    cJSON_Delete(doc);
    /* a third of the cells stuck at LRS moves the profile: the flags reach the chips */
    char *plain_text = cim_test_read_file(plain);
    const double m0 = profile_mean(plain_text), m1 = profile_mean(text);
    if (!(m0 != m1))
        fail_msg("the profile mean of 004_conv2d is %g with and without the flags", m0);
    free(plain_text);
    free(text);

    cim_test_write_text(soft, "{\"read_disturb_mitigation_fp\": 1.5}");
    {
        const char *const args[] = {"calibrate", "--adc-bits", "4",     "--images",
                                    "2",         "--config",   soft,    "--read-disturb",
                                    "SOFTWARE",  "--t-read",   "1e-6",  "--v-read",
                                    "-0.4",      "--out",      disturb, NULL};
        run_argv(f, &r, args);
        assert_success(&r);
        result_free(&r);
    }
    text = cim_test_read_file(disturb);
    doc = cJSON_Parse(text);
    assert_non_null(doc);
    assert_true(true_key(doc, "read_disturb"));
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                            doc, "read_disturb_mitigation_strategy")),
                        "SOFTWARE");
    assert_true(number_key(doc, "t_read") == 1e-6);
    assert_true(number_key(doc, "V_read") == -0.4);
    cJSON_Delete(doc);
    free(text);
    /* a config check of the flags is calibrate's too */
    run(f, &r, "calibrate", "--adc-bits", "4", "--saf-hrs", "0.6", "--saf-lrs", "0.6", NULL);
    assert_error_line(&r, 2, "SAF_HRS + SAF_LRS <= 1", NULL);
    result_free(&r);
}

/* The banner's pipeline line is the executor's choice with its reason. */
#define DIGITAL "<a digital_only config>"
static void test_run_banner_pipeline_reason(void **state)
{
    const fixture *f = *state;
    char digital[CIM_TEST_PATH_MAX];
    run_result r;
    NEED_DEVICE(f);
    scratch(f, "pipeline_digital.json", digital);
    cim_test_write_text(digital, "{\"digital_only\": true}");
    static const struct {
        const char *args[12];
        const char *line;
    } cases[] = {
        {{"--w-res", "1"}, "\npipeline: auto -> host (IR drop)\n"},
        {{"--read-disturb", "OFF", "--t-read", "1e-6", "--v-read", "-0.4"},
         "\npipeline: auto -> host (read disturb)\n"},
        {{"--pipeline", "device", "--c2c"}, "\npipeline: device -> host (C2C)\n"},
        {{"--pipeline", "host", "--c2c"}, "\npipeline: host\n"},
        {{"--config", DIGITAL}, "\npipeline: auto -> host (digital chips)\n"},
        /* digital chips with stuck-at faults differ: the device pipeline reads them */
        {{"--config", DIGITAL, "--saf-lrs", "0.01", "--pipeline", "device"},
         "\npipeline: device\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
        const char *args[20] = {"run", "--trials", "1", "--images", "2"};
        int n = 5;
        for (int k = 0; k < 12 && cases[i].args[k]; ++k)
            args[n++] = strcmp(cases[i].args[k], DIGITAL) == 0 ? digital : cases[i].args[k];
        args[n] = NULL;
        run_argv(f, &r, args);
        assert_success(&r);
        if (!strstr(r.out, cases[i].line))
            fail_msg("no \"%s\" in:\n%s", cases[i].line + 1, r.out);
        result_free(&r);
    }
    /* the default: the device pipeline, or the host's on a CPU device */
    run(f, &r, "run", "--trials", "1", "--images", "2", NULL);
    assert_success(&r);
    assert_true(strstr(r.out, "\npipeline: auto -> host (CPU device)\n") ||
                strstr(r.out, "\npipeline: auto -> device\n"));
    result_free(&r);
}

static void test_info(void **state)
{
    fixture *f = *state;
    char models[CIM_TEST_PATH_MAX], path[CIM_TEST_PATH_MAX + 16];
    run_result r;
    run(f, &r, "info", NULL);
    assert_success(&r);
    assert_non_null(strstr(r.out, "cimgpu " CIM_VERSION));
    assert_non_null(strstr(r.out, "HDF5"));
    assert_non_null(strstr(r.out, "cJSON"));
    assert_non_null(strstr(r.out, "Random123"));
    assert_non_null(strstr(r.out, "OpenCL devices"));
    assert_non_null(strstr(r.out, "Default device"));
    /* the shipped models of data/models */
    assert_non_null(strstr(r.out, "Models (" CIM_SOURCE_DIR "/data/models):"));
    assert_non_null(strstr(r.out, "  tnn_cnn.h5\n"));
    if (f->have_device)
        assert_non_null(strstr(r.out, "[0] "));
    result_free(&r);

    scratch(f, "models", models);
    assert_int_equal(mkdir(models, 0755), 0);
    snprintf(path, sizeof path, "%s/a.h5", models);
    cim_test_write_text(path, "");
    snprintf(path, sizeof path, "%s/notes.txt", models);
    cim_test_write_text(path, "");
    setenv("CIMGPU_MODEL_DIR", models, 1);
    run(f, &r, "info", NULL);
    unsetenv("CIMGPU_MODEL_DIR");
    assert_success(&r);
    assert_non_null(strstr(r.out, "  a.h5\n"));
    assert_null(strstr(r.out, "notes.txt"));
    result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_help),
        cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_run_bad_input),
        cmocka_unit_test(test_run_faults_and_tables_recorded),
        cmocka_unit_test(test_run_dataset_shape_mismatch),
        cmocka_unit_test(test_run_cifar10_folder),
        cmocka_unit_test(test_run_small_and_replay),
        cmocka_unit_test(test_run_first_layer_on_crossbar),
        cmocka_unit_test(test_run_pipelines_agree),
        cmocka_unit_test(test_progress_on_a_terminal),
        cmocka_unit_test(test_sweep_progress_on_a_terminal),
        cmocka_unit_test(test_unknown_subcommand_and_options),
        cmocka_unit_test(test_required_options),
        cmocka_unit_test(test_bad_trials),
        cmocka_unit_test(test_bad_seed),
        cmocka_unit_test(test_missing_files),
        cmocka_unit_test(test_bad_csv),
        cmocka_unit_test(test_values_outside_the_alphabet),
        cmocka_unit_test(test_shape_mismatch),
        cmocka_unit_test(test_bad_configs),
        cmocka_unit_test(test_one_bit_adcs),
        cmocka_unit_test(test_bad_device),
        cmocka_unit_test(test_worked_examples),
        cmocka_unit_test(test_noise_free_trials_repeat),
        cmocka_unit_test(test_seed_makes_noise_reproducible),
        cmocka_unit_test(test_chunked_trials_match),
        cmocka_unit_test(test_out_writes_results_and_provenance),
        cmocka_unit_test(test_failed_run_leaves_no_file),
        cmocka_unit_test(test_run_failure_leaves_no_file),
        cmocka_unit_test(test_trace_shapes_and_recombination),
        cmocka_unit_test(test_calib_mode_uses_the_mvm_entry),
        cmocka_unit_test(test_info),
        cmocka_unit_test(test_help_subcommand),
        cmocka_unit_test(test_synopsis_lists_every_option),
        cmocka_unit_test(test_run_config_reads_over_the_defaults),
        cmocka_unit_test(test_run_banner_says_what_runs),
        cmocka_unit_test(test_network_options_one_wording),
        cmocka_unit_test(test_calibrate_takes_the_crossbar_flags),
        cmocka_unit_test(test_run_banner_pipeline_reason),
        cmocka_unit_test(test_run_c2c_column_law),
        cmocka_unit_test(test_mvm_c2c_column_law),
    };
    return cmocka_run_group_tests_name("cli", tests, group_setup, group_teardown);
}
