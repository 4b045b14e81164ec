/* cim_clock.h -- the one clock for durations (progress lines, benchmarks,
 * timed tests): monotonic, so that a change of the wall clock never makes
 * work look shorter or longer. Not for timestamps: provenance records UTC.
 */
#ifndef CIM_CLOCK_H
#define CIM_CLOCK_H

#include <time.h>

/* Seconds since an arbitrary fixed point (CLOCK_MONOTONIC). */
static inline double cim_clock_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif /* CIM_CLOCK_H */
