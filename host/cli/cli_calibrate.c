/* cli_calibrate.c -- `cimgpu calibrate`: profiles the ADC inputs of a model's
 * crossbar layers on a set of images and writes the config that calibrates
 * each layer's ADC range from its profile (docs/physics/adc_profile.md).
 *
 * The run is `cimgpu run`'s network Monte-Carlo with adc_profile on: the
 * options both take (model, images, chips, --config and every crossbar flag,
 * --lrs-noise .. --saf-lrs) are parsed and applied by the same code
 * (cim_cli_network_option, cim_cli_network_config in cli.h), so that a
 * calibration profiles the chips a run of the same flags measures, with the
 * same keyed random draws (a calibration is repeatable),
 * by default on the TRAINING split of the dataset folder: a range fitted on
 * the images that later measure accuracy would flatter it. The evaluation
 * split is used only when --split names it, and then with a note on stderr;
 * a missing training split is an error, never a silent fall-back.
 *
 * Output (--out FILE, or stdout): the profiling config, fully resolved, with
 * adc_calib_mode "CALIB", the adc_calib_dict of every crossbar layer by its
 * model name, adc_profile off, and adc_calib_info recording the rule and
 * where the profile came from (the config parser keeps that object and the
 * results files of later runs carry it in their config_json). `cimgpu run
 * --config FILE` reads it back as it is.
 *
 * Ownership: a calib_state holds what one run allocates; release() frees it.
 */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim_adc_profile.h"
#include "cim_build_info.h"
#include "cim_config.h"
#include "cim_idx.h"
#include "cim_mapping.h"
#include "cim_model.h"
#include "cim_montecarlo.h"
#include "cim_ocl.h"
#include "cim_plan.h"
#include "cim_profile.h"
#include "cli.h"
#include "cli_profile.h"

#define DEFAULT_SPLIT "train"
#define EVALUATION_SPLIT "t10k"       /* what `cimgpu run` measures accuracy on */
#define CIFAR_EVALUATION_SPLIT "test" /* the same split of a CIFAR folder (cim_cifar.h) */
#define DEFAULT_IMAGES 1000
#define DEFAULT_TRIALS 1
#define DEFAULT_COVERAGE 0.999
#define MAX_TRIALS 1000000ULL

typedef struct calib_options {
    cim_cli_network_options net; /* model, images, chips, crossbar (cli.h) */
    const char *out, *rule_name;
    uint64_t bin_size;
    double coverage;
    int has_rule, has_bin_size, has_coverage;
} calib_options;

