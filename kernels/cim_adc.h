/* cim_adc.h -- the ADC models in exact integer arithmetic (SEMANTICS.md, ADC).
 *
 * A(I, k, o): J = I + o is converted with scale k / Delta.
 *   INF: A = J * k / Delta, kept exact (a rational) by the caller until an integer
 *        is needed (cim_column.h).
 *   POS (b bits): J clipped to [lo, hi], steps = 2^b - 1 intervals.
 *   SYM (b bits): the same with steps = 2^b - 2, so that zero is a level when
 *        lo = -hi.
 *   Finite: Jq = lo + h * round((J - lo) / h), h = (hi - lo) / steps, and
 *        A = round(Jq * k / Delta), both rounds half away from zero, evaluated as
 *        exact ratios of 64-bit integers.
 * ADC inputs and ranges are in half-units (2 * nA) so that offsets like
 * S * HRS / 2 stay integers. Magnitudes are bounded when the config is
 * validated: |J| < 2^33 half-units and steps < 2^16, so every product below
 * fits in 64 bits.
 */
#ifndef CIM_ADC_H
#define CIM_ADC_H

#include "cim_portable.h"
#include "cim_units.h"

#define CIM_ADC_INF 0 /* INF_ADC: ideal */
#define CIM_ADC_POS 1 /* POS_RANGE_ONLY_ADC: unsigned */
#define CIM_ADC_SYM 2 /* SYM_RANGE_ADC: signed, odd number of levels */

#define CIM_ADC_MIN_BITS 1
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
} cim_column_params;

CIM_STATIC_ASSERT(sizeof(cim_column_params) == 64, cim_column_params_size);

/* Number of intervals between the 2^bits levels of a finite ADC. */
CIM_INLINE int64_t cim_adc_steps(int32_t adc_type, int32_t bits)
{
    int64_t levels = (int64_t)1 << bits;
    return adc_type == CIM_ADC_SYM ? levels - 2 : levels - 1;
}

/* Finite ADC: the integer output A for input j2 (half-units) and scale k. */
CIM_INLINE int64_t cim_adc_convert(const cim_column_params *p, int64_t j2, int32_t k)
{
    int64_t lo = p->adc_lo2, hi = p->adc_hi2, steps = p->adc_steps;
    int64_t jc = j2 < lo ? lo : (j2 > hi ? hi : j2);
    int64_t level = cim_div_round((jc - lo) * steps, hi - lo);
    /* Jq * k / Delta = (lo * steps + (hi - lo) * level) * k / (steps * Delta) */
    int64_t num = (lo * steps + (hi - lo) * level) * (int64_t)k;
    return cim_div_round(num, steps * 2 * p->delta);
}

/* Level table of a finite ADC: the same function as cim_adc_convert without
 * a division, for the kernels' inner loop.
 *   table[0 .. steps-1]        thresholds T_l = lo + ceil((2l - 1)(hi - lo) / (2 steps)),
 *                              l = 1..steps: the level of j2 is #{l : j2 >= T_l}
 *                              (round half away from zero of a non-negative
 *                              ratio, and clipping, both fall out of the count);
 *   table[steps + k_i*(steps+1) + level], k_i = k - 1 in {0, 1}: the output A.
 * cim_adc_table_len() entries. */
CIM_INLINE int64_t cim_adc_table_len(const cim_column_params *p)
{
    return p->adc_steps + 2 * (p->adc_steps + 1);
}

#if !CIM_OPENCL
static inline void cim_adc_table_build(const cim_column_params *p, int64_t *table)
{
    const int64_t lo = p->adc_lo2, span = p->adc_hi2 - p->adc_lo2, steps = p->adc_steps;
    for (int64_t l = 1; l <= steps; ++l) {
        int64_t num = (2 * l - 1) * span, den = 2 * steps;
        table[l - 1] = lo + (num + den - 1) / den;
    }
    for (int32_t k = 1; k <= 2; ++k)
        for (int64_t level = 0; level <= steps; ++level)
            table[steps + (k - 1) * (steps + 1) + level] =
                cim_div_round((lo * steps + span * level) * k, steps * 2 * p->delta);
}
#endif

CIM_INLINE int64_t cim_adc_convert_table(const cim_column_params *p,
                                         CIM_GLOBAL const int64_t *table, int64_t j2, int32_t k)
{
    /* Branch-free binary search for the number of thresholds <= j2 (the
     * answer stays in [first, first + count]); the same steps for every
     * input, so it vectorises and never mispredicts. steps >= 1. */
    int64_t first = 0, count = p->adc_steps;
    while (count > 1) {
        int64_t half_count = count >> 1;
        first += table[first + half_count - 1] <= j2 ? half_count : 0;
        count -= half_count;
    }
    first += table[first] <= j2;
    return table[p->adc_steps + (k - 1) * (p->adc_steps + 1) + first];
}

#endif /* CIM_ADC_H */
