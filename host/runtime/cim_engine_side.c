/* cim_engine_side.c -- the host-side preparation of an engine call
 * (cim_engine_side.h): side information, entry lists and bit-planes, computed
 * once per call and uploaded by cim_engine.c. Inputs are independent, so the
 * larger loops run in parallel (OpenMP); the results do not depend on it.
 */
#include "cim_engine_side.h"

#include <stdlib.h>

#include "cim_launch.h"
#include "cim_mapping.h"
#include "cim_parallel.h"

/* The weights' part of the side information: tiles, padding, weight sums. */
int cim_side_weights(cim_side_info *si, const cim_mvm_job *job, int vector_width, cim_error *err)
{
    const cim_xbar *x = job->xbar;
    si->tiles_n = cim_tiles(job->cols, x->xbar_n);
    si->rows_pad = (job->rows + vector_width - 1) / vector_width * vector_width;
    si->sumw = calloc((size_t)si->tiles_n * si->rows_pad, sizeof(int32_t));
    if (!si->sumw)
        return cim_error_set(err, CIM_ERR_NOMEM,
                             "engine: out of memory for the weight sums of %d x %d weights",
                             job->rows, job->cols);
    for (int32_t m = 0; m < job->rows; ++m)
        for (int32_t n = 0; n < job->cols; ++n)
            si->sumw[(size_t)(n / x->xbar_n) * si->rows_pad + m] +=
                job->weights[(size_t)m * job->cols + n];
    return 0;
}

int cim_side_init(cim_side_info *si, const cim_mvm_job *job, int vector_width, cim_error *err)
{
    const cim_xbar *x = job->xbar;
    int rc = cim_side_weights(si, job, vector_width, err);
    if (rc != 0)
        return rc;
    si->input_rows = (int64_t)job->n_inputs * (job->inputs_per_trial ? job->n_trials : 1);
    si->tile_s = calloc((size_t)si->input_rows * si->tiles_n, sizeof(int32_t));
    if (!si->tile_s)
        return cim_error_set(err, CIM_ERR_NOMEM,
                             "engine: out of memory for the sums of %lld inputs",
                             (long long)si->input_rows);
#pragma omp parallel for schedule(static) if ((int64_t)(si->input_rows * job->cols) >=             \
                                              CIM_PARALLEL_MIN_WORK)
    for (int64_t i = 0; i < si->input_rows; ++i) {
        const int8_t *in = job->inputs + (size_t)i * job->cols;
        for (int32_t tn = 0; tn < si->tiles_n; ++tn) {
            const int32_t n0 = tn * x->xbar_n;
            const int32_t n1 = n0 + x->xbar_n < job->cols ? n0 + x->xbar_n : job->cols;
            int32_t s = 0;
            for (int32_t n = n0; n < n1; ++n)
                s += in[n];
            si->tile_s[(size_t)i * si->tiles_n + tn] = s;
        }
    }
    return 0;
}

void cim_side_free(cim_side_info *si)
{
    free(si->sumw);
    free(si->tile_s);
}
/* Entry list of cim_launch.h: offsets class(x + 1) * cols * W + n * W of the
 * input positions that drive a row, per input and input tile. */
int cim_side_entries(const cim_mvm_job *job, const cim_side_info *si, int64_t g_block,
                     int32_t **entries, int32_t **entry_start, size_t *n_entries, cim_error *err)
{
    const cim_xbar *x = job->xbar;
    const cim_mapping_desc *d = cim_mapping_desc_of(x->mapping);
    const int64_t plane = (int64_t)job->cols * g_block, rows = si->input_rows;
    int class_of[3];
    for (int v = 0; v < 3; ++v)
        class_of[v] = cim_value_class(d, v);
    *entries = malloc(sizeof(int32_t) * ((size_t)rows * job->cols + 1));
    *entry_start = malloc(sizeof(int32_t) * ((size_t)rows * si->tiles_n + 1));
    if (!*entries || !*entry_start)
        return cim_error_set(err, CIM_ERR_NOMEM,
                             "engine: out of memory for the input lists of %lld inputs",
                             (long long)rows);
    int32_t *start = *entry_start, *list = *entries;
    /* pass 1: how many entries each (input, tile) has; pass 2 (after a
     * prefix sum): write them. Inputs are independent, so both run in
     * parallel. */
#pragma omp parallel for schedule(static) if ((int64_t)(rows * job->cols) >= CIM_PARALLEL_MIN_WORK)
    for (int64_t i = 0; i < rows; ++i) {
        const int8_t *in = job->inputs + (size_t)i * job->cols;
        for (int32_t tn = 0; tn < si->tiles_n; ++tn) {
            const int32_t n1 = (tn + 1) * x->xbar_n < job->cols ? (tn + 1) * x->xbar_n : job->cols;
            int32_t count = 0;
            for (int32_t n = tn * x->xbar_n; n < n1; ++n)
                count += class_of[in[n] + 1] >= 0;
            start[(size_t)i * si->tiles_n + tn] = count;
        }
    }
    size_t total = 0;
    for (size_t k = 0; k < (size_t)rows * si->tiles_n; ++k) {
        const int32_t count = start[k];
        start[k] = (int32_t)total;
        total += (size_t)count;
    }
    start[(size_t)rows * si->tiles_n] = (int32_t)total;
#pragma omp parallel for schedule(static) if ((int64_t)(rows * job->cols) >= CIM_PARALLEL_MIN_WORK)
    for (int64_t i = 0; i < rows; ++i) {
        const int8_t *in = job->inputs + (size_t)i * job->cols;
        int32_t *at = list + start[(size_t)i * si->tiles_n];
        for (int32_t n = 0; n < job->cols; ++n) {
            const int c = class_of[in[n] + 1];
            if (c >= 0)
                *at++ = (int32_t)(c * plane + n * g_block);
        }
    }
    *n_entries = total;
    return 0;
}

