/* bench_mvm.c -- throughput of the crossbar kernels against the plain-C
 * reference and against the device's own peak, measured in one run
 * (docs/design.md §5). Not a test: it prints figures and ratios.
 *
 * Workload: a 256x256 TNN_I tile (the paper's typical crossbar), HRS/LRS
 * 5/30 µA, D2D sigma 1/3 µA, 5-bit symmetric ADC with MAX range; random
 * ternary weights and inputs. Throughput unit: trial * input * MAC per second,
 * where one MAC is one weight x input product of W x.
 *
 * Bit-line IR drop: the same tile with w_res 1 ohm at V_read -0.2 V (a
 * segment passes 200 mA), on bit lines of 512 rows (TNN_I gives an input two
 * rows), read by the per-cell kernel; its unit of work is a
 * ladder step (one physical row of one column of one read), so its rate is
 * also given in steps per second next to the device's peak for that step
 * (cim_peak_ladder_step: the same 128-bit step on independent chains in
 * registers).
 *
 *   bench_mvm [--trials T] [--inputs I] [--repeat R] [--device SPEC]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim_clock.h"
#include "cim_engine.h"
#include "cim_ladder.h"
#include "cim_mapping.h"
#include "cim_reference.h"
#include "cli.h"

#define XBAR 256
#define HRS_NA 5000
#define LRS_NA 30000
#define ADC_BITS 5
/* Reference simulator of the CIM-Explorer flow on this machine kind
 * (docs/design.md §5): 0.72 G MAC/s per core, 4 ms per sampled 256x256 chip. */
#define REFSIM_MACS_PER_CORE 0.72e9
#define REFSIM_CORES 2
#define IMAGES_PER_TRIAL 10000 /* Fashion-MNIST test set */
#define PEAK_STEPS 4096
#define PEAK_LOCAL 64 /* work-group size of the peak kernels */

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

/* Words the digital kernel counts per 32 inputs and output: one per sign
 * (plus, minus) present in each conversion. */
static int popcount_groups(cim_mapping_id id)
{
    const cim_mapping_desc *d = cim_mapping_desc_of(id);
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

/* Runs a peak micro-kernel; returns operations per second. */
static double peak(cim_ocl *ocl, const char *name, double ops_per_step_item, cim_error *err)
{
    const size_t items = (size_t)ocl->compute_units * 4096, local = PEAK_LOCAL;
    const int steps = PEAK_STEPS;
    cl_int st;
    cl_kernel k = NULL;
    if (cim_ocl_kernel(ocl, name, &k, err) != 0)
        return 0;
    cl_mem buf = clCreateBuffer(ocl->context, CL_MEM_WRITE_ONLY, items * sizeof(int), NULL, &st);
    cl_event ev;
    cl_ulong t0, t1;
    clSetKernelArg(k, 0, sizeof buf, &buf);
    clSetKernelArg(k, 1, sizeof steps, &steps);
    /* warm-up, then the timed launch */
    for (int rep = 0; rep < 2; ++rep) {
        st = clEnqueueNDRangeKernel(ocl->queue, k, 1, NULL, &items, &local, 0, NULL, &ev);
        if (st != CL_SUCCESS) {
            cim_error_set(err, CIM_ERR_OPENCL, "peak kernel %s: %s", name, cim_ocl_strerror(st));
            return 0;
        }
        clWaitForEvents(1, &ev);
        clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL);
        clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL);
        clReleaseEvent(ev);
    }
    clReleaseMemObject(buf);
    return ops_per_step_item * steps * (double)items / ((double)(t1 - t0) * 1e-9);
}

/* Runs `job` once to warm up (kernel build, caches), then `repeats` times;
 * keeps the fastest device time of each kernel. */
