/* h5_mvm.h -- the results file of `cimgpu mvm --out R.h5` (docs/design.md §4).
 *
 * Layout (any HDF5 reader opens it without our code):
 *   root attributes  format = "cimgpu-mvm", format_version = 1 (int32),
 *                    tool_version, git_revision, command_line, device, created
 *                    (ISO-8601 UTC), seed (uint64), config_json (the resolved
 *                    config), mapping, current_unit ("nA"; "LRS cells" in
 *                    digital mode, where a cell current is its state bit),
 *                    c2c_model (the C2C read model asked for: "cell" or
 *                    "column"), c2c_model_used ("column", "cell", or "off"
 *                    without C2C), c2c_bound_p_differs and
 *                    c2c_bound_mean_abs_diff_na (float64: the column law's
 *                    clipping bounds for this matrix, cim_c2c_bound.h; NaN
 *                    without Gaussian C2C)
 *   weights          int8  [M][N]
 *   inputs           int8  [I][N]
 *   results          int32 [T][I][M]: what stdout prints, trial by trial
 *   with --trace:
 *   column_current   int32 [T][I][tiles_n][n_convs][M], attributes unit, dims
 *   adc_output       int64 [T][I][tiles_n][n_convs][M], attributes dims,
 *                    description: A(J,k,o) of docs/semantics.md per conversion
 *   with adc_profile: /profile/mvm (h5_profile.h), per trial and summed
 *   with read disturb: /read_disturb (h5_disturb.h): the chips' counters;
 *                    input line k is MVM k of every tile of a chip
 * Per-trial datasets are chunked along whole trials (one trial per chunk, or
 * several small trials up to 64 KiB) and deflate-compressed when large, so one
 * trial loads without the rest.
 *
 * Crash safety (cim_h5file.h, cim_outfile.h): the file is made in the
 * claimed new file, published as "R.h5.partial" once its layout is in
 * (SWMR), flushed, closed and synced, and only then renamed onto R.h5; the
 * caller's cim_outfile_release() removes an unfinished partial file, so R.h5
 * only ever appears complete. Misuse (trials out of order, finishing early
 * or twice, writing after finish) is CIM_ERR_USAGE; HDF5 failures
 * CIM_ERR_IO naming R.h5.
 */
#ifndef H5_MVM_H
#define H5_MVM_H

#include <stdint.h>

#include "cim_adc_profile.h"
#include "cim_error.h"
#include "cim_outfile.h"
#include "cim_provenance.h"
#include "cim_reference.h"
#include "h5_disturb.h"

#define CIM_H5_MVM_FORMAT "cimgpu-mvm"
#define CIM_H5_MVM_FORMAT_VERSION 1

typedef struct cim_h5_mvm cim_h5_mvm; /* an open, partial results file */

typedef struct cim_h5_mvm_spec {
    cim_outfile *out; /* the claimed file (cim_outfile.h): path R.h5 */
    const cim_provenance *prov;
    uint64_t seed;
    const char *config_json;
    const char *mapping; /* mapping name, e.g. "TNN_IV" */
    int digital;         /* currents count LRS cells instead of nA */
    const int8_t *weights;
    int32_t rows, cols;
    const int8_t *inputs;
    int32_t n_inputs;
    int64_t n_trials;
    int trace; /* 1: create column_current and adc_output */
    int32_t tiles_n, n_convs;
    const cim_adc_profile *profile;         /* the ADC input profile of layer "mvm", or NULL */
    const cim_disturb_report *disturb;      /* read disturb: /read_disturb (layer "mvm"), or NULL */
    const char *c2c_model, *c2c_model_used; /* the C2C model asked for and used */
    double c2c_bound_p_differs, c2c_bound_mean_abs_diff_na; /* its clipping bounds */
} cim_h5_mvm_spec;

/* Creates the file in spec->out with its attributes, weights, inputs and the
 * empty per-trial datasets, and publishes it as R.h5.partial. 0, or
 * CIM_ERR_USAGE/IO/NOMEM (*out NULL). */
int cim_h5_mvm_create(const cim_h5_mvm_spec *spec, cim_h5_mvm **out, cim_error *err);

/* Writes trials trial_first .. trial_first + n_trials - 1: results laid out as
 * cim_engine_mvm's `out`, trace (used only with spec->trace) as its `trace`;
 * with spec->profile, trace->profile ([n_trials][bins + 2]) is required. */
int cim_h5_mvm_write(cim_h5_mvm *h, int64_t trial_first, int32_t n_trials, const int32_t *results,
                     const cim_mvm_trace *trace, cim_error *err);

/* Checks every trial was written, closes and renames onto the target. h
 * stays until cim_h5_mvm_discard. */
int cim_h5_mvm_finish(cim_h5_mvm *h, cim_error *err);

/* The partial file's name, e.g. for a signal handler that removes it. */
const char *cim_h5_mvm_partial_path(const cim_h5_mvm *h);

/* Releases h, finished or not: closes the file and frees h (file names are
 * cim_outfile_release's). NULL ok. Every handle create returns goes here
 * exactly once. */
void cim_h5_mvm_discard(cim_h5_mvm *h);

#endif /* H5_MVM_H */
