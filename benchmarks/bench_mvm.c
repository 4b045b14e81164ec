/* bench_mvm.c -- throughput of the crossbar kernels, in kernel time and in
 * whole-call time, against the device's own peaks measured interleaved with
 * them, against the plain-C reference and against the reference simulator
 * (docs/design.md §5; every figure and target: docs/benchmarks.md). Not a
 * test: it prints figures, ratios and whether each target is met.
 *
 * Workload: a 256x256 TNN_I tile (the paper's typical crossbar), HRS/LRS
 * 5/30 uA, D2D sigma 1/3 uA, 5-bit symmetric ADC with MAX range; random
 * ternary weights and inputs (a third of the inputs are 0). Analog: T
 * D2D-sampled chips (trials) read I inputs each in one cim_engine_mvm call,
 * and the same chips reading I/4 inputs (a second size, to split the fixed
 * part of a call from the part per input); digital: 8 I inputs.
 *
 * Two times for every call:
 *   kernel time  the OpenCL profiling times of the call's kernels
 *                (cim_engine_timing: program = D2D sampling, read = reads);
 *   whole call   cim_clock_now_s around the same cim_engine_mvm call: host
 *                preparation (input sums, entry lists, bit-plane packing),
 *                uploads, launches, waits, the result copy.
 * Both come from one call, so the whole call includes the waits that
 * profiling adds after each launch (conservative for the whole call).
 *
 * Work counted:
 *   logical MACs   rows x cols per input and chip (65536 here), the W x a
 *                  reference simulator computes;
 *   performed adds the vector adds the analog read kernel cim_read_g really
 *                  executes: per chip, one add of a padded column block for
 *                  every entry of its lists, as the engine counts them
 *                  (cim_engine_timing.read_terms) -- an input position whose
 *                  value drives a row (cim_value_class(d, x + 1) >= 0: x = 0
 *                  drives none in TNN_I and costs nothing), or, along an input
 *                  chain (cim_input_chain.h), a position where the input
 *                  differs from the one before (on these random inputs the
 *                  chain restarts almost everywhere) -- for each conversion,
 *                  over rows_pad lanes (the rows rounded up to the SIMD width:
 *                  the kernel adds whole CIM_VW-wide vectors). Only the g adds
 *                  are counted, not the ADC step;
 *   counted words  the digital kernel's unit, a 32-bit word of cell bits
 *                  ANDed with the drive bits and popcounted: per input,
 *                  input tile, word of the tile and sign group of each
 *                  conversion (plus, minus) over rows_pad lanes.
 *
 * Peaks (kernels/cim_peak.cl): int32 adds in registers
 * (cim_peak_int_add), the analog read's load-add mix (cim_peak_load_add:
 * acc += *(vec *)(table + idx[e]) over the real entry list of an input, the
 * table a g block), AND-popcounted words (cim_peak_and_popcount) and, for
 * the IR-drop read, ladder steps. Each peak launch is sized to about
 * PEAK_TARGET_S. The R rounds alternate peaks and workloads: round r runs
 * the peaks, then the analog calls, then the digital call. "best" is the
 * best round of the numerator over the best round of the denominator;
 * "median" is the median over rounds of the ratio of the same round.
 *
 * Bit-line IR drop: the same tile with w_res 1 ohm at V_read -0.2 V (a
 * segment passes 200 mA), on bit lines of 512 rows (TNN_I gives an input two
 * rows), read by the per-cell kernel; its unit of work is a ladder step (one
 * physical row of one column of one read), given in steps per second next to
 * the device's peak for that step, interleaved the same way.
 *
 *   bench_mvm [--trials T] [--inputs I] [--repeat R] [--device SPEC]
 *             [--saf P] [--device-csv CELLS.csv] [--no-ladder]
 *
 * --saf P puts stuck-at faults on every cell with probability P (half at
 * HRS, half at LRS), in the analog and the digital workload (whose chips then
 * differ per trial and take the g kernels: the digital figures then count
 * performed adds against the int32-add peak); --device-csv replaces the D2D
 * Gaussian by the tables of a CSV of cell currents (device_cdf_csv). Both
 * measure what these models cost. --no-ladder skips the IR-drop section.
 *
 * Exit status: 0 (also when a target is missed: the output says so), 2 for a
 * bad option, 1 for a device or runtime failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_stats.h"
#include "cim_clock.h"
#include "cim_config.h"
#include "cim_engine.h"
#include "cim_ladder.h"
#include "cim_launch.h"
#include "cim_mapping.h"
#include "cim_reference.h"
#include "cli.h"

#define XBAR 256
#define HRS_NA 5000
#define LRS_NA 30000
#define ADC_BITS 5
/* The CIM-Explorer reference simulator, measured on the 2-core CPU machine of
 * docs/design.md §5 (256x256 TNN_I, D2D on): 0.67 to 0.72 G MAC/s per core,
 * both ends kept; a verdict uses the faster end (the smaller ratio). */
#define REFSIM_MACS_PER_CORE_LO 0.67e9
#define REFSIM_MACS_PER_CORE_HI 0.72e9
#define REFSIM_CORES 2         /* cores of that machine: the comparison on a GPU */
#define IMAGES_PER_TRIAL 10000 /* Fashion-MNIST test set: a chip's images */
#define BITS_PER_WORD 32       /* the digital kernel's word (cim_engine_side.h) */
#define PEAK_TARGET_S 0.03     /* each peak launch is sized to about this */
#define PEAK_ITEMS_PER_CU 4096 /* work-items per compute unit of a peak launch */
#define PEAK_LOCAL 64          /* work-group size of the peak kernels */
#define MAX_ROUNDS BENCH_MAX_ROUNDS
/* Targets (docs/design.md §5, docs/benchmarks.md). */
#define TARGET_ANALOG_OF_ADD_PEAK 0.50
#define TARGET_DIGITAL_OF_POP_PEAK 0.50
#define TARGET_DIGITAL_WHOLE_OF_KERNEL 0.80
#define TARGET_D2D_SHARE 0.01
#define TARGET_ANALOG_X_REFSIM 100.0
#define TARGET_DIGITAL_X_REFSIM 200.0

