/* cim_h5util.c -- the HDF5 plumbing every results file shares; see
 * cim_h5util.h.
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
 * The partial file: the writer creates "R.h5.partial" (HDF5 truncates one
 * left by an earlier crash), closes it when complete, and cim_h5_publish()
 * fsyncs it -- so that the rename never publishes a file whose data is not yet
 * on disk -- and renames it onto R.h5. A reader therefore sees either the old
 * R.h5 or a complete new one.
 */
#include "cim_h5util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static herr_t keep_innermost(unsigned n, const H5E_error2_t *e, void *data)
{
    if (n == 0 && e->desc)
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

/* ---- attributes ------------------------------------------------------ */

herr_t cim_h5_attr_write(hid_t loc, const char *name, hid_t file_type, hid_t mem_type,
                         const void *value)
{
    hid_t space = H5Screate(H5S_SCALAR), attr = -1;
    herr_t st = -1;
    if (space < 0)
        goto done;
    attr = H5Acreate2(loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr < 0)
        goto done;
    st = H5Awrite(attr, mem_type, value);
done:
    if (attr >= 0 && H5Aclose(attr) < 0)
        st = -1;
    if (space >= 0)
        H5Sclose(space);
    return st;
}

herr_t cim_h5_attr_string(hid_t loc, const char *name, const char *value)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    herr_t st = -1;
    if (type < 0)
        return -1;
    if (H5Tset_size(type, H5T_VARIABLE) >= 0 && H5Tset_cset(type, H5T_CSET_UTF8) >= 0)
        st = cim_h5_attr_write(loc, name, type, type, &value);
    H5Tclose(type);
    return st;
}

herr_t cim_h5_attr_int32(hid_t loc, const char *name, int32_t value)
{
    return cim_h5_attr_write(loc, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &value);
}

herr_t cim_h5_attr_int64(hid_t loc, const char *name, int64_t value)
{
    return cim_h5_attr_write(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

herr_t cim_h5_attr_uint64(hid_t loc, const char *name, uint64_t value)
{
    return cim_h5_attr_write(loc, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &value);
}

herr_t cim_h5_attr_double(hid_t loc, const char *name, double value)
{
    return cim_h5_attr_write(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
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

herr_t cim_h5_write_trials(hid_t dset, hsize_t t0, hsize_t n, hid_t mem_type, const void *buf)
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

/* ---- the partial-file life cycle ------------------------------------- */

char *cim_h5_concat(const char *path, const char *suffix)
{
    size_t a = strlen(path), b = strlen(suffix);
    char *d = malloc(a + b + 1);
    if (d) {
        memcpy(d, path, a);
        memcpy(d + a, suffix, b + 1);
    }
    return d;
}

int cim_h5_prepare_partial(const char *path, const char *partial, cim_error *err)
{
    struct stat st;
    FILE *f;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return cim_error_set(err, CIM_ERR_USAGE, "--out %s: is a directory", path);
    f = fopen(partial, "wb");
    if (!f)
        return cim_error_set(err, CIM_ERR_IO, "%s: cannot create %s: %s", path, partial,
                             strerror(errno));
    fclose(f);
    return 0;
}

hid_t cim_h5_create_file(const char *partial)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), file;
    if (fapl < 0)
        return -1;
#if H5_VERSION_GE(1, 10, 7)
    H5Pset_file_locking(fapl, 1, 1);
#endif
    file = H5Fcreate(partial, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    return file;
}

/* 0 or an errno. File systems that cannot sync (EINVAL) are accepted. */
static int sync_file(const char *name)
{
    int fd = open(name, O_RDONLY), rc = 0;
    if (fd < 0)
        return errno;
    if (fsync(fd) != 0 && errno != EINVAL)
        rc = errno;
    close(fd);
    return rc;
}

int cim_h5_publish(const char *path, const char *partial, cim_error *err)
{
    int sync_errno = sync_file(partial);
    if (sync_errno != 0)
        return cim_error_set(err, CIM_ERR_IO, "%s: cannot sync %s: %s", path, partial,
                             strerror(sync_errno));
    if (rename(partial, path) != 0)
        return cim_error_set(err, CIM_ERR_IO, "%s: cannot rename %s onto it: %s", path, partial,
                             strerror(errno));
    return 0;
}
