/* cim_h5file.c -- the results-file life cycle; see cim_h5file.h for the
 * contract.
 *
 * State: a handle is OPEN from create until finish publishes it (FINISHED)
 * or an HDF5 or file-system failure breaks it (BROKEN). Only OPEN accepts
 * appends and finish; `created` says the partial file on disk is ours to
 * remove, and is cleared by the rename, after which that name may belong to
 * someone else's run.
 *
 * The partial file: create opens HDF5 on the claimed output's new file
 * (cim_outfile_make: a fresh temporary name, locked by this process), start
 * switches it to SWMR and publishes it as "R.h5.partial". finish closes it,
 * fsyncs it -- so that the rename never publishes a file whose data is not
 * yet on disk -- and renames it onto R.h5. A reader therefore sees either
 * the old R.h5 or a complete new one.
 *
 * Datasets: the handle keeps every per-trial dataset open (a growable table
 * of ids with their names for messages) and closes them all, then the file,
 * in one place. Whole datasets, groups and attributes are closed by the call
 * that made them. Messages name objects by their path in the file without
 * the leading slash ("trials/accuracy"), root attributes as "root
 * attribute"; every one is CIM_ERR_IO naming R.h5.
 *
 * Ownership: the handle owns its two path strings, the dataset table and
 * every HDF5 id in it; discard frees all of them.
 */
#include "cim_h5file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WHAT_MAX 192 /* "write the dataset \"...\"" */
#define NAME_MAX_IN_FILE 128

typedef enum { H5FILE_OPEN, H5FILE_FINISHED, H5FILE_BROKEN } h5file_state;

typedef struct trial_dataset {
    hid_t id;
    int extendible;
    char name[NAME_MAX_IN_FILE]; /* path in the file, for messages */
} trial_dataset;

struct cim_h5file {
    char *path;       /* R.h5, for messages */
    cim_outfile *out; /* the claimed file: the caller's */
    hid_t file;
    hid_t counter; /* the trials_written dataset */
    int started;   /* SWMR on, R.h5.partial published */
    unsigned flags;
    h5file_state state;
    int64_t trials;
    int64_t written; /* trials 0 .. written-1 are in every per-trial dataset */
    trial_dataset *dsets;
    int n_dsets, cap_dsets;
};

/* ---- errors ---------------------------------------------------------- */

/* CIM_ERR_IO naming the file; the handle is broken from now on. */
static int fail(cim_h5file *f, const char *what, cim_error *err)
{
    f->state = H5FILE_BROKEN;
    return cim_h5_fail(err, f->path, what);
}

/* "name" under loc as a path in the file without the leading slash. */
static void object_name(hid_t loc, const char *name, char *buf, size_t size)
{
    char at[NAME_MAX_IN_FILE] = "";
    H5Iget_name(loc, at, sizeof at);
    if (at[0] == '/' && at[1] != '\0')
        snprintf(buf, size, "%s%s%s", at + 1, name ? "/" : "", name ? name : "");
    else
        snprintf(buf, size, "%s", name ? name : "");
}

static int is_root(hid_t loc)
{
    char at[4] = "";
    return H5Iget_name(loc, at, sizeof at) == 1 && at[0] == '/';
}

static int fail_object(cim_h5file *f, const char *verb, hid_t loc, const char *name, cim_error *err)
{
    char obj[NAME_MAX_IN_FILE], what[WHAT_MAX];
    object_name(loc, name, obj, sizeof obj);
    snprintf(what, sizeof what, "%s \"%s\"", verb, obj);
    return fail(f, what, err);
}

/* ---- the file ------------------------------------------------------- */

static char *copy_string(const char *text)
{
    size_t n = strlen(text) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, text, n);
    return d;
}

/* The file access properties of every results file: the latest format
 * (which single-writer/multiple-reader access needs) and no HDF5 file lock:
 * the claim (cim_outfile.h) already holds a lock of its own, and HDF5's
 * would keep SWMR readers from opening the file. */
static hid_t file_access(void)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0)
        return -1;
    if (H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) < 0) {
        H5Pclose(fapl);
        return -1;
    }
#if H5_VERSION_GE(1, 10, 7)
    H5Pset_file_locking(fapl, 0, 1);
#endif
    return fapl;
}

