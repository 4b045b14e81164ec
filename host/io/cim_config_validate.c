/* cim_config_validate.c -- the rules a cim_config must meet, whether it came
 * from JSON or was built or edited in code (e.g. from command-line flags).
 *
 * Five layers, each its own function, checked in this order:
 *   1. every key's own range, from the key table (cim_config.c): the same
 *      ranges the parser applies, now on the stored values;
 *   2. the special keys: mapping id, M * N cells, SPLIT, adc_calib_dict;
 *   3. the combinations: LRS > HRS; resolution vs. adc_type (-1 for INF,
 *      1..16 bits for POS, 2..16 for SYM, whose 2^b - 1 levels have no step
 *      between them for b = 1); mapping vs. adc_type (a signed column current
 *      needs SYM or INF, a non-negative one POS or INF); CALIB with a finite
 *      ADC needs its dict; SAF_HRS + SAF_LRS <= 1 and the device tables'
 *      rules (cim_config_cdf.c); adc_profile needs a finite ADC in analog
 *      mode; TNN_IV/TNN_V need W_BIT = 2 and SPLIT = [1, 1];
 *   4. the physics models' parameters, read (as by the reference) only when
 *      their model is on in analog mode: V_read < 0 for read disturb and
 *      parasitics; t_read > 0, and the strategy's fp >= 1 (SOFTWARE) or
 *      tolerance in [0, 1] (CELL_BASED), for read disturb; c2c_model
 *      "column" needs C2C on in analog mode, Gaussian C2C, no IR drop and no
 *      read disturb;
 *   5. last, a `true` feature flag that cimgpu does not support yet is
 *      CIM_ERR_UNSUPPORTED, so every rule above is checked (and testable)
 *      even for a feature that is refused.
 * The first broken rule is reported, as one line naming the origin and the
 * key. Nothing here allocates or changes the config; later layers may index
 * tables by values the earlier ones have checked.
 */
#include "cim_config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cim_config_internal.h"
#include "cim_ladder.h"
#include "cim_mapping.h"

/* A double in the shortest form that reads back to the same value. */
static void format_double(char *buf, size_t n, double v)
{
    snprintf(buf, n, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, n, "%.17g", v);
}

/* "<origin>: key "<key>": expected <range>, got <got>" */
static int out_of_range(const cim_config *cfg, const cim_key_spec *k, const char *got,
                        cim_error *err)
{
    char expected[CIM_CONFIG_EXPECTED_MAX];
    cim_config_describe_range(expected, sizeof expected, k);
    return cim_config_key_error(cfg->origin, CIM_ERR_CONFIG, err, k->name, "expected %s, got %s",
                                expected, got);
}

/* One key of the table, on its stored value; the special keys are checked by
 * validate_special(). */
static int validate_key(const cim_config *cfg, const cim_key_spec *k, cim_error *err)
{
    char got[CIM_CONFIG_GOT_MAX];
    switch (k->kind) {
    case CIM_KEY_INT: {
        int v = cim_key_int_value(cfg, k);
        if (v >= k->min && v <= k->max)
            return 0;
        snprintf(got, sizeof got, "%d", v);
        return out_of_range(cfg, k, got, err);
    }
    case CIM_KEY_NUMBER: {
        double v = cim_key_double_value(cfg, k);
        if (cim_config_number_ok(k, v))
            return 0;
        format_double(got, sizeof got, v);
        return out_of_range(cfg, k, got, err);
    }
    case CIM_KEY_CHOICE: {
        int v = cim_key_int_value(cfg, k);
        if (v >= 0 && v < k->n_choices)
            return 0;
        char expected[CIM_CONFIG_EXPECTED_MAX];
        cim_config_describe_choices(expected, sizeof expected, k->choices, k->n_choices);
        return cim_config_key_error(cfg->origin, CIM_ERR_CONFIG, err, k->name,
                                    "expected %s, got the value %d", expected, v);
    }
    default:
        return 0;
    }
}

/* The per-key ranges of the table, on the stored values. */
static int validate_keys(const cim_config *cfg, cim_error *err)
{
    for (int i = 0; i < cim_config_n_keys; ++i) {
        int rc = validate_key(cfg, &cim_config_keys[i], err);
        if (rc)
            return rc;
    }
    return 0;
}

