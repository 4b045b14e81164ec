/* h5_run.c -- writes the network Monte-Carlo's results file; see h5_run.h for
 * the layout, cim_h5file.h for the life cycle (partial file, provenance,
 * append, finish, discard) it shares with every results file.
 *
 * What is left here is the layout and its checks: cim_h5_run_create() checks
 * the metadata, then after the common root attributes (complete = 0) writes
 * the run's own, the trace labels and the per-trial datasets, created empty
 * and extendible along trials (the driver may stop early, and a partial file
 * then holds exactly the trials that were appended, with no zero rows that
 * look like failed chips). cim_h5_run_append() checks a batch completely
 * before it writes anything, then writes it to each per-trial dataset and
 * flushes: memory is one batch, whatever T is. The flush re-deflates the
 * partly filled chunks, about 1 ms per append (measured: 10^6 trials in
 * batches of 1000 take 1.5 s with it, 0.5 s without); negligible next to a
 * batch of simulated chips, and it is what keeps finished trials when the
 * process dies. cim_h5_run_finish() checks the summary against the file,
 * adds /summary and publishes (complete = 1, fsync, rename).
 *
 * Accuracies are computed here as correct / images in double, the quotient
 * cim_summarize() uses, so the file's per-trial accuracy and its summary
 * cannot disagree with the correct counts beside them. The handle owns its
 * cim_h5file; discard releases both.
 */
#include "h5_run.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cim_h5file.h"
#include "h5_profile.h"

enum {
    DS_ACCURACY,
    DS_CORRECT,
    DS_TOP5_ACCURACY,
    DS_TOP5_CORRECT,
    DS_LAYER_ERROR,
    DS_PREDICTIONS,
    DS_COUNT
};

struct cim_h5_run {
    cim_h5file *file;
    int slot[DS_COUNT];
    int64_t trials, images;
    int trace;
    double yield_target;
    cim_h5_profile *profile; /* NULL without /profile */
    int64_t profile_rows;    /* trials whose profile rows are written */
};

/* ---- create ---------------------------------------------------------- */

static int create_summary(cim_h5_run *w, cim_error *err);

static int check_meta(const cim_h5_run_meta *m, cim_error *err)
{
    const char *p = m->out ? m->out->path : NULL;
    if (!p || !*p)
        return cim_error_set(err, CIM_ERR_USAGE, "results file: no claimed output file given");
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
    if (!m->c2c_model || !m->c2c_model_used || !m->c2c_bound_p_differs ||
        !m->c2c_bound_mean_abs_diff_na)
        return cim_error_set(err, CIM_ERR_USAGE,
                             "%s: need the C2C model and its per-layer models and bounds", p);
    for (int32_t l = 0; l < m->n_layers; ++l)
        if (!m->c2c_model_used[l])
            return cim_error_set(err, CIM_ERR_USAGE, "%s: crossbar layer %d has no C2C model", p,
                                 (int)l);
    return 0;
}

