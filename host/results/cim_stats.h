/* cim_stats.h -- the summary of a Monte-Carlo accuracy distribution
 * (docs/design.md §1): mean, standard deviation, 95 % confidence interval of the
 * mean, quantiles and yield, computed from per-trial correct counts.
 */
#ifndef CIM_STATS_H
#define CIM_STATS_H

#include <stdint.h>

#include "cim_error.h"

typedef struct cim_summary {
    int64_t trials;
    int64_t images; /* images per trial */
    double mean;    /* mean accuracy (fraction) */
    double std;     /* sample standard deviation (n - 1), 0 for one trial */
    double ci95_lo; /* 95 % CI of the mean: mean -+ t(0.975, n-1) * std / sqrt(n) */
    double ci95_hi;
    double min, max;
    double q01, q05, q50; /* quantiles, linear interpolation between order statistics */
    double yield_target;  /* accuracy target of the yield */
    double yield;         /* fraction of trials with accuracy >= yield_target */
} cim_summary;

/* Summarises `trials` per-trial correct counts out of `images` each.
 * correct[] is not modified. 0, or CIM_ERR_USAGE for empty input or counts
 * outside 0..images, CIM_ERR_NOMEM. */
int cim_summarize(const int64_t *correct, int64_t trials, int64_t images, double yield_target,
                  cim_summary *s, cim_error *err);

/* Quantile p (0..1) of sorted values v[0..n-1], n >= 1: the definition of
 * Hyndman & Fan type 7 (numpy's default), v[(n-1)p] interpolated linearly. */
double cim_quantile_sorted(const double *v, int64_t n, double p);

/* Two-sided 95 % critical value of Student's t with `dof` degrees of freedom
 * (exact table to 30, then the Cornish-Fisher expansion, error < 1e-4). */
double cim_t975(int64_t dof);

#endif /* CIM_STATS_H */
