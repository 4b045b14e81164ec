/* test_ladder.c -- bit-line IR drop in fixed point (kernels/cim_ladder.h) and
 * the exact arithmetic under it.
 *
 *   - cim_wide.h: the 128-bit product and quotient equal the compiler's
 *     unsigned __int128 on edge cases and 2^20 random inputs;
 *   - one ladder step is floor(s I_w / (s + I_w)) exactly;
 *   - a whole column against the real-valued recursion (long double, 64-bit
 *     mantissa): 0 <= real - fixed < N_xbar fine units on 2000 random columns
 *     of up to 512 rows, currents up to 10 mA, segment currents from 10 µA to
 *     2^38 nA; the worst error seen is printed;
 *   - towards ideal wires: I_w = CIM_LADDER_MAX_IW loses at most the
 *     first-order drop N sum^2 / I_w of the plain sum; no driven row gives
 *     exactly 0;
 *   - the physical rows per mapping (BNN_V/BNN_VI/TNN_I two per input in each
 *     column, the others one; TNN_IV/TNN_V bit columns) and row order (row 0
 *     farthest from the sense node loses most);
 *   - the finite ADC on fine inputs: the division form (cim_adc_convert with
 *     p.fine) equals the level table (cim_adc_convert_table) around every
 *     threshold, and a fine input of whole half-units converts as the whole
 *     input does without p.fine;
 *   - statistics with noise: D2D-varied chips' IR-drop currents have the
 *     mean and variance that the cells' moments propagated through the ladder
 *     predict (5 standard errors), and the ladder never adds current;
 *   - the ideal ADC's truncation chain (cim_column_result_fine) on hand-worked
 *     cases for the chain's three shapes (one truncation, per conversion,
 *     correction after), and equal to cim_column_result on whole currents
 *     whose results are integers, for every mapping.
 */
#include "cim_test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cim_adc.h"
#include "cim_cells.h"
#include "cim_column.h"
#include "cim_ladder.h"
#include "cim_mapping.h"
#include "cim_reference.h"
#include "cim_wide.h"

__extension__ typedef unsigned __int128 u128; /* GCC and Clang: the oracle */

static const int64_t UNIT = (int64_t)1 << CIM_FINE_FRAC_BITS;

static uint64_t rand_bits(cim_test_rng *r, int bits)
{
    const uint64_t v = cim_test_rng_next(r);
    return bits >= 64 ? v : v & (((uint64_t)1 << bits) - 1);
}

static void check_wide(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
    uint64_t hi, lo;
    cim_umul_wide(a, b, &hi, &lo);
    const u128 p = (u128)a * b;
    assert_true(hi == (uint64_t)(p >> 64) && lo == (uint64_t)p);
    const u128 n = p + c;
    if (d == 0 || (n >> 64) >= d)
        return; /* outside the quotient's domain */
    const uint64_t q = cim_umuladd_div(a, b, c, d);
    if ((u128)q != n / d)
        fail_msg("floor((%llu * %llu + %llu) / %llu): got %llu", (unsigned long long)a,
                 (unsigned long long)b, (unsigned long long)c, (unsigned long long)d,
                 (unsigned long long)q);
}

static void test_wide_arithmetic_matches_int128(void **state)
{
    (void)state;
    const uint64_t edge[] = {0,
                             1,
                             2,
                             3,
                             0xffffffffu,
                             0x100000000ull,
                             0x100000001ull,
                             UINT64_MAX,
                             UINT64_MAX - 1,
                             (uint64_t)1 << 63,
                             ((uint64_t)1 << 62) - 1};
    const int ne = (int)(sizeof edge / sizeof *edge);
    for (int i = 0; i < ne; ++i)
        for (int j = 0; j < ne; ++j)
            for (int k = 0; k < ne; ++k)
                for (int l = 0; l < ne; ++l)
                    check_wide(edge[i], edge[j], edge[k], edge[l]);
    cim_test_rng r = cim_test_rng_init(128);
    for (int i = 0; i < (1 << 20); ++i) {
        const int ba = 1 + (int)(cim_test_rng_next(&r) % 64),
                  bb = 1 + (int)(cim_test_rng_next(&r) % 64);
        const uint64_t a = rand_bits(&r, ba), b = rand_bits(&r, bb);
        const uint64_t d = rand_bits(&r, 1 + (int)(cim_test_rng_next(&r) % 64)) | 1u;
        check_wide(a, b, rand_bits(&r, 64), d);
        /* quotients near 2^64 and divisors with few high bits */
        check_wide(a | ((uint64_t)1 << 63), b, 0, (a | ((uint64_t)1 << 63)) + (b >> 1) + 1);
    }
}

