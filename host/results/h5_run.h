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
 *   dataset_images_sha256, dataset_labels_sha256   their bytes' SHA-256
 *   mapping         e.g. "TNN_I"                  strings ("" for NULL)
 *   first_layer     where weight layers on raw pixels ran: "host" (exact)
 *                   or "crossbar" (bit-sliced)     string
 *   trials          T the run was asked for       int64
 *   trial_offset    global index of trial 0 (--trial-offset)     int64
 *   images          K, images per trial           int64
 *   first_image     index in the IDX file of the first image      int64
 *   yield_target    accuracy the yield counts     float64
 *   trace           1 if /trace is present        int32
 *   c2c_model       the C2C read model asked for: "cell" or "column"   string
 *   c2c_model_used  per crossbar layer, the model that read its C2C:
 *                   "column", "cell" or "off" (no C2C)         string [L]
 *   c2c_bound_p_differs, c2c_bound_mean_abs_diff_na   per crossbar layer,
 *                   the column law's clipping bounds (cim_c2c_bound.h):
 *                   P(a column read differs from the per-cell one) and
 *                   E|I_cell - I_column| in nA; NaN without Gaussian C2C
 *                                                  float64 [L]
 *
 * trials_written (root dataset, int64 scalar): trials 0 .. trials_written-1
 *   of every /trials and /trace dataset are final; equals T in a finished
 *   file. A reader of a growing file reads it first, then that many rows.
 *
 * /trials (group): one row per trial, trial t at row t; extendible along
 *   trials, chunked by whole trials (64 KiB chunks), shuffle+deflate once the
 *   expected size reaches 64 KiB.
 *   accuracy          float64 [T]    correct / images, each exactly that quotient
 *   correct           int64   [T]    images classified correctly
 *   top5_accuracy     float64 [T]    top5_correct / images
 *   top5_correct      int64   [T]    images whose label ranks among the 5 best
 *                                    scores (cim_montecarlo.h: ties to the
 *                                    lower class)
 *   layer_error_rate  float64 [T][L] attributes:
 *                       layers      string [L]: the crossbar layers' names, in order
 *                       definition  CIM_H5_RUN_LAYER_ERROR_DEFINITION
 *   each with attribute dims ("trial" or "trial,layer").
 *
 * /summary (group, created with the layout holding NaN / -1, filled by
 *   finish): one scalar dataset per number, each
 *   with a "description" attribute --
 *   float64: mean, std, ci95_lo, ci95_hi, min, max, q01, q05, q50, yield,
 *            yield_target, digital_accuracy, top5_mean, top5_std,
 *            top5_ci95_lo, top5_ci95_hi, digital_top5_accuracy;
 *   int64: trials, images, digital_correct, digital_top5_correct.
 *   Definitions: cim_stats.h.
 *   Scalar datasets rather than a compound or attributes: every number has
 *   its own path, read the same way everywhere -- h5py
 *   f["summary/mean"][()], MATLAB h5read(file, "/summary/mean"), Julia
 *   read(f["summary/mean"]), h5dump -d /summary/mean -- and
 *   {k: v[()] for k, v in f["summary"].items()} is a dict that pandas takes
 *   as it is; a compound would come back as a numpy record or MATLAB struct
 *   whose field access differs per reader.
 *
 * /profile (group, only with meta->profiles): the ADC input profile of each
 *   crossbar layer, per trial and summed (layout in h5_profile.h).
 * /read_disturb (group, only with meta->disturb): the chips' read-disturb
 *   counters per crossbar layer and their image order (h5_disturb.h).
 *
 * /trace (group, only with meta->trace), attribute first_image (int64)
 *   predictions  int16 [T][K]  predicted class of image first_image + k in
 *                trial t; extendible, chunked by whole trials; attribute dims
 *   labels       int16 [K]     the true classes of those images
 *
 * Writing and crash safety (the life cycle of cim_h5file.h): create makes
 * the whole layout in the claimed new file; start switches it to SWMR and
 * names it "R.h5.partial"; each append grows the per-trial datasets by a
 * batch (hyperslab writes, memory independent of T), flushes, then raises
 * trials_written. HDF5's SWMR mode keeps the file readable at every moment,
 * so a process killed at any point leaves a partial file whose first
 * trials_written trials are whole (cim_h5_run_read_partial reads them back to
 * resume). finish fills /summary, sets complete = 1, closes, fsyncs and
 * renames onto R.h5. HDF5 failures are CIM_ERR_IO naming R.h5; misuse
 * (trials out of order, counts out of range, a summary that does not match,
 * append or finish after finish) CIM_ERR_USAGE.
 */
