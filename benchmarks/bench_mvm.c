/* bench_mvm.c -- throughput of the crossbar kernels against the plain-C
 * reference and against the device's own peak, measured in one run
 * (DESIGN.md §8). Not a test: it prints figures and ratios.
 *
 * Workload: a 256x256 TNN_I tile (the paper's typical crossbar), HRS/LRS
 * 5/30 µA, D2D sigma 1/3 µA, 5-bit symmetric ADC with MAX range; random
 * ternary weights and inputs. Throughput unit: trial * input * MAC per second,
 * where one MAC is one weight x input product of W x.
 *
 *   bench_mvm [--trials T] [--inputs I] [--device SPEC]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cim_engine.h"
#include "cim_mapping.h"
#include "cim_reference.h"

#define XBAR 256
#define HRS_NA 5000
#define LRS_NA 30000
#define ADC_BITS 5
/* Reference simulator of the CIM-Explorer flow on this machine kind
 * (DESIGN.md §8): 0.72 G MAC/s per core, 4 ms per sampled 256x256 chip. */
#define REFSIM_MACS_PER_CORE 0.72e9
#define REFSIM_CORES 2
#define IMAGES_PER_TRIAL 10000 /* Fashion-MNIST test set */
#define PEAK_STEPS 4096
#define PEAK_LOCAL 64 /* work-group size of the peak kernels */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

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
    cl_kernel k = clCreateKernel(ocl->program, name, &st);
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
    clReleaseKernel(k);
    return ops_per_step_item * steps * (double)items / ((double)(t1 - t0) * 1e-9);
}

