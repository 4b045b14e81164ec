/* cim_netref.h -- the plain-C reference of a network on simulated crossbars:
 * the definition of what the Monte-Carlo executor must compute, image by
 * image and trial by trial.
 *
 * Every dense or conv2d layer whose input is binary or ternary
 * (cim_layer_on_crossbar) runs through cim_reference_mvm on tiles of its own
 * crossbar configuration; every other layer (the first layer on raw pixels,
 * thresholds, pooling, flattening) runs exactly, through cim_forward_layer.
 * A conv2d layer is unrolled im2col-style: output position p = i * Wo + j
 * of an image is one input vector, listing the padded input in the order of
 * the weight's [in_channels][kh][kw] (data/model_format.md); its output
 * channel o is row o of the crossbar matrix [out_channels][in_channels*kh*kw].
 *
 * Random streams (cim_rng.h): the layer index of the model is the RNG layer;
 * trial t of the run is trial t of every layer (one chip holds every layer);
 * input vector p of image k (its index in the dataset) is C2C input
 * k * P + p, with P the layer's output positions (1 for dense).
 */
#ifndef CIM_NETREF_H
#define CIM_NETREF_H

#include <stdint.h>

#include "cim_config.h"
#include "cim_error.h"
#include "cim_model.h"
#include "cim_xbar.h"

/* Resolves the crossbar of every layer on crossbars: xbars[l] for layer l
 * (entries of other layers are zeroed). The layer's group name selects its
 * adc_calib_dict range; the mapping must hold the layer's weights and inputs
 * (a ternary layer needs a TNN mapping). 0 or CIM_ERR_CONFIG naming the layer. */
int cim_netref_resolve(const cim_model *m, const cim_config *cfg, uint64_t seed, cim_xbar *xbars,
                       cim_error *err);

/* Scores of one image (m->num_classes) on chip `trial`; returns the
 * predicted class (>= 0) or CIM_ERR_NOMEM. image_index keys the C2C streams. */
int cim_netref_image(const cim_model *m, const cim_xbar *xbars, const uint8_t *pixels,
                     uint32_t image_index, uint32_t trial, int32_t *scores, cim_error *err);

/* Unrolls the padded input x (L's in_shape) of conv2d layer L into P input
 * vectors of in_channels*kh*kw values (P = Ho*Wo), as int8. */
void cim_netref_im2col(const cim_layer *L, const int32_t *x, int8_t *vectors);

#endif /* CIM_NETREF_H */
