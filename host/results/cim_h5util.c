/* cim_h5util.c -- the HDF5 primitives every results file shares; see
 * cim_h5util.h. The partial-file life cycle built on them is cim_h5file.c.
 *
 * Errors: HDF5 reports through its own error stack. Automatic printing is
 * turned off (cim_h5_quiet) and cim_h5_fail() appends the innermost
 * description -- the one nearest the cause, e.g. "unable to open file" -- to
 * our one-line CIM_ERR_IO message, which always names the target file.
 *
 * Chunks: per-trial datasets are chunked along whole trials. A trial of
 * CHUNK_MIN_BYTES or more is one chunk (a chunk never spans two trials), its
 * inner axes cut, outer first, only if it would exceed CHUNK_MAX_BYTES.
 * Smaller trials are grouped, as many as fit in CHUNK_MIN_BYTES: one chunk
 * per trial of a few hundred bytes would cost HDF5 an index entry and a
 * deflate stream each (measured: 2x the time, 3x the file size and a
 * per-chunk memory overhead of gigabytes at 200 000 trials of 6 x 12), while
 * loading one trial still reads at most CHUNK_MIN_BYTES. Datasets of
 * DEFLATE_MIN_BYTES or more get the shuffle and deflate filters (both built
 * into every HDF5 reader). An extendible dataset is chunked for the trial
 * count its writer expects, starts empty and grows with each batch written.
 *
 * Every id opened here is closed here, on every path; the heap holds only
 * the strings cim_h5_attr_read_string() hands to its caller.
 */
#include "cim_h5util.h"

#include <math.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_MIN_BYTES ((hsize_t)64 << 10)
#define CHUNK_MAX_BYTES ((hsize_t)16 << 20)
#define DEFLATE_MIN_BYTES ((hsize_t)64 << 10)
#define DEFLATE_LEVEL 4
#define HDF5_DETAIL_MAX 200

/* ---- errors ---------------------------------------------------------- */

void cim_h5_quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/* The innermost message; the file drivers' long "file write failed: time =
 * ..., errno = 28, error message = 'No space left on device', buf = ..." is
 * cut to "file write failed: No space left on device". */
static herr_t keep_innermost(unsigned n, const H5E_error2_t *e, void *data)
{
    static const char marker[] = "error message = '";
    const char *reason, *colon, *end;
    if (n != 0 || !e->desc)
        return 0;
    reason = strstr(e->desc, marker);
    colon = strchr(e->desc, ':');
    if (reason && colon && colon < reason && (end = strchr(reason + sizeof marker - 1, '\'')))
        snprintf((char *)data, HDF5_DETAIL_MAX, "%.*s: %.*s", (int)(colon - e->desc), e->desc,
                 (int)(end - (reason + sizeof marker - 1)), reason + sizeof marker - 1);
    else
        snprintf((char *)data, HDF5_DETAIL_MAX, "%s", e->desc);
    return 0;
}

int cim_h5_fail(cim_error *err, const char *path, const char *what)
{
    char detail[HDF5_DETAIL_MAX] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, detail);
    for (char *c = detail; *c; ++c)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    return cim_error_set(err, CIM_ERR_IO, "%s: HDF5 failed to %s%s%s", path, what,
                         detail[0] ? ": " : "", detail);
}

/* ---- named values ---------------------------------------------------- */

hid_t cim_h5_file_type(cim_h5_kind kind)
{
    switch (kind) {
    case CIM_H5_INT32:
        return H5T_STD_I32LE;
    case CIM_H5_INT64:
        return H5T_STD_I64LE;
    case CIM_H5_UINT64:
        return H5T_STD_U64LE;
    case CIM_H5_DOUBLE:
    case CIM_H5_DOUBLES:
        return H5T_IEEE_F64LE;
    case CIM_H5_STRING:
    case CIM_H5_STRINGS:
        break;
    }
    return -1;
}

