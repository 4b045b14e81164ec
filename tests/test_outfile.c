/* test_outfile.c -- the file-system side of a results file (cim_outfile.h),
 * in a scratch folder per test:
 * the claim refuses an --out that is one of the inputs (however spelt: the
 * same path, "./x", a hard link) or whose partial name is, a directory, an
 * existing R.h5 without force (naming --force), an existing R.h5.partial
 * without resume or force (naming --resume), and a partial another live
 * process holds (whatever the flags; the lock goes when that process dies);
 * a missing or read-only folder is CIM_ERR_IO; a failed claim leaves nothing
 * on disk and nothing to release. Then the names: make creates a temporary
 * R.h5.partial.XXXXXX, publish_partial turns it into R.h5.partial (refusing
 * one that appeared meanwhile, renaming over the old one when resuming or
 * forcing, refusing an old one replaced meanwhile), publish renames it onto
 * R.h5 (refusing an R.h5 that appeared meanwhile without force, keeping the
 * partial; replacing it with force); release removes only what is still
 * this run's, keeps R.h5.partial with keep 1, and is a no-op on a zeroed or
 * released struct.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cim_test_util.h"
#include "cim_outfile.h"

#define NAME_MAX_HERE (CIM_TEST_SCRATCH_DIR_MAX + 64)

typedef struct fixture {
    char dir[CIM_TEST_SCRATCH_DIR_MAX];
} fixture;

static int setup(void **state)
{
    return cim_test_scratch_setup(state, sizeof(fixture), "outfile");
}

static int teardown(void **state)
{
    fixture *fx = *state;
    char ro[NAME_MAX_HERE];
    snprintf(ro, sizeof ro, "%s/ro", fx->dir);
    chmod(ro, 0755); /* the read-only folder of one test */
    return cim_test_scratch_teardown(state);
}

/* dir/name into buf (NAME_MAX_HERE bytes). */
static char *in_dir(const fixture *fx, const char *name, char *buf)
{
    assert_true(snprintf(buf, NAME_MAX_HERE, "%s/%s", fx->dir, name) < NAME_MAX_HERE);
    return buf;
}

/* Someone else's file put under `name` (renamed over whatever was there). */
static void replace_by_hand(const fixture *fx, const char *name, const char *text)
{
    char tmp[NAME_MAX_HERE];
    cim_test_write_text(in_dir(fx, "by-hand.tmp", tmp), text);
    assert_int_equal(rename(tmp, name), 0);
}

/* Writes text into the new file through its locked descriptor. */
static void write_new(const cim_outfile *o, const char *text)
{
    const size_t n = strlen(text);
    assert_int_equal(write(o->new_fd, text, n), (ssize_t)n);
}

