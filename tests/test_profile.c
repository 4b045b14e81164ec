/* test_profile.c -- ADC input profiling (kernels/cim_profile.h) and what is
 * built on it:
 *   - the binning rule on hand-picked currents at every rounding edge, in
 *     whole nA and in the fine unit;
 *   - the reference MVM counts one sample per output and conversion, in the
 *     bin an independent evaluation of the rule gives its traced current;
 *   - the read kernels (g path, per-cell path with C2C or with bit-line IR
 *     drop's fine ladder currents, bit planes, per-trial inputs, both launch
 *     styles, small batches) count the same histograms bit for bit;
 *   - the executor's per-layer profiles equal the reference network's, in
 *     the host and the device pipeline (cim_read_layer), both launch styles;
 *   - the summary numbers and the calibration rules on hand-built
 *     histograms give hand-computed values;
 *   - `cimgpu run --out` and `cimgpu mvm --out` store counts that are the
 *     sum of their per-trial rows; `cimgpu calibrate` writes a config that
 *     `cimgpu run` takes and that changes (here: raises) the 4-bit accuracy
 *     of the shipped model over the MAX range.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <hdf5.h>
#include <math.h>

#include "cim_adc_profile.h"
#include "cim_config.h"
#include "cim_engine.h"
#include "cim_executor.h"
#include "cim_executor_device.h"
#include "cim_mapping.h"
#include "cim_model.h"
#include "cim_model_writer.h"
#include "cim_netref.h"
#include "cim_plan.h"
#include "cim_profile.h"
#include "cim_reference.h"
#include "cim_test_cli.h"
#include "cim_test_h5.h"
#include "cim_test_util.h"

typedef struct fixture {
    cim_ocl ocl;
    int have_device;
    char dir[CIM_TEST_PATH_MAX];
} fixture;

static int open_device(void **state, const char *vector_width, int gpu_style)
{
    fixture *f = calloc(1, sizeof *f);
    int rc = cim_test_open_device_styled(&f->ocl, &f->have_device, "test_profile", vector_width,
                                         gpu_style);
    if (rc == 0 && cim_test_make_scratch_dir(f->dir, sizeof f->dir, "profile") != 0)
        rc = -1;
    *state = f;
    return rc;
}

static int setup_default(void **state)
{
    return open_device(state, NULL, 0);
}

static int setup_gpu_style(void **state)
{
    return open_device(state, "1", 1);
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->have_device)
        cim_ocl_close(&f->ocl);
    if (f->dir[0])
        cim_test_remove_tree(f->dir);
    free(f);
    return 0;
}

/* ---- the binning rule ---------------------------------------------------- */

/* [-400, 400] uA in bins of 20 uA: 40 bins, bin i holds lo + i b +- b/2. */
static void test_slot_rule_by_hand(void **state)
{
    (void)state;
    const int64_t lo = -400000, b = 20000, nb = cim_profile_bin_count(lo, 400000, b);
    const int64_t fine = (int64_t)1 << CIM_FINE_FRAC_BITS;
    assert_int_equal(nb, 40);
    static const struct {
        int64_t na, slot;
    } cases[] = {
        {-400000, 1},  /* lo: index 0 */
        {-409999, 1},  /* -0.49995 bins rounds to 0 */
        {-410000, 0},  /* -0.5 bins rounds away from zero: -1, underflow */
        {-390001, 1},  /* 0.49995 */
        {-390000, 2},  /* 0.5: index 1 */
        {0, 21},       /* 20 bins above lo */
        {389999, 40},  /* 39.49995: the last bin */
        {390000, 41},  /* 39.5 rounds to 40 = nb: overflow */
        {2000000, 41}, /* far above */
        {-2000000, 0}, /* far below */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
        assert_int_equal(cim_profile_slot(nb, lo, b, cases[i].na, 0), cases[i].slot);
        assert_int_equal(cim_profile_slot(nb, lo, b, cases[i].na * fine, CIM_FINE_FRAC_BITS),
                         cases[i].slot);
    }
    /* the fine unit resolves what whole nA cannot: just below and at +0.5 bin */
    assert_int_equal(cim_profile_slot(nb, lo, b, -390000 * fine - 1, CIM_FINE_FRAC_BITS), 1);
    assert_int_equal(cim_profile_slot(nb, lo, b, -410000 * fine + 1, CIM_FINE_FRAC_BITS), 1);
    assert_int_equal(cim_profile_slot(nb, lo, b, -410000 * fine - 1, CIM_FINE_FRAC_BITS), 0);
    /* bin counts round half away from zero */
    assert_int_equal(cim_profile_bin_count(0, 25000, 10000), 3);
    assert_int_equal(cim_profile_bin_count(0, 24999, 10000), 2);
    assert_int_equal(cim_profile_bin_count(0, 7680000, 10000), 768);
}

/* ---- the reference -------------------------------------------------------- */

/* The rule restated independently: the nearest multiple of b from lo, ties
 * away from zero, as floor and ceiling of exact integer quotients. */
