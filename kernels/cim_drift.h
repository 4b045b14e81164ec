/* cim_drift.h -- the current of a drifting (read-disturbed) LRS cell, in
 * fine units, from its programmed current and the drift its tile's read-disturb
 * schedule gives for the MVM (mapping/cim_disturb.h).
 *
 * The schedule reports, for MVM k of a tile, either "programmed" (the cell
 * carries its programmed current of some epoch, D2D included) or "drifted"
 * with two fixed-point forms of the drift factor g in [0, 1]:
 *   lrs_fine  nominal LRS * g in 2^-CIM_FINE_FRAC_BITS nA, rounded to nearest
 *             once on the host (the library model: the cell's D2D deviation
 *             is discarded at its first update)
 *   g_q32     g in Q32 (2^32 is g = 1), rounded to nearest once on the host
 *             (the physical model: the chip's own programmed current times g)
 * The choice between them and the one integer step of the physical model
 * are defined here once, for host C and OpenCL C, so the reference and the
 * kernels evaluate the same integers. HRS cells and the cells of slots that
 * do not drift keep their programmed current: not this function's business.
 */
#ifndef CIM_DRIFT_H
#define CIM_DRIFT_H

#include "cim_portable.h"
#include "cim_lanes.h"
#include "cim_mappings.h"
#include "cim_units.h"

/* Drift models (config key read_disturb_model: "LIBRARY", "PHYSICAL"). */
#define CIM_DRIFT_LIBRARY 0
#define CIM_DRIFT_PHYSICAL 1

/* g in Q32: 1.0 is 2^32 (a 33-bit value, so it travels as int64). */
#define CIM_DRIFT_G_FRAC_BITS 32

/* name(c_na, g_q32) = c * g / 2^(CIM_DRIFT_G_FRAC_BITS - CIM_FINE_FRAC_BITS):
 * a programmed current c (nA, lane kind K, |c| < 2^31) scaled by g (Q32,
 * 0 <= g <= 2^32) into fine units (2^-CIM_FINE_FRAC_BITS nA), rounded half
 * away from zero. Exact: |c * g| <= (2^31 - 1) * 2^32 < 2^63 - 2^7, so the
 * product and the rounding addend fit in int64. */
#define CIM_DEFINE_DRIFT_SCALE(name, K)                                                            \
    CIM_INLINE CIM_##K##_LONG name(CIM_##K##_LONG c_na, CIM_##K##_LONG g_q32)                      \
    {                                                                                              \
        const int shift = CIM_DRIFT_G_FRAC_BITS - CIM_FINE_FRAC_BITS;                              \
        const CIM_##K##_LONG prod = c_na * g_q32;                                                  \
        const CIM_##K##_LONG mag = prod < 0 ? -prod : prod;                                        \
        const CIM_##K##_LONG q = (mag + ((CIM_##K##_LONG)1 << (shift - 1))) >> shift;              \
        return prod < 0 ? -q : q;                                                                  \
    }

CIM_DEFINE_DRIFT_SCALE(cim_drift_scale, S)

/* The fine-unit current of a drifting LRS cell whose programmed current (of
 * the schedule segment's epoch) is programmed_na: programmed_na itself while
 * the segment is not drifted; else lrs_fine (CIM_DRIFT_LIBRARY) or
 * programmed_na scaled by g_q32 (CIM_DRIFT_PHYSICAL). */
CIM_INLINE int64_t cim_drift_current(int32_t programmed_na, int drifted, int model,
                                     int64_t lrs_fine, int64_t g_q32)
{
    if (!drifted)
        return (int64_t)programmed_na * ((int64_t)1 << CIM_FINE_FRAC_BITS);
    return model == CIM_DRIFT_PHYSICAL ? cim_drift_scale(programmed_na, g_q32) : lrs_fine;
}

/* Whether cell slot `slot` of mapping d drifts (and is refreshed) when it is
 * LRS: the P cells (slot 0, and slot 3 of the four-cell mappings) always;
 * the Q cells only in the mappings whose column current is a difference
 * (BNN_I, BNN_II, BNN_VI, TNN_I, TNN_II, TNN_III). In BNN_V, TNN_IV and
 * TNN_V the Q cell (slot 1) never drifts. */
CIM_INLINE int cim_drift_slot(CIM_CONSTANT_PTR cim_mapping_desc *d, int slot)
{
    return slot == 0 || d->signed_current;
}

/* What the drifting cells of a tile carry during one read (one input of an
 * MVM call), from the tile's schedule (mapping/cim_disturb.h,
 * cim_disturb_reads): the same for every tile, column and chip of a layer.
 * 64-bit fields only: the kernels read it from a buffer.
 *   drifted     0: the programmed currents of `epoch`; 1: drifted
 *   epoch       drifting LRS cells' last programming (0: the chip's, e: the
 *               e-th refresh, whose currents are fresh draws)
 *   xbar_epoch  every other cell's: 0, or `epoch` after a SOFTWARE refresh
 *               (which re-programs the whole crossbar)
 *   lrs_fine, g_q32  the drift (cim_drift_current) when drifted */
typedef struct cim_drift_read {
    int64_t drifted, epoch, xbar_epoch, lrs_fine, g_q32, pad;
} cim_drift_read;

#endif /* CIM_DRIFT_H */
