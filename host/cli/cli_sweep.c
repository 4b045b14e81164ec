/* cli_sweep.c -- `cimgpu sweep EXP.json`: a design-space exploration, the
 * CIM-Explorer flow's experiment config expanded into its grid
 * (cim_experiment.h) and every configuration run as the `cimgpu run` it is
 * (docs/sweep.md).
 *
 * Every configuration is the run its equivalent command line gives (the
 * same config through cim_experiment_config, i.e. `--set`, the same plan,
 * seed, trial keys and Monte-Carlo driver), so its chips are bit-identical
 * to that run's. What a sweep pays once, not per configuration: the
 * kernels are built when the device opens, each model and the images are
 * loaded once, the digital baseline is run once per model.
 *
 * Order of work: the options; the experiment (every key and every
 * configuration's crossbar config checked); --out claimed; models and
 * images loaded, every configuration planned once to check what needs the
 * model (input shape, the mapping's alphabet, CALIB ranges per layer);
 * with --dry-run the count, an estimate and the run command lines, and
 * nothing computed. Then the device, the baselines, the results file
 * (h5_sweep.h: resumed from S.h5.partial with --resume) and the
 * configurations in order, each chunk of chips appended as it finishes.
 * Signals stop at a chunk boundary, as `cimgpu run` does.
 *
 * Ownership: a sweep_state holds everything; release() frees it and
 * discards an unfinished results file (keeping a partial one that holds
 * finished chips).
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim_clock.h"
#include "cim_config.h"
#include "cim_experiment.h"
#include "cim_idx.h"
#include "cim_mapping.h"
#include "cim_mc_work.h"
#include "cim_model.h"
#include "cim_montecarlo.h"
#include "cim_ocl.h"
#include "cim_outfile.h"
#include "cim_plan.h"
#include "cim_provenance.h"
#include "cim_ranks.h"
#include "cim_signal.h"
#include "cim_stats.h"
#include "cim_sweep_csv.h"
#include "cli.h"
#include "h5_sweep.h"

#define DEFAULT_TRIALS 100
#define MAX_TRIALS 100000000ULL
#define YIELD_MARGIN 0.01 /* as `cimgpu run`: digital accuracy minus one point */

/* The dry run's estimate: seconds per crossbar MAC of one chip on one image,
 * measured on a 2-core CPU through PoCL (tnn_cnn, 256x256 TNN_I): chips read
 * with their sampled currents, and chips read cell by cell (C2C, IR drop,
 * read disturb). A rough guide; other devices differ. */
#define EST_S_PER_MAC 2.3e-10
#define EST_S_PER_MAC_PER_CELL 2.7e-8

typedef struct sweep_options {
    const char *exp, *out, *csv, *device;
    uint64_t trials, seed;
    int has_trials, has_seed, resume, force, dry_run;
} sweep_options;

typedef struct sweep_model {
    cim_model model;
    int loaded;
    int64_t base_top1, base_top5; /* the digital chip's correct counts; -1: not run */
} sweep_model;

typedef struct sweep_state {
    sweep_options o;
    cim_experiment exp;
    uint64_t trials, seed;
    cim_dataset all, data;
    sweep_model *models;
    cim_ocl ocl;
    int ocl_open;
    cim_provenance prov;
    cim_outfile out;
    cim_h5_sweep *h5;
    char **run_commands, **config_jsons; /* per configuration */
    double *seconds;       /* per configuration: compute seconds (resumed ones from the file) */
    int32_t *chunk_trials; /* per configuration: chips per work item */
    cim_mc_item *items;    /* rank 0: the work not done yet, in file order */
    int64_t n_items;
    int64_t resumed_chips; /* chips the interrupted sweep had finished */
    int64_t cached;        /* the configuration planned in cache_cfg/cache_plan; -1: none */
    cim_config cache_cfg;
    cim_plan cache_plan;
    cim_exec_cache *shared; /* cache_plan's shared work (cim_exec_cache.h), across its items */
    cim_mc_work_stats work;
    volatile int64_t written;           /* chips in the results file (read by a signal handler) */
    char notice[1024];                  /* the end of the line a signal stops a job of ranks with */
    double estimate;                    /* the dry run's estimate of the grid's time, s */
    int64_t *top1, *top5;               /* the current configuration's chips */
    int64_t current, rows;              /* its index, and its chips written */
    int64_t digital_top1, digital_top5; /* a baseline run's counts */
    int interrupted;
    cim_cli_progress prog;
} sweep_state;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: cimgpu sweep EXP.json [--out S.h5 [--resume] [--force]] [--csv S.csv]\n"
            "                    [--dry-run] [--trials T] [--seed S] [--device SPEC]\n"
            "\n"
            "A design-space exploration: EXP.json is an experiment config of the CIM-Explorer\n"
            "flow (nn_names, ifm, nn_data_set, nn_data, batch, num_runs, xbar_size, hrs_lrs or\n"
            "gmin_gmax, adc_type, resolution, adc_calib_mode, adc_calib_dict, m_mode,\n"
            "hrs_noise, lrs_noise, c2c_var, the physics keys ...; cimgpu's own: trials, seed,\n"
            "yield_target, first_layer, d2d_var, hrs_noise_c2c, lrs_noise_c2c, alpha).\n"
            "Keys given as lists are swept as their Cartesian product, in the reference\n"
            "flow's order; each configuration is the `cimgpu run` that --dry-run prints,\n"
            "with the same results. The whole grid is checked before any work.\n"
            "\n"
            "Options:\n"
            "  --out S.h5     results file: one row per configuration (/configs, /summary)\n"
            "                 and the chips' accuracies (/trials), written as S.h5.partial\n"
            "                 as each chunk of chips finishes, renamed to S.h5 when complete\n"
            "  --resume       with --out: continue the interrupted sweep in S.h5.partial\n"
            "                 (same EXP.json), to the same results as an uninterrupted one\n"
            "  --force        with --out: replace S.h5, or discard an interrupted sweep's\n"
            "                 S.h5.partial (never one a live sweep holds)\n"
            "  --csv S.csv    also write the table, one row per configuration (with the\n"
            "                 reference flow's columns top1, top5, top1_baseline,\n"
            "                 top5_baseline in percent); `cimgpu export S.h5 --csv S.csv`\n"
            "                 writes it from a results file\n"
            "  --dry-run      check the whole grid, print the configuration count, an\n"
            "                 estimated time and each configuration's `cimgpu run` command\n"
            "                 line; compute nothing\n"
            "  --trials T     chips per configuration (default: the file's trials, else %d),\n"
            "                 at most %llu\n"
            "  --seed S       random seed (default: the file's seed, else 0)\n"
            "  --device SPEC  OpenCL device (see `cimgpu info`); under MPI, per node-local\n"
            "                 rank as `cimgpu run --help` says\n"
            "  -h, --help     show this help and exit (also `cimgpu help sweep`)\n"
            "\n"
            "Progress over the whole sweep shows on stderr when it is a terminal. SIGINT,\n"
            "SIGTERM and SIGHUP stop after the current chunk of chips: S.h5.partial keeps\n"
            "every finished one (--resume completes it); exit status 128 + the signal.\n"
            "\n"
            "`mpirun -np R cimgpu sweep ...` shares the chips of every configuration over R\n"
            "processes, with the same results file as one process (docs/mpi.md).\n",
            DEFAULT_TRIALS, (unsigned long long)MAX_TRIALS);
}

