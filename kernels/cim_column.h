/* cim_column.h -- one tile's column currents to its integer result.
 *
 * Given the column current I_j of every conversion j of a mapping for one
 * output column of one tile (nA), plus the digital side information of that
 * tile -- S (sum of its inputs), n_used (inputs it holds) and sumw (the
 * column's weight sum) -- this applies the ADC offsets, the ADC, the signs and
 * the digital corrections of cim_mappings.h, and returns r_m, the tile's
 * integer contribution to (W x)_m. Host reference and kernels both call it.
 *
 * Digital mode: c = s, so J = I and A = k * I exactly.
 * INF ADC: sum_j sign_j * k_j * J_j / Delta is accumulated exactly and
 * rounded half away from zero once per tile.
 *
 * This is the conversion step of a read: it sees only column currents, so a
 * column model other than a plain sum (bit-line IR drop) changes how the
 * currents are formed, never this file. It is one definition over a lane
 * kind (CIM_DEFINE_COLUMN_RESULT, cim_lanes.h): cim_column_result is the
 * scalar instance, the kernels' cim_column_result_lanes the CIM_VW-lane one.
 */
#ifndef CIM_COLUMN_H
#define CIM_COLUMN_H

#include "cim_portable.h"
#include "cim_units.h"
#include "cim_adc.h"
#include "cim_lanes.h"
#include "cim_mappings.h"

/* ADC offset of conversion `cv` in half-units: (os S + on N) HRS. */
CIM_INLINE int64_t cim_adc_offset2(CIM_CONSTANT_PTR cim_conv *cv, int32_t s, int32_t n_used,
                                   int64_t hrs)
{
    return ((int64_t)cv->offset_half_s * s + (int64_t)cv->offset_half_n * n_used) * hrs;
}

/* ADC input of conversion `cv` in half-units: 2 I + (os S + on N) HRS. */
CIM_INLINE int64_t cim_adc_input2(CIM_CONSTANT_PTR cim_conv *cv, int32_t current, int32_t s,
                                  int32_t n_used, int64_t hrs)
{
    return 2 * (int64_t)current + cim_adc_offset2(cv, s, n_used, hrs);
}

/* Finite ADC, scalar: from the level table when there is one, else by the
 * divisions of the definition (cim_adc_convert). */
CIM_INLINE int64_t cim_adc_convert_any(const cim_column_params *p,
                                       CIM_GLOBAL const int64_t *adc_table, int64_t j2, int32_t k)
{
    return adc_table ? cim_adc_convert_table(p, adc_table, j2, k) : cim_adc_convert(p, j2, k);
}

/* name(p, current, s, n_used, sumw, adc_table, adc_out): tile result r_m for
 * lane kind K, from the column currents current[j] of the conversions and
 * the column's weight sum sumw; s and n_used are the tile's (shared by the
 * lanes). CONVERT(p, adc_table, j2, k) is the finite ADC and DIV_ROUND(num,
 * den) the rounding of the INF ADC, both for kind K. `adc_out`, if not NULL,
 * receives A_j per conversion (the INF value rounded half away from zero). */
