/* cim_h5file.h -- the life cycle of every cimgpu results file, whatever its
 * layout (`cimgpu mvm --out`: h5_mvm.c, the network run: h5_run.c, and the
 * sweep writer to come):
 *
 *   create   makes "R.h5.partial" beside R.h5 and writes the root attributes
 *            every results file carries (format, format_version, [complete =
 *            0,] tool_version, git_revision, command_line, device, created,
 *            seed, config_json);
 *   layout   the writer adds its own root attributes, groups, whole datasets
 *            and per-trial datasets through the functions below, each of
 *            which fills err naming R.h5 where HDF5 fails;
 *   append   batches of trials, strictly in order, to every per-trial
 *            dataset (extendible ones grow with each batch);
 *   finish   once every trial is in: complete = 1, flush, close, fsync and
 *            rename onto R.h5. Only then does R.h5 appear or get replaced;
 *   discard  closes what is open, removes the partial file if this handle
 *            made it and did not publish it, and frees the handle.
 *
 * Contract. Every handle create returns is released by exactly one discard,
 * whether finish succeeded, failed or never ran; discard never touches R.h5.
 * The handle outlives finish so that misuse is an error, not a use after
 * free: append or finish after a successful finish, a batch out of order,
 * finish before every trial is in are CIM_ERR_USAGE (a programming error),
 * checked before anything is written, the file left as it was. HDF5 and
 * file-system failures are CIM_ERR_IO naming R.h5; after one the handle is
 * broken (datasets may disagree in extent): append and finish answer
 * CIM_ERR_IO and only discard remains, which removes the partial file.
 *
 * Where the next features go: exclusive creation of the partial file and
 * refusing one another run holds (issue 9) change create_partial() in
 * cim_h5file.c only; resume will add a cim_h5file_reopen() that opens an
 * existing partial file with trials_written taken from its datasets' extent
 * and `created` false, so that discard keeps the finished trials.
 */
#ifndef CIM_H5FILE_H
#define CIM_H5FILE_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "cim_error.h"
#include "cim_h5util.h"
#include "cim_provenance.h"

#define CIM_H5_PARTIAL_SUFFIX ".partial"

enum {
    CIM_H5FILE_MARKS_COMPLETE = 1, /* root attribute complete (int32): 0, 1 once finished */
};

typedef struct cim_h5file_spec {
    const char *path;   /* R.h5, the file to produce */
    const char *format; /* root attribute format, e.g. "cimgpu-run" */
    int32_t format_version;
    unsigned flags; /* CIM_H5FILE_* */
    const cim_provenance *prov;
    uint64_t seed;
    const char *config_json; /* the resolved config; NULL stored as "" */
    int64_t trials;          /* T >= 1: rows along axis 0 of every per-trial dataset */
} cim_h5file_spec;

typedef struct cim_h5file cim_h5file; /* an open results file and its state */

/* Makes the partial file with the common root attributes. 0, or
 * CIM_ERR_USAGE (`path` is a directory, bad spec), CIM_ERR_IO (the folder is
 * missing or unwritable, HDF5 failed), CIM_ERR_NOMEM; on failure nothing is
 * left on disk and *out is NULL. */
int cim_h5file_create(const cim_h5file_spec *spec, cim_h5file **out, cim_error *err);

hid_t cim_h5file_root(const cim_h5file *f);               /* the file, for groups */
const char *cim_h5file_path(const cim_h5file *f);         /* R.h5 */
const char *cim_h5file_partial_path(const cim_h5file *f); /* R.h5.partial */
int64_t cim_h5file_trials_written(const cim_h5file *f);   /* committed so far */

/* ---- layout: each 0 or CIM_ERR_IO (handle broken) ---- */

/* Attributes v[0..n-1] on loc (the root, a group or a dataset). */
int cim_h5file_attrs(cim_h5file *f, hid_t loc, const cim_h5_value *v, size_t n, cim_error *err);

/* Creates group `name` under the root into *group, which the writer closes
 * with cim_h5file_close_group(f, *group, rc, err): it returns rc when rc is
 * an error (closing quietly), else 0 or the failure to close. */
int cim_h5file_group(cim_h5file *f, const char *name, hid_t *group, cim_error *err);
int cim_h5file_close_group(cim_h5file *f, hid_t group, int rc, cim_error *err);

/* A dataset written whole: rank 0 is a scalar, rank >= 1 as
 * cim_h5_create_dataset without flags; then attrs[0..n_attrs-1] on it. */
int cim_h5file_write_dataset(cim_h5file *f, hid_t loc, const char *name, hid_t file_type, int rank,
                             const hsize_t *dims, hid_t mem_type, const void *data,
                             const cim_h5_value *attrs, size_t n_attrs, cim_error *err);

/* A per-trial dataset (flags: CIM_H5_PER_TRIAL implied, CIM_H5_EXTENDIBLE
 * optional; dims[0] is spec->trials) with attrs on it, kept open by the
 * handle until finish or discard; *slot names it to cim_h5file_append. */
int cim_h5file_trial_dataset(cim_h5file *f, hid_t loc, const char *name, hid_t file_type, int rank,
                             const hsize_t *dims, unsigned flags, const cim_h5_value *attrs,
                             size_t n_attrs, int *slot, cim_error *err);

/* ---- append: check, write each dataset, commit ---- */

/* May trials trial_first .. trial_first + n_trials - 1 come next? 0, or
 * CIM_ERR_USAGE (out of order, empty, past T, after finish), CIM_ERR_IO
 * (broken). Writes nothing. */
int cim_h5file_check_append(const cim_h5file *f, int64_t trial_first, int64_t n_trials,
                            cim_error *err);

/* Writes the next n_trials trials (from trials_written on) of one per-trial
 * dataset from buf (mem_type, contiguous). Call after check_append. */
int cim_h5file_append(cim_h5file *f, int slot, int64_t n_trials, hid_t mem_type, const void *buf,
                      cim_error *err);

/* Flushes the file's buffers to it (H5F_SCOPE_LOCAL), e.g. once the layout
 * is made. 0, CIM_ERR_USAGE after finish, CIM_ERR_IO. */
int cim_h5file_flush(cim_h5file *f, cim_error *err);

/* The batch is in every dataset: optionally flushes the file (so a process
 * dying before the next batch leaves a partial file holding these trials),
 * then counts the trials written. */
int cim_h5file_commit(cim_h5file *f, int64_t n_trials, int flush, cim_error *err);

/* ---- finish ---- */

/* Could finish go ahead now? 0, CIM_ERR_USAGE (finished already, trials
 * missing) or CIM_ERR_IO (broken). Writers check their own summary after it
 * and write it before cim_h5file_finish. */
int cim_h5file_check_finish(const cim_h5file *f, cim_error *err);

/* Publishes the file: check_finish, complete = 1 (with
 * CIM_H5FILE_MARKS_COMPLETE), flush, close, fsync, rename onto R.h5. The
 * handle stays to be discarded. */
int cim_h5file_finish(cim_h5file *f, cim_error *err);

/* Closes, removes the partial file (only if this handle created it and it
 * was not published), frees f. NULL ok. */
void cim_h5file_discard(cim_h5file *f);

#endif /* CIM_H5FILE_H */
