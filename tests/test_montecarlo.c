/* test_montecarlo.c -- the network Monte-Carlo (cim_montecarlo.h) and the
 * executor it drives, on the shipped models of data/models with Fashion-MNIST
 * test images and on small generated models:
 *
 * - digital mode (config "digital_only": true) predicts what the exact
 *   integer forward pass (cim_forward_image) predicts, image for image, and
 *   its correct count over the whole test set is the digital_test_correct the
 *   training tool stored in the model file;
 * - noise-free analog crossbars with the ideal ADC predict what digital mode
 *   predicts, for every mapping that can hold the model, with the layers on
 *   raw pixels on the host or bit-sliced onto crossbars, and every crossbar
 *   output equals the exact integer W x (the executor's error statistics);
 * - with D2D and C2C noise and a finite ADC the driver's per-trial correct
 *   counts (and predictions and layer error rates) do not depend on how trials
 *   and images are chunked, equal the counts of the plain-C reference network
 *   (cim_netref_image), and a trial replayed alone gives its count in the run;
 * - chunk sizes respect the memory budget whatever the number of trials, and
 *   a sink's error stops the run.
 *
 * Tests on shipped models iterate over whatever data/models holds and skip()
 * when it holds no model or the dataset (CIM_IDX_DEFAULT_DIR) is missing;
 * every test that runs a kernel skips without an OpenCL device.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>

#include "cim_clock.h"
#include "cim_config.h"
#include "cim_executor.h"
#include "cim_forward.h"
#include "cim_idx.h"
#include "cim_mapping.h"
#include "cim_model.h"
#include "cim_model_writer.h"
#include "cim_montecarlo.h"
#include "cim_netref.h"
#include "cim_plan.h"
#include "cim_test_util.h"

#define MAX_MODELS 16
#define DIGITAL_IMAGES 200 /* image-for-image against the forward pass */
#define ANALOG_IMAGES 20   /* per mapping, noise-free analog vs digital */
#define TEST_IMAGES 10000  /* the Fashion-MNIST test set */

typedef struct fixture {
    cim_ocl ocl;
    int have_device;
    cim_dataset ds; /* t10k; count = 0 when missing */
    char *models[MAX_MODELS];
    int n_models;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    cim_error err = {0, ""};
    if (!f)
        return -1;
    *state = f;
    f->n_models = cim_test_list_models(f->models, MAX_MODELS);
    if (cim_idx_load_split(CIM_IDX_DEFAULT_DIR, "t10k", &f->ds, &err) != 0)
        fprintf(stderr, "test_montecarlo: no dataset, shipped-model tests skip: %s\n", err.msg);
    return cim_test_open_device(&f->ocl, &f->have_device, "test_montecarlo");
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->have_device)
        cim_ocl_close(&f->ocl);
    cim_dataset_free(&f->ds);
    for (int i = 0; i < f->n_models; ++i)
        free(f->models[i]);
    free(f);
    return 0;
}

/* Shipped-model tests need the device, the dataset and at least one model. */
static void need_shipped(const fixture *f)
{
    if (!f->have_device || f->ds.count == 0 || f->n_models == 0)
        skip();
}

static void load_shipped(const fixture *f, int i, cim_model *m)
{
    cim_error err = {0, ""};
    if (cim_model_load(f->models[i], m, &err) != 0)
        fail_msg("%s", err.msg);
    if (cim_shape_size(&m->input_shape) != (int64_t)f->ds.height * f->ds.width)
        fail_msg("%s: input shape does not match the %dx%d dataset images", f->models[i],
                 f->ds.height, f->ds.width);
}

/* ---- configurations --------------------------------------------------- */

static cim_config parse_config(const char *json)
{
    cim_config cfg;
    cim_error err = {0, ""};
    if (cim_config_parse(json, "test", &cfg, &err) != 0)
        fail_msg("%s", err.msg);
    return cfg;
}

/* Digital (c = s) or noise-free analog with the ideal ADC, HRS/LRS 5/30 µA. */
static cim_config exact_config(cim_mapping_id id, int digital, int32_t xm, int32_t xn)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"m_mode\": \"%s\", \"M\": %d, \"N\": %d, \"digital_only\": %s, \"HRS\": 5, "
             "\"LRS\": 30, \"HRS_NOISE\": 0, \"LRS_NOISE\": 0, \"c2c_var\": false, "
             "\"adc_type\": \"INF_ADC\", \"resolution\": -1}",
             cim_mapping_name(id), xm, xn, digital ? "true" : "false");
    return parse_config(json);
}

/* D2D and C2C noise (µA) and a finite ADC of `bits` over the MAX range. */
static cim_config noisy_config_c2c(cim_mapping_id id, int32_t xm, int32_t xn, double lrs_noise,
                                   int bits, int c2c)
{
    char json[640];
    const int sym = cim_mapping_desc_of(id)->signed_current;
    snprintf(json, sizeof json,
             "{\"m_mode\": \"%s\", \"M\": %d, \"N\": %d, \"HRS\": 5, \"LRS\": 30, "
             "\"HRS_NOISE\": %g, \"LRS_NOISE\": %g, \"d2d_var\": true, \"c2c_var\": %s, "
             "\"HRS_NOISE_C2C\": %g, \"LRS_NOISE_C2C\": %g, \"adc_type\": \"%s\", "
             "\"resolution\": %d}",
             cim_mapping_name(id), xm, xn, lrs_noise / 3, lrs_noise, c2c ? "true" : "false",
             lrs_noise / 6, lrs_noise / 2, sym ? "SYM_RANGE_ADC" : "POS_RANGE_ONLY_ADC", bits);
    return parse_config(json);
}

