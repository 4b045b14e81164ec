/* cim_kernels.cl -- every OpenCL kernel of cimgpu, built as one program.
 *
 * The arithmetic lives in the shared headers (cim_rng.h, cim_cells.h,
 * cim_column.h, the mapping table); the kernels below only arrange it for
 * throughput, and
 * tests/test_kernels.c checks every output bit for bit against
 * mapping/cim_reference.c.
 *
 * Analog path without C2C (the Monte-Carlo hot loop):
 *   cim_program_g: one work-item per (weight, trial) draws the D2D deviation of
 *     each of the weight's cells (one Philox block, cim_rng.h keys), clips the
 *     currents and folds them into g[j][v][n][m], the current weight (m, n)
 *     adds to conversion j's column when its input is x = v - 1.
 *   cim_read_g: one work-item per (read_blocks blocks of CIM_VW columns,
 *     group of inputs, trial) adds g over the input positions that drive a
 *     row (a precomputed entry list, so zero inputs of split encodings cost
 *     nothing), tile by tile, then converts per tile with cim_column_result
 *     and adds tiles. Where every chip reads the same inputs, CPUs read them
 *     along a planned chain (host/runtime/cim_input_chain.h): each input's
 *     list is its difference from the input before, and the sums carry over.
 * Analog path with C2C or bit-line IR drop: cim_program_raw keeps the
 *   unclipped programmed currents; cim_read_per_cell walks each column's
 *   cells, draws their per-read deviations (C2C) and clips, and sums them or
 *   walks the column's wire ladder (IR drop, cim_ladder.h).
 * Analog path with the C2C column law (cim_c2c_column.h): cim_program_g with
 *   lp->c2c_column folds the unclipped programmed currents into g;
 *   cim_program_c2c_counts packs each weight's LRS counts per cell group and
 *   input class (once per call, or per trial with stuck-at faults);
 *   cim_read_column is cim_read_g's sum over the entry list, plus the packed
 *   counts over the same list and one draw per cell group and column read.
 * ADC input profiling (lp->profile_bins > 0): after the column currents of a
 *   tile, cim_read_g (per lane), cim_read_per_cell (the ladder's fine
 *   currents too) and cim_read_layer add each conversion's column current to
 *   the trial's histogram with atomic_inc (cim_profile_count:
 *   cim_profile_slot of cim_profile.h, as the reference).
 * Digital path: cim_read_digital, AND-popcount over the mapping's cell and
 *   drive bit-planes, once per input (no variability).
 * Bit-sliced inputs: cim_fold adds the reads of an input's bit planes.
 * Network pipeline on the device (cim_network.cl): cim_read_layer reads a
 *   layer's chips straight from activations; element-wise layers between.
 *
 * CIM_VW (columns per work-item, 1 on GPUs, 16 on CPUs for explicit SIMD) is
 * set by the host; sums are exact integers, so every width gives the same bits.
 *
 * Every read kernel has the three steps of mapping/cim_reference.c, marked
 * in the code: programming (cim_program_g / cim_program_raw: cells of a
 * trial), the column-currents step (the g-sum loops of cim_read_g and
 * cim_read_layer, the per-cell loop of cim_read_per_cell, cim_digital_current)
 * and conversion (cim_column_result[_lanes], cim_column.h). The device
 * physics:
 *   - bit-line IR drop: the column-currents step. A ladder is not a sum of
 *     per-weight contributions, so such reads take the per-cell path of
 *     cim_read_per_cell (programmed currents kept in `raw`, one column walked
 *     in row order) with the ladder (cim_ladder.h) in place of the sum; g
 *     stays for plain sums.
 *   - read disturb: also the per-cell path. The drift is the same for every
 *     tile, column and chip of a layer and depends on the read's MVM index
 *     only (mapping/cim_disturb.h), so `raw` stays the chips' programming and
 *     the host hands each input's drift entry (cim_drift_read) in a buffer;
 *     cim_read_cells_fine turns programmed currents, refresh re-draws
 *     (CIM_RNG_REFRESH) and the drift into each cell's current of the read.
 * Stuck-at faults and measured device distributions live in the programming
 * step -- the SAF words (CIM_RNG_SAF) and the cdf tables (cim_cdf.h) enter
 * cim_program_cells[_lanes] (cim_cells.h) -- and, for a stuck cell's read
 * deviation and C2C tables, in cim_read_cells: every path shares them.
 * Digital chips with stuck-at faults differ per trial, so the engine reads
 * them through cim_program_g / cim_read_g (nominal currents 0 and 1, no
 * deviation), not the bit-planes.
 */
#include "cim_device.h"
#include "cim_network.h"

#ifndef CIM_VW
#define CIM_VW 1
#endif

#include "cim_lanes.cl"

/* Tile index and in-tile cell index of weight (m, n) -- cim_rng.h keys --
 * from the host's position table (cim_launch.h), avoiding divisions. */
static inline void cim_tile_cell(__constant const cim_launch_params *lp, __global const int *pos,
                                 long m, long n, uint *tile, uint *cell)
{
    __global const int *row_tile = pos, *row_cell = pos + lp->rows_pad;
    __global const int *col_tile = pos + 2 * lp->rows_pad, *col_cell = col_tile + lp->cols;
    *tile = (uint)(row_tile[m] + col_tile[n]);
    *cell = (uint)(row_cell[m] + col_cell[n]);
}

/* The cells' model of the launch (cim_cells.h). */
static inline cim_cell_model cim_launch_cell_model(__constant const cim_launch_params *lp)
{
    cim_cell_model m;
    for (int s = 0; s < 2; ++s) {
        m.nominal[s] = (int)lp->current_na[s];
        m.d2d_sigma[s] = (int)lp->d2d_sigma_na[s];
        m.c2c_sigma[s] = (int)lp->c2c_sigma_na[s];
        m.saf_below[s] = lp->saf_below[s];
    }
    m.d2d_cdf = (int)lp->cdf_on[0];
    m.c2c_cdf = (int)lp->cdf_on[1];
    return m;
}

