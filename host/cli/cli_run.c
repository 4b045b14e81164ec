/* cli_run.c -- `cimgpu [run]`: the network Monte-Carlo (docs/design.md §1, §3).
 *
 * With no options it runs the shipped default model (data/models/tnn_cnn.h5)
 * on the first DEFAULT_IMAGES Fashion-MNIST test images with the default
 * crossbar below, so `cimgpu --trials 10000` works out of the box. Everything
 * the user gave (options, config, model, dataset, image range, mapping
 * against the model's alphabets) is checked before the device is opened.
 *
 * The run: the digital (ideal) accuracy of the same images first, then the
 * trials in chunks (cim_montecarlo.h); each finished chunk goes to the
 * results file at once, so a long run loses no finished trial. The summary
 * table goes to stdout; progress to stderr when it is a terminal.
 *
 * Ownership: a run_state holds everything one run allocates; release() frees
 * it and discards an unfinished results file.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim_config.h"
#include "cim_executor.h"
#include "cim_idx.h"
#include "cim_mapping.h"
#include "cim_model.h"
#include "cim_montecarlo.h"
#include "cim_plan.h"
#include "cim_ocl.h"
#include "cim_provenance.h"
#include "cim_stats.h"
#include "cli.h"
#include "h5_run.h"

#define DEFAULT_MODEL "tnn_cnn.h5"
#define DEFAULT_SPLIT "t10k"
#define DEFAULT_IMAGES 100
#define DEFAULT_TRIALS 100
#define MAX_TRIALS 100000000ULL
#define YIELD_MARGIN 0.01 /* default yield target: digital accuracy minus one point */

typedef struct run_options {
    const char *model, *data, *split, *config, *mapping, *out, *device;
    uint64_t images, first_image, trials, trial_offset, seed;
    double yield_target, lrs_noise, hrs_noise;
    int has_yield, has_lrs_noise, has_hrs_noise, adc_bits, c2c, trace;
    cim_pixel_layers first_layer;
    cim_pipeline pipeline;
} run_options;

typedef struct run_state {
    run_options o;
    char model_path[4096];
    cim_config cfg;
    cim_model model;
    cim_dataset all, data;
    cim_plan plan, digital; /* the run's layer plan, and the same on digital crossbars */
    cim_ocl ocl;
    int ocl_open;
    cim_provenance prov;
    cim_h5_run *h5;
    int64_t *correct;
    cim_cli_progress prog;
} run_state;

static void usage(FILE *out)
{
    fprintf(
        out,
        "Usage: cimgpu [run] [options]\n"
        "The network Monte-Carlo: --trials simulated chips classify the same test images; prints\n"
        "the accuracy distribution next to the digital (ideal) accuracy.\n"
        "Options:\n"
        "  --model M.h5       model file (default %s/%s, or $%s)\n"
        "  --data DIR         IDX dataset folder (default %s), split --split (default %s)\n"
        "  --images K         test images per chip (default %d); --first-image F (default 0)\n"
        "  --trials T         chips (default %d, at most %llu); --trial-offset O replays trials\n"
        "                     O..O+T-1 of a larger run (same results as inside it)\n"
        "  --seed S           random seed, 0..2^64-1 (default 0)\n"
        "  --config CFG.json  crossbar config, the reference simulator's keys (default: 256x256\n"
        "                     TNN_I, HRS/LRS 5/30 uA, D2D sigma 1/4 uA, ideal ADC); flags below\n"
        "                     override it; CALIB ranges are looked up by layer name\n"
        "  --mapping NAME     BNN_I..BNN_VI, TNN_I..TNN_V\n"
        "  --adc-bits B       finite ADC of the type the mapping needs, MAX range (0: ideal)\n"
        "  --lrs-noise U, --hrs-noise U   D2D sigma in uA; --c2c adds C2C with the same sigmas\n"
        "  --first-layer W    where weight layers on raw pixels (the first layer of an image\n"
        "                     model) run: host (exact, the default) or crossbar (8 bit-plane\n"
        "                     reads per input, shifted and added digitally)\n"
        "  --pipeline P       auto (default), host or device: where the work between crossbar\n"
        "                     reads runs (same results; auto picks the faster for the device)\n"
        "  --yield-target A   accuracy a chip must reach to count in the yield\n"
        "                     (default: digital accuracy minus %.2f)\n"
        "  --out R.h5         results file (per-trial accuracy, layer error rates, summary);\n"
        "                     --trace adds every prediction\n"
        "  --device SPEC      OpenCL device (see `cimgpu info`)\n"
        "  -h, --help\n",
        CIM_MODEL_DIR, DEFAULT_MODEL, MODEL_DIR_ENV, CIM_IDX_DEFAULT_DIR, DEFAULT_SPLIT,
        DEFAULT_IMAGES, DEFAULT_TRIALS, (unsigned long long)MAX_TRIALS, YIELD_MARGIN);
}

