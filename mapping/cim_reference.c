/* cim_reference.c -- the reference MVM, written for clarity, not speed.
 *
 * Three steps per tile, each one function, so that a model changes one of
 * them (docs/semantics.md; docs/HACKING.md, where each model lives):
 *   1. programming, cim_reference_program_tile: every cell's current for this
 *      trial (nominal current of its state plus its D2D deviation:
 *      cim_program_cells, cim_cells.h, shared with the kernels), or the
 *      current of a measured distribution's table (cim_cdf.h); a stuck-at
 *      fault (its own per-cell draw, CIM_RNG_SAF) overrides the cell's state
 *      first, in digital mode too.
 *   2. the read, cim_reference_read_tile_columns: programmed cells + the row
 *      drives of one input vector -> the column current of every conversion
 *      of every output column of the tile. Each cell current gets a fresh
 *      C2C deviation, shared by all reads of that input, and is clipped at
 *      zero; each conversion sums its terms (cim_conv_current, cim_cells.h,
 *      the kernels' term sum too), or, with bit-line IR drop, each of its
 *      physical columns walks its wire ladder row by row (cim_ladder.h) and
 *      the currents come in fine units. With read disturb each read takes its
 *      drift entry (cim_drift_read, from the tile's schedule of
 *      cim_disturb.h, the same for every tile and chip): drifting LRS cells
 *      carry the drift of that read, refreshed cells their re-draws
 *      (CIM_RNG_REFRESH); `raw` stays the chip's programming
 *      (cim_read_cells_fine).
 *   3. conversion, cim_column_result() (cim_column_result_fine() for fine
 *      currents): ADC and recombination of one column's currents; the tile
 *      results of one output add as integers. ADC input profiling counts
 *      each conversion's column current there, before its offset
 *      (cim_profile_slot, cim_profile.h; fine currents in the fine unit).
 * Measured device distributions (cim_cdf.h) replace the Gaussian sampler
 * (cim_gauss.h) for the states that have a table, in steps 1 and 2.
 * The C2C column law (cim_xbar_c2c_column; cim_c2c_column.h) replaces step
 * 2's per-cell draws: the conversions sum the programmed currents unclipped,
 * each cell group of the column read counts its LRS and HRS cells (a stuck
 * cell in its stuck state), and one normal draw per group, scaled by the
 * square root of the group's variance, is added with the group's
 * coefficients (read_column_law).
 *
 * Random draws come from cim_rng.h keyed by (seed, layer, tile, trial, input,
 * cell), exactly as the kernels key them.
 */
#include "cim_reference.h"

#include <stdlib.h>
#include <string.h>

#include "cim_c2c_column.h"
#include "cim_cells.h"
#include "cim_ladder.h"
#include "cim_mapping.h"
#include "cim_rng.h"

void cim_reference_program_tile(const cim_xbar *x, const int8_t *w, int32_t rows, int32_t cols,
                                int32_t tile, int32_t m0, int32_t n0, uint32_t trial, int32_t *raw)
{
    const cim_mapping_desc *d = cim_mapping_desc_of(x->mapping);
    const int d2d = cim_xbar_has_d2d(x), saf = cim_xbar_has_saf(x);
    const cim_cell_model model = cim_xbar_cell_model(x);
    const size_t plane = (size_t)x->xbar_m * x->xbar_n;
    memset(raw, 0, sizeof(int32_t) * plane * d->n_slots);
    for (int32_t m = m0; m < rows && m < m0 + x->xbar_m; ++m) {
        for (int32_t n = n0; n < cols && n < n0 + x->xbar_n; ++n) {
            uint32_t cell = (uint32_t)((m - m0) * x->xbar_n + (n - n0));
            int wv = w[(size_t)m * cols + n];
            uint32_t u[4] = {0, 0, 0, 0}, u_saf[4] = {0, 0, 0, 0};
            int32_t c[CIM_MAX_SLOTS];
            if (d2d)
                cim_rng_words4(x->seed, CIM_RNG_D2D, x->layer, (uint32_t)tile, trial, 0, cell, u);
            if (saf)
                cim_rng_words4(x->seed, CIM_RNG_SAF, x->layer, (uint32_t)tile, trial, 0, cell,
                               u_saf);
            cim_program_cells(d, wv, &model, &x->cdf, u, u_saf, c);
            for (int s = 0; s < d->n_slots; ++s)
                raw[s * plane + cell] = c[s];
        }
    }
}

/* The column law's read of output m in one tile for input xin: the term
 * sums of the unclipped programmed currents, then per cell group k one
 * deviation N(0, V_k) (word k of the read's CIM_RNG_C2C_COLUMN block, keyed
 * by the column m - m0 and the input) times the group's coefficients. */
