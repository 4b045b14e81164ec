/* cim_h5file.h -- the life cycle of every cimgpu results file, whatever its
 * layout (`cimgpu mvm --out`: h5_mvm.c, the network run: h5_run.c), on the
 * file a claim (cim_outfile.h) made for it:
 *
 *   create   makes the HDF5 file (latest format) in the claimed new file and
 *            writes the root attributes every results file carries (format,
 *            format_version, [complete = 0,] tool_version, git_revision,
 *            command_line, device, created, seed, config_json) and the root
 *            dataset trials_written (0);
 *   layout   the writer adds its own root attributes, groups, whole datasets
 *            and per-trial datasets through the functions below, each of
 *            which fills err naming R.h5 where HDF5 fails;
 *   append   batches of trials, strictly in order, to every per-trial
 *            dataset (extendible ones grow with each batch); commit then
 *            flushes and only then raises trials_written, so trials
 *            0 .. trials_written-1 are whole in the file whenever the process
 *            dies. Appends may come before start (a resumed run copies the
 *            finished trials of its predecessor first);
 *   start    switches the file to single-writer/multiple-reader access
 *            (H5Fstart_swmr_write: from now on readers may open it while it
 *            grows, and no object can be added) and publishes it as
 *            R.h5.partial;
 *   finish   once every trial is in: complete = 1, flush, close, fsync and
 *            rename onto R.h5 (cim_outfile_publish);
 *   discard  closes what is open and frees the handle; the caller's
 *            cim_outfile_release() then decides whether R.h5.partial stays.
 *
 * Everything a writer's file holds must therefore exist before start: the
 * summary datasets a finish fills are created with the layout.
 *
 * Contract. Every handle create returns is released by exactly one discard,
 * whether finish succeeded, failed or never ran. The handle outlives finish
 * so that misuse is an error, not a use after free: append or finish after
 * a successful finish, a batch out of order, finish before every trial is in
 * or before start are CIM_ERR_USAGE (a programming error), checked before
 * anything is written, the file left as it was. HDF5 and file-system
 * failures are CIM_ERR_IO naming R.h5; after one the handle is broken
 * (datasets may disagree in extent, trials_written does not count the
 * batch): append and finish answer CIM_ERR_IO and only discard remains.
 */
#ifndef CIM_H5FILE_H
#define CIM_H5FILE_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "cim_error.h"
#include "cim_h5util.h"
#include "cim_outfile.h"
#include "cim_provenance.h"

#define CIM_H5FILE_COUNTER "trials_written"
#define CIM_H5FILE_COUNTER_DESCRIPTION                                                             \
    "trials 0 .. trials_written-1 of every per-trial dataset are final; rows past them may be "    \
    "in flight"

enum {
    CIM_H5FILE_MARKS_COMPLETE = 1, /* root attribute complete (int32): 0, 1 once finished */
};

typedef struct cim_h5file_spec {
    cim_outfile *out;   /* the claimed file (path R.h5), the caller's; outlives the handle */
    const char *format; /* root attribute format, e.g. "cimgpu-run" */
    int32_t format_version;
    unsigned flags; /* CIM_H5FILE_* */
    const cim_provenance *prov;
    uint64_t seed;
    const char *config_json; /* the resolved config; NULL stored as "" */
    int64_t trials;          /* T >= 1: rows along axis 0 of every per-trial dataset */
} cim_h5file_spec;

typedef struct cim_h5file cim_h5file; /* an open results file and its state */

/* For programs, first thing in main: HDF5's own clean-up at exit is not run.
 * After a failed close (a full disk) HDF5 1.10 keeps the file in its tables
 * and its exit handler crashes closing it again; every results file is
 * closed explicitly, so the process needs none. */
void cim_h5file_skip_exit_cleanup(void);

/* Makes the HDF5 file in the claimed new file with the common root
 * attributes and trials_written. 0, or CIM_ERR_USAGE (bad spec), CIM_ERR_IO
 * (HDF5 failed), CIM_ERR_NOMEM; on failure *out is NULL. */
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

/* Overwrites the whole existing dataset at `path` (from the root, e.g.
 * "summary/mean") from data; allowed in SWMR mode. */
int cim_h5file_rewrite_dataset(cim_h5file *f, const char *path, hid_t mem_type, const void *data,
                               cim_error *err);

/* Creates a fixed-size dataset (cim_h5_create_dataset with `flags`, e.g.
 * CIM_H5_PER_TRIAL | CIM_H5_FILL_NAN) with attrs on it and nothing written:
 * it is filled later, part by part, with cim_h5file_write_region. */
int cim_h5file_empty_dataset(cim_h5file *f, hid_t loc, const char *name, hid_t file_type, int rank,
                             const hsize_t *dims, unsigned flags, const cim_h5_value *attrs,
                             size_t n_attrs, cim_error *err);

/* Overwrites the block start[0..rank-1] + count[0..rank-1] of the existing
 * dataset at `path` (start NULL: all of it) from data (contiguous,
 * mem_type); allowed in SWMR mode. 0 or CIM_ERR_IO. */
int cim_h5file_write_region(cim_h5file *f, const char *path, int rank, const hsize_t *start,
                            const hsize_t *count, hid_t mem_type, const void *data, cim_error *err);

/* A per-trial dataset (flags: CIM_H5_PER_TRIAL implied, CIM_H5_EXTENDIBLE
 * optional; dims[0] is spec->trials) with attrs on it, kept open by the
 * handle until finish or discard; *slot names it to cim_h5file_append. */
int cim_h5file_trial_dataset(cim_h5file *f, hid_t loc, const char *name, hid_t file_type, int rank,
                             const hsize_t *dims, unsigned flags, const cim_h5_value *attrs,
                             size_t n_attrs, int *slot, cim_error *err);

/* SWMR on, then the file is published as R.h5.partial. 0, CIM_ERR_USAGE
 * (started already; another run made R.h5.partial meanwhile), CIM_ERR_IO
 * (broken). */
int cim_h5file_start(cim_h5file *f, cim_error *err);

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

/* The batch is in every dataset: optionally flushes the file, then raises
 * trials_written (flushed too with flush), so a process dying after it
 * leaves a partial file that says it holds these trials. */
int cim_h5file_commit(cim_h5file *f, int64_t n_trials, int flush, cim_error *err);

/* ---- finish ---- */

/* Could finish go ahead now? 0, CIM_ERR_USAGE (finished already, trials
 * missing) or CIM_ERR_IO (broken). Writers check their own summary after it
 * and write it before cim_h5file_finish. */
int cim_h5file_check_finish(const cim_h5file *f, cim_error *err);

/* Publishes the file: check_finish, complete = 1 (with
 * CIM_H5FILE_MARKS_COMPLETE), flush, close, fsync, rename onto R.h5. The
 * handle stays to be discarded. Needs start. */
int cim_h5file_finish(cim_h5file *f, cim_error *err);

/* Closes everything open and frees f; touches no file name. NULL ok. */
void cim_h5file_discard(cim_h5file *f);

#endif /* CIM_H5FILE_H */
