/* cim_executor_device.c -- see cim_executor_device.h.
 *
 * Activations on the device are int32 [set][image][layer size] as in the
 * host pipeline: `set` is 0 for the tensor the layers before the first
 * crossbar layer computed (one per image, every chip reads it) and the trial
 * of the call after it. The walk's buffers (the plan's n_slots) are device
 * tensors of n_trials x n_images x the model's largest tensor. The host
 * computes the layers before the first crossbar layer; the pipeline applies
 * only where nothing after that layer reads what they computed but its
 * input (no skip connection around it), so every tensor the device walk
 * writes is per chip.
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
enum { K_READ, K_POOL, K_THRESHOLD, K_ACTIVATION, K_ADD, K_CONCAT, K_GLOBAL_SUM, K_COUNT };
static const char *const kernel_names[K_COUNT] = {
    "cim_read_layer",     "cim_layer_pool2d", "cim_layer_threshold",     "cim_layer_activation",
    "cim_layer_add_into", "cim_layer_concat", "cim_layer_global_sumpool"};

typedef struct device_walk {
    cim_ocl *ocl;
    const cim_exec_job *job;
    cl_kernel k[K_COUNT];
} device_walk;

/* The exact layers the pipeline runs on the device (weight layers on
 * pre-activations run on the host). */
static int elementwise(cim_layer_type t)
{
    return t == CIM_LAYER_MAXPOOL2D || t == CIM_LAYER_BATCHNORM_THRESHOLD || t == CIM_LAYER_SIGN ||
           t == CIM_LAYER_TERNARY || t == CIM_LAYER_FLATTEN || t == CIM_LAYER_ADD ||
           t == CIM_LAYER_CONCAT || t == CIM_LAYER_SUMPOOL2D || t == CIM_LAYER_GLOBAL_SUMPOOL;
}

/* 1 when a layer after the first crossbar layer reads a tensor computed
 * before it (or the model input): a skip connection around the host prefix. */