/* Bit-planes of cim_read_digital: states [slot][tile][word][rows_pad],
 * drives [input][drive][tile][word]. */
int cim_side_bit_planes(const cim_mvm_job *job, const cim_side_info *si, int64_t wpt,
                        int64_t rows_pad, uint32_t **state_bits, uint32_t **drive_bits,
                        cim_error *err)
{
    const cim_xbar *x = job->xbar;
    const cim_mapping_desc *d = cim_mapping_desc_of(x->mapping);
    const size_t tile_words = (size_t)si->tiles_n * wpt;
    *state_bits = calloc((size_t)d->n_slots * tile_words * rows_pad, sizeof(uint32_t));
    *drive_bits = calloc((size_t)job->n_inputs * d->n_drives * tile_words, sizeof(uint32_t));
    if (!*state_bits || !*drive_bits)
        return cim_error_set(err, CIM_ERR_NOMEM,
                             "engine: out of memory for the bit-planes of %d inputs",
                             job->n_inputs);
    uint32_t *states = *state_bits, *drives = *drive_bits;
#pragma omp parallel for schedule(static) if ((int64_t)((int64_t)job->rows * job->cols) >=         \
                                              CIM_PARALLEL_MIN_WORK)
    for (int32_t m = 0; m < job->rows; ++m) {
        for (int32_t n = 0; n < job->cols; ++n) {
            const size_t word =
                (size_t)(n / x->xbar_n) * wpt + (size_t)(n % x->xbar_n) / CIM_BITS_PER_WORD;
            const uint32_t bit = 1u << ((n % x->xbar_n) % CIM_BITS_PER_WORD);
            const int w = job->weights[(size_t)m * job->cols + n];
            for (int s = 0; s < d->n_slots; ++s)
                if (d->slot_state[s][w + 1] > 0)
                    states[((size_t)s * tile_words + word) * rows_pad + m] |= bit;
        }
    }
    /* drive bit of every value, per drive vector: one table lookup per input */
    uint32_t drive_of[CIM_MAX_DRIVES][3];
    for (int dv = 0; dv < d->n_drives; ++dv)
        for (int v = 0; v < 3; ++v)
            drive_of[dv][v] = d->drive[dv][v] ? 1u : 0u;
#pragma omp parallel for schedule(static) if ((int64_t)((int64_t)job->n_inputs * job->cols) >=     \
                                              CIM_PARALLEL_MIN_WORK)
    for (int32_t i = 0; i < job->n_inputs; ++i) {
        const int8_t *in = job->inputs + (size_t)i * job->cols;
        for (int32_t tn = 0; tn < si->tiles_n; ++tn) {
            for (int64_t wd = 0; wd < wpt; ++wd) {
                const int32_t n0 = tn * x->xbar_n + (int32_t)wd * CIM_BITS_PER_WORD;
                const int32_t n1_tile =
                    (tn + 1) * x->xbar_n < job->cols ? (tn + 1) * x->xbar_n : job->cols;
                const int32_t n1 =
                    n0 + CIM_BITS_PER_WORD < n1_tile ? n0 + CIM_BITS_PER_WORD : n1_tile;
                for (int dv = 0; dv < d->n_drives; ++dv) {
                    uint32_t word = 0;
                    for (int32_t n = n0; n < n1; ++n)
                        word |= drive_of[dv][in[n] + 1] << (n - n0);
                    drives[((size_t)i * d->n_drives + dv) * tile_words + (size_t)tn * wpt + wd] =
                        word;
                }
            }
        }
    }
    return 0;
}
