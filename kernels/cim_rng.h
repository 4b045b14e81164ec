/* cim_rng.h -- the keyed random streams of a simulation (DESIGN.md §4).
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
 */
#ifndef CIM_RNG_H
#define CIM_RNG_H

#include "cim_portable.h"
#include <Random123/philox.h>
#include "cim_gauss.h"

/* Purposes: one stream family each; new physics adds a new purpose. */
#define CIM_RNG_D2D 1u /* device-to-device: per trial, tile, cell */
#define CIM_RNG_C2C 2u /* cycle-to-cycle: per trial, tile, input, cell */

#define CIM_RNG_MAX_LAYERS 4096u
#define CIM_RNG_MAX_TILES 65536u

CIM_INLINE philox4x32_ctr_t cim_rng_block(uint64_t seed, uint32_t purpose, uint32_t layer,
                                          uint32_t tile, uint32_t trial, uint32_t input,
                                          uint32_t cell)
{
    philox4x32_key_t k;
    philox4x32_ctr_t c;
    k.v[0] = (uint32_t)(seed & 0xffffffffu);
    k.v[1] = (uint32_t)(seed >> 32);
    c.v[0] = cell;
    c.v[1] = trial;
    c.v[2] = (tile << 16) | (layer << 4) | purpose;
    c.v[3] = input;
    return philox4x32(c, k);
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
