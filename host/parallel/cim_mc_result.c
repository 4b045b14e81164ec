/* cim_mc_result.c -- see cim_mc_result.h.
 *
 * Header words: magic, config, trial_first, n, rank, seconds (the double's
 * bits), n_layers, n_pred, n_profiles, the block's size. Then correct[n],
 * top5[n], layer_error[n * n_layers], profile_slots[n_profiles], each
 * layer's n * slots counters, predictions[n * n_pred] (int32).
 */
#include "cim_mc_result.h"

#include <stdlib.h>
#include <string.h>

#define RESULT_MAGIC 0x31524D43u /* "CMR1" read little-endian */
#define HEADER_WORDS 10
#define MAX_CHIPS (1 << 20) /* a work item is one chunk of chips (at most 16 today) */
#define MAX_ITEMS ((int64_t)1 << 40)

/* Bytes of the block for n chips of shape s; 0 when absurd. */
static size_t block_size(int64_t n, int64_t n_layers, int64_t n_pred, int64_t n_profiles,
                         const int64_t *slots)
{
    if (n < 1 || n > MAX_CHIPS || n_layers < 0 || n_layers > MAX_ITEMS / n || n_pred < 0 ||
        n_pred > MAX_ITEMS / n || n_profiles < 0 || n_profiles > (1 << 20))
        return 0;
    int64_t words = HEADER_WORDS + 2 * n + n * n_layers + n_profiles;
    for (int64_t c = 0; c < n_profiles; ++c) {
        if (slots[c] < 0 || slots[c] > MAX_ITEMS / n)
            return 0;
        words += n * slots[c];
    }
    if (words > MAX_ITEMS)
        return 0;
    return (size_t)words * 8 + (size_t)(n * n_pred) * sizeof(int32_t);
}

/* The views into r->bytes, from the header words. */
static int make_views(cim_mc_result *r, cim_error *err)
{
    const int64_t *h = (const int64_t *)r->bytes;
    const int64_t n = h[3], n_layers = h[6], n_pred = h[7], n_profiles = h[8];
    unsigned char *p = r->bytes + HEADER_WORDS * 8;
    r->item = (cim_mc_item){h[1], h[2], (int32_t)n};
    r->rank = (int32_t)h[4];
    memcpy(&r->seconds, &h[5], sizeof r->seconds);
    r->chunk = (cim_mc_chunk){.trial_first = h[2], .n = (int32_t)n};
    r->chunk.correct = (const int64_t *)p;
    p += 8 * n;
    r->chunk.top5_correct = (const int64_t *)p;
    p += 8 * n;
    if (n_layers > 0)
        r->chunk.layer_error = (const double *)p;
    p += 8 * n * n_layers;
    const int64_t *slots = (const int64_t *)p;
    p += 8 * n_profiles;
    r->n_profiles = (int32_t)n_profiles;
    if (n_profiles > 0 && !(r->profiles = calloc((size_t)n_profiles, sizeof *r->profiles)))
        return cim_error_set(err, CIM_ERR_NOMEM, "out of memory for a result's profiles");
    for (int64_t c = 0; c < n_profiles; ++c) {
        if (slots[c] > 0)
            r->profiles[c] = (uint64_t *)p;
        p += 8 * n * slots[c];
    }
    if (n_pred > 0)
        r->chunk.predictions = (const int32_t *)p;
    return 0;
}

