/* cim_launch.h -- parameters of one engine launch, shared by host C and the
 * kernels through a __constant buffer. 64-bit fields only, so host and device
 * agree on the layout (checked by a static assert on the host).
 *
 * Buffer layouts (the engine creates them, the kernels index them):
 *   weights_t int8  [cols][rows_pad]      the weight matrix, transposed
 *   pos       int32 [rows_pad] tm * tiles_n, [rows_pad] (m - tm * xbar_m) * xbar_n,
 *                   [cols] tn, [cols] n - tn * xbar_n: tile and cell index
 *             (cim_rng.h keys) of weight (m, n) are sums of a row and a column part;
 *             rows past `rows` are zero padding
 *   inputs    int8  [n_inputs][cols]
 *   sumw      int32 [tiles_n][rows_pad]   weight sum of output m in input tile tn
 *   inputs    int8  [n_inputs][cols], or [n_trials][n_inputs][cols] with
 *             inputs_per_trial (then every per-input array below is per
 *             trial too: row (input_trial_base + b) * n_inputs + i)
 *   tile_s    int32 [n_inputs][tiles_n]   input sum S of each input tile
 *   entries   int32 per (list row, tile): class(x + 1) * cols * W + n * W for
 *             every input position n whose value x drives a row (its offset
 *             inside a block of g), in order; entry_range int32
 *             [list rows][tiles_n][3]: the first entry of each (list row, tile),
 *             the first it subtracts, and one past its last. List row r is
 *             input r (per-input arrays' row), listed from zero (nothing
 *             subtracted); with `chained`, chain position r, whose input and
 *             restart flag are chain[r] (int32 [n_inputs][2],
 *             host/runtime/cim_input_chain.h): its entries are the input's
 *             own where it restarts, else the difference from the input of
 *             position r - 1 (positions whose class differs: the new class's
 *             entries added, the old one's subtracted)
 *   g         int32 [batch][n_convs][rows_pad / W][classes][cols][W], W = g_block:
 *             effective column current contributed by weight (m, n) to
 *             conversion j when the input is x = v - 1, for the input values
 *             that drive a row (class cim_value_class(v); x = 0 drives none in
 *             most mappings and then has no plane) (cell currents of one
 *             trial, D2D applied, clipped at zero; not clipped with
 *             c2c_column, whose reads add the C2C draws to the unclipped sums). Blocks of W columns
 * keep one work-item's data contiguous on CPUs (W = SIMD width); GPUs use one block (W = rows_pad),
 * i.e. columns fastest, coalesced. cim_g_offset() below gives the index. cdf       cim_cdf_set
 * (cim_cdf.h): the measured-distribution tables counts    uint32 [batch or 1][rows_pad /
 * W][classes][cols][W], laid out as one conversion of g (cim_g_offset with n_convs 1): the column
 * law's packed LRS counts per cell group of weight (m, n) under input class c (cim_c2c_column.h);
 * per trial only with stuck-at faults raw       int32 [batch][n_slots][cols][rows_pad]: programmed
 * cell currents before clipping (for the per-cell reads: C2C, IR drop) out       int32
 * [batch][n_inputs][rows] trace_current int32 / trace_adc int64
 * [batch][n_inputs][tiles_n][n_convs][rows] profile   uint32
 * [batch][CIM_PROFILE_SLOTS(profile_bins)]: ADC input histogram counters of each trial of the batch
 * (atomic_inc)
 */
#ifndef CIM_LAUNCH_H
#define CIM_LAUNCH_H

#include "cim_portable.h"
#include "cim_mappings.h"

/* Input value classes: v = x + 1 for x in {-1, 0, +1}. */
#define CIM_VALUE_CLASSES 3

