/* cli.h -- what the cimgpu subcommands share: their entry points, the
 * one-line error report, strict parsing of numeric option values, and the
 * options, crossbar and inputs of the network commands (run, calibrate).
 *
 * Contract of every subcommand (docs/design.md §3): it returns the process exit
 * status (0 success, 1 runtime failure, 2 bad usage or bad input); an error is
 * exactly one line on stderr, "cimgpu: <message>"; `--help` prints the usage
 * on stdout and returns 0.
 */
#ifndef CIM_CLI_H
#define CIM_CLI_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "cim_config.h"
#include "cim_error.h"
#include "cim_idx.h"
#include "cim_mc_work.h"
#include "cim_model.h"
#include "cim_ocl.h"
#include "cim_plan.h"
#include "cim_provenance.h"

#define CIM_CLI_PROGRAM "cimgpu"

/* getopt_long values of long-only options start here, so that getopt's
 * optopt tells them apart from short option letters. */
#define CIM_CLI_LONG_ONLY 256

/* `cimgpu mvm ...` and `cimgpu info ...`: argc/argv are the whole command
 * line (argv[1] is the subcommand's name), so that provenance records it. */
int cim_cli_mvm(int argc, char **argv);
int cim_cli_info(int argc, char **argv);
/* `cimgpu [run]`: options start at argv[first]. */
int cim_cli_run(int argc, char **argv, int first);
/* `cimgpu sweep EXP.json ...` and `cimgpu export S.h5 --csv S.csv` (argv[1]
 * is the subcommand's name). */
int cim_cli_sweep(int argc, char **argv);
int cim_cli_export(int argc, char **argv);
/* `cimgpu calibrate ...` (argv[1] is "calibrate"). */
int cim_cli_calibrate(int argc, char **argv);
/* `cimgpu help SUBCOMMAND` (argv[1] is "help"): what `cimgpu SUBCOMMAND
 * --help` prints, on stdout, exit 0; an unknown subcommand or a further
 * argument is the usage error (exit 2). `cimgpu help` alone and `cimgpu help
 * help` are the program's own --help, which main answers. */
int cim_cli_help(int argc, char **argv);

/* ---- the options the network commands share ---------------------------
 *
 * `cimgpu run` and `cimgpu calibrate` take the same options for what they
 * run: the model and images, the chips (trials, seed) and the crossbar
 * (--config, then the flags over it), so that a calibration profiles the
 * chips a run of the same flags measures. Each puts
 * CIM_CLI_NETWORK_OPTIONS into its getopt_long table, numbers its own
 * long-only options from CIM_CLI_OPT_NETWORK_END, and hands every value
 * getopt returns to cim_cli_network_option first. */

/* The model file the network commands run when --model is not given. */
#define CIM_CLI_MAX_SETS 64 /* --set options of one command */
#define CIM_CLI_DEFAULT_MODEL "tnn_cnn.h5"

enum {
    CIM_CLI_OPT_MODEL = CIM_CLI_LONG_ONLY,
    CIM_CLI_OPT_DATA,
    CIM_CLI_OPT_SPLIT,
    CIM_CLI_OPT_IMAGES,
    CIM_CLI_OPT_FIRST_IMAGE,
    CIM_CLI_OPT_TRIALS,
    CIM_CLI_OPT_SEED,
    CIM_CLI_OPT_CONFIG,
    CIM_CLI_OPT_MAPPING,
    CIM_CLI_OPT_ADC_BITS,
    CIM_CLI_OPT_FIRST_LAYER,
    CIM_CLI_OPT_DEVICE,
    CIM_CLI_OPT_LRS_NOISE,
    CIM_CLI_OPT_HRS_NOISE,
    CIM_CLI_OPT_C2C,
    CIM_CLI_OPT_W_RES,
    CIM_CLI_OPT_V_READ,
    CIM_CLI_OPT_READ_DISTURB,
    CIM_CLI_OPT_T_READ,
    CIM_CLI_OPT_SAF_HRS,
    CIM_CLI_OPT_SAF_LRS,
    CIM_CLI_OPT_SET,
    CIM_CLI_OPT_C2C_MODEL,
    CIM_CLI_OPT_NETWORK_END /* a subcommand's own long-only options start here */
};

