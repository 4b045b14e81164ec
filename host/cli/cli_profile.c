/* cli_profile.c -- per-layer ADC input profile totals of a command (see
 * cli_profile.h). The totals are owned here and freed by
 * cim_cli_profiles_free; names point into the plan's model.
 */
#include "cli_profile.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cim_profile.h"
#include "cli.h"

int cim_cli_profiles_init(cim_cli_profiles *p, const cim_plan *plan, cim_error *err)
{
    memset(p, 0, sizeof *p);
    if (plan->first_crossbar < 0 || plan->layers[plan->first_crossbar].xbar.profile.bins <= 0)
        return 0;
    const int32_t n = plan->n_crossbar;
    p->names = calloc((size_t)n, sizeof *p->names);
    p->shape = calloc((size_t)n, sizeof *p->shape);
    p->total = calloc((size_t)n, sizeof *p->total);
    int ok = p->names && p->shape && p->total;
    p->n = ok ? n : 0;
    for (int32_t l = 0; ok && l < plan->num_layers; ++l) {
        const cim_layer_plan *lp = &plan->layers[l];
        if (!cim_plan_on_crossbar(lp))
            continue;
        const int32_t c = lp->crossbar;
        p->names[c] = lp->layer->name;
        ok = (p->total[c] = calloc((size_t)CIM_PROFILE_SLOTS(lp->xbar.profile.bins),
                                   sizeof(uint64_t))) != NULL;
        p->shape[c] = cim_adc_profile_of(&lp->xbar, p->total[c]);
    }
    if (ok)
        return 0;
    cim_cli_profiles_free(p);
    return cim_error_set(err, CIM_ERR_NOMEM, "out of memory for the ADC profiles");
}

void cim_cli_profiles_add(cim_cli_profiles *p, int64_t n_trials, const uint64_t *const *counts)
{
    for (int32_t c = 0; c < p->n; ++c) {
        const int64_t slots = CIM_PROFILE_SLOTS(p->shape[c].bins);
        for (int64_t t = 0; t < n_trials; ++t)
            cim_adc_profile_add(p->total[c], counts[c] + t * slots, slots);
    }
}

void cim_cli_profiles_print(const cim_cli_profiles *p, FILE *out)
{
    for (int32_t c = 0; c < p->n; ++c) {
        const cim_adc_profile *s = &p->shape[c];
        cim_adc_profile_stats st;
        cim_adc_profile_summarize(s, &st);
        fprintf(out,
                CIM_CLI_PROGRAM ": ADC profile %s: %llu samples in %lld bins of %g uA over "
                                "[%g, %g] uA, mean %.4g uA, std %.4g uA; outside: %llu below, "
                                "%llu above\n",
                p->names[c], (unsigned long long)st.samples, (long long)s->bins, s->bin_ua,
                s->lo_ua, s->hi_ua, st.mean, sqrt(st.var), (unsigned long long)st.underflow,
                (unsigned long long)st.overflow);
    }
}

void cim_cli_profiles_free(cim_cli_profiles *p)
{
    for (int32_t c = 0; p->total && c < p->n; ++c)
        free(p->total[c]);
    free(p->total);
    free(p->shape);
    free(p->names);
    memset(p, 0, sizeof *p);
}