typedef struct cim_launch_params {
    uint64_t seed;
    int64_t rows, cols, rows_pad;
    int64_t xbar_m, xbar_n, tiles_n;
    int64_t layer;
    int64_t trial_first; /* global trial index of batch entry 0 */
    int64_t input_first; /* C2C key of input 0 */
    int64_t n_inputs;
    int64_t current_na[2]; /* nominal current by state: HRS, LRS */
    int64_t d2d_sigma_na[2];
    int64_t c2c_sigma_na[2];
    int64_t d2d_on, c2c_on;
    int64_t trace;            /* 1: write trace_current / trace_adc */
    int64_t words_per_tile;   /* digital: uint32 words per input tile */
    int64_t g_block;          /* W: columns per block of g */
    int64_t inputs_per_item;  /* inputs one read work-item evaluates in turn */
    int64_t inputs_per_trial; /* 1: every trial has its own input vectors */
    int64_t input_trial_base; /* with inputs_per_trial: the job trial of batch entry 0 */
    int64_t ladder_iw;        /* bit-line IR drop: segment current, fine units; 0: none */
    int64_t ladder_rows;      /* physical rows of a column (cim_ladder.h) */
    int64_t saf_below[2];     /* stuck-at bounds (cim_cell_model), 0..2^32 */
    int64_t saf_on;           /* 1: draw the stuck-at words */
    int64_t cdf_on[2];        /* 1: the cdf buffer's D2D / C2C tables are in use */
    int64_t profile_bins;     /* ADC input profiling (cim_profile.h): bins, 0 off */
    int64_t profile_lo_na, profile_bin_na;
    int64_t disturb_on;  /* read disturb: the drift buffer holds one entry per input */
    int64_t drift_model; /* CIM_DRIFT_LIBRARY / CIM_DRIFT_PHYSICAL */
    int64_t c2c_column;  /* 1: the C2C column law (cim_c2c_column.h): cim_program_g folds
                          * the programmed currents unclipped, cim_read_column reads */
    int64_t chained;     /* 1: cim_read_g's list rows follow the input chain (entries) */
    int64_t read_blocks; /* blocks of CIM_VW columns per cim_read_g work-item, <= CIM_NET_BLOCKS */
} cim_launch_params;

CIM_STATIC_ASSERT(sizeof(cim_launch_params) == 8 * 40, cim_launch_params_size);

/* Row of input i of batch entry b in the per-input arrays (cim_launch.h). */
CIM_INLINE int64_t cim_input_row(CIM_CONSTANT_PTR cim_launch_params *lp, int64_t b, int64_t i)
{
    return lp->inputs_per_trial ? (lp->input_trial_base + b) * lp->n_inputs + i : i;
}

/* Plane of g for input value x = v - 1: the number of row-driving values
 * below it, or -1 if x drives no row of the mapping. */
CIM_INLINE int cim_value_class(CIM_CONSTANT_PTR cim_mapping_desc *d, int v)
{
    int plane = 0;
    for (int u = 0; u < v; ++u)
        plane += d->drive[0][u] | d->drive[1][u];
    return (d->drive[0][v] | d->drive[1][v]) ? plane : -1;
}

/* Number of planes of g per conversion. */
CIM_INLINE int cim_value_classes(CIM_CONSTANT_PTR cim_mapping_desc *d)
{
    int planes = 0;
    for (int v = 0; v < CIM_VALUE_CLASSES; ++v)
        planes += d->drive[0][v] | d->drive[1][v];
    return planes;
}

/* Index in g of (batch entry b, conversion j, class plane c, input n,
 * column m). */
CIM_INLINE int64_t cim_g_offset(const int64_t n_convs, const int64_t classes, const int64_t cols,
                                const int64_t rows_pad, const int64_t w, int64_t b, int64_t j,
                                int64_t c, int64_t n, int64_t m)
{
    const int64_t block = classes * cols * w;
    return ((b * n_convs + j) * (rows_pad / w) + m / w) * block + c * cols * w + n * w + m % w;
}

#endif /* CIM_LAUNCH_H */
