/* test_c2c_column.c -- the C2C column law (kernels/cim_c2c_column.h,
 * docs/physics/c2c_column.md) against the per-cell model it stands in for,
 * and its clipping bound (mapping/cim_c2c_bound.c) against hand-computed
 * values. Host only: the plain-C reference; test_kernels proves the kernels
 * equal it bit for bit.
 *
 * Statistics. One chip (its D2D sample, shared by both models: the same
 * CIM_RNG_D2D keys) reads one input vector N_READS times, each read its own
 * MVM index and so its own C2C draws. For every conversion j of every output
 * column the two models' column currents are then two samples of the same
 * law, N(sum coef p, V_j) with V_j = sum over the read's cells of
 * sigma_C2C(state)^2 (clipping negligible: HRS 20 uA with sigmas 1 uA (HRS)
 * and 2 uA (LRS), D2D and C2C, a cell clips with probability ~1e-23; the
 * per-cell model's rounding to whole nA adds 1/12 nA^2 per cell, below 1e-5
 * of V). Checked per conversion, within 5 standard errors (probability
 * 5.7e-7 each for a correct law): the means, the variances (SE var *
 * sqrt(2/(n-1)) for a Gaussian), the covariance of every pair of
 * conversions (TNN_II/III share the x = -1 cells across I0 and I1; SE
 * sqrt((var_a var_b + cov^2) / n)), and the column law's mean and variance
 * against the analytic values from the programmed currents. The two
 * samples' distributions: a two-sample Kolmogorov-Smirnov test per mapping
 * and conversion at the level alpha = 1e-4 (c(alpha) = sqrt(ln(2/alpha)/2)
 * = 2.2251: D <= c sqrt(2/n)). About 400 checks in all: a correct law fails
 * one with probability ~1e-3. The draws are keyed by fixed seeds, so every
 * run sees the same samples and the same verdict.
 */
#include "cim_test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cim_c2c_bound.h"
#include "cim_c2c_column.h"
#include "cim_cells.h"
#include "cim_mapping.h"
#include "cim_reference.h"

#define ROWS 4
#define COLS 48
#define N_READS 3000
#define Z_LIMIT 5.0
#define KS_C 2.2251 /* alpha = 1e-4 */

/* ---- the groups ------------------------------------------------------ */

/* Every mapping's groups: at most CIM_C2C_MAX_GROUPS; each slot an input
 * value drives has the coefficient vector of its conversions' term sums
 * (cim_conv_current on a unit current in that slot alone; every entry -1, 0
 * or +1, as the clipping bound assumes), which is its
 * group's canonical vector up to sign; undriven slots belong to none; the
 * driven counts add up. The group counts the docs name. */
static void test_groups_follow_the_mapping_tables(void **state)
{
    static const int expected[CIM_MAPPING_COUNT] = {1, 1, 2, 2, 1, 1, 1, 2, 2, 4, 4};
    (void)state;
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
        const cim_mapping_desc *d = cim_mapping_desc_of((cim_mapping_id)id);
        cim_c2c_groups g;
        assert_int_equal(cim_c2c_groups_of(d, &g), 0);
        assert_int_equal(g.n_groups, expected[id]);
        for (int v = 0; v < CIM_VALUE_CLASSES; ++v) {
            int driven[CIM_C2C_MAX_GROUPS] = {0, 0, 0, 0};
            for (int s = 0; s < CIM_MAX_SLOTS; ++s) {
                int32_t unit[CIM_MAX_SLOTS] = {0, 0, 0, 0}, vec[CIM_MAX_CONVS] = {0, 0, 0, 0};
                int nonzero = 0;
                unit[s] = 1;
                for (int j = 0; j < d->n_convs; ++j) {
                    vec[j] = cim_conv_current(d, j, v, unit);
                    nonzero |= vec[j] != 0;
                    assert_true(vec[j] >= -1 && vec[j] <= 1); /* the bound's |coef| <= 1 */
                }
                const int k = g.group_of[v][s];
                if (!nonzero) {
                    assert_int_equal(k, -1);
                    continue;
                }
                assert_true(k >= 0 && k < g.n_groups);
                driven[k] += 1;
                int sign = 0;
                for (int j = 0; j < CIM_MAX_CONVS; ++j) {
                    if (g.coef[k][j] != 0 && sign == 0)
                        sign = vec[j] == g.coef[k][j] ? 1 : -1;
                    assert_int_equal(vec[j], sign * g.coef[k][j]);
                }
            }
            for (int k = 0; k < CIM_C2C_MAX_GROUPS; ++k)
                assert_int_equal(g.driven[v][k], driven[k]);
        }
        for (int k = 0; k < g.n_groups; ++k) { /* canonical: first non-zero entry > 0 */
            int j = 0;
            while (j < CIM_MAX_CONVS && g.coef[k][j] == 0)
                ++j;
            assert_true(j < d->n_convs && g.coef[k][j] > 0);
        }
    }
    /* TNN_II: x = -1 drives both cells into I0 and I1 alike, x = +1 into I0 only */
    cim_c2c_groups g;
    cim_c2c_groups_of(cim_mapping_desc_of(CIM_TNN_II), &g);
    assert_int_equal(g.coef[g.group_of[0][0]][0], 1);
    assert_int_equal(g.coef[g.group_of[0][0]][1], 1);
    assert_int_equal(g.coef[g.group_of[2][0]][1], 0);
    assert_int_equal(g.group_of[0][0], g.group_of[0][1]);
    assert_int_equal(g.group_of[1][0], -1); /* x = 0 drives nothing */
}