/* H5Fcreate on the claimed output's new file (truncating it: it is empty). */
static int create_hdf5(cim_h5file *f, cim_error *err)
{
    hid_t fapl;
    int rc = cim_outfile_make(f->out, err);
    if (rc != 0) {
        f->state = H5FILE_BROKEN;
        return rc;
    }
    fapl = file_access();
    if (fapl < 0)
        return fail(f, "create the file", err);
    f->file = H5Fcreate(cim_outfile_new_name(f->out), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    return f->file < 0 ? fail(f, "create the file", err) : 0;
}

/* The root dataset trials_written (int64 scalar, allocated at creation, so
 * that each commit rewrites the same 8 bytes in place). */
static int create_counter(cim_h5file *f, cim_error *err)
{
    const int64_t zero = 0;
    hid_t space = H5Screate(H5S_SCALAR), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    int rc = 0;
    if (space < 0 || dcpl < 0 || H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) < 0 ||
        (f->counter = H5Dcreate2(f->file, CIM_H5FILE_COUNTER, H5T_STD_I64LE, space, H5P_DEFAULT,
                                 dcpl, H5P_DEFAULT)) < 0 ||
        H5Dwrite(f->counter, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &zero) < 0)
        rc = fail(f, "create the dataset \"" CIM_H5FILE_COUNTER "\"", err);
    if (space >= 0)
        H5Sclose(space);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (rc == 0) {
        const cim_h5_value description = {"description", CIM_H5_STRING,
                                          CIM_H5FILE_COUNTER_DESCRIPTION, 0, NULL};
        rc = cim_h5file_attrs(f, f->counter, &description, 1, err);
    }
    return rc;
}

/* Closes every open id, the file last; CIM_ERR_IO (broken) if any close
 * failed. discard passes err NULL: it has no one to tell. */
static int close_all(cim_h5file *f, cim_error *err)
{
    int failed = 0;
    for (int d = 0; d < f->n_dsets; ++d) {
        if (f->dsets[d].id >= 0 && H5Dclose(f->dsets[d].id) < 0)
            failed = 1;
        f->dsets[d].id = -1;
    }
    if (f->counter >= 0 && H5Dclose(f->counter) < 0)
        failed = 1;
    f->counter = -1;
    if (f->file >= 0 && H5Fclose(f->file) < 0)
        failed = 1;
    f->file = -1;
    return failed ? fail(f, "close the file", err) : 0;
}

void cim_h5file_skip_exit_cleanup(void)
{
    H5dont_atexit();
}

/* ---- create ---------------------------------------------------------- */

static int check_open(const cim_h5file *f, const char *action, cim_error *err);

/* The root attributes of every results file, in this order. */
static int write_provenance(cim_h5file *f, const cim_h5file_spec *s, cim_error *err)
{
    const cim_provenance *p = s->prov;
    const int32_t incomplete = 0;
    const cim_h5_value common[] = {
        {"format", CIM_H5_STRING, s->format, 0, NULL},
        {"format_version", CIM_H5_INT32, &s->format_version, 0, NULL},
        {"complete", CIM_H5_INT32, &incomplete, 0, NULL},
        {"tool_version", CIM_H5_STRING, p->tool_version, 0, NULL},
        {"git_revision", CIM_H5_STRING, p->git_revision, 0, NULL},
        {"command_line", CIM_H5_STRING, p->command_line, 0, NULL},
        {"device", CIM_H5_STRING, p->device, 0, NULL},
        {"created", CIM_H5_STRING, p->created, 0, NULL},
        {"seed", CIM_H5_UINT64, &s->seed, 0, NULL},
        {"config_json", CIM_H5_STRING, s->config_json, 0, NULL},
    };
    const int with_complete = (s->flags & CIM_H5FILE_MARKS_COMPLETE) != 0;
    int rc = cim_h5file_attrs(f, f->file, common, 2, err);
    if (rc == 0 && with_complete)
        rc = cim_h5file_attrs(f, f->file, common + 2, 1, err);
    return rc != 0
               ? rc
               : cim_h5file_attrs(f, f->file, common + 3, sizeof common / sizeof *common - 3, err);
}