typedef struct calib_state {
    calib_options o;
    cim_config cfg;
    cim_cli_network_inputs in; /* model, images and the layer plan */
    cim_ocl ocl;
    int ocl_open;
    cim_cli_profiles prof;
    cim_calib_rule rule;
} calib_state;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: cimgpu calibrate [--model M.h5] [--data DIR] [--split NAME] [--images K]\n"
            "                        [--first-image F] [--trials T] [--seed S]\n"
            "                        [--config CFG.json] [--mapping NAME] [--adc-bits B]\n"
            "                        [--lrs-noise U] [--hrs-noise U] [--c2c]\n"
            "                        [--c2c-model cell|column]\n"
            "                        [--w-res OHM] [--v-read V]\n"
            "                        [--read-disturb OFF|SOFTWARE|CELL_BASED] [--t-read S]\n"
            "                        [--saf-hrs P] [--saf-lrs P] [--set KEY=VALUE]\n"
            "                        [--first-layer host|crossbar] [--bin-size U]\n"
            "                        [--rule auto|mean3sigma|range|quantile] [--coverage C]\n"
            "                        [--out CALIB.json] [--device SPEC]\n"
            "\n"
            "Profiles the ADC input (the column current of every conversion) of each crossbar\n"
            "layer over --trials chips and --images images, and writes a config whose\n"
            "adc_calib_dict gives each layer the range its profile calls for; `cimgpu run\n"
            "--config CALIB.json` takes it. The crossbar is `cimgpu run`'s (default crossbar,\n"
            "--config read over it, then the flags, the crossbar flags among them) and needs a\n"
            "finite ADC: the bits matter, as each layer's profile sees the quantised outputs\n"
            "of the layers before it. Give the flags the later runs take, so that the\n"
            "calibration profiles the same chips.\n"
            "\n"
            "Rules (recorded in the output's adc_calib_info):\n"
            "  mean3sigma  [mean - 3 std, mean + 3 std] of the profile\n"
            "  range       the occupied bins: [first label - bin, last label], at least 0\n"
            "  quantile    the central --coverage of all samples, at bin edges\n"
            "  auto        (default) the reference flow's: mean3sigma for signed column\n"
            "              currents (SYM_RANGE_ADC), range for non-negative ones\n"
            "\n"
            "Options:\n"
            "  --model M.h5       model file (default %s/%s)\n"
            "  --data DIR         dataset folder (default %s), recognised by its\n"
            "                     files: IDX, or CIFAR-10's or CIFAR-100's python batches\n"
            "                     (docs/datasets.md)\n"
            "  --split NAME       IDX: the images DIR/NAME-images-idx3-ubyte (or -idx4-ubyte);\n"
            "                     CIFAR: test or train (default %s: the training images; the\n"
            "                     evaluation split %s or %s only when named, with a note)\n"
            "  --images K         images per chip (default %d)\n"
            "  --first-image F    dataset index of the first image (default 0)\n"
            "  --trials T         chips profiled, their counts added (default %d, at most %llu)\n"
            "  --seed S           random seed, 0..2^64-1 (default 0)\n"
            "  --config CFG.json  crossbar config, read over the default crossbar; its\n"
            "                     adc_profile_bin_size is the bin width\n"
            "  --mapping NAME     BNN_I..BNN_VI, TNN_I..TNN_V\n"
            "  --adc-bits B       B-bit ADC of the type the mapping needs, 1..%d (0, the ideal\n"
            "                     ADC, has no range to calibrate)\n",
            CIM_MODEL_DIR, CIM_CLI_DEFAULT_MODEL, CIM_IDX_DEFAULT_DIR, DEFAULT_SPLIT,
            EVALUATION_SPLIT, CIFAR_EVALUATION_SPLIT, DEFAULT_IMAGES, DEFAULT_TRIALS,
            (unsigned long long)MAX_TRIALS, CIM_ADC_MAX_BITS);
    cim_cli_crossbar_flags_usage(out);
    fprintf(out,
            "  --first-layer W    host (exact, default) or crossbar (bit-sliced)\n"
            "  --bin-size U       histogram bin width, a whole number of uA (default: the\n"
            "                     config's adc_profile_bin_size, 10)\n"
            "  --rule R           auto, mean3sigma, range or quantile\n"
            "  --coverage C       quantile: the fraction of samples inside, 0 < C <= 1\n"
            "                     (default %g)\n"
            "  --out CALIB.json   where the config goes (default standard output)\n"
            "  --device SPEC      OpenCL device (see `cimgpu info`)\n"
            "  -h, --help         show this help and exit (also `cimgpu help calibrate`)\n"
            "\n"
            "The per-layer profile summary goes to stderr.\n",
            DEFAULT_COVERAGE);
}

enum { OPT_BIN_SIZE = CIM_CLI_OPT_NETWORK_END, OPT_RULE, OPT_COVERAGE, OPT_OUT };

