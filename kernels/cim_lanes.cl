/* cim_lanes.cl -- explicit SIMD lanes for the kernels (device only).
 *
 * A work-item handles CIM_VW neighbouring output columns at once with OpenCL
 * vector types (CIM_VW = 1 gives plain scalars), because CPU OpenCL compilers
 * vectorise explicit vectors reliably and loops of scalar work-items rarely.
 * This file holds the lane types and lane-wise versions of the shared
 * arithmetic: Philox4x32-10 (Random123's rounds and constants), the Gaussian
 * table sampler of cim_gauss.h and the deviate scaling of cim_units.h. They
 * are exact integer re-statements of those scalar definitions, and
 * tests/test_kernels.c checks every result against the scalar host reference.
 */

#define CIM_CAT_(a, b) a##b
#define CIM_CAT(a, b) CIM_CAT_(a, b)
#if CIM_VW == 1
typedef int cim_vec;
typedef uint cim_uvec;
#define CIM_VLOAD(p) (*(p))
#define CIM_VLOAD_ALIGNED(p) (*(p))
#define CIM_VLOAD_INT(p) ((int)*(p))
#define CIM_VSTORE(v, p) (*(p) = (v))
#define CIM_AS_INT(x) ((int)(x))
#define CIM_TO_UINT(x) ((uint)(x))
typedef long cim_lvec;
#define CIM_TO_LONG(x) ((long)(x))
#define CIM_LONG_TO_INT(x) ((int)(x))
#define CIM_TRUE 1 /* what a comparison yields for "true" */
#else
typedef CIM_CAT(int, CIM_VW) cim_vec;
typedef CIM_CAT(uint, CIM_VW) cim_uvec;
#define CIM_VLOAD(p) CIM_CAT(vload, CIM_VW)(0, p)
/* p aligned to the whole vector (blocked g, rows_pad-strided tables): one
 * vector load instead of the element-wise loads compilers emit for vload. */
#define CIM_VLOAD_ALIGNED(p) (*(__global const cim_vec *)(p))
#define CIM_VLOAD_INT(p) CIM_CAT(convert_int, CIM_VW)(CIM_CAT(vload, CIM_VW)(0, p))
#define CIM_VSTORE(v, p) CIM_CAT(vstore, CIM_VW)(v, 0, p)
#define CIM_AS_INT(x) CIM_CAT(as_int, CIM_VW)(x)
#define CIM_TO_UINT(x) CIM_CAT(convert_uint, CIM_VW)(x)
typedef CIM_CAT(long, CIM_VW) cim_lvec;
#define CIM_TO_LONG(x) CIM_CAT(convert_long, CIM_VW)(x)
#define CIM_LONG_TO_INT(x) CIM_CAT(convert_int, CIM_VW)(x)
#define CIM_TRUE (-1)
#endif
#if CIM_VW == 1
#define CIM_LANE_INDEX 0
#elif CIM_VW == 2
#define CIM_LANE_INDEX ((int2)(0, 1))
#elif CIM_VW == 4
#define CIM_LANE_INDEX ((int4)(0, 1, 2, 3))
#elif CIM_VW == 8
#define CIM_LANE_INDEX ((int8)(0, 1, 2, 3, 4, 5, 6, 7))
#elif CIM_VW == 16
#define CIM_LANE_INDEX ((int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
#else
#error "CIM_VW must be 1, 2, 4, 8 or 16"
#endif
#define CIM_LANE(v, l) (((int *)&(v))[l])
#define CIM_ULANE(v, l) (((uint *)&(v))[l])
#define CIM_LLANE(v, l) (((long *)&(v))[l])

/* Population counts of many words, summed. CPU compilers turn popcount() of
 * a vector into one scalar popcnt per lane, so wide lanes count bits with
 * SWAR arithmetic instead: cim_popcount_bytes() leaves the count of each
 * byte in that byte (0..8), up to CIM_POPCOUNT_BLOCK such results can be
 * added without a byte overflowing (31 * 8 = 248), and cim_bytes_sum() adds
 * the four bytes of each lane. With one lane (GPUs) the native popcount is
 * used and the "bytes" are plain counts. */
#define CIM_POPCOUNT_BLOCK 31
#if CIM_VW == 1
#define cim_popcount_bytes(x) popcount(x)
#define cim_bytes_sum(x) (x)
#else
static inline cim_uvec cim_popcount_bytes(cim_uvec x)
{
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    return (x + (x >> 4)) & 0x0f0f0f0fu;
}

