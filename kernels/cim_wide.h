/* cim_wide.h -- 128-bit unsigned products and quotients from 64-bit integer
 * operations, for the few exact steps whose intermediates outgrow 64 bits
 * (the bit-line ladder of cim_ladder.h, the finite ADC on fine currents in
 * cim_adc.h).
 *
 * One definition for host C and OpenCL C: the product is formed from 32-bit
 * halves, the quotient by the two-digit long division of Hacker's Delight
 * (divlu, base 2^32, divisor normalised), both exact for every input they
 * accept, so every device computes the same bits. tests/test_ladder.c checks
 * both against the compiler's unsigned __int128 on random and edge inputs.
 */
#ifndef CIM_WIDE_H
#define CIM_WIDE_H

#include "cim_portable.h"

#if CIM_OPENCL
#define CIM_CLZ64(x) ((int)clz((ulong)(x)))
#else
#define CIM_CLZ64(x) __builtin_clzll(x)
#endif

/* hi·2^64 + lo = a·b. */
CIM_INLINE void cim_umul_wide(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
    const uint64_t m32 = 0xffffffffu;
    const uint64_t a0 = a & m32, a1 = a >> 32, b0 = b & m32, b1 = b >> 32;
    const uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    const uint64_t mid = (p00 >> 32) + (p01 & m32) + (p10 & m32);
    *lo = (mid << 32) | (p00 & m32);
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

/* hi·2^64 + lo += a. */
CIM_INLINE void cim_uadd_wide(uint64_t *hi, uint64_t *lo, uint64_t a)
{
    const uint64_t sum = *lo + a;
    *hi += sum < a ? 1u : 0u;
    *lo = sum;
}

/* floor((hi·2^64 + lo) / d) for d > 0 and hi < d (so the quotient fits in 64
 * bits; callers guarantee it). */
CIM_INLINE uint64_t cim_udiv_wide(uint64_t hi, uint64_t lo, uint64_t d)
{
    const uint64_t b = (uint64_t)1 << 32, m32 = 0xffffffffu;
    const int sh = CIM_CLZ64(d);
    d <<= sh;
    const uint64_t vn1 = d >> 32, vn0 = d & m32;
    const uint64_t un32 = sh ? (hi << sh) | (lo >> (64 - sh)) : hi;
    const uint64_t un10 = lo << sh;
    const uint64_t un1 = un10 >> 32, un0 = un10 & m32;
    uint64_t q1 = un32 / vn1, rhat = un32 - q1 * vn1;
    while (q1 >= b || q1 * vn0 > b * rhat + un1) {
        q1 -= 1;
        rhat += vn1;
        if (rhat >= b)
            break;
    }
    const uint64_t un21 = un32 * b + un1 - q1 * d; /* exact mod 2^64: it is < d */
    uint64_t q0 = un21 / vn1;
    rhat = un21 - q0 * vn1;
    while (q0 >= b || q0 * vn0 > b * rhat + un0) {
        q0 -= 1;
        rhat += vn1;
        if (rhat >= b)
            break;
    }
    return q1 * b + q0;
}

/* floor((a·b + c) / d) for d > 0 whose quotient fits in 64 bits. */
CIM_INLINE uint64_t cim_umuladd_div(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
    uint64_t hi, lo;
    cim_umul_wide(a, b, &hi, &lo);
    cim_uadd_wide(&hi, &lo, c);
    return cim_udiv_wide(hi, lo, d);
}

#endif /* CIM_WIDE_H */
