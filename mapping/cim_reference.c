/* cim_reference.c -- the reference MVM, written for clarity, not speed.
 *
 * For every tile (SEMANTICS.md): program its cells for this trial (nominal
 * current of the cell's state plus its D2D deviation), then for every input
 * vector read it: each cell current gets a fresh C2C deviation, shared by all
 * reads of that input, and is clipped at zero; each conversion sums its terms
 * into a column current; cim_column_result() applies ADC and recombination;
 * the tile results of one output are added as integers.
 *
 * Random draws come from cim_rng.h keyed by (seed, layer, tile, trial, input,
 * cell), exactly as the kernels key them.
 */
#include "cim_reference.h"

#include <stdlib.h>
#include <string.h>

#include "cim_mapping.h"
#include "cim_rng.h"

static int32_t clip_zero(int32_t c)
{
    return c < 0 ? 0 : c;
}

void cim_reference_program_tile(const cim_xbar *x, const int8_t *w, int32_t rows, int32_t cols,
                                int32_t tile, int32_t m0, int32_t n0, uint32_t trial, int32_t *raw)
{
    const cim_mapping_desc *d = cim_mapping_desc_of(x->mapping);
    const int digital = (int)x->column.digital;
    const int d2d = cim_xbar_has_d2d(x);
    const size_t plane = (size_t)x->xbar_m * x->xbar_n;
    memset(raw, 0, sizeof(int32_t) * plane * d->n_slots);
    for (int32_t m = m0; m < rows && m < m0 + x->xbar_m; ++m) {
        for (int32_t n = n0; n < cols && n < n0 + x->xbar_n; ++n) {
            uint32_t cell = (uint32_t)((m - m0) * x->xbar_n + (n - n0));
            int wv = w[(size_t)m * cols + n];
            int32_t z[4] = {0, 0, 0, 0};
            if (d2d)
                cim_rng_normals4(x->seed, CIM_RNG_D2D, x->layer, (uint32_t)tile, trial, 0, cell, z);
            for (int s = 0; s < d->n_slots; ++s) {
                int state = cim_mapping_cell_state(x->mapping, s, wv);
                int32_t c = digital ? state : x->current_na[state];
                if (d2d)
                    c += cim_scale_deviate(x->d2d_sigma_na[state], z[s]);
                raw[s * plane + cell] = c;
            }
        }
    }
}

/* Column currents of every conversion of output m in one tile for input xin. */
static void read_column(const cim_xbar *x, const int8_t *w, int32_t cols, const int32_t *raw,
                        int32_t tile, int32_t m0, int32_t n0, int32_t n_used, int32_t m,
                        const int8_t *xin, uint32_t input, uint32_t trial, int32_t *current)
{
    const cim_mapping_desc *d = cim_mapping_desc_of(x->mapping);
    const int c2c = cim_xbar_has_c2c(x);
    const size_t plane = (size_t)x->xbar_m * x->xbar_n;
    for (int j = 0; j < d->n_convs; ++j)
        current[j] = 0;
    for (int32_t n = n0; n < n0 + n_used; ++n) {
        uint32_t cell = (uint32_t)((m - m0) * x->xbar_n + (n - n0));
        int wv = w[(size_t)m * cols + n];
        int xv = xin[n];
        int32_t c[CIM_MAX_SLOTS];
        int32_t z[4] = {0, 0, 0, 0};
        if (c2c)
            cim_rng_normals4(x->seed, CIM_RNG_C2C, x->layer, (uint32_t)tile, trial, input, cell, z);
        for (int s = 0; s < d->n_slots; ++s) {
            int32_t v = raw[s * plane + cell];
            if (c2c)
                v += cim_scale_deviate(x->c2c_sigma_na[cim_mapping_cell_state(x->mapping, s, wv)],
                                       z[s]);
            c[s] = clip_zero(v);
        }
        for (int j = 0; j < d->n_convs; ++j) {
            const cim_conv *cv = &d->conv[j];
            for (int t = 0; t < cv->n_terms; ++t)
                if (cim_mapping_drive(x->mapping, cv->terms[t].drive, xv))
                    current[j] += cv->terms[t].sign * c[cv->terms[t].slot];
        }
    }
}

int cim_reference_mvm(const cim_xbar *x, const int8_t *w, int32_t rows, int32_t cols,
                      const int8_t *in, int32_t n_inputs, uint32_t input_first, uint32_t trial,
                      int32_t *out, const cim_mvm_trace *trace)
{
    const cim_mapping_desc *d = cim_mapping_desc_of(x->mapping);
    const int32_t tiles_m = cim_tiles(rows, x->xbar_m), tiles_n = cim_tiles(cols, x->xbar_n);
    int32_t *raw = malloc(sizeof(int32_t) * (size_t)x->xbar_m * x->xbar_n * d->n_slots);
    if (!raw)
        return -1;
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
                for (int32_t m = m0; m < rows && m < m0 + x->xbar_m; ++m) {
                    int32_t current[CIM_MAX_CONVS];
                    int64_t adc[CIM_MAX_CONVS];
                    int32_t sumw = 0;
                    for (int32_t n = n0; n < n0 + n_used; ++n)
                        sumw += w[(size_t)m * cols + n];
                    read_column(x, w, cols, raw, tile, m0, n0, n_used, m, xin,
                                input_first + (uint32_t)i, trial, current);
                    out[(size_t)i * rows + m] +=
                        cim_column_result(&x->column, current, s, n_used, sumw, NULL, adc);
                    if (trace) {
                        for (int j = 0; j < d->n_convs; ++j) {
                            size_t at = (((size_t)i * tiles_n + tn) * d->n_convs + j) * rows + m;
                            if (trace->current)
                                trace->current[at] = current[j];
                            if (trace->adc)
                                trace->adc[at] = adc[j];
                        }
                    }
                }
            }
        }
    }
    free(raw);
    return 0;
}