hid_t cim_h5_mem_type(cim_h5_kind kind)
{
    switch (kind) {
    case CIM_H5_INT32:
        return H5T_NATIVE_INT32;
    case CIM_H5_INT64:
        return H5T_NATIVE_INT64;
    case CIM_H5_UINT64:
        return H5T_NATIVE_UINT64;
    case CIM_H5_DOUBLE:
    case CIM_H5_DOUBLES:
        return H5T_NATIVE_DOUBLE;
    case CIM_H5_STRING:
    case CIM_H5_STRINGS:
        break;
    }
    return -1;
}

herr_t cim_h5_attr_write(hid_t loc, const cim_h5_value *v)
{
    const int is_string = v->kind == CIM_H5_STRING || v->kind == CIM_H5_STRINGS;
    const char *text = v->kind == CIM_H5_STRING && v->value ? v->value : "";
    const void *data = v->kind == CIM_H5_STRING ? (const void *)&text : v->value;
    hid_t type = is_string ? H5Tcopy(H5T_C_S1) : cim_h5_file_type(v->kind);
    hid_t space = -1, attr = -1;
    herr_t st = -1;
    if (type < 0)
        return -1;
    if (is_string && (H5Tset_size(type, H5T_VARIABLE) < 0 || H5Tset_cset(type, H5T_CSET_UTF8) < 0))
        goto done;
    space = v->kind == CIM_H5_STRINGS || v->kind == CIM_H5_DOUBLES
                ? H5Screate_simple(1, &v->count, NULL)
                : H5Screate(H5S_SCALAR);
    if (space < 0)
        goto done;
    attr = H5Acreate2(loc, v->name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr >= 0)
        st = H5Awrite(attr, is_string ? type : cim_h5_mem_type(v->kind), data);
done:
    if (attr >= 0 && H5Aclose(attr) < 0)
        st = -1;
    if (space >= 0)
        H5Sclose(space);
    if (is_string)
        H5Tclose(type);
    return st;
}

herr_t cim_h5_attr_read_string(hid_t loc, const char *name, char **out)
{
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT), ftype = -1, mtype = -1;
    herr_t st = -1;
    *out = NULL;
    if (attr < 0)
        return -1;
    ftype = H5Aget_type(attr);
    if (ftype < 0 || H5Tget_class(ftype) != H5T_STRING || (mtype = H5Tcopy(H5T_C_S1)) < 0)
        goto done;
    if (H5Tis_variable_str(ftype) > 0) {
        char *text = NULL;
        if (H5Tset_size(mtype, H5T_VARIABLE) >= 0 && H5Tset_cset(mtype, H5Tget_cset(ftype)) >= 0 &&
            H5Aread(attr, mtype, &text) >= 0 && text) {
            size_t n = strlen(text) + 1;
            if ((*out = malloc(n)) != NULL) {
                memcpy(*out, text, n);
                st = 0;
            }
            H5free_memory(text);
        }
    } else {
        size_t n = H5Tget_size(ftype);
        if (n > 0 && n < ((size_t)1 << 26) && H5Tset_size(mtype, n + 1) >= 0 &&
            (*out = calloc(n + 1, 1)) != NULL) {
            if (H5Aread(attr, mtype, *out) >= 0)
                st = 0;
            else {
                free(*out);
                *out = NULL;
            }
        }
    }
done:
    if (mtype >= 0)
        H5Tclose(mtype);
    if (ftype >= 0)
        H5Tclose(ftype);
    H5Aclose(attr);
    return st;
}

herr_t cim_h5_attr_read_scalar(hid_t loc, const char *name, hid_t mem_type, void *value)
{
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT), space = -1;
    herr_t st = -1;
    if (attr < 0)
        return -1;
    space = H5Aget_space(attr);
    if (space >= 0 && H5Sget_simple_extent_npoints(space) == 1)
        st = H5Aread(attr, mem_type, value);
    if (space >= 0)
        H5Sclose(space);
    H5Aclose(attr);
    return st;
}

/* ---- datasets -------------------------------------------------------- */

/* Chunk shape: per-trial data in whole trials, as many as fit in
 * CHUNK_MIN_BYTES (at least one); then outer axes cut first so that a chunk
 * stays within CHUNK_MAX_BYTES. */
