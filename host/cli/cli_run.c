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
 * results file at once, so a long run loses no finished trial. Standard
 * output gets what runs (print_banner) before any work, and the results
 * table at the end; progress goes to stderr when it is a terminal.
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
#include "cim_mc_work.h"
#include "cim_model.h"
#include "cim_montecarlo.h"
#include "cim_plan.h"
#include "cim_ocl.h"
#include "cim_profile.h"
#include "cim_outfile.h"
#include "cim_provenance.h"
#include "cim_ranks.h"
#include "cim_signal.h"
#include "cim_stats.h"
#include "cli.h"
#include "cli_disturb.h"
#include "cli_profile.h"
#include "h5_run.h"

#define DEFAULT_SPLIT "t10k"
#define DEFAULT_IMAGES 100
#define DEFAULT_TRIALS 100
#define MAX_TRIALS 100000000ULL
#define YIELD_MARGIN 0.01 /* default yield target: digital accuracy minus one point */

typedef struct run_options {
    cim_cli_network_options net; /* model, images, chips, crossbar (cli.h) */
    const char *out;
    uint64_t trial_offset;
    double yield_target;
    int has_yield, trace, resume, force;
    cim_pipeline pipeline;
} run_options;

typedef struct run_state {
    run_options o;
    cim_config cfg;
    cim_cli_network_inputs in; /* model, images and the run's layer plan */
    cim_plan digital;          /* the same plan on digital crossbars */
    cim_ocl ocl;
    int ocl_open;
    cim_provenance prov;
    cim_outfile out; /* the claimed --out (cim_outfile.h) */
    cim_h5_run *h5;
    int64_t *correct, *top5;               /* per trial: top-1 and top-5 correct images */
    int64_t done;                          /* trials finished (resumed or run) */
    int64_t resumed;                       /* of those, copied from the interrupted run */
    int64_t digital_correct, digital_top5; /* the noise-free chip's */
    int interrupted;                       /* the signal that stopped the run, or 0 */
    cim_cli_progress prog;
    cim_cli_profiles prof;    /* ADC input profiles (adc_profile), summed over trials */
    cim_cli_disturb disturb;  /* read-disturb counters per chip (read_disturb) */
    cim_mc_work_stats work;   /* where the trials' time went (rank 0) */
    volatile int64_t written; /* trials in the results file (read by a signal handler) */
    int16_t *pred16;          /* rank 0 with --trace: a chunk's predictions as stored */
    int64_t *slots;           /* [prof.n] profile counters per chip of each crossbar layer */
    char notice[1024];        /* the end of the line a signal stops a job of ranks with */
} run_state;

/* The run's defaults, from the default config itself, so --help cannot
 * disagree with what runs. */
static void usage_defaults(FILE *out)
{
    cim_config d;
    if (cim_config_run_default(&d, NULL) != 0)
        return;
    fprintf(out,
            "Defaults (what each option and config key not given means):\n"
            "  model        %s/%s, or $%s/%s\n"
            "  dataset      %s, split %s, images 0..%d\n"
            "  trials       %d chips from trial 0, seed 0\n"
            "  crossbar     %s %dx%d, HRS/LRS %g/%g uA, digital_only %s\n"
            "  D2D          %s, sigma HRS/LRS %g/%g uA\n"
            "  C2C          %s, sigma HRS/LRS: the D2D ones (%g/%g uA), c2c_model %s\n"
            "  ADC          %s (ideal, resolution %d), range mode %s\n"
            "  IR drop      %s (parasitics); V_read %g V\n"
            "  first layer  host (exact); pipeline auto; yield target: digital accuracy - %.2f\n"
            "\n"
            "--config CFG.json is read over that crossbar: every key the file does not name\n"
            "keeps the default above, so m_mode, M and N are optional. Keys derived from others\n"
            "follow the file: W_BIT and I_BIT the alphabet of its m_mode, HRS_NOISE_C2C and\n"
            "LRS_NOISE_C2C its HRS_NOISE and LRS_NOISE; a finite adc_type needs its\n"
            "resolution. For a noise-free run set \"d2d_var\": false (or both sigmas to 0).\n"
            "The flags below override the file.\n",
            CIM_MODEL_DIR, CIM_CLI_DEFAULT_MODEL, MODEL_DIR_ENV, CIM_CLI_DEFAULT_MODEL,
            CIM_IDX_DEFAULT_DIR, DEFAULT_SPLIT, DEFAULT_IMAGES - 1, DEFAULT_TRIALS,
            cim_mapping_name(d.mapping), d.M, d.N, d.hrs_ua, d.lrs_ua, d.digital ? "on" : "off",
            d.d2d_var ? "on" : "off", d.hrs_noise_ua, d.lrs_noise_ua, d.c2c_var ? "on" : "off",
            d.hrs_noise_c2c_ua, d.lrs_noise_c2c_ua, cim_config_c2c_model_name(d.c2c_model),
            cim_config_adc_type_name(d.adc_type), d.resolution,
            d.calib_mode == CIM_CALIB_CALIB ? "CALIB" : "MAX", d.parasitics ? "on" : "off",
            d.v_read, YIELD_MARGIN);
    cim_config_free(&d);
}

