/* test_variability.c -- D2D and C2C variability in the reference MVM
 * (docs/semantics.md, Variability; mapping/cim_reference.c).
 *
 * Statistical checks compare the column currents of the trace
 * (cim_mvm_trace.current) with their analytic distribution. For conversion j
 * of output m, each driven term adds sign * c of one physical cell, with
 * c = mu(state) + eps and eps = round(sigma_state * z), z ~ N(0,1) from the
 * Philox-fed sampler, so (clipping aside)
 *     E[I]   = sum over driven terms of sign * mu(state)
 *     Var[I] = sum over driven cells of (sigma_state^2 + 1/12)
 * where 1/12 nA^2 is the variance the rounding to whole nA adds (Sheppard's
 * correction, exact to 1e-8 for sigma >= 1 nA; checked directly in
 * test_deviate_rounding_adds_one_twelfth). Each estimate must lie within 5
 * standard errors: sqrt(Var/n) for a mean, Var * sqrt(2/(n-1)) for a
 * variance (the column current is a sum of Gaussians). For a correct
 * implementation one check fails with probability 5.7e-7; the ~600 checks
 * here together with probability ~3e-4. The draws are keyed by fixed seeds,
 * so every run sees the same samples and the same verdict.
 *
 * Sigmas: HRS 5 µA with sigma 1 µA, LRS 30 µA with sigma 3 µA: clipping at 0
 * needs 5 (HRS) or 10 (LRS) sigma, probability <= 2.9e-7 per cell, and shifts
 * a mean by < 1e-7 sigma -- negligible. The clipping test then takes sigma =
 * 16 µA at HRS = 5 µA, where a third of the cells clip.
 *
 * Exact checks: the D2D sample is a function of (seed, trial) only; C2C of
 * (seed, trial, input) only, shared by every read of one input.
 */
#include "cim_test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cim_reference.h"
#include "cim_rng.h"

#define HRS_NA 5000
#define LRS_NA 30000
#define HRS_SIGMA_NA 1000
#define LRS_SIGMA_NA 3000
#define ROUNDING_VAR (1.0 / 12.0) /* nA^2 per cell: variance of the rounding to whole nA */

/* One tile: 6 outputs x 16 inputs on a 6 x 16 crossbar. */
#define ROWS 6
#define COLS 16
#define N_TRIALS 4000 /* D2D samples */
#define N_READS 4000  /* C2C samples: inputs of one trial */

typedef struct fixture {
    int8_t w[ROWS * COLS];
    int8_t x[COLS];
} fixture;

/* Random weights and one random input of the mapping's alphabet. */
static fixture make_fixture(cim_mapping_id id, uint64_t seed)
{
    fixture f;
    cim_test_rng rng = cim_test_rng_init(seed);
    cim_test_random_values(&rng, id, f.w, sizeof f.w);
    cim_test_random_values(&rng, id, f.x, sizeof f.x);
    return f;
}

/* n copies of the fixture's input vector, as n inputs of one batch. */
static void repeat_input(const fixture *f, int8_t *in, int n)
{
    for (int i = 0; i < n; ++i)
        memcpy(in + (size_t)i * COLS, f->x, COLS);
}

static cim_xbar noisy_xbar(cim_mapping_id id, int d2d, int c2c)
{
    cim_xbar x = cim_test_xbar_inf(id, ROWS, COLS, HRS_NA, LRS_NA);
    x.seed = 0xd2dc2c;
    x.layer = 2;
    if (d2d) {
        x.d2d_sigma_na[CIM_STATE_HRS] = HRS_SIGMA_NA;
        x.d2d_sigma_na[CIM_STATE_LRS] = LRS_SIGMA_NA;
    }
    if (c2c) {
        x.c2c_sigma_na[CIM_STATE_HRS] = HRS_SIGMA_NA;
        x.c2c_sigma_na[CIM_STATE_LRS] = LRS_SIGMA_NA;
    }
    return x;
}

/* Analytic mean and variance of conversion j's column current for output m.
 * `sigma2` is the per-state variance of one cell (nA^2). A cell read by two
 * terms of one conversion would count with its combined coefficient. */