static int best_timing(cim_ocl *ocl, cim_mvm_job *job, int32_t *out, int repeats,
                       cim_engine_timing *best, cim_error *err)
{
    job->timing = NULL;
    if (cim_engine_mvm(ocl, job, out, NULL, err) != 0)
        return -1;
    for (int r = 0; r < repeats; ++r) {
        cim_engine_timing t = {0, 0};
        job->timing = &t;
        if (cim_engine_mvm(ocl, job, out, NULL, err) != 0)
            return -1;
        if (r == 0 || t.program_s < best->program_s)
            best->program_s = t.program_s;
        if (r == 0 || t.read_s < best->read_s)
            best->read_s = t.read_s;
    }
    return 0;
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

int main(int argc, char **argv)
{
    cim_cli_keep_freed_memory(); /* as `cimgpu` does */
    int trials = 64, inputs = 512, repeats = 3;
    const char *device = NULL;
    cim_ocl ocl;
    cim_error err = {0, ""};
    for (int a = 1; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "--trials"))
            trials = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--inputs"))
            inputs = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--repeat"))
            repeats = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--device"))
            device = argv[a + 1];
    }
    if (trials < 1 || inputs < 1 || repeats < 1) {
        fprintf(stderr, "bench_mvm: --trials, --inputs and --repeat must be positive\n");
        return 2;
    }
    if (cim_ocl_open(&ocl, device, &err) != 0) {
        fprintf(stderr, "bench_mvm: %s\n", err.msg);
        return 1;
    }
    const double macs = (double)XBAR * XBAR;
    const int dig_inputs = inputs * 8, ref_inputs = 16;
    int8_t *w = malloc(XBAR * XBAR), *in = malloc((size_t)inputs * XBAR);
    int8_t *din = malloc((size_t)dig_inputs * XBAR);
    int32_t *out = malloc(sizeof(int32_t) * (size_t)trials * inputs * XBAR);
    int32_t *dout = malloc(sizeof(int32_t) * (size_t)dig_inputs * XBAR);
    cim_xbar xa, xd;
    cim_engine_timing ta = {0, 0}, td = {0, 0};
    fill_ternary(w, XBAR * XBAR, 11);
    fill_ternary(in, (size_t)inputs * XBAR, 12);
    fill_ternary(din, (size_t)dig_inputs * XBAR, 13);
    make_xbar(&xa, 0);
    make_xbar(&xd, 1);
    printf("device: %s / %s (%u compute units, SIMD width %d)\n", ocl.platform_name,
           ocl.device_name, ocl.compute_units, ocl.vector_width);
    printf("workload: 256x256 TNN_I, HRS/LRS 5/30 uA, D2D sigma 1/3 uA, %d-bit SYM ADC; analog "
           "%d trials x %d inputs, digital %d inputs; best of %d runs (kernel device time)\n\n",
           ADC_BITS, trials, inputs, dig_inputs, repeats);

    cim_mvm_job job = {.xbar = &xa,
                       .weights = w,
                       .rows = XBAR,
                       .cols = XBAR,
                       .inputs = in,
                       .n_inputs = inputs,
                       .n_trials = trials};
    cim_mvm_job djob = {.xbar = &xd,
                        .weights = w,
                        .rows = XBAR,
                        .cols = XBAR,
                        .inputs = din,
                        .n_inputs = dig_inputs,
                        .n_trials = 1};
    if (best_timing(&ocl, &job, out, repeats, &ta, &err) != 0 ||
        best_timing(&ocl, &djob, dout, repeats, &td, &err) != 0)
        goto fail;
    const double sample_per_trial = ta.program_s / trials;
    const double read_per_input = ta.read_s / ((double)trials * inputs);
    const double read_rate = macs / read_per_input;
    const double batch_rate = trials * (double)inputs * macs / (ta.program_s + ta.read_s);
    const double mc_rate =
        IMAGES_PER_TRIAL * macs / (sample_per_trial + IMAGES_PER_TRIAL * read_per_input);
    const double digital_rate = (double)dig_inputs * macs / td.read_s;
    const double ref_rate = reference_rate(&xa, w, in, ref_inputs, out, repeats);
    const double ref_digital_rate = reference_rate(&xd, w, din, ref_inputs, dout, repeats);

    /* Bit-line IR drop: fewer trials and inputs, the per-cell read is slower. */
    cim_xbar xl;
    cim_engine_timing tl = {0, 0};
    make_ladder_xbar(&xl);
    const int ladder_trials = trials < 4 ? trials : 4, ladder_inputs = inputs < 64 ? inputs : 64;
    cim_mvm_job ljob = job;
    ljob.xbar = &xl;
    ljob.n_trials = ladder_trials;
    ljob.n_inputs = ladder_inputs;
    if (best_timing(&ocl, &ljob, out, repeats, &tl, &err) != 0)
        goto fail;
    const double ladder_rate = (double)ladder_trials * ladder_inputs * macs / tl.read_s;
    const double ladder_steps = (double)ladder_trials * ladder_inputs * XBAR *
                                ladder_steps_per_output(CIM_TNN_I) / tl.read_s;
    const double ref_ladder_rate = reference_rate(&xl, w, in, 2, out, repeats);

    /* Device peaks for each kernel's operation (best of the repeats). */
    double add_peak = 0, pop_peak = 0, step_peak = 0;
    for (int r = 0; r < repeats; ++r) {
        double a = peak(&ocl, "cim_peak_int_add", 2.0 * 8 * ocl.vector_width, &err);
        double p = peak(&ocl, "cim_peak_and_popcount", 8.0 * ocl.vector_width, &err);
        double l = peak(&ocl, "cim_peak_ladder_step", 8.0, &err);
        if (a <= 0 || p <= 0 || l <= 0)
            goto fail;
        add_peak = a > add_peak ? a : add_peak;
        pop_peak = p > pop_peak ? p : pop_peak;
        step_peak = l > step_peak ? l : step_peak;
    }
    /* The digital kernel counts one word per sign group of each conversion:
     * MACs per counted word = 32 / (number of such groups). */
    const double digital_macs_per_popcount = 32.0 / popcount_groups(CIM_TNN_I);
    const double refsim = REFSIM_MACS_PER_CORE * REFSIM_CORES;

    printf("%-52s %10s\n", "trial*input*MAC per second", "G/s");
    printf("%-52s %10.2f\n", "analog read kernel (D2D-sampled chips)", read_rate * 1e-9);
    printf("%-52s %10.2f\n", "analog incl. D2D sampling, 10000 images per trial", mc_rate * 1e-9);
    printf("%-52s %10.2f\n", "analog incl. D2D sampling, this run's inputs/trial",
           batch_rate * 1e-9);
    printf("%-52s %10.2f\n", "digital AND-popcount kernel", digital_rate * 1e-9);
    printf("%-52s %10.3f\n", "plain-C reference, analog (1 thread)", ref_rate * 1e-9);
    printf("%-52s %10.3f\n", "plain-C reference, digital (1 thread)", ref_digital_rate * 1e-9);
    printf("%-52s %10.4f\n", "analog read with IR drop (per-cell kernel)", ladder_rate * 1e-9);
    printf("%-52s %10.4f\n", "plain-C reference with IR drop (1 thread)", ref_ladder_rate * 1e-9);
    printf("%-52s %10.2f\n", "device peak: int32 adds per second", add_peak * 1e-9);
    printf("%-52s %10.2f\n", "device peak: AND-popcounted words per second", pop_peak * 1e-9);
    printf("%-52s %10.3f\n", "IR drop read: ladder steps per second", ladder_steps * 1e-9);
    printf("%-52s %10.3f\n", "device peak: ladder steps per second", step_peak * 1e-9);
    printf("\nratios\n");
    printf("  analog (10000 images) / plain-C reference          %8.1fx\n", mc_rate / ref_rate);
    printf("  digital / plain-C reference                        %8.1fx\n",
           digital_rate / ref_digital_rate);
    printf("  analog (10000 images) / reference simulator         %8.1fx  (target >= 10x)\n",
           mc_rate / refsim);
    printf("  digital / reference simulator                      %8.1fx  (target >= 50x)\n",
           digital_rate / refsim);
    printf("  analog read: MACs / peak int32 adds                %8.1f%%  (target >= 50%%)\n",
           100.0 * read_rate / add_peak);
    printf("  digital: counted words / peak                      %8.1f%%  (target >= 50%%)\n",
           100.0 * digital_rate / digital_macs_per_popcount / pop_peak);
    printf("  IR drop read / plain-C reference                   %8.1fx\n",
           ladder_rate / ref_ladder_rate);
    printf("  IR drop read: ladder steps / peak ladder steps     %8.1f%%\n",
           100.0 * ladder_steps / step_peak);
    printf(
        "  IR drop read / plain-sum analog read               %8.2f%%  (the cost of the ladder)\n",
        100.0 * ladder_rate / read_rate);
    printf("  D2D sampling: %.3f ms per chip = %.2f%% of its %d images  (target <= 1%%)\n",
           sample_per_trial * 1e3, 100.0 * sample_per_trial / (read_per_input * IMAGES_PER_TRIAL),
           IMAGES_PER_TRIAL);
    printf("  (reference simulator: %.2f G MAC/s = %.2f per core x %d cores, docs/design.md)\n",
           refsim * 1e-9, REFSIM_MACS_PER_CORE * 1e-9, REFSIM_CORES);
    free(w);
    free(in);
    free(din);
    free(out);
    free(dout);
    cim_ocl_close(&ocl);
    return 0;
fail:
    fprintf(stderr, "bench_mvm: %s\n", err.msg);
    cim_ocl_close(&ocl);
    return 1;
}
