/* test_kernels.c -- the OpenCL kernels against the plain-C reference, bit for
 * bit: every mapping, digital and analog, noise-free and with D2D and C2C on,
 * with stuck-at faults and measured device tables,
 * ideal and finite ADCs, on matrices that need several ragged tiles, for
 * several trial counts and batch sizes (results must not depend on how trials
 * are batched), and for two SIMD widths of the read kernel.
 *
 * The group fixture opens the default OpenCL device once (PoCL in CI); with no
 * device every test is skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cim_engine.h"
#include "cim_network.h"
#include "cim_planes.h"
#include "cim_launch.h"
#include "cim_mapping.h"
#include "cim_reference.h"
#include "cim_test_util.h"

typedef cim_test_device fixture;

static int open_device(void **state, const char *vector_width, int gpu_style)
{
    fixture *f = calloc(1, sizeof *f);
    *state = f;
    return cim_test_open_device_styled(&f->ocl, &f->have_device, "test_kernels", vector_width,
                                       gpu_style);
}

static int setup_default(void **state)
{
    return open_device(state, NULL, 0);
}

/* One column per work-item and the GPU launch style, on whatever device. */
static int setup_gpu_style(void **state)
{
    return open_device(state, "1", 1);
}

typedef enum variant {
    DIGITAL,
    NOISE_FREE_INF,
    D2D_INF,
    D2D_FINITE,
    D2D_C2C_INF,
    D2D_C2C_FINITE,
    C2C_ONLY,
    LADDER_INF,    /* bit-line IR drop with D2D */
    LADDER_FINITE, /* the same with a finite ADC */
    LADDER_C2C,    /* IR drop with D2D and C2C */
    /* stuck-at faults (8 % / 12 % of the cells at HRS / LRS) on: */
    SAF_DIGITAL,
    SAF_D2D_FINITE,
    SAF_D2D_C2C_INF,
    /* measured tables (cdf_tables below) for D2D, and C2C, with faults too */
    CDF_D2D_INF,
    CDF_D2D_FINITE,
    CDF_C2C_SAF_FINITE,
    LADDER_C2C_SAF_CDF, /* IR drop over stuck cells and tables, with C2C */
    /* read disturb (set_disturb) on: */
    DISTURB_OFF,    /* no mitigation, D2D, ideal ADC */
    DISTURB_SOFT,   /* SOFTWARE refreshes, finite ADC */
    DISTURB_CELL,   /* CELL_BASED refreshes, the PHYSICAL model, C2C */
    DISTURB_LADDER, /* CELL_BASED over IR drop, stuck cells, tables and C2C */
    /* the C2C column law (cim_c2c_column.h) in place of the per-cell C2C: */
    COLUMN_INF,        /* D2D and C2C, ideal ADC */
    COLUMN_FINITE,     /* the same with a finite ADC */
    COLUMN_C2C_ONLY,   /* C2C alone: the programmed currents are nominal */
    COLUMN_SAF_INF,    /* stuck-at faults: per-chip counts, ideal ADC */
    COLUMN_SAF_FINITE, /* stuck-at faults, finite ADC */
    COLUMN_CDF_D2D     /* D2D tables (the programmed currents), Gaussian C2C */
} variant;

/* Read disturb fast enough to show within a test's few reads: |V_read| 0.4 V
 * and 0.1 ms per read drift LRS cells from their third read on; SOFTWARE
 * (fp 1.5) and CELL_BASED (tolerance 2 %) refresh every few reads. */
static void set_disturb(cim_xbar *x, int strategy, int model)
{
    x->disturb_on = 1;
    x->drift_model = model;
    x->disturb.v_read = -0.4;
    x->disturb.t_read = 1e-4;
    x->disturb.update_freq = 1;
    x->disturb.strategy = strategy;
    x->disturb.fp = 1.5;
    x->disturb.tol = 0.02;
    x->disturb.initial_cycles = 10;
    x->disturb.lrs_na = x->current_na[CIM_STATE_LRS];
    x->column.fine = 1;
}

/* Bit-line IR drop strong enough to matter on the test's short columns: a
 * segment passes 20 mA (e.g. w_res 10 ohm at V_read -0.2 V), so a column of
 * a dozen LRS cells loses a few percent; two rows per input and three spare
 * rows, so unused segments are walked too. */
static void set_ladder(cim_xbar *x, int32_t xn)
{
    x->ladder_iw = (int64_t)20000000 << CIM_FINE_FRAC_BITS;
    x->ladder_rows = 2 * xn + 3;
    x->column.fine = 1;
}

/* A table of cim_cdf.h: n points, currents in nA, probabilities P. */
static void set_table(cim_xbar *x, int t, int n, const int64_t *i_na, const double *p)
{
    x->cdf.n[t] = n;
    for (int k = 0; k < n; ++k) {
        x->cdf.i[t][k] = i_na[k];
        x->cdf.p[t][k] = (int64_t)(p[k] * 4294967296.0 + 0.5);
    }
}

/* D2D tables for both states (the LRS one with a flat step, the HRS one
 * reaching 0 nA) and, with c2c, centred-ish C2C tables. */
static void cdf_tables(cim_xbar *x, int c2c)
{
    static const int64_t hrs[] = {0, 4000, 5000, 9000}, lrs[] = {20000, 25000, 30000, 31000, 40000};
    static const double ph[] = {0, 0.3, 0.5, 1}, pl[] = {0, 0.1, 0.5, 0.5, 1};
    static const int64_t ch[] = {-1000, 0, 1500}, cl[] = {-3000, 3000};
    static const double pch[] = {0, 0.5, 1}, pcl[] = {0, 1};
    set_table(x, CIM_CDF_D2D + CIM_STATE_HRS, 4, hrs, ph);
    set_table(x, CIM_CDF_D2D + CIM_STATE_LRS, 5, lrs, pl);
    if (c2c) {
        set_table(x, CIM_CDF_C2C + CIM_STATE_HRS, 3, ch, pch);
        set_table(x, CIM_CDF_C2C + CIM_STATE_LRS, 2, cl, pcl);
    }
}