static void analytic_current(const cim_xbar *xb, const fixture *f, int j, int m,
                             const double sigma2[2], double *mean, double *var)
{
    const cim_mapping_desc *d = cim_mapping_desc_of(xb->mapping);
    *mean = 0;
    *var = 0;
    for (int n = 0; n < COLS; ++n) {
        int coef[CIM_MAX_SLOTS] = {0};
        for (int t = 0; t < d->conv[j].n_terms; ++t)
            if (cim_mapping_drive(xb->mapping, d->conv[j].terms[t].drive, f->x[n]))
                coef[d->conv[j].terms[t].slot] += d->conv[j].terms[t].sign;
        for (int s = 0; s < d->n_slots; ++s) {
            int st = cim_mapping_cell_state(xb->mapping, s, f->w[m * COLS + n]);
            *mean += coef[s] * (double)xb->current_na[st];
            *var += coef[s] * coef[s] * sigma2[st];
        }
    }
}

/* Running sums of the trace currents, per (conversion, output). */
typedef struct moments {
    double n, sum[CIM_MAX_CONVS][ROWS], sum2[CIM_MAX_CONVS][ROWS];
} moments;

static void add_trace(moments *mo, const int32_t *cur, int n_convs, int n_inputs)
{
    for (int i = 0; i < n_inputs; ++i) {
        for (int j = 0; j < n_convs; ++j)
            for (int m = 0; m < ROWS; ++m) {
                double c = cur[((size_t)i * n_convs + j) * ROWS + m];
                mo->sum[j][m] += c;
                mo->sum2[j][m] += c * c;
            }
        mo->n += 1;
    }
}

/* Runs one input per trial over N_TRIALS trials (chips) and adds the column
 * currents to *mo. `input_is_trial`: key the input index by the trial too,
 * so that with C2C on neither stream repeats; else every trial reads input 0. */
static void add_trials(const cim_xbar *xb, const fixture *f, int input_is_trial, moments *mo)
{
    const int nc = cim_mapping_desc_of(xb->mapping)->n_convs;
    int32_t out[ROWS], cur[CIM_MAX_CONVS * ROWS];
    cim_mvm_trace tr = {cur, NULL, NULL};
    for (uint32_t t = 0; t < N_TRIALS; ++t) {
        const uint32_t input = input_is_trial ? t : 0;
        assert_int_equal(cim_reference_mvm(xb, f->w, ROWS, COLS, f->x, 1, input, t, out, &tr), 0);
        add_trace(mo, cur, nc, 1);
    }
}

/* Compares every (conversion, output) with the analytic mean and variance. */
static void check_moments(const cim_xbar *xb, const fixture *f, const moments *mo,
                          const double sigma2[2], const char *what)
{
    const cim_mapping_desc *d = cim_mapping_desc_of(xb->mapping);
    for (int j = 0; j < d->n_convs; ++j) {
        for (int m = 0; m < ROWS; ++m) {
            double mean_a, var_a;
            analytic_current(xb, f, j, m, sigma2, &mean_a, &var_a);
            double mean = mo->sum[j][m] / mo->n;
            double var = (mo->sum2[j][m] - mo->n * mean * mean) / (mo->n - 1);
            double se_mean = sqrt(var_a / mo->n), se_var = var_a * sqrt(2.0 / (mo->n - 1));
            if (fabs(mean - mean_a) > 5 * se_mean || fabs(var - var_a) > 5 * se_var)
                print_error("%s %s, conversion %d, output %d: mean %.1f (analytic %.1f +- %.1f), "
                            "variance %.0f (analytic %.0f +- %.0f)\n",
                            cim_mapping_name(xb->mapping), what, j, m, mean, mean_a, 5 * se_mean,
                            var, var_a, 5 * se_var);
            CIM_ASSERT_NEAR(mean, mean_a, 5 * se_mean);
            CIM_ASSERT_NEAR(var, var_a, 5 * se_var);
        }
    }
}