/* The most cells one conversion sums per input, from the tables. */
static void test_cells_per_input(void **state)
{
    static const int32_t expected[CIM_MAPPING_COUNT] = {2, 2, 1, 1, 1, 2, 2, 2, 2, 1, 1};
    (void)state;
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id)
        assert_int_equal(cim_c2c_cells_per_input(cim_mapping_desc_of((cim_mapping_id)id)),
                         expected[id]);
}

/* ---- the integer scale by sqrt(V) ------------------------------------ */

/* Against sqrt in long double: within half a unit plus 1.6e-5 of the value
 * everywhere (V from 1 to 2^60, every bit length, the Q24 deviates' range,
 * results in int32),
 * exactly odd in z, 0 for V = 0, exact on squares of up to 16 bits. */
static void test_scale_sqrt_against_long_double(void **state)
{
    cim_test_rng r = cim_test_rng_init(77);
    (void)state;
    for (int i = 0; i < 400000; ++i) {
        const int bits = 1 + (int)(cim_test_rng_next(&r) % 60);
        int64_t v = (int64_t)(cim_test_rng_next(&r) >> (64 - bits));
        const int32_t z = (int32_t)(cim_test_rng_next(&r) % (2u * 106338240u)) - 106338240;
        if (v == 0)
            v = 1;
        const long double want = sqrtl((long double)v) * (long double)z / 16777216.0L;
        if (fabsl(want) >= 2147483647.0L)
            continue; /* out of int32; the config's current range keeps deviations inside */
        const int32_t got = cim_scale_sqrt(v, z);
        if (fabsl((long double)got - want) > 0.5L + 1.6e-5L * fabsl(want))
            fail_msg("V %lld z %d: got %d, sqrt(V) z / 2^24 = %.6Lf", (long long)v, z, got, want);
        assert_int_equal(cim_scale_sqrt(v, -z), -got);
    }
    assert_int_equal(cim_scale_sqrt(0, 1 << 24), 0);
    assert_int_equal(cim_scale_sqrt(0, -(5 << 24)), 0);
    /* squares of up to 16 bits are shifted left only: their roots are exact */
    for (int64_t root = 1; root < ((int64_t)1 << 16); root = root * 3 + 1)
        assert_int_equal(cim_scale_sqrt(root * root, 3 << 24), (int32_t)(3 * root));
}

/* ---- the clipping bound ---------------------------------------------- */

static cim_xbar gaussian_xbar(cim_mapping_id id, int32_t n, int32_t hrs, int32_t lrs, int32_t d2d_h,
                              int32_t d2d_l, int32_t c2c_h, int32_t c2c_l)
{
    cim_xbar x = cim_test_xbar_inf(id, 256, n, hrs, lrs);
    x.d2d_sigma_na[0] = d2d_h;
    x.d2d_sigma_na[1] = d2d_l;
    x.c2c_sigma_na[0] = c2c_h;
    x.c2c_sigma_na[1] = c2c_l;
    x.c2c_column = 1;
    return x;
}

