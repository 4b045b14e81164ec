/* cim_engine.c -- runs crossbar MVMs on the OpenCL device (see cim_engine.h).
 *
 * Per call: the host derives the digital side information once
 * (cim_engine_side.c: weight sums per tile column, input sums per tile, the
 * list of driving input positions per input and tile, or the bit-planes in
 * digital mode), uploads it with the weights, then walks the trials in batches. Digital chips
 * with stuck-at faults differ per trial and take the analog path's g kernels (their cells are
 * the state bits). Each analog batch
 * is two launches: program (cells of every weight for every trial of the batch) and read (every
 * input x every output column x every trial of the batch). The batch size only changes how much
 * device memory one launch uses, never a result: every random draw is keyed by its global trial
 * index.
 *
 * The C2C column law (cim_xbar_c2c_column; run_analog): the g kernels on
 * unclipped currents, a table of packed LRS counts per cell group (made
 * once per call, or per batch with stuck-at faults) and cim_read_column,
 * which adds one draw per cell group and column read to the g sums.
 *
 * ADC input profiling (trace->profile with a profiled crossbar): the read
 * kernels count into a uint32 histogram per trial of the batch, zeroed
 * before each batch's launch; the host adds them into the caller's uint64
 * counters, so counts do not depend on the batch size either.
 *
 * Errors: the public entry points substitute a scratch cim_error for a NULL
 * one (cim_error_or), so every static helper gets a valid err and may read
 * err->code after a helper that returned a pointer.
 *
 * Ownership: every cl_mem made here is released before return, through the
 * single `done:` label; kernels belong to the cim_ocl (cim_ocl_kernel), and
 * every argument is set before each launch.
 */
#include "cim_engine.h"
#include "cim_engine_side.h"

#include <stdlib.h>
#include <string.h>

#include "cim_launch.h"
#include "cim_network.h"
#include "cim_mapping.h"
#include "cim_parallel.h"
#include "cim_planes.h"

/* Device memory one batch may use, before the device's own limits, and the
 * most trials one batch takes (more buys no speed, only memory). */
#define CIM_ENGINE_BATCH_BYTES ((size_t)256 << 20)
#define CIM_ENGINE_BATCH_TRIALS 1024
/* Inputs one read work-item evaluates in turn on CPUs (its block of
 * conductances stays in cache); GPUs take one input per work-item. With an
 * input chain (cim_input_chain.h) a work-item's inputs are one group of the
 * chain: longer groups restart less often. */
#define CIM_ENGINE_CPU_INPUTS_PER_ITEM 8
#define CIM_ENGINE_CPU_CHAIN_GROUP 64

typedef struct engine_bufs {
    cl_mem lp, cp, weights_t, pos, sumw, work, out, trace_current, trace_adc, state_bits, adc_table,
        folded, cdf, profile, drift, counts;
} engine_bufs;

/* How a job's chips are read, which decides what its inputs need. */
typedef enum read_path { PATH_DIGITAL, PATH_G, PATH_CELLS } read_path;

/* Prepared inputs (cim_engine.h): the device buffers of the inputs' side
 * information, and the job shape they were made for. */
struct cim_engine_inputs {
    read_path path;
    int32_t cols, n_inputs, n_trials, inputs_per_trial, xbar_n, tiles_n;
    cim_mapping_id mapping;
    int64_t g_block;
    int chained;   /* the g read's lists follow an input chain (cim_input_chain.h) */
    int64_t terms; /* entries of the lists, summed over their rows */
    cl_mem tile_s, entries, entry_range, chain, inputs, drive_bits;
};

static void release_bufs(engine_bufs *b)
{
    cl_mem *all = (cl_mem *)b;
    for (size_t k = 0; k < sizeof *b / sizeof(cl_mem); ++k)
        if (all[k])
            clReleaseMemObject(all[k]);
}

/* Columns per block of g: CPU-style devices read it in blocks of one
 * work-item's columns, GPUs in one block (columns fastest). */
static int64_t g_block_of(const cim_ocl *ocl, int64_t rows_pad)
{
    return ocl->cpu_style ? ocl->vector_width : rows_pad;
}

/* Launch parameters of a job. CPU-style devices read g in blocks of one
 * work-item's columns, several inputs per work-item; GPUs keep columns
 * fastest for coalesced loads, one input per work-item. */
static void fill_launch_params(const cim_ocl *ocl, cim_launch_params *lp, const cim_mvm_job *job,
                               const cim_side_info *si, int tracing)
{
    const cim_xbar *x = job->xbar;
    memset(lp, 0, sizeof *lp);
    lp->seed = x->seed;
    lp->rows = job->rows;
    lp->cols = job->cols;
    lp->rows_pad = si->rows_pad;
    lp->xbar_m = x->xbar_m;
    lp->xbar_n = x->xbar_n;
    lp->tiles_n = si->tiles_n;
    lp->layer = x->layer;
    lp->trial_first = job->trial_first;
    lp->input_first = job->input_first;
    lp->n_inputs = job->n_inputs;
    const cim_cell_model cm = cim_xbar_cell_model(x); /* digital: 0 and 1, no deviation */
    for (int s = 0; s < 2; ++s) {
        lp->current_na[s] = cm.nominal[s];
        lp->d2d_sigma_na[s] = cm.d2d_sigma[s];
        lp->c2c_sigma_na[s] = cm.c2c_sigma[s];
        lp->saf_below[s] = cm.saf_below[s];
    }
    lp->saf_on = cim_xbar_has_saf(x);
    lp->cdf_on[0] = cm.d2d_cdf;
    lp->cdf_on[1] = cm.c2c_cdf;
    lp->d2d_on = cim_xbar_has_d2d(x);
    lp->c2c_on = cim_xbar_has_c2c(x);
    lp->c2c_column = cim_xbar_c2c_column(x);
    lp->trace = tracing;
    lp->words_per_tile = (x->xbar_n + CIM_BITS_PER_WORD - 1) / CIM_BITS_PER_WORD;
    lp->g_block = g_block_of(ocl, si->rows_pad);
    lp->inputs_per_item = ocl->cpu_style ? CIM_ENGINE_CPU_INPUTS_PER_ITEM : 1;
    lp->read_blocks = ocl->cpu_style ? CIM_NET_BLOCKS : 1;
    lp->inputs_per_trial = job->inputs_per_trial;
    lp->ladder_iw = cim_xbar_has_ladder(x) ? x->ladder_iw : 0;
    lp->ladder_rows = x->ladder_rows;
    lp->disturb_on = cim_xbar_has_disturb(x);
    lp->drift_model = x->drift_model;
    if (!x->column.digital && x->profile.bins > 0) {
        lp->profile_bins = x->profile.bins;
        lp->profile_lo_na = x->profile.lo_na;
        lp->profile_bin_na = x->profile.bin_na;
    }
}

