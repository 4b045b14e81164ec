/* cim_mc_work.h -- the Monte-Carlo's work items over the job's ranks, their
 * results to one writer in order (docs/mpi.md).
 *
 * The caller (`cimgpu run`, `cimgpu sweep`) cuts its work into items, each
 * one chunk of chips of one configuration (cim_mc_item), in the order its
 * results file stores them. Every random draw is keyed by the global trial
 * and dataset image, so an item gives the same bits on any rank and device;
 * what decides the file's bytes is only that the writer receives the items
 * in order, which this module guarantees.
 *
 * One process: the items run in order, each delivered as it finishes.
 * Several ranks (cim_ranks.h): rank 0 hands items out on demand, each
 * rank holding up to CIM_MC_WORK_AHEAD so that it never waits for the next,
 * and computes items itself between serving the others; finished items
 * come back to rank 0 as result blocks (cim_mc_result.h) and are delivered
 * in item order, at most CIM_MC_WORK_WINDOW_PER_RANK x ranks items ahead of
 * the oldest unfinished one (the memory a slow item can hold up).
 *
 * A failure anywhere -- a rank's error, a signal on rank 0 or on any other
 * rank -- stops the work at item boundaries: rank 0 returns the error
 * (another rank's prefixed "rank K (HOST): "), every rank stops after its
 * current item, and what was delivered stays delivered.
 */
#ifndef CIM_MC_WORK_H
#define CIM_MC_WORK_H

#include <stdint.h>

#include "cim_error.h"
#include "cim_mc_result.h"
#include "cim_montecarlo.h"

#define CIM_MC_WORK_AHEAD 2
#define CIM_MC_WORK_WINDOW_PER_RANK 8

typedef struct cim_mc_work_ops {
    void *ctx;
    int64_t n_items;
    cim_mc_result_shape shape; /* what each result holds besides its counts */
    /* Rank 0: item k, 0 <= k < n_items. */
    void (*item)(void *ctx, int64_t k, cim_mc_item *it);
    /* Every rank: the Monte-Carlo of item it, run as cim_mc_run(..., sink =
     * cim_mc_work_sink, progress = cim_mc_work_progress, ctx = emit) with
     * profile_sink = cim_mc_work_profiles when it profiles: its one chunk
     * goes to emit. */
    int (*compute)(void *ctx, const cim_mc_item *it, void *emit, cim_error *err);
    /* Rank 0: each item's result, in item order. */
    int (*deliver)(void *ctx, const cim_mc_result *r, cim_error *err);
    /* Rank 0, between items and while it waits: nonzero stops the work
     * with that error (a caught signal). */
    int (*poll)(void *ctx, cim_error *err);
    /* Rank 0: chips done, of the delivered items plus the running part of
     * an item computed here; NULL for none. */
    void (*progress)(void *ctx, double chips);
} cim_mc_work_ops;

/* What rank 0 measured of a job of several ranks (docs/mpi.md, the cost
 * model); zeros for one process except items and compute_s. */
typedef struct cim_mc_work_stats {
    int64_t items, items_here; /* delivered; of those, computed on rank 0 */
    double compute_s;          /* compute seconds summed over the items (all ranks) */
    double deliver_s;          /* rank 0 delivering (writing) */
    double receive_s;          /* rank 0 receiving and checking result blocks */
    double wait_s;             /* rank 0 idle, waiting for results */
    double wall_s;             /* the whole work */
    int64_t bytes_received;    /* result blocks from other ranks */
} cim_mc_work_stats;

/* Runs the items (every rank calls it, after cim_ranks_agree). Returns 0
 * or the first failure's code; on rank 0 err names it. */
int cim_mc_work_run(const cim_mc_work_ops *ops, cim_mc_work_stats *stats, cim_error *err);

/* The exit status every rank returns after a failed work phase (rank 0's
 * decides; 0 after success). */
int cim_mc_work_exit_status(void);

/* The cim_mc_run callbacks for compute (ctx: its `emit`). */
int cim_mc_work_sink(void *emit, const cim_mc_chunk *chunk, cim_error *err);
int cim_mc_work_profiles(void *emit, int64_t trial_first, int32_t n, uint64_t *const *profiles,
                         cim_error *err);
void cim_mc_work_progress(void *emit, double done);

#endif /* CIM_MC_WORK_H */