static int validate_special(const cim_config *cfg, cim_error *err)
{
    const char *origin = cfg->origin;
    if ((unsigned)cfg->mapping >= CIM_MAPPING_COUNT)
        return cim_config_key_error(origin, CIM_ERR_CONFIG, err, "m_mode", "invalid mapping id %d",
                                    (int)cfg->mapping);
    if ((int64_t)cfg->M * cfg->N > CIM_CONFIG_MAX_CELLS)
        return cim_error_set(
            err, CIM_ERR_CONFIG, "%s: keys \"M\", \"N\": crossbar %d x %d has more than %lld cells",
            cim_config_origin(origin), cfg->M, cfg->N, (long long)CIM_CONFIG_MAX_CELLS);
    int split_ok = cfg->n_split >= 1 && cfg->n_split <= CIM_CONFIG_MAX_SPLIT;
    for (int i = 0; split_ok && i < cfg->n_split; ++i)
        split_ok = cfg->split[i] >= 0 && cfg->split[i] <= CIM_CONFIG_MAX_OPERAND_BITS;
    if (!split_ok)
        return cim_config_key_error(origin, CIM_ERR_CONFIG, err, "SPLIT",
                                    "expected an array of 1 or %d integers from 0 to %d",
                                    CIM_CONFIG_MAX_SPLIT, CIM_CONFIG_MAX_OPERAND_BITS);
    if (cfg->n_calib > 0 && !cfg->calib)
        return cim_config_key_error(origin, CIM_ERR_CONFIG, err, "adc_calib_dict",
                                    "has no entries");
    for (int i = 0; i < cfg->n_calib; ++i) {
        const cim_calib_range *r = &cfg->calib[i];
        if (!r->layer || !cim_config_calib_range_ok(r->lo_ua, r->hi_ua))
            return cim_config_key_error(origin, CIM_ERR_CONFIG, err, "adc_calib_dict",
                                        "layer \"%s\": expected [lo, hi] in µA with lo < hi and "
                                        "|lo|, |hi| <= %g, got [%g, %g]",
                                        r->layer ? r->layer : "(null)", CIM_CONFIG_MAX_CALIB_UA,
                                        r->lo_ua, r->hi_ua);
    }
    return 0;
}

static int validate_adc(const cim_config *cfg, cim_error *err)
{
    const char *origin = cfg->origin;
    const char *adc = cim_config_adc_type_names[cfg->adc_type];
    const char *mapping = cim_mapping_name(cfg->mapping);
    if (cfg->adc_type == CIM_ADC_INF) {
        if (cfg->resolution != CIM_INF_RESOLUTION)
            return cim_config_key_error(origin, CIM_ERR_CONFIG, err, "resolution",
                                        "expected -1 (or no key) with INF_ADC, got %d",
                                        cfg->resolution);
    } else {
        const int min_bits = cim_adc_min_bits(cfg->adc_type);
        if (cfg->resolution < min_bits || cfg->resolution > CIM_ADC_MAX_BITS)
            return cim_config_key_error(
                origin, CIM_ERR_CONFIG, err, "resolution",
                "expected an integer from %d to %d for %s%s, got %d", min_bits, CIM_ADC_MAX_BITS,
                adc,
                cfg->adc_type == CIM_ADC_SYM
                    ? " (a b-bit signed ADC has 2^b - 1 levels, symmetric about 0: one bit "
                      "would leave the single level 0)"
                    : "",
                cfg->resolution);
        int signed_current = CIM_MAPPINGS[cfg->mapping].signed_current;
        int needed = signed_current ? CIM_ADC_SYM : CIM_ADC_POS;
        if (cfg->adc_type != needed)
            return cim_config_key_error(
                origin, CIM_ERR_CONFIG, err, "adc_type",
                "mapping %s has a %s column current and needs %s or INF_ADC, got %s", mapping,
                signed_current ? "signed" : "non-negative", cim_config_adc_type_names[needed], adc);
        if (cfg->calib_mode == CIM_CALIB_CALIB && cfg->adc_alpha != 1.0)
            return cim_config_key_error(origin, CIM_ERR_CONFIG, err, "adc_alpha",
                                        "clips the MAX range; with adc_calib_mode CALIB it must "
                                        "be 1, got %g",
                                        cfg->adc_alpha);
        if (cfg->calib_mode == CIM_CALIB_CALIB && cfg->n_calib == 0)
            return cim_config_key_error(origin, CIM_ERR_CONFIG, err, "adc_calib_dict",
                                        "is missing or empty; adc_calib_mode CALIB with %s needs a "
                                        "[lo, hi] range per layer",
                                        adc);
    }
    return 0;
}

/* Bit-line IR drop (analog mode only; digital_only ignores it), after
 * validate_v_read: w_res given, a segment current the fixed point holds, and
 * a tile that keeps an input and an output on the physical crossbar. */
