/* test_disturb.c -- read disturb on the host: the drift law, its fixed point,
 * and a tile's schedule of drift and refreshes (mapping/cim_disturb.h,
 * kernels/cim_drift.h, docs/physics/read_disturb.md).
 *
 * 1. The law against the published figures: p, tau(0) at |V_read| = 0.2, 0.4,
 *    0.6 V, tau(1000) / tau(0) at 0.4 V, and the cycle bound (tau = 0 from
 *    n = 1423518 on, tau > 0 at 1423517); g in [0, 1], non-increasing.
 * 2. The fixed point: lrs_fine and g_q32 round to nearest (ties away), the
 *    physical model's integer scaling equals an exact 128-bit evaluation.
 * 3. Which cells drift per mapping, and cell counting.
 * 4. Hand-worked schedules: OFF with f = 1 and f = 3, a SOFTWARE refresh at
 *    the MVM the threshold predicts, CELL_BASED refreshes when LRS g leaves
 *    the tolerance band; their counters.
 * 5. The schedule against a step-by-step simulator of the state rules,
 *    written plainly below with one state per cell (so the shared history of
 *    a tile's drifting cells is checked, not assumed), over many random
 *    parameter sets: every MVM's value, epoch and counters.
 * 6. Large schedules stay small: 10^7 MVMs with f = 1, and the case where
 *    every update refreshes.
 */
#include "cim_test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cim_disturb.h"
#include "cim_drift.h"

#define KT_Q (1.38064852e-23 * 300.0 / 1.602176634e-19)
#define FINE_ONE ((int64_t)1 << CIM_FINE_FRAC_BITS)
#define G_ONE ((int64_t)1 << 32)
#define CYCLE_BOUND 1423518 /* first n with tau = 0 */

/* The law written again in double, for the hand-worked expectations. */
static double p_of(double v)
{
    return 0.0068 * exp(0.11 * fabs(v) / KT_Q);
}

static double tau_of(double v, double n)
{
    return 1.55e-8 * pow(1.43339 * (1.0 - 0.003 * pow(n, 0.41)), 1.0 / p_of(v));
}

static void assert_close(double got, double want, double tol, const char *what)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("%s: got %.10g, expected %.10g within %.3g", what, got, want, tol);
}

/* ---------------------------------------------------------------------------
 * 1. The law
 */

static void test_law_figures(void **state)
{
    (void)state;
    static const double v[3] = {-0.2, -0.4, -0.6};
    static const double p_fig[3] = {0.01593, 0.03730, 0.08735};
    /* tau(0) = 102 s / 2.414e-4 s / 9.56e-7 s, to the digits given */
    static const double tau_fig[3] = {102, 2.414e-4, 9.56e-7};
    static const double tau_tol[3] = {0.5, 0.0005e-4, 0.005e-7};
    for (int i = 0; i < 3; ++i) {
        cim_disturb_law law;
        cim_disturb_law_init(&law, v[i], 1e-9);
        assert_close((double)law.p, p_fig[i], 0.000005, "p");
        assert_close((double)cim_disturb_p(-v[i]), (double)law.p, 0, "p uses |V_read|");
        assert_close((double)cim_disturb_tau(&law, 0), tau_fig[i], tau_tol[i], "tau(0)");
    }
    cim_disturb_law law;
    cim_disturb_law_init(&law, -0.4, 1e-9);
    const long double ratio = cim_disturb_tau(&law, 1000) / cim_disturb_tau(&law, 0);
    assert_close((double)ratio, 0.25, 0.01, "tau(1000) / tau(0) at 0.4 V");
    assert_close((double)ratio, tau_of(-0.4, 1000) / tau_of(-0.4, 0), 1e-12, "tau(1000) ratio");
    /* g: 1 while r t_read < tau, then (r t_read / tau)^-p */
    const long double tau0 = cim_disturb_tau(&law, 0);
    const int64_t r_edge = (int64_t)(tau0 / 1e-9L); /* r t_read < tau up to here */
    assert_true(cim_disturb_g(&law, 0, 0) == 1);
    assert_true(cim_disturb_g(&law, r_edge, 0) == 1);
    const long double g_after = cim_disturb_g(&law, 2 * r_edge, 0);
    assert_true(g_after < 1);
    assert_close((double)g_after, pow(2.0 * (double)r_edge * 1e-9 / (double)tau0, -(double)law.p),
                 1e-12, "g past tau");
}

static void test_cycle_bound(void **state)
{
    (void)state;
    static const double v[3] = {-0.2, -0.4, -0.6};
    for (int i = 0; i < 3; ++i) {
        cim_disturb_law law;
        cim_disturb_law_init(&law, v[i], 1e-8);
        /* the exact bound is 1423517.44: 1423517 cycles still drift gently */
        assert_true(cim_disturb_tau(&law, CYCLE_BOUND - 1) > 0);
        assert_true(cim_disturb_g(&law, 1, CYCLE_BOUND - 1) > 0);
        assert_true(cim_disturb_tau(&law, CYCLE_BOUND) == 0);
        assert_true(cim_disturb_tau(&law, 2 * CYCLE_BOUND) == 0);
        static const int64_t reads[4] = {0, 1, 1000, 1000000000};
        for (int r = 0; r < 4; ++r) {
            assert_true(cim_disturb_g(&law, reads[r], CYCLE_BOUND) == 0);
            assert_true(cim_disturb_g(&law, reads[r], INT32_MAX) == 0);
        }
    }
}

