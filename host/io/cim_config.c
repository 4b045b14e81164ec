/* cim_config.c -- the crossbar config's keys: the one table of them, the
 * defaults, freeing, and how a key and its expected value read in a message.
 *
 * The table `cim_config_keys` lists every JSON key the reference simulator
 * writes, in one order. A spec names the key, its kind (bool, integer,
 * number, choice among names, or special), the cim_config field it fills,
 * its range and whether `true` means an unsupported feature. Parsing
 * (cim_config_parse.c), validation (cim_config_validate.c) and the provenance
 * JSON (cim_config_json.c) all walk this table, so the keys a results file
 * records are exactly the keys the parser reads, checked by the same ranges.
 * The special kinds (m_mode, SPLIT, adc_calib_dict) have their own code in
 * each of those files. The default crossbar of `cimgpu run` (and of its
 * benchmark) is defined here once, as the JSON a user would write; a run's
 * --config file is read over it (cim_config_load_over).
 *
 * Messages are one line: "<origin>: key "<key>": expected <what>, got <value>"
 * with origin "config" when none was given.
 * Ownership: cim_config owns `origin` and `calib` (with its layer names);
 * cim_config_free releases both and leaves the defaults, so a freed config
 * can be freed again or reused.
 */
#include "cim_config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim_config_internal.h"
#include "cim_disturb.h"
#include "cim_mapping.h"

#define CIM_DEFAULT_HRS_UA 5.0
#define CIM_DEFAULT_LRS_UA 30.0
#define CIM_DEFAULT_XBAR 256
#define CIM_DEFAULT_PROFILE_BIN_UA 10 /* the reference simulator's default */

/* ---------------------------------------------------------------------------
 * Names
 */

const char *const cim_config_adc_type_names[] = {"INF_ADC", "POS_RANGE_ONLY_ADC", "SYM_RANGE_ADC"};
static const char *const calib_mode_names[] = {"MAX", "CALIB"};
static const char *const rd_strategy_names[] = {"OFF", "SOFTWARE", "CELL_BASED"};
static const char *const rd_model_names[] = {"LIBRARY", "PHYSICAL"};
static const char *const c2c_model_names[] = {"cell", "column"};
_Static_assert(CIM_C2C_MODEL_CELL == 0 && CIM_C2C_MODEL_COLUMN == 1, "c2c_model_names order");

/* The config's codes are the read-disturb module's (mapping/cim_disturb.h). */
_Static_assert(CIM_DISTURB_OFF == CIM_DISTURB_OFF && CIM_DISTURB_SOFTWARE == CIM_DISTURB_SOFTWARE &&
                   CIM_DISTURB_CELL_BASED == CIM_DISTURB_CELL_BASED,
               "strategy codes");
_Static_assert(CIM_DRIFT_LIBRARY == 0 && CIM_DRIFT_PHYSICAL == 1, "rd_model_names order");

const char *cim_config_c2c_model_name(int c2c_model)
{
    return c2c_model >= 0 && c2c_model < CIM_COUNT_OF(c2c_model_names) ? c2c_model_names[c2c_model]
                                                                       : NULL;
}

const char *cim_config_adc_type_name(int adc_type)
{
    return adc_type >= 0 && adc_type < CIM_COUNT_OF(cim_config_adc_type_names)
               ? cim_config_adc_type_names[adc_type]
               : NULL;
}

/* ---------------------------------------------------------------------------
 * The key table
 */

/* clang-format off */
#define F(field) offsetof(cim_config, field)
#define KEY_BOOL(key, field) {key, CIM_KEY_BOOL, F(field), 0, 0, 0, 0, NULL, NULL, 0, NULL}
#define KEY_OFF(key, field, feature) \
    {key, CIM_KEY_BOOL, F(field), 0, 0, 0, 0, NULL, NULL, 0, feature}
#define KEY_INT(key, field, lo, hi) \
    {key, CIM_KEY_INT, F(field), lo, hi, 0, 0, NULL, NULL, 0, NULL}
#define KEY_UA(key, field) \
    {key, CIM_KEY_NUMBER, F(field), 0, CIM_CONFIG_MAX_UA, 0, 0, "µA", NULL, 0, NULL}
#define KEY_POSITIVE(key, field) \
    {key, CIM_KEY_NUMBER, F(field), 0, INFINITY, 1, 0, NULL, NULL, 0, NULL}