static void chunk_shape(int rank, const hsize_t *dims, size_t elem, int per_trial, hsize_t *chunk)
{
    hsize_t trial_bytes = elem;
    for (int a = 0; a < rank; ++a)
        chunk[a] = dims[a];
    for (int a = 1; a < rank; ++a)
        trial_bytes *= dims[a];
    if (per_trial) {
        chunk[0] = CHUNK_MIN_BYTES / trial_bytes;
        if (chunk[0] < 1)
            chunk[0] = 1;
        if (chunk[0] > dims[0])
            chunk[0] = dims[0];
    }
    for (int a = 0; a < rank; ++a) {
        hsize_t rest = elem, fit;
        for (int b = a + 1; b < rank; ++b)
            rest *= chunk[b];
        fit = CHUNK_MAX_BYTES / rest;
        if (fit < 1)
            fit = 1;
        if (chunk[a] > fit)
            chunk[a] = fit;
    }
}

hid_t cim_h5_create_dataset(hid_t loc, const char *name, hid_t file_type, int rank,
                            const hsize_t *dims, unsigned flags)
{
    const int per_trial = (flags & CIM_H5_PER_TRIAL) != 0;
    const int extendible = per_trial && (flags & CIM_H5_EXTENDIBLE) != 0;
    size_t elem = H5Tget_size(file_type);
    hsize_t total = elem, chunk[CIM_H5_MAX_RANK], now[CIM_H5_MAX_RANK], max[CIM_H5_MAX_RANK];
    hid_t space = -1, dcpl = -1, dset = -1;
    if (rank < 1 || rank > CIM_H5_MAX_RANK || elem == 0)
        return -1;
    for (int a = 0; a < rank; ++a) {
        total *= dims[a];
        now[a] = max[a] = dims[a];
    }
    if (extendible) {
        now[0] = 0;
        max[0] = H5S_UNLIMITED;
    }
    space = H5Screate_simple(rank, now, max);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (space < 0 || dcpl < 0)
        goto done;
    if (flags & CIM_H5_FILL_NAN) {
        const double nan = NAN;
        if (H5Pset_fill_value(dcpl, H5T_NATIVE_DOUBLE, &nan) < 0)
            goto done;
    }
    if (per_trial || total >= DEFLATE_MIN_BYTES) {
        chunk_shape(rank, dims, elem, per_trial, chunk);
        if (H5Pset_chunk(dcpl, rank, chunk) < 0)
            goto done;
        if (total >= DEFLATE_MIN_BYTES && H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0 &&
            (H5Pset_shuffle(dcpl) < 0 || H5Pset_deflate(dcpl, DEFLATE_LEVEL) < 0))
            goto done;
    }
    dset = H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
done:
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    return dset;
}

herr_t cim_h5_write_trials(hid_t dset, hsize_t t0, hsize_t n, hid_t mem_type, const void *buf,
                           int extend)
{
    hsize_t dims[CIM_H5_MAX_RANK], start[CIM_H5_MAX_RANK] = {0};
    hid_t fspace = H5Dget_space(dset), mspace = -1;
    herr_t st = -1;
    int rank;
    if (fspace < 0)
        return -1;
    rank = H5Sget_simple_extent_ndims(fspace);
    if (rank < 1 || rank > CIM_H5_MAX_RANK || H5Sget_simple_extent_dims(fspace, dims, NULL) < 0)
        goto done;
    if (extend) {
        dims[0] = t0 + n;
        H5Sclose(fspace);
        if (H5Dset_extent(dset, dims) < 0 || (fspace = H5Dget_space(dset)) < 0)
            return -1;
    }
    start[0] = t0;
    dims[0] = n;
    mspace = H5Screate_simple(rank, dims, NULL);
    if (mspace < 0 || H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, dims, NULL) < 0)
        goto done;
    st = H5Dwrite(dset, mem_type, mspace, fspace, H5P_DEFAULT, buf);
done:
    if (mspace >= 0)
        H5Sclose(mspace);
    H5Sclose(fspace);
    return st;
}