static void test_step_is_the_exact_floor(void **state)
{
    (void)state;
    cim_test_rng r = cim_test_rng_init(7);
    assert_int_equal(cim_ladder_step(0, 12345), 0);
    for (int i = 0; i < (1 << 18); ++i) {
        const int64_t s = (int64_t)rand_bits(&r, 1 + (int)(cim_test_rng_next(&r) % 55));
        const int64_t iw = 1 + (int64_t)rand_bits(&r, 1 + (int)(cim_test_rng_next(&r) % 62));
        const u128 want = s ? (u128)s * (u128)iw / (u128)(s + iw) : 0;
        assert_true((u128)cim_ladder_step(s, iw) == want);
    }
}

/* One column: rows currents c[i] (nA) with drives d[i], n_rows segments. */
static int64_t column_fixed(const int32_t *c, const int *d, int n_cells, int n_rows, int64_t iw)
{
    int64_t u = 0;
    for (int i = 0; i < n_rows; ++i)
        u = cim_ladder_step(u + (i < n_cells && d[i] ? (int64_t)c[i] * UNIT : 0), iw);
    return u;
}

static long double column_real(const int32_t *c, const int *d, int n_cells, int n_rows,
                               long double iw_na)
{
    long double u = 0;
    for (int i = 0; i < n_rows; ++i) {
        const long double s = u + (i < n_cells && d[i] ? (long double)c[i] : 0);
        u = s * iw_na / (s + iw_na);
    }
    return u;
}

static void test_column_error_bound_against_real_recursion(void **state)
{
    (void)state;
    enum { MAX_ROWS = 512 };
    int32_t c[MAX_ROWS];
    int d[MAX_ROWS];
    cim_test_rng r = cim_test_rng_init(99);
    double worst = 0, worst_rel = 0;
    for (int t = 0; t < 2000; ++t) {
        const int rows = 1 + (int)(cim_test_rng_next(&r) % MAX_ROWS);
        const int32_t cmax = t % 3 == 0 ? 10000000 : 40000; /* 10 mA or 40 µA cells */
        for (int i = 0; i < rows; ++i) {
            c[i] = cim_test_rng_int(&r, 0, cmax);
            d[i] = (int)(cim_test_rng_next(&r) % 4 != 0);
        }
        /* I_w from 10 µA to 2^38 nA, in fine units */
        const double lg = log(1e4) + (log(ldexp(1.0, 38)) - log(1e4)) *
                                         (double)(cim_test_rng_next(&r) >> 11) * 0x1p-53;
        const int64_t iw = llround(exp(lg) * (double)UNIT);
        const int64_t fixed = column_fixed(c, d, rows, rows, iw);
        const long double real =
            column_real(c, d, rows, rows, (long double)iw / (long double)UNIT) * (long double)UNIT;
        const long double e = real - (long double)fixed; /* in fine units */
        if (!(e > -1e-3L * (1 + real * 1e-15L) && e < (long double)rows))
            fail_msg("%d rows, I_w %lld: fixed %lld, real %.6Lf fine units", rows, (long long)iw,
                     (long long)fixed, real);
        if ((double)e > worst)
            worst = (double)e;
        if (real > 0 && (double)(e / real) > worst_rel)
            worst_rel = (double)(e / real);
    }
    printf("ladder fixed point: worst error %.2f fine units (%.3g nA), %.3g relative\n", worst,
           worst / (double)UNIT, worst_rel);
}

static void test_ideal_wire_limit_and_empty_column(void **state)
{
    (void)state;
    int32_t c[256];
    int d[256];
    int64_t sum = 0;
    for (int i = 0; i < 256; ++i) {
        c[i] = 30000;
        d[i] = i % 3 != 0;
        sum += d[i] ? (int64_t)c[i] * UNIT : 0;
    }
    /* each segment loses u^2 / (u + I_w) <= sum^2 / I_w, plus < 1 unit of rounding */
    const int64_t u = column_fixed(c, d, 256, 256, CIM_LADDER_MAX_IW);
    const long double bound =
        256.0L * (long double)sum * (long double)sum / (long double)CIM_LADDER_MAX_IW + 256;
    assert_true(u <= sum && (long double)(sum - u) < bound);
    assert_true((long double)(sum - u) < 1e-2L * (long double)sum);
    for (int i = 0; i < 256; ++i)
        d[i] = 0;
    assert_int_equal(column_fixed(c, d, 256, 256, 1000), 0);
}