static int parse_options(int argc, char **argv, calib_options *o, cim_error *err)
{
    static const struct option opts[] = {CIM_CLI_NETWORK_OPTIONS,
                                         {"bin-size", required_argument, 0, OPT_BIN_SIZE},
                                         {"rule", required_argument, 0, OPT_RULE},
                                         {"coverage", required_argument, 0, OPT_COVERAGE},
                                         {"out", required_argument, 0, OPT_OUT},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c, rc;
    cim_cli_network_defaults(&o->net, DEFAULT_SPLIT, DEFAULT_IMAGES, DEFAULT_TRIALS, MAX_TRIALS);
    o->coverage = DEFAULT_COVERAGE;
    cim_cli_getopt_start();
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        const char *a = optarg;
        if ((rc = cim_cli_network_option("calibrate", c, a, &o->net, err)) >= 0) {
            if (rc != 0)
                return rc;
            continue;
        }
        switch (c) {
        case OPT_OUT:
            o->out = a;
            break;
        case OPT_BIN_SIZE:
            if (cim_cli_parse_u64(a, 1, CIM_CONFIG_MAX_PROFILE_BIN_UA, &o->bin_size) != 0)
                return cim_error_set(err, CIM_ERR_USAGE,
                                     "calibrate: --bin-size '%s': expected an integer from 1 to %d",
                                     a, CIM_CONFIG_MAX_PROFILE_BIN_UA);
            o->has_bin_size = 1;
            break;
        case OPT_RULE:
            o->rule_name = a;
            o->has_rule = strcmp(a, "auto") != 0;
            if (o->has_rule) {
                cim_calib_rule r;
                if (cim_calib_rule_from_name(a, &r) != 0)
                    return cim_error_set(
                        err, CIM_ERR_USAGE,
                        "calibrate: --rule '%s': expected auto, mean3sigma, range or quantile", a);
            }
            break;
        case OPT_COVERAGE:
            /* (0, 1]: 0 itself is no coverage */
            if (cim_cli_parse_double(a, 0, 1, &o->coverage) != 0 || !(o->coverage > 0))
                return cim_error_set(err, CIM_ERR_USAGE,
                                     "calibrate: --coverage '%s': expected a fraction in (0, 1]",
                                     a);
            o->has_coverage = 1;
            break;
        default:
            return cim_cli_other_option(err, "calibrate", c, argv, usage);
        }
    }
    if ((rc = cim_cli_options_end(err, "calibrate", argc, argv)) != 0)
        return rc;
    if (o->has_coverage && !(o->rule_name && strcmp(o->rule_name, "quantile") == 0))
        return cim_error_set(err, CIM_ERR_USAGE, "calibrate: --coverage needs --rule quantile");
    return 0;
}

/* The crossbar: `cimgpu run`'s, then profiling on with the bin width. */
static int build_config(calib_state *s, cim_error *err)
{
    const calib_options *o = &s->o;
    int rc = cim_cli_network_config("calibrate", &o->net, &s->cfg, err);
    if (rc != 0)
        return rc;
    if (s->cfg.digital || s->cfg.adc_type == CIM_ADC_INF)
        return cim_error_set(err, CIM_ERR_USAGE,
                             "calibrate: the crossbar has %s; give --adc-bits B (the ADC to "
                             "calibrate) or a config with adc_type and resolution",
                             s->cfg.digital ? "no ADC (digital_only)" : "the ideal ADC (INF_ADC)");
    s->cfg.adc_profile = 1;
    if (o->has_bin_size)
        s->cfg.adc_profile_bin_size = (int)o->bin_size;
    if ((rc = cim_config_validate(&s->cfg, err)) != 0)
        return rc;
    cim_calib_rule r = cim_calib_rule_default(CIM_MAPPINGS[s->cfg.mapping].signed_current);
    if (o->has_rule)
        cim_calib_rule_from_name(o->rule_name, &r);
    s->rule = r;
    return 0;
}

/* The shared inputs (cli.h), a note when they are the evaluation images
 * (and for each layer the C2C column law leaves to the per-cell reads), and
 * the profile counters. */
static int load_inputs(calib_state *s, cim_error *err)
{
    const cim_cli_network_options *o = &s->o.net;
    int rc = cim_cli_load_network_inputs(o, &s->cfg, &s->in, err);
    if (rc != 0)
        return rc;
    if (strcmp(o->split, EVALUATION_SPLIT) == 0 || strcmp(o->split, CIFAR_EVALUATION_SPLIT) == 0)
        fprintf(stderr,
                CIM_CLI_PROGRAM ": note: calibrating on the evaluation split %s (as asked): "
                                "accuracy measured on these images afterwards is optimistic\n",
                o->split);
    cim_cli_c2c_report("calibrate", &s->in.plan, NULL); /* layers the column law leaves */
    return cim_cli_profiles_init(&s->prof, &s->in.plan, err);
}