/* The default crossbar (TNN_I 256 x 256, HRS/LRS 5/30 uA, D2D and C2C
 * sigma 1/4 uA), by hand: HRS s = sqrt(2) uA, a = 5 / sqrt(2) = 3.5355339,
 * P = Phi(-a) = erfc(2.5) / 2 = 2.0347601e-4, E = s (phi(a) - a P) =
 * 1414.2136 nA x 5.07434e-5 = 0.0717621 nA; LRS s = sqrt(32) uA, a =
 * 5.3033009, P = 5.68636e-8, E = 5.69555e-5 nA: HRS is the max. n_cells =
 * 2 x 256 = 512: P(differs) <= 0.104180, E|diff| <= 36.7422 nA, below the
 * 250 nA of 1% of LRS - HRS. */
static void test_bound_of_the_default_crossbar(void **state)
{
    (void)state;
    cim_xbar x = gaussian_xbar(CIM_TNN_I, 256, 5000, 30000, 1000, 4000, 1000, 4000);
    cim_c2c_bound b;
    assert_int_equal(cim_c2c_column_decide(&x, 288, &b), 1);
    assert_int_equal(x.c2c_column, 1);
    assert_true(b.asked && b.c2c_on && b.computed && b.used);
    CIM_ASSERT_I64_EQ(b.n_cells, 512);
    CIM_ASSERT_NEAR(b.p_clip[0], 2.0347601e-4, 1e-11);
    CIM_ASSERT_NEAR(b.e_clip_na[0], 0.0717621, 1e-7);
    CIM_ASSERT_NEAR(b.p_clip[1], 5.68636e-8, 1e-13);
    CIM_ASSERT_NEAR(b.e_clip_na[1], 5.69555e-5, 1e-10);
    CIM_ASSERT_NEAR(b.p_differs, 0.104180, 1e-6);
    CIM_ASSERT_NEAR(b.e_diff_na, 36.7422, 1e-4);
    CIM_ASSERT_NEAR(b.delta_na, 25000, 0);
    CIM_ASSERT_NEAR(b.limit_na, 250, 1e-12);
    assert_string_equal(cim_c2c_bound_model(&b), "column");
    /* a layer of 100 inputs drives at most 200 cells per read */
    cim_c2c_column_bound(&x, 100, &b);
    CIM_ASSERT_I64_EQ(b.n_cells, 200);
    CIM_ASSERT_NEAR(b.e_diff_na, 200 * 0.0717621, 1e-4);
}

/* Per mapping: n_cells from its tables; C2C alone (D2D off): s = the C2C
 * sigma; a bound that fails reads per cell; no C2C: nothing to bound. */