static void test_g_is_monotone(void **state)
{
    (void)state;
    cim_test_rng rng = cim_test_rng_init(11);
    for (int c = 0; c < 40; ++c) {
        const double v = -0.1 - 0.6 * (double)cim_test_rng_int(&rng, 0, 1000) / 1000;
        cim_disturb_law law;
        cim_disturb_law_init(&law, v, 1.0);
        const int64_t n = cim_test_rng_int(&rng, 0, 2000000);
        /* t_read so that tau(n) is about 50 reads */
        law.t_read = cim_disturb_tau(&law, n) > 0 ? cim_disturb_tau(&law, n) / 50.3L : 1e-9L;
        long double last = 1;
        for (int64_t r = 0; r < 3000; ++r) {
            const long double g = cim_disturb_g(&law, r, n);
            assert_true(g >= 0 && g <= last);
            last = g;
            assert_true(cim_disturb_g(&law, r, n + 1) <= g);
        }
    }
}

/* ---------------------------------------------------------------------------
 * 2. The fixed point
 */

static void test_fixed_point_rounding(void **state)
{
    (void)state;
    assert_int_equal(cim_disturb_lrs_fine(30000, 1), 30000 * FINE_ONE);
    assert_int_equal(cim_disturb_lrs_fine(30000, 0.5L), 15000 * FINE_ONE);
    assert_int_equal(cim_disturb_lrs_fine(30000, 0), 0);
    /* 1 nA times g = 2^-25 is half a fine unit: ties away from zero */
    assert_int_equal(cim_disturb_lrs_fine(1, ldexpl(1, -25)), 1);
    assert_int_equal(cim_disturb_lrs_fine(1, ldexpl(3, -25)), 2);
    assert_int_equal(cim_disturb_lrs_fine(1, ldexpl(1, -25) * 0.999L), 0);
    assert_int_equal(cim_disturb_g_q32(1), G_ONE);
    assert_int_equal(cim_disturb_g_q32(0), 0);
    assert_int_equal(cim_disturb_g_q32(ldexpl(1, -33)), 1);
    assert_int_equal(cim_disturb_g_q32(ldexpl(1, -33) * 0.999L), 0);
    assert_int_equal(cim_disturb_g_q32(0.75L), 3 * (G_ONE / 4));
}

/* round(c g / 2^8) half away from zero: the product (below 2^63) and its
 * quotient by a power of two are exact in long double's 64-bit mantissa. */
static int64_t scale_exact(int64_t c, int64_t g)
{
    return (int64_t)roundl((long double)(c * g) / 256.0L);
}

static void test_physical_scale_is_exact(void **state)
{
    (void)state;
    static const int64_t cs[] = {0, 1, -1, 2, 30000, -30000, 4000000, INT32_MAX, -INT32_MAX};
    static const int64_t gs[] = {0,         1,    127, 128, 129, 255, 256, 384, (int64_t)1 << 31,
                                 G_ONE - 1, G_ONE};
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; ++i)
        for (size_t j = 0; j < sizeof gs / sizeof gs[0]; ++j)
            assert_int_equal(cim_drift_scale(cs[i], gs[j]), scale_exact(cs[i], gs[j]));
    cim_test_rng rng = cim_test_rng_init(5);
    for (int i = 0; i < 100000; ++i) {
        const int64_t c = cim_test_rng_int(&rng, -INT32_MAX, INT32_MAX);
        const int64_t g = (int64_t)(cim_test_rng_next(&rng) % (uint64_t)(G_ONE + 1));
        assert_int_equal(cim_drift_scale(c, g), scale_exact(c, g));
    }
    /* g = 1 gives the programmed current exactly */
    assert_int_equal(cim_drift_scale(29873, G_ONE), 29873 * FINE_ONE);
    /* the per-cell choice of kernels/cim_drift.h */
    assert_int_equal(cim_drift_current(29873, 0, CIM_DRIFT_LIBRARY, 5, 7), 29873 * FINE_ONE);
    assert_int_equal(cim_drift_current(29873, 0, CIM_DRIFT_PHYSICAL, 5, 7), 29873 * FINE_ONE);
    assert_int_equal(cim_drift_current(29873, 1, CIM_DRIFT_LIBRARY, 5, 7), 5);
    assert_int_equal(cim_drift_current(29873, 1, CIM_DRIFT_PHYSICAL, 5, G_ONE / 2),
                     scale_exact(29873, G_ONE / 2));
}

/* ---------------------------------------------------------------------------
 * 3. Which cells drift
 */

