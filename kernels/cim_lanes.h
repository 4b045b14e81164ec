/* cim_lanes.h -- lane kinds: one definition, scalar and SIMD instances.
 *
 * The shared arithmetic that the kernels also run lane-wise (Philox, the
 * Gaussian table sampler, deviate scaling, the ADC level lookup, rounded
 * division, the column result) is written once, as a CIM_DEFINE_*(name, K)
 * macro over a lane kind K, the way Random123 writes one round over its
 * word types. A kind K supplies, as macros named CIM_<K>_*:
 *   INT, UINT, LONG     the lane types of int32, uint32 and int64
 *   TO_UINT, AS_INT, TO_LONG, LONG_TO_INT, TO_FLOAT, FLOAT_TO_LONG
 *                       value conversions (AS_INT: bit pattern)
 *   MULHI(a, b)         high 32 bits of the 64-bit product of two UINTs
 *   CLZ(x)              leading zeros of a non-zero UINT
 *   LCLZ(x)             leading zeros of a positive LONG (a LONG)
 *   LONG_TO_UINT(x)     a LONG in 0..2^32 - 1 as a UINT
 *   LANES, LANE(v, l), ULANE(v, l), LLANE(v, l)
 *                       the number of lanes and lane l as an lvalue
 * Comparisons are only ever used as conditions of ?: so that the 1 of C and
 * the -1 of OpenCL vectors mean the same.
 *
 * Kind S (this header): plain scalars, for host C and OpenCL C alike; every
 * CIM_DEFINE_* is instantiated for S in its own header and that instance is
 * what host code calls. Kind V: CIM_VW-wide OpenCL vectors, defined with the
 * V instances in the device-only kernels/cim_lanes.cl, because CIM_VW is a
 * run-time build option of the program.
 */
#ifndef CIM_LANES_H
#define CIM_LANES_H

#include "cim_portable.h"

#define CIM_S_INT int32_t
#define CIM_S_UINT uint32_t
#define CIM_S_LONG int64_t
#define CIM_S_TO_UINT(x) ((uint32_t)(x))
#define CIM_S_AS_INT(x) ((int32_t)(x))
#define CIM_S_TO_LONG(x) ((int64_t)(x))
#define CIM_S_LONG_TO_INT(x) ((int32_t)(x))
#define CIM_S_LONG_TO_UINT(x) ((uint32_t)(x))
#define CIM_S_TO_FLOAT(x) ((float)(x))
#define CIM_S_FLOAT_TO_LONG(x) ((int64_t)(x))
#define CIM_S_FLOAT_TO_INT(x) ((int32_t)(x))
#define CIM_S_ANY(x) ((x) != 0)
#define CIM_S_LANES 1
#define CIM_S_LANE(v, l) (v)
#define CIM_S_ULANE(v, l) (v)
#define CIM_S_LLANE(v, l) (v)
#if CIM_OPENCL
#define CIM_S_MULHI(a, b) mul_hi((uint)(a), (uint)(b))
#define CIM_S_CLZ(x) clz((uint)(x))
#define CIM_S_LCLZ(x) ((int64_t)clz((ulong)(x)))
#else
#define CIM_S_MULHI(a, b) ((uint32_t)(((uint64_t)(a) * (uint64_t)(b)) >> 32))
#define CIM_S_CLZ(x) ((uint32_t)__builtin_clz(x))
#define CIM_S_LCLZ(x) ((int64_t)__builtin_clzll((unsigned long long)(x)))
#endif

#endif /* CIM_LANES_H */