static int64_t slot_by_floor(int64_t nb, int64_t lo, int64_t b, int64_t v)
{
    const int64_t d = v - lo;
    const int64_t i = d >= 0 ? (2 * d + b) / (2 * b) : -((-2 * d + b) / (2 * b));
    return i < 0 ? 0 : (i >= nb ? nb + 1 : i + 1);
}

/* A finite-ADC crossbar of xm x xn with D2D (and C2C), profiled in bins of
 * b nA over the MAX range of its ADC type. */
static cim_xbar profiled_xbar(cim_mapping_id id, int32_t xm, int32_t xn, int c2c, int64_t b)
{
    const cim_mapping_desc *d = cim_mapping_desc_of(id);
    cim_xbar x = cim_test_xbar_inf(id, xm, xn, 5000, 30000);
    x.seed = 0xfeedbeef12345678ull;
    x.layer = 2;
    x.d2d_sigma_na[CIM_STATE_HRS] = 2000;
    x.d2d_sigma_na[CIM_STATE_LRS] = 6000;
    if (c2c) {
        x.c2c_sigma_na[CIM_STATE_HRS] = 1500;
        x.c2c_sigma_na[CIM_STATE_LRS] = 3000;
    }
    const int64_t lo = d->signed_current ? -(int64_t)xn * 25000 : 0;
    const int64_t hi = d->signed_current ? (int64_t)xn * 25000 : (int64_t)xn * 30000;
    if (d->signed_current)
        cim_test_set_adc(&x, CIM_ADC_SYM, 3, lo, hi);
    else
        cim_test_set_adc(&x, CIM_ADC_POS, 3, lo, hi);
    x.profile.lo_na = lo;
    x.profile.bin_na = b;
    x.profile.bins = cim_profile_bin_count(lo, hi, b);
    return x;
}

static void test_reference_counts_every_conversion(void **state)
{
    (void)state;
    const int32_t rows = 7, cols = 20, n_inputs = 6, xm = 5, xn = 9;
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
        const cim_mapping_desc *d = cim_mapping_desc_of((cim_mapping_id)id);
        /* small bins: every column lands somewhere different */
        cim_xbar x = profiled_xbar((cim_mapping_id)id, xm, xn, id % 2, 3000);
        cim_test_rng r = cim_test_rng_init(99 + (uint64_t)id);
        const int32_t tiles_n = cim_tiles(cols, xn);
        const size_t tr = (size_t)n_inputs * tiles_n * d->n_convs * rows;
        const int64_t slots = CIM_PROFILE_SLOTS(x.profile.bins);
        int8_t w[7 * 20], in[6 * 20];
        int32_t out[6 * 7], *cur = malloc(sizeof(int32_t) * tr);
        uint64_t *got = calloc((size_t)slots, sizeof *got), *want = calloc((size_t)slots, 8);
        cim_test_random_values(&r, x.mapping, w, sizeof w);
        cim_test_random_values(&r, x.mapping, in, sizeof in);
        cim_mvm_trace trace = {cur, NULL, got};
        assert_int_equal(cim_reference_mvm(&x, w, rows, cols, in, n_inputs, 3, 1, out, &trace), 0);
        for (size_t k = 0; k < tr; ++k)
            want[slot_by_floor(x.profile.bins, x.profile.lo_na, x.profile.bin_na, cur[k])]++;
        assert_memory_equal(got, want, sizeof(uint64_t) * (size_t)slots);
        uint64_t total = 0;
        for (int64_t s = 0; s < slots; ++s)
            total += got[s];
        /* one sample per output, input, tile and conversion (2 or 4 for some) */
        assert_int_equal(total, (uint64_t)n_inputs * tiles_n * rows * d->n_convs);
        /* a second call adds to the counts */
        assert_int_equal(cim_reference_mvm(&x, w, rows, cols, in, n_inputs, 3, 1, out, &trace), 0);
        for (int64_t s = 0; s < slots; ++s)
            assert_int_equal(got[s], 2 * want[s]);
        free(cur);
        free(got);
        free(want);
    }
}

/* ---- kernels against the reference --------------------------------------- */

