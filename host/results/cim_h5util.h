/* cim_h5util.h -- the HDF5 primitives under every cimgpu results file:
 * quiet error stacks turned into one CIM_ERR_IO line, attributes described
 * by a table of named values, and trial-chunked datasets written by
 * hyperslab.
 *
 * Internal to host/results. The writers do not call these directly: they go
 * through the results-file life cycle (cim_h5file.h), which knows the file's
 * name and turns every failure into a message where it is seen. Functions
 * returning herr_t/hid_t here follow HDF5's own convention (< 0 on failure,
 * the HDF5 error stack holding why), like the HDF5 calls they wrap; the one
 * function that knows the file (cim_h5file.c) reports them through
 * cim_h5_fail(), which reads that stack.
 */
#ifndef CIM_H5UTIL_H
#define CIM_H5UTIL_H

#include <hdf5.h>
#include <stdint.h>

#include "cim_error.h"

#define CIM_H5_MAX_RANK 5 /* the largest rank cim_h5_create_dataset() accepts */

/* Turns off HDF5's automatic printing of its error stack (we report one
 * line through cim_error instead). Call before the first HDF5 call. */
void cim_h5_quiet(void);

/* Sets CIM_ERR_IO "<path>: HDF5 failed to <what>: <innermost HDF5 reason>"
 * and returns CIM_ERR_IO. */
int cim_h5_fail(cim_error *err, const char *path, const char *what);

/* ---- named values: attributes, and the scalar datasets of a summary ---- */

typedef enum cim_h5_kind {
    CIM_H5_STRING,  /* value is the const char * itself; NULL is stored as "" */
    CIM_H5_STRINGS, /* value is a const char *const [count], none NULL */
    CIM_H5_INT32,   /* value points at the number */
    CIM_H5_INT64,
    CIM_H5_UINT64,
    CIM_H5_DOUBLE,
    CIM_H5_DOUBLES, /* value is a const double [count] */
} cim_h5_kind;

typedef struct cim_h5_value {
    const char *name;
    cim_h5_kind kind;
    const void *value;
    hsize_t count;           /* CIM_H5_STRINGS and CIM_H5_DOUBLES only */
    const char *description; /* scalar datasets: their "description" attribute */
} cim_h5_value;

/* Creates attribute v->name on loc: scalar, or 1-D for CIM_H5_STRINGS and
 * CIM_H5_DOUBLES;
 * strings are variable-length UTF-8 (h5py returns str), numbers
 * little-endian of their width. */
herr_t cim_h5_attr_write(hid_t loc, const cim_h5_value *v);

/* Reads string attribute `name` of loc (variable or fixed length) into a
 * malloc'd *out, or a scalar numeric attribute converted to mem_type. < 0
 * when it is missing or of another kind. */
herr_t cim_h5_attr_read_string(hid_t loc, const char *name, char **out);
herr_t cim_h5_attr_read_scalar(hid_t loc, const char *name, hid_t mem_type, void *value);

/* The little-endian file type and native memory type of a numeric kind;
 * -1 for the string kinds. */
hid_t cim_h5_file_type(cim_h5_kind kind);
hid_t cim_h5_mem_type(cim_h5_kind kind);

/* ---- datasets ---- */

enum {
    CIM_H5_PER_TRIAL = 1,  /* axis 0 is the trial: chunk along whole trials */
    CIM_H5_EXTENDIBLE = 2, /* with PER_TRIAL: created with 0 trials, grows without limit;
                              dims[0] is the expected final count (chunk and filter choice) */
    CIM_H5_FILL_NAN = 4,   /* a float dataset that reads NaN where nothing was written */
};

/* Creates dataset `name` (rank 1..CIM_H5_MAX_RANK, dims[] each >= 1). Per
 * trial: chunked along whole trials, as many as fit in 64 KiB (at least one),
 * inner axes cut outer first only if a chunk would exceed 16 MiB. Other
 * datasets are contiguous unless 64 KiB or larger. Datasets of 64 KiB or more
 * get the shuffle and deflate filters. */
hid_t cim_h5_create_dataset(hid_t loc, const char *name, hid_t file_type, int rank,
                            const hsize_t *dims, unsigned flags);

/* Writes n trials starting at t0 (whole inner axes) from buf, which holds them
 * contiguously as mem_type; an extendible dataset is first grown to t0 + n
 * trials, any other must already extend that far. */
herr_t cim_h5_write_trials(hid_t dset, hsize_t t0, hsize_t n, hid_t mem_type, const void *buf,
                           int extend);

#endif /* CIM_H5UTIL_H */
