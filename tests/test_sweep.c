/* test_sweep.c -- `cimgpu sweep` and `cimgpu export` end to end, through
 * the binary (CIMGPU_BIN), as a user runs them (docs/sweep.md).
 *
 * The central property: configuration i of a sweep is the `cimgpu run`
 * that `--dry-run` prints for it -- its chips' top-1 and top-5 accuracies
 * equal that run's bit for bit, and so do its summary numbers (noise-free
 * and noisy cells, the ideal ADC and a 4-bit one with cycle-to-cycle
 * variation read cell by cell). Around it: the dry run computes and writes
 * nothing; the results file has the documented layout; a sweep killed with
 * SIGKILL inside a configuration (twice) and completed with --resume has
 * every dataset of an uninterrupted sweep but the measured seconds; SIGINT
 * stops at a chunk boundary and keeps the partial file, which --resume of
 * another experiment or trial count refuses and --force discards; every
 * kind of bad grid is refused before any work with one line; the CSV of
 * --csv and of `cimgpu export` are the same bytes, with the reference
 * flow's percent columns equal to 100 x the file's fractions; `cimgpu run`
 * reports and stores top-5; the help texts.
 *
 * The experiments are small (tnn_cnn, 3 to 500 images, 3 to 40 chips per
 * configuration). The resume experiment's configurations take about a
 * second each on a 2-core CPU (16 chips per chunk, cim_mc_chunks), so a
 * test reading the growing S.h5.partial as an SWMR reader can stop the
 * sweep inside a configuration. The group fixture finds out whether there
 * is an OpenCL device (tests that compute skip() without one) and runs the
 * resume experiment once, uninterrupted, as the reference.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <dirent.h>
#include <hdf5.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cim_ocl.h"
#include "cim_test_cli.h"
#include "cim_test_h5.h"
#include "cim_test_util.h"

#define PATH_BUF CIM_TEST_PATH_BUF
#define WAIT_S 200    /* for a sweep to reach a point */
#define MAX_CELLS 128 /* CSV cells per line */
#define MAX_CONFIGS 8

/* m_mode [TNN_I, TNN_II] x hrs_noise [0, 3], noisy LRS cells, ideal ADC:
 * 4 configurations x 6 chips x 20 images. */
static const char grid_json[] = "{\n"
                                "    \"nn_names\": [\"tnn_cnn\"],\n"
                                "    \"ifm\": [[28, 28, 1]],\n"
                                "    \"nn_data_set\": \"fashion_mnist\",\n"
                                "    \"nn_data\": \"TEST\",\n"
                                "    \"batch\": 10,\n"
                                "    \"num_runs\": 2,\n"
                                "    \"xbar_size\": [[256, 256]],\n"
                                "    \"hrs_lrs\": [[5.0, 30.0]],\n"
                                "    \"adc_type\": \"INF_ADC\",\n"
                                "    \"m_mode\": [\"TNN_I\", \"TNN_II\"],\n"
                                "    \"hrs_noise\": [0.0, 3.0],\n"
                                "    \"lrs_noise\": [2.0],\n"
                                "    \"verbose\": false,\n"
                                "    \"trials\": 6\n"
                                "}\n";
#define GRID_C 4
#define GRID_T 6
#define GRID_K 20

/* The noisy paths: a 4-bit finite ADC (SYM_RANGE_ADC for TNN_II) and C2C
 * variation, whose chips read every cell (slow: 3 chips x 3 images). */
static const char noisy_json[] = "{\"nn_names\": [\"tnn_cnn\"], \"ifm\": [[28, 28, 1]], "
                                 "\"batch\": 3, \"num_runs\": 1, \"xbar_size\": [[256, 256]], "
                                 "\"hrs_lrs\": [[5.0, 30.0]], \"adc_type\": \"FP_ALPHA_ADC\", "
                                 "\"resolution\": [4], \"m_mode\": [\"TNN_II\"], "
                                 "\"hrs_noise\": [6.0], \"lrs_noise\": [2.0], "
                                 "\"c2c_var\": true, \"trials\": 3}";

/* The resume tests' sweep: 2 configurations x 40 chips (chunks of 16, 16
 * and 8) x 500 images. */
#define RESUME_JSON(hrs_noise)                                                                     \
    "{\"nn_names\": [\"tnn_cnn\"], \"ifm\": [[28, 28, 1]], \"batch\": 250, \"num_runs\": 2, "      \
    "\"xbar_size\": [[256, 256]], \"hrs_lrs\": [[5.0, 30.0]], \"m_mode\": [\"TNN_I\"], "           \
    "\"hrs_noise\": " hrs_noise ", \"lrs_noise\": [2.0], \"trials\": 40}"
#define RESUME_T 40
#define RESUME_C 2
#define RESUME_CHUNK 16

typedef struct fixture {
    char dir[CIM_TEST_SCRATCH_DIR_MAX];
    int have_device;
    char resume_exp[PATH_BUF]; /* RESUME_JSON("[3.0, 4.0]") */
    char full[PATH_BUF];       /* its uninterrupted sweep */
} fixture;

#define NEED_DEVICE(f) CIM_TEST_CLI_NEED_DEVICE((f)->have_device)

/* ---- small helpers ------------------------------------------------------ */

static const char *path_in(const fixture *f, const char *name, char *buf)
{
    return cim_test_path(buf, "%s/%s", f->dir, name);
}

/* Writes `text` as the experiment file `name` of the scratch folder. */
static const char *experiment(const fixture *f, const char *name, const char *text, char *buf)
{
    path_in(f, name, buf);
    cim_test_write_text(buf, text);
    return buf;
}

/* A new folder `name` of the scratch folder holding grid.json (grid_json);
 * out: its S.h5. */
static void grid_folder(const fixture *f, const char *name, char *folder, char *exp, char *out)
{
    path_in(f, name, folder);
    assert_int_equal(mkdir(folder, 0755), 0);
    cim_test_path(exp, "%s/grid.json", folder);
    cim_test_write_text(exp, grid_json);
    cim_test_path(out, "%s/S.h5", folder);
}

/* run(f, &r, "sweep", path, ..., NULL) */
static void run(const fixture *f, cim_cli_result *r, ...)
{
    const char *args[CIM_TEST_CLI_MAX_ARGS + 1];
    int n = 0;
    va_list ap;
    va_start(ap, r);
    while (n < CIM_TEST_CLI_MAX_ARGS && (args[n] = va_arg(ap, const char *)) != NULL)
        ++n;
    va_end(ap);
    args[n] = NULL;
    cim_test_cli_run(f->dir, r, args);
}

/* Exit status `code` and one line "cimgpu: ..." on stderr naming every
 * string of the NULL-terminated list; stdout may hold the sweep's banner
 * (a failure after the device opened). */
static void assert_one_line(const cim_cli_result *r, int code, ...)
{
    const char *nl = strchr(r->err, '\n'), *want;
    va_list ap;
    if (r->exit_code != code)
        fail_msg("exit status %d, expected %d; stderr: %s", r->exit_code, code, r->err);
    if (!nl || nl[1] != '\0' || strncmp(r->err, "cimgpu: ", 8) != 0)
        fail_msg("stderr should be one line \"cimgpu: ...\", got: \"%s\"", r->err);
    va_start(ap, code);
    while ((want = va_arg(ap, const char *)) != NULL)
        if (!strstr(r->err, want))
            fail_msg("stderr \"%s\" does not mention \"%s\"", r->err, want);
    va_end(ap);
}

