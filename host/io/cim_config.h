/* cim_config.h -- the crossbar configuration: the CIM-Explorer reference
 * simulator's JSON keys, validated, and resolved to the integers of cim_xbar.
 *
 * Keys, meaning and defaults (README, "Config keys"):
 *   m_mode            mapping name, "BNN_I" .. "TNN_V"                 required
 *   M, N              logical crossbar: outputs x inputs, 1..65536,
 *                     M*N <= 2^26                                      required
 *   digital_only      bool: c = s, no ADC, no variability              false
 *   HRS, LRS          mean cell currents, µA, 0 <= HRS < LRS <= 10000  5, 30
 *   adc_type          "INF_ADC", "POS_RANGE_ONLY_ADC", "SYM_RANGE_ADC" "INF_ADC"
 *   resolution        bits: -1 with INF_ADC, 1..16 with POS_RANGE_ONLY_ADC,
 *                     2..16 with SYM_RANGE_ADC                         -1
 *   adc_calib_mode    "MAX" or "CALIB"                                 "MAX"
 *   adc_calib_dict    {layer: [lo, hi]} µA, lo < hi, |lo|, |hi| <= 2e6;
 *                     required by CALIB with a finite ADC (with INF_ADC
 *                     the range is unused, as in the reference)        {}
 *   adc_alpha         0 < a <= 1: the MAX range clipped to a times itself
 *                     (the CIM-Explorer paper's alpha; 1 with CALIB)   1
 *   adc_calib_info    a JSON object, kept verbatim and changing nothing:
 *                     where an adc_calib_dict came from (`cimgpu
 *                     calibrate` writes its rule and inputs here)      absent
 *   adc_profile       bool: histogram every conversion's column current
 *                     per layer (cim_profile.h); needs a finite ADC in
 *                     analog mode (with INF_ADC or digital_only it is a
 *                     config error, not silently off)                  false
 *   adc_profile_bin_size  bin width, an integer number of µA, 1..10^6   10
 *   mvm_profile, mvm_profile_bin_size   as adc_profile (the reference
 *                     flow writes them)                                false, 10
 *   HRS_NOISE, LRS_NOISE          D2D sigmas, µA, 0..10000             0, 0
 *   HRS_NOISE_C2C, LRS_NOISE_C2C  C2C sigmas, µA, 0..10000             the D2D ones
 *   d2d_var           bool: apply the D2D sigmas                       true
 *   c2c_var           bool: apply the C2C sigmas                       false
 *   c2c_model         "cell" (a fresh deviation per cell and read) or
 *                     "column" (one Gaussian per cell group and column
 *                     read, docs/physics/c2c_column.md); "column" needs
 *                     c2c_var in analog mode, Gaussian C2C (no
 *                     device_cdf_c2c), no bit-line IR drop and no read
 *                     disturb                                         "cell"
 *   SPLIT             [a] or [a, b], integers 0..32                    [1, 1]
 *   W_BIT, I_BIT      integers 1..32; TNN_IV/TNN_V need W_BIT = 2 and
 *                     SPLIT = [1, 1]                     1 for BNN, 2 for TNN
 *   verbose           bool                                             false
 *   parasitics        bool: bit-line IR drop (analog mode)              false
 *   w_res             Ω per wire segment, 0..1e9, required by parasitics
 *                     (0: ideal wires); the segment current 1e9 |V_read| /
 *                     w_res nA must fit the ladder's fixed point           absent
 *   V_read            V, -10..10; < 0 required by parasitics and
 *                     read_disturb                                       absent
 *   read_disturb      bool: LRS drift over reads (analog mode)          false
 *   t_read, read_disturb_mitigation_fp,
 *   read_disturb_update_tolerance   numbers                             absent
 *   read_disturb_update_freq      integer >= 1                         1
 *   read_disturb_mitigation_strategy "OFF", "SOFTWARE", "CELL_BASED"   "OFF"
 *   read_disturb_initial_cycles   integer >= 0: cycles of every cell
 *                     before the programming                           0
 *   read_disturb_model "LIBRARY" (a drifted cell carries nominal LRS g)
 *                     or "PHYSICAL" (its programmed current times g)   "LIBRARY"
 *   SAF_HRS, SAF_LRS  stuck-at fault probabilities per physical cell,
 *                     0..1 each, SAF_HRS + SAF_LRS <= 1                0, 0
 *   device_cdf        {"HRS": [[I, P], ...], "LRS": [...]}: measured D2D
 *                     distribution tables (µA; cim_cdf.h), either state
 *                     alone; replace the Gaussian D2D of that state      {}
 *   device_cdf_c2c    the same for the per-read (C2C) deviation           {}
 *   device_cdf_csv    path of a CSV (state,current_uA) of measured currents:
 *                     device_cdf tables from its samples (input only)
 *   device_lognormal  {"HRS": {"mu": m, "sigma": s}, ...} (ln µA): device_cdf
 *                     tables of lognormals (input only)
 *                     The three D2D forms may not give the same state twice;
 *                     any of them read over a base replaces its D2D tables.
 * Read disturb's parameters are checked when read_disturb is on in analog
 * mode (digital_only ignores them, as the reference does; so does
 * read_disturb off): t_read > 0 (s) required; V_read < 0 (V) required, also
 * by parasitics; read_disturb_mitigation_fp >= 1 required by SOFTWARE;
 * read_disturb_update_tolerance in [0, 1] required by CELL_BASED. Every
 * m_mode is a binary or ternary mapping, so the reference's refusal of read
 * disturb with its integer mappings has nothing to refuse here. A feature
 * that is not supported yet is refused only after every other rule held.
 * Any other key, a wrong type or a value out of range is CIM_ERR_CONFIG with
 * one line naming the origin (file name), the key and what was expected.
 *
 * Read over a base (cim_config_parse_over, cim_config_load_over; `cimgpu run`
 * reads its --config over cim_config_run_default): nothing is required, and
 * every key the text does not name keeps the base's value -- adc_calib_dict
 * as a whole: a dict in the text replaces the base's -- except the keys
 * derived from others, which follow the resulting config as they do above:
 *   W_BIT, I_BIT      the alphabet of the resulting m_mode
 *   HRS_NOISE_C2C, LRS_NOISE_C2C   the resulting HRS_NOISE, LRS_NOISE
 *   adc_type          the base's; when that is finite, the finite type the
 *                     resulting m_mode needs (SYM_RANGE_ADC for a signed
 *                     column current, POS_RANGE_ONLY_ADC otherwise)
 *   resolution        -1 when the resulting adc_type is INF_ADC; with a
 *                     finite one the base's bits if the base's ADC is
 *                     finite, else the key is missing (an error, as above)
 * Without a base the base is cim_config_default and m_mode, M, N are
 * required: the reference simulator's semantics, which `cimgpu mvm` uses.
 *
 * Ownership: cim_config owns `origin`, `calib` (with its layer names) and
 * `calib_info`;
 * cim_config_free releases them and leaves the defaults behind. A config that
 * failed to parse holds only defaults.
 */