static void test_drifting_slots(void **state)
{
    (void)state;
    /* Q cells drift in these six mappings only */
    static const cim_mapping_id q_drift[] = {CIM_BNN_I, CIM_BNN_II, CIM_BNN_VI,
                                             CIM_TNN_I, CIM_TNN_II, CIM_TNN_III};
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
        int expect = 0;
        for (size_t i = 0; i < sizeof q_drift / sizeof q_drift[0]; ++i)
            expect |= q_drift[i] == (cim_mapping_id)id;
        assert_int_equal(cim_disturb_q_cells_drift((cim_mapping_id)id), expect);
        const int n_slots = CIM_MAPPINGS[id].n_slots;
        assert_true(cim_disturb_slot_drifts((cim_mapping_id)id, 0)); /* P */
        for (int s = 1; s < CIM_MAX_SLOTS; ++s)
            assert_int_equal(cim_disturb_slot_drifts((cim_mapping_id)id, s), s < n_slots && expect);
        assert_false(cim_disturb_slot_drifts((cim_mapping_id)id, -1));
    }
    assert_false(cim_disturb_slot_drifts(CIM_MAPPING_COUNT, 0));

    /* counting: BNN_V w = -1 is P HRS, Q LRS (Q does not drift) */
    cim_disturb_cells c = {0, 0, 0};
    cim_disturb_count_weight(CIM_BNN_V, -1, &c);
    assert_true(c.cells == 2 && c.lrs == 1 && c.lrs_drifting == 0);
    cim_disturb_count_weight(CIM_BNN_V, 1, &c);
    assert_true(c.cells == 4 && c.lrs == 2 && c.lrs_drifting == 1);
    /* TNN_I w = +1: P cells (slots 0, 3) LRS, all four slots drift */
    c = (cim_disturb_cells){0, 0, 0};
    cim_disturb_count_weight(CIM_TNN_I, 1, &c);
    assert_true(c.cells == 4 && c.lrs == 2 && c.lrs_drifting == 2);
    cim_disturb_count_weight(CIM_TNN_I, 0, &c);
    assert_true(c.cells == 8 && c.lrs == 2 && c.lrs_drifting == 2);
    /* TNN_IV w = -1: both bits LRS, only bit 0 (P) drifts */
    c = (cim_disturb_cells){0, 0, 0};
    cim_disturb_count_weight(CIM_TNN_IV, -1, &c);
    assert_true(c.cells == 2 && c.lrs == 2 && c.lrs_drifting == 1);
}

/* ---------------------------------------------------------------------------
 * 4. Hand-worked schedules
 */

static cim_disturb_params params(int strategy, double v, double t_read, int f)
{
    cim_disturb_params p;
    memset(&p, 0, sizeof p);
    p.v_read = v;
    p.t_read = t_read;
    p.update_freq = f;
    p.strategy = strategy;
    p.fp = 1;
    p.tol = 0;
    p.initial_cycles = 0;
    p.lrs_na = 30000;
    return p;
}

static cim_disturb_segment at(const cim_disturb_schedule *s, int64_t k)
{
    cim_disturb_segment seg;
    assert_int_equal(cim_disturb_at(s, k, &seg), 0);
    assert_true(seg.k_begin <= k && k < seg.k_end);
    return seg;
}

static void expect_programmed(const cim_disturb_schedule *s, int64_t k, int64_t k_begin,
                              int64_t k_end, int64_t epoch)
{
    const cim_disturb_segment seg = at(s, k);
    if (seg.drifted || seg.k_begin != k_begin || seg.k_end != k_end || seg.epoch != epoch)
        fail_msg("MVM %lld: expected programmed epoch %lld over [%lld, %lld), got drifted %d "
                 "epoch %lld over [%lld, %lld)",
                 (long long)k, (long long)epoch, (long long)k_begin, (long long)k_end, seg.drifted,
                 (long long)seg.epoch, (long long)seg.k_begin, (long long)seg.k_end);
    assert_int_equal(seg.g_q32, G_ONE);
}

/* Drifted over [k_begin, k_end) with g = pow(reads t_read / tau, -p) (double;
 * g_want 1 for the plateau). */
static void expect_drifted(const cim_disturb_schedule *s, int64_t k, int64_t k_begin, int64_t k_end,
                           int64_t epoch, double g_want)
{
    const cim_disturb_segment seg = at(s, k);
    if (!seg.drifted || seg.k_begin != k_begin || seg.k_end != k_end || seg.epoch != epoch)
        fail_msg("MVM %lld: expected drifted epoch %lld over [%lld, %lld), got drifted %d "
                 "epoch %lld over [%lld, %lld)",
                 (long long)k, (long long)epoch, (long long)k_begin, (long long)k_end, seg.drifted,
                 (long long)seg.epoch, (long long)seg.k_begin, (long long)seg.k_end);
    const double lrs_fine = (double)s->params.lrs_na * (double)FINE_ONE;
    assert_close((double)seg.lrs_fine, lrs_fine * g_want, 0.5 + lrs_fine * 1e-14, "LRS g");
    assert_close((double)seg.g_q32, (double)G_ONE * g_want, 0.5 + 1e-5, "g in Q32");
    if (g_want == 1) {
        assert_int_equal(seg.lrs_fine, s->params.lrs_na * FINE_ONE);
        assert_int_equal(seg.g_q32, G_ONE);
    }
}

