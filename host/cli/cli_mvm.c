/* cli_mvm.c -- `cimgpu mvm`: the crossbar calculator (docs/design.md §3).
 *
 * Everything the user gave is checked before the OpenCL device is opened, so
 * that bad input fails fast with exit status 2: options, then the config
 * (cim_config_load, then cim_config_resolve for the layer named "mvm", which
 * is also the adc_calib_dict entry CALIB mode uses), then the weights and
 * inputs, value by value against the mapping's alphabet, then their shapes.
 *
 * The trials then run in chunks of at most CHUNK_BYTES of results (plus
 * traces), so memory stays bounded however large T is. Each chunk is one
 * cim_engine_mvm call keyed by its first trial, so the numbers do not depend
 * on the chunk size; it is printed, then appended to the HDF5 file. Standard
 * output carries nothing but the result lines -- a format other programs
 * parse: for trial 0..T-1, for each input, the M results comma-separated.
 * Progress goes to stderr, only when stderr is a terminal and the run is
 * long, and is erased before any error line.
 *
 * The environment variable CIMGPU_MVM_CHUNK_TRIALS (a positive integer)
 * lowers the trials per chunk; it exists so that tests can prove the chunking
 * changes no number and no byte of the results file.
 *
 * Ownership: an mvm_run holds the config, matrices, device and results file
 * of one run; release() frees them all and discards the results file unless
 * finish_outputs() published it. While the partial file exists, SIGINT,
 * SIGTERM, SIGHUP and SIGPIPE remove it before ending the process, so an
 * interrupted run leaves no litter either.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cim_adc_profile.h"
#include "cim_config.h"
#include "cim_csv.h"
#include "cim_engine.h"
#include "cim_mapping.h"
#include "cim_ocl.h"
#include "cim_provenance.h"
#include "cli.h"
#include "cli_disturb.h"
#include "cli_profile.h"
#include "h5_mvm.h"

#define MVM_LAYER_NAME "mvm" /* its adc_calib_dict entry gives the ADC range in CALIB mode */
#define MVM_LAYER_ID 0       /* the layer in the RNG keys */
#define MVM_MAX_TRIALS 1000000000ULL
#define CHUNK_BYTES ((uint64_t)64 << 20) /* host results + traces of one chunk of trials */
#define CHUNK_TRIALS_ENV "CIMGPU_MVM_CHUNK_TRIALS"
#define STDOUT_BUFFER_BYTES ((size_t)1 << 20)

typedef struct mvm_options {
    const char *config_path, *weights_path, *inputs_path, *out_path, *device;
    uint64_t trials, seed;
    int trace, force;
    int c2c_model; /* 0: the config's; 1 + CIM_C2C_MODEL_*: --c2c-model */
} mvm_options;

typedef struct mvm_matrix {
    int8_t *data;
    int32_t rows, cols;
} mvm_matrix;

/* Everything one `cimgpu mvm` run holds; release() frees it. */
typedef struct mvm_run {
    const mvm_options *o;
    cim_config cfg;
    int cfg_loaded;
    cim_xbar xbar;
    cim_c2c_bound c2c; /* the column law's clipping bound for this matrix */
    mvm_matrix w, x;
    int32_t tiles_n, n_convs;
    cim_provenance prov;
    cim_ocl ocl;
    int ocl_open;
    cim_outfile out; /* the claimed --out (cim_outfile.h) */
    cim_h5_mvm *h5;
    cim_cli_progress prog;
    cim_cli_disturb disturb; /* read-disturb counters per chip (read_disturb) */
} mvm_run;

enum {
    OPT_CONFIG = CIM_CLI_LONG_ONLY,
    OPT_WEIGHTS,
    OPT_INPUTS,
    OPT_TRIALS,
    OPT_SEED,
    OPT_OUT,
    OPT_TRACE,
    OPT_DEVICE,
    OPT_FORCE,
    OPT_C2C_MODEL,
};