/* The rows a mapping gives an input in each column it has. */
static void test_physical_rows_per_mapping(void **state)
{
    (void)state;
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
        const cim_mapping_desc *d = cim_mapping_desc_of((cim_mapping_id)id);
        const int two = id == CIM_BNN_V || id == CIM_BNN_VI || id == CIM_TNN_I;
        for (int j = 0; j < d->n_convs; ++j) {
            const int pos = cim_ladder_rows_per_input(d, j, 1);
            const int neg = cim_ladder_rows_per_input(d, j, -1);
            assert_int_equal(pos, two ? 2 : 1);
            /* differential pairs have a negative column, the others none */
            assert_int_equal(neg, d->signed_current ? pos : 0);
        }
        assert_int_equal(cim_ladder_max_inputs(d, 64), two ? 32 : 64);
        assert_int_equal(cim_ladder_bit_columns(id), id == CIM_TNN_IV || id == CIM_TNN_V);
    }
}

/* Row 0 is farthest from the sense node: one LRS cell loses more there. */
static void test_far_rows_lose_more(void **state)
{
    (void)state;
    const cim_mapping_desc *d = cim_mapping_desc_of(CIM_BNN_III);
    const int64_t iw = (int64_t)2000000 << CIM_FINE_FRAC_BITS; /* 2 mA */
    int64_t prev = -1;
    for (int32_t pos = 0; pos < 8; ++pos) {
        cim_ladder l;
        cim_ladder_zero(&l);
        for (int32_t n = 0; n < 8; ++n) {
            const int64_t cells[CIM_MAX_SLOTS] = {n == pos ? 30000 * UNIT : 0, 0, 0, 0};
            cim_ladder_add_weight(d, 2 /* x = +1: the d+ read */, cells, iw, &l);
        }
        int64_t cur[CIM_MAX_CONVS];
        cim_ladder_finish(d, 8, 8, iw, &l, cur);
        assert_true(cur[0] > prev && cur[0] < (int64_t)30000 * UNIT);
        assert_int_equal(cur[1], 0); /* the d- read drives nothing */
        prev = cur[0];
    }
}

static cim_column_params finite(int type, int bits, int64_t lo2, int64_t hi2, int64_t delta)
{
    cim_column_params p = {0};
    p.mapping = CIM_TNN_I;
    p.delta = delta;
    p.adc_type = type;
    p.adc_steps = cim_adc_steps(type, bits);
    p.adc_lo2 = lo2;
    p.adc_hi2 = hi2;
    p.fine = 1;
    return p;
}

static void test_fine_adc_division_equals_table(void **state)
{
    (void)state;
    const cim_column_params cases[] = {
        finite(CIM_ADC_SYM, 6, -2 * 64 * 25000, 2 * 64 * 25000, 25000),
        finite(CIM_ADC_POS, 3, 0, 2 * 64 * 30000, 25000),
        finite(CIM_ADC_POS, 16, 0, 2 * 512 * 30000, 25000),
        finite(CIM_ADC_SYM, 4, -7, 9, 3), /* a range of a few half-units: many levels per unit */
    };
    cim_test_rng r = cim_test_rng_init(5);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; ++c) {
        const cim_column_params *p = &cases[c];
        int64_t *table = malloc(sizeof(int64_t) * (size_t)cim_adc_table_len(p));
        assert_non_null(table);
        cim_adc_table_build(p, table);
        cim_column_params whole = *p;
        whole.fine = 0;
        for (int k = 1; k <= 2; ++k) {
            for (int64_t l = 0; l < p->adc_steps; l += 1 + p->adc_steps / 64) {
                for (int64_t off = -3; off <= 3; ++off) {
                    const int64_t j2 = table[l] + off;
                    assert_int_equal(cim_adc_convert(p, j2, k),
                                     cim_adc_convert_table(p, table, j2, k));
                }
            }
            for (int i = 0; i < 20000; ++i) {
                const int64_t span = p->adc_hi2 - p->adc_lo2;
                const int64_t j2h = p->adc_lo2 - span / 4 +
                                    (int64_t)(cim_test_rng_next(&r) % (uint64_t)(span * 3 / 2 + 1));
                const int64_t j2 = j2h * UNIT + (int64_t)(cim_test_rng_next(&r) % (uint64_t)UNIT);
                assert_int_equal(cim_adc_convert(p, j2, k), cim_adc_convert_table(p, table, j2, k));
                /* whole half-units convert as without fine units */
                assert_int_equal(cim_adc_convert(p, j2h * UNIT, k),
                                 cim_adc_convert(&whole, j2h, k));
            }
        }
        free(table);
    }
}