int main(int argc, char **argv)
{
    int trials = 64, inputs = 512;
    const char *device = NULL;
    cim_ocl ocl;
    cim_error err = {0, ""};
    for (int a = 1; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "--trials"))
            trials = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--inputs"))
            inputs = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--device"))
            device = argv[a + 1];
    }
    if (trials < 1 || inputs < 1) {
        fprintf(stderr, "bench_mvm: --trials and --inputs must be positive\n");
        return 2;
    }
    if (cim_ocl_open(&ocl, device, &err) != 0) {
        fprintf(stderr, "bench_mvm: %s\n", err.msg);
        return 1;
    }
    const double macs = (double)XBAR * XBAR;
    int8_t *w = malloc(XBAR * XBAR), *in = malloc((size_t)inputs * XBAR);
    int32_t *out = malloc(sizeof(int32_t) * (size_t)trials * inputs * XBAR);
    fill_ternary(w, XBAR * XBAR, 11);
    fill_ternary(in, (size_t)inputs * XBAR, 12);
    printf("device: %s / %s (%u compute units, SIMD width %d)\n", ocl.platform_name,
           ocl.device_name, ocl.compute_units, ocl.vector_width);
    printf("workload: 256x256 TNN_I, HRS/LRS 5/30 uA, D2D sigma 1/3 uA, %d-bit SYM ADC, "
           "%d trials x %d inputs\n\n", ADC_BITS, trials, inputs);

    /* Analog, D2D on: warm-up call (program build caches), then timed. */
    cim_xbar xa, xd;
    make_xbar(&xa, 0);
    make_xbar(&xd, 1);
    cim_engine_timing ta = {0, 0};
    cim_mvm_job job = {&xa, w, XBAR, XBAR, in, inputs, 0, 0, trials, 0, NULL};
    if (cim_engine_mvm(&ocl, &job, out, NULL, &err) != 0)
        goto fail;
    job.timing = &ta;
    double t0 = now_s();
    if (cim_engine_mvm(&ocl, &job, out, NULL, &err) != 0)
        goto fail;
    double analog_wall = now_s() - t0;
    double analog_rate = trials * (double)inputs * macs / (ta.program_s + ta.read_s);
    double analog_wall_rate = trials * (double)inputs * macs / analog_wall;

    /* Digital: one chip (no variability), many inputs. */
    const int dig_inputs = inputs * 8;
    int8_t *din = malloc((size_t)dig_inputs * XBAR);
    int32_t *dout = malloc(sizeof(int32_t) * (size_t)dig_inputs * XBAR);
    fill_ternary(din, (size_t)dig_inputs * XBAR, 13);
    cim_engine_timing td = {0, 0};
    cim_mvm_job djob = {&xd, w, XBAR, XBAR, din, dig_inputs, 0, 0, 1, 0, NULL};
    if (cim_engine_mvm(&ocl, &djob, dout, NULL, &err) != 0)
        goto fail;
    djob.timing = &td;
    if (cim_engine_mvm(&ocl, &djob, dout, NULL, &err) != 0)
        goto fail;
    double digital_rate = (double)dig_inputs * macs / td.read_s;

    /* Plain-C reference on the same tile: one trial, a few inputs. */
    const int ref_inputs = 16;
    t0 = now_s();
    if (cim_reference_mvm(&xa, w, XBAR, XBAR, in, ref_inputs, 0, 0, out, NULL) != 0)
        goto fail;
    double ref_rate = ref_inputs * macs / (now_s() - t0);
    t0 = now_s();
    if (cim_reference_mvm(&xd, w, XBAR, XBAR, din, ref_inputs, 0, 0, dout, NULL) != 0)
        goto fail;
    double ref_digital_rate = ref_inputs * macs / (now_s() - t0);

    /* Device peaks for each kernel's operation. */
    double add_peak = peak(&ocl, "cim_peak_int_add", 2.0 * 8 * ocl.vector_width, &err);
    double pop_peak = peak(&ocl, "cim_peak_and_popcount", 8.0 * ocl.vector_width, &err);
    if (add_peak <= 0 || pop_peak <= 0)
        goto fail;
    /* The digital kernel counts one word per sign group of each conversion:
     * MACs per counted word = 32 / (number of such groups). */
    const double digital_macs_per_popcount = 32.0 / popcount_groups(CIM_TNN_I);
    const double refsim = REFSIM_MACS_PER_CORE * REFSIM_CORES;
    const double sample_per_trial = ta.program_s / trials;
    const double read_per_trial_input = ta.read_s / ((double)trials * inputs);

    printf("%-34s %14s %12s\n", "kernel", "G MAC/s", "");
    printf("%-34s %14.2f   (device time; wall %.2f)\n", "analog D2D (program + read)",
           analog_rate * 1e-9, analog_wall_rate * 1e-9);
    printf("%-34s %14.2f\n", "  of which read kernel alone",
           trials * (double)inputs * macs / ta.read_s * 1e-9);
    printf("%-34s %14.2f\n", "digital AND-popcount", digital_rate * 1e-9);
    printf("%-34s %14.3f\n", "plain-C reference, analog", ref_rate * 1e-9);
    printf("%-34s %14.3f\n", "plain-C reference, digital", ref_digital_rate * 1e-9);
    printf("%-34s %14.2f   (G int32 adds/s)\n", "peak int32 add", add_peak * 1e-9);
    printf("%-34s %14.2f   (G and-popcounts/s)\n", "peak AND-popcount", pop_peak * 1e-9);
    printf("\nratios\n");
    printf("  analog  / plain-C reference          %10.1fx\n", analog_rate / ref_rate);
    printf("  digital / plain-C reference          %10.1fx\n", digital_rate / ref_digital_rate);
    printf("  analog  / reference simulator (%.2f G MAC/s, 2 cores)  %6.1fx  (target >= 10x)\n",
           refsim * 1e-9, analog_rate / refsim);
    printf("  digital / reference simulator        %10.1fx  (target >= 50x)\n", digital_rate / refsim);
    printf("  analog  MAC/s / peak int32 adds/s    %10.1f%%  (target >= 50%%)\n",
           100.0 * analog_rate / add_peak);
    printf("  digital popcounts/s / peak           %10.1f%%  (target >= 50%%)\n",
           100.0 * digital_rate / digital_macs_per_popcount / pop_peak);
    printf("  D2D sampling per trial: %.3f ms = %.3f%% of the trial's %d images (target <= 1%%)\n",
           sample_per_trial * 1e3,
           100.0 * sample_per_trial / (read_per_trial_input * IMAGES_PER_TRIAL), IMAGES_PER_TRIAL);
    free(w);
    free(in);
    free(out);
    free(din);
    free(dout);
    cim_ocl_close(&ocl);
    return 0;
fail:
    fprintf(stderr, "bench_mvm: %s\n", err.msg);
    cim_ocl_close(&ocl);
    return 1;
}
