/* cim_executor.c -- see cim_executor.h. */
#include "cim_executor.h"

#include <stdlib.h>

#include "cim_forward.h"
#include "cim_executor_device.h"
#include "cim_executor_host.h"

static int check_job(const cim_exec_job *job, cim_error *err)
{
    const cim_model *m = job->plan->model;
    const int64_t worst = job->n_images * (int64_t)job->n_trials * m->max_tensor;
    if (job->n_images < 1 || job->n_trials < 1)
        return cim_error_set(err, CIM_ERR_USAGE, "executor: %lld images x %d trials",
                             (long long)job->n_images, job->n_trials);
    if (worst > ((int64_t)1 << 31) / (int64_t)sizeof(int32_t))
        return cim_error_set(err, CIM_ERR_USAGE,
                             "executor: %lld images x %d trials of %s need more than 2 GiB of "
                             "activations; run fewer at once",
                             (long long)job->n_images, job->n_trials, m->path);
    return 0;
}

cim_pipeline cim_executor_pipeline(const cim_ocl *ocl, const cim_exec_job *job, const char **reason)
{
    const char *why = cim_executor_device_refusal(ocl, job);
    if (reason)
        *reason = job->pipeline == CIM_PIPELINE_HOST ? NULL : why;
    return why ? CIM_PIPELINE_HOST : CIM_PIPELINE_DEVICE;
}

int cim_executor_scores(cim_ocl *ocl, const cim_exec_job *job, int32_t *scores, cim_error *err)
{
    int rc = check_job(job, err);
    if (rc != 0)
        return rc;
    if (cim_executor_pipeline(ocl, job, NULL) == CIM_PIPELINE_DEVICE)
        return cim_executor_device_run(ocl, job, scores, err);
    return cim_executor_host_run(ocl, job, scores, err);
}

int cim_executor_run(cim_ocl *ocl, const cim_exec_job *job, int32_t *predictions, cim_error *err)
{
    const int32_t classes = job->plan->model->num_classes;
    const int64_t n = (int64_t)job->n_trials * job->n_images;
    int32_t *scores = n > 0 ? malloc(sizeof(int32_t) * (size_t)n * (size_t)classes) : NULL;
    int rc;
    if (n > 0 && !scores)
        return cim_error_set(err, CIM_ERR_NOMEM, "executor: out of memory for scores");
    if ((rc = cim_executor_scores(ocl, job, scores, err)) == 0)
        for (int64_t i = 0; i < n; ++i)
            predictions[i] = cim_forward_argmax(scores + i * classes, classes);
    free(scores);
    return rc;
}
