/* cim_c2c_bound.c -- the clipping bound of the C2C column law; see
 * cim_c2c_bound.h for the formulas. Host only, double precision.
 */
#include "cim_c2c_bound.h"

#include <math.h>
#include <string.h>

#include "cim_c2c_column.h"
#include "cim_cdf.h"
#include "cim_mapping.h"

#define SQRT_2PI 2.50662827463100050242 /* sqrt(2 pi) */
#define SQRT_2 1.41421356237309504880

static double phi(double a)
{
    return exp(-0.5 * a * a) / SQRT_2PI;
}

/* Phi(-a), the upper tail. */
static double upper(double a)
{
    return 0.5 * erfc(a / SQRT_2);
}

/* g(u) = E[(-u - e)+] for e ~ N(0, sigma), sigma > 0. */
static double g_of(double u, double sigma)
{
    const double a = u / sigma;
    return sigma * (phi(a) - a * upper(a));
}

/* h(u) = E[((-u - e)+)^2] / 2, whose derivative is -g(u). */
static double h_of(double u, double sigma)
{
    const double a = u / sigma;
    return 0.5 * ((u * u + sigma * sigma) * upper(a) - u * sigma * phi(a));
}

/* P(X < 0) and E[(-X)+] of a Gaussian X ~ N(mu, sd). */
static void gaussian(double mu, double sd, double *p, double *e)
{
    if (sd <= 0) {
        *p = mu < 0 ? 1.0 : 0.0;
        *e = mu < 0 ? -mu : 0.0;
        return;
    }
    *p = upper(mu / sd);
    *e = g_of(mu, sd);
}

/* The same for X = U + e, U of D2D table t (a mixture of uniform segments,
 * each taken 1 nA lower: the sampler rounds down), e ~ N(0, sigma). */
static void table(const cim_cdf_set *cdf, int t, double sigma, double *p, double *e)
{
    *p = *e = 0;
    for (int64_t k = 0; k + 1 < cdf->n[t]; ++k) {
        const double w = (double)(cdf->p[t][k + 1] - cdf->p[t][k]) / (double)CIM_CDF_ONE;
        const double lo = (double)cdf->i[t][k] - 1, hi = (double)cdf->i[t][k + 1] - 1;
        if (w <= 0)
            continue;
        if (sigma <= 0) { /* U alone: below 0 only the part of the shifted segment there */
            const double below = lo < 0 ? (fmin(hi, 0) - lo) / (hi - lo) : 0;
            *p += w * below;
            *e += w * (lo < 0 ? below * -(lo + fmin(hi, 0)) / 2 : 0);
            continue;
        }
        *p += w * (g_of(lo, sigma) - g_of(hi, sigma)) / (hi - lo);
        *e += w * (h_of(lo, sigma) - h_of(hi, sigma)) / (hi - lo);
    }
}

void cim_c2c_column_bound(const cim_xbar *x, int32_t cols, cim_c2c_bound *b)
{
    const cim_mapping_desc *d = cim_mapping_desc_of(x->mapping);
    const int32_t inputs = cols < x->xbar_n ? cols : x->xbar_n;
    memset(b, 0, sizeof *b);
    b->asked = x->c2c_column != 0;
    b->delta_na = (double)x->current_na[CIM_STATE_LRS] - (double)x->current_na[CIM_STATE_HRS];
    b->limit_na = CIM_C2C_COLUMN_MAX_DIFF * b->delta_na;
    b->n_cells = (int64_t)cim_c2c_cells_per_input(d) * (inputs > 0 ? inputs : 0);
    b->c2c_on = cim_xbar_has_c2c(x);
    b->computed = b->c2c_on && !cim_xbar_has_cdf(x, CIM_CDF_C2C);
    if (!b->computed) {
        b->p_differs = b->e_diff_na = NAN;
        b->p_clip[0] = b->p_clip[1] = b->e_clip_na[0] = b->e_clip_na[1] = NAN;
        return;
    }
    const int d2d_tables = cim_xbar_has_cdf(x, CIM_CDF_D2D);
    double p_max = 0, e_max = 0;
    for (int s = CIM_STATE_HRS; s <= CIM_STATE_LRS; ++s) {
        const double c2c = (double)x->c2c_sigma_na[s];
        if (d2d_tables && x->cdf.n[CIM_CDF_D2D + s] > 0) {
            table(&x->cdf, CIM_CDF_D2D + s, c2c, &b->p_clip[s], &b->e_clip_na[s]);
        } else {
            const double d2d = (double)x->d2d_sigma_na[s];
            gaussian((double)x->current_na[s], sqrt(d2d * d2d + c2c * c2c), &b->p_clip[s],
                     &b->e_clip_na[s]);
        }
        p_max = fmax(p_max, b->p_clip[s]);
        e_max = fmax(e_max, b->e_clip_na[s]);
    }
    b->p_differs = (double)b->n_cells * p_max;
    b->e_diff_na = (double)b->n_cells * e_max;
}

int cim_c2c_column_decide(cim_xbar *x, int32_t cols, cim_c2c_bound *b)
{
    cim_c2c_column_bound(x, cols, b);
    b->used = b->asked && b->computed && cim_xbar_c2c_column(x) && b->e_diff_na <= b->limit_na;
    x->c2c_column = b->used;
    return b->used;
}

const char *cim_c2c_bound_model(const cim_c2c_bound *b)
{
    return b->used ? "column" : b->c2c_on ? "cell" : "off";
}
