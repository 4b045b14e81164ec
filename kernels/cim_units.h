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
 * from zero (docs/semantics.md, ADC). cim_div_round is its definition; kernels that
 * divide lane-wise estimate the quotient in float and make it exact with
 * CIM_DEFINE_DIV_ROUND_ESTIMATED's correction step (tests/test_kernels.c
 * sweeps every rounding case against cim_div_round).
 */
#ifndef CIM_UNITS_H
#define CIM_UNITS_H

#include "cim_portable.h"
#include "cim_lanes.h"
#if !CIM_OPENCL
#include <math.h> /* rint: the host instances of the float estimates below */
#endif

/* Current unit: 1 nA. A cell of 30 µA is 30000 units. */
#define CIM_NA_PER_UA 1000

/* Fine current unit: 2^-CIM_FINE_FRAC_BITS nA, for the currents that stop
 * being whole nA (bit-line IR drop, read-disturb drift). A column current of
 * at most 2^31 nA (the config's bound) is below 2^55 fine units, so sums fit
 * in int64; the resolution, 6e-8 nA per step, is far below any ADC decision. */
#define CIM_FINE_FRAC_BITS 24

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

/* name(num, den) = cim_div_round(num, den) in W lanes (LONG or INT) of kind
 * K, den (of type DEN) > 0, |num / den| < 2^20: a float estimate q of num /
 * den (within one of the result), then the exact correction from the
 * remainder r = num - q * den: rounding half away from zero means
 * -den <= 2r < den for num >= 0 and -den < 2r <= den for num < 0. */
#define CIM_DEFINE_DIV_ROUND_FLOAT(name, K, W, DEN)                                                \
    CIM_INLINE CIM_##K##_##W name(CIM_##K##_##W num, DEN den)                                      \
    {                                                                                              \
        CIM_##K##_##W q = CIM_##K##_FLOAT_TO_##W(rint(CIM_##K##_TO_FLOAT(num) / (float)den));      \
        const CIM_##K##_##W r2 = 2 * (num - q * den);                                              \
        q += (num < 0 ? r2 > den : r2 >= den) ? (CIM_##K##_##W)1 : (CIM_##K##_##W)0;               \
        q -= (num < 0 ? r2 <= -den : r2 < -den) ? (CIM_##K##_##W)1 : (CIM_##K##_##W)0;             \
        return q;                                                                                  \
    }

/* In 64-bit lanes. */
#define CIM_DEFINE_DIV_ROUND_ESTIMATED(name, K) CIM_DEFINE_DIV_ROUND_FLOAT(name, K, LONG, int64_t)

/* In 32-bit lanes, for |num| <= CIM_NARROW_MAX_NUM and den >
 * CIM_NARROW_MIN_DEN: then |num / den| < 2^20 and the float estimate is
 * within one of the result (the float of num is within 2^5 of it, 1/16 of
 * den), and the doubled remainder fits in 32 bits. */
#define CIM_NARROW_MAX_NUM ((int64_t)1 << 29)
#define CIM_NARROW_MIN_DEN ((int64_t)1 << 9)
#define CIM_DEFINE_DIV_ROUND_NARROW(name, K) CIM_DEFINE_DIV_ROUND_FLOAT(name, K, INT, int32_t)

/* name(sigma_units, z_q24) = sigma_units · z / 2^CIM_Z_FRAC_BITS, rounded half
 * away from zero: a Gaussian deviate z (Q24) scaled to a current deviation in
 * nA, for lane kind K. Exact for 0 <= sigma < 2^24 (the config allows at most
 * 10^7 nA) and |z| < 2^27 (cim_gauss.h: |z| <= 6.34 * 2^24): the 64-bit product
 * p = sigma |z| < 2^51 is formed from its 32-bit halves, and
 * (p + 2^23) >> 24 = (hi << 8) + (lo >> 24) + bit 23 of lo. */
#define CIM_DEFINE_SCALE_DEVIATE(name, K)                                                          \
    CIM_INLINE CIM_##K##_INT name(CIM_##K##_INT sigma_units, CIM_##K##_INT z_q24)                  \
    {                                                                                              \
        const CIM_##K##_UINT s = CIM_##K##_TO_UINT(sigma_units);                                   \
        const CIM_##K##_UINT mz = CIM_##K##_TO_UINT(z_q24 < 0 ? -z_q24 : z_q24);                   \
        const CIM_##K##_UINT hi = CIM_##K##_MULHI(s, mz), lo = s * mz;                             \
        const CIM_##K##_INT mag =                                                                  \
            CIM_##K##_AS_INT((hi << (32 - CIM_Z_FRAC_BITS)) + (lo >> CIM_Z_FRAC_BITS) +            \
                             ((lo >> (CIM_Z_FRAC_BITS - 1)) & 1u));                                \
        return z_q24 < 0 ? -mag : mag;                                                             \
    }

CIM_DEFINE_SCALE_DEVIATE(cim_scale_deviate, S)

#endif /* CIM_UNITS_H */
