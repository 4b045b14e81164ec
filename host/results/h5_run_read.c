/* h5_run_read.c -- reads an interrupted run's partial file back, to resume
 * it (h5_run.h, "resume"). The file is opened as an SWMR reader, as any
 * analysis tool would open it while a run writes it: that mode reads a file
 * whose writer died without closing it, and takes no lock.
 *
 * Identity: every root attribute that decides the run's numbers is compared
 * with the run that resumes (the table in check_identity); the device and
 * the pipeline are not, as they never change a result. The first difference
 * is the error, naming the attribute and, where short, both values.
 */
#include "h5_run.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim_h5resume.h"

static int check_identity(const cim_h5_resume *f, const cim_h5_run_meta *m, cim_error *err)
{
    const struct {
        const char *name, *ours;
    } strings[] = {
        {"format", CIM_H5_RUN_FORMAT},
        {"tool_version", m->prov->tool_version},
        {"git_revision", m->prov->git_revision},
        {"model_sha256", m->model_sha256},
        {"dataset_images_sha256", m->dataset_images_sha256},
        {"dataset_labels_sha256", m->dataset_labels_sha256},
        {"config_json", m->config_json},
        {"mapping", m->mapping},
        {"first_layer", m->first_layer},
    };
    const struct {
        const char *name;
        int64_t ours;
    } numbers[] = {
        {"format_version", CIM_H5_RUN_FORMAT_VERSION},
        {"trials", m->trials},
        {"trial_offset", m->trial_offset},
        {"images", m->images},
        {"first_image", m->first_image},
        {"trace", m->trace ? 1 : 0},
    };
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof strings / sizeof *strings; ++i)
        rc = cim_h5_resume_same_string(f, strings[i].name, strings[i].ours, err);
    for (size_t i = 0; rc == 0 && i < sizeof numbers / sizeof *numbers; ++i)
        rc = cim_h5_resume_same_number(f, numbers[i].name, CIM_H5_INT64, &numbers[i].ours, err);
    if (rc == 0)
        rc = cim_h5_resume_same_number(f, "seed", CIM_H5_UINT64, &m->seed, err);
    if (rc == 0)
        rc = cim_h5_resume_same_number(f, "yield_target", CIM_H5_DOUBLE, &m->yield_target, err);
    return rc;
}

/* The ADC input profiles of trials 0 .. n-1, per crossbar layer. */
static int read_profiles(const cim_h5_resume *f, const cim_h5_run_meta *m, int64_t n,
                         cim_h5_run_prior *p, cim_error *err)
{
    char name[4096];
    p->profiles = calloc((size_t)m->n_layers, sizeof *p->profiles);
    if (!p->profiles)
        return cim_error_set(err, CIM_ERR_NOMEM, "--resume: %s: out of memory", f->path);
    p->n_profiles = m->n_layers;
    for (int32_t c = 0; c < m->n_layers; ++c) {
        const int64_t slots = m->profiles[c].bins + 2;
        p->profiles[c] = malloc(sizeof(uint64_t) * (size_t)(n ? n : 1) * (size_t)slots);
        if (!p->profiles[c])
            return cim_error_set(err, CIM_ERR_NOMEM, "--resume: %s: out of memory", f->path);
        snprintf(name, sizeof name, "profile/%s/trial_counts", m->layer_names[c]);
        int rc = cim_h5_resume_read_rows(f, name, 0, n, (hsize_t)slots, H5T_NATIVE_UINT64,
                                         p->profiles[c], err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int read_trials(const cim_h5_resume *f, const cim_h5_run_meta *m, cim_h5_run_prior *p,
                       cim_error *err)
{
    int64_t n;
    int rc = cim_h5_resume_counter(f, m->trials, &n, err);
    if (rc != 0)
        return rc;
    p->correct = malloc(sizeof *p->correct * (size_t)(n ? n : 1));
    p->top5_correct = malloc(sizeof *p->top5_correct * (size_t)(n ? n : 1));
    p->layer_error_rate =
        malloc(sizeof *p->layer_error_rate * (size_t)(n ? n : 1) * (size_t)m->n_layers);
    if (m->trace)
        p->predictions = malloc(sizeof *p->predictions * (size_t)(n ? n : 1) * (size_t)m->images);
    if (!p->correct || !p->top5_correct || !p->layer_error_rate || (m->trace && !p->predictions))
        return cim_error_set(err, CIM_ERR_NOMEM, "--resume: %s: out of memory for %lld trials",
                             f->path, (long long)n);
    if ((rc = cim_h5_resume_read_rows(f, "trials/correct", 0, n, 0, H5T_NATIVE_INT64, p->correct,
                                      err)) != 0 ||
        (rc = cim_h5_resume_read_rows(f, "trials/top5_correct", 0, n, 0, H5T_NATIVE_INT64,
                                      p->top5_correct, err)) != 0 ||
        (rc = cim_h5_resume_read_rows(f, "trials/layer_error_rate", 0, n, (hsize_t)m->n_layers,
                                      H5T_NATIVE_DOUBLE, p->layer_error_rate, err)) != 0 ||
        (m->trace && (rc = cim_h5_resume_read_rows(f, "trace/predictions", 0, n, (hsize_t)m->images,
                                                   H5T_NATIVE_INT16, p->predictions, err)) != 0))
        return rc;
    for (int64_t t = 0; t < n; ++t)
        if (p->correct[t] < 0 || p->top5_correct[t] < p->correct[t] ||
            p->top5_correct[t] > m->images)
            return cim_h5_resume_unreadable(f, "a correct count out of range", err);
    if (m->profiles && (rc = read_profiles(f, m, n, p, err)) != 0)
        return rc;
    p->trials = n;
    return 0;
}

int cim_h5_run_read_partial(const char *path, const cim_h5_run_meta *expect,
                            cim_h5_run_prior *prior, cim_error *err)
{
    cim_h5_resume f;
    int rc;
    memset(prior, 0, sizeof *prior);
    if ((rc = cim_h5_resume_open(&f, path, "run", err)) != 0)
        return rc;
    rc = check_identity(&f, expect, err);
    if (rc == 0)
        rc = read_trials(&f, expect, prior, err);
    cim_h5_resume_close(&f);
    if (rc != 0)
        cim_h5_run_prior_free(prior);
    return rc;
}

void cim_h5_run_prior_free(cim_h5_run_prior *prior)
{
    free(prior->correct);
    free(prior->top5_correct);
    free(prior->layer_error_rate);
    free(prior->predictions);
    for (int32_t c = 0; prior->profiles && c < prior->n_profiles; ++c)
        free(prior->profiles[c]);
    free(prior->profiles);
    memset(prior, 0, sizeof *prior);
}
