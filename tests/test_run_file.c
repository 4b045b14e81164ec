/* test_run_file.c -- `cimgpu run --out R.h5` as long runs meet the world:
 * interrupted by signals, killed with SIGKILL at any point, resumed, read
 * while they grow, competing for one --out, pointed at their own inputs, at
 * an existing result, at a folder that cannot be written or a disk that
 * fills up.
 *
 * The central property: a run stopped anywhere and completed with --resume
 * gives results datasets byte for byte equal to those of one uninterrupted
 * run (datasets_equal compares every dataset's type, shape and bytes; with
 * adc_profile, the /profile datasets too). The
 * runs are small (10 images, 16 trials per chunk) so that there are many
 * chunk boundaries to stop at; while a run is going, the test reads the
 * growing R.h5.partial as an SWMR reader, as an analysis tool would, and
 * uses its trials_written to pick the moment to stop it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <hdf5.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cim_ocl.h"
#include "cim_test_cli.h"
#include "cim_test_h5.h"
#include "cim_test_util.h"

#define TRIALS "2000"
#define TRIALS_N 2000
#define WAIT_S 200 /* for a run to reach a point */
#define PATH_BUF CIM_TEST_PATH_BUF

typedef struct fixture {
    char dir[CIM_TEST_PATH_MAX];
    char full[PATH_BUF]; /* the uninterrupted run's results */
    int have_device;
} fixture;

static const char *path_in(const fixture *f, const char *name, char *buf)
{
    return cim_test_path(buf, "%s/%s", f->dir, name);
}

/* The run every test repeats: tnn_cnn, 10 images, TRIALS chips, trace on.
 * args gets out (and extra, NULL-terminated) appended. */
static void run_args(const char **args, const char *out, const char *const *extra)
{
    static const char *const base[] = {"run",  "--images", "10",    "--trials",
                                       TRIALS, "--trace",  "--out", NULL};
    int n = 0;
    for (; base[n]; ++n)
        args[n] = base[n];
    args[n++] = out;
    for (int i = 0; extra && extra[i]; ++i)
        args[n++] = extra[i];
    args[n] = NULL;
}

static void run_out(const fixture *f, cim_cli_result *r, const char *out, const char *const *extra)
{
    const char *args[CIM_TEST_CLI_MAX_ARGS];
    run_args(args, out, extra);
    cim_test_cli_run(f->dir, r, args);
}

static pid_t spawn_out(const fixture *f, const char *out, const char *const *extra,
                       const char *const *env)
{
    const char *args[CIM_TEST_CLI_MAX_ARGS];
    run_args(args, out, extra);
    return cim_test_cli_spawn(f->dir, "bg", args, env);
}

/* Waits until the run pid has written at least `min` trials into partial
 * (min 0: until the partial exists and reads); fails if it ends first. */
static void wait_for_trials(pid_t pid, const char *partial, int64_t min)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int status;
        if (cim_test_trials_written(partial, "trials/accuracy") >= min)
            return;
        if (waitpid(pid, &status, WNOHANG) == pid)
            fail_msg("the run ended (status 0x%x) before %s held %lld trials", status, partial,
                     (long long)min);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > WAIT_S) {
            kill(pid, SIGKILL);
            fail_msg("%s did not reach %lld trials in %d s", partial, (long long)min, WAIT_S);
        }
        cim_test_sleep_ms(2);
    }
}

/* ---- comparing results files ------------------------------------------ */

static const char *const DATASETS[] = {
    "trials_written",
    "trials/accuracy",
    "trials/correct",
    "trials/top5_accuracy",
    "trials/top5_correct",
    "trials/layer_error_rate",
    "trace/predictions",
    "trace/labels",
    "summary/mean",
    "summary/std",
    "summary/ci95_lo",
    "summary/ci95_hi",
    "summary/min",
    "summary/max",
    "summary/q01",
    "summary/q05",
    "summary/q50",
    "summary/yield",
    "summary/yield_target",
    "summary/digital_accuracy",
    "summary/digital_correct",
    "summary/top5_mean",
    "summary/top5_std",
    "summary/top5_ci95_lo",
    "summary/top5_ci95_hi",
    "summary/digital_top5_accuracy",
    "summary/digital_top5_correct",
    "summary/trials",
    "summary/images",
};