/* Whether the call counts an ADC input profile into trace->profile. */
static int profiling(const cim_mvm_job *job, const cim_mvm_trace *trace)
{
    return trace && trace->profile && !job->xbar->column.digital && job->xbar->profile.bins > 0;
}

/* Counters of one trial's histogram. */
static size_t profile_slots(const cim_mvm_job *job)
{
    return (size_t)CIM_PROFILE_SLOTS(job->xbar->profile.bins);
}

/* Whether one launch could overflow the kernels' 32-bit counters: each
 * trial's conversions per call. */
static int check_profile(const cim_mvm_job *job, const cim_side_info *si, cim_error *err)
{
    const cim_mapping_desc *d = cim_mapping_desc_of(job->xbar->mapping);
    const uint64_t per_trial = (uint64_t)job->n_inputs * (uint64_t)si->tiles_n *
                               (uint64_t)d->n_convs * (uint64_t)job->rows;
    if (per_trial > UINT32_MAX)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "engine: %llu conversions per trial in one call overflow the ADC "
                             "profile's 32-bit counters; profile fewer images at once",
                             (unsigned long long)per_trial);
    return 0;
}

/* Adds the batch's device counters (bt trials from job trial t0) to the
 * caller's uint64 histograms. */
static int read_profile(cim_ocl *ocl, const cim_mvm_job *job, const engine_bufs *bf, int32_t t0,
                        int32_t bt, const cim_mvm_trace *trace, cim_error *err)
{
    const size_t slots = profile_slots(job), n = slots * (size_t)bt;
    uint32_t *counts = malloc(sizeof(uint32_t) * n);
    int rc;
    if (!counts)
        return cim_error_set(err, CIM_ERR_NOMEM, "engine: out of memory for the ADC profile");
    if ((rc = cim_ocl_read(ocl, bf->profile, sizeof(uint32_t) * n, counts, err)) == 0)
        for (size_t k = 0; k < n; ++k)
            trace->profile[(size_t)t0 * slots + k] += counts[k];
    free(counts);
    return rc;
}

static int32_t planes_of(const cim_mvm_job *job)
{
    return job->input_planes > 1 ? job->input_planes : 1;
}

static int check_job(const cim_mvm_job *job, const cim_mvm_trace *trace, cim_error *err)
{
    if (job->rows <= 0 || job->cols <= 0 || job->n_inputs <= 0 || job->n_trials <= 0)
        return cim_error_set(err, CIM_ERR_USAGE,
                             "engine: empty MVM (%d x %d, %d inputs, %d trials)", job->rows,
                             job->cols, job->n_inputs, job->n_trials);
    if (job->input_planes < 0 || job->input_planes > CIM_MAX_PLANES ||
        job->n_inputs % planes_of(job) != 0 ||
        (planes_of(job) > 1 && trace && (trace->current || trace->adc)))
        return cim_error_set(err, CIM_ERR_USAGE,
                             "engine: %d bit planes for %d inputs (1..%d planes dividing the "
                             "inputs, no trace)",
                             job->input_planes, job->n_inputs, CIM_MAX_PLANES);
    if ((int64_t)job->n_inputs * (job->inputs_per_trial ? job->n_trials : 1) * job->cols >
        INT32_MAX / 4)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "engine: %d inputs of %d values%s are too many for one call",
                             job->n_inputs, job->cols, job->inputs_per_trial ? " per trial" : "");
    return 0;
}

static size_t trace_elems(const cim_mvm_job *job, const cim_side_info *si)
{
    const cim_mapping_desc *d = cim_mapping_desc_of(job->xbar->mapping);
    return (size_t)job->n_inputs * si->tiles_n * d->n_convs * job->rows;
}