#ifndef CIM_CONFIG_H
#define CIM_CONFIG_H

#include <stdint.h>

#include "cim_adc.h"
#include "cim_error.h"
#include "cim_mappings.h"
#include "cim_xbar.h"

#define CIM_CALIB_MAX 0   /* ADC range from the crossbar size and LRS */
#define CIM_CALIB_CALIB 1 /* ADC range per layer from adc_calib_dict */

#define CIM_CONFIG_MAX_SPLIT 2 /* SPLIT entries kept */

/* c2c_model: how C2C reads are simulated (cim_c2c_column.h). */
#define CIM_C2C_MODEL_CELL 0   /* a fresh deviation per cell and read, clipped per cell */
#define CIM_C2C_MODEL_COLUMN 1 /* one Gaussian per cell group and column read */

/* Bounds of keys that command-line flags set too (the flags check the same
 * ranges): HRS, LRS and the sigmas at most CIM_CONFIG_MAX_UA µA,
 * adc_profile_bin_size at most CIM_CONFIG_MAX_PROFILE_BIN_UA µA, |V_read|
 * at most CIM_CONFIG_MAX_V_READ V, w_res at most CIM_CONFIG_MAX_W_RES Ω. */
#define CIM_CONFIG_MAX_UA 10000.0
#define CIM_CONFIG_MAX_PROFILE_BIN_UA 1000000
#define CIM_CONFIG_MAX_V_READ 10.0
#define CIM_CONFIG_MAX_W_RES 1e9

