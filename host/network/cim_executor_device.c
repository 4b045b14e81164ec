/* cim_executor_device.c -- see cim_executor_device.h.
 *
 * Activations on the device are int32 [set][image][layer size] as in the
 * host pipeline: `set` is 0 for the tensor the layers before the first
 * crossbar layer computed (one per image, every chip reads it) and the trial
 * of the call after it. Two device tensors of n_trials x n_images x the
 * model's largest tensor take turns as input and output.
 *
 * ADC input profiles: cim_read_layer counts each trial's conversions into a
 * uint32 histogram per call and layer, added here into the job's uint64
 * counters (the same counts as the host pipeline's).
 *
 * Ownership: everything a call allocates (host prefix buffers, device
 * tensors, each crossbar layer's chips and tables) is released before it
 * returns, through the `done:` labels; the kernels belong to the cim_ocl
 * (cim_ocl_kernel).
 */
#include "cim_executor_device.h"

#include <stdlib.h>
#include <string.h>

#include "cim_engine.h"
#include "cim_executor_host.h"
#include "cim_forward.h"
#include "cim_layer_exact.h"
#include "cim_mapping.h"
#include "cim_network.h"
#include "cim_walk.h"

/* The kernels of the pipeline, in kernels/cim_network.cl. */
enum { K_READ, K_MAXPOOL, K_THRESHOLD, K_ACTIVATION, K_COUNT };
static const char *const kernel_names[K_COUNT] = {"cim_read_layer", "cim_layer_maxpool2d",
                                                  "cim_layer_threshold", "cim_layer_activation"};

typedef struct device_walk {
    cim_ocl *ocl;
    const cim_exec_job *job;
    cl_kernel k[K_COUNT];
} device_walk;

static int elementwise(cim_layer_type t)
{
    return t == CIM_LAYER_MAXPOOL2D || t == CIM_LAYER_BATCHNORM_THRESHOLD || t == CIM_LAYER_SIGN ||
           t == CIM_LAYER_TERNARY || t == CIM_LAYER_FLATTEN;
}

/* Work-items along dimension 0 of cim_read_layer: each adds CIM_NET_BLOCKS
 * blocks of vector_width output columns (cim_network.h). */
static int64_t column_blocks(const cim_ocl *ocl, int32_t rows)
{
    const int64_t w = (int64_t)ocl->vector_width * CIM_NET_BLOCKS;
    return (rows + w - 1) / w;
}

/* Why a crossbar layer's chips need the host pipeline, or NULL. */
static const char *layer_refusal(const cim_xbar *x)
{
    if (cim_xbar_plain_sum_chips(x))
        return NULL;
    if (x->column.digital)
        return "digital chips";
    if (cim_xbar_has_c2c(x))
        return "C2C";
    return cim_xbar_has_ladder(x) ? "IR drop" : "read disturb";
}

const char *cim_executor_device_refusal(const cim_ocl *ocl, const cim_exec_job *job)
{
    const cim_plan *p = job->plan;
    const uint64_t limit = ocl->max_alloc_bytes;
    const uint64_t sets = (uint64_t)job->n_trials * (uint64_t)job->n_images;
    if (job->pipeline == CIM_PIPELINE_HOST)
        return "asked";
    if (p->first_crossbar < 0)
        return "no crossbar layer";
    for (int32_t l = p->first_crossbar; l < p->num_layers; ++l) {
        const cim_layer_plan *lp = &p->layers[l];
        const char *why = cim_plan_on_crossbar(lp)       ? layer_refusal(&lp->xbar)
                          : elementwise(lp->layer->type) ? NULL
                                                         : "host layers";
        if (why)
            return why;
    }
    if (job->pipeline == CIM_PIPELINE_AUTO && ocl->cpu_style)
        return "CPU device";
    if (sets * (uint64_t)p->model->max_tensor * sizeof(int32_t) > limit)
        return "memory";
    for (int32_t l = p->first_crossbar; job->mismatches && l < p->num_layers; ++l) {
        const cim_layer_plan *lp = &p->layers[l];
        if (cim_plan_on_crossbar(lp) && sets * (uint64_t)lp->mvm.positions *
                                                (uint64_t)column_blocks(ocl, lp->mvm.rows) *
                                                sizeof(int32_t) >
                                            limit)
            return "memory";
    }
    return NULL;
}

