/* cim_input_chain.c -- the planned order of a read's shared inputs
 * (cim_input_chain.h). Each block of CIM_CHAIN_BLOCK inputs is planned on its
 * own from bit masks of the positions of each value class, so blocks run in
 * parallel and the plan does not depend on the thread count.
 */
#include "cim_input_chain.h"

#include <stdlib.h>
#include <string.h>

#include "cim_launch.h"
#include "cim_parallel.h"

/* Bits set in w (no popcount instruction is assumed of the host). */
static inline int popcount64(uint64_t w)
{
    w = w - ((w >> 1) & 0x5555555555555555ull);
    w = (w & 0x3333333333333333ull) + ((w >> 2) & 0x3333333333333333ull);
    w = (w + (w >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (int)((w * 0x0101010101010101ull) >> 56);
}

int64_t cim_input_chain_cost(const int8_t *a, const int8_t *b, int32_t cols, const int class_of[3])
{
    int64_t cost = 0;
    for (int32_t n = 0; n < cols; ++n) {
        const int cb = class_of[b[n] + 1], ca = a ? class_of[a[n] + 1] : -1;
        if (ca != cb)
            cost += (cb >= 0) + (ca >= 0);
    }
    return cost;
}

/* Distance of two inputs' masks (stride words each): the terms of the
 * difference. */
static inline int mask_distance(const uint64_t *a, const uint64_t *b, int words)
{
    int d = 0;
    for (int w = 0; w < words; ++w)
        d += popcount64(a[w] ^ b[w]);
    return d;
}

/* One block: inputs first..first+len-1, chain positions first.. on. */
static void plan_block(const int8_t *inputs, int32_t cols, const int class_of[3], int32_t group,
                       int32_t first, int32_t len, uint64_t *masks, int32_t *pool, int32_t *link,
                       int64_t *terms)
{
    const int wpc = (cols + 63) / 64, stride = CIM_VALUE_CLASSES * wpc;
    memset(masks, 0, sizeof(uint64_t) * (size_t)stride * (size_t)len);
    int best = 0, best_own = -1;
    for (int32_t j = 0; j < len; ++j) {
        const int8_t *x = inputs + (size_t)(first + j) * (size_t)cols;
        uint64_t *mj = masks + (size_t)j * stride;
        int own = 0;
        for (int32_t n = 0; n < cols; ++n) {
            const int c = class_of[x[n] + 1];
            if (c >= 0) {
                mj[c * wpc + n / 64] |= 1ull << (n % 64);
                ++own;
            }
        }
        pool[j] = j;
        if (best_own < 0 || own < best_own) { /* the walk starts at the fewest terms */
            best_own = own;
            best = j;
        }
    }
    int32_t left = len, cur = -1;
    int64_t t = 0;
    for (int32_t p = 0; p < len; ++p) {
        int32_t at = 0;
        int dist = -1;
        if (cur < 0) {
            for (at = 0; pool[at] != best; ++at)
                ;
        } else {
            const uint64_t *mc = masks + (size_t)cur * stride;
            for (int32_t q = 0; q < left && dist != 0; ++q) {
                const int dq = mask_distance(mc, masks + (size_t)pool[q] * stride, stride);
                if (dist < 0 || dq < dist) {
                    dist = dq;
                    at = q;
                }
            }
        }
        const int32_t next = pool[at];
        pool[at] = pool[--left];
        const int own = mask_distance(masks + (size_t)next * stride, masks + (size_t)len * stride,
                                      stride); /* against the zero mask past the block */
        const int restart = cur < 0 || (first + p) % group == 0 || own <= dist;
        link[2 * (first + p)] = first + next;
        link[2 * (first + p) + 1] = restart;
        t += restart ? own : dist;
        cur = next;
    }
    *terms += t;
}

int cim_input_chain_plan(const int8_t *inputs, int32_t n_inputs, int32_t cols,
                         const int class_of[3], int32_t group, cim_input_chain *c, cim_error *err)
{
    const int wpc = (cols + 63) / 64, stride = CIM_VALUE_CLASSES * wpc;
    memset(c, 0, sizeof *c);
    c->n_inputs = n_inputs;
    c->group = group;
    c->link = malloc(sizeof(int32_t) * 2 * (size_t)(n_inputs > 0 ? n_inputs : 1));
    if (!c->link)
        return cim_error_set(err, CIM_ERR_NOMEM,
                             "engine: out of memory for the input chain of %d inputs", n_inputs);
    const int32_t blocks = (n_inputs + CIM_CHAIN_BLOCK - 1) / CIM_CHAIN_BLOCK;
    int failed = 0;
    int64_t terms = 0;
#pragma omp parallel reduction(+ : terms) reduction(| : failed) if (blocks > 1)
    {
        /* a block's masks, one zero mask after them, and its pool of inputs */
        uint64_t *masks = malloc(sizeof(uint64_t) * (size_t)stride * (CIM_CHAIN_BLOCK + 1));
        int32_t *pool = malloc(sizeof(int32_t) * CIM_CHAIN_BLOCK);
        if (!masks || !pool)
            failed = 1;
#pragma omp for schedule(dynamic, 1)
        for (int32_t k = 0; k < blocks; ++k) {
            const int32_t first = k * CIM_CHAIN_BLOCK;
            const int32_t len =
                n_inputs - first < CIM_CHAIN_BLOCK ? n_inputs - first : CIM_CHAIN_BLOCK;
            if (masks && pool) {
                memset(masks + (size_t)stride * (size_t)len, 0, sizeof(uint64_t) * stride);
                plan_block(inputs, cols, class_of, group, first, len, masks, pool, c->link, &terms);
            }
        }
        free(masks);
        free(pool);
    }
    c->terms = terms;
    if (failed) {
        cim_input_chain_free(c);
        return cim_error_set(err, CIM_ERR_NOMEM,
                             "engine: out of memory for the input chain of %d inputs", n_inputs);
    }
    return 0;
}

void cim_input_chain_free(cim_input_chain *c)
{
    free(c->link);
    memset(c, 0, sizeof *c);
}