static int run_digital(cim_ocl *ocl, const cim_mvm_job *job, const cim_side_info *si,
                       const cim_engine_inputs *in, engine_bufs *bf, int32_t *out,
                       const cim_mvm_trace *trace, cim_error *err)
{
    cim_launch_params lp;
    uint32_t *state_bits = NULL;
    const cim_mapping_desc *d = cim_mapping_desc_of(job->xbar->mapping);
    const size_t out_elems = (size_t)job->n_inputs * job->rows, tr = trace_elems(job, si);
    const int32_t planes = planes_of(job);
    const size_t out_vector_elems = out_elems / (size_t)planes;
    const int tracing = trace && (trace->current || trace->adc);
    int32_t *reads = NULL;
    cl_kernel k = NULL;
    int rc;
    const int64_t rows_pad = si->rows_pad;
    fill_launch_params(ocl, &lp, job, si, tracing);
    if (planes > 1 && !(reads = malloc(sizeof(int32_t) * out_elems))) {
        rc = cim_error_set(err, CIM_ERR_NOMEM, "engine: out of memory for bit-plane reads");
        goto done;
    }
    if ((rc = cim_side_state_planes(job, si, lp.words_per_tile, rows_pad, &state_bits, err)) != 0)
        goto done;
    const size_t tile_words = (size_t)si->tiles_n * lp.words_per_tile;
    bf->lp = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof lp, &lp, "launch parameters", err);
    bf->state_bits =
        cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof(uint32_t) * d->n_slots * tile_words * rows_pad,
                       state_bits, "cell bit-planes", err);
    bf->out =
        cim_ocl_buffer(ocl, CL_MEM_WRITE_ONLY, sizeof(int32_t) * out_elems, NULL, "results", err);
    bf->trace_current = cim_ocl_buffer(ocl, CL_MEM_WRITE_ONLY, tracing ? sizeof(int32_t) * tr : 0,
                                       NULL, "trace", err);
    bf->trace_adc = cim_ocl_buffer(ocl, CL_MEM_WRITE_ONLY, tracing ? sizeof(int64_t) * tr : 0, NULL,
                                   "trace", err);
    if (!bf->lp || !bf->state_bits || !bf->out || !bf->trace_current || !bf->trace_adc) {
        rc = err->code;
        goto done;
    }
    if ((rc = cim_ocl_kernel(ocl, "cim_read_digital", &k, err)) != 0)
        goto done;
    {
        const cl_mem args[] = {bf->lp,   bf->cp,  bf->state_bits,    in->drive_bits, in->tile_s,
                               bf->sumw, bf->out, bf->trace_current, bf->trace_adc};
        if ((rc = cim_ocl_set_args(k, 9, args, err)) != 0 ||
            (rc = cim_ocl_launch(
                 ocl, k, "cim_read_digital", (size_t)(rows_pad / ocl->vector_width),
                 (size_t)((job->n_inputs + lp.inputs_per_item - 1) / lp.inputs_per_item), 1,
                 job->timing ? &job->timing->read_s : NULL, err)) != 0 ||
            (rc = cim_ocl_read(ocl, bf->out, sizeof(int32_t) * out_elems, planes > 1 ? reads : out,
                               err)) != 0)
            goto done;
    }
    if (planes > 1)
        cim_fold_planes_host(reads, job->rows, (int64_t)job->n_inputs / planes, planes, out);
    if (tracing) {
        if (trace->current && (rc = cim_ocl_read(ocl, bf->trace_current, sizeof(int32_t) * tr,
                                                 trace->current, err)) != 0)
            goto done;
        if (trace->adc &&
            (rc = cim_ocl_read(ocl, bf->trace_adc, sizeof(int64_t) * tr, trace->adc, err)) != 0)
            goto done;
    }
    /* No variability in digital mode: every trial sees the same chip. */
    for (int32_t t = 1; t < job->n_trials; ++t) {
        memcpy(out + t * out_vector_elems, out, sizeof(int32_t) * out_vector_elems);
        if (tracing && trace->current)
            memcpy(trace->current + t * tr, trace->current, sizeof(int32_t) * tr);
        if (tracing && trace->adc)
            memcpy(trace->adc + t * tr, trace->adc, sizeof(int64_t) * tr);
    }
done:
    free(state_bits);
    free(reads);
    return rc;
}

/* The transposed weights and the position table of cim_launch.h, padded
 * to rows_pad rows with zeros. */
static int upload_cell_layout(cim_ocl *ocl, const cim_mvm_job *job, const cim_side_info *si,
                              int64_t rows_pad, engine_bufs *bf, cim_error *err)
{
    const cim_xbar *x = job->xbar;
    const size_t rows = (size_t)job->rows, cols = (size_t)job->cols, pad = (size_t)rows_pad;
    int8_t *wt = calloc(pad * cols, 1);
    int32_t *pos = calloc(2 * (pad + cols), sizeof(int32_t));
    int rc = 0;
    if (!wt || !pos) {
        rc = cim_error_set(err, CIM_ERR_NOMEM, "engine: out of memory for the cell layout");
        goto done;
    }
    for (size_t m = 0; m < rows; ++m)
        for (size_t n = 0; n < cols; ++n)
            wt[n * pad + m] = job->weights[m * cols + n];
    for (size_t m = 0; m < rows; ++m) {
        pos[m] = (int32_t)(m / (size_t)x->xbar_m) * si->tiles_n;
        pos[pad + m] = (int32_t)(m % (size_t)x->xbar_m) * x->xbar_n;
    }
    for (size_t n = 0; n < cols; ++n) {
        pos[2 * pad + n] = (int32_t)(n / (size_t)x->xbar_n);
        pos[2 * pad + cols + n] = (int32_t)(n % (size_t)x->xbar_n);
    }
    bf->weights_t = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, pad * cols, wt, "weights", err);
    bf->pos = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof(int32_t) * 2 * (pad + cols), pos,
                             "cell positions", err);
    if (!bf->weights_t || !bf->pos)
        rc = err->code;
done:
    free(wt);
    free(pos);
    return rc;
}

/* The finite ADC's level table (cim_adc.h); a placeholder for INF. */
static int upload_adc_table(cim_ocl *ocl, const cim_xbar *x, engine_bufs *bf, cim_error *err)
{
    const int finite = x->column.adc_type != CIM_ADC_INF;
    const size_t len = finite ? (size_t)cim_adc_table_len(&x->column) : 0;
    int64_t *table = NULL;
    if (finite) {
        table = malloc(sizeof(int64_t) * len);
        if (!table)
            return cim_error_set(err, CIM_ERR_NOMEM, "engine: out of memory for the ADC table");
        cim_adc_table_build(&x->column, table);
    }
    bf->adc_table =
        cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof(int64_t) * len, table, "ADC table", err);
    free(table);
    return bf->adc_table ? 0 : err->code;
}

/* The measured-distribution tables (cim_cdf.h), read by the programming and
 * C2C read kernels (n = 0 everywhere when the model is Gaussian). */
static int upload_cdf(cim_ocl *ocl, const cim_xbar *x, engine_bufs *bf, cim_error *err)
{
    bf->cdf = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof x->cdf, (void *)&x->cdf,
                             "device distribution tables", err);
    return bf->cdf ? 0 : err->code;
}

