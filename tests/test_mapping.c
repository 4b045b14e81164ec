/* test_mapping.c -- every mapping computes W·x exactly when nothing is noisy.
 *
 * Two layers of proof, both over all eleven mappings (docs/semantics.md):
 *  1. The table of kernels/cim_mappings.h, element by element: for every
 *     valid (w, x), the conversions' signed, scaled sums of cell terms plus the
 *     digital corrections give w·x -- in digital mode (c = s), and in analog
 *     mode as a polynomial in HRS and Delta (the HRS coefficient must vanish,
 *     the Delta coefficient must be w·x). The footprint columns of the table
 *     must match the "Footprint" table of docs/semantics.md.
 *  2. The reference MVM (mapping/cim_reference.c) end to end: digital mode and
 *     noise-free analog with an INF ADC equal plain W·x exactly on random
 *     matrices of several shapes (one tile, several tiles with ragged last
 *     tiles in both dimensions, 1x1), on constant patterns, and for HRS/LRS
 *     pairs other than 5/30 µA, including odd nA values that make TNN_IV's
 *     S·HRS/2 offsets half-units.
 * The random data come from a fixed-seed generator (tests/support), so every
 * run checks the same matrices.
 */
#include "cim_test_util.h"

#include <stdlib.h>

#include "cim_reference.h"

/* The logical crossbar of most tests: 16 outputs x 12 inputs. Chosen so that
 * a 37 x 29 matrix needs 3 x 3 tiles with ragged last tiles (37 = 2*16 + 5,
 * 29 = 2*12 + 5), and 12 x 12 and 5 x 9 fit in one tile. */
#define XBAR_M 16
#define XBAR_N 12
#define N_INPUTS 8 /* input vectors per random case */

/* Nominal currents of the paper's experiments, HRS/LRS = 5/30 µA, in nA. */
#define HRS_NA 5000
#define LRS_NA 30000

typedef struct shape {
    int32_t rows, cols, xbar_m, xbar_n;
} shape;

/* (rows, cols) on (xbar_m, xbar_n): square in one tile, non-square in one
 * tile, ragged 3x3 tiles, an exact 2x2 tiling, a 1x1 matrix, and a 1x1
 * crossbar where every weight is its own tile. */
static const shape SHAPES[] = {
    {12, 12, XBAR_M, XBAR_N}, {5, 9, XBAR_M, XBAR_N}, {37, 29, XBAR_M, XBAR_N},
    {32, 24, XBAR_M, XBAR_N}, {1, 1, XBAR_M, XBAR_N}, {3, 5, 1, 1},
};
#define N_SHAPES (sizeof SHAPES / sizeof SHAPES[0])

/* ---- 1. the mapping table ---- */

/* docs/semantics.md, "The mappings" and "Footprint", one row per mapping:
 * ternary alphabet, signed column current, cells per weight, drive vectors,
 * conversions per read, physical rows per input, physical columns per output. */
typedef struct footprint {
    int ternary, signed_current, n_slots, n_drives, n_convs, rows_per_input, cols_per_output;
} footprint;

static const footprint FOOTPRINT[CIM_MAPPING_COUNT] = {
    [CIM_BNN_I] = {0, 1, 2, 1, 1, 1, 2},   [CIM_BNN_II] = {0, 1, 2, 1, 1, 1, 2},
    [CIM_BNN_III] = {0, 0, 1, 2, 2, 1, 1}, [CIM_BNN_IV] = {0, 0, 1, 2, 2, 1, 1},
    [CIM_BNN_V] = {0, 0, 2, 2, 1, 2, 1},   [CIM_BNN_VI] = {0, 1, 4, 2, 1, 2, 2},
    [CIM_TNN_I] = {1, 1, 4, 2, 1, 2, 2},   [CIM_TNN_II] = {1, 1, 2, 2, 2, 1, 2},
    [CIM_TNN_III] = {1, 1, 2, 2, 2, 1, 2}, [CIM_TNN_IV] = {1, 0, 2, 2, 4, 1, 2},
    [CIM_TNN_V] = {1, 0, 2, 2, 4, 1, 2},
};