/* Variance of one cell's current by state (nA^2): sigma^2 plus rounding. */
#define HRS_CELL_VAR ((double)HRS_SIGMA_NA * HRS_SIGMA_NA + ROUNDING_VAR)
#define LRS_CELL_VAR ((double)LRS_SIGMA_NA * LRS_SIGMA_NA + ROUNDING_VAR)
static const double CELL_VAR[2] = {HRS_CELL_VAR, LRS_CELL_VAR};

/* D2D: one input, N_TRIALS chips. Every mapping, every conversion, every
 * output column. */
static void test_d2d_column_current_mean_and_variance(void **state)
{
    (void)state;
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
        const fixture f = make_fixture((cim_mapping_id)id, 0xd2d0 + id);
        const cim_xbar xb = noisy_xbar((cim_mapping_id)id, 1, 0);
        static moments mo;
        memset(&mo, 0, sizeof mo);
        add_trials(&xb, &f, 0, &mo);
        check_moments(&xb, &f, &mo, CELL_VAR, "D2D");
    }
}

/* C2C: one trial, N_READS inputs that are all the same vector, D2D off: the
 * spread across inputs is C2C alone. */
static void test_c2c_column_current_mean_and_variance(void **state)
{
    (void)state;
    int8_t *in = malloc((size_t)N_READS * COLS);
    int32_t *out = malloc(sizeof(int32_t) * N_READS * ROWS);
    int32_t *cur = malloc(sizeof(int32_t) * N_READS * CIM_MAX_CONVS * ROWS);
    assert_non_null(in);
    assert_non_null(out);
    assert_non_null(cur);
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
        const fixture f = make_fixture((cim_mapping_id)id, 0xc2c0 + id);
        const cim_xbar xb = noisy_xbar((cim_mapping_id)id, 0, 1);
        const int nc = cim_mapping_desc_of((cim_mapping_id)id)->n_convs;
        repeat_input(&f, in, N_READS);
        cim_mvm_trace tr = {cur, NULL, NULL};
        assert_int_equal(cim_reference_mvm(&xb, f.w, ROWS, COLS, in, N_READS, 0, 5, out, &tr), 0);
        static moments mo;
        memset(&mo, 0, sizeof mo);
        add_trace(&mo, cur, nc, N_READS);
        check_moments(&xb, &f, &mo, CELL_VAR, "C2C");
    }
    free(in);
    free(out);
    free(cur);
}

/* D2D and C2C together, one input per trial over N_TRIALS trials: the two
 * independent deviations add, so each cell contributes
 * sigma_d2d^2 + sigma_c2c^2 + 2/12 (each deviation is rounded separately).
 * C2C here has its own sigmas (2 µA HRS, 4 µA LRS), different from D2D, so a
 * swap of the two sigma sets would show. TNN_I and TNN_IV. */
static void test_d2d_and_c2c_variances_add(void **state)
{
    (void)state;
    static const cim_mapping_id ids[] = {CIM_TNN_I, CIM_TNN_IV};
    const double c2c_sigma[2] = {2000, 4000};
    const double var2[2] = {CELL_VAR[0] + c2c_sigma[0] * c2c_sigma[0] + ROUNDING_VAR,
                            CELL_VAR[1] + c2c_sigma[1] * c2c_sigma[1] + ROUNDING_VAR};
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; ++k) {
        const fixture f = make_fixture(ids[k], 0xadd0 + k);
        cim_xbar xb = noisy_xbar(ids[k], 1, 1);
        xb.c2c_sigma_na[CIM_STATE_HRS] = (int32_t)c2c_sigma[0];
        xb.c2c_sigma_na[CIM_STATE_LRS] = (int32_t)c2c_sigma[1];
        static moments mo;
        memset(&mo, 0, sizeof mo);
        add_trials(&xb, &f, 1, &mo); /* input index = trial, so neither stream repeats */
        check_moments(&xb, &f, &mo, var2, "D2D+C2C");
    }
}

/* Var(round(sigma z)) for sigma = 1 nA over 2^22 Philox-fed deviates equals
 * the exact sum_k k^2 P(round(Z) = k) = 1.0833333 (1 + 1/12 to 1e-8), within
 * 5 standard errors sqrt(Var(r^2)/n) = sqrt(2.3389/n) = 7.5e-4; without the
 * rounding term it would be 1.0, 111 standard errors away. (Values from
 * mpmath sums over k = -60..60.) */