static void usage(FILE *out)
{
    fputs("Usage: cimgpu [run] [--model M.h5] [--data DIR] [--split NAME] [--images K]\n"
          "                    [--first-image F] [--trials T] [--trial-offset O] [--seed S]\n"
          "                    [--config CFG.json] [--mapping NAME] [--adc-bits B]\n"
          "                    [--lrs-noise U] [--hrs-noise U] [--c2c]\n"
          "                    [--c2c-model cell|column]\n"
          "                    [--w-res OHM] [--v-read V]\n"
          "                    [--read-disturb OFF|SOFTWARE|CELL_BASED] [--t-read S]\n"
          "                    [--saf-hrs P] [--saf-lrs P] [--set KEY=VALUE]\n"
          "                    [--first-layer host|crossbar] [--pipeline auto|host|device]\n"
          "                    [--yield-target A] [--out R.h5 [--trace] [--resume] [--force]]\n"
          "                    [--device SPEC]\n"
          "\n"
          "The network Monte-Carlo: --trials simulated chips classify the same test images.\n"
          "Prints what runs first (model, images, trials, seed, crossbar, variability, ADC,\n"
          "layers, pipeline, device), then the accuracy distribution next to the digital\n"
          "(ideal) accuracy.\n"
          "\n",
          out);
    usage_defaults(out);
    fprintf(out,
            "\n"
            "Options:\n"
            "  --model M.h5       model file\n"
            "  --data DIR         dataset folder, recognised by its files (docs/datasets.md):\n"
            "                     IDX files, or CIFAR-10's or CIFAR-100's python batches\n"
            "  --split NAME       IDX: the files DIR/NAME-images-idx3-ubyte (or -idx4-ubyte, with\n"
            "                     channels) and NAME-labels-idx1-ubyte, gzip'd or plain; CIFAR:\n"
            "                     test (also t10k) or train\n"
            "  --images K         test images per chip\n"
            "  --first-image F    dataset index of the first image\n"
            "  --trials T         chips, at most %llu\n"
            "  --trial-offset O   the first trial's index: replays trials O..O+T-1 of a larger\n"
            "                     run (same results as inside it)\n"
            "  --seed S           random seed, 0..2^64-1\n"
            "  --config CFG.json  crossbar config, the reference simulator's keys (README,\n"
            "                     \"Config keys\"), read over the default crossbar; with\n"
            "                     adc_calib_mode CALIB each layer's ADC range is its\n"
            "                     adc_calib_dict entry (e.g. \"004_conv2d\")\n"
            "  --mapping NAME     BNN_I..BNN_VI, TNN_I..TNN_V (a finite ADC takes the type the\n"
            "                     mapping needs)\n"
            "  --adc-bits B       B-bit ADC of the type the mapping needs (SYM_RANGE_ADC for\n"
            "                     signed column currents, else POS_RANGE_ONLY_ADC), 1..%d; the\n"
            "                     range mode stays the config's (MAX, or CALIB with its\n"
            "                     adc_calib_dict); 0: the ideal ADC\n",
            (unsigned long long)MAX_TRIALS, CIM_ADC_MAX_BITS);
    cim_cli_crossbar_flags_usage(out);
    fputs("  --first-layer W    where weight layers on raw pixels (the first layer of an image\n"
          "                     model) run: host (exact) or crossbar (8 bit-plane reads per\n"
          "                     input, shifted and added digitally)\n"
          "  --pipeline P       auto, host or device: where the work between crossbar reads\n"
          "                     runs (same results; auto picks the faster for the device)\n"
          "  --yield-target A   accuracy a chip must reach to count in the yield\n"
          "  --out R.h5         results file (per-trial accuracy, layer error rates, summary;\n"
          "                     with adc_profile the ADC input histograms of every layer),\n"
          "                     written as R.h5.partial, readable while it grows (HDF5 SWMR),\n"
          "                     renamed to R.h5 when complete; it may not be an input\n"
          "  --trace            with --out: also record every prediction\n"
          "  --resume           with --out: complete the interrupted run in R.h5.partial (same\n"
          "                     command): keeps its finished trials, runs the rest\n"
          "  --force            with --out: replace an existing R.h5, or discard an interrupted\n"
          "                     run's R.h5.partial (never one a live run holds)\n"
          "  --device SPEC      OpenCL device (see `cimgpu info`); under MPI each rank on a\n"
          "                     node takes its own: the L-th match, entry L of a comma list,\n"
          "                     the L-th GPU by default (L: its rank on the node)\n"
          "  -h, --help         show this help and exit (also `cimgpu help run`)\n"
          "\n"
          "SIGINT (Ctrl-C), SIGTERM and SIGHUP stop the run after the current chunk of\n"
          "trials: R.h5.partial keeps every finished trial (--resume completes it) and the\n"
          "exit status is 128 + the signal (130, 143, 129); a second signal stops at once.\n"
          "\n"
          "`mpirun -np R cimgpu run ...` shares the chips over R processes, each on its own\n"
          "device, with the same results file as one process; rank 0 prints and writes\n"
          "(docs/mpi.md).\n",
          out);
}

enum {
    OPT_OFFSET = CIM_CLI_OPT_NETWORK_END,
    OPT_YIELD,
    OPT_OUT,
    OPT_TRACE,
    OPT_PIPELINE,
    OPT_RESUME,
    OPT_FORCE
};