/* One measured-distribution table (device_cdf, device_cdf_c2c) as given:
 * n points (I µA, P), n = 0 for none. Tables are indexed as in cim_cdf.h:
 * CIM_CDF_D2D + state, CIM_CDF_C2C + state. */
typedef struct cim_config_cdf {
    int n;
    double i_ua[CIM_CDF_MAX_POINTS], p[CIM_CDF_MAX_POINTS];
} cim_config_cdf;

typedef struct cim_calib_range {
    char *layer;
    double lo_ua, hi_ua;
} cim_calib_range;

typedef struct cim_config {
    cim_mapping_id mapping;
    int32_t M, N; /* logical crossbar: outputs x inputs */
    int digital;
    double hrs_ua, lrs_ua;
    int adc_type;     /* CIM_ADC_INF/POS/SYM from cim_adc.h */
    int resolution;   /* bits, -1 for INF */
    int calib_mode;   /* CIM_CALIB_MAX or CIM_CALIB_CALIB */
    double adc_alpha; /* MAX range scale, 0 < a <= 1 */
    cim_calib_range *calib;
    int n_calib;
    char *calib_info; /* adc_calib_info as compact JSON text, or NULL */
    double hrs_noise_ua, lrs_noise_ua, hrs_noise_c2c_ua, lrs_noise_c2c_ua;
    int d2d_var, c2c_var;
    int c2c_model; /* CIM_C2C_MODEL_CELL or CIM_C2C_MODEL_COLUMN */
    int split[CIM_CONFIG_MAX_SPLIT];
    int n_split; /* 1 or 2 entries of SPLIT given */
    int w_bit, i_bit;
    int verbose;
    char *origin; /* file name or other origin for messages; may be NULL */

    /* The device-physics keys; those of a feature cimgpu does not support yet
     * are accepted while it is off and change nothing. NAN in a double means
     * "not given"; cim_config_to_json leaves those out. */
    int mvm_profile, read_disturb; /* always 0 */
    int parasitics;                /* bit-line IR drop (docs/physics/ir_drop.md) */
    double mvm_profile_bin_size;
    int adc_profile;          /* histogram the ADC inputs (cim_profile.h) */
    int adc_profile_bin_size; /* µA */
    double t_read, v_read, read_disturb_mitigation_fp, read_disturb_update_tolerance, w_res;
    int read_disturb_update_freq;
    int read_disturb_mitigation_strategy; /* CIM_DISTURB_* (cim_disturb.h) */
    int read_disturb_initial_cycles;      /* n0 >= 0 */
    int read_disturb_model;               /* CIM_DRIFT_LIBRARY / CIM_DRIFT_PHYSICAL */

    double saf_hrs, saf_lrs; /* stuck-at probabilities per physical cell */
    cim_config_cdf cdf[CIM_CDF_TABLES];
} cim_config;

/* The documented defaults; for the keys the JSON requires: TNN_I on a
 * 256 x 256 crossbar (the paper's typical size), W_BIT = I_BIT = 2. */
void cim_config_default(cim_config *cfg);

/* The crossbar `cimgpu run` uses without --config, and its benchmark: a
 * 256x256 TNN_I array at HRS/LRS 5/30 uA with D2D deviations of 1/4 uA (the
 * CIM-Explorer paper's range) and an ideal ADC. As cim_config_parse of that
 * JSON with origin "default config". */
int cim_config_run_default(cim_config *cfg, cim_error *err);

/* The finite ADC type a mapping's column current needs: CIM_ADC_SYM for a
 * signed current, CIM_ADC_POS for a non-negative one. */
int cim_config_finite_adc_type(cim_mapping_id mapping);

