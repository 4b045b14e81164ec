/* cim_layer_ops.h -- the element-wise layers of data/model_format.md, one
 * definition for the host forward pass (host/network/cim_forward.c) and the device
 * pipeline's kernels (kernels/cim_network.cl).
 */
#ifndef CIM_LAYER_OPS_H
#define CIM_LAYER_OPS_H

#include "cim_portable.h"

/* batchnorm_threshold: u = z - hi above the dead zone [lo, hi], z - lo below
 * it, 0 inside; y = flip * u. */
CIM_INLINE int32_t cim_op_threshold(int32_t z, int32_t lo, int32_t hi, int32_t flip)
{
    const int32_t u = z > hi ? z - hi : z < lo ? z - lo : 0;
    return flip * u;
}

/* sign: sign(0) = +1. */
CIM_INLINE int32_t cim_op_sign(int32_t x)
{
    return x >= 0 ? 1 : -1;
}

/* ternary: the sign, 0 for 0. */
CIM_INLINE int32_t cim_op_ternary(int32_t x)
{
    return (x > 0) - (x < 0);
}

#endif /* CIM_LAYER_OPS_H */
