/* test_cells.c -- stuck-at faults and measured device distributions on the
 * reference (mapping/cim_reference.c; the kernels equal it bit for bit,
 * tests/test_kernels.c), and their config keys.
 *
 * Faults: every cell stuck at one state gives the closed-form all-HRS /
 * all-LRS tile for every mapping, analog and digital; the fault fractions
 * over many chips are within 5 binomial standard deviations of SAF_HRS and
 * SAF_LRS (two-sided, a chance below 1e-6 per count for a correct sampler);
 * a healthy cell keeps exactly its fault-free current and a stuck one has
 * the stuck state's nominal plus its own D2D deviation; SAF 0 is
 * bit-identical to no faults. Tables: a two-point table gives exactly I_0 +
 * floor(u (I_1 - I_0) / 2^32) and is uniform; cells of many chips match the
 * shipped example table and a lognormal table by Kolmogorov-Smirnov, D <=
 * 1.95 / sqrt(N) (the asymptotic bound 2 exp(-2 * 1.95^2): 99.9 %
 * confidence); a table built from Gaussian samples agrees with the Gaussian
 * model within D <= 1.95 sqrt(1 / N_samples + 1 / N_cells). Config: the
 * keys parse, resolve to the documented integers, round-trip through the
 * provenance JSON, and malformed values are refused with one line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "cim_cdf.h"
#include "cim_cells.h"
#include "cim_config.h"
#include "cim_mapping.h"
#include "cim_reference.h"
#include "cim_rng.h"
#include "cim_test_util.h"

#define ONE ((int64_t)1 << 32)
#define KS_C 1.95 /* 99.9 % */
#define PI 3.14159265358979323846

static cim_xbar resolved(const char *json)
{
    cim_config cfg;
    cim_xbar x;
    cim_error err = {0, ""};
    if (cim_config_parse(json, "test", &cfg, &err) != 0)
        fail_msg("%s", err.msg);
    if (cim_config_resolve(&cfg, NULL, 0x5eedull, 2, &x, &err) != 0)
        fail_msg("%s", err.msg);
    cim_config_free(&cfg);
    return x;
}

/* ---------------------------------------------------------------------------
 * Stuck-at faults
 */

/* The all-stuck tile in closed form: every cell carries current c, so
 * conversion j of output m sees c times the sum, over the driven rows, of
 * its terms' signs and drives; the corrections use the intended weights. */
static void all_stuck(const cim_xbar *x, const int8_t *w, int32_t rows, int32_t cols,
                      const int8_t *in, int32_t n_inputs, int32_t c, int32_t *out)
{
    const cim_mapping_desc *d = cim_mapping_desc_of(x->mapping);
    for (int32_t i = 0; i < n_inputs; ++i) {
        const int8_t *xin = in + (size_t)i * cols;
        for (int32_t m = 0; m < rows; ++m) {
            int32_t r = 0;
            for (int32_t n0 = 0; n0 < cols; n0 += x->xbar_n) {
                const int32_t n1 = n0 + x->xbar_n < cols ? n0 + x->xbar_n : cols;
                int32_t current[CIM_MAX_CONVS] = {0, 0, 0, 0}, s = 0, sumw = 0;
                for (int32_t n = n0; n < n1; ++n) {
                    s += xin[n];
                    sumw += w[(size_t)m * cols + n];
                    for (int j = 0; j < d->n_convs; ++j)
                        for (int t = 0; t < CIM_MAX_TERMS; ++t) {
                            const cim_term *tm = &d->conv[j].terms[t];
                            current[j] += tm->sign * d->drive[tm->drive][xin[n] + 1] * c;
                        }
                }
                r += cim_column_result(&x->column, current, s, n1 - n0, sumw, NULL, NULL);
            }
            out[(size_t)i * rows + m] = r;
        }
    }
}

