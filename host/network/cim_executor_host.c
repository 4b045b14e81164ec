/* cim_executor_host.c -- see cim_executor_host.h.
 *
 * Ownership: the two activation tensors are allocated per call, a crossbar
 * layer's vectors and results per layer; all are freed before returning.
 */
#include "cim_executor_host.h"

#include <stdlib.h>
#include <string.h>

#include "cim_engine.h"
#include "cim_forward.h"
#include "cim_layer_exact.h"
#include "cim_parallel.h"
#include "cim_walk.h"

typedef struct host_walk {
    cim_ocl *ocl;
    const cim_exec_job *job;
} host_walk;

static int64_t sets_of(const host_walk *h, const cim_plan *p, int32_t l)
{
    return cim_plan_shared_input(p, l) ? 1 : h->job->n_trials;
}

/* Counts, per trial, the results that differ from the exact products of the
 * same input vectors (cim_layer_exact.h); x is the layer's input. */
static int count_errors(const host_walk *h, const cim_layer_plan *lp, int64_t sets,
                        const int32_t *x, const int32_t *results, size_t per_trial, cim_error *err)
{
    const cim_exec_job *job = h->job;
    int32_t *exact = malloc(sizeof(int32_t) * per_trial * (size_t)sets);
    int64_t *differ = calloc((size_t)job->n_trials, sizeof *differ);
    int rc;
    if (!exact || !differ) {
        rc = cim_error_set(err, CIM_ERR_NOMEM, "layer %s: out of memory for exact results",
                           lp->layer->name);
        goto done;
    }
    if ((rc = cim_layer_exact_host(h->ocl, lp, job->n_images, sets, x, exact, err)) != 0)
        goto done;
#pragma omp parallel for schedule(static) if ((int64_t)((int64_t)job->n_trials * per_trial) >=     \
                                              CIM_PARALLEL_MIN_WORK)
    for (int32_t t = 0; t < job->n_trials; ++t) {
        const int32_t *r = results + (size_t)t * per_trial;
        const int32_t *e = exact + (sets > 1 ? (size_t)t * per_trial : 0);
        int64_t n = 0;
        for (size_t k = 0; k < per_trial; ++k)
            n += r[k] != e[k];
        differ[t] = n;
    }
    cim_exec_count_errors(job, lp->crossbar, differ, (int64_t)per_trial);
done:
    free(exact);
    free(differ);
    return rc;
}

/* One crossbar layer for every set and image: x [sets][images][in] to
 * y [trials][images][out]. */
static int crossbar_step(void *ctx, const cim_plan *p, int32_t l, void *xv, void *yv,
                         cim_error *err)
{
    const host_walk *h = ctx;
    const cim_exec_job *job = h->job;
    const cim_layer_plan *lp = &p->layers[l];
    const cim_layer_mvm *g = &lp->mvm;
    const int32_t *x = xv;
    int32_t *y = yv;
    const int64_t sets = sets_of(h, p, l);
    const int64_t per_image = (int64_t)g->positions * g->planes; /* vectors */
    const int64_t vectors_per_set = job->n_images * per_image;
    const int64_t results_per_image = (int64_t)g->positions * g->rows; /* planes folded */
    int8_t *vectors = malloc((size_t)(sets * vectors_per_set * g->cols));
    int32_t *results =
        malloc(sizeof(int32_t) * (size_t)(job->n_trials * job->n_images * results_per_image));
    int rc = 0;
    if (!vectors || !results) {
        rc = cim_error_set(err, CIM_ERR_NOMEM, "layer %s: out of memory for %lld input vectors",
                           lp->layer->name, (long long)(sets * vectors_per_set));
        goto done;
    }
#pragma omp parallel for schedule(static) if ((int64_t)(sets * vectors_per_set * g->cols) >=       \
                                              CIM_PARALLEL_MIN_WORK)
    for (int64_t si = 0; si < sets * job->n_images; ++si)
        cim_geometry_vectors(g, lp->gather, x + si * lp->in_size,
                             vectors + si * per_image * g->cols);
    const cim_mvm_job mvm = {
        .xbar = &lp->xbar,
        .weights = g->weights,
        .rows = g->rows,
        .cols = g->cols,
        .inputs = vectors,
        .n_inputs = (int32_t)vectors_per_set,
        .input_first = job->first_image * (uint32_t)per_image,
        .trial_first = job->trial_first,
        .n_trials = job->n_trials,
        .inputs_per_trial = sets > 1,
        .input_planes = g->planes,
        .mvm_first = job->image_position * per_image,
    };
    const cim_mvm_trace profile = {NULL, NULL, job->profiles ? job->profiles[lp->crossbar] : NULL};
    if ((rc = cim_engine_mvm(h->ocl, &mvm, results, &profile, err)) != 0)
        goto done;
    if (job->mismatches &&
        (rc = count_errors(h, lp, sets, x, results, (size_t)(job->n_images * results_per_image),
                           err)) != 0)
        goto done;