/* HRS/LRS 5/30 µA; D2D sigma 2/6 µA (large against HRS, so clipping is
 * exercised), C2C sigma 1.5/3 µA; finite ADCs of the type the mapping needs
 * with the MAX range (docs/semantics.md). */
static cim_xbar make_xbar(cim_mapping_id id, variant v, int32_t xm, int32_t xn, int bits)
{
    const cim_mapping_desc *d = cim_mapping_desc_of(id);
    const variant base = v == SAF_DIGITAL          ? DIGITAL
                         : v == SAF_D2D_FINITE     ? D2D_FINITE
                         : v == SAF_D2D_C2C_INF    ? D2D_C2C_INF
                         : v == CDF_D2D_INF        ? NOISE_FREE_INF
                         : v == CDF_D2D_FINITE     ? D2D_FINITE
                         : v == CDF_C2C_SAF_FINITE ? D2D_C2C_FINITE
                         : v == LADDER_C2C_SAF_CDF ? LADDER_C2C
                         : v == DISTURB_OFF        ? D2D_INF
                         : v == DISTURB_SOFT       ? D2D_FINITE
                         : v == DISTURB_CELL       ? D2D_C2C_INF
                         : v == DISTURB_LADDER     ? LADDER_C2C_SAF_CDF
                         : v == COLUMN_INF         ? D2D_C2C_INF
                         : v == COLUMN_FINITE      ? D2D_C2C_FINITE
                         : v == COLUMN_C2C_ONLY    ? C2C_ONLY
                         : v == COLUMN_SAF_INF     ? SAF_D2D_C2C_INF
                         : v == COLUMN_SAF_FINITE  ? D2D_C2C_FINITE
                         : v == COLUMN_CDF_D2D     ? D2D_C2C_INF
                                                   : v;
    if (base != v) {
        cim_xbar x = make_xbar(id, base, xm, xn, bits);
        if (v == SAF_DIGITAL || v == SAF_D2D_FINITE || v == SAF_D2D_C2C_INF ||
            v == CDF_C2C_SAF_FINITE || v == LADDER_C2C_SAF_CDF) {
            x.saf_below[0] = (int64_t)(0.08 * 4294967296.0);
            x.saf_below[1] = (int64_t)(0.20 * 4294967296.0);
        }
        if (v == CDF_D2D_INF || v == CDF_D2D_FINITE || v == CDF_C2C_SAF_FINITE ||
            v == LADDER_C2C_SAF_CDF)
            cdf_tables(&x, v == CDF_C2C_SAF_FINITE || v == LADDER_C2C_SAF_CDF);
        if (v >= COLUMN_INF) {
            x.c2c_column = 1;
            if (v == COLUMN_SAF_FINITE) {
                x.saf_below[0] = (int64_t)(0.08 * 4294967296.0);
                x.saf_below[1] = (int64_t)(0.20 * 4294967296.0);
            }
            if (v == COLUMN_CDF_D2D)
                cdf_tables(&x, 0);
            return x;
        }
        if (v >= DISTURB_OFF)
            set_disturb(&x,
                        v == DISTURB_OFF    ? CIM_DISTURB_OFF
                        : v == DISTURB_SOFT ? CIM_DISTURB_SOFTWARE
                                            : CIM_DISTURB_CELL_BASED,
                        v == DISTURB_CELL ? CIM_DRIFT_PHYSICAL : CIM_DRIFT_LIBRARY);
        return x;
    }
    cim_xbar x = v == DIGITAL ? cim_test_xbar_digital(id, xm, xn)
                              : cim_test_xbar_inf(id, xm, xn, 5000, 30000);
    x.seed = 0x1234567890abcdefull;
    x.layer = 3;
    if (v == D2D_FINITE || v == D2D_C2C_FINITE || v == LADDER_FINITE) {
        if (d->signed_current)
            cim_test_set_adc(&x, CIM_ADC_SYM, bits, -(int64_t)xn * 25000, (int64_t)xn * 25000);
        else
            cim_test_set_adc(&x, CIM_ADC_POS, bits, 0, (int64_t)xn * 30000);
    }
    if (v == D2D_INF || v == D2D_FINITE || v == D2D_C2C_INF || v == D2D_C2C_FINITE ||
        v >= LADDER_INF) {
        x.d2d_sigma_na[CIM_STATE_HRS] = 2000;
        x.d2d_sigma_na[CIM_STATE_LRS] = 6000;
    }
    if (v == D2D_C2C_INF || v == D2D_C2C_FINITE || v == C2C_ONLY || v == LADDER_C2C) {
        x.c2c_sigma_na[CIM_STATE_HRS] = 1500;
        x.c2c_sigma_na[CIM_STATE_LRS] = 3000;
    }
    if (v >= LADDER_INF)
        set_ladder(&x, xn);
    return x;
}

/* Runs the engine and the reference on the same job and compares all
 * results and (optionally) the trace. With planes > 1 the engine folds each
 * group of `planes` inputs (bit planes) and the reference's reads are folded
 * with cim_fold_planes. */