#define CIM_DEFINE_COLUMN_RESULT(name, K, CONVERT, DIV_ROUND)                                      \
    CIM_INLINE CIM_##K##_INT name(const cim_column_params *p, const CIM_##K##_INT *current,        \
                                  int32_t s, int32_t n_used, CIM_##K##_INT sumw,                   \
                                  CIM_GLOBAL const int64_t *adc_table, CIM_##K##_LONG *adc_out)    \
    {                                                                                              \
        CIM_CONSTANT_PTR cim_mapping_desc *d = &CIM_MAPPINGS[p->mapping];                          \
        const int exact = !p->digital && p->adc_type == CIM_ADC_INF;                               \
        CIM_##K##_LONG r = CIM_##K##_TO_LONG(sumw) * (int64_t)d->corr_sumw +                       \
                           (CIM_##K##_LONG)((int64_t)d->corr_s * s + (int64_t)d->corr_n * n_used); \
        CIM_##K##_LONG exact_num = 0; /* INF: sum sign k J2, over denominator 2 Delta */           \
        for (int j = 0; j < d->n_convs; ++j) {                                                     \
            CIM_CONSTANT_PTR cim_conv *cv = &d->conv[j];                                           \
            CIM_##K##_LONG a = 0;                                                                  \
            if (p->digital) {                                                                      \
                a = CIM_##K##_TO_LONG(current[j]) * (int64_t)cv->k;                                \
            } else {                                                                               \
                const int64_t offset = cim_adc_offset2(cv, s, n_used, p->hrs);                     \
                const CIM_##K##_LONG j2 = 2 * CIM_##K##_TO_LONG(current[j]) + offset;              \
                if (exact) {                                                                       \
                    exact_num += j2 * (int64_t)(cv->k * cv->sign);                                 \
                    if (adc_out)                                                                   \
                        a = DIV_ROUND(j2 * (int64_t)cv->k, 2 * p->delta);                          \
                } else {                                                                           \
                    a = CONVERT(p, adc_table, j2, cv->k);                                          \
                }                                                                                  \
            }                                                                                      \
            if (adc_out)                                                                           \
                adc_out[j] = a;                                                                    \
            if (!exact)                                                                            \
                r += a * (int64_t)cv->sign;                                                        \
        }                                                                                          \
        if (exact)                                                                                 \
            r += DIV_ROUND(exact_num, 2 * p->delta);                                               \
        return CIM_##K##_LONG_TO_INT(r);                                                           \
    }

/* The scalar instance, for the reference (adc_table NULL: divisions) and the
 * scalar kernels (the level table). */
CIM_DEFINE_COLUMN_RESULT(cim_column_result, S, cim_adc_convert_any, cim_div_round)

/* name(p, current, s, n_used, sumw, adc_table): WIDE's result (a
 * CIM_DEFINE_COLUMN_RESULT instance of kind K, no adc_out), for the ideal
 * ADC in 32-bit lanes when every lane's currents allow it: the numerator
 * sum_j k_j (2 I_j + offset_j) stays within CIM_NARROW_MAX_NUM when each
 * |I_j| is within the limit checked here, and 2 Delta > CIM_NARROW_MIN_DEN
 * (DIV_ROUND_NARROW, cim_units.h). Otherwise, and for finite ADCs and
 * digital mode, WIDE computes it. The same integers either way, so the same
 * bits; the 64-bit lanes cost about twice the work. */
#define CIM_DEFINE_COLUMN_RESULT_NARROW(name, K, WIDE, DIV_ROUND_NARROW)                           \
    CIM_INLINE CIM_##K##_INT name(const cim_column_params *p, const CIM_##K##_INT *current,        \
                                  int32_t s, int32_t n_used, CIM_##K##_INT sumw,                   \
                                  CIM_GLOBAL const int64_t *adc_table)                             \
    {                                                                                              \
        CIM_CONSTANT_PTR cim_mapping_desc *d = &CIM_MAPPINGS[p->mapping];                          \
        if (p->digital || p->adc_type != CIM_ADC_INF || 2 * p->delta <= CIM_NARROW_MIN_DEN)        \
            return WIDE(p, current, s, n_used, sumw, adc_table, 0);                                \
        int64_t offset[CIM_MAX_CONVS], off_sum = 0, k_sum = 0;                                     \
        for (int j = 0; j < d->n_convs; ++j) {                                                     \
            CIM_CONSTANT_PTR cim_conv *cv = &d->conv[j];                                           \
            offset[j] = cim_adc_offset2(cv, s, n_used, p->hrs);                                    \
            off_sum += (offset[j] < 0 ? -offset[j] : offset[j]) * cv->k;                           \
            k_sum += cv->k;                                                                        \
        }                                                                                          \
        const int64_t limit = (CIM_NARROW_MAX_NUM - off_sum) / (2 * k_sum);                        \
        if (limit <= 0)                                                                            \
            return WIDE(p, current, s, n_used, sumw, adc_table, 0);                                \
        CIM_##K##_INT big = 0;                                                                     \
        for (int j = 0; j < d->n_convs; ++j)                                                       \
            big |= (current[j] > (int32_t)limit) | (current[j] < -(int32_t)limit);                 \
        if (CIM_##K##_ANY(big))                                                                    \
            return WIDE(p, current, s, n_used, sumw, adc_table, 0);                                \
        CIM_##K##_INT num = 0;                                                                     \
        for (int j = 0; j < d->n_convs; ++j) {                                                     \
            CIM_CONSTANT_PTR cim_conv *cv = &d->conv[j];                                           \
            num += (2 * current[j] + (int32_t)offset[j]) * (cv->k * cv->sign);                     \
        }                                                                                          \
        const CIM_##K##_INT r = sumw * d->corr_sumw + (d->corr_s * s + d->corr_n * n_used);        \
        return r + DIV_ROUND_NARROW(num, (int32_t)(2 * p->delta));                                 \
    }

/* The scalar instance (tests/test_adc.c checks it against cim_column_result). */
CIM_DEFINE_DIV_ROUND_NARROW(cim_div_round_narrow, S)
CIM_DEFINE_COLUMN_RESULT_NARROW(cim_column_result_fast, S, cim_column_result, cim_div_round_narrow)

/* floor(num / den) and its remainder in [0, den), den > 0. */
CIM_INLINE int64_t cim_floor_divmod(int64_t num, int64_t den, int64_t *rem)
{
    int64_t q = num / den, r = num % den;
    if (r < 0) {
        r += den;
        q -= 1;
    }
    *rem = r;
    return q;
}

/* q + r / den (0 <= r < den) truncated toward zero. */
CIM_INLINE int64_t cim_trunc_mixed(int64_t q, int64_t r)
{
    return q < 0 && r > 0 ? q + 1 : q;
}

/* A column current as the trace records it: nA, fine currents rounded to the
 * nearest nA (halves up). */
CIM_INLINE int32_t cim_trace_current(const cim_column_params *p, int64_t current)
{
    if (!p->fine)
        return (int32_t)current;
    const int64_t unit = (int64_t)1 << CIM_FINE_FRAC_BITS;
    int64_t rem;
    return (int32_t)cim_floor_divmod(current + unit / 2, unit, &rem);
}

/* Tile result r_m from fine column currents (p->fine; 2^-CIM_FINE_FRAC_BITS
 * nA, scalar). A finite ADC converts as cim_column_result does (its outputs
 * are integers). The ideal ADC gives real values A_j = J_j k_j / Delta; they
 * enter the integer result by the reference simulator's truncation chain
 * (CIM_TRUNC_CHAIN), in exact arithmetic: the running value is kept as q +
 * r / D, D = 2 Delta 2^CIM_FINE_FRAC_BITS, 0 <= r < D, so nothing overflows.
 * adc_out as for cim_column_result (A_j rounded half away from zero). */
CIM_INLINE int32_t cim_column_result_fine(const cim_column_params *p, const int64_t *current,
                                          int32_t s, int32_t n_used, int32_t sumw,
                                          CIM_GLOBAL const int64_t *adc_table, int64_t *adc_out)
{
    CIM_CONSTANT_PTR cim_mapping_desc *d = &CIM_MAPPINGS[p->mapping];
    const int64_t unit = cim_adc_input_unit(p);
    const int64_t corr =
        (int64_t)sumw * d->corr_sumw + (int64_t)d->corr_s * s + (int64_t)d->corr_n * n_used;
    const int inf = p->adc_type == CIM_ADC_INF;
    const int trunc_each = CIM_TRUNC_CHAIN[p->mapping][0];
    const int corr_after = CIM_TRUNC_CHAIN[p->mapping][1];
    const int64_t den = 2 * p->delta * unit;
    int64_t q = inf && corr_after ? 0 : corr, r = 0;
    for (int j = 0; j < d->n_convs; ++j) {
        CIM_CONSTANT_PTR cim_conv *cv = &d->conv[j];
        const int64_t j2 = 2 * current[j] + cim_adc_offset2(cv, s, n_used, p->hrs) * unit;
        int64_t a;
        if (inf) {
            int64_t rem;
            q += cim_floor_divmod(j2 * (int64_t)(cv->k * cv->sign), den, &rem);
            r += rem;
            if (r >= den) {
                r -= den;
                q += 1;
            }
            if (trunc_each) {
                q = cim_trunc_mixed(q, r);
                r = 0;
            }
            a = cim_div_round(j2 * (int64_t)cv->k, den);
        } else {
            a = cim_adc_convert_any(p, adc_table, j2, cv->k);
            q += a * (int64_t)cv->sign;
        }
        if (adc_out)
            adc_out[j] = a;
    }
    if (inf) {
        q = cim_trunc_mixed(q, r);
        if (corr_after)
            q += corr;
    }
    return (int32_t)q;
}

#endif /* CIM_COLUMN_H */