int cim_h5file_create(const cim_h5file_spec *s, cim_h5file **out, cim_error *err)
{
    cim_h5file *f;
    int rc;
    *out = NULL;
    cim_h5_quiet();
    if (!s->out || !s->out->path)
        return cim_error_set(err, CIM_ERR_USAGE, "results file: no claimed output file given");
    if (!s->prov || !s->format || s->trials < 1)
        return cim_error_set(err, CIM_ERR_USAGE, "%s: no provenance, format or trials given",
                             s->out->path);
    f = calloc(1, sizeof *f);
    if (!f)
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", s->out->path);
    f->file = f->counter = -1;
    f->flags = s->flags;
    f->trials = s->trials;
    f->out = s->out;
    f->path = copy_string(s->out->path);
    if (!f->path) {
        cim_h5file_discard(f);
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", s->out->path);
    }
    if ((rc = create_hdf5(f, err)) != 0 || (rc = write_provenance(f, s, err)) != 0 ||
        (rc = create_counter(f, err)) != 0) {
        cim_h5file_discard(f);
        return rc;
    }
    *out = f;
    return 0;
}

int cim_h5file_start(cim_h5file *f, cim_error *err)
{
    int rc = check_open(f, "start", err);
    if (rc != 0)
        return rc;
    if (f->started)
        return cim_error_set(err, CIM_ERR_USAGE, "%s: started twice", f->path);
    if (H5Fstart_swmr_write(f->file) < 0)
        return fail(f, "start single-writer/multiple-reader access", err);
    if ((rc = cim_outfile_publish_partial(f->out, err)) != 0) {
        f->state = H5FILE_BROKEN;
        return rc;
    }
    f->started = 1;
    return 0;
}

hid_t cim_h5file_root(const cim_h5file *f)
{
    return f->file;
}

const char *cim_h5file_path(const cim_h5file *f)
{
    return f->path;
}

const char *cim_h5file_partial_path(const cim_h5file *f)
{
    return f->out->partial;
}

int64_t cim_h5file_trials_written(const cim_h5file *f)
{
    return f->written;
}

/* ---- layout ---------------------------------------------------------- */

int cim_h5file_attrs(cim_h5file *f, hid_t loc, const cim_h5_value *v, size_t n, cim_error *err)
{
    for (size_t i = 0; i < n; ++i) {
        if (cim_h5_attr_write(loc, &v[i]) >= 0)
            continue;
        if (is_root(loc)) {
            char what[WHAT_MAX];
            snprintf(what, sizeof what, "write the root attribute \"%s\"", v[i].name);
            return fail(f, what, err);
        }
        return fail_object(f, "write the attribute", loc, v[i].name, err);
    }
    return 0;
}