static void test_off_schedules(void **state)
{
    (void)state;
    const double v = -0.4, p = p_of(v), tau0 = tau_of(v, 0);
    const double t_read = tau0 / 10.5; /* r t_read < tau for r <= 10 */
    cim_disturb_schedule s;
    cim_disturb_params pr = params(CIM_DISTURB_OFF, v, t_read, 1);
    assert_int_equal(cim_disturb_schedule_build(&s, &pr, 20), 0);
    assert_int_equal(s.n_groups, 1);
    assert_int_equal(s.refreshes, 0);
    /* MVM 0 sees the programming; the update after MVM k sets g(k + 1) */
    expect_programmed(&s, 0, 0, 1, 0);
    for (int k = 1; k <= 10; ++k)
        expect_drifted(&s, k, 1, 11, 0, 1);
    for (int k = 11; k < 20; ++k)
        expect_drifted(&s, k, k, k + 1, 0, pow(k / 10.5, -p));
    assert_int_equal(cim_disturb_at(&s, 20, &(cim_disturb_segment){0}), -1);
    assert_int_equal(cim_disturb_at(&s, -1, &(cim_disturb_segment){0}), -1);
    cim_disturb_schedule_free(&s);

    /* f = 3: updates after MVMs 2, 5, 8, ... (R = 3, 6, 9 below tau) */
    pr = params(CIM_DISTURB_OFF, v, t_read, 3);
    assert_int_equal(cim_disturb_schedule_build(&s, &pr, 20), 0);
    for (int k = 0; k < 3; ++k)
        expect_programmed(&s, k, 0, 3, 0);
    for (int k = 3; k < 12; ++k)
        expect_drifted(&s, k, 3, 12, 0, 1);
    for (int k = 12; k < 15; ++k)
        expect_drifted(&s, k, 12, 15, 0, pow(12 / 10.5, -p));
    expect_drifted(&s, 17, 15, 18, 0, pow(15 / 10.5, -p));
    expect_drifted(&s, 19, 18, 20, 0, pow(18 / 10.5, -p)); /* cut at the end */
    cim_disturb_counters c;
    const cim_disturb_cells cells = {10, 4, 3};
    assert_int_equal(cim_disturb_counters_at(&s, 20, &cells, &c), 0);
    assert_true(c.write == 1 && c.refresh_xbar == 0 && c.refresh_cell == 0 && c.cycles == 0);
    assert_int_equal(cim_disturb_counters_at(&s, 21, &cells, &c), -1);
    cim_disturb_schedule_free(&s);

    /* initial cycles: 1000 cycles shorten tau to about a quarter */
    pr = params(CIM_DISTURB_OFF, v, t_read, 1);
    pr.initial_cycles = 1000;
    assert_int_equal(cim_disturb_schedule_build(&s, &pr, 20), 0);
    const double tau_n = tau_of(v, 1000); /* 2.58 reads */
    expect_programmed(&s, 0, 0, 1, 0);
    expect_drifted(&s, 2, 1, 3, 0, 1);
    expect_drifted(&s, 3, 3, 4, 0, pow(3 * t_read / tau_n, -p));
    assert_int_equal(at(&s, 3).cycles, 1000);
    assert_int_equal(cim_disturb_counters_at(&s, 20, &cells, &c), 0);
    assert_int_equal(c.cycles, 10 * 1000);
    cim_disturb_schedule_free(&s);
}

static void test_software_refresh_at_predicted_mvm(void **state)
{
    (void)state;
    const double v = -0.4, p = p_of(v);
    const double fp = 2, tau1 = tau_of(v, 1), tau2 = tau_of(v, 2);
    const double t_read = fp * tau1 / 14.5; /* refresh once R >= 14.5: R = 15 */
    cim_disturb_params pr = params(CIM_DISTURB_SOFTWARE, v, t_read, 1);
    pr.fp = fp;
    cim_disturb_schedule s;
    assert_int_equal(cim_disturb_schedule_build(&s, &pr, 60), 0);
    /* run 0: cells of 0 cycles drift once R t_read >= tau(0) (R >= 7.86) */
    const double r0 = tau_of(v, 0) / t_read;
    assert_true(r0 > 7.5 && r0 < 8);
    expect_programmed(&s, 0, 0, 1, 0);
    expect_drifted(&s, 7, 1, 8, 0, 1);
    expect_drifted(&s, 8, 8, 9, 0, pow(8 / r0, -p));
    expect_drifted(&s, 14, 14, 15, 0, pow(14 / r0, -p));
    /* the update after MVM 14 (R = 15) refreshes: MVM 15 sees epoch 1 */
    expect_programmed(&s, 15, 15, 16, 1);
    assert_int_equal(at(&s, 15).xbar_epoch, 1);
    assert_int_equal(at(&s, 14).xbar_epoch, 0);
    /* run 1: threshold fp tau(2) / t_read = 14.12 reads, cells of 1 cycle */
    const int64_t len1 = (int64_t)ceil(fp * tau2 / t_read);
    assert_int_equal(len1, 15);
    const double r1 = tau1 / t_read; /* 7.25 */
    expect_drifted(&s, 22, 16, 23, 1, 1);
    expect_drifted(&s, 23, 23, 24, 1, pow(8 / r1, -p));
    assert_int_equal(at(&s, 23).cycles, 1);
    expect_programmed(&s, 30, 30, 31, 2);

    const cim_disturb_cells cells = {12, 5, 3};
    cim_disturb_counters c;
    assert_int_equal(cim_disturb_counters_at(&s, 15, &cells, &c), 0);
    assert_true(c.write == 1 && c.refresh_xbar == 1 && c.refresh_cell == 3 && c.cycles == 5);
    assert_int_equal(cim_disturb_counters_at(&s, 14, &cells, &c), 0);
    assert_true(c.refresh_xbar == 0 && c.refresh_cell == 0 && c.cycles == 0);
    assert_int_equal(cim_disturb_counters_at(&s, 30, &cells, &c), 0);
    assert_true(c.refresh_xbar == 2 && c.refresh_cell == 6 && c.cycles == 10);
    cim_disturb_schedule_free(&s);

    /* f = 4: the test runs at R = 4, 8, 12, 16 only: the refresh after MVM 15 */
    pr.update_freq = 4;
    assert_int_equal(cim_disturb_schedule_build(&s, &pr, 40), 0);
    expect_drifted(&s, 12, 12, 16, 0, pow(12 / r0, -p));
    expect_programmed(&s, 16, 16, 20, 1);
    cim_disturb_schedule_free(&s);
}

