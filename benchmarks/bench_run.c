/* bench_run.c -- throughput of the network Monte-Carlo (docs/design.md §5;
 * every figure and target: docs/benchmarks.md): the OpenCL executor on both
 * pipelines, the work split by where it runs (crossbar layers, host layers),
 * the cost of C2C, and the projection of `cimgpu --trials 10000`, each
 * against the plain-C reference network or its target, in one run. Not a
 * test: it prints figures, ratios and whether each target is met.
 *
 * Workload: a model (default: the shipped TNN CNN) on the first K
 * Fashion-MNIST test images, on the default crossbar of `cimgpu run`
 * (cli_run.c: 256x256 TNN_I, HRS/LRS 5/30 uA, D2D sigma 1/4 uA, ideal ADC;
 * --config read over it as `cimgpu run --config` reads it, --adc-bits B for a
 * finite ADC), seed 0. Every time is a wall time (cim_clock_now_s) unless it
 * says kernel; R rounds run every workload in turn after one warm-up, and
 * each figure is given for the best round and as the median over rounds.
 *
 *  (a) executor: one cim_executor_run over T trials x K images, on the host
 *      pipeline and, where it applies, the device pipeline; trial*image/s and
 *      crossbar MAC/s. The default pipeline (AUTO) is marked.
 *  (b) where the work runs. MACs per image: crossbar layers (rows x cols x
 *      positions x bit planes of every layer on crossbars, logical MACs of
 *      each read) and host layers (weight layers run exactly on the host,
 *      e.g. the first conv2d on raw pixels: rows x cols x positions, done
 *      once per image for all chips). Time: a host-pipeline run with the
 *      executor's own time split (cim_exec_job.times, cim_exec.h): host
 *      layers (exact steps on tensors every chip shares), crossbar engine
 *      calls (whole call, and their kernel time), the crossbar steps' own
 *      host work and the exact layers between crossbar layers (per chip);
 *      the executor's time is then attributed in the same proportions, and
 *      crossbar MAC/s are given against the executor's whole time (all of it
 *      charged to the crossbar layers), against the executor's time less the
 *      timed run's host-layer time, against the engine calls and their
 *      kernels.
 *  (c) plain-C reference: cim_netref_image on one thread over a few trials x
 *      images, fastest of R passes, checked against the executor's
 *      predictions; the ratio executor / reference.
 *  (d) C2C: ms per image x chip with C2C on (the config with c2c_var true,
 *      then --c2c-config read over it: any C2C model a config key selects)
 *      against the same config with D2D only (c2c_var false), both on the
 *      AUTO pipeline. The fixed part of a run (set-up, per-chip sampling) is
 *      subtracted by timing two sizes of each, K and 2K images on the same
 *      chips: per image x chip = (W(2K) - W(K)) / (chips x K).
 *  (e) projection of `cimgpu --trials 10000` on the default 100 images: the
 *      Monte-Carlo (cim_mc_run, as `cimgpu run` runs it without --out: AUTO
 *      pipeline, no per-layer error rates) of P and 2P chips on images 0..99
 *      and the digital run of those images; 10000 chips = fixed + 10000 x
 *      per chip (two sizes) + the digital run. The 10000 x 10000 projection
 *      scales that by 100 (every part taken as growing with the images).
 *      Process start, loading, the kernel build and printing are not in it.
 *
 *   bench_run [--trials T] [--images K] [--repeat R] [--model M.h5]
 *             [--device SPEC] [--adc-bits B] [--first-layer host|crossbar]
 *             [--config CFG.json] [--c2c-config CFG.json] [--c2c-trials T]
 *             [--c2c-images K] [--proj-trials P] [--no-c2c] [--no-projection]
 *
 * --config is the way to measure a device-physics model (e.g.
 * {"parasitics": true, "w_res": 1} for bit-line IR drop) on the same
 * workload; --c2c-config (read over the C2C config) the way to measure
 * another C2C model (e.g. a "c2c_model" key) with no code change.
 *
 * Exit status: 0 (also when a target is missed: the output says so); 2 for a
 * bad option or a missing/invalid model or dataset; 1 for a device or
 * runtime failure, or when the reference disagrees with the executor.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_stats.h"
#include "cim_clock.h"
#include "cim_config.h"
#include "cim_engine.h"
#include "cim_executor.h"
#include "cim_executor_device.h"
#include "cim_forward.h"
#include "cim_idx.h"
#include "cim_mapping.h"
#include "cim_model.h"
#include "cim_montecarlo.h"
#include "cim_netref.h"
#include "cim_ocl.h"
#include "cli.h"

#ifndef CIM_MODEL_DIR
#define CIM_MODEL_DIR "data/models"
#endif
#define DEFAULT_MODEL CIM_MODEL_DIR "/tnn_cnn.h5"
#define MAX_TRIALS 1000000
#define MAX_ROUNDS 100 /* <= BENCH_MAX_ROUNDS */
#define REF_TRIALS 4   /* reference workload: trials x images */
#define REF_IMAGES 4
#define TEST_IMAGES 10000 /* Fashion-MNIST test set */
#define CLI_IMAGES 100    /* `cimgpu run` default --images */
#define PROJ_TRIALS 10000
/* The CIM-Explorer reference simulator, measured on the 2-core CPU machine
 * of docs/design.md §5: 0.67 to 0.72 G MAC/s per core. */
