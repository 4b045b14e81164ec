/* h5_run.c -- writes the network Monte-Carlo's results file; see h5_run.h for
 * the layout, cim_h5util.c for the chunking, error and partial-file rules it
 * shares with `cimgpu mvm --out`.
 *
 * Life of a file: cim_h5_run_create() checks the metadata, makes
 * "R.h5.partial" with the root attributes (complete = 0), the trace labels
 * and the per-trial datasets, created empty and extendible along trials (the
 * driver may stop early, and a partial file then holds exactly the trials
 * that were appended, with no zero rows that look like failed chips).
 * cim_h5_run_append() checks a batch completely before it writes anything,
 * then grows each per-trial dataset by the batch and writes it by hyperslab,
 * strictly in trial order, and flushes: memory is one batch, whatever T is,
 * and only the count of trials written is needed to know where the next
 * batch goes. The flush re-deflates the partly filled chunks, about 1 ms per
 * append (measured: 10^6 trials in batches of 1000 take 1.5 s with it, 0.5 s
 * without); negligible next to a batch of simulated chips, and it is what
 * keeps finished trials when the process dies. An HDF5 failure inside a batch may leave the
 * datasets of unequal extent, so the handle is then marked broken and refuses to go on.
 * cim_h5_run_finish() adds /summary, sets complete = 1, flushes, closes and
 * publishes (fsync, rename). Every failure path of create and finish goes
 * through discard(), which closes what is open and removes the partial file;
 * R.h5 itself is never removed or touched before the rename.
 *
 * Accuracies are computed here as correct / images in double, the quotient
 * cim_summarize() uses, so the file's per-trial accuracy and its summary
 * cannot disagree with the correct counts beside them.
 */
#include "h5_run.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>

#include "cim_h5util.h"

enum { DS_ACCURACY, DS_CORRECT, DS_LAYER_ERROR, DS_PREDICTIONS, DS_COUNT };

static const char *const ds_names[DS_COUNT] = {"trials/accuracy", "trials/correct",
                                               "trials/layer_error_rate", "trace/predictions"};

struct cim_h5_run {
    char *path;
    char *partial;
    hid_t file;
    hid_t dset[DS_COUNT];
    int64_t trials, images;
    int trace;
    double yield_target;
    int64_t written; /* trials 0 .. written-1 are in the file */
    int broken;      /* a batch failed half-way: the datasets may disagree */
};

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

/* ---- create ---------------------------------------------------------- */

static int check_meta(const cim_h5_run_meta *m, cim_error *err)
{
    const char *p = m->path;
    if (!p || !*p)
        return cim_error_set(err, CIM_ERR_USAGE, "results file: no path given");
    if (!m->prov)
        return cim_error_set(err, CIM_ERR_USAGE, "%s: no provenance given", p);
    if (m->trials < 1 || m->images < 1 || m->first_image < 0)
        return cim_error_set(err, CIM_ERR_USAGE,
                             "%s: trials (%lld) and images (%lld) must be >= 1, first_image "
                             "(%lld) >= 0",
                             p, (long long)m->trials, (long long)m->images,
                             (long long)m->first_image);
    if (m->n_layers < 1 || !m->layer_names)
        return cim_error_set(err, CIM_ERR_USAGE, "%s: need the names of >= 1 crossbar layers", p);
    for (int32_t l = 0; l < m->n_layers; ++l)
        if (!m->layer_names[l])
            return cim_error_set(err, CIM_ERR_USAGE, "%s: crossbar layer %d has no name", p,
                                 (int)l);
    if (m->trace && !m->labels)
        return cim_error_set(err, CIM_ERR_USAGE, "%s: a trace needs the images' labels", p);
    return 0;
}

/* A named number or string, for tables of attributes and summary values. */
typedef enum { V_STRING, V_INT32, V_INT64, V_UINT64, V_DOUBLE } value_kind;

typedef struct named_value {
    const char *name;
    value_kind kind;
    const void *value; /* const char * itself for V_STRING, else the number */
    const char *description;
} named_value;

