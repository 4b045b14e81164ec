/* cim_montecarlo.h -- the network Monte-Carlo: many simulated chips (trials)
 * classify the same images; each trial's correct count is one sample of the
 * chip-accuracy distribution (docs/design.md §1).
 *
 * Trials run in chunks and images in chunks inside them, both sized so that
 * the executor's activations stay within a memory budget: memory does not grow
 * with the number of trials. After each chunk of trials the sink receives its
 * per-trial correct counts (and, on request, every prediction), in trial
 * order, so a caller can write them out as they finish.
 */
#ifndef CIM_MONTECARLO_H
#define CIM_MONTECARLO_H

#include <stdint.h>

#include "cim_error.h"
#include "cim_exec.h"
#include "cim_exec_cache.h"
#include "cim_ocl.h"
#include "cim_plan.h"

/* Receives the ADC input profiles (cim_profile.h) of trials [trial_first,
 * trial_first + n), before `sink` gets the same trials: profiles[c] is
 * [n][CIM_PROFILE_SLOTS(bins)] counters of crossbar layer c (NULL for a
 * layer that does not profile). Returns 0 or a CIM_ERR_* code. */
typedef int (*cim_mc_profile_sink)(void *ctx, int64_t trial_first, int32_t n,
                                   uint64_t *const *profiles, cim_error *err);

typedef struct cim_mc_setup {
    const cim_plan *plan;
    const uint8_t *images; /* n_images images of the model's input shape */
    const uint8_t *labels; /* n_images labels */
    int64_t n_images;
    uint32_t first_image; /* dataset index of images[0] (C2C keys) */
    uint32_t trial_first; /* global index of the first trial (replay) */
    int64_t n_trials;
    int64_t memory_bytes;     /* activation budget; 0: a default */
    int32_t max_chunk_trials; /* 0: as the budget allows; tests force fewer trials per call */
    int skip_layer_errors;    /* 1: no per-layer error rates (the sink gets NULL);
                               * saves the exact evaluation of every crossbar layer */
    cim_pipeline pipeline;    /* the executor's pipeline (cim_exec.h); AUTO by default */
    /* With a profiling plan (its xbars' profile bins > 0): receives each
     * chunk's ADC input profiles; NULL counts none. */
    cim_mc_profile_sink profile_sink;
    /* Optional: what every chip shares (cim_exec_cache.h), kept across the
     * calls of a caller that runs the trials of one plan and set of images in
     * several calls (work items); NULL: the call keeps its own. */
    cim_exec_cache *cache;
} cim_mc_setup;

/* The top-k accuracy the Monte-Carlo counts beside the top-1 (ImageNet's
 * and the CIM-Explorer flow's second figure). */
#define CIM_MC_TOP_K 5

/* One finished chunk: trials [trial_first, trial_first + n), in order. An
 * image counts as correct when its label is the predicted class
 * (cim_forward_argmax: the largest score, ties to the lowest class), and as
 * top-5 correct when its label's rank (cim_forward_label_rank, the same tie
 * rule) is below CIM_MC_TOP_K: with ties the classes of lower index rank
 * first, so a label tied with others at the fifth place counts only if it
 * is among the lowest indices of the tie. */
typedef struct cim_mc_chunk {
    int64_t trial_first;
    int32_t n;
    const int64_t *correct;      /* [n]: images classified right */
    const int64_t *top5_correct; /* [n]: images whose label ranks among the top 5 */
    /* [n * L] (L = plan->n_crossbar): per crossbar layer the fraction of its
     * outputs that differ from the exact W x of the same inputs; NULL with
     * skip_layer_errors */
    const double *layer_error;
    const int32_t *predictions; /* [n * n_images] if requested, else NULL */
} cim_mc_chunk;

/* Receives each finished chunk. Returns 0 or a CIM_ERR_* code. */
typedef int (*cim_mc_sink)(void *ctx, const cim_mc_chunk *chunk, cim_error *err);

/* Called after every chunk with the fraction of the work done. */
typedef void (*cim_mc_progress)(void *ctx, double done);

int cim_mc_run(cim_ocl *ocl, const cim_mc_setup *s, int want_predictions, cim_mc_sink sink,
               cim_mc_progress progress, void *ctx, cim_error *err);

/* Trials and images per executor call for the budget (both >= 1). */
void cim_mc_chunks(const cim_mc_setup *s, int32_t *trials, int64_t *images);

#endif /* CIM_MONTECARLO_H */