/* The folder holds no name starting with `stem` other than `stem` itself
 * (no S.h5.partial, no temporary file). */
static void assert_only(const char *dir, const char *stem, int want_stem)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int seen = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, stem) == 0)
            seen = 1;
        else if (strncmp(e->d_name, stem, strlen(stem)) == 0)
            fail_msg("%s/%s left behind", dir, e->d_name);
    }
    closedir(d);
    if (seen != want_stem)
        fail_msg("%s/%s %s", dir, stem, want_stem ? "missing" : "should not exist");
}

/* Splits a command line of cim_experiment_run_command -- words separated
 * by spaces, single quotes around words with other characters, a quote
 * inside as '\'' -- into malloc'd words; returns how many. */
static int shell_words(const char *cmd, char **words, int max)
{
    int n = 0;
    const char *p = cmd;
    while (*p) {
        char *w;
        size_t len = 0;
        while (*p == ' ')
            ++p;
        if (!*p)
            break;
        assert_true(n < max);
        w = malloc(strlen(p) + 1);
        assert_non_null(w);
        while (*p && *p != ' ') {
            if (*p == '\'') {
                const char *end = strchr(p + 1, '\'');
                if (!end)
                    fail_msg("unterminated quote in: %s", cmd);
                memcpy(w + len, p + 1, (size_t)(end - p - 1));
                len += (size_t)(end - p - 1);
                p = end + 1;
            } else if (*p == '\\' && p[1]) {
                w[len++] = p[1];
                p += 2;
            } else {
                if (strchr("\"$`;&|<>()*?[]#~!{}", *p))
                    fail_msg("unquoted shell character '%c' in: %s", *p, cmd);
                w[len++] = *p++;
            }
        }
        w[len] = '\0';
        words[n++] = w;
    }
    return n;
}

/* The lines of `text` (a copy cut in place; lines[i] point into *buf). */
static int split_lines(const char *text, char **buf, char **lines, int max)
{
    int n = 0;
    char *p = *buf = strdup(text);
    assert_non_null(p);
    while (*p) {
        char *nl = strchr(p, '\n');
        assert_true(n < max);
        lines[n++] = p;
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    return n;
}

/* ---- reading results files ---------------------------------------------- */

static hid_t open_file(const char *path)
{
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        fail_msg("cannot open %s", path);
    return file;
}

static int64_t attr_i64(hid_t loc, const char *name)
{
    int64_t v = 0;
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
    if (attr < 0)
        fail_msg("attribute %s missing", name);
    assert_true(H5Aread(attr, H5T_NATIVE_INT64, &v) >= 0);
    H5Aclose(attr);
    return v;
}

/* The n variable-length UTF-8 strings of an attribute (attr >= 0) or a
 * dataset (dset >= 0) of that space, as malloc'd copies. */
static char **read_utf8(hid_t attr, hid_t dset, hid_t space, size_t n, const char *name)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    char **v = calloc(n + 1, sizeof *v), **copy = calloc(n + 1, sizeof *copy);
    assert_true(v && copy);
    assert_true(H5Tset_size(type, H5T_VARIABLE) >= 0);
    assert_true(H5Tset_cset(type, H5T_CSET_UTF8) >= 0);
    if ((attr >= 0 ? H5Aread(attr, type, v)
                   : H5Dread(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v)) < 0)
        fail_msg("%s: cannot read it as UTF-8 strings", name);
    for (size_t i = 0; i < n; ++i)
        assert_non_null(copy[i] = strdup(v[i] ? v[i] : ""));
    H5Dvlen_reclaim(type, space, H5P_DEFAULT, v);
    free(v);
    H5Tclose(type);
    return copy;
}

/* A 1-D variable-length string attribute: *n malloc'd strings. */
static char **attr_strings(hid_t loc, const char *name, int *n)
{
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT), space;
    char **copy;
    if (attr < 0)
        fail_msg("attribute %s missing", name);
    space = H5Aget_space(attr);
    *n = (int)H5Sget_simple_extent_npoints(space);
    copy = read_utf8(attr, -1, space, (size_t)*n, name);
    H5Sclose(space);
    H5Aclose(attr);
    return copy;
}

static void free_strings(char **s, int n)
{
    for (int i = 0; i < n; ++i)
        free(s[i]);
    free(s);
}

/* A dataset as doubles with its shape; fails unless it has `rank`
 * dimensions (and, where given, d0 x d1). */
static double *doubles(hid_t file, const char *name, int rank, hsize_t d0, hsize_t d1)
{
    hsize_t dims[8] = {0};
    int r;
    double *v = cim_test_read_dataset(file, name, H5T_NATIVE_DOUBLE, &r, dims);
    if (r != rank || (rank >= 1 && dims[0] != d0) || (rank >= 2 && dims[1] != d1))
        fail_msg("%s: rank %d, %llu x %llu; expected rank %d, %llu x %llu", name, r,
                 (unsigned long long)dims[0], (unsigned long long)dims[1], rank,
                 (unsigned long long)d0, (unsigned long long)d1);
    return v;
}

static double scalar(hid_t file, const char *name)
{
    double *p = doubles(file, name, 0, 0, 0), v = *p;
    free(p);
    return v;
}

/* A 1-D variable-length string dataset of n entries, malloc'd strings. */
static char **strings(hid_t file, const char *name, hsize_t n)
{
    hid_t dset = H5Dopen2(file, name, H5P_DEFAULT), space;
    hsize_t dims[2] = {0};
    char **copy;
    if (dset < 0)
        fail_msg("dataset %s missing", name);
    space = H5Dget_space(dset);
    assert_int_equal(H5Sget_simple_extent_ndims(space), 1);
    H5Sget_simple_extent_dims(space, dims, NULL);
    assert_int_equal(dims[0], n);
    copy = read_utf8(-1, dset, space, (size_t)n, name);
    H5Sclose(space);
    H5Dclose(dset);
    return copy;
}

/* Waits until the sweep pid has written at least `min` chips into partial,
 * stopping inside a configuration (not a multiple of RESUME_T); fails if
 * the sweep ends first. Returns the count seen. */
static int64_t wait_inside_config(pid_t pid, const char *partial, int64_t min)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int status;
        const int64_t w = cim_test_trials_written(partial, NULL);
        if (w >= min && w % RESUME_T != 0)
            return w;
        if (waitpid(pid, &status, WNOHANG) == pid)
            fail_msg("the sweep ended (status 0x%x) before %s held %lld chips inside a "
                     "configuration",
                     status, partial, (long long)min);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > WAIT_S) {
            kill(pid, SIGKILL);
            fail_msg("%s did not reach %lld chips in %d s", partial, (long long)min, WAIT_S);
        }
        cim_test_sleep_ms(2);
    }
}

/* ---- comparing sweep files -------------------------------------------- */

/* Dataset `name` of files a and b: same type, shape and values (variable-
 * length strings compared as text, everything else as bytes). */
