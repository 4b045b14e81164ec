/* test_adc.c -- the ADC models and the rounding rules, on hand-computed cases.
 *
 * docs/semantics.md, ADC: J = I + o; a finite ADC clips J to [lo, hi], quantizes
 * it to Jq = lo + h * round((J - lo) / h) with h = (hi - lo) / steps, and
 * outputs A = round(Jq * k / Delta); every round is half away from zero.
 * POS has steps = 2^b - 1, SYM steps = 2^b - 2. INF keeps J * k / Delta exact
 * through the recombination of a tile and rounds once (kernels/cim_column.h).
 *
 * Every expected value below is worked out in the comment beside it. Ranges
 * and currents are chosen so that the interesting quantities -- (J - lo) / h
 * and Jq * k / Delta -- land exactly on .5, where a float implementation or a
 * round-half-even rule would give a different answer. ADC inputs and ranges
 * are passed in half-units (2 * nA), as cim_adc.h takes them.
 */
#include "cim_test_util.h"

#include <math.h>
#include <stdlib.h>

#include "cim_adc.h"
#include "cim_column.h"
#include "cim_units.h"

/* A finite ADC: `type`, `bits`, range [lo_na, hi_na], Delta in nA. */
static cim_column_params finite_adc(int type, int bits, int64_t lo_na, int64_t hi_na,
                                    int64_t delta_na)
{
    cim_column_params p = {0};
    p.mapping = CIM_TNN_I;
    p.hrs = 0;
    p.delta = delta_na;
    p.adc_type = type;
    p.adc_steps = cim_adc_steps(type, bits);
    p.adc_lo2 = 2 * lo_na;
    p.adc_hi2 = 2 * hi_na;
    return p;
}

/* The ideal ADC: `mapping`, HRS and Delta in nA. */
static cim_column_params inf_adc(cim_mapping_id mapping, int64_t hrs_na, int64_t delta_na)
{
    cim_column_params p = {0};
    p.mapping = mapping;
    p.hrs = hrs_na;
    p.delta = delta_na;
    p.adc_type = CIM_ADC_INF;
    return p;
}

/* The level table the kernels use instead of divisions (cim_adc.h). */
static int64_t *build_table(const cim_column_params *p)
{
    int64_t *t = malloc(sizeof(int64_t) * (size_t)cim_adc_table_len(p));
    assert_non_null(t);
    cim_adc_table_build(p, t);
    return t;
}

/* A(J) for J given in half-units, by the division form (the reference); the
 * table form must give the same output. */
static int64_t convert2(const cim_column_params *p, int64_t j2, int k)
{
    int64_t *t = build_table(p);
    int64_t a = cim_adc_convert(p, j2, k), b = cim_adc_convert_table(p, t, j2, k);
    free(t);
    if (a != b)
        print_error("J2 = %lld, k = %d: division form %lld, table form %lld\n", (long long)j2, k,
                    (long long)a, (long long)b);
    CIM_ASSERT_I64_EQ(b, a);
    return a;
}

/* A(J) for J given in nA (an integer). */
static int64_t convert_na(const cim_column_params *p, int64_t j_na, int k)
{
    return convert2(p, 2 * j_na, k);
}

/* A two-conversion tile (S, N and sumw as cim_column_result takes them): the
 * result r and the ADC outputs, by the division form (the reference) and by
 * the table form (the kernels'), must both be the expected ones. */
static void expect_column_both_forms(const cim_column_params *p, const int32_t current[2],
                                     int32_t s, int32_t n_used, int32_t sumw, int64_t r,
                                     int64_t adc0, int64_t adc1)
{
    int64_t *table = build_table(p);
    const int64_t *forms[2] = {NULL, table};
    for (int f = 0; f < 2; ++f) {
        int64_t adc[CIM_MAX_CONVS] = {0};
        CIM_ASSERT_I64_EQ(cim_column_result(p, current, s, n_used, sumw, forms[f], adc), r);
        CIM_ASSERT_I64_EQ(adc[0], adc0);
        CIM_ASSERT_I64_EQ(adc[1], adc1);
    }
    free(table);
}

static void test_adc_steps_per_type(void **state)
{
    (void)state;
    /* POS: 2^b levels, 2^b - 1 intervals; SYM: 2^b - 1 levels (odd, so 0 is
     * a level of a symmetric range), 2^b - 2 intervals. */
    CIM_ASSERT_I64_EQ(cim_adc_steps(CIM_ADC_POS, 1), 1);
    CIM_ASSERT_I64_EQ(cim_adc_steps(CIM_ADC_POS, 3), 7);
    CIM_ASSERT_I64_EQ(cim_adc_steps(CIM_ADC_POS, 5), 31);
    CIM_ASSERT_I64_EQ(cim_adc_steps(CIM_ADC_POS, 16), 65535);
    CIM_ASSERT_I64_EQ(cim_adc_steps(CIM_ADC_SYM, 2), 2);
    CIM_ASSERT_I64_EQ(cim_adc_steps(CIM_ADC_SYM, 3), 6);
    CIM_ASSERT_I64_EQ(cim_adc_steps(CIM_ADC_SYM, 5), 30);
    CIM_ASSERT_I64_EQ(cim_adc_steps(CIM_ADC_SYM, 16), 65534);
}

