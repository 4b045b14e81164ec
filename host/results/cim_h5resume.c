/* cim_h5resume.c -- see cim_h5resume.h. */
#include "cim_h5resume.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim_h5file.h"

#define SHOWN_MAX 48 /* longer values are only said to differ */

int cim_h5_resume_unreadable(const cim_h5_resume *r, const char *what, cim_error *err)
{
    return cim_error_set(err, CIM_ERR_INPUT,
                         "--resume: %s cannot be resumed: no cimgpu %s results file (%s)", r->path,
                         r->noun, what);
}

static int differs(const cim_h5_resume *r, const char *name, const char *theirs, const char *ours,
                   cim_error *err)
{
    if (strlen(theirs) <= SHOWN_MAX && strlen(ours) <= SHOWN_MAX)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "--resume: %s is another %s's: its %s is \"%s\", this %s's \"%s\"",
                             r->path, r->noun, name, theirs, r->noun, ours);
    return cim_error_set(err, CIM_ERR_INPUT, "--resume: %s is another %s's: its %s differs",
                         r->path, r->noun, name);
}

int cim_h5_resume_open(cim_h5_resume *r, const char *path, const char *noun, cim_error *err)
{
    hid_t fapl;
    r->file = -1;
    r->path = path;
    r->noun = noun;
    cim_h5_quiet();
    fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0)
        return cim_h5_resume_unreadable(r, "HDF5 failed to start", err);
#if H5_VERSION_GE(1, 10, 7)
    H5Pset_file_locking(fapl, 0, 1);
#endif
    r->file = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl);
    H5Pclose(fapl);
    return r->file < 0 ? cim_h5_resume_unreadable(r, "HDF5 cannot open it", err) : 0;
}

void cim_h5_resume_close(cim_h5_resume *r)
{
    if (r->file >= 0)
        H5Fclose(r->file);
    r->file = -1;
}

int cim_h5_resume_same_string(const cim_h5_resume *r, const char *name, const char *ours,
                              cim_error *err)
{
    char *theirs = NULL;
    int rc = 0;
    if (!ours)
        ours = "";
    if (cim_h5_attr_read_string(r->file, name, &theirs) < 0)
        rc = cim_h5_resume_unreadable(r, name, err);
    else if (strcmp(theirs, ours) != 0)
        rc = differs(r, name, theirs, ours, err);
    free(theirs);
    return rc;
}

int cim_h5_resume_same_number(const cim_h5_resume *r, const char *name, cim_h5_kind kind,
                              const void *ours, cim_error *err)
{
    union {
        int64_t i;
        uint64_t u;
        double d;
    } theirs, mine;
    char a[32], b[32];
    int equal;
    if (cim_h5_attr_read_scalar(r->file, name, cim_h5_mem_type(kind), &theirs) < 0)
        return cim_h5_resume_unreadable(r, name, err);
    memcpy(&mine, ours, kind == CIM_H5_DOUBLE ? sizeof mine.d : sizeof mine.i);
    switch (kind) {
    case CIM_H5_DOUBLE:
        equal = theirs.d == mine.d;
        snprintf(a, sizeof a, "%.17g", theirs.d);
        snprintf(b, sizeof b, "%.17g", mine.d);
        break;
    case CIM_H5_UINT64:
        equal = theirs.u == mine.u;
        snprintf(a, sizeof a, "%llu", (unsigned long long)theirs.u);
        snprintf(b, sizeof b, "%llu", (unsigned long long)mine.u);
        break;
    default:
        equal = theirs.i == mine.i;
        snprintf(a, sizeof a, "%lld", (long long)theirs.i);
        snprintf(b, sizeof b, "%lld", (long long)mine.i);
        break;
    }
    return equal ? 0 : differs(r, name, a, b, err);
}

int cim_h5_resume_counter(const cim_h5_resume *r, int64_t max, int64_t *n, cim_error *err)
{
    hid_t counter = H5Dopen2(r->file, CIM_H5FILE_COUNTER, H5P_DEFAULT);
    herr_t st =
        counter < 0 ? -1 : H5Dread(counter, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, n);
    if (counter >= 0)
        H5Dclose(counter);
    if (st < 0)
        return cim_h5_resume_unreadable(r, CIM_H5FILE_COUNTER, err);
    if (*n < 0 || *n > max)
        return cim_h5_resume_unreadable(r, "trials_written out of range", err);
    return 0;
}

/* The dataset's extent, checked against `want` (each axis; want[0] = 0:
 * at least `min_rows` rows), then the block into buf. */
static int read_block(const cim_h5_resume *r, const char *name, int rank, const hsize_t *want,
                      hsize_t min_rows, const hsize_t *start, const hsize_t *count, hid_t mem_type,
                      void *buf, cim_error *err)
{
    hid_t dset = H5Dopen2(r->file, name, H5P_DEFAULT), space = -1, mem = -1;
    hsize_t dims[2] = {0, 0};
    int ok = dset >= 0 && (space = H5Dget_space(dset)) >= 0 &&
             H5Sget_simple_extent_ndims(space) == rank &&
             H5Sget_simple_extent_dims(space, dims, NULL) == rank && dims[0] >= min_rows &&
             (want[0] == 0 || dims[0] == want[0]) && (rank == 1 || dims[1] == want[1]);
    if (ok && count[0] > 0 && (rank == 1 || count[1] > 0))
        ok = H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
             (mem = H5Screate_simple(rank, count, NULL)) >= 0 &&
             H5Dread(dset, mem_type, mem, space, H5P_DEFAULT, buf) >= 0;
    if (mem >= 0)
        H5Sclose(mem);
    if (space >= 0)
        H5Sclose(space);
    if (dset >= 0)
        H5Dclose(dset);
    return ok ? 0 : cim_h5_resume_unreadable(r, name, err);
}

int cim_h5_resume_read_rows(const cim_h5_resume *r, const char *name, int64_t row, int64_t n,
                            hsize_t inner, hid_t mem_type, void *buf, cim_error *err)
{
    const hsize_t want[2] = {0, inner}, start[2] = {(hsize_t)row, 0},
                  count[2] = {(hsize_t)n, inner};
    return read_block(r, name, inner ? 2 : 1, want, (hsize_t)row + (hsize_t)n, start, count,
                      mem_type, buf, err);
}

int cim_h5_resume_read_block(const cim_h5_resume *r, const char *name, int rank,
                             const hsize_t *dims, const hsize_t *start, const hsize_t *count,
                             hid_t mem_type, void *buf, cim_error *err)
{
    return read_block(r, name, rank, dims, dims[0], start, count, mem_type, buf, err);
}