/* The stuck-at words of the cells of a weight, or zeros (no faults). */
static inline void cim_saf_words(__constant const cim_launch_params *lp, uint tile, uint cell,
                                 uint trial, uint *u_saf)
{
    for (int s = 0; s < 4; ++s)
        u_saf[s] = 0;
    if (lp->saf_on)
        cim_rng_words4(lp->seed, CIM_RNG_SAF, (uint)lp->layer, tile, trial, 0, cell, u_saf);
}

/* Programmed currents of the cells of weight wv at tile/cell in trial
 * `trial` (cim_program_cells, cim_cells.h), not clipped. A sigma of 0 adds 0. */
static inline void cim_program_weight(__constant const cim_launch_params *lp,
                                      __constant const cim_mapping_desc *d,
                                      __global const cim_cdf_set *cdf, int wv, uint tile, uint cell,
                                      uint trial, int *raw)
{
    uint u[4], u_saf[4];
    const cim_cell_model cm = cim_launch_cell_model(lp);
    cim_rng_words4(lp->seed, CIM_RNG_D2D, (uint)lp->layer, tile, trial, 0, cell, u);
    cim_saf_words(lp, tile, cell, trial, u_saf);
    cim_program_cells(d, wv, &cm, cdf, u, u_saf, raw);
}

/* Writes one output column's tile conversions to the trace buffers. */
static inline void cim_write_trace(__constant const cim_launch_params *lp,
                                   __constant const cim_mapping_desc *d, long b, long i, long tn,
                                   long m, const int *current, const long *adc,
                                   __global int *trace_current, __global long *trace_adc)
{
    for (int j = 0; j < d->n_convs; ++j) {
        long at = (((b * lp->n_inputs + i) * lp->tiles_n + tn) * d->n_convs + j) * lp->rows + m;
        trace_current[at] = current[j];
        trace_adc[at] = adc[j];
    }
}

static inline int cim_tile_inputs(__constant const cim_launch_params *lp, long tn)
{
    long left = lp->cols - tn * lp->xbar_n;
    return (int)(left < lp->xbar_n ? left : lp->xbar_n);
}

/* ADC input profiling: counts the column current of each conversion of one
 * output column (in units of 2^-frac_bits nA) in batch entry b's histogram
 * (cim_profile_slot, the reference's binning); a no-op when the launch does
 * not profile. */
static inline void cim_profile_count(__constant const cim_launch_params *lp,
                                     __constant const cim_mapping_desc *d, long b,
                                     const long *current, int frac_bits, __global uint *profile)
{
    if (lp->profile_bins <= 0)
        return;
    __global uint *h = profile + b * CIM_PROFILE_SLOTS(lp->profile_bins);
    for (int j = 0; j < d->n_convs; ++j)
        atomic_inc(h + cim_profile_slot(lp->profile_bins, lp->profile_lo_na, lp->profile_bin_na,
                                        current[j], frac_bits));
}

/* cim_profile_count for each of the CIM_VW columns from m0 that is a real
 * output column, from the lanes of the conversions' whole-nA column sums. */
static inline void cim_profile_count_lanes(__constant const cim_launch_params *lp,
                                           __constant const cim_mapping_desc *d, long b,
                                           const cim_vec *sums, long m0, __global uint *profile)
{
    for (int l = 0; lp->profile_bins > 0 && l < CIM_VW && m0 + l < lp->rows; ++l) {
        long current[CIM_MAX_CONVS];
        for (int j = 0; j < d->n_convs; ++j)
            current[j] = CIM_LANE(sums[j], l);
        cim_profile_count(lp, d, b, current, 0, profile);
    }
}

/* The scalar cim_column_result per lane, writing the trace: for traced runs. */
static inline void cim_column_result_each(__constant const cim_launch_params *lp,
                                          const cim_column_params *p,
                                          __constant const cim_mapping_desc *d, const cim_vec *sums,
                                          int s, int n_used, __global const int *sumw,
                                          __global const long *adc_table, long b, long i, long tn,
                                          long m0, cim_vec *result, __global int *trace_current,
                                          __global long *trace_adc)
{
    for (int l = 0; l < CIM_VW; ++l) {
        const long m = m0 + l;
        int current[CIM_MAX_CONVS];
        long adc[CIM_MAX_CONVS];
        if (m < lp->rows) {
            for (int j = 0; j < d->n_convs; ++j)
                current[j] = CIM_LANE(sums[j], l);
            CIM_LANE(*result, l) += cim_column_result(p, current, s, n_used,
                                                      sumw[tn * lp->rows_pad + m], adc_table, adc);
            if (lp->trace)
                cim_write_trace(lp, d, b, i, tn, m, current, adc, trace_current, trace_adc);
        }
    }
}

/* Stores the lanes of `result` that are real output columns. */
static inline void cim_store_result(__constant const cim_launch_params *lp, cim_vec result,
                                    __global int *out_row, long m0)
{
    if (m0 + CIM_VW <= lp->rows) {
        CIM_VSTORE(result, out_row + m0);
    } else {
        for (int l = 0; m0 + l < lp->rows; ++l)
            out_row[m0 + l] = CIM_LANE(result, l);
    }
}

/* global: (rows_pad / CIM_VW, cols, batch). One work-item programs the
 * weights (m0..m0+VW-1, n) of one trial: one Philox block per weight gives
 * the D2D words of its (up to four) cells, another their stuck-at words
 * when faults are on; the currents are clipped (not with the C2C column
 * law, lp->c2c_column) and folded into g. weights_t is [cols][rows_pad] and
 * the row halves of `pos` are padded to rows_pad, so lanes past the last row
 * read zeros; their g is 0. */