/* getopt_long table entries of the shared options (struct option, in a
 * table of the subcommand's that includes <getopt.h>). */
// clang-format off
#define CIM_CLI_NETWORK_OPTIONS \
    {"model", required_argument, 0, CIM_CLI_OPT_MODEL}, \
    {"data", required_argument, 0, CIM_CLI_OPT_DATA}, \
    {"split", required_argument, 0, CIM_CLI_OPT_SPLIT}, \
    {"images", required_argument, 0, CIM_CLI_OPT_IMAGES}, \
    {"first-image", required_argument, 0, CIM_CLI_OPT_FIRST_IMAGE}, \
    {"trials", required_argument, 0, CIM_CLI_OPT_TRIALS}, \
    {"seed", required_argument, 0, CIM_CLI_OPT_SEED}, \
    {"config", required_argument, 0, CIM_CLI_OPT_CONFIG}, \
    {"mapping", required_argument, 0, CIM_CLI_OPT_MAPPING}, \
    {"adc-bits", required_argument, 0, CIM_CLI_OPT_ADC_BITS}, \
    {"first-layer", required_argument, 0, CIM_CLI_OPT_FIRST_LAYER}, \
    {"device", required_argument, 0, CIM_CLI_OPT_DEVICE}, \
    {"lrs-noise", required_argument, 0, CIM_CLI_OPT_LRS_NOISE}, \
    {"hrs-noise", required_argument, 0, CIM_CLI_OPT_HRS_NOISE}, \
    {"c2c", no_argument, 0, CIM_CLI_OPT_C2C}, \
    {"c2c-model", required_argument, 0, CIM_CLI_OPT_C2C_MODEL}, \
    {"w-res", required_argument, 0, CIM_CLI_OPT_W_RES}, \
    {"v-read", required_argument, 0, CIM_CLI_OPT_V_READ}, \
    {"read-disturb", required_argument, 0, CIM_CLI_OPT_READ_DISTURB}, \
    {"t-read", required_argument, 0, CIM_CLI_OPT_T_READ}, \
    {"saf-hrs", required_argument, 0, CIM_CLI_OPT_SAF_HRS}, \
    {"saf-lrs", required_argument, 0, CIM_CLI_OPT_SAF_LRS}, \
    {"set", required_argument, 0, CIM_CLI_OPT_SET}
// clang-format on

typedef struct cim_cli_network_options {
    const char *model, *data, *split, *config, *mapping, *device; /* NULL: not given */
    uint64_t images, first_image, trials, seed;
    uint64_t max_trials; /* --trials at most this */
    int adc_bits;        /* < 0: not given; 0: the ideal ADC */
    cim_pixel_layers first_layer;
    /* the crossbar flags, each with whether it was given */
    double lrs_noise, hrs_noise, w_res, v_read, t_read, saf_hrs, saf_lrs;
    int has_lrs_noise, has_hrs_noise, has_w_res, has_v_read, has_t_read, has_saf_hrs, has_saf_lrs;
    int c2c;
    int c2c_model;                     /* 0: as the config; 1 + CIM_C2C_MODEL_*: --c2c-model */
    int read_disturb;                  /* 0: as the config; 1 + CIM_DISTURB_*: --read-disturb */
    const char *set[CIM_CLI_MAX_SETS]; /* --set KEY=VALUE, in order */
    int n_set;
} cim_cli_network_options;

/* The defaults before parsing: the dataset folder CIM_IDX_DEFAULT_DIR, the
 * subcommand's split, images and trials (--trials at most max_trials),
 * seed 0, first image 0, weight layers on raw pixels on the host, no
 * crossbar flag. */
void cim_cli_network_defaults(cim_cli_network_options *o, const char *split, uint64_t images,
                              uint64_t trials, uint64_t max_trials);

