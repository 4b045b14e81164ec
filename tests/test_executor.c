/* test_executor.c -- the network executor on the OpenCL device against the
 * plain-C reference network (cim_netref), prediction for prediction, with
 * D2D and C2C noise and finite ADCs, for generated BNN and TNN models (MLP
 * and CNN, tiled onto small crossbars) and several mappings; split into
 * chunks of images and trials, it gives the same predictions (a trial or an
 * image replayed alone equals itself inside the full run). The layers on raw
 * pixels run on the host or, bit-sliced, on crossbars. Stuck-at faults and
 * measured device tables go through both pipelines too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cim_config.h"
#include "cim_executor.h"
#include "cim_executor_device.h"
#include "cim_mapping.h"
#include "cim_model.h"
#include "cim_model_writer.h"
#include "cim_netref.h"
#include "cim_plan.h"
#include "cim_test_util.h"

#define IMAGES 5
#define TRIALS 3
#define FIRST_IMAGE 10
#define TRIAL_FIRST 4

typedef cim_test_device fixture;

static int setup(void **state)
{
    return cim_test_device_setup(state, "test_executor");
}

/* A 3 x 7 crossbar of mapping id, HRS/LRS 5/30 uA, D2D and optionally C2C
 * noise, the ideal ADC or a finite one of `bits` (the type the mapping needs,
 * MAX range). */
static cim_config noisy_config_with(cim_mapping_id id, int c2c, int bits)
{
    char json[512];
    cim_config cfg;
    cim_error err = {0, ""};
    const int sym = cim_mapping_desc_of(id)->signed_current;
    snprintf(json, sizeof json,
             "{\"m_mode\": \"%s\", \"M\": 3, \"N\": 7, \"HRS\": 5, \"LRS\": 30, "
             "\"HRS_NOISE\": %d, \"LRS_NOISE\": %d, \"c2c_var\": %s, \"HRS_NOISE_C2C\": 1, "
             "\"LRS_NOISE_C2C\": 2, \"adc_type\": \"%s\", \"resolution\": %d}",
             cim_mapping_name(id), c2c ? 2 : 3, c2c ? 6 : 8, c2c ? "true" : "false",
             bits ? (sym ? "SYM_RANGE_ADC" : "POS_RANGE_ONLY_ADC") : "INF_ADC", bits ? bits : -1);
    if (cim_config_parse(json, "test", &cfg, &err) != 0)
        fail_msg("%s", err.msg);
    return cfg;
}

/* noisy_config_with's crossbar with the keys of `json` read over it. */
static cim_config noisy_config_over(cim_mapping_id id, int c2c, int bits, const char *json)
{
    cim_config base = noisy_config_with(id, c2c, bits), cfg;
    cim_error err = {0, ""};
    if (cim_config_parse_over(json, "test", &base, &cfg, &err) != 0)
        fail_msg("%s", err.msg);
    cim_config_free(&base);
    return cfg;
}

/* The same crossbar (M = 3, N = 8: two-row mappings hold 4 inputs per tile,
 * TNN_IV/TNN_V one output) with bit-line IR drop strong enough to change
 * results: 200 ohm per segment at -0.2 V (1 mA per segment against column
 * currents of a few hundred uA). */
static cim_config ir_drop_config(cim_mapping_id id, int c2c, int bits)
{
    return noisy_config_over(id, c2c, bits,
                             "{\"N\": 8, \"parasitics\": true, \"w_res\": 200, \"V_read\": -0.2}");
}

/* The same crossbar with read disturb fast enough to act within the test's
 * images: |V_read| 0.4 V, 50 us per read, each strategy (SOFTWARE fp 2,
 * CELL_BASED tolerance 3 %), updates every 2 reads. */
static cim_config read_disturb_config(cim_mapping_id id, int c2c, int bits, const char *strategy)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"read_disturb\": true, \"V_read\": -0.4, \"t_read\": 5e-5, "
             "\"read_disturb_update_freq\": 2, \"read_disturb_mitigation_strategy\": \"%s\", "
             "\"read_disturb_mitigation_fp\": 2, \"read_disturb_update_tolerance\": 0.03}",
             strategy);
    return noisy_config_over(id, c2c, bits, json);
}

static cim_config noisy_config(cim_mapping_id id, int finite)
{
    return noisy_config_with(id, 1, finite ? 4 : 0);
}

/* shape: CIM_MW_MLP, _CNN, _GRAPH or _GRAPH_HOST */
static void load_generated(cim_model *m, const char *kind, int shape)
{
    cim_mw_load_scratch(cim_mw_generated(shape, kind, 11), "executor", "model.h5", m);
}