static void assert_dataset_equal(hid_t fa, hid_t fb, const char *name)
{
    hid_t da = H5Dopen2(fa, name, H5P_DEFAULT), db = H5Dopen2(fb, name, H5P_DEFAULT);
    if (da < 0 || db < 0)
        fail_msg("dataset %s missing", name);
    hid_t ta = H5Dget_type(da), tb = H5Dget_type(db);
    hid_t sa = H5Dget_space(da), sb = H5Dget_space(db);
    hsize_t dims_a[4] = {0}, dims_b[4] = {0};
    const int ra = H5Sget_simple_extent_ndims(sa), rb = H5Sget_simple_extent_ndims(sb);
    H5Sget_simple_extent_dims(sa, dims_a, NULL);
    H5Sget_simple_extent_dims(sb, dims_b, NULL);
    if (H5Tequal(ta, tb) <= 0 || ra != rb || memcmp(dims_a, dims_b, sizeof dims_a) != 0)
        fail_msg("%s: type or shape differs", name);
    const size_t points = (size_t)H5Sget_simple_extent_npoints(sa);
    if (H5Tis_variable_str(ta) > 0) {
        char **x = calloc(points + 1, sizeof *x), **y = calloc(points + 1, sizeof *y);
        assert_true(x && y);
        assert_true(H5Dread(da, ta, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) >= 0);
        assert_true(H5Dread(db, tb, H5S_ALL, H5S_ALL, H5P_DEFAULT, y) >= 0);
        for (size_t i = 0; i < points; ++i)
            if (strcmp(x[i] ? x[i] : "", y[i] ? y[i] : "") != 0)
                fail_msg("%s[%zu] differs: \"%s\" / \"%s\"", name, i, x[i], y[i]);
        H5Dvlen_reclaim(ta, sa, H5P_DEFAULT, x);
        H5Dvlen_reclaim(tb, sb, H5P_DEFAULT, y);
        free(x);
        free(y);
    } else {
        const size_t bytes = points * H5Tget_size(ta);
        unsigned char *x = malloc(bytes + 1), *y = malloc(bytes + 1);
        assert_true(x && y);
        assert_true(H5Dread(da, ta, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) >= 0);
        assert_true(H5Dread(db, tb, H5S_ALL, H5S_ALL, H5P_DEFAULT, y) >= 0);
        if (memcmp(x, y, bytes) != 0)
            fail_msg("%s differs", name);
        free(x);
        free(y);
    }
    H5Sclose(sa);
    H5Sclose(sb);
    H5Tclose(ta);
    H5Tclose(tb);
    H5Dclose(da);
    H5Dclose(db);
}

/* Every dataset of the finished sweep files a and b but /summary/seconds
 * (a measurement) is equal: the /configs columns (the keys attribute, then
 * done and trials_written), the /summary statistics, /trials and the root
 * trials_written. b must be complete. */
static void assert_sweeps_equal(const char *a, const char *b)
{
    hid_t fa = open_file(a), fb = open_file(b), g;
    char name[256];
    int n_keys, n_stats, n_b;
    assert_int_equal(attr_i64(fb, "complete"), 1);
    g = H5Gopen2(fa, "configs", H5P_DEFAULT);
    char **keys = attr_strings(g, "keys", &n_keys);
    H5Gclose(g);
    g = H5Gopen2(fb, "configs", H5P_DEFAULT);
    char **keys_b = attr_strings(g, "keys", &n_b);
    H5Gclose(g);
    assert_int_equal(n_keys, n_b);
    for (int i = 0; i < n_keys; ++i) {
        assert_string_equal(keys[i], keys_b[i]);
        snprintf(name, sizeof name, "configs/%s", keys[i]);
        assert_dataset_equal(fa, fb, name);
    }
    assert_dataset_equal(fa, fb, "configs/done");
    assert_dataset_equal(fa, fb, "configs/trials_written");
    g = H5Gopen2(fa, "summary", H5P_DEFAULT);
    char **stats = attr_strings(g, "keys", &n_stats);
    H5Gclose(g);
    assert_true(n_stats >= 15);
    for (int i = 0; i < n_stats; ++i) {
        if (strcmp(stats[i], "seconds") == 0)
            continue;
        snprintf(name, sizeof name, "summary/%s", stats[i]);
        assert_dataset_equal(fa, fb, name);
    }
    assert_dataset_equal(fa, fb, "trials/top1");
    assert_dataset_equal(fa, fb, "trials/top5");
    assert_dataset_equal(fa, fb, "trials_written");
    free_strings(keys, n_keys);
    free_strings(keys_b, n_b);
    free_strings(stats, n_stats);
    H5Fclose(fa);
    H5Fclose(fb);
}

/* ---- fixture ------------------------------------------------------------ */

static int setup(void **state)
{
    fixture *f;
    cim_ocl ocl;
    cim_error err;
    if (cim_test_scratch_setup(state, sizeof *f, "sweep") != 0)
        return -1;
    f = *state;
    unsetenv("CIMGPU_DEVICE");
    unsetenv("CIMGPU_MODEL_DIR");
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    cim_error_clear(&err);
    if (cim_ocl_open(&ocl, NULL, &err) != 0 && err.code != CIM_ERR_NODEVICE) {
        /* no device at all: skip; a device whose kernels fail to build: fail */
        fprintf(stderr, "sweep: %s\n", err.msg);
        return -1;
    }
    if (err.code == CIM_ERR_NODEVICE)
        return 0;
    f->have_device = 1;
    cim_ocl_close(&ocl);
    /* the uninterrupted sweep the resumed ones are compared with */
    path_in(f, "resume.json", f->resume_exp);
    cim_test_write_text(f->resume_exp, RESUME_JSON("[3.0, 4.0]"));
    path_in(f, "full.h5", f->full);
    const char *const args[] = {"sweep", f->resume_exp, "--out", f->full, NULL};
    pid_t pid = cim_test_cli_spawn(f->dir, "full", args, NULL);
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "the reference sweep failed (status 0x%x); see %s/full.err\n", status,
                f->dir);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    return cim_test_scratch_teardown(state);
}

/* ---- 1. every configuration is its `cimgpu run` ------------------------- */

/* Runs the sweep of `json` and every `cimgpu run` line of its dry run with
 * --out Ri.h5: chips and summary equal, bit for bit. */