/* What `--adc-bits B` does to a config: B = 0 selects the ideal ADC
 * (resolution -1), B >= 1 a B-bit finite ADC of the type the mapping needs
 * (cim_config_finite_adc_type). The range mode is kept: MAX stays MAX, CALIB
 * stays CALIB with its adc_calib_dict (a CALIB config without entries then
 * fails validation, naming adc_calib_dict). Validation is the caller's
 * (cim_config_validate). */
void cim_config_set_adc_bits(cim_config *cfg, int bits);

/* Parses and validates `json_text` into *cfg (which needs no initialisation
 * and must later go to cim_config_free). `origin` names the source in
 * messages (NULL: "config"). 0, or CIM_ERR_CONFIG / CIM_ERR_UNSUPPORTED /
 * CIM_ERR_NOMEM with err filled; on error *cfg holds the defaults. */
int cim_config_parse(const char *json_text, const char *origin, cim_config *cfg, cim_error *err);

/* As cim_config_parse, read over `base` (a valid config, not cfg itself;
 * NULL: cim_config_default with m_mode, M, N required): see "Read over a
 * base" above. *cfg gets its own copy of everything it holds, so base stays
 * the caller's; its origin is `origin`. */
int cim_config_parse_over(const char *json_text, const char *origin, const cim_config *base,
                          cim_config *cfg, cim_error *err);

/* `cimgpu run --set KEY=VALUE ...`: the n texts "KEY=VALUE" as one JSON
 * object read over `base` (cim_config_parse_over, origin `origin`). VALUE is
 * JSON text (true, 256, [1, 2], "TNN_I", {...}); one that is not valid JSON
 * is taken as a string, so m_mode=TNN_I works unquoted. A text without '='
 * or a key given twice is CIM_ERR_CONFIG naming it. n = 0 copies base. */
int cim_config_apply_sets(const cim_config *base, const char *const *sets, int n,
                          const char *origin, cim_config *cfg, cim_error *err);

/* Reads the file at `path` and parses it with the path as origin.
 * CIM_ERR_INPUT if the file cannot be read (or exceeds 16 MiB). */
int cim_config_load(const char *path, cim_config *cfg, cim_error *err);

/* As cim_config_load, read over `base` (cim_config_parse_over). */
int cim_config_load_over(const char *path, const cim_config *base, cim_config *cfg, cim_error *err);

/* A deep copy of src into dst (which needs no initialisation and must later
 * go to cim_config_free): 0, or CIM_ERR_NOMEM with dst holding the defaults. */
int cim_config_copy(cim_config *dst, const cim_config *src, cim_error *err);

void cim_config_free(cim_config *cfg);

/* Checks a config built or changed in code (e.g. from command-line flags)
 * by the same rules as cim_config_parse: ranges, mapping/ADC combinations,
 * unsupported features. 0, CIM_ERR_CONFIG or CIM_ERR_UNSUPPORTED. */
int cim_config_validate(const cim_config *cfg, cim_error *err);

/* The calibrated range of `layer_name`, or NULL if the dict lacks it. */
const cim_calib_range *cim_config_find_calib(const cim_config *cfg, const char *layer_name);

/* Validates, then resolves the config to integers for one layer: currents
 * and sigmas in nA, the ADC range in half-units (2 nA); layer_name selects
 * the adc_calib_dict entry in CALIB mode (it may be NULL otherwise). Checks
 * that the largest possible column current fits in 32 bits. 0 or
 * CIM_ERR_CONFIG (or what cim_config_validate returns). */
int cim_config_resolve(const cim_config *cfg, const char *layer_name, uint64_t seed, uint32_t layer,
                       cim_xbar *x, cim_error *err);

/* The fully resolved config (every key, defaults filled) as JSON text, which
 * cim_config_parse reads back to an equal config; malloc'd, NULL when out of
 * memory or when cfg does not validate. For the provenance attribute of
 * results files. */
char *cim_config_to_json(const cim_config *cfg);

/* "cell" or "column" for a CIM_C2C_MODEL_* value; NULL if invalid. */
const char *cim_config_c2c_model_name(int c2c_model);

/* "INF_ADC" etc. for a CIM_ADC_* value; NULL if invalid. */
const char *cim_config_adc_type_name(int adc_type);

#endif /* CIM_CONFIG_H */