static int write_root_attributes(cim_h5_run *w, const cim_h5_run_meta *m, cim_error *err)
{
    const int32_t trace = m->trace ? 1 : 0;
    const cim_h5_value attrs[] = {
        {"model_path", CIM_H5_STRING, m->model_path, 0, NULL},
        {"model_sha256", CIM_H5_STRING, m->model_sha256, 0, NULL},
        {"dataset_images", CIM_H5_STRING, m->dataset_images, 0, NULL},
        {"dataset_labels", CIM_H5_STRING, m->dataset_labels, 0, NULL},
        {"dataset_images_sha256", CIM_H5_STRING, m->dataset_images_sha256, 0, NULL},
        {"dataset_labels_sha256", CIM_H5_STRING, m->dataset_labels_sha256, 0, NULL},
        {"mapping", CIM_H5_STRING, m->mapping, 0, NULL},
        {"first_layer", CIM_H5_STRING, m->first_layer, 0, NULL},
        {"trials", CIM_H5_INT64, &m->trials, 0, NULL},
        {"trial_offset", CIM_H5_INT64, &m->trial_offset, 0, NULL},
        {"images", CIM_H5_INT64, &m->images, 0, NULL},
        {"first_image", CIM_H5_INT64, &m->first_image, 0, NULL},
        {"yield_target", CIM_H5_DOUBLE, &m->yield_target, 0, NULL},
        {"trace", CIM_H5_INT32, &trace, 0, NULL},
        {"c2c_model", CIM_H5_STRING, m->c2c_model, 0, NULL},
        {"c2c_model_used", CIM_H5_STRINGS, m->c2c_model_used, (hsize_t)m->n_layers, NULL},
        {"c2c_bound_p_differs", CIM_H5_DOUBLES, m->c2c_bound_p_differs, (hsize_t)m->n_layers, NULL},
        {"c2c_bound_mean_abs_diff_na", CIM_H5_DOUBLES, m->c2c_bound_mean_abs_diff_na,
         (hsize_t)m->n_layers, NULL},
    };
    return cim_h5file_attrs(w->file, cim_h5file_root(w->file), attrs, sizeof attrs / sizeof *attrs,
                            err);
}

/* An extendible per-trial dataset of `inner` values per trial (inner 0: a
 * 1-D dataset) with its dims attribute and `n_extra` more. */
static int create_per_trial(cim_h5_run *w, hid_t group, const char *name, hid_t file_type,
                            hsize_t inner, const char *dims_attr, const cim_h5_value *extra,
                            size_t n_extra, int ds, cim_error *err)
{
    const hsize_t dims[2] = {(hsize_t)w->trials, inner};
    cim_h5_value attrs[3] = {{"dims", CIM_H5_STRING, dims_attr, 0, NULL}};
    for (size_t i = 0; i < n_extra && i + 1 < sizeof attrs / sizeof *attrs; ++i)
        attrs[i + 1] = extra[i];
    return cim_h5file_trial_dataset(w->file, group, name, file_type, inner ? 2 : 1, dims,
                                    CIM_H5_EXTENDIBLE, attrs, 1 + n_extra, &w->slot[ds], err);
}

static int create_trials_group(cim_h5_run *w, const cim_h5_run_meta *m, cim_error *err)
{
    const cim_h5_value accuracy[] = {{"definition", CIM_H5_STRING, "correct / images", 0, NULL}};
    const cim_h5_value top5[] = {{"definition", CIM_H5_STRING, "top5_correct / images", 0, NULL}};
    const cim_h5_value top5_correct[] = {
        {"definition", CIM_H5_STRING, CIM_H5_RUN_TOP5_DEFINITION, 0, NULL}};
    const cim_h5_value layer_error[] = {
        {"layers", CIM_H5_STRINGS, m->layer_names, (hsize_t)m->n_layers, NULL},
        {"definition", CIM_H5_STRING, CIM_H5_RUN_LAYER_ERROR_DEFINITION, 0, NULL},
    };
    hid_t g;
    int rc = cim_h5file_group(w->file, "trials", &g, err);
    if (rc != 0)
        return rc;
    if ((rc = create_per_trial(w, g, "accuracy", H5T_IEEE_F64LE, 0, "trial", accuracy, 1,
                               DS_ACCURACY, err)) == 0 &&
        (rc = create_per_trial(w, g, "correct", H5T_STD_I64LE, 0, "trial", NULL, 0, DS_CORRECT,
                               err)) == 0 &&
        (rc = create_per_trial(w, g, "top5_accuracy", H5T_IEEE_F64LE, 0, "trial", top5, 1,
                               DS_TOP5_ACCURACY, err)) == 0 &&
        (rc = create_per_trial(w, g, "top5_correct", H5T_STD_I64LE, 0, "trial", top5_correct, 1,
                               DS_TOP5_CORRECT, err)) == 0)
        rc = create_per_trial(w, g, "layer_error_rate", H5T_IEEE_F64LE, (hsize_t)m->n_layers,
                              "trial,layer", layer_error, 2, DS_LAYER_ERROR, err);
    return cim_h5file_close_group(w->file, g, rc, err);
}

