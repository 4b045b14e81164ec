/* cim_cdf.h -- measured device distributions: a cell current drawn from a
 * tabulated, piecewise-linear CDF instead of the Gaussian model
 * (docs/physics/device_cdf.md).
 *
 * A table is K + 1 points (I_k, P_k), k = 0..K, K >= 1: currents in nA,
 * strictly increasing, and thresholds P_k = round(2^32 * cumulative
 * probability), non-decreasing from P_0 = 0 to P_K = 2^32 (int64, so that
 * 2^32 itself is representable). The CDF is linear between points; a flat
 * step (P_k = P_k+1) has no mass. A 32-bit uniform word u (the cell's own
 * Philox word of its D2D or C2C stream, cim_rng.h) becomes
 *
 *   j = the largest index with P_j <= u        (binary search; P_j <= u < P_j+1)
 *   I = I_j + floor((u - P_j) (I_j+1 - I_j) / (P_j+1 - P_j))
 *
 * in 64-bit integers: (u - P_j) < 2^32 and I_j+1 - I_j <= 2 * 10^7 nA (the
 * config's current range), so the product is below 2^57. P_0 = 0 <= u <
 * 2^32 = P_K, so j exists and P_j+1 > P_j: the division is by a positive
 * number and rounds down. Host C and OpenCL C compile this same function;
 * the kernels get the table set in a buffer (CIM_GLOBAL), lane code calls it
 * once per lane.
 *
 * Four tables per crossbar, indexed CIM_CDF_D2D + state and CIM_CDF_C2C +
 * state (state 0 HRS, 1 LRS): the programmed current of a cell of that state
 * (replacing nominal + sigma z) and its per-read deviation (replacing sigma
 * z). n = 0: that state keeps the Gaussian model.
 */
#ifndef CIM_CDF_H
#define CIM_CDF_H

#include "cim_portable.h"

#define CIM_CDF_MAX_POINTS 257 /* K <= 256 segments */
#define CIM_CDF_D2D 0
#define CIM_CDF_C2C 2
#define CIM_CDF_TABLES 4
#define CIM_CDF_ONE ((int64_t)1 << 32) /* P = 1 */

/* Every field is 64-bit, so host and device lay the struct out alike. */
typedef struct cim_cdf_set {
    int64_t n[CIM_CDF_TABLES];                     /* points of table t, 0: none */
    int64_t p[CIM_CDF_TABLES][CIM_CDF_MAX_POINTS]; /* thresholds, 0 .. 2^32 */
    int64_t i[CIM_CDF_TABLES][CIM_CDF_MAX_POINTS]; /* currents, nA */
} cim_cdf_set;

/* The current (nA) of table t of `set` at uniform word u; table t has n >= 2
 * points. */
CIM_INLINE int32_t cim_cdf_sample(CIM_GLOBAL const cim_cdf_set *set, int t, uint32_t u)
{
    CIM_GLOBAL const int64_t *p = set->p[t];
    CIM_GLOBAL const int64_t *c = set->i[t];
    const int64_t v = (int64_t)u;
    const int last = (int)set->n[t] - 2; /* the last segment */
    /* the largest j <= last with p[j] <= v, by halving steps of fixed count
     * (no data-dependent loop: lanes and work-items stay in step) */
    int j = 0;
    CIM_UNROLL for (int step = (CIM_CDF_MAX_POINTS - 1) / 2; step > 0; step >>= 1)
    {
        const int mid = j + step;
        j = ((mid <= last) & (p[mid] <= v)) ? mid : j;
    }
    return (int32_t)(c[j] + (v - p[j]) * (c[j + 1] - c[j]) / (p[j + 1] - p[j]));
}

CIM_STATIC_ASSERT(((CIM_CDF_MAX_POINTS - 1) & (CIM_CDF_MAX_POINTS - 2)) == 0,
                  cim_cdf_segments_power_of_two);

#endif /* CIM_CDF_H */