/* Fails with the mapping's name and the failed condition. */
#define REQUIRE(id, cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            print_error("%s: %s does not hold\n", cim_mapping_name((cim_mapping_id)(id)), #cond);  \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

static void test_footprint_matches_semantics(void **state)
{
    (void)state;
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
        const cim_mapping_desc *d = cim_mapping_desc_of((cim_mapping_id)id);
        const footprint *f = &FOOTPRINT[id];
        REQUIRE(id, d->ternary == f->ternary);
        REQUIRE(id, d->signed_current == f->signed_current);
        REQUIRE(id, d->n_slots == f->n_slots);
        REQUIRE(id, d->n_drives == f->n_drives);
        REQUIRE(id, d->n_convs == f->n_convs);
        REQUIRE(id, d->rows_per_input == f->rows_per_input);
        REQUIRE(id, d->cols_per_output == f->cols_per_output);
        /* Every physical cell of a weight sits at one (row, column) crossing. */
        REQUIRE(id, d->n_slots == d->rows_per_input * d->cols_per_output);
    }
}

static void test_table_entries_are_well_formed(void **state)
{
    (void)state;
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
        const cim_mapping_desc *d = cim_mapping_desc_of((cim_mapping_id)id);
        int slot_used[CIM_MAX_SLOTS] = {0};
        int has_negative_term = 0;
        REQUIRE(id, d->n_slots >= 1 && d->n_slots <= CIM_MAX_SLOTS);
        REQUIRE(id, d->n_drives >= 1 && d->n_drives <= CIM_MAX_DRIVES);
        REQUIRE(id, d->n_convs >= 1 && d->n_convs <= CIM_MAX_CONVS);
        for (int w = -1; w <= 1; ++w) {
            if (!cim_mapping_value_ok((cim_mapping_id)id, w))
                continue;
            for (int s = 0; s < d->n_slots; ++s) {
                int st = cim_mapping_cell_state((cim_mapping_id)id, s, w);
                REQUIRE(id, st == CIM_STATE_HRS || st == CIM_STATE_LRS);
            }
        }
        for (int dv = 0; dv < d->n_drives; ++dv)
            for (int x = -1; x <= 1; ++x)
                REQUIRE(id, d->drive[dv][x + 1] == 0 || d->drive[dv][x + 1] == 1);
        for (int j = 0; j < d->n_convs; ++j) {
            const cim_conv *cv = &d->conv[j];
            REQUIRE(id, cv->k == 1 || cv->k == 2);
            REQUIRE(id, cv->sign == 1 || cv->sign == -1);
            REQUIRE(id, cv->n_terms >= 1 && cv->n_terms <= CIM_MAX_TERMS);
            for (int t = 0; t < cv->n_terms; ++t) {
                REQUIRE(id, cv->terms[t].slot >= 0 && cv->terms[t].slot < d->n_slots);
                REQUIRE(id, cv->terms[t].drive >= 0 && cv->terms[t].drive < d->n_drives);
                REQUIRE(id, cv->terms[t].sign == 1 || cv->terms[t].sign == -1);
                slot_used[cv->terms[t].slot] = 1;
                has_negative_term |= cv->terms[t].sign < 0;
            }
        }
        /* No physical cell is programmed without being read... */
        for (int s = 0; s < d->n_slots; ++s)
            REQUIRE(id, slot_used[s]);
        /* ...and a column current is a difference exactly when the mapping
         * says it is signed (it then needs a SYM or INF ADC). */
        REQUIRE(id, has_negative_term == d->signed_current);
        /* Binary mappings read only x = +-1; the alphabet must say so. */
        REQUIRE(id, cim_mapping_value_ok((cim_mapping_id)id, 0) == d->ternary);
        REQUIRE(id, cim_mapping_value_ok((cim_mapping_id)id, 1));
        REQUIRE(id, cim_mapping_value_ok((cim_mapping_id)id, -1));
        REQUIRE(id, !cim_mapping_value_ok((cim_mapping_id)id, 2));
        REQUIRE(id, !cim_mapping_value_ok((cim_mapping_id)id, -2));
    }
}