static void read_column_law(const cim_xbar *x, const int8_t *w, int32_t cols, const int32_t *raw,
                            int32_t tile, int32_t m0, int32_t n0, int32_t n_used, int32_t m,
                            const int8_t *xin, uint32_t input, uint32_t trial, int64_t *current)
{
    const cim_mapping_desc *d = cim_mapping_desc_of(x->mapping);
    const int saf = cim_xbar_has_saf(x);
    const cim_cell_model model = cim_xbar_cell_model(x);
    const size_t plane = (size_t)x->xbar_m * x->xbar_n;
    const int64_t s2[2] = {(int64_t)model.c2c_sigma[0] * model.c2c_sigma[0],
                           (int64_t)model.c2c_sigma[1] * model.c2c_sigma[1]};
    cim_c2c_groups g;
    int32_t n_lrs[CIM_C2C_MAX_GROUPS] = {0, 0, 0, 0}, n_driven[CIM_C2C_MAX_GROUPS] = {0, 0, 0, 0};
    uint32_t u[4];
    cim_c2c_groups_of(d, &g);
    for (int j = 0; j < d->n_convs; ++j)
        current[j] = 0;
    for (int32_t n = n0; n < n0 + n_used; ++n) {
        const uint32_t cell = (uint32_t)((m - m0) * x->xbar_n + (n - n0));
        const int wv = w[(size_t)m * cols + n], v = xin[n] + 1;
        int32_t programmed[CIM_MAX_SLOTS] = {0, 0, 0, 0};
        uint32_t u_saf[4] = {0, 0, 0, 0};
        if (saf) /* the state a stuck cell reads as */
            cim_rng_words4(x->seed, CIM_RNG_SAF, x->layer, (uint32_t)tile, trial, 0, cell, u_saf);
        for (int s = 0; s < d->n_slots; ++s) {
            const int k = g.group_of[v][s];
            programmed[s] = raw[s * plane + cell];
            if (k >= 0) {
                n_driven[k] += 1;
                n_lrs[k] += cim_cell_state(d, wv, s, u_saf[s], &model);
            }
        }
        for (int j = 0; j < d->n_convs; ++j)
            current[j] += cim_conv_current(d, j, v, programmed);
    }
    cim_rng_words4(x->seed, CIM_RNG_C2C_COLUMN, x->layer, (uint32_t)tile, trial, input,
                   (uint32_t)(m - m0), u);
    for (int k = 0; k < g.n_groups; ++k) {
        const int32_t dev = cim_c2c_deviation(s2, n_lrs[k], n_driven[k], u[k]);
        for (int j = 0; j < d->n_convs; ++j)
            current[j] += (int64_t)g.coef[k][j] * dev;
    }
}

/* Column currents of every conversion of output m in one tile for input xin;
 * dr: what drifting cells carry in this read (read disturb), or NULL. */
static void read_column(const cim_xbar *x, const int8_t *w, int32_t cols, const int32_t *raw,
                        int32_t tile, int32_t m0, int32_t n0, int32_t n_used, int32_t m,
                        const int8_t *xin, uint32_t input, uint32_t trial, const cim_drift_read *dr,
                        int64_t *current)
{
    const cim_mapping_desc *d = cim_mapping_desc_of(x->mapping);
    const int c2c = cim_xbar_has_c2c(x), saf = cim_xbar_has_saf(x);
    const int ladder = cim_xbar_has_ladder(x), fine = (int)x->column.fine;
    const cim_cell_model model = cim_xbar_cell_model(x);
    const size_t plane = (size_t)x->xbar_m * x->xbar_n;
    if (cim_xbar_c2c_column(x)) {
        read_column_law(x, w, cols, raw, tile, m0, n0, n_used, m, xin, input, trial, current);
        return;
    }
    cim_ladder lad;
    cim_ladder_zero(&lad);
    for (int j = 0; j < d->n_convs; ++j)
        current[j] = 0;
    for (int32_t n = n0; n < n0 + n_used; ++n) {
        uint32_t cell = (uint32_t)((m - m0) * x->xbar_n + (n - n0));
        int wv = w[(size_t)m * cols + n];
        int xv = xin[n];
        int32_t programmed[CIM_MAX_SLOTS], refreshed[CIM_MAX_SLOTS] = {0, 0, 0, 0};
        uint32_t u[4] = {0, 0, 0, 0}, u_saf[4] = {0, 0, 0, 0};
        if (c2c)
            cim_rng_words4(x->seed, CIM_RNG_C2C, x->layer, (uint32_t)tile, trial, input, cell, u);
        if (saf && (c2c || dr)) /* the state a stuck cell reads as */
            cim_rng_words4(x->seed, CIM_RNG_SAF, x->layer, (uint32_t)tile, trial, 0, cell, u_saf);
        for (int s = 0; s < d->n_slots; ++s)
            programmed[s] = raw[s * plane + cell];
        if (dr && dr->epoch > 0) /* the programming of that refresh */
            cim_refresh_cells(d, wv, &model, &x->cdf, x->seed, x->layer, (uint32_t)tile, trial,
                              dr->epoch, cell, u_saf, refreshed);
        if (fine) {
            int64_t c[CIM_MAX_SLOTS] = {0, 0, 0, 0};
            cim_read_cells_fine(d, wv, programmed, refreshed, &model, &x->cdf, u, u_saf, dr,
                                x->drift_model, c);
            if (ladder)
                cim_ladder_add_weight(d, xv + 1, c, x->ladder_iw, &lad);
            else
                for (int j = 0; j < d->n_convs; ++j)
                    current[j] += cim_conv_current_fine(d, j, xv + 1, c);
        } else {
            int32_t c[CIM_MAX_SLOTS] = {0, 0, 0, 0};
            cim_read_cells(d, wv, programmed, &model, &x->cdf, u, u_saf, c);
            for (int j = 0; j < d->n_convs; ++j)
                current[j] += cim_conv_current(d, j, xv + 1, c); /* drive[.][x + 1] */
        }
    }
    if (ladder)
        cim_ladder_finish(d, n_used, x->ladder_rows, x->ladder_iw, &lad, current);
}