/* Read disturb: what the drifting cells carry in each input's read (one
 * entry per input, cim_reference_drift_reads); a one-entry dummy without. */
static int upload_drift(cim_ocl *ocl, const cim_mvm_job *job, engine_bufs *bf, cim_error *err)
{
    cim_drift_read *reads = NULL, none = {0, 0, 0, 0, 0, 0};
    if (cim_reference_drift_reads(job->xbar, job->mvm_first, job->n_inputs, &reads) != 0)
        return cim_error_set(err, CIM_ERR_NOMEM, "engine: out of memory for the drift table");
    bf->drift = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY,
                               sizeof(cim_drift_read) * (reads ? (size_t)job->n_inputs : 1),
                               reads ? reads : &none, "drift table", err);
    free(reads);
    return bf->drift ? 0 : err->code;
}

/* Trials per batch: bounded by the device's allocation limit and memory. */
static int32_t batch_trials(const cim_ocl *ocl, const cim_mvm_job *job, size_t work_per_trial,
                            size_t out_per_trial)
{
    size_t budget = CIM_ENGINE_BATCH_BYTES, cap = (size_t)ocl->max_alloc_bytes;
    size_t per = work_per_trial > out_per_trial ? work_per_trial : out_per_trial;
    int64_t n;
    if (ocl->global_mem_bytes / 4 < budget)
        budget = (size_t)(ocl->global_mem_bytes / 4);
    if (cap && cap < budget)
        budget = cap;
    n = per ? (int64_t)(budget / per) : job->n_trials;
    if (n < 1)
        n = 1;
    if (n > CIM_ENGINE_BATCH_TRIALS)
        n = CIM_ENGINE_BATCH_TRIALS;
    if (n > job->n_trials)
        n = job->n_trials;
    if (job->max_batch_trials > 0 && n > job->max_batch_trials)
        n = job->max_batch_trials;
    return (int32_t)n;
}

/* cim_fold over the read kernel's results into bf->folded. */
static int make_fold_kernel(cim_ocl *ocl, const cim_mvm_job *job, const engine_bufs *bf,
                            cl_kernel *k, cim_error *err)
{
    const cl_int rows = job->rows, planes = job->input_planes;
    const cl_long n_vectors = job->n_inputs / job->input_planes;
    int rc;
    if ((rc = cim_ocl_kernel(ocl, "cim_fold", k, err)) != 0 ||
        (rc = cim_ocl_set_arg(*k, 0, sizeof(cl_mem), &bf->out, err)) != 0 ||
        (rc = cim_ocl_set_arg(*k, 1, sizeof rows, &rows, err)) != 0 ||
        (rc = cim_ocl_set_arg(*k, 2, sizeof n_vectors, &n_vectors, err)) != 0 ||
        (rc = cim_ocl_set_arg(*k, 3, sizeof planes, &planes, err)) != 0)
        return rc;
    return cim_ocl_set_arg(*k, 4, sizeof(cl_mem), &bf->folded, err);
}

static read_path path_of(const cim_xbar *x)
{
    if (x->column.digital && !cim_xbar_has_saf(x))
        return PATH_DIGITAL;
    if (cim_xbar_c2c_column(x)) /* the g read plus the column law's draws */
        return PATH_G;
    return cim_xbar_reads_per_cell(x) ? PATH_CELLS : PATH_G;
}

/* Whether the g read of (effective) job e takes its inputs in a planned
 * chain (cim_input_chain.h): on CPU-style devices, where one work-item reads
 * several inputs in turn, when every chip reads the same inputs (the plan is
 * made once for all of them) and the read is cim_read_g's plain sum. */
static int chained_of(const cim_ocl *ocl, const cim_mvm_job *e)
{
    return ocl->cpu_style && path_of(e->xbar) == PATH_G && !cim_xbar_c2c_column(e->xbar) &&
           !e->inputs_per_trial && e->n_inputs > 1;
}

/* Bytes of one trial's programmed cells: g (cim_program_g) or, for the
 * per-cell reads (C2C, IR drop), the raw currents (cim_program_raw). */
static size_t work_bytes_per_trial(const cim_xbar *x, int32_t cols, int64_t rows_pad)
{
    const cim_mapping_desc *d = cim_mapping_desc_of(x->mapping);
    return sizeof(int32_t) * (size_t)cols * (size_t)rows_pad *
           (path_of(x) == PATH_CELLS ? (size_t)d->n_slots
                                     : (size_t)d->n_convs * (size_t)cim_value_classes(d));
}