static void test_deviate_rounding_adds_one_twelfth(void **state)
{
    (void)state;
    const uint32_t n_cells = 1u << 20;
    double s2 = 0;
    for (uint32_t cell = 0; cell < n_cells; ++cell) {
        int32_t z[4];
        cim_rng_normals4(0x12, CIM_RNG_D2D, 0, 0, 0, 0, cell, z);
        for (int i = 0; i < 4; ++i) {
            double r = cim_scale_deviate(1, z[i]);
            s2 += r * r;
        }
    }
    const double n = 4.0 * n_cells;
    double exact = 0, exact4 = 0;
    for (int k = -40; k <= 40; ++k) {
        double p = cim_test_normal_cdf(k + 0.5) - cim_test_normal_cdf(k - 0.5);
        exact += (double)k * k * p;
        exact4 += (double)k * k * k * k * p;
    }
    CIM_ASSERT_NEAR(exact, 1.0 + ROUNDING_VAR, 1e-7);
    CIM_ASSERT_NEAR(s2 / n, exact, 5 * sqrt((exact4 - exact * exact) / n));
}

/* ---- reproducibility and keying ---- */

/* The programmed currents of a tile are a function of (seed, trial): the
 * same trial twice gives the same bits, another trial or another seed a new
 * chip (almost every cell differs: two deviates agree with probability
 * ~1/(2 sqrt(pi) sigma) ~ 3e-4 at sigma = 1 µA). */
static void test_d2d_sample_is_keyed_by_seed_and_trial(void **state)
{
    (void)state;
    const fixture f = make_fixture(CIM_TNN_I, 0x5a3e);
    cim_xbar xb = noisy_xbar(CIM_TNN_I, 1, 0);
    const size_t n = (size_t)CIM_MAX_SLOTS * ROWS * COLS;
    int32_t a[CIM_MAX_SLOTS * ROWS * COLS], b[CIM_MAX_SLOTS * ROWS * COLS];
    int32_t c[CIM_MAX_SLOTS * ROWS * COLS], e[CIM_MAX_SLOTS * ROWS * COLS];
    cim_reference_program_tile(&xb, f.w, ROWS, COLS, 0, 0, 0, 7, a);
    cim_reference_program_tile(&xb, f.w, ROWS, COLS, 0, 0, 0, 8, c);
    cim_reference_program_tile(&xb, f.w, ROWS, COLS, 0, 0, 0, 7, b);
    assert_memory_equal(a, b, sizeof(int32_t) * n);
    xb.seed ^= 1;
    cim_reference_program_tile(&xb, f.w, ROWS, COLS, 0, 0, 0, 7, e);
    const int cells = 4 * ROWS * COLS; /* TNN_I: 4 slots per weight */
    int same_trial = 0, same_seed = 0;
    for (int k = 0; k < cells; ++k) {
        same_trial += a[k] == c[k];
        same_seed += a[k] == e[k];
    }
    assert_true(same_trial < cells / 20);
    assert_true(same_seed < cells / 20);
    /* Nominal currents plus deviations: every cell lies within 6 sigma of the
     * HRS..LRS span (a 6-sigma excursion has probability 2e-9 per cell). */
    for (int k = 0; k < cells; ++k)
        assert_true(a[k] > HRS_NA - 6 * HRS_SIGMA_NA && a[k] < LRS_NA + 6 * LRS_SIGMA_NA);
}

/* One trial's D2D sample is shared by all its inputs: with D2D on and C2C off,
 * the same input vector read as input 0 and input 1 gives identical column
 * currents, and running the trial again gives identical results. */
