/* test_stats.c -- the Monte-Carlo summary on inputs whose statistics are
 * known in closed form or from standard tables. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cim_stats.h"

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

/* Student t critical values: NIST/SEMATECH table 1.3.6.7.2 for 1, 10, 30,
 * 100 degrees of freedom (12.706, 2.228, 2.042, 1.984), 2.040 for 31 (the
 * first value past the exact table, from the expansion), and the normal
 * limit 1.95996 for large dof. */
static void test_t975_matches_tables(void **state)
{
    (void)state;
    NEAR(cim_t975(1), 12.706, 1e-9);
    NEAR(cim_t975(10), 2.228, 1e-9);
    NEAR(cim_t975(30), 2.042, 1e-9);
    NEAR(cim_t975(31), 2.0395, 2e-4);
    NEAR(cim_t975(100), 1.984, 1e-3);
    NEAR(cim_t975(1000000), 1.959966, 1e-5);
    assert_true(isnan(cim_t975(0)));
}

/* Type-7 quantiles, as numpy.quantile computes them:
 * numpy.quantile([1,2,3,4], [0, .01, .05, .5, 1]) = [1, 1.03, 1.15, 2.5, 4]. */
static void test_quantile_type7(void **state)
{
    static const double v[] = {1, 2, 3, 4};
    (void)state;
    NEAR(cim_quantile_sorted(v, 4, 0.0), 1.0, 1e-12);
    NEAR(cim_quantile_sorted(v, 4, 0.01), 1.03, 1e-12);
    NEAR(cim_quantile_sorted(v, 4, 0.05), 1.15, 1e-12);
    NEAR(cim_quantile_sorted(v, 4, 0.5), 2.5, 1e-12);
    NEAR(cim_quantile_sorted(v, 4, 1.0), 4.0, 1e-12);
    NEAR(cim_quantile_sorted(v, 1, 0.3), 1.0, 1e-12);
}

/* Four trials of 100 images with 90, 80, 70, 100 correct (unsorted on
 * purpose): mean 0.85; sample std sqrt(0.05 / 3) = 0.1290994; CI half-width
 * t(0.975, 3) * std / 2 = 3.182 * 0.0645497 = 0.2053972; sorted accuracies
 * .7 .8 .9 1 give q01 .703, q05 .715, q50 .85; yield at 0.85: 2 of 4; at
 * 0.8 exactly: 3 of 4 (>= counts). */
static void test_summary_of_known_counts(void **state)
{
    static const int64_t correct[] = {90, 80, 70, 100};
    cim_summary s;
    cim_error err = {0, ""};
    (void)state;
    assert_int_equal(cim_summarize(correct, 4, 100, 0.85, &s, &err), 0);
    NEAR(s.mean, 0.85, 1e-12);
    NEAR(s.std, 0.12909944487358055, 1e-12);
    NEAR(s.ci95_lo, 0.85 - 0.20539721, 1e-7);
    NEAR(s.ci95_hi, 0.85 + 0.20539721, 1e-7);
    NEAR(s.min, 0.7, 1e-12);
    NEAR(s.max, 1.0, 1e-12);
    NEAR(s.q01, 0.703, 1e-12);
    NEAR(s.q05, 0.715, 1e-12);
    NEAR(s.q50, 0.85, 1e-12);
    NEAR(s.yield, 0.5, 1e-12);
    assert_int_equal(cim_summarize(correct, 4, 100, 0.80, &s, &err), 0);
    NEAR(s.yield, 0.75, 1e-12);
}

/* One trial: no spread, the CI collapses to the mean. */
static void test_single_trial(void **state)
{
    static const int64_t correct[] = {8765};
    cim_summary s;
    (void)state;
    assert_int_equal(cim_summarize(correct, 1, 10000, 0.9, &s, NULL), 0);
    NEAR(s.mean, 0.8765, 1e-12);
    NEAR(s.std, 0.0, 0.0);
    NEAR(s.ci95_lo, 0.8765, 1e-12);
    NEAR(s.ci95_hi, 0.8765, 1e-12);
    NEAR(s.q01, 0.8765, 1e-12);
    NEAR(s.yield, 0.0, 0.0);
}

/* Many nearly equal accuracies: Welford's update keeps the variance exact
 * where a naive sum of squares would cancel. 10^6 trials alternating
 * 999999 and 1000001 correct of 10^7: mean 0.1, std = 1e-7 * sqrt(n/(n-1)). */
static void test_variance_is_stable_for_close_values(void **state)
{
    const int64_t n = 1000000;
    int64_t *correct = malloc(sizeof(int64_t) * (size_t)n);
    cim_summary s;
    (void)state;
    for (int64_t t = 0; t < n; ++t)
        correct[t] = t % 2 ? 1000001 : 999999;
    assert_int_equal(cim_summarize(correct, n, 10000000, 0.1, &s, NULL), 0);
    NEAR(s.mean, 0.1, 1e-15);
    NEAR(s.std, 1e-7 * sqrt((double)n / (double)(n - 1)), 1e-13);
    NEAR(s.yield, 0.5, 1e-12);
    free(correct);
}

static void test_bad_input_is_rejected(void **state)
{
    static const int64_t bad[] = {5, 101};
    cim_summary s;
    cim_error err = {0, ""};
    (void)state;
    assert_int_equal(cim_summarize(bad, 2, 100, 0.5, &s, &err), CIM_ERR_USAGE);
    assert_non_null(strstr(err.msg, "trial 1 has 101 correct of 100"));
    cim_error_clear(&err);
    assert_int_equal(cim_summarize(bad, 0, 100, 0.5, &s, &err), CIM_ERR_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_t975_matches_tables),
        cmocka_unit_test(test_quantile_type7),
        cmocka_unit_test(test_summary_of_known_counts),
        cmocka_unit_test(test_single_trial),
        cmocka_unit_test(test_variance_is_stable_for_close_values),
        cmocka_unit_test(test_bad_input_is_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
