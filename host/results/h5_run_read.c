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

#include "cim_h5file.h"
#include "cim_h5util.h"

#define SHOWN_MAX 48 /* longer values are only said to differ */

static int differs(cim_error *err, const char *path, const char *name, const char *theirs,
                   const char *ours)
{
    if (strlen(theirs) <= SHOWN_MAX && strlen(ours) <= SHOWN_MAX)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "--resume: %s is another run's: its %s is \"%s\", this run's \"%s\"",
                             path, name, theirs, ours);
    return cim_error_set(err, CIM_ERR_INPUT, "--resume: %s is another run's: its %s differs", path,
                         name);
}

static int unreadable(cim_error *err, const char *path, const char *what)
{
    return cim_error_set(err, CIM_ERR_INPUT,
                         "--resume: %s cannot be resumed: no cimgpu run results file (%s)", path,
                         what);
}

static int same_string(hid_t file, const char *path, const char *name, const char *ours,
                       cim_error *err)
{
    char *theirs = NULL;
    int rc = 0;
    if (!ours)
        ours = "";
    if (cim_h5_attr_read_string(file, name, &theirs) < 0)
        rc = unreadable(err, path, name);
    else if (strcmp(theirs, ours) != 0)
        rc = differs(err, path, name, theirs, ours);
    free(theirs);
    return rc;
}

/* A scalar numeric attribute (kind CIM_H5_INT64, CIM_H5_UINT64 or
 * CIM_H5_DOUBLE) equal to *ours. */
static int same_number(hid_t file, const char *path, const char *name, cim_h5_kind kind,
                       const void *ours, cim_error *err)
{
    union {
        int64_t i;
        uint64_t u;
        double d;
    } theirs, mine;
    char a[32], b[32];
    int equal;
    if (cim_h5_attr_read_scalar(file, name, cim_h5_mem_type(kind), &theirs) < 0)
        return unreadable(err, path, name);
    memcpy(&mine, ours, kind == CIM_H5_DOUBLE ? sizeof mine.d : sizeof mine.i);
    switch (kind) {
    case CIM_H5_DOUBLE:
        equal = theirs.d == mine.d;
        snprintf(a, sizeof a, "%.17g", theirs.d);
        snprintf(b, sizeof b, "%.17g", mine.d);
        break;
    case CIM_H5_UINT64:
        equal = theirs.u == mine.u;
        snprintf(a, sizeof a, "%llu", (unsigned long long)theirs.u);
        snprintf(b, sizeof b, "%llu", (unsigned long long)mine.u);
        break;
    default:
        equal = theirs.i == mine.i;
        snprintf(a, sizeof a, "%lld", (long long)theirs.i);
        snprintf(b, sizeof b, "%lld", (long long)mine.i);
        break;
    }
    return equal ? 0 : differs(err, path, name, a, b);
}

static int check_identity(hid_t file, const char *path, const cim_h5_run_meta *m, cim_error *err)
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
        rc = same_string(file, path, strings[i].name, strings[i].ours, err);
    for (size_t i = 0; rc == 0 && i < sizeof numbers / sizeof *numbers; ++i)
        rc = same_number(file, path, numbers[i].name, CIM_H5_INT64, &numbers[i].ours, err);
    if (rc == 0)
        rc = same_number(file, path, "seed", CIM_H5_UINT64, &m->seed, err);
    if (rc == 0)
        rc = same_number(file, path, "yield_target", CIM_H5_DOUBLE, &m->yield_target, err);
    return rc;
}

/* Rows 0 .. n-1 of the per-trial dataset `name` ([T] or [T][inner]) into buf;
 * the dataset must hold at least n rows of exactly `inner` values. */
static int read_rows(hid_t file, const char *path, const char *name, int64_t n, hsize_t inner,
                     hid_t mem_type, void *buf, cim_error *err)
{
    hid_t dset = H5Dopen2(file, name, H5P_DEFAULT), space = -1, mem = -1;
    hsize_t dims[2] = {0, 0}, start[2] = {0, 0}, count[2] = {(hsize_t)n, inner};
    const int rank = inner ? 2 : 1;
    int ok = 0;
    if (dset >= 0 && (space = H5Dget_space(dset)) >= 0 &&
        H5Sget_simple_extent_ndims(space) == rank &&
        H5Sget_simple_extent_dims(space, dims, NULL) == rank && dims[0] >= (hsize_t)n &&
        (!inner || dims[1] == inner)) {
        if (n == 0)
            ok = 1;
        else if (H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
                 (mem = H5Screate_simple(rank, count, NULL)) >= 0 &&
                 H5Dread(dset, mem_type, mem, space, H5P_DEFAULT, buf) >= 0)
            ok = 1;
    }
    if (mem >= 0)
        H5Sclose(mem);
    if (space >= 0)
        H5Sclose(space);
    if (dset >= 0)
        H5Dclose(dset);
    return ok ? 0 : unreadable(err, path, name);
}

