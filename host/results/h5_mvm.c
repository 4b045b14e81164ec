/* h5_mvm.c -- writes the `cimgpu mvm --out` results file; see h5_mvm.h for
 * the layout, cim_h5file.h for the life cycle (partial file, provenance,
 * append, finish, discard) it shares with every results file.
 *
 * What is left here is the layout: after the common root attributes,
 * cim_h5_mvm_create() writes mapping, current_unit and the C2C model with
 * its bounds, the weights and the
 * inputs whole, and creates the per-trial datasets at their full size (the
 * trial count is known up front). cim_h5_mvm_write() then fills them one
 * block of trials at a time, strictly in trial order; cim_h5_mvm_finish()
 * publishes. The handle owns its cim_h5file; discard releases both.
 */
#include "h5_mvm.h"

#include <hdf5.h>
#include <stdlib.h>

#include "cim_h5file.h"
#include "h5_profile.h"

enum { DS_RESULTS, DS_CURRENT, DS_ADC, DS_COUNT };

struct cim_h5_mvm {
    cim_h5file *file;
    int slot[DS_COUNT]; /* -1: not in this file (no --trace) */
    cim_h5_profile *profile;
};

#define TRACE_AXES "trial,input,input_tile,conversion,output"
#define ADC_DESCRIPTION                                                                            \
    "A(J,k,o) of docs/semantics.md for each conversion: the output of a finite "                   \
    "ADC; with INF_ADC the exact value J*k/Delta rounded half away from "                          \
    "zero; in digital mode k times the column current"

static int create_layout(cim_h5_mvm *h, const cim_h5_mvm_spec *s, cim_error *err)
{
    cim_h5file *f = h->file;
    const hid_t root = cim_h5file_root(f);
    const char *unit = s->digital ? "LRS cells" : "nA";
    const hsize_t weight_dims[2] = {(hsize_t)s->rows, (hsize_t)s->cols};
    const hsize_t input_dims[2] = {(hsize_t)s->n_inputs, (hsize_t)s->cols};
    const hsize_t results_dims[3] = {(hsize_t)s->n_trials, (hsize_t)s->n_inputs, (hsize_t)s->rows};
    const hsize_t trace_dims[5] = {(hsize_t)s->n_trials, (hsize_t)s->n_inputs, (hsize_t)s->tiles_n,
                                   (hsize_t)s->n_convs, (hsize_t)s->rows};
    const cim_h5_value root_attrs[] = {
        {"mapping", CIM_H5_STRING, s->mapping, 0, NULL},
        {"current_unit", CIM_H5_STRING, unit, 0, NULL},
        {"c2c_model", CIM_H5_STRING, s->c2c_model, 0, NULL},
        {"c2c_model_used", CIM_H5_STRING, s->c2c_model_used, 0, NULL},
        {"c2c_bound_p_differs", CIM_H5_DOUBLE, &s->c2c_bound_p_differs, 0, NULL},
        {"c2c_bound_mean_abs_diff_na", CIM_H5_DOUBLE, &s->c2c_bound_mean_abs_diff_na, 0, NULL},
    };
    const cim_h5_value results_attrs[] = {{"dims", CIM_H5_STRING, "trial,input,output", 0, NULL}};
    const cim_h5_value current_attrs[] = {{"unit", CIM_H5_STRING, unit, 0, NULL},
                                          {"dims", CIM_H5_STRING, TRACE_AXES, 0, NULL}};
    const cim_h5_value adc_attrs[] = {{"dims", CIM_H5_STRING, TRACE_AXES, 0, NULL},
                                      {"description", CIM_H5_STRING, ADC_DESCRIPTION, 0, NULL}};
    int rc;
    if ((rc = cim_h5file_attrs(f, root, root_attrs, sizeof root_attrs / sizeof *root_attrs, err)) !=
            0 ||
        (rc = cim_h5file_write_dataset(f, root, "weights", H5T_STD_I8LE, 2, weight_dims,
                                       H5T_NATIVE_INT8, s->weights, NULL, 0, err)) != 0 ||
        (rc = cim_h5file_write_dataset(f, root, "inputs", H5T_STD_I8LE, 2, input_dims,
                                       H5T_NATIVE_INT8, s->inputs, NULL, 0, err)) != 0 ||
        (rc = cim_h5file_trial_dataset(f, root, "results", H5T_STD_I32LE, 3, results_dims, 0,
                                       results_attrs, 1, &h->slot[DS_RESULTS], err)) != 0)
        return rc;
    static const char *const profile_names[] = {"mvm"};
    if (s->profile && (rc = cim_h5_profile_create(f, 1, profile_names, s->profile, s->n_trials,
                                                  &h->profile, err)) != 0)
        return rc;
    if (s->disturb && (rc = cim_h5_disturb_write(f, s->disturb, err)) != 0)
        return rc;
    if (!s->trace)
        return 0;
    if ((rc = cim_h5file_trial_dataset(f, root, "column_current", H5T_STD_I32LE, 5, trace_dims, 0,
                                       current_attrs, 2, &h->slot[DS_CURRENT], err)) != 0)
        return rc;
    return cim_h5file_trial_dataset(f, root, "adc_output", H5T_STD_I64LE, 5, trace_dims, 0,
                                    adc_attrs, 2, &h->slot[DS_ADC], err);
}