static void make_xbar(cim_xbar *x, int digital)
{
    memset(x, 0, sizeof *x);
    x->mapping = CIM_TNN_I;
    x->xbar_m = XBAR;
    x->xbar_n = XBAR;
    x->current_na[0] = HRS_NA;
    x->current_na[1] = LRS_NA;
    x->d2d_sigma_na[0] = 1000;
    x->d2d_sigma_na[1] = 3000;
    x->seed = 1;
    x->column.mapping = CIM_TNN_I;
    x->column.digital = digital;
    x->column.hrs = digital ? 0 : HRS_NA;
    x->column.delta = digital ? 1 : LRS_NA - HRS_NA;
    if (!digital) {
        x->column.adc_type = CIM_ADC_SYM;
        x->column.adc_steps = cim_adc_steps(CIM_ADC_SYM, ADC_BITS);
        x->column.adc_lo2 = -2LL * XBAR * (LRS_NA - HRS_NA);
        x->column.adc_hi2 = 2LL * XBAR * (LRS_NA - HRS_NA);
    }
}

/* The analog workload with bit-line IR drop: 200 mA per segment, bit lines
 * as long as the tile's inputs need (TNN_I: two rows per input). */
#define LADDER_ROWS (2 * XBAR)
static void make_ladder_xbar(cim_xbar *x)
{
    make_xbar(x, 0);
    x->ladder_iw = (int64_t)200000000 << CIM_FINE_FRAC_BITS;
    x->ladder_rows = LADDER_ROWS;
    x->column.fine = 1;
}

/* Ladder steps of one read of one output: every physical column of every
 * conversion walks all its rows. */
static double ladder_steps_per_output(cim_mapping_id id)
{
    const cim_mapping_desc *d = cim_mapping_desc_of(id);
    double columns = 0;
    for (int j = 0; j < d->n_convs; ++j)
        columns +=
            (cim_ladder_rows_per_input(d, j, 1) > 0) + (cim_ladder_rows_per_input(d, j, -1) > 0);
    return columns * LADDER_ROWS;
}

static void fill_ternary(int8_t *v, size_t n, uint32_t seed)
{
    for (size_t k = 0; k < n; ++k) {
        seed = seed * 1664525u + 1013904223u;
        v[k] = (int8_t)((int)((seed >> 16) % 3) - 1);
    }
}

/* Sign groups (plus, minus) present in the conversions: the words the
 * digital kernel counts per word of input and output. */
static int popcount_groups(const cim_mapping_desc *d)
{
    int groups = 0;
    for (int j = 0; j < d->n_convs; ++j) {
        int plus = 0, minus = 0;
        for (int t = 0; t < d->conv[j].n_terms; ++t) {
            plus |= d->conv[j].terms[t].sign > 0;
            minus |= d->conv[j].terms[t].sign < 0;
        }
        groups += plus + minus;
    }
    return groups;
}

/* Input positions of `in` (n_inputs x cols) whose value drives a row of the
 * mapping: the entries of cim_read_g's entry lists (cim_launch.h), summed
 * over inputs and input tiles. */
static double driving_positions(const cim_mapping_desc *d, const int8_t *in, int n_inputs, int cols)
{
    int64_t n = 0;
    for (size_t k = 0; k < (size_t)n_inputs * (size_t)cols; ++k)
        n += cim_value_class(d, in[k] + 1) >= 0;
    return (double)n;
}

/* Words cim_read_digital counts for n_inputs inputs: per input, input tile,
 * word of the tile and sign group, over rows_pad lanes. */
static double digital_words(const cim_mapping_desc *d, int n_inputs, int cols, int xbar_n,
                            int64_t rows_pad)
{
    const int64_t tiles_n = (cols + xbar_n - 1) / xbar_n;
    const int64_t words_per_tile = (xbar_n + BITS_PER_WORD - 1) / BITS_PER_WORD;
    return (double)n_inputs * (double)tiles_n * (double)words_per_tile * popcount_groups(d) *
           (double)rows_pad;
}

/* ---- peak micro-kernels ---------------------------------------------- */

typedef struct peak_kernel {
    const char *name;
    double ops_per_step_item; /* operations per step and work-item */
    int steps;                /* sized by peak_calibrate */
    /* cim_peak_load_add only: the table, the index stream, its length, w */
    cl_mem table, idx;
    int n_idx, w;
} peak_kernel;