__kernel void cim_program_g(__constant const cim_launch_params *lp,
                            __constant const cim_column_params *cp, __global const char *weights_t,
                            __global const int *pos, __global int *g,
                            __global const cim_cdf_set *cdf)
{
    const long m0 = get_global_id(0) * CIM_VW, n = get_global_id(1), b = get_global_id(2);
    __constant const cim_mapping_desc *d = &CIM_MAPPINGS[cp->mapping];
    const int classes = cim_value_classes(d);
    const long class_stride = lp->cols * lp->g_block;
    __global int *gb =
        g + cim_g_offset(d->n_convs, classes, lp->cols, lp->rows_pad, lp->g_block, b, 0, 0, n, m0);
    const long conv_stride = (lp->rows_pad / lp->g_block) * classes * class_stride;
    __global const int *row_tile = pos, *row_cell = pos + lp->rows_pad;
    __global const int *col_tile = pos + 2 * lp->rows_pad, *col_cell = col_tile + lp->cols;
    const cim_vec wv = CIM_VLOAD_INT(weights_t + n * lp->rows_pad + m0);
    const cim_vec m = (cim_vec)(int)m0 + CIM_LANE_INDEX;
    const cim_vec live = m < (cim_vec)(int)lp->rows;
    const cim_uvec cells = CIM_TO_UINT(CIM_VLOAD(row_cell + m0) + col_cell[n]);
    const cim_uvec tiles = CIM_TO_UINT(CIM_VLOAD(row_tile + m0) + col_tile[n]);
    const uint trial = (uint)(lp->trial_first + b);
    cim_uvec ctr[4], saf[4];
#pragma unroll
    for (int s = 0; s < 4; ++s)
        saf[s] = 0;
    CIM_RNG_COUNTER(ctr, cells, trial, tiles, (uint)lp->layer, CIM_RNG_D2D, 0u);
    cim_philox_lanes(ctr, (uint)(lp->seed & 0xffffffffu), (uint)(lp->seed >> 32));
    if (lp->saf_on) {
        CIM_RNG_COUNTER(saf, cells, trial, tiles, (uint)lp->layer, CIM_RNG_SAF, 0u);
        cim_philox_lanes(saf, (uint)(lp->seed & 0xffffffffu), (uint)(lp->seed >> 32));
    }
    const cim_cell_model cm = cim_launch_cell_model(lp);
    cim_vec c[CIM_MAX_SLOTS];
    cim_program_cells_lanes(d, wv, &cm, cdf, ctr, saf, c);
    if (!lp->c2c_column) { /* the column law adds its draws to unclipped sums */
#pragma unroll
        for (int s = 0; s < CIM_MAX_SLOTS; ++s)
            c[s] = c[s] < 0 ? (cim_vec)0 : c[s];
    }
#pragma unroll
    for (int j = 0; j < CIM_MAX_CONVS; ++j) {
        if (j < d->n_convs) {
#pragma unroll
            for (int v = 0; v < CIM_VALUE_CLASSES; ++v) {
                const int plane = cim_value_class(d, v);
                if (plane < 0)
                    continue;
                const cim_vec sum = cim_conv_current_lanes(d, j, v, c);
                CIM_VSTORE(live ? sum : (cim_vec)0, gb + j * conv_stride + plane * class_stride);
            }
        }
    }
}

/* Column blocks per read work-item (CIM_NET_BLOCKS, cim_network.h): the
 * column-currents loops of cim_read_g and cim_read_layer hold one named
 * accumulator a<q> per block (registers, not an array), declared and used
 * through CIM_NET_EACH_BLOCK, so that the per-input work (entries, value
 * classes) is shared by the blocks. Block q's g lies qoff[q] after block 0's
 * (0 for q = 0, folded at compile time); "live" blocks are those inside
 * rows_pad (q < nq; block 0 always). */
#define CIM_NET_QOFF(q) ((q) == 0 ? 0 : qoff[q])
#define CIM_NET_DECLARE(q) cim_vec a##q = 0;
#define CIM_NET_ADD_G(q) a##q += CIM_VLOAD_ALIGNED(gn + CIM_NET_QOFF(q));
#define CIM_NET_ADD_G_LIVE(q)                                                                      \
    if ((q) == 0 || (q) < nq)                                                                      \
        a##q += CIM_VLOAD_ALIGNED(gn + CIM_NET_QOFF(q));
/* the same where nq < CIM_NET_BLOCKS is known: the last block drops out */
#define CIM_NET_ADD_G_PARTIAL(q)                                                                   \
    if ((q) == 0 || ((q) < CIM_NET_BLOCKS - 1 && (q) < nq))                                        \
        a##q += CIM_VLOAD_ALIGNED(gn + CIM_NET_QOFF(q));
#define CIM_NET_SUB_G_LIVE(q)                                                                      \
    if ((q) == 0 || (q) < nq)                                                                      \
        a##q -= CIM_VLOAD_ALIGNED(gn + CIM_NET_QOFF(q));
#define CIM_NET_LOAD_SUMS(q) cim_vec a##q = sums[j][q];
#define CIM_NET_STORE_SUMS(q) sums[j][q] = a##q;

/* The g read's column currents of one (input, tile) for the nq live column
 * blocks from gb (the work-item's block 0 of g of conversion 0), carried:
 * for each conversion j and block q, sums[j][q] plus g over the entries
 * [e0, e1) less g over [e1, e2). From zero sums and an empty [e1, e2) it is
 * the sum over the inputs that drive a row; with an input chain
 * (cim_input_chain.h) [e0, e2) is the difference from the input before. */
static inline void cim_g_sums(__constant const cim_mapping_desc *d, __global const int *gb,
                              const long *qoff, int nq, long conv_stride,
                              __global const int *entries, int e0, int e1, int e2,
                              cim_vec sums[CIM_MAX_CONVS][CIM_NET_BLOCKS])
{
    for (int j = 0; j < d->n_convs; ++j) {
        __global const int *gj = gb + j * conv_stride;
        CIM_NET_EACH_BLOCK(CIM_NET_LOAD_SUMS)
        if (nq == CIM_NET_BLOCKS) {
            for (int e = e0; e < e1; ++e) {
                __global const int *gn = gj + entries[e];
                CIM_NET_EACH_BLOCK(CIM_NET_ADD_G)
            }
        } else {
            for (int e = e0; e < e1; ++e) {
                __global const int *gn = gj + entries[e];
                CIM_NET_EACH_BLOCK(CIM_NET_ADD_G_LIVE)
            }
        }
        for (int e = e1; e < e2; ++e) {
            __global const int *gn = gj + entries[e];
            CIM_NET_EACH_BLOCK(CIM_NET_SUB_G_LIVE)
        }
        CIM_NET_EACH_BLOCK(CIM_NET_STORE_SUMS)
    }
}