/* Sum over the terms of conversion j that input x drives: sign * c(slot),
 * as the pair of coefficients (of HRS, of Delta) when c = HRS + state * Delta. */
static void conv_terms(const cim_mapping_desc *d, cim_mapping_id id, int j, int w, int x,
                       int64_t *coef_hrs, int64_t *coef_delta)
{
    const cim_conv *cv = &d->conv[j];
    *coef_hrs = 0;
    *coef_delta = 0;
    for (int t = 0; t < cv->n_terms; ++t) {
        if (!cim_mapping_drive(id, cv->terms[t].drive, x))
            continue;
        *coef_hrs += cv->terms[t].sign;
        *coef_delta += cv->terms[t].sign * cim_mapping_cell_state(id, cv->terms[t].slot, w);
    }
}

#define MAX_ELEMENTS 9 /* (w, x) pairs of the TNN alphabet, 3 x 3 */

/* Every valid (w, x) of a mapping's alphabet, as pairs[k][0] = w and
 * pairs[k][1] = x; returns how many (4 for BNN, 9 for TNN). */
static int element_pairs(cim_mapping_id id, int pairs[MAX_ELEMENTS][2])
{
    int n = 0;
    for (int w = -1; w <= 1; ++w)
        for (int x = -1; x <= 1; ++x)
            if (cim_mapping_value_ok(id, w) && cim_mapping_value_ok(id, x)) {
                pairs[n][0] = w;
                pairs[n][1] = x;
                ++n;
            }
    assert_int_equal(n, cim_mapping_desc_of(id)->ternary ? 9 : 4);
    return n;
}

/* The digital corrections of a 1-element tile: S = x, N = 1, sumw = w. */
static int64_t element_corrections(const cim_mapping_desc *d, int w, int x)
{
    return (int64_t)d->corr_sumw * w + (int64_t)d->corr_s * x + d->corr_n;
}

/* Runs `check` on every mapping and every valid (w, x) of its alphabet. */
typedef void element_check(const cim_mapping_desc *d, cim_mapping_id id, int w, int x);

static void for_each_element(element_check *check)
{
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
        int pairs[MAX_ELEMENTS][2];
        const int n = element_pairs((cim_mapping_id)id, pairs);
        for (int e = 0; e < n; ++e)
            check(cim_mapping_desc_of((cim_mapping_id)id), (cim_mapping_id)id, pairs[e][0],
                  pairs[e][1]);
    }
}

/* One weight, one input (a 1-element tile: S = x, N = 1, sumw = w), digital
 * mode: sum_j sign_j k_j I_j + corrections == w x, with c = state bit. */
static void check_digital_element(const cim_mapping_desc *d, cim_mapping_id id, int w, int x)
{
    int64_t r = element_corrections(d, w, x);
    for (int j = 0; j < d->n_convs; ++j) {
        int64_t h, dl;
        conv_terms(d, id, j, w, x, &h, &dl);
        r += (int64_t)d->conv[j].sign * d->conv[j].k * dl;
    }
    if (r != w * x)
        print_error("%s: w = %d, x = %d gives %lld\n", cim_mapping_name(id), w, x, (long long)r);
    CIM_ASSERT_I64_EQ(r, w * x);
}

static void test_table_identity_digital_per_element(void **state)
{
    (void)state;
    for_each_element(check_digital_element);
}

/* The same element in analog mode, INF ADC: 2 Delta r = sum_j sign_j k_j
 * (2 I_j + (os_j S + on_j N) HRS) + 2 Delta corr. As a polynomial in HRS and
 * Delta the HRS coefficient must be 0 and the Delta coefficient 2 w x. This
 * is per element, and every term is linear in the elements, so it holds for
 * any tile and any HRS, LRS. */
