/* cim_executor_host.c -- see cim_executor_host.h.
 *
 * Ownership: the walk's activation buffers (the plan's n_slots) are
 * allocated per call, a crossbar layer's vectors and results per layer; all
 * are freed before returning.
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

/* The sets a tensor holds: 1 when every chip shares it, else n_trials. */
static int64_t sets_of(const host_walk *h, const cim_plan *p, int32_t t)
{
    return cim_plan_shared(p, t) ? 1 : h->job->n_trials;
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
static int crossbar_step(void *ctx, const cim_plan *p, int32_t l, void *const *xv, void *yv,
                         cim_error *err)
{
    const host_walk *h = ctx;
    const cim_exec_job *job = h->job;
    const cim_layer_plan *lp = &p->layers[l];
    const cim_layer_mvm *g = &lp->mvm;
    const int32_t *x = xv[0];
    int32_t *y = yv;
    const int64_t sets = sets_of(h, p, lp->layer->inputs[0]);
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

/* Layer l exactly for every set and image. An input every chip shares
 * feeds each chip's set of a layer whose other inputs differ by chip. */
static int exact_step(void *ctx, const cim_plan *p, int32_t l, void *const *x, void *y,
                      cim_error *err)
{
    const host_walk *h = ctx;
    const cim_model *m = p->model;
    const cim_layer *L = p->layers[l].layer;
    const int64_t n_images = h->job->n_images, sets = sets_of(h, p, l);
    (void)err;
    int mixed = 0;
    for (int j = 0; j < L->n_inputs; ++j)
        mixed |= sets_of(h, p, L->inputs[j]) != sets;
    if (!mixed) {
        cim_forward_node_each(m, L, sets * n_images, (const int32_t *const *)x, y);
        return 0;
    }
    for (int64_t t = 0; t < sets; ++t) {
        const int32_t *xt[CIM_MODEL_MAX_INPUTS];
        for (int j = 0; j < L->n_inputs; ++j) {
            const int64_t size = cim_shape_size(cim_model_tensor_shape(m, L->inputs[j]));
            xt[j] =
                (const int32_t *)x[j] + (sets_of(h, p, L->inputs[j]) > 1 ? t * n_images * size : 0);
        }
        cim_forward_node_each(m, L, n_images, xt,
                              (int32_t *)y + t * n_images * cim_shape_size(&L->out_shape));
    }
    return 0;
}

static const cim_walk_steps host_steps = {crossbar_step, exact_step};

/* The walk's activation buffers, sized for `sets` sets of the job's images,
 * with the images widened into the model input's. */
static int32_t **activations(const cim_exec_job *job, int64_t sets, cim_error *err)
{
    const cim_plan *p = job->plan;
    int32_t **act = cim_forward_buffers(p, job->n_images * sets, err);
    if (!act)
        return NULL;
    int32_t *x = cim_walk_tensor(p, (void *const *)act, CIM_MODEL_INPUT);
    const int64_t in_size = cim_shape_size(&p->model->input_shape);
    for (int64_t k = 0; k < job->n_images * in_size; ++k)
        x[k] = job->images[k];
    return act;
}

int cim_executor_host_prefix(const cim_exec_job *job, int32_t to, int32_t **x0, cim_error *err)
{
    const cim_plan *p = job->plan;
    host_walk h = {NULL, job};
    int32_t **act = activations(job, 1, err);
    if (!act)
        return CIM_ERR_NOMEM;
    int rc = cim_walk(p, 0, to, &host_steps, &h, (void *const *)act, err);
    /* the buffer of layer to's input is handed over, the others freed */
    const int32_t keep = cim_plan_slot(p, p->layers[to].layer->inputs[0]);
    *x0 = rc == 0 ? act[keep] : NULL;
    if (rc == 0)
        act[keep] = NULL;
    cim_forward_buffers_free(p, act);
    return rc;
}

int cim_executor_host_run(cim_ocl *ocl, const cim_exec_job *job, int32_t *scores, cim_error *err)
{
    const cim_plan *p = job->plan;
    const cim_model *m = p->model;
    host_walk h = {ocl, job};
    int32_t **act = activations(job, job->n_trials, err);
    if (!act)
        return CIM_ERR_NOMEM;
    int rc = cim_walk(p, 0, p->num_layers, &host_steps, &h, (void *const *)act, err);
    if (rc == 0) {
        /* the output holds [sets][images][num_classes]; sets is 1 for a plan
         * without crossbar layers, which every trial then shares. */
        const int32_t out = p->num_layers - 1;
        const char *y = cim_walk_tensor(p, (void *const *)act, out);
        const int64_t sets = sets_of(&h, p, out);
        const size_t per_trial = sizeof(int32_t) * (size_t)job->n_images * (size_t)m->num_classes;
        for (int32_t t = 0; t < job->n_trials; ++t)
            memcpy((char *)scores + (size_t)t * per_trial, y + (sets > 1 ? t : 0) * per_trial,
                   per_trial);
    }
    cim_forward_buffers_free(p, act);
    return rc;
}
