/* cim_stats.c -- summary statistics of per-trial accuracies.
 *
 * Inputs are integer correct counts, so the accuracies are exact rationals;
 * sums run in a fixed order (trial order), so a summary is a pure function of
 * the counts. The mean and variance use Welford's update, which stays accurate
 * for millions of nearly equal accuracies. Quantiles sort a copy.
 */
#include "cim_stats.h"

#include <math.h>
#include <stdlib.h>

/* t(0.975, dof) for dof = 1..30 (standard tables, e.g. NIST/SEMATECH
 * e-Handbook of Statistical Methods, table 1.3.6.7.2). */
static const double t975_table[30] = {
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
};

/* z(0.975) of the standard normal. */
#define CIM_Z975 1.959963984540054

double cim_t975(int64_t dof)
{
    if (dof < 1)
        return NAN;
    if (dof <= 30)
        return t975_table[dof - 1];
    /* Cornish-Fisher expansion of the t quantile in 1/dof (Abramowitz &
     * Stegun 26.7.5), three terms. */
    const double z = CIM_Z975, z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z, n = (double)dof;
    const double g1 = (z3 + z) / 4.0;
    const double g2 = (5.0 * z5 + 16.0 * z3 + 3.0 * z) / 96.0;
    const double g3 = (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / 384.0;
    return z + g1 / n + g2 / (n * n) + g3 / (n * n * n);
}

double cim_quantile_sorted(const double *v, int64_t n, double p)
{
    const double h = (double)(n - 1) * p;
    const int64_t lo = (int64_t)floor(h);
    if (lo >= n - 1)
        return v[n - 1];
    return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int cim_summarize(const int64_t *correct, int64_t trials, int64_t images, double yield_target,
                  cim_summary *s, cim_error *err)
{
    double mean = 0, m2 = 0;
    int64_t at_target = 0;
    double *sorted;
    if (trials < 1 || images < 1)
        return cim_error_set(err, CIM_ERR_USAGE, "statistics: need at least one trial and image");
    sorted = malloc(sizeof(double) * (size_t)trials);
    if (!sorted)
        return cim_error_set(err, CIM_ERR_NOMEM, "statistics: out of memory for %lld trials",
                             (long long)trials);
    for (int64_t t = 0; t < trials; ++t) {
        if (correct[t] < 0 || correct[t] > images) {
            free(sorted);
            return cim_error_set(err, CIM_ERR_USAGE,
                                 "statistics: trial %lld has %lld correct of %lld images",
                                 (long long)t, (long long)correct[t], (long long)images);
        }
        const double acc = (double)correct[t] / (double)images, delta = acc - mean;
        mean += delta / (double)(t + 1);
        m2 += delta * (acc - mean);
        sorted[t] = acc;
        /* acc >= target, decided on the counts: correct >= target * images */
        at_target += (double)correct[t] >= yield_target * (double)images;
    }
    qsort(sorted, (size_t)trials, sizeof(double), cmp_double);
    s->trials = trials;
    s->images = images;
    s->mean = mean;
    s->std = trials > 1 ? sqrt(m2 / (double)(trials - 1)) : 0.0;
    const double half = trials > 1 ? cim_t975(trials - 1) * s->std / sqrt((double)trials) : 0.0;
    s->ci95_lo = mean - half;
    s->ci95_hi = mean + half;
    s->min = sorted[0];
    s->max = sorted[trials - 1];
    s->q01 = cim_quantile_sorted(sorted, trials, 0.01);
    s->q05 = cim_quantile_sorted(sorted, trials, 0.05);
    s->q50 = cim_quantile_sorted(sorted, trials, 0.50);
    s->yield_target = yield_target;
    s->yield = (double)at_target / (double)trials;
    free(sorted);
    return 0;
}