static void check_analog_element(const cim_mapping_desc *d, cim_mapping_id id, int w, int x)
{
    int64_t hrs2 = 0;
    int64_t delta2 = 2 * element_corrections(d, w, x);
    for (int j = 0; j < d->n_convs; ++j) {
        const cim_conv *cv = &d->conv[j];
        int64_t h, dl;
        conv_terms(d, id, j, w, x, &h, &dl);
        hrs2 += (int64_t)cv->sign * cv->k *
                (2 * h + (int64_t)cv->offset_half_s * x + cv->offset_half_n);
        delta2 += (int64_t)cv->sign * cv->k * 2 * dl;
    }
    if (hrs2 != 0 || delta2 != 2 * w * x)
        print_error("%s: w = %d, x = %d: HRS coefficient %lld, Delta %lld / 2\n",
                    cim_mapping_name(id), w, x, (long long)hrs2, (long long)delta2);
    CIM_ASSERT_I64_EQ(hrs2, 0);
    CIM_ASSERT_I64_EQ(delta2, 2 * w * x);
}

static void test_table_identity_analog_per_element(void **state)
{
    (void)state;
    for_each_element(check_analog_element);
}

/* The digital kernel counts the OR of a conversion's same-sign terms once
 * (kernels/cim_kernels.cl, cim_digital_current); that equals the sum of their
 * counts only if no input value drives two same-sign terms of a conversion. */
static void test_same_sign_terms_never_share_an_input(void **state)
{
    (void)state;
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
        const cim_mapping_desc *d = cim_mapping_desc_of((cim_mapping_id)id);
        for (int j = 0; j < d->n_convs; ++j) {
            for (int v = 0; v < 3; ++v) {
                int driven_plus = 0, driven_minus = 0;
                for (int t = 0; t < d->conv[j].n_terms; ++t) {
                    const cim_term *tm = &d->conv[j].terms[t];
                    if (d->drive[tm->drive][v]) {
                        driven_plus += tm->sign > 0;
                        driven_minus += tm->sign < 0;
                    }
                }
                if (driven_plus > 1 || driven_minus > 1)
                    fail_msg("%s conversion %d: input %d drives two same-sign terms",
                             cim_mapping_name((cim_mapping_id)id), j, v - 1);
            }
        }
    }
}

static void test_names_round_trip(void **state)
{
    (void)state;
    /* Names and order from docs/semantics.md; the order is part of the formats. */
    static const char *const names[CIM_MAPPING_COUNT] = {
        "BNN_I", "BNN_II", "BNN_III", "BNN_IV", "BNN_V", "BNN_VI",
        "TNN_I", "TNN_II", "TNN_III", "TNN_IV", "TNN_V",
    };
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
        cim_mapping_id back = CIM_MAPPING_COUNT;
        assert_string_equal(cim_mapping_name((cim_mapping_id)id), names[id]);
        assert_int_equal(cim_mapping_from_name(names[id], &back), 0);
        CIM_ASSERT_I64_EQ(back, id);
    }
    cim_mapping_id dummy;
    assert_int_equal(cim_mapping_from_name("TNN_VI", &dummy), -1);
    assert_int_equal(cim_mapping_from_name("bnn_i", &dummy), -1);
    assert_null(cim_mapping_name(CIM_MAPPING_COUNT));
}

/* ---- 2. the reference MVM ---- */

/* Random W (rows x cols) and N_INPUTS inputs for every shape; returns the
 * total number of wrong results over all shapes. */
static int random_cases(cim_mapping_id id, int digital, int32_t hrs_na, int32_t lrs_na,
                        uint64_t seed)
{
    cim_test_rng rng = cim_test_rng_init(seed);
    int bad = 0;
    for (size_t k = 0; k < N_SHAPES; ++k) {
        const shape *sh = &SHAPES[k];
        cim_xbar x = digital ? cim_test_xbar_digital(id, sh->xbar_m, sh->xbar_n)
                             : cim_test_xbar_inf(id, sh->xbar_m, sh->xbar_n, hrs_na, lrs_na);
        int8_t *w = malloc((size_t)sh->rows * sh->cols);
        int8_t *in = malloc((size_t)N_INPUTS * sh->cols);
        assert_non_null(w);
        assert_non_null(in);
        cim_test_random_values(&rng, id, w, (size_t)sh->rows * sh->cols);
        cim_test_random_values(&rng, id, in, (size_t)N_INPUTS * sh->cols);
        int r = cim_test_count_mismatches(&x, w, sh->rows, sh->cols, in, N_INPUTS,
                                          digital ? "digital" : "INF");
        assert_true(r >= 0);
        bad += r;
        free(w);
        free(in);
    }
    return bad;
}

