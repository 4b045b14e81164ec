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
 * Chunks, filters, error messages and the partial-file protocol are those
 * of every cimgpu results file (cim_h5util.c): per-trial datasets are chunked
 * along whole trials, large ones deflate-compressed; strings are
 * variable-length UTF-8 scalars, which h5py returns as str; every failure is
 * one CIM_ERR_IO line naming the target file.
 */
#include "h5_mvm.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>

#include "cim_h5util.h"

enum { DS_RESULTS, DS_CURRENT, DS_ADC, DS_COUNT };

struct cim_h5_mvm {
    char *path;
    char *partial;
    hid_t file;
    hid_t dset[DS_COUNT];
    int64_t n_trials;
    int64_t written; /* trials 0 .. written-1 are in the file */
};

static int write_root_attributes(hid_t file, const cim_h5_mvm_spec *s, cim_error *err)
{
    const cim_provenance *p = s->prov;
    const char *failed = NULL;
    if (cim_h5_attr_string(file, "format", CIM_H5_MVM_FORMAT) < 0)
        failed = "format";
    else if (cim_h5_attr_int32(file, "format_version", CIM_H5_MVM_FORMAT_VERSION) < 0)
        failed = "format_version";
    else if (cim_h5_attr_string(file, "tool_version", p->tool_version) < 0)
        failed = "tool_version";
    else if (cim_h5_attr_string(file, "git_revision", p->git_revision) < 0)
        failed = "git_revision";
    else if (cim_h5_attr_string(file, "command_line", p->command_line) < 0)
        failed = "command_line";
    else if (cim_h5_attr_uint64(file, "seed", s->seed) < 0)
        failed = "seed";
    else if (cim_h5_attr_string(file, "device", p->device) < 0)
        failed = "device";
    else if (cim_h5_attr_string(file, "config_json", s->config_json ? s->config_json : "") < 0)
        failed = "config_json";
    else if (cim_h5_attr_string(file, "created", p->created) < 0)
        failed = "created";
    else if (cim_h5_attr_string(file, "mapping", s->mapping) < 0)
        failed = "mapping";
    else if (cim_h5_attr_string(file, "current_unit", s->digital ? "LRS cells" : "nA") < 0)
        failed = "current_unit";
    if (failed) {
        char what[64];
        snprintf(what, sizeof what, "write the root attribute \"%s\"", failed);
        return cim_h5_fail(err, s->path, what);
    }
    return 0;
}

/* ---- datasets -------------------------------------------------------- */

/* Writes a whole small dataset (weights, inputs) in one go. */
static int write_matrix(hid_t file, const char *path, const char *name, const int8_t *data,
                        hsize_t rows, hsize_t cols, cim_error *err)
{
    hsize_t dims[2] = {rows, cols};
    hid_t dset = cim_h5_create_dataset(file, name, H5T_STD_I8LE, 2, dims, 0);
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
    return cim_h5_fail(err, path, what);
}

