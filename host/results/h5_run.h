/* h5_run.h -- the results file of the network Monte-Carlo (`cimgpu run
 * --out R.h5`, docs/design.md §1 and §4). Any HDF5 reader opens it without our
 * code; T is the number of trials, L of crossbar layers, K of images.
 *
 * Root attributes
 *   format          "cimgpu-run"                  string
 *   format_version  1                             int32
 *   complete        0 while written, 1 once the summary is in; a file
 *                   without complete = 1 is unfinished (e.g. a copied
 *                   .partial left by a crash)        int32
 *   tool_version, git_revision, command_line, device,
 *   created (ISO-8601 UTC, "2025-01-31T12:00:00Z")  strings (cim_provenance)
 *   seed            the run's --seed              uint64
 *   config_json     the fully resolved crossbar config as JSON
 *   model_path, model_sha256 (64 lowercase hex digits; "" if not computed)
 *   dataset_images, dataset_labels   the IDX files' paths
 *   mapping         e.g. "TNN_I"                  strings ("" for NULL)
 *   first_layer     where weight layers on raw pixels ran: "host" (exact)
 *                   or "crossbar" (bit-sliced)     string
 *   trials          T the run was asked for       int64
 *   images          K, images per trial           int64
 *   first_image     index in the IDX file of the first image      int64
 *   yield_target    accuracy the yield counts     float64
 *   trace           1 if /trace is present        int32
 *
 * /trials (group): one row per trial, trial t at row t; extendible along
 *   trials, chunked by whole trials (64 KiB chunks), shuffle+deflate once the
 *   expected size reaches 64 KiB.
 *   accuracy          float64 [T]    correct / images, each exactly that quotient
 *   correct           int64   [T]    images classified correctly
 *   layer_error_rate  float64 [T][L] attributes:
 *                       layers      string [L]: the crossbar layers' names, in order
 *                       definition  CIM_H5_RUN_LAYER_ERROR_DEFINITION
 *   each with attribute dims ("trial" or "trial,layer").
 *
 * /summary (group, written by finish): one scalar dataset per number, each
 *   with a "description" attribute --
 *   float64: mean, std, ci95_lo, ci95_hi, min, max, q01, q05, q50, yield,
 *            yield_target, digital_accuracy;   int64: trials, images,
 *            digital_correct. Definitions: cim_stats.h.
 *   Scalar datasets rather than a compound or attributes: every number has
 *   its own path, read the same way everywhere -- h5py
 *   f["summary/mean"][()], MATLAB h5read(file, "/summary/mean"), Julia
 *   read(f["summary/mean"]), h5dump -d /summary/mean -- and
 *   {k: v[()] for k, v in f["summary"].items()} is a dict that pandas takes
 *   as it is; a compound would come back as a numpy record or MATLAB struct
 *   whose field access differs per reader.
 *
 * /trace (group, only with meta->trace), attribute first_image (int64)
 *   predictions  int16 [T][K]  predicted class of image first_image + k in
 *                trial t; extendible, chunked by whole trials; attribute dims
 *   labels       int16 [K]     the true classes of those images
 *
 * Writing and crash safety (the life cycle of cim_h5file.h): create writes
 * "R.h5.partial" beside R.h5 with the root attributes (complete = 0) and the
 * empty per-trial datasets; append grows them by a batch of trials
 * (hyperslab writes, memory independent of T) and flushes the file, so a
 * process that dies between appends leaves a partial file, readable by any
 * HDF5 reader, holding every trial appended (its datasets' extent is that
 * count). Dying inside an append, or the machine losing power, may leave it
 * unreadable: HDF5 1.10 keeps no journal, and the partial file is fsync'ed
 * only by finish. finish writes /summary, sets complete = 1, flushes,
 * closes, fsyncs and renames onto R.h5. Only then does R.h5 appear (or a
 * pre-existing R.h5 get replaced). HDF5 failures are CIM_ERR_IO naming R.h5;
 * misuse (trials out of order, counts out of range, a summary that does not
 * match, append or finish after finish) CIM_ERR_USAGE.
 */
