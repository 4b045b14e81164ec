/* cim_executor.c -- see cim_executor.h.
 *
 * Activations are int32 tensors [set][image][layer shape], where `set` is 1
 * until the first crossbar layer (every chip sees the same exact values) and
 * n_trials after it. A crossbar layer gathers its input vectors as int8
 * [set][image][position][plane][fan_in] (cim_netref_vectors), runs one engine
 * job over all trials (inputs shared, or per trial; bit planes folded on the
 * device), and turns the results [trial][image][position][channel] into the
 * layer's [channel][position] layout (cim_netref_outputs). C2C input keys are
 * those of cim_netref.h, with the image's dataset index.
 *
 * Ownership: the two activation tensors and the vector/result scratch are
 * allocated per call and freed through the `done:` label.
 */
#include "cim_executor.h"

#include <stdlib.h>
#include <string.h>

#include "cim_engine.h"
#include "cim_executor_device.h"
#include "cim_forward.h"
#include "cim_netref.h"
#include "cim_parallel.h"

/* Counts, per trial, the results that differ from the exact products of the
 * same input vectors (the layer's digital evaluation). */
static int count_mismatches(cim_ocl *ocl, const cim_exec_job *job, const cim_mvm_job *mvm,
                            int64_t sets, const int32_t *results, size_t per_trial,
                            int32_t crossbar_index, cim_error *err)
{
    const int32_t n_crossbar = cim_netref_crossbar_layers(job->model, job->xbars);
    int32_t *exact = malloc(sizeof(int32_t) * per_trial * (size_t)sets);
    cim_xbar digital = *mvm->xbar;
    cim_mvm_job dj = *mvm;
    int rc;
    if (!exact)
        return cim_error_set(err, CIM_ERR_NOMEM, "executor: out of memory for exact results");
    digital.column.digital = 1;
    digital.column.hrs = 0;
    digital.column.delta = 1;
    dj.xbar = &digital;
    dj.n_trials = (int32_t)sets;
    if ((rc = cim_engine_mvm(ocl, &dj, exact, NULL, err)) == 0) {
#pragma omp parallel for schedule(static) if ((int64_t)((int64_t)job->n_trials * per_trial) >=     \
                                              CIM_PARALLEL_MIN_WORK)
        for (int32_t t = 0; t < job->n_trials; ++t) {
            const int32_t *r = results + (size_t)t * per_trial;
            const int32_t *e = exact + (sets > 1 ? (size_t)t * per_trial : 0);
            int64_t differ = 0;
            for (size_t k = 0; k < per_trial; ++k)
                differ += r[k] != e[k];
            job->mismatches[(int64_t)t * n_crossbar + crossbar_index] += differ;
        }
        job->outputs[crossbar_index] += (int64_t)per_trial;
    }
    free(exact);
    return rc;
}

/* One crossbar layer for every set and image: x [sets][images][in] to
 * y [trials][images][out]. */
static int crossbar_layer(cim_ocl *ocl, const cim_exec_job *job, int32_t l, int32_t crossbar_index,
                          int64_t sets, const int32_t *x, int32_t *y, cim_error *err)
{
    const cim_layer *L = &job->model->layers[l];
    const cim_layer_mvm g = cim_netref_layer_mvm(L, &job->xbars[l]);
    const int64_t in_size = cim_shape_size(&L->in_shape), out_size = cim_shape_size(&L->out_shape);
    const int64_t per_image = (int64_t)g.positions * g.planes; /* vectors */
    const int64_t vectors_per_set = job->n_images * per_image;
    int8_t *vectors = malloc((size_t)(sets * vectors_per_set * g.cols));
    const int64_t results_per_image = (int64_t)g.positions * g.rows; /* planes folded */
    int32_t *results =
        malloc(sizeof(int32_t) * (size_t)(job->n_trials * job->n_images * results_per_image));
    int64_t *row_sums = malloc(sizeof(int64_t) * (size_t)g.rows);
    int32_t *gather = malloc(sizeof(int32_t) * (size_t)g.positions * g.cols);
    int rc = 0;
    if (!vectors || !results || !row_sums || !gather) {
        rc = cim_error_set(err, CIM_ERR_NOMEM, "layer %s: out of memory for %lld input vectors",
                           L->name, (long long)(sets * vectors_per_set));
        goto done;
    }
    cim_netref_gather(L, &g, gather);
#pragma omp parallel for schedule(static) if ((int64_t)(sets * vectors_per_set * g.cols) >=        \
                                              CIM_PARALLEL_MIN_WORK)
    for (int64_t si = 0; si < sets * job->n_images; ++si)
        cim_netref_vectors(&g, gather, x + si * in_size, vectors + si * per_image * g.cols);
    {
        const cim_mvm_job mvm = {
            .xbar = &job->xbars[l],
            .weights = g.weights,
            .rows = g.rows,
            .cols = g.cols,
            .inputs = vectors,
            .n_inputs = (int32_t)vectors_per_set,
            .input_first = job->first_image * (uint32_t)per_image,
            .trial_first = job->trial_first,
            .n_trials = job->n_trials,
            .inputs_per_trial = sets > 1,
            .input_planes = g.planes,
        };
        if ((rc = cim_engine_mvm(ocl, &mvm, results, NULL, err)) != 0)
            goto done;
        if (job->mismatches && (rc = count_mismatches(ocl, job, &mvm, sets, results,
                                                      (size_t)(job->n_images * results_per_image),
                                                      crossbar_index, err)) != 0)
            goto done;
    }
    cim_netref_row_sums(&g, row_sums);
