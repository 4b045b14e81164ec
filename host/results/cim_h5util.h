/* cim_h5util.h -- what every cimgpu results file shares: HDF5 errors as one
 * CIM_ERR_IO line naming the file, scalar attributes, trial-chunked datasets
 * written by hyperslab, and the partial-file life cycle (write "R.h5.partial",
 * sync it, rename it onto "R.h5") that keeps a half-written file from ever
 * appearing under the final name.
 *
 * Used by h5_mvm.c (`cimgpu mvm --out`) and h5_run.c (the network run's
 * results). Functions returning herr_t/hid_t follow HDF5's convention (< 0 on
 * failure, the HDF5 error stack holding why) so that a caller can chain them
 * and report once with cim_h5_fail(); those returning int are 0 or a CIM_ERR_*
 * code with the message already set.
 */
#ifndef CIM_H5UTIL_H
#define CIM_H5UTIL_H

#include <hdf5.h>
#include <stdint.h>

#include "cim_error.h"

#define CIM_H5_PARTIAL_SUFFIX ".partial"
#define CIM_H5_MAX_RANK 5 /* the largest rank cim_h5_create_dataset() accepts */

/* Turns off HDF5's automatic printing of its error stack (we report one
 * line through cim_error instead). Call before the first HDF5 call. */
void cim_h5_quiet(void);

/* Sets CIM_ERR_IO "<path>: HDF5 failed to <what>: <innermost HDF5 reason>"
 * and returns CIM_ERR_IO. */
int cim_h5_fail(cim_error *err, const char *path, const char *what);

/* ---- attributes (scalar, created on loc; string values are variable-length
 * UTF-8, which h5py returns as str) ---- */
herr_t cim_h5_attr_write(hid_t loc, const char *name, hid_t file_type, hid_t mem_type,
                         const void *value);
herr_t cim_h5_attr_string(hid_t loc, const char *name, const char *value);
herr_t cim_h5_attr_int32(hid_t loc, const char *name, int32_t value);
herr_t cim_h5_attr_int64(hid_t loc, const char *name, int64_t value);
herr_t cim_h5_attr_uint64(hid_t loc, const char *name, uint64_t value);
herr_t cim_h5_attr_double(hid_t loc, const char *name, double value);

/* ---- datasets ---- */

enum {
    CIM_H5_PER_TRIAL = 1,  /* axis 0 is the trial: chunk along whole trials */
    CIM_H5_EXTENDIBLE = 2, /* with PER_TRIAL: created with 0 trials, grows without limit;
                              dims[0] is the expected final count (chunk and filter choice) */
};

/* Creates dataset `name` (rank 1..CIM_H5_MAX_RANK, dims[] each >= 1). Per
 * trial: chunked along whole trials, as many as fit in 64 KiB (at least one),
 * inner axes cut outer first only if a chunk would exceed 16 MiB. Other
 * datasets are contiguous unless 64 KiB or larger. Datasets of 64 KiB or more
 * get the shuffle and deflate filters. */
hid_t cim_h5_create_dataset(hid_t loc, const char *name, hid_t file_type, int rank,
                            const hsize_t *dims, unsigned flags);

/* Writes n trials starting at t0 (whole inner axes) from buf, which holds them
 * contiguously as mem_type. The dataset must already extend past t0 + n. */
herr_t cim_h5_write_trials(hid_t dset, hsize_t t0, hsize_t n, hid_t mem_type, const void *buf);

/* ---- the partial-file life cycle ---- */

/* path followed by suffix, malloc'd; NULL when out of memory. */
char *cim_h5_concat(const char *path, const char *suffix);

/* Fails early, with the system's words, where the partial file cannot be made
 * (CIM_ERR_IO "<path>: cannot create <partial>: <strerror>") or `path` is a
 * directory (CIM_ERR_USAGE "--out <path>: is a directory"). Leaves an empty
 * partial file behind on success. */
int cim_h5_prepare_partial(const char *path, const char *partial, cim_error *err);

/* H5Fcreate(partial, truncate) with file locking where the file system can
 * lock; carries on without where it cannot (NFS, some container mounts). */
hid_t cim_h5_create_file(const char *partial);

/* The closed partial file is fsync'ed, then renamed onto path. CIM_ERR_IO
 * naming path on failure (the partial file is then left for the caller to
 * remove). */
int cim_h5_publish(const char *path, const char *partial, cim_error *err);

#endif /* CIM_H5UTIL_H */