static void check_runs_equal_sweep(const fixture *f, const char *tag, const char *json,
                                   int n_configs)
{
    char exp[PATH_BUF], out[PATH_BUF], name[64], *buf, *lines[MAX_CONFIGS + 8];
    cim_cli_result r;
    cim_test_path(name, "%s.json", tag);
    experiment(f, name, json, exp);
    cim_test_path(name, "%s.h5", tag);
    path_in(f, name, out);
    run(f, &r, "sweep", exp, "--out", out, NULL);
    cim_test_cli_assert_success(&r);
    cim_test_cli_free(&r);
    run(f, &r, "sweep", exp, "--dry-run", NULL);
    cim_test_cli_assert_success(&r);
    const int n_lines = split_lines(r.out, &buf, lines, MAX_CONFIGS + 8);
    assert_int_equal(n_lines, 2 + n_configs);

    hid_t s = open_file(out);
    const int64_t t = attr_i64(s, "trials"), images = attr_i64(s, "images");
    assert_int_equal(attr_i64(s, "n_configs"), n_configs);
    double *top1 = doubles(s, "trials/top1", 2, (hsize_t)n_configs, (hsize_t)t);
    double *top5 = doubles(s, "trials/top5", 2, (hsize_t)n_configs, (hsize_t)t);
    static const char *const pairs[][2] = {
        {"summary/top1_baseline", "summary/digital_accuracy"},
        {"summary/top5_baseline", "summary/digital_top5_accuracy"},
        {"summary/top1_mean", "summary/mean"},
        {"summary/top1_std", "summary/std"},
        {"summary/top1_ci95_lo", "summary/ci95_lo"},
        {"summary/top1_ci95_hi", "summary/ci95_hi"},
        {"summary/top1_q05", "summary/q05"},
        {"summary/top1_min", "summary/min"},
        {"summary/top1_max", "summary/max"},
        {"summary/yield", "summary/yield"},
        {"summary/yield_target", "summary/yield_target"},
        {"summary/top5_mean", "summary/top5_mean"},
        {"summary/top5_std", "summary/top5_std"},
    };
    enum { N_PAIRS = sizeof pairs / sizeof *pairs };
    double *stat[N_PAIRS];
    for (int k = 0; k < N_PAIRS; ++k)
        stat[k] = doubles(s, pairs[k][0], 1, (hsize_t)n_configs, 0);
    char **configs = strings(s, "configs/config_json", (hsize_t)n_configs);
    H5Fclose(s);

    for (int i = 0; i < n_configs; ++i) {
        char prefix[32], run_out[PATH_BUF], *words[CIM_TEST_CLI_MAX_ARGS] = {NULL};
        const char *args[CIM_TEST_CLI_MAX_ARGS + 1];
        const char *line = lines[2 + i];
        snprintf(prefix, sizeof prefix, "%d: cimgpu run ", i);
        if (strncmp(line, prefix, strlen(prefix)) != 0)
            fail_msg("dry-run line %d is \"%s\"", i, line);
        const int n = shell_words(line + strlen(prefix) - strlen("cimgpu run "), words,
                                  CIM_TEST_CLI_MAX_ARGS - 2);
        assert_true(n > 2);
        assert_string_equal(words[0], "cimgpu");
        for (int w = 1; w < n; ++w)
            args[w - 1] = words[w];
        cim_test_path(name, "%s_R%d.h5", tag, i);
        args[n - 1] = "--out";
        args[n] = path_in(f, name, run_out);
        args[n + 1] = NULL;
        cim_cli_result rr;
        cim_test_cli_run(f->dir, &rr, args);
        cim_test_cli_assert_success(&rr);
        cim_test_cli_free(&rr);
        for (int w = 0; w < n; ++w)
            free(words[w]);

        hid_t ri = open_file(run_out);
        assert_int_equal(attr_i64(ri, "images"), images);
        cim_test_assert_string_attr(ri, "config_json", configs[i]); /* the same crossbar */
        double *acc = doubles(ri, "trials/accuracy", 1, (hsize_t)t, 0);
        double *acc5 = doubles(ri, "trials/top5_accuracy", 1, (hsize_t)t, 0);
        if (memcmp(acc, top1 + i * t, sizeof *acc * (size_t)t) != 0)
            fail_msg("%s configuration %d: /trials/top1 differs from its run's accuracy", tag, i);
        if (memcmp(acc5, top5 + i * t, sizeof *acc5 * (size_t)t) != 0)
            fail_msg("%s configuration %d: /trials/top5 differs from its run's top-5", tag, i);
        for (int k = 0; k < N_PAIRS; ++k) {
            const double v = scalar(ri, pairs[k][1]);
            if (memcmp(&v, &stat[k][i], sizeof v) != 0)
                fail_msg("%s configuration %d: %s = %.17g, the run's %s = %.17g", tag, i,
                         pairs[k][0], stat[k][i], pairs[k][1], v);
        }
        free(acc);
        free(acc5);
        H5Fclose(ri);
    }
    for (int k = 0; k < N_PAIRS; ++k)
        free(stat[k]);
    free_strings(configs, n_configs);
    free(top1);
    free(top5);
    free(buf);
    cim_test_cli_free(&r);
}

static void test_configurations_are_their_runs(void **state)
{
    const fixture *f = *state;
    NEED_DEVICE(f);
    check_runs_equal_sweep(f, "grid", grid_json, GRID_C);
    check_runs_equal_sweep(f, "noisy", noisy_json, 1);
}

/* ---- 2. the dry run ----------------------------------------------------- */

/* The count, an estimate, one command line per configuration (with --trials
 * and --seed in them); no file anywhere; --dry-run --out is a usage error. */
static void test_dry_run(void **state)
{
    const fixture *f = *state;
    char folder[PATH_BUF], exp[PATH_BUF], out[PATH_BUF], *buf, *lines[16];
    cim_cli_result r;
    grid_folder(f, "dry", folder, exp, out);
    run(f, &r, "sweep", exp, "--dry-run", "--trials", "7", "--seed", "5", NULL);
    cim_test_cli_assert_success(&r);
    assert_string_equal(r.err, "");
    const int n = split_lines(r.out, &buf, lines, 16);
    assert_int_equal(n, 2 + GRID_C);
    if (!strstr(lines[0], "4 configurations x 7 chips x 20 images") || !strstr(lines[0], "seed 5"))
        fail_msg("count line: \"%s\"", lines[0]);
    if (strncmp(lines[1], "estimated time: about ", 22) != 0)
        fail_msg("estimate line: \"%s\"", lines[1]);
    for (int i = 0; i < GRID_C; ++i) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "%d: cimgpu run ", i);
        if (strncmp(lines[2 + i], prefix, strlen(prefix)) != 0 ||
            !strstr(lines[2 + i], " --trials 7 --seed 5 ") ||
            !strstr(lines[2 + i], i < 2 ? "'m_mode=\"TNN_I\"'" : "'m_mode=\"TNN_II\"'") ||
            !strstr(lines[2 + i], i % 2 ? "HRS_NOISE=3 " : "HRS_NOISE=0 "))
            fail_msg("command line %d: \"%s\"", i, lines[2 + i]);
    }
    free(buf);
    cim_test_cli_free(&r);
    assert_int_equal(cim_test_count_entries(folder), 1);

    cim_test_path(out, "%s/x.h5", folder);
    run(f, &r, "sweep", exp, "--dry-run", "--out", out, NULL);
    cim_test_cli_assert_error_line(&r, 2, "--dry-run", "--out", NULL);
    cim_test_cli_free(&r);
    assert_int_equal(cim_test_count_entries(folder), 1);
}

/* ---- 3. the results file ------------------------------------------------ */

