/* cim_experiment.h -- a design-space exploration experiment: the CIM-Explorer
 * flow's experiment config (JSON), validated and expanded into its grid of
 * configurations, each of which is one `cimgpu run` (docs/sweep.md).
 *
 * The file takes the reference flow's keys, key for key, and cimgpu's own
 * beside them (R: required; every other key is optional, with the default
 * given or, where none is, the run's default crossbar's value):
 *   nn_names      R [model, ...]: shipped model names ("tnn_cnn": name.h5 in
 *                 the model folder the caller gives) or model file paths
 *                 (relative ones against the experiment file's folder)
 *   ifm           R [[H, W, C], ...]: each model's input, paired with
 *                 nn_names by index (checked against the model by the
 *                 caller); one [H, W, C] with one model
 *   nn_data_set   "fashion_mnist" (default: the caller's folder of it) or a
 *                 dataset folder of any format cim_dataset.h reads (relative:
 *                 against the experiment file's folder); "cifar10",
 *                 "cifar100", "mnist" are refused naming the installed
 *                 datasets
 *   nn_data       "TEST" (split t10k, default; a CIFAR folder's test) or
 *                 "TRAIN" (split train)
 *   batch, num_runs   R integers >= 1: images = batch x num_runs <= 2^31,
 *                 the first of the split
 *   xbar_size     R [[M, N], ...]
 *   digital_only  bool (default false)
 *   hrs_lrs       [[HRS, LRS], ...] µA, or
 *   gmin_gmax     [[Gmin, Gmax], ...] µS with V_read: HRS = Gmin |V_read|,
 *                 LRS = Gmax |V_read| (R: exactly one of the two;
 *                 0 <= low < high)
 *   adc_type      "INF_ADC" (default), or "FP_ALPHA_ADC": the finite ADC the
 *                 mapping needs (SYM_RANGE_ADC for signed column currents,
 *                 POS_RANGE_ONLY_ADC otherwise)
 *   resolution    [bits, ...]: required by FP_ALPHA_ADC; with INF_ADC only -1
 *   adc_calib_mode  ["MAX", "CALIB"]
 *   adc_calib_dict  {net: {"[M, N]": {m_mode: {layer: [lo, hi]}}}}: with
 *                 CALIB the entry of the configuration's model (as nn_names
 *                 names it), size ("[256, 256]") and mapping becomes its
 *                 adc_calib_dict; required with FP_ALPHA_ADC (with INF_ADC
 *                 an entry is passed when there is one)
 *   alpha         [a, ...], 0 < a <= 1: the MAX range clipped to a times
 *                 itself (config key adc_alpha; not passed to a CALIB
 *                 configuration, whose ranges are taken as given)
 *   m_mode        R [mapping, ...]
 *   hrs_noise, lrs_noise   [σ, ...] µA (HRS_NOISE, LRS_NOISE; default 0,
 *                 the reference flow's noise-free cells)
 *   c2c_var, d2d_var, verbose, parasitics, read_disturb   bool
 *   V_read, t_read, w_res, read_disturb_update_freq,
 *   read_disturb_mitigation_fp, read_disturb_update_tolerance   [v, ...]
 *   read_disturb_mitigation_strategy   "OFF", "SOFTWARE", "CELL_BASED"
 *   adc_profile, mvm_profile   integer bin size (µA); 0 or absent: off
 *   cimgpu's own: trials (integer >= 1), seed (integer 0..2^53, or a
 *   decimal string up to 2^64 - 1), yield_target (0..1), first_layer
 *   ("host", "crossbar"), hrs_noise_c2c, lrs_noise_c2c ([σ, ...]:
 *   HRS_NOISE_C2C, LRS_NOISE_C2C), c2c_model ("cell", "column": the config
 *   key c2c_model, docs/physics/c2c_column.md; not passed to a configuration
 *   whose c2c_var is false, which has no C2C reads).
 * A grid key (below) may be a list (swept; a list of one value sweeps one
 * value) or one value (fixed); for xbar_size, hrs_lrs and gmin_gmax one
 * value is one pair. The booleans c2c_var and d2d_var are grid keys too; the
 * other keys take one value. The grid is the Cartesian product of the grid
 * keys in this order (the last varies fastest), the reference flow's order
 * followed by cimgpu's:
 *   nn_names, xbar_size, hrs_lrs, gmin_gmax, resolution, adc_calib_mode,
 *   m_mode, hrs_noise, lrs_noise, V_read, t_read, read_disturb_update_freq,
 *   read_disturb_mitigation_fp, read_disturb_update_tolerance, w_res,
 *   alpha, c2c_var, d2d_var, hrs_noise_c2c, lrs_noise_c2c.
 * ifm is not swept: it follows nn_names.
 *
 * A configuration's --set list ("KEY=JSON", numbers as cJSON prints them,
 * which reads back to the same double) holds these cimgpu config keys, in
 * this order (the config key table's, README "Config keys"): m_mode, M, N,
 * digital_only, HRS, LRS, adc_type (INF_ADC, or the finite type of the
 * mapping), resolution (finite ADC only), adc_calib_mode, adc_calib_dict
 * (CALIB: the entry), adc_alpha, adc_profile + adc_profile_bin_size
 * (adc_profile > 0), mvm_profile (mvm_profile N: N > 0), HRS_NOISE,
 * LRS_NOISE, HRS_NOISE_C2C, LRS_NOISE_C2C, d2d_var, c2c_var, c2c_model, verbose,
 * read_disturb, t_read, V_read, read_disturb_update_freq,
 * read_disturb_mitigation_strategy, read_disturb_mitigation_fp,
 * read_disturb_update_tolerance, parasitics, w_res. m_mode, M, N, HRS, LRS,
 * adc_type, HRS_NOISE and LRS_NOISE are always set (the noise's default 0
 * is not the run's); the others only when the file gives their key, so
 * everything else keeps the run's default crossbar (cim_config_run_default).
 *
 * Errors (CIM_ERR_CONFIG, one line naming the file, the key and, where one
 * configuration is at fault, its index and values): malformed JSON (with
 * its line and column), unknown keys, repeated keys, wrong types, empty
 * lists, missing required keys, an ifm / nn_names length mismatch, values
 * out of range, a model or data folder that does not exist, a CALIB
 * configuration without its adc_calib_dict entry, more than
 * CIM_EXP_MAX_CONFIGS configurations. Every configuration's crossbar config
 * is then parsed by the same code as `cimgpu run --set`
 * (cim_experiment_config), so an invalid mapping/ADC combination is refused
 * before any work too (CIM_ERR_UNSUPPORTED for a feature not supported yet,
 * e.g. mvm_profile > 0).
 *
 * Ownership: cim_experiment owns everything it points to;
 * cim_experiment_free releases it.
 */