#define KEY_OPTIONAL(key, field, lo, hi, unit) \
    {key, CIM_KEY_NUMBER, F(field), lo, hi, 0, 1, unit, NULL, 0, NULL}
#define KEY_INACTIVE(key, field) \
    {key, CIM_KEY_NUMBER, F(field), -INFINITY, INFINITY, 0, 1, NULL, NULL, 0, NULL}
#define KEY_CHOICE(key, field, names) \
    {key, CIM_KEY_CHOICE, F(field), 0, 0, 0, 0, NULL, names, CIM_COUNT_OF(names), NULL}
#define KEY_SPECIAL(key, kind) {key, kind, 0, 0, 0, 0, 0, NULL, NULL, 0, NULL}
#define KEY_PROBABILITY(key, field) \
    {key, CIM_KEY_NUMBER, F(field), 0, 1, 0, 0, NULL, NULL, 0, NULL}
#define KEY_CDF(key, first) {key, CIM_KEY_CDF, F(cdf[first]), 0, 0, 0, 0, NULL, NULL, 0, NULL}
/* clang-format on */

const cim_key_spec cim_config_keys[] = {
    KEY_SPECIAL("m_mode", CIM_KEY_MAPPING),
    KEY_INT("M", M, 1, CIM_CONFIG_MAX_DIM),
    KEY_INT("N", N, 1, CIM_CONFIG_MAX_DIM),
    KEY_BOOL("digital_only", digital),
    KEY_UA("HRS", hrs_ua),
    KEY_UA("LRS", lrs_ua),
    KEY_CHOICE("adc_type", adc_type, cim_config_adc_type_names),
    KEY_INT("resolution", resolution, INT32_MIN, INT32_MAX),
    KEY_CHOICE("adc_calib_mode", calib_mode, calib_mode_names),
    KEY_SPECIAL("adc_calib_dict", CIM_KEY_CALIB_DICT),
    {"adc_alpha", CIM_KEY_NUMBER, F(adc_alpha), 0, 1, 1, 0, NULL, NULL, 0, NULL},
    KEY_SPECIAL("adc_calib_info", CIM_KEY_CALIB_INFO),
    KEY_BOOL("adc_profile", adc_profile),
    KEY_INT("adc_profile_bin_size", adc_profile_bin_size, 1, CIM_CONFIG_MAX_PROFILE_BIN_UA),
    KEY_OFF("mvm_profile", mvm_profile, "MVM profiling"),
    KEY_POSITIVE("mvm_profile_bin_size", mvm_profile_bin_size),
    KEY_UA("HRS_NOISE", hrs_noise_ua),
    KEY_UA("LRS_NOISE", lrs_noise_ua),
    KEY_UA("HRS_NOISE_C2C", hrs_noise_c2c_ua),
    KEY_UA("LRS_NOISE_C2C", lrs_noise_c2c_ua),
    KEY_BOOL("d2d_var", d2d_var),
    KEY_BOOL("c2c_var", c2c_var),
    KEY_CHOICE("c2c_model", c2c_model, c2c_model_names),
    KEY_SPECIAL("SPLIT", CIM_KEY_SPLIT),
    KEY_INT("W_BIT", w_bit, 1, CIM_CONFIG_MAX_OPERAND_BITS),
    KEY_INT("I_BIT", i_bit, 1, CIM_CONFIG_MAX_OPERAND_BITS),
    KEY_BOOL("verbose", verbose),
    KEY_BOOL("read_disturb", read_disturb),
    KEY_INACTIVE("t_read", t_read),
    KEY_OPTIONAL("V_read", v_read, -CIM_CONFIG_MAX_V_READ, CIM_CONFIG_MAX_V_READ, "V"),
    KEY_INT("read_disturb_update_freq", read_disturb_update_freq, 1, INT32_MAX),
    KEY_CHOICE("read_disturb_mitigation_strategy", read_disturb_mitigation_strategy,
               rd_strategy_names),
    KEY_INACTIVE("read_disturb_mitigation_fp", read_disturb_mitigation_fp),
    KEY_INACTIVE("read_disturb_update_tolerance", read_disturb_update_tolerance),
    KEY_INT("read_disturb_initial_cycles", read_disturb_initial_cycles, 0, INT32_MAX),
    KEY_CHOICE("read_disturb_model", read_disturb_model, rd_model_names),
    KEY_BOOL("parasitics", parasitics),
    KEY_OPTIONAL("w_res", w_res, 0, CIM_CONFIG_MAX_W_RES, "Ω"),
    KEY_PROBABILITY("SAF_HRS", saf_hrs),
    KEY_PROBABILITY("SAF_LRS", saf_lrs),
    KEY_CDF("device_cdf", CIM_CDF_D2D),
    KEY_CDF("device_cdf_c2c", CIM_CDF_C2C),
    KEY_SPECIAL("device_cdf_csv", CIM_KEY_CDF_CSV),
    KEY_SPECIAL("device_lognormal", CIM_KEY_LOGNORMAL),
};