#pragma omp parallel for schedule(                                                                 \
    static) if ((int64_t)(job->n_trials * job->n_images * out_size) >= CIM_PARALLEL_MIN_WORK)
    for (int64_t ti = 0; ti < job->n_trials * job->n_images; ++ti)
        cim_netref_outputs(&g, row_sums, results + ti * results_per_image, y + ti * out_size);
done:
    free(vectors);
    free(results);
    free(row_sums);
    free(gather);
    return rc;
}

static int check_job(const cim_exec_job *job, cim_error *err)
{
    const int64_t worst = job->n_images * (int64_t)job->n_trials * job->model->max_tensor;
    if (job->n_images < 1 || job->n_trials < 1)
        return cim_error_set(err, CIM_ERR_USAGE, "executor: %lld images x %d trials",
                             (long long)job->n_images, job->n_trials);
    if (worst > ((int64_t)1 << 31) / (int64_t)sizeof(int32_t))
        return cim_error_set(err, CIM_ERR_USAGE,
                             "executor: %lld images x %d trials of %s need more than 2 GiB of "
                             "activations; run fewer at once",
                             (long long)job->n_images, job->n_trials, job->model->path);
    return 0;
}

int cim_executor_run(cim_ocl *ocl, const cim_exec_job *job, int32_t *predictions, cim_error *err)
{
    const cim_model *m = job->model;
    const size_t tensor = (size_t)m->max_tensor;
    const size_t all = tensor * (size_t)job->n_images * (size_t)job->n_trials;
    int32_t *a = NULL, *b = NULL;
    int64_t sets = 1;
    int32_t crossbar_index = 0;
    int rc;
    if ((rc = check_job(job, err)) != 0)
        return rc;
    if (cim_executor_device_applies(ocl, job))
        return cim_executor_device_run(ocl, job, predictions, err);
    a = malloc(sizeof(int32_t) * all);
    b = malloc(sizeof(int32_t) * all);
    if (!a || !b) {
        rc = cim_error_set(err, CIM_ERR_NOMEM, "executor: out of memory for activations");
        goto done;
    }
    const int64_t in_size = cim_shape_size(&m->input_shape);
    for (int64_t k = 0; k < job->n_images * in_size; ++k)
        a[k] = job->images[k];
    for (int32_t l = 0; l < m->num_layers; ++l) {
        if (cim_netref_on_crossbar(&job->xbars[l])) {
            if ((rc = crossbar_layer(ocl, job, l, crossbar_index++, sets, a, b, err)) != 0)
                goto done;
            sets = job->n_trials;
        } else {
            cim_forward_layer_each(&m->layers[l], sets * job->n_images, a, b);
        }
        int32_t *t = a;
        a = b;
        b = t;
    }
    /* a holds [sets][images][num_classes]; sets is 1 for a model without
     * crossbar layers, which every trial then shares. */
    for (int32_t t = 0; t < job->n_trials; ++t)
        for (int64_t k = 0; k < job->n_images; ++k)
            predictions[(int64_t)t * job->n_images + k] = cim_forward_argmax(
                a + ((sets > 1 ? t : 0) * job->n_images + k) * m->num_classes, m->num_classes);
    rc = 0;
done:
    free(a);
    free(b);
    return rc;
}
