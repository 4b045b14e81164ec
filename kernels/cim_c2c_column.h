/* cim_c2c_column.h -- the column law of C2C reads (docs/physics/c2c_column.md).
 *
 * The per-cell model reads every driven cell as c = max(0, p + e), p its
 * programmed current (nominal + D2D, not clipped), e ~ N(0, sigma_C2C(state))
 * fresh per MVM and shared by all the conversions of that MVM. Without the
 * clip the conversions' column currents are linear in the deviations, and a
 * sum of independent Gaussians is one Gaussian, so one read needs one normal
 * draw per group of cells instead of one per cell:
 *
 *   I_j = sum_n coef_j * p_n  +  sum_k u_kj * Z_k,   Z_k ~ N(0, V_k)
 *
 * Groups come from the mapping table alone (cim_c2c_groups_of): an input
 * value v drives slot s of a weight with the coefficient vector
 * coef_j(s, v) = sum of sign * drive[term's drive][v] over the terms of
 * conversion j on slot s; slots (of any input value) whose vectors are equal
 * up to sign form one group k with the canonical vector u_k (first non-zero
 * entry positive). A slot of vector -u_k adds -u_k e to the conversions, and
 * -e has the law of e, so V_k = sum over the column read's cells of group k
 * of sigma_C2C(state)^2 = n_LRS sigma_LRS^2 + n_HRS sigma_HRS^2, an exact
 * int64 (the config's current range bounds it below 2^57: cim_config_resolve).
 * TNN_I, BNN_VI and every one-conversion mapping have one group (one draw
 * per column read); TNN_II/III two (d0 and d1 of x = -1 drive the cells
 * with (1, 1), of x = +1 with (1, 0)); BNN_III/IV two, TNN_IV/V four.
 *
 * The draw of group k of output column m in tile (tm, tn) at MVM index
 * `input` is word k of the Philox block of purpose CIM_RNG_C2C_COLUMN keyed
 * with cell = m - tm * xbar_m (cim_rng.h), through the Q24 sampler of
 * cim_gauss.h and scaled by sqrt(V_k) in integers only (CIM_DEFINE_SCALE_SQRT:
 * an exact digit-by-digit square root of V_k normalised to 32 bits, rounded
 * to nearest, then a fixed-point product rounded half away from zero), so
 * kernels and the host reference give the same bits on every device.
 *
 * Counting the states: the LRS count of a weight's driven cells per group is
 * packed one byte per group in a uint32 (cim_c2c_pack_lrs); a column read
 * adds these words over its driven inputs and unpacks the bytes before any
 * of them can overflow (CIM_C2C_FLUSH words: 63 x 4 cells <= 255). The
 * driven-cell count of a group follows from the input values alone
 * (cim_c2c_groups.driven), so HRS = driven - LRS needs no table. Without
 * stuck-at faults the states are the weights' own and the count table is
 * shared by every chip; with faults a stuck cell reads with its stuck
 * state's sigma (cim_cell_state), and the table is per chip.
 */
#ifndef CIM_C2C_COLUMN_H
#define CIM_C2C_COLUMN_H

#include "cim_portable.h"
#include "cim_lanes.h"
#include "cim_units.h"
#include "cim_mappings.h"
#include "cim_launch.h"
#include "cim_gauss.h"

/* Groups of one mapping: at most one per Philox word of a block. */
#define CIM_C2C_MAX_GROUPS 4
/* Bits of one group's count in a packed word, and the words that can be
 * added before a byte could overflow (each adds at most CIM_MAX_SLOTS). */
#define CIM_C2C_COUNT_BITS 8
#define CIM_C2C_FLUSH 63

/* The cell groups of a mapping (see the top of this file):
 *   n_groups         number of groups (0 when no input value drives a cell)
 *   coef[k][j]       the canonical coefficient vector u_k over the conversions
 *   group_of[v][s]   the group of slot s when the input value is x = v - 1,
 *                    -1 when that value leaves the slot out of every conversion
 *   driven[v][k]     slots of group k that input value v drives */
typedef struct cim_c2c_groups {
    int32_t n_groups;
    int32_t coef[CIM_C2C_MAX_GROUPS][CIM_MAX_CONVS];
    int32_t group_of[CIM_VALUE_CLASSES][CIM_MAX_SLOTS];
    int32_t driven[CIM_VALUE_CLASSES][CIM_C2C_MAX_GROUPS];
} cim_c2c_groups;

/* Fills *g from mapping d. 0, or -1 when the mapping would need more than
 * CIM_C2C_MAX_GROUPS groups (none of the table's does: test_c2c_column). */