static int create_trace_group(cim_h5_run *w, const cim_h5_run_meta *m, cim_error *err)
{
    const cim_h5_value first_image[] = {{"first_image", CIM_H5_INT64, &m->first_image, 0, NULL}};
    const cim_h5_value labels_dims[] = {{"dims", CIM_H5_STRING, "image", 0, NULL}};
    const hsize_t images = (hsize_t)m->images;
    hid_t g;
    int rc = cim_h5file_group(w->file, "trace", &g, err);
    if (rc != 0)
        return rc;
    /* the labels are stored as int16 like the predictions (HDF5 converts) */
    if ((rc = cim_h5file_attrs(w->file, g, first_image, 1, err)) == 0 &&
        (rc = cim_h5file_write_dataset(w->file, g, "labels", H5T_STD_I16LE, 1, &images,
                                       H5T_NATIVE_UINT8, m->labels, labels_dims, 1, err)) == 0)
        rc = create_per_trial(w, g, "predictions", H5T_STD_I16LE, images, "trial,image", NULL, 0,
                              DS_PREDICTIONS, err);
    return cim_h5file_close_group(w->file, g, rc, err);
}

const char *cim_h5_run_partial_path(const cim_h5_run *w)
{
    return cim_h5file_partial_path(w->file);
}

int cim_h5_run_start(cim_h5_run *w, cim_error *err)
{
    return cim_h5file_start(w->file, err);
}

int64_t cim_h5_run_trials_written(const cim_h5_run *w)
{
    return cim_h5file_trials_written(w->file);
}

void cim_h5_run_discard(cim_h5_run *w)
{
    if (!w)
        return;
    cim_h5file_discard(w->file);
    cim_h5_profile_free(w->profile);
    free(w);
}

int cim_h5_run_create(const cim_h5_run_meta *m, cim_h5_run **out, cim_error *err)
{
    cim_h5_run *w;
    int rc;
    *out = NULL;
    if ((rc = check_meta(m, err)) != 0)
        return rc;
    w = calloc(1, sizeof *w);
    if (!w)
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", m->out->path);
    for (int d = 0; d < DS_COUNT; ++d)
        w->slot[d] = -1;
    w->trials = m->trials;
    w->images = m->images;
    w->trace = m->trace ? 1 : 0;
    w->yield_target = m->yield_target;
    {
        const cim_h5file_spec file = {
            .out = m->out,
            .format = CIM_H5_RUN_FORMAT,
            .format_version = CIM_H5_RUN_FORMAT_VERSION,
            .flags = CIM_H5FILE_MARKS_COMPLETE,
            .prov = m->prov,
            .seed = m->seed,
            .config_json = m->config_json,
            .trials = m->trials,
        };
        rc = cim_h5file_create(&file, &w->file, err);
    }
    if (rc == 0 && (rc = write_root_attributes(w, m, err)) == 0 &&
        (rc = create_trials_group(w, m, err)) == 0 &&
        (!w->trace || (rc = create_trace_group(w, m, err)) == 0) &&
        (!m->profiles ||
         (rc = cim_h5_profile_create(w->file, m->n_layers, m->layer_names, m->profiles, m->trials,
                                     &w->profile, err)) == 0))
        rc = create_summary(w, err);
    if (rc == 0 && m->disturb)
        rc = cim_h5_disturb_write(w->file, m->disturb, err);
    if (rc != 0) {
        cim_h5_run_discard(w);
        return rc;
    }
    *out = w;
    return 0;
}

/* ---- append ---------------------------------------------------------- */

