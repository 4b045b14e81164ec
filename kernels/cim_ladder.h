/* cim_ladder.h -- bit-line IR drop: the column current through a chain of
 * wire segments (docs/physics/ir_drop.md).
 *
 * A physical column is N_xbar wire segments, one after each physical row,
 * ending at the sense node behind the last row; row 0 is the farthest. A
 * driven row puts |V_read| across its cell, an undriven row leaves it open.
 * In current units, with I_w the current one segment passes at |V_read|:
 *
 *     u_0 = 0;  s = u_i + c_i d_i;  u_(i+1) = s I_w / (s + I_w);  I_col = u_(N_xbar)
 *
 * Fixed point: currents in fine units (2^-CIM_FINE_FRAC_BITS nA, cim_units.h),
 * every step rounded down, u_(i+1) = floor(s I_w / (s + I_w)) with the
 * 128-bit product of cim_wide.h: integer arithmetic, the same bits on every
 * device. Each step loses less than one fine unit and the map is a
 * contraction (its slope I_w^2 / (s + I_w)^2 is below 1), so
 * 0 <= exact - fixed < N_xbar fine units (tests/test_ladder.c checks this
 * against a long-double recursion).
 *
 * Physical rows of a mapping: conversion j's terms (cim_mappings.h) of sign
 * +1 form its positive column, those of sign -1 its negative column (absent
 * when it has no such terms); a weight occupies as many consecutive rows of
 * a column as that column has terms, in term order, so input n of a tile
 * (from 0) drives rows n·t .. n·t + t - 1 of a column with t terms
 * (BNN_V, BNN_VI, TNN_I: t = 2, row 2n on d+, 2n + 1 on d-; the others
 * t = 1). The conversion's current is I_col(positive) - I_col(negative).
 *
 * Use: per output column and read, a cim_ladder state zeroed, then
 * cim_ladder_add_weight for the tile's inputs in order, then
 * cim_ladder_finish, which walks the unused rows up to N_xbar (they still
 * add their segments) and gives the currents.
 */
#ifndef CIM_LADDER_H
#define CIM_LADDER_H

#include "cim_portable.h"
#include "cim_mappings.h"
#include "cim_units.h"
#include "cim_wide.h"

/* Largest I_w in fine units the fixed point takes: s + I_w stays below 2^63
 * for any column current below 2^55 fine units (2^31 nA). */
#define CIM_LADDER_MAX_IW ((int64_t)1 << 62)

/* u[j][0]: the positive column of conversion j so far, u[j][1] the negative. */
typedef struct cim_ladder {
    int64_t u[CIM_MAX_CONVS][2];
} cim_ladder;

/* One segment: floor(s I_w / (s + I_w)), s >= 0, 0 < I_w <= CIM_LADDER_MAX_IW. */
CIM_INLINE int64_t cim_ladder_step(int64_t s, int64_t iw)
{
    if (s == 0)
        return 0;
    uint64_t hi, lo;
    cim_umul_wide((uint64_t)s, (uint64_t)iw, &hi, &lo);
    return (int64_t)cim_udiv_wide(hi, lo, (uint64_t)(s + iw));
}

CIM_INLINE void cim_ladder_zero(cim_ladder *l)
{
    for (int j = 0; j < CIM_MAX_CONVS; ++j)
        l->u[j][0] = l->u[j][1] = 0;
}

/* The rows of one weight, read with cell currents c[slot] (fine units,
 * >= 0) under input class v (x = v - 1): one step per term of every
 * conversion. */
CIM_INLINE void cim_ladder_add_weight(CIM_CONSTANT_PTR cim_mapping_desc *d, int v, const int64_t *c,
                                      int64_t iw, cim_ladder *l)
{
    for (int j = 0; j < d->n_convs; ++j) {
        for (int t = 0; t < d->conv[j].n_terms; ++t) {
            CIM_CONSTANT_PTR cim_term *tm = &d->conv[j].terms[t];
            const int col = tm->sign > 0 ? 0 : 1;
            const int64_t cell = d->drive[tm->drive][v] ? c[tm->slot] : 0;
            l->u[j][col] = cim_ladder_step(l->u[j][col] + cell, iw);
        }
    }
}

/* Terms of conversion j of sign `sign`: the rows per input of that column. */
CIM_INLINE int cim_ladder_rows_per_input(CIM_CONSTANT_PTR cim_mapping_desc *d, int j, int sign)
{
    int rows = 0;
    for (int t = 0; t < d->conv[j].n_terms; ++t)
        rows += d->conv[j].terms[t].sign == sign;
    return rows;
}

/* After n_used inputs: the remaining segments up to ladder_rows, then
 * current[j] = I_col(positive) - I_col(negative) in fine units. */
CIM_INLINE void cim_ladder_finish(CIM_CONSTANT_PTR cim_mapping_desc *d, int32_t n_used,
                                  int32_t ladder_rows, int64_t iw, cim_ladder *l, int64_t *current)
{
    for (int j = 0; j < d->n_convs; ++j) {
        for (int col = 0; col < 2; ++col) {
            const int per_input = cim_ladder_rows_per_input(d, j, col == 0 ? 1 : -1);
            if (per_input == 0)
                continue;
            int64_t u = l->u[j][col];
            for (int32_t r = n_used * per_input; r < ladder_rows && u != 0; ++r)
                u = cim_ladder_step(u, iw);
            l->u[j][col] = u;
        }
        current[j] = l->u[j][0] - l->u[j][1];
    }
}

/* The most inputs a tile of a crossbar with `rows` physical rows may hold
 * under mapping d: rows over the rows one input takes in a column. */
CIM_INLINE int32_t cim_ladder_max_inputs(CIM_CONSTANT_PTR cim_mapping_desc *d, int32_t rows)
{
    int per_input = 1;
    for (int j = 0; j < d->n_convs; ++j)
        for (int sign = -1; sign <= 1; sign += 2) {
            const int r = cim_ladder_rows_per_input(d, j, sign);
            per_input = r > per_input ? r : per_input;
        }
    return rows / per_input;
}

/* Whether a mapping's two bit columns of one output (converted apart) share
 * the crossbar's M columns: TNN_IV and TNN_V, whose tiles then hold M / 2
 * outputs. */
CIM_INLINE int cim_ladder_bit_columns(int32_t mapping)
{
    return mapping == CIM_TNN_IV || mapping == CIM_TNN_V;
}

#endif /* CIM_LADDER_H */
