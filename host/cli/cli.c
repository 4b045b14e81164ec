/* cli.c -- helpers that every cimgpu subcommand shares; see cli.h.
 *
 * Numbers on the command line are parsed strictly: strtoull alone accepts
 * leading blanks, a sign (and wraps "-1" to 2^64-1) and trailing junk, so the
 * text is first required to be nothing but decimal digits; overflow is caught
 * through ERANGE. Options taking no argument and long-only options are told
 * apart from short ones by their getopt value: long-only options use values
 * of CIM_CLI_LONG_ONLY (256) and above, which getopt then reports in optopt.
 *
 * The network commands' shared options (cim_cli_network_option) are parsed
 * here once, so that `run` and `calibrate` accept the same values with the
 * same error lines, and their crossbar and inputs are built here once
 * (cim_cli_network_config, cim_cli_load_network_inputs).
 */
#include "cli.h"

#include <errno.h>
#include <float.h>
#include <malloc.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "cim_clock.h"
#include "cim_mapping.h"
#include "cim_ranks.h"

int cim_cli_report(const cim_error *err)
{
    if (!cim_ranks_prints()) /* rank 0 reports for the job */
        return cim_error_exit_code(err->code);
    fprintf(stderr, "%s: %s\n", CIM_CLI_PROGRAM,
            err->msg[0] ? err->msg : cim_error_name(err->code));
    return cim_error_exit_code(err->code);
}

int cim_cli_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *value)
{
    unsigned long long v;
    char *end = NULL;
    if (!text || !*text || strspn(text, "0123456789") != strlen(text))
        return -1;
    errno = 0;
    v = strtoull(text, &end, 10);
    if (errno == ERANGE || !end || *end != '\0' || v < min || v > max)
        return -1;
    *value = (uint64_t)v;
    return 0;
}

void cim_cli_getopt_start(void)
{
    opterr = 0;
    optind = 1;
}

int cim_cli_bad_option(cim_error *err, const char *subcommand, int result, int opt, const char *arg)
{
    char shown[80];
    const char *what = "is unknown";
    if (opt > 0 && opt < CIM_CLI_LONG_ONLY) {
        snprintf(shown, sizeof shown, "-%c", opt);
    } else {
        snprintf(shown, sizeof shown, "%s", arg ? arg : "?");
        if (result == '?' && opt >= CIM_CLI_LONG_ONLY)
            what = "takes no value";
    }
    if (result == ':')
        what = "needs a value";
    return cim_error_set(err, CIM_ERR_USAGE, "%s%soption '%s' %s (see `%s%s%s --help`)", subcommand,
                         subcommand[0] ? ": " : "", shown, what, CIM_CLI_PROGRAM,
                         subcommand[0] ? " " : "", subcommand);
}

int cim_cli_unexpected_argument(cim_error *err, const char *subcommand, const char *arg)
{
    return cim_error_set(err, CIM_ERR_USAGE, "%s: unexpected argument '%s' (see `%s %s --help`)",
                         subcommand, arg, CIM_CLI_PROGRAM, subcommand);
}

int cim_cli_other_option(cim_error *err, const char *subcommand, int c, char **argv,
                         void (*usage)(FILE *out))
{
    if (c == 'h') {
        usage(stdout);
        return 1;
    }
    return cim_cli_bad_option(err, subcommand, c, optopt, argv[optind - 1]);
}

int cim_cli_options_end(cim_error *err, const char *subcommand, int argc, char **argv)
{
    return optind < argc ? cim_cli_unexpected_argument(err, subcommand, argv[optind]) : 0;
}