static void test_all_stuck_is_closed_form(void **state)
{
    (void)state;
    enum { ROWS = 13, COLS = 29, INPUTS = 4 };
    int8_t w[ROWS * COLS], in[INPUTS * COLS];
    int32_t got[INPUTS * ROWS], want[INPUTS * ROWS];
    cim_test_rng r = cim_test_rng_init(__LINE__);
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
        for (int digital = 0; digital <= 1; ++digital) {
            for (int stuck = CIM_STATE_HRS; stuck <= CIM_STATE_LRS; ++stuck) {
                cim_xbar x = digital ? cim_test_xbar_digital((cim_mapping_id)id, 8, 12)
                                     : cim_test_xbar_inf((cim_mapping_id)id, 8, 12, 5000, 30000);
                x.saf_below[0] = stuck == CIM_STATE_HRS ? ONE : 0;
                x.saf_below[1] = ONE;
                cim_test_random_values(&r, x.mapping, w, sizeof w);
                cim_test_random_values(&r, x.mapping, in, sizeof in);
                assert_int_equal(cim_reference_mvm(&x, w, ROWS, COLS, in, INPUTS, 0, 3, got, NULL),
                                 0);
                all_stuck(&x, w, ROWS, COLS, in, INPUTS, digital ? stuck : x.current_na[stuck],
                          want);
                if (memcmp(got, want, sizeof got) != 0)
                    fail_msg("%s %s, all %s: not the closed form", cim_mapping_name(x.mapping),
                             digital ? "digital" : "analog", stuck ? "LRS" : "HRS");
            }
        }
    }
}

/* |k - N p| <= 5 sqrt(N p (1 - p)) */
static void expect_binomial(int64_t k, int64_t n, double p, const char *what)
{
    const double mean = (double)n * p, sd = sqrt((double)n * p * (1 - p));
    if (fabs((double)k - mean) > 5 * sd)
        fail_msg("%s: %lld of %lld, expected %.1f +- %.1f", what, (long long)k, (long long)n, mean,
                 5 * sd);
}

/* Cells of intended state s read as the other state: the fraction stuck
 * there. Noise-free analog cells show their state as 5000 or 30000 nA. */
static void test_fault_fractions_are_binomial(void **state)
{
    (void)state;
    enum { XM = 32, XN = 48, TRIALS = 40 };
    const double p0 = 0.03, p1 = 0.05;
    cim_xbar x = resolved("{\"m_mode\": \"BNN_VI\", \"M\": 32, \"N\": 48, \"SAF_HRS\": 0.03, "
                          "\"SAF_LRS\": 0.05}");
    const cim_mapping_desc *d = cim_mapping_desc_of(x.mapping);
    static int8_t w[XM * XN];
    static int32_t raw[CIM_MAX_SLOTS * XM * XN];
    int64_t n_state[2] = {0, 0}, flipped[2] = {0, 0};
    cim_test_rng r = cim_test_rng_init(__LINE__);
    cim_test_random_values(&r, x.mapping, w, sizeof w);
    for (uint32_t t = 0; t < TRIALS; ++t) {
        cim_reference_program_tile(&x, w, XM, XN, 0, 0, 0, t, raw);
        for (int s = 0; s < d->n_slots; ++s)
            for (int c = 0; c < XM * XN; ++c) {
                const int intended = d->slot_state[s][w[c] + 1] == 1;
                const int seen = raw[s * XM * XN + c] == x.current_na[CIM_STATE_LRS];
                n_state[intended]++;
                flipped[intended] += seen != intended;
            }
    }
    expect_binomial(flipped[CIM_STATE_LRS], n_state[CIM_STATE_LRS], p0, "LRS cells stuck at HRS");
    expect_binomial(flipped[CIM_STATE_HRS], n_state[CIM_STATE_HRS], p1, "HRS cells stuck at LRS");
}

/* With D2D on, analog and digital: a cell whose SAF word is not below the
 * bounds keeps its fault-free current exactly; a stuck one has the stuck
 * state's nominal current plus sigma of that state times its own D2D
 * deviate (digital: the state bit). SAF 0 is the fault-free chip. */
