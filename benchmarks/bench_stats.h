/* bench_stats.h -- the statistics over measurement rounds that the
 * benchmarks print: each figure for its best round and as the median over
 * rounds (docs/benchmarks.md). Header-only; n >= 1 values, at most
 * BENCH_MAX_ROUNDS. */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <stdlib.h>
#include <string.h>

#define BENCH_MAX_ROUNDS 1000

static int bench_cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static inline double bench_median(const double *v, int n)
{
    double s[BENCH_MAX_ROUNDS];
    memcpy(s, v, sizeof *v * (size_t)n);
    qsort(s, (size_t)n, sizeof *s, bench_cmp_double);
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

static inline double bench_min(const double *v, int n)
{
    double m = v[0];
    for (int k = 1; k < n; ++k)
        m = v[k] < m ? v[k] : m;
    return m;
}

static inline double bench_max(const double *v, int n)
{
    double m = v[0];
    for (int k = 1; k < n; ++k)
        m = v[k] > m ? v[k] : m;
    return m;
}

/* The median over rounds of num[r] / den[r]. */
static inline double bench_median_ratio(const double *num, const double *den, int n)
{
    double q[BENCH_MAX_ROUNDS];
    for (int r = 0; r < n; ++r)
        q[r] = num[r] / den[r];
    return bench_median(q, n);
}

/* The verdict on a figure's best value: at_least 1: it must be >= target,
 * 0: <= target. */
static inline const char *bench_verdict(double best, double target, int at_least)
{
    if (at_least ? best >= target : best <= target)
        return "met";
    return at_least ? "NOT MET (below target)" : "NOT MET (above target)";
}

#endif /* BENCH_STATS_H */
