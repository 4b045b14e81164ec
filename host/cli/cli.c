/* cli.c -- helpers that every cimgpu subcommand shares; see cli.h.
 *
 * Numbers on the command line are parsed strictly: strtoull alone accepts
 * leading blanks, a sign (and wraps "-1" to 2^64-1) and trailing junk, so the
 * text is first required to be nothing but decimal digits; overflow is caught
 * through ERANGE. Options taking no argument and long-only options are told
 * apart from short ones by their getopt value: long-only options use values
 * of CIM_CLI_LONG_ONLY (256) and above, which getopt then reports in optopt.
 */
#include "cli.h"

#include <errno.h>
#include <malloc.h>
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "cim_clock.h"
#include "cim_mapping.h"

int cim_cli_report(const cim_error *err)
{
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
    cim_error_set(&err, CIM_ERR_USAGE, "help: unknown subcommand '%s' (see `%s --help`)", topic,
                  CIM_CLI_PROGRAM);
    return cim_cli_report(&err);
}

#define CIM_PROGRESS_AFTER_S 1.0 /* work shorter than this shows no progress */
#define CIM_PROGRESS_EVERY_S 0.5

void cim_cli_progress_start(cim_cli_progress *p)
{
    p->enabled = isatty(STDERR_FILENO);
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
    if (t - p->start < CIM_PROGRESS_AFTER_S || (p->shown && t - p->last < CIM_PROGRESS_EVERY_S))
        return;
    char elapsed[32], left[32] = "";
    format_duration(t - p->start, elapsed, sizeof elapsed);
    if (fraction > 0.0 && fraction < 1.0)
        format_duration((t - p->start) * (1.0 - fraction) / fraction, left, sizeof left);
    fprintf(stderr, "\r\033[Kcimgpu: %s: %llu of %llu %s (%d%%), %s elapsed%s%s%s", what,
            (unsigned long long)done, (unsigned long long)total, unit, (int)(100.0 * fraction),
            elapsed, *left ? ", about " : "", left, *left ? " left" : "");
    fflush(stderr);
    p->shown = 1;
    p->last = t;
}

void cim_cli_progress_end(cim_cli_progress *p)
{
    if (p->shown)
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

int cim_cli_network_config(const char *subcommand, const char *config_path, const char *mapping,
                           int adc_bits, cim_config *cfg, cim_error *err)
{
    cim_config base;
    int rc;
    if (!config_path) {
        rc = cim_config_run_default(cfg, err);
    } else if ((rc = cim_config_run_default(&base, err)) == 0) {
        rc = cim_config_load_over(config_path, &base, cfg, err);
        cim_config_free(&base);
    }
    if (rc != 0)
        return rc;
    if (mapping && cim_mapping_from_name(mapping, &cfg->mapping) != 0)
        return cim_error_set(err, CIM_ERR_USAGE,
                             "%s: --mapping '%s': expected BNN_I..BNN_VI or TNN_I..TNN_V",
                             subcommand, mapping);
    if (adc_bits >= 0) {
        cim_config_set_adc_bits(cfg, adc_bits); /* keeps MAX or CALIB */
    } else if (mapping && cfg->adc_type != CIM_ADC_INF) {
        /* a new mapping may need the other finite ADC type */
        cfg->adc_type = cim_config_finite_adc_type(cfg->mapping);
    }
    return 0;
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
