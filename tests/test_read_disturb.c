/* test_read_disturb.c -- read disturb in the reads (the reference MVM; the
 * kernels equal it bit for bit in test_kernels, the executor in
 * test_executor), against the drift law evaluated directly.
 *
 *   - noise-free, OFF: a 64-row BNN_III column of LRS cells read with every
 *     input +1 gives, at each read k, exactly the truncation chain of the
 *     column current 64 LRS g(k, n0) (the drift the update after read k - 1
 *     set; k = 0 the programmed currents): the first read that sees drift is
 *     the first k with k t_read >= tau(n0), and the result never rises;
 *   - SOFTWARE: the refresh comes after the first read k with
 *     k t_read >= fp tau(1); the read after it sees fresh, undrifted cells
 *     again, so the result is back at the ideal 64;
 *   - the PHYSICAL model scales each chip's own D2D current by g: a chip's
 *     drifted column current is g times its programmed one (to the fixed
 *     point's rounding);
 *   - statistics with stated confidence, CELL_BASED with D2D sigma 2 uA over
 *     600 chips: the column current right after the first cell refresh
 *     (fresh draws from the refresh stream) has the Gaussian model's mean
 *     256 LRS and variance 256 sigma^2 (each within 5 standard errors:
 *     p < 1e-6 of a false failure), and is uncorrelated with the chip's
 *     first read (|r| < 5 / sqrt(n));
 *   - the counters: one programming per tile, the refreshes the schedule
 *     predicts.
 */
#include "cim_test_util.h"

#include <math.h>
#include <stdlib.h>

#include "cim_disturb.h"
#include "cim_reference.h"

#define ROWS 64
#define LRS_NA 30000
#define HRS_NA 5000
#define UNIT ((int64_t)1 << CIM_FINE_FRAC_BITS)

static cim_xbar disturbed(cim_mapping_id id, int32_t n, int strategy, double t_read)
{
    cim_xbar x = cim_test_xbar_inf(id, 1, n, HRS_NA, LRS_NA);
    x.seed = 99;
    x.disturb_on = 1;
    x.drift_model = CIM_DRIFT_LIBRARY;
    x.disturb.v_read = -0.4;
    x.disturb.t_read = t_read;
    x.disturb.update_freq = 1;
    x.disturb.strategy = strategy;
    x.disturb.fp = 1.5;
    x.disturb.tol = 0.02;
    x.disturb.initial_cycles = 0;
    x.disturb.lrs_na = LRS_NA;
    x.column.fine = 1;
    return x;
}

/* BNN_III with every weight and input +1: r = trunc(2 (I - 64 HRS) / Delta
 * - 64), the column current I = 64 cells each carrying c (fine units). */
static int32_t bnn3_result(int64_t cell_fine)
{
    const int64_t num = 2 * (ROWS * cell_fine - (int64_t)ROWS * HRS_NA * UNIT);
    const int64_t den = (int64_t)(LRS_NA - HRS_NA) * UNIT;
    return (int32_t)(num / den - ROWS); /* num >= 0 here: / truncates */
}

static void reads(const cim_xbar *x, int32_t n_reads, uint32_t trial, int32_t *out, int32_t *cur)
{
    int8_t w[ROWS], *in = malloc((size_t)n_reads * ROWS);
    assert_non_null(in);
    for (int n = 0; n < ROWS; ++n)
        w[n] = 1;
    for (int k = 0; k < n_reads * ROWS; ++k)
        in[k] = 1;
    const cim_mvm_trace tr = {cur, NULL, NULL};
    assert_int_equal(cim_reference_mvm(x, w, 1, ROWS, in, n_reads, 0, trial, out, cur ? &tr : NULL),
                     0);
    free(in);
}

static void test_off_follows_the_law(void **state)
{
    (void)state;
    enum { K = 200 };
    const cim_xbar x = disturbed(CIM_BNN_III, ROWS, CIM_DISTURB_OFF, 1e-5);
    cim_disturb_law law;
    cim_disturb_law_init(&law, -0.4, 1e-5);
    int32_t out[K];
    reads(&x, K, 0, out, NULL);
    const long double tau = cim_disturb_tau(&law, 0);
    int first = -1;
    for (int k = 0; k < K; ++k) {
        const long double g = k == 0 ? 1.0L : cim_disturb_g(&law, k, 0);
        const int64_t cell = k == 0 ? (int64_t)LRS_NA * UNIT : cim_disturb_lrs_fine(LRS_NA, g);
        assert_int_equal(out[k], bnn3_result(cell));
        if (k > 0)
            assert_true(out[k] <= out[k - 1]);
        if (first < 0 && out[k] < ROWS)
            first = k;
    }
    /* g < 1 from the first k with k t_read >= tau: the result drops there or later */
    const int onset = (int)ceill(tau / 1e-5L);
    assert_true(first >= onset && out[K - 1] < ROWS);
    assert_int_equal(out[onset - 1], ROWS);
}