static int profile_sink(void *ctx, int64_t trial_first, int32_t n, uint64_t *const *profiles,
                        cim_error *err)
{
    calib_state *s = ctx;
    (void)trial_first, (void)err;
    cim_cli_profiles_add(&s->prof, n, (const uint64_t *const *)profiles);
    return 0;
}

static int ignore_trials(void *ctx, const cim_mc_chunk *chunk, cim_error *err)
{
    (void)ctx, (void)chunk, (void)err;
    return 0;
}

/* adc_calib_info: the rule and the provenance of the profile. */
static cJSON *calib_info(const calib_state *s)
{
    const calib_options *o = &s->o;
    cJSON *info = cJSON_CreateObject(), *layers = cJSON_CreateObject();
    cJSON_AddStringToObject(info, "tool", "cimgpu calibrate " CIM_VERSION);
    cJSON_AddStringToObject(info, "git_revision", cim_git_revision);
    cJSON_AddStringToObject(info, "rule", cim_calib_rule_name(s->rule));
    if (s->rule == CIM_CALIB_RULE_QUANTILE)
        cJSON_AddNumberToObject(info, "coverage", o->coverage);
    cJSON_AddNumberToObject(info, "bin_size", s->cfg.adc_profile_bin_size);
    cJSON_AddNumberToObject(info, "resolution", s->cfg.resolution);
    cJSON_AddStringToObject(info, "model", s->in.model_path);
    cJSON_AddStringToObject(info, "model_sha256", s->in.model.sha256_hex);
    cJSON_AddStringToObject(info, "dataset_images", s->in.all.images_path);
    cJSON_AddStringToObject(info, "split", o->net.split);
    cJSON_AddNumberToObject(info, "first_image", (double)o->net.first_image);
    cJSON_AddNumberToObject(info, "images", (double)s->in.data.count);
    cJSON_AddNumberToObject(info, "trials", (double)o->net.trials);
    cJSON_AddStringToObject(info, "first_layer",
                            o->net.first_layer == CIM_PIXELS_ON_CROSSBAR ? "crossbar" : "host");
    {
        char seed[32];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->net.seed);
        cJSON_AddStringToObject(info, "seed", seed); /* exact beyond 2^53 */
    }
    for (int32_t c = 0; c < s->prof.n; ++c) {
        cim_adc_profile_stats st;
        cJSON *l = cJSON_CreateObject();
        cim_adc_profile_summarize(&s->prof.shape[c], &st);
        cJSON_AddNumberToObject(l, "samples", (double)st.samples);
        cJSON_AddNumberToObject(l, "underflow", (double)st.underflow);
        cJSON_AddNumberToObject(l, "overflow", (double)st.overflow);
        cJSON_AddNumberToObject(l, "mean", st.mean);
        cJSON_AddNumberToObject(l, "std", sqrt(st.var));
        cJSON_AddItemToObject(layers, s->prof.names[c], l);
    }
    cJSON_AddItemToObject(info, "profiles", layers);
    return info;
}

