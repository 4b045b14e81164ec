/* h5_profile.h -- the /profile group that `cimgpu run --out` and `cimgpu mvm
 * --out` results files hold when the config profiles the ADC inputs
 * (adc_profile; kernels/cim_profile.h, cim_adc_profile.h).
 *
 * Layout, one group per crossbar layer (the network layer's name; "mvm" for
 * `cimgpu mvm`), T trials, nb bins:
 *   /profile/<layer>/labels        float64 [nb]   bin labels lo + b/2 + i b, µA
 *   /profile/<layer>/counts        uint64  [nb]   every trial's counts added,
 *                                                 in trial order (at finish)
 *   /profile/<layer>/trial_counts  uint64  [T][nb + 2]  per trial: slot 0
 *                                  underflow, 1 + i bin i, nb + 1 overflow
 *                                  (appended with the trials; attribute dims)
 *   attributes of /profile/<layer>: lo, hi, bin_size (µA, float64), bins
 *   (int64), written with the layout;
 *   /profile/<layer>/{samples, underflow, overflow} uint64 and {mean, var}
 *   float64 scalar datasets (cim_adc_profile_stats over `counts`, each with
 *   a description), 0 and NaN until finish writes them.
 * Every object is made with the layout (SWMR allows none later); the trial
 * rows are the truth, `counts` and the statistics their sum, so a resumed
 * run that copies its predecessor's rows gets an uninterrupted run's file.
 */
#ifndef H5_PROFILE_H
#define H5_PROFILE_H

#include <stdint.h>

#include "cim_adc_profile.h"
#include "cim_error.h"
#include "cim_h5file.h"

typedef struct cim_h5_profile cim_h5_profile;

/* The group for n_layers layers (names[c], profiles[c]: range and bins;
 * counts unused) of a file with `trials` trials. A name may not hold '/'
 * or be "." (CIM_ERR_INPUT). */
int cim_h5_profile_create(cim_h5file *f, int32_t n_layers, const char *const *names,
                          const cim_adc_profile *profiles, int64_t trials, cim_h5_profile **out,
                          cim_error *err);

/* Writes the next n_trials rows of every layer's trial_counts from
 * counts[c] ([n_trials][nb + 2]) and adds them to the totals. Call after
 * cim_h5file_check_append and before the commit of the same trials. */
int cim_h5_profile_append(cim_h5_profile *p, int64_t n_trials, const uint64_t *const *counts,
                          cim_error *err);

/* Writes counts and the statistics of the totals. */
int cim_h5_profile_finish(cim_h5_profile *p, cim_error *err);

void cim_h5_profile_free(cim_h5_profile *p);

#endif /* H5_PROFILE_H */