int cim_executor_device_applies(const cim_ocl *ocl, const cim_exec_job *job)
{
    return cim_executor_device_refusal(ocl, job) == NULL;
}

/* One crossbar layer: chips programmed, read from x into y; error counts
 * added to the job's statistics. The gather table and row sums are the
 * plan's. */
static int read_step(void *ctx, const cim_plan *p, int32_t l, void *xv, void *yv, cim_error *err)
{
    device_walk *dw = ctx;
    cim_ocl *ocl = dw->ocl;
    const cim_exec_job *job = dw->job;
    const cim_layer_plan *lp = &p->layers[l];
    const cim_layer_mvm *g = &lp->mvm;
    const int count = job->mismatches != NULL;
    const int64_t sets = cim_plan_shared_input(p, l) ? 1 : job->n_trials;
    const int64_t vectors = job->n_images * g->positions, blocks = column_blocks(ocl, g->rows);
    const size_t n_counts = count ? (size_t)(job->n_trials * vectors * blocks) : 0;
    cl_mem x = xv, y = yv;
    cim_engine_chips chips;
    int32_t *counts = count ? malloc(sizeof(int32_t) * n_counts) : NULL;
    int64_t *differ = count ? calloc((size_t)job->n_trials, sizeof *differ) : NULL;
    cl_mem bgather = NULL, brows = NULL, bnl = NULL, bcounts = NULL, bexact = NULL, bprofile = NULL;
    uint64_t *const prof =
        job->profiles && lp->xbar.profile.bins > 0 ? job->profiles[lp->crossbar] : NULL;
    const size_t slots = (size_t)CIM_PROFILE_SLOTS(lp->xbar.profile.bins);
    const size_t n_prof = prof ? slots * (size_t)job->n_trials : 0;
    uint32_t *prof32 = prof ? malloc(sizeof(uint32_t) * n_prof) : NULL;
    int rc;
    memset(&chips, 0, sizeof chips);
    if ((count && (!counts || !differ)) || (prof && !prof32)) {
        rc = cim_error_set(err, CIM_ERR_NOMEM, "layer %s: out of memory", lp->layer->name);
        goto done;
    }
    if (prof && (uint64_t)vectors * (uint64_t)g->planes *
                        (uint64_t)cim_tiles(g->cols, lp->xbar.xbar_n) * (uint64_t)g->rows *
                        (uint64_t)cim_mapping_desc_of(lp->xbar.mapping)->n_convs >
                    UINT32_MAX) {
        rc = cim_error_set(err, CIM_ERR_INPUT,
                           "layer %s: %lld images per call overflow the ADC profile's 32-bit "
                           "counters; profile fewer images at once",
                           lp->layer->name, (long long)job->n_images);
        goto done;
    }
    if ((rc = cim_engine_chips_program(ocl, &lp->xbar, g->weights, g->rows, g->cols,
                                       job->trial_first, job->n_trials, &chips, err)) != 0)
        goto done;
    cim_layer_launch nl = cim_layer_launch_of(lp, job->n_images);
    nl.inputs_per_trial = sets > 1;
    nl.count_exact = count;
    nl.profile = prof != NULL;
    bgather = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY,
                             sizeof(int32_t) * (size_t)g->positions * (size_t)g->cols, lp->gather,
                             "gather table", err);
    brows = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof(int64_t) * (size_t)g->rows, lp->row_sums,
                           "row sums", err);
    bnl = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof nl, &nl, "layer parameters", err);
    bcounts = cim_ocl_buffer(ocl, CL_MEM_WRITE_ONLY, sizeof(int32_t) * n_counts, NULL,
                             "error counts", err);
    bprofile =
        cim_ocl_buffer(ocl, CL_MEM_READ_WRITE, sizeof(uint32_t) * n_prof, NULL, "ADC profile", err);
    if (!bgather || !brows || !bnl || !bcounts || !bprofile) {
        rc = err->code;
        goto done;
    }
    if (prof) {
        const cl_uint zero = 0;
        cl_int st = clEnqueueFillBuffer(ocl->queue, bprofile, &zero, sizeof zero, 0,
                                        sizeof(uint32_t) * n_prof, 0, NULL, NULL);
        if ((rc = CIM_OCL_CHECK(st, err, "clEnqueueFillBuffer(ADC profile)")) != 0)
            goto done;
    }
    /* the exact W x of the same input vectors, when counting errors, from
     * the tables the read uses */
    if (count) {
        const cim_layer_exact_tables t = {bnl, chips.weights_t, bgather, chips.rows_pad};
        if ((rc = cim_layer_exact_device(ocl, lp, &t, job->n_images, sets, x, &bexact, err)) != 0)
            goto done;
    } else if (!(bexact = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, 0, NULL, "exact results", err))) {
        rc = err->code;
        goto done;
    }
    {
        const cl_mem args[] = {chips.lp, chips.cp, chips.g, chips.sumw, chips.adc_table,
                               bexact,   bnl,      bgather, x,          brows,
                               y,        bcounts,  bprofile};
        cl_kernel k = dw->k[K_READ];
        if ((rc = cim_ocl_set_args(k, 13, args, err)) != 0 ||
            (rc = cim_ocl_launch(ocl, k, "network read kernel", (size_t)blocks, (size_t)vectors,
                                 (size_t)job->n_trials, NULL, err)) != 0)
            goto done;
    }
    if (count) {
        const size_t per_trial = (size_t)(vectors * blocks);
        if ((rc = cim_ocl_read(ocl, bcounts, sizeof(int32_t) * n_counts, counts, err)) != 0)
            goto done;
        for (int32_t t = 0; t < job->n_trials; ++t)
            for (size_t i = 0; i < per_trial; ++i)
                differ[t] += counts[(size_t)t * per_trial + i];
        cim_exec_count_errors(job, lp->crossbar, differ, vectors * g->rows);
    }
    if (prof) {
        if ((rc = cim_ocl_read(ocl, bprofile, sizeof(uint32_t) * n_prof, prof32, err)) != 0)
            goto done;
        for (size_t i = 0; i < n_prof; ++i)
            prof[i] += prof32[i];
    }