static void test_results_file_layout(void **state)
{
    const fixture *f = *state;
    char folder[PATH_BUF], exp[PATH_BUF], out[PATH_BUF], *buf, *lines[16];
    cim_cli_result r;
    NEED_DEVICE(f);
    grid_folder(f, "layout", folder, exp, out);
    run(f, &r, "sweep", exp, "--out", out, NULL);
    cim_test_cli_assert_success(&r);
    cim_test_cli_free(&r);
    assert_only(folder, "S.h5", 1);
    run(f, &r, "sweep", exp, "--dry-run", NULL);
    cim_test_cli_assert_success(&r);
    assert_int_equal(split_lines(r.out, &buf, lines, 16), 2 + GRID_C);

    hid_t s = open_file(out), g;
    cim_test_assert_string_attr(s, "format", "cimgpu-sweep");
    assert_int_equal(attr_i64(s, "complete"), 1);
    assert_int_equal(attr_i64(s, "n_configs"), GRID_C);
    assert_int_equal(attr_i64(s, "trials"), GRID_T);
    assert_int_equal(attr_i64(s, "images"), GRID_K);
    assert_int_equal(attr_i64(s, "first_image"), 0);
    cim_test_assert_string_attr(s, "experiment_json", grid_json);
    cim_test_assert_string_attr(s, "experiment_path", exp);
    {
        char *sha = cim_test_read_string_attr(s, "grid_sha256");
        assert_int_equal(strlen(sha), 64);
        for (int i = 0; i < 64; ++i)
            assert_true(isdigit((unsigned char)sha[i]) || (sha[i] >= 'a' && sha[i] <= 'f'));
        free(sha);
    }

    /* /configs: one dataset per key, C entries; pairs C x 2 with columns */
    g = H5Gopen2(s, "configs", H5P_DEFAULT);
    assert_true(g >= 0);
    int n_keys;
    char **keys = attr_strings(g, "keys", &n_keys);
    static const char *const always[] = {"nn_name",     "m_mode",    "xbar_size",  "hrs_lrs",
                                         "ifm",         "adc",       "model_path", "config_json",
                                         "run_command", "hrs_noise", "lrs_noise"};
    for (size_t a = 0; a < sizeof always / sizeof *always; ++a) {
        int found = 0;
        for (int i = 0; i < n_keys; ++i)
            found += strcmp(keys[i], always[a]) == 0;
        if (found != 1)
            fail_msg("/configs keys name %s %d times", always[a], found);
    }
    for (int i = 0; i < n_keys; ++i) {
        hid_t d = H5Dopen2(g, keys[i], H5P_DEFAULT), space;
        hsize_t dims[2] = {0, 0};
        if (d < 0)
            fail_msg("/configs/%s missing", keys[i]);
        space = H5Dget_space(d);
        const int rank = H5Sget_simple_extent_ndims(space);
        H5Sget_simple_extent_dims(space, dims, NULL);
        assert_int_equal(dims[0], GRID_C);
        if (rank == 2) {
            int n_parts;
            char **parts = attr_strings(d, "columns", &n_parts);
            assert_int_equal(n_parts, (int)dims[1]);
            free_strings(parts, n_parts);
        } else {
            assert_int_equal(rank, 1);
        }
        H5Sclose(space);
        H5Dclose(d);
    }
    free_strings(keys, n_keys);
    {
        static const char *const pair_keys[][3] = {{"xbar_size", "M", "N"},
                                                   {"hrs_lrs", "HRS", "LRS"}};
        static const double pair_values[][2] = {{256, 256}, {5, 30}};
        for (int k = 0; k < 2; ++k) {
            char path[64];
            int n_parts;
            hid_t d = H5Dopen2(g, pair_keys[k][0], H5P_DEFAULT);
            char **parts = attr_strings(d, "columns", &n_parts);
            H5Dclose(d);
            assert_int_equal(n_parts, 2);
            assert_string_equal(parts[0], pair_keys[k][1]);
            assert_string_equal(parts[1], pair_keys[k][2]);
            free_strings(parts, n_parts);
            snprintf(path, sizeof path, "configs/%s", pair_keys[k][0]);
            double *v = doubles(s, path, 2, GRID_C, 2);
            for (int c = 0; c < GRID_C; ++c)
                for (int j = 0; j < 2; ++j)
                    assert_true(v[c * 2 + j] == pair_values[k][j]);
            free(v);
        }
    }
    H5Gclose(g);
    {
        /* the grid's order: the last key varies fastest */
        char **modes = strings(s, "configs/m_mode", GRID_C);
        char **commands = strings(s, "configs/run_command", GRID_C);
        double *hrs = doubles(s, "configs/hrs_noise", 1, GRID_C, 0);
        double *lrs = doubles(s, "configs/lrs_noise", 1, GRID_C, 0);
        for (int c = 0; c < GRID_C; ++c) {
            assert_string_equal(modes[c], c < 2 ? "TNN_I" : "TNN_II");
            assert_true(hrs[c] == (c % 2 ? 3.0 : 0.0));
            assert_true(lrs[c] == 2.0);
            assert_string_equal(commands[c], strchr(lines[2 + c], ' ') + 1);
        }
        free_strings(modes, GRID_C);
        free_strings(commands, GRID_C);
        free(hrs);
        free(lrs);
    }
    {
        double *done = doubles(s, "configs/done", 1, GRID_C, 0);
        double *rows = doubles(s, "configs/trials_written", 1, GRID_C, 0);
        for (int c = 0; c < GRID_C; ++c) {
            assert_true(done[c] == 1);
            assert_true(rows[c] == GRID_T);
        }
        free(done);
        free(rows);
    }
    {
        double *top1 = doubles(s, "trials/top1", 2, GRID_C, GRID_T);
        double *top5 = doubles(s, "trials/top5", 2, GRID_C, GRID_T);
        for (int k = 0; k < GRID_C * GRID_T; ++k) {
            assert_true(top1[k] >= 0 && top1[k] <= top5[k] && top5[k] <= 1);
            assert_true(top1[k] * GRID_K == round(top1[k] * GRID_K)); /* correct / images */
        }
        free(top1);
        free(top5);
    }
    g = H5Gopen2(s, "summary", H5P_DEFAULT);
    int n_stats;
    char **stats = attr_strings(g, "keys", &n_stats);
    H5Gclose(g);
    static const char *const documented[] = {
        "top1_mean", "top1_std",      "top1_ci95_lo",  "top1_ci95_hi", "top1_q01",     "top1_q05",
        "top1_q50",  "top1_min",      "top1_max",      "yield",        "yield_target", "top5_mean",
        "top5_std",  "top1_baseline", "top5_baseline", "seconds"};
    assert_int_equal(n_stats, (int)(sizeof documented / sizeof *documented));
    for (int i = 0; i < n_stats; ++i) {
        char path[64];
        assert_string_equal(stats[i], documented[i]);
        snprintf(path, sizeof path, "summary/%s", stats[i]);
        double *v = doubles(s, path, 1, GRID_C, 0);
        for (int c = 0; c < GRID_C; ++c)
            if (isnan(v[c]))
                fail_msg("%s[%d] is NaN in a finished sweep", path, c);
        free(v);
    }
    free_strings(stats, n_stats);
    CIM_ASSERT_I64_EQ(scalar(s, "trials_written"), GRID_C * GRID_T);
    H5Fclose(s);
    free(buf);
    cim_test_cli_free(&r);
}

/* ---- 4. interruptions and --resume --------------------------------------- */

/* Killed with SIGKILL inside configuration 0, resumed and killed again
 * inside configuration 1, resumed to the end: every dataset equals the
 * uninterrupted sweep's. */
