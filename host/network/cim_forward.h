/* cim_forward.h -- the exact integer forward pass of a cimgpu model
 * (data/model_format.md §4 and §6) on the host, in plain C.
 *
 * This is the independent definition of digital inference: the executor's
 * digital mode, and every noise-free analog mode, must give the same class
 * scores image for image. It is written for clarity (straight loops over the
 * format's formulas, no im2col, no packing), not speed.
 *
 * Tensors are int32 in C order: [C][H][W] or [N]. Every value fits int32 for
 * a model that cim_model_load() accepted (rule R), so nothing here checks
 * ranges. The model is only read; the functions keep no state.
 */
#ifndef CIM_FORWARD_H
#define CIM_FORWARD_H

#include <stdint.h>

#include "cim_error.h"
#include "cim_model.h"

/* One layer of one input: x holds L->in_shape, y receives L->out_shape. x
 * and y must not overlap. add and concat take several inputs: they run
 * through cim_forward_node (here they do nothing). Exposed so that an executor can run the layers
 * it keeps on the host (the first layer on raw pixels, thresholds, pooling) with the same code that
 * defines them. */
void cim_forward_layer(const cim_layer *L, const int32_t *x, int32_t *y);

/* Layer L of model m on its inputs x[0 .. L->n_inputs) (one tensor each, the
 * shapes of L->inputs): add and concat, and every single-input layer as
 * cim_forward_layer. y must overlap no input. */
void cim_forward_node(const cim_model *m, const cim_layer *L, const int32_t *const *x, int32_t *y);

/* cim_forward_node on `tensors` tensors of each input stored one after
 * another (x[j]: [tensors][size of input j]) into y [tensors][out], split
 * over threads when the work is large. */
void cim_forward_node_each(const cim_model *m, const cim_layer *L, int64_t tensors,
                           const int32_t *const *x, int32_t *y);

/* The walk buffers of plan p (cim_walk.h): p->n_slots int32 arrays of
 * `tensors` tensors of the model's largest size each, or NULL with
 * CIM_ERR_NOMEM in err. cim_forward_buffers_free releases them (NULL is
 * fine). */
struct cim_plan;
int32_t **cim_forward_buffers(const struct cim_plan *p, int64_t tensors, cim_error *err);
void cim_forward_buffers_free(const struct cim_plan *p, int32_t **act);

/* The predicted class of a score vector: the index of the largest score,
 * ties to the lowest index. */
int32_t cim_forward_argmax(const int32_t *scores, int32_t n);

/* The rank of class `label` in a score vector under the same tie rule: the
 * number of classes ranked before it, those with a larger score and those
 * with an equal score and a lower index. Rank 0 is the argmax (top-1); the
 * label is in the top k when its rank is < k. */
int32_t cim_forward_label_rank(const int32_t *scores, int32_t n, int32_t label);

/* One image: `pixels` holds m->input_shape bytes in C order ([C][H][W]; an
 * IDX image is C = 1, byte h*W + w). Writes m->num_classes scores and returns
 * the predicted class (>= 0), or CIM_ERR_NOMEM. */
int cim_forward_image(const cim_model *m, const uint8_t *pixels, int32_t *scores, cim_error *err);

/* n_images images stored one after another (each as for cim_forward_image)
 * with their labels: *correct = number of images whose predicted class equals
 * the label. `predictions` (n_images entries) may be NULL. 0 or
 * CIM_ERR_NOMEM. */
int cim_forward_count_correct(const cim_model *m, const uint8_t *images, const uint8_t *labels,
                              int64_t n_images, int32_t *predictions, int64_t *correct,
                              cim_error *err);

#endif /* CIM_FORWARD_H */