static void test_cell_based_refresh_leaves_band(void **state)
{
    (void)state;
    const double v = -0.4, p = p_of(v), tol = 0.01;
    const double t_read = tau_of(v, 0) / 10.5;
    cim_disturb_params pr = params(CIM_DISTURB_CELL_BASED, v, t_read, 1);
    pr.tol = tol;
    cim_disturb_schedule s;
    assert_int_equal(cim_disturb_schedule_build(&s, &pr, 60), 0);
    /* LRS g < 0.99 LRS once r > tau 0.99^(-1/p) / t_read */
    const double edge0 = 10.5 * pow(1 - tol, -1 / p); /* 13.74 */
    const int64_t r_refresh0 = (int64_t)floor(edge0) + 1;
    assert_int_equal(r_refresh0, 14);
    expect_drifted(&s, 10, 1, 11, 0, 1);
    expect_drifted(&s, 13, 13, 14, 0, pow(13 / 10.5, -p));
    assert_true(pow(13 / 10.5, -p) >= 1 - tol && pow(14 / 10.5, -p) < 1 - tol);
    expect_programmed(&s, 14, 14, 15, 1);
    assert_int_equal(at(&s, 14).xbar_epoch, 0); /* only the drifting cells are refreshed */
    /* run 1: one more cycle, r counts from 0 again */
    const double r1 = tau_of(v, 1) / t_read; /* 9.69 */
    const int64_t r_refresh1 = (int64_t)floor(r1 * pow(1 - tol, -1 / p)) + 1;
    assert_int_equal(r_refresh1, 13);
    expect_drifted(&s, 14 + 9, 15, 24, 1, 1);
    expect_drifted(&s, 14 + 10, 24, 25, 1, pow(10 / r1, -p));
    expect_programmed(&s, 27, 27, 28, 2);
    const cim_disturb_cells cells = {12, 5, 3};
    cim_disturb_counters c;
    assert_int_equal(cim_disturb_counters_at(&s, 27, &cells, &c), 0);
    assert_true(c.write == 1 && c.refresh_xbar == 0 && c.refresh_cell == 6 && c.cycles == 6);
    assert_int_equal(cim_disturb_counters_at(&s, 26, &cells, &c), 0);
    assert_true(c.refresh_cell == 3 && c.cycles == 3);
    cim_disturb_schedule_free(&s);

    /* f = 3: the band is checked at r = 3, 6, ..., 15 > 13.74 */
    pr.update_freq = 3;
    assert_int_equal(cim_disturb_schedule_build(&s, &pr, 40), 0);
    expect_drifted(&s, 14, 12, 15, 0, pow(12 / 10.5, -p));
    expect_programmed(&s, 15, 15, 18, 1);
    cim_disturb_schedule_free(&s);

    /* tol = 0: the first g < 1 refreshes (r = 11); tol = 1: never */
    pr.update_freq = 1;
    pr.tol = 0;
    assert_int_equal(cim_disturb_schedule_build(&s, &pr, 40), 0);
    expect_drifted(&s, 10, 1, 11, 0, 1);
    expect_programmed(&s, 11, 11, 12, 1);
    cim_disturb_schedule_free(&s);
    pr.tol = 1;
    pr.initial_cycles = CYCLE_BOUND; /* g = 0 stays inside [0, 2 LRS] */
    assert_int_equal(cim_disturb_schedule_build(&s, &pr, 40), 0);
    assert_int_equal(s.refreshes, 0);
    expect_drifted(&s, 39, 39, 40, 0, 0);
    assert_int_equal(at(&s, 39).lrs_fine, 0);
    assert_int_equal(at(&s, 39).g_q32, 0);
    cim_disturb_schedule_free(&s);
}

static void test_params_rejected(void **state)
{
    (void)state;
    cim_disturb_schedule s;
    cim_disturb_params ok = params(CIM_DISTURB_OFF, -0.4, 1e-8, 1), p;
    assert_int_equal(cim_disturb_schedule_build(&s, &ok, 0), 0);
    assert_int_equal(s.n_groups, 0);
    cim_disturb_counters c;
    assert_int_equal(cim_disturb_counters_at(&s, 0, &(cim_disturb_cells){3, 2, 1}, &c), 0);
    assert_int_equal(c.write, 1);
    assert_int_equal(cim_disturb_at(&s, 0, &(cim_disturb_segment){0}), -1);
    cim_disturb_schedule_free(&s);
    assert_int_equal(cim_disturb_schedule_build(&s, &ok, -1), CIM_DISTURB_ERR_PARAMS);
    ok.fp = 0.5; /* read by SOFTWARE only */
    ok.tol = 2;  /* read by CELL_BASED only */
    assert_true(cim_disturb_params_valid(&ok));
#define REJECT(field, value, strat)                                                                \
    do {                                                                                           \
        p = ok;                                                                                    \
        p.strategy = (strat);                                                                      \
        p.fp = 1;                                                                                  \
        p.tol = 0.5;                                                                               \
        assert_true(cim_disturb_params_valid(&p));                                                 \
        p.field = (value);                                                                         \
        assert_false(cim_disturb_params_valid(&p));                                                \
        assert_int_equal(cim_disturb_schedule_build(&s, &p, 10), CIM_DISTURB_ERR_PARAMS);          \
        assert_null(s.groups);                                                                     \
    } while (0)
    REJECT(t_read, 0, CIM_DISTURB_OFF);
    REJECT(t_read, -1e-9, CIM_DISTURB_OFF);
    REJECT(t_read, NAN, CIM_DISTURB_OFF);
    REJECT(v_read, INFINITY, CIM_DISTURB_OFF);
    REJECT(update_freq, 0, CIM_DISTURB_OFF);
    REJECT(initial_cycles, -1, CIM_DISTURB_OFF);
    REJECT(lrs_na, -1, CIM_DISTURB_OFF);
    REJECT(strategy, 3, CIM_DISTURB_OFF);
    REJECT(fp, 0.999, CIM_DISTURB_SOFTWARE);
    REJECT(fp, NAN, CIM_DISTURB_SOFTWARE);
    REJECT(tol, -0.01, CIM_DISTURB_CELL_BASED);
    REJECT(tol, 1.01, CIM_DISTURB_CELL_BASED);
#undef REJECT
}