static int parse_options(int argc, char **argv, int first, run_options *o, cim_error *err)
{
    static const struct option opts[] = {CIM_CLI_NETWORK_OPTIONS,
                                         {"trial-offset", required_argument, 0, OPT_OFFSET},
                                         {"yield-target", required_argument, 0, OPT_YIELD},
                                         {"out", required_argument, 0, OPT_OUT},
                                         {"trace", no_argument, 0, OPT_TRACE},
                                         {"pipeline", required_argument, 0, OPT_PIPELINE},
                                         {"resume", no_argument, 0, OPT_RESUME},
                                         {"force", no_argument, 0, OPT_FORCE},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c, rc;
    cim_cli_network_defaults(&o->net, DEFAULT_SPLIT, DEFAULT_IMAGES, DEFAULT_TRIALS, MAX_TRIALS);
    cim_cli_getopt_start();
    optind = first;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        const char *a = optarg;
        if ((rc = cim_cli_network_option("run", c, a, &o->net, err)) >= 0) {
            if (rc != 0)
                return rc;
            continue;
        }
        switch (c) {
        case OPT_OUT:
            o->out = a;
            break;
        case OPT_TRACE:
            o->trace = 1;
            break;
        case OPT_RESUME:
            o->resume = 1;
            break;
        case OPT_FORCE:
            o->force = 1;
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
        case OPT_OFFSET:
            if (cim_cli_parse_u64(a, 0, UINT32_MAX, &o->trial_offset) != 0)
                return cim_error_set(err, CIM_ERR_USAGE,
                                     "run: --trial-offset '%s': expected an integer from 0 to %u",
                                     a, UINT32_MAX);
            break;
        case OPT_YIELD:
            if (cim_cli_parse_double(a, 0, 1, &o->yield_target) != 0)
                return cim_error_set(err, CIM_ERR_USAGE,
                                     "run: --yield-target '%s': expected an accuracy from 0 to 1",
                                     a);
            o->has_yield = 1;
            break;
        default:
            return cim_cli_other_option(err, "run", c, argv, usage);
        }
    }
    if ((rc = cim_cli_options_end(err, "run", argc, argv)) != 0)
        return rc;
    if ((o->trace || o->resume || o->force) && !o->out)
        return cim_error_set(err, CIM_ERR_USAGE, "run: %s needs --out R.h5",
                             o->trace    ? "--trace"
                             : o->resume ? "--resume"
                                         : "--force");
    if (o->net.trials + o->trial_offset > (uint64_t)UINT32_MAX + 1)
        return cim_error_set(err, CIM_ERR_USAGE,
                             "run: --trial-offset + --trials exceed 2^32 trials");
    return 0;
}

/* The config: the run's default crossbar with the --config file read over it
 * (every key the file does not name keeps the default; cim_config.h), then
 * the flags, then validation. */
static int build_config(run_state *r, cim_error *err)
{
    const int rc = cim_cli_network_config("run", &r->o.net, &r->cfg, err);
    return rc != 0 ? rc : cim_config_validate(&r->cfg, err);
}

/* The shared inputs (cli.h), then what only a run needs: the digital plan,
 * the read-disturb counters and the ADC input profiles. */
static int load_inputs(run_state *r, cim_error *err)
{
    const cim_cli_network_options *o = &r->o.net;
    int rc;
    if ((rc = cim_cli_load_network_inputs(o, &r->cfg, &r->in, err)) != 0 ||
        (rc = cim_plan_init(&r->digital, &r->in.model, &r->cfg, o->seed, o->first_layer, err)) != 0)
        return rc;
    cim_plan_make_digital(&r->digital);
    if ((rc = cim_cli_disturb_network(&r->disturb, &r->in.plan, r->in.data.count,
                                      (int64_t)o->first_image, err)) != 0)
        return rc;
    return cim_cli_profiles_init(&r->prof, &r->in.plan, err);
}

typedef struct sink_ctx {
    run_state *r;
    cim_mc_setup setup;   /* the trials not finished yet */
    int32_t chunk_trials; /* per work item */
} sink_ctx;

/* A signal caught since the run began ends it at this chunk boundary. */
static int check_signal(run_state *r, cim_error *err)
{
    const int sig = cim_signal_caught();
    if (sig == 0)
        return 0;
    r->interrupted = sig;
    return cim_error_set(err, CIM_ERR_INTERRUPTED, "run: interrupted by %s", cim_signal_name(sig));
}

static int sink(void *ctx, const cim_mc_chunk *c, cim_error *err)
{
    sink_ctx *s = ctx;
    run_state *r = s->r;
    const int64_t t0 = c->trial_first - (int64_t)r->o.trial_offset;
    int rc = 0;
    memcpy(r->correct + t0, c->correct, sizeof(int64_t) * (size_t)c->n);
    memcpy(r->top5 + t0, c->top5_correct, sizeof(int64_t) * (size_t)c->n);
    if (r->h5) {
        if (c->predictions) {
            for (int64_t k = 0; k < (int64_t)c->n * r->in.data.count; ++k)
                r->pred16[k] = (int16_t)c->predictions[k];
        }
        rc = cim_h5_run_append(r->h5, t0, c->n, c->correct, c->top5_correct, c->layer_error,
                               c->predictions ? r->pred16 : NULL, err);
    }
    if (rc == 0)
        r->done = t0 + c->n;
    if (rc == 0 && r->h5)
        r->written = cim_h5_run_trials_written(r->h5);
    return rc != 0 ? rc : check_signal(r, err);
}

/* A chunk's ADC input profiles, before sink() gets its trials: into the
 * totals and the results file. */
static int profile_sink(void *ctx, int64_t trial_first, int32_t n, uint64_t *const *profiles,
                        cim_error *err)
{
    sink_ctx *s = ctx;
    run_state *r = s->r;
    const uint64_t *const *counts = (const uint64_t *const *)profiles;
    cim_cli_profiles_add(&r->prof, n, counts);
    return r->h5 ? cim_h5_run_append_profile(r->h5, trial_first - (int64_t)r->o.trial_offset, n,
                                             counts, err)
                 : 0;
}

/* The one digital trial's correct counts. */
static int digital_sink(void *ctx, const cim_mc_chunk *c, cim_error *err)
{
    run_state *r = ctx;
    r->digital_correct = c->correct[0];
    r->digital_top5 = c->top5_correct[0];
    return check_signal(r, err);
}

/* chips: trials done by this invocation; a resumed run counts its
 * predecessor's too. */
