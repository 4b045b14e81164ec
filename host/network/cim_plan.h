/* cim_plan.h -- the layer plan of a network on simulated crossbars: where
 * every layer runs and, for the layers on crossbars, their resolved crossbar
 * and geometry, computed once from the model and the crossbar configuration.
 * Every evaluation of the network -- the exact forward pass, the plain-C
 * reference network, the host and device pipelines of the executor -- walks
 * the same plan (cim_walk.h).
 *
 * C2C reads (c2c_model "column", cim_c2c_bound.h): a crossbar layer keeps
 * the column law only where its clipping bound holds for its matrix; the
 * others read per cell. The plan records the bound per layer.
 *
 * Placement: a dense or conv2d layer whose input is binary or ternary runs
 * on crossbars; so does a weight layer on raw pixels when the run asks for it
 * (CIM_PIXELS_ON_CROSSBAR, bit-sliced: cim_geometry.h). Every other layer (by
 * default a first layer on raw pixels; thresholds, pooling, flattening) runs
 * exactly, through cim_forward_layer. A plan made without a crossbar
 * configuration runs every layer exactly (the digital network).
 *
 * Random streams (cim_rng.h): the layer index of the model is the RNG layer;
 * trial t of the run is trial t of every layer (one chip holds every layer);
 * input vector p of image k (its index in the dataset) is C2C input
 * k * P + p, with P the layer's output positions (1 for dense); with bit
 * planes, plane b of that vector is input (k * P + p) * 8 + b.
 *
 * Tensors: the model input and every layer's output (a layer graph in
 * version 2; a chain in version 1). The plan gives each its activation
 * buffer (cim_plan_slot: a walk needs n_slots buffers, 2 for a chain) and
 * says whether every chip shares it (cim_plan_shared: the model input and
 * what the layers before any crossbar layer compute from it, once per
 * image) or each chip has its own.
 *
 * The plan is caller-owned: cim_plan_init fills it, cim_plan_free releases
 * the tables it allocated (also after a failed init). It keeps a pointer to
 * the model, which must outlive it.
 */
#ifndef CIM_PLAN_H
#define CIM_PLAN_H

#include <stdint.h>

#include "cim_c2c_bound.h"
#include "cim_config.h"
#include "cim_error.h"
#include "cim_geometry.h"
#include "cim_model.h"
#include "cim_xbar.h"

/* Where weight layers on raw pixels (not binary or ternary inputs) run. */
typedef enum cim_pixel_layers {
    CIM_PIXELS_ON_HOST,     /* exactly, as the digital network (the default) */
    CIM_PIXELS_ON_CROSSBAR, /* on crossbars, one read per bit plane */
} cim_pixel_layers;

typedef struct cim_layer_plan {
    const cim_layer *layer;
    int64_t in_size, out_size; /* elements of one image's input and output tensor */
    /* Crossbar layers only (crossbar >= 0); zeroed otherwise. */
    int32_t crossbar;  /* index among the crossbar layers, in model order; -1: exact */
    cim_xbar xbar;     /* the resolved crossbar (its adc_calib_dict range by layer name) */
    cim_layer_mvm mvm; /* the layer as a crossbar matrix */
    int32_t *gather;   /* [positions][cols] (cim_geometry_gather) */
    int64_t *row_sums; /* [rows] (cim_geometry_row_sums) */
    /* C2C: the column law's clipping bound for this layer's reads, and
     * whether the law reads it (xbar.c2c_column: asked and the bound holds;
     * cim_c2c_column_decide) */
    cim_c2c_bound c2c;
} cim_layer_plan;

typedef struct cim_plan {
    const cim_model *model;
    cim_pixel_layers pixels;
    int32_t num_layers;
    cim_layer_plan *layers;    /* num_layers, in model order */
    int32_t n_crossbar;        /* layers on crossbars */
    int32_t first_crossbar;    /* index of the first, -1 without */
    int32_t max_planes;        /* most bit planes of a crossbar layer (1 without) */
    int64_t vectors_per_image; /* most crossbar input vectors (positions x planes)
                                * one image gives a layer: images with dataset index
                                * k < 2^32 / this keep distinct C2C keys */
    int32_t n_slots;           /* activation buffers of a walk */
    int32_t *slot;             /* [num_layers + 1]: the buffer of tensor t at t + 1 */
    uint8_t *shared;           /* [num_layers + 1]: tensor t shared by every chip, at t + 1 */
} cim_plan;

/* 1 when layer L runs on crossbars under `pixels` (the placement rule). */
int cim_plan_places_on_crossbar(const cim_layer *L, cim_pixel_layers pixels);

/* The plan of model m on the crossbar cfg (NULL: every layer exact) with
 * `seed` in every crossbar's RNG keys. The mapping must hold every crossbar
 * layer's weights and inputs (a ternary layer needs a TNN mapping). 0, or
 * CIM_ERR_CONFIG naming the layer, CIM_ERR_NOMEM. */
int cim_plan_init(cim_plan *p, const cim_model *m, const cim_config *cfg, uint64_t seed,
                  cim_pixel_layers pixels, cim_error *err);

/* Makes every crossbar layer of p digital: the same cells and tiles, read
 * exactly (c = s, no ADC, no variability); the ideal accuracy of a run. */
void cim_plan_make_digital(cim_plan *p);

/* Releases the plan's tables and zeroes it; a zeroed plan is fine. */
void cim_plan_free(cim_plan *p);

/* Crossbar MACs per image: weight uses of the layers on crossbars, once per
 * bit plane (the rest run exactly on the host). */
int64_t cim_plan_crossbar_macs(const cim_plan *p);

static inline int cim_plan_on_crossbar(const cim_layer_plan *lp)
{
    return lp->crossbar >= 0;
}

/* The activation buffer (0 .. n_slots - 1) of tensor t: the output of layer
 * t, or the model input for CIM_MODEL_INPUT. */
static inline int32_t cim_plan_slot(const cim_plan *p, int32_t t)
{
    return p->slot[t + 1];
}

/* 1 when tensor t is the same for every chip: no crossbar layer computed
 * it or anything it comes from, so it is computed once per image and
 * shared; 0 when every chip has its own. */
static inline int cim_plan_shared(const cim_plan *p, int32_t t)
{
    return p->shared[t + 1];
}

/* 1 when the (first) input of layer l is shared by every chip. */
static inline int cim_plan_shared_input(const cim_plan *p, int32_t l)
{
    return cim_plan_shared(p, p->layers[l].layer->inputs[0]);
}

#endif /* CIM_PLAN_H */