/* ---------------------------------------------------------------------------
 * 5. Against a step-by-step simulator of the state rules
 */

/* One physical cell of the tile, as the rules describe it. */
typedef struct sim_cell {
    int lrs, drifts;
    int64_t n, r;  /* cycles; reads since its last refresh (CELL_BASED) */
    int drifted;   /* 0: programmed current of `epoch`; 1: LRS g */
    int64_t epoch; /* the programming its current comes from */
    long double g;
} sim_cell;

typedef struct sim {
    cim_disturb_params p;
    cim_disturb_law law;
    sim_cell *cells;
    int n_cells;
    int64_t R, write, refresh_xbar, refresh_cell;
} sim;

/* Programming from all-HRS: no LRS -> HRS transition, cycles stay n0. */
static void sim_program(sim *m)
{
    m->write += 1;
    m->R = 0;
    for (int i = 0; i < m->n_cells; ++i) {
        sim_cell *c = &m->cells[i];
        c->n = m->p.initial_cycles;
        c->r = 0;
        c->drifted = 0;
        c->epoch = 0;
    }
}

/* The steps of one MVM that follow its reads. */
static void sim_after_mvm(sim *m)
{
    const cim_disturb_params *p = &m->p;
    m->R += 1;
    if (p->strategy == CIM_DISTURB_CELL_BASED)
        for (int i = 0; i < m->n_cells; ++i)
            m->cells[i].r += 1;
    if (m->R % p->update_freq != 0)
        return;
    if (p->strategy == CIM_DISTURB_CELL_BASED) {
        const long double lrs = p->lrs_na;
        for (int i = 0; i < m->n_cells; ++i) {
            sim_cell *c = &m->cells[i];
            if (!c->lrs || !c->drifts)
                continue;
            c->g = cim_disturb_g(&m->law, c->r, c->n);
            c->drifted = 1;
            const long double current = lrs * c->g;
            if (current < (1 - (long double)p->tol) * lrs ||
                current > (1 + (long double)p->tol) * lrs) {
                c->drifted = 0;
                c->epoch += 1;
                c->n += 1;
                c->r = 0;
                m->refresh_cell += 1;
            }
        }
        return;
    }
    for (int i = 0; i < m->n_cells; ++i) {
        sim_cell *c = &m->cells[i];
        if (c->lrs && c->drifts) {
            c->g = cim_disturb_g(&m->law, m->R, c->n);
            c->drifted = 1;
        }
    }
    if (p->strategy == CIM_DISTURB_SOFTWARE &&
        (long double)m->R * m->law.t_read >=
            (long double)p->fp * cim_disturb_tau(&m->law, m->write + m->refresh_xbar)) {
        m->refresh_xbar += 1;
        m->R = 0;
        for (int i = 0; i < m->n_cells; ++i) {
            sim_cell *c = &m->cells[i];
            c->n += c->lrs;
            m->refresh_cell += c->lrs && c->drifts;
            c->drifted = 0;
            c->epoch = m->refresh_xbar; /* the whole crossbar is re-programmed */
        }
    }
}

static void sim_counters(const sim *m, cim_disturb_counters *c)
{
    c->write = m->write;
    c->refresh_xbar = m->refresh_xbar;
    c->refresh_cell = m->refresh_cell;
    c->cycles = 0;
    for (int i = 0; i < m->n_cells; ++i)
        c->cycles += m->cells[i].n;
}

/* What MVM k sees, from the cells: the drifting LRS cells must agree. */
typedef struct seen {
    int drifted;
    int64_t epoch, xbar_epoch, cycles, lrs_fine, g_q32;
    int any_drifting;
} seen;

static seen sim_seen(const sim *m)
{
    seen s = {0, 0, -1, -1, 0, G_ONE, 0};
    for (int i = 0; i < m->n_cells; ++i) {
        const sim_cell *c = &m->cells[i];
        if (c->lrs && c->drifts) {
            const int64_t fine = c->drifted ? cim_disturb_lrs_fine(m->p.lrs_na, c->g) : 0;
            const int64_t q32 = c->drifted ? cim_disturb_g_q32(c->g) : G_ONE;
            if (s.any_drifting && (s.drifted != c->drifted || s.epoch != c->epoch ||
                                   s.cycles != c->n || s.lrs_fine != fine || s.g_q32 != q32))
                fail_msg("drifting LRS cells of one tile disagree");
            s.any_drifting = 1;
            s.drifted = c->drifted;
            s.epoch = c->epoch;
            s.cycles = c->n;
            s.lrs_fine = fine;
            s.g_q32 = q32;
        } else {
            assert_false(c->drifted);
            if (s.xbar_epoch >= 0 && s.xbar_epoch != c->epoch)
                fail_msg("non-drifting cells of one tile disagree");
            s.xbar_epoch = c->epoch;
        }
    }
    return s;
}

static int segments_equal(const cim_disturb_segment *a, const cim_disturb_segment *b)
{
    return a->k_begin == b->k_begin && a->k_end == b->k_end && a->epoch == b->epoch &&
           a->xbar_epoch == b->xbar_epoch && a->cycles == b->cycles && a->drifted == b->drifted &&
           a->lrs_fine == b->lrs_fine && a->g_q32 == b->g_q32;
}

