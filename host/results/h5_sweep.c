/* h5_sweep.c -- writes the sweep results file (h5_sweep.h) through the
 * results-file life cycle (cim_h5file.h).
 *
 * The layout is made whole at create: the /configs columns with their
 * values, and NaN-filled /summary and /trials datasets that the sweep fills
 * part by part (SWMR allows writing into existing datasets, never adding
 * one). The file-wide chip counter of the life cycle counts chips in
 * configuration order, so "trials_written" keeps its meaning: everything
 * before it is final.
 *
 * Accuracies are computed here as correct / images, the quotient
 * cim_summarize() uses, so rows and summaries cannot disagree.
 */
#include "h5_sweep.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim_h5file.h"
#include "cim_h5util.h"

struct cim_h5_sweep {
    cim_h5file *file;
    int64_t configs, trials, images;
    int64_t *rows; /* per configuration: trials written */
    uint8_t *done;
};

#define CI_NOTE " of the 95 % confidence interval of the mean: mean -+ t(0.975, n-1) std / sqrt(n)"
#define Q_NOTE " of the chips' top-1 accuracy (linear interpolation, numpy's default)"

/* The /summary statistics, in file order: name and description. */
static const struct {
    const char *name, *description;
} stats[] = {
    {"top1_mean", "mean top-1 accuracy of the configuration's chips"},
    {"top1_std", "sample standard deviation (n - 1) of the chips' top-1 accuracy"},
    {"top1_ci95_lo", "lower end" CI_NOTE},
    {"top1_ci95_hi", "upper end" CI_NOTE},
    {"top1_q01", "1 % quantile" Q_NOTE},
    {"top1_q05", "5 % quantile" Q_NOTE},
    {"top1_q50", "median" Q_NOTE},
    {"top1_min", "smallest top-1 accuracy of a chip"},
    {"top1_max", "largest top-1 accuracy of a chip"},
    {"yield", "fraction of chips with top-1 accuracy >= yield_target"},
    {"yield_target", "accuracy a chip must reach for the yield"},
    {"top5_mean", "mean top-5 accuracy of the chips"},
    {"top5_std", "sample standard deviation (n - 1) of the chips' top-5 accuracy"},
    {"top1_baseline",
     "digital top-1 accuracy: the same model on the same images without variability and with "
     "ideal ADCs"},
    {"top5_baseline", "digital top-5 accuracy"},
    {"seconds", "wall time the configuration's chips took (a measurement, not a result)"},
};
enum { N_STATS = sizeof stats / sizeof *stats };

static void stat_values(const cim_h5_sweep_result *r, double v[N_STATS])
{
    const cim_summary *a = r->top1, *b = r->top5;
    const double values[N_STATS] = {a->mean, a->std,           a->ci95_lo,       a->ci95_hi,
                                    a->q01,  a->q05,           a->q50,           a->min,
                                    a->max,  a->yield,         a->yield_target,  b->mean,
                                    b->std,  r->top1_baseline, r->top5_baseline, r->seconds};
    memcpy(v, values, sizeof values);
}

static int check_meta(const cim_h5_sweep_meta *m, cim_error *err)
{
    const char *p = m->out ? m->out->path : "(results file)";
    if (!m->out || !m->prov)
        return cim_error_set(err, CIM_ERR_USAGE, "%s: no claimed file or provenance", p);
    if (m->n_configs < 1 || m->trials < 1 || m->images < 1 || m->first_image < 0)
        return cim_error_set(err, CIM_ERR_USAGE,
                             "%s: need configurations (%lld), trials (%lld) and images (%lld) >= 1",
                             p, (long long)m->n_configs, (long long)m->trials,
                             (long long)m->images);
    if (m->n_configs > INT64_MAX / m->trials)
        return cim_error_set(err, CIM_ERR_USAGE, "%s: too many chips", p);
    for (int i = 0; i < m->n_columns; ++i) {
        const cim_h5_sweep_column *c = &m->columns[i];
        if (!c->name || c->width < 1 || c->width > 4 || (c->width > 1 && !c->parts) ||
            (c->kind == CIM_H5_SWEEP_TEXT ? !c->str || c->width != 1 : !c->num))
            return cim_error_set(err, CIM_ERR_USAGE, "%s: column %d is malformed", p, i);
    }
    return 0;
}