static int check_batch(const cim_h5_run *w, int64_t trial_first, int64_t n_trials,
                       const int64_t *correct, const int64_t *top5, const double *layer_error_rate,
                       const int16_t *predictions, cim_error *err)
{
    const char *path = cim_h5file_path(w->file);
    int rc = cim_h5file_check_append(w->file, trial_first, n_trials, err);
    if (rc != 0)
        return rc;
    if (!correct || !top5 || !layer_error_rate || (w->trace && !predictions) ||
        (w->profile && w->profile_rows != trial_first + n_trials))
        return cim_error_set(err, CIM_ERR_USAGE, "%s: trials %lld..: missing data", path,
                             (long long)trial_first);
    for (int64_t t = 0; t < n_trials; ++t)
        if (correct[t] < 0 || correct[t] > w->images)
            return cim_error_set(
                err, CIM_ERR_USAGE, "%s: trial %lld has %lld correct of %lld images", path,
                (long long)(trial_first + t), (long long)correct[t], (long long)w->images);
        else if (top5[t] < correct[t] || top5[t] > w->images)
            return cim_error_set(err, CIM_ERR_USAGE,
                                 "%s: trial %lld has %lld top-5 correct of %lld images, %lld "
                                 "correct",
                                 path, (long long)(trial_first + t), (long long)top5[t],
                                 (long long)w->images, (long long)correct[t]);
    return 0;
}

int cim_h5_run_append(cim_h5_run *w, int64_t trial_first, int64_t n_trials, const int64_t *correct,
                      const int64_t *top5_correct, const double *layer_error_rate,
                      const int16_t *predictions, cim_error *err)
{
    cim_h5file *f = w->file;
    double *accuracy;
    int rc = check_batch(w, trial_first, n_trials, correct, top5_correct, layer_error_rate,
                         predictions, err);
    if (rc != 0)
        return rc;
    accuracy = malloc(sizeof *accuracy * 2 * (size_t)n_trials);
    if (!accuracy)
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory for %lld trials",
                             cim_h5file_path(f), (long long)n_trials);
    double *top5 = accuracy + n_trials;
    for (int64_t t = 0; t < n_trials; ++t) {
        accuracy[t] = (double)correct[t] / (double)w->images;
        top5[t] = (double)top5_correct[t] / (double)w->images;
    }
    if ((rc = cim_h5file_append(f, w->slot[DS_CORRECT], n_trials, H5T_NATIVE_INT64, correct,
                                err)) == 0 &&
        (rc = cim_h5file_append(f, w->slot[DS_ACCURACY], n_trials, H5T_NATIVE_DOUBLE, accuracy,
                                err)) == 0 &&
        (rc = cim_h5file_append(f, w->slot[DS_TOP5_CORRECT], n_trials, H5T_NATIVE_INT64,
                                top5_correct, err)) == 0 &&
        (rc = cim_h5file_append(f, w->slot[DS_TOP5_ACCURACY], n_trials, H5T_NATIVE_DOUBLE, top5,
                                err)) == 0 &&
        (rc = cim_h5file_append(f, w->slot[DS_LAYER_ERROR], n_trials, H5T_NATIVE_DOUBLE,
                                layer_error_rate, err)) == 0 &&
        (!w->trace || (rc = cim_h5file_append(f, w->slot[DS_PREDICTIONS], n_trials,
                                              H5T_NATIVE_INT16, predictions, err)) == 0))
        rc = cim_h5file_commit(f, n_trials, 1, err);
    free(accuracy);
    return rc;
}

int cim_h5_run_append_profile(cim_h5_run *w, int64_t trial_first, int64_t n_trials,
                              const uint64_t *const *counts, cim_error *err)
{
    int rc = cim_h5file_check_append(w->file, trial_first, n_trials, err);
    if (rc != 0)
        return rc;
    if (!w->profile || w->profile_rows != trial_first || !counts)
        return cim_error_set(err, CIM_ERR_USAGE, "%s: trials %lld..: no ADC profile expected",
                             cim_h5file_path(w->file), (long long)trial_first);
    if ((rc = cim_h5_profile_append(w->profile, n_trials, counts, err)) == 0)
        w->profile_rows = trial_first + n_trials;
    return rc;
}