const int cim_config_n_keys = CIM_COUNT_OF(cim_config_keys);

_Static_assert(CIM_COUNT_OF(cim_config_keys) <= 64, "the parser's `given` bit set holds 64 keys");
_Static_assert(sizeof(int) == sizeof(int32_t), "M and N are filled through int fields");

int cim_config_key_index(const char *name)
{
    for (int i = 0; i < cim_config_n_keys; ++i)
        if (strcmp(cim_config_keys[i].name, name) == 0)
            return i;
    return -1;
}

int cim_config_number_ok(const cim_key_spec *k, double v)
{
    if (k->optional && isnan(v))
        return 1;
    if (!isfinite(v))
        return 0;
    return k->positive ? v > 0 && v <= k->max : v >= k->min && v <= k->max;
}

int cim_config_calib_range_ok(double lo_ua, double hi_ua)
{
    return isfinite(lo_ua) && isfinite(hi_ua) && fabs(lo_ua) <= CIM_CONFIG_MAX_CALIB_UA &&
           fabs(hi_ua) <= CIM_CONFIG_MAX_CALIB_UA && lo_ua < hi_ua;
}

/* ---------------------------------------------------------------------------
 * Messages
 */

const char *cim_config_origin(const char *origin)
{
    return origin ? origin : "config";
}

void cim_config_describe_range(char *buf, size_t n, const cim_key_spec *k)
{
    const char *unit = k->unit ? k->unit : "";
    const char *sep = k->unit ? " " : "";
    if (k->kind == CIM_KEY_INT) {
        if (k->min <= INT32_MIN && k->max >= INT32_MAX)
            snprintf(buf, n, "an integer");
        else if (k->max >= INT32_MAX)
            snprintf(buf, n, "an integer >= %.0f", k->min);
        else
            snprintf(buf, n, "an integer from %.0f to %.0f", k->min, k->max);
    } else if (k->positive && isfinite(k->max)) {
        snprintf(buf, n, "a number > 0 and <= %g%s%s", k->max, sep, unit);
    } else if (k->positive) {
        snprintf(buf, n, "a positive number%s%s", sep, unit);
    } else if (isinf(k->min) && isinf(k->max)) {
        snprintf(buf, n, "a number%s%s", sep, unit);
    } else {
        snprintf(buf, n, "a number from %g to %g%s%s", k->min, k->max, sep, unit);
    }
}

void cim_config_describe_choices(char *buf, size_t n, const char *const *names, int count)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < count && used < n; ++i)
        used += (size_t)snprintf(buf + used, n - used, "%s\"%s\"", i ? ", " : "one of ", names[i]);
}

