/* cim_device.h -- the shared headers that the OpenCL program includes.
 *
 * At build time this header is preprocessed once (keeping its #defines) and
 * cim_kernels.cl is appended to it unexpanded, so that the device compiler
 * still sees the options the host passes at run time (-D CIM_VW=...).
 */
#ifndef CIM_DEVICE_H
#define CIM_DEVICE_H

#include "cim_portable.h"
#include "cim_rng.h"
#include "cim_column.h"
#include "cim_profile.h"
#include "cim_cells.h"
#include "cim_c2c_column.h"
#include "cim_ladder.h"
#include "cim_launch.h"
#include "cim_planes.h"
#include "cim_layer_ops.h"
#include "cim_network.h"

#endif /* CIM_DEVICE_H */