static int write_root_attributes(cim_h5_sweep *w, const cim_h5_sweep_meta *m, cim_error *err)
{
    const cim_h5_value attrs[] = {
        {"trials", CIM_H5_INT64, &m->trials, 0, NULL},
        {"images", CIM_H5_INT64, &m->images, 0, NULL},
        {"first_image", CIM_H5_INT64, &m->first_image, 0, NULL},
        {"n_configs", CIM_H5_INT64, &m->n_configs, 0, NULL},
        {"experiment_path", CIM_H5_STRING, m->experiment_path, 0, NULL},
        {"experiment_json", CIM_H5_STRING, m->experiment_json, 0, NULL},
        {"grid_sha256", CIM_H5_STRING, m->grid_sha256, 0, NULL},
        {"dataset_images", CIM_H5_STRING, m->dataset_images, 0, NULL},
        {"dataset_labels", CIM_H5_STRING, m->dataset_labels, 0, NULL},
        {"dataset_images_sha256", CIM_H5_STRING, m->dataset_images_sha256, 0, NULL},
        {"dataset_labels_sha256", CIM_H5_STRING, m->dataset_labels_sha256, 0, NULL},
    };
    return cim_h5file_attrs(w->file, cim_h5file_root(w->file), attrs, sizeof attrs / sizeof *attrs,
                            err);
}

/* One /configs column, written whole. */
static int write_column(cim_h5_sweep *w, hid_t g, const cim_h5_sweep_column *c, cim_error *err)
{
    const hsize_t dims[2] = {(hsize_t)w->configs, (hsize_t)c->width};
    const int rank = c->width > 1 ? 2 : 1;
    const cim_h5_value parts[] = {{"columns", CIM_H5_STRINGS, c->parts, (hsize_t)c->width, NULL}};
    const size_t n_attrs = c->width > 1 ? 1 : 0;
    const size_t n = (size_t)w->configs * (size_t)c->width;
    int rc;
    switch (c->kind) {
    case CIM_H5_SWEEP_TEXT: {
        hid_t type = H5Tcopy(H5T_C_S1);
        if (type < 0 || H5Tset_size(type, H5T_VARIABLE) < 0 ||
            H5Tset_cset(type, H5T_CSET_UTF8) < 0) {
            if (type >= 0)
                H5Tclose(type);
            return cim_error_set(err, CIM_ERR_IO, "%s: HDF5 failed to make a string type",
                                 cim_h5file_path(w->file));
        }
        rc = cim_h5file_write_dataset(w->file, g, c->name, type, 1, dims, type, c->str, NULL, 0,
                                      err);
        H5Tclose(type);
        return rc;
    }
    case CIM_H5_SWEEP_REAL:
        return cim_h5file_write_dataset(w->file, g, c->name, H5T_IEEE_F64LE, rank, dims,
                                        H5T_NATIVE_DOUBLE, c->num, parts, n_attrs, err);
    case CIM_H5_SWEEP_INT:
    case CIM_H5_SWEEP_FLAG: {
        int64_t *v = malloc(sizeof *v * (n ? n : 1));
        if (!v)
            return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", cim_h5file_path(w->file));
        for (size_t i = 0; i < n; ++i)
            v[i] = (int64_t)c->num[i];
        rc = cim_h5file_write_dataset(w->file, g, c->name,
                                      c->kind == CIM_H5_SWEEP_FLAG ? H5T_STD_U8LE : H5T_STD_I64LE,
                                      rank, dims, H5T_NATIVE_INT64, v, parts, n_attrs, err);
        free(v);
        return rc;
    }
    }
    return cim_error_set(err, CIM_ERR_USAGE, "%s: column %s of unknown kind",
                         cim_h5file_path(w->file), c->name);
}

static int create_configs(cim_h5_sweep *w, const cim_h5_sweep_meta *m, cim_error *err)
{
    const hsize_t dims[1] = {(hsize_t)w->configs};
    const char **keys = malloc(sizeof *keys * (size_t)(m->n_columns ? m->n_columns : 1));
    const cim_h5_value done_attr[] = {
        {"description", CIM_H5_STRING, "1 once the configuration's summary is written", 0, NULL}};
    const cim_h5_value rows_attr[] = {
        {"description", CIM_H5_STRING,
         "trials of the configuration written (rows of /trials final)", 0, NULL}};
    hid_t g;
    int rc;
    if (!keys)
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", cim_h5file_path(w->file));
    for (int i = 0; i < m->n_columns; ++i)
        keys[i] = m->columns[i].name;
    if ((rc = cim_h5file_group(w->file, "configs", &g, err)) != 0) {
        free(keys);
        return rc;
    }
    const cim_h5_value keys_attr = {"keys", CIM_H5_STRINGS, keys, (hsize_t)m->n_columns, NULL};
    if (m->n_columns > 0)
        rc = cim_h5file_attrs(w->file, g, &keys_attr, 1, err);
    for (int i = 0; rc == 0 && i < m->n_columns; ++i)
        rc = write_column(w, g, &m->columns[i], err);
    if (rc == 0)
        rc = cim_h5file_write_dataset(w->file, g, "done", H5T_STD_U8LE, 1, dims, H5T_NATIVE_UINT8,
                                      w->done, done_attr, 1, err);
    if (rc == 0)
        rc = cim_h5file_write_dataset(w->file, g, "trials_written", H5T_STD_I64LE, 1, dims,
                                      H5T_NATIVE_INT64, w->rows, rows_attr, 1, err);
    free(keys);
    return cim_h5file_close_group(w->file, g, rc, err);
}