static void on_progress(void *ctx, double chips)
{
    sink_ctx *s = ctx;
    run_state *r = s->r;
    const double total = (double)r->o.net.trials, trials = (double)r->resumed + chips;
    cim_cli_progress_update(&r->prog, "run", trials / total, (uint64_t)(trials + 0.5),
                            r->o.net.trials, "trials");
}

static int32_t weight_layers(const cim_model *m)
{
    int32_t n = 0;
    for (int32_t l = 0; l < m->num_layers; ++l)
        n += m->layers[l].type == CIM_LAYER_DENSE || m->layers[l].type == CIM_LAYER_CONV2D;
    return n;
}

/* The ADC's half-unit (2 nA) range value in uA. */
static double half_units_ua(int64_t v)
{
    return (double)v / (2.0 * CIM_NA_PER_UA);
}

static void print_adc(const run_state *r)
{
    const cim_config *c = &r->cfg;
    if (c->digital) {
        printf("ADC: none (digital_only)\n");
        return;
    }
    if (c->adc_type == CIM_ADC_INF) {
        printf("ADC: %s, ideal (bits and range do not apply)\n",
               cim_config_adc_type_name(c->adc_type));
        return;
    }
    printf("ADC: %s, %d bits, ", cim_config_adc_type_name(c->adc_type), c->resolution);
    if (c->calib_mode == CIM_CALIB_MAX) {
        const cim_column_params *p = &r->in.plan.layers[r->in.plan.first_crossbar].xbar.column;
        printf("range MAX %g..%g uA (%s%s for N = %d rows)\n", half_units_ua(p->adc_lo2),
               half_units_ua(p->adc_hi2), c->adc_alpha != 1.0 ? "adc_alpha x " : "",
               c->adc_type == CIM_ADC_POS ? "N x LRS" : "N x (LRS - HRS)", c->N);
        return;
    }
    printf("range CALIB per layer from adc_calib_dict:");
    for (int32_t l = 0, n = 0; l < r->in.plan.num_layers; ++l) {
        const cim_layer_plan *lp = &r->in.plan.layers[l];
        if (cim_plan_on_crossbar(lp))
            printf("%s %s %g..%g uA", n++ ? "," : "", lp->layer->name,
                   half_units_ua(lp->xbar.column.adc_lo2), half_units_ua(lp->xbar.column.adc_hi2));
    }
    printf("\n");
}

/* Where the work between crossbar reads runs: the choice, and what the
 * executor makes of it (cim_executor_pipeline) for the run's first chunk of
 * chips x images on this device, with its reason when that is the host. */
static void print_pipeline(const run_state *r)
{
    static const char *const names[] = {"auto", "host", "device"};
    const cim_mc_setup setup = {
        .plan = &r->in.plan, .n_images = r->in.data.count, .n_trials = (int64_t)r->o.net.trials};
    int64_t counted = 0; /* stands for the error counters a results file asks for */
    int32_t chunk_trials;
    int64_t chunk_images;
    const char *reason;
    cim_mc_chunks(&setup, &chunk_trials, &chunk_images);
    const cim_exec_job job = {.plan = &r->in.plan,
                              .n_images = chunk_images,
                              .n_trials = chunk_trials,
                              .mismatches = r->o.out ? &counted : NULL,
                              .pipeline = r->o.pipeline};
    const cim_pipeline taken = cim_executor_pipeline(&r->ocl, &job, &reason);
    if (reason)
        printf("pipeline: %s -> %s (%s)\n", names[r->o.pipeline], names[taken], reason);
    else if (taken != r->o.pipeline)
        printf("pipeline: %s -> %s\n", names[r->o.pipeline], names[taken]);
    else
        printf("pipeline: %s\n", names[taken]);
}

/* What runs, before any work: everything that defines the run (model,
 * images, trials, seed, crossbar, variability, ADC, layer placement,
 * pipeline, device), so that whoever watches the progress knows what it is. */