#ifndef H5_RUN_H
#define H5_RUN_H

#include <stdint.h>

#include "cim_adc_profile.h"
#include "cim_error.h"
#include "cim_outfile.h"
#include "cim_provenance.h"
#include "cim_stats.h"
#include "h5_disturb.h"

#define CIM_H5_RUN_FORMAT "cimgpu-run"
#define CIM_H5_RUN_FORMAT_VERSION 2 /* 2: top-5 accuracy */

/* The definition attribute of /trials/top5_correct. */
#define CIM_H5_RUN_TOP5_DEFINITION                                                                 \
    "images whose label is among the 5 highest scores (ties ranked by class index, lower first, "  \
    "as the top-1 prediction)"

/* What the driver must put in layer_error_rate (stored as the attribute). */
#define CIM_H5_RUN_LAYER_ERROR_DEFINITION                                                          \
    "fraction of the layer's integer outputs in the trial (over all its images, output "           \
    "positions and channels; the tiles of an output added) that differ from the exact product "    \
    "W x of the same inputs"

typedef struct cim_h5_run cim_h5_run; /* an open, partial results file */

typedef struct cim_h5_run_meta {
    cim_outfile *out;           /* the claimed file (cim_outfile.h); path R.h5 */
    const cim_provenance *prov; /* tool, revision, command line, device, time */
    uint64_t seed;
    const char *config_json;  /* resolved config */
    const char *model_path;   /* the model file as given */
    const char *model_sha256; /* hex digest of its bytes; NULL: stored as "" */
    const char *dataset_images, *dataset_labels;
    const char *dataset_images_sha256, *dataset_labels_sha256; /* NULL: stored as "" */
    const char *mapping;
    const char *first_layer;        /* "host" or "crossbar" */
    int64_t trials;                 /* T, >= 1: finish requires exactly this many */
    int64_t trial_offset;           /* global index of trial 0 */
    int64_t images;                 /* K, >= 1 */
    int64_t first_image;            /* >= 0 */
    double yield_target;            /* must equal the summary's */
    int32_t n_layers;               /* L, >= 1 crossbar layers */
    const char *const *layer_names; /* L names, none NULL */
    int trace;                      /* 1: /trace with per-image predictions */
    const uint8_t *labels;          /* K true classes; required with trace */
    /* ADC input profiles (h5_profile.h): L entries (range and bins; their
     * counts unused) for /profile, or NULL: no /profile. */
    const cim_adc_profile *profiles;
    /* Read disturb (h5_disturb.h): the chips' counters for /read_disturb, or
     * NULL: no /read_disturb. */
    const cim_disturb_report *disturb;
    /* C2C (the root attributes above): the model asked for, and per crossbar
     * layer the model used and the two bounds; all required. */
    const char *c2c_model;
    const char *const *c2c_model_used;
    const double *c2c_bound_p_differs, *c2c_bound_mean_abs_diff_na;
} cim_h5_run_meta;

/* Checks meta, creates the file in meta->out with the root attributes, the
 * empty per-trial datasets and the summary placeholders. 0, or
 * CIM_ERR_USAGE (bad meta), CIM_ERR_IO (HDF5 failed: the message names
 * R.h5), CIM_ERR_NOMEM; on failure *out is NULL. */
int cim_h5_run_create(const cim_h5_run_meta *meta, cim_h5_run **out, cim_error *err);