/* The conversion step of one (input, tile) of the g reads: the tile result
 * of the CIM_VW columns from m0 added to *result (with the trace when the
 * launch traces), and the ADC input profile. */
static inline void cim_g_tile_result(__constant const cim_launch_params *lp,
                                     const cim_column_params *p,
                                     __constant const cim_mapping_desc *d, const cim_vec *sums,
                                     int s, int n_used, __global const int *sumw,
                                     __global const long *adc_table, long b, long i, long tn,
                                     long m0, cim_vec *result, __global int *trace_current,
                                     __global long *trace_adc, __global uint *profile)
{
    if (!lp->trace)
        *result += cim_column_result_fast_lanes(
            p, sums, s, n_used, CIM_VLOAD(sumw + tn * lp->rows_pad + m0), adc_table);
    else
        cim_column_result_each(lp, p, d, sums, s, n_used, sumw, adc_table, b, i, tn, m0, result,
                               trace_current, trace_adc);
    cim_profile_count_lanes(lp, d, b, sums, m0, profile);
}

/* Adds `result` to the lanes of out_row that are real output columns (stores
 * it for the first tile). */
static inline void cim_add_result(__constant const cim_launch_params *lp, cim_vec result,
                                  __global int *out_row, long m0, int first)
{
    if (m0 + CIM_VW <= lp->rows) {
        CIM_VSTORE(first ? result : result + CIM_VLOAD(out_row + m0), out_row + m0);
    } else {
        for (int l = 0; m0 + l < lp->rows; ++l)
            out_row[m0 + l] = CIM_LANE(result, l) + (first ? 0 : out_row[m0 + l]);
    }
}

/* The offsets in g of the nq live column blocks after the block at g0, for
 * the work-item whose block 0 starts at column m0 (batch entry b). */
static inline void cim_block_offsets(__constant const cim_launch_params *lp,
                                     __constant const cim_mapping_desc *d, long b, long m0, long g0,
                                     int nq, long *qoff)
{
    const int classes = cim_value_classes(d);
#pragma unroll
    for (int q = 0; q < CIM_NET_BLOCKS; ++q)
        qoff[q] = q < nq ? cim_g_offset(d->n_convs, classes, lp->cols, lp->rows_pad, lp->g_block, b,
                                        0, 0, 0, m0 + q * CIM_VW) -
                               g0
                         : 0;
}

/* global: (ceil(rows_pad / (CIM_VW * read_blocks)), ceil(n_inputs /
 * inputs_per_item), batch). A work-item evaluates read_blocks blocks of
 * CIM_VW columns for inputs_per_item list rows in turn, tile by tile, so the
 * tile's rows of its g stay in cache between inputs. With lp->chained, list
 * row k is chain position k (chain[k]: the input and whether its sums
 * restart from zero) and each input's sums carry over from the position
 * before; else row k lists input k from zero. Tile results add up in out. */
__kernel void cim_read_g(__constant const cim_launch_params *lp,
                         __constant const cim_column_params *cp, __global const int *g,
                         __global const int *entries, __global const int *entry_range,
                         __global const int *chain, __global const int *tile_s,
                         __global const int *sumw, __global const long *adc_table,
                         __global int *out, __global int *trace_current, __global long *trace_adc,
                         __global uint *profile)
{
    const long m0 = get_global_id(0) * CIM_VW * lp->read_blocks, b = get_global_id(2);
    const long k0 = get_global_id(1) * lp->inputs_per_item;
    const long k1 =
        k0 + lp->inputs_per_item < lp->n_inputs ? k0 + lp->inputs_per_item : lp->n_inputs;
    const cim_column_params p = *cp;
    __constant const cim_mapping_desc *d = &CIM_MAPPINGS[p.mapping];
    const long left = (lp->rows_pad - m0) / CIM_VW;
    const int nq = left < lp->read_blocks ? (int)left : (int)lp->read_blocks;
    const int classes = cim_value_classes(d);
    const long g0 =
        cim_g_offset(d->n_convs, classes, lp->cols, lp->rows_pad, lp->g_block, b, 0, 0, 0, m0);
    long qoff[CIM_NET_BLOCKS];
    cim_block_offsets(lp, d, b, m0, g0, nq, qoff);
    __global const int *gb = g + g0;
    const long conv_stride = (lp->rows_pad / lp->g_block) * classes * lp->cols * lp->g_block;
    for (long tn = 0; tn < lp->tiles_n; ++tn) {
        const int n_used = cim_tile_inputs(lp, tn);
        cim_vec sums[CIM_MAX_CONVS][CIM_NET_BLOCKS];
        for (long k = k0; k < k1; ++k) {
            const long i = lp->chained ? chain[2 * k] : k, row = cim_input_row(lp, b, i);
            __global const int *er = entry_range + 3 * ((lp->chained ? k : row) * lp->tiles_n + tn);
            if (k == k0 || !lp->chained || chain[2 * k + 1])
                for (int j = 0; j < CIM_MAX_CONVS; ++j)
                    for (int q = 0; q < CIM_NET_BLOCKS; ++q)
                        sums[j][q] = 0;
            /* column currents: the sum of g over the driving inputs */
            cim_g_sums(d, gb, qoff, nq, conv_stride, entries, er[0], er[1], er[2], sums);
            const int s = tile_s[row * lp->tiles_n + tn];
            __global int *out_row = out + (b * lp->n_inputs + i) * lp->rows;
            for (int q = 0; q < nq; ++q) {
                cim_vec conv_sums[CIM_MAX_CONVS], result = 0;
                for (int j = 0; j < d->n_convs; ++j)
                    conv_sums[j] = sums[j][q];
                cim_g_tile_result(lp, &p, d, conv_sums, s, n_used, sumw, adc_table, b, i, tn,
                                  m0 + q * CIM_VW, &result, trace_current, trace_adc, profile);
                cim_add_result(lp, result, out_row, m0 + q * CIM_VW, tn == 0);
            }
        }
    }
}