/* D2D and C2C noise, a finite ADC of `bits`. */
static cim_config noisy_config(cim_mapping_id id, int32_t xm, int32_t xn, double lrs_noise,
                               int bits)
{
    return noisy_config_c2c(id, xm, xn, lrs_noise, bits, 1);
}

static cim_plan *resolve_with(const cim_model *m, const cim_config *cfg, uint64_t seed,
                              cim_pixel_layers pixels)
{
    return cim_test_plan(m, cfg, seed, pixels);
}

static cim_plan *resolve(const cim_model *m, const cim_config *cfg, uint64_t seed)
{
    return resolve_with(m, cfg, seed, CIM_PIXELS_ON_HOST);
}

/* Digital crossbars of every layer (the mapping does not matter: c = s). */
static cim_plan *digital_xbars(const cim_model *m)
{
    cim_config cfg = exact_config(CIM_TNN_I, 1, 256, 256);
    cim_plan *x = resolve(m, &cfg, 1);
    cim_config_free(&cfg);
    return x;
}

/* Executor predictions of trial `trial` for images [first, first + n) of the
 * dataset; malloc'd. The executor also counts, per crossbar layer, the
 * outputs that differ from the exact integer W x of the same inputs: their
 * sum over layers goes to *mismatched (every layer must have compared some). */
static int32_t *exec_predict_on(fixture *f, const cim_model *m, const cim_plan *xbars,
                                const uint8_t *images, int64_t n, uint32_t first, uint32_t trial,
                                cim_pipeline pipeline, int64_t *mismatched)
{
    const int32_t layers = xbars->n_crossbar;
    int32_t *pred = malloc(sizeof(int32_t) * (size_t)n);
    int64_t *mismatches = calloc((size_t)layers + 1, sizeof(int64_t));
    int64_t *outputs = calloc((size_t)layers + 1, sizeof(int64_t));
    cim_error err = {0, ""};
    const cim_exec_job job = {.plan = xbars,
                              .images = images,
                              .n_images = n,
                              .first_image = first,
                              .trial_first = trial,
                              .n_trials = 1,
                              .mismatches = mismatches,
                              .outputs = outputs,
                              .pipeline = pipeline};
    assert_true(pred && mismatches && outputs && layers > 0);
    if (cim_executor_run(&f->ocl, &job, pred, &err) != 0)
        fail_msg("%s: %s", m->path, err.msg);
    *mismatched = 0;
    for (int32_t c = 0; c < layers; ++c) {
        if (outputs[c] <= 0)
            fail_msg("%s: crossbar layer %d compared no outputs", m->path, c);
        *mismatched += mismatches[c];
    }
    free(mismatches);
    free(outputs);
    return pred;
}

static int32_t *exec_predict(fixture *f, const cim_model *m, const cim_plan *xbars,
                             const uint8_t *images, int64_t n, uint32_t first, uint32_t trial,
                             int64_t *mismatched)
{
    return exec_predict_on(f, m, xbars, images, n, first, trial, CIM_PIPELINE_AUTO, mismatched);
}

/* ---- a sink that keeps everything ------------------------------------- */

typedef struct collected {
    int64_t trial_first, n_trials, n_images;
    int32_t n_layers;
    int64_t next;          /* the trial the next sink call must start at */
    int skip_layer_errors; /* the setup's: the sink must get NULL */
    int calls;
    int64_t *correct;    /* n_trials */
    int64_t *top5;       /* n_trials */
    double *layer_error; /* n_trials x n_layers */
    int32_t *pred;       /* n_trials x n_images, when requested */
    int fail_at_call;    /* > 0: that call returns CIM_ERR_INPUT */
    double done;         /* the last progress reported */
    int progress_calls;
} collected;

static void collected_init(collected *c, const cim_mc_setup *s)
{
    memset(c, 0, sizeof *c);
    c->trial_first = s->trial_first;
    c->n_trials = s->n_trials;
    c->n_images = s->n_images;
    c->n_layers = s->plan->n_crossbar;
    c->next = s->trial_first;
    c->skip_layer_errors = s->skip_layer_errors;
    c->correct = calloc((size_t)s->n_trials, sizeof *c->correct);
    c->top5 = calloc((size_t)s->n_trials, sizeof *c->top5);
    c->layer_error = calloc((size_t)(s->n_trials * c->n_layers) + 1, sizeof *c->layer_error);
    c->pred = calloc((size_t)(s->n_trials * s->n_images), sizeof *c->pred);
    assert_true(c->correct && c->top5 && c->layer_error && c->pred);
}

static void collected_free(collected *c)
{
    free(c->correct);
    free(c->top5);
    free(c->layer_error);
    free(c->pred);
}

