/* cim_kernels.cl -- all OpenCL kernels of cimgpu, one program. */
#include "cim_portable.h"
#include "cim_rng.h"
#include "cim_column.h"

__kernel void cim_gauss_kat(__global const uint *u, __global int *z)
{
    size_t i = get_global_id(0);
    z[i] = cim_gauss_q24(u[i]);
}
