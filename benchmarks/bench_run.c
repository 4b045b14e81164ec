/* bench_run.c -- throughput of the network Monte-Carlo (docs/design.md
 * §7-§8): the OpenCL executor against the plain-C reference network, in one
 * run. Not a test: it prints figures and ratios.
 *
 * Workload: a model (default: the shipped TNN CNN) on the first K
 * Fashion-MNIST test images, on the default crossbar of `cimgpu run`
 * (cli_run.c: 256x256 TNN_I, HRS/LRS 5/30 uA, D2D sigma 1/4 uA, ideal ADC;
 * --adc-bits B for a finite ADC with MAX range), seed 0.
 *
 *  (a) executor: wall time of one cim_executor_run over T trials x K images
 *      (everything the host does around the kernels included), fastest of R
 *      runs after one warm-up, on the host pipeline and, where it applies,
 *      the device pipeline (cim_executor_device.h); reported as
 *      trial*image/s and, with the model's macs_per_image,
 *      trial*image*MAC/s. The ratios and projections use the pipeline the
 *      executor picks for this device;
 *  (b) plain-C reference: cim_netref_image on one thread over a few trials x
 *      images (it samples each layer's chip per image, as that path does),
 *      fastest of R passes; its predictions are checked against the
 *      executor's for the same trials and images;
 *  (c) the ratio executor / reference;
 *  (d) a projection at the measured rate of `cimgpu --trials 10000` over the
 *      default 100 images and over all 10000 test images, compared with the
 *      H100 target of docs/design.md §5 (10000 x 10000 in 60 s). It is a
 *      projection from this device, not a measurement of that run.
 *
 *   bench_run [--trials T] [--images K] [--repeat R] [--model M.h5]
 *             [--device SPEC] [--adc-bits B] [--first-layer host|crossbar]
 *             [--config CFG.json]
 *
 * --config is read over the default crossbar as `cimgpu run --config` reads
 * it: the way to measure a device-physics model (e.g. {"parasitics": true,
 * "w_res": 1} for bit-line IR drop) on the same workload.
 *
 * Exit status: 0; 2 for a bad option or a missing/invalid model or dataset;
 * 1 for a device or runtime failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim_clock.h"
#include "cim_config.h"
#include "cim_executor.h"
#include "cim_executor_device.h"
#include "cim_idx.h"
#include "cim_mapping.h"
#include "cim_model.h"
#include "cim_netref.h"
#include "cim_ocl.h"
#include "cli.h"

#ifndef CIM_MODEL_DIR
#define CIM_MODEL_DIR "data/models"
#endif
#define DEFAULT_MODEL CIM_MODEL_DIR "/tnn_cnn.h5"
#define MAX_TRIALS 1000000
#define REF_TRIALS 4 /* reference workload: trials x images */
#define REF_IMAGES 4
#define TEST_IMAGES 10000 /* Fashion-MNIST test set */
#define CLI_IMAGES 100    /* `cimgpu run` default --images */
#define PROJ_TRIALS 10000
#define H100_TARGET_S 60.0 /* docs/design.md §5: 10000 trials x 10000 images */
/* Reference simulator of the CIM-Explorer flow (docs/design.md §5). */
#define REFSIM_MACS_PER_CORE 0.72e9
#define REFSIM_CORES 2

typedef struct bench_options {
    uint64_t trials, images, repeats;
    int adc_bits; /* -1: the config's ADC */
    cim_pixel_layers first_layer;
    const char *model, *device, *config;
} bench_options;

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "bench_run: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    return 2;
}