static int run_analog(cim_ocl *ocl, const cim_mvm_job *job, const cim_side_info *si,
                      const cim_engine_inputs *in, engine_bufs *bf, int32_t *out,
                      const cim_mvm_trace *trace, cim_error *err)
{
    const cim_xbar *x = job->xbar;
    const int per_cell = in->path == PATH_CELLS; /* C2C, IR drop, read disturb */
    /* The C2C column law (cim_c2c_column.h, docs/physics/c2c_column.md): the
     * g read on currents programmed without the clip (lp.c2c_column), plus,
     * over the same entry list, a word of packed LRS counts per cell group,
     * from which each read's variance per group follows exactly, and one
     * Philox block per column read for the groups' normal draws. The count
     * table depends on the cells' states only: without stuck-at faults it
     * is the weights' and made once per call, with faults per trial. */
    const int column = cim_xbar_c2c_column(x), saf = cim_xbar_has_saf(x);
    const int vw = ocl->vector_width;
    const int64_t rows_pad = si->rows_pad;
    const size_t count_plane = column
                                   ? sizeof(uint32_t) * (size_t)job->cols * (size_t)rows_pad *
                                         (size_t)cim_value_classes(cim_mapping_desc_of(x->mapping))
                                   : 0;
    const size_t cells_per_trial = work_bytes_per_trial(x, job->cols, rows_pad);
    const size_t work_per_trial = cells_per_trial + (saf ? count_plane : 0);
    const size_t out_elems = (size_t)job->n_inputs * job->rows, tr = trace_elems(job, si);
    const int32_t planes = planes_of(job);
    const size_t out_vector_elems = out_elems / (size_t)planes;
    const int tracing = trace && (trace->current || trace->adc);
    const int profiled = profiling(job, trace);
    const int32_t batch =
        batch_trials(ocl, job, work_per_trial,
                     sizeof(int32_t) * (out_elems + (planes > 1 ? out_vector_elems : 0) +
                                        (profiled ? profile_slots(job) : 0)) +
                         (tracing ? 12 * tr : 0));
    cim_launch_params lp;
    cl_kernel kprog = NULL, kcount = NULL, kread = NULL, kfold = NULL;
    cl_int st;
    int rc = 0;

    if (work_per_trial > (size_t)ocl->max_alloc_bytes) {
        rc = cim_error_set(err, CIM_ERR_INPUT,
                           "engine: a %d x %d matrix needs %zu bytes per trial, more than the "
                           "device's largest buffer (%llu bytes)",
                           job->rows, job->cols, work_per_trial,
                           (unsigned long long)ocl->max_alloc_bytes);
        goto done;
    }
    fill_launch_params(ocl, &lp, job, si, tracing);
    if (in->chained) { /* a work-item reads one group of the chain */
        lp.chained = 1;
        lp.inputs_per_item = CIM_ENGINE_CPU_CHAIN_GROUP;
    }
    bf->lp = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof lp, NULL, "launch parameters", err);
    bf->work =
        cim_ocl_buffer(ocl, CL_MEM_READ_WRITE, cells_per_trial * batch, NULL, "cell currents", err);
    if (column)
        bf->counts = cim_ocl_buffer(ocl, CL_MEM_READ_WRITE, count_plane * (saf ? (size_t)batch : 1),
                                    NULL, "cell counts", err);
    /* on CPU devices one batch of every trial writes its results straight
     * into the caller's array */
    const int direct = ocl->cpu_style && batch == job->n_trials && planes == 1;
    bf->out = direct ? cim_ocl_host_buffer(ocl, CL_MEM_WRITE_ONLY,
                                           sizeof(int32_t) * out_elems * batch, out, "results", err)
                     : cim_ocl_buffer(ocl, CL_MEM_WRITE_ONLY, sizeof(int32_t) * out_elems * batch,
                                      NULL, "results", err);
    bf->trace_current = cim_ocl_buffer(
        ocl, CL_MEM_WRITE_ONLY, tracing ? sizeof(int32_t) * tr * batch : 0, NULL, "trace", err);
    bf->trace_adc = cim_ocl_buffer(ocl, CL_MEM_WRITE_ONLY,
                                   tracing ? sizeof(int64_t) * tr * batch : 0, NULL, "trace", err);
    if (planes > 1)
        bf->folded =
            cim_ocl_buffer(ocl, CL_MEM_WRITE_ONLY, sizeof(int32_t) * out_vector_elems * batch, NULL,
                           "results", err);
    if (profiled && (rc = check_profile(job, si, err)) != 0)
        goto done;
    bf->profile = cim_ocl_buffer(ocl, CL_MEM_READ_WRITE,
                                 profiled ? sizeof(uint32_t) * profile_slots(job) * batch : 0, NULL,
                                 "ADC profile", err);
    if (!profiled)
        lp.profile_bins = 0; /* the caller asked for no profile */
    if (!bf->lp || !bf->work || (column && !bf->counts) || !bf->out || !bf->trace_current ||
        !bf->trace_adc || !bf->profile || (planes > 1 && !bf->folded)) {
        rc = err->code;
        goto done;
    }
    if (planes > 1 && (rc = make_fold_kernel(ocl, job, bf, &kfold, err)) != 0)
        goto done;
    if ((rc = upload_adc_table(ocl, x, bf, err)) != 0 || (rc = upload_cdf(ocl, x, bf, err)) != 0 ||
        (rc = upload_cell_layout(ocl, job, si, rows_pad, bf, err)) != 0 ||
        (per_cell && (rc = upload_drift(ocl, job, bf, err)) != 0))
        goto done;
    if ((rc = cim_ocl_kernel(ocl, per_cell ? "cim_program_raw" : "cim_program_g", &kprog, err)) !=
            0 ||
        (column && (rc = cim_ocl_kernel(ocl, "cim_program_c2c_counts", &kcount, err)) != 0) ||
        (rc = cim_ocl_kernel(ocl,
                             per_cell ? "cim_read_per_cell"
                             : column ? "cim_read_column"
                                      : "cim_read_g",
                             &kread, err)) != 0)
        goto done;
    {
        const cl_mem pargs[] = {bf->lp, bf->cp, bf->weights_t, bf->pos, bf->work, bf->cdf};
        const cl_mem rargs_g[] = {bf->lp,          bf->cp,    bf->work,          in->entries,
                                  in->entry_range, in->chain, in->tile_s,        bf->sumw,
                                  bf->adc_table,   bf->out,   bf->trace_current, bf->trace_adc,
                                  bf->profile};
        const cl_mem rargs_cells[] = {bf->lp,        bf->cp,      bf->weights_t,     bf->pos,
                                      in->inputs,    bf->work,    in->tile_s,        bf->sumw,
                                      bf->adc_table, bf->out,     bf->trace_current, bf->trace_adc,
                                      bf->cdf,       bf->profile, bf->drift};
        const cl_mem cargs[] = {bf->lp, bf->cp, bf->weights_t, bf->pos, bf->counts};
        const cl_mem rargs_column[] = {
            bf->lp,     bf->cp,   bf->work,      bf->counts, in->entries,       in->entry_range,
            in->tile_s, bf->sumw, bf->adc_table, bf->out,    bf->trace_current, bf->trace_adc,
            bf->profile};
        if ((rc = cim_ocl_set_args(kprog, 6, pargs, err)) != 0 ||
            (column && (rc = cim_ocl_set_args(kcount, 5, cargs, err)) != 0) ||
            (rc = per_cell ? cim_ocl_set_args(kread, 15, rargs_cells, err)
                  : column ? cim_ocl_set_args(kread, 13, rargs_column, err)
                           : cim_ocl_set_args(kread, 13, rargs_g, err)) != 0)
            goto done;
    }
    for (int32_t t0 = 0; t0 < job->n_trials; t0 += batch) {
        const int32_t bt = job->n_trials - t0 < batch ? job->n_trials - t0 : batch;
        lp.trial_first = (int64_t)job->trial_first + t0;
        lp.input_trial_base = t0;
        st = clEnqueueWriteBuffer(ocl->queue, bf->lp, CL_TRUE, 0, sizeof lp, &lp, 0, NULL, NULL);
        if ((rc = CIM_OCL_CHECK(st, err, "clEnqueueWriteBuffer(launch parameters)")) != 0)
            goto done;
        if (profiled) {
            const cl_uint zero = 0;
            st = clEnqueueFillBuffer(ocl->queue, bf->profile, &zero, sizeof zero, 0,
                                     sizeof(uint32_t) * profile_slots(job) * (size_t)bt, 0, NULL,
                                     NULL);
            if ((rc = CIM_OCL_CHECK(st, err, "clEnqueueFillBuffer(ADC profile)")) != 0)
                goto done;
        }
        /* the column law's counts: the weights' own once, or each batch's chips' with faults */
        if (column && (saf || t0 == 0) &&
            (rc = cim_ocl_launch(ocl, kcount, "count kernel", (size_t)(rows_pad / vw),
                                 (size_t)job->cols, saf ? (size_t)bt : 1,
                                 job->timing ? &job->timing->program_s : NULL, err)) != 0)
            goto done;
        if ((rc = cim_ocl_launch(ocl, kprog, "program kernel",
                                 per_cell ? (size_t)job->rows : (size_t)(rows_pad / vw),
                                 (size_t)job->cols, (size_t)bt,
                                 job->timing ? &job->timing->program_s : NULL, err)) != 0 ||
            (rc = cim_ocl_launch(
                 ocl, kread, "read kernel",
                 per_cell ? (size_t)job->rows
                 : column ? (size_t)(rows_pad / vw)
                          : (size_t)((rows_pad / vw + lp.read_blocks - 1) / lp.read_blocks),
                 per_cell ? (size_t)job->n_inputs
                          : (size_t)((job->n_inputs + lp.inputs_per_item - 1) / lp.inputs_per_item),
                 (size_t)bt, job->timing ? &job->timing->read_s : NULL, err)) != 0 ||
            (planes > 1 &&
             (rc = cim_ocl_launch(ocl, kfold, "fold kernel", (size_t)job->rows,
                                  (size_t)(job->n_inputs / planes), (size_t)bt,
                                  job->timing ? &job->timing->read_s : NULL, err)) != 0) ||
            (rc = direct ? cim_ocl_sync_host(ocl, bf->out, sizeof(int32_t) * out_elems * bt, err)
                         : cim_ocl_read(ocl, planes > 1 ? bf->folded : bf->out,
                                        sizeof(int32_t) * out_vector_elems * bt,
                                        out + (size_t)t0 * out_vector_elems, err)) != 0)
            goto done;
        if (profiled && (rc = read_profile(ocl, job, bf, t0, bt, trace, err)) != 0)
            goto done;
        if (job->timing && !per_cell) /* the g reads' terms: the batch's rows of the lists */
            job->timing->read_terms +=
                (double)in->terms * (job->inputs_per_trial ? (double)bt / job->n_trials : bt);
        if (tracing && trace->current &&
            (rc = cim_ocl_read(ocl, bf->trace_current, sizeof(int32_t) * tr * bt,
                               trace->current + (size_t)t0 * tr, err)) != 0)
            goto done;
        if (tracing && trace->adc &&
            (rc = cim_ocl_read(ocl, bf->trace_adc, sizeof(int64_t) * tr * bt,
                               trace->adc + (size_t)t0 * tr, err)) != 0)
            goto done;
    }