static int collect(void *ctx, const cim_mc_chunk *chunk, cim_error *err)
{
    collected *c = ctx;
    const int64_t trial_first = chunk->trial_first;
    const int32_t n = chunk->n;
    const int64_t *correct = chunk->correct;
    const double *layer_error = chunk->layer_error;
    const int32_t *predictions = chunk->predictions;
    const int64_t t0 = trial_first - c->trial_first;
    ++c->calls;
    if (c->fail_at_call == c->calls)
        return cim_error_set(err, CIM_ERR_INPUT, "sink: stop at call %d", c->calls);
    /* trials arrive in order, each once, within the run */
    CIM_ASSERT_I64_EQ(trial_first, c->next);
    assert_true(n >= 1 && t0 + n <= c->n_trials);
    c->next = trial_first + n;
    memcpy(c->correct + t0, correct, sizeof(int64_t) * (size_t)n);
    memcpy(c->top5 + t0, chunk->top5_correct, sizeof(int64_t) * (size_t)n);
    if (c->skip_layer_errors) {
        assert_null(layer_error);
    } else {
        assert_non_null(layer_error);
        memcpy(c->layer_error + t0 * c->n_layers, layer_error,
               sizeof(double) * (size_t)n * (size_t)c->n_layers);
    }
    if (predictions)
        memcpy(c->pred + t0 * c->n_images, predictions,
               sizeof(int32_t) * (size_t)n * (size_t)c->n_images);
    return 0;
}

/* Progress only grows, within [0, 1]. */
static void on_progress(void *ctx, double done)
{
    collected *c = ctx;
    if (!(done >= c->done && done <= 1.0))
        fail_msg("progress %.17g after %.17g", done, c->done);
    c->done = done;
    ++c->progress_calls;
}

/* Runs the driver and checks that every trial reached the sink and the
 * progress ended at 1. */
static void mc_run(fixture *f, const cim_mc_setup *s, int want_predictions, collected *c)
{
    cim_error err = {0, ""};
    collected_init(c, s);
    if (cim_mc_run(&f->ocl, s, want_predictions, collect, on_progress, c, &err) != 0)
        fail_msg("%s: %s", s->plan->model->path, err.msg);
    CIM_ASSERT_I64_EQ(c->next, s->trial_first + s->n_trials);
    assert_true(c->progress_calls >= c->calls);
    CIM_ASSERT_NEAR(c->done, 1.0, 1e-12);
}

/* ---- digital mode ----------------------------------------------------- */

/* The first DIGITAL_IMAGES test images: the executor's digital predictions
 * equal the exact forward pass's, image for image. */
static void test_digital_mode_matches_forward_pass(void **state)
{
    fixture *f = *state;
    const double t = cim_clock_now_s();
    need_shipped(f);
    const int64_t n = f->ds.count < DIGITAL_IMAGES ? f->ds.count : DIGITAL_IMAGES;
    for (int i = 0; i < f->n_models; ++i) {
        cim_model m;
        cim_error err = {0, ""};
        load_shipped(f, i, &m);
        cim_plan *xbars = digital_xbars(&m);
        int64_t mismatched;
        int32_t *pred = exec_predict(f, &m, xbars, f->ds.images, n, 0, 0, &mismatched);
        int32_t *scores = malloc(sizeof(int32_t) * (size_t)m.num_classes);
        const size_t image_size = (size_t)cim_shape_size(&m.input_shape);
        assert_non_null(scores);
        for (int64_t k = 0; k < n; ++k) {
            const int want =
                cim_forward_image(&m, f->ds.images + (size_t)k * image_size, scores, &err);
            assert_true(want >= 0);
            if (pred[k] != want)
                fail_msg("%s: test image %lld: executor (digital) predicts %d, forward pass %d",
                         m.path, (long long)k, pred[k], want);
        }
        /* digital crossbars give the exact W x of every layer */
        CIM_ASSERT_I64_EQ(mismatched, 0);
        free(scores);
        free(pred);
        cim_test_plan_free(xbars);
        cim_model_free(&m);
    }
    fprintf(stderr, "  digital vs forward pass, %lld images x %d models: %.1f s\n", (long long)n,
            f->n_models, cim_clock_now_s() - t);
}

/* All 10000 test images through the driver on digital crossbars: the correct
 * count is the one the training tool stored (digital_test_correct of
 * digital_test_images). */