static void test_sigkill_inside_configurations_then_resume(void **state)
{
    const fixture *f = *state;
    char out[PATH_BUF], partial[PATH_BUF];
    const char *const args[] = {"sweep", f->resume_exp, "--out", out, NULL};
    const char *const resume[] = {"sweep", f->resume_exp, "--out", out, "--resume", NULL};
    cim_cli_result r;
    pid_t pid;
    NEED_DEVICE(f);
    path_in(f, "killed.h5", out);
    cim_test_path(partial, "%s.partial", out);

    pid = cim_test_cli_spawn(f->dir, "bg", args, NULL);
    wait_inside_config(pid, partial, 1);
    cim_test_cli_kill9(pid);
    const int64_t first = cim_test_trials_written(partial, NULL);
    assert_true(first > 0 && first % RESUME_T != 0 && first % RESUME_T % RESUME_CHUNK == 0);
    assert_false(cim_test_exists(out));

    pid = cim_test_cli_spawn(f->dir, "bg", resume, NULL);
    const int64_t second = wait_inside_config(pid, partial, RESUME_T + 1);
    cim_test_cli_kill9(pid);
    assert_true(cim_test_trials_written(partial, NULL) >= second);
    {
        /* configuration 0 done, from its resumed chips; 1 part-way */
        hid_t p = H5Fopen(partial, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT);
        assert_true(p >= 0);
        double *done = doubles(p, "configs/done", 1, RESUME_C, 0);
        double *rows = doubles(p, "configs/trials_written", 1, RESUME_C, 0);
        assert_true(done[0] == 1 && done[1] == 0);
        assert_true(rows[0] == RESUME_T && rows[1] > 0 && rows[1] < RESUME_T);
        free(done);
        free(rows);
        H5Fclose(p);
    }

    cim_test_cli_run(f->dir, &r, resume);
    cim_test_cli_assert_success(&r);
    assert_non_null(strstr(r.out, "resuming "));
    cim_test_cli_free(&r);
    assert_sweeps_equal(f->full, out);
    assert_only(f->dir, "killed.h5", 1);
}

/* SIGINT stops at a chunk boundary (exit 130, one line naming --resume and
 * the partial file, which keeps the chips of the uninterrupted sweep); a
 * --resume of another experiment or trial count is refused naming what
 * differs, and a run without --resume or --force too, the partial
 * untouched; --force discards it and sweeps from the start. */
static void test_sigint_then_resume_refusals_and_force(void **state)
{
    const fixture *f = *state;
    char out[PATH_BUF], partial[PATH_BUF], other[PATH_BUF], *before;
    size_t n_before;
    cim_cli_result r;
    NEED_DEVICE(f);
    path_in(f, "stopped.h5", out);
    cim_test_path(partial, "%s.partial", out);
    const char *const args[] = {"sweep", f->resume_exp, "--out", out, NULL};
    pid_t pid = cim_test_cli_spawn(f->dir, "bg", args, NULL);
    wait_inside_config(pid, partial, 1);
    kill(pid, SIGINT);
    cim_test_cli_wait(f->dir, "bg", pid, &r);
    assert_int_equal(r.signal, 0);
    assert_one_line(&r, 130, "SIGINT", "--resume", partial, NULL);
    cim_test_cli_free(&r);
    assert_false(cim_test_exists(out));
    const int64_t kept = cim_test_trials_written(partial, NULL);
    assert_true(kept > 0 && kept < RESUME_C * RESUME_T);
    assert_true(kept % RESUME_T % RESUME_CHUNK == 0);
    {
        /* the kept chips are the uninterrupted sweep's */
        hid_t p = H5Fopen(partial, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT);
        hid_t full = open_file(f->full);
        assert_true(p >= 0);
        double *a = doubles(p, "trials/top1", 2, RESUME_C, RESUME_T);
        double *b = doubles(full, "trials/top1", 2, RESUME_C, RESUME_T);
        assert_memory_equal(a, b, sizeof *a * (size_t)kept);
        for (int64_t k = kept; k < RESUME_C * RESUME_T; ++k)
            assert_true(isnan(a[k]));
        free(a);
        free(b);
        H5Fclose(full);
        H5Fclose(p);
    }

    before = cim_test_read_file_n(partial, &n_before);
    /* another experiment: one swept value changed */
    experiment(f, "resume_other.json", RESUME_JSON("[3.0, 5.0]"), other);
    run(f, &r, "sweep", other, "--out", out, "--resume", NULL);
    assert_one_line(&r, 2, "grid_sha256", NULL);
    cim_test_cli_free(&r);
    /* another trial count */
    run(f, &r, "sweep", f->resume_exp, "--out", out, "--resume", "--trials", "30", NULL);
    assert_one_line(&r, 2, "trials", NULL);
    cim_test_cli_free(&r);
    /* neither --resume nor --force */
    run(f, &r, "sweep", f->resume_exp, "--out", out, NULL);
    cim_test_cli_assert_error_line(&r, 2, partial, "--resume", "--force", NULL);
    cim_test_cli_free(&r);
    cim_test_assert_unchanged(partial, before, n_before);
    free(before);

    run(f, &r, "sweep", f->resume_exp, "--out", out, "--force", NULL);
    cim_test_cli_assert_success(&r);
    assert_null(strstr(r.out, "resuming "));
    cim_test_cli_free(&r);
    assert_sweeps_equal(f->full, out);
    assert_only(f->dir, "stopped.h5", 1);
}

/* ---- 5. the grid checked before any work --------------------------------- */

#define SMALL_BASE                                                                                 \
    "\"nn_names\": [\"tnn_cnn\"], \"ifm\": [[28, 28, 1]], \"batch\": 10, \"num_runs\": 2, "        \
    "\"xbar_size\": [[256, 256]], \"hrs_lrs\": [[5.0, 30.0]]"
#define CALIB_RANGES "{\"004_conv2d\": [-100, 100], \"009_dense\": [-100, 100]}"