#ifndef CIM_EXPERIMENT_H
#define CIM_EXPERIMENT_H

#include <stdint.h>

#include "cim_config.h"
#include "cim_error.h"

#define CIM_EXP_MAX_CONFIGS 100000
#define CIM_EXP_MAX_MODELS 64

/* What a /configs column holds per configuration. */
typedef enum cim_exp_kind {
    CIM_EXP_STRING, /* UTF-8 text */
    CIM_EXP_INT,    /* integers (width 1; 2 for xbar_size; 3 for ifm) */
    CIM_EXP_REAL,   /* doubles (width 1, or 2 for pairs) */
    CIM_EXP_BOOL,   /* 0 or 1 */
} cim_exp_kind;

/* One column of the results file's /configs group (and of the CSV): a key
 * and its value for every configuration, in configuration order. Numbers sit
 * in num[config * width + j] (booleans and integers as exact doubles),
 * strings in str[config].
 *
 * The columns: one per key the file gives, named by the experiment's key
 * (nn_names: "nn_name", one name per configuration), except trials and seed
 * (the results file's root attributes hold them; a double could not hold
 * every seed). The keys given once come first (the grid keys in the
 * grid's order, then nn_data_set, nn_data, batch, num_runs, digital_only,
 * adc_type, adc_calib_dict, verbose, parasitics, read_disturb,
 * read_disturb_mitigation_strategy, adc_profile, mvm_profile, yield_target,
 * first_layer), then the swept keys in the grid's order; ifm follows
 * nn_name; then hrs_lrs when gmin_gmax was given (derived: Gmin |V_read|,
 * Gmax |V_read|), "adc" (the run's ADC type: INF_ADC, SYM_RANGE_ADC,
 * POS_RANGE_ONLY_ADC) and "model_path". So nn_name, ifm, m_mode,
 * xbar_size, hrs_lrs, adc and model_path are always there. Kinds: strings
 * (adc_calib_dict: the entry passed as compact JSON, "" when none)
 * CIM_EXP_STRING; xbar_size CIM_EXP_INT {"M", "N"}; ifm CIM_EXP_INT {"H",
 * "W", "C"}; hrs_lrs CIM_EXP_REAL {"HRS", "LRS"}; gmin_gmax CIM_EXP_REAL
 * {"Gmin", "Gmax"}; booleans CIM_EXP_BOOL; resolution, batch, num_runs,
 * read_disturb_update_freq, adc_profile, mvm_profile CIM_EXP_INT; the other
 * numbers CIM_EXP_REAL. */
typedef struct cim_exp_column {
    char *key; /* the experiment's key: "m_mode", "xbar_size", "nn_name", ... */
    cim_exp_kind kind;
    int width;                /* 1; 2 for pairs (xbar_size, hrs_lrs, gmin_gmax); 3 for ifm */
    const char *const *parts; /* width > 1: the names of its columns ("M", "N"), static */
    double *num;
    char **str;
} cim_exp_column;