/* One value getopt_long returned, with its optarg: 0 when it was a shared
 * option and its value is good, CIM_ERR_USAGE with the one error line
 * ("<subcommand>: --<option> '<value>': expected ...") when the value is
 * bad, -1 when c is none of the shared options (the caller's own, or
 * getopt's '?', ':', 'h'). */
int cim_cli_network_option(const char *subcommand, int c, const char *arg,
                           cim_cli_network_options *o, cim_error *err);

/* The crossbar of the network commands: the run's default crossbar with the
 * --config file read over it (cim_config_load_over), then the --set keys
 * (cim_config_apply_sets, origin "--set"), then --mapping (a
 * finite ADC takes the type the new mapping needs), --adc-bits
 * (cim_config_set_adc_bits) and the crossbar flags (--lrs-noise and
 * --hrs-noise set the D2D and C2C sigma alike, --c2c c2c_var, --c2c-model
 * c2c_model, --w-res
 * parasitics and w_res, --v-read V_read, --read-disturb read_disturb and its
 * strategy, --t-read t_read, --saf-hrs and --saf-lrs SAF_HRS and SAF_LRS).
 * Not validated yet: the caller applies its further settings, then
 * cim_config_validate. Free *cfg with cim_config_free, also after an error. */
int cim_cli_network_config(const char *subcommand, const cim_cli_network_options *o,
                           cim_config *cfg, cim_error *err);

/* The model file: --model, else CIM_CLI_DEFAULT_MODEL in cim_cli_model_dir()
 * (path holds n bytes). */
void cim_cli_model_path(const cim_cli_network_options *o, char *path, size_t n);

/* What the network commands load: the model, the whole split, the images
 * run, and the layer plan of the crossbar. Free with
 * cim_cli_network_inputs_free, also after an error (zeroed first). */
typedef struct cim_cli_network_inputs {
    char model_path[4096];
    cim_model model;
    cim_dataset all, data; /* the split, and its images first_image .. */
    cim_plan plan;
} cim_cli_network_inputs;

/* Loads the model (cim_cli_model_path) and the --data/--split dataset,
 * checks the images' shape against the model, takes --images from
 * --first-image, checks every label is one of the model's classes, plans
 * the layers on cfg (validated) with --seed and --first-layer, requires a
 * crossbar layer and checks the images' read keys (cim_cli_check_read_keys).
 * 0, or the first failure's code with its message. */
int cim_cli_load_network_inputs(const cim_cli_network_options *o, const cim_config *cfg,
                                cim_cli_network_inputs *in, cim_error *err);
void cim_cli_network_inputs_free(cim_cli_network_inputs *in);

/* The --help entries of the crossbar flags (--lrs-noise .. --saf-lrs), with
 * the bounds the config keys have. */
void cim_cli_crossbar_flags_usage(FILE *out);

/* `--c2c-model M` (run, calibrate, mvm): "cell" or "column" into
 * *model (CIM_C2C_MODEL_*): 0, or CIM_ERR_USAGE with the one error line
 * "<subcommand>: --c2c-model '<M>': expected cell or column". */
int cim_cli_parse_c2c_model(const char *subcommand, const char *arg, int *model, cim_error *err);

/* The C2C column law's clipping bounds of the plan's crossbar layers
 * (cim_c2c_bound.h), when c2c_model "column" is asked for: one line per
 * crossbar layer on `header` (NULL: none), and on stderr one line
 * "cimgpu: <subcommand>: layer L reads C2C per cell: ..." for each layer
 * whose bound does not hold. */
void cim_cli_c2c_report(const char *subcommand, const cim_plan *plan, FILE *header);

/* Parses a finite decimal floating-point number in [lo, hi] (strtod's
 * syntax, all of text). 0, or -1 when text is not such a number. */
int cim_cli_parse_double(const char *text, double lo, double hi, double *value);

/* The read keys of images first_image .. first_image + count - 1 of a
 * network run on `plan` fit their 32 bits (cim_plan.h): 0, or CIM_ERR_INPUT
 * naming the model. */
int cim_cli_check_read_keys(const cim_plan *plan, int64_t first_image, int64_t count,
                            const char *model_path, cim_error *err);