static void test_faults_change_only_stuck_cells(void **state)
{
    (void)state;
    enum { XM = 16, XN = 24 };
    static int8_t w[XM * XN];
    static int32_t healthy[CIM_MAX_SLOTS * XM * XN], faulty[CIM_MAX_SLOTS * XM * XN];
    cim_test_rng r = cim_test_rng_init(__LINE__);
    for (int digital = 0; digital <= 1; ++digital) {
        const char *base = digital ? "{\"m_mode\": \"TNN_I\", \"M\": 16, \"N\": 24, "
                                     "\"digital_only\": true"
                                   : "{\"m_mode\": \"TNN_I\", \"M\": 16, \"N\": 24, "
                                     "\"HRS_NOISE\": 1, \"LRS_NOISE\": 4";
        char json[256];
        snprintf(json, sizeof json, "%s}", base);
        cim_xbar clean = resolved(json);
        snprintf(json, sizeof json, "%s, \"SAF_HRS\": 0, \"SAF_LRS\": 0}", base);
        cim_xbar zero = resolved(json);
        snprintf(json, sizeof json, "%s, \"SAF_HRS\": 0.1, \"SAF_LRS\": 0.15}", base);
        cim_xbar x = resolved(json);
        const cim_mapping_desc *d = cim_mapping_desc_of(x.mapping);
        assert_memory_equal(&clean, &zero, sizeof clean);
        assert_false(cim_xbar_has_saf(&zero));
        cim_test_random_values(&r, x.mapping, w, sizeof w);
        int stuck = 0;
        for (uint32_t t = 0; t < 3; ++t) {
            cim_reference_program_tile(&clean, w, XM, XN, 5, 0, 0, t, healthy);
            cim_reference_program_tile(&x, w, XM, XN, 5, 0, 0, t, faulty);
            for (uint32_t c = 0; c < XM * XN; ++c) {
                uint32_t u[4], us[4];
                cim_rng_words4(x.seed, CIM_RNG_D2D, x.layer, 5, t, 0, c, u);
                cim_rng_words4(x.seed, CIM_RNG_SAF, x.layer, 5, t, 0, c, us);
                for (int s = 0; s < d->n_slots; ++s) {
                    const int32_t got = faulty[s * XM * XN + c];
                    const int64_t v = us[s];
                    if (v >= x.saf_below[1]) {
                        assert_int_equal(got, healthy[s * XM * XN + c]);
                        continue;
                    }
                    const int st = v < x.saf_below[0] ? CIM_STATE_HRS : CIM_STATE_LRS;
                    const int32_t want =
                        digital ? st
                                : x.current_na[st] +
                                      cim_scale_deviate(x.d2d_sigma_na[st], cim_gauss_q24(u[s]));
                    assert_int_equal(got, want);
                    ++stuck;
                }
            }
        }
        assert_true(stuck > 0);
    }
}

/* ---------------------------------------------------------------------------
 * Measured device distributions
 */

/* The programmed currents of every used cell of intended state `st` over
 * trials 0..trials-1 of a weight matrix of all `wv` (a 1-slot BNN_III tile:
 * +1 is one LRS cell, -1 one HRS cell). */
static int32_t *sample_cells(const cim_xbar *x, int wv, int trials, size_t *n)
{
    const int32_t cells = x->xbar_m * x->xbar_n;
    int8_t *w = malloc((size_t)cells);
    int32_t *raw = malloc(sizeof(int32_t) * CIM_MAX_SLOTS * (size_t)cells);
    int32_t *out = malloc(sizeof(int32_t) * (size_t)cells * (size_t)trials);
    cim_test_fill(w, (size_t)cells, (int8_t)wv);
    for (int t = 0; t < trials; ++t) {
        cim_reference_program_tile(x, w, x->xbar_m, x->xbar_n, 0, 0, 0, (uint32_t)t, raw);
        memcpy(out + (size_t)t * cells, raw, sizeof(int32_t) * (size_t)cells);
    }
    free(w);
    free(raw);
    *n = (size_t)cells * (size_t)trials;
    return out;
}

