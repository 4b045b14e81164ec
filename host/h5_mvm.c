/* h5_mvm.c -- writes the `cimgpu mvm --out` results file; see h5_mvm.h for
 * the layout.
 *
 * Life of a file: cim_h5_mvm_create() makes "R.h5.partial" (HDF5 truncates a
 * partial file left by an earlier crash), writes the root attributes, the
 * weights and the inputs, and creates the per-trial datasets at their full
 * size (the trial count is known up front). cim_h5_mvm_write() then fills
 * them one block of trials at a time, by hyperslab, strictly in trial order,
 * so the number of trials written is the only state needed to know the file
 * is complete. cim_h5_mvm_finish() flushes, closes, fsyncs and renames;
 * every failure path goes through discard(), which closes what is open and
 * removes the partial file. A reader therefore sees either the old R.h5 or
 * a complete new one, never a half-written file under the final name.
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
 * into every HDF5 reader). Strings are variable-length UTF-8 scalars, which
 * h5py returns as str.
 *
 * HDF5 reports errors through its own error stack; automatic printing is
 * turned off and the innermost description is appended to our one-line
 * CIM_ERR_IO message, which always names the target file.
 */
#include "h5_mvm.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PARTIAL_SUFFIX ".partial"
#define CHUNK_MIN_BYTES ((hsize_t)64 << 10)
#define CHUNK_MAX_BYTES ((hsize_t)16 << 20)
#define DEFLATE_MIN_BYTES ((hsize_t)64 << 10)
#define DEFLATE_LEVEL 4
#define MAX_RANK 5
#define HDF5_DETAIL_MAX 200

enum { DS_RESULTS, DS_CURRENT, DS_ADC, DS_COUNT };

struct cim_h5_mvm {
    char *path;
    char *partial;
    hid_t file;
    hid_t dset[DS_COUNT];
    int64_t n_trials;
    int64_t written; /* trials 0 .. written-1 are in the file */
};

/* ---- errors ---------------------------------------------------------- */

static herr_t keep_innermost(unsigned n, const H5E_error2_t *e, void *data)
{
    if (n == 0 && e->desc)
        snprintf((char *)data, HDF5_DETAIL_MAX, "%s", e->desc);
    return 0;
}

static int h5_fail(cim_error *err, const char *path, const char *what)
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

static herr_t attr_write(hid_t loc, const char *name, hid_t file_type, hid_t mem_type,
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

static herr_t attr_string(hid_t loc, const char *name, const char *value)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    herr_t st = -1;
    if (type < 0)
        return -1;
    if (H5Tset_size(type, H5T_VARIABLE) >= 0 && H5Tset_cset(type, H5T_CSET_UTF8) >= 0)
        st = attr_write(loc, name, type, type, &value);
    H5Tclose(type);
    return st;
}

static herr_t attr_int32(hid_t loc, const char *name, int32_t value)
{
    return attr_write(loc, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &value);
}

static herr_t attr_uint64(hid_t loc, const char *name, uint64_t value)
{
    return attr_write(loc, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &value);
}