static void expect_reference(fixture *f, const cim_model *m, const cim_config *cfg,
                             cim_pixel_layers pixels)
{
    const size_t image_size = (size_t)cim_shape_size(&m->input_shape);
    uint8_t *images = malloc(image_size * IMAGES);
    int32_t got[TRIALS * IMAGES], part[TRIALS * IMAGES],
        *scores = malloc(sizeof(int32_t) * (size_t)m->num_classes);
    cim_test_rng r = cim_test_rng_init(77);
    cim_error err = {0, ""};
    for (size_t k = 0; k < image_size * IMAGES; ++k)
        images[k] = (uint8_t)cim_test_rng_int(&r, 0, 255);
    cim_plan *xbars = cim_test_plan(m, cfg, 2024, pixels);
    cim_exec_job job = {.plan = xbars,
                        .images = images,
                        .n_images = IMAGES,
                        .first_image = FIRST_IMAGE,
                        .trial_first = TRIAL_FIRST,
                        .n_trials = TRIALS};
    if (cim_executor_run(&f->ocl, &job, got, &err) != 0)
        fail_msg("%s", err.msg);
    for (int t = 0; t < TRIALS; ++t) {
        for (int k = 0; k < IMAGES; ++k) {
            int want =
                cim_netref_image_at(xbars, images + k * image_size, FIRST_IMAGE + (uint32_t)k, k,
                                    TRIAL_FIRST + (uint32_t)t, scores, NULL, &err);
            if (got[t * IMAGES + k] != want)
                fail_msg("%s, %s, first layer on the %s: trial %d image %d: executor %d, "
                         "reference %d",
                         m->path, cim_mapping_name(cfg->mapping),
                         pixels == CIM_PIXELS_ON_CROSSBAR ? "crossbar" : "host", t, k,
                         got[t * IMAGES + k], want);
        }
    }
    /* images 2.. alone (at their positions in the chips' image order), trial
     * TRIAL_FIRST + 1 alone: the same predictions */
    cim_exec_job one = {.plan = xbars,
                        .images = images + 2 * image_size,
                        .n_images = IMAGES - 2,
                        .first_image = FIRST_IMAGE + 2,
                        .image_position = 2,
                        .trial_first = TRIAL_FIRST + 1,
                        .n_trials = 1};
    if (cim_executor_run(&f->ocl, &one, part, &err) != 0)
        fail_msg("%s", err.msg);
    assert_memory_equal(part, got + IMAGES + 2, sizeof(int32_t) * (IMAGES - 2));
    free(images);
    cim_test_plan_free(xbars);
    free(scores);
}

static void test_executor_matches_reference_network(void **state)
{
    fixture *f = *state;
    static const char *const kinds[] = {"bnn", "tnn"};
    if (!f->have_device)
        skip();
    for (int k = 0; k < 2; ++k) {
        for (int shape = 0; shape < CIM_MW_SHAPES; ++shape) {
            cim_model m;
            load_generated(&m, kinds[k], shape);
            for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
                if (m.kind == CIM_MODEL_TNN && !cim_mapping_desc_of((cim_mapping_id)id)->ternary)
                    continue;
                cim_config cfg = noisy_config((cim_mapping_id)id, id % 2);
                expect_reference(f, &m, &cfg, CIM_PIXELS_ON_HOST);
                expect_reference(f, &m, &cfg, CIM_PIXELS_ON_CROSSBAR);
                cim_config_free(&cfg);
            }
            cim_model_free(&m);
        }
    }
}

/* expect_reference on every mapping that holds the generated BNN MLP, TNN
 * CNN, BNN graph and TNN host graph, with the config make(id) gives (freed
 * here), the first layer on the crossbar for odd mapping ids. */
static void every_mapping_network(fixture *f, cim_config (*make)(cim_mapping_id id))
{
    static const char *const kinds[] = {"bnn", "tnn"};
    for (int k = 0; k < CIM_MW_SHAPES; ++k) {
        cim_model m;
        load_generated(&m, kinds[k % 2], k);
        for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
            if (m.kind == CIM_MODEL_TNN && !cim_mapping_desc_of((cim_mapping_id)id)->ternary)
                continue;
            cim_config cfg = make((cim_mapping_id)id);
            expect_reference(f, &m, &cfg, id % 2 ? CIM_PIXELS_ON_CROSSBAR : CIM_PIXELS_ON_HOST);
            cim_config_free(&cfg);
        }
        cim_model_free(&m);
    }
}