enum {
    OPT_OUT = CIM_CLI_LONG_ONLY,
    OPT_RESUME,
    OPT_FORCE,
    OPT_CSV,
    OPT_DRY,
    OPT_TRIALS,
    OPT_SEED,
    OPT_DEVICE
};

static int parse_options(int argc, char **argv, sweep_options *o, cim_error *err)
{
    static const struct option opts[] = {{"out", required_argument, 0, OPT_OUT},
                                         {"resume", no_argument, 0, OPT_RESUME},
                                         {"force", no_argument, 0, OPT_FORCE},
                                         {"csv", required_argument, 0, OPT_CSV},
                                         {"dry-run", no_argument, 0, OPT_DRY},
                                         {"trials", required_argument, 0, OPT_TRIALS},
                                         {"seed", required_argument, 0, OPT_SEED},
                                         {"device", required_argument, 0, OPT_DEVICE},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    cim_cli_getopt_start();
    optind = 2;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        const char *a = optarg;
        switch (c) {
        case OPT_OUT:
            o->out = a;
            break;
        case OPT_RESUME:
            o->resume = 1;
            break;
        case OPT_FORCE:
            o->force = 1;
            break;
        case OPT_CSV:
            o->csv = a;
            break;
        case OPT_DRY:
            o->dry_run = 1;
            break;
        case OPT_DEVICE:
            o->device = a;
            break;
        case OPT_TRIALS:
            if (cim_cli_parse_u64(a, 1, MAX_TRIALS, &o->trials) != 0)
                return cim_error_set(err, CIM_ERR_USAGE,
                                     "sweep: --trials '%s': expected an integer from 1 to %llu", a,
                                     (unsigned long long)MAX_TRIALS);
            o->has_trials = 1;
            break;
        case OPT_SEED:
            if (cim_cli_parse_u64(a, 0, UINT64_MAX, &o->seed) != 0)
                return cim_error_set(err, CIM_ERR_USAGE,
                                     "sweep: --seed '%s': expected an integer from 0 to 2^64-1", a);
            o->has_seed = 1;
            break;
        default:
            return cim_cli_other_option(err, "sweep", c, argv, usage);
        }
    }
    if (optind < argc)
        o->exp = argv[optind++];
    if (optind < argc)
        return cim_cli_unexpected_argument(err, "sweep", argv[optind]);
    if (!o->exp)
        return cim_error_set(err, CIM_ERR_USAGE,
                             "sweep: no experiment file (usage: cimgpu sweep EXP.json ...)");
    if ((o->resume || o->force || o->csv) && !o->out && !o->dry_run)
        return cim_error_set(err, CIM_ERR_USAGE, "sweep: %s needs --out S.h5%s",
                             o->resume  ? "--resume"
                             : o->force ? "--force"
                                        : "--csv",
                             o->csv && !o->resume && !o->force ? " (the table is made from it)"
                                                               : "");
    if (o->csv && o->out && strcmp(o->csv, o->out) == 0)
        return cim_error_set(err, CIM_ERR_USAGE, "sweep: --csv %s is the results file --out",
                             o->csv);
    if (o->dry_run && (o->out || o->csv))
        return cim_error_set(err, CIM_ERR_USAGE, "sweep: --dry-run writes nothing (drop %s)",
                             o->out ? "--out" : "--csv");
    return 0;
}

/* err's message, prefixed with the configuration it is about when it does
 * not name it already. */
