/* cim_walk.h -- the one layer walk of a network: every evaluation of a
 * model (the exact forward pass, the plain-C reference network, the host and
 * device pipelines of the executor) runs its layers through cim_walk, with
 * its own per-layer steps: one for a layer on crossbars, one for a layer
 * run exactly. The walk owns the order of the layers and which activation
 * buffer holds what; a step owns the arithmetic of one layer.
 *
 * Activations are two opaque buffers (host int32 arrays, or device buffers)
 * that take turns as a layer's input and output. What a buffer holds for a
 * layer -- one tensor per image, or one per image and chip after the first
 * crossbar layer (cim_plan_shared_input) -- is the steps' business.
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

/* A step's return value when it left its output in its input buffer (a
 * flatten, which needs no copy in C order): the walk does not swap. */
#define CIM_WALK_IN_PLACE 1

typedef int (*cim_walk_step)(void *ctx, const cim_plan *p, int32_t l, void *x, void *y,
                             cim_error *err);

typedef struct cim_walk_steps {
    cim_walk_step crossbar; /* layer l on its crossbar (cim_plan_on_crossbar) */
    cim_walk_step exact;    /* layer l exactly */
} cim_walk_steps;

/* Layers [from, to) of plan p. act[*cur] holds the input of layer `from`;
 * each layer reads act[*cur] and writes act[1 - *cur], after which *cur
 * flips (unless the step returned CIM_WALK_IN_PLACE). On return act[*cur]
 * holds the output of layer to - 1. 0, or the first failing step's code. */
int cim_walk(const cim_plan *p, int32_t from, int32_t to, const cim_walk_steps *steps, void *ctx,
             void *const act[2], int *cur, cim_error *err);

/* The exact step on host int32 tensors for walks whose every buffer holds
 * one tensor: cim_forward_layer (ctx unused). */
int cim_walk_exact_one(void *ctx, const cim_plan *p, int32_t l, void *x, void *y, cim_error *err);

#endif /* CIM_WALK_H */