static const struct option long_options[] = {
    {"config", required_argument, NULL, OPT_CONFIG},
    {"weights", required_argument, NULL, OPT_WEIGHTS},
    {"inputs", required_argument, NULL, OPT_INPUTS},
    {"trials", required_argument, NULL, OPT_TRIALS},
    {"seed", required_argument, NULL, OPT_SEED},
    {"out", required_argument, NULL, OPT_OUT},
    {"trace", no_argument, NULL, OPT_TRACE},
    {"device", required_argument, NULL, OPT_DEVICE},
    {"force", no_argument, NULL, OPT_FORCE},
    {"c2c-model", required_argument, NULL, OPT_C2C_MODEL},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *out)
{
    fputs(
        "Usage: cimgpu mvm --config CFG.json --weights W.csv --inputs X.csv [--trials T]\n"
        "                  [--seed S] [--c2c-model cell|column] [--out R.h5 [--trace] [--force]]\n"
        "                  [--device SPEC]\n"
        "\n"
        "The crossbar calculator: multiplies the weight matrix of W.csv with every input\n"
        "vector of X.csv on simulated crossbar tiles, once per Monte-Carlo trial (one\n"
        "trial = one manufactured chip, with its own device-to-device variation).\n"
        "\n"
        "Required:\n"
        "  --config CFG.json  crossbar configuration with the reference simulator's keys\n"
        "                     (m_mode, M, N, HRS, LRS, digital_only, adc_type, resolution,\n"
        "                     adc_calib_mode, HRS_NOISE, LRS_NOISE, d2d_var, c2c_var, ...):\n"
        "                     m_mode, M and N are required, every other key has the\n"
        "                     reference's default (README, \"Config keys\"; e.g. no noise).\n"
        "                     M x N is the crossbar; larger matrices are tiled. With\n"
        "                     adc_calib_mode CALIB the ADC range is the adc_calib_dict\n"
        "                     entry named \"mvm\".\n"
        "  --weights W.csv    the weight matrix, any size: one line per output, each\n"
        "                     the same number of comma-separated integers in the\n"
        "                     mapping's alphabet ({-1,+1} for BNN_*, {-1,0,+1} for TNN_*)\n"
        "  --inputs X.csv     one input vector per line, as many integers as W.csv has\n"
        "                     columns, in the same alphabet\n"
        "\n"
        "Options:\n"
        "  --trials T         Monte-Carlo trials, 1..1000000000 (default 1)\n"
        "  --seed S           random seed, a decimal integer 0..18446744073709551615\n"
        "                     (default 0); the same seed gives the same numbers on\n"
        "                     every device\n"
        "  --c2c-model M      how C2C reads (c2c_var) are simulated, over the config's\n"
        "                     c2c_model: cell (a deviation per cell, clipped at 0) or\n"
        "                     column (one Gaussian per column read, used when its\n"
        "                     clipping bound for this matrix holds; stderr says when it\n"
        "                     does not; docs/physics/c2c_column.md)\n"
        "  --out R.h5         also write the results to an HDF5 file, with provenance,\n"
        "                     the resolved config, weights and inputs (with adc_profile\n"
        "                     the ADC input histogram, /profile/mvm); R.h5 appears\n"
        "                     only once complete; it may not be one of the inputs\n"
        "  --force            with --out: replace an existing R.h5 (refused without)\n"
        "  --trace            with --out: also record every conversion's column current\n"
        "                     (nA) and ADC output, [trial][input][input tile][conversion]\n"
        "                     [output]\n"
        "  --device SPEC      OpenCL device: an index or a name substring as listed by\n"
        "                     `cimgpu info` (default: $CIMGPU_DEVICE, else the first\n"
        "                     GPU, else the first CPU device)\n"
        "  -h, --help         show this help and exit (also `cimgpu help mvm`)\n"
        "\n"
        "Standard output: for trial 0, 1, ..., T-1 and, within a trial, for each input\n"
        "in file order, one line of the M integer results, comma-separated, no spaces.\n"
        "Nothing else is printed there. Errors are one line on stderr.\n"
        "Exit status: 0 success, 1 runtime failure, 2 bad usage or bad input.\n",
        out);
}

/* Parses the subcommand's arguments (argv[0] is "mvm").
 * 0: options parsed; 1: --help shown; else CIM_ERR_USAGE. */