/* Parameters that config validation rejects -- a 1-bit SYM ADC (one level,
 * 0 steps), an empty range, Delta = 0 -- convert to 0 in both forms instead
 * of dividing by zero; the minimum bits per type are those that leave at
 * least one step. */
static void test_unusable_params_convert_to_zero(void **state)
{
    (void)state;
    CIM_ASSERT_I64_EQ(cim_adc_min_bits(CIM_ADC_POS), 1);
    CIM_ASSERT_I64_EQ(cim_adc_min_bits(CIM_ADC_SYM), 2);
    CIM_ASSERT_I64_EQ(cim_adc_steps(CIM_ADC_SYM, 1), 0);
    CIM_ASSERT_I64_EQ(cim_adc_steps(CIM_ADC_POS, cim_adc_min_bits(CIM_ADC_POS)), 1);
    CIM_ASSERT_I64_EQ(cim_adc_steps(CIM_ADC_SYM, cim_adc_min_bits(CIM_ADC_SYM)), 2);

    cim_column_params bad[3];
    bad[0] = finite_adc(CIM_ADC_SYM, 1, -8000, 8000, 1000); /* 0 steps */
    bad[1] = finite_adc(CIM_ADC_SYM, 3, 4000, 4000, 1000);  /* lo = hi */
    bad[2] = finite_adc(CIM_ADC_POS, 3, 0, 7000, 0);        /* Delta = 0 */
    static const int64_t inputs_na[] = {-9000, -8000, -1, 0, 1, 3999, 4000, 7000, 8000, 9000};
    for (int b = 0; b < 3; ++b) {
        assert_false(cim_adc_usable(&bad[b]));
        for (size_t i = 0; i < sizeof inputs_na / sizeof inputs_na[0]; ++i)
            for (int k = 1; k <= 2; ++k)
                CIM_ASSERT_I64_EQ(convert_na(&bad[b], inputs_na[i], k), 0);
    }
    cim_column_params sym2 = finite_adc(CIM_ADC_SYM, 2, -8000, 8000, 1000);
    assert_true(cim_adc_usable(&sym2));
    CIM_ASSERT_I64_EQ(convert_na(&sym2, -5000, 1), -8); /* levels -8000, 0, 8000 nA */
    CIM_ASSERT_I64_EQ(convert_na(&sym2, 3999, 1), 0);
    CIM_ASSERT_I64_EQ(convert_na(&sym2, 4000, 2), 16);
}

/* POS, 3 bits, range [0, 7000] nA, Delta = 1000 nA: h = 7000 / 7 = 1000 nA,
 * so the level is round(J / 1000) and A = k * level. */
static void test_pos_clipping_edges(void **state)
{
    (void)state;
    cim_column_params p = finite_adc(CIM_ADC_POS, 3, 0, 7000, 1000);
    CIM_ASSERT_I64_EQ(convert_na(&p, -500, 1), 0); /* below lo: clipped to 0 -> level 0 */
    CIM_ASSERT_I64_EQ(convert_na(&p, -500, 2), 0);
    CIM_ASSERT_I64_EQ(convert_na(&p, 0, 1), 0);     /* exactly lo */
    CIM_ASSERT_I64_EQ(convert_na(&p, 7000, 1), 7);  /* exactly hi: level 7, 7000/1000 */
    CIM_ASSERT_I64_EQ(convert_na(&p, 7000, 2), 14); /* 7000 * 2 / 1000 */
    CIM_ASSERT_I64_EQ(convert_na(&p, 9000, 1), 7);  /* above hi: clipped to 7000 */
    CIM_ASSERT_I64_EQ(convert_na(&p, 9000, 2), 14);
    CIM_ASSERT_I64_EQ(convert_na(&p, 1000000, 1), 7); /* far above hi */
    CIM_ASSERT_I64_EQ(convert_na(&p, 6999, 1), 7);    /* 6.999 -> 7 */
    CIM_ASSERT_I64_EQ(convert_na(&p, 1, 1), 0);       /* 0.001 -> 0 */
}

/* Same ADC: (J - lo) / h exactly k + 0.5 rounds up (away from zero; half-even
 * would give 2 for 2.5 and 0 for 0.5). */
static void test_pos_level_ties_round_away_from_zero(void **state)
{
    (void)state;
    cim_column_params p = finite_adc(CIM_ADC_POS, 3, 0, 7000, 1000);
    CIM_ASSERT_I64_EQ(convert_na(&p, 500, 1), 1);  /* 0.5 -> 1 */
    CIM_ASSERT_I64_EQ(convert_na(&p, 2500, 1), 3); /* 2.5 -> 3 */
    CIM_ASSERT_I64_EQ(convert_na(&p, 2500, 2), 6); /* level 3, Jq = 3000, 3000*2/1000 */
    CIM_ASSERT_I64_EQ(convert_na(&p, 6500, 1), 7); /* 6.5 -> 7 */
    CIM_ASSERT_I64_EQ(convert_na(&p, 2499, 1), 2); /* 2.499 -> 2 */
    /* Half-unit inputs (an S*HRS/2 offset can make J a half nA):
     * J = 2499.5 nA -> 2.4995 -> 2; J = 2500.5 nA -> 2.5005 -> 3. */
    CIM_ASSERT_I64_EQ(convert2(&p, 4999, 1), 2);
    CIM_ASSERT_I64_EQ(convert2(&p, 5001, 1), 3);
}