/* One launch of a peak kernel: operations per second (0 with err set). */
static double peak_run(cim_ocl *ocl, peak_kernel *pk, double *seconds, cim_error *err)
{
    const size_t items = (size_t)ocl->compute_units * PEAK_ITEMS_PER_CU, local = PEAK_LOCAL;
    cl_int st;
    cl_kernel k = NULL;
    cl_event ev;
    cl_ulong t0 = 0, t1 = 0;
    if (cim_ocl_kernel(ocl, pk->name, &k, err) != 0)
        return 0;
    cl_mem buf = cim_ocl_buffer(ocl, CL_MEM_WRITE_ONLY, items * sizeof(int), NULL, pk->name, err);
    if (!buf)
        return 0;
    clSetKernelArg(k, 0, sizeof buf, &buf);
    clSetKernelArg(k, 1, sizeof pk->steps, &pk->steps);
    if (pk->table) {
        clSetKernelArg(k, 2, sizeof pk->table, &pk->table);
        clSetKernelArg(k, 3, sizeof pk->idx, &pk->idx);
        clSetKernelArg(k, 4, sizeof pk->n_idx, &pk->n_idx);
        clSetKernelArg(k, 5, sizeof pk->w, &pk->w);
    }
    st = clEnqueueNDRangeKernel(ocl->queue, k, 1, NULL, &items, &local, 0, NULL, &ev);
    if (st != CL_SUCCESS) {
        clReleaseMemObject(buf);
        cim_error_set(err, CIM_ERR_OPENCL, "peak kernel %s: %s", pk->name, cim_ocl_strerror(st));
        return 0;
    }
    clWaitForEvents(1, &ev);
    clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL);
    clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL);
    clReleaseEvent(ev);
    clReleaseMemObject(buf);
    const double s = (double)(t1 - t0) * 1e-9;
    if (seconds)
        *seconds = s;
    if (!(s > 0)) {
        cim_error_set(err, CIM_ERR_OPENCL, "peak kernel %s: no profiling time", pk->name);
        return 0;
    }
    return pk->ops_per_step_item * pk->steps * (double)items / s;
}

/* Sizes pk->steps so that a launch takes about PEAK_TARGET_S (warm-up
 * launches included). 0 or -1 with err set. */
static int peak_calibrate(cim_ocl *ocl, peak_kernel *pk, cim_error *err)
{
    double s = 0;
    for (int pass = 0; pass < 3; ++pass) {
        if (peak_run(ocl, pk, &s, err) <= 0)
            return -1;
        if (s >= 0.7 * PEAK_TARGET_S && s <= 1.5 * PEAK_TARGET_S)
            break;
        double steps = pk->steps * PEAK_TARGET_S / s;
        steps = steps < 1 ? 1 : steps > (1 << 24) ? (1 << 24) : steps;
        pk->steps = (int)steps;
    }
    return 0;
}

/* ---- timed engine calls ----------------------------------------------- */

typedef struct call_time {
    double wall;    /* whole call: cim_clock_now_s around cim_engine_mvm */
    double program; /* kernel time: cell programming (D2D sampling) */
    double read;    /* kernel time: reads */
    double terms;   /* entries the g reads added (cim_engine_timing.read_terms) */
} call_time;

static int timed_call(cim_ocl *ocl, cim_mvm_job *job, int32_t *out, call_time *ct, cim_error *err)
{
    cim_engine_timing t = {0, 0, 0};
    job->timing = &t;
    const double t0 = cim_clock_now_s();
    const int rc = cim_engine_mvm(ocl, job, out, NULL, err);
    ct->wall = cim_clock_now_s() - t0;
    ct->program = t.program_s;
    ct->read = t.read_s;
    ct->terms = t.read_terms;
    job->timing = NULL;
    return rc;
}

/* Fastest of `repeats` runs of the reference, in MAC/s. */
static double reference_rate(const cim_xbar *x, const int8_t *w, const int8_t *in, int n_inputs,
                             int32_t *out, int repeats)
{
    double best = 0;
    for (int r = 0; r < repeats; ++r) {
        double t0 = cim_clock_now_s();
        if (cim_reference_mvm(x, w, XBAR, XBAR, in, n_inputs, 0, 0, out, NULL) != 0)
            return 0;
        double rate = n_inputs * (double)XBAR * XBAR / (cim_clock_now_s() - t0);
        best = rate > best ? rate : best;
    }
    return best;
}

/* ---- printing ---------------------------------------------------------- */

/* A rate: best round and median round, in G/s. A negative value marks a
 * round that gave none (a two-size split that noise undid): the best is
 * then over the other rounds, and there is no median. */
static void print_rate(const char *label, const char *basis, const double *v, int n)
{
    if (bench_max(v, n) < 0) {
        printf("  %-50s %-12s %10s   (no round gave one: noise, use more --inputs)\n", label, basis,
               "n/a");
        return;
    }
    printf("  %-50s %-12s %10.3f", label, basis, bench_max(v, n) * 1e-9);
    if (bench_min(v, n) >= 0)
        printf(" %10.3f\n", bench_median(v, n) * 1e-9);
    else
        printf(" %10s\n", "-");
}

/* A ratio against its target: `best` (best over best), `med` (median of the
 * rounds' ratios), in percent or as a factor; at_least 1: value >= target,
 * 0: value <= target; target < 0: no target (what the figure says instead). */
static void print_check(const char *label, double best, double med, int percent, double target,
                        int at_least, const char *note)
{
    const double f = percent ? 100 : 1;
    const char *u = percent ? "%" : "x";
    printf("  %-58s %9.2f%s", label, best * f, u);
    if (med >= 0)
        printf(" %9.2f%s", med * f, u);
    else
        printf(" %10s", "-");
    if (target < 0) {
        printf("   %-10s %s\n", "-", note ? note : "");
        return;
    }
    char t[32];
    snprintf(t, sizeof t, "%s %g%s", at_least ? ">=" : "<=", target * f, u);
    printf("   %-10s %s%s%s\n", t, bench_verdict(best, target, at_least), note ? "; " : "",
           note ? note : "");
}

/* ---- main ------------------------------------------------------------- */

typedef struct options {
    int trials, inputs, repeats, ladder;
    const char *device, *device_csv;
    double saf;
} options;

