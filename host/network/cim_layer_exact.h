/* cim_layer_exact.h -- the exact W x of a crossbar layer's input vectors on
 * the device (kernels/cim_exact.cl): what both executor pipelines compare a
 * chip's crossbar results with when they count per-layer errors. One
 * definition, one kernel; the pipelines differ only in where the layer's
 * tables and input activations already are (the device pipeline has them on
 * the device, the host pipeline uploads them).
 */
#ifndef CIM_LAYER_EXACT_H
#define CIM_LAYER_EXACT_H

#include <stdint.h>

#include "cim_error.h"
#include "cim_network.h"
#include "cim_ocl.h"
#include "cim_plan.h"

/* What the device kernels of the network (cim_network.cl, cim_exact.cl) are
 * told about layer lp for n_images images per set: its geometry and sizes;
 * inputs_per_trial and count_exact 0 (the caller's to set). */
cim_layer_launch cim_layer_launch_of(const cim_layer_plan *lp, int64_t n_images);

/* The layer's tables as the device holds them: nl (cim_layer_launch_of),
 * weights_t [cols][rows_pad] int8, zero past the last row, rows_pad a
 * multiple of the program's vector width (cim_engine_chips holds such a
 * copy), gather [positions][cols] (the plan's). */
typedef struct cim_layer_exact_tables {
    cl_mem nl, weights_t, gather;
    int64_t rows_pad;
} cim_layer_exact_tables;

/* exact[set][image * positions][rows] (int32, a new device buffer the caller
 * releases): the folded exact result of every input vector of layer lp for
 * `sets` sets of n_images input tensors in x ([set][image][in_size], on the
 * device). 0, or a CIM_ERR_* code with its message (*exact NULL). */
int cim_layer_exact_device(cim_ocl *ocl, const cim_layer_plan *lp, const cim_layer_exact_tables *t,
                           int64_t n_images, int64_t sets, cl_mem x, cl_mem *exact, cim_error *err);

/* The same from host tensors x into host memory exact (sets * n_images *
 * positions * rows values); the tables are uploaded for the call. */
int cim_layer_exact_host(cim_ocl *ocl, const cim_layer_plan *lp, int64_t n_images, int64_t sets,
                         const int32_t *x, int32_t *exact, cim_error *err);

#endif /* CIM_LAYER_EXACT_H */