static int write_root_attributes(hid_t file, const cim_h5_mvm_spec *s, cim_error *err)
{
    const cim_provenance *p = s->prov;
    const char *failed = NULL;
    if (attr_string(file, "format", CIM_H5_MVM_FORMAT) < 0)
        failed = "format";
    else if (attr_int32(file, "format_version", CIM_H5_MVM_FORMAT_VERSION) < 0)
        failed = "format_version";
    else if (attr_string(file, "tool_version", p->tool_version) < 0)
        failed = "tool_version";
    else if (attr_string(file, "git_revision", p->git_revision) < 0)
        failed = "git_revision";
    else if (attr_string(file, "command_line", p->command_line) < 0)
        failed = "command_line";
    else if (attr_uint64(file, "seed", s->seed) < 0)
        failed = "seed";
    else if (attr_string(file, "device", p->device) < 0)
        failed = "device";
    else if (attr_string(file, "config_json", s->config_json ? s->config_json : "") < 0)
        failed = "config_json";
    else if (attr_string(file, "created", p->created) < 0)
        failed = "created";
    else if (attr_string(file, "mapping", s->mapping) < 0)
        failed = "mapping";
    else if (attr_string(file, "current_unit", s->digital ? "LRS cells" : "nA") < 0)
        failed = "current_unit";
    if (failed) {
        char what[64];
        snprintf(what, sizeof what, "write the root attribute \"%s\"", failed);
        return h5_fail(err, s->path, what);
    }
    return 0;
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

static hid_t create_dataset(hid_t file, const char *name, hid_t file_type, int rank,
                            const hsize_t *dims, int per_trial)
{
    size_t elem = H5Tget_size(file_type);
    hsize_t total = elem, chunk[MAX_RANK];
    hid_t space = -1, dcpl = -1, dset = -1;
    for (int a = 0; a < rank; ++a)
        total *= dims[a];
    space = H5Screate_simple(rank, dims, NULL);
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
    dset = H5Dcreate2(file, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
done:
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    return dset;
}

/* Writes a whole small dataset (weights, inputs) in one go. */
static int write_matrix(hid_t file, const char *path, const char *name, const int8_t *data,
                        hsize_t rows, hsize_t cols, cim_error *err)
{
    hsize_t dims[2] = {rows, cols};
    hid_t dset = create_dataset(file, name, H5T_STD_I8LE, 2, dims, 0);
    herr_t st = -1;
    char what[64];
    if (dset >= 0) {
        st = H5Dwrite(dset, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
        if (H5Dclose(dset) < 0)
            st = -1;
    }
    if (st >= 0)
        return 0;
    snprintf(what, sizeof what, "write the dataset \"%s\"", name);
    return h5_fail(err, path, what);
}

static int create_per_trial(cim_h5_mvm *h, const cim_h5_mvm_spec *s, cim_error *err)
{
    const hsize_t results_dims[3] = {(hsize_t)s->n_trials, (hsize_t)s->n_inputs, (hsize_t)s->rows};
    const hsize_t trace_dims[5] = {(hsize_t)s->n_trials, (hsize_t)s->n_inputs, (hsize_t)s->tiles_n,
                                   (hsize_t)s->n_convs, (hsize_t)s->rows};
    const char *trace_axes = "trial,input,input_tile,conversion,output";
    const char *failed = NULL;

    h->dset[DS_RESULTS] = create_dataset(h->file, "results", H5T_STD_I32LE, 3, results_dims, 1);
    if (h->dset[DS_RESULTS] < 0 ||
        attr_string(h->dset[DS_RESULTS], "dims", "trial,input,output") < 0)
        failed = "create the dataset \"results\"";
    if (!failed && s->trace) {
        h->dset[DS_CURRENT] =
            create_dataset(h->file, "column_current", H5T_STD_I32LE, 5, trace_dims, 1);
        if (h->dset[DS_CURRENT] < 0 ||
            attr_string(h->dset[DS_CURRENT], "unit", s->digital ? "LRS cells" : "nA") < 0 ||
            attr_string(h->dset[DS_CURRENT], "dims", trace_axes) < 0)
            failed = "create the dataset \"column_current\"";
    }
    if (!failed && s->trace) {
        h->dset[DS_ADC] = create_dataset(h->file, "adc_output", H5T_STD_I64LE, 5, trace_dims, 1);
        if (h->dset[DS_ADC] < 0 || attr_string(h->dset[DS_ADC], "dims", trace_axes) < 0 ||
            attr_string(h->dset[DS_ADC], "description",
                        "A(J,k,o) of SEMANTICS.md for each conversion: the output of a finite "
                        "ADC; with INF_ADC the exact value J*k/Delta rounded half away from "
                        "zero; in digital mode k times the column current") < 0)
            failed = "create the dataset \"adc_output\"";
    }
    return failed ? h5_fail(err, s->path, failed) : 0;
}

/* Writes n trials starting at t0 into a per-trial dataset. */
static herr_t write_trials(hid_t dset, hsize_t t0, hsize_t n, hid_t mem_type, const void *buf)
{
    hsize_t dims[MAX_RANK], start[MAX_RANK] = {0};
    hid_t fspace = H5Dget_space(dset), mspace = -1;
    herr_t st = -1;
    int rank;
    if (fspace < 0)
        return -1;
    rank = H5Sget_simple_extent_dims(fspace, dims, NULL);
    if (rank < 1 || rank > MAX_RANK)
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

/* ---- life cycle ------------------------------------------------------ */

/* Closes every open id; -1 if any close failed. */
static int close_all(cim_h5_mvm *h)
{
    int rc = 0;
    for (int d = 0; d < DS_COUNT; ++d) {
        if (h->dset[d] >= 0 && H5Dclose(h->dset[d]) < 0)
            rc = -1;
        h->dset[d] = -1;
    }
    if (h->file >= 0 && H5Fclose(h->file) < 0)
        rc = -1;
    h->file = -1;
    return rc;
}

static void free_handle(cim_h5_mvm *h)
{
    free(h->path);
    free(h->partial);
    free(h);
}

const char *cim_h5_mvm_partial_path(const cim_h5_mvm *h)
{
    return h->partial;
}

void cim_h5_mvm_discard(cim_h5_mvm *h)
{
    if (!h)
        return;
    close_all(h);
    remove(h->partial);
    free_handle(h);
}

static char *dup_string(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    char *d = malloc(a + b + 1);
    if (d) {
        memcpy(d, s, a);
        memcpy(d + a, suffix, b + 1);
    }
    return d;
}

/* Fails early, with the system's words, where the partial file cannot be made
 * or the target could never be replaced by it. */
static int check_target(const char *path, const char *partial, cim_error *err)
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

static hid_t create_file(const char *partial)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), file;
    if (fapl < 0)
        return -1;
#if H5_VERSION_GE(1, 10, 7)
    /* Lock where the file system can, carry on where it cannot (NFS, some
     * container mounts) instead of failing. */
    H5Pset_file_locking(fapl, 1, 1);
#endif
    file = H5Fcreate(partial, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    return file;
}

int cim_h5_mvm_create(const cim_h5_mvm_spec *s, cim_h5_mvm **out, cim_error *err)
{
    cim_h5_mvm *h = calloc(1, sizeof *h);
    int rc = 0;
    *out = NULL;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (!h)
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", s->path);
    h->file = -1;
    for (int d = 0; d < DS_COUNT; ++d)
        h->dset[d] = -1;
    h->n_trials = s->n_trials;
    h->path = dup_string(s->path, "");
    h->partial = dup_string(s->path, PARTIAL_SUFFIX);
    if (!h->path || !h->partial) {
        free_handle(h);
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", s->path);
    }
    if ((rc = check_target(s->path, h->partial, err)) != 0)
        goto fail;
    h->file = create_file(h->partial);
    if (h->file < 0) {
        rc = h5_fail(err, s->path, "create the file");
        goto fail;
    }
    if ((rc = write_root_attributes(h->file, s, err)) != 0 ||
        (rc = write_matrix(h->file, s->path, "weights", s->weights, (hsize_t)s->rows,
                           (hsize_t)s->cols, err)) != 0 ||
        (rc = write_matrix(h->file, s->path, "inputs", s->inputs, (hsize_t)s->n_inputs,
                           (hsize_t)s->cols, err)) != 0 ||
        (rc = create_per_trial(h, s, err)) != 0)
        goto fail;
    *out = h;
    return 0;
fail:
    cim_h5_mvm_discard(h);
    return rc;
}

int cim_h5_mvm_write(cim_h5_mvm *h, int64_t trial_first, int32_t n_trials, const int32_t *results,
                     const cim_mvm_trace *trace, cim_error *err)
{
    const hsize_t t0 = (hsize_t)trial_first, n = (hsize_t)n_trials;
    if (trial_first != h->written || n_trials < 1 || trial_first + n_trials > h->n_trials)
        return cim_error_set(err, CIM_ERR_IO,
                             "%s: internal error: trials %lld..%lld written out of order", h->path,
                             (long long)trial_first, (long long)trial_first + n_trials - 1);
    if (write_trials(h->dset[DS_RESULTS], t0, n, H5T_NATIVE_INT32, results) < 0)
        return h5_fail(err, h->path, "write the dataset \"results\"");
    if (h->dset[DS_CURRENT] >= 0 && trace && trace->current &&
        write_trials(h->dset[DS_CURRENT], t0, n, H5T_NATIVE_INT32, trace->current) < 0)
        return h5_fail(err, h->path, "write the dataset \"column_current\"");
    if (h->dset[DS_ADC] >= 0 && trace && trace->adc &&
        write_trials(h->dset[DS_ADC], t0, n, H5T_NATIVE_INT64, trace->adc) < 0)
        return h5_fail(err, h->path, "write the dataset \"adc_output\"");
    h->written += n_trials;
    return 0;
}

/* fsync, so that the rename never publishes a file whose data is not yet on
 * disk. File systems that cannot sync (EINVAL) are accepted. 0 or an errno. */
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

int cim_h5_mvm_finish(cim_h5_mvm *h, cim_error *err)
{
    int rc = 0, sync_errno = 0;
    if (h->written != h->n_trials)
        rc = cim_error_set(err, CIM_ERR_IO, "%s: internal error: %lld of %lld trials written",
                           h->path, (long long)h->written, (long long)h->n_trials);
    else if (H5Fflush(h->file, H5F_SCOPE_GLOBAL) < 0)
        rc = h5_fail(err, h->path, "flush the file");
    else if (close_all(h) != 0)
        rc = h5_fail(err, h->path, "close the file");
    else if ((sync_errno = sync_file(h->partial)) != 0)
        rc = cim_error_set(err, CIM_ERR_IO, "%s: cannot sync %s: %s", h->path, h->partial,
                           strerror(sync_errno));
    else if (rename(h->partial, h->path) != 0)
        rc = cim_error_set(err, CIM_ERR_IO, "%s: cannot rename %s onto it: %s", h->path, h->partial,
                           strerror(errno));
    if (rc != 0) {
        cim_h5_mvm_discard(h);
        return rc;
    }
    free_handle(h);
    return 0;
}