/* global: (rows, cols, batch); raw[b][s][n][m] */
__kernel void cim_program_raw(__constant const cim_launch_params *lp,
                              __constant const cim_column_params *cp,
                              __global const char *weights_t, __global const int *pos,
                              __global int *raw, __global const cim_cdf_set *cdf)
{
    const long m = get_global_id(0), n = get_global_id(1), b = get_global_id(2);
    __constant const cim_mapping_desc *d = &CIM_MAPPINGS[cp->mapping];
    const long plane = lp->cols * lp->rows_pad;
    uint tile, cell;
    int c[CIM_MAX_SLOTS];
    cim_tile_cell(lp, pos, m, n, &tile, &cell);
    cim_program_weight(lp, d, cdf, weights_t[n * lp->rows_pad + m], tile, cell,
                       (uint)(lp->trial_first + b), c);
    for (int s = 0; s < d->n_slots; ++s)
        raw[(b * d->n_slots + s) * plane + n * lp->rows_pad + m] = c[s];
}

/* The per-cell read, global: (rows, n_inputs, batch). One work-item walks
 * one output column's cells in input order: each cell's programmed current
 * (raw) with its C2C deviation when C2C is on (a stuck cell's that of its
 * stuck state; C2C tables from cdf), clipped at zero; the conversions'
 * column currents are their term sums, or, with bit-line IR drop
 * (lp->ladder_iw > 0), the wire ladders of their physical columns
 * (cim_ladder.h) in fine units, converted by cim_column_result_fine. */
__kernel void cim_read_per_cell(__constant const cim_launch_params *lp,
                                __constant const cim_column_params *cp,
                                __global const char *weights_t, __global const int *pos,
                                __global const char *inputs, __global const int *raw,
                                __global const int *tile_s, __global const int *sumw,
                                __global const long *adc_table, __global int *out,
                                __global int *trace_current, __global long *trace_adc,
                                __global const cim_cdf_set *cdf, __global uint *profile,
                                __global const cim_drift_read *drift)
{
    const long m = get_global_id(0), i = get_global_id(1), b = get_global_id(2);
    const cim_cell_model cm = cim_launch_cell_model(lp);
    const cim_column_params p = *cp;
    __constant const cim_mapping_desc *d = &CIM_MAPPINGS[p.mapping];
    const long plane = lp->cols * lp->rows_pad;
    const uint trial = (uint)(lp->trial_first + b), input = (uint)(lp->input_first + i);
    const long row = cim_input_row(lp, b, i);
    __global const int *rb = raw + b * d->n_slots * plane + m;
    const int ladder = lp->ladder_iw > 0, fine_cells = (int)p.fine;
    __global const cim_drift_read *dr = lp->disturb_on ? drift + i : 0;
    int result = 0;
    for (long tn = 0; tn < lp->tiles_n; ++tn) {
        const int n_used = cim_tile_inputs(lp, tn);
        int current[CIM_MAX_CONVS] = {0, 0, 0, 0};
        long fine[CIM_MAX_CONVS] = {0, 0, 0, 0}, adc[CIM_MAX_CONVS];
        cim_ladder lad;
        cim_ladder_zero(&lad);
        /* column currents: every cell of the column, in row order */
        for (long n = tn * lp->xbar_n; n < tn * lp->xbar_n + n_used; ++n) {
            const int v = inputs[row * lp->cols + n] + 1, wv = weights_t[n * lp->rows_pad + m];
            int programmed[CIM_MAX_SLOTS], refreshed[CIM_MAX_SLOTS] = {0, 0, 0, 0};
            uint u[4] = {0, 0, 0, 0}, u_saf[4] = {0, 0, 0, 0};
            if (lp->c2c_on || dr) {
                uint tile, cell;
                cim_tile_cell(lp, pos, m, n, &tile, &cell);
                if (lp->c2c_on)
                    cim_rng_words4(lp->seed, CIM_RNG_C2C, (uint)lp->layer, tile, trial, input, cell,
                                   u);
                cim_saf_words(lp, tile, cell, trial, u_saf); /* the state a stuck cell reads as */
                if (dr && dr->epoch > 0)                     /* the programming of that refresh */
                    cim_refresh_cells(d, wv, &cm, cdf, lp->seed, (uint)lp->layer, tile, trial,
                                      dr->epoch, cell, u_saf, refreshed);
            }
            for (int s = 0; s < d->n_slots; ++s)
                programmed[s] = rb[s * plane + n * lp->rows_pad];
            if (fine_cells) {
                long c[CIM_MAX_SLOTS] = {0, 0, 0, 0};
                cim_read_cells_fine(d, wv, programmed, refreshed, &cm, cdf, u, u_saf, dr,
                                    (int)lp->drift_model, c);
                if (ladder)
                    cim_ladder_add_weight(d, v, c, lp->ladder_iw, &lad);
                else
                    for (int j = 0; j < d->n_convs; ++j)
                        fine[j] += cim_conv_current_fine(d, j, v, c);
            } else {
                int c[CIM_MAX_SLOTS];
                cim_read_cells(d, wv, programmed, &cm, cdf, u, u_saf, c);
                for (int j = 0; j < d->n_convs; ++j)
                    current[j] += cim_conv_current(d, j, v, c);
            }
        }
        const int s_tile = tile_s[row * lp->tiles_n + tn], sw = sumw[tn * lp->rows_pad + m];
        if (fine_cells) {
            if (ladder)
                cim_ladder_finish(d, n_used, (int)lp->ladder_rows, lp->ladder_iw, &lad, fine);
            result += cim_column_result_fine(&p, fine, s_tile, n_used, sw, adc_table, adc);
            cim_profile_count(lp, d, b, fine, CIM_FINE_FRAC_BITS, profile);
            for (int j = 0; j < d->n_convs; ++j)
                current[j] = cim_trace_current(&p, fine[j]);
        } else {
            result += cim_column_result(&p, current, s_tile, n_used, sw, adc_table, adc);
            for (int j = 0; j < CIM_MAX_CONVS; ++j)
                fine[j] = current[j];
            cim_profile_count(lp, d, b, fine, 0, profile);
        }
        if (lp->trace)
            cim_write_trace(lp, d, b, i, tn, m, current, adc, trace_current, trace_adc);
    }
    out[(b * lp->n_inputs + i) * lp->rows + m] = result;
}