static void test_bad_grids_refused_before_any_work(void **state)
{
    const fixture *f = *state;
    static const struct {
        const char *json;
        const char *culprit[3];
    } cases[] = {
        {"{" SMALL_BASE ", \"m_mode\": [\"TNN_I\"]\n    \"hrs_noise\": [0]}", {"line 2", "column"}},
        {"{" SMALL_BASE ", \"m_mode\": [\"TNN_I\"], \"bogus\": 1}", {"\"bogus\""}},
        {"{" SMALL_BASE ", \"m_mode\": [\"TNN_I\"], \"hrs_noise\": []}", {"hrs_noise"}},
        {"{\"nn_names\": [\"tnn_cnn\"], \"ifm\": [[32, 32, 3]], \"batch\": 10, \"num_runs\": 2, "
         "\"xbar_size\": [[256, 256]], \"hrs_lrs\": [[5.0, 30.0]], \"m_mode\": [\"TNN_I\"]}",
         {"\"ifm\"", "[32, 32, 3]", "tnn_cnn"}},
        {"{" SMALL_BASE ", \"m_mode\": [\"TNN_I\", \"BNN_I\"]}",
         {"configuration 1", "BNN_I", "ternary"}},
        {"{" SMALL_BASE ", \"m_mode\": [\"TNN_I\", \"TNN_II\"], \"adc_type\": \"FP_ALPHA_ADC\", "
         "\"resolution\": [4], \"adc_calib_mode\": [\"CALIB\"], \"adc_calib_dict\": "
         "{\"tnn_cnn\": {\"[256, 256]\": {\"TNN_I\": " CALIB_RANGES "}}}}",
         {"configuration 1", "adc_calib_dict", "TNN_II"}},
        {"{" SMALL_BASE ", \"m_mode\": [\"TNN_I\"], \"nn_data_set\": \"cifar10\"}",
         {"nn_data_set", "cifar10", "fashion_mnist"}},
        {"{\"nn_names\": [\"tnn_cnn\"], \"ifm\": [[28, 28, 1]], \"batch\": 10001, \"num_runs\": 1, "
         "\"xbar_size\": [[256, 256]], \"hrs_lrs\": [[5.0, 30.0]], \"m_mode\": [\"TNN_I\"]}",
         {"batch", "10001", "10000"}},
        {"{" SMALL_BASE ", \"m_mode\": [\"TNN_I\"], \"adc_type\": \"FP_ALPHA_ADC\", "
         "\"resolution\": [4], \"adc_profile\": 10}",
         {"adc_profile", "configuration 0"}},
    };
    char folder[PATH_BUF], exp[PATH_BUF], out[PATH_BUF];
    cim_cli_result r;
    path_in(f, "bad", folder);
    assert_int_equal(mkdir(folder, 0755), 0);
    cim_test_path(exp, "%s/exp.json", folder);
    cim_test_path(out, "%s/S.h5", folder);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
        cim_test_write_text(exp, cases[i].json);
        run(f, &r, "sweep", exp, "--out", out, NULL);
        /* the list ends at the first NULL culprit */
        cim_test_cli_assert_error_line(&r, 2, exp, cases[i].culprit[0], cases[i].culprit[1],
                                       cases[i].culprit[2], NULL);
        cim_test_cli_free(&r);
        if (cim_test_count_entries(folder) != 1)
            fail_msg("case %zu left a file in %s", i, folder);
    }
    /* --csv needs --out */
    cim_test_write_text(exp, grid_json);
    {
        char csv[PATH_BUF];
        cim_test_path(csv, "%s/S.csv", folder);
        run(f, &r, "sweep", exp, "--csv", csv, NULL);
        cim_test_cli_assert_error_line(&r, 2, "--csv", "--out", NULL);
        cim_test_cli_free(&r);
    }
    assert_int_equal(cim_test_count_entries(folder), 1);
}

/* ---- 6. the CSV table ----------------------------------------------------- */

/* One CSV record (RFC 4180: quoted cells with "" inside) from *p, cells
 * malloc'd; advances *p past its line break. */
static int csv_record(const char **p, char **cells, int max)
{
    int n = 0;
    const char *s = *p;
    for (;;) {
        char *c = malloc(strlen(s) + 1);
        size_t len = 0;
        assert_non_null(c);
        assert_true(n < max);
        if (*s == '"') {
            for (++s;; ++s) {
                if (!*s)
                    fail_msg("unterminated quoted CSV cell");
                if (*s == '"' && s[1] == '"')
                    c[len++] = *s++;
                else if (*s == '"')
                    break;
                else
                    c[len++] = *s;
            }
            ++s;
        } else {
            while (*s && *s != ',' && *s != '\n') {
                if (*s == '"')
                    fail_msg("a quote inside an unquoted CSV cell");
                c[len++] = *s++;
            }
        }
        c[len] = '\0';
        cells[n++] = c;
        if (*s == ',') {
            ++s;
            continue;
        }
        if (*s != '\n')
            fail_msg("CSV line not ended by a line break");
        *p = s + 1;
        return n;
    }
}

static int column_of(char **header, int n, const char *name)
{
    for (int i = 0; i < n; ++i)
        if (strcmp(header[i], name) == 0)
            return i;
    fail_msg("the CSV has no column %s", name);
    return -1;
}

/* A number cell: the whole cell read by strtod. */
static double number(const char *cell)
{
    char *end;
    const double v = strtod(cell, &end);
    if (end == cell || *end != '\0')
        fail_msg("CSV cell \"%s\" is no plain number", cell);
    return v;
}