static void test_d2d_shared_by_all_inputs_of_a_trial(void **state)
{
    (void)state;
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
        const fixture f = make_fixture((cim_mapping_id)id, 0x5a3f + id);
        const cim_xbar xb = noisy_xbar((cim_mapping_id)id, 1, 0);
        const int nc = cim_mapping_desc_of((cim_mapping_id)id)->n_convs;
        int8_t in[2 * COLS];
        repeat_input(&f, in, 2);
        int32_t out[2 * ROWS], out2[2 * ROWS], cur[2 * CIM_MAX_CONVS * ROWS],
            cur2[2 * CIM_MAX_CONVS * ROWS];
        cim_mvm_trace tr = {cur, NULL, NULL}, tr2 = {cur2, NULL, NULL};
        assert_int_equal(cim_reference_mvm(&xb, f.w, ROWS, COLS, in, 2, 0, 11, out, &tr), 0);
        assert_memory_equal(cur, cur + nc * ROWS, sizeof(int32_t) * nc * ROWS);
        assert_int_equal(cim_reference_mvm(&xb, f.w, ROWS, COLS, in, 2, 0, 11, out2, &tr2), 0);
        assert_memory_equal(out, out2, sizeof out);
        assert_memory_equal(cur, cur2, sizeof(int32_t) * 2 * nc * ROWS);
    }
}

/* C2C depends on the input index and nothing else: the same vector as input 0
 * and input 1 reads differently; input 3 of a batch of 5 reads exactly as the
 * same vector keyed as input 3 alone (input_first = 3), so no deviation is
 * carried from one read to the next. */
static void test_c2c_keyed_by_input_index(void **state)
{
    (void)state;
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
        const fixture f = make_fixture((cim_mapping_id)id, 0xc2c5 + id);
        const cim_xbar xb = noisy_xbar((cim_mapping_id)id, 1, 1);
        const int nc = cim_mapping_desc_of((cim_mapping_id)id)->n_convs;
        enum { B = 5 };
        int8_t in[B * COLS];
        repeat_input(&f, in, B);
        int32_t out[B * ROWS], cur[B * CIM_MAX_CONVS * ROWS];
        int32_t out1[ROWS], cur1[CIM_MAX_CONVS * ROWS];
        cim_mvm_trace tr = {cur, NULL, NULL}, tr1 = {cur1, NULL, NULL};
        assert_int_equal(cim_reference_mvm(&xb, f.w, ROWS, COLS, in, B, 0, 2, out, &tr), 0);
        assert_int_equal(cim_reference_mvm(&xb, f.w, ROWS, COLS, f.x, 1, 3, 2, out1, &tr1), 0);
        assert_memory_equal(cur + 3 * nc * ROWS, cur1, sizeof(int32_t) * nc * ROWS);
        assert_memory_equal(out + 3 * ROWS, out1, sizeof out1);
        /* Inputs 0 and 1: at least one driven column current differs (every
         * fixture drives some cell of every output: a column current is a sum
         * of several cells, equal only by a 1-in-10^3 coincidence). */
        int differ = 0;
        for (int k = 0; k < nc * ROWS; ++k)
            differ += cur[k] != cur[nc * ROWS + k];
        assert_true(differ > 0);
    }
}

/* TNN_II reads its cells twice per input: I0 with d0 = [x != 0], I1 with
 * d1 = [x = -1]. For x = -1 everywhere both reads drive every row, so
 * I0 == I1 exactly if and only if both reads see the same C2C deviation of
 * each cell (independent draws per read would make them differ). Also each
 * input gets a fresh deviation: I0 changes from input to input. */
static void test_c2c_shared_by_all_reads_of_one_input(void **state)
{
    (void)state;
    enum { B = 64 };
    const fixture f = make_fixture(CIM_TNN_II, 0x7e11);
    for (int d2d = 0; d2d <= 1; ++d2d) {
        const cim_xbar xb = noisy_xbar(CIM_TNN_II, d2d, 1);
        int8_t in[B * COLS];
        cim_test_fill(in, sizeof in, -1);
        int32_t out[B * ROWS], cur[B * 2 * ROWS];
        cim_mvm_trace tr = {cur, NULL, NULL};
        assert_int_equal(cim_reference_mvm(&xb, f.w, ROWS, COLS, in, B, 0, 1, out, &tr), 0);
        int changes = 0;
        for (int i = 0; i < B; ++i)
            for (int m = 0; m < ROWS; ++m) {
                int32_t i0 = cur[(i * 2 + 0) * ROWS + m], i1 = cur[(i * 2 + 1) * ROWS + m];
                CIM_ASSERT_I64_EQ(i0, i1);
                if (i > 0)
                    changes += i0 != cur[((i - 1) * 2 + 0) * ROWS + m];
            }
        /* Consecutive inputs agree only by coincidence (~1e-3 each). */
        assert_true(changes > (B - 1) * ROWS * 9 / 10);
    }
}