static void test_bound_decides_per_crossbar(void **state)
{
    cim_c2c_bound b;
    (void)state;
    cim_xbar x = gaussian_xbar(CIM_TNN_II, 128, 5000, 30000, 1000, 4000, 1000, 4000);
    cim_c2c_column_bound(&x, 1000, &b);
    CIM_ASSERT_I64_EQ(b.n_cells, 256); /* I0 = sum (cP - cQ) d0: both cells of an input */
    x = gaussian_xbar(CIM_BNN_III, 128, 5000, 30000, 1000, 4000, 1000, 4000);
    cim_c2c_column_bound(&x, 1000, &b);
    CIM_ASSERT_I64_EQ(b.n_cells, 128);
    /* C2C alone: HRS a = 5, P = Phi(-5) = 2.8665157e-7, E = 1000 (phi(5) - 5 P) */
    x = gaussian_xbar(CIM_TNN_I, 256, 5000, 30000, 0, 0, 1000, 4000);
    cim_c2c_column_bound(&x, 256, &b);
    CIM_ASSERT_NEAR(b.p_clip[0], 2.8665157e-7, 1e-13);
    CIM_ASSERT_NEAR(b.e_clip_na[0], 1000 * (1.4867195e-6 - 5 * 2.8665157e-7), 1e-9);
    /* sigma 16 uA at HRS 5 uA: a third of the cells clip, the bound fails */
    x = gaussian_xbar(CIM_TNN_I, 256, 5000, 30000, 16000, 16000, 1000, 4000);
    assert_int_equal(cim_c2c_column_decide(&x, 256, &b), 0);
    assert_int_equal(x.c2c_column, 0);
    assert_true(b.asked && b.computed && !b.used && b.e_diff_na > b.limit_na);
    assert_string_equal(cim_c2c_bound_model(&b), "cell");
    /* HRS 0 clips half of its reads: per cell */
    x = gaussian_xbar(CIM_TNN_I, 256, 0, 30000, 1000, 4000, 1000, 4000);
    assert_int_equal(cim_c2c_column_decide(&x, 256, &b), 0);
    CIM_ASSERT_NEAR(b.p_clip[0], 0.5, 1e-15);
    /* not asked: computed all the same, never used */
    x = gaussian_xbar(CIM_TNN_I, 256, 5000, 30000, 1000, 4000, 1000, 4000);
    x.c2c_column = 0;
    assert_int_equal(cim_c2c_column_decide(&x, 256, &b), 0);
    assert_true(!b.asked && b.computed && !b.used);
    assert_string_equal(cim_c2c_bound_model(&b), "cell");
    /* no C2C */
    x = gaussian_xbar(CIM_TNN_I, 256, 5000, 30000, 1000, 4000, 0, 0);
    assert_int_equal(cim_c2c_column_decide(&x, 256, &b), 0);
    assert_true(b.asked && !b.c2c_on && !b.computed && isnan(b.p_differs) && isnan(b.e_diff_na));
    assert_string_equal(cim_c2c_bound_model(&b), "off");
    /* C2C tables are not Gaussian: no bound, the per-cell reads */
    x = gaussian_xbar(CIM_TNN_I, 256, 5000, 30000, 1000, 4000, 1000, 4000);
    x.cdf.n[CIM_CDF_C2C] = 2;
    x.cdf.i[CIM_CDF_C2C][0] = -1000;
    x.cdf.i[CIM_CDF_C2C][1] = 1000;
    x.cdf.p[CIM_CDF_C2C][1] = CIM_CDF_ONE;
    assert_int_equal(cim_c2c_column_decide(&x, 256, &b), 0);
    assert_true(b.c2c_on && !b.computed);
    assert_string_equal(cim_c2c_bound_model(&b), "cell");
}

/* P(U + e < 0) and E[(-(U + e))+] for U uniform on [lo, hi] and e ~ N(0,
 * sigma), by Simpson's rule over u of the Gaussian formulas. */
static void uniform_clip(double lo, double hi, double sigma, double *p, double *e)
{
    const int n = 20000;
    *p = *e = 0;
    for (int k = 0; k <= n; ++k) {
        const double u = lo + (hi - lo) * k / n, a = u / sigma;
        const double w = (k == 0 || k == n ? 1.0 : k % 2 ? 4.0 : 2.0) / (3.0 * n);
        const double tail = 1 - cim_test_normal_cdf(a);
        const double dens = exp(-a * a / 2) / 2.50662827463100050242; /* sqrt(2 pi) */
        *p += w * tail;
        *e += w * sigma * (dens - a * tail);
    }
}

/* D2D tables: the closed form over the segments equals numerical
 * integration of the Gaussian bound over each segment (taken 1 nA lower for
 * the sampler's rounding down), weighted by the segments' probabilities. */
static void test_bound_with_d2d_tables(void **state)
{
    static const int64_t hrs_i[] = {0, 2000, 5000, 9000};
    static const double hrs_p[] = {0, 0.1, 0.7, 1};
    cim_c2c_bound b;
    (void)state;
    cim_xbar x = gaussian_xbar(CIM_TNN_I, 256, 5000, 30000, 1000, 4000, 1500, 4000);
    x.cdf.n[CIM_CDF_D2D] = 4;
    for (int k = 0; k < 4; ++k) {
        x.cdf.i[CIM_CDF_D2D][k] = hrs_i[k];
        x.cdf.p[CIM_CDF_D2D][k] = (int64_t)(hrs_p[k] * 4294967296.0 + 0.5);
    }
    cim_c2c_column_bound(&x, 256, &b);
    double p = 0, e = 0;
    for (int k = 0; k < 3; ++k) {
        double ps, es;
        uniform_clip((double)hrs_i[k] - 1, (double)hrs_i[k + 1] - 1, 1500, &ps, &es);
        p += (hrs_p[k + 1] - hrs_p[k]) * ps;
        e += (hrs_p[k + 1] - hrs_p[k]) * es;
    }
    CIM_ASSERT_NEAR(b.p_clip[0], p, 1e-9);
    CIM_ASSERT_NEAR(b.e_clip_na[0], e, 1e-6);
    assert_true(b.p_clip[0] > 0.03); /* the segment from 0 clips often */
    assert_true(b.e_diff_na > b.limit_na);
}

