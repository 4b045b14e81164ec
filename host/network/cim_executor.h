/* cim_executor.h -- a network on simulated crossbars on the OpenCL device:
 * many chips (trials) x many images at once, bit-identical to the reference
 * of cim_netref.h.
 *
 * Layers on crossbars (those cim_netref_resolve gave a crossbar) run through
 * the engine (cim_engine.h): a conv2d layer's output positions become input
 * vectors, a dense layer's input is one vector, raw pixels are bit planes
 * (cim_netref_vectors). The layers before the first crossbar layer are exact and
 * shared by every trial, so they run once per image; from the first crossbar
 * layer on every trial has its own activations. Everything between crossbar
 * layers (thresholds, pooling, flattening) runs exactly on the host with
 * cim_forward_layer.
 */
#ifndef CIM_EXECUTOR_H
#define CIM_EXECUTOR_H

#include <stdint.h>

#include "cim_error.h"
#include "cim_model.h"
#include "cim_ocl.h"
#include "cim_xbar.h"

typedef enum cim_pipeline {
    CIM_PIPELINE_AUTO,
    CIM_PIPELINE_HOST,
    CIM_PIPELINE_DEVICE,
} cim_pipeline;

typedef struct cim_exec_job {
    const cim_model *model;
    const cim_xbar *xbars; /* per layer, from cim_netref_resolve */
    const uint8_t *images; /* n_images images of the model's input shape */
    int64_t n_images;
    uint32_t first_image; /* dataset index of images[0]: keys the C2C streams */
    uint32_t trial_first;
    int32_t n_trials;
    /* Optional error statistics: for crossbar layer c (in model order, of
     * cim_netref_crossbar_layers; a bit-sliced layer compares its folded
     * results, the integer the layer's digital logic receives),
     * mismatches[t * n_crossbar + c] += outputs of trial t that differ from
     * the exact integer W x of the same inputs (tiles summed), and
     * outputs[c] += the outputs compared per trial. NULL: not computed. */
    int64_t *mismatches;
    int64_t *outputs;
    /* Where the work between crossbar reads runs (cim_executor_device.h):
     * AUTO takes the device pipeline on GPUs where it applies, the host
     * pipeline otherwise (on CPU devices, which share the host's cores, it is
     * the faster; bench_run measures both). HOST and DEVICE choose (DEVICE
     * still falls back to the host where the device pipeline does not apply:
     * C2C, digital chips). Results are the same bits either way. */
    cim_pipeline pipeline;
} cim_exec_job;

/* predictions[t * n_images + k]: the class chip trial_first + t gives image
 * k. 0, or a CIM_ERR_* code with its message. */
int cim_executor_run(cim_ocl *ocl, const cim_exec_job *job, int32_t *predictions, cim_error *err);

#endif /* CIM_EXECUTOR_H */