const char *cim_h5_mvm_partial_path(const cim_h5_mvm *h)
{
    return cim_h5file_partial_path(h->file);
}

void cim_h5_mvm_discard(cim_h5_mvm *h)
{
    if (!h)
        return;
    cim_h5file_discard(h->file);
    cim_h5_profile_free(h->profile);
    free(h);
}

int cim_h5_mvm_create(const cim_h5_mvm_spec *s, cim_h5_mvm **out, cim_error *err)
{
    const cim_h5file_spec file = {
        .out = s->out,
        .format = CIM_H5_MVM_FORMAT,
        .format_version = CIM_H5_MVM_FORMAT_VERSION,
        .flags = 0,
        .prov = s->prov,
        .seed = s->seed,
        .config_json = s->config_json,
        .trials = s->n_trials,
    };
    cim_h5_mvm *h = calloc(1, sizeof *h);
    int rc;
    *out = NULL;
    if (!h)
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", s->out->path);
    for (int d = 0; d < DS_COUNT; ++d)
        h->slot[d] = -1;
    if ((rc = cim_h5file_create(&file, &h->file, err)) != 0 ||
        (rc = create_layout(h, s, err)) != 0 || (rc = cim_h5file_start(h->file, err)) != 0) {
        cim_h5_mvm_discard(h);
        return rc;
    }
    *out = h;
    return 0;
}

int cim_h5_mvm_write(cim_h5_mvm *h, int64_t trial_first, int32_t n_trials, const int32_t *results,
                     const cim_mvm_trace *trace, cim_error *err)
{
    cim_h5file *f = h->file;
    int rc = cim_h5file_check_append(f, trial_first, n_trials, err);
    if (rc == 0 && h->profile && !(trace && trace->profile))
        rc = cim_error_set(err, CIM_ERR_USAGE, "%s: trials %lld..: no ADC profile",
                           cim_h5file_path(f), (long long)trial_first);
    if (rc == 0)
        rc = cim_h5file_append(f, h->slot[DS_RESULTS], n_trials, H5T_NATIVE_INT32, results, err);
    if (rc == 0 && h->profile) {
        const uint64_t *const counts[] = {trace->profile};
        rc = cim_h5_profile_append(h->profile, n_trials, counts, err);
    }
    if (rc == 0 && h->slot[DS_CURRENT] >= 0 && trace && trace->current)
        rc = cim_h5file_append(f, h->slot[DS_CURRENT], n_trials, H5T_NATIVE_INT32, trace->current,
                               err);
    if (rc == 0 && h->slot[DS_ADC] >= 0 && trace && trace->adc)
        rc = cim_h5file_append(f, h->slot[DS_ADC], n_trials, H5T_NATIVE_INT64, trace->adc, err);
    return rc != 0 ? rc : cim_h5file_commit(f, n_trials, 0, err);
}

int cim_h5_mvm_finish(cim_h5_mvm *h, cim_error *err)
{
    int rc = cim_h5file_check_finish(h->file, err);
    if (rc == 0 && h->profile)
        rc = cim_h5_profile_finish(h->profile, err);
    return rc != 0 ? rc : cim_h5file_finish(h->file, err);
}
