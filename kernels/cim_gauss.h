/* cim_gauss.h -- integer-only standard normal deviates from 32 uniform bits.
 *
 * Bit 31 of the uniform word is the sign; the other 31 bits v give the two-sided
 * tail probability p = v / 2^31 and |z| = Phi^-1(1 - p/2) is read from the node
 * table of cim_gauss_table.h by linear interpolation in integer arithmetic.
 * The result is a Q24 fixed-point z, a pure function of the input word, and
 * the same on every device: no log/sqrt/cos whose rounding could differ.
 *
 * Accuracy (tests/test_gauss.c measures it against erfc): the distribution is
 * exactly symmetric, the interpolated inverse CDF is within 5.1e-5 of the
 * exact one everywhere (measured maximum 5.03e-5, near p = 0.254), and the
 * tail is cut at |z| = 6.338 (CIM_GAUSS_Z_MAX, the quantile of p = 2^-32, for
 * v = 0; the next largest |z| is 6.230, p = 2^-31).
 *
 * The sampler is one definition over a lane kind (CIM_DEFINE_GAUSS,
 * cim_lanes.h): cim_gauss_q24 is its scalar instance, the kernels' lane-wise
 * sampler its CIM_VW-lane instance. The interpolation is exact integer
 * arithmetic in 32-bit halves (below), so every instance gives the same z.
 *
 * Measured device distributions do not pass through this sampler: a state
 * with a table reads the same 32-bit word through cim_cdf.h instead.
 */
#ifndef CIM_GAUSS_H
#define CIM_GAUSS_H

#include "cim_portable.h"
#include "cim_units.h"
#include "cim_lanes.h"
#include "cim_gauss_table.h"

/* The node table as one row-major array (node (e, i) at e * 33 + i). */
#define CIM_GAUSS_NODES (&CIM_GAUSS_TABLE[0][0])

/* Fraction bits left below the 5 sub-interval index bits of a normalised v. */
#define CIM_GAUSS_FRAC_BITS 25

/* name(u): the Q24 deviate of uniform word(s) u (lane kind K). v = 0 is the
 * table's cut-off CIM_GAUSS_Z_MAX. The interpolation drop = ((z0 - z1) *
 * frac + 2^24) >> 25 (round half up) is computed in 32-bit halves: with
 * A = (z0 - z1) << 7 (node gaps are < 2^25, checked by
 * tools/gen_gauss_table.py), A * frac = drop' * 2^32 + low exactly, and
 * drop = mul_hi(A, frac) + (low >> 31). */
#define CIM_DEFINE_GAUSS(name, K)                                                                  \
    CIM_INLINE CIM_##K##_INT name(CIM_##K##_UINT u)                                                \
    {                                                                                              \
        const CIM_##K##_UINT v = u & 0x7fffffffu;                                                  \
        const CIM_##K##_UINT vz = v == 0 ? (CIM_##K##_UINT)1 : v; /* v = 0: see the end */         \
        const CIM_##K##_UINT e = CIM_##K##_CLZ(vz) - 1u;          /* p in [2^-(e+1), 2^-e) */      \
        const CIM_##K##_UINT vn = vz << e;                        /* bit 30 set */                 \
        const CIM_##K##_UINT idx = (vn >> CIM_GAUSS_FRAC_BITS) & (CIM_GAUSS_SUBDIV - 1);           \
        const CIM_##K##_UINT frac = vn & ((1u << CIM_GAUSS_FRAC_BITS) - 1u);                       \
        CIM_##K##_INT z0, z1;                       /* z1 <= z0: |z| falls as p grows */           \
        for (int l = 0; l < CIM_##K##_LANES; ++l) { /* one 32-bit index: dword gathers */          \
            const int at =                                                                         \
                (int)(CIM_##K##_ULANE(e, l) * (CIM_GAUSS_SUBDIV + 1u) + CIM_##K##_ULANE(idx, l));  \
            CIM_##K##_LANE(z0, l) = CIM_GAUSS_NODES[at];                                           \
            CIM_##K##_LANE(z1, l) = CIM_GAUSS_NODES[at + 1];                                       \
        }                                                                                          \
        const CIM_##K##_UINT a = CIM_##K##_TO_UINT(z0 - z1) << 7;                                  \
        const CIM_##K##_UINT drop = CIM_##K##_MULHI(a, frac) + ((a * frac) >> 31);                 \
        CIM_##K##_INT z = z0 - CIM_##K##_AS_INT(drop);                                             \
        z = v == 0 ? (CIM_##K##_INT)CIM_GAUSS_Z_MAX : z;                                           \
        return (u >> 31) != 0 ? -z : z;                                                            \
    }

CIM_DEFINE_GAUSS(cim_gauss_q24, S)

#endif /* CIM_GAUSS_H */
