/* cim_network.h -- what the network executor's device pipeline tells its
 * kernels about one layer (host C and OpenCL C share it; every field is
 * 64-bit so both lay it out alike).
 *
 * Activation tensors on the device are int32 [set][image][size], set being
 * 0 for tensors every chip shares (before the first crossbar layer) and the
 * trial of the call otherwise -- the layout of host/network/cim_executor_host.c.
 *
 * cim_read_layer evaluates one crossbar layer for every (chip, image,
 * output position) straight from the input activations: the input vector of
 * position p lists, for fan-in index n, the activation at gather[p][n] of the
 * image's input tensor (or pad_value where gather is -1: the padding of a
 * conv2d layer's im2col unrolling, cim_geometry.h); a layer on raw pixels reads
 * each vector as `planes` bit planes (cim_planes.h).
 */
#ifndef CIM_NETWORK_H
#define CIM_NETWORK_H

#include "cim_portable.h"

/* Column blocks of CIM_VW columns one work-item of cim_read_layer adds at
 * once (the per-input work -- gathering, bit plane, value class -- is shared
 * by all of them): the kernel's register blocking and the host's launch
 * size. */
#define CIM_NET_BLOCKS 4
/* X(0) X(1) ... X(CIM_NET_BLOCKS - 1): cim_read_layer (cim_network.cl) holds
 * one named accumulator per block (registers, not an array) and writes the
 * code of each block through this, so the blocks follow the define. */
#if CIM_NET_BLOCKS == 1
#define CIM_NET_EACH_BLOCK(X) X(0)
#elif CIM_NET_BLOCKS == 2
#define CIM_NET_EACH_BLOCK(X) X(0) X(1)
#elif CIM_NET_BLOCKS == 4
#define CIM_NET_EACH_BLOCK(X) X(0) X(1) X(2) X(3)
#elif CIM_NET_BLOCKS == 8
#define CIM_NET_EACH_BLOCK(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#else
#error "CIM_NET_BLOCKS must be 1, 2, 4 or 8 (CIM_NET_EACH_BLOCK)"
#endif

typedef struct cim_layer_launch {
    int64_t positions;    /* output positions per image (1 for dense) */
    int64_t planes;       /* reads per position: 8 on raw pixels, else 1 */
    int64_t plane_binary; /* planes driven as {-1,+1} (BNN mappings) */
    int64_t pad_value;    /* input value at gather = -1 */
    int64_t in_size;      /* elements of one image's input tensor */
    int64_t out_size;     /* elements of one image's output tensor: rows * positions */
    int64_t n_images;
    int64_t inputs_per_trial; /* 1: set = trial; 0: every trial reads set 0 */
    int64_t count_exact;      /* 1: count outputs that differ from the exact W x */
    int64_t profile;          /* 1: count the ADC input profile (lp's profile_bins) */
} cim_layer_launch;

#endif /* CIM_NETWORK_H */