CIM_INLINE int cim_c2c_groups_of(CIM_CONSTANT_PTR cim_mapping_desc *d, cim_c2c_groups *g)
{
    int rc = 0;
    g->n_groups = 0;
    for (int k = 0; k < CIM_C2C_MAX_GROUPS; ++k)
        for (int j = 0; j < CIM_MAX_CONVS; ++j)
            g->coef[k][j] = 0;
    for (int v = 0; v < CIM_VALUE_CLASSES; ++v) {
        for (int k = 0; k < CIM_C2C_MAX_GROUPS; ++k)
            g->driven[v][k] = 0;
        for (int s = 0; s < CIM_MAX_SLOTS; ++s) {
            int32_t vec[CIM_MAX_CONVS];
            int32_t lead = 0;
            g->group_of[v][s] = -1;
            for (int j = 0; j < CIM_MAX_CONVS; ++j) {
                vec[j] = 0;
                for (int t = 0; j < d->n_convs && s < d->n_slots && t < CIM_MAX_TERMS; ++t) {
                    CIM_CONSTANT_PTR cim_term *tm = &d->conv[j].terms[t];
                    if (tm->sign != 0 && tm->slot == s)
                        vec[j] += tm->sign * d->drive[tm->drive][v];
                }
                if (lead == 0 && vec[j] != 0)
                    lead = vec[j] > 0 ? 1 : -1;
            }
            if (lead == 0)
                continue; /* in no conversion of this input value */
            int found = -1;
            for (int k = 0; k < g->n_groups && found < 0; ++k) {
                int same = 1;
                for (int j = 0; j < CIM_MAX_CONVS; ++j)
                    same &= g->coef[k][j] == lead * vec[j];
                found = same ? k : -1;
            }
            if (found < 0 && g->n_groups == CIM_C2C_MAX_GROUPS) {
                rc = -1;
                continue;
            }
            if (found < 0) {
                found = g->n_groups++;
                for (int j = 0; j < CIM_MAX_CONVS; ++j)
                    g->coef[found][j] = lead * vec[j];
            }
            g->group_of[v][s] = found;
            g->driven[v][found] += 1;
        }
    }
    return rc;
}

/* The most cells one conversion's column current sums per input (over the
 * input values and conversions of mapping d): the n_cells of the clipping
 * bound is this times the inputs of a tile. */
CIM_INLINE int32_t cim_c2c_cells_per_input(CIM_CONSTANT_PTR cim_mapping_desc *d)
{
    int32_t most = 0;
    for (int v = 0; v < CIM_VALUE_CLASSES; ++v) {
        for (int j = 0; j < d->n_convs; ++j) {
            int32_t cells = 0;
            for (int s = 0; s < d->n_slots; ++s) {
                int32_t c = 0;
                for (int t = 0; t < CIM_MAX_TERMS; ++t) {
                    CIM_CONSTANT_PTR cim_term *tm = &d->conv[j].terms[t];
                    if (tm->sign != 0 && tm->slot == s)
                        c += tm->sign * d->drive[tm->drive][v];
                }
                cells += c != 0;
            }
            most = cells > most ? cells : most;
        }
    }
    return most;
}

/* name(g, v, state): the packed LRS counts of a weight's cells driven by
 * input value v, byte k for group k, from the cells' states state[s] (0 HRS,
 * 1 LRS; lane kind K). */
#define CIM_DEFINE_C2C_PACK_LRS(name, K)                                                           \
    CIM_INLINE CIM_##K##_UINT name(const cim_c2c_groups *g, int v, const CIM_##K##_INT *state)     \
    {                                                                                              \
        CIM_##K##_UINT packed = 0;                                                                 \
        CIM_UNROLL for (int s = 0; s < CIM_MAX_SLOTS; ++s)                                         \
        {                                                                                          \
            const int k = g->group_of[v][s];                                                       \
            if (k >= 0)                                                                            \
                packed += CIM_##K##_TO_UINT(state[s]) << (CIM_C2C_COUNT_BITS * k);                 \
        }                                                                                          \
        return packed;                                                                             \
    }