static void compare_planes(fixture *f, const cim_xbar *x, int32_t rows, int32_t cols,
                           int32_t n_inputs, uint32_t trial_first, int32_t n_trials,
                           int32_t max_batch, int with_trace, int inputs_per_trial, int32_t planes)
{
    const int32_t P = planes > 1 ? planes : 1;
    const cim_mapping_desc *d = cim_mapping_desc_of(x->mapping);
    cim_test_rng r =
        cim_test_rng_init((uint64_t)rows * 7919 + (uint64_t)cols * 104729 + x->mapping);
    const size_t input_sets = inputs_per_trial ? (size_t)n_trials : 1;
    int8_t *w = malloc((size_t)rows * cols), *in = malloc(input_sets * n_inputs * cols);
    const size_t per_trial = (size_t)n_inputs * rows, got_per_trial = per_trial / (size_t)P;
    const int32_t tiles_n = cim_tiles(cols, x->xbar_n);
    const size_t tr = (size_t)n_inputs * tiles_n * d->n_convs * rows;
    int32_t *got = malloc(sizeof(int32_t) * got_per_trial * n_trials),
            *want = malloc(sizeof(int32_t) * per_trial);
    int32_t *got_cur = NULL, *want_cur = NULL;
    int64_t *got_adc = NULL, *want_adc = NULL;
    cim_mvm_trace got_trace = {NULL, NULL, NULL}, want_trace = {NULL, NULL, NULL};
    cim_error err = {0, ""};
    cim_test_random_values(&r, x->mapping, w, (size_t)rows * cols);
    cim_test_random_values(&r, x->mapping, in, input_sets * n_inputs * cols);
    if (with_trace) {
        got_cur = malloc(sizeof(int32_t) * tr * n_trials);
        got_adc = malloc(sizeof(int64_t) * tr * n_trials);
        want_cur = malloc(sizeof(int32_t) * tr);
        want_adc = malloc(sizeof(int64_t) * tr);
        got_trace.current = got_cur;
        got_trace.adc = got_adc;
        want_trace.current = want_cur;
        want_trace.adc = want_adc;
    }
    cim_mvm_job job = {.xbar = x,
                       .weights = w,
                       .rows = rows,
                       .cols = cols,
                       .inputs = in,
                       .n_inputs = n_inputs,
                       .input_first = 11,
                       .trial_first = trial_first,
                       .n_trials = n_trials,
                       .max_batch_trials = max_batch,
                       .inputs_per_trial = inputs_per_trial,
                       .input_planes = planes,
                       .mvm_first = 11}; /* as cim_reference_mvm: its input_first */
    int rc = cim_engine_mvm(&f->ocl, &job, got, with_trace ? &got_trace : NULL, &err);
    if (rc != 0)
        fail_msg("engine failed: %s", err.msg);
    for (int32_t t = 0; t < n_trials; ++t) {
        const int8_t *trial_in = in + (inputs_per_trial ? (size_t)t * n_inputs * cols : 0);
        assert_int_equal(cim_reference_mvm(x, w, rows, cols, trial_in, n_inputs, 11,
                                           trial_first + t, want, with_trace ? &want_trace : NULL),
                         0);
        for (size_t k = 0; k < got_per_trial; ++k) {
            const size_t v = k / rows, m = k % rows;
            const int32_t expect =
                P > 1 ? cim_fold_planes(want + v * P * rows + m, P, rows) : want[k];
            if (got[t * got_per_trial + k] != expect)
                fail_msg("%s trial %u %s %zu output %zu: kernel %d, reference %d",
                         cim_mapping_name(x->mapping), trial_first + t, P > 1 ? "vector" : "input",
                         v, m, got[t * got_per_trial + k], expect);
        }
        if (with_trace) {
            assert_memory_equal(got_cur + t * tr, want_cur, sizeof(int32_t) * tr);
            assert_memory_equal(got_adc + t * tr, want_adc, sizeof(int64_t) * tr);
        }
    }
    free(w);
    free(in);
    free(got);
    free(want);
    free(got_cur);
    free(got_adc);
    free(want_cur);
    free(want_adc);
}

static void compare_inputs(fixture *f, const cim_xbar *x, int32_t rows, int32_t cols,
                           int32_t n_inputs, uint32_t trial_first, int32_t n_trials,
                           int32_t max_batch, int with_trace, int inputs_per_trial)
{
    compare_planes(f, x, rows, cols, n_inputs, trial_first, n_trials, max_batch, with_trace,
                   inputs_per_trial, 0);
}

static void compare(fixture *f, const cim_xbar *x, int32_t rows, int32_t cols, int32_t n_inputs,
                    uint32_t trial_first, int32_t n_trials, int32_t max_batch, int with_trace)
{
    compare_inputs(f, x, rows, cols, n_inputs, trial_first, n_trials, max_batch, with_trace, 0);
}

static void every_mapping(void **state, variant v, int32_t rows, int32_t cols, int32_t xm,
                          int32_t xn, int32_t n_inputs, int32_t n_trials, int32_t max_batch,
                          int with_trace)
{
    fixture *f = *state;
    if (!f->have_device)
        skip();
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
        cim_xbar x = make_xbar((cim_mapping_id)id, v, xm, xn, 3 + id % 4);
        compare(f, &x, rows, cols, n_inputs, 5, n_trials, max_batch, with_trace);
    }
}

static void test_digital_matches_reference(void **state)
{
    every_mapping(state, DIGITAL, 37, 70, 16, 32, 5, 2, 0, 1);
    every_mapping(state, DIGITAL, 9, 100, 8, 40, 3, 1, 0, 0); /* 40: words straddle tiles */
}

static void test_noise_free_inf_matches_reference(void **state)
{
    every_mapping(state, NOISE_FREE_INF, 37, 29, 16, 12, 4, 2, 0, 1);
}

/* The ideal ADC with D2D: the exact rational recombination rounded per tile
 * (the kernels estimate the quotient in float and correct it exactly). */
static void test_d2d_inf_adc_matches_reference(void **state)
{
    every_mapping(state, D2D_INF, 37, 29, 16, 12, 6, 3, 0, 0);
}

static void test_d2d_finite_adc_matches_reference(void **state)
{
    every_mapping(state, D2D_FINITE, 37, 29, 16, 12, 4, 3, 0, 1);
}

static void test_d2d_c2c_inf_matches_reference(void **state)
{
    every_mapping(state, D2D_C2C_INF, 21, 29, 16, 12, 3, 2, 0, 1);
}

static void test_d2d_c2c_finite_matches_reference(void **state)
{
    every_mapping(state, D2D_C2C_FINITE, 21, 29, 16, 12, 3, 2, 0, 0);
}

static void test_c2c_only_matches_reference(void **state)
{
    every_mapping(state, C2C_ONLY, 21, 29, 16, 12, 3, 2, 0, 0);
}

