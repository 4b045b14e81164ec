/* cim_executor_device.c -- see cim_executor_device.h.
 *
 * Activations on the device are int32 [set][image][layer size] as in the
 * host pipeline: `set` is 0 for the tensor the layers before the first
 * crossbar layer computed (one per image, every chip reads it) and the trial
 * of the call after it. Two device tensors of n_trials x n_images x the
 * model's largest tensor take turns as input and output.
 *
 * Ownership: everything a call allocates (host prefix buffers, device
 * tensors, kernels, each crossbar layer's chips and tables) is released
 * before it returns, through the `done:` labels.
 */
#include "cim_executor_device.h"

#include <stdlib.h>
#include <string.h>

#include "cim_engine.h"
#include "cim_forward.h"
#include "cim_network.h"
#include "cim_netref.h"

static int32_t first_crossbar_layer(const cim_exec_job *job)
{
    for (int32_t l = 0; l < job->model->num_layers; ++l)
        if (cim_netref_on_crossbar(&job->xbars[l]))
            return l;
    return -1;
}

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

int cim_executor_device_applies(const cim_ocl *ocl, const cim_exec_job *job)
{
    const cim_model *m = job->model;
    const int32_t first = first_crossbar_layer(job);
    const uint64_t limit = ocl->max_alloc_bytes;
    if (job->pipeline == CIM_PIPELINE_HOST || first < 0 ||
        (job->pipeline == CIM_PIPELINE_AUTO && ocl->cpu_style))
        return 0;
    if ((uint64_t)job->n_trials * (uint64_t)job->n_images * (uint64_t)m->max_tensor *
            sizeof(int32_t) >
        limit)
        return 0;
    for (int32_t l = first; l < m->num_layers; ++l) {
        const cim_xbar *x = &job->xbars[l];
        if (!cim_netref_on_crossbar(x)) {
            if (!elementwise(m->layers[l].type))
                return 0;
            continue;
        }
        if (x->column.digital || cim_xbar_has_c2c(x))
            return 0;
        const cim_layer_mvm g = cim_netref_layer_mvm(&m->layers[l], x);
        if (job->mismatches && (uint64_t)job->n_trials * (uint64_t)job->n_images *
                                       (uint64_t)g.positions *
                                       (uint64_t)column_blocks(ocl, g.rows) * sizeof(int32_t) >
                                   limit)
            return 0;
    }
    return 1;
}

/* The layers before `first` on the host, once per image: x0 [images][size]
 * of layer first's input (malloc'd). */
static int host_prefix(const cim_exec_job *job, int32_t first, int32_t **x0, cim_error *err)
{
    const cim_model *m = job->model;
    const size_t all = (size_t)m->max_tensor * (size_t)job->n_images;
    int32_t *a = malloc(sizeof(int32_t) * all), *b = malloc(sizeof(int32_t) * all);
    if (!a || !b) {
        free(a);
        free(b);
        return cim_error_set(err, CIM_ERR_NOMEM, "executor: out of memory for %lld images",
                             (long long)job->n_images);
    }
    const int64_t in_size = cim_shape_size(&m->input_shape);
    for (int64_t k = 0; k < job->n_images * in_size; ++k)
        a[k] = job->images[k];
    for (int32_t l = 0; l < first; ++l) {
        cim_forward_layer_each(&m->layers[l], job->n_images, a, b);
        int32_t *t = a;
        a = b;
        b = t;
    }
    free(b);
    *x0 = a;
    return 0;
}

/* One crossbar layer: chips programmed, read from x into y; error counts
 * added to the job's statistics. */
