/* cim_netref.c -- a network on simulated crossbars, the slow and obvious way
 * (see cim_netref.h). The walk's buffers (cim_forward_buffers), one tensor
 * of the model's largest size each, hold the activations of the one image; each crossbar layer
 * allocates its vectors and results for the call and frees them before it returns.
 */
#include "cim_netref.h"

#include <stdlib.h>
#include <string.h>

#include "cim_forward.h"
#include "cim_reference.h"
#include "cim_walk.h"

typedef struct netref_image {
    uint32_t image_index, trial;
    int64_t image_position;    /* in the chip's image order (read disturb) */
    uint64_t *const *profiles; /* per crossbar layer, or NULL */
} netref_image;

/* One layer on its crossbar: x[0] (int32, the layer's input) to y (int32). */
static int crossbar_step(void *ctx, const cim_plan *p, int32_t l, void *const *xs, void *y,
                         cim_error *err)
{
    const int32_t *x = xs[0];
    const netref_image *im = ctx;
    const cim_layer_plan *lp = &p->layers[l];
    const cim_layer_mvm *g = &lp->mvm;
    const int32_t n_vectors = g->positions * g->planes;
    int8_t *vectors = malloc((size_t)n_vectors * (size_t)g->cols);
    int32_t *out = malloc(sizeof(int32_t) * (size_t)n_vectors * (size_t)g->rows);
    int32_t *folded = malloc(sizeof(int32_t) * (size_t)g->positions * (size_t)g->rows);
    int rc = 0;
    if (!vectors || !out || !folded) {
        rc = cim_error_set(err, CIM_ERR_NOMEM, "layer %s: out of memory", lp->layer->name);
        goto done;
    }
    cim_geometry_vectors(g, lp->gather, x, vectors);
    const cim_mvm_trace profile = {NULL, NULL, im->profiles ? im->profiles[lp->crossbar] : NULL};
    if (cim_reference_mvm_at(&lp->xbar, g->weights, g->rows, g->cols, vectors, n_vectors,
                             im->image_index * (uint32_t)n_vectors, im->image_position * n_vectors,
                             im->trial, out, &profile) != 0) {
        rc = cim_error_set(err, CIM_ERR_NOMEM, "layer %s: out of memory", lp->layer->name);
        goto done;
    }
    cim_geometry_fold(g, out, folded);
    cim_geometry_outputs(g, lp->row_sums, folded, y);
done:
    free(vectors);
    free(out);
    free(folded);
    return rc;
}

int cim_netref_image(const cim_plan *p, const uint8_t *pixels, uint32_t image_index, uint32_t trial,
                     int32_t *scores, cim_error *err)
{
    return cim_netref_image_at(p, pixels, image_index, image_index, trial, scores, NULL, err);
}

int cim_netref_image_profiled(const cim_plan *p, const uint8_t *pixels, uint32_t image_index,
                              uint32_t trial, int32_t *scores, uint64_t *const *profiles,
                              cim_error *err)
{
    return cim_netref_image_at(p, pixels, image_index, image_index, trial, scores, profiles, err);
}

int cim_netref_image_at(const cim_plan *p, const uint8_t *pixels, uint32_t image_index,
                        int64_t image_position, uint32_t trial, int32_t *scores,
                        uint64_t *const *profiles, cim_error *err)
{
    const cim_model *m = p->model;
    static const cim_walk_steps steps = {crossbar_step, cim_walk_exact_one};
    netref_image im = {image_index, trial, image_position, profiles};
    int32_t **act = cim_forward_buffers(p, 1, err);
    if (!act)
        return CIM_ERR_NOMEM;
    void *const *slots = (void *const *)act;
    int32_t *x = cim_walk_tensor(p, slots, CIM_MODEL_INPUT);
    for (int64_t k = 0; k < cim_shape_size(&m->input_shape); ++k)
        x[k] = pixels[k];
    int rc = cim_walk(p, 0, m->num_layers, &steps, &im, slots, err);
    if (rc == 0) {
        memcpy(scores, cim_walk_tensor(p, slots, m->num_layers - 1),
               sizeof(int32_t) * (size_t)m->num_classes);
        rc = cim_forward_argmax(scores, m->num_classes);
    }
    cim_forward_buffers_free(p, act);
    return rc;
}