/* ---- the law against the per-cell model ------------------------------ */

typedef struct sample {
    double *v; /* [N_READS][ROWS][n_convs] column currents */
} sample;

/* N_READS reads of input x by chip `trial`, all read keys distinct: the
 * trace's column currents (one tile). */
static void read_many(const cim_xbar *x, const int8_t *w, const int8_t *in, uint32_t trial,
                      double *out)
{
    const cim_mapping_desc *d = cim_mapping_desc_of(x->mapping);
    int8_t *inputs = malloc((size_t)N_READS * COLS);
    int32_t *results = malloc(sizeof(int32_t) * N_READS * ROWS);
    int32_t *current = malloc(sizeof(int32_t) * N_READS * ROWS * (size_t)d->n_convs);
    cim_mvm_trace trace = {current, NULL, NULL};
    assert_non_null(inputs);
    assert_non_null(results);
    assert_non_null(current);
    for (int r = 0; r < N_READS; ++r)
        memcpy(inputs + (size_t)r * COLS, in, COLS);
    assert_int_equal(
        cim_reference_mvm(x, w, ROWS, COLS, inputs, N_READS, 1000, trial, results, &trace), 0);
    /* trace [input][tile][conv][row] -> out [input][row][conv] */
    for (int r = 0; r < N_READS; ++r)
        for (int j = 0; j < d->n_convs; ++j)
            for (int m = 0; m < ROWS; ++m)
                out[((size_t)r * ROWS + m) * d->n_convs + j] =
                    current[((size_t)r * d->n_convs + j) * ROWS + m];
    free(inputs);
    free(results);
    free(current);
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The two-sample Kolmogorov-Smirnov statistic of a[n] and b[n] (sorted in
 * place). */
static double ks_statistic(double *a, double *b, int n)
{
    double d = 0;
    int i = 0, k = 0;
    qsort(a, (size_t)n, sizeof *a, cmp_double);
    qsort(b, (size_t)n, sizeof *b, cmp_double);
    while (i < n && k < n) {
        const double t = a[i] < b[k] ? a[i] : b[k];
        while (i < n && a[i] <= t)
            ++i;
        while (k < n && b[k] <= t)
            ++k;
        d = fmax(d, fabs((double)i / n - (double)k / n));
    }
    return d;
}

static double mean_of(const double *v, int n, int stride)
{
    double s = 0;
    for (int r = 0; r < n; ++r)
        s += v[(size_t)r * stride];
    return s / n;
}

static double cov_of(const double *a, const double *b, int n, int stride)
{
    const double ma = mean_of(a, n, stride), mb = mean_of(b, n, stride);
    double s = 0;
    for (int r = 0; r < n; ++r)
        s += (a[(size_t)r * stride] - ma) * (b[(size_t)r * stride] - mb);
    return s / (n - 1);
}

static void assert_within(double got, double want, double se, const char *what, int id, int m,
                          int j, int k)
{
    if (!(fabs(got - want) <= Z_LIMIT * se))
        fail_msg("%s %s column %d conversions %d/%d: %.6g vs %.6g, %.1f standard errors",
                 cim_mapping_name((cim_mapping_id)id), what, m, j, k, got, want,
                 fabs(got - want) / se);
}

/* The analytic mean and covariances of the column law for column m:
 * mean_j = sum over the read's cells of coef_j p (the programmed currents of
 * the chip), cov_jk = sum_g coef_gj coef_gk V_g. */
static void analytic(const cim_xbar *x, const int8_t *w, const int8_t *in, uint32_t trial, int m,
                     double *mean, double cov[CIM_MAX_CONVS][CIM_MAX_CONVS])
{
    const cim_mapping_desc *d = cim_mapping_desc_of(x->mapping);
    const cim_cell_model model = cim_xbar_cell_model(x);
    const size_t plane = (size_t)x->xbar_m * x->xbar_n;
    int32_t *raw = malloc(sizeof(int32_t) * plane * (size_t)d->n_slots);
    double var[CIM_C2C_MAX_GROUPS] = {0, 0, 0, 0};
    cim_c2c_groups g;
    cim_c2c_groups_of(d, &g);
    assert_non_null(raw);
    cim_reference_program_tile(x, w, ROWS, COLS, 0, 0, 0, trial, raw);
    for (int j = 0; j < CIM_MAX_CONVS; ++j)
        mean[j] = 0;
    for (int n = 0; n < COLS; ++n) {
        const int v = in[n] + 1, wv = w[m * COLS + n];
        int32_t p[CIM_MAX_SLOTS] = {0, 0, 0, 0};
        for (int s = 0; s < d->n_slots; ++s) {
            const uint32_t none = 0;
            p[s] = raw[s * plane + (size_t)m * x->xbar_n + n];
            if (g.group_of[v][s] >= 0) {
                const int state = cim_cell_state(d, wv, s, none, &model);
                var[g.group_of[v][s]] += (double)model.c2c_sigma[state] * model.c2c_sigma[state];
            }
        }
        for (int j = 0; j < d->n_convs; ++j)
            mean[j] += cim_conv_current(d, j, v, p);
    }
    for (int j = 0; j < CIM_MAX_CONVS; ++j)
        for (int k = 0; k < CIM_MAX_CONVS; ++k) {
            cov[j][k] = 0;
            for (int q = 0; q < g.n_groups; ++q)
                cov[j][k] += (double)g.coef[q][j] * g.coef[q][k] * var[q];
        }
    free(raw);
}

/* Every mapping: the column law's column currents and the per-cell
 * model's, read by the same chip, agree in mean, variance, covariance and
 * distribution; the column law's moments equal the analytic ones. */
static void test_column_law_matches_per_cell_model(void **state)
{
    (void)state;
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
        const cim_mapping_desc *d = cim_mapping_desc_of((cim_mapping_id)id);
        const int nc = d->n_convs, stride = ROWS * nc;
        cim_test_rng r = cim_test_rng_init(1234 + (uint64_t)id);
        int8_t w[ROWS * COLS], in[COLS];
        double *cell = malloc(sizeof(double) * N_READS * ROWS * (size_t)nc);
        double *column = malloc(sizeof(double) * N_READS * ROWS * (size_t)nc);
        double *a = malloc(sizeof(double) * N_READS), *b = malloc(sizeof(double) * N_READS);
        assert_non_null(cell);
        assert_non_null(column);
        assert_non_null(a);
        assert_non_null(b);
        cim_test_random_values(&r, (cim_mapping_id)id, w, sizeof w);
        cim_test_random_values(&r, (cim_mapping_id)id, in, sizeof in);
        cim_xbar x = cim_test_xbar_inf((cim_mapping_id)id, ROWS, COLS, 20000, 30000);
        x.seed = 0x5eed0000u + (uint64_t)id;
        x.layer = 2;
        x.d2d_sigma_na[0] = x.c2c_sigma_na[0] = 1000;
        x.d2d_sigma_na[1] = x.c2c_sigma_na[1] = 2000;
        read_many(&x, w, in, 9, cell);
        x.c2c_column = 1;
        assert_true(cim_xbar_c2c_column(&x));
        read_many(&x, w, in, 9, column);
        for (int m = 0; m < ROWS; ++m) {
            double mean[CIM_MAX_CONVS], cov[CIM_MAX_CONVS][CIM_MAX_CONVS];
            analytic(&x, w, in, 9, m, mean, cov);
            for (int j = 0; j < nc; ++j) {
                const double *cj = cell + m * nc + j, *oj = column + m * nc + j;
                const double vc = cov_of(cj, cj, N_READS, stride);
                const double vo = cov_of(oj, oj, N_READS, stride);
                const double se_var = sqrt(2.0 / (N_READS - 1));
                assert_within(mean_of(oj, N_READS, stride), mean_of(cj, N_READS, stride),
                              sqrt((vc + vo) / N_READS), "mean", id, m, j, j);
                assert_within(vo, vc, se_var * sqrt(vc * vc + vo * vo), "variance", id, m, j, j);
                assert_within(mean_of(oj, N_READS, stride), mean[j], sqrt(cov[j][j] / N_READS),
                              "mean vs analytic", id, m, j, j);
                assert_within(vo, cov[j][j], se_var * cov[j][j], "variance vs analytic", id, m, j,
                              j);
                for (int k = j + 1; k < nc; ++k) {
                    const double *ck = cell + m * nc + k, *ok = column + m * nc + k;
                    const double cc = cov_of(cj, ck, N_READS, stride);
                    const double co = cov_of(oj, ok, N_READS, stride);
                    const double vck = cov_of(ck, ck, N_READS, stride);
                    const double vok = cov_of(ok, ok, N_READS, stride);
                    const double se = sqrt((vc * vck + cc * cc + vo * vok + co * co) / N_READS);
                    assert_within(co, cc, se, "covariance", id, m, j, k);
                    assert_within(co, cov[j][k],
                                  sqrt((cov[j][j] * cov[k][k] + cov[j][k] * cov[j][k]) / N_READS),
                                  "covariance vs analytic", id, m, j, k);
                }
                for (int q = 0; q < N_READS; ++q) {
                    a[q] = cj[(size_t)q * stride];
                    b[q] = oj[(size_t)q * stride];
                }
                const double ks = ks_statistic(a, b, N_READS);
                if (ks > KS_C * sqrt(2.0 / N_READS))
                    fail_msg("%s column %d conversion %d: Kolmogorov-Smirnov D = %.4f > %.4f",
                             cim_mapping_name((cim_mapping_id)id), m, j, ks,
                             KS_C * sqrt(2.0 / N_READS));
            }
        }
        free(cell);
        free(column);
        free(a);
        free(b);
    }
}