/* Does `name` name the new file (the inode of o->new_fd)? */
static int names_new(const cim_outfile *o, const char *name)
{
    struct stat a, b;
    return stat(name, &a) == 0 && fstat(o->new_fd, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

static int claim(const char *path, int force, int resume, cim_outfile *o, cim_error *err)
{
    const cim_outfile_spec spec = {.path = path, .force = force, .resume = resume};
    cim_error_clear(err);
    return cim_outfile_claim(&spec, o, err);
}

static void claim_ok(const char *path, int force, int resume, cim_outfile *o)
{
    cim_error err = {0, ""};
    if (claim(path, force, resume, o, &err) != 0)
        fail_msg("claim %s: %s", path, err.msg);
}

/* A refused claim: CIM_ERR_USAGE with `needle` in the message, o empty. */
static void assert_refused(const cim_outfile_spec *spec, const char *needle)
{
    cim_outfile o;
    cim_error err = {0, ""};
    memset(&o, 0x5a, sizeof o);
    assert_int_equal(cim_outfile_claim(spec, &o, &err), CIM_ERR_USAGE);
    if (!strstr(err.msg, needle))
        fail_msg("claim %s: \"%s\" lacks \"%s\"", spec->path, err.msg, needle);
    assert_null(o.path);
    assert_null(o.partial);
    cim_outfile_release(&o, 0);
}

/* ---- the claim ------------------------------------------------------- */

/* --out may be no input, whichever name reaches it, nor have an input as
 * its partial name; force does not change that; missing and NULL inputs are
 * skipped. */
static void test_claim_refuses_an_input(void **state)
{
    fixture *fx = *state;
    char model[NAME_MAX_HERE], dotted[NAME_MAX_HERE], alias[NAME_MAX_HERE],
        partial_input[NAME_MAX_HERE], out[NAME_MAX_HERE], other[NAME_MAX_HERE],
        missing[NAME_MAX_HERE], cwd[CIM_TEST_PATH_MAX];
    cim_outfile o;
    cim_test_write_text(in_dir(fx, "model.h5", model), "model\n");
    in_dir(fx, "./model.h5", dotted);
    assert_int_equal(link(model, in_dir(fx, "alias.h5", alias)), 0);
    cim_test_write_text(in_dir(fx, "R.h5.partial", partial_input), "an input\n");
    in_dir(fx, "R.h5", out);
    in_dir(fx, "other.h5", other);
    in_dir(fx, "missing.idx", missing);
    {
        const cim_outfile_input inputs[] = {
            {"--config", NULL}, {"--model", model}, {"--data", missing}, {"--data", partial_input}};
        cim_outfile_spec spec = {.inputs = inputs, .n_inputs = 4};
        const char *const refused[] = {model, dotted, alias, out};
        for (int force = 0; force < 2; ++force)
            for (size_t i = 0; i < sizeof refused / sizeof *refused; ++i) {
                spec.path = refused[i];
                spec.force = force;
                spec.resume = force;
                assert_refused(&spec, "that is the run's input");
                assert_refused(&spec, i < 3 ? "--model" : "--data");
            }
        spec.path = other;
        spec.force = spec.resume = 0;
        assert_int_equal(cim_outfile_claim(&spec, &o, NULL), 0);
        cim_outfile_release(&o, 0);

        /* relative spellings, from inside the folder */
        assert_non_null(getcwd(cwd, sizeof cwd));
        assert_int_equal(chdir(fx->dir), 0);
        {
            const cim_outfile_input relative[] = {{"--model", "model.h5"}};
            const cim_outfile_spec here = {.path = "./model.h5", .inputs = relative, .n_inputs = 1};
            const cim_outfile_spec there = {.path = model, .inputs = relative, .n_inputs = 1};
            assert_refused(&here, "--model model.h5");
            assert_refused(&there, "--model model.h5");
        }
        assert_int_equal(chdir(cwd), 0);
    }
    cim_test_assert_file_text(model, "model\n");
    cim_test_assert_file_text(partial_input, "an input\n");
    assert_int_equal(cim_test_count_entries(fx->dir), 3);
}

static void test_claim_refuses_a_directory(void **state)
{
    fixture *fx = *state;
    char path[NAME_MAX_HERE];
    assert_int_equal(mkdir(in_dir(fx, "d.h5", path), 0755), 0);
    for (int force = 0; force < 2; ++force) {
        const cim_outfile_spec spec = {.path = path, .force = force};
        assert_refused(&spec, "is a directory");
    }
    assert_int_equal(cim_test_count_entries(fx->dir), 1);
    assert_int_equal(cim_test_count_entries(path), 0);
}

static void test_claim_refuses_an_empty_path(void **state)
{
    const cim_outfile_spec none = {.path = NULL}, empty = {.path = ""};
    (void)state;
    assert_refused(&none, "no path given");
    assert_refused(&empty, "no path given");
}

/* An existing R.h5: refused without force (naming --force), claimed with
 * it, and untouched by the claim and its release either way. */
static void test_claim_existing_file_needs_force(void **state)
{
    fixture *fx = *state;
    char path[NAME_MAX_HERE];
    cim_outfile o;
    cim_test_write_text(in_dir(fx, "R.h5", path), "old results\n");
    {
        const cim_outfile_spec spec = {.path = path};
        assert_refused(&spec, "--force");
    }
    {
        const cim_outfile_spec spec = {.path = path, .resume = 1};
        assert_refused(&spec, "--force");
    }
    cim_test_assert_file_text(path, "old results\n");
    claim_ok(path, 1, 0, &o);
    assert_int_equal(cim_test_count_entries(fx->dir), 1);
    assert_null(cim_outfile_old_partial(&o));
    cim_outfile_release(&o, 0);
    cim_test_assert_file_text(path, "old results\n");
    assert_int_equal(cim_test_count_entries(fx->dir), 1);
}

/* An existing R.h5.partial no one holds: refused without resume or force
 * (naming --resume), claimed with either; the claim and its release never
 * remove it. */
static void test_claim_existing_partial_needs_resume_or_force(void **state)
{
    fixture *fx = *state;
    char path[NAME_MAX_HERE], partial[NAME_MAX_HERE];
    cim_outfile o;
    in_dir(fx, "R.h5", path);
    cim_test_write_text(in_dir(fx, "R.h5.partial", partial), "interrupted\n");
    {
        const cim_outfile_spec spec = {.path = path};
        assert_refused(&spec, "--resume");
        assert_refused(&spec, partial);
    }
    claim_ok(path, 0, 1, &o);
    assert_non_null(cim_outfile_old_partial(&o));
    assert_string_equal(cim_outfile_old_partial(&o), partial);
    cim_outfile_release(&o, 0);
    cim_test_assert_file_text(partial, "interrupted\n");

    claim_ok(path, 1, 0, &o);
    assert_null(cim_outfile_old_partial(&o));
    cim_outfile_release(&o, 0);
    cim_test_assert_file_text(partial, "interrupted\n");

    claim_ok(path, 1, 1, &o);
    assert_string_equal(cim_outfile_old_partial(&o), partial);
    cim_outfile_release(&o, 0);
    cim_test_assert_file_text(partial, "interrupted\n");
    assert_int_equal(cim_test_count_entries(fx->dir), 1);
}

/* A partial another live process holds (a child that claimed it with
 * resume) is refused whatever the flags; once that process is dead (the
 * kernel drops its lock) it can be resumed. */
static void test_claim_refuses_a_locked_partial(void **state)
{
    fixture *fx = *state;
    char path[NAME_MAX_HERE], partial[NAME_MAX_HERE], ready = 0;
    int to_parent[2], to_child[2], status = 0;
    pid_t child;
    cim_outfile o;
    in_dir(fx, "R.h5", path);
    cim_test_write_text(in_dir(fx, "R.h5.partial", partial), "being written\n");
    assert_int_equal(pipe(to_parent), 0);
    assert_int_equal(pipe(to_child), 0);
    fflush(NULL);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        const cim_outfile_spec spec = {.path = path, .resume = 1};
        cim_outfile held;
        char go;
        char ok;
        close(to_parent[0]);
        close(to_child[1]); /* a parent that fails or dies lets the read below end */
        ok = cim_outfile_claim(&spec, &held, NULL) == 0 && cim_outfile_old_partial(&held) != NULL
                 ? '1'
                 : '0';
        if (write(to_parent[1], &ok, 1) != 1 || read(to_child[0], &go, 1) != 1)
            _exit(2);
        _exit(0); /* holding the lock: no release */
    }
    close(to_parent[1]);
    close(to_child[0]);
    assert_int_equal(read(to_parent[0], &ready, 1), 1);
    assert_int_equal(ready, '1');
    for (int flags = 0; flags < 4; ++flags) {
        const cim_outfile_spec spec = {.path = path, .force = flags & 1, .resume = flags >> 1};
        assert_refused(&spec, "another cimgpu run is writing");
    }
    cim_test_assert_file_text(partial, "being written\n");
    assert_int_equal(write(to_child[1], "g", 1), 1);
    close(to_child[1]);
    close(to_parent[0]);
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    claim_ok(path, 0, 1, &o);
    assert_string_equal(cim_outfile_old_partial(&o), partial);
    cim_outfile_release(&o, 0);
    cim_test_assert_file_text(partial, "being written\n");
}

static void test_claim_missing_folder_is_io_error(void **state)
{
    fixture *fx = *state;
    char path[NAME_MAX_HERE];
    cim_outfile o;
    cim_error err = {0, ""};
    in_dir(fx, "missing/R.h5", path);
    for (int force = 0; force < 2; ++force) {
        memset(&o, 0x5a, sizeof o);
        assert_int_equal(claim(path, force, force, &o, &err), CIM_ERR_IO);
        assert_non_null(strstr(err.msg, path));
        assert_non_null(strstr(err.msg, "No such file or directory"));
        assert_null(o.path);
        cim_outfile_release(&o, 0);
    }
    assert_int_equal(cim_test_count_entries(fx->dir), 0);
}

/* Root writes into any folder: skipped as root. */
static void test_claim_read_only_folder_is_io_error(void **state)
{
    fixture *fx = *state;
    char ro[NAME_MAX_HERE], path[NAME_MAX_HERE];
    cim_outfile o;
    cim_error err = {0, ""};
    if (geteuid() == 0)
        skip();
    assert_int_equal(mkdir(in_dir(fx, "ro", ro), 0555), 0);
    in_dir(fx, "ro/R.h5", path);
    assert_int_equal(claim(path, 1, 0, &o, &err), CIM_ERR_IO);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "Permission denied"));
    assert_null(o.path);
    assert_int_equal(chmod(ro, 0755), 0);
    assert_int_equal(cim_test_count_entries(ro), 0);
}