static void compare_engine(fixture *f, const cim_xbar *x, int32_t rows, int32_t cols,
                           int32_t n_inputs, int32_t n_trials, int32_t max_batch,
                           int inputs_per_trial, int32_t planes)
{
    const int64_t slots = CIM_PROFILE_SLOTS(x->profile.bins);
    const size_t sets = inputs_per_trial ? (size_t)n_trials : 1;
    cim_test_rng r = cim_test_rng_init((uint64_t)rows * 31 + (uint64_t)cols + x->mapping);
    int8_t *w = malloc((size_t)rows * cols), *in = malloc(sets * n_inputs * cols);
    int32_t *got = malloc(sizeof(int32_t) * (size_t)n_trials * n_inputs * rows);
    int32_t *want = malloc(sizeof(int32_t) * (size_t)n_inputs * rows);
    uint64_t *gp = calloc((size_t)(n_trials * slots), sizeof *gp);
    uint64_t *wp = calloc((size_t)slots, sizeof *wp);
    cim_error err = {0, ""};
    cim_test_random_values(&r, x->mapping, w, (size_t)rows * cols);
    cim_test_random_values(&r, x->mapping, in, sets * n_inputs * cols);
    const cim_mvm_job job = {.xbar = x,
                             .weights = w,
                             .rows = rows,
                             .cols = cols,
                             .inputs = in,
                             .n_inputs = n_inputs,
                             .input_first = 7,
                             .trial_first = 3,
                             .n_trials = n_trials,
                             .max_batch_trials = max_batch,
                             .inputs_per_trial = inputs_per_trial,
                             .input_planes = planes};
    const cim_mvm_trace gt = {NULL, NULL, gp};
    if (cim_engine_mvm(&f->ocl, &job, got, &gt, &err) != 0)
        fail_msg("engine: %s", err.msg);
    for (int32_t t = 0; t < n_trials; ++t) {
        const int8_t *tin = in + (inputs_per_trial ? (size_t)t * n_inputs * cols : 0);
        cim_mvm_trace wt = {NULL, NULL, wp};
        memset(wp, 0, sizeof(uint64_t) * (size_t)slots);
        assert_int_equal(
            cim_reference_mvm(x, w, rows, cols, tin, n_inputs, 7, 3 + (uint32_t)t, want, &wt), 0);
        if (memcmp(gp + t * slots, wp, sizeof(uint64_t) * (size_t)slots) != 0)
            fail_msg("%s, trial %d, %s, planes %d: kernel and reference profiles differ",
                     cim_mapping_name(x->mapping), t,
                     cim_xbar_reads_per_cell(x) ? "per-cell path" : "g path", planes);
    }
    free(w);
    free(in);
    free(got);
    free(want);
    free(gp);
    free(wp);
}

static void test_kernels_count_as_the_reference(void **state)
{
    fixture *f = *state;
    if (!f->have_device)
        skip();
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
        for (int c2c = 0; c2c <= 1; ++c2c) {
            cim_xbar x = profiled_xbar((cim_mapping_id)id, 6, 11, c2c, 5000);
            compare_engine(f, &x, 19, 30, 5, 5, 2, 0, 0);
            compare_engine(f, &x, 13, 24, 4, 3, 0, 1, 0);
        }
        /* bit planes: every plane's read is a conversion */
        cim_xbar x = profiled_xbar((cim_mapping_id)id, 6, 11, 0, 5000);
        compare_engine(f, &x, 9, 15, 8, 2, 1, 0, 4);
        /* the C2C column law: cim_read_column counts its column currents */
        x = profiled_xbar((cim_mapping_id)id, 6, 11, 1, 5000);
        x.c2c_column = 1;
        assert_true(cim_xbar_c2c_column(&x));
        compare_engine(f, &x, 19, 30, 5, 5, 2, 0, 0);
        compare_engine(f, &x, 9, 15, 8, 2, 1, 1, 4);
    }
}

/* Bit-line IR drop: the per-cell kernel profiles the ladder's fine currents
 * as the reference does, and they are not the plain sums' histogram. */
static void test_ladder_currents_profiled_as_the_reference(void **state)
{
    fixture *f = *state;
    if (!f->have_device)
        skip();
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
        const cim_mapping_desc *d = cim_mapping_desc_of((cim_mapping_id)id);
        cim_xbar x[2];
        for (int ladder = 0; ladder <= 1; ++ladder) {
            char json[512];
            cim_config cfg;
            cim_error err = {0, ""};
            snprintf(json, sizeof json,
                     "{\"m_mode\": \"%s\", \"M\": 6, \"N\": 12, \"HRS_NOISE\": 1, "
                     "\"LRS_NOISE\": 3, \"adc_type\": \"%s\", \"resolution\": 3, "
                     "\"parasitics\": %s, \"w_res\": 2, \"V_read\": -0.2, "
                     "\"adc_profile\": true, \"adc_profile_bin_size\": 1}",
                     cim_mapping_name((cim_mapping_id)id),
                     d->signed_current ? "SYM_RANGE_ADC" : "POS_RANGE_ONLY_ADC",
                     ladder ? "true" : "false");
            if (cim_config_parse(json, "test", &cfg, &err) != 0 ||
                cim_config_resolve(&cfg, "mvm", 11, 1, &x[ladder], &err) != 0)
                fail_msg("%s", err.msg);
            cim_config_free(&cfg);
        }
        assert_true(x[1].ladder_iw > 0 && x[1].column.fine);
        compare_engine(f, &x[1], 9, 25, 4, 3, 2, 0, 0);
        /* the same chip without wires: another histogram */
        const int64_t slots = CIM_PROFILE_SLOTS(x[1].profile.bins);
        assert_int_equal(x[0].profile.bins, x[1].profile.bins);
        uint64_t *h[2];
        int8_t w[9 * 25], in[4 * 25];
        int32_t out[4 * 9];
        cim_test_rng r = cim_test_rng_init(8);
        cim_test_random_values(&r, x[0].mapping, w, sizeof w);
        cim_test_random_values(&r, x[0].mapping, in, sizeof in);
        for (int k = 0; k < 2; ++k) {
            h[k] = calloc((size_t)slots, sizeof(uint64_t));
            const cim_mvm_trace tr = {NULL, NULL, h[k]};
            assert_int_equal(cim_reference_mvm(&x[k], w, 9, 25, in, 4, 0, 0, out, &tr), 0);
        }
        if (memcmp(h[0], h[1], sizeof(uint64_t) * (size_t)slots) == 0)
            fail_msg("%s: IR drop leaves the 1 uA histogram unchanged",
                     cim_mapping_name(x[0].mapping));
        free(h[0]);
        free(h[1]);
    }
}