static void test_digital_matches_dot_product(void **state)
{
    (void)state;
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id)
        CIM_ASSERT_I64_EQ(random_cases((cim_mapping_id)id, 1, 0, 0, 0x5eed0000u + id), 0);
}

static void test_inf_adc_matches_dot_product(void **state)
{
    (void)state;
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id)
        CIM_ASSERT_I64_EQ(random_cases((cim_mapping_id)id, 0, HRS_NA, LRS_NA, 0x5eed1000u + id), 0);
}

/* Other HRS/LRS pairs: 0.5/50 µA (a large on/off ratio); 5001/30007 nA (odd
 * HRS, so S*HRS/2 of TNN_IV is a half nA whenever S is odd, and Delta = 25006
 * shares no factor with the currents); 1/2 nA (Delta = 1, the smallest); and
 * 100000/100001 nA (HRS dominates, so every HRS term must cancel exactly). */
static void test_inf_adc_exact_for_other_currents(void **state)
{
    (void)state;
    static const int32_t pairs[][2] = {{500, 50000}, {5001, 30007}, {1, 2}, {100000, 100001}};
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; ++p)
        for (int id = 0; id < CIM_MAPPING_COUNT; ++id)
            CIM_ASSERT_I64_EQ(random_cases((cim_mapping_id)id, 0, pairs[p][0], pairs[p][1],
                                           0x5eed2000u + 16 * p + id),
                              0);
}

/* Constant patterns on the ragged 37 x 29 matrix: every combination of
 * W in {all +1, all -1, all 0 (TNN)} with x in {all +1, all -1, all 0 (TNN),
 * alternating +1/-1}. These reach the extremes of S, sumw and of every column
 * current (all cells of a column LRS, or all HRS). */
static void test_constant_patterns_match_dot_product(void **state)
{
    (void)state;
    enum { ROWS = 37, COLS = 29, N_PATTERNS = 4 };
    static int8_t w[ROWS * COLS], in[N_PATTERNS * COLS];
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
        const int ternary = cim_mapping_desc_of((cim_mapping_id)id)->ternary;
        /* Input vectors: all +1, all -1, alternating, all 0 (TNN) or
         * alternating the other way (BNN). */
        for (int n = 0; n < COLS; ++n) {
            in[0 * COLS + n] = 1;
            in[1 * COLS + n] = -1;
            in[2 * COLS + n] = (int8_t)(n % 2 ? -1 : 1);
            in[3 * COLS + n] = (int8_t)(ternary ? 0 : (n % 2 ? 1 : -1));
        }
        for (int wv = -1; wv <= 1; ++wv) {
            if (!cim_mapping_value_ok((cim_mapping_id)id, wv))
                continue;
            cim_test_fill(w, sizeof w, (int8_t)wv);
            cim_xbar dig = cim_test_xbar_digital((cim_mapping_id)id, XBAR_M, XBAR_N);
            cim_xbar inf = cim_test_xbar_inf((cim_mapping_id)id, XBAR_M, XBAR_N, HRS_NA, LRS_NA);
            cim_xbar odd = cim_test_xbar_inf((cim_mapping_id)id, XBAR_M, XBAR_N, 5001, 30007);
            CIM_ASSERT_I64_EQ(cim_test_count_mismatches(&dig, w, ROWS, COLS, in, N_PATTERNS,
                                                        "digital, constant W"),
                              0);
            CIM_ASSERT_I64_EQ(
                cim_test_count_mismatches(&inf, w, ROWS, COLS, in, N_PATTERNS, "INF, constant W"),
                0);
            CIM_ASSERT_I64_EQ(cim_test_count_mismatches(&odd, w, ROWS, COLS, in, N_PATTERNS,
                                                        "INF 5001/30007, constant W"),
                              0);
        }
    }
}