static void test_digital_accuracy_equals_training_tool(void **state)
{
    fixture *f = *state;
    need_shipped(f);
    for (int i = 0; i < f->n_models; ++i) {
        const double t = cim_clock_now_s();
        cim_model m;
        collected c;
        load_shipped(f, i, &m);
        if (!m.has_digital_test_correct || !m.has_digital_test_images)
            fail_msg("%s: no digital_test_correct / digital_test_images attribute", m.path);
        CIM_ASSERT_I64_EQ(m.digital_test_images, TEST_IMAGES);
        CIM_ASSERT_I64_EQ(f->ds.count, TEST_IMAGES);
        if (m.has_digital_test_accuracy)
            CIM_ASSERT_NEAR(m.digital_test_accuracy,
                            (double)m.digital_test_correct / (double)m.digital_test_images, 1e-4);
        cim_plan *xbars = digital_xbars(&m);
        const cim_mc_setup s = {.plan = xbars,
                                .images = f->ds.images,
                                .labels = f->ds.labels,
                                .n_images = f->ds.count,
                                .n_trials = 1};
        mc_run(f, &s, 0, &c);
        if (c.correct[0] != m.digital_test_correct)
            fail_msg("%s: digital mode gets %lld of %lld test images right, the training tool "
                     "reported %lld",
                     m.path, (long long)c.correct[0], (long long)f->ds.count,
                     (long long)m.digital_test_correct);
        /* digital crossbars make no errors */
        for (int32_t l = 0; l < c.n_layers; ++l)
            CIM_ASSERT_NEAR(c.layer_error[l], 0.0, 0.0);
        fprintf(stderr, "  %s: digital %lld / %d in %.1f s\n", m.path, (long long)c.correct[0],
                TEST_IMAGES, cim_clock_now_s() - t);
        collected_free(&c);
        cim_test_plan_free(xbars);
        cim_model_free(&m);
    }
}

/* ---- noise-free analog ------------------------------------------------ */

/* HRS/LRS 5/30 µA, no noise, the ideal ADC, 256x256 crossbars: every mapping
 * that can hold the model predicts what digital mode predicts, on test images
 * 100 .. 100 + ANALOG_IMAGES - 1. */
static void test_noise_free_analog_equals_digital_every_mapping(void **state)
{
    fixture *f = *state;
    const double t = cim_clock_now_s();
    const uint32_t first = 100;
    int runs = 0, expected_runs = 0;
    need_shipped(f);
    assert_true(f->ds.count >= (int32_t)first + ANALOG_IMAGES);
    for (int i = 0; i < f->n_models; ++i) {
        cim_model m;
        load_shipped(f, i, &m);
        const uint8_t *images = f->ds.images + (size_t)first * cim_shape_size(&m.input_shape);
        cim_plan *dx = digital_xbars(&m);
        int64_t mismatched;
        int32_t *want = exec_predict(f, &m, dx, images, ANALOG_IMAGES, first, 0, &mismatched);
        for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
            if (m.kind == CIM_MODEL_TNN && !cim_mapping_desc_of((cim_mapping_id)id)->ternary)
                continue;
            cim_config cfg = exact_config((cim_mapping_id)id, 0, 256, 256);
            for (int on_xbar = 0; on_xbar <= 1; ++on_xbar) {
                const char *where = on_xbar ? "crossbar" : "host";
                cim_plan *ax = resolve_with(&m, &cfg, 99,
                                            on_xbar ? CIM_PIXELS_ON_CROSSBAR : CIM_PIXELS_ON_HOST);
                /* a trial other than 0: noise-free chips must not depend on
                 * it; the first mapping also through the device pipeline */
                int32_t *got = exec_predict_on(
                    f, &m, ax, images, ANALOG_IMAGES, first, 7,
                    runs % 10 == 0 ? CIM_PIPELINE_DEVICE : CIM_PIPELINE_AUTO, &mismatched);
                /* not only the argmax: every crossbar output (every bit plane of
                 * the first layer on crossbars) is the exact W x */
                if (mismatched != 0)
                    fail_msg("%s, %s, first layer on the %s, noise-free with INF_ADC: %lld "
                             "crossbar outputs differ from the exact W x",
                             m.path, cim_mapping_name((cim_mapping_id)id), where,
                             (long long)mismatched);
                for (int k = 0; k < ANALOG_IMAGES; ++k)
                    if (got[k] != want[k])
                        fail_msg("%s, %s, first layer on the %s, noise-free with INF_ADC: test "
                                 "image %u predicts %d, digital mode %d",
                                 m.path, cim_mapping_name((cim_mapping_id)id), where,
                                 first + (uint32_t)k, got[k], want[k]);
                ++runs;
                free(got);
                cim_test_plan_free(ax);
            }
            cim_config_free(&cfg);
        }
        /* a BNN model runs on all 11 mappings, a TNN model on the 5 TNN ones */
        expected_runs += 2 * (m.kind == CIM_MODEL_TNN ? 5 : CIM_MAPPING_COUNT);
        free(want);
        cim_test_plan_free(dx);
        cim_model_free(&m);
    }
    CIM_ASSERT_I64_EQ(CIM_MAPPING_COUNT, 11);
    CIM_ASSERT_I64_EQ(runs, expected_runs);
    fprintf(stderr, "  noise-free analog, %d model x mapping runs of %d images: %.1f s\n", runs,
            ANALOG_IMAGES, cim_clock_now_s() - t);
}

/* ---- the driver with noise -------------------------------------------- */

/* The driver on `images` with trials [trial_first, trial_first + n_trials):
 * per-trial correct counts, predictions and layer error rates are the same
 * with the smallest chunks (1 trial x 1 image per executor call) and with the
 * default budget; the counts equal those of the reference network; trial
 * trial_first + k replayed alone gives count k (every trial when
 * replay_every, else the middle one, as the replays cost a chip each). Returns NOISE_IN_ADC when a
 * layer error rate was > 0 and NOISE_IN_PREDICTIONS when two trials predicted
 * differently for some image (so callers can check the noise was felt). */
#define NOISE_IN_ADC 1
#define NOISE_IN_PREDICTIONS 2