static int validate_parasitics(const cim_config *cfg, cim_error *err)
{
    const char *origin = cfg->origin;
    if (!cfg->parasitics || cfg->digital)
        return 0;
    if (isnan(cfg->w_res))
        return cim_config_key_error(origin, CIM_ERR_CONFIG, err, "w_res",
                                    "is missing; parasitics needs the wire resistance per "
                                    "segment in Ω (0: ideal wires)");
    if (!cim_config_has_ladder(cfg))
        return 0;
    const double iw = cim_config_segment_current_fine(cfg);
    const double unit = (double)((int64_t)1 << CIM_FINE_FRAC_BITS);
    if (!(iw <= (double)CIM_LADDER_MAX_IW) || !(iw >= 1))
        return cim_config_key_error(
            origin, CIM_ERR_CONFIG, err, "w_res",
            "%g Ω at V_read %g V passes %g A per wire segment; the ladder's fixed point takes at "
            "most %g A (w_res >= %g Ω at this V_read) and at least 2^-%d nA",
            cfg->w_res, cfg->v_read, iw / unit * 1e-9, (double)CIM_LADDER_MAX_IW / unit * 1e-9,
            fabs(cfg->v_read) * 1e9 * unit / (double)CIM_LADDER_MAX_IW, CIM_FINE_FRAC_BITS);
    const cim_mapping_desc *d = &CIM_MAPPINGS[cfg->mapping];
    const char *mapping = cim_mapping_name(cfg->mapping);
    if (cim_ladder_max_inputs(d, cfg->N) < 1)
        return cim_config_key_error(origin, CIM_ERR_CONFIG, err, "N",
                                    "%s gives an input 2 rows of a bit line, so with parasitics "
                                    "a crossbar of %d rows holds no input; expected N >= 2",
                                    mapping, cfg->N);
    if (cim_ladder_bit_columns(cfg->mapping) && cfg->M < 2)
        return cim_config_key_error(origin, CIM_ERR_CONFIG, err, "M",
                                    "%s puts an output's 2 bit columns side by side, so with "
                                    "parasitics a crossbar of %d column holds no output; "
                                    "expected M >= 2",
                                    mapping, cfg->M);
    return 0;
}

static int validate_combinations(const cim_config *cfg, cim_error *err)
{
    const char *origin = cfg->origin;
    if (!(cfg->lrs_ua > cfg->hrs_ua))
        return cim_error_set(err, CIM_ERR_CONFIG,
                             "%s: keys \"HRS\", \"LRS\": expected LRS > HRS, got HRS %g, "
                             "LRS %g µA",
                             cim_config_origin(origin), cfg->hrs_ua, cfg->lrs_ua);
    int rc = validate_adc(cfg, err);
    if (rc || (rc = cim_config_validate_cells(cfg, err)) != 0)
        return rc;
    if (cfg->adc_profile && (cfg->digital || cfg->adc_type == CIM_ADC_INF))
        return cim_config_key_error(
            origin, CIM_ERR_CONFIG, err, "adc_profile",
            "profiles the inputs of a finite ADC in analog mode; this config has %s (give "
            "adc_type and resolution, or leave adc_profile out)",
            cfg->digital ? "digital_only true" : "adc_type INF_ADC");
    if (cfg->mapping == CIM_TNN_IV || cfg->mapping == CIM_TNN_V) {
        const char *mapping = cim_mapping_name(cfg->mapping);
        if (cfg->w_bit != CIM_TNN_BITS)
            return cim_config_key_error(
                origin, CIM_ERR_CONFIG, err, "W_BIT",
                "%s stores each weight in %d bit cells and needs %d, got %d", mapping, CIM_TNN_BITS,
                CIM_TNN_BITS, cfg->w_bit);
        if (cfg->n_split != CIM_CONFIG_MAX_SPLIT || cfg->split[0] != 1 || cfg->split[1] != 1)
            return cim_config_key_error(origin, CIM_ERR_CONFIG, err, "SPLIT", "%s needs [1, 1]",
                                        mapping);
    }
    return 0;
}

/* V_read, for the models that read it (read disturb, parasitics) in analog
 * mode: required and < 0. Only |V_read| enters the models; the sign is the
 * reference's convention, and 0 would mean no read at all. */
static int validate_v_read(const cim_config *cfg, cim_error *err)
{
    if (cfg->digital || !(cfg->read_disturb || cfg->parasitics))
        return 0;
    const char *model = cfg->read_disturb ? "read_disturb" : "parasitics";
    if (isnan(cfg->v_read))
        return cim_config_key_error(cfg->origin, CIM_ERR_CONFIG, err, "V_read",
                                    "is missing; %s needs the read voltage in V (< 0)", model);
    if (!(cfg->v_read < 0)) {
        char got[CIM_CONFIG_GOT_MAX];
        format_double(got, sizeof got, cfg->v_read);
        return cim_config_key_error(cfg->origin, CIM_ERR_CONFIG, err, "V_read",
                                    "expected a negative voltage (V) with %s, got %s", model, got);
    }
    return 0;
}

/* A number key of read disturb's: required (present) and `ok`, else the
 * message "expected <what> with <why>". */
