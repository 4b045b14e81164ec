/* h5_profile.c -- the /profile group of results files (see h5_profile.h):
 * its layout, the per-trial rows as trials are appended, and the totals and
 * statistics at finish.
 *
 * The handle keeps each layer's per-trial dataset slot (cim_h5file) and a
 * running uint64 total of the rows appended, so `counts` is the sum of the
 * file's own trial rows whatever batches they came in. It belongs to the
 * writer that created it (h5_run.c, h5_mvm.c), freed with it.
 */
#include "h5_profile.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim_profile.h"

#define PROFILE_GROUP "profile"
#define PATH_MAX_LEN 4096
#define SLOTS_DESCRIPTION                                                                          \
    "per trial: slot 0 underflow (index < 0), slot 1 + i bin i, slot bins + 1 overflow "           \
    "(index >= bins)"

typedef struct profile_layer {
    char path[PATH_MAX_LEN]; /* "profile/<name>" */
    cim_adc_profile shape;   /* counts points at total */
    uint64_t *total;         /* CIM_PROFILE_SLOTS(bins) */
    int slot;
} profile_layer;

struct cim_h5_profile {
    cim_h5file *file;
    int32_t n_layers;
    profile_layer *layers;
};

void cim_h5_profile_free(cim_h5_profile *p)
{
    for (int32_t c = 0; p && c < p->n_layers; ++c)
        free(p->layers[c].total);
    if (p)
        free(p->layers);
    free(p);
}

/* The statistics' scalar datasets (as /summary's: one path per number): the
 * finish values, or the layout's placeholders. */
static size_t stats_values(const cim_adc_profile_stats *s, cim_h5_value *v)
{
    const cim_h5_value t[] = {
        {"samples", CIM_H5_UINT64, &s->samples, 0, "samples in the bins (sum of counts)"},
        {"underflow", CIM_H5_UINT64, &s->underflow, 0, "samples below the first bin"},
        {"overflow", CIM_H5_UINT64, &s->overflow, 0, "samples above the last bin"},
        {"mean", CIM_H5_DOUBLE, &s->mean, 0, "sum count * label / samples, uA"},
        {"var", CIM_H5_DOUBLE, &s->var, 0, "sum count * (trunc(label) - mean)^2 / samples, uA^2"},
    };
    memcpy(v, t, sizeof t);
    return sizeof t / sizeof *t;
}

static int create_layer(cim_h5_profile *p, profile_layer *L, int64_t trials, cim_error *err)
{
    cim_h5file *f = p->file;
    const int64_t bins = L->shape.bins, slots = CIM_PROFILE_SLOTS(bins);
    const hsize_t nb = (hsize_t)bins, dims[2] = {(hsize_t)trials, (hsize_t)slots};
    const cim_adc_profile_stats none = {0, 0, 0, NAN, NAN};
    cim_h5_value stats[8];
    const size_t n_stats = stats_values(&none, stats);
    const cim_h5_value shape[] = {
        {"lo", CIM_H5_DOUBLE, &L->shape.lo_ua, 0, NULL},
        {"hi", CIM_H5_DOUBLE, &L->shape.hi_ua, 0, NULL},
        {"bin_size", CIM_H5_DOUBLE, &L->shape.bin_ua, 0, NULL},
        {"bins", CIM_H5_INT64, &L->shape.bins, 0, NULL},
    };
    const cim_h5_value label_attrs[] = {{"unit", CIM_H5_STRING, "uA", 0, NULL}};
    const cim_h5_value trial_attrs[] = {{"dims", CIM_H5_STRING, "trial,slot", 0, NULL},
                                        {"description", CIM_H5_STRING, SLOTS_DESCRIPTION, 0, NULL}};
    double *labels = malloc(sizeof(double) * (size_t)bins);
    hid_t g;
    int rc;
    if (!labels || !L->total)
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory for the ADC profile",
                             cim_h5file_path(f));
    for (int64_t i = 0; i < bins; ++i)
        labels[i] = cim_adc_profile_label(&L->shape, i);
    if ((rc = cim_h5file_group(f, L->path, &g, err)) != 0) {
        free(labels);
        return rc;
    }
    if ((rc = cim_h5file_attrs(f, g, shape, sizeof shape / sizeof *shape, err)) != 0) {
        free(labels);
        return cim_h5file_close_group(f, g, rc, err);
    }
    for (size_t i = 0; rc == 0 && i < n_stats; ++i) {
        const cim_h5_value description = {"description", CIM_H5_STRING, stats[i].description, 0,
                                          NULL};
        rc = cim_h5file_write_dataset(f, g, stats[i].name, cim_h5_file_type(stats[i].kind), 0, NULL,
                                      cim_h5_mem_type(stats[i].kind), stats[i].value, &description,
                                      1, err);
    }
    if (rc == 0 &&
        (rc = cim_h5file_write_dataset(f, g, "labels", H5T_IEEE_F64LE, 1, &nb, H5T_NATIVE_DOUBLE,
                                       labels, label_attrs, 1, err)) == 0 &&
        (rc = cim_h5file_write_dataset(f, g, "counts", H5T_STD_U64LE, 1, &nb, H5T_NATIVE_UINT64,
                                       L->total + 1, NULL, 0, err)) == 0)
        rc = cim_h5file_trial_dataset(f, g, "trial_counts", H5T_STD_U64LE, 2, dims,
                                      CIM_H5_EXTENDIBLE, trial_attrs, 2, &L->slot, err);
    free(labels);
    return cim_h5file_close_group(f, g, rc, err);
}