/* 0, or 2 with the one-line message printed. */
static int parse_options(int argc, char **argv, bench_options *o)
{
    o->trials = 64;
    o->images = 32;
    o->repeats = 3;
    o->adc_bits = -1;
    o->model = DEFAULT_MODEL;
    o->device = NULL;
    o->config = NULL;
    o->first_layer = CIM_PIXELS_ON_HOST;
    for (int a = 1; a < argc; a += 2) {
        const char *name = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;
        uint64_t u;
        if (strcmp(name, "--trials") && strcmp(name, "--images") && strcmp(name, "--repeat") &&
            strcmp(name, "--model") && strcmp(name, "--device") && strcmp(name, "--adc-bits") &&
            strcmp(name, "--first-layer") && strcmp(name, "--config"))
            return usage_error("unknown option '%s' (--trials --images --repeat --model "
                               "--device --adc-bits --first-layer --config)",
                               name);
        if (!v)
            return usage_error("option '%s' needs a value", name);
        if (!strcmp(name, "--trials")) {
            if (cim_cli_parse_u64(v, 1, MAX_TRIALS, &o->trials) != 0)
                return usage_error("--trials '%s': expected an integer from 1 to 1000000", v);
        } else if (!strcmp(name, "--images")) {
            if (cim_cli_parse_u64(v, 1, TEST_IMAGES, &o->images) != 0)
                return usage_error("--images '%s': expected an integer from 1 to 10000", v);
        } else if (!strcmp(name, "--repeat")) {
            if (cim_cli_parse_u64(v, 1, 1000, &o->repeats) != 0)
                return usage_error("--repeat '%s': expected an integer from 1 to 1000", v);
        } else if (!strcmp(name, "--adc-bits")) {
            if (cim_cli_parse_u64(v, 0, CIM_ADC_MAX_BITS, &u) != 0)
                return usage_error("--adc-bits '%s': expected 0 (ideal) or 1..16", v);
            o->adc_bits = (int)u;
        } else if (!strcmp(name, "--first-layer")) {
            if (strcmp(v, "host") && strcmp(v, "crossbar"))
                return usage_error("--first-layer '%s': expected host or crossbar", v);
            o->first_layer = strcmp(v, "host") ? CIM_PIXELS_ON_CROSSBAR : CIM_PIXELS_ON_HOST;
        } else if (!strcmp(name, "--model")) {
            o->model = v;
        } else if (!strcmp(name, "--config")) {
            o->config = v;
        } else {
            o->device = v;
        }
    }
    return 0;
}

/* The default config, --config read over it and --adc-bits applied as
 * `cimgpu run` applies them. */
static int build_config(const bench_options *o, cim_config *cfg, cim_error *err)
{
    int rc = cim_config_run_default(cfg, err);
    if (rc != 0)
        return rc;
    if (o->config) {
        cim_config base = *cfg;
        rc = cim_config_load_over(o->config, &base, cfg, err);
        cim_config_free(&base);
        if (rc != 0)
            return rc;
    }
    if (o->adc_bits >= 0)
        cim_config_set_adc_bits(cfg, o->adc_bits);
    return cim_config_validate(cfg, err);
}

static void print_duration(const char *label, double seconds)
{
    if (seconds < 120)
        printf("  %-50s %10.1f s\n", label, seconds);
    else if (seconds < 2 * 3600)
        printf("  %-50s %10.1f min\n", label, seconds / 60);
    else
        printf("  %-50s %10.1f h\n", label, seconds / 3600);
}