/* IR drop with C2C on every third mapping, a 4-bit ADC on odd ones. */
static cim_config ir_drop_of(cim_mapping_id id)
{
    return ir_drop_config(id, id % 3 == 0, id % 2 ? 4 : 0);
}

/* Read disturb, the strategies in turn, C2C and finite ADCs as above. */
static cim_config read_disturb_of(cim_mapping_id id)
{
    static const char *const strategies[] = {"OFF", "SOFTWARE", "CELL_BASED"};
    return read_disturb_config(id, id % 3 == 1, id % 2 ? 4 : 0, strategies[id % 3]);
}

/* The C2C column law (C2C sigma 1/2 uA over D2D 2/6 uA: its bound holds
 * on these 7-input crossbars), a 4-bit ADC on odd mappings. */
static cim_config column_law_of(cim_mapping_id id)
{
    return noisy_config_over(id, 1, id % 2 ? 4 : 0,
                             "{\"c2c_model\": \"column\", \"HRS_NOISE_C2C\": 1, "
                             "\"LRS_NOISE_C2C\": 2}");
}

/* The C2C column law through the executor (the host pipeline: the device
 * pipeline's chips have no draws) against the plain-C network: every
 * mapping, ideal and finite ADCs; the plan reads every crossbar layer by
 * the law. */
static void test_column_law_matches_reference_network(void **state)
{
    fixture *f = *state;
    cim_model m;
    if (!f->have_device)
        skip();
    load_generated(&m, "tnn", CIM_MW_CNN);
    cim_config cfg = column_law_of(CIM_TNN_II);
    cim_plan *p = cim_test_plan(&m, &cfg, 1, CIM_PIXELS_ON_CROSSBAR);
    for (int32_t l = 0; l < p->num_layers; ++l) {
        const cim_layer_plan *lp = &p->layers[l];
        if (cim_plan_on_crossbar(lp) && !(lp->c2c.used && cim_xbar_c2c_column(&lp->xbar)))
            fail_msg("layer %s reads C2C per cell (bound %g nA of %g, %lld cells)", lp->layer->name,
                     lp->c2c.e_diff_na, lp->c2c.limit_na, (long long)lp->c2c.n_cells);
    }
    const cim_exec_job job = {.plan = p, .n_images = IMAGES, .n_trials = TRIALS};
    const char *reason = NULL;
    assert_int_equal(cim_executor_pipeline(&f->ocl, &job, &reason), CIM_PIPELINE_HOST);
    assert_string_equal(reason, "C2C");
    cim_test_plan_free(p);
    cim_config_free(&cfg);
    cim_model_free(&m);
    every_mapping_network(f, column_law_of);
}

/* Bit-line IR drop through the executor's per-cell reads against the plain-C
 * network: every mapping, with and without C2C, ideal and finite ADCs. */
static void test_ir_drop_matches_reference_network(void **state)
{
    fixture *f = *state;
    if (!f->have_device)
        skip();
    every_mapping_network(f, ir_drop_of);
}

/* Read disturb through the executor's per-cell reads against the plain-C
 * network: every mapping, the three strategies, C2C and finite ADCs; the
 * images' positions in the chips' order (not their dataset indices) set the
 * drift, and a chunk of images starting at position 2 replays inside. */
static void test_read_disturb_matches_reference_network(void **state)
{
    fixture *f = *state;
    if (!f->have_device)
        skip();
    every_mapping_network(f, read_disturb_of);
}

/* One executor run on the given pipeline; predictions and error counts. */
static void run_pipeline(fixture *f, const cim_model *m, const cim_plan *xbars,
                         const uint8_t *images, cim_pipeline pipeline, int32_t *pred,
                         int64_t *mismatches, int64_t *outputs, int32_t n_crossbar)
{
    cim_error err = {0, ""};
    memset(mismatches, 0, sizeof(int64_t) * (size_t)(TRIALS * n_crossbar));
    memset(outputs, 0, sizeof(int64_t) * (size_t)n_crossbar);
    const cim_exec_job job = {.plan = xbars,
                              .images = images,
                              .n_images = IMAGES,
                              .first_image = FIRST_IMAGE,
                              .trial_first = TRIAL_FIRST,
                              .n_trials = TRIALS,
                              .mismatches = mismatches,
                              .outputs = outputs,
                              .pipeline = pipeline};
    if (cim_executor_run(&f->ocl, &job, pred, &err) != 0)
        fail_msg("%s: %s", m->path, err.msg);
}

/* The device pipeline (forced, whatever the device) against the host
 * pipeline and the reference network: the same predictions and the same
 * per-trial, per-layer error counts, for every mapping, ideal and finite
 * ADCs, the first layer on the host or bit-sliced, the device's and the GPU
 * launch style; generated models whose crossbar layers tile onto 3 x 7
 * arrays. */