/* Prints err as the one error line and returns its exit status. */
int cim_cli_report(const cim_error *err);

/* Parses a decimal integer in [min, max]: digits only (no sign, blanks or
 * base prefix), no overflow. 0, or -1 when text is not such a number. */
#ifndef CIM_MODEL_DIR
#define CIM_MODEL_DIR "data/models"
#endif
#define MODEL_DIR_ENV "CIMGPU_MODEL_DIR"

/* Process set-up of the programs that run the engine: the executor (and the
 * OpenCL runtime under it) allocates the same large buffers for every chunk;
 * keeping freed memory in the heap instead of returning it to the kernel
 * spares a page fault per page per chunk. Call once, first thing in main. */
void cim_cli_keep_freed_memory(void);

/* The folder of the shipped models: $CIMGPU_MODEL_DIR when set and not
 * empty, else the data/models folder this build was made from. */
const char *cim_cli_model_dir(void);

int cim_cli_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *value);

/* Starts a getopt_long pass over a subcommand's arguments: from the first
 * (optind = 1, so a second parse in one process starts afresh), and with
 * getopt's own messages off (opterr = 0), so that a bad option is reported
 * once, as the one error line, by cim_cli_bad_option. Option strings start
 * with ':' so that a missing value is told apart from an unknown option. */
void cim_cli_getopt_start(void);

/* The usage error for an option getopt_long rejected: `result` is what it
 * returned (':' missing value, '?' unknown option or unexpected value),
 * `opt` its optopt and `arg` the offending argv element (argv[optind - 1]).
 * Returns CIM_ERR_USAGE. */
int cim_cli_bad_option(cim_error *err, const char *subcommand, int result, int opt,
                       const char *arg);

/* The usage error for an argument left over after the options (the
 * subcommands take none): "<subcommand>: unexpected argument '<arg>' (see
 * `cimgpu <subcommand> --help`)". Returns CIM_ERR_USAGE. */
int cim_cli_unexpected_argument(cim_error *err, const char *subcommand, const char *arg);

/* The tail of a subcommand's getopt_long loop, for every value it does not
 * handle itself: 'h' (-h, --help) prints usage on stdout and returns 1 (the
 * subcommand then exits 0); anything else is cim_cli_bad_option's usage
 * error (argv as given to getopt_long). */
int cim_cli_other_option(cim_error *err, const char *subcommand, int c, char **argv,
                         void (*usage)(FILE *out));

/* After the getopt_long loop: 0, or cim_cli_unexpected_argument's error for
 * the first argument left over. */
int cim_cli_options_end(cim_error *err, const char *subcommand, int argc, char **argv);

/* Progress on stderr: only when stderr is a terminal and the work has run
 * for a second, refreshed twice a second, erased by _end (and before any
 * error line). Rank 0 of a job of several ranks prints it as whole lines
 * every 10 s when its stderr is no terminal (the launcher's pipe, a batch
 * log); the other ranks print none. */
typedef struct cim_cli_progress {
    int enabled, shown, lines;
    double start, last;
} cim_cli_progress;

void cim_cli_progress_start(cim_cli_progress *p);
/* "cimgpu: <what>: <done> of <total> <unit> (NN%)" */
void cim_cli_progress_update(cim_cli_progress *p, const char *what, double fraction, uint64_t done,
                             uint64_t total, const char *unit);
void cim_cli_progress_end(cim_cli_progress *p);

/* Opens the OpenCL device (cim_ocl_open_for) of this rank: spec's entry
 * for its node-local rank. */
int cim_cli_open_device(cim_ocl *ocl, const char *spec, cim_error *err);

/* The device of the results' provenance (and the banner): ocl's, and in a
 * job of several ranks how many there are ("...; MPI: 3 ranks on 1 node"). */
void cim_cli_set_provenance_device(cim_provenance *p, const cim_ocl *ocl);

/* A job of several ranks: one line of where its work went (cim_mc_work.h)
 * on `out`; nothing for one process. */
void cim_cli_work_print(const cim_mc_work_stats *w, FILE *out);

#endif /* CIM_CLI_H */