/* Bit-line IR drop: the per-cell kernel's ladders, fine currents and the
 * ideal ADC's truncation chain, the fine finite ADC, and C2C on the ladder,
 * with the trace (the ladder currents rounded to nA). */
static void test_ladder_inf_matches_reference(void **state)
{
    every_mapping(state, LADDER_INF, 21, 29, 16, 12, 3, 2, 0, 1);
}

static void test_ladder_finite_matches_reference(void **state)
{
    every_mapping(state, LADDER_FINITE, 21, 29, 16, 12, 3, 2, 0, 1);
}

static void test_ladder_c2c_matches_reference(void **state)
{
    every_mapping(state, LADDER_C2C, 21, 29, 16, 12, 3, 2, 0, 0);
}

/* Stuck-at faults: digital chips (which then differ per trial and take the
 * g kernels), analog ones with D2D and a finite ADC, and with C2C (a stuck
 * cell reads with its stuck state's deviation); shared and per-trial inputs. */
static void test_stuck_at_faults_match_reference(void **state)
{
    fixture *f = *state;
    every_mapping(state, SAF_DIGITAL, 37, 70, 16, 32, 5, 3, 2, 1);
    every_mapping(state, SAF_D2D_FINITE, 37, 29, 16, 12, 4, 3, 0, 1);
    every_mapping(state, SAF_D2D_C2C_INF, 21, 29, 16, 12, 3, 2, 0, 0);
    for (int id = 0; id < CIM_MAPPING_COUNT; id += 3) {
        cim_xbar x = make_xbar((cim_mapping_id)id, SAF_DIGITAL, 8, 16, 4);
        compare_inputs(f, &x, 11, 37, 3, 2, 5, 2, 1, 1);
        compare_planes(f, &x, 11, 21, 24, 2, 3, 2, 0, 1, 8);
    }
}

/* Measured device tables in place of the Gaussian: D2D tables alone (no
 * sigma), with D2D sigmas for nothing (tables win) and a finite ADC, and C2C
 * tables with stuck-at faults on, also under bit-line IR drop (the ladder
 * walks the stuck and tabulated currents). */
static void test_device_tables_match_reference(void **state)
{
    fixture *f = *state;
    every_mapping(state, CDF_D2D_INF, 37, 29, 16, 12, 4, 3, 0, 1);
    every_mapping(state, CDF_D2D_FINITE, 37, 29, 16, 12, 4, 2, 0, 0);
    every_mapping(state, CDF_C2C_SAF_FINITE, 21, 29, 16, 12, 3, 2, 0, 1);
    every_mapping(state, LADDER_C2C_SAF_CDF, 21, 29, 16, 12, 3, 2, 0, 1);
    for (int id = 0; id < CIM_MAPPING_COUNT; id += 4) {
        cim_xbar x = make_xbar((cim_mapping_id)id, CDF_D2D_INF, 8, 16, 4);
        compare_inputs(f, &x, 11, 37, 3, 2, 5, 2, 0, 1);
    }
}

/* Read disturb: the per-cell kernel's drifting cells (the host's drift table
 * per input), the refresh re-draws of both strategies, the PHYSICAL model,
 * and C2C, IR drop, stuck cells and tables on top, over reads 11 .. 18. */
static void test_disturb_off_matches_reference(void **state)
{
    every_mapping(state, DISTURB_OFF, 21, 29, 16, 12, 8, 2, 0, 1);
}

static void test_disturb_software_matches_reference(void **state)
{
    every_mapping(state, DISTURB_SOFT, 21, 29, 16, 12, 8, 2, 0, 0);
}

static void test_disturb_cell_based_matches_reference(void **state)
{
    every_mapping(state, DISTURB_CELL, 21, 29, 16, 12, 8, 2, 0, 1);
    every_mapping(state, DISTURB_LADDER, 21, 29, 16, 12, 8, 2, 0, 0);
}

/* The C2C column law: cim_program_g without the clip, the count table and
 * cim_read_column equal the reference's column-law read bit for bit, for
 * every mapping (one group: TNN_I, BNN_VI, ...; two: TNN_II/III, BNN_III/IV;
 * four: TNN_IV/V), ideal and finite ADCs, C2C alone, D2D tables under
 * Gaussian C2C, with the trace (column currents with their draws). */
static void test_column_law_matches_reference(void **state)
{
    every_mapping(state, COLUMN_INF, 37, 29, 16, 12, 4, 3, 0, 1);
    every_mapping(state, COLUMN_FINITE, 37, 29, 16, 12, 4, 2, 0, 1);
    every_mapping(state, COLUMN_C2C_ONLY, 21, 29, 16, 12, 3, 2, 0, 0);
    every_mapping(state, COLUMN_CDF_D2D, 21, 29, 16, 12, 3, 2, 0, 1);
    /* a tile of 300 inputs: more driven entries than one packed count word takes */
    every_mapping(state, COLUMN_INF, 5, 300, 4, 300, 2, 2, 0, 0);
}

/* Stuck-at faults under the column law: the count table per chip (a stuck
 * cell counts in its stuck state), in every batch size, shared and
 * per-trial inputs. */
static void test_column_law_stuck_at_faults_match_reference(void **state)
{
    fixture *f = *state;
    static const int32_t batches[] = {1, 2, 3, 0};
    every_mapping(state, COLUMN_SAF_INF, 37, 29, 16, 12, 4, 3, 0, 1);
    every_mapping(state, COLUMN_SAF_FINITE, 21, 29, 16, 12, 3, 5, 2, 0);
    if (!f->have_device)
        skip();
    for (size_t k = 0; k < sizeof batches / sizeof batches[0]; ++k)
        for (int id = 0; id < CIM_MAPPING_COUNT; id += 3) {
            cim_xbar x = make_xbar((cim_mapping_id)id, COLUMN_SAF_INF, 8, 16, 4);
            compare_inputs(f, &x, 11, 37, 3, 2, 5, batches[k], 0, 1);
        }
}