/* POS, 3 bits, [0, 7000] nA, Delta = 2000 nA, k = 1: h = 1000 nA, so
 * Jq / Delta = level / 2, a tie for every odd level. */
static void test_pos_output_ties_round_away_from_zero(void **state)
{
    (void)state;
    cim_column_params p = finite_adc(CIM_ADC_POS, 3, 0, 7000, 2000);
    CIM_ASSERT_I64_EQ(convert_na(&p, 1000, 1), 1); /* level 1: 0.5 -> 1 */
    CIM_ASSERT_I64_EQ(convert_na(&p, 3000, 1), 2); /* level 3: 1.5 -> 2 */
    CIM_ASSERT_I64_EQ(convert_na(&p, 5000, 1), 3); /* level 5: 2.5 -> 3 (half-even: 2) */
    CIM_ASSERT_I64_EQ(convert_na(&p, 7000, 1), 4); /* level 7 = hi: 3.5 -> 4 */
    CIM_ASSERT_I64_EQ(convert_na(&p, 3000, 2), 3); /* 3000 * 2 / 2000 = 3, no tie */
    /* Both ties in one conversion: J = 2500 -> level 2.5 -> 3 -> Jq = 3000 ->
     * 1.5 -> 2. Rounding the level down would give Jq = 2000 -> 1. */
    CIM_ASSERT_I64_EQ(convert_na(&p, 2500, 1), 2);
}

/* A POS range that does not start at 0 (CALIB): 2 bits, [1000, 4000] nA,
 * steps 3, h = 1000 nA, Delta = 1000 nA, k = 1: A = Jq / 1000. */
static void test_pos_offset_range(void **state)
{
    (void)state;
    cim_column_params p = finite_adc(CIM_ADC_POS, 2, 1000, 4000, 1000);
    CIM_ASSERT_I64_EQ(convert_na(&p, 500, 1), 1);  /* below lo: Jq = lo = 1000 */
    CIM_ASSERT_I64_EQ(convert_na(&p, 1000, 1), 1); /* exactly lo */
    CIM_ASSERT_I64_EQ(convert_na(&p, 2500, 1), 3); /* (2500-1000)/1000 = 1.5 -> 2, Jq = 3000 */
    CIM_ASSERT_I64_EQ(convert_na(&p, 4000, 1), 4); /* exactly hi */
    CIM_ASSERT_I64_EQ(convert_na(&p, 4500, 1), 4); /* above hi */
}

/* An interval that is not an integer number of nA: POS, 3 bits, [0, 1000] nA,
 * h = 1000/7 nA, Delta = 250 nA, k = 2. J = 500: (J - lo) / h = 500 * 7 / 1000
 * = 3.5 exactly -> level 4 (a float h = 142.857... may give 3.4999...), Jq =
 * 4000/7, A = round(4000/7 * 2 / 250) = round(32/7 = 4.571) = 5. */
static void test_pos_exact_rational_step(void **state)
{
    (void)state;
    cim_column_params p = finite_adc(CIM_ADC_POS, 3, 0, 1000, 250);
    CIM_ASSERT_I64_EQ(convert_na(&p, 500, 2), 5);
    /* J = 499: 3.493 -> level 3, Jq = 3000/7, A = round(24/7 = 3.43) = 3 */
    CIM_ASSERT_I64_EQ(convert_na(&p, 499, 2), 3);
    /* J = hi = 1000: A = 1000 * 2 / 250 = 8 */
    CIM_ASSERT_I64_EQ(convert_na(&p, 1000, 2), 8);
    /* J = 100: 0.7 -> level 1, Jq = 1000/7, A = round(8/7 = 1.14) = 1 */
    CIM_ASSERT_I64_EQ(convert_na(&p, 100, 2), 1);
}

/* SYM, 3 bits, [-3000, 3000] nA, Delta = 2000 nA: steps 6, h = 1000 nA, the
 * levels are -3000, -2000, ..., 3000 nA and A = round(Jq * k / 2000). */
static void test_sym_clipping_edges(void **state)
{
    (void)state;
    cim_column_params p = finite_adc(CIM_ADC_SYM, 3, -3000, 3000, 2000);
    CIM_ASSERT_I64_EQ(convert_na(&p, -3500, 1), -2); /* below lo: Jq = -3000, -1.5 -> -2 */
    CIM_ASSERT_I64_EQ(convert_na(&p, -3000, 1), -2); /* exactly lo */
    CIM_ASSERT_I64_EQ(convert_na(&p, -3000, 2), -3); /* -3000 * 2 / 2000 */
    CIM_ASSERT_I64_EQ(convert_na(&p, 3000, 1), 2);   /* exactly hi: 1.5 -> 2 */
    CIM_ASSERT_I64_EQ(convert_na(&p, 4000, 1), 2);   /* above hi */
    CIM_ASSERT_I64_EQ(convert_na(&p, 4000, 2), 3);   /* 3000 * 2 / 2000 */
    CIM_ASSERT_I64_EQ(convert_na(&p, 0, 1), 0);      /* zero is a level (level 3) */
    CIM_ASSERT_I64_EQ(convert_na(&p, 0, 2), 0);
}