int cim_mc_result_capture(cim_mc_result *r, const cim_mc_item *it, const cim_mc_result_shape *shape,
                          const cim_mc_chunk *chunk, uint64_t *const *profiles, int32_t rank,
                          double seconds, cim_error *err)
{
    const int64_t n = chunk->n;
    const int64_t n_layers = chunk->layer_error ? shape->n_layers : 0;
    const int64_t n_pred = chunk->predictions ? shape->n_pred : 0;
    const int64_t n_profiles = profiles ? shape->n_profiles : 0;
    const size_t size = block_size(n, n_layers, n_pred, n_profiles, shape->profile_slots);
    memset(r, 0, sizeof *r);
    if (size == 0 || n != it->n)
        return cim_error_set(err, CIM_ERR_INPUT, "a result of %lld chips does not fit its item",
                             (long long)n);
    if (!(r->bytes = malloc(size)))
        return cim_error_set(err, CIM_ERR_NOMEM, "out of memory for a result of %lld chips",
                             (long long)n);
    r->size = size;
    int64_t *h = (int64_t *)r->bytes;
    h[0] = RESULT_MAGIC;
    h[1] = it->config;
    h[2] = it->trial_first;
    h[3] = n;
    h[4] = rank;
    memcpy(&h[5], &seconds, sizeof seconds);
    h[6] = n_layers;
    h[7] = n_pred;
    h[8] = n_profiles;
    h[9] = (int64_t)size;
    unsigned char *p = r->bytes + HEADER_WORDS * 8;
    memcpy(p, chunk->correct, 8 * (size_t)n);
    p += 8 * n;
    memcpy(p, chunk->top5_correct, 8 * (size_t)n);
    p += 8 * n;
    if (n_layers > 0)
        memcpy(p, chunk->layer_error, 8 * (size_t)(n * n_layers));
    p += 8 * n * n_layers;
    if (n_profiles > 0)
        memcpy(p, shape->profile_slots, 8 * (size_t)n_profiles);
    p += 8 * n_profiles;
    for (int64_t c = 0; c < n_profiles; ++c) {
        const int64_t words = n * shape->profile_slots[c];
        if (words > 0)
            memcpy(p, profiles[c], 8 * (size_t)words);
        p += 8 * words;
    }
    if (n_pred > 0)
        memcpy(p, chunk->predictions, sizeof(int32_t) * (size_t)(n * n_pred));
    const int rc = make_views(r, err);
    if (rc != 0)
        cim_mc_result_free(r);
    return rc;
}

int cim_mc_result_adopt(cim_mc_result *r, unsigned char *bytes, size_t size, cim_error *err)
{
    memset(r, 0, sizeof *r);
    r->bytes = bytes;
    r->size = size;
    const int64_t *h = (const int64_t *)bytes;
    /* each count in range before any product of them, then the slot counts
     * (inside the block once its fixed part is) */
    int ok = size >= HEADER_WORDS * 8 && h[0] == RESULT_MAGIC && h[9] == (int64_t)size &&
             h[3] >= 1 && h[3] <= MAX_CHIPS && h[6] >= 0 && h[6] <= MAX_ITEMS / h[3] && h[7] >= 0 &&
             h[7] <= MAX_ITEMS / h[3] && h[8] >= 0 && h[8] <= (1 << 20);
    if (ok) {
        const int64_t slots_at = HEADER_WORDS + 2 * h[3] + h[3] * h[6];
        ok = (size_t)(slots_at + h[8]) * 8 <= size &&
             block_size(h[3], h[6], h[7], h[8], (const int64_t *)(bytes + 8 * slots_at)) == size;
    }
    if (!ok) {
        cim_mc_result_free(r);
        return cim_error_set(err, CIM_ERR_IO,
                             "a malformed result block of %zu bytes (a rank of another byte order "
                             "or build?)",
                             size);
    }
    const int rc = make_views(r, err);
    if (rc != 0)
        cim_mc_result_free(r);
    return rc;
}

int cim_mc_result_fits(const cim_mc_result *r, const cim_mc_result_shape *shape)
{
    const int64_t *h = (const int64_t *)r->bytes;
    if (h[6] != shape->n_layers || h[7] != shape->n_pred || h[8] != shape->n_profiles)
        return 0;
    const int64_t *slots = h + HEADER_WORDS + 2 * h[3] + h[3] * h[6];
    for (int64_t c = 0; c < h[8]; ++c)
        if (slots[c] != shape->profile_slots[c])
            return 0;
    return 1;
}

void cim_mc_result_free(cim_mc_result *r)
{
    if (!r)
        return;
    free(r->bytes);
    free(r->profiles);
    memset(r, 0, sizeof *r);
}