static void check_case(cim_test_rng *rng, int case_no)
{
    cim_disturb_params p;
    memset(&p, 0, sizeof p);
    p.strategy = cim_test_rng_int(rng, 0, 2);
    p.v_read = -0.1 - 0.6 * cim_test_rng_int(rng, 0, 1000) / 1000.0;
    p.update_freq = cim_test_rng_int(rng, 0, 3) == 0 ? cim_test_rng_int(rng, 1, 20)
                                                     : cim_test_rng_int(rng, 1, 4);
    switch (cim_test_rng_int(rng, 0, 4)) {
    case 0:
        p.initial_cycles = 0;
        break;
    case 1:
        p.initial_cycles = cim_test_rng_int(rng, 0, 3000);
        break;
    case 2:
        p.initial_cycles = cim_test_rng_int(rng, 0, 1400000);
        break;
    case 3:
        p.initial_cycles = CYCLE_BOUND + cim_test_rng_int(rng, -5, 5);
        break;
    default:
        p.initial_cycles = cim_test_rng_int(rng, 1000000, 1423400);
        break;
    }
    p.fp = cim_test_rng_int(rng, 0, 4) == 0 ? 1 : 1 + cim_test_rng_int(rng, 0, 3000) / 1000.0;
    const int tol_kind = cim_test_rng_int(rng, 0, 9);
    p.tol = tol_kind == 0   ? 0
            : tol_kind == 1 ? 1
            : tol_kind == 2 ? 1e-4 * cim_test_rng_int(rng, 1, 100)
                            : cim_test_rng_int(rng, 0, 1000000) / 1e6;
    p.lrs_na = cim_test_rng_int(rng, 1000, 100000);
    /* t_read: the reference tau is 0.3 .. 300 reads (log-uniform) */
    cim_disturb_law law;
    cim_disturb_law_init(&law, p.v_read, 1);
    long double tau_ref = cim_disturb_tau(&law, p.initial_cycles);
    if (p.strategy == CIM_DISTURB_SOFTWARE || !(tau_ref > 1e-280L)) /* t_read is a double */
        tau_ref = cim_disturb_tau(&law, 1);
    const double reads = exp(log(0.3) + log(1000.0) * cim_test_rng_int(rng, 0, 100000) / 1e5);
    p.t_read = (double)(tau_ref / reads);
    const int64_t K = cim_test_rng_int(rng, 1, 2000);

    /* a small tile of random weights */
    const cim_mapping_id id = (cim_mapping_id)cim_test_rng_int(rng, 0, CIM_MAPPING_COUNT - 1);
    const int n_weights = cim_test_rng_int(rng, 1, 6);
    sim m;
    memset(&m, 0, sizeof m);
    m.p = p;
    cim_disturb_law_init(&m.law, p.v_read, p.t_read);
    m.cells = calloc((size_t)n_weights * CIM_MAX_SLOTS, sizeof *m.cells);
    assert_non_null(m.cells);
    cim_disturb_cells cells = {0, 0, 0};
    int8_t w[6];
    cim_test_random_values(rng, id, w, (size_t)n_weights);
    for (int i = 0; i < n_weights; ++i) {
        cim_disturb_count_weight(id, w[i], &cells);
        for (int s = 0; s < CIM_MAPPINGS[id].n_slots; ++s) {
            sim_cell *c = &m.cells[m.n_cells++];
            c->lrs = cim_mapping_cell_state(id, s, w[i]) == CIM_STATE_LRS;
            c->drifts = cim_disturb_slot_drifts(id, s);
        }
    }
    assert_int_equal(cells.cells, m.n_cells);

    cim_disturb_schedule s;
    assert_int_equal(cim_disturb_schedule_build(&s, &p, K), 0);
    seen *obs = calloc((size_t)K, sizeof *obs);
    assert_non_null(obs);
    sim_program(&m);
    for (int64_t k = 0; k <= K; ++k) {
        cim_disturb_counters want, got;
        sim_counters(&m, &want);
        assert_int_equal(cim_disturb_counters_at(&s, k, &cells, &got), 0);
        if (memcmp(&want, &got, sizeof want) != 0)
            fail_msg("case %d (strategy %d, f %d, n0 %lld, K %lld): counters after %lld MVMs: "
                     "simulated %lld %lld %lld %lld, schedule %lld %lld %lld %lld",
                     case_no, p.strategy, p.update_freq, (long long)p.initial_cycles, (long long)K,
                     (long long)k, (long long)want.write, (long long)want.refresh_xbar,
                     (long long)want.refresh_cell, (long long)want.cycles, (long long)got.write,
                     (long long)got.refresh_xbar, (long long)got.refresh_cell,
                     (long long)got.cycles);
        if (k == K)
            break;
        obs[k] = sim_seen(&m); /* the MVM reads the present currents */
        sim_after_mvm(&m);
    }
    /* every MVM's segment matches what the cells carried, over its whole span */
    for (int64_t k = 0; k < K; ++k) {
        const cim_disturb_segment seg = at(&s, k);
        cim_disturb_segment first;
        assert_int_equal(cim_disturb_at(&s, seg.k_begin, &first), 0);
        assert_true(segments_equal(&seg, &first));
        const seen *o = &obs[k];
        const int ok = (o->xbar_epoch < 0 || seg.xbar_epoch == o->xbar_epoch) &&
                       (!o->any_drifting || (seg.drifted == o->drifted && seg.epoch == o->epoch &&
                                             seg.cycles == o->cycles &&
                                             seg.lrs_fine == o->lrs_fine && seg.g_q32 == o->g_q32));
        if (!ok)
            fail_msg("case %d (strategy %d, f %d, n0 %lld, fp %g, tol %g, K %lld): MVM %lld: "
                     "simulated drifted %d epoch %lld/%lld value %lld, schedule drifted %d "
                     "epoch %lld/%lld value %lld over [%lld, %lld)",
                     case_no, p.strategy, p.update_freq, (long long)p.initial_cycles, p.fp, p.tol,
                     (long long)K, (long long)k, o->drifted, (long long)o->epoch,
                     (long long)o->xbar_epoch, (long long)o->lrs_fine, seg.drifted,
                     (long long)seg.epoch, (long long)seg.xbar_epoch, (long long)seg.lrs_fine,
                     (long long)seg.k_begin, (long long)seg.k_end);
        /* between refreshes the drift only grows */
        if (k > 0) {
            const cim_disturb_segment prev = at(&s, k - 1);
            if (seg.drifted && prev.drifted && seg.epoch == prev.epoch)
                assert_true(seg.lrs_fine <= prev.lrs_fine && seg.g_q32 <= prev.g_q32);
        }
        assert_true(seg.lrs_fine <= p.lrs_na * FINE_ONE);
    }
    /* the segments tile [0, K) */
    int64_t k = 0;
    while (k < K) {
        const cim_disturb_segment seg = at(&s, k);
        assert_int_equal(seg.k_begin, k);
        k = seg.k_end;
    }
    assert_int_equal(k, K);
    free(obs);
    free(m.cells);
    cim_disturb_schedule_free(&s);
}