static int expect_chunking_invariant(fixture *f, const char *what, const cim_model *m,
                                     const cim_plan *xbars, const uint8_t *images,
                                     const uint8_t *labels, int64_t n_images, uint32_t first_image,
                                     uint32_t trial_first, int64_t n_trials, int replay_every)
{
    const size_t image_size = (size_t)cim_shape_size(&m->input_shape);
    cim_mc_setup s = {.plan = xbars,
                      .images = images,
                      .labels = labels,
                      .n_images = n_images,
                      .first_image = first_image,
                      .trial_first = trial_first,
                      .n_trials = n_trials,
                      .memory_bytes = 1};
    collected small, big, one;
    int32_t ct;
    int64_t ci;
    int32_t *scores = malloc(sizeof(int32_t) * (size_t)m->num_classes);
    int noisy = 0;
    cim_error err = {0, ""};
    assert_non_null(scores);

    cim_mc_chunks(&s, &ct, &ci);
    CIM_ASSERT_I64_EQ(ct, 1);
    CIM_ASSERT_I64_EQ(ci, 1);
    mc_run(f, &s, 1, &small);
    CIM_ASSERT_I64_EQ(small.calls, n_trials);
    s.memory_bytes = 0;
    cim_mc_chunks(&s, &ct, &ci);
    CIM_ASSERT_I64_EQ(ct, n_trials); /* the whole run in one executor call */
    CIM_ASSERT_I64_EQ(ci, n_images);
    mc_run(f, &s, 1, &big);
    CIM_ASSERT_I64_EQ(big.calls, 1);
    /* one trial per call over every image: each call after the first takes
     * what every chip shares from the run's cache (cim_exec_cache.h) */
    s.max_chunk_trials = 1;
    cim_mc_chunks(&s, &ct, &ci);
    CIM_ASSERT_I64_EQ(ct, 1);
    CIM_ASSERT_I64_EQ(ci, n_images);
    mc_run(f, &s, 1, &one);
    CIM_ASSERT_I64_EQ(one.calls, n_trials);
    assert_memory_equal(one.correct, big.correct, sizeof(int64_t) * (size_t)n_trials);
    assert_memory_equal(one.top5, big.top5, sizeof(int64_t) * (size_t)n_trials);
    assert_memory_equal(one.pred, big.pred, sizeof(int32_t) * (size_t)(n_trials * n_images));
    assert_memory_equal(one.layer_error, big.layer_error,
                        sizeof(double) * (size_t)(n_trials * big.n_layers));
    collected_free(&one);
    s.max_chunk_trials = 0;
    /* without the layer error rates: the same counts and predictions */
    s.skip_layer_errors = 1;
    mc_run(f, &s, 1, &one);
    assert_memory_equal(one.correct, big.correct, sizeof(int64_t) * (size_t)n_trials);
    assert_memory_equal(one.pred, big.pred, sizeof(int32_t) * (size_t)(n_trials * n_images));
    collected_free(&one);
    s.skip_layer_errors = 0;

    for (int64_t t = 0; t < n_trials; ++t) {
        int64_t ref = 0, ref5 = 0;
        for (int64_t k = 0; k < n_images; ++k) {
            const int p =
                cim_netref_image(xbars, images + (size_t)k * image_size, first_image + (uint32_t)k,
                                 trial_first + (uint32_t)t, scores, &err);
            assert_true(p >= 0);
            ref += p == labels[k];
            ref5 += cim_forward_label_rank(scores, m->num_classes, labels[k]) < CIM_MC_TOP_K;
            if (p != big.pred[k])
                noisy |= NOISE_IN_PREDICTIONS;
            if (small.pred[t * n_images + k] != p || big.pred[t * n_images + k] != p)
                fail_msg("%s: trial %lld image %lld: driver predicts %d (1x1 chunks) and %d "
                         "(one chunk), reference network %d",
                         what, (long long)(trial_first + t), (long long)(first_image + k),
                         small.pred[t * n_images + k], big.pred[t * n_images + k], p);
        }
        if (small.top5[t] != ref5 || big.top5[t] != ref5)
            fail_msg("%s: trial %lld: driver counts %lld (1x1 chunks) and %lld (one chunk) top-5 "
                     "correct, reference network %lld",
                     what, (long long)(trial_first + t), (long long)small.top5[t],
                     (long long)big.top5[t], (long long)ref5);
        if (small.correct[t] != ref || big.correct[t] != ref)
            fail_msg("%s: trial %lld: driver counts %lld (1x1 chunks) and %lld (one chunk) "
                     "correct, reference network %lld",
                     what, (long long)(trial_first + t), (long long)small.correct[t],
                     (long long)big.correct[t], (long long)ref);
    }
    for (int64_t k = 0; k < n_trials * small.n_layers; ++k) {
        if (small.layer_error[k] != big.layer_error[k])
            fail_msg("%s: trial %lld, crossbar layer %lld: error rate %.17g (1x1 chunks) vs "
                     "%.17g (one chunk)",
                     what, (long long)(trial_first + k / small.n_layers),
                     (long long)(k % small.n_layers), small.layer_error[k], big.layer_error[k]);
        assert_true(small.layer_error[k] >= 0.0 && small.layer_error[k] <= 1.0);
        if (small.layer_error[k] > 0.0)
            noisy |= NOISE_IN_ADC;
    }

    /* replay: each trial alone (or only the middle one), without predictions */
    for (int64_t t = replay_every ? 0 : n_trials / 2;
         t < (replay_every ? n_trials : n_trials / 2 + 1); ++t) {
        cim_mc_setup r = s;
        r.trial_first = trial_first + (uint32_t)t;
        r.n_trials = 1;
        mc_run(f, &r, 0, &one);
        if (one.correct[0] != big.correct[t])
            fail_msg("%s: trial %lld replayed alone counts %lld correct, %lld inside the run", what,
                     (long long)r.trial_first, (long long)one.correct[0],
                     (long long)big.correct[t]);
        for (int32_t l = 0; l < one.n_layers; ++l)
            if (one.layer_error[l] != big.layer_error[t * big.n_layers + l])
                fail_msg("%s: trial %lld replayed alone: layer %d error rate differs", what,
                         (long long)r.trial_first, l);
        collected_free(&one);
    }
    collected_free(&small);
    collected_free(&big);
    free(scores);
    return noisy;
}