static void test_software_refresh_restores(void **state)
{
    (void)state;
    enum { K = 120 };
    const cim_xbar x = disturbed(CIM_BNN_III, ROWS, CIM_DISTURB_SOFTWARE, 1e-5);
    cim_disturb_law law;
    cim_disturb_law_init(&law, -0.4, 1e-5);
    int32_t out[K];
    reads(&x, K, 0, out, NULL);
    /* the refresh follows read k = first k with k t >= fp tau(write + refreshes = 1) */
    const long double limit = 1.5L * cim_disturb_tau(&law, 1);
    int k_refresh = 1;
    while ((long double)k_refresh * 1e-5L < limit)
        ++k_refresh;
    assert_true(k_refresh < K - 1);
    assert_true(out[k_refresh - 1] < ROWS); /* drifted before it */
    assert_int_equal(out[k_refresh], ROWS); /* fresh after it (read k_refresh is MVM R = 1) */
    cim_disturb_schedule s;
    cim_disturb_counters c;
    cim_disturb_cells cells = {0, 0, 0};
    for (int n = 0; n < ROWS; ++n)
        cim_disturb_count_weight(CIM_BNN_III, 1, &cells);
    assert_int_equal(cim_disturb_schedule_build(&s, &x.disturb, K), 0);
    assert_int_equal(cim_disturb_counters_at(&s, K, &cells, &c), 0);
    assert_true(c.refresh_xbar >= 1 && c.write == 1 && c.refresh_cell == ROWS * c.refresh_xbar);
    int64_t tiles;
    cim_disturb_counters sum;
    int8_t w[ROWS];
    for (int n = 0; n < ROWS; ++n)
        w[n] = 1;
    assert_int_equal(cim_reference_disturb_counters(&x, w, 1, ROWS, K, &sum, &tiles), 0);
    assert_int_equal(tiles, 1);
    assert_memory_equal(&sum, &c, sizeof c);
    cim_disturb_schedule_free(&s);
}

static void test_physical_scales_the_chip_current(void **state)
{
    (void)state;
    enum { K = 80 };
    cim_xbar x = disturbed(CIM_BNN_III, ROWS, CIM_DISTURB_OFF, 1e-5);
    x.drift_model = CIM_DRIFT_PHYSICAL;
    x.d2d_sigma_na[CIM_STATE_LRS] = 3000;
    cim_disturb_law law;
    cim_disturb_law_init(&law, -0.4, 1e-5);
    int32_t out[K], cur[2 * K];
    for (uint32_t t = 0; t < 5; ++t) {
        reads(&x, K, t, out, cur);
        /* trace: [input][tile 0][conv 0..1][row 0]: conv 0 is I+ */
        const double programmed = cur[0];
        const long double g = cim_disturb_g(&law, K - 1, 0);
        const double drifted = cur[2 * (K - 1)];
        assert_true(g < 0.99L);
        assert_true(fabs(drifted - (double)g * programmed) <= ROWS); /* rounding: < 1 nA per cell */
    }
}

static void test_cell_refresh_draws_fresh_cells(void **state)
{
    (void)state;
    enum { N = 256, CHIPS = 600 };
    cim_xbar x = disturbed(CIM_BNN_III, N, CIM_DISTURB_CELL_BASED, 1e-5);
    x.d2d_sigma_na[CIM_STATE_LRS] = 2000;
    cim_disturb_schedule s;
    assert_int_equal(cim_disturb_schedule_build(&s, &x.disturb, 1000), 0);
    /* the read right after the first refresh: the start of the second run */
    int64_t k1 = -1;
    for (int64_t k = 1; k < 1000 && k1 < 0; ++k) {
        cim_disturb_segment seg;
        assert_int_equal(cim_disturb_at(&s, k, &seg), 0);
        if (seg.epoch == 1 && !seg.drifted)
            k1 = k;
    }
    cim_disturb_schedule_free(&s);
    assert_true(k1 > 0);
    int8_t w[N], *in = malloc((size_t)(k1 + 1) * N);
    int32_t *out = malloc(sizeof(int32_t) * (size_t)(k1 + 1));
    int32_t *cur = malloc(sizeof(int32_t) * 2 * (size_t)(k1 + 1));
    assert_true(in && out && cur);
    for (int n = 0; n < N; ++n)
        w[n] = 1;
    for (int64_t k = 0; k < (k1 + 1) * N; ++k)
        in[k] = 1;
    double s0 = 0, s1 = 0, q0 = 0, q1 = 0, s01 = 0;
    for (uint32_t t = 0; t < CHIPS; ++t) {
        const cim_mvm_trace tr = {cur, NULL, NULL};
        assert_int_equal(cim_reference_mvm(&x, w, 1, N, in, (int32_t)(k1 + 1), 0, t, out, &tr), 0);
        const double a = cur[0] - (double)N * LRS_NA, b = cur[2 * k1] - (double)N * LRS_NA;
        s0 += a;
        s1 += b;
        q0 += a * a;
        q1 += b * b;
        s01 += a * b;
    }
    const double n = CHIPS, var = (double)N * 2000.0 * 2000.0;
    const double m0 = s0 / n, m1 = s1 / n, v0 = q0 / n - m0 * m0, v1 = q1 / n - m1 * m1;
    const double se_mean = sqrt(var / n), se_var = var * sqrt(2.0 / (n - 1));
    const double r = (s01 / n - m0 * m1) / sqrt(v0 * v1);
    if (fabs(m0) > 5 * se_mean || fabs(m1) > 5 * se_mean || fabs(v0 - var) > 5 * se_var ||
        fabs(v1 - var) > 5 * se_var || fabs(r) > 5 / sqrt(n))
        fail_msg("first read: mean %.0f var %.4g; after the refresh (read %lld): mean %.0f var "
                 "%.4g; expected 0 +- %.0f, %.4g +- %.3g; correlation %.3f",
                 m0, v0, (long long)k1, m1, v1, 5 * se_mean, var, 5 * se_var, r);
    free(in);
    free(out);
    free(cur);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off_follows_the_law),
        cmocka_unit_test(test_software_refresh_restores),
        cmocka_unit_test(test_physical_scales_the_chip_current),
        cmocka_unit_test(test_cell_refresh_draws_fresh_cells),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
