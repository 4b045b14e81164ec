/* cim_cells.h -- the cells of one weight: how they are programmed and what
 * they add to the column currents of a read.
 *
 * The programming step and the term sum of the read step, written once for
 * the host reference (mapping/cim_reference.c) and the kernels
 * (cim_kernels.cl; cim_network.cl reads their sums through g), each as a
 * CIM_DEFINE_*(name, K) over a lane kind K (cim_lanes.h). The scalar
 * instances below serve the reference and the scalar kernels; the kernels'
 * CIM_VW-lane instances are made in cim_lanes.cl.
 *
 * A weight w in {-1, 0, +1} occupies CIM_MAX_SLOTS cell slots (n_slots of
 * them used, cim_mappings.h); every function fills all CIM_MAX_SLOTS, an
 * unused slot as an HRS cell, so that lane code has fixed trip counts.
 */
#ifndef CIM_CELLS_H
#define CIM_CELLS_H

#include "cim_portable.h"
#include "cim_lanes.h"
#include "cim_units.h"
#include "cim_mappings.h"

/* name(d, wv, nominal_hrs, nominal_lrs, sigma_hrs, sigma_lrs, z, c): the
 * programmed currents c[s] of the cells of weight wv (lane kind K) under
 * mapping d -- the nominal current of each slot's state (slot_state) plus its
 * D2D deviation, sigma of that state times the slot's Q24 deviate z[s]
 * (cim_scale_deviate) -- not clipped: where a path clips at zero is the
 * path's own choice (g at programming, the per-cell path after the read
 * deviation). SCALE(sigma, z) is cim_scale_deviate for kind K. A sigma or
 * a z of 0 adds exactly 0. The digital reference passes nominal currents 0
 * and 1, the state bit itself.
 *
 * Future stuck-at faults plug in here: one more per-cell, per-trial draw
 * (a new purpose of cim_rng.h, like D2D) that overrides `state` below for the
 * cells it hits, before the nominal current and the deviation are chosen. */
#define CIM_DEFINE_PROGRAM_CELLS(name, K, SCALE)                                                   \
    CIM_INLINE void name(CIM_CONSTANT_PTR cim_mapping_desc *d, CIM_##K##_INT wv,                   \
                         int32_t nominal_hrs, int32_t nominal_lrs, int32_t sigma_hrs,              \
                         int32_t sigma_lrs, const CIM_##K##_INT *z, CIM_##K##_INT *c)              \
    {                                                                                              \
        CIM_UNROLL for (int s = 0; s < CIM_MAX_SLOTS; ++s)                                         \
        {                                                                                          \
            /* state of slot s for each lane's weight; unused slots (-1) read as HRS */            \
            const int32_t sm = d->slot_state[s][0], s0 = d->slot_state[s][1];                      \
            const int32_t sp = d->slot_state[s][2];                                                \
            const CIM_##K##_INT state =                                                            \
                wv < 0 ? (CIM_##K##_INT)sm : (wv == 0 ? (CIM_##K##_INT)s0 : (CIM_##K##_INT)sp);    \
            const CIM_##K##_INT nominal = state == (CIM_##K##_INT)1 ? (CIM_##K##_INT)nominal_lrs   \
                                                                    : (CIM_##K##_INT)nominal_hrs;  \
            const CIM_##K##_INT sigma =                                                            \
                state == (CIM_##K##_INT)1 ? (CIM_##K##_INT)sigma_lrs : (CIM_##K##_INT)sigma_hrs;   \
            c[s] = nominal + SCALE(sigma, z[s]);                                                   \
        }                                                                                          \
    }

/* name(d, j, v, c): the column current that cell currents c[0..3] (lane kind
 * K) of one weight add to conversion j of mapping d when the weight's row is
 * driven by input class v (input x = v - 1): sum over the conversion's terms
 * of sign * drive[term's drive][v] * c[term's slot]. Unused terms have sign
 * 0. The slot is the same for every lane, so c is not indexed dynamically
 * (which would keep it out of registers). A column model other than a plain
 * sum of these (bit-line IR drop) replaces the caller's sum over rows, not
 * this per-weight term sum. */
#define CIM_DEFINE_CONV_CURRENT(name, K)                                                           \
    CIM_INLINE CIM_##K##_INT name(CIM_CONSTANT_PTR cim_mapping_desc *d, int j, int v,              \
                                  const CIM_##K##_INT *c)                                          \
    {                                                                                              \
        CIM_##K##_INT current = 0;                                                                 \
        CIM_UNROLL for (int t = 0; t < CIM_MAX_TERMS; ++t)                                         \
        {                                                                                          \
            CIM_CONSTANT_PTR cim_term *tm = &d->conv[j].terms[t];                                  \
            current +=                                                                             \
                (CIM_##K##_INT)(tm->sign * d->drive[tm->drive][v]) * (tm->slot == 0   ? c[0]       \
                                                                      : tm->slot == 1 ? c[1]       \
                                                                      : tm->slot == 2 ? c[2]       \
                                                                                      : c[3]);     \
        }                                                                                          \
        return current;                                                                            \
    }

/* The per-cell path's read of weight wv's cells (scalar; the reference and
 * cim_read_c2c): each used slot's programmed current programmed[s] plus its
 * C2C deviation (sigma of the slot's state times the Q24 deviate z[s]),
 * clipped at zero, into c[s]. Read disturb changes the programmed currents
 * between reads, never this. */
CIM_INLINE void cim_read_cells(CIM_CONSTANT_PTR cim_mapping_desc *d, int wv,
                               const int32_t *programmed, int32_t sigma_hrs, int32_t sigma_lrs,
                               const int32_t *z, int32_t *c)
{
    for (int s = 0; s < d->n_slots; ++s) {
        const int32_t sigma = d->slot_state[s][wv + 1] == 1 ? sigma_lrs : sigma_hrs;
        const int32_t cur = programmed[s] + cim_scale_deviate(sigma, z[s]);
        c[s] = cur < 0 ? 0 : cur;
    }
}

CIM_DEFINE_PROGRAM_CELLS(cim_program_cells, S, cim_scale_deviate)
CIM_DEFINE_CONV_CURRENT(cim_conv_current, S)

#endif /* CIM_CELLS_H */
