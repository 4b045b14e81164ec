/* cim_experiment.h -- a design-space exploration experiment: the CIM-Explorer
 * flow's experiment config (JSON), validated and expanded into its grid of
 * configurations, each of which is one `cimgpu run` (docs/sweep.md).
 *
 * The file takes the reference flow's keys, key for key, and cimgpu's own
 * beside them:
 *   nn_names      [model, ...]: shipped model names ("tnn_cnn", resolved in
 *                 the model folder the caller gives) or model file paths
 *                 (relative ones against the experiment file's folder)
 *   ifm           [[H, W, C], ...]: each model's input, paired with nn_names
 *                 by index (checked against the model by the caller)
 *   nn_data_set   "fashion_mnist" (default: the Debian package's folder) or
 *                 a folder of IDX files; "cifar10", "cifar100", "mnist" are
 *                 refused naming the installed datasets
 *   nn_data       "TEST" (split t10k, default) or "TRAIN" (split train)
 *   batch, num_runs   images = batch x num_runs, the first of the split
 *   xbar_size     [[M, N], ...]
 *   digital_only  bool
 *   hrs_lrs       [[HRS, LRS], ...] µA, or
 *   gmin_gmax     [[Gmin, Gmax], ...] µS with V_read: HRS = Gmin |V_read|,
 *                 LRS = Gmax |V_read| (exactly one of the two)
 *   adc_type      "INF_ADC", or "FP_ALPHA_ADC": the finite ADC the mapping
 *                 needs (SYM_RANGE_ADC for signed column currents,
 *                 POS_RANGE_ONLY_ADC otherwise)
 *   resolution    [bits, ...] (with INF_ADC only -1)
 *   adc_calib_mode  ["MAX", "CALIB"]
 *   adc_calib_dict  {net: {"[M, N]": {m_mode: {layer: [lo, hi]}}}}: with
 *                 CALIB the entry of the configuration's model, size and
 *                 mapping becomes its adc_calib_dict
 *   alpha         [a, ...], 0 < a <= 1: the MAX range clipped to a times
 *                 itself (config key adc_alpha)
 *   m_mode        [mapping, ...]
 *   hrs_noise, lrs_noise   [σ, ...] µA (HRS_NOISE, LRS_NOISE)
 *   c2c_var, d2d_var, verbose, parasitics, read_disturb   bool
 *   V_read, t_read, w_res, read_disturb_update_freq,
 *   read_disturb_mitigation_fp, read_disturb_update_tolerance   [v, ...]
 *   read_disturb_mitigation_strategy   "OFF", "SOFTWARE", "CELL_BASED"
 *   adc_profile, mvm_profile   integer bin size (µA); 0 or absent: off
 *   cimgpu's own: trials, seed, yield_target, first_layer ("host",
 *   "crossbar"), hrs_noise_c2c, lrs_noise_c2c ([σ, ...]: HRS_NOISE_C2C,
 *   LRS_NOISE_C2C).
 * A key the reference flow takes as a list may be a list (swept) or one
 * value (fixed); the boolean keys and c2c_var may be lists too. The grid is
 * the Cartesian product of the swept keys in this order (the last varies
 * fastest), the reference flow's order followed by cimgpu's:
 *   nn_names, xbar_size, hrs_lrs, gmin_gmax, resolution, adc_calib_mode,
 *   m_mode, hrs_noise, lrs_noise, V_read, t_read, read_disturb_update_freq,
 *   read_disturb_mitigation_fp, read_disturb_update_tolerance, w_res,
 *   alpha, c2c_var, d2d_var, hrs_noise_c2c, lrs_noise_c2c.
 *
 * Errors (CIM_ERR_CONFIG, one line naming the file, the key and, where one
 * configuration is at fault, its index and values): malformed JSON (with
 * its line and column), unknown keys, wrong types, empty lists, an ifm /
 * nn_names length mismatch, values out of range, a CALIB configuration
 * without its adc_calib_dict entry, more than CIM_EXP_MAX_CONFIGS
 * configurations. Every configuration's crossbar config is then parsed by
 * the same code as `cimgpu run --set` (cim_experiment_config), so an invalid
 * mapping/ADC combination is refused before any work too.
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
 * strings in str[config]. */
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
    char **set; /* n_set "KEY=JSON" texts: its --set options, in order */
    int n_set;
} cim_exp_config;

typedef struct cim_experiment {
    char *origin;                    /* the file name, for messages */
    char *json_text;                 /* the file as given */
    char *data_dir;                  /* the IDX folder */
    const char *split;               /* "t10k" or "train" (static) */
    const char *data_set;            /* "fashion_mnist" or the folder as given */
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
    /* SHA-256 (hex) of the resolved grid: the canonical JSON of every
     * configuration's model file, images, split, data folder and --set list,
     * with trials, seed and yield target: equal for equal work. */
    char grid_sha256[65];
} cim_experiment;

/* Reads and expands the experiment file at `path`; `model_dir` resolves
 * shipped model names (name + ".h5" in it), `default_data_dir` is the folder
 * of "fashion_mnist". 0, or CIM_ERR_INPUT (unreadable file) /
 * CIM_ERR_CONFIG / CIM_ERR_NOMEM with the one line in err; *exp then holds
 * nothing to free but is safe to free. */
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
 * error. */
int cim_experiment_config(const cim_experiment *exp, int64_t i, cim_config *cfg, cim_error *err);

/* Configuration i as the arguments of the equivalent `cimgpu run` (without
 * the program name: "run", "--model", path, "--data", dir, "--split",
 * split, "--images", K, "--trials", T, "--seed", S, ["--first-layer",
 * "crossbar"], ["--yield-target", Y], then "--set", "KEY=JSON" per set),
 * with trials and seed from the experiment or else from the arguments.
 * *argv is one malloc'd block (free it alone); *argc its count. 0 or
 * CIM_ERR_NOMEM. */
int cim_experiment_run_argv(const cim_experiment *exp, int64_t i, uint64_t trials, uint64_t seed,
                            int *argc, char ***argv, cim_error *err);

/* The same as one shell command line, "cimgpu run ..." with every argument
 * quoted where the shell needs it: malloc'd, NULL when out of memory. */
char *cim_experiment_run_command(const cim_experiment *exp, int64_t i, uint64_t trials,
                                 uint64_t seed);

/* The column named key, or NULL. */
const cim_exp_column *cim_experiment_column(const cim_experiment *exp, const char *key);

#endif /* CIM_EXPERIMENT_H */