static int cmp_i32(const void *a, const void *b)
{
    const int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

/* The table's CDF at current i (nA, real), linear between points. */
static double table_cdf(const cim_cdf_set *c, int t, double i)
{
    const int64_t n = c->n[t];
    if (i <= (double)c->i[t][0])
        return 0;
    for (int64_t k = 1; k < n; ++k)
        if (i <= (double)c->i[t][k])
            return ((double)c->p[t][k - 1] + (i - (double)c->i[t][k - 1]) /
                                                 (double)(c->i[t][k] - c->i[t][k - 1]) *
                                                 (double)(c->p[t][k] - c->p[t][k - 1])) /
                   (double)ONE;
    return 1;
}

/* KS distance of integer samples X (floor-quantised table draws, so P(X < v)
 * is the table's CDF at v and P(X <= v) at v + 1) from the table. Sorts x. */
static double ks_table(int32_t *x, size_t n, const cim_cdf_set *c, int t)
{
    double d = 0;
    qsort(x, n, sizeof *x, cmp_i32);
    for (size_t k = 0; k < n;) {
        size_t j = k;
        while (j < n && x[j] == x[k])
            ++j;
        const double below = fabs((double)k / (double)n - table_cdf(c, t, x[k]));
        const double at = fabs((double)j / (double)n - table_cdf(c, t, (double)x[k] + 1.0));
        d = fmax(d, fmax(below, at));
        k = j;
    }
    return d;
}

/* The sampler against its definition by linear search, on tables with flat
 * steps (also at both ends) and interior thresholds at 0 and 2^32, at every
 * threshold, its neighbours, the ends of the word range and random words. */
static void test_sampler_matches_definition(void **state)
{
    (void)state;
    static cim_cdf_set set;
    static const int64_t i[][6] = {
        {0, 10, 20, 30, 40, 50}, {-7, -3, 1, 2, 900, 901}, {5, 6, 7, 8, 9, 10000000}};
    static const int64_t p[][6] = {{0, 0, 100, 100, ONE / 2, ONE},
                                   {0, 1, 2, ONE - 1, ONE, ONE},
                                   {0, ONE / 3, ONE / 3, ONE / 3 + 1, ONE - 5, ONE}};
    cim_test_rng r = cim_test_rng_init(__LINE__);
    for (int t = 0; t < 3; ++t) {
        set.n[t] = 6;
        memcpy(set.i[t], i[t], sizeof i[t]);
        memcpy(set.p[t], p[t], sizeof p[t]);
        uint32_t words[64];
        int nw = 0;
        for (int k = 0; k < 6; ++k)
            for (int64_t dv = -1; dv <= 1; ++dv)
                if (p[t][k] + dv >= 0 && p[t][k] + dv < ONE)
                    words[nw++] = (uint32_t)(p[t][k] + dv);
        words[nw++] = 0xffffffffu;
        while (nw < 64)
            words[nw++] = (uint32_t)cim_test_rng_next(&r);
        for (int w = 0; w < nw; ++w) {
            const int64_t v = words[w];
            int j = 0;
            for (int k = 0; k < 5; ++k)
                if (p[t][k] <= v)
                    j = k;
            const int64_t want =
                i[t][j] + (v - p[t][j]) * (i[t][j + 1] - i[t][j]) / (p[t][j + 1] - p[t][j]);
            assert_int_equal(cim_cdf_sample(&set, t, words[w]), want);
        }
    }
}

static void test_two_point_table_is_uniform(void **state)
{
    (void)state;
    cim_xbar x = resolved("{\"m_mode\": \"BNN_III\", \"M\": 32, \"N\": 64, \"device_cdf\": "
                          "{\"LRS\": [[20, 0], [40, 1]]}}");
    size_t n;
    int32_t *c = sample_cells(&x, 1, 20, &n);
    int64_t bins[10] = {0};
    for (size_t k = 0; k < n; ++k) {
        const uint32_t t = (uint32_t)(k / (32 * 64)), cell = (uint32_t)(k % (32 * 64));
        uint32_t u[4];
        cim_rng_words4(x.seed, CIM_RNG_D2D, x.layer, 0, t, 0, cell, u);
        assert_int_equal(c[k], 20000 + (int32_t)(((int64_t)u[0] * 20000) >> 32));
        bins[(c[k] - 20000) / 2000]++;
    }
    for (int b = 0; b < 10; ++b)
        expect_binomial(bins[b], (int64_t)n, 0.1, "uniform bin");
    free(c);
}

static void ks_expect(const cim_xbar *x, int wv, int table, int trials, const char *what)
{
    size_t n;
    int32_t *c = sample_cells(x, wv, trials, &n);
    const double d = ks_table(c, n, &x->cdf, table), bound = KS_C / sqrt((double)n);
    if (d > bound)
        fail_msg("%s: KS distance %.5f > %.5f (%zu cells)", what, d, bound, n);
    free(c);
}

static void test_cells_follow_example_table(void **state)
{
    (void)state;
    char json[1024];
    snprintf(json, sizeof json,
             "{\"m_mode\": \"BNN_III\", \"M\": 32, \"N\": 64, \"device_cdf_csv\": "
             "\"%s/data/devices/example_rram.csv\"}",
             CIM_SOURCE_DIR);
    cim_xbar x = resolved(json);
    assert_true(x.cdf.n[CIM_CDF_D2D] >= 100 && x.cdf.n[CIM_CDF_D2D + 1] >= 100);
    ks_expect(&x, 1, CIM_CDF_D2D + CIM_STATE_LRS, 10, "example table, LRS");
    ks_expect(&x, -1, CIM_CDF_D2D + CIM_STATE_HRS, 10, "example table, HRS");
}

static void test_lognormal_table(void **state)
{
    (void)state;
    cim_config cfg;
    cim_error err = {0, ""};
    assert_int_equal(
        cim_config_parse("{\"m_mode\": \"BNN_III\", \"M\": 32, \"N\": 64, "
                         "\"device_lognormal\": {\"LRS\": {\"mu\": 3.4011973816621555, "
                         "\"sigma\": 0.1}}}",
                         "test", &cfg, &err),
        0);
    const cim_config_cdf *t = &cfg.cdf[CIM_CDF_D2D + CIM_STATE_LRS];
    assert_int_equal(t->n, 129);
    assert_true(t->p[0] == 0 && t->p[128] == 1 && fabs(t->p[64] - 0.5) < 1e-12);
    assert_true(fabs(t->i_ua[64] - 30.0) < 0.0005); /* the median exp(mu), to 1 nA */
    cim_xbar x;
    assert_int_equal(cim_config_resolve(&cfg, NULL, 9, 0, &x, &err), 0);
    ks_expect(&x, 1, CIM_CDF_D2D + CIM_STATE_LRS, 10, "lognormal table");
    cim_config_free(&cfg);
}

/* 4000 samples of N(30, 4) µA (Box-Muller on a fixed generator) as a CSV
 * table against the Gaussian model of the same cells. */
static void test_gaussian_samples_table_matches_gaussian_model(void **state)
{
    (void)state;
    enum { SAMPLES = 4000 };
    char dir[4096], path[4200], json[4400];
    cim_test_rng r = cim_test_rng_init(__LINE__);
    assert_int_equal(cim_test_make_scratch_dir(dir, sizeof dir, "test_cells"), 0);
    snprintf(path, sizeof path, "%s/gauss.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "state,current_uA\n");
    for (int k = 0; k < SAMPLES / 2; ++k) {
        const double u1 = ((double)(cim_test_rng_next(&r) >> 11) + 1) / 9007199254740993.0;
        const double u2 = (double)(cim_test_rng_next(&r) >> 11) / 9007199254740992.0;
        const double rad = sqrt(-2 * log(u1));
        fprintf(f, "LRS,%.4f\nLRS,%.4f\n", 30 + 4 * rad * cos(2 * PI * u2),
                30 + 4 * rad * sin(2 * PI * u2));
    }
    fclose(f);
    snprintf(json, sizeof json,
             "{\"m_mode\": \"BNN_III\", \"M\": 32, \"N\": 64, \"LRS_NOISE\": 4, "
             "\"device_cdf_csv\": \"%s\"}",
             path);
    cim_xbar tab = resolved(json);
    cim_xbar gauss = resolved("{\"m_mode\": \"BNN_III\", \"M\": 32, \"N\": 64, \"LRS_NOISE\": 4}");
    size_t n, m;
    int32_t *a = sample_cells(&tab, 1, 8, &n), *b = sample_cells(&gauss, 1, 8, &m);
    qsort(a, n, sizeof *a, cmp_i32);
    qsort(b, m, sizeof *b, cmp_i32);
    double d = 0, mean_a = 0, mean_b = 0;
    for (size_t i = 0, j = 0; i < n || j < m;) {
        const int32_t v = i < n && (j >= m || a[i] <= b[j]) ? a[i] : b[j];
        while (i < n && a[i] == v)
            ++i;
        while (j < m && b[j] == v)
            ++j;
        d = fmax(d, fabs((double)i / (double)n - (double)j / (double)m));
    }
    for (size_t k = 0; k < n; ++k)
        mean_a += a[k] / (double)n;
    for (size_t k = 0; k < m; ++k)
        mean_b += b[k] / (double)m;
    const double bound = KS_C * sqrt(1.0 / SAMPLES + 1.0 / (double)n);
    if (d > bound)
        fail_msg("table of Gaussian samples vs the Gaussian model: KS %.4f > %.4f", d, bound);
    /* means: 5 standard errors of the table's samples and the cells */
    assert_true(fabs(mean_a - mean_b) < 5 * 4000 * sqrt(1.0 / SAMPLES + 1.0 / (double)n));
    free(a);
    free(b);
    cim_test_remove_tree(dir);
}

/* ---------------------------------------------------------------------------
 * Config keys
 */

static void test_config_resolves_to_documented_integers(void **state)
{
    (void)state;
    cim_xbar x = resolved("{\"m_mode\": \"TNN_I\", \"M\": 4, \"N\": 4, \"SAF_HRS\": 1}");
    assert_true(x.saf_below[0] == ONE && x.saf_below[1] == ONE);
    x = resolved("{\"m_mode\": \"TNN_I\", \"M\": 4, \"N\": 4, \"SAF_LRS\": 1}");
    assert_true(x.saf_below[0] == 0 && x.saf_below[1] == ONE);
    x = resolved("{\"m_mode\": \"TNN_I\", \"M\": 4, \"N\": 4, \"SAF_HRS\": 0.25, \"SAF_LRS\": "
                 "0.75}");
    assert_true(x.saf_below[0] == ONE / 4 && x.saf_below[1] == ONE);
    x = resolved("{\"m_mode\": \"TNN_I\", \"M\": 4, \"N\": 4, \"SAF_LRS\": 1e-9}");
    assert_true(x.saf_below[0] == 0 && x.saf_below[1] == 4); /* round(4.29) */
    x = resolved("{\"m_mode\": \"TNN_I\", \"M\": 4, \"N\": 4, \"device_cdf\": {\"HRS\": [[1, 0], "
                 "[4.0004, 0.5], [9, 1]]}, \"device_cdf_c2c\": {\"LRS\": [[-2, 0], [2, 1]]}, "
                 "\"c2c_var\": true}");
    assert_int_equal(x.cdf.n[CIM_CDF_D2D], 3);
    assert_int_equal(x.cdf.n[CIM_CDF_D2D + 1], 0);
    assert_int_equal(x.cdf.n[CIM_CDF_C2C + 1], 2);
    assert_true(x.cdf.i[0][1] == 4000 && x.cdf.p[0][1] == ONE / 2 && x.cdf.p[0][2] == ONE);
    assert_true(x.cdf.i[CIM_CDF_C2C + 1][0] == -2000);
    assert_true(cim_xbar_has_d2d(&x) && cim_xbar_has_c2c(&x));
    /* off with d2d_var / c2c_var and in digital mode; faults stay */
    x = resolved("{\"m_mode\": \"TNN_I\", \"M\": 4, \"N\": 4, \"d2d_var\": false, "
                 "\"device_cdf\": {\"HRS\": [[1, 0], [9, 1]]}, \"device_cdf_c2c\": {\"LRS\": "
                 "[[-2, 0], [2, 1]]}}");
    assert_false(cim_xbar_has_d2d(&x) || cim_xbar_has_c2c(&x));
    x = resolved("{\"m_mode\": \"TNN_I\", \"M\": 4, \"N\": 4, \"digital_only\": true, "
                 "\"SAF_LRS\": 0.5, \"device_cdf\": {\"HRS\": [[1, 0], [9, 1]]}}");
    assert_true(x.cdf.n[0] == 0 && x.saf_below[1] == ONE / 2);
}

static void test_config_round_trip(void **state)
{
    (void)state;
    char json[1024];
    snprintf(json, sizeof json,
             "{\"m_mode\": \"TNN_I\", \"M\": 4, \"N\": 4, \"SAF_HRS\": 0.0125, \"SAF_LRS\": 0.03, "
             "\"c2c_var\": true, \"device_cdf_csv\": \"%s/data/devices/example_rram.csv\", "
             "\"device_cdf_c2c\": {\"HRS\": [[-1.5, 0], [0.25, 0.6], [1, 1]]}}",
             CIM_SOURCE_DIR);
    cim_config a, b;
    cim_error err = {0, ""};
    assert_int_equal(cim_config_parse(json, "test", &a, &err), 0);
    char *text = cim_config_to_json(&a);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"SAF_HRS\":0.0125"));
    assert_non_null(strstr(text, "\"device_cdf\":{\"HRS\":[["));
    assert_null(strstr(text, "device_cdf_csv"));
    assert_null(strstr(text, "device_lognormal"));
    if (cim_config_parse(text, "round trip", &b, &err) != 0)
        fail_msg("%s", err.msg);
    char *again = cim_config_to_json(&b);
    assert_string_equal(text, again);
    cim_xbar xa, xb;
    assert_int_equal(cim_config_resolve(&a, NULL, 1, 0, &xa, &err), 0);
    assert_int_equal(cim_config_resolve(&b, NULL, 1, 0, &xb, &err), 0);
    assert_memory_equal(&xa, &xb, sizeof xa);
    free(text);
    free(again);
    /* read over a base: the text's D2D form replaces the base's D2D tables */
    cim_config c;
    assert_int_equal(cim_config_parse_over("{\"device_lognormal\": {\"LRS\": {\"mu\": 3.4, "
                                           "\"sigma\": 0.1}}}",
                                           "over", &a, &c, &err),
                     0);
    assert_true(c.cdf[CIM_CDF_D2D].n == 0 && c.cdf[CIM_CDF_D2D + 1].n == 129);
    assert_int_equal(c.cdf[CIM_CDF_C2C].n, 3); /* the base's C2C table stays */
    assert_true(c.saf_hrs == 0.0125);
    cim_config_free(&a);
    cim_config_free(&b);
    cim_config_free(&c);
}