static cim_column_params inf(cim_mapping_id m, int64_t hrs, int64_t delta)
{
    cim_column_params p = {0};
    p.mapping = m;
    p.hrs = hrs;
    p.delta = delta;
    p.adc_type = CIM_ADC_INF;
    p.fine = 1;
    return p;
}

/* Worked cases of the chain, Delta = 10 nA, HRS = 0 (no offsets). */
static void test_truncation_chain_worked_cases(void **state)
{
    (void)state;
    int64_t cur[CIM_MAX_CONVS] = {0, 0, 0, 0};
    /* BNN_I: trunc(A - sumw), A = 2 I / Delta. I = 17.5 nA: A = 3.5; sumw 5:
     * trunc(-1.5) = -1 (rounding at the end would give -2). */
    cim_column_params p = inf(CIM_BNN_I, 0, 10);
    cur[0] = 35 * UNIT / 2;
    assert_int_equal(cim_column_result_fine(&p, cur, 0, 8, 5, NULL, NULL), -1);
    /* just below: I = 17.5 nA - 1 fine unit: A - sumw = -1.5 - tiny: still -1 */
    cur[0] -= 1;
    assert_int_equal(cim_column_result_fine(&p, cur, 0, 8, 5, NULL, NULL), -1);
    /* I = 20 nA - 1 fine unit: A - 5 = -1 - tiny: trunc -1; at 20 nA exactly -1; 20 + 1: 0 */
    cur[0] = 20 * UNIT - 1;
    assert_int_equal(cim_column_result_fine(&p, cur, 0, 8, 5, NULL, NULL), -1);
    cur[0] = 30 * UNIT - 1; /* A - 5 = 0.99..: 0 */
    assert_int_equal(cim_column_result_fine(&p, cur, 0, 8, 5, NULL, NULL), 0);
    cur[0] = 30 * UNIT; /* exactly 1 */
    assert_int_equal(cim_column_result_fine(&p, cur, 0, 8, 5, NULL, NULL), 1);
    /* TNN_II: r = trunc(A0), r = trunc(r - A1); A0 = I0 / Delta, A1 = 2 I1 / Delta.
     * I0 = 25 nA (A0 2.5 -> 2), I1 = 3 nA (A1 0.6): trunc(2 - 0.6) = 1; one
     * truncation at the end would give trunc(1.9) = 1 too, so take I0 = 29 nA:
     * A0 2.9 -> 2, trunc(1.4) = 1; at the end: trunc(2.3) = 2. */
    p = inf(CIM_TNN_II, 0, 10);
    cur[0] = 29 * UNIT;
    cur[1] = 3 * UNIT;
    assert_int_equal(cim_column_result_fine(&p, cur, 0, 8, 0, NULL, NULL), 1);
    /* negative: A0 = -2.9 -> -2, A1 = -0.6: trunc(-2 + 0.6) = -1 */
    cur[0] = -29 * UNIT;
    cur[1] = -3 * UNIT;
    assert_int_equal(cim_column_result_fine(&p, cur, 0, 8, 0, NULL, NULL), -1);
    /* TNN_III: trunc(A0), trunc(r + A1), then - sumw: A0 = 2.9 -> 2, A1 = 0.6:
     * trunc(2.6) = 2, - sumw 4 = -2 (corrections inside would give trunc(-1.4) = -1) */
    p = inf(CIM_TNN_III, 0, 10);
    cur[0] = 29 * UNIT;
    cur[1] = 3 * UNIT;
    assert_int_equal(cim_column_result_fine(&p, cur, 0, 8, 4, NULL, NULL), -2);
    /* TNN_V: trunc(A0 - A1 + A2 - A3) - S, HRS 0: A0 = 0.5 (I 5 nA, k 1) gives
     * trunc(0.5) - S(2) = -2 (inside: trunc(-1.5) = -1) */
    p = inf(CIM_TNN_V, 0, 10);
    cur[0] = 5 * UNIT;
    cur[1] = cur[2] = cur[3] = 0;
    assert_int_equal(cim_column_result_fine(&p, cur, 2, 8, 0, NULL, NULL), -2);
    /* BNN_III with its offset -S HRS: HRS 3, S 2, Delta 10: A+ = 2 (I+ - 6) / 10,
     * I+ = 21 nA: 3; A- = 2 I- / 10, I- = 2.5 nA: 0.5; trunc(3 - 0.5 - 2) = 0 */
    p = inf(CIM_BNN_III, 3, 10);
    cur[0] = 21 * UNIT;
    cur[1] = 5 * UNIT / 2;
    assert_int_equal(cim_column_result_fine(&p, cur, 2, 8, 0, NULL, NULL), 0);
    cur[1] = 5 * UNIT / 2 - 1; /* A- just below 0.5: 0.5 + tiny remains: 0 */
    assert_int_equal(cim_column_result_fine(&p, cur, 2, 8, 0, NULL, NULL), 0);
    cur[0] = 26 * UNIT; /* A+ = 4: trunc(4 - 0.5 - 2) = 1 */
    cur[1] = 5 * UNIT / 2;
    assert_int_equal(cim_column_result_fine(&p, cur, 2, 8, 0, NULL, NULL), 1);
}

