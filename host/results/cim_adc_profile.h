/* cim_adc_profile.h -- what the host makes of ADC input profiles
 * (kernels/cim_profile.h counts them): labels, the summary numbers, and the
 * calibration rules that turn a profile into an adc_calib_dict range
 * (docs/physics/adc_profile.md has the exact definitions).
 *
 * A profile is CIM_PROFILE_SLOTS(bins) uint64 counters: slot 0 underflow,
 * slot 1 + i bin i, slot bins + 1 overflow. Bin i is labelled
 * lo + b/2 + i b (µA) and holds the samples within b/2 of lo + i b.
 */
#ifndef CIM_ADC_PROFILE_H
#define CIM_ADC_PROFILE_H

#include <stdint.h>

#include "cim_error.h"
#include "cim_xbar.h"

/* A layer's profile in µA: its range, bins and counters (the caller's). */
typedef struct cim_adc_profile {
    int64_t bins;
    double lo_ua, hi_ua;    /* the ADC type's MAX range */
    double bin_ua;          /* b, a whole number of µA */
    const uint64_t *counts; /* CIM_PROFILE_SLOTS(bins) */
} cim_adc_profile;

/* The summary numbers, as the reference flow defines them over the bins:
 *   samples   sum of the bins' counts (in range)
 *   mean      sum count * label / samples
 *   var       sum count * (trunc(label) - mean)^2 / samples
 * (NaN without samples); underflow and overflow are the samples outside. */
typedef struct cim_adc_profile_stats {
    uint64_t samples, underflow, overflow;
    double mean, var;
} cim_adc_profile_stats;

/* The profile of xbar x (x->profile.bins > 0) over `counts`. */
cim_adc_profile cim_adc_profile_of(const cim_xbar *x, const uint64_t *counts);

/* Label of bin i, µA. */
double cim_adc_profile_label(const cim_adc_profile *p, int64_t i);

void cim_adc_profile_summarize(const cim_adc_profile *p, cim_adc_profile_stats *s);

/* sum[k] += add[k] for the n counters of one histogram. */
void cim_adc_profile_add(uint64_t *sum, const uint64_t *add, int64_t n);

/* ---- calibration rules ---- */

typedef enum cim_calib_rule {
    CIM_CALIB_RULE_MEAN3SIGMA, /* [mean - 3 sigma, mean + 3 sigma], sigma = sqrt(var) */
    CIM_CALIB_RULE_RANGE,      /* [max(0, first occupied label - b), last occupied label] */
    CIM_CALIB_RULE_QUANTILE,   /* the central `coverage` of every sample, bin edges */
    CIM_CALIB_RULE_COUNT
} cim_calib_rule;

/* "mean3sigma", "range", "quantile"; NULL if out of range. */
const char *cim_calib_rule_name(cim_calib_rule rule);
/* 0 and *rule, or -1 for an unknown name. */
int cim_calib_rule_from_name(const char *name, cim_calib_rule *rule);

/* The reference flow's rule for a column current: mean3sigma for a signed
 * one (SYM_RANGE_ADC), range for a non-negative one (POS_RANGE_ONLY_ADC). */
cim_calib_rule cim_calib_rule_default(int signed_current);

/* [lo, hi] in µA of `rule` on profile p (coverage in (0, 1], used by
 * quantile). A degenerate result (lo >= hi: one occupied value, sigma 0) is
 * widened to the bin around its centre, [c - b/2, c + b/2]. 0, or
 * CIM_ERR_INPUT naming `layer` when the profile has no samples. */
int cim_calib_range_of(const cim_adc_profile *p, cim_calib_rule rule, double coverage,
                       const char *layer, double *lo_ua, double *hi_ua, cim_error *err);

#endif /* CIM_ADC_PROFILE_H */
