/* cim_adc.h -- the ADC models in exact integer arithmetic (docs/semantics.md, ADC).
 *
 * A(I, k, o): J = I + o is converted with scale k / Delta.
 *   INF: A = J * k / Delta, kept exact (a rational) by the caller until an integer
 *        is needed (cim_column.h).
 *   POS (b bits): J clipped to [lo, hi], steps = 2^b - 1 intervals.
 *   SYM (b bits): the same with steps = 2^b - 2, so that zero is a level when
 *        lo = -hi; b >= 2 (one bit would leave the single level 0 and no step).
 *   Finite: Jq = lo + h * round((J - lo) / h), h = (hi - lo) / steps, and
 *        A = round(Jq * k / Delta), both rounds half away from zero, evaluated as
 *        exact ratios of 64-bit integers.
 * ADC inputs and ranges are in half-units (2 * nA) so that offsets like
 * S * HRS / 2 stay integers. Magnitudes are bounded when the config is
 * validated: |J| < 2^33 half-units, 1 <= steps < 2^16, lo < hi and
 * Delta >= 1, so every product below fits in 64 bits and no divisor is 0.
 * Parameters outside that (which config validation rejects) convert to 0
 * instead of dividing by zero.
 *
 * Fine currents (`fine` = 1: bit-line IR drop): ADC inputs come in fine
 * half-units, 2^-CIM_FINE_FRAC_BITS of a half-unit, while the range, the
 * steps and the outputs keep their units; the level is the same exact
 * rounding of the same ratio, formed with the 128-bit steps of cim_wide.h
 * (|J| < 2^57 fine half-units).
 */
#ifndef CIM_ADC_H
#define CIM_ADC_H

#include "cim_portable.h"
#include "cim_units.h"
#include "cim_lanes.h"
#include "cim_wide.h"

#define CIM_ADC_INF 0 /* INF_ADC: ideal */
#define CIM_ADC_POS 1 /* POS_RANGE_ONLY_ADC: unsigned */
#define CIM_ADC_SYM 2 /* SYM_RANGE_ADC: signed, odd number of levels */

#define CIM_ADC_MIN_BITS 1     /* POS: 2 levels */
#define CIM_ADC_SYM_MIN_BITS 2 /* SYM: 2^b - 1 levels, at least 3 (-h, 0, +h) */
#define CIM_ADC_MAX_BITS 16

/* Everything needed to turn a tile's column currents into its integer result.
 * Shared with the kernels through a buffer: 64-bit fields only, so the layout is
 * the same on host and device. */
typedef struct cim_column_params {
    int64_t mapping;   /* cim_mapping_id */
    int64_t digital;   /* 1: c = s, no ADC */
    int64_t hrs;       /* nominal HRS current, nA (0 in digital mode) */
    int64_t delta;     /* LRS - HRS, nA (1 in digital mode) */
    int64_t adc_type;  /* CIM_ADC_* */
    int64_t adc_steps; /* intervals between levels (finite ADCs) */
    int64_t adc_lo2;   /* range, half-units */
    int64_t adc_hi2;
    int64_t fine; /* 1: column currents in 2^-CIM_FINE_FRAC_BITS nA (cim_column.h) */
    int64_t pad;
} cim_column_params;

CIM_STATIC_ASSERT(sizeof(cim_column_params) == 80, cim_column_params_size);

/* Fine units per unit of the ADC input: 2^CIM_FINE_FRAC_BITS with fine
 * currents, else 1. */
CIM_INLINE int64_t cim_adc_input_unit(const cim_column_params *p)
{
    return p->fine ? (int64_t)1 << CIM_FINE_FRAC_BITS : 1;
}

/* Fewest bits a finite ADC of this type may have. */
CIM_INLINE int32_t cim_adc_min_bits(int32_t adc_type)
{
    return adc_type == CIM_ADC_SYM ? CIM_ADC_SYM_MIN_BITS : CIM_ADC_MIN_BITS;
}

/* Number of intervals between the levels of a finite ADC: 2^bits - 1 (POS)
 * or 2^bits - 2 (SYM, 0 for one bit: a single level). */
CIM_INLINE int64_t cim_adc_steps(int32_t adc_type, int32_t bits)
{
    int64_t levels = (int64_t)1 << bits;
    return adc_type == CIM_ADC_SYM ? levels - 2 : levels - 1;
}

/* Whether p's finite-ADC fields can be converted with: at least one step, a
 * non-empty range and Delta >= 1 (every divisor below is then positive). */
CIM_INLINE int cim_adc_usable(const cim_column_params *p)
{
    return p->adc_steps >= 1 && p->adc_hi2 > p->adc_lo2 && p->delta >= 1;
}

/* The level of a finite ADC for input j2 (fine half-units): round((J - lo)
 * steps / span) half away from zero, J clipped to [lo, hi], exactly. */
CIM_INLINE int64_t cim_adc_level_fine(const cim_column_params *p, int64_t j2)
{
    const int64_t unit = (int64_t)1 << CIM_FINE_FRAC_BITS;
    const int64_t lo = p->adc_lo2 * unit, hi = p->adc_hi2 * unit;
    const int64_t jc = j2 < lo ? lo : (j2 > hi ? hi : j2);
    /* floor((2 (jc - lo) steps + span) / (2 span)), span = hi - lo */
    return (int64_t)cim_umuladd_div((uint64_t)(2 * (jc - lo)), (uint64_t)p->adc_steps,
                                    (uint64_t)(hi - lo), (uint64_t)(2 * (hi - lo)));
}