/* ---- make, publish ---------------------------------------------------- */

/* The claim leaves no file; make makes the temporary name (once);
 * publish_partial renames it R.h5.partial; publish renames that onto R.h5,
 * which release leaves. publish before publish_partial renames nothing. */
static void test_make_and_publish(void **state)
{
    fixture *fx = *state;
    char path[NAME_MAX_HERE], partial[NAME_MAX_HERE], temporary[NAME_MAX_HERE];
    cim_outfile o;
    cim_error err = {0, ""};
    in_dir(fx, "R.h5", path);
    in_dir(fx, "R.h5.partial", partial);
    claim_ok(path, 0, 0, &o);
    assert_int_equal(cim_test_count_entries(fx->dir), 0);
    assert_int_equal(cim_outfile_make(&o, &err), 0);
    snprintf(temporary, sizeof temporary, "%s", cim_outfile_new_name(&o));
    assert_true(strlen(temporary) == strlen(partial) + 7);
    assert_memory_equal(temporary, partial, strlen(partial));
    assert_int_equal(temporary[strlen(partial)], '.');
    assert_true(names_new(&o, temporary));
    assert_false(cim_test_exists(partial));
    assert_int_equal(cim_test_count_entries(fx->dir), 1);
    write_new(&o, "ours\n");
    assert_int_equal(cim_outfile_make(&o, &err), CIM_ERR_USAGE);
    cim_error_clear(&err);
    assert_int_equal(cim_outfile_publish(&o, &err), CIM_ERR_IO);
    assert_false(cim_test_exists(path));
    cim_error_clear(&err);

    assert_int_equal(cim_outfile_publish_partial(&o, &err), 0);
    assert_true(names_new(&o, partial));
    assert_false(cim_test_exists(temporary));
    assert_int_equal(cim_test_count_entries(fx->dir), 1);
    cim_test_assert_file_text(partial, "ours\n");

    assert_int_equal(cim_outfile_publish(&o, &err), 0);
    assert_true(names_new(&o, path));
    assert_false(cim_test_exists(partial));
    cim_outfile_release(&o, 0);
    cim_test_assert_file_text(path, "ours\n");
    assert_int_equal(cim_test_count_entries(fx->dir), 1);
}