/* The column law over batches of 1, 2, 3, 7 and all, shared and per-trial
 * inputs, and bit-plane folds. */
static void test_column_law_batches_and_planes_match_reference(void **state)
{
    fixture *f = *state;
    static const int32_t batches[] = {1, 2, 3, 7, 0};
    static const variant variants[] = {COLUMN_INF, COLUMN_FINITE};
    for (size_t k = 0; k < sizeof batches / sizeof batches[0]; ++k)
        every_mapping(state, COLUMN_FINITE, 19, 40, 8, 16, 3, 7, batches[k], 0);
    for (size_t k = 0; k < sizeof variants / sizeof variants[0]; ++k)
        for (int id = 0; id < CIM_MAPPING_COUNT; id += 2)
            for (int per_trial = 0; per_trial <= 1; ++per_trial) {
                cim_xbar x = make_xbar((cim_mapping_id)id, variants[k], 8, 16, 4);
                compare_inputs(f, &x, 11, 37, 3, 2, 5, 2, 1, per_trial);
                compare_planes(f, &x, 11, 21, 24, 2, 5, 2, 0, per_trial, 8);
            }
}

/* The column law's draws matter and are its own: two trials differ, the
 * same chip read by the column law differs from its per-cell read (distinct
 * streams), and the reference's column-law read differs from its per-cell
 * read too (so the comparisons above compare the column law). */
static void test_column_law_differs_from_cells(void **state)
{
    fixture *f = *state;
    int8_t w[24 * 40], in[6 * 40];
    int32_t column[2 * 6 * 24], cell[2 * 6 * 24], plain[2 * 6 * 24];
    cim_test_rng r = cim_test_rng_init(__LINE__);
    cim_error err = {0, ""};
    if (!f->have_device)
        skip();
    cim_xbar x = make_xbar(CIM_TNN_II, COLUMN_INF, 8, 16, 4);
    cim_test_random_values(&r, x.mapping, w, sizeof w);
    cim_test_random_values(&r, x.mapping, in, sizeof in);
    cim_mvm_job job = {.xbar = &x,
                       .weights = w,
                       .rows = 24,
                       .cols = 40,
                       .inputs = in,
                       .n_inputs = 6,
                       .n_trials = 2};
    assert_int_equal(cim_engine_mvm(&f->ocl, &job, column, NULL, &err), 0);
    assert_memory_not_equal(column, column + 6 * 24, sizeof(int32_t) * 6 * 24);
    x.c2c_column = 0;
    assert_int_equal(cim_engine_mvm(&f->ocl, &job, cell, NULL, &err), 0);
    assert_memory_not_equal(column, cell, sizeof column);
    assert_int_equal(cim_reference_mvm(&x, w, 24, 40, in, 6, 0, 0, cell, NULL), 0);
    x.c2c_column = 1;
    assert_int_equal(cim_reference_mvm(&x, w, 24, 40, in, 6, 0, 0, plain, NULL), 0);
    assert_memory_equal(plain, column, sizeof(int32_t) * 6 * 24);
    assert_memory_not_equal(plain, cell, sizeof(int32_t) * 6 * 24);
}

/* The same trials computed in batches of 1, 2, 3 and all at once. */
static void test_results_independent_of_batch_size(void **state)
{
    static const int32_t batches[] = {1, 2, 3, 7};
    for (size_t k = 0; k < sizeof batches / sizeof batches[0]; ++k) {
        every_mapping(state, D2D_FINITE, 19, 40, 8, 16, 3, 7, batches[k], 0);
        every_mapping(state, D2D_C2C_INF, 9, 20, 8, 16, 2, 3, batches[k], 0);
    }
}

/* Each trial reading its own inputs (a network's later layers): every path,
 * batch sizes that split the trials unevenly. */
static void test_inputs_per_trial_match_reference(void **state)
{
    fixture *f = *state;
    static const variant variants[] = {DIGITAL, D2D_FINITE, D2D_INF, D2D_C2C_INF, NOISE_FREE_INF};
    if (!f->have_device)
        skip();
    for (size_t k = 0; k < sizeof variants / sizeof variants[0]; ++k) {
        for (int id = 0; id < CIM_MAPPING_COUNT; id += 3) {
            cim_xbar x = make_xbar((cim_mapping_id)id, variants[k], 8, 16, 4);
            compare_inputs(f, &x, 11, 37, 3, 2, 5, 2, variants[k] == D2D_FINITE, 1);
        }
    }
}

/* Bit-sliced inputs: 8 planes per vector folded on the device (analog) or the
 * host (digital) equal the reference's reads folded, for shared and per-trial
 * inputs and uneven batches; a job the fold cannot take is refused. */
static void test_bit_planes_fold_matches_reference(void **state)
{
    fixture *f = *state;
    static const variant variants[] = {DIGITAL, NOISE_FREE_INF, D2D_FINITE, D2D_INF, D2D_C2C_INF};
    if (!f->have_device)
        skip();
    for (size_t k = 0; k < sizeof variants / sizeof variants[0]; ++k)
        for (int id = 0; id < CIM_MAPPING_COUNT; id += 2)
            for (int per_trial = 0; per_trial <= 1; ++per_trial) {
                cim_xbar x = make_xbar((cim_mapping_id)id, variants[k], 8, 16, 4);
                compare_planes(f, &x, 11, 21, 24, 2, 5, 2, 0, per_trial, 8);
            }
    {
        cim_xbar x = make_xbar(CIM_TNN_I, D2D_INF, 8, 16, 4);
        int8_t w[4] = {1, 0, -1, 1}, in[12] = {0};
        int32_t out[12], cur[64];
        cim_mvm_trace trace = {cur, NULL, NULL};
        cim_error err = {0, ""};
        cim_mvm_job job = {.xbar = &x,
                           .weights = w,
                           .rows = 2,
                           .cols = 2,
                           .inputs = in,
                           .n_inputs = 6,
                           .n_trials = 1,
                           .input_planes = 4};
        assert_int_equal(cim_engine_mvm(&f->ocl, &job, out, NULL, &err), CIM_ERR_USAGE);
        assert_non_null(strstr(err.msg, "bit planes"));
        job.input_planes = 3;
        assert_int_equal(cim_engine_mvm(&f->ocl, &job, out, &trace, &err), CIM_ERR_USAGE);
        assert_int_equal(cim_engine_mvm(&f->ocl, &job, out, NULL, &err), 0);
    }
}