static void random_bytes(uint8_t *out, size_t n, int32_t hi, uint64_t seed)
{
    cim_test_rng r = cim_test_rng_init(seed);
    for (size_t k = 0; k < n; ++k)
        out[k] = (uint8_t)cim_test_rng_int(&r, 0, hi);
}

/* A generated model written to a scratch file and loaded. */
/* shape: CIM_MW_MLP, _CNN, _GRAPH or _GRAPH_HOST */
static void load_generated(cim_model *m, const char *kind, int shape, uint64_t seed)
{
    char name[32];
    snprintf(name, sizeof name, "%s_%d.h5", kind, shape);
    cim_mw_load_scratch(cim_mw_generated(shape, kind, seed), "montecarlo", name, m);
}

#define GEN_IMAGES 6
#define GEN_TRIALS 4

/* Generated BNN and TNN models, MLP, CNN and graphs, tiled onto 3x7 crossbars, with
 * D2D and C2C noise and a 3-bit ADC: the driver's counts are
 * chunking-invariant, equal the reference network's and replay. Three
 * mappings per model, all 11 among them, the third with the first layer
 * bit-sliced onto crossbars (test_executor runs every mapping
 * against the reference; here the chunking is what is tested, and 1x1 chunks
 * mean many small kernel launches, slow on a busy 2-core machine). */
static void test_driver_with_noise_on_generated_models(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *kind;
        int shape;
        cim_mapping_id mappings[3];
    } models[] = {
        {"bnn", CIM_MW_MLP, {CIM_BNN_I, CIM_BNN_III, CIM_BNN_V}},
        {"bnn", CIM_MW_CNN, {CIM_BNN_II, CIM_BNN_IV, CIM_BNN_VI}},
        {"tnn", CIM_MW_MLP, {CIM_TNN_I, CIM_TNN_III, CIM_TNN_V}},
        {"tnn", CIM_MW_CNN, {CIM_TNN_II, CIM_TNN_IV, CIM_TNN_I}},
        {"bnn", CIM_MW_GRAPH, {CIM_BNN_III, CIM_BNN_V, CIM_BNN_II}},
        {"tnn", CIM_MW_GRAPH_HOST, {CIM_TNN_III, CIM_TNN_V, CIM_TNN_II}},
    };
    const double t = cim_clock_now_s();
    int noisy = 0, runs = 0, covered[CIM_MAPPING_COUNT] = {0};
    if (!f->have_device)
        skip();
    static const char *const shape_names[CIM_MW_SHAPES] = {"MLP", "CNN", "graph", "host graph"};
    for (int i = 0; i < (int)(sizeof models / sizeof models[0]); ++i) {
        cim_model m;
        load_generated(&m, models[i].kind, models[i].shape, 31 + (uint64_t)i);
        const size_t image_size = (size_t)cim_shape_size(&m.input_shape);
        uint8_t *images = malloc(image_size * GEN_IMAGES), labels[GEN_IMAGES];
        assert_non_null(images);
        random_bytes(images, image_size * GEN_IMAGES, 255, 5 + (uint64_t)i);
        random_bytes(labels, GEN_IMAGES, m.num_classes - 1, 6 + (uint64_t)i);
        for (int j = 0; j < 3; ++j) {
            const cim_mapping_id id = models[i].mappings[j];
            char what[256];
            cim_config cfg = noisy_config(id, 3, 7, 9.0, 3);
            /* the third mapping with the first layer bit-sliced onto crossbars */
            const cim_pixel_layers pixels = j == 2 ? CIM_PIXELS_ON_CROSSBAR : CIM_PIXELS_ON_HOST;
            cim_plan *xbars = resolve_with(&m, &cfg, 777, pixels);
            snprintf(what, sizeof what, "generated %s %s on %s, first layer on the %s",
                     models[i].kind, shape_names[models[i].shape], cim_mapping_name(id),
                     j == 2 ? "crossbar" : "host");
            noisy |= expect_chunking_invariant(f, what, &m, xbars, images, labels, GEN_IMAGES, 20,
                                               3, GEN_TRIALS, 1);
            covered[id] = 1;
            ++runs;
            cim_test_plan_free(xbars);
            cim_config_free(&cfg);
        }
        free(images);
        cim_model_free(&m);
    }
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id)
        if (!covered[id])
            fail_msg("mapping %s not tested", cim_mapping_name((cim_mapping_id)id));
    /* the noise reached the ADC outputs and the predictions */
    CIM_ASSERT_I64_EQ(noisy, NOISE_IN_ADC | NOISE_IN_PREDICTIONS);
    fprintf(stderr, "  driver with noise, generated models, %d runs: %.1f s\n", runs,
            cim_clock_now_s() - t);
}