/* Another R.h5.partial made between claim and publish_partial wins:
 * CIM_ERR_USAGE, that file untouched, ours still under its temporary name
 * until release removes it. */
static void test_publish_partial_refuses_one_that_appeared(void **state)
{
    fixture *fx = *state;
    char path[NAME_MAX_HERE], partial[NAME_MAX_HERE], temporary[NAME_MAX_HERE];
    cim_outfile o;
    cim_error err = {0, ""};
    in_dir(fx, "R.h5", path);
    in_dir(fx, "R.h5.partial", partial);
    claim_ok(path, 0, 0, &o);
    assert_int_equal(cim_outfile_make(&o, &err), 0);
    snprintf(temporary, sizeof temporary, "%s", cim_outfile_new_name(&o));
    cim_test_write_text(partial, "theirs\n");
    assert_int_equal(cim_outfile_publish_partial(&o, &err), CIM_ERR_USAGE);
    assert_non_null(strstr(err.msg, "meanwhile"));
    assert_non_null(strstr(err.msg, partial));
    cim_test_assert_file_text(partial, "theirs\n");
    assert_true(names_new(&o, temporary));
    cim_outfile_release(&o, 0);
    assert_false(cim_test_exists(temporary));
    cim_test_assert_file_text(partial, "theirs\n");
    assert_int_equal(cim_test_count_entries(fx->dir), 1);
}

