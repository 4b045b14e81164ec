/* cim_mc_result.h -- one finished work item of the Monte-Carlo as one block
 * of bytes: what a rank computed, kept or sent to the writer as it is
 * (docs/mpi.md, "What travels").
 *
 * A work item is a chunk of chips of one configuration: trials
 * [trial_first, trial_first + n) of configuration `config` (0 for a
 * `cimgpu run`). Its result is the chunk the Monte-Carlo driver gave its
 * sink (cim_mc_chunk: correct and top-5 counts, the layer error rates and
 * the predictions when asked for) and the ADC input profiles of its chips,
 * with the item, the rank that computed it and its compute seconds.
 *
 * The block is the wire format: a header of int64 words, then the arrays
 * (8-byte types first, the int32 predictions last), each naturally aligned,
 * so a received block is read in place. All ranks share one byte order
 * (the header's magic word catches any that does not).
 */
#ifndef CIM_MC_RESULT_H
#define CIM_MC_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "cim_error.h"
#include "cim_montecarlo.h"

typedef struct cim_mc_item {
    int64_t config;      /* configuration index (a sweep's); 0 for a run */
    int64_t trial_first; /* global trial index of its first chip */
    int32_t n;           /* chips */
} cim_mc_item;

/* What a result holds besides its counts: the error rates of n_layers
 * crossbar layers (0: none), n_pred predictions per chip (0: none), and
 * the profile counters of n_profiles crossbar layers, profile_slots[c] per
 * chip (0: layer c does not profile; n_profiles 0: no profiles). Every
 * result of a job has exactly its job's shape (cim_mc_result_fits). */
typedef struct cim_mc_result_shape {
    int32_t n_layers;
    int64_t n_pred;
    int32_t n_profiles;
    const int64_t *profile_slots;
} cim_mc_result_shape;

typedef struct cim_mc_result {
    unsigned char *bytes; /* the block (owned) */
    size_t size;
    cim_mc_item item;
    int32_t rank;
    double seconds;
    cim_mc_chunk chunk;  /* views into bytes */
    int32_t n_profiles;  /* profile arrays below; 0 without profiles */
    uint64_t **profiles; /* [n_profiles] views into bytes, NULL for a layer without */
} cim_mc_result;

/* A block for `chunk` of item it (chunk->n == it->n) and its profiles
 * (profiles[c] of n x profile_slots[c] counters; NULL when shape has none). */
int cim_mc_result_capture(cim_mc_result *r, const cim_mc_item *it, const cim_mc_result_shape *shape,
                          const cim_mc_chunk *chunk, uint64_t *const *profiles, int32_t rank,
                          double seconds, cim_error *err);

/* A received block of `size` bytes (taken over: freed with r, also on
 * error), checked and read in place. */
int cim_mc_result_adopt(cim_mc_result *r, unsigned char *bytes, size_t size, cim_error *err);

/* 1 when r holds exactly what shape says (a rank with other inputs than
 * rank 0's gives another shape; its block is refused). */
int cim_mc_result_fits(const cim_mc_result *r, const cim_mc_result_shape *shape);

void cim_mc_result_free(cim_mc_result *r);

#endif /* CIM_MC_RESULT_H */
