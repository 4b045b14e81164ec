/* cim_config_resolve.c -- a valid cim_config to the integers of one layer's
 * cim_xbar (cim_xbar.h, cim_units.h).
 *
 * µA become whole nA, rounded half away from zero; the sigmas are routed by
 * d2d_var and c2c_var (a switched-off kind gets sigma 0); digital mode gets
 * HRS 0 and Delta 1 (c = s) and no ADC. A finite ADC's range becomes
 * half-units (2 per nA): in MAX mode +-2 N Delta for a signed column current
 * (SYM) or [0, 2 N LRS] (POS); in CALIB mode the layer's adc_calib_dict entry.
 * Stuck-at bounds and device tables come from cim_config_cdf.c; with
 * adc_profile the profile's range and bins (cim_profile.h). Finally the
 * largest column current the cells can produce -- N x rows per input x 2
 * cells x (LRS + 6.4 sigma, or a table's largest current) -- must fit in int32, so
 * the reference and the kernels can sum currents in 32 bits.
 *
 * Invariant: cim_config_resolve validates first, so every table lookup here
 * is in range; on error *x is zeroed or partly filled and must not be used.
 */
#include "cim_config.h"

#include <math.h>
#include <string.h>

#include "cim_config_internal.h"
#include "cim_ladder.h"
#include "cim_mapping.h"

/* Largest |z| of the sampler is 6.34 (cim_gauss.h); the overflow guard uses
 * 6.4 sigma, kept as tenths so the bound is integer arithmetic. */
#define CIM_CONFIG_TAIL_SIGMA_TENTHS 64
#define CIM_CONFIG_TENTHS 10
#define CIM_CONFIG_CURRENT_LIMIT ((int64_t)INT32_MAX)
#define CIM_CONFIG_MAX_PROFILE_BINS (1 << 20) /* histogram bins of one layer */

static int32_t ua_to_na(double ua)
{
    return (int32_t)llround(ua * CIM_NA_PER_UA); /* half away from zero */
}

/* ADC range in half-units (2 nA). */
static int resolve_adc_range(const cim_config *cfg, const char *layer_name, cim_xbar *x,
                             cim_error *err)
{
    const char *origin = cim_config_origin(cfg->origin);
    const int64_t n = cfg->N;
    cim_column_params *p = &x->column;
    if (cfg->calib_mode == CIM_CALIB_MAX) {
        /* adc_alpha < 1 clips the range to that fraction, rounded to the
         * half-unit (half away from zero); 1 keeps it exact */
        const int64_t full =
            cfg->adc_type == CIM_ADC_POS ? 2 * n * x->current_na[CIM_STATE_LRS] : 2 * n * p->delta;
        const int64_t hi = cfg->adc_alpha == 1.0 ? full : llround(cfg->adc_alpha * (double)full);
        p->adc_lo2 = cfg->adc_type == CIM_ADC_POS ? 0 : -hi;
        p->adc_hi2 = hi;
        if (p->adc_hi2 <= p->adc_lo2)
            return cim_error_set(err, CIM_ERR_CONFIG,
                                 "%s: key \"adc_alpha\": %g leaves no ADC range (narrower than "
                                 "the 0.5 nA current resolution)",
                                 origin, cfg->adc_alpha);
        return 0;
    }
    const cim_calib_range *r = cim_config_find_calib(cfg, layer_name);
    if (!r)
        return cim_error_set(err, CIM_ERR_CONFIG,
                             "%s: key \"adc_calib_dict\": no [lo, hi] range for layer \"%s\" "
                             "(adc_calib_mode CALIB)",
                             origin, layer_name ? layer_name : "(unnamed)");
    p->adc_lo2 = llround(2.0 * r->lo_ua * CIM_NA_PER_UA);
    p->adc_hi2 = llround(2.0 * r->hi_ua * CIM_NA_PER_UA);
    if (p->adc_hi2 <= p->adc_lo2)
        return cim_error_set(err, CIM_ERR_CONFIG,
                             "%s: key \"adc_calib_dict\": layer \"%s\": range [%g, %g] µA is "
                             "narrower than the 0.5 nA current resolution",
                             origin, r->layer, r->lo_ua, r->hi_ua);
    return 0;
}

/* ADC input profiling (cim_profile.h): the ADC type's MAX range whatever
 * the range mode, from the crossbar's row count N, in bins of
 * adc_profile_bin_size µA. Validation has made sure the ADC is finite. */
