/* cim_profile.h -- ADC input profiling: which histogram bin one conversion's
 * column current falls in (docs/physics/adc_profile.md).
 *
 * A layer's histogram spans the ADC type's MAX range [lo, hi] (POS: [0,
 * N_xbar LRS], SYM: [-N_xbar Delta, N_xbar Delta], whatever adc_calib_mode
 * says) in bins of width b; there are nb = round((hi - lo) / b) of them. A
 * sample v -- the raw column current of one conversion, before its ADC
 * offset -- has the index i = round((v - lo) / b), half away from zero, and
 * bin i is labelled lo + b/2 + i b (so a bin holds the values within b/2 of
 * lo + i b). Indices outside [0, nb) are counted in an underflow and an
 * overflow slot. Histogram buffers have CIM_PROFILE_SLOTS(nb) counters:
 *   slot 0          underflow (i < 0)
 *   slot 1 + i      bin i, 0 <= i < nb
 *   slot nb + 1     overflow (i >= nb)
 *
 * The current comes as an integer in units of 2^-frac_bits nA (frac_bits 0
 * for whole-nA currents, CIM_FINE_FRAC_BITS for the fine unit), and the
 * index is computed exactly in 64-bit integers: |v| < 2^55 fine units,
 * |lo|, b < 2^31 nA, so every product below fits. The host reference and
 * every kernel call this one function, so counts are the same bits
 * everywhere (a histogram is a sum of counts: order-independent).
 */
#ifndef CIM_PROFILE_H
#define CIM_PROFILE_H

#include "cim_portable.h"
#include "cim_units.h"

/* Counters of a histogram of nb bins: the bins plus underflow and overflow. */
#define CIM_PROFILE_SLOTS(nb) ((nb) + 2)

/* A layer's profile, resolved to integers; bins 0 means "not profiled".
 * 64-bit fields only (shared with the kernels through cim_launch_params). */
typedef struct cim_profile_params {
    int64_t bins;   /* nb */
    int64_t lo_na;  /* lower end of the range, nA */
    int64_t bin_na; /* b, nA (> 0) */
} cim_profile_params;

/* nb = round((hi - lo) / b), half away from zero, for a range and bin width
 * in nA (hi > lo, b > 0). */
CIM_INLINE int64_t cim_profile_bin_count(int64_t lo_na, int64_t hi_na, int64_t bin_na)
{
    return cim_div_round(hi_na - lo_na, bin_na);
}

/* The slot of a sample `current` in units of 2^-frac_bits nA. */
CIM_INLINE int64_t cim_profile_slot(int64_t bins, int64_t lo_na, int64_t bin_na, int64_t current,
                                    int32_t frac_bits)
{
    const int64_t unit = (int64_t)1 << frac_bits;
    const int64_t i = cim_div_round(current - lo_na * unit, bin_na * unit);
    return i < 0 ? 0 : (i >= bins ? bins + 1 : i + 1);
}

#endif /* CIM_PROFILE_H */