static void test_schedule_matches_simulator(void **state)
{
    (void)state;
    cim_test_rng rng = cim_test_rng_init(2024);
    for (int c = 0; c < 400; ++c)
        check_case(&rng, c);
}

/* ---------------------------------------------------------------------------
 * 6. Large schedules stay small
 */

static void check_cover(const cim_disturb_schedule *s)
{
    int64_t k = 0, e = 0;
    for (int64_t g = 0; g < s->n_groups; ++g) {
        const cim_disturb_group *gr = &s->groups[g];
        assert_int_equal(gr->k_begin, k);
        assert_int_equal(gr->epoch, e);
        assert_true(gr->run_len >= 1 && gr->runs >= 1);
        assert_true(gr->closed || (g == s->n_groups - 1 && gr->runs == 1));
        if (gr->closed)
            assert_int_equal(gr->run_len % s->params.update_freq, 0);
        k += gr->run_len * gr->runs;
        e += gr->closed ? gr->runs : 0;
    }
    assert_int_equal(k, s->n_mvms);
    assert_int_equal(e, s->refreshes);
}

static void test_large_schedules(void **state)
{
    (void)state;
    const int64_t K = 10000000;
    const double v = -0.4;
    cim_disturb_schedule s;
    /* every update refreshes: cells past the cycle bound, tol < 1 */
    cim_disturb_params p = params(CIM_DISTURB_CELL_BASED, v, 1e-8, 1);
    p.tol = 0.5;
    p.initial_cycles = CYCLE_BOUND;
    assert_int_equal(cim_disturb_schedule_build(&s, &p, K), 0);
    check_cover(&s);
    assert_int_equal(s.n_groups, 1);
    assert_int_equal(s.refreshes, K);
    expect_programmed(&s, K - 1, K - 1, K, K - 1);
    cim_disturb_counters c;
    assert_int_equal(cim_disturb_counters_at(&s, K, &(cim_disturb_cells){4, 2, 1}, &c), 0);
    assert_true(c.refresh_cell == K && c.cycles == 4 * (int64_t)CYCLE_BOUND + K);
    cim_disturb_schedule_free(&s);

    /* SOFTWARE, refresh about every 1000 MVMs at first, shrinking as tau(1 + e) falls */
    p = params(CIM_DISTURB_SOFTWARE, v, tau_of(v, 1) / 1000.5, 1);
    assert_int_equal(cim_disturb_schedule_build(&s, &p, K), 0);
    check_cover(&s);
    assert_true(s.refreshes > K / 1001);
    assert_true(s.n_groups <= 1001); /* one group per run length at most */
    assert_int_equal(s.groups[0].run_len, 1001);
    cim_disturb_schedule_free(&s);

    /* OFF over 10^7 MVMs: one open run */
    p = params(CIM_DISTURB_OFF, v, 1e-8, 1);
    assert_int_equal(cim_disturb_schedule_build(&s, &p, K), 0);
    check_cover(&s);
    assert_int_equal(s.n_groups, 1);
    const cim_disturb_segment last = at(&s, K - 1);
    assert_true(last.drifted && last.k_begin == K - 1);
    cim_disturb_schedule_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_law_figures),
        cmocka_unit_test(test_cycle_bound),
        cmocka_unit_test(test_g_is_monotone),
        cmocka_unit_test(test_fixed_point_rounding),
        cmocka_unit_test(test_physical_scale_is_exact),
        cmocka_unit_test(test_drifting_slots),
        cmocka_unit_test(test_off_schedules),
        cmocka_unit_test(test_software_refresh_at_predicted_mvm),
        cmocka_unit_test(test_cell_based_refresh_leaves_band),
        cmocka_unit_test(test_params_rejected),
        cmocka_unit_test(test_schedule_matches_simulator),
        cmocka_unit_test(test_large_schedules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