void cim_reference_read_tile_columns(const cim_xbar *x, const int8_t *w, int32_t rows, int32_t cols,
                                     const int32_t *raw, int32_t tile, int32_t m0, int32_t n0,
                                     const int8_t *xin, uint32_t input, uint32_t trial,
                                     const cim_drift_read *dr, int64_t *current)
{
    const int32_t n_used = cols - n0 < x->xbar_n ? cols - n0 : x->xbar_n;
    for (int32_t m = m0; m < rows && m < m0 + x->xbar_m; ++m)
        read_column(x, w, cols, raw, tile, m0, n0, n_used, m, xin, input, trial, dr,
                    current + (size_t)(m - m0) * CIM_MAX_CONVS);
}

int cim_reference_drift_reads(const cim_xbar *x, int64_t mvm_first, int32_t n_inputs,
                              cim_drift_read **reads)
{
    *reads = NULL;
    if (!cim_xbar_has_disturb(x) || n_inputs <= 0)
        return 0;
    cim_disturb_schedule sched;
    *reads = malloc(sizeof(cim_drift_read) * (size_t)n_inputs);
    if (!*reads || cim_disturb_schedule_build(&sched, &x->disturb, mvm_first + n_inputs) != 0) {
        free(*reads);
        *reads = NULL;
        return -1;
    }
    const int rc = cim_disturb_reads(&sched, mvm_first, n_inputs, *reads);
    cim_disturb_schedule_free(&sched);
    if (rc != 0) {
        free(*reads);
        *reads = NULL;
    }
    return rc;
}

int32_t cim_reference_convert(const cim_column_params *p, const int64_t *current, int32_t s,
                              int32_t n_used, int32_t sumw, int64_t *adc_out)
{
    if (p->fine)
        return cim_column_result_fine(p, current, s, n_used, sumw, NULL, adc_out);
    int32_t whole[CIM_MAX_CONVS];
    for (int j = 0; j < CIM_MAX_CONVS; ++j)
        whole[j] = (int32_t)current[j];
    return cim_column_result(p, whole, s, n_used, sumw, NULL, adc_out);
}

int cim_reference_mvm(const cim_xbar *x, const int8_t *w, int32_t rows, int32_t cols,
                      const int8_t *in, int32_t n_inputs, uint32_t input_first, uint32_t trial,
                      int32_t *out, const cim_mvm_trace *trace)
{
    return cim_reference_mvm_at(x, w, rows, cols, in, n_inputs, input_first, input_first, trial,
                                out, trace);
}

