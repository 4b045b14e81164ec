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
#include "cim_clock.h"
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

/* The exact products of the layer's input vectors (cim_layer_exact.h), for
 * the error counts; x is the layer's input. With `k` (a shared input) they
 * are kept in, or taken from, the cache; *owned says whether the caller
 * frees them. NULL (err set) when out of memory or the device fails. */
static int32_t *exact_products(const host_walk *h, const cim_layer_plan *lp, int64_t sets,
                               const int32_t *x, size_t per_set, cim_exec_kept *k, int *owned,
                               cim_error *err)
{
    *owned = 0;
    if (k && k->exact)
        return k->exact;
    int32_t *exact = malloc(sizeof(int32_t) * per_set * (size_t)sets);
    if (!exact) {
        cim_error_set(err, CIM_ERR_NOMEM, "layer %s: out of memory for exact results",
                      lp->layer->name);
        return NULL;
    }
    if (cim_layer_exact_host(h->ocl, lp, h->job->n_images, sets, x, exact, err) != 0) {
        free(exact);
        return NULL;
    }
    if (k)
        k->exact = exact; /* the cache owns it from here */
    else
        *owned = 1;
    return exact;
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
    /* a shared input: the engine's preparation of its vectors is the same
     * for every chunk of trials */
    cim_exec_kept *k =
        job->cache && cim_plan_shared_input(p, l) ? cim_exec_cache_layer(job->cache, l) : NULL;
    const int gather = !k || !k->inputs; /* the vectors are needed */
    int8_t *vectors = gather ? malloc((size_t)(sets * vectors_per_set * g->cols)) : NULL;
    int32_t *results =
        malloc(sizeof(int32_t) * (size_t)(job->n_trials * job->n_images * results_per_image));
    int64_t *differ = NULL;
    int32_t *exact = NULL;
    int owned = 0, rc = 0;
    cim_exec_times *times = job->times;
    cim_engine_timing kernels = {0, 0, 0};
    double t0 = times ? cim_clock_now_s() : 0, t1 = 0;
    if ((gather && !vectors) || !results) {
        rc = cim_error_set(err, CIM_ERR_NOMEM, "layer %s: out of memory for %lld input vectors",
                           lp->layer->name, (long long)(sets * vectors_per_set));
        goto done;
    }
    if (gather) {
#pragma omp parallel for schedule(static) if ((int64_t)(sets * vectors_per_set * g->cols) >=       \
                                              CIM_PARALLEL_MIN_WORK)
        for (int64_t si = 0; si < sets * job->n_images; ++si)
            cim_geometry_vectors(g, lp->gather, x + si * lp->in_size,
                                 vectors + si * per_image * g->cols);
    }
    cim_mvm_job mvm = {
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
        .prepared = k ? k->inputs : NULL,
        .timing = times ? &kernels : NULL,
    };
    if (k && !k->inputs) {
        if ((rc = cim_engine_inputs_prepare(h->ocl, &mvm, &k->inputs, err)) != 0)
            goto done;
        mvm.prepared = k->inputs;
    }
    const cim_mvm_trace profile = {NULL, NULL, job->profiles ? job->profiles[lp->crossbar] : NULL};
    if (times)
        t1 = cim_clock_now_s();
    if ((rc = cim_engine_mvm(h->ocl, &mvm, results, &profile, err)) != 0)
        goto done;
    if (times) {
        const double t2 = cim_clock_now_s();
        times->gather += t1 - t0;
        times->engine += t2 - t1;
        times->engine_program += kernels.program_s;
        times->engine_read += kernels.read_s;
        t0 = t2;
    }
    /* one pass per chip over its results: the error count against the exact
     * products (those of its own inputs, or the shared ones) and the layer's
     * output layout */
    const size_t per_trial = (size_t)(job->n_images * results_per_image);
    if (job->mismatches)
        exact = exact_products(h, lp, sets, x, per_trial, k, &owned, err);
    if (job->mismatches && !exact) {
        rc = err->code;
        goto done;
    }
    if (exact && !(differ = calloc((size_t)job->n_trials, sizeof *differ))) {
        rc = cim_error_set(err, CIM_ERR_NOMEM, "layer %s: out of memory for error counts",
                           lp->layer->name);
        goto done;
    }