int cim_h5file_group(cim_h5file *f, const char *name, hid_t *group, cim_error *err)
{
    *group = H5Gcreate2(f->file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    return *group < 0 ? fail_object(f, "create the group", f->file, name, err) : 0;
}

int cim_h5file_close_group(cim_h5file *f, hid_t group, int rc, cim_error *err)
{
    char name[NAME_MAX_IN_FILE];
    if (rc != 0) {
        H5Gclose(group);
        return rc;
    }
    object_name(group, NULL, name, sizeof name);
    if (H5Gclose(group) < 0)
        return fail_object(f, "close the group", f->file, name, err);
    return 0;
}

int cim_h5file_write_dataset(cim_h5file *f, hid_t loc, const char *name, hid_t file_type, int rank,
                             const hsize_t *dims, hid_t mem_type, const void *data,
                             const cim_h5_value *attrs, size_t n_attrs, cim_error *err)
{
    hid_t dset = -1, space = -1;
    int rc = 0;
    if (rank == 0) {
        space = H5Screate(H5S_SCALAR);
        if (space >= 0)
            dset = H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    } else {
        dset = cim_h5_create_dataset(loc, name, file_type, rank, dims, 0);
    }
    if (dset < 0 || H5Dwrite(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        rc = fail_object(f, "write the dataset", loc, name, err);
    for (size_t i = 0; rc == 0 && i < n_attrs; ++i)
        if (cim_h5_attr_write(dset, &attrs[i]) < 0)
            rc = fail_object(f, "write the dataset", loc, name, err);
    if (dset >= 0 && H5Dclose(dset) < 0 && rc == 0)
        rc = fail_object(f, "write the dataset", loc, name, err);
    if (space >= 0)
        H5Sclose(space);
    return rc;
}

int cim_h5file_rewrite_dataset(cim_h5file *f, const char *path, hid_t mem_type, const void *data,
                               cim_error *err)
{
    return cim_h5file_write_region(f, path, 0, NULL, NULL, mem_type, data, err);
}

int cim_h5file_empty_dataset(cim_h5file *f, hid_t loc, const char *name, hid_t file_type, int rank,
                             const hsize_t *dims, unsigned flags, const cim_h5_value *attrs,
                             size_t n_attrs, cim_error *err)
{
    hid_t dset = cim_h5_create_dataset(loc, name, file_type, rank, dims, flags);
    int rc = dset < 0 ? fail_object(f, "create the dataset", loc, name, err) : 0;
    for (size_t i = 0; rc == 0 && i < n_attrs; ++i)
        if (cim_h5_attr_write(dset, &attrs[i]) < 0)
            rc = fail_object(f, "create the dataset", loc, name, err);
    if (dset >= 0 && H5Dclose(dset) < 0 && rc == 0)
        rc = fail_object(f, "create the dataset", loc, name, err);
    return rc;
}

int cim_h5file_write_region(cim_h5file *f, const char *path, int rank, const hsize_t *start,
                            const hsize_t *count, hid_t mem_type, const void *data, cim_error *err)
{
    hid_t dset = H5Dopen2(f->file, path, H5P_DEFAULT), fspace = H5S_ALL, mspace = H5S_ALL;
    herr_t st = dset < 0 ? -1 : 0;
    char what[WHAT_MAX];
    if (st >= 0 && start) { /* a block; without one the whole dataset */
        fspace = H5Dget_space(dset);
        mspace = fspace < 0 ? -1 : H5Screate_simple(rank, count, NULL);
        st =
            mspace < 0 ? -1 : H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
    }
    if (st >= 0)
        st = H5Dwrite(dset, mem_type, mspace, fspace, H5P_DEFAULT, data);
    if (mspace > 0) /* H5S_ALL is 0 */
        H5Sclose(mspace);
    if (fspace > 0)
        H5Sclose(fspace);
    if (dset >= 0 && H5Dclose(dset) < 0)
        st = -1;
    if (st >= 0)
        return 0;
    snprintf(what, sizeof what, "write the dataset \"%s\"", path);
    return fail(f, what, err);
}

int cim_h5file_trial_dataset(cim_h5file *f, hid_t loc, const char *name, hid_t file_type, int rank,
                             const hsize_t *dims, unsigned flags, const cim_h5_value *attrs,
                             size_t n_attrs, int *slot, cim_error *err)
{
    trial_dataset *d;
    *slot = -1;
    if (f->n_dsets == f->cap_dsets) {
        int cap = f->cap_dsets ? 2 * f->cap_dsets : 8;
        trial_dataset *grown = realloc(f->dsets, sizeof *grown * (size_t)cap);
        if (!grown)
            return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", f->path);
        f->dsets = grown;
        f->cap_dsets = cap;
    }
    d = &f->dsets[f->n_dsets];
    d->extendible = (flags & CIM_H5_EXTENDIBLE) != 0;
    object_name(loc, name, d->name, sizeof d->name);
    d->id = cim_h5_create_dataset(loc, name, file_type, rank, dims, flags | CIM_H5_PER_TRIAL);
    if (d->id < 0)
        return fail_object(f, "create the dataset", loc, name, err);
    *slot = f->n_dsets++;
    for (size_t i = 0; i < n_attrs; ++i)
        if (cim_h5_attr_write(d->id, &attrs[i]) < 0)
            return fail_object(f, "create the dataset", loc, name, err);
    return 0;
}

/* ---- append ---------------------------------------------------------- */

/* Shared by append and finish: only an open handle goes on. */
static int check_open(const cim_h5file *f, const char *action, cim_error *err)
{
    if (f->state == H5FILE_BROKEN)
        return cim_error_set(err, CIM_ERR_IO, "%s: an earlier write failed; the file is unusable",
                             f->path);
    if (f->state == H5FILE_FINISHED)
        return cim_error_set(err, CIM_ERR_USAGE, "%s: %s after the file was finished", f->path,
                             action);
    return 0;
}

int cim_h5file_check_append(const cim_h5file *f, int64_t trial_first, int64_t n_trials,
                            cim_error *err)
{
    int rc = check_open(f, "append", err);
    if (rc != 0)
        return rc;
    if (trial_first != f->written || n_trials < 1 || n_trials > f->trials - f->written)
        return cim_error_set(err, CIM_ERR_USAGE,
                             "%s: trials %lld..%lld appended out of order (%lld of %lld written)",
                             f->path, (long long)trial_first,
                             (long long)(trial_first + n_trials - 1), (long long)f->written,
                             (long long)f->trials);
    return 0;
}

int cim_h5file_append(cim_h5file *f, int slot, int64_t n_trials, hid_t mem_type, const void *buf,
                      cim_error *err)
{
    const trial_dataset *d;
    char what[WHAT_MAX];
    int rc = cim_h5file_check_append(f, f->written, n_trials, err);
    if (rc != 0)
        return rc;
    if (slot < 0 || slot >= f->n_dsets)
        return cim_error_set(err, CIM_ERR_USAGE, "%s: no per-trial dataset %d", f->path, slot);
    d = &f->dsets[slot];
    if (cim_h5_write_trials(d->id, (hsize_t)f->written, (hsize_t)n_trials, mem_type, buf,
                            d->extendible) >= 0)
        return 0;
    snprintf(what, sizeof what, "write the dataset \"%s\"", d->name);
    return fail(f, what, err);
}

int cim_h5file_flush(cim_h5file *f, cim_error *err)
{
    int rc = check_open(f, "flush", err);
    if (rc != 0)
        return rc;
    return H5Fflush(f->file, H5F_SCOPE_LOCAL) < 0 ? fail(f, "flush the file", err) : 0;
}

int cim_h5file_commit(cim_h5file *f, int64_t n_trials, int flush, cim_error *err)
{
    int64_t written;
    int rc = cim_h5file_check_append(f, f->written, n_trials, err);
    if (rc != 0)
        return rc;
    /* the rows first, then the count that says they are whole */
    if (flush && (rc = cim_h5file_flush(f, err)) != 0)
        return rc;
    written = f->written + n_trials;
    if (H5Dwrite(f->counter, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &written) < 0 ||
        (flush && H5Dflush(f->counter) < 0))
        return fail(f, "write the dataset \"" CIM_H5FILE_COUNTER "\"", err);
    f->written = written;
    return 0;
}

/* ---- finish ---------------------------------------------------------- */

int cim_h5file_check_finish(const cim_h5file *f, cim_error *err)
{
    int rc = check_open(f, "finish", err);
    if (rc != 0)
        return rc;
    if (f->written != f->trials)
        return cim_error_set(err, CIM_ERR_USAGE, "%s: %lld of %lld trials written", f->path,
                             (long long)f->written, (long long)f->trials);
    if (!f->started)
        return cim_error_set(err, CIM_ERR_USAGE, "%s: finish before start", f->path);
    return 0;
}

static int mark_complete(cim_h5file *f, cim_error *err)
{
    const int32_t one = 1;
    hid_t attr = H5Aopen(f->file, "complete", H5P_DEFAULT);
    herr_t st = attr < 0 ? -1 : H5Awrite(attr, H5T_NATIVE_INT32, &one);
    if (attr >= 0 && H5Aclose(attr) < 0)
        st = -1;
    return st < 0 ? fail(f, "write the root attribute \"complete\"", err) : 0;
}

int cim_h5file_finish(cim_h5file *f, cim_error *err)
{
    int rc = cim_h5file_check_finish(f, err);
    if (rc != 0)
        return rc;
    if ((f->flags & CIM_H5FILE_MARKS_COMPLETE) && (rc = mark_complete(f, err)) != 0)
        return rc;
    if (H5Fflush(f->file, H5F_SCOPE_GLOBAL) < 0)
        return fail(f, "flush the file", err);
    if ((rc = close_all(f, err)) != 0)
        return rc;
    if ((rc = cim_outfile_publish(f->out, err)) != 0) {
        f->state = H5FILE_BROKEN;
        return rc;
    }
    f->state = H5FILE_FINISHED;
    return 0;
}

void cim_h5file_discard(cim_h5file *f)
{
    if (!f)
        return;
    close_all(f, NULL);
    free(f->dsets);
    free(f->path);
    free(f);
}
