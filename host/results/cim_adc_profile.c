/* cim_adc_profile.c -- labels, summary numbers and calibration rules of ADC
 * input profiles (see cim_adc_profile.h; counting is kernels/cim_profile.h).
 *
 * The counts are exact integers; what is computed from them here (mean,
 * variance, calibrated ranges) is derived data in double, evaluated in one
 * fixed order (bins in label order, long double sums), so it is the same
 * on every run of the same counts. Nothing here allocates.
 */
#include "cim_adc_profile.h"

#include <math.h>
#include <string.h>

#include "cim_adc.h"
#include "cim_profile.h"
#include "cim_units.h"

cim_adc_profile cim_adc_profile_of(const cim_xbar *x, const uint64_t *counts)
{
    const cim_profile_params *q = &x->profile;
    cim_adc_profile p;
    p.bins = q->bins;
    p.lo_ua = (double)q->lo_na / CIM_NA_PER_UA;
    p.bin_ua = (double)q->bin_na / CIM_NA_PER_UA;
    /* the MAX range is symmetric for SYM and starts at 0 for POS */
    p.hi_ua = x->column.adc_type == CIM_ADC_POS
                  ? (double)((int64_t)x->xbar_n * x->current_na[1]) / CIM_NA_PER_UA
                  : -p.lo_ua;
    p.counts = counts;
    return p;
}

double cim_adc_profile_label(const cim_adc_profile *p, int64_t i)
{
    return p->lo_ua + p->bin_ua / 2 + (double)i * p->bin_ua;
}

void cim_adc_profile_summarize(const cim_adc_profile *p, cim_adc_profile_stats *s)
{
    long double sum = 0, sq = 0;
    uint64_t n = 0;
    memset(s, 0, sizeof *s);
    s->underflow = p->counts[0];
    s->overflow = p->counts[p->bins + 1];
    for (int64_t i = 0; i < p->bins; ++i) {
        n += p->counts[1 + i];
        sum += (long double)p->counts[1 + i] * cim_adc_profile_label(p, i);
    }
    s->samples = n;
    if (n == 0) {
        s->mean = s->var = NAN;
        return;
    }
    const long double mean = sum / n;
    for (int64_t i = 0; i < p->bins; ++i) {
        const long double d = truncl(cim_adc_profile_label(p, i)) - mean;
        sq += (long double)p->counts[1 + i] * d * d;
    }
    s->mean = (double)mean;
    s->var = (double)(sq / n);
}

void cim_adc_profile_add(uint64_t *sum, const uint64_t *add, int64_t n)
{
    for (int64_t k = 0; k < n; ++k)
        sum[k] += add[k];
}

/* ---- calibration rules ---- */

static const char *const rule_names[CIM_CALIB_RULE_COUNT] = {"mean3sigma", "range", "quantile"};

const char *cim_calib_rule_name(cim_calib_rule rule)
{
    return (unsigned)rule < CIM_CALIB_RULE_COUNT ? rule_names[rule] : NULL;
}

int cim_calib_rule_from_name(const char *name, cim_calib_rule *rule)
{
    for (int r = 0; name && r < CIM_CALIB_RULE_COUNT; ++r)
        if (strcmp(name, rule_names[r]) == 0) {
            *rule = (cim_calib_rule)r;
            return 0;
        }
    return -1;
}

cim_calib_rule cim_calib_rule_default(int signed_current)
{
    return signed_current ? CIM_CALIB_RULE_MEAN3SIGMA : CIM_CALIB_RULE_RANGE;
}

/* The occupied range of the bins: first label - b (floored at 0), last label. */
static void occupied_range(const cim_adc_profile *p, double *lo, double *hi)
{
    int64_t first = -1, last = -1;
    for (int64_t i = 0; i < p->bins; ++i)
        if (p->counts[1 + i]) {
            if (first < 0)
                first = i;
            last = i;
        }
    *lo = fmax(0.0, cim_adc_profile_label(p, first) - p->bin_ua);
    *hi = cim_adc_profile_label(p, last);
}

/* Value edges of slot k (0 underflow, 1 + i bin i, bins + 1 overflow): bin i
 * holds lo + (i -+ 1/2) b; the outer slots count at the binned range's ends. */
static double slot_lower_edge(const cim_adc_profile *p, int64_t k)
{
    const int64_t i = k == 0 ? 0 : (k > p->bins ? p->bins - 1 : k - 1);
    return p->lo_ua + ((double)i - 0.5) * p->bin_ua;
}

static double slot_upper_edge(const cim_adc_profile *p, int64_t k)
{
    const int64_t i = k == 0 ? 0 : (k > p->bins ? p->bins - 1 : k - 1);
    return p->lo_ua + ((double)i + 0.5) * p->bin_ua;
}

/* The central `coverage` of every sample (in range or not): the lower end is
 * the lower edge of the slot holding the sample at rank (1 - coverage)/2 of
 * all, the upper end the upper edge of the one at rank (1 + coverage)/2. */
static void quantile_range(const cim_adc_profile *p, double coverage, double *lo, double *hi)
{
    const int64_t slots = CIM_PROFILE_SLOTS(p->bins);
    long double total = 0, cum = 0;
    for (int64_t k = 0; k < slots; ++k)
        total += p->counts[k];
    const long double below = total * (1 - (long double)coverage) / 2;
    const long double upto = total * (1 + (long double)coverage) / 2;
    int64_t klo = -1, khi = -1;
    for (int64_t k = 0; k < slots && khi < 0; ++k) {
        cum += p->counts[k];
        if (klo < 0 && cum > below)
            klo = k;
        if (cum >= upto && p->counts[k])
            khi = k;
    }
    if (khi < 0)
        khi = slots - 1;
    *lo = slot_lower_edge(p, klo);
    *hi = slot_upper_edge(p, khi);
}

int cim_calib_range_of(const cim_adc_profile *p, cim_calib_rule rule, double coverage,
                       const char *layer, double *lo_ua, double *hi_ua, cim_error *err)
{
    cim_adc_profile_stats s;
    double lo = 0, hi = 0;
    cim_adc_profile_summarize(p, &s);
    if (s.samples == 0 && (rule != CIM_CALIB_RULE_QUANTILE || s.underflow + s.overflow == 0))
        return cim_error_set(err, CIM_ERR_INPUT,
                             "calibrate: layer %s: the profile has no samples in its range", layer);
    switch (rule) {
    case CIM_CALIB_RULE_MEAN3SIGMA:
        lo = s.mean - 3 * sqrt(s.var);
        hi = s.mean + 3 * sqrt(s.var);
        break;
    case CIM_CALIB_RULE_RANGE:
        occupied_range(p, &lo, &hi);
        break;
    case CIM_CALIB_RULE_QUANTILE:
        quantile_range(p, coverage, &lo, &hi);
        break;
    default:
        return cim_error_set(err, CIM_ERR_USAGE, "calibrate: unknown rule %d", (int)rule);
    }
    if (!(lo < hi)) {
        const double c = (lo + hi) / 2;
        lo = c - p->bin_ua / 2;
        hi = c + p->bin_ua / 2;
    }
    *lo_ua = lo;
    *hi_ua = hi;
    return 0;
}