static void print_banner(const run_state *r)
{
    const cim_config *c = &r->cfg;
    const cim_mapping_desc *d = cim_mapping_desc_of(c->mapping);
    printf("cimgpu %s: %s on %lld images (%llu..%llu of %s), %llu chips (trials %llu..%llu), "
           "seed %llu\n",
           CIM_VERSION, r->in.model_path, (long long)r->in.data.count,
           (unsigned long long)r->o.net.first_image,
           (unsigned long long)r->o.net.first_image + (unsigned long long)r->in.data.count - 1,
           r->in.all.images_path, (unsigned long long)r->o.net.trials,
           (unsigned long long)r->o.trial_offset,
           (unsigned long long)(r->o.trial_offset + r->o.net.trials - 1),
           (unsigned long long)r->o.net.seed);
    if (c->digital) {
        printf("crossbar: %s %dx%d, digital_only (exact integer counts)\n",
               cim_mapping_name(c->mapping), c->M, c->N);
        printf("variability: none (digital_only)%s\n",
               c->saf_hrs > 0 || c->saf_lrs > 0 ? ", except the stuck-at faults" : "");
    } else {
        const int d2d_tables = c->cdf[CIM_CDF_D2D].n > 0 || c->cdf[CIM_CDF_D2D + 1].n > 0;
        const int c2c_tables = c->cdf[CIM_CDF_C2C].n > 0 || c->cdf[CIM_CDF_C2C + 1].n > 0;
        printf("crossbar: %s %dx%d, HRS/LRS %g/%g uA (%s column currents)\n",
               cim_mapping_name(c->mapping), c->M, c->N, c->hrs_ua, c->lrs_ua,
               d->signed_current ? "signed" : "non-negative");
        printf("variability: D2D %s, sigma HRS/LRS %g/%g uA; C2C %s, sigma HRS/LRS %g/%g uA\n",
               c->d2d_var ? "on" : "off", c->hrs_noise_ua, c->lrs_noise_ua,
               c->c2c_var ? "on" : "off", c->hrs_noise_c2c_ua, c->lrs_noise_c2c_ua);
        if (d2d_tables || c2c_tables)
            printf("device tables: D2D HRS %d / LRS %d points, C2C HRS %d / LRS %d points "
                   "(replace the Gaussian of those states)\n",
                   c->cdf[CIM_CDF_D2D].n, c->cdf[CIM_CDF_D2D + 1].n, c->cdf[CIM_CDF_C2C].n,
                   c->cdf[CIM_CDF_C2C + 1].n);
    }
    const cim_xbar *x0 = &r->in.plan.layers[r->in.plan.first_crossbar].xbar;
    if (cim_xbar_has_ladder(x0))
        printf("IR drop: bit lines of %d wire segments, w_res %g ohm each at V_read %g V (a "
               "segment passes %g mA); tiles of %d outputs x %d inputs\n",
               x0->ladder_rows, c->w_res, c->v_read, fabs(c->v_read) / c->w_res * 1e3, x0->xbar_m,
               x0->xbar_n);
    else if (!c->digital && c->parasitics)
        printf("IR drop: off (w_res 0: ideal wires)\n");
    if (cim_xbar_has_disturb(x0)) {
        static const char *const strategies[] = {"OFF", "SOFTWARE", "CELL_BASED"};
        printf("read disturb: mitigation %s, V_read %g V, t_read %g s, updates every %d reads, "
               "%s drift, cells of %d cycles; each chip reads images %llu.. in order\n",
               strategies[c->read_disturb_mitigation_strategy], c->v_read, c->t_read,
               c->read_disturb_update_freq,
               c->read_disturb_model == CIM_DRIFT_PHYSICAL ? "PHYSICAL" : "LIBRARY",
               c->read_disturb_initial_cycles, (unsigned long long)r->o.net.first_image);
    }
    if (c->saf_hrs > 0 || c->saf_lrs > 0)
        printf("stuck-at faults: %g of the cells at HRS, %g at LRS\n", c->saf_hrs, c->saf_lrs);
    print_adc(r);
    printf("layers on crossbars: %d of %d weight layers (on raw pixels: %s)\n",
           r->in.plan.n_crossbar, weight_layers(&r->in.model),
           r->o.net.first_layer == CIM_PIXELS_ON_CROSSBAR ? "crossbar, bit-sliced" : "host, exact");
    cim_cli_c2c_report("run", &r->in.plan, stdout);
    print_pipeline(r);
    printf("device: %s\n\n", r->prov.device);
    fflush(stdout); /* seen before the work starts, even through a pipe */
}

/* The results, after the run. */
static void print_summary(const cim_summary *s, const cim_summary *s5, int64_t digital_correct,
                          int64_t digital_top5)
{
    printf("  %-28s %9.4f  (%lld of %lld)\n", "digital (ideal) accuracy",
           (double)digital_correct / (double)s->images, (long long)digital_correct,
           (long long)s->images);
    printf("  %-28s %9.4f\n", "mean accuracy", s->mean);
    printf("  %-28s %9.4f\n", "standard deviation", s->std);
    printf("  %-28s %9.4f .. %.4f\n", "95% CI of the mean", s->ci95_lo, s->ci95_hi);
    printf("  %-28s %9.4f / %.4f / %.4f\n", "quantiles 1% / 5% / 50%", s->q01, s->q05, s->q50);
    printf("  %-28s %9.4f .. %.4f\n", "min .. max", s->min, s->max);
    printf("  %-28s %9.4f  (accuracy >= %.4f)\n", "yield", s->yield, s->yield_target);
    printf("  %-28s %9.4f  (digital %.4f)\n", "mean top-5 accuracy", s5->mean,
           (double)digital_top5 / (double)s->images);
}

/* --out is claimed before anything slow (cim_outfile.h): it may be none of
 * the run's inputs, among them the files the dataset loader will read (one
 * that is missing fails later, in the loader, with its own message). */
static int claim_out(run_state *r, cim_error *err)
{
    const run_options *o = &r->o;
    if (!o->out)
        return 0;
    cim_dataset_files *data = calloc(1, sizeof *data);
    if (!data)
        return cim_error_set(err, CIM_ERR_NOMEM, "run: out of memory");
    cim_dataset_split_files(o->net.data, o->net.split, data, NULL);
    cim_outfile_input inputs[2 + CIM_DATASET_MAX_FILES] = {{"--model", r->in.model_path},
                                                           {"--config", o->net.config}};
    for (int32_t i = 0; i < data->n; ++i)
        inputs[2 + i] = (cim_outfile_input){"--data", data->path[i]};
    const cim_outfile_spec spec = {.path = o->out,
                                   .inputs = inputs,
                                   .n_inputs = 2 + data->n,
                                   .force = o->force,
                                   .resume = o->resume};
    int rc = cim_outfile_claim(&spec, &r->out, err);
    free(data);
    if (rc == 0 && o->resume && !cim_outfile_old_partial(&r->out))
        fprintf(stderr, "cimgpu: --resume: no %s%s to resume; the run starts from trial 0\n",
                o->out, CIM_OUTFILE_PARTIAL_SUFFIX);
    return rc;
}

/* The results file: its layout, then (resuming) the finished trials of the
 * interrupted run copied over, then published as R.h5.partial. */