/* Without force, an R.h5 that appeared after the claim is not replaced:
 * CIM_ERR_USAGE, both files as they were; with force it is replaced. */
static void test_publish_and_an_R_h5_that_appeared(void **state)
{
    fixture *fx = *state;
    char path[NAME_MAX_HERE], partial[NAME_MAX_HERE];
    cim_outfile o;
    cim_error err = {0, ""};
    in_dir(fx, "R.h5", path);
    in_dir(fx, "R.h5.partial", partial);
    claim_ok(path, 0, 0, &o);
    assert_int_equal(cim_outfile_make(&o, &err), 0);
    write_new(&o, "ours\n");
    assert_int_equal(cim_outfile_publish_partial(&o, &err), 0);
    cim_test_write_text(path, "theirs\n");
    assert_int_equal(cim_outfile_publish(&o, &err), CIM_ERR_USAGE);
    assert_non_null(strstr(err.msg, partial));
    assert_non_null(strstr(err.msg, "--force"));
    cim_test_assert_file_text(path, "theirs\n");
    assert_true(names_new(&o, partial));
    cim_outfile_release(&o, 1);
    cim_test_assert_file_text(partial, "ours\n");
    cim_test_assert_file_text(path, "theirs\n");
    assert_int_equal(unlink(partial), 0);
    assert_int_equal(unlink(path), 0);

    claim_ok(path, 1, 0, &o);
    assert_int_equal(cim_outfile_make(&o, &err), 0);
    write_new(&o, "forced\n");
    assert_int_equal(cim_outfile_publish_partial(&o, &err), 0);
    cim_test_write_text(path, "theirs\n");
    assert_int_equal(cim_outfile_publish(&o, &err), 0);
    assert_false(cim_test_exists(partial));
    cim_outfile_release(&o, 0);
    cim_test_assert_file_text(path, "forced\n");
    assert_int_equal(cim_test_count_entries(fx->dir), 1);
}

/* A partial someone else put in place of ours is neither published nor
 * removed. */