static int parse_double(const char *text, double lo, double hi, double *v)
{
    char *end = NULL;
    double d;
    if (!text || !*text)
        return -1;
    d = strtod(text, &end);
    if (*end || !isfinite(d) || d < lo || d > hi)
        return -1;
    *v = d;
    return 0;
}

enum {
    OPT_MODEL = 256,
    OPT_DATA,
    OPT_SPLIT,
    OPT_IMAGES,
    OPT_FIRST,
    OPT_TRIALS,
    OPT_OFFSET,
    OPT_SEED,
    OPT_CONFIG,
    OPT_MAPPING,
    OPT_ADC_BITS,
    OPT_LRS,
    OPT_HRS,
    OPT_C2C,
    OPT_YIELD,
    OPT_OUT,
    OPT_TRACE,
    OPT_DEVICE,
    OPT_FIRST_LAYER,
    OPT_PIPELINE
};

static int parse_options(int argc, char **argv, int first, run_options *o, cim_error *err)
{
    static const struct option opts[] = {{"model", required_argument, 0, OPT_MODEL},
                                         {"data", required_argument, 0, OPT_DATA},
                                         {"split", required_argument, 0, OPT_SPLIT},
                                         {"images", required_argument, 0, OPT_IMAGES},
                                         {"first-image", required_argument, 0, OPT_FIRST},
                                         {"trials", required_argument, 0, OPT_TRIALS},
                                         {"trial-offset", required_argument, 0, OPT_OFFSET},
                                         {"seed", required_argument, 0, OPT_SEED},
                                         {"config", required_argument, 0, OPT_CONFIG},
                                         {"mapping", required_argument, 0, OPT_MAPPING},
                                         {"adc-bits", required_argument, 0, OPT_ADC_BITS},
                                         {"lrs-noise", required_argument, 0, OPT_LRS},
                                         {"hrs-noise", required_argument, 0, OPT_HRS},
                                         {"c2c", no_argument, 0, OPT_C2C},
                                         {"yield-target", required_argument, 0, OPT_YIELD},
                                         {"out", required_argument, 0, OPT_OUT},
                                         {"trace", no_argument, 0, OPT_TRACE},
                                         {"device", required_argument, 0, OPT_DEVICE},
                                         {"help", no_argument, 0, 'h'},
                                         {"first-layer", required_argument, 0, OPT_FIRST_LAYER},
                                         {"pipeline", required_argument, 0, OPT_PIPELINE},
                                         {0, 0, 0, 0}};
    uint64_t u;
    int c;
    o->images = DEFAULT_IMAGES;
    o->trials = DEFAULT_TRIALS;
    o->split = DEFAULT_SPLIT;
    o->data = CIM_IDX_DEFAULT_DIR;
    o->adc_bits = -1;
    cim_cli_getopt_start();
    optind = first;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        const char *a = optarg;
        switch (c) {
        case OPT_MODEL:
            o->model = a;
            break;
        case OPT_DATA:
            o->data = a;
            break;
        case OPT_SPLIT:
            o->split = a;
            break;
        case OPT_CONFIG:
            o->config = a;
            break;
        case OPT_MAPPING:
            o->mapping = a;
            break;
        case OPT_OUT:
            o->out = a;
            break;
        case OPT_DEVICE:
            o->device = a;
            break;
        case OPT_C2C:
            o->c2c = 1;
            break;
        case OPT_TRACE:
            o->trace = 1;
            break;
        case OPT_PIPELINE:
            if (strcmp(a, "auto") == 0)
                o->pipeline = CIM_PIPELINE_AUTO;
            else if (strcmp(a, "host") == 0)
                o->pipeline = CIM_PIPELINE_HOST;
            else if (strcmp(a, "device") == 0)
                o->pipeline = CIM_PIPELINE_DEVICE;
            else
                return cim_error_set(err, CIM_ERR_USAGE,
                                     "run: --pipeline '%s': expected auto, host or device", a);
            break;
        case OPT_FIRST_LAYER:
            if (strcmp(a, "host") == 0)
                o->first_layer = CIM_PIXELS_ON_HOST;
            else if (strcmp(a, "crossbar") == 0)
                o->first_layer = CIM_PIXELS_ON_CROSSBAR;
            else
                return cim_error_set(err, CIM_ERR_USAGE,
                                     "run: --first-layer '%s': expected host or crossbar", a);
            break;
        case OPT_IMAGES:
            if (cim_cli_parse_u64(a, 1, CIM_IDX_MAX_COUNT, &o->images) != 0)
                return cim_error_set(err, CIM_ERR_USAGE,
                                     "run: --images '%s': expected a count of at least 1", a);
            break;
        case OPT_FIRST:
            if (cim_cli_parse_u64(a, 0, CIM_IDX_MAX_COUNT, &o->first_image) != 0)
                return cim_error_set(err, CIM_ERR_USAGE,
                                     "run: --first-image '%s': expected an image index", a);
            break;
        case OPT_TRIALS:
            if (cim_cli_parse_u64(a, 1, MAX_TRIALS, &o->trials) != 0)
                return cim_error_set(err, CIM_ERR_USAGE,
                                     "run: --trials '%s': expected an integer from 1 to %llu", a,
                                     (unsigned long long)MAX_TRIALS);
            break;
        case OPT_OFFSET:
            if (cim_cli_parse_u64(a, 0, UINT32_MAX, &o->trial_offset) != 0)
                return cim_error_set(err, CIM_ERR_USAGE,
                                     "run: --trial-offset '%s': expected an integer from 0 to %u",
                                     a, UINT32_MAX);
            break;
        case OPT_SEED:
            if (cim_cli_parse_u64(a, 0, UINT64_MAX, &o->seed) != 0)
                return cim_error_set(
                    err, CIM_ERR_USAGE,
                    "run: --seed '%s': expected a decimal integer from 0 to 18446744073709551615",
                    a);
            break;
        case OPT_ADC_BITS:
            if (cim_cli_parse_u64(a, 0, CIM_ADC_MAX_BITS, &u) != 0)
                return cim_error_set(err, CIM_ERR_USAGE,
                                     "run: --adc-bits '%s': expected 0 (ideal) or 1..%d", a,
                                     CIM_ADC_MAX_BITS);
            o->adc_bits = (int)u;
            break;
        case OPT_LRS:
        case OPT_HRS:
            if (parse_double(a, 0, 10000, c == OPT_LRS ? &o->lrs_noise : &o->hrs_noise) != 0)
                return cim_error_set(err, CIM_ERR_USAGE,
                                     "run: --%s-noise '%s': expected a sigma in uA from 0 to 10000",
                                     c == OPT_LRS ? "lrs" : "hrs", a);
            *(c == OPT_LRS ? &o->has_lrs_noise : &o->has_hrs_noise) = 1;
            break;
        case OPT_YIELD:
            if (parse_double(a, 0, 1, &o->yield_target) != 0)
                return cim_error_set(err, CIM_ERR_USAGE,
                                     "run: --yield-target '%s': expected an accuracy from 0 to 1",
                                     a);
            o->has_yield = 1;
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            return cim_cli_bad_option(err, "run", c, optopt, argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cim_cli_unexpected_argument(err, "run", argv[optind]);
    if (o->trace && !o->out)
        return cim_error_set(err, CIM_ERR_USAGE, "run: --trace needs --out R.h5");
    if (o->trials + o->trial_offset > (uint64_t)UINT32_MAX + 1)
        return cim_error_set(err, CIM_ERR_USAGE,
                             "run: --trial-offset + --trials exceed 2^32 trials");
    return 0;
}

/* The config: file or default, then the flags, then validation. */
static int build_config(run_state *r, cim_error *err)
{
    const run_options *o = &r->o;
    int rc =
        o->config ? cim_config_load(o->config, &r->cfg, err) : cim_config_run_default(&r->cfg, err);
    if (rc != 0)
        return rc;
    if (o->mapping && cim_mapping_from_name(o->mapping, &r->cfg.mapping) != 0)
        return cim_error_set(err, CIM_ERR_USAGE,
                             "run: --mapping '%s': expected BNN_I..BNN_VI or TNN_I..TNN_V",
                             o->mapping);
    if (o->adc_bits >= 0) {
        cim_config_set_adc_bits(&r->cfg, o->adc_bits);
    } else if (o->mapping && r->cfg.adc_type != CIM_ADC_INF) {
        /* a new mapping may need the other finite ADC type */
        r->cfg.adc_type =
            cim_mapping_desc_of(r->cfg.mapping)->signed_current ? CIM_ADC_SYM : CIM_ADC_POS;
    }
    if (o->has_lrs_noise)
        r->cfg.lrs_noise_ua = r->cfg.lrs_noise_c2c_ua = o->lrs_noise;
    if (o->has_hrs_noise)
        r->cfg.hrs_noise_ua = r->cfg.hrs_noise_c2c_ua = o->hrs_noise;
    if (o->c2c)
        r->cfg.c2c_var = 1;
    return cim_config_validate(&r->cfg, err);
}

static int load_inputs(run_state *r, cim_error *err)
{
    const run_options *o = &r->o;
    int rc;
    if (o->model) {
        snprintf(r->model_path, sizeof r->model_path, "%s", o->model);
    } else {
        snprintf(r->model_path, sizeof r->model_path, "%s/%s", cim_cli_model_dir(), DEFAULT_MODEL);
    }
    if ((rc = cim_model_load(r->model_path, &r->model, err)) != 0 ||
        (rc = cim_idx_load_split(o->data, o->split, &r->all, err)) != 0)
        return rc;
    if ((rc = cim_dataset_check_input_shape(&r->all, &r->model, err)) != 0)
        return rc;
    if ((rc = cim_dataset_subset(&r->all, (int64_t)o->first_image, (int64_t)o->images, &r->data,
                                 err)) != 0)
        return rc;
    for (int32_t k = 0; k < r->data.count; ++k)
        if (r->data.labels[k] >= r->model.num_classes)
            return cim_error_set(
                err, CIM_ERR_INPUT, "%s: label %d of image %lld is not a class of %s (%d classes)",
                r->all.labels_path, r->data.labels[k], (long long)(o->first_image + (uint64_t)k),
                r->model_path, r->model.num_classes);
    if ((rc = cim_plan_init(&r->plan, &r->model, &r->cfg, o->seed, o->first_layer, err)) != 0 ||
        (rc = cim_plan_init(&r->digital, &r->model, &r->cfg, o->seed, o->first_layer, err)) != 0)
        return rc;
    cim_plan_make_digital(&r->digital);
    if (r->plan.n_crossbar == 0)
        return cim_error_set(
            err, CIM_ERR_INPUT,
            "%s: no layer runs on crossbars (no dense or conv2d layer "
            "with binary or ternary inputs; --first-layer crossbar adds those on raw pixels)",
            r->model_path);
    {
        /* C2C input keys are 32-bit: image index x vectors per image (cim_plan.h) */
        const int64_t per_image = r->plan.vectors_per_image;
        const int64_t images_end = (int64_t)o->first_image + r->data.count;
        if (per_image > 0 && images_end > ((int64_t)1 << 32) / per_image)
            return cim_error_set(err, CIM_ERR_INPUT,
                                 "%s: images up to index %lld x %lld crossbar input vectors each "
                                 "exceed the 2^32 read keys; use fewer or earlier images",
                                 r->model_path, (long long)images_end - 1, (long long)per_image);
    }
    return 0;
}

typedef struct sink_ctx {
    run_state *r;
    int32_t n_layers;
    int16_t *pred16;
} sink_ctx;

static int sink(void *ctx, int64_t trial_first, int32_t n, const int64_t *correct,
                const double *layer_error, const int32_t *predictions, cim_error *err)
{
    sink_ctx *s = ctx;
    run_state *r = s->r;
    const int64_t t0 = trial_first - (int64_t)r->o.trial_offset;
    memcpy(r->correct + t0, correct, sizeof(int64_t) * (size_t)n);
    if (!r->h5)
        return 0;
    if (predictions) {
        for (int64_t k = 0; k < (int64_t)n * r->data.count; ++k)
            s->pred16[k] = (int16_t)predictions[k];
    }
    return cim_h5_run_append(r->h5, t0, n, correct, layer_error, predictions ? s->pred16 : NULL,
                             err);
}

/* The one digital trial's correct count. */
static int digital_sink(void *ctx, int64_t trial_first, int32_t n, const int64_t *correct,
                        const double *layer_error, const int32_t *predictions, cim_error *err)
{
    (void)trial_first, (void)n, (void)layer_error, (void)predictions, (void)err;
    *(int64_t *)ctx = correct[0];
    return 0;
}

static void on_progress(void *ctx, double done)
{
    sink_ctx *s = ctx;
    cim_cli_progress_update(&s->r->prog, "run", done,
                            (uint64_t)(done * (double)s->r->o.trials + 0.5), s->r->o.trials,
                            "trials");
}

static int32_t weight_layers(const cim_model *m)
{
    int32_t n = 0;
    for (int32_t l = 0; l < m->num_layers; ++l)
        n += m->layers[l].type == CIM_LAYER_DENSE || m->layers[l].type == CIM_LAYER_CONV2D;
    return n;
}

static void print_summary(const run_state *r, const cim_summary *s, int64_t digital_correct)
{
    const cim_mapping_desc *d = cim_mapping_desc_of(r->cfg.mapping);
    printf("cimgpu %s: %s on %lld images (%s from %llu), %lld chips, seed %llu\n", CIM_VERSION,
           r->model_path, (long long)r->data.count, r->all.images_path,
           (unsigned long long)r->o.first_image, (long long)s->trials,
           (unsigned long long)r->o.seed);
    printf("crossbar: %s %dx%d, HRS/LRS %g/%g uA, D2D sigma %g/%g uA%s, %s ADC%s\n",
           cim_mapping_name(r->cfg.mapping), r->cfg.M, r->cfg.N, r->cfg.hrs_ua, r->cfg.lrs_ua,
           r->cfg.d2d_var ? r->cfg.hrs_noise_ua : 0.0, r->cfg.d2d_var ? r->cfg.lrs_noise_ua : 0.0,
           r->cfg.c2c_var ? ", C2C on" : "", cim_config_adc_type_name(r->cfg.adc_type),
           d->signed_current ? " (signed currents)" : "");
    printf("layers on crossbars: %d of %d weight layers (on raw pixels: %s)\n", r->plan.n_crossbar,
           weight_layers(&r->model),
           r->o.first_layer == CIM_PIXELS_ON_CROSSBAR ? "crossbar, bit-sliced" : "host, exact");
    printf("device: %s\n\n", r->prov.device);
    printf("  %-28s %9.4f  (%lld of %lld)\n", "digital (ideal) accuracy",
           (double)digital_correct / (double)s->images, (long long)digital_correct,
           (long long)s->images);
    printf("  %-28s %9.4f\n", "mean accuracy", s->mean);
    printf("  %-28s %9.4f\n", "standard deviation", s->std);
    printf("  %-28s %9.4f .. %.4f\n", "95% CI of the mean", s->ci95_lo, s->ci95_hi);
    printf("  %-28s %9.4f / %.4f / %.4f\n", "quantiles 1% / 5% / 50%", s->q01, s->q05, s->q50);
    printf("  %-28s %9.4f .. %.4f\n", "min .. max", s->min, s->max);
    printf("  %-28s %9.4f  (accuracy >= %.4f)\n", "yield", s->yield, s->yield_target);
}

static void release(run_state *r)
{
    cim_h5_run_discard(r->h5);
    if (r->ocl_open)
        cim_ocl_close(&r->ocl);
    cim_provenance_free(&r->prov);
    free(r->correct);
    cim_plan_free(&r->plan);
    cim_plan_free(&r->digital);
    cim_dataset_free(&r->data);
    cim_dataset_free(&r->all);
    cim_model_free(&r->model);
    cim_config_free(&r->cfg);
}

int cim_cli_run(int argc, char **argv, int first)
{
    run_state r;
    cim_error err;
    sink_ctx sc = {&r, 0, NULL};
    int64_t digital_correct = 0;
    cim_summary summary;
    int rc;
    memset(&r, 0, sizeof r);
    cim_error_clear(&err);
    rc = parse_options(argc, argv, first, &r.o, &err);
    if (rc == 1)
        return 0;
    if (rc != 0 || (rc = build_config(&r, &err)) != 0 || (rc = load_inputs(&r, &err)) != 0 ||
        (rc = cim_provenance_init(&r.prov, argc, argv, &err)) != 0)
        goto done;
    if ((rc = cim_ocl_open(&r.ocl, r.o.device, &err)) != 0)
        goto done;
    r.ocl_open = 1;
    cim_provenance_set_device(&r.prov, &r.ocl);
    sc.n_layers = r.plan.n_crossbar;
    r.correct = malloc(sizeof(int64_t) * r.o.trials);
    sc.pred16 = NULL;
    if (!r.correct) {
        rc = cim_error_set(&err, CIM_ERR_NOMEM, "run: out of memory for %llu trials",
                           (unsigned long long)r.o.trials);
        goto done;
    }
    /* The digital (ideal) accuracy of the same images: one noise-free chip,
     * through the same memory-bounded chunks as the trials. */
    {
        const cim_mc_setup digital = {.plan = &r.digital,
                                      .images = r.data.images,
                                      .labels = r.data.labels,
                                      .n_images = r.data.count,
                                      .first_image = (uint32_t)r.o.first_image,
                                      .n_trials = 1};
        if ((rc = cim_mc_run(&r.ocl, &digital, 0, digital_sink, NULL, &digital_correct, &err)) != 0)
            goto done;
    }
    const double yield_target =
        r.o.has_yield ? r.o.yield_target
                      : fmax(0.0, (double)digital_correct / r.data.count - YIELD_MARGIN);
    const char **names = calloc((size_t)sc.n_layers, sizeof *names);
    for (int32_t l = 0, c = 0; names && l < r.model.num_layers; ++l)
        if (cim_plan_on_crossbar(&r.plan.layers[l]))
            names[c++] = r.model.layers[l].name;
    if (r.o.out) {
        char *config_json = cim_config_to_json(&r.cfg);
        const cim_h5_run_meta meta = {
            .path = r.o.out,
            .prov = &r.prov,
            .seed = r.o.seed,
            .config_json = config_json,
            .model_path = r.model_path,
            .model_sha256 = r.model.sha256_hex,
            .dataset_images = r.all.images_path,
            .dataset_labels = r.all.labels_path,
            .mapping = cim_mapping_name(r.cfg.mapping),
            .first_layer = r.o.first_layer == CIM_PIXELS_ON_CROSSBAR ? "crossbar" : "host",
            .trials = (int64_t)r.o.trials,
            .images = r.data.count,
            .first_image = (int64_t)r.o.first_image,
            .yield_target = yield_target,
            .n_layers = sc.n_layers,
            .layer_names = names,
            .trace = r.o.trace,
            .labels = r.data.labels};
        rc = names && config_json ? cim_h5_run_create(&meta, &r.h5, &err)
                                  : cim_error_set(&err, CIM_ERR_NOMEM, "run: out of memory");
        free(config_json);
        if (rc != 0) {
            free(names);
            goto done;
        }
    }
    free(names);
    {
        const cim_mc_setup setup = {.plan = &r.plan,
                                    .images = r.data.images,
                                    .labels = r.data.labels,
                                    .n_images = r.data.count,
                                    .first_image = (uint32_t)r.o.first_image,
                                    .trial_first = (uint32_t)r.o.trial_offset,
                                    .n_trials = (int64_t)r.o.trials,
                                    .skip_layer_errors =
                                        r.h5 == NULL /* only the results file stores them */,
                                    .pipeline = r.o.pipeline};
        int32_t chunk_trials;
        int64_t chunk_images;
        cim_mc_chunks(&setup, &chunk_trials, &chunk_images);
        if (r.o.trace &&
            !(sc.pred16 = malloc(sizeof(int16_t) * (size_t)chunk_trials * (size_t)r.data.count))) {
            rc = cim_error_set(&err, CIM_ERR_NOMEM, "run: out of memory for the trace");
            goto done;
        }
        cim_cli_progress_start(&r.prog);
        rc = cim_mc_run(&r.ocl, &setup, r.o.trace, sink, on_progress, &sc, &err);
        cim_cli_progress_end(&r.prog);
        if (rc != 0)
            goto done;
    }
    if ((rc = cim_summarize(r.correct, (int64_t)r.o.trials, r.data.count, yield_target, &summary,
                            &err)) != 0)
        goto done;
    if (r.h5) {
        rc = cim_h5_run_finish(r.h5, &summary, digital_correct, &err);
        if (rc != 0)
            goto done;
    }
    print_summary(&r, &summary, digital_correct);
done:
    free(sc.pred16);
    release(&r);
    return rc == 0 ? 0 : cim_cli_report(&err);
}