int main(int argc, char **argv)
{
    bench_options o;
    cim_config cfg;
    cim_model model;
    cim_dataset all, data;
    cim_ocl ocl;
    cim_error err;
    cim_plan plan;
    int32_t *pred = NULL, *scores = NULL;
    int rc, ocl_open = 0, status = 1;
    memset(&model, 0, sizeof model);
    memset(&plan, 0, sizeof plan);
    memset(&all, 0, sizeof all);
    memset(&data, 0, sizeof data);
    cim_cli_keep_freed_memory(); /* as `cimgpu` does: the runs measured are its runs */
    cim_config_default(&cfg);
    cim_error_clear(&err);
    if (parse_options(argc, argv, &o) != 0)
        return 2;
    if ((rc = build_config(&o, &cfg, &err)) != 0 ||
        (rc = cim_model_load(o.model, &model, &err)) != 0 ||
        (rc = cim_idx_load_split(CIM_IDX_DEFAULT_DIR, "t10k", &all, &err)) != 0)
        goto fail;
    if ((int64_t)all.height * all.width != cim_shape_size(&model.input_shape)) {
        rc = cim_error_set(
            &err, CIM_ERR_INPUT, "dataset shape mismatch: %s has %dx%d images, %s expects %dx%dx%d",
            all.images_path, all.height, all.width, o.model, model.input_shape.dim[0],
            model.input_shape.dim[1], model.input_shape.dim[2]);
        goto fail;
    }
    if ((rc = cim_dataset_subset(&all, 0, (int64_t)o.images, &data, &err)) != 0)
        goto fail;
    const int32_t T = (int32_t)o.trials, K = (int32_t)o.images, R = (int32_t)o.repeats;
    const int32_t ref_trials = T < REF_TRIALS ? T : REF_TRIALS;
    const int32_t ref_images = K < REF_IMAGES ? K : REF_IMAGES;
    pred = malloc(sizeof(int32_t) * (size_t)T * (size_t)K);
    scores = malloc(sizeof(int32_t) * (size_t)model.num_classes);
    if (!pred || !scores) {
        rc = cim_error_set(&err, CIM_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if ((rc = cim_plan_init(&plan, &model, &cfg, 0, o.first_layer, &err)) != 0)
        goto fail;
    const int32_t n_crossbar = plan.n_crossbar;
    if (n_crossbar == 0) {
        rc = cim_error_set(&err, CIM_ERR_INPUT, "%s: no layer runs on crossbars", o.model);
        goto fail;
    }
    if ((rc = cim_ocl_open(&ocl, o.device, &err)) != 0)
        goto fail;
    ocl_open = 1;

    const double macs = (double)model.macs_per_image, xmacs = (double)cim_plan_crossbar_macs(&plan);
    const cim_mapping_desc *md = cim_mapping_desc_of(cfg.mapping);
    printf("device: %s / %s (%u compute units)\n", ocl.platform_name, ocl.device_name,
           ocl.compute_units);
    printf("model: %s (%s, %s, %d layers, %d on crossbars, first layer on the %s; %.3f M MACs "
           "per image, %.3f M crossbar MACs)\n",
           o.model, model.name, cim_model_kind_name(model.kind), model.num_layers, n_crossbar,
           o.first_layer == CIM_PIXELS_ON_CROSSBAR ? "crossbar" : "host", macs * 1e-6,
           xmacs * 1e-6);
    printf("config: %s %dx%d, HRS/LRS %g/%g uA, D2D %s sigma %g/%g uA, C2C %s, %s",
           cim_mapping_name(cfg.mapping), cfg.M, cfg.N, cfg.hrs_ua, cfg.lrs_ua,
           cfg.d2d_var ? "on" : "off", cfg.hrs_noise_ua, cfg.lrs_noise_ua,
           cfg.c2c_var ? "on" : "off", cim_config_adc_type_name(cfg.adc_type));
    if (cfg.adc_type != CIM_ADC_INF)
        printf(" %d-bit, MAX range", cfg.resolution);
    printf("%s, seed 0\n", md->signed_current ? " (signed currents)" : "");
    printf("workload: first %d test images of %s; executor %d trials x %d images, wall time of "
           "cim_executor_run, best of %d after 1 warm-up; reference %d trials x %d images, 1 "
           "thread, best of %d\n\n",
           K, all.images_path, T, K, R, ref_trials, ref_images, R);
    fflush(stdout);

    /* (a) the executor, on the pipeline AUTO picks for this device; the
     * other pipeline too when the device pipeline applies */
    cim_exec_job job = {.plan = &plan,
                        .images = data.images,
                        .n_images = K,
                        .first_image = 0,
                        .trial_first = 0,
                        .n_trials = T,
                        .mismatches = NULL,
                        .outputs = NULL,
                        .pipeline = CIM_PIPELINE_DEVICE};
    const int device_applies = cim_executor_device_applies(&ocl, &job);
    job.pipeline = CIM_PIPELINE_AUTO;
    const int auto_device = cim_executor_device_applies(&ocl, &job);
    double pipeline_s[2] = {0, 0}; /* host, device */
    for (int pl = 0; pl < 1 + device_applies; ++pl) {
        job.pipeline = pl ? CIM_PIPELINE_DEVICE : CIM_PIPELINE_HOST;
        for (int32_t r = -1; r < R; ++r) {
            const double t0 = cim_clock_now_s();
            if ((rc = cim_executor_run(&ocl, &job, pred, &err)) != 0)
                goto fail;
            const double dt = cim_clock_now_s() - t0;
            if (r == 0 || (r > 0 && dt < pipeline_s[pl]))
                pipeline_s[pl] = dt;
        }
    }
    const double exec_s = pipeline_s[auto_device];
    int64_t correct = 0;
    for (int64_t k = 0; k < (int64_t)T * K; ++k)
        correct += pred[k] == data.labels[k % K];

    /* (b) the reference, on the first trials and images of the same run */
    double ref_s = 0;
    int64_t agree = 0;
    const int64_t ref_pairs = (int64_t)ref_trials * ref_images;
    for (int32_t r = 0; r < R; ++r) {
        int64_t same = 0;
        const double t0 = cim_clock_now_s();
        for (int32_t t = 0; t < ref_trials; ++t)
            for (int32_t k = 0; k < ref_images; ++k) {
                const uint8_t *px = data.images + (size_t)k * (size_t)all.height * all.width;
                rc = cim_netref_image(&plan, px, (uint32_t)k, (uint32_t)t, scores, &err);
                if (rc < 0)
                    goto fail;
                same += rc == pred[(size_t)t * K + k];
            }
        const double dt = cim_clock_now_s() - t0;
        if (r == 0 || dt < ref_s)
            ref_s = dt;
        agree = same;
    }

    const double exec_rate = (double)T * K / exec_s, ref_rate = (double)ref_pairs / ref_s;
    const double refsim = REFSIM_MACS_PER_CORE * REFSIM_CORES;
    const double target_rate = (double)PROJ_TRIALS * TEST_IMAGES / H100_TARGET_S;
    printf("%-48s %14s %20s\n", "throughput", "trial*image/s", "G trial*image*MAC/s");
    for (int pl = 0; pl < 1 + device_applies; ++pl) {
        const double rate = (double)T * K / pipeline_s[pl];
        printf("%-48s %14.1f %20.3f%s\n",
               pl ? "OpenCL executor, device pipeline (wall)"
                  : "OpenCL executor, host pipeline (wall)",
               rate, rate * macs * 1e-9, pl == auto_device ? "  (the default here)" : "");
    }
    printf("%-48s %14.1f %20.3f\n", "plain-C reference (cim_netref_image, 1 thread)", ref_rate,
           ref_rate * macs * 1e-9);
    printf("  executor: %.3f s per run of %d x %d; mean accuracy %.4f over %lld predictions\n",
           exec_s, T, K, (double)correct / ((double)T * K), (long long)T * K);
    printf("  reference: %.3f s for %lld trial*images; %lld of %lld predictions equal the "
           "executor's\n",
           ref_s, (long long)ref_pairs, (long long)agree, (long long)ref_pairs);
    printf("\nratios\n");
    printf("  executor / plain-C reference                     %10.1fx\n", exec_rate / ref_rate);
    printf("  executor crossbar MACs / reference simulator     %10.2fx  (%.2f G MAC/s = %.2f per "
           "core x %d, docs/design.md §5)\n",
           exec_rate * xmacs / refsim, refsim * 1e-9, REFSIM_MACS_PER_CORE * 1e-9, REFSIM_CORES);

    printf("\nprojection on THIS device (%s) at the measured executor rate, not a measurement:\n",
           ocl.device_name);
    print_duration("cimgpu --trials 10000, default 100 images",
                   (double)PROJ_TRIALS * CLI_IMAGES / exec_rate);
    print_duration("cimgpu --trials 10000 --images 10000",
                   (double)PROJ_TRIALS * TEST_IMAGES / exec_rate);
    printf("  %-50s %10.1f s  (%.0f trial*image/s)\n",
           "docs/design.md §5 target on one H100, 10000 x 10000", H100_TARGET_S, target_rate);
    printf("  %-50s %10.4fx  (projected time %.0fx the target's)\n",
           "measured rate / H100 target rate", exec_rate / target_rate, target_rate / exec_rate);
    status = 0;
    goto done;
fail:
    fprintf(stderr, "bench_run: %s\n", err.msg);
    status = cim_error_exit_code(rc);
done:
    if (ocl_open)
        cim_ocl_close(&ocl);
    free(scores);
    free(pred);
    cim_plan_free(&plan);
    cim_dataset_free(&data);
    cim_dataset_free(&all);
    cim_model_free(&model);
    cim_config_free(&cfg);
    return status;
}