/* Without trace->profile, or without bins, the engine counts nothing. */
static void test_engine_profiles_only_when_asked(void **state)
{
    fixture *f = *state;
    if (!f->have_device)
        skip();
    cim_xbar x = profiled_xbar(CIM_TNN_I, 4, 8, 0, 5000);
    int8_t w[4 * 8], in[2 * 8];
    int32_t a[2 * 4], b[2 * 4];
    uint64_t counts[CIM_PROFILE_SLOTS(100)] = {0};
    cim_test_rng r = cim_test_rng_init(5);
    cim_error err = {0, ""};
    cim_test_random_values(&r, x.mapping, w, sizeof w);
    cim_test_random_values(&r, x.mapping, in, sizeof in);
    cim_mvm_job job = {
        .xbar = &x, .weights = w, .rows = 4, .cols = 8, .inputs = in, .n_inputs = 2, .n_trials = 1};
    const cim_mvm_trace tr = {NULL, NULL, counts};
    assert_int_equal(cim_engine_mvm(&f->ocl, &job, a, NULL, &err), 0);
    assert_int_equal(cim_engine_mvm(&f->ocl, &job, b, &tr, &err), 0);
    assert_memory_equal(a, b, sizeof a); /* profiling changes no result */
    x.profile.bins = 0;
    memset(counts, 0, sizeof counts);
    assert_int_equal(cim_engine_mvm(&f->ocl, &job, b, &tr, &err), 0);
    for (size_t k = 0; k < sizeof counts / sizeof *counts; ++k)
        assert_int_equal(counts[k], 0);
}

/* ---- the executor against the reference network -------------------------- */

static void test_executor_profiles_as_netref(void **state)
{
    fixture *f = *state;
    if (!f->have_device)
        skip();
    enum { IMAGES = 4, TRIALS = 3 };
    cim_model m;
    cim_mw_load_scratch(cim_mw_cnn("tnn", 11), "profile", "model.h5", &m);
    cim_config cfg;
    cim_error err = {0, ""};
    if (cim_config_parse("{\"m_mode\":\"TNN_II\",\"M\":3,\"N\":7,\"HRS_NOISE\":2,\"LRS_NOISE\":6,"
                         "\"adc_type\":\"SYM_RANGE_ADC\",\"resolution\":4,\"adc_profile\":true,"
                         "\"adc_profile_bin_size\":3}",
                         "test", &cfg, &err) != 0)
        fail_msg("%s", err.msg);
    for (int run = 0; run < 4; ++run) {
        const int pixels = run % 2;
        const cim_pipeline pipeline = run < 2 ? CIM_PIPELINE_HOST : CIM_PIPELINE_DEVICE;
        cim_plan *p = cim_test_plan(&m, &cfg, 77, (cim_pixel_layers)pixels);
        const size_t image_size = (size_t)cim_shape_size(&m.input_shape);
        uint8_t *images = malloc(image_size * IMAGES);
        int32_t pred[TRIALS * IMAGES], *scores = malloc(sizeof(int32_t) * (size_t)m.num_classes);
        uint64_t *got[8] = {NULL}, *want[8] = {NULL};
        cim_test_rng r = cim_test_rng_init(3);
        assert_true(p->n_crossbar >= 2 && p->n_crossbar <= 8);
        for (size_t k = 0; k < image_size * IMAGES; ++k)
            images[k] = (uint8_t)cim_test_rng_int(&r, 0, 255);
        for (int32_t l = 0; l < p->num_layers; ++l) {
            const cim_layer_plan *lp = &p->layers[l];
            if (!cim_plan_on_crossbar(lp))
                continue;
            const size_t slots = (size_t)CIM_PROFILE_SLOTS(lp->xbar.profile.bins);
            assert_true(lp->xbar.profile.bins > 0);
            got[lp->crossbar] = calloc(slots * TRIALS, sizeof(uint64_t));
            want[lp->crossbar] = calloc(slots * TRIALS, sizeof(uint64_t));
        }
        const cim_exec_job job = {.plan = p,
                                  .images = images,
                                  .n_images = IMAGES,
                                  .first_image = 5,
                                  .trial_first = 2,
                                  .n_trials = TRIALS,
                                  .pipeline = pipeline,
                                  .profiles = got};
        /* the device pipeline really runs (it falls back to the host where it does not apply) */
        assert_int_equal(cim_executor_device_applies(&f->ocl, &job),
                         pipeline == CIM_PIPELINE_DEVICE);
        if (cim_executor_run(&f->ocl, &job, pred, &err) != 0)
            fail_msg("%s", err.msg);
        for (int t = 0; t < TRIALS; ++t) {
            uint64_t *mine[8];
            for (int32_t l = 0; l < p->num_layers; ++l) {
                const cim_layer_plan *lp = &p->layers[l];
                if (cim_plan_on_crossbar(lp))
                    mine[lp->crossbar] =
                        want[lp->crossbar] + (size_t)t * CIM_PROFILE_SLOTS(lp->xbar.profile.bins);
            }
            for (int k = 0; k < IMAGES; ++k) {
                int want_pred = cim_netref_image_profiled(p, images + k * image_size, 5 + k, 2 + t,
                                                          scores, mine, &err);
                assert_int_equal(pred[t * IMAGES + k], want_pred);
            }
        }
        for (int32_t l = 0; l < p->num_layers; ++l) {
            const cim_layer_plan *lp = &p->layers[l];
            if (!cim_plan_on_crossbar(lp))
                continue;
            const size_t slots = (size_t)CIM_PROFILE_SLOTS(lp->xbar.profile.bins);
            uint64_t total = 0;
            for (size_t k = 0; k < slots * TRIALS; ++k)
                total += got[lp->crossbar][k];
            assert_true(total > 0);
            if (memcmp(got[lp->crossbar], want[lp->crossbar], slots * TRIALS * 8) != 0)
                fail_msg("layer %s (first layer on the %s, %s pipeline): executor and "
                         "reference network profiles differ",
                         lp->layer->name, pixels ? "crossbar" : "host",
                         pipeline == CIM_PIPELINE_HOST ? "host" : "device");
            free(got[lp->crossbar]);
            free(want[lp->crossbar]);
        }
        free(images);
        free(scores);
        cim_test_plan_free(p);
    }
    cim_config_free(&cfg);
    cim_model_free(&m);
}