/* The bytes of a dataset in its file type, with its shape. */
static unsigned char *read_dataset(hid_t file, const char *name, hsize_t *dims, int *rank,
                                   size_t *bytes)
{
    hid_t dset = H5Dopen2(file, name, H5P_DEFAULT), type, space;
    unsigned char *buf;
    if (dset < 0)
        fail_msg("no dataset %s", name);
    type = H5Dget_type(dset);
    space = H5Dget_space(dset);
    *rank = H5Sget_simple_extent_ndims(space);
    H5Sget_simple_extent_dims(space, dims, NULL);
    *bytes = (size_t)H5Sget_simple_extent_npoints(space) * H5Tget_size(type);
    buf = malloc(*bytes ? *bytes : 1);
    assert_non_null(buf);
    assert_true(H5Dread(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Sclose(space);
    H5Tclose(type);
    H5Dclose(dset);
    return buf;
}

/* The datasets names[0 .. n-1] of finished files a and b are equal: type,
 * shape and bytes. */
static void assert_these_equal(const char *a, const char *b, const char *const *names, size_t n)
{
    hid_t fa = H5Fopen(a, H5F_ACC_RDONLY, H5P_DEFAULT),
          fb = H5Fopen(b, H5F_ACC_RDONLY, H5P_DEFAULT);
    int32_t complete = 0;
    hid_t attr;
    if (fa < 0 || fb < 0)
        fail_msg("cannot open %s or %s", a, b);
    attr = H5Aopen(fb, "complete", H5P_DEFAULT);
    assert_true(attr >= 0 && H5Aread(attr, H5T_NATIVE_INT32, &complete) >= 0);
    H5Aclose(attr);
    assert_int_equal(complete, 1);
    for (size_t i = 0; i < n; ++i) {
        hsize_t da[4] = {0}, db[4] = {0};
        int ra, rb;
        size_t na, nb;
        unsigned char *x = read_dataset(fa, names[i], da, &ra, &na);
        unsigned char *y = read_dataset(fb, names[i], db, &rb, &nb);
        if (ra != rb || memcmp(da, db, sizeof da) != 0 || na != nb || memcmp(x, y, na) != 0)
            fail_msg("%s differs between %s and %s", names[i], a, b);
        free(x);
        free(y);
    }
    H5Fclose(fa);
    H5Fclose(fb);
}

static void assert_datasets_equal(const char *a, const char *b)
{
    assert_these_equal(a, b, DATASETS, sizeof DATASETS / sizeof *DATASETS);
}

/* No name in the scratch folder starts with `prefix` + ".partial". */
static void assert_no_partial_files(const fixture *f, const char *prefix)
{
    DIR *d = opendir(f->dir);
    struct dirent *e;
    char stem[256];
    cim_test_path(stem, "%s.partial", prefix);
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, stem, strlen(stem)) == 0)
            fail_msg("%s/%s left behind", f->dir, e->d_name);
    closedir(d);
}