/* ---- clipping ---- */

/* Exact: with D2D only, every column current of cim_reference_mvm equals the
 * signed sum, over the driven terms, of max(0, programmed current) from
 * cim_reference_program_tile for the same tile and trial. Sigma 16 µA at
 * HRS 5 µA, so about a third of the HRS cells clip. Runs on a 37 x 29 matrix
 * of 16 x 12 tiles, so the tile index and in-tile cell index keys of the two
 * functions must agree for ragged tiles too. */
static void test_read_sums_clipped_programmed_currents(void **state)
{
    (void)state;
    enum { R = 37, C = 29, XM = 16, XN = 12, TM = 3, TN = 3 };
    static int8_t w[R * C], x[C];
    static int32_t raw[CIM_MAX_SLOTS * XM * XN], cur[TN * CIM_MAX_CONVS * R], out[R];
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
        const cim_mapping_desc *d = cim_mapping_desc_of((cim_mapping_id)id);
        cim_test_rng rng = cim_test_rng_init(0xc1a0 + id);
        cim_test_random_values(&rng, (cim_mapping_id)id, w, sizeof w);
        cim_test_random_values(&rng, (cim_mapping_id)id, x, sizeof x);
        cim_xbar xb = cim_test_xbar_inf((cim_mapping_id)id, XM, XN, HRS_NA, LRS_NA);
        xb.seed = 0xc1a9;
        xb.d2d_sigma_na[CIM_STATE_HRS] = 16000;
        xb.d2d_sigma_na[CIM_STATE_LRS] = 16000;
        cim_mvm_trace tr = {cur, NULL, NULL};
        assert_int_equal(cim_reference_mvm(&xb, w, R, C, x, 1, 0, 9, out, &tr), 0);
        int clipped = 0;
        for (int tm = 0; tm < TM; ++tm)
            for (int tn = 0; tn < TN; ++tn) {
                const int m0 = tm * XM, n0 = tn * XN;
                cim_reference_program_tile(&xb, w, R, C, tm * TN + tn, m0, n0, 9, raw);
                for (int m = m0; m < R && m < m0 + XM; ++m)
                    for (int j = 0; j < d->n_convs; ++j) {
                        int64_t want = 0;
                        for (int n = n0; n < C && n < n0 + XN; ++n)
                            for (int t = 0; t < d->conv[j].n_terms; ++t) {
                                const cim_term *tt = &d->conv[j].terms[t];
                                if (!cim_mapping_drive((cim_mapping_id)id, tt->drive, x[n]))
                                    continue;
                                int32_t c = raw[(tt->slot * XM + (m - m0)) * XN + (n - n0)];
                                clipped += c < 0;
                                want += tt->sign * (c < 0 ? 0 : c);
                            }
                        CIM_ASSERT_I64_EQ(cur[(tn * d->n_convs + j) * R + m], want);
                    }
            }
        assert_true(clipped > 0); /* the case under test really occurs */
    }
}

/* HRS = 5 µA with D2D sigma 16 µA: a cell's programmed current X ~ N(5000,
 * 16000^2) nA is clipped to Y = max(0, X) when read. With a = mu / sigma =
 * 0.3125:
 *   P(X < 0) = Phi(-a)                        = 0.3773303
 *   E[Y]     = mu Phi(a) + sigma phi(a)       = 9192.238 nA (bias +4192 nA)
 *   E[Y^2]   = (mu^2 + sigma^2) Phi(a) + mu sigma phi(a)
 *   Var[Y]   = E[Y^2] - E[Y]^2                = 1.208674e8 nA^2
 * (values from mpmath at 30 digits; the test evaluates the formulas in
 * double). BNN_III with every w = -1 (P = 0, HRS) and every x = +1 reads
 * I+ = sum of the 16 clipped HRS cells of an output. Over N_TRIALS chips x 6
 * outputs (independent cells) the mean of I+ must match 16 E[Y] within 5
 * standard errors sqrt(16 Var[Y] / n) = 1420 nA, far from the unclipped
 * 16 * 5000 = 80000 nA (67000 nA lower); the fraction of programmed currents
 * below 0 must match Phi(-a) within 5 binomial standard errors. */
