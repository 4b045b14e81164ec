/* cim_montecarlo.c -- see cim_montecarlo.h.
 *
 * The executor holds two activation tensors of trials x images x the model's
 * largest tensor (int32); chunks keep them within the budget. Trials are the
 * outer loop so that a chunk of trials is complete -- every image seen --
 * before it goes to the sink; chunking never changes a result because every
 * random draw is keyed by global trial and dataset image. ADC input profiles
 * are counts, so image chunks add into one chunk of trials' counters.
 */
#include "cim_montecarlo.h"

#include <stdlib.h>
#include <string.h>

#include "cim_executor.h"
#include "cim_forward.h"

#define CIM_MC_DEFAULT_BYTES ((int64_t)1024 << 20)
#define CIM_MC_MAX_TRIALS_PER_CHUNK                                                                \
    16 /* more trials per call only shrink the image chunks, and each call samples its trials anew \
        */

void cim_mc_chunks(const cim_mc_setup *s, int32_t *trials, int64_t *images)
{
    const int64_t budget = s->memory_bytes > 0 ? s->memory_bytes : CIM_MC_DEFAULT_BYTES;
    /* the walk's int32 activation tensors (the plan's n_slots, two for a
     * chain) plus the crossbar vectors and results, which bit planes
     * multiply */
    const int32_t planes = s->plan->max_planes;
    const int64_t per_trial_image = ((int64_t)s->plan->n_slots + 2 * (int64_t)planes) *
                                    (int64_t)sizeof(int32_t) * s->plan->model->max_tensor;
    int64_t pairs = budget / (per_trial_image > 0 ? per_trial_image : 1);
    int64_t t =
        s->n_trials < CIM_MC_MAX_TRIALS_PER_CHUNK ? s->n_trials : CIM_MC_MAX_TRIALS_PER_CHUNK;
    if (s->max_chunk_trials > 0 && t > s->max_chunk_trials)
        t = s->max_chunk_trials;
    if (pairs < 1)
        pairs = 1;
    if (t > pairs)
        t = pairs;
    if (t < 1) /* no trials (a resumed run with none left): the sizes of one */
        t = 1;
    int64_t k = pairs / t;
    if (k > s->n_images)
        k = s->n_images;
    *trials = (int32_t)(t < 1 ? 1 : t);
    *images = k < 1 ? 1 : k;
}

/* Per crossbar layer that profiles, the counters of a chunk of trials
 * (zeroed); NULL entries for the others. profiles[] itself is NULL when the
 * setup asks for no profile or no layer profiles. */
static int alloc_profiles(const cim_mc_setup *s, int32_t chunk_trials, uint64_t ***out,
                          cim_error *err)
{
    const cim_plan *p = s->plan;
    int any = 0;
    *out = NULL;
    for (int32_t l = 0; l < p->num_layers; ++l)
        any |= cim_plan_on_crossbar(&p->layers[l]) && p->layers[l].xbar.profile.bins > 0;
    if (!s->profile_sink || !any)
        return 0;
    uint64_t **pr = calloc((size_t)p->n_crossbar, sizeof *pr);
    int ok = pr != NULL;
    for (int32_t l = 0; ok && l < p->num_layers; ++l) {
        const cim_layer_plan *lp = &p->layers[l];
        if (cim_plan_on_crossbar(lp) && lp->xbar.profile.bins > 0)
            ok = (pr[lp->crossbar] = calloc((size_t)chunk_trials *
                                                (size_t)CIM_PROFILE_SLOTS(lp->xbar.profile.bins),
                                            sizeof(uint64_t))) != NULL;
    }
    *out = pr;
    return ok ? 0
              : cim_error_set(err, CIM_ERR_NOMEM,
                              "Monte-Carlo: out of memory for the ADC profiles of %d trials",
                              chunk_trials);
}

static void free_profiles(const cim_plan *p, uint64_t **pr)
{
    for (int32_t c = 0; pr && c < p->n_crossbar; ++c)
        free(pr[c]);
    free(pr);
}

static void clear_profiles(const cim_plan *p, uint64_t **pr, int32_t chunk_trials)
{
    for (int32_t l = 0; pr && l < p->num_layers; ++l) {
        const cim_layer_plan *lp = &p->layers[l];
        if (cim_plan_on_crossbar(lp) && pr[lp->crossbar])
            memset(pr[lp->crossbar], 0,
                   sizeof(uint64_t) * (size_t)chunk_trials *
                       (size_t)CIM_PROFILE_SLOTS(lp->xbar.profile.bins));
    }
}