/* ---- summary numbers and rules --------------------------------------------- */

static cim_adc_profile hand_profile(double lo, double bin, int64_t bins, const uint64_t *counts)
{
    cim_adc_profile p = {bins, lo, lo + (double)bins * bin, bin, counts};
    return p;
}

static void test_summary_by_hand(void **state)
{
    (void)state;
    cim_adc_profile_stats s;
    /* labels -25 .. 25; 2 below, 1 above; in range -15, 5, 5, 5, 25 */
    const uint64_t a[] = {2, 0, 1, 0, 3, 0, 1, 1};
    cim_adc_profile p = hand_profile(-30, 10, 6, a);
    assert_true(cim_adc_profile_label(&p, 0) == -25 && cim_adc_profile_label(&p, 5) == 25);
    cim_adc_profile_summarize(&p, &s);
    assert_int_equal(s.samples, 5);
    assert_int_equal(s.underflow, 2);
    assert_int_equal(s.overflow, 1);
    assert_true(s.mean == 5.0);
    assert_true(s.var == 160.0); /* (400 + 0 + 400) / 5 */
    /* labels 1.5, 4.5, 7.5: the variance truncates them (1, 4, 7), the mean not */
    const uint64_t b[] = {0, 2, 0, 2, 0};
    p = hand_profile(0, 3, 3, b);
    cim_adc_profile_summarize(&p, &s);
    assert_true(s.mean == 4.5);
    assert_true(s.var == 9.25); /* (2 * 3.5^2 + 2 * 2.5^2) / 4 */
    const uint64_t none[] = {1, 0, 0, 0, 0};
    p = hand_profile(0, 3, 3, none);
    cim_adc_profile_summarize(&p, &s);
    assert_int_equal(s.samples, 0);
    assert_true(isnan(s.mean) && isnan(s.var));
}

static void expect_range(const cim_adc_profile *p, cim_calib_rule rule, double coverage, double lo,
                         double hi)
{
    double got_lo, got_hi;
    cim_error err = {0, ""};
    if (cim_calib_range_of(p, rule, coverage, "L", &got_lo, &got_hi, &err) != 0)
        fail_msg("%s", err.msg);
    if (fabs(got_lo - lo) > 1e-9 || fabs(got_hi - hi) > 1e-9)
        fail_msg("%s: got [%.12g, %.12g], expected [%.12g, %.12g]", cim_calib_rule_name(rule),
                 got_lo, got_hi, lo, hi);
}