static int read_layer(cim_ocl *ocl, const cim_exec_job *job, cl_kernel k, int32_t l,
                      int32_t crossbar_index, int64_t sets, cl_mem x, cl_mem y, cim_error *err)
{
    const cim_layer *L = &job->model->layers[l];
    const cim_xbar *xbar = &job->xbars[l];
    const cim_layer_mvm g = cim_netref_layer_mvm(L, xbar);
    const int count = job->mismatches != NULL;
    const int64_t vectors = job->n_images * g.positions, blocks = column_blocks(ocl, g.rows);
    const size_t n_counts = count ? (size_t)(job->n_trials * vectors * blocks) : 0;
    cim_engine_chips chips;
    int32_t *gather = malloc(sizeof(int32_t) * (size_t)g.positions * g.cols);
    int64_t *row_sums = malloc(sizeof(int64_t) * (size_t)g.rows);
    int32_t *counts = count ? malloc(sizeof(int32_t) * n_counts) : NULL;
    cl_mem bgather = NULL, brows = NULL, bnl = NULL, bcounts = NULL;
    int rc;
    memset(&chips, 0, sizeof chips);
    if (!gather || !row_sums || (count && !counts)) {
        rc = cim_error_set(err, CIM_ERR_NOMEM, "layer %s: out of memory", L->name);
        goto done;
    }
    if ((rc = cim_engine_chips_program(ocl, xbar, g.weights, g.rows, g.cols, job->trial_first,
                                       job->n_trials, &chips, err)) != 0)
        goto done;
    cim_netref_gather(L, &g, gather);
    cim_netref_row_sums(&g, row_sums);
    const cim_layer_launch nl = {
        .positions = g.positions,
        .planes = g.planes,
        .plane_binary = g.plane_binary,
        .pad_value = g.pad_value,
        .in_size = cim_shape_size(&L->in_shape),
        .out_size = cim_shape_size(&L->out_shape),
        .n_images = job->n_images,
        .inputs_per_trial = sets > 1,
        .count_exact = count,
    };
    bgather = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof(int32_t) * (size_t)g.positions * g.cols,
                             gather, "gather table", err);
    brows = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof(int64_t) * (size_t)g.rows, row_sums,
                           "row sums", err);
    bnl = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof nl, &nl, "layer parameters", err);
    bcounts = cim_ocl_buffer(ocl, CL_MEM_WRITE_ONLY, sizeof(int32_t) * n_counts, NULL,
                             "error counts", err);
    if (!bgather || !brows || !bnl || !bcounts) {
        rc = err->code;
        goto done;
    }
    {
        const cl_mem args[] = {
            chips.lp, chips.cp, chips.g, chips.sumw, chips.adc_table, chips.weights_t, bnl,
            bgather,  x,        brows,   y,          bcounts};
        if ((rc = cim_ocl_set_args(k, 12, args, err)) != 0 ||
            (rc = cim_ocl_launch(ocl, k, "network read kernel", (size_t)blocks, (size_t)vectors,
                                 (size_t)job->n_trials, NULL, err)) != 0)
            goto done;
    }
    if (count) {
        const int32_t n_crossbar = cim_netref_crossbar_layers(job->model, job->xbars);
        const size_t per_trial = (size_t)(vectors * blocks);
        if ((rc = cim_ocl_read(ocl, bcounts, sizeof(int32_t) * n_counts, counts, err)) != 0)
            goto done;
        for (int32_t t = 0; t < job->n_trials; ++t) {
            int64_t differ = 0;
            for (size_t i = 0; i < per_trial; ++i)
                differ += counts[(size_t)t * per_trial + i];
            job->mismatches[(int64_t)t * n_crossbar + crossbar_index] += differ;
        }
        job->outputs[crossbar_index] += vectors * g.rows;
    }
done:
    cim_engine_chips_release(&chips);
    cl_mem bufs[] = {bgather, brows, bnl, bcounts};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; ++i)
        if (bufs[i])
            clReleaseMemObject(bufs[i]);
    free(gather);
    free(row_sums);
    free(counts);
    return rc;
}

