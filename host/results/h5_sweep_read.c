/* h5_sweep_read.c -- reads an interrupted sweep's partial file back, to
 * resume it (h5_sweep.h, "resume"; the reading itself is cim_h5resume.h's).
 *
 * Identity: what decides the numbers -- the tool, the resolved grid (its
 * hash covers every configuration's model, images and keys), seed, trials,
 * images and the dataset files' digests -- must equal the resuming sweep's.
 * The finished chips are the first trials_written in configuration order;
 * their counts come back from the stored accuracies (correct / images is
 * exact to within half a unit in the last place, so the rounding of
 * accuracy x images is the count).
 */
#include "h5_sweep.h"

#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cim_h5resume.h"

static int check_identity(const cim_h5_resume *f, const cim_h5_sweep_meta *m, cim_error *err)
{
    const struct {
        const char *name, *ours;
    } strings[] = {
        {"format", CIM_H5_SWEEP_FORMAT},
        {"tool_version", m->prov->tool_version},
        {"git_revision", m->prov->git_revision},
        {"grid_sha256", m->grid_sha256},
        {"dataset_images_sha256", m->dataset_images_sha256},
        {"dataset_labels_sha256", m->dataset_labels_sha256},
    };
    const struct {
        const char *name;
        int64_t ours;
    } numbers[] = {
        {"format_version", CIM_H5_SWEEP_FORMAT_VERSION},
        {"n_configs", m->n_configs},
        {"trials", m->trials},
        {"images", m->images},
        {"first_image", m->first_image},
    };
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof strings / sizeof *strings; ++i)
        rc = cim_h5_resume_same_string(f, strings[i].name, strings[i].ours, err);
    for (size_t i = 0; rc == 0 && i < sizeof numbers / sizeof *numbers; ++i)
        rc = cim_h5_resume_same_number(f, numbers[i].name, CIM_H5_INT64, &numbers[i].ours, err);
    if (rc == 0)
        rc = cim_h5_resume_same_number(f, "seed", CIM_H5_UINT64, &m->seed, err);
    return rc;
}

/* Rows of trials/<name> for chips 0 .. W-1 (configuration order) as counts. */
static int read_counts(const cim_h5_resume *f, const cim_h5_sweep_meta *m, const char *name,
                       int64_t chips, int64_t *counts, double *row, cim_error *err)
{
    const int64_t t = m->trials;
    const hsize_t dims[2] = {(hsize_t)m->n_configs, (hsize_t)t};
    for (int64_t c = 0; c * t < chips; ++c) {
        const int64_t n = chips - c * t < t ? chips - c * t : t;
        const hsize_t start[2] = {(hsize_t)c, 0}, count[2] = {1, (hsize_t)n};
        const int rc =
            cim_h5_resume_read_block(f, name, 2, dims, start, count, H5T_NATIVE_DOUBLE, row, err);
        if (rc != 0)
            return rc;
        for (int64_t k = 0; k < n; ++k) {
            const double v = row[k] * (double)m->images;
            if (!(v >= -0.5 && v <= (double)m->images + 0.5))
                return cim_h5_resume_unreadable(f, "an accuracy out of range", err);
            counts[c * t + k] = llround(v);
        }
    }
    return 0;
}

static int read_chips(const cim_h5_resume *f, const cim_h5_sweep_meta *m, cim_h5_sweep_prior *p,
                      cim_error *err)
{
    int64_t w;
    double *row = NULL;
    int rc = cim_h5_resume_counter(f, m->n_configs * m->trials, &w, err);
    if (rc != 0)
        return rc;
    p->top1 = malloc(sizeof *p->top1 * (size_t)(w ? w : 1));
    p->top5 = malloc(sizeof *p->top5 * (size_t)(w ? w : 1));
    p->seconds = malloc(sizeof *p->seconds * (size_t)m->n_configs);
    row = malloc(sizeof *row * (size_t)m->trials);
    if (!p->top1 || !p->top5 || !p->seconds || !row) {
        free(row);
        return cim_error_set(err, CIM_ERR_NOMEM, "--resume: %s: out of memory for %lld chips",
                             f->path, (long long)w);
    }
    if ((rc = read_counts(f, m, "trials/top1", w, p->top1, row, err)) == 0 &&
        (rc = read_counts(f, m, "trials/top5", w, p->top5, row, err)) == 0)
        rc = cim_h5_resume_read_rows(f, "summary/seconds", 0, m->n_configs, 0, H5T_NATIVE_DOUBLE,
                                     p->seconds, err);
    free(row);
    if (rc != 0)
        return rc;
    for (int64_t k = 0; k < w; ++k)
        if (p->top1[k] > p->top5[k])
            return cim_h5_resume_unreadable(f, "a top-5 count below its top-1 count", err);
    p->chips = w;
    return 0;
}

int cim_h5_sweep_read_partial(const char *path, const cim_h5_sweep_meta *expect,
                              cim_h5_sweep_prior *prior, cim_error *err)
{
    cim_h5_resume f;
    int rc;
    memset(prior, 0, sizeof *prior);
    if ((rc = cim_h5_resume_open(&f, path, "sweep", err)) != 0)
        return rc;
    rc = check_identity(&f, expect, err);
    if (rc == 0)
        rc = read_chips(&f, expect, prior, err);
    cim_h5_resume_close(&f);
    if (rc != 0)
        cim_h5_sweep_prior_free(prior);
    return rc;
}

void cim_h5_sweep_prior_free(cim_h5_sweep_prior *prior)
{
    free(prior->top1);
    free(prior->top5);
    free(prior->seconds);
    memset(prior, 0, sizeof *prior);
}