/* name(v, z_q24) = sqrt(v) * z / 2^24 rounded half away from zero, in
 * integers only, for v >= 0 (int64, below 2^62) and a Q24 deviate z (lane
 * kind K) whose result fits int32 (the config's current range makes every
 * column read's deviation do so); v = 0 gives 0.
 *   1. v is shifted by an even amount 2F (left, or right dropping low bits)
 *      into y in [2^30, 2^32): b = bit length of v, left 2F = (32 - b) & ~1
 *      for b <= 30, right -2F = (b - 31) & ~1 for b >= 31;
 *   2. r = round(sqrt(y)), r in [2^15, 2^16]: the exact digit-by-digit floor
 *      square root (16 steps of 32-bit compares and subtractions) and its
 *      remainder y - r^2, rounded up when the remainder exceeds r (then
 *      sqrt(y) > r + 1/2, y being an integer);
 *   3. sqrt(v) = r 2^-F to within 2^-16 relatively, and the deviation is
 *      round(r |z| / 2^(24 + F)) (r |z| < 2^44, 24 + F in 8..39), signed.
 * The relative error of the scale, <= 1.6e-5, is below the sampler's own
 * inverse-CDF error (cim_gauss.h). */
#define CIM_DEFINE_SCALE_SQRT(name, K)                                                             \
    CIM_INLINE CIM_##K##_INT name(CIM_##K##_LONG v, CIM_##K##_INT z_q24)                           \
    {                                                                                              \
        const CIM_##K##_LONG vz = v > 0 ? v : (CIM_##K##_LONG)1;                                   \
        const CIM_##K##_LONG b = (CIM_##K##_LONG)64 - CIM_##K##_LCLZ(vz);                          \
        const CIM_##K##_LONG right =                                                               \
            b >= 31 ? ((b - 31) & (CIM_##K##_LONG)(-2)) : (CIM_##K##_LONG)0;                       \
        const CIM_##K##_LONG left =                                                                \
            b >= 31 ? (CIM_##K##_LONG)0 : (((CIM_##K##_LONG)32 - b) & (CIM_##K##_LONG)(-2));       \
        CIM_##K##_UINT rem = CIM_##K##_LONG_TO_UINT((vz >> right) << left), root = 0;              \
        uint32_t bit = 1u << 30;                                                                   \
        CIM_UNROLL for (int i = 0; i < 16; ++i)                                                    \
        {                                                                                          \
            const CIM_##K##_UINT t = root + bit;                                                   \
            const CIM_##K##_UINT take = rem >= t ? (CIM_##K##_UINT)1 : (CIM_##K##_UINT)0;          \
            rem -= take * t;                                                                       \
            root = (root >> 1) + take * bit;                                                       \
            bit >>= 2;                                                                             \
        }                                                                                          \
        root += rem > root ? (CIM_##K##_UINT)1 : (CIM_##K##_UINT)0;                                \
        const CIM_##K##_LONG shift = (CIM_##K##_LONG)24 + (left >> 1) - (right >> 1);              \
        const CIM_##K##_INT mz = z_q24 < 0 ? -z_q24 : z_q24;                                       \
        const CIM_##K##_LONG prod =                                                                \
            CIM_##K##_TO_LONG(CIM_##K##_AS_INT(root)) * CIM_##K##_TO_LONG(mz);                     \
        const CIM_##K##_LONG mag = (prod + ((CIM_##K##_LONG)1 << (shift - 1))) >> shift;           \
        const CIM_##K##_INT m = CIM_##K##_LONG_TO_INT(v > 0 ? mag : (CIM_##K##_LONG)0);            \
        return z_q24 < 0 ? -m : m;                                                                 \
    }

/* name(s2, n_lrs, n_driven, u): the deviation (nA) that one group adds to
 * its conversions in a column read: N(0, V) with V = n_lrs s2[1] +
 * (n_driven - n_lrs) s2[0] (s2: the C2C sigmas squared, nA^2, HRS then LRS)
 * from the group's word u of the read's Philox block (lane kind K; GAUSS and
 * SCALE_SQRT the kind's sampler and CIM_DEFINE_SCALE_SQRT). */
#define CIM_DEFINE_C2C_DEVIATION(name, K, GAUSS, SCALE_SQRT)                                       \
    CIM_INLINE CIM_##K##_INT name(const int64_t *s2, CIM_##K##_INT n_lrs, CIM_##K##_INT n_driven,  \
                                  CIM_##K##_UINT u)                                                \
    {                                                                                              \
        const CIM_##K##_LONG var =                                                                 \
            CIM_##K##_TO_LONG(n_lrs) * s2[1] + CIM_##K##_TO_LONG(n_driven - n_lrs) * s2[0];        \
        return SCALE_SQRT(var, GAUSS(u));                                                          \
    }

CIM_DEFINE_C2C_PACK_LRS(cim_c2c_pack_lrs, S)
CIM_DEFINE_SCALE_SQRT(cim_scale_sqrt, S)
CIM_DEFINE_C2C_DEVIATION(cim_c2c_deviation, S, cim_gauss_q24, cim_scale_sqrt)

#endif /* CIM_C2C_COLUMN_H */