done:
    return rc;
}

/* No variability in digital mode: the trials' inputs are just more inputs of
 * one chip, and [trial][input][row] is the same layout either way. */
static cim_mvm_job effective_job(const cim_mvm_job *job)
{
    cim_mvm_job e = *job;
    if (path_of(job->xbar) == PATH_DIGITAL && job->inputs_per_trial && job->n_trials > 1) {
        e.n_inputs = job->n_inputs * job->n_trials;
        e.n_trials = 1;
        e.inputs_per_trial = 0;
    }
    return e;
}

/* Digital reads: the drive bit-planes of the uploaded inputs (cim_pack_drives). */
static int pack_drives(cim_ocl *ocl, const cim_mvm_job *e, cim_engine_inputs *in, int64_t rows_pad,
                       cim_error *err)
{
    const cim_mapping_desc *d = cim_mapping_desc_of(e->xbar->mapping);
    const cim_side_info si = {in->tiles_n, rows_pad, NULL};
    cim_launch_params lp;
    cl_kernel k = NULL;
    cl_mem lpb = NULL, cpb = NULL;
    int rc;
    fill_launch_params(ocl, &lp, e, &si, 0);
    const size_t tile_words = (size_t)in->tiles_n * (size_t)lp.words_per_tile;
    lpb = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof lp, &lp, "launch parameters", err);
    cpb = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof e->xbar->column, (void *)&e->xbar->column,
                         "column parameters", err);
    in->drive_bits = cim_ocl_buffer(
        ocl, CL_MEM_READ_WRITE, sizeof(uint32_t) * (size_t)e->n_inputs * d->n_drives * tile_words,
        NULL, "drive bit-planes", err);
    if (!lpb || !cpb || !in->drive_bits) {
        rc = err->code;
        goto done;
    }
    {
        const cl_mem args[] = {lpb, cpb, in->inputs, in->drive_bits};
        if ((rc = cim_ocl_kernel(ocl, "cim_pack_drives", &k, err)) == 0 &&
            (rc = cim_ocl_set_args(k, 4, args, err)) == 0)
            rc = cim_ocl_launch(ocl, k, "drive packing kernel", tile_words, (size_t)e->n_inputs, 1,
                                NULL, err);
    }