static herr_t write_attr(hid_t loc, const named_value *v)
{
    switch (v->kind) {
    case V_STRING:
        return cim_h5_attr_string(loc, v->name, or_empty(v->value));
    case V_INT32:
        return cim_h5_attr_int32(loc, v->name, *(const int32_t *)v->value);
    case V_INT64:
        return cim_h5_attr_int64(loc, v->name, *(const int64_t *)v->value);
    case V_UINT64:
        return cim_h5_attr_uint64(loc, v->name, *(const uint64_t *)v->value);
    case V_DOUBLE:
        return cim_h5_attr_double(loc, v->name, *(const double *)v->value);
    }
    return -1;
}

static int write_root_attributes(hid_t file, const cim_h5_run_meta *m, cim_error *err)
{
    const cim_provenance *p = m->prov;
    const int32_t version = CIM_H5_RUN_FORMAT_VERSION, incomplete = 0, trace = m->trace ? 1 : 0;
    const named_value attrs[] = {
        {"format", V_STRING, CIM_H5_RUN_FORMAT, NULL},
        {"format_version", V_INT32, &version, NULL},
        {"complete", V_INT32, &incomplete, NULL},
        {"tool_version", V_STRING, p->tool_version, NULL},
        {"git_revision", V_STRING, p->git_revision, NULL},
        {"command_line", V_STRING, p->command_line, NULL},
        {"device", V_STRING, p->device, NULL},
        {"created", V_STRING, p->created, NULL},
        {"seed", V_UINT64, &m->seed, NULL},
        {"config_json", V_STRING, m->config_json, NULL},
        {"model_path", V_STRING, m->model_path, NULL},
        {"model_sha256", V_STRING, m->model_sha256, NULL},
        {"dataset_images", V_STRING, m->dataset_images, NULL},
        {"dataset_labels", V_STRING, m->dataset_labels, NULL},
        {"mapping", V_STRING, m->mapping, NULL},
        {"first_layer", V_STRING, m->first_layer, NULL},
        {"trials", V_INT64, &m->trials, NULL},
        {"images", V_INT64, &m->images, NULL},
        {"first_image", V_INT64, &m->first_image, NULL},
        {"yield_target", V_DOUBLE, &m->yield_target, NULL},
        {"trace", V_INT32, &trace, NULL},
    };
    char what[64];
    for (size_t i = 0; i < sizeof attrs / sizeof *attrs; ++i)
        if (write_attr(file, &attrs[i]) < 0) {
            snprintf(what, sizeof what, "write the root attribute \"%s\"", attrs[i].name);
            return cim_h5_fail(err, m->path, what);
        }
    return 0;
}

/* A 1-D attribute of n variable-length UTF-8 strings (h5py: array of str). */
static herr_t attr_string_array(hid_t loc, const char *name, const char *const *values, hsize_t n)
{
    hid_t type = H5Tcopy(H5T_C_S1), space = H5Screate_simple(1, &n, NULL), attr = -1;
    herr_t st = -1;
    if (type < 0 || space < 0 || H5Tset_size(type, H5T_VARIABLE) < 0 ||
        H5Tset_cset(type, H5T_CSET_UTF8) < 0)
        goto done;
    attr = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr >= 0)
        st = H5Awrite(attr, type, values);
done:
    if (attr >= 0 && H5Aclose(attr) < 0)
        st = -1;
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    return st;
}

