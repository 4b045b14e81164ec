/* cli_profile.h -- the ADC input profiles a command collects over a run
 * (`cimgpu run`, `cimgpu calibrate`): one total per crossbar layer of the
 * plan, summed over trials in trial order, and its one-line summary.
 */
#ifndef CIM_CLI_PROFILE_H
#define CIM_CLI_PROFILE_H

#include <stdint.h>
#include <stdio.h>

#include "cim_adc_profile.h"
#include "cim_error.h"
#include "cim_plan.h"

typedef struct cim_cli_profiles {
    int32_t n;              /* crossbar layers; 0 when the plan does not profile */
    const char **names;     /* [n] the layers' names (the model's) */
    cim_adc_profile *shape; /* [n] range and bins; counts = total[c] */
    uint64_t **total;       /* [n] of CIM_PROFILE_SLOTS(bins) */
} cim_cli_profiles;

/* Zeroed totals for the crossbar layers of plan p when its crossbars
 * profile (n = 0 otherwise). 0 or CIM_ERR_NOMEM. */
int cim_cli_profiles_init(cim_cli_profiles *p, const cim_plan *plan, cim_error *err);

/* Adds n_trials trials' counters (counts[c]: [n_trials][slots]). */
void cim_cli_profiles_add(cim_cli_profiles *p, int64_t n_trials, const uint64_t *const *counts);

/* "cimgpu: ADC profile LAYER: ..." per layer on `out`. */
void cim_cli_profiles_print(const cim_cli_profiles *p, FILE *out);

void cim_cli_profiles_free(cim_cli_profiles *p);

#endif /* CIM_CLI_PROFILE_H */