/* ---- fixture ----------------------------------------------------------- */

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    cim_ocl ocl;
    cim_error err;
    cim_cli_result r;
    if (!f)
        return -1;
    if (cim_test_make_scratch_dir(f->dir, sizeof f->dir, "run_file") != 0)
        return -1;
    unsetenv("CIMGPU_DEVICE");
    unsetenv("CIMGPU_MODEL_DIR");
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    cim_error_clear(&err);
    if (cim_ocl_open(&ocl, NULL, &err) != 0 && err.code != CIM_ERR_NODEVICE) {
        /* no device at all: skip; a device whose kernels fail to build: fail */
        fprintf(stderr, "run_file: %s\n", err.msg);
        return -1;
    }
    if (err.code != CIM_ERR_NODEVICE) {
        f->have_device = 1;
        cim_ocl_close(&ocl);
        /* the uninterrupted run every other run is compared with */
        path_in(f, "full.h5", f->full);
        run_out(f, &r, f->full, NULL);
        if (r.exit_code != 0) {
            fprintf(stderr, "reference run failed: %s", r.err);
            return -1;
        }
        cim_test_cli_free(&r);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    cim_test_remove_tree(f->dir);
    free(f);
    return 0;
}

#define NEED_DEVICE(f) CIM_TEST_CLI_NEED_DEVICE((f)->have_device)

/* ---- signals ---------------------------------------------------------- */

/* SIGINT and SIGTERM stop at a chunk boundary: exit 130 / 143, one line
 * saying what is kept and how to resume; the partial keeps the finished
 * trials and refuses to be overwritten without --resume, or resumed by
 * another command; --resume completes it to the uninterrupted results. */
static void test_signals_keep_finished_trials(void **state)
{
    const fixture *f = *state;
    static const int sigs[] = {SIGINT, SIGTERM};
    NEED_DEVICE(f);
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; ++i) {
        char out[PATH_BUF], partial[PATH_BUF], *before;
        cim_cli_result r;
        size_t n_before;
        int64_t kept;
        pid_t pid;
        cim_test_path(out, "%s/sig%d.h5", f->dir, sigs[i]);
        cim_test_path(partial, "%s.partial", out);
        pid = spawn_out(f, out, NULL, NULL);
        wait_for_trials(pid, partial, 64);
        kill(pid, sigs[i]);
        cim_test_cli_wait(f->dir, "bg", pid, &r);
        assert_int_equal(r.signal, 0);
        assert_int_equal(r.exit_code, 128 + sigs[i]);
        assert_non_null(strstr(r.err, sigs[i] == SIGINT ? "SIGINT" : "SIGTERM"));
        assert_non_null(strstr(r.err, "--resume"));
        assert_non_null(strstr(r.err, partial));
        assert_ptr_equal(strchr(r.err, '\n'), r.err + strlen(r.err) - 1);
        cim_test_cli_free(&r);
        assert_false(cim_test_exists(out));
        kept = cim_test_trials_written(partial, "trials/accuracy");
        assert_true(kept >= 64 && kept < TRIALS_N);

        /* the same command again, without --resume: refused, file untouched */
        before = cim_test_read_file_n(partial, &n_before);
        run_out(f, &r, out, NULL);
        cim_test_cli_assert_error_line(&r, 2, partial, "--resume", "--force", NULL);
        cim_test_cli_free(&r);
        /* --resume of another command: refused naming what differs */
        {
            const char *const seed1[] = {"--resume", "--seed", "1", NULL};
            run_out(f, &r, out, seed1);
            cim_test_cli_assert_error_after_banner(&r, 2, "seed", NULL);
            cim_test_cli_free(&r);
        }
        cim_test_assert_unchanged(partial, before, n_before);
        free(before);

        {
            const char *const resume[] = {"--resume", NULL};
            run_out(f, &r, out, resume);
            cim_test_cli_assert_success(&r);
            cim_test_cli_free(&r);
        }
        assert_datasets_equal(f->full, out);
        assert_no_partial_files(f, strrchr(out, '/') + 1);
    }
}

/* A second signal while the first is being honoured ends the run at once,
 * still with 128 + the signal, and what was written can be resumed. */