static void test_device_pipeline_matches_host_pipeline(void **state)
{
    fixture *f = *state;
    static const char *const kinds[] = {"bnn", "tnn"};
    int device_runs = 0, errors_seen = 0;
    if (!f->have_device)
        skip();
    for (int k = 0; k < 2; ++k) {
        for (int shape = 0; shape < CIM_MW_SHAPES; ++shape) {
            cim_model m;
            load_generated(&m, kinds[k], shape);
            if (shape == CIM_MW_GRAPH_HOST) {
                /* a shared tensor read after the first crossbar layer, a
                 * dense layer on a pre-activation: the host pipeline's */
                cim_config cfg = noisy_config_with(CIM_TNN_I, 0, 0);
                cim_plan *xbars = cim_test_plan(&m, &cfg, 77, CIM_PIXELS_ON_HOST);
                const cim_exec_job probe = {.plan = xbars,
                                            .n_images = IMAGES,
                                            .n_trials = TRIALS,
                                            .pipeline = CIM_PIPELINE_DEVICE};
                assert_string_equal(cim_executor_device_refusal(&f->ocl, &probe), "host layers");
                cim_test_plan_free(xbars);
                cim_config_free(&cfg);
                cim_model_free(&m);
                continue;
            }
            const size_t image_size = (size_t)cim_shape_size(&m.input_shape);
            uint8_t *images = malloc(image_size * IMAGES);
            int32_t *scores = malloc(sizeof(int32_t) * (size_t)m.num_classes);
            cim_test_rng r = cim_test_rng_init(91);
            cim_error err = {0, ""};
            for (size_t i = 0; i < image_size * IMAGES; ++i)
                images[i] = (uint8_t)cim_test_rng_int(&r, 0, 255);
            for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
                if (m.kind == CIM_MODEL_TNN && !cim_mapping_desc_of((cim_mapping_id)id)->ternary)
                    continue;
                for (int pixels = 0; pixels <= 1; ++pixels) {
                    /* D2D only: the device pipeline's case */
                    cim_config cfg =
                        noisy_config_with((cim_mapping_id)id, 0, (id + pixels) % 2 ? 3 : 0);
                    cim_plan *xbars = cim_test_plan(
                        &m, &cfg, 77, pixels ? CIM_PIXELS_ON_CROSSBAR : CIM_PIXELS_ON_HOST);
                    const int32_t nc = xbars->n_crossbar;
                    int32_t dev[TRIALS * IMAGES], host[TRIALS * IMAGES];
                    int64_t dmis[TRIALS * 8], hmis[TRIALS * 8], dout[8], hout[8];
                    assert_true(nc <= 8);
                    const cim_exec_job probe = {.plan = xbars,
                                                .n_images = IMAGES,
                                                .n_trials = TRIALS,
                                                .pipeline = CIM_PIPELINE_DEVICE};
                    assert_true(cim_executor_device_applies(&f->ocl, &probe));
                    /* every other run in the GPU launch style (columns fastest
                     * in g, one input per work-item, driver-chosen groups) */
                    const int cpu_style = f->ocl.cpu_style;
                    f->ocl.cpu_style = cpu_style && (device_runs % 2 == 0);
                    run_pipeline(f, &m, xbars, images, CIM_PIPELINE_DEVICE, dev, dmis, dout, nc);
                    run_pipeline(f, &m, xbars, images, CIM_PIPELINE_HOST, host, hmis, hout, nc);
                    f->ocl.cpu_style = cpu_style;
                    assert_memory_equal(dev, host, sizeof dev);
                    assert_memory_equal(dout, hout, sizeof(int64_t) * (size_t)nc);
                    if (memcmp(dmis, hmis, sizeof(int64_t) * (size_t)(TRIALS * nc)) != 0)
                        fail_msg("%s, %s, first layer on the %s: error counts differ between the "
                                 "pipelines",
                                 m.path, cim_mapping_name((cim_mapping_id)id),
                                 pixels ? "crossbar" : "host");
                    for (int t = 0; t < TRIALS; ++t)
                        for (int i = 0; i < IMAGES; ++i)
                            assert_int_equal(
                                dev[t * IMAGES + i],
                                cim_netref_image(xbars, images + (size_t)i * image_size,
                                                 FIRST_IMAGE + (uint32_t)i,
                                                 TRIAL_FIRST + (uint32_t)t, scores, &err));
                    for (int i = 0; i < TRIALS * nc; ++i)
                        errors_seen |= dmis[i] > 0;
                    ++device_runs;
                    cim_test_plan_free(xbars);
                    cim_config_free(&cfg);
                }
            }
            free(images);
            free(scores);
            cim_model_free(&m);
        }
    }
    /* 3 BNN models x 11 mappings + 3 TNN models x 5, twice */
    assert_int_equal(device_runs, 2 * (3 * 11 + 3 * 5));
    assert_true(errors_seen); /* the noise reached the crossbar outputs */
}