static void test_rules_by_hand(void **state)
{
    (void)state;
    /* POS, labels 5, 15, .., 75: bins 2..5 occupied (labels 25 .. 55) */
    const uint64_t pos[] = {0, 0, 0, 4, 1, 0, 5, 0, 0, 0};
    cim_adc_profile p = hand_profile(0, 10, 8, pos);
    expect_range(&p, CIM_CALIB_RULE_RANGE, 0, 15, 55);
    /* bin 0 occupied: one bin below its label is -5, floored at 0 */
    const uint64_t low[] = {0, 3, 0, 0, 1, 0, 0, 0, 0, 0};
    p = hand_profile(0, 10, 8, low);
    expect_range(&p, CIM_CALIB_RULE_RANGE, 0, 0, 35);
    /* mean 5, var 160 (test_summary_by_hand) */
    const uint64_t sym[] = {2, 0, 1, 0, 3, 0, 1, 1};
    p = hand_profile(-30, 10, 6, sym);
    expect_range(&p, CIM_CALIB_RULE_MEAN3SIGMA, 0, 5 - 3 * sqrt(160.0), 5 + 3 * sqrt(160.0));
    /* quantile: 100 samples, 1 in bin 0, 98 in bin 1, 1 in bin 9 (edges i b -+ b/2) */
    const uint64_t q[] = {0, 1, 98, 0, 0, 0, 0, 0, 0, 0, 1, 0};
    p = hand_profile(0, 10, 10, q);
    expect_range(&p, CIM_CALIB_RULE_QUANTILE, 0.98, 5, 15);
    expect_range(&p, CIM_CALIB_RULE_QUANTILE, 1.0, -5, 95);
    expect_range(&p, CIM_CALIB_RULE_QUANTILE, 0.99, -5, 95); /* ranks 0.5 and 99.5 */
    expect_range(&p, CIM_CALIB_RULE_QUANTILE, 0.97, 5, 15);  /* ranks 1.5 and 98.5 */
    /* samples outside the bins count at the binned range's outer edges */
    const uint64_t out[] = {10, 0, 80, 0, 0, 10};
    p = hand_profile(0, 10, 4, out);
    expect_range(&p, CIM_CALIB_RULE_QUANTILE, 1.0, -5, 35);
    /* degenerate: one occupied bin (sigma 0) widens to the bin around it */
    const uint64_t one[] = {0, 0, 0, 0, 7, 0, 0};
    p = hand_profile(0, 10, 5, one);
    expect_range(&p, CIM_CALIB_RULE_MEAN3SIGMA, 0, 30, 40);
    expect_range(&p, CIM_CALIB_RULE_RANGE, 0, 25, 35);
    /* no samples: an error naming the layer */
    const uint64_t empty[] = {0, 0, 0, 0, 0, 0, 0};
    p = hand_profile(0, 10, 5, empty);
    double lo, hi;
    cim_error err = {0, ""};
    assert_int_equal(cim_calib_range_of(&p, CIM_CALIB_RULE_RANGE, 0, "fc9", &lo, &hi, &err),
                     CIM_ERR_INPUT);
    assert_non_null(strstr(err.msg, "fc9"));
    /* names and the reference flow's choice */
    cim_calib_rule r;
    assert_int_equal(cim_calib_rule_from_name("quantile", &r), 0);
    assert_int_equal(r, CIM_CALIB_RULE_QUANTILE);
    assert_int_equal(cim_calib_rule_from_name("max", &r), -1);
    assert_int_equal(cim_calib_rule_default(1), CIM_CALIB_RULE_MEAN3SIGMA);
    assert_int_equal(cim_calib_rule_default(0), CIM_CALIB_RULE_RANGE);
}

/* ---- the command line -------------------------------------------------------- */

#define PATH_BUF (2 * CIM_TEST_PATH_MAX)

static void path_in(const fixture *f, const char *name, char *buf)
{
    snprintf(buf, PATH_BUF, "%s/%s", f->dir, name);
}

static uint64_t *read_u64(hid_t file, const char *name, hsize_t *dims, int *rank)
{
    uint64_t *v = cim_test_read_dataset(file, name, H5T_NATIVE_UINT64, rank, dims);
    assert_non_null(v);
    return v;
}

/* /profile/<layer>: counts = the column sums of trial_counts' bins, samples
 * their total, underflow and overflow the outer slots; returns samples. */
static uint64_t check_profile_group(hid_t file, const char *layer, int64_t trials)
{
    char name[256];
    hsize_t cd[2], td[2], sd[2];
    int cr, trank, sr;
    snprintf(name, sizeof name, "profile/%s/counts", layer);
    uint64_t *counts = read_u64(file, name, cd, &cr);
    snprintf(name, sizeof name, "profile/%s/trial_counts", layer);
    uint64_t *rows = read_u64(file, name, td, &trank);
    snprintf(name, sizeof name, "profile/%s/samples", layer);
    uint64_t *samples = read_u64(file, name, sd, &sr);
    assert_int_equal(cr, 1);
    assert_int_equal(trank, 2);
    assert_int_equal(td[0], (hsize_t)trials);
    assert_int_equal(td[1], cd[0] + 2);
    uint64_t total = 0;
    for (hsize_t i = 0; i < cd[0]; ++i) {
        uint64_t sum = 0;
        for (hsize_t t = 0; t < td[0]; ++t)
            sum += rows[t * td[1] + 1 + i];
        assert_int_equal(counts[i], sum);
        total += sum;
    }
    assert_int_equal(samples[0], total);
    free(counts);
    free(rows);
    free(samples);
    return total;
}