static void test_second_signal_exits_at_once(void **state)
{
    const fixture *f = *state;
    char out[PATH_BUF], partial[PATH_BUF];
    const char *const resume[] = {"--resume", NULL};
    cim_cli_result r;
    pid_t pid;
    NEED_DEVICE(f);
    path_in(f, "twice.h5", out);
    cim_test_path(partial, "%s.partial", out);
    pid = spawn_out(f, out, NULL, NULL);
    wait_for_trials(pid, partial, 32);
    kill(pid, SIGINT);
    cim_test_sleep_ms(5); /* the first is being honoured (or done with) by now */
    kill(pid, SIGINT);
    cim_test_cli_wait(f->dir, "bg", pid, &r);
    assert_int_equal(r.signal, 0);
    assert_int_equal(r.exit_code, 130);
    cim_test_cli_free(&r);
    run_out(f, &r, out, resume);
    cim_test_cli_assert_success(&r);
    cim_test_cli_free(&r);
    assert_datasets_equal(f->full, out);
}

/* ADC input profiles (adc_profile): a run stopped by SIGINT and completed
 * with --resume has the /profile of an uninterrupted run, byte for byte --
 * the per-trial rows copied, the totals and statistics over all of them. */
static void test_resume_keeps_adc_profiles(void **state)
{
    const fixture *f = *state;
    static const char *const layers[] = {"004_conv2d", "009_dense"};
    static const char *const parts[] = {"trial_counts", "counts",   "labels", "samples",
                                        "underflow",    "overflow", "mean",   "var"};
    char cfg[PATH_BUF], full[PATH_BUF], out[PATH_BUF], partial[PATH_BUF];
    char names[16][64];
    const char *list[16 + 3];
    size_t n = 0;
    cim_cli_result r;
    NEED_DEVICE(f);
    path_in(f, "profile.json", cfg);
    path_in(f, "pfull.h5", full);
    path_in(f, "presumed.h5", out);
    cim_test_path(partial, "%s.partial", out);
    cim_test_write_text(cfg, "{\"adc_type\": \"SYM_RANGE_ADC\", \"resolution\": 4, "
                             "\"adc_profile\": true, \"adc_profile_bin_size\": 25}");
    const char *const full_args[] = {"run",      "--images", "4",     "--trials", "400",
                                     "--config", cfg,        "--out", full,       NULL};
    const char *const args[] = {"run",      "--images", "4",     "--trials", "400",
                                "--config", cfg,        "--out", out,        NULL};
    const char *const resume[] = {"run", "--images", "4",     "--trials", "400", "--config",
                                  cfg,   "--resume", "--out", out,        NULL};
    cim_test_cli_run(f->dir, &r, full_args);
    cim_test_cli_assert_success(&r);
    cim_test_cli_free(&r);
    pid_t pid = cim_test_cli_spawn(f->dir, "bg", args, NULL);
    wait_for_trials(pid, partial, 32);
    kill(pid, SIGINT);
    cim_test_cli_wait(f->dir, "bg", pid, &r);
    assert_int_equal(r.exit_code, 130);
    cim_test_cli_free(&r);
    const int64_t kept = cim_test_trials_written(partial, "trials/accuracy");
    assert_true(kept >= 32 && kept < 400);
    cim_test_cli_run(f->dir, &r, resume);
    cim_test_cli_assert_success(&r);
    assert_non_null(strstr(r.err, "ADC profile 009_dense: "));
    cim_test_cli_free(&r);
    for (size_t l = 0; l < 2; ++l)
        for (size_t p = 0; p < sizeof parts / sizeof *parts; ++p) {
            snprintf(names[n], sizeof names[n], "profile/%s/%s", layers[l], parts[p]);
            list[n] = names[n];
            ++n;
        }
    list[n++] = "trials/correct";
    list[n++] = "trials/layer_error_rate";
    list[n++] = "trials_written";
    assert_these_equal(full, out, list, n);
}

/* ---- SIGKILL anywhere, then --resume ------------------------------------ */

static void resume_and_compare(const fixture *f, const char *out)
{
    const char *const resume[] = {"--resume", NULL};
    cim_cli_result r;
    run_out(f, &r, out, resume);
    cim_test_cli_assert_success(&r);
    cim_test_cli_free(&r);
    assert_datasets_equal(f->full, out);
    assert_no_partial_files(f, strrchr(out, '/') + 1);
}

