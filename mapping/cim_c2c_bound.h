/* cim_c2c_bound.h -- when the C2C column law may stand in for the per-cell
 * reads: the clipping bound of docs/physics/c2c_column.md, per crossbar.
 *
 * The per-cell model clips each read cell at zero, c = max(0, X) with X =
 * p + e its programmed current plus its C2C deviation; the column law adds
 * the unclipped X. Coupling the two on the same deviations, a conversion's
 * column currents differ only where some read cell has X < 0, and by
 * sum |coef| (-X)+ <= sum (-X)+ over the read's cells (every coefficient of
 * a cell in one conversion is -1, 0 or +1). With n_cells the most cells one
 * conversion's current sums (cim_c2c_cells_per_input times the tile's
 * inputs) and, per cell state s, P_s = P(X < 0) and E_s = E[(-X)+]:
 *   P(a column read differs)  <= n_cells * max_s P_s
 *   E|I_cell - I_column|      <= n_cells * max_s E_s
 * For Gaussian D2D and C2C, X ~ N(mu_s, s_s) with s_s^2 = sigma_D2D,s^2 +
 * sigma_C2C,s^2, a = mu_s / s_s: P_s = Phi(-a), E_s = s_s (phi(a) - a Phi(-a)).
 * A state with a D2D table (cim_cdf.h: piecewise-linear CDF, a mixture of
 * uniform segments) has X = U + e per segment [I_k, I_k+1], averaged in
 * closed form: with g(u) = E[(-u - e)+] = sigma (phi(u/sigma) - (u/sigma)
 * Phi(-u/sigma)) and h(u) = ((u^2 + sigma^2) Phi(-u/sigma) - u sigma
 * phi(u/sigma)) / 2, the segment's mean of Phi(-u/sigma) is (g(I_k) -
 * g(I_k+1)) / (I_k+1 - I_k) and its mean of g is (h(I_k) - h(I_k+1)) /
 * (I_k+1 - I_k); the segment is taken 1 nA lower, which covers the table
 * sampler's rounding down. The law is used where the expected difference
 * bound is at most CIM_C2C_COLUMN_MAX_DIFF of one LRS-HRS step (Delta).
 * Double precision on the host: the bounds decide which law reads, never a
 * result's bits (those are the integer laws of cim_c2c_column.h and
 * cim_cells.h); the Gaussian formulas ignore the sampler's 5e-5 quantile
 * error and its cut at 6.34 sigma.
 */
#ifndef CIM_C2C_BOUND_H
#define CIM_C2C_BOUND_H

#include <stdint.h>

#include "cim_xbar.h"

/* The largest expected column-current difference, as a fraction of Delta,
 * at which a crossbar reads by the column law. */
#define CIM_C2C_COLUMN_MAX_DIFF 0.01

typedef struct cim_c2c_bound {
    int asked;        /* the crossbar asked for the column law (c2c_column before the decision) */
    int c2c_on;       /* C2C deviations in the reads (analog, a sigma or a C2C table) */
    int computed;     /* 1: Gaussian C2C on: the numbers below are the bounds (else NaN) */
    int used;         /* the column law reads this crossbar: asked, computed and within the limit */
    int64_t n_cells;  /* the most cells one conversion's column current sums */
    double p_clip[2]; /* P(X < 0) of a cell, by state (HRS, LRS) */
    double e_clip_na[2]; /* E[(-X)+] of a cell, nA, by state */
    double p_differs;    /* n_cells * max_s p_clip, the bound on P(a read differs) */
    double e_diff_na;    /* n_cells * max_s e_clip, the bound on E|I_cell - I_column| */
    double delta_na;     /* LRS - HRS */
    double limit_na;     /* CIM_C2C_COLUMN_MAX_DIFF * delta_na */
} cim_c2c_bound;

/* The bound of crossbar x reading a matrix of `cols` inputs (a tile holds
 * min(cols, xbar_n) of them), without changing x. */
void cim_c2c_column_bound(const cim_xbar *x, int32_t cols, cim_c2c_bound *b);

/* cim_c2c_column_bound, then x->c2c_column = b->used: a crossbar that asked
 * for the column law keeps it only where the bound holds. Returns b->used. */
int cim_c2c_column_decide(cim_xbar *x, int32_t cols, cim_c2c_bound *b);

/* What reads the crossbar's C2C: "column", "cell", or "off" (no C2C). */
const char *cim_c2c_bound_model(const cim_c2c_bound *b);

#endif /* CIM_C2C_BOUND_H */
