/* cim_walk.h -- the one layer walk of a network: every evaluation of a
 * model (the exact forward pass, the plain-C reference network, the host and
 * device pipelines of the executor) runs its layers through cim_walk, with
 * its own per-layer steps: one for a layer on crossbars, one for a layer
 * run exactly. The walk owns the order of the layers and which activation
 * buffer holds which tensor (the plan's slots, cim_plan.h); a step owns the
 * arithmetic of one layer.
 *
 * Activations are the plan's n_slots opaque buffers (host int32 arrays, or
 * device buffers): a layer reads its inputs' buffers and writes its own,
 * never one of its inputs'. A flatten is no step at all: its output is its
 * input's buffer, read as the flat vector. What a buffer holds for a
 * tensor -- one tensor per image, or one per image and chip
 * (cim_plan_shared) -- is the steps' business.
 *
 * State that evolves across a chip's reads (read disturb) belongs to the
 * crossbar step's context, not to the walk: the walk visits layers in model
 * order once per call, and the caller fixes the order of images and chips.
 */
#ifndef CIM_WALK_H
#define CIM_WALK_H

#include <stdint.h>

#include "cim_error.h"
#include "cim_plan.h"

/* Layer l: x[j] is the buffer of its input j (layer->inputs[j]), y its own. */
typedef int (*cim_walk_step)(void *ctx, const cim_plan *p, int32_t l, void *const *x, void *y,
                             cim_error *err);

typedef struct cim_walk_steps {
    cim_walk_step crossbar; /* layer l on its crossbar (cim_plan_on_crossbar) */
    cim_walk_step exact;    /* layer l exactly */
} cim_walk_steps;

/* Layers [from, to) of plan p over the buffers slots[0 .. p->n_slots): the
 * inputs of those layers must be in their buffers (cim_plan_slot); on
 * return every output is in its own. 0, or the first failing step's code. */
int cim_walk(const cim_plan *p, int32_t from, int32_t to, const cim_walk_steps *steps, void *ctx,
             void *const *slots, cim_error *err);

/* The buffer that holds tensor t (CIM_MODEL_INPUT: the model input). */
static inline void *cim_walk_tensor(const cim_plan *p, void *const *slots, int32_t t)
{
    return slots[cim_plan_slot(p, t)];
}

/* The exact step on host int32 tensors for walks whose every buffer holds
 * one tensor: cim_forward_node (ctx unused). */
int cim_walk_exact_one(void *ctx, const cim_plan *p, int32_t l, void *const *x, void *y,
                       cim_error *err);

#endif /* CIM_WALK_H */
