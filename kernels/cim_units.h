/* cim_units.h -- fixed-point units and exact integer rounding.
 *
 * Currents are integers in nanoampere (CIM_NA_PER_UA units per µA). Config
 * values given in µA are rounded to the nearest nA once, when the config is
 * resolved; from then on every current, column sum, offset and ADC range is an
 * integer, so results cannot depend on the order of additions or on a
 * device's floating-point rounding.
 *
 * ADC offsets such as S·HRS/2 (TNN_IV) can be half a unit, so ADC inputs are
 * handled in half-units (2·nA) inside cim_adc.h.
 *
 * Rounding rule used everywhere a rational becomes an integer: round half away
 * from zero (SEMANTICS.md, ADC).
 */
#ifndef CIM_UNITS_H
#define CIM_UNITS_H

#include "cim_portable.h"

/* Current unit: 1 nA. A cell of 30 µA is 30000 units. */
#define CIM_NA_PER_UA 1000

/* Gaussian deviates are fixed point with this many fraction bits (Q24). */
#define CIM_Z_FRAC_BITS 24

/* round(num / den) with ties away from zero; den > 0. */
CIM_INLINE int64_t cim_div_round(int64_t num, int64_t den)
{
    int64_t q = (num >= 0 ? num + den / 2 : num - den / 2) / den;
    /* For odd den, den/2 is floor(den/2): num/den = q.5 cannot occur, so the
     * truncating division above rounds to nearest. For even den a tie
     * num = (q + 1/2)·den is moved away from zero by +-den/2, as required. */
    return q;
}

/* sigma_units · z / 2^CIM_Z_FRAC_BITS, rounded half away from zero: a
 * Gaussian deviate z (Q24) scaled to a current deviation in nA. */
CIM_INLINE int32_t cim_scale_deviate(int32_t sigma_units, int32_t z_q24)
{
    int64_t p = (int64_t)sigma_units * (int64_t)z_q24;
    int64_t round_bias = (int64_t)1 << (CIM_Z_FRAC_BITS - 1);
    int64_t mag = ((p >= 0 ? p : -p) + round_bias) >> CIM_Z_FRAC_BITS;
    return (int32_t)(p >= 0 ? mag : -mag);
}

#endif /* CIM_UNITS_H */
