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
 * Stuck-at faults and measured device distributions live in the programming
 * step (cim_cell_state, the table branch of CIM_DEFINE_PROGRAM_CELLS) and in
 * the per-cell read (cim_read_cells), so every path -- the reference, g,
 * the per-cell path, the network chips -- shares them.
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
#include "cim_gauss.h"
#include "cim_cdf.h"
#include "cim_drift.h"
#include "cim_rng.h"

/* What the programming and read steps need to know about the cells of a
 * crossbar, resolved to integers (the reference fills it from cim_xbar, the
 * kernels from the launch parameters):
 *   nominal[state]    nA; the digital mode's cells are 0 and 1, the state bit
 *   d2d_sigma, c2c_sigma[state]   Gaussian sigmas, nA (0: no deviation)
 *   saf_below[2]      stuck-at faults: a cell whose SAF word u (cim_rng.h)
 *                     has u < saf_below[0] is stuck at HRS, else one with
 *                     u < saf_below[1] at LRS; bounds in 0..2^32 (0, 0: none)
 *   d2d_cdf, c2c_cdf  1: the cim_cdf_set tables replace the Gaussian model
 *                     for the states that have one (cim_cdf.h) */
typedef struct cim_cell_model {
    int32_t nominal[2], d2d_sigma[2], c2c_sigma[2];
    int64_t saf_below[2];
    int32_t d2d_cdf, c2c_cdf;
} cim_cell_model;

/* u < bound for 32-bit words u (lane kind K) and a bound in 0..2^32 given as
 * its halves bound = 2 bh + bl: 32-bit comparisons only, exact. */
#define CIM_BELOW_HALVES(u, bh, bl) (((u) >> 1) < (bh) || (((u) >> 1) == (bh) && ((u)&1u) < (bl)))

/* name(d, wv, s, u_saf, m): the state (0 HRS, 1 LRS) of cell slot s of
 * weight wv (lane kind K) under mapping d: the slot's state for the weight
 * (an unused slot, -1, reads as HRS), unless the cell's stuck-at word u_saf
 * makes it a stuck cell (cim_cell_model). */