static void test_run_file_holds_profiles(void **state)
{
    fixture *f = *state;
    CIM_TEST_CLI_NEED_DEVICE(f->have_device);
    char cfg[PATH_BUF], out[PATH_BUF];
    cim_cli_result r;
    path_in(f, "p4.json", cfg);
    path_in(f, "run.h5", out);
    cim_test_write_text(cfg, "{\"adc_type\": \"SYM_RANGE_ADC\", \"resolution\": 4, "
                             "\"adc_profile\": true, \"adc_profile_bin_size\": 20}");
    const char *const args[] = {"run",      "--config", cfg,     "--images", "6",
                                "--trials", "3",        "--out", out,        NULL};
    cim_test_cli_run(f->dir, &r, args);
    cim_test_cli_assert_success(&r);
    assert_non_null(strstr(r.err, "ADC profile 004_conv2d: "));
    assert_non_null(strstr(r.err, "ADC profile 009_dense: 1620 samples in 640 bins of 20 uA"));
    cim_test_cli_free(&r);
    hid_t file = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    /* the dense layer: 10 outputs x 9 input tiles x 1 conversion (TNN_I) per image,
     * 6 images x 3 trials */
    assert_true(check_profile_group(file, "004_conv2d", 3) > 0);
    assert_int_equal(check_profile_group(file, "009_dense", 3), 1620);
    H5Fclose(file);
}

static void test_mvm_file_holds_profile(void **state)
{
    fixture *f = *state;
    CIM_TEST_CLI_NEED_DEVICE(f->have_device);
    char cfg[PATH_BUF], w[PATH_BUF], x[PATH_BUF], out[PATH_BUF];
    cim_cli_result r;
    path_in(f, "mvm.json", cfg);
    path_in(f, "w.csv", w);
    path_in(f, "x.csv", x);
    path_in(f, "mvm.h5", out);
    cim_test_write_text(cfg, "{\"m_mode\": \"TNN_IV\", \"M\": 2, \"N\": 3, \"adc_type\": "
                             "\"POS_RANGE_ONLY_ADC\", \"resolution\": 3, \"HRS_NOISE\": 1, "
                             "\"LRS_NOISE\": 2, \"adc_profile\": true, "
                             "\"adc_profile_bin_size\": 5}");
    cim_test_write_text(w, "1,0,-1,1\n0,1,1,-1\n-1,-1,0,0\n");
    cim_test_write_text(x, "1,-1,0,1\n0,0,1,-1\n");
    const char *const args[] = {"mvm", "--config", cfg, "--weights", w,   "--inputs",
                                x,     "--trials", "4", "--out",     out, NULL};
    const char *const env[] = {"CIMGPU_MVM_CHUNK_TRIALS=3", NULL};
    pid_t pid = cim_test_cli_spawn(f->dir, "mvm", args, env);
    cim_test_cli_wait(f->dir, "mvm", pid, &r);
    cim_test_cli_assert_success(&r);
    /* TNN_IV: 4 conversions per output; 3 outputs x 2 inputs x 2 tiles x 4 trials */
    assert_non_null(strstr(r.err, "ADC profile mvm: 192 samples in 18 bins of 5 uA over [0, 90]"));
    cim_test_cli_free(&r);
    hid_t file = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    assert_int_equal(check_profile_group(file, "mvm", 4), 192);
    H5Fclose(file);
}