/* An element-wise layer over sets x images tensors, x to y. */
static int elementwise_layer(cim_ocl *ocl, const cim_layer *L, int64_t tensors, cl_kernel kpool,
                             cl_kernel kbn, cl_kernel kact, cl_mem x, cl_mem y, cim_error *err)
{
    const cl_long in_size = cim_shape_size(&L->in_shape), out_size = cim_shape_size(&L->out_shape);
    cl_mem tables[3] = {NULL, NULL, NULL};
    cl_kernel k = NULL;
    int rc = 0;
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
        k = kpool;
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
        k = kbn;
        if ((rc = cim_ocl_set_args(k, 3, tables, err)) != 0 ||
            (rc = cim_ocl_set_arg(k, 3, sizeof per_channel, &per_channel, err)) != 0 ||
            (rc = cim_ocl_set_arg(k, 4, sizeof out_size, &out_size, err)) != 0 ||
            (rc = cim_ocl_set_arg(k, 5, sizeof(cl_mem), &x, err)) != 0 ||
            (rc = cim_ocl_set_arg(k, 6, sizeof(cl_mem), &y, err)) != 0)
            goto done;
    } else {
        const cl_int ternary = L->type == CIM_LAYER_TERNARY;
        k = kact;
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

int cim_executor_device_run(cim_ocl *ocl, const cim_exec_job *job, int32_t *predictions,
                            cim_error *err)
{
    const cim_model *m = job->model;
    const int32_t first = first_crossbar_layer(job);
    const size_t act_bytes =
        sizeof(int32_t) * (size_t)m->max_tensor * (size_t)job->n_images * (size_t)job->n_trials;
    static const char *const names[] = {"cim_read_layer", "cim_layer_maxpool2d",
                                        "cim_layer_threshold", "cim_layer_activation"};
    cl_kernel kernels[4] = {NULL, NULL, NULL, NULL};
    cl_mem act[2] = {NULL, NULL};
    int32_t *x0 = NULL, *scores = NULL;
    int64_t sets = 1;
    int32_t crossbar_index = 0;
    int cur = 0, rc;
    cl_int st;
    if ((rc = host_prefix(job, first, &x0, err)) != 0)
        goto done;
    for (int i = 0; i < 4; ++i) {
        kernels[i] = clCreateKernel(ocl->program, names[i], &st);
        if ((rc = CIM_OCL_CHECK(st, err, names[i])) != 0)
            goto done;
    }
    act[0] = cim_ocl_buffer(ocl, CL_MEM_READ_WRITE, act_bytes, NULL, "activations", err);
    act[1] = cim_ocl_buffer(ocl, CL_MEM_READ_WRITE, act_bytes, NULL, "activations", err);
    if (!act[0] || !act[1]) {
        rc = err->code;
        goto done;
    }
    st = clEnqueueWriteBuffer(ocl->queue, act[0], CL_TRUE, 0,
                              sizeof(int32_t) * (size_t)job->n_images *
                                  (size_t)cim_shape_size(&m->layers[first].in_shape),
                              x0, 0, NULL, NULL);
    if ((rc = CIM_OCL_CHECK(st, err, "clEnqueueWriteBuffer(activations)")) != 0)
        goto done;
    for (int32_t l = first; l < m->num_layers; ++l) {
        const cim_layer *L = &m->layers[l];
        if (cim_netref_on_crossbar(&job->xbars[l])) {
            rc = read_layer(ocl, job, kernels[0], l, crossbar_index++, sets, act[cur], act[1 - cur],
                            err);
            sets = job->n_trials;
        } else if (L->type == CIM_LAYER_FLATTEN) {
            continue; /* [C][H][W] in C order is already the flat vector */
        } else {
            rc = elementwise_layer(ocl, L, sets * job->n_images, kernels[1], kernels[2], kernels[3],
                                   act[cur], act[1 - cur], err);
        }
        if (rc != 0)
            goto done;
        cur = 1 - cur;
    }
    {
        const size_t n_scores =
            (size_t)job->n_trials * (size_t)job->n_images * (size_t)m->num_classes;
        scores = malloc(sizeof(int32_t) * n_scores);
        if (!scores) {
            rc = cim_error_set(err, CIM_ERR_NOMEM, "executor: out of memory for scores");
            goto done;
        }
        if ((rc = cim_ocl_read(ocl, act[cur], sizeof(int32_t) * n_scores, scores, err)) != 0)
            goto done;
        for (int64_t ti = 0; ti < (int64_t)job->n_trials * job->n_images; ++ti)
            predictions[ti] = cim_forward_argmax(scores + ti * m->num_classes, m->num_classes);
    }
done:
    for (int i = 0; i < 4; ++i)
        if (kernels[i])
            clReleaseKernel(kernels[i]);
    for (int i = 0; i < 2; ++i)
        if (act[i])
            clReleaseMemObject(act[i]);
    free(x0);
    free(scores);
    return rc;
}
