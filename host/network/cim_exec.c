/* cim_exec.c -- see cim_exec.h. */
#include "cim_exec.h"

void cim_exec_count_errors(const cim_exec_job *job, int32_t crossbar, const int64_t *differ,
                           int64_t compared)
{
    if (!job->mismatches)
        return;
    const int32_t n_crossbar = job->plan->n_crossbar;
    for (int32_t t = 0; t < job->n_trials; ++t)
        job->mismatches[(int64_t)t * n_crossbar + crossbar] += differ[t];
    job->outputs[crossbar] += compared;
}