/* The tests above can fail: a law with the wrong variance (the C2C sigmas
 * doubled for the column law only) is caught by the same checks, as is one
 * that draws the two reads of TNN_II independently (the covariance). */
static void test_the_checks_catch_a_wrong_law(void **state)
{
    const int nc = 2, stride = ROWS * nc;
    cim_test_rng r = cim_test_rng_init(99);
    int8_t w[ROWS * COLS], in[COLS];
    double *cell = malloc(sizeof(double) * N_READS * ROWS * nc);
    double *column = malloc(sizeof(double) * N_READS * ROWS * nc);
    (void)state;
    assert_non_null(cell);
    assert_non_null(column);
    cim_test_random_values(&r, CIM_TNN_II, w, sizeof w);
    for (int n = 0; n < COLS; ++n)
        in[n] = -1; /* every input drives the shared group */
    cim_xbar x = cim_test_xbar_inf(CIM_TNN_II, ROWS, COLS, 20000, 30000);
    x.d2d_sigma_na[0] = x.c2c_sigma_na[0] = 1000;
    x.d2d_sigma_na[1] = x.c2c_sigma_na[1] = 2000;
    read_many(&x, w, in, 3, cell);
    x.c2c_column = 1;
    x.c2c_sigma_na[0] *= 2;
    x.c2c_sigma_na[1] *= 2;
    read_many(&x, w, in, 3, column);
    const double vc = cov_of(cell, cell, N_READS, stride);
    const double vo = cov_of(column, column, N_READS, stride);
    assert_true(fabs(vo - vc) > Z_LIMIT * sqrt(2.0 / (N_READS - 1)) * sqrt(vc * vc + vo * vo));
    /* I0 and I1 of x = -1 inputs read the same cells: correlation ~1; a law
     * drawing them independently (here: I1 of the next read) fails the
     * covariance check */
    const double c01 = cov_of(cell, cell + 1, N_READS, stride);
    const double v1 = cov_of(cell + 1, cell + 1, N_READS, stride);
    assert_true(c01 / sqrt(vc * v1) > 0.99);
    const double c_indep = cov_of(cell, cell + stride + 1, N_READS - 1, stride);
    assert_true(fabs(c_indep - c01) > Z_LIMIT * sqrt((2 * vc * v1 + c01 * c01) / N_READS));
    free(cell);
    free(column);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_groups_follow_the_mapping_tables),
        cmocka_unit_test(test_cells_per_input),
        cmocka_unit_test(test_scale_sqrt_against_long_double),
        cmocka_unit_test(test_bound_of_the_default_crossbar),
        cmocka_unit_test(test_bound_decides_per_crossbar),
        cmocka_unit_test(test_bound_with_d2d_tables),
        cmocka_unit_test(test_column_law_matches_per_cell_model),
        cmocka_unit_test(test_the_checks_catch_a_wrong_law),
    };
    return cmocka_run_group_tests_name("c2c_column", tests, NULL, NULL);
}