static hid_t create_group(hid_t file, const char *name)
{
    return H5Gcreate2(file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
}

/* An extendible per-trial dataset of `inner` values per trial (inner 0: a
 * 1-D dataset), with its dims attribute. */
static hid_t create_per_trial(const cim_h5_run_meta *m, hid_t group, const char *name,
                              hid_t file_type, hsize_t inner, const char *dims_attr)
{
    const hsize_t dims[2] = {(hsize_t)m->trials, inner};
    hid_t dset = cim_h5_create_dataset(group, name, file_type, inner ? 2 : 1, dims,
                                       CIM_H5_PER_TRIAL | CIM_H5_EXTENDIBLE);
    if (dset >= 0 && cim_h5_attr_string(dset, "dims", dims_attr) < 0) {
        H5Dclose(dset);
        dset = -1;
    }
    return dset;
}

static int create_trials_group(cim_h5_run *w, const cim_h5_run_meta *m, cim_error *err)
{
    hid_t g = create_group(w->file, "trials");
    const char *failed = NULL;
    if (g < 0)
        return cim_h5_fail(err, m->path, "create the group \"trials\"");
    w->dset[DS_ACCURACY] = create_per_trial(m, g, "accuracy", H5T_IEEE_F64LE, 0, "trial");
    if (w->dset[DS_ACCURACY] < 0 ||
        cim_h5_attr_string(w->dset[DS_ACCURACY], "definition", "correct / images") < 0)
        failed = "create the dataset \"trials/accuracy\"";
    if (!failed) {
        w->dset[DS_CORRECT] = create_per_trial(m, g, "correct", H5T_STD_I64LE, 0, "trial");
        if (w->dset[DS_CORRECT] < 0)
            failed = "create the dataset \"trials/correct\"";
    }
    if (!failed) {
        w->dset[DS_LAYER_ERROR] = create_per_trial(m, g, "layer_error_rate", H5T_IEEE_F64LE,
                                                   (hsize_t)m->n_layers, "trial,layer");
        if (w->dset[DS_LAYER_ERROR] < 0 ||
            attr_string_array(w->dset[DS_LAYER_ERROR], "layers", m->layer_names,
                              (hsize_t)m->n_layers) < 0 ||
            cim_h5_attr_string(w->dset[DS_LAYER_ERROR], "definition",
                               CIM_H5_RUN_LAYER_ERROR_DEFINITION) < 0)
            failed = "create the dataset \"trials/layer_error_rate\"";
    }
    if (H5Gclose(g) < 0 && !failed)
        failed = "close the group \"trials\"";
    return failed ? cim_h5_fail(err, m->path, failed) : 0;
}

/* The labels, stored as int16 like the predictions (HDF5 converts). */
static herr_t write_labels(hid_t group, const uint8_t *labels, hsize_t images)
{
    hid_t dset = cim_h5_create_dataset(group, "labels", H5T_STD_I16LE, 1, &images, 0);
    herr_t st = -1;
    if (dset < 0)
        return -1;
    st = H5Dwrite(dset, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, labels);
    if (cim_h5_attr_string(dset, "dims", "image") < 0)
        st = -1;
    if (H5Dclose(dset) < 0)
        st = -1;
    return st;
}

static int create_trace_group(cim_h5_run *w, const cim_h5_run_meta *m, cim_error *err)
{
    hid_t g = create_group(w->file, "trace");
    const char *failed = NULL;
    if (g < 0)
        return cim_h5_fail(err, m->path, "create the group \"trace\"");
    if (cim_h5_attr_int64(g, "first_image", m->first_image) < 0)
        failed = "write the attribute \"trace/first_image\"";
    else if (write_labels(g, m->labels, (hsize_t)m->images) < 0)
        failed = "write the dataset \"trace/labels\"";
    else if ((w->dset[DS_PREDICTIONS] = create_per_trial(m, g, "predictions", H5T_STD_I16LE,
                                                         (hsize_t)m->images, "trial,image")) < 0)
        failed = "create the dataset \"trace/predictions\"";
    if (H5Gclose(g) < 0 && !failed)
        failed = "close the group \"trace\"";
    return failed ? cim_h5_fail(err, m->path, failed) : 0;
}

/* ---- life cycle ------------------------------------------------------ */

/* Closes every open id; -1 if any close failed. */
static int close_all(cim_h5_run *w)
{
    int rc = 0;
    for (int d = 0; d < DS_COUNT; ++d) {
        if (w->dset[d] >= 0 && H5Dclose(w->dset[d]) < 0)
            rc = -1;
        w->dset[d] = -1;
    }
    if (w->file >= 0 && H5Fclose(w->file) < 0)
        rc = -1;
    w->file = -1;
    return rc;
}

static void free_handle(cim_h5_run *w)
{
    free(w->path);
    free(w->partial);
    free(w);
}

const char *cim_h5_run_partial_path(const cim_h5_run *w)
{
    return w->partial;
}

int64_t cim_h5_run_trials_written(const cim_h5_run *w)
{
    return w->written;
}

void cim_h5_run_discard(cim_h5_run *w)
{
    if (!w)
        return;
    close_all(w);
    remove(w->partial);
    free_handle(w);
}

int cim_h5_run_create(const cim_h5_run_meta *m, cim_h5_run **out, cim_error *err)
{
    cim_h5_run *w;
    int rc;
    *out = NULL;
    cim_h5_quiet();
    if ((rc = check_meta(m, err)) != 0)
        return rc;
    w = calloc(1, sizeof *w);
    if (!w)
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", m->path);
    w->file = -1;
    for (int d = 0; d < DS_COUNT; ++d)
        w->dset[d] = -1;
    w->trials = m->trials;
    w->images = m->images;
    w->trace = m->trace ? 1 : 0;
    w->yield_target = m->yield_target;
    w->path = cim_h5_concat(m->path, "");
    w->partial = cim_h5_concat(m->path, CIM_H5_PARTIAL_SUFFIX);
    if (!w->path || !w->partial) {
        free_handle(w);
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", m->path);
    }
    if ((rc = cim_h5_prepare_partial(m->path, w->partial, err)) != 0)
        goto fail;
    w->file = cim_h5_create_file(w->partial);
    if (w->file < 0) {
        rc = cim_h5_fail(err, m->path, "create the file");
        goto fail;
    }
    if ((rc = write_root_attributes(w->file, m, err)) != 0 ||
        (rc = create_trials_group(w, m, err)) != 0 ||
        (w->trace && (rc = create_trace_group(w, m, err)) != 0))
        goto fail;
    if (H5Fflush(w->file, H5F_SCOPE_LOCAL) < 0) {
        rc = cim_h5_fail(err, m->path, "flush the file");
        goto fail;
    }
    *out = w;
    return 0;
fail:
    cim_h5_run_discard(w);
    return rc;
}

/* ---- append ---------------------------------------------------------- */

static int check_batch(const cim_h5_run *w, int64_t trial_first, int64_t n_trials,
                       const int64_t *correct, const double *layer_error_rate,
                       const int16_t *predictions, cim_error *err)
{
    if (w->broken)
        return cim_error_set(err, CIM_ERR_IO, "%s: an earlier write failed; the file is unusable",
                             w->path);
    if (trial_first != w->written || n_trials < 1 || n_trials > w->trials - w->written)
        return cim_error_set(err, CIM_ERR_USAGE,
                             "%s: trials %lld..%lld appended out of order (%lld of %lld written)",
                             w->path, (long long)trial_first,
                             (long long)(trial_first + n_trials - 1), (long long)w->written,
                             (long long)w->trials);
    if (!correct || !layer_error_rate || (w->trace && !predictions))
        return cim_error_set(err, CIM_ERR_USAGE, "%s: trials %lld..: missing data", w->path,
                             (long long)trial_first);
    for (int64_t t = 0; t < n_trials; ++t)
        if (correct[t] < 0 || correct[t] > w->images)
            return cim_error_set(
                err, CIM_ERR_USAGE, "%s: trial %lld has %lld correct of %lld images", w->path,
                (long long)(trial_first + t), (long long)correct[t], (long long)w->images);
    return 0;
}

/* Grows a per-trial dataset to t0 + n trials and writes trials t0.. into it. */
static herr_t extend_and_write(hid_t dset, hsize_t t0, hsize_t n, hid_t mem_type, const void *buf)
{
    hsize_t dims[2];
    hid_t space = H5Dget_space(dset);
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    herr_t st = -1;
    if (rank >= 1 && rank <= 2 && H5Sget_simple_extent_dims(space, dims, NULL) >= 0) {
        dims[0] = t0 + n;
        st = H5Dset_extent(dset, dims);
    }
    if (space >= 0)
        H5Sclose(space);
    return st < 0 ? st : cim_h5_write_trials(dset, t0, n, mem_type, buf);
}

int cim_h5_run_append(cim_h5_run *w, int64_t trial_first, int64_t n_trials, const int64_t *correct,
                      const double *layer_error_rate, const int16_t *predictions, cim_error *err)
{
    const hsize_t t0 = (hsize_t)trial_first, n = (hsize_t)n_trials;
    const char *failed = NULL;
    char what[64];
    double *accuracy;
    int rc = check_batch(w, trial_first, n_trials, correct, layer_error_rate, predictions, err);
    if (rc != 0)
        return rc;
    accuracy = malloc(sizeof *accuracy * (size_t)n_trials);
    if (!accuracy)
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory for %lld trials", w->path,
                             (long long)n_trials);
    for (int64_t t = 0; t < n_trials; ++t)
        accuracy[t] = (double)correct[t] / (double)w->images;
    if (extend_and_write(w->dset[DS_CORRECT], t0, n, H5T_NATIVE_INT64, correct) < 0)
        failed = ds_names[DS_CORRECT];
    else if (extend_and_write(w->dset[DS_ACCURACY], t0, n, H5T_NATIVE_DOUBLE, accuracy) < 0)
        failed = ds_names[DS_ACCURACY];
    else if (extend_and_write(w->dset[DS_LAYER_ERROR], t0, n, H5T_NATIVE_DOUBLE, layer_error_rate) <
             0)
        failed = ds_names[DS_LAYER_ERROR];
    else if (w->trace &&
             extend_and_write(w->dset[DS_PREDICTIONS], t0, n, H5T_NATIVE_INT16, predictions) < 0)
        failed = ds_names[DS_PREDICTIONS];
    free(accuracy);
    if (failed) {
        w->broken = 1;
        snprintf(what, sizeof what, "write the dataset \"%s\"", failed);
        return cim_h5_fail(err, w->path, what);
    }
    if (H5Fflush(w->file, H5F_SCOPE_LOCAL) < 0) {
        w->broken = 1;
        return cim_h5_fail(err, w->path, "flush the file");
    }
    w->written += n_trials;
    return 0;
}