static int parse(int argc, char **argv, options *o)
{
    o->trials = 64;
    o->inputs = 512;
    o->repeats = 3;
    o->ladder = 1;
    o->device = o->device_csv = NULL;
    o->saf = 0;
    for (int a = 1; a < argc; ++a) {
        const char *name = argv[a];
        if (!strcmp(name, "--no-ladder")) {
            o->ladder = 0;
            continue;
        }
        if (a + 1 >= argc) {
            fprintf(stderr, "bench_mvm: option '%s' needs a value\n", name);
            return 2;
        }
        const char *v = argv[++a];
        if (!strcmp(name, "--trials"))
            o->trials = atoi(v);
        else if (!strcmp(name, "--inputs"))
            o->inputs = atoi(v);
        else if (!strcmp(name, "--repeat"))
            o->repeats = atoi(v);
        else if (!strcmp(name, "--device"))
            o->device = v;
        else if (!strcmp(name, "--saf"))
            o->saf = atof(v);
        else if (!strcmp(name, "--device-csv"))
            o->device_csv = v;
        else {
            fprintf(stderr,
                    "bench_mvm: unknown option '%s' (--trials --inputs --repeat --device --saf "
                    "--device-csv --no-ladder)\n",
                    name);
            return 2;
        }
    }
    if (!(o->saf >= 0 && o->saf <= 1)) {
        fprintf(stderr, "bench_mvm: --saf must be a probability from 0 to 1\n");
        return 2;
    }
    if (o->trials < 1 || o->inputs < 4 || o->repeats < 1 || o->repeats > MAX_ROUNDS) {
        fprintf(stderr, "bench_mvm: --trials >= 1, --inputs >= 4 and --repeat 1..%d expected\n",
                MAX_ROUNDS);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    cim_cli_keep_freed_memory(); /* as `cimgpu` does */
    options o;
    cim_ocl ocl;
    cim_error err = {0, ""};
    int ocl_open = 0, status = 1;
    cl_mem la_table = NULL, la_idx = NULL;
    int32_t *la_host = NULL;
    if (parse(argc, argv, &o) != 0)
        return 2;
    const int T = o.trials, I = o.inputs, R = o.repeats;
    const int I_short = I / 4, dig_inputs = I * 8, ref_inputs = 16;
    const double logical_per_input = (double)XBAR * XBAR;
    int8_t *w = malloc(XBAR * XBAR), *in = malloc((size_t)I * XBAR);
    int8_t *din = malloc((size_t)dig_inputs * XBAR);
    int32_t *out = malloc(sizeof(int32_t) * (size_t)T * I * XBAR);
    int32_t *dout = malloc(sizeof(int32_t) * (size_t)dig_inputs * XBAR);
    double *rounds = calloc((size_t)R * 32, sizeof(double));
    if (!w || !in || !din || !out || !dout || !rounds) {
        cim_error_set(&err, CIM_ERR_NOMEM, "out of memory for the workload");
        goto fail;
    }
    if (cim_ocl_open(&ocl, o.device, &err) != 0)
        goto fail;
    ocl_open = 1;
    cim_xbar xa, xd;
    fill_ternary(w, XBAR * XBAR, 11);
    fill_ternary(in, (size_t)I * XBAR, 12);
    fill_ternary(din, (size_t)dig_inputs * XBAR, 13);
    make_xbar(&xa, 0);
    make_xbar(&xd, 1);
    xa.saf_below[0] = xd.saf_below[0] = (int64_t)(o.saf / 2 * 4294967296.0 + 0.5);
    xa.saf_below[1] = xd.saf_below[1] = (int64_t)(o.saf * 4294967296.0 + 0.5);
    if (o.device_csv) {
        char json[4200];
        cim_config cfg;
        cim_xbar tables;
        snprintf(json, sizeof json,
                 "{\"m_mode\": \"TNN_I\", \"M\": 256, \"N\": 256, \"device_cdf_csv\": \"%s\"}",
                 o.device_csv);
        if (cim_config_parse(json, "--device-csv", &cfg, &err) != 0 ||
            cim_config_resolve(&cfg, NULL, 1, 0, &tables, &err) != 0)
            goto fail;
        xa.cdf = tables.cdf;
        cim_config_free(&cfg);
    }
    const cim_mapping_desc *md = cim_mapping_desc_of(CIM_TNN_I);
    const int vw = ocl.vector_width;
    const int64_t rows_pad = (XBAR + vw - 1) / vw * vw; /* cim_engine_side.c */
    const int is_cpu = (ocl.device_type & CL_DEVICE_TYPE_CPU) != 0;
    const int digital_g = o.saf > 0; /* faulty digital chips take the g kernels */

    /* Work of each call. */
    const double logical_a = (double)T * I * logical_per_input;
    /* the g reads' adds as the engine counts them (its lists), after the warm-up */
    double performed_a = 0, work_d = 0;
    const double logical_d = (double)dig_inputs * logical_per_input;

    /* Peak kernels; the load-add one over the entry list of the first
     * analog input, on a table of a g block's size (cim_launch.h). */
    const int classes = cim_value_classes(md);
    const int g_block = ocl.cpu_style ? vw : (int)rows_pad;
    const size_t table_ints = (size_t)classes * XBAR * (size_t)g_block;
    int n_idx = 0;
    la_host = malloc(sizeof(int32_t) * (table_ints > XBAR ? table_ints : XBAR));
    if (!la_host) {
        cim_error_set(&err, CIM_ERR_NOMEM, "out of memory for the load-add peak");
        goto fail;
    }
    for (int n = 0; n < XBAR; ++n) {
        const int c = cim_value_class(md, in[n] + 1);
        if (c >= 0)
            la_host[n_idx++] = c * XBAR * g_block + n * g_block;
    }
    la_idx = cim_ocl_buffer(&ocl, CL_MEM_READ_ONLY, sizeof(int32_t) * (size_t)n_idx, la_host,
                            "load-add index stream", &err);
    for (size_t k = 0; k < table_ints; ++k)
        la_host[k] = (int32_t)(k % 977);
    la_table = cim_ocl_buffer(&ocl, CL_MEM_READ_ONLY, sizeof(int32_t) * table_ints, la_host,
                              "load-add table", &err);
    if (!la_idx || !la_table)
        goto fail;
    peak_kernel pk_add = {"cim_peak_int_add", 2.0 * 8 * vw, 4096, NULL, NULL, 0, 0};
    peak_kernel pk_la = {
        "cim_peak_load_add", (double)n_idx * vw, 16, la_table, la_idx, n_idx, g_block};
    peak_kernel pk_pop = {"cim_peak_and_popcount", 8.0 * vw, 4096, NULL, NULL, 0, 0};
    peak_kernel pk_step = {"cim_peak_ladder_step", 8.0, 4096, NULL, NULL, 0, 0};

    printf("device: %s / %s (%s, %u compute units, SIMD width %d, %s launch style)\n",
           ocl.platform_name, ocl.device_name, is_cpu ? "CPU" : "GPU", ocl.compute_units, vw,
           ocl.cpu_style ? "CPU" : "GPU");
    printf("workload: 256x256 TNN_I, HRS/LRS 5/30 uA, D2D sigma 1/3 uA, %d-bit SYM ADC; analog "
           "%d D2D-sampled chips x %d inputs (and x %d inputs, the second size), digital %d "
           "inputs; %d interleaved rounds after a warm-up\n",
           ADC_BITS, T, I, I_short, dig_inputs, R);
    printf("cells: stuck-at faults %g (half HRS, half LRS)%s; D2D %s\n", o.saf,
           digital_g ? ", digital through the g kernels" : "",
           o.device_csv ? "tables of --device-csv" : "Gaussian");
    printf("times: kernel = OpenCL profiling of the call's kernels; whole call = "
           "cim_clock_now_s around the same cim_engine_mvm call\n");
    printf("rounds: each runs the peak kernels, then the analog calls, then the digital call; "
           "best = best round over best round, median = median of the rounds' own ratios; "
           "verdicts judge the best column\n\n");
    fflush(stdout);

    /* Warm-up: kernel builds, buffers, caches; peaks sized. */
    cim_mvm_job job = {.xbar = &xa,
                       .weights = w,
                       .rows = XBAR,
                       .cols = XBAR,
                       .inputs = in,
                       .n_inputs = I,
                       .n_trials = T};
    cim_mvm_job sjob = job;
    sjob.n_inputs = I_short;
    cim_mvm_job djob = {.xbar = &xd,
                        .weights = w,
                        .rows = XBAR,
                        .cols = XBAR,
                        .inputs = din,
                        .n_inputs = dig_inputs,
                        .n_trials = 1};
    call_time ca, cs, cd;
    if (timed_call(&ocl, &job, out, &ca, &err) != 0 ||
        timed_call(&ocl, &sjob, out, &cs, &err) != 0 ||
        timed_call(&ocl, &djob, dout, &cd, &err) != 0 || peak_calibrate(&ocl, &pk_add, &err) ||
        peak_calibrate(&ocl, &pk_la, &err) || peak_calibrate(&ocl, &pk_pop, &err))
        goto fail;
    performed_a = ca.terms * md->n_convs * (double)rows_pad;
    work_d = digital_g ? cd.terms * md->n_convs * (double)rows_pad
                       : digital_words(md, dig_inputs, XBAR, XBAR, rows_pad);

    /* Per-round figures, rounds[k * R + r]. */
    enum {
        P_ADD,
        P_LA,
        P_POP,
        A_WALL,
        A_PROG,
        A_READ,
        S_WALL,
        S_PROG,
        S_READ,
        D_WALL,
        D_READ,
        N_FIG
    };
    double *f[N_FIG];
    for (int k = 0; k < N_FIG; ++k)
        f[k] = rounds + (size_t)k * R;
    for (int r = 0; r < R; ++r) {
        if ((f[P_ADD][r] = peak_run(&ocl, &pk_add, NULL, &err)) <= 0 ||
            (f[P_LA][r] = peak_run(&ocl, &pk_la, NULL, &err)) <= 0 ||
            (f[P_POP][r] = peak_run(&ocl, &pk_pop, NULL, &err)) <= 0 ||
            timed_call(&ocl, &job, out, &ca, &err) != 0 ||
            timed_call(&ocl, &sjob, out, &cs, &err) != 0 ||
            timed_call(&ocl, &djob, dout, &cd, &err) != 0)
            goto fail;
        f[A_WALL][r] = ca.wall;
        f[A_PROG][r] = ca.program;
        f[A_READ][r] = ca.read;
        f[S_WALL][r] = cs.wall;
        f[S_PROG][r] = cs.program;
        f[S_READ][r] = cs.read;
        f[D_WALL][r] = cd.wall;
        f[D_READ][r] = cd.read;
    }
    const double ref_rate = reference_rate(&xa, w, in, ref_inputs, out, R);
    const double ref_digital_rate = reference_rate(&xd, w, din, ref_inputs, dout, R);

    /* Rates per round (work / time of the same round). */
    double v[20][MAX_ROUNDS];
    enum {
        R_A_LOG_K, /* analog: logical MACs / read kernel */
        R_A_PERF_K,
        R_A_LOG_W, /* analog: logical MACs / whole call */
        R_A_PERF_W,
        R_D_LOG_K,
        R_D_LOG_W,
        R_D_WORK_K,
        R_D_WORK_W,
        R_A10K_LOG_W, /* analog at 10000 inputs per chip, from the two sizes */
        R_D2D_K,      /* D2D sampling share, kernel times */
        R_D2D_W,      /* D2D sampling (fixed part) share, whole calls */
        R_A_KEEP,     /* analog kernel time / whole call */
        R_D_KEEP,
        R_D2D_MS_K, /* ms per chip */
        R_D2D_MS_W,
        R_A_PERF_X, /* analog: performed adds / (whole call - D2D-sampling kernel time) */
        R_A_PERF_M, /* analog: performed adds / whole-call time per input (two sizes) */
    };
    int fit_rounds_ok = 1; /* every round's two sizes gave a split */
    for (int r = 0; r < R; ++r) {
        v[R_A_LOG_K][r] = logical_a / f[A_READ][r];
        v[R_A_PERF_K][r] = performed_a / f[A_READ][r];
        v[R_A_PERF_X][r] = performed_a / (f[A_WALL][r] - f[A_PROG][r]);
        v[R_A_LOG_W][r] = logical_a / f[A_WALL][r];
        v[R_A_PERF_W][r] = performed_a / f[A_WALL][r];
        v[R_D_LOG_K][r] = logical_d / f[D_READ][r];
        v[R_D_LOG_W][r] = logical_d / f[D_WALL][r];
        v[R_D_WORK_K][r] = work_d / f[D_READ][r];
        v[R_D_WORK_W][r] = work_d / f[D_WALL][r];
        v[R_A_KEEP][r] = (f[A_PROG][r] + f[A_READ][r]) / f[A_WALL][r];
        v[R_D_KEEP][r] = f[D_READ][r] / f[D_WALL][r];
        /* D2D, kernel: sampling of a chip against reading 10000 inputs */
        v[R_D2D_MS_K][r] = f[A_PROG][r] / T * 1e3;
        v[R_D2D_K][r] = (f[A_PROG][r] / T) / (IMAGES_PER_TRIAL * f[A_READ][r] / ((double)T * I));
        /* whole call = fixed + per-input part (two sizes, same chips): the
         * fixed part holds the D2D sampling and the call's set-up */
        const double per_input = (f[A_WALL][r] - f[S_WALL][r]) / (I - I_short);
        const double fixed = f[A_WALL][r] - per_input * I;
        if (!(per_input > 0) || fixed < 0) {
            fit_rounds_ok = 0;
            v[R_A_PERF_M][r] = v[R_D2D_MS_W][r] = v[R_D2D_W][r] = v[R_A10K_LOG_W][r] = -1;
            continue;
        }
        v[R_A_PERF_M][r] = performed_a / (per_input * I);
        v[R_D2D_MS_W][r] = fixed / T * 1e3;
        v[R_D2D_W][r] = fixed / (IMAGES_PER_TRIAL * per_input);
        v[R_A10K_LOG_W][r] = (double)T * IMAGES_PER_TRIAL * logical_per_input /
                             (fixed + IMAGES_PER_TRIAL * per_input);
    }

    /* The two-size split of the best rounds' whole calls. */
    const double best_per_input =
        (bench_min(f[A_WALL], R) - bench_min(f[S_WALL], R)) / (I - I_short);
    const double best_fixed = bench_min(f[A_WALL], R) - best_per_input * I;
    const int fit_ok = best_per_input > 0 && best_fixed >= 0; /* the best rounds' split */

    printf("work per call\n");
    printf("  logical MACs (rows x cols = %.0f per input and chip): analog %.4g, digital %.4g\n",
           logical_per_input, logical_a, logical_d);
    printf("  analog performed adds (cim_read_g: the entries of its lists, as the engine counts "
           "them, x %d conversion(s) x %lld padded lanes): %.4g = %.3f of logical (%.1f%% of the "
           "inputs drive rows)\n",
           md->n_convs, (long long)rows_pad, performed_a, performed_a / logical_a,
           100.0 * driving_positions(md, in, I, XBAR) / ((double)I * XBAR));
    if (digital_g)
        printf("  digital performed adds (g kernels, faulty chips): %.4g\n", work_d);
    else
        printf("  digital counted words (inputs x tiles x words per tile x %d sign groups x %lld "
               "padded lanes): %.4g = 1 per %.1f logical MACs\n",
               popcount_groups(md), (long long)rows_pad, work_d, logical_d / work_d);
    printf("\ntime bases: read kernel = the read kernels' profiling time; whole call = the "
           "whole cim_engine_mvm call; call - D2D = the whole call less its D2D-sampling "
           "(program) kernel time; per input = the whole-call time per input from the two "
           "sizes, (W(I) - W(I/4)) / (3I/4), set-up and sampling excluded; two sizes = "
           "that call's fixed part + 10000 x its per-input part\n");
    printf("\n  %-50s %-12s %10s %10s\n", "rate (G/s)", "time", "best", "median");
    print_rate("analog read, logical MACs", "read kernel", v[R_A_LOG_K], R);
    print_rate("analog read, performed adds", "read kernel", v[R_A_PERF_K], R);
    print_rate("analog read, performed adds", "call - D2D", v[R_A_PERF_X], R);
    print_rate("analog read, performed adds", "per input", v[R_A_PERF_M], R);
    print_rate("analog incl. D2D sampling, logical MACs", "whole call", v[R_A_LOG_W], R);
    print_rate("analog incl. D2D sampling, performed adds", "whole call", v[R_A_PERF_W], R);
    print_rate("analog incl. D2D, 10000 inputs/chip, logical", "two sizes", v[R_A10K_LOG_W], R);
    print_rate("digital, logical MACs", "read kernel", v[R_D_LOG_K], R);
    print_rate("digital, logical MACs", "whole call", v[R_D_LOG_W], R);
    print_rate(digital_g ? "digital, performed adds" : "digital, counted words", "read kernel",
               v[R_D_WORK_K], R);
    print_rate(digital_g ? "digital, performed adds" : "digital, counted words", "whole call",
               v[R_D_WORK_W], R);
    print_rate("device peak: int32 adds (registers)", "peak kernel", f[P_ADD], R);
    print_rate("device peak: load+add (indexed table load)", "peak kernel", f[P_LA], R);
    print_rate("device peak: AND-popcounted words", "peak kernel", f[P_POP], R);
    printf("  %-50s %-12s %10.4f\n", "plain-C reference, analog, 1 thread (best)", "whole call",
           ref_rate * 1e-9);
    printf("  %-50s %-12s %10.4f\n", "plain-C reference, digital, 1 thread (best)", "whole call",
           ref_digital_rate * 1e-9);
    printf("  %-50s %-12s %10.3f %10.3f\n", "D2D sampling, ms per chip", "kernel",
           bench_min(v[R_D2D_MS_K], R), bench_median(v[R_D2D_MS_K], R));
    if (fit_ok) {
        printf("  %-50s %-12s %10.3f", "fixed part of a call per chip (two sizes), ms",
               "whole call", best_fixed / T * 1e3);
        if (fit_rounds_ok)
            printf(" %10.3f\n", bench_median(v[R_D2D_MS_W], R));
        else
            printf(" %10s\n", "-");
    }

    /* Ratios against targets. */
    const double best_add = bench_max(f[P_ADD], R), best_la = bench_max(f[P_LA], R);
    const double best_pop = bench_max(f[P_POP], R);
    printf("\n  %-58s %10s %10s   %-10s %s\n", "ratio", "best", "median", "target", "verdict");
    print_check("analog read performed adds / int32-add peak, call - D2D",
                bench_max(v[R_A_PERF_X], R) / best_add,
                bench_median_ratio(v[R_A_PERF_X], f[P_ADD], R), 1, TARGET_ANALOG_OF_ADD_PEAK, 1,
                NULL);
    print_check("analog incl. D2D performed adds / int32-add peak, whole",
                bench_max(v[R_A_PERF_W], R) / best_add,
                bench_median_ratio(v[R_A_PERF_W], f[P_ADD], R), 1, -1, 1,
                "this run's chips and inputs");
    print_check("analog read performed adds / int32-add peak, read kernel",
                bench_max(v[R_A_PERF_K], R) / best_add,
                bench_median_ratio(v[R_A_PERF_K], f[P_ADD], R), 1, -1, 1, "the kernel alone");
    print_check("analog read logical MACs / int32-add peak, read kernel",
                bench_max(v[R_A_LOG_K], R) / best_add,
                bench_median_ratio(v[R_A_LOG_K], f[P_ADD], R), 1, -1, 1,
                "overstates: zero inputs are no adds");
    print_check("analog read performed adds / load-add peak, call - D2D",
                bench_max(v[R_A_PERF_X], R) / best_la,
                bench_median_ratio(v[R_A_PERF_X], f[P_LA], R), 1, -1, 1,
                "what the memory system allows");
    print_check("analog read performed adds / load-add peak, read kernel",
                bench_max(v[R_A_PERF_K], R) / best_la,
                bench_median_ratio(v[R_A_PERF_K], f[P_LA], R), 1, -1, 1, NULL);
    print_check("load-add peak / int32-add peak", best_la / best_add,
                bench_median_ratio(f[P_LA], f[P_ADD], R), 1, -1, 1,
                "the ceiling the load mix sets");
    print_check("analog kernel time (program + read) / whole call",
                (bench_min(f[A_PROG], R) + bench_min(f[A_READ], R)) / bench_min(f[A_WALL], R),
                bench_median(v[R_A_KEEP], R), 1, -1, 1, NULL);
    print_check("digital whole-call rate / kernel rate",
                bench_min(f[D_READ], R) / bench_min(f[D_WALL], R), bench_median(v[R_D_KEEP], R), 1,
                TARGET_DIGITAL_WHOLE_OF_KERNEL, 1, NULL);
    print_check(digital_g ? "digital performed adds / int32-add peak, whole call"
                          : "digital counted words / AND-popcount peak, whole call",
                bench_max(v[R_D_WORK_W], R) / (digital_g ? best_add : best_pop),
                bench_median_ratio(v[R_D_WORK_W], digital_g ? f[P_ADD] : f[P_POP], R), 1,
                TARGET_DIGITAL_OF_POP_PEAK, 1, "docs/design.md §5");
    print_check(digital_g ? "digital performed adds / int32-add peak, kernel"
                          : "digital counted words / AND-popcount peak, kernel",
                bench_max(v[R_D_WORK_K], R) / (digital_g ? best_add : best_pop),
                bench_median_ratio(v[R_D_WORK_K], digital_g ? f[P_ADD] : f[P_POP], R), 1, -1, 1,
                NULL);
    print_check("D2D sampling / reading 10000 images, kernel time",
                (bench_min(f[A_PROG], R) / T) /
                    (IMAGES_PER_TRIAL * bench_min(f[A_READ], R) / ((double)T * I)),
                bench_median(v[R_D2D_K], R), 1, TARGET_D2D_SHARE, 0, NULL);
    if (fit_ok) {
        print_check("call's fixed part / reading 10000 images, two sizes",
                    best_fixed / (IMAGES_PER_TRIAL * best_per_input),
                    fit_rounds_ok ? bench_median(v[R_D2D_W], R) : -1, 1, TARGET_D2D_SHARE, 0,
                    "whole calls; set-up counted as sampling");
    } else {
        printf("  %-58s   n/a: the best rounds' two sizes gave no positive per-input time "
               "(noise; use more --inputs)\n",
               "call's fixed part / reading 10000 images, two sizes");
    }

    /* Against the reference simulator: its per-core rate times the cores
     * of this device (CPU: compute units), or per device on a GPU. */
    const double cores = is_cpu ? (double)ocl.compute_units : REFSIM_CORES;
    const double refsim_hi = REFSIM_MACS_PER_CORE_HI * cores;
    const double refsim_lo = REFSIM_MACS_PER_CORE_LO * cores;
    char note[200];
    snprintf(note, sizeof note, "%d inputs per chip as measured; %.1fx against 0.67 G/s per core",
             I, bench_max(v[R_A_LOG_W], R) / refsim_lo);
    print_check("analog incl. D2D / reference simulator, whole call",
                bench_max(v[R_A_LOG_W], R) / refsim_hi, bench_median(v[R_A_LOG_W], R) / refsim_hi,
                0, TARGET_ANALOG_X_REFSIM, 1, note);
    if (fit_ok) {
        const double best10k = (double)T * IMAGES_PER_TRIAL * logical_per_input /
                               (best_fixed + IMAGES_PER_TRIAL * best_per_input);
        print_check(
            "analog incl. D2D, 10000 images/chip / ref. sim., two sizes", best10k / refsim_hi,
            fit_rounds_ok ? bench_median(v[R_A10K_LOG_W], R) / refsim_hi : -1, 0,
            TARGET_ANALOG_X_REFSIM, 1, "whole calls of two sizes, at 10000 images per chip");
    }
    snprintf(note, sizeof note, "%.1fx against 0.67 G/s per core",
             bench_max(v[R_D_LOG_W], R) / refsim_lo);
    print_check("digital / reference simulator, whole call", bench_max(v[R_D_LOG_W], R) / refsim_hi,
                bench_median(v[R_D_LOG_W], R) / refsim_hi, 0, TARGET_DIGITAL_X_REFSIM, 1, note);
    print_check("analog read kernel / plain-C reference (1 thread)",
                bench_max(v[R_A_LOG_K], R) / ref_rate, -1, 0, -1, 1, "best rates");
    print_check("digital kernel / plain-C reference (1 thread)",
                bench_max(v[R_D_LOG_K], R) / ref_digital_rate, -1, 0, -1, 1, "best rates");
    printf("  (reference simulator: 0.67-0.72 G MAC/s per core, docs/design.md §5, x %.0f %s; "
           "ratios use logical MACs)\n",
           cores,
           is_cpu ? "cores = this CPU device's compute units"
                  : "cores of that machine: on a GPU the ratio is per device, not per core");

    if (o.ladder) {
        /* Bit-line IR drop: fewer trials and inputs, the per-cell read is
         * slower; ladder peak and call interleaved the same way. */
        cim_xbar xl;
        make_ladder_xbar(&xl);
        const int lt = T < 4 ? T : 4, li = I < 64 ? I : 64;
        cim_mvm_job ljob = job;
        ljob.xbar = &xl;
        ljob.n_trials = lt;
        ljob.n_inputs = li;
        call_time cl;
        double lr[MAX_ROUNDS], lw[MAX_ROUNDS], lp[MAX_ROUNDS], ls[MAX_ROUNDS];
        if (timed_call(&ocl, &ljob, out, &cl, &err) != 0 ||
            peak_calibrate(&ocl, &pk_step, &err) != 0)
            goto fail;
        const double steps = (double)lt * li * XBAR * ladder_steps_per_output(CIM_TNN_I);
        const double lmacs = (double)lt * li * logical_per_input;
        for (int r = 0; r < R; ++r) {
            if ((lp[r] = peak_run(&ocl, &pk_step, NULL, &err)) <= 0 ||
                timed_call(&ocl, &ljob, out, &cl, &err) != 0)
                goto fail;
            lr[r] = lmacs / cl.read;
            lw[r] = lmacs / cl.wall;
            ls[r] = steps / cl.read;
        }
        const double ref_ladder_rate = reference_rate(&xl, w, in, 2, out, R);
        printf("\nbit-line IR drop (per-cell kernel, %d chips x %d inputs, %d-row bit lines)\n", lt,
               li, LADDER_ROWS);
        printf("  %-50s %-12s %10s %10s\n", "rate (G/s)", "time", "best", "median");
        print_rate("IR drop read, logical MACs", "read kernel", lr, R);
        print_rate("IR drop read, logical MACs", "whole call", lw, R);
        print_rate("IR drop read, ladder steps", "read kernel", ls, R);
        print_rate("device peak: ladder steps", "peak kernel", lp, R);
        printf("  %-50s %-12s %10.4f\n", "plain-C reference with IR drop, 1 thread (best)",
               "whole call", ref_ladder_rate * 1e-9);
        print_check("IR drop ladder steps / peak ladder steps, kernel",
                    bench_max(ls, R) / bench_max(lp, R), bench_median_ratio(ls, lp, R), 1, -1, 1,
                    NULL);
        print_check("IR drop read / plain-sum analog read, kernel",
                    bench_max(lr, R) / bench_max(v[R_A_LOG_K], R), -1, 1, -1, 1,
                    "the cost of the ladder; best rates");
        print_check("IR drop read kernel / plain-C reference", bench_max(lr, R) / ref_ladder_rate,
                    -1, 0, -1, 1, "best rates");
    }
    status = 0;
    goto done;
fail:
    fprintf(stderr, "bench_mvm: %s\n", err.msg);
    status = 1;
done:
    if (la_table)
        clReleaseMemObject(la_table);
    if (la_idx)
        clReleaseMemObject(la_idx);
    if (ocl_open)
        cim_ocl_close(&ocl);
    free(la_host);
    free(rounds);
    free(w);
    free(in);
    free(din);
    free(out);
    free(dout);
    return status;
}