int cim_reference_mvm_at(const cim_xbar *x, const int8_t *w, int32_t rows, int32_t cols,
                         const int8_t *in, int32_t n_inputs, uint32_t input_first,
                         int64_t mvm_first, uint32_t trial, int32_t *out,
                         const cim_mvm_trace *trace)
{
    const cim_mapping_desc *d = cim_mapping_desc_of(x->mapping);
    const int32_t tiles_m = cim_tiles(rows, x->xbar_m), tiles_n = cim_tiles(cols, x->xbar_n);
    int32_t *raw = malloc(sizeof(int32_t) * (size_t)x->xbar_m * x->xbar_n * d->n_slots);
    int64_t *currents = malloc(sizeof(int64_t) * (size_t)x->xbar_m * CIM_MAX_CONVS);
    cim_drift_read *drift = NULL;
    if (!raw || !currents || cim_reference_drift_reads(x, mvm_first, n_inputs, &drift) != 0) {
        free(raw);
        free(currents);
        return -1;
    }
    memset(out, 0, sizeof(int32_t) * (size_t)n_inputs * rows);
    for (int32_t tm = 0; tm < tiles_m; ++tm) {
        for (int32_t tn = 0; tn < tiles_n; ++tn) {
            const int32_t tile = tm * tiles_n + tn, m0 = tm * x->xbar_m, n0 = tn * x->xbar_n;
            const int32_t n_used = cols - n0 < x->xbar_n ? cols - n0 : x->xbar_n;
            cim_reference_program_tile(x, w, rows, cols, tile, m0, n0, trial, raw);
            for (int32_t i = 0; i < n_inputs; ++i) {
                const int8_t *xin = in + (size_t)i * cols;
                int32_t s = 0;
                for (int32_t n = n0; n < n0 + n_used; ++n)
                    s += xin[n];
                cim_reference_read_tile_columns(x, w, rows, cols, raw, tile, m0, n0, xin,
                                                input_first + (uint32_t)i, trial,
                                                drift ? drift + i : NULL, currents);
                for (int32_t m = m0; m < rows && m < m0 + x->xbar_m; ++m) {
                    const int64_t *current = currents + (size_t)(m - m0) * CIM_MAX_CONVS;
                    int64_t adc[CIM_MAX_CONVS];
                    int32_t sumw = 0;
                    for (int32_t n = n0; n < n0 + n_used; ++n)
                        sumw += w[(size_t)m * cols + n];
                    out[(size_t)i * rows + m] +=
                        cim_reference_convert(&x->column, current, s, n_used, sumw, adc);
                    if (trace && trace->profile && x->profile.bins > 0)
                        for (int j = 0; j < d->n_convs; ++j)
                            trace->profile[cim_profile_slot(
                                x->profile.bins, x->profile.lo_na, x->profile.bin_na, current[j],
                                x->column.fine ? CIM_FINE_FRAC_BITS : 0)]++;
                    if (trace) {
                        for (int j = 0; j < d->n_convs; ++j) {
                            size_t at = (((size_t)i * tiles_n + tn) * d->n_convs + j) * rows + m;
                            if (trace->current)
                                trace->current[at] = cim_trace_current(&x->column, current[j]);
                            if (trace->adc)
                                trace->adc[at] = adc[j];
                        }
                    }
                }
            }
        }
    }
    free(raw);
    free(currents);
    free(drift);
    return 0;
}

int cim_reference_disturb_counters(const cim_xbar *x, const int8_t *w, int32_t rows, int32_t cols,
                                   int64_t n_mvms, cim_disturb_counters *sum, int64_t *tiles)
{
    const int32_t tiles_m = cim_tiles(rows, x->xbar_m), tiles_n = cim_tiles(cols, x->xbar_n);
    cim_disturb_schedule sched;
    sum->write = sum->refresh_xbar = sum->refresh_cell = sum->cycles = 0;
    *tiles = (int64_t)tiles_m * tiles_n;
    if (!cim_xbar_has_disturb(x) || cim_disturb_schedule_build(&sched, &x->disturb, n_mvms) != 0)
        return -1;
    int rc = 0;
    for (int32_t tm = 0; tm < tiles_m && rc == 0; ++tm) {
        for (int32_t tn = 0; tn < tiles_n && rc == 0; ++tn) {
            cim_disturb_cells cells = {0, 0, 0};
            cim_disturb_counters c;
            for (int32_t m = tm * x->xbar_m; m < rows && m < (tm + 1) * x->xbar_m; ++m)
                for (int32_t n = tn * x->xbar_n; n < cols && n < (tn + 1) * x->xbar_n; ++n)
                    cim_disturb_count_weight(x->mapping, w[(size_t)m * cols + n], &cells);
            if ((rc = cim_disturb_counters_at(&sched, n_mvms, &cells, &c)) == 0) {
                sum->write += c.write;
                sum->refresh_xbar += c.refresh_xbar;
                sum->refresh_cell += c.refresh_cell;
                sum->cycles += c.cycles;
            }
        }
    }
    cim_disturb_schedule_free(&sched);
    return rc;
}