/* Killed before the results file exists (loading), as soon as the partial
 * appears (no trial or few), mid-run, and after the file was finished but
 * before its rename (simulated: the finished file renamed back): --resume
 * always ends with the uninterrupted run's datasets. */
static void test_sigkill_anywhere_then_resume(void **state)
{
    const fixture *f = *state;
    char out[PATH_BUF], partial[PATH_BUF];
    cim_cli_result r;
    pid_t pid;
    NEED_DEVICE(f);

    /* while loading: nothing is left, --resume starts from trial 0 */
    path_in(f, "k_early.h5", out);
    cim_test_path(partial, "%s.partial", out);
    pid = spawn_out(f, out, NULL, NULL);
    cim_test_sleep_ms(20);
    cim_test_cli_kill9(pid);
    assert_false(cim_test_exists(partial));
    resume_and_compare(f, out);

    /* the moment the partial is there */
    path_in(f, "k_start.h5", out);
    cim_test_path(partial, "%s.partial", out);
    pid = spawn_out(f, out, NULL, NULL);
    wait_for_trials(pid, partial, 0);
    cim_test_cli_kill9(pid);
    assert_true(cim_test_trials_written(partial, "trials/accuracy") >= 0);
    resume_and_compare(f, out);

    /* mid-run, twice over: killed, resumed and killed again */
    path_in(f, "k_mid.h5", out);
    cim_test_path(partial, "%s.partial", out);
    pid = spawn_out(f, out, NULL, NULL);
    wait_for_trials(pid, partial, 200);
    cim_test_cli_kill9(pid);
    {
        const char *const resume[] = {"--resume", NULL};
        const int64_t first = cim_test_trials_written(partial, "trials/accuracy");
        assert_true(first >= 200 && first < TRIALS_N);
        pid = spawn_out(f, out, resume, NULL);
        wait_for_trials(pid, partial, first + 200);
        cim_test_cli_kill9(pid);
    }
    resume_and_compare(f, out);

    /* finished, closed and synced, killed before the rename */
    path_in(f, "k_rename.h5", out);
    cim_test_path(partial, "%s.partial", out);
    run_out(f, &r, out, NULL);
    cim_test_cli_assert_success(&r);
    cim_test_cli_free(&r);
    assert_int_equal(rename(out, partial), 0);
    resume_and_compare(f, out);
}

/* ---- one --out, two runs ---------------------------------------------- */

/* While a run writes R.h5.partial, a second run with the same --out is
 * refused at once -- with --force, with --resume, and with HDF5's file
 * locking turned off -- and the first run's results are its own. */
static void test_a_live_run_owns_its_out(void **state)
{
    const fixture *f = *state;
    char out[PATH_BUF], partial[PATH_BUF];
    static const char *const no_lock[] = {"HDF5_USE_FILE_LOCKING=FALSE", NULL};
    const char *const other_seed[] = {"--seed", "5", NULL};
    const char *const force[] = {"--force", NULL};
    const char *const resume[] = {"--resume", NULL};
    const char *const *variants[] = {other_seed, force, resume};
    cim_cli_result r, second;
    pid_t pid;
    NEED_DEVICE(f);
    path_in(f, "shared.h5", out);
    cim_test_path(partial, "%s.partial", out);
    pid = spawn_out(f, out, NULL, NULL);
    wait_for_trials(pid, partial, 0);
    for (size_t v = 0; v < sizeof variants / sizeof *variants; ++v)
        for (int env = 0; env < 2; ++env) {
            const char *args[CIM_TEST_CLI_MAX_ARGS];
            run_args(args, out, variants[v]);
            cim_test_cli_wait(f->dir, "second",
                              cim_test_cli_spawn(f->dir, "second", args, env ? no_lock : NULL),
                              &second);
            cim_test_cli_assert_error_line(&second, 2, "another cimgpu run is writing", NULL);
            cim_test_cli_free(&second);
            assert_true(cim_test_exists(partial));
        }
    cim_test_cli_wait(f->dir, "bg", pid, &r);
    cim_test_cli_assert_success(&r);
    cim_test_cli_free(&r);
    assert_datasets_equal(f->full, out);
    assert_no_partial_files(f, "shared.h5");
}