/* Whole currents whose results are integers: the chain equals the rounding
 * of cim_column_result (noise-free currents of random tiles, every mapping,
 * ideal and finite ADCs). */
static void test_chain_equals_rounding_on_integers(void **state)
{
    (void)state;
    cim_test_rng r = cim_test_rng_init(3);
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
        const cim_mapping_desc *d = cim_mapping_desc_of((cim_mapping_id)id);
        for (int finite_adc = 0; finite_adc < 2; ++finite_adc) {
            cim_column_params whole = {0};
            whole.mapping = id;
            whole.hrs = 5000;
            whole.delta = 25000;
            whole.adc_type = CIM_ADC_INF;
            if (finite_adc) {
                whole.adc_type = d->signed_current ? CIM_ADC_SYM : CIM_ADC_POS;
                whole.adc_steps = cim_adc_steps((int)whole.adc_type, 5);
                whole.adc_lo2 = d->signed_current ? -2 * 16 * 25000 : 0;
                whole.adc_hi2 = d->signed_current ? 2 * 16 * 25000 : 2 * 16 * 30000;
            }
            cim_column_params fine = whole;
            fine.fine = 1;
            for (int t = 0; t < 500; ++t) {
                int8_t w[16], x[16];
                cim_test_random_values(&r, (cim_mapping_id)id, w, 16);
                cim_test_random_values(&r, (cim_mapping_id)id, x, 16);
                int32_t c[CIM_MAX_CONVS] = {0, 0, 0, 0}, s = 0, sumw = 0;
                for (int n = 0; n < 16; ++n) {
                    int32_t cells[CIM_MAX_SLOTS];
                    const uint32_t u[4] = {0, 0, 0, 0};
                    const cim_cell_model m = {{5000, 30000}, {0, 0}, {0, 0}, {0, 0}, 0, 0};
                    cim_program_cells(d, w[n], &m, NULL, u, u, cells);
                    for (int j = 0; j < d->n_convs; ++j)
                        c[j] += cim_conv_current(d, j, x[n] + 1, cells);
                    s += x[n];
                    sumw += w[n];
                }
                int64_t cf[CIM_MAX_CONVS];
                for (int j = 0; j < CIM_MAX_CONVS; ++j)
                    cf[j] = (int64_t)c[j] * UNIT;
                assert_int_equal(cim_column_result_fine(&fine, cf, s, 16, sumw, NULL, NULL),
                                 cim_column_result(&whole, c, s, 16, sumw, NULL, NULL));
            }
        }
    }
}

/* The mean and variance (nA, nA^2) of a ladder of `rows` driven cells of
 * mean mu and sigma, propagated to second order: with s = u + c and
 * f(s) = s I_w / (s + I_w), E f = f(E s) + f''(E s) Var(s) / 2 and
 * Var f = f'(E s)^2 Var(s). */
