/* cim_parallel.h -- when host loops use OpenMP threads.
 *
 * Host-side loops over inputs, images or trials (entry lists, bit-planes,
 * im2col gathers, host layers) split over OpenMP threads; every element is
 * independent, so results never depend on the thread count. A loop runs in
 * parallel only above CIM_PARALLEL_MIN_WORK element operations: below it the
 * threads' start-up and spin-waiting cost more than they save, and on CPU
 * devices they compete with the OpenCL runtime's own worker threads.
 */
#ifndef CIM_PARALLEL_H
#define CIM_PARALLEL_H

#include <omp.h>
#include <stdint.h>

#define CIM_PARALLEL_MIN_WORK ((int64_t)1 << 20)

/* Inside a parallel region: the threads of the team and this one's index,
 * for loops that split their work by hand. */
static inline int cim_parallel_threads(void)
{
    return omp_get_num_threads();
}
static inline int cim_parallel_thread(void)
{
    return omp_get_thread_num();
}

#endif /* CIM_PARALLEL_H */