/* Appends trials trial_first .. trial_first + n_trials - 1, where
 * trial_first must be the number of trials appended so far:
 *   correct           [n_trials], each 0..images
 *   top5_correct      [n_trials], each correct[t]..images
 *   layer_error_rate  [n_trials][n_layers], row-major
 *   predictions       [n_trials][images], row-major; required with trace,
 *                     ignored without
 * Checks come before any write (CIM_ERR_USAGE, CIM_ERR_NOMEM leave the file
 * as it was). After a CIM_ERR_IO the file may hold part of the batch:
 * further appends and finish refuse; discard it. Each append flushes the
 * file (about 1 ms), so append batches that take far longer than that. */
int cim_h5_run_append(cim_h5_run *w, int64_t trial_first, int64_t n_trials, const int64_t *correct,
                      const int64_t *top5_correct, const double *layer_error_rate,
                      const int16_t *predictions, cim_error *err);

/* With meta->profiles: the ADC input profiles of the trials the next
 * cim_h5_run_append takes (same trial_first and n_trials), counts[c]
 * [n_trials][bins + 2] for crossbar layer c; that append refuses a batch
 * without them. Written at once; the append commits both. */
int cim_h5_run_append_profile(cim_h5_run *w, int64_t trial_first, int64_t n_trials,
                              const uint64_t *const *counts, cim_error *err);

/* Publishes the file as R.h5.partial in SWMR mode (cim_h5file_start):
 * after the layout and any trials copied from a predecessor. */
int cim_h5_run_start(cim_h5_run *w, cim_error *err);

/* Trials appended so far. */
int64_t cim_h5_run_trials_written(const cim_h5_run *w);

/* What finish writes to /summary: top1 and top5 from cim_summarize over
 * all the trials' correct and top5_correct counts (their trials, images and
 * yield_target must match the file), and the noise-free chip's counts. */
typedef struct cim_h5_run_totals {
    const cim_summary *top1, *top5;
    int64_t digital_correct, digital_top5_correct;
} cim_h5_run_totals;

/* Fills /summary from t, the digital accuracies as counts / images, marks
 * the file complete and publishes
 * it as R.h5 (cim_outfile_publish). Needs cim_h5_run_start. CIM_ERR_USAGE
 * (checked before any write) leaves the file as it was; after CIM_ERR_IO the
 * file is unusable. Either way w stays until cim_h5_run_discard; whether
 * R.h5.partial stays is cim_outfile_release's choice, and an R.h5 that
 * existed is left as it was unless the publish replaced it. */
int cim_h5_run_finish(cim_h5_run *w, const cim_h5_run_totals *t, cim_error *err);

/* The partial file's name. */
const char *cim_h5_run_partial_path(const cim_h5_run *w);

/* Releases w, finished or not: closes the file and frees w; file names are
 * cim_outfile_release's. NULL ok. Every handle create returns goes here
 * exactly once. */
void cim_h5_run_discard(cim_h5_run *w);

/* ---- resume: the finished trials of an interrupted run ---- */

typedef struct cim_h5_run_prior {
    int64_t trials;           /* n: trials_written of the partial file */
    int64_t *correct;         /* [n] */
    int64_t *top5_correct;    /* [n] */
    double *layer_error_rate; /* [n][L] */
    int16_t *predictions;     /* [n][K] with trace, else NULL */
    uint64_t **profiles;      /* with expect->profiles: [L] of [n][bins + 2], else NULL */
    int32_t n_profiles;       /* L with profiles */
} cim_h5_run_prior;

/* Opens the partial file at `path` as an SWMR reader, checks that it is the
 * run `expect` describes -- format, tool version and revision, model and
 * dataset digests, resolved config, seed, trial range, image range, mapping,
 * first-layer placement, trace, yield target; the number of crossbar
 * layers through the shape of trials/layer_error_rate -- and reads
 * its first trials_written trials. 0; CIM_ERR_INPUT naming the first thing
 * that differs ("its seed is 1, this run's is 0") or why the file cannot be
 * read; CIM_ERR_NOMEM. Free *prior with cim_h5_run_prior_free. */
int cim_h5_run_read_partial(const char *path, const cim_h5_run_meta *expect,
                            cim_h5_run_prior *prior, cim_error *err);
void cim_h5_run_prior_free(cim_h5_run_prior *prior);

#endif /* H5_RUN_H */