/* All-zero TNN input gives 0 whatever the weights (S = 0, nothing driven in
 * split encodings, but TNN_III drives its d0 = [x = 0] row and must cancel it
 * with sumw); all-zero weights give 0 whatever the input. Checked directly
 * against 0 rather than through W·x, so a wrong reference dot cannot hide it. */
static void test_tnn_zeros_give_zero(void **state)
{
    (void)state;
    enum { ROWS = 37, COLS = 29, N_IN = 4 };
    static int8_t w[ROWS * COLS], in[N_IN * COLS];
    int32_t out[N_IN * ROWS];
    cim_test_rng rng = cim_test_rng_init(0x2e80);
    for (int id = CIM_TNN_I; id <= CIM_TNN_V; ++id) {
        for (int mode = 0; mode < 2; ++mode) {
            cim_xbar x = mode ? cim_test_xbar_inf((cim_mapping_id)id, XBAR_M, XBAR_N, 5001, 30007)
                              : cim_test_xbar_digital((cim_mapping_id)id, XBAR_M, XBAR_N);
            /* zero inputs, random weights */
            cim_test_random_values(&rng, (cim_mapping_id)id, w, sizeof w);
            cim_test_fill(in, sizeof in, 0);
            assert_int_equal(cim_reference_mvm(&x, w, ROWS, COLS, in, N_IN, 0, 0, out, NULL), 0);
            for (int k = 0; k < N_IN * ROWS; ++k)
                CIM_ASSERT_I64_EQ(out[k], 0);
            /* zero weights, random inputs */
            cim_test_fill(w, sizeof w, 0);
            cim_test_random_values(&rng, (cim_mapping_id)id, in, sizeof in);
            assert_int_equal(cim_reference_mvm(&x, w, ROWS, COLS, in, N_IN, 0, 0, out, NULL), 0);
            for (int k = 0; k < N_IN * ROWS; ++k)
                CIM_ASSERT_I64_EQ(out[k], 0);
        }
    }
}

/* A 1x1 matrix, every valid (w, x), both modes: the smallest tile, where
 * S = x, N = 1 and sumw = w are the whole story. Expected w*x directly. */
static void test_single_weight_every_value(void **state)
{
    (void)state;
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
        for (int mode = 0; mode < 3; ++mode) {
            cim_xbar x = mode == 0   ? cim_test_xbar_digital((cim_mapping_id)id, 1, 1)
                         : mode == 1 ? cim_test_xbar_inf((cim_mapping_id)id, 1, 1, HRS_NA, LRS_NA)
                                     : cim_test_xbar_inf((cim_mapping_id)id, 1, 1, 5001, 30007);
            int pairs[MAX_ELEMENTS][2];
            const int n = element_pairs((cim_mapping_id)id, pairs);
            for (int e = 0; e < n; ++e) {
                const int w = pairs[e][0], xv = pairs[e][1];
                int8_t wm = (int8_t)w, in = (int8_t)xv;
                int32_t out = 12345;
                assert_int_equal(cim_reference_mvm(&x, &wm, 1, 1, &in, 1, 0, 0, &out, NULL), 0);
                if (out != w * xv)
                    print_error("%s mode %d: w = %d, x = %d gives %d\n",
                                cim_mapping_name((cim_mapping_id)id), mode, w, xv, out);
                CIM_ASSERT_I64_EQ(out, w * xv);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_footprint_matches_semantics),
        cmocka_unit_test(test_table_entries_are_well_formed),
        cmocka_unit_test(test_table_identity_digital_per_element),
        cmocka_unit_test(test_table_identity_analog_per_element),
        cmocka_unit_test(test_same_sign_terms_never_share_an_input),
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_digital_matches_dot_product),
        cmocka_unit_test(test_inf_adc_matches_dot_product),
        cmocka_unit_test(test_inf_adc_exact_for_other_currents),
        cmocka_unit_test(test_constant_patterns_match_dot_product),
        cmocka_unit_test(test_tnn_zeros_give_zero),
        cmocka_unit_test(test_single_weight_every_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