/* The calibrated config as formatted JSON text (malloc'd). */
static int calibrated_config(calib_state *s, char **text, cim_error *err)
{
    cim_config out;
    char *json = NULL, *info_text = NULL;
    cJSON *root = NULL, *info = NULL;
    int rc;
    *text = NULL;
    if ((rc = cim_config_copy(&out, &s->cfg, err)) != 0)
        return rc;
    cim_calib_range *ranges = calloc((size_t)s->prof.n, sizeof *ranges);
    if (!ranges) {
        rc = cim_error_set(err, CIM_ERR_NOMEM, "calibrate: out of memory");
        goto done;
    }
    for (int32_t c = 0; c < s->prof.n; ++c) {
        ranges[c].layer = strdup(s->prof.names[c]);
        if (!ranges[c].layer) {
            rc = cim_error_set(err, CIM_ERR_NOMEM, "calibrate: out of memory");
            goto done;
        }
        if ((rc = cim_calib_range_of(&s->prof.shape[c], s->rule, s->o.coverage, s->prof.names[c],
                                     &ranges[c].lo_ua, &ranges[c].hi_ua, err)) != 0)
            goto done;
        fprintf(stderr, CIM_CLI_PROGRAM ": calibrated %s (%s): [%g, %g] uA\n", s->prof.names[c],
                cim_calib_rule_name(s->rule), ranges[c].lo_ua, ranges[c].hi_ua);
    }
    /* out owns the ranges from here */
    for (int i = 0; i < out.n_calib; ++i)
        free(out.calib[i].layer);
    free(out.calib);
    out.calib = ranges;
    out.n_calib = s->prof.n;
    ranges = NULL;
    out.calib_mode = CIM_CALIB_CALIB;
    out.adc_profile = 0;
    info = calib_info(s);
    info_text = info ? cJSON_PrintUnformatted(info) : NULL;
    free(out.calib_info);
    out.calib_info = info_text;
    json = info_text ? cim_config_to_json(&out) : NULL;
    root = json ? cJSON_Parse(json) : NULL;
    *text = root ? cJSON_Print(root) : NULL;
    if (!*text)
        rc = cim_error_set(err, CIM_ERR_NOMEM, "calibrate: out of memory writing the config");
done:
    if (ranges)
        for (int32_t c = 0; c < s->prof.n; ++c)
            free(ranges[c].layer);
    free(ranges);
    cJSON_Delete(info);
    cJSON_Delete(root);
    free(json);
    cim_config_free(&out);
    return rc;
}

static int write_output(const calib_state *s, const char *text, cim_error *err)
{
    FILE *f = s->o.out ? fopen(s->o.out, "w") : stdout;
    if (!f)
        return cim_error_set(err, CIM_ERR_IO, "calibrate: cannot write %s", s->o.out);
    int bad = fprintf(f, "%s\n", text) < 0;
    bad |= s->o.out ? fclose(f) != 0 : fflush(f) != 0;
    return bad ? cim_error_set(err, CIM_ERR_IO, "calibrate: writing %s failed",
                               s->o.out ? s->o.out : "standard output")
               : 0;
}

static int run(calib_state *s, cim_error *err)
{
    char *text = NULL;
    int rc;
    if ((rc = build_config(s, err)) != 0 || (rc = load_inputs(s, err)) != 0 ||
        (rc = cim_ocl_open(&s->ocl, s->o.net.device, err)) != 0)
        return rc;
    s->ocl_open = 1;
    const cim_mc_setup setup = {.plan = &s->in.plan,
                                .images = s->in.data.images,
                                .labels = s->in.data.labels,
                                .n_images = s->in.data.count,
                                .first_image = (uint32_t)s->o.net.first_image,
                                .n_trials = (int64_t)s->o.net.trials,
                                .skip_layer_errors = 1,
                                .profile_sink = profile_sink};
    if ((rc = cim_mc_run(&s->ocl, &setup, 0, ignore_trials, NULL, s, err)) != 0)
        return rc;
    cim_cli_profiles_print(&s->prof, stderr);
    if ((rc = calibrated_config(s, &text, err)) == 0)
        rc = write_output(s, text, err);
    free(text);
    return rc;
}

static void release(calib_state *s)
{
    if (s->ocl_open)
        cim_ocl_close(&s->ocl);
    cim_cli_profiles_free(&s->prof);
    cim_cli_network_inputs_free(&s->in);
    cim_config_free(&s->cfg);
}

int cim_cli_calibrate(int argc, char **argv)
{
    calib_state s;
    cim_error err;
    memset(&s, 0, sizeof s);
    cim_error_clear(&err);
    int rc = parse_options(argc - 1, argv + 1, &s.o, &err);
    if (rc == 1)
        return 0;
    if (rc == 0)
        rc = run(&s, &err);
    release(&s);
    return rc == 0 ? 0 : cim_cli_report(&err);
}