done:
    if (lpb)
        clReleaseMemObject(lpb);
    if (cpb)
        clReleaseMemObject(cpb);
    return rc;
}

/* The prepared inputs of (effective) job e; its check_job has passed. */
static int prepare_inputs(cim_ocl *ocl, const cim_mvm_job *e, cim_engine_inputs **out,
                          cim_error *err)
{
    const cim_xbar *x = e->xbar;
    const int64_t rows_pad = cim_side_rows_pad(e->rows, ocl->vector_width);
    cim_engine_inputs *in = calloc(1, sizeof *in);
    cim_side_lists l;
    int rc;
    *out = NULL;
    if (!in)
        return cim_error_set(err, CIM_ERR_NOMEM, "engine: out of memory for the inputs");
    in->path = path_of(x);
    in->cols = e->cols;
    in->n_inputs = e->n_inputs;
    in->n_trials = e->n_trials;
    in->inputs_per_trial = e->inputs_per_trial;
    in->xbar_n = x->xbar_n;
    in->tiles_n = cim_tiles(e->cols, x->xbar_n);
    in->mapping = x->mapping;
    in->g_block = g_block_of(ocl, rows_pad);
    in->chained = chained_of(ocl, e);
    cim_input_chain chain = {0, 0, NULL, 0};
    if (in->chained) {
        const cim_mapping_desc *d = cim_mapping_desc_of(x->mapping);
        int class_of[3];
        for (int v = 0; v < 3; ++v)
            class_of[v] = cim_value_class(d, v);
        if ((rc = cim_input_chain_plan(e->inputs, e->n_inputs, e->cols, class_of,
                                       CIM_ENGINE_CPU_CHAIN_GROUP, &chain, err)) != 0) {
            free(in);
            return rc;
        }
    }
    rc = cim_side_lists_build(e, in->tiles_n, in->g_block, in->path == PATH_G,
                              in->chained ? &chain : NULL, &l, err);
    if (rc != 0) {
        cim_input_chain_free(&chain);
        free(in);
        return rc;
    }
    in->terms = l.terms;
    const size_t rows = (size_t)l.input_rows;
    in->tile_s = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof(int32_t) * rows * in->tiles_n,
                                l.tile_s, "input sums", err);
    rc = in->tile_s ? 0 : err->code;
    if (rc == 0 && in->path == PATH_G) {
        in->entries = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof(int32_t) * l.n_entries,
                                     l.n_entries ? l.entries : NULL, "input lists", err);
        in->entry_range =
            cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof(int32_t) * 3 * rows * in->tiles_n,
                           l.entry_range, "input lists", err);
        in->chain = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY,
                                   in->chained ? sizeof(int32_t) * 2 * (size_t)e->n_inputs : 0,
                                   in->chained ? chain.link : NULL, "input chain", err);
        rc = in->entries && in->entry_range && in->chain ? 0 : err->code;
    }
    if (rc == 0 && in->path != PATH_G) {
        in->inputs =
            cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, rows * (size_t)e->cols, e->inputs, "inputs", err);
        rc = in->inputs ? 0 : err->code;
    }
    if (rc == 0 && in->path == PATH_DIGITAL && (rc = pack_drives(ocl, e, in, rows_pad, err)) == 0) {
        clReleaseMemObject(in->inputs); /* the drive bits are all a digital read needs */
        in->inputs = NULL;
    }
    cim_side_lists_free(&l);
    cim_input_chain_free(&chain);
    if (rc != 0)
        cim_engine_inputs_free(in);
    else
        *out = in;
    return rc;
}

int cim_engine_inputs_prepare(cim_ocl *ocl, const cim_mvm_job *job, cim_engine_inputs **out,
                              cim_error *err)
{
    cim_error scratch;
    err = cim_error_or(err, &scratch); /* prepare_inputs reads err->code */
    *out = NULL;
    const cim_mvm_job e = effective_job(job);
    const int rc = check_job(&e, NULL, err);
    return rc != 0 ? rc : prepare_inputs(ocl, &e, out, err);
}

void cim_engine_inputs_free(cim_engine_inputs *in)
{
    if (!in)
        return;
    cl_mem all[] = {in->tile_s, in->entries, in->entry_range,
                    in->chain,  in->inputs,  in->drive_bits};
    for (size_t k = 0; k < sizeof all / sizeof *all; ++k)
        if (all[k])
            clReleaseMemObject(all[k]);
    free(in);
}

/* Whether prepared inputs fit (effective) job e: the same path, shape and
 * lists' layout. */
static int check_prepared(const cim_ocl *ocl, const cim_engine_inputs *in, const cim_mvm_job *e,
                          const cim_side_info *si, cim_error *err)
{
    const cim_xbar *x = e->xbar;
    if (in->path != path_of(x) || in->cols != e->cols || in->n_inputs != e->n_inputs ||
        in->inputs_per_trial != e->inputs_per_trial ||
        (e->inputs_per_trial && in->n_trials != e->n_trials) || in->xbar_n != x->xbar_n ||
        in->mapping != x->mapping || in->g_block != g_block_of(ocl, si->rows_pad) ||
        in->chained != chained_of(ocl, e))
        return cim_error_set(err, CIM_ERR_USAGE,
                             "engine: the prepared inputs (%d x %d) were made for another job "
                             "(%d x %d)",
                             in->n_inputs, in->cols, e->n_inputs, e->cols);
    return 0;
}

