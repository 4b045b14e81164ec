/* cim_engine.h -- crossbar MVMs on the OpenCL device: many trials x inputs x
 * output columns per launch, bit-identical to mapping/cim_reference.c.
 *
 * Analog path: a programming kernel samples every cell's D2D current for a
 * batch of trials and folds the cells of each weight into per-input-value
 * effective conductances; the read kernel sums them into column currents,
 * applies ADC and recombination per tile and adds tiles. With C2C on, the read
 * kernel draws fresh deviations per input instead: per cell, or with the C2C
 * column law (cim_xbar_c2c_column) one per cell group and column read, added
 * to the sums of the unclipped conductances. Digital path: bit-packed
 * AND-popcount over the mapping's cell and drive planes.
 * Trials are processed in batches sized to the device's memory; results never
 * depend on the batch size.
 */
#ifndef CIM_ENGINE_H
#define CIM_ENGINE_H

#include <stdint.h>

#include "cim_error.h"
#include "cim_ocl.h"
#include "cim_reference.h"
#include "cim_xbar.h"

/* Device time of the kernels of one cim_engine_mvm call (OpenCL profiling). */
typedef struct cim_engine_timing {
    double program_s; /* cell programming (D2D sampling), all batches */
    double read_s;    /* reads: column sums, ADC, recombination */
    /* Not a time: the terms the g reads added (entries of their lists,
     * cim_launch.h), summed over the trials; each is one add per conversion
     * and output column (padded to the SIMD width). */
    double read_terms;
} cim_engine_timing;

/* A job's inputs prepared once (cim_engine_inputs_prepare) for several calls
 * that read the same input vectors with other chips -- a network layer whose
 * input every chip shares, read by one chunk of trials after another: the
 * input sums per tile and the entry lists of the g read (the uploaded
 * vectors, for reads cell by cell; the drive bit-planes, for digital reads),
 * on the device. */
typedef struct cim_engine_inputs cim_engine_inputs;

typedef struct cim_mvm_job {
    const cim_xbar *xbar;
    const int8_t *weights; /* rows x cols, row-major */
    int32_t rows, cols;
    const int8_t *inputs; /* n_inputs x cols, or n_trials x n_inputs x cols (inputs_per_trial) */
    int32_t n_inputs;
    uint32_t input_first; /* C2C key of input 0 */
    uint32_t trial_first;
    int32_t n_trials;
    int32_t max_batch_trials;  /* 0: sized to device memory; tests force small batches */
    cim_engine_timing *timing; /* optional: kernel times are added to it */
    int inputs_per_trial;      /* 1: trial t reads its own inputs (a network's later layers) */
    /* Bit-sliced inputs (cim_planes.h): 0 or 1, none; P > 1, consecutive
     * groups of P inputs are the bit planes (least significant first) of one
     * vector, whose result is the fold of their reads. n_inputs must be a
     * multiple of P; no trace. */
    int32_t input_planes;
    /* Read disturb: the MVM index of input 0 in the chip's reads since its
     * programming (input i is MVM mvm_first + i of every tile;
     * cim_reference_mvm_at). Unused without read disturb. */
    int64_t mvm_first;
    /* Optional: the inputs prepared for a job of the same inputs, shape and
     * crossbar (trials, seed and trace may differ); a call checks that they
     * fit. NULL: the call prepares its own. */
    const cim_engine_inputs *prepared;
} cim_mvm_job;

/* out[(t * V + v) * rows + m] for trial trial_first + t and vector v of the
 * V = n_inputs / input_planes vectors (V = n_inputs without planes).
 * trace (optional, fields may be NULL): per trial, laid out as
 * [n_trials][n_inputs][tiles_n][n_convs][rows]; trace->profile, with an
 * analog xbar whose profile has bins, is [n_trials][CIM_PROFILE_SLOTS(bins)]
 * uint64 counters that every conversion of trial t adds to (cim_profile.h,
 * counted as cim_reference_mvm counts; also with bit planes: every plane's
 * read is a conversion). */
int cim_engine_mvm(cim_ocl *ocl, const cim_mvm_job *job, int32_t *out, const cim_mvm_trace *trace,
                   cim_error *err);

/* Prepares job's inputs for calls whose jobs differ from it at most in
 * trial_first, n_trials (unless inputs_per_trial), the seed and variability
 * of the crossbar, timing and max_batch_trials; such calls do not read
 * job->inputs again. 0 with *out set, or an error with *out NULL. */
int cim_engine_inputs_prepare(cim_ocl *ocl, const cim_mvm_job *job, cim_engine_inputs **out,
                              cim_error *err);
void cim_engine_inputs_free(cim_engine_inputs *in); /* NULL is a no-op */

/* One crossbar layer's chips kept on the device, for kernels that read them
 * directly (the network executor's device pipeline): the buffers of
 * cim_launch.h -- launch parameters (lp), column parameters (cp), weights_t
 * [cols][rows_pad] int8, weight sums sumw [tiles_n][rows_pad], the ADC level
 * table and g for n_trials chips (trial_first ..), programmed by
 * cim_program_g exactly as cim_engine_mvm programs them: the chips
 * cim_xbar_plain_sum_chips admits (analog with plain-sum reads, or digital
 * with stuck-at faults: cells 0 and 1). */
typedef struct cim_engine_chips {
    cl_mem lp, cp, weights_t, sumw, adc_table, g;
    int64_t rows_pad;
    int32_t n_trials;
} cim_engine_chips;

/* 0, CIM_ERR_USAGE (not cim_xbar_plain_sum_chips), CIM_ERR_INPUT (more than the device's
 * largest buffer) or a device error; on failure *chips holds nothing. */
int cim_engine_chips_program(cim_ocl *ocl, const cim_xbar *x, const int8_t *weights, int32_t rows,
                             int32_t cols, uint32_t trial_first, int32_t n_trials,
                             cim_engine_chips *chips, cim_error *err);
void cim_engine_chips_release(cim_engine_chips *chips);

#endif /* CIM_ENGINE_H */