/* A trial replayed alone equals the same trial inside a larger run. */
static void test_trial_replay_matches_run(void **state)
{
    fixture *f = *state;
    int8_t w[12 * 30], in[4 * 30];
    int32_t all[9 * 4 * 12], one[4 * 12];
    cim_test_rng r = cim_test_rng_init(__LINE__);
    cim_error err = {0, ""};
    if (!f->have_device)
        skip();
    cim_xbar x = make_xbar(CIM_TNN_I, D2D_C2C_FINITE, 8, 16, 4);
    cim_test_random_values(&r, x.mapping, w, sizeof w);
    cim_test_random_values(&r, x.mapping, in, sizeof in);
    cim_mvm_job job = {.xbar = &x,
                       .weights = w,
                       .rows = 12,
                       .cols = 30,
                       .inputs = in,
                       .n_inputs = 4,
                       .trial_first = 100,
                       .n_trials = 9,
                       .max_batch_trials = 2};
    assert_int_equal(cim_engine_mvm(&f->ocl, &job, all, NULL, &err), 0);
    job.trial_first = 107;
    job.n_trials = 1;
    assert_int_equal(cim_engine_mvm(&f->ocl, &job, one, NULL, &err), 0);
    assert_memory_equal(one, all + 7 * 4 * 12, sizeof one);
}

/* Noise must matter: two trials of a noisy chip differ somewhere, so the
 * comparisons above are not comparing constants. */
static void test_trials_differ_with_noise(void **state)
{
    fixture *f = *state;
    int8_t w[32 * 64], in[8 * 64];
    int32_t out[2 * 8 * 32];
    cim_test_rng r = cim_test_rng_init(__LINE__);
    cim_error err = {0, ""};
    if (!f->have_device)
        skip();
    cim_xbar x = make_xbar(CIM_TNN_I, D2D_FINITE, 32, 64, 8);
    cim_test_random_values(&r, x.mapping, w, sizeof w);
    cim_test_random_values(&r, x.mapping, in, sizeof in);
    cim_mvm_job job = {.xbar = &x,
                       .weights = w,
                       .rows = 32,
                       .cols = 64,
                       .inputs = in,
                       .n_inputs = 8,
                       .n_trials = 2};
    assert_int_equal(cim_engine_mvm(&f->ocl, &job, out, NULL, &err), 0);
    assert_memory_not_equal(out, out + 8 * 32, sizeof(int32_t) * 8 * 32);
}

/* Finite ADCs at every level: with HRS 0 and LRS 1 nA column currents are
 * small integers, so ADC inputs land on every threshold and rounding tie of
 * ranges of a few dozen levels (the kernels' estimate-and-correct level
 * search must agree with the reference's exact division everywhere). */
static void test_finite_adc_levels_match_reference(void **state)
{
    fixture *f = *state;
    static const struct {
        int32_t bits;
        int64_t lo_na, hi_na;
    } ranges[] = {
        {4, -64, 64}, {5, -64, 64}, {6, -37, 53}, {7, -20, 20}, {8, 0, 64}, {3, 0, 7}, {5, 3, 40},
    };
    if (!f->have_device)
        skip();
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
        const cim_mapping_desc *d = cim_mapping_desc_of((cim_mapping_id)id);
        for (size_t k = 0; k < sizeof ranges / sizeof ranges[0]; ++k) {
            cim_xbar x = cim_test_xbar_inf((cim_mapping_id)id, 8, 64, 0, 1);
            int64_t lo = ranges[k].lo_na, hi = ranges[k].hi_na;
            if (d->signed_current && lo >= 0)
                lo = -hi;
            cim_test_set_adc(&x, d->signed_current ? CIM_ADC_SYM : CIM_ADC_POS, ranges[k].bits,
                             d->signed_current ? lo : (lo < 0 ? 0 : lo), hi);
            compare(f, &x, 13, 150, 24, 0, 1, 0, 0);
        }
    }
}

/* The kernels' lane-wise finite ADC (float estimate of the level, corrected
 * by the neighbouring thresholds) equals the reference's exact division at
 * and around every threshold of realistic ranges, where the estimate is
 * sometimes one level off in either direction. */