static int parse_options(int argc, char **argv, mvm_options *o, cim_error *err)
{
    int c, rc;
    memset(o, 0, sizeof *o);
    o->trials = 1;
    o->seed = 0;
    cim_cli_getopt_start();
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_CONFIG:
            o->config_path = optarg;
            break;
        case OPT_WEIGHTS:
            o->weights_path = optarg;
            break;
        case OPT_INPUTS:
            o->inputs_path = optarg;
            break;
        case OPT_TRIALS:
            if (cim_cli_parse_u64(optarg, 1, MVM_MAX_TRIALS, &o->trials) != 0)
                return cim_error_set(err, CIM_ERR_USAGE,
                                     "mvm: --trials '%s': expected an integer from 1 to %llu",
                                     optarg, MVM_MAX_TRIALS);
            break;
        case OPT_SEED:
            if (cim_cli_parse_u64(optarg, 0, UINT64_MAX, &o->seed) != 0)
                return cim_error_set(err, CIM_ERR_USAGE,
                                     "mvm: --seed '%s': expected a decimal integer from 0 to %llu",
                                     optarg, (unsigned long long)UINT64_MAX);
            break;
        case OPT_OUT:
            o->out_path = optarg;
            break;
        case OPT_TRACE:
            o->trace = 1;
            break;
        case OPT_DEVICE:
            o->device = optarg;
            break;
        case OPT_FORCE:
            o->force = 1;
            break;
        case OPT_C2C_MODEL: {
            int model = CIM_C2C_MODEL_CELL;
            if ((rc = cim_cli_parse_c2c_model("mvm", optarg, &model, err)) != 0)
                return rc;
            o->c2c_model = 1 + model;
            break;
        }
        default:
            return cim_cli_other_option(err, "mvm", c, argv, usage);
        }
    }
    if ((rc = cim_cli_options_end(err, "mvm", argc, argv)) != 0)
        return rc;
    if (!o->config_path || !o->weights_path || !o->inputs_path)
        return cim_error_set(err, CIM_ERR_USAGE, "mvm: %s is required (see `cimgpu mvm --help`)",
                             !o->config_path    ? "--config CFG.json"
                             : !o->weights_path ? "--weights W.csv"
                                                : "--inputs X.csv");
    if (o->trace && !o->out_path)
        return cim_error_set(err, CIM_ERR_USAGE,
                             "mvm: --trace records into the results file: it needs --out R.h5");
    if (o->force && !o->out_path)
        return cim_error_set(err, CIM_ERR_USAGE,
                             "mvm: --force replaces a results file: it needs "
                             "--out R.h5");
    return 0;
}

/* The 1-based line of `path` holding matrix row `row`: the reader skips blank
 * lines before the first row (and allows none between rows), so count the
 * non-blank lines. Only used to word an error; row + 1 if the file is gone. */
static long line_of_row(const char *path, int32_t row)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    size_t cap = 0;
    ssize_t len;
    long line = 0, found = row + 1;
    int32_t seen = -1;
    if (!f)
        return found;
    while ((len = getline(&text, &cap, f)) >= 0) {
        const char *at = text;
        size_t n = (size_t)len;
        ++line;
        if (line == 1 && n >= 3 && memcmp(at, "\xEF\xBB\xBF", 3) == 0) {
            at += 3;
            n -= 3;
        }
        if (strspn(at, " \t\r\n") < n)
            ++seen;
        if (seen == row) {
            found = line;
            break;
        }
    }
    free(text);
    fclose(f);
    return found;
}

/* Reads a CSV matrix and checks every value against the mapping's alphabet;
 * `what` ("weight" / "input") names the values in messages. */
static int load_matrix(const char *path, const char *what, cim_mapping_id mapping, mvm_matrix *mx,
                       cim_error *err)
{
    int rc = cim_csv_read_int8(path, &mx->data, &mx->rows, &mx->cols, err);
    if (rc != 0)
        return rc; /* the reader rejects empty files: rows, cols >= 1 from here */
    for (int32_t r = 0; r < mx->rows; ++r) {
        for (int32_t c = 0; c < mx->cols; ++c) {
            int v = mx->data[(size_t)r * mx->cols + c];
            if (!cim_mapping_value_ok(mapping, v))
                return cim_error_set(
                    err, CIM_ERR_INPUT, "%s: line %ld, column %d: %s %d is not in %s's alphabet %s",
                    path, line_of_row(path, r), c + 1, what, v, cim_mapping_name(mapping),
                    CIM_MAPPINGS[mapping].ternary ? "{-1,0,+1}" : "{-1,+1}");
        }
    }
    return 0;
}

static int check_shapes(const mvm_options *o, const mvm_matrix *w, const mvm_matrix *x,
                        cim_error *err)
{
    if (x->cols == w->cols)
        return 0;
    return cim_error_set(err, CIM_ERR_INPUT,
                         "%s: inputs have %d values each, but the weight matrix of %s has %d "
                         "columns (weights %dx%d, inputs %dx%d)",
                         o->inputs_path, x->cols, o->weights_path, w->cols, w->rows, w->cols,
                         x->rows, x->cols);
}

