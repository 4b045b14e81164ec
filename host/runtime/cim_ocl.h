/* cim_ocl.h -- the OpenCL runtime: device choice, context, queue and the
 * cimgpu program built from the kernels embedded at build time.
 *
 * Device choice (docs/design.md §3): a spec string, else $CIMGPU_DEVICE, else the
 * first GPU of any platform, else the first CPU device. A spec is either a
 * global device index (as `cimgpu info` numbers devices) or a case-insensitive
 * substring of "platform name / device name", or a comma-separated list of
 * those. The ranks of an MPI job on one node each take their own
 * (cim_ocl_open_for with nth = the node-local rank): entry nth of a list, the
 * nth device a substring matches, the nth GPU without a spec (each modulo
 * the count, so ranks share devices when there are more ranks).
 * Kernel source: the embedded copy, or, when $CIMGPU_KERNEL_DIR is set, the
 * file cim_kernels.cl in that folder (for kernel development without a
 * rebuild). A failed build reports the device's build log and the options.
 */
#ifndef CIM_OCL_H
#define CIM_OCL_H

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>

#include "cim_error.h"

/* Kernels of the program, created on first use (cim_ocl_kernel). */
#define CIM_OCL_MAX_KERNELS 32
#define CIM_OCL_KERNEL_NAME_MAX 64

typedef struct cim_ocl_kernel_entry {
    char name[CIM_OCL_KERNEL_NAME_MAX];
    cl_kernel kernel;
} cim_ocl_kernel_entry;

typedef struct cim_ocl {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    cl_program program;
    cl_device_type device_type;
    cl_ulong global_mem_bytes;
    cl_ulong max_alloc_bytes;
    cl_uint compute_units;
    size_t max_work_group;
    char platform_name[256];
    char device_name[256];
    char driver_version[128];
    int vector_width; /* columns per work-item in the kernels */
    /* Launch style the engine uses: 1 (CPUs) = blocked conductance layout,
     * several inputs per work-item, explicit work-groups; 0 (GPUs) =
     * columns fastest, one input per work-item, the driver's work-groups.
     * Tests set it to run the GPU style on a CPU device; results are the same. */
    int cpu_style;
    cim_ocl_kernel_entry kernels[CIM_OCL_MAX_KERNELS]; /* cache of cim_ocl_kernel */
    int n_kernels;
} cim_ocl;

/* Opens the chosen device and builds the program. 0 or CIM_ERR_*. */
int cim_ocl_open(cim_ocl *ocl, const char *device_spec, cim_error *err);
/* The same for the nth process of a node (see above); nth 0 is cim_ocl_open. */
int cim_ocl_open_for(cim_ocl *ocl, const char *device_spec, int nth, cim_error *err);
/* Releases the kernels, the program, the queue and the context. */
void cim_ocl_close(cim_ocl *ocl);

/* The program's kernel `name` in *kernel: created on first use and kept in
 * ocl until cim_ocl_close (callers never release it). Its arguments persist
 * between uses, so a caller sets every argument before each launch. 0, or
 * CIM_ERR_OPENCL with a message naming the kernel. Not thread-safe: one
 * thread drives a cim_ocl. */
int cim_ocl_kernel(cim_ocl *ocl, const char *name, cl_kernel *kernel, cim_error *err);

/* Prints every platform and device with its global index. */
int cim_ocl_list(FILE *out, cim_error *err);

/* Name of an OpenCL error code ("CL_OUT_OF_RESOURCES"). */
const char *cim_ocl_strerror(cl_int code);

/* For calls returning cl_int; for calls with an error out-parameter, pass that. */
#define CIM_OCL_CHECK(call_status, err, what)                                                      \
    ((call_status) == CL_SUCCESS ? 0                                                               \
                                 : cim_error_set((err), CIM_ERR_OPENCL, "OpenCL: %s failed: %s",   \
                                                 (what), cim_ocl_strerror(call_status)))

/* A device buffer of `bytes` (a placeholder of 8 bytes for 0), filled from
 * host when not NULL; NULL with CIM_ERR_OPENCL in err naming `what`. */
cl_mem cim_ocl_buffer(cim_ocl *ocl, cl_mem_flags flags, size_t bytes, const void *host,
                      const char *what, cim_error *err);

/* Sets argument `index` of k (a buffer: size sizeof(cl_mem), value &buffer). */
int cim_ocl_set_arg(cl_kernel k, cl_uint index, size_t size, const void *value, cim_error *err);

/* Sets arguments 0..n-1 of k to the buffers args. */
int cim_ocl_set_args(cl_kernel k, int n, const cl_mem *args, cim_error *err);

/* Enqueues k over the 3-D range (g0, g1, g2) (nothing when one is 0). CPU
 * devices get work-groups of up to 256 work-items, dimension 0 first (few
 * groups, each sharing its trial's data in cache); GPUs the driver's choice;
 * results never depend on it. If seconds is not NULL, waits and adds the
 * kernel's device time. */
int cim_ocl_launch(cim_ocl *ocl, cl_kernel k, const char *name, size_t g0, size_t g1, size_t g2,
                   double *seconds, cim_error *err);

/* Blocking read of the first `bytes` of buf. */
int cim_ocl_read(cim_ocl *ocl, cl_mem buf, size_t bytes, void *host, cim_error *err);

/* A buffer on the caller's memory (CL_MEM_USE_HOST_PTR) of `bytes` at host:
 * on CPU devices the kernels write there and no copy is made;
 * cim_ocl_sync_host makes the first `bytes` of host current (a blocking map
 * and unmap, which copies only where the device kept its own copy). */
cl_mem cim_ocl_host_buffer(cim_ocl *ocl, cl_mem_flags flags, size_t bytes, void *host,
                           const char *what, cim_error *err);
int cim_ocl_sync_host(cim_ocl *ocl, cl_mem buf, size_t bytes, cim_error *err);

#endif /* CIM_OCL_H */
