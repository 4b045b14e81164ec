/* cim_layer_exact.c -- see cim_layer_exact.h. cim_layer_exact_device only
 * launches; cim_layer_exact_host uploads the layer's tables and its input for
 * the call and releases them before returning. Only the result buffer of
 * cim_layer_exact_device outlives a call, owned by the caller.
 */
#include "cim_layer_exact.h"

#include <stdlib.h>

cim_layer_launch cim_layer_launch_of(const cim_layer_plan *lp, int64_t n_images)
{
    const cim_layer_launch nl = {
        .positions = lp->mvm.positions,
        .planes = lp->mvm.planes,
        .plane_binary = lp->mvm.plane_binary,
        .pad_value = lp->mvm.pad_value,
        .in_size = lp->in_size,
        .out_size = lp->out_size,
        .n_images = n_images,
    };
    return nl;
}

int cim_layer_exact_device(cim_ocl *ocl, const cim_layer_plan *lp, const cim_layer_exact_tables *t,
                           int64_t n_images, int64_t sets, cl_mem x, cl_mem *exact, cim_error *err)
{
    const cim_layer_mvm *g = &lp->mvm;
    const size_t n_out = (size_t)(sets * n_images * g->positions) * (size_t)g->rows;
    const cl_int rows = g->rows, cols = g->cols;
    const cl_long rows_pad = t->rows_pad;
    cl_mem out;
    cl_kernel k;
    cim_error scratch;
    int rc;
    err = cim_error_or(err, &scratch);
    *exact = NULL;
    if ((rc = cim_ocl_kernel(ocl, "cim_exact_layer", &k, err)) != 0)
        return rc;
    out =
        cim_ocl_buffer(ocl, CL_MEM_READ_WRITE, sizeof(int32_t) * n_out, NULL, "exact results", err);
    if (!out)
        return err->code;
    if ((rc = cim_ocl_set_arg(k, 0, sizeof(cl_mem), &t->nl, err)) != 0 ||
        (rc = cim_ocl_set_arg(k, 1, sizeof rows, &rows, err)) != 0 ||
        (rc = cim_ocl_set_arg(k, 2, sizeof rows_pad, &rows_pad, err)) != 0 ||
        (rc = cim_ocl_set_arg(k, 3, sizeof cols, &cols, err)) != 0 ||
        (rc = cim_ocl_set_arg(k, 4, sizeof(cl_mem), &t->weights_t, err)) != 0 ||
        (rc = cim_ocl_set_arg(k, 5, sizeof(cl_mem), &t->gather, err)) != 0 ||
        (rc = cim_ocl_set_arg(k, 6, sizeof(cl_mem), &x, err)) != 0 ||
        (rc = cim_ocl_set_arg(k, 7, sizeof(cl_mem), &out, err)) != 0 ||
        (rc = cim_ocl_launch(ocl, k, "exact W x", (size_t)(rows_pad / ocl->vector_width),
                             (size_t)(sets * n_images * g->positions), 1, NULL, err)) != 0) {
        clReleaseMemObject(out);
        return rc;
    }
    *exact = out;
    return 0;
}

int cim_layer_exact_host(cim_ocl *ocl, const cim_layer_plan *lp, int64_t n_images, int64_t sets,
                         const int32_t *x, int32_t *exact, cim_error *err)
{
    const cim_layer_mvm *g = &lp->mvm;
    const size_t n_out = (size_t)(sets * n_images * g->positions) * (size_t)g->rows;
    const int64_t vw = ocl->vector_width;
    const cim_layer_launch nl = cim_layer_launch_of(lp, n_images);
    cim_layer_exact_tables t = {NULL, NULL, NULL, (g->rows + vw - 1) / vw * vw};
    int8_t *wt = calloc((size_t)t.rows_pad * (size_t)g->cols, 1);
    cl_mem bx = NULL, out = NULL;
    cim_error scratch;
    int rc;
    err = cim_error_or(err, &scratch);
    if (!wt)
        return cim_error_set(err, CIM_ERR_NOMEM, "layer %s: out of memory for its weights",
                             lp->layer->name);
    for (int32_t m = 0; m < g->rows; ++m)
        for (int32_t n = 0; n < g->cols; ++n)
            wt[(size_t)n * (size_t)t.rows_pad + (size_t)m] = g->weights[(size_t)m * g->cols + n];
    t.nl = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, sizeof nl, &nl, "layer parameters", err);
    t.weights_t = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY, (size_t)t.rows_pad * (size_t)g->cols, wt,
                                 "weights", err);
    t.gather = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY,
                              sizeof(int32_t) * (size_t)g->positions * (size_t)g->cols, lp->gather,
                              "gather table", err);
    bx = cim_ocl_buffer(ocl, CL_MEM_READ_ONLY,
                        sizeof(int32_t) * (size_t)(sets * n_images * lp->in_size), x, "layer input",
                        err);
    if (!t.nl || !t.weights_t || !t.gather || !bx)
        rc = err->code;
    else if ((rc = cim_layer_exact_device(ocl, lp, &t, n_images, sets, bx, &out, err)) == 0)
        rc = cim_ocl_read(ocl, out, sizeof(int32_t) * n_out, exact, err);
    const cl_mem bufs[] = {t.nl, t.weights_t, t.gather, bx, out};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; ++i)
        if (bufs[i])
            clReleaseMemObject(bufs[i]);
    free(wt);
    return rc;
}