static int create_results(cim_h5_sweep *w, cim_error *err)
{
    const hsize_t c[1] = {(hsize_t)w->configs}, ct[2] = {(hsize_t)w->configs, (hsize_t)w->trials};
    const cim_h5_value dims_attr[] = {
        {"dims", CIM_H5_STRING, "config,trial", 0, NULL},
        {"definition", CIM_H5_STRING, "correct / images of each chip", 0, NULL}};
    const char *names[N_STATS];
    hid_t g;
    int rc = cim_h5file_group(w->file, "summary", &g, err);
    if (rc != 0)
        return rc;
    for (int i = 0; i < N_STATS; ++i)
        names[i] = stats[i].name;
    const cim_h5_value keys = {"keys", CIM_H5_STRINGS, names, N_STATS, NULL};
    rc = cim_h5file_attrs(w->file, g, &keys, 1, err);
    for (int i = 0; rc == 0 && i < N_STATS; ++i) {
        const cim_h5_value d = {"description", CIM_H5_STRING, stats[i].description, 0, NULL};
        rc = cim_h5file_empty_dataset(w->file, g, stats[i].name, H5T_IEEE_F64LE, 1, c,
                                      CIM_H5_FILL_NAN, &d, 1, err);
    }
    if ((rc = cim_h5file_close_group(w->file, g, rc, err)) != 0 ||
        (rc = cim_h5file_group(w->file, "trials", &g, err)) != 0)
        return rc;
    rc = cim_h5file_empty_dataset(w->file, g, "top1", H5T_IEEE_F64LE, 2, ct,
                                  CIM_H5_PER_TRIAL | CIM_H5_FILL_NAN, dims_attr, 2, err);
    if (rc == 0)
        rc = cim_h5file_empty_dataset(w->file, g, "top5", H5T_IEEE_F64LE, 2, ct,
                                      CIM_H5_PER_TRIAL | CIM_H5_FILL_NAN, dims_attr, 2, err);
    return cim_h5file_close_group(w->file, g, rc, err);
}

int cim_h5_sweep_create(const cim_h5_sweep_meta *m, cim_h5_sweep **out, cim_error *err)
{
    cim_h5_sweep *w;
    int rc;
    *out = NULL;
    if ((rc = check_meta(m, err)) != 0)
        return rc;
    w = calloc(1, sizeof *w);
    if (!w || !(w->rows = calloc((size_t)m->n_configs, sizeof *w->rows)) ||
        !(w->done = calloc((size_t)m->n_configs, 1))) {
        cim_h5_sweep_discard(w);
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", m->out->path);
    }
    w->configs = m->n_configs;
    w->trials = m->trials;
    w->images = m->images;
    {
        const cim_h5file_spec file = {
            .out = m->out,
            .format = CIM_H5_SWEEP_FORMAT,
            .format_version = CIM_H5_SWEEP_FORMAT_VERSION,
            .flags = CIM_H5FILE_MARKS_COMPLETE,
            .prov = m->prov,
            .seed = m->seed,
            .config_json = "",
            .trials = m->n_configs * m->trials, /* chips, configuration order */
        };
        rc = cim_h5file_create(&file, &w->file, err);
    }
    if (rc == 0 && (rc = write_root_attributes(w, m, err)) == 0 &&
        (rc = create_configs(w, m, err)) == 0 && (rc = create_results(w, err)) == 0)
        rc = cim_h5file_flush(w->file, err);
    if (rc != 0) {
        cim_h5_sweep_discard(w);
        return rc;
    }
    *out = w;
    return 0;
}

