/* cim_portable.h -- the few definitions that let one header compile unchanged
 * as host C11 and as OpenCL C 1.2.
 *
 * Every header under kernels/ that host code also includes starts here. In
 * OpenCL C the fixed-width integer names come from Random123's features header
 * (which typedefs uint32_t and friends when __OPENCL_VERSION__ is set); on the
 * host they come from <stdint.h>. CIM_CONSTANT marks read-only tables that live
 * in the __constant address space on the device and are plain `static const`
 * on the host (CIM_CONSTANT_PTR qualifies pointers into them); CIM_INLINE marks the small shared
 * functions; CIM_UNROLL asks the device compiler to unroll the loop that
 * follows (usable inside macros; nothing on the host).
 */
#ifndef CIM_PORTABLE_H
#define CIM_PORTABLE_H

#if defined(__OPENCL_VERSION__)
#define CIM_OPENCL 1
#else
#define CIM_OPENCL 0
#endif

#if CIM_OPENCL
#include <Random123/features/compilerfeatures.h>
typedef char int8_t;
typedef short int16_t;
typedef int int32_t;
typedef long int64_t;
#define INT32_MAX 2147483647
#define INT32_MIN (-INT32_MAX - 1)
#define INT64_MAX LONG_MAX
#define INT64_MIN LONG_MIN
#define CIM_CONSTANT __constant
#define CIM_CONSTANT_PTR __constant const
#define CIM_GLOBAL __global
#define CIM_INLINE static inline
#define CIM_STATIC_ASSERT(cond, name)
#define CIM_UNROLL _Pragma("unroll")
#else
#include <stdint.h>
#define CIM_CONSTANT static const
#define CIM_CONSTANT_PTR const
#define CIM_GLOBAL
#define CIM_INLINE static inline
#define CIM_STATIC_ASSERT(cond, name) _Static_assert(cond, #name)
#define CIM_UNROLL
#endif

#endif /* CIM_PORTABLE_H */
