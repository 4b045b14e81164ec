/* cim_walk.c -- see cim_walk.h. */
#include "cim_walk.h"

#include "cim_forward.h"

int cim_walk(const cim_plan *p, int32_t from, int32_t to, const cim_walk_steps *steps, void *ctx,
             void *const act[2], int *cur, cim_error *err)
{
    for (int32_t l = from; l < to; ++l) {
        const cim_walk_step step =
            cim_plan_on_crossbar(&p->layers[l]) ? steps->crossbar : steps->exact;
        const int rc = step(ctx, p, l, act[*cur], act[1 - *cur], err);
        if (rc < 0)
            return rc;
        if (rc != CIM_WALK_IN_PLACE)
            *cur = 1 - *cur;
    }
    return 0;
}

int cim_walk_exact_one(void *ctx, const cim_plan *p, int32_t l, void *x, void *y, cim_error *err)
{
    (void)ctx;
    (void)err;
    cim_forward_layer(p->layers[l].layer, x, y);
    return 0;
}
