/* cim_rng.h -- the keyed random streams of a simulation (docs/design.md §2).
 *
 * Every random draw is Philox4x32-10 (Random123) of a counter built from the
 * draw's logical coordinates, never from work-item ids, so a draw is the same
 * for any launch shape, batch size or device, and the host reference makes it
 * identically:
 *
 *   key     = { seed bits 0..31, seed bits 32..63 }
 *   counter = { cell, trial, tile << 16 | layer << 4 | purpose, input }
 *
 * `cell` is the weight's index inside its tile, (m - m0) * N_xbar + (n - n0),
 * with N_xbar the crossbar's row count from the config, so it does not depend
 * on the matrix shape. One Philox block yields four words, i.e. four normal
 * deviates: one per physical cell slot of the weight (a mapping has at most
 * CIM_MAX_SLOTS = 4 cells per weight). `input` is the index of the input
 * vector (or image) for per-read draws, 0 for per-trial draws.
 * Limits: layer < 4096, tile < 65536, purpose < 16.
 *
 * The C2C column law (CIM_RNG_C2C_COLUMN, cim_c2c_column.h) draws per
 * column read instead of per cell: `cell` is then the output column's index
 * inside its tile, m - m0, `input` the read's MVM index (the C2C input key),
 * and word k of the block is the deviate of the read's cell group k.
 *
 * The counter layout is written once (CIM_RNG_COUNTER) and Philox4x32-10 once
 * (CIM_DEFINE_PHILOX, with Random123's multipliers and Weyl constants), both
 * over a lane kind (cim_lanes.h): the scalar instances below serve the host
 * reference and the scalar kernels, the CIM_VW-lane instance the vector
 * kernels (cim_lanes.cl). tests/test_rng.c checks the scalar instance against
 * Random123's own philox4x32 and its known answers.
 *
 * Stuck-at faults (CIM_RNG_SAF) are one more per-trial, per-cell draw keyed
 * like D2D: word s of a weight's block decides whether its slot-s cell is
 * stuck (cim_cells.h), so turning faults on changes no D2D draw. Measured
 * device distributions (cim_cdf.h) read the D2D and C2C words themselves
 * (cim_rng_words4) instead of their normal deviates.
 */
#ifndef CIM_RNG_H
#define CIM_RNG_H

#include "cim_portable.h"
#include <Random123/philox.h>
#include "cim_lanes.h"
#include "cim_gauss.h"

/* Purposes: one stream family each; new physics adds a new purpose. */
#define CIM_RNG_D2D 1u        /* device-to-device: per trial, tile, cell */
#define CIM_RNG_C2C 2u        /* cycle-to-cycle: per trial, tile, input, cell */
#define CIM_RNG_SAF 3u        /* stuck-at faults: per trial, tile, cell (input 0) */
#define CIM_RNG_REFRESH 4u    /* read disturb: a refresh's fresh D2D draw; input = refresh number */
#define CIM_RNG_C2C_COLUMN 5u /* C2C column law: per trial, tile, input, column (cell = m - m0) */

#define CIM_RNG_MAX_LAYERS 4096u
#define CIM_RNG_MAX_TILES 65536u
#define CIM_RNG_ROUNDS 10

/* The counter of a draw (layout above) into c[0..3]: cell, tile (lane-wise
 * or scalar) and trial, input (scalar, broadcast to every lane). */
#define CIM_RNG_COUNTER(c, cell, trial, tile, layer, purpose, input)                               \
    do {                                                                                           \
        (c)[0] = (cell);                                                                           \
        (c)[1] = (trial);                                                                          \
        (c)[2] = ((tile) << 16) | (((uint32_t)(layer) << 4) | (uint32_t)(purpose));                \
        (c)[3] = (input);                                                                          \
    } while (0)

/* name(c, k0, k1): Philox4x32 with CIM_RNG_ROUNDS rounds of counters c[0..3]
 * (lane kind K) under the key (k0, k1), in place. One round is Random123's
 * _philox4x32round; the key is bumped by the Weyl constants between rounds. */
#define CIM_DEFINE_PHILOX(name, K)                                                                 \
    CIM_INLINE void name(CIM_##K##_UINT *c, uint32_t k0, uint32_t k1)                              \
    {                                                                                              \
        CIM_UNROLL for (int r = 0; r < CIM_RNG_ROUNDS; ++r)                                        \
        {                                                                                          \
            if (r > 0) {                                                                           \
                k0 += PHILOX_W32_0;                                                                \
                k1 += PHILOX_W32_1;                                                                \
            }                                                                                      \
            const CIM_##K##_UINT hi0 = CIM_##K##_MULHI((CIM_##K##_UINT)PHILOX_M4x32_0, c[0]);      \
            const CIM_##K##_UINT lo0 = (CIM_##K##_UINT)PHILOX_M4x32_0 * c[0];                      \
            const CIM_##K##_UINT hi1 = CIM_##K##_MULHI((CIM_##K##_UINT)PHILOX_M4x32_1, c[2]);      \
            const CIM_##K##_UINT lo1 = (CIM_##K##_UINT)PHILOX_M4x32_1 * c[2];                      \
            c[0] = hi1 ^ c[1] ^ k0;                                                                \
            c[1] = lo1;                                                                            \
            c[2] = hi0 ^ c[3] ^ k1;                                                                \
            c[3] = lo0;                                                                            \
        }                                                                                          \
    }

CIM_DEFINE_PHILOX(cim_philox4x32_10, S)

CIM_INLINE philox4x32_ctr_t cim_rng_block(uint64_t seed, uint32_t purpose, uint32_t layer,
                                          uint32_t tile, uint32_t trial, uint32_t input,
                                          uint32_t cell)
{
    philox4x32_ctr_t c;
    CIM_RNG_COUNTER(c.v, cell, trial, tile, layer, purpose, input);
    cim_philox4x32_10(c.v, (uint32_t)(seed & 0xffffffffu), (uint32_t)(seed >> 32));
    return c;
}

/* The four 32-bit words of one block: one per cell slot of a weight. */
CIM_INLINE void cim_rng_words4(uint64_t seed, uint32_t purpose, uint32_t layer, uint32_t tile,
                               uint32_t trial, uint32_t input, uint32_t cell, uint32_t u[4])
{
    philox4x32_ctr_t r = cim_rng_block(seed, purpose, layer, tile, trial, input, cell);
    for (int s = 0; s < 4; ++s)
        u[s] = r.v[s];
}

/* Four Q24 standard normal deviates for the four cell slots of one weight. */
CIM_INLINE void cim_rng_normals4(uint64_t seed, uint32_t purpose, uint32_t layer, uint32_t tile,
                                 uint32_t trial, uint32_t input, uint32_t cell, int32_t z[4])
{
    philox4x32_ctr_t r = cim_rng_block(seed, purpose, layer, tile, trial, input, cell);
    z[0] = cim_gauss_q24(r.v[0]);
    z[1] = cim_gauss_q24(r.v[1]);
    z[2] = cim_gauss_q24(r.v[2]);
    z[3] = cim_gauss_q24(r.v[3]);
}

#endif /* CIM_RNG_H */
