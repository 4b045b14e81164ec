/* cim_executor_host.h -- the executor's host pipeline: every crossbar layer
 * is one engine job (cim_engine.h) over all chips and images of the call;
 * everything between crossbar reads runs on the host.
 *
 * Activations are int32 tensors [set][image][layer shape], where `set` is 1
 * for a tensor every chip shares (cim_plan_shared: nothing from a crossbar
 * layer went into it) and n_trials for the others. A crossbar layer gathers its
 * input vectors as int8 [set][image][position][plane][fan_in]
 * (cim_geometry_vectors), runs one engine job over all trials (inputs shared,
 * or per trial; bit planes folded on the device), and turns the results
 * [trial][image][position][channel] into the layer's [channel][position]
 * layout (cim_geometry_outputs). Every other layer runs with
 * cim_forward_node; one that takes a shared tensor and a chip's tensor reads
 * the shared one for every chip. The exact W x for the error counts comes from
 * cim_layer_exact.h, as in the device pipeline.
 */
#ifndef CIM_EXECUTOR_HOST_H
#define CIM_EXECUTOR_HOST_H

#include "cim_error.h"
#include "cim_exec.h"
#include "cim_ocl.h"

/* scores[(t * n_images + k) * num_classes + j]: the integer score chip
 * trial_first + t gives image k for class j (the model's last tensor).
 * 0, or a CIM_ERR_* code with its message. */
int cim_executor_host_run(cim_ocl *ocl, const cim_exec_job *job, int32_t *scores, cim_error *err);

/* The layers before `to` (all with shared inputs: to <= the plan's first
 * crossbar layer) once per image: *x0 = [images][size] of layer to's input,
 * malloc'd for the caller. The device pipeline's prefix. */
int cim_executor_host_prefix(const cim_exec_job *job, int32_t to, int32_t **x0, cim_error *err);

#endif /* CIM_EXECUTOR_HOST_H */
