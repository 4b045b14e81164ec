/* cim_walk.c -- see cim_walk.h. */
#include "cim_walk.h"

#include "cim_forward.h"

int cim_walk(const cim_plan *p, int32_t from, int32_t to, const cim_walk_steps *steps, void *ctx,
             void *const *slots, cim_error *err)
{
    for (int32_t l = from; l < to; ++l) {
        const cim_layer *L = p->layers[l].layer;
        if (L->type == CIM_LAYER_FLATTEN)
            continue; /* its output is its input's buffer */
        void *x[CIM_MODEL_MAX_INPUTS];
        for (int j = 0; j < L->n_inputs; ++j)
            x[j] = cim_walk_tensor(p, slots, L->inputs[j]);
        const cim_walk_step step =
            cim_plan_on_crossbar(&p->layers[l]) ? steps->crossbar : steps->exact;
        const int rc = step(ctx, p, l, x, cim_walk_tensor(p, slots, l), err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int cim_walk_exact_one(void *ctx, const cim_plan *p, int32_t l, void *const *x, void *y,
                       cim_error *err)
{
    (void)ctx;
    (void)err;
    cim_forward_node(p->model, p->layers[l].layer, (const int32_t *const *)x, y);
    return 0;
}