int cim_cli_help(int argc, char **argv)
{
    static char help_option[] = "--help";
    cim_error err;
    cim_error_clear(&err);
    if (argc > 3) {
        cim_error_set(&err, CIM_ERR_USAGE, "help: unexpected argument '%s' (see `%s --help`)",
                      argv[3], CIM_CLI_PROGRAM);
        return cim_cli_report(&err);
    }
    const char *topic = argc > 2 ? argv[2] : "";
    /* the subcommand's own command line, as `cimgpu TOPIC --help` gives it */
    char *args[] = {argv[0], argc > 2 ? argv[2] : NULL, help_option, NULL};
    if (strcmp(topic, "run") == 0)
        return cim_cli_run(3, args, 2);
    if (strcmp(topic, "mvm") == 0)
        return cim_cli_mvm(3, args);
    if (strcmp(topic, "info") == 0)
        return cim_cli_info(3, args);
    if (strcmp(topic, "calibrate") == 0)
        return cim_cli_calibrate(3, args);
    if (strcmp(topic, "sweep") == 0)
        return cim_cli_sweep(3, args);
    if (strcmp(topic, "export") == 0)
        return cim_cli_export(3, args);
    cim_error_set(&err, CIM_ERR_USAGE, "help: unknown subcommand '%s' (see `%s --help`)", topic,
                  CIM_CLI_PROGRAM);
    return cim_cli_report(&err);
}

#define CIM_PROGRESS_AFTER_S 1.0 /* work shorter than this shows no progress */
#define CIM_PROGRESS_EVERY_S 0.5
#define CIM_PROGRESS_LINE_EVERY_S 10.0 /* lines, under an MPI launcher (no terminal) */

void cim_cli_progress_start(cim_cli_progress *p)
{
    /* a job of several ranks reports on rank 0, whose stderr the launcher
     * forwards (a pipe, a batch log): whole lines, every 10 s */
    p->lines = !isatty(STDERR_FILENO) && cim_ranks_many() && cim_ranks_prints();
    p->enabled = (isatty(STDERR_FILENO) && cim_ranks_prints()) || p->lines;
    p->shown = 0;
    p->start = p->last = cim_clock_now_s();
}

