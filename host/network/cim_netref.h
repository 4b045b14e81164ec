/* cim_netref.h -- the plain-C reference of a network on simulated crossbars:
 * the definition of what the Monte-Carlo executor must compute, image by
 * image and trial by trial.
 *
 * It walks the layer plan (cim_walk.h): a layer on crossbars turns its int32
 * input into int8 crossbar input vectors (cim_geometry_vectors: values -1, 0,
 * +1, or bit planes of raw pixels) and evaluates them cell by cell with the
 * reference MVM (mapping/cim_reference.h) on tiles of the layer's crossbar,
 * for the given chip; every other layer runs exactly (cim_forward_layer).
 * It is slow and obvious on purpose: the executors are optimisations of it
 * and are tested against it prediction for prediction. C2C keys: cim_plan.h.
 */
#ifndef CIM_NETREF_H
#define CIM_NETREF_H

#include <stdint.h>

#include "cim_error.h"
#include "cim_plan.h"

/* Scores of one image (num_classes) on chip `trial`; returns the predicted
 * class (>= 0) or CIM_ERR_NOMEM. image_index (the image's index in the
 * dataset) keys the C2C streams. */
int cim_netref_image(const cim_plan *p, const uint8_t *pixels, uint32_t image_index, uint32_t trial,
                     int32_t *scores, cim_error *err);

/* As cim_netref_image, also counting the ADC input profile of every crossbar
 * layer whose xbar profiles (cim_profile.h): profiles[c] (for crossbar layer
 * c in plan order; NULL entries and a NULL array count nothing) is added to
 * by every conversion of that layer for this image and chip. */
int cim_netref_image_profiled(const cim_plan *p, const uint8_t *pixels, uint32_t image_index,
                              uint32_t trial, int32_t *scores, uint64_t *const *profiles,
                              cim_error *err);

/* The general form: as cim_netref_image_profiled, with the image's position
 * in the chip's image order given apart from its dataset index. With read
 * disturb a chip's tiles drift over its reads, so image k of its order is
 * read as MVMs k * V .. k * V + V - 1 of each layer's tiles (V the layer's
 * input vectors per image); the two functions above take the position to be
 * the index. */
int cim_netref_image_at(const cim_plan *p, const uint8_t *pixels, uint32_t image_index,
                        int64_t image_position, uint32_t trial, int32_t *scores,
                        uint64_t *const *profiles, cim_error *err);

#endif /* CIM_NETREF_H */