static void test_csv_and_export(void **state)
{
    const fixture *f = *state;
    char folder[PATH_BUF], exp[PATH_BUF], out[PATH_BUF], csv[PATH_BUF], exported[PATH_BUF];
    char *header[MAX_CELLS], *row[MAX_CELLS];
    cim_cli_result r;
    NEED_DEVICE(f);
    grid_folder(f, "csv", folder, exp, out);
    cim_test_path(csv, "%s/S.csv", folder);
    cim_test_path(exported, "%s/E.csv", folder);
    run(f, &r, "sweep", exp, "--out", out, "--csv", csv, NULL);
    cim_test_cli_assert_success(&r);
    cim_test_cli_free(&r);
    run(f, &r, "export", out, "--csv", exported, NULL);
    cim_test_cli_assert_success(&r);
    assert_string_equal(r.out, "");
    cim_test_cli_free(&r);
    size_t n_csv, n_exported;
    char *text = cim_test_read_file_n(csv, &n_csv),
         *text2 = cim_test_read_file_n(exported, &n_exported);
    assert_int_equal(n_csv, n_exported);
    assert_memory_equal(text, text2, n_csv);
    free(text2);

    const char *p = text;
    const int n_cols = csv_record(&p, header, MAX_CELLS);
    static const char *const required[] = {
        "config_idx", "xbar_size_M",   "xbar_size_N",   "hrs_lrs_HRS", "hrs_lrs_LRS", "top1",
        "top5",       "top1_baseline", "top5_baseline", "top1_mean",   "m_mode",      "done"};
    for (size_t k = 0; k < sizeof required / sizeof *required; ++k)
        column_of(header, n_cols, required[k]);
    for (int i = 0; i < n_cols; ++i)
        for (int j = i + 1; j < n_cols; ++j)
            if (strcmp(header[i], header[j]) == 0)
                fail_msg("CSV column %s appears twice", header[i]);
    for (int i = 0; i < n_cols; ++i)
        if (strcmp(header[i], "config_json") == 0)
            fail_msg("the CSV holds config_json");

    /* the percent columns and every statistic against the file */
    static const char *const percent[][2] = {{"top1", "top1_mean"},
                                             {"top5", "top5_mean"},
                                             {"top1_baseline", "top1_baseline"},
                                             {"top5_baseline", "top5_baseline"}};
    hid_t s = open_file(out), g = H5Gopen2(s, "summary", H5P_DEFAULT);
    int n_stats;
    char **stats = attr_strings(g, "keys", &n_stats);
    H5Gclose(g);
    double *values[32];
    assert_true(n_stats <= 32);
    for (int k = 0; k < n_stats; ++k) {
        char path[64];
        snprintf(path, sizeof path, "summary/%s", stats[k]);
        values[k] = doubles(s, path, 1, GRID_C, 0);
    }
    H5Fclose(s);
    for (int c = 0; c < GRID_C; ++c) {
        assert_int_equal(csv_record(&p, row, MAX_CELLS), n_cols);
        CIM_ASSERT_I64_EQ(number(row[column_of(header, n_cols, "config_idx")]), c);
        assert_true(number(row[column_of(header, n_cols, "xbar_size_M")]) == 256);
        assert_true(number(row[column_of(header, n_cols, "xbar_size_N")]) == 256);
        assert_true(number(row[column_of(header, n_cols, "hrs_lrs_HRS")]) == 5);
        assert_true(number(row[column_of(header, n_cols, "hrs_lrs_LRS")]) == 30);
        assert_string_equal(row[column_of(header, n_cols, "m_mode")], c < 2 ? "TNN_I" : "TNN_II");
        assert_string_equal(row[column_of(header, n_cols, "done")], "True");
        for (int i = 0; i < n_cols; ++i)
            if (strchr(row[i], '['))
                fail_msg("CSV cell %s of row %d holds a list: %s", header[i], c, row[i]);
        for (int k = 0; k < n_stats; ++k) {
            int col = -1, as_percent = 0;
            for (size_t q = 0; q < sizeof percent / sizeof *percent; ++q)
                as_percent |= strcmp(percent[q][0], stats[k]) == 0;
            for (int i = 0; i < n_cols; ++i)
                if (strcmp(header[i], stats[k]) == 0)
                    col = i;
            if (col < 0 && !as_percent)
                fail_msg("the CSV has no column for the statistic %s", stats[k]);
            if (col >= 0 && !as_percent && number(row[col]) != values[k][c])
                fail_msg("CSV %s of row %d: %s, the file %.17g", stats[k], c, row[col],
                         values[k][c]);
            for (size_t q = 0; q < sizeof percent / sizeof *percent; ++q)
                if (strcmp(percent[q][1], stats[k]) == 0) {
                    const char *cell = row[column_of(header, n_cols, percent[q][0])];
                    if (number(cell) != 100.0 * values[k][c])
                        fail_msg("CSV %s of row %d: %s, expected 100 x %.17g", percent[q][0], c,
                                 cell, values[k][c]);
                }
        }
        for (int i = 0; i < n_cols; ++i)
            free(row[i]);
    }
    assert_true(*p == '\0');
    for (int k = 0; k < n_stats; ++k)
        free(values[k]);
    free_strings(stats, n_stats);
    for (int i = 0; i < n_cols; ++i)
        free(header[i]);
    free(text);

    /* export of a run's results file, and --csv onto an input */
    {
        char run_file[PATH_BUF], *before;
        size_t n_before;
        cim_test_path(run_file, "%s/R.h5", folder);
        run(f, &r, "run", "--images", "2", "--trials", "1", "--out", run_file, NULL);
        cim_test_cli_assert_success(&r);
        cim_test_cli_free(&r);
        run(f, &r, "export", run_file, "--csv", exported, NULL);
        cim_test_cli_assert_error_line(&r, 2, run_file, "not a cimgpu sweep", NULL);
        cim_test_cli_free(&r);
        before = cim_test_read_file_n(exp, &n_before);
        run(f, &r, "sweep", exp, "--out", out, "--force", "--csv", exp, NULL);
        cim_test_cli_assert_error_line(&r, 2, "--csv", exp, NULL);
        cim_test_cli_free(&r);
        cim_test_assert_unchanged(exp, before, n_before);
        free(before);
        before = cim_test_read_file_n(out, &n_before);
        run(f, &r, "export", out, "--csv", out, NULL);
        cim_test_cli_assert_error_line(&r, 2, "--csv", out, NULL);
        cim_test_cli_free(&r);
        cim_test_assert_unchanged(out, before, n_before);
        free(before);
    }
}

/* ---- 7. top-5 in `cimgpu run` --------------------------------------------- */

/* A 4-bit ADC on TNN_II with noisy cells misses labels from the top 5 too:
 * stdout reports the mean; the file's top-5 counts are >= the top-1 counts
 * (more on some chip), the accuracies are the counts / images, and the
 * summary's mean is theirs (within 1e-12: a running mean's rounding). */
static void test_run_reports_top5(void **state)
{
    const fixture *f = *state;
    char out[PATH_BUF];
    cim_cli_result r;
    NEED_DEVICE(f);
    path_in(f, "top5.h5", out);
    run(f, &r, "run", "--images", "20", "--trials", "6", "--set", "m_mode=\"TNN_II\"", "--set",
        "adc_type=\"SYM_RANGE_ADC\"", "--set", "resolution=4", "--set", "HRS_NOISE=3", "--set",
        "LRS_NOISE=2", "--out", out, NULL);
    cim_test_cli_assert_success(&r);
    if (!strstr(r.out, "\n  mean top-5 accuracy "))
        fail_msg("no top-5 line in: %s", r.out);
    cim_test_cli_free(&r);
    hid_t file = open_file(out);
    int rank;
    hsize_t dims[8];
    int64_t *top1 = cim_test_read_dataset(file, "trials/correct", H5T_NATIVE_INT64, &rank, dims);
    int64_t *top5 =
        cim_test_read_dataset(file, "trials/top5_correct", H5T_NATIVE_INT64, &rank, dims);
    assert_int_equal(rank, 1);
    assert_int_equal(dims[0], 6);
    double *acc5 = doubles(file, "trials/top5_accuracy", 1, 6, 0);
    int more = 0;
    double sum = 0;
    for (int t = 0; t < 6; ++t) {
        assert_true(top5[t] >= top1[t] && top5[t] <= 20);
        more |= top5[t] > top1[t];
        assert_true(acc5[t] == (double)top5[t] / 20.0);
        sum += acc5[t];
    }
    assert_true(more);
    CIM_ASSERT_NEAR(scalar(file, "summary/top5_mean"), sum / 6, 1e-12);
    assert_true(scalar(file, "summary/top5_mean") < 1.0); /* not a trivial 1 */
    free(top1);
    free(top5);
    free(acc5);
    H5Fclose(file);
}

/* ---- 8. help ------------------------------------------------------------- */

static void test_help(void **state)
{
    const fixture *f = *state;
    static const char *const topics[][2] = {{"sweep", "Usage: cimgpu sweep EXP.json"},
                                            {"export", "Usage: cimgpu export S.h5 --csv S.csv"}};
    cim_cli_result help, direct;
    for (size_t i = 0; i < 2; ++i) {
        run(f, &help, "help", topics[i][0], NULL);
        run(f, &direct, topics[i][0], "--help", NULL);
        cim_test_cli_assert_success(&help);
        cim_test_cli_assert_success(&direct);
        assert_string_equal(help.err, "");
        assert_string_equal(direct.err, "");
        if (strncmp(direct.out, topics[i][1], strlen(topics[i][1])) != 0)
            fail_msg("cimgpu %s --help: %s", topics[i][0], direct.out);
        assert_string_equal(help.out, direct.out);
        cim_test_cli_free(&help);
        cim_test_cli_free(&direct);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_dry_run),
        cmocka_unit_test(test_bad_grids_refused_before_any_work),
        cmocka_unit_test(test_configurations_are_their_runs),
        cmocka_unit_test(test_results_file_layout),
        cmocka_unit_test(test_csv_and_export),
        cmocka_unit_test(test_run_reports_top5),
        cmocka_unit_test(test_sigkill_inside_configurations_then_resume),
        cmocka_unit_test(test_sigint_then_resume_refusals_and_force),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