/* The ADC input profiles of trials 0 .. n-1, per crossbar layer. */
static int read_profiles(hid_t file, const char *path, const cim_h5_run_meta *m, int64_t n,
                         cim_h5_run_prior *p, cim_error *err)
{
    char name[4096];
    p->profiles = calloc((size_t)m->n_layers, sizeof *p->profiles);
    if (!p->profiles)
        return cim_error_set(err, CIM_ERR_NOMEM, "--resume: %s: out of memory", path);
    p->n_profiles = m->n_layers;
    for (int32_t c = 0; c < m->n_layers; ++c) {
        const int64_t slots = m->profiles[c].bins + 2;
        p->profiles[c] = malloc(sizeof(uint64_t) * (size_t)(n ? n : 1) * (size_t)slots);
        if (!p->profiles[c])
            return cim_error_set(err, CIM_ERR_NOMEM, "--resume: %s: out of memory", path);
        snprintf(name, sizeof name, "profile/%s/trial_counts", m->layer_names[c]);
        int rc =
            read_rows(file, path, name, n, (hsize_t)slots, H5T_NATIVE_UINT64, p->profiles[c], err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int read_trials(hid_t file, const char *path, const cim_h5_run_meta *m, cim_h5_run_prior *p,
                       cim_error *err)
{
    int64_t n;
    hid_t counter = H5Dopen2(file, CIM_H5FILE_COUNTER, H5P_DEFAULT);
    herr_t st =
        counter < 0 ? -1 : H5Dread(counter, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &n);
    int rc;
    if (counter >= 0)
        H5Dclose(counter);
    if (st < 0)
        return unreadable(err, path, CIM_H5FILE_COUNTER);
    if (n < 0 || n > m->trials)
        return unreadable(err, path, "trials_written out of range");
    p->correct = malloc(sizeof *p->correct * (size_t)(n ? n : 1));
    p->layer_error_rate =
        malloc(sizeof *p->layer_error_rate * (size_t)(n ? n : 1) * (size_t)m->n_layers);
    if (m->trace)
        p->predictions = malloc(sizeof *p->predictions * (size_t)(n ? n : 1) * (size_t)m->images);
    if (!p->correct || !p->layer_error_rate || (m->trace && !p->predictions))
        return cim_error_set(err, CIM_ERR_NOMEM, "--resume: %s: out of memory for %lld trials",
                             path, (long long)n);
    if ((rc = read_rows(file, path, "trials/correct", n, 0, H5T_NATIVE_INT64, p->correct, err)) !=
            0 ||
        (rc = read_rows(file, path, "trials/layer_error_rate", n, (hsize_t)m->n_layers,
                        H5T_NATIVE_DOUBLE, p->layer_error_rate, err)) != 0 ||
        (m->trace && (rc = read_rows(file, path, "trace/predictions", n, (hsize_t)m->images,
                                     H5T_NATIVE_INT16, p->predictions, err)) != 0))
        return rc;
    for (int64_t t = 0; t < n; ++t)
        if (p->correct[t] < 0 || p->correct[t] > m->images)
            return unreadable(err, path, "a correct count out of range");
    if (m->profiles && (rc = read_profiles(file, path, m, n, p, err)) != 0)
        return rc;
    p->trials = n;
    return 0;
}

int cim_h5_run_read_partial(const char *path, const cim_h5_run_meta *expect,
                            cim_h5_run_prior *prior, cim_error *err)
{
    hid_t fapl, file;
    int rc;
    memset(prior, 0, sizeof *prior);
    cim_h5_quiet();
    fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0)
        return unreadable(err, path, "HDF5 failed to start");
#if H5_VERSION_GE(1, 10, 7)
    H5Pset_file_locking(fapl, 0, 1);
#endif
    file = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl);
    H5Pclose(fapl);
    if (file < 0)
        return unreadable(err, path, "HDF5 cannot open it");
    rc = check_identity(file, path, expect, err);
    if (rc == 0)
        rc = read_trials(file, path, expect, prior, err);
    H5Fclose(file);
    if (rc != 0)
        cim_h5_run_prior_free(prior);
    return rc;
}

void cim_h5_run_prior_free(cim_h5_run_prior *prior)
{
    free(prior->correct);
    free(prior->layer_error_rate);
    free(prior->predictions);
    for (int32_t c = 0; prior->profiles && c < prior->n_profiles; ++c)
        free(prior->profiles[c]);
    free(prior->profiles);
    memset(prior, 0, sizeof *prior);
}