static void test_config_rejects_bad_values(void **state)
{
    (void)state;
    char dir[4096], bad_csv[4200], one_csv[4200];
    assert_int_equal(cim_test_make_scratch_dir(dir, sizeof dir, "test_cells"), 0);
    snprintf(bad_csv, sizeof bad_csv, "%s/bad.csv", dir);
    snprintf(one_csv, sizeof one_csv, "%s/one.csv", dir);
    cim_test_write_text(bad_csv, "state,current_uA\nHRS,4.5\nXRS,3\n");
    cim_test_write_text(one_csv, "state,current_uA\nLRS,30\n");
    char csv_bad[4400], csv_one[4400];
    snprintf(csv_bad, sizeof csv_bad, "{\"device_cdf_csv\": \"%s\"}", bad_csv);
    snprintf(csv_one, sizeof csv_one, "{\"device_cdf_csv\": \"%s\"}", one_csv);
    const char *const cases[][2] = {
        {"{\"SAF_HRS\": -0.1}", "key \"SAF_HRS\""},
        {"{\"SAF_LRS\": 1.5}", "key \"SAF_LRS\""},
        {"{\"SAF_LRS\": \"0.1\"}", "key \"SAF_LRS\""},
        {"{\"SAF_HRS\": 0.6, \"SAF_LRS\": 0.5}", "SAF_HRS + SAF_LRS <= 1"},
        {"{\"device_cdf\": 5}", "key \"device_cdf\": expected an object"},
        {"{\"device_cdf\": {\"MRS\": [[1, 0], [2, 1]]}}", "\"HRS\" and \"LRS\""},
        {"{\"device_cdf\": {\"HRS\": \"x\"}}", "HRS: expected an array"},
        {"{\"device_cdf\": {\"HRS\": [[1, 0]]}}", "HRS: expected an array of 2 to 257"},
        {"{\"device_cdf\": {\"HRS\": [[1, 0], [\"2\", 1]]}}", "point 1: expected [I"},
        {"{\"device_cdf\": {\"HRS\": [[3, 0], [2, 1]]}}", "increase strictly"},
        {"{\"device_cdf\": {\"HRS\": [[3, 0], [3.0004, 1]]}}", "increase strictly in whole nA"},
        {"{\"device_cdf\": {\"LRS\": [[1, 0], [2, 0.9]]}}", "the last 1"},
        {"{\"device_cdf\": {\"LRS\": [[1, 0.1], [2, 1]]}}", "the first probability 0"},
        {"{\"device_cdf\": {\"LRS\": [[1, 0], [2, 0.6], [3, 0.5], [4, 1]]}}", "must not decrease"},
        {"{\"device_cdf\": {\"HRS\": [[-1, 0], [2, 1]]}}", "from 0 to 10000 (a cell current)"},
        {"{\"device_cdf_c2c\": {\"HRS\": [[-20000, 0], [2, 1]]}}", "key \"device_cdf_c2c\""},
        {"{\"device_cdf\": {\"HRS\": [[1, 0], [2, 1]]}, \"device_lognormal\": {\"HRS\": {\"mu\": "
         "1, \"sigma\": 0.1}}}",
         "given more than once"},
        {"{\"device_lognormal\": {\"LRS\": {\"mu\": 3, \"sigma\": 0}}}", "\"sigma\": a positive"},
        {"{\"device_lognormal\": {\"LRS\": {\"mu\": 12, \"sigma\": 0.1}}}", "from 0 to 10000"},
        {"{\"device_lognormal\": [1]}", "key \"device_lognormal\": expected an object"},
        {"{\"device_cdf_csv\": 3}", "expected the path of a CSV"},
        {"{\"device_cdf_csv\": \"/nonexistent/cells.csv\"}", "cannot open"},
        {csv_bad, "line 3: expected HRS or LRS"},
        {csv_one, "LRS: expected at least 2 samples"},
    };
    cim_config base;
    cim_error err = {0, ""};
    assert_int_equal(cim_config_run_default(&base, &err), 0);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; ++k) {
        cim_config cfg;
        err = (cim_error){0, ""};
        const int rc = cim_config_parse_over(cases[k][0], "bad.json", &base, &cfg, &err);
        if (rc != CIM_ERR_CONFIG || !strstr(err.msg, cases[k][1]) || strchr(err.msg, '\n') ||
            strncmp(err.msg, "bad.json: ", 10) != 0)
            fail_msg("%s: rc %d, message \"%s\" (expected \"%s\")", cases[k][0], rc, err.msg,
                     cases[k][1]);
    }
    cim_config_free(&base);
    cim_test_remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_stuck_is_closed_form),
        cmocka_unit_test(test_fault_fractions_are_binomial),
        cmocka_unit_test(test_faults_change_only_stuck_cells),
        cmocka_unit_test(test_sampler_matches_definition),
        cmocka_unit_test(test_two_point_table_is_uniform),
        cmocka_unit_test(test_cells_follow_example_table),
        cmocka_unit_test(test_lognormal_table),
        cmocka_unit_test(test_gaussian_samples_table_matches_gaussian_model),
        cmocka_unit_test(test_config_resolves_to_documented_integers),
        cmocka_unit_test(test_config_round_trip),
        cmocka_unit_test(test_config_rejects_bad_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