static void test_adc_lanes_match_division_at_every_threshold(void **state)
{
    fixture *f = *state;
    /* bits, lo, hi (nA): MAX ranges of 256-row crossbars at 5/30 µA and odd ones */
    static const struct {
        int32_t type, bits;
        int64_t lo_na, hi_na;
    } adcs[] = {
        {CIM_ADC_SYM, 5, -256 * 25000LL, 256 * 25000LL},
        {CIM_ADC_SYM, 8, -256 * 25000LL, 256 * 25000LL},
        {CIM_ADC_POS, 4, 0, 256 * 30000LL},
        {CIM_ADC_POS, 16, 0, 256 * 30000LL},
        {CIM_ADC_SYM, 7, -1234567, 7654321},
        {CIM_ADC_POS, 11, 333, 9876543},
        {CIM_ADC_SYM, 3, -7, 7},
        {CIM_ADC_POS, 1, 0, 5},
    };
    if (!f->have_device)
        skip();
    for (size_t c = 0; c < sizeof adcs / sizeof adcs[0]; ++c) {
        cim_xbar x = cim_test_xbar_inf(CIM_TNN_I, 1, 1, 5000, 30000);
        cim_test_set_adc(&x, adcs[c].type, adcs[c].bits, adcs[c].lo_na, adcs[c].hi_na);
        const cim_column_params *p = &x.column;
        const size_t len = (size_t)cim_adc_table_len(p);
        int64_t *table = malloc(sizeof(int64_t) * len);
        cim_adc_table_build(p, table);
        /* j2 at every threshold -3..+3, and beyond both ends */
        const size_t per = 7, n_raw = (size_t)p->adc_steps * per + 4;
        const size_t n = (n_raw + 15) / 16 * 16;
        int64_t *j2 = malloc(sizeof(int64_t) * n), *got = malloc(sizeof(int64_t) * n);
        size_t at = 0;
        for (int64_t l = 0; l < p->adc_steps; ++l)
            for (int64_t dlt = -3; dlt <= 3; ++dlt)
                j2[at++] = table[l] + dlt;
        j2[at++] = p->adc_lo2 - 1000;
        j2[at++] = p->adc_lo2;
        j2[at++] = p->adc_hi2;
        j2[at++] = p->adc_hi2 + 1000;
        while (at < n)
            j2[at++] = p->adc_hi2;
        for (int k = 1; k <= 2; ++k) {
            cl_int st;
            cl_kernel kern = NULL;
            assert_int_equal(cim_ocl_kernel(&f->ocl, "cim_adc_probe", &kern, NULL), 0);
            cl_mem bcp = clCreateBuffer(f->ocl.context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                                        sizeof *p, (void *)p, &st);
            cl_mem btab = clCreateBuffer(f->ocl.context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                                         sizeof(int64_t) * len, table, &st);
            cl_mem bj = clCreateBuffer(f->ocl.context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                                       sizeof(int64_t) * n, j2, &st);
            cl_mem bout =
                clCreateBuffer(f->ocl.context, CL_MEM_WRITE_ONLY, sizeof(int64_t) * n, NULL, &st);
            cl_int kk = k;
            size_t global = n / (size_t)f->ocl.vector_width;
            clSetKernelArg(kern, 0, sizeof bcp, &bcp);
            clSetKernelArg(kern, 1, sizeof btab, &btab);
            clSetKernelArg(kern, 2, sizeof bj, &bj);
            clSetKernelArg(kern, 3, sizeof kk, &kk);
            clSetKernelArg(kern, 4, sizeof bout, &bout);
            assert_int_equal(
                clEnqueueNDRangeKernel(f->ocl.queue, kern, 1, NULL, &global, NULL, 0, NULL, NULL),
                CL_SUCCESS);
            assert_int_equal(clEnqueueReadBuffer(f->ocl.queue, bout, CL_TRUE, 0,
                                                 sizeof(int64_t) * n, got, 0, NULL, NULL),
                             CL_SUCCESS);
            for (size_t i = 0; i < n; ++i)
                if (got[i] != cim_adc_convert(p, j2[i], k))
                    fail_msg("ADC %zu (%d bits), k %d, j2 %lld: kernel %lld, reference %lld", c,
                             adcs[c].bits, k, (long long)j2[i], (long long)got[i],
                             (long long)cim_adc_convert(p, j2[i], k));
            clReleaseMemObject(bcp);
            clReleaseMemObject(btab);
            clReleaseMemObject(bj);
            clReleaseMemObject(bout);
        }
        free(table);
        free(j2);
        free(got);
    }
}

/* The kernels' lane-wise rounded division (the ideal ADC's recombination)
 * equals cim_div_round at and around every rounding tie, both signs, even and
 * odd denominators, up to quotients of 2^20. */
static void test_div_round_lanes_match_reference(void **state)
{
    fixture *f = *state;
    static const int64_t dens[] = {1, 2, 3, 50000, 49999, 1234567, 2 * 25000};
    enum { PER = 16, N = 2 * 64 * PER };
    int64_t num[N], got[N];
    if (!f->have_device)
        skip();
    for (size_t c = 0; c < sizeof dens / sizeof dens[0]; ++c) {
        const int64_t den = dens[c];
        size_t at = 0;
        /* quotients spread over +-2^20, numerators at q*den + den/2 + (-3..+3)
         * (the ties for even den), at q*den, and odd offsets */
        for (int64_t k = 0; k < 64; ++k) {
            const int64_t q = (k - 32) * 32768 + k;
            for (int64_t dl = -3; dl <= 3; ++dl)
                num[at++] = q * den + den / 2 + dl;
            for (int64_t dl = -4; dl <= 4; ++dl)
                num[at++] = q * den + dl;
            for (int64_t dl = 0; dl < 2 * PER - 16; ++dl)
                num[at++] = -q * den - den / 2 + dl - 1;
        }
        assert_int_equal(at, N);
        cl_int st;
        cl_kernel kern = NULL;
        assert_int_equal(cim_ocl_kernel(&f->ocl, "cim_div_probe", &kern, NULL), 0);
        cl_mem bn = clCreateBuffer(f->ocl.context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                                   sizeof num, num, &st);
        cl_mem bo = clCreateBuffer(f->ocl.context, CL_MEM_WRITE_ONLY, sizeof got, NULL, &st);
        cl_long dd = den;
        size_t global = N / (size_t)f->ocl.vector_width;
        clSetKernelArg(kern, 0, sizeof bn, &bn);
        clSetKernelArg(kern, 1, sizeof dd, &dd);
        clSetKernelArg(kern, 2, sizeof bo, &bo);
        assert_int_equal(
            clEnqueueNDRangeKernel(f->ocl.queue, kern, 1, NULL, &global, NULL, 0, NULL, NULL),
            CL_SUCCESS);
        assert_int_equal(
            clEnqueueReadBuffer(f->ocl.queue, bo, CL_TRUE, 0, sizeof got, got, 0, NULL, NULL),
            CL_SUCCESS);
        for (size_t i = 0; i < N; ++i)
            if (got[i] != cim_div_round(num[i], den))
                fail_msg("den %lld, num %lld: kernel %lld, reference %lld", (long long)den,
                         (long long)num[i], (long long)got[i],
                         (long long)cim_div_round(num[i], den));
        clReleaseMemObject(bn);
        clReleaseMemObject(bo);
    }
}

/* Kernels loaded from the source folder (CIMGPU_KERNEL_DIR, for kernel
 * development) compute what the embedded copy computes. */
