/* cim_executor.h -- a network on simulated crossbars on the OpenCL device:
 * many chips (trials) x many images at once, bit-identical to the plain-C
 * reference network (cim_netref.h).
 *
 * The dispatcher: it checks the job (cim_exec.h) and hands it to the host
 * pipeline (cim_executor_host.h) or the device pipeline
 * (cim_executor_device.h), which walk the same layer plan and compute the
 * same bits.
 */
#ifndef CIM_EXECUTOR_H
#define CIM_EXECUTOR_H

#include <stdint.h>

#include "cim_error.h"
#include "cim_exec.h"
#include "cim_ocl.h"

/* The pipeline cim_executor_run takes for `job` on this device: HOST or
 * DEVICE (this is where the choice is made). *reason (when reason is not
 * NULL): NULL when it is the one the job asked for (AUTO: the device
 * pipeline), else why the host pipeline runs instead, in a word or two
 * ("C2C", "IR drop", "read disturb", "digital chips", "CPU device",
 * "memory", ...; cim_executor_device.h). */
cim_pipeline cim_executor_pipeline(const cim_ocl *ocl, const cim_exec_job *job,
                                   const char **reason);

/* scores[(t * n_images + k) * num_classes + j]: the integer score chip
 * trial_first + t gives image k for class j (the model's last tensor).
 * 0, or a CIM_ERR_* code with its message. */
int cim_executor_scores(cim_ocl *ocl, const cim_exec_job *job, int32_t *scores, cim_error *err);

/* predictions[t * n_images + k]: the class chip trial_first + t gives image
 * k (cim_forward_argmax of its scores). 0, or a CIM_ERR_* code. */
int cim_executor_run(cim_ocl *ocl, const cim_exec_job *job, int32_t *predictions, cim_error *err);

#endif /* CIM_EXECUTOR_H */