#define SHIPPED_IMAGES 8
#define SHIPPED_TRIALS 3

/* Every shipped model on 256x256 crossbars (TNN_I for ternary models, BNN_III
 * for binary ones) with D2D and C2C noise and a 6-bit ADC: 3 trials x 8 test
 * images, chunking-invariant, equal to the reference network, the middle
 * trial replayable alone. A model of more crossbar MACs per image than
 * SHIPPED_C2C_MACS (a C2C read draws every cell anew) takes fewer images,
 * at least 2, and 2 trials. */
#define SHIPPED_C2C_MACS ((int64_t)3000000)
static void test_driver_with_noise_on_shipped_models(void **state)
{
    fixture *f = *state;
    const uint32_t first = 1000, trial_first = 40;
    need_shipped(f);
    assert_true(f->ds.count >= (int32_t)(first + SHIPPED_IMAGES));
    for (int i = 0; i < f->n_models; ++i) {
        const double t = cim_clock_now_s();
        cim_model m;
        char what[CIM_TEST_PATH_MAX + 64];
        load_shipped(f, i, &m);
        const cim_mapping_id id = m.kind == CIM_MODEL_TNN ? CIM_TNN_I : CIM_BNN_III;
        cim_config cfg = noisy_config(id, 256, 256, 4.0, 6);
        cim_plan *xbars = resolve(&m, &cfg, 2025);
        const int64_t macs = cim_plan_crossbar_macs(xbars);
        const int big = macs > SHIPPED_C2C_MACS;
        int64_t images = big ? SHIPPED_IMAGES * SHIPPED_C2C_MACS / macs : SHIPPED_IMAGES;
        images = images < 2 ? 2 : images;
        snprintf(what, sizeof what, "%s on %s, %lld images", m.path, cim_mapping_name(id),
                 (long long)images);
        const int noisy = expect_chunking_invariant(
            f, what, &m, xbars, f->ds.images + (size_t)first * cim_shape_size(&m.input_shape),
            f->ds.labels + first, images, first, trial_first, big ? 2 : SHIPPED_TRIALS, 0);
        assert_true(noisy & NOISE_IN_ADC);
        fprintf(stderr, "  driver with noise, %s: %.1f s\n", what, cim_clock_now_s() - t);
        cim_test_plan_free(xbars);
        cim_config_free(&cfg);
        cim_model_free(&m);
    }
}

/* Every shipped model with D2D noise (the device pipeline's case, whose
 * wide layers -- 64 output channels -- take the CPU fast path of
 * cim_read_layer when no error rates are asked for): the device pipeline's
 * counts and predictions equal the host pipeline's, with the first layer on
 * the host or bit-sliced; with error rates too. */
static void test_device_pipeline_on_shipped_models(void **state)
{
    fixture *f = *state;
    const uint32_t first = 2000;
    need_shipped(f);
    for (int i = 0; i < f->n_models; ++i) {
        cim_model m;
        load_shipped(f, i, &m);
        const cim_mapping_id id = m.kind == CIM_MODEL_TNN ? CIM_TNN_I : CIM_BNN_III;
        cim_config cfg = noisy_config_c2c(id, 256, 256, 4.0, 6, 0);
        for (int pixels = 0; pixels <= 1; ++pixels) {
            cim_plan *xbars =
                resolve_with(&m, &cfg, 31, pixels ? CIM_PIXELS_ON_CROSSBAR : CIM_PIXELS_ON_HOST);
            cim_mc_setup s = {.plan = xbars,
                              .images =
                                  f->ds.images + (size_t)first * cim_shape_size(&m.input_shape),
                              .labels = f->ds.labels + first,
                              .n_images = SHIPPED_IMAGES,
                              .first_image = first,
                              .trial_first = 3,
                              .n_trials = SHIPPED_TRIALS};
            collected host, dev;
            for (int skip = 1; skip >= 0; --skip) {
                s.skip_layer_errors = skip;
                s.pipeline = CIM_PIPELINE_HOST;
                mc_run(f, &s, 1, &host);
                s.pipeline = CIM_PIPELINE_DEVICE;
                mc_run(f, &s, 1, &dev);
                assert_memory_equal(dev.correct, host.correct, sizeof(int64_t) * SHIPPED_TRIALS);
                assert_memory_equal(dev.pred, host.pred,
                                    sizeof(int32_t) * SHIPPED_TRIALS * SHIPPED_IMAGES);
                if (!skip)
                    assert_memory_equal(dev.layer_error, host.layer_error,
                                        sizeof(double) * SHIPPED_TRIALS * (size_t)host.n_layers);
                collected_free(&host);
                collected_free(&dev);
            }
            cim_test_plan_free(xbars);
        }
        cim_config_free(&cfg);
        cim_model_free(&m);
    }
}