int cim_mc_run(cim_ocl *ocl, const cim_mc_setup *s, int want_predictions, cim_mc_sink sink,
               cim_mc_progress progress, void *ctx, cim_error *err)
{
    uint64_t **profiles = NULL;
    int32_t chunk_trials;
    int64_t chunk_images;
    int64_t *correct = NULL, *top5 = NULL, *mismatches = NULL, *outputs = NULL;
    int32_t *scores = NULL, *all_pred = NULL;
    double *layer_error = NULL;
    cim_exec_cache *own = NULL, *cache = s->cache;
    const int32_t n_layers = s->plan->n_crossbar;
    int rc = 0;
    cim_mc_chunks(s, &chunk_trials, &chunk_images);
    const size_t image_size = (size_t)cim_shape_size(&s->plan->model->input_shape);
    const int32_t classes = s->plan->model->num_classes;
    correct = malloc(sizeof(int64_t) * (size_t)chunk_trials);
    top5 = malloc(sizeof(int64_t) * (size_t)chunk_trials);
    scores =
        malloc(sizeof(int32_t) * (size_t)chunk_trials * (size_t)chunk_images * (size_t)classes);
    if (want_predictions)
        all_pred = malloc(sizeof(int32_t) * (size_t)chunk_trials * (size_t)s->n_images);
    mismatches = malloc(sizeof(int64_t) * (size_t)chunk_trials * (size_t)(n_layers + 1));
    outputs = malloc(sizeof(int64_t) * (size_t)(n_layers + 1));
    layer_error = malloc(sizeof(double) * (size_t)chunk_trials * (size_t)(n_layers + 1));
    if (!cache) /* what every chip shares, once per image range */
        cache = own = cim_exec_cache_new(s->plan);
    if (!correct || !top5 || !scores || (want_predictions && !all_pred) || !mismatches ||
        !outputs || !layer_error || !cache) {
        rc = cim_error_set(err, CIM_ERR_NOMEM,
                           "Monte-Carlo: out of memory for %d trials x %lld "
                           "images",
                           chunk_trials, (long long)chunk_images);
        goto done;
    }
    if ((rc = alloc_profiles(s, chunk_trials, &profiles, err)) != 0)
        goto done;
    for (int64_t t0 = 0; t0 < s->n_trials; t0 += chunk_trials) {
        const int32_t nt =
            (int32_t)(s->n_trials - t0 < chunk_trials ? s->n_trials - t0 : chunk_trials);
        memset(correct, 0, sizeof(int64_t) * (size_t)nt);
        memset(top5, 0, sizeof(int64_t) * (size_t)nt);
        memset(mismatches, 0, sizeof(int64_t) * (size_t)nt * (size_t)(n_layers + 1));
        memset(outputs, 0, sizeof(int64_t) * (size_t)(n_layers + 1));
        clear_profiles(s->plan, profiles, chunk_trials);
        for (int64_t k0 = 0; k0 < s->n_images; k0 += chunk_images) {
            const int64_t nk = s->n_images - k0 < chunk_images ? s->n_images - k0 : chunk_images;
            const cim_exec_job job = {
                .plan = s->plan,
                .images = s->images + (size_t)k0 * image_size,
                .n_images = nk,
                .first_image = s->first_image + (uint32_t)k0,
                .image_position = k0, /* each chip reads the run's images in order */
                .trial_first = s->trial_first + (uint32_t)t0,
                .n_trials = nt,
                .mismatches = s->skip_layer_errors ? NULL : mismatches,
                .outputs = s->skip_layer_errors ? NULL : outputs,
                .pipeline = s->pipeline,
                .profiles = profiles,
                .cache = cache,
            };
            if ((rc = cim_executor_scores(ocl, &job, scores, err)) != 0)
                goto done;
            for (int32_t t = 0; t < nt; ++t) {
                for (int64_t k = 0; k < nk; ++k) {
                    const int32_t *sc = scores + ((size_t)t * (size_t)nk + (size_t)k) * classes;
                    const int32_t rank = cim_forward_label_rank(sc, classes, s->labels[k0 + k]);
                    correct[t] += rank == 0; /* rank 0 is the argmax */
                    top5[t] += rank < CIM_MC_TOP_K;
                    if (want_predictions)
                        all_pred[(size_t)t * s->n_images + k0 + k] =
                            cim_forward_argmax(sc, classes);
                }
            }
            if (progress)
                progress(ctx, ((double)t0 * s->n_images + (double)nt * (k0 + nk)) /
                                  ((double)s->n_trials * s->n_images));
        }
        for (int64_t k = 0; k < (int64_t)nt * n_layers; ++k)
            layer_error[k] = outputs[k % n_layers] > 0
                                 ? (double)mismatches[k] / (double)outputs[k % n_layers]
                                 : 0.0;
        if (profiles && (rc = s->profile_sink(ctx, s->trial_first + t0, nt, profiles, err)) != 0)
            goto done;
        const cim_mc_chunk chunk = {.trial_first = s->trial_first + t0,
                                    .n = nt,
                                    .correct = correct,
                                    .top5_correct = top5,
                                    .layer_error = s->skip_layer_errors ? NULL : layer_error,
                                    .predictions = all_pred};
        if ((rc = sink(ctx, &chunk, err)) != 0)
            goto done;
    }
done:
    cim_exec_cache_free(own);
    free_profiles(s->plan, profiles);
    free(correct);
    free(top5);
    free(scores);
    free(all_pred);
    free(mismatches);
    free(outputs);
    free(layer_error);
    return rc;
}
