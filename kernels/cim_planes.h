/* cim_planes.h -- bit-sliced inputs: one input vector of multi-bit values
 * (raw pixels) applied as P bit planes, one crossbar read each; the reads
 * r_b of planes b = 0..P-1 fold into the vector's result
 *   F = sum_b 2^b r_b,
 * accumulated exactly in 64 bits and saturated to int32 (so an absurd ADC
 * range cannot wrap differently on different devices). The host C reference
 * (host/network/cim_geometry.c), the device's fold kernel and the network kernel
 * (lane-wise, cim_network.cl) all fold with CIM_FOLD_PLANE and saturate with
 * cim_saturate_int32, so they agree bit for bit. r points at plane 0's read; the reads of one
 * vector lie `stride` values apart; planes <= CIM_MAX_PLANES.
 */
#ifndef CIM_PLANES_H
#define CIM_PLANES_H

#include "cim_portable.h"
#include "cim_units.h"

#define CIM_MAX_PLANES 16 /* 2^16 * |int32| stays far inside int64 */

/* One step of the fold, most significant plane first: acc of the planes
 * above, read of this plane -> acc of this plane and those above. For any
 * integer type, scalar or lane-wise (int64 lanes). */
#define CIM_FOLD_PLANE(acc, read) (2 * (acc) + (read))

/* What bit plane b of an input value drives: its bit in {0,1}, or as
 * 2 x_b - 1 in {-1,+1} for binary planes (BNN mappings, which have no 0). */
CIM_INLINE int32_t cim_plane_input(int32_t value, int32_t b, int32_t binary)
{
    const int32_t bit = (value >> b) & 1;
    return binary ? 2 * bit - 1 : bit;
}

/* The folded 64-bit sum as the layer's int32 value, saturated. */
CIM_INLINE int32_t cim_saturate_int32(int64_t acc)
{
    return acc > (int64_t)INT32_MAX   ? INT32_MAX
           : acc < (int64_t)INT32_MIN ? INT32_MIN
                                      : (int32_t)acc;
}

CIM_INLINE int32_t cim_fold_planes(const CIM_GLOBAL int32_t *r, int32_t planes, int64_t stride)
{
    int64_t acc = 0;
    for (int32_t b = planes - 1; b >= 0; --b)
        acc = CIM_FOLD_PLANE(acc, r[b * stride]);
    return cim_saturate_int32(acc);
}

#if !CIM_OPENCL
/* On the host, every vector at once: reads [n_vectors][planes][rows] to
 * out[n_vectors][rows], as the device's cim_fold kernel does. */
static inline void cim_fold_planes_host(const int32_t *reads, int32_t rows, int64_t n_vectors,
                                        int32_t planes, int32_t *out)
{
    for (int64_t v = 0; v < n_vectors; ++v)
        for (int32_t m = 0; m < rows; ++m)
            out[v * rows + m] = cim_fold_planes(reads + v * planes * rows + m, planes, rows);
}
#endif

/* The layer output of a folded result F: F itself for {0,1} planes; for
 * {-1,+1} planes (BNN mappings, s_b = 2 x_b - 1) the vector's W x is
 * (F + (2^planes - 1) * row_sum) / 2, row_sum being the sum of the output
 * row's weights, rounded half away from zero. */
CIM_INLINE int32_t cim_plane_output(int32_t folded, int64_t row_sum, int32_t planes, int32_t binary)
{
    if (!binary)
        return folded;
    return (int32_t)cim_div_round((int64_t)folded + (((int64_t)1 << planes) - 1) * row_sum, 2);
}

#endif /* CIM_PLANES_H */