/* ---- finish ---------------------------------------------------------- */

/* A scalar dataset holding a number, with its description as an attribute. */
static herr_t write_scalar(hid_t group, const named_value *v)
{
    const int is_int = v->kind == V_INT64;
    hid_t space = H5Screate(H5S_SCALAR), dset = -1;
    herr_t st = -1;
    if (v->kind != V_INT64 && v->kind != V_DOUBLE)
        return -1;
    if (space >= 0)
        dset = H5Dcreate2(group, v->name, is_int ? H5T_STD_I64LE : H5T_IEEE_F64LE, space,
                          H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (dset >= 0 && H5Dwrite(dset, is_int ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL,
                              H5P_DEFAULT, v->value) >= 0)
        st = cim_h5_attr_string(dset, "description", v->description);
    if (dset >= 0 && H5Dclose(dset) < 0)
        st = -1;
    if (space >= 0)
        H5Sclose(space);
    return st;
}

#define QUANTILE_NOTE " of /trials/accuracy (linear interpolation, numpy's default)"
#define CI_NOTE " of the 95 % confidence interval of the mean: mean -+ t(0.975, n-1) std / sqrt(n)"

static int write_summary(cim_h5_run *w, const cim_summary *s, int64_t digital_correct,
                         cim_error *err)
{
    const double digital_accuracy = (double)digital_correct / (double)w->images;
    const named_value values[] = {
        {"mean", V_DOUBLE, &s->mean, "mean of /trials/accuracy"},
        {"std", V_DOUBLE, &s->std, "sample standard deviation (n - 1) of /trials/accuracy"},
        {"ci95_lo", V_DOUBLE, &s->ci95_lo, "lower end" CI_NOTE},
        {"ci95_hi", V_DOUBLE, &s->ci95_hi, "upper end" CI_NOTE},
        {"min", V_DOUBLE, &s->min, "smallest per-trial accuracy"},
        {"max", V_DOUBLE, &s->max, "largest per-trial accuracy"},
        {"q01", V_DOUBLE, &s->q01, "1 % quantile" QUANTILE_NOTE},
        {"q05", V_DOUBLE, &s->q05, "5 % quantile" QUANTILE_NOTE},
        {"q50", V_DOUBLE, &s->q50, "median" QUANTILE_NOTE},
        {"yield", V_DOUBLE, &s->yield, "fraction of trials with accuracy >= yield_target"},
        {"yield_target", V_DOUBLE, &s->yield_target, "accuracy a chip must reach for the yield"},
        {"digital_accuracy", V_DOUBLE, &digital_accuracy,
         "accuracy of the same model on the same images without variability and with ideal "
         "ADCs: digital_correct / images"},
        {"digital_correct", V_INT64, &digital_correct,
         "images the noise-free model classifies correctly"},
        {"trials", V_INT64, &s->trials, "trials (simulated chips) summarised"},
        {"images", V_INT64, &s->images, "images per trial"},
    };
    hid_t g = create_group(w->file, "summary");
    const char *failed = NULL;
    char what[64];
    if (g < 0)
        return cim_h5_fail(err, w->path, "create the group \"summary\"");
    for (size_t i = 0; !failed && i < sizeof values / sizeof *values; ++i)
        if (write_scalar(g, &values[i]) < 0)
            failed = values[i].name;
    if (H5Gclose(g) < 0 && !failed)
        return cim_h5_fail(err, w->path, "close the group \"summary\"");
    if (!failed)
        return 0;
    snprintf(what, sizeof what, "write the dataset \"summary/%s\"", failed);
    return cim_h5_fail(err, w->path, what);
}

static herr_t mark_complete(hid_t file)
{
    const int32_t one = 1;
    hid_t attr = H5Aopen(file, "complete", H5P_DEFAULT);
    herr_t st;
    if (attr < 0)
        return -1;
    st = H5Awrite(attr, H5T_NATIVE_INT32, &one);
    if (H5Aclose(attr) < 0)
        st = -1;
    return st;
}

static int check_summary(const cim_h5_run *w, const cim_summary *s, int64_t digital_correct,
                         cim_error *err)
{
    if (w->broken)
        return cim_error_set(err, CIM_ERR_IO, "%s: an earlier write failed; the file is unusable",
                             w->path);
    if (w->written != w->trials)
        return cim_error_set(err, CIM_ERR_USAGE, "%s: %lld of %lld trials written", w->path,
                             (long long)w->written, (long long)w->trials);
    if (!s || s->trials != w->trials || s->images != w->images ||
        s->yield_target != w->yield_target)
        return cim_error_set(err, CIM_ERR_USAGE,
                             "%s: the summary does not describe the file's %lld trials of %lld "
                             "images at yield target %g",
                             w->path, (long long)w->trials, (long long)w->images, w->yield_target);
    if (digital_correct < 0 || digital_correct > w->images)
        return cim_error_set(err, CIM_ERR_USAGE, "%s: digital run has %lld correct of %lld images",
                             w->path, (long long)digital_correct, (long long)w->images);
    return 0;
}

int cim_h5_run_finish(cim_h5_run *w, const cim_summary *s, int64_t digital_correct, cim_error *err)
{
    int rc = check_summary(w, s, digital_correct, err);
    if (rc == 0 && (rc = write_summary(w, s, digital_correct, err)) == 0) {
        if (mark_complete(w->file) < 0)
            rc = cim_h5_fail(err, w->path, "write the root attribute \"complete\"");
        else if (H5Fflush(w->file, H5F_SCOPE_GLOBAL) < 0)
            rc = cim_h5_fail(err, w->path, "flush the file");
        else if (close_all(w) != 0)
            rc = cim_h5_fail(err, w->path, "close the file");
        else
            rc = cim_h5_publish(w->path, w->partial, err);
    }
    if (rc != 0) {
        cim_h5_run_discard(w);
        return rc;
    }
    free_handle(w);
    return 0;
}