int cim_h5_sweep_append(cim_h5_sweep *w, int64_t config, int64_t trial_first, int64_t n,
                        const int64_t *top1, const int64_t *top5, cim_error *err)
{
    cim_h5file *f = w->file;
    const char *path = cim_h5file_path(f);
    int rc;
    if (config < 0 || config >= w->configs || trial_first < 0 || n < 1 ||
        trial_first + n > w->trials || !top1 || !top5)
        return cim_error_set(err, CIM_ERR_USAGE,
                             "%s: configuration %lld, trials %lld..+%lld: out of range", path,
                             (long long)config, (long long)trial_first, (long long)n);
    if ((rc = cim_h5file_check_append(f, config * w->trials + trial_first, n, err)) != 0)
        return rc;
    for (int64_t t = 0; t < n; ++t)
        if (top1[t] < 0 || top5[t] < top1[t] || top5[t] > w->images)
            return cim_error_set(err, CIM_ERR_USAGE,
                                 "%s: configuration %lld trial %lld: %lld top-1 and %lld top-5 "
                                 "correct of %lld images",
                                 path, (long long)config, (long long)(trial_first + t),
                                 (long long)top1[t], (long long)top5[t], (long long)w->images);
    double *acc = malloc(sizeof *acc * 2 * (size_t)n);
    if (!acc)
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", path);
    for (int64_t t = 0; t < n; ++t) {
        acc[t] = (double)top1[t] / (double)w->images;
        acc[n + t] = (double)top5[t] / (double)w->images;
    }
    const hsize_t start[2] = {(hsize_t)config, (hsize_t)trial_first}, count[2] = {1, (hsize_t)n};
    const hsize_t one[1] = {(hsize_t)config}, single[1] = {1};
    const int64_t rows = trial_first + n;
    if ((rc = cim_h5file_write_region(f, "trials/top1", 2, start, count, H5T_NATIVE_DOUBLE, acc,
                                      err)) == 0 &&
        (rc = cim_h5file_write_region(f, "trials/top5", 2, start, count, H5T_NATIVE_DOUBLE, acc + n,
                                      err)) == 0 &&
        (rc = cim_h5file_write_region(f, "configs/trials_written", 1, one, single, H5T_NATIVE_INT64,
                                      &rows, err)) == 0 &&
        (rc = cim_h5file_commit(f, n, 1, err)) == 0)
        w->rows[config] = rows;
    free(acc);
    return rc;
}

int cim_h5_sweep_done(cim_h5_sweep *w, int64_t config, const cim_h5_sweep_result *r, cim_error *err)
{
    cim_h5file *f = w->file;
    const char *path = cim_h5file_path(f);
    double v[N_STATS];
    char name[64];
    int rc = 0;
    if (config < 0 || config >= w->configs || w->rows[config] != w->trials || w->done[config] ||
        !r || !r->top1 || !r->top5 || r->top1->trials != w->trials ||
        r->top5->trials != w->trials || r->top1->images != w->images)
        return cim_error_set(err, CIM_ERR_USAGE,
                             "%s: configuration %lld is not complete, done already, or its "
                             "summary does not describe its %lld trials of %lld images",
                             path, (long long)config, (long long)w->trials, (long long)w->images);
    stat_values(r, v);
    const hsize_t one[1] = {(hsize_t)config}, single[1] = {1};
    const uint8_t done = 1;
    for (int i = 0; rc == 0 && i < N_STATS; ++i) {
        snprintf(name, sizeof name, "summary/%s", stats[i].name);
        rc = cim_h5file_write_region(f, name, 1, one, single, H5T_NATIVE_DOUBLE, &v[i], err);
    }
    if (rc == 0 &&
        (rc = cim_h5file_write_region(f, "configs/done", 1, one, single, H5T_NATIVE_UINT8, &done,
                                      err)) == 0 &&
        (rc = cim_h5file_flush(f, err)) == 0)
        w->done[config] = 1;
    return rc;
}

int cim_h5_sweep_start(cim_h5_sweep *w, cim_error *err)
{
    return cim_h5file_start(w->file, err);
}

int64_t cim_h5_sweep_chips_written(const cim_h5_sweep *w)
{
    return cim_h5file_trials_written(w->file);
}

int cim_h5_sweep_finish(cim_h5_sweep *w, cim_error *err)
{
    int rc = cim_h5file_check_finish(w->file, err);
    if (rc != 0)
        return rc;
    for (int64_t c = 0; c < w->configs; ++c)
        if (!w->done[c])
            return cim_error_set(err, CIM_ERR_USAGE, "%s: configuration %lld has no summary",
                                 cim_h5file_path(w->file), (long long)c);
    return cim_h5file_finish(w->file, err);
}

const char *cim_h5_sweep_partial_path(const cim_h5_sweep *w)
{
    return cim_h5file_partial_path(w->file);
}

void cim_h5_sweep_discard(cim_h5_sweep *w)
{
    if (!w)
        return;
    cim_h5file_discard(w->file);
    free(w->rows);
    free(w->done);
    free(w);
}
