/* cli.h -- what the cimgpu subcommands share: their entry points, the
 * one-line error report and strict parsing of numeric option values.
 *
 * Contract of every subcommand (docs/design.md §3): it returns the process exit
 * status (0 success, 1 runtime failure, 2 bad usage or bad input); an error is
 * exactly one line on stderr, "cimgpu: <message>"; `--help` prints the usage
 * on stdout and returns 0.
 */
#ifndef CIM_CLI_H
#define CIM_CLI_H

#include <stdint.h>

#include "cim_config.h"
#include "cim_error.h"
#include "cim_plan.h"

#define CIM_CLI_PROGRAM "cimgpu"

/* `cimgpu mvm ...` and `cimgpu info ...`: argc/argv are the whole command
 * line (argv[1] is the subcommand's name), so that provenance records it. */
int cim_cli_mvm(int argc, char **argv);
int cim_cli_info(int argc, char **argv);
/* `cimgpu [run]`: options start at argv[first]. */
int cim_cli_run(int argc, char **argv, int first);
/* `cimgpu calibrate ...` (argv[1] is "calibrate"). */
int cim_cli_calibrate(int argc, char **argv);
/* `cimgpu help SUBCOMMAND` (argv[1] is "help"): what `cimgpu SUBCOMMAND
 * --help` prints, on stdout, exit 0; an unknown subcommand or a further
 * argument is the usage error (exit 2). `cimgpu help` alone and `cimgpu help
 * help` are the program's own --help, which main answers. */
int cim_cli_help(int argc, char **argv);

/* The crossbar of the network commands (`cimgpu run`, `cimgpu calibrate`):
 * the run's default crossbar with the --config file read over it
 * (cim_config_load_over), then --mapping (NULL: none; a finite ADC takes the
 * type the new mapping needs) and --adc-bits (< 0: none; cim_config_set_adc_bits).
 * Not validated yet: the caller applies its further flags, then
 * cim_config_validate. Free *cfg with cim_config_free, also after an error. */
int cim_cli_network_config(const char *subcommand, const char *config_path, const char *mapping,
                           int adc_bits, cim_config *cfg, cim_error *err);

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

/* getopt_long values of long-only options start here, so that getopt's
 * optopt tells them apart from short option letters. */
#define CIM_CLI_LONG_ONLY 256

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

/* Progress on stderr: only when stderr is a terminal and the work has run
 * for a second, refreshed twice a second, erased by _end (and before any
 * error line). */
typedef struct cim_cli_progress {
    int enabled, shown;
    double start, last;
} cim_cli_progress;

void cim_cli_progress_start(cim_cli_progress *p);
/* "cimgpu: <what>: <done> of <total> <unit> (NN%)" */
void cim_cli_progress_update(cim_cli_progress *p, const char *what, double fraction, uint64_t done,
                             uint64_t total, const char *unit);
void cim_cli_progress_end(cim_cli_progress *p);

#endif /* CIM_CLI_H */