int cim_config_key_error(const char *origin, int code, cim_error *err, const char *key,
                         const char *fmt, ...)
{
    char text[CIM_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return cim_error_set(err, code, "%s: key \"%s\": %s", cim_config_origin(origin), key, text);
}

/* ---------------------------------------------------------------------------
 * Defaults, lookup and freeing
 */

void cim_config_default(cim_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->mapping = CIM_TNN_I;
    cfg->M = CIM_DEFAULT_XBAR;
    cfg->N = CIM_DEFAULT_XBAR;
    cfg->digital = 0;
    cfg->hrs_ua = CIM_DEFAULT_HRS_UA;
    cfg->lrs_ua = CIM_DEFAULT_LRS_UA;
    cfg->adc_type = CIM_ADC_INF;
    cfg->resolution = CIM_INF_RESOLUTION;
    cfg->calib_mode = CIM_CALIB_MAX;
    cfg->adc_alpha = 1.0;
    cfg->calib = NULL;
    cfg->n_calib = 0;
    cfg->hrs_noise_ua = cfg->lrs_noise_ua = 0.0;
    cfg->hrs_noise_c2c_ua = cfg->lrs_noise_c2c_ua = 0.0;
    cfg->d2d_var = 1;
    cfg->c2c_var = 0;
    cfg->c2c_model = CIM_C2C_MODEL_CELL;
    cfg->split[0] = cfg->split[1] = 1;
    cfg->n_split = CIM_CONFIG_MAX_SPLIT;
    cfg->w_bit = cfg->i_bit = CIM_TNN_BITS;
    cfg->verbose = 0;
    cfg->origin = NULL;
    cfg->adc_profile = cfg->mvm_profile = cfg->read_disturb = cfg->parasitics = 0;
    cfg->adc_profile_bin_size = CIM_DEFAULT_PROFILE_BIN_UA;
    cfg->mvm_profile_bin_size = CIM_DEFAULT_PROFILE_BIN_UA;
    cfg->t_read = cfg->v_read = NAN;
    cfg->read_disturb_mitigation_fp = cfg->read_disturb_update_tolerance = cfg->w_res = NAN;
    cfg->read_disturb_update_freq = 1;
    cfg->read_disturb_mitigation_strategy = CIM_DISTURB_OFF;
    cfg->read_disturb_initial_cycles = 0;
    cfg->read_disturb_model = CIM_DRIFT_LIBRARY;
    cfg->saf_hrs = cfg->saf_lrs = 0.0;
    for (int t = 0; t < CIM_CDF_TABLES; ++t)
        cfg->cdf[t].n = 0;
}

static const char run_default_json[] =
    "{\"m_mode\": \"TNN_I\", \"M\": 256, \"N\": 256, \"HRS\": 5.0, \"LRS\": 30.0, "
    "\"adc_type\": \"INF_ADC\", \"resolution\": -1, \"HRS_NOISE\": 1.0, \"LRS_NOISE\": 4.0, "
    "\"d2d_var\": true, \"c2c_var\": false, \"V_read\": -0.2}";

int cim_config_run_default(cim_config *cfg, cim_error *err)
{
    return cim_config_parse(run_default_json, "default config", cfg, err);
}

int cim_config_finite_adc_type(cim_mapping_id mapping)
{
    return cim_mapping_desc_of(mapping)->signed_current ? CIM_ADC_SYM : CIM_ADC_POS;
}

void cim_config_set_adc_bits(cim_config *cfg, int bits)
{
    cfg->adc_type = bits == 0 ? CIM_ADC_INF : cim_config_finite_adc_type(cfg->mapping);
    cfg->resolution = bits == 0 ? CIM_INF_RESOLUTION : bits;
    /* calib_mode and adc_calib_dict stay: the bits are not the range */
}

const cim_calib_range *cim_config_find_calib(const cim_config *cfg, const char *layer_name)
{
    for (int i = 0; layer_name && i < cfg->n_calib; ++i)
        if (cfg->calib[i].layer && strcmp(cfg->calib[i].layer, layer_name) == 0)
            return &cfg->calib[i];
    return NULL;
}

void cim_config_free_calib(cim_config *cfg)
{
    for (int i = 0; i < cfg->n_calib; ++i)
        free(cfg->calib[i].layer);
    free(cfg->calib);
    cfg->calib = NULL;
    cfg->n_calib = 0;
}

int cim_config_copy(cim_config *dst, const cim_config *src, cim_error *err)
{
    *dst = *src;
    dst->origin = NULL;
    dst->calib = NULL;
    dst->n_calib = 0;
    dst->calib_info = NULL;
    if (src->origin && !(dst->origin = strdup(src->origin)))
        goto nomem;
    if (src->calib_info && !(dst->calib_info = strdup(src->calib_info)))
        goto nomem;
    if (src->n_calib > 0) {
        dst->calib = calloc((size_t)src->n_calib, sizeof *dst->calib);
        if (!dst->calib)
            goto nomem;
        for (int i = 0; i < src->n_calib; ++i) {
            dst->calib[i] = src->calib[i];
            dst->calib[i].layer = src->calib[i].layer ? strdup(src->calib[i].layer) : NULL;
            dst->n_calib = i + 1;
            if (src->calib[i].layer && !dst->calib[i].layer)
                goto nomem;
        }
    }
    return 0;
nomem:
    cim_config_free(dst);
    return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory copying the config",
                         cim_config_origin(src->origin));
}

void cim_config_free(cim_config *cfg)
{
    if (!cfg)
        return;
    cim_config_free_calib(cfg);
    free(cfg->origin);
    free(cfg->calib_info);
    cim_config_default(cfg);
}
