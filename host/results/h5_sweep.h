/* h5_sweep.h -- the results file of a design-space sweep (`cimgpu sweep
 * EXP.json --out S.h5`, docs/sweep.md): C configurations, each a network
 * Monte-Carlo of T chips on the same K images. Any HDF5 reader opens it
 * without our code.
 *
 * Root attributes: the common ones (cim_h5file.h: format "cimgpu-sweep",
 *   format_version, complete, tool_version, git_revision, command_line,
 *   device, created, seed, config_json = ""), and
 *   trials (T), images (K), first_image, n_configs (C)   int64
 *   experiment_path, experiment_json (the file as given), grid_sha256,
 *   dataset_images, dataset_labels, dataset_images_sha256,
 *   dataset_labels_sha256                                  strings
 *
 * trials_written (root dataset, int64 scalar): the chips finished, counted
 *   in configuration order -- configuration c, trial t is chip c * T + t --
 *   so configurations 0 .. W/T - 1 are complete and configuration W/T has
 *   its first W mod T trials. The only authority on what is final.
 *
 * /configs (group; attribute keys = the column names in order): one
 *   dataset per column of the experiment, C entries: strings (variable-length
 *   UTF-8), int64, float64, uint8 (booleans), C x k for pairs and triples
 *   with attribute columns = their k names; then, written as the sweep goes,
 *   done (uint8 [C], 1 once the configuration's summary is in) and
 *   trials_written (int64 [C], its final rows).
 * /summary (group; attribute keys = the statistics in order): float64 [C]
 *   per statistic, NaN until the configuration
 *   is done: top1_mean, top1_std, top1_ci95_lo, top1_ci95_hi, top1_q01,
 *   top1_q05, top1_q50, top1_min, top1_max, yield, yield_target, top5_mean,
 *   top5_std, top1_baseline, top5_baseline, seconds; each with a
 *   description attribute.
 * /trials (group): top1, top5 float64 [C][T], the chips' accuracies (correct
 *   / images), NaN where not written yet; chunked by whole configurations.
 *
 * Life cycle (cim_h5file.h): create makes the whole layout; appends may come
 * before start (a resumed sweep copies its predecessor's chips); start
 * publishes S.h5.partial in SWMR mode; each append writes one chunk of one
 * configuration's trials, flushes, then raises trials_written; done(c)
 * writes that configuration's summary; finish needs every configuration
 * done. HDF5 failures are CIM_ERR_IO naming S.h5, misuse CIM_ERR_USAGE.
 */
#ifndef H5_SWEEP_H
#define H5_SWEEP_H

#include <stdint.h>

#include "cim_error.h"
#include "cim_outfile.h"
#include "cim_provenance.h"
#include "cim_stats.h"

#define CIM_H5_SWEEP_FORMAT "cimgpu-sweep"
#define CIM_H5_SWEEP_FORMAT_VERSION 1

typedef enum cim_h5_sweep_kind {
    CIM_H5_SWEEP_TEXT,
    CIM_H5_SWEEP_INT,
    CIM_H5_SWEEP_REAL,
    CIM_H5_SWEEP_FLAG,
} cim_h5_sweep_kind;

/* One /configs column: C x width values, numbers in num (integers and
 * flags as exact doubles), texts in str. */
typedef struct cim_h5_sweep_column {
    const char *name;
    cim_h5_sweep_kind kind;
    int width;                /* 1, or the number of parts */
    const char *const *parts; /* width > 1: the parts' names */
    const double *num;        /* [C * width] */
    char *const *str;         /* [C] */
} cim_h5_sweep_column;

typedef struct cim_h5_sweep_meta {
    cim_outfile *out;
    const cim_provenance *prov;
    uint64_t seed;
    int64_t n_configs, trials, images, first_image;
    const char *experiment_path, *experiment_json, *grid_sha256;
    const char *dataset_images, *dataset_labels;
    const char *dataset_images_sha256, *dataset_labels_sha256;
    const cim_h5_sweep_column *columns;
    int n_columns;
} cim_h5_sweep_meta;

/* A finished configuration's /summary entries. */
typedef struct cim_h5_sweep_result {
    const cim_summary *top1, *top5; /* cim_summarize of its T chips */
    double top1_baseline, top5_baseline;
    double seconds;
} cim_h5_sweep_result;

typedef struct cim_h5_sweep cim_h5_sweep;

int cim_h5_sweep_create(const cim_h5_sweep_meta *meta, cim_h5_sweep **out, cim_error *err);

/* Trials trial_first .. trial_first + n - 1 of configuration `config`: the
 * next chips in configuration order (config * T + trial_first must equal
 * the chips written so far). top1[n], top5[n]: correct counts,
 * 0 <= top1 <= top5 <= images. */
int cim_h5_sweep_append(cim_h5_sweep *w, int64_t config, int64_t trial_first, int64_t n,
                        const int64_t *top1, const int64_t *top5, cim_error *err);

/* Writes configuration c's summary and marks it done, then flushes; all its
 * T trials must be in. */
int cim_h5_sweep_done(cim_h5_sweep *w, int64_t config, const cim_h5_sweep_result *r,
                      cim_error *err);

int cim_h5_sweep_start(cim_h5_sweep *w, cim_error *err);

/* Chips written so far (configuration order). */
int64_t cim_h5_sweep_chips_written(const cim_h5_sweep *w);

/* Every configuration done: complete = 1, published as S.h5. */
int cim_h5_sweep_finish(cim_h5_sweep *w, cim_error *err);

const char *cim_h5_sweep_partial_path(const cim_h5_sweep *w);

/* Closes the file and frees w (NULL ok); names are cim_outfile_release's. */
void cim_h5_sweep_discard(cim_h5_sweep *w);

/* ---- resume ---- */

typedef struct cim_h5_sweep_prior {
    int64_t chips;        /* W: trials_written of the partial file */
    int64_t *top1, *top5; /* [W] correct counts, configuration order */
    double *seconds;      /* [C]: the done configurations' time, else NaN */
} cim_h5_sweep_prior;

/* Opens the partial file at `path` as an SWMR reader, checks that it is the
 * sweep `expect` describes -- format, tool version and revision, grid hash,
 * seed, trials, images, configurations, dataset digests -- and reads its
 * finished chips. 0; CIM_ERR_INPUT naming what differs or why the file
 * cannot be read; CIM_ERR_NOMEM. Free with cim_h5_sweep_prior_free. */
int cim_h5_sweep_read_partial(const char *path, const cim_h5_sweep_meta *expect,
                              cim_h5_sweep_prior *prior, cim_error *err);
void cim_h5_sweep_prior_free(cim_h5_sweep_prior *prior);

#endif /* H5_SWEEP_H */