/* Same SYM ADC, ties. The level tie is in (J - lo) / h >= 0, so it always
 * rounds toward +inf in J; the output tie Jq * k / Delta is signed and rounds
 * away from zero. */
static void test_sym_ties(void **state)
{
    (void)state;
    cim_column_params p = finite_adc(CIM_ADC_SYM, 3, -3000, 3000, 2000);
    /* J = -1500: (-1500 + 3000) / 1000 = 1.5 -> level 2, Jq = -1000,
     * -1000 / 2000 = -0.5 -> -1 */
    CIM_ASSERT_I64_EQ(convert_na(&p, -1500, 1), -1);
    /* J = -500: 2.5 -> level 3, Jq = 0 -> 0 */
    CIM_ASSERT_I64_EQ(convert_na(&p, -500, 1), 0);
    /* J = 500: 3.5 -> level 4, Jq = 1000 -> 0.5 -> 1 */
    CIM_ASSERT_I64_EQ(convert_na(&p, 500, 1), 1);
    /* J = -1000: level 2, Jq = -1000 -> -0.5 -> -1 (toward zero would be 0) */
    CIM_ASSERT_I64_EQ(convert_na(&p, -1000, 1), -1);
    /* J = 1000: 0.5 -> 1; J = -2000: -1.0 -> -1 */
    CIM_ASSERT_I64_EQ(convert_na(&p, 1000, 1), 1);
    CIM_ASSERT_I64_EQ(convert_na(&p, -2000, 1), -1);
}

/* 5 bits. POS [0, 31000] nA, Delta 1000: h = 1000, J = 15500 -> 15.5 -> 16;
 * above hi -> 31. SYM [-15000, 15000] nA, Delta 2000: steps 30, h = 1000;
 * J = lo -> -7.5 -> -8; J = 14500 -> (29500 / 1000 = 29.5) -> level 30 =
 * hi, 15000 / 2000 = 7.5 -> 8. */
static void test_five_bit_edges(void **state)
{
    (void)state;
    cim_column_params pos = finite_adc(CIM_ADC_POS, 5, 0, 31000, 1000);
    CIM_ASSERT_I64_EQ(convert_na(&pos, 15500, 1), 16);
    CIM_ASSERT_I64_EQ(convert_na(&pos, 40000, 1), 31);
    CIM_ASSERT_I64_EQ(convert_na(&pos, -1, 1), 0);
    cim_column_params sym = finite_adc(CIM_ADC_SYM, 5, -15000, 15000, 2000);
    CIM_ASSERT_I64_EQ(convert_na(&sym, -15000, 1), -8);
    CIM_ASSERT_I64_EQ(convert_na(&sym, 14500, 1), 8);
    CIM_ASSERT_I64_EQ(convert_na(&sym, -14500, 1), -7); /* 0.5 -> level 1, -14000/2000 = -7 */
}

/* The threshold table (cim_adc.h) against the division form, exhaustively
 * over every input from 40 half-units below lo to 40 above hi, k = 1 and 2,
 * for POS and SYM at 1..8 bits on ranges whose span is odd, even, smaller
 * than the number of steps, or not a multiple of it, with Delta odd or even,
 * and on a MAX range of a 256-row crossbar (HRS/LRS 5/30 µA) around every
 * threshold. Any disagreement is a kernel/reference mismatch. */
static void test_table_form_equals_division_form(void **state)
{
    (void)state;
    static const struct {
        int64_t lo2, hi2, delta;
    } ranges[] = {
        {0, 14000, 1000}, {-6000, 6000, 2000}, {-7, 1003, 25006},  {1, 2, 3},
        {0, 5, 1},        {-1001, 999, 250},   {2000, 8000, 1000}, {-3, 3, 1},
    };
    for (int type = CIM_ADC_POS; type <= CIM_ADC_SYM; ++type)
        for (int bits = 2; bits <= 8; ++bits)
            for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; ++r) {
                cim_column_params p = finite_adc(type, bits, 0, 0, ranges[r].delta);
                p.adc_lo2 = ranges[r].lo2;
                p.adc_hi2 = ranges[r].hi2;
                int64_t *t = build_table(&p);
                for (int64_t j2 = p.adc_lo2 - 40; j2 <= p.adc_hi2 + 40; ++j2)
                    for (int k = 1; k <= 2; ++k)
                        if (cim_adc_convert_table(&p, t, j2, k) != cim_adc_convert(&p, j2, k))
                            CIM_ASSERT_I64_EQ(convert2(&p, j2, k), cim_adc_convert(&p, j2, k));
                free(t);
            }
    /* POS 1 bit: one interval, levels lo and hi. */
    cim_column_params one = finite_adc(CIM_ADC_POS, 1, 0, 1000, 1000);
    CIM_ASSERT_I64_EQ(convert_na(&one, 499, 1), 0);
    CIM_ASSERT_I64_EQ(convert_na(&one, 500, 1), 1);
    /* MAX ranges of a 256-row crossbar, 5/30 µA: POS [0, 256 LRS], SYM
     * [-256 Delta, 256 Delta], 3..8 bits, around each threshold T_l. */
    for (int type = CIM_ADC_POS; type <= CIM_ADC_SYM; ++type)
        for (int bits = 3; bits <= 8; ++bits) {
            cim_column_params p = type == CIM_ADC_POS
                                      ? finite_adc(type, bits, 0, 256 * 30000, 25000)
                                      : finite_adc(type, bits, -256 * 25000, 256 * 25000, 25000);
            int64_t *t = build_table(&p);
            for (int64_t l = 0; l < p.adc_steps; ++l)
                for (int64_t j2 = t[l] - 2; j2 <= t[l] + 2; ++j2)
                    for (int k = 1; k <= 2; ++k)
                        CIM_ASSERT_I64_EQ(cim_adc_convert_table(&p, t, j2, k),
                                          cim_adc_convert(&p, j2, k));
            free(t);
        }
}

