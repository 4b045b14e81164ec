/* cim_exec_cache.h -- what every chip of a Monte-Carlo run shares, computed
 * once per range of images instead of once per chunk of trials.
 *
 * A layer whose output every chip shares (cim_plan_shared: no crossbar layer
 * went into it) gives the same bytes for every chunk of trials, and so does
 * the preparation of a crossbar layer whose input every chip shares (its
 * input vectors, the engine's input sums and entry lists, the exact products
 * the error counts compare with). The Monte-Carlo driver owns one cache per
 * run and names it in every executor job (cim_exec_job.cache); the executor
 * keeps those things in it on the first call for a range of images and
 * reuses them on the next. A job for another range of images empties it.
 * Results never depend on it: what a call reuses is what it would compute.
 *
 * What is kept per layer l:
 *   - output: the layer's output [images][size], for a shared layer that a
 *     per-chip layer reads (cim_exec_cache_needed). Once every such output is
 *     kept, the other shared layers -- read only by shared layers -- need not
 *     run at all (cim_exec_cache_complete).
 *   - inputs, exact: for a crossbar layer with a shared input, its input
 *     vectors as cim_engine_inputs_prepare leaves them on the device, and
 *     the exact W x (cim_layer_exact.h) when errors are counted.
 */
#ifndef CIM_EXEC_CACHE_H
#define CIM_EXEC_CACHE_H

#include <stdint.h>

#include "cim_engine.h"
#include "cim_plan.h"

typedef struct cim_exec_kept {
    int32_t *output;
    cim_engine_inputs *inputs;
    int32_t *exact;
} cim_exec_kept;

typedef struct cim_exec_cache cim_exec_cache;

/* A cache for plan p, empty; NULL when out of memory. */
cim_exec_cache *cim_exec_cache_new(const cim_plan *p);
void cim_exec_cache_free(cim_exec_cache *c); /* NULL is a no-op */

/* Binds the cache to the images of a job (dataset index of the first, count
 * and position in the chips' image order), emptying it when it held other
 * images. */
void cim_exec_cache_bind(cim_exec_cache *c, uint32_t first_image, int64_t n_images,
                         int64_t image_position);

/* What is kept for layer l (fields NULL where nothing is). */
cim_exec_kept *cim_exec_cache_layer(cim_exec_cache *c, int32_t l);

/* 1 when layer l's output is shared and a per-chip layer (or the caller, for
 * the last layer) reads it. */
int cim_exec_cache_needed(const cim_exec_cache *c, int32_t l);

/* 1 when every needed output is kept. */
int cim_exec_cache_complete(const cim_exec_cache *c);

#endif /* CIM_EXEC_CACHE_H */
