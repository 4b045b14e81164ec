/* cim_executor_device.h -- the network executor's device pipeline: from the
 * first crossbar layer to the class scores every activation stays on the
 * OpenCL device (kernels/cim_network.cl). Each crossbar layer's chips are
 * programmed once per call (cim_engine_chips_program) and read straight from
 * the previous layer's activations (no input vectors or entry lists on the
 * host); the element-wise layers between run as kernels; only the scores
 * and, on request, per-trial error counts come back. The layers before the
 * first crossbar layer (shared by every chip) run on the host, once per
 * image, as in the host pipeline.
 *
 * It computes exactly what the host pipeline (cim_executor_host.c) computes --
 * tests/test_executor.c compares them prediction for prediction and error
 * count for error count -- for analog chips without C2C, the Monte-Carlo
 * hot path; the dispatcher (cim_executor.c) takes the host pipeline for digital chips, C2C
 * and whatever else cim_executor_device_refusal names.
 */
#ifndef CIM_EXECUTOR_DEVICE_H
#define CIM_EXECUTOR_DEVICE_H

#include "cim_error.h"
#include "cim_exec.h"
#include "cim_ocl.h"

/* NULL when the device pipeline runs the job, else why the host pipeline
 * does, in a word or two: "asked" (CIM_PIPELINE_HOST), "no crossbar layer",
 * a crossbar layer's chips ("digital chips" without stuck-at faults, "C2C",
 * "IR drop", "read disturb": cim_xbar_plain_sum_chips), "host layers" (a
 * layer after the first crossbar layer is neither on crossbars nor
 * element-wise), "CPU device" (AUTO on a CPU device) or "memory" (the
 * activation or error-count buffers exceed the device's largest
 * allocation). The first of these that holds, in this order. */
const char *cim_executor_device_refusal(const cim_ocl *ocl, const cim_exec_job *job);

/* 1 when the device pipeline runs the job: cim_executor_device_refusal is
 * NULL. */
int cim_executor_device_applies(const cim_ocl *ocl, const cim_exec_job *job);

/* As cim_executor_host_run, for a job cim_executor_device_refusal accepts (NULL). */
int cim_executor_device_run(cim_ocl *ocl, const cim_exec_job *job, int32_t *scores, cim_error *err);

#endif /* CIM_EXECUTOR_DEVICE_H */