/* ---- where --out may point -------------------------------------------- */

/* --out may not be an input (the model, a dataset file, the config, under
 * any spelling): refused before any work, the input untouched. */
static void test_out_is_never_an_input(void **state)
{
    const fixture *f = *state;
    char model[PATH_BUF], spelled[PATH_BUF], cfg[PATH_BUF], *orig;
    char images[PATH_BUF];
    size_t n_orig;
    cim_cli_result r;
    path_in(f, "model.h5", model);
    orig = cim_test_read_file_n(CIM_SOURCE_DIR "/data/models/tnn_cnn.h5", &n_orig);
    cim_test_write_file(model, orig, n_orig);
    cim_test_path(spelled, "%s/./model.h5", f->dir);
    {
        const char *const args[] = {"run", "--model", model, "--out", spelled, NULL};
        cim_test_cli_run(f->dir, &r, args);
        cim_test_cli_assert_error_line(&r, 2, "--model", NULL);
        cim_test_cli_free(&r);
    }
    cim_test_assert_unchanged(model, orig, n_orig);
    free(orig);
    path_in(f, "cfg.json", cfg);
    {
        cim_test_write_text(cfg, "{\"m_mode\": \"TNN_I\"}\n");
        const char *const args[] = {"run", "--config", cfg, "--out", cfg, NULL};
        cim_test_cli_run(f->dir, &r, args);
        cim_test_cli_assert_error_line(&r, 2, "--config", NULL);
        cim_test_cli_free(&r);
    }
    /* the dataset's images, through a --data folder of our own */
    {
        char data[PATH_BUF];
        path_in(f, "data", data);
        mkdir(data, 0755);
        cim_test_path(images, "%s/t10k-images-idx3-ubyte.gz", data);
        remove(images);
        assert_int_equal(
            symlink("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", images), 0);
        const char *const args[] = {"run", "--data", data, "--out", images, NULL};
        cim_test_cli_run(f->dir, &r, args);
        cim_test_cli_assert_error_line(&r, 2, "--data", NULL);
        cim_test_cli_free(&r);
    }
}

/* An existing result is replaced only with --force; --resume, --force or
 * --trace without --out are usage errors. */
static void test_existing_result_needs_force(void **state)
{
    const fixture *f = *state;
    char out[PATH_BUF], *before;
    size_t n_before;
    cim_cli_result r;
    const char *const seed3[] = {"--seed", "3", NULL};
    const char *const seed3_force[] = {"--seed", "3", "--force", NULL};
    NEED_DEVICE(f);
    path_in(f, "existing.h5", out);
    run_out(f, &r, out, NULL);
    cim_test_cli_assert_success(&r);
    cim_test_cli_free(&r);
    before = cim_test_read_file_n(out, &n_before);
    run_out(f, &r, out, seed3);
    cim_test_cli_assert_error_line(&r, 2, out, "--force", NULL);
    cim_test_cli_free(&r);
    cim_test_assert_unchanged(out, before, n_before);
    free(before);
    run_out(f, &r, out, seed3_force);
    cim_test_cli_assert_success(&r);
    cim_test_cli_free(&r);
    {
        hid_t file = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
        hid_t attr = H5Aopen(file, "seed", H5P_DEFAULT);
        uint64_t seed = 0;
        assert_true(H5Aread(attr, H5T_NATIVE_UINT64, &seed) >= 0);
        assert_int_equal(seed, 3);
        H5Aclose(attr);
        H5Fclose(file);
    }
    {
        static const char *const alone[][3] = {{"run", "--resume", NULL}, {"run", "--force", NULL}};
        for (size_t i = 0; i < 2; ++i) {
            cim_test_cli_run(f->dir, &r, alone[i]);
            cim_test_cli_assert_error_line(&r, 2, alone[i][1], "--out", NULL);
            cim_test_cli_free(&r);
        }
    }
}

