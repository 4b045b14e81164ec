/* cim_h5resume.h -- reading an interrupted command's partial results file
 * back for --resume (the run's h5_run_read.c, the sweep's h5_sweep_read.c).
 *
 * The file is opened as an SWMR reader, as any analysis tool would open it
 * while its writer works: that mode reads a file whose writer died without
 * closing it, and takes no lock. Identity checks compare one root attribute
 * with the resuming command's value; the first difference is the error,
 * naming the attribute and, where short, both values ("--resume: R.h5.partial
 * is another run's: its seed is \"1\", this run's \"0\""). A file that is not
 * the kind expected, or lacks something, "cannot be resumed".
 */
#ifndef CIM_H5RESUME_H
#define CIM_H5RESUME_H

#include <hdf5.h>
#include <stdint.h>

#include "cim_error.h"
#include "cim_h5util.h"

typedef struct cim_h5_resume {
    hid_t file;
    const char *path;
    const char *noun; /* what wrote it: "run", "sweep" */
} cim_h5_resume;

/* Opens path read-only as an SWMR reader. 0 or CIM_ERR_INPUT. */
int cim_h5_resume_open(cim_h5_resume *r, const char *path, const char *noun, cim_error *err);
void cim_h5_resume_close(cim_h5_resume *r);

/* CIM_ERR_INPUT "--resume: <path> cannot be resumed: no cimgpu <noun>
 * results file (<what>)". */
int cim_h5_resume_unreadable(const cim_h5_resume *r, const char *what, cim_error *err);

/* The string attribute `name` equals ours (NULL: ""). */
int cim_h5_resume_same_string(const cim_h5_resume *r, const char *name, const char *ours,
                              cim_error *err);

/* The scalar numeric attribute `name` (kind CIM_H5_INT64, CIM_H5_UINT64 or
 * CIM_H5_DOUBLE) equals *ours. */
int cim_h5_resume_same_number(const cim_h5_resume *r, const char *name, cim_h5_kind kind,
                              const void *ours, cim_error *err);

/* The root counter trials_written, in 0..max. */
int cim_h5_resume_counter(const cim_h5_resume *r, int64_t max, int64_t *n, cim_error *err);

/* The block of dataset `name` starting at row `row` (axis 0) of n rows and
 * `inner` values each (inner 0: a 1-D dataset) into buf as mem_type; the
 * dataset must have that rank, hold those rows and exactly `inner` values per
 * row. */
int cim_h5_resume_read_rows(const cim_h5_resume *r, const char *name, int64_t row, int64_t n,
                            hsize_t inner, hid_t mem_type, void *buf, cim_error *err);

/* The block start + count (rank 1 or 2) of dataset `name`, whose extent
 * must be exactly dims, into buf as mem_type. */
int cim_h5_resume_read_block(const cim_h5_resume *r, const char *name, int rank,
                             const hsize_t *dims, const hsize_t *start, const hsize_t *count,
                             hid_t mem_type, void *buf, cim_error *err);

#endif /* CIM_H5RESUME_H */