/* ---- finish ---------------------------------------------------------- */

#define QUANTILE_NOTE " of /trials/accuracy (linear interpolation, numpy's default)"
#define CI_NOTE " of the 95 % confidence interval of the mean: mean -+ t(0.975, n-1) std / sqrt(n)"

/* The /summary datasets, in one table for the layout (names, kinds,
 * descriptions) and for finish (values). */
typedef struct summary_values {
    cim_summary s, s5;
    double digital_accuracy, digital_top5_accuracy;
    int64_t digital_correct, digital_top5_correct;
} summary_values;

static size_t summary_table(const summary_values *v, cim_h5_value *t)
{
    const cim_summary *s = &v->s;
    const cim_h5_value values[] = {
        {"mean", CIM_H5_DOUBLE, &s->mean, 0, "mean of /trials/accuracy"},
        {"std", CIM_H5_DOUBLE, &s->std, 0, "sample standard deviation (n - 1) of /trials/accuracy"},
        {"ci95_lo", CIM_H5_DOUBLE, &s->ci95_lo, 0, "lower end" CI_NOTE},
        {"ci95_hi", CIM_H5_DOUBLE, &s->ci95_hi, 0, "upper end" CI_NOTE},
        {"min", CIM_H5_DOUBLE, &s->min, 0, "smallest per-trial accuracy"},
        {"max", CIM_H5_DOUBLE, &s->max, 0, "largest per-trial accuracy"},
        {"q01", CIM_H5_DOUBLE, &s->q01, 0, "1 % quantile" QUANTILE_NOTE},
        {"q05", CIM_H5_DOUBLE, &s->q05, 0, "5 % quantile" QUANTILE_NOTE},
        {"q50", CIM_H5_DOUBLE, &s->q50, 0, "median" QUANTILE_NOTE},
        {"yield", CIM_H5_DOUBLE, &s->yield, 0, "fraction of trials with accuracy >= yield_target"},
        {"yield_target", CIM_H5_DOUBLE, &s->yield_target, 0,
         "accuracy a chip must reach for the yield"},
        {"digital_accuracy", CIM_H5_DOUBLE, &v->digital_accuracy, 0,
         "accuracy of the same model on the same images without variability and with ideal "
         "ADCs: digital_correct / images"},
        {"digital_correct", CIM_H5_INT64, &v->digital_correct, 0,
         "images the noise-free model classifies correctly"},
        {"top5_mean", CIM_H5_DOUBLE, &v->s5.mean, 0, "mean of /trials/top5_accuracy"},
        {"top5_std", CIM_H5_DOUBLE, &v->s5.std, 0,
         "sample standard deviation (n - 1) of /trials/top5_accuracy"},
        {"top5_ci95_lo", CIM_H5_DOUBLE, &v->s5.ci95_lo, 0, "lower end, top-5" CI_NOTE},
        {"top5_ci95_hi", CIM_H5_DOUBLE, &v->s5.ci95_hi, 0, "upper end, top-5" CI_NOTE},
        {"digital_top5_accuracy", CIM_H5_DOUBLE, &v->digital_top5_accuracy, 0,
         "top-5 accuracy of the noise-free model: digital_top5_correct / images"},
        {"digital_top5_correct", CIM_H5_INT64, &v->digital_top5_correct, 0,
         "images whose label the noise-free model ranks among its 5 best classes"},
        {"trials", CIM_H5_INT64, &s->trials, 0, "trials (simulated chips) summarised"},
        {"images", CIM_H5_INT64, &s->images, 0, "images per trial"},
    };
    for (size_t i = 0; i < sizeof values / sizeof *values; ++i)
        t[i] = values[i];
    return sizeof values / sizeof *values;
}