/* ---- the C2C column law (cim_c2c_column.h) ----------------------------- */

/* One whole-vector load of packed counts (aligned as g's blocks). */
#if CIM_VW == 1
#define CIM_C2C_LOAD(p) (*(p))
#else
#define CIM_C2C_LOAD(p) (*(__global const cim_uvec *)(p))
#endif

/* The column law's count table (cim_launch.h, `counts`), global: (rows_pad /
 * CIM_VW, cols, 1, or batch with stuck-at faults). One work-item packs, for
 * each input class, the LRS counts per cell group of the driven cells of the
 * weights (m0..m0+VW-1, n): the weights' own states, or with faults those of
 * trial b's chip, where a stuck cell counts in its stuck state
 * (cim_cell_state, as the per-cell read's deviation). Lanes past the last
 * row get 0. */
__kernel void cim_program_c2c_counts(__constant const cim_launch_params *lp,
                                     __constant const cim_column_params *cp,
                                     __global const char *weights_t, __global const int *pos,
                                     __global uint *counts)
{
    const long m0 = get_global_id(0) * CIM_VW, n = get_global_id(1), b = get_global_id(2);
    __constant const cim_mapping_desc *d = &CIM_MAPPINGS[cp->mapping];
    const int classes = cim_value_classes(d);
    const long class_stride = lp->cols * lp->g_block;
    __global uint *cb =
        counts + cim_g_offset(1, classes, lp->cols, lp->rows_pad, lp->g_block, b, 0, 0, n, m0);
    __global const int *row_tile = pos, *row_cell = pos + lp->rows_pad;
    __global const int *col_tile = pos + 2 * lp->rows_pad, *col_cell = col_tile + lp->cols;
    const cim_vec wv = CIM_VLOAD_INT(weights_t + n * lp->rows_pad + m0);
    const cim_vec m = (cim_vec)(int)m0 + CIM_LANE_INDEX;
    const cim_vec live = m < (cim_vec)(int)lp->rows;
    const cim_cell_model cm = cim_launch_cell_model(lp);
    cim_uvec saf[4];
    cim_vec state[CIM_MAX_SLOTS];
    cim_c2c_groups g;
    cim_c2c_groups_of(d, &g);
#pragma unroll
    for (int s = 0; s < 4; ++s)
        saf[s] = 0;
    if (lp->saf_on) {
        const cim_uvec cells = CIM_TO_UINT(CIM_VLOAD(row_cell + m0) + col_cell[n]);
        const cim_uvec tiles = CIM_TO_UINT(CIM_VLOAD(row_tile + m0) + col_tile[n]);
        CIM_RNG_COUNTER(saf, cells, (uint)(lp->trial_first + b), tiles, (uint)lp->layer,
                        CIM_RNG_SAF, 0u);
        cim_philox_lanes(saf, (uint)(lp->seed & 0xffffffffu), (uint)(lp->seed >> 32));
    }
#pragma unroll
    for (int s = 0; s < CIM_MAX_SLOTS; ++s)
        state[s] = cim_cell_state_lanes(d, wv, s, saf[s], &cm);
#pragma unroll
    for (int v = 0; v < CIM_VALUE_CLASSES; ++v) {
        const int plane = cim_value_class(d, v);
        if (plane < 0)
            continue;
        const cim_uvec packed = cim_c2c_pack_lrs_lanes(&g, v, state);
        CIM_VSTORE(live ? packed : (cim_uvec)0, cb + plane * class_stride);
    }
}

/* The column-law read, global: (rows_pad / CIM_VW, ceil(n_inputs /
 * inputs_per_item), batch), laid out as cim_read_g (whose sum over the entry
 * list it repeats, on the unclipped g of lp->c2c_column). Per input and tile
 * it also adds the packed LRS counts over the same entries (unpacking the
 * bytes every CIM_C2C_FLUSH entries) and counts the entries of each input
 * class, which give the driven cells of each group; then one Philox block
 * of purpose CIM_RNG_C2C_COLUMN per column read (cell = the column inside
 * its tile, input = the read's MVM index) gives each group its deviation
 * N(0, V_k) (cim_c2c_deviation_lanes), added to the conversions with the
 * group's coefficients before the conversion step. */