#pragma omp parallel for schedule(                                                                 \
    static) if ((int64_t)(job->n_trials * job->n_images * lp->out_size) >= CIM_PARALLEL_MIN_WORK)
    for (int32_t t = 0; t < job->n_trials; ++t) {
        const int32_t *r = results + (size_t)t * per_trial;
        if (exact) {
            const int32_t *e = exact + (sets > 1 ? (size_t)t * per_trial : 0);
            int64_t n = 0;
            for (size_t q = 0; q < per_trial; ++q)
                n += r[q] != e[q];
            differ[t] = n;
        }
        for (int64_t i = 0; i < job->n_images; ++i)
            cim_geometry_outputs(g, lp->row_sums, r + i * results_per_image,
                                 y + ((int64_t)t * job->n_images + i) * lp->out_size);
    }
    if (exact)
        cim_exec_count_errors(job, lp->crossbar, differ, (int64_t)per_trial);
    if (times)
        times->outputs += cim_clock_now_s() - t0;
done:
    free(vectors);
    free(results);
    free(differ);
    if (owned)
        free(exact);
    return rc;
}

/* Layer l exactly for every set and image. An input every chip shares
 * feeds each chip's set of a layer whose other inputs differ by chip. */
static void exact_compute(const host_walk *h, const cim_plan *p, int32_t l, void *const *x, void *y)
{
    const cim_model *m = p->model;
    const cim_layer *L = p->layers[l].layer;
    const int64_t n_images = h->job->n_images, sets = sets_of(h, p, l);
    int mixed = 0;
    for (int j = 0; j < L->n_inputs; ++j)
        mixed |= sets_of(h, p, L->inputs[j]) != sets;
    if (!mixed) {
        cim_forward_node_each(m, L, sets * n_images, (const int32_t *const *)x, y);
        return;
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
}

/* exact_compute, except that a shared layer's output is kept in, or copied
 * from, the job's cache (or not needed at all). */
static void exact_cached(const host_walk *h, const cim_plan *p, int32_t l, void *const *x, void *y)
{
    const cim_layer *L = p->layers[l].layer;
    const int64_t n_images = h->job->n_images;
    cim_exec_cache *c = h->job->cache;
    cim_exec_kept *k = c && cim_plan_shared(p, l) ? cim_exec_cache_layer(c, l) : NULL;
    const size_t bytes = sizeof(int32_t) * (size_t)n_images * (size_t)cim_shape_size(&L->out_shape);
    if (k && k->output) {
        memcpy(y, k->output, bytes);
        return;
    }
    if (k && !cim_exec_cache_needed(c, l) && cim_exec_cache_complete(c))
        return; /* only shared layers read it, and they are kept or skipped too */
    exact_compute(h, p, l, x, y);
    if (k && cim_exec_cache_needed(c, l) && (k->output = malloc(bytes)) != NULL)
        memcpy(k->output, y, bytes); /* out of memory: simply not kept */
}

/* Layer l exactly for every set and image (exact_cached), timed into the
 * job's times. */
static int exact_step(void *ctx, const cim_plan *p, int32_t l, void *const *x, void *y,
                      cim_error *err)
{
    const host_walk *h = ctx;
    cim_exec_times *times = h->job->times;
    const double t0 = times ? cim_clock_now_s() : 0;
    (void)err;
    exact_cached(h, p, l, x, y);
    if (times)
        *(cim_plan_shared(p, l) ? &times->shared_layers : &times->chip_layers) +=
            cim_clock_now_s() - t0;
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
    if (job->cache)
        cim_exec_cache_bind(job->cache, job->first_image, job->n_images, job->image_position);
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
    if (job->cache)
        cim_exec_cache_bind(job->cache, job->first_image, job->n_images, job->image_position);
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