/* ---- output ---------------------------------------------------------- */

/* Appends the decimal digits of v to at; returns the new end. */
static char *put_int(char *at, int32_t v)
{
    char digits[12];
    int n = 0;
    uint32_t u = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *at++ = '-';
    while (n)
        *at++ = digits[--n];
    return at;
}

/* Prints n_lines lines of `rows` results; line holds room for one line. */
static int print_results(const int32_t *results, size_t n_lines, int32_t rows, char *line,
                         cim_error *err)
{
    for (size_t l = 0; l < n_lines; ++l) {
        char *at = line;
        for (int32_t m = 0; m < rows; ++m) {
            if (m)
                *at++ = ',';
            at = put_int(at, results[l * rows + m]);
        }
        *at++ = '\n';
        fwrite(line, 1, (size_t)(at - line), stdout);
    }
    if (ferror(stdout))
        return cim_error_set(err, CIM_ERR_IO, "mvm: writing the results to standard output failed");
    return 0;
}

/* ---- the run --------------------------------------------------------- */

/* Trials per chunk: results (and traces) of a chunk fit in CHUNK_BYTES,
 * at least one trial; at most $CIMGPU_MVM_CHUNK_TRIALS when set. */
static int32_t chunk_trials(uint64_t trials, uint64_t bytes_per_trial)
{
    uint64_t n = CHUNK_BYTES / (bytes_per_trial ? bytes_per_trial : 1), cap;
    if (cim_cli_parse_u64(getenv(CHUNK_TRIALS_ENV), 1, UINT64_MAX, &cap) == 0 && n > cap)
        n = cap;
    if (n < 1)
        n = 1;
    if (n > trials)
        n = trials;
    if (n > INT32_MAX)
        n = INT32_MAX;
    return (int32_t)n;
}

/* Config, weights and inputs, all checked; nothing else is touched yet. */
static int load_problem(mvm_run *run, cim_error *err)
{
    const mvm_options *o = run->o;
    int rc;
    run->cfg_loaded = 1; /* cim_config_load leaves defaults behind even when it fails */
    if ((rc = cim_config_load(o->config_path, &run->cfg, err)) != 0)
        return rc;
    if (o->c2c_model)
        run->cfg.c2c_model = o->c2c_model - 1;
    if ((rc = cim_config_resolve(&run->cfg, MVM_LAYER_NAME, o->seed, MVM_LAYER_ID, &run->xbar,
                                 err)) != 0 ||
        (rc = load_matrix(o->weights_path, "weight", run->xbar.mapping, &run->w, err)) != 0 ||
        (rc = load_matrix(o->inputs_path, "input", run->xbar.mapping, &run->x, err)) != 0 ||
        (rc = check_shapes(o, &run->w, &run->x, err)) != 0)
        return rc;
    /* the column law where its clipping bound holds for this matrix */
    if (!cim_c2c_column_decide(&run->xbar, run->w.cols, &run->c2c) && run->c2c.asked)
        fprintf(stderr,
                CIM_CLI_PROGRAM ": mvm: C2C reads per cell: the column law's clipping bound "
                                "E|I_cell - I_column| <= %.6g nA exceeds %g%% of LRS - HRS (%.6g "
                                "nA)\n",
                run->c2c.e_diff_na, 100 * CIM_C2C_COLUMN_MAX_DIFF, run->c2c.limit_na);
    run->tiles_n = cim_tiles(run->w.cols, run->xbar.xbar_n);
    run->n_convs = CIM_MAPPINGS[run->xbar.mapping].n_convs;
    return 0;
}

/* Removes the partial results file when a signal ends the run (Ctrl-C, a
 * closed pipe), then lets the signal do what it would have done. */
static const char *volatile partial_to_remove;

static void remove_partial_and_die(int sig)
{
    const char *partial = partial_to_remove;
    if (partial)
        unlink(partial);
    raise(sig); /* SA_RESETHAND: the default action runs once we return */
}