static inline cim_uvec cim_bytes_sum(cim_uvec x)
{
    x = (x & 0x00ff00ffu) + ((x >> 8) & 0x00ff00ffu);
    return (x & 0xffffu) + (x >> 16);
}
#endif

/* Philox4x32 constants (Random123 philox.h). */
#define CIM_PHILOX_M0 0xD2511F53u
#define CIM_PHILOX_M1 0xCD9E8D57u
#define CIM_PHILOX_W0 0x9E3779B9u
#define CIM_PHILOX_W1 0xBB67AE85u
#define CIM_PHILOX_ROUNDS 10

/* Philox4x32-10 of counters c[0..3] (lane-wise) under key (k0, k1). */
static inline void cim_philox_lanes(cim_uvec *c, uint k0, uint k1)
{
#pragma unroll
    for (int r = 0; r < CIM_PHILOX_ROUNDS; ++r) {
        if (r > 0) {
            k0 += CIM_PHILOX_W0;
            k1 += CIM_PHILOX_W1;
        }
        cim_uvec hi0 = mul_hi((cim_uvec)CIM_PHILOX_M0, c[0]), lo0 = CIM_PHILOX_M0 * c[0];
        cim_uvec hi1 = mul_hi((cim_uvec)CIM_PHILOX_M1, c[2]), lo1 = CIM_PHILOX_M1 * c[2];
        cim_uvec n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
        c[0] = n0;
        c[1] = lo1;
        c[2] = n2;
        c[3] = lo0;
    }
}

/* cim_gauss_q24 lane-wise. The interpolation (z0 - z1) * frac / 2^25,
 * rounded half up, is done in 32-bit halves: with A = (z0 - z1) << 7 (node
 * gaps are < 2^25, checked by tools/gen_gauss_table.py),
 * A * frac = drop * 2^32 + low exactly, so drop = mul_hi(A, frac) + (low >> 31). */
static inline cim_vec cim_gauss_lanes(cim_uvec u)
{
    const cim_uvec v = u & 0x7fffffffu;
    const cim_uvec vz = v == 0 ? (cim_uvec)1 : v; /* v = 0 handled below */
    const cim_uvec e = clz(vz) - 1u;
    const cim_uvec vn = vz << e;
    const cim_uvec idx = (vn >> CIM_GAUSS_FRAC_BITS) & (CIM_GAUSS_SUBDIV - 1);
    const cim_uvec frac = vn & ((1u << CIM_GAUSS_FRAC_BITS) - 1u);
    cim_vec z0, z1;
    for (int l = 0; l < CIM_VW; ++l) {
        const int2 nodes = vload2(0, &CIM_GAUSS_TABLE[CIM_ULANE(e, l)][CIM_ULANE(idx, l)]);
        CIM_LANE(z0, l) = nodes.s0;
        CIM_LANE(z1, l) = nodes.s1;
    }
    const cim_uvec a = CIM_TO_UINT(z0 - z1) << 7;
    const cim_uvec drop = mul_hi(a, frac) + ((a * frac) >> 31);
    cim_vec z = z0 - CIM_AS_INT(drop);
    z = v == 0 ? (cim_vec)CIM_GAUSS_Z_MAX : z;
    return (u >> 31) != 0 ? -z : z;
}

/* cim_scale_deviate lane-wise: sigma * z / 2^24 rounded half away from zero,
 * with sigma < 2^24 and |z| < 2^27, from the 64-bit product's 32-bit halves. */
static inline cim_vec cim_scale_deviate_lanes(cim_vec sigma, cim_vec z)
{
    const cim_uvec s = CIM_TO_UINT(sigma);
    const cim_uvec mz = CIM_TO_UINT(z < 0 ? -z : z);
    const cim_uvec hi = mul_hi(s, mz), lo = s * mz;
    const cim_vec mag = CIM_AS_INT((hi << 8) + (lo >> 24) + ((lo >> 23) & 1u));
    return z < 0 ? -mag : mag;
}