/* Stuck-at faults and measured device tables through both pipelines: digital
 * chips with faults and analog D2D chips with faults and tables take the
 * device pipeline, which must equal the host pipeline and the reference
 * network; chips with C2C (faults, C2C tables) take the host pipeline and
 * equal the reference. */
static void test_faults_and_tables_through_both_pipelines(void **state)
{
    fixture *f = *state;
    static const char *const extra[] = {
        "\"digital_only\": true, \"SAF_HRS\": 0.1, \"SAF_LRS\": 0.1",
        "\"SAF_HRS\": 0.05, \"SAF_LRS\": 0.1, \"device_cdf\": {\"HRS\": [[1, 0], [4, 0.5], "
        "[12, 1]], \"LRS\": [[20, 0], [30, 0.4], [45, 1]]}",
        "\"SAF_LRS\": 0.1, \"c2c_var\": true, \"device_cdf_c2c\": {\"LRS\": [[-4, 0], [4, 1]]}",
    };
    static const cim_mapping_id ids[] = {CIM_BNN_I, CIM_BNN_V, CIM_TNN_I, CIM_TNN_IV};
    int device_runs = 0;
    if (!f->have_device)
        skip();
    cim_model m;
    load_generated(&m, "bnn", 1);
    const size_t image_size = (size_t)cim_shape_size(&m.input_shape);
    uint8_t *images = malloc(image_size * IMAGES);
    cim_test_rng r = cim_test_rng_init(93);
    for (size_t i = 0; i < image_size * IMAGES; ++i)
        images[i] = (uint8_t)cim_test_rng_int(&r, 0, 255);
    for (size_t e = 0; e < sizeof extra / sizeof *extra; ++e) {
        for (size_t k = 0; k < sizeof ids / sizeof *ids; ++k) {
            char json[1024];
            cim_config cfg;
            cim_error err = {0, ""};
            snprintf(json, sizeof json,
                     "{\"m_mode\": \"%s\", \"M\": 3, \"N\": 7, \"HRS_NOISE\": 1, "
                     "\"LRS_NOISE\": 3, %s}",
                     cim_mapping_name(ids[k]), extra[e]);
            if (cim_config_parse(json, "test", &cfg, &err) != 0)
                fail_msg("%s", err.msg);
            expect_reference(f, &m, &cfg, CIM_PIXELS_ON_HOST);
            cim_plan *xbars = cim_test_plan(&m, &cfg, 5, CIM_PIXELS_ON_CROSSBAR);
            const cim_exec_job probe = {.plan = xbars,
                                        .n_images = IMAGES,
                                        .n_trials = TRIALS,
                                        .pipeline = CIM_PIPELINE_DEVICE};
            if (cim_executor_device_applies(&f->ocl, &probe)) {
                const int32_t nc = xbars->n_crossbar;
                int32_t dev[TRIALS * IMAGES], host[TRIALS * IMAGES];
                int64_t dmis[TRIALS * 8], hmis[TRIALS * 8], dout[8], hout[8];
                assert_true(nc <= 8);
                run_pipeline(f, &m, xbars, images, CIM_PIPELINE_DEVICE, dev, dmis, dout, nc);
                run_pipeline(f, &m, xbars, images, CIM_PIPELINE_HOST, host, hmis, hout, nc);
                assert_memory_equal(dev, host, sizeof dev);
                assert_memory_equal(dmis, hmis, sizeof(int64_t) * (size_t)(TRIALS * nc));
                ++device_runs;
            }
            cim_test_plan_free(xbars);
            cim_config_free(&cfg);
        }
    }
    assert_int_equal(device_runs, 2 * 4); /* digital with faults and D2D with tables */
    free(images);
    cim_model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_executor_matches_reference_network),
        cmocka_unit_test(test_ir_drop_matches_reference_network),
        cmocka_unit_test(test_column_law_matches_reference_network),
        cmocka_unit_test(test_read_disturb_matches_reference_network),
        cmocka_unit_test(test_device_pipeline_matches_host_pipeline),
        cmocka_unit_test(test_faults_and_tables_through_both_pipelines),
    };
    return cmocka_run_group_tests(tests, setup, cim_test_device_teardown);
}