static int rd_number(const cim_config *cfg, const char *key, double v, int ok, const char *what,
                     const char *why, cim_error *err)
{
    if (isnan(v))
        return cim_config_key_error(cfg->origin, CIM_ERR_CONFIG, err, key,
                                    "is missing; %s needs %s", why, what);
    if (!ok) {
        char got[CIM_CONFIG_GOT_MAX];
        format_double(got, sizeof got, v);
        return cim_config_key_error(cfg->origin, CIM_ERR_CONFIG, err, key,
                                    "expected %s with %s, got %s", what, why, got);
    }
    return 0;
}

/* Read disturb's parameters, when it is on in analog mode (its integer keys,
 * read_disturb_update_freq >= 1 and read_disturb_initial_cycles >= 0, are
 * checked by the table). */
static int validate_read_disturb(const cim_config *cfg, cim_error *err)
{
    if (cfg->digital || !cfg->read_disturb)
        return 0;
    int rc = rd_number(cfg, "t_read", cfg->t_read, cfg->t_read > 0,
                       "a positive time of one read in s", "read_disturb", err);
    if (!rc && cfg->read_disturb_mitigation_strategy == CIM_DISTURB_SOFTWARE)
        rc = rd_number(cfg, "read_disturb_mitigation_fp", cfg->read_disturb_mitigation_fp,
                       cfg->read_disturb_mitigation_fp >= 1, "a number >= 1",
                       "read_disturb_mitigation_strategy SOFTWARE", err);
    if (!rc && cfg->read_disturb_mitigation_strategy == CIM_DISTURB_CELL_BASED)
        rc = rd_number(
            cfg, "read_disturb_update_tolerance", cfg->read_disturb_update_tolerance,
            cfg->read_disturb_update_tolerance >= 0 && cfg->read_disturb_update_tolerance <= 1,
            "a fraction from 0 to 1", "read_disturb_mitigation_strategy CELL_BASED", err);
    return rc;
}

/* c2c_model "column" (cim_c2c_column.h): a law of Gaussian C2C reads that
 * are plain sums of the cells' currents, so it needs C2C on in analog mode
 * and refuses what reads the cells one by one: C2C tables, the bit-line
 * ladder, read disturb. */
static int validate_c2c_model(const cim_config *cfg, cim_error *err)
{
    const int c2c_tables = cfg->cdf[CIM_CDF_C2C].n > 0 || cfg->cdf[CIM_CDF_C2C + 1].n > 0;
    const char *why = NULL;
    if (cfg->c2c_model != CIM_C2C_MODEL_COLUMN)
        return 0;
    if (cfg->digital)
        why = "digital_only true has no C2C (leave c2c_model out or set it to \"cell\")";
    else if (!cfg->c2c_var)
        why = "C2C is off (c2c_var false); turn it on (\"c2c_var\": true or --c2c) or leave "
              "c2c_model \"cell\"";
    else if (c2c_tables)
        why = "device_cdf_c2c replaces the Gaussian C2C deviation with measured tables, which do "
              "not sum to a Gaussian (use \"cell\")";
    else if (cim_config_has_ladder(cfg))
        why = "parasitics (bit-line IR drop) reads each column through its wire ladder, not as a "
              "sum (use \"cell\")";
    else if (cfg->read_disturb)
        why = "read_disturb changes the cells from read to read, which needs the per-cell reads "
              "(use \"cell\")";
    return why ? cim_config_key_error(cfg->origin, CIM_ERR_CONFIG, err, "c2c_model",
                                      "\"column\" is a law of Gaussian C2C reads summed per "
                                      "column; %s",
                                      why)
               : 0;
}

static int validate_models(const cim_config *cfg, cim_error *err)
{
    int rc = validate_v_read(cfg, err);
    if (!rc)
        rc = validate_parasitics(cfg, err);
    if (!rc)
        rc = validate_read_disturb(cfg, err);
    if (!rc)
        rc = validate_c2c_model(cfg, err);
    return rc;
}

/* The feature flags that cimgpu does not support yet, in table order. */
static int validate_features(const cim_config *cfg, cim_error *err)
{
    for (int i = 0; i < cim_config_n_keys; ++i) {
        const cim_key_spec *k = &cim_config_keys[i];
        if (k->kind == CIM_KEY_BOOL && k->feature && cim_key_int_value(cfg, k))
            return cim_config_key_error(cfg->origin, CIM_ERR_UNSUPPORTED, err, k->name,
                                        "%s is not supported yet (set it to false or leave it out)",
                                        k->feature);
    }
    return 0;
}

int cim_config_validate(const cim_config *cfg, cim_error *err)
{
    int rc = validate_keys(cfg, err);
    if (!rc)
        rc = validate_special(cfg, err);
    if (!rc)
        rc = validate_combinations(cfg, err);
    if (!rc)
        rc = validate_models(cfg, err);
    if (!rc)
        rc = validate_features(cfg, err);
    return rc;
}