static void test_publish_refuses_a_replaced_partial(void **state)
{
    fixture *fx = *state;
    char path[NAME_MAX_HERE], partial[NAME_MAX_HERE];
    cim_outfile o;
    cim_error err = {0, ""};
    in_dir(fx, "R.h5", path);
    in_dir(fx, "R.h5.partial", partial);
    claim_ok(path, 1, 0, &o);
    assert_int_equal(cim_outfile_make(&o, &err), 0);
    assert_int_equal(cim_outfile_publish_partial(&o, &err), 0);
    replace_by_hand(fx, partial, "theirs\n");
    assert_int_equal(cim_outfile_publish(&o, &err), CIM_ERR_IO);
    assert_non_null(strstr(err.msg, "no longer this run's file"));
    assert_false(cim_test_exists(path));
    cim_outfile_release(&o, 0);
    cim_test_assert_file_text(partial, "theirs\n");
    assert_int_equal(cim_test_count_entries(fx->dir), 1);
}

/* ---- release ------------------------------------------------------------ */

/* keep 0 removes our temporary name and our R.h5.partial, never a file
 * someone else put under either name; keep 1 keeps our R.h5.partial. */
static void test_release_removes_only_ours(void **state)
{
    fixture *fx = *state;
    char path[NAME_MAX_HERE], partial[NAME_MAX_HERE], temporary[NAME_MAX_HERE];
    cim_outfile o;
    cim_error err = {0, ""};
    in_dir(fx, "R.h5", path);
    in_dir(fx, "R.h5.partial", partial);

    claim_ok(path, 0, 0, &o);
    assert_int_equal(cim_outfile_make(&o, &err), 0);
    assert_int_equal(cim_test_count_entries(fx->dir), 1);
    cim_outfile_release(&o, 0);
    assert_int_equal(cim_test_count_entries(fx->dir), 0);

    claim_ok(path, 0, 0, &o);
    assert_int_equal(cim_outfile_make(&o, &err), 0);
    assert_int_equal(cim_outfile_publish_partial(&o, &err), 0);
    assert_true(cim_test_exists(partial));
    cim_outfile_release(&o, 0);
    assert_int_equal(cim_test_count_entries(fx->dir), 0);

    claim_ok(path, 0, 0, &o);
    assert_int_equal(cim_outfile_make(&o, &err), 0);
    snprintf(temporary, sizeof temporary, "%s", cim_outfile_new_name(&o));
    replace_by_hand(fx, temporary, "theirs at the temporary name\n");
    cim_outfile_release(&o, 0);
    cim_test_assert_file_text(temporary, "theirs at the temporary name\n");
    assert_int_equal(unlink(temporary), 0);

    claim_ok(path, 0, 0, &o);
    assert_int_equal(cim_outfile_make(&o, &err), 0);
    assert_int_equal(cim_outfile_publish_partial(&o, &err), 0);
    replace_by_hand(fx, partial, "theirs\n");
    cim_outfile_release(&o, 0);
    cim_test_assert_file_text(partial, "theirs\n");
    assert_int_equal(cim_test_count_entries(fx->dir), 1);
    assert_int_equal(unlink(partial), 0);

    claim_ok(path, 0, 0, &o);
    assert_int_equal(cim_outfile_make(&o, &err), 0);
    write_new(&o, "kept\n");
    assert_int_equal(cim_outfile_publish_partial(&o, &err), 0);
    cim_outfile_release(&o, 1);
    cim_test_assert_file_text(partial, "kept\n");
    assert_int_equal(cim_test_count_entries(fx->dir), 1);
}

/* release on a zeroed struct, twice on a claim, and after a failed claim
 * does nothing. */
static void test_release_of_nothing_is_a_no_op(void **state)
{
    fixture *fx = *state;
    char path[NAME_MAX_HERE], zero[sizeof(cim_outfile)];
    cim_outfile o;
    cim_error err = {0, ""};
    memset(&o, 0, sizeof o);
    memset(zero, 0, sizeof zero);
    cim_outfile_release(&o, 0);
    cim_outfile_release(&o, 1);
    assert_memory_equal(&o, zero, sizeof o);

    cim_test_write_text(in_dir(fx, "R.h5", path), "results\n");
    claim_ok(path, 1, 0, &o);
    cim_outfile_release(&o, 0);
    assert_null(o.path);
    assert_int_equal(o.new_fd, -1);
    assert_int_equal(o.old_fd, -1);
    cim_outfile_release(&o, 0);
    assert_int_equal(claim(path, 0, 0, &o, &err), CIM_ERR_USAGE);
    cim_outfile_release(&o, 0);
    cim_test_assert_file_text(path, "results\n");
    assert_int_equal(cim_test_count_entries(fx->dir), 1);
}

