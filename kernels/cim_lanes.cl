/* cim_lanes.cl -- explicit SIMD lanes for the kernels (device only).
 *
 * A work-item handles CIM_VW neighbouring output columns at once with OpenCL
 * vector types (CIM_VW = 1 gives plain scalars), because CPU OpenCL compilers
 * vectorise explicit vectors reliably and loops of scalar work-items rarely.
 * This file holds only the lane types, the lane kind V over them
 * (cim_lanes.h explains kinds) and the V instances of the shared definitions
 * -- Philox (cim_rng.h), the Gaussian sampler (cim_gauss.h), deviate scaling
 * and rounded division (cim_units.h), the ADC level lookup (cim_adc.h), the
 * column result and its 32-bit form (cim_column.h), a cell's state (stuck-at
 * faults), the programming of a weight's cells and their term sum
 * (cim_cells.h), the C2C column law's packed counts, square-root scale and
 * group deviation (cim_c2c_column.h) -- one line each; it restates
 * none of them. It lives apart from those headers because CIM_VW is a run-time build option.
 * tests/test_kernels.c checks every result against the scalar host reference at CIM_VW = 16 and 1.
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

/* Lane kind V (cim_lanes.h): CIM_VW lanes. */
#define CIM_V_INT cim_vec
#define CIM_V_UINT cim_uvec
#define CIM_V_LONG cim_lvec
#define CIM_V_TO_UINT(x) CIM_TO_UINT(x)
#define CIM_V_AS_INT(x) CIM_AS_INT(x)
#define CIM_V_TO_LONG(x) CIM_TO_LONG(x)
#define CIM_V_LONG_TO_INT(x) CIM_LONG_TO_INT(x)
#if CIM_VW == 1
#define CIM_V_LONG_TO_UINT(x) ((uint)(x))
#else
#define CIM_V_LONG_TO_UINT(x) CIM_CAT(convert_uint, CIM_VW)(x)
#endif
#if CIM_VW == 1
#define CIM_V_TO_FLOAT(x) ((float)(x))
#define CIM_V_FLOAT_TO_LONG(x) ((long)(x))
#define CIM_V_FLOAT_TO_INT(x) ((int)(x))
#define CIM_V_ANY(x) ((x) != 0)
#define CIM_V_LANE(v, l) (v)
#define CIM_V_ULANE(v, l) (v)
#define CIM_V_LLANE(v, l) (v)
#else
#define CIM_V_TO_FLOAT(x) CIM_CAT(convert_float, CIM_VW)(x)
#define CIM_V_FLOAT_TO_LONG(x) CIM_CAT(convert_long, CIM_VW)(x)
#define CIM_V_FLOAT_TO_INT(x) CIM_CAT(convert_int, CIM_VW)(x)
#define CIM_V_ANY(x) any(x)
#define CIM_V_LANE(v, l) CIM_LANE(v, l)
#define CIM_V_ULANE(v, l) CIM_ULANE(v, l)
#define CIM_V_LLANE(v, l) CIM_LLANE(v, l)
#endif
#define CIM_V_MULHI(a, b) mul_hi(a, b)
#define CIM_V_CLZ(x) clz(x)
#define CIM_V_LCLZ(x) clz(x)
#define CIM_V_LANES CIM_VW

CIM_DEFINE_PHILOX(cim_philox_lanes, V)
CIM_DEFINE_GAUSS(cim_gauss_lanes, V)
CIM_DEFINE_SCALE_DEVIATE(cim_scale_deviate_lanes, V)
CIM_DEFINE_ADC_TABLE(cim_adc_table_lanes, V)
CIM_DEFINE_DIV_ROUND_ESTIMATED(cim_div_round_lanes, V)
CIM_DEFINE_COLUMN_RESULT(cim_column_result_lanes, V, cim_adc_table_lanes, cim_div_round_lanes)
CIM_DEFINE_DIV_ROUND_NARROW(cim_div_round_narrow_lanes, V)
CIM_DEFINE_COLUMN_RESULT_NARROW(cim_column_result_fast_lanes, V, cim_column_result_lanes,
                                cim_div_round_narrow_lanes)
CIM_DEFINE_CELL_STATE(cim_cell_state_lanes, V)
CIM_DEFINE_PROGRAM_CELLS(cim_program_cells_lanes, V, cim_scale_deviate_lanes, cim_gauss_lanes,
                         cim_cell_state_lanes)
CIM_DEFINE_CONV_CURRENT(cim_conv_current_lanes, V)
CIM_DEFINE_C2C_PACK_LRS(cim_c2c_pack_lrs_lanes, V)
CIM_DEFINE_SCALE_SQRT(cim_scale_sqrt_lanes, V)
CIM_DEFINE_C2C_DEVIATION(cim_c2c_deviation_lanes, V, cim_gauss_lanes, cim_scale_sqrt_lanes)