/* An --out that cannot be written fails before any work: nothing on
 * stdout (the banner comes after the inputs and the device), one line. */
static void test_unwritable_out_fails_first(void **state)
{
    const fixture *f = *state;
    char out[PATH_BUF];
    cim_cli_result r;
    path_in(f, "no/such/folder/R.h5", out);
    {
        const char *const args[] = {"run", "--out", out, NULL};
        cim_test_cli_run(f->dir, &r, args);
        cim_test_cli_assert_error_line(&r, 1, out, NULL);
        cim_test_cli_free(&r);
    }
    {
        const char *const args[] = {"run", "--out", f->dir, NULL};
        cim_test_cli_run(f->dir, &r, args);
        cim_test_cli_assert_error_line(&r, 2, "directory", NULL);
        cim_test_cli_free(&r);
    }
    {
        const char *const args[] = {"mvm",
                                    "--config",
                                    CIM_TEST_DATA_DIR "/cli/bnn3.json",
                                    "--weights",
                                    CIM_TEST_DATA_DIR "/cli/w_bnn.csv",
                                    "--inputs",
                                    CIM_TEST_DATA_DIR "/cli/x_bnn.csv",
                                    "--out",
                                    out,
                                    NULL};
        cim_test_cli_run(f->dir, &r, args);
        cim_test_cli_assert_error_line(&r, 1, out, NULL);
        cim_test_cli_free(&r);
    }
}

/* A full disk (a small tmpfs, where this test may mount one): exit 1 with
 * one line, no R.h5, no crash; what it kept resumes to the full results. */
static void test_full_disk(void **state)
{
    const fixture *f = *state;
    char mnt[PATH_BUF], out[PATH_BUF], partial[PATH_BUF];
    cim_cli_result r;
    NEED_DEVICE(f);
    path_in(f, "full_disk", mnt);
    mkdir(mnt, 0755);
    if (geteuid() != 0 || mount("tmpfs", mnt, "tmpfs", 0, "size=96k") != 0)
        skip(); /* needs the right to mount a small file system */
    cim_test_path(out, "%s/R.h5", mnt);
    cim_test_path(partial, "%s.partial", out);
    run_out(f, &r, out, NULL);
    cim_test_cli_assert_error_after_banner(&r, 1, "No space left on device", NULL);
    cim_test_cli_free(&r);
    assert_false(cim_test_exists(out));
    if (cim_test_exists(partial)) {
        /* room again (here: elsewhere): the kept trials complete the run */
        char moved[PATH_BUF], moved_partial[PATH_BUF], *bytes;
        size_t n;
        path_in(f, "disk.h5", moved);
        cim_test_path(moved_partial, "%s.partial", moved);
        bytes = cim_test_read_file_n(partial, &n);
        cim_test_write_file(moved_partial, bytes, n);
        free(bytes);
        resume_and_compare(f, moved);
    }
    umount2(mnt, MNT_DETACH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_is_never_an_input),
        cmocka_unit_test(test_unwritable_out_fails_first),
        cmocka_unit_test(test_existing_result_needs_force),
        cmocka_unit_test(test_signals_keep_finished_trials),
        cmocka_unit_test(test_second_signal_exits_at_once),
        cmocka_unit_test(test_resume_keeps_adc_profiles),
        cmocka_unit_test(test_sigkill_anywhere_then_resume),
        cmocka_unit_test(test_a_live_run_owns_its_out),
        cmocka_unit_test(test_full_disk),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