done:
    cim_engine_chips_release(&chips);
    free(prof32);
    cl_mem bufs[] = {bgather, brows, bnl, bcounts, bexact, bprofile};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; ++i)
        if (bufs[i])
            clReleaseMemObject(bufs[i]);
    free(counts);
    free(differ);
    return rc;
}

/* An element-wise layer over the tensors of every set and image, x to y;
 * a flatten leaves its input in place. */
static int elementwise_step(void *ctx, const cim_plan *p, int32_t l, void *xv, void *yv,
                            cim_error *err)
{
    device_walk *dw = ctx;
    cim_ocl *ocl = dw->ocl;
    const cim_layer *L = p->layers[l].layer;
    const int64_t tensors =
        (cim_plan_shared_input(p, l) ? 1 : dw->job->n_trials) * dw->job->n_images;
    const cl_long in_size = p->layers[l].in_size, out_size = p->layers[l].out_size;
    cl_mem x = xv, y = yv;
    cl_mem tables[3] = {NULL, NULL, NULL};
    cl_kernel k = NULL;
    int rc = 0;
    if (L->type == CIM_LAYER_FLATTEN)
        return CIM_WALK_IN_PLACE; /* [C][H][W] in C order is already the flat vector */
    if (L->type == CIM_LAYER_MAXPOOL2D) {
        const cl_int geo[9] = {
            L->in_shape.dim[0],     L->in_shape.dim[1],     L->in_shape.dim[2],
            L->out_shape.dim[1],    L->out_shape.dim[2],    L->maxpool2d.kernel[0],
            L->maxpool2d.kernel[1], L->maxpool2d.stride[0], L->maxpool2d.stride[1]};
        tables[0] = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof geo, geo, "pooling geometry", err);
        if (!tables[0]) {
            rc = err->code;
            goto done;
        }
        k = dw->k[K_MAXPOOL];
        if ((rc = cim_ocl_set_arg(k, 0, sizeof(cl_mem), &tables[0], err)) != 0 ||
            (rc = cim_ocl_set_arg(k, 1, sizeof in_size, &in_size, err)) != 0 ||
            (rc = cim_ocl_set_arg(k, 2, sizeof out_size, &out_size, err)) != 0 ||
            (rc = cim_ocl_set_arg(k, 3, sizeof(cl_mem), &x, err)) != 0 ||
            (rc = cim_ocl_set_arg(k, 4, sizeof(cl_mem), &y, err)) != 0)
            goto done;
    } else if (L->type == CIM_LAYER_BATCHNORM_THRESHOLD) {
        const cim_batchnorm_threshold *bn = &L->bn;
        const cl_long per_channel =
            L->in_shape.rank == 3 ? (cl_long)L->in_shape.dim[1] * L->in_shape.dim[2] : 1;
        tables[0] = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof(int32_t) * (size_t)bn->channels,
                                   bn->threshold_lo, "thresholds", err);
        tables[1] = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof(int32_t) * (size_t)bn->channels,
                                   bn->threshold_hi, "thresholds", err);
        tables[2] = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, (size_t)bn->channels, bn->flip,
                                   "thresholds", err);
        if (!tables[0] || !tables[1] || !tables[2]) {
            rc = err->code;
            goto done;
        }
        k = dw->k[K_THRESHOLD];
        if ((rc = cim_ocl_set_args(k, 3, tables, err)) != 0 ||
            (rc = cim_ocl_set_arg(k, 3, sizeof per_channel, &per_channel, err)) != 0 ||
            (rc = cim_ocl_set_arg(k, 4, sizeof out_size, &out_size, err)) != 0 ||
            (rc = cim_ocl_set_arg(k, 5, sizeof(cl_mem), &x, err)) != 0 ||
            (rc = cim_ocl_set_arg(k, 6, sizeof(cl_mem), &y, err)) != 0)
            goto done;
    } else {
        const cl_int ternary = L->type == CIM_LAYER_TERNARY;
        k = dw->k[K_ACTIVATION];
        if ((rc = cim_ocl_set_arg(k, 0, sizeof ternary, &ternary, err)) != 0 ||
            (rc = cim_ocl_set_arg(k, 1, sizeof out_size, &out_size, err)) != 0 ||
            (rc = cim_ocl_set_arg(k, 2, sizeof(cl_mem), &x, err)) != 0 ||
            (rc = cim_ocl_set_arg(k, 3, sizeof(cl_mem), &y, err)) != 0)
            goto done;
    }
    rc = cim_ocl_launch(ocl, k, L->name, (size_t)out_size, (size_t)tensors, 1, NULL, err);