#define CIM_DEFINE_CELL_STATE(name, K)                                                             \
    CIM_INLINE CIM_##K##_INT name(CIM_CONSTANT_PTR cim_mapping_desc *d, CIM_##K##_INT wv, int s,   \
                                  CIM_##K##_UINT u_saf, const cim_cell_model *m)                   \
    {                                                                                              \
        const int32_t sm = d->slot_state[s][0], s0 = d->slot_state[s][1];                          \
        const int32_t sp = d->slot_state[s][2];                                                    \
        const CIM_##K##_INT intended =                                                             \
            wv < 0 ? (CIM_##K##_INT)sm : (wv == 0 ? (CIM_##K##_INT)s0 : (CIM_##K##_INT)sp);        \
        const uint32_t h0 = (uint32_t)(m->saf_below[0] >> 1),                                      \
                       l0 = (uint32_t)(m->saf_below[0] & 1);                                       \
        const uint32_t h1 = (uint32_t)(m->saf_below[1] >> 1),                                      \
                       l1 = (uint32_t)(m->saf_below[1] & 1);                                       \
        const CIM_##K##_INT state =                                                                \
            intended == (CIM_##K##_INT)1 ? (CIM_##K##_INT)1 : (CIM_##K##_INT)0;                    \
        return CIM_BELOW_HALVES(u_saf, h0, l0)                                                     \
                   ? (CIM_##K##_INT)0                                                              \
                   : (CIM_BELOW_HALVES(u_saf, h1, l1) ? (CIM_##K##_INT)1 : state);                 \
    }

/* name(d, wv, m, cdf, u, u_saf, c): the programmed currents c[s] of the
 * cells of weight wv (lane kind K) under mapping d. Each slot's state comes
 * from STATE (above: intended, or stuck); its current is the nominal current
 * of that state plus its D2D deviation, sigma of the state times the Q24
 * deviate GAUSS(u[s]) of the slot's D2D word (SCALE: cim_scale_deviate for
 * kind K) -- or, where m->d2d_cdf is set and the state has a table, the
 * table's current at u[s] (cim_cdf_sample, once per lane). Not clipped:
 * where a path clips at zero is the path's own choice (g at programming,
 * the per-cell path after the read deviation). A sigma of 0 adds exactly 0,
 * whatever u. The digital reference passes nominal currents 0 and 1, the
 * state bit itself, and no sigmas or tables. */
#define CIM_DEFINE_PROGRAM_CELLS(name, K, SCALE, GAUSS, STATE)                                     \
    CIM_INLINE void name(CIM_CONSTANT_PTR cim_mapping_desc *d, CIM_##K##_INT wv,                   \
                         const cim_cell_model *m, CIM_GLOBAL const cim_cdf_set *cdf,               \
                         const CIM_##K##_UINT *u, const CIM_##K##_UINT *u_saf, CIM_##K##_INT *c)   \
    {                                                                                              \
        CIM_UNROLL for (int s = 0; s < CIM_MAX_SLOTS; ++s)                                         \
        {                                                                                          \
            const CIM_##K##_INT state = STATE(d, wv, s, u_saf[s], m);                              \
            const CIM_##K##_INT nominal = state == (CIM_##K##_INT)1                                \
                                              ? (CIM_##K##_INT)m->nominal[1]                       \
                                              : (CIM_##K##_INT)m->nominal[0];                      \
            const CIM_##K##_INT sigma = state == (CIM_##K##_INT)1                                  \
                                            ? (CIM_##K##_INT)m->d2d_sigma[1]                       \
                                            : (CIM_##K##_INT)m->d2d_sigma[0];                      \
            c[s] = nominal + SCALE(sigma, GAUSS(u[s]));                                            \
            if (m->d2d_cdf) {                                                                      \
                for (int l = 0; l < CIM_##K##_LANES; ++l) {                                        \
                    const int t = CIM_CDF_D2D + CIM_##K##_LANE(state, l);                          \
                    if (cdf->n[t] > 0)                                                             \
                        CIM_##K##_LANE(c[s], l) =                                                  \
                            cim_cdf_sample(cdf, t, CIM_##K##_ULANE(u[s], l));                      \
                }                                                                                  \
            }                                                                                      \
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

CIM_DEFINE_CELL_STATE(cim_cell_state, S)

/* The C2C deviation (nA) of a cell in `state` for its C2C word u: sigma of
 * the state times the Q24 deviate of u, or, where m->c2c_cdf is set and the
 * state has a C2C table, the table's value at u. */
CIM_INLINE int32_t cim_read_deviation(int32_t state, const cim_cell_model *m,
                                      CIM_GLOBAL const cim_cdf_set *cdf, uint32_t u)
{
    const int t = CIM_CDF_C2C + state;
    return m->c2c_cdf && cdf->n[t] > 0 ? cim_cdf_sample(cdf, t, u)
                                       : cim_scale_deviate(m->c2c_sigma[state], cim_gauss_q24(u));
}

/* The per-cell path's read of weight wv's cells (scalar; the reference and
 * cim_read_per_cell): each used slot's programmed current programmed[s] plus
 * its C2C deviation (cim_read_deviation of the cell's state, cim_cell_state:
 * a stuck cell reads as its stuck state), clipped at zero, into c[s]. */
CIM_INLINE void cim_read_cells(CIM_CONSTANT_PTR cim_mapping_desc *d, int wv,
                               const int32_t *programmed, const cim_cell_model *m,
                               CIM_GLOBAL const cim_cdf_set *cdf, const uint32_t *u,
                               const uint32_t *u_saf, int32_t *c)
{
    for (int s = 0; s < d->n_slots; ++s) {
        const int32_t state = cim_cell_state(d, wv, s, u_saf[s], m);
        const int32_t cur = programmed[s] + cim_read_deviation(state, m, cdf, u[s]);
        c[s] = cur < 0 ? 0 : cur;
    }
}

/* Whether the cell of stuck-at word u_saf is stuck (at either state). */
CIM_INLINE int cim_cell_stuck(uint32_t u_saf, const cim_cell_model *m)
{
    const uint32_t h1 = (uint32_t)(m->saf_below[1] >> 1), l1 = (uint32_t)(m->saf_below[1] & 1);
    return CIM_BELOW_HALVES(u_saf, h1, l1);
}

/* As cim_read_cells, in fine units (2^-CIM_FINE_FRAC_BITS nA), with read
 * disturb when dr is not NULL (cim_drift.h: what this read's drifting cells
 * carry). A cell that is LRS, healthy and of a slot that drifts
 * (cim_drift_slot) carries cim_drift_current of its programmed current of
 * epoch dr->epoch; every other cell its programmed current of dr->xbar_epoch
 * (stuck cells: always the chip's own, they are never re-programmed).
 * programmed[] holds the chip's programming (epoch 0), refreshed[] the
 * programming of refresh dr->epoch (read only when that epoch is above 0).
 * Then the C2C deviation, and the clip at zero. */
CIM_INLINE void cim_read_cells_fine(CIM_CONSTANT_PTR cim_mapping_desc *d, int wv,
                                    const int32_t *programmed, const int32_t *refreshed,
                                    const cim_cell_model *m, CIM_GLOBAL const cim_cdf_set *cdf,
                                    const uint32_t *u, const uint32_t *u_saf,
                                    CIM_GLOBAL const cim_drift_read *dr, int drift_model,
                                    int64_t *c)
{
    const int64_t unit = (int64_t)1 << CIM_FINE_FRAC_BITS;
    for (int s = 0; s < d->n_slots; ++s) {
        const int32_t state = cim_cell_state(d, wv, s, u_saf[s], m);
        int64_t cur = (int64_t)programmed[s] * unit;
        if (dr && !cim_cell_stuck(u_saf[s], m)) {
            const int drifting = state == 1 && cim_drift_slot(d, s);
            const int64_t epoch = drifting ? dr->epoch : dr->xbar_epoch;
            const int32_t base = epoch > 0 ? refreshed[s] : programmed[s];
            cur = drifting ? cim_drift_current(base, (int)dr->drifted, drift_model, dr->lrs_fine,
                                               dr->g_q32)
                           : (int64_t)base * unit;
        }
        cur += (int64_t)cim_read_deviation(state, m, cdf, u[s]) * unit;
        c[s] = cur < 0 ? 0 : cur;
    }
}

CIM_DEFINE_PROGRAM_CELLS(cim_program_cells, S, cim_scale_deviate, cim_gauss_q24, cim_cell_state)
CIM_DEFINE_CONV_CURRENT(cim_conv_current, S)

/* Read disturb: the programming of weight wv's cells at refresh number
 * `epoch` (>= 1) of tile/cell in trial `trial` -- cim_program_cells from the
 * cells' fresh D2D words, drawn from the refresh stream (CIM_RNG_REFRESH,
 * the refresh number in the counter's input word); stuck cells keep their
 * stuck state (u_saf). Scalar: the reference and cim_read_per_cell. */
CIM_INLINE void cim_refresh_cells(CIM_CONSTANT_PTR cim_mapping_desc *d, int wv,
                                  const cim_cell_model *m, CIM_GLOBAL const cim_cdf_set *cdf,
                                  uint64_t seed, uint32_t layer, uint32_t tile, uint32_t trial,
                                  int64_t epoch, uint32_t cell, const uint32_t *u_saf, int32_t *c)
{
    uint32_t u[4];
    cim_rng_words4(seed, CIM_RNG_REFRESH, layer, tile, trial, (uint32_t)epoch, cell, u);
    cim_program_cells(d, wv, m, cdf, u, u_saf, c);
}

/* Kind F: scalar 64-bit currents, for the term sum of fine cell currents
 * (only INT is needed by CIM_DEFINE_CONV_CURRENT). */
#define CIM_F_INT int64_t
CIM_DEFINE_CONV_CURRENT(cim_conv_current_fine, F)

#endif /* CIM_CELLS_H */