#pragma omp parallel for schedule(                                                                 \
    static) if ((int64_t)(job->n_trials * job->n_images * lp->out_size) >= CIM_PARALLEL_MIN_WORK)
    for (int64_t ti = 0; ti < job->n_trials * job->n_images; ++ti)
        cim_geometry_outputs(g, lp->row_sums, results + ti * results_per_image,
                             y + ti * lp->out_size);
done:
    free(vectors);
    free(results);
    return rc;
}

static int exact_step(void *ctx, const cim_plan *p, int32_t l, void *x, void *y, cim_error *err)
{
    const host_walk *h = ctx;
    (void)err;
    cim_forward_layer_each(p->layers[l].layer, sets_of(h, p, l) * h->job->n_images, x, y);
    return 0;
}

static const cim_walk_steps host_steps = {crossbar_step, exact_step};

/* The walk's two activation tensors, sized for `sets` sets of the job's
 * images, with the images widened into the first. */
static int activations(const cim_exec_job *job, int64_t sets, int32_t *act[2], cim_error *err)
{
    const cim_model *m = job->plan->model;
    const size_t all = (size_t)m->max_tensor * (size_t)job->n_images * (size_t)sets;
    act[0] = malloc(sizeof(int32_t) * all);
    act[1] = malloc(sizeof(int32_t) * all);
    if (!act[0] || !act[1]) {
        free(act[0]);
        free(act[1]);
        return cim_error_set(err, CIM_ERR_NOMEM,
                             "executor: out of memory for the activations of %lld images",
                             (long long)(job->n_images * sets));
    }
    const int64_t in_size = cim_shape_size(&m->input_shape);
    for (int64_t k = 0; k < job->n_images * in_size; ++k)
        act[0][k] = job->images[k];
    return 0;
}

int cim_executor_host_prefix(const cim_exec_job *job, int32_t to, int32_t **x0, cim_error *err)
{
    host_walk h = {NULL, job};
    int32_t *act[2];
    int cur = 0;
    int rc = activations(job, 1, act, err);
    if (rc != 0)
        return rc;
    rc = cim_walk(job->plan, 0, to, &host_steps, &h, (void *const *)act, &cur, err);
    free(act[1 - cur]);
    *x0 = rc == 0 ? act[cur] : NULL;
    if (rc != 0)
        free(act[cur]);
    return rc;
}

int cim_executor_host_run(cim_ocl *ocl, const cim_exec_job *job, int32_t *scores, cim_error *err)
{
    const cim_plan *p = job->plan;
    const cim_model *m = p->model;
    host_walk h = {ocl, job};
    int32_t *act[2];
    int cur = 0;
    int rc = activations(job, job->n_trials, act, err);
    if (rc != 0)
        return rc;
    if ((rc = cim_walk(p, 0, p->num_layers, &host_steps, &h, (void *const *)act, &cur, err)) != 0)
        goto done;
    /* act[cur] holds [sets][images][num_classes]; sets is 1 for a plan
     * without crossbar layers, which every trial then shares. */
    const int64_t sets = sets_of(&h, p, p->num_layers);
    const size_t per_trial = sizeof(int32_t) * (size_t)job->n_images * (size_t)m->num_classes;
    for (int32_t t = 0; t < job->n_trials; ++t)
        memcpy((char *)scores + (size_t)t * per_trial,
               (char *)act[cur] + (sets > 1 ? t : 0) * per_trial, per_trial);
done:
    free(act[0]);
    free(act[1]);
    return rc;
}
