/* cim_engine_side.c -- the host-side preparation of an engine call
 * (cim_engine_side.h): side information, entry lists and bit-planes, computed
 * once per call and uploaded by cim_engine.c. Inputs are independent, so the
 * larger loops run in parallel (OpenMP); the results do not depend on it.
 */
#include "cim_engine_side.h"

#include <stdlib.h>
#include <string.h>

#include "cim_input_chain.h"
#include "cim_launch.h"
#include "cim_mapping.h"
#include "cim_parallel.h"

/* The weights' part of the side information: tiles, padding, weight sums. */
int cim_side_weights(cim_side_info *si, const cim_mvm_job *job, int vector_width, cim_error *err)
{
    const cim_xbar *x = job->xbar;
    si->tiles_n = cim_tiles(job->cols, x->xbar_n);
    si->rows_pad = cim_side_rows_pad(job->rows, vector_width);
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

void cim_side_free(cim_side_info *si)
{
    free(si->sumw);
}

/* One list row's tiles: with `list`, the entries of input `in` from
 * list[*at] on (the cursor advances past them) and their ranges -- every
 * driving position when `prev` is NULL, else the difference from input
 * `prev`: the positions whose class differs, first the terms `in` adds, then
 * those `prev` drove (cim_input_chain.h). No branch on the values: every
 * position is written, the cursor moves only past those that count. */
static void row_lists(const int8_t *in, const int8_t *prev, int32_t cols, int32_t xbar_n,
                      int32_t tiles_n, const int *class_of, int64_t plane, int64_t g_block,
                      int32_t *list, int32_t *range, int64_t *at)
{
    int64_t k = *at;
    for (int32_t tn = 0; tn < tiles_n; ++tn) {
        const int32_t n0 = tn * xbar_n, n1 = n0 + xbar_n < cols ? n0 + xbar_n : cols;
        range[3 * tn] = (int32_t)k;
        if (!prev) {
            for (int32_t n = n0; n < n1; ++n) {
                const int c = class_of[in[n] + 1];
                list[k] = (int32_t)(c * plane + n * g_block);
                k += c >= 0;
            }
            range[3 * tn + 1] = (int32_t)k;
        } else {
            for (int32_t n = n0; n < n1; ++n) {
                const int c = class_of[in[n] + 1], cp = class_of[prev[n] + 1];
                list[k] = (int32_t)(c * plane + n * g_block);
                k += c >= 0 && c != cp;
            }
            range[3 * tn + 1] = (int32_t)k;
            for (int32_t n = n0; n < n1; ++n) {
                const int c = class_of[in[n] + 1], cp = class_of[prev[n] + 1];
                list[k] = (int32_t)(cp * plane + n * g_block);
                k += cp >= 0 && c != cp;
            }
        }
        range[3 * tn + 2] = (int32_t)k;
    }
    *at = k;
}

/* The input sums of one input's tiles. */
static void row_sums(const int8_t *in, int32_t cols, int32_t xbar_n, int32_t tiles_n,
                     int32_t *tile_s)
{
    for (int32_t tn = 0; tn < tiles_n; ++tn) {
        const int32_t n0 = tn * xbar_n, n1 = n0 + xbar_n < cols ? n0 + xbar_n : cols;
        int32_t s = 0;
        for (int32_t n = n0; n < n1; ++n)
            s += in[n];
        tile_s[tn] = s;
    }
}

int cim_side_lists_build(const cim_mvm_job *job, int32_t tiles_n, int64_t g_block, int entries,
                         const cim_input_chain *chain, cim_side_lists *l, cim_error *err)
{
    const cim_xbar *x = job->xbar;
    const cim_mapping_desc *d = cim_mapping_desc_of(x->mapping);
    const int64_t rows = (int64_t)job->n_inputs * (job->inputs_per_trial ? job->n_trials : 1);
    const int64_t plane = (int64_t)job->cols * g_block;
    /* a row lists at most all its positions, or with a chain the positions of two inputs */
    const int64_t row_room = (int64_t)job->cols * (chain ? 2 : 1);
    int class_of[3];
    for (int v = 0; v < 3; ++v)
        class_of[v] = cim_value_class(d, v);
    memset(l, 0, sizeof *l);
    l->input_rows = rows;
    l->tile_s = malloc(sizeof(int32_t) * (size_t)rows * (size_t)tiles_n);
    if (entries) {
        /* row i's lists start at or after i * row_room, so rows in different
         * threads never overlap */
        l->entries = malloc(sizeof(int32_t) * ((size_t)rows * (size_t)row_room + 1));
        l->entry_range = malloc(sizeof(int32_t) * 3 * (size_t)rows * (size_t)tiles_n);
    }
    if (!l->tile_s || (entries && (!l->entries || !l->entry_range))) {
        cim_side_lists_free(l);
        return cim_error_set(err, CIM_ERR_NOMEM,
                             "engine: out of memory for the input lists of %lld inputs",
                             (long long)rows);
    }
    int64_t used = 0, terms = 0;
#pragma omp parallel reduction(max : used) reduction(+ : terms) if (rows * job->cols >= CIM_PARALLEL_MIN_WORK)
    {
        const int threads = cim_parallel_threads(), me = cim_parallel_thread();
        const int64_t r0 = rows * me / threads, r1 = rows * (me + 1) / threads;
        int64_t at = r0 * row_room;
        for (int64_t i = r0; i < r1; ++i) {
            row_sums(job->inputs + (size_t)i * job->cols, job->cols, x->xbar_n, tiles_n,
                     l->tile_s + i * tiles_n);
            if (!entries)
                continue;
            /* list row i: input i, or chain position i */
            const int64_t in = chain ? chain->link[2 * i] : i;
            const int64_t prev = chain && !chain->link[2 * i + 1] ? chain->link[2 * (i - 1)] : -1;
            row_lists(job->inputs + (size_t)in * job->cols,
                      prev >= 0 ? job->inputs + (size_t)prev * job->cols : NULL, job->cols,
                      x->xbar_n, tiles_n, class_of, plane, g_block, l->entries,
                      l->entry_range + 3 * i * tiles_n, &at);
            terms += l->entry_range[3 * (i + 1) * tiles_n - 1] - l->entry_range[3 * i * tiles_n];
        }
        /* the gap up to the next thread's rows holds no entry: zeros, so
         * that nothing uninitialised is uploaded */
        if (entries && me + 1 < threads)
            memset(l->entries + at, 0, sizeof(int32_t) * (size_t)(r1 * row_room - at));
        used = at;
    }
    l->n_entries = (size_t)used;
    l->terms = terms;
    return 0;
}

void cim_side_lists_free(cim_side_lists *l)
{
    free(l->tile_s);
    free(l->entries);
    free(l->entry_range);
    memset(l, 0, sizeof *l);
}

/* The cell bit-planes of cim_read_digital: states [slot][tile][word][rows_pad]. */
int cim_side_state_planes(const cim_mvm_job *job, const cim_side_info *si, int64_t wpt,
                          int64_t rows_pad, uint32_t **state_bits, cim_error *err)
{
    const cim_xbar *x = job->xbar;
    const cim_mapping_desc *d = cim_mapping_desc_of(x->mapping);
    const size_t tile_words = (size_t)si->tiles_n * wpt;
    *state_bits = calloc((size_t)d->n_slots * tile_words * rows_pad, sizeof(uint32_t));
    if (!*state_bits)
        return cim_error_set(err, CIM_ERR_NOMEM,
                             "engine: out of memory for the bit-planes of %d x %d weights",
                             job->rows, job->cols);
    uint32_t *states = *state_bits;
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
    return 0;
}