static int resolve_profile(const cim_config *cfg, cim_xbar *x, cim_error *err)
{
    const int64_t n = cfg->N, delta = x->column.delta;
    const int64_t lo = cfg->adc_type == CIM_ADC_POS ? 0 : -n * delta;
    const int64_t hi = cfg->adc_type == CIM_ADC_POS ? n * x->current_na[CIM_STATE_LRS] : n * delta;
    x->profile.lo_na = lo;
    x->profile.bin_na = (int64_t)cfg->adc_profile_bin_size * CIM_NA_PER_UA;
    x->profile.bins = cim_profile_bin_count(lo, hi, x->profile.bin_na);
    if (x->profile.bins < 1 || x->profile.bins > CIM_CONFIG_MAX_PROFILE_BINS)
        return cim_config_key_error(cfg->origin, CIM_ERR_CONFIG, err, "adc_profile_bin_size",
                                    "%d µA gives %lld bins over the ADC range [%g, %g] µA "
                                    "(expected 1 to %d bins)",
                                    cfg->adc_profile_bin_size, (long long)x->profile.bins,
                                    (double)lo / CIM_NA_PER_UA, (double)hi / CIM_NA_PER_UA,
                                    CIM_CONFIG_MAX_PROFILE_BINS);
    return 0;
}

int cim_config_has_ladder(const cim_config *cfg)
{
    return cfg->parasitics && !cfg->digital && cfg->w_res > 0;
}

double cim_config_segment_current_fine(const cim_config *cfg)
{
    return fabs(cfg->v_read) * 1e9 * (double)((int64_t)1 << CIM_FINE_FRAC_BITS) / cfg->w_res;
}

/* Bit-line IR drop: the ladder's segment current and rows, and the tile that
 * fits the physical crossbar: a mapping that gives an input two rows of a
 * column (BNN_V, BNN_VI, TNN_I) holds N / 2 inputs per tile, one that puts an
 * output's two bit columns side by side (TNN_IV, TNN_V) M / 2 outputs, as the
 * reference flow tiles them; the ADC range still follows N (validation has
 * checked that a tile keeps at least one input and output). */
static void resolve_ladder(const cim_config *cfg, cim_xbar *x)
{
    if (!cim_config_has_ladder(cfg))
        return;
    const cim_mapping_desc *d = &CIM_MAPPINGS[cfg->mapping];
    x->ladder_iw = llround(cim_config_segment_current_fine(cfg));
    x->ladder_rows = cfg->N;
    x->xbar_n = cim_ladder_max_inputs(d, cfg->N);
    if (cim_ladder_bit_columns(cfg->mapping))
        x->xbar_m = cfg->M / 2;
    x->column.fine = 1;
}

/* Read disturb: the tile schedule's parameters (cim_disturb.h), from the
 * config and this crossbar's LRS current; the currents become fine. */
static void resolve_disturb(const cim_config *cfg, cim_xbar *x)
{
    if (!cfg->read_disturb || cfg->digital)
        return;
    cim_disturb_params *d = &x->disturb;
    x->disturb_on = 1;
    x->drift_model = cfg->read_disturb_model;
    d->v_read = cfg->v_read;
    d->t_read = cfg->t_read;
    d->update_freq = cfg->read_disturb_update_freq;
    d->strategy = cfg->read_disturb_mitigation_strategy;
    d->fp = cfg->read_disturb_mitigation_fp;
    d->tol = cfg->read_disturb_update_tolerance;
    d->initial_cycles = cfg->read_disturb_initial_cycles;
    d->lrs_na = x->current_na[CIM_STATE_LRS];
    x->column.fine = 1;
}