__kernel void cim_read_column(__constant const cim_launch_params *lp,
                              __constant const cim_column_params *cp, __global const int *g,
                              __global const uint *counts, __global const int *entries,
                              __global const int *entry_range, __global const int *tile_s,
                              __global const int *sumw, __global const long *adc_table,
                              __global int *out, __global int *trace_current,
                              __global long *trace_adc, __global uint *profile)
{
    const long m0 = get_global_id(0) * CIM_VW, b = get_global_id(2);
    const long i0 = get_global_id(1) * lp->inputs_per_item;
    const long i1 =
        i0 + lp->inputs_per_item < lp->n_inputs ? i0 + lp->inputs_per_item : lp->n_inputs;
    const cim_column_params p = *cp;
    __constant const cim_mapping_desc *d = &CIM_MAPPINGS[p.mapping];
    const int classes = cim_value_classes(d);
    const long class_stride = lp->cols * lp->g_block;
    __global const int *gb =
        g + cim_g_offset(d->n_convs, classes, lp->cols, lp->rows_pad, lp->g_block, b, 0, 0, 0, m0);
    __global const uint *cb = counts + cim_g_offset(1, classes, lp->cols, lp->rows_pad, lp->g_block,
                                                    lp->saf_on ? b : 0, 0, 0, 0, m0);
    const long conv_stride = (lp->rows_pad / lp->g_block) * classes * class_stride;
    const cim_cell_model cm = cim_launch_cell_model(lp);
    const long s2[2] = {(long)cm.c2c_sigma[0] * cm.c2c_sigma[0],
                        (long)cm.c2c_sigma[1] * cm.c2c_sigma[1]};
    cim_c2c_groups grp;
    cim_c2c_groups_of(d, &grp);
    int value_of[CIM_VALUE_CLASSES] = {0, 0, 0}; /* the input value of each class plane */
    for (int v = 0; v < CIM_VALUE_CLASSES; ++v)
        if (cim_value_class(d, v) >= 0)
            value_of[cim_value_class(d, v)] = v;
    /* the draws' keys: column inside its tile, and the tile row's index */
    const cim_vec m = (cim_vec)(int)m0 + CIM_LANE_INDEX;
    const cim_uvec column = CIM_TO_UINT(m % (cim_vec)(int)lp->xbar_m);
    const cim_vec tile_row = (m / (cim_vec)(int)lp->xbar_m) * (cim_vec)(int)lp->tiles_n;
    const uint trial = (uint)(lp->trial_first + b);
    for (long i = i0; i < i1; ++i) {
        const long row = cim_input_row(lp, b, i);
        const uint input = (uint)(lp->input_first + i);
        cim_vec result = 0;
        for (long tn = 0; tn < lp->tiles_n; ++tn) {
            const int e0 = entry_range[3 * (row * lp->tiles_n + tn)];
            const int e1 = entry_range[3 * (row * lp->tiles_n + tn) + 1];
            const int s = tile_s[row * lp->tiles_n + tn], n_used = cim_tile_inputs(lp, tn);
            /* column currents: the sum of the unclipped g over the driving inputs */
            cim_vec blocks[CIM_MAX_CONVS][CIM_NET_BLOCKS] = {{0}}, sums[CIM_MAX_CONVS];
            const long no_qoff[CIM_NET_BLOCKS] = {0};
            cim_g_sums(d, gb, no_qoff, 1, conv_stride, entries, e0, e1, e1, blocks);
            for (int j = 0; j < CIM_MAX_CONVS; ++j)
                sums[j] = blocks[j][0];
            /* the read's LRS cells per group, and its entries per input class */
            cim_vec n_lrs[CIM_C2C_MAX_GROUPS];
            for (int k = 0; k < CIM_C2C_MAX_GROUPS; ++k)
                n_lrs[k] = 0;
            int above1 = 0, above2 = 0;
            for (int e = e0; e < e1; e += CIM_C2C_FLUSH) {
                const int e_end = e + CIM_C2C_FLUSH < e1 ? e + CIM_C2C_FLUSH : e1;
                cim_uvec packed = 0;
                for (int q = e; q < e_end; ++q) {
                    const int o = entries[q];
                    packed += CIM_C2C_LOAD(cb + o);
                    above1 += o >= class_stride;
                    above2 += o >= 2 * class_stride;
                }
                for (int k = 0; k < grp.n_groups; ++k)
                    n_lrs[k] += CIM_AS_INT((packed >> (CIM_C2C_COUNT_BITS * k)) & 0xffu);
            }
            const int n_class[CIM_VALUE_CLASSES] = {e1 - e0 - above1, above1 - above2, above2};
            /* one draw per group of this column read */
            cim_uvec ctr[4];
            CIM_RNG_COUNTER(ctr, column, trial, CIM_TO_UINT(tile_row + (int)tn), (uint)lp->layer,
                            CIM_RNG_C2C_COLUMN, input);
            cim_philox_lanes(ctr, (uint)(lp->seed & 0xffffffffu), (uint)(lp->seed >> 32));
            for (int k = 0; k < grp.n_groups; ++k) {
                int n_driven = 0;
                for (int c = 0; c < classes; ++c)
                    n_driven += n_class[c] * grp.driven[value_of[c]][k];
                const cim_vec dev = cim_c2c_deviation_lanes(s2, n_lrs[k], (cim_vec)n_driven,
                                                            k == 0   ? ctr[0]
                                                            : k == 1 ? ctr[1]
                                                            : k == 2 ? ctr[2]
                                                                     : ctr[3]);
                for (int j = 0; j < d->n_convs; ++j)
                    sums[j] += grp.coef[k][j] * dev;
            }
            cim_g_tile_result(lp, &p, d, sums, s, n_used, sumw, adc_table, b, i, tn, m0, &result,
                              trace_current, trace_adc, profile);
        }
        cim_store_result(lp, result, out + (b * lp->n_inputs + i) * lp->rows, m0);
    }
}

/* Digital column current of conversion j, tile tn, input i, for the CIM_VW
 * columns from m0. No input drives two same-sign terms of a conversion (a
 * table invariant, tests/test_mapping.c), so the same-sign terms' bits are
 * disjoint and one count of their OR counts them all. */
static inline cim_vec cim_digital_current(__constant const cim_launch_params *lp,
                                          __constant const cim_mapping_desc *d, int j,
                                          __global const uint *state_bits,
                                          __global const uint *drive_bits, long i, long tn, long m0)
{
    __constant const cim_conv *cv = &d->conv[j];
    const long wpt = lp->words_per_tile, tile_words = lp->tiles_n * wpt;
    cim_uvec plus = 0, minus = 0;
    for (long w0 = 0; w0 < wpt; w0 += CIM_POPCOUNT_BLOCK) {
        const long w1 = w0 + CIM_POPCOUNT_BLOCK < wpt ? w0 + CIM_POPCOUNT_BLOCK : wpt;
        cim_uvec plus_bytes = 0, minus_bytes = 0;
        for (long w = w0; w < w1; ++w) {
            cim_uvec pw = 0, mw = 0;
            for (int t = 0; t < cv->n_terms; ++t) {
                __constant const cim_term *tm = &cv->terms[t];
                const cim_uvec bits =
                    CIM_VLOAD(state_bits + ((tm->slot * tile_words) + tn * wpt + w) * lp->rows_pad +
                              m0) &
                    (cim_uvec)drive_bits[(i * d->n_drives + tm->drive) * tile_words + tn * wpt + w];
                if (tm->sign > 0)
                    pw |= bits;
                else
                    mw |= bits;
            }
            plus_bytes += cim_popcount_bytes(pw);
            minus_bytes += cim_popcount_bytes(mw);
        }
        plus += cim_bytes_sum(plus_bytes);
        minus += cim_bytes_sum(minus_bytes);
    }
    return CIM_AS_INT(plus) - CIM_AS_INT(minus);
}