static int open_results(run_state *r, double yield_target, cim_error *err)
{
    char images_sha[CIM_MODEL_SHA256_HEX_LEN + 1], labels_sha[CIM_MODEL_SHA256_HEX_LEN + 1];
    const int32_t n_layers = r->in.plan.n_crossbar;
    const char **names = calloc((size_t)n_layers, sizeof *names);
    const char **c2c_used = calloc((size_t)n_layers, sizeof *c2c_used);
    double *c2c_p = calloc((size_t)n_layers, sizeof *c2c_p);
    double *c2c_e = calloc((size_t)n_layers, sizeof *c2c_e);
    char *config_json = cim_config_to_json(&r->cfg);
    cim_h5_run_prior prior;
    int rc;
    memset(&prior, 0, sizeof prior);
    for (int32_t l = 0, c = 0; names && c2c_used && c2c_p && c2c_e && l < r->in.model.num_layers;
         ++l) {
        const cim_layer_plan *lp = &r->in.plan.layers[l];
        if (!cim_plan_on_crossbar(lp))
            continue;
        c2c_used[c] = cim_c2c_bound_model(&lp->c2c);
        c2c_p[c] = lp->c2c.p_differs;
        c2c_e[c] = lp->c2c.e_diff_na;
        names[c++] = r->in.model.layers[l].name;
    }
    if (!names || !c2c_used || !c2c_p || !c2c_e || !config_json) {
        rc = cim_error_set(err, CIM_ERR_NOMEM, "run: out of memory");
        goto done;
    }
    if ((rc = cim_dataset_sha256_hex(&r->in.all, 0, images_sha, err)) != 0 ||
        (rc = cim_dataset_sha256_hex(&r->in.all, 1, labels_sha, err)) != 0)
        goto done;
    {
        const cim_h5_run_meta meta = {
            .out = &r->out,
            .prov = &r->prov,
            .seed = r->o.net.seed,
            .config_json = config_json,
            .model_path = r->in.model_path,
            .model_sha256 = r->in.model.sha256_hex,
            .dataset_images = r->in.all.images_path,
            .dataset_labels = r->in.all.labels_path,
            .dataset_images_sha256 = images_sha,
            .dataset_labels_sha256 = labels_sha,
            .mapping = cim_mapping_name(r->cfg.mapping),
            .first_layer = r->o.net.first_layer == CIM_PIXELS_ON_CROSSBAR ? "crossbar" : "host",
            .trials = (int64_t)r->o.net.trials,
            .trial_offset = (int64_t)r->o.trial_offset,
            .images = r->in.data.count,
            .first_image = (int64_t)r->o.net.first_image,
            .yield_target = yield_target,
            .n_layers = n_layers,
            .layer_names = names,
            .trace = r->o.trace,
            .labels = r->in.data.labels,
            .profiles = r->prof.n ? r->prof.shape : NULL,
            .disturb = r->disturb.report.n_layers ? &r->disturb.report : NULL,
            .c2c_model = cim_config_c2c_model_name(r->cfg.c2c_model),
            .c2c_model_used = c2c_used,
            .c2c_bound_p_differs = c2c_p,
            .c2c_bound_mean_abs_diff_na = c2c_e};
        const char *old = cim_outfile_old_partial(&r->out);
        if (old && (rc = cim_h5_run_read_partial(old, &meta, &prior, err)) != 0)
            goto done;
        if ((rc = cim_h5_run_create(&meta, &r->h5, err)) != 0)
            goto done;
    }
    if (prior.trials > 0) {
        const uint64_t *const *counts = (const uint64_t *const *)prior.profiles;
        if (counts && (rc = cim_h5_run_append_profile(r->h5, 0, prior.trials, counts, err)) != 0)
            goto done;
        if (counts)
            cim_cli_profiles_add(&r->prof, prior.trials, counts);
        if ((rc = cim_h5_run_append(r->h5, 0, prior.trials, prior.correct, prior.top5_correct,
                                    prior.layer_error_rate, prior.predictions, err)) != 0)
            goto done;
        memcpy(r->correct, prior.correct, sizeof *r->correct * (size_t)prior.trials);
        memcpy(r->top5, prior.top5_correct, sizeof *r->top5 * (size_t)prior.trials);
        r->done = r->resumed = prior.trials;
    }
    rc = cim_h5_run_start(r->h5, err);
done:
    cim_h5_run_prior_free(&prior);
    free(config_json);
    free(names);
    free(c2c_used);
    free(c2c_p);
    free(c2c_e);
    return rc;
}

/* What follows "after N" in the lines a stopped run ends with (report's and
 * the one a signal handler writes, cim_ranks_stop_notice): " of T trials",
 * then what R.h5.partial keeps and how to go on when kept, or that nothing
 * is kept without --out. */
static void stop_tail(const run_state *r, int kept, char *buf, size_t n)
{
    snprintf(buf, n, " of %llu trials%s%s%s", (unsigned long long)r->o.net.trials,
             kept       ? "; "
             : r->o.out ? ""
                        : " (without --out nothing is kept)",
             kept ? r->out.partial : "",
             kept ? " keeps them: the same command with --resume completes the run" : "");
}

/* ---- the trials as work items (cim_mc_work.h): one chunk of chips each --- */

static void item_of(void *ctx, int64_t k, cim_mc_item *it)
{
    const sink_ctx *s = ctx;
    const int64_t first = (int64_t)k * s->chunk_trials;
    const int64_t left = s->setup.n_trials - first;
    *it = (cim_mc_item){0, (int64_t)s->setup.trial_first + first,
                        (int32_t)(left < s->chunk_trials ? left : s->chunk_trials)};
}

