/* cim_xbar.h -- a crossbar fully resolved to integers: what the reference and
 * the kernels need to evaluate one layer's matrix on simulated tiles.
 *
 * host/io/cim_config_resolve.c turns the user's JSON (µA, names, booleans) into this struct
 * once; from here on there are no floating-point values. Tiling: a matrix of
 * `rows` outputs x `cols` inputs is cut into tiles of xbar_m x xbar_n (the
 * logical crossbar size, docs/semantics.md); tile (tm, tn) has index
 * tm * tiles_n + tn and holds outputs tm*xbar_m.. and inputs tn*xbar_n...
 */
#ifndef CIM_XBAR_H
#define CIM_XBAR_H

#include <stdint.h>

#include "cim_cdf.h"
#include "cim_cells.h"
#include "cim_column.h"
#include "cim_disturb.h"
#include "cim_mappings.h"
#include "cim_profile.h"

#define CIM_STATE_HRS 0
#define CIM_STATE_LRS 1

typedef struct cim_xbar {
    cim_mapping_id mapping;
    int32_t xbar_m;           /* logical tile: outputs */
    int32_t xbar_n;           /* logical tile: inputs */
    int32_t current_na[2];    /* nominal cell current by state (HRS, LRS) */
    int32_t d2d_sigma_na[2];  /* 0: no D2D deviation for that state */
    int32_t c2c_sigma_na[2];  /* 0: no C2C deviation for that state */
    cim_column_params column; /* digital flag, ADC, HRS/Delta for the ADC */
    uint64_t seed;
    uint32_t layer; /* layer id in RNG keys (0 for `cimgpu mvm`) */
    /* Stuck-at faults: a cell whose SAF word u (cim_rng.h) is below
     * saf_below[0] is stuck at HRS, else below saf_below[1] at LRS; bounds
     * 0..2^32 (cim_config_resolve: round(2^32 p0), that + round(2^32 p1)).
     * In analog and digital mode alike. */
    int64_t saf_below[2];
    /* Bit-line IR drop (cim_ladder.h): the current one wire segment passes at
     * |V_read|, in fine units (0: ideal wires, no ladder), and the physical
     * rows of a column (the config's N). column.fine is 1 with it. */
    int64_t ladder_iw;
    int32_t ladder_rows;
    /* Read disturb (cim_disturb.h): on in analog mode with read_disturb; the
     * schedule's parameters (LRS in nA of this crossbar) and the drift model
     * (CIM_DRIFT_LIBRARY / PHYSICAL). column.fine is 1 with it. */
    int32_t disturb_on, drift_model;
    cim_disturb_params disturb;
    cim_profile_params profile; /* ADC input profiling (cim_profile.h); bins 0: off */
    /* C2C reads by the column law (cim_c2c_column.h, docs/physics/c2c_column.md):
     * 1 when the config asks for it (c2c_model "column") and, in a network,
     * the layer's clipping bound holds (cim_c2c_column_decide); read through
     * cim_xbar_c2c_column. */
    int32_t c2c_column;
    /* Measured distributions (cim_cdf.h): n = 0 for a state without a table
     * (the Gaussian model); analog mode only. Last: the largest member. */
    cim_cdf_set cdf;
} cim_xbar;

static inline int cim_xbar_has_cdf(const cim_xbar *x, int first)
{
    return !x->column.digital && (x->cdf.n[first] > 0 || x->cdf.n[first + 1] > 0);
}

static inline int cim_xbar_has_d2d(const cim_xbar *x)
{
    return !x->column.digital &&
           (x->d2d_sigma_na[0] > 0 || x->d2d_sigma_na[1] > 0 || cim_xbar_has_cdf(x, CIM_CDF_D2D));
}

static inline int cim_xbar_has_c2c(const cim_xbar *x)
{
    return !x->column.digital &&
           (x->c2c_sigma_na[0] > 0 || x->c2c_sigma_na[1] > 0 || cim_xbar_has_cdf(x, CIM_CDF_C2C));
}

/* Whether C2C reads take the column law: asked (c2c_column) with Gaussian
 * C2C on, and nothing that needs the cells one by one (C2C tables, IR
 * drop, read disturb: the config refuses those with the column law; a
 * crossbar built in code falls back to the per-cell reads). */
static inline int cim_xbar_c2c_column(const cim_xbar *x)
{
    return x->c2c_column && !x->column.digital &&
           (x->c2c_sigma_na[0] > 0 || x->c2c_sigma_na[1] > 0) &&
           !cim_xbar_has_cdf(x, CIM_CDF_C2C) && x->ladder_iw <= 0 && !x->disturb_on;
}

/* Stuck-at faults on: chips differ even in digital mode. */
static inline int cim_xbar_has_saf(const cim_xbar *x)
{
    return x->saf_below[1] > 0;
}

/* The cells' model for the programming and read steps (cim_cells.h): in
 * digital mode nominal currents 0 and 1 (the state bit), no deviations and
 * no tables, the faults kept. */
static inline cim_cell_model cim_xbar_cell_model(const cim_xbar *x)
{
    const int digital = (int)x->column.digital;
    cim_cell_model m;
    for (int s = 0; s < 2; ++s) {
        m.nominal[s] = digital ? s : x->current_na[s];
        m.d2d_sigma[s] = digital ? 0 : x->d2d_sigma_na[s];
        m.c2c_sigma[s] = digital ? 0 : x->c2c_sigma_na[s];
        m.saf_below[s] = x->saf_below[s];
    }
    m.d2d_cdf = cim_xbar_has_cdf(x, CIM_CDF_D2D);
    m.c2c_cdf = cim_xbar_has_cdf(x, CIM_CDF_C2C);
    return m;
}

static inline int cim_xbar_has_ladder(const cim_xbar *x)
{
    return !x->column.digital && x->ladder_iw > 0;
}

static inline int cim_xbar_has_disturb(const cim_xbar *x)
{
    return !x->column.digital && x->disturb_on;
}

/* Whether reads need each cell on its own (the per-cell path of the reference
 * and the kernels) rather than a sum of per-weight contributions: a fresh
 * deviation per read (C2C), a column that is not a plain sum (IR drop) or
 * cells that change from read to read (read disturb). The C2C column law
 * (cim_xbar_c2c_column) counts here too: its reads are sums of per-weight
 * contributions plus fresh draws per column, which the engine's column path
 * makes and the kept chips of the device pipeline do not. */
static inline int cim_xbar_reads_per_cell(const cim_xbar *x)
{
    return cim_xbar_has_c2c(x) || cim_xbar_has_ladder(x) || cim_xbar_has_disturb(x);
}

/* Whether the chips' reads are plain sums of per-weight contributions that
 * differ from chip to chip: analog (or digital with stuck-at faults, whose
 * chips differ too) and no per-cell reads. What the engine programs once per
 * chip and the executor's device pipeline reads. */
static inline int cim_xbar_plain_sum_chips(const cim_xbar *x)
{
    return !(x->column.digital && !cim_xbar_has_saf(x)) && !cim_xbar_reads_per_cell(x);
}

static inline int32_t cim_tiles(int32_t extent, int32_t tile)
{
    return (extent + tile - 1) / tile;
}

#endif /* CIM_XBAR_H */