#define REFSIM_MACS_PER_CORE_LO 0.67e9
#define REFSIM_MACS_PER_CORE_HI 0.72e9
#define REFSIM_CORES 2
/* Targets (docs/design.md §5, docs/benchmarks.md). */
#define TARGET_C2C_MS 3.0     /* per image x chip, tnn_cnn on the 2-core CPU */
#define TARGET_C2C_RATIO 25.0 /* C2C / D2D only, per image x chip */
#define TARGET_CLI_S 20.0     /* cimgpu --trials 10000 (100 images), 2-core CPU */
#define TARGET_GPU_S 60.0     /* 10000 trials x 10000 images, one H100/H200-class GPU */

typedef struct bench_options {
    uint64_t trials, images, repeats, c2c_trials, c2c_images, proj_trials;
    int adc_bits; /* -1: the config's ADC */
    int c2c, projection;
    cim_pixel_layers first_layer;
    const char *model, *device, *config, *c2c_config;
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
    static const char *const valued[] = {"--trials",      "--images",     "--repeat",
                                         "--model",       "--device",     "--adc-bits",
                                         "--first-layer", "--config",     "--c2c-config",
                                         "--c2c-trials",  "--c2c-images", "--proj-trials"};
    o->trials = 64;
    o->images = 32;
    o->repeats = 3;
    o->c2c_trials = 4;
    o->c2c_images = 4;
    o->proj_trials = 0; /* 0: --trials */
    o->adc_bits = -1;
    o->c2c = o->projection = 1;
    o->model = DEFAULT_MODEL;
    o->device = o->config = o->c2c_config = NULL;
    o->first_layer = CIM_PIXELS_ON_HOST;
    for (int a = 1; a < argc; a += 2) {
        const char *name = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;
        uint64_t u;
        if (!strcmp(name, "--no-c2c") || !strcmp(name, "--no-projection")) {
            *(name[5] == 'c' ? &o->c2c : &o->projection) = 0;
            --a;
            continue;
        }
        int known = 0;
        for (size_t k = 0; k < sizeof valued / sizeof *valued; ++k)
            known |= !strcmp(name, valued[k]);
        if (!known)
            return usage_error("unknown option '%s' (--trials --images --repeat --model --device "
                               "--adc-bits --first-layer --config --c2c-config --c2c-trials "
                               "--c2c-images --proj-trials --no-c2c --no-projection)",
                               name);
        if (!v)
            return usage_error("option '%s' needs a value", name);
        if (!strcmp(name, "--trials") || !strcmp(name, "--c2c-trials") ||
            !strcmp(name, "--proj-trials")) {
            if (cim_cli_parse_u64(v, 1, MAX_TRIALS, &u) != 0)
                return usage_error("trials '%s': expected an integer from 1 to 1000000", v);
            *(!strcmp(name, "--trials")       ? &o->trials
              : !strcmp(name, "--c2c-trials") ? &o->c2c_trials
                                              : &o->proj_trials) = u;
        } else if (!strcmp(name, "--images") || !strcmp(name, "--c2c-images")) {
            if (cim_cli_parse_u64(v, 1, TEST_IMAGES / 2, &u) != 0)
                return usage_error("images '%s': expected an integer from 1 to 5000", v);
            *(!strcmp(name, "--images") ? &o->images : &o->c2c_images) = u;
        } else if (!strcmp(name, "--repeat")) {
            if (cim_cli_parse_u64(v, 1, MAX_ROUNDS, &o->repeats) != 0)
                return usage_error("--repeat '%s': expected an integer from 1 to 100", v);
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
        } else if (!strcmp(name, "--c2c-config")) {
            o->c2c_config = v;
        } else {
            o->device = v;
        }
    }
    if (!o->proj_trials)
        o->proj_trials = o->trials;
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

/* base with `set` (KEY=VALUE, as `cimgpu run --set`), then the file `over`
 * (NULL: none) read over it. */
static int derive_config(const cim_config *base, const char *set, const char *over, cim_config *cfg,
                         cim_error *err)
{
    int rc = cim_config_apply_sets(base, &set, 1, "bench_run", cfg, err);
    if (rc != 0 || !over)
        return rc;
    cim_config mid = *cfg;
    rc = cim_config_load_over(over, &mid, cfg, err);
    cim_config_free(&mid);
    return rc != 0 ? rc : cim_config_validate(cfg, err);
}

/* A figure against its target: at_least 1: value >= target, 0: <=;
 * target < 0: no target. */
static void print_check(const char *label, double best, double med, const char *unit, double target,
                        int at_least, const char *note)
{
    printf("  %-54s %10.3f", label, best);
    if (med >= 0)
        printf(" %10.3f %-4s", med, unit);
    else
        printf(" %10s %-4s", "-", unit);
    if (target < 0) {
        printf(" %-9s %s\n", "-", note ? note : "");
        return;
    }
    char t[32];
    snprintf(t, sizeof t, "%s %g", at_least ? ">=" : "<=", target);
    printf(" %-9s %s%s%s\n", t, bench_verdict(best, target, at_least), note ? "; " : "",
           note ? note : "");
}

/* ---- where the host pipeline's time goes (cim_exec_times) ------------- */

/* One host-pipeline cim_executor_run with the executor's own time split;
 * *whole its wall time. */
static int timed_run(cim_ocl *ocl, const cim_exec_job *job, int32_t *pred, cim_exec_times *times,
                     double *whole, cim_error *err)
{
    cim_exec_job j = *job;
    j.pipeline = CIM_PIPELINE_HOST;
    j.times = times;
    *times = (cim_exec_times){0, 0, 0, 0, 0, 0, 0};
    const double t0 = cim_clock_now_s();
    const int rc = cim_executor_run(ocl, &j, pred, err);
    *whole = cim_clock_now_s() - t0;
    return rc;
}

/* ---- the Monte-Carlo as `cimgpu run` runs it (projection) ------------- */

static int count_sink(void *ctx, const cim_mc_chunk *chunk, cim_error *err)
{
    int64_t *correct = ctx;
    (void)err;
    for (int32_t t = 0; t < chunk->n; ++t)
        *correct += chunk->correct[t];
    return 0;
}

/* Wall time of cim_mc_run of `trials` chips on `data`. */
static int mc_time(cim_ocl *ocl, const cim_plan *plan, const cim_dataset *data, int64_t trials,
                   double *seconds, cim_error *err)
{
    int64_t correct = 0;
    const cim_mc_setup s = {.plan = plan,
                            .images = data->images,
                            .labels = data->labels,
                            .n_images = data->count,
                            .n_trials = trials,
                            .skip_layer_errors = 1,
                            .pipeline = CIM_PIPELINE_AUTO};
    const double t0 = cim_clock_now_s();
    const int rc = cim_mc_run(ocl, &s, 0, count_sink, NULL, &correct, err);
    *seconds = cim_clock_now_s() - t0;
    return rc;
}

/* Wall time of one cim_executor_run. */
static int exec_time(cim_ocl *ocl, const cim_exec_job *job, int32_t *pred, double *seconds,
                     cim_error *err)
{
    const double t0 = cim_clock_now_s();
    const int rc = cim_executor_run(ocl, job, pred, err);
    *seconds = cim_clock_now_s() - t0;
    return rc;
}

static const char *pipeline_name(const cim_ocl *ocl, const cim_exec_job *job)
{
    const char *why = NULL;
    const cim_pipeline p = cim_executor_pipeline(ocl, job, &why);
    static char buf[96];
    snprintf(buf, sizeof buf, "%s%s%s%s", p == CIM_PIPELINE_DEVICE ? "device" : "host",
             why ? " (" : "", why ? why : "", why ? ")" : "");
    return buf;
}

/* Host-layer MACs per image: weight layers the plan runs exactly. */
static double host_layer_macs(const cim_plan *p)
{
    double macs = 0;
    for (int32_t l = 0; l < p->num_layers; ++l) {
        const cim_layer *L = p->layers[l].layer;
        if (cim_plan_on_crossbar(&p->layers[l]))
            continue;
        if (L->type == CIM_LAYER_DENSE)
            macs += (double)L->dense.out_features * L->dense.in_features;
        else if (L->type == CIM_LAYER_CONV2D)
            macs += (double)L->conv2d.out_channels * L->conv2d.in_channels * L->conv2d.kernel[0] *
                    L->conv2d.kernel[1] * L->out_shape.dim[1] * L->out_shape.dim[2];
    }
    return macs;
}

static void print_duration(const char *label, double seconds, double target, const char *note)
{
    char v[32];
    if (seconds < 120)
        snprintf(v, sizeof v, "%.1f s", seconds);
    else if (seconds < 2 * 3600)
        snprintf(v, sizeof v, "%.1f min", seconds / 60);
    else
        snprintf(v, sizeof v, "%.1f h", seconds / 3600);
    printf("  %-54s %12s", label, v);
    if (target > 0)
        printf("   <= %g s   %s", target, bench_verdict(seconds, target, 0));
    printf("%s%s\n", note ? "   " : "", note ? note : "");
}

int main(int argc, char **argv)
{
    bench_options o;
    cim_config cfg, cfg_c2c, cfg_d2d;
    cim_model model;
    cim_dataset all, data, data2, cli_data;
    cim_ocl ocl;
    cim_error err;
    cim_plan plan, plan_c2c, plan_d2d, plan_digital;
    int32_t *pred = NULL, *pred2 = NULL, *scores = NULL;
    int rc, ocl_open = 0, status = 1;
    memset(&model, 0, sizeof model);
    memset(&plan, 0, sizeof plan);
    memset(&plan_c2c, 0, sizeof plan_c2c);
    memset(&plan_d2d, 0, sizeof plan_d2d);
    memset(&plan_digital, 0, sizeof plan_digital);
    memset(&all, 0, sizeof all);
    memset(&data, 0, sizeof data);
    memset(&data2, 0, sizeof data2);
    memset(&cli_data, 0, sizeof cli_data);
    cim_cli_keep_freed_memory(); /* as `cimgpu` does: the runs measured are its runs */
    cim_config_default(&cfg);
    cim_config_default(&cfg_c2c);
    cim_config_default(&cfg_d2d);
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
    const int32_t T = (int32_t)o.trials, K = (int32_t)o.images, R = (int32_t)o.repeats;
    if ((rc = cim_dataset_subset(&all, 0, K, &data, &err)) != 0 ||
        (rc = cim_dataset_subset(&all, 0, 2 * (int64_t)K, &data2, &err)) != 0 ||
        (rc = cim_dataset_subset(&all, 0, CLI_IMAGES, &cli_data, &err)) != 0)
        goto fail;
    const int32_t ref_trials = T < REF_TRIALS ? T : REF_TRIALS;
    const int32_t ref_images = K < REF_IMAGES ? K : REF_IMAGES;
    pred = malloc(sizeof(int32_t) * (size_t)T * (size_t)K * 2);
    pred2 = malloc(sizeof(int32_t) * (size_t)T * (size_t)K * 2);
    scores = malloc(sizeof(int32_t) * (size_t)model.num_classes);
    if (!pred || !pred2 || !scores) {
        rc = cim_error_set(&err, CIM_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if ((rc = cim_plan_init(&plan, &model, &cfg, 0, o.first_layer, &err)) != 0)
        goto fail;
    if (plan.n_crossbar == 0) {
        rc = cim_error_set(&err, CIM_ERR_INPUT, "%s: no layer runs on crossbars", o.model);
        goto fail;
    }
    if (o.c2c && ((rc = derive_config(&cfg, "c2c_var=true", o.c2c_config, &cfg_c2c, &err)) != 0 ||
                  (rc = derive_config(&cfg, "c2c_var=false", NULL, &cfg_d2d, &err)) != 0 ||
                  (rc = cim_plan_init(&plan_c2c, &model, &cfg_c2c, 0, o.first_layer, &err)) != 0 ||
                  (rc = cim_plan_init(&plan_d2d, &model, &cfg_d2d, 0, o.first_layer, &err)) != 0))
        goto fail;
    if (o.projection) {
        if ((rc = cim_plan_init(&plan_digital, &model, &cfg, 0, o.first_layer, &err)) != 0)
            goto fail;
        cim_plan_make_digital(&plan_digital);
    }
    if ((rc = cim_ocl_open(&ocl, o.device, &err)) != 0)
        goto fail;
    ocl_open = 1;

    const int is_cpu = (ocl.device_type & CL_DEVICE_TYPE_CPU) != 0;
    const double xmacs = (double)cim_plan_crossbar_macs(&plan), hmacs = host_layer_macs(&plan);
    const cim_mapping_desc *md = cim_mapping_desc_of(cfg.mapping);
    printf("device: %s / %s (%s, %u compute units)\n", ocl.platform_name, ocl.device_name,
           is_cpu ? "CPU" : "GPU", ocl.compute_units);
    printf("model: %s (%s, %s, %d layers, %d on crossbars, first layer on the %s)\n", o.model,
           model.name, cim_model_kind_name(model.kind), model.num_layers, plan.n_crossbar,
           o.first_layer == CIM_PIXELS_ON_CROSSBAR ? "crossbar" : "host");
    printf("config: %s %dx%d, HRS/LRS %g/%g uA, D2D %s sigma %g/%g uA, C2C %s, %s",
           cim_mapping_name(cfg.mapping), cfg.M, cfg.N, cfg.hrs_ua, cfg.lrs_ua,
           cfg.d2d_var ? "on" : "off", cfg.hrs_noise_ua, cfg.lrs_noise_ua,
           cfg.c2c_var ? "on" : "off", cim_config_adc_type_name(cfg.adc_type));
    if (cfg.adc_type != CIM_ADC_INF)
        printf(" %d-bit", cfg.resolution);
    printf("%s, seed 0\n", md->signed_current ? " (signed currents)" : "");
    printf("workload: first %d test images of %s; executor %d trials x %d images; %d rounds "
           "after 1 warm-up (best round, median over rounds; verdicts judge the best); times are "
           "wall times (cim_clock_now_s) unless marked kernel\n\n",
           K, all.images_path, T, K, R);
    fflush(stdout);

    /* (a) + (b): per round the host pipeline, the device pipeline where it
     * applies, and a host-pipeline run with its time split. */
    cim_exec_job job = {.plan = &plan,
                        .images = data.images,
                        .n_images = K,
                        .n_trials = T,
                        .pipeline = CIM_PIPELINE_DEVICE};
    const int device_applies = cim_executor_device_applies(&ocl, &job);
    job.pipeline = CIM_PIPELINE_AUTO;
    const int auto_device = cim_executor_device_applies(&ocl, &job);
    double pipe_s[2][MAX_ROUNDS], timed_s[MAX_ROUNDS];
    cim_exec_times wt[MAX_ROUNDS];
    for (int32_t r = -1; r < R; ++r) {
        double s;
        for (int pl = 0; pl < 1 + device_applies; ++pl) {
            job.pipeline = pl ? CIM_PIPELINE_DEVICE : CIM_PIPELINE_HOST;
            if ((rc = exec_time(&ocl, &job, pl == auto_device ? pred : pred2, &s, &err)) != 0)
                goto fail;
            if (r >= 0)
                pipe_s[pl][r] = s;
        }
        cim_exec_times t;
        if ((rc = timed_run(&ocl, &job, pred2, &t, &s, &err)) != 0)
            goto fail;
        if (r >= 0) {
            timed_s[r] = s;
            wt[r] = t;
        }
    }
    job.pipeline = CIM_PIPELINE_AUTO;
    int64_t correct = 0;
    for (int64_t k = 0; k < (int64_t)T * K; ++k)
        correct += pred[k] == data.labels[k % K];

    /* (c) the reference, on the first trials and images of the same run */
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
    rc = 0;

    const double pairs = (double)T * K;
    const double exec_best = bench_min(pipe_s[auto_device], R);
    printf("(a) executor, %d x %d (trial*image/s; crossbar MAC/s counts crossbar MACs only)\n", T,
           K);
    printf("  %-54s %10s %10s\n", "", "best", "median");
    for (int pl = 0; pl < 1 + device_applies; ++pl) {
        printf("  %-54s %10.1f %10.1f trial*image/s%s\n",
               pl ? "device pipeline, whole cim_executor_run"
                  : "host pipeline, whole cim_executor_run",
               pairs / bench_min(pipe_s[pl], R), pairs / bench_median(pipe_s[pl], R),
               pl == auto_device ? "  (AUTO's choice here)" : "");
        printf("  %-54s %10.3f %10.3f G MAC/s\n", "  crossbar MACs per second",
               pairs * xmacs / bench_min(pipe_s[pl], R) * 1e-9,
               pairs * xmacs / bench_median(pipe_s[pl], R) * 1e-9);
    }
    if (device_applies) {
        double q[MAX_ROUNDS];
        for (int r = 0; r < R; ++r)
            q[r] = pipe_s[0][r] / pipe_s[1][r];
        printf("  %-54s %10.2f %10.2f x\n", "device pipeline rate / host pipeline rate",
               bench_min(pipe_s[0], R) / bench_min(pipe_s[1], R), bench_median(q, R));
    } else {
        printf("  device pipeline: does not apply (%s)\n", pipeline_name(&ocl, &job));
    }
    printf("  mean accuracy %.4f over %lld predictions\n", (double)correct / pairs,
           (long long)T * K);

    /* (b) the work by where it runs */
    printf("\n(b) where the work runs, per image\n");
    for (int32_t l = 0; l < plan.num_layers; ++l) {
        const cim_layer_plan *lp = &plan.layers[l];
        const cim_layer *L = lp->layer;
        if (cim_plan_on_crossbar(lp))
            printf("  %-24s crossbar  %6d x %-6d x %5d positions x %d plane(s) = %10.3f M MACs "
                   "per chip\n",
                   L->name, lp->mvm.rows, lp->mvm.cols, lp->mvm.positions, lp->mvm.planes,
                   (double)lp->mvm.rows * lp->mvm.cols * lp->mvm.positions * lp->mvm.planes * 1e-6);
        else if (L->type == CIM_LAYER_DENSE || L->type == CIM_LAYER_CONV2D)
            printf("  %-24s host      exact, once per image for all chips%s\n", L->name,
                   cim_plan_shared(&plan, l) ? "" : " (per chip)");
    }
    printf("  crossbar layers %.3f M MACs per image and chip; host layers %.3f M MACs per image "
           "(model total %.3f M)\n",
           xmacs * 1e-6, hmacs * 1e-6, (double)model.macs_per_image * 1e-6);
    {
        double host[MAX_ROUNDS], eng[MAX_ROUNDS], kern[MAX_ROUNDS], step[MAX_ROUNDS];
        double chip[MAX_ROUNDS], share[MAX_ROUNDS], attr[MAX_ROUNDS];
        for (int r = 0; r < R; ++r) {
            host[r] = wt[r].shared_layers;
            eng[r] = wt[r].engine;
            kern[r] = wt[r].engine_program + wt[r].engine_read;
            step[r] = wt[r].gather + wt[r].outputs;
            chip[r] = wt[r].chip_layers;
            share[r] = host[r] / timed_s[r];
            attr[r] = pipe_s[auto_device][r] * (1 - share[r]);
        }
        const double timed_best = bench_min(timed_s, R);
        printf("  the host pipeline's own time split (cim_exec_times of a timed run), s per "
               "run:\n");
        printf("  %-54s %10s %10s\n", "", "best", "median");
        printf("  %-54s %10.4f %10.4f s\n", "timed run, whole", timed_best,
               bench_median(timed_s, R));
        printf("  %-54s %10.4f %10.4f s\n", "  host layers (shared tensors, once per image)",
               bench_min(host, R), bench_median(host, R));
        printf("  %-54s %10.4f %10.4f s\n", "  crossbar engine calls, whole cim_engine_mvm",
               bench_min(eng, R), bench_median(eng, R));
        printf("  %-54s %10.4f %10.4f s\n", "    of which kernel time (program + read)",
               bench_min(kern, R), bench_median(kern, R));
        printf("  %-54s %10.4f %10.4f s\n", "  crossbar steps' host work (vectors, outputs)",
               bench_min(step, R), bench_median(step, R));
        printf("  %-54s %10.4f %10.4f s\n", "  exact layers between crossbar layers (per chip)",
               bench_min(chip, R), bench_median(chip, R));
        printf(
            "  executor time attributed by the timed run's shares: host layers %.1f %%, crossbar "
            "engine calls %.1f %%, rest %.1f %% (median round)\n",
            100 * bench_median(share, R), 100 * bench_median(eng, R) / bench_median(timed_s, R),
            100 * (1 - bench_median(share, R) - bench_median(eng, R) / bench_median(timed_s, R)));
        printf("  %-54s %10s %10s\n", "crossbar G MAC/s (crossbar MACs only)", "best", "median");
        printf("  %-54s %10.3f %10.3f\n", "  / executor time (all of it charged to crossbars)",
               pairs * xmacs / exec_best * 1e-9,
               pairs * xmacs / bench_median(pipe_s[auto_device], R) * 1e-9);
        printf("  %-54s %10.3f %10.3f\n", "  / executor time less the host layers' share",
               pairs * xmacs / bench_min(attr, R) * 1e-9,
               pairs * xmacs / bench_median(attr, R) * 1e-9);
        printf("  %-54s %10.3f %10.3f\n", "  / engine calls, whole",
               pairs * xmacs / bench_min(eng, R) * 1e-9,
               pairs * xmacs / bench_median(eng, R) * 1e-9);
        printf("  %-54s %10.3f %10.3f\n", "  / engine kernel time",
               pairs * xmacs / bench_min(kern, R) * 1e-9,
               pairs * xmacs / bench_median(kern, R) * 1e-9);
        if (hmacs > 0)
            printf("  %-54s %10.3f %10.3f\n", "host layers G MAC/s (once per image)",
                   K * hmacs / bench_min(host, R) * 1e-9, K * hmacs / bench_median(host, R) * 1e-9);
    }

    /* (c) */
    const double exec_rate = pairs / exec_best, ref_rate = (double)ref_pairs / ref_s;
    printf("\n(c) plain-C reference (cim_netref_image, 1 thread, %d x %d, best of %d)\n",
           ref_trials, ref_images, R);
    printf("  %-54s %10.2f trial*image/s (%.3f G crossbar MAC/s)\n", "reference", ref_rate,
           ref_rate * xmacs * 1e-9);
    printf("  %-54s %10.1f x   (%lld of %lld predictions equal the executor's)\n",
           "executor (AUTO, best) / reference", exec_rate / ref_rate, (long long)agree,
           (long long)ref_pairs);
    {
        const double cores = is_cpu ? (double)ocl.compute_units : REFSIM_CORES;
        printf("  %-54s %10.2f x   (%.2f x against 0.67 G/s per core; reference simulator "
               "0.67-0.72 G MAC/s per core x %.0f %s; all executor time charged)\n",
               "executor crossbar MACs / reference simulator",
               exec_rate * xmacs / (REFSIM_MACS_PER_CORE_HI * cores),
               exec_rate * xmacs / (REFSIM_MACS_PER_CORE_LO * cores), cores,
               is_cpu ? "cores = compute units" : "cores: per device, not per core");
    }
    if (agree != ref_pairs) {
        snprintf(err.msg, sizeof err.msg,
                 "the reference disagrees with the executor on %lld predictions",
                 (long long)(ref_pairs - agree));
        rc = 0;
        goto fail;
    }

    /* (d) C2C against D2D only, two sizes each */
    if (o.c2c) {
        const int32_t Tc = (int32_t)o.c2c_trials, Kc = (int32_t)o.c2c_images;
        cim_dataset c1, c2;
        memset(&c1, 0, sizeof c1);
        memset(&c2, 0, sizeof c2);
        int32_t *cp = malloc(sizeof(int32_t) * (size_t)Tc * (size_t)Kc * 2);
        if (!cp || (rc = cim_dataset_subset(&all, 0, Kc, &c1, &err)) != 0 ||
            (rc = cim_dataset_subset(&all, 0, 2 * (int64_t)Kc, &c2, &err)) != 0) {
            free(cp);
            cim_dataset_free(&c1);
            cim_dataset_free(&c2);
            if (!rc)
                rc = cim_error_set(&err, CIM_ERR_NOMEM, "out of memory");
            goto fail;
        }
        cim_exec_job jc1 = {.plan = &plan_c2c, .images = c1.images, .n_images = Kc, .n_trials = Tc};
        cim_exec_job jc2 = jc1;
        jc2.images = c2.images;
        jc2.n_images = 2 * Kc;
        cim_exec_job jd1 = {.plan = &plan_d2d, .images = data.images, .n_images = K, .n_trials = T};
        cim_exec_job jd2 = jd1;
        jd2.images = data2.images;
        jd2.n_images = 2 * K;
        double wc1[MAX_ROUNDS], wc2[MAX_ROUNDS], wd1[MAX_ROUNDS], wd2[MAX_ROUNDS];
        double mc[MAX_ROUNDS], md2[MAX_ROUNDS], q[MAX_ROUNDS];
        for (int32_t r = -1; r < R && rc == 0; ++r) {
            double s[4];
            if ((rc = exec_time(&ocl, &jc1, cp, &s[0], &err)) != 0 ||
                (rc = exec_time(&ocl, &jc2, cp, &s[1], &err)) != 0 ||
                (rc = exec_time(&ocl, &jd1, pred2, &s[2], &err)) != 0 ||
                (rc = exec_time(&ocl, &jd2, pred2, &s[3], &err)) != 0)
                break;
            if (r >= 0) {
                wc1[r] = s[0];
                wc2[r] = s[1];
                wd1[r] = s[2];
                wd2[r] = s[3];
                mc[r] = (s[1] - s[0]) / ((double)Tc * Kc) * 1e3;
                md2[r] = (s[3] - s[2]) / ((double)T * K) * 1e3;
                /* a round whose two sizes did not differ gives no ratio */
                q[r] = mc[r] > 0 && md2[r] > 0 ? mc[r] / md2[r] : -1;
            }
        }
        free(cp);
        cim_dataset_free(&c1);
        cim_dataset_free(&c2);
        if (rc != 0)
            goto fail;
        const double best_c = (bench_min(wc2, R) - bench_min(wc1, R)) / ((double)Tc * Kc) * 1e3;
        const double best_d = (bench_min(wd2, R) - bench_min(wd1, R)) / ((double)T * K) * 1e3;
        printf("\n(d) C2C: ms per image x chip, whole cim_executor_run, fixed part removed by two "
               "sizes: (W(2K) - W(K)) / (chips x K)\n");
        printf("  C2C config: the config with c2c_var true%s%s (sigma HRS/LRS %g/%g uA); pipeline "
               "%s\n",
               o.c2c_config ? ", then " : "", o.c2c_config ? o.c2c_config : "",
               cfg_c2c.hrs_noise_c2c_ua, cfg_c2c.lrs_noise_c2c_ua, pipeline_name(&ocl, &jc1));
        printf("  D2D only: the config with c2c_var false; pipeline %s\n",
               pipeline_name(&ocl, &jd1));
        printf("  %-54s %10s %10s %-4s %-9s %s\n", "", "best", "median", "", "target", "verdict");
        char n1[160], n2[160];
        snprintf(n1, sizeof n1, "%d chips x %d and %d images; fixed part %.3f s", Tc, Kc, 2 * Kc,
                 bench_min(wc1, R) - best_c * 1e-3 * Tc * Kc);
        snprintf(n2, sizeof n2, "%d chips x %d and %d images; fixed part %.3f s", T, K, 2 * K,
                 bench_min(wd1, R) - best_d * 1e-3 * T * K);
        const int c2c_target_applies = is_cpu && !strcmp(model.name, "tnn_cnn");
        print_check("C2C on, ms per image x chip", best_c, bench_median(mc, R), "ms", TARGET_C2C_MS,
                    0, n1);
        if (!c2c_target_applies)
            printf("  %-54s (the 3 ms target is stated for tnn_cnn on the 2-core CPU)\n", "");
        print_check("D2D only, ms per image x chip", best_d, bench_median(md2, R), "ms", -1, 0, n2);
        if (best_c > 0 && best_d > 0)
            print_check("C2C / D2D only, per image x chip", best_c / best_d,
                        bench_min(q, R) > 0 ? bench_median(q, R) : -1, "x", TARGET_C2C_RATIO, 0,
                        bench_min(q, R) > 0 ? NULL : "no median: a round's sizes did not differ");
        else
            printf("  C2C / D2D only: n/a, a two-size difference was not positive (noise: use "
                   "more --images / --c2c-images)\n");
    }

    /* (e) projection of `cimgpu --trials 10000` */
    if (o.projection) {
        const int64_t P = (int64_t)o.proj_trials;
        double w1[MAX_ROUNDS], w2[MAX_ROUNDS], wdig[MAX_ROUNDS], pr[MAX_ROUNDS];
        for (int32_t r = -1; r < R; ++r) {
            double s[3];
            if ((rc = mc_time(&ocl, &plan, &cli_data, P, &s[0], &err)) != 0 ||
                (rc = mc_time(&ocl, &plan, &cli_data, 2 * P, &s[1], &err)) != 0 ||
                (rc = mc_time(&ocl, &plan_digital, &cli_data, 1, &s[2], &err)) != 0)
                goto fail;
            if (r >= 0) {
                w1[r] = s[0];
                w2[r] = s[1];
                wdig[r] = s[2];
                const double per = (s[1] - s[0]) / P;
                pr[r] = s[0] - per * P + per * PROJ_TRIALS + s[2];
            }
        }
        const double per = (bench_min(w2, R) - bench_min(w1, R)) / P;
        const double fixed = bench_min(w1, R) - per * P;
        const double proj = fixed + per * PROJ_TRIALS + bench_min(wdig, R);
        printf("\n(e) projection from this device (%s), not a measurement of that run: "
               "cim_mc_run of %lld and %lld chips on images 0..%d (AUTO pipeline, no layer "
               "errors) + the digital run; 10000 chips = fixed + 10000 x per chip\n",
               ocl.device_name, (long long)P, (long long)(2 * P), CLI_IMAGES - 1);
        printf("  measured: %lld chips %.3f s, %lld chips %.3f s (best); per chip %.3f ms, fixed "
               "%.3f s, digital run %.3f s\n",
               (long long)P, bench_min(w1, R), (long long)(2 * P), bench_min(w2, R), per * 1e3,
               fixed, bench_min(wdig, R));
        if (!(per > 0)) {
            printf("  n/a: the two sizes did not differ (noise: use more --proj-trials)\n");
        } else {
            char note[160];
            snprintf(note, sizeof note, "median round %.1f s; target for the 2-core CPU%s",
                     bench_median(pr, R),
                     is_cpu ? (ocl.compute_units == 2 ? ""
                                                      : " (this CPU device has another "
                                                        "core count)")
                            : " (not this device's target)");
            print_duration("cimgpu --trials 10000 (default 100 images)", proj,
                           is_cpu ? TARGET_CLI_S : -1, note);
            snprintf(note, sizeof note, "x %d images; target for one H100/H200-class GPU%s",
                     TEST_IMAGES / CLI_IMAGES, is_cpu ? " (not this device's target)" : "");
            print_duration("cimgpu --trials 10000 --images 10000", proj * TEST_IMAGES / CLI_IMAGES,
                           is_cpu ? -1 : TARGET_GPU_S, note);
        }
    }
    status = 0;
    goto done;
fail:
    fprintf(stderr, "bench_run: %s\n", err.msg);
    status = rc == 0 ? 1 : cim_error_exit_code(rc);
done:
    if (ocl_open)
        cim_ocl_close(&ocl);
    free(scores);
    free(pred);
    free(pred2);
    cim_plan_free(&plan);
    cim_plan_free(&plan_c2c);
    cim_plan_free(&plan_d2d);
    cim_plan_free(&plan_digital);
    cim_dataset_free(&cli_data);
    cim_dataset_free(&data2);
    cim_dataset_free(&data);
    cim_dataset_free(&all);
    cim_model_free(&model);
    cim_config_free(&cfg);
    cim_config_free(&cfg_c2c);
    cim_config_free(&cfg_d2d);
    return status;
}