/* The drive bit-planes of cim_read_digital from the int8 inputs, global:
 * (tiles_n * words_per_tile, n_inputs). Bit b of word w of drive d: the
 * drive bit (mapping table) of input position w * 32 + b of the tile. The
 * engine packs them once per prepared input set (cim_engine_inputs). */
__kernel void cim_pack_drives(__constant const cim_launch_params *lp,
                              __constant const cim_column_params *cp, __global const char *inputs,
                              __global uint *drive_bits)
{
    const long w = get_global_id(0), i = get_global_id(1);
    __constant const cim_mapping_desc *d = &CIM_MAPPINGS[cp->mapping];
    const long wpt = lp->words_per_tile, tile_words = lp->tiles_n * wpt;
    const long tn = w / wpt, n0 = tn * lp->xbar_n + (w - tn * wpt) * 32;
    const long tile_end = (tn + 1) * lp->xbar_n < lp->cols ? (tn + 1) * lp->xbar_n : lp->cols;
    const long n1 = n0 + 32 < tile_end ? n0 + 32 : tile_end;
    __global const char *in = inputs + i * lp->cols;
    for (int dv = 0; dv < d->n_drives; ++dv) {
        uint word = 0;
        for (long n = n0; n < n1; ++n)
            word |= (uint)(d->drive[dv][in[n] + 1] != 0) << (n - n0);
        drive_bits[(i * d->n_drives + dv) * tile_words + w] = word;
    }
}

/* Digital mode, global: (rows_pad / CIM_VW, ceil(n_inputs / inputs_per_item)). Bit-planes:
 * state_bits uint [n_slots][tiles_n][words_per_tile][rows_pad] (bit b of word
 * w: the slot's state for input position w * 32 + b of the tile; columns
 * fastest so a work-item loads its CIM_VW columns at once), drive_bits uint
 * [n_inputs][n_drives][tiles_n][words_per_tile]. Column current of a
 * conversion = sum over its terms of sign * popcount(state & drive). */
__kernel void cim_read_digital(__constant const cim_launch_params *lp,
                               __constant const cim_column_params *cp,
                               __global const uint *state_bits, __global const uint *drive_bits,
                               __global const int *tile_s, __global const int *sumw,
                               __global int *out, __global int *trace_current,
                               __global long *trace_adc)
{
    const long m0 = get_global_id(0) * CIM_VW;
    const long i0 = get_global_id(1) * lp->inputs_per_item;
    const long i1 =
        i0 + lp->inputs_per_item < lp->n_inputs ? i0 + lp->inputs_per_item : lp->n_inputs;
    const cim_column_params p = *cp;
    __constant const cim_mapping_desc *d = &CIM_MAPPINGS[p.mapping];
    const long wpt = lp->words_per_tile, tile_words = lp->tiles_n * wpt;
    for (long i = i0; i < i1; ++i) {
        cim_vec result = 0;
        for (long tn = 0; tn < lp->tiles_n; ++tn) {
            const int s = tile_s[i * lp->tiles_n + tn], n_used = cim_tile_inputs(lp, tn);
            cim_vec sums[CIM_MAX_CONVS];
            for (int j = 0; j < d->n_convs; ++j)
                sums[j] = cim_digital_current(lp, d, j, state_bits, drive_bits, i, tn, m0);
            if (!lp->trace)
                result += cim_column_result_lanes(&p, sums, s, n_used,
                                                  CIM_VLOAD(sumw + tn * lp->rows_pad + m0), 0, 0);
            else
                cim_column_result_each(lp, &p, d, sums, s, n_used, sumw, 0, 0, i, tn, m0, &result,
                                       trace_current, trace_adc);
        }
        cim_store_result(lp, result, out + i * lp->rows, m0);
    }
}

/* Bit-sliced inputs (cim_planes.h), global (rows, n_vectors, trials): the
 * reads in[trial][n_vectors * planes][rows] of each vector's planes fold into
 * out[trial][n_vectors][rows]. */
__kernel void cim_fold(__global const int *in, int rows, long n_vectors, int planes,
                       __global int *out)
{
    const long m = get_global_id(0), v = get_global_id(1), t = get_global_id(2);
    const long at = t * n_vectors + v;
    out[at * rows + m] = cim_fold_planes(in + at * planes * rows + m, planes, rows);
}

#include "cim_network.cl"
#include "cim_exact.cl"

/* Layout probe: the sizes of the structs shared with the host as the device
 * compiler lays them out (tests compare them with the host's). */
__kernel void cim_layout_probe(__global long *sizes)
{
    sizes[0] = sizeof(cim_launch_params);
    sizes[1] = sizeof(cim_column_params);
    sizes[2] = sizeof(cim_mapping_desc);
    sizes[3] = sizeof(cim_layer_launch);
}

#include "cim_peak.cl"

/* ADC probe: the lane-wise finite ADC on given inputs, for tests that sweep
 * every threshold of large ranges. global: (n / CIM_VW); out[i] = A(j2[i], k). */
__kernel void cim_adc_probe(__constant const cim_column_params *cp, __global const long *adc_table,
                            __global const long *j2, int k, __global long *out)
{
    const long i0 = get_global_id(0) * CIM_VW;
    const cim_column_params p = *cp;
    cim_lvec in;
    for (int l = 0; l < CIM_VW; ++l)
        CIM_LLANE(in, l) = j2[i0 + l];
    const cim_lvec a = cim_adc_table_lanes(&p, adc_table, in, k);
    for (int l = 0; l < CIM_VW; ++l)
        out[i0 + l] = CIM_LLANE(a, l);
}

/* Division probe: cim_div_round_lanes on given numerators, for tests that
 * sweep every rounding case. global: (n / CIM_VW); out[i] = round(num[i] / den). */
__kernel void cim_div_probe(__global const long *num, long den, __global long *out)
{
    const long i0 = get_global_id(0) * CIM_VW;
    cim_lvec in;
    for (int l = 0; l < CIM_VW; ++l)
        CIM_LLANE(in, l) = num[i0 + l];
    const cim_lvec q = cim_div_round_lanes(in, den);
    for (int l = 0; l < CIM_VW; ++l)
        out[i0 + l] = CIM_LLANE(q, l);
}