static void test_calibrate_then_run(void **state)
{
    fixture *f = *state;
    CIM_TEST_CLI_NEED_DEVICE(f->have_device);
    char cal[PATH_BUF], q[PATH_BUF];
    cim_cli_result r;
    path_in(f, "cal.json", cal);
    path_in(f, "q.json", q);
    {
        const char *const args[] = {"calibrate", "--adc-bits", "4", "--images",
                                    "100",       "--out",      cal, NULL};
        cim_test_cli_run(f->dir, &r, args);
        cim_test_cli_assert_success(&r);
        assert_string_equal(r.out, "");
        assert_non_null(strstr(r.err, "calibrated 004_conv2d (mean3sigma): ["));
        assert_null(strstr(r.err, "evaluation split"));
        cim_test_cli_free(&r);
    }
    /* the output is a config `cimgpu run` reads over its default */
    cim_config base, cfg;
    cim_error err = {0, ""};
    assert_int_equal(cim_config_run_default(&base, &err), 0);
    if (cim_config_load_over(cal, &base, &cfg, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(cfg.calib_mode, CIM_CALIB_CALIB);
    assert_int_equal(cfg.adc_profile, 0);
    assert_int_equal(cfg.n_calib, 2);
    assert_non_null(cim_config_find_calib(&cfg, "004_conv2d"));
    assert_non_null(cim_config_find_calib(&cfg, "009_dense"));
    assert_non_null(strstr(cfg.calib_info, "\"rule\":\"mean3sigma\""));
    assert_non_null(strstr(cfg.calib_info, "\"split\":\"train\""));
    assert_non_null(strstr(cfg.calib_info, "train-images-idx3-ubyte"));
    /* signed currents: mean3sigma sits well inside the MAX range +-6400 uA */
    const cim_calib_range *c = cim_config_find_calib(&cfg, "004_conv2d");
    assert_true(c->lo_ua > -6400 && c->lo_ua < 0 && c->hi_ua > 0 && c->hi_ua < 6400);
    cim_config_free(&cfg);
    cim_config_free(&base);

    /* 4-bit ADC on the evaluation images: CALIB from the profile against MAX */
    double acc[2];
    for (int k = 0; k < 2; ++k) {
        const char *const max_args[] = {"run", "--adc-bits", "4", "--images",
                                        "100", "--trials",   "5", NULL};
        const char *const cal_args[] = {"run",      "--adc-bits", "4",        "--images", "100",
                                        "--trials", "5",          "--config", cal,        NULL};
        cim_test_cli_run(f->dir, &r, k ? cal_args : max_args);
        cim_test_cli_assert_success(&r);
        const char *m = strstr(r.out, "mean accuracy");
        assert_non_null(m);
        acc[k] = strtod(m + strlen("mean accuracy"), NULL);
        if (k)
            assert_non_null(strstr(r.out, "range CALIB per layer"));
        cim_test_cli_free(&r);
    }
    if (!(acc[1] > acc[0]))
        fail_msg("4-bit accuracy: CALIB %g, MAX %g", acc[1], acc[0]);

    /* quantile: recorded with its coverage; the evaluation split only when named, noted */
    {
        const char *const args[] = {"calibrate", "--adc-bits", "3",    "--images", "10",   "--rule",
                                    "quantile",  "--coverage", "0.99", "--split",  "t10k", "--out",
                                    q,           NULL};
        cim_test_cli_run(f->dir, &r, args);
        cim_test_cli_assert_success(&r);
        assert_non_null(strstr(r.err, "note: calibrating on the evaluation split t10k"));
        cim_test_cli_free(&r);
        char *text = cim_test_read_file(q);
        assert_non_null(strstr(text, "\"rule\":\t\"quantile\""));
        assert_non_null(strstr(text, "\"coverage\":\t0.99"));
        free(text);
    }
}

static void test_calibrate_refuses_what_it_cannot_do(void **state)
{
    fixture *f = *state;
    cim_cli_result r;
    {
        const char *const args[] = {"calibrate", "--images", "5", NULL};
        cim_test_cli_run(f->dir, &r, args);
        cim_test_cli_assert_error_line(&r, 2, "calibrate", "INF_ADC", "--adc-bits", NULL);
        cim_test_cli_free(&r);
    }
    {
        const char *const args[] = {"calibrate", "--adc-bits", "4", "--coverage", "0.9", NULL};
        cim_test_cli_run(f->dir, &r, args);
        cim_test_cli_assert_error_line(&r, 2, "--coverage needs --rule quantile", NULL);
        cim_test_cli_free(&r);
    }
    {
        const char *const args[] = {"calibrate", "--rule", "max", NULL};
        cim_test_cli_run(f->dir, &r, args);
        cim_test_cli_assert_error_line(&r, 2, "--rule 'max'", NULL);
        cim_test_cli_free(&r);
    }
    {
        char cfg[PATH_BUF];
        path_in(f, "bad.json", cfg);
        cim_test_write_text(cfg, "{\"adc_profile_bin_size\": 2.5}");
        const char *const args[] = {"run", "--config", cfg, NULL};
        cim_test_cli_run(f->dir, &r, args);
        cim_test_cli_assert_error_line(&r, 2, "adc_profile_bin_size", "integer", NULL);
        cim_test_cli_free(&r);
        cim_test_write_text(cfg, "{\"adc_profile\": true}");
        cim_test_cli_run(f->dir, &r, args);
        cim_test_cli_assert_error_line(&r, 2, "adc_profile", "INF_ADC", NULL);
        cim_test_cli_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slot_rule_by_hand),
        cmocka_unit_test(test_reference_counts_every_conversion),
        cmocka_unit_test(test_kernels_count_as_the_reference),
        cmocka_unit_test(test_ladder_currents_profiled_as_the_reference),
        cmocka_unit_test(test_engine_profiles_only_when_asked),
        cmocka_unit_test(test_executor_profiles_as_netref),
        cmocka_unit_test(test_summary_by_hand),
        cmocka_unit_test(test_rules_by_hand),
        cmocka_unit_test(test_run_file_holds_profiles),
        cmocka_unit_test(test_mvm_file_holds_profile),
        cmocka_unit_test(test_calibrate_then_run),
        cmocka_unit_test(test_calibrate_refuses_what_it_cannot_do),
    };
    const struct CMUnitTest gpu_style[] = {
        cmocka_unit_test(test_kernels_count_as_the_reference),
        cmocka_unit_test(test_executor_profiles_as_netref),
    };
    int failed = cmocka_run_group_tests_name("profile", tests, setup_default, teardown);
    failed += cmocka_run_group_tests_name("profile, GPU launch style", gpu_style, setup_gpu_style,
                                          teardown);
    return failed;
}