static void test_clipping_biases_hrs_mean_upward(void **state)
{
    (void)state;
    const double mu = HRS_NA, sigma = 16000, a = mu / sigma;
    const double phi = exp(-0.5 * a * a) / sqrt(2 * 3.14159265358979323846);
    const double cdf = cim_test_normal_cdf(a);
    const double ey = mu * cdf + sigma * phi;
    const double vy = (mu * mu + sigma * sigma) * cdf + mu * sigma * phi - ey * ey;
    CIM_ASSERT_NEAR(ey, 9192.238, 0.01);
    CIM_ASSERT_NEAR(vy, 1.208674e8, 1e3);

    cim_xbar xb = cim_test_xbar_inf(CIM_BNN_III, ROWS, COLS, HRS_NA, LRS_NA);
    xb.seed = 0xc11b;
    xb.d2d_sigma_na[CIM_STATE_HRS] = (int32_t)sigma;
    xb.d2d_sigma_na[CIM_STATE_LRS] = LRS_SIGMA_NA;
    int8_t w[ROWS * COLS], x[COLS];
    cim_test_fill(w, sizeof w, -1);
    cim_test_fill(x, sizeof x, 1);
    int32_t out[ROWS], cur[2 * ROWS], raw[ROWS * COLS];
    cim_mvm_trace tr = {cur, NULL, NULL};
    double sum = 0, clipped = 0, cells = 0, columns = 0;
    for (uint32_t t = 0; t < N_TRIALS; ++t) {
        assert_int_equal(cim_reference_mvm(&xb, w, ROWS, COLS, x, 1, 0, t, out, &tr), 0);
        for (int m = 0; m < ROWS; ++m) {
            sum += cur[m];                       /* conversion 0: I+ */
            CIM_ASSERT_I64_EQ(cur[ROWS + m], 0); /* I-: no x = -1 */
            columns += 1;
        }
        cim_reference_program_tile(&xb, w, ROWS, COLS, 0, 0, 0, t, raw);
        for (int k = 0; k < ROWS * COLS; ++k) {
            clipped += raw[k] < 0;
            cells += 1;
        }
    }
    const double mean = sum / columns, se = sqrt(COLS * vy / columns);
    const double frac = clipped / cells, p = cim_test_normal_cdf(-a);
    print_message("clipped fraction %.4f (analytic %.4f); mean I+ %.0f nA (analytic %.0f, "
                  "unclipped %d)\n",
                  frac, p, mean, COLS * ey, COLS * HRS_NA);
    CIM_ASSERT_NEAR(frac, p, 5 * sqrt(p * (1 - p) / cells));
    CIM_ASSERT_NEAR(mean, COLS * ey, 5 * se);
    assert_true(mean - COLS * mu > 40 * se);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_d2d_column_current_mean_and_variance),
        cmocka_unit_test(test_c2c_column_current_mean_and_variance),
        cmocka_unit_test(test_d2d_and_c2c_variances_add),
        cmocka_unit_test(test_deviate_rounding_adds_one_twelfth),
        cmocka_unit_test(test_d2d_sample_is_keyed_by_seed_and_trial),
        cmocka_unit_test(test_d2d_shared_by_all_inputs_of_a_trial),
        cmocka_unit_test(test_c2c_keyed_by_input_index),
        cmocka_unit_test(test_c2c_shared_by_all_reads_of_one_input),
        cmocka_unit_test(test_read_sums_clipped_programmed_currents),
        cmocka_unit_test(test_clipping_biases_hrs_mean_upward),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