static int compute_item(void *ctx, const cim_mc_item *it, void *emit, cim_error *err)
{
    sink_ctx *s = ctx;
    cim_mc_setup setup = s->setup;
    setup.trial_first = (uint32_t)it->trial_first;
    setup.n_trials = it->n;
    setup.profile_sink = s->r->prof.n ? cim_mc_work_profiles : NULL;
    return cim_mc_run(&s->r->ocl, &setup, s->r->o.trace, cim_mc_work_sink, cim_mc_work_progress,
                      emit, err);
}

/* A finished item, in order: its profiles, then its chips; none once a
 * signal's line has counted what the file keeps (cim_ranks_write_begin). */
static int deliver_item(void *ctx, const cim_mc_result *res, cim_error *err)
{
    const sink_ctx *s = ctx;
    int rc = 0;
    if (!cim_ranks_write_begin())
        return check_signal(s->r, err);
    if (res->n_profiles > 0)
        rc = profile_sink(ctx, res->chunk.trial_first, res->chunk.n, res->profiles, err);
    if (rc == 0)
        rc = sink(ctx, &res->chunk, err);
    cim_ranks_write_end();
    return rc;
}

static int poll_signal(void *ctx, cim_error *err)
{
    const sink_ctx *s = ctx;
    return check_signal(s->r, err);
}

/* The trials not finished yet, chunk by chunk, over the job's ranks; rank 0
 * appends each chunk as the order reaches it. */
static int run_trials(run_state *r, cim_error *err)
{
    sink_ctx sc = {r, {0}, 0};
    sc.setup = (cim_mc_setup){.plan = &r->in.plan,
                              .images = r->in.data.images,
                              .labels = r->in.data.labels,
                              .n_images = r->in.data.count,
                              .first_image = (uint32_t)r->o.net.first_image,
                              .trial_first = (uint32_t)(r->o.trial_offset + (uint64_t)r->done),
                              .n_trials = (int64_t)r->o.net.trials - r->done,
                              .skip_layer_errors = r->o.out == NULL /* only the file stores them */,
                              .pipeline = r->o.pipeline,
                              /* the work items share one: what all chips share is computed
                               * once (without it, each item keeps its own) */
                              .cache = cim_exec_cache_new(&r->in.plan)};
    int64_t chunk_images;
    int rc;
    /* no early return with nothing left: the other ranks wait for the
     * writer's word (other ranks' setup: every trial; they compute the items
     * rank 0 gives them) */
    cim_mc_chunks(&sc.setup, &sc.chunk_trials, &chunk_images);
    const cim_mc_work_ops ops = {
        .ctx = &sc,
        .n_items = (sc.setup.n_trials + sc.chunk_trials - 1) / sc.chunk_trials,
        .shape = {.n_layers = sc.setup.skip_layer_errors ? 0 : r->in.plan.n_crossbar,
                  .n_pred = r->o.trace ? r->in.data.count : 0,
                  .n_profiles = r->prof.n,
                  .profile_slots = r->slots},
        .item = item_of,
        .compute = compute_item,
        .deliver = deliver_item,
        .poll = poll_signal,
        .progress = on_progress};
    if (r->h5)
        r->written = cim_h5_run_trials_written(r->h5);
    stop_tail(r, r->o.out != NULL, r->notice, sizeof r->notice);
    cim_ranks_stop_notice("cimgpu: run: stopped by ", &r->written, r->notice);
    cim_cli_progress_start(&r->prog);
    rc = cim_mc_work_run(&ops, &r->work, err);
    cim_exec_cache_free(sc.setup.cache);
    cim_cli_progress_end(&r->prog);
    cim_ranks_stop_notice(NULL, NULL, NULL);
    return rc;
}

/* Does R.h5.partial stay? When it is published and holds finished trials
 * (and the run did not finish): --resume completes it. */
static int keeps_partial(const run_state *r)
{
    return r->h5 && r->out.partial_ours && cim_h5_run_trials_written(r->h5) > 0;
}

/* The one error line; an interrupted run says what it kept and how to go
 * on, and exits 128 + the signal. */
static int report(run_state *r, cim_error *err)
{
    const int kept = keeps_partial(r);
    const size_t len = strlen(err->msg);
    const int64_t written = kept ? cim_h5_run_trials_written(r->h5) : 0;
    if (cim_ranks_stop_noticed()) /* the signal handler wrote the line */
        return cim_signal_exit_status(cim_signal_caught());
    if (r->interrupted) {
        const int n = snprintf(err->msg + len, sizeof err->msg - len, " after %lld",
                               (long long)(kept ? written : r->done));
        if (n > 0 && len + (size_t)n < sizeof err->msg)
            stop_tail(r, kept, err->msg + len + n, sizeof err->msg - len - (size_t)n);
        cim_cli_report(err);
        return cim_signal_exit_status(r->interrupted);
    }
    if (kept)
        snprintf(err->msg + len, sizeof err->msg - len,
                 " (%s keeps %lld finished trials: --resume completes the run)", r->out.partial,
                 (long long)written);
    return cim_cli_report(err);
}

static void release(run_state *r)
{
    const int keep = keeps_partial(r);
    cim_h5_run_discard(r->h5);
    r->h5 = NULL;
    cim_outfile_release(&r->out, keep);
    if (r->ocl_open)
        cim_ocl_close(&r->ocl);
    cim_provenance_free(&r->prov);
    free(r->correct);
    free(r->top5);
    free(r->pred16);
    free(r->slots);
    cim_cli_profiles_free(&r->prof);
    cim_cli_disturb_free(&r->disturb);
    cim_plan_free(&r->digital);
    cim_cli_network_inputs_free(&r->in);
    cim_config_free(&r->cfg);
}

