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
 */
#ifndef CIM_COLUMN_H
#define CIM_COLUMN_H

#include "cim_portable.h"
#include "cim_units.h"
#include "cim_adc.h"
#include "cim_mappings.h"

/* ADC input of conversion `cv` in half-units: 2 I + (os S + on N) HRS. */
CIM_INLINE int64_t cim_adc_input2(CIM_CONSTANT_PTR cim_conv *cv, int32_t current, int32_t s,
                                  int32_t n_used, int64_t hrs)
{
    return 2 * (int64_t)current +
           ((int64_t)cv->offset_half_s * s + (int64_t)cv->offset_half_n * n_used) * hrs;
}

/* Tile result r_m. `adc_table`, if not NULL, is the finite ADC's level table
 * (cim_adc.h), which gives the same outputs without divisions; the reference
 * passes NULL and divides. `adc_out`, if not NULL, receives A_j per conversion
 * (the INF value rounded half away from zero). */
CIM_INLINE int32_t cim_column_result(const cim_column_params *p, const int32_t *current, int32_t s,
                                     int32_t n_used, int32_t sumw,
                                     CIM_GLOBAL const int64_t *adc_table, int64_t *adc_out)
{
    CIM_CONSTANT_PTR cim_mapping_desc *d = &CIM_MAPPINGS[p->mapping];
    int64_t r = (int64_t)d->corr_sumw * sumw + (int64_t)d->corr_s * s + (int64_t)d->corr_n * n_used;
    int64_t exact_num = 0; /* INF: sum sign k J2, over denominator 2 Delta */
    for (int j = 0; j < d->n_convs; ++j) {
        CIM_CONSTANT_PTR cim_conv *cv = &d->conv[j];
        int64_t a;
        if (p->digital) {
            a = (int64_t)cv->k * current[j];
        } else {
            int64_t j2 = cim_adc_input2(cv, current[j], s, n_used, p->hrs);
            if (p->adc_type == CIM_ADC_INF) {
                exact_num += cv->sign * cv->k * j2;
                a = cim_div_round(cv->k * j2, 2 * p->delta);
            } else if (adc_table) {
                a = cim_adc_convert_table(p, adc_table, j2, cv->k);
            } else {
                a = cim_adc_convert(p, j2, cv->k);
            }
        }
        if (adc_out)
            adc_out[j] = a;
        if (p->digital || p->adc_type != CIM_ADC_INF)
            r += cv->sign * a;
    }
    if (!p->digital && p->adc_type == CIM_ADC_INF)
        r += cim_div_round(exact_num, 2 * p->delta);
    return (int32_t)r;
}

#endif /* CIM_COLUMN_H */