#ifndef H5_RUN_H
#define H5_RUN_H

#include <stdint.h>

#include "cim_error.h"
#include "cim_provenance.h"
#include "cim_stats.h"

#define CIM_H5_RUN_FORMAT "cimgpu-run"
#define CIM_H5_RUN_FORMAT_VERSION 1

/* What the driver must put in layer_error_rate (stored as the attribute). */
#define CIM_H5_RUN_LAYER_ERROR_DEFINITION                                                          \
    "fraction of the layer's integer outputs in the trial (over all its images, output "           \
    "positions and channels; the tiles of an output added) that differ from the exact product "    \
    "W x of the same inputs"

typedef struct cim_h5_run cim_h5_run; /* an open, partial results file */

typedef struct cim_h5_run_meta {
    const char *path;           /* the file to produce */
    const cim_provenance *prov; /* tool, revision, command line, device, time */
    uint64_t seed;
    const char *config_json;  /* resolved config */
    const char *model_path;   /* the model file as given */
    const char *model_sha256; /* hex digest of its bytes; NULL: stored as "" */
    const char *dataset_images, *dataset_labels;
    const char *mapping;
    const char *first_layer;        /* "host" or "crossbar" */
    int64_t trials;                 /* T, >= 1: finish requires exactly this many */
    int64_t images;                 /* K, >= 1 */
    int64_t first_image;            /* >= 0 */
    double yield_target;            /* must equal the summary's */
    int32_t n_layers;               /* L, >= 1 crossbar layers */
    const char *const *layer_names; /* L names, none NULL */
    int trace;                      /* 1: /trace with per-image predictions */
    const uint8_t *labels;          /* K true classes; required with trace */
} cim_h5_run_meta;

/* Checks meta, creates the partial file with the root attributes and the
 * empty per-trial datasets. 0, or CIM_ERR_USAGE (bad meta), CIM_ERR_IO (the
 * folder is missing, HDF5 failed: the message names meta->path),
 * CIM_ERR_NOMEM; on failure nothing is left on disk and *out is NULL. */
int cim_h5_run_create(const cim_h5_run_meta *meta, cim_h5_run **out, cim_error *err);

/* Appends trials trial_first .. trial_first + n_trials - 1, where
 * trial_first must be the number of trials appended so far:
 *   correct           [n_trials], each 0..images
 *   layer_error_rate  [n_trials][n_layers], row-major
 *   predictions       [n_trials][images], row-major; required with trace,
 *                     ignored without
 * Checks come before any write (CIM_ERR_USAGE, CIM_ERR_NOMEM leave the file
 * as it was). After a CIM_ERR_IO the file may hold part of the batch:
 * further appends and finish refuse; discard it. Each append flushes the
 * file (about 1 ms), so append batches that take far longer than that. */
int cim_h5_run_append(cim_h5_run *w, int64_t trial_first, int64_t n_trials, const int64_t *correct,
                      const double *layer_error_rate, const int16_t *predictions, cim_error *err);

/* Trials appended so far. */
int64_t cim_h5_run_trials_written(const cim_h5_run *w);

/* Writes /summary (s from cim_summarize over all the trials: s->trials,
 * s->images and s->yield_target must match the file) and the digital
 * accuracy digital_correct / images, marks the file complete and publishes
 * it under meta->path. CIM_ERR_USAGE (checked before any write) leaves the
 * file as it was; after CIM_ERR_IO the file is unusable. Either way w stays
 * until cim_h5_run_discard, which then removes the partial file; R.h5, if
 * it existed, is left as it was. */
int cim_h5_run_finish(cim_h5_run *w, const cim_summary *s, int64_t digital_correct, cim_error *err);

/* The partial file's name, e.g. for a signal handler that removes it. */
const char *cim_h5_run_partial_path(const cim_h5_run *w);

/* Releases w, finished or not: closes the file, removes the partial file
 * unless it was published (never R.h5), frees w. NULL ok. Every handle
 * create returns goes here exactly once. */
void cim_h5_run_discard(cim_h5_run *w);

#endif /* H5_RUN_H */
