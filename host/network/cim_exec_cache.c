/* cim_exec_cache.c -- see cim_exec_cache.h. */
#include "cim_exec_cache.h"

#include <stdlib.h>

struct cim_exec_cache {
    const cim_plan *plan;
    uint32_t first_image;
    int64_t n_images, image_position; /* n_images 0: bound to nothing yet */
    uint8_t *needed;                  /* [num_layers] */
    cim_exec_kept *kept;              /* [num_layers] */
};

/* The layer whose buffer holds tensor t: a flatten holds its input's. */
static int32_t holder(const cim_model *m, int32_t t)
{
    while (t >= 0 && m->layers[t].type == CIM_LAYER_FLATTEN)
        t = m->layers[t].inputs[0];
    return t;
}

cim_exec_cache *cim_exec_cache_new(const cim_plan *p)
{
    cim_exec_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->plan = p;
    c->needed = calloc((size_t)p->num_layers, 1);
    c->kept = calloc((size_t)p->num_layers, sizeof *c->kept);
    if (!c->needed || !c->kept) {
        cim_exec_cache_free(c);
        return NULL;
    }
    const cim_model *m = p->model;
    for (int32_t l = 0; l < p->num_layers; ++l) {
        const cim_layer *L = &m->layers[l];
        if (L->type == CIM_LAYER_FLATTEN || cim_plan_shared(p, l))
            continue;
        for (int j = 0; j < L->n_inputs; ++j) {
            const int32_t t = holder(m, L->inputs[j]);
            if (t >= 0 && cim_plan_shared(p, t))
                c->needed[t] = 1;
        }
    }
    /* the caller reads the last tensor (every chip's, when all share it) */
    const int32_t last = holder(m, p->num_layers - 1);
    if (last >= 0 && cim_plan_shared(p, last))
        c->needed[last] = 1;
    return c;
}

static void empty(cim_exec_cache *c)
{
    for (int32_t l = 0; l < c->plan->num_layers; ++l) {
        cim_exec_kept *k = &c->kept[l];
        free(k->output);
        cim_engine_inputs_free(k->inputs);
        free(k->exact);
        *k = (cim_exec_kept){NULL, NULL, NULL};
    }
}

void cim_exec_cache_free(cim_exec_cache *c)
{
    if (!c)
        return;
    if (c->kept)
        empty(c);
    free(c->needed);
    free(c->kept);
    free(c);
}

void cim_exec_cache_bind(cim_exec_cache *c, uint32_t first_image, int64_t n_images,
                         int64_t image_position)
{
    if (c->n_images == n_images && c->first_image == first_image &&
        c->image_position == image_position)
        return;
    empty(c);
    c->first_image = first_image;
    c->n_images = n_images;
    c->image_position = image_position;
}

cim_exec_kept *cim_exec_cache_layer(cim_exec_cache *c, int32_t l)
{
    return &c->kept[l];
}

int cim_exec_cache_needed(const cim_exec_cache *c, int32_t l)
{
    return c->needed[l];
}

int cim_exec_cache_complete(const cim_exec_cache *c)
{
    for (int32_t l = 0; l < c->plan->num_layers; ++l)
        if (c->needed[l] && !c->kept[l].output)
            return 0;
    return 1;
}