static void guard_partial(const char *partial)
{
    static const int signals[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = partial ? remove_partial_and_die : SIG_DFL;
    sa.sa_flags = partial ? SA_RESETHAND : 0;
    sigemptyset(&sa.sa_mask);
    partial_to_remove = partial;
    for (size_t i = 0; i < sizeof signals / sizeof *signals; ++i)
        sigaction(signals[i], &sa, NULL);
}

/* Provenance, the device, and the results file with everything but results. */
static int open_outputs(mvm_run *run, int argc, char **argv, cim_error *err)
{
    const mvm_options *o = run->o;
    char *config_json;
    int rc;
    if ((rc = cim_provenance_init(&run->prov, argc, argv, err)) != 0 ||
        (rc = cim_ocl_open(&run->ocl, o->device, err)) != 0)
        return rc;
    run->ocl_open = 1;
    cim_provenance_set_device(&run->prov, &run->ocl);
    if ((rc = cim_cli_disturb_mvm(&run->disturb, &run->xbar, run->w.data, run->w.rows, run->w.cols,
                                  run->x.rows, err)) != 0 ||
        !o->out_path)
        return rc;
    config_json = cim_config_to_json(&run->cfg);
    if (!config_json)
        return cim_error_set(err, CIM_ERR_NOMEM, "mvm: out of memory");
    const cim_adc_profile profile = cim_adc_profile_of(&run->xbar, NULL);
    {
        const cim_h5_mvm_spec spec = {
            .out = &run->out,
            .prov = &run->prov,
            .seed = o->seed,
            .config_json = config_json,
            .mapping = cim_mapping_name(run->xbar.mapping),
            .digital = (int)run->xbar.column.digital,
            .weights = run->w.data,
            .rows = run->w.rows,
            .cols = run->w.cols,
            .inputs = run->x.data,
            .n_inputs = run->x.rows,
            .n_trials = (int64_t)o->trials,
            .trace = o->trace,
            .tiles_n = run->tiles_n,
            .n_convs = run->n_convs,
            .profile = run->xbar.profile.bins > 0 ? &profile : NULL,
            .disturb = run->disturb.report.n_layers ? &run->disturb.report : NULL,
            .c2c_model = cim_config_c2c_model_name(run->cfg.c2c_model),
            .c2c_model_used = cim_c2c_bound_model(&run->c2c),
            .c2c_bound_p_differs = run->c2c.p_differs,
            .c2c_bound_mean_abs_diff_na = run->c2c.e_diff_na,
        };
        rc = cim_h5_mvm_create(&spec, &run->h5, err);
    }
    free(config_json);
    if (rc == 0)
        guard_partial(cim_h5_mvm_partial_path(run->h5));
    return rc;
}

/* Every trial, chunk by chunk: engine, stdout, results file. */
static int run_trials(mvm_run *run, cim_error *err)
{
    const mvm_options *o = run->o;
    const mvm_matrix *w = &run->w, *x = &run->x;
    const size_t trace_elems = (size_t)x->rows * run->tiles_n * run->n_convs * w->rows;
    const int32_t chunk = chunk_trials(
        o->trials, (uint64_t)x->rows * w->rows * sizeof(int32_t) +
                       (o->trace ? trace_elems * (sizeof(int32_t) + sizeof(int64_t)) : 0));
    int32_t *results = malloc((size_t)chunk * x->rows * w->rows * sizeof *results);
    char *line = malloc((size_t)w->rows * 12 + 2);
    cim_mvm_trace trace = {NULL, NULL, NULL};
    const size_t slots = (size_t)CIM_PROFILE_SLOTS(run->xbar.profile.bins);
    const int profiled = run->xbar.profile.bins > 0;
    uint64_t *total = profiled ? calloc(slots, sizeof *total) : NULL;
    int rc = 0;
    if (o->trace) {
        trace.current = malloc((size_t)chunk * trace_elems * sizeof *trace.current);
        trace.adc = malloc((size_t)chunk * trace_elems * sizeof *trace.adc);
    }
    if (profiled)
        trace.profile = malloc((size_t)chunk * slots * sizeof *trace.profile);
    if (!results || !line || (o->trace && (!trace.current || !trace.adc)) ||
        (profiled && (!trace.profile || !total))) {
        rc =
            cim_error_set(err, CIM_ERR_NOMEM, "mvm: out of memory for %d trials of results", chunk);
        goto done;
    }
    setvbuf(stdout, NULL, _IOFBF, STDOUT_BUFFER_BYTES);
    cim_cli_progress_start(&run->prog);
    for (uint64_t t0 = 0; t0 < o->trials; t0 += (uint64_t)chunk) {
        const uint64_t left = o->trials - t0;
        const int32_t n = left < (uint64_t)chunk ? (int32_t)left : chunk;
        const cim_mvm_job job = {
            .xbar = &run->xbar,
            .weights = w->data,
            .rows = w->rows,
            .cols = w->cols,
            .inputs = x->data,
            .n_inputs = x->rows,
            .input_first = 0,
            .trial_first = (uint32_t)t0,
            .n_trials = n,
            .max_batch_trials = 0,
        };
        if (profiled)
            memset(trace.profile, 0, (size_t)n * slots * sizeof *trace.profile);
        if ((rc = cim_engine_mvm(&run->ocl, &job, results, o->trace || profiled ? &trace : NULL,
                                 err)) != 0 ||
            (rc = print_results(results, (size_t)n * x->rows, w->rows, line, err)) != 0 ||
            (run->h5 &&
             (rc = cim_h5_mvm_write(run->h5, (int64_t)t0, n, results, &trace, err)) != 0))
            goto done;
        for (int32_t t = 0; profiled && t < n; ++t) /* in trial order */
            cim_adc_profile_add(total, trace.profile + (size_t)t * slots, (int64_t)slots);
        cim_cli_progress_update(&run->prog, "mvm", (double)(t0 + (uint64_t)n) / (double)o->trials,
                                t0 + (uint64_t)n, o->trials, "trials");
    }
    if (profiled) {
        static const char *const names[] = {MVM_LAYER_NAME};
        cim_adc_profile shape = cim_adc_profile_of(&run->xbar, total);
        const cim_cli_profiles all = {1, (const char **)names, &shape, &total};
        cim_cli_progress_end(&run->prog);
        cim_cli_profiles_print(&all, stderr);
    }
    cim_cli_disturb_print(&run->disturb, stderr); /* stdout holds the results only */
    if (fflush(stdout) != 0 || ferror(stdout))
        rc = cim_error_set(err, CIM_ERR_IO, "mvm: writing the results to standard output failed");
done:
    free(results);
    free(line);
    free(trace.current);
    free(trace.adc);
    free(trace.profile);
    free(total);
    return rc;
}

/* Publishes the results file: the partial file becomes R.h5. */
static int finish_outputs(mvm_run *run, cim_error *err)
{
    if (!run->h5)
        return 0;
    guard_partial(NULL);
    return cim_h5_mvm_finish(run->h5, err);
}

/* Releases whatever was made; a results file still open is discarded. */
static void release(mvm_run *run)
{
    cim_cli_progress_end(&run->prog);
    guard_partial(NULL);
    cim_h5_mvm_discard(run->h5);
    run->h5 = NULL;
    cim_outfile_release(&run->out, 0);
    if (run->ocl_open)
        cim_ocl_close(&run->ocl);
    cim_provenance_free(&run->prov);
    if (run->cfg_loaded)
        cim_config_free(&run->cfg);
    free(run->w.data);
    free(run->x.data);
    cim_cli_disturb_free(&run->disturb);
}

int cim_cli_mvm(int argc, char **argv)
{
    cim_error err;
    mvm_options o;
    mvm_run run;
    int rc;
    cim_error_clear(&err);
    rc = parse_options(argc - 1, argv + 1, &o, &err);
    if (rc == 1)
        return 0;
    if (rc != 0)
        return cim_cli_report(&err);
    memset(&run, 0, sizeof run);
    run.o = &o;
    if (o.out_path) {
        /* the results file is claimed first: a bad --out fails before any work */
        const cim_outfile_input inputs[] = {{"--config", o.config_path},
                                            {"--weights", o.weights_path},
                                            {"--inputs", o.inputs_path}};
        const cim_outfile_spec out = {.path = o.out_path,
                                      .inputs = inputs,
                                      .n_inputs = (int)(sizeof inputs / sizeof *inputs),
                                      .force = o.force};
        if ((rc = cim_outfile_claim(&out, &run.out, &err)) != 0)
            return cim_cli_report(&err);
    }
    if ((rc = load_problem(&run, &err)) == 0 && (rc = open_outputs(&run, argc, argv, &err)) == 0 &&
        (rc = run_trials(&run, &err)) == 0)
        rc = finish_outputs(&run, &err);
    release(&run);
    return rc == 0 ? 0 : cim_cli_report(&err);
}