/* ---- resume --------------------------------------------------------------- */

/* old_partial is R.h5.partial when one existed, NULL when none did; the new
 * file is renamed over the old one by publish_partial (resume or force),
 * unless someone replaced the old one meanwhile. */
static void test_resume_replaces_the_old_partial(void **state)
{
    fixture *fx = *state;
    char path[NAME_MAX_HERE], partial[NAME_MAX_HERE], temporary[NAME_MAX_HERE];
    cim_outfile o;
    cim_error err = {0, ""};
    in_dir(fx, "R.h5", path);
    in_dir(fx, "R.h5.partial", partial);

    claim_ok(path, 0, 1, &o);
    assert_null(cim_outfile_old_partial(&o));
    cim_outfile_release(&o, 0);
    assert_int_equal(cim_test_count_entries(fx->dir), 0);

    for (int force = 0; force < 2; ++force) {
        cim_test_write_text(partial, "old trials\n");
        claim_ok(path, force, !force, &o);
        if (force)
            assert_null(cim_outfile_old_partial(&o));
        else
            assert_string_equal(cim_outfile_old_partial(&o), partial);
        assert_int_equal(cim_outfile_make(&o, &err), 0);
        snprintf(temporary, sizeof temporary, "%s", cim_outfile_new_name(&o));
        write_new(&o, "new file\n");
        cim_test_assert_file_text(partial, "old trials\n");
        assert_int_equal(cim_outfile_publish_partial(&o, &err), 0);
        assert_true(names_new(&o, partial));
        cim_test_assert_file_text(partial, "new file\n");
        assert_false(cim_test_exists(temporary));
        assert_null(cim_outfile_old_partial(&o));
        assert_int_equal(cim_test_count_entries(fx->dir), 1);
        assert_int_equal(cim_outfile_publish(&o, &err), 0);
        cim_outfile_release(&o, 0);
        cim_test_assert_file_text(path, "new file\n");
        assert_int_equal(cim_test_count_entries(fx->dir), 1);
        assert_int_equal(unlink(path), 0);
    }

    cim_test_write_text(partial, "old trials\n");
    claim_ok(path, 0, 1, &o);
    replace_by_hand(fx, partial, "another run's\n");
    assert_int_equal(cim_outfile_make(&o, &err), 0);
    snprintf(temporary, sizeof temporary, "%s", cim_outfile_new_name(&o));
    assert_int_equal(cim_outfile_publish_partial(&o, &err), CIM_ERR_USAGE);
    assert_non_null(strstr(err.msg, "replaced by another process"));
    cim_test_assert_file_text(partial, "another run's\n");
    cim_outfile_release(&o, 0);
    assert_false(cim_test_exists(temporary));
    cim_test_assert_file_text(partial, "another run's\n");
    assert_int_equal(cim_test_count_entries(fx->dir), 1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_claim_refuses_an_input),
        T(test_claim_refuses_a_directory),
        T(test_claim_refuses_an_empty_path),
        T(test_claim_existing_file_needs_force),
        T(test_claim_existing_partial_needs_resume_or_force),
        T(test_claim_refuses_a_locked_partial),
        T(test_claim_missing_folder_is_io_error),
        T(test_claim_read_only_folder_is_io_error),
        T(test_make_and_publish),
        T(test_publish_partial_refuses_one_that_appeared),
        T(test_publish_and_an_R_h5_that_appeared),
        T(test_publish_refuses_a_replaced_partial),
        T(test_release_removes_only_ours),
        T(test_release_of_nothing_is_a_no_op),
        T(test_resume_replaces_the_old_partial),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
