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
 * The same table mechanism serves a measured current distribution later: an
 * empirical inverse CDF with the same octave layout.
 */
#ifndef CIM_GAUSS_H
#define CIM_GAUSS_H

#include "cim_portable.h"
#include "cim_units.h"
#include "cim_gauss_table.h"

#if CIM_OPENCL
#define CIM_CLZ32(x) ((int)clz((uint)(x)))
#else
#define CIM_CLZ32(x) __builtin_clz(x)
#endif

/* Fraction bits left below the 5 sub-interval index bits of a normalised v. */
#define CIM_GAUSS_FRAC_BITS 25

CIM_INLINE int32_t cim_gauss_q24(uint32_t u)
{
    uint32_t v = u & 0x7fffffffu;
    int32_t z;
    if (v == 0) {
        z = CIM_GAUSS_Z_MAX;
    } else {
        int e = CIM_CLZ32(v) - 1; /* octave: p in [2^-(e+1), 2^-e) */
        uint32_t vn = v << e;     /* bit 30 set */
        int i = (int)((vn >> CIM_GAUSS_FRAC_BITS) & (CIM_GAUSS_SUBDIV - 1));
        int64_t frac = (int64_t)(vn & ((1u << CIM_GAUSS_FRAC_BITS) - 1u));
        int32_t z0 = CIM_GAUSS_TABLE[e][i];
        int32_t z1 = CIM_GAUSS_TABLE[e][i + 1]; /* z1 <= z0: |z| falls as p grows */
        int64_t drop = ((int64_t)(z0 - z1) * frac + ((int64_t)1 << (CIM_GAUSS_FRAC_BITS - 1))) >>
                       CIM_GAUSS_FRAC_BITS;
        z = z0 - (int32_t)drop;
    }
    return (u >> 31) ? -z : z;
}

#endif /* CIM_GAUSS_H */