/* Under MPI: every rank read the same model, config and images (collective). */
static int same_inputs(const run_state *r, cim_error *err)
{
    if (!cim_ranks_many()) /* one process: nothing to compare (and no digests to make) */
        return 0;
    char *json = cim_config_to_json(&r->cfg);
    const size_t image = (size_t)cim_shape_size(&r->in.model.input_shape);
    const cim_ranks_part parts[] = {
        {"the model", r->in.model.sha256_hex, strlen(r->in.model.sha256_hex)},
        {"the resolved config", json ? json : "", json ? strlen(json) : 0},
        {"the images", r->in.data.images, image * (size_t)r->in.data.count},
        {"the labels", r->in.data.labels, (size_t)r->in.data.count}};
    const int rc = cim_ranks_same(parts, (int)(sizeof parts / sizeof *parts), err);
    free(json);
    return rc;
}

/* Everything before the trials: config, inputs, device, the banner, the
 * digital accuracy of the same images (one noise-free chip, through the
 * same memory-bounded chunks as the trials), the results file. */
static int prepare(run_state *r, int argc, char **argv, double *yield_target, cim_error *err)
{
    int rc;
    if ((rc = build_config(r, err)) != 0 || (rc = load_inputs(r, err)) != 0 ||
        (rc = cim_provenance_init(&r->prov, argc, argv, err)) != 0 ||
        (rc = cim_cli_open_device(&r->ocl, r->o.net.device, err)) != 0)
        return rc;
    r->ocl_open = 1;
    cim_cli_set_provenance_device(&r->prov, &r->ocl);
    /* what the work needs, before the ranks agree to start it */
    if (r->prof.n && !(r->slots = calloc((size_t)r->prof.n, sizeof *r->slots)))
        return cim_error_set(err, CIM_ERR_NOMEM, "run: out of memory");
    for (int32_t c = 0; c < r->prof.n; ++c)
        r->slots[c] = CIM_PROFILE_SLOTS(r->prof.shape[c].bins);
    if (!cim_ranks_prints())
        return 0; /* the other ranks of a job compute chips; rank 0 does the rest */
    print_banner(r);
    const cim_mc_setup all = {
        .plan = &r->in.plan, .n_images = r->in.data.count, .n_trials = (int64_t)r->o.net.trials};
    int32_t chunk_trials;
    int64_t chunk_images;
    cim_mc_chunks(&all, &chunk_trials, &chunk_images); /* no item is larger */
    r->correct = malloc(sizeof(int64_t) * r->o.net.trials);
    r->top5 = malloc(sizeof(int64_t) * r->o.net.trials);
    if (r->o.trace)
        r->pred16 = malloc(sizeof(int16_t) * (size_t)chunk_trials * (size_t)r->in.data.count);
    if (!r->correct || !r->top5 || (r->o.trace && !r->pred16))
        return cim_error_set(err, CIM_ERR_NOMEM, "run: out of memory for %llu trials",
                             (unsigned long long)r->o.net.trials);
    if ((rc = check_signal(r, err)) != 0)
        return rc;
    {
        const cim_mc_setup digital = {.plan = &r->digital,
                                      .images = r->in.data.images,
                                      .labels = r->in.data.labels,
                                      .n_images = r->in.data.count,
                                      .first_image = (uint32_t)r->o.net.first_image,
                                      .n_trials = 1};
        if ((rc = cim_mc_run(&r->ocl, &digital, 0, digital_sink, NULL, r, err)) != 0)
            return rc;
    }
    *yield_target = r->o.has_yield
                        ? r->o.yield_target
                        : fmax(0.0, (double)r->digital_correct / r->in.data.count - YIELD_MARGIN);
    return r->o.out ? open_results(r, *yield_target, err) : 0;
}

int cim_cli_run(int argc, char **argv, int first)
{
    run_state r;
    cim_error err;
    cim_summary summary, summary5;
    double yield_target = 0;
    int rc;
    memset(&r, 0, sizeof r);
    cim_error_clear(&err);
    rc = parse_options(argc, argv, first, &r.o, &err);
    if (rc == 1)
        return 0;
    if (rc != 0)
        return cim_cli_report(&err);
    cim_cli_model_path(&r.o.net, r.in.model_path, sizeof r.in.model_path);
    const int writer = cim_ranks_prints();
    if (writer && (rc = claim_out(&r, &err)) != 0 && !cim_ranks_many())
        return cim_cli_report(&err);
    cim_signal_catch();
    if (rc == 0)
        rc = prepare(&r, argc, argv, &yield_target, &err);
    rc = cim_ranks_agree(rc, &err); /* every rank ready, or none */
    if (rc == 0)
        rc = same_inputs(&r, &err);
    if (rc != 0 && !writer) {
        release(&r);
        return cim_error_exit_code(rc);
    }
    if (rc == 0)
        rc = run_trials(&r, &err);
    if (!writer) {
        release(&r);
        return cim_mc_work_exit_status();
    }
    if (rc == 0 &&
        (rc = cim_summarize(r.correct, (int64_t)r.o.net.trials, r.in.data.count, yield_target,
                            &summary, &err)) == 0 &&
        (rc = cim_summarize(r.top5, (int64_t)r.o.net.trials, r.in.data.count, yield_target,
                            &summary5, &err)) == 0 &&
        (!r.h5 ||
         (rc = cim_h5_run_finish(
              r.h5, &(cim_h5_run_totals){&summary, &summary5, r.digital_correct, r.digital_top5},
              &err)) == 0)) {
        print_summary(&summary, &summary5, r.digital_correct, r.digital_top5);
        cim_cli_disturb_print(&r.disturb, stdout);
        cim_cli_profiles_print(&r.prof, stderr);
        cim_cli_work_print(&r.work, stderr);
    }
    if (rc != 0)
        rc = report(&r, &err);
    release(&r);
    return rc; /* the handlers stay: a late second signal still exits 128 + it */
}