/* cim_adc_convert_table lane-wise. The level r = floor((j2 - lo) * steps / span
 * + 1/2) (clipped to 0..steps) is first estimated in float -- within 0.02 of
 * the exact ratio for any steps < 2^16 -- and then corrected by comparing
 * with the two neighbouring thresholds, which makes it exact whatever the
 * float rounding: two table reads per lane instead of a binary search. */
#if CIM_VW == 1
#define CIM_TO_FLOAT(x) ((float)(x))
#define CIM_FLOAT_TO_LONG(x) ((long)(x))
#else
#define CIM_TO_FLOAT(x) CIM_CAT(convert_float, CIM_VW)(x)
#define CIM_FLOAT_TO_LONG(x) CIM_CAT(convert_long, CIM_VW)(x)
#endif
static inline cim_lvec cim_adc_table_lanes(const cim_column_params *p, __global const long *table,
                                           cim_lvec j2, int k)
{
    const long steps = p->adc_steps;
    const float scale = (float)steps / (float)(p->adc_hi2 - p->adc_lo2);
    cim_lvec level = CIM_FLOAT_TO_LONG(floor(CIM_TO_FLOAT(j2 - p->adc_lo2) * scale + 0.5f));
    level = level < 0 ? (cim_lvec)0 : (level > steps ? (cim_lvec)steps : level);
    cim_lvec below, above, out; /* thresholds T_level and T_(level+1) */
    for (int l = 0; l < CIM_VW; ++l) {
        const long q = CIM_LLANE(level, l);
        CIM_LLANE(below, l) = q >= 1 ? table[q - 1] : LONG_MIN;
        CIM_LLANE(above, l) = q < steps ? table[q] : LONG_MAX;
    }
    level += below > j2 ? (cim_lvec)-1 : (cim_lvec)0;
    level += above <= j2 ? (cim_lvec)1 : (cim_lvec)0;
    const long base = steps + (k - 1) * (steps + 1);
    for (int l = 0; l < CIM_VW; ++l)
        CIM_LLANE(out, l) = table[base + CIM_LLANE(level, l)];
    return out;
}

/* cim_div_round lane-wise, den > 0: a float estimate of num / den -- within
 * one of the result for any quotient below 2^20 -- corrected exactly from the
 * remainder r = num - q * den: rounding half away from zero means
 * -den <= 2r < den for num >= 0 and -den < 2r <= den for num < 0. */
static inline cim_lvec cim_div_round_lanes(cim_lvec num, long den)
{
    cim_lvec q = CIM_FLOAT_TO_LONG(rint(CIM_TO_FLOAT(num) / (float)den));
    const cim_lvec r2 = 2 * (num - q * den);
    const cim_lvec neg = num < 0;
    q += (neg ? r2 > den : r2 >= den) ? (cim_lvec)1 : (cim_lvec)0;
    q -= (neg ? r2 <= -den : r2 < -den) ? (cim_lvec)1 : (cim_lvec)0;
    return q;
}

/* cim_column_result lane-wise (cim_column.h), for every ADC. */
static inline cim_vec cim_column_result_lanes(const cim_column_params *p, const cim_vec *current,
                                              int s, int n_used, cim_vec sumw,
                                              __global const long *adc_table)
{
    __constant const cim_mapping_desc *d = &CIM_MAPPINGS[p->mapping];
    const int exact = !p->digital && p->adc_type == CIM_ADC_INF;
    cim_lvec r = CIM_TO_LONG(sumw) * (long)d->corr_sumw +
                 (cim_lvec)((long)d->corr_s * s + (long)d->corr_n * n_used);
    cim_lvec exact_num = 0; /* INF: sum sign k J2, over 2 Delta */
    for (int j = 0; j < d->n_convs; ++j) {
        __constant const cim_conv *cv = &d->conv[j];
        if (p->digital) {
            r += CIM_TO_LONG(current[j]) * (long)(cv->k * cv->sign);
        } else {
            const long offset =
                ((long)cv->offset_half_s * s + (long)cv->offset_half_n * n_used) * p->hrs;
            const cim_lvec j2 = 2 * CIM_TO_LONG(current[j]) + offset;
            if (exact)
                exact_num += j2 * (long)(cv->k * cv->sign);
            else
                r += cim_adc_table_lanes(p, adc_table, j2, cv->k) * (long)cv->sign;
        }
    }
    if (exact)
        r += cim_div_round_lanes(exact_num, 2 * p->delta);
    return CIM_LONG_TO_INT(r);
}