typedef struct cim_exp_model {
    char *name;     /* as nn_names gives it */
    char *path;     /* the model file */
    int64_t ifm[3]; /* H, W, C as given */
} cim_exp_model;

/* One configuration: the `cimgpu run` it is. */
typedef struct cim_exp_config {
    int model;  /* index into models */
    char **set; /* n_set "KEY=JSON" texts: its --set options, in order; one
                 * malloc'd block (pointers, a NULL, then the texts) */
    int n_set;
} cim_exp_config;

typedef struct cim_experiment {
    char *origin;                    /* the file name, for messages */
    char *json_text;                 /* the file as given */
    char *data_dir;                  /* the IDX folder */
    const char *split;               /* "t10k" or "train" (static) */
    char *data_set;                  /* "fashion_mnist" or the folder as given */
    int64_t batch, num_runs, images; /* images = batch x num_runs, from image 0 */
    /* cimgpu's keys; has_*: given in the file (else the caller's defaults) */
    uint64_t trials, seed;
    int has_trials, has_seed;
    double yield_target;
    int has_yield_target;
    int first_layer_crossbar; /* first_layer "crossbar" */
    cim_exp_model *models;
    int n_models;
    cim_exp_config *configs;
    int64_t n_configs;
    cim_exp_column *columns; /* fixed keys first, then the swept ones, in the grid's order */
    int n_columns;
    /* SHA-256 (lowercase hex) of the resolved grid: equal for equal work,
     * whatever the file's layout, key order or way of writing a value. The
     * text hashed is compact JSON, cJSON's escapes and numbers:
     *   {"configs":[{"model":P,"data":D,"split":S,"images":K,
     *                "set":["KEY=JSON",...]},...]
     * one object per configuration in order (P: its model file as resolved,
     * D: data_dir), then, each only when the file gives it,
     *   ,"trials":T  ,"seed":"S" (decimal string)  ,"yield_target":Y
     *   ,"first_layer":"crossbar" (only when crossbar)
     * and "}". */
    char grid_sha256[65];
} cim_experiment;

/* Reads and expands the experiment file at `path`; `model_dir` resolves
 * shipped model names (name + ".h5" in it), `default_data_dir` is the folder
 * of "fashion_mnist". 0, or CIM_ERR_INPUT (unreadable file) /
 * CIM_ERR_CONFIG / CIM_ERR_UNSUPPORTED / CIM_ERR_NOMEM with the one line in
 * err; *exp then holds nothing to free but is safe to free. A NULL
 * default_data_dir is CIM_IDX_DEFAULT_DIR; a NULL model_dir: no shipped
 * names. */
int cim_experiment_load(const char *path, const char *model_dir, const char *default_data_dir,
                        cim_experiment *exp, cim_error *err);

/* As cim_experiment_load on text already read; `origin` names it and its
 * folder resolves relative model paths. */
int cim_experiment_parse(const char *text, const char *origin, const char *model_dir,
                         const char *default_data_dir, cim_experiment *exp, cim_error *err);

void cim_experiment_free(cim_experiment *exp);

/* Configuration i's crossbar config: the run's default crossbar
 * (cim_config_run_default) with its --set list read over it, exactly as
 * `cimgpu run --set ...` builds it, validated. Messages name the origin as
 * "<file> configuration <i>". Free *cfg with cim_config_free, also after an
 * error. CIM_ERR_INPUT for an i outside the grid. */
int cim_experiment_config(const cim_experiment *exp, int64_t i, cim_config *cfg, cim_error *err);

/* Configuration i as the arguments of the equivalent `cimgpu run` (without
 * the program name: "run", "--model", path, "--data", dir, "--split",
 * split, "--images", K, "--trials", T, "--seed", S, ["--first-layer",
 * "crossbar"], ["--yield-target", Y], then "--set", "KEY=JSON" per set),
 * with the trials and seed given (the caller's: the experiment's trials and
 * seed, or what overrides them, as `cimgpu sweep --trials` does).
 * *argv is one malloc'd block (free it alone; argv[argc] is NULL); *argc
 * its count. 0, CIM_ERR_INPUT (i outside the grid) or CIM_ERR_NOMEM. */
int cim_experiment_run_argv(const cim_experiment *exp, int64_t i, uint64_t trials, uint64_t seed,
                            int *argc, char ***argv, cim_error *err);

/* The same as one shell command line, "cimgpu run ...": an argument with a
 * character outside [A-Za-z0-9_./=:,+-] (or an empty one) is put in single
 * quotes, a ' inside as '\''. malloc'd; NULL when out of memory (or i is
 * outside the grid). */
char *cim_experiment_run_command(const cim_experiment *exp, int64_t i, uint64_t trials,
                                 uint64_t seed);

/* The column named key, or NULL. */
const cim_exp_column *cim_experiment_column(const cim_experiment *exp, const char *key);

#endif /* CIM_EXPERIMENT_H */