static void ladder_moments(int rows, double mu, double sigma, double iw, double *mean, double *var)
{
    double m = 0, v = 0;
    for (int i = 0; i < rows; ++i) {
        const double sm = m + mu, sv = v + sigma * sigma, d = sm + iw;
        const double f1 = iw * iw / (d * d), f2 = -2 * iw * iw / (d * d * d);
        m = sm * iw / d + 0.5 * f2 * sv;
        v = f1 * f1 * sv;
    }
    *mean = m;
    *var = v;
}

/* With noise: 2000 D2D-varied chips (sigma 4 uA on LRS, 1 uA on HRS) of a
 * 128-row BNN_I column read by the reference, every cell driven. Their mean
 * IR-drop current (P column minus Q column) matches the second-order
 * propagation of the cells' mean and variance through the ladder
 * (ladder_moments: the curvature's bias included) within 5 standard errors
 * of the mean (a false failure has p < 1e-6; the neglected third-order terms
 * are below 0.1 nA here), and its spread the propagated variance within 5
 * standard errors of a variance; every chip's IR-drop current is below its
 * own plain sum. */
static void test_noisy_chips_follow_the_propagated_moments(void **state)
{
    (void)state;
    enum { N = 128, CHIPS = 2000 };
    const double iw_na = 5e6; /* 5 mA per segment: a strong drop, far from the plain sum */
    cim_xbar x = cim_test_xbar_inf(CIM_BNN_I, 1, N, 5000, 30000);
    x.seed = 4;
    x.ladder_iw = (int64_t)iw_na << CIM_FINE_FRAC_BITS;
    x.ladder_rows = N;
    x.column.fine = 1;
    x.d2d_sigma_na[CIM_STATE_LRS] = 4000;
    x.d2d_sigma_na[CIM_STATE_HRS] = 1000;
    cim_xbar plain = x;
    plain.ladder_iw = 0;
    plain.column.fine = 0;
    int8_t w[N], in[N];
    for (int n = 0; n < N; ++n) {
        w[n] = 1; /* every P cell LRS, every Q cell HRS */
        in[n] = 1;
    }
    int32_t out, cur[1], plain_cur[1];
    double sum = 0, sum2 = 0;
    for (uint32_t t = 0; t < CHIPS; ++t) {
        cim_mvm_trace tr = {cur, NULL, NULL};
        assert_int_equal(cim_reference_mvm(&x, w, 1, N, in, 1, 0, t, &out, &tr), 0);
        tr.current = plain_cur;
        assert_int_equal(cim_reference_mvm(&plain, w, 1, N, in, 1, 0, t, &out, &tr), 0);
        assert_true(cur[0] < plain_cur[0]);
        sum += cur[0];
        sum2 += (double)cur[0] * cur[0];
    }
    double mp, vp, mq, vq;
    ladder_moments(N, 30000, 4000, iw_na, &mp, &vp);
    ladder_moments(N, 5000, 1000, iw_na, &mq, &vq);
    const double n = CHIPS, mean = sum / n, var = sum2 / n - mean * mean;
    const double want_mean = mp - mq, want_var = vp + vq;
    const double se_mean = sqrt(want_var / n), se_var = want_var * sqrt(2.0 / (n - 1));
    if (fabs(mean - want_mean) > 5 * se_mean + 0.5 || fabs(var - want_var) > 5 * se_var)
        fail_msg("chips: mean %.1f nA, variance %.4g; propagated: %.1f +- %.1f, %.4g +- %.3g", mean,
                 var, want_mean, 5 * se_mean, want_var, 5 * se_var);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wide_arithmetic_matches_int128),
        cmocka_unit_test(test_step_is_the_exact_floor),
        cmocka_unit_test(test_column_error_bound_against_real_recursion),
        cmocka_unit_test(test_ideal_wire_limit_and_empty_column),
        cmocka_unit_test(test_physical_rows_per_mapping),
        cmocka_unit_test(test_far_rows_lose_more),
        cmocka_unit_test(test_fine_adc_division_equals_table),
        cmocka_unit_test(test_truncation_chain_worked_cases),
        cmocka_unit_test(test_chain_equals_rounding_on_integers),
        cmocka_unit_test(test_noisy_chips_follow_the_propagated_moments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