int cim_engine_mvm(cim_ocl *ocl, const cim_mvm_job *job, int32_t *out, const cim_mvm_trace *trace,
                   cim_error *err)
{
    cim_error scratch;
    err = cim_error_or(err, &scratch); /* the helpers below read err->code */
    const cim_mvm_job e = effective_job(job);
    engine_bufs bf;
    cim_side_info si = {0, 0, NULL};
    cim_engine_inputs *own = NULL;
    const cim_engine_inputs *in = job->prepared;
    int rc;
    memset(&bf, 0, sizeof bf);
    if ((rc = check_job(&e, trace, err)) != 0)
        return rc;
    if ((rc = cim_side_weights(&si, &e, ocl->vector_width, err)) != 0)
        goto done;
    if (in ? (rc = check_prepared(ocl, in, &e, &si, err)) != 0
           : (rc = prepare_inputs(ocl, &e, &own, err)) != 0)
        goto done;
    if (!in)
        in = own;
    bf.cp = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof e.xbar->column, &e.xbar->column,
                           "column parameters", err);
    bf.sumw = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof(int32_t) * si.tiles_n * si.rows_pad,
                             si.sumw, "weight sums", err);
    if (!bf.cp || !bf.sumw) {
        rc = err->code;
        goto done;
    }
    /* digital chips with stuck-at faults differ per trial: the g path, whose
     * cells are then the state bits (fill_launch_params) */
    rc = in->path == PATH_DIGITAL ? run_digital(ocl, &e, &si, in, &bf, out, trace, err)
                                  : run_analog(ocl, &e, &si, in, &bf, out, trace, err);
done:
    release_bufs(&bf);
    cim_side_free(&si);
    cim_engine_inputs_free(own);
    return rc;
}

/* ---- chips kept on the device (cim_engine.h) --------------------------- */

int cim_engine_chips_program(cim_ocl *ocl, const cim_xbar *x, const int8_t *weights, int32_t rows,
                             int32_t cols, uint32_t trial_first, int32_t n_trials,
                             cim_engine_chips *chips, cim_error *err)
{
    cim_error scratch;
    err = cim_error_or(err, &scratch); /* the helpers below read err->code */
    const cim_mvm_job job = {.xbar = x,
                             .weights = weights,
                             .rows = rows,
                             .cols = cols,
                             .n_inputs = 1,
                             .trial_first = trial_first,
                             .n_trials = n_trials};
    cim_side_info si = {0, 0, NULL};
    engine_bufs bf;
    cim_launch_params lp;
    cl_kernel k = NULL;
    int rc = 0;
    memset(&bf, 0, sizeof bf);
    memset(chips, 0, sizeof *chips);
    if (!cim_xbar_plain_sum_chips(x) || rows <= 0 || cols <= 0 || n_trials <= 0)
        return cim_error_set(err, CIM_ERR_USAGE,
                             "engine: kept chips are analog with plain-sum reads (no C2C, IR drop "
                             "or read disturb), or digital with stuck-at faults (%d x %d, %d "
                             "trials)",
                             rows, cols, n_trials);
    if ((rc = cim_side_weights(&si, &job, ocl->vector_width, err)) != 0)
        goto done;
    const size_t work = work_bytes_per_trial(x, cols, si.rows_pad) * (size_t)n_trials;
    if (work > (size_t)ocl->max_alloc_bytes) {
        rc = cim_error_set(err, CIM_ERR_INPUT,
                           "engine: %d chips of a %d x %d matrix need %zu bytes, more than the "
                           "device's largest buffer (%llu bytes)",
                           n_trials, rows, cols, work, (unsigned long long)ocl->max_alloc_bytes);
        goto done;
    }
    fill_launch_params(ocl, &lp, &job, &si, 0);
    bf.lp = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof lp, &lp, "launch parameters", err);
    bf.cp = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof x->column, &x->column, "column parameters",
                           err);
    bf.sumw = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof(int32_t) * si.tiles_n * si.rows_pad,
                             si.sumw, "weight sums", err);
    bf.work = cim_ocl_buffer(ocl, CL_MEM_READ_WRITE, work, NULL, "cell currents", err);
    if (!bf.lp || !bf.cp || !bf.sumw || !bf.work) {
        rc = err->code;
        goto done;
    }
    if ((rc = upload_adc_table(ocl, x, &bf, err)) != 0 ||
        (rc = upload_cdf(ocl, x, &bf, err)) != 0 ||
        (rc = upload_cell_layout(ocl, &job, &si, si.rows_pad, &bf, err)) != 0)
        goto done;
    if ((rc = cim_ocl_kernel(ocl, "cim_program_g", &k, err)) != 0)
        goto done;
    {
        const cl_mem args[] = {bf.lp, bf.cp, bf.weights_t, bf.pos, bf.work, bf.cdf};
        if ((rc = cim_ocl_set_args(k, 6, args, err)) != 0 ||
            (rc =
                 cim_ocl_launch(ocl, k, "program kernel", (size_t)(si.rows_pad / ocl->vector_width),
                                (size_t)cols, (size_t)n_trials, NULL, err)) != 0)
            goto done;
    }
    chips->lp = bf.lp;
    chips->cp = bf.cp;
    chips->weights_t = bf.weights_t;
    chips->sumw = bf.sumw;
    chips->adc_table = bf.adc_table;
    chips->g = bf.work;
    bf.lp = bf.cp = bf.weights_t = bf.sumw = bf.adc_table = bf.work = NULL;
    chips->rows_pad = si.rows_pad;
    chips->n_trials = n_trials;
done:
    release_bufs(&bf);
    cim_side_free(&si);
    return rc;
}

void cim_engine_chips_release(cim_engine_chips *chips)
{
    cl_mem *all[] = {&chips->lp,   &chips->cp,        &chips->weights_t,
                     &chips->sumw, &chips->adc_table, &chips->g};
    for (size_t k = 0; k < sizeof all / sizeof *all; ++k) {
        if (*all[k])
            clReleaseMemObject(*all[k]);
        *all[k] = NULL;
    }
}