/* ---- cim_column_result: a whole tile's recombination ---- */

/* BNN_III, POS 3 bits, MAX range for a 4-row crossbar: [0, 4 * LRS] =
 * [0, 120000] nA, HRS 5000, LRS 30000, Delta 25000 nA; h = 120000/7 nA.
 * Tile: x = (+1, +1, +1, -1), w = (+1, -1, +1, +1): S = 2, W.x = 0.
 *   I+ = cP over x = +1: 30000 + 5000 + 30000 = 65000 nA
 *   I- = cP over x = -1: 30000 nA
 *   conv 0: J = I+ - S*HRS = 55000; level round(55000 * 7 / 120000 = 3.208)
 *           = 3, Jq = 360000/7, A = round(Jq * 2 / 25000 = 4.114) = 4
 *   conv 1: J = 30000; level round(1.75) = 2, Jq = 240000/7,
 *           A = round(2.743) = 3
 *   r = A0 - A1 - S = 4 - 3 - 2 = -1   (the 3-bit ADC costs one unit)
 * With an INF ADC: r = 2 * 55000 / 25000 - 2 * 30000 / 25000 - 2 =
 *   4.4 - 2.4 - 2 = 0 = W.x; adc_out = round(4.4), round(2.4) = 4, 2. */
static void test_column_bnn_iii_pos_worked(void **state)
{
    (void)state;
    cim_column_params p = finite_adc(CIM_ADC_POS, 3, 0, 120000, 25000);
    p.mapping = CIM_BNN_III;
    p.hrs = 5000;
    const int32_t current[2] = {65000, 30000};
    expect_column_both_forms(&p, current, 2, 4, 2, -1, 4, 3);
    p.adc_type = CIM_ADC_INF;
    int64_t adc[CIM_MAX_CONVS] = {0};
    CIM_ASSERT_I64_EQ(cim_column_result(&p, current, 2, 4, 2, NULL, adc), 0);
    CIM_ASSERT_I64_EQ(adc[0], 4);
    CIM_ASSERT_I64_EQ(adc[1], 2);
}

/* TNN_II, SYM 3 bits, MAX range for 4 rows: [-4 Delta, 4 Delta] =
 * [-100000, 100000] nA, Delta 25000, steps 6, h = 100000/3 nA.
 * Tile: x = (+1, +1, +1, -1), w = (+1, +1, +1, -1): W.x = 4.
 *   I0 = Delta * sum_{x != 0} w = 2 Delta = 50000 nA
 *   I1 = Delta * sum_{x = -1} w = -Delta = -25000 nA
 *   conv 0 (k 1): level round(150000 * 6 / 200000 = 4.5) = 5 (a tie),
 *           Jq = 200000/3, A = round(Jq / 25000 = 2.667) = 3
 *   conv 1 (k 2): level round(75000 * 6 / 200000 = 2.25) = 2,
 *           Jq = -100000/3, A = round(Jq * 2 / 25000 = -2.667) = -3
 *   r = A0 - A1 = 3 + 3 = 6
 * INF: r = 50000/25000 - 2 * (-25000)/25000 = 2 + 2 = 4 = W.x. */
static void test_column_tnn_ii_sym_worked(void **state)
{
    (void)state;
    cim_column_params p = finite_adc(CIM_ADC_SYM, 3, -100000, 100000, 25000);
    p.mapping = CIM_TNN_II;
    p.hrs = 5000;
    const int32_t current[2] = {50000, -25000};
    expect_column_both_forms(&p, current, 2, 4, 2, 6, 3, -3);
    p.adc_type = CIM_ADC_INF;
    int64_t adc[CIM_MAX_CONVS] = {0};
    CIM_ASSERT_I64_EQ(cim_column_result(&p, current, 2, 4, 2, NULL, adc), 4);
}

/* INF on a single conversion (TNN_I: r = round(I / Delta)), Delta = 25000:
 * a non-integer tile result rounds half away from zero. */