/* ---- chunks and the sink ---------------------------------------------- */

/* The two activation tensors of a chunk (trials x images x the largest
 * tensor, int32) fit the budget whenever one trial x one image does; the
 * chunk never exceeds the run; its trials do not grow with the run's. */
static void test_chunks_fit_the_budget(void **state)
{
    static const int64_t budgets[] = {0, 1, 64 << 10, 1 << 20, 64 << 20, (int64_t)4 << 30};
    static const int64_t trials[] = {1, 3, 100, 1000, 1000000, 4000000000LL};
    static const int64_t images[] = {1, 7, 10000};
    const int64_t default_budget = (int64_t)1024 << 20; /* cim_montecarlo.c */
    cim_model m;
    (void)state;
    load_generated(&m, "tnn", 1, 3);
    cim_config cfg = exact_config(CIM_TNN_I, 0, 8, 8);
    cim_plan *host_first = resolve_with(&m, &cfg, 1, CIM_PIXELS_ON_HOST);
    cim_plan *xbar_first = resolve_with(&m, &cfg, 1, CIM_PIXELS_ON_CROSSBAR);
    for (size_t b = 0; b < 2 * sizeof budgets / sizeof *budgets; ++b) {
        /* the second pass with the first layer's bit planes on crossbars */
        const int sliced = b >= sizeof budgets / sizeof *budgets;
        int32_t big_chunk = 0;
        for (size_t t = 0; t < sizeof trials / sizeof *trials; ++t) {
            for (size_t k = 0; k < sizeof images / sizeof *images; ++k) {
                const int64_t budget_b = budgets[b % (sizeof budgets / sizeof *budgets)];
                const cim_mc_setup s = {.plan = sliced ? xbar_first : host_first,
                                        .n_images = images[k],
                                        .n_trials = trials[t],
                                        .memory_bytes = budget_b};
                const int64_t budget = budget_b > 0 ? budget_b : default_budget;
                int32_t ct = 0;
                int64_t ci = 0;
                cim_mc_chunks(&s, &ct, &ci);
                assert_true(ct >= 1 && ct <= trials[t]);
                assert_true(ci >= 1 && ci <= images[k]);
                if (2 * (int64_t)sizeof(int32_t) * m.max_tensor <= budget &&
                    (int64_t)ct * ci * 2 * (int64_t)sizeof(int32_t) * m.max_tensor > budget)
                    fail_msg("budget %lld, %lld trials x %lld images: chunk %d x %lld holds "
                             "more than the budget",
                             (long long)budget, (long long)trials[t], (long long)images[k], ct,
                             (long long)ci);
                if (k == 2 && trials[t] >= 1000000) {
                    if (big_chunk == 0)
                        big_chunk = ct;
                    CIM_ASSERT_I64_EQ(ct, big_chunk);
                }
            }
        }
    }
    cim_test_plan_free(host_first);
    cim_test_plan_free(xbar_first);
    cim_config_free(&cfg);
    cim_model_free(&m);
}

/* A sink that fails stops the run: its code and message come back and no
 * later chunk reaches it. */
static void test_sink_error_stops_the_run(void **state)
{
    fixture *f = *state;
    cim_model m;
    collected c;
    cim_error err = {0, ""};
    uint8_t images[36 * 4], labels[4] = {0, 1, 2, 3};
    if (!f->have_device)
        skip();
    load_generated(&m, "bnn", 1, 4);
    random_bytes(images, sizeof images, 255, 8);
    cim_config cfg = noisy_config(CIM_BNN_II, 4, 8, 3.0, 4);
    cim_plan *xbars = resolve(&m, &cfg, 5);
    const cim_mc_setup s = {.plan = xbars,
                            .images = images,
                            .labels = labels,
                            .n_images = 4,
                            .n_trials = 4,
                            .memory_bytes = 1};
    collected_init(&c, &s);
    c.fail_at_call = 2;
    assert_int_equal(cim_mc_run(&f->ocl, &s, 0, collect, NULL, &c, &err), CIM_ERR_INPUT);
    assert_non_null(strstr(err.msg, "stop at call 2"));
    CIM_ASSERT_I64_EQ(c.calls, 2);
    CIM_ASSERT_I64_EQ(c.next, 1); /* only trial 0 was taken */
    collected_free(&c);
    cim_test_plan_free(xbars);
    cim_config_free(&cfg);
    cim_model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunks_fit_the_budget),
        cmocka_unit_test(test_sink_error_stops_the_run),
        cmocka_unit_test(test_driver_with_noise_on_generated_models),
        cmocka_unit_test(test_digital_mode_matches_forward_pass),
        cmocka_unit_test(test_noise_free_analog_equals_digital_every_mapping),
        cmocka_unit_test(test_driver_with_noise_on_shipped_models),
        cmocka_unit_test(test_device_pipeline_on_shipped_models),
        cmocka_unit_test(test_digital_accuracy_equals_training_tool),
    };
    return cmocka_run_group_tests_name("montecarlo", tests, setup, teardown);
}