static int skips_prefix(const cim_plan *p)
{
    const int32_t first = p->first_crossbar;
    for (int32_t l = first + 1; l < p->num_layers; ++l) {
        const cim_layer *L = p->layers[l].layer;
        for (int j = 0; j < L->n_inputs; ++j)
            if (L->inputs[j] < first)
                return 1;
    }
    return 0;
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
    if (skips_prefix(p))
        return "host layers";
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
static int read_step(void *ctx, const cim_plan *p, int32_t l, void *const *xv, void *yv,
                     cim_error *err)
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
    cl_mem x = xv[0], y = yv;
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

/* Sets kernel k's arguments: n of them, each a value of `sizes[i]` bytes. */
static int set_args(cl_kernel k, int n, const size_t *sizes, const void *const *values,
                    cim_error *err)
{
    int rc = 0;
    for (int i = 0; i < n && rc == 0; ++i)
        rc = cim_ocl_set_arg(k, (cl_uint)i, sizes[i], values[i], err);
    return rc;
}

/* add: y = scale[0] x_0, then y += scale[j] x_j for each further input. */
static int add_step(device_walk *dw, const cim_layer *L, cl_long size, size_t tensors,
                    void *const *x, cl_mem y, cim_error *err)
{
    cl_kernel k = dw->k[K_ADD];
    int rc = 0;
    for (int j = 0; j < L->n_inputs && rc == 0; ++j) {
        const cl_int first = j == 0, scale = L->add.scale[j];
        cl_mem xj = x[j];
        const size_t sizes[] = {sizeof first, sizeof scale, sizeof size, sizeof xj, sizeof y};
        const void *values[] = {&first, &scale, &size, &xj, &y};
        if ((rc = set_args(k, 5, sizes, values, err)) == 0)
            rc = cim_ocl_launch(dw->ocl, k, L->name, (size_t)size, tensors, 1, NULL, err);
    }
    return rc;
}

/* concat: each input's block of every tensor at its offset in the output. */
static int concat_step(device_walk *dw, const cim_plan *p, const cim_layer *L, cl_long out_size,
                       size_t tensors, void *const *x, cl_mem y, cim_error *err)
{
    cl_kernel k = dw->k[K_CONCAT];
    cl_long offset = 0;
    int rc = 0;
    for (int j = 0; j < L->n_inputs && rc == 0; ++j) {
        const cl_long in_size = cim_shape_size(cim_model_tensor_shape(p->model, L->inputs[j]));
        cl_mem xj = x[j];
        const size_t sizes[] = {sizeof in_size, sizeof out_size, sizeof offset, sizeof xj,
                                sizeof y};
        const void *values[] = {&in_size, &out_size, &offset, &xj, &y};
        if ((rc = set_args(k, 5, sizes, values, err)) == 0)
            rc = cim_ocl_launch(dw->ocl, k, L->name, (size_t)in_size, tensors, 1, NULL, err);
        offset += in_size;
    }
    return rc;
}

/* An exact layer over the tensors of every set and image, x to y. */
static int elementwise_step(void *ctx, const cim_plan *p, int32_t l, void *const *xs, void *yv,
                            cim_error *err)
{
    device_walk *dw = ctx;
    cim_ocl *ocl = dw->ocl;
    const cim_layer *L = p->layers[l].layer;
    const int64_t tensors =
        (cim_plan_shared_input(p, l) ? 1 : dw->job->n_trials) * dw->job->n_images;
    const cl_long in_size = p->layers[l].in_size, out_size = p->layers[l].out_size;
    cl_mem x = xs[0], y = yv;
    cl_mem tables[3] = {NULL, NULL, NULL};
    cl_kernel k = NULL;
    int rc = 0;
    if (L->type == CIM_LAYER_ADD)
        return add_step(dw, L, out_size, (size_t)tensors, xs, y, err);
    if (L->type == CIM_LAYER_CONCAT)
        return concat_step(dw, p, L, out_size, (size_t)tensors, xs, y, err);
    if (L->type == CIM_LAYER_MAXPOOL2D || L->type == CIM_LAYER_SUMPOOL2D) {
        const cl_int geo[10] = {L->in_shape.dim[0],     L->in_shape.dim[1],
                                L->in_shape.dim[2],     L->out_shape.dim[1],
                                L->out_shape.dim[2],    L->maxpool2d.kernel[0],
                                L->maxpool2d.kernel[1], L->maxpool2d.stride[0],
                                L->maxpool2d.stride[1], L->type == CIM_LAYER_SUMPOOL2D};
        tables[0] = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof geo, geo, "pooling geometry", err);
        if (!tables[0]) {
            rc = err->code;
            goto done;
        }
        k = dw->k[K_POOL];
        if ((rc = cim_ocl_set_arg(k, 0, sizeof(cl_mem), &tables[0], err)) != 0 ||
            (rc = cim_ocl_set_arg(k, 1, sizeof in_size, &in_size, err)) != 0 ||
            (rc = cim_ocl_set_arg(k, 2, sizeof out_size, &out_size, err)) != 0 ||
            (rc = cim_ocl_set_arg(k, 3, sizeof(cl_mem), &x, err)) != 0 ||
            (rc = cim_ocl_set_arg(k, 4, sizeof(cl_mem), &y, err)) != 0)
            goto done;
    } else if (L->type == CIM_LAYER_GLOBAL_SUMPOOL) {
        const cl_long area = (cl_long)L->in_shape.dim[1] * L->in_shape.dim[2];
        k = dw->k[K_GLOBAL_SUM];
        if ((rc = cim_ocl_set_arg(k, 0, sizeof area, &area, err)) != 0 ||
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
    cl_mem *act = calloc((size_t)p->n_slots, sizeof *act);
    int32_t *x0 = NULL;
    int rc;
    cl_int st;
    cim_error scratch;
    err = cim_error_or(err, &scratch);
    if (!act) {
        rc = cim_error_set(err, CIM_ERR_NOMEM, "executor: out of memory");
        goto done;
    }
    if ((rc = cim_executor_host_prefix(job, first, &x0, err)) != 0)
        goto done;
    for (int i = 0; i < K_COUNT; ++i)
        if ((rc = cim_ocl_kernel(ocl, kernel_names[i], &dw.k[i], err)) != 0)
            goto done;
    for (int32_t i = 0; i < p->n_slots; ++i)
        if (!(act[i] =
                  cim_ocl_buffer(ocl, CL_MEM_READ_WRITE, act_bytes, NULL, "activations", err))) {
            rc = err->code;
            goto done;
        }
    st = clEnqueueWriteBuffer(
        ocl->queue, cim_walk_tensor(p, (void *const *)act, p->layers[first].layer->inputs[0]),
        CL_TRUE, 0, sizeof(int32_t) * (size_t)job->n_images * (size_t)p->layers[first].in_size, x0,
        0, NULL, NULL);
    if ((rc = CIM_OCL_CHECK(st, err, "clEnqueueWriteBuffer(activations)")) != 0)
        goto done;
    if ((rc = cim_walk(p, first, p->num_layers, &steps, &dw, (void *const *)act, err)) != 0)
        goto done;
    rc = cim_ocl_read(ocl, cim_walk_tensor(p, (void *const *)act, p->num_layers - 1),
                      sizeof(int32_t) * (size_t)job->n_trials * (size_t)job->n_images *
                          (size_t)m->num_classes,
                      scores, err);
done:
    for (int32_t i = 0; act && i < p->n_slots; ++i)
        if (act[i])
            clReleaseMemObject(act[i]);
    free(act);
    free(x0);
    return rc;
}