#define SUMMARY_MAX 24

/* Layout: every summary dataset exists from the start (SWMR allows no new
 * objects later), holding NaN or -1 until finish writes the values. */
static int create_summary(cim_h5_run *w, cim_error *err)
{
    summary_values v;
    cim_h5_value t[SUMMARY_MAX];
    size_t n;
    hid_t g;
    int rc;
    v.s.mean = v.s.std = v.s.ci95_lo = v.s.ci95_hi = v.s.min = v.s.max = NAN;
    v.s.q01 = v.s.q05 = v.s.q50 = v.s.yield = v.s.yield_target = v.digital_accuracy = NAN;
    v.s5 = v.s;
    v.digital_top5_accuracy = NAN;
    v.s.trials = v.s.images = v.digital_correct = v.digital_top5_correct = -1;
    n = summary_table(&v, t);
    rc = cim_h5file_group(w->file, "summary", &g, err);
    if (rc != 0)
        return rc;
    for (size_t i = 0; rc == 0 && i < n; ++i) {
        const cim_h5_value description = {"description", CIM_H5_STRING, t[i].description, 0, NULL};
        rc = cim_h5file_write_dataset(w->file, g, t[i].name, cim_h5_file_type(t[i].kind), 0, NULL,
                                      cim_h5_mem_type(t[i].kind), t[i].value, &description, 1, err);
    }
    return cim_h5file_close_group(w->file, g, rc, err);
}

static int write_summary(cim_h5_run *w, const cim_h5_run_totals *r, cim_error *err)
{
    summary_values v;
    cim_h5_value t[SUMMARY_MAX];
    size_t n;
    int rc = 0;
    char path[64];
    v.s = *r->top1;
    v.s5 = *r->top5;
    v.digital_correct = r->digital_correct;
    v.digital_top5_correct = r->digital_top5_correct;
    v.digital_accuracy = (double)r->digital_correct / (double)w->images;
    v.digital_top5_accuracy = (double)r->digital_top5_correct / (double)w->images;
    n = summary_table(&v, t);
    for (size_t i = 0; rc == 0 && i < n; ++i) {
        snprintf(path, sizeof path, "summary/%s", t[i].name);
        rc = cim_h5file_rewrite_dataset(w->file, path, cim_h5_mem_type(t[i].kind), t[i].value, err);
    }
    return rc;
}

static int describes_file(const cim_h5_run *w, const cim_summary *s)
{
    return s && s->trials == w->trials && s->images == w->images &&
           s->yield_target == w->yield_target;
}

static int check_summary(const cim_h5_run *w, const cim_h5_run_totals *r, cim_error *err)
{
    const char *path = cim_h5file_path(w->file);
    int rc = cim_h5file_check_finish(w->file, err);
    if (rc != 0)
        return rc;
    if (!r || !describes_file(w, r->top1) || !describes_file(w, r->top5))
        return cim_error_set(err, CIM_ERR_USAGE,
                             "%s: the summary does not describe the file's %lld trials of %lld "
                             "images at yield target %g",
                             path, (long long)w->trials, (long long)w->images, w->yield_target);
    if (r->digital_correct < 0 || r->digital_top5_correct < r->digital_correct ||
        r->digital_top5_correct > w->images)
        return cim_error_set(err, CIM_ERR_USAGE,
                             "%s: digital run has %lld correct (%lld top-5) of %lld images", path,
                             (long long)r->digital_correct, (long long)r->digital_top5_correct,
                             (long long)w->images);
    return 0;
}

int cim_h5_run_finish(cim_h5_run *w, const cim_h5_run_totals *t, cim_error *err)
{
    int rc = check_summary(w, t, err);
    if (rc == 0 && (rc = write_summary(w, t, err)) == 0 &&
        (!w->profile || (rc = cim_h5_profile_finish(w->profile, err)) == 0))
        rc = cim_h5file_finish(w->file, err);
    return rc;
}