static int create_per_trial(cim_h5_mvm *h, const cim_h5_mvm_spec *s, cim_error *err)
{
    const hsize_t results_dims[3] = {(hsize_t)s->n_trials, (hsize_t)s->n_inputs, (hsize_t)s->rows};
    const hsize_t trace_dims[5] = {(hsize_t)s->n_trials, (hsize_t)s->n_inputs, (hsize_t)s->tiles_n,
                                   (hsize_t)s->n_convs, (hsize_t)s->rows};
    const char *trace_axes = "trial,input,input_tile,conversion,output";
    const char *failed = NULL;

    h->dset[DS_RESULTS] =
        cim_h5_create_dataset(h->file, "results", H5T_STD_I32LE, 3, results_dims, CIM_H5_PER_TRIAL);
    if (h->dset[DS_RESULTS] < 0 ||
        cim_h5_attr_string(h->dset[DS_RESULTS], "dims", "trial,input,output") < 0)
        failed = "create the dataset \"results\"";
    if (!failed && s->trace) {
        h->dset[DS_CURRENT] = cim_h5_create_dataset(h->file, "column_current", H5T_STD_I32LE, 5,
                                                    trace_dims, CIM_H5_PER_TRIAL);
        if (h->dset[DS_CURRENT] < 0 ||
            cim_h5_attr_string(h->dset[DS_CURRENT], "unit", s->digital ? "LRS cells" : "nA") < 0 ||
            cim_h5_attr_string(h->dset[DS_CURRENT], "dims", trace_axes) < 0)
            failed = "create the dataset \"column_current\"";
    }
    if (!failed && s->trace) {
        h->dset[DS_ADC] = cim_h5_create_dataset(h->file, "adc_output", H5T_STD_I64LE, 5, trace_dims,
                                                CIM_H5_PER_TRIAL);
        if (h->dset[DS_ADC] < 0 || cim_h5_attr_string(h->dset[DS_ADC], "dims", trace_axes) < 0 ||
            cim_h5_attr_string(
                h->dset[DS_ADC], "description",
                "A(J,k,o) of SEMANTICS.md for each conversion: the output of a finite "
                "ADC; with INF_ADC the exact value J*k/Delta rounded half away from "
                "zero; in digital mode k times the column current") < 0)
            failed = "create the dataset \"adc_output\"";
    }
    return failed ? cim_h5_fail(err, s->path, failed) : 0;
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

int cim_h5_mvm_create(const cim_h5_mvm_spec *s, cim_h5_mvm **out, cim_error *err)
{
    cim_h5_mvm *h = calloc(1, sizeof *h);
    int rc = 0;
    *out = NULL;
    cim_h5_quiet();
    if (!h)
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", s->path);
    h->file = -1;
    for (int d = 0; d < DS_COUNT; ++d)
        h->dset[d] = -1;
    h->n_trials = s->n_trials;
    h->path = cim_h5_concat(s->path, "");
    h->partial = cim_h5_concat(s->path, CIM_H5_PARTIAL_SUFFIX);
    if (!h->path || !h->partial) {
        free_handle(h);
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", s->path);
    }
    if ((rc = cim_h5_prepare_partial(s->path, h->partial, err)) != 0)
        goto fail;
    h->file = cim_h5_create_file(h->partial);
    if (h->file < 0) {
        rc = cim_h5_fail(err, s->path, "create the file");
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
    if (cim_h5_write_trials(h->dset[DS_RESULTS], t0, n, H5T_NATIVE_INT32, results) < 0)
        return cim_h5_fail(err, h->path, "write the dataset \"results\"");
    if (h->dset[DS_CURRENT] >= 0 && trace && trace->current &&
        cim_h5_write_trials(h->dset[DS_CURRENT], t0, n, H5T_NATIVE_INT32, trace->current) < 0)
        return cim_h5_fail(err, h->path, "write the dataset \"column_current\"");
    if (h->dset[DS_ADC] >= 0 && trace && trace->adc &&
        cim_h5_write_trials(h->dset[DS_ADC], t0, n, H5T_NATIVE_INT64, trace->adc) < 0)
        return cim_h5_fail(err, h->path, "write the dataset \"adc_output\"");
    h->written += n_trials;
    return 0;
}

int cim_h5_mvm_finish(cim_h5_mvm *h, cim_error *err)
{
    int rc = 0;
    if (h->written != h->n_trials)
        rc = cim_error_set(err, CIM_ERR_IO, "%s: internal error: %lld of %lld trials written",
                           h->path, (long long)h->written, (long long)h->n_trials);
    else if (H5Fflush(h->file, H5F_SCOPE_GLOBAL) < 0)
        rc = cim_h5_fail(err, h->path, "flush the file");
    else if (close_all(h) != 0)
        rc = cim_h5_fail(err, h->path, "close the file");
    else
        rc = cim_h5_publish(h->path, h->partial, err);
    if (rc != 0) {
        cim_h5_mvm_discard(h);
        return rc;
    }
    free_handle(h);
    return 0;
}
