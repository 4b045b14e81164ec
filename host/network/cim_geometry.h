/* cim_geometry.h -- a weight layer as a crossbar matrix: which input values
 * form each crossbar input vector, how multi-bit inputs become bit planes,
 * and how crossbar results become the layer's output tensor. Every
 * evaluation of a crossbar layer (the plain-C reference network, the host
 * and device pipelines) uses these definitions; the layer plan (cim_plan.h)
 * computes the tables once per layer.
 *
 * A conv2d layer is unrolled im2col-style: output position p = i * Wo + j of
 * an image is one input vector, listing the padded input in the order of the
 * weight's [in_channels][kh][kw] (data/model_format.md); its output channel o
 * is row o of the crossbar matrix [out_channels][in_channels*kh*kw]. A dense
 * layer is one vector, its input.
 *
 * Raw pixels on crossbars are bit-sliced, as crossbar accelerators drive
 * multi-bit inputs: pixel x = sum_b 2^b x_b is applied as 8 bit planes
 * x_b in {0,1}, one crossbar read (with its own ADC conversions) per plane,
 * and the plane results r_b are shifted and added digitally:
 * y = sum_b 2^b r_b (cim_planes.h). A BNN mapping has no 0 input, so its
 * planes are driven as s_b = 2 x_b - 1 in {-1,+1} and
 * y = (sum_b 2^b r_b + 255 * sum_n w_n) / 2, rounded half away from zero.
 * Noise-free with the ideal ADC both give the exact W x.
 */
#ifndef CIM_GEOMETRY_H
#define CIM_GEOMETRY_H

#include <stdint.h>

#include "cim_model.h"
#include "cim_xbar.h"

#define CIM_PIXEL_PLANES 8 /* bit planes of a raw uint8 pixel */

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
cim_layer_mvm cim_geometry_layer_mvm(const cim_layer *L, const cim_xbar *xbar);

/* Where the input vectors come from, the same for every image: gather
 * [positions][cols] holds, for fan-in index n of output position p, the
 * index into the layer's input tensor (in_shape, C order), or -1 where the
 * vector holds g->pad_value (a conv2d layer's padding). */
void cim_geometry_gather(const cim_layer *L, const cim_layer_mvm *g, int32_t *gather);

/* Row sums of the weights, sums[rows]: what cim_geometry_outputs needs for
 * binary planes (ignored otherwise). */
void cim_geometry_row_sums(const cim_layer_mvm *g, int64_t *sums);

/* The crossbar input vectors of one image: x (the layer's input tensor) to
 * vectors[positions][planes][cols], through the gather table. */
void cim_geometry_vectors(const cim_layer_mvm *g, const int32_t *gather, const int32_t *x,
                          int8_t *vectors);

/* One image's crossbar reads[positions][planes][rows] to folded
 * results[positions][rows] (cim_fold_planes; a copy without planes): what
 * cim_engine_mvm returns for the same reads with input_planes = planes. */
void cim_geometry_fold(const cim_layer_mvm *g, const int32_t *reads, int32_t *results);

/* One image's folded crossbar results[positions][rows] to the layer output
 * y[rows][positions] (with binary planes, the offset of the BNN encoding
 * and the halving). */
void cim_geometry_outputs(const cim_layer_mvm *g, const int64_t *row_sums, const int32_t *results,
                          int32_t *y);

#endif /* CIM_GEOMETRY_H */