done:
    for (int i = 0; i < 3; ++i)
        if (tables[i])
            clReleaseMemObject(tables[i]);
    return rc;
}

int cim_executor_device_run(cim_ocl *ocl, const cim_exec_job *job, int32_t *scores, cim_error *err)
{
    static const cim_walk_steps steps = {read_step, elementwise_step};
    const cim_plan *p = job->plan;
    const cim_model *m = p->model;
    const int32_t first = p->first_crossbar;
    const size_t act_bytes =
        sizeof(int32_t) * (size_t)m->max_tensor * (size_t)job->n_images * (size_t)job->n_trials;
    device_walk dw = {ocl, job, {NULL}};
    cl_mem act[2] = {NULL, NULL};
    int32_t *x0 = NULL;
    int cur = 0, rc;
    cl_int st;
    cim_error scratch;
    err = cim_error_or(err, &scratch);
    if ((rc = cim_executor_host_prefix(job, first, &x0, err)) != 0)
        goto done;
    for (int i = 0; i < K_COUNT; ++i)
        if ((rc = cim_ocl_kernel(ocl, kernel_names[i], &dw.k[i], err)) != 0)
            goto done;
    act[0] = cim_ocl_buffer(ocl, CL_MEM_READ_WRITE, act_bytes, NULL, "activations", err);
    act[1] = cim_ocl_buffer(ocl, CL_MEM_READ_WRITE, act_bytes, NULL, "activations", err);
    if (!act[0] || !act[1]) {
        rc = err->code;
        goto done;
    }
    st = clEnqueueWriteBuffer(ocl->queue, act[0], CL_TRUE, 0,
                              sizeof(int32_t) * (size_t)job->n_images *
                                  (size_t)p->layers[first].in_size,
                              x0, 0, NULL, NULL);
    if ((rc = CIM_OCL_CHECK(st, err, "clEnqueueWriteBuffer(activations)")) != 0)
        goto done;
    if ((rc = cim_walk(p, first, p->num_layers, &steps, &dw, (void *const *)act, &cur, err)) != 0)
        goto done;
    rc = cim_ocl_read(ocl, act[cur],
                      sizeof(int32_t) * (size_t)job->n_trials * (size_t)job->n_images *
                          (size_t)m->num_classes,
                      scores, err);
done:
    for (int i = 0; i < 2; ++i)
        if (act[i])
            clReleaseMemObject(act[i]);
    free(x0);
    return rc;
}
