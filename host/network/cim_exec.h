/* cim_exec.h -- what the executor's two pipelines share: the job (a chunk of
 * chips x images of one network plan), the choice of pipeline, and the
 * counting of per-layer errors.
 *
 * Both pipelines walk the same plan (cim_walk.h) and compute the same bits;
 * they differ only in where the work between crossbar reads runs
 * (cim_executor_host.h, cim_executor_device.h). The dispatcher
 * (cim_executor.h) picks one.
 */
#ifndef CIM_EXEC_H
#define CIM_EXEC_H

#include <stdint.h>

#include "cim_exec_cache.h"
#include "cim_plan.h"

typedef enum cim_pipeline {
    CIM_PIPELINE_AUTO,
    CIM_PIPELINE_HOST,
    CIM_PIPELINE_DEVICE,
} cim_pipeline;

/* Where a host-pipeline call's wall time went (seconds, added to; the
 * device pipeline leaves it alone): for benchmarks. */
typedef struct cim_exec_times {
    double shared_layers;  /* exact layers on tensors every chip shares (host layers) */
    double chip_layers;    /* exact layers on per-chip tensors */
    double gather;         /* crossbar layers: input vectors and their preparation */
    double engine;         /* crossbar layers: cim_engine_mvm whole calls */
    double engine_program; /* their kernel time: programming (D2D sampling) */
    double engine_read;    /* their kernel time: reads */
    double outputs;        /* crossbar layers: error counts and the layer outputs */
} cim_exec_times;

typedef struct cim_exec_job {
    const cim_plan *plan;
    const uint8_t *images; /* n_images images of the model's input shape */
    int64_t n_images;
    uint32_t first_image; /* dataset index of images[0]: keys the C2C streams */
    /* Position of images[0] in every chip's image order (read disturb: image
     * k of the order is read as MVMs k * V .. of a layer with V input vectors
     * per image; cim_netref_image_at). */
    int64_t image_position;
    uint32_t trial_first;
    int32_t n_trials;
    /* Optional error statistics: for crossbar layer c (plan index
     * layers[l].crossbar; a bit-sliced layer compares its folded results,
     * the integer the layer's digital logic receives),
     * mismatches[t * n_crossbar + c] += outputs of trial t that differ from
     * the exact integer W x of the same inputs (tiles summed), and
     * outputs[c] += the outputs compared per trial. NULL: not computed. */
    int64_t *mismatches;
    int64_t *outputs;
    /* Where the work between crossbar reads runs: AUTO takes the device
     * pipeline on GPUs where it applies, the host pipeline otherwise (on CPU
     * devices, which share the host's cores, it is the faster; bench_run
     * measures both). HOST and DEVICE choose (DEVICE still falls back to the
     * host where the device pipeline does not apply: chips read cell by
     * cell -- C2C, IR drop, read disturb -- and digital chips without
     * stuck-at faults; cim_executor_pipeline says which and why).
     * Results are the same bits either way. */
    cim_pipeline pipeline;
    /* Optional ADC input profiles (cim_profile.h): for crossbar layer c whose
     * xbar profiles, profiles[c] is [n_trials][CIM_PROFILE_SLOTS(bins)]
     * counters that every conversion of trial t adds to, as
     * cim_netref_image_profiled counts them (both pipelines). NULL: none. */
    uint64_t *const *profiles;
    /* Optional: what every chip shares, kept across the calls of one
     * Monte-Carlo run (cim_exec_cache.h); the call binds it to its images.
     * NULL: computed by every call. */
    cim_exec_cache *cache;
    cim_exec_times *times; /* optional: the host pipeline adds its time to it */
} cim_exec_job;

/* Adds one crossbar layer's counts to the job's statistics: differ[t] outputs
 * of trial t (of the job's n_trials) differed from the exact W x, out of
 * `compared` outputs per trial. No-op when the job counts nothing. */
void cim_exec_count_errors(const cim_exec_job *job, int32_t crossbar, const int64_t *differ,
                           int64_t compared);

#endif /* CIM_EXEC_H */
