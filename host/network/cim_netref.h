/* cim_netref.h -- the plain-C reference of a network on simulated crossbars:
 * the definition of what the Monte-Carlo executor must compute, image by
 * image and trial by trial.
 *
 * Every dense or conv2d layer whose input is binary or ternary
 * (cim_layer_on_crossbar) runs through cim_reference_mvm on tiles of its own
 * crossbar configuration; so do the weight layers on raw pixels when the run
 * asks for it (CIM_PIXELS_ON_CROSSBAR). Every other layer (by default the
 * first layer on raw pixels; thresholds, pooling, flattening) runs exactly,
 * through cim_forward_layer. The resolved crossbars say which layers run
 * where: xbars[l].xbar_m > 0 for a layer on crossbars.
 *
 * A conv2d layer is unrolled im2col-style: output position p = i * Wo + j
 * of an image is one input vector, listing the padded input in the order of
 * the weight's [in_channels][kh][kw] (data/model_format.md); its output
 * channel o is row o of the crossbar matrix [out_channels][in_channels*kh*kw].
 *
 * Raw pixels on crossbars are bit-sliced, as crossbar accelerators drive
 * multi-bit inputs: pixel x = sum_b 2^b x_b is applied as 8 bit planes
 * x_b in {0,1}, one crossbar read (with its own ADC conversions) per plane,
 * and the plane results r_b are shifted and added digitally:
 * y = sum_b 2^b r_b (cim_planes.h). A BNN mapping has no 0 input, so its planes are driven as
 * s_b = 2 x_b - 1 in {-1,+1} and y = (sum_b 2^b r_b + 255 * sum_n w_n) / 2,
 * rounded half away from zero. Noise-free with the ideal ADC both give the
 * exact W x.
 *
 * Random streams (cim_rng.h): the layer index of the model is the RNG layer;
 * trial t of the run is trial t of every layer (one chip holds every layer);
 * input vector p of image k (its index in the dataset) is C2C input
 * k * P + p, with P the layer's output positions (1 for dense); with bit
 * planes, plane b of that vector is input (k * P + p) * 8 + b.
 */
#ifndef CIM_NETREF_H
#define CIM_NETREF_H

#include <stdint.h>

#include "cim_config.h"
#include "cim_error.h"
#include "cim_model.h"
#include "cim_xbar.h"

/* Where weight layers on raw pixels (not binary or ternary inputs) run. */
typedef enum cim_pixel_layers {
    CIM_PIXELS_ON_HOST,     /* exactly, as the digital network (the default) */
    CIM_PIXELS_ON_CROSSBAR, /* on crossbars, one read per bit plane */
} cim_pixel_layers;

#define CIM_PIXEL_PLANES 8 /* bit planes of a raw uint8 pixel */

/* Resolves the crossbar of every layer on crossbars: xbars[l] for layer l
 * (entries of other layers are zeroed). The layer's group name selects its
 * adc_calib_dict range; the mapping must hold the layer's weights and inputs
 * (a ternary layer needs a TNN mapping). 0 or CIM_ERR_CONFIG naming the layer. */
int cim_netref_resolve(const cim_model *m, const cim_config *cfg, uint64_t seed,
                       cim_pixel_layers pixels, cim_xbar *xbars, cim_error *err);

/* 1 when the resolved layer runs on crossbars. */
static inline int cim_netref_on_crossbar(const cim_xbar *xbar)
{
    return xbar->xbar_m > 0;
}

/* Layers that run on crossbars. */
int32_t cim_netref_crossbar_layers(const cim_model *m, const cim_xbar *xbars);

/* The most crossbar input vectors (positions x planes) one image gives a
 * layer: images with dataset index k < 2^32 / this keep distinct C2C keys. */
int64_t cim_netref_vectors_per_image(const cim_model *m, const cim_xbar *xbars);

/* A weight layer as a crossbar matrix. Its crossbar input vectors are
 * [position][plane][cols] per image, its crossbar results
 * [position][plane][rows]. */
typedef struct cim_layer_mvm {
    int32_t rows;          /* output features or channels */
    int32_t cols;          /* fan-in */
    int32_t positions;     /* output positions: 1 for dense */
    int32_t planes;        /* reads per position: CIM_PIXEL_PLANES on raw pixels, else 1 */
    int32_t plane_binary;  /* planes driven as {-1,+1} (a BNN mapping), else {0,1} */
    int32_t pad_value;     /* a conv2d layer's padding value; 0 for dense */
    const int8_t *weights; /* [rows][cols] */
} cim_layer_mvm;

/* The matrix of weight layer L on crossbar xbar. */
cim_layer_mvm cim_netref_layer_mvm(const cim_layer *L, const cim_xbar *xbar);

/* Where the input vectors come from, the same for every image: gather
 * [positions][cols] holds, for fan-in index n of output position p, the
 * index into the layer's input tensor (in_shape, C order), or -1 where the
 * vector holds g->pad_value (a conv2d layer's padding). */
void cim_netref_gather(const cim_layer *L, const cim_layer_mvm *g, int32_t *gather);

/* The crossbar input vectors of one image: x (the layer's input tensor) to
 * vectors[positions][planes][cols], through the gather table. */
void cim_netref_vectors(const cim_layer_mvm *g, const int32_t *gather, const int32_t *x,
                        int8_t *vectors);

/* Row sums of the weights, sums[rows]: what cim_netref_outputs needs for
 * binary planes (ignored otherwise). */
void cim_netref_row_sums(const cim_layer_mvm *g, int64_t *sums);

/* One image's crossbar reads[positions][planes][rows] to folded
 * results[positions][rows] (cim_fold_planes; a copy without planes): what
 * cim_engine_mvm returns for the same reads with input_planes = planes. */
void cim_netref_fold(const cim_layer_mvm *g, const int32_t *reads, int32_t *results);

/* One image's folded crossbar results[positions][rows] to the layer output
 * y[rows][positions] (with binary planes, the offset of the BNN encoding
 * and the halving). */
void cim_netref_outputs(const cim_layer_mvm *g, const int64_t *row_sums, const int32_t *results,
                        int32_t *y);

/* Scores of one image (m->num_classes) on chip `trial`; returns the
 * predicted class (>= 0) or CIM_ERR_NOMEM. image_index keys the C2C streams. */
int cim_netref_image(const cim_model *m, const cim_xbar *xbars, const uint8_t *pixels,
                     uint32_t image_index, uint32_t trial, int32_t *scores, cim_error *err);

#endif /* CIM_NETREF_H */