static void test_kernel_dir_matches_embedded(void **state)
{
    fixture *f = *state;
    cim_ocl dev;
    int8_t w[20 * 50], in[3 * 50];
    int32_t embedded[2 * 3 * 20], from_dir[2 * 3 * 20];
    cim_test_rng r = cim_test_rng_init(__LINE__);
    cim_error err = {0, ""};
    if (!f->have_device)
        skip();
    cim_xbar x = make_xbar(CIM_TNN_IV, D2D_FINITE, 8, 16, 5);
    cim_test_random_values(&r, x.mapping, w, sizeof w);
    cim_test_random_values(&r, x.mapping, in, sizeof in);
    cim_mvm_job job = {.xbar = &x,
                       .weights = w,
                       .rows = 20,
                       .cols = 50,
                       .inputs = in,
                       .n_inputs = 3,
                       .n_trials = 2};
    assert_int_equal(cim_engine_mvm(&f->ocl, &job, embedded, NULL, &err), 0);
    setenv("CIMGPU_KERNEL_DIR", CIM_SOURCE_DIR "/kernels", 1);
    int rc = cim_ocl_open(&dev, NULL, &err);
    unsetenv("CIMGPU_KERNEL_DIR");
    if (rc != 0)
        fail_msg("building from CIMGPU_KERNEL_DIR failed: %s", err.msg);
    assert_int_equal(cim_engine_mvm(&dev, &job, from_dir, NULL, &err), 0);
    cim_ocl_close(&dev);
    assert_memory_equal(embedded, from_dir, sizeof embedded);
}

/* Structs shared through buffers have the same size on host and device. */
static void test_shared_struct_layout(void **state)
{
    fixture *f = *state;
    cl_int st;
    cl_long sizes[4] = {0, 0, 0, 0};
    if (!f->have_device)
        skip();
    cl_kernel k = NULL;
    assert_int_equal(cim_ocl_kernel(&f->ocl, "cim_layout_probe", &k, NULL), 0);
    cl_mem buf = clCreateBuffer(f->ocl.context, CL_MEM_WRITE_ONLY, sizeof sizes, NULL, &st);
    assert_int_equal(st, CL_SUCCESS);
    size_t one = 1;
    assert_int_equal(clSetKernelArg(k, 0, sizeof buf, &buf), CL_SUCCESS);
    assert_int_equal(clEnqueueNDRangeKernel(f->ocl.queue, k, 1, NULL, &one, NULL, 0, NULL, NULL),
                     CL_SUCCESS);
    assert_int_equal(
        clEnqueueReadBuffer(f->ocl.queue, buf, CL_TRUE, 0, sizeof sizes, sizes, 0, NULL, NULL),
        CL_SUCCESS);
    assert_int_equal(sizes[0], sizeof(cim_launch_params));
    assert_int_equal(sizes[1], sizeof(cim_column_params));
    assert_int_equal(sizes[2], sizeof(cim_mapping_desc));
    assert_int_equal(sizes[3], sizeof(cim_layer_launch));
    clReleaseMemObject(buf);
}

#define KERNEL_TESTS                                                                               \
    cmocka_unit_test(test_shared_struct_layout), cmocka_unit_test(test_digital_matches_reference), \
        cmocka_unit_test(test_noise_free_inf_matches_reference),                                   \
        cmocka_unit_test(test_d2d_inf_adc_matches_reference),                                      \
        cmocka_unit_test(test_d2d_finite_adc_matches_reference),                                   \
        cmocka_unit_test(test_d2d_c2c_inf_matches_reference),                                      \
        cmocka_unit_test(test_d2d_c2c_finite_matches_reference),                                   \
        cmocka_unit_test(test_c2c_only_matches_reference),                                         \
        cmocka_unit_test(test_ladder_inf_matches_reference),                                       \
        cmocka_unit_test(test_ladder_finite_matches_reference),                                    \
        cmocka_unit_test(test_ladder_c2c_matches_reference),                                       \
        cmocka_unit_test(test_disturb_off_matches_reference),                                      \
        cmocka_unit_test(test_disturb_software_matches_reference),                                 \
        cmocka_unit_test(test_disturb_cell_based_matches_reference),                               \
        cmocka_unit_test(test_stuck_at_faults_match_reference),                                    \
        cmocka_unit_test(test_device_tables_match_reference),                                      \
        cmocka_unit_test(test_column_law_matches_reference),                                       \
        cmocka_unit_test(test_column_law_stuck_at_faults_match_reference),                         \
        cmocka_unit_test(test_column_law_batches_and_planes_match_reference),                      \
        cmocka_unit_test(test_column_law_differs_from_cells),                                      \
        cmocka_unit_test(test_results_independent_of_batch_size),                                  \
        cmocka_unit_test(test_trial_replay_matches_run),                                           \
        cmocka_unit_test(test_inputs_per_trial_match_reference),                                   \
        cmocka_unit_test(test_bit_planes_fold_matches_reference),                                  \
        cmocka_unit_test(test_trials_differ_with_noise),                                           \
        cmocka_unit_test(test_finite_adc_levels_match_reference),                                  \
        cmocka_unit_test(test_adc_lanes_match_division_at_every_threshold),                        \
        cmocka_unit_test(test_div_round_lanes_match_reference),                                    \
        cmocka_unit_test(test_kernel_dir_matches_embedded)

int main(void)
{
    const struct CMUnitTest tests[] = {KERNEL_TESTS};
    /* The device's own launch style (on a CPU: 16 columns per work-item,
     * blocked layout, several inputs per work-item) and the GPU style (one
     * column per work-item, columns-fastest layout, driver-chosen groups)
     * must give the same bits: run everything under both. */
    int failed = cmocka_run_group_tests_name("kernels_device_style", tests, setup_default,
                                             cim_test_device_teardown);
    failed += cmocka_run_group_tests_name("kernels_gpu_style", tests, setup_gpu_style,
                                          cim_test_device_teardown);
    return failed;
}