/* Finite ADC: the integer output A for input j2 (half-units, or fine
 * half-units with p->fine) and scale k; 0 when p is not usable. */
CIM_INLINE int64_t cim_adc_convert(const cim_column_params *p, int64_t j2, int32_t k)
{
    if (!cim_adc_usable(p))
        return 0;
    int64_t lo = p->adc_lo2, hi = p->adc_hi2, steps = p->adc_steps;
    int64_t jc = j2 < lo ? lo : (j2 > hi ? hi : j2);
    int64_t level = p->fine ? cim_adc_level_fine(p, j2) : cim_div_round((jc - lo) * steps, hi - lo);
    /* Jq * k / Delta = (lo * steps + (hi - lo) * level) * k / (steps * Delta) */
    int64_t num = (lo * steps + (hi - lo) * level) * (int64_t)k;
    return cim_div_round(num, steps * 2 * p->delta);
}

/* Level table of a finite ADC: the same function as cim_adc_convert without
 * a division, for the kernels' inner loop.
 *   table[0 .. steps-1]        thresholds T_l = lo + ceil((2l - 1)(hi - lo) / (2 steps)),
 *                              l = 1..steps, in the input's unit (fine
 *                              half-units with p->fine, lo and hi scaled
 *                              alike): the level of j2 is #{l : j2 >= T_l}
 *                              (round half away from zero of a non-negative
 *                              ratio, and clipping, both fall out of the count);
 *   table[steps + k_i*(steps+1) + level], k_i = k - 1 in {0, 1}: the output A.
 * cim_adc_table_len() entries. When p is not usable every output is 0, as
 * cim_adc_convert gives. */
CIM_INLINE int64_t cim_adc_table_len(const cim_column_params *p)
{
    return p->adc_steps + 2 * (p->adc_steps + 1);
}

#if !CIM_OPENCL
static inline void cim_adc_table_build(const cim_column_params *p, int64_t *table)
{
    const int64_t lo = p->adc_lo2, span = p->adc_hi2 - p->adc_lo2, steps = p->adc_steps;
    if (!cim_adc_usable(p)) {
        for (int64_t i = 0; i < cim_adc_table_len(p); ++i)
            table[i] = 0;
        return;
    }
    const int64_t unit = cim_adc_input_unit(p), den = 2 * steps;
    for (int64_t l = 1; l <= steps; ++l) /* lo + ceil((2l - 1) span / den), in input units */
        table[l - 1] =
            lo * unit + (int64_t)cim_umuladd_div((uint64_t)(2 * l - 1), (uint64_t)(span * unit),
                                                 (uint64_t)(den - 1), (uint64_t)den);
    for (int32_t k = 1; k <= 2; ++k)
        for (int64_t level = 0; level <= steps; ++level)
            table[steps + (k - 1) * (steps + 1) + level] =
                cim_div_round((lo * steps + span * level) * k, steps * 2 * p->delta);
}
#endif

/* name(p, table, j2, k): the finite ADC's output A for input(s) j2 of lane kind
 * K from the level table, without a division. The level r = floor((j2 - lo)
 * * steps / span + 1/2), clipped to 0..steps, is first estimated in float --
 * within 0.02 of the exact ratio for any steps < 2^16; truncation instead of
 * floor only differs below 0, where the clip gives 0 either way -- and then
 * made exact by comparing j2 with the two neighbouring thresholds, whatever
 * the float rounding: three table reads per lane. For parameters that are
 * not usable the estimate is 0 and the table's outputs are all 0. */
#define CIM_DEFINE_ADC_TABLE(name, K)                                                              \
    CIM_INLINE CIM_##K##_LONG name(const cim_column_params *p, CIM_GLOBAL const int64_t *table,    \
                                   CIM_##K##_LONG j2, int32_t k)                                   \
    {                                                                                              \
        const int64_t steps = p->adc_steps, unit = cim_adc_input_unit(p);                          \
        const float scale = cim_adc_usable(p)                                                      \
                                ? (float)steps / (float)(p->adc_hi2 - p->adc_lo2) / (float)unit    \
                                : 0.0f;                                                            \
        CIM_##K##_LONG level =                                                                     \
            CIM_##K##_FLOAT_TO_LONG(CIM_##K##_TO_FLOAT(j2 - p->adc_lo2 * unit) * scale + 0.5f);    \
        level = level < 0 ? (CIM_##K##_LONG)0 : (level > steps ? (CIM_##K##_LONG)steps : level);   \
        CIM_##K##_LONG below, above, out; /* thresholds T_level and T_(level+1) */                 \
        for (int l = 0; l < CIM_##K##_LANES; ++l) {                                                \
            const int64_t q = CIM_##K##_LLANE(level, l);                                           \
            CIM_##K##_LLANE(below, l) = q >= 1 ? table[q - 1] : INT64_MIN;                         \
            CIM_##K##_LLANE(above, l) = q < steps ? table[q] : INT64_MAX;                          \
        }                                                                                          \
        level += below > j2 ? (CIM_##K##_LONG) - 1 : (CIM_##K##_LONG)0;                            \
        level += above <= j2 ? (CIM_##K##_LONG)1 : (CIM_##K##_LONG)0;                              \
        const int64_t base = steps + (k - 1) * (steps + 1);                                        \
        for (int l = 0; l < CIM_##K##_LANES; ++l)                                                  \
            CIM_##K##_LLANE(out, l) = table[base + CIM_##K##_LLANE(level, l)];                     \
        return out;                                                                                \
    }

CIM_DEFINE_ADC_TABLE(cim_adc_convert_table, S)

#endif /* CIM_ADC_H */