int cim_h5_profile_create(cim_h5file *f, int32_t n_layers, const char *const *names,
                          const cim_adc_profile *profiles, int64_t trials, cim_h5_profile **out,
                          cim_error *err)
{
    cim_h5_profile *p = calloc(1, sizeof *p);
    hid_t g;
    int rc = 0;
    *out = NULL;
    if (!p || !(p->layers = calloc((size_t)n_layers, sizeof *p->layers))) {
        free(p);
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", cim_h5file_path(f));
    }
    p->file = f;
    p->n_layers = n_layers;
    for (int32_t c = 0; c < n_layers; ++c)
        if (strchr(names[c], '/') || strcmp(names[c], ".") == 0 || !names[c][0]) {
            cim_h5_profile_free(p);
            return cim_error_set(err, CIM_ERR_INPUT,
                                 "%s: layer name \"%s\" cannot name an HDF5 group of the ADC "
                                 "profile",
                                 cim_h5file_path(f), names[c]);
        }
    if ((rc = cim_h5file_group(f, PROFILE_GROUP, &g, err)) == 0)
        rc = cim_h5file_close_group(f, g, rc, err);
    for (int32_t c = 0; rc == 0 && c < n_layers; ++c) {
        profile_layer *L = &p->layers[c];
        L->shape = profiles[c];
        L->total = calloc((size_t)CIM_PROFILE_SLOTS(L->shape.bins), sizeof *L->total);
        L->shape.counts = L->total;
        L->slot = -1;
        snprintf(L->path, sizeof L->path, "%s/%s", PROFILE_GROUP, names[c]);
        rc = create_layer(p, L, trials, err);
    }
    if (rc != 0) {
        cim_h5_profile_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int cim_h5_profile_append(cim_h5_profile *p, int64_t n_trials, const uint64_t *const *counts,
                          cim_error *err)
{
    for (int32_t c = 0; c < p->n_layers; ++c) {
        profile_layer *L = &p->layers[c];
        const int64_t slots = CIM_PROFILE_SLOTS(L->shape.bins);
        if (!counts[c])
            return cim_error_set(err, CIM_ERR_USAGE, "%s: no ADC profile for layer %s",
                                 cim_h5file_path(p->file), L->path);
        int rc = cim_h5file_append(p->file, L->slot, n_trials, H5T_NATIVE_UINT64, counts[c], err);
        if (rc != 0)
            return rc;
        for (int64_t t = 0; t < n_trials; ++t) /* in trial order */
            cim_adc_profile_add(L->total, counts[c] + t * slots, slots);
    }
    return 0;
}

int cim_h5_profile_finish(cim_h5_profile *p, cim_error *err)
{
    for (int32_t c = 0; c < p->n_layers; ++c) {
        profile_layer *L = &p->layers[c];
        char path[PATH_MAX_LEN + 16];
        cim_adc_profile_stats s;
        cim_h5_value v[8];
        cim_adc_profile_summarize(&L->shape, &s);
        const size_t n = stats_values(&s, v);
        snprintf(path, sizeof path, "%s/counts", L->path);
        int rc = cim_h5file_rewrite_dataset(p->file, path, H5T_NATIVE_UINT64, L->total + 1, err);
        for (size_t i = 0; rc == 0 && i < n; ++i) {
            snprintf(path, sizeof path, "%s/%s", L->path, v[i].name);
            rc = cim_h5file_rewrite_dataset(p->file, path, cim_h5_mem_type(v[i].kind), v[i].value,
                                            err);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}