/* The largest column current the sampler can produce must fit in int32. */
static int check_current_range(const cim_config *cfg, const cim_xbar *x, cim_error *err)
{
    const cim_mapping_desc *d = &CIM_MAPPINGS[cfg->mapping];
    int64_t cell_max_tenths = 0; /* largest cell current, 0.1 nA */
    for (int s = CIM_STATE_HRS; s <= CIM_STATE_LRS; ++s) {
        /* a measured table bounds its own state's current or deviation */
        const int64_t d2d_table = cim_config_cdf_max_na(x, CIM_CDF_D2D + s);
        const int64_t c2c_table = cim_config_cdf_max_na(x, CIM_CDF_C2C + s);
        const int64_t programmed =
            d2d_table >= 0 ? d2d_table * CIM_CONFIG_TENTHS
                           : (int64_t)x->current_na[s] * CIM_CONFIG_TENTHS +
                                 (int64_t)CIM_CONFIG_TAIL_SIGMA_TENTHS * x->d2d_sigma_na[s];
        const int64_t read = c2c_table >= 0
                                 ? c2c_table * CIM_CONFIG_TENTHS
                                 : (int64_t)CIM_CONFIG_TAIL_SIGMA_TENTHS * x->c2c_sigma_na[s];
        int64_t c = cfg->digital ? (int64_t)s * CIM_CONFIG_TENTHS : programmed + read;
        if (c > cell_max_tenths)
            cell_max_tenths = c;
    }
    int64_t cells = (int64_t)cfg->N * d->rows_per_input * 2;
    if (cells * cell_max_tenths >= CIM_CONFIG_CURRENT_LIMIT * CIM_CONFIG_TENTHS)
        return cim_error_set(err, CIM_ERR_CONFIG,
                             "%s: crossbar too large for the 32-bit current range: N = %d inputs "
                             "x %d rows each x 2 x %.1f nA (LRS + 6.4 sigma) >= %lld nA; use a "
                             "smaller N, LRS or noise",
                             cim_config_origin(cfg->origin), cfg->N, d->rows_per_input,
                             (double)cell_max_tenths / CIM_CONFIG_TENTHS,
                             (long long)CIM_CONFIG_CURRENT_LIMIT);
    return 0;
}

int cim_config_resolve(const cim_config *cfg, const char *layer_name, uint64_t seed, uint32_t layer,
                       cim_xbar *x, cim_error *err)
{
    memset(x, 0, sizeof *x);
    int rc = cim_config_validate(cfg, err);
    if (rc)
        return rc;
    x->mapping = cfg->mapping;
    x->xbar_m = cfg->M;
    x->xbar_n = cfg->N;
    x->seed = seed;
    x->layer = layer;
    x->current_na[CIM_STATE_HRS] = ua_to_na(cfg->hrs_ua);
    x->current_na[CIM_STATE_LRS] = ua_to_na(cfg->lrs_ua);
    x->d2d_sigma_na[CIM_STATE_HRS] = cfg->d2d_var ? ua_to_na(cfg->hrs_noise_ua) : 0;
    x->d2d_sigma_na[CIM_STATE_LRS] = cfg->d2d_var ? ua_to_na(cfg->lrs_noise_ua) : 0;
    x->c2c_sigma_na[CIM_STATE_HRS] = cfg->c2c_var ? ua_to_na(cfg->hrs_noise_c2c_ua) : 0;
    x->c2c_sigma_na[CIM_STATE_LRS] = cfg->c2c_var ? ua_to_na(cfg->lrs_noise_c2c_ua) : 0;
    /* asked for; a network's plan keeps it where the clipping bound holds */
    x->c2c_column = cfg->c2c_model == CIM_C2C_MODEL_COLUMN && cfg->c2c_var && !cfg->digital;

    cim_column_params *p = &x->column;
    p->mapping = cfg->mapping;
    p->digital = cfg->digital ? 1 : 0;
    p->adc_type = CIM_ADC_INF;
    if (cfg->digital) {
        p->hrs = 0;
        p->delta = 1;
    } else {
        p->hrs = x->current_na[CIM_STATE_HRS];
        p->delta = x->current_na[CIM_STATE_LRS] - x->current_na[CIM_STATE_HRS];
        if (p->delta < 1)
            return cim_error_set(err, CIM_ERR_CONFIG,
                                 "%s: keys \"HRS\", \"LRS\": %g and %g µA differ by less than "
                                 "the 1 nA current resolution",
                                 cim_config_origin(cfg->origin), cfg->hrs_ua, cfg->lrs_ua);
        p->adc_type = cfg->adc_type;
        if (cfg->adc_type != CIM_ADC_INF) {
            p->adc_steps = cim_adc_steps(cfg->adc_type, cfg->resolution);
            rc = resolve_adc_range(cfg, layer_name, x, err);
            if (rc)
                return rc;
        }
    }
    resolve_ladder(cfg, x);
    resolve_disturb(cfg, x);
    cim_config_resolve_cells(cfg, x); /* stuck-at bounds, device tables */
    if ((rc = check_current_range(cfg, x, err)) != 0)
        return rc;
    return cfg->adc_profile ? resolve_profile(cfg, x, err) : 0;
}