static void test_inf_single_conversion_rounds_half_away(void **state)
{
    (void)state;
    cim_column_params p = inf_adc(CIM_TNN_I, 5000, 25000);
    static const struct {
        int32_t current;
        int64_t r;
    } cases[] = {
        {12500, 1},                 /* 0.5 -> 1 */
        {-12500, -1},               /* -0.5 -> -1 */
        {12499, 0},                 /* 0.49996 -> 0 */
        {-12499, 0},  {-12501, -1}, /* -0.50004 -> -1 */
        {37500, 2},                 /* 1.5 -> 2 (half-even would also give 2) */
        {62500, 3},                 /* 2.5 -> 3 (half-even: 2) */
        {-62500, -3}, {0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        int32_t cur[1] = {cases[i].current};
        CIM_ASSERT_I64_EQ(cim_column_result(&p, cur, 0, 4, 0, NULL, NULL), cases[i].r);
    }
}

/* INF over several conversions keeps the sum exact and rounds once. TNN_II,
 * Delta = 25000: I0 = 10000, I1 = -1250:
 *   exact: 10000/25000 - 2 * (-1250)/25000 = 0.4 + 0.1 = 0.5 -> 1
 *   per conversion: round(0.4) - round(-0.1) = 0 - 0 = 0 (what adc_out shows).
 * Negated currents give -0.5 -> -1. */
static void test_inf_rounds_once_per_tile(void **state)
{
    (void)state;
    cim_column_params p = inf_adc(CIM_TNN_II, 5000, 25000);
    int64_t adc[CIM_MAX_CONVS] = {0};
    const int32_t pos[2] = {10000, -1250}, neg[2] = {-10000, 1250};
    CIM_ASSERT_I64_EQ(cim_column_result(&p, pos, 0, 4, 0, NULL, adc), 1);
    CIM_ASSERT_I64_EQ(adc[0], 0);
    CIM_ASSERT_I64_EQ(adc[1], 0);
    CIM_ASSERT_I64_EQ(cim_column_result(&p, neg, 0, 4, 0, NULL, adc), -1);
}

/* TNN_IV's S*HRS/2 offset is a half nA when S and HRS are odd. HRS = 5001,
 * LRS = 30007, Delta = 25006; one weight w = +1 (P = 1, Q = 0), x = +1:
 * S = 1, a = LRS, b = 0, e = HRS, f = 0. In half-units:
 *   J2_a = 2 * 30007 + 5001 = 65015, J2_b = 0 - 5001 = -5001,
 *   J2_e = 2 * 5001 = 10002, J2_f = 0;
 *   sum sign k J2 = 65015 + 5001 - 2 * 10002 + 0 = 50012 = 2 Delta -> r = 1.
 *   adc_out: round(65015 / 50012 = 1.29999) = 1, round(-0.09999) = 0,
 *            round(2 * 10002 / 50012 = 0.39999) = 0, 0. */
static void test_inf_half_unit_offsets_tnn_iv(void **state)
{
    (void)state;
    cim_column_params p = inf_adc(CIM_TNN_IV, 5001, 25006);
    const cim_mapping_desc *d = cim_mapping_desc_of(CIM_TNN_IV);
    CIM_ASSERT_I64_EQ(cim_adc_input2(&d->conv[0], 30007, 1, 1, p.hrs), 65015);
    CIM_ASSERT_I64_EQ(cim_adc_input2(&d->conv[1], 0, 1, 1, p.hrs), -5001);
    const int32_t current[4] = {30007, 0, 5001, 0};
    int64_t adc[CIM_MAX_CONVS] = {0};
    CIM_ASSERT_I64_EQ(cim_column_result(&p, current, 1, 1, 1, NULL, adc), 1);
    CIM_ASSERT_I64_EQ(adc[0], 1);
    CIM_ASSERT_I64_EQ(adc[1], 0);
    CIM_ASSERT_I64_EQ(adc[2], 0);
    CIM_ASSERT_I64_EQ(adc[3], 0);
}

/* Digital mode: A = k * I exactly, then signs and corrections. BNN_I:
 * r = 2 I - sumw; a column with I = 3 (popcount of P over driven rows minus
 * that of Q) and sumw = 2 gives 4. BNN_V: r = 2 I - N; I = 5, N = 7 -> 3. */
static void test_digital_column_is_exact_integer_arithmetic(void **state)
{
    (void)state;
    cim_column_params p = {0};
    p.digital = 1;
    p.delta = 1;
    p.mapping = CIM_BNN_I;
    int32_t cur[1] = {3};
    int64_t adc[CIM_MAX_CONVS] = {0};
    CIM_ASSERT_I64_EQ(cim_column_result(&p, cur, 0, 7, 2, NULL, adc), 4);
    CIM_ASSERT_I64_EQ(adc[0], 6);
    p.mapping = CIM_BNN_V;
    cur[0] = 5;
    CIM_ASSERT_I64_EQ(cim_column_result(&p, cur, 1, 7, 0, NULL, NULL), 3);
}

/* ---- the rounding primitives ---- */

/* An independent round(num / den) half away from zero: |num| = q den + rem,
 * round up when 2 rem >= den. */
static int64_t div_round_reference(int64_t num, int64_t den)
{
    int64_t a = num < 0 ? -num : num;
    int64_t q = a / den, rem = a % den;
    if (2 * rem >= den)
        ++q;
    return num < 0 ? -q : q;
}

static void test_div_round_ties_and_signs(void **state)
{
    (void)state;
    /* even denominators: exact ties */
    CIM_ASSERT_I64_EQ(cim_div_round(1, 2), 1);   /* 0.5 */
    CIM_ASSERT_I64_EQ(cim_div_round(-1, 2), -1); /* -0.5 */
    CIM_ASSERT_I64_EQ(cim_div_round(5, 2), 3);   /* 2.5 (half-even: 2) */
    CIM_ASSERT_I64_EQ(cim_div_round(-5, 2), -3);
    CIM_ASSERT_I64_EQ(cim_div_round(7, 2), 4); /* 3.5 */
    CIM_ASSERT_I64_EQ(cim_div_round(-7, 2), -4);
    CIM_ASSERT_I64_EQ(cim_div_round(6, 4), 2); /* 1.5 */
    CIM_ASSERT_I64_EQ(cim_div_round(-6, 4), -2);
    CIM_ASSERT_I64_EQ(cim_div_round(-2, 4), -1); /* -0.5 */
    CIM_ASSERT_I64_EQ(cim_div_round(5, 4), 1);   /* 1.25 */
    CIM_ASSERT_I64_EQ(cim_div_round(7, 4), 2);   /* 1.75 */
    CIM_ASSERT_I64_EQ(cim_div_round(-5, 4), -1);
    CIM_ASSERT_I64_EQ(cim_div_round(-7, 4), -2);
    CIM_ASSERT_I64_EQ(cim_div_round(0, 2), 0);
    /* odd denominators: no ties exist; nearest */
    CIM_ASSERT_I64_EQ(cim_div_round(4, 3), 1); /* 1.333 */
    CIM_ASSERT_I64_EQ(cim_div_round(5, 3), 2); /* 1.667 */
    CIM_ASSERT_I64_EQ(cim_div_round(-4, 3), -1);
    CIM_ASSERT_I64_EQ(cim_div_round(-5, 3), -2);
    CIM_ASSERT_I64_EQ(cim_div_round(12, 5), 2); /* 2.4 */
    CIM_ASSERT_I64_EQ(cim_div_round(13, 5), 3); /* 2.6 */
    CIM_ASSERT_I64_EQ(cim_div_round(-13, 5), -3);
    CIM_ASSERT_I64_EQ(cim_div_round(9, 1), 9);
    CIM_ASSERT_I64_EQ(cim_div_round(-9, 1), -9);
    /* large: (2^40 + 1) / 2 = 2^39 + 0.5 -> 2^39 + 1 */
    CIM_ASSERT_I64_EQ(cim_div_round(((int64_t)1 << 40) + 1, 2), ((int64_t)1 << 39) + 1);
    CIM_ASSERT_I64_EQ(cim_div_round(-(((int64_t)1 << 40) + 1), 2), -(((int64_t)1 << 39) + 1));
    /* exhaustive over a small square against the independent reference */
    for (int64_t den = 1; den <= 24; ++den)
        for (int64_t num = -200; num <= 200; ++num)
            if (cim_div_round(num, den) != div_round_reference(num, den))
                CIM_ASSERT_I64_EQ(cim_div_round(num, den), div_round_reference(num, den));
}

/* The 32-bit form of the ideal ADC's tile result (cim_column_result_fast,
 * the kernels' cim_column_result_fast_lanes) equals the 64-bit one for every
 * mapping: at rounding ties, at the edge of the currents it takes in 32 bits
 * and past it (where it hands over to the 64-bit form), at the smallest
 * denominator it accepts and below, and on random currents of every size. */
static void test_inf_narrow_equals_wide(void **state)
{
    (void)state;
    static const int64_t hrs_delta[][2] = {{5000, 25000}, {5001, 25006},     {1, 256},
                                           {1, 257},      {100000, 9900000}, {0, 1}};
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    for (int m = 0; m < CIM_MAPPING_COUNT; ++m) {
        for (size_t h = 0; h < sizeof hrs_delta / sizeof hrs_delta[0]; ++h) {
            const cim_column_params p =
                inf_adc((cim_mapping_id)m, hrs_delta[h][0], hrs_delta[h][1]);
            const int n_convs = CIM_MAPPINGS[m].n_convs;
            for (int k = 0; k < 4000; ++k) {
                int32_t cur[CIM_MAX_CONVS] = {0};
                const int32_t s = (int32_t)(k % 513) - 256, n_used = 1 + k % 256;
                for (int j = 0; j < n_convs; ++j) {
                    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                    const int64_t r = (int64_t)(rng >> 33);
                    switch (k % 4) {
                    case 0: /* small: ties of Delta / 2 multiples */
                        cur[j] = (int32_t)((r % 41 - 20) * (hrs_delta[h][1] / 2 + (k & 1)));
                        break;
                    case 1: /* around the 32-bit limit of a single conversion */
                        cur[j] = (int32_t)((((int64_t)1 << 28) - 64 + r % 128) * (r & 1 ? 1 : -1) /
                                           CIM_MAPPINGS[m].conv[j].k);
                        break;
                    default: /* anything a column can carry */
                        cur[j] = (int32_t)(r % ((int64_t)1 << 31) - ((int64_t)1 << 30));
                        break;
                    }
                }
                const int32_t sumw = (int32_t)(k % 129) - 64;
                const int32_t wide = cim_column_result(&p, cur, s, n_used, sumw, NULL, NULL);
                const int32_t narrow = cim_column_result_fast(&p, cur, s, n_used, sumw, NULL);
                if (wide != narrow) {
                    print_message("mapping %d, HRS %lld, Delta %lld, currents %d %d %d %d, S %d, "
                                  "N %d\n",
                                  m, (long long)p.hrs, (long long)p.delta, cur[0], cur[1], cur[2],
                                  cur[3], s, n_used);
                    CIM_ASSERT_I64_EQ(narrow, wide);
                }
            }
        }
    }
    /* the 32-bit division itself: every rounding case near ties */
    for (int32_t den = (int32_t)CIM_NARROW_MIN_DEN + 1; den < 5000; den += 37)
        for (int32_t q = -40; q <= 40; ++q)
            for (int32_t d = -2; d <= 2; ++d) {
                const int32_t num = q * den + den / 2 + d;
                CIM_ASSERT_I64_EQ(cim_div_round_narrow(num, den), cim_div_round(num, den));
                CIM_ASSERT_I64_EQ(cim_div_round_narrow(-num, den), cim_div_round(-num, den));
            }
    for (int32_t e = -4; e <= 4; ++e) { /* the largest numerators it accepts */
        const int32_t num = (int32_t)CIM_NARROW_MAX_NUM - 4 + e;
        CIM_ASSERT_I64_EQ(cim_div_round_narrow(num, 513), cim_div_round(num, 513));
        CIM_ASSERT_I64_EQ(cim_div_round_narrow(-num, 513), cim_div_round(-num, 513));
    }
}

/* sigma * z / 2^24 with z in Q24, half away from zero. Reference: the product
 * is exact in long double (|sigma z| < 2^62 fits its 64-bit mantissa), and
 * C's roundl rounds half away from zero. */
static int64_t scale_reference(int32_t sigma, int32_t z)
{
    long double v = (long double)sigma * (long double)z / (long double)(1 << CIM_Z_FRAC_BITS);
    return (int64_t)roundl(v);
}

static void test_scale_deviate_rounding(void **state)
{
    (void)state;
    const int32_t one = 1 << CIM_Z_FRAC_BITS, half = 1 << (CIM_Z_FRAC_BITS - 1);
    CIM_ASSERT_I64_EQ(cim_scale_deviate(1000, one), 1000); /* z = 1 */
    CIM_ASSERT_I64_EQ(cim_scale_deviate(1000, -one), -1000);
    CIM_ASSERT_I64_EQ(cim_scale_deviate(0, one), 0);
    CIM_ASSERT_I64_EQ(cim_scale_deviate(1, half), 1);     /* 0.5 -> 1 */
    CIM_ASSERT_I64_EQ(cim_scale_deviate(1, -half), -1);   /* -0.5 -> -1 */
    CIM_ASSERT_I64_EQ(cim_scale_deviate(1, half - 1), 0); /* just below 0.5 */
    CIM_ASSERT_I64_EQ(cim_scale_deviate(1, -(half - 1)), 0);
    CIM_ASSERT_I64_EQ(cim_scale_deviate(3, half), 2); /* 1.5 -> 2 */
    CIM_ASSERT_I64_EQ(cim_scale_deviate(5, half), 3); /* 2.5 -> 3 (half-even: 2) */
    CIM_ASSERT_I64_EQ(cim_scale_deviate(5, -half), -3);
    /* 16 µA at the sampler's tail cut: 16000 * 106333286 / 2^24 = 101407.32 -> 101407 */
    CIM_ASSERT_I64_EQ(cim_scale_deviate(16000, 106333286), 101407);
    CIM_ASSERT_I64_EQ(cim_scale_deviate(16000, -106333286), -101407);
    cim_test_rng rng = cim_test_rng_init(0xadc5ca1e);
    for (int i = 0; i < 100000; ++i) {
        int32_t sigma = cim_test_rng_int(&rng, 0, 1 << 20);
        int32_t z = cim_test_rng_int(&rng, -(7 << CIM_Z_FRAC_BITS), 7 << CIM_Z_FRAC_BITS);
        if (i % 4 == 0) /* z an odd multiple of 2^23: a tie whenever sigma is odd */
            z = (z | half) & ~(half - 1);
        int64_t want = scale_reference(sigma, z);
        if (cim_scale_deviate(sigma, z) != want) {
            print_error("sigma %d, z %d\n", sigma, z);
            CIM_ASSERT_I64_EQ(cim_scale_deviate(sigma, z), want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adc_steps_per_type),
        cmocka_unit_test(test_unusable_params_convert_to_zero),
        cmocka_unit_test(test_pos_clipping_edges),
        cmocka_unit_test(test_pos_level_ties_round_away_from_zero),
        cmocka_unit_test(test_pos_output_ties_round_away_from_zero),
        cmocka_unit_test(test_pos_offset_range),
        cmocka_unit_test(test_pos_exact_rational_step),
        cmocka_unit_test(test_sym_clipping_edges),
        cmocka_unit_test(test_sym_ties),
        cmocka_unit_test(test_five_bit_edges),
        cmocka_unit_test(test_table_form_equals_division_form),
        cmocka_unit_test(test_column_bnn_iii_pos_worked),
        cmocka_unit_test(test_column_tnn_ii_sym_worked),
        cmocka_unit_test(test_inf_single_conversion_rounds_half_away),
        cmocka_unit_test(test_inf_rounds_once_per_tile),
        cmocka_unit_test(test_inf_half_unit_offsets_tnn_iv),
        cmocka_unit_test(test_digital_column_is_exact_integer_arithmetic),
        cmocka_unit_test(test_div_round_ties_and_signs),
        cmocka_unit_test(test_inf_narrow_equals_wide),
        cmocka_unit_test(test_scale_deviate_rounding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