/* h:mm:ss, or m:ss under an hour. */
static void format_duration(double seconds, char *out, size_t n)
{
    const long long s = seconds > 0 ? (long long)(seconds + 0.5) : 0;
    if (s >= 3600)
        snprintf(out, n, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(out, n, "%lld:%02lld", s / 60, s % 60);
}

void cim_cli_progress_update(cim_cli_progress *p, const char *what, double fraction, uint64_t done,
                             uint64_t total, const char *unit)
{
    double t;
    if (!p->enabled)
        return;
    t = cim_clock_now_s();
    if (t - p->start < CIM_PROGRESS_AFTER_S ||
        (p->shown && t - p->last < (p->lines ? CIM_PROGRESS_LINE_EVERY_S : CIM_PROGRESS_EVERY_S)))
        return;
    char elapsed[32], left[32] = "";
    format_duration(t - p->start, elapsed, sizeof elapsed);
    if (fraction > 0.0 && fraction < 1.0)
        format_duration((t - p->start) * (1.0 - fraction) / fraction, left, sizeof left);
    fprintf(stderr, "%scimgpu: %s: %llu of %llu %s (%d%%), %s elapsed%s%s%s%s",
            p->lines ? "" : "\r\033[K", what, (unsigned long long)done, (unsigned long long)total,
            unit, (int)(100.0 * fraction), elapsed, *left ? ", about " : "", left,
            *left ? " left" : "", p->lines ? "\n" : "");
    fflush(stderr);
    p->shown = 1;
    p->last = t;
}

void cim_cli_progress_end(cim_cli_progress *p)
{
    if (p->shown && !p->lines)
        fputs("\r\033[K", stderr);
    p->shown = 0;
}

const char *cim_cli_model_dir(void)
{
    const char *dir = getenv(MODEL_DIR_ENV);
    return dir && *dir ? dir : CIM_MODEL_DIR;
}

void cim_cli_keep_freed_memory(void)
{
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

int cim_cli_parse_double(const char *text, double lo, double hi, double *value)
{
    char *end = NULL;
    double d;
    if (!text || !*text)
        return -1;
    d = strtod(text, &end);
    if (*end || !isfinite(d) || d < lo || d > hi)
        return -1;
    *value = d;
    return 0;
}

void cim_cli_network_defaults(cim_cli_network_options *o, const char *split, uint64_t images,
                              uint64_t trials, uint64_t max_trials)
{
    memset(o, 0, sizeof *o);
    o->data = CIM_IDX_DEFAULT_DIR;
    o->split = split;
    o->images = images;
    o->trials = trials;
    o->max_trials = max_trials;
    o->adc_bits = -1;
    o->first_layer = CIM_PIXELS_ON_HOST;
}

/* A shared option's bad value: "<subcommand>: --<name> '<value>': expected
 * <what>". Returns CIM_ERR_USAGE. */
static int bad_value(cim_error *err, const char *subcommand, const char *name, const char *arg,
                     const char *expected)
{
    return cim_error_set(err, CIM_ERR_USAGE, "%s: --%s '%s': expected %s", subcommand, name, arg,
                         expected);
}

static int parse_sigma(const char *subcommand, const char *name, const char *a, double *v,
                       int *given, cim_error *err)
{
    char expected[80];
    if (cim_cli_parse_double(a, 0, CIM_CONFIG_MAX_UA, v) != 0) {
        snprintf(expected, sizeof expected, "a sigma in uA from 0 to %g", CIM_CONFIG_MAX_UA);
        return bad_value(err, subcommand, name, a, expected);
    }
    *given = 1;
    return 0;
}

static int parse_probability(const char *subcommand, const char *name, const char *a, double *v,
                             int *given, cim_error *err)
{
    if (cim_cli_parse_double(a, 0, 1, v) != 0)
        return bad_value(err, subcommand, name, a, "a probability from 0 to 1");
    *given = 1;
    return 0;
}

int cim_cli_network_option(const char *subcommand, int c, const char *a, cim_cli_network_options *o,
                           cim_error *err)
{
    static const struct {
        const char *name;
        int strategy;
    } strategies[] = {{"OFF", CIM_DISTURB_OFF},
                      {"SOFTWARE", CIM_DISTURB_SOFTWARE},
                      {"CELL_BASED", CIM_DISTURB_CELL_BASED}};
    char expected[96];
    uint64_t u;
    switch (c) {
    case CIM_CLI_OPT_MODEL:
        o->model = a;
        return 0;
    case CIM_CLI_OPT_DATA:
        o->data = a;
        return 0;
    case CIM_CLI_OPT_SPLIT:
        o->split = a;
        return 0;
    case CIM_CLI_OPT_CONFIG:
        o->config = a;
        return 0;
    case CIM_CLI_OPT_MAPPING:
        o->mapping = a;
        return 0;
    case CIM_CLI_OPT_DEVICE:
        o->device = a;
        return 0;
    case CIM_CLI_OPT_C2C:
        o->c2c = 1;
        return 0;
    case CIM_CLI_OPT_C2C_MODEL: {
        int model = CIM_C2C_MODEL_CELL;
        const int rc = cim_cli_parse_c2c_model(subcommand, a, &model, err);
        if (rc == 0)
            o->c2c_model = 1 + model;
        return rc;
    }
    case CIM_CLI_OPT_IMAGES:
        if (cim_cli_parse_u64(a, 1, CIM_IDX_MAX_COUNT, &o->images) != 0)
            return bad_value(err, subcommand, "images", a, "a count of at least 1");
        return 0;
    case CIM_CLI_OPT_FIRST_IMAGE:
        if (cim_cli_parse_u64(a, 0, CIM_IDX_MAX_COUNT, &o->first_image) != 0)
            return bad_value(err, subcommand, "first-image", a, "an image index");
        return 0;
    case CIM_CLI_OPT_TRIALS:
        if (cim_cli_parse_u64(a, 1, o->max_trials, &o->trials) != 0) {
            snprintf(expected, sizeof expected, "an integer from 1 to %llu",
                     (unsigned long long)o->max_trials);
            return bad_value(err, subcommand, "trials", a, expected);
        }
        return 0;
    case CIM_CLI_OPT_SEED:
        if (cim_cli_parse_u64(a, 0, UINT64_MAX, &o->seed) != 0)
            return bad_value(err, subcommand, "seed", a,
                             "a decimal integer from 0 to 18446744073709551615");
        return 0;
    case CIM_CLI_OPT_ADC_BITS:
        if (cim_cli_parse_u64(a, 0, CIM_ADC_MAX_BITS, &u) != 0) {
            snprintf(expected, sizeof expected, "0 (ideal) or 1..%d", CIM_ADC_MAX_BITS);
            return bad_value(err, subcommand, "adc-bits", a, expected);
        }
        o->adc_bits = (int)u;
        return 0;
    case CIM_CLI_OPT_FIRST_LAYER:
        if (strcmp(a, "host") == 0)
            o->first_layer = CIM_PIXELS_ON_HOST;
        else if (strcmp(a, "crossbar") == 0)
            o->first_layer = CIM_PIXELS_ON_CROSSBAR;
        else
            return bad_value(err, subcommand, "first-layer", a, "host or crossbar");
        return 0;
    case CIM_CLI_OPT_LRS_NOISE:
        return parse_sigma(subcommand, "lrs-noise", a, &o->lrs_noise, &o->has_lrs_noise, err);
    case CIM_CLI_OPT_HRS_NOISE:
        return parse_sigma(subcommand, "hrs-noise", a, &o->hrs_noise, &o->has_hrs_noise, err);
    case CIM_CLI_OPT_SAF_HRS:
        return parse_probability(subcommand, "saf-hrs", a, &o->saf_hrs, &o->has_saf_hrs, err);
    case CIM_CLI_OPT_SAF_LRS:
        return parse_probability(subcommand, "saf-lrs", a, &o->saf_lrs, &o->has_saf_lrs, err);
    case CIM_CLI_OPT_W_RES:
        if (cim_cli_parse_double(a, 0, CIM_CONFIG_MAX_W_RES, &o->w_res) != 0) {
            snprintf(expected, sizeof expected, "a wire resistance in ohm from 0 to %g",
                     CIM_CONFIG_MAX_W_RES);
            return bad_value(err, subcommand, "w-res", a, expected);
        }
        o->has_w_res = 1;
        return 0;
    case CIM_CLI_OPT_V_READ:
        if (cim_cli_parse_double(a, -CIM_CONFIG_MAX_V_READ, 0, &o->v_read) != 0 ||
            !(o->v_read < 0)) {
            snprintf(expected, sizeof expected, "a read voltage from %g to below 0 V",
                     -CIM_CONFIG_MAX_V_READ);
            return bad_value(err, subcommand, "v-read", a, expected);
        }
        o->has_v_read = 1;
        return 0;
    case CIM_CLI_OPT_READ_DISTURB:
        for (size_t k = 0; k < sizeof strategies / sizeof *strategies; ++k)
            if (strcmp(a, strategies[k].name) == 0) {
                o->read_disturb = 1 + strategies[k].strategy;
                return 0;
            }
        return bad_value(err, subcommand, "read-disturb", a, "OFF, SOFTWARE or CELL_BASED");
    case CIM_CLI_OPT_T_READ:
        /* as the t_read key: any finite duration > 0 */
        if (cim_cli_parse_double(a, 0, DBL_MAX, &o->t_read) != 0 || !(o->t_read > 0))
            return bad_value(err, subcommand, "t-read", a, "the duration of one read in s, > 0");
        o->has_t_read = 1;
        return 0;
    case CIM_CLI_OPT_SET:
        if (o->n_set == CIM_CLI_MAX_SETS)
            return cim_error_set(err, CIM_ERR_USAGE, "%s: more than %d --set options", subcommand,
                                 CIM_CLI_MAX_SETS);
        o->set[o->n_set++] = a;
        return 0;
    default:
        return -1;
    }
}

void cim_cli_crossbar_flags_usage(FILE *out)
{
    fprintf(
        out,
        "  --set KEY=VALUE    a config key over --config (repeatable): VALUE is JSON, or a\n"
        "                     word taken as a string (--set M=128 --set m_mode=BNN_III\n"
        "                     --set 'adc_calib_dict={\"004_conv2d\": [-40, 40]}')\n"
        "  --lrs-noise U      sigma of LRS cells in uA, D2D and C2C alike (0..%g)\n"
        "  --hrs-noise U      sigma of HRS cells in uA, D2D and C2C alike (0..%g)\n"
        "  --c2c              turns C2C (a fresh deviation per read) on\n"
        "  --c2c-model M      how C2C reads are simulated (c2c_model): cell (default: a\n"
        "                     deviation per cell, clipped at 0) or column (one Gaussian per\n"
        "                     column read where the clipping bound allows; the run prints\n"
        "                     the bound per layer, docs/physics/c2c_column.md)\n"
        "  --w-res OHM        bit-line IR drop on (parasitics), with this wire resistance per\n"
        "                     segment (0..%g ohm; 0: ideal wires)\n"
        "  --v-read V         read voltage, %g <= V < 0 (IR drop and read disturb use |V_read|)\n"
        "  --read-disturb S   read disturb on, with mitigation strategy S: OFF, SOFTWARE\n"
        "                     (read_disturb_mitigation_fp) or CELL_BASED\n"
        "                     (read_disturb_update_tolerance); each chip reads the images\n"
        "                     in order\n"
        "  --t-read S         duration of one read in s (read disturb), > 0\n"
        "  --saf-hrs P        probability that a cell is stuck at HRS (SAF_HRS, 0..1)\n"
        "  --saf-lrs P        probability that a cell is stuck at LRS (SAF_LRS, 0..1);\n"
        "                     SAF_HRS + SAF_LRS <= 1; faults apply in digital_only too\n",
        CIM_CONFIG_MAX_UA, CIM_CONFIG_MAX_UA, CIM_CONFIG_MAX_W_RES, -CIM_CONFIG_MAX_V_READ);
}

int cim_cli_network_config(const char *subcommand, const cim_cli_network_options *o,
                           cim_config *cfg, cim_error *err)
{
    cim_config base;
    int rc;
    if (!o->config) {
        rc = cim_config_run_default(cfg, err);
    } else if ((rc = cim_config_run_default(&base, err)) == 0) {
        rc = cim_config_load_over(o->config, &base, cfg, err);
        cim_config_free(&base);
    }
    if (rc == 0 && o->n_set > 0) {
        cim_config over;
        rc = cim_config_apply_sets(cfg, o->set, o->n_set, "--set", &over, err);
        cim_config_free(cfg);
        *cfg = over; /* the defaults after an error */
    }
    if (rc != 0)
        return rc;
    if (o->mapping && cim_mapping_from_name(o->mapping, &cfg->mapping) != 0)
        return cim_error_set(err, CIM_ERR_USAGE,
                             "%s: --mapping '%s': expected BNN_I..BNN_VI or TNN_I..TNN_V",
                             subcommand, o->mapping);
    if (o->adc_bits >= 0) {
        cim_config_set_adc_bits(cfg, o->adc_bits); /* keeps MAX or CALIB */
    } else if (o->mapping && cfg->adc_type != CIM_ADC_INF) {
        /* a new mapping may need the other finite ADC type */
        cfg->adc_type = cim_config_finite_adc_type(cfg->mapping);
    }
    if (o->has_lrs_noise)
        cfg->lrs_noise_ua = cfg->lrs_noise_c2c_ua = o->lrs_noise;
    if (o->has_hrs_noise)
        cfg->hrs_noise_ua = cfg->hrs_noise_c2c_ua = o->hrs_noise;
    if (o->c2c)
        cfg->c2c_var = 1;
    if (o->c2c_model)
        cfg->c2c_model = o->c2c_model - 1;
    if (o->has_w_res) {
        cfg->parasitics = 1;
        cfg->w_res = o->w_res;
    }
    if (o->has_v_read)
        cfg->v_read = o->v_read;
    if (o->read_disturb) {
        cfg->read_disturb = 1;
        cfg->read_disturb_mitigation_strategy = o->read_disturb - 1;
    }
    if (o->has_t_read)
        cfg->t_read = o->t_read;
    if (o->has_saf_hrs)
        cfg->saf_hrs = o->saf_hrs;
    if (o->has_saf_lrs)
        cfg->saf_lrs = o->saf_lrs;
    return 0;
}

void cim_cli_c2c_report(const char *subcommand, const cim_plan *plan, FILE *header)
{
    int asked = 0;
    for (int32_t l = 0; l < plan->num_layers; ++l)
        asked |= cim_plan_on_crossbar(&plan->layers[l]) && plan->layers[l].c2c.asked;
    if (!asked)
        return;
    if (header)
        fprintf(header,
                "C2C model: column asked: one Gaussian per cell group and column read where the "
                "clipping bound E|I_cell - I_column| <= %g%% of LRS - HRS (%.6g nA), else per "
                "cell\n",
                100 * CIM_C2C_COLUMN_MAX_DIFF, plan->layers[plan->first_crossbar].c2c.limit_na);
    for (int32_t l = 0; l < plan->num_layers; ++l) {
        const cim_layer_plan *lp = &plan->layers[l];
        const cim_c2c_bound *b = &lp->c2c;
        if (!cim_plan_on_crossbar(lp))
            continue;
        if (header)
            fprintf(header,
                    "C2C bound %s: %s; P(a column read differs) <= %.6g, E|I_cell - I_column| <= "
                    "%.6g nA (%lld cells per read)\n",
                    lp->layer->name, cim_c2c_bound_model(b), b->p_differs, b->e_diff_na,
                    (long long)b->n_cells);
        if (b->asked && !b->used)
            fprintf(stderr,
                    CIM_CLI_PROGRAM ": %s: layer %s reads C2C per cell: the column law's clipping "
                                    "bound E|I_cell - I_column| <= %.6g nA exceeds %g%% of LRS - "
                                    "HRS (%.6g nA)\n",
                    subcommand, lp->layer->name, b->e_diff_na, 100 * CIM_C2C_COLUMN_MAX_DIFF,
                    b->limit_na);
    }
}

int cim_cli_parse_c2c_model(const char *subcommand, const char *arg, int *model, cim_error *err)
{
    if (strcmp(arg, "cell") == 0)
        *model = CIM_C2C_MODEL_CELL;
    else if (strcmp(arg, "column") == 0)
        *model = CIM_C2C_MODEL_COLUMN;
    else
        return bad_value(err, subcommand, "c2c-model", arg, "cell or column");
    return 0;
}

void cim_cli_model_path(const cim_cli_network_options *o, char *path, size_t n)
{
    if (o->model)
        snprintf(path, n, "%s", o->model);
    else
        snprintf(path, n, "%s/%s", cim_cli_model_dir(), CIM_CLI_DEFAULT_MODEL);
}

int cim_cli_load_network_inputs(const cim_cli_network_options *o, const cim_config *cfg,
                                cim_cli_network_inputs *in, cim_error *err)
{
    int rc;
    cim_cli_model_path(o, in->model_path, sizeof in->model_path);
    if ((rc = cim_model_load(in->model_path, &in->model, err)) != 0 ||
        (rc = cim_dataset_load_split(o->data, o->split, &in->all, err)) != 0 ||
        (rc = cim_dataset_check_input_shape(&in->all, &in->model, err)) != 0 ||
        (rc = cim_dataset_subset(&in->all, (int64_t)o->first_image, (int64_t)o->images, &in->data,
                                 err)) != 0)
        return rc;
    for (int32_t k = 0; k < in->data.count; ++k)
        if (in->data.labels[k] >= in->model.num_classes)
            return cim_error_set(
                err, CIM_ERR_INPUT, "%s: label %d of image %lld is not a class of %s (%d classes)",
                in->all.labels_path, in->data.labels[k], (long long)(o->first_image + (uint64_t)k),
                in->model_path, in->model.num_classes);
    if ((rc = cim_plan_init(&in->plan, &in->model, cfg, o->seed, o->first_layer, err)) != 0)
        return rc;
    if (in->plan.n_crossbar == 0)
        return cim_error_set(
            err, CIM_ERR_INPUT,
            "%s: no layer runs on crossbars (no dense or conv2d layer "
            "with binary or ternary inputs; --first-layer crossbar adds those on raw pixels)",
            in->model_path);
    return cim_cli_check_read_keys(&in->plan, (int64_t)o->first_image, in->data.count,
                                   in->model_path, err);
}

void cim_cli_network_inputs_free(cim_cli_network_inputs *in)
{
    cim_plan_free(&in->plan);
    cim_dataset_free(&in->data);
    cim_dataset_free(&in->all);
    cim_model_free(&in->model);
}

int cim_cli_check_read_keys(const cim_plan *plan, int64_t first_image, int64_t count,
                            const char *model_path, cim_error *err)
{
    /* C2C input keys are 32-bit: image index x vectors per image (cim_plan.h) */
    const int64_t per_image = plan->vectors_per_image;
    const int64_t images_end = first_image + count;
    if (per_image > 0 && images_end > ((int64_t)1 << 32) / per_image)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%s: images up to index %lld x %lld crossbar input vectors each "
                             "exceed the 2^32 read keys; use fewer or earlier images",
                             model_path, (long long)images_end - 1, (long long)per_image);
    return 0;
}

int cim_cli_open_device(cim_ocl *ocl, const char *spec, cim_error *err)
{
    return cim_ocl_open_for(ocl, spec, cim_ranks_self()->local_rank, err);
}

void cim_cli_set_provenance_device(cim_provenance *p, const cim_ocl *ocl)
{
    cim_provenance_set_device(p, ocl);
    if (!cim_ranks_many())
        return;
    const size_t len = strlen(p->device);
    const int nodes = cim_ranks_nodes();
    snprintf(p->device + len, sizeof p->device - len,
             "; MPI: %d ranks on %d node%s (%s), rank 0's device above, each rank its own",
             cim_ranks_self()->size, nodes, nodes == 1 ? "" : "s", cim_ranks_self()->library);
}

void cim_cli_work_print(const cim_mc_work_stats *w, FILE *out)
{
    const cim_ranks *r = cim_ranks_self();
    if (!cim_ranks_many())
        return;
    fprintf(out,
            CIM_CLI_PROGRAM ": %d ranks on %s: %lld work items (%lld on rank 0), %.3f s of "
                            "compute summed over ranks in %.3f s (%.0f%% of %d ranks); rank 0 "
                            "received %lld bytes in %.3f ms, wrote for %.3f ms, waited %.3f ms\n",
            r->size, r->library, (long long)w->items, (long long)w->items_here, w->compute_s,
            w->wall_s, w->wall_s > 0 ? 100.0 * w->compute_s / (w->wall_s * r->size) : 0.0, r->size,
            (long long)w->bytes_received, 1e3 * w->receive_s, 1e3 * w->deliver_s, 1e3 * w->wait_s);
}