static int about_config(const sweep_state *s, int64_t i, int rc, cim_error *err)
{
    char where[512], msg[sizeof where + 2 + CIM_ERROR_MSG_MAX];
    snprintf(where, sizeof where, "%s configuration %lld", s->exp.origin, (long long)i);
    if (rc != 0 && strstr(err->msg, where) == NULL) {
        snprintf(msg, sizeof msg, "%s: %s", where, err->msg);
        cim_error_clear(err); /* the first error set wins: replace it */
        cim_error_set(err, rc, "%s", msg);
    }
    return rc;
}

/* Configuration i's config and plan, checked as `cimgpu run` checks them. */
static int plan_config(sweep_state *s, int64_t i, cim_config *cfg, cim_plan *plan, cim_error *err)
{
    const cim_exp_config *c = &s->exp.configs[i];
    const cim_model *m = &s->models[c->model].model;
    const cim_pixel_layers pixels =
        s->exp.first_layer_crossbar ? CIM_PIXELS_ON_CROSSBAR : CIM_PIXELS_ON_HOST;
    int rc;
    memset(plan, 0, sizeof *plan);
    if ((rc = cim_experiment_config(&s->exp, i, cfg, err)) != 0)
        return about_config(s, i, rc, err);
    if (cfg->adc_profile)
        return about_config(s, i,
                            cim_error_set(err, CIM_ERR_UNSUPPORTED,
                                          "key \"adc_profile\": a sweep stores no ADC "
                                          "profiles; profile a configuration with its `cimgpu "
                                          "run --out` command line or `cimgpu calibrate`"),
                            err);
    if ((rc = cim_plan_init(plan, m, cfg, s->seed, pixels, err)) != 0)
        return about_config(s, i, rc, err);
    if (plan->n_crossbar == 0)
        return about_config(
            s, i,
            cim_error_set(err, CIM_ERR_INPUT,
                          "%s: no layer runs on crossbars (first_layer \"crossbar\" adds those on "
                          "raw pixels)",
                          m->path),
            err);
    return about_config(s, i, cim_cli_check_read_keys(plan, 0, s->data.count, m->path, err), err);
}

/* The models (each once), their inputs against ifm and the images. */
static int load_models(sweep_state *s, cim_error *err)
{
    s->models = calloc((size_t)s->exp.n_models, sizeof *s->models);
    if (!s->models)
        return cim_error_set(err, CIM_ERR_NOMEM, "sweep: out of memory");
    for (int k = 0; k < s->exp.n_models; ++k) {
        const cim_exp_model *em = &s->exp.models[k];
        cim_model *m = &s->models[k].model;
        int rc = cim_model_load(em->path, m, err);
        if (rc != 0)
            return rc;
        s->models[k].loaded = 1;
        s->models[k].base_top1 = s->models[k].base_top5 = -1;
        const cim_shape *in = &m->input_shape; /* [C][H][W] */
        if (in->rank != 3 || in->dim[1] != em->ifm[0] || in->dim[2] != em->ifm[1] ||
            in->dim[0] != em->ifm[2])
            return cim_error_set(err, CIM_ERR_CONFIG,
                                 "%s: key \"ifm\": entry %d is [%lld, %lld, %lld] (H, W, C), but "
                                 "%s takes %s",
                                 s->exp.origin, k, (long long)em->ifm[0], (long long)em->ifm[1],
                                 (long long)em->ifm[2], em->path,
                                 in->rank == 3 ? "another shape (its input is [C, H, W] = "
                                                 "the model's input_shape)"
                                               : "no image input");
        if ((rc = cim_dataset_check_input_shape(&s->all, m, err)) != 0)
            return rc;
        for (int64_t j = 0; j < s->data.count; ++j)
            if (s->data.labels[j] >= m->num_classes)
                return cim_error_set(err, CIM_ERR_INPUT,
                                     "%s: label %d of image %lld is not a class of %s (%d "
                                     "classes)",
                                     s->all.labels_path, s->data.labels[j], (long long)j, em->path,
                                     m->num_classes);
    }
    return 0;
}

/* The dry run's estimate of a configuration's time on its plan. */
static double estimate_seconds(const sweep_state *s, const cim_plan *plan)
{
    const cim_xbar *x = &plan->layers[plan->first_crossbar].xbar;
    const int per_cell = cim_xbar_reads_per_cell(x) && !cim_xbar_c2c_column(x);
    return (double)cim_plan_crossbar_macs(plan) * (double)s->data.count * (double)s->trials *
           (per_cell ? EST_S_PER_MAC_PER_CELL : EST_S_PER_MAC);
}

/* Everything the grid needs from the models, before any work: each
 * configuration's plan once (freed again), its command line, config and
 * the dry run's estimate. */
