/* cim_plan.c -- see cim_plan.h. The placement rule, the crossbar of every
 * crossbar layer (cim_config_resolve, by the layer's group name) and its
 * geometry tables are made here once; nothing else decides where a layer
 * runs. Ownership: gather and row_sums of each crossbar layer and the layer
 * array belong to the plan.
 */
#include "cim_plan.h"

#include <stdlib.h>
#include <string.h>

#include "cim_mapping.h"

int cim_plan_places_on_crossbar(const cim_layer *L, cim_pixel_layers pixels)
{
    if (L->type != CIM_LAYER_DENSE && L->type != CIM_LAYER_CONV2D)
        return 0;
    if (L->in_alphabet == CIM_ALPHABET_BINARY || L->in_alphabet == CIM_ALPHABET_TERNARY)
        return 1;
    return pixels == CIM_PIXELS_ON_CROSSBAR && L->in_alphabet == CIM_ALPHABET_IMAGE;
}

/* Checks that the mapping holds layer L, then resolves its crossbar,
 * computes its geometry tables and decides its C2C law. */
static int plan_crossbar_layer(cim_plan *p, const cim_config *cfg, uint64_t seed, int32_t l,
                               cim_error *err)
{
    const cim_model *m = p->model;
    cim_layer_plan *lp = &p->layers[l];
    const cim_layer *L = lp->layer;
    const cim_mapping_desc *d = cim_mapping_desc_of(cfg->mapping);
    const char *what = L->in_alphabet == CIM_ALPHABET_TERNARY ? "inputs"
                       : m->kind == CIM_MODEL_TNN             ? "weights"
                                                              : NULL;
    if (what && !d->ternary)
        return cim_error_set(err, CIM_ERR_CONFIG,
                             "%s: layer %s has ternary %s, mapping %s holds only {-1,+1} "
                             "(use a TNN_* mapping)",
                             m->path, L->name, what, cim_mapping_name(cfg->mapping));
    int rc = cim_config_resolve(cfg, L->name, seed, (uint32_t)l, &lp->xbar, err);
    if (rc != 0)
        return rc;
    lp->mvm = cim_geometry_layer_mvm(L, &lp->xbar);
    lp->gather = malloc(sizeof(int32_t) * (size_t)lp->mvm.positions * (size_t)lp->mvm.cols);
    lp->row_sums = malloc(sizeof(int64_t) * (size_t)lp->mvm.rows);
    if (!lp->gather || !lp->row_sums)
        return cim_error_set(err, CIM_ERR_NOMEM, "layer %s: out of memory for its gather table",
                             L->name);
    cim_geometry_gather(L, &lp->mvm, lp->gather);
    cim_geometry_row_sums(&lp->mvm, lp->row_sums);
    cim_c2c_column_decide(&lp->xbar, lp->mvm.cols, &lp->c2c);
    lp->crossbar = p->n_crossbar++;
    if (p->first_crossbar < 0)
        p->first_crossbar = l;
    if (lp->mvm.planes > p->max_planes)
        p->max_planes = lp->mvm.planes;
    const int64_t vectors = (int64_t)lp->mvm.positions * lp->mvm.planes;
    if (vectors > p->vectors_per_image)
        p->vectors_per_image = vectors;
    return 0;
}

/* The activation buffer of every tensor, assigned in layer order: a layer's
 * output takes the lowest buffer that holds no tensor still to be read at
 * that layer (so never one of its own inputs), a flatten's output stays in
 * its input's buffer (C order is already the flat vector). A chain takes
 * turns between two buffers. Which tensors every chip shares: the model
 * input and what the layers before any crossbar layer compute from it. */
static void plan_tensors(cim_plan *p)
{
    const cim_model *m = p->model;
    const int32_t n = m->num_layers;
    p->slot[0] = 0;
    p->shared[0] = 1;
    p->n_slots = 1;
    for (int32_t l = 0; l < n; ++l) {
        const cim_layer *L = &m->layers[l];
        int shared = !cim_plan_on_crossbar(&p->layers[l]);
        for (int j = 0; j < L->n_inputs; ++j)
            shared &= p->shared[L->inputs[j] + 1];
        p->shared[l + 1] = (uint8_t)shared;
        if (L->type == CIM_LAYER_FLATTEN) {
            p->slot[l + 1] = p->slot[L->inputs[0] + 1];
            continue;
        }
        int32_t s = 0;
        for (;; ++s) { /* the lowest buffer no live tensor holds */
            int busy = m->input_last_use >= l && p->slot[0] == s;
            for (int32_t t = 0; t < l && !busy; ++t)
                busy = m->layers[t].last_use >= l && p->slot[t + 1] == s;
            if (!busy)
                break;
        }
        p->slot[l + 1] = s;
        if (s + 1 > p->n_slots)
            p->n_slots = s + 1;
    }
}

int cim_plan_init(cim_plan *p, const cim_model *m, const cim_config *cfg, uint64_t seed,
                  cim_pixel_layers pixels, cim_error *err)
{
    memset(p, 0, sizeof *p);
    p->model = m;
    p->pixels = pixels;
    p->first_crossbar = -1;
    p->max_planes = 1;
    p->layers = calloc((size_t)m->num_layers, sizeof *p->layers);
    p->slot = calloc((size_t)m->num_layers + 1, sizeof *p->slot);
    p->shared = calloc((size_t)m->num_layers + 1, sizeof *p->shared);
    if (!p->layers || !p->slot || !p->shared) {
        cim_plan_free(p);
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory for the layer plan", m->path);
    }
    p->num_layers = m->num_layers;
    for (int32_t l = 0; l < m->num_layers; ++l) {
        cim_layer_plan *lp = &p->layers[l];
        lp->layer = &m->layers[l];
        lp->in_size = cim_shape_size(&lp->layer->in_shape);
        lp->out_size = cim_shape_size(&lp->layer->out_shape);
        lp->crossbar = -1;
        if (!cfg || !cim_plan_places_on_crossbar(lp->layer, pixels))
            continue;
        int rc = plan_crossbar_layer(p, cfg, seed, l, err);
        if (rc != 0) {
            cim_plan_free(p);
            return rc;
        }
    }
    plan_tensors(p);
    return 0;
}

static cim_xbar digital_xbar(const cim_xbar *x)
{
    cim_xbar d = *x;
    d.column.digital = 1;
    d.column.hrs = 0;
    d.column.delta = 1;
    d.saf_below[0] = d.saf_below[1] = 0; /* the ideal chip has no faults */
    return d;
}

void cim_plan_make_digital(cim_plan *p)
{
    for (int32_t l = 0; l < p->num_layers; ++l)
        if (cim_plan_on_crossbar(&p->layers[l]))
            p->layers[l].xbar = digital_xbar(&p->layers[l].xbar);
}

void cim_plan_free(cim_plan *p)
{
    for (int32_t l = 0; p->layers && l < p->num_layers; ++l) {
        free(p->layers[l].gather);
        free(p->layers[l].row_sums);
    }
    free(p->layers);
    free(p->slot);
    free(p->shared);
    memset(p, 0, sizeof *p);
    p->first_crossbar = -1;
}

int64_t cim_plan_crossbar_macs(const cim_plan *p)
{
    int64_t macs = 0;
    for (int32_t l = 0; l < p->num_layers; ++l) {
        const cim_layer_mvm *g = &p->layers[l].mvm;
        if (cim_plan_on_crossbar(&p->layers[l]))
            macs += (int64_t)g->rows * g->cols * g->positions * g->planes;
    }
    return macs;
}