static int check_grid(sweep_state *s, cim_error *err)
{
    const int64_t n = s->exp.n_configs;
    s->run_commands = calloc((size_t)n, sizeof *s->run_commands);
    s->config_jsons = calloc((size_t)n, sizeof *s->config_jsons);
    s->seconds = malloc(sizeof *s->seconds * (size_t)n);
    s->chunk_trials = malloc(sizeof *s->chunk_trials * (size_t)n);
    if (!s->run_commands || !s->config_jsons || !s->seconds || !s->chunk_trials)
        return cim_error_set(err, CIM_ERR_NOMEM, "sweep: out of memory for %lld configurations",
                             (long long)n);
    for (int64_t i = 0; i < n; ++i) {
        cim_config cfg;
        cim_plan plan;
        int rc = plan_config(s, i, &cfg, &plan, err);
        if (rc == 0) {
            s->config_jsons[i] = cim_config_to_json(&cfg);
            s->run_commands[i] = cim_experiment_run_command(&s->exp, i, s->trials, s->seed);
            if (!s->config_jsons[i] || !s->run_commands[i])
                rc = cim_error_set(err, CIM_ERR_NOMEM, "sweep: out of memory");
            s->estimate += estimate_seconds(s, &plan);
            char what[64]; /* the layers whose bound sends them to the per-cell reads */
            snprintf(what, sizeof what, "sweep: configuration %lld", (long long)i);
            cim_cli_c2c_report(what, &plan, NULL);
            const cim_mc_setup setup = {
                .plan = &plan, .n_images = s->data.count, .n_trials = (int64_t)s->trials};
            int64_t chunk_images;
            cim_mc_chunks(&setup, &s->chunk_trials[i], &chunk_images);
        }
        s->seconds[i] = NAN;
        cim_plan_free(&plan);
        cim_config_free(&cfg);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void print_duration(FILE *out, double seconds)
{
    if (seconds < 120)
        fprintf(out, "%.0f s", seconds);
    else if (seconds < 2 * 3600)
        fprintf(out, "%.0f min", seconds / 60);
    else
        fprintf(out, "%.1f h", seconds / 3600);
}

static int dry_run(sweep_state *s)
{
    printf("%s: %lld configurations x %llu chips x %lld images (%s, %s split), seed %llu\n",
           s->exp.origin, (long long)s->exp.n_configs, (unsigned long long)s->trials,
           (long long)s->data.count, s->exp.data_set, s->exp.split, (unsigned long long)s->seed);
    printf("estimated time: about ");
    print_duration(stdout, s->estimate);
    printf(" (from rates measured on a 2-core CPU; other devices differ)\n");
    for (int64_t i = 0; i < s->exp.n_configs; ++i)
        printf("%lld: %s\n", (long long)i, s->run_commands[i]);
    return 0;
}

/* ---- the work ---------------------------------------------------------- */

static int check_signal(sweep_state *s, cim_error *err)
{
    const int sig = cim_signal_caught();
    if (sig == 0)
        return 0;
    s->interrupted = sig;
    return cim_error_set(err, CIM_ERR_INTERRUPTED, "sweep: interrupted by %s",
                         cim_signal_name(sig));
}

static int digital_sink(void *ctx, const cim_mc_chunk *c, cim_error *err)
{
    sweep_state *s = ctx;
    s->digital_top1 = c->correct[0];
    s->digital_top5 = c->top5_correct[0];
    return check_signal(s, err);
}

/* The digital baseline of configuration i's model (once per model): one
 * noise-free chip on the same images, through the same driver. */
static int baseline(sweep_state *s, int64_t i, cim_error *err)
{
    sweep_model *sm = &s->models[s->exp.configs[i].model];
    cim_config cfg;
    cim_plan plan;
    int rc;
    if (sm->base_top1 >= 0)
        return 0;
    if ((rc = plan_config(s, i, &cfg, &plan, err)) == 0) {
        cim_plan_make_digital(&plan);
        const cim_mc_setup setup = {.plan = &plan,
                                    .images = s->data.images,
                                    .labels = s->data.labels,
                                    .n_images = s->data.count,
                                    .n_trials = 1};
        if ((rc = cim_mc_run(&s->ocl, &setup, 0, digital_sink, NULL, s, err)) == 0) {
            sm->base_top1 = s->digital_top1;
            sm->base_top5 = s->digital_top5;
        }
    }
    cim_plan_free(&plan);
    cim_config_free(&cfg);
    return rc;
}

/* The /configs columns: the experiment's, then config_json and run_command. */
static int make_columns(sweep_state *s, cim_h5_sweep_column **out, cim_error *err)
{
    const int n = s->exp.n_columns;
    cim_h5_sweep_column *c = calloc((size_t)n + 2, sizeof *c);
    if (!c)
        return cim_error_set(err, CIM_ERR_NOMEM, "sweep: out of memory");
    for (int i = 0; i < n; ++i) {
        const cim_exp_column *e = &s->exp.columns[i];
        static const cim_h5_sweep_kind kinds[] = {[CIM_EXP_STRING] = CIM_H5_SWEEP_TEXT,
                                                  [CIM_EXP_INT] = CIM_H5_SWEEP_INT,
                                                  [CIM_EXP_REAL] = CIM_H5_SWEEP_REAL,
                                                  [CIM_EXP_BOOL] = CIM_H5_SWEEP_FLAG};
        c[i] = (cim_h5_sweep_column){e->key, kinds[e->kind], e->width, e->parts, e->num, e->str};
    }
    c[n] = (cim_h5_sweep_column){"config_json", CIM_H5_SWEEP_TEXT, 1, NULL, NULL, s->config_jsons};
    c[n + 1] =
        (cim_h5_sweep_column){"run_command", CIM_H5_SWEEP_TEXT, 1, NULL, NULL, s->run_commands};
    *out = c;
    return 0;
}

static void fill_meta(sweep_state *s, cim_h5_sweep_meta *m, const cim_h5_sweep_column *cols,
                      const char *images_sha, const char *labels_sha)
{
    *m = (cim_h5_sweep_meta){.out = &s->out,
                             .prov = &s->prov,
                             .seed = s->seed,
                             .n_configs = s->exp.n_configs,
                             .trials = (int64_t)s->trials,
                             .images = s->data.count,
                             .first_image = 0,
                             .experiment_path = s->exp.origin,
                             .experiment_json = s->exp.json_text,
                             .grid_sha256 = s->exp.grid_sha256,
                             .dataset_images = s->all.images_path,
                             .dataset_labels = s->all.labels_path,
                             .dataset_images_sha256 = images_sha,
                             .dataset_labels_sha256 = labels_sha,
                             .columns = cols,
                             .n_columns = s->exp.n_columns + 2};
}

/* Configuration c's summary (its T chips in s->top1/top5) into the file. */
static int config_done(sweep_state *s, int64_t c, cim_error *err)
{
    const sweep_model *sm = &s->models[s->exp.configs[c].model];
    const double images = (double)s->data.count;
    const double target = s->exp.has_yield_target
                              ? s->exp.yield_target
                              : fmax(0.0, (double)sm->base_top1 / images - YIELD_MARGIN);
    cim_summary a, b;
    int rc;
    if ((rc = cim_summarize(s->top1, (int64_t)s->trials, s->data.count, target, &a, err)) != 0 ||
        (rc = cim_summarize(s->top5, (int64_t)s->trials, s->data.count, target, &b, err)) != 0)
        return rc;
    const cim_h5_sweep_result r = {&a, &b, (double)sm->base_top1 / images,
                                   (double)sm->base_top5 / images, s->seconds[c]};
    if (s->h5 && (rc = cim_h5_sweep_done(s->h5, c, &r, err)) != 0)
        return rc;
    printf("%4lld  top-1 %.4f (95%% CI %.4f..%.4f, 5%% %.4f)  yield %.4f  top-5 %.4f  digital "
           "%.4f  %.1f s\n",
           (long long)c, a.mean, a.ci95_lo, a.ci95_hi, a.q05, a.yield, b.mean, r.top1_baseline,
           s->seconds[c]);
    fflush(stdout);
    return 0;
}

/* The resumed sweep's finished chips: into the new file, and the summaries
 * of the configurations they complete. */
static int copy_prior(sweep_state *s, const cim_h5_sweep_prior *p, cim_error *err)
{
    const int64_t t = (int64_t)s->trials;
    int rc = 0;
    for (int64_t c = 0; rc == 0 && c * t < p->chips; ++c) {
        const int64_t n = p->chips - c * t < t ? p->chips - c * t : t;
        if ((rc = cim_h5_sweep_append(s->h5, c, 0, n, p->top1 + c * t, p->top5 + c * t, err)) != 0)
            break;
        memcpy(s->top1, p->top1 + c * t, sizeof *s->top1 * (size_t)n);
        memcpy(s->top5, p->top5 + c * t, sizeof *s->top5 * (size_t)n);
        s->seconds[c] = n == t ? p->seconds[c] : 0.0; /* an unfinished one: this run's time */
        s->current = c;
        s->rows = n;
        if (n == t && (rc = baseline(s, c, err)) == 0)
            rc = config_done(s, c, err);
    }
    return rc;
}

static int open_results(sweep_state *s, cim_error *err)
{
    char images_sha[CIM_MODEL_SHA256_HEX_LEN + 1], labels_sha[CIM_MODEL_SHA256_HEX_LEN + 1];
    cim_h5_sweep_column *cols = NULL;
    cim_h5_sweep_meta meta;
    cim_h5_sweep_prior prior;
    int rc;
    memset(&prior, 0, sizeof prior);
    if ((rc = cim_dataset_sha256_hex(&s->all, 0, images_sha, err)) != 0 ||
        (rc = cim_dataset_sha256_hex(&s->all, 1, labels_sha, err)) != 0 ||
        (rc = make_columns(s, &cols, err)) != 0)
        goto done;
    fill_meta(s, &meta, cols, images_sha, labels_sha);
    const char *old = cim_outfile_old_partial(&s->out);
    if (old && (rc = cim_h5_sweep_read_partial(old, &meta, &prior, err)) != 0)
        goto done;
    if ((rc = cim_h5_sweep_create(&meta, &s->h5, err)) != 0)
        goto done;
    s->resumed_chips = prior.chips;
    if (prior.chips > 0) {
        printf("resuming %s: %lld of %lld chips done\n", old, (long long)prior.chips,
               (long long)(s->exp.n_configs * (int64_t)s->trials));
        if ((rc = copy_prior(s, &prior, err)) != 0)
            goto done;
    }
    rc = cim_h5_sweep_start(s->h5, err);
done:
    cim_h5_sweep_prior_free(&prior);
    free(cols);
    return rc;
}

/* ---- the chips as work items (cim_mc_work.h) ------------------------------ */

/* The work not done yet: from the first unfinished chip on, each
 * configuration's chips in chunks of its chunk_trials. */
static int make_items(sweep_state *s, cim_error *err)
{
    const int64_t t = (int64_t)s->trials, written = s->resumed_chips;
    int64_t n = 0;
    for (int64_t c = written / t; c < s->exp.n_configs; ++c)
        n += (t - (c == written / t ? written % t : 0) + s->chunk_trials[c] - 1) /
             s->chunk_trials[c];
    if (n > 0 && !(s->items = malloc(sizeof *s->items * (size_t)n)))
        return cim_error_set(err, CIM_ERR_NOMEM, "sweep: out of memory for %lld work items",
                             (long long)n);
    s->n_items = 0;
    for (int64_t c = written / t; c < s->exp.n_configs; ++c)
        for (int64_t t0 = c == written / t ? written % t : 0; t0 < t; t0 += s->chunk_trials[c])
            s->items[s->n_items++] = (cim_mc_item){
                c, t0, (int32_t)(t - t0 < s->chunk_trials[c] ? t - t0 : s->chunk_trials[c])};
    return 0;
}

static void item_of(void *ctx, int64_t k, cim_mc_item *it)
{
    const sweep_state *s = ctx;
    *it = s->items[k];
}

/* The chips of item it: its configuration planned once per run of items of
 * the same configuration on this rank. */
static int compute_item(void *ctx, const cim_mc_item *it, void *emit, cim_error *err)
{
    sweep_state *s = ctx;
    int rc;
    if (s->cached != it->config) {
        cim_exec_cache_free(s->shared);
        s->shared = NULL;
        cim_plan_free(&s->cache_plan);
        cim_config_free(&s->cache_cfg);
        memset(&s->cache_plan, 0, sizeof s->cache_plan);
        memset(&s->cache_cfg, 0, sizeof s->cache_cfg);
        s->cached = -1;
        if ((rc = plan_config(s, it->config, &s->cache_cfg, &s->cache_plan, err)) != 0)
            return rc;
        if (!(s->shared = cim_exec_cache_new(&s->cache_plan)))
            return cim_error_set(err, CIM_ERR_NOMEM, "sweep: out of memory for the shared layers");
        s->cached = it->config;
    }
    const cim_mc_setup setup = {.plan = &s->cache_plan,
                                .images = s->data.images,
                                .labels = s->data.labels,
                                .n_images = s->data.count,
                                .trial_first = (uint32_t)it->trial_first,
                                .n_trials = it->n,
                                .skip_layer_errors = 1,
                                .cache = s->shared};
    return cim_mc_run(&s->ocl, &setup, 0, cim_mc_work_sink, cim_mc_work_progress, emit, err);
}

/* A finished item, in order: into the file; the last of a configuration
 * completes its row. */
static int deliver_item(void *ctx, const cim_mc_result *res, cim_error *err)
{
    sweep_state *s = ctx;
    const cim_mc_chunk *c = &res->chunk;
    const int64_t i = res->item.config, t0 = c->trial_first;
    int rc = 0;
    if (!cim_ranks_write_begin()) /* a signal's line has counted what the file keeps */
        return check_signal(s, err);
    if (i != s->current) {
        s->current = i;
        s->rows = 0;
        s->seconds[i] = 0.0;
    }
    memcpy(s->top1 + t0, c->correct, sizeof *s->top1 * (size_t)c->n);
    memcpy(s->top5 + t0, c->top5_correct, sizeof *s->top5 * (size_t)c->n);
    if (s->h5)
        rc = cim_h5_sweep_append(s->h5, i, t0, c->n, c->correct, c->top5_correct, err);
    if (rc == 0 && s->h5)
        s->written = cim_h5_sweep_chips_written(s->h5);
    cim_ranks_write_end();
    if (rc != 0)
        return rc;
    s->rows = t0 + c->n;
    s->seconds[i] += res->seconds;
    if (s->rows < (int64_t)s->trials)
        return 0;
    cim_cli_progress_end(&s->prog);
    return (rc = baseline(s, i, err)) != 0 ? rc : config_done(s, i, err);
}

static int poll_signal(void *ctx, cim_error *err)
{
    return check_signal(ctx, err);
}

/* Progress over the whole sweep: configurations done, the current one and
 * its chips. */
static void on_progress(void *ctx, double chips)
{
    sweep_state *s = ctx;
    const double t = (double)s->trials, total = (double)s->exp.n_configs * t;
    const double done = (double)s->resumed_chips + chips;
    const int64_t finished = (int64_t)(done / t); /* configurations */
    if (finished >= s->exp.n_configs)
        return;
    char what[160];
    snprintf(what, sizeof what, "sweep: configuration %lld (%.0f%% of its chips)",
             (long long)finished, 100.0 * (done / t - (double)finished));
    cim_cli_progress_update(&s->prog, what, done / total, (uint64_t)finished,
                            (uint64_t)s->exp.n_configs, "configurations");
}

/* What follows "after N" in the lines a stopped sweep ends with (report's
 * and the one a signal handler writes, cim_ranks_stop_notice): " of C
 * chips", then what S.h5.partial keeps and how to go on when kept, or that
 * nothing is kept without --out. */
static void stop_tail(const sweep_state *s, int kept, char *buf, size_t n)
{
    snprintf(buf, n, " of %lld chips%s%s%s", (long long)s->exp.n_configs * (long long)s->trials,
             kept ? "; " : " (without --out nothing is kept)", kept ? s->out.partial : "",
             kept ? " keeps them: the same command with --resume completes the sweep" : "");
}

/* The configurations not done yet, over the job's ranks; rank 0 writes
 * each chunk of chips as the order reaches it. */
static int run_all(sweep_state *s, cim_error *err)
{
    int rc = 0;
    const cim_mc_work_ops ops = {.ctx = s,
                                 .n_items = s->n_items,
                                 .item = item_of,
                                 .compute = compute_item,
                                 .deliver = deliver_item,
                                 .poll = poll_signal,
                                 .progress = on_progress};
    s->cached = -1;
    s->written = s->h5 ? cim_h5_sweep_chips_written(s->h5) : 0;
    stop_tail(s, s->o.out != NULL, s->notice, sizeof s->notice);
    cim_ranks_stop_notice("cimgpu: sweep: stopped by ", &s->written, s->notice);
    cim_cli_progress_start(&s->prog);
    if (rc == 0)
        rc = cim_mc_work_run(&ops, &s->work, err);
    cim_cli_progress_end(&s->prog);
    cim_ranks_stop_notice(NULL, NULL, NULL);
    return rc;
}

/* ---- set-up and the end -------------------------------------------------- */

/* --out is claimed, and --csv checked, before anything slow: neither may be
 * an input (the experiment, the images, a model) under any name. */
static int claim_out(sweep_state *s, cim_error *err)
{
    const int n = s->exp.n_models + 1 + CIM_DATASET_MAX_FILES;
    cim_outfile_input *inputs = calloc((size_t)n, sizeof *inputs);
    cim_dataset_files *data = calloc(1, sizeof *data);
    int rc = 0;
    if (!inputs || !data) {
        free(inputs);
        free(data);
        return cim_error_set(err, CIM_ERR_NOMEM, "sweep: out of memory");
    }
    cim_dataset_split_files(s->exp.data_dir, s->exp.split, data, NULL);
    inputs[0] = (cim_outfile_input){"EXP.json", s->o.exp};
    for (int32_t i = 0; i < CIM_DATASET_MAX_FILES; ++i) /* the unused ones: NULL, skipped */
        inputs[1 + i] = (cim_outfile_input){"nn_data_set", i < data->n ? data->path[i] : NULL};
    for (int k = 0; k < s->exp.n_models; ++k)
        inputs[1 + CIM_DATASET_MAX_FILES + k] =
            (cim_outfile_input){"nn_names", s->exp.models[k].path};
    if (s->o.csv)
        rc = cim_outfile_check_not_input("--csv", s->o.csv, NULL, inputs, n, err);
    if (rc == 0 && s->o.out) {
        const cim_outfile_spec spec = {.path = s->o.out,
                                       .inputs = inputs,
                                       .n_inputs = n,
                                       .force = s->o.force,
                                       .resume = s->o.resume};
        rc = cim_outfile_claim(&spec, &s->out, err);
        if (rc == 0 && s->o.resume && !cim_outfile_old_partial(&s->out))
            fprintf(stderr,
                    "cimgpu: --resume: no %s%s to resume; the sweep starts from the first "
                    "configuration\n",
                    s->o.out, CIM_OUTFILE_PARTIAL_SUFFIX);
    }
    free(inputs);
    free(data);
    return rc;
}

static int load_data(sweep_state *s, cim_error *err)
{
    int rc = cim_dataset_load_split(s->exp.data_dir, s->exp.split, &s->all, err);
    if (rc != 0)
        return rc;
    if (s->exp.images > s->all.count)
        return cim_error_set(err, CIM_ERR_CONFIG,
                             "%s: keys \"batch\" x \"num_runs\": %lld x %lld = %lld images, but "
                             "%s holds %lld",
                             s->exp.origin, (long long)s->exp.batch, (long long)s->exp.num_runs,
                             (long long)s->exp.images, s->all.images_path, (long long)s->all.count);
    return cim_dataset_subset(&s->all, 0, s->exp.images, &s->data, err);
}

static void print_banner(const sweep_state *s)
{
    printf("cimgpu %s sweep: %s, %lld configurations x %llu chips (trials 0..%llu) x %lld images "
           "(0..%lld of %s), seed %llu\n",
           CIM_VERSION, s->exp.origin, (long long)s->exp.n_configs, (unsigned long long)s->trials,
           (unsigned long long)s->trials - 1, (long long)s->data.count,
           (long long)s->data.count - 1, s->all.images_path, (unsigned long long)s->seed);
    printf("device: %s\n", s->prov.device);
    printf("each configuration: `cimgpu sweep --dry-run` prints its `cimgpu run` command line\n\n");
    fflush(stdout);
}

static int keeps_partial(const sweep_state *s)
{
    return s->h5 && s->out.partial_ours && cim_h5_sweep_chips_written(s->h5) > 0;
}

static int report(sweep_state *s, cim_error *err)
{
    const int kept = keeps_partial(s);
    const size_t len = strlen(err->msg);
    cim_cli_progress_end(&s->prog);
    if (cim_ranks_stop_noticed()) /* the signal handler wrote the line */
        return cim_signal_exit_status(cim_signal_caught());
    if (kept) {
        const int n = snprintf(err->msg + len, sizeof err->msg - len, " after %lld",
                               (long long)cim_h5_sweep_chips_written(s->h5));
        if (n > 0 && len + (size_t)n < sizeof err->msg)
            stop_tail(s, 1, err->msg + len + n, sizeof err->msg - len - (size_t)n);
    } else if (s->interrupted && !s->o.out)
        snprintf(err->msg + len, sizeof err->msg - len, " (without --out nothing is kept)");
    const int status = cim_cli_report(err);
    return s->interrupted ? cim_signal_exit_status(s->interrupted) : status;
}

static void release(sweep_state *s)
{
    const int keep = keeps_partial(s);
    cim_h5_sweep_discard(s->h5);
    s->h5 = NULL;
    cim_outfile_release(&s->out, keep);
    cim_exec_cache_free(s->shared); /* its device buffers go before the device */
    if (s->ocl_open)
        cim_ocl_close(&s->ocl);
    cim_provenance_free(&s->prov);
    for (int64_t i = 0; s->run_commands && i < s->exp.n_configs; ++i)
        free(s->run_commands[i]);
    for (int64_t i = 0; s->config_jsons && i < s->exp.n_configs; ++i)
        free(s->config_jsons[i]);
    free(s->run_commands);
    free(s->config_jsons);
    free(s->seconds);
    free(s->chunk_trials);
    free(s->items);
    cim_plan_free(&s->cache_plan);
    cim_config_free(&s->cache_cfg);
    free(s->top1);
    free(s->top5);
    for (int k = 0; s->models && k < s->exp.n_models; ++k)
        if (s->models[k].loaded)
            cim_model_free(&s->models[k].model);
    free(s->models);
    cim_dataset_free(&s->data);
    cim_dataset_free(&s->all);
    cim_experiment_free(&s->exp);
}

/* Everything before the chips, on every rank: the experiment, the data, the
 * models and the grid; rank 0 also claims --out and makes the work list.
 * The other ranks stop after opening their device. */
static int prepare(sweep_state *s, int argc, char **argv, cim_error *err)
{
    const int writer = cim_ranks_prints();
    int rc;
    if ((rc = cim_experiment_load(s->o.exp, cim_cli_model_dir(), CIM_IDX_DEFAULT_DIR, &s->exp,
                                  err)) != 0)
        return rc;
    s->trials = s->o.has_trials ? s->o.trials : s->exp.has_trials ? s->exp.trials : DEFAULT_TRIALS;
    s->seed = s->o.has_seed ? s->o.seed : s->exp.has_seed ? s->exp.seed : 0;
    if ((writer && (rc = claim_out(s, err)) != 0) || (rc = load_data(s, err)) != 0 ||
        (rc = load_models(s, err)) != 0 || (rc = check_grid(s, err)) != 0 || s->o.dry_run)
        return rc;
    cim_signal_catch();
    s->top1 = malloc(sizeof *s->top1 * s->trials);
    s->top5 = malloc(sizeof *s->top5 * s->trials);
    if (!s->top1 || !s->top5)
        return cim_error_set(err, CIM_ERR_NOMEM, "sweep: out of memory for %llu trials",
                             (unsigned long long)s->trials);
    if ((rc = cim_provenance_init(&s->prov, argc, argv, err)) != 0 ||
        (rc = cim_cli_open_device(&s->ocl, s->o.device, err)) != 0)
        return rc;
    s->ocl_open = 1;
    cim_cli_set_provenance_device(&s->prov, &s->ocl);
    if (!writer)
        return 0;
    print_banner(s);
    s->current = -1; /* no configuration begun (a resumed one: copy_prior sets it) */
    if (s->o.out && (rc = open_results(s, err)) != 0)
        return rc;
    return make_items(s, err);
}

/* Under MPI: every rank read the same experiment, models and images
 * (collective). */
static int same_inputs(const sweep_state *s, cim_error *err)
{
    if (!cim_ranks_many()) /* one process: nothing to compare */
        return 0;
    char *models = calloc((size_t)s->exp.n_models + 1, CIM_MODEL_SHA256_HEX_LEN);
    for (int k = 0; models && k < s->exp.n_models; ++k)
        memcpy(models + (size_t)k * CIM_MODEL_SHA256_HEX_LEN, s->models[k].model.sha256_hex,
               CIM_MODEL_SHA256_HEX_LEN);
    const size_t image = (size_t)cim_dataset_image_bytes(&s->all);
    const cim_ranks_part parts[] = {
        {"the experiment", s->exp.json_text, s->exp.json_text ? strlen(s->exp.json_text) : 0},
        {"the models", models ? models : "",
         models ? (size_t)s->exp.n_models * CIM_MODEL_SHA256_HEX_LEN : 0},
        {"the images", s->data.images, image * (size_t)s->data.count},
        {"the labels", s->data.labels, (size_t)s->data.count}};
    const int rc = cim_ranks_same(parts, (int)(sizeof parts / sizeof *parts), err);
    free(models);
    return rc;
}

int cim_cli_sweep(int argc, char **argv)
{
    sweep_state s;
    cim_error err;
    int rc;
    memset(&s, 0, sizeof s);
    cim_error_clear(&err);
    rc = parse_options(argc, argv, &s.o, &err);
    if (rc == 1)
        return 0;
    if (rc != 0)
        return cim_cli_report(&err);
    const int writer = cim_ranks_prints();
    rc = cim_ranks_agree(prepare(&s, argc, argv, &err), &err); /* every rank ready, or none */
    if (rc == 0)
        rc = same_inputs(&s, &err);
    if (rc == 0 && s.o.dry_run) {
        rc = writer ? dry_run(&s) : 0;
        release(&s);
        return rc;
    }
    const int worked = rc == 0;
    if (rc == 0)
        rc = run_all(&s, &err);
    if (!writer) {
        const int status = rc == 0  ? 0
                           : worked ? cim_mc_work_exit_status()
                                    : cim_error_exit_code(rc);
        release(&s);
        return status;
    }
    if (rc == 0 && s.h5 && (rc = cim_h5_sweep_finish(s.h5, &err)) == 0 && s.o.csv)
        rc = cim_sweep_export_csv(s.o.out, s.o.csv, &err);
    if (rc == 0)
        cim_cli_work_print(&s.work, stderr);
    if (rc != 0)
        rc = report(&s, &err);
    release(&s);
    return rc;
}
